//! PT-TLS through real TLS (rustls with ring, rcgen certificates made here) on loopback:
//! negotiation + SASL PLAIN + batch exchange, and mutual TLS with machine certificates (no
//! SASL, empty mechanism list).
#![cfg(feature = "tokio")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/pair.rs"]
mod pair;

use std::sync::Arc;

use bytes::Bytes;
use pt_tls::tokio::{AdapterError, PtTlsConnection};
use pt_tls::{CloseReason, Config, ErrorCode};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

struct Pki {
    ca: CertificateDer<'static>,
    server: (CertificateDer<'static>, KeyPair),
    client: (CertificateDer<'static>, KeyPair),
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "pt-tls test CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let leaf = |name: &str, eku: ExtendedKeyUsagePurpose| {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(vec![name.to_owned()]).unwrap();
        p.distinguished_name.push(DnType::CommonName, name);
        p.extended_key_usages = vec![eku];
        let cert = p.signed_by(&key, &issuer).unwrap();
        (cert.der().clone(), key)
    };
    Pki {
        ca: ca_cert.der().clone(),
        server: leaf("localhost", ExtendedKeyUsagePurpose::ServerAuth),
        client: leaf("endpoint.example", ExtendedKeyUsagePurpose::ClientAuth),
    }
}

fn key(k: &KeyPair) -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(k.serialize_der()))
}

fn tls_configs(pki: &Pki, client_cert: bool) -> (Arc<ServerConfig>, Arc<ClientConfig>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    roots.add(pki.ca.clone()).unwrap();
    let roots = Arc::new(roots);
    let verifier = WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone())
        .allow_unauthenticated()
        .build()
        .unwrap();
    let server = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![pki.server.0.clone()], key(&pki.server.1))
        .unwrap();
    let client = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let client = if client_cert {
        client
            .with_client_auth_cert(vec![pki.client.0.clone()], key(&pki.client.1))
            .unwrap()
    } else {
        client.with_no_client_auth()
    };
    (Arc::new(server), Arc::new(client))
}

/// Runs one connection: the client sends "ping", the server answers "pong:" + batch, the
/// client closes. Returns (server identity, server's view of the client cert, client's view of
/// the server cert).
async fn run(
    client_cert: bool,
    client_cfg: Arc<Config>,
    server_cfg: Arc<Config>,
) -> (Option<String>, Option<Vec<u8>>, Option<Vec<u8>>) {
    let pki = pki();
    let (server_tls, client_tls) = tls_configs(&pki, client_cert);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();

    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let tls = TlsAcceptor::from(server_tls).accept(tcp).await.unwrap();
        let mut conn = PtTlsConnection::server(server_cfg, tls).await.unwrap();
        let batch = conn.recv_batch().await.unwrap().unwrap();
        conn.send_batch(Bytes::from([&b"pong:"[..], &batch].concat()))
            .await
            .unwrap();
        // The client closes: no more batches.
        assert_eq!(conn.recv_batch().await.unwrap(), None);
        (
            conn.session().authenticated_identity().map(str::to_owned),
            conn.peer_certificate().map(|c| c.to_vec()),
        )
    });

    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let tls = TlsConnector::from(client_tls)
        .connect(name, tcp)
        .await
        .unwrap();
    let mut conn = PtTlsConnection::client(client_cfg, tls).await.unwrap();
    assert!(conn.session().is_data_transport());
    let server_seen = conn.peer_certificate().map(|c| c.to_vec());
    conn.send_batch(Bytes::from_static(b"ping")).await.unwrap();
    let answer = conn.recv_batch().await.unwrap().unwrap();
    assert_eq!(&answer[..], b"pong:ping");
    conn.close().await.unwrap();

    let (identity, client_seen) = server.await.unwrap();
    (identity, client_seen, server_seen)
}

#[tokio::test]
async fn sasl_plain_and_batches_over_tls() {
    let (identity, client_seen, server_seen) =
        run(false, pair::client_config(), pair::server_config()).await;
    assert_eq!(identity.as_deref(), Some("alice"));
    assert_eq!(client_seen, None);
    assert!(server_seen.is_some());
}

#[tokio::test]
async fn mutual_tls_skips_sasl() {
    // The client has no SASL credentials at all: the certificate must be enough.
    let (identity, client_seen, server_seen) =
        run(true, Arc::new(Config::default()), pair::server_config()).await;
    assert_eq!(identity, None);
    assert!(client_seen.is_some());
    assert!(server_seen.is_some());
}

#[tokio::test]
async fn wrong_password_is_closed() {
    let pki = pki();
    let (server_tls, client_tls) = tls_configs(&pki, false);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let tls = TlsAcceptor::from(server_tls).accept(tcp).await.unwrap();
        let cfg = Config::default()
            .with_server_mechanism(Arc::new(pt_tls::PlainServer::new(Arc::new(pair::Alice))))
            .with_max_sasl_attempts(1);
        PtTlsConnection::server(Arc::new(cfg), tls).await.err()
    });
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let tls = TlsConnector::from(client_tls)
        .connect(name, tcp)
        .await
        .unwrap();
    let cfg = Config::default().with_client_mechanism(Arc::new(
        pt_tls::PlainClient::new("alice", "wrong").unwrap(),
    ));
    let err = PtTlsConnection::client(Arc::new(cfg), tls)
        .await
        .unwrap_err();
    assert!(
        matches!(err, AdapterError::EndedDuringNegotiation),
        "{err:?}"
    );
    let server_err = server.await.unwrap().unwrap();
    assert!(
        matches!(
            server_err,
            AdapterError::Closed(CloseReason::AuthenticationFailed)
        ),
        "{server_err:?}"
    );
    let _ = ErrorCode::INVALID_MESSAGE;
}

struct IssuedByTestCa;

impl pt_tls::CertificateCheck for IssuedByTestCa {
    fn check_certificate(&self, certificate: &[u8], authzid: &str) -> Option<String> {
        // TLS already validated the chain; name the machine by its certificate size here.
        (!certificate.is_empty() && authzid.is_empty()).then(|| "endpoint.example".to_owned())
    }
}

#[tokio::test]
async fn mutual_tls_plus_sasl_external() {
    // RFC 6876 §3.8.1: EXTERNAL when both ends authenticated in TLS.
    let server = Config::default()
        .with_server_mechanism(Arc::new(pt_tls::ExternalServer::new(Arc::new(
            IssuedByTestCa,
        ))))
        .with_sasl_policy(pt_tls::SaslPolicy::Always);
    let client = Config::default().with_client_mechanism(Arc::new(pt_tls::ExternalClient));
    let (identity, client_seen, _) = run(true, Arc::new(client), Arc::new(server)).await;
    assert_eq!(identity.as_deref(), Some("endpoint.example"));
    assert!(client_seen.is_some());
}
