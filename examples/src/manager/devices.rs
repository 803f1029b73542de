//! Network devices (profile §4): the `--netconf-devices` file, one poller task per device
//! reading its RFC 7317 `ietf-system` posture over NETCONF (SSH or TLS, `netconf-client`) and
//! storing it through the repository under the device's name, and the API's device queries.
//!
//! The file is JSON, one object per device (relative paths are relative to the file's folder;
//! secrets are files, never command-line arguments):
//!
//! ```json
//! {"devices": [
//!   {"name": "core-sw-1", "address": "192.0.2.1:830", "transport": "ssh", "user": "netconf",
//!    "password_file": "core-sw-1.pw", "known_hosts": "known_hosts",
//!    "poll_interval_secs": 300, "timeout_secs": 30},
//!   {"name": "edge-rtr-2", "address": "edge-rtr-2.example:6513", "transport": "tls",
//!    "ca": "ca.pem", "cert": "client.pem", "key": "client.key"}
//! ]}
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Path as UrlPath, Query, State as Extract};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use if_imv::RetryReason;
use netconf_client::Config;
use netconf_client::ietf_system::SystemPosture;
use netconf_client::ssh::{self, HostKeyPolicy, SshAuth, SshConfig};
use netconf_client::tls::{self, TlsConfig};
use netconf_client::tokio::{Client, ClientError};
use posture_repository::{DevicePosture, UnixTime};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{Semaphore, watch};

use super::State;
use super::api::{ApiError, Role, authorize, bad_request, internal, only, page};
use crate::clock;
use crate::ietf_system_json::{posture_json, read_posture};

/// Largest device file read.
const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// Most devices in one file.
const MAX_DEVICES: usize = 10_000;
/// Longest device name.
const MAX_NAME: usize = 256;
/// Largest password file read (its first line is the password).
const MAX_SECRET_BYTES: u64 = 4096;
/// Poll interval bounds and default (seconds).
const INTERVAL_SECS: (u64, u64, u64) = (1, 7 * 86_400, 300);
/// Per-step timeout bounds and default (seconds).
const TIMEOUT_SECS: (u64, u64, u64) = (1, 600, 30);
/// The longest wait after failures (unless the interval itself is longer).
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// Polls in progress at once, over all devices.
const MAX_CONCURRENT_POLLS: usize = 32;

/// How the manager authenticates to a device over SSH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SshCredential {
    /// Password authentication; the password is the file's first line (read at each poll).
    PasswordFile(PathBuf),
    /// Public-key authentication with an unencrypted OpenSSH private key file.
    KeyFile(PathBuf),
}

/// The NETCONF transport of a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// NETCONF over SSH (RFC 6242).
    Ssh {
        /// User name.
        user: String,
        /// Credentials.
        credential: SshCredential,
        /// known_hosts file the device's host key must be listed in.
        known_hosts: PathBuf,
    },
    /// NETCONF over TLS with mutual X.509 authentication (RFC 7589).
    Tls {
        /// CA certificate(s) the device's certificate must chain to (PEM).
        ca: PathBuf,
        /// The manager's client certificate chain (PEM).
        cert: PathBuf,
        /// Its private key (PEM).
        key: PathBuf,
    },
}

/// One device of the `--netconf-devices` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Its identity: the name its posture is stored and queried under.
    pub name: String,
    /// Host name or address (for TLS also the name its certificate must match).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Transport and credentials.
    pub transport: Transport,
    /// Time between polls.
    pub interval: Duration,
    /// Bound of the connection set-up (TCP, SSH or TLS, hello) and of each RPC's reply.
    pub timeout: Duration,
}

/// The device file is unreadable or malformed.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct DeviceFileError {
    /// The file.
    pub path: PathBuf,
    /// Why (the device's position and name when it is about one device).
    pub reason: String,
}

