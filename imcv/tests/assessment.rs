//! Whole assessments in memory: a TNC client hosting the SWIMA and OS collectors and a TNC
//! server hosting the SWIMA and OS verifiers, joined by moving PB-TNC batches, driven only
//! through the crates' public APIs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use if_imv::{ActionRecommendation as A, ArIdentity, EvaluationResult as E, RetryReason};
use imcv::Verdict;
use imcv::os::{OsImc, OsImv, OsPolicy, OsPosture, OsSink};
use imcv::swima::{
    DenyList, DenyRule, SoftwareChange, SwimaImc, SwimaImcConfig, SwimaImcHandle, SwimaImv,
    SwimaImvConfig, SwimaSink,
};
use nea_wire::{Text, VendorId};
use pa_tnc::{DateTime20, ForwardingEnabled, NumericVersion, ProductInformation};
use swima::{
    Collector, CollectorConfig, DataModelType, InventorySource, MemoryStore, MirrorChange,
    MirrorKey, MirrorRecord, SourceItem, ValidatorConfig, ValidatorState,
};

// ---- the endpoint's software ----

fn tag(i: usize) -> SourceItem {
    let xml = format!(
        "<SoftwareIdentity xmlns=\"http://standards.iso.org/iso/19770/-2/2015/schema.xsd\" \
         name=\"pkg-{i}\" version=\"1.{i}\" tagId=\"pkg-{i}-1.{i}\">\
         <Entity name=\"Example Corp\" regid=\"example.com\" role=\"tagCreator softwareCreator\"/>\
         <Meta product=\"Package number {i}\"/></SoftwareIdentity>"
    );
    SourceItem {
        data_model: DataModelType::SWID_2015,
        software_identifier: format!("example.com__pkg-{i}-1.{i}").into(),
        locator: format!("file:///usr/share/swidtags/pkg-{i}.swidtag").into(),
        record: Bytes::from(xml),
    }
}

/// A tag directory the test edits.
#[derive(Clone, Default)]
struct Tags(Arc<Mutex<Vec<SourceItem>>>);

impl Tags {
    fn with(n: usize) -> Self {
        Self(Arc::new(Mutex::new((0..n).map(tag).collect())))
    }
    fn install(&self, i: usize) {
        self.0.lock().unwrap().push(tag(i));
    }
    fn remove(&self, i: usize) {
        let id = tag(i).software_identifier;
        self.0
            .lock()
            .unwrap()
            .retain(|t| t.software_identifier != id);
    }
}

impl InventorySource for Tags {
    fn metadata(&self) -> Text {
        "test tag directory".into()
    }
    fn scan(&mut self) -> Result<Vec<SourceItem>, swima::Error> {
        Ok(self.0.lock().unwrap().clone())
    }
}

fn now() -> DateTime20 {
    DateTime20::new("2026-12-04T16:00:00Z").unwrap()
}

fn swima_imc(tags: &Tags, epoch: u32) -> (SwimaImc<MemoryStore>, SwimaImcHandle<MemoryStore>) {
    let collector = Collector::open(CollectorConfig::default(), MemoryStore::new(), epoch).unwrap();
    let imc = SwimaImc::new(
        collector,
        Some(Box::new(tags.clone())),
        SwimaImcConfig::default(),
    );
    let handle = imc.handle();
    handle.refresh(&now()).unwrap();
    (imc, handle)
}

// ---- the manager's repository ----

#[derive(Default)]
struct RepoState {
    inventories: Vec<(String, usize, u32, u32)>,
    events: Vec<(String, Vec<SoftwareChange>, u32, u32)>,
    stored: HashMap<String, ValidatorState>,
    loads: usize,
    known_tags: Vec<Text>,
    asked_unknown: Vec<Text>,
    tags: Vec<MirrorRecord>,
    os: Vec<(String, OsPosture, Verdict)>,
}

/// What a manager does: keeps each endpoint's mirror, epoch and last EID.
#[derive(Clone, Default)]
struct Repo(Arc<Mutex<RepoState>>);

impl Repo {
    fn get(&self) -> std::sync::MutexGuard<'_, RepoState> {
        self.0.lock().unwrap()
    }
}

impl SwimaSink for Repo {
    fn load_state(&mut self, endpoint: &str) -> Option<ValidatorState> {
        let mut s = self.get();
        s.loads += 1;
        s.stored.get(endpoint).cloned()
    }

