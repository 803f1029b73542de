//! The TNC client (TNCC): hosts IMCs and drives the client side of PB-TNC, sans I/O.
//!
//! ```text
//! connect ─ CREATE ─► begin_handshake ─ HANDSHAKE, BeginHandshake, CDATA ─►
//!   handle_batch(SDATA): ReceiveMessage per PB-PA, BatchEnding, CDATA ─► ...
//!   handle_batch(RESULT): ALLOWED | ISOLATED | NONE, Event::Decision
//!   (retry asked by an IMC or the driver: HANDSHAKE, BeginHandshake, CRETRY;
//!    SRETRY from the server: HANDSHAKE, BeginHandshake, then the next CDATA)
//! close / peer CLOSE / transport closed ─ DELETE, Event::Closed
//! ```
//!
//! **Drain contract**: after every call that takes a [`Connection`], poll
//! [`Connection::poll_transmit`] (hand each batch to the transport) and
//! [`Connection::poll_event`] until both return `None`.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use pb_tnc::{
    AccessRecommendation, CloseReason, PbAssessmentResult, PbError, PbPa, PdpReferral,
    ReasonString, RemediationParameters, Side, State,
};
use tnc_if::core::{AddError, ConnectionCore, PluginHandle, PluginTable, SendWindow};
use tnc_if::{
    BrokerAttributes, ConnectionId, ConnectionState, IdAllocator, ImcId, ImvId, MessageType,
    RetryReason, TncError, TransportProtocol,
};

use crate::imc::{Imc, ImcConnection, ImcInit, ImcMessage};

/// Settings of a TNC client.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    /// PB-TNC limits (batch and message size, round trips per handshake).
    pub pb: Arc<pb_tnc::Config>,
    /// The PB-Language-Preference value the client sends in its first batch (RFC 5793
    /// §4.10, e.g. `Accept-Language: en`); `None` sends none.
    pub language: Option<String>,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        Self {
            pb: Arc::new(pb_tnc::Config::default()),
            language: Some("Accept-Language: en".to_owned()),
        }
    }
}

/// Settings of one connection.
#[derive(Debug, Clone, Default)]
pub struct ConnectionConfig {
    /// The transport under PB-TNC (IF-T attributes; PT-TLS is full-duplex).
    pub transport: TransportProtocol,
}

/// Errors of the broker API (misuse, or a collector that cannot be hosted).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BrokerError {
    /// The collector's `initialize` failed; it was terminated and is not hosted.
    #[error("IMC {name:?} failed to initialize: {error}")]
    Initialize {
        /// The name it was added under.
        name: String,
        /// What it returned.
        error: TncError,
    },
    /// No IMC ID left in the 16-bit PB-PA range.
    #[error(transparent)]
    Ids(TncError),
    /// The PB-TNC session refused the command (e.g. closed, or not in Init).
    #[error(transparent)]
    Pb(#[from] pb_tnc::Error),
    /// `begin_handshake` on a connection whose first handshake already started.
    #[error("the first handshake of this connection has already started")]
    AlreadyStarted,
}

/// The outcome of an assessment, from the server's RESULT batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// PB-Assessment-Result.
    pub result: PbAssessmentResult,
    /// PB-Access-Recommendation, if the server sent one.
    pub recommendation: Option<AccessRecommendation>,
    /// The TNC connection state this leads to (also notified to the IMCs).
    pub state: ConnectionState,
    /// PB-Reason-Strings of this handshake.
    pub reasons: Vec<ReasonString>,
    /// PB-Remediation-Parameters of this handshake.
    pub remediation: Vec<RemediationParameters>,
}

/// What the client reports to its driver.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A handshake started (the first, a retry the client sent, or the server's SRETRY).
    HandshakeStarted,
    /// The server decided (RESULT batch).
    Decision(Decision),
    /// The server referred the client to another PDP (TCG PB-PDP-Referral).
    PdpReferral(PdpReferral),
    /// The server sent a PB-Error (a fatal one is followed by `Closed`).
    PeerError(PbError),
    /// A collector failed fatally and was terminated; the others go on.
    ImcFailed {
        /// Its ID.
        imc: ImcId,
        /// Its name.
        name: String,
    },
    /// The connection ended (the IMCs got DELETE).
    Closed(CloseReason),
}

/// One connection of the client: its PB-TNC session and what it reports.
#[derive(Debug)]
pub struct Connection {
    core: ConnectionCore,
    events: VecDeque<Event>,
    decision: Option<Decision>,
    reasons: Vec<ReasonString>,
    remediation: Vec<RemediationParameters>,
    result: Option<PbAssessmentResult>,
    recommendation: Option<AccessRecommendation>,
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

    /// The last decision received, if any.
    pub fn decision(&self) -> Option<&Decision> {
        self.decision.as_ref()
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

/// The TNC client: hosts IMCs (Rust collectors or wrapped C plugins) and serves any number of
/// connections.
pub struct Broker {
    config: BrokerConfig,
    table: PluginTable<dyn Imc>,
}

impl core::fmt::Debug for Broker {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Broker")
            .field("imcs", &self.table)
            .finish_non_exhaustive()
    }
}

impl Broker {
    /// A client without collectors.
    pub fn new(config: BrokerConfig) -> Self {
        Self::with_ids(config, IdAllocator::new())
    }