/// A device as written in the file (checked into a [`Device`]).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    devices: Vec<RawDevice>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDevice {
    name: String,
    address: String,
    transport: RawTransport,
    user: Option<String>,
    password_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    known_hosts: Option<PathBuf>,
    ca: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    poll_interval_secs: Option<u64>,
    timeout_secs: Option<u64>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum RawTransport {
    Ssh,
    Tls,
}

/// Reads and checks a device file (at most 1 MiB and 10,000 devices).
pub fn load(path: &Path) -> Result<Vec<Device>, DeviceFileError> {
    use std::io::Read;
    let bad = |reason: String| DeviceFileError {
        path: path.to_owned(),
        reason,
    };
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_string(&mut text))
        .map_err(|e| bad(e.to_string()))?;
    if u64::try_from(text.len()).unwrap_or(u64::MAX) > MAX_FILE_BYTES {
        return Err(bad(format!("larger than {MAX_FILE_BYTES} bytes")));
    }
    let base = path.parent().unwrap_or_else(|| Path::new("."));
    parse(&text, base).map_err(bad)
}

/// Parses a device file's text; relative paths are resolved against `base`. Names must be
/// unique; every device needs the credentials of its transport and nothing of the other.
pub fn parse(text: &str, base: &Path) -> Result<Vec<Device>, String> {
    let raw: RawFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if raw.devices.len() > MAX_DEVICES {
        return Err(format!("more than {MAX_DEVICES} devices"));
    }
    let mut seen = HashMap::new();
    let mut out = Vec::with_capacity(raw.devices.len());
    for (i, d) in raw.devices.into_iter().enumerate() {
        let which = format!("device {} ({:?})", i + 1, d.name);
        let device = check(d, base).map_err(|e| format!("{which}: {e}"))?;
        if let Some(first) = seen.insert(device.name.clone(), i + 1) {
            return Err(format!("{which}: the name is also device {first}'s"));
        }
        out.push(device);
    }
    Ok(out)
}

fn check(d: RawDevice, base: &Path) -> Result<Device, String> {
    if d.name.is_empty() || d.name.len() > MAX_NAME || d.name.chars().any(char::is_control) {
        return Err(format!(
            "name must be 1 to {MAX_NAME} bytes without control characters"
        ));
    }
    let (host, port) = address(&d.address)?;
    let path = |p: Option<PathBuf>| p.map(|p| base.join(p));
    let secs = |v: Option<u64>, (min, max, default): (u64, u64, u64), what: &str| {
        let v = v.unwrap_or(default);
        if (min..=max).contains(&v) {
            Ok(Duration::from_secs(v))
        } else {
            Err(format!("{what} must be {min} to {max}"))
        }
    };
    let interval = secs(d.poll_interval_secs, INTERVAL_SECS, "poll_interval_secs")?;
    let timeout = secs(d.timeout_secs, TIMEOUT_SECS, "timeout_secs")?;
    let unexpected = |fields: &[(&str, bool)], transport: &str| -> Result<(), String> {
        match fields.iter().find(|(_, given)| *given) {
            Some((f, _)) => Err(format!("{f} does not apply to transport {transport}")),
            None => Ok(()),
        }
    };
    let transport = match d.transport {
        RawTransport::Ssh => {
            unexpected(
                &[
                    ("ca", d.ca.is_some()),
                    ("cert", d.cert.is_some()),
                    ("key", d.key.is_some()),
                ],
                "ssh",
            )?;
            let user = d.user.filter(|u| !u.is_empty()).ok_or("ssh needs user")?;
            let credential = match (path(d.password_file), path(d.key_file)) {
                (Some(p), None) => SshCredential::PasswordFile(p),
                (None, Some(k)) => SshCredential::KeyFile(k),
                (Some(_), Some(_)) => return Err("give password_file or key_file, not both".into()),
                (None, None) => return Err("ssh needs password_file or key_file".into()),
            };
            let known_hosts = path(d.known_hosts).ok_or("ssh needs known_hosts")?;
            Transport::Ssh {
                user,
                credential,
                known_hosts,
            }
        }
        RawTransport::Tls => {
            unexpected(
                &[
                    ("user", d.user.is_some()),
                    ("password_file", d.password_file.is_some()),
                    ("key_file", d.key_file.is_some()),
                    ("known_hosts", d.known_hosts.is_some()),
                ],
                "tls",
            )?;
            match (path(d.ca), path(d.cert), path(d.key)) {
                (Some(ca), Some(cert), Some(key)) => Transport::Tls { ca, cert, key },
                _ => return Err("tls needs ca, cert and key".into()),
            }
        }
    };
    Ok(Device {
        name: d.name,
        host,
        port,
        transport,
        interval,
        timeout,
    })
}

