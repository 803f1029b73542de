//! ISO/IEC 19770-2:2015 SWID XML: a streaming parser (quick-xml `NsReader`, no DOM) into the
//! schema's element tree, and an emitter.
//!
//! Each SWID element keeps **all** its attributes, in document order, as [`XmlAttr`] (qualified
//! name as written, resolved namespace URI, local name, unescaped value), so foreign attributes
//! (NISTIR 8060 `n8060:*`, TCG `rim:*`, `xsi:schemaLocation`, namespace declarations) survive a
//! parse/emit round trip. Typed accessors read the ISO attributes. Unknown child elements —
//! including XML-DSig `Signature` — are kept as their raw bytes and re-emitted untouched.
//! Comments, processing instructions and whitespace between elements are not kept.
//!
//! SWID elements are recognised by local name in the SWID namespace
//! (`http://standards.iso.org/iso/19770/-2/2015/schema.xsd`) or in no namespace (veraison/swid
//! writes no namespace; HIRS puts Directory/File in none).

use std::borrow::Cow;

mod read;
mod write;

pub use read::MAX_DEPTH;

/// The ISO/IEC 19770-2:2015 SWID namespace.
pub const SWID_NS: &str = "http://standards.iso.org/iso/19770/-2/2015/schema.xsd";
/// The XML namespace (for `xml:lang`).
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
/// The namespace of `xmlns` declarations.
pub const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";
/// The NISTIR 8060 extension namespace.
pub const N8060_NS: &str = "http://csrc.nist.gov/ns/swid/2015-extensions/1.0";

/// File hash attribute namespaces (`<prefix>:hash`, hex) and their named-information ids.
pub const HASH_NAMESPACES: &[(&str, i64)] = &[
    ("http://www.w3.org/2001/04/xmlenc#sha256", 1),
    ("http://www.w3.org/2001/04/xmldsig-more#sha384", 7),
    ("http://www.w3.org/2001/04/xmlenc#sha512", 8),
];

/// One attribute as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlAttr {
    /// Qualified name as written (`name`, `SHA256:hash`, `xmlns:n8060`).
    pub qname: Cow<'static, str>,
    /// Namespace URI the prefix resolves to (`None` for unprefixed attributes and `xmlns`).
    pub ns: Option<Cow<'static, str>>,
    /// Unescaped value.
    pub value: String,
}

impl XmlAttr {
    /// An unprefixed attribute.
    pub fn new(local: &str, value: impl Into<String>) -> Self {
        Self {
            qname: intern(local),
            ns: None,
            value: value.into(),
        }
    }
    /// The local name (after the prefix).
    pub fn local(&self) -> &str {
        self.qname.rsplit(':').next().unwrap_or_default()
    }
}

/// Names and namespace URIs seen in practically every tag, shared instead of allocated.
pub(crate) fn intern(s: &str) -> Cow<'static, str> {
    let known: &'static str = match s {
        "name" => "name",
        "size" => "size",
        "root" => "root",
        "File" => "File",
        "Directory" => "Directory",
        "SHA256:hash" => "SHA256:hash",
        "SHA384:hash" => "SHA384:hash",
        "SHA512:hash" => "SHA512:hash",
        "SHA-256:hash" => "SHA-256:hash",
        "SHA-512:hash" => "SHA-512:hash",
        "n8060:mutable" => "n8060:mutable",
        "version" => "version",
        "key" => "key",
        "location" => "location",
        "SoftwareIdentity" => "SoftwareIdentity",
        "Entity" => "Entity",
        "Link" => "Link",
        "Meta" => "Meta",
        "Payload" => "Payload",
        "Evidence" => "Evidence",
        "Process" => "Process",
        "Resource" => "Resource",
        "tagId" => "tagId",
        "versionScheme" => "versionScheme",
        "tagVersion" => "tagVersion",
        "xml:lang" => "xml:lang",
        "xmlns" => "xmlns",
        "regid" => "regid",
        "role" => "role",
        "product" => "product",
        "rel" => "rel",
        "href" => "href",
        "xmlns:n8060" => "xmlns:n8060",
        "xmlns:SHA256" => "xmlns:SHA256",
        "n8060:pathSeparator" => "n8060:pathSeparator",
        "n8060:envVarPrefix" => "n8060:envVarPrefix",
        "n8060:envVarSuffix" => "n8060:envVarSuffix",
        SWID_NS => SWID_NS,
        XML_NS => XML_NS,
        XMLNS_NS => XMLNS_NS,
        N8060_NS => N8060_NS,
        "http://www.w3.org/2001/04/xmlenc#sha256" => "http://www.w3.org/2001/04/xmlenc#sha256",
        "http://www.w3.org/2001/04/xmldsig-more#sha384" => {
            "http://www.w3.org/2001/04/xmldsig-more#sha384"
        }
        "http://www.w3.org/2001/04/xmlenc#sha512" => "http://www.w3.org/2001/04/xmlenc#sha512",
        _ => return Cow::Owned(s.to_owned()),
    };
    Cow::Borrowed(known)
}

