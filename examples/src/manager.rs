//! `tnc-manager`: the posture manager's wiring. A PT-TLS listener (mutual TLS), the server
//! broker with the SWIMA and OS verifiers, the posture repository (SQLite, or PostgreSQL
//! shared by several managers), the evaluator, and the HTTP API.

mod api;
pub mod devices;
mod evaluation;
mod events;
mod guidance;
pub mod reassess;
mod sink;
mod webhooks;
mod writer;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use if_imv::tokio::{ServerSession, ServerSessionExt, ar_identities};
use if_imv::{ActionRecommendation, RetryReason};
use imcv::os::{OsImv, OsPolicy};
use imcv::swima::{SwimaImv, SwimaImvConfig};
use posture_repository::{NewSession, PostureStore, Repository, fingerprint};
use pt_tls::tokio::PtTlsConnection;
use pt_tls::tokio::listener::{Limits, Listener};
use pt_tls::tokio::tls::{ClientCertificates, Pem, server_config};
use swima::ValidatorConfig;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use writer::Writer;

use evaluation::{Evaluation, EvaluatorPolicy, OsAttributes};
use reassess::{Request, Router};

pub use api::{Role, Tokens};
pub use sink::RepoSink;
pub use webhooks::signature as webhook_signature;

use crate::clock;

/// The manager's settings (the command line of `tnc-manager`).
#[derive(Debug, Clone)]
pub struct ManagerOptions {
    /// PT-TLS listen address (port 0 picks one).
    pub listen: String,
    /// Server certificate chain (PEM).
    pub cert: PathBuf,
    /// Server private key (PEM).
    pub key: PathBuf,
    /// CA certificates client certificates must chain to (PEM).
    pub ca: PathBuf,
    /// The repository: an SQLite file, or a `postgres://` URL (a database several managers
    /// share).
    pub db: String,
    /// HTTP API listen address.
    pub api: String,
    /// Bearer tokens of the API (`TOKEN read|admin` per line).
    pub api_token_file: Option<PathBuf>,
    /// The PT-TLS listener's limits (per source address and overall).
    pub limits: Limits,
    /// `(user, secret)` accepted over SASL PLAIN from a client without a certificate
    /// (client certificates become optional; discouraged).
    pub allow_sasl: Option<(String, String)>,
    /// C IMVs to host, from a `tnc_config` file (`IMV "name" path` lines).
    pub imv_config: Option<PathBuf>,
    /// Network devices to poll over NETCONF (the JSON file [`devices`] describes).
    pub netconf_devices: Option<PathBuf>,
}

/// Checks SASL PLAIN credentials against the one configured user.
struct OnePlainUser(String, String);

impl pt_tls::CredentialCheck for OnePlainUser {
    fn check_plain(&self, authzid: &str, authcid: &str, password: &str) -> bool {
        // Compare every byte whatever the first difference (no early exit on the secret).
        let same = |a: &str, b: &str| {
            a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
        };
        (authzid.is_empty() || authzid == authcid)
            & same(authcid, &self.0)
            & same(password, &self.1)
    }
}

