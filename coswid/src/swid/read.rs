//! SWID XML parser over quick-xml's `Reader` events, with its own namespace resolution fed by
//! the attribute scan of the SWID elements (quick-xml's `NsReader` scanned every start tag a
//! second time for declarations), and its own reading of the empty-element tags between
//! markup (see [`Tokens`]).

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

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// The attributes of a start tag as `(qualified name, raw value, plain)`, in document order:
/// the XML 1.0 §3.1 `Attribute` production (`Name Eq AttValue`, separated by white space),
/// values in single or double quotes without `<`. `plain` says the value holds no reference
/// and no white space but spaces (it needs no normalisation). A scan written for SWID's many
/// small elements; quick-xml's iterator did the same with more bookkeeping per attribute.
/// The caller checks for duplicates.
///
/// `open`: `raw` runs on past the tag (the fast path of [`Tokens`]): the scan ends after
/// `/>`, and fails at `>` (a start tag), at the end of `raw`, and at a name holding a quote,
/// `<`, `>` or `/` — whatever quick-xml might delimit differently is left to it.
struct RawAttributes<'a> {
    raw: &'a str,
    i: usize,
    open: bool,
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
        if self.open {
            match (b.get(i), b.get(i + 1)) {
                (Some(b'/'), Some(b'>')) => {
                    self.i = i + 2;
                    return Ok(None);
                }
                (Some(b'/' | b'>') | None, _) => return Err("not an empty-element tag"),
                _ => {}
            }
        } else if i >= b.len() {
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
        if self.open
            && key
                .bytes()
                .any(|c| matches!(c, b'"' | b'\'' | b'<' | b'>' | b'/'))
        {
            return Err("unusual attribute name");
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
        let value = raw.get(v0..i).ok_or("bad attribute value")?;
        self.i = i + 1;
        Ok(Some((key, value, plain, prefixed)))
    }
}

/// Scan the attributes into `out` (cleared first) to their end or the first error; the
/// attributes before an error are kept. What is wrong: a scan error, else a duplicate.
fn scan<'a>(it: &mut RawAttributes<'a>, out: &mut Vec<RawAttr<'a>>) -> Scan {
    out.clear();
    let mut duplicate = false;
    for a in it {
        let a = match a {
            Ok(a) => a,
            Err(x) => return Scan::Error(x),
        };
        // names of equal length and first byte compared in full
        let (n, first) = (a.0.len(), a.0.as_bytes().first());
        duplicate = duplicate
            || out
                .iter()
                .any(|b| b.0.len() == n && b.0.as_bytes().first() == first && b.0 == a.0);
        out.push(a);
    }
    if duplicate { Scan::Duplicate } else { Scan::Ok }
}

/// How an attribute scan ended.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scan {
    Ok,
    Duplicate,
    Error(&'static str),
}

/// A start or empty-element tag.
struct Tag<'a> {
    /// Offset of its `<`.
    start: u64,
    /// Qualified name as written.
    name: &'a str,
    /// How the scan of its attributes (in [`Tokens::attrs`]) ended.
    scan: Scan,
    /// A start tag (content and an end tag follow).
    is_start: bool,
}

impl Tag<'_> {
    /// The local name (after the first `:`, as quick-xml splits it).
    fn local(&self) -> &str {
        self.name.split_once(':').map_or(self.name, |(_, l)| l)
    }
}

/// What [`Tokens::next`] reads.
enum Tok<'a> {
    Tag(Tag<'a>),
    End,
    Eof,
    /// Text: whether it is all white space.
    Text(bool),
    /// A comment, processing instruction, declaration, CDATA or reference.
    Other,
}

/// quick-xml's events, and a fast path of our own for the empty-element tags that make up
/// most of a SWID document (`<File …/>`): read where quick-xml would read next, when it is
/// between markup and text, it is parsed with the attribute scan (which finds the tag's end
/// as quick-xml would: outside quotes) and quick-xml's input slice is advanced past it. An
/// empty-element tag changes nothing else in quick-xml's state (no name is kept for an end
/// tag check); anything else, an error included, is left to quick-xml.
struct Tokens<'a> {
    r: Reader<'a>,
    /// The whole input.
    text: &'a str,
    /// Bytes taken by the fast path, which quick-xml's position does not count.
    skipped: u64,
    /// quick-xml's last event was markup: its input slice starts where text or markup may.
    between: bool,
    /// The attributes of the last tag (a buffer reused from tag to tag).
    attrs: Vec<RawAttr<'a>>,
    /// The children read so far of the open Payload, Evidence and Directory elements, each
    /// moved into a vector of its own, allocated once, when its element ends.
    items: Vec<Resource<'a>>,
}

