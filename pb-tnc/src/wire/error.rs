//! PB-Error (RFC 5793 §4.9, §4.9.1, §4.9.2).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Flags     |                 Error Code Vendor ID          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           Error Code          |           Reserved            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |              Error Parameters (Variable Length)               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Error Parameters: Invalid Parameter and Unsupported Mandatory Message carry `Offset(4)`;
//! Version Not Supported carries `Bad Version(1) | Max Version(1) | Min Version(1) |
//! Reserved(1)`; the others carry nothing. strongSwan appends a 4-byte offset to every code
//! but Version Not Supported; decode keeps it ([`ErrorParameters::Offset`]), the constructors
//! here build the RFC form.

use bytes::{BufMut, Bytes, BytesMut};
use nea_wire::{DecodeError, Reader, VendorId};

use crate::Error;
use crate::registry::ErrorCode;

/// FATAL flag.
const FATAL: u8 = 0x80;

/// The Error Parameters of a PB-Error.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ErrorParameters {
    /// No parameters (0 bytes).
    None,
    /// `Offset(4)`: from the start of the batch to the offending value or message.
    Offset(u32),
    /// Version Not Supported's versions.
    Version {
        /// Bad Version: the version received.
        bad: u8,
        /// Max Version the sender supports.
        max: u8,
        /// Min Version the sender supports.
        min: u8,
    },
    /// Anything else, raw (non-empty).
    Raw(Bytes),
}

impl ErrorParameters {
    fn len(&self) -> usize {
        match self {
            Self::None => 0,
            Self::Offset(_) | Self::Version { .. } => 4,
            Self::Raw(b) => b.len(),
        }
    }
}

/// PB-Error (RFC 5793 §4.9).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PbError {
    /// FATAL flag: the session ends after this batch.
    pub fatal: bool,
    /// Error Code Vendor ID.
    pub vendor: VendorId,
    /// Error Code.
    pub code: ErrorCode,
    /// Error Parameters.
    pub parameters: ErrorParameters,
}

impl PbError {
    const fn ietf(code: ErrorCode, parameters: ErrorParameters) -> Self {
        Self {
            fatal: true,
            vendor: VendorId::IETF,
            code,
            parameters,
        }
    }

    /// Fatal Unexpected Batch Type (§4.9.1: FATAL MUST be set).
    pub const fn unexpected_batch_type() -> Self {
        Self::ietf(ErrorCode::UNEXPECTED_BATCH_TYPE, ErrorParameters::None)
    }

    /// Fatal Invalid Parameter at `offset` from the batch start.
    pub const fn invalid_parameter(offset: u32) -> Self {
        Self::ietf(
            ErrorCode::INVALID_PARAMETER,
            ErrorParameters::Offset(offset),
        )
    }

    /// Fatal Local Error (§4.9.1: FATAL MUST be set).
    pub const fn local_error() -> Self {
        Self::ietf(ErrorCode::LOCAL_ERROR, ErrorParameters::None)
    }

    /// Fatal Unsupported Mandatory Message at the message `offset` (FATAL MUST be set).
    pub const fn unsupported_mandatory_message(offset: u32) -> Self {
        Self::ietf(
            ErrorCode::UNSUPPORTED_MANDATORY_MESSAGE,
            ErrorParameters::Offset(offset),
        )
    }

    /// Fatal Version Not Supported for `bad`, supporting `min..=max`.
    pub const fn version_not_supported(bad: u8, max: u8, min: u8) -> Self {
        Self::ietf(
            ErrorCode::VERSION_NOT_SUPPORTED,
            ErrorParameters::Version { bad, max, min },
        )
    }

    /// The offset parameter of Invalid Parameter / Unsupported Mandatory Message (or
    /// strongSwan's extra one), if any.
    pub fn offset(&self) -> Option<u32> {
        match self.parameters {
            ErrorParameters::Offset(o) => Some(o),
            _ => None,
        }
    }

    pub(crate) fn value_len(&self) -> usize {
        8usize.saturating_add(self.parameters.len())
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.vendor.is_reserved() {
            return Err(Error::InvalidValue {
                field: "Error Code Vendor ID",
            });
        }
        if self.vendor == VendorId::IETF {
            let fatal_required = self.code != ErrorCode::INVALID_PARAMETER;
            // RFC 5793 §4.9.1: FATAL MUST be set for codes 0, 2, 3 and 4.
            if fatal_required && self.code.get() <= 4 && !self.fatal {
                return Err(Error::InvalidValue { field: "FATAL" });
            }
        }
        if matches!(&self.parameters, ErrorParameters::Raw(b) if b.is_empty()) {
            return Err(Error::InvalidValue {
                field: "Error Parameters",
            });
        }
        Ok(())
    }

    pub(crate) fn encode_value(&self, out: &mut BytesMut) {
        out.put_u8(if self.fatal { FATAL } else { 0 });
        nea_wire::put_u24(out, self.vendor.get());
        out.put_u16(self.code.get());
        out.put_u16(0);
        match &self.parameters {
            ErrorParameters::None => {}
            ErrorParameters::Offset(o) => out.put_u32(*o),
            ErrorParameters::Version { bad, max, min } => out.put_slice(&[*bad, *max, *min, 0]),
            ErrorParameters::Raw(b) => out.put_slice(b),
        }
    }

