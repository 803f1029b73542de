//! NETCONF over TLS (RFC 7589) with rustls: mutual X.509 authentication, TLS 1.2 or later,
//! the server identified by its certificate for the host name (RFC 7589 §5, RFC 6125), the
//! client by its certificate (the server maps it to a NETCONF user name, RFC 7589 §7).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::config::Config;
use crate::tokio::{Client, ClientError, Deadline, Phase};

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    /// Host name or address (also the name the server certificate must match).
    pub host: String,
    /// TCP port (6513 is the IANA NETCONF-over-TLS port).
    pub port: u16,
    /// PEM file with the CA certificate(s) trusted for the server.
    pub ca: PathBuf,
    /// PEM file with the client certificate chain.
    pub cert: PathBuf,
    /// PEM file with the client private key.
    pub key: PathBuf,
    /// Timeout for connect + handshake + hello.
    pub timeout: Duration,
}

impl TlsConfig {
    /// A config with a 30 s timeout.
    #[must_use]
    pub fn new(
        host: impl Into<String>,
        port: u16,
        ca: impl Into<PathBuf>,
        cert: impl Into<PathBuf>,
        key: impl Into<PathBuf>,
    ) -> Self {
        Self {
            host: host.into(),
            port,
            ca: ca.into(),
            cert: cert.into(),
            key: key.into(),
            timeout: Duration::from_secs(30),
        }
    }
}

fn tls_err(what: &str, e: impl std::fmt::Display) -> ClientError {
    ClientError::Tls(format!("{what}: {e}"))
}

/// The rustls client configuration (ring provider, TLS 1.2 and 1.3, client certificate).
pub fn client_config(cfg: &TlsConfig) -> Result<rustls::ClientConfig, ClientError> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(&cfg.ca).map_err(|e| tls_err("ca file", e))? {
        roots
            .add(c.map_err(|e| tls_err("ca file", e))?)
            .map_err(|e| tls_err("ca certificate", e))?;
    }
    if roots.is_empty() {
        return Err(ClientError::Tls("ca file holds no certificate".into()));
    }
    let chain = CertificateDer::pem_file_iter(&cfg.cert)
        .map_err(|e| tls_err("client certificate file", e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls_err("client certificate file", e))?;
    let key = PrivateKeyDer::from_pem_file(&cfg.key).map_err(|e| tls_err("client key file", e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        // RFC 7589 §3: TLS 1.2 or later
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| tls_err("protocol versions", e))?
        .with_root_certificates(roots)
        // RFC 7589 §5: the client MUST present a certificate
        .with_client_auth_cert(chain, key)
        .map_err(|e| tls_err("client certificate", e))
}

/// Opens the TLS connection (no NETCONF hello yet) within `cfg.timeout`.
pub async fn open(cfg: &TlsConfig) -> Result<TlsStream<TcpStream>, ClientError> {
    open_by(cfg, Deadline::after(cfg.timeout)).await
}

async fn open_by(cfg: &TlsConfig, deadline: Deadline) -> Result<TlsStream<TcpStream>, ClientError> {
    let connector = TlsConnector::from(Arc::new(client_config(cfg)?));
    let name = ServerName::try_from(cfg.host.clone()).map_err(|e| tls_err("server name", e))?;
    let tcp = deadline.tcp(&cfg.host, cfg.port).await?;
    deadline
        .run(Phase::Tls, async {
            connector
                .connect(name, tcp)
                .await
                .map_err(|e| tls_err("handshake", e))
        })
        .await
}

/// Connects, completes the TLS handshake and exchanges hellos, all within `cfg.timeout`; a
/// timeout names the phase that stalled ([`Phase`]).
pub async fn connect(
    cfg: &TlsConfig,
    config: Config,
) -> Result<Client<TlsStream<TcpStream>>, ClientError> {
    let deadline = Deadline::after(cfg.timeout);
    let t = open_by(cfg, deadline).await?;
    deadline.hello(t, config).await
}

/// Blocking [`connect`].
pub fn connect_blocking(
    cfg: &TlsConfig,
    config: Config,
) -> Result<crate::blocking::BlockingClient<TlsStream<TcpStream>>, ClientError> {
    crate::blocking::connect(connect(cfg, config))
}
