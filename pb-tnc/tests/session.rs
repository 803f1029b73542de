//! RFC 5793 §3.2 state machine on an in-memory client/server pair: one test per legal and
//! per illegal transition (send and receive, both sides), asserting the bytes sent and the
//! final event.

#![allow(unreachable_pub, dead_code)]
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::expect_used
)]

#[path = "common/pair.rs"]
mod pair;

use std::sync::Arc;

use bytes::Bytes;
use nea_wire::{Text, VendorId};
use pair::{Pair, events, transmits};
use pb_tnc::{
    AccessRecommendation, BatchType, CloseReason, Config, Error, Event, LanguagePreference,
    Message, PaSubtype, PbAssessmentResult, PbError, PbPa, ReasonString, RemediationParameters,
    Session, Side, State,
};

const ALL_TYPES: [BatchType; 6] = [
    BatchType::Cdata,
    BatchType::Sdata,
    BatchType::Result,
    BatchType::Cretry,
    BatchType::Sretry,
    BatchType::Close,
];
const STATES: [State; 4] = [
    State::Init,
    State::ServerWorking,
    State::ClientWorking,
    State::Decided,
];

fn d(side: Side) -> u8 {
    match side {
        Side::Client => 0,
        Side::Server => 0x80,
    }
}

/// Hand-written CLOSE batch with a fatal Unexpected Batch Type (RFC 5793 §4.9.1, no params).
fn ubt_close(sender: Side) -> Bytes {
    Bytes::from(vec![
        2,
        d(sender),
        0,
        6,
        0,
        0,
        0,
        28,
        0x80,
        0,
        0,
        0,
        0,
        0,
        0,
        5,
        0,
        0,
        0,
        20,
        0x80,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
    ])
}

/// Hand-written CLOSE batch with a fatal Invalid Parameter at `off`.
fn ip_close(sender: Side, off: u32) -> Bytes {
    let mut v = vec![
        2,
        d(sender),
        0,
        6,
        0,
        0,
        0,
        32,
        0x80,
        0,
        0,
        0,
        0,
        0,
        0,
        5,
        0,
        0,
        0,
        24,
        0x80,
        0,
        0,
        0,
        0,
        1,
        0,
        0,
    ];
    v.extend_from_slice(&off.to_be_bytes());
    Bytes::from(v)
}

/// Hand-written CLOSE batch with a fatal Local Error.
fn local_close(sender: Side) -> Bytes {
    Bytes::from(vec![
        2,
        d(sender),
        0,
        6,
        0,
        0,
        0,
        28,
        0x80,
        0,
        0,
        0,
        0,
        0,
        0,
        5,
        0,
        0,
        0,
        20,
        0x80,
        0,
        0,
        0,
        0,
        2,
        0,
        0,
    ])
}

/// A batch of `bt` from `sender` with the given raw messages.
fn batch(sender: Side, bt: BatchType, msgs: &[&[u8]]) -> Bytes {
    let mut v = vec![2, d(sender), 0, bt as u8, 0, 0, 0, 0];
    for m in msgs {
        v.extend_from_slice(m);
    }
    let len = u32::try_from(v.len()).unwrap();
    v[4..8].copy_from_slice(&len.to_be_bytes());
    Bytes::from(v)
}

const AR_COMPLIANT: &[u8] = &[0x80, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 16, 0, 0, 0, 0];
const REC_ALLOW: &[u8] = &[0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 16, 0, 0, 0, 1];
const PA_EMPTY: &[u8] = &[
    0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 24, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0xff, 0xff,
];

/// A valid batch of `bt` as the peer of `side` would send it (RESULT holds an AR).
fn valid_from_peer(side: Side, bt: BatchType) -> Bytes {
    if bt == BatchType::Result {
        batch(side.peer(), bt, &[AR_COMPLIANT])
    } else {
        batch(side.peer(), bt, &[])
    }
}

fn session(side: Side) -> Session {
    Session::new(Arc::new(Config::default()), side)
}

/// A session of `side` brought to `state` through the public API only.
fn in_state(side: Side, state: State) -> Session {
    let mut s = session(side);
    match (side, state) {
        (_, State::Init) => {}
        (Side::Client, State::ServerWorking) => s.end_turn().unwrap(),
        (Side::Client, State::ClientWorking) => {
            s.handle_batch(batch(Side::Server, BatchType::Sdata, &[]))
        }
        (Side::Client, State::Decided) => {
            s.end_turn().unwrap();
            s.handle_batch(batch(Side::Server, BatchType::Result, &[AR_COMPLIANT]));
        }
        (Side::Server, State::ServerWorking) => {
            s.handle_batch(batch(Side::Client, BatchType::Cdata, &[]))
        }
        (Side::Server, State::ClientWorking) => {
            s.handle_batch(batch(Side::Client, BatchType::Cdata, &[]));
            s.end_turn().unwrap();
        }
        (Side::Server, State::Decided) => {
            s.handle_batch(batch(Side::Client, BatchType::Cdata, &[]));
            s.send_result(PbAssessmentResult::COMPLIANT, None).unwrap();
        }
        (_, State::End) => unreachable!(),
    }
    assert_eq!(s.state(), state);
    transmits(&mut s);
    events(&mut s);
    s
}

