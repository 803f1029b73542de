//! SWIMA (RFC 8412) view of PA-TNC attribute values and of the SWIMA PA-TNC error codes.

use bytes::Bytes;
use nea_wire::{DecodeError, Text, VendorId};
use pa_tnc::{ErrorCode, ErrorInfo};
use serde_json::{Map, Value, json};
use swima::{
    Event, Events, Inventory, Item, SoftwareId, SwimaAttribute, SwimaErrorInfo, SwimaRequest,
};

fn text(t: &Text) -> Value {
    json!(t.as_str())
}

fn request(r: &SwimaRequest) -> Value {
    json!({
        "flags": r.flags,
        "clear_subscriptions": r.clear_subscriptions(),
        "subscribe": r.subscribe(),
        "result_type_identifiers_only": r.identifiers_only(),
        "software_identifier_count": r.targets().len(),
        "request_id": r.request_id,
        "earliest_eid": r.earliest_eid,
        "software_identifiers": r.targets().iter().map(text).collect::<Vec<_>>(),
    })
}

fn id_fields(o: &mut Map<String, Value>, id: &SoftwareId) {
    o.insert("record_identifier".into(), json!(id.record_id));
    o.insert("data_model_type_pen".into(), json!(id.data_model.pen.get()));
    o.insert("data_model_type".into(), json!(id.data_model.kind));
    o.insert("source_id_num".into(), json!(id.source_id));
    o.insert("software_identifier".into(), text(&id.software_identifier));
    o.insert("software_locator".into(), text(&id.locator));
}

fn item<R: Item>(o: &mut Map<String, Value>, r: &R) {
    id_fields(o, r.id());
    if let Some(rec) = r.record() {
        o.insert("record_length".into(), json!(rec.len()));
        // the whole record (the text view shortens it and says so); hex when not UTF-8
        match core::str::from_utf8(rec) {
            Ok(t) => o.insert("record".into(), json!(t)),
            Err(_) => o.insert("record_hex".into(), json!(hex::encode(rec))),
        };
    }
}

fn inventory<R: Item>(v: &Inventory<R>) -> Value {
    let records: Vec<Value> = v
        .records()
        .iter()
        .map(|r| {
            let mut o = Map::new();
            item(&mut o, r);
            Value::Object(o)
        })
        .collect();
    json!({
        "flags": v.flags,
        "subscription_fulfillment": v.subscription_fulfillment(),
        "record_count": records.len(),
        "request_id": v.request_id,
        "eid_epoch": v.eid_epoch,
        "last_eid": v.last_eid,
        "records": records,
    })
}

fn event<R: Item>(e: &Event<R>) -> Value {
    let mut o = Map::new();
    o.insert("eid".into(), json!(e.eid));
    o.insert("timestamp".into(), json!(e.timestamp.as_str()));
    o.insert("action".into(), json!(e.action.0));
    if let Some(n) = e.action.name() {
        o.insert("action_name".into(), json!(n));
    }
    item(&mut o, &e.item);
    Value::Object(o)
}

fn events<R: Item>(v: &Events<R>) -> Value {
    let list: Vec<Value> = v.events().iter().map(event).collect();
    json!({
        "flags": v.flags,
        "subscription_fulfillment": v.subscription_fulfillment(),
        "event_count": list.len(),
        "request_id": v.request_id,
        "eid_epoch": v.eid_epoch,
        "last_eid": v.last_eid,
        "last_consulted_eid": v.last_consulted_eid,
        "events": list,
    })
}