/// `HOST:PORT` or `[IPv6]:PORT`.
fn address(a: &str) -> Result<(String, u16), String> {
    let bad = || format!("address {a:?} is not HOST:PORT");
    let (host, port) = a.rsplit_once(':').ok_or_else(bad)?;
    let host = match host.strip_prefix('[') {
        Some(h) => h.strip_suffix(']').ok_or_else(bad)?,
        None if host.contains(':') => return Err(bad()),
        None => host,
    };
    if host.is_empty() || host.len() > 253 || host.chars().any(|c| c.is_whitespace()) {
        return Err(bad());
    }
    let port: u16 = port.parse().map_err(|_| bad())?;
    if port == 0 {
        return Err(bad());
    }
    Ok((host.to_owned(), port))
}

/// The wait before the next poll after `failures` failed polls in a row: the interval when
/// the last poll worked, else doubling from twice the interval up to one hour (or the
/// interval, when it is longer); plus up to 10 % jitter from `noise`.
#[must_use]
pub fn next_delay(interval: Duration, failures: u32, noise: u32) -> Duration {
    let base = if failures == 0 {
        interval
    } else {
        interval
            .saturating_mul(1u32 << failures.min(16))
            .min(interval.max(MAX_BACKOFF))
    };
    let spread = u64::try_from(base.as_millis() / 10).unwrap_or(u64::MAX);
    base + Duration::from_millis(u64::from(noise) % spread.saturating_add(1))
}

/// What a device's poller last saw.
#[derive(Debug, Default)]
struct Status {
    polls: u64,
    errors: u64,
    failures_in_a_row: u32,
    last_attempt: Option<UnixTime>,
    last_success: Option<UnixTime>,
    last_error: Option<String>,
}

/// The configured devices and their pollers' status (shared with the API).
#[derive(Debug, Default)]
pub(crate) struct Devices(Vec<(Device, Mutex<Status>)>);

impl Devices {
    pub(crate) fn new(list: Vec<Device>) -> Self {
        Self(list.into_iter().map(|d| (d, Mutex::default())).collect())
    }

    fn configured(&self, name: &str) -> bool {
        self.0.iter().any(|(d, _)| d.name == name)
    }

    fn json(&self) -> Vec<Value> {
        self.0
            .iter()
            .map(|(d, s)| {
                let s = s.lock().map_or_else(|_| Status::default(), |s| Status {
                    last_error: s.last_error.clone(),
                    ..*s
                });
                json!({
                    "name": d.name,
                    "address": format!("{}:{}", d.host, d.port),
                    "transport": match d.transport { Transport::Ssh { .. } => "ssh", Transport::Tls { .. } => "tls" },
                    "poll_interval_secs": d.interval.as_secs(),
                    "polls": s.polls,
                    "errors": s.errors,
                    "failures_in_a_row": s.failures_in_a_row,
                    "last_attempt": s.last_attempt.map(clock::rfc3339),
                    "last_success": s.last_success.map(clock::rfc3339),
                    "last_error": s.last_error,
                })
            })
            .collect()
    }
}

