//! The PA-TNC Error attribute (RFC 5792 §4.2.8) and its IETF error information layouts.
//!
//! ```text
//! |    Reserved   |            PA-TNC Error Code Vendor ID        |
//! |                        PA-TNC Error Code                      |
//! |                 Error Information (Variable Length)           |
//! ```

use bytes::{BufMut, Bytes};
use nea_wire::{DecodeError, Reader, VendorId, put_u24};

use super::PaAttribute;
use crate::{AttributeType, ErrorCode};

/// The Error Information of a PA-TNC Error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorInfo {
    /// Invalid Parameter (§4.2.8.1): the offending message's first 8 bytes and the offset of
    /// the invalid value from the start of that message.
    InvalidParameter {
        /// Copy of the offending message's header.
        message_header: [u8; 8],
        /// Offset of the invalid value.
        offset: u32,
    },
    /// Version Not Supported (§4.2.8.2): the range the sender supports.
    VersionNotSupported {
        /// Copy of the offending message's header.
        message_header: [u8; 8],
        /// Max Version.
        max_version: u8,
        /// Min Version.
        min_version: u8,
    },
    /// Attribute Type Not Supported (§4.2.8.3): the rejected attribute's flags, vendor, type.
    AttributeTypeNotSupported {
        /// Copy of the offending message's header.
        message_header: [u8; 8],
        /// Flags of the rejected attribute.
        flags: u8,
        /// Its vendor ID.
        vendor: VendorId,
        /// Its type.
        kind: u32,
    },
    /// Any other code (SWIMA's 4–8 are decoded by the `swima` crate, vendor codes by their
    /// owners): the raw Error Information.
    Other(Bytes),
}

/// PA-TNC Error attribute (RFC 5792 §4.2.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaTncError {
    /// PA-TNC Error Code Vendor ID.
    pub vendor: VendorId,
    /// PA-TNC Error Code (in the `vendor` namespace; [`ErrorCode`] for IETF).
    pub code: u32,
    /// Error Information.
    pub info: ErrorInfo,
}

impl PaTncError {
    /// Invalid Parameter about the message whose header is `message_header`.
    pub fn invalid_parameter(message_header: [u8; 8], offset: u32) -> Self {
        Self {
            vendor: VendorId::IETF,
            code: ErrorCode::INVALID_PARAMETER.0,
            info: ErrorInfo::InvalidParameter {
                message_header,
                offset,
            },
        }
    }

    /// Version Not Supported; this crate supports version 1 only.
    pub fn version_not_supported(message_header: [u8; 8]) -> Self {
        Self {
            vendor: VendorId::IETF,
            code: ErrorCode::VERSION_NOT_SUPPORTED.0,
            info: ErrorInfo::VersionNotSupported {
                message_header,
                max_version: crate::PA_TNC_VERSION,
                min_version: crate::PA_TNC_VERSION,
            },
        }
    }

    /// Attribute Type Not Supported for `a` in the message whose header is `message_header`.
    pub fn attribute_type_not_supported(message_header: [u8; 8], a: &crate::Attribute) -> Self {
        Self {
            vendor: VendorId::IETF,
            code: ErrorCode::ATTRIBUTE_TYPE_NOT_SUPPORTED.0,
            info: ErrorInfo::AttributeTypeNotSupported {
                message_header,
                flags: a.flags,
                vendor: a.vendor,
                kind: a.kind,
            },
        }
    }

    /// The IETF error code, if the vendor is IETF.
    pub fn ietf_code(&self) -> Option<ErrorCode> {
        (self.vendor == VendorId::IETF).then_some(ErrorCode(self.code))
    }
}

impl PaAttribute for PaTncError {
    const VENDOR: VendorId = VendorId::IETF;
    const TYPE: u32 = AttributeType::PA_TNC_ERROR.0;

    fn decode_value(value: Bytes, base: usize) -> Result<Self, DecodeError> {
        let mut r = Reader::new(value, base);
        let _reserved = r.u8()?;
        let vendor = VendorId::from_u24(r.u24()?);
        let code = r.u32()?;
        let info = match (vendor, ErrorCode(code)) {
            (VendorId::IETF, ErrorCode::INVALID_PARAMETER) => {
                let message_header = r.bytes()?;
                let offset = r.u32()?;
                r.finish()?;
                ErrorInfo::InvalidParameter {
                    message_header,
                    offset,
                }
            }
            (VendorId::IETF, ErrorCode::VERSION_NOT_SUPPORTED) => {
                let message_header = r.bytes()?;
                let max_version = r.u8()?;
                let min_version = r.u8()?;
                let _reserved = r.u16()?;
                r.finish()?;
                ErrorInfo::VersionNotSupported {
                    message_header,
                    max_version,
                    min_version,
                }
            }
            (VendorId::IETF, ErrorCode::ATTRIBUTE_TYPE_NOT_SUPPORTED) => {
                let message_header = r.bytes()?;
                let flags = r.u8()?;
                let vendor = VendorId::from_u24(r.u24()?);
                let kind = r.u32()?;
                r.finish()?;
                ErrorInfo::AttributeTypeNotSupported {
                    message_header,
                    flags,
                    vendor,
                    kind,
                }
            }
            _ => ErrorInfo::Other(r.rest()),
        };
        Ok(Self { vendor, code, info })
    }

    fn value_len(&self) -> usize {
        8 + match &self.info {
            ErrorInfo::InvalidParameter { .. } => 12,
            ErrorInfo::VersionNotSupported { .. } => 12,
            ErrorInfo::AttributeTypeNotSupported { .. } => 16,
            ErrorInfo::Other(b) => b.len(),
        }
    }

    fn encode_value<B: BufMut>(&self, out: &mut B) {
        out.put_u8(0);
        put_u24(out, self.vendor.get());
        out.put_u32(self.code);
        match &self.info {
            ErrorInfo::InvalidParameter {
                message_header,
                offset,
            } => {
                out.put_slice(message_header);
                out.put_u32(*offset);
            }
            ErrorInfo::VersionNotSupported {
                message_header,
                max_version,
                min_version,
            } => {
                out.put_slice(message_header);
                out.put_u8(*max_version);
                out.put_u8(*min_version);
                out.put_u16(0);
            }
            ErrorInfo::AttributeTypeNotSupported {
                message_header,
                flags,
                vendor,
                kind,
            } => {
                out.put_slice(message_header);
                out.put_u8(*flags);
                put_u24(out, vendor.get());
                out.put_u32(*kind);
            }
            ErrorInfo::Other(b) => out.put_slice(b),
        }
    }
}
