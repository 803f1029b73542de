//! Real strongSwan 6.0.6 SWIMA captures (see tests/data/README.md): every file decodes, every
//! SWIMA attribute re-encodes byte for byte, and the segmented inventory reassembles.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use bytes::Bytes;
use pa_tnc::segmentation::{Reassembler, Reassembly, SegmentationEnvelope};
use pa_tnc::{Attribute, Limits, PaAttribute, PaTncMessage};
use swima::{
    Action, DataModelType, SoftwareIdentifierEvents, SoftwareInventory, SwimaAttribute,
    SwimaRequest,
};

fn data(name: &str) -> Bytes {
    let p = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    Bytes::from(std::fs::read(p).unwrap())
}

fn all_files() -> Vec<String> {
    let dir = format!("{}/tests/data", env!("CARGO_MANIFEST_DIR"));
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".bin"))
        .collect();
    v.sort();
    v
}

/// Every PA-TNC message decodes; every SWIMA attribute in it decodes and re-encodes exactly.
#[test]
fn every_file_roundtrips() {
    let mut swima_attrs = 0;
    for name in all_files() {
        let buf = data(&name);
        let attrs = if name.ends_with(".attr.bin") {
            vec![Attribute::decode(buf.clone(), 0).unwrap()]
        } else {
            let m = PaTncMessage::decode(buf.clone()).unwrap();
            assert_eq!(m.to_bytes(), buf, "{name}");
            m.attributes
        };
        for a in attrs {
            if let Some(v) = SwimaAttribute::decode(&a) {
                let v = v.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(v.value_len(), a.value.len(), "{name}");
                assert_eq!(v.to_attribute().value, a.value, "{name}");
                assert_eq!(v.to_attribute().flags, a.flags, "{name}");
                swima_attrs += 1;
            }
        }
    }
    assert_eq!(swima_attrs, 4); // 2 requests, the events and the reassembled inventory
}

/// RFC 8412 §5.6: the captured IMV request `20 000000 00000001 00000001`.
#[test]
fn strongswan_request_for_identifier_events() {
    let m = PaTncMessage::decode(data("02-05-s2c-pb-sdata.pa4-swima.patnc.bin")).unwrap();
    let r = SwimaRequest::from_attribute(&m.attributes[1]).unwrap();
    assert_eq!(
        &m.attributes[1].value[..],
        &[0x20, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1]
    );
    assert!(r.identifiers_only() && !r.subscribe() && !r.clear_subscriptions());
    assert_eq!((r.request_id, r.earliest_eid), (1, 1));
    assert!(!r.is_targeted());
    assert_eq!(
        r.response_type(),
        pa_tnc::AttributeType::SOFTWARE_IDENTIFIER_EVENTS
    );
    let m = PaTncMessage::decode(data("03-05-s2c-pb-sdata.pa3-swima.patnc.bin")).unwrap();
    let r = SwimaRequest::from_attribute(&m.attributes[1]).unwrap();
    assert_eq!(r.response_type(), pa_tnc::AttributeType::SOFTWARE_INVENTORY);
}

