//! netconf-client benchmarks (`netconf/<op>/<case>`): framing decode throughput on 64 KiB
//! chunks and on the 1,986-byte chunks netconfd sends, end-of-message framing, and decoding a
//! 4.7 MB `<rpc-reply>` of 12,000 ietf-system users (the shape of the shared netconfd
//! capture) with the streaming reader.

use std::fmt::Write as _;
use std::hint::black_box;

use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use netconf_client::framing::{self, Framer, Framing};
use netconf_client::ietf_system::SystemPosture;
use netconf_client::{Limits, Message, XmlEvent};

/// A `<get-config>` reply with `users` ietf-system users (password hash + ed25519 key each).
fn users_reply(users: usize) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rpc-reply message-id=\"1\" xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\">\n  <data>\n    <system xmlns=\"urn:ietf:params:xml:ns:yang:ietf-system\">\n      <authentication>\n",
    );
    for i in 0..users {
        let _ = write!(
            s,
            "        <user>\n          <name>user{i:05}</name>\n          <password>$5$interop$Qk0wWnJ4cE9vT1VpZ2tLc0xFc1NmQWd3bG1oR0FkbEx0{i:05}</password>\n          <authorized-key>\n            <name>key{i:05}</name>\n            <algorithm>ssh-ed25519</algorithm>\n            <key-data>AAAAC3NzaC1lZDI1NTE5AAAAIGECSxY/Mnnl/KEa5Z4/jPqsFpoU80NZhdo2IuJi{i:05}</key-data>\n          </authorized-key>\n        </user>\n"
        );
    }
    s.push_str("      </authentication>\n    </system>\n  </data>\n</rpc-reply>");
    s
}

fn decode_stream(stream: &[u8], read: usize, framing: Framing) -> usize {
    let mut f = Framer::new(64 << 20, 64 << 20);
    f.set_framing(framing);
    let mut buf = BytesMut::with_capacity(read * 2);
    let mut total = 0;
    for part in stream.chunks(read) {
        buf.extend_from_slice(part);
        while let Ok(Some(m)) = f.decode(&mut buf) {
            total += m.len();
        }
    }
    total
}

fn framing_benches(c: &mut Criterion) {
    let body = users_reply(12_000);
    let mut g = c.benchmark_group("netconf/framing");
    for (case, chunk) in [("chunked_64k", 65_536), ("chunked_2k", 1_986)] {
        let mut stream = BytesMut::new();
        framing::encode_chunked(body.as_bytes(), chunk, &mut stream);
        g.throughput(Throughput::Bytes(stream.len() as u64));
        g.bench_function(case, |b| {
            b.iter(|| decode_stream(black_box(&stream), 65_536, Framing::Chunked))
        });
    }
    let mut stream = BytesMut::new();
    framing::encode_eom(body.as_bytes(), &mut stream);
    g.throughput(Throughput::Bytes(stream.len() as u64));
    g.bench_function("eom_64k", |b| {
        b.iter(|| decode_stream(black_box(&stream), 65_536, Framing::EndOfMessage))
    });
    g.finish();
}

fn parse_benches(c: &mut Criterion) {
    let body = bytes::Bytes::from(users_reply(12_000));
    let limits = Limits::default();
    let mut g = c.benchmark_group("netconf/parse");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.sample_size(20);
    g.bench_function("reply_12000_users_stream", |b| {
        b.iter(|| {
            let Ok(Message::Reply(r)) = Message::decode(black_box(body.clone()), &limits) else {
                return 0;
            };
            let Some(Ok(mut rd)) = r.data().map(|d| d.reader()) else {
                return 0;
            };
            let mut n = 0usize;
            while let Ok(Some(ev)) = rd.next_event() {
                if let XmlEvent::Start { .. } = ev {
                    n += 1;
                }
            }
            n
        })
    });
    g.bench_function("reply_12000_users_ietf_system", |b| {
        b.iter(|| {
            let Ok(Message::Reply(r)) = Message::decode(black_box(body.clone()), &limits) else {
                return 0;
            };
            r.data()
                .and_then(|d| SystemPosture::from_data(d).ok())
                .and_then(|p| p.authentication)
                .map_or(0, |a| a.users.len())
        })
    });
    g.finish();
}

criterion_group!(benches, framing_benches, parse_benches);
criterion_main!(benches);
