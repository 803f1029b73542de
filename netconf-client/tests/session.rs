//! The session state machine against a scripted in-memory server: every legal and illegal
//! transition, the bytes sent and the events delivered.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use netconf_client::framing::{self, Framer, Framing};
use netconf_client::{
    CloseReason, Config, DecodeErrorKind, Error, Event, Filter, GetData, Limits, NmdaDatastore,
    Operation, ReplyContent, Session,
};

const BASE: &str = "urn:ietf:params:xml:ns:netconf:base:1.0";

fn server_hello(caps: &[&str], session_id: Option<u32>) -> Vec<u8> {
    let mut s = format!("<?xml version=\"1.0\"?>\n<hello xmlns=\"{BASE}\"><capabilities>");
    for c in caps {
        s.push_str(&format!("<capability>{c}</capability>"));
    }
    s.push_str("</capabilities>");
    if let Some(id) = session_id {
        s.push_str(&format!("<session-id>{id}</session-id>"));
    }
    s.push_str("</hello>]]>]]>");
    s.into_bytes()
}

const B10: &str = "urn:ietf:params:netconf:base:1.0";
const B11: &str = "urn:ietf:params:netconf:base:1.1";

fn drain(s: &mut Session) -> (Vec<Bytes>, Vec<Event>) {
    let mut tx = Vec::new();
    let mut ev = Vec::new();
    for _ in 0..100 {
        let a = s.poll_transmit();
        let b = s.poll_event();
        if a.is_none() && b.is_none() {
            break;
        }
        tx.extend(a);
        ev.extend(b);
    }
    (tx, ev)
}

/// A session past the hello exchange with a base:1.1 server.
fn ready() -> Session {
    let mut s = Session::new(Arc::new(Config::default()));
    let (tx, _) = drain(&mut s);
    assert_eq!(tx.len(), 1);
    assert!(tx[0].ends_with(b"]]>]]>"), "hello is EOM-framed");
    s.handle_bytes(&server_hello(&[B10, B11], Some(7)));
    let (_, ev) = drain(&mut s);
    assert_eq!(ev, vec![Event::Ready { session_id: 7 }]);
    s
}

fn chunked(body: &str) -> Vec<u8> {
    let mut out = BytesMut::new();
    framing::encode_chunked(body.as_bytes(), 100, &mut out);
    out.to_vec()
}

fn reply_bytes(id: u64, inner: &str) -> Vec<u8> {
    chunked(&format!(
        "<rpc-reply message-id=\"{id}\" xmlns=\"{BASE}\">{inner}</rpc-reply>"
    ))
}

/// What the client sent, unframed.
fn sent_body(b: &Bytes, framing: Framing) -> String {
    let mut f = Framer::new(1 << 20, 1 << 20);
    f.set_framing(framing);
    let m = f.decode(&mut BytesMut::from(&b[..])).unwrap().unwrap();
    String::from_utf8(m.to_vec()).unwrap()
}

#[test]
fn client_hello_announces_both_bases() {
    let mut s = Session::new(Arc::new(Config::default()));
    let hello = sent_body(&s.poll_transmit().unwrap(), Framing::EndOfMessage);
    assert!(hello.contains(B10) && hello.contains(B11));
    assert!(
        !hello.contains("session-id"),
        "RFC 6241 §8.1: client sends no session-id"
    );
    let mut s = Session::new(Arc::new(Config::default().with_base10_only()));
    let hello = sent_body(&s.poll_transmit().unwrap(), Framing::EndOfMessage);
    assert!(!hello.contains(B11));
}

#[test]
fn both_base11_switches_to_chunked_both_ways() {
    let mut s = ready();
    assert_eq!(s.framing(), Framing::Chunked);
    assert_eq!(s.session_id(), Some(7));
    let id = s.send_rpc(&Operation::get(None)).unwrap();
    let (tx, _) = drain(&mut s);
    let body = sent_body(&tx[0], Framing::Chunked);
    assert!(body.contains(&format!("message-id=\"{id}\"")));
    assert!(body.contains("<get></get>"));
}

#[test]
fn base10_server_keeps_eom() {
    let mut s = Session::new(Arc::new(Config::default()));
    drain(&mut s);
    s.handle_bytes(&server_hello(&[B10], Some(3)));
    drain(&mut s);
    assert_eq!(s.framing(), Framing::EndOfMessage);
    s.send_rpc(&Operation::DiscardChanges).unwrap();
    let (tx, _) = drain(&mut s);
    assert!(tx[0].ends_with(b"</rpc>]]>]]>"));
    s.handle_bytes(
        format!("<rpc-reply message-id=\"1\" xmlns=\"{BASE}\"><ok/></rpc-reply>]]>]]>").as_bytes(),
    );
    let (_, ev) = drain(&mut s);
    assert!(
        matches!(&ev[..], [Event::Reply { message_id: 1, reply }] if reply.content == ReplyContent::Ok)
    );
}