/// RFC 5793 §3.2 receive table, written out independently of the crate.
fn expected_receive(side: Side, state: State, bt: BatchType) -> Option<State> {
    use BatchType::*;
    use State::*;
    let legal: &[(State, BatchType, State)] = match side {
        Side::Server => &[
            (Init, Cdata, ServerWorking),
            (ServerWorking, Cretry, ServerWorking),
            (ClientWorking, Cdata, ServerWorking),
            (ClientWorking, Cretry, ClientWorking),
            (Decided, Cretry, ServerWorking),
        ],
        Side::Client => &[
            (Init, Sdata, ClientWorking),
            (ServerWorking, Sdata, ClientWorking),
            (ServerWorking, Result, Decided),
            (ServerWorking, Sretry, ServerWorking),
            (Decided, Sretry, ServerWorking),
        ],
    };
    if bt == Close {
        return Some(End);
    }
    legal
        .iter()
        .find(|(s, b, _)| *s == state && *b == bt)
        .map(|(_, _, n)| *n)
}

/// RFC 5793 §3.2 send table.
fn expected_send(side: Side, state: State, bt: BatchType) -> Option<State> {
    use BatchType::*;
    use State::*;
    let legal: &[(State, BatchType, State)] = match side {
        Side::Client => &[
            (Init, Cdata, ServerWorking),
            (ClientWorking, Cdata, ServerWorking),
            (Decided, Cretry, ServerWorking),
        ],
        Side::Server => &[
            (Init, Sdata, ClientWorking),
            (ServerWorking, Sdata, ClientWorking),
            (ServerWorking, Result, Decided),
            (Decided, Sretry, ServerWorking),
        ],
    };
    if bt == Close {
        return Some(End);
    }
    legal
        .iter()
        .find(|(s, b, _)| *s == state && *b == bt)
        .map(|(_, _, n)| *n)
}

#[test]
fn every_receive_transition_both_sides() {
    let mut legal = 0;
    let mut illegal = 0;
    for side in [Side::Client, Side::Server] {
        for state in STATES {
            for bt in ALL_TYPES {
                let mut s = in_state(side, state);
                s.handle_batch(valid_from_peer(side, bt));
                let sent = transmits(&mut s);
                let ev = events(&mut s);
                match expected_receive(side, state, bt) {
                    Some(State::End) => {
                        legal += 1;
                        assert!(sent.is_empty(), "{side:?} {state:?} {bt}");
                        assert_eq!(
                            ev,
                            vec![Event::Closed {
                                reason: CloseReason::PeerClosed
                            }]
                        );
                        assert_eq!(s.state(), State::End);
                    }
                    Some(next) => {
                        legal += 1;
                        assert!(sent.is_empty(), "{side:?} {state:?} {bt}");
                        assert_eq!(s.state(), next, "{side:?} {state:?} {bt}");
                        assert_eq!(
                            ev.last(),
                            Some(&Event::EndOfBatch { batch_type: bt }),
                            "{side:?} {state:?} {bt}"
                        );
                    }
                    None => {
                        illegal += 1;
                        // RFC 5793 §4.1: ignore the contents, fatal Unexpected Batch Type in
                        // a CLOSE batch.
                        assert_eq!(sent, vec![ubt_close(side)], "{side:?} {state:?} {bt}");
                        assert_eq!(
                            ev,
                            vec![Event::Closed {
                                reason: CloseReason::ProtocolViolation(
                                    PbError::unexpected_batch_type()
                                )
                            }],
                            "{side:?} {state:?} {bt}"
                        );
                        assert_eq!(s.state(), State::End);
                    }
                }
            }
        }
    }
    assert_eq!((legal, illegal), (18, 30));
}

