//! The identity a TLS client certificate carries (feature `x509`): subject, subject
//! alternative names and SHA-256 fingerprint, shared by the PT-TLS adapter (the authenticated
//! identity under certificate authentication) and the IF-IMV AR-identities attribute.
//!
//! The certificate is parsed, not validated: chain, validity and key usage are the TLS stack's
//! job (rustls has already checked them when a certificate reaches this module from a
//! connection).
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let key = rcgen::KeyPair::generate()?;
//! let mut params = rcgen::CertificateParams::new(vec!["endpoint.example".to_owned()])?;
//! params.distinguished_name = rcgen::DistinguishedName::new(); // certificate order: O, CN
//! params.distinguished_name.push(rcgen::DnType::OrganizationName, "Example Corp");
//! params.distinguished_name.push(rcgen::DnType::CommonName, "endpoint 42");
//! let cert = params.self_signed(&key)?;
//!
//! let id = nea_wire::x509::CertIdentity::from_der(cert.der())?;
//! assert_eq!(id.subject, "CN=endpoint 42,O=Example Corp");
//! assert_eq!(id.dns_names, ["endpoint.example"]);
//! # Ok(()) }
//! ```

use core::fmt::Write as _;
use std::net::IpAddr;

use der::Decode as _;
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

/// Why a certificate could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum X509Error {
    /// The bytes are not a DER X.509 certificate (truncated, garbage, trailing bytes).
    #[error("certificate does not parse as DER X.509 (at byte {offset:?}): {reason}")]
    Malformed {
        /// Byte offset of the fault in the input, when the parser knows it.
        offset: Option<usize>,
        /// What the DER parser reported.
        reason: String,
    },
    /// The subjectAltName extension is present but does not parse, or appears twice.
    #[error("certificate subjectAltName extension does not parse: {reason}")]
    SubjectAltName {
        /// What the DER parser reported.
        reason: String,
    },
    /// The subject name cannot be written as an RFC 4514 string.
    #[error("certificate subject cannot be written as an rfc 4514 string")]
    Subject,
}

impl X509Error {
    fn malformed(e: der::Error) -> Self {
        Self::Malformed {
            offset: e
                .position()
                .and_then(|p| usize::try_from(u32::from(p)).ok()),
            reason: e.kind().to_string(),
        }
    }
}

/// Who a certificate names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CertIdentity {
    /// The subject distinguished name as an RFC 4514 string: RDNs in reverse certificate order
    /// (most specific first, `CN=endpoint 42,O=Example Corp,C=DE`), upper-case short attribute
    /// names, `,` between RDNs without spaces, `+` inside a multi-valued RDN, the RFC 4514 §2.4
    /// escapes, and `OID=#hex` for attributes without a short name or a string value. RFC 4514
    /// because it is the one standard text form with an escaping that keeps it unambiguous
    /// (the same DN always gives the same string), which is what an identity used as a
    /// database key needs; it is also what LDAP and `openssl -nameopt RFC2253` print.
    /// Empty when the certificate's subject is empty (identity in the SAN only).
    pub subject: String,
    /// subjectAltName dNSName entries, in certificate order.
    pub dns_names: Vec<String>,
    /// subjectAltName rfc822Name entries (e-mail addresses), in certificate order.
    pub emails: Vec<String>,
    /// subjectAltName iPAddress entries of 4 or 16 bytes, in certificate order (entries of
    /// another length are not addresses and are left out).
    pub ips: Vec<IpAddr>,
    /// SHA-256 of the whole certificate DER (what `openssl x509 -fingerprint -sha256` prints).
    pub sha256_fingerprint: [u8; 32],
}

impl CertIdentity {
    /// Reads the identity of one DER certificate. Never panics; memory use is proportional
    /// to the input. Trailing bytes after the certificate are refused.
    pub fn from_der(der: &[u8]) -> Result<Self, X509Error> {
        let cert = Certificate::from_der(der).map_err(X509Error::malformed)?;
        let tbs = cert.tbs_certificate();
        let mut subject = String::new();
        // `to_string` would panic on a Display error (an attribute value that does not
        // re-encode); `write!` reports it.
        write!(subject, "{}", tbs.subject()).map_err(|_| X509Error::Subject)?;
        let san = tbs
            .get_extension::<SubjectAltName>()
            .map_err(|e| X509Error::SubjectAltName {
                reason: e.kind().to_string(),
            })?;
        let mut id = Self {
            subject,
            dns_names: Vec::new(),
            emails: Vec::new(),
            ips: Vec::new(),
            sha256_fingerprint: sha256(der),
        };
        for name in san.map(|(_critical, san)| san.0).unwrap_or_default() {
            match name {
                GeneralName::DnsName(n) => id.dns_names.push(n.as_str().to_owned()),
                GeneralName::Rfc822Name(n) => id.emails.push(n.as_str().to_owned()),
                GeneralName::IpAddress(o) => {
                    let b = o.as_bytes();
                    if let Ok(v4) = <[u8; 4]>::try_from(b) {
                        id.ips.push(IpAddr::from(v4));
                    } else if let Ok(v6) = <[u8; 16]>::try_from(b) {
                        id.ips.push(IpAddr::from(v6));
                    }
                }
                _ => {}
            }
        }
        Ok(id)
    }

