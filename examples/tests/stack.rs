//! The whole NEA stack in memory: PT-TLS (negotiation + SASL PLAIN) carries PB-TNC batches,
//! whose PB-PA messages carry PA-TNC messages; an OS collector reports product attributes, a
//! large attribute crosses with IF-M segmentation pulled segment by segment, the validator
//! decides, and the client closes. Every layer is driven only through its public sans-IO API,
//! exactly as a real agent and manager would join them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use bytes::Bytes;
use nea_wire::VendorId;
use pa_tnc::segmentation::{SegmentationEndpoint, SegmentationEvent};
use pa_tnc::{
    Attribute, AttributeType, Disposition, Limits, NumericVersion, PaAttribute, PaTncMessage,
    ProductInformation,
};
use pb_tnc::{AccessRecommendation, BatchType, PaSubtype, PbAssessmentResult, PbPa};
use pt_tls::{CredentialCheck, PlainClient, PlainServer, TlsRole};

struct Alice;
impl CredentialCheck for Alice {
    fn check_plain(&self, authzid: &str, authcid: &str, password: &str) -> bool {
        authzid.is_empty() && authcid == "alice" && password == "s3cret"
    }
}

struct Side {
    pt: pt_tls::Session,
    pb: pb_tnc::Session,
    pt_events: Vec<pt_tls::Event>,
    pb_events: Vec<pb_tnc::Event>,
}

impl Side {
    /// Moves PB-TNC output down into PT-TLS, PT-TLS batches up into PB-TNC; returns bytes
    /// for the peer.
    fn drain(&mut self) -> Vec<Bytes> {
        loop {
            let mut progress = false;
            while let Some(b) = self.pb.poll_transmit() {
                self.pt.send_batch(b).unwrap();
                progress = true;
            }
            while let Some(ev) = self.pt.poll_event() {
                progress = true;
                match ev {
                    pt_tls::Event::Batch(b) => self.pb.handle_batch(b),
                    other => self.pt_events.push(other),
                }
            }
            if !progress {
                break;
            }
        }
        let mut out = Vec::new();
        while let Some(t) = self.pt.poll_transmit() {
            out.push(t);
        }
        out
    }
}

fn pair() -> (Side, Side) {
    let client_cfg = pt_tls::Config::default()
        .with_client_mechanism(Arc::new(PlainClient::new("alice", "s3cret").unwrap()));
    let server_cfg = pt_tls::Config::default()
        .with_server_mechanism(Arc::new(PlainServer::new(Arc::new(Alice))));
    let pb_cfg = Arc::new(pb_tnc::Config::default());
    let client = Side {
        pt: pt_tls::Session::new(
            Arc::new(client_cfg),
            pt_tls::Side::Client,
            TlsRole::Initiator,
            None,
        ),
        pb: pb_tnc::Session::new(pb_cfg.clone(), pb_tnc::Side::Client),
        pt_events: Vec::new(),
        pb_events: Vec::new(),
    };
    let server = Side {
        pt: pt_tls::Session::new(
            Arc::new(server_cfg),
            pt_tls::Side::Server,
            TlsRole::Responder,
            None,
        ),
        pb: pb_tnc::Session::new(pb_cfg, pb_tnc::Side::Server),
        pt_events: Vec::new(),
        pb_events: Vec::new(),
    };
    (client, server)
}

/// Exchanges bytes until neither side has anything to send (bounded).
fn pump(c: &mut Side, s: &mut Side) {
    for _ in 0..64 {
        let to_server = c.drain();
        for b in &to_server {
            s.pt.handle_bytes(b);
        }
        let to_client = s.drain();
        for b in &to_client {
            c.pt.handle_bytes(b);
        }
        if to_server.is_empty() && to_client.is_empty() {
            return;
        }
    }
    panic!("no quiescence after 64 exchanges");
}

fn pa(subtype: PaSubtype, id: u32, attrs: Vec<Attribute>) -> PbPa {
    let mut m = PaTncMessage::new(id);
    m.attributes = attrs;
    PbPa::new(VendorId::IETF, subtype, m.to_bytes())
}

fn take_pb(side: &mut Side) -> Vec<pb_tnc::Event> {
    while let Some(e) = side.pb.poll_event() {
        side.pb_events.push(e);
    }
    std::mem::take(&mut side.pb_events)
}