#[test]
fn every_send_transition_both_sides() {
    for side in [Side::Client, Side::Server] {
        for state in STATES {
            for bt in ALL_TYPES {
                let mut s = in_state(side, state);
                let r = match bt {
                    BatchType::Cdata if side == Side::Client => s.end_turn(),
                    BatchType::Sdata if side == Side::Server => s.end_turn(),
                    BatchType::Result if side == Side::Server => {
                        s.send_result(PbAssessmentResult::COMPLIANT, None)
                    }
                    BatchType::Cretry
                        if side == Side::Client
                            || bt == BatchType::Sretry && side == Side::Server =>
                    {
                        let r = s.retry();
                        let sent = transmits(&mut s);
                        match state {
                            // A retry during a handshake waits for Decided.
                            State::Init | State::ServerWorking | State::ClientWorking => {
                                assert_eq!(r, Ok(false), "{side:?} {state:?}");
                                assert!(sent.is_empty() && s.is_retry_pending());
                                assert_eq!(s.state(), state);
                            }
                            State::Decided => {
                                assert_eq!(r, Ok(true));
                                assert_eq!(sent.len(), 1);
                                assert_eq!(sent[0][3], bt as u8);
                                assert_eq!(s.state(), State::ServerWorking);
                            }
                            State::End => assert_eq!(r, Err(Error::Closed)),
                        }
                        continue;
                    }
                    BatchType::Close => s.close(),
                    // The API has no way to send the other side's batch types.
                    _ => continue,
                };
                let sent = transmits(&mut s);
                match expected_send(side, state, bt) {
                    Some(next) => {
                        r.unwrap();
                        assert_eq!(s.state(), next);
                        assert_eq!(sent.len(), 1);
                        assert_eq!(sent[0][1], d(side));
                        assert_eq!(sent[0][3], bt as u8);
                    }
                    None => {
                        assert_eq!(
                            r,
                            Err(Error::IllegalBatch {
                                batch_type: bt,
                                side,
                                state
                            }),
                            "{side:?} {state:?} {bt}"
                        );
                        assert!(sent.is_empty());
                        assert_eq!(s.state(), state);
                    }
                }
            }
        }
        let mut s = in_state(side, State::Init);
        s.close().unwrap();
        assert_eq!(
            events(&mut s),
            vec![Event::Closed {
                reason: CloseReason::LocalClose
            }]
        );
        assert_eq!(s.end_turn(), Err(Error::Closed));
        assert_eq!(s.close(), Err(Error::Closed));
        assert_eq!(
            s.send_pa(PbPa::new(VendorId::IETF, PaSubtype::TESTING, Bytes::new())),
            Err(Error::Closed)
        );
    }
    let mut c = session(Side::Client);
    assert!(matches!(
        c.send_result(PbAssessmentResult::COMPLIANT, None),
        Err(Error::WrongSide { .. })
    ));
    assert!(matches!(
        c.send_reason_string(ReasonString::new("x", "")),
        Err(Error::WrongSide { .. })
    ));
    assert!(matches!(
        c.send_remediation(RemediationParameters::Uri(Text::from("http://x"))),
        Err(Error::WrongSide { .. })
    ));
}

fn pa(body: &'static [u8]) -> PbPa {
    PbPa::new(VendorId::ITA, PaSubtype(1), Bytes::from_static(body)).with_collector_id(1)
}

#[test]
fn full_exchange_exact_bytes() {
    let mut p = Pair::new();
    p.client
        .send_language_preference(LanguagePreference::accept_language("en"))
        .unwrap();
    p.client.send_pa(pa(b"hi")).unwrap();
    p.client.end_turn().unwrap();
    p.drive();
    assert_eq!(p.server.state(), State::ServerWorking);
    assert_eq!(
        &p.c2s[0][..],
        &[
            &[2u8, 0, 0, 1, 0, 0, 0, 65][..],
            &[0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 31],
            b"Accept-Language: en",
            &[0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 26],
            &[0, 0, 0x90, 0x2a, 0, 0, 0, 1, 0, 1, 0xff, 0xff],
            b"hi",
        ]
        .concat()[..]
    );
    assert_eq!(
        p.server_events,
        vec![
            Event::HandshakeStarted {
                batch_type: BatchType::Cdata
            },
            Event::LanguagePreference(LanguagePreference::accept_language("en")),
            Event::Pa(pa(b"hi")),
            Event::EndOfBatch {
                batch_type: BatchType::Cdata
            }
        ]
    );
    p.server
        .send_pa(pa(b"yo").with_exclusive(true).with_validator_id(1))
        .unwrap();
    p.server.end_turn().unwrap();
    p.drive();
    assert_eq!(p.client.state(), State::ClientWorking);
    assert_eq!(p.s2c[0][1], 0x80);
    p.client.end_turn().unwrap();
    p.drive();
    p.server
        .send_reason_string(ReasonString::new("ok", "en"))
        .unwrap();
    p.server
        .send_result(
            PbAssessmentResult::COMPLIANT,
            Some(AccessRecommendation::ACCESS_ALLOWED),
        )
        .unwrap();
    p.drive();
    assert_eq!(p.client.state(), State::Decided);
    assert_eq!(
        &p.s2c[1][..],
        &[
            &[2u8, 0x80, 0, 3, 0, 0, 0, 61][..],
            AR_COMPLIANT,
            REC_ALLOW,
            &[
                0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 21, 0, 0, 0, 2, b'o', b'k', 2, b'e', b'n'
            ],
        ]
        .concat()[..]
    );
    let tail: Vec<_> = p
        .client_events
        .iter()
        .rev()
        .take(4)
        .rev()
        .cloned()
        .collect();
    assert_eq!(
        tail,
        vec![
            Event::AssessmentResult(PbAssessmentResult::COMPLIANT),
            Event::AccessRecommendation(AccessRecommendation::ACCESS_ALLOWED),
            Event::ReasonString(ReasonString::new("ok", "en")),
            Event::EndOfBatch {
                batch_type: BatchType::Result
            },
        ]
    );
    p.client.close().unwrap();
    p.drive();
    assert_eq!(&p.c2s.last().unwrap()[..], &[2, 0, 0, 6, 0, 0, 0, 8]);
    assert_eq!(
        p.server_events.last(),
        Some(&Event::Closed {
            reason: CloseReason::PeerClosed
        })
    );
    assert!(p.client.is_closed() && p.server.is_closed());
}