/// Why a poll failed.
#[derive(Debug, thiserror::Error)]
enum PollError {
    #[error("password file {path}: {reason}")]
    Secret { path: PathBuf, reason: String },
    #[error("{0}")]
    Netconf(#[from] ClientError),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("repository: {0}")]
    Repository(String),
}

/// The first line of a password file (at most 4 KiB read).
async fn read_secret(path: &Path) -> Result<String, PollError> {
    use tokio::io::AsyncReadExt;
    let err = |e: std::io::Error| PollError::Secret {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let mut text = String::new();
    tokio::fs::File::open(path)
        .await
        .map_err(err)?
        .take(MAX_SECRET_BYTES)
        .read_to_string(&mut text)
        .await
        .map_err(err)?;
    Ok(text.lines().next().unwrap_or_default().to_owned())
}

async fn read_and_close<S: AsyncRead + AsyncWrite + Unpin>(
    mut c: Client<S>,
    timeout: Duration,
) -> Result<SystemPosture, ClientError> {
    c.set_rpc_timeout(Some(timeout));
    let p = read_posture(&mut c).await?;
    if let Err(e) = c.close().await {
        tracing::debug!(error = %e, "close-session failed (posture already read)");
    }
    Ok(p)
}

/// One read of a device's posture: connect, `<get>` of `/system` and `/system-state`, close.
async fn poll(d: &Device) -> Result<SystemPosture, PollError> {
    let session = async {
        match &d.transport {
            Transport::Ssh {
                user,
                credential,
                known_hosts,
            } => {
                let auth = match credential {
                    SshCredential::PasswordFile(p) => SshAuth::Password(read_secret(p).await?),
                    SshCredential::KeyFile(k) => SshAuth::KeyFile {
                        path: k.clone(),
                        passphrase: None,
                    },
                };
                let policy = HostKeyPolicy::KnownHosts(known_hosts.clone());
                let mut cfg = SshConfig::new(&d.host, d.port, user, auth, policy);
                cfg.timeout = d.timeout;
                let c = ssh::connect(&cfg, Config::default()).await?;
                Ok(read_and_close(c, d.timeout).await?)
            }
            Transport::Tls { ca, cert, key } => {
                let mut cfg = TlsConfig::new(&d.host, d.port, ca, cert, key);
                cfg.timeout = d.timeout;
                let c = tls::connect(&cfg, Config::default()).await?;
                Ok(read_and_close(c, d.timeout).await?)
            }
        }
    };
    // Set-up, the <get> and the close are bounded one by one; this bounds them together.
    let all = d.timeout.saturating_mul(3);
    tokio::time::timeout(all, session)
        .await
        .map_err(|_| PollError::Timeout(all))?
}

/// The endpoint identifier under which the evaluator judges a device: `netconf:` and its
/// name (`GET /endpoints/netconf:NAME/evaluation`).
pub fn device_endpoint(name: &str) -> String {
    format!("netconf:{name}")
}

/// The evaluator's attributes of a device reading (`os_name`, `os_version` as for endpoints,
/// from ietf-system's platform; `hostname`, `machine`).
fn device_attributes(p: &SystemPosture) -> Vec<(String, String)> {
    use posture_evaluator::attributes;
    let pl = &p.platform;
    [
        (attributes::OS_NAME, pl.os_name.as_ref()),
        (
            attributes::OS_VERSION,
            pl.os_release.as_ref().or(pl.os_version.as_ref()),
        ),
        ("machine", pl.machine.as_ref()),
        ("hostname", p.hostname.as_ref()),
    ]
    .into_iter()
    .filter_map(|(k, v)| Some((k.to_owned(), v?.clone())))
    .collect()
}

/// Updates a poller's status (never held across an await).
fn record(status: &Mutex<Status>, f: impl FnOnce(&mut Status)) {
    f(&mut status
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner));
}

/// Polls `device` until `stop`: stores each reading, counts polls and errors.
async fn poll_loop(
    device: &Device,
    status: &Mutex<Status>,
    state: Arc<State>,
    permits: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) {
    let metrics = state.metrics.clone();
    let name = device.name.as_str();
    let mut failures = 0u32;
    let last = Arc::new(super::events::LastReading::default());
    loop {
        let result = tokio::select! {
            () = crate::stopped(&mut stop) => return,
            r = async {
                let _permit = permits.acquire().await;
                let at = clock::now();
                record(status, |s| s.last_attempt = Some(at));
                let posture = poll(device).await?;
                let reading = DevicePosture {
                    device: device.name.clone(),
                    at,
                    posture: posture_json(&posture),
                };
                let (st, last) = (state.clone(), last.clone());
                let attributes = device_attributes(&posture);
                tokio::task::spawn_blocking(move || {
                    super::events::store_device_reading(&*st.repo, &st.events, &last, &reading)?;
                    // The device is an endpoint for the evaluator (its OS attributes and
                    // when it was last read).
                    let id = device_endpoint(&reading.device);
                    st.repo.endpoint_seen(&id, reading.at)?;
                    st.eval.run("a device poll", RetryReason::ImvSeriousEvent, |e, s| {
                        e.on_attributes(s, &id, &attributes, reading.at)
                    });
                    Ok::<_, posture_repository::Error>(())
                })
                    .await
                    .map_err(|e| PollError::Repository(e.to_string()))?
                    .map_err(|e| PollError::Repository(e.to_string()))?;
                Ok::<_, PollError>((at, posture))
            } => r,
        };
        metrics.device_polls.fetch_add(1, Ordering::Relaxed);
        failures = match result {
            Ok((at, posture)) => {
                tracing::info!(
                    device = name,
                    hostname = posture.hostname.as_deref().unwrap_or(""),
                    "device posture stored"
                );
                record(status, |s| s.last_success = Some(at));
                0
            }
            Err(e) => {
                let failures = failures.saturating_add(1);
                metrics.device_poll_errors.fetch_add(1, Ordering::Relaxed);
                if matches!(e, PollError::Repository(_)) {
                    metrics.errors.fetch_add(1, Ordering::Relaxed);
                }
                tracing::warn!(device = name, error = %e, failures, "device poll failed");
                record(status, |s| {
                    s.errors += 1;
                    s.last_error = Some(e.to_string());
                });
                failures
            }
        };
        record(status, |s| {
            s.polls += 1;
            s.failures_in_a_row = failures;
        });
        let delay = next_delay(device.interval, failures, clock::noise());
        tokio::select! {
            () = crate::stopped(&mut stop) => return,
            () = tokio::time::sleep(delay) => {}
        }
    }
}

/// Starts one poller per device (at most 32 polls at once); the task ends once `stop` is
/// true and every poller has returned.
pub(crate) fn spawn(
    state: &Arc<State>,
    stop: &watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let permits = Arc::new(Semaphore::new(MAX_CONCURRENT_POLLS));
    let mut set = tokio::task::JoinSet::new();
    for i in 0..state.devices.0.len() {
        let (state, permits, stop) = (state.clone(), permits.clone(), stop.clone());
        set.spawn(async move {
            if let Some((device, status)) = state.devices.0.get(i) {
                poll_loop(device, status, state.clone(), permits, stop).await;
            }
        });
    }
    tokio::spawn(async move { while set.join_next().await.is_some() {} })
}

// -- HTTP API --

type Shared = Arc<State>;
type ApiResult = Result<Json<Value>, ApiError>;

fn device_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(bad_request(format!(
            "device name must be 1 to {MAX_NAME} bytes"
        )));
    }
    Ok(())
}

