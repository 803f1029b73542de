//! The streaming reply path (sans-IO): `Framer::decode_part` and `Session::send_rpc_streaming`
//! hand out the pieces of a reply as they arrive, `ReplyStream` walks them without holding
//! the message. Fed netconfd's recorded 4.7 MB, 12,000-user reply (`tests/data/`, gzip).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use netconf_client::framing::{self, FramePart, Framer, Framing};
use netconf_client::{
    Config, DataReader, DecodeErrorKind, ErrorTag, Event, Limits, Operation, ReplyStream, Session,
    StreamStep, XmlEvent,
};

const LARGE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/s2c-large-rpc-reply-data-12000-users.chunked.bin.gz"
);
/// Bytes of the recorded reply on the wire (framing included) and of its XML.
const LARGE_WIRE: usize = 4_721_522;
const LARGE_XML: usize = 4_704_930;
/// `<user>` elements in it: the 12,000 generated users plus the test account `nctest`.
const LARGE_USERS: usize = 12_001;

/// The recorded chunked reply, decompressed (the test input, not what the reader holds).
fn large_capture() -> Vec<u8> {
    let out = std::process::Command::new("gzip")
        .arg("-dc")
        .arg(LARGE)
        .output()
        .expect("gzip -dc");
    assert!(out.status.success(), "gzip -dc {LARGE} failed");
    assert_eq!(out.stdout.len(), LARGE_WIRE);
    out.stdout
}

#[derive(Debug, Default)]
struct Tally {
    users: usize,
    names: usize,
    text_bytes: usize,
    max_depth: usize,
}

/// Walks every event available; true once the reply is done.
fn walk(s: &mut ReplyStream, t: &mut Tally) -> bool {
    loop {
        let depth = s.depth();
        match s.next_event().unwrap() {
            StreamStep::Event(XmlEvent::Start { name, .. }) => {
                t.max_depth = t.max_depth.max(depth + 1);
                if name == "user" {
                    t.users += 1;
                }
                if name == "name" {
                    t.names += 1;
                }
            }
            StreamStep::Event(XmlEvent::Text(x)) => t.text_bytes += x.len(),
            StreamStep::Event(XmlEvent::End) => {}
            StreamStep::NeedMore => return false,
            StreamStep::Done => return true,
        }
    }
}

/// The bound asserted on the reader's high-water mark for reads of `read` bytes: the
/// unread part of one read, the largest tag or text held back with it, quick-xml's event
/// buffer, and the message head kept until `<data>` starts.
fn bound(read: usize) -> usize {
    2 * read + 8 * 1024
}

#[test]
fn large_recorded_reply_streamed_through_framer_parts() {
    let wire = large_capture();
    for read in [512, 1986, 4096, 16_384] {
        let limits = Limits::default();
        let mut framer = Framer::new(limits.max_message_size, limits.max_chunk_size);
        framer.set_framing(Framing::Chunked);
        let mut s = ReplyStream::new(&limits);
        let mut t = Tally::default();
        let mut buf = BytesMut::new();
        let mut largest_part = 0;
        let mut done = false;
        for piece in wire.chunks(read) {
            buf.extend_from_slice(piece);
            while let Some(part) = framer.decode_part(&mut buf).unwrap() {
                match part {
                    FramePart::Data(d) => {
                        largest_part = largest_part.max(d.len());
                        s.push(d);
                        assert!(!walk(&mut s, &mut t));
                    }
                    FramePart::End => {
                        s.finish();
                        done = walk(&mut s, &mut t);
                    }
                }
            }
        }
        assert!(done && buf.is_empty(), "read {read}");
        assert!(
            largest_part <= read.min(1986),
            "read {read}: part {largest_part}"
        );
        assert_eq!(t.users, LARGE_USERS, "read {read}");
        // every user has a name and an authorized key with a name
        assert_eq!(t.names, 2 * LARGE_USERS, "read {read}");
        assert_eq!(s.offset(), LARGE_XML as u64);
        assert!(s.reply().is_none());
        let hw = s.high_water();
        println!("read {read}: high-water {hw} bytes");
        assert!(
            hw <= bound(read),
            "read {read}: high-water {hw} > {}",
            bound(read)
        );
        assert!(hw * 100 < LARGE_XML, "read {read}: high-water {hw}");
    }
}

fn ready_session() -> Session {
    let mut s = Session::new(Arc::new(Config::default()));
    while s.poll_transmit().is_some() {}
    s.handle_bytes(
        b"<hello xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><capabilities><capability>urn:ietf:params:netconf:base:1.1</capability></capabilities><session-id>7</session-id></hello>]]>]]>",
    );
    assert_eq!(s.poll_event(), Some(Event::Ready { session_id: 7 }));
    s
}

