#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The real netconfd/ncclient bytes in `tests/data/` (see its README): framing on real read
//! boundaries and every split, byte-exact re-framing, and decoding of every message kind.

use bytes::{Bytes, BytesMut};
use netconf_client::framing::{self, Framer, Framing};
use netconf_client::{
    ErrorSeverity, ErrorTag, ErrorType, Limits, Message, ReplyContent, capabilities,
    ietf_system::SystemPosture,
};

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Decodes a stream whose first message is EOM-framed and, when `chunked`, the rest chunked
/// (RFC 6242 §4.1), feeding it in the given read sizes.
fn frames(stream: &[u8], reads: &[usize], chunked: bool) -> Vec<Bytes> {
    let mut f = Framer::new(1 << 24, 1 << 24);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut pos = 0;
    for &n in reads {
        let end = (pos + n).min(stream.len());
        buf.extend_from_slice(&stream[pos..end]);
        pos = end;
        while let Some(m) = f.decode(&mut buf).unwrap() {
            out.push(m);
            if chunked && f.framing() == Framing::EndOfMessage {
                f.set_framing(Framing::Chunked);
            }
        }
    }
    assert_eq!(pos, stream.len(), "reads cover the stream");
    assert!(buf.is_empty(), "no leftover bytes");
    out
}

const S2C: [&str; 9] = [
    "s2c-00-hello.eom.bin",
    "s2c-01-rpc-reply-data.chunked.bin",
    "s2c-02-rpc-reply-data.chunked.bin",
    "s2c-03-rpc-reply-error.chunked.bin",
    "s2c-04-rpc-reply-ok.chunked.bin",
    "s2c-05-notification-netconf-session-start.chunked.bin",
    "s2c-06-notification-netconf-config-change.chunked.bin",
    "s2c-07-notification-netconf-session-end.chunked.bin",
    "s2c-08-rpc-reply-ok.chunked.bin",
];

#[test]
fn session_stream_on_recorded_read_boundaries() {
    let json = String::from_utf8(data("ncclient-session-io-boundaries.json")).unwrap();
    let inner = json.split('[').nth(1).unwrap().split(']').next().unwrap();
    let reads: Vec<usize> = inner
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let stream = data("ncclient-session-s2c.bin");
    let msgs = frames(&stream, &reads, true);
    assert_eq!(msgs.len(), 9);
}

#[test]
fn session_stream_every_split_size() {
    let stream = data("ncclient-session-s2c.bin");
    let want = frames(&stream, &[stream.len()], true);
    for step in [1, 2, 3, 5, 7, 13, 64, 1000, 1986, 4096] {
        let reads = vec![step; stream.len().div_ceil(step)];
        assert_eq!(frames(&stream, &reads, true), want, "step {step}");
    }
    // every two-piece split
    for cut in 0..=stream.len() {
        assert_eq!(
            frames(&stream, &[cut, stream.len() - cut], true),
            want,
            "cut {cut}"
        );
    }
}

#[test]
fn reframing_is_byte_exact() {
    for name in S2C.iter().chain(&[
        "c2s-00-hello.eom.bin",
        "c2s-01-rpc-get.chunked.bin",
        "c2s-03-rpc-edit-config.chunked.bin",
        "c2s-05-rpc-close-session.chunked.bin",
        "base10-s2c-00-hello.eom.bin",
        "base10-s2c-01-rpc-reply-data.eom.bin",
        "base10-c2s-01-rpc-get.eom.bin",
    ]) {
        let bytes = data(name);
        let chunked = name.ends_with(".chunked.bin");
        let mut f = Framer::new(1 << 20, 1 << 20);
        if chunked {
            f.set_framing(Framing::Chunked);
        }
        let mut buf = BytesMut::from(&bytes[..]);
        let body = f.decode(&mut buf).unwrap().unwrap();
        assert!(buf.is_empty(), "{name}");
        let mut out = BytesMut::new();
        if chunked {
            framing::encode_chunked(&body, 1 << 20, &mut out);
        } else {
            framing::encode_eom(&body, &mut out);
        }
        assert_eq!(&out[..], &bytes[..], "{name}");
    }
}

fn decode(name: &str) -> Message {
    let bytes = data(name);
    let mut f = Framer::new(1 << 20, 1 << 20);
    if name.ends_with(".chunked.bin") {
        f.set_framing(Framing::Chunked);
    }
    let body = f.decode(&mut BytesMut::from(&bytes[..])).unwrap().unwrap();
    Message::decode(body, &Limits::default()).unwrap()
}

#[test]
fn server_hello() {
    let Message::Hello(h) = decode("s2c-00-hello.eom.bin") else {
        panic!("not a hello")
    };
    assert_eq!(h.capabilities.len(), 37);
    assert!(h.session_id.is_some());
    let c = &h.capabilities;
    assert!(c.base11() && c.candidate() && c.confirmed_commit() && c.validate());
    assert!(c.xpath() && c.notification() && c.interleave());
    assert!(!c.writable_running() && !c.startup());
    assert!(c.has(capabilities::URL));
    let sys = c.module("ietf-system").unwrap();
    assert_eq!(sys.revision.as_deref(), Some("2014-08-06"));
    assert!(!sys.features.is_empty());
    assert!(c.with_defaults_basic_mode().is_some());
}

