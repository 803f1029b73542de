//! `tnc-load`: a load generator. N concurrent simulated agents (real PT-TLS with their own
//! certificates, PB-TNC, SWIMA with R records and the OS collector) run full assessments
//! against a manager — by default one started in this process on 127.0.0.1 with an SQLite
//! file in a temporary directory; or several sharing one PostgreSQL repository — and it
//! reports assessments/s and latency p50/p99.

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
use nea_examples::http::metric;
use nea_examples::manager::{ManagerOptions, start};
use nea_examples::pki::Ca;
use nea_wire::{Text, VendorId};
use pt_tls::tokio::PtTlsConnection;
use pt_tls::tokio::tls::{Pem, client_config};
use swima::{Collector, CollectorConfig, DataModelType, InventorySource, MemoryStore, SourceItem};
use tokio::net::TcpStream;

/// mimalloc: glibc malloc was ~18 % of the manager's and agents' CPU under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// After the timed assessments, connect this many more agents that stay connected
    /// (each after its full assessment) and report the manager's memory per idle agent.
    /// The manager then runs as a child process (`tnc-manager` beside this binary) so its
    /// memory is its own. Each agent uses its own source address in 127.1.0.0/16.
    #[arg(long, value_name = "N")]
    idle: Option<usize>,
    /// The repository of the managers this tool starts: an SQLite file or a `postgres://`
    /// URL (default: an SQLite file in a temporary directory).
    #[arg(long, value_name = "FILE|URL", conflicts_with = "connect")]
    db: Option<String>,
    /// Managers started in this process, all on --db (more than one needs a `postgres://`
    /// URL, which they share); the agents take turns over them.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1,
        conflicts_with = "connect"
    )]
    managers: usize,
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
    /// The managers' PT-TLS addresses; agent `i` uses `addrs[i % len]`.
    addrs: Vec<std::net::SocketAddr>,
    tls: Vec<Arc<rustls::ClientConfig>>,
    /// This machine's OS posture, read once: every simulated agent reports it (reading
    /// `/var/lib/dpkg/status` per assessment would measure the load tool, not the manager).
    os: OsPosture,
    /// The synthetic inventory every agent reports.
    items: Arc<Vec<SourceItem>>,
}

/// A loopback source address for agent `i` (127.1.0.1 … 127.1.249.250): per-source limits
/// of the manager then apply per agent, as with real endpoints.
fn source(i: usize) -> std::net::IpAddr {
    let (hi, lo) = ((i / 250) % 250, i % 250 + 1);
    std::net::IpAddr::V4(std::net::Ipv4Addr::new(
        127,
        1,
        u8::try_from(hi).unwrap_or(0),
        u8::try_from(lo).unwrap_or(1),
    ))
}

/// TCP from agent `i`'s source address, TLS, PT-TLS negotiation.
async fn connect(
    target: &Target,
    tls: Arc<rustls::ClientConfig>,
    i: usize,
) -> Result<PtTlsConnection<TcpStream>, String> {
    let e = |e: std::io::Error| e.to_string();
    let socket = tokio::net::TcpSocket::new_v4().map_err(e)?;
    socket
        .bind(std::net::SocketAddr::new(source(i), 0))
        .map_err(e)?;
    let addr = target
        .addrs
        .get(i % target.addrs.len().max(1))
        .ok_or("no manager address")?;
    let tcp = socket.connect(*addr).await.map_err(e)?;
    tcp.set_nodelay(true).map_err(e)?;
    let name = rustls::pki_types::ServerName::try_from("localhost").map_err(|e| e.to_string())?;
    let stream = tokio_rustls::TlsConnector::from(tls)
        .connect(name, tcp)
        .await
        .map_err(e)?;
    PtTlsConnection::client(Arc::new(pt_tls::Config::default()), stream)
        .await
        .map_err(|e| e.to_string())
}

/// A connected agent after its assessment: the broker and the open session.
type Kept = (std::sync::Mutex<if_imc::Broker>, ClientSession<TcpStream>);

/// One full assessment by agent `i` (a new EID epoch: the manager stores the whole
/// inventory); `keep` leaves the session open and returns it.
async fn assess(
    target: &Target,
    tls: Arc<rustls::ClientConfig>,
    i: usize,
    epoch: u32,
    keep: bool,
) -> Result<Option<Kept>, String> {
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
    let pt = connect(target, tls, i).await?;
    let mut s = ClientSession::start(&broker, pt, Default::default())
        .await
        .map_err(|e| e.to_string())?;
    s.run_until_decision(&broker)
        .await
        .map_err(|e| e.to_string())?;
    if keep {
        return Ok(Some((broker, s)));
    }
    let _ = s.close(&broker).await;
    Ok(None)
}

