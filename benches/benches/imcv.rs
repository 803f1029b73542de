//! Whole posture assessments in memory (`imcv/assessment/<case>`): a TNC client hosting the
//! SWIMA and OS collectors and a TNC server hosting the SWIMA and OS verifiers, joined by
//! moving PB-TNC batches. One iteration is one connection from CREATE to the RESULT and
//! CLOSE: the SWIMA verifier fetches a full inventory of 1,000 records (~1 KiB SWID tags),
//! subscribes to events, the OS verifier checks the OS attributes and the package list, both
//! recommend, the server decides.
#![allow(clippy::expect_used, clippy::panic)]

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use if_imv::ArIdentity;
use imcv::os::{OsImc, OsImv, OsPolicy, OsPosture};
use imcv::swima::{
    DenyRule, SoftwareChange, SwimaImc, SwimaImcConfig, SwimaImv, SwimaImvConfig, SwimaSink,
};
use nea_wire::{Text, VendorId};
use pa_tnc::{DateTime20, ForwardingEnabled, NumericVersion, ProductInformation};
use std::hint::black_box;
use swima::{
    Collector, CollectorConfig, DataModelType, InventorySource, MemoryStore, MirrorRecord,
    SourceItem,
};

/// A SWID tag of about 1 KiB.
fn tag(i: usize) -> SourceItem {
    let mut xml = format!(
        "<SoftwareIdentity xmlns=\"http://standards.iso.org/iso/19770/-2/2015/schema.xsd\" \
         name=\"package-{i:05}\" version=\"1.{}\" tagId=\"Debian_12-x86_64-package-{i:05}\">\
         <Entity name=\"Debian\" regid=\"debian.org\" role=\"tagCreator\"/>\
         <Meta product=\"Debian 12 x86_64\"/><Payload><Directory root=\"/usr/share/doc\" \
         name=\"package-{i:05}\">",
        i % 17
    );
    for f in 0..8 {
        xml.push_str(&format!(
            "<File name=\"file-{f:02}.txt\" size=\"{}\" hash=\"{:032x}\"/>",
            1000 + f * 37,
            (i * 31 + f) as u128 * 0x9e37_79b9_7f4a_7c15
        ));
    }
    xml.push_str("</Directory></Payload></SoftwareIdentity>");
    SourceItem {
        data_model: DataModelType::SWID_2015,
        software_identifier: format!("debian.org__Debian_12-x86_64-package-{i:05}").into(),
        locator: format!("file:///usr/share/swidtags/package-{i:05}.swidtag").into(),
        record: Bytes::from(xml),
    }
}

struct Tags(Vec<SourceItem>);

impl InventorySource for Tags {
    fn metadata(&self) -> Text {
        "bench".into()
    }
    fn scan(&mut self) -> Result<Vec<SourceItem>, swima::Error> {
        Ok(self.0.clone())
    }
}

/// A repository that only counts.
#[derive(Default)]
struct Count(usize);

impl SwimaSink for Count {
    fn inventory(&mut self, _: &str, records: &[MirrorRecord], _: u32, _: u32) {
        self.0 += records.len();
    }
    fn events(&mut self, _: &str, changes: &[SoftwareChange], _: u32, _: u32) {
        self.0 += changes.len();
    }
}

fn os() -> OsPosture {
    OsPosture {
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
        packages: Some(
            (0..1000)
                .map(|i| (format!("package-{i:05}"), format!("1.{}", i % 17)))
                .collect(),
        ),
        ..OsPosture::default()
    }
}

fn brokers(imv: SwimaImvConfig) -> (if_imc::Broker, if_imv::Broker) {
    let tags = Tags((0..1000).map(tag).collect());
    let collector =
        Collector::open(CollectorConfig::default(), MemoryStore::new(), 0x5eed).expect("open");
    let swima = SwimaImc::new(collector, Some(Box::new(tags)), SwimaImcConfig::default());
    swima
        .handle()
        .refresh(&DateTime20::new("2026-12-04T16:00:00Z").expect("time"))
        .expect("scan");
    let mut client = if_imc::Broker::new(if_imc::BrokerConfig::default());
    client.add_imc("swima", Box::new(swima)).expect("imc");
    client
        .add_imc("os", Box::new(OsImc::new(os())))
        .expect("imc");
    let mut server = if_imv::Broker::new(if_imv::BrokerConfig::default());
    server
        .add_imv("swima", Box::new(SwimaImv::new(Count::default(), imv)))
        .expect("imv");
    let policy = OsPolicy {
        isolate_default_password: false,
        deny_packages: vec![DenyRule::new("openssl", &["1.1.1n-0+deb11u4"])],
        ..OsPolicy::default()
    };
    server
        .add_imv("os", Box::new(OsImv::new((), policy)))
        .expect("imv");
    (client, server)
}

/// One assessment on a new connection; returns the number of PB-TNC batches moved.
fn assess(client: &mut if_imc::Broker, server: &mut if_imv::Broker) -> usize {
    let mut c = client.connect(if_imc::ConnectionConfig::default());
    let mut s = server.accept(if_imv::ConnectionConfig {
        ar_identities: vec![ArIdentity::password_user("endpoint-1")],
        ..Default::default()
    });
    client.begin_handshake(&mut c).expect("begin");
    let mut batches = 0;
    let mut closing = false;
    loop {
        let mut moved = false;
        while let Some(b) = c.poll_transmit() {
            server.handle_batch(&mut s, b);
            batches += 1;
            moved = true;
        }
        while let Some(b) = s.poll_transmit() {
            client.handle_batch(&mut c, b);
            batches += 1;
            moved = true;
        }
        while c.poll_event().is_some() {}
        while s.poll_event().is_some() {}
        if !moved {
            if closing {
                break;
            }
            assert!(c.decision().is_some(), "no decision");
            client.close(&mut c);
            closing = true;
        }
    }
    batches
}

fn bench(cr: &mut Criterion) {
    let mut g = cr.benchmark_group("imcv/assessment");
    g.throughput(Throughput::Elements(1));
    g.sample_size(20);
    let cases = [
        ("swima_1000_os", SwimaImvConfig::default()),
        (
            "swima_1000_os_segments_64k",
            SwimaImvConfig {
                max_segment_size: 64 * 1024,
                ..SwimaImvConfig::default()
            },
        ),
    ];
    for (name, imv) in cases {
        let (mut client, mut server) = brokers(imv);
        g.bench_function(name, |b| {
            b.iter(|| black_box(assess(&mut client, &mut server)));
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