/// Errors of starting the manager.
#[derive(Debug, thiserror::Error)]
pub enum ManagerError {
    /// `--imv-config` could not be read, or a C IMV in it could not be loaded.
    #[error("--imv-config: {0}")]
    CPlugin(#[from] if_imv::ffi::LoadError),
    /// The TLS configuration (certificate, key, CA) is unusable.
    #[error("TLS: {0}")]
    Tls(#[from] pt_tls::tokio::tls::TlsConfigError),
    /// The repository could not be opened.
    #[error("repository {path}: {source}")]
    Repository {
        /// The file or URL (without its password).
        path: String,
        /// Why.
        source: posture_repository::Error,
    },
    /// The guidance in the repository could not be loaded.
    #[error("evaluator: {0}")]
    Evaluator(#[from] posture_evaluator::EvalError),
    /// A listener could not bind.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// The token file is unreadable or malformed.
    #[error("API token file {path}: {reason}")]
    Tokens {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The repository writer thread could not be started.
    #[error("repository writer thread: {0}")]
    Writer(std::io::Error),
    /// A plugin could not be registered.
    #[error("broker: {0}")]
    Broker(String),
    /// The `--netconf-devices` file is unreadable or malformed.
    #[error("--netconf-devices {0}")]
    Devices(#[from] devices::DeviceFileError),
}

/// Counters served at `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Sessions accepted.
    pub sessions: AtomicU64,
    /// Sessions open now.
    pub sessions_open: AtomicU64,
    /// Assessments decided.
    pub assessments: AtomicU64,
    /// Software records and events ingested.
    pub records: AtomicU64,
    /// Full tags asked for by targeted request (identifiers the repository held no tag for).
    pub tags_requested: AtomicU64,
    /// Jobs waiting for the repository writer.
    pub writer_queue: AtomicU64,
    /// Errors (transport, repository).
    pub errors: AtomicU64,
    /// NETCONF device polls.
    pub device_polls: AtomicU64,
    /// NETCONF device polls that failed.
    pub device_poll_errors: AtomicU64,
    /// Evaluation results that changed (stored by the evaluator).
    pub evaluations: AtomicU64,
    /// Re-assessments requested because an evaluation changed the recommendation.
    pub reassessments: AtomicU64,
}

/// A command for one connected endpoint's session task.
#[derive(Debug)]
pub enum Command {
    /// Start a server-initiated handshake retry (profile §2.2.4).
    Reassess(Request),
}

/// What the API shares with the sessions.
pub(crate) struct State {
    pub(crate) repo: Arc<dyn Repository>,
    pub(crate) metrics: Arc<Metrics>,
    /// The sessions' command channels, and the way to other managers' sessions.
    pub(crate) router: Arc<Router>,
    /// The evaluator and the store it works on.
    pub(crate) eval: Arc<Evaluation>,
    pub(crate) tokens: Tokens,
    /// The network devices polled over NETCONF.
    pub(crate) devices: devices::Devices,
    /// The repository writer thread.
    pub(crate) writer: Arc<Writer>,
    /// The event log and its subscribers' wake-up.
    pub(crate) events: Arc<events::Hub>,
    /// Webhooks.
    pub(crate) webhooks: webhooks::Webhooks,
}

/// A running manager.
#[derive(Debug)]
pub struct RunningManager {
    /// The PT-TLS address it listens on.
    pub pt_addr: SocketAddr,
    /// The HTTP API address.
    pub api_addr: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    writer: Arc<Writer>,
    listener: Option<std::thread::JoinHandle<()>>,
}

impl RunningManager {
    /// Stops accepting, closes the sessions and the API, waits for them, and writes what the
    /// repository writer still holds.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        let writer = self.writer;
        let listener = self.listener;
        let _ = tokio::task::spawn_blocking(move || {
            writer.close();
            if let Some(l) = listener {
                let _ = l.join();
            }
        })
        .await;
    }
}

/// The manager instance name stored with its sessions: host name and listen address, so
/// managers sharing a repository each close only their own sessions when they restart.
fn instance(listen: &str, bound: SocketAddr) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    // With port 0 the bound port names it (a restart gets a new name).
    let addr = if listen.ends_with(":0") {
        bound.to_string()
    } else {
        listen.to_owned()
    };
    format!("tnc-manager@{host}/{addr}")
}

/// The repository target for messages: an URL without its password.
fn redacted(db: &str) -> String {
    if !posture_repository::is_postgres_url(db) {
        return db.to_owned();
    }
    match (db.find("://"), db.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let user = &db[s + 3..at];
            match user.split_once(':') {
                Some((u, _)) => format!("{}{u}:***{}", &db[..s + 3], &db[at..]),
                None => db.to_owned(),
            }
        }
        _ => db.to_owned(),
    }
}

/// How often the evaluator looks for endpoints that became stale.
const TICK: std::time::Duration = std::time::Duration::from_secs(60);

/// Opens the repository, binds both listeners and starts serving.
pub async fn start(opts: &ManagerOptions) -> Result<RunningManager, ManagerError> {
    let tls = server_config(
        &Pem::file(&opts.ca),
        &Pem::file(&opts.cert),
        &Pem::file(&opts.key),
        if opts.allow_sasl.is_some() {
            ClientCertificates::Optional
        } else {
            ClientCertificates::Required
        },
    )?;
    let mut pt_config = pt_tls::Config::default();
    if let Some((user, secret)) = &opts.allow_sasl {
        pt_config.server_mechanisms = vec![Arc::new(pt_tls::PlainServer::new(Arc::new(
            OnePlainUser(user.clone(), secret.clone()),
        )))];
        pt_config.sasl_policy = pt_tls::SaslPolicy::UnlessCertificate;
    }
    let db = opts.db.clone();
    let store: Arc<dyn PostureStore> = tokio::task::spawn_blocking(move || {
        posture_repository::open_store(&db, posture_repository::Limits::default())
    })
    .await
    .map_err(|e| ManagerError::Broker(format!("repository open: {e}")))?
    .map_err(|source| ManagerError::Repository {
        path: redacted(&opts.db),
        source,
    })?;
    let hub = events::Hub::new(store.clone());
    let repo: Arc<dyn Repository> = store.clone();
    let tokens = match &opts.api_token_file {
        Some(p) => Tokens::load(p)?,
        None => Tokens::default(),
    };
    let device_list = match &opts.netconf_devices {
        Some(p) => devices::load(p)?,
        None => Vec::new(),
    };
    let metrics = Arc::new(Metrics::default());
    let router = Router::new(store.clone());
    let eval = {
        let (store, hub, router, metrics) =
            (store.clone(), hub.clone(), router.clone(), metrics.clone());
        tokio::task::spawn_blocking(move || Evaluation::load(store, hub, router, metrics))
            .await
            .map_err(|e| ManagerError::Broker(format!("evaluator load: {e}")))??
    };
    let writer = Writer::start(repo.clone(), metrics.clone(), hub.clone(), eval.clone())
        .map_err(ManagerError::Writer)?;
    let broker = Arc::new(Mutex::new(if_imv::Broker::new(Default::default())));
    {
        let mut b = broker
            .lock()
            .map_err(|_| ManagerError::Broker("poisoned".into()))?;
        let swima = SwimaImv::new(
            RepoSink::new(repo.clone(), writer.clone(), metrics.clone()),
            // Identifiers only; full tags by targeted request for those not held yet.
            SwimaImvConfig {
                validator: ValidatorConfig::default().with_full_records(false),
                ..SwimaImvConfig::default()
            },
        )
        // The recommendation is the evaluator's (guidance in the repository).
        .with_policy(EvaluatorPolicy::new(eval.clone(), writer.clone()));
        b.add_imv("swima", Box::new(swima))
            .map_err(|e| ManagerError::Broker(e.to_string()))?;
        let os = OsImv::new(OsAttributes::new(writer.clone()), OsPolicy::default());
        b.add_imv("os", Box::new(os))
            .map_err(|e| ManagerError::Broker(e.to_string()))?;
        if let Some(path) = &opts.imv_config {
            let config = if_imv::ffi::TncConfig::read(path)?;
            for loaded in if_imv::ffi::load_imvs(&mut b, &config) {
                let id = loaded?;
                tracing::info!(?id, "C IMV loaded");
            }
        }
    }
    let state = Arc::new(State {
        repo,
        metrics,
        router: router.clone(),
        eval,
        tokens,
        devices: devices::Devices::new(device_list),
        writer: writer.clone(),
        events: hub,
        webhooks: webhooks::Webhooks::default(),
    });
    let mut listener = Listener::bind(
        opts.listen.as_str(),
        tls,
        Arc::new(pt_config),
        opts.limits.clone(),
    )
    .await
    .map_err(|source| ManagerError::Bind {
        addr: opts.listen.clone(),
        source,
    })?;
    let pt_addr = listener.local_addr();
    let instance = Arc::<str>::from(instance(&opts.listen, pt_addr));
    {
        let (repo, instance) = (state.repo.clone(), instance.clone());
        let closed = tokio::task::spawn_blocking(move || {
            repo.close_open_sessions(&instance, clock::now(), "manager restarted")
        })
        .await;
        if let Ok(Err(e)) = closed {
            tracing::warn!(error = %e, "sessions of the previous run not closed");
        }
    }
    let api_listener = tokio::net::TcpListener::bind(opts.api.as_str())
        .await
        .map_err(|source| ManagerError::Bind {
            addr: opts.api.clone(),
            source,
        })?;
    let api_addr = api_listener
        .local_addr()
        .map_err(|source| ManagerError::Bind {
            addr: opts.api.clone(),
            source,
        })?;
    let (stop, stopped) = watch::channel(false);
    state.events.stop_on(stopped.clone());
    let signal_listener = router
        .listen(stopped.clone())
        .map_err(ManagerError::Writer)?;
    let tick_task = {
        let (writer, mut stop) = (writer.clone(), stopped.clone());
        tokio::spawn(async move {
            let mut since = clock::now();
            let mut every = tokio::time::interval(TICK);
            every.tick().await;
            loop {
                tokio::select! {
                    _ = every.tick() => {
                        let now = clock::now();
                        writer.submit(writer::Job::Tick { since, now });
                        since = now;
                    }
                    () = crate::stopped(&mut stop) => break,
                }
            }
        })
    };

    let mut api_stop = stopped.clone();
    let app = api::router(state.clone());
    let api_task = tokio::spawn(async move {
        let r = axum::serve(api_listener, app)
            .with_graceful_shutdown(async move {
                crate::stopped(&mut api_stop).await;
            })
            .await;
        if let Err(e) = r {
            tracing::error!(error = %e, "HTTP API stopped");
        }
    });

    let devices_task = devices::spawn(&state, &stopped);
    let mut accept_stop = stopped.clone();
    let accept_task = tokio::spawn(async move {
        let mut sessions = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                () = crate::stopped(&mut accept_stop) => break,
                next = listener.accept() => match next {
                    Some((pt, peer)) => {
                        sessions.spawn(session(
                            state.clone(), broker.clone(), pt, peer, stopped.clone(),
                            instance.clone(),
                        ));
                    }
                    None => break,
                },
                Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
            }
        }
        listener.shutdown().await;
        while sessions.join_next().await.is_some() {}
    });
    tracing::info!(%pt_addr, %api_addr, "manager listening");
    Ok(RunningManager {
        pt_addr,
        api_addr,
        stop,
        tasks: vec![accept_task, api_task, devices_task, tick_task],
        writer,
        listener: signal_listener,
    })
}

