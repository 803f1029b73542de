//! PT-TLS messages (RFC 6876 §3.5–§3.9): the 16-byte header and every IETF message type,
//! decoded and encoded side by side.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |    Reserved   |           Message Type Vendor ID              |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                          Message Type                         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                         Message Length                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       Message Identifier                      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                Message Value (e.g. PB-TNC Batch) . . .        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Reserved fields are sent as 0 and ignored on receipt, so `encode(decode(b)) == b` holds for
//! every valid `b` whose reserved fields are 0 (all real traffic).

mod pt_tls_error;
mod sasl;
mod version;

pub use pt_tls_error::{MAX_ORIGINAL_COPY, PtTlsError};
pub use sasl::{MechanismName, ResultForm, SaslMechanismSelection, SaslMechanisms, SaslResult};
pub use version::{VersionRequest, VersionResponse};

use bytes::{BufMut, Bytes, BytesMut};
use nea_wire::{DecodeError, DecodeErrorKind, Reader, TlvHeader, VendorId};

use crate::registry::MessageType;

/// Size of the PT-TLS message header.
pub const HEADER_LEN: usize = 16;

/// The 16-byte PT-TLS message header (RFC 6876 §3.5), as read from the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageHeader {
    /// Reserved byte (sent as 0, ignored on receipt).
    pub reserved: u8,
    /// Message Type Vendor ID (0 = IETF).
    pub vendor: VendorId,
    /// Message Type within the vendor's namespace.
    pub message_type: u32,
    /// Message Length, header included.
    pub length: u32,
    /// Message Identifier.
    pub identifier: u32,
}

impl MessageHeader {
    /// Reads the 16 bytes without judging them (the shared 12-byte TLV header, then the
    /// identifier).
    pub fn read(r: &mut Reader) -> Result<Self, DecodeError> {
        let tlv = TlvHeader::read(r)?;
        let identifier = r.u32()?;
        Ok(Self {
            reserved: tlv.flags,
            vendor: tlv.vendor,
            message_type: tlv.kind,
            length: tlv.length,
            identifier,
        })
    }

    /// Writes the 16 bytes.
    pub fn write(&self, out: &mut impl BufMut) {
        TlvHeader {
            flags: self.reserved,
            vendor: self.vendor,
            kind: self.message_type,
            length: self.length,
        }
        .write(out);
        out.put_u32(self.identifier);
    }

    /// Whether the type is in the IETF namespace with the given number.
    pub fn is_ietf(&self, t: MessageType) -> bool {
        self.vendor == VendorId::IETF && self.message_type == t.0
    }
}

/// A vendor-specific or unassigned message, kept raw so it re-encodes byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownMessage {
    vendor: VendorId,
    message_type: u32,
    value: Bytes,
}

impl UnknownMessage {
    /// A raw message; `None` for the reserved vendor `0xffffff` or type `0xffffffff`, which
    /// must never be sent (RFC 6876 §3.5), and for IETF types 0–8, which have their own
    /// variants of [`Body`].
    pub fn new(vendor: VendorId, message_type: u32, value: Bytes) -> Option<Self> {
        let ietf_known = vendor == VendorId::IETF && message_type <= MessageType::PT_TLS_ERROR.0;
        if vendor.is_reserved() || message_type == u32::MAX || ietf_known {
            return None;
        }
        Some(Self {
            vendor,
            message_type,
            value,
        })
    }

    /// Message Type Vendor ID.
    pub fn vendor(&self) -> VendorId {
        self.vendor
    }

    /// Message Type.
    pub fn message_type(&self) -> u32 {
        self.message_type
    }

    /// The raw value.
    pub fn value(&self) -> &Bytes {
        &self.value
    }
}