    /// A client handing out IMC IDs from `ids` (e.g. a small range, to test exhaustion).
    pub fn with_ids(config: BrokerConfig, ids: IdAllocator) -> Self {
        Self {
            config,
            table: PluginTable::new(ids),
        }
    }

    /// Hosts a collector: gives it an ID and initializes it (version 1), during which it
    /// registers its message types.
    pub fn add_imc(
        &mut self,
        name: impl Into<String>,
        imc: Box<dyn Imc>,
    ) -> Result<ImcId, BrokerError> {
        let name = name.into();
        let added = self.table.add(
            name.clone(),
            imc,
            |p, id, entry, ids| {
                p.initialize(&mut ImcInit {
                    id: ImcId::new(id),
                    entry,
                    ids,
                })
            },
            |p| {
                let _ = p.terminate();
            },
        );
        match added {
            Ok(id) => Ok(ImcId::new(id)),
            Err(AddError::Ids(e)) => Err(BrokerError::Ids(e)),
            Err(AddError::Initialize(error)) => Err(BrokerError::Initialize { name, error }),
        }
    }

    /// The hosted collectors that are active: ID, name and registered types.
    pub fn imcs(&self) -> impl Iterator<Item = (ImcId, &str, &[MessageType])> {
        self.table
            .active()
            .map(|(id, name, types)| (ImcId::new(id), name, types))
    }

    /// Terminates and removes a collector (it no longer receives anything).
    pub fn remove_imc(&mut self, id: ImcId) -> bool {
        self.table.remove(id.get(), |p| {
            let _ = p.terminate();
        })
    }

    /// Opens a connection (state CREATE, notified to every IMC).
    pub fn connect(&mut self, config: ConnectionConfig) -> Connection {
        let id = self.table.next_connection_id();
        let pb = pb_tnc::Session::new(self.config.pb.clone(), Side::Client);
        let mut attrs = BrokerAttributes {
            preferred_language: self.config.language.clone(),
            max_round_trips: self.config.pb.max_round_trips,
            max_message_size: 0,
            transport: config.transport,
            ar_identities: Vec::new(),
        };
        let core = ConnectionCore::new(id, pb, attrs.clone());
        attrs.max_message_size = u32::try_from(core.max_body(&self.config.pb)).unwrap_or(u32::MAX);
        let mut conn = Connection {
            core,
            events: VecDeque::new(),
            decision: None,
            reasons: Vec::new(),
            remediation: Vec::new(),
            result: None,
            recommendation: None,
            deleted: false,
        };
        conn.core.attrs = attrs;
        self.notify(&mut conn, ConnectionState::Create);
        conn
    }

    /// Starts the first handshake: HANDSHAKE, `BeginHandshake` on every IMC, then the first
    /// CDATA (with the PB-Language-Preference and the collectors' messages).
    pub fn begin_handshake(&mut self, conn: &mut Connection) -> Result<(), BrokerError> {
        if conn.core.pb.state() != State::Init {
            return Err(BrokerError::AlreadyStarted);
        }
        // The language first, so the server knows it before it delivers the messages.
        if let Some(lang) = &self.config.language {
            conn.core
                .pb
                .send_language_preference(pb_tnc::LanguagePreference(lang.as_str().into()))?;
        }
        self.start_handshake(conn);
        conn.core.pb.end_turn()?;
        self.process(conn);
        Ok(())
    }

    /// Processes one PB-TNC batch from the server.
    pub fn handle_batch(&mut self, conn: &mut Connection, batch: Bytes) {
        conn.core.pb.handle_batch(batch);
        self.process(conn);
    }

    /// The transport ended (counts as CLOSE).
    pub fn handle_transport_closed(&mut self, conn: &mut Connection) {
        conn.core.pb.handle_transport_closed();
        self.process(conn);
    }

    /// Asks for a handshake retry on behalf of `imc` (e.g. when the driver saw software
    /// change): sent at once from Decided, else when the running handshake ends.
    pub fn request_retry(
        &mut self,
        conn: &mut Connection,
        reason: RetryReason,
    ) -> Result<(), TncError> {
        if !reason.is_imc_reason() {
            return Err(TncError::InvalidParameter("IMC retry reasons are 0-3"));
        }
        if conn.core.pb.is_closed() {
            return Err(TncError::CantRetry("the connection is closed"));
        }
        conn.core.retry_request.get_or_insert(reason);
        self.process(conn);
        Ok(())
    }

    /// Sends CLOSE and ends the connection (the IMCs get DELETE).
    pub fn close(&mut self, conn: &mut Connection) {
        if !conn.core.pb.is_closed() {
            let _ = conn.core.pb.close();
        }
        self.process(conn);
    }

