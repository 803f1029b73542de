//! Peak memory of receiving and parsing a large chunked `<rpc-reply>` (not a test): the
//! stream is fed to a [`Session`] in 1,986-byte reads (netconfd's chunk size), then the
//! `<data>` is walked with the streaming reader and turned into a `SystemPosture`.
//!
//! ```text
//! cargo run --release -p netconf-client --example large-reply-memory [FILE.chunked.bin]
//! ```
//! Without FILE, a 12,000-user reply shaped like netconfd's is generated in memory. Figures
//! are the process's peak RSS (VmHWM) growth over the input it already holds.
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

fn main() {
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