#[test]
fn server_opens_with_sdata() {
    // RFC 5793 §3.2: a server that opened PT starts with SDATA (Init -> Client Working).
    let mut p = Pair::new();
    p.server.end_turn().unwrap();
    p.drive();
    assert_eq!(p.client.state(), State::ClientWorking);
    assert_eq!(p.server.state(), State::ClientWorking);
    assert!(p.client.is_my_turn() && !p.server.is_my_turn());
}

fn decided_pair() -> Pair {
    let mut p = Pair::new();
    p.client.end_turn().unwrap();
    p.drive();
    p.server
        .send_result(PbAssessmentResult::COMPLIANT, None)
        .unwrap();
    p.drive();
    assert_eq!(p.client.state(), State::Decided);
    assert_eq!(p.server.state(), State::Decided);
    p.client_events.clear();
    p.server_events.clear();
    p
}

#[test]
fn cretry_from_decided() {
    let mut p = decided_pair();
    p.client.send_pa(pa(b"again")).unwrap();
    p.client.retry().unwrap();
    p.drive();
    assert_eq!(p.c2s.last().unwrap()[3], 4);
    assert_eq!(p.server.state(), State::ServerWorking);
    assert_eq!(
        p.server_events,
        vec![
            Event::HandshakeStarted {
                batch_type: BatchType::Cretry
            },
            Event::Pa(pa(b"again")),
            Event::EndOfBatch {
                batch_type: BatchType::Cretry
            }
        ]
    );
    assert!(p.server.is_my_turn());
}

#[test]
fn sretry_from_decided() {
    let mut p = decided_pair();
    p.server.retry().unwrap();
    p.drive();
    assert_eq!(&p.s2c.last().unwrap()[..], &[2, 0x80, 0, 5, 0, 0, 0, 8]);
    assert_eq!(p.client.state(), State::ServerWorking);
    p.server.end_turn().unwrap();
    p.drive();
    assert_eq!(p.client.state(), State::ClientWorking);
}

#[test]
fn no_sretry_over_half_duplex() {
    // RFC 5793 §3.2: over a half-duplex PT the server sent the last batch (RESULT).
    let mut p = Pair::with_config(Config::default().with_half_duplex(true));
    p.client.end_turn().unwrap();
    p.drive();
    p.server
        .send_result(PbAssessmentResult::COMPLIANT, None)
        .unwrap();
    p.drive();
    assert!(!p.server.can_send(BatchType::Sretry));
    assert_eq!(
        p.server.retry(),
        Err(Error::IllegalBatch {
            batch_type: BatchType::Sretry,
            side: Side::Server,
            state: State::Decided
        })
    );
    assert!(p.client.can_send(BatchType::Cretry));
}

#[test]
fn crossing_retries_are_ignored_but_delivered() {
    // RFC 5793 §3.2 "Receive CRETRY or SRETRY"; NEA-WIRE-FACTS §7 #4: deliver, keep state.
    let mut p = decided_pair();
    p.client.send_pa(pa(b"c")).unwrap();
    p.client.retry().unwrap();
    p.server.retry().unwrap();
    let c = p.take_client();
    let s = p.take_server();
    p.server.handle_batch(c[0].clone());
    p.client.handle_batch(s[0].clone());
    assert!(transmits(&mut p.client).is_empty() && transmits(&mut p.server).is_empty());
    assert_eq!(p.server.state(), State::ServerWorking);
    assert_eq!(p.client.state(), State::ServerWorking);
    assert_eq!(
        events(&mut p.server),
        vec![
            Event::Pa(pa(b"c")),
            Event::EndOfBatch {
                batch_type: BatchType::Cretry
            }
        ]
    );
    // The server continues with SDATA.
    p.server.end_turn().unwrap();
    p.drive();
    assert_eq!(p.client.state(), State::ClientWorking);
}