fn recommendation_word(r: ActionRecommendation) -> &'static str {
    match r {
        ActionRecommendation::Allow => "allow",
        ActionRecommendation::Isolate => "isolate",
        _ => "no-access",
    }
}

/// Asks the broker for a handshake retry on this session.
async fn retry(
    s: &mut ServerSession<TcpStream>,
    broker: &Mutex<if_imv::Broker>,
    endpoint: &str,
    reason: RetryReason,
) {
    let r = s.command(broker, |b, c| b.request_retry(c, reason)).await;
    tracing::info!(
        endpoint,
        ?reason,
        ok = matches!(r, Ok(Ok(()))),
        "re-assessment requested"
    );
}

/// One endpoint's session: the broker connection, its repository session row, and the
/// command channel the API's re-assessment uses.
async fn session(
    state: Arc<State>,
    broker: Arc<Mutex<if_imv::Broker>>,
    pt: PtTlsConnection<TcpStream>,
    peer: SocketAddr,
    mut stop: watch::Receiver<bool>,
    instance: Arc<str>,
) {
    let ids = ar_identities(&pt, Some(peer.ip()));
    let endpoint = ids
        .first()
        .and_then(|i| i.value_str())
        .map_or_else(|| peer.to_string(), str::to_owned);
    let cert_fingerprint = pt.peer_certificate().map(|c| fingerprint(c.as_ref()));
    let new = NewSession {
        endpoint: endpoint.clone(),
        cert_fingerprint,
        manager_instance: instance.as_ref().into(),
        peer_address: peer.to_string(),
        at: clock::now(),
    };
    // Off the tokio workers and before the broker sees the session: wait until this
    // endpoint's earlier writes are stored (so the SWIMA verifier, under the broker lock,
    // reads its state without waiting), record the session, and tell the evaluator the
    // endpoint was seen.
    let (st, ep) = (state.clone(), endpoint.clone());
    let row = tokio::task::spawn_blocking(move || {
        st.writer.wait_idle(&ep);
        let row = st.repo.session_started(&new)?;
        st.eval
            .run("a session start", RetryReason::ImvSeriousEvent, |e, s| {
                e.on_seen(s, &ep, new.at)
            });
        Ok::<_, posture_repository::Error>(row)
    })
    .await;
    let row = match row {
        Ok(Ok(r)) => Some(r),
        Err(e) => {
            state.metrics.errors.fetch_add(1, Ordering::Relaxed);
            tracing::error!(endpoint, error = %e, "repository: session not recorded");
            None
        }
        Ok(Err(e)) => {
            state.metrics.errors.fetch_add(1, Ordering::Relaxed);
            tracing::error!(endpoint, error = %e, "repository: session not recorded");
            None
        }
    };
    state.metrics.sessions.fetch_add(1, Ordering::Relaxed);
    state.metrics.sessions_open.fetch_add(1, Ordering::Relaxed);
    let (tx, mut rx) = mpsc::channel(4);
    state.router.register(&endpoint, tx.clone());
    tracing::info!(endpoint, %peer, "session started");
    let mut s = ServerSession::accept(&broker, pt, Some(peer.ip()));
    let mut result: Option<&'static str> = None;
    // The recommendation the last assessment delivered, whether a handshake is running, and
    // a recommendation the evaluator announced meanwhile (compared with its outcome).
    let mut delivered: Option<ActionRecommendation> = None;
    let mut in_handshake = true;
    let mut announced: Option<ActionRecommendation> = None;
    let mut stopping = false;
    loop {
        tokio::select! {
            ev = s.next_event(&broker) => match ev {
                Ok(if_imv::Event::Outcome(o)) => {
                    state.metrics.assessments.fetch_add(1, Ordering::Relaxed);
                    let word = recommendation_word(o.recommendation);
                    tracing::info!(endpoint, recommendation = word, "assessment decided");
                    state.writer.submit(writer::Job::Publish {
                        endpoint: endpoint.clone(),
                        event: events::assessment_event(&endpoint, word),
                    });
                    result = Some(word);
                    delivered = Some(o.recommendation);
                    in_handshake = false;
                    if announced.take().is_some_and(|a| a != o.recommendation) {
                        retry(&mut s, &broker, &endpoint, RetryReason::ImvSeriousEvent).await;
                    }
                }
                Ok(if_imv::Event::HandshakeStarted) => in_handshake = true,
                Ok(if_imv::Event::Closed(reason)) => {
                    tracing::info!(endpoint, ?reason, "session closed");
                    break;
                }
                Ok(other) => tracing::debug!(endpoint, event = ?other, "TNC server"),
                Err(e) => {
                    state.metrics.errors.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(endpoint, error = %e, "session failed");
                    break;
                }
            },
            Some(Command::Reassess(req)) = rx.recv() => match req.expect {
                // An assessment is running: compare with its outcome.
                Some(e) if in_handshake || delivered.is_none() => announced = Some(e),
                // The network already has this recommendation.
                Some(e) if delivered == Some(e) => {
                    tracing::debug!(endpoint, "re-assessment skipped: recommendation unchanged");
                }
                _ => retry(&mut s, &broker, &endpoint, req.reason).await,
            },
            () = crate::stopped(&mut stop), if !stopping => {
                stopping = true;
                break;
            }
        }
    }
    if stopping {
        let _ = s.close(&broker).await;
    }
    state.router.unregister(&endpoint, &tx);
    state.metrics.sessions_open.fetch_sub(1, Ordering::Relaxed);
    if let Some(row) = row {
        state.writer.submit(writer::Job::SessionEnded {
            endpoint,
            row,
            at: clock::now(),
            result: result.unwrap_or("none").to_owned(),
        });
    }
}

