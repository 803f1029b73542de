//! pt-tls benchmarks (`pt_tls/<op>/<case>`): framing and decoding a 2 MiB PB-TNC Batch message
//! (header parsed, batch sliced), a stream of 1,000 small messages, encoding, and a server
//! session in Data Transport taking a 2 MiB batch in 16 KiB TLS records.

use std::hint::black_box;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use pt_tls::wire::VersionRequest;
use pt_tls::{Body, Config, Event, Framer, Message, SaslPolicy, Session, Side, TlsRole};

fn batch_message(id: u32, value_len: usize) -> Message {
    Message::new(id, Body::PbTncBatch(Bytes::from(vec![0x5a; value_len])))
}

fn bench(c: &mut Criterion) {
    // 16 + 2,097,136 = 2,097,152 bytes: strongSwan's largest message.
    let big = batch_message(7, 2_097_136).to_bytes();
    let small: Vec<u8> = (0..1000)
        .flat_map(|i| batch_message(i, 48).to_bytes().to_vec())
        .collect();
    let mut g = c.benchmark_group("pt_tls");

    // Framing and decoding parse headers and slice the values without reading them: counted in
    // messages. Encoding and the session (which buffers the records) copy every byte.
    for (name, wire, count) in [
        ("batch_2m", &big[..], 1),
        ("stream_1000_small", &small[..], 1000),
    ] {
        g.throughput(Throughput::Elements(count));
        g.bench_function(format!("framer/{name}"), |b| {
            b.iter_batched(
                || BytesMut::from(wire),
                |mut buf| {
                    let mut f = Framer::new(4 << 20);
                    let mut n = 0usize;
                    while let Ok(Some(m)) = f.decode(&mut buf) {
                        n += m.encoded_len();
                    }
                    black_box(n)
                },
                BatchSize::LargeInput,
            )
        });
    }

    let msg = batch_message(7, 2_097_136);
    g.throughput(Throughput::Elements(1));
    g.bench_function("decode/batch_2m", |b| {
        b.iter(|| black_box(Message::decode(black_box(big.clone()))))
    });
    let mut out = BytesMut::with_capacity(big.len());
    g.throughput(Throughput::Bytes(big.len() as u64));
    g.bench_function("encode/batch_2m", |b| {
        b.iter(|| {
            out.clear();
            black_box(&msg).encode(&mut out);
            black_box(out.len())
        })
    });

    let vr = Message::new(0, Body::VersionRequest(VersionRequest::V1)).to_bytes();
    g.throughput(Throughput::Elements(1));
    g.bench_function("decode/version_request", |b| {
        b.iter(|| black_box(Message::decode(black_box(vr.clone()))))
    });

    // A server in Data Transport taking the 2 MiB batch as 16 KiB TLS records.
    let cfg = Arc::new(Config::default().with_sasl_policy(SaslPolicy::Never));
    let mut s = Session::new(cfg, Side::Server, TlsRole::Responder, None);
    s.handle_bytes(&vr);
    while s.poll_transmit().is_some() {}
    while s.poll_event().is_some() {}
    g.throughput(Throughput::Bytes(big.len() as u64));
    g.bench_function("session/batch_2m_16k_records", |b| {
        b.iter(|| {
            for rec in big.chunks(16 * 1024) {
                s.handle_bytes(rec);
            }
            let mut got = 0;
            while let Some(e) = s.poll_event() {
                if let Event::Batch(b) = e {
                    got += b.len();
                }
            }
            black_box(got)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
