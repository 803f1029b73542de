//! Walking a reply while it arrives: [`ReplyStream`] takes the pieces of one `<rpc-reply>`
//! ([`Event::ReplyPart`](crate::Event::ReplyPart), zero-copy slices of the read buffer) and
//! yields the content of its `<data>` element by element, without ever holding the whole
//! message.
//!
//! ```text
//!  Session ──ReplyPart(Bytes)──▶ ReplyStream::push ──▶ ChunkReader (BufRead, queue of Bytes)
//!                                                        │  exposes only complete markup
//!                                                        ▼
//!                     quick-xml NsReader<ChunkReader> ──▶ next_event() ──▶ XmlEvent
//! ```
//!
//! quick-xml's buffered reader cannot resume an event cut short by a read that has no more
//! bytes yet, so a small lexer follows the pushed bytes and the [`ChunkReader`] exposes them
//! only up to the end of the last complete markup (tag, comment, CDATA section, processing
//! instruction); text is released together with the markup that ends it. What is held is
//! therefore the unread part of the pushed pieces plus one event: memory is bounded by the
//! piece size and the largest tag or text, not by the reply. [`ReplyStream::high_water`]
//! reports the most bytes held at once.

use std::collections::VecDeque;
use std::io::{self, BufRead, Read};

use bytes::{Buf, Bytes, BytesMut};
use quick_xml::reader::NsReader;

use crate::config::Limits;
use crate::error::{DecodeError, DecodeErrorKind};
use crate::wire::Message;
use crate::wire::reply::RpcReply;
use crate::xml::{Cursor, Step, XmlEvent, is_base};

/// A [`BufRead`] over a queue of [`Bytes`] pieces, of which only the first
/// [`ChunkReader::expose`]d bytes are readable (the rest reads as "no more yet").
///
/// It keeps a high-water mark of the bytes it held at once.
#[derive(Debug, Default)]
pub struct ChunkReader {
    queue: VecDeque<Bytes>,
    /// Bytes queued (pushed and not yet consumed).
    held: usize,
    /// Bytes readable from the front of the queue.
    exposed: usize,
    high_water: usize,
    consumed: u64,
}

impl ChunkReader {
    /// An empty reader.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a piece (not yet readable: see [`ChunkReader::expose`]).
    pub fn push(&mut self, piece: Bytes) {
        if piece.is_empty() {
            return;
        }
        self.held = self.held.saturating_add(piece.len());
        self.high_water = self.high_water.max(self.held);
        self.queue.push_back(piece);
    }

    /// Makes `n` more queued bytes readable (capped at what is queued).
    pub fn expose(&mut self, n: usize) {
        self.exposed = self.exposed.saturating_add(n).min(self.held);
    }

    /// Makes every queued byte readable.
    pub fn expose_all(&mut self) {
        self.exposed = self.held;
    }

    /// Bytes queued and not yet consumed.
    #[must_use]
    pub fn held(&self) -> usize {
        self.held
    }

    /// Readable bytes not yet consumed.
    #[must_use]
    pub fn exposed(&self) -> usize {
        self.exposed
    }

    /// Bytes consumed since the start.
    #[must_use]
    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// The most bytes queued at once.
    #[must_use]
    pub fn high_water(&self) -> usize {
        self.high_water
    }
}

impl Read for ChunkReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(out.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..n), avail.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for ChunkReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let limit = self.exposed;
        Ok(match self.queue.front() {
            Some(front) => front.get(..limit.min(front.len())).unwrap_or_default(),
            None => &[],
        })
    }

    fn consume(&mut self, amt: usize) {
        let mut amt = amt.min(self.exposed);
        self.exposed -= amt;
        self.held = self.held.saturating_sub(amt);
        self.consumed = self
            .consumed
            .saturating_add(u64::try_from(amt).unwrap_or(u64::MAX));
        while amt > 0 {
            let Some(front) = self.queue.front_mut() else {
                break;
            };
            let n = amt.min(front.len());
            front.advance(n);
            amt -= n;
            if front.is_empty() {
                self.queue.pop_front();
            }
        }
    }
}

