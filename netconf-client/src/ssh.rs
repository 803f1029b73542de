//! NETCONF over SSH (RFC 6242) with russh: password or public-key authentication, host key
//! checked against a known-hosts file (unknown keys refused unless the caller opts in),
//! the `netconf` subsystem.

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use russh::client;
use russh::keys::{PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::config::Config;
use crate::tokio::{Client, ClientError, Deadline, Phase};
use tokio::net::TcpStream;

/// How to authenticate.
#[derive(Clone)]
#[non_exhaustive]
pub enum SshAuth {
    /// Password authentication.
    Password(String),
    /// Public-key authentication with an OpenSSH private key file.
    KeyFile {
        /// Path to the private key.
        path: PathBuf,
        /// Passphrase, if the key is encrypted.
        passphrase: Option<String>,
    },
}

impl std::fmt::Debug for SshAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Password(_) => f.write_str("Password(..)"),
            Self::KeyFile { path, .. } => f.debug_struct("KeyFile").field("path", path).finish(),
        }
    }
}

/// How the server's host key is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostKeyPolicy {
    /// The key must be listed for `[host]:port` in this known-hosts file.
    KnownHosts(PathBuf),
    /// Keys listed in the file must match; a host absent from it is accepted (opt-in, TOFU
    /// without storing). A changed key is still refused.
    AcceptUnknown(Option<PathBuf>),
}

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct SshConfig {
    /// Host name or address.
    pub host: String,
    /// TCP port (830 is the IANA NETCONF-over-SSH port).
    pub port: u16,
    /// User name.
    pub user: String,
    /// Credentials.
    pub auth: SshAuth,
    /// Host key check.
    pub host_keys: HostKeyPolicy,
    /// Timeout for connect + SSH (handshake, authentication, subsystem) + hello together.
    pub timeout: Duration,
}

impl SshConfig {
    /// A config with a 30 s timeout.
    #[must_use]
    pub fn new(
        host: impl Into<String>,
        port: u16,
        user: impl Into<String>,
        auth: SshAuth,
        host_keys: HostKeyPolicy,
    ) -> Self {
        Self {
            host: host.into(),
            port,
            user: user.into(),
            auth,
            host_keys,
            timeout: Duration::from_secs(30),
        }
    }
}

/// russh handler: checks the host key.
#[derive(Debug)]
struct Verifier {
    host: String,
    port: u16,
    policy: HostKeyPolicy,
}

#[derive(Debug)]
enum HandlerError {
    Ssh(russh::Error),
    HostKey(String),
}

impl From<russh::Error> for HandlerError {
    fn from(e: russh::Error) -> Self {
        Self::Ssh(e)
    }
}

impl client::Handler for Verifier {
    type Error = HandlerError;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let PublicKeyOrCertificate::PublicKey { key, .. } = key else {
            return Err(HandlerError::HostKey(
                "host certificates are not supported".into(),
            ));
        };
        let (path, accept_unknown) = match &self.policy {
            HostKeyPolicy::KnownHosts(p) => (Some(p), false),
            HostKeyPolicy::AcceptUnknown(p) => (p.as_ref(), true),
        };
        let fp = key.fingerprint(russh::keys::HashAlg::Sha256);
        let known = match path {
            Some(p) => match russh::keys::check_known_hosts_path(&self.host, self.port, key, p) {
                Ok(k) => k,
                Err(russh::keys::Error::KeyChanged { line }) => {
                    return Err(HandlerError::HostKey(format!(
                        "host key {fp} for [{}]:{} differs from {} line {line}",
                        self.host,
                        self.port,
                        p.display()
                    )));
                }
                Err(e) => return Err(HandlerError::HostKey(format!("known-hosts: {e}"))),
            },
            None => false,
        };
        if known || accept_unknown {
            return Ok(true);
        }
        Err(HandlerError::HostKey(format!(
            "unknown host key {fp} for [{}]:{}",
            self.host, self.port
        )))
    }
}