impl<'a> Tokens<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            r: Reader::from_str(text),
            text,
            skipped: 0,
            between: false,
            attrs: Vec::new(),
            items: Vec::new(),
        }
    }

    /// The offset just after the last token.
    fn position(&self) -> u64 {
        self.r.buffer_position().saturating_add(self.skipped)
    }

    fn malformed(&self, e: impl core::fmt::Display) -> XmlError {
        malformed_pos(self.position(), e)
    }

    fn next(&mut self) -> Result<Tok<'a>, XmlError> {
        if self.between
            && let Some(tag) = self.empty_tag()
        {
            return Ok(Tok::Tag(tag));
        }
        let start = self.position();
        let ev = self.r.read_event().map_err(|e| malformed_pos(start, e))?;
        self.between = !matches!(ev, Event::Text(_) | Event::GeneralRef(_));
        Ok(match ev {
            Event::Start(e) => Tok::Tag(self.tag(start, &e, true)?),
            Event::Empty(e) => Tok::Tag(self.tag(start, &e, false)?),
            Event::End(_) => Tok::End,
            Event::Eof => Tok::Eof,
            Event::Text(t) => Tok::Text(t.as_ref().bytes().all(|b| b.is_ascii_whitespace())),
            _ => Tok::Other,
        })
    }

    /// A tag quick-xml read.
    fn tag(&mut self, start: u64, e: &BytesStart<'_>, is_start: bool) -> Result<Tag<'a>, XmlError> {
        let name = within(self.text, e.name().as_ref())
            .ok_or_else(|| self.malformed("bad element name"))?;
        let raw = within(self.text, e.attributes_raw())
            .ok_or_else(|| self.malformed("bad attributes"))?;
        let scan = scan(
            &mut RawAttributes {
                raw,
                i: 0,
                open: false,
            },
            &mut self.attrs,
        );
        Ok(Tag {
            start,
            name,
            scan,
            is_start,
        })
    }

    /// The fast path: optional white space, then an empty-element tag whose name starts with
    /// a letter or `_` and whose attributes scan without error; `None`, nothing consumed, for
    /// anything else.
    fn empty_tag(&mut self) -> Option<Tag<'a>> {
        let rest: &'a [u8] = self.r.get_ref();
        let ws = rest.iter().take_while(|&&b| is_space(b)).count();
        let start = self.text.len().checked_sub(rest.len())?.checked_add(ws)?;
        let b = self.text.as_bytes();
        if b.get(start) != Some(&b'<')
            || !b
                .get(start + 1)
                .is_some_and(|&c| c.is_ascii_alphabetic() || c == b'_')
        {
            return None;
        }
        let n0 = start + 1;
        let mut i = n0;
        while let Some(&c) = b.get(i) {
            if is_space(c) || c == b'/' || c == b'>' {
                break;
            }
            if matches!(c, b'"' | b'\'' | b'<') {
                return None;
            }
            i += 1;
        }
        let name = self.text.get(n0..i)?;
        let mut it = RawAttributes {
            raw: self.text.get(i..)?,
            i: 0,
            open: true,
        };
        let scan = scan(&mut it, &mut self.attrs);
        if let Scan::Error(_) = scan {
            return None;
        }
        // `it.i`: just after the tag's `/>`
        let end = i.checked_add(it.i)?;
        let used = end.checked_sub(start)?.checked_add(ws)?;
        let left = rest.get(used..)?;
        *self.r.get_mut() = left;
        self.skipped = self.skipped.saturating_add(u64::try_from(used).ok()?);
        Some(Tag {
            start: u64::try_from(start).ok()?,
            name,
            scan,
            is_start: false,
        })
    }

    /// Skip to the end tag of `name` (quick-xml counts nested elements of the same name);
    /// the content's span.
    fn read_to_end(&mut self, name: &str) -> Result<(u64, u64), XmlError> {
        let span = self
            .r
            .read_to_end(QName(name))
            .map_err(|x| self.malformed(x))?;
        self.between = true;
        Ok((
            span.start.saturating_add(self.skipped),
            span.end.saturating_add(self.skipped),
        ))
    }

    /// The input from `start` to the current position.
    fn slice(&self, start: u64) -> Result<Cow<'a, str>, XmlError> {
        let s = usize::try_from(start).map_err(|x| self.malformed(x))?;
        let e = usize::try_from(self.position()).map_err(|x| self.malformed(x))?;
        let b = self
            .text
            .get(s..e)
            .ok_or_else(|| self.malformed("bad span"))?;
        Ok(Cow::Borrowed(b))
    }
}

