//! Peak memory of receiving and parsing a large chunked `<rpc-reply>` (not a test): the
//! stream is fed to a [`Session`] in 1,986-byte reads (netconfd's chunk size), then the
//! `<data>` is walked with the streaming reader and turned into a `SystemPosture`.
//!
//! ```text
//! cargo run --release -p netconf-client --example large-reply-memory [FILE.chunked.bin]
//! cargo run --release -p netconf-client --example large-reply-memory --stream FILE.chunked.bin
//! ```
//! Without FILE, a 12,000-user reply shaped like netconfd's is generated in memory. Figures
//! are the process's peak RSS (VmHWM) growth over the input it already holds.
//!
//! With `--stream`, FILE is read from disk in 1,986-byte reads (it is never held) and fed to
//! a `Session` whose RPC was sent with `send_rpc_streaming`; the reply's pieces are walked
//! by a `ReplyStream` as they arrive (every element counted), so nothing holds the reply.
//! The capture's `urn:uuid:` message-id (ncclient's) is rewritten to the session's id in
//! the first chunk. Printed: the peak RSS growth over the process before the first read,
//! and the walker's own high-water mark.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fmt::Write as _;
use std::sync::Arc;

use bytes::BytesMut;
use netconf_client::framing;
use netconf_client::ietf_system::SystemPosture;
use netconf_client::{Config, Event, Operation, Session, XmlEvent};

fn vm_hwm_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn generated(users: usize) -> Vec<u8> {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rpc-reply message-id=\"1\" xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\">\n  <data>\n    <system xmlns=\"urn:ietf:params:xml:ns:yang:ietf-system\">\n      <authentication>\n",
    );
    for i in 0..users {
        let _ = write!(
            s,
            "        <user>\n          <name>user{i:05}</name>\n          <password>$5$interop$Qk0wWnJ4cE9vT1VpZ2tLc0xFc1NmQWd3bG1oR0FkbEx0{i:05}</password>\n          <authorized-key>\n            <name>key{i:05}</name>\n            <algorithm>ssh-ed25519</algorithm>\n            <key-data>AAAAC3NzaC1lZDI1NTE5AAAAIGECSxY/Mnnl/KEa5Z4/jPqsFpoU80NZhdo2IuJi{i:05}</key-data>\n          </authorized-key>\n        </user>\n"
        );
    }
    s.push_str("      </authentication>\n    </system>\n  </data>\n</rpc-reply>");
    let mut out = BytesMut::new();
    framing::encode_chunked(s.as_bytes(), 1986, &mut out);
    out.to_vec()
}