#[test]
fn assessment_with_segmented_attribute_over_the_whole_stack() {
    let (mut c, mut s) = pair();
    pump(&mut c, &mut s);
    assert!(c.pt.is_data_transport() && s.pt.is_data_transport());
    assert_eq!(s.pt.authenticated_identity(), Some("alice"));

    // The "inventory": 100 KB, far above the validator's 4 KB segment limit.
    let inventory = Attribute::new(
        VendorId::IETF,
        AttributeType::SOFTWARE_INVENTORY.0,
        false,
        Bytes::from(
            (0..100_000u32)
                .map(|i| (i % 253) as u8)
                .collect::<Vec<u8>>(),
        ),
    );
    let mut pc = SegmentationEndpoint::new(&Limits::default(), u32::MAX, 65_512);
    let mut pv = SegmentationEndpoint::new(&Limits::default(), u32::MAX, 4_096);

    // CDATA 1: OS posture + the segmentation contract request.
    c.pb.send_pa(pa(
        PaSubtype::OPERATING_SYSTEM,
        1,
        vec![
            ProductInformation {
                vendor: VendorId::new(9586).unwrap(),
                product_id: 0,
                name: "Debian".into(),
            }
            .to_attribute(),
            NumericVersion {
                major: 12,
                ..Default::default()
            }
            .to_attribute(),
        ],
    ))
    .unwrap();
    c.pb.send_pa(pa(PaSubtype::SWIMA, 2, vec![pc.contract_request()]))
        .unwrap();
    c.pb.end_turn().unwrap();

    let mut msg_id = 10;
    let mut delivered = None;
    let mut os_seen = false;
    let mut rounds = 0;
    let mut result = None;
    'outer: for _ in 0..200 {
        rounds += 1;
        pump(&mut c, &mut s);
        // Server: validators answer every PB-PA, then the server ends its turn.
        for ev in take_pb(&mut s) {
            match ev {
                pb_tnc::Event::Pa(p) => {
                    let Disposition::Process { message, .. } =
                        pa_tnc::receive(p.body.clone(), 0, &Limits::default(), |_, _| true)
                    else {
                        panic!("validator rejected a message");
                    };
                    for a in &message.attributes {
                        if p.subtype == PaSubtype::OPERATING_SYSTEM
                            && ProductInformation::matches(a)
                        {
                            assert_eq!(
                                ProductInformation::from_attribute(a).unwrap().name,
                                "Debian"
                            );
                            os_seen = true;
                        }
                        match pv.handle(a) {
                            Some(SegmentationEvent::Reply(r)) => {
                                msg_id += 1;
                                let mut reply = pa(PaSubtype::SWIMA, msg_id, vec![r]);
                                reply.exclusive = true;
                                reply.collector_id = p.collector_id;
                                s.pb.send_pa(reply).unwrap();
                            }
                            Some(SegmentationEvent::Delivered(x)) => delivered = Some(x),
                            Some(other) => panic!("unexpected {other:?}"),
                            None => {}
                        }
                    }
                }
                pb_tnc::Event::EndOfBatch { .. } if s.pb.is_my_turn() => {
                    if delivered.is_some() {
                        s.pb.send_result(
                            PbAssessmentResult::COMPLIANT,
                            Some(AccessRecommendation::ACCESS_ALLOWED),
                        )
                        .unwrap();
                    } else {
                        s.pb.end_turn().unwrap();
                    }
                }
                // The first CDATA starts the handshake (nothing to tell validators here).
                pb_tnc::Event::HandshakeStarted { .. } => {}
                other => panic!("server: unexpected {other:?}"),
            }
        }
        pump(&mut c, &mut s);
        // Client: the SWIMA collector answers contract responses and next-segment requests.
        for ev in take_pb(&mut c) {
            match ev {
                pb_tnc::Event::Pa(p) => {
                    let m = PaTncMessage::decode(p.body).unwrap();
                    for a in &m.attributes {
                        match pc.handle(a) {
                            Some(SegmentationEvent::ContractAgreed(k)) => {
                                assert_eq!(k.max_segment_size, 4_096);
                                msg_id += 1;
                                let first = pc.prepare(inventory.clone());
                                c.pb.send_pa(pa(PaSubtype::SWIMA, msg_id, vec![first]))
                                    .unwrap();
                            }
                            Some(SegmentationEvent::Reply(env)) => {
                                msg_id += 1;
                                c.pb.send_pa(pa(PaSubtype::SWIMA, msg_id, vec![env]))
                                    .unwrap();
                            }
                            other => panic!("client: unexpected {other:?}"),
                        }
                    }
                }
                pb_tnc::Event::AssessmentResult(r) => result = Some(r),
                pb_tnc::Event::AccessRecommendation(a) => {
                    assert_eq!(a, AccessRecommendation::ACCESS_ALLOWED)
                }
                pb_tnc::Event::EndOfBatch {
                    batch_type: BatchType::Result,
                } => {
                    c.pb.close().unwrap();
                    pump(&mut c, &mut s);
                    break 'outer;
                }
                pb_tnc::Event::EndOfBatch { .. } if c.pb.is_my_turn() => c.pb.end_turn().unwrap(),
                other => panic!("client: unexpected {other:?}"),
            }
        }
    }
    assert!(os_seen);
    assert_eq!(result, Some(PbAssessmentResult::COMPLIANT));
    let got = delivered.expect("inventory reassembled");
    assert_eq!(got.value, inventory.value);
    // 100,012 bytes in 4,096-byte segments: 25 envelopes, one per client turn after the
    // contract round.
    assert_eq!(rounds, 26);
    assert_eq!(pc.pending_outgoing(), 0);
    assert!(c.pb.is_closed());
    assert!(matches!(
        take_pb(&mut s).last(),
        Some(pb_tnc::Event::Closed { .. })
    ));
}