    fn inventory(&mut self, endpoint: &str, records: &[MirrorRecord], epoch: u32, last_eid: u32) {
        let mut s = self.get();
        s.inventories
            .push((endpoint.to_owned(), records.len(), epoch, last_eid));
        s.stored.insert(
            endpoint.to_owned(),
            ValidatorState {
                epoch,
                last_eid,
                mirror: records.to_vec(),
            },
        );
    }

    fn events(&mut self, endpoint: &str, changes: &[SoftwareChange], epoch: u32, last_eid: u32) {
        let mut s = self.get();
        s.events
            .push((endpoint.to_owned(), changes.to_vec(), epoch, last_eid));
        let st = s.stored.entry(endpoint.to_owned()).or_default();
        let mut mirror: BTreeMap<MirrorKey, MirrorRecord> = st
            .mirror
            .drain(..)
            .map(|r| (MirrorKey::of(&r.id), r))
            .collect();
        for c in changes {
            match &c.change {
                MirrorChange::Added(r) | MirrorChange::Altered { new: r, .. } => {
                    mirror.insert(MirrorKey::of(&r.id), r.clone());
                }
                MirrorChange::Removed(r) => {
                    mirror.remove(&MirrorKey::of(&r.id));
                }
            }
        }
        st.mirror = mirror.into_values().collect();
        st.epoch = epoch;
        st.last_eid = last_eid;
    }

    fn unknown_tags(&mut self, _endpoint: &str, ids: &[Text]) -> Vec<Text> {
        let mut s = self.get();
        let unknown: Vec<Text> = ids
            .iter()
            .filter(|i| !s.known_tags.contains(i))
            .cloned()
            .collect();
        s.asked_unknown.extend(unknown.iter().cloned());
        unknown
    }

    fn tags(&mut self, _endpoint: &str, records: &[MirrorRecord]) {
        self.get().tags.extend(records.iter().cloned());
    }
}

impl OsSink for Repo {
    fn posture(&mut self, endpoint: &str, posture: &OsPosture, verdict: &Verdict) {
        self.get()
            .os
            .push((endpoint.to_owned(), posture.clone(), verdict.clone()));
    }
}

// ---- both brokers joined in memory ----

struct Pair {
    client: if_imc::Broker,
    server: if_imv::Broker,
    c: if_imc::Connection,
    s: if_imv::Connection,
    client_events: Vec<if_imc::Event>,
    server_events: Vec<if_imv::Event>,
    batches: usize,
}

impl Pair {
    fn new(
        imcs: Vec<(&str, Box<dyn if_imc::Imc>)>,
        imvs: Vec<(&str, Box<dyn if_imv::Imv>)>,
    ) -> Self {
        let mut client = if_imc::Broker::new(if_imc::BrokerConfig::default());
        for (name, imc) in imcs {
            client.add_imc(name, imc).unwrap();
        }
        let mut server = if_imv::Broker::new(if_imv::BrokerConfig::default());
        for (name, imv) in imvs {
            server.add_imv(name, imv).unwrap();
        }
        Self::join(client, server)
    }

    /// A new connection between `client` and `server` (the endpoint is `endpoint-1`).
    fn join(mut client: if_imc::Broker, mut server: if_imv::Broker) -> Self {
        let c = client.connect(if_imc::ConnectionConfig::default());
        let s = server.accept(if_imv::ConnectionConfig {
            ar_identities: vec![ArIdentity::password_user("endpoint-1")],
            ..Default::default()
        });
        Self {
            client,
            server,
            c,
            s,
            client_events: Vec::new(),
            server_events: Vec::new(),
            batches: 0,
        }
    }

    /// Moves batches both ways until idle (bounded).
    fn run(&mut self) {
        for _ in 0..10_000 {
            let mut moved = false;
            while let Some(b) = self.c.poll_transmit() {
                self.batches += 1;
                self.server.handle_batch(&mut self.s, b);
                moved = true;
            }
            while let Some(b) = self.s.poll_transmit() {
                self.batches += 1;
                self.client.handle_batch(&mut self.c, b);
                moved = true;
            }
            while let Some(e) = self.c.poll_event() {
                self.client_events.push(e);
            }
            while let Some(e) = self.s.poll_event() {
                self.server_events.push(e);
            }
            if !moved {
                return;
            }
        }
        panic!("brokers did not become idle");
    }

