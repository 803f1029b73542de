//! The TNC server (TNCS): hosts IMVs and drives the server side of PB-TNC, sans I/O.
//!
//! ```text
//! accept ─ CREATE (AR identities readable) ─►
//!   handle_batch(CDATA): HANDSHAKE (first batch / CRETRY), ReceiveMessage per PB-PA,
//!   BatchEnding; then
//!     every IMV recommended, or no IMV has anything to send
//!       ─ SolicitRecommendation to the silent ones, combine, RESULT
//!         (PB-Assessment-Result, PB-Access-Recommendation, PB-Reason-Strings,
//!          PB-Remediation-Parameters), ALLOWED | ISOLATED | NONE, Event::Outcome
//!     else SDATA with the IMVs' messages
//!   request_retry (the manager, or an IMV): SRETRY, HANDSHAKE, begin_handshake, SDATA
//! close / peer CLOSE / transport closed ─ DELETE, Event::Closed
//! ```
//!
//! **Drain contract**: after every call that takes a [`Connection`], poll
//! [`Connection::poll_transmit`] and [`Connection::poll_event`] until both return `None`.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use pb_tnc::{
    AccessRecommendation, CloseReason, PbAssessmentResult, PbError, PbPa, ReasonString, Side, State,
};
use tnc_if::core::{AddError, ConnectionCore, PluginHandle, PluginTable, SendWindow};
use tnc_if::{
    ActionRecommendation, ArIdentity, BrokerAttributes, ConnectionId, ConnectionState,
    EvaluationResult, IdAllocator, ImcId, ImvId, MessageType, RecommendationPolicy, RetryReason,
    TncError, TransportProtocol, combine,
};

use crate::imv::{Imv, ImvConnection, ImvInit, ImvMessage, ImvState};

/// Settings of a TNC server.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    /// PB-TNC limits (batch and message size, round trips per handshake).
    pub pb: Arc<pb_tnc::Config>,
    /// How the IMVs' recommendations combine.
    pub policy: RecommendationPolicy,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        Self {
            pb: Arc::new(pb_tnc::Config::default()),
            policy: RecommendationPolicy::default(),
        }
    }
}

/// Settings of one connection.
#[derive(Debug, Clone, Default)]
pub struct ConnectionConfig {
    /// The transport under PB-TNC (PT-TLS is full-duplex: the server may start retries).
    pub transport: TransportProtocol,
    /// Who the transport authenticated (the `AR_IDENTITIES` attribute): see
    /// `ArIdentity::from_certificate` (feature `x509` of `tnc-if`),
    /// [`ArIdentity::password_user`] and [`ArIdentity::peer_address`].
    pub ar_identities: Vec<ArIdentity>,
}

/// Errors of the broker API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BrokerError {
    /// The verifier's `initialize` failed; it was terminated and is not hosted.
    #[error("IMV {name:?} failed to initialize: {error}")]
    Initialize {
        /// The name it was added under.
        name: String,
        /// What it returned.
        error: TncError,
    },
    /// No IMV ID left in the 16-bit PB-PA range.
    #[error(transparent)]
    Ids(TncError),
}

/// One verifier's say in an outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The verifier.
    pub imv: ImvId,
    /// Its name.
    pub name: String,
    /// Its recommendation (NO_RECOMMENDATION if it gave none).
    pub recommendation: ActionRecommendation,
    /// Its evaluation (DONT_KNOW if it gave none).
    pub evaluation: EvaluationResult,
    /// The reason string it set, if any.
    pub reason: Option<String>,
}

/// The server's decision for one handshake (sent in RESULT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The combined recommendation.
    pub recommendation: ActionRecommendation,
    /// The combined evaluation.
    pub evaluation: EvaluationResult,
    /// The connection state it leads to.
    pub state: ConnectionState,
    /// What each verifier said.
    pub verdicts: Vec<Verdict>,
}

