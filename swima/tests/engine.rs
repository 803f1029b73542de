//! Collector and validator engines on an in-memory pair (RFC 8412 §3, §4): scenario tests and
//! a property test that the validator's mirror always converges to the collector's inventory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;

use bytes::Bytes;
use nea_wire::{Text, VendorId};
use pa_tnc::{Attribute, DateTime20, ErrorCode, PaAttribute, PaTncError, PaTncMessage};
use proptest::prelude::*;
use swima::*;

const PEER: Peer = Peer {
    connection: 1,
    validator: 3,
};

fn now() -> DateTime20 {
    DateTime20::new("2026-11-27T03:00:00Z").unwrap()
}

fn item(name: &str, version: u32) -> SourceItem {
    SourceItem {
        data_model: DataModelType::SWID_2015,
        software_identifier: Text::from(format!("example.org__{name}")),
        locator: Text::from(format!("file:///usr/share/swid/{name}.swidtag")),
        record: Bytes::from(format!(
            "<SoftwareIdentity name=\"{name}\" version=\"{version}\"/>"
        )),
    }
}

struct Pair<S: LogStore> {
    c: Collector<S>,
    v: Validator,
    /// Everything the collector sent, in order.
    sent: Vec<Attribute>,
    /// Everything the validator reported, in order.
    seen: Vec<ValidatorEvent>,
    msg_id: u32,
}

impl<S: LogStore> Pair<S> {
    fn new(c: Collector<S>, config: ValidatorConfig) -> Self {
        Self {
            c,
            v: Validator::new(config),
            sent: Vec::new(),
            seen: Vec::new(),
            msg_id: 0,
        }
    }

    /// Moves attributes both ways until both sides are idle (bounded).
    fn run(&mut self) {
        for _ in 0..10_000 {
            let mut busy = false;
            let mut to_c = PaTncMessage::new(self.msg_id);
            self.msg_id += 1;
            while let Some(a) = self.v.poll_transmit() {
                to_c.attributes.push(a);
            }
            if !to_c.attributes.is_empty() {
                busy = true;
                // Through the wire, so offsets and bytes are real.
                let wire = to_c.to_bytes();
                let m = PaTncMessage::decode(wire).unwrap();
                self.c.handle_message(PEER, &m, 0);
            }
            while let Some(t) = self.c.poll_transmit() {
                busy = true;
                assert_eq!(t.peer, PEER);
                let m = PaTncMessage::new(self.msg_id).with(t.attribute.clone());
                let m = PaTncMessage::decode(m.to_bytes()).unwrap();
                self.sent.push(t.attribute);
                self.v.handle_message(&m);
            }
            while let Some(e) = self.v.poll_event() {
                self.seen.push(e);
            }
            if !busy {
                return;
            }
        }
        panic!("pair did not become idle");
    }

    fn assert_mirrored(&self) {
        let want: BTreeMap<MirrorKey, MirrorRecord> = self
            .c
            .inventory()
            .map(|r| {
                (
                    MirrorKey::of(&r.id),
                    MirrorRecord {
                        id: r.id.clone(),
                        record: Some(r.record.clone()),
                    },
                )
            })
            .collect();
        let want: Vec<MirrorRecord> = want.into_values().collect();
        assert_eq!(self.v.mirror().records(), want);
        assert_eq!(self.v.epoch(), Some(self.c.epoch()));
        assert_eq!(self.v.last_eid(), self.c.last_eid());
    }

    fn errors(&self) -> Vec<SwimaErrorInfo> {
        self.sent
            .iter()
            .filter(|a| PaTncError::matches(a))
            .map(|a| {
                let e = PaTncError::from_attribute(a).unwrap();
                SwimaErrorInfo::from_pa_tnc_error(&e, 0).unwrap().unwrap()
            })
            .collect()
    }
}

fn collector(items: &[(&str, u32)]) -> Collector<MemoryStore> {
    let mut c =
        Collector::open(CollectorConfig::default(), MemoryStore::new(), 0x1234_5678).unwrap();
    c.add_source(1, Text::from("dpkg status"));
    c.apply_snapshot(1, items.iter().map(|(n, v)| item(n, *v)).collect(), &now())
        .unwrap();
    c
}

/// RFC 8412 §3.3, §3.7.2: the first snapshot is the epoch's base (Last EID 0), and a full
/// inventory request mirrors it.
#[test]
fn initial_inventory() {
    let c = collector(&[("a", 1), ("b", 1), ("c", 1)]);
    assert_eq!(c.last_eid(), 0);
    let mut p = Pair::new(c, ValidatorConfig::default());
    let id = p.v.send_initial();
    p.run();
    p.assert_mirrored();
    assert_eq!(p.v.mirror().len(), 3);
    let inv = SoftwareInventory::from_attribute(&p.sent[0]).unwrap();
    assert_eq!(inv.request_id, id);
    assert!(!inv.subscription_fulfillment());
    assert_eq!((inv.eid_epoch, inv.last_eid), (0x1234_5678, 0));
    assert!(p.seen.contains(&ValidatorEvent::Synced {
        epoch: 0x1234_5678,
        last_eid: 0
    }));
    // Identifiers only (R): attribute 14.
    let mut p = Pair::new(
        collector(&[("a", 1)]),
        ValidatorConfig::default().with_full_records(false),
    );
    p.v.send_initial();
    p.run();
    let inv = SoftwareIdentifierInventory::from_attribute(&p.sent[0]).unwrap();
    assert_eq!(inv.records().len(), 1);
    assert_eq!(p.v.mirror().iter().next().unwrap().record, None);
}

