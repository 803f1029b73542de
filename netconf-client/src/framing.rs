//! RFC 6242 message framing: end-of-message (base:1.0) and chunked (base:1.1).
//!
//! ```text
//! base:1.0   <message>]]>]]>
//! base:1.1   \n#<chunk-size>\n<chunk-data> ... \n#<chunk-size>\n<chunk-data>\n##\n
//!            chunk-size = [1-9][0-9]{0,9}, at most 4294967295
//! ```
//!
//! [`Framer::decode`] is incremental: it takes whatever bytes have arrived, on any read
//! boundary, and returns `Ok(None)` until a whole message is in. Sizes are checked against
//! [`Limits`](crate::Limits) as soon as a chunk header is complete, before anything is
//! allocated. A message carried in one chunk (or one end-of-message frame) leaves as a
//! zero-copy `split_to(len).freeze()` of the read buffer; a multi-chunk message is joined once.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::error::{DecodeError, DecodeErrorKind};

/// The end-of-message marker of base:1.0 framing (RFC 6242 §4.3).
pub const EOM_MARKER: &[u8] = b"]]>]]>";
/// The end-of-chunks marker of base:1.1 framing (RFC 6242 §4.2).
pub const END_OF_CHUNKS: &[u8] = b"\n##\n";
/// RFC 6242 §4.2: the largest chunk-size the grammar allows.
pub const MAX_CHUNK_SIZE: u64 = 4_294_967_295;

/// Which framing mechanism is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `]]>]]>` end-of-message framing (base:1.0, and always for `<hello>`).
    EndOfMessage,
    /// Chunked framing (base:1.1 on both sides).
    Chunked,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    Header,
    Data(usize),
}

/// Incremental decoder of a NETCONF byte stream into message bodies.
#[derive(Debug)]
pub struct Framer {
    framing: Framing,
    max_message: usize,
    max_chunk: usize,
    /// Absolute stream offset of `buf[0]`, for error positions.
    consumed: u64,
    /// End-of-message: how far the buffer was already searched for the marker.
    scanned: usize,
    state: ChunkState,
    first: Option<Bytes>,
    joined: BytesMut,
    total: usize,
}

impl Framer {
    /// A framer starting in end-of-message mode (every session starts so, RFC 6242 §4.1).
    #[must_use]
    pub fn new(max_message: usize, max_chunk: usize) -> Self {
        Self {
            framing: Framing::EndOfMessage,
            max_message,
            max_chunk,
            consumed: 0,
            scanned: 0,
            state: ChunkState::Header,
            first: None,
            joined: BytesMut::new(),
            total: 0,
        }
    }

    /// The framing in force.
    #[must_use]
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// Switches framing (after the hello exchange, RFC 6242 §4.1). Call between messages.
    pub fn set_framing(&mut self, framing: Framing) {
        self.framing = framing;
        self.scanned = 0;
        self.reset_chunks();
    }

    fn reset_chunks(&mut self) {
        self.state = ChunkState::Header;
        self.first = None;
        self.joined = BytesMut::new();
        self.total = 0;
    }

    fn err(&self, kind: DecodeErrorKind, at: usize) -> DecodeError {
        let at = u64::try_from(at).unwrap_or(u64::MAX);
        DecodeError {
            kind,
            offset: self.consumed.saturating_add(at),
        }
    }

    fn advance(&mut self, buf: &mut BytesMut, n: usize) {
        buf.advance(n);
        self.consumed = self
            .consumed
            .saturating_add(u64::try_from(n).unwrap_or(u64::MAX));
    }

    /// Checks a chunk header's size against the chunk and message limits (RFC 6242 §4.2) and
    /// moves past the header to the chunk data.
    fn start_chunk(
        &mut self,
        buf: &mut BytesMut,
        size: usize,
        header_len: usize,
    ) -> Result<(), DecodeError> {
        if size > self.max_chunk {
            return Err(self.err(DecodeErrorKind::ChunkTooLarge, 2));
        }
        match self.total.checked_add(size) {
            Some(t) if t <= self.max_message => self.total = t,
            _ => return Err(self.err(DecodeErrorKind::MessageTooLarge, 2)),
        }
        self.advance(buf, header_len);
        self.state = ChunkState::Data(size);
        Ok(())
    }

