//! `tnc-load`: a load generator. N concurrent simulated agents (real PT-TLS with their own
//! certificates, PB-TNC, SWIMA with R records and the OS collector) run full assessments
//! against a manager — by default one started in this process on 127.0.0.1 with an SQLite
//! file in a temporary directory — and it reports assessments/s and latency p50/p99.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;
use if_imc::tokio::{ClientSession, ClientSessionExt};
use imcv::os::{LinuxSource, OsImc, OsPosture, OsSource};
use imcv::swima::{SwimaImc, SwimaImcConfig};
use nea_examples::manager::{ManagerOptions, start};
use nea_examples::pki::Ca;
use nea_wire::{Text, VendorId};
use pt_tls::tokio::tls::{Pem, client_config};
use swima::{Collector, CollectorConfig, DataModelType, InventorySource, MemoryStore, SourceItem};

/// Runs simulated agents against a posture manager and reports throughput and latency.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// An external manager (`HOST:PORT`; then give --ca, --cert, --key: every agent uses that
    /// identity). Without it a manager is started in this process.
    #[arg(long, value_name = "HOST:PORT", requires_all = ["ca", "cert", "key"])]
    connect: Option<String>,
    /// CA of the external manager (PEM).
    #[arg(long, value_name = "PEM")]
    ca: Option<PathBuf>,
    /// Agent certificate for the external manager (PEM).
    #[arg(long, value_name = "PEM")]
    cert: Option<PathBuf>,
    /// Agent key for the external manager (PEM).
    #[arg(long, value_name = "PEM")]
    key: Option<PathBuf>,
    /// Concurrent agents.
    #[arg(long, default_value_t = 10)]
    agents: usize,
    /// Software records per agent inventory.
    #[arg(long, default_value_t = 100)]
    records: usize,
    /// Full assessments in total (each: TCP + TLS handshake, PT-TLS negotiation, a new EID
    /// epoch so the manager asks for and stores the full inventory).
    #[arg(long, default_value_t = 1000)]
    assessments: usize,
}

/// R synthetic SWID tags (the same products on every agent: tags are stored once), built
/// once and shared by every simulated agent.
struct Synthetic(Arc<Vec<SourceItem>>);

impl Synthetic {
    fn items(n: usize) -> Arc<Vec<SourceItem>> {
        Arc::new(
            (0..n)
                .map(|i| SourceItem {
                    data_model: DataModelType {
                        pen: VendorId::IETF,
                        kind: 0,
                    },
                    software_identifier: Text::from(format!("load.example__pkg-{i}")),
                    locator: Text::from(""),
                    record: Bytes::from(format!(
                        "<SoftwareIdentity xmlns=\"http://standards.iso.org/iso/19770/-2/2015/schema.xsd\" name=\"pkg-{i}\" tagId=\"pkg-{i}\" version=\"1.{i}\"><Entity name=\"Load\" regid=\"load.example\" role=\"tagCreator\"/></SoftwareIdentity>"
                    )),
                })
                .collect(),
        )
    }
}

impl InventorySource for Synthetic {
    fn metadata(&self) -> Text {
        Text::from("synthetic inventory")
    }
    fn scan(&mut self) -> Result<Vec<SourceItem>, swima::Error> {
        Ok(self.0.as_ref().clone())
    }
}

struct Target {
    addr: String,
    tls: Vec<Arc<rustls::ClientConfig>>,
    /// This machine's OS posture, read once: every simulated agent reports it (reading
    /// `/var/lib/dpkg/status` per assessment would measure the load tool, not the manager).
    os: OsPosture,
    /// The synthetic inventory every agent reports.
    items: Arc<Vec<SourceItem>>,
}

async fn assess(target: &Target, tls: Arc<rustls::ClientConfig>, epoch: u32) -> Result<(), String> {
    let os = target.os.clone();
    let collector = Collector::open(CollectorConfig::default(), MemoryStore::new(), epoch)
        .map_err(|e| e.to_string())?;
    let swima = SwimaImc::new(
        collector,
        Some(Box::new(Synthetic(target.items.clone()))),
        SwimaImcConfig::default(),
    );
    swima
        .handle()
        .refresh(&nea_examples::clock::datetime20(nea_examples::clock::now()))
        .map_err(|e| e.to_string())?;
    let mut b = if_imc::Broker::new(Default::default());
    b.add_imc("swima", Box::new(swima))
        .map_err(|e| e.to_string())?;
    b.add_imc("os", Box::new(OsImc::new(os)))
        .map_err(|e| e.to_string())?;
    let broker = std::sync::Mutex::new(b);
    let name = rustls::pki_types::ServerName::try_from("localhost").map_err(|e| e.to_string())?;
    let pt = pt_tls::tokio::connect(
        target.addr.as_str(),
        name,
        tls,
        Arc::new(pt_tls::Config::default()),
    )
    .await
    .map_err(|e| e.to_string())?;
    let mut s = ClientSession::start(&broker, pt, Default::default())
        .await
        .map_err(|e| e.to_string())?;
    s.run_until_decision(&broker)
        .await
        .map_err(|e| e.to_string())?;
    let _ = s.close(&broker).await;
    Ok(())
}

