//! A bounded cursor over `Bytes`.

use bytes::{BufMut, Bytes};

use crate::{DecodeError, DecodeErrorKind, Text};

/// A cursor over one complete unit of input.
///
/// Every read is bounds-checked and fails with [`DecodeErrorKind::UnexpectedEnd`] at the
/// absolute offset of the field. `take` returns a zero-copy slice of the input.
#[derive(Debug, Clone)]
pub struct Reader {
    buf: Bytes,
    pos: usize,
    base: usize,
}

impl Reader {
    /// A reader over `buf`, whose first byte sits at absolute offset `base`.
    pub fn new(buf: Bytes, base: usize) -> Self {
        Self { buf, pos: 0, base }
    }

    /// Absolute offset of the next byte to read.
    pub fn offset(&self) -> usize {
        self.base.saturating_add(self.pos)
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// Whether everything has been read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// An error of `kind` at the current offset.
    pub fn error(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError::new(kind, self.offset())
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let end = self.pos.checked_add(N);
        match end.and_then(|end| self.buf.get(self.pos..end)) {
            Some(s) => {
                let mut out = [0u8; N];
                out.copy_from_slice(s);
                self.pos += N;
                Ok(out)
            }
            None => Err(self.error(DecodeErrorKind::UnexpectedEnd {
                needed: N - self.remaining(),
            })),
        }
    }

    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    /// Reads a big-endian `u16`.
    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// Reads a big-endian 24-bit value.
    pub fn u24(&mut self) -> Result<u32, DecodeError> {
        let [a, b, c] = self.array()?;
        Ok(u32::from_be_bytes([0, a, b, c]))
    }

    /// Reads a big-endian `u32`.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// Reads `N` bytes into an array.
    pub fn bytes<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        self.array()
    }

    /// Takes the next `len` bytes as a slice of the input (no copy).
    pub fn take(&mut self, len: usize) -> Result<Bytes, DecodeError> {
        if len > self.remaining() {
            return Err(self.error(DecodeErrorKind::UnexpectedEnd {
                needed: len - self.remaining(),
            }));
        }
        let out = self.buf.slice(self.pos..self.pos + len);
        self.pos += len;
        Ok(out)
    }

    /// Takes everything left.
    pub fn rest(&mut self) -> Bytes {
        let out = self.buf.slice(self.pos.min(self.buf.len())..);
        self.pos = self.buf.len();
        out
    }

    /// Takes `len` bytes as UTF-8 text; `InvalidUtf8` at the text's offset otherwise.
    pub fn text(&mut self, len: usize) -> Result<Text, DecodeError> {
        let at = self.offset();
        let raw = self.take(len)?;
        Text::from_bytes(raw).map_err(|_| DecodeError::new(DecodeErrorKind::InvalidUtf8, at))
    }

    /// Like [`Reader::text`], and also rejects a NUL character.
    pub fn text_no_nul(&mut self, len: usize) -> Result<Text, DecodeError> {
        let at = self.offset();
        let t = self.text(len)?;
        if t.contains_nul() {
            return Err(DecodeError::new(DecodeErrorKind::ContainsNul, at));
        }
        Ok(t)
    }

    /// A sub-reader over the next `len` bytes, keeping absolute offsets.
    pub fn sub(&mut self, len: usize) -> Result<Reader, DecodeError> {
        let base = self.offset();
        let buf = self.take(len)?;
        Ok(Reader::new(buf, base))
    }

    /// Succeeds only if everything was read; otherwise `TrailingBytes` at the first extra byte.
    pub fn finish(self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(self.error(DecodeErrorKind::TrailingBytes { count })),
        }
    }
}

/// Writes the low 24 bits of `v` big-endian.
pub fn put_u24(out: &mut impl BufMut, v: u32) {
    let [_, a, b, c] = v.to_be_bytes();
    out.put_slice(&[a, b, c]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_offsets() {
        let mut r = Reader::new(Bytes::from_static(&[1, 0, 2, 0, 0, 3, 0, 0, 0, 4, 9]), 100);
        assert_eq!(r.u8().unwrap(), 1);
        assert_eq!(r.u16().unwrap(), 2);
        assert_eq!(r.u24().unwrap(), 3);
        assert_eq!(r.u32().unwrap(), 4);
        assert_eq!(r.offset(), 110);
        let e = r.clone().u16().unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::UnexpectedEnd { needed: 1 });
        assert_eq!(e.offset, 110);
        let e = r.clone().finish().unwrap_err();
        assert_eq!(
            e,
            DecodeError::new(DecodeErrorKind::TrailingBytes { count: 1 }, 110)
        );
        assert_eq!(&r.take(1).unwrap()[..], &[9]);
        assert!(r.take(1).is_err());
        r.finish().unwrap();
    }

    #[test]
    fn text_checks() {
        let mut r = Reader::new(Bytes::from_static(b"ok\xff\xfea\0b"), 0);
        assert_eq!(r.text(2).unwrap(), "ok");
        assert_eq!(r.text(2).unwrap_err().kind, DecodeErrorKind::InvalidUtf8);
        let e = r.text_no_nul(3).unwrap_err();
        assert_eq!(e, DecodeError::new(DecodeErrorKind::ContainsNul, 4));
    }

    #[test]
    fn u24_roundtrip() {
        let mut v = Vec::new();
        put_u24(&mut v, 0x00abcdef);
        assert_eq!(v, [0xab, 0xcd, 0xef]);
    }
}
