//! Every strongSwan batch in `tests/data/` decodes and re-encodes byte for byte; whole
//! captured scenarios replay through our client and server sessions.

#![allow(unreachable_pub, dead_code)]
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::expect_used
)]

#[path = "common/pair.rs"]
mod pair;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use pair::{events, transmits};
use pb_tnc::{
    AccessRecommendation, Batch, BatchType, CloseReason, Config, DecodeErrorKind, ErrorCode, Event,
    Message, PaSubtype, PbAssessmentResult, PbError, Session, Side, State,
};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// `(scenario, file name, bytes)` of every batch, in wire order per scenario.
fn all_batches() -> Vec<(String, String, Bytes)> {
    let mut out = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(data_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for d in dirs {
        let mut files: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(".batch.bin"))
            .collect();
        files.sort();
        for f in files {
            out.push((
                d.file_name().unwrap().to_string_lossy().into_owned(),
                f.file_name().unwrap().to_string_lossy().into_owned(),
                Bytes::from(std::fs::read(&f).unwrap()),
            ));
        }
    }
    out
}

fn scenario(name: &str) -> Vec<(String, Bytes)> {
    all_batches()
        .into_iter()
        .filter(|(s, _, _)| s == name)
        .map(|(_, f, b)| (f, b))
        .collect()
}

#[test]
fn every_vector_roundtrips_byte_for_byte() {
    let all = all_batches();
    assert_eq!(all.len(), 38, "all captured batches present");
    for (scn, file, bytes) in all {
        if scn.starts_with("04") && file.starts_with("04-") {
            // Version 3: not a batch this crate decodes.
            let e = Batch::decode(bytes).unwrap_err();
            assert_eq!(e.kind, DecodeErrorKind::UnsupportedVersion { version: 3 });
            assert_eq!(e.offset, 0);
            continue;
        }
        let batch = Batch::decode(bytes.clone()).unwrap_or_else(|e| panic!("{scn}/{file}: {e}"));
        assert_eq!(batch.encoded_len(), bytes.len(), "{scn}/{file}");
        assert_eq!(batch.to_bytes(), bytes, "{scn}/{file}");
        let expected_sender = if file.contains("-c2s-") {
            Side::Client
        } else {
            Side::Server
        };
        assert_eq!(batch.sender(), expected_sender, "{scn}/{file}");
        let kind = file
            .split("-pb-")
            .nth(1)
            .unwrap()
            .trim_end_matches(".batch.bin");
        assert_eq!(
            batch.batch_type().name().to_lowercase(),
            kind,
            "{scn}/{file}"
        );
        // Rebuilt from its typed messages, the batch is identical too.
        let rebuilt = Batch::new(
            batch.sender(),
            batch.batch_type(),
            batch.messages().to_vec(),
        )
        .unwrap()
        .to_bytes();
        assert_eq!(rebuilt, bytes, "{scn}/{file}");
    }
}

#[test]
fn scenario_01_fields() {
    let s = scenario("01-sasl-plain-test-os-isolate");
    let cdata = Batch::decode(s[0].1.clone()).unwrap();
    let Message::LanguagePreference(l) = &cdata.messages()[0] else {
        panic!()
    };
    assert_eq!(l.0, "Accept-Language: en");
    let Message::Pa(pa) = &cdata.messages()[1] else {
        panic!()
    };
    assert_eq!(pa.vendor, nea_wire::VendorId::ITA);
    assert_eq!(pa.subtype, PaSubtype(1));
    assert_eq!(
        (pa.collector_id, pa.validator_id, pa.exclusive),
        (1, 0xffff, false)
    );
    assert_eq!(pa.body.len(), 27);
    let Message::Pa(pa) = &cdata.messages()[2] else {
        panic!()
    };
    assert_eq!(pa.subtype, PaSubtype::OPERATING_SYSTEM);
    assert_eq!(pa.body.len(), 195);

    let result = Batch::decode(s[3].1.clone()).unwrap();
    assert_eq!(result.batch_type(), BatchType::Result);
    let m = result.messages();
    assert!(matches!(&m[0], Message::Pa(p) if p.exclusive && p.validator_id == 1));
    assert_eq!(
        m[1],
        Message::AssessmentResult(PbAssessmentResult::NON_COMPLIANT_MINOR)
    );
    assert_eq!(
        m[2],
        Message::AccessRecommendation(AccessRecommendation::QUARANTINED)
    );
    let Message::ReasonString(r) = &m[3] else {
        panic!()
    };
    assert_eq!(
        r.reason,
        "IMC Test was not configured with \"command = allow\""
    );
    assert_eq!(r.language, "en");
}

#[test]
fn scenario_04_version_not_supported_exact_close() {
    let s = scenario("04-pb-error-version-not-supported");
    let mut server = Session::new(Arc::new(Config::default()), Side::Server);
    server.handle_batch(s[0].1.clone());
    assert_eq!(transmits(&mut server), vec![s[1].1.clone()]);
    assert_eq!(
        events(&mut server),
        vec![Event::Closed {
            reason: CloseReason::ProtocolViolation(PbError::version_not_supported(3, 2, 2))
        }]
    );
    // The client reads the CLOSE: fatal error, session over, nothing sent back.
    let mut client = Session::new(Arc::new(Config::default()), Side::Client);
    client
        .send_pa(pb_tnc::PbPa::new(
            nea_wire::VendorId::ITA,
            PaSubtype(1),
            Bytes::new(),
        ))
        .unwrap();
    client.end_turn().unwrap();
    transmits(&mut client);
    client.handle_batch(s[1].1.clone());
    assert!(transmits(&mut client).is_empty());
    let ev = events(&mut client);
    assert_eq!(
        ev[0],
        Event::PeerError(PbError::version_not_supported(3, 2, 2))
    );
    assert!(
        matches!(&ev[1], Event::Closed { reason: CloseReason::PeerError(e) } if e.code == ErrorCode::VERSION_NOT_SUPPORTED)
    );
    assert_eq!(client.state(), State::End);
}

