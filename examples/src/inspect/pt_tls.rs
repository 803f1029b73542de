//! PT-TLS (RFC 6876) view: every message of a stream with its 16-byte header and typed value;
//! PB-TNC Batch values are shown by the PB-TNC view under `pb_tnc_batch`.

use bytes::Bytes;
use nea_wire::{DecodeError, Reader, VendorId};
use pt_tls::wire::{HEADER_LEN, MessageHeader, ResultForm};
use pt_tls::{Body, ErrorCode, Message, MessageType};
use serde_json::{Map, Value, json};

use super::{named, vendor};

/// Decodes a stream of PT-TLS messages (one or more) starting at absolute offset `base`.
pub fn stream_to_json(input: Bytes, base: usize) -> Result<Value, DecodeError> {
    match stream_partial(input, base) {
        (v, None) => Ok(v),
        (_, Some(e)) => Err(e),
    }
}

/// Like [`stream_to_json`], but a damaged or truncated stream still yields the messages
/// before the damage, with the error that stopped the walk (its absolute offset included).
pub fn stream_partial(input: Bytes, base: usize) -> (Value, Option<DecodeError>) {
    let mut messages = Vec::new();
    let mut pos = 0usize;
    let mut error = None;
    while pos < input.len() {
        let rest = input.slice(pos..);
        let at = base + pos;
        let header = match MessageHeader::read(&mut Reader::new(rest.clone(), at)) {
            Ok(h) => h,
            Err(e) => {
                error = Some(e);
                break;
            }
        };
        // Length below 16 or past the input: `decode_at` reports it at the Length field.
        let len = usize::try_from(header.length).unwrap_or(usize::MAX);
        let unit = if len >= HEADER_LEN && len <= rest.len() {
            rest.slice(..len)
        } else {
            rest
        };
        match Message::decode_at(unit.clone(), at) {
            Ok(m) => messages.push(message_json(&header, &m, &unit, at)),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
        pos += len;
    }
    (json!({ "messages": messages }), error)
}

fn hex(b: &[u8]) -> Value {
    json!(hex::encode(b))
}

fn message_json(h: &MessageHeader, m: &Message, raw: &Bytes, at: usize) -> Value {
    let type_name = if h.vendor == VendorId::IETF {
        MessageType(h.message_type).name()
    } else {
        None
    };
    let mut o = Map::new();
    o.insert("offset".into(), json!(at));
    o.insert("reserved".into(), json!(h.reserved));
    o.insert("message_type_vendor_id".into(), vendor(h.vendor));
    o.insert(
        "message_type".into(),
        named(u64::from(h.message_type), type_name),
    );
    o.insert("message_length".into(), json!(h.length));
    o.insert("message_identifier".into(), json!(h.identifier));
    let value = raw.slice(HEADER_LEN.min(raw.len())..);
    let value_at = at + HEADER_LEN;
    let byte = |i: usize| value.get(i).copied().unwrap_or(0);
    let v = match &m.body {
        Body::VersionRequest(r) => json!({
            "reserved": byte(0),
            "min_vers": r.min,
            "max_vers": r.max,
            "pref_vers": r.pref,
        }),
        Body::VersionResponse(r) => json!({
            "reserved": u32::from_be_bytes([0, byte(0), byte(1), byte(2)]),
            "version": r.version,
        }),
        Body::SaslMechanisms(list) => {
            let mut i = 0usize;
            let items: Vec<Value> = list
                .mechanisms
                .iter()
                .map(|name| {
                    let b = byte(i);
                    i += 1 + name.as_str().len();
                    json!({
                        "rsvd": b >> 5,
                        "mech_len": b & 0x1f,
                        "mechanism_name": name.as_str(),
                    })
                })
                .collect();
            json!({ "mechanisms": items, "empty": list.is_empty() })
        }
        Body::SaslMechanismSelection(sel) => {
            let b = byte(0);
            let response = if sel.mechanism.as_str() == "PLAIN" {
                plain(&sel.initial_response)
            } else {
                hex(&sel.initial_response)
            };
            json!({
                "rsvd": b >> 5,
                "mech_len": b & 0x1f,
                "mechanism_name": sel.mechanism.as_str(),
                "optional_initial_mechanism_response": response,
            })
        }
        Body::SaslAuthenticationData(d) => json!({ "sasl_mechanism_data": hex(d) }),
        Body::SaslResult(r) => {
            let mut v = Map::new();
            v.insert(
                "result_code".into(),
                named(u64::from(r.code.0), r.code.name()),
            );
            v.insert("optional_result_data".into(), hex(&r.data));
            if r.form == ResultForm::OneByte {
                v.insert(
                    "note".into(),
                    json!("1-byte Result Code (strongSwan); RFC 6876 §3.8.10 has 16 bits"),
                );
            }
            Value::Object(v)
        }
        Body::PbTncBatch(b) => {
            let (mut batch, error) = crate::inspect::pb_tnc::batch_partial(b.clone(), value_at);
            if let (Some(e), Value::Object(m)) = (error, &mut batch) {
                m.extend(
                    super::error_json(&e)
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                );
            }
            json!({ "pb_tnc_batch": batch })
        }
        Body::Error(e) => {
            let code_name = if e.vendor == VendorId::IETF {
                ErrorCode(e.code.0).name()
            } else {
                None
            };
            let mut copy = Map::new();
            copy.insert("hex".into(), hex(&e.original));
            if let Some(oh) = e.original_header() {
                copy.insert("message_type_vendor_id".into(), vendor(oh.vendor));
                let name = (oh.vendor == VendorId::IETF)
                    .then(|| MessageType(oh.message_type).name())
                    .flatten();
                copy.insert(
                    "message_type".into(),
                    named(u64::from(oh.message_type), name),
                );
                copy.insert("message_length".into(), json!(oh.length));
                copy.insert("message_identifier".into(), json!(oh.identifier));
            }
            json!({
                "reserved": byte(0),
                "error_code_vendor_id": vendor(e.vendor),
                "error_code": named(u64::from(e.code.0), code_name),
                "fatal": e.is_fatal(),
                "copy_of_original_message": copy,
            })
        }
        Body::Experimental(b) => json!({ "hex": hex(b) }),
        Body::Unknown(u) => json!({
            "vendor_id": vendor(u.vendor()),
            "type": u.message_type(),
            "hex": hex(u.value()),
        }),
        _ => json!({ "hex": hex(&value) }),
    };
    o.insert("value".into(), v);
    Value::Object(o)
}

/// PLAIN (RFC 4616) initial response: authzid and authcid shown, the password never.
fn plain(msg: &[u8]) -> Value {
    let mut parts = msg.split(|b| *b == 0);
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(authzid), Some(authcid), Some(passwd), None) => json!({
            "authzid": String::from_utf8_lossy(authzid),
            "authcid": String::from_utf8_lossy(authcid),
            "passwd": format!("<{} bytes, not shown>", passwd.len()),
        }),
        _ => json!(format!("<{} bytes, not shown>", msg.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_request_fields() {
        let v = stream_to_json(
            Bytes::from_static(&[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 20, 0, 0, 0, 0, 0, 1, 1, 1]),
            0,
        )
        .unwrap();
        let m = &v["messages"][0];
        assert_eq!(m["message_type"]["name"], "Version Request");
        assert_eq!(m["message_length"], 20);
        assert_eq!(m["value"]["pref_vers"], 1);
    }

    #[test]
    fn plain_password_hidden() {
        let mut wire = vec![0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 35, 0, 0, 0, 1, 5];
        wire.extend_from_slice(b"PLAIN\0alice\0s3cret");
        let v = stream_to_json(Bytes::from(wire), 0).unwrap();
        let s = v.to_string();
        assert!(s.contains("alice") && !s.contains("s3cret"), "{s}");
    }

    #[test]
    fn errors_carry_absolute_offsets() {
        // Second message has Length 15 at absolute offset 100 + 20 + 8.
        let mut wire = vec![0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 1];
        wire.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 15, 0, 0, 0, 0]);
        let e = stream_to_json(Bytes::from(wire), 100).unwrap_err();
        assert_eq!(e.offset, 128);
        // Truncated value.
        let e = stream_to_json(
            Bytes::from_static(&[0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 30, 0, 0, 0, 0, 1]),
            0,
        )
        .unwrap_err();
        assert_eq!(e.offset, 8);
        // Unknown types are shown raw.
        let v = stream_to_json(
            Bytes::from_static(&[0, 0, 0x90, 0x2a, 0, 0, 0, 9, 0, 0, 0, 17, 0, 0, 0, 0, 0xab]),
            0,
        )
        .unwrap();
        assert_eq!(v["messages"][0]["value"]["hex"], "ab");
    }
}
