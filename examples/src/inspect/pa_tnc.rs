//! PA-TNC (RFC 5792) view: the message header and every attribute, typed where this
//! workspace knows the attribute (IETF 0–12, SWIMA 13–21, TCG segmentation).

use bytes::Bytes;
use nea_wire::{DecodeError, VendorId};
use pa_tnc::segmentation::{ContractRequest, ContractResponse, NextSegment, SegmentationEnvelope};
use pa_tnc::{
    Attribute, ErrorCode, ErrorInfo, IetfAttribute, ItaAttributeType, Limits, PaAttribute,
    PaTncMessage, RemediationParameters, TcgAttributeType,
};
use serde_json::{Map, Value, json};

use super::{named, vendor};

/// Decodes one PA-TNC message starting at absolute offset `base`.
pub fn message_to_json(input: Bytes, base: usize) -> Result<Value, DecodeError> {
    let m = PaTncMessage::decode_with(input, base, &Limits::default())?;
    let attributes = m
        .attributes
        .iter()
        .map(attribute_to_json)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(json!({
        "version": pa_tnc::PA_TNC_VERSION,
        "message_identifier": m.message_id,
        "attributes": attributes,
    }))
}

/// Like [`message_to_json`], but a damaged message still shows its header and the attributes
/// before the damage, with the error that stopped the walk.
pub fn message_partial(input: Bytes, base: usize) -> (Value, Option<DecodeError>) {
    let err = match message_to_json(input.clone(), base) {
        Ok(v) => return (v, None),
        Err(e) => e,
    };
    let header = pa_tnc::MESSAGE_HEADER_LEN;
    let Some(&[version, _, _, _, i0, i1, i2, i3]) = input.first_chunk::<8>() else {
        return (json!({ "attributes": [] }), Some(err));
    };
    let mut attributes = Vec::new();
    for tlv in nea_wire::TlvIter::new(input.slice(header.min(input.len())..), base + header) {
        let Ok(tlv) = tlv else { break };
        let len = nea_wire::TLV_HEADER_LEN + tlv.value.len();
        let start = tlv.offset - base;
        let Some(raw) = input.get(start..start + len) else {
            break;
        };
        match Attribute::decode(Bytes::copy_from_slice(raw), tlv.offset)
            .and_then(|a| attribute_to_json(&a))
        {
            Ok(v) => attributes.push(v),
            Err(_) => break,
        }
    }
    let v = json!({
        "version": version,
        "message_identifier": u32::from_be_bytes([i0, i1, i2, i3]),
        "note": "damaged message: the attributes before the damage",
        "attributes": attributes,
    });
    (v, Some(err))
}

/// One attribute: header fields plus the typed value (or its hex).
pub fn attribute_to_json(a: &Attribute) -> Result<Value, DecodeError> {
    let mut o = Map::new();
    o.insert("flags".into(), json!(a.flags));
    o.insert("noskip".into(), json!(a.noskip()));
    o.insert("attribute_vendor_id".into(), vendor(a.vendor));
    o.insert("attribute_type".into(), json!(a.kind));
    if let Some(n) = pa_tnc::attribute_type_name(a.vendor, a.kind) {
        o.insert("attribute_type_name".into(), json!(n));
    }
    o.insert("attribute_length".into(), json!(a.encoded_len()));
    let value = typed_value(a)?;
    o.insert("value".into(), value);
    Ok(Value::Object(o))
}

fn text(t: &nea_wire::Text) -> Value {
    json!(t.as_str())
}

fn typed_value(a: &Attribute) -> Result<Value, DecodeError> {
    if let Some(r) =
        super::swima::attribute_to_json(a.vendor, a.kind, a.value.clone(), a.value_offset)
    {
        return r;
    }
    if let Some(r) = IetfAttribute::decode(a) {
        return ietf_to_json(&r?, a.value_offset);
    }
    if a.vendor == VendorId::ITA {
        // Command and Device ID carry UTF-8 text (strongSwan's imc-test and imc-os)
        let key = match ItaAttributeType(a.kind) {
            ItaAttributeType::COMMAND => Some("command"),
            ItaAttributeType::DEVICE_ID => Some("device_id"),
            _ => None,
        };
        if let Some(key) = key
            && let Ok(t) = core::str::from_utf8(&a.value)
        {
            return Ok(json!({ key: t }));
        }
    }
    if a.vendor == VendorId::TCG {
        match TcgAttributeType(a.kind) {
            TcgAttributeType::SEGMENTATION_CONTRACT_REQUEST => {
                let c = ContractRequest::from_attribute(a)?;
                return Ok(
                    json!({"max_message_size": c.max_message_size, "max_segment_size": c.max_segment_size}),
                );
            }
            TcgAttributeType::SEGMENTATION_CONTRACT_RESPONSE => {
                let c = ContractResponse::from_attribute(a)?;
                return Ok(
                    json!({"max_message_size": c.max_message_size, "max_segment_size": c.max_segment_size}),
                );
            }
            TcgAttributeType::SEGMENTATION_ENVELOPE => {
                let e = SegmentationEnvelope::from_attribute(a)?;
                return Ok(json!({
                    "flags": e.flags,
                    "more": e.more(),
                    "start": e.start(),
                    "base_message_id": e.base_message_id,
                    "segment_length": e.segment.len(),
                }));
            }
            TcgAttributeType::NEXT_SEGMENT => {
                let n = NextSegment::from_attribute(a)?;
                return Ok(
                    json!({"flags": n.flags, "cancel": n.is_cancel(), "base_message_id": n.base_message_id}),
                );
            }
            _ => {}
        }
    }
    Ok(json!({ "hex": hex::encode(&a.value) }))
}