/// RFC 8412 §3.6, §3.7.4: install, upgrade (alteration), removal → EIDs 1, 2, 3 and the
/// validator follows with an events request.
#[test]
fn events_after_install_and_remove() {
    let mut p = Pair::new(collector(&[("a", 1), ("b", 1)]), ValidatorConfig::default());
    p.v.send_initial();
    p.run();
    p.c.apply_changes(1, vec![Change::Upsert(item("new", 1))], &now())
        .unwrap();
    p.c.apply_changes(1, vec![Change::Upsert(item("a", 2))], &now())
        .unwrap();
    p.c.apply_changes(
        1,
        vec![Change::Remove {
            software_identifier: item("b", 1).software_identifier,
            locator: item("b", 1).locator,
        }],
        &now(),
    )
    .unwrap();
    // A no-op change records nothing.
    p.c.apply_changes(1, vec![Change::Upsert(item("new", 1))], &now())
        .unwrap();
    let actions: Vec<(u32, Action)> = p.c.events().iter().map(|e| (e.eid, e.action)).collect();
    assert_eq!(
        actions,
        [
            (1, Action::CREATION),
            (2, Action::ALTERATION),
            (3, Action::DELETION)
        ]
    );
    p.seen.clear();
    p.v.send_sync_check();
    p.run();
    p.assert_mirrored();
    let ev = SoftwareEvents::from_attribute(p.sent.last().unwrap()).unwrap();
    assert_eq!((ev.last_eid, ev.last_consulted_eid), (3, 3));
    assert_eq!(ev.events().len(), 3);
    // Each change carries its event's EID and timestamp.
    let changes: Vec<(u32, u32, Option<DateTime20>)> = p
        .seen
        .iter()
        .filter_map(|e| match e {
            ValidatorEvent::Changed {
                epoch,
                eid,
                timestamp,
                ..
            } => Some((*epoch, *eid, timestamp.clone())),
            _ => None,
        })
        .collect();
    let e = p.c.epoch();
    assert_eq!(
        changes,
        vec![
            (e, 1, Some(now())),
            (e, 2, Some(now())),
            (e, 3, Some(now()))
        ]
    );
    // RFC 8412 §3.7.5: an Earliest EID beyond the last event → zero events, Last Consulted
    // EID = Last EID; the validator counts that as "everything sent".
    p.seen.clear();
    p.v.send_sync_check();
    p.run();
    let ev = SoftwareEvents::from_attribute(p.sent.last().unwrap()).unwrap();
    assert!(ev.events().is_empty());
    assert_eq!((ev.last_eid, ev.last_consulted_eid), (3, 3));
    assert!(p.seen.contains(&ValidatorEvent::Synced {
        epoch: p.c.epoch(),
        last_eid: 3
    }));
    // Record IDs survive an alteration (RFC 8412 §3.4.3).
    let a =
        p.c.inventory()
            .find(|r| r.id.software_identifier.as_str().ends_with("__a"))
            .unwrap();
    assert_eq!(a.id.record_id, 0);
}

/// RFC 8412 §3.8.5: an event subscription pushes each change at once, S_F set and the
/// Subscription ID in the Request ID field; an inventory subscription pushes the inventory.
#[test]
fn subscription_push() {
    let mut p = Pair::new(collector(&[("a", 1)]), ValidatorConfig::default());
    p.v.send_initial();
    p.run();
    let sub = p.v.send_subscribe();
    p.run();
    assert_eq!(p.c.subscriptions().count(), 1);
    let n = p.sent.len();
    p.c.apply_changes(1, vec![Change::Upsert(item("b", 1))], &now())
        .unwrap();
    p.run();
    assert_eq!(p.sent.len(), n + 1, "exactly one push, no request needed");
    let push = SoftwareEvents::from_attribute(&p.sent[n]).unwrap();
    assert!(push.subscription_fulfillment());
    assert_eq!(push.request_id, sub);
    assert_eq!(push.events().len(), 1);
    p.assert_mirrored();
    // Each event is reported once per subscription.
    p.c.apply_changes(1, vec![Change::Upsert(item("c", 1))], &now())
        .unwrap();
    p.run();
    let push = SoftwareEvents::from_attribute(p.sent.last().unwrap()).unwrap();
    assert_eq!(push.events().iter().map(|e| e.eid).collect::<Vec<_>>(), [2]);
    p.assert_mirrored();

    // Subscription status lists the establishing request exactly (§5.12).
    p.v.send_subscription_status_request();
    p.run();
    let st = SubscriptionStatusResponse::from_attribute(p.sent.last().unwrap()).unwrap();
    assert_eq!(st.subscriptions().len(), 1);
    assert_eq!(st.subscriptions()[0].request_id, sub);
    assert!(st.subscriptions()[0].subscribe());

    // Clearing ends it (§3.8.3).
    p.v.send_clear_subscriptions();
    p.run();
    assert_eq!(p.c.subscriptions().count(), 0);
    assert!(p.v.subscriptions().is_empty());
    let n = p.sent.len();
    p.c.apply_changes(1, vec![Change::Upsert(item("d", 1))], &now())
        .unwrap();
    p.run();
    assert_eq!(p.sent.len(), n);

    // An inventory subscription (before the first inventory) pushes full inventories.
    let mut p = Pair::new(collector(&[("a", 1)]), ValidatorConfig::default());
    let sub = p.v.send_subscribe();
    p.run();
    p.c.apply_changes(1, vec![Change::Upsert(item("b", 1))], &now())
        .unwrap();
    p.run();
    let push = SoftwareInventory::from_attribute(p.sent.last().unwrap()).unwrap();
    assert!(push.subscription_fulfillment());
    assert_eq!(push.request_id, sub);
    assert_eq!(push.records().len(), 2);
    p.assert_mirrored();
    // A disconnect ends the peer's subscriptions (§3.8.3).
    p.c.disconnect(PEER.connection);
    assert_eq!(p.c.subscriptions().count(), 0);
}

/// RFC 8412 §3.8.1, §5.5: at least 8 subscriptions; beyond the limit SUBSCRIPTION_DENIED;
/// a Request ID equal to an active Subscription ID → ID_REUSE, the subscription stays.
#[test]
fn subscription_limits_and_id_reuse() {
    let config = CollectorConfig::default().with_max_subscriptions(2);
    assert_eq!(config.max_subscriptions, 8);
    let mut c = Collector::open(config, MemoryStore::new(), 5).unwrap();
    c.add_source(1, Text::from("s"));
    let mut p = Pair::new(c, ValidatorConfig::default());
    p.v.send_initial();
    p.run();
    for _ in 0..8 {
        p.v.send_subscribe();
    }
    p.run();
    assert_eq!(p.c.subscriptions().count(), 8);
    assert!(p.errors().is_empty());
    let denied = p.v.send_subscribe();
    p.run();
    assert_eq!(
        p.errors(),
        [SwimaErrorInfo::SubscriptionDenied {
            request_id: denied,
            description: Text::from("subscription limit reached")
        }]
    );
    assert_eq!(p.c.subscriptions().count(), 8);
    assert_eq!(p.v.subscriptions().len(), 8);
    assert!(
        p.seen
            .contains(&ValidatorEvent::SubscriptionCancelled(denied))
    );

    // ID reuse: the collector refuses and keeps the subscription.
    let first = p.c.subscriptions().next().unwrap().1.request_id;
    let reuse = SwimaRequest::events(first, 1);
    p.c.handle_request(PEER, reuse);
    let t = p.c.poll_transmit().unwrap();
    let e = PaTncError::from_attribute(&t.attribute).unwrap();
    assert_eq!(e.code, ErrorCode::SWIMA_SUBSCRIPTION_ID_REUSE_ERROR.0);
    assert_eq!(p.c.subscriptions().count(), 8);
    // C + S with that ID: clear first, then subscribe (no reuse error).
    let cs = SwimaRequest::events(first, 1)
        .with_flag(SwimaRequest::FLAG_CLEAR)
        .with_flag(SwimaRequest::FLAG_SUBSCRIBE);
    p.c.handle_request(PEER, cs);
    let t = p.c.poll_transmit().unwrap();
    assert!(SoftwareEvents::matches(&t.attribute));
    assert_eq!(p.c.subscriptions().count(), 1);
}

