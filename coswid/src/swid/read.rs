//! SWID XML parser over quick-xml's `Reader` events, with its own namespace resolution fed by
//! the attribute scan of the SWID elements (quick-xml's `NsReader` scanned every start tag a
//! second time for declarations).

use std::borrow::Cow;

use quick_xml::XmlVersion;
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::QName;

use super::{
    Element, Resource, ResourceTree, SWID_NS, SoftwareIdentity, XML_NS, XMLNS_NS, XmlAttr,
};
use crate::error::XmlError;

/// Deepest element nesting followed (Directory nests).
pub const MAX_DEPTH: usize = 64;

/// Most namespace declarations in scope at once (quick-xml's default limit).
const MAX_BINDINGS: usize = 128;

type Reader<'i> = quick_xml::Reader<&'i [u8]>;

/// One namespace declaration (Namespaces in XML 1.0 §3): prefix (`None`: the default
/// namespace), the value as written (normalised only when reported, see [`namespace_uri`]),
/// and the nesting level of the element declaring it.
struct Binding<'a> {
    prefix: Option<&'a str>,
    value: &'a str,
    /// `value` normalised as an attribute value (what attributes report as their namespace).
    uri: Cow<'a, str>,
    level: u32,
}

/// The declarations in scope: those of the open SWID elements (unknown elements are kept raw,
/// so what they declare never matters). `xml` and `xmlns` are bound by definition.
#[derive(Default)]
struct Scopes<'a> {
    bindings: Vec<Binding<'a>>,
    level: u32,
    /// The document holds no `&` and no control character (tab, LF, CR): no attribute value
    /// needs normalising, and a value ends at its closing quote (or a `<`, an error).
    plain: bool,
}

/// What a prefix resolves to.
enum Ns<'s, 'a> {
    /// No prefix and no default namespace (or `xmlns=""`).
    Unbound,
    /// Bound by this declaration.
    Bound(&'s Binding<'a>),
    /// `xml:`.
    Xml,
    /// `xmlns:`.
    Xmlns,
    /// An undeclared prefix (or one undeclared with `xmlns:p=""`).
    Unknown,
}

impl<'a> Scopes<'a> {
    /// Open an element's scope with the declarations among its attributes (`(name, raw value)`).
    /// Binding `xml` to another name, declaring `xmlns`, or binding another prefix to either
    /// reserved name is an error (Namespaces in XML 1.0 §3), as in quick-xml's resolver.
    fn push(
        &mut self,
        attrs: impl Iterator<Item = (&'a str, &'a str)>,
    ) -> Result<(), &'static str> {
        self.level = self.level.saturating_add(1);
        for (key, value) in attrs {
            let Some(rest) = key.strip_prefix("xmlns") else {
                continue;
            };
            let prefix = match rest.strip_prefix(':') {
                None if rest.is_empty() => None,
                None => continue, // `xmlnsfoo`: an ordinary attribute
                Some("xml") if value == XML_NS => continue,
                Some("xml") => return Err("the xml prefix bound to another namespace"),
                Some("xmlns") => return Err("the xmlns prefix declared"),
                Some(_) if value == XML_NS || value == XMLNS_NS => {
                    return Err("a prefix bound to a reserved namespace");
                }
                Some(p) => Some(p),
            };
            if self.bindings.len() >= MAX_BINDINGS {
                return Err("too many namespace declarations in scope");
            }
            self.bindings.push(Binding {
                prefix,
                value,
                uri: namespace_uri(value),
                level: self.level,
            });
        }
        Ok(())
    }

    /// Close the innermost scope.
    fn pop(&mut self) {
        self.level = self.level.saturating_sub(1);
        while self.bindings.last().is_some_and(|b| b.level > self.level) {
            self.bindings.pop();
        }
    }

    /// Resolve the prefix of `qname` (before the first `:`); an unprefixed name takes the
    /// default namespace if `element`, none if it is an attribute's.
    fn resolve(&self, qname: &str, element: bool) -> Ns<'_, 'a> {
        let Some(prefix) = qname
            .bytes()
            .position(|b| b == b':')
            .and_then(|i| qname.get(..i))
        else {
            if !element {
                return Ns::Unbound;
            }
            return match self.bindings.iter().rev().find(|b| b.prefix.is_none()) {
                Some(b) if !b.value.is_empty() => Ns::Bound(b),
                _ => Ns::Unbound,
            };
        };
        match prefix {
            "xml" => return Ns::Xml,
            "xmlns" => return Ns::Xmlns,
            _ => {}
        }
        match self
            .bindings
            .iter()
            .rev()
            .find(|b| b.prefix == Some(prefix))
        {
            Some(b) if !b.value.is_empty() => Ns::Bound(b),
            _ => Ns::Unknown,
        }
    }

    /// Is an element of this name in the SWID namespace or in none?
    fn is_swid(&self, qname: &str) -> bool {
        match self.resolve(qname, true) {
            Ns::Unbound => true,
            Ns::Bound(b) => b.value == SWID_NS,
            Ns::Xml | Ns::Xmlns | Ns::Unknown => false,
        }
    }
}