    fn start(&mut self) {
        self.client.begin_handshake(&mut self.c).unwrap();
        self.run();
    }

    fn last_outcome(&self) -> &if_imv::Outcome {
        self.server_events
            .iter()
            .rev()
            .find_map(|e| match e {
                if_imv::Event::Outcome(o) => Some(o),
                _ => None,
            })
            .expect("no outcome")
    }

    fn last_decision(&self) -> &if_imc::Decision {
        self.client_events
            .iter()
            .rev()
            .find_map(|e| match e {
                if_imc::Event::Decision(d) => Some(d),
                _ => None,
            })
            .expect("no decision")
    }

    fn decisions(&self) -> usize {
        self.client_events
            .iter()
            .filter(|e| matches!(e, if_imc::Event::Decision(_)))
            .count()
    }

    fn close(&mut self) {
        self.client.close(&mut self.c);
        self.run();
        assert!(self.c.is_closed() && self.s.is_closed());
    }
}

fn swima_pair(
    tags: &Tags,
    repo: &Repo,
    config: SwimaImvConfig,
) -> (Pair, SwimaImcHandle<MemoryStore>) {
    let (imc, handle) = swima_imc(tags, 0x5eed);
    let imv = SwimaImv::new(repo.clone(), config);
    let p = Pair::new(
        vec![("swima", Box::new(imc))],
        vec![("swima", Box::new(imv))],
    );
    (p, handle)
}

/// A verifier that wants its answers in IF-M segments of at most 8 KiB.
fn small_segments() -> SwimaImvConfig {
    SwimaImvConfig {
        max_segment_size: 8 * 1024,
        ..SwimaImvConfig::default()
    }
}

// ---- SWIMA ----

#[test]
fn initial_inventory_of_1000_records_crosses_in_if_m_segments() {
    let tags = Tags::with(1000);
    let repo = Repo::default();
    let (mut p, handle) = swima_pair(&tags, &repo, small_segments());
    p.start();

    let s = repo.get();
    assert_eq!(s.inventories, vec![("endpoint-1".into(), 1000, 0x5eed, 0)]);
    // The mirror holds exactly the endpoint's records, bytes included.
    let stored = &s.stored["endpoint-1"];
    let expected: Vec<Bytes> = (0..1000).map(|i| tag(i).record).collect();
    let mut got: Vec<Bytes> = stored
        .mirror
        .iter()
        .map(|r| r.record.clone().unwrap())
        .collect();
    got.sort();
    let mut want = expected.clone();
    want.sort();
    assert_eq!(got, want);
    drop(s);
    // ~250 KB in 8 KiB segments: one Next Segment round trip per segment.
    assert!(
        p.batches > 2 * 25,
        "only {} batches: not segmented",
        p.batches
    );
    // Then the verifier subscribed to events, and allowed the endpoint.
    assert_eq!(handle.with_collector(|c| c.subscriptions().count()), 1);
    let o = p.last_outcome();
    assert_eq!((o.recommendation, o.evaluation), (A::Allow, E::Compliant));
    assert_eq!(
        p.last_decision().state,
        if_imc::ConnectionState::AccessAllowed
    );
    p.close();
    // The session's end ended the subscription (RFC 8412 §3.8.3).
    assert_eq!(handle.with_collector(|c| c.subscriptions().count()), 0);
}

#[test]
fn without_a_contract_an_inventory_fits_one_message() {
    // The default verifier takes segments as large as a PB-PA message: 20 records go whole.
    let tags = Tags::with(20);
    let repo = Repo::default();
    let (mut p, _handle) = swima_pair(&tags, &repo, SwimaImvConfig::default());
    p.start();
    assert_eq!(repo.get().inventories.len(), 1);
    assert_eq!(repo.get().inventories[0].1, 20);
    // CDATA, SDATA (request), CDATA (inventory), SDATA (subscribe), CDATA (events), RESULT.
    assert_eq!(p.batches, 6);
}

