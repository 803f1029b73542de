//! PA-TNC (RFC 5792) view.

use bytes::Bytes;
use nea_wire::DecodeError;
use serde_json::Value;

/// Decodes one PA-TNC message starting at absolute offset `base`.
pub fn message_to_json(input: Bytes, base: usize) -> Result<Value, DecodeError> {
    let _ = (input, base);
    Ok(Value::Null)
}