/// Where the lexer is, between pushes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lex {
    /// Character data (or between markup).
    Text,
    /// Just after `<`.
    Lt,
    /// Inside a tag (`<a ...>`, `</a>`), in a quoted attribute value if `Some(quote)`.
    Tag(Option<u8>),
    /// Just after `<!`.
    Bang,
    /// Just after `<!-`.
    BangDash,
    /// Inside `<!DOCTYPE ...>`, with the nesting of `<`/`>`.
    Decl(usize),
    /// Inside a comment, CDATA section or processing instruction, until the terminator;
    /// the second field counts how much of it was matched.
    Until(&'static [u8], usize),
}

/// Follows the bytes pushed and tells where the last complete markup ends.
#[derive(Debug)]
struct Lexer {
    state: Lex,
}

impl Lexer {
    /// Scans `piece`; returns the length of its prefix that ends with the last complete
    /// markup in it (0 if no markup ended in it).
    fn scan(&mut self, piece: &[u8]) -> usize {
        let mut upto = 0;
        let mut i = 0;
        while let Some(&b) = piece.get(i) {
            i += 1;
            self.state = match self.state {
                Lex::Text => match memchr_lt(piece.get(i - 1..).unwrap_or_default()) {
                    Some(at) => {
                        i += at;
                        Lex::Lt
                    }
                    None => break,
                },
                Lex::Lt => match b {
                    b'!' => Lex::Bang,
                    b'?' => Lex::Until(b"?>", 0),
                    b'>' => {
                        upto = i;
                        Lex::Text
                    }
                    b'"' | b'\'' => Lex::Tag(Some(b)),
                    _ => Lex::Tag(None),
                },
                Lex::Tag(Some(q)) if b == q => Lex::Tag(None),
                Lex::Tag(Some(q)) => Lex::Tag(Some(q)),
                Lex::Tag(None) => match b {
                    b'>' => {
                        upto = i;
                        Lex::Text
                    }
                    b'"' | b'\'' => Lex::Tag(Some(b)),
                    _ => Lex::Tag(None),
                },
                Lex::Bang => match b {
                    b'-' => Lex::BangDash,
                    b'[' => Lex::Until(b"]]>", 0),
                    b'>' => {
                        upto = i;
                        Lex::Text
                    }
                    _ => Lex::Decl(1),
                },
                Lex::BangDash => Lex::Until(b"-->", 0),
                Lex::Decl(depth) => match b {
                    b'<' => Lex::Decl(depth.saturating_add(1)),
                    b'>' if depth <= 1 => {
                        upto = i;
                        Lex::Text
                    }
                    b'>' => Lex::Decl(depth - 1),
                    _ => Lex::Decl(depth),
                },
                Lex::Until(term, matched) => {
                    if term.get(matched) == Some(&b) {
                        if matched + 1 == term.len() {
                            upto = i;
                            Lex::Text
                        } else {
                            Lex::Until(term, matched + 1)
                        }
                    } else if term.first() == Some(&b) {
                        // "--->", "]]]>", "??>": the run of the first byte stays matched
                        Lex::Until(term, matched.max(1))
                    } else {
                        Lex::Until(term, 0)
                    }
                }
            };
        }
        upto
    }
}

/// Offset of the first `<` in `hay`.
fn memchr_lt(hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&c| c == b'<')
}

/// One step of a [`ReplyStream`] walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamStep<'a> {
    /// An event inside `<data>` (the `<data>` element itself is not reported).
    Event(XmlEvent<'a>),
    /// Every complete event pushed so far was returned: push the next piece (or call
    /// [`ReplyStream::finish`] if the message ended).
    NeedMore,
    /// The reply ended. If it carried no `<data>` (`<ok/>`, `<rpc-error>`), see
    /// [`ReplyStream::reply`].
    Done,
}

/// Where the walk is in the `<rpc-reply>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before the root element.
    Root,
    /// Among the children of `<rpc-reply>`.
    Reply,
    /// Inside `<data>`.
    Data,
    /// Inside another child of `<rpc-reply>` (`<rpc-error>`, `<ok/>`, ...).
    Other,
}