    /// Takes the next complete message body out of `buf`, or `Ok(None)` if more bytes are
    /// needed. After an error the stream cannot be resynchronised: close the session.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, DecodeError> {
        match self.framing {
            Framing::EndOfMessage => self.decode_eom(buf),
            Framing::Chunked => self.decode_chunked(buf),
        }
    }

    fn decode_eom(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, DecodeError> {
        let start = self.scanned.saturating_sub(EOM_MARKER.len() - 1);
        let hay = buf.get(start..).unwrap_or_default();
        if let Some(pos) = find_eom(hay) {
            let len = start.saturating_add(pos);
            if len > self.max_message {
                return Err(self.err(DecodeErrorKind::MessageTooLarge, self.max_message));
            }
            let msg = buf.split_to(len).freeze();
            self.consumed = self
                .consumed
                .saturating_add(u64::try_from(len).unwrap_or(u64::MAX));
            self.advance(buf, EOM_MARKER.len());
            self.scanned = 0;
            return Ok(Some(msg));
        }
        self.scanned = buf.len();
        // The marker may still be split across reads: allow its first 5 bytes past the limit.
        if buf.len() > self.max_message.saturating_add(EOM_MARKER.len() - 1) {
            return Err(self.err(DecodeErrorKind::MessageTooLarge, self.max_message));
        }
        Ok(None)
    }

    fn decode_chunked(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, DecodeError> {
        loop {
            match self.state {
                ChunkState::Header => match parse_chunk_header(buf) {
                    Header::Partial => return Ok(None),
                    Header::Bad(kind, at) => return Err(self.err(kind, at)),
                    Header::End => {
                        // RFC 6242 §4.2: a message has at least one chunk.
                        if self.first.is_none() && self.joined.is_empty() {
                            return Err(self.err(DecodeErrorKind::EmptyMessage, 0));
                        }
                        self.advance(buf, END_OF_CHUNKS.len());
                        let msg = if self.joined.is_empty() {
                            self.first.take().unwrap_or_default()
                        } else {
                            std::mem::take(&mut self.joined).freeze()
                        };
                        self.reset_chunks();
                        return Ok(Some(msg));
                    }
                    Header::Chunk { size, header_len } => {
                        self.start_chunk(buf, size, header_len)?;
                    }
                },
                ChunkState::Data(size) => {
                    if buf.len() < size {
                        return Ok(None);
                    }
                    let chunk = buf.split_to(size);
                    self.consumed = self
                        .consumed
                        .saturating_add(u64::try_from(size).unwrap_or(u64::MAX));
                    match self.first.take() {
                        None if self.joined.is_empty() => self.first = Some(chunk.freeze()),
                        first => {
                            if let Some(first) = first {
                                // Second chunk: the message gets a buffer of its own.
                                self.joined.reserve(first.len().saturating_add(size));
                                self.joined.put_slice(&first);
                            }
                            self.joined.put_slice(&chunk);
                        }
                    }
                    self.state = ChunkState::Header;
                }
            }
        }
    }
}

/// One piece of an in-flight message, from [`Framer::decode_part`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FramePart {
    /// The next bytes of the message body (a zero-copy slice of the read buffer).
    Data(Bytes),
    /// The message ended: the next part belongs to the next message.
    End,
}

impl Framer {
    /// Like [`Framer::decode`], but hands out the body of the message in flight as it
    /// arrives instead of holding it until its end: the data of each chunk (or of each read,
    /// with end-of-message framing, minus the few bytes that may start the marker) leaves as
    /// a zero-copy `split_to(..).freeze()` of `buf`, followed by [`FramePart::End`].
    /// `Ok(None)` means more bytes are needed. The same limits apply: a chunk or message
    /// larger than allowed is an error as soon as its header (or its bytes) are in.
    ///
    /// The two methods may be mixed between messages; switching to `decode_part` in the
    /// middle of a message first hands out what `decode` had already collected.
    pub fn decode_part(&mut self, buf: &mut BytesMut) -> Result<Option<FramePart>, DecodeError> {
        if let Some(first) = self.first.take() {
            return Ok(Some(FramePart::Data(first)));
        }
        if !self.joined.is_empty() {
            return Ok(Some(FramePart::Data(
                std::mem::take(&mut self.joined).freeze(),
            )));
        }
        match self.framing {
            Framing::EndOfMessage => self.part_eom(buf),
            Framing::Chunked => self.part_chunked(buf),
        }
    }

