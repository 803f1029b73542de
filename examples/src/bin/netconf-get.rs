//! `netconf-get`: read a device's datastores over NETCONF (SSH or TLS) and print them; with
//! `--ietf-system --json`, the RFC 7317 posture as JSON with YANG leaf names.
//!
//! ```text
//! netconf-get --host H --port P --user U (--password PW | --key FILE) [--known-hosts FILE]
//!             [--tls --ca CA --cert C --tls-key K]
//!             (--ietf-system | --get [--filter XPATH] | --get-config running|candidate [--filter XPATH])
//!             [--json]
//! ```
//! Exit 0 on success; 1 with the rpc-error or transport error on one line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgGroup, Parser};
use netconf_client::ietf_system::{NS_SYSTEM, SystemPosture};
use netconf_client::ssh::{self, HostKeyPolicy, SshAuth, SshConfig};
use netconf_client::tokio::{Client, ClientError};
use netconf_client::{Capabilities, Config, Data, Datastore, Filter, tls};
use serde_json::{Map, Value, json};
use tokio::io::{AsyncRead, AsyncWrite};

#[derive(Parser, Debug)]
#[command(
    name = "netconf-get",
    version,
    about = "Read a device's datastores over NETCONF"
)]
#[command(group(ArgGroup::new("what").required(true).args(["ietf_system", "get", "get_config"])))]
struct Args {
    /// Device host name or address.
    #[arg(long)]
    host: String,
    /// Port (SSH: 830, TLS: 6513 by default).
    #[arg(long)]
    port: Option<u16>,
    /// NETCONF user name.
    #[arg(long)]
    user: String,
    /// SSH password.
    #[arg(long, conflicts_with = "key", required_unless_present_any = ["key", "tls"])]
    password: Option<String>,
    /// SSH private key file (OpenSSH format).
    #[arg(long)]
    key: Option<PathBuf>,
    /// known_hosts file the SSH host key must be listed in (default ~/.ssh/known_hosts).
    #[arg(long)]
    known_hosts: Option<PathBuf>,
    /// Accept a host key absent from the known_hosts file (a changed key is still refused).
    #[arg(long)]
    accept_unknown_host_key: bool,
    /// Use NETCONF over TLS (RFC 7589) instead of SSH.
    #[arg(long, requires_all = ["ca", "cert", "tls_key"])]
    tls: bool,
    /// CA certificate(s) (PEM) for the server.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// Client certificate chain (PEM).
    #[arg(long)]
    cert: Option<PathBuf>,
    /// Client private key (PEM).
    #[arg(long)]
    tls_key: Option<PathBuf>,
    /// Print the RFC 7317 ietf-system posture (state and config).
    #[arg(long)]
    ietf_system: bool,
    /// `<get>` (state and config).
    #[arg(long)]
    get: bool,
    /// `<get-config>` of a datastore.
    #[arg(long, value_parser = ["running", "candidate"])]
    get_config: Option<String>,
    /// XPath filter (prefixes: YANG module names, or the usual prefix of a module the
    /// server announces, e.g. `sys`).
    #[arg(long)]
    filter: Option<String>,
    /// JSON output.
    #[arg(long)]
    json: bool,
    /// Give up after this many seconds: for the connection set-up (TCP connect, SSH or TLS,
    /// hello) together, and for each RPC's reply. The error names the phase that stalled.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
}

impl Args {
    fn limit(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.timeout)
    }
}

fn one_line(s: impl std::fmt::Display) -> String {
    s.to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args).await {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("netconf-get: {}", one_line(e));
            ExitCode::from(1)
        }
    }
}

