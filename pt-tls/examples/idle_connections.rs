//! Server memory per idle PT-TLS connection (mutual TLS, Data Transport, a task waiting in
//! `recv`), as a posture manager holding thousands of connected endpoints sees it.
//!
//! ```text
//! ulimit -n 16384
//! cargo run --release -p pt-tls --features tokio --example idle_connections -- 5000
//! ```
//!
//! The process listens on 127.0.0.1 with `pt_tls::tokio::listener::Listener`, starts itself
//! again as the client side (a separate process, so its memory does not count), waits until
//! every connection is established, and prints the growth of its resident set size (Linux
//! `/proc/self/status`) divided by the number of connections, after a warm-up of 200, and
//! how fast the connections were set up (the client connects one after the other).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use pt_tls::tokio::listener::{Limits, Listener};
use pt_tls::tokio::tls::{ClientCertificates, Pem, client_config, server_config};
use pt_tls::tokio::{Received, connect};
use pt_tls::{Config, SaslPolicy};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

const WARM_UP: usize = 200;

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Writes ca.pem, server.pem/key, client.pem/key into `dir`.
fn make_pki(dir: &Path) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "bench CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    for (name, dns, eku) in [
        ("server", "localhost", ExtendedKeyUsagePurpose::ServerAuth),
        (
            "client",
            "endpoint.example",
            ExtendedKeyUsagePurpose::ClientAuth,
        ),
    ] {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(vec![dns.to_owned()]).unwrap();
        p.distinguished_name.push(DnType::CommonName, dns);
        p.extended_key_usages = vec![eku];
        let cert = p.signed_by(&key, &issuer).unwrap();
        std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).unwrap();
        std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).unwrap();
    }
}

fn config() -> Arc<Config> {
    Arc::new(Config::default().with_sasl_policy(SaslPolicy::Never))
}

/// The client process: opens `n` connections to `addr`, then waits for stdin to close.
async fn clients(dir: PathBuf, addr: String, n: usize) {
    let tls = client_config(
        &Pem::file(dir.join("ca.pem")),
        Some((
            &Pem::file(dir.join("client.pem")),
            &Pem::file(dir.join("client.key")),
        )),
    )
    .unwrap();
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        held.push(
            connect(addr.as_str(), name, tls.clone(), config())
                .await
                .unwrap(),
        );
    }
    // Hold them until the parent is done (it closes our stdin).
    let mut sink = String::new();
    let _ = tokio::task::spawn_blocking(move || std::io::stdin().read_line(&mut sink)).await;
    drop(held);
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--client") {
        let n = args[4].parse().unwrap();
        return clients(PathBuf::from(&args[2]), args[3].clone(), n).await;
    }
    let n: usize = args
        .get(1)
        .map_or(2000, |a| a.parse().expect("number of connections"));
    let dir = std::env::temp_dir().join(format!("pt-tls-idle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    make_pki(&dir);
    let tls = server_config(
        &Pem::file(dir.join("ca.pem")),
        &Pem::file(dir.join("server.pem")),
        &Pem::file(dir.join("server.key")),
        ClientCertificates::Required,
    )
    .unwrap();
    let limits = Limits::default().with_per_source(n + WARM_UP, 64);
    let mut listener = Listener::bind("127.0.0.1:0", tls, config(), limits)
        .await
        .unwrap();
    let addr = listener.local_addr().to_string();
    let established = Arc::new(AtomicUsize::new(0));

    let spawn_clients = |count: usize| {
        std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--client", dir.to_str().unwrap(), &addr, &count.to_string()])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let accept_until = async |listener: &mut Listener, total: usize| {
        while established.load(Ordering::Relaxed) < total {
            let (mut conn, _) = listener.accept().await.unwrap();
            established.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(async move {
                // Idle: waiting for the next batch, as a manager between assessments.
                while let Ok(Received::Batch(_)) = conn.recv().await {}
            });
        }
    };

    let mut warm = spawn_clients(WARM_UP);
    accept_until(&mut listener, WARM_UP).await;
    let before = rss_kib();
    let start = std::time::Instant::now();
    let mut main_clients = spawn_clients(n);
    accept_until(&mut listener, WARM_UP + n).await;
    let secs = start.elapsed().as_secs_f64();
    // Let the last handshakes' transient buffers go.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let after = rss_kib();
    let n_u64 = u64::try_from(n).unwrap();
    println!(
        "{n} idle mutual-TLS PT-TLS connections: server RSS {before} KiB -> {after} KiB, \
         {:.1} KiB per connection; established in {secs:.2} s ({:.0}/s, TCP + TLS 1.3 + \
         PT-TLS negotiation, one client after the other, client process start included)",
        (after.saturating_sub(before)) as f64 / n_u64 as f64,
        n_u64 as f64 / secs
    );
    drop(main_clients.stdin.take());
    drop(warm.stdin.take());
    let _ = main_clients.wait();
    let _ = warm.wait();
    listener.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
