//! Errors: decode failures (shared `nea_wire` type), API misuse, and the mapping from a decode
//! failure to the PT-TLS Error code sent in reply.

pub use nea_wire::{DecodeError, DecodeErrorKind};

use crate::registry::ErrorCode;
use crate::wire::HEADER_LEN;

/// Misuse of the [`crate::Session`] API by the local caller (never caused by the peer).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// PB-TNC batches may only be sent in the Data Transport phase (RFC 6876 §3.6).
    #[error("not in the data transport phase")]
    NotInDataTransport,
    /// The session is closed.
    #[error("session closed")]
    Closed,
    /// The value does not fit a PT-TLS message (32-bit Length, header included).
    #[error("value of {len} bytes does not fit a pt-tls message")]
    TooLarge {
        /// The value's length.
        len: usize,
    },
}

/// The PT-TLS Error code that answers `err`, raised while decoding a message that starts at
/// absolute offset `message_offset`.
///
/// A fault inside the 16-byte header (Length below 16, over the configured limit, different
/// from a fixed-size type's, reserved vendor or type) is Invalid Parameter (RFC 6876 §3.5,
/// §3.9); a fault in the value is Malformed Message (§3.9, code 1).
pub fn error_code_for(err: &DecodeError, message_offset: usize) -> ErrorCode {
    let in_header = err
        .offset
        .checked_sub(message_offset)
        .is_some_and(|o| o < HEADER_LEN);
    if in_header || matches!(err.kind, DecodeErrorKind::TooLarge { .. }) {
        ErrorCode::INVALID_PARAMETER
    } else {
        ErrorCode::MALFORMED_MESSAGE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_code_by_code() {
        let at = |kind, offset| DecodeError::new(kind, offset);
        let k = DecodeErrorKind::LengthTooShort { length: 3, min: 16 };
        assert_eq!(
            error_code_for(&at(k, 108), 100),
            ErrorCode::INVALID_PARAMETER
        );
        let k = DecodeErrorKind::TooLarge {
            length: 1 << 32,
            limit: 10,
        };
        assert_eq!(error_code_for(&at(k, 8), 0), ErrorCode::INVALID_PARAMETER);
        assert_eq!(
            error_code_for(&at(DecodeErrorKind::ReservedVendor, 1), 0),
            ErrorCode::INVALID_PARAMETER
        );
        assert_eq!(
            error_code_for(&at(DecodeErrorKind::ReservedType, 4), 0),
            ErrorCode::INVALID_PARAMETER
        );
        let k = DecodeErrorKind::InvalidValue { field: "Mech Len" };
        assert_eq!(error_code_for(&at(k, 16), 0), ErrorCode::MALFORMED_MESSAGE);
        let k = DecodeErrorKind::UnexpectedEnd { needed: 2 };
        assert_eq!(error_code_for(&at(k, 17), 0), ErrorCode::MALFORMED_MESSAGE);
        assert_eq!(
            Error::TooLarge { len: 5 }.to_string(),
            "value of 5 bytes does not fit a pt-tls message"
        );
    }
}
