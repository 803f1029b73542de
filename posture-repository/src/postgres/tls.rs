//! The database URL and the TLS decision (profile §8.2.4: the link to a database that is not on
//! the loopback is protected by TLS with the server verified).
//!
//! The URL is libpq's: `postgres://USER[:PASSWORD]@HOST[:PORT]/DB?param=value&…`. Besides the
//! parameters tokio-postgres reads, three are handled here and removed before it parses the
//! rest: `sslrootcert=FILE` (PEM CA certificates that sign the server's certificate),
//! `sslmode=verify-full|verify-ca` (libpq names; both mean "TLS, verified": rustls always checks
//! the chain and the host name) and `pool_size=N` (connections in the pool).
//!
//! | host | `sslrootcert` | `sslmode` | connection |
//! |---|---|---|---|
//! | loopback (`localhost`, `127.0.0.0/8`, `::1`, a Unix socket) | none | not `require`/`verify-*` | plain |
//! | loopback | given | not `disable` | TLS, server verified |
//! | anything else | given | not `disable` | TLS, server verified |
//! | anything else | none, or `sslmode=disable` | | refused: [`Error::TlsRequired`] |

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use postgres::config::{Host, SslMode};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::error::{Error, Result};

/// How to connect.
#[derive(Clone)]
pub(super) enum Tls {
    /// No TLS (loopback only).
    Plain,
    /// TLS, the server's certificate verified against the URL's CA file and host name.
    Verified(tokio_postgres_rustls::MakeRustlsConnect),
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Plain => "Plain",
            Self::Verified(_) => "Verified",
        })
    }
}

/// A parsed database URL: tokio-postgres' settings plus ours.
#[derive(Debug)]
pub(super) struct Target {
    pub(super) config: postgres::Config,
    pub(super) ca_file: Option<String>,
    pub(super) pool_size: Option<usize>,
    /// `sslmode` asked for verification (`verify-full`, `verify-ca`).
    pub(super) verify: bool,
}

fn percent_decode(s: &str) -> Result<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| Error::InvalidUrl(format!("bad percent escape in {s:?}")))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| Error::InvalidUrl(format!("{s:?} is not UTF-8")))
}

/// Parses `url`, taking out the parameters handled here.
pub(super) fn parse(url: &str) -> Result<Target> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut keep = Vec::new();
    let (mut ca_file, mut pool_size, mut verify) = (None, None, false);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "sslrootcert" => ca_file = Some(percent_decode(v)?),
            "pool_size" => {
                let n = percent_decode(v)?
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| Error::InvalidUrl(format!("pool_size={v} is not a count")))?;
                pool_size = Some(n);
            }
            "sslmode" if matches!(v, "verify-full" | "verify-ca") => {
                verify = true;
                keep.push("sslmode=require");
            }
            _ => keep.push(pair),
        }
    }
    let rest = if keep.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", keep.join("&"))
    };
    let config = rest
        .parse::<postgres::Config>()
        // The error text names the bad part; the URL itself may hold a password.
        .map_err(|e| Error::InvalidUrl(e.to_string()))?;
    Ok(Target {
        config,
        ca_file,
        pool_size,
        verify,
    })
}

