//! The PA-TNC message (RFC 5792 §3.6) and the attribute TLV (RFC 5792 §4.1).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |    Version    |                    Reserved                   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       Message Identifier                      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Flags     |          PA-TNC Attribute Vendor ID           |  \
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+   |
//! |                     PA-TNC Attribute Type                     |   | zero or more
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+   | attributes
//! |                    PA-TNC Attribute Length                    |   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+   |
//! |                 Attribute Value (variable length)             |  /
//! ```

use bytes::{BufMut, Bytes, BytesMut};
use nea_wire::{
    DecodeError, DecodeErrorKind, NOSKIP, Reader, TLV_HEADER_LEN, TlvHeader, TlvIter, VendorId,
};

use crate::{AttributeType, Limits};

/// The only PA-TNC version (RFC 5792 §3.6).
pub const PA_TNC_VERSION: u8 = 1;
/// Size of the PA-TNC message header.
pub const MESSAGE_HEADER_LEN: usize = 8;

/// One PA-TNC attribute as it travels: flags, vendor, type and the raw value.
///
/// Any attribute, known or not, decodes to this and re-encodes byte for byte. Typed views
/// come from [`crate::PaAttribute::from_attribute`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Attribute {
    /// The flags byte as received (NOSKIP = `0x80`; reserved bits are kept).
    pub flags: u8,
    /// PA-TNC Attribute Vendor ID.
    pub vendor: VendorId,
    /// PA-TNC Attribute Type (in the `vendor` namespace).
    pub kind: u32,
    /// The attribute value, a slice of the received message.
    pub value: Bytes,
    /// Absolute offset of the value's first byte in the buffer it was decoded from (0 for
    /// attributes built locally). Used to report errors at the right byte.
    pub value_offset: usize,
}

impl Attribute {
    /// A locally built attribute.
    pub fn new(vendor: VendorId, kind: u32, noskip: bool, value: Bytes) -> Self {
        Self {
            flags: if noskip { NOSKIP } else { 0 },
            vendor,
            kind,
            value,
            value_offset: 0,
        }
    }

    /// Whether NOSKIP is set.
    pub fn noskip(&self) -> bool {
        self.flags & NOSKIP != 0
    }

    /// Whether this is the IETF attribute `t`.
    pub fn is_ietf(&self, t: AttributeType) -> bool {
        self.vendor == VendorId::IETF && self.kind == t.0
    }

    /// The exact encoded size, header included.
    pub fn encoded_len(&self) -> usize {
        TLV_HEADER_LEN + self.value.len()
    }

    /// The 12-byte header this attribute encodes with.
    ///
    /// Values longer than `u32::MAX - 12` cannot be built by this crate's constructors; the
    /// length saturates rather than wrapping.
    pub fn header(&self) -> TlvHeader {
        TlvHeader {
            flags: self.flags,
            vendor: self.vendor,
            kind: self.kind,
            length: u32::try_from(self.encoded_len()).unwrap_or(u32::MAX),
        }
    }

    /// Appends header and value.
    pub fn encode(&self, out: &mut impl BufMut) {
        self.header().write(out);
        out.put_slice(&self.value);
    }

    /// Decodes exactly one attribute (header and value) from `buf`, whose first byte is at
    /// absolute offset `base`. Trailing bytes are an error.
    pub fn decode(buf: Bytes, base: usize) -> Result<Self, DecodeError> {
        let mut it = TlvIter::new(buf.clone(), base);
        let tlv = match it.next() {
            Some(t) => t?,
            None => {
                return Err(DecodeError::new(
                    DecodeErrorKind::UnexpectedEnd {
                        needed: TLV_HEADER_LEN,
                    },
                    base,
                ));
            }
        };
        let used = tlv.value.len() + TLV_HEADER_LEN;
        if used != buf.len() {
            return Err(DecodeError::new(
                DecodeErrorKind::TrailingBytes {
                    count: buf.len() - used,
                },
                base + used,
            ));
        }
        tlv.header.check_reserved(base)?;
        Ok(Self::from_tlv(tlv))
    }

