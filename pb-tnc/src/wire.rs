//! The PB-TNC batch (RFC 5793 §4.1) and message (§4.2) codec.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |    Version    |D|     Reserved                        | B-Type|
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       Batch Length                            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Flags     |               PB-TNC Vendor ID                |  one PB-TNC
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  message
//! |                       PB-TNC Message Type                     |  (repeated)
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       PB-TNC Message Length                   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       PB-TNC Message Value (Variable Length)  |
//! ```

mod error;
mod language;
mod other;
mod pa;
mod pdp_referral;
mod remediation;
mod result;

use bytes::{BufMut, Bytes, BytesMut};
use nea_wire::{
    DecodeError, DecodeErrorKind, NOSKIP, Reader, TLV_HEADER_LEN, Tlv, TlvHeader, TlvIter, VendorId,
};

pub use error::{ErrorParameters, PbError};
pub use language::LanguagePreference;
pub use other::{Experimental, UnknownMessage};
pub use pa::PbPa;
pub use pdp_referral::{PdpAddress, PdpReferral};
pub use remediation::RemediationParameters;
pub use result::ReasonString;

use crate::Error;
use crate::registry::{AccessRecommendation, BatchType, MessageType, PbAssessmentResult};

/// The only PB-TNC version this crate speaks (RFC 5793 §4.1).
pub const VERSION: u8 = 2;

/// Size of the batch header.
pub const BATCH_HEADER_LEN: usize = 8;

/// Size of the PB-TNC message header.
pub const MESSAGE_HEADER_LEN: usize = TLV_HEADER_LEN;

/// D bit (RFC 5793 §4.1) in the second header byte.
const DIRECTIONALITY: u8 = 0x80;

/// Which end of a PB-TNC session: the Posture Broker Client or Server (the D bit of the
/// batch header, RFC 5793 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// Posture Broker Client (D = 0).
    Client,
    /// Posture Broker Server (D = 1).
    Server,
}

impl Side {
    /// The other side.
    pub const fn peer(self) -> Self {
        match self {
            Self::Client => Self::Server,
            Self::Server => Self::Client,
        }
    }
}

/// The 8-byte PB-TNC batch header (RFC 5793 §4.1), checked in strongSwan's order: length ≥ 8
/// (offset 0), Version 2 (offset 0), B-Type known (offset 3), Batch Length equal to the input
/// (offset 4). The D bit is reported as [`BatchHeader::sender`] and judged by the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    /// Who sent the batch, from the D bit.
    pub sender: Side,
    /// B-Type.
    pub batch_type: BatchType,
    /// Batch Length, header included.
    pub length: u32,
}

impl BatchHeader {
    /// Reads and checks the header of the complete batch `input` (first byte at `base`).
    /// Nothing of `input` is kept, so any byte slice will do (`&Bytes` coerces).
    pub fn decode(input: &[u8], base: usize) -> Result<Self, DecodeError> {
        let Some(&[version, d, _reserved, btype, l0, l1, l2, l3]) =
            input.first_chunk::<BATCH_HEADER_LEN>()
        else {
            return Err(DecodeError::new(
                DecodeErrorKind::UnexpectedEnd {
                    needed: BATCH_HEADER_LEN - input.len(),
                },
                base,
            ));
        };
        // RFC 5793 §4.1: a Version we do not support gets Version Not Supported.
        if version != VERSION {
            return Err(DecodeError::new(
                DecodeErrorKind::UnsupportedVersion { version },
                base,
            ));
        }
        let btype = btype & 0x0f;
        // RFC 5793 §4.1: an unknown B-Type is a fatal Invalid Parameter.
        let batch_type = BatchType::try_from(btype).map_err(|_| {
            DecodeError::new(DecodeErrorKind::InvalidValue { field: "B-Type" }, base + 3)
        })?;
        let length = u32::from_be_bytes([l0, l1, l2, l3]);
        // RFC 5793 §4.1: Batch Length below 8 is a fatal Invalid Parameter.
        if length < 8 {
            return Err(DecodeError::new(
                DecodeErrorKind::LengthTooShort {
                    length: u64::from(length),
                    min: BATCH_HEADER_LEN as u64,
                },
                base + 4,
            ));
        }
        if u64::from(length) != input.len() as u64 {
            return Err(DecodeError::new(
                DecodeErrorKind::LengthMismatch {
                    length: u64::from(length),
                    expected: input.len() as u64,
                },
                base + 4,
            ));
        }
        Ok(Self {
            sender: if d & DIRECTIONALITY != 0 {
                Side::Server
            } else {
                Side::Client
            },
            batch_type,
            length,
        })
    }

