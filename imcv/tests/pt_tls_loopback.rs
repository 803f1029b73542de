//! The shipped SWIMA and OS collectors and verifiers over real PT-TLS on loopback (mutual TLS
//! with rcgen certificates, the pt-tls listener, both brokers' tokio drivers): the initial
//! inventory, then an install reported through a client retry on the open session, with the
//! endpoint known by its certificate subject.
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
use if_imv::{ActionRecommendation as A, RetryReason};
use imcv::Verdict;
use imcv::os::{OsImc, OsImv, OsPolicy, OsPosture, OsSink};
use imcv::swima::{SoftwareChange, SwimaImc, SwimaImcConfig, SwimaImv, SwimaImvConfig, SwimaSink};
use nea_wire::{Text, VendorId};
use pa_tnc::{DateTime20, ForwardingEnabled, NumericVersion, ProductInformation};
use pt_tls::tokio::listener::{Limits, Listener};
use pt_tls::tokio::tls::{ClientCertificates, Pem, client_config, server_config};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use swima::{
    Collector, CollectorConfig, DataModelType, InventorySource, MemoryStore, MirrorRecord,
    SourceItem,
};

fn tag(i: usize) -> SourceItem {
    let xml = format!(
        "<SoftwareIdentity xmlns=\"http://standards.iso.org/iso/19770/-2/2015/schema.xsd\" \
         name=\"pkg-{i}\" version=\"1.{i}\" tagId=\"pkg-{i}\">\
         <Entity name=\"Example\" regid=\"example.com\" role=\"tagCreator\"/></SoftwareIdentity>"
    );
    SourceItem {
        data_model: DataModelType::SWID_2015,
        software_identifier: format!("example.com__pkg-{i}").into(),
        locator: format!("file:///tags/pkg-{i}.swidtag").into(),
        record: Bytes::from(xml),
    }
}

#[derive(Clone, Default)]
struct Tags(Arc<Mutex<Vec<SourceItem>>>);

impl InventorySource for Tags {
    fn metadata(&self) -> Text {
        "loopback tags".into()
    }
    fn scan(&mut self) -> Result<Vec<SourceItem>, swima::Error> {
        Ok(self.0.lock().unwrap().clone())
    }
}

/// What the manager's side saw, as it arrived.
#[derive(Default)]
struct Seen {
    /// (endpoint, inventory size).
    inventories: Vec<(String, usize)>,
    /// (endpoint, number of changes).
    events: Vec<(String, usize)>,
    /// Endpoints whose OS posture arrived.
    os: Vec<String>,
}

#[derive(Clone, Default)]
struct Repo(Arc<Mutex<Seen>>);

impl SwimaSink for Repo {
    fn inventory(&mut self, endpoint: &str, records: &[MirrorRecord], _: u32, _: u32) {
        self.0
            .lock()
            .unwrap()
            .inventories
            .push((endpoint.to_owned(), records.len()));
    }
    fn events(&mut self, endpoint: &str, changes: &[SoftwareChange], _: u32, _: u32) {
        if !changes.is_empty() {
            self.0
                .lock()
                .unwrap()
                .events
                .push((endpoint.to_owned(), changes.len()));
        }
    }
}

impl OsSink for Repo {
    fn posture(&mut self, endpoint: &str, _: &OsPosture, _: &Verdict) {
        self.0.lock().unwrap().os.push(endpoint.to_owned());
    }
}

fn pki() -> (Pem, (Pem, Pem), (Pem, Pem)) {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name = DistinguishedName::new();
    p.distinguished_name
        .push(DnType::CommonName, "imcv test CA");
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = p.self_signed(&key).unwrap();
    let ca_pem = ca.pem();
    let issuer = Issuer::new(p, key);
    let leaf = |dns: &str, eku| {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(vec![dns.to_owned()]).unwrap();
        p.distinguished_name = DistinguishedName::new();
        p.distinguished_name.push(DnType::CommonName, dns);
        p.extended_key_usages = vec![eku];
        let cert = p.signed_by(&key, &issuer).unwrap();
        (
            Pem::bytes(format!("{dns} cert"), cert.pem()),
            Pem::bytes(format!("{dns} key"), key.serialize_pem()),
        )
    };
    (
        Pem::bytes("CA", ca_pem),
        leaf("localhost", ExtendedKeyUsagePurpose::ServerAuth),
        leaf("endpoint-7.example", ExtendedKeyUsagePurpose::ClientAuth),
    )
}

