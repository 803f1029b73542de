//! AR identities from a real certificate (rcgen): subject DN first, then the SANs.
#![allow(clippy::unwrap_used)]

use tnc_if::{ArIdentity, AuthMethod, IdentityType, SubjectType};

#[test]
fn certificate_identities_in_order() {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["host.example".to_owned()]).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "Example Corp");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "endpoint 42");
    params
        .subject_alt_names
        .push(rcgen::SanType::IpAddress("192.0.2.7".parse().unwrap()));
    params.subject_alt_names.push(rcgen::SanType::Rfc822Name(
        "ops@example.org".try_into().unwrap(),
    ));
    let cert = params.self_signed(&key).unwrap();
    let id = nea_wire::x509::CertIdentity::from_der(cert.der()).unwrap();
    let ids = ArIdentity::from_certificate(&id, SubjectType::MACHINE);
    let got: Vec<_> = ids
        .iter()
        .map(|i| (i.id_type, i.value_str().unwrap(), i.subject, i.auth))
        .collect();
    let m = SubjectType::MACHINE;
    let x = AuthMethod::X509_CERT;
    assert_eq!(
        got,
        vec![
            (IdentityType::X500_DN, "CN=endpoint 42,O=Example Corp", m, x),
            (IdentityType::FQDN, "host.example", m, x),
            (IdentityType::EMAIL_ADDR, "ops@example.org", m, x),
            (IdentityType::IPV4_ADDR, "192.0.2.7", m, x),
        ]
    );
    // And through the wire form.
    let wire = ArIdentity::encode_list(&ids);
    assert_eq!(ArIdentity::decode_list(wire).unwrap(), ids);
}
