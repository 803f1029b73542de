//! `tnc-agent`: the endpoint's wiring. The client broker with the SWIMA collector (a SWID/CoSWID
//! tag directory, the event log persisted under the state directory) and the OS collector,
//! connected over PT-TLS with the endpoint's certificate; the tag directory watched with
//! `notify`; reconnection with backoff and jitter.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use if_imc::tokio::{ClientSession, ClientSessionExt};
use if_imc::{Decision, RetryReason};
use imcv::os::{LinuxSource, OsImc};
use imcv::swima::{SwimaImc, SwimaImcConfig, SwimaImcHandle};
use pb_tnc::{AccessRecommendation, PbAssessmentResult};
use pt_tls::tokio::PtTlsConnection;
use pt_tls::tokio::tls::{Pem, client_config};
use rustls::pki_types::ServerName;
use swima::tags::TagDirSource;
use swima::{Collector, CollectorConfig, FileStore};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};

use crate::clock;

/// The agent's settings (the command line of `tnc-agent`).
#[derive(Debug, Clone)]
pub struct AgentOptions {
    /// Authorized managers, `HOST:PORT`, tried in order.
    pub connect: Vec<String>,
    /// CA certificates the manager's certificate must chain to.
    pub ca: PathBuf,
    /// The endpoint's certificate chain and key.
    pub identity: Option<(PathBuf, PathBuf)>,
    /// SASL PLAIN user and password, for a manager that accepts them (discouraged).
    pub sasl: Option<(String, String)>,
    /// SWID (`.swidtag`) and CoSWID (`.coswid`) tag directory.
    pub swid_dir: PathBuf,
    /// Where the SWIMA event log is kept.
    pub state: PathBuf,
    /// A `tnc_config` file naming C IMCs to host beside the built-in collectors.
    pub imc_config: Option<PathBuf>,
}

/// Errors of the agent.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The TLS configuration is unusable.
    #[error("TLS: {0}")]
    Tls(#[from] pt_tls::tokio::tls::TlsConfigError),
    /// A `--connect` value is not `HOST:PORT`.
    #[error("{0:?} is not HOST:PORT")]
    Target(String),
    /// The SWIMA log or tag directory failed.
    #[error("SWIMA: {0}")]
    Swima(#[from] swima::Error),
    /// The state directory or watcher failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why.
        source: std::io::Error,
    },
    /// No manager could be reached.
    #[error("no manager reachable: {0}")]
    Unreachable(String),
    /// The assessment failed.
    #[error("assessment: {0}")]
    Assessment(String),
    /// The broker refused a plugin.
    #[error("broker: {0}")]
    Broker(String),
    /// A C IMC of the `tnc_config` could not be loaded.
    #[error("--imc-config: {0}")]
    CPlugin(#[from] if_imc::ffi::LoadError),
}

/// A configured agent (collectors loaded, inventory scanned), ready to connect.
pub struct Agent {
    broker: Mutex<if_imc::Broker>,
    swima: SwimaImcHandle<FileStore>,
    tls: Arc<rustls::ClientConfig>,
    pt: Arc<pt_tls::Config>,
    targets: Vec<(String, ServerName<'static>)>,
    swid_dir: PathBuf,
    /// Whether C IMCs are hosted (their retries from other threads are polled).
    c_imcs: bool,
}

impl core::fmt::Debug for Agent {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Agent")
            .field("swid_dir", &self.swid_dir)
            .finish_non_exhaustive()
    }
}

/// `allow`, `isolate` or `no-access` for a decision.
pub fn recommendation_word(d: &Decision) -> &'static str {
    match d.recommendation {
        Some(AccessRecommendation::ACCESS_ALLOWED) => "allow",
        Some(AccessRecommendation::QUARANTINED) => "isolate",
        _ => "no-access",
    }
}

/// The assessment result's name.
pub fn result_word(d: &Decision) -> &'static str {
    match d.result {
        PbAssessmentResult::COMPLIANT => "compliant",
        PbAssessmentResult::NON_COMPLIANT_MINOR => "non-compliant-minor",
        PbAssessmentResult::NON_COMPLIANT_MAJOR => "non-compliant-major",
        PbAssessmentResult::ERROR => "error",
        _ => "dont-know",
    }
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> AgentError {
    let what = what.into();
    move |source| AgentError::Io { what, source }
}