fn now() -> DateTime20 {
    DateTime20::new("2026-12-04T17:00:00Z").unwrap()
}

#[tokio::test]
async fn swima_and_os_assessment_then_an_install_over_pt_tls() {
    let (ca, (scert, skey), (ccert, ckey)) = pki();
    let stls = server_config(&ca, &scert, &skey, ClientCertificates::Required).unwrap();
    let ctls = client_config(&ca, Some((&ccert, &ckey))).unwrap();
    let pt = Arc::new(pt_tls::Config::default());

    // The manager: SWIMA and OS verifiers storing into one repository.
    let repo = Repo::default();
    let server = Arc::new(Mutex::new(if_imv::Broker::new(Default::default())));
    {
        let mut b = server.lock().unwrap();
        b.add_imv(
            "swima",
            Box::new(SwimaImv::new(repo.clone(), SwimaImvConfig::default())),
        )
        .unwrap();
        let policy = OsPolicy {
            isolate_default_password: false,
            ..OsPolicy::default()
        };
        b.add_imv("os", Box::new(OsImv::new(repo.clone(), policy)))
            .unwrap();
    }
    let mut listener = Listener::bind("127.0.0.1:0", stls, pt.clone(), Limits::default())
        .await
        .unwrap();
    let addr = listener.local_addr();
    let sb = server.clone();
    let manager = tokio::spawn(async move {
        let (conn, peer) = listener.accept().await.unwrap();
        let mut s = ServerSession::accept(&sb, conn, Some(peer.ip()));
        let mut outcomes = Vec::new();
        loop {
            match s.next_event(&sb).await {
                Ok(if_imv::Event::Outcome(o)) => outcomes.push(o.recommendation),
                Ok(if_imv::Event::Closed(_)) | Err(_) => return outcomes,
                Ok(_) => {}
            }
        }
    });

    // The endpoint: 300 tags and a Debian OS posture.
    let tags = Tags(Arc::new(Mutex::new((0..300).map(tag).collect())));
    let collector = Collector::open(CollectorConfig::default(), MemoryStore::new(), 7).unwrap();
    let swima = SwimaImc::new(
        collector,
        Some(Box::new(tags.clone())),
        SwimaImcConfig::default(),
    );
    let handle = swima.handle();
    handle.refresh(&now()).unwrap();
    let os = OsPosture {
        product: Some(ProductInformation {
            vendor: VendorId::IETF,
            product_id: 0,
            name: "Debian GNU/Linux".into(),
        }),
        numeric_version: Some(NumericVersion {
            major: 12,
            ..NumericVersion::default()
        }),
        forwarding: Some(ForwardingEnabled::DISABLED),
        ..OsPosture::default()
    };
    let client = Mutex::new(if_imc::Broker::new(Default::default()));
    {
        let mut b = client.lock().unwrap();
        b.add_imc("swima", Box::new(swima)).unwrap();
        b.add_imc("os", Box::new(OsImc::new(os))).unwrap();
    }
    let conn = pt_tls::tokio::connect(addr, "localhost".try_into().unwrap(), ctls, pt)
        .await
        .unwrap();
    let mut c = ClientSession::start(&client, conn, Default::default())
        .await
        .unwrap();
    let t = Duration::from_secs(30);
    let first = tokio::time::timeout(t, c.run_until_decision(&client))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.state, if_imc::ConnectionState::AccessAllowed);
    let endpoint = "CN=endpoint-7.example".to_owned();
    assert_eq!(
        repo.0.lock().unwrap().inventories,
        vec![(endpoint.clone(), 300)]
    );

    // An install on the endpoint: new events, reported through a retry on the open session.
    tags.0.lock().unwrap().push(tag(300));
    handle.refresh(&now()).unwrap();
    c.command(&client, |b, conn| {
        b.request_retry(conn, RetryReason::ImcInformationalEvent)
    })
    .await
    .unwrap()
    .unwrap();
    let second = tokio::time::timeout(t, c.run_until_decision(&client))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.state, if_imc::ConnectionState::AccessAllowed);
    assert_eq!(repo.0.lock().unwrap().events, vec![(endpoint.clone(), 1)]);
    assert_eq!(repo.0.lock().unwrap().os, vec![endpoint.clone(), endpoint]);
    c.close(&client).await.unwrap();
    let outcomes = tokio::time::timeout(t, manager).await.unwrap().unwrap();
    assert_eq!(outcomes, vec![A::Allow, A::Allow]);
}