    /// Terminates every collector (the broker is done).
    pub fn terminate(&mut self) {
        self.table.terminate_all(|p| {
            let _ = p.terminate();
        });
    }

    // ---- internals ----

    fn process(&mut self, conn: &mut Connection) {
        // Bounded: each round consumes a retry request; a retry moves the session out of
        // Decided, so a collector asking again only makes it pending.
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
            // The server opened with SDATA, or asked for a retry: the IMCs start over; their
            // messages go in the next CDATA.
            pb_tnc::Event::HandshakeStarted { .. } => self.start_handshake(conn),
            pb_tnc::Event::Pa(pa) => self.deliver(conn, pa),
            pb_tnc::Event::AssessmentResult(r) => conn.result = Some(r),
            pb_tnc::Event::AccessRecommendation(r) => conn.recommendation = Some(r),
            pb_tnc::Event::ReasonString(r) => conn.reasons.push(r),
            pb_tnc::Event::RemediationParameters(r) => conn.remediation.push(r),
            pb_tnc::Event::PdpReferral(p) => conn.events.push_back(Event::PdpReferral(p)),
            pb_tnc::Event::PeerError(e) => conn.events.push_back(Event::PeerError(e)),
            pb_tnc::Event::EndOfBatch { batch_type } => {
                if batch_type == pb_tnc::BatchType::Result {
                    self.decided(conn);
                } else {
                    self.each(conn, SendWindow::Open, "BatchEnding", |imc, h| {
                        imc.batch_ending(h)
                    });
                    if conn.core.pb.is_my_turn() {
                        let _ = conn.core.pb.end_turn();
                    }
                }
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

    fn decided(&mut self, conn: &mut Connection) {
        let result = conn.result.take().unwrap_or(PbAssessmentResult::DONT_KNOW);
        let recommendation = conn.recommendation.take();
        let state = tnc_if::core::state_from_result(result, recommendation);
        let decision = Decision {
            result,
            recommendation,
            state,
            reasons: core::mem::take(&mut conn.reasons),
            remediation: core::mem::take(&mut conn.remediation),
        };
        self.notify(conn, state);
        conn.decision = Some(decision.clone());
        conn.events.push_back(Event::Decision(decision));
    }

    /// A retry asked for by an IMC or the driver: now from Decided, else pending.
    fn retry_now(&mut self, conn: &mut Connection) {
        match conn.core.pb.state() {
            State::Decided => {
                self.start_handshake(conn);
                let _ = conn.core.pb.retry();
            }
            // The first handshake has not started: it will run anyway.
            State::Init | State::End => {}
            State::ServerWorking | State::ClientWorking => {
                let _ = conn.core.pb.retry();
            }
        }
    }

    fn start_handshake(&mut self, conn: &mut Connection) {
        self.notify(conn, ConnectionState::Handshake);
        conn.events.push_back(Event::HandshakeStarted);
        self.each(conn, SendWindow::Open, "BeginHandshake", |imc, h| {
            imc.begin_handshake(h)
        });
    }

    fn notify(&mut self, conn: &mut Connection, state: ConnectionState) {
        conn.core.state = state;
        self.each(
            conn,
            SendWindow::Closed,
            "NotifyConnectionChange",
            |imc, h| imc.notify_connection_change(h, state),
        );
    }

    fn deliver(&mut self, conn: &mut Connection, pa: PbPa) {
        let message = ImcMessage {
            exclusive: pa.exclusive,
            message_type: MessageType::new(pa.vendor, pa.subtype.get()),
            source: ImvId::new(pa.validator_id),
            destination: ImcId::new(pa.collector_id),
            body: pa.body,
        };
        let t = message.message_type;
        let dest = pa.collector_id;
        let exclusive = pa.exclusive;
        for i in 0..self.table.slots.len() {
            if self
                .table
                .slots
                .get(i)
                .is_some_and(|s| s.entry.takes(t, exclusive, dest))
            {
                self.call(i, conn, SendWindow::Open, "ReceiveMessage", |imc, h| {
                    imc.receive_message(h, &message)
                });
            }
        }
    }

    fn each(
        &mut self,
        conn: &mut Connection,
        window: SendWindow,
        what: &str,
        mut f: impl FnMut(&mut dyn Imc, &mut ImcConnection<'_>) -> Result<(), TncError>,
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
        mut f: impl FnMut(&mut dyn Imc, &mut ImcConnection<'_>) -> Result<(), TncError>,
    ) {
        let config = &self.config.pb;
        let failed = self.table.call(
            i,
            what,
            |imc, entry, ids| {
                let mut h = ImcConnection {
                    inner: PluginHandle {
                        conn: &mut conn.core,
                        entry,
                        ids,
                        config,
                        side: Side::Client,
                        window,
                    },
                };
                f(imc, &mut h)
            },
            |imc| {
                let _ = imc.terminate();
            },
        );
        if let Some((id, name)) = failed {
            conn.events.push_back(Event::ImcFailed {
                imc: ImcId::new(id),
                name,
            });
        }
    }
}