#[test]
fn install_and_removal_arrive_as_events_through_a_client_retry() {
    let tags = Tags::with(50);
    let repo = Repo::default();
    let (mut p, handle) = swima_pair(&tags, &repo, SwimaImvConfig::default());
    p.start();
    assert_eq!(p.decisions(), 1);
    assert!(!handle.has_pending(p.c.id()));

    // An install: the subscription's push waits for the next handshake.
    tags.install(1000);
    assert_eq!(handle.refresh(&now()).unwrap(), 1);
    assert!(handle.has_pending(p.c.id()));
    assert_eq!(handle.pending_connections(), vec![p.c.id()]);
    p.client
        .request_retry(&mut p.c, RetryReason::ImcInformationalEvent)
        .unwrap();
    p.run();
    assert_eq!(p.decisions(), 2);
    assert!(!handle.has_pending(p.c.id()));
    {
        let s = repo.get();
        let (who, changes, epoch, last) = s.events.last().unwrap();
        assert_eq!((who.as_str(), *epoch, *last), ("endpoint-1", 0x5eed, 1));
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].eid, 1);
        assert_eq!(changes[0].timestamp, Some(now()));
        let MirrorChange::Added(r) = &changes[0].change else {
            panic!("{:?}", changes[0].change)
        };
        assert_eq!(r.id.software_identifier, tag(1000).software_identifier);
        assert_eq!(r.record.as_ref(), Some(&tag(1000).record));
        assert_eq!(s.stored["endpoint-1"].mirror.len(), 51);
    }

    // A removal, reported through a re-assessment the server starts.
    tags.remove(3);
    assert_eq!(handle.refresh(&now()).unwrap(), 1);
    p.server
        .request_retry(&mut p.s, RetryReason::ImvMinorEvent)
        .unwrap();
    p.run();
    assert_eq!(p.decisions(), 3);
    let s = repo.get();
    let removed: Vec<_> = s
        .events
        .iter()
        .flat_map(|(_, c, _, _)| c.iter())
        .filter(|c| matches!(c.change, MirrorChange::Removed(_)))
        .collect();
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].eid, 2);
    assert_eq!(s.stored["endpoint-1"].mirror.len(), 50);
    assert_eq!(s.stored["endpoint-1"].last_eid, 2);
    // No full inventory was needed again.
    assert_eq!(s.inventories.len(), 1);
}

#[test]
fn the_collector_asks_for_the_retry_itself_when_events_wait_at_the_decision() {
    let tags = Tags::with(5);
    let repo = Repo::default();
    let (mut p, handle) = swima_pair(&tags, &repo, SwimaImvConfig::default());
    p.start();
    assert_eq!(p.decisions(), 1);
    // A retry for another reason starts; the collector has had its say in it (BeginHandshake)
    // when an install happens, so the push misses that handshake.
    p.client
        .request_retry(&mut p.c, RetryReason::ImcPeriodic)
        .unwrap();
    tags.install(77);
    handle.refresh(&now()).unwrap();
    assert!(handle.has_pending(p.c.id()));
    p.run();
    // At that handshake's decision the collector asked for one more itself, and sent the
    // event in it: three decisions for one retry from the driver.
    assert_eq!(p.decisions(), 3);
    assert!(!handle.has_pending(p.c.id()));
    let s = repo.get();
    assert_eq!(s.stored["endpoint-1"].mirror.len(), 6);
    assert_eq!(s.stored["endpoint-1"].last_eid, 1);
}

#[test]
fn an_epoch_change_makes_the_verifier_fetch_the_full_inventory_again() {
    let tags = Tags::with(30);
    let repo = Repo::default();
    let (mut p, handle) = swima_pair(&tags, &repo, SwimaImvConfig::default());
    p.start();
    tags.install(500);
    handle.refresh(&now()).unwrap();
    p.client
        .request_retry(&mut p.c, RetryReason::ImcInformationalEvent)
        .unwrap();
    p.run();
    assert_eq!(repo.get().stored["endpoint-1"].last_eid, 1);

    // The collector's log is lost/compacted: new epoch, then another install.
    handle.rotate_epoch(0xbeef).unwrap();
    tags.install(501);
    handle.refresh(&now()).unwrap();
    p.client
        .request_retry(&mut p.c, RetryReason::ImcInformationalEvent)
        .unwrap();
    p.run();
    let s = repo.get();
    assert_eq!(s.inventories.len(), 2, "{:?}", s.inventories);
    assert_eq!(s.inventories[1], ("endpoint-1".into(), 32, 0xbeef, 1));
    assert_eq!(s.stored["endpoint-1"].epoch, 0xbeef);
    drop(s);
    assert_eq!(p.last_outcome().recommendation, A::Allow);
}

