//! `netconf-get`: read a device's datastores over NETCONF (SSH or TLS) and print them; with
//! `--json`, as JSON in RFC 7951 form (`--ietf-system`: the RFC 7317 posture with its YANG
//! names; `--get`/`--get-config`: the `<data>` content converted without a schema).
//!
//! ```text
//! netconf-get --host H --port P --user U
//!             (--password PW | --password-file FILE | --password-env VAR | --key FILE)
//!             [--known-hosts FILE] [--timeout SECONDS]
//!             [--tls --ca CA --cert C --tls-key K]
//!             (--ietf-system | --get [--filter XPATH] | --get-config running|candidate [--filter XPATH])
//!             [--json]
//! ```
//! Exit 0 on success; 1 with the rpc-error or transport error on one line.

use std::borrow::Cow;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgGroup, Parser};
use nea_examples::ietf_system_json::{posture_json, read_posture};
use netconf_client::ietf_system::SystemPosture;
use netconf_client::ssh::{self, HostKeyPolicy, SshAuth, SshConfig};
use netconf_client::tokio::{Client, ClientError};
use netconf_client::{Capabilities, Config, Data, Datastore, DecodeError, Filter, XmlEvent, tls};
use serde_json::{Map, Value};
use tokio::io::{AsyncRead, AsyncWrite};

#[derive(Parser, Debug)]
#[command(
    name = "netconf-get",
    version,
    about = "Read a device's datastores over NETCONF"
)]
#[command(group(ArgGroup::new("what").required(true).args(["ietf_system", "get", "get_config"])))]
#[command(group(ArgGroup::new("credentials").args(["password", "password_file", "password_env", "key"])))]
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
    /// SSH password (visible to other users in the process list: prefer --password-file or
    /// --password-env).
    #[arg(long)]
    password: Option<String>,
    /// File whose first line is the SSH password.
    #[arg(long)]
    password_file: Option<PathBuf>,
    /// Name of an environment variable holding the SSH password.
    #[arg(long)]
    password_env: Option<String>,
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
            use std::io::Write;
            // A reader that went away (`| head`) is not worth a panic.
            match writeln!(std::io::stdout().lock(), "{out}") {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("netconf-get: stdout: {e}");
                    ExitCode::from(1)
                }
            }
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
        let auth = match (password(a)?, &a.key) {
            (_, Some(k)) => SshAuth::KeyFile {
                path: k.clone(),
                passphrase: None,
            },
            (Some(p), None) => SshAuth::Password(p),
            (None, None) => {
                return Err(ClientError::Auth(
                    "--password, --password-file, --password-env or --key needed".into(),
                ));
            }
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

/// The SSH password from the command line, a file (its first line, at most 4 KiB read) or an
/// environment variable.
fn password(a: &Args) -> Result<Option<String>, ClientError> {
    use std::io::Read;
    if let Some(p) = &a.password {
        return Ok(Some(p.clone()));
    }
    if let Some(f) = &a.password_file {
        let mut text = String::new();
        std::fs::File::open(f)
            .and_then(|h| h.take(4096).read_to_string(&mut text))
            .map_err(|e| ClientError::Auth(format!("password file {}: {e}", f.display())))?;
        return Ok(Some(text.lines().next().unwrap_or_default().to_owned()));
    }
    if let Some(v) = &a.password_env {
        return std::env::var(v)
            .map(Some)
            .map_err(|_| ClientError::Auth(format!("environment variable {v} is not set")));
    }
    Ok(None)
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
        let p = read_posture(&mut c).await?;
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
        data_out(&data, a.json, c.capabilities())?
    };
    c.close().await?;
    Ok(out)
}

fn data_out(d: &Data, json: bool, caps: &Capabilities) -> Result<String, ClientError> {
    if json {
        Ok(data_json(d, caps).map_err(ClientError::Decode)?.to_string())
    } else {
        Ok(d.as_str().trim().to_owned())
    }
}

/// The module that defines XML namespace `ns`, from the server's capabilities (RFC 6020
/// §5.6.4: `namespace?module=name`); the namespace itself if none says.
fn module_of<'c>(ns: &'c str, caps: &'c Capabilities) -> Cow<'c, str> {
    caps.iter()
        .find(|c| c.base() == ns)
        .and_then(|c| c.param("module"))
        .map_or(Cow::Borrowed(ns), Cow::Owned)
}

/// One open element while `<data>` is turned into JSON.
struct Node {
    namespace: String,
    name: String,
    members: Map<String, Value>,
    text: String,
}

/// The content of `<data>` as JSON in the shape of RFC 7951 without a YANG schema: member
/// names are qualified `module:name` at the top and wherever the namespace changes (the
/// module taken from the capabilities); an element with children is an object, one without
/// is its text; siblings of the same name become an array. Without the schema every leaf is
/// a string, an empty leaf is `""`, and a list with a single entry is an object.
fn data_json(d: &Data, caps: &Capabilities) -> Result<Value, DecodeError> {
    let mut r = d.reader()?;
    let mut stack = vec![Node {
        namespace: String::new(),
        name: String::new(),
        members: Map::new(),
        text: String::new(),
    }];
    while let Some(ev) = r.next_event()? {
        match ev {
            XmlEvent::Start { namespace, name } => {
                let parent_ns = stack.last().map_or("", |n| n.namespace.as_str());
                let key = if namespace == parent_ns {
                    name.to_owned()
                } else {
                    format!("{}:{name}", module_of(namespace, caps))
                };
                stack.push(Node {
                    namespace: namespace.to_owned(),
                    name: key,
                    members: Map::new(),
                    text: String::new(),
                });
            }
            XmlEvent::Text(t) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(t);
                }
            }
            XmlEvent::End => {
                let (Some(node), Some(parent)) = (stack.pop(), stack.last_mut()) else {
                    break;
                };
                let value = if node.members.is_empty() {
                    Value::String(node.text)
                } else {
                    Value::Object(node.members)
                };
                match parent.members.get_mut(&node.name) {
                    Some(Value::Array(a)) => a.push(value),
                    Some(v) => {
                        let first = v.take();
                        *v = Value::Array(vec![first, value]);
                    }
                    None => {
                        parent.members.insert(node.name, value);
                    }
                }
            }
        }
    }
    Ok(stack
        .pop()
        .map_or(Value::Object(Map::new()), |n| Value::Object(n.members)))
}

/// The same posture as indented `name: value` lines (the inspector's renderer over the JSON).
fn posture_text(p: &SystemPosture) -> String {
    nea_examples::inspect::to_text(&posture_json(p))
}