/// The fields of a SWIMA attribute value (`None` when vendor/type is not a SWIMA attribute).
pub fn attribute_to_json(
    vendor: VendorId,
    kind: u32,
    value: Bytes,
    base: usize,
) -> Option<Result<Value, DecodeError>> {
    let v = match SwimaAttribute::decode_value(vendor, kind, value, base)? {
        Ok(v) => v,
        Err(e) => return Some(Err(e)),
    };
    Some(Ok(match &v {
        SwimaAttribute::Request(r) => request(r),
        SwimaAttribute::SoftwareIdentifierInventory(i) => inventory(i),
        SwimaAttribute::SoftwareInventory(i) => inventory(i),
        SwimaAttribute::SoftwareIdentifierEvents(e) => events(e),
        SwimaAttribute::SoftwareEvents(e) => events(e),
        SwimaAttribute::SubscriptionStatusResponse(s) => json!({
            "status_flags": s.flags,
            "subscription_record_count": s.subscriptions().len(),
            "subscriptions": s.subscriptions().iter().map(request).collect::<Vec<_>>(),
        }),
        SwimaAttribute::SourceMetadataResponse(s) => json!({
            "reserved": s.reserved,
            "source_count": s.sources().len(),
            "sources": s.sources().iter().map(|m| json!({
                "source_id_num": m.source_id,
                "metadata_length": m.metadata.len(),
                "metadata": text(&m.metadata),
            })).collect::<Vec<_>>(),
        }),
        // Subscription Status Request, Source Metadata Request: no value.
        _ => json!({}),
    }))
}

/// The Error Information of the SWIMA PA-TNC error codes 4–8 (RFC 8412 §5.15); `None` for
/// other codes. `base` is the absolute offset of the Error Information's first byte.
pub fn error_info_to_json(
    code: u32,
    info: Bytes,
    base: usize,
) -> Option<Result<Value, DecodeError>> {
    let v = match SwimaErrorInfo::decode(code, info, base)? {
        Ok(v) => v,
        Err(e) => return Some(Err(e)),
    };
    Some(Ok(match &v {
        SwimaErrorInfo::ResponseTooLarge {
            request_id,
            max_allowed_size,
            description,
        } => json!({
            "request_id": request_id,
            "maximum_allowed_size": max_allowed_size,
            "description": text(description),
        }),
        SwimaErrorInfo::SubscriptionFulfillment {
            subscription_id,
            sub_error,
        } => {
            let sub_info = match &sub_error.info {
                ErrorInfo::Other(b) if sub_error.vendor == VendorId::IETF => {
                    match error_info_to_json(sub_error.code, b.clone(), base + 12) {
                        Some(Ok(v)) => v,
                        Some(Err(e)) => return Some(Err(e)),
                        None => json!({ "hex": hex::encode(b) }),
                    }
                }
                other => json!(format!("{other:?}")),
            };
            let mut o = Map::new();
            o.insert("subscription_id".into(), json!(subscription_id));
            o.insert(
                "sub_error_code_vendor_id".into(),
                json!(sub_error.vendor.get()),
            );
            o.insert("sub_error_code".into(), json!(sub_error.code));
            if let Some(n) = sub_error.ietf_code().and_then(ErrorCode::name) {
                o.insert("sub_error_code_name".into(), json!(n));
            }
            o.insert("sub_error_information".into(), sub_info);
            Value::Object(o)
        }
        other => json!({
            "request_id": other.request_id(),
            "description": other.description().map(text).unwrap_or(Value::Null),
        }),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pa_tnc::PaAttribute;

    #[test]
    fn request_and_errors() {
        let a = SwimaRequest::events(3, 9).to_attribute();
        let v = attribute_to_json(a.vendor, a.kind, a.value, 0)
            .unwrap()
            .unwrap();
        assert_eq!(v["request_id"], 3);
        assert_eq!(v["earliest_eid"], 9);
        assert!(attribute_to_json(VendorId::IETF, 8, Bytes::new(), 0).is_none());
        let e = error_info_to_json(6, Bytes::from_static(&[0, 0, 0, 1, 0, 0, 1, 0]), 0)
            .unwrap()
            .unwrap();
        assert_eq!(e["maximum_allowed_size"], 256);
        assert!(error_info_to_json(1, Bytes::new(), 0).is_none());
        assert!(
            error_info_to_json(4, Bytes::from_static(&[0]), 0)
                .unwrap()
                .is_err()
        );
    }
}