impl Outcome {
    /// The PB-Access-Recommendation sent (NO_RECOMMENDATION denies access).
    pub fn access_recommendation(&self) -> AccessRecommendation {
        match self.recommendation {
            ActionRecommendation::Allow => AccessRecommendation::ACCESS_ALLOWED,
            ActionRecommendation::Isolate => AccessRecommendation::QUARANTINED,
            ActionRecommendation::NoAccess | ActionRecommendation::NoRecommendation => {
                AccessRecommendation::ACCESS_DENIED
            }
        }
    }

    /// The PB-Assessment-Result sent (the same numbering as the evaluation result).
    pub fn assessment_result(&self) -> PbAssessmentResult {
        PbAssessmentResult(self.evaluation.code())
    }
}

/// What the server reports to its driver.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A handshake started (the client's first batch or CRETRY, or a server retry).
    HandshakeStarted,
    /// The server decided and sent RESULT.
    Outcome(Outcome),
    /// The client sent a PB-Error (a fatal one is followed by `Closed`).
    PeerError(PbError),
    /// A verifier failed fatally and was terminated; the others go on.
    ImvFailed {
        /// Its ID.
        imv: ImvId,
        /// Its name.
        name: String,
    },
    /// The connection ended (the IMVs got DELETE).
    Closed(CloseReason),
}

/// One connection of the server: its PB-TNC session, the verifiers' say, what it reports.
#[derive(Debug)]
pub struct Connection {
    core: ConnectionCore,
    verdicts: Vec<ImvState>,
    events: VecDeque<Event>,
    outcome: Option<Outcome>,
    deleted: bool,
}

impl Connection {
    /// Its ID.
    pub fn id(&self) -> ConnectionId {
        self.core.id
    }

    /// The TNC connection state.
    pub fn state(&self) -> ConnectionState {
        self.core.state
    }

    /// The PB-TNC session (read-only).
    pub fn session(&self) -> &pb_tnc::Session {
        &self.core.pb
    }

    /// The endpoint's identities.
    pub fn ar_identities(&self) -> &[ArIdentity] {
        &self.core.attrs.ar_identities
    }

    /// The client's language preference, if it sent one.
    pub fn preferred_language(&self) -> Option<&str> {
        self.core.attrs.preferred_language.as_deref()
    }

    /// The last outcome, if any.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    /// Whether the connection ended.
    pub fn is_closed(&self) -> bool {
        self.deleted
    }

    /// The next PB-TNC batch to hand to the transport.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.core.pb.poll_transmit()
    }

    /// Whether batches wait in [`Connection::poll_transmit`].
    pub fn has_pending_transmit(&self) -> bool {
        self.core.pb.has_pending_transmit()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }
}

/// The TNC server: hosts IMVs and serves any number of connections.
pub struct Broker {
    config: BrokerConfig,
    table: PluginTable<dyn Imv>,
}

impl core::fmt::Debug for Broker {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Broker")
            .field("imvs", &self.table)
            .finish_non_exhaustive()
    }
}

impl Broker {
    /// A server without verifiers.
    pub fn new(config: BrokerConfig) -> Self {
        Self::with_ids(config, IdAllocator::new())
    }

    /// A server handing out IMV IDs from `ids`.
    pub fn with_ids(config: BrokerConfig, ids: IdAllocator) -> Self {
        Self {
            config,
            table: PluginTable::new(ids),
        }
    }

    /// Hosts a verifier: gives it an ID and initializes it (version 1).
    pub fn add_imv(
        &mut self,
        name: impl Into<String>,
        imv: Box<dyn Imv>,
    ) -> Result<ImvId, BrokerError> {
        let name = name.into();
        let added = self.table.add(
            name.clone(),
            imv,
            |p, id, entry, ids| {
                p.initialize(&mut ImvInit {
                    id: ImvId::new(id),
                    entry,
                    ids,
                })
            },
            |p| {
                let _ = p.terminate();
            },
        );
        match added {
            Ok(id) => Ok(ImvId::new(id)),
            Err(AddError::Ids(e)) => Err(BrokerError::Ids(e)),
            Err(AddError::Initialize(error)) => Err(BrokerError::Initialize { name, error }),
        }
    }

    /// The hosted verifiers that are active: ID, name and registered types.
    pub fn imvs(&self) -> impl Iterator<Item = (ImvId, &str, &[MessageType])> {
        self.table
            .active()
            .map(|(id, name, types)| (ImvId::new(id), name, types))
    }