/// Open the scope of a tag whose local name is a SWID element's and read it: `None` when its
/// namespace makes it something else (the caller keeps it raw). Either way the caller closes
/// the scope. The declarations among the attributes are in scope for the element's own name
/// and attributes. A scan error stops the declarations there, as in quick-xml's resolver, and
/// is reported only for a SWID element.
fn element<'a>(
    tk: &Tokens<'a>,
    ns: &mut Scopes<'a>,
    tag: &Tag<'a>,
) -> Result<Option<Element<'a>>, XmlError> {
    ns.push(tk.attrs.iter().map(|&(k, v, _, _)| (k, v)))
        .map_err(|x| malformed_pos(tag.start, x))?;
    if !ns.is_swid(tag.name) {
        return Ok(None);
    }
    match tag.scan {
        Scan::Ok => {}
        Scan::Duplicate => return Err(tk.malformed("duplicate attribute")),
        Scan::Error(x) => return Err(tk.malformed(x)),
    }
    let mut attrs = Vec::with_capacity(tk.attrs.len());
    for &(key, raw_value, plain, prefixed) in &tk.attrs {
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
            .map_err(|x| tk.malformed(x))?
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
        qname: Cow::Borrowed(tag.name),
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

fn next_child<'a>(tk: &mut Tokens<'a>, ns: &mut Scopes<'a>) -> Result<Child<'a>, XmlError> {
    loop {
        match tk.next()? {
            Tok::Tag(tag) => return child(tk, ns, &tag),
            Tok::End => return Ok(Child::End),
            Tok::Eof => return Err(tk.malformed("unexpected end of document")),
            Tok::Text(_) | Tok::Other => {} // text, comments, processing instructions
        }
    }
}

/// A child element. For a [`Child::Container`] the scope stays open: the caller closes it
/// after the container's children.
fn child<'a>(
    tk: &mut Tokens<'a>,
    ns: &mut Scopes<'a>,
    tag: &Tag<'a>,
) -> Result<Child<'a>, XmlError> {
    let local = tag.local();
    let known = CONTAINERS
        .iter()
        .map(|&n| (n, true))
        .chain(LEAVES.iter().map(|&n| (n, false)))
        .find(|(n, _)| *n == local);
    if let Some((local, container)) = known {
        let el = element(tk, ns, tag);
        let el = match el {
            Ok(Some(el)) if container => return Ok(Child::Container(local, el, tag.is_start)),
            Ok(Some(el)) => Some(el),
            Ok(None) => None,
            Err(x) => {
                ns.pop();
                return Err(x);
            }
        };
        ns.pop();
        if let Some(el) = el {
            if !tag.is_start {
                return Ok(Child::Leaf(local, el));
            }
            let (a, b) = tk.read_to_end(tag.name)?;
            let inner = usize::try_from(a)
                .ok()
                .zip(usize::try_from(b).ok())
                .and_then(|(a, b)| tk.text.get(a..b))
                .unwrap_or_default();
            if inner.bytes().all(|b| b.is_ascii_whitespace()) {
                return Ok(Child::Leaf(local, el));
            }
            // a leaf with element content (e.g. Meta inside Entity): kept raw
            return Ok(Child::Raw(tk.slice(tag.start)?));
        }
    }
    if tag.is_start {
        tk.read_to_end(tag.name)?;
    }
    Ok(Child::Raw(tk.slice(tag.start)?))
}