/// RFC 8412 §3.7.5, §5.15.2: inventories never come partial (RESPONSE_TOO_LARGE with the
/// maximum size); event lists come partial and the validator re-asks from Last Consulted
/// EID + 1 until complete; one event too large for any list → RESPONSE_TOO_LARGE.
#[test]
fn response_too_large_and_partial_lists() {
    let mut p = Pair::new(
        collector(&[("a", 1), ("b", 1), ("c", 1)]),
        ValidatorConfig::default(),
    );
    p.v.send_initial();
    p.run();
    for i in 0..10 {
        p.c.apply_changes(1, vec![Change::Upsert(item(&format!("n{i}"), 1))], &now())
            .unwrap();
    }
    // Room for the header and two events.
    let one = SoftwareEvents::HEADER_LEN + 12;
    let ev_len = p.c.events()[0].encoded_len();
    p.c.set_peer_limit(PEER, one + 2 * ev_len + 2);
    p.v.send_sync_check();
    p.run();
    p.assert_mirrored();
    let lists: Vec<_> = p
        .sent
        .iter()
        .filter_map(|a| SoftwareEvents::from_attribute(a).ok())
        .collect();
    assert_eq!(lists.len(), 5);
    assert!(lists[0].is_partial());
    assert_eq!(lists[0].last_consulted_eid, 2);
    assert!(!lists[4].is_partial());
    assert!(
        lists
            .iter()
            .all(|l| l.value_len() + 12 <= one + 2 * ev_len + 2)
    );

    // The inventory does not fit.
    p.v.send_inventory_request();
    p.run();
    let limit = u32::try_from(one + 2 * ev_len + 2).unwrap();
    assert!(matches!(
        p.errors().last(),
        Some(SwimaErrorInfo::ResponseTooLarge { max_allowed_size, .. }) if *max_allowed_size == limit
    ));
    // A single event larger than the limit.
    p.c.set_peer_limit(PEER, 40);
    p.c.handle_request(PEER, SwimaRequest::events(999, 1));
    let t = p.c.poll_transmit().unwrap();
    let e = PaTncError::from_attribute(&t.attribute).unwrap();
    assert_eq!(e.code, ErrorCode::SWIMA_RESPONSE_TOO_LARGE_ERROR.0);
}

/// RFC 8412 §3.8.5.2, §5.15.3: an event that cannot be pushed → FULFILLMENT error with the
/// RESPONSE_TOO_LARGE sub-error; the subscription ends on both sides.
#[test]
fn fulfillment_error_cancels() {
    let mut p = Pair::new(collector(&[("a", 1)]), ValidatorConfig::default());
    p.v.send_initial();
    p.run();
    let sub = p.v.send_subscribe();
    p.run();
    p.c.set_peer_limit(PEER, 60);
    p.c.apply_changes(1, vec![Change::Upsert(item("big", 1))], &now())
        .unwrap();
    p.run();
    let err = p.errors().pop().unwrap();
    let SwimaErrorInfo::SubscriptionFulfillment {
        subscription_id,
        sub_error,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*subscription_id, sub);
    assert_eq!(sub_error.code, ErrorCode::SWIMA_RESPONSE_TOO_LARGE_ERROR.0);
    assert_eq!(p.c.subscriptions().count(), 0);
    assert!(p.v.subscriptions().is_empty());
    assert!(p.seen.contains(&ValidatorEvent::SubscriptionCancelled(sub)));
}

/// RFC 8412 §3.5: a targeted request for unknown identifiers gets an empty answer, not an
/// error; targeted answers are reported, not mirrored.
#[test]
fn targeted_request_for_unknown_identifiers() {
    let mut p = Pair::new(collector(&[("a", 1), ("b", 1)]), ValidatorConfig::default());
    p.v.send_initial();
    p.run();
    p.c.apply_changes(1, vec![Change::Upsert(item("a", 2))], &now())
        .unwrap();
    p.v.send_targeted(vec![Text::from("nobody__nothing")], 0)
        .unwrap();
    p.run();
    let Some(ValidatorEvent::Targeted(SwimaAttribute::SoftwareInventory(inv))) = p.seen.last()
    else {
        panic!("{:?}", p.seen.last())
    };
    assert!(inv.records().is_empty());
    assert!(p.errors().is_empty());
    p.v.send_targeted(vec![item("a", 1).software_identifier], 1)
        .unwrap();
    p.run();
    let Some(ValidatorEvent::Targeted(SwimaAttribute::SoftwareEvents(ev))) = p.seen.last() else {
        panic!()
    };
    assert_eq!(ev.events().len(), 1);
    p.v.send_targeted(vec![item("b", 1).software_identifier], 1)
        .unwrap();
    p.run();
    let Some(ValidatorEvent::Targeted(SwimaAttribute::SoftwareEvents(ev))) = p.seen.last() else {
        panic!()
    };
    assert!(ev.events().is_empty());
    assert_eq!(ev.last_consulted_eid, 1);
}

/// RFC 8412 §3.7.6: a restart with the persisted log keeps epoch and EIDs; the net change
/// during downtime is recorded with continuing EIDs and the validator just follows.
#[test]
fn restart_with_persisted_log() {
    let mut p = Pair::new(collector(&[("a", 1), ("b", 1)]), ValidatorConfig::default());
    p.v.send_initial();
    p.run();
    p.c.apply_changes(1, vec![Change::Upsert(item("c", 1))], &now())
        .unwrap();
    let epoch = p.c.epoch();
    // Restart: same store, another fresh epoch offered (and ignored).
    let store = core::mem::replace(
        &mut p.c,
        Collector::open(CollectorConfig::default(), MemoryStore::new(), 1).unwrap(),
    )
    .into_store();
    let mut c = Collector::open(CollectorConfig::default(), store, 0xdead_beef).unwrap();
    assert!(c.recovered());
    assert_eq!((c.epoch(), c.last_eid()), (epoch, 1));
    c.add_source(1, Text::from("dpkg status"));
    // During downtime: b removed, d installed.
    c.apply_snapshot(1, vec![item("a", 1), item("c", 1), item("d", 1)], &now())
        .unwrap();
    assert_eq!(c.last_eid(), 3);
    p.c = c;
    p.seen.clear();
    p.v.send_sync_check();
    p.run();
    p.assert_mirrored();
    assert!(
        !p.seen
            .iter()
            .any(|e| matches!(e, ValidatorEvent::Resync(_)))
    );
}