/// RFC 8412 §5.8: 887 events, EIDs 1..=21, Last EID = Last Consulted EID = 21.
#[test]
fn strongswan_identifier_events() {
    let buf = data("02-06-c2s-pb-cdata.pa2-swima.patnc.bin");
    let m = PaTncMessage::decode(buf.clone()).unwrap();
    let a = &m.attributes[1];
    let ev = SoftwareIdentifierEvents::from_attribute(a).unwrap();
    assert_eq!(ev.events().len(), 887);
    assert_eq!(
        (ev.request_id, ev.last_eid, ev.last_consulted_eid),
        (1, 21, 21)
    );
    assert!(!ev.is_partial() && !ev.subscription_fulfillment());
    let creations = ev
        .events()
        .iter()
        .filter(|e| e.action == Action::CREATION)
        .count();
    let deletions = ev
        .events()
        .iter()
        .filter(|e| e.action == Action::DELETION)
        .count();
    assert_eq!((creations, deletions), (815, 72));
    assert!(ev.events().iter().all(|e| (1..=21).contains(&e.eid)));
    assert_eq!(ev.events().iter().map(|e| e.eid).max(), Some(21));
    // strongSwan's initial event carries the "unknown" time, which must be accepted.
    assert!(ev.events().iter().any(|e| e.timestamp.is_unknown()));
    for e in ev.events() {
        assert!(e.item.software_identifier.as_str().contains("__"));
    }
    // Zero-copy: identifiers point into the received buffer.
    let first = &ev.events()[0].item.software_identifier;
    let range = buf.as_ptr() as usize..buf.as_ptr() as usize + buf.len();
    assert!(range.contains(&(first.as_bytes().as_ptr() as usize)));
}

/// The six envelopes of capture 03 reassemble into exactly the derived attribute, whose
/// Software Inventory has 743 ISO 2015 SWID tags.
#[test]
fn strongswan_segmented_inventory() {
    let mut r = Reassembler::new(&Limits::default());
    let mut done = None;
    for n in [6, 8, 10, 12, 14, 16] {
        let m = PaTncMessage::decode(data(&format!("03-{n:02}-c2s-pb-cdata.pa1-swima.patnc.bin")))
            .unwrap();
        let env = m
            .attributes
            .iter()
            .find(|a| SegmentationEnvelope::matches(a))
            .unwrap();
        let env = SegmentationEnvelope::from_attribute(env).unwrap();
        match r.handle(&env).unwrap() {
            Reassembly::NeedMore(next) => assert_eq!(next.base_message_id, 1),
            Reassembly::Complete(a) => done = Some(a),
        }
    }
    let a = done.unwrap();
    let expected = data("03-reassembled-sw-inventory.attr.bin");
    let mut enc = Vec::new();
    a.encode(&mut enc);
    assert_eq!(enc, expected);

    let inv = SoftwareInventory::from_attribute(&a).unwrap();
    assert_eq!(inv.records().len(), 743);
    assert_eq!(
        (inv.request_id, inv.eid_epoch, inv.last_eid),
        (1, 0x1122_3344, 1)
    );
    let first = &inv.records()[0];
    assert_eq!(first.id.record_id, 0);
    assert_eq!(first.id.data_model, DataModelType::SWID_2015);
    assert_eq!(first.id.source_id, 1);
    assert_eq!(
        first.id.software_identifier,
        "strongswan.org__Debian_12-x86_64-adduser-3.134"
    );
    assert!(first.id.locator.is_empty());
    assert_eq!(first.record.len(), 428);
    assert!(first.record.starts_with(b"<?xml") || first.record.starts_with(b"<SoftwareIdentity"));
    assert_eq!(inv.value_len(), a.value.len());
    assert_eq!(inv.to_attribute().value, a.value);
    // Zero-copy: every record is a slice of the reassembled value.
    let range = a.value.as_ptr() as usize..a.value.as_ptr() as usize + a.value.len();
    assert!(
        inv.records()
            .iter()
            .all(|r| range.contains(&(r.record.as_ptr() as usize)))
    );
}

/// The validator mirrors strongSwan's inventory although every record carries Record
/// Identifier 0 there (records are keyed by source, identifier and locator).
#[test]
fn validator_mirrors_strongswan_inventory() {
    let a = Attribute::decode(data("03-reassembled-sw-inventory.attr.bin"), 0).unwrap();
    let mut v = swima::Validator::new(swima::ValidatorConfig::default());
    assert_eq!(v.send_initial(), 1);
    v.handle_attribute(&a);
    assert_eq!(v.mirror().len(), 743);
    assert_eq!((v.epoch(), v.last_eid()), (Some(0x1122_3344), 1));
    assert!(v.is_synced());
}