/// Endpoint side of SWIMA: the collector engine plus its segmentation endpoint.
struct SwimaPc {
    pc: swima::Collector<swima::MemoryStore>,
    seg: SegmentationEndpoint,
}

/// Manager side of SWIMA: the validator engine plus its segmentation endpoint.
struct SwimaPv {
    pv: swima::Validator,
    seg: SegmentationEndpoint,
}

fn tag(name: &str) -> swima::SourceItem {
    // A realistic ~1 KiB ISO 2015 SWID tag.
    let xml = format!(
        "<SoftwareIdentity xmlns=\"http://standards.iso.org/iso/19770/-2/2015/schema.xsd\" \
         name=\"{name}\" tagId=\"Debian_12-x86_64-{name}-1.0\" version=\"1.0\">\
         <Entity name=\"strongSwan Project\" regid=\"strongswan.org\" role=\"tagCreator\"/>{}\
         </SoftwareIdentity>",
        "<Meta summary=\"padding to a realistic size\"/>".repeat(20)
    );
    swima::SourceItem {
        data_model: swima::DataModelType::SWID_2015,
        software_identifier: format!("strongswan.org__Debian_12-x86_64-{name}-1.0").into(),
        locator: "".into(),
        record: Bytes::from(xml),
    }
}

#[test]
fn software_inventory_and_subscription_over_the_whole_stack() {
    let now = pa_tnc::DateTime20::new("2026-11-27T03:00:00Z").unwrap();
    let (mut c, mut s) = pair();
    pump(&mut c, &mut s);

    let mut pc = SwimaPc {
        pc: swima::Collector::open(
            swima::CollectorConfig::default(),
            swima::MemoryStore::new(),
            0x5eed,
        )
        .unwrap(),
        seg: SegmentationEndpoint::new(&Limits::default(), u32::MAX, 65_512),
    };
    pc.pc.add_source(1, "dpkg".into());
    let packages: Vec<_> = (0..400).map(|i| tag(&format!("pkg{i:03}"))).collect();
    pc.pc.apply_snapshot(1, packages, &now).unwrap();
    let mut pv = SwimaPv {
        pv: swima::Validator::new(swima::ValidatorConfig::default()),
        seg: SegmentationEndpoint::new(&Limits::default(), u32::MAX, 16_384),
    };

    // The endpoint's first batch: the segmentation contract request.
    c.pb.send_pa(pa(PaSubtype::SWIMA, 1, vec![pc.seg.contract_request()]))
        .unwrap();
    c.pb.end_turn().unwrap();

    let peer = swima::Peer {
        connection: 1,
        validator: 1,
    };
    let mut id = 100;
    let mut requested = false;
    let mut subscribed = false;
    let mut results = 0;
    let mut retried = false;
    let mut envelopes = 0;
    for _ in 0..200 {
        pump(&mut c, &mut s);
        // ---- manager ----
        let mut sent = false;
        for ev in take_pb(&mut s) {
            match ev {
                pb_tnc::Event::Pa(p) => {
                    let m = PaTncMessage::decode(p.body).unwrap();
                    let mut out = Vec::new();
                    for a in &m.attributes {
                        match pv.seg.handle(a) {
                            Some(SegmentationEvent::Reply(r)) => out.push(r),
                            Some(SegmentationEvent::Delivered(x)) => pv.pv.handle_attribute(&x),
                            Some(other) => panic!("manager: {other:?}"),
                            None => pv.pv.handle_attribute(a),
                        }
                    }
                    if !requested {
                        pv.pv.send_initial();
                        requested = true;
                    }
                    while let Some(e) = pv.pv.poll_event() {
                        if matches!(e, swima::ValidatorEvent::Synced { .. }) && !subscribed {
                            pv.pv.send_subscribe();
                            subscribed = true;
                        }
                    }
                    while let Some(a) = pv.pv.poll_transmit() {
                        out.push(a);
                    }
                    if !out.is_empty() {
                        id += 1;
                        s.pb.send_pa(pa(PaSubtype::SWIMA, id, out).with_exclusive(true))
                            .unwrap();
                        sent = true;
                    }
                }
                pb_tnc::Event::EndOfBatch { .. } if s.pb.is_my_turn() => {
                    // Decide once the validator has nothing left to ask.
                    if !sent && pv.pv.is_synced() && subscribed {
                        s.pb.send_result(
                            PbAssessmentResult::COMPLIANT,
                            Some(AccessRecommendation::ACCESS_ALLOWED),
                        )
                        .unwrap();
                        results += 1;
                    } else {
                        s.pb.end_turn().unwrap();
                    }
                }
                pb_tnc::Event::Closed { .. } | pb_tnc::Event::HandshakeStarted { .. } => {}
                other => panic!("manager: unexpected {other:?}"),
            }
        }
        pump(&mut c, &mut s);
        // ---- endpoint ----
        let mut decided = false;
        for ev in take_pb(&mut c) {
            match ev {
                pb_tnc::Event::Pa(p) => {
                    let m = PaTncMessage::decode(p.body).unwrap();
                    for a in &m.attributes {
                        match pc.seg.handle(a) {
                            Some(SegmentationEvent::Reply(r)) => {
                                envelopes += 1;
                                id += 1;
                                c.pb.send_pa(pa(PaSubtype::SWIMA, id, vec![r])).unwrap();
                            }
                            Some(SegmentationEvent::ContractAgreed(_)) => {}
                            Some(other) => panic!("endpoint: {other:?}"),
                            None => pc.pc.handle_attribute(peer, a).unwrap(),
                        }
                    }
                    while let Some(t) = pc.pc.poll_transmit() {
                        id += 1;
                        let first = pc.seg.prepare(t.attribute);
                        c.pb.send_pa(pa(PaSubtype::SWIMA, id, vec![first])).unwrap();
                    }
                }
                pb_tnc::Event::AssessmentResult(r) => assert_eq!(r, PbAssessmentResult::COMPLIANT),
                pb_tnc::Event::AccessRecommendation(_) => {}
                pb_tnc::Event::EndOfBatch {
                    batch_type: BatchType::Result,
                } => decided = true,
                pb_tnc::Event::EndOfBatch { .. } if c.pb.is_my_turn() => c.pb.end_turn().unwrap(),
                other => panic!("endpoint: unexpected {other:?}"),
            }
        }
        if decided && !retried {
            // After the first decision a package is installed: the subscription pushes the
            // event (S_F = 1), carried in a CRETRY that starts a new exchange.
            assert_eq!(pv.pv.mirror().len(), 400);
            pc.pc
                .apply_changes(1, vec![swima::Change::Upsert(tag("curl"))], &now)
                .unwrap();
            while let Some(t) = pc.pc.poll_transmit() {
                id += 1;
                c.pb.send_pa(pa(PaSubtype::SWIMA, id, vec![pc.seg.prepare(t.attribute)]))
                    .unwrap();
            }
            c.pb.retry().unwrap();
            retried = true;
        } else if decided {
            c.pb.close().unwrap();
            pump(&mut c, &mut s);
            break;
        }
    }
    assert!(c.pb.is_closed());
    assert_eq!(results, 2);
    // The 400-record inventory (≈ 450 KB) crossed in 16 KiB segments.
    assert!(envelopes >= 25, "only {envelopes} envelopes");
    // The manager's mirror equals the endpoint's inventory, including the pushed install.
    let mirror: Vec<_> = pv
        .pv
        .mirror()
        .iter()
        .map(|r| r.software_identifier.to_owned())
        .collect();
    let mut inventory: Vec<_> = pc
        .pc
        .inventory()
        .map(|r| r.id.software_identifier.as_str().to_owned())
        .collect();
    inventory.sort();
    let mut mirror_sorted = mirror.clone();
    mirror_sorted.sort();
    assert_eq!(mirror_sorted, inventory);
    assert_eq!(mirror.len(), 401);
    assert_eq!((pv.pv.epoch(), pv.pv.last_eid()), (Some(0x5eed), 1));
}