/// RFC 8412 §3.7.6: a lost log → new epoch → the validator notices and resyncs with a full
/// inventory.
#[test]
fn lost_log_new_epoch_resync() {
    let mut p = Pair::new(collector(&[("a", 1), ("b", 1)]), ValidatorConfig::default());
    p.v.send_initial();
    p.run();
    p.c.apply_changes(1, vec![Change::Upsert(item("c", 1))], &now())
        .unwrap();
    let old = p.c.epoch();
    let mut store = core::mem::replace(
        &mut p.c,
        Collector::open(CollectorConfig::default(), MemoryStore::new(), 1).unwrap(),
    )
    .into_store();
    store.clear();
    let mut c = Collector::open(CollectorConfig::default(), store, 0x0bad_cafe).unwrap();
    assert!(!c.recovered());
    c.add_source(1, Text::from("dpkg status"));
    c.apply_snapshot(1, vec![item("a", 1), item("z", 1)], &now())
        .unwrap();
    c.apply_changes(1, vec![Change::Upsert(item("y", 1))], &now())
        .unwrap();
    p.c = c;
    p.v.send_sync_check();
    p.run();
    assert!(
        p.seen
            .contains(&ValidatorEvent::Resync(ResyncReason::EpochChanged {
                old,
                new: 0x0bad_cafe
            }))
    );
    p.assert_mirrored();
    // rotate_epoch: same for a deliberate purge.
    p.c.rotate_epoch(77).unwrap();
    assert!(p.c.rotate_epoch(77).is_err());
    p.c.apply_changes(1, vec![Change::Upsert(item("x", 1))], &now())
        .unwrap();
    p.v.send_sync_check();
    p.run();
    p.assert_mirrored();
    assert_eq!(p.c.epoch(), 77);
}

/// RFC 8412 §5.13, §5.14, §3.9: source metadata; malformed requests get Invalid Parameter;
/// responses and errors sent to a collector are ignored.
#[test]
fn metadata_malformed_and_ignored() {
    let mut c = collector(&[("a", 1)]);
    c.add_source(7, Text::from("tag directory"));
    let mut v = Validator::new(ValidatorConfig::default());
    v.send_source_metadata_request();
    let m = PaTncMessage::new(1).with(v.poll_transmit().unwrap());
    c.handle_message(PEER, &m, 0);
    let r = SourceMetadataResponse::from_attribute(&c.poll_transmit().unwrap().attribute).unwrap();
    assert_eq!(r.sources().len(), 2);
    v.handle_attribute(&r.to_attribute());
    assert!(matches!(
        v.poll_event(),
        Some(ValidatorEvent::SourceMetadata(_))
    ));

    // Malformed SWIMA Request: Invalid Parameter at the offset in the message.
    let bad = Attribute::new(VendorId::IETF, 13, false, Bytes::from_static(&[0, 0, 0]));
    let m = PaTncMessage::new(9).with(bad);
    let m = PaTncMessage::decode(m.to_bytes()).unwrap();
    c.handle_message(PEER, &m, 0);
    let e = PaTncError::from_attribute(&c.poll_transmit().unwrap().attribute).unwrap();
    assert_eq!(e.code, ErrorCode::INVALID_PARAMETER.0);
    // RFC 5792 §4.2.8.1: the offending message's header and the offset of the bad field (the
    // 3-byte count at message offset 21 runs out).
    assert_eq!(
        e.info,
        pa_tnc::ErrorInfo::InvalidParameter {
            message_header: [1, 0, 0, 0, 0, 0, 0, 9],
            offset: 21
        }
    );
    // Responses and PA-TNC errors are ignored by a collector (RFC 8412 §5.2, §5.15).
    let m = PaTncMessage::new(10).with(r.to_attribute()).with(
        SwimaErrorInfo::SwimaError {
            request_id: 1,
            description: Text::from("x"),
        }
        .to_pa_tnc_error()
        .to_attribute(),
    );
    c.handle_message(PEER, &m, 0);
    assert!(c.poll_transmit().is_none());
    // A validator ignores requests, and answers to unknown requests (§3.3, §5.2).
    v.handle_attribute(&SwimaRequest::inventory(5).to_attribute());
    let stray = SoftwareInventory::new(0, 4242, 1, 0, vec![]).unwrap();
    v.handle_attribute(&stray.to_attribute());
    assert!(v.poll_event().is_none());
    assert!(v.mirror().is_empty());
}

/// An unknown Action is ignored by the validator (RFC 8412 §5.8) without failing the rest.
#[test]
fn unknown_action_ignored() {
    let mut p = Pair::new(collector(&[("a", 1)]), ValidatorConfig::default());
    p.v.send_initial();
    p.run();
    let id = p.v.send_events_request(1);
    let _ = p.v.poll_transmit();
    let ts = now();
    let mk = |eid, action, name: &str| Event {
        eid,
        timestamp: ts.clone(),
        action,
        item: SoftwareRecord {
            id: SoftwareId::new(100 + eid, DataModelType::SWID_2015, 1, name, ""),
            record: Bytes::new(),
        },
    };
    let ev = SoftwareEvents::new(
        0,
        id,
        p.c.epoch(),
        2,
        2,
        vec![mk(1, Action(9), "odd"), mk(2, Action::CREATION, "ok")],
    )
    .unwrap();
    p.v.handle_attribute(&ev.to_attribute());
    assert_eq!(p.v.last_eid(), 2);
    assert!(p.v.mirror().iter().any(|r| r.record_id == 102));
    assert!(!p.v.mirror().iter().any(|r| r.record_id == 101));
}

