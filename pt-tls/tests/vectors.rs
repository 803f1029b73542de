//! Every strongSwan PT-TLS message in `tests/data/` decodes and re-encodes byte for byte, the
//! captured streams frame under any split, and scenario 01 (negotiation + SASL PLAIN) replays
//! through our client and server sessions.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::cast_possible_truncation
)]

#[path = "common/pair.rs"]
mod pair;

use std::path::{Path, PathBuf};

use bytes::{Bytes, BytesMut};
use pt_tls::wire::{ResultForm, SaslResult};
use pt_tls::{Body, Event, Framer, Message, MessageType, SaslResultCode, Session, Side, TlsRole};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn scenario_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".pttls.bin"))
        .collect();
    v.sort();
    v
}

fn scenarios() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(data_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

fn kind_of(name: &str) -> u32 {
    let table = [
        ("version-request", MessageType::VERSION_REQUEST),
        ("version-response", MessageType::VERSION_RESPONSE),
        ("sasl-mechanisms", MessageType::SASL_MECHANISMS),
        (
            "sasl-mechanism-selection",
            MessageType::SASL_MECHANISM_SELECTION,
        ),
        ("sasl-result", MessageType::SASL_RESULT),
        ("-pb-", MessageType::PB_TNC_BATCH),
    ];
    table
        .iter()
        .find(|(k, _)| name.contains(k))
        .map(|(_, t)| t.0)
        .unwrap_or_else(|| panic!("unknown kind in {name}"))
}

#[test]
fn every_capture_round_trips() {
    let mut count = 0;
    for dir in scenarios() {
        for path in scenario_files(&dir) {
            let raw = Bytes::from(std::fs::read(&path).unwrap());
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let m = Message::decode(raw.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(m.header().message_type, kind_of(&name), "{name}");
            assert_eq!(m.encoded_len(), raw.len(), "{name}");
            assert_eq!(m.to_bytes(), raw, "{name}");
            if let Body::PbTncBatch(b) = &m.body {
                // Zero copy: the batch is a slice of the input.
                assert_eq!(b.as_ptr(), raw[16..].as_ptr(), "{name}");
                let batch_file = path.to_string_lossy().replace(".pttls.bin", ".batch.bin");
                let shared = batch_file.replace(
                    &*data_dir().to_string_lossy(),
                    "/work/shared/vectors/strongswan",
                );
                if let Ok(expected) = std::fs::read(shared) {
                    assert_eq!(&b[..], &expected[..], "{name}");
                }
            }
            count += 1;
        }
    }
    assert!(count >= 50, "only {count} captures");
}

#[test]
fn identifiers_count_from_zero_per_direction() {
    for dir in scenarios() {
        for dirn in ["-c2s-", "-s2c-"] {
            let ids: Vec<u32> = scenario_files(&dir)
                .iter()
                .filter(|p| p.to_string_lossy().contains(dirn))
                .map(|p| {
                    Message::decode(Bytes::from(std::fs::read(p).unwrap()))
                        .unwrap()
                        .identifier
                })
                .collect();
            let expected: Vec<u32> = (0..ids.len() as u32).collect();
            assert_eq!(ids, expected, "{dir:?} {dirn}");
        }
    }
}

#[test]
fn streams_frame_under_splits() {
    for dir in scenarios() {
        for dirn in ["-c2s-", "-s2c-"] {
            let files: Vec<Vec<u8>> = scenario_files(&dir)
                .iter()
                .filter(|p| p.to_string_lossy().contains(dirn))
                .map(|p| std::fs::read(p).unwrap())
                .collect();
            let stream: Vec<u8> = files.concat();
            let small = stream.len() < 4096;
            let chunks: Vec<usize> = if small {
                (1..=stream.len()).collect()
            } else {
                vec![1, 7, 16, 17, 1000, 16384, stream.len()]
            };
            for chunk in chunks {
                let mut f = Framer::new(1 << 20);
                let mut buf = BytesMut::new();
                let mut got = Vec::new();
                for piece in stream.chunks(chunk) {
                    buf.extend_from_slice(piece);
                    while let Some(m) = f.decode(&mut buf).unwrap() {
                        got.push(m.to_bytes().to_vec());
                    }
                }
                assert_eq!(got, files, "{dir:?} {dirn} chunk {chunk}");
            }
        }
    }
}

fn read01(name: &str) -> Bytes {
    Bytes::from(std::fs::read(data_dir().join("01-sasl-plain-test-os-isolate").join(name)).unwrap())
}

fn value(b: &Bytes) -> Bytes {
    b.slice(16..)
}

#[test]
fn scenario_01_replays_through_our_sessions() {
    let mut client = Session::new(
        pair::client_config(),
        Side::Client,
        TlsRole::Initiator,
        None,
    );
    let mut server = Session::new(
        pair::server_config(),
        Side::Server,
        TlsRole::Responder,
        None,
    );

    // #1 Version Request: exactly strongSwan's bytes.
    let (t, _) = pair::drain(&mut client);
    assert_eq!(t, [read01("01-c2s-version-request.pttls.bin")]);

    // Server answers with the Version Response and the mechanism list PLAIN, byte for byte.
    server.handle_bytes(&read01("01-c2s-version-request.pttls.bin"));
    let (t, e) = pair::drain(&mut server);
    assert_eq!(
        t,
        [
            read01("02-s2c-version-response.pttls.bin"),
            read01("03-s2c-sasl-mechanisms.pttls.bin")
        ]
    );
    assert!(e.is_empty());

    // Client selects PLAIN with alice/s3cret as the initial response, byte for byte.
    client.handle_bytes(&read01("02-s2c-version-response.pttls.bin"));
    client.handle_bytes(&read01("03-s2c-sasl-mechanisms.pttls.bin"));
    let (t, e) = pair::drain(&mut client);
    assert_eq!(t, [read01("04-c2s-sasl-mechanism-selection.pttls.bin")]);
    assert!(e.is_empty());

    // Server: SASL Result Success (RFC 16-bit form where strongSwan sends 1 byte), then the
    // empty list, byte for byte.
    server.handle_bytes(&read01("04-c2s-sasl-mechanism-selection.pttls.bin"));
    let (t, e) = pair::drain(&mut server);
    assert_eq!(t.len(), 2);
    let ours = Message::decode(t[0].clone()).unwrap();
    let theirs = Message::decode(read01("05-s2c-sasl-result.pttls.bin")).unwrap();
    assert_eq!(ours.identifier, theirs.identifier);
    assert_eq!(
        ours.body,
        Body::SaslResult(SaslResult::new(SaslResultCode::SUCCESS))
    );
    assert_eq!(
        theirs.body,
        Body::SaslResult(SaslResult {
            code: SaslResultCode::SUCCESS,
            data: Bytes::new(),
            form: ResultForm::OneByte
        })
    );
    assert_eq!(t[1], read01("06-s2c-sasl-mechanisms.pttls.bin"));
    assert_eq!(
        e,
        [
            Event::Authenticated {
                identity: Some("alice".into())
            },
            Event::Negotiated
        ]
    );
    assert_eq!(server.authenticated_identity(), Some("alice"));

    // Client takes strongSwan's 1-byte result and the empty list.
    client.handle_bytes(&read01("05-s2c-sasl-result.pttls.bin"));
    client.handle_bytes(&read01("06-s2c-sasl-mechanisms.pttls.bin"));
    let (t, e) = pair::drain(&mut client);
    assert!(t.is_empty());
    assert_eq!(
        e,
        [Event::Authenticated { identity: None }, Event::Negotiated]
    );
    assert!(client.is_data_transport() && server.is_data_transport());

    // Data Transport: every batch goes out byte for byte with strongSwan's identifiers.
    for name in [
        "07-c2s-pb-cdata.pttls.bin",
        "08-s2c-pb-sdata.pttls.bin",
        "09-c2s-pb-cdata.pttls.bin",
        "10-s2c-pb-result.pttls.bin",
        "11-c2s-pb-close.pttls.bin",
    ] {
        let wire = read01(name);
        let (tx, rx) = if name.contains("c2s") {
            (&mut client, &mut server)
        } else {
            (&mut server, &mut client)
        };
        tx.send_batch(value(&wire)).unwrap();
        let (t, _) = pair::drain(tx);
        assert_eq!(t, std::slice::from_ref(&wire), "{name}");
        rx.handle_bytes(&wire);
        let (t, e) = pair::drain(rx);
        assert!(t.is_empty());
        assert_eq!(e, [Event::Batch(value(&wire))], "{name}");
    }
}

#[test]
fn cert_scenarios_skip_sasl() {
    // Scenarios 02..06: the client had a certificate; the server sends only the empty list.
    for dir in scenarios().into_iter().skip(1) {
        let files = scenario_files(&dir);
        let mut server = Session::new(
            pair::server_config(),
            Side::Server,
            TlsRole::Responder,
            Some(Bytes::from_static(b"client certificate DER")),
        );
        server.handle_bytes(&std::fs::read(&files[0]).unwrap());
        let (t, e) = pair::drain(&mut server);
        assert_eq!(t[0], std::fs::read(&files[1]).unwrap(), "{dir:?}");
        assert_eq!(t[1], std::fs::read(&files[2]).unwrap(), "{dir:?}");
        assert_eq!(e, [Event::Negotiated]);
        // The rest of the client's messages are batches the server delivers.
        for f in files
            .iter()
            .skip(3)
            .filter(|p| p.to_string_lossy().contains("c2s"))
        {
            let wire = Bytes::from(std::fs::read(f).unwrap());
            server.handle_bytes(&wire);
            let (t, e) = pair::drain(&mut server);
            assert!(t.is_empty());
            assert_eq!(e, [Event::Batch(value(&wire))]);
        }
    }
}