#[test]
fn crossing_cretry_in_client_working_is_ignored() {
    // Server: Decided -SRETRY-> SW -SDATA-> CW, then the client's CRETRY arrives.
    let mut p = decided_pair();
    p.client.retry().unwrap();
    let cretry = p.take_client();
    p.server.retry().unwrap();
    p.server.end_turn().unwrap();
    let from_server = p.take_server();
    assert_eq!(p.server.state(), State::ClientWorking);
    p.server.handle_batch(cretry[0].clone());
    assert!(transmits(&mut p.server).is_empty());
    assert_eq!(p.server.state(), State::ClientWorking);
    for b in from_server {
        p.client.handle_batch(b);
    }
    assert!(transmits(&mut p.client).is_empty());
    assert_eq!(p.client.state(), State::ClientWorking);
    p.client.end_turn().unwrap();
    p.drive();
    assert_eq!(p.server.state(), State::ServerWorking);
}

#[test]
fn directionality_and_btype_violations() {
    // RFC 5793 §4.1: D bit from our own side -> Invalid Parameter at offset 1.
    let mut s = session(Side::Server);
    s.handle_batch(batch(Side::Server, BatchType::Cdata, &[]));
    assert_eq!(transmits(&mut s), vec![ip_close(Side::Server, 1)]);
    let mut c = session(Side::Client);
    c.handle_batch(batch(Side::Client, BatchType::Sdata, &[]));
    assert_eq!(transmits(&mut c), vec![ip_close(Side::Client, 1)]);
    // B-Type 0 and 7 -> Invalid Parameter at offset 3.
    for bt in [0u8, 7, 15] {
        let mut s = session(Side::Server);
        s.handle_batch(Bytes::from(vec![2, 0, 0, bt, 0, 0, 0, 8]));
        assert_eq!(transmits(&mut s), vec![ip_close(Side::Server, 3)]);
    }
    // Batch Length != received -> offset 4; short batch -> offset 0.
    let mut s = session(Side::Server);
    s.handle_batch(Bytes::from(vec![2, 0, 0, 1, 0, 0, 0, 9]));
    assert_eq!(transmits(&mut s), vec![ip_close(Side::Server, 4)]);
    let mut s = session(Side::Server);
    s.handle_batch(Bytes::from(vec![2, 0, 0]));
    assert_eq!(transmits(&mut s), vec![ip_close(Side::Server, 0)]);
    // After End, further batches are ignored.
    s.handle_batch(batch(Side::Client, BatchType::Cdata, &[]));
    assert!(transmits(&mut s).is_empty());
    assert_eq!(events(&mut s).len(), 1);
}

#[test]
fn version_not_supported_reply_is_version_2() {
    let mut s = session(Side::Server);
    s.handle_batch(Bytes::from(vec![1, 0, 0, 1, 0, 0, 0, 8]));
    assert_eq!(
        &transmits(&mut s)[0][..],
        &[
            2, 0x80, 0, 6, 0, 0, 0, 32, 0x80, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 24, 0x80, 0, 0, 0, 0,
            4, 0, 0, 1, 2, 2, 0
        ]
    );
}

#[test]
fn result_content_rules() {
    let client_sw = || in_state(Side::Client, State::ServerWorking);
    // RFC 5793 §4.1: RESULT without a PB-Assessment-Result.
    let mut c = client_sw();
    c.handle_batch(batch(Side::Server, BatchType::Result, &[REC_ALLOW]));
    assert_eq!(transmits(&mut c), vec![ip_close(Side::Client, 3)]);
    // RFC 5793 §4.6: two Assessment-Results -> at the second (offset 24).
    let mut c = client_sw();
    c.handle_batch(batch(
        Side::Server,
        BatchType::Result,
        &[AR_COMPLIANT, AR_COMPLIANT],
    ));
    assert_eq!(transmits(&mut c), vec![ip_close(Side::Client, 24)]);
    // RFC 5793 §4.7: two Access-Recommendations -> at the second (offset 40).
    let mut c = client_sw();
    c.handle_batch(batch(
        Side::Server,
        BatchType::Result,
        &[AR_COMPLIANT, REC_ALLOW, REC_ALLOW],
    ));
    assert_eq!(transmits(&mut c), vec![ip_close(Side::Client, 40)]);
    // RFC 5793 §4.6, §4.7: outside RESULT the client ignores them.
    let mut c = client_sw();
    c.handle_batch(batch(
        Side::Server,
        BatchType::Sdata,
        &[AR_COMPLIANT, REC_ALLOW],
    ));
    assert!(transmits(&mut c).is_empty());
    assert_eq!(
        events(&mut c),
        vec![Event::EndOfBatch {
            batch_type: BatchType::Sdata
        }]
    );
}

#[test]
fn server_rejects_server_only_messages() {
    let reason: &[u8] = &[0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 18, 0, 0, 0, 1, b'x', 0];
    let remediation: &[u8] = &[
        0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 21, 0, 0, 0, 0, 0, 0, 0, 1, b'u',
    ];
    for m in [AR_COMPLIANT, REC_ALLOW, remediation, reason] {
        let mut s = session(Side::Server);
        s.handle_batch(batch(Side::Client, BatchType::Cdata, &[PA_EMPTY, m]));
        assert_eq!(transmits(&mut s), vec![ip_close(Side::Server, 32)]);
        // nothing of the batch was acted on
        assert!(matches!(events(&mut s)[..], [Event::Closed { .. }]));
    }
}

