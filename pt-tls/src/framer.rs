//! The stream framer: cuts PT-TLS messages out of the TLS plaintext, whatever the split.

use bytes::{Bytes, BytesMut};
use nea_wire::{DecodeError, DecodeErrorKind};

use crate::wire::{HEADER_LEN, Message};

/// Cuts complete PT-TLS messages out of a byte stream.
///
/// The Message Length is checked as soon as the 16-byte header is in: below 16 or above the
/// configured maximum is an error before any byte of the value is buffered, so a peer that
/// announces 4 GiB costs nothing. Error offsets are absolute stream offsets.
#[derive(Debug, Clone)]
pub struct Framer {
    max_message_len: u32,
    consumed: usize,
}

impl Framer {
    /// A framer accepting messages up to `max_message_len` bytes (header included).
    pub fn new(max_message_len: u32) -> Self {
        Self {
            max_message_len,
            consumed: 0,
        }
    }

    /// Stream offset of the next message's first byte.
    pub fn offset(&self) -> usize {
        self.consumed
    }

    /// The Message Length announced by the header at the front of `buf`, once 16 bytes are in.
    fn announced(buf: &[u8]) -> Option<u32> {
        let len: [u8; 4] = buf.get(8..12)?.try_into().ok()?;
        (buf.len() >= HEADER_LEN).then(|| u32::from_be_bytes(len))
    }

    /// Takes the next complete message out of `buf` as raw bytes (header included).
    ///
    /// `Ok(None)` means "need more bytes". A header error leaves `buf` untouched (the stream
    /// cannot be resynchronised; the session closes).
    pub fn decode_frame(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, DecodeError> {
        let Some(length) = Self::announced(buf) else {
            return Ok(None);
        };
        let len_at = self.consumed.saturating_add(8);
        if u64::from(length) < HEADER_LEN as u64 {
            // RFC 6876 §3.5: Length below 16 → Invalid Parameter.
            return Err(DecodeError::new(
                DecodeErrorKind::LengthTooShort {
                    length: u64::from(length),
                    min: HEADER_LEN as u64,
                },
                len_at,
            ));
        }
        if length > self.max_message_len {
            // Checked on the header, before buffering the value.
            return Err(DecodeError::new(
                DecodeErrorKind::TooLarge {
                    length: u64::from(length),
                    limit: u64::from(self.max_message_len),
                },
                len_at,
            ));
        }
        let Ok(length) = usize::try_from(length) else {
            return Err(DecodeError::new(
                DecodeErrorKind::TooLarge {
                    length: u64::from(length),
                    limit: usize::MAX as u64,
                },
                len_at,
            ));
        };
        if buf.len() < length {
            return Ok(None);
        }
        self.consumed = self.consumed.saturating_add(length);
        Ok(Some(buf.split_to(length).freeze()))
    }

    /// Takes the next complete message out of `buf` and decodes it.
    ///
    /// `Ok(None)` means "need more bytes". A message whose value fails to decode is consumed
    /// (its error offset lies inside it).
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Message>, DecodeError> {
        let at = self.consumed;
        match self.decode_frame(buf)? {
            None => Ok(None),
            Some(frame) => Message::decode_at(frame, at).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Body, VersionRequest};

    #[test]
    fn every_split() {
        let a = Message::new(0, Body::VersionRequest(VersionRequest::V1)).to_bytes();
        let b = Message::new(1, Body::PbTncBatch(Bytes::from_static(b"batch"))).to_bytes();
        let stream = [&a[..], &b[..]].concat();
        for cut in 0..=stream.len() {
            let mut f = Framer::new(1024);
            let mut buf = BytesMut::from(&stream[..cut]);
            let mut out = Vec::new();
            while let Some(m) = f.decode(&mut buf).unwrap() {
                out.push(m);
            }
            buf.extend_from_slice(&stream[cut..]);
            while let Some(m) = f.decode(&mut buf).unwrap() {
                out.push(m);
            }
            assert_eq!(out.len(), 2, "cut {cut}");
            assert_eq!(f.offset(), stream.len());
            assert!(buf.is_empty());
        }
    }

    #[test]
    fn four_gib_refused_on_header() {
        let mut f = Framer::new(1 << 20);
        let mut buf = BytesMut::from(&[0u8, 0, 0, 0, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xff][..]);
        assert_eq!(f.decode(&mut buf), Ok(None));
        buf.extend_from_slice(&[0, 0, 0, 0]);
        let e = f.decode(&mut buf).unwrap_err();
        assert_eq!(e.offset, 8);
        assert_eq!(
            e.kind,
            DecodeErrorKind::TooLarge {
                length: u64::from(u32::MAX),
                limit: 1 << 20
            }
        );
        assert_eq!(buf.len(), 16);
        assert!(buf.capacity() < 1024);
    }

    #[test]
    fn short_length() {
        let mut f = Framer::new(1024);
        let mut buf = BytesMut::from(&[0u8, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 8, 0, 0, 0, 0][..]);
        let e = f.decode(&mut buf).unwrap_err();
        assert!(matches!(
            e.kind,
            DecodeErrorKind::LengthTooShort { length: 8, .. }
        ));
    }
}