fn malformed_pos(offset: u64, e: impl core::fmt::Display) -> XmlError {
    XmlError::Malformed {
        offset,
        message: e.to_string(),
    }
}

/// Children of Payload / Evidence / Directory.
fn resources<'a>(
    tk: &mut Tokens<'a>,
    ns: &mut Scopes<'a>,
    depth: usize,
) -> Result<Vec<Resource<'a>>, XmlError> {
    if depth > MAX_DEPTH {
        return Err(XmlError::TooDeep);
    }
    let mark = tk.items.len();
    loop {
        let item = match next_child(tk, ns)? {
            Child::End => return Ok(tk.items.drain(mark..).collect()),
            Child::Raw(x) => Resource::Other(x),
            Child::Leaf(name, el) => match name {
                "File" => Resource::File(el),
                "Process" => Resource::Process(el),
                "Resource" => Resource::Resource(el),
                // Entity/Link/Meta inside a payload: not SWID, kept as written
                _ => Resource::Other(Cow::Owned(super::write::element_xml(&el))),
            },
            Child::Container(name, el, is_start) => {
                let kids = if is_start {
                    resources(tk, ns, depth.saturating_add(1))?
                } else {
                    Vec::new()
                };
                ns.pop();
                if name == "Directory" {
                    Resource::Directory(el, kids)
                } else {
                    // Payload/Evidence nested in a resource: not SWID, re-serialised
                    Resource::Other(Cow::Owned(super::write::tree_xml(&ResourceTree {
                        element: el,
                        items: kids,
                    })))
                }
            }
        };
        tk.items.push(item);
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
#[inline(always)]
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
fn check_chars(input: &[u8]) -> Result<&str, XmlError> {
    let text = core::str::from_utf8(input).map_err(|e| XmlError::NotUtf8 {
        offset: u64::try_from(e.valid_up_to()).unwrap_or(u64::MAX),
    })?;
    let hit = |b: u8| b < 0x20 || b == 0xEF || b == b'&';
    // blocks without any byte of interest are passed over by a loop the compiler vectorises
    const BLOCK: usize = 64;
    let hits = input.chunks(BLOCK).enumerate().flat_map(|(n, block)| {
        let quiet = block.iter().fold(0u8, |acc, &b| {
            acc | u8::from(b < 0x20) | u8::from(b == 0xEF) | u8::from(b == b'&')
        }) == 0;
        let from = n.saturating_mul(BLOCK);
        block
            .iter()
            .enumerate()
            .filter(move |&(_, &b)| !quiet && hit(b))
            .map(move |(j, _)| from.saturating_add(j))
    });
    for i in hits {
        let rest = input.get(i..).unwrap_or_default();
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
    Ok(text)
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
            .and_then(Self::parse_body)
            .map_err(|e| shift(e, bom))
    }

    fn parse_body(input: &'a str) -> Result<Self, XmlError> {
        if input.starts_with('\u{FEFF}') {
            // quick-xml would skip this one too, uncounted; it is text before the root element
            return Err(malformed_pos(0, "a second byte order mark"));
        }
        let mut tk = Tokens::new(input);
        let mut ns = Scopes::default();
        loop {
            let start = tk.position();
            let tag = match tk.next()? {
                Tok::Tag(tag) => tag,
                Tok::Eof => return Err(XmlError::NoSoftwareIdentity),
                // a second byte order mark, or any other text before the root element
                Tok::Text(false) => {
                    return Err(malformed_pos(start, "text before the root element"));
                }
                Tok::Text(true) | Tok::Other | Tok::End => continue,
            };
            if tag.local() != "SoftwareIdentity" {
                return Err(XmlError::NoSoftwareIdentity);
            }
            let Some(element) = element(&tk, &mut ns, &tag)? else {
                return Err(XmlError::NoSoftwareIdentity);
            };
            let mut si = SoftwareIdentity {
                element,
                ..Self::default()
            };
            if tag.is_start {
                loop {
                    match next_child(&mut tk, &mut ns)? {
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
                                resources(&mut tk, &mut ns, 1)?
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
