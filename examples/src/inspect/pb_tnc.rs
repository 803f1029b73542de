//! PB-TNC (RFC 5793) view: the batch header and every message, typed where RFC 5793 (or the
//! TCG PB-PDP-Referral) defines it; PB-PA bodies are shown by the PA-TNC view.

use bytes::Bytes;
use nea_wire::{DecodeError, DecodeErrorKind, TLV_HEADER_LEN, TlvIter, VendorId};
use pb_tnc::wire::BATCH_HEADER_LEN;
use pb_tnc::{
    Batch, BatchHeader, ErrorParameters, Message, MessageType, PaSubtype, PdpAddress, PdpReferral,
    RemediationParameters, Side,
};
use serde_json::{Map, Value, json};

use super::{named, vendor};

/// Decodes one PB-TNC batch starting at absolute offset `base`.
///
/// A batch of another Version (which a PB-TNC 2 receiver answers with Version Not
/// Supported) is shown with its Version and the rest read with the version 2 layout, plus a
/// `note` saying so.
pub fn batch_to_json(input: Bytes, base: usize) -> Result<Value, DecodeError> {
    match BatchHeader::decode(&input, base) {
        Err(DecodeError {
            kind: DecodeErrorKind::UnsupportedVersion { version },
            ..
        }) => {
            let mut v2 = input.to_vec();
            if let Some(b) = v2.first_mut() {
                *b = pb_tnc::wire::VERSION;
            }
            let mut v = decode_v2(Bytes::from(v2), base)?;
            if let Value::Object(m) = &mut v {
                m.insert("version".into(), json!(version));
                m.insert(
                    "note".into(),
                    json!(format!(
                        "version {version} is not PB-TNC version 2 (a receiver answers Version Not Supported); read with the version 2 layout"
                    )),
                );
            }
            Ok(v)
        }
        _ => decode_v2(input, base),
    }
}

/// Like [`batch_to_json`], but a damaged batch still shows its header and the messages before
/// the damage (each decoded on its own), with the error that stopped the walk.
pub fn batch_partial(input: Bytes, base: usize) -> (Value, Option<DecodeError>) {
    let err = match batch_to_json(input.clone(), base) {
        Ok(v) => return (v, None),
        Err(e) => e,
    };
    let Some(&[version, d, _, btype, ..]) = input.first_chunk::<BATCH_HEADER_LEN>() else {
        return (json!({ "messages": [] }), Some(err));
    };
    let mut messages = Vec::new();
    for tlv in TlvIter::new(input.slice(BATCH_HEADER_LEN..), base + BATCH_HEADER_LEN) {
        let Ok(tlv) = tlv else { break };
        // the message alone, in a batch with the same header
        let len = BATCH_HEADER_LEN + TLV_HEADER_LEN + tlv.value.len();
        let Some(raw) = input.get(tlv.offset - base..tlv.offset - base + len - BATCH_HEADER_LEN)
        else {
            break;
        };
        let mut one = vec![version, d, 0, btype];
        one.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
        one.extend_from_slice(raw);
        match batch_to_json(Bytes::from(one), tlv.offset - BATCH_HEADER_LEN) {
            Ok(v) => messages.extend(v.get("messages").and_then(|m| m.get(0)).cloned()),
            Err(_) => break,
        }
    }
    let v = json!({
        "version": version,
        "batch_type": btype & 0x0f,
        "note": "damaged batch: the messages before the damage, each decoded on its own",
        "messages": messages,
    });
    (v, Some(err))
}

fn decode_v2(input: Bytes, base: usize) -> Result<Value, DecodeError> {
    let header = BatchHeader::decode(&input, base)?;
    let batch = Batch::decode_at(input.clone(), base)?;
    // The batch decoded, so the same walk over its messages cannot fail; it gives the raw
    // flags, lengths and offsets next to the typed messages.
    let body = input.slice(BATCH_HEADER_LEN..);
    let tlvs = TlvIter::new(body, base + BATCH_HEADER_LEN).collect::<Result<Vec<_>, _>>()?;
    let messages = tlvs
        .iter()
        .zip(batch.messages())
        .map(|(tlv, m)| {
            let mut o = Map::new();
            o.insert("offset".into(), json!(tlv.offset));
            o.insert("flags".into(), json!(tlv.header.flags));
            o.insert("noskip".into(), json!(tlv.header.noskip()));
            o.insert("vendor_id".into(), vendor(tlv.header.vendor));
            o.insert("message_type".into(), json!(tlv.header.kind));
            if let Some(n) = type_name(m) {
                o.insert("message_type_name".into(), json!(n));
            }
            o.insert("message_length".into(), json!(tlv.header.length));
            o.insert("value".into(), value(m, tlv.value_offset()));
            Value::Object(o)
        })
        .collect::<Vec<_>>();
    // The 19 reserved bits: 7 of byte 1, byte 2, the high nibble of byte 3.
    let raw_reserved = match input.get(1..4) {
        Some(&[a, b, c]) => (u32::from(a & 0x7f) << 12) | (u32::from(b) << 4) | u32::from(c >> 4),
        _ => 0,
    };
    Ok(json!({
        "version": pb_tnc::wire::VERSION,
        "directionality": match header.sender { Side::Client => 0, Side::Server => 1 },
        "sender": match header.sender { Side::Client => "client", Side::Server => "server" },
        "reserved": raw_reserved,
        "batch_type": header.batch_type as u8,
        "batch_type_name": header.batch_type.name(),
        "batch_length": header.length,
        "messages": messages,
    }))
}