async fn run(a: &Args) -> Result<String, ClientError> {
    if a.tls {
        let (Some(ca), Some(cert), Some(key)) = (&a.ca, &a.cert, &a.tls_key) else {
            return Err(ClientError::Tls(
                "--tls needs --ca, --cert and --tls-key".into(),
            ));
        };
        let mut cfg = tls::TlsConfig::new(&a.host, a.port.unwrap_or(6513), ca, cert, key);
        cfg.timeout = a.limit();
        let c = tls::connect(&cfg, Config::default()).await?;
        query(c, a).await
    } else {
        let auth = match (&a.password, &a.key) {
            (_, Some(k)) => SshAuth::KeyFile {
                path: k.clone(),
                passphrase: None,
            },
            (Some(p), None) => SshAuth::Password(p.clone()),
            (None, None) => return Err(ClientError::Auth("--password or --key needed".into())),
        };
        let kh = a.known_hosts.clone().or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".ssh/known_hosts"))
        });
        let policy = if a.accept_unknown_host_key {
            HostKeyPolicy::AcceptUnknown(kh)
        } else {
            HostKeyPolicy::KnownHosts(kh.ok_or(ClientError::HostKey(
                "no known_hosts file (use --known-hosts)".into(),
            ))?)
        };
        let mut cfg = SshConfig::new(&a.host, a.port.unwrap_or(830), &a.user, auth, policy);
        cfg.timeout = a.limit();
        let c = ssh::connect(&cfg, Config::default()).await?;
        query(c, a).await
    }
}

/// Usual prefixes of common modules, for XPath filters written with them.
const PREFIXES: &[(&str, &str)] = &[
    ("sys", "ietf-system"),
    ("nacm", "ietf-netconf-acm"),
    ("if", "ietf-interfaces"),
    ("ncm", "ietf-netconf-monitoring"),
    ("hw", "ietf-hardware"),
    ("yanglib", "ietf-yang-library"),
];

fn xpath_filter(select: &str, caps: &Capabilities) -> Filter {
    let mut namespaces: Vec<(String, String)> = Vec::new();
    for token in select.split(|c: char| !(c.is_alphanumeric() || "-_.:".contains(c))) {
        let Some((prefix, _)) = token.split_once(':') else {
            continue;
        };
        if prefix.is_empty() || namespaces.iter().any(|(p, _)| p == prefix) {
            continue;
        }
        let module = PREFIXES
            .iter()
            .find(|(p, _)| *p == prefix)
            .map_or(prefix, |(_, m)| *m);
        if let Some(c) = caps.module(module) {
            namespaces.push((prefix.to_owned(), c.base().to_owned()));
        }
    }
    Filter::XPath {
        select: select.to_owned(),
        namespaces,
    }
}

async fn query<S: AsyncRead + AsyncWrite + Unpin>(
    mut c: Client<S>,
    a: &Args,
) -> Result<String, ClientError> {
    c.set_rpc_timeout(Some(a.limit()));
    let filter = a
        .filter
        .as_deref()
        .map(|f| xpath_filter(f, c.capabilities()));
    let out = if a.ietf_system {
        let f = Filter::Subtree(format!(
            "<system xmlns=\"{NS_SYSTEM}\"/><system-state xmlns=\"{NS_SYSTEM}\"/>"
        ));
        let data = c.get(Some(f)).await?;
        let p = SystemPosture::from_data(&data).map_err(ClientError::Decode)?;
        if a.json {
            posture_json(&p).to_string()
        } else {
            posture_text(&p)
        }
    } else {
        let data = if let Some(ds) = &a.get_config {
            let ds = if ds == "candidate" {
                Datastore::Candidate
            } else {
                Datastore::Running
            };
            c.get_config(ds, filter).await?
        } else {
            c.get(filter).await?
        };
        data_out(&data, a.json)
    };
    c.close().await?;
    Ok(out)
}

fn data_out(d: &Data, json: bool) -> String {
    if json {
        json!({ "data": d.as_str() }).to_string()
    } else {
        d.as_str().trim().to_owned()
    }
}

fn put<T: Into<Value>>(m: &mut Map<String, Value>, k: &str, v: Option<T>) {
    if let Some(v) = v {
        m.insert(k.to_owned(), v.into());
    }
}

fn nonempty(m: Map<String, Value>) -> Option<Value> {
    (!m.is_empty()).then_some(Value::Object(m))
}

