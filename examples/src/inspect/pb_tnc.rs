//! PB-TNC (RFC 5793) view.

use bytes::Bytes;
use nea_wire::DecodeError;
use serde_json::Value;

/// Decodes one PB-TNC batch starting at absolute offset `base`.
pub fn batch_to_json(input: Bytes, base: usize) -> Result<Value, DecodeError> {
    let _ = (input, base);
    Ok(Value::Null)
}