fn malformed(r: &Reader<'_>, e: impl core::fmt::Display) -> XmlError {
    XmlError::Malformed {
        offset: r.buffer_position(),
        message: e.to_string(),
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// The attributes of a start tag as `(qualified name, raw value, plain)`, in document order:
/// the XML 1.0 §3.1 `Attribute` production (`Name Eq AttValue`, separated by white space),
/// values in single or double quotes without `<`. `plain` says the value holds no reference
/// and no white space but spaces (it needs no normalisation). A scan written for SWID's many
/// small elements; quick-xml's iterator did the same with more bookkeeping per attribute.
/// The caller checks for duplicates.
struct RawAttributes<'a> {
    raw: &'a str,
    i: usize,
    /// See [`Scopes::plain`].
    plain_doc: bool,
}

/// One attribute as scanned: qualified name, raw value, whether the value is plain (see
/// [`RawAttributes`]) and whether the name has a prefix.
type RawAttr<'a> = (&'a str, &'a str, bool, bool);

impl<'a> Iterator for RawAttributes<'a> {
    type Item = Result<RawAttr<'a>, &'static str>;

    fn next(&mut self) -> Option<Self::Item> {
        let r = self.attribute();
        if r.is_err() {
            self.i = usize::MAX;
        }
        r.transpose()
    }
}

impl<'a> RawAttributes<'a> {
    fn attribute(&mut self) -> Result<Option<RawAttr<'a>>, &'static str> {
        let (raw, b) = (self.raw, self.raw.as_bytes());
        let mut i = self.i;
        let ws = i;
        while b.get(i).copied().is_some_and(is_space) {
            i += 1;
        }
        if i >= b.len() {
            self.i = i;
            return Ok(None);
        }
        if i == ws && ws != 0 {
            return Err("no white space between attributes");
        }
        let k0 = i;
        let mut prefixed = false;
        while let Some(&c) = b.get(i) {
            if c == b'=' || is_space(c) {
                break;
            }
            prefixed |= c == b':';
            i += 1;
        }
        let key = raw.get(k0..i).ok_or("bad attribute name")?;
        if key.is_empty() {
            return Err("attribute without a name");
        }
        while b.get(i).copied().is_some_and(is_space) {
            i += 1;
        }
        if b.get(i) != Some(&b'=') {
            return Err("attribute without '='");
        }
        i += 1;
        while b.get(i).copied().is_some_and(is_space) {
            i += 1;
        }
        let quote = match b.get(i) {
            Some(&q @ (b'"' | b'\'')) => q,
            _ => return Err("attribute value not in quotes"),
        };
        i += 1;
        let v0 = i;
        // the closing quote; `&` and the white space normalisation changes need the slow path
        let mut plain = true;
        if self.plain_doc {
            i = find(
                b,
                i,
                |x| eq_mask(x, quote) | eq_mask(x, b'<'),
                |c| c == quote || c == b'<',
            )
            .ok_or("unterminated attribute value")?;
            if b.get(i) == Some(&b'<') {
                return Err("'<' in an attribute value");
            }
        } else {
            loop {
                i = find(
                    b,
                    i,
                    |x| eq_mask(x, quote) | eq_mask(x, b'<') | eq_mask(x, b'&') | lt_mask(x, 0x20),
                    |c| c == quote || c == b'<' || c == b'&' || c < 0x20,
                )
                .ok_or("unterminated attribute value")?;
                match b.get(i) {
                    Some(&c) if c == quote => break,
                    Some(b'<') => return Err("'<' in an attribute value"),
                    _ => {
                        plain = false;
                        i += 1;
                    }
                }
            }
        }
        let value = raw.get(v0..i).ok_or("bad attribute value")?;
        self.i = i + 1;
        Ok(Some((key, value, plain, prefixed)))
    }
}

/// Open the scope of a start tag whose local name is a SWID element's and read it: `None`
/// when its namespace makes it something else (the caller keeps it raw). Either way the caller
/// closes the scope. The attributes are scanned once, into a stack buffer (so the attribute
/// vector is allocated once, exactly); the declarations among them are in scope for the
/// element's own name and attributes. A scan error stops the declarations there, as in
/// quick-xml's resolver, and is reported only for a SWID element.
fn element<'a>(
    r: &Reader<'a>,
    ns: &mut Scopes<'a>,
    text: &'a str,
    e: &BytesStart<'_>,
    start: u64,
) -> Result<Option<Element<'a>>, XmlError> {
    let name = e.name();
    let name = within(text, name.as_ref()).ok_or_else(|| malformed(r, "bad element name"))?;
    let raw = within(text, e.attributes_raw()).ok_or_else(|| malformed(r, "bad attributes"))?;
    let mut first = [("", "", true, false); 8];
    let mut more = Vec::new();
    let mut n = 0;
    let mut bad = None;
    for a in (RawAttributes {
        raw,
        i: 0,
        plain_doc: ns.plain,
    }) {
        let a = match a {
            Ok(a) => a,
            Err(x) => {
                bad = Some(x);
                break;
            }
        };
        let seen = |k: &str| first.iter().take(n).chain(&more).any(|a| a.0 == k);
        if bad.is_none() && seen(a.0) {
            bad = Some("duplicate attribute");
        }
        match first.get_mut(n) {
            Some(slot) => *slot = a,
            None => more.push(a),
        }
        n += 1;
    }
    let all = || first.iter().take(n).chain(&more);
    ns.push(all().map(|&(k, v, _, _)| (k, v)))
        .map_err(|x| malformed_pos(start, x))?;
    if !ns.is_swid(name) {
        return Ok(None);
    }
    if let Some(x) = bad {
        return Err(malformed(r, x));
    }
    let mut attrs = Vec::with_capacity(n);
    for &(key, raw_value, plain, prefixed) in all() {
        // an unprefixed attribute is in no namespace
        let uri = match prefixed.then(|| ns.resolve(key, false)) {
            None => None,
            Some(Ns::Bound(b)) => Some(b.uri.clone()),
            Some(Ns::Xml) => Some(Cow::Borrowed(XML_NS)),
            Some(Ns::Xmlns) => Some(Cow::Borrowed(XMLNS_NS)),
            Some(Ns::Unbound | Ns::Unknown) => None,
        };
        let value = if !plain {
            let value = Attribute {
                key: QName(key),
                value: Cow::Borrowed(raw_value),
            }
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|x| malformed(r, x))?
            .into_owned();
            Cow::Owned(value)
        } else {
            Cow::Borrowed(raw_value)
        };
        attrs.push(XmlAttr {
            qname: Cow::Borrowed(key),
            ns: uri,
            value,
        });
    }
    Ok(Some(Element {
        qname: Cow::Borrowed(name),
        attrs,
    }))
}