    fn write(sender: Side, batch_type: BatchType, length: u32, out: &mut impl BufMut) {
        out.put_u8(VERSION);
        out.put_u8(match sender {
            Side::Client => 0,
            Side::Server => DIRECTIONALITY,
        });
        out.put_u8(0);
        out.put_u8(batch_type as u8);
        out.put_u32(length);
    }
}

/// One PB-TNC message (RFC 5793 §4.2–§4.11 and the TCG PB-PDP-Referral).
///
/// Known types are typed; anything else is kept raw in [`UnknownMessage`] and re-encodes byte
/// for byte. The NOSKIP bit of a known type is not stored: decode rejects a wrong bit and
/// encode always writes the bit the RFC requires ([`Message::noskip`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Message {
    /// PB-Experimental (IETF type 0, §4.4).
    Experimental(Experimental),
    /// PB-PA (IETF type 1, §4.5).
    Pa(PbPa),
    /// PB-Assessment-Result (IETF type 2, §4.6).
    AssessmentResult(PbAssessmentResult),
    /// PB-Access-Recommendation (IETF type 3, §4.7).
    AccessRecommendation(AccessRecommendation),
    /// PB-Remediation-Parameters (IETF type 4, §4.8).
    RemediationParameters(RemediationParameters),
    /// PB-Error (IETF type 5, §4.9).
    Error(PbError),
    /// PB-Language-Preference (IETF type 6, §4.10).
    LanguagePreference(LanguagePreference),
    /// PB-Reason-String (IETF type 7, §4.11).
    ReasonString(ReasonString),
    /// TCG PB-PDP-Referral (vendor 0x005597, type 1).
    PdpReferral(PdpReferral),
    /// Any other vendor/type, kept raw.
    Unknown(UnknownMessage),
}

impl Message {
    /// The PB-TNC Vendor ID of the header.
    pub fn vendor(&self) -> VendorId {
        match self {
            Self::PdpReferral(_) => VendorId::TCG,
            Self::Unknown(u) => u.vendor,
            _ => VendorId::IETF,
        }
    }

    /// The PB-TNC Message Type of the header.
    pub fn message_type(&self) -> MessageType {
        match self {
            Self::Experimental(_) => MessageType::EXPERIMENTAL,
            Self::Pa(_) => MessageType::PA,
            Self::AssessmentResult(_) => MessageType::ASSESSMENT_RESULT,
            Self::AccessRecommendation(_) => MessageType::ACCESS_RECOMMENDATION,
            Self::RemediationParameters(_) => MessageType::REMEDIATION_PARAMETERS,
            Self::Error(_) => MessageType::ERROR,
            Self::LanguagePreference(_) => MessageType::LANGUAGE_PREFERENCE,
            Self::ReasonString(_) => MessageType::REASON_STRING,
            Self::PdpReferral(_) => MessageType::TCG_PDP_REFERRAL,
            Self::Unknown(u) => u.message_type,
        }
    }

    /// The NOSKIP bit this message carries on the wire: the one its type requires, or the
    /// one received for experimental and unknown messages.
    pub fn noskip(&self) -> bool {
        match self {
            Self::Experimental(e) => e.noskip,
            Self::Unknown(u) => u.flags & NOSKIP != 0,
            other => other.required_noskip().unwrap_or(false),
        }
    }