/// A streaming walk over one `<rpc-reply>` whose bytes arrive in pieces; it never holds the
/// whole message (see the [module docs](self)).
///
/// ```
/// use bytes::Bytes;
/// use netconf_client::{Limits, ReplyStream, StreamStep, XmlEvent};
///
/// let xml = r#"<rpc-reply message-id="1" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><data><user><name>a</name></user><user><name>b</name></user></data></rpc-reply>"#;
/// let mut s = ReplyStream::new(&Limits::default());
/// let mut users = 0;
/// for piece in xml.as_bytes().chunks(7) {
///     s.push(Bytes::copy_from_slice(piece));
///     while let StreamStep::Event(ev) = s.next_event().unwrap() {
///         if matches!(ev, XmlEvent::Start { name: "user", .. }) { users += 1; }
///     }
/// }
/// s.finish();
/// while let StreamStep::Event(_) = s.next_event().unwrap() {}
/// assert_eq!(users, 2);
/// assert!(s.is_done() && s.reply().is_none());
/// ```
#[derive(Debug)]
pub struct ReplyStream {
    reader: NsReader<ChunkReader>,
    lexer: Lexer,
    buf: Vec<u8>,
    cursor: Cursor,
    limits: Limits,
    phase: Phase,
    finished: bool,
    done: bool,
    high_water: usize,
    /// The message so far, kept while its first child is not known to be `<data>`: a reply
    /// without `<data>` (`<rpc-error>`, `<ok/>`) is decoded whole at its end.
    capture: Option<Vec<Bytes>>,
    captured: usize,
    /// A child other than `<data>` came first.
    saw_other: bool,
    /// The captured message grew past the message size limit.
    too_large: bool,
    /// Bytes pushed so far (the whole message, walked or not).
    pushed: usize,
    /// More than `max_message_size` bytes were pushed: the rest is dropped, the walk fails.
    overflow: bool,
    reply: Option<RpcReply>,
}

impl ReplyStream {
    /// A walk over the next reply; `limits` bounds the nesting depth, the message size
    /// and, for replies without `<data>`, the error count.
    #[must_use]
    pub fn new(limits: &Limits) -> Self {
        let mut reader = NsReader::from_reader(ChunkReader::new());
        let cfg = reader.config_mut();
        cfg.expand_empty_elements = true;
        cfg.check_end_names = true;
        Self {
            reader,
            lexer: Lexer { state: Lex::Text },
            buf: Vec::new(),
            cursor: Cursor::new(limits.max_depth),
            limits: limits.clone(),
            phase: Phase::Root,
            finished: false,
            done: false,
            high_water: 0,
            capture: Some(Vec::new()),
            captured: 0,
            saw_other: false,
            too_large: false,
            pushed: 0,
            overflow: false,
            reply: None,
        }
    }

    /// Appends the next piece of the message (e.g. [`Event::ReplyPart`](crate::Event)).
    /// Once more than `max_message_size` bytes were pushed, pieces are dropped and
    /// [`next_event`](Self::next_event) fails with `MessageTooLarge`.
    pub fn push(&mut self, piece: Bytes) {
        if self.finished || self.overflow {
            return;
        }
        // An endless tag, text or comment is never exposed to quick-xml: without this bound
        // the queue would grow with every piece. The message size limit caps it.
        self.pushed = self.pushed.saturating_add(piece.len());
        if self.pushed > self.limits.max_message_size {
            self.overflow = true;
            return;
        }
        let upto = self.lexer.scan(&piece);
        let r = self.reader.get_mut();
        let before = r.held();
        // everything held before this piece is released with the markup that ends in it
        r.push(piece.clone());
        if upto > 0 {
            r.expose(before.saturating_sub(r.exposed()).saturating_add(upto));
        }
        if let Some(c) = &mut self.capture {
            self.captured = self.captured.saturating_add(piece.len());
            c.push(piece);
            if self.captured > self.limits.max_message_size {
                self.capture = None;
                self.captured = 0;
                self.too_large = true;
            }
        }
        self.note_high_water();
    }

    /// The message ended: what is left becomes readable.
    pub fn finish(&mut self) {
        self.finished = true;
        self.reader.get_mut().expose_all();
    }

    /// Whether the whole reply was walked.
    #[must_use]
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Nesting depth inside `<data>` (1 inside a top-level element of the data).
    #[must_use]
    pub fn depth(&self) -> usize {
        self.cursor.depth.saturating_sub(2)
    }

    /// Attributes of the last [`XmlEvent::Start`]: (qualified name, unescaped value).
    #[must_use]
    pub fn attributes(&self) -> &[(String, String)] {
        self.cursor.attributes()
    }

