//! Both brokers over real PT-TLS on loopback (rustls, rcgen certificates made here, mutual
//! TLS): an assessment, a manager-initiated re-assessment raced against incoming batches with
//! `select!`, the endpoint identified by its certificate, and a clean close.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use if_imc::tokio::{ClientSession, ClientSessionExt};
use if_imv::tokio::{ServerSession, ServerSessionExt};
use if_imv::{
    ActionRecommendation as A, EvaluationResult as E, Imv, ImvConnection, ImvInit, ImvMessage,
    MessageType, RetryReason, TncError,
};
use pt_tls::tokio::listener::{Limits, Listener};
use pt_tls::tokio::tls::{ClientCertificates, Pem, client_config, server_config};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

fn ca() -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name = DistinguishedName::new();
    p.distinguished_name
        .push(DnType::CommonName, "brokers test CA");
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

fn leaf(ca: &Ca, dns: &str, eku: ExtendedKeyUsagePurpose) -> (Pem, Pem) {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(vec![dns.to_owned()]).unwrap();
    p.distinguished_name = DistinguishedName::new();
    p.distinguished_name
        .push(DnType::OrganizationName, "Example");
    p.distinguished_name.push(DnType::CommonName, dns);
    p.extended_key_usages = vec![eku];
    let cert = p.signed_by(&key, &ca.issuer).unwrap();
    (
        Pem::bytes(format!("{dns} cert"), cert.pem()),
        Pem::bytes(format!("{dns} key"), key.serialize_pem()),
    )
}

struct Hello;
impl if_imc::Imc for Hello {
    fn initialize(&mut self, init: &mut if_imc::ImcInit<'_>) -> Result<(), TncError> {
        init.report_message_types(&[MessageType::OPERATING_SYSTEM]);
        Ok(())
    }
    fn begin_handshake(&mut self, conn: &mut if_imc::ImcConnection<'_>) -> Result<(), TncError> {
        conn.send(MessageType::OPERATING_SYSTEM, Bytes::from_static(b"hello"))
    }
}

/// Allows, and records the endpoint identifier it saw.
struct Seen(Arc<Mutex<Vec<String>>>);
impl Imv for Seen {
    fn initialize(&mut self, init: &mut ImvInit<'_>) -> Result<(), TncError> {
        init.report_message_types(&[MessageType::OPERATING_SYSTEM]);
        Ok(())
    }
    fn receive_message(
        &mut self,
        conn: &mut ImvConnection<'_>,
        _: &ImvMessage,
    ) -> Result<(), TncError> {
        let id = conn.ar_identities()[0].value_str().unwrap().to_owned();
        self.0.lock().unwrap().push(id);
        conn.provide_recommendation(A::Allow, E::Compliant);
        Ok(())
    }
    fn solicit_recommendation(&mut self, _: &mut ImvConnection<'_>) -> Result<(), TncError> {
        Ok(())
    }
}

#[tokio::test]
async fn assessment_and_reassessment_over_pt_tls() {
    let ca = ca();
    let ca_pem = Pem::bytes("CA", ca.pem.clone());
    let (scert, skey) = leaf(&ca, "localhost", ExtendedKeyUsagePurpose::ServerAuth);
    let (ccert, ckey) = leaf(&ca, "endpoint.example", ExtendedKeyUsagePurpose::ClientAuth);
    let stls = server_config(&ca_pem, &scert, &skey, ClientCertificates::Required).unwrap();
    let ctls = client_config(&ca_pem, Some((&ccert, &ckey))).unwrap();
    let pt_config = Arc::new(pt_tls::Config::default());

    let seen = Arc::new(Mutex::new(Vec::new()));
    let server_broker = Arc::new(Mutex::new(if_imv::Broker::new(Default::default())));
    server_broker
        .lock()
        .unwrap()
        .add_imv("seen", Box::new(Seen(seen.clone())))
        .unwrap();
    let mut listener = Listener::bind("127.0.0.1:0", stls, pt_config.clone(), Limits::default())
        .await
        .unwrap();
    let addr = listener.local_addr();
    let (reassess, mut reassess_rx) = tokio::sync::mpsc::channel::<()>(4);
    let sb = server_broker.clone();
    let server = tokio::spawn(async move {
        let (pt, peer) = listener.accept().await.unwrap();
        let mut s = ServerSession::accept(&sb, pt, Some(peer.ip()));
        let mut outcomes = Vec::new();
        loop {
            tokio::select! {
                ev = s.next_event(&sb) => match ev {
                    Ok(if_imv::Event::Outcome(o)) => outcomes.push(o.recommendation),
                    Ok(if_imv::Event::Closed(reason)) => return (outcomes, reason),
                    Ok(_) => {}
                    Err(e) => panic!("server: {e}"),
                },
                Some(()) = reassess_rx.recv() => {
                    s.command(&sb, |b, c| b.request_retry(c, RetryReason::ImvImportantPolicyChange))
                        .await
                        .unwrap()
                        .unwrap();
                }
            }
        }
    });

    let client_broker = Mutex::new(if_imc::Broker::new(Default::default()));
    client_broker
        .lock()
        .unwrap()
        .add_imc("hello", Box::new(Hello))
        .unwrap();
    let pt = pt_tls::tokio::connect(addr, "localhost".try_into().unwrap(), ctls, pt_config)
        .await
        .unwrap();
    let mut c = ClientSession::start(&client_broker, pt, Default::default())
        .await
        .unwrap();
    let first = tokio::time::timeout(
        Duration::from_secs(20),
        c.run_until_decision(&client_broker),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(first.state, if_imc::ConnectionState::AccessAllowed);
    // The manager re-assesses over the same session.
    reassess.send(()).await.unwrap();
    let second = tokio::time::timeout(
        Duration::from_secs(20),
        c.run_until_decision(&client_broker),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(second.state, if_imc::ConnectionState::AccessAllowed);
    assert_eq!(c.connection().session().handshakes(), 2);
    c.close(&client_broker).await.unwrap();
    let (outcomes, reason) = tokio::time::timeout(Duration::from_secs(20), server)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(outcomes, vec![A::Allow, A::Allow]);
    assert_eq!(reason, pb_tnc::CloseReason::PeerClosed);
    // The verifier knew the endpoint by its certificate subject (RFC 4514).
    assert_eq!(
        *seen.lock().unwrap(),
        vec!["CN=endpoint.example,O=Example".to_owned(); 2]
    );
}