/// The recorded reply with its `urn:uuid:` message-id (ncclient's) replaced by `id`,
/// re-framed in netconfd's 1,986-byte chunks.
fn large_reply_with_id(id: u64) -> Vec<u8> {
    let wire = large_capture();
    let mut framer = Framer::new(64 << 20, 64 << 20);
    framer.set_framing(Framing::Chunked);
    let mut buf = BytesMut::from(&wire[..]);
    let body = framer.decode(&mut buf).unwrap().unwrap();
    let xml = std::str::from_utf8(&body).unwrap();
    let xml = xml.replacen(
        "message-id=\"urn:uuid:70efa2d1-8194-4d63-a1be-f501ad0432e7\"",
        &format!("message-id=\"{id}\""),
        1,
    );
    assert!(xml.contains(&format!("message-id=\"{id}\"")));
    let mut out = BytesMut::new();
    framing::encode_chunked(xml.as_bytes(), 1986, &mut out);
    out.to_vec()
}

#[test]
fn large_recorded_reply_streamed_through_session() {
    let mut s = ready_session();
    let id = s
        .send_rpc_streaming(&Operation::get_config(
            netconf_client::Datastore::Running,
            None,
        ))
        .unwrap();
    while s.poll_transmit().is_some() {}
    assert!(s.is_streaming(id));
    let wire = large_reply_with_id(id);
    let read = 1986;
    let mut walker = ReplyStream::new(&Limits::default());
    let mut t = Tally::default();
    let mut ended = false;
    for piece in wire.chunks(read) {
        s.handle_bytes(piece);
        while let Some(ev) = s.poll_event() {
            match ev {
                Event::ReplyPart { message_id, data } => {
                    assert_eq!(message_id, id);
                    assert!(!ended);
                    walker.push(data);
                    assert!(!walk(&mut walker, &mut t));
                }
                Event::ReplyEnd { message_id } => {
                    assert_eq!(message_id, id);
                    walker.finish();
                    ended = walk(&mut walker, &mut t);
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert!(ended);
    assert_eq!(t.users, LARGE_USERS);
    assert_eq!(s.in_flight(), 0);
    assert!(!s.is_streaming(id));
    let hw = walker.high_water();
    println!("session, read {read}: high-water {hw} bytes");
    assert!(hw <= bound(read), "high-water {hw} > {}", bound(read));
    // the whole-message path is back once no streaming RPC is in flight
    let id2 = s.send_rpc(&Operation::get(None)).unwrap();
    let mut out = BytesMut::new();
    framing::encode_chunked(
        format!("<rpc-reply message-id=\"{id2}\" xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><ok/></rpc-reply>").as_bytes(),
        10,
        &mut out,
    );
    s.handle_bytes(&out);
    assert!(matches!(s.poll_event(), Some(Event::Reply { message_id, .. }) if message_id == id2));
}

/// Events of a `DataReader` over the whole `<data>` content, as owned strings.
fn reference_events(data: &str) -> Vec<String> {
    let mut r = DataReader::new(data.as_bytes(), 64).unwrap();
    let mut out = Vec::new();
    let mut text = String::new();
    while let Some(ev) = r.next_event().unwrap() {
        match ev {
            XmlEvent::Text(x) => text.push_str(x),
            other => {
                let other = format!("{other:?}");
                if !text.is_empty() {
                    out.push(format!("text {}", std::mem::take(&mut text)));
                }
                out.push(format!("{other} {:?}", r.attributes()));
            }
        }
    }
    out
}

fn streamed_events(msg: &[u8], split: usize) -> Vec<String> {
    let mut s = ReplyStream::new(&Limits::default());
    let mut out = Vec::new();
    let mut text = String::new();
    let mut pieces = msg.chunks(split.max(1));
    loop {
        match s.next_event().unwrap() {
            StreamStep::Event(XmlEvent::Text(x)) => text.push_str(x),
            StreamStep::Event(other) => {
                let other = format!("{other:?}");
                if !text.is_empty() {
                    out.push(format!("text {}", std::mem::take(&mut text)));
                }
                out.push(format!("{other} {:?}", s.attributes()));
            }
            StreamStep::NeedMore => match pieces.next() {
                Some(p) => s.push(Bytes::copy_from_slice(p)),
                None => s.finish(),
            },
            StreamStep::Done => break,
        }
    }
    out
}

#[test]
fn every_split_gives_the_events_of_the_whole_message() {
    let data = r#"<!-- a > comment --><system xmlns="urn:ietf:params:xml:ns:yang:ietf-system" xmlns:x="urn:x"><hostname>h&amp;&#65;&lt;</hostname><x:leaf a="1>2" b='"3"'/><?pi a > b ?><text><![CDATA[ <not> ]] markup ]]]></text><empty/>
  <deep><a><b><c>x</c></b></a></deep></system><second xmlns="urn:y"/>"#;
    let msg = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rpc-reply message-id=\"3\" xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\" x=\"a>b\">\n  <data>{data}</data>\n</rpc-reply>\n"
    );
    let want = reference_events(data);
    assert!(want.len() > 20);
    for split in 1..=msg.len() {
        assert_eq!(
            streamed_events(msg.as_bytes(), split),
            want,
            "split {split}"
        );
    }
}

#[test]
fn reply_without_data_is_decoded_whole() {
    let err = r#"<rpc-reply message-id="4" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><rpc-error><error-type>application</error-type><error-tag>invalid-value</error-tag><error-severity>error</error-severity><error-message xml:lang="en">bad &gt; value</error-message></rpc-error></rpc-reply>"#;
    for split in [1, 3, 64, err.len()] {
        let mut s = ReplyStream::new(&Limits::default());
        for p in err.as_bytes().chunks(split) {
            s.push(Bytes::copy_from_slice(p));
            assert_eq!(s.next_event().unwrap(), StreamStep::NeedMore);
        }
        s.finish();
        assert_eq!(s.next_event().unwrap(), StreamStep::Done);
        let e = s.reply().unwrap().first_error().unwrap();
        assert_eq!(e.tag, ErrorTag::InvalidValue);
        assert_eq!(e.message.as_deref(), Some("bad > value"));
    }
    let mut s = ReplyStream::new(&Limits::default());
    s.push(Bytes::from_static(
        br#"<rpc-reply message-id="5" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><ok/></rpc-reply>"#,
    ));
    s.finish();
    assert_eq!(s.next_event().unwrap(), StreamStep::Done);
    assert!(s.reply().unwrap().is_ok());
}

#[test]
fn malformed_streams_are_errors_not_panics() {
    let bad: [&[u8]; 7] = [
        b"<hello/>",
        b"<rpc-reply xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><data><a></b></data></rpc-reply>",
        b"<rpc-reply xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><data><a>",
        b"<rpc-reply xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><data><a x=\"1></a></data></rpc-reply>",
        b"<rpc-reply xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><data><!-- x",
        b"",
        b"\xff\xfe<rpc-reply/>",
    ];
    for msg in bad {
        for split in 1..=msg.len().max(1) {
            let mut s = ReplyStream::new(&Limits::default());
            let mut failed = false;
            for p in msg.chunks(split) {
                s.push(Bytes::copy_from_slice(p));
                if s.next_event().is_err() {
                    failed = true;
                    break;
                }
            }
            if !failed {
                s.finish();
                failed = loop {
                    match s.next_event() {
                        Err(_) => break true,
                        Ok(StreamStep::Done) => break false,
                        Ok(_) => {}
                    }
                };
            }
            assert!(failed, "{:?} split {split}", String::from_utf8_lossy(msg));
        }
    }
}

#[test]
fn other_messages_still_arrive_whole_while_streaming() {
    let mut s = ready_session();
    let plain = s.send_rpc(&Operation::get(None)).unwrap();
    let streamed = s.send_rpc_streaming(&Operation::get(None)).unwrap();
    while s.poll_transmit().is_some() {}
    let mut wire = BytesMut::new();
    let notif = "<notification xmlns=\"urn:ietf:params:xml:ns:netconf:notification:1.0\"><eventTime>2026-11-27T00:00:00Z</eventTime><netconf-session-start xmlns=\"urn:ietf:params:xml:ns:yang:ietf-netconf-notifications\"><username>u</username><session-id>9</session-id></netconf-session-start></notification>";
    framing::encode_chunked(notif.as_bytes(), 17, &mut wire);
    let r1 = format!(
        "<?xml version=\"1.0\"?><rpc-reply message-id=\"{plain}\" xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><data><a>1</a></data></rpc-reply>"
    );
    framing::encode_chunked(r1.as_bytes(), 9, &mut wire);
    let r2 = format!(
        "<?xml version=\"1.0\"?><rpc-reply message-id=\"{streamed}\" xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><data><b>2</b></data></rpc-reply>"
    );
    framing::encode_chunked(r2.as_bytes(), 9, &mut wire);
    for split in [1, 5, 64, wire.len()] {
        let mut s2 = ready_session();
        assert_eq!(s2.send_rpc(&Operation::get(None)).unwrap(), plain);
        assert_eq!(
            s2.send_rpc_streaming(&Operation::get(None)).unwrap(),
            streamed
        );
        let mut kinds = Vec::new();
        let mut streamed_bytes = Vec::new();
        for p in wire.chunks(split) {
            s2.handle_bytes(p);
            while let Some(ev) = s2.poll_event() {
                match ev {
                    Event::Notification(_) => kinds.push("notification"),
                    Event::Reply { message_id, reply } => {
                        assert_eq!(message_id, plain);
                        assert_eq!(reply.data().unwrap().as_str(), "<a>1</a>");
                        kinds.push("reply");
                    }
                    Event::ReplyPart { message_id, data } => {
                        assert_eq!(message_id, streamed);
                        streamed_bytes.extend_from_slice(&data);
                    }
                    Event::ReplyEnd { message_id } => {
                        assert_eq!(message_id, streamed);
                        kinds.push("end");
                    }
                    other => panic!("{other:?}"),
                }
            }
        }
        assert_eq!(kinds, ["notification", "reply", "end"], "split {split}");
        assert_eq!(streamed_bytes, r2.as_bytes(), "split {split}");
        assert_eq!(s2.in_flight(), 0);
    }
    drop(s);
}

#[test]
fn streaming_over_base10_end_of_message_framing() {
    let mut s = Session::new(Arc::new(Config::default()));
    while s.poll_transmit().is_some() {}
    s.handle_bytes(
        b"<hello xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><capabilities><capability>urn:ietf:params:netconf:base:1.0</capability></capabilities><session-id>2</session-id></hello>]]>]]>",
    );
    assert_eq!(s.poll_event(), Some(Event::Ready { session_id: 2 }));
    assert_eq!(s.framing(), Framing::EndOfMessage);
    let id = s.send_rpc_streaming(&Operation::get(None)).unwrap();
    let reply = format!(
        "<rpc-reply message-id=\"{id}\" xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><data>{}</data></rpc-reply>]]>]]>",
        "<user><name>n]]</name></user>".repeat(500)
    );
    for split in [1, 7, 100, 4096] {
        let mut s2 = Session::new(Arc::new(Config::default()));
        s2.handle_bytes(
            b"<hello xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><capabilities><capability>urn:ietf:params:netconf:base:1.0</capability></capabilities><session-id>2</session-id></hello>]]>]]>",
        );
        assert_eq!(s2.send_rpc_streaming(&Operation::get(None)).unwrap(), id);
        let mut walker = ReplyStream::new(&Limits::default());
        let mut t = Tally::default();
        let mut done = false;
        for p in reply.as_bytes().chunks(split) {
            s2.handle_bytes(p);
            while let Some(ev) = s2.poll_event() {
                match ev {
                    Event::Ready { .. } => {}
                    Event::ReplyPart { data, .. } => {
                        walker.push(data);
                        walk(&mut walker, &mut t);
                    }
                    Event::ReplyEnd { .. } => {
                        walker.finish();
                        done = walk(&mut walker, &mut t);
                    }
                    other => panic!("{other:?}"),
                }
            }
        }
        assert!(done, "split {split}");
        assert_eq!(t.users, 500, "split {split}");
        assert!(walker.high_water() <= bound(split), "split {split}");
    }
    drop(s);
}

/// An endless text, tag or comment is never exposed to quick-xml, so its bytes stay queued:
/// the message size limit must bound the queue even when `ReplyStream` is fed directly
/// (10 MB pushed against a 1 MiB limit).
#[test]
fn endless_markup_is_bounded_by_the_message_limit() {
    let mut limits = Limits::default();
    limits.max_message_size = 1 << 20;
    let head =
        "<rpc-reply message-id=\"1\" xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><data>";
    for open in ["<a>", "<a b=\"", "<!--", "<![CDATA[", "<?pi "] {
        let mut s = ReplyStream::new(&limits);
        s.push(Bytes::from(format!("{head}{open}")));
        let piece = Bytes::from(vec![b'x'; 65_536]);
        let mut err = None;
        for _ in 0..160 {
            s.push(piece.clone());
            loop {
                match s.next_event() {
                    Ok(StreamStep::Event(_)) => {}
                    Ok(_) => break,
                    Err(e) => {
                        err = Some(e);
                        break;
                    }
                }
            }
            if err.is_some() {
                break;
            }
        }
        let err = err.unwrap_or_else(|| panic!("{open}: 10 MB accepted"));
        assert_eq!(err.kind, DecodeErrorKind::MessageTooLarge, "{open}");
        assert!(
            s.high_water() <= limits.max_message_size + 65_536,
            "{open}: held {}",
            s.high_water()
        );
    }
}