#[test]
fn bad_hellos_close_the_session() {
    // RFC 6241 §8.1: the server's hello must carry a session-id
    let mut s = Session::new(Arc::new(Config::default()));
    s.handle_bytes(&server_hello(&[B10, B11], None));
    let (_, ev) = drain(&mut s);
    assert_eq!(
        ev,
        vec![Event::Closed {
            reason: CloseReason::BadHello("no session-id")
        }]
    );
    assert!(s.is_closed());
    // no common base version
    let mut s = Session::new(Arc::new(Config::default().with_base10_only()));
    s.handle_bytes(&server_hello(&[B11], Some(1)));
    let (_, ev) = drain(&mut s);
    assert_eq!(
        ev,
        vec![Event::Closed {
            reason: CloseReason::BadHello("no common base version")
        }]
    );
    // something else than a hello first
    let mut s = Session::new(Arc::new(Config::default()));
    s.handle_bytes(format!("<rpc-reply xmlns=\"{BASE}\"><ok/></rpc-reply>]]>]]>").as_bytes());
    let (_, ev) = drain(&mut s);
    assert_eq!(
        ev,
        vec![Event::Closed {
            reason: CloseReason::BadHello("not a hello")
        }]
    );
    // a zero session-id
    let mut s = Session::new(Arc::new(Config::default()));
    s.handle_bytes(&server_hello(&[B10], Some(0)));
    let (_, ev) = drain(&mut s);
    assert!(
        matches!(&ev[..], [Event::Closed { reason: CloseReason::Decode(e) }] if e.kind == DecodeErrorKind::InvalidValue)
    );
}

#[test]
fn hello_split_over_reads() {
    let mut s = Session::new(Arc::new(Config::default()));
    drain(&mut s);
    let h = server_hello(&[B10, B11], Some(9));
    for b in h.chunks(3) {
        s.handle_bytes(b);
    }
    let (_, ev) = drain(&mut s);
    assert_eq!(ev, vec![Event::Ready { session_id: 9 }]);
}

#[test]
fn rpc_before_hello_is_misuse() {
    let mut s = Session::new(Arc::new(Config::default()));
    assert_eq!(s.send_rpc(&Operation::get(None)), Err(Error::NotReady));
}

