//! PB-PA (RFC 5793 §4.5): a PA message (PA-TNC, RFC 5792) addressed by vendor and subtype.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |    Flags      |               PA Message Vendor ID            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                           PA Subtype                          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Posture Collector Identifier | Posture Validator Identifier  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                 PA Message Body (Variable Length)             |
//! ```

use bytes::{Buf, BufMut, Bytes, BytesMut};
use nea_wire::{DecodeError, DecodeErrorKind, PaType, VendorId};

use crate::Error;
use crate::registry::PaSubtype;

/// The EXCL flag (exclusive delivery).
const EXCL: u8 = 0x80;

/// Size of the PB-PA fixed part after the 12-byte message header.
pub(crate) const PA_FIXED_LEN: usize = 12;

/// PB-PA message (RFC 5793 §4.5). The body is a zero-copy slice of the received batch; the
/// PA-TNC message inside is decoded by the `pa-tnc` crate, not here.
///
/// `Debug` names the subtype within its vendor's namespace ([`PaType`]): ITA subtype 1 prints
/// as `ITA/Test`, not as the IETF `Operating System`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PbPa {
    /// EXCL: deliver only to the collector/validator named by the peer's ID field.
    pub exclusive: bool,
    /// PA Message Vendor ID.
    pub vendor: VendorId,
    /// PA Subtype.
    pub subtype: PaSubtype,
    /// Posture Collector Identifier (`0xffff` = none).
    pub collector_id: u16,
    /// Posture Validator Identifier (`0xffff` = none).
    pub validator_id: u16,
    /// PA Message Body (a PA-TNC message).
    pub body: Bytes,
}

impl core::fmt::Debug for PbPa {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PbPa")
            .field("exclusive", &self.exclusive)
            .field("pa_type", &self.pa_type())
            .field("collector_id", &self.collector_id)
            .field("validator_id", &self.validator_id)
            .field("body", &self.body)
            .finish()
    }
}

impl PbPa {
    /// The (vendor, subtype) pair, which names the component.
    pub const fn pa_type(&self) -> PaType {
        PaType::new(self.vendor, self.subtype)
    }

    /// The "no particular collector/validator" identifier (RFC 5793 §4.5).
    pub const ANY_ID: u16 = 0xffff;

    /// A non-exclusive PB-PA with both IDs set to [`PbPa::ANY_ID`].
    pub fn new(vendor: VendorId, subtype: PaSubtype, body: Bytes) -> Self {
        Self {
            exclusive: false,
            vendor,
            subtype,
            collector_id: Self::ANY_ID,
            validator_id: Self::ANY_ID,
            body,
        }
    }

    /// A reply to this message from `side` (the side that received it), sent by the
    /// collector or validator `own_id`: same vendor and subtype, the sender's ID kept as the
    /// destination, `own_id` as the source, and EXCL set when the destination is known (not
    /// [`PbPa::ANY_ID`]), so only the original sender gets it.
    ///
    /// ```
    /// # use pb_tnc::{PbPa, PaSubtype, Side};
    /// # use nea_wire::VendorId;
    /// let request = PbPa::new(VendorId::IETF, PaSubtype::SWIMA, "q".into()).with_collector_id(3);
    /// let reply = request.reply(Side::Server, 7, "a".into());
    /// assert_eq!((reply.collector_id, reply.validator_id, reply.exclusive), (3, 7, true));
    /// ```
    #[must_use]
    pub fn reply(&self, side: crate::Side, own_id: u16, body: Bytes) -> Self {
        let (collector_id, validator_id, to) = match side {
            crate::Side::Server => (self.collector_id, own_id, self.collector_id),
            crate::Side::Client => (own_id, self.validator_id, self.validator_id),
        };
        Self {
            exclusive: to != Self::ANY_ID,
            vendor: self.vendor,
            subtype: self.subtype,
            collector_id,
            validator_id,
            body,
        }
    }

    /// Sets the EXCL flag.
    #[must_use]
    pub fn with_exclusive(mut self, exclusive: bool) -> Self {
        self.exclusive = exclusive;
        self
    }

