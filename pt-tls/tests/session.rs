//! State machine tests on an in-memory client/server pair (RFC 6876 §3.4.2, §3.7, §3.8,
//! §3.9): one test per legal and per illegal transition, asserting the bytes sent and the
//! final event.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::cast_possible_truncation
)]

#[path = "common/pair.rs"]
mod pair;

use std::sync::Arc;
use std::sync::atomic::AtomicU32;

use bytes::Bytes;
use pair::{Alice, FailFirst, Pair, client_config, drain, error_value, ietf, msg, server_config};
use pt_tls::wire::MechanismName;
use pt_tls::{
    CertificateCheck, ClientConversation, ClientMechanism, CloseReason, Config, Error, ErrorCode,
    Event, ExternalClient, ExternalServer, PlainClient, PlainServer, PtTlsError, SaslAbort,
    SaslContext, SaslPolicy, SaslResultCode, ServerConversation, ServerMechanism, ServerStep,
    Session, Side, TlsRole,
};

const VERSION_REQUEST: &[u8] = &[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 20, 0, 0, 0, 0, 0, 1, 1, 1];

fn types(sent: &[Bytes]) -> Vec<u32> {
    sent.iter()
        .map(|b| u32::from_be_bytes(b[4..8].try_into().unwrap()))
        .collect()
}

fn no_sasl() -> Arc<Config> {
    Arc::new(Config::default().with_sasl_policy(SaslPolicy::Never))
}

// ---------------------------------------------------------------- legal transitions

#[test]
fn negotiation_without_sasl() {
    let mut p = Pair::new(client_config(), no_sasl(), None);
    p.drive();
    assert_eq!(p.client_log.sent, [Bytes::from_static(VERSION_REQUEST)]);
    assert_eq!(
        p.server_log.sent,
        [
            Bytes::from(ietf(2, 0, &[0, 0, 0, 1])),
            Bytes::from(ietf(3, 1, &[])),
        ]
    );
    assert_eq!(p.client_log.events, [Event::Negotiated]);
    assert_eq!(p.server_log.events, [Event::Negotiated]);
    assert!(p.client.is_data_transport() && p.server.is_data_transport());
}

#[test]
fn client_certificate_skips_sasl() {
    // RFC 6876 §3.8.3: the empty list also when TLS already authenticated the client.
    let mut p = Pair::new(
        client_config(),
        server_config(),
        Some(Bytes::from_static(b"DER")),
    );
    p.drive();
    assert_eq!(types(&p.server_log.sent), [2, 3]);
    assert_eq!(p.server_log.sent[1].len(), 16);
    assert_eq!(
        p.server.peer_certificate().unwrap(),
        &Bytes::from_static(b"DER")
    );
    assert_eq!(p.server_log.events, [Event::Negotiated]);
}

#[test]
fn sasl_always_even_with_certificate() {
    let server = Arc::new(
        Config::default()
            .with_server_mechanism(Arc::new(PlainServer::new(Arc::new(Alice))))
            .with_sasl_policy(SaslPolicy::Always),
    );
    let mut p = Pair::new(client_config(), server, Some(Bytes::from_static(b"DER")));
    p.drive();
    assert_eq!(types(&p.server_log.sent), [2, 3, 6, 3]);
    assert_eq!(
        p.server_log.events,
        [
            Event::Authenticated {
                identity: Some("alice".into())
            },
            Event::Negotiated
        ]
    );
}

#[test]
fn sasl_plain_success() {
    let mut p = Pair::new(client_config(), server_config(), None);
    p.drive_with(true);
    assert_eq!(types(&p.client_log.sent), [1, 4]);
    assert_eq!(types(&p.server_log.sent), [2, 3, 6, 3]);
    // SASL Result Success in the RFC's 16-bit form, identifier 2.
    assert_eq!(p.server_log.sent[2], Bytes::from(ietf(6, 2, &[0, 0])));
    assert_eq!(
        p.server_log.events,
        [
            Event::Authenticated {
                identity: Some("alice".into())
            },
            Event::Negotiated
        ]
    );
    assert_eq!(
        p.client_log.events,
        [Event::Authenticated { identity: None }, Event::Negotiated]
    );
}

#[test]
fn sasl_mechanism_is_recorded_on_both_sides() {
    let mut p = Pair::new(client_config(), server_config(), None);
    assert_eq!(p.server.authenticated_mechanism(), None);
    p.drive();
    assert_eq!(
        p.server.authenticated_mechanism(),
        Some(&MechanismName::PLAIN)
    );
    assert_eq!(
        p.client.authenticated_mechanism(),
        Some(&MechanismName::PLAIN)
    );
}

#[test]
fn certificate_without_sasl_records_no_mechanism() {
    let mut p = Pair::new(client_config(), server_config(), Some(Bytes::from("DER")));
    p.drive();
    assert!(p.server.is_data_transport());
    assert_eq!(p.server.authenticated_mechanism(), None);
    assert_eq!(p.server.authenticated_identity(), None);
}

#[test]
fn transport_closed_by_peer() {
    for negotiated in [false, true] {
        let mut p = Pair::new(client_config(), no_sasl(), None);
        if negotiated {
            p.drive();
        }
        p.server.handle_transport_closed();
        let (sent, events) = drain(&mut p.server);
        // Nothing is sent to a peer that is gone.
        assert!(sent.is_empty());
        assert_eq!(
            events.last(),
            Some(&Event::Closed {
                reason: CloseReason::PeerClosed
            })
        );
        assert!(p.server.is_closed());
        // Once closed, a second report changes nothing.
        p.server.handle_transport_closed();
        assert_eq!(drain(&mut p.server), (vec![], vec![]));
    }
}

