//! Round-trip benchmark against the real netconfd of `scripts/netconfd-up.sh` (not a test):
//! sequential `<get>` of ietf-system through this crate's async client, against a bare
//! hand-framed client over the same russh transport (the floor).
//!
//! ```text
//! scripts/netconfd-up.sh
//! cargo run --release -p netconf-client --features ssh --example netconfd-rtt [N]
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::time::Instant;

use netconf_client::ietf_system::{NS_SYSTEM, SystemPosture};
use netconf_client::ssh::{self, HostKeyPolicy, SshAuth, SshConfig};
use netconf_client::{Config, Filter};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn env() -> HashMap<String, String> {
    let path = std::env::var("NETCONF_ENV_FILE")
        .unwrap_or_else(|_| "/tmp/nea-netconfd-8830/env".to_owned());
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e} (run scripts/netconfd-up.sh)"))
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    let e = env();
    let cfg = SshConfig::new(
        &e["NETCONF_HOST"],
        e["NETCONF_PORT"].parse().unwrap(),
        &e["NETCONF_USER"],
        SshAuth::Password(e["NETCONF_PASSWORD"].clone()),
        HostKeyPolicy::KnownHosts(e["NETCONF_KNOWN_HOSTS"].clone().into()),
    );
    let filter = || {
        Filter::Subtree(format!(
            "<system xmlns=\"{NS_SYSTEM}\"/><system-state xmlns=\"{NS_SYSTEM}\"/>"
        ))
    };

    // this crate: typed get + ietf-system parse
    let mut c = ssh::connect(&cfg, Config::default()).await.unwrap();
    for _ in 0..50 {
        c.get(Some(filter())).await.unwrap();
    }
    let t = Instant::now();
    for _ in 0..n {
        let d = c.get(Some(filter())).await.unwrap();
        let p = SystemPosture::from_data(&d).unwrap();
        assert!(p.hostname.is_some());
    }
    let ours = t.elapsed().as_secs_f64() * 1e3 / n as f64;
    c.close().await.unwrap();

    // floor: hand-framed bytes over the same russh channel, reply framing scanned only
    let mut s = ssh::open(&cfg).await.unwrap();
    let hello = "<?xml version=\"1.0\"?><hello xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><capabilities><capability>urn:ietf:params:netconf:base:1.1</capability></capabilities></hello>]]>]]>";
    s.write_all(hello.as_bytes()).await.unwrap();
    s.flush().await.unwrap();
    let mut buf = vec![0u8; 65536];
    let mut acc = Vec::new();
    while !acc.windows(6).any(|w| w == b"]]>]]>") {
        let k = s.read(&mut buf).await.unwrap();
        assert!(k > 0);
        acc.extend_from_slice(&buf[..k]);
    }
    let body = format!(
        "<rpc message-id=\"1\" xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><get><filter type=\"subtree\"><system xmlns=\"{NS_SYSTEM}\"/><system-state xmlns=\"{NS_SYSTEM}\"/></filter></get></rpc>"
    );
    let rpc = format!("\n#{}\n{}\n##\n", body.len(), body);
    let mut round = async |s: &mut ssh::SshTransport| {
        s.write_all(rpc.as_bytes()).await.unwrap();
        s.flush().await.unwrap();
        let mut tail: Vec<u8> = Vec::new();
        loop {
            let k = s.read(&mut buf).await.unwrap();
            assert!(k > 0);
            tail.extend_from_slice(&buf[..k]);
            if tail.ends_with(b"\n##\n") {
                break;
            }
            let keep = tail.len().saturating_sub(4);
            tail.drain(..keep);
        }
    };
    for _ in 0..50 {
        round(&mut s).await;
    }
    let t = Instant::now();
    for _ in 0..n {
        round(&mut s).await;
    }
    let floor = t.elapsed().as_secs_f64() * 1e3 / n as f64;
    println!(
        "sequential <get> of ietf-system, {n} round trips: netconf-client {ours:.3} ms, bare hand-framed floor {floor:.3} ms, ratio {:.2}",
        ours / floor
    );
}