#[test]
fn data_replies_and_system_view() {
    let Message::Reply(r) = decode("s2c-01-rpc-reply-data.chunked.bin") else {
        panic!()
    };
    assert!(r.is_ok());
    assert!(r.message_id.as_deref().unwrap().starts_with("urn:uuid:"));
    let d = r.data().unwrap();
    assert!(d.as_str().contains("<hostname>nc-interop-1</hostname>"));
    let p = SystemPosture::from_data(d).unwrap();
    assert_eq!(p.hostname.as_deref(), Some("nc-interop-1"));
    assert_eq!(p.contact.as_deref(), Some("interop-lab@example.net"));
    assert_eq!(p.location.as_deref(), Some("loopback lab, rack 1"));
    assert_eq!(p.clock.timezone_name.as_deref(), Some("Etc/UTC"));
    let ntp = p.ntp.as_ref().unwrap();
    assert_eq!(ntp.enabled, Some(true));
    assert_eq!(ntp.servers[0].name, "ntp1");
    assert_eq!(ntp.servers[0].address.as_deref(), Some("127.0.0.1"));
    assert_eq!(ntp.servers[0].iburst, Some(true));
    let dns = p.dns_resolver.as_ref().unwrap();
    assert_eq!(dns.search, ["example.net"]);
    assert_eq!(dns.servers[0].address.as_deref(), Some("127.0.0.1"));
    assert_eq!((dns.timeout, dns.attempts), (Some(2), Some(2)));
    let auth = p.authentication.as_ref().unwrap();
    assert_eq!(auth.users[0].name, "nctest");
    assert_eq!(
        auth.users[0].authorized_keys[0].algorithm.as_deref(),
        Some("ssh-ed25519")
    );

    let Message::Reply(r) = decode("s2c-02-rpc-reply-data.chunked.bin") else {
        panic!()
    };
    let mut p = p;
    p.merge_data(r.data().unwrap()).unwrap();
    assert!(p.clock.current_datetime.is_some());
    assert_eq!(p.hostname.as_deref(), Some("nc-interop-1"));
}

#[test]
fn rpc_error_every_field() {
    let Message::Reply(r) = decode("s2c-03-rpc-reply-error.chunked.bin") else {
        panic!()
    };
    assert!(!r.is_ok());
    assert_eq!(r.content, ReplyContent::None);
    let e = r.first_error().unwrap();
    assert_eq!(e.error_type, Some(ErrorType::Protocol));
    assert_eq!(e.tag, ErrorTag::InvalidValue);
    assert_eq!(e.severity, ErrorSeverity::Error);
    assert_eq!(e.app_tag.as_deref(), Some("not-in-range"));
    assert_eq!(
        e.path.as_deref(),
        Some("/nc:rpc/nc:edit-config/nc:config/sys:system/sys:clock/sys:timezone-utc-offset")
    );
    assert_eq!(e.message.as_deref(), Some("value not in range"));
    assert_eq!(e.message_lang.as_deref(), Some("en"));
    let info = e.info.as_ref().unwrap();
    let raw = std::str::from_utf8(&info.raw).unwrap();
    assert!(
        raw.contains("<bad-value xmlns=\"http://netconfcentral.org/ns/yuma-ncx\">9999</bad-value>")
    );
    assert_eq!(
        e.to_string(),
        "protocol invalid-value: value not in range (at /nc:rpc/nc:edit-config/nc:config/sys:system/sys:clock/sys:timezone-utc-offset)"
    );
}

#[test]
fn ok_and_notifications() {
    for name in [
        "s2c-04-rpc-reply-ok.chunked.bin",
        "s2c-08-rpc-reply-ok.chunked.bin",
        "base10-s2c-02-rpc-reply-ok.eom.bin",
    ] {
        let Message::Reply(r) = decode(name) else {
            panic!()
        };
        assert_eq!(r.content, ReplyContent::Ok, "{name}");
    }
    let names = [
        (
            "s2c-05-notification-netconf-session-start.chunked.bin",
            "netconf-session-start",
        ),
        (
            "s2c-06-notification-netconf-config-change.chunked.bin",
            "netconf-config-change",
        ),
        (
            "s2c-07-notification-netconf-session-end.chunked.bin",
            "netconf-session-end",
        ),
    ];
    for (file, event) in names {
        let Message::Notification(n) = decode(file) else {
            panic!()
        };
        assert_eq!(n.event_name, event);
        assert_eq!(
            n.event_namespace,
            "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications"
        );
        assert!(n.event_time.starts_with("2026-"));
        assert!(
            std::str::from_utf8(&n.content)
                .unwrap()
                .starts_with(&format!("<{event} "))
        );
    }
}

#[test]
fn base10_session() {
    let Message::Hello(h) = decode("base10-s2c-00-hello.eom.bin") else {
        panic!()
    };
    assert!(h.capabilities.base11());
    let Message::Reply(r) = decode("base10-s2c-01-rpc-reply-data.eom.bin") else {
        panic!()
    };
    let p = SystemPosture::from_data(r.data().unwrap()).unwrap();
    assert_eq!(p.hostname.as_deref(), Some("nc-interop-1"));
}