    pub(crate) fn decode_value(mut r: Reader, at: usize) -> Result<Self, DecodeError> {
        // RFC 5793 §4.9: Length below 20 is a fatal Invalid Parameter.
        super::min_len(r.remaining() + super::MESSAGE_HEADER_LEN, at, 20)?;
        let flags = r.u8()?;
        let vendor = VendorId::from_u24(r.u24()?);
        let code = ErrorCode(r.u16()?);
        let _reserved = r.u16()?;
        let rest = r.rest();
        let parameters = match (vendor, code.get(), rest.len()) {
            (_, _, 0) => ErrorParameters::None,
            (VendorId::IETF, 4, 4) => ErrorParameters::Version {
                bad: rest.first().copied().unwrap_or(0),
                max: rest.get(1).copied().unwrap_or(0),
                min: rest.get(2).copied().unwrap_or(0),
            },
            // Codes 1 and 3 carry an offset; strongSwan adds one to 0 and 2 as well.
            (VendorId::IETF, 0..=3, 4) => {
                let mut p = Reader::new(rest, 0);
                ErrorParameters::Offset(p.u32()?)
            }
            _ => ErrorParameters::Raw(rest),
        };
        Ok(Self {
            fatal: flags & FATAL != 0,
            vendor,
            code,
            parameters,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::BatchType;
    use crate::wire::{Batch, Message, Side};
    use nea_wire::DecodeErrorKind;

    fn close_with(e: PbError) -> Bytes {
        Batch::new(Side::Server, BatchType::Close, vec![Message::Error(e)])
            .unwrap()
            .to_bytes()
    }

    #[test]
    fn every_code_exact_bytes() {
        let hdr = [0x80, 0, 0, 0, 0, 0, 0, 5];
        let cases: Vec<(PbError, Vec<u8>)> = vec![
            (
                PbError::unexpected_batch_type(),
                vec![0, 0, 0, 20, 0x80, 0, 0, 0, 0, 0, 0, 0],
            ),
            (
                PbError::invalid_parameter(4),
                vec![0, 0, 0, 24, 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 4],
            ),
            (
                PbError::local_error(),
                vec![0, 0, 0, 20, 0x80, 0, 0, 0, 0, 2, 0, 0],
            ),
            (
                PbError::unsupported_mandatory_message(88),
                vec![0, 0, 0, 24, 0x80, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 88],
            ),
            (
                PbError::version_not_supported(3, 2, 2),
                vec![0, 0, 0, 24, 0x80, 0, 0, 0, 0, 4, 0, 0, 3, 2, 2, 0],
            ),
        ];
        for (err, tail) in cases {
            let bytes = close_with(err.clone());
            assert_eq!(&bytes[8..16], &hdr);
            assert_eq!(&bytes[16..], &tail[..], "{err:?}");
            let back = Batch::decode(bytes).unwrap();
            assert_eq!(back.messages(), &[Message::Error(err)]);
        }
    }

    #[test]
    fn strongswan_extra_offset_and_unknown_codes() {
        // strongSwan: Unexpected Batch Type with a 4-byte offset 0.
        let wire = Bytes::from_static(&[
            2, 0x80, 0, 6, 0, 0, 0, 32, 0x80, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 24, 0x80, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0,
        ]);
        let b = Batch::decode(wire.clone()).unwrap();
        let Message::Error(e) = &b.messages()[0] else {
            panic!()
        };
        assert_eq!(e.code, ErrorCode::UNEXPECTED_BATCH_TYPE);
        assert_eq!(e.offset(), Some(0));
        assert_eq!(b.to_bytes(), wire);
        // non-fatal vendor code with raw parameters
        let e = PbError {
            fatal: false,
            vendor: VendorId::ITA,
            code: ErrorCode(77),
            parameters: ErrorParameters::Raw(Bytes::from_static(&[1, 2, 3])),
        };
        let bytes = close_with(e.clone());
        assert_eq!(
            Batch::decode(bytes).unwrap().messages(),
            &[Message::Error(e)]
        );
    }

    #[test]
    fn negative() {
        // RFC 5793 §4.9: Length < 20
        let wire = Bytes::from_static(&[
            2, 0x80, 0, 6, 0, 0, 0, 27, 0x80, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 19, 0x80, 0, 0, 0, 0,
            2, 0,
        ]);
        let e = Batch::decode(wire).unwrap_err();
        assert_eq!(e.offset, 16);
        assert!(matches!(e.kind, DecodeErrorKind::LengthTooShort { .. }));
        // NOSKIP clear on PB-Error
        let wire = Bytes::from_static(&[
            2, 0x80, 0, 6, 0, 0, 0, 28, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 20, 0x80, 0, 0, 0, 0, 2,
            0, 0,
        ]);
        assert_eq!(Batch::decode(wire).unwrap_err().offset, 8);
        let mut e = PbError::local_error();
        e.fatal = false;
        assert!(e.validate().is_err());
        let mut e = PbError::invalid_parameter(1);
        e.fatal = false;
        assert!(e.validate().is_ok());
    }
}