/// `part` (a slice quick-xml handed out of the input) as a slice of `text`, the same input
/// with its lifetime; `None` if it does not lie within it (it always does).
fn within<'a>(text: &'a str, part: &str) -> Option<&'a str> {
    let at = part.as_ptr().addr().checked_sub(text.as_ptr().addr())?;
    text.get(at..at.checked_add(part.len())?)
        .filter(|t| core::ptr::eq(t.as_ptr(), part.as_ptr()))
}

/// A namespace URI as the attribute-value normalisation of its declaration (XML 1.0 §3.3.3):
/// literal whitespace becomes a space, then references are expanded.
fn namespace_uri(raw: &str) -> Cow<'_, str> {
    if !raw.contains(['\t', '\n', '\r', '&']) {
        return Cow::Borrowed(raw);
    }
    let spaced = raw.replace("\r\n", " ").replace(['\t', '\n', '\r'], " ");
    let v = quick_xml::escape::unescape(&spaced).map_or_else(|_| spaced.clone(), Cow::into_owned);
    Cow::Owned(v)
}

fn slice<'a>(r: &Reader<'a>, text: &'a str, start: u64) -> Result<Cow<'a, str>, XmlError> {
    let s = usize::try_from(start).map_err(|x| malformed(r, x))?;
    let e = usize::try_from(r.buffer_position()).map_err(|x| malformed(r, x))?;
    let b = text.get(s..e).ok_or_else(|| malformed(r, "bad span"))?;
    Ok(Cow::Borrowed(b))
}

