//! Both brokers in memory: test collectors and verifiers that log every call, a client and a
//! server connection joined by moving PB-TNC batches.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use if_imc::{Imc, ImcConnection, ImcInit, ImcMessage, ImcSendOptions};
use if_imv::{
    ActionRecommendation as A, ArIdentity, AttributeId, ConnectionState, EvaluationResult as E,
    Imv, ImvConnection, ImvInit, ImvMessage, ImvSendOptions, MessageType, RetryReason, TncError,
};
use nea_wire::VendorId;
use tnc_if::{ImcId, ImvId};

type Log = Arc<Mutex<Vec<String>>>;

fn log(l: &Log, s: String) {
    l.lock().unwrap().push(s);
}

const OS: MessageType = MessageType::OPERATING_SYSTEM;
const SWIMA: MessageType = MessageType::SWIMA;

/// A collector: registers `types`, sends `hello` of each type at BeginHandshake, answers
/// every message with `re:<body>` to its sender, optionally misbehaves.
#[derive(Default)]
struct TestImc {
    name: &'static str,
    types: Vec<MessageType>,
    hello: Vec<MessageType>,
    log: Log,
    extra: Option<ImcId>,
    misbehave: bool,
    retries_left: u32,
}

impl Imc for TestImc {
    fn initialize(&mut self, init: &mut ImcInit<'_>) -> Result<(), TncError> {
        init.report_message_types(&self.types);
        if self.name == "extra" {
            self.extra = Some(init.reserve_additional_id()?);
        }
        log(&self.log, format!("{} init {:?}", self.name, init.id()));
        Ok(())
    }

    fn notify_connection_change(
        &mut self,
        conn: &mut ImcConnection<'_>,
        state: ConnectionState,
    ) -> Result<(), TncError> {
        // Sending outside a handshake call is refused.
        assert!(matches!(
            conn.send(OS, Bytes::from_static(b"x")),
            Err(TncError::IllegalOperation(_))
        ));
        log(&self.log, format!("{} state {state:?}", self.name));
        Ok(())
    }

    fn begin_handshake(&mut self, conn: &mut ImcConnection<'_>) -> Result<(), TncError> {
        log(&self.log, format!("{} begin", self.name));
        if self.misbehave {
            let wild = conn.send(MessageType::vendor_any(VendorId::IETF), Bytes::new());
            log(&self.log, format!("{} wildcard send: {wild:?}", self.name));
            let big = vec![0u8; conn.max_message_size() + 1];
            let big = conn.send(OS, Bytes::from(big));
            log(&self.log, format!("{} oversize send: {big:?}", self.name));
            let stranger = conn.send_long(
                ImcSendOptions {
                    exclusive: false,
                    source: Some(ImcId::new(999)),
                    destination: ImvId::ANY,
                },
                OS,
                Bytes::new(),
            );
            log(
                &self.log,
                format!("{} foreign source: {stranger:?}", self.name),
            );
            return Err(TncError::Fatal);
        }
        for t in &self.hello {
            conn.send(*t, Bytes::from(format!("hello from {}", self.name)))?;
        }
        Ok(())
    }

    fn receive_message(
        &mut self,
        conn: &mut ImcConnection<'_>,
        m: &ImcMessage,
    ) -> Result<(), TncError> {
        log(
            &self.log,
            format!(
                "{} got {:?} excl={} from {:?} to {:?}: {}",
                self.name,
                m.message_type.subtype,
                m.exclusive,
                m.source,
                m.destination,
                String::from_utf8_lossy(&m.body)
            ),
        );
        if self.retries_left > 0 {
            self.retries_left -= 1;
            conn.request_retry(RetryReason::ImcSeriousEvent)?;
        }
        if !m.body.starts_with(b"re:") && !m.body.starts_with(b"final") {
            conn.send_long(
                ImcSendOptions {
                    exclusive: true,
                    source: Some(m.destination).filter(|d| !d.is_any()),
                    destination: m.source,
                },
                m.message_type,
                Bytes::from([&b"re:"[..], &m.body].concat()),
            )?;
        }
        Ok(())
    }
}