    /// The flags byte written on the wire.
    pub fn flags(&self) -> u8 {
        match self {
            Self::Unknown(u) => u.flags,
            other => {
                if other.noskip() {
                    NOSKIP
                } else {
                    0
                }
            }
        }
    }

    /// The NOSKIP value RFC 5793 requires for a known type; `None` for PB-Experimental and
    /// unknown messages, which may carry either.
    fn required_noskip(&self) -> Option<bool> {
        match self {
            // RFC 5793 §4.5, §4.6, §4.9: NOSKIP MUST be set.
            Self::Pa(_) | Self::AssessmentResult(_) | Self::Error(_) => Some(true),
            // RFC 5793 §4.7, §4.8, §4.10, §4.11: NOSKIP MUST NOT be set (TCG: not NOSKIP).
            Self::AccessRecommendation(_)
            | Self::RemediationParameters(_)
            | Self::LanguagePreference(_)
            | Self::ReasonString(_)
            | Self::PdpReferral(_) => Some(false),
            Self::Experimental(_) | Self::Unknown(_) => None,
        }
    }

    fn value_len(&self) -> usize {
        match self {
            Self::Experimental(e) => e.value.len(),
            Self::Pa(p) => p.value_len(),
            Self::AssessmentResult(_) => 4,
            Self::AccessRecommendation(_) => 4,
            Self::RemediationParameters(r) => r.value_len(),
            Self::Error(e) => e.value_len(),
            Self::LanguagePreference(l) => l.value_len(),
            Self::ReasonString(r) => r.value_len(),
            Self::PdpReferral(p) => p.value_len(),
            Self::Unknown(u) => u.value.len(),
        }
    }

    /// Exact number of bytes the message takes on the wire, header included.
    pub fn encoded_len(&self) -> usize {
        MESSAGE_HEADER_LEN.saturating_add(self.value_len())
    }

    /// Checks that the wire can carry this message and that it is one a conforming sender
    /// may send (no reserved vendor/type, text rules, value ranges).
    pub fn validate(&self) -> Result<(), Error> {
        if self.encoded_len() > u32::MAX as usize {
            return Err(Error::TooLong { what: "message" });
        }
        match self {
            Self::Experimental(_) => Ok(()),
            Self::Pa(p) => p.validate(),
            Self::AssessmentResult(a) if !a.is_valid() => Err(Error::InvalidValue {
                field: "Assessment Result",
            }),
            Self::AccessRecommendation(a) if !a.is_valid() => Err(Error::InvalidValue {
                field: "Access Recommendation",
            }),
            Self::AssessmentResult(_) | Self::AccessRecommendation(_) => Ok(()),
            Self::RemediationParameters(r) => r.validate(),
            Self::Error(e) => e.validate(),
            Self::LanguagePreference(l) => l.validate(),
            Self::ReasonString(r) => r.validate(),
            Self::PdpReferral(p) => p.validate(),
            Self::Unknown(u) => u.validate(),
        }
    }

    /// Writes the message, header included. The caller has validated it (as [`Batch::new`]
    /// does), so every length fits its field.
    pub(crate) fn encode(&self, out: &mut BytesMut) {
        let header = TlvHeader {
            flags: self.flags(),
            vendor: self.vendor(),
            kind: self.message_type().get(),
            length: u32::try_from(self.encoded_len()).unwrap_or(u32::MAX),
        };
        header.write(out);
        match self {
            Self::Experimental(e) => out.put_slice(&e.value),
            Self::Pa(p) => p.encode_value(out),
            Self::AssessmentResult(a) => out.put_u32(a.get()),
            Self::AccessRecommendation(a) => {
                out.put_u16(0);
                out.put_u16(a.get());
            }
            Self::RemediationParameters(r) => r.encode_value(out),
            Self::Error(e) => e.encode_value(out),
            Self::LanguagePreference(l) => l.encode_value(out),
            Self::ReasonString(r) => r.encode_value(out),
            Self::PdpReferral(p) => p.encode_value(out),
            Self::Unknown(u) => out.put_slice(&u.value),
        }
    }