    /// Accepts a connection (state CREATE, notified to every IMV, which may read the AR
    /// identities now).
    pub fn accept(&mut self, config: ConnectionConfig) -> Connection {
        let id = self.table.next_connection_id();
        let pb = pb_tnc::Session::new(self.config.pb.clone(), Side::Server);
        let mut core = ConnectionCore::new(
            id,
            pb,
            BrokerAttributes {
                preferred_language: None,
                max_round_trips: self.config.pb.max_round_trips,
                max_message_size: 0,
                transport: config.transport,
                ar_identities: config.ar_identities,
            },
        );
        core.attrs.max_message_size =
            u32::try_from(core.max_body(&self.config.pb)).unwrap_or(u32::MAX);
        let mut conn = Connection {
            core,
            verdicts: Vec::new(),
            events: VecDeque::new(),
            outcome: None,
            deleted: false,
        };
        self.notify(&mut conn, ConnectionState::Create);
        conn
    }

    /// Processes one PB-TNC batch from the client.
    pub fn handle_batch(&mut self, conn: &mut Connection, batch: Bytes) {
        conn.core.pb.handle_batch(batch);
        self.process(conn);
    }

    /// The transport ended (counts as CLOSE).
    pub fn handle_transport_closed(&mut self, conn: &mut Connection) {
        conn.core.pb.handle_transport_closed();
        self.process(conn);
    }

    /// Starts a re-assessment of a connected endpoint (profile §2.2.4): SRETRY at once from
    /// Decided, else when the running handshake ends. A half-duplex transport cannot.
    pub fn request_retry(
        &mut self,
        conn: &mut Connection,
        reason: RetryReason,
    ) -> Result<(), TncError> {
        if reason.is_imc_reason() {
            return Err(TncError::InvalidParameter("IMV retry reasons are 4-8"));
        }
        if conn.core.pb.is_closed() {
            return Err(TncError::CantRetry("the connection is closed"));
        }
        if !conn.core.attrs.transport.is_full_duplex() {
            return Err(TncError::CantRetry(
                "a half-duplex transport does not let the server start a retry",
            ));
        }
        conn.core.retry_request.get_or_insert(reason);
        self.process(conn);
        Ok(())
    }

    /// `TNC_TNCS_ProvideRecommendation` from outside a broker call (e.g. a C verifier's other
    /// thread, queued by the `ffi` module): records `imv`'s say on `conn` for the running
    /// handshake; the decision takes it into account at the end of the next client batch.
    pub fn provide_recommendation(
        &mut self,
        conn: &mut Connection,
        imv: ImvId,
        recommendation: ActionRecommendation,
        evaluation: EvaluationResult,
    ) -> Result<(), TncError> {
        if conn.deleted {
            return Err(TncError::InvalidParameter("the connection is closed"));
        }
        let i = self
            .table
            .slots
            .iter()
            .position(|s| s.entry.active && s.entry.owns(imv.get()))
            .ok_or(TncError::InvalidParameter("no such IMV"))?;
        if conn.verdicts.len() <= i {
            conn.verdicts.resize_with(i + 1, ImvState::default);
        }
        if let Some(v) = conn.verdicts.get_mut(i) {
            v.recommendation = Some((recommendation, evaluation));
        }
        Ok(())
    }

    /// Refers the client to another PDP (TCG PB-PDP-Referral): queued for the next batch the
    /// server sends, never a RESULT (pb-tnc holds it back from one), e.g. the SRETRY or SDATA
    /// of a re-assessment, or the CLOSE of [`Broker::close`].
    pub fn send_pdp_referral(
        &mut self,
        conn: &mut Connection,
        referral: pb_tnc::PdpReferral,
    ) -> Result<(), pb_tnc::Error> {
        conn.core.pb.send_pdp_referral(referral)
    }

    /// Sends CLOSE and ends the connection (the IMVs get DELETE).
    pub fn close(&mut self, conn: &mut Connection) {
        if !conn.core.pb.is_closed() {
            let _ = conn.core.pb.close();
        }
        self.process(conn);
    }

