//! `tnc-manager`: the posture manager's wiring. A PT-TLS listener (mutual TLS), the server
//! broker with the SWIMA and OS verifiers, the SQLite posture repository, and the HTTP API.

mod api;
pub mod devices;
mod events;
mod sink;
mod webhooks;
mod writer;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use if_imv::tokio::{ServerSession, ServerSessionExt, ar_identities};
use if_imv::{ActionRecommendation, RetryReason};
use imcv::os::{OsImv, OsPolicy};
use imcv::swima::{SwimaImv, SwimaImvConfig};
use posture_repository::{NewSession, Repository, SqliteConfig, SqliteRepository, fingerprint};
use pt_tls::tokio::PtTlsConnection;
use pt_tls::tokio::listener::{Limits, Listener};
use pt_tls::tokio::tls::{ClientCertificates, Pem, server_config};
use swima::ValidatorConfig;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use writer::Writer;

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
    /// SQLite file of the repository.
    pub db: PathBuf,
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
        /// The file.
        path: PathBuf,
        /// Why.
        source: posture_repository::Error,
    },
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
}

/// A command for one connected endpoint's session task.
#[derive(Debug)]
pub enum Command {
    /// Start a server-initiated handshake retry (profile §2.2.4).
    Reassess,
}

/// What the API shares with the sessions.
pub(crate) struct State {
    pub(crate) repo: Arc<dyn Repository>,
    pub(crate) metrics: Arc<Metrics>,
    /// Command channels of the open sessions, by endpoint identifier.
    pub(crate) sessions: Mutex<HashMap<String, mpsc::Sender<Command>>>,
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
        let _ = tokio::task::spawn_blocking(move || writer.close()).await;
    }
}

/// The manager instance name stored with its sessions.
const INSTANCE: &str = "tnc-manager";

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
    let repo = SqliteRepository::open(&opts.db, SqliteConfig::default()).map_err(|source| {
        ManagerError::Repository {
            path: opts.db.clone(),
            source,
        }
    })?;
    let _ = repo.close_open_sessions(INSTANCE, clock::now(), "manager restarted");
    let repo = Arc::new(repo);
    let hub = events::Hub::new(repo.clone());
    let repo: Arc<dyn Repository> = repo;
    let tokens = match &opts.api_token_file {
        Some(p) => Tokens::load(p)?,
        None => Tokens::default(),
    };
    let device_list = match &opts.netconf_devices {
        Some(p) => devices::load(p)?,
        None => Vec::new(),
    };
    let metrics = Arc::new(Metrics::default());
    let writer =
        Writer::start(repo.clone(), metrics.clone(), hub.clone()).map_err(ManagerError::Writer)?;
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
        );
        b.add_imv("swima", Box::new(swima))
            .map_err(|e| ManagerError::Broker(e.to_string()))?;
        b.add_imv("os", Box::new(OsImv::new((), OsPolicy::default())))
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
        sessions: Mutex::new(HashMap::new()),
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
        tasks: vec![accept_task, api_task, devices_task],
        writer,
    })
}

fn recommendation_word(r: ActionRecommendation) -> &'static str {
    match r {
        ActionRecommendation::Allow => "allow",
        ActionRecommendation::Isolate => "isolate",
        _ => "no-access",
    }
}

/// One endpoint's session: the broker connection, its repository session row, and the
/// command channel the API's re-assessment uses.
async fn session(
    state: Arc<State>,
    broker: Arc<Mutex<if_imv::Broker>>,
    pt: PtTlsConnection<TcpStream>,
    peer: SocketAddr,
    mut stop: watch::Receiver<bool>,
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
        manager_instance: INSTANCE.into(),
        peer_address: peer.to_string(),
        at: clock::now(),
    };
    let repo = state.repo.clone();
    let row = tokio::task::spawn_blocking(move || repo.session_started(&new)).await;
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
    if let Ok(mut m) = state.sessions.lock() {
        m.insert(endpoint.clone(), tx);
    }
    tracing::info!(endpoint, %peer, "session started");
    let mut s = ServerSession::accept(&broker, pt, Some(peer.ip()));
    let mut result: Option<&'static str> = None;
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
                }
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
            Some(Command::Reassess) = rx.recv() => {
                let r = s
                    .command(&broker, |b, c| b.request_retry(c, RetryReason::ImvImportantPolicyChange))
                    .await;
                tracing::info!(endpoint, ok = matches!(r, Ok(Ok(()))), "re-assessment requested");
            }
            () = crate::stopped(&mut stop), if !stopping => {
                stopping = true;
                break;
            }
        }
    }
    if stopping {
        let _ = s.close(&broker).await;
    }
    if let Ok(mut m) = state.sessions.lock() {
        m.remove(&endpoint);
    }
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
        /// The file.
        path: PathBuf,
        /// Why.
        source: posture_repository::Error,
    },
    /// The directory could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The directory or file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// `tnc-manager import-tags DIR`: every regular `*.swidtag` and `*.coswid` file under `dir`
/// (recursively, symbolic links not followed, at most 100,000 files of at most 4 MiB) goes
/// into the repository at `db` as a trusted reference tag.
pub fn import_tags(
    db: &std::path::Path,
    dir: &std::path::Path,
) -> Result<posture_repository::ImportReport, ImportError> {
    let repo_err = |source| ImportError::Repository {
        path: db.to_owned(),
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
    let repo = SqliteRepository::open(db, SqliteConfig::default()).map_err(repo_err)?;
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
    Ok(report)
}