    /// Decodes one message from its TLV (header already walked by [`TlvIter`]).
    pub(crate) fn decode(tlv: Tlv) -> Result<Self, DecodeError> {
        let value_at = tlv.value_offset();
        let Tlv {
            header: h,
            offset: at,
            value,
        } = tlv;
        // RFC 5793 §4.2: vendor 0xffffff and type 0xffffffff are a fatal Invalid Parameter.
        h.check_reserved(at)?;
        let noskip = h.noskip();
        let known = matches!(
            (h.vendor, h.kind),
            (VendorId::IETF, 1..=7) | (VendorId::TCG, 1)
        );
        // Each arm takes the value by move (no reference-count traffic on the hot path).
        let msg = match (h.vendor, h.kind) {
            (VendorId::IETF, 0) => Self::Experimental(Experimental { noskip, value }),
            (VendorId::IETF, 1) => Self::Pa(PbPa::decode_value(value, value_at, at)?),
            (VendorId::IETF, 2) => {
                // RFC 5793 §4.6: the length MUST be 16.
                fixed_len(&h, at, 16)?;
                let mut r = Reader::new(value, value_at);
                let v = PbAssessmentResult(r.u32()?);
                // RFC 5793 §4.6: any other value is a fatal Invalid Parameter.
                if !v.is_valid() {
                    return Err(DecodeError::new(
                        DecodeErrorKind::InvalidValue {
                            field: "Assessment Result",
                        },
                        value_at,
                    ));
                }
                Self::AssessmentResult(v)
            }
            (VendorId::IETF, 3) => {
                // RFC 5793 §4.7: the length MUST be 16.
                fixed_len(&h, at, 16)?;
                let mut r = Reader::new(value, value_at);
                let _reserved = r.u16()?;
                let v = AccessRecommendation(r.u16()?);
                // RFC 5793 §4.7: any other code is a fatal Invalid Parameter.
                if !v.is_valid() {
                    return Err(DecodeError::new(
                        DecodeErrorKind::InvalidValue {
                            field: "Access Recommendation",
                        },
                        value_at + 2,
                    ));
                }
                Self::AccessRecommendation(v)
            }
            (VendorId::IETF, 4) => Self::RemediationParameters(
                RemediationParameters::decode_value(Reader::new(value, value_at), at)?,
            ),
            (VendorId::IETF, 5) => {
                Self::Error(PbError::decode_value(Reader::new(value, value_at), at)?)
            }
            (VendorId::IETF, 6) => Self::LanguagePreference(LanguagePreference::decode_value(
                Reader::new(value, value_at),
            )?),
            (VendorId::IETF, 7) => {
                Self::ReasonString(ReasonString::decode_value(Reader::new(value, value_at))?)
            }
            (VendorId::TCG, 1) => {
                Self::PdpReferral(PdpReferral::decode_value(Reader::new(value, value_at))?)
            }
            _ => Self::Unknown(UnknownMessage {
                flags: h.flags,
                vendor: h.vendor,
                message_type: MessageType(h.kind),
                value,
            }),
        };
        if known && msg.required_noskip() != Some(noskip) {
            // RFC 5793 §4.5–§4.11: a known message with the wrong NOSKIP bit is a fatal
            // Invalid Parameter, at the flags byte (= the message offset).
            return Err(DecodeError::new(
                DecodeErrorKind::InvalidValue { field: "NOSKIP" },
                at,
            ));
        }
        Ok(msg)
    }
}