    /// Terminates every verifier.
    pub fn terminate(&mut self) {
        self.table.terminate_all(|p| {
            let _ = p.terminate();
        });
    }

    // ---- internals ----

    fn process(&mut self, conn: &mut Connection) {
        for _ in 0..16 {
            while let Some(ev) = conn.core.pb.poll_event() {
                self.on_event(conn, ev);
            }
            match conn.core.retry_request.take() {
                Some(_reason) => self.retry_now(conn),
                None => break,
            }
        }
    }

    fn on_event(&mut self, conn: &mut Connection, ev: pb_tnc::Event) {
        match ev {
            pb_tnc::Event::HandshakeStarted { .. } => self.new_handshake(conn),
            pb_tnc::Event::LanguagePreference(l) => {
                conn.core.attrs.preferred_language = Some(l.0.as_str().to_owned());
            }
            pb_tnc::Event::Pa(pa) => self.deliver(conn, pa),
            pb_tnc::Event::PeerError(e) => conn.events.push_back(Event::PeerError(e)),
            pb_tnc::Event::EndOfBatch { .. } if conn.core.pb.is_my_turn() => {
                self.each(conn, SendWindow::Open, "BatchEnding", |imv, h| {
                    imv.batch_ending(h)
                });
                self.decide_or_continue(conn);
            }
            pb_tnc::Event::RetryDue => self.retry_now(conn),
            pb_tnc::Event::Closed { reason } if !conn.deleted => {
                self.notify(conn, ConnectionState::Delete);
                conn.deleted = true;
                conn.events.push_back(Event::Closed(reason));
            }
            _ => {}
        }
    }

    fn new_handshake(&mut self, conn: &mut Connection) {
        conn.verdicts
            .iter_mut()
            .for_each(|v| *v = ImvState::default());
        self.notify(conn, ConnectionState::Handshake);
        conn.events.push_back(Event::HandshakeStarted);
    }

    /// After a client batch: RESULT when every verifier has recommended, when none has
    /// anything more to ask, or when one more round trip would exceed the limit; else SDATA.
    fn decide_or_continue(&mut self, conn: &mut Connection) {
        let all_recommended = self.table.slots.iter().enumerate().all(|(i, s)| {
            !s.entry.active
                || conn
                    .verdicts
                    .get(i)
                    .is_some_and(|v| v.recommendation.is_some())
        });
        let last_round = conn.core.pb.batches_received() >= self.config.pb.max_round_trips;
        if all_recommended || last_round || !conn.core.pb.has_queued_messages() {
            self.finish(conn);
        } else {
            let _ = conn.core.pb.end_turn();
        }
    }