/// The `netconf` subsystem channel as a byte stream (keeps the SSH connection alive).
pub struct SshTransport {
    stream: russh::ChannelStream<client::Msg>,
    _handle: client::Handle<Verifier>,
}

impl std::fmt::Debug for SshTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SshTransport")
    }
}

impl AsyncRead for SshTransport {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for SshTransport {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

fn ssh_err(e: HandlerError) -> ClientError {
    match e {
        HandlerError::HostKey(m) => ClientError::HostKey(m),
        HandlerError::Ssh(e) => ClientError::Ssh(e.to_string()),
    }
}

/// Opens the SSH `netconf` subsystem (no NETCONF hello yet) within `cfg.timeout`.
pub async fn open(cfg: &SshConfig) -> Result<SshTransport, ClientError> {
    open_by(cfg, Deadline::after(cfg.timeout)).await
}

async fn open_by(cfg: &SshConfig, deadline: Deadline) -> Result<SshTransport, ClientError> {
    let tcp = deadline.tcp(&cfg.host, cfg.port).await?;
    deadline.run(Phase::Ssh, ssh_session(cfg, tcp)).await
}

/// SSH over the connected `tcp`: handshake, host key check, authentication, subsystem.
async fn ssh_session(cfg: &SshConfig, tcp: TcpStream) -> Result<SshTransport, ClientError> {
    let ssh = Arc::new(client::Config {
        nodelay: true,
        ..client::Config::default()
    });
    let verifier = Verifier {
        host: cfg.host.clone(),
        port: cfg.port,
        policy: cfg.host_keys.clone(),
    };
    let mut handle = client::connect_stream(ssh, tcp, verifier)
        .await
        .map_err(ssh_err)?;
    let auth = match &cfg.auth {
        SshAuth::Password(pw) => handle
            .authenticate_password(cfg.user.clone(), pw.clone())
            .await
            .map_err(|e| ClientError::Ssh(e.to_string()))?,
        SshAuth::KeyFile { path, passphrase } => {
            let key = russh::keys::load_secret_key(path, passphrase.as_deref())
                .map_err(|e| ClientError::Auth(format!("key {}: {e}", path.display())))?;
            let hash = handle
                .best_supported_rsa_hash()
                .await
                .map_err(|e| ClientError::Ssh(e.to_string()))?
                .flatten();
            handle
                .authenticate_publickey(
                    cfg.user.clone(),
                    PrivateKeyWithHashAlg::new(Arc::new(key), hash),
                )
                .await
                .map_err(|e| ClientError::Ssh(e.to_string()))?
        }
    };
    if !auth.success() {
        return Err(ClientError::Auth(format!("user {} rejected", cfg.user)));
    }
    let channel = handle
        .channel_open_session()
        .await
        .map_err(|e| ClientError::Ssh(e.to_string()))?;
    // RFC 6242 §3: the NETCONF subsystem is named "netconf"
    channel
        .request_subsystem(true, "netconf")
        .await
        .map_err(|e| ClientError::Ssh(e.to_string()))?;
    Ok(SshTransport {
        stream: channel.into_stream(),
        _handle: handle,
    })
}

/// Connects, authenticates, opens the subsystem and exchanges hellos, all within
/// `cfg.timeout`; a timeout names the phase that stalled ([`Phase`]).
pub async fn connect(cfg: &SshConfig, config: Config) -> Result<Client<SshTransport>, ClientError> {
    let deadline = Deadline::after(cfg.timeout);
    let t = open_by(cfg, deadline).await?;
    deadline.hello(t, config).await
}

/// Blocking [`connect`].
pub fn connect_blocking(
    cfg: &SshConfig,
    config: Config,
) -> Result<crate::blocking::BlockingClient<SshTransport>, ClientError> {
    crate::blocking::connect(connect(cfg, config))
}