    fn from_tlv(t: nea_wire::Tlv) -> Self {
        let value_offset = t.value_offset();
        Self {
            flags: t.header.flags,
            vendor: t.header.vendor,
            kind: t.header.kind,
            value: t.value,
            value_offset,
        }
    }
}

/// A PA-TNC message: header and attributes (RFC 5792 §3.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaTncMessage {
    /// Message Identifier: unique per sender within an assessment (RFC 5792 §3.6).
    pub message_id: u32,
    /// The attributes in wire order.
    pub attributes: Vec<Attribute>,
    /// The three reserved header bytes as received (sent as 0 by this crate).
    pub reserved: [u8; 3],
}

impl PaTncMessage {
    /// An empty message with the given identifier.
    pub fn new(message_id: u32) -> Self {
        Self {
            message_id,
            attributes: Vec::new(),
            reserved: [0; 3],
        }
    }

    /// Adds an attribute (builder style).
    #[must_use]
    pub fn with(mut self, attribute: Attribute) -> Self {
        self.attributes.push(attribute);
        self
    }

    /// The exact encoded size.
    pub fn encoded_len(&self) -> usize {
        MESSAGE_HEADER_LEN
            + self
                .attributes
                .iter()
                .map(Attribute::encoded_len)
                .sum::<usize>()
    }

    /// Appends the encoded message.
    pub fn encode(&self, out: &mut impl BufMut) {
        out.put_u8(PA_TNC_VERSION);
        out.put_slice(&self.reserved);
        out.put_u32(self.message_id);
        for a in &self.attributes {
            a.encode(out);
        }
    }