/// A verifier: registers `types`, asks once per handshake (a message to every collector that
/// said hello), then recommends `verdict`.
#[derive(Default)]
struct TestImv {
    name: &'static str,
    types: Vec<MessageType>,
    verdict: Option<(A, E)>,
    reason: Option<(&'static str, &'static str)>,
    log: Log,
    asked: bool,
    exclusive_to: Option<ImcId>,
}

impl Imv for TestImv {
    fn initialize(&mut self, init: &mut ImvInit<'_>) -> Result<(), TncError> {
        init.report_message_types(&self.types);
        Ok(())
    }

    fn notify_connection_change(
        &mut self,
        conn: &mut ImvConnection<'_>,
        state: ConnectionState,
    ) -> Result<(), TncError> {
        if state == ConnectionState::Create {
            let ids =
                ArIdentity::decode_list(conn.get_attribute(AttributeId::AR_IDENTITIES)?).unwrap();
            log(
                &self.log,
                format!(
                    "{} create ids={:?}",
                    self.name,
                    ids.first().and_then(|i| i.value_str().map(str::to_owned))
                ),
            );
        }
        if state == ConnectionState::Handshake {
            self.asked = false;
        }
        log(&self.log, format!("{} state {state:?}", self.name));
        Ok(())
    }

    fn receive_message(
        &mut self,
        conn: &mut ImvConnection<'_>,
        m: &ImvMessage,
    ) -> Result<(), TncError> {
        log(
            &self.log,
            format!(
                "{} got {:?} excl={} from {:?} to {:?}: {} lang={:?}",
                self.name,
                m.message_type.subtype,
                m.exclusive,
                m.source,
                m.destination,
                String::from_utf8_lossy(&m.body),
                conn.preferred_language()
            ),
        );
        if m.body.starts_with(b"hello") && !self.asked {
            self.asked = true;
            let dest = self.exclusive_to.unwrap_or(m.source);
            conn.send_long(
                ImvSendOptions {
                    exclusive: true,
                    source: None,
                    destination: dest,
                },
                m.message_type,
                Bytes::from(format!("ask from {}", self.name)),
            )?;
        } else if m.body.starts_with(b"re:") {
            if let Some((r, e)) = self.verdict {
                conn.provide_recommendation(r, e);
            }
            if let Some((text, lang)) = self.reason {
                conn.set_reason(text, lang)?;
            }
        }
        Ok(())
    }