/// The `per_mille`-th latency (nearest rank) of a sorted list.
fn percentile(sorted: &[Duration], per_mille: usize) -> Duration {
    let i = (sorted.len().saturating_sub(1) * per_mille + 500) / 1000;
    sorted.get(i).copied().unwrap_or_default()
}

/// The manager under load: in this process, or a `tnc-manager` child process (killed on
/// drop) whose memory can be read apart from the load tool's.
enum Manager {
    InProcess(Vec<nea_examples::manager::RunningManager>),
    Child(ChildManager),
}

/// A `tnc-manager` child process and its API address.
struct ChildManager {
    child: std::process::Child,
    api: std::net::SocketAddr,
}

impl Drop for ChildManager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `tnc-manager` (beside this binary) and reads its `LISTENING` and `API` lines.
fn spawn_manager(
    db: &str,
    ca: &std::path::Path,
    m: &nea_examples::pki::Files,
) -> Result<(Manager, std::net::SocketAddr), Box<dyn std::error::Error>> {
    use std::io::BufRead;
    let exe = std::env::current_exe()?.with_file_name("tnc-manager");
    let mut child = std::process::Command::new(&exe)
        .args(["--listen", "127.0.0.1:0", "--api", "127.0.0.1:0"])
        .arg("--cert")
        .arg(&m.cert)
        .arg("--key")
        .arg(&m.key)
        .arg("--ca")
        .arg(ca)
        .args(["--db", db])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", exe.display()))?;
    let out = child.stdout.take().ok_or("no stdout")?;
    let mut lines = std::io::BufReader::new(out).lines();
    let mut next = |prefix: &str| -> Result<std::net::SocketAddr, Box<dyn std::error::Error>> {
        let line = lines.next().ok_or("tnc-manager exited")??;
        Ok(line
            .strip_prefix(prefix)
            .ok_or_else(|| format!("tnc-manager printed {line:?}"))?
            .trim()
            .parse()?)
    };
    let (pt, api) = match (next("LISTENING "), next("API ")) {
        (Ok(pt), Ok(api)) => (pt, api),
        (Err(e), _) | (_, Err(e)) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
    };
    Ok((Manager::Child(ChildManager { child, api }), pt))
}