fn is_loopback_name(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The first host that is not on the loopback, if any. With `hostaddr` the connection goes to
/// those addresses (the host names only name the certificate), so they decide.
pub(super) fn remote_host(config: &postgres::Config) -> Option<String> {
    let addrs = config.get_hostaddrs();
    if !addrs.is_empty() {
        return addrs
            .iter()
            .find(|a| !a.is_loopback())
            .map(ToString::to_string);
    }
    config.get_hosts().iter().find_map(|h| match h {
        Host::Tcp(name) if !is_loopback_name(name) => Some(name.clone()),
        _ => None,
    })
}

/// Decides plain or verified TLS for `t` and sets its `sslmode` to match; loads the CA file
/// when TLS is used.
pub(super) fn plan(t: &mut Target) -> Result<Tls> {
    let mode = t.config.get_ssl_mode();
    let wants_tls = t.verify || mode == SslMode::Require;
    match (&t.ca_file, remote_host(&t.config)) {
        (None, Some(host)) => Err(Error::TlsRequired { host }),
        (Some(_), Some(host)) if mode == SslMode::Disable => Err(Error::TlsRequired { host }),
        (None, None) if wants_tls => Err(Error::InvalidUrl(
            "sslmode=require/verify-full needs sslrootcert=FILE (the CA of the server's certificate)"
                .into(),
        )),
        (None, None) => {
            t.config.ssl_mode(SslMode::Disable);
            Ok(Tls::Plain)
        }
        (Some(_), None) if mode == SslMode::Disable => Ok(Tls::Plain),
        (Some(ca), _) => {
            t.config.ssl_mode(SslMode::Require);
            Ok(Tls::Verified(connector(Path::new(ca))?))
        }
    }
}

fn connector(ca: &Path) -> Result<tokio_postgres_rustls::MakeRustlsConnect> {
    let io = |e: std::io::Error| Error::Io {
        path: ca.to_owned(),
        source: e,
    };
    let bad = |what: String| Error::Io {
        path: ca.to_owned(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, what),
    };
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(ca).map_err(|e| match e {
        rustls::pki_types::pem::Error::Io(e) => io(e),
        other => bad(other.to_string()),
    })?;
    for cert in certs {
        let cert = cert.map_err(|e| bad(e.to_string()))?;
        roots.add(cert).map_err(|e| bad(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(bad("no CA certificate in the file".into()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decide(url: &str) -> Result<&'static str> {
        let mut t = parse(url)?;
        Ok(match plan(&mut t)? {
            Tls::Plain => "plain",
            Tls::Verified(_) => "verified",
        })
    }

    fn ca_file() -> TempFile {
        let der = rcgen::generate_simple_self_signed(vec!["db.example".into()])
            .unwrap()
            .cert
            .pem();
        TempFile::with(der.as_bytes())
    }

    /// A file removed on drop.
    struct TempFile(std::path::PathBuf);

    mod temp_file {
        impl super::TempFile {
            pub(super) fn with(content: &[u8]) -> Self {
                use std::sync::atomic::{AtomicU32, Ordering};
                static N: AtomicU32 = AtomicU32::new(0);
                let p = std::env::temp_dir().join(format!(
                    "nea-pg-ca-{}-{}.pem",
                    std::process::id(),
                    N.fetch_add(1, Ordering::Relaxed)
                ));
                std::fs::write(&p, content).unwrap();
                Self(p)
            }
            pub(super) fn url(&self) -> String {
                self.0.display().to_string().replace('/', "%2F")
            }
        }
        impl Drop for super::TempFile {
            fn drop(&mut self) {
                let _ = std::fs::remove_file(&self.0);
            }
        }
    }

    #[test]
    fn loopback_may_be_plain() {
        for url in [
            "postgres://nea@127.0.0.1:55432/nea",
            "postgres://nea@127.8.9.10/nea",
            "postgres://nea@localhost/nea",
            "postgres://nea@LOCALHOST/nea",
            "postgres://nea@[::1]:5432/nea",
            "postgres://nea@%2Frun%2Fpostgresql/nea",
            "postgres://nea@db.example/nea?hostaddr=127.0.0.1",
            "host=/run/postgresql user=nea dbname=nea",
        ] {
            assert_eq!(decide(url).unwrap(), "plain", "{url}");
        }
    }

    #[test]
    fn a_host_off_the_loopback_requires_verified_tls() {
        // §8.2.4: no CA file, or TLS switched off, is refused before any connection.
        for (url, host) in [
            ("postgres://nea@db.example/nea", "db.example"),
            ("postgres://nea@10.0.0.5:5432/nea", "10.0.0.5"),
            ("postgres://nea@[2001:db8::1]/nea", "2001:db8::1"),
            (
                "postgres://nea@db.example/nea?sslmode=require",
                "db.example",
            ),
            // One remote host among loopback ones is enough.
            ("postgres://nea@127.0.0.1,db.example/nea", "db.example"),
            // hostaddr decides where the connection goes.
            (
                "postgres://nea@localhost/nea?hostaddr=192.0.2.9",
                "192.0.2.9",
            ),
            ("host=db.example user=nea", "db.example"),
        ] {
            match decide(url) {
                Err(Error::TlsRequired { host: h }) => assert_eq!(h, host, "{url}"),
                other => panic!("{url}: {other:?}"),
            }
        }
        let ca = ca_file();
        let url = format!(
            "postgres://nea@db.example/nea?sslmode=disable&sslrootcert={}",
            ca.url()
        );
        assert!(matches!(decide(&url), Err(Error::TlsRequired { .. })));
    }

    #[test]
    fn a_ca_file_gives_verified_tls_anywhere() {
        let ca = ca_file();
        for url in [
            format!("postgres://nea@db.example/nea?sslrootcert={}", ca.url()),
            format!(
                "postgres://nea@10.0.0.5/nea?sslmode=verify-full&sslrootcert={}&pool_size=3",
                ca.url()
            ),
            format!("postgres://nea@127.0.0.1/nea?sslrootcert={}", ca.url()),
        ] {
            assert_eq!(decide(&url).unwrap(), "verified", "{url}");
            let mut t = parse(&url).unwrap();
            plan(&mut t).unwrap();
            assert_eq!(t.config.get_ssl_mode(), SslMode::Require);
        }
        let t = parse(&format!(
            "postgres://nea@db.example/nea?pool_size=3&sslrootcert={}",
            ca.url()
        ))
        .unwrap();
        assert_eq!(t.pool_size, Some(3));
        assert_eq!(t.ca_file.as_deref(), Some(ca.0.to_str().unwrap()));
    }

    #[test]
    fn bad_tls_settings_are_refused() {
        // Verification asked for on the loopback without a CA to verify with.
        assert!(matches!(
            decide("postgres://nea@127.0.0.1/nea?sslmode=verify-full"),
            Err(Error::InvalidUrl(_))
        ));
        // A CA file that holds no certificate, or is missing.
        let empty = TempFile::with(b"not a certificate\n");
        let url = format!("postgres://nea@db.example/nea?sslrootcert={}", empty.url());
        assert!(matches!(decide(&url), Err(Error::Io { .. })), "{url}");
        assert!(matches!(
            decide("postgres://nea@db.example/nea?sslrootcert=%2Fnonexistent%2Fca.pem"),
            Err(Error::Io { .. })
        ));
        assert!(matches!(
            parse("postgres://nea@127.0.0.1/nea?pool_size=0"),
            Err(Error::InvalidUrl(_))
        ));
        assert!(matches!(
            parse("postgres://nea@127.0.0.1/nea?sslrootcert=%zz"),
            Err(Error::InvalidUrl(_))
        ));
    }
}