    fn solicit_recommendation(&mut self, conn: &mut ImvConnection<'_>) -> Result<(), TncError> {
        log(&self.log, format!("{} solicited", self.name));
        if let Some((r, e)) = self.verdict {
            conn.provide_recommendation(r, e);
        }
        Ok(())
    }
}

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
    fn new(imcs: Vec<TestImc>, imvs: Vec<TestImv>) -> Self {
        let mut client = if_imc::Broker::new(if_imc::BrokerConfig::default());
        for imc in imcs {
            let name = imc.name;
            client.add_imc(name, Box::new(imc)).unwrap();
        }
        let mut server = if_imv::Broker::new(if_imv::BrokerConfig::default());
        for imv in imvs {
            let name = imv.name;
            server.add_imv(name, Box::new(imv)).unwrap();
        }
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
        for _ in 0..1000 {
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

    fn outcomes(&self) -> Vec<&if_imv::Outcome> {
        self.server_events
            .iter()
            .filter_map(|e| match e {
                if_imv::Event::Outcome(o) => Some(o),
                _ => None,
            })
            .collect()
    }

    fn decisions(&self) -> Vec<&if_imc::Decision> {
        self.client_events
            .iter()
            .filter_map(|e| match e {
                if_imc::Event::Decision(d) => Some(d),
                _ => None,
            })
            .collect()
    }
}

fn lines(l: &Log) -> Vec<String> {
    l.lock().unwrap().clone()
}

#[test]
fn conflicting_verifiers_most_restrictive_wins_with_reasons_in_the_clients_language() {
    let log = Log::default();
    let mut p = Pair::new(
        vec![TestImc {
            name: "os",
            types: vec![OS],
            hello: vec![OS],
            log: log.clone(),
            ..Default::default()
        }],
        vec![
            TestImv {
                name: "lenient",
                types: vec![OS],
                verdict: Some((A::Allow, E::Compliant)),
                log: log.clone(),
                ..Default::default()
            },
            TestImv {
                name: "strict",
                types: vec![MessageType::ANY],
                verdict: Some((A::Isolate, E::NonCompliantMinor)),
                reason: Some(("forwarding is enabled", "en")),
                log: log.clone(),
                ..Default::default()
            },
        ],
    );
    p.start();
    let outcomes = p.outcomes();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(
        (outcomes[0].recommendation, outcomes[0].evaluation),
        (A::Isolate, E::NonCompliantMinor)
    );
    assert_eq!(outcomes[0].verdicts.len(), 2);
    let d = p.decisions();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].state, ConnectionState::AccessIsolated);
    assert_eq!(
        d[0].recommendation,
        Some(pb_tnc::AccessRecommendation::QUARANTINED)
    );
    assert_eq!(d[0].result, pb_tnc::PbAssessmentResult::NON_COMPLIANT_MINOR);
    assert_eq!(
        d[0].reasons,
        vec![pb_tnc::ReasonString::new("forwarding is enabled", "en")]
    );
    let l = lines(&log);
    // Both verifiers saw the hello with the client's language preference; each asked
    // exclusively, and the collector's replies went back to the asker only.
    assert!(l.contains(&"lenient got 1 excl=false from ImcId(1) to ImvId(ANY): hello from os lang=Some(\"Accept-Language: en\")".to_owned()), "{l:#?}");
    assert!(
        l.contains(&"os got 1 excl=true from ImvId(1) to ImcId(1): ask from lenient".to_owned())
    );
    assert!(
        l.contains(&"os got 1 excl=true from ImvId(2) to ImcId(1): ask from strict".to_owned())
    );
    assert!(l.contains(&"strict got 1 excl=true from ImcId(1) to ImvId(2): re:ask from strict lang=Some(\"Accept-Language: en\")".to_owned()));
    assert!(
        !l.iter()
            .any(|x| x.starts_with("lenient got") && x.contains("re:ask from strict"))
    );
    // The AR identities were readable at CREATE.
    assert!(l.contains(&"lenient create ids=Some(\"endpoint-1\")".to_owned()));
    // The collector learnt the decision.
    assert!(l.contains(&"os state AccessIsolated".to_owned()));
}

#[test]
fn a_verifier_that_never_recommends_is_solicited_and_counts_as_neutral() {
    let log = Log::default();
    let mut p = Pair::new(
        vec![TestImc {
            name: "os",
            types: vec![OS],
            hello: vec![OS],
            log: log.clone(),
            ..Default::default()
        }],
        vec![
            TestImv {
                name: "silent",
                types: vec![SWIMA],
                log: log.clone(),
                ..Default::default()
            },
            TestImv {
                name: "os",
                types: vec![OS],
                verdict: Some((A::Allow, E::Compliant)),
                log: log.clone(),
                ..Default::default()
            },
        ],
    );
    p.start();
    assert!(lines(&log).contains(&"silent solicited".to_owned()));
    let o = p.outcomes();
    assert_eq!(
        (o[0].recommendation, o[0].evaluation),
        (A::Allow, E::Compliant)
    );
    assert_eq!(o[0].verdicts[0].recommendation, A::NoRecommendation);
    assert_eq!(p.decisions()[0].state, ConnectionState::AccessAllowed);
    // Nobody at all recommending denies access.
    let mut p = Pair::new(
        vec![],
        vec![TestImv {
            name: "silent",
            types: vec![OS],
            log,
            ..Default::default()
        }],
    );
    p.start();
    assert_eq!(p.outcomes()[0].recommendation, A::NoRecommendation);
    assert_eq!(p.decisions()[0].state, ConnectionState::AccessNone);
}