/// The value of a PT-TLS message, one variant per IETF message type (RFC 6876 §3.6).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Body {
    /// Experimental (0): opaque value.
    Experimental(Bytes),
    /// Version Request (1).
    VersionRequest(VersionRequest),
    /// Version Response (2).
    VersionResponse(VersionResponse),
    /// SASL Mechanisms (3).
    SaslMechanisms(SaslMechanisms),
    /// SASL Mechanism Selection (4).
    SaslMechanismSelection(SaslMechanismSelection),
    /// SASL Authentication Data (5): opaque mechanism data.
    SaslAuthenticationData(Bytes),
    /// SASL Result (6).
    SaslResult(SaslResult),
    /// PB-TNC Batch (7): the batch, a zero-copy slice of the input (decoded by `pb-tnc`).
    PbTncBatch(Bytes),
    /// PT-TLS Error (8).
    Error(PtTlsError),
    /// A vendor-specific or unassigned message type, kept raw.
    Unknown(UnknownMessage),
}

impl Body {
    /// The vendor and type this value is sent under.
    pub fn kind(&self) -> (VendorId, u32) {
        let t = match self {
            Self::Experimental(_) => MessageType::EXPERIMENTAL,
            Self::VersionRequest(_) => MessageType::VERSION_REQUEST,
            Self::VersionResponse(_) => MessageType::VERSION_RESPONSE,
            Self::SaslMechanisms(_) => MessageType::SASL_MECHANISMS,
            Self::SaslMechanismSelection(_) => MessageType::SASL_MECHANISM_SELECTION,
            Self::SaslAuthenticationData(_) => MessageType::SASL_AUTHENTICATION_DATA,
            Self::SaslResult(_) => MessageType::SASL_RESULT,
            Self::PbTncBatch(_) => MessageType::PB_TNC_BATCH,
            Self::Error(_) => MessageType::PT_TLS_ERROR,
            Self::Unknown(u) => return (u.vendor, u.message_type),
        };
        (VendorId::IETF, t.0)
    }

    /// Length of the encoded value.
    pub fn value_len(&self) -> usize {
        match self {
            Self::Experimental(b) | Self::SaslAuthenticationData(b) | Self::PbTncBatch(b) => {
                b.len()
            }
            Self::VersionRequest(_) | Self::VersionResponse(_) => 4,
            Self::SaslMechanisms(m) => m.encoded_len(),
            Self::SaslMechanismSelection(s) => s.encoded_len(),
            Self::SaslResult(r) => r.encoded_len(),
            Self::Error(e) => e.encoded_len(),
            Self::Unknown(u) => u.value.len(),
        }
    }

    fn encode_value(&self, out: &mut BytesMut) {
        match self {
            Self::Experimental(b) | Self::SaslAuthenticationData(b) | Self::PbTncBatch(b) => {
                out.put_slice(b);
            }
            Self::VersionRequest(v) => v.encode(out),
            Self::VersionResponse(v) => v.encode(out),
            Self::SaslMechanisms(m) => m.encode(out),
            Self::SaslMechanismSelection(s) => s.encode(out),
            Self::SaslResult(r) => r.encode(out),
            Self::Error(e) => e.encode(out),
            Self::Unknown(u) => out.put_slice(&u.value),
        }
    }
}

/// One PT-TLS message: identifier and typed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Message Identifier: the sender's message counter (RFC 6876 §3.5).
    pub identifier: u32,
    /// The typed value.
    pub body: Body,
}

impl Message {
    /// A message with the given identifier and value.
    pub fn new(identifier: u32, body: Body) -> Self {
        Self { identifier, body }
    }

    /// Decodes exactly one complete message (header and value); see [`Message::decode_at`].
    pub fn decode(buf: Bytes) -> Result<Self, DecodeError> {
        Self::decode_at(buf, 0)
    }

