//! SWIMA (RFC 8412) view of PA-TNC attribute values.

use bytes::Bytes;
use nea_wire::{DecodeError, VendorId};
use serde_json::Value;

/// The fields of a SWIMA attribute value (`None` when vendor/type is not a SWIMA attribute).
pub fn attribute_to_json(
    vendor: VendorId,
    kind: u32,
    value: Bytes,
    base: usize,
) -> Option<Result<Value, DecodeError>> {
    let _ = (vendor, kind, value, base);
    None
}