#[test]
fn wildcard_registration_and_exclusive_delivery_by_additional_id() {
    let log = Log::default();
    let mut p = Pair::new(
        vec![
            TestImc {
                name: "all",
                types: vec![MessageType::ANY],
                log: log.clone(),
                ..Default::default()
            },
            TestImc {
                name: "ietf",
                types: vec![MessageType::vendor_any(VendorId::IETF)],
                hello: vec![SWIMA],
                log: log.clone(),
                ..Default::default()
            },
            TestImc {
                name: "extra",
                types: vec![SWIMA],
                log: log.clone(),
                ..Default::default()
            },
            TestImc {
                name: "tcg",
                types: vec![MessageType::vendor_any(VendorId::TCG)],
                log: log.clone(),
                ..Default::default()
            },
        ],
        vec![TestImv {
            name: "swima",
            types: vec![SWIMA],
            verdict: Some((A::Allow, E::Compliant)),
            log: log.clone(),
            // The "extra" IMC (ID 3) reserved ID 4 while it initialized.
            exclusive_to: Some(ImcId::new(4)),
            ..Default::default()
        }],
    );
    p.start();
    let l = lines(&log);
    // The exclusive ask reached only the owner of additional ID 5, which answered from it.
    let got: Vec<_> = l
        .iter()
        .filter(|x| x.contains("ask from swima") && !x.contains("re:"))
        .collect();
    assert_eq!(
        got,
        vec!["extra got 9 excl=true from ImvId(1) to ImcId(4): ask from swima"],
        "{l:#?}"
    );
    assert!(l.contains(&"swima got 9 excl=true from ImcId(4) to ImvId(1): re:ask from swima lang=Some(\"Accept-Language: en\")".to_owned()));
    // Non-exclusive traffic reaches every matching registration, never the TCG one.
    assert!(!l.iter().any(|x| x.starts_with("tcg got")));
    assert_eq!(p.outcomes()[0].recommendation, A::Allow);
}

#[test]
fn a_misbehaving_collector_sends_nothing_and_is_terminated_without_harming_the_others() {
    let log = Log::default();
    let mut p = Pair::new(
        vec![
            TestImc {
                name: "bad",
                types: vec![OS],
                misbehave: true,
                log: log.clone(),
                ..Default::default()
            },
            TestImc {
                name: "good",
                types: vec![OS],
                hello: vec![OS],
                log: log.clone(),
                ..Default::default()
            },
        ],
        vec![TestImv {
            name: "os",
            types: vec![OS],
            verdict: Some((A::Allow, E::Compliant)),
            log: log.clone(),
            ..Default::default()
        }],
    );
    p.start();
    let l = lines(&log);
    assert!(l.contains(&"bad wildcard send: Err(InvalidParameter(\"subtype 0xff is a wildcard and cannot be sent\"))".to_owned()), "{l:#?}");
    assert!(
        l.iter()
            .any(|x| x.starts_with("bad oversize send: Err(ExceededMaxMessageSize"))
    );
    assert!(l.contains(&"bad foreign source: Err(InvalidParameter(\"the source ID is not one of the plugin's IDs\"))".to_owned()));
    assert!(p.client_events.contains(&if_imc::Event::ImcFailed {
        imc: ImcId::new(1),
        name: "bad".into()
    }));
    // Only the good collector's hello reached the verifier, and the assessment completed.
    let got: Vec<_> = l.iter().filter(|x| x.starts_with("os got")).collect();
    assert_eq!(got.len(), 2, "{got:?}"); // hello, then re:ask
    assert!(got[0].contains("hello from good"));
    assert_eq!(p.decisions()[0].state, ConnectionState::AccessAllowed);
    // The terminated collector gets nothing more.
    assert!(!l.iter().any(|x| x.starts_with("bad state AccessAllowed")));
}