    /// Decodes exactly one complete message whose first byte is at absolute offset `base`.
    ///
    /// Errors inside the 16-byte header (Length below 16 or different from the input, a
    /// reserved vendor or type, a fixed-size type with another Length) carry an offset inside
    /// the header; errors in the value carry an offset in the value. [`crate::error_code_for`]
    /// maps them to Invalid Parameter and Malformed Message respectively.
    pub fn decode_at(buf: Bytes, base: usize) -> Result<Self, DecodeError> {
        let mut r = Reader::new(buf, base);
        let header = MessageHeader::read(&mut r)?;
        let length = u64::from(header.length);
        let total = (r.remaining() + HEADER_LEN) as u64;
        let len_at = base.saturating_add(8);
        if length < HEADER_LEN as u64 {
            // RFC 6876 §3.5: a Length below 16 is answered with Invalid Parameter.
            return Err(DecodeError::new(
                DecodeErrorKind::LengthTooShort {
                    length,
                    min: HEADER_LEN as u64,
                },
                len_at,
            ));
        }
        if length > total {
            return Err(DecodeError::new(
                DecodeErrorKind::LengthOverrun {
                    length,
                    available: total,
                },
                len_at,
            ));
        }
        if length < total {
            return Err(DecodeError::new(
                DecodeErrorKind::TrailingBytes {
                    count: usize::try_from(total - length).unwrap_or(usize::MAX),
                },
                base.saturating_add(usize::try_from(length).unwrap_or(usize::MAX)),
            ));
        }
        // RFC 6876 §3.5: reserved vendor 0xffffff / type 0xffffffff → Invalid Parameter.
        TlvHeader {
            flags: header.reserved,
            vendor: header.vendor,
            kind: header.message_type,
            length: header.length,
        }
        .check_reserved(base)?;
        let body = if header.vendor == VendorId::IETF {
            Self::decode_ietf(header, r, len_at)?
        } else {
            Body::Unknown(UnknownMessage {
                vendor: header.vendor,
                message_type: header.message_type,
                value: r.rest(),
            })
        };
        Ok(Self {
            identifier: header.identifier,
            body,
        })
    }

    fn decode_ietf(
        header: MessageHeader,
        mut r: Reader,
        len_at: usize,
    ) -> Result<Body, DecodeError> {
        let fixed = |len: u64| -> Result<(), DecodeError> {
            // RFC 6876 §3.5: a known fixed Length that differs → Invalid Parameter.
            if u64::from(header.length) == len {
                Ok(())
            } else {
                Err(DecodeError::new(
                    DecodeErrorKind::LengthMismatch {
                        length: u64::from(header.length),
                        expected: len,
                    },
                    len_at,
                ))
            }
        };
        let min = |len: u64| -> Result<(), DecodeError> {
            if u64::from(header.length) >= len {
                Ok(())
            } else {
                Err(DecodeError::new(
                    DecodeErrorKind::LengthTooShort {
                        length: u64::from(header.length),
                        min: len,
                    },
                    len_at,
                ))
            }
        };
        let body = match MessageType(header.message_type) {
            MessageType::EXPERIMENTAL => Body::Experimental(r.rest()),
            MessageType::VERSION_REQUEST => {
                fixed(20)?;
                Body::VersionRequest(VersionRequest::decode(&mut r)?)
            }
            MessageType::VERSION_RESPONSE => {
                fixed(20)?;
                Body::VersionResponse(VersionResponse::decode(&mut r)?)
            }
            MessageType::SASL_MECHANISMS => Body::SaslMechanisms(SaslMechanisms::decode(&mut r)?),
            MessageType::SASL_MECHANISM_SELECTION => {
                min(17)?;
                Body::SaslMechanismSelection(SaslMechanismSelection::decode(&mut r)?)
            }
            MessageType::SASL_AUTHENTICATION_DATA => Body::SaslAuthenticationData(r.rest()),
            MessageType::SASL_RESULT => {
                min(17)?;
                Body::SaslResult(SaslResult::decode(&mut r)?)
            }
            MessageType::PB_TNC_BATCH => Body::PbTncBatch(r.rest()),
            MessageType::PT_TLS_ERROR => {
                min(24)?;
                Body::Error(PtTlsError::decode(&mut r)?)
            }
            _ => Body::Unknown(UnknownMessage {
                vendor: header.vendor,
                message_type: header.message_type,
                value: r.rest(),
            }),
        };
        r.finish()?;
        Ok(body)
    }