#[test]
fn a_restarted_manager_asks_only_for_the_events_since_its_stored_state() {
    let tags = Tags::with(40);
    let repo = Repo::default();
    let (imc, handle) = swima_imc(&tags, 0x1111);
    let mut client = if_imc::Broker::new(if_imc::BrokerConfig::default());
    client.add_imc("swima", Box::new(imc)).unwrap();
    let manager = |repo: &Repo| {
        let mut server = if_imv::Broker::new(if_imv::BrokerConfig::default());
        let imv = SwimaImv::new(repo.clone(), SwimaImvConfig::default());
        server.add_imv("swima", Box::new(imv)).unwrap();
        server
    };
    let mut p = Pair::join(client, manager(&repo));
    p.start();
    p.close();
    assert_eq!(repo.get().inventories.len(), 1);

    // While the manager is down, software changes on the endpoint.
    tags.install(900);
    tags.remove(0);
    assert_eq!(handle.refresh(&now()).unwrap(), 2);

    // A new manager process: a fresh verifier over the same repository.
    let mut p = Pair::join(p.client, manager(&repo));
    p.start();
    let s = repo.get();
    assert_eq!(s.loads, 2);
    assert_eq!(s.inventories.len(), 1, "no second full inventory");
    let (_, changes, epoch, last) = s.events.last().unwrap();
    assert_eq!((*epoch, *last), (0x1111, 2));
    let eids: Vec<u32> = changes.iter().map(|c| c.eid).collect();
    assert_eq!(eids, vec![1, 2]);
    assert_eq!(s.stored["endpoint-1"].mirror.len(), 40);
    drop(s);
    // Events request + subscription in one round: CDATA, SDATA, CDATA, RESULT.
    assert_eq!(p.batches, 4);
    assert_eq!(p.last_outcome().recommendation, A::Allow);
}

#[test]
fn identifier_mode_fetches_only_the_tags_the_repository_lacks() {
    let tags = Tags::with(100);
    let repo = Repo::default();
    // The repository already holds tags 0..90.
    repo.get().known_tags = (0..90).map(|i| tag(i).software_identifier).collect();
    let config = SwimaImvConfig {
        validator: ValidatorConfig::default().with_full_records(false),
        ..SwimaImvConfig::default()
    };
    let (mut p, handle) = swima_pair(&tags, &repo, config);
    p.start();
    {
        let s = repo.get();
        assert_eq!(s.inventories[0].1, 100);
        assert!(
            s.stored["endpoint-1"]
                .mirror
                .iter()
                .all(|r| r.record.is_none())
        );
        assert_eq!(s.asked_unknown.len(), 10);
        let mut got: Vec<Text> = s
            .tags
            .iter()
            .map(|r| r.id.software_identifier.clone())
            .collect();
        got.sort();
        let mut want: Vec<Text> = (90..100).map(|i| tag(i).software_identifier).collect();
        want.sort();
        assert_eq!(got, want);
        assert!(s.tags.iter().all(|r| r.record.is_some()));
    }
    // A new install: its identifier arrives as an event, then its tag by a targeted request.
    tags.install(4242);
    handle.refresh(&now()).unwrap();
    p.client
        .request_retry(&mut p.c, RetryReason::ImcInformationalEvent)
        .unwrap();
    p.run();
    let s = repo.get();
    assert_eq!(s.tags.len(), 11);
    assert_eq!(s.tags[10].record.as_ref(), Some(&tag(4242).record));
}

#[test]
fn a_denied_software_version_denies_access_with_a_reason() {
    let tags = Tags::with(10);
    let repo = Repo::default();
    let (imc, _handle) = swima_imc(&tags, 7);
    let imv = SwimaImv::new(repo.clone(), SwimaImvConfig::default())
        .with_policy(DenyList::new(vec![DenyRule::new("pkg-4", &["1.4"])]));
    let mut p = Pair::new(
        vec![("swima", Box::new(imc))],
        vec![("swima", Box::new(imv))],
    );
    p.start();
    let o = p.last_outcome();
    assert_eq!(
        (o.recommendation, o.evaluation),
        (A::NoAccess, E::NonCompliantMajor)
    );
    let d = p.last_decision();
    assert_eq!(d.state, if_imc::ConnectionState::AccessNone);
    assert_eq!(d.reasons.len(), 1);
    assert_eq!(
        d.reasons[0].reason.as_str(),
        "forbidden software installed: pkg-4 1.4"
    );
    assert_eq!(d.reasons[0].language.as_str(), "en");
}