impl Agent {
    /// Loads the certificates, opens the SWIMA log under `state`, scans the tag directory.
    pub fn new(opts: &AgentOptions) -> Result<Self, AgentError> {
        let identity = opts
            .identity
            .as_ref()
            .map(|(c, k)| (Pem::file(c), Pem::file(k)));
        let tls = client_config(&Pem::file(&opts.ca), identity.as_ref().map(|(c, k)| (c, k)))?;
        let mut targets = Vec::new();
        for t in &opts.connect {
            let host = t
                .rsplit_once(':')
                .map(|(h, _)| h.trim_start_matches('[').trim_end_matches(']'))
                .filter(|h| !h.is_empty())
                .ok_or_else(|| AgentError::Target(t.clone()))?;
            let name =
                ServerName::try_from(host.to_owned()).map_err(|_| AgentError::Target(t.clone()))?;
            targets.push((t.clone(), name));
        }
        if targets.is_empty() {
            return Err(AgentError::Target(String::new()));
        }
        let mut pt = pt_tls::Config::default();
        if let Some((user, password)) = &opts.sasl {
            let plain = pt_tls::PlainClient::new(user, password)
                .ok_or_else(|| AgentError::Target("SASL user or password unusable".into()))?;
            pt.client_mechanisms = vec![Arc::new(plain)];
        }
        std::fs::create_dir_all(&opts.state)
            .map_err(io(format!("creating {}", opts.state.display())))?;
        let store = FileStore::new(opts.state.join("swima-events.log"));
        let collector = Collector::open(CollectorConfig::default(), store, clock::noise())?;
        let source = TagDirSource::new([opts.swid_dir.clone()]);
        let imc = SwimaImc::new(collector, Some(Box::new(source)), SwimaImcConfig::default());
        let swima = imc.handle();
        swima.refresh(&clock::datetime20(clock::now()))?;
        let mut broker = if_imc::Broker::new(Default::default());
        broker
            .add_imc("swima", Box::new(imc))
            .map_err(|e| AgentError::Broker(e.to_string()))?;
        broker
            .add_imc("os", Box::new(OsImc::new(LinuxSource::new())))
            .map_err(|e| AgentError::Broker(e.to_string()))?;
        if let Some(path) = &opts.imc_config {
            let config = if_imc::ffi::TncConfig::read(path)?;
            for loaded in if_imc::ffi::load_imcs(&mut broker, &config) {
                let id = loaded?;
                tracing::info!(?id, "C IMC loaded");
            }
        }
        Ok(Self {
            broker: Mutex::new(broker),
            swima,
            tls,
            pt: Arc::new(pt),
            targets,
            swid_dir: opts.swid_dir.clone(),
            c_imcs: opts.imc_config.is_some(),
        })
    }

    /// The SWIMA collector's handle (epoch, last EID).
    pub fn swima(&self) -> &SwimaImcHandle<FileStore> {
        &self.swima
    }

    /// Rescans the tag directory; returns how many events that recorded.
    pub fn rescan(&self) -> Result<usize, AgentError> {
        Ok(self.swima.refresh(&clock::datetime20(clock::now()))?)
    }

    /// Connects to the first reachable manager of the list.
    async fn connect(&self) -> Result<PtTlsConnection<TcpStream>, AgentError> {
        self.connect_preferring(None).await
    }

    /// Connects to manager `first` of the list if given (a PB-PDP-Referral named it), else,
    /// or when it is unreachable, to the first reachable one in list order.
    async fn connect_preferring(
        &self,
        first: Option<usize>,
    ) -> Result<PtTlsConnection<TcpStream>, AgentError> {
        let mut failures = Vec::new();
        let order = first
            .into_iter()
            .chain((0..self.targets.len()).filter(|i| Some(*i) != first));
        for (addr, name) in order.filter_map(|i| self.targets.get(i)) {
            match pt_tls::tokio::connect(
                addr.as_str(),
                name.clone(),
                self.tls.clone(),
                self.pt.clone(),
            )
            .await
            {
                Ok(c) => {
                    tracing::info!(manager = %addr, "connected");
                    return Ok(c);
                }
                Err(e) => {
                    tracing::warn!(manager = %addr, error = %e, "manager unreachable");
                    failures.push(format!("{addr}: {e}"));
                }
            }
        }
        Err(AgentError::Unreachable(failures.join("; ")))
    }

    /// One assessment: connect, run until the manager decides, close.
    pub async fn once(&self) -> Result<Decision, AgentError> {
        let pt = self.connect().await?;
        let mut s = ClientSession::start(&self.broker, pt, Default::default())
            .await
            .map_err(|e| AgentError::Assessment(e.to_string()))?;
        let d = s
            .run_until_decision(&self.broker)
            .await
            .map_err(|e| AgentError::Assessment(e.to_string()))?;
        let _ = s.close(&self.broker).await;
        Ok(d)
    }