fn type_name(m: &Message) -> Option<&'static str> {
    match m {
        Message::PdpReferral(_) => Some("PB-PDP-Referral"),
        Message::Unknown(_) => None,
        other => other.message_type().name(),
    }
}

fn value(m: &Message, value_offset: usize) -> Value {
    match m {
        Message::Experimental(e) => json!({ "hex": hex::encode(&e.value) }),
        Message::Pa(pa) => {
            let subtype_name = pa.subtype.name_for(pa.vendor);
            // PB-PA value: 12 fixed bytes, then the PA-TNC message.
            let body_offset = value_offset + 12;
            let nested = match super::pa_tnc::message_partial(pa.body.clone(), body_offset) {
                (v, None) => v,
                (mut v, Some(e)) => {
                    if let Value::Object(m) = &mut v {
                        m.extend(
                            super::error_json(&e)
                                .as_object()
                                .cloned()
                                .unwrap_or_default(),
                        );
                    }
                    v
                }
            };
            json!({
                "exclusive": pa.exclusive,
                "pa_message_vendor_id": vendor(pa.vendor),
                "pa_subtype": pa.subtype.get(),
                "pa_subtype_name": subtype_name,
                "posture_collector_identifier": pa.collector_id,
                "posture_validator_identifier": pa.validator_id,
                "pa_message_body_length": pa.body.len(),
                "pa_tnc_message": nested,
            })
        }
        Message::AssessmentResult(a) => json!({
            "assessment_result": named(u64::from(a.get()), a.name()),
        }),
        Message::AccessRecommendation(a) => json!({
            "access_recommendation": named(u64::from(a.get()), a.name()),
        }),
        Message::RemediationParameters(r) => {
            let mut o = Map::new();
            o.insert(
                "remediation_parameters_vendor_id".into(),
                vendor(r.vendor()),
            );
            o.insert(
                "remediation_parameters_type".into(),
                named(u64::from(r.kind().get()), r.kind().name()),
            );
            match r {
                RemediationParameters::Uri(u) => {
                    o.insert("remediation_uri".into(), json!(u.as_str()));
                }
                RemediationParameters::String { text, language } => {
                    o.insert("remediation_string".into(), json!(text.as_str()));
                    o.insert(
                        "remediation_string_language_code".into(),
                        json!(language.as_str()),
                    );
                }
                RemediationParameters::Other { value, .. } => {
                    o.insert("hex".into(), json!(hex::encode(value)));
                }
            }
            Value::Object(o)
        }
        Message::Error(e) => {
            let params = match &e.parameters {
                ErrorParameters::None => json!(null),
                ErrorParameters::Offset(o) => json!({ "offset": o }),
                ErrorParameters::Version { bad, max, min } => json!({
                    "bad_version": bad, "max_version": max, "min_version": min,
                }),
                ErrorParameters::Raw(b) => json!({ "hex": hex::encode(b) }),
            };
            let code_name = if e.vendor == VendorId::IETF {
                e.code.name()
            } else {
                None
            };
            json!({
                "fatal": e.fatal,
                "error_code_vendor_id": vendor(e.vendor),
                "error_code": named(u64::from(e.code.get()), code_name),
                "error_parameters": params,
            })
        }
        Message::LanguagePreference(l) => json!({ "language_preference": l.0.as_str() }),
        Message::ReasonString(r) => json!({
            "reason_string": r.reason.as_str(),
            "reason_string_language_code": r.language.as_str(),
        }),
        Message::PdpReferral(p) => match p {
            PdpReferral::Tcg {
                protocol,
                port,
                address,
            } => {
                let (kind, addr) = match address {
                    PdpAddress::Fqdn(t) => (0, json!({ "fqdn": t.as_str() })),
                    PdpAddress::Ipv4(a) => (1, json!({ "ipv4_address": a.to_string() })),
                    PdpAddress::Ipv6(a) => (2, json!({ "ipv6_address": a.to_string() })),
                };
                json!({
                    "pdp_identifier_vendor_id": vendor(VendorId::TCG),
                    "pdp_identifier_type": kind,
                    "protocol": protocol,
                    "port_number": port,
                    "pdp_identifier": addr,
                })
            }
            PdpReferral::Other {
                vendor: v,
                kind,
                value,
            } => json!({
                "pdp_identifier_vendor_id": vendor(*v),
                "pdp_identifier_type": kind,
                "hex": hex::encode(value),
            }),
        },
        Message::Unknown(u) => json!({ "hex": hex::encode(&u.value) }),
        _ => json!({}),
    }
}