    /// The encoded message as `Bytes`.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.encoded_len());
        self.encode(&mut out);
        out.freeze()
    }

    /// Decodes one complete PA-TNC message (the body of a PB-PA message) with default limits.
    pub fn decode(buf: Bytes) -> Result<Self, DecodeError> {
        Self::decode_with(buf, 0, &Limits::default())
    }

    /// Decodes one complete PA-TNC message whose first byte is at absolute offset `base`.
    ///
    /// Errors carry absolute offsets; [`crate::error_reply`] turns one into the PA-TNC Error
    /// attribute RFC 5792 §4.2.8 asks for.
    pub fn decode_with(buf: Bytes, base: usize, limits: &Limits) -> Result<Self, DecodeError> {
        if buf.len() > limits.max_message_size {
            return Err(DecodeError::new(
                DecodeErrorKind::TooLarge {
                    length: buf.len() as u64,
                    limit: limits.max_message_size as u64,
                },
                base,
            ));
        }
        let mut r = Reader::new(buf, base);
        let version = r.u8()?;
        if version != PA_TNC_VERSION {
            // RFC 5792 §3.6: answered with Version Not Supported.
            return Err(DecodeError::new(
                DecodeErrorKind::UnsupportedVersion { version },
                base,
            ));
        }
        let reserved = r.bytes::<3>()?;
        let message_id = r.u32()?;
        let body_base = r.offset();
        let mut attributes = Vec::new();
        for tlv in TlvIter::new(r.rest(), body_base) {
            let tlv = tlv?;
            // RFC 5792 §4.1: reserved vendor ID / type are invalid parameters.
            tlv.header.check_reserved(tlv.offset)?;
            if attributes.len() >= limits.max_attributes {
                return Err(DecodeError::new(
                    DecodeErrorKind::TooLarge {
                        length: attributes.len() as u64 + 1,
                        limit: limits.max_attributes as u64,
                    },
                    tlv.offset,
                ));
            }
            attributes.push(Attribute::from_tlv(tlv));
        }
        Ok(Self {
            message_id,
            attributes,
            reserved,
        })
    }

    /// The first 8 bytes of an encoded message, as PA-TNC Error attributes copy them.
    pub fn header_bytes(&self) -> [u8; 8] {
        let [a, b, c] = self.reserved;
        let [d, e, f, g] = self.message_id.to_be_bytes();
        [PA_TNC_VERSION, a, b, c, d, e, f, g]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = &[
        1, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, // header
        0x00, 0, 0, 0, 0, 0, 0, 11, 0, 0, 0, 16, 0, 0, 0, 2, // Forwarding Enabled: unknown
        0x80, 0x00, 0x90, 0x2a, 0, 0, 0, 7, 0, 0, 0, 14, 0xab, 0xcd, // ITA/7 NOSKIP
    ];

    #[test]
    fn decode_encode_exact() {
        let m = PaTncMessage::decode(Bytes::from_static(MSG)).unwrap();
        assert_eq!(m.message_id, 0xdeadbeef);
        assert_eq!(m.attributes.len(), 2);
        assert!(m.attributes[0].is_ietf(AttributeType::FORWARDING_ENABLED));
        assert_eq!(m.attributes[0].value_offset, 20);
        assert!(m.attributes[1].noskip());
        assert_eq!(m.attributes[1].vendor, VendorId::ITA);
        assert_eq!(m.encoded_len(), MSG.len());
        assert_eq!(&m.to_bytes()[..], MSG);
    }

    #[test]
    fn version_and_lengths() {
        let mut bad = MSG.to_vec();
        bad[0] = 2;
        let e = PaTncMessage::decode(Bytes::from(bad)).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::UnsupportedVersion { version: 2 });
        assert_eq!(e.offset, 0);

        let mut bad = MSG.to_vec();
        bad[19] = 11; // first attribute length 11
        let e = PaTncMessage::decode(Bytes::from(bad)).unwrap_err();
        // RFC 5792 §4.2.8.1: a bad Length of the first attribute is reported at offset 16.
        assert_eq!(e.offset, 16);

        let mut bad = MSG.to_vec();
        bad[19] = 40; // overruns
        let e = PaTncMessage::decode(Bytes::from(bad)).unwrap_err();
        assert_eq!(e.offset, 16);
        assert!(matches!(e.kind, DecodeErrorKind::LengthOverrun { .. }));

        let e = PaTncMessage::decode(Bytes::from_static(&[1, 0, 0])).unwrap_err();
        assert!(matches!(e.kind, DecodeErrorKind::UnexpectedEnd { .. }));
    }

    #[test]
    fn reserved_vendor_and_type() {
        let mut bad = MSG.to_vec();
        bad[9..12].copy_from_slice(&[0xff, 0xff, 0xff]);
        let e = PaTncMessage::decode(Bytes::from(bad)).unwrap_err();
        assert_eq!(e, DecodeError::new(DecodeErrorKind::ReservedVendor, 9));
        let mut bad = MSG.to_vec();
        bad[12..16].copy_from_slice(&[0xff; 4]);
        let e = PaTncMessage::decode(Bytes::from(bad)).unwrap_err();
        assert_eq!(e, DecodeError::new(DecodeErrorKind::ReservedType, 12));
    }

    #[test]
    fn limits() {
        let limits = Limits {
            max_attributes: 1,
            ..Limits::default()
        };
        let e = PaTncMessage::decode_with(Bytes::from_static(MSG), 0, &limits).unwrap_err();
        assert_eq!(e.offset, 24);
        let limits = Limits {
            max_message_size: 10,
            ..Limits::default()
        };
        assert!(PaTncMessage::decode_with(Bytes::from_static(MSG), 0, &limits).is_err());
    }

    #[test]
    fn single_attribute() {
        let a = Attribute::decode(Bytes::from_static(&MSG[8..24]), 8).unwrap();
        assert_eq!(a.value_offset, 20);
        let e = Attribute::decode(Bytes::from_static(&MSG[8..26]), 8).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::TrailingBytes { count: 2 });
    }
}