/// `--stream FILE`: receive and walk the reply without holding it.
fn streaming(path: &str) {
    use netconf_client::{Limits, ReplyStream, StreamStep};
    use std::io::Read;

    let mut file = std::io::BufReader::with_capacity(1986, std::fs::File::open(path).unwrap());
    let hello = b"<hello xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><capabilities><capability>urn:ietf:params:netconf:base:1.1</capability></capabilities><session-id>1</session-id></hello>]]>]]>";
    let mut s = Session::new(Arc::new(Config::default()));
    s.handle_bytes(hello);
    while s.poll_event().is_some() {}
    while s.poll_transmit().is_some() {}
    let id = s.send_rpc_streaming(&Operation::get(None)).unwrap();
    while s.poll_transmit().is_some() {}
    let base = vm_hwm_kib();
    // first chunk: rewrite the captured message-id to ours, re-frame it
    let mut header = Vec::new();
    let mut byte = [0u8; 1];
    while header.len() < 2 || header.last() != Some(&b'\n') {
        file.read_exact(&mut byte).unwrap();
        header.push(byte[0]);
    }
    let size: usize = std::str::from_utf8(&header[2..header.len() - 1])
        .unwrap()
        .parse()
        .unwrap();
    let mut first = vec![0u8; size];
    file.read_exact(&mut first).unwrap();
    let first = String::from_utf8(first).unwrap();
    let at = first.find("message-id=\"").unwrap() + "message-id=\"".len();
    let end = at + first[at..].find('"').unwrap();
    let first = format!("{}{id}{}", &first[..at], &first[end..]);
    s.handle_bytes(format!("\n#{}\n{first}", first.len()).as_bytes());
    let mut walker = ReplyStream::new(&Limits::default());
    let (mut elements, mut users, mut wire) = (0usize, 0usize, header.len() + size);
    let mut done = false;
    let mut buf = [0u8; 1986];
    loop {
        while let Some(ev) = s.poll_event() {
            match ev {
                Event::ReplyPart { data, .. } => walker.push(data),
                Event::ReplyEnd { .. } => walker.finish(),
                other => panic!("{other:?}"),
            }
            loop {
                match walker.next_event().unwrap() {
                    StreamStep::Event(XmlEvent::Start { name, .. }) => {
                        elements += 1;
                        users += usize::from(name == "user");
                    }
                    StreamStep::Event(_) => {}
                    StreamStep::NeedMore => break,
                    StreamStep::Done => {
                        done = true;
                        break;
                    }
                }
            }
        }
        if done {
            break;
        }
        let n = file.read(&mut buf).unwrap();
        assert!(n > 0, "end of file before the end of the reply");
        wire += n;
        s.handle_bytes(&buf[..n]);
    }
    let after = vm_hwm_kib();
    println!(
        "reply: {wire} bytes on the wire, {} bytes of XML, {elements} elements in <data>, {users} <user>",
        walker.offset()
    );
    println!(
        "streaming: peak RSS growth {} KiB (receive + walk), walker high-water {} bytes",
        after.saturating_sub(base),
        walker.high_water()
    );
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--stream") {
        return streaming(&std::env::args().nth(2).expect("--stream FILE"));
    }
    let stream = match std::env::args().nth(1) {
        Some(p) => std::fs::read(p).unwrap(),
        None => generated(12_000),
    };
    let hello = b"<hello xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><capabilities><capability>urn:ietf:params:netconf:base:1.1</capability></capabilities><session-id>1</session-id></hello>]]>]]>";
    let mut s = Session::new(Arc::new(Config::default()));
    s.handle_bytes(hello);
    while s.poll_event().is_some() {}
    while s.poll_transmit().is_some() {}
    s.send_rpc(&Operation::get(None)).unwrap();
    while s.poll_transmit().is_some() {}
    // the reply to message-id 1 may carry any id in a capture: accept both kinds of event
    let base = vm_hwm_kib();
    let mut reply = None;
    for part in stream.chunks(1986) {
        s.handle_bytes(part);
        while let Some(ev) = s.poll_event() {
            match ev {
                Event::Reply { reply: r, .. } | Event::UnmatchedReply(r) => reply = Some(r),
                other => panic!("{other:?}"),
            }
        }
    }
    let reply = reply.expect("a reply");
    let after_receive = vm_hwm_kib();
    let data = reply.data().expect("data");
    let mut r = data.reader().unwrap();
    let mut elements = 0usize;
    while let Some(ev) = r.next_event().unwrap() {
        if let XmlEvent::Start { .. } = ev {
            elements += 1;
        }
    }
    let after_walk = vm_hwm_kib();
    let p = SystemPosture::from_data(data).unwrap();
    let after_posture = vm_hwm_kib();
    let users = p.authentication.map_or(0, |a| a.users.len());
    println!(
        "reply: {} bytes on the wire, {} bytes of XML, {elements} elements, {users} users",
        stream.len(),
        reply.raw.len()
    );
    println!(
        "peak RSS growth: receive {} KiB, + streaming walk {} KiB, + SystemPosture {} KiB",
        after_receive.saturating_sub(base),
        after_walk.saturating_sub(after_receive),
        after_posture.saturating_sub(after_walk)
    );
}
