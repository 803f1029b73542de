//! The `Flags | Vendor ID | Type | Length` header shared by PB-TNC messages, PA-TNC attributes
//! and (followed by a message identifier) PT-TLS messages, and the walk over a run of them.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Flags     |               Vendor ID                       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                              Type                             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                 Length (including this header)                |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                 Value (Length - 12 octets) ...
//! ```

use bytes::{BufMut, Bytes};

use crate::{DecodeError, DecodeErrorKind, Reader, VendorId, put_u24};

/// Size of the shared header.
pub const TLV_HEADER_LEN: usize = 12;

/// The NOSKIP flag bit (PB-TNC messages, PA-TNC attributes).
pub const NOSKIP: u8 = 0x80;

/// The 12-byte header of a PB-TNC message or PA-TNC attribute (in PT-TLS the flags byte is
/// the reserved byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TlvHeader {
    /// The flags byte as received (NOSKIP is `0x80`).
    pub flags: u8,
    /// The vendor ID qualifying `kind`.
    pub vendor: VendorId,
    /// The 32-bit type.
    pub kind: u32,
    /// The length field, header included.
    pub length: u32,
}

impl TlvHeader {
    /// Whether NOSKIP is set.
    pub const fn noskip(&self) -> bool {
        self.flags & NOSKIP != 0
    }

    /// Reads the 12 bytes without judging them.
    pub fn read(r: &mut Reader) -> Result<Self, DecodeError> {
        let flags = r.u8()?;
        let vendor = VendorId::from_u24(r.u24()?);
        let kind = r.u32()?;
        let length = r.u32()?;
        Ok(Self {
            flags,
            vendor,
            kind,
            length,
        })
    }

    /// Writes the 12 bytes.
    pub fn write(&self, out: &mut impl BufMut) {
        out.put_u8(self.flags);
        put_u24(out, self.vendor.get());
        out.put_u32(self.kind);
        out.put_u32(self.length);
    }

    /// The reserved-value checks every layer applies: vendor `0xffffff` (error at `at + 1`)
    /// and type `0xffffffff` (error at `at + 4`), where `at` is the header's offset.
    pub fn check_reserved(&self, at: usize) -> Result<(), DecodeError> {
        if self.vendor.is_reserved() {
            return Err(DecodeError::new(DecodeErrorKind::ReservedVendor, at + 1));
        }
        if self.kind == u32::MAX {
            return Err(DecodeError::new(DecodeErrorKind::ReservedType, at + 4));
        }
        Ok(())
    }
}

/// One item of a TLV run: its header, where it starts, and its value (a slice of the input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlv {
    /// The header as received.
    pub header: TlvHeader,
    /// Absolute offset of the header's first byte.
    pub offset: usize,
    /// The value, `length - 12` bytes, borrowed from the input.
    pub value: Bytes,
}

impl Tlv {
    /// Absolute offset of the value's first byte.
    pub fn value_offset(&self) -> usize {
        self.offset + TLV_HEADER_LEN
    }
}

/// Walks a run of TLVs filling a buffer exactly.
///
/// Yields `Err` once (and then stops) on a header that cannot be read, a Length below 12
/// (error at the length field, `offset + 8`) or a Length that overruns the buffer (also at
/// `offset + 8`). Reserved vendor/type values are not judged here (see
/// [`TlvHeader::check_reserved`]) because each layer answers them differently.
#[derive(Debug, Clone)]
pub struct TlvIter {
    r: Reader,
    done: bool,
}

impl TlvIter {
    /// Walks `buf`, whose first byte is at absolute offset `base`.
    pub fn new(buf: Bytes, base: usize) -> Self {
        Self {
            r: Reader::new(buf, base),
            done: false,
        }
    }

    fn next_item(&mut self) -> Result<Tlv, DecodeError> {
        let offset = self.r.offset();
        let available = self.r.remaining();
        let header = TlvHeader::read(&mut self.r)?;
        let length = u64::from(header.length);
        if length < TLV_HEADER_LEN as u64 {
            return Err(DecodeError::new(
                DecodeErrorKind::LengthTooShort {
                    length,
                    min: TLV_HEADER_LEN as u64,
                },
                offset + 8,
            ));
        }
        if length > available as u64 {
            return Err(DecodeError::new(
                DecodeErrorKind::LengthOverrun {
                    length,
                    available: available as u64,
                },
                offset + 8,
            ));
        }
        // length <= available <= usize::MAX, so the conversion cannot fail.
        let value_len = usize::try_from(length).unwrap_or(usize::MAX) - TLV_HEADER_LEN;
        let value = self.r.take(value_len)?;
        Ok(Tlv {
            header,
            offset,
            value,
        })
    }
}

impl Iterator for TlvIter {
    type Item = Result<Tlv, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.r.is_empty() {
            return None;
        }
        let item = self.next_item();
        if item.is_err() {
            self.done = true;
        }
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_and_errors() {
        let wire = Bytes::from_static(&[
            0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 13, 0xaa, // one item with 1 value byte
            0x00, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 11, // length 11 < 12
        ]);
        let mut it = TlvIter::new(wire, 8);
        let first = it.next().unwrap().unwrap();
        assert!(first.header.noskip());
        assert_eq!(first.offset, 8);
        assert_eq!(first.value_offset(), 20);
        assert_eq!(&first.value[..], &[0xaa]);
        let e = it.next().unwrap().unwrap_err();
        assert_eq!(e.offset, 8 + 13 + 8);
        assert!(matches!(
            e.kind,
            DecodeErrorKind::LengthTooShort { length: 11, .. }
        ));
        assert!(it.next().is_none());
    }

    #[test]
    fn overrun_and_truncated_header() {
        let wire = Bytes::from_static(&[0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]);
        let e = TlvIter::new(wire, 0).next().unwrap().unwrap_err();
        assert_eq!(e.offset, 8);
        assert!(matches!(e.kind, DecodeErrorKind::LengthOverrun { .. }));
        let e = TlvIter::new(Bytes::from_static(&[0, 0, 0]), 0)
            .next()
            .unwrap()
            .unwrap_err();
        assert!(matches!(e.kind, DecodeErrorKind::UnexpectedEnd { .. }));
    }

    #[test]
    fn reserved_checks() {
        let h = TlvHeader {
            flags: 0,
            vendor: VendorId::RESERVED,
            kind: 0,
            length: 12,
        };
        assert_eq!(h.check_reserved(10).unwrap_err().offset, 11);
        let h = TlvHeader {
            vendor: VendorId::IETF,
            kind: u32::MAX,
            ..h
        };
        assert_eq!(
            h.check_reserved(10).unwrap_err(),
            DecodeError::new(DecodeErrorKind::ReservedType, 14)
        );
        let mut out = Vec::new();
        h.write(&mut out);
        assert_eq!(out, [0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 12]);
    }
}