#[test]
fn noskip_scan_before_acting() {
    // RFC 5793 §4.2, §4.4: Experimental or unknown with NOSKIP -> Unsupported Mandatory
    // Message at its offset, and no part of the batch is acted on.
    let exp: &[u8] = &[0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12];
    let unknown: &[u8] = &[0x80, 0, 0x90, 0x2a, 0, 0, 0, 0, 0, 0, 0, 12];
    for m in [exp, unknown] {
        let mut s = session(Side::Server);
        s.handle_batch(batch(Side::Client, BatchType::Cdata, &[PA_EMPTY, m]));
        assert_eq!(
            events(&mut s),
            vec![Event::Closed {
                reason: CloseReason::ProtocolViolation(PbError::unsupported_mandatory_message(32))
            }]
        );
        assert_eq!(
            &transmits(&mut s)[0][20..],
            &[0x80, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 32]
        );
    }
    // Without NOSKIP they are not errors: experimental ones are ignored, unknown ones are
    // handed to the driver (which may skip them).
    let exp: &[u8] = &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12];
    let unknown: &[u8] = &[0, 0, 0x90, 0x2a, 0, 0, 0, 0, 0, 0, 0, 13, 9];
    let mut s = session(Side::Server);
    s.handle_batch(batch(
        Side::Client,
        BatchType::Cdata,
        &[exp, unknown, PA_EMPTY],
    ));
    assert!(transmits(&mut s).is_empty());
    let ev = events(&mut s);
    assert!(matches!(
        &ev[..],
        [Event::HandshakeStarted { .. }, Event::Unknown(u), Event::Pa(_), Event::EndOfBatch { .. }]
            if u.vendor == VendorId::ITA && u.value[..] == [9]
    ));
}

#[test]
fn language_preference_last_wins() {
    let l1: &[u8] = b"\0\0\0\0\0\0\0\x06\0\0\0\x0dA";
    let l2: &[u8] = b"\0\0\0\0\0\0\0\x06\0\0\0\x0dB";
    let mut s = session(Side::Server);
    s.handle_batch(batch(Side::Client, BatchType::Cdata, &[l1, l2]));
    assert_eq!(
        events(&mut s)[1],
        Event::LanguagePreference(LanguagePreference(Text::from("B")))
    );
    // Sending: a second one replaces the first queued.
    let mut c = session(Side::Client);
    c.send_language_preference(LanguagePreference(Text::from("A")))
        .unwrap();
    c.send_language_preference(LanguagePreference(Text::from("B")))
        .unwrap();
    c.end_turn().unwrap();
    assert_eq!(
        &transmits(&mut c)[0][..],
        &[&[2u8, 0, 0, 1, 0, 0, 0, 21][..], l2].concat()[..]
    );
}

#[test]
fn peer_errors() {
    // Non-fatal PB-Error: reported, session continues.
    let nonfatal: &[u8] = &[
        0x80, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 24, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 9,
    ];
    let mut c = in_state(Side::Client, State::ServerWorking);
    c.handle_batch(batch(Side::Server, BatchType::Sdata, &[nonfatal]));
    let mut e = PbError::invalid_parameter(9);
    e.fatal = false;
    assert_eq!(
        events(&mut c),
        vec![
            Event::PeerError(e),
            Event::EndOfBatch {
                batch_type: BatchType::Sdata
            }
        ]
    );
    assert_eq!(c.state(), State::ClientWorking);
    // Fatal PB-Error outside CLOSE (strongSwan does this): the rest of the batch is
    // delivered, then the session ends without a reply (RFC 5793 §4.9).
    let fatal: &[u8] = &[
        0x80, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 20, 0x80, 0, 0, 0, 0, 2, 0, 0,
    ];
    let mut c = in_state(Side::Client, State::ServerWorking);
    c.handle_batch(batch(Side::Server, BatchType::Sdata, &[fatal, PA_EMPTY]));
    assert!(transmits(&mut c).is_empty());
    let ev = events(&mut c);
    assert_eq!(ev.len(), 3);
    assert!(matches!(ev[1], Event::Pa(_)));
    assert_eq!(
        ev[2],
        Event::Closed {
            reason: CloseReason::PeerError(PbError::local_error())
        }
    );
    assert_eq!(c.state(), State::End);
}

#[test]
fn transport_closed() {
    let mut s = in_state(Side::Server, State::ServerWorking);
    s.handle_transport_closed();
    assert_eq!(
        events(&mut s),
        vec![Event::Closed {
            reason: CloseReason::TransportClosed
        }]
    );
    s.handle_transport_closed();
    assert!(events(&mut s).is_empty());
}