/// Rejects a fixed-size message of another length, at the length field (offset + 8).
fn fixed_len(h: &TlvHeader, at: usize, expected: u32) -> Result<(), DecodeError> {
    if h.length != expected {
        return Err(DecodeError::new(
            DecodeErrorKind::LengthMismatch {
                length: u64::from(h.length),
                expected: u64::from(expected),
            },
            at + 8,
        ));
    }
    Ok(())
}

/// Rejects a message shorter than its fixed part, at the length field (offset + 8).
pub(crate) fn min_len(h_len: usize, at: usize, min: usize) -> Result<(), DecodeError> {
    if h_len < min {
        return Err(DecodeError::new(
            DecodeErrorKind::LengthTooShort {
                length: h_len as u64,
                min: min as u64,
            },
            at + 8,
        ));
    }
    Ok(())
}

/// Walks the messages after the batch header; `body` starts at absolute offset `base`.
/// Messages whose length exceeds `max_message_size` fail with `TooLarge` before decoding.
pub(crate) fn decode_messages(
    body: Bytes,
    base: usize,
    max_message_size: u32,
) -> Result<Vec<(usize, Message)>, DecodeError> {
    let mut out = Vec::new();
    decode_messages_with(body, base, max_message_size, |at, m| out.push((at, m)))?;
    Ok(out)
}

/// [`decode_messages`] handing each message (with its offset) to `push`.
fn decode_messages_with(
    body: Bytes,
    base: usize,
    max_message_size: u32,
    mut push: impl FnMut(usize, Message),
) -> Result<(), DecodeError> {
    for tlv in TlvIter::new(body, base) {
        let tlv = tlv?;
        if tlv.header.length > max_message_size {
            return Err(DecodeError::new(
                DecodeErrorKind::TooLarge {
                    length: u64::from(tlv.header.length),
                    limit: u64::from(max_message_size),
                },
                tlv.offset + 8,
            ));
        }
        let at = tlv.offset;
        push(at, Message::decode(tlv)?);
    }
    Ok(())
}

/// A complete PB-TNC batch (RFC 5793 §4.1): header plus zero or more messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    sender: Side,
    batch_type: BatchType,
    messages: Vec<Message>,
}

impl Batch {
    /// A batch of `batch_type` sent by `sender`; refuses messages a conforming sender must
    /// not send and a total length over `u32::MAX`.
    pub fn new(sender: Side, batch_type: BatchType, messages: Vec<Message>) -> Result<Self, Error> {
        let mut total = BATCH_HEADER_LEN;
        for m in &messages {
            m.validate()?;
            total = total.saturating_add(m.encoded_len());
        }
        if total > u32::MAX as usize {
            return Err(Error::TooLong { what: "batch" });
        }
        Ok(Self {
            sender,
            batch_type,
            messages,
        })
    }

    /// Decodes one complete batch (offsets count from its first byte).
    pub fn decode(input: Bytes) -> Result<Self, DecodeError> {
        Self::decode_at(input, 0)
    }

    /// Decodes one complete batch whose first byte sits at absolute offset `base` (errors
    /// carry absolute offsets).
    pub fn decode_at(input: Bytes, base: usize) -> Result<Self, DecodeError> {
        let header = BatchHeader::decode(&input, base)?;
        let body = input.slice(BATCH_HEADER_LEN..);
        let mut messages = Vec::new();
        decode_messages_with(body, base + BATCH_HEADER_LEN, u32::MAX, |_, m| {
            messages.push(m)
        })?;
        Ok(Self {
            sender: header.sender,
            batch_type: header.batch_type,
            messages,
        })
    }

    /// Who sends it (the D bit).
    pub fn sender(&self) -> Side {
        self.sender
    }

    /// B-Type.
    pub fn batch_type(&self) -> BatchType {
        self.batch_type
    }

    /// The messages in wire order.
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// The messages, by value.
    pub fn into_messages(self) -> Vec<Message> {
        self.messages
    }

    /// Exact number of bytes [`Batch::encode`] writes.
    pub fn encoded_len(&self) -> usize {
        self.messages
            .iter()
            .fold(BATCH_HEADER_LEN, |n, m| n.saturating_add(m.encoded_len()))
    }