    /// The most bytes held at once: the queued pieces plus quick-xml's event buffer.
    #[must_use]
    pub fn high_water(&self) -> usize {
        self.high_water
    }

    /// Bytes of the message walked so far.
    #[must_use]
    pub fn offset(&self) -> u64 {
        self.reader.get_ref().consumed()
    }

    /// Once [`is_done`](Self::is_done): the reply decoded whole if its first child was not
    /// `<data>` (`<ok/>`, `<rpc-error>`s); `None` for a `<data>` reply.
    #[must_use]
    pub fn reply(&self) -> Option<&RpcReply> {
        self.reply.as_ref()
    }

    fn note_high_water(&mut self) {
        let held = self
            .reader
            .get_ref()
            .held()
            .saturating_add(self.buf.capacity())
            .saturating_add(self.captured);
        self.high_water = self.high_water.max(held);
    }

    fn err(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError {
            kind,
            offset: self.reader.get_ref().consumed(),
        }
    }

    /// The next event inside `<data>`, [`StreamStep::NeedMore`] or [`StreamStep::Done`].
    /// Errors if the XML is not well-formed, nests too deep, or is not an `<rpc-reply>`.
    pub fn next_event(&mut self) -> Result<StreamStep<'_>, DecodeError> {
        let step = loop {
            if self.done {
                return Ok(StreamStep::Done);
            }
            if self.overflow || (self.too_large && self.saw_other) {
                return Err(self.err(DecodeErrorKind::MessageTooLarge));
            }
            if self.reader.get_ref().exposed() == 0 && !self.finished {
                return Ok(StreamStep::NeedMore);
            }
            self.buf.clear();
            let step = match self.reader.read_resolved_event_into(&mut self.buf) {
                Ok((ns, ev)) => self.cursor.apply(ns, ev),
                Err(_) => Err(DecodeErrorKind::Xml),
            };
            self.note_high_water();
            let step = step.map_err(|k| self.err(k))?;
            let depth = self.cursor.depth;
            match (self.phase, step) {
                (_, Step::Skip) => {}
                (_, Step::Eof) => {
                    if self.phase != Phase::Reply {
                        return Err(self.err(DecodeErrorKind::Missing));
                    }
                    self.done = true;
                    self.decode_captured()?;
                    return Ok(StreamStep::Done);
                }
                (Phase::Root, Step::Start) => {
                    let (ns, name) = self.cursor.name();
                    if name != "rpc-reply" || !is_base(ns) {
                        return Err(self.err(DecodeErrorKind::UnexpectedRoot));
                    }
                    self.phase = Phase::Reply;
                }
                (Phase::Root, _) => {}
                (Phase::Reply, Step::Start) => {
                    let (ns, name) = self.cursor.name();
                    let data = name == "data" && is_base(ns);
                    if data {
                        if !self.saw_other {
                            self.capture = None;
                            self.captured = 0;
                        }
                        self.phase = Phase::Data;
                    } else {
                        self.saw_other = true;
                        self.phase = Phase::Other;
                    }
                }
                // `</rpc-reply>`: anything after it is only whitespace, up to Eof
                (Phase::Reply, _) => {}
                (Phase::Data | Phase::Other, Step::End) if depth == 1 => {
                    self.phase = Phase::Reply;
                }
                (Phase::Data, s) => break s,
                (Phase::Other, _) => {}
            }
        };
        // `step` is Start, End or Text here (Skip and Eof were handled above)
        Ok(self
            .cursor
            .event(step)
            .map_or(StreamStep::NeedMore, StreamStep::Event))
    }

    fn decode_captured(&mut self) -> Result<(), DecodeError> {
        let Some(pieces) = self.capture.take() else {
            return if self.too_large && self.saw_other {
                Err(self.err(DecodeErrorKind::MessageTooLarge))
            } else {
                Ok(())
            };
        };
        let mut whole = BytesMut::with_capacity(self.captured);
        for p in pieces {
            whole.extend_from_slice(&p);
        }
        self.captured = 0;
        match Message::decode(whole.freeze(), &self.limits)? {
            Message::Reply(r) => {
                self.reply = Some(r);
                Ok(())
            }
            _ => Err(DecodeError::new(DecodeErrorKind::UnexpectedRoot, 0u64)),
        }
    }
}