#[test]
fn retry_requested_during_a_handshake_is_sent_after_the_result() {
    let log = Log::default();
    let mut p = Pair::new(
        vec![TestImc {
            name: "os",
            types: vec![OS],
            hello: vec![OS],
            retries_left: 2,
            log: log.clone(),
            ..Default::default()
        }],
        vec![TestImv {
            name: "os",
            types: vec![OS],
            verdict: Some((A::Allow, E::Compliant)),
            log: log.clone(),
            ..Default::default()
        }],
    );
    // The collector asks for a retry while a handshake runs (on the verifier's ask, twice);
    // each goes out as CRETRY once the RESULT arrived, and another assessment follows.
    p.start();
    assert_eq!(p.outcomes().len(), 3, "{:?}", p.server_events);
    assert_eq!(p.decisions().len(), 3);
    let started = p
        .server_events
        .iter()
        .filter(|e| matches!(e, if_imv::Event::HandshakeStarted))
        .count();
    assert_eq!(started, 3);
    // Every handshake began with HANDSHAKE + BeginHandshake on the client.
    let l = lines(&log);
    assert_eq!(l.iter().filter(|x| *x == "os begin").count(), 3);
    assert_eq!(p.c.session().handshakes(), 3);
}

#[test]
fn manager_initiated_reassessment_keeps_the_session() {
    let log = Log::default();
    let mut p = Pair::new(
        vec![TestImc {
            name: "os",
            types: vec![OS],
            hello: vec![OS],
            log: log.clone(),
            ..Default::default()
        }],
        vec![TestImv {
            name: "os",
            types: vec![OS],
            verdict: Some((A::Allow, E::Compliant)),
            log: log.clone(),
            ..Default::default()
        }],
    );
    p.start();
    assert_eq!(p.outcomes().len(), 1);
    for n in 2..=50 {
        p.server
            .request_retry(&mut p.s, RetryReason::ImvPeriodic)
            .unwrap();
        p.run();
        assert_eq!(p.outcomes().len(), n);
        assert_eq!(p.decisions().len(), n);
    }
    // 50 handshakes on one session: the per-handshake round limit never tripped.
    assert!(!p.c.is_closed() && !p.s.is_closed());
    assert_eq!(
        p.server.request_retry(&mut p.s, RetryReason::ImcPeriodic),
        Err(TncError::InvalidParameter("IMV retry reasons are 4-8"))
    );
    p.client.close(&mut p.c);
    p.run();
    assert!(p.c.is_closed() && p.s.is_closed());
    let l = lines(&log);
    assert!(l.contains(&"os state Delete".to_owned()));
}

#[test]
fn ids_beyond_the_pb_pa_range_are_refused() {
    let mut b = if_imc::Broker::with_ids(
        if_imc::BrokerConfig::default(),
        tnc_if::IdAllocator::with_capacity(1),
    );
    b.add_imc("one", Box::new(TestImc::default())).unwrap();
    assert!(matches!(
        b.add_imc("two", Box::new(TestImc::default())),
        Err(if_imc::BrokerError::Ids(_))
    ));
    assert!(ImvId::try_from(70_000u64).is_err());
}

/// Sends one message as large as the connection allows and recommends in the same call.
struct Big;
impl Imv for Big {
    fn initialize(&mut self, init: &mut ImvInit<'_>) -> Result<(), TncError> {
        init.report_message_types(&[OS]);
        Ok(())
    }
    fn receive_message(
        &mut self,
        conn: &mut ImvConnection<'_>,
        m: &ImvMessage,
    ) -> Result<(), TncError> {
        if m.body.starts_with(b"hello") {
            let max = conn.max_message_size();
            conn.send(OS, Bytes::from(vec![b'x'; max]))?;
            conn.provide_recommendation(A::Allow, E::Compliant);
        }
        Ok(())
    }
    fn solicit_recommendation(&mut self, _: &mut ImvConnection<'_>) -> Result<(), TncError> {
        Ok(())
    }
}