    /// Writes the batch (Version 2).
    pub fn encode(&self, out: &mut BytesMut) {
        let len = u32::try_from(self.encoded_len()).unwrap_or(u32::MAX);
        out.reserve(self.encoded_len());
        BatchHeader::write(self.sender, self.batch_type, len, out);
        for m in &self.messages {
            m.encode(out);
        }
    }

    /// The encoded batch.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.encoded_len());
        self.encode(&mut out);
        out.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::ErrorCode;

    fn b(s: &'static [u8]) -> Bytes {
        Bytes::from_static(s)
    }

    #[test]
    fn empty_close_batch() {
        let wire = b(&[2, 0, 0, 6, 0, 0, 0, 8]);
        let batch = Batch::decode(wire.clone()).unwrap();
        assert_eq!(batch.sender(), Side::Client);
        assert_eq!(batch.batch_type(), BatchType::Close);
        assert!(batch.messages().is_empty());
        assert_eq!(batch.to_bytes(), wire);
        assert_eq!(batch.encoded_len(), 8);
        let server = Batch::new(Side::Server, BatchType::Result, vec![]).unwrap();
        assert_eq!(&server.to_bytes()[..], &[2, 0x80, 0, 3, 0, 0, 0, 8]);
    }

    #[test]
    fn header_errors_in_order() {
        let cases: &[(&[u8], DecodeErrorKind, usize)] = &[
            (&[2, 0, 0], DecodeErrorKind::UnexpectedEnd { needed: 5 }, 0),
            (
                &[3, 0, 0, 1, 0, 0, 0, 8],
                DecodeErrorKind::UnsupportedVersion { version: 3 },
                0,
            ),
            (
                &[2, 0, 0, 0, 0, 0, 0, 8],
                DecodeErrorKind::InvalidValue { field: "B-Type" },
                3,
            ),
            (
                &[2, 0, 0, 7, 0, 0, 0, 8],
                DecodeErrorKind::InvalidValue { field: "B-Type" },
                3,
            ),
            (
                &[2, 0, 0, 1, 0, 0, 0, 7],
                DecodeErrorKind::LengthTooShort { length: 7, min: 8 },
                4,
            ),
            (
                &[2, 0, 0, 1, 0, 0, 0, 9],
                DecodeErrorKind::LengthMismatch {
                    length: 9,
                    expected: 8,
                },
                4,
            ),
        ];
        for (wire, kind, off) in cases {
            let e = Batch::decode_at(Bytes::copy_from_slice(wire), 100).unwrap_err();
            assert_eq!(e, DecodeError::new(*kind, 100 + off), "{wire:?}");
        }
        // Reserved bits are ignored on receipt; the high nibble of byte 3 too.
        let batch = Batch::decode(b(&[2, 0x7f, 0xff, 0xf1, 0, 0, 0, 8])).unwrap();
        assert_eq!(batch.batch_type(), BatchType::Cdata);
    }

    #[test]
    fn message_header_errors() {
        // vendor 0xffffff -> offset + 1
        let e = Batch::decode(b(&[
            2, 0, 0, 1, 0, 0, 0, 20, 0, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 12,
        ]))
        .unwrap_err();
        assert_eq!(e, DecodeError::new(DecodeErrorKind::ReservedVendor, 9));
        // type 0xffffffff -> offset + 4
        let e = Batch::decode(b(&[
            2, 0, 0, 1, 0, 0, 0, 20, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 12,
        ]))
        .unwrap_err();
        assert_eq!(e, DecodeError::new(DecodeErrorKind::ReservedType, 12));
        // length 11 -> offset + 8
        let e = Batch::decode(b(&[
            2, 0, 0, 1, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 11,
        ]))
        .unwrap_err();
        assert_eq!(e.offset, 16);
        // a truncated message header
        let e = Batch::decode(b(&[2, 0, 0, 1, 0, 0, 0, 11, 0, 0, 0])).unwrap_err();
        assert!(matches!(e.kind, DecodeErrorKind::UnexpectedEnd { .. }));
    }

