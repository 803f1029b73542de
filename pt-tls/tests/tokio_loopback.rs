//! The tokio adapter through real TLS (rustls with ring; rcgen certificates made here, turned
//! into configs by `pt_tls::tokio::tls` from PEM) on 127.0.0.1: negotiation outcome (SASL
//! mechanism, identity from SASL or from the client certificate), refused certificates, the
//! handshake timeout, close reasons, PT-TLS Errors surfaced by `recv`, cancellation safety of
//! `recv`, and the listener's per-source limits and shutdown.
//!
//! Every test runs under an overall bound (`bounded`); short handshake timeouts only make a
//! silent peer expire sooner, nothing asserts a duration.
#![cfg(feature = "tokio")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]

#[path = "common/pair.rs"]
mod pair;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use pt_tls::tokio::listener::{Limits, Listener, Stats};
use pt_tls::tokio::tls::{ClientCertificates, Pem, client_config, server_config};
use pt_tls::tokio::{AdapterError, PtTlsConnection, Received, connect};
use pt_tls::wire::MechanismName;
use pt_tls::{
    Body, CloseReason, Config, ErrorCode, Event, Message, PtTlsError, SaslPolicy, Session, Side,
    TlsRole,
};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// Fails the test instead of hanging it.
async fn bounded<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .expect("test did not finish within 30 s")
}

