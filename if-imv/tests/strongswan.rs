//! Our TNC server fed the batches a real strongSwan 6.0.6 TNC client sent (tests/data): the
//! language preference and every PB-PA reach the verifiers registered for them, a verdict
//! gives a RESULT, and strongSwan's CRETRY after the RESULT starts a second handshake.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use if_imv::{
    ActionRecommendation as A, EvaluationResult as E, Imv, ImvConnection, ImvInit, ImvMessage,
    MessageType, TncError,
};
use nea_wire::VendorId;
use pb_tnc::{Batch, BatchType, Side};

type Seen = Arc<Mutex<Vec<(u32, u32, u16, Option<String>)>>>;

/// Records (vendor, subtype, source collector, client language) of every message; the
/// IETF one recommends isolate.
struct Record {
    types: Vec<MessageType>,
    seen: Seen,
    verdict: Option<(A, E)>,
}

impl Imv for Record {
    fn initialize(&mut self, init: &mut ImvInit<'_>) -> Result<(), TncError> {
        init.report_message_types(&self.types);
        Ok(())
    }

    fn receive_message(
        &mut self,
        conn: &mut ImvConnection<'_>,
        m: &ImvMessage,
    ) -> Result<(), TncError> {
        self.seen.lock().unwrap().push((
            m.message_type.vendor.get(),
            m.message_type.subtype,
            m.source.get(),
            conn.preferred_language().map(str::to_owned),
        ));
        // The PA-TNC message inside is intact.
        assert!(pa_tnc::PaTncMessage::decode(m.body.clone()).is_ok());
        if let Some((r, e)) = self.verdict {
            conn.provide_recommendation(r, e);
            conn.set_reason("test verdict", "en")?;
        }
        Ok(())
    }

    fn solicit_recommendation(&mut self, _: &mut ImvConnection<'_>) -> Result<(), TncError> {
        Ok(())
    }
}

fn data(name: &str) -> Bytes {
    Bytes::from(std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap())
}

fn server(ietf: &Seen, ita: &Seen) -> if_imv::Broker {
    let mut b = if_imv::Broker::new(Default::default());
    b.add_imv(
        "os",
        Box::new(Record {
            types: vec![MessageType::OPERATING_SYSTEM],
            seen: ietf.clone(),
            verdict: Some((A::Isolate, E::NonCompliantMinor)),
        }),
    )
    .unwrap();
    b.add_imv(
        "ita",
        Box::new(Record {
            types: vec![MessageType::vendor_any(VendorId::ITA)],
            seen: ita.clone(),
            verdict: None,
        }),
    )
    .unwrap();
    b
}

#[test]
fn strongswan_client_batches_reach_our_verifiers_and_get_a_result() {
    let (ietf, ita) = (Seen::default(), Seen::default());
    let mut b = server(&ietf, &ita);
    let mut c = b.accept(Default::default());
    b.handle_batch(&mut c, data("01-07-c2s-pb-cdata.batch.bin"));
    let lang = Some("Accept-Language: en".to_owned());
    // strongSwan numbers its IMCs from 1: the Test IMC is 1, the OS IMC 2.
    assert_eq!(*ietf.lock().unwrap(), vec![(0, 1, 2, lang.clone())]);
    assert_eq!(*ita.lock().unwrap(), vec![(0x00902a, 1, 1, lang)]);
    // Every verifier that had something to say did; the silent one was solicited: RESULT.
    let out = c.poll_transmit().unwrap();
    let batch = Batch::decode(out).unwrap();
    assert_eq!(
        (batch.sender(), batch.batch_type()),
        (Side::Server, BatchType::Result)
    );
    assert!(
        batch
            .messages()
            .contains(&pb_tnc::Message::AccessRecommendation(
                pb_tnc::AccessRecommendation::QUARANTINED
            ))
    );
    assert!(
        batch
            .messages()
            .contains(&pb_tnc::Message::ReasonString(pb_tnc::ReasonString::new(
                "test verdict",
                "en"
            )))
    );
    let mut events = Vec::new();
    while let Some(e) = c.poll_event() {
        events.push(e);
    }
    assert!(matches!(
        events[..],
        [if_imv::Event::HandshakeStarted, if_imv::Event::Outcome(_)]
    ));
}

#[test]
fn strongswan_cretry_after_the_result_starts_a_second_handshake() {
    let (ietf, ita) = (Seen::default(), Seen::default());
    let mut b = server(&ietf, &ita);
    let mut c = b.accept(Default::default());
    b.handle_batch(&mut c, data("06-04-c2s-pb-cdata.batch.bin"));
    assert_eq!(
        Batch::decode(c.poll_transmit().unwrap())
            .unwrap()
            .batch_type(),
        BatchType::Result
    );
    let before = ita.lock().unwrap().len();
    b.handle_batch(&mut c, data("06-08-c2s-pb-cretry.batch.bin"));
    assert_eq!(
        ita.lock().unwrap().len(),
        before + 1,
        "the CRETRY's PB-PA was delivered"
    );
    assert_eq!(c.session().handshakes(), 2);
    // Nobody has more to ask: the second handshake is decided at once.
    let out = Batch::decode(c.poll_transmit().unwrap()).unwrap();
    assert_eq!(out.batch_type(), BatchType::Result);
    let outcomes: Vec<_> = std::iter::from_fn(|| c.poll_event())
        .filter_map(|e| match e {
            if_imv::Event::Outcome(o) => Some(o.recommendation),
            _ => None,
        })
        .collect();
    // Scenario 06 carries ITA/Test messages only: both handshakes reach the silent ITA
    // verifier alone, and nobody recommending denies access.
    assert!(ietf.lock().unwrap().is_empty());
    assert_eq!(outcomes, vec![A::NoRecommendation, A::NoRecommendation]);
}
