//! A small streaming XML cursor over one message (quick-xml's namespace-aware reader, no DOM).
//!
//! Every parser of this crate uses it; [`DataReader`] is the same cursor handed to users for
//! walking a `<data>` reply element by element without building a tree.

use std::borrow::Cow;
use std::ops::Range;

use bytes::Bytes;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use crate::error::{DecodeError, DecodeErrorKind};

/// The NETCONF base namespace (RFC 6241 §3.1).
pub const NS_BASE: &str = "urn:ietf:params:xml:ns:netconf:base:1.0";
/// The RFC 5277 notification namespace.
pub const NS_NOTIFICATION: &str = "urn:ietf:params:xml:ns:netconf:notification:1.0";

/// One step of a [`DataReader`] walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XmlEvent<'a> {
    /// An element starts (`<x>` or `<x/>`, which is followed by its [`XmlEvent::End`]).
    Start {
        /// The element's namespace URI (`""` if unqualified).
        namespace: &'a str,
        /// The element's local name.
        name: &'a str,
    },
    /// Character data (entity and character references resolved). Text of one element may
    /// come in several pieces.
    Text(&'a str),
    /// The innermost open element ends.
    End,
}

/// Streaming reader over an XML fragment (e.g. the content of `<data>`), element by element.
///
/// Memory use is bounded by the nesting depth and the largest name or text piece, not by
/// the size of the input.
pub struct DataReader<'i> {
    reader: NsReader<&'i [u8]>,
    base: u64,
    last_was_start: bool,
    cursor: Cursor,
}

impl std::fmt::Debug for DataReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataReader")
            .field("depth", &self.cursor.depth)
            .field("offset", &self.offset())
            .finish_non_exhaustive()
    }
}

impl<'i> DataReader<'i> {
    /// A reader over `xml` (which must be UTF-8); `max_depth` bounds the nesting.
    pub fn new(xml: &'i [u8], max_depth: usize) -> Result<Self, DecodeError> {
        let text = std::str::from_utf8(xml)
            .map_err(|e| DecodeError::new(DecodeErrorKind::NotUtf8, e.valid_up_to()))?;
        Ok(Self::from_str_at(text, max_depth, 0))
    }

    pub(crate) fn from_str_at(text: &'i str, max_depth: usize, base: u64) -> Self {
        let mut reader = NsReader::from_str(text);
        let cfg = reader.config_mut();
        cfg.expand_empty_elements = true;
        cfg.check_end_names = true;
        Self {
            reader,
            base,
            last_was_start: false,
            cursor: Cursor::new(max_depth),
        }
    }

    /// Current nesting depth (0 outside any element).
    #[must_use]
    pub fn depth(&self) -> usize {
        self.cursor.depth
    }

    /// Byte offset just after the last event read.
    #[must_use]
    pub fn offset(&self) -> u64 {
        self.reader.buffer_position()
    }

    pub(crate) fn pos(&self) -> usize {
        usize::try_from(self.reader.buffer_position()).unwrap_or(usize::MAX)
    }

    fn err(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError {
            kind,
            offset: self.base.saturating_add(self.reader.buffer_position()),
        }
    }

    /// Attributes of the last [`XmlEvent::Start`]: (qualified name, unescaped value).
    #[must_use]
    pub fn attributes(&self) -> &[(String, String)] {
        &self.cursor.attrs
    }

    /// Value of the last start element's attribute whose qualified name is `qname`.
    #[must_use]
    pub fn attribute(&self, qname: &str) -> Option<&str> {
        self.cursor.attribute(qname)
    }