#[cfg(feature = "fs")]
fn temp_log(name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("swima-fs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("events.log");
    (dir, path)
}

/// A log with a base of one record and events 1 (create b) and 2 (alter a).
#[cfg(feature = "fs")]
fn write_log(path: &std::path::Path) -> Vec<SoftwareRecord> {
    let mut c = Collector::open(CollectorConfig::default(), FileStore::new(path), 42).unwrap();
    assert_eq!(c.recovery(), &Recovery::New);
    c.add_source(1, Text::from("s"));
    c.apply_snapshot(1, vec![item("a", 1)], &now()).unwrap();
    c.apply_changes(1, vec![Change::Upsert(item("b", 1))], &now())
        .unwrap();
    c.apply_changes(1, vec![Change::Upsert(item("a", 2))], &now())
        .unwrap();
    c.inventory().cloned().collect()
}

/// Offsets of the frames of a log file (after the 17-byte header).
#[cfg(feature = "fs")]
fn frames(bytes: &[u8]) -> Vec<usize> {
    let mut at = 17;
    let mut v = Vec::new();
    while at + 13 <= bytes.len() {
        v.push(at);
        let len = u32::from_be_bytes(bytes[at + 1..at + 5].try_into().unwrap()) as usize;
        at += 13 + len;
    }
    v
}

#[cfg(feature = "fs")]
#[test]
fn file_store_restart_and_torn_tail() {
    let (dir, path) = temp_log("torn");
    let inv = write_log(&path);
    let c = Collector::open(CollectorConfig::default(), FileStore::new(&path), 43).unwrap();
    assert!(c.recovered());
    assert_eq!((c.epoch(), c.last_eid()), (42, 2));
    assert_eq!(c.inventory().cloned().collect::<Vec<_>>(), inv);
    assert_eq!(c.store().last_load().frames, 3);
    drop(c);
    // A torn last frame is cut; EIDs continue after the last complete one.
    let len = std::fs::metadata(&path).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(len - 3).unwrap();
    drop(f);
    let mut c = Collector::open(CollectorConfig::default(), FileStore::new(&path), 44).unwrap();
    assert_eq!(c.recovery(), &Recovery::Resumed);
    assert_eq!((c.epoch(), c.last_eid()), (42, 1));
    assert!(c.store().last_load().cut_tail > 0);
    c.add_source(1, Text::from("s"));
    c.apply_snapshot(1, vec![item("a", 2), item("b", 1)], &now())
        .unwrap();
    assert_eq!(c.last_eid(), 2);
    drop(c);
    // Zeros after the last frame (a crash after the file grew, before its data was written)
    // are a torn tail too.
    let mut bytes = std::fs::read(&path).unwrap();
    let good = bytes.len() as u64;
    bytes.extend_from_slice(&[0; 100]);
    std::fs::write(&path, &bytes).unwrap();
    let c = Collector::open(CollectorConfig::default(), FileStore::new(&path), 46).unwrap();
    assert_eq!((c.epoch(), c.last_eid()), (42, 2));
    assert_eq!(c.store().last_load().cut_tail, 100);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), good);
    drop(c);
    // Garbage → new epoch.
    std::fs::write(&path, b"not a log").unwrap();
    let c = Collector::open(CollectorConfig::default(), FileStore::new(&path), 45).unwrap();
    assert!(!c.recovered());
    assert!(matches!(c.recovery(), Recovery::Discarded(_)));
    assert_eq!((c.epoch(), c.last_eid()), (45, 0));
    let _ = std::fs::remove_dir_all(&dir);
}