#[test]
fn a_result_that_does_not_fit_with_the_messages_goes_out_after_them() {
    let pb = Arc::new(pb_tnc::Config::default().with_max_batch_size(200));
    let mut server = if_imv::Broker::new(if_imv::BrokerConfig {
        pb: pb.clone(),
        ..Default::default()
    });
    server.add_imv("big", Box::new(Big)).unwrap();
    let mut client = if_imc::Broker::new(if_imc::BrokerConfig { pb, language: None });
    client
        .add_imc(
            "os",
            Box::new(TestImc {
                name: "os",
                types: vec![OS],
                hello: vec![OS],
                ..Default::default()
            }),
        )
        .unwrap();
    let mut s = server.accept(Default::default());
    let mut c = client.connect(Default::default());
    client.begin_handshake(&mut c).unwrap();
    let mut types = Vec::new();
    for _ in 0..10 {
        let mut moved = false;
        while let Some(b) = c.poll_transmit() {
            server.handle_batch(&mut s, b);
            moved = true;
        }
        while let Some(b) = s.poll_transmit() {
            types.push(b[3]);
            client.handle_batch(&mut c, b);
            moved = true;
        }
        if !moved {
            break;
        }
    }
    // SDATA (2) with the message that fills a whole batch first, then RESULT (3) once the
    // client answered.
    assert_eq!(types, vec![2, 3]);
    assert_eq!(s.outcome().unwrap().recommendation, A::Allow);
    assert_eq!(c.decision().unwrap().state, ConnectionState::AccessAllowed);
}

#[test]
fn a_recommendation_from_outside_a_call_counts_in_the_decision() {
    let log = Log::default();
    let mut p = Pair::new(
        vec![TestImc {
            name: "os",
            types: vec![OS],
            hello: vec![OS],
            log: log.clone(),
            ..Default::default()
        }],
        vec![TestImv {
            name: "silent",
            types: vec![SWIMA],
            log,
            ..Default::default()
        }],
    );
    // Before any handshake, the (C) verifier's other thread recommends isolate.
    p.server
        .provide_recommendation(&mut p.s, ImvId::new(1), A::Isolate, E::NonCompliantMinor)
        .unwrap();
    assert!(
        p.server
            .provide_recommendation(&mut p.s, ImvId::new(9), A::Allow, E::Compliant)
            .is_err()
    );
    // The handshake start clears what was said before it: the verifier is asked again.
    p.start();
    assert_eq!(p.outcomes()[0].recommendation, A::NoRecommendation);
    // During the next handshake (a manager retry), a recommendation from outside counts.
    p.server
        .request_retry(&mut p.s, RetryReason::ImvMinorEvent)
        .unwrap();
    p.server
        .provide_recommendation(&mut p.s, ImvId::new(1), A::Isolate, E::NonCompliantMinor)
        .unwrap();
    p.run();
    assert_eq!(p.outcomes()[1].recommendation, A::Isolate);
}

#[test]
fn a_pdp_referral_reaches_the_client_outside_result() {
    let mut p = Pair::new(
        vec![TestImc {
            name: "os",
            types: vec![OS],
            hello: vec![OS],
            ..Default::default()
        }],
        vec![TestImv {
            name: "os",
            types: vec![OS],
            verdict: Some((A::Allow, E::Compliant)),
            ..Default::default()
        }],
    );
    let referral =
        pb_tnc::PdpReferral::pt_tls(pb_tnc::PdpAddress::Fqdn("pdp2.example".into()), 271);
    p.server
        .send_pdp_referral(&mut p.s, referral.clone())
        .unwrap();
    p.start();
    assert_eq!(p.decisions().len(), 1);
    // Queued before the handshake, it rode in the first SDATA, not in the RESULT.
    assert!(
        p.client_events
            .contains(&if_imc::Event::PdpReferral(referral))
    );
}
