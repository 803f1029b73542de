//! The async client's queues are bounded: notifications and replies without a usable
//! message-id beyond `Limits::max_notifications` / `max_unmatched_replies` drop the oldest and
//! are counted. A scripted server on an in-memory pipe (base:1.0 framing).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use netconf_client::tokio::Client;
use netconf_client::{Config, Limits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BASE: &str = "urn:ietf:params:xml:ns:netconf:base:1.0";
const EOM: &str = "]]>]]>";

fn notification(i: u32) -> String {
    format!(
        "<notification xmlns=\"urn:ietf:params:xml:ns:netconf:notification:1.0\">\
         <eventTime>2026-12-04T00:00:{i:02}Z</eventTime><e xmlns=\"urn:e\"/></notification>{EOM}"
    )
}

/// Reads from the client until `n` end-of-message markers have arrived.
async fn read_messages(io: &mut tokio::io::DuplexStream, n: usize) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while got
        .windows(EOM.len())
        .filter(|w| *w == EOM.as_bytes())
        .count()
        < n
    {
        let k = io.read(&mut buf).await.unwrap();
        assert!(k > 0, "client closed");
        got.extend_from_slice(&buf[..k]);
    }
}

#[tokio::test]
async fn notification_and_unmatched_queues_are_bounded() {
    let (client_io, mut server) = tokio::io::duplex(1 << 20);
    let server_task = tokio::spawn(async move {
        read_messages(&mut server, 1).await; // client hello
        let hello = format!(
            "<hello xmlns=\"{BASE}\"><capabilities><capability>urn:ietf:params:netconf:base:1.0\
             </capability></capabilities><session-id>4</session-id></hello>{EOM}"
        );
        server.write_all(hello.as_bytes()).await.unwrap();
        read_messages(&mut server, 1).await; // <get>
        let mut out = String::new();
        for i in 1..=5 {
            out.push_str(&notification(i));
        }
        for i in 0..4 {
            out.push_str(&format!(
                "<rpc-reply xmlns=\"{BASE}\" message-id=\"{}\"><ok/></rpc-reply>{EOM}",
                900 + i
            ));
        }
        out.push_str(&format!(
            "<rpc-reply xmlns=\"{BASE}\" message-id=\"1\"><data/></rpc-reply>{EOM}"
        ));
        server.write_all(out.as_bytes()).await.unwrap();
        server
    });
    let mut limits = Limits::default();
    limits.max_notifications = 3;
    limits.max_unmatched_replies = 2;
    let mut c = Client::handshake(client_io, Config::default().with_limits(limits))
        .await
        .unwrap();
    c.get(None).await.unwrap();
    assert_eq!(c.queued_notifications(), 3);
    assert_eq!(c.dropped_notifications(), 2);
    assert_eq!(c.dropped_unmatched_replies(), 2);
    // The oldest went first: 3, 4, 5 are left.
    for i in 3..=5 {
        let n = c.next_notification().await.unwrap();
        assert_eq!(n.event_time, format!("2026-12-04T00:00:{i:02}Z"));
    }
    assert_eq!(c.queued_notifications(), 0);
    drop(server_task.await.unwrap());
}