    #[test]
    fn fixed_messages_exact_bytes() {
        let wire = b(&[
            2, 0x80, 0, 3, 0, 0, 0, 40, //
            0x80, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 16, 0, 0, 0, 1, //
            0x00, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 16, 0, 0, 0, 3,
        ]);
        let batch = Batch::decode(wire.clone()).unwrap();
        assert_eq!(
            batch.messages(),
            &[
                Message::AssessmentResult(PbAssessmentResult::NON_COMPLIANT_MINOR),
                Message::AccessRecommendation(AccessRecommendation::QUARANTINED)
            ]
        );
        assert_eq!(batch.to_bytes(), wire);
    }

    fn one(msg: &[u8]) -> Result<Batch, DecodeError> {
        let mut v = vec![2, 0x80, 0, 2, 0, 0, 0, 0];
        v.extend_from_slice(msg);
        let len = u32::try_from(v.len()).unwrap();
        v[4..8].copy_from_slice(&len.to_be_bytes());
        Batch::decode(Bytes::from(v))
    }

    #[test]
    fn assessment_and_recommendation_negative() {
        // RFC 5793 §4.6: length != 16
        let e = one(&[0x80, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 17, 0, 0, 0, 1, 0]).unwrap_err();
        assert_eq!(e.offset, 16);
        // value 5
        let e = one(&[0x80, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 16, 0, 0, 0, 5]).unwrap_err();
        assert_eq!(
            e,
            DecodeError::new(
                DecodeErrorKind::InvalidValue {
                    field: "Assessment Result"
                },
                20
            )
        );
        // NOSKIP clear on Assessment-Result -> offset of the message
        let e = one(&[0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 16, 0, 0, 0, 1]).unwrap_err();
        assert_eq!(
            e,
            DecodeError::new(DecodeErrorKind::InvalidValue { field: "NOSKIP" }, 8)
        );
        // RFC 5793 §4.7: NOSKIP set on Access-Recommendation
        let e = one(&[0x80, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 16, 0, 0, 0, 1]).unwrap_err();
        assert_eq!(e.offset, 8);
        // code 0 and 4 are invalid, error at the code (value + 2)
        for code in [0u8, 4] {
            let e = one(&[0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 16, 0, 0, 0, code]).unwrap_err();
            assert_eq!(e.offset, 22);
        }
        let e = one(&[0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 15, 0, 0, 0]).unwrap_err();
        assert_eq!(e.offset, 16);
    }

    #[test]
    fn experimental_and_unknown_roundtrip() {
        let wire = [
            0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 13, 0xaa, //
            0x41, 0, 0x90, 0x2a, 0, 0, 0, 1, 0, 0, 0, 14, 1, 2, //
            0x80, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 12,
        ];
        let batch = one(&wire).unwrap();
        assert_eq!(batch.messages().len(), 3);
        assert!(batch.messages()[0].noskip());
        assert_eq!(batch.messages()[1].flags(), 0x41);
        assert_eq!(batch.messages()[2].message_type(), MessageType(8));
        assert_eq!(&batch.to_bytes()[8..], &wire[..]);
    }

    #[test]
    fn batch_new_validates() {
        let bad = Message::Error(PbError {
            fatal: true,
            vendor: VendorId::RESERVED,
            code: ErrorCode::LOCAL_ERROR,
            parameters: ErrorParameters::None,
        });
        assert!(Batch::new(Side::Client, BatchType::Close, vec![bad]).is_err());
        let bad = Message::AssessmentResult(PbAssessmentResult(9));
        assert!(Batch::new(Side::Server, BatchType::Result, vec![bad]).is_err());
        assert_eq!(Side::Client.peer(), Side::Server);
    }
}
