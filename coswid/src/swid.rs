//! ISO/IEC 19770-2:2015 SWID XML: a streaming parser (quick-xml events, no DOM) into the
//! schema's element tree, borrowing from the input, and an emitter.
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

/// One attribute as written. Parsed attributes borrow their name, namespace and value from
/// the input (a value is owned only when it held references or white space to normalise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlAttr<'a> {
    /// Qualified name as written (`name`, `SHA256:hash`, `xmlns:n8060`).
    pub qname: Cow<'a, str>,
    /// Namespace URI the prefix resolves to (`None` for unprefixed attributes and `xmlns`).
    pub ns: Option<Cow<'a, str>>,
    /// Unescaped value.
    pub value: Cow<'a, str>,
}

impl<'a> XmlAttr<'a> {
    /// An unprefixed attribute.
    ///
    /// ```
    /// let a = coswid::swid::XmlAttr::new("name", "adduser");
    /// assert_eq!((a.local(), a.ns.is_none(), &*a.value), ("name", true, "adduser"));
    /// ```
    pub fn new(local: impl Into<Cow<'a, str>>, value: impl Into<Cow<'a, str>>) -> Self {
        Self {
            qname: local.into(),
            ns: None,
            value: value.into(),
        }
    }
    /// The local name (after the prefix).
    pub fn local(&self) -> &str {
        self.qname.rsplit(':').next().unwrap_or_default()
    }
    /// Detach from the input.
    pub fn into_owned(self) -> XmlAttr<'static> {
        XmlAttr {
            qname: own(self.qname),
            ns: self.ns.map(own),
            value: own(self.value),
        }
    }
}

fn own(s: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(s.into_owned())
}

/// A SWID element's name and attributes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element<'a> {
    /// Qualified name as written (`SoftwareIdentity`, `ns2:SoftwareIdentity`).
    pub qname: Cow<'a, str>,
    /// All attributes in document order.
    pub attrs: Vec<XmlAttr<'a>>,
}

impl<'a> Element<'a> {
    /// An element with an unprefixed name and no attributes.
    ///
    /// ```
    /// let mut e = coswid::swid::Element::new("File");
    /// e.push("name", Some("adduser.conf"));
    /// e.push("size", None::<&str>);
    /// e.push("version", Some(3.to_string()));
    /// assert_eq!((e.attr("name"), e.attr("size"), e.attr("version")),
    ///            (Some("adduser.conf"), None, Some("3")));
    /// ```
    pub fn new(qname: impl Into<Cow<'a, str>>) -> Self {
        Self {
            qname: qname.into(),
            attrs: Vec::new(),
        }
    }
    /// The value of an unprefixed (no-namespace) attribute.
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.is_none() && a.qname == local)
            .map(|a| &*a.value)
    }
    /// The value of an attribute in namespace `ns`.
    pub fn attr_ns(&self, ns: &str, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.as_deref() == Some(ns) && a.local() == local)
            .map(|a| &*a.value)
    }
    /// `xml:lang`.
    pub fn lang(&self) -> Option<&str> {
        self.attr_ns(XML_NS, "lang")
    }
    /// Append an unprefixed attribute when `value` is `Some`.
    pub fn push(&mut self, local: impl Into<Cow<'a, str>>, value: Option<impl Into<Cow<'a, str>>>) {
        if let Some(v) = value {
            self.attrs.push(XmlAttr::new(local, v));
        }
    }
    /// Detach from the input.
    pub fn into_owned(self) -> Element<'static> {
        Element {
            qname: own(self.qname),
            attrs: self.attrs.into_iter().map(XmlAttr::into_owned).collect(),
        }
    }
}

/// `SoftwareIdentity`, the root element. [`parse`](Self::parse) borrows from the input
/// (`'a`); [`into_owned`](Self::into_owned) detaches a document.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SoftwareIdentity<'a> {
    /// The root element (name, tagId, version, … and namespace declarations).
    pub element: Element<'a>,
    /// `Entity` children.
    pub entities: Vec<Element<'a>>,
    /// `Link` children.
    pub links: Vec<Element<'a>>,
    /// `Meta` children.
    pub metas: Vec<Element<'a>>,
    /// `Payload`.
    pub payload: Option<ResourceTree<'a>>,
    /// `Evidence`.
    pub evidence: Option<ResourceTree<'a>>,
    /// Unknown children (e.g. `ds:Signature`), raw XML, re-emitted after the SWID children.
    pub other: Vec<Cow<'a, str>>,
}

/// `Payload` or `Evidence`: the element and its resources.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResourceTree<'a> {
    /// The `Payload`/`Evidence` element (Evidence has `date`, `deviceId`).
    pub element: Element<'a>,
    /// Children in document order.
    pub items: Vec<Resource<'a>>,
}

impl ResourceTree<'_> {
    /// Detach from the input.
    pub fn into_owned(self) -> ResourceTree<'static> {
        ResourceTree {
            element: self.element.into_owned(),
            items: self.items.into_iter().map(Resource::into_owned).collect(),
        }
    }
}

/// A child of Payload, Evidence or Directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource<'a> {
    /// `Directory` with its children.
    Directory(Element<'a>, Vec<Resource<'a>>),
    /// `File`.
    File(Element<'a>),
    /// `Process`.
    Process(Element<'a>),
    /// `Resource`.
    Resource(Element<'a>),
    /// An unknown element, raw XML.
    Other(Cow<'a, str>),
}

impl Resource<'_> {
    /// Detach from the input.
    pub fn into_owned(self) -> Resource<'static> {
        match self {
            Self::Directory(e, kids) => Resource::Directory(
                e.into_owned(),
                kids.into_iter().map(Resource::into_owned).collect(),
            ),
            Self::File(e) => Resource::File(e.into_owned()),
            Self::Process(e) => Resource::Process(e.into_owned()),
            Self::Resource(e) => Resource::Resource(e.into_owned()),
            Self::Other(x) => Resource::Other(own(x)),
        }
    }
}

impl SoftwareIdentity<'_> {
    /// Detach from the input.
    pub fn into_owned(self) -> SoftwareIdentity<'static> {
        let all = |v: Vec<Element<'_>>| v.into_iter().map(Element::into_owned).collect();
        SoftwareIdentity {
            element: self.element.into_owned(),
            entities: all(self.entities),
            links: all(self.links),
            metas: all(self.metas),
            payload: self.payload.map(ResourceTree::into_owned),
            evidence: self.evidence.map(ResourceTree::into_owned),
            other: self.other.into_iter().map(own).collect(),
        }
    }
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
pub fn file_hashes(file: &Element<'_>) -> Vec<(i64, Vec<u8>)> {
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
