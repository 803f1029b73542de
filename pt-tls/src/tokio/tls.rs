//! rustls configurations (ring provider) for PT-TLS from PEM files or bytes, so a binary does
//! not repeat the rustls set-up.
//!
//! - [`client_config`]: trusts the CA in `ca` (the enterprise CA that issued the NEA
//!   Server's certificate) and, with `identity`, presents the endpoint's certificate chain and
//!   key (mutual TLS).
//! - [`server_config`]: presents the NEA Server's chain and key and, by default
//!   ([`ClientCertificates::Required`]), admits only clients with a certificate issued by the
//!   CA in `ca`; [`ClientCertificates::Optional`] also admits clients without one (which then
//!   authenticate with SASL, RFC 6876 §3.8), still verifying a certificate when one is sent.
//!
//! Both use rustls' safe default protocol versions (TLS 1.2 and 1.3; RFC 6876 §3.4.3 requires
//! at least 1.2). PEM is read with rustls-pki-types' parser; every error names the input. A
//! file may hold several sections (e.g. chain and key together): each function takes the
//! sections of the kind it needs. Keys are PKCS#8, PKCS#1 or SEC1, unencrypted (an
//! `ENCRYPTED PRIVATE KEY` section is not read: "no private key found").
//!
//! ```no_run
//! use pt_tls::tokio::tls::{ClientCertificates, Pem, server_config};
//! let tls = server_config(
//!     &Pem::file("/etc/tnc/ca.pem"),
//!     &Pem::file("/etc/tnc/manager.pem"),
//!     &Pem::file("/etc/tnc/manager.key"),
//!     ClientCertificates::Required,
//! )?;
//! # Ok::<(), pt_tls::tokio::tls::TlsConfigError>(())
//! ```

use core::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};

/// Where PEM text comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum Pem {
    /// A file, read when the configuration is built.
    File(PathBuf),
    /// PEM text in memory; `name` is what errors call it.
    Bytes {
        /// A name for error messages (e.g. `"CA"`, an environment variable's name).
        name: String,
        /// The PEM text.
        pem: Vec<u8>,
    },
}

impl Pem {
    /// PEM from a file.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self::File(path.into())
    }

    /// PEM text in memory, called `name` in errors.
    pub fn bytes(name: impl Into<String>, pem: impl Into<Vec<u8>>) -> Self {
        Self::Bytes {
            name: name.into(),
            pem: pem.into(),
        }
    }

    fn certificates(&self) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
        let items: Result<Vec<_>, _> = match self {
            Self::File(p) => CertificateDer::pem_file_iter(p)
                .map_err(|e| self.error("certificates", e))?
                .collect(),
            Self::Bytes { pem, .. } => CertificateDer::pem_slice_iter(pem).collect(),
        };
        let items = items.map_err(|e| self.error("certificates", e))?;
        if items.is_empty() {
            return Err(TlsConfigError::Empty {
                input: self.to_string(),
                what: "certificate",
            });
        }
        Ok(items)
    }

    fn private_key(&self) -> Result<PrivateKeyDer<'static>, TlsConfigError> {
        let r = match self {
            Self::File(p) => PrivateKeyDer::from_pem_file(p),
            Self::Bytes { pem, .. } => PrivateKeyDer::from_pem_slice(pem),
        };
        r.map_err(|e| match e {
            rustls::pki_types::pem::Error::NoItemsFound => TlsConfigError::Empty {
                input: self.to_string(),
                what: "private key",
            },
            e => self.error("private key", e),
        })
    }

    fn error(&self, what: &'static str, e: rustls::pki_types::pem::Error) -> TlsConfigError {
        TlsConfigError::Pem {
            input: self.to_string(),
            what,
            reason: e.to_string(),
        }
    }
}

impl fmt::Display for Pem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(p) => write!(f, "{}", p.display()),
            Self::Bytes { name, .. } => write!(f, "{name} (PEM in memory)"),
        }
    }
}

impl fmt::Debug for Pem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the bytes: they may hold a private key.
        write!(f, "Pem({self})")
    }
}

/// Whether the NEA Server asks TLS clients for a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ClientCertificates {
    /// Every client must present a certificate issued by the CA (mutual TLS).
    #[default]
    Required,
    /// A client may come without a certificate (and authenticate with SASL); one it sends
    /// is verified against the CA all the same.
    Optional,
}

