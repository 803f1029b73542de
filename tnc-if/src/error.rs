//! `TNC_Result` codes and the typed error of every IF-IMC / IF-IMV call.

nea_wire::registry! {
    /// A `TNC_Result` value (IF-IMC 1.3 / IF-IMV 1.4; the `0x005597xx` codes are TCG's).
    ResultCode(u32) {
        /// TNC_RESULT_SUCCESS.
        SUCCESS = 0 => "success",
        /// TNC_RESULT_NOT_INITIALIZED.
        NOT_INITIALIZED = 1 => "not initialized",
        /// TNC_RESULT_ALREADY_INITIALIZED.
        ALREADY_INITIALIZED = 2 => "already initialized",
        /// TNC_RESULT_NO_COMMON_VERSION.
        NO_COMMON_VERSION = 3 => "no common version",
        /// TNC_RESULT_CANT_RETRY.
        CANT_RETRY = 4 => "can't retry",
        /// TNC_RESULT_WONT_RETRY.
        WONT_RETRY = 5 => "won't retry",
        /// TNC_RESULT_INVALID_PARAMETER.
        INVALID_PARAMETER = 6 => "invalid parameter",
        /// TNC_RESULT_CANT_RESPOND (IF-IMC only).
        CANT_RESPOND = 7 => "can't respond",
        /// TNC_RESULT_ILLEGAL_OPERATION.
        ILLEGAL_OPERATION = 8 => "illegal operation",
        /// TNC_RESULT_OTHER.
        OTHER = 9 => "other",
        /// TNC_RESULT_FATAL.
        FATAL = 10 => "fatal",
        /// TNC_RESULT_EXCEEDED_MAX_ROUND_TRIPS.
        EXCEEDED_MAX_ROUND_TRIPS = 0x0055_9700 => "exceeded max round trips",
        /// TNC_RESULT_EXCEEDED_MAX_MESSAGE_SIZE.
        EXCEEDED_MAX_MESSAGE_SIZE = 0x0055_9701 => "exceeded max message size",
        /// TNC_RESULT_NO_LONG_MESSAGE_TYPES.
        NO_LONG_MESSAGE_TYPES = 0x0055_9702 => "no long message types",
        /// TNC_RESULT_NO_SOH_SUPPORT.
        NO_SOH_SUPPORT = 0x0055_9703 => "no SOH support",
    }
}