    /// The next event, or `None` at the end of input. Errors if the XML is not well-formed
    /// or nests deeper than the limit.
    pub fn next_event(&mut self) -> Result<Option<XmlEvent<'_>>, DecodeError> {
        self.last_was_start = false;
        loop {
            let (ns, ev) = match self.reader.read_resolved_event() {
                Ok(x) => x,
                Err(_) => {
                    let at = self.reader.error_position();
                    return Err(DecodeError {
                        kind: DecodeErrorKind::Xml,
                        offset: self.base.saturating_add(at),
                    });
                }
            };
            let step = self.cursor.apply(ns, ev);
            match step {
                Ok(Step::Skip) => {}
                Ok(Step::Eof) => return Ok(None),
                Ok(step) => {
                    self.last_was_start = step == Step::Start;
                    return Ok(self.cursor.event(step));
                }
                Err(kind) => return Err(self.err(kind)),
            }
        }
    }

    /// Collects the text of the element just started, up to and including its end.
    /// Child elements are an error (`InvalidValue`).
    pub fn read_text(&mut self) -> Result<String, DecodeError> {
        let mut out = String::new();
        loop {
            match self.next_event()? {
                Some(XmlEvent::Text(t)) => out.push_str(t),
                Some(XmlEvent::End) => return Ok(out),
                Some(XmlEvent::Start { .. }) => {
                    return Err(self.err(DecodeErrorKind::InvalidValue));
                }
                None => return Err(self.err(DecodeErrorKind::Xml)),
            }
        }
    }

    /// Skips the element just started, through its end; returns the byte range of its content
    /// (between the start tag's `>` and the end tag's `<`), relative to the input.
    ///
    /// The nesting limit holds inside the skipped element too: an element nested deeper than
    /// `max_depth` is an error (`TooMany`), as in [`DataReader::next_event`].
    pub fn skip_element(&mut self) -> Result<Range<usize>, DecodeError> {
        let start = self.pos();
        let target = self.cursor.depth.saturating_sub(1);
        if !self.last_was_start {
            loop {
                let before = self.pos();
                let is_end = match self.next_event()? {
                    Some(XmlEvent::End) => true,
                    Some(_) => false,
                    None => return Err(self.err(DecodeErrorKind::Xml)),
                };
                if is_end && self.cursor.depth == target {
                    return Ok(start..before);
                }
            }
        }
        // Fast path: raw events (no attribute or text decoding), depth counted and bounded.
        self.last_was_start = false;
        loop {
            let before = self.pos();
            let ev = self.reader.read_event().map_err(|_| DecodeError {
                kind: DecodeErrorKind::Xml,
                offset: self.base.saturating_add(self.reader.error_position()),
            })?;
            match ev {
                Event::Start(_) => {
                    if let Err(kind) = self.cursor.enter() {
                        return Err(self.err(kind));
                    }
                }
                Event::End(_) => {
                    self.cursor.depth = self.cursor.depth.saturating_sub(1);
                    if self.cursor.depth == target {
                        return Ok(start..before);
                    }
                }
                // expand_empty_elements is on
                Event::Empty(_) | Event::Eof => return Err(self.err(DecodeErrorKind::Xml)),
                _ => {}
            }
        }
    }
}

/// What one quick-xml event amounted to (see [`Cursor::apply`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Start,
    End,
    Text,
    /// Comment, declaration, processing instruction, doctype: nothing to report.
    Skip,
    Eof,
}

/// The state shared by every walker over quick-xml events (the slice-backed [`DataReader`]
/// and the chunk-fed [`crate::ReplyStream`]): depth, limits and the owned copies of the last
/// event's names, text and attributes, so the quick-xml buffer can be reused at once.
#[derive(Debug)]
pub(crate) struct Cursor {
    pub(crate) depth: usize,
    max_depth: usize,
    ns_buf: String,
    name_buf: String,
    text_buf: String,
    attrs: Vec<(String, String)>,
}

impl Cursor {
    pub(crate) fn new(max_depth: usize) -> Self {
        Self {
            depth: 0,
            max_depth,
            ns_buf: String::new(),
            name_buf: String::new(),
            text_buf: String::new(),
            attrs: Vec::new(),
        }
    }

    pub(crate) fn attributes(&self) -> &[(String, String)] {
        &self.attrs
    }

    pub(crate) fn attribute(&self, qname: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == qname)
            .map(|(_, v)| v.as_str())
    }

    /// One level deeper; an error beyond the limit.
    pub(crate) fn enter(&mut self) -> Result<(), DecodeErrorKind> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(DecodeErrorKind::TooMany);
        }
        Ok(())
    }

    /// The namespace and local name of the last start element.
    pub(crate) fn name(&self) -> (&str, &str) {
        (&self.ns_buf, &self.name_buf)
    }

    /// Takes in one resolved quick-xml event (empty elements expanded).
    pub(crate) fn apply(
        &mut self,
        ns: ResolveResult<'_>,
        ev: Event<'_>,
    ) -> Result<Step, DecodeErrorKind> {
        match ev {
            Event::Start(e) => {
                self.ns_buf.clear();
                match ns {
                    ResolveResult::Bound(n) => self.ns_buf.push_str(n.0),
                    ResolveResult::Unbound => {}
                    ResolveResult::Unknown(_) => return Err(DecodeErrorKind::Xml),
                }
                self.name_buf.clear();
                self.name_buf.push_str(e.local_name().as_ref());
                self.attrs.clear();
                for a in e.attributes() {
                    let a = a.map_err(|_| DecodeErrorKind::Xml)?;
                    let v = a
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map_err(|_| DecodeErrorKind::Xml)?;
                    self.attrs.push((a.key.0.to_owned(), v.into_owned()));
                }
                self.enter()?;
                Ok(Step::Start)
            }
            Event::End(_) => {
                self.depth = self.depth.saturating_sub(1);
                Ok(Step::End)
            }
            Event::Text(t) => {
                self.text_buf.clear();
                self.text_buf.push_str(&t.xml10_content());
                Ok(Step::Text)
            }
            Event::CData(t) => {
                self.text_buf.clear();
                self.text_buf.push_str(&t.xml10_content());
                Ok(Step::Text)
            }
            Event::GeneralRef(r) => {
                self.text_buf.clear();
                match r.resolve_char_ref() {
                    Ok(Some(c)) => self.text_buf.push(c),
                    Ok(None) => match quick_xml::escape::resolve_xml_entity(&r) {
                        Some(s) => self.text_buf.push_str(s),
                        None => return Err(DecodeErrorKind::Xml),
                    },
                    Err(_) => return Err(DecodeErrorKind::Xml),
                }
                Ok(Step::Text)
            }
            // expand_empty_elements is on
            Event::Empty(_) => Err(DecodeErrorKind::Xml),
            Event::Eof if self.depth != 0 => Err(DecodeErrorKind::Xml),
            Event::Eof => Ok(Step::Eof),
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => Ok(Step::Skip),
        }
    }

    /// The public view of a step [`Cursor::apply`] returned.
    pub(crate) fn event(&self, step: Step) -> Option<XmlEvent<'_>> {
        match step {
            Step::Start => Some(XmlEvent::Start {
                namespace: &self.ns_buf,
                name: &self.name_buf,
            }),
            Step::End => Some(XmlEvent::End),
            Step::Text => Some(XmlEvent::Text(&self.text_buf)),
            Step::Skip | Step::Eof => None,
        }
    }
}