/// What a child element turned out to be.
enum Child<'a> {
    /// A known leaf element (its content, if any, was whitespace).
    Leaf(&'static str, Element<'a>),
    /// Payload/Evidence/Directory: the caller reads the children.
    Container(&'static str, Element<'a>, bool),
    /// Raw XML.
    Raw(Cow<'a, str>),
    /// The parent's end tag.
    End,
}

const LEAVES: &[&str] = &["Entity", "Link", "Meta", "File", "Process", "Resource"];
const CONTAINERS: &[&str] = &["Payload", "Evidence", "Directory"];

fn next_child<'a>(
    r: &mut Reader<'a>,
    ns: &mut Scopes<'a>,
    input: &'a str,
) -> Result<Child<'a>, XmlError> {
    loop {
        let start = r.buffer_position();
        let ev = r.read_event().map_err(|e| malformed_pos(start, e))?;
        match ev {
            Event::Start(e) => return child(r, ns, input, start, &e, true),
            Event::Empty(e) => return child(r, ns, input, start, &e, false),
            Event::End(_) => return Ok(Child::End),
            Event::Eof => return Err(malformed(r, "unexpected end of document")),
            _ => {} // text, comments, processing instructions
        }
    }
}

/// A child element. For a [`Child::Container`] the scope stays open: the caller closes it
/// after the container's children.
fn child<'a>(
    r: &mut Reader<'a>,
    ns: &mut Scopes<'a>,
    input: &'a str,
    start: u64,
    e: &BytesStart<'_>,
    is_start: bool,
) -> Result<Child<'a>, XmlError> {
    let local = e.local_name();
    let local: &str = local.as_ref();
    let known = CONTAINERS
        .iter()
        .map(|&n| (n, true))
        .chain(LEAVES.iter().map(|&n| (n, false)))
        .find(|(n, _)| *n == local);
    if let Some((local, container)) = known {
        let el = element(r, ns, input, e, start);
        let el = match el {
            Ok(Some(el)) if container => return Ok(Child::Container(local, el, is_start)),
            Ok(Some(el)) => Some(el),
            Ok(None) => None,
            Err(x) => {
                ns.pop();
                return Err(x);
            }
        };
        ns.pop();
        if let Some(el) = el {
            if !is_start {
                return Ok(Child::Leaf(local, el));
            }
            let span = r.read_to_end(e.name()).map_err(|x| malformed(r, x))?;
            let inner = usize::try_from(span.start)
                .ok()
                .zip(usize::try_from(span.end).ok())
                .and_then(|(a, b)| input.get(a..b))
                .unwrap_or_default();
            if inner.bytes().all(|b| b.is_ascii_whitespace()) {
                return Ok(Child::Leaf(local, el));
            }
            // a leaf with element content (e.g. Meta inside Entity): kept raw
            return Ok(Child::Raw(slice(r, input, start)?));
        }
    }
    if is_start {
        r.read_to_end(e.name()).map_err(|x| malformed(r, x))?;
    }
    Ok(Child::Raw(slice(r, input, start)?))
}

fn malformed_pos(offset: u64, e: impl core::fmt::Display) -> XmlError {
    XmlError::Malformed {
        offset,
        message: e.to_string(),
    }
}

/// Children of Payload / Evidence / Directory.
fn resources<'a>(
    r: &mut Reader<'a>,
    ns: &mut Scopes<'a>,
    input: &'a str,
    depth: usize,
) -> Result<Vec<Resource<'a>>, XmlError> {
    if depth > MAX_DEPTH {
        return Err(XmlError::TooDeep);
    }
    let mut items = Vec::new();
    loop {
        match next_child(r, ns, input)? {
            Child::End => return Ok(items),
            Child::Raw(x) => items.push(Resource::Other(x)),
            Child::Leaf(name, el) => items.push(match name {
                "File" => Resource::File(el),
                "Process" => Resource::Process(el),
                "Resource" => Resource::Resource(el),
                // Entity/Link/Meta inside a payload: not SWID, kept as written
                _ => Resource::Other(Cow::Owned(super::write::element_xml(&el))),
            }),
            Child::Container(name, el, is_start) => {
                let kids = if is_start {
                    resources(r, ns, input, depth.saturating_add(1))?
                } else {
                    Vec::new()
                };
                ns.pop();
                if name == "Directory" {
                    items.push(Resource::Directory(el, kids));
                } else {
                    // Payload/Evidence nested in a resource: not SWID, re-serialised
                    items.push(Resource::Other(Cow::Owned(super::write::tree_xml(
                        &ResourceTree {
                            element: el,
                            items: kids,
                        },
                    ))));
                }
            }
        }
    }
}

