//! The AR identities attribute (`TNC_ATTRIBUTEID_AR_IDENTITIES`, IF-IMV 1.4): who the
//! endpoint is, as the transport authenticated it, so a verifier can link posture to the
//! endpoint's unique identifier (profile §2.2.2).
//!
//! Wire form (big-endian): `u32 count`, then per identity `u8 0, u24 type vendor, u32 identity
//! type, u32 value length, value, u8 0, u24 subject vendor, u32 subject type, u8 0, u24 auth
//! vendor, u32 auth method` — 28 bytes plus the value.

use bytes::{BufMut, Bytes, BytesMut};
use nea_wire::{DecodeError, DecodeErrorKind, Reader, VendorId};

nea_wire::registry! {
    /// `TNC_ID_*`: the kind of identity (vendor TCG).
    IdentityType(u32) {
        /// TNC_ID_UNKNOWN.
        UNKNOWN = 0 => "unknown",
        /// TNC_ID_IPV4_ADDR.
        IPV4_ADDR = 1 => "IPv4 address",
        /// TNC_ID_IPV6_ADDR.
        IPV6_ADDR = 2 => "IPv6 address",
        /// TNC_ID_FQDN.
        FQDN = 3 => "FQDN",
        /// TNC_ID_EMAIL_ADDR.
        EMAIL_ADDR = 4 => "e-mail address",
        /// TNC_ID_USERNAME.
        USERNAME = 5 => "user name",
        /// TNC_ID_X500_DN.
        X500_DN = 6 => "X.500 DN",
    }
}

nea_wire::registry! {
    /// `TNC_SUBJECT_*`: what the identity names (vendor TCG).
    SubjectType(u32) {
        /// TNC_SUBJECT_UNKNOWN.
        UNKNOWN = 0 => "unknown",
        /// TNC_SUBJECT_MACHINE.
        MACHINE = 1 => "machine",
        /// TNC_SUBJECT_USER.
        USER = 2 => "user",
    }
}

nea_wire::registry! {
    /// `TNC_AUTH_*`: how the identity was authenticated (vendor TCG).
    AuthMethod(u32) {
        /// TNC_AUTH_UNKNOWN.
        UNKNOWN = 0 => "unknown",
        /// TNC_AUTH_X509_CERT.
        X509_CERT = 1 => "X.509 certificate",
        /// TNC_AUTH_PASSWORD.
        PASSWORD = 2 => "password",
        /// TNC_AUTH_SIM.
        SIM = 3 => "SIM",
    }
}

/// Size of one identity without its value.
const FIXED_LEN: usize = 28;

/// One authenticated identity of the endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ArIdentity {
    /// Vendor of `id_type` (TCG for the `TNC_ID_*` values).
    pub type_vendor: VendorId,
    /// The kind of identity.
    pub id_type: IdentityType,
    /// The identity as text (a DN, an FQDN, an address...).
    pub value: Bytes,
    /// Vendor of `subject`.
    pub subject_vendor: VendorId,
    /// What it names.
    pub subject: SubjectType,
    /// Vendor of `auth`.
    pub auth_vendor: VendorId,
    /// How it was authenticated.
    pub auth: AuthMethod,
}

impl ArIdentity {
    /// A TCG identity (all three vendor fields TCG).
    pub fn tcg(
        id_type: IdentityType,
        value: impl Into<Bytes>,
        subject: SubjectType,
        auth: AuthMethod,
    ) -> Self {
        Self {
            type_vendor: VendorId::TCG,
            id_type,
            value: value.into(),
            subject_vendor: VendorId::TCG,
            subject,
            auth_vendor: VendorId::TCG,
            auth,
        }
    }

    /// The peer's network address (subject machine, not authenticated).
    pub fn peer_address(addr: std::net::IpAddr) -> Self {
        let t = if addr.is_ipv4() {
            IdentityType::IPV4_ADDR
        } else {
            IdentityType::IPV6_ADDR
        };
        Self::tcg(
            t,
            addr.to_string(),
            SubjectType::MACHINE,
            AuthMethod::UNKNOWN,
        )
    }

    /// A user name authenticated with a password (PT-TLS SASL PLAIN).
    pub fn password_user(name: &str) -> Self {
        Self::tcg(
            IdentityType::USERNAME,
            name.to_owned(),
            SubjectType::USER,
            AuthMethod::PASSWORD,
        )
    }