// ---- OS posture ----

fn debian(forwarding: ForwardingEnabled, packages: &[(&str, &str)]) -> OsPosture {
    OsPosture {
        product: Some(ProductInformation {
            vendor: VendorId::IETF,
            product_id: 0,
            name: "Debian GNU/Linux".into(),
        }),
        numeric_version: Some(NumericVersion {
            major: 12,
            minor: 4,
            ..NumericVersion::default()
        }),
        forwarding: Some(forwarding),
        packages: Some(
            packages
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
        ),
        ..OsPosture::default()
    }
}

fn os_pair(posture: OsPosture, policy: OsPolicy, repo: &Repo) -> Pair {
    Pair::new(
        vec![("os", Box::new(OsImc::new(posture)))],
        vec![("os", Box::new(OsImv::new(repo.clone(), policy)))],
    )
}

fn no_password_rule() -> OsPolicy {
    OsPolicy {
        isolate_default_password: false,
        ..OsPolicy::default()
    }
}

#[test]
fn os_posture_passes_and_reaches_the_sink() {
    let repo = Repo::default();
    let mut p = os_pair(
        debian(ForwardingEnabled::DISABLED, &[]),
        no_password_rule(),
        &repo,
    );
    p.start();
    let o = p.last_outcome();
    assert_eq!((o.recommendation, o.evaluation), (A::Allow, E::Compliant));
    let s = repo.get();
    let (who, posture, verdict) = &s.os[0];
    assert_eq!(who, "endpoint-1");
    assert_eq!(
        posture.product.as_ref().unwrap().name.as_str(),
        "Debian GNU/Linux"
    );
    assert_eq!(posture.numeric_version.unwrap().major, 12);
    // The package list is only sent when asked for; nothing asked for it.
    assert_eq!(posture.packages, None);
    assert_eq!(*verdict, Verdict::allow());
    // Everything the policy needs came at BeginHandshake: CDATA, RESULT.
    assert_eq!(p.batches, 2);
}

#[test]
fn forwarding_enabled_isolates_with_an_english_reason() {
    let repo = Repo::default();
    let mut p = os_pair(
        debian(ForwardingEnabled::ENABLED, &[]),
        no_password_rule(),
        &repo,
    );
    p.start();
    let o = p.last_outcome();
    assert_eq!(
        (o.recommendation, o.evaluation),
        (A::Isolate, E::NonCompliantMinor)
    );
    let d = p.last_decision();
    assert_eq!(d.state, if_imc::ConnectionState::AccessIsolated);
    assert_eq!(d.reasons[0].reason.as_str(), "IP forwarding is enabled");
    assert_eq!(d.reasons[0].language.as_str(), "en");
}

#[test]
fn a_listed_package_version_denies_access_after_asking_for_the_package_list() {
    let repo = Repo::default();
    let policy = OsPolicy {
        deny_packages: vec![DenyRule::new(
            "openssl",
            &["1.1.1n-0+deb11u3", "1.1.1n-0+deb11u4"],
        )],
        ..no_password_rule()
    };
    let posture = debian(
        ForwardingEnabled::DISABLED,
        &[("bash", "5.2.15-2"), ("openssl", "1.1.1n-0+deb11u4")],
    );
    let mut p = os_pair(posture, policy.clone(), &repo);
    p.start();
    let o = p.last_outcome();
    assert_eq!(
        (o.recommendation, o.evaluation),
        (A::NoAccess, E::NonCompliantMajor)
    );
    assert_eq!(
        p.last_decision().reasons[0].reason.as_str(),
        "package openssl version 1.1.1n-0+deb11u4 is not allowed"
    );
    assert_eq!(repo.get().os[0].1.packages.as_ref().unwrap().len(), 2);
    // CDATA, SDATA (Attribute Request), CDATA (Installed Packages), RESULT.
    assert_eq!(p.batches, 4);

    // Another version of the package passes.
    let repo = Repo::default();
    let posture = debian(
        ForwardingEnabled::DISABLED,
        &[("openssl", "3.0.15-1~deb12u1")],
    );
    let mut p = os_pair(posture, policy, &repo);
    p.start();
    assert_eq!(p.last_outcome().recommendation, A::Allow);
}