#[test]
fn limits() {
    // Batch over max_batch_size: fatal Local Error before decoding.
    let config = Arc::new(Config::default().with_max_batch_size(40));
    let mut s = Session::new(config.clone(), Side::Server);
    s.handle_batch(batch(Side::Client, BatchType::Cdata, &[PA_EMPTY, PA_EMPTY]));
    assert_eq!(transmits(&mut s), vec![local_close(Side::Server)]);
    assert_eq!(
        events(&mut s),
        vec![Event::Closed {
            reason: CloseReason::LimitExceeded(PbError::local_error())
        }]
    );
    // Sending over the limit is refused.
    let mut c = Session::new(config, Side::Client);
    c.send_pa(PbPa::new(VendorId::IETF, PaSubtype(1), Bytes::new()))
        .unwrap();
    assert!(matches!(
        c.send_pa(PbPa::new(VendorId::IETF, PaSubtype(1), Bytes::new())),
        Err(Error::OverLimit { what: "batch", .. })
    ));
    // Message over max_message_size: Local Error.
    let config = Arc::new(Config::default().with_max_message_size(23));
    let mut s = Session::new(config.clone(), Side::Server);
    s.handle_batch(batch(Side::Client, BatchType::Cdata, &[PA_EMPTY]));
    assert_eq!(transmits(&mut s), vec![local_close(Side::Server)]);
    let mut c = Session::new(config, Side::Client);
    assert!(matches!(
        c.send_pa(PbPa::new(VendorId::IETF, PaSubtype(1), Bytes::new())),
        Err(Error::OverLimit {
            what: "message",
            ..
        })
    ));
    // Two peers ping-ponging empty batches stop at max_round_trips.
    let mut p = Pair::with_config(Config::default().with_max_round_trips(5));
    p.client.end_turn().unwrap();
    for _ in 0..20 {
        for ev in events(&mut p.client)
            .into_iter()
            .chain(events(&mut p.server))
        {
            p.client_events.push(ev);
        }
        if p.client.is_my_turn() {
            p.client.end_turn().unwrap();
        }
        if p.server.is_my_turn() {
            p.server.end_turn().unwrap();
        }
        for b in transmits(&mut p.client) {
            p.server.handle_batch(b);
        }
        for b in transmits(&mut p.server) {
            p.client.handle_batch(b);
        }
    }
    assert!(p.client.is_closed() && p.server.is_closed());
    assert_eq!(p.server.batches_received(), 6);
}

#[test]
fn send_message_rules() {
    let mut c = session(Side::Client);
    assert!(
        c.send_message(Message::AssessmentResult(PbAssessmentResult::COMPLIANT))
            .is_err()
    );
    assert!(
        c.send_message(Message::Error(PbError::local_error()))
            .is_err()
    );
    let mut nonfatal = PbError::invalid_parameter(3);
    nonfatal.fatal = false;
    c.send_message(Message::Error(nonfatal.clone())).unwrap();
    c.end_turn().unwrap();
    let mut s = session(Side::Server);
    s.handle_batch(transmits(&mut c).remove(0));
    assert_eq!(events(&mut s)[1], Event::PeerError(nonfatal));
}

/// Runs one whole exchange (CDATA/SDATA `rounds` times, then RESULT) on a pair in Decided or
/// Init; the client starts it with CRETRY when the pair is in Decided.
fn exchange(p: &mut Pair, rounds: usize) {
    if p.client.state() == State::Decided {
        assert_eq!(p.client.retry(), Ok(true));
    } else {
        p.client.end_turn().unwrap();
    }
    p.drive();
    for _ in 0..rounds {
        p.server.end_turn().unwrap();
        p.drive();
        p.client.end_turn().unwrap();
        p.drive();
    }
    p.server
        .send_result(PbAssessmentResult::COMPLIANT, None)
        .unwrap();
    p.drive();
    assert_eq!(p.client.state(), State::Decided);
}

#[test]
fn round_trip_limit_counts_per_handshake() {
    // 5 batches allowed per handshake; ten handshakes of 3 batches each (CDATA or CRETRY, then
    // 2 CDATA) are 30 in all and never trip it, because the count restarts per handshake.
    let mut p = Pair::with_config(Config::default().with_max_round_trips(5));
    for i in 1..=10 {
        exchange(&mut p, 2);
        assert!(
            !p.server.is_closed() && !p.client.is_closed(),
            "handshake {i}"
        );
        assert_eq!(p.server.handshakes(), i);
        assert_eq!(p.client.handshakes(), i);
        assert_eq!(p.server.batches_received(), 3);
    }
    let started = p
        .server_events
        .iter()
        .filter(|e| matches!(e, Event::HandshakeStarted { .. }))
        .count();
    assert_eq!(started, 10);
    // One handshake longer than the limit still ends the session.
    p.client.retry().unwrap();
    p.drive();
    for _ in 0..5 {
        if p.server.is_closed() {
            break;
        }
        p.server.end_turn().unwrap();
        p.drive();
        if p.client.is_closed() {
            break;
        }
        p.client.end_turn().unwrap();
        p.drive();
    }
    assert!(p.server_events.iter().any(|e| matches!(
        e,
        Event::Closed {
            reason: CloseReason::LimitExceeded(_)
        }
    )));
}

