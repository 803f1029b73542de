//! Typed PA-TNC attributes: the [`PaAttribute`] trait (the plug-in point other crates such as
//! `swima` implement) and the IETF standard attributes of RFC 5792 §4.2.

use bytes::{BufMut, Bytes, BytesMut};
use nea_wire::{DecodeError, DecodeErrorKind, VendorId};

use crate::Attribute;

pub(crate) mod error;
pub(crate) mod ietf;
pub(crate) mod segmentation;

/// A typed PA-TNC attribute value with its vendor/type identity.
///
/// `decode_value(encode_value(x)) == x` holds for every implementation in this workspace, and
/// `value_len` is exact.
pub trait PaAttribute: Sized {
    /// PA-TNC Attribute Vendor ID.
    const VENDOR: VendorId;
    /// PA-TNC Attribute Type.
    const TYPE: u32;
    /// The NOSKIP flag this attribute is sent with.
    const NOSKIP: bool = false;

    /// Decodes the attribute value (without the 12-byte header); `base` is the absolute
    /// offset of the value's first byte.
    fn decode_value(value: Bytes, base: usize) -> Result<Self, DecodeError>;

    /// The exact size of the encoded value.
    fn value_len(&self) -> usize;

    /// Appends the encoded value.
    fn encode_value<B: BufMut>(&self, out: &mut B);

    /// Whether `a` carries this attribute's vendor and type.
    fn matches(a: &Attribute) -> bool {
        a.vendor == Self::VENDOR && a.kind == Self::TYPE
    }

    /// Decodes the value of a received attribute, reporting errors at absolute offsets.
    fn from_attribute(a: &Attribute) -> Result<Self, DecodeError> {
        Self::decode_value(a.value.clone(), a.value_offset)
    }

    /// The attribute ready to put in a message.
    fn to_attribute(&self) -> Attribute {
        let mut v = BytesMut::with_capacity(self.value_len());
        self.encode_value(&mut v);
        Attribute::new(Self::VENDOR, Self::TYPE, Self::NOSKIP, v.freeze())
    }
}

/// The error for a fixed-size value of the wrong size: reported at the attribute's Length
/// field, 4 bytes before the value.
pub(crate) fn length_mismatch(len: usize, expected: usize, base: usize) -> DecodeError {
    DecodeError::new(
        DecodeErrorKind::LengthMismatch {
            length: (len + nea_wire::TLV_HEADER_LEN) as u64,
            expected: (expected + nea_wire::TLV_HEADER_LEN) as u64,
        },
        base.saturating_sub(4),
    )
}

/// Checks that `value` has exactly `expected` bytes.
pub(crate) fn exact_len(value: &Bytes, expected: usize, base: usize) -> Result<(), DecodeError> {
    if value.len() == expected {
        Ok(())
    } else {
        Err(length_mismatch(value.len(), expected, base))
    }
}
