//! Resource limits on hostile input: the nesting limit holds on every path, including the
//! elements a parser skips (`<data>`, unknown reply content, hello extensions, notification
//! content), and the reply stream.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use bytes::Bytes;
use netconf_client::{DataReader, DecodeErrorKind, Limits, Message, ReplyStream, StreamStep};

const DEEP: usize = 100_000;

fn nested(name: &str, n: usize) -> String {
    let mut s = String::with_capacity(n * (2 * name.len() + 5));
    for _ in 0..n {
        s.push('<');
        s.push_str(name);
        s.push('>');
    }
    for _ in 0..n {
        s.push_str("</");
        s.push_str(name);
        s.push('>');
    }
    s
}

fn decode(xml: String) -> Result<Message, netconf_client::DecodeError> {
    Message::decode(Bytes::from(xml), &Limits::default())
}

const REPLY: &str = r#"<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" message-id="1">"#;

/// A 100,000-deep reply is refused (TooMany) wherever the deep part sits, instead of being
/// walked (and its open names held) without limit.
#[test]
fn deep_replies_are_refused_on_every_path() {
    let deep = nested("x", DEEP);
    let cases = [
        ("data", format!("{REPLY}<data>{deep}</data></rpc-reply>")),
        (
            "unknown",
            format!("{REPLY}<y xmlns=\"urn:e\">{deep}</y></rpc-reply>"),
        ),
        ("ok", format!("{REPLY}<ok>{deep}</ok></rpc-reply>")),
        (
            "hello",
            format!(
                "<hello xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><capabilities>\
                 <capability>urn:ietf:params:netconf:base:1.1</capability></capabilities>\
                 <ext xmlns=\"urn:e\">{deep}</ext></hello>"
            ),
        ),
        (
            "notification",
            format!(
                "<notification xmlns=\"urn:ietf:params:xml:ns:netconf:notification:1.0\">\
                 <eventTime>2026-12-04T00:00:00Z</eventTime><e xmlns=\"urn:e\">{deep}</e>\
                 </notification>"
            ),
        ),
    ];
    for (what, xml) in cases {
        let err = decode(xml).expect_err(what);
        assert_eq!(err.kind, DecodeErrorKind::TooMany, "{what}");
    }
    // Within the limit the same shapes decode.
    let ok = nested("x", Limits::default().max_depth - 3);
    assert!(decode(format!("{REPLY}<data>{ok}</data></rpc-reply>")).is_ok());
}

#[test]
fn data_reader_skip_honours_the_limit() {
    let xml = format!("<a>{}</a>", nested("b", 10));
    let mut r = DataReader::new(xml.as_bytes(), 8).unwrap();
    r.next_event().unwrap();
    assert_eq!(r.skip_element().unwrap_err().kind, DecodeErrorKind::TooMany);
    let mut r = DataReader::new(xml.as_bytes(), 11).unwrap();
    r.next_event().unwrap();
    assert_eq!(r.skip_element().unwrap(), 3..xml.len() - 4);
    assert_eq!(r.depth(), 0);
}

#[test]
fn reply_stream_deep_data_is_refused() {
    let xml = format!("{REPLY}<data>{}</data></rpc-reply>", nested("x", DEEP));
    let mut s = ReplyStream::new(&Limits::default());
    let mut err = None;
    'feed: for chunk in xml.as_bytes().chunks(4096) {
        s.push(Bytes::copy_from_slice(chunk));
        loop {
            match s.next_event() {
                Ok(StreamStep::NeedMore) => break,
                Ok(StreamStep::Done) => break 'feed,
                Ok(StreamStep::Event(_)) => {}
                Err(e) => {
                    err = Some(e);
                    break 'feed;
                }
            }
        }
    }
    assert_eq!(err.unwrap().kind, DecodeErrorKind::TooMany);
}