/// RFC 8412 §3.7.1: damage inside the log (valid frames after it) must not be cut like a
/// torn tail — the EIDs after it would be handed out again for other events. It starts a new
/// epoch, is reported, and the damaged file is kept.
#[cfg(feature = "fs")]
#[test]
fn file_store_damage_inside_the_log_starts_a_new_epoch() {
    for (case, what) in [
        (0, "event 1 body"),
        (1, "event 1 length"),
        (2, "base record kind"),
    ] {
        let (dir, path) = temp_log(&format!("mid{case}"));
        write_log(&path);
        let mut bytes = std::fs::read(&path).unwrap();
        let f = frames(&bytes);
        assert_eq!(f.len(), 3, "base a, event 1, event 2");
        match case {
            0 => *bytes.get_mut(f[1] + 40).unwrap() ^= 0x20,
            1 => *bytes.get_mut(f[1] + 4).unwrap() ^= 0x01,
            _ => *bytes.get_mut(f[0]).unwrap() = b'E',
        }
        std::fs::write(&path, &bytes).unwrap();
        let c = Collector::open(CollectorConfig::default(), FileStore::new(&path), 77).unwrap();
        let at = f[if case == 2 { 0 } else { 1 }] as u64;
        assert_eq!(
            c.recovery(),
            &Recovery::Discarded(Error::CorruptLog { offset: at }),
            "{what}"
        );
        assert_eq!(c.store().last_load().corrupt_at, Some(at));
        assert_eq!((c.epoch(), c.last_eid()), (77, 0), "{what}");
        assert_eq!(c.inventory().count(), 0);
        assert_eq!(
            std::fs::read(path.with_extension("corrupt")).unwrap(),
            bytes
        );
        drop(c);
        // The new log is sound.
        let c = Collector::open(CollectorConfig::default(), FileStore::new(&path), 78).unwrap();
        assert_eq!((c.recovery(), c.epoch()), (&Recovery::Resumed, 77));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A frame longer than the configured limit is refused before it is allocated.
#[cfg(feature = "fs")]
#[test]
fn file_store_frame_limit() {
    let (dir, path) = temp_log("limit");
    write_log(&path);
    let mut s = FileStore::new(&path).with_max_frame(16);
    assert!(matches!(s.load(), Err(Error::TooLong { max: 16, .. })));
    let mut s = FileStore::new(&path);
    assert_eq!(s.load().unwrap().unwrap().events.len(), 2);
    // A frame header claiming 4 GiB (checksum intact) at the end is a torn tail.
    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    let f = frames(&bytes);
    let mut h = bytes[f[2]..f[2] + 13].to_vec();
    h[1..5].copy_from_slice(&u32::MAX.to_be_bytes());
    let crc = crc32(&h[..9]);
    h[9..].copy_from_slice(&crc.to_be_bytes());
    bytes.extend_from_slice(&h);
    std::fs::write(&path, &bytes).unwrap();
    let mut s = FileStore::new(&path).with_max_frame(usize::MAX);
    assert_eq!(s.load().unwrap().unwrap().events.len(), 2);
    assert_eq!(s.last_load().cut_tail, 13);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), n as u64);
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "fs")]
fn crc32(data: &[u8]) -> u32 {
    let mut crc = u32::MAX;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                0xEDB8_8320 ^ (crc >> 1)
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// RFC 8412 §3.7.6 sliding window: compaction keeps what subscribers still need and the
/// configured history, renumbers the rest in a new epoch, and the log shrinks.
#[cfg(feature = "fs")]
#[test]
fn compaction_keeps_history_and_moves_trackers() {
    let (dir, path) = temp_log("compact");
    let config = CollectorConfig::default().with_history(2);
    let mut c = Collector::open(config.clone(), FileStore::new(&path), 1).unwrap();
    c.add_source(1, Text::from("s"));
    c.apply_snapshot(1, vec![item("a", 1)], &now()).unwrap();
    let mut p = Pair::new(c, ValidatorConfig::default());
    p.v.send_initial();
    p.run();
    p.v.send_subscribe();
    p.run();
    for v in 2..=6 {
        p.c.apply_changes(1, vec![Change::Upsert(item("a", v))], &now())
            .unwrap();
    }
    p.run();
    assert_eq!(p.c.last_eid(), 5);
    let before = std::fs::metadata(&path).unwrap().len();
    // Everything was pushed: keep the last 2 events, drop 3.
    assert_eq!(
        p.c.compact(1),
        Err(Error::InvalidValue("new epoch equals the current one"))
    );
    assert_eq!(p.c.compact(2).unwrap(), 3);
    assert_eq!((p.c.epoch(), p.c.last_eid()), (2, 2));
    assert_eq!(
        p.c.events().iter().map(|e| e.eid).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert!(std::fs::metadata(&path).unwrap().len() < before);
    // The validator resyncs to the new epoch on the next push and mirrors again.
    p.c.apply_changes(1, vec![Change::Upsert(item("c", 1))], &now())
        .unwrap();
    p.run();
    p.assert_mirrored();
    // A restart sees the compacted log.
    let inv: Vec<SoftwareRecord> = p.c.inventory().cloned().collect();
    drop(p);
    let c = Collector::open(config.clone(), FileStore::new(&path), 9).unwrap();
    assert_eq!((c.epoch(), c.last_eid()), (2, 3));
    assert_eq!(c.inventory().cloned().collect::<Vec<_>>(), inv);
    drop(c);

    // The subscription tracker moves with its events (RFC 8412 §3.8.5.2): after compaction
    // a push carries only the new event, under its new EID.
    let mut c = Collector::open(config, MemoryStore::new(), 5).unwrap();
    c.add_source(1, Text::from("s"));
    c.apply_snapshot(1, vec![item("a", 1)], &now()).unwrap();
    c.handle_request(
        PEER,
        SwimaRequest::events(7, 1).with_flag(SwimaRequest::FLAG_SUBSCRIBE),
    );
    for v in 2..=8 {
        c.apply_changes(1, vec![Change::Upsert(item("a", v))], &now())
            .unwrap();
    }
    while c.poll_transmit().is_some() {}
    assert_eq!(c.last_eid(), 7);
    assert_eq!(c.compact(6).unwrap(), 5);
    assert_eq!(c.last_eid(), 2);
    c.apply_changes(1, vec![Change::Upsert(item("a", 9))], &now())
        .unwrap();
    let t = c.poll_transmit().unwrap();
    let Some(Ok(SwimaAttribute::SoftwareEvents(ev))) = SwimaAttribute::decode(&t.attribute) else {
        panic!("not an events push");
    };
    assert_eq!((ev.eid_epoch, ev.last_eid), (6, 3));
    assert_eq!(
        ev.events().iter().map(|e| e.eid).collect::<Vec<_>>(),
        vec![3]
    );
    assert!(c.poll_transmit().is_none());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A manager that persisted (epoch, Last EID, mirror) resumes with "events since EID n",
/// not a full inventory; if the endpoint's epoch moved on, it resynchronises.
#[test]
fn validator_resumes_from_persisted_state() {
    let c = collector(&[("a", 1), ("b", 1)]);
    let mut p = Pair::new(c, ValidatorConfig::default());
    assert_eq!(p.v.state(), None);
    p.v.send_initial();
    p.run();
    p.c.apply_changes(1, vec![Change::Upsert(item("c", 1))], &now())
        .unwrap();
    p.v.send_sync_check();
    p.run();
    p.assert_mirrored();
    let saved = p.v.state().unwrap();
    assert_eq!(
        (saved.epoch, saved.last_eid, saved.mirror.len()),
        (p.c.epoch(), 1, 3)
    );
    // The manager restarts; meanwhile two changes happen.
    p.c.apply_changes(
        1,
        vec![
            Change::Remove {
                software_identifier: Text::from("example.org__a"),
                locator: Text::from("file:///usr/share/swid/a.swidtag"),
            },
            Change::Upsert(item("b", 2)),
        ],
        &now(),
    )
    .unwrap();
    let c = std::mem::replace(&mut p.c, collector(&[]));
    let mut p = Pair::new(c, ValidatorConfig::default());
    p.v = Validator::restore(ValidatorConfig::default(), saved.clone());
    assert!(p.v.is_synced());
    p.v.send_initial();
    p.run();
    p.assert_mirrored();
    // One request, for events since EID 2; no inventory was sent.
    assert!(p.sent.iter().all(|a| !SoftwareInventory::matches(a)));
    let ev = SoftwareEvents::from_attribute(&p.sent[0]).unwrap();
    assert_eq!(
        ev.events().iter().map(|e| e.eid).collect::<Vec<_>>(),
        vec![2, 3]
    );
    let eids: Vec<u32> = p
        .seen
        .iter()
        .filter_map(|e| match e {
            ValidatorEvent::Changed { eid, .. } => Some(*eid),
            _ => None,
        })
        .collect();
    assert_eq!(eids, vec![2, 3]);

    // Restored state from an older epoch: resync with a full inventory.
    p.c.rotate_epoch(0x0bad_cafe).unwrap();
    p.v = Validator::restore(ValidatorConfig::default(), saved);
    p.seen.clear();
    p.v.send_initial();
    p.run();
    p.assert_mirrored();
    assert!(p.seen.iter().any(|e| matches!(
        e,
        ValidatorEvent::Resync(ResyncReason::EpochChanged {
            new: 0x0bad_cafe,
            ..
        })
    )));
    // Inventory diff changes carry the inventory's Last EID and no timestamp.
    assert!(p.seen.iter().all(|e| !matches!(
        e,
        ValidatorEvent::Changed {
            timestamp: Some(_),
            ..
        }
    )));
}

/// The mirror is bounded: an inventory or events beyond `max_mirror` leave it unsynchronised
/// with `MirrorOverflow`, and the validator does not ask again on its own.
#[test]
fn validator_mirror_bound() {
    let c = collector(&[("a", 1), ("b", 1), ("c", 1)]);
    let config = ValidatorConfig::default().with_max_mirror(2);
    let mut p = Pair::new(c, config.clone());
    p.v.send_initial();
    p.run();
    assert!(!p.v.is_synced());
    assert!(p.v.mirror().is_empty());
    assert!(p.seen.contains(&ValidatorEvent::MirrorOverflow {
        limit: 2,
        needed: 3
    }));
    assert_eq!(p.sent.len(), 1, "no second request");
    // Events keep arriving on a subscription; no request loop.
    p.v.send_subscribe();
    p.run();
    let sent = p.sent.len();
    p.c.apply_changes(1, vec![Change::Upsert(item("d", 1))], &now())
        .unwrap();
    p.run();
    assert_eq!(p.sent.len(), sent + 1, "the push only");
    assert_eq!(p.v.state(), None);

    // Events growing a synchronised mirror past the bound.
    let c = collector(&[("a", 1)]);
    let mut p = Pair::new(c, config);
    p.v.send_initial();
    p.run();
    p.v.send_subscribe();
    p.run();
    p.c.apply_changes(
        1,
        vec![Change::Upsert(item("b", 1)), Change::Upsert(item("c", 1))],
        &now(),
    )
    .unwrap();
    p.run();
    assert_eq!(p.v.mirror().len(), 2);
    assert_eq!(p.v.last_eid(), 1);
    assert!(!p.v.is_synced());
    assert!(p.seen.contains(&ValidatorEvent::MirrorOverflow {
        limit: 2,
        needed: 3
    }));
    // The embedder raises nothing and asks explicitly: the answer overflows again.
    p.seen.clear();
    p.v.send_inventory_request();
    p.run();
    assert!(p.seen.contains(&ValidatorEvent::MirrorOverflow {
        limit: 2,
        needed: 3
    }));
}

#[derive(Debug, Clone)]
enum Op {
    Install(u8),
    Upgrade(u8),
    Remove(u8),
    Snapshot(Vec<u8>),
    SyncCheck,
    Inventory,
    Subscribe,
    Clear,
    Deliver,
    Limit(u16),
    Rotate,
    Restart,
    LoseLog,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u8..12).prop_map(Op::Install),
        2 => (0u8..12).prop_map(Op::Upgrade),
        2 => (0u8..12).prop_map(Op::Remove),
        1 => proptest::collection::vec(0u8..12, 0..8).prop_map(Op::Snapshot),
        2 => Just(Op::SyncCheck),
        1 => Just(Op::Inventory),
        1 => Just(Op::Subscribe),
        1 => Just(Op::Clear),
        3 => Just(Op::Deliver),
        1 => (200u16..2000).prop_map(Op::Limit),
        1 => Just(Op::Rotate),
        1 => Just(Op::Restart),
        1 => Just(Op::LoseLog),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any interleaving of inventory changes, requests, restarts and epoch changes leaves
    /// the validator's mirror equal to the collector's inventory once it asks "all sent?".
    #[test]
    fn mirror_converges(ops in proptest::collection::vec(op(), 1..40)) {
        let mut p = Pair::new(collector(&[("p0", 0), ("p1", 0)]), ValidatorConfig::default());
        let mut versions = [0u32; 12];
        let mut epoch = 1000u32;
        p.v.send_initial();
        for o in ops {
            let name = |i: u8| format!("p{i}");
            match o {
                Op::Install(i) | Op::Upgrade(i) => {
                    versions[usize::from(i)] += 1;
                    let _ = p.c.apply_changes(1, vec![Change::Upsert(item(&name(i), versions[usize::from(i)]))], &now());
                }
                Op::Remove(i) => {
                    let it = item(&name(i), 0);
                    let _ = p.c.apply_changes(1, vec![Change::Remove { software_identifier: it.software_identifier, locator: it.locator }], &now());
                }
                Op::Snapshot(v) => {
                    let items = v.iter().map(|i| item(&name(*i), versions[usize::from(*i)])).collect();
                    p.c.apply_snapshot(1, items, &now()).unwrap();
                }
                Op::SyncCheck => { p.v.send_sync_check(); }
                Op::Inventory => { p.v.send_inventory_request(); }
                Op::Subscribe => { p.v.send_subscribe(); }
                Op::Clear => { p.v.send_clear_subscriptions(); }
                Op::Deliver => p.run(),
                Op::Limit(n) => p.c.set_peer_limit(PEER, usize::from(n)),
                Op::Rotate => { epoch += 1; p.c.rotate_epoch(epoch).unwrap(); }
                Op::Restart | Op::LoseLog => {
                    let lose = matches!(o, Op::LoseLog);
                    p.run();
                    let old = core::mem::replace(&mut p.c, Collector::open(CollectorConfig::default(), MemoryStore::new(), 1).unwrap());
                    let mut store = old.into_store();
                    if lose { store.clear(); }
                    epoch += 1;
                    let mut c = Collector::open(CollectorConfig::default(), store, epoch).unwrap();
                    c.add_source(1, Text::from("dpkg status"));
                    // After a restart the source is rescanned (net change, §3.6).
                    let items = (0u8..12).filter(|i| p.c.inventory().any(|r| r.id.software_identifier.as_str().ends_with(&format!("__p{i}")))).map(|i| item(&name(i), versions[usize::from(i)])).collect();
                    c.apply_snapshot(1, items, &now()).unwrap();
                    // Subscriptions belonged to the old connection.
                    p.c = c;
                    p.v.disconnect();
                }
            }
        }
        // Final "all sent?" with a generous limit: inventories must fit.
        p.c.set_peer_limit(PEER, 1 << 20);
        p.run();
        p.v.send_sync_check();
        p.run();
        p.v.send_sync_check();
        p.run();
        p.assert_mirrored();
    }
}

/// The tag directory source: identifiers derived from real SWID XML and CoSWID tags, and two
/// scans reported as creation, alteration and deletion events (RFC 8412 §3.6).
#[cfg(feature = "fs")]
#[test]
fn tag_directory_source() {
    use swima::tags::TagDirSource;
    let src = format!("{}/tests/data/tags", env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("swima-tags-{}", std::process::id()));
    let sub = dir.join("nested");
    std::fs::create_dir_all(&sub).unwrap();
    for f in [
        "adduser.swidtag",
        "autoconf.coswid",
        "minimal-tagged.coswid",
    ] {
        std::fs::copy(format!("{src}/{f}"), dir.join(f)).unwrap();
    }
    std::fs::copy(format!("{src}/apt.swidtag"), sub.join("apt.swidtag")).unwrap();
    std::fs::write(dir.join("broken.swidtag"), b"<nothing/>").unwrap();
    std::fs::write(dir.join("ignored.txt"), b"x").unwrap();

    let mut tags = TagDirSource::new([&dir]);
    let mut c = Collector::open(CollectorConfig::default(), MemoryStore::new(), 9).unwrap();
    c.refresh(1, &mut tags, &now()).unwrap();
    let mut ids: Vec<String> = c
        .inventory()
        .map(|r| r.id.software_identifier.to_string())
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "http://invalid.unavailable__example.com/coswid/minimal-1.0.0",
            "strongswan.org__Debian_12-x86_64-adduser-3.134",
            "strongswan.org__Debian_12-x86_64-apt-2.6.1",
            "strongswan.org__Debian_12-x86_64-autoconf-2.71-3",
        ]
    );
    assert_eq!(tags.skipped().len(), 1);
    let adduser = c
        .inventory()
        .find(|r| r.id.software_identifier.as_str().contains("adduser"))
        .unwrap();
    assert_eq!(adduser.id.data_model, DataModelType::SWID_2015);
    assert!(adduser.id.locator.as_str().starts_with("file:///"));
    assert!(adduser.id.locator.as_str().ends_with("/adduser.swidtag"));
    assert_eq!(c.last_eid(), 0);

    // Second scan: apt removed, adduser's tag changed, a tag added.
    std::fs::remove_file(sub.join("apt.swidtag")).unwrap();
    let mut x = std::fs::read(dir.join("adduser.swidtag")).unwrap();
    x.extend_from_slice(b"\n");
    std::fs::write(dir.join("adduser.swidtag"), x).unwrap();
    std::fs::copy(format!("{src}/apt.swidtag"), dir.join("apt-moved.swidtag")).unwrap();
    assert_eq!(c.refresh(1, &mut tags, &now()).unwrap(), 3);
    let mut actions: Vec<Action> = c.events().iter().map(|e| e.action).collect();
    actions.sort();
    assert_eq!(
        actions,
        [Action::CREATION, Action::DELETION, Action::ALTERATION]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A store that fails on demand.
#[derive(Default)]
struct Flaky {
    inner: MemoryStore,
    fail: bool,
}

impl LogStore for Flaky {
    fn load(&mut self) -> Result<Option<LogState>, Error> {
        self.inner.load()
    }
    fn append(&mut self, epoch: u32, e: &Event<SoftwareRecord>) -> Result<(), Error> {
        if self.fail {
            return Err(Error::Store("disk full".into()));
        }
        self.inner.append(epoch, e)
    }
    fn reset(&mut self, s: &LogState) -> Result<(), Error> {
        self.inner.reset(s)
    }
}

/// RFC 8412 §3.7.1: after a log failure events may be missing, so the collector answers with
/// SWIMA_ERROR until a new epoch starts, and then the validator resyncs.
#[test]
fn store_failure_needs_new_epoch() {
    let mut c = Collector::open(CollectorConfig::default(), Flaky::default(), 1).unwrap();
    c.add_source(1, Text::from("s"));
    c.apply_snapshot(1, vec![item("a", 1)], &now()).unwrap();
    let mut p = Pair::new(c, ValidatorConfig::default());
    p.v.send_initial();
    p.run();
    p.c.store_mut().fail = true;
    assert!(
        p.c.apply_changes(1, vec![Change::Upsert(item("b", 1))], &now())
            .is_err()
    );
    assert!(p.c.store_failed());
    assert!(
        p.c.apply_changes(1, vec![Change::Upsert(item("b", 1))], &now())
            .is_err()
    );
    p.v.send_sync_check();
    p.run();
    assert!(matches!(
        p.errors().last(),
        Some(SwimaErrorInfo::SwimaError { .. })
    ));
    p.c.store_mut().fail = false;
    p.c.rotate_epoch(2).unwrap();
    p.c.apply_changes(1, vec![Change::Upsert(item("b", 1))], &now())
        .unwrap();
    p.v.send_sync_check();
    p.run();
    p.assert_mirrored();
}

/// RFC 8412 §3.8.5.2: a partial direct answer to the establishing request is followed at once
/// by pushes (S_F = 1) until every event is reported; the validator does not re-ask.
#[test]
fn partial_establishing_answer_is_completed_by_pushes() {
    let mut p = Pair::new(collector(&[("a", 1)]), ValidatorConfig::default());
    p.v.send_initial();
    p.run();
    for i in 0..6 {
        p.c.apply_changes(1, vec![Change::Upsert(item(&format!("n{i}"), 1))], &now())
            .unwrap();
    }
    let ev_len = p.c.events()[0].encoded_len();
    p.c.set_peer_limit(PEER, 32 + 2 * ev_len + 4);
    let n = p.sent.len();
    let sub = p.v.send_subscribe();
    p.run();
    let lists: Vec<SoftwareEvents> = p.sent[n..]
        .iter()
        .map(|a| SoftwareEvents::from_attribute(a).unwrap())
        .collect();
    assert_eq!(lists.len(), 3);
    assert!(!lists[0].subscription_fulfillment() && lists[0].is_partial());
    assert!(
        lists[1..]
            .iter()
            .all(|l| l.subscription_fulfillment() && l.request_id == sub)
    );
    assert!(!lists[2].is_partial());
    p.assert_mirrored();
}

/// RFC 8412 §3.7.6: a Last EID going backwards within one epoch is treated like an epoch
/// change: the validator asks for a full inventory.
#[test]
fn last_eid_backwards_resyncs() {
    let mut p = Pair::new(collector(&[("a", 1)]), ValidatorConfig::default());
    p.v.send_initial();
    p.run();
    for i in 0..3 {
        p.c.apply_changes(1, vec![Change::Upsert(item(&format!("n{i}"), 1))], &now())
            .unwrap();
    }
    p.v.send_sync_check();
    p.run();
    assert_eq!(p.v.last_eid(), 3);
    let id = p.v.send_sync_check();
    let _ = p.v.poll_transmit();
    let stale = SoftwareEvents::new(0, id, p.c.epoch(), 2, 2, vec![]).unwrap();
    p.v.handle_attribute(&stale.to_attribute());
    assert_eq!(
        p.v.poll_event(),
        Some(ValidatorEvent::Resync(ResyncReason::LastEidWentBackwards {
            mirrored: 3,
            reported: 2
        }))
    );
    assert!(!p.v.is_synced());
    let req = SwimaRequest::from_attribute(&p.v.poll_transmit().unwrap()).unwrap();
    assert_eq!(req.earliest_eid, 0);
}