    /// Keeps a session to a manager open, reports tag directory changes as SWIMA events over
    /// it, and reconnects with exponential backoff (0.5 s to 30 s) and jitter while no manager
    /// is reachable; the events wait in the persisted log meanwhile. Each decision is sent on
    /// `decisions`. Returns when `stop` becomes true.
    pub async fn run(
        &self,
        mut stop: watch::Receiver<bool>,
        decisions: Option<mpsc::UnboundedSender<Decision>>,
    ) -> Result<(), AgentError> {
        let (tx, mut changes) = mpsc::channel::<()>(1);
        let mut watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
            if ev.is_ok_and(|e| !e.kind.is_access()) {
                let _ = tx.try_send(());
            }
        })
        .map_err(|e| AgentError::Io {
            what: "starting the watcher".into(),
            source: std::io::Error::other(e),
        })?;
        notify::Watcher::watch(
            &mut watcher,
            &self.swid_dir,
            notify::RecursiveMode::Recursive,
        )
        .map_err(|e| AgentError::Io {
            what: format!("watching {}", self.swid_dir.display()),
            source: std::io::Error::other(e),
        })?;
        let mut attempt: u32 = 0;
        let mut referred = None;
        loop {
            if *stop.borrow() {
                return Ok(());
            }
            match self.connect_preferring(referred.take()).await {
                Ok(pt) => {
                    attempt = 0;
                    match self
                        .serve(pt, &mut stop, &mut changes, decisions.as_ref())
                        .await
                    {
                        Ok(_) if *stop.borrow() => return Ok(()),
                        Ok(Some(i)) => {
                            referred = Some(i);
                            tracing::info!(manager = %self.targets.get(i).map_or("", |t| t.0.as_str()), "referred to another authorized manager; moving");
                            continue;
                        }
                        Ok(None) => tracing::info!("session ended; reconnecting"),
                        Err(e) => tracing::warn!(error = %e, "session failed; reconnecting"),
                    }
                }
                Err(e) => tracing::warn!(error = %e, attempt, "will retry"),
            }
            let base = 500u64.saturating_mul(1 << attempt.min(6)).min(30_000);
            let delay = Duration::from_millis(base + u64::from(clock::noise()) % (base / 2 + 1));
            attempt = attempt.saturating_add(1);
            let sleep = tokio::time::sleep(delay);
            tokio::pin!(sleep);
            loop {
                tokio::select! {
                    () = &mut sleep => break,
                    () = crate::stopped(&mut stop) => return Ok(()),
                    Some(()) = changes.recv() => { self.record_changes().await; }
                }
            }
        }
    }

    /// Lets a burst of file events settle, then rescans.
    async fn record_changes(&self) -> usize {
        tokio::time::sleep(Duration::from_millis(150)).await;
        match self.rescan() {
            Ok(n) => {
                if n > 0 {
                    tracing::info!(
                        events = n,
                        last_eid = self.swima.last_eid(),
                        "tag directory changed"
                    );
                }
                n
            }
            Err(e) => {
                tracing::warn!(error = %e, "rescan failed");
                0
            }
        }
    }

    async fn serve(
        &self,
        pt: PtTlsConnection<TcpStream>,
        stop: &mut watch::Receiver<bool>,
        changes: &mut mpsc::Receiver<()>,
        decisions: Option<&mpsc::UnboundedSender<Decision>>,
    ) -> Result<Option<usize>, AgentError> {
        // Changes made while disconnected are in the log already; catch up with any missed.
        let _ = self.rescan();
        let mut s = ClientSession::start(&self.broker, pt, Default::default())
            .await
            .map_err(|e| AgentError::Assessment(e.to_string()))?;
        // C IMCs may ask for a retry from their own threads: those requests are queued by
        // if_imc::ffi and polled here.
        let mut poll = tokio::time::interval(Duration::from_secs(1));
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = poll.tick(), if self.c_imcs => {
                    let id = s.connection().id();
                    for p in if_imc::ffi::drain_pending_retries() {
                        if p.connection == id || p.connection == if_imc::ConnectionId::ANY {
                            let r = s.command(&self.broker, |b, c| b.request_retry(c, p.reason)).await;
                            tracing::debug!(imc = ?p.imc, ?r, "C IMC retry request");
                        }
                    }
                }
                ev = s.next_event(&self.broker) => match ev {
                    Ok(if_imc::Event::Decision(d)) => {
                        tracing::info!(recommendation = recommendation_word(&d), result = result_word(&d), "decision");
                        if let Some(tx) = decisions {
                            let _ = tx.send(d);
                        }
                    }
                    Ok(if_imc::Event::Closed(reason)) => {
                        tracing::info!(?reason, "session closed");
                        return Ok(None);
                    }
                    Ok(if_imc::Event::PdpReferral(r)) => match referral_target(&self.targets, &r) {
                        Some(i) => {
                            let _ = s.close(&self.broker).await;
                            return Ok(Some(i));
                        }
                        None => tracing::warn!(referral = ?r, "PB-PDP-Referral to a manager not in the --connect list: ignored"),
                    },
                    Ok(other) => tracing::debug!(event = ?other, "TNC client"),
                    Err(e) => return Err(AgentError::Assessment(e.to_string())),
                },
                Some(()) = changes.recv() => {
                    if self.record_changes().await > 0 && self.swima.has_pending(s.connection().id()) {
                        let r = s
                            .command(&self.broker, |b, c| b.request_retry(c, RetryReason::ImcInformationalEvent))
                            .await;
                        tracing::debug!(?r, "retry requested for the new events");
                    }
                }
                () = crate::stopped(stop) => {
                    let _ = s.close(&self.broker).await;
                    return Ok(None);
                }
            }
        }
    }
}