/// Waits (bounded) until the listener's counters satisfy `pred`.
async fn until(l: &Listener, pred: impl Fn(&Stats) -> bool) {
    for _ in 0..3000 {
        if pred(&l.stats()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("listener counters never got there: {:?}", l.stats());
}

// ---------------------------------------------------------------- certificates

struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

/// A PEM certificate and key.
struct Leaf {
    cert: String,
    key: String,
    der: Vec<u8>,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name = DistinguishedName::new();
    p.distinguished_name.push(DnType::CommonName, name);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let cert = p.self_signed(&key).unwrap();
    Ca {
        pem: cert.pem(),
        issuer: Issuer::new(p, key),
    }
}

fn leaf(ca: &Ca, dns: &str, org: &str, eku: ExtendedKeyUsagePurpose) -> Leaf {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(vec![dns.to_owned()]).unwrap();
    p.distinguished_name = DistinguishedName::new();
    p.distinguished_name.push(DnType::OrganizationName, org);
    p.distinguished_name.push(DnType::CommonName, dns);
    p.extended_key_usages = vec![eku];
    let cert = p.signed_by(&key, &ca.issuer).unwrap();
    Leaf {
        cert: cert.pem(),
        key: key.serialize_pem(),
        der: cert.der().to_vec(),
    }
}

struct Pki {
    ca: Ca,
    server: Leaf,
    client: Leaf,
}

fn pki() -> Pki {
    let ca = ca("pt-tls test CA");
    let server = leaf(
        &ca,
        "localhost",
        "Manager Org",
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let client = leaf(
        &ca,
        "endpoint.example",
        "Endpoint Org",
        ExtendedKeyUsagePurpose::ClientAuth,
    );
    Pki { ca, server, client }
}

impl Pki {
    fn server_tls(&self, clients: ClientCertificates) -> Arc<rustls::ServerConfig> {
        server_config(
            &Pem::bytes("CA", self.ca.pem.clone()),
            &Pem::bytes("server cert", self.server.cert.clone()),
            &Pem::bytes("server key", self.server.key.clone()),
            clients,
        )
        .unwrap()
    }

    fn client_tls(&self, cert: Option<&Leaf>) -> Arc<rustls::ClientConfig> {
        let ca = Pem::bytes("CA", self.ca.pem.clone());
        match cert {
            Some(l) => {
                let (c, k) = (
                    Pem::bytes("cert", l.cert.clone()),
                    Pem::bytes("key", l.key.clone()),
                );
                client_config(&ca, Some((&c, &k))).unwrap()
            }
            None => client_config(&ca, None).unwrap(),
        }
    }
}

fn localhost() -> ServerName<'static> {
    ServerName::try_from("localhost").unwrap()
}

fn no_sasl() -> Arc<Config> {
    Arc::new(Config::default().with_sasl_policy(SaslPolicy::Never))
}

/// No SASL, and a handshake timeout long enough that silent connections stay for a test.
fn patient() -> Arc<Config> {
    Arc::new(
        Config::default()
            .with_sasl_policy(SaslPolicy::Never)
            .with_handshake_timeout(Duration::from_secs(60)),
    )
}

/// A listener on 127.0.0.1, any port.
async fn listen(tls: Arc<rustls::ServerConfig>, config: Arc<Config>, limits: Limits) -> Listener {
    Listener::bind("127.0.0.1:0", tls, config, limits)
        .await
        .unwrap()
}

fn short_timeout(c: Config) -> Arc<Config> {
    Arc::new(c.with_handshake_timeout(Duration::from_millis(300)))
}

/// A TCP connection from `source` (another loopback address) to `addr`.
async fn tcp_from(source: &str, addr: SocketAddr) -> TcpStream {
    let s = TcpSocket::new_v4().unwrap();
    s.bind(format!("{source}:0").parse().unwrap()).unwrap();
    s.connect(addr).await.unwrap()
}

/// A NEA Client (no SASL) from `source` to `addr`.
async fn client_from(
    source: &str,
    addr: SocketAddr,
    tls: &Arc<rustls::ClientConfig>,
) -> PtTlsConnection<TcpStream> {
    let tcp = tcp_from(source, addr).await;
    let stream = TlsConnector::from(Arc::clone(tls))
        .connect(localhost(), tcp)
        .await
        .unwrap();
    PtTlsConnection::client(no_sasl(), stream).await.unwrap()
}

/// Whether the server has closed `tcp` (read sees the end or a reset).
async fn closed_by_server(tcp: &mut TcpStream) -> bool {
    let mut b = [0u8; 64];
    loop {
        match tcp.read(&mut b).await {
            Ok(0) | Err(_) => return true,
            Ok(_) => {}
        }
    }
}

// ---------------------------------------------------------------- a raw PT-TLS peer

/// A peer driving the sans-IO session by hand, so a test can write arbitrary bytes.
struct RawPeer<S> {
    tls: S,
    session: Session,
    buf: Vec<u8>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> RawPeer<S> {
    fn new(tls: S, side: Side, role: TlsRole, config: Arc<Config>) -> Self {
        Self {
            tls,
            session: Session::new(config, side, role, None),
            buf: vec![0; 65536],
        }
    }

    async fn write_out(&mut self) {
        while let Some(t) = self.session.poll_transmit() {
            self.tls.write_all(&t).await.unwrap();
        }
        self.tls.flush().await.unwrap();
    }

    async fn next_event(&mut self) -> Option<Event> {
        loop {
            self.write_out().await;
            if let Some(e) = self.session.poll_event() {
                return Some(e);
            }
            let n = self.tls.read(&mut self.buf).await.unwrap_or(0);
            if n == 0 {
                return None;
            }
            self.session.handle_bytes(&self.buf[..n]);
        }
    }

    async fn negotiate(&mut self) {
        while self.next_event().await != Some(Event::Negotiated) {}
    }

    async fn write_raw(&mut self, bytes: &[u8]) {
        self.tls.write_all(bytes).await.unwrap();
        self.tls.flush().await.unwrap();
    }
}

/// A NEA Server on a raw session behind TLS; returns the listening address and the accepted
/// peer (after Negotiation) through `f`.
async fn raw_server<F, Fut>(pki: &Pki, f: F) -> (SocketAddr, tokio::task::JoinHandle<()>)
where
    F: FnOnce(RawPeer<tokio_rustls::server::TlsStream<TcpStream>>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let acceptor = TlsAcceptor::from(pki.server_tls(ClientCertificates::Optional));
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = tcp.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (s, _) = tcp.accept().await.unwrap();
        let tls = acceptor.accept(s).await.unwrap();
        let mut peer = RawPeer::new(tls, Side::Server, TlsRole::Responder, no_sasl());
        peer.negotiate().await;
        f(peer).await;
    });
    (addr, task)
}

// ---------------------------------------------------------------- negotiation outcome

#[tokio::test]
async fn sasl_plain_reports_mechanism_and_identity_and_peer_close() {
    bounded(async {
        let pki = pki();
        let mut l = listen(
            pki.server_tls(ClientCertificates::Optional),
            pair::server_config(),
            Limits::default(),
        )
        .await;
        let addr = l.local_addr();
        let client = tokio::spawn(async move {
            let mut c = connect(
                addr,
                localhost(),
                pki.client_tls(None),
                pair::client_config(),
            )
            .await
            .unwrap();
            assert_eq!(c.negotiated().sasl_mechanism, Some(MechanismName::PLAIN));
            assert_eq!(c.negotiated().sasl_identity, None);
            // The client's view of the server: its certificate.
            assert_eq!(
                c.authenticated_identity(),
                Some("CN=localhost,O=Manager Org")
            );
            c.send_batch(Bytes::from_static(b"ping")).await.unwrap();
            assert_eq!(
                c.recv().await.unwrap(),
                Received::Batch(Bytes::from_static(b"pong:ping"))
            );
            c.close().await.unwrap();
        });
        let (mut conn, peer) = l.accept().await.unwrap();
        assert!(peer.ip().is_loopback());
        let n = conn.negotiated().clone();
        assert_eq!(n.sasl_mechanism, Some(MechanismName::PLAIN));
        assert_eq!(n.sasl_identity.as_deref(), Some("alice"));
        assert_eq!(n.identity.as_deref(), Some("alice"));
        assert!(n.failed_sasl_runs.is_empty());
        assert_eq!(conn.authenticated_identity(), Some("alice"));
        assert!(conn.peer_identity().is_none());
        let Received::Batch(b) = conn.recv().await.unwrap() else {
            panic!("no batch")
        };
        conn.send_batch(Bytes::from([&b"pong:"[..], &b].concat()))
            .await
            .unwrap();
        // The client closed TLS: the reason says so, and keeps saying so.
        for _ in 0..2 {
            assert_eq!(
                conn.recv().await.unwrap(),
                Received::Closed(CloseReason::PeerClosed)
            );
        }
        client.await.unwrap();
        l.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn identity_from_client_certificate() {
    bounded(async {
        let pki = pki();
        let mut l = listen(
            pki.server_tls(ClientCertificates::Required),
            // A client with a certificate is not asked for SASL (the default policy).
            pair::server_config(),
            Limits::default(),
        )
        .await;
        let addr = l.local_addr();
        let tls = pki.client_tls(Some(&pki.client));
        let client = tokio::spawn(async move {
            // No SASL credentials at all: the certificate must be enough.
            let c = connect(addr, localhost(), tls, Arc::new(Config::default()))
                .await
                .unwrap();
            assert_eq!(c.negotiated().sasl_mechanism, None);
            c.close().await.unwrap();
        });
        let (mut conn, _) = l.accept().await.unwrap();
        let want = "CN=endpoint.example,O=Endpoint Org";
        assert_eq!(conn.authenticated_identity(), Some(want));
        assert_eq!(conn.negotiated().identity.as_deref(), Some(want));
        assert_eq!(conn.negotiated().sasl_mechanism, None);
        assert_eq!(conn.session().authenticated_identity(), None);
        let id = conn.peer_identity().unwrap();
        assert_eq!(id.subject, want);
        assert_eq!(id.dns_names, ["endpoint.example"]);
        let fp = ring::digest::digest(&ring::digest::SHA256, &pki.client.der);
        assert_eq!(&id.sha256_fingerprint[..], fp.as_ref());
        assert_eq!(
            conn.peer_certificate().unwrap().as_ref(),
            &pki.client.der[..]
        );
        assert_eq!(
            conn.recv().await.unwrap(),
            Received::Closed(CloseReason::PeerClosed)
        );
        client.await.unwrap();
        l.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn sasl_external_after_mutual_tls() {
    struct IssuedByTestCa;
    impl pt_tls::CertificateCheck for IssuedByTestCa {
        fn check_certificate(&self, certificate: &[u8], authzid: &str) -> Option<String> {
            // TLS already validated the chain; name the machine by its certificate.
            let id = nea_wire::x509::CertIdentity::from_der(certificate).ok()?;
            authzid.is_empty().then(|| id.dns_names.first().cloned())?
        }
    }
    bounded(async {
        let pki = pki();
        // RFC 6876 §3.8.1: EXTERNAL when both ends authenticated in TLS.
        let server = Config::default()
            .with_server_mechanism(Arc::new(pt_tls::ExternalServer::new(Arc::new(
                IssuedByTestCa,
            ))))
            .with_sasl_policy(SaslPolicy::Always);
        let mut l = listen(
            pki.server_tls(ClientCertificates::Required),
            Arc::new(server),
            Limits::default(),
        )
        .await;
        let addr = l.local_addr();
        let tls = pki.client_tls(Some(&pki.client));
        let client = tokio::spawn(async move {
            let cfg = Config::default().with_client_mechanism(Arc::new(pt_tls::ExternalClient));
            let c = connect(addr, localhost(), tls, Arc::new(cfg))
                .await
                .unwrap();
            assert_eq!(c.negotiated().sasl_mechanism, Some(MechanismName::EXTERNAL));
            c
        });
        let (conn, _) = l.accept().await.unwrap();
        // SASL's identity wins over the certificate subject.
        assert_eq!(conn.authenticated_identity(), Some("endpoint.example"));
        assert_eq!(
            conn.negotiated().sasl_mechanism,
            Some(MechanismName::EXTERNAL)
        );
        assert_eq!(
            conn.peer_identity().unwrap().subject,
            "CN=endpoint.example,O=Endpoint Org"
        );
        drop(client.await.unwrap());
        l.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn wrong_password_is_closed_with_the_failed_runs() {
    bounded(async {
        let pki = pki();
        let acceptor = TlsAcceptor::from(pki.server_tls(ClientCertificates::Optional));
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (s, _) = tcp.accept().await.unwrap();
            let tls = acceptor.accept(s).await.unwrap();
            let cfg = Config::default()
                .with_server_mechanism(Arc::new(pt_tls::PlainServer::new(Arc::new(pair::Alice))))
                .with_max_sasl_attempts(1);
            PtTlsConnection::server(Arc::new(cfg), tls).await.err()
        });
        let cfg = Config::default().with_client_mechanism(Arc::new(
            pt_tls::PlainClient::new("alice", "wrong").unwrap(),
        ));
        let err = connect(addr, localhost(), pki.client_tls(None), Arc::new(cfg))
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
    })
    .await;
}

// ---------------------------------------------------------------- certificates refused

#[tokio::test]
async fn untrusted_or_missing_client_certificate_is_refused() {
    bounded(async {
        let pki = pki();
        let other = ca("another CA");
        let stranger = leaf(
            &other,
            "stranger.example",
            "Nobody",
            ExtendedKeyUsagePurpose::ClientAuth,
        );
        let mut l = listen(
            pki.server_tls(ClientCertificates::Required),
            no_sasl(),
            Limits::default(),
        )
        .await;
        let addr = l.local_addr();
        for (i, cert) in [Some(&stranger), None].into_iter().enumerate() {
            let r = connect(addr, localhost(), pki.client_tls(cert), no_sasl()).await;
            assert!(r.is_err(), "client {i} admitted");
            until(&l, |s| s.handshake_failed == i as u64 + 1).await;
        }
        // A trusted one still gets in.
        let good = connect(
            addr,
            localhost(),
            pki.client_tls(Some(&pki.client)),
            no_sasl(),
        )
        .await
        .unwrap();
        let (conn, _) = l.accept().await.unwrap();
        assert_eq!(
            conn.authenticated_identity(),
            Some("CN=endpoint.example,O=Endpoint Org")
        );
        assert_eq!(l.stats().established, 1);
        drop(good);
        l.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn client_refuses_a_server_from_another_ca() {
    bounded(async {
        let other = pki(); // a PKI of its own: another CA
        let pki = pki();
        let l = listen(
            other.server_tls(ClientCertificates::Optional),
            no_sasl(),
            Limits::default(),
        )
        .await;
        let err = connect(l.local_addr(), localhost(), pki.client_tls(None), no_sasl())
            .await
            .unwrap_err();
        assert!(matches!(err, AdapterError::Io(_)), "{err:?}");
        l.shutdown().await;
    })
    .await;
}

// ---------------------------------------------------------------- handshake timeout

#[tokio::test]
async fn silent_client_times_out() {
    bounded(async {
        let pki = pki();
        // Over TLS: the client completes the TLS handshake, then sends no Version Request.
        let acceptor = TlsAcceptor::from(pki.server_tls(ClientCertificates::Optional));
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (s, _) = tcp.accept().await.unwrap();
            let tls = acceptor.accept(s).await.unwrap();
            PtTlsConnection::server(short_timeout(Config::default()), tls)
                .await
                .unwrap_err()
        });
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut silent = TlsConnector::from(pki.client_tls(None))
            .connect(localhost(), tcp)
            .await
            .unwrap();
        let err = server.await.unwrap();
        assert!(
            matches!(err, AdapterError::HandshakeTimeout { after } if after == Duration::from_millis(300)),
            "{err:?}"
        );
        // The server dropped the connection.
        let mut b = [0u8; 16];
        assert!(matches!(silent.read(&mut b).await, Ok(0) | Err(_)));

        // Through the listener: a client that does not even start TLS.
        let l = listen(
            pki.server_tls(ClientCertificates::Optional),
            short_timeout(Config::default()),
            Limits::default(),
)
.await;
        let mut tcp = TcpStream::connect(l.local_addr()).await.unwrap();
        assert!(closed_by_server(&mut tcp).await);
        until(&l, |s| s.handshake_timed_out == 1).await;
        assert_eq!(l.stats().established, 0);
        l.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn silent_server_times_out_the_client() {
    bounded(async {
        let pki = pki();
        let acceptor = TlsAcceptor::from(pki.server_tls(ClientCertificates::Optional));
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let (s, _) = tcp.accept().await.unwrap();
            // TLS, then never a Version Response.
            let _tls = acceptor.accept(s).await.unwrap();
            let _ = done_rx.await;
        });
        let err = connect(
            addr,
            localhost(),
            pki.client_tls(None),
            short_timeout(Config::default()),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, AdapterError::HandshakeTimeout { .. }),
            "{err:?}"
        );
        let _ = done_tx.send(());
        server.await.unwrap();
    })
    .await;
}

// ---------------------------------------------------------------- recv surfaces everything

#[tokio::test]
async fn peer_errors_are_surfaced_then_the_close_reason() {
    bounded(async {
        let pki = pki();
        let (addr, server) = raw_server(&pki, |mut peer| async move {
            // A non-fatal error, a batch, then a fatal error.
            let e = |id, code| {
                Message::new(
                    id,
                    Body::Error(PtTlsError::ietf(code, Bytes::from_static(b"orig"))),
                )
                .to_bytes()
            };
            peer.write_raw(&e(100, ErrorCode::TYPE_NOT_SUPPORTED)).await;
            peer.session.send_batch(Bytes::from_static(b"b1")).unwrap();
            peer.write_out().await;
            peer.write_raw(&e(101, ErrorCode::INVALID_MESSAGE)).await;
            // The adapter closes TLS after a fatal error (RFC 6876 §3.9).
            assert_eq!(peer.next_event().await, None);
        })
        .await;
        let mut c = connect(addr, localhost(), pki.client_tls(None), no_sasl())
            .await
            .unwrap();
        let Received::PeerError(e) = c.recv().await.unwrap() else {
            panic!()
        };
        assert_eq!(e.code, ErrorCode::TYPE_NOT_SUPPORTED);
        assert_eq!(&e.original[..], b"orig");
        assert_eq!(
            c.recv().await.unwrap(),
            Received::Batch(Bytes::from_static(b"b1"))
        );
        let Received::PeerError(e) = c.recv().await.unwrap() else {
            panic!()
        };
        assert_eq!(e.code, ErrorCode::INVALID_MESSAGE);
        for _ in 0..2 {
            assert_eq!(
                c.recv().await.unwrap(),
                Received::Closed(CloseReason::ReceivedError(ErrorCode::INVALID_MESSAGE))
            );
        }
        server.await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn peer_dropping_tcp_without_close_notify_is_peer_closed() {
    bounded(async {
        let pki = pki();
        let (addr, server) = raw_server(&pki, |peer| async move {
            // Drop TCP without a TLS close_notify.
            let (tcp, _) = peer.tls.into_inner();
            drop(tcp);
        })
        .await;
        let mut c = connect(addr, localhost(), pki.client_tls(None), no_sasl())
            .await
            .unwrap();
        server.await.unwrap();
        assert_eq!(
            c.recv().await.unwrap(),
            Received::Closed(CloseReason::PeerClosed)
        );
    })
    .await;
}

#[tokio::test]
async fn protocol_error_sent_by_us_is_the_close_reason() {
    bounded(async {
        let pki = pki();
        let (addr, server) = raw_server(&pki, |mut peer| async move {
            // A Version Request during Data Transport: Invalid Message (fatal).
            peer.write_raw(&pair::ietf(1, 7, &[0, 1, 1, 1])).await;
            let Some(Event::PeerError(e)) = peer.next_event().await else {
                panic!("no error reply")
            };
            assert_eq!(e.code, ErrorCode::INVALID_MESSAGE);
        })
        .await;
        let mut c = connect(addr, localhost(), pki.client_tls(None), no_sasl())
            .await
            .unwrap();
        assert_eq!(
            c.recv().await.unwrap(),
            Received::Closed(CloseReason::SentError(ErrorCode::INVALID_MESSAGE))
        );
        server.await.unwrap();
    })
    .await;
}

// ---------------------------------------------------------------- cancellation safety

#[tokio::test]
async fn cancelled_recv_mid_message_loses_nothing_and_writes_stay_whole() {
    bounded(async {
        let pki = pki();
        let big = Bytes::from((0..200_000u32).map(|i| (i % 251) as u8).collect::<Vec<_>>());
        let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
        let sent = big.clone();
        let (addr, server) = raw_server(&pki, |mut peer| async move {
            peer.session.send_batch(sent).unwrap();
            let msg = peer.session.poll_transmit().unwrap();
            // Half of the message now …
            peer.write_raw(&msg[..msg.len() / 2]).await;
            // … the client's batch written meanwhile arrives whole …
            assert_eq!(
                peer.next_event().await,
                Some(Event::Batch(Bytes::from_static(b"command")))
            );
            go_rx.await.unwrap();
            // … then the rest.
            peer.write_raw(&msg[msg.len() / 2..]).await;
            assert_eq!(
                peer.next_event().await,
                Some(Event::Batch(Bytes::from_static(b"after")))
            );
        })
        .await;
        let mut c = connect(addr, localhost(), pki.client_tls(None), no_sasl())
            .await
            .unwrap();
        // The receive is cancelled while half a message is in (a select! that lost).
        let r = tokio::time::timeout(Duration::from_millis(300), c.recv()).await;
        assert!(r.is_err(), "a batch arrived early: {r:?}");
        c.send_batch(Bytes::from_static(b"command")).await.unwrap();
        go_tx.send(()).unwrap();
        assert_eq!(c.recv().await.unwrap(), Received::Batch(big));
        c.send_batch(Bytes::from_static(b"after")).await.unwrap();
        assert!(!c.has_pending_output());
        server.await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn select_between_recv_and_commands_loses_no_batch() {
    const BATCHES: u32 = 300;
    bounded(async {
        let pki = pki();
        let mut l = listen(
            pki.server_tls(ClientCertificates::Optional),
            no_sasl(),
            Limits::default(),
        )
        .await;
        let addr = l.local_addr();
        let server = tokio::spawn(async move {
            let (mut conn, _) = l.accept().await.unwrap();
            for i in 0..BATCHES {
                // 4 bytes of index, then up to ~48 KiB of filler: many TLS reads per batch.
                let len = 4 + (i as usize * 7919) % 48_000;
                let mut b = vec![(i % 256) as u8; len];
                b[..4].copy_from_slice(&i.to_be_bytes());
                conn.send_batch(Bytes::from(b)).await.unwrap();
            }
            // Now count the client's commands until its "done".
            let mut commands = 0u32;
            loop {
                match conn.recv().await.unwrap() {
                    Received::Batch(b) if &b[..] == b"done" => break,
                    Received::Batch(b) => {
                        assert_eq!(&b[..], b"command");
                        commands += 1;
                    }
                    other => panic!("{other:?}"),
                }
            }
            l.shutdown().await;
            commands
        });
        let mut c = connect(addr, localhost(), pki.client_tls(None), no_sasl())
            .await
            .unwrap();
        let mut next = 0u32;
        let mut commands = 0u32;
        while next < BATCHES {
            tokio::select! {
                r = c.recv() => {
                    let Received::Batch(b) = r.unwrap() else { panic!("not a batch") };
                    let i = u32::from_be_bytes(b[..4].try_into().unwrap());
                    assert_eq!(i, next, "batch lost or out of order");
                    assert_eq!(b.len(), 4 + (i as usize * 7919) % 48_000);
                    assert!(b[4..].iter().all(|x| *x == (i % 256) as u8), "batch {i} torn");
                    next += 1;
                }
                () = tokio::time::sleep(Duration::from_micros(200)), if commands < 500 => {
                    // The local command wins: the receive above is dropped mid-way.
                    c.send_batch(Bytes::from_static(b"command")).await.unwrap();
                    commands += 1;
                }
            }
        }
        c.send_batch(Bytes::from_static(b"done")).await.unwrap();
        assert_eq!(server.await.unwrap(), commands);
    })
    .await;
}

// ---------------------------------------------------------------- listener limits

#[tokio::test]
async fn per_source_limit_refuses_the_flood_and_serves_others() {
    bounded(async {
        let pki = pki();
        let mut l = listen(
            pki.server_tls(ClientCertificates::Optional),
            // Long enough that the silent connections stay for the whole test.
            patient(),
            Limits::default().with_per_source(2, 2),
        )
        .await;
        let addr = l.local_addr();
        // Two silent connections from 127.0.0.1 use up its handshake slots …
        let silent1 = tcp_from("127.0.0.1", addr).await;
        let _silent2 = tcp_from("127.0.0.1", addr).await;
        until(&l, |s| s.accepted == 2).await;
        // … so the third from that address is closed at once.
        let mut third = tcp_from("127.0.0.1", addr).await;
        assert!(closed_by_server(&mut third).await);
        let s = l.stats();
        assert_eq!((s.refused_per_source, s.held, s.in_handshake), (1, 2, 2));
        // Another address is still served.
        let tls = pki.client_tls(None);
        let mut other = client_from("127.0.0.2", addr, &tls).await;
        let (mut served, peer) = l.accept().await.unwrap();
        assert_eq!(peer.ip().to_string(), "127.0.0.2");
        other
            .send_batch(Bytes::from_static(b"hello"))
            .await
            .unwrap();
        assert_eq!(
            served.recv().await.unwrap(),
            Received::Batch(Bytes::from_static(b"hello"))
        );
        // When one of the silent ones goes away, 127.0.0.1 gets a slot back.
        drop(silent1);
        until(&l, |s| s.handshake_failed == 1).await;
        let _back = client_from("127.0.0.1", addr, &tls).await;
        let (_served_back, peer) = l.accept().await.unwrap();
        assert_eq!(peer.ip().to_string(), "127.0.0.1");
        let s = l.stats();
        // 127.0.0.2's, the one back, and the remaining silent one (still in handshake).
        assert_eq!((s.established, s.held, s.in_handshake), (2, 3, 1));
        l.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn established_connections_count_until_dropped() {
    bounded(async {
        let pki = pki();
        let mut l = listen(
            pki.server_tls(ClientCertificates::Optional),
            no_sasl(),
            Limits::default().with_per_source(1, 1),
        )
        .await;
        let addr = l.local_addr();
        let tls = pki.client_tls(None);
        let _first = connect(addr, localhost(), tls.clone(), no_sasl())
            .await
            .unwrap();
        let (held, _) = l.accept().await.unwrap();
        // The caller still holds the first connection: the second is refused.
        assert!(
            connect(addr, localhost(), tls.clone(), no_sasl())
                .await
                .is_err()
        );
        until(&l, |s| s.refused_per_source == 1).await;
        drop(held);
        let _second = connect(addr, localhost(), tls, no_sasl()).await.unwrap();
        assert!(l.accept().await.is_some());
        l.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn global_limits_refuse_connections_and_pause_handshakes() {
    bounded(async {
        let pki = pki();
        // At most one connection held: the second is closed at once.
        let mut l = listen(
            pki.server_tls(ClientCertificates::Optional),
            no_sasl(),
            Limits::default().with_global(512, 1),
        )
        .await;
        let addr = l.local_addr();
        let tls = pki.client_tls(None);
        let _first = connect(addr, localhost(), tls.clone(), no_sasl())
            .await
            .unwrap();
        let (_held, _) = l.accept().await.unwrap();
        let mut second = tcp_from("127.0.0.2", addr).await;
        assert!(closed_by_server(&mut second).await);
        assert_eq!(l.stats().refused_total, 1);
        l.shutdown().await;

        // One handshake at a time: while a silent client holds it, the next one (another
        // address) is not even accepted; it completes once the slot frees.
        let mut l = listen(
            pki.server_tls(ClientCertificates::Optional),
            patient(),
            Limits::default().with_global(1, 100),
        )
        .await;
        let addr = l.local_addr();
        let silent = tcp_from("127.0.0.1", addr).await;
        until(&l, |s| s.in_handshake == 1).await;
        let waiting = tokio::spawn(async move { client_from("127.0.0.2", addr, &tls).await });
        // Give the loop ample occasion to (wrongly) accept it.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(l.stats().accepted, 1);
        drop(silent);
        let _c = waiting.await.unwrap();
        let (_, peer) = l.accept().await.unwrap();
        assert_eq!(peer.ip().to_string(), "127.0.0.2");
        assert_eq!(l.stats().accepted, 2);
        l.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn shutdown_stops_accepting_and_leaves_established_connections() {
    bounded(async {
        let pki = pki();
        let mut l = listen(
            pki.server_tls(ClientCertificates::Optional),
            patient(),
            Limits::default(),
        )
        .await;
        let addr = l.local_addr();
        let mut client = connect(addr, localhost(), pki.client_tls(None), no_sasl())
            .await
            .unwrap();
        let (mut server_side, _) = l.accept().await.unwrap();
        // A handshake in progress when the listener shuts down is abandoned.
        let mut pending = TcpStream::connect(addr).await.unwrap();
        until(&l, |s| s.accepted == 2).await;
        l.shutdown().await;
        assert!(closed_by_server(&mut pending).await);
        // Nobody listens any more.
        assert!(TcpStream::connect(addr).await.is_err());
        // The established connection keeps working.
        client
            .send_batch(Bytes::from_static(b"still here"))
            .await
            .unwrap();
        assert_eq!(
            server_side.recv().await.unwrap(),
            Received::Batch(Bytes::from_static(b"still here"))
        );
    })
    .await;
}
