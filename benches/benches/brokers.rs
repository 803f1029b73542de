//! IF-IMV broker benchmark (`brokers/<case>`): PA messages routed through a TNC server with two
//! verifiers. One iteration accepts a connection and hands it a CDATA batch of 1,000 PB-PA
//! messages (half IETF OS, half IETF SWIMA); each verifier takes the messages of its type and
//! recommends on the last one; the server then decides and sends RESULT. Throughput counts PA
//! messages delivered to a verifier.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use if_imv::{
    ActionRecommendation, EvaluationResult, Imv, ImvConnection, ImvInit, ImvMessage, MessageType,
    TncError,
};
use nea_wire::VendorId;
use pb_tnc::{Batch, BatchType, Message, PaSubtype, PbPa, Side};

struct Count {
    t: MessageType,
    seen: u64,
}

impl Imv for Count {
    fn initialize(&mut self, init: &mut ImvInit<'_>) -> Result<(), TncError> {
        init.report_message_types(&[self.t]);
        Ok(())
    }

    fn receive_message(
        &mut self,
        conn: &mut ImvConnection<'_>,
        m: &ImvMessage,
    ) -> Result<(), TncError> {
        self.seen += m.body.len() as u64;
        if m.body.first() == Some(&1) {
            conn.provide_recommendation(ActionRecommendation::Allow, EvaluationResult::Compliant);
        }
        Ok(())
    }

    fn solicit_recommendation(&mut self, _: &mut ImvConnection<'_>) -> Result<(), TncError> {
        Ok(())
    }
}

fn bench(c: &mut Criterion) {
    const N: usize = 1000;
    let messages = (0..N)
        .map(|i| {
            let subtype = if i % 2 == 0 {
                PaSubtype::OPERATING_SYSTEM
            } else {
                PaSubtype::SWIMA
            };
            let last = u8::from(i >= N - 2);
            Message::Pa(
                PbPa::new(VendorId::IETF, subtype, Bytes::from(vec![last; 16]))
                    .with_collector_id(1),
            )
        })
        .collect();
    let wire = Batch::new(Side::Client, BatchType::Cdata, messages)
        .unwrap_or_else(|_| unreachable!())
        .to_bytes();
    let mut broker = if_imv::Broker::new(if_imv::BrokerConfig::default());
    for t in [MessageType::OPERATING_SYSTEM, MessageType::SWIMA] {
        let _ = broker.add_imv("count", Box::new(Count { t, seen: 0 }));
    }
    let mut g = c.benchmark_group("brokers");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("tncs_route_1000_pa_2_imvs", |b| {
        b.iter(|| {
            let mut conn = broker.accept(if_imv::ConnectionConfig::default());
            broker.handle_batch(&mut conn, black_box(wire.clone()));
            let result = conn.poll_transmit();
            assert!(result.is_some_and(|r| r.get(3) == Some(&3)), "RESULT sent");
            black_box(conn.outcome().map(|o| o.recommendation))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