/// The authorized manager (index into `targets`, each `HOST:PORT`) a PB-PDP-Referral names:
/// a TCG PT-TLS referral (protocol 0) whose address and port equal a target's. Anything else
/// (another protocol or vendor, a manager not in the list) is `None`: the agent moves only to
/// managers it was configured to trust, each still authenticated by its certificate.
pub fn referral_target(
    targets: &[(String, ServerName<'static>)],
    referral: &pb_tnc::PdpReferral,
) -> Option<usize> {
    let pb_tnc::PdpReferral::Tcg {
        protocol: 0,
        port,
        address,
    } = referral
    else {
        return None;
    };
    let host = match address {
        pb_tnc::PdpAddress::Fqdn(n) => n.as_str().trim_end_matches('.').to_ascii_lowercase(),
        pb_tnc::PdpAddress::Ipv4(a) => a.to_string(),
        pb_tnc::PdpAddress::Ipv6(a) => a.to_string(),
    };
    targets.iter().position(|(t, _)| {
        t.rsplit_once(':').is_some_and(|(h, p)| {
            let h = h.trim_start_matches('[').trim_end_matches(']');
            p.parse::<u16>().ok() == Some(*port)
                && h.trim_end_matches('.').eq_ignore_ascii_case(&host)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pb_tnc::{PdpAddress, PdpReferral};

    fn targets(list: &[&str]) -> Vec<(String, ServerName<'static>)> {
        list.iter()
            .map(|t| {
                let host = t.rsplit_once(':').map(|(h, _)| h.trim_matches(['[', ']']));
                let name = ServerName::try_from(host.unwrap_or_default().to_owned());
                ((*t).to_owned(), name.unwrap_or_else(|e| panic!("{e}")))
            })
            .collect()
    }

    #[test]
    fn referrals_move_only_to_listed_managers() {
        let t = targets(&["pdp1.example:271", "192.0.2.9:2710", "[2001:db8::1]:271"]);
        let fqdn = |n: &str, port| PdpReferral::pt_tls(PdpAddress::Fqdn(n.into()), port);
        assert_eq!(referral_target(&t, &fqdn("PDP1.example.", 271)), Some(0));
        assert_eq!(
            referral_target(
                &t,
                &PdpReferral::pt_tls(PdpAddress::Ipv4([192, 0, 2, 9].into()), 2710)
            ),
            Some(1)
        );
        let v6 = "2001:db8::1".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            referral_target(&t, &PdpReferral::pt_tls(PdpAddress::Ipv6(v6), 271)),
            Some(2)
        );
        // Not in the list, another port, or not PT-TLS: ignored.
        assert_eq!(referral_target(&t, &fqdn("evil.example", 271)), None);
        assert_eq!(referral_target(&t, &fqdn("pdp1.example", 272)), None);
        let other = PdpReferral::Tcg {
            protocol: 1,
            port: 271,
            address: PdpAddress::Fqdn("pdp1.example".into()),
        };
        assert_eq!(referral_target(&t, &other), None);
    }
}