fn reading_json(p: &DevicePosture) -> Value {
    json!({"at": clock::rfc3339(p.at), "posture": p.posture})
}

/// `GET /devices`: the configured devices and their pollers' status.
async fn list(
    Extract(st): Extract<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    authorize(&st, &headers, Role::Read)?;
    only(&q, &[])?;
    let p = page(&q)?;
    let all = st.devices.json();
    let rows: Vec<Value> = all
        .into_iter()
        .skip(usize::try_from(p.offset).unwrap_or(usize::MAX))
        .take(usize::try_from(p.limit).unwrap_or(usize::MAX))
        .collect();
    Ok(Json(json!({ "devices": rows })))
}

/// `GET /devices/{name}/posture[?as_of=T]`: the last reading (at or before T).
async fn posture(
    Extract(st): Extract<Shared>,
    headers: HeaderMap,
    UrlPath(name): UrlPath<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    authorize(&st, &headers, Role::Read)?;
    if let Some(k) = q.keys().find(|k| *k != "as_of") {
        return Err(bad_request(format!("unknown parameter {k:?}")));
    }
    device_name(&name)?;
    let as_of = match q.get("as_of") {
        None => None,
        Some(t) => Some(
            clock::parse_rfc3339(t)
                .ok_or_else(|| bad_request("as_of must be YYYY-MM-DDTHH:MM:SSZ"))?,
        ),
    };
    let reading = st
        .repo
        .device_posture(&name, as_of)
        .map_err(|e| internal(&e))?;
    match reading {
        Some(r) => Ok(Json(json!({
            "device": name,
            "configured": st.devices.configured(&name),
            "reading": reading_json(&r),
        }))),
        None => Err(ApiError(
            StatusCode::NOT_FOUND,
            match as_of {
                Some(t) => format!(
                    "no reading of device {name:?} at or before {}",
                    clock::rfc3339(t)
                ),
                None => format!("no reading of device {name:?}"),
            },
        )),
    }
}