    /// The fingerprint as lower-case hex without separators.
    pub fn fingerprint_hex(&self) -> String {
        let mut s = String::with_capacity(64);
        for b in self.sha256_fingerprint {
            // Writing to a String cannot fail.
            let _ = write!(s, "{b:02x}");
        }
        s
    }
}

fn sha256(data: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DnType, KeyPair, SanType};

    fn cert(f: impl FnOnce(&mut CertificateParams)) -> Vec<u8> {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name = rcgen::DistinguishedName::new();
        f(&mut p);
        p.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn subject_and_sans() {
        let der = cert(|p| {
            p.distinguished_name.push(DnType::CountryName, "DE");
            p.distinguished_name
                .push(DnType::OrganizationName, "Acme, Inc.");
            p.distinguished_name.push(DnType::CommonName, "host+1");
            p.subject_alt_names = vec![
                SanType::DnsName("a.example".try_into().unwrap()),
                SanType::Rfc822Name("ops@example.org".try_into().unwrap()),
                SanType::IpAddress("192.0.2.7".parse().unwrap()),
                SanType::DnsName("b.example".try_into().unwrap()),
                SanType::IpAddress("2001:db8::1".parse().unwrap()),
                SanType::URI("urn:x".try_into().unwrap()),
            ];
        });
        let id = CertIdentity::from_der(&der).unwrap();
        // RFC 4514: reverse order, escaped ',' and '+'.
        assert_eq!(id.subject, r"CN=host\+1,O=Acme\, Inc.,C=DE");
        assert_eq!(id.dns_names, ["a.example", "b.example"]);
        assert_eq!(id.emails, ["ops@example.org"]);
        assert_eq!(
            id.ips,
            [
                "192.0.2.7".parse::<IpAddr>().unwrap(),
                "2001:db8::1".parse().unwrap()
            ]
        );
        let want = ring::digest::digest(&ring::digest::SHA256, &der);
        assert_eq!(&id.sha256_fingerprint[..], want.as_ref());
        assert_eq!(id.fingerprint_hex().len(), 64);
        assert!(
            id.fingerprint_hex()
                .starts_with(&format!("{:02x}", want.as_ref()[0]))
        );
    }

    #[test]
    fn empty_subject_and_no_san() {
        let id = CertIdentity::from_der(&cert(|_| {})).unwrap();
        assert_eq!(id.subject, "");
        assert!(id.dns_names.is_empty() && id.emails.is_empty() && id.ips.is_empty());
    }

    #[test]
    fn garbage_empty_and_trailing_bytes_are_errors() {
        assert!(matches!(
            CertIdentity::from_der(&[]),
            Err(X509Error::Malformed { .. })
        ));
        assert!(CertIdentity::from_der(b"not a certificate at all").is_err());
        let mut der = cert(|p| p.distinguished_name.push(DnType::CommonName, "x"));
        der.push(0);
        assert!(matches!(
            CertIdentity::from_der(&der),
            Err(X509Error::Malformed { .. })
        ));
        // A SEQUENCE claiming 4 GiB of content.
        let err = CertIdentity::from_der(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x30]).unwrap_err();
        assert!(
            err.to_string().starts_with("certificate does not parse"),
            "{err}"
        );
    }

    #[test]
    fn every_truncation_and_byte_flip_is_handled() {
        let der = cert(|p| {
            p.distinguished_name.push(DnType::CommonName, "endpoint");
            p.subject_alt_names = vec![SanType::DnsName("e.example".try_into().unwrap())];
        });
        for n in 0..der.len() {
            assert!(
                CertIdentity::from_der(&der[..n]).is_err(),
                "prefix {n} accepted"
            );
        }
        // Flip every byte (no panic; the result may be Ok when the flip lands in a value).
        for i in 0..der.len() {
            for x in [0x01u8, 0x80, 0xff] {
                let mut d = der.clone();
                d[i] ^= x;
                let _ = CertIdentity::from_der(&d);
            }
        }
    }
}
