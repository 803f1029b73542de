//! The SWIMA error information of PA-TNC Error codes 4–8 (RFC 8412 §5.15) and this crate's
//! API-misuse [`Error`].

use bytes::{BufMut, Bytes, BytesMut};
use nea_wire::{DecodeError, DecodeErrorKind, Reader, Text, VendorId};
use pa_tnc::{ErrorCode, ErrorInfo, PaAttribute, PaTncError};

/// API misuse: a value the wire cannot carry, or an engine command that makes no sense now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A variable-length field is longer than its length field can say.
    #[error("{field} of {len} bytes longer than the {max}-byte maximum")]
    TooLong {
        /// RFC name of the field.
        field: &'static str,
        /// Its length.
        len: usize,
        /// The largest length the wire can carry.
        max: usize,
    },
    /// More items than a count field can say.
    #[error("{count} items over the {max} a {field} can say")]
    TooMany {
        /// RFC name of the count field.
        field: &'static str,
        /// Items given.
        count: usize,
        /// Largest count.
        max: usize,
    },
    /// A value the RFC does not allow.
    #[error("invalid value: {0}")]
    InvalidValue(&'static str),
    /// The event log store failed.
    #[error("event log store: {0}")]
    Store(String),
    /// The stored event log is damaged before its end: events of the epoch are lost, so the
    /// epoch must change (RFC 8412 §3.7.1, §3.7.6).
    #[error("event log damaged at byte {offset}: a new EID epoch starts")]
    CorruptLog {
        /// Offset in the log of the first damaged frame.
        offset: u64,
    },
    /// An inventory source could not be read.
    #[error("inventory source: {0}")]
    Source(String),
    /// The source named is not registered with the collector.
    #[error("unknown source {0}")]
    UnknownSource(u8),
}

/// The Error Information of the SWIMA PA-TNC error codes (RFC 8412 §5.15.1–§5.15.3).
///
/// ```text
/// codes 4, 5, 8:  | Copy of Request ID / Subscription ID (4) | Description ...        |
/// code 6:         | Copy of Request ID / Subscription ID (4) | Maximum Allowed Size (4)
///                 | Description ...                                                    |
/// code 7:         | Subscription ID (4) | Reserved (1) | Sub-error Code Vendor ID (3)  |
///                 | Sub-error Code (4)  | Sub-error Information ...                    |
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SwimaErrorInfo {
    /// 4 SWIMA_ERROR: another fatal SWIMA-specific failure.
    SwimaError {
        /// Copy of Request ID / Subscription ID.
        request_id: u32,
        /// Description (UTF-8, no NUL termination).
        description: Text,
    },
    /// 5 SWIMA_SUBSCRIPTION_DENIED_ERROR: the subscription (or clear) was refused.
    SubscriptionDenied {
        /// Copy of Request ID.
        request_id: u32,
        /// Description.
        description: Text,
    },
    /// 6 SWIMA_RESPONSE_TOO_LARGE_ERROR: the answer is bigger than the SWIMA-PC will send.
    ResponseTooLarge {
        /// Copy of Request ID / Subscription ID.
        request_id: u32,
        /// The largest SWIMA attribute the SWIMA-PC is currently willing to send.
        max_allowed_size: u32,
        /// Description.
        description: Text,
    },
    /// 7 SWIMA_SUBSCRIPTION_FULFILLMENT_ERROR: serving a subscription failed; the
    /// subscription is cancelled on both sides (§5.15.3).
    SubscriptionFulfillment {
        /// The cancelled subscription.
        subscription_id: u32,
        /// The sub-error (never code 7 itself); SWIMA codes inside stay raw
        /// ([`ErrorInfo::Other`]) and decode with [`SwimaErrorInfo::from_pa_tnc_error`].
        sub_error: PaTncError,
    },
    /// 8 SWIMA_SUBSCRIPTION_ID_REUSE_ERROR: the Request ID equals an active subscription ID.
    SubscriptionIdReuse {
        /// Copy of Request ID.
        request_id: u32,
        /// Description.
        description: Text,
    },
}