#[test]
fn several_in_flight_out_of_order() {
    let mut s = ready();
    let a = s
        .send_rpc(&Operation::get(Some(Filter::xpath("/a"))))
        .unwrap();
    let b = s
        .send_rpc(&Operation::get(Some(Filter::xpath("/b"))))
        .unwrap();
    let c = s.send_rpc(&Operation::DiscardChanges).unwrap();
    assert_eq!(s.in_flight(), 3);
    assert_eq!(drain(&mut s).0.len(), 3);
    let mut input = reply_bytes(c, "<ok/>");
    input.extend(reply_bytes(a, "<data><x xmlns=\"urn:x\">1</x></data>"));
    input.extend(reply_bytes(b, "<data/>"));
    s.handle_bytes(&input);
    let (_, ev) = drain(&mut s);
    let ids: Vec<u64> = ev
        .iter()
        .map(|e| match e {
            Event::Reply { message_id, .. } => *message_id,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ids, vec![c, a, b]);
    assert_eq!(s.in_flight(), 0);
}

#[test]
fn unmatched_reply_and_duplicate() {
    let mut s = ready();
    s.handle_bytes(&reply_bytes(99, "<ok/>"));
    let (_, ev) = drain(&mut s);
    assert!(matches!(&ev[..], [Event::UnmatchedReply(_)]));
    // RFC 6241 §4.2 malformed-message replies carry no message-id
    s.handle_bytes(&chunked(&format!(
        "<rpc-reply xmlns=\"{BASE}\"><rpc-error><error-type>rpc</error-type><error-tag>malformed-message</error-tag><error-severity>error</error-severity></rpc-error></rpc-reply>"
    )));
    let (_, ev) = drain(&mut s);
    assert!(matches!(&ev[..], [Event::UnmatchedReply(r)] if !r.is_ok()));
}

#[test]
fn close_session_ends_the_session() {
    let mut s = ready();
    let id = s.close().unwrap();
    let (tx, _) = drain(&mut s);
    assert!(sent_body(&tx[0], Framing::Chunked).contains("<close-session/>"));
    s.handle_bytes(&reply_bytes(id, "<ok/>"));
    let (_, ev) = drain(&mut s);
    assert!(matches!(
        &ev[..],
        [
            Event::Reply { .. },
            Event::Closed {
                reason: CloseReason::CloseSession
            }
        ]
    ));
    assert_eq!(s.send_rpc(&Operation::get(None)), Err(Error::Closed));
    // nothing more is delivered
    s.handle_bytes(&reply_bytes(1, "<ok/>"));
    assert_eq!(drain(&mut s).1, vec![]);
}

#[test]
fn close_session_error_keeps_the_session() {
    let mut s = ready();
    let id = s.close().unwrap();
    drain(&mut s);
    s.handle_bytes(&reply_bytes(
        id,
        "<rpc-error><error-type>protocol</error-type><error-tag>operation-failed</error-tag><error-severity>error</error-severity></rpc-error>",
    ));
    drain(&mut s);
    assert!(s.is_ready());
}

#[test]
fn framing_error_closes_and_eof_closes() {
    let mut s = ready();
    s.handle_bytes(b"\n#0\n");
    let (_, ev) = drain(&mut s);
    assert!(
        matches!(&ev[..], [Event::Closed { reason: CloseReason::Decode(e) }] if e.kind == DecodeErrorKind::BadChunkSize)
    );
    let mut s = ready();
    s.handle_eof();
    assert_eq!(
        drain(&mut s).1,
        vec![Event::Closed {
            reason: CloseReason::TransportClosed
        }]
    );
}

#[test]
fn bad_xml_in_good_frame_is_a_peer_error_and_the_session_goes_on() {
    let mut s = ready();
    let id = s.send_rpc(&Operation::get(None)).unwrap();
    drain(&mut s);
    let mut input = chunked("<rpc-reply><unclosed></rpc-reply>");
    input.extend(chunked("<bogus-root/>"));
    input.extend(reply_bytes(id, "<ok/>"));
    s.handle_bytes(&input);
    let (_, ev) = drain(&mut s);
    assert!(matches!(ev[0], Event::PeerError(e) if e.kind == DecodeErrorKind::Xml));
    assert!(matches!(ev[1], Event::PeerError(e) if e.kind == DecodeErrorKind::UnexpectedRoot));
    assert!(matches!(ev[2], Event::Reply { message_id, .. } if message_id == id));
}

#[test]
fn notifications_are_events() {
    let mut s = ready();
    s.handle_bytes(&chunked(
        "<notification xmlns=\"urn:ietf:params:xml:ns:netconf:notification:1.0\"><eventTime>2026-01-01T00:00:00Z</eventTime><ev xmlns=\"urn:x\"><a>1</a></ev></notification>",
    ));
    let (_, ev) = drain(&mut s);
    let [Event::Notification(n)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(n.event_time, "2026-01-01T00:00:00Z");
    assert_eq!(
        (n.event_namespace.as_str(), n.event_name.as_str()),
        ("urn:x", "ev")
    );
    assert_eq!(&n.content[..], b"<ev xmlns=\"urn:x\"><a>1</a></ev>");
    // RFC 5277 §4: eventTime is mandatory
    s.handle_bytes(&chunked("<notification xmlns=\"urn:ietf:params:xml:ns:netconf:notification:1.0\"><ev/></notification>"));
    let (_, ev) = drain(&mut s);
    assert!(matches!(ev[0], Event::PeerError(e) if e.kind == DecodeErrorKind::Missing));
}

#[test]
fn raw_rpc_must_be_one_element() {
    let mut s = ready();
    assert!(s.send_rpc(&Operation::Raw("<a/><b/>".into())).is_err());
    assert!(s.send_rpc(&Operation::Raw("<a>".into())).is_err());
    assert!(s.send_rpc(&Operation::Raw("text".into())).is_err());
    let id = s
        .send_rpc(&Operation::Raw(
            "<my-rpc xmlns=\"urn:example\"><x>1</x></my-rpc>".into(),
        ))
        .unwrap();
    let (tx, _) = drain(&mut s);
    assert!(sent_body(&tx[0], Framing::Chunked).contains(&format!("<rpc message-id=\"{id}\" xmlns=\"{BASE}\"><my-rpc xmlns=\"urn:example\"><x>1</x></my-rpc></rpc>")));
}

#[test]
fn in_flight_limit() {
    let mut limits = Limits::default();
    limits.max_in_flight = 2;
    let mut s = Session::new(Arc::new(Config::default().with_limits(limits)));
    drain(&mut s);
    s.handle_bytes(&server_hello(&[B10, B11], Some(1)));
    drain(&mut s);
    s.send_rpc(&Operation::get(None)).unwrap();
    s.send_rpc(&Operation::get(None)).unwrap();
    assert_eq!(
        s.send_rpc(&Operation::get(None)),
        Err(Error::TooManyInFlight)
    );
}

#[test]
fn rfc8639_establish_subscription_reply_and_rfc8526_get_data() {
    let mut s = ready();
    let id = s
        .send_rpc(&Operation::EstablishSubscription(
            netconf_client::EstablishSubscription {
                stream: "NETCONF".into(),
                filter: Some(Filter::xpath("/ex:event")),
                replay_start_time: None,
                stop_time: None,
            },
        ))
        .unwrap();
    let (tx, _) = drain(&mut s);
    let body = sent_body(&tx[0], Framing::Chunked);
    assert!(body.contains("<establish-subscription xmlns=\"urn:ietf:params:xml:ns:yang:ietf-subscribed-notifications\"><stream>NETCONF</stream><stream-xpath-filter>/ex:event</stream-xpath-filter></establish-subscription>"));
    // RFC 8639 §2.4.2 reply: <id> (and optionally replay-start-time-revision)
    s.handle_bytes(&reply_bytes(
        id,
        "<id xmlns=\"urn:ietf:params:xml:ns:yang:ietf-subscribed-notifications\">22</id>",
    ));
    let (_, ev) = drain(&mut s);
    let [Event::Reply { reply, .. }] = &ev[..] else {
        panic!()
    };
    assert_eq!(reply.subscription_id(), Some(22));

    for (op, want) in [
        (
            Operation::DeleteSubscription { id: 22 },
            "<delete-subscription xmlns=\"urn:ietf:params:xml:ns:yang:ietf-subscribed-notifications\"><id>22</id></delete-subscription>",
        ),
        (
            Operation::KillSubscription { id: 22 },
            "<kill-subscription xmlns=\"urn:ietf:params:xml:ns:yang:ietf-subscribed-notifications\"><id>22</id></kill-subscription>",
        ),
        (
            Operation::ModifySubscription {
                id: 22,
                filter: Some(Filter::Subtree("<e/>".into())),
                stop_time: None,
            },
            "<modify-subscription xmlns=\"urn:ietf:params:xml:ns:yang:ietf-subscribed-notifications\"><id>22</id><stream-subtree-filter><e/></stream-subtree-filter></modify-subscription>",
        ),
    ] {
        s.send_rpc(&op).unwrap();
        let (tx, _) = drain(&mut s);
        assert!(sent_body(&tx[0], Framing::Chunked).contains(want), "{want}");
    }

    // RFC 8526 get-data: the reply's <data> is in the NMDA namespace
    let mut g = GetData::new(NmdaDatastore::Operational);
    g.filter = Some(Filter::Subtree(
        "<system xmlns=\"urn:ietf:params:xml:ns:yang:ietf-system\"/>".into(),
    ));
    g.max_depth = Some(3);
    g.with_origin = true;
    let id = s.send_rpc(&Operation::GetData(g)).unwrap();
    let (tx, _) = drain(&mut s);
    let body = sent_body(&tx[0], Framing::Chunked);
    assert!(body.contains("<get-data xmlns=\"urn:ietf:params:xml:ns:yang:ietf-netconf-nmda\" xmlns:ds=\"urn:ietf:params:xml:ns:yang:ietf-datastores\"><datastore>ds:operational</datastore><subtree-filter><system xmlns=\"urn:ietf:params:xml:ns:yang:ietf-system\"/></subtree-filter><max-depth>3</max-depth><with-origin/></get-data>"), "{body}");
    s.handle_bytes(&reply_bytes(
        id,
        "<data xmlns=\"urn:ietf:params:xml:ns:yang:ietf-netconf-nmda\"><system xmlns=\"urn:ietf:params:xml:ns:yang:ietf-system\"><hostname>r1</hostname></system></data>",
    ));
    let (_, ev) = drain(&mut s);
    let [Event::Reply { reply, .. }] = &ev[..] else {
        panic!()
    };
    let p = netconf_client::ietf_system::SystemPosture::from_data(reply.data().unwrap()).unwrap();
    assert_eq!(p.hostname.as_deref(), Some("r1"));

    s.send_rpc(&Operation::EditData {
        datastore: NmdaDatastore::Running,
        default_operation: Some(netconf_client::DefaultOperation::Replace),
        config: "<x xmlns=\"urn:x\"/>".into(),
    })
    .unwrap();
    let (tx, _) = drain(&mut s);
    assert!(sent_body(&tx[0], Framing::Chunked).contains("<datastore>ds:running</datastore><default-operation>replace</default-operation><config><x xmlns=\"urn:x\"/></config></edit-data>"));
}
