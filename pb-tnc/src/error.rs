//! Errors: [`DecodeError`] (from `nea-wire`) for bytes that are not a valid batch, [`Error`]
//! for API misuse, and [`pb_error_for`], the one mapping from a decode failure to the
//! PB-Error a receiver sends back.

pub use nea_wire::{DecodeError, DecodeErrorKind};

use crate::registry::BatchType;
use crate::session::State;
use crate::wire::{PbError, Side, VERSION};

/// Misuse of the API by the local caller (peer misbehaviour is never an `Err`: the session
/// answers it on the wire and reports it as an event).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The state machine does not let this side send this batch type now.
    #[error("{batch_type} batch not allowed for the {side:?} in state {state:?}")]
    IllegalBatch {
        /// The batch type asked for.
        batch_type: BatchType,
        /// The local side.
        side: Side,
        /// The current state.
        state: State,
    },
    /// This message is sent only by the other side.
    #[error("{what} is not sent by the {side:?}")]
    WrongSide {
        /// The message.
        what: &'static str,
        /// The local side.
        side: Side,
    },
    /// The session has ended.
    #[error("the session has ended")]
    Closed,
    /// A value the RFC forbids a sender to send.
    #[error("invalid value of {field}")]
    InvalidValue {
        /// The RFC name of the field.
        field: &'static str,
    },
    /// A message or batch whose length does not fit its 32-bit length field.
    #[error("{what} too long for its length field")]
    TooLong {
        /// `"message"` or `"batch"`.
        what: &'static str,
    },
    /// Adding the message would exceed a configured limit.
    #[error("{what} of {size} bytes over the configured limit of {limit}")]
    OverLimit {
        /// `"message"` or `"batch"`.
        what: &'static str,
        /// The size it would have.
        size: usize,
        /// The limit.
        limit: usize,
    },
}

/// The PB-Error a receiver answers a decode failure with (RFC 5793 §4, §4.1, §4.9):
/// an unsupported version gets Version Not Supported (max = min = 2), a message over the
/// configured size gets Local Error, anything else a fatal Invalid Parameter whose offset is
/// the error's offset (which must be relative to the batch start).
pub fn pb_error_for(e: &DecodeError) -> PbError {
    match e.kind {
        DecodeErrorKind::UnsupportedVersion { version } => {
            PbError::version_not_supported(version, VERSION, VERSION)
        }
        DecodeErrorKind::TooLarge { .. } => PbError::local_error(),
        _ => PbError::invalid_parameter(u32::try_from(e.offset).unwrap_or(u32::MAX)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::ErrorCode;

    #[test]
    fn mapping_code_by_code() {
        let e = pb_error_for(&DecodeError::new(
            DecodeErrorKind::UnsupportedVersion { version: 3 },
            0,
        ));
        assert_eq!(e, PbError::version_not_supported(3, 2, 2));
        let e = pb_error_for(&DecodeError::new(
            DecodeErrorKind::TooLarge {
                length: 10,
                limit: 5,
            },
            16,
        ));
        assert_eq!(e.code, ErrorCode::LOCAL_ERROR);
        for kind in [
            DecodeErrorKind::ReservedVendor,
            DecodeErrorKind::ReservedType,
            DecodeErrorKind::InvalidUtf8,
            DecodeErrorKind::ContainsNul,
            DecodeErrorKind::UnexpectedEnd { needed: 1 },
            DecodeErrorKind::InvalidValue { field: "NOSKIP" },
        ] {
            let e = pb_error_for(&DecodeError::new(kind, 42));
            assert_eq!(e, PbError::invalid_parameter(42));
            assert!(e.fatal);
        }
    }
}
