//! Throwaway certificates (rcgen) for the demo and the tests: a CA, a manager certificate for
//! `localhost`/`127.0.0.1`, endpoint certificates. Never for production.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

/// A CA that signs leaf certificates.
pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    /// The CA certificate (PEM).
    pub pem: String,
}

impl core::fmt::Debug for Ca {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ca").finish_non_exhaustive()
    }
}

/// Paths of a written certificate and key.
#[derive(Debug, Clone)]
pub struct Files {
    /// Certificate (PEM).
    pub cert: PathBuf,
    /// Private key (PEM, PKCS#8).
    pub key: PathBuf,
}

impl Ca {
    /// A new self-signed CA named `name`.
    pub fn new(name: &str) -> Result<Self, rcgen::Error> {
        let key = KeyPair::generate()?;
        let mut p = CertificateParams::new(Vec::<String>::new())?;
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name = DistinguishedName::new();
        p.distinguished_name.push(DnType::CommonName, name);
        p.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = p.self_signed(&key)?;
        Ok(Self {
            pem: cert.pem(),
            issuer: Issuer::new(p, key),
        })
    }

    /// A leaf certificate for `cn` (also its DNS name) and `sans`, written as
    /// `dir/NAME.pem` and `dir/NAME.key`.
    pub fn leaf(
        &self,
        dir: &Path,
        file: &str,
        cn: &str,
        sans: &[&str],
        server: bool,
    ) -> std::io::Result<Files> {
        let err = |e: rcgen::Error| std::io::Error::other(e.to_string());
        let key = KeyPair::generate().map_err(err)?;
        let mut p =
            CertificateParams::new(sans.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
                .map_err(err)?;
        p.distinguished_name = DistinguishedName::new();
        p.distinguished_name
            .push(DnType::OrganizationName, "Example");
        p.distinguished_name.push(DnType::CommonName, cn);
        p.extended_key_usages = vec![if server {
            ExtendedKeyUsagePurpose::ServerAuth
        } else {
            ExtendedKeyUsagePurpose::ClientAuth
        }];
        let cert = p.signed_by(&key, &self.issuer).map_err(err)?;
        let files = Files {
            cert: dir.join(format!("{file}.pem")),
            key: dir.join(format!("{file}.key")),
        };
        std::fs::write(&files.cert, cert.pem())?;
        std::fs::write(&files.key, key.serialize_pem())?;
        Ok(files)
    }

    /// Writes the CA certificate to `dir/FILE.pem`.
    pub fn write(&self, dir: &Path, file: &str) -> std::io::Result<PathBuf> {
        let p = dir.join(format!("{file}.pem"));
        std::fs::write(&p, &self.pem)?;
        Ok(p)
    }
}
