//! PT-TLS Error (RFC 6876 §3.9).

use bytes::{BufMut, Bytes, BytesMut};
use nea_wire::{DecodeError, Reader, VendorId, put_u24};

use super::MessageHeader;
use crate::registry::ErrorCode;

/// Most bytes of the offending message a PT-TLS Error carries (RFC 6876 §3.9).
pub const MAX_ORIGINAL_COPY: usize = 1024;

/// PT-TLS Error (RFC 6876 §3.9): an error code and a copy of the offending message.
///
/// ```text
/// +---------------+-----------------------------------------------+
/// |    Reserved   |               Error Code Vendor ID            |
/// +---------------+-----------------------------------------------+
/// |                            Error Code                         |
/// +---------------------------------------------------------------+
/// |              Copy of Original Message (Variable Length)       |
/// +---------------------------------------------------------------+
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PtTlsError {
    /// Error Code Vendor ID (0 = IETF).
    pub vendor: VendorId,
    /// Error Code.
    pub code: ErrorCode,
    /// Copy of Original Message: at most 1024 bytes when built here; kept as received.
    pub original: Bytes,
}

impl PtTlsError {
    /// An error with a copy of `original` cut to its first 1024 bytes.
    pub fn new(vendor: VendorId, code: ErrorCode, mut original: Bytes) -> Self {
        // RFC 6876 §3.9: the copy MUST hold at most the first 1024 bytes of the message.
        original.truncate(MAX_ORIGINAL_COPY);
        Self {
            vendor,
            code,
            original,
        }
    }

    /// An IETF error code with a copy of `original` (cut to 1024 bytes).
    pub fn ietf(code: ErrorCode, original: Bytes) -> Self {
        Self::new(VendorId::IETF, code, original)
    }

    /// Whether this is an IETF code that RFC 6876 §3.9 makes fatal.
    pub fn is_fatal(&self) -> bool {
        self.vendor == VendorId::IETF && self.code.is_fatal()
    }

    /// The header of the offending message, when the copy holds at least 16 bytes.
    pub fn original_header(&self) -> Option<MessageHeader> {
        let mut r = Reader::new(self.original.clone(), 0);
        MessageHeader::read(&mut r).ok()
    }

    /// The Message Identifier of the offending message, which tells which message failed.
    pub fn original_identifier(&self) -> Option<u32> {
        self.original_header().map(|h| h.identifier)
    }

    pub(crate) fn encoded_len(&self) -> usize {
        8 + self.original.len()
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        let _reserved = r.u8()?;
        let vendor = VendorId::from_u24(r.u24()?);
        let code = ErrorCode(r.u32()?);
        Ok(Self {
            vendor,
            code,
            original: r.rest(),
        })
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        out.put_u8(0);
        put_u24(out, self.vendor.get());
        out.put_u32(self.code.0);
        out.put_slice(&self.original);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_is_cut_to_1024() {
        let e = PtTlsError::ietf(ErrorCode::INVALID_PARAMETER, Bytes::from(vec![7u8; 5000]));
        assert_eq!(e.original.len(), 1024);
        assert_eq!(e.encoded_len(), 1032);
        assert!(e.is_fatal());
        let e = PtTlsError::ietf(ErrorCode::TYPE_NOT_SUPPORTED, Bytes::from_static(&[1; 3]));
        assert_eq!(e.original.len(), 3);
        assert!(!e.is_fatal());
        assert_eq!(e.original_identifier(), None);
        let vendor = PtTlsError::new(VendorId::ITA, ErrorCode(4), Bytes::new());
        assert!(!vendor.is_fatal());
    }

    #[test]
    fn original_identifier() {
        let e = PtTlsError::ietf(
            ErrorCode::INVALID_MESSAGE,
            Bytes::from_static(&[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 20, 0, 0, 0, 42, 0, 1]),
        );
        assert_eq!(e.original_identifier(), Some(42));
        assert_eq!(e.original_header().unwrap().message_type, 1);
    }
}