fn ietf_to_json(t: &IetfAttribute, value_offset: usize) -> Result<Value, DecodeError> {
    Ok(match t {
        IetfAttribute::Testing(v) => json!({ "hex": hex::encode(v) }),
        IetfAttribute::AttributeRequest(r) => json!({
            "attributes": r.entries().iter().map(|(v, t)| json!({"attribute_vendor_id": vendor(*v), "attribute_type": t})).collect::<Vec<_>>()
        }),
        IetfAttribute::ProductInformation(p) => json!({
            "product_vendor_id": vendor(p.vendor),
            "product_id": p.product_id,
            "product_name": text(&p.name),
        }),
        IetfAttribute::NumericVersion(n) => json!({
            "major_version_number": n.major,
            "minor_version_number": n.minor,
            "build_number": n.build,
            "service_pack_major": n.service_pack_major,
            "service_pack_minor": n.service_pack_minor,
        }),
        IetfAttribute::StringVersion(s) => json!({
            "product_version_number": text(&s.product_version),
            "internal_build_number": text(&s.internal_build),
            "configuration_version_number": text(&s.configuration_version),
        }),
        IetfAttribute::OperationalStatus(o) => json!({
            "status": o.status,
            "result": o.result,
            "last_use": o.last_use.as_str(),
        }),
        IetfAttribute::PortFilter(p) => json!({
            "entries": p.entries().iter().map(|e| json!({"blocked": e.blocked, "protocol": e.protocol, "port_number": e.port})).collect::<Vec<_>>()
        }),
        IetfAttribute::InstalledPackages(p) => json!({
            "package_count": p.packages().len(),
            "packages": p.packages().iter().map(|(n, v)| json!({"package_name": text(n), "package_version_number": text(v)})).collect::<Vec<_>>()
        }),
        IetfAttribute::PaTncError(e) => {
            let mut o = Map::new();
            o.insert("error_code_vendor_id".into(), vendor(e.vendor));
            o.insert("error_code".into(), json!(e.code));
            if let Some(n) = e.ietf_code().and_then(ErrorCode::name) {
                o.insert("error_code_name".into(), json!(n));
            }
            let info = match &e.info {
                ErrorInfo::InvalidParameter {
                    message_header,
                    offset,
                } => {
                    json!({"message_header": hex::encode(message_header), "offset": offset})
                }
                ErrorInfo::VersionNotSupported {
                    message_header,
                    max_version,
                    min_version,
                } => json!({
                    "message_header": hex::encode(message_header),
                    "max_version": max_version,
                    "min_version": min_version,
                }),
                ErrorInfo::AttributeTypeNotSupported {
                    message_header,
                    flags,
                    vendor: v,
                    kind,
                } => json!({
                    "message_header": hex::encode(message_header),
                    "flags": flags,
                    "attribute_vendor_id": vendor(*v),
                    "attribute_type": kind,
                }),
                ErrorInfo::Other(b) => {
                    // SWIMA's codes 4–8 (RFC 8412 §5.15); the information follows the 8-byte
                    // error header.
                    let swima = (e.vendor == VendorId::IETF)
                        .then(|| {
                            super::swima::error_info_to_json(e.code, b.clone(), value_offset + 8)
                        })
                        .flatten();
                    match swima {
                        Some(v) => v?,
                        None => json!({ "hex": hex::encode(b) }),
                    }
                }
                _ => Value::Null,
            };
            o.insert("error_information".into(), info);
            Value::Object(o)
        }
        IetfAttribute::AssessmentResult(r) => {
            json!({ "assessment_result": named(u64::from(r.get()), r.name()) })
        }
        IetfAttribute::RemediationInstructions(r) => match &r.0 {
            RemediationParameters::Uri(u) => {
                json!({"remediation_parameters_type": 1, "remediation_uri": text(u)})
            }
            RemediationParameters::String { text: t, lang } => json!({
                "remediation_parameters_type": 2,
                "remediation_string": text(t),
                "lang_code": text(lang),
            }),
            RemediationParameters::Other {
                vendor: v,
                kind,
                data,
            } => json!({
                "remediation_parameters_vendor_id": vendor(*v),
                "remediation_parameters_type": kind,
                "hex": hex::encode(data),
            }),
        },
        IetfAttribute::ForwardingEnabled(f) => {
            json!({ "forwarding_enabled": named(u64::from(f.get()), f.name()) })
        }
        IetfAttribute::FactoryDefaultPasswordEnabled(f) => {
            json!({ "factory_default_password_enabled": named(u64::from(f.get()), f.name()) })
        }
        _ => Value::Null,
    })
}