#[test]
fn transport_closed_after_fatal_error_keeps_the_reason() {
    let mut s = Session::new(no_sasl(), Side::Server, TlsRole::Responder, None);
    s.handle_bytes(&ietf(1, 0, &[0, 9, 9, 9])); // no version 1 → Version Not Supported
    let (_, events) = drain(&mut s);
    assert_eq!(
        events,
        [Event::Closed {
            reason: CloseReason::SentError(ErrorCode::VERSION_NOT_SUPPORTED)
        }]
    );
    s.handle_transport_closed();
    assert_eq!(drain(&mut s), (vec![], vec![]));
}

#[test]
fn sasl_failure_then_retry_succeeds() {
    // RFC 6876 §3.8.10: the client may retry after a failure.
    let server = Arc::new(
        Config::default().with_server_mechanism(Arc::new(PlainServer::new(Arc::new(FailFirst(
            AtomicU32::new(1),
        ))))),
    );
    let mut p = Pair::new(client_config(), server, None);
    p.drive();
    assert_eq!(types(&p.client_log.sent), [1, 4, 4]);
    assert_eq!(types(&p.server_log.sent), [2, 3, 6, 3, 6, 3]);
    assert_eq!(p.server_log.sent[2], Bytes::from(ietf(6, 2, &[0, 1])));
    assert_eq!(
        p.client_log.events,
        [
            Event::AuthenticationFailed {
                code: SaslResultCode::FAILURE
            },
            Event::Authenticated { identity: None },
            Event::Negotiated
        ]
    );
}

#[test]
fn sasl_failures_exhausted_close() {
    let server = Arc::new(
        Config::default()
            .with_server_mechanism(Arc::new(PlainServer::new(Arc::new(FailFirst(
                AtomicU32::new(10),
            )))))
            .with_max_sasl_attempts(2),
    );
    let mut p = Pair::new(client_config(), server, None);
    p.drive();
    assert_eq!(types(&p.server_log.sent), [2, 3, 6, 3, 6]);
    assert_eq!(
        p.server_log.events.last().unwrap(),
        &Event::Closed {
            reason: CloseReason::AuthenticationFailed
        }
    );
    assert!(p.server.is_closed());
    assert!(!p.client.is_data_transport());
}

#[test]
fn sasl_failure_admitted_unauthenticated() {
    // RFC 6876 §3.4.2.2: the server may admit a client whose authentication failed.
    let server = Arc::new(
        Config::default()
            .with_server_mechanism(Arc::new(PlainServer::new(Arc::new(FailFirst(
                AtomicU32::new(10),
            )))))
            .with_max_sasl_attempts(1)
            .with_admit_unauthenticated(true),
    );
    let mut p = Pair::new(client_config(), server, None);
    p.drive();
    assert_eq!(types(&p.server_log.sent), [2, 3, 6, 3]);
    assert_eq!(p.client_log.events.last().unwrap(), &Event::Negotiated);
    assert_eq!(p.server.authenticated_identity(), None);
    // A failed run records no mechanism.
    assert_eq!(p.server.authenticated_mechanism(), None);
    assert_eq!(p.client.authenticated_mechanism(), None);
}

/// A two-round mechanism: the server challenges "nonce", the client answers "nonce+1".
struct Echo;
struct EchoClient;
struct EchoServer(u8);

impl ClientMechanism for Echo {
    fn name(&self) -> MechanismName {
        MechanismName::new("X-ECHO").unwrap()
    }
    fn start(&self) -> Box<dyn ClientConversation> {
        Box::new(EchoClient)
    }
}

impl ClientConversation for EchoClient {
    fn initial_response(&mut self) -> Bytes {
        Bytes::new()
    }
    fn step(&mut self, challenge: &[u8]) -> Result<Bytes, SaslAbort> {
        if challenge == b"bad" {
            return Err(SaslAbort);
        }
        Ok(Bytes::from([challenge, b"+1"].concat()))
    }
    fn finish(&mut self, additional: &[u8]) -> Result<(), SaslAbort> {
        if additional == b"done" {
            Ok(())
        } else {
            Err(SaslAbort)
        }
    }
}