/// RFC 7317 posture as JSON, keys = YANG names, absent leaves omitted. Password hashes are
/// not printed.
fn posture_json(p: &SystemPosture) -> Value {
    let mut m = Map::new();
    put(&mut m, "hostname", p.hostname.clone());
    put(&mut m, "contact", p.contact.clone());
    put(&mut m, "location", p.location.clone());
    let mut clock = Map::new();
    put(&mut clock, "timezone-name", p.clock.timezone_name.clone());
    put(
        &mut clock,
        "timezone-utc-offset",
        p.clock.timezone_utc_offset,
    );
    put(
        &mut clock,
        "current-datetime",
        p.clock.current_datetime.clone(),
    );
    put(&mut clock, "boot-datetime", p.clock.boot_datetime.clone());
    put(&mut m, "clock", nonempty(clock));
    let mut plat = Map::new();
    put(&mut plat, "os-name", p.platform.os_name.clone());
    put(&mut plat, "os-release", p.platform.os_release.clone());
    put(&mut plat, "os-version", p.platform.os_version.clone());
    put(&mut plat, "machine", p.platform.machine.clone());
    put(&mut m, "platform", nonempty(plat));
    if let Some(ntp) = &p.ntp {
        let mut n = Map::new();
        put(&mut n, "enabled", ntp.enabled);
        let servers: Vec<Value> = ntp
            .servers
            .iter()
            .map(|s| {
                let mut e = Map::new();
                e.insert("name".into(), s.name.clone().into());
                put(&mut e, "address", s.address.clone());
                put(&mut e, "port", s.port);
                put(&mut e, "association-type", s.association_type.clone());
                put(&mut e, "iburst", s.iburst);
                put(&mut e, "prefer", s.prefer);
                Value::Object(e)
            })
            .collect();
        if !servers.is_empty() {
            n.insert("server".into(), servers.into());
        }
        m.insert("ntp".into(), Value::Object(n));
    }
    if let Some(d) = &p.dns_resolver {
        let mut n = Map::new();
        if !d.search.is_empty() {
            n.insert("search".into(), d.search.clone().into());
        }
        let servers: Vec<Value> = d
            .servers
            .iter()
            .map(|s| {
                let mut e = Map::new();
                e.insert("name".into(), s.name.clone().into());
                put(&mut e, "address", s.address.clone());
                put(&mut e, "port", s.port);
                Value::Object(e)
            })
            .collect();
        if !servers.is_empty() {
            n.insert("server".into(), servers.into());
        }
        let mut o = Map::new();
        put(&mut o, "timeout", d.timeout);
        put(&mut o, "attempts", d.attempts);
        put(&mut n, "options", nonempty(o));
        m.insert("dns-resolver".into(), Value::Object(n));
    }
    if let Some(auth) = &p.authentication {
        let mut n = Map::new();
        if !auth.user_authentication_order.is_empty() {
            n.insert(
                "user-authentication-order".into(),
                auth.user_authentication_order.clone().into(),
            );
        }
        let users: Vec<Value> = auth
            .users
            .iter()
            .map(|u| {
                let mut e = Map::new();
                e.insert("name".into(), u.name.clone().into());
                let keys: Vec<Value> = u
                    .authorized_keys
                    .iter()
                    .map(|k| {
                        let mut ke = Map::new();
                        ke.insert("name".into(), k.name.clone().into());
                        put(&mut ke, "algorithm", k.algorithm.clone());
                        put(&mut ke, "key-data", k.key_data.clone());
                        Value::Object(ke)
                    })
                    .collect();
                if !keys.is_empty() {
                    e.insert("authorized-key".into(), keys.into());
                }
                Value::Object(e)
            })
            .collect();
        if !users.is_empty() {
            n.insert("user".into(), users.into());
        }
        m.insert("authentication".into(), Value::Object(n));
    }
    Value::Object(m)
}

/// The same posture as indented `name: value` lines (the inspector's renderer over the JSON).
fn posture_text(p: &SystemPosture) -> String {
    nea_examples::inspect::to_text(&posture_json(p))
}