#[test]
fn scenario_05_noskip_exact_close_offset_88() {
    let s = scenario("05-pb-error-noskip-unsupported");
    let mut server = Session::new(Arc::new(Config::default()), Side::Server);
    server.handle_batch(s[0].1.clone());
    let out = transmits(&mut server);
    assert_eq!(out, vec![s[1].1.clone()]);
    assert_eq!(&out[0][28..32], &[0, 0, 0, 88]);
    // RFC 5793 §4.2: nothing of the batch was acted on (no PA event before Closed).
    assert_eq!(
        events(&mut server),
        vec![Event::Closed {
            reason: CloseReason::ProtocolViolation(PbError::unsupported_mandatory_message(88))
        }]
    );
}

/// Replays a captured scenario: the sending session rebuilds each batch from its decoded
/// messages (asserting identical bytes) and the receiving session accepts it.
fn replay(name: &str) -> (Session, Session) {
    let config = Arc::new(Config::default());
    let mut client = Session::new(config.clone(), Side::Client);
    let mut server = Session::new(config, Side::Server);
    for (file, bytes) in scenario(name) {
        let batch = Batch::decode(bytes.clone()).unwrap();
        let (tx, rx) = if batch.sender() == Side::Client {
            (&mut client, &mut server)
        } else {
            (&mut server, &mut client)
        };
        let mut result = None;
        let mut rec = None;
        for m in batch.messages() {
            match m {
                Message::AssessmentResult(a) => result = Some(*a),
                Message::AccessRecommendation(a) => rec = Some(*a),
                other => tx.send_message(other.clone()).unwrap(),
            }
        }
        match batch.batch_type() {
            BatchType::Cdata | BatchType::Sdata => tx.end_turn().unwrap(),
            BatchType::Result => tx.send_result(result.unwrap(), rec).unwrap(),
            BatchType::Cretry | BatchType::Sretry => assert!(tx.retry().unwrap()),
            BatchType::Close => tx.close().unwrap(),
        }
        assert_eq!(transmits(tx), vec![bytes.clone()], "{name}/{file}");
        rx.handle_batch(bytes);
        assert!(
            transmits(rx).is_empty(),
            "{name}/{file}: no reply to a valid batch"
        );
        let ev = events(rx);
        let pa = batch
            .messages()
            .iter()
            .filter(|m| matches!(m, Message::Pa(_)))
            .count();
        assert_eq!(
            ev.iter().filter(|e| matches!(e, Event::Pa(_))).count(),
            pa,
            "{name}/{file}"
        );
        assert!(
            !ev.iter().any(
                |e| matches!(e, Event::Closed { reason } if *reason != CloseReason::PeerClosed)
            ),
            "{name}/{file}: {ev:?}"
        );
        assert_eq!(tx.state(), rx.state(), "{name}/{file}");
    }
    (client, server)
}

#[test]
fn replay_scenarios_through_sessions() {
    for name in [
        "01-sasl-plain-test-os-isolate",
        "02-cert-swima-sw-id-events",
        "03-swima-sw-inventory-segmented",
    ] {
        let (c, s) = replay(name);
        assert!(c.is_closed() && s.is_closed(), "{name}");
    }
}

#[test]
fn replay_06_cretry() {
    // Decided -> CRETRY -> Server Working, a second exchange, RESULT, CLOSE.
    let (client, server) = replay("06-client-retry-cretry");
    assert_eq!(client.state(), State::End);
    assert_eq!(server.state(), State::End);
    // Four batches in all (CDATA, CDATA, CRETRY, CDATA), counted per handshake: the CRETRY
    // started the second, which received two.
    assert_eq!(server.handshakes(), 2);
    assert_eq!(server.batches_received(), 2);
    // And the CRETRY's PB-PA reaches the server as an event.
    let s = scenario("06-client-retry-cretry");
    let mut server = Session::new(Arc::new(Config::default()), Side::Server);
    for (file, bytes) in &s {
        if file.contains("-c2s-") {
            server.handle_batch(bytes.clone());
            let ev = events(&mut server);
            if file.contains("cretry") {
                // The CRETRY in Decided starts a new handshake, then its PB-PA arrives.
                assert_eq!(
                    ev[0],
                    Event::HandshakeStarted {
                        batch_type: BatchType::Cretry
                    }
                );
                assert!(matches!(ev[1], Event::Pa(_)));
                assert_eq!(
                    ev[2],
                    Event::EndOfBatch {
                        batch_type: BatchType::Cretry
                    }
                );
                assert_eq!(server.state(), State::ServerWorking);
            }
            transmits(&mut server);
        } else if !server.is_closed() {
            // Server answers with the captured batch's messages.
            let batch = Batch::decode(bytes.clone()).unwrap();
            let (mut r, mut a) = (None, None);
            for m in batch.messages() {
                match m {
                    Message::AssessmentResult(x) => r = Some(*x),
                    Message::AccessRecommendation(x) => a = Some(*x),
                    other => server.send_message(other.clone()).unwrap(),
                }
            }
            match r {
                Some(r) => server.send_result(r, a).unwrap(),
                None => server.end_turn().unwrap(),
            }
            assert_eq!(transmits(&mut server), vec![bytes.clone()], "{file}");
        }
    }
    assert!(server.is_closed());
}
