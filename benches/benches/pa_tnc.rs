//! PA-TNC benchmarks: attribute walking and encoding (`pa_tnc/<op>/<case>`).

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nea_wire::VendorId;
use pa_tnc::segmentation::{Reassembler, Segmenter};
use pa_tnc::{Attribute, Limits, NumericVersion, PaAttribute, PaTncMessage};
use std::hint::black_box;

fn many_small(n: usize) -> PaTncMessage {
    let mut m = PaTncMessage::new(1);
    for i in 0..n {
        if i % 2 == 0 {
            m.attributes.push(
                NumericVersion {
                    major: 12,
                    ..Default::default()
                }
                .to_attribute(),
            );
        } else {
            m.attributes.push(Attribute::new(
                VendorId::ITA,
                7,
                false,
                Bytes::from_static(b"isolate"),
            ));
        }
    }
    m
}

fn big_attribute(len: usize) -> Attribute {
    Attribute::new(VendorId::IETF, 16, false, Bytes::from(vec![0x5a; len]))
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("pa_tnc");

    let small = many_small(1000);
    let wire = small.to_bytes();
    g.throughput(Throughput::Elements(1000));
    g.bench_function("decode/attributes_1000", |b| {
        b.iter(|| PaTncMessage::decode(black_box(wire.clone())))
    });
    g.bench_function("encode/attributes_1000", |b| {
        b.iter(|| {
            let mut out = BytesMut::with_capacity(small.encoded_len());
            black_box(&small).encode(&mut out);
            out
        })
    });

    let big = PaTncMessage::new(2).with(big_attribute(390_774 - 12));
    let big_wire = big.to_bytes();
    // one header parsed, the 390 KB value sliced, not read: counted as one attribute
    g.throughput(Throughput::Elements(1));
    g.bench_function("decode/inventory_390k", |b| {
        b.iter(|| PaTncMessage::decode(black_box(big_wire.clone())))
    });
    // segmenting and reassembling copy every byte
    g.throughput(Throughput::Bytes(big_wire.len() as u64));

    let attr = big_attribute(390_774 - 12);
    g.bench_function("segment_reassemble/inventory_390k", |b| {
        b.iter(|| {
            let mut s = Segmenter::new(black_box(&attr), 1, 65_512);
            let mut r = Reassembler::new(&Limits::default());
            let mut last = None;
            while let Some(env) = s.next_envelope() {
                last = Some(r.handle(&env));
            }
            last
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