/// A SWID element's name and attributes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    /// Qualified name as written (`SoftwareIdentity`, `ns2:SoftwareIdentity`).
    pub qname: Cow<'static, str>,
    /// All attributes in document order.
    pub attrs: Vec<XmlAttr>,
}

impl Element {
    /// An element with an unprefixed name and no attributes.
    pub fn new(qname: &str) -> Self {
        Self {
            qname: intern(qname),
            attrs: Vec::new(),
        }
    }
    /// The value of an unprefixed (no-namespace) attribute.
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.is_none() && a.qname == local)
            .map(|a| a.value.as_str())
    }
    /// The value of an attribute in namespace `ns`.
    pub fn attr_ns(&self, ns: &str, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.as_deref() == Some(ns) && a.local() == local)
            .map(|a| a.value.as_str())
    }
    /// `xml:lang`.
    pub fn lang(&self) -> Option<&str> {
        self.attr_ns(XML_NS, "lang")
    }
    /// Append an unprefixed attribute when `value` is `Some`.
    pub fn push(&mut self, local: &str, value: Option<impl Into<String>>) {
        if let Some(v) = value {
            self.attrs.push(XmlAttr::new(local, v));
        }
    }
}

/// `SoftwareIdentity`, the root element.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SoftwareIdentity {
    /// The root element (name, tagId, version, … and namespace declarations).
    pub element: Element,
    /// `Entity` children.
    pub entities: Vec<Element>,
    /// `Link` children.
    pub links: Vec<Element>,
    /// `Meta` children.
    pub metas: Vec<Element>,
    /// `Payload`.
    pub payload: Option<ResourceTree>,
    /// `Evidence`.
    pub evidence: Option<ResourceTree>,
    /// Unknown children (e.g. `ds:Signature`), raw XML, re-emitted after the SWID children.
    pub other: Vec<String>,
}

/// `Payload` or `Evidence`: the element and its resources.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResourceTree {
    /// The `Payload`/`Evidence` element (Evidence has `date`, `deviceId`).
    pub element: Element,
    /// Children in document order.
    pub items: Vec<Resource>,
}

/// A child of Payload, Evidence or Directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// `Directory` with its children.
    Directory(Element, Vec<Resource>),
    /// `File`.
    File(Element),
    /// `Process`.
    Process(Element),
    /// `Resource`.
    Resource(Element),
    /// An unknown element, raw XML.
    Other(String),
}

impl SoftwareIdentity {
    /// `name`.
    pub fn name(&self) -> Option<&str> {
        self.element.attr("name")
    }
    /// `tagId`.
    pub fn tag_id(&self) -> Option<&str> {
        self.element.attr("tagId")
    }
    /// The SWIMA software identifier: the tagCreator's regid, `"__"`, the tagId.
    pub fn software_identifier(&self) -> Option<String> {
        let creator = self.entities.iter().find(|e| {
            e.attr("role")
                .is_some_and(|r| r.split_ascii_whitespace().any(|r| r == "tagCreator"))
        })?;
        Some(format!("{}__{}", creator.attr("regid")?, self.tag_id()?))
    }
}

/// The hashes of a `File` element: `(named-information id, digest)` from the `hash` attributes
/// in the namespaces of [`HASH_NAMESPACES`] (hex), and veraison/swid's `hash="sha-256;<base64>"`.
pub fn file_hashes(file: &Element) -> Vec<(i64, Vec<u8>)> {
    let mut out = Vec::new();
    for a in &file.attrs {
        if a.local() != "hash" {
            continue;
        }
        match a.ns.as_deref() {
            Some(ns) => {
                if let Some((_, id)) = HASH_NAMESPACES.iter().find(|(n, _)| *n == ns)
                    && let Some(v) = from_hex(&a.value)
                {
                    out.push((*id, v));
                }
            }
            None => {
                if let Some((alg, b64)) = a.value.split_once(';')
                    && let Some(id) = crate::registry::hash_alg_id(alg)
                    && let Some(v) = from_base64(b64)
                {
                    out.push((id, v));
                }
            }
        }
    }
    out
}

pub(crate) fn from_hex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    // u8::from_str_radix alone would also take a leading '+' ("+f").
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    s.as_bytes()
        .chunks_exact(2)
        .map(|p| {
            core::str::from_utf8(p)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
        })
        .collect()
}

pub(crate) fn to_hex(b: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len().saturating_mul(2));
    for x in b {
        s.push(char::from(
            H.get(usize::from(x >> 4)).copied().unwrap_or(b'0'),
        ));
        s.push(char::from(
            H.get(usize::from(x & 15)).copied().unwrap_or(b'0'),
        ));
    }
    s
}

pub(crate) fn from_base64(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for c in s.trim().bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_base64() {
        assert_eq!(from_hex("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(from_hex("+f"), None);
        assert_eq!(from_hex("0g"), None);
        assert_eq!(to_hex(&[0, 255, 16]), "00ff10");
        assert_eq!(from_base64("AP8Q"), Some(vec![0, 255, 16]));
        assert_eq!(from_base64("AP8="), Some(vec![0, 255]));
    }
}