/// `GET /devices/{name}/history`: every stored reading, newest first.
async fn history(
    Extract(st): Extract<Shared>,
    headers: HeaderMap,
    UrlPath(name): UrlPath<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    authorize(&st, &headers, Role::Read)?;
    only(&q, &[])?;
    let p = page(&q)?;
    device_name(&name)?;
    let rows = st.repo.device_history(&name, p).map_err(|e| internal(&e))?;
    let configured = st.devices.configured(&name);
    if rows.is_empty() && !configured && p.offset == 0 {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("no device {name:?}"),
        ));
    }
    Ok(Json(json!({
        "device": name,
        "configured": configured,
        "readings": rows.iter().map(reading_json).collect::<Vec<_>>(),
    })))
}

/// The device routes of the API.
pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route("/devices", get(list))
        .route("/devices/{name}/posture", get(posture))
        .route("/devices/{name}/history", get(history))
}

/// Their OpenAPI paths.
pub(super) fn openapi_paths(
    offset: &Value,
    limit: &Value,
    ok: &Value,
) -> [(&'static str, Value); 3] {
    let name = json!({"name": "name", "in": "path", "required": true, "schema": {"type": "string"},
        "description": "device name from the --netconf-devices file (URL-encoded)"});
    let as_of = json!({"name": "as_of", "in": "query", "schema": {"type": "string"},
        "description": "YYYY-MM-DDTHH:MM:SSZ: the last reading at or before this time"});
    [
        (
            "/devices",
            json!({"get": {"summary": "Network devices polled over NETCONF, with their pollers' status",
            "parameters": [offset, limit], "responses": ok}}),
        ),
        (
            "/devices/{name}/posture",
            json!({"get": {"summary": "A device's ietf-system posture (RFC 7951 JSON) now, or as of a time",
            "parameters": [name, as_of], "responses": ok}}),
        ),
        (
            "/devices/{name}/history",
            json!({"get": {"summary": "Every stored reading of a device, newest first",
            "parameters": [name, offset, limit], "responses": ok}}),
        ),
    ]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn one(device: &str) -> Result<Vec<Device>, String> {
        parse(
            &format!("{{\"devices\": [{device}]}}"),
            Path::new("/etc/tnc"),
        )
    }

    const SSH: &str = r#""name": "sw1", "address": "192.0.2.1:830", "transport": "ssh", "user": "nc",
        "password_file": "sw1.pw", "known_hosts": "/var/kh""#;

    #[test]
    fn a_valid_file() {
        let text = format!(
            r#"{{"devices": [{{{SSH}, "poll_interval_secs": 60}},
            {{"name": "rtr", "address": "[2001:db8::1]:6513", "transport": "tls",
              "ca": "ca.pem", "cert": "c.pem", "key": "c.key", "timeout_secs": 5}},
            {{"name": "sw2", "address": "sw2.example:830", "transport": "ssh", "user": "nc",
              "key_file": "id", "known_hosts": "kh"}}]}}"#
        );
        let d = parse(&text, Path::new("/etc/tnc")).unwrap();
        assert_eq!(d.len(), 3);
        assert_eq!(d[0].name, "sw1");
        assert_eq!((d[0].host.as_str(), d[0].port), ("192.0.2.1", 830));
        assert_eq!(d[0].interval, Duration::from_secs(60));
        assert_eq!(d[0].timeout, Duration::from_secs(30));
        assert_eq!(
            d[0].transport,
            Transport::Ssh {
                user: "nc".into(),
                credential: SshCredential::PasswordFile("/etc/tnc/sw1.pw".into()),
                known_hosts: "/var/kh".into(),
            }
        );
        assert_eq!((d[1].host.as_str(), d[1].port), ("2001:db8::1", 6513));
        assert_eq!(d[1].interval, Duration::from_secs(300));
        assert_eq!(d[1].timeout, Duration::from_secs(5));
        assert_eq!(
            d[1].transport,
            Transport::Tls {
                ca: "/etc/tnc/ca.pem".into(),
                cert: "/etc/tnc/c.pem".into(),
                key: "/etc/tnc/c.key".into(),
            }
        );
        assert!(matches!(
            &d[2].transport,
            Transport::Ssh { credential: SshCredential::KeyFile(k), .. } if k == Path::new("/etc/tnc/id")
        ));
        assert_eq!(parse(r#"{"devices": []}"#, Path::new(".")).unwrap(), vec![]);
    }

    #[test]
    fn malformed_files_are_refused_with_the_reason() {
        let cases: &[(&str, &str)] = &[
            ("not json", "expected"),
            (r#"{"device": []}"#, "unknown field"),
            (r#"{"devices": [{"name": "x"}]}"#, "missing field"),
        ];
        for (text, want) in cases {
            let e = parse(text, Path::new(".")).unwrap_err();
            assert!(e.contains(want), "{text}: {e}");
        }
        let with = |extra: &str| one(&format!("{{{SSH}, {extra}}}")).unwrap_err();
        let cases: &[(String, &str)] = &[
            (with(r#""colour": "red""#), "unknown field `colour`"),
            (
                with(r#""poll_interval_secs": 0"#),
                "poll_interval_secs must be 1 to",
            ),
            (
                with(r#""poll_interval_secs": 99999999"#),
                "poll_interval_secs must be 1 to",
            ),
            (
                with(r#""timeout_secs": 601"#),
                "timeout_secs must be 1 to 600",
            ),
            (with(r#""key_file": "id""#), "not both"),
            (
                with(r#""cert": "c.pem""#),
                "cert does not apply to transport ssh",
            ),
            (with(r#""poll_interval_secs": -1"#), "invalid value"),
        ];
        for (e, want) in cases {
            assert!(e.contains(want), "{e}");
            assert!(
                e.contains("device 1 (\"sw1\")") || e.contains("line"),
                "{e}"
            );
        }
        let ssh = |fields: &str| {
            one(&format!(
                r#"{{"name": "sw1", "transport": "ssh", "user": "nc", {fields}}}"#
            ))
            .unwrap_err()
        };
        for address in [
            "192.0.2.1",
            "192.0.2.1:",
            ":830",
            "h:0",
            "h:65536",
            "h:port",
            "2001:db8::1:830",
            "[2001:db8::1:830",
            "bad host:830",
        ] {
            let e = ssh(&format!(
                r#""address": "{address}", "password_file": "p", "known_hosts": "k""#
            ));
            assert!(e.contains("is not HOST:PORT"), "{address}: {e}");
        }
        let e = ssh(r#""address": "h:830", "known_hosts": "k""#);
        assert!(e.contains("needs password_file or key_file"), "{e}");
        let e = ssh(r#""address": "h:830", "password_file": "p""#);
        assert!(e.contains("needs known_hosts"), "{e}");
        let e = one(
            r#"{"name": "r", "address": "h:6513", "transport": "tls", "ca": "a", "cert": "c"}"#,
        )
        .unwrap_err();
        assert!(e.contains("tls needs ca, cert and key"), "{e}");
        let e = one(
            r#"{"name": "r", "address": "h:6513", "transport": "tls", "ca": "a", "cert": "c",
                "key": "k", "password_file": "p"}"#,
        )
        .unwrap_err();
        assert!(
            e.contains("password_file does not apply to transport tls"),
            "{e}"
        );
        let e = one(r#"{"name": "r", "address": "h:1", "transport": "telnet"}"#).unwrap_err();
        assert!(e.contains("unknown variant `telnet`"), "{e}");
        let e = one(&format!(
            "{{{}}}",
            SSH.replace("\"user\": \"nc\"", "\"user\": \"\"")
        ))
        .unwrap_err();
        assert!(e.contains("ssh needs user"), "{e}");
        for name in ["", "a\nb", &"n".repeat(257)] {
            let e = one(&format!(
                "{{{}}}",
                SSH.replace("\"sw1\"", &format!("{name:?}"))
            ))
            .unwrap_err();
            assert!(e.contains("name must be 1 to 256 bytes"), "{name:?}: {e}");
        }
        let e = parse(
            &format!("{{\"devices\": [{{{SSH}}}, {{{SSH}}}]}}"),
            Path::new("."),
        )
        .unwrap_err();
        assert!(
            e.contains("device 2 (\"sw1\"): the name is also device 1's"),
            "{e}"
        );
    }

    #[test]
    fn load_bounds_the_file_and_names_it() {
        let dir = std::env::temp_dir().join(format!("nea-devices-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let big = dir.join("big.json");
        std::fs::write(&big, vec![b' '; 1024 * 1024 + 1]).unwrap();
        let e = load(&big).unwrap_err();
        assert!(e.to_string().contains("big.json: larger than"), "{e}");
        let e = load(&dir.join("missing.json")).unwrap_err();
        assert!(e.to_string().contains("missing.json"), "{e}");
        let ok = dir.join("devices.json");
        std::fs::write(&ok, format!("{{\"devices\": [{{{SSH}}}]}}")).unwrap();
        let d = load(&ok).unwrap();
        // Relative paths are relative to the file's folder.
        assert!(matches!(
            &d[0].transport,
            Transport::Ssh { credential: SshCredential::PasswordFile(p), .. } if *p == dir.join("sw1.pw")
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn backoff_doubles_to_an_hour_and_never_below_the_interval() {
        let s = Duration::from_secs;
        assert_eq!(next_delay(s(60), 0, 0), s(60));
        assert_eq!(next_delay(s(60), 1, 0), s(120));
        assert_eq!(next_delay(s(60), 2, 0), s(240));
        assert_eq!(next_delay(s(60), 6, 0), s(3600));
        assert_eq!(next_delay(s(60), u32::MAX, 0), s(3600));
        assert_eq!(next_delay(s(86_400), 3, 0), s(86_400));
        // Jitter: at most 10 % more.
        assert_eq!(next_delay(s(10), 0, 1000), s(11));
        assert_eq!(next_delay(s(10), 0, 1001), s(10));
        assert!(next_delay(s(10), 0, u32::MAX) <= s(11));
    }
}
