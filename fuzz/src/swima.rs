//! SWIMA targets.

use bytes::Bytes;
use nea_wire::{Text, VendorId};
use pa_tnc::{DateTime20, PaAttribute, PaTncMessage};
use swima::{
    Change, Collector, CollectorConfig, DataModelType, MemoryStore, Peer, SourceItem,
    SwimaAttribute, SwimaErrorInfo, Validator, ValidatorConfig,
};

/// `swima_attributes`: the first byte picks a SWIMA attribute type (13–21) or a SWIMA error
/// code (4–8), the rest is the value. No panic; a successful decode has an exact
/// `value_len`, re-encodes to a value of the same size that decodes to the same thing, and
/// re-encodes byte for byte where the RFC layout keeps every bit (all but the ignored
/// Reserved byte of inventory records).
pub fn swima_attributes(data: &[u8]) {
    let Some((sel, rest)) = data.split_first() else {
        return;
    };
    let value = Bytes::copy_from_slice(rest);
    let sel = u32::from(*sel % 14);
    if sel < 9 {
        let kind = 13 + sel;
        let Some(Ok(v)) = SwimaAttribute::decode_value(VendorId::IETF, kind, value.clone(), 7)
        else {
            return;
        };
        assert_eq!(v.value_len(), value.len());
        let a = v.to_attribute();
        assert_eq!(a.value.len(), value.len());
        let again = SwimaAttribute::decode(&a).map(Result::ok);
        assert_eq!(again, Some(Some(v)));
        if kind != 14 && kind != 16 {
            assert_eq!(a.value, value);
        }
    } else {
        let code = 4 + (sel - 9);
        let Some(Ok(v)) = SwimaErrorInfo::decode(code, value.clone(), 0) else {
            return;
        };
        assert_eq!(v.info_len(), value.len());
        let pe = v.to_pa_tnc_error();
        let back = SwimaErrorInfo::from_pa_tnc_error(&pe, 0).map(Result::ok);
        assert_eq!(back, Some(Some(v.clone())));
        // Through a whole PA-TNC Error attribute as well.
        let a = pe.to_attribute();
        assert!(pa_tnc::PaTncError::from_attribute(&a).is_ok());
    }
}

const PEER: Peer = Peer {
    connection: 1,
    validator: 1,
};

fn item(i: u8) -> SourceItem {
    SourceItem {
        data_model: DataModelType::SWID_2015,
        software_identifier: Text::from(format!("example.org__p{i}")),
        locator: Text::from(""),
        record: Bytes::from(vec![b'x'; usize::from(i) * 7]),
    }
}

/// `swima_collector`: the input is a PA-TNC message sent to a collector that holds a small
/// inventory and event log (and to a validator). No panic; every answer fits the peer limit
/// and decodes; the validator digests every answer without panic.
pub fn swima_collector(data: &[u8]) {
    let Ok(mut c) = Collector::open(CollectorConfig::default(), MemoryStore::new(), 7) else {
        return;
    };
    let now = DateTime20::UNKNOWN;
    c.add_source(1, Text::from("fuzz"));
    let _ = c.apply_snapshot(1, (0..4).map(item).collect(), &now);
    for i in 3..9 {
        let _ = c.apply_changes(1, vec![Change::Upsert(item(i))], &now);
    }
    let limit = 300 + usize::from(data.first().copied().unwrap_or(0)) * 4;
    c.set_peer_limit(PEER, limit);
    let mut v = Validator::new(ValidatorConfig::default());
    v.send_initial();
    let wire = Bytes::copy_from_slice(data);
    let Ok(m) = PaTncMessage::decode(wire) else {
        return;
    };
    c.handle_message(PEER, &m, 0);
    v.handle_message(&m);
    let _ = c.apply_changes(1, vec![Change::Upsert(item(20))], &now);
    while let Some(t) = c.poll_transmit() {
        // RFC 8412 §3.7.5, §5.15.2: responses honour the peer's limit.
        if (14..=17).contains(&t.attribute.kind) {
            assert!(t.attribute.encoded_len() <= limit);
        }
        if let Some(r) = SwimaAttribute::decode(&t.attribute) {
            assert!(r.is_ok());
        }
        v.handle_attribute(&t.attribute);
    }
    while v.poll_event().is_some() {}
    while v.poll_transmit().is_some() {}
}

#[cfg(test)]
mod tests {
    #[test]
    fn replay_swima_attributes() {
        assert!(crate::replay("swima_attributes", super::swima_attributes) > 0);
    }

    #[test]
    fn replay_swima_collector() {
        assert!(crate::replay("swima_collector", super::swima_collector) > 0);
    }
}
