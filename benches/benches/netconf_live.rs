//! Live NETCONF benchmarks (`netconf_live/<op>`) against the real netconfd of
//! `scripts/netconfd-up.sh` (yuma123 behind OpenSSH on 127.0.0.1:8830), through
//! netconf-client's async client over SSH, one session, sequential RPCs:
//!
//! - `get_ietf_system`: `<get>` of ietf-system config and state, parsed into `SystemPosture`;
//! - `get_streaming_ietf_system`: the same `<get>` walked while it arrives (`get_streaming`).
//!
//! The server is found through its env file (`$NETCONF_ENV_FILE`, default
//! `/tmp/nea-netconfd-8830/env`). Without it, or when the connection fails, the bench prints
//! why and measures nothing.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use netconf_client::ietf_system::{NS_SYSTEM, SystemPosture};
use netconf_client::ssh::{self, HostKeyPolicy, SshAuth, SshConfig, SshTransport};
use netconf_client::tokio::Client;
use netconf_client::{Config, Filter};
use tokio::runtime::Runtime;

fn env() -> Result<HashMap<String, String>, String> {
    let path = std::env::var("NETCONF_ENV_FILE")
        .unwrap_or_else(|_| "/tmp/nea-netconfd-8830/env".to_owned());
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("{path}: {e} (start the server with scripts/netconfd-up.sh)"))?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect())
}

fn connect(rt: &Runtime) -> Result<Client<SshTransport>, String> {
    let e = env()?;
    let get = |k: &str| {
        e.get(k)
            .cloned()
            .ok_or(format!("{k} missing from the env file"))
    };
    let cfg = SshConfig::new(
        get("NETCONF_HOST")?,
        get("NETCONF_PORT")?
            .parse()
            .map_err(|x| format!("port: {x}"))?,
        get("NETCONF_USER")?,
        SshAuth::Password(get("NETCONF_PASSWORD")?),
        HostKeyPolicy::KnownHosts(get("NETCONF_KNOWN_HOSTS")?.into()),
    );
    rt.block_on(async {
        tokio::time::timeout(
            Duration::from_secs(20),
            ssh::connect(&cfg, Config::default()),
        )
        .await
        .map_err(|_| "no NETCONF hello within 20 s".to_owned())?
        .map_err(|e| format!("connect: {e}"))
    })
}

fn system_filter() -> Filter {
    Filter::Subtree(format!(
        "<system xmlns=\"{NS_SYSTEM}\"/><system-state xmlns=\"{NS_SYSTEM}\"/>"
    ))
}

fn bench(c: &mut Criterion) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return eprintln!("netconf_live: skipped: no tokio runtime: {e}"),
    };
    let mut client = match connect(&rt) {
        Ok(cl) => cl,
        Err(e) => return eprintln!("netconf_live: skipped: NETCONF server not reachable: {e}"),
    };
    let mut g = c.benchmark_group("netconf_live");
    g.throughput(Throughput::Elements(1)); // RPCs: request sent, reply received and read
    g.bench_function("get_ietf_system", |b| {
        b.iter(|| {
            rt.block_on(async {
                let d = client.get(Some(system_filter())).await.ok()?;
                black_box(SystemPosture::from_data(&d).ok())
            })
        })
    });
    g.bench_function("get_streaming_ietf_system", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut n = 0usize;
                let _ = client
                    .get_streaming(Some(system_filter()), |_, _| n += 1)
                    .await;
                black_box(n)
            })
        })
    });
    g.finish();
    let _ = rt.block_on(client.close());
}

criterion_group!(benches, bench);
criterion_main!(benches);
