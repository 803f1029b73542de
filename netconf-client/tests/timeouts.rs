//! A timeout names the phase that stalled: SSH and TLS handshakes against a server that
//! accepts the TCP connection and then says nothing, and an RPC whose reply never comes.
//! (TCP connect and hello timeouts are unit tests of `tokio.rs`.) The short timeouts only make
//! the stall end; nothing here measures time.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use netconf_client::ssh::{self, HostKeyPolicy, SshAuth, SshConfig};
use netconf_client::tls::{self, TlsConfig};
use netconf_client::tokio::{Client, ClientError, Phase};
use netconf_client::{Config, Filter};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const STALL: Duration = Duration::from_millis(300);

/// A loopback listener that accepts connections and never answers; stops with the runtime.
async fn silent_server() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            held.push(s);
        }
    });
    port
}

#[tokio::test]
async fn ssh_handshake_stall_names_the_ssh_phase() {
    let port = silent_server().await;
    let mut cfg = SshConfig::new(
        "127.0.0.1",
        port,
        "u",
        SshAuth::Password("p".into()),
        HostKeyPolicy::AcceptUnknown(None),
    );
    cfg.timeout = STALL;
    let e = ssh::connect(&cfg, Config::default()).await.unwrap_err();
    assert!(matches!(e, ClientError::Timeout(Phase::Ssh)), "{e}");
    assert_eq!(
        e.to_string(),
        "timed out during SSH handshake and authentication"
    );
}

#[tokio::test]
async fn tls_handshake_stall_names_the_tls_phase() {
    let dir = std::env::temp_dir().join(format!("netconf-timeouts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(dir.join("c.pem"), ck.cert.pem()).unwrap();
    std::fs::write(dir.join("k.pem"), ck.signing_key.serialize_pem()).unwrap();
    let port = silent_server().await;
    let mut cfg = TlsConfig::new(
        "localhost",
        port,
        dir.join("c.pem"),
        dir.join("c.pem"),
        dir.join("k.pem"),
    );
    cfg.host = "127.0.0.1".into();
    cfg.timeout = STALL;
    let e = tls::connect(&cfg, Config::default()).await.unwrap_err();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(matches!(e, ClientError::Timeout(Phase::Tls)), "{e}");
}

#[tokio::test]
async fn rpc_without_reply_names_the_rpc_phase() {
    let (io, mut server) = tokio::io::duplex(1 << 16);
    let server_task = tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        let _ = server.read(&mut buf).await.unwrap();
        server
            .write_all(
                b"<hello xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><capabilities>\
                  <capability>urn:ietf:params:netconf:base:1.0</capability></capabilities>\
                  <session-id>1</session-id></hello>]]>]]>",
            )
            .await
            .unwrap();
        // Read the RPC and never answer; keep the pipe open until the client gives up.
        while server.read(&mut buf).await.is_ok_and(|n| n > 0) {}
    });
    let mut c = Client::handshake(io, Config::default()).await.unwrap();
    c.set_rpc_timeout(Some(STALL));
    let e = c.get(Some(Filter::xpath("/x"))).await.unwrap_err();
    assert!(matches!(e, ClientError::Timeout(Phase::Rpc)), "{e}");
    drop(c);
    server_task.await.unwrap();
}