struct EchoMech(&'static [u8], ServerStep);

impl ServerMechanism for EchoMech {
    fn name(&self) -> MechanismName {
        MechanismName::new("X-ECHO").unwrap()
    }
    fn start(&self, _ctx: &SaslContext<'_>) -> Box<dyn ServerConversation> {
        Box::new(EchoRun(EchoServer(0), self.0, self.1.clone()))
    }
}

struct EchoRun(EchoServer, &'static [u8], ServerStep);

impl ServerConversation for EchoRun {
    fn step(&mut self, response: Option<&[u8]>) -> ServerStep {
        self.0.0 += 1;
        match (self.0.0, response) {
            (1, None) => ServerStep::Challenge(Bytes::from_static(self.1)),
            (2, Some(r)) if r == [self.1, b"+1"].concat() => self.2.clone(),
            _ => ServerStep::Failure,
        }
    }
}

fn echo_pair(challenge: &'static [u8], end: ServerStep, admit: bool) -> Pair {
    let client = Arc::new(Config::default().with_client_mechanism(Arc::new(Echo)));
    let server = Arc::new(
        Config::default()
            .with_server_mechanism(Arc::new(EchoMech(challenge, end)))
            .with_admit_unauthenticated(admit),
    );
    Pair::new(client, server, None)
}

#[test]
fn multi_round_mechanism() {
    let mut p = echo_pair(
        b"nonce",
        ServerStep::Success {
            identity: "echo".into(),
            additional: Bytes::from_static(b"done"),
        },
        false,
    );
    p.drive();
    assert_eq!(types(&p.client_log.sent), [1, 4, 5]);
    assert_eq!(types(&p.server_log.sent), [2, 3, 5, 6, 3]);
    // Selection without initial response, challenge, response, Success with additional data.
    assert_eq!(p.client_log.sent[1], Bytes::from(ietf(4, 1, b"\x06X-ECHO")));
    assert_eq!(p.server_log.sent[2], Bytes::from(ietf(5, 2, b"nonce")));
    assert_eq!(p.client_log.sent[2], Bytes::from(ietf(5, 2, b"nonce+1")));
    assert_eq!(p.server_log.sent[3], Bytes::from(ietf(6, 3, b"\0\0done")));
    assert_eq!(p.client_log.events.last().unwrap(), &Event::Negotiated);
}

#[test]
fn server_abort_is_final() {
    let mut p = echo_pair(b"nonce", ServerStep::Abort, false);
    p.drive();
    assert_eq!(types(&p.server_log.sent), [2, 3, 5, 6]);
    assert_eq!(p.server_log.sent[3], Bytes::from(ietf(6, 3, &[0, 2])));
    assert_eq!(
        p.client_log.events,
        [Event::AuthenticationFailed {
            code: SaslResultCode::ABORT
        }]
    );
    assert_eq!(
        p.server_log.events.last().unwrap(),
        &Event::Closed {
            reason: CloseReason::AuthenticationFailed
        }
    );
}

#[test]
fn mechanism_failure_result() {
    let mut p = echo_pair(b"nonce", ServerStep::MechanismFailure, true);
    p.drive();
    assert_eq!(p.server_log.sent[3], Bytes::from(ietf(6, 3, &[0, 3])));
    assert_eq!(
        p.client_log.events[0],
        Event::AuthenticationFailed {
            code: SaslResultCode::MECHANISM_FAILURE
        }
    );
}

#[test]
fn client_mechanism_aborts_with_sasl_mechanism_error() {
    // RFC 6876 §3.8.4: the client aborts with PT-TLS Error SASL Mechanism Error.
    let mut p = echo_pair(b"bad", ServerStep::Failure, false);
    p.drive();
    let challenge = ietf(5, 2, b"bad");
    assert_eq!(
        p.client_log.sent.last().unwrap(),
        &Bytes::from(ietf(8, 2, &error_value(5, &challenge)))
    );
    assert_eq!(
        p.client_log.events.last().unwrap(),
        &Event::Closed {
            reason: CloseReason::SentError(ErrorCode::SASL_MECHANISM_ERROR)
        }
    );
    assert_eq!(
        p.server_log.events.last().unwrap(),
        &Event::Closed {
            reason: CloseReason::ReceivedError(ErrorCode::SASL_MECHANISM_ERROR)
        }
    );
}

#[test]
fn client_success_additional_data_rejected() {
    let mut p = echo_pair(
        b"nonce",
        ServerStep::Success {
            identity: "echo".into(),
            additional: Bytes::from_static(b"nope"),
        },
        false,
    );
    p.drive();
    assert_eq!(
        p.client_log.events.last().unwrap(),
        &Event::Closed {
            reason: CloseReason::SentError(ErrorCode::SASL_MECHANISM_ERROR)
        }
    );
}

#[test]
fn nea_server_as_tls_initiator() {
    // RFC 6876 §3.1, §3.7: the version messages follow the TLS roles.
    let mut p = Pair::with_roles(client_config(), server_config(), None, TlsRole::Responder);
    p.drive();
    assert_eq!(types(&p.server_log.sent), [1, 3, 6, 3]);
    assert_eq!(types(&p.client_log.sent), [2, 4]);
    assert!(p.client.is_data_transport());
    assert_eq!(p.client.tls_role(), TlsRole::Responder);
    assert_eq!(p.server.side(), Side::Server);
}

#[test]
fn data_transport_full_duplex() {
    let mut p = Pair::new(client_config(), no_sasl(), None);
    p.drive();
    // RFC 6876 §3.4.2.3: either side may send several batches without waiting.
    p.client.send_batch(Bytes::from_static(b"c1")).unwrap();
    p.client.send_batch(Bytes::from_static(b"c2")).unwrap();
    p.server.send_batch(Bytes::from_static(b"s1")).unwrap();
    p.client_log = Default::default();
    p.server_log = Default::default();
    p.drive();
    assert_eq!(
        p.client_log.sent,
        [
            Bytes::from(ietf(7, 1, b"c1")),
            Bytes::from(ietf(7, 2, b"c2"))
        ]
    );
    assert_eq!(p.server_log.sent, [Bytes::from(ietf(7, 2, b"s1"))]);
    assert_eq!(
        p.server_log.events,
        [
            Event::Batch(Bytes::from_static(b"c1")),
            Event::Batch(Bytes::from_static(b"c2"))
        ]
    );
    assert_eq!(
        p.client_log.events,
        [Event::Batch(Bytes::from_static(b"s1"))]
    );
}

#[test]
fn api_misuse_is_err() {
    let mut c = Session::new(client_config(), Side::Client, TlsRole::Initiator, None);
    assert_eq!(c.send_batch(Bytes::new()), Err(Error::NotInDataTransport));
    c.close();
    assert_eq!(c.send_batch(Bytes::new()), Err(Error::Closed));
    let (t, e) = drain(&mut c);
    assert_eq!(t.len(), 1); // the Version Request queued before close stays
    assert_eq!(
        e,
        [Event::Closed {
            reason: CloseReason::Local
        }]
    );
    // Input after close is ignored.
    c.handle_bytes(&ietf(2, 0, &[0, 0, 0, 1]));
    assert_eq!(drain(&mut c), (vec![], vec![]));
    c.close();
    assert_eq!(drain(&mut c), (vec![], vec![]));
}

// ---------------------------------------------------------------- illegal transitions

/// A session in a given state, drained.
fn responder(side: Side, config: Arc<Config>) -> Session {
    let mut s = Session::new(config, side, TlsRole::Responder, None);
    assert!(drain(&mut s).0.is_empty());
    s
}

fn client_in_data_transport() -> Session {
    let mut s = responder(Side::Client, client_config());
    s.handle_bytes(VERSION_REQUEST);
    s.handle_bytes(&ietf(3, 1, &[]));
    let (t, e) = drain(&mut s);
    assert_eq!(t.len(), 1);
    assert_eq!(e, [Event::Negotiated]);
    s
}

fn server_in_data_transport() -> Session {
    let mut s = responder(Side::Server, no_sasl());
    s.handle_bytes(VERSION_REQUEST);
    assert_eq!(drain(&mut s).1, [Event::Negotiated]);
    s
}

/// NEA server that has offered PLAIN.
fn server_offered() -> Session {
    let mut s = responder(Side::Server, server_config());
    s.handle_bytes(VERSION_REQUEST);
    assert_eq!(drain(&mut s).0.len(), 2);
    s
}

/// NEA client (TLS initiator) that got the version response and is waiting for mechanisms.
fn client_idle() -> Session {
    let mut s = Session::new(client_config(), Side::Client, TlsRole::Initiator, None);
    s.handle_bytes(&ietf(2, 0, &[0, 0, 0, 1]));
    assert_eq!(drain(&mut s).0.len(), 1);
    s
}

fn client_running() -> Session {
    let mut s = client_idle();
    s.handle_bytes(&ietf(3, 1, b"\x05PLAIN"));
    assert_eq!(drain(&mut s).0.len(), 1);
    s
}

/// Feeds `input` and asserts one PT-TLS Error of `code` with identifier `id` carrying
/// `input` (cut to 1024), then Closed when fatal.
fn expect_error(s: &mut Session, input: &[u8], code: ErrorCode, id: u32) {
    s.handle_bytes(input);
    let (t, e) = drain(s);
    assert_eq!(
        t,
        [Bytes::from(ietf(8, id, &error_value(code.0, input)))],
        "{code:?}"
    );
    if code.is_fatal() {
        assert_eq!(
            e,
            [Event::Closed {
                reason: CloseReason::SentError(code)
            }]
        );
        assert!(s.is_closed());
    } else {
        assert!(e.is_empty());
        assert!(!s.is_closed());
    }
}

#[test]
fn responder_gets_other_than_version_request() {
    // RFC 6876 §3.7: the Responder accepts nothing before version negotiation.
    let mut s = responder(Side::Server, server_config());
    expect_error(&mut s, &ietf(7, 0, b"batch"), ErrorCode::INVALID_MESSAGE, 0);
    let mut s = responder(Side::Client, client_config());
    expect_error(&mut s, &ietf(3, 0, b""), ErrorCode::INVALID_MESSAGE, 0);
    let mut s = responder(Side::Client, client_config());
    expect_error(
        &mut s,
        &ietf(2, 0, &[0, 0, 0, 1]),
        ErrorCode::INVALID_MESSAGE,
        0,
    );
    let mut s = responder(Side::Client, client_config());
    expect_error(
        &mut s,
        &msg(0x902a, 1, 0, b""),
        ErrorCode::INVALID_MESSAGE,
        0,
    );
}

#[test]
fn version_request_without_version_1() {
    // RFC 6876 §3.9 code 2.
    let mut s = responder(Side::Server, server_config());
    expect_error(
        &mut s,
        &ietf(1, 0, &[0, 2, 3, 2]),
        ErrorCode::VERSION_NOT_SUPPORTED,
        0,
    );
}

#[test]
fn version_request_other_range_including_1() {
    let mut s = responder(Side::Server, no_sasl());
    s.handle_bytes(&ietf(1, 0, &[0, 1, 5, 3]));
    let (t, e) = drain(&mut s);
    assert_eq!(t[0], Bytes::from(ietf(2, 0, &[0, 0, 0, 1])));
    assert_eq!(e, [Event::Negotiated]);
}

#[test]
fn version_response_out_of_range() {
    // RFC 6876 §3.7.2: the Initiator MUST send Version Not Supported.
    let mut s = Session::new(client_config(), Side::Client, TlsRole::Initiator, None);
    drain(&mut s);
    expect_error(
        &mut s,
        &ietf(2, 0, &[0, 0, 0, 2]),
        ErrorCode::VERSION_NOT_SUPPORTED,
        1,
    );
}

#[test]
fn initiator_gets_other_than_version_response() {
    let mut s = Session::new(server_config(), Side::Server, TlsRole::Initiator, None);
    drain(&mut s);
    expect_error(
        &mut s,
        &ietf(4, 0, b"\x05PLAIN"),
        ErrorCode::INVALID_MESSAGE,
        1,
    );
    let mut s = Session::new(server_config(), Side::Server, TlsRole::Initiator, None);
    drain(&mut s);
    expect_error(&mut s, VERSION_REQUEST, ErrorCode::INVALID_MESSAGE, 1);
}

#[test]
fn second_version_request() {
    // RFC 6876 §3.7.2: a Version Request after negotiation → Invalid Message and close.
    let mut s = server_in_data_transport();
    expect_error(&mut s, VERSION_REQUEST, ErrorCode::INVALID_MESSAGE, 2);
    let mut s = server_offered();
    expect_error(&mut s, VERSION_REQUEST, ErrorCode::INVALID_MESSAGE, 2);
    let mut s = client_in_data_transport();
    expect_error(
        &mut s,
        &ietf(2, 2, &[0, 0, 0, 1]),
        ErrorCode::INVALID_MESSAGE,
        1,
    );
}

#[test]
fn experimental_is_invalid_everywhere() {
    // RFC 6876 §3.6 type 0: compliant receivers MUST send Invalid Message.
    let exp = ietf(0, 5, b"x");
    expect_error(
        &mut server_in_data_transport(),
        &exp,
        ErrorCode::INVALID_MESSAGE,
        2,
    );
    expect_error(
        &mut client_in_data_transport(),
        &exp,
        ErrorCode::INVALID_MESSAGE,
        1,
    );
    expect_error(&mut server_offered(), &exp, ErrorCode::INVALID_MESSAGE, 2);
    expect_error(
        &mut responder(Side::Server, no_sasl()),
        &exp,
        ErrorCode::INVALID_MESSAGE,
        0,
    );
}

#[test]
fn unknown_types_are_not_supported_and_ignored() {
    // RFC 6876 §3.6, §3.9 code 3: reply, ignore, proceed.
    let mut s = server_in_data_transport();
    expect_error(&mut s, &ietf(9, 3, b"?"), ErrorCode::TYPE_NOT_SUPPORTED, 2);
    expect_error(
        &mut s,
        &ietf(0xffff_fffe, 4, b""),
        ErrorCode::TYPE_NOT_SUPPORTED,
        3,
    );
    expect_error(
        &mut s,
        &msg(0x902a, 1, 5, b"vendor"),
        ErrorCode::TYPE_NOT_SUPPORTED,
        4,
    );
    s.handle_bytes(&ietf(7, 6, b"batch"));
    assert_eq!(
        drain(&mut s).1,
        [Event::Batch(Bytes::from_static(b"batch"))]
    );
    // Also during Negotiation, on both sides.
    let mut s = server_offered();
    expect_error(&mut s, &ietf(20, 1, b""), ErrorCode::TYPE_NOT_SUPPORTED, 2);
    let mut s = client_running();
    expect_error(
        &mut s,
        &msg(0x5597, 2, 2, b""),
        ErrorCode::TYPE_NOT_SUPPORTED,
        2,
    );
    // The run goes on.
    s.handle_bytes(&ietf(6, 3, &[0, 0]));
    assert_eq!(drain(&mut s).1, [Event::Authenticated { identity: None }]);
}

#[test]
fn header_errors_are_invalid_parameter() {
    // RFC 6876 §3.5: Length < 16, reserved vendor, reserved type, a fixed Length that differs.
    let short = [0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 15, 0, 0, 0, 0];
    expect_error(
        &mut server_in_data_transport(),
        &short,
        ErrorCode::INVALID_PARAMETER,
        2,
    );
    let vendor = msg(0xffffff, 1, 0, b"");
    expect_error(
        &mut server_in_data_transport(),
        &vendor,
        ErrorCode::INVALID_PARAMETER,
        2,
    );
    let kind = ietf(0xffff_ffff, 0, b"");
    expect_error(
        &mut client_in_data_transport(),
        &kind,
        ErrorCode::INVALID_PARAMETER,
        1,
    );
    let long_version = ietf(1, 0, &[0, 1, 1, 1, 0]);
    expect_error(
        &mut responder(Side::Server, no_sasl()),
        &long_version,
        ErrorCode::INVALID_PARAMETER,
        0,
    );
}

#[test]
fn four_gib_announcement_is_invalid_parameter_without_allocation() {
    let mut s = server_in_data_transport();
    let header = [0, 0, 0, 0, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];
    expect_error(&mut s, &header, ErrorCode::INVALID_PARAMETER, 2);
    // Over a configured limit, announced in pieces.
    let cfg = Arc::new(
        Config::default()
            .with_sasl_policy(SaslPolicy::Never)
            .with_max_message_len(64),
    );
    let mut s = responder(Side::Server, cfg);
    s.handle_bytes(VERSION_REQUEST);
    drain(&mut s);
    let big = ietf(7, 0, &[0; 49]);
    s.handle_bytes(&big[..10]);
    assert_eq!(drain(&mut s), (vec![], vec![]));
    s.handle_bytes(&big[10..16]);
    let (t, e) = drain(&mut s);
    assert_eq!(t, [Bytes::from(ietf(8, 2, &error_value(6, &big[..16])))]);
    assert_eq!(
        e,
        [Event::Closed {
            reason: CloseReason::SentError(ErrorCode::INVALID_PARAMETER)
        }]
    );
}

#[test]
fn malformed_values_are_malformed_message() {
    // RFC 6876 §3.9 code 1: basic sanity test of the content fails.
    let mut s = client_idle();
    expect_error(&mut s, &ietf(3, 1, &[0]), ErrorCode::MALFORMED_MESSAGE, 1);
    let mut s = client_idle();
    expect_error(
        &mut s,
        &ietf(3, 1, b"\x05plain"),
        ErrorCode::MALFORMED_MESSAGE,
        1,
    );
    let mut s = server_offered();
    expect_error(
        &mut s,
        &ietf(4, 1, b"\x09PLAIN"),
        ErrorCode::MALFORMED_MESSAGE,
        2,
    );
}

#[test]
fn copy_is_cut_to_1024_bytes() {
    let mut s = server_offered();
    let batch = ietf(7, 1, &[7; 3000]);
    s.handle_bytes(&batch);
    let (t, _) = drain(&mut s);
    assert_eq!(t[0].len(), 16 + 8 + 1024);
    assert_eq!(&t[0][24..], &batch[..1024]);
}

#[test]
fn server_batch_before_authentication() {
    // RFC 6876 §3.8.3 ("Authentication Required" does not exist; NEA-WIRE-FACTS §7 #1).
    expect_error(
        &mut server_offered(),
        &ietf(7, 1, b"b"),
        ErrorCode::INVALID_MESSAGE,
        2,
    );
}

#[test]
fn server_auth_data_before_selection() {
    // RFC 6876 §3.8.9: no Authentication Data before a mechanism is established.
    expect_error(
        &mut server_offered(),
        &ietf(5, 1, b"d"),
        ErrorCode::INVALID_MESSAGE,
        2,
    );
}

#[test]
fn server_unoffered_selection() {
    // RFC 6876 §3.8.3: an unacceptable mechanism → SASL Mechanism Error.
    let sel = ietf(4, 1, b"\x08EXTERNAL");
    expect_error(
        &mut server_offered(),
        &sel,
        ErrorCode::SASL_MECHANISM_ERROR,
        2,
    );
}

#[test]
fn server_selection_during_run() {
    // RFC 6876 §3.6 type 4: the selection cannot change until the run ends.
    let server = Arc::new(
        Config::default().with_server_mechanism(Arc::new(EchoMech(b"n", ServerStep::Failure))),
    );
    let mut s = responder(Side::Server, server);
    s.handle_bytes(VERSION_REQUEST);
    s.handle_bytes(&ietf(4, 1, b"\x06X-ECHO"));
    assert_eq!(types(&drain(&mut s).0), [2, 3, 5]);
    expect_error(
        &mut s,
        &ietf(4, 2, b"\x06X-ECHO"),
        ErrorCode::INVALID_MESSAGE,
        3,
    );
}

#[test]
fn server_gets_server_only_messages() {
    expect_error(
        &mut server_offered(),
        &ietf(3, 1, b""),
        ErrorCode::INVALID_MESSAGE,
        2,
    );
    expect_error(
        &mut server_offered(),
        &ietf(6, 1, &[0, 0]),
        ErrorCode::INVALID_MESSAGE,
        2,
    );
    expect_error(
        &mut server_offered(),
        &ietf(2, 1, &[0, 0, 0, 1]),
        ErrorCode::INVALID_MESSAGE,
        2,
    );
}

#[test]
fn client_no_usable_mechanism() {
    // RFC 6876 §3.8.3, §3.9 code 5 (NEA-WIRE-FACTS §7 #2).
    let list = ietf(3, 1, b"\x08EXTERNAL\x06GSSAPI");
    expect_error(
        &mut client_idle(),
        &list,
        ErrorCode::SASL_MECHANISM_ERROR,
        1,
    );
}

#[test]
fn client_picks_first_offered_it_supports() {
    let mut s = client_idle();
    s.handle_bytes(&ietf(3, 1, b"\x08EXTERNAL\x05PLAIN"));
    let (t, _) = drain(&mut s);
    assert_eq!(t, [Bytes::from(ietf(4, 1, b"\x05PLAIN\0alice\0s3cret"))]);
}

#[test]
fn client_result_outside_run() {
    expect_error(
        &mut client_idle(),
        &ietf(6, 1, &[0, 0]),
        ErrorCode::INVALID_MESSAGE,
        1,
    );
    // After a finished run, the run's data and result are out of place.
    let mut s = client_running();
    s.handle_bytes(&ietf(6, 2, &[0, 0]));
    drain(&mut s);
    expect_error(&mut s, &ietf(5, 3, b""), ErrorCode::INVALID_MESSAGE, 2);
}

#[test]
fn client_mechanisms_during_run() {
    // RFC 6876 §3.8.5.4: one run at a time.
    expect_error(
        &mut client_running(),
        &ietf(3, 2, b"\x05PLAIN"),
        ErrorCode::INVALID_MESSAGE,
        2,
    );
}

#[test]
fn client_auth_data_outside_run() {
    expect_error(
        &mut client_idle(),
        &ietf(5, 1, b""),
        ErrorCode::INVALID_MESSAGE,
        1,
    );
}

#[test]
fn client_batch_before_empty_list() {
    // RFC 6876 §3.8.3: no Data Transport before the empty mechanism list.
    expect_error(
        &mut client_idle(),
        &ietf(7, 1, b"b"),
        ErrorCode::INVALID_MESSAGE,
        1,
    );
    expect_error(
        &mut client_running(),
        &ietf(7, 2, b"b"),
        ErrorCode::INVALID_MESSAGE,
        2,
    );
}

#[test]
fn client_gets_client_only_messages() {
    expect_error(
        &mut client_idle(),
        &ietf(4, 1, b"\x05PLAIN"),
        ErrorCode::INVALID_MESSAGE,
        1,
    );
    expect_error(
        &mut client_idle(),
        VERSION_REQUEST,
        ErrorCode::INVALID_MESSAGE,
        1,
    );
}

#[test]
fn sasl_after_data_transport() {
    // RFC 6876 §3.6 types 3–6: only in Negotiation.
    for (t, v) in [(3u32, &b""[..]), (4, b"\x05PLAIN"), (5, b"x"), (6, &[0, 0])] {
        expect_error(
            &mut client_in_data_transport(),
            &ietf(t, 2, v),
            ErrorCode::INVALID_MESSAGE,
            1,
        );
        expect_error(
            &mut server_in_data_transport(),
            &ietf(t, 1, v),
            ErrorCode::INVALID_MESSAGE,
            2,
        );
    }
}

#[test]
fn received_errors() {
    // RFC 6876 §3.9: never answered; fatal codes close, 0 and 3 (and vendor codes) do not.
    for code in 0..=7u32 {
        let mut s = server_in_data_transport();
        let wire = ietf(8, 9, &error_value(code, &ietf(7, 3, b"x")));
        s.handle_bytes(&wire);
        let (t, e) = drain(&mut s);
        assert!(t.is_empty());
        let Event::PeerError(pe) = &e[0] else {
            panic!()
        };
        assert_eq!(pe.code, ErrorCode(code));
        assert_eq!(pe.original_identifier(), Some(3));
        if ErrorCode(code).is_fatal() {
            assert_eq!(
                e[1],
                Event::Closed {
                    reason: CloseReason::ReceivedError(ErrorCode(code))
                }
            );
        } else {
            assert_eq!(e.len(), 1);
            assert!(s.is_data_transport());
        }
    }
    let mut s = client_idle();
    let vendor = ietf(8, 1, &[0, 0, 0x90, 0x2a, 0, 0, 0, 4]);
    s.handle_bytes(&vendor);
    let (_, e) = drain(&mut s);
    assert_eq!(
        e,
        [Event::PeerError(PtTlsError::new(
            nea_wire::VendorId::ITA,
            ErrorCode(4),
            Bytes::new()
        ))]
    );
}

#[test]
fn version_not_supported_received_by_initiator() {
    let mut s = Session::new(client_config(), Side::Client, TlsRole::Initiator, None);
    drain(&mut s);
    s.handle_bytes(&ietf(8, 0, &error_value(2, VERSION_REQUEST)));
    let (_, e) = drain(&mut s);
    assert_eq!(
        e[1],
        Event::Closed {
            reason: CloseReason::ReceivedError(ErrorCode::VERSION_NOT_SUPPORTED)
        }
    );
}

#[test]
fn plain_credentials_never_debug_printed() {
    let c = PlainClient::new("alice", "s3cret").unwrap();
    let cfg = Config::default().with_client_mechanism(Arc::new(c));
    assert!(!format!("{cfg:?}").contains("s3cret"));
    let s = Session::new(Arc::new(cfg), Side::Client, TlsRole::Initiator, None);
    assert!(!format!("{s:?}").contains("s3cret"));
    let _ = Alice;
}

struct Machine;

impl CertificateCheck for Machine {
    fn check_certificate(&self, certificate: &[u8], authzid: &str) -> Option<String> {
        (certificate == b"DER" && authzid.is_empty()).then(|| "machine-1".to_owned())
    }
}

fn external_server() -> Arc<Config> {
    Arc::new(
        Config::default()
            .with_server_mechanism(Arc::new(PlainServer::new(Arc::new(Alice))))
            .with_server_mechanism(Arc::new(ExternalServer::new(Arc::new(Machine))))
            .with_sasl_policy(SaslPolicy::Always),
    )
}

#[test]
fn external_after_tls_client_auth() {
    // RFC 6876 §3.8.1: EXTERNAL when both ends authenticated in TLS.
    let client = Arc::new(Config::default().with_client_mechanism(Arc::new(ExternalClient)));
    let mut p = Pair::new(client, external_server(), Some(Bytes::from_static(b"DER")));
    p.drive();
    assert_eq!(
        p.server_log.sent[1],
        Bytes::from(ietf(3, 1, b"\x05PLAIN\x08EXTERNAL"))
    );
    assert_eq!(
        p.client_log.sent[1],
        Bytes::from(ietf(4, 1, b"\x08EXTERNAL"))
    );
    assert_eq!(
        p.server_log.events,
        [
            Event::Authenticated {
                identity: Some("machine-1".into())
            },
            Event::Negotiated
        ]
    );
    assert_eq!(p.client_log.events.last().unwrap(), &Event::Negotiated);
}

#[test]
fn external_not_offered_without_certificate() {
    let mut p = Pair::new(client_config(), external_server(), None);
    p.drive();
    assert_eq!(p.server_log.sent[1], Bytes::from(ietf(3, 1, b"\x05PLAIN")));
    // Selecting it anyway is an unacceptable selection.
    let mut s = server_offered_with(external_server());
    expect_error(
        &mut s,
        &ietf(4, 1, b"\x08EXTERNAL"),
        ErrorCode::SASL_MECHANISM_ERROR,
        2,
    );
    // With EXTERNAL alone and no certificate there is nothing to offer: the empty list.
    let only = Arc::new(
        Config::default()
            .with_server_mechanism(Arc::new(ExternalServer::new(Arc::new(Machine))))
            .with_sasl_policy(SaslPolicy::Always),
    );
    let mut p = Pair::new(client_config(), only, None);
    p.drive();
    assert_eq!(types(&p.server_log.sent), [2, 3]);
    assert_eq!(p.server_log.sent[1].len(), 16);
}

fn server_offered_with(cfg: Arc<Config>) -> Session {
    let mut s = responder(Side::Server, cfg);
    s.handle_bytes(VERSION_REQUEST);
    assert_eq!(drain(&mut s).0.len(), 2);
    s
}

#[test]
fn two_authentications_in_a_row() {
    // RFC 6876 §3.8.5.4: after a run completes the server may trigger another.
    let server = Arc::new(
        Config::default()
            .with_server_mechanism(Arc::new(PlainServer::new(Arc::new(Alice))))
            .with_required_authentications(2),
    );
    let mut p = Pair::new(client_config(), server, None);
    p.drive();
    assert_eq!(types(&p.client_log.sent), [1, 4, 4]);
    assert_eq!(types(&p.server_log.sent), [2, 3, 6, 3, 6, 3]);
    assert_eq!(p.server_log.sent[3], Bytes::from(ietf(3, 3, b"\x05PLAIN")));
    assert_eq!(p.server_log.sent[5].len(), 16);
    assert_eq!(
        p.client_log.events,
        [
            Event::Authenticated { identity: None },
            Event::Authenticated { identity: None },
            Event::Negotiated
        ]
    );
}

// ---------------------------------------------------------------- SASL round limits

#[test]
fn client_bounds_sasl_reruns_from_hostile_server() {
    // A hostile NEA Server re-offers PLAIN and fails it forever: the client must not stay in
    // Negotiation forever.
    let mut s = client_idle();
    let mut id = 1;
    let mut closed = false;
    for _ in 0..10_000 {
        s.handle_bytes(&ietf(3, id, b"\x05PLAIN"));
        s.handle_bytes(&ietf(6, id + 1, &[0, 1]));
        id += 2;
        let (_, e) = drain(&mut s);
        if e.iter().any(|e| matches!(e, Event::Closed { .. })) {
            closed = true;
            break;
        }
    }
    assert!(closed, "client accepted 10,000 SASL runs");
    assert!(s.is_closed());
    assert!(!s.is_data_transport());
}

#[test]
fn client_bounds_sasl_rounds_from_hostile_server() {
    // A mechanism that answers every challenge; the server challenges forever.
    let mut s = Session::new(
        Arc::new(Config::default().with_client_mechanism(Arc::new(Echo))),
        Side::Client,
        TlsRole::Initiator,
        None,
    );
    s.handle_bytes(&ietf(2, 0, &[0, 0, 0, 1]));
    s.handle_bytes(&ietf(3, 1, b"\x06X-ECHO"));
    drain(&mut s);
    let mut closed = None;
    for id in 2..10_000 {
        s.handle_bytes(&ietf(5, id, b"n"));
        let (_, e) = drain(&mut s);
        if let Some(Event::Closed { reason }) = e.last() {
            closed = Some(reason.clone());
            break;
        }
    }
    assert_eq!(
        closed,
        Some(CloseReason::SentError(ErrorCode::SASL_MECHANISM_ERROR))
    );
}

/// A server mechanism that challenges whatever the client answers.
struct Forever;
struct ForeverRun;

impl ServerMechanism for Forever {
    fn name(&self) -> MechanismName {
        MechanismName::new("X-FOREVER").unwrap()
    }
    fn start(&self, _ctx: &SaslContext<'_>) -> Box<dyn ServerConversation> {
        Box::new(ForeverRun)
    }
}

impl ServerConversation for ForeverRun {
    fn step(&mut self, _response: Option<&[u8]>) -> ServerStep {
        ServerStep::Challenge(Bytes::from_static(b"again"))
    }
}

#[test]
fn server_bounds_sasl_rounds_from_hostile_client() {
    let mut s = responder(
        Side::Server,
        Arc::new(Config::default().with_server_mechanism(Arc::new(Forever))),
    );
    s.handle_bytes(VERSION_REQUEST);
    s.handle_bytes(&ietf(4, 1, b"\x09X-FOREVER"));
    drain(&mut s);
    let mut events = Vec::new();
    for id in 2..10_000 {
        s.handle_bytes(&ietf(5, id, b"x"));
        let (_, e) = drain(&mut s);
        events.extend(e);
        if s.is_closed() {
            break;
        }
    }
    assert!(s.is_closed(), "server ran 10,000 SASL rounds");
    assert!(events.contains(&Event::AuthenticationFailed {
        code: SaslResultCode::ABORT
    }));
    assert_eq!(
        events.last(),
        Some(&Event::Closed {
            reason: CloseReason::AuthenticationFailed
        })
    );
}