/// Why a TLS configuration could not be built; each names the PEM input concerned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsConfigError {
    /// The PEM input could not be read or parsed.
    #[error("{what} in {input}: {reason}")]
    Pem {
        /// The input (file path or in-memory name).
        input: String,
        /// What was being read.
        what: &'static str,
        /// What went wrong (including "No such file or directory").
        reason: String,
    },
    /// The PEM input holds no item of the kind needed.
    #[error("no {what} found in {input}")]
    Empty {
        /// The input (file path or in-memory name).
        input: String,
        /// What was looked for.
        what: &'static str,
    },
    /// A CA certificate could not be used as a trust anchor.
    #[error("CA certificate in {input} is not usable as a trust anchor: {reason}")]
    TrustAnchor {
        /// The input.
        input: String,
        /// rustls' reason.
        reason: String,
    },
    /// rustls refused the certificate chain and key (e.g. the key does not match).
    #[error("certificate {cert} with key {key}: {reason}")]
    CertifiedKey {
        /// The certificate chain input.
        cert: String,
        /// The key input.
        key: String,
        /// rustls' reason.
        reason: String,
    },
    /// The ring provider offers no usable protocol version (cannot happen with rustls' own
    /// ring provider; kept so that nothing here panics).
    #[error("rustls ring provider: {reason}")]
    Provider {
        /// rustls' reason.
        reason: String,
    },
    /// Building the client certificate verifier failed.
    #[error("client certificate verifier for CA {input}: {reason}")]
    Verifier {
        /// The CA input.
        input: String,
        /// rustls' reason.
        reason: String,
    },
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn roots(ca: &Pem) -> Result<Arc<RootCertStore>, TlsConfigError> {
    let mut roots = RootCertStore::empty();
    for cert in ca.certificates()? {
        roots.add(cert).map_err(|e| TlsConfigError::TrustAnchor {
            input: ca.to_string(),
            reason: e.to_string(),
        })?;
    }
    Ok(Arc::new(roots))
}

fn certified(
    cert: &Pem,
    key: &Pem,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsConfigError> {
    Ok((cert.certificates()?, key.private_key()?))
}

fn provider_error(e: rustls::Error) -> TlsConfigError {
    TlsConfigError::Provider {
        reason: e.to_string(),
    }
}

fn certified_error(cert: &Pem, key: &Pem, e: &rustls::Error) -> TlsConfigError {
    TlsConfigError::CertifiedKey {
        cert: cert.to_string(),
        key: key.to_string(),
        reason: e.to_string(),
    }
}

/// The NEA Client's TLS configuration: trusts the CA certificates in `ca`; with
/// `identity = Some((chain, key))` presents that certificate chain (end-entity first) and
/// private key (PKCS#8, PKCS#1 or SEC1).
pub fn client_config(
    ca: &Pem,
    identity: Option<(&Pem, &Pem)>,
) -> Result<Arc<ClientConfig>, TlsConfigError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(provider_error)?
        .with_root_certificates(roots(ca)?);
    let config = match identity {
        Some((cert, key)) => {
            let (chain, private) = certified(cert, key)?;
            builder
                .with_client_auth_cert(chain, private)
                .map_err(|e| certified_error(cert, key, &e))?
        }
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// The NEA Server's TLS configuration: presents `cert` (chain, end-entity first) and `key`,
/// and verifies client certificates against the CA certificates in `ca` as `clients` says.
pub fn server_config(
    ca: &Pem,
    cert: &Pem,
    key: &Pem,
    clients: ClientCertificates,
) -> Result<Arc<ServerConfig>, TlsConfigError> {
    let verifier = WebPkiClientVerifier::builder_with_provider(roots(ca)?, provider());
    let verifier = match clients {
        ClientCertificates::Required => verifier,
        ClientCertificates::Optional => verifier.allow_unauthenticated(),
    }
    .build()
    .map_err(|e| TlsConfigError::Verifier {
        input: ca.to_string(),
        reason: e.to_string(),
    })?;
    let (chain, private) = certified(cert, key)?;
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(provider_error)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, private)
        .map_err(|e| certified_error(cert, key, &e))?;
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_input() {
        let missing = Pem::file("/nonexistent/ca.pem");
        let e = client_config(&missing, None).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
        let empty = Pem::bytes("CA", "no pem here");
        let e = client_config(&empty, None).unwrap_err();
        assert_eq!(e.to_string(), "no certificate found in CA (PEM in memory)");
        let ca = rcgen::CertificateParams::new(Vec::<String>::new())
            .unwrap()
            .self_signed(&rcgen::KeyPair::generate().unwrap())
            .unwrap()
            .pem();
        let e = server_config(
            &Pem::bytes("CA", ca.clone()),
            &Pem::bytes("server cert", ca.clone()),
            &Pem::bytes("server key", ca),
            ClientCertificates::Required,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "no private key found in server key (PEM in memory)"
        );
        assert_eq!(
            format!("{:?}", Pem::bytes("key", "-----BEGIN PRIVATE KEY-----")),
            "Pem(key (PEM in memory))"
        );
    }

    fn self_signed() -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        (cert.pem(), key.serialize_pem())
    }

    #[test]
    fn chain_and_key_in_one_file_and_a_mismatched_key() {
        let (cert, key) = self_signed();
        let dir = std::env::temp_dir().join(format!("pt-tls-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let both = dir.join("both.pem");
        std::fs::write(&both, format!("{cert}{key}")).unwrap();
        let ca = Pem::bytes("CA", cert.clone());
        let r = server_config(
            &ca,
            &Pem::file(&both),
            &Pem::file(&both),
            ClientCertificates::Optional,
        );
        let r2 = client_config(&ca, Some((&Pem::file(&both), &Pem::file(&both))));
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(r.is_ok() && r2.is_ok(), "{r:?} {r2:?}");

        let (_, other_key) = self_signed();
        let e = server_config(
            &ca,
            &Pem::bytes("server cert", cert),
            &Pem::bytes("other key", other_key),
            ClientCertificates::Required,
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, TlsConfigError::CertifiedKey { .. }), "{msg}");
        assert!(
            msg.contains("server cert") && msg.contains("other key"),
            "{msg}"
        );
    }
}