/// Most files `import_tags` reads from one directory tree, and the largest one it reads.
const MAX_IMPORT_FILES: usize = 100_000;
const MAX_IMPORT_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Errors of [`import_tags`].
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The repository could not be opened or written.
    #[error("repository {path}: {source}")]
    Repository {
        /// The file or URL (without its password).
        path: String,
        /// Why.
        source: posture_repository::Error,
    },
    /// The tags were imported, but evaluating the endpoints holding their software failed
    /// (the import is committed; the next posture or guidance change evaluates them).
    #[error("re-evaluation after the import: {0}")]
    Evaluation(#[from] posture_evaluator::EvalError),
    /// The directory could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The directory or file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// What `tnc-manager import-tags` did.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// The import.
    pub report: posture_repository::ImportReport,
    /// The evaluations the imported tags changed (each stored with its `evaluation-result`
    /// event).
    pub changed: Vec<posture_evaluator::ResultChange>,
}

/// `tnc-manager import-tags DIR`: every regular `*.swidtag` and `*.coswid` file under `dir`
/// (recursively, symbolic links not followed, at most 100,000 files of at most 4 MiB) goes
/// into the repository `db` (an SQLite file or a `postgres://` URL) as a trusted reference
/// tag. The tags give software its name, version and vendor, so the endpoints holding the
/// imported software are then evaluated against the guidance in force (profile §2.1.4): each
/// changed result is stored with its `evaluation-result` event, and a connected endpoint whose
/// access recommendation changed is re-assessed by the manager holding its session (signalled
/// through PostgreSQL; with SQLite the manager applies the stored result at the endpoint's
/// next assessment).
pub fn import_tags(db: &str, dir: &std::path::Path) -> Result<Imported, ImportError> {
    let repo_err = |source| ImportError::Repository {
        path: redacted(db),
        source,
    };
    let mut files = Vec::new();
    let mut oversize = Vec::new();
    let mut skipped = 0usize;
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let io = |source| ImportError::Io {
            path: d.clone(),
            source,
        };
        for e in std::fs::read_dir(&d).map_err(io)? {
            let e = e.map_err(io)?;
            let kind = e.file_type().map_err(io)?;
            let path = e.path();
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file()
                && path
                    .extension()
                    .is_some_and(|x| x == "swidtag" || x == "coswid")
            {
                if files.len() >= MAX_IMPORT_FILES {
                    skipped += 1;
                    continue;
                }
                let len = e.metadata().map_err(io)?.len();
                if len > MAX_IMPORT_FILE_BYTES {
                    oversize.push((path.display().to_string(), format!("{len} bytes")));
                } else {
                    files.push(path);
                }
            }
        }
    }
    files.sort();
    let repo = posture_repository::open_store(db, posture_repository::Limits::default())
        .map_err(repo_err)?;
    // Read one file at a time as the import pulls it (never all of them at once).
    let mut unreadable = Vec::new();
    let mut tags = files.into_iter().filter_map(|path| {
        let name = path.display().to_string();
        match std::fs::read(&path) {
            Ok(content) => Some((name, content)),
            Err(e) => {
                unreadable.push((name, e.to_string()));
                None
            }
        }
    });
    let mut report = repo
        .import_tags(&mut tags, clock::now())
        .map_err(repo_err)?;
    drop(tags);
    report.rejected.extend(unreadable);
    if skipped > 0 {
        report.rejected.push((
            dir.display().to_string(),
            format!("{skipped} more tag files past the limit of {MAX_IMPORT_FILES} were not read"),
        ));
    }
    report.rejected.extend(oversize);
    let evaluator = posture_evaluator::Evaluator::load(&*repo)?
        .with_publisher(|c| vec![evaluation::result_event(c)]);
    let changed = if evaluator.is_empty() || report.software_identifiers.is_empty() {
        Vec::new()
    } else {
        evaluator.on_metadata_change(&*repo, &report.software_identifiers, clock::now())?
    };
    let router = Router::new(repo.clone());
    for c in changed.iter().filter(|c| c.recommendation_changed()) {
        let routed = router.request(
            &c.endpoint,
            Request {
                reason: RetryReason::ImvImportantPolicyChange,
                expect: Some(c.after.recommendation),
            },
        );
        tracing::info!(
            endpoint = c.endpoint,
            ?routed,
            "re-assessment for the new result"
        );
    }
    Ok(Imported { report, changed })
}