/// Resident memory of a process in KiB (Linux `/proc`).
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("tnc-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = load(&args, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn load(args: &Args, dir: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let os = LinuxSource::new().collect()?;
    let items = Synthetic::items(args.records);
    let idle = args.idle.unwrap_or(0);
    let (target, mut manager) = match &args.connect {
        Some(addr) => {
            let (Some(ca), Some(cert), Some(key)) = (&args.ca, &args.cert, &args.key) else {
                return Err("--connect needs --ca, --cert and --key".into());
            };
            if args.idle.is_some() {
                return Err("--idle measures the manager this tool starts: drop --connect".into());
            }
            let tls = client_config(&Pem::file(ca), Some((&Pem::file(cert), &Pem::file(key))))?;
            let addr = tokio::net::lookup_host(addr.as_str())
                .await?
                .next()
                .ok_or("--connect: no address")?;
            let target = Target {
                addrs: vec![addr],
                tls: vec![tls],
                os,
                items,
            };
            (target, None)
        }
        None => {
            let ca = Ca::new("tnc-load CA")?;
            let ca_file = ca.write(dir, "ca")?;
            let m = ca.leaf(
                dir,
                "manager",
                "localhost",
                &["localhost", "127.0.0.1"],
                true,
            )?;
            let db = args
                .db
                .clone()
                .unwrap_or_else(|| dir.join("posture.db").display().to_string());
            if args.managers > 1 && !posture_repository::is_postgres_url(&db) {
                return Err("--managers over 1 needs --db postgres://… (they share it)".into());
            }
            let (manager, addrs) = if args.idle.is_some() {
                if args.managers > 1 {
                    return Err("--idle measures one manager: drop --managers".into());
                }
                let (manager, addr) = spawn_manager(&db, &ca_file, &m)?;
                (manager, vec![addr])
            } else {
                let mut running = Vec::new();
                for _ in 0..args.managers.max(1) {
                    running.push(
                        start(&ManagerOptions {
                            listen: "127.0.0.1:0".into(),
                            cert: m.cert.clone(),
                            key: m.key.clone(),
                            ca: ca_file.clone(),
                            db: db.clone(),
                            api: "127.0.0.1:0".into(),
                            api_token_file: None,
                            allow_sasl: None,
                            imv_config: None,
                            netconf_devices: None,
                            limits: pt_tls::tokio::listener::Limits::default(),
                        })
                        .await?,
                    );
                }
                let addrs = running.iter().map(|r| r.pt_addr).collect();
                (Manager::InProcess(running), addrs)
            };
            // One certificate (and endpoint identity) per simulated agent.
            let mut tls = Vec::new();
            for i in 0..args.agents.max(1) + idle {
                let cn = format!("agent-{i}.load.example");
                let f = ca.leaf(dir, &format!("agent-{i}"), &cn, &[cn.as_str()], false)?;
                tls.push(client_config(
                    &Pem::file(&ca_file),
                    Some((&Pem::file(&f.cert), &Pem::file(&f.key))),
                )?);
            }
            let target = Target {
                addrs,
                tls,
                os,
                items,
            };
            (target, Some(manager))
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
                match assess(&target, tls, w, epoch, false).await {
                    Ok(_) => lat.push(t.elapsed()),
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
    // An assessment counts once its records are committed: wait for the repository writer.
    let committed = match &mut manager {
        Some(Manager::InProcess(_)) => {
            if let Some(Manager::InProcess(all)) = manager.take() {
                for m in all {
                    m.shutdown().await;
                }
            }
            Some(started.elapsed())
        }
        Some(Manager::Child(ChildManager { api, .. })) => {
            let api = *api;
            loop {
                match metric(api, "tnc_repository_queue").await {
                    Some(0) => break Some(started.elapsed()),
                    Some(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                    None => break None,
                }
            }
        }
        None => None,
    };
    if let Some(c) = committed {
        println!(
            "repository caught up in {:.2} s: {:.1} assessments/s committed",
            c.as_secs_f64(),
            ok as f64 / c.as_secs_f64()
        );
    }
    if let Some(Manager::Child(ChildManager { child, api })) = &manager {
        errors += idle_agents(args, &target, child.id(), *api).await?;
    }
    drop(manager);
    if errors > 0 {
        return Err(format!("{errors} assessments failed").into());
    }
    Ok(())
}

/// Connects `--idle` agents that stay connected, then reports the manager's memory growth
/// per idle agent; returns the failures.
async fn idle_agents(
    args: &Args,
    target: &Arc<Target>,
    pid: u32,
    api: std::net::SocketAddr,
) -> Result<usize, Box<dyn std::error::Error>> {
    let n = args.idle.unwrap_or(0);
    let first = args.agents.max(1);
    let before = rss_kib(pid).ok_or("manager memory unreadable")?;
    let open_before = metric(api, "tnc_sessions_open").await.unwrap_or(0);
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..args.agents.max(1) {
        let (target, next) = (target.clone(), next.clone());
        workers.spawn(async move {
            let mut kept = Vec::new();
            let mut errors = 0usize;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let Some(tls) = target.tls.get(first + i).cloned() else {
                    break;
                };
                match assess(&target, tls, first + i, 1, true).await {
                    Ok(Some(k)) => kept.push(k),
                    Ok(None) => {}
                    Err(e) => {
                        errors += 1;
                        if errors <= 3 {
                            eprintln!("idle agent {i}: {e}");
                        }
                    }
                }
            }
            (kept, errors)
        });
    }
    let mut kept = Vec::new();
    let mut errors = 0;
    while let Some(r) = workers.join_next().await {
        let (k, e) = r?;
        kept.extend(k);
        errors += e;
    }
    let connected = started.elapsed();
    // Let the manager finish writing and settle before reading its memory.
    while metric(api, "tnc_repository_queue").await.unwrap_or(0) > 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(pid).ok_or("manager memory unreadable")?;
    let open = metric(api, "tnc_sessions_open").await.unwrap_or(0);
    let per = after.saturating_sub(before) as f64 / kept.len().max(1) as f64;
    println!(
        "idle agents {} connected, {} failed, in {:.1} s  manager sessions open {} -> {}",
        kept.len(),
        errors,
        connected.as_secs_f64(),
        open_before,
        open
    );
    println!("manager memory {before} KiB -> {after} KiB: {per:.1} KiB per idle connected agent");
    drop(kept);
    Ok(errors)
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