    /// Exact length of the encoded message (header included).
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN.saturating_add(self.body.value_len())
    }

    /// The header this message is sent with (Reserved 0).
    ///
    /// A value too large for the 32-bit Length field (over 4 GiB) gets Length `0xffffffff`;
    /// [`crate::Session::send_batch`] refuses such values before they get here.
    pub fn header(&self) -> MessageHeader {
        let (vendor, message_type) = self.body.kind();
        MessageHeader {
            reserved: 0,
            vendor,
            message_type,
            length: u32::try_from(self.encoded_len()).unwrap_or(u32::MAX),
            identifier: self.identifier,
        }
    }

    /// Appends the encoded message to `out`.
    pub fn encode(&self, out: &mut BytesMut) {
        out.reserve(self.encoded_len());
        self.header().write(out);
        self.body.encode_value(out);
    }

    /// The encoded message as one buffer.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.encoded_len());
        self.encode(&mut out);
        out.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{ErrorCode, SaslResultCode};

    fn rt(wire: &[u8], body: Body, id: u32) {
        let m = Message::decode(Bytes::copy_from_slice(wire)).unwrap();
        assert_eq!(m, Message::new(id, body));
        assert_eq!(m.encoded_len(), wire.len());
        assert_eq!(&m.to_bytes()[..], wire);
    }

    fn err(wire: &[u8]) -> DecodeError {
        Message::decode_at(Bytes::copy_from_slice(wire), 100).unwrap_err()
    }

    #[test]
    fn version_request_captured() {
        // strongSwan capture, RFC 6876 §3.7.1.
        rt(
            &[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 20, 0, 0, 0, 0, 0, 1, 1, 1],
            Body::VersionRequest(VersionRequest::V1),
            0,
        );
    }

    #[test]
    fn version_response() {
        rt(
            &[0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 20, 0, 0, 0, 7, 0, 0, 0, 1],
            Body::VersionResponse(VersionResponse { version: 1 }),
            7,
        );
    }

    #[test]
    fn experimental_auth_data_batch_unknown() {
        rt(
            &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 17, 0, 0, 0, 1, 0xab],
            Body::Experimental(Bytes::from_static(&[0xab])),
            1,
        );
        rt(
            &[0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 18, 0, 0, 0, 1, 1, 2],
            Body::SaslAuthenticationData(Bytes::from_static(&[1, 2])),
            1,
        );
        rt(
            &[0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 16, 0xff, 0xff, 0xff, 0xff],
            Body::PbTncBatch(Bytes::new()),
            u32::MAX,
        );
        rt(
            &[0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 17, 0, 0, 0, 0, 5],
            Body::Unknown(
                UnknownMessage::new(VendorId::IETF, 9, Bytes::from_static(&[5])).unwrap(),
            ),
            0,
        );
        rt(
            &[0, 0, 0x90, 0x2a, 0, 0, 0, 1, 0, 0, 0, 16, 0, 0, 0, 0],
            Body::Unknown(UnknownMessage::new(VendorId::ITA, 1, Bytes::new()).unwrap()),
            0,
        );
    }

    #[test]
    fn sasl_messages() {
        rt(
            &[
                0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 22, 0, 0, 0, 0, 5, b'P', b'L', b'A', b'I', b'N',
            ],
            Body::SaslMechanisms(SaslMechanisms::new(vec![MechanismName::PLAIN])),
            0,
        );
        rt(
            &[0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 16, 0, 0, 0, 1],
            Body::SaslMechanisms(SaslMechanisms::empty()),
            1,
        );
        let mut sel = vec![0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 35, 0, 0, 0, 1, 5];
        sel.extend_from_slice(b"PLAIN\0alice\0s3cret");
        rt(
            &sel,
            Body::SaslMechanismSelection(SaslMechanismSelection {
                mechanism: MechanismName::PLAIN,
                initial_response: Bytes::from_static(b"\0alice\0s3cret"),
            }),
            1,
        );
        rt(
            &[0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 18, 0, 0, 0, 2, 0, 1],
            Body::SaslResult(SaslResult::new(SaslResultCode::FAILURE)),
            2,
        );
        // strongSwan's 1-byte form survives a round trip.
        rt(
            &[0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 17, 0, 0, 0, 2, 0],
            Body::SaslResult(SaslResult {
                code: SaslResultCode::SUCCESS,
                data: Bytes::new(),
                form: ResultForm::OneByte,
            }),
            2,
        );
    }

    #[test]
    fn pt_tls_error_every_code() {
        for code in 0..=6u32 {
            let mut wire = vec![0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 40, 0, 0, 0, 3];
            wire.extend_from_slice(&[0, 0, 0, 0]);
            wire.extend_from_slice(&code.to_be_bytes());
            wire.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 20, 0, 0, 0, 9]);
            let original = Bytes::copy_from_slice(&wire[24..]);
            rt(
                &wire,
                Body::Error(PtTlsError::new(VendorId::IETF, ErrorCode(code), original)),
                3,
            );
        }
    }

    #[test]
    fn header_errors_have_header_offsets() {
        // Length 15 < 16.
        let e = err(&[0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 15, 0, 0, 0, 0]);
        assert_eq!(e.offset, 108);
        assert!(matches!(
            e.kind,
            DecodeErrorKind::LengthTooShort {
                length: 15,
                min: 16
            }
        ));
        // Length past the input.
        let e = err(&[0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 17, 0, 0, 0, 0]);
        assert!(matches!(e.kind, DecodeErrorKind::LengthOverrun { .. }));
        assert_eq!(e.offset, 108);
        // Trailing bytes.
        let e = err(&[0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 16, 0, 0, 0, 0, 1]);
        assert_eq!(
            e,
            DecodeError::new(DecodeErrorKind::TrailingBytes { count: 1 }, 116)
        );
        // Reserved vendor and type.
        let e = err(&[0, 0xff, 0xff, 0xff, 0, 0, 0, 7, 0, 0, 0, 16, 0, 0, 0, 0]);
        assert_eq!(e, DecodeError::new(DecodeErrorKind::ReservedVendor, 101));
        let e = err(&[0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 16, 0, 0, 0, 0]);
        assert_eq!(e, DecodeError::new(DecodeErrorKind::ReservedType, 104));
        // Fixed-length Version Request with Length 21.
        let e = err(&[
            0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 21, 0, 0, 0, 0, 0, 1, 1, 1, 0,
        ]);
        assert_eq!(
            e,
            DecodeError::new(
                DecodeErrorKind::LengthMismatch {
                    length: 21,
                    expected: 20
                },
                108
            )
        );
        let e = err(&[0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 16, 0, 0, 0, 0]);
        assert!(matches!(
            e.kind,
            DecodeErrorKind::LengthMismatch { length: 16, .. }
        ));
        // SASL Result and PT-TLS Error below their minimum.
        let e = err(&[0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 16, 0, 0, 0, 0]);
        assert!(matches!(
            e.kind,
            DecodeErrorKind::LengthTooShort { min: 17, .. }
        ));
        let e = err(&[0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 17, 0, 0, 0, 0, 0]);
        assert!(matches!(
            e.kind,
            DecodeErrorKind::LengthTooShort { min: 24, .. }
        ));
        let e = err(&[0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 16, 0, 0, 0, 0]);
        assert!(matches!(
            e.kind,
            DecodeErrorKind::LengthTooShort { min: 17, .. }
        ));
        // Truncated header.
        let e = err(&[0, 0, 0]);
        assert!(matches!(e.kind, DecodeErrorKind::UnexpectedEnd { .. }));
    }

    #[test]
    fn reserved_bytes_ignored() {
        let m = Message::decode(Bytes::from_static(&[
            0x55, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 20, 0, 0, 0, 0, 1, 2, 3, 1,
        ]))
        .unwrap();
        assert_eq!(
            m.body,
            Body::VersionResponse(VersionResponse { version: 1 })
        );
        assert_eq!(m.to_bytes()[0], 0);
    }

    #[test]
    fn unknown_constructor_refuses_reserved_and_known() {
        assert!(UnknownMessage::new(VendorId::RESERVED, 1, Bytes::new()).is_none());
        assert!(UnknownMessage::new(VendorId::ITA, u32::MAX, Bytes::new()).is_none());
        assert!(UnknownMessage::new(VendorId::IETF, 7, Bytes::new()).is_none());
        let u = UnknownMessage::new(VendorId::TCG, 7, Bytes::from_static(b"x")).unwrap();
        assert_eq!(
            (u.vendor(), u.message_type(), &u.value()[..]),
            (VendorId::TCG, 7, &b"x"[..])
        );
    }
}