    fn part_eom(&mut self, buf: &mut BytesMut) -> Result<Option<FramePart>, DecodeError> {
        self.scanned = 0;
        let take = match find_eom(buf) {
            Some(0) => {
                self.advance(buf, EOM_MARKER.len());
                self.total = 0;
                return Ok(Some(FramePart::End));
            }
            Some(pos) => pos,
            // the last 5 bytes may be the start of a marker split across reads
            None => buf.len().saturating_sub(EOM_MARKER.len() - 1),
        };
        if take == 0 {
            return Ok(None);
        }
        match self.total.checked_add(take) {
            Some(t) if t <= self.max_message => self.total = t,
            _ => return Err(self.err(DecodeErrorKind::MessageTooLarge, 0)),
        }
        let data = buf.split_to(take).freeze();
        self.consumed = self
            .consumed
            .saturating_add(u64::try_from(take).unwrap_or(u64::MAX));
        Ok(Some(FramePart::Data(data)))
    }

    fn part_chunked(&mut self, buf: &mut BytesMut) -> Result<Option<FramePart>, DecodeError> {
        loop {
            match self.state {
                ChunkState::Header => match parse_chunk_header(buf) {
                    Header::Partial => return Ok(None),
                    Header::Bad(kind, at) => return Err(self.err(kind, at)),
                    Header::End => {
                        // RFC 6242 §4.2: a message has at least one chunk (of size >= 1).
                        if self.total == 0 {
                            return Err(self.err(DecodeErrorKind::EmptyMessage, 0));
                        }
                        self.advance(buf, END_OF_CHUNKS.len());
                        self.reset_chunks();
                        return Ok(Some(FramePart::End));
                    }
                    Header::Chunk { size, header_len } => {
                        self.start_chunk(buf, size, header_len)?;
                    }
                },
                ChunkState::Data(left) => {
                    let take = left.min(buf.len());
                    if take == 0 {
                        return Ok(None);
                    }
                    let data = buf.split_to(take).freeze();
                    self.consumed = self
                        .consumed
                        .saturating_add(u64::try_from(take).unwrap_or(u64::MAX));
                    self.state = match left - take {
                        0 => ChunkState::Header,
                        rest => ChunkState::Data(rest),
                    };
                    return Ok(Some(FramePart::Data(data)));
                }
            }
        }
    }
}

enum Header {
    Partial,
    Bad(DecodeErrorKind, usize),
    End,
    Chunk { size: usize, header_len: usize },
}

/// RFC 6242 §4.2: `LF HASH chunk-size LF` or `LF HASH HASH LF`.
fn parse_chunk_header(buf: &[u8]) -> Header {
    let bad = |at| Header::Bad(DecodeErrorKind::BadChunkHeader, at);
    match buf.first() {
        None => return Header::Partial,
        Some(b'\n') => {}
        Some(_) => return bad(0),
    }
    match buf.get(1) {
        None => return Header::Partial,
        Some(b'#') => {}
        Some(_) => return bad(1),
    }
    match buf.get(2) {
        None => return Header::Partial,
        Some(b'#') => {
            return match buf.get(3) {
                None => Header::Partial,
                Some(b'\n') => Header::End,
                Some(_) => bad(3),
            };
        }
        // chunk-size starts with DIGIT1 (no leading zero)
        Some(b'1'..=b'9') => {}
        Some(b'0') => return Header::Bad(DecodeErrorKind::BadChunkSize, 2),
        Some(_) => return bad(2),
    }
    let mut size: u64 = 0;
    // at most 10 digits (4294967295)
    for i in 2..13 {
        match buf.get(i) {
            None => return Header::Partial,
            Some(b'\n') => {
                return match usize::try_from(size) {
                    Ok(size) => Header::Chunk {
                        size,
                        header_len: i + 1,
                    },
                    Err(_) => Header::Bad(DecodeErrorKind::BadChunkSize, 2),
                };
            }
            Some(&d @ b'0'..=b'9') if i < 12 => {
                size = size * 10 + u64::from(d - b'0');
                if size > MAX_CHUNK_SIZE {
                    return Header::Bad(DecodeErrorKind::BadChunkSize, 2);
                }
            }
            Some(b'0'..=b'9') => return Header::Bad(DecodeErrorKind::BadChunkSize, 2),
            Some(_) => return bad(i),
        }
    }
    Header::Bad(DecodeErrorKind::BadChunkSize, 2)
}

fn find_eom(hay: &[u8]) -> Option<usize> {
    // Every occurrence of the 6-byte marker covers exactly one index i with i % 6 == 5, and
    // that byte is ']' or '>': probe those indexes only, verify around a hit.
    let n = EOM_MARKER.len();
    let mut i = n - 1;
    while let Some(&b) = hay.get(i) {
        if b == b']' || b == b'>' {
            for s in i + 1 - n..=i {
                if hay.get(s..s + n) == Some(EOM_MARKER) {
                    return Some(s);
                }
            }
        }
        i += n;
    }
    None
}