/// Text of one element where whitespace around the value is not significant.
pub(crate) fn trimmed(s: String) -> String {
    let t = s.trim();
    if t.len() == s.len() { s } else { t.to_owned() }
}

/// Escapes text for element content or a double-quoted attribute value.
pub(crate) fn escape(s: &str) -> Cow<'_, str> {
    quick_xml::escape::escape(s)
}

/// Slices `range` out of `whole`, or an empty `Bytes` if it is out of bounds.
pub(crate) fn slice(whole: &Bytes, range: Range<usize>) -> Bytes {
    if range.start <= range.end && range.end <= whole.len() {
        whole.slice(range)
    } else {
        Bytes::new()
    }
}

/// Offset of the first non-whitespace byte (servers put newlines between framed messages).
pub(crate) fn skip_ws(b: &[u8]) -> usize {
    b.iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len())
}

/// Whether a namespace is the NETCONF base one, or absent (lenient with unqualified servers).
pub(crate) fn is_base(ns: &str) -> bool {
    ns == NS_BASE || ns.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_and_resolves() {
        let xml = br#"<a xmlns="urn:x"><b id="1">x &amp; y&#65;<![CDATA[<z>]]></b><c/></a>"#;
        let mut r = DataReader::new(xml, 8).unwrap();
        assert_eq!(
            r.next_event().unwrap(),
            Some(XmlEvent::Start {
                namespace: "urn:x",
                name: "a"
            })
        );
        assert!(matches!(
            r.next_event().unwrap(),
            Some(XmlEvent::Start { name: "b", .. })
        ));
        assert_eq!(r.attribute("id"), Some("1"));
        assert_eq!(r.read_text().unwrap(), "x & yA<z>");
        assert!(matches!(
            r.next_event().unwrap(),
            Some(XmlEvent::Start { name: "c", .. })
        ));
        assert_eq!(r.next_event().unwrap(), Some(XmlEvent::End));
        assert_eq!(r.next_event().unwrap(), Some(XmlEvent::End));
        assert_eq!(r.next_event().unwrap(), None);
    }

    #[test]
    fn depth_limit_and_malformed() {
        let mut r = DataReader::new(b"<a><a><a/></a></a>", 2).unwrap();
        let mut err = None;
        for _ in 0..10 {
            match r.next_event() {
                Err(e) => {
                    err = Some(e);
                    break;
                }
                Ok(None) => break,
                Ok(Some(_)) => {}
            }
        }
        assert_eq!(err.unwrap().kind, DecodeErrorKind::TooMany);
        let mut r = DataReader::new(b"<a><b></a>", 8).unwrap();
        let mut saw_err = false;
        for _ in 0..10 {
            match r.next_event() {
                Err(_) => {
                    saw_err = true;
                    break;
                }
                Ok(None) => break,
                Ok(Some(_)) => {}
            }
        }
        assert!(saw_err);
    }

    #[test]
    fn skip_range() {
        let xml = b"<r><data><x>1</x></data></r>";
        let mut r = DataReader::new(xml, 8).unwrap();
        r.next_event().unwrap();
        r.next_event().unwrap();
        let range = r.skip_element().unwrap();
        assert_eq!(&xml[range], b"<x>1</x>");
    }
}
