//! pb-tnc benchmarks (`pb_tnc/<op>/<case>`): decoding and encoding a 2 MB batch of 32 PB-PA
//! messages of 64 KiB (headers parsed, bodies sliced), a batch of 1,000 small PB-PA messages,
//! and a server session taking that batch (decode + checks + events).
//!
//! Throughput counts the work done: decoding parses message headers and slices the bodies
//! without touching them, so it is reported in messages/s (a bytes/s figure would count bytes
//! never read); encoding copies every byte, so it is reported in bytes/s.

use std::hint::black_box;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nea_wire::VendorId;
use pb_tnc::{Batch, BatchType, Config, Message, PaSubtype, PbPa, Session, Side};

fn batch(count: usize, body_len: usize) -> Batch {
    let body = Bytes::from(vec![0x5a; body_len]);
    let messages = (0..count)
        .map(|i| {
            Message::Pa(
                PbPa::new(VendorId::IETF, PaSubtype::SWIMA, body.clone())
                    .with_collector_id(u16::try_from(i % 100).unwrap_or(0)),
            )
        })
        .collect();
    Batch::new(Side::Client, BatchType::Cdata, messages).unwrap_or_else(|_| unreachable!())
}

fn bench(c: &mut Criterion) {
    // 32 x (24 + 65,512) = 2,097,152 + 8 bytes.
    let big = batch(32, 65_512);
    let small = batch(1000, 16);
    let cases = [("batch_2m", &big), ("batch_1000_small", &small)];
    let mut g = c.benchmark_group("pb_tnc");
    for (name, b) in cases {
        let wire = b.to_bytes();
        g.throughput(Throughput::Elements(b.messages().len() as u64));
        g.bench_function(format!("decode/{name}"), |bn| {
            bn.iter(|| black_box(Batch::decode(black_box(wire.clone()))))
        });
        let mut out = BytesMut::with_capacity(wire.len());
        g.throughput(Throughput::Bytes(wire.len() as u64));
        g.bench_function(format!("encode/{name}"), |bn| {
            bn.iter(|| {
                out.clear();
                black_box(b).encode(&mut out);
                black_box(out.len())
            })
        });
    }
    let wire = small.to_bytes();
    g.throughput(Throughput::Elements(1000));
    let config = Arc::new(Config::default());
    g.bench_function("session/handle_1000_small_msgs", |bn| {
        bn.iter(|| {
            let mut s = Session::new(config.clone(), Side::Server);
            s.handle_batch(wire.clone());
            let mut n = 0usize;
            while let Some(e) = s.poll_event() {
                black_box(&e);
                n += 1;
            }
            n
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