/// Appends `body` in end-of-message framing.
pub fn encode_eom(body: &[u8], out: &mut BytesMut) {
    out.reserve(body.len() + EOM_MARKER.len());
    out.put_slice(body);
    out.put_slice(EOM_MARKER);
}

/// Appends `body` in chunked framing, in chunks of at most `max_chunk` bytes (at least 1,
/// at most 4294967295). An empty body is sent as nothing: RFC 6242 has no empty message.
pub fn encode_chunked(body: &[u8], max_chunk: usize, out: &mut BytesMut) {
    if body.is_empty() {
        return;
    }
    let max_chunk = max_chunk.clamp(1, usize::try_from(MAX_CHUNK_SIZE).unwrap_or(usize::MAX));
    out.reserve(body.len() + 16 + END_OF_CHUNKS.len());
    for chunk in body.chunks(max_chunk) {
        out.put_slice(b"\n#");
        out.put_slice(chunk.len().to_string().as_bytes());
        out.put_u8(b'\n');
        out.put_slice(chunk);
    }
    out.put_slice(END_OF_CHUNKS);
}

/// Appends `body` in the given framing (chunks of up to 64 KiB).
pub fn encode(framing: Framing, body: &[u8], out: &mut BytesMut) {
    match framing {
        Framing::EndOfMessage => encode_eom(body, out),
        Framing::Chunked => encode_chunked(body, 65536, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framer() -> Framer {
        Framer::new(1 << 20, 1 << 20)
    }

    fn all(f: &mut Framer, input: &[u8], step: usize) -> Result<Vec<Bytes>, DecodeError> {
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for part in input.chunks(step.max(1)) {
            buf.extend_from_slice(part);
            while let Some(m) = f.decode(&mut buf)? {
                out.push(m);
            }
        }
        Ok(out)
    }

    #[test]
    fn find_eom_every_position() {
        for len in 0..20 {
            for at in 0..=len {
                let mut hay = vec![b'x'; len];
                hay.splice(at..at, EOM_MARKER.iter().copied());
                assert_eq!(find_eom(&hay), Some(at), "len {len} at {at}");
                hay.truncate(at + 5);
                assert_eq!(find_eom(&hay), None);
            }
        }
        assert_eq!(find_eom(b"]]]>]]>"), Some(1));
        assert_eq!(find_eom(b">]]>]]]>]]>"), Some(5));
    }

    #[test]
    fn eom_every_split() {
        let input = b"<a/>]]>]]><b>]]</b>]]>]]>";
        for step in 1..input.len() {
            let got = all(&mut framer(), input, step).unwrap();
            assert_eq!(got, vec![&b"<a/>"[..], &b"<b>]]</b>"[..]], "step {step}");
        }
    }

    #[test]
    fn chunked_rfc6242_example_every_split() {
        // RFC 6242 §4.2 example
        let input = b"\n#4\n<rpc\n#18\n message-id=\"102\"\n\n#79\n     xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\">\n  <close-session/>\n</rpc>\n##\n";
        let want = b"<rpc message-id=\"102\"\n     xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\">\n  <close-session/>\n</rpc>";
        for step in 1..input.len() {
            let mut f = framer();
            f.set_framing(Framing::Chunked);
            let got = all(&mut f, input, step).unwrap();
            assert_eq!(got, vec![&want[..]], "step {step}");
        }
    }

    fn chunked_err(input: &[u8]) -> DecodeError {
        let mut f = framer();
        f.set_framing(Framing::Chunked);
        all(&mut f, input, input.len()).unwrap_err()
    }

    #[test]
    fn chunked_malformed() {
        use DecodeErrorKind::*;
        assert_eq!(chunked_err(b"x").kind, BadChunkHeader);
        assert_eq!(chunked_err(b"\nx").kind, BadChunkHeader);
        assert_eq!(chunked_err(b"\n#x").kind, BadChunkHeader);
        assert_eq!(chunked_err(b"\n#0\n").kind, BadChunkSize);
        assert_eq!(chunked_err(b"\n#01\n").kind, BadChunkSize);
        assert_eq!(chunked_err(b"\n#4294967296\n").kind, BadChunkSize);
        assert_eq!(chunked_err(b"\n#12345678901\n").kind, BadChunkSize);
        assert_eq!(chunked_err(b"\n#1a\n").kind, BadChunkHeader);
        assert_eq!(chunked_err(b"\n##\n").kind, EmptyMessage);
        assert_eq!(chunked_err(b"\n##x").kind, BadChunkHeader);
        // missing end-of-chunks: the next header is data instead
        let e = chunked_err(b"\n#1\na<rpc/>");
        assert_eq!(e, DecodeError::new(BadChunkHeader, 5));
        assert_eq!(chunked_err(b"\n#4294967295\n").kind, ChunkTooLarge);
    }

    #[test]
    fn limits_before_allocation() {
        let mut f = Framer::new(10, 8);
        f.set_framing(Framing::Chunked);
        let mut buf = BytesMut::from(&b"\n#9\n"[..]);
        assert_eq!(
            f.decode(&mut buf).unwrap_err().kind,
            DecodeErrorKind::ChunkTooLarge
        );
        let mut f = Framer::new(10, 8);
        f.set_framing(Framing::Chunked);
        let mut buf = BytesMut::from(&b"\n#6\nabcdef\n#6\n"[..]);
        assert_eq!(
            f.decode(&mut buf).unwrap_err().kind,
            DecodeErrorKind::MessageTooLarge
        );
        let mut f = Framer::new(4, 8);
        let mut buf = BytesMut::from(&b"abcdefghij"[..]);
        assert_eq!(
            f.decode(&mut buf).unwrap_err().kind,
            DecodeErrorKind::MessageTooLarge
        );
        let mut f = Framer::new(4, 8);
        let mut buf = BytesMut::from(&b"abcd]]>]]"[..]);
        assert_eq!(f.decode(&mut buf).unwrap(), None);
        buf.extend_from_slice(b">");
        assert_eq!(f.decode(&mut buf).unwrap().unwrap(), &b"abcd"[..]);
    }

    /// `decode_part` on every split yields the bodies `decode` yields, piece by piece.
    #[test]
    fn parts_every_split() {
        let chunked = b"\n#4\n<rpc\n#18\n message-id=\"102\"\n\n#3\n/>x\n##\n\n#2\nab\n##\n";
        let eom = b"<a>]]</a>]]>]]><b/>]]>]]>]]>]]>";
        for (framing, input, want) in [
            (
                Framing::Chunked,
                &chunked[..],
                vec![&b"<rpc message-id=\"102\"\n/>x"[..], &b"ab"[..]],
            ),
            (
                Framing::EndOfMessage,
                &eom[..],
                vec![&b"<a>]]</a>"[..], &b"<b/>"[..], &b""[..]],
            ),
        ] {
            for step in 1..=input.len() {
                let mut f = framer();
                f.set_framing(framing);
                let mut buf = BytesMut::new();
                let (mut got, mut cur) = (Vec::new(), Vec::new());
                for part in input.chunks(step) {
                    buf.extend_from_slice(part);
                    while let Some(p) = f.decode_part(&mut buf).unwrap() {
                        match p {
                            FramePart::Data(d) => cur.extend_from_slice(&d),
                            FramePart::End => got.push(std::mem::take(&mut cur)),
                        }
                    }
                }
                assert_eq!(got, want, "{framing:?} step {step}");
            }
        }
        let mut f = Framer::new(10, 8);
        f.set_framing(Framing::Chunked);
        let mut buf = BytesMut::from(&b"\n#6\nabcdef\n#6\n"[..]);
        assert!(matches!(
            f.decode_part(&mut buf),
            Ok(Some(FramePart::Data(_)))
        ));
        assert_eq!(
            f.decode_part(&mut buf).unwrap_err().kind,
            DecodeErrorKind::MessageTooLarge
        );
        // switching from decode to decode_part in the middle of a message
        let mut f = framer();
        f.set_framing(Framing::Chunked);
        let mut buf = BytesMut::from(&b"\n#2\nab\n#2\ncd"[..]);
        assert_eq!(f.decode(&mut buf).unwrap(), None);
        buf.extend_from_slice(b"\n##\n");
        let mut got = Vec::new();
        while let Some(p) = f.decode_part(&mut buf).unwrap() {
            got.push(p);
        }
        assert_eq!(
            got,
            [FramePart::Data(Bytes::from_static(b"abcd")), FramePart::End]
        );
    }

    #[test]
    fn encode_roundtrip() {
        for max in [1, 3, 7, 100] {
            let mut out = BytesMut::new();
            encode_chunked(b"<rpc message-id=\"1\"/>", max, &mut out);
            let mut f = framer();
            f.set_framing(Framing::Chunked);
            assert_eq!(
                f.decode(&mut out).unwrap().unwrap(),
                &b"<rpc message-id=\"1\"/>"[..]
            );
            assert!(out.is_empty());
        }
        let mut out = BytesMut::new();
        encode_chunked(b"ab", 10, &mut out);
        assert_eq!(&out[..], b"\n#2\nab\n##\n");
    }
}