#[test]
fn swima_and_os_verifiers_conflict_and_the_most_restrictive_wins() {
    let tags = Tags::with(200);
    let repo = Repo::default();
    let (swima, _handle) = swima_imc(&tags, 9);
    let mut p = Pair::new(
        vec![
            ("swima", Box::new(swima)),
            (
                "os",
                Box::new(OsImc::new(debian(ForwardingEnabled::ENABLED, &[]))),
            ),
        ],
        vec![
            (
                "swima",
                Box::new(SwimaImv::new(repo.clone(), small_segments())),
            ),
            ("os", Box::new(OsImv::new(repo.clone(), no_password_rule()))),
        ],
    );
    p.start();
    let o = p.last_outcome();
    let said: Vec<(&str, A)> = o
        .verdicts
        .iter()
        .map(|v| (v.name.as_str(), v.recommendation))
        .collect();
    assert_eq!(said, vec![("swima", A::Allow), ("os", A::Isolate)]);
    assert_eq!(
        (o.recommendation, o.evaluation),
        (A::Isolate, E::NonCompliantMinor)
    );
    assert_eq!(
        p.last_decision().state,
        if_imc::ConnectionState::AccessIsolated
    );
    assert_eq!(repo.get().inventories[0].1, 200);
}

// ---- malformed input ----

/// A verifier that sends fixed SWIMA messages once and keeps what comes back.
struct RawImv {
    send: Vec<Bytes>,
    got: Arc<Mutex<Vec<Bytes>>>,
}

impl if_imv::Imv for RawImv {
    fn initialize(&mut self, init: &mut if_imv::ImvInit<'_>) -> Result<(), if_imv::TncError> {
        init.report_message_types(&[if_imv::MessageType::SWIMA]);
        Ok(())
    }
    fn receive_message(
        &mut self,
        _conn: &mut if_imv::ImvConnection<'_>,
        m: &if_imv::ImvMessage,
    ) -> Result<(), if_imv::TncError> {
        self.got.lock().unwrap().push(m.body.clone());
        Ok(())
    }
    fn batch_ending(
        &mut self,
        conn: &mut if_imv::ImvConnection<'_>,
    ) -> Result<(), if_imv::TncError> {
        for b in self.send.drain(..) {
            conn.send(if_imv::MessageType::SWIMA, b)?;
        }
        Ok(())
    }
    fn solicit_recommendation(
        &mut self,
        conn: &mut if_imv::ImvConnection<'_>,
    ) -> Result<(), if_imv::TncError> {
        conn.provide_recommendation(A::Allow, E::Compliant);
        Ok(())
    }
}

fn message(attrs: Vec<pa_tnc::Attribute>) -> Bytes {
    let mut m = pa_tnc::PaTncMessage::new(99);
    m.attributes = attrs;
    m.to_bytes()
}

