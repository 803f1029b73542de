//! The receiver rules of RFC 5792 as one function a collector or validator calls on each
//! received PA-TNC message.

use bytes::Bytes;
use nea_wire::{DecodeError, DecodeErrorKind, TlvIter, VendorId};

use crate::{AttributeType, Limits, PaTncError, PaTncMessage};

/// What to do with a received PA-TNC message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Process the message. Attributes the receiver does not support all have NOSKIP clear
    /// and SHOULD be skipped (RFC 5792 §4.1): [`Disposition::Process::skipped`] lists their
    /// indexes.
    Process {
        /// The decoded message.
        message: PaTncMessage,
        /// Indexes of unsupported attributes (NOSKIP clear) to skip.
        skipped: Vec<usize>,
    },
    /// Do not process any part of the message; send `error` back (in a PA-TNC message of
    /// the same PA vendor/subtype, exclusively to the sender, RFC 5792 §4.2.8).
    Reject {
        /// The PA-TNC Error to send.
        error: PaTncError,
        /// What was wrong.
        cause: DecodeErrorOrUnsupported,
    },
    /// Do not process and do not answer: the message carried a PA-TNC Error, and errors are
    /// never answered with errors (RFC 5792 §4.2.8).
    Drop(DecodeError),
}

/// Why a message was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeErrorOrUnsupported {
    /// The message could not be decoded.
    Decode(DecodeError),
    /// An attribute with NOSKIP set is not supported (index in the message).
    Unsupported(usize),
}

/// Applies RFC 5792's receiver rules to `buf` (one PA-TNC message, absolute offset `base`).
///
/// * a malformed message → Invalid Parameter with the offset from the message start, or
///   Version Not Supported for another version (§3.6, §4.2.8.1–2);
/// * an unsupported attribute with NOSKIP set → no part is processed, Attribute Type Not
///   Supported (§4.1, §4.2.8.3);
/// * unsupported attributes without NOSKIP are skipped;
/// * a message carrying a PA-TNC Error that fails to decode is dropped without an answer.
///
/// `supported(vendor, type)` says which attribute types the caller processes.
pub fn receive(
    buf: Bytes,
    base: usize,
    limits: &Limits,
    supported: impl Fn(VendorId, u32) -> bool,
) -> Disposition {
    let header = message_header(&buf);
    let message = match PaTncMessage::decode_with(buf.clone(), base, limits) {
        Ok(m) => m,
        Err(e) => {
            if carries_error(&buf, base) {
                return Disposition::Drop(e);
            }
            return Disposition::Reject {
                error: error_reply(header, base, e),
                cause: DecodeErrorOrUnsupported::Decode(e),
            };
        }
    };
    let mut skipped = Vec::new();
    for (i, a) in message.attributes.iter().enumerate() {
        if supported(a.vendor, a.kind) {
            continue;
        }
        if a.noskip() {
            // RFC 5792 §4.1: MUST NOT process any part of the message.
            if message
                .attributes
                .iter()
                .any(|a| a.is_ietf(AttributeType::PA_TNC_ERROR))
            {
                return Disposition::Drop(DecodeError::new(
                    DecodeErrorKind::InvalidValue { field: "NOSKIP" },
                    a.value_offset.saturating_sub(12),
                ));
            }
            return Disposition::Reject {
                error: PaTncError::attribute_type_not_supported(message.header_bytes(), a),
                cause: DecodeErrorOrUnsupported::Unsupported(i),
            };
        }
        skipped.push(i);
    }
    Disposition::Process { message, skipped }
}

/// The PA-TNC Error RFC 5792 asks for when decoding a message failed with `e`.
///
/// `message_header` is the first 8 bytes of the offending message (zero-padded if it was
/// shorter) and `base` the absolute offset of its first byte, so the reported offset is
/// relative to the message start.
pub fn error_reply(message_header: [u8; 8], base: usize, e: DecodeError) -> PaTncError {
    match e.kind {
        DecodeErrorKind::UnsupportedVersion { .. } => {
            PaTncError::version_not_supported(message_header)
        }
        _ => {
            let off = e.offset.saturating_sub(base);
            PaTncError::invalid_parameter(message_header, u32::try_from(off).unwrap_or(u32::MAX))
        }
    }
}

/// Like [`error_reply`] for an error found while decoding the value of attribute `a` of
/// `message` with [`crate::PaAttribute::from_attribute`]; `base` is the message's offset.
pub fn value_error_reply(message: &PaTncMessage, base: usize, e: DecodeError) -> PaTncError {
    error_reply(message.header_bytes(), base, e)
}

/// The first 8 bytes of `buf`, zero-padded.
pub fn message_header(buf: &[u8]) -> [u8; 8] {
    let mut h = [0u8; 8];
    for (d, s) in h.iter_mut().zip(buf.iter()) {
        *d = *s;
    }
    h
}

fn carries_error(buf: &Bytes, base: usize) -> bool {
    if buf.len() < crate::MESSAGE_HEADER_LEN {
        return false;
    }
    TlvIter::new(
        buf.slice(crate::MESSAGE_HEADER_LEN..),
        base + crate::MESSAGE_HEADER_LEN,
    )
    .map_while(Result::ok)
    .any(|t| t.header.vendor == VendorId::IETF && t.header.kind == AttributeType::PA_TNC_ERROR.0)
}

/// Whether `(vendor, kind)` is an attribute type this crate decodes (IETF 0–12 and the TCG
/// segmentation set); usable directly as [`receive`]'s `supported` predicate.
pub fn is_known(vendor: VendorId, kind: u32) -> bool {
    (vendor == VendorId::IETF && kind <= AttributeType::FACTORY_DEFAULT_PASSWORD_ENABLED.0)
        || (vendor == VendorId::TCG
            && (crate::TcgAttributeType::SEGMENTATION_CONTRACT_REQUEST.0
                ..=crate::TcgAttributeType::CONTRACT_EXEMPTION.0)
                .contains(&kind))
}