    /// Sets the Posture Collector Identifier.
    #[must_use]
    pub fn with_collector_id(mut self, id: u16) -> Self {
        self.collector_id = id;
        self
    }

    /// Sets the Posture Validator Identifier.
    #[must_use]
    pub fn with_validator_id(mut self, id: u16) -> Self {
        self.validator_id = id;
        self
    }

    pub(crate) fn value_len(&self) -> usize {
        PA_FIXED_LEN.saturating_add(self.body.len())
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        // RFC 5793 §4.5: MUST NOT send the reserved vendor ID or PA subtype.
        if self.vendor.is_reserved() {
            return Err(Error::InvalidValue {
                field: "PA Message Vendor ID",
            });
        }
        if self.subtype == PaSubtype::RESERVED {
            return Err(Error::InvalidValue {
                field: "PA Subtype",
            });
        }
        Ok(())
    }

    pub(crate) fn encode_value(&self, out: &mut BytesMut) {
        out.put_u8(if self.exclusive { EXCL } else { 0 });
        nea_wire::put_u24(out, self.vendor.get());
        out.put_u32(self.subtype.get());
        out.put_u16(self.collector_id);
        out.put_u16(self.validator_id);
        out.put_slice(&self.body);
    }

    /// `value` is the message value, first byte at `value_at`; `at` is the message offset.
    /// Reads the 12 fixed bytes from a slice and advances `value` past them, so the body is
    /// the value itself (no reference-count traffic on the hot path).
    pub(crate) fn decode_value(
        mut value: Bytes,
        value_at: usize,
        at: usize,
    ) -> Result<Self, DecodeError> {
        // RFC 5793 §4.5: Length below 24 is a fatal Invalid Parameter.
        super::min_len(value.len() + super::MESSAGE_HEADER_LEN, at, 24)?;
        let Some(&[flags, v0, v1, v2, s0, s1, s2, s3, c0, c1, p0, p1]) = value.get(..PA_FIXED_LEN)
        else {
            return Err(DecodeError::new(
                DecodeErrorKind::UnexpectedEnd {
                    needed: PA_FIXED_LEN.saturating_sub(value.len()),
                },
                value_at,
            ));
        };
        let vendor = VendorId::from_u24(u32::from_be_bytes([0, v0, v1, v2]));
        // RFC 5793 §4.5: a reserved PA Message Vendor ID is a fatal Invalid Parameter.
        if vendor.is_reserved() {
            return Err(DecodeError::new(
                DecodeErrorKind::ReservedVendor,
                value_at + 1,
            ));
        }
        let subtype = PaSubtype(u32::from_be_bytes([s0, s1, s2, s3]));
        // RFC 5793 §4.5: a reserved PA Subtype is a fatal Invalid Parameter.
        if subtype == PaSubtype::RESERVED {
            return Err(DecodeError::new(
                DecodeErrorKind::ReservedType,
                value_at + 4,
            ));
        }
        value.advance(PA_FIXED_LEN);
        Ok(Self {
            exclusive: flags & EXCL != 0,
            vendor,
            subtype,
            collector_id: u16::from_be_bytes([c0, c1]),
            validator_id: u16::from_be_bytes([p0, p1]),
            body: value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::BatchType;
    use crate::wire::{Batch, Message, Side};

    #[test]
    fn exact_bytes_and_roundtrip() {
        // The strongSwan capture's first IMC message header (01/07), with a 4-byte body.
        let wire = Bytes::from_static(&[
            2, 0, 0, 1, 0, 0, 0, 36, //
            0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 28, //
            0x00, 0x00, 0x90, 0x2a, 0, 0, 0, 1, 0, 1, 0xff, 0xff, 1, 2, 3, 4,
        ]);
        let batch = Batch::decode(wire.clone()).unwrap();
        let expected = PbPa::new(
            VendorId::ITA,
            PaSubtype(1),
            Bytes::from_static(&[1, 2, 3, 4]),
        )
        .with_collector_id(1);
        assert_eq!(batch.messages(), &[Message::Pa(expected.clone())]);
        let built =
            Batch::new(Side::Client, BatchType::Cdata, vec![Message::Pa(expected)]).unwrap();
        assert_eq!(built.to_bytes(), wire);
        // the body is a slice of the input (zero copy)
        let Message::Pa(pa) = &batch.messages()[0] else {
            panic!()
        };
        assert_eq!(pa.body.as_ptr(), wire[32..].as_ptr());
    }

    #[test]
    fn exclusive_flag() {
        let pa = PbPa::new(VendorId::IETF, PaSubtype::OPERATING_SYSTEM, Bytes::new())
            .with_exclusive(true)
            .with_validator_id(7);
        let batch = Batch::new(
            Side::Server,
            BatchType::Sdata,
            vec![Message::Pa(pa.clone())],
        )
        .unwrap();
        let bytes = batch.to_bytes();
        assert_eq!(
            &bytes[8..],
            &[
                0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 24, 0x80, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0, 7
            ]
        );
        assert_eq!(Batch::decode(bytes).unwrap().messages(), &[Message::Pa(pa)]);
    }

    #[test]
    fn debug_names_the_subtype_in_its_vendors_namespace() {
        let ita = PbPa::new(VendorId::ITA, PaSubtype(1), Bytes::new());
        let dbg = format!("{ita:?}");
        assert!(dbg.contains("pa_type: PaType(ITA/Test)"), "{dbg}");
        assert!(!dbg.contains("Operating System"), "{dbg}");
        let os = PbPa::new(VendorId::IETF, PaSubtype::OPERATING_SYSTEM, Bytes::new());
        assert_eq!(os.pa_type().to_string(), "IETF/Operating System");
    }

    #[test]
    fn batch_header_decodes_from_a_plain_slice() {
        let wire: &[u8] = &[2, 0x80, 0, 2, 0, 0, 0, 8];
        let h = crate::BatchHeader::decode(wire, 0).unwrap();
        assert_eq!(
            (h.sender, h.batch_type, h.length),
            (Side::Server, BatchType::Sdata, 8)
        );
        let e = crate::BatchHeader::decode(&wire[..5], 10).unwrap_err();
        assert_eq!(e.offset, 10);
        assert!(matches!(
            e.kind,
            DecodeErrorKind::UnexpectedEnd { needed: 3 }
        ));
    }

    fn one(msg: &[u8]) -> Result<Batch, DecodeError> {
        let mut v = vec![2, 0, 0, 1, 0, 0, 0, 0];
        v.extend_from_slice(msg);
        let len = u32::try_from(v.len()).unwrap();
        v[4..8].copy_from_slice(&len.to_be_bytes());
        Batch::decode(Bytes::from(v))
    }

    #[test]
    fn negative() {
        // RFC 5793 §4.5: length < 24 at the length field
        let e = one(&[
            0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 23, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ])
        .unwrap_err();
        assert_eq!(e.offset, 16);
        assert!(matches!(
            e.kind,
            DecodeErrorKind::LengthTooShort {
                length: 23,
                min: 24
            }
        ));
        // RFC 5793 §4.5: NOSKIP clear
        let e = one(&[
            0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ])
        .unwrap_err();
        assert_eq!(
            e,
            DecodeError::new(DecodeErrorKind::InvalidValue { field: "NOSKIP" }, 8)
        );
        // reserved PA vendor at value + 1
        let e = one(&[
            0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 24, 0, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0,
        ])
        .unwrap_err();
        assert_eq!(e, DecodeError::new(DecodeErrorKind::ReservedVendor, 21));
        // reserved subtype at value + 4
        let e = one(&[
            0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 24, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
        ])
        .unwrap_err();
        assert_eq!(e, DecodeError::new(DecodeErrorKind::ReservedType, 24));
        assert!(
            PbPa::new(VendorId::RESERVED, PaSubtype(0), Bytes::new())
                .validate()
                .is_err()
        );
        assert!(
            PbPa::new(VendorId::IETF, PaSubtype::RESERVED, Bytes::new())
                .validate()
                .is_err()
        );
    }
}