#[test]
fn malformed_swima_input_gets_pa_tnc_errors_and_the_collector_goes_on() {
    use pa_tnc::{Attribute, AttributeType, ErrorCode, PaAttribute, PaTncError};
    let tags = Tags::with(3);
    let (imc, handle) = swima_imc(&tags, 1);
    let got = Arc::new(Mutex::new(Vec::new()));
    let good = swima::SwimaRequest::inventory(5).to_attribute();
    let imv = RawImv {
        send: vec![
            // 1: not a PA-TNC message (5 bytes).
            Bytes::from_static(b"\x01\x00\x00\x00\x00"),
            // 2: a SWIMA Request whose value is 3 bytes long.
            message(vec![Attribute::new(
                VendorId::IETF,
                AttributeType::SWIMA_REQUEST.0,
                false,
                Bytes::from_static(b"\x00\x00\x00"),
            )]),
            // 3: an unknown attribute with NOSKIP, then a valid request (not processed).
            message(vec![
                Attribute::new(VendorId::new(9999).unwrap(), 1, true, Bytes::new()),
                good.clone(),
            ]),
            // 4: a valid request: answered.
            message(vec![good]),
        ],
        got: got.clone(),
    };
    let mut p = Pair::new(vec![("swima", Box::new(imc))], vec![("raw", Box::new(imv))]);
    p.start();
    let got = got.lock().unwrap();
    let attrs: Vec<Attribute> = got
        .iter()
        .flat_map(|b| pa_tnc::PaTncMessage::decode(b.clone()).unwrap().attributes)
        .collect();
    let codes: Vec<u32> = attrs
        .iter()
        .filter(|a| PaTncError::matches(a))
        .map(|a| PaTncError::from_attribute(a).unwrap().code)
        .collect();
    assert_eq!(
        codes,
        vec![
            ErrorCode::INVALID_PARAMETER.0,
            ErrorCode::INVALID_PARAMETER.0,
            ErrorCode::ATTRIBUTE_TYPE_NOT_SUPPORTED.0,
        ]
    );
    // Exactly one inventory: the well-formed request was answered, the other one not.
    let inventories: Vec<_> = attrs
        .iter()
        .filter(|a| a.kind == AttributeType::SOFTWARE_INVENTORY.0)
        .collect();
    assert_eq!(inventories.len(), 1);
    assert_eq!(handle.last_eid(), 0);
}

/// A collector that sends fixed messages of one type at BeginHandshake.
struct RawImc {
    t: if_imc::MessageType,
    send: Vec<Bytes>,
}

impl if_imc::Imc for RawImc {
    fn initialize(&mut self, init: &mut if_imc::ImcInit<'_>) -> Result<(), if_imc::TncError> {
        init.report_message_types(&[self.t]);
        Ok(())
    }
    fn begin_handshake(
        &mut self,
        conn: &mut if_imc::ImcConnection<'_>,
    ) -> Result<(), if_imc::TncError> {
        for b in self.send.drain(..) {
            conn.send(self.t, b)?;
        }
        Ok(())
    }
}

/// Bytes that are sometimes a PA-TNC message with plausible attributes, sometimes not.
fn pa_bodies() -> impl proptest::strategy::Strategy<Value = Vec<Bytes>> {
    use proptest::prelude::*;
    let attr = (
        prop_oneof![Just(0u32), Just(VendorId::TCG.get())],
        0u32..40,
        any::<bool>(),
        proptest::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(vendor, kind, noskip, value)| {
            pa_tnc::Attribute::new(VendorId::from_u24(vendor), kind, noskip, Bytes::from(value))
        });
    let body = prop_oneof![
        proptest::collection::vec(attr, 0..4).prop_map(message),
        proptest::collection::vec(any::<u8>(), 0..80).prop_map(Bytes::from),
    ];
    proptest::collection::vec(body, 1..4)
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Whatever a peer sends, the plugins neither panic nor stall the assessment.
    #[test]
    fn arbitrary_peer_messages_never_break_an_assessment(bodies in pa_bodies()) {
        // Collectors fed by a raw verifier.
        let tags = Tags::with(3);
        let (swima, _h) = swima_imc(&tags, 1);
        let got = Arc::new(Mutex::new(Vec::new()));
        let mut p = Pair::new(
            vec![
                ("swima", Box::new(swima)),
                ("os", Box::new(OsImc::new(debian(ForwardingEnabled::DISABLED, &[("a", "1")])))),
            ],
            vec![("raw", Box::new(RawImv { send: bodies.clone(), got }))],
        );
        p.start();
        proptest::prop_assert!(p.c.decision().is_some());
        // Verifiers fed by raw collectors.
        let repo = Repo::default();
        let policy = OsPolicy {
            deny_packages: vec![DenyRule::new("x", &[])],
            ..OsPolicy::default()
        };
        let mut p = Pair::new(
            vec![
                ("raw-swima", Box::new(RawImc { t: if_imc::MessageType::SWIMA, send: bodies.clone() })),
                ("raw-os", Box::new(RawImc { t: if_imc::MessageType::OPERATING_SYSTEM, send: bodies })),
            ],
            vec![
                ("swima", Box::new(SwimaImv::new(repo.clone(), SwimaImvConfig::default()))),
                ("os", Box::new(OsImv::new(repo.clone(), policy))),
            ],
        );
        p.start();
        proptest::prop_assert!(p.c.decision().is_some());
    }
}