/// Why an IF-IMC / IF-IMV call failed: one variant per non-success `TNC_Result`, with a
/// short reason where the broker knows one. Plugins return it; the broker returns it to
/// plugins; the C ABI layer maps it to the number with [`TncError::code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TncError {
    /// The plugin or broker is not initialized.
    #[error("not initialized")]
    NotInitialized,
    /// Initialize was called twice.
    #[error("already initialized")]
    AlreadyInitialized,
    /// No interface version both sides support.
    #[error("no common interface version")]
    NoCommonVersion,
    /// A handshake retry cannot be done (e.g. the transport forbids it).
    #[error("handshake retry not possible: {0}")]
    CantRetry(&'static str),
    /// A handshake retry is refused by policy.
    #[error("handshake retry refused: {0}")]
    WontRetry(&'static str),
    /// A parameter is wrong (unknown ID, wildcard type, unknown attribute, ...).
    #[error("invalid parameter: {0}")]
    InvalidParameter(&'static str),
    /// The IMC cannot respond to the message.
    #[error("can't respond")]
    CantRespond,
    /// The call is not allowed now (e.g. sending outside a handshake callback).
    #[error("illegal operation: {0}")]
    IllegalOperation(&'static str),
    /// Another failure.
    #[error("other error: {0}")]
    Other(&'static str),
    /// A fatal failure: the broker terminates and unloads the plugin.
    #[error("fatal error")]
    Fatal,
    /// The round-trip limit was reached.
    #[error("exceeded max round trips")]
    ExceededMaxRoundTrips,
    /// The message is larger than the transport carries.
    #[error("message of {size} bytes exceeds the maximum of {max}")]
    ExceededMaxMessageSize {
        /// Size of the message.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Long message types are not supported by this connection.
    #[error("no long message types")]
    NoLongMessageTypes,
    /// SOH is not supported.
    #[error("no SOH support")]
    NoSohSupport,
    /// A code this crate has no variant for.
    #[error("TNC result {0:?}")]
    Unknown(ResultCode),
}

impl TncError {
    /// The `TNC_Result` code.
    pub fn code(&self) -> ResultCode {
        match self {
            Self::NotInitialized => ResultCode::NOT_INITIALIZED,
            Self::AlreadyInitialized => ResultCode::ALREADY_INITIALIZED,
            Self::NoCommonVersion => ResultCode::NO_COMMON_VERSION,
            Self::CantRetry(_) => ResultCode::CANT_RETRY,
            Self::WontRetry(_) => ResultCode::WONT_RETRY,
            Self::InvalidParameter(_) => ResultCode::INVALID_PARAMETER,
            Self::CantRespond => ResultCode::CANT_RESPOND,
            Self::IllegalOperation(_) => ResultCode::ILLEGAL_OPERATION,
            Self::Other(_) => ResultCode::OTHER,
            Self::Fatal => ResultCode::FATAL,
            Self::ExceededMaxRoundTrips => ResultCode::EXCEEDED_MAX_ROUND_TRIPS,
            Self::ExceededMaxMessageSize { .. } => ResultCode::EXCEEDED_MAX_MESSAGE_SIZE,
            Self::NoLongMessageTypes => ResultCode::NO_LONG_MESSAGE_TYPES,
            Self::NoSohSupport => ResultCode::NO_SOH_SUPPORT,
            Self::Unknown(c) => *c,
        }
    }

    /// The error for a non-success code (`None` for SUCCESS), e.g. what a C plugin returned.
    pub fn from_code(code: ResultCode) -> Option<Self> {
        Some(match code {
            ResultCode::SUCCESS => return None,
            ResultCode::NOT_INITIALIZED => Self::NotInitialized,
            ResultCode::ALREADY_INITIALIZED => Self::AlreadyInitialized,
            ResultCode::NO_COMMON_VERSION => Self::NoCommonVersion,
            ResultCode::CANT_RETRY => Self::CantRetry("reported by the callee"),
            ResultCode::WONT_RETRY => Self::WontRetry("reported by the callee"),
            ResultCode::INVALID_PARAMETER => Self::InvalidParameter("reported by the callee"),
            ResultCode::CANT_RESPOND => Self::CantRespond,
            ResultCode::ILLEGAL_OPERATION => Self::IllegalOperation("reported by the callee"),
            ResultCode::OTHER => Self::Other("reported by the callee"),
            ResultCode::FATAL => Self::Fatal,
            ResultCode::EXCEEDED_MAX_ROUND_TRIPS => Self::ExceededMaxRoundTrips,
            ResultCode::EXCEEDED_MAX_MESSAGE_SIZE => {
                Self::ExceededMaxMessageSize { size: 0, max: 0 }
            }
            ResultCode::NO_LONG_MESSAGE_TYPES => Self::NoLongMessageTypes,
            ResultCode::NO_SOH_SUPPORT => Self::NoSohSupport,
            other => Self::Unknown(other),
        })
    }

    /// Whether the broker must terminate the plugin (FATAL).
    pub fn is_fatal(&self) -> bool {
        matches!(self, Self::Fatal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for c in (0..=10).chain(0x0055_9700..=0x0055_9703) {
            let code = ResultCode(c);
            let e = TncError::from_code(code);
            if c == 0 {
                assert!(e.is_none());
            } else {
                assert_eq!(e.unwrap().code(), code);
            }
        }
        assert_eq!(
            TncError::from_code(ResultCode(77)),
            Some(TncError::Unknown(ResultCode(77)))
        );
        assert_eq!(format!("{:?}", ResultCode::FATAL), "ResultCode(fatal)");
        assert_eq!(ResultCode::EXCEEDED_MAX_MESSAGE_SIZE.0, 0x0055_9701);
    }
}