/// The `per_mille`-th latency (nearest rank) of a sorted list.
fn percentile(sorted: &[Duration], per_mille: usize) -> Duration {
    let i = (sorted.len().saturating_sub(1) * per_mille + 500) / 1000;
    sorted.get(i).copied().unwrap_or_default()
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("tnc-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut manager = None;
    let os = LinuxSource::new().collect()?;
    let items = Synthetic::items(args.records);
    let target = match &args.connect {
        Some(addr) => {
            let (Some(ca), Some(cert), Some(key)) = (&args.ca, &args.cert, &args.key) else {
                return Err("--connect needs --ca, --cert and --key".into());
            };
            let tls = client_config(&Pem::file(ca), Some((&Pem::file(cert), &Pem::file(key))))?;
            Target {
                addr: addr.clone(),
                tls: vec![tls],
                os,
                items,
            }
        }
        None => {
            let ca = Ca::new("tnc-load CA")?;
            let ca_file = ca.write(&dir, "ca")?;
            let m = ca.leaf(
                &dir,
                "manager",
                "localhost",
                &["localhost", "127.0.0.1"],
                true,
            )?;
            // One source address for every simulated agent: lift the per-source limits.
            let running = start(&ManagerOptions {
                listen: "127.0.0.1:0".into(),
                cert: m.cert,
                key: m.key,
                ca: ca_file.clone(),
                db: dir.join("posture.db"),
                api: "127.0.0.1:0".into(),
                api_token_file: None,
                allow_sasl: None,
                imv_config: None,
                netconf_devices: None,
                limits: pt_tls::tokio::listener::Limits::default()
                    .with_per_source(1_000_000, 100_000),
            })
            .await?;
            let mut tls = Vec::new();
            for i in 0..args.agents.max(1) {
                let cn = format!("agent-{i}.load.example");
                let f = ca.leaf(&dir, &format!("agent-{i}"), &cn, &[cn.as_str()], false)?;
                tls.push(client_config(
                    &Pem::file(&ca_file),
                    Some((&Pem::file(&f.cert), &Pem::file(&f.key))),
                )?);
            }
            let addr = running.pt_addr.to_string();
            manager = Some(running);
            Target {
                addr,
                tls,
                os,
                items,
            }
        }
    };
    let target = Arc::new(target);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..args.agents.max(1) {
        let (target, next) = (target.clone(), next.clone());
        let total = args.assessments;
        workers.spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0usize;
            let tls = target.tls.get(w % target.tls.len()).cloned();
            while next.fetch_add(1, Ordering::Relaxed) < total {
                let Some(tls) = tls.clone() else { break };
                let epoch = u32::try_from(next.load(Ordering::Relaxed)).unwrap_or(0) + 1;
                let t = Instant::now();
                match assess(&target, tls, epoch).await {
                    Ok(()) => lat.push(t.elapsed()),
                    Err(e) => {
                        errors += 1;
                        if errors <= 3 {
                            eprintln!("agent {w}: {e}");
                        }
                    }
                }
            }
            (lat, errors)
        });
    }
    let mut lat = Vec::new();
    let mut errors = 0;
    while let Some(r) = workers.join_next().await {
        let (l, e) = r?;
        lat.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed();
    lat.sort();
    let ok = lat.len();
    println!(
        "agents {}  records {}  assessments {} ok, {} failed  in {:.2} s",
        args.agents,
        args.records,
        ok,
        errors,
        elapsed.as_secs_f64()
    );
    println!(
        "throughput {:.1} assessments/s ({:.0} records/s ingested)  latency p50 {:.1} ms  p99 {:.1} ms",
        ok as f64 / elapsed.as_secs_f64(),
        (ok * args.records) as f64 / elapsed.as_secs_f64(),
        percentile(&lat, 500).as_secs_f64() * 1e3,
        percentile(&lat, 990).as_secs_f64() * 1e3,
    );
    if let Some(m) = manager {
        // Shutting down writes what the repository writer still holds: the figure below
        // counts an assessment only once its records are committed.
        m.shutdown().await;
        let committed = started.elapsed();
        println!(
            "repository caught up in {:.2} s: {:.1} assessments/s committed",
            committed.as_secs_f64(),
            ok as f64 / committed.as_secs_f64()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    if errors > 0 {
        return Err(format!("{errors} assessments failed").into());
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    nea_examples::init_logging("warn");
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tnc-load: {e}");
            ExitCode::FAILURE
        }
    }
}