    fn finish(&mut self, conn: &mut Connection) {
        for i in 0..self.table.slots.len() {
            let silent = conn
                .verdicts
                .get(i)
                .is_none_or(|v| v.recommendation.is_none());
            if silent {
                self.call(
                    i,
                    conn,
                    SendWindow::Closed,
                    "SolicitRecommendation",
                    |imv, h| imv.solicit_recommendation(h),
                );
            }
        }
        let verdicts: Vec<Verdict> = self
            .table
            .slots
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let v = conn.verdicts.get(i);
                let (recommendation, evaluation) = v.and_then(|v| v.recommendation).unwrap_or((
                    ActionRecommendation::NoRecommendation,
                    EvaluationResult::DontKnow,
                ));
                Verdict {
                    imv: ImvId::new(s.entry.primary),
                    name: s.name.clone(),
                    recommendation,
                    evaluation,
                    reason: v
                        .and_then(|v| v.reason.as_ref())
                        .map(|r| String::from_utf8_lossy(r).into_owned()),
                }
            })
            .collect();
        let (recommendation, evaluation) = combine(
            self.config.policy,
            verdicts.iter().map(|v| (v.recommendation, v.evaluation)),
        );
        // PB-Reason-String and PB-Remediation-Parameters from every verifier that set them.
        for v in &conn.verdicts {
            if let Some(reason) = &v.reason {
                let lang = v.reason_language.clone().unwrap_or_default();
                if let (Ok(r), Ok(l)) = (core::str::from_utf8(reason), core::str::from_utf8(&lang))
                {
                    let _ = conn.core.pb.send_reason_string(ReasonString::new(r, l));
                }
            }
            for r in &v.remediation {
                let _ = conn.core.pb.send_remediation(r.clone());
            }
        }
        let outcome = Outcome {
            recommendation,
            evaluation,
            state: recommendation.connection_state(),
            verdicts,
        };
        let sent = conn.core.pb.send_result(
            outcome.assessment_result(),
            Some(outcome.access_recommendation()),
        );
        if let Err(e) = sent {
            // The verifiers' messages and the result do not fit one batch: send the messages
            // in an SDATA now; the client's answer brings the decision round again.
            tracing::debug!(error = %e, "RESULT does not fit; sending SDATA first");
            let _ = conn.core.pb.end_turn();
            return;
        }
        self.notify(conn, outcome.state);
        conn.outcome = Some(outcome.clone());
        conn.events.push_back(Event::Outcome(outcome));
    }

    /// A retry asked for by an IMV or the driver: now from Decided, else pending.
    fn retry_now(&mut self, conn: &mut Connection) {
        match conn.core.pb.state() {
            State::Decided => {
                if conn.core.pb.retry().is_ok() {
                    self.new_handshake(conn);
                    self.each(conn, SendWindow::Open, "BeginHandshake", |imv, h| {
                        imv.begin_handshake(h)
                    });
                    let _ = conn.core.pb.end_turn();
                }
            }
            State::ServerWorking | State::ClientWorking => {
                let _ = conn.core.pb.retry();
            }
            State::Init | State::End => {}
        }
    }

    fn notify(&mut self, conn: &mut Connection, state: ConnectionState) {
        conn.core.state = state;
        self.each(
            conn,
            SendWindow::Closed,
            "NotifyConnectionChange",
            |imv, h| imv.notify_connection_change(h, state),
        );
    }

    fn deliver(&mut self, conn: &mut Connection, pa: PbPa) {
        let message = ImvMessage {
            exclusive: pa.exclusive,
            message_type: MessageType::new(pa.vendor, pa.subtype.get()),
            source: ImcId::new(pa.collector_id),
            destination: ImvId::new(pa.validator_id),
            body: pa.body,
        };
        let t = message.message_type;
        let dest = pa.validator_id;
        let exclusive = pa.exclusive;
        for i in 0..self.table.slots.len() {
            if self
                .table
                .slots
                .get(i)
                .is_some_and(|s| s.entry.takes(t, exclusive, dest))
            {
                self.call(i, conn, SendWindow::Open, "ReceiveMessage", |imv, h| {
                    imv.receive_message(h, &message)
                });
            }
        }
    }

    fn each(
        &mut self,
        conn: &mut Connection,
        window: SendWindow,
        what: &str,
        mut f: impl FnMut(&mut dyn Imv, &mut ImvConnection<'_>) -> Result<(), TncError>,
    ) {
        for i in 0..self.table.slots.len() {
            self.call(i, conn, window, what, &mut f);
        }
    }

    fn call(
        &mut self,
        i: usize,
        conn: &mut Connection,
        window: SendWindow,
        what: &str,
        mut f: impl FnMut(&mut dyn Imv, &mut ImvConnection<'_>) -> Result<(), TncError>,
    ) {
        if conn.verdicts.len() <= i {
            conn.verdicts.resize_with(i + 1, ImvState::default);
        }
        let Some(verdict) = conn.verdicts.get_mut(i) else {
            return;
        };
        let config = &self.config.pb;
        let failed = self.table.call(
            i,
            what,
            |imv, entry, ids| {
                let mut h = ImvConnection {
                    inner: PluginHandle {
                        conn: &mut conn.core,
                        entry,
                        ids,
                        config,
                        side: Side::Server,
                        window,
                    },
                    verdict,
                };
                f(imv, &mut h)
            },
            |imv| {
                let _ = imv.terminate();
            },
        );
        if let Some((id, name)) = failed {
            conn.events.push_back(Event::ImvFailed {
                imv: ImvId::new(id),
                name,
            });
        }
    }
}