    /// The identities a TLS client certificate authenticates, for a machine certificate:
    /// the subject DN (RFC 4514 text, [`nea_wire::x509::CertIdentity::subject`]) as X500_DN,
    /// then every dNSName as FQDN, rfc822Name as EMAIL_ADDR and iPAddress as IPV4/IPV6_ADDR,
    /// all with `subject` and auth X509_CERT. The first one is the endpoint's identifier.
    #[cfg(feature = "x509")]
    pub fn from_certificate(
        cert: &nea_wire::x509::CertIdentity,
        subject: SubjectType,
    ) -> Vec<Self> {
        let auth = AuthMethod::X509_CERT;
        let mut out = Vec::new();
        if !cert.subject.is_empty() {
            out.push(Self::tcg(
                IdentityType::X500_DN,
                cert.subject.clone(),
                subject,
                auth,
            ));
        }
        for n in &cert.dns_names {
            out.push(Self::tcg(IdentityType::FQDN, n.clone(), subject, auth));
        }
        for e in &cert.emails {
            out.push(Self::tcg(
                IdentityType::EMAIL_ADDR,
                e.clone(),
                subject,
                auth,
            ));
        }
        for ip in &cert.ips {
            let t = if ip.is_ipv4() {
                IdentityType::IPV4_ADDR
            } else {
                IdentityType::IPV6_ADDR
            };
            out.push(Self::tcg(t, ip.to_string(), subject, auth));
        }
        out
    }

    /// The value as text, if it is UTF-8.
    pub fn value_str(&self) -> Option<&str> {
        core::str::from_utf8(&self.value).ok()
    }

    /// Encodes a list as the attribute value.
    pub fn encode_list(ids: &[ArIdentity]) -> Bytes {
        let len = ids
            .iter()
            .fold(4usize, |n, i| n.saturating_add(FIXED_LEN + i.value.len()));
        let mut out = BytesMut::with_capacity(len);
        out.put_u32(u32::try_from(ids.len()).unwrap_or(u32::MAX));
        for i in ids {
            out.put_u8(0);
            nea_wire::put_u24(&mut out, i.type_vendor.get());
            out.put_u32(i.id_type.0);
            out.put_u32(u32::try_from(i.value.len()).unwrap_or(u32::MAX));
            out.put_slice(&i.value);
            out.put_u8(0);
            nea_wire::put_u24(&mut out, i.subject_vendor.get());
            out.put_u32(i.subject.0);
            out.put_u8(0);
            nea_wire::put_u24(&mut out, i.auth_vendor.get());
            out.put_u32(i.auth.0);
        }
        out.freeze()
    }

    /// Decodes an attribute value. The count is checked against the bytes present before
    /// anything is allocated; trailing bytes are refused.
    pub fn decode_list(value: Bytes) -> Result<Vec<ArIdentity>, DecodeError> {
        let mut r = Reader::new(value, 0);
        let count = r.u32()?;
        let max = r.remaining() / FIXED_LEN;
        if usize::try_from(count).map_or(true, |c| c > max) {
            return Err(r.error(DecodeErrorKind::TooLarge {
                length: u64::from(count),
                limit: max as u64,
            }));
        }
        let mut out = Vec::new();
        for _ in 0..count {
            r.u8()?;
            let type_vendor = VendorId::from_u24(r.u24()?);
            let id_type = IdentityType(r.u32()?);
            let len = r.u32()?;
            let value = r.take(usize::try_from(len).unwrap_or(usize::MAX))?;
            r.u8()?;
            let subject_vendor = VendorId::from_u24(r.u24()?);
            let subject = SubjectType(r.u32()?);
            r.u8()?;
            let auth_vendor = VendorId::from_u24(r.u24()?);
            let auth = AuthMethod(r.u32()?);
            out.push(ArIdentity {
                type_vendor,
                id_type,
                value,
                subject_vendor,
                subject,
                auth_vendor,
                auth,
            });
        }
        r.finish()?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_bytes_and_round_trip() {
        let ids = vec![
            ArIdentity::tcg(
                IdentityType::X500_DN,
                "CN=a",
                SubjectType::MACHINE,
                AuthMethod::X509_CERT,
            ),
            ArIdentity::peer_address("192.0.2.1".parse().unwrap()),
        ];
        let b = ArIdentity::encode_list(&ids);
        assert_eq!(
            &b[..36],
            &[
                0, 0, 0, 2, // count
                0, 0x00, 0x55, 0x97, 0, 0, 0, 6, 0, 0, 0, 4, b'C', b'N', b'=', b'a', // DN
                0, 0x00, 0x55, 0x97, 0, 0, 0, 1, // machine
                0, 0x00, 0x55, 0x97, 0, 0, 0, 1, // X.509
            ][..]
        );
        assert_eq!(b.len(), 4 + 28 + 4 + 28 + 9);
        assert_eq!(ArIdentity::decode_list(b.clone()).unwrap(), ids);
        // Truncated anywhere: an error, never a panic.
        for n in 0..b.len() {
            assert!(ArIdentity::decode_list(b.slice(..n)).is_err(), "{n}");
        }
        // A count the bytes cannot hold is refused before allocating.
        let huge = Bytes::from_static(&[0xff, 0xff, 0xff, 0xff, 0, 0]);
        assert!(matches!(
            ArIdentity::decode_list(huge).unwrap_err().kind,
            DecodeErrorKind::TooLarge { .. }
        ));
        let mut trailing = BytesMut::from(&b[..]);
        trailing.put_u8(0);
        assert!(ArIdentity::decode_list(trailing.freeze()).is_err());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = ArIdentity::decode_list(Bytes::from(data));
        }
    }
}