fn check_description(d: &Text) -> Result<(), Error> {
    // RFC 8412 §5.15.1: the Description MUST NOT be null terminated.
    if d.as_bytes().last() == Some(&0) {
        return Err(Error::InvalidValue("Description is NUL-terminated"));
    }
    Ok(())
}

impl SwimaErrorInfo {
    /// The PA-TNC Error Code (IETF namespace).
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::SwimaError { .. } => ErrorCode::SWIMA_ERROR,
            Self::SubscriptionDenied { .. } => ErrorCode::SWIMA_SUBSCRIPTION_DENIED_ERROR,
            Self::ResponseTooLarge { .. } => ErrorCode::SWIMA_RESPONSE_TOO_LARGE_ERROR,
            Self::SubscriptionFulfillment { .. } => ErrorCode::SWIMA_SUBSCRIPTION_FULFILLMENT_ERROR,
            Self::SubscriptionIdReuse { .. } => ErrorCode::SWIMA_SUBSCRIPTION_ID_REUSE_ERROR,
        }
    }

    /// The Request ID (or Subscription ID) the error refers to.
    pub fn request_id(&self) -> u32 {
        match self {
            Self::SwimaError { request_id, .. }
            | Self::SubscriptionDenied { request_id, .. }
            | Self::ResponseTooLarge { request_id, .. }
            | Self::SubscriptionIdReuse { request_id, .. } => *request_id,
            Self::SubscriptionFulfillment {
                subscription_id, ..
            } => *subscription_id,
        }
    }

    /// The Description, where the code has one.
    pub fn description(&self) -> Option<&Text> {
        match self {
            Self::SwimaError { description, .. }
            | Self::SubscriptionDenied { description, .. }
            | Self::ResponseTooLarge { description, .. }
            | Self::SubscriptionIdReuse { description, .. } => Some(description),
            Self::SubscriptionFulfillment { .. } => None,
        }
    }

    /// A checked SUBSCRIPTION_FULFILLMENT error: the sub-error code MUST NOT be 7 (§5.15.3).
    pub fn fulfillment(subscription_id: u32, sub_error: PaTncError) -> Result<Self, Error> {
        if sub_error.ietf_code() == Some(ErrorCode::SWIMA_SUBSCRIPTION_FULFILLMENT_ERROR) {
            return Err(Error::InvalidValue(
                "sub-error code is SWIMA_SUBSCRIPTION_FULFILLMENT_ERROR",
            ));
        }
        Ok(Self::SubscriptionFulfillment {
            subscription_id,
            sub_error,
        })
    }

    /// Checks the fields the constructor-free variants carry (Description not NUL-terminated,
    /// sub-error not code 7).
    pub fn check(&self) -> Result<(), Error> {
        match self {
            Self::SubscriptionFulfillment {
                subscription_id,
                sub_error,
            } => Self::fulfillment(*subscription_id, sub_error.clone()).map(|_| ()),
            other => other.description().map_or(Ok(()), check_description),
        }
    }

    /// Decodes the Error Information of IETF error `code`; `None` if `code` is not 4–8.
    /// `base` is the absolute offset of the Error Information's first byte.
    pub fn decode(code: u32, info: Bytes, base: usize) -> Option<Result<Self, DecodeError>> {
        let code = ErrorCode(code);
        if !(ErrorCode::SWIMA_ERROR.0..=ErrorCode::SWIMA_SUBSCRIPTION_ID_REUSE_ERROR.0)
            .contains(&code.0)
        {
            return None;
        }
        Some(Self::decode_inner(code, info, base))
    }

    fn decode_inner(code: ErrorCode, info: Bytes, base: usize) -> Result<Self, DecodeError> {
        let mut r = Reader::new(info, base);
        let request_id = r.u32()?;
        let v = match code {
            ErrorCode::SWIMA_RESPONSE_TOO_LARGE_ERROR => {
                let max_allowed_size = r.u32()?;
                let n = r.remaining();
                Self::ResponseTooLarge {
                    request_id,
                    max_allowed_size,
                    description: r.text(n)?,
                }
            }
            ErrorCode::SWIMA_SUBSCRIPTION_FULFILLMENT_ERROR => {
                let at = r.offset();
                let sub_error = PaTncError::decode_value(r.rest(), at)?;
                // RFC 8412 §5.15.3: the sub-error MUST NOT have code 7.
                if sub_error.ietf_code() == Some(ErrorCode::SWIMA_SUBSCRIPTION_FULFILLMENT_ERROR) {
                    return Err(DecodeError::new(
                        DecodeErrorKind::InvalidValue {
                            field: "Sub-error Code",
                        },
                        at + 4,
                    ));
                }
                Self::SubscriptionFulfillment {
                    subscription_id: request_id,
                    sub_error,
                }
            }
            _ => {
                let n = r.remaining();
                let description = r.text(n)?;
                match code {
                    ErrorCode::SWIMA_SUBSCRIPTION_DENIED_ERROR => Self::SubscriptionDenied {
                        request_id,
                        description,
                    },
                    ErrorCode::SWIMA_SUBSCRIPTION_ID_REUSE_ERROR => Self::SubscriptionIdReuse {
                        request_id,
                        description,
                    },
                    _ => Self::SwimaError {
                        request_id,
                        description,
                    },
                }
            }
        };
        r.finish()?;
        Ok(v)
    }

    /// The typed SWIMA view of a received PA-TNC Error; `None` if it is not an IETF code 4–8.
    /// `base` is the absolute offset of the PA-TNC Error's value (its Error Information
    /// starts 8 bytes later).
    pub fn from_pa_tnc_error(e: &PaTncError, base: usize) -> Option<Result<Self, DecodeError>> {
        if e.vendor != VendorId::IETF {
            return None;
        }
        match &e.info {
            ErrorInfo::Other(info) => Self::decode(e.code, info.clone(), base + 8),
            _ => None,
        }
    }

    /// Exact size of the Error Information.
    pub fn info_len(&self) -> usize {
        4 + match self {
            Self::ResponseTooLarge { description, .. } => 4 + description.len(),
            Self::SubscriptionFulfillment { sub_error, .. } => sub_error.value_len(),
            Self::SwimaError { description, .. }
            | Self::SubscriptionDenied { description, .. }
            | Self::SubscriptionIdReuse { description, .. } => description.len(),
        }
    }

    /// Appends the Error Information.
    pub fn encode_info<B: BufMut>(&self, out: &mut B) {
        out.put_u32(self.request_id());
        match self {
            Self::ResponseTooLarge {
                max_allowed_size,
                description,
                ..
            } => {
                out.put_u32(*max_allowed_size);
                out.put_slice(description.as_bytes());
            }
            Self::SubscriptionFulfillment { sub_error, .. } => sub_error.encode_value(out),
            Self::SwimaError { description, .. }
            | Self::SubscriptionDenied { description, .. }
            | Self::SubscriptionIdReuse { description, .. } => {
                out.put_slice(description.as_bytes());
            }
        }
    }

    /// The PA-TNC Error attribute value carrying this information.
    pub fn to_pa_tnc_error(&self) -> PaTncError {
        let mut info = BytesMut::with_capacity(self.info_len());
        self.encode_info(&mut info);
        PaTncError {
            vendor: VendorId::IETF,
            code: self.code().0,
            info: ErrorInfo::Other(info.freeze()),
        }
    }
}

impl From<&SwimaErrorInfo> for PaTncError {
    fn from(e: &SwimaErrorInfo) -> Self {
        e.to_pa_tnc_error()
    }
}

impl From<SwimaErrorInfo> for PaTncError {
    fn from(e: SwimaErrorInfo) -> Self {
        e.to_pa_tnc_error()
    }
}

impl TryFrom<&PaTncError> for SwimaErrorInfo {
    type Error = Option<DecodeError>;

    /// `Err(None)`: not a SWIMA error code; `Err(Some(e))`: malformed information (offsets
    /// relative to the PA-TNC Error value).
    fn try_from(e: &PaTncError) -> Result<Self, Option<DecodeError>> {
        match Self::from_pa_tnc_error(e, 0) {
            None => Err(None),
            Some(r) => r.map_err(Some),
        }
    }
}