#[test]
fn retry_asked_during_a_handshake_is_due_at_decided() {
    let mut p = Pair::new();
    p.client.end_turn().unwrap();
    p.drive();
    // Client asks for a retry while the server works: nothing is sent yet.
    assert_eq!(p.client.retry(), Ok(false));
    assert!(p.client.is_retry_pending() && !p.client.has_pending_transmit());
    p.server
        .send_result(PbAssessmentResult::COMPLIANT, None)
        .unwrap();
    p.drive();
    // The RESULT batch's events, then RetryDue.
    assert_eq!(
        p.client_events[p.client_events.len() - 2..],
        [
            Event::EndOfBatch {
                batch_type: BatchType::Result
            },
            Event::RetryDue
        ]
    );
    assert!(!p.client.is_retry_pending());
    p.client.send_pa(pa(b"changed")).unwrap();
    assert_eq!(p.client.retry(), Ok(true));
    p.drive();
    assert_eq!(p.c2s.last().unwrap()[3], BatchType::Cretry as u8);
    assert!(p.server_events.ends_with(&[
        Event::HandshakeStarted {
            batch_type: BatchType::Cretry
        },
        Event::Pa(pa(b"changed")),
        Event::EndOfBatch {
            batch_type: BatchType::Cretry
        }
    ]));
    // The server side: a retry asked for in Server Working is due right after RESULT.
    let mut p = Pair::new();
    p.client.end_turn().unwrap();
    p.drive();
    assert_eq!(p.server.retry(), Ok(false));
    p.server
        .send_result(PbAssessmentResult::COMPLIANT, None)
        .unwrap();
    assert_eq!(p.server.poll_event(), Some(Event::RetryDue));
    assert_eq!(p.server.retry(), Ok(true));
    p.drive();
    assert_eq!(p.client.state(), State::ServerWorking);
    assert!(p.client_events.contains(&Event::HandshakeStarted {
        batch_type: BatchType::Sretry
    }));
    // Over a half-duplex PT the server can never SRETRY, not even later.
    let mut s = Session::new(
        Arc::new(Config::default().with_half_duplex(true)),
        Side::Server,
    );
    assert!(matches!(s.retry(), Err(Error::IllegalBatch { .. })));
}

#[test]
fn pdp_referral_never_rides_in_result() {
    use pb_tnc::{PdpAddress, PdpReferral};
    let mut p = Pair::new();
    p.client.end_turn().unwrap();
    p.drive();
    let referral = PdpReferral::pt_tls(PdpAddress::Fqdn(Text::from("pdp.example")), 271);
    p.server.send_pdp_referral(referral.clone()).unwrap();
    assert!(matches!(
        p.client.send_pdp_referral(referral.clone()),
        Err(Error::WrongSide { .. })
    ));
    p.server.send_pa(pa(b"x")).unwrap();
    p.server
        .send_result(PbAssessmentResult::COMPLIANT, None)
        .unwrap();
    // The RESULT carries the PB-PA and the result, not the referral...
    let result = p.take_server();
    assert_eq!(result.len(), 1);
    let decoded = pb_tnc::Batch::decode(result[0].clone()).unwrap();
    assert!(
        decoded
            .messages()
            .iter()
            .all(|m| !matches!(m, Message::PdpReferral(_)))
    );
    assert!(p.server.has_queued_messages());
    p.client.handle_batch(result[0].clone());
    // ...the next batch does (here the SRETRY of a server-initiated re-assessment).
    assert_eq!(p.server.retry(), Ok(true));
    p.drive();
    let last = pb_tnc::Batch::decode(p.s2c.last().unwrap().clone()).unwrap();
    assert_eq!(last.batch_type(), BatchType::Sretry);
    assert_eq!(
        last.messages(),
        &[Message::PdpReferral(referral.clone())][..]
    );
    assert!(p.client_events.contains(&Event::PdpReferral(referral)));
}

#[test]
fn reply_swaps_the_ids() {
    let from_client =
        PbPa::new(VendorId::IETF, PaSubtype::SWIMA, Bytes::from_static(b"q")).with_collector_id(4);
    let r = from_client.reply(Side::Server, 9, Bytes::from_static(b"a"));
    assert_eq!((r.collector_id, r.validator_id, r.exclusive), (4, 9, true));
    assert_eq!((r.vendor, r.subtype), (VendorId::IETF, PaSubtype::SWIMA));
    let from_server = PbPa::new(VendorId::IETF, PaSubtype::SWIMA, Bytes::new());
    let r = from_server.reply(Side::Client, 2, Bytes::new());
    // The validator is unknown (ANY): no EXCL.
    assert_eq!(
        (r.collector_id, r.validator_id, r.exclusive),
        (2, 0xffff, false)
    );
}
