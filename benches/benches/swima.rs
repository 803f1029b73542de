//! SWIMA benchmarks (`swima/<op>/<case>`): decode and encode of a 10,000-record Software
//! Inventory with realistic 1–2 KiB SWID tags, a 1,000-event Software Events batch, and the
//! collector answering a full-inventory request.

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nea_wire::Text;
use pa_tnc::{DateTime20, PaAttribute};
use std::hint::black_box;
use swima::{
    Action, Collector, CollectorConfig, DataModelType, Event, MemoryStore, Peer, SoftwareEvents,
    SoftwareId, SoftwareInventory, SoftwareRecord, SourceItem, SwimaRequest,
};

/// An ISO 2015 SWID tag of 1–2 KiB, as swid_generator writes them (with a payload).
fn swid_tag(i: usize) -> (String, Bytes) {
    let name = format!("package-{i:05}");
    let tag_id = format!("Debian_12-x86_64-{name}-1.{}.{}", i % 17, i % 5);
    let mut x = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><SoftwareIdentity \
         xmlns=\"http://standards.iso.org/iso/19770/-2/2015/schema.xsd\" \
         xmlns:n8060=\"http://csrc.nist.gov/ns/swid/2015-extensions/1.0\" name=\"{name}\" \
         xml:lang=\"en-US\" tagId=\"{tag_id}\" version=\"1.{}\" versionScheme=\"alphanumeric\">\
         <Entity name=\"strongSwan Project\" regid=\"strongswan.org\" role=\"tagCreator\" />\
         <Meta product=\"Debian 12 x86_64\" /><Payload><Directory root=\"/usr/share/doc\" \
         name=\"{name}\">",
        i % 17
    );
    let files = 5 + i % 8;
    for f in 0..files {
        x.push_str(&format!(
            "<File name=\"file-{f:02}.txt\" size=\"{}\" SHA256:hash=\"{:064x}\" />",
            1000 + f * 37,
            (i * 31 + f) as u128 * 0x9e37_79b9_7f4a_7c15
        ));
    }
    x.push_str("</Directory></Payload></SoftwareIdentity>");
    (format!("strongswan.org__{tag_id}"), Bytes::from(x))
}

fn records(n: usize) -> Vec<SoftwareRecord> {
    (0..n)
        .map(|i| {
            let (id, tag) = swid_tag(i);
            SoftwareRecord {
                id: SoftwareId::new(
                    u32::try_from(i).unwrap_or(u32::MAX),
                    DataModelType::SWID_2015,
                    1,
                    id,
                    Text::from(format!("file:///usr/share/swidtag/package-{i:05}.swidtag")),
                ),
                record: tag,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("swima");

    let recs = records(10_000);
    let sizes: Vec<usize> = recs.iter().map(|r| r.record.len()).collect();
    assert!(
        sizes.iter().all(|s| (1024..=2048).contains(s)),
        "1–2 KiB tags"
    );
    let inv = SoftwareInventory::new(0, 1, 0x1122_3344, 0, recs.clone()).unwrap_or_else(|e| {
        unreachable!("{e}");
    });
    let value = inv.to_attribute().value;
    // decoding walks the record headers and slices the records without reading them: counted
    // in records; encoding and the collector copy every byte: counted in bytes
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("decode/inventory_10k", |b| {
        b.iter(|| SoftwareInventory::decode_value(black_box(value.clone()), 0))
    });
    g.throughput(Throughput::Bytes(value.len() as u64));
    g.bench_function("encode/inventory_10k", |b| {
        b.iter(|| {
            let mut out = BytesMut::with_capacity(inv.value_len());
            black_box(&inv).encode_value(&mut out);
            out
        })
    });

    let ts = DateTime20::new("2026-11-27T03:00:00Z").unwrap_or(DateTime20::UNKNOWN);
    let events: Vec<Event<SoftwareRecord>> = recs
        .iter()
        .take(1000)
        .enumerate()
        .map(|(i, r)| Event {
            eid: u32::try_from(i + 1).unwrap_or(u32::MAX),
            timestamp: ts.clone(),
            action: if i % 3 == 0 {
                Action::DELETION
            } else {
                Action::CREATION
            },
            item: r.clone(),
        })
        .collect();
    let ev = SoftwareEvents::new(0, 2, 0x1122_3344, 1000, 1000, events)
        .unwrap_or_else(|e| unreachable!("{e}"));
    let ev_value = ev.to_attribute().value;
    g.throughput(Throughput::Elements(1000));
    g.bench_function("decode/events_1k", |b| {
        b.iter(|| SoftwareEvents::decode_value(black_box(ev_value.clone()), 0))
    });
    g.throughput(Throughput::Bytes(ev_value.len() as u64));
    g.bench_function("encode/events_1k", |b| {
        b.iter(|| {
            let mut out = BytesMut::with_capacity(ev.value_len());
            black_box(&ev).encode_value(&mut out);
            out
        })
    });

    // The collector answering a full-inventory request (select, size check, build, encode).
    let mut col = Collector::open(CollectorConfig::default(), MemoryStore::new(), 7)
        .unwrap_or_else(|e| unreachable!("{e}"));
    col.add_source(1, Text::from("bench"));
    let items = recs
        .iter()
        .map(|r| SourceItem {
            data_model: r.id.data_model,
            software_identifier: r.id.software_identifier.clone(),
            locator: r.id.locator.clone(),
            record: r.record.clone(),
        })
        .collect();
    let _ = col.apply_snapshot(1, items, &ts);
    let peer = Peer {
        connection: 1,
        validator: 1,
    };
    g.throughput(Throughput::Bytes(value.len() as u64));
    g.bench_function("collector/inventory_answer_10k", |b| {
        b.iter(|| {
            col.handle_request(peer, SwimaRequest::inventory(1));
            col.poll_transmit()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