/// XML 1.0 §2.2 `Char`.
fn xml_char(c: u32) -> bool {
    matches!(c, 0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10_FFFF)
}

fn bad_char(offset: usize, code: u32) -> XmlError {
    XmlError::BadCharacter {
        offset: u64::try_from(offset).unwrap_or(u64::MAX),
        code,
    }
}

/// The code point of the character reference at the start of `r` (after `&#`), if it is one.
/// An out-of-range number reads as `u32::MAX` (not a `Char`).
fn char_ref(r: &[u8]) -> Option<u32> {
    let (digits, radix) = match r.first() {
        Some(b'x') => (r.get(1..)?, 16),
        _ => (r, 10),
    };
    let end = digits.iter().position(|&b| b == b';')?;
    let digits = digits.get(..end)?;
    if digits.is_empty() {
        return None;
    }
    let mut v = 0u32;
    for &d in digits {
        let d = char::from(d).to_digit(radix)?;
        v = v.saturating_mul(radix).saturating_add(d);
    }
    Some(v)
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = ONES * 0x80;

/// The high bit of each byte of `x` equal to `b` (exact up to the lowest match).
fn eq_mask(x: u64, b: u8) -> u64 {
    let v = x ^ (ONES * u64::from(b));
    v.wrapping_sub(ONES) & !v & HIGH
}

/// The high bit of each byte of `x` below `n` (`n` ≤ 0x80; exact up to the lowest match).
fn lt_mask(x: u64, n: u8) -> u64 {
    x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH
}

/// The first position at or after `from` of a byte `hit` accepts, eight bytes at a time:
/// `mask` is `hit` over the eight bytes of a little-endian word (see [`eq_mask`]).
fn find(
    hay: &[u8],
    from: usize,
    mask: impl Fn(u64) -> u64,
    hit: impl Fn(u8) -> bool,
) -> Option<usize> {
    let rest = hay.get(from..)?;
    let mut words = rest.chunks_exact(8);
    let mut at = from;
    for w in words.by_ref() {
        let m = mask(u64::from_le_bytes(w.try_into().unwrap_or_default()));
        if m != 0 {
            return Some(at + (m.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&b| hit(b))
        .map(|p| at + p)
}

/// Refuse input that is not UTF-8 or holds a character XML 1.0 cannot carry, written
/// literally or as a character reference (`&#0;`): whatever parses can be written back as XML.
/// Also says whether the document is plain (see [`Scopes::plain`]).
fn check_chars(input: &[u8]) -> Result<(&str, bool), XmlError> {
    let text = core::str::from_utf8(input).map_err(|e| XmlError::NotUtf8 {
        offset: u64::try_from(e.valid_up_to()).unwrap_or(u64::MAX),
    })?;
    let hit = |b: u8| b < 0x20 || b == 0xEF || b == b'&';
    let mut plain = true;
    // blocks without any byte of interest are passed over by a loop the compiler vectorises
    const BLOCK: usize = 64;
    let hits = input.chunks(BLOCK).enumerate().flat_map(|(n, block)| {
        let quiet = block.iter().fold(0u8, |acc, &b| acc | u8::from(hit(b))) == 0;
        let from = n.saturating_mul(BLOCK);
        block
            .iter()
            .enumerate()
            .filter(move |&(_, &b)| !quiet && hit(b))
            .map(move |(j, _)| from.saturating_add(j))
    });
    for i in hits {
        let rest = input.get(i..).unwrap_or_default();
        if matches!(rest.first(), Some(&b) if b < 0x20 || b == b'&') {
            plain = false;
        }
        match rest {
            [b'\t' | b'\n' | b'\r', ..] => {}
            [b, ..] if *b < 0x20 => return Err(bad_char(i, u32::from(*b))),
            // U+FFFE, U+FFFF
            [0xEF, 0xBF, y @ (0xBE | 0xBF), ..] => {
                return Err(bad_char(i, 0xFFC0 | u32::from(*y & 0x3F)));
            }
            [b'&', b'#', r @ ..] => {
                if let Some(c) = char_ref(r)
                    && !xml_char(c)
                {
                    return Err(bad_char(i, c));
                }
            }
            _ => {}
        }
    }
    Ok((text, plain))
}

/// Offsets in errors count from the first byte given, byte order mark included.
fn shift(e: XmlError, by: u64) -> XmlError {
    match e {
        XmlError::Malformed { offset, message } => XmlError::Malformed {
            offset: offset.saturating_add(by),
            message,
        },
        XmlError::BadCharacter { offset, code } => XmlError::BadCharacter {
            offset: offset.saturating_add(by),
            code,
        },
        XmlError::NotUtf8 { offset } => XmlError::NotUtf8 {
            offset: offset.saturating_add(by),
        },
        e => e,
    }
}

impl<'a> SoftwareIdentity<'a> {
    /// Parse one SWID XML document (UTF-8). Names and values borrow from `input` where they
    /// can; [`into_owned`](Self::into_owned) detaches the result.
    ///
    /// Input that is not UTF-8, holds a character XML 1.0 cannot carry (U+0000 and the other
    /// C0 controls but tab, LF and CR; U+FFFE, U+FFFF; also as `&#…;`) or has text before the
    /// root element is refused, so [`to_xml`](Self::to_xml) always writes a document that
    /// parses to the same tree. Error offsets count from the first input byte.
    pub fn parse(input: &'a [u8]) -> Result<Self, XmlError> {
        // quick-xml skips a UTF-8 byte order mark without counting it in buffer_position(),
        // which would shift the raw slices kept for unknown elements
        let (bom, input) = match input.strip_prefix(b"\xEF\xBB\xBF") {
            Some(rest) => (3, rest),
            None => (0, input),
        };
        check_chars(input)
            .and_then(|(text, plain)| Self::parse_body(text, plain))
            .map_err(|e| shift(e, bom))
    }

    fn parse_body(input: &'a str, plain: bool) -> Result<Self, XmlError> {
        if input.starts_with('\u{FEFF}') {
            // quick-xml would skip this one too, uncounted; it is text before the root element
            return Err(malformed_pos(0, "a second byte order mark"));
        }
        let mut r = Reader::from_str(input);
        let mut ns = Scopes {
            plain,
            ..Scopes::default()
        };
        loop {
            let start = r.buffer_position();
            let ev = r.read_event().map_err(|e| malformed_pos(start, e))?;
            let (e, is_start) = match ev {
                Event::Start(e) => (e, true),
                Event::Empty(e) => (e, false),
                Event::Eof => return Err(XmlError::NoSoftwareIdentity),
                // a second byte order mark, or any other text before the root element
                Event::Text(t) if !t.as_ref().bytes().all(|b| b.is_ascii_whitespace()) => {
                    return Err(malformed_pos(start, "text before the root element"));
                }
                _ => continue,
            };
            if e.local_name().as_ref() != "SoftwareIdentity" {
                return Err(XmlError::NoSoftwareIdentity);
            }
            let Some(element) = element(&r, &mut ns, input, &e, start)? else {
                return Err(XmlError::NoSoftwareIdentity);
            };
            let mut si = SoftwareIdentity {
                element,
                ..Self::default()
            };
            if is_start {
                loop {
                    match next_child(&mut r, &mut ns, input)? {
                        Child::End => break,
                        Child::Raw(x) => si.other.push(x),
                        Child::Leaf(name, el) => match name {
                            "Entity" => si.entities.push(el),
                            "Link" => si.links.push(el),
                            "Meta" => si.metas.push(el),
                            _ => si.other.push(Cow::Owned(super::write::element_xml(&el))),
                        },
                        Child::Container(name, el, is_start) => {
                            let items = if is_start {
                                resources(&mut r, &mut ns, input, 1)?
                            } else {
                                Vec::new()
                            };
                            ns.pop();
                            let tree = ResourceTree { element: el, items };
                            match name {
                                "Payload" if si.payload.is_none() => si.payload = Some(tree),
                                "Evidence" if si.evidence.is_none() => si.evidence = Some(tree),
                                _ => si.other.push(Cow::Owned(super::write::tree_xml(&tree))),
                            }
                        }
                    }
                }
            }
            return Ok(si);
        }
    }
}