/// PB-TNC message type numbers this view names (kept for callers that list them).
pub fn message_type_name(vendor_id: VendorId, kind: u32) -> Option<&'static str> {
    match vendor_id {
        VendorId::IETF => MessageType(kind).name(),
        VendorId::TCG if kind == 1 => Some("PB-PDP-Referral"),
        _ => None,
    }
}

/// PA subtype name in the namespace of `vendor_id` (IETF, TCG, ITA).
pub fn pa_subtype_name(vendor_id: VendorId, subtype: u32) -> Option<&'static str> {
    PaSubtype(subtype).name_for(vendor_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESULT_01: &[u8] = include_bytes!(
        "../../../pb-tnc/tests/data/01-sasl-plain-test-os-isolate/10-s2c-pb-result.batch.bin"
    );
    const CLOSE_05: &[u8] = include_bytes!(
        "../../../pb-tnc/tests/data/05-pb-error-noskip-unsupported/05-s2c-pb-close.batch.bin"
    );

    #[test]
    fn result_batch() {
        let v = batch_to_json(Bytes::from_static(RESULT_01), 16).unwrap();
        assert_eq!(v["version"], 2);
        assert_eq!(v["directionality"], 1);
        assert_eq!(v["batch_type_name"], "RESULT");
        assert_eq!(v["batch_length"], 157);
        let m = &v["messages"];
        assert_eq!(m[0]["message_type_name"], "PB-PA");
        assert_eq!(m[0]["offset"], 24);
        assert_eq!(m[0]["noskip"], true);
        assert_eq!(m[0]["value"]["exclusive"], true);
        assert!(m[0]["value"]["pa_tnc_message"].is_object());
        assert_eq!(
            m[1]["value"]["assessment_result"]["name"],
            "non-compliant minor"
        );
        assert_eq!(m[2]["value"]["access_recommendation"]["number"], 3);
        assert_eq!(m[3]["value"]["reason_string_language_code"], "en");
    }

    #[test]
    fn other_version_shown() {
        let v3 = include_bytes!(
            "../../../pb-tnc/tests/data/04-pb-error-version-not-supported/04-c2s-pb-cdata.batch.bin"
        );
        let v = batch_to_json(Bytes::from_static(v3), 0).unwrap();
        assert_eq!(v["version"], 3);
        assert!(v["note"].is_string());
        assert_eq!(
            v["messages"][0]["message_type_name"],
            "PB-Language-Preference"
        );
    }

    #[test]
    fn error_batch_and_offsets() {
        let v = batch_to_json(Bytes::from_static(CLOSE_05), 0).unwrap();
        let e = &v["messages"][0]["value"];
        assert_eq!(e["fatal"], true);
        assert_eq!(e["error_code"]["name"], "Unsupported Mandatory Message");
        assert_eq!(e["error_parameters"]["offset"], 88);
        // errors carry the absolute offset
        let mut bad = CLOSE_05.to_vec();
        bad[9] = 0xff;
        bad[10] = 0xff;
        bad[11] = 0xff;
        let err = batch_to_json(Bytes::from(bad), 100).unwrap_err();
        assert_eq!(err.offset, 109);
        // unknown messages as vendor/type/hex
        let unknown = Bytes::from_static(&[
            2, 0, 0, 1, 0, 0, 0, 22, 0, 0, 0x90, 0x2a, 0, 0, 0, 9, 0, 0, 0, 14, 0xab, 0xcd,
        ]);
        let v = batch_to_json(unknown.clone(), 0).unwrap();
        assert_eq!(
            v["messages"][0]["vendor_id"],
            json!({"number": 36906, "name": "ITA"})
        );
        assert_eq!(v["messages"][0]["value"]["hex"], "abcd");
    }

    #[test]
    fn damaged_batch_keeps_the_messages_before_the_damage() {
        // the RESULT batch of scenario 01 with its last message cut short
        let mut b = RESULT_01.to_vec();
        b.truncate(b.len() - 3);
        let n = u32::try_from(b.len()).unwrap();
        b[4..8].copy_from_slice(&n.to_be_bytes());
        let (v, e) = batch_partial(Bytes::from(b), 16);
        let e = e.unwrap();
        let m = v["messages"].as_array().unwrap();
        assert!(m.len() >= 3, "{v:#}");
        assert_eq!(m[0]["offset"], 16 + 8);
        assert!(e.offset > 16, "{e}");
        // an intact batch is the plain view
        let (v, e) = batch_partial(Bytes::from_static(RESULT_01), 16);
        assert!(e.is_none());
        assert_eq!(v, batch_to_json(Bytes::from_static(RESULT_01), 16).unwrap());
    }
}
