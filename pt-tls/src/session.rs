//! The PT-TLS state machine (RFC 6876 §3.4.2, §3.7, §3.8), sans-IO.
//!
//! One [`Session`] per TLS connection, built from the NEA role ([`Side`]) and the TLS role
//! ([`TlsRole`]); the two are independent (a NEA Server that opened the TLS connection sends the
//! Version Request, §3.1, §3.7).
//!
//! ```text
//!  TLS Setup (outside)
//!     │
//!     ▼
//!  ┌─────────────── Negotiation ────────────────────────────────────────────┐
//!  │ Initiator ── Version Request ──▶ Responder                             │
//!  │ Initiator ◀── Version Response ── Responder   (or Version Not Supported)│
//!  │                                                                        │
//!  │ NEA Server ── SASL Mechanisms [m1, m2…] ──▶ NEA Client   (optional)    │
//!  │ NEA Server ◀── SASL Mechanism Selection (+initial response) ──         │
//!  │ NEA Server ◀─▶ SASL Authentication Data  (0…n rounds)                  │
//!  │ NEA Server ── SASL Result (Success|Failure|Abort|Mechanism Failure) ──▶│
//!  │            ↺ another non-empty SASL Mechanisms (retry / further run)   │
//!  │ NEA Server ── SASL Mechanisms [] (empty: always the last message) ──▶  │
//!  └────────────────────────────────────────────────────────────────────────┘
//!     │ server: after sending []; client: after receiving []
//!     ▼
//!  Data Transport: PB-TNC Batch ◀─▶ both ways, full duplex, until close
//! ```
//!
//! Any message outside its place is answered with a PT-TLS Error (Invalid Message, fatal); an
//! unknown type with Type Not Supported (the session goes on); a bad header with Invalid
//! Parameter and a bad value with Malformed Message (fatal). Fatal errors, sent or received,
//! end in [`Event::Closed`]: flush [`Session::poll_transmit`], then close TLS.
//!
//! When the transport ends (TLS close_notify, end of the TCP stream), call
//! [`Session::handle_transport_closed`]: the session closes with [`CloseReason::PeerClosed`].
//!
//! **Drain contract**: after each `handle_bytes`, `handle_transport_closed`, `send_batch` or
//! `close`, call
//! [`Session::poll_transmit`] until `None` (write every buffer, in order, to TLS) and
//! [`Session::poll_event`] until `None`.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};

use crate::config::{Config, SaslPolicy};
use crate::error::{Error, error_code_for};
use crate::framer::Framer;
use crate::registry::{ErrorCode, SaslResultCode};
use crate::sasl::{
    ClientConversation, SaslContext, ServerConversation, ServerMechanism, ServerStep,
};
use crate::wire::{
    Body, HEADER_LEN, MAX_ORIGINAL_COPY, MechanismName, Message, PtTlsError,
    SaslMechanismSelection, SaslMechanisms, SaslResult, VersionRequest, VersionResponse,
};

/// The only PT-TLS version this crate speaks.
pub const PT_TLS_VERSION: u8 = 1;

/// Most SASL Authentication Data messages either side accepts within one SASL run; past it
/// the NEA Server ends the run with Abort and the NEA Client with SASL Mechanism Error, so a
/// peer cannot keep a mechanism's challenge/response going forever.
pub const MAX_SASL_ROUNDS: u32 = 64;

/// Most SASL runs (non-empty SASL Mechanisms) a NEA Client accepts in one Negotiation; past it
/// the client closes with SASL Mechanism Error, so a server cannot re-offer forever.
pub const MAX_SASL_RUNS: u32 = 16;

/// The NEA role of this end (RFC 6876 §3.1): who assesses whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// NEA Client (Posture Transport Client): is assessed, may be asked to authenticate.
    Client,
    /// NEA Server (Posture Transport Server): assesses, decides on SASL.
    Server,
}

/// The TLS role of this end, which decides who sends the Version Request (RFC 6876 §3.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlsRole {
    /// Opened the TLS connection (TLS client): PT-TLS Initiator.
    Initiator,
    /// Accepted the TLS connection (TLS server): PT-TLS Responder.
    Responder,
}

/// Why a session closed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The local caller called [`Session::close`].
    Local,
    /// This end sent a fatal PT-TLS Error with this code.
    SentError(ErrorCode),
    /// The peer sent a fatal PT-TLS Error with this code.
    ReceivedError(ErrorCode),
    /// NEA Server: the client used up its SASL attempts and unauthenticated clients are not
    /// admitted.
    AuthenticationFailed,
    /// The peer ended the TLS stream (close_notify or end of the connection) without a fatal
    /// PT-TLS Error, reported through [`Session::handle_transport_closed`].
    PeerClosed,
}

/// What the session reports to the layer above.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Negotiation ended: the session is in Data Transport and batches may flow.
    Negotiated,
    /// A SASL run succeeded. NEA Server: `identity` is the authenticated identity; NEA
    /// Client: `None`.
    Authenticated {
        /// The authenticated identity (server side).
        identity: Option<String>,
    },
    /// A SASL run ended without success (Failure, Abort or Mechanism Failure).
    AuthenticationFailed {
        /// The Result Code.
        code: SaslResultCode,
    },
    /// A PB-TNC batch arrived (hand it to `pb-tnc`).
    Batch(Bytes),
    /// The peer sent a PT-TLS Error (a fatal one is followed by [`Event::Closed`]).
    PeerError(PtTlsError),
    /// The session is closed: flush the transmits, then close TLS.
    Closed {
        /// Why.
        reason: CloseReason,
    },
}

enum Phase {
    AwaitVersionRequest,
    AwaitVersionResponse,
    Negotiation,
    DataTransport,
    Closed,
}

enum Sasl {
    /// NEA Client waiting for SASL Mechanisms; NEA Server before offering.
    Idle,
    /// NEA Client in a run it selected.
    ClientRunning(Box<dyn ClientConversation>),
    /// NEA Server having offered a list.
    ServerOffered,
    /// NEA Server in a run.
    ServerRunning(Box<dyn ServerConversation>),
}

/// A PT-TLS session: bytes in, events and bytes out; see the module docs for the drain
/// contract.
pub struct Session {
    config: Arc<Config>,
    side: Side,
    tls_role: TlsRole,
    peer_certificate: Option<Bytes>,
    framer: Framer,
    inbuf: BytesMut,
    phase: Phase,
    sasl: Sasl,
    failed_runs: u32,
    successful_runs: u32,
    /// SASL Authentication Data received in the current run.
    sasl_rounds: u32,
    /// NEA Client: SASL runs the server started (non-empty SASL Mechanisms received).
    client_runs: u32,
    identity: Option<String>,
    /// The mechanism of the last successful SASL run (both sides).
    mechanism: Option<MechanismName>,
    /// The mechanism of the SASL run in progress (both sides).
    running_mechanism: Option<MechanismName>,
    next_identifier: u32,
    transmits: VecDeque<Bytes>,
    events: VecDeque<Event>,
}

impl core::fmt::Debug for Session {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session")
            .field("side", &self.side)
            .field("tls_role", &self.tls_role)
            .field("data_transport", &self.is_data_transport())
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session for one TLS connection that has just completed its handshake.
    ///
    /// `peer_certificate` is the DER of the certificate the peer presented in TLS, if any: a
    /// NEA Server under [`SaslPolicy::UnlessCertificate`] then skips SASL and sends the empty
    /// mechanism list. The PT-TLS Initiator queues its Version Request at once.
    pub fn new(
        config: Arc<Config>,
        side: Side,
        tls_role: TlsRole,
        peer_certificate: Option<Bytes>,
    ) -> Self {
        let framer = Framer::new(config.max_message_len);
        let mut s = Self {
            config,
            side,
            tls_role,
            peer_certificate,
            framer,
            inbuf: BytesMut::new(),
            phase: Phase::AwaitVersionRequest,
            sasl: Sasl::Idle,
            failed_runs: 0,
            successful_runs: 0,
            sasl_rounds: 0,
            client_runs: 0,
            identity: None,
            mechanism: None,
            running_mechanism: None,
            next_identifier: 0,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        };
        if tls_role == TlsRole::Initiator {
            // RFC 6876 §3.7: the Initiator's first message is the Version Request.
            s.send(Body::VersionRequest(VersionRequest::V1));
            s.phase = Phase::AwaitVersionResponse;
        }
        s
    }

    /// The NEA role.
    pub fn side(&self) -> Side {
        self.side
    }

    /// The TLS role.
    pub fn tls_role(&self) -> TlsRole {
        self.tls_role
    }

    /// The peer's TLS certificate (DER), as given to [`Session::new`].
    pub fn peer_certificate(&self) -> Option<&Bytes> {
        self.peer_certificate.as_ref()
    }

    /// NEA Server: the identity a SASL run authenticated (the last one when several runs
    /// were required). Certificate authentication is outside this sans-IO session; the tokio
    /// adapter's `PtTlsConnection::authenticated_identity` adds it.
    pub fn authenticated_identity(&self) -> Option<&str> {
        self.identity.as_deref()
    }

    /// The SASL mechanism of the last successful run, on both sides (NEA Server: the one
    /// that produced [`Session::authenticated_identity`]; NEA Client: the one it selected and
    /// the server accepted with SASL Result Success). `None` when no run succeeded (e.g.
    /// TLS client certificate without SASL).
    pub fn authenticated_mechanism(&self) -> Option<&MechanismName> {
        self.mechanism.as_ref()
    }

    /// Whether the session is in the Data Transport phase.
    pub fn is_data_transport(&self) -> bool {
        matches!(self.phase, Phase::DataTransport)
    }

    /// Whether the session is closed.
    pub fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::Closed)
    }

    /// Feeds TLS plaintext read from the stream, split anywhere.
    pub fn handle_bytes(&mut self, data: &[u8]) {
        if self.is_closed() {
            return;
        }
        self.inbuf.extend_from_slice(data);
        while !self.is_closed() {
            let at = self.framer.offset();
            match self.framer.decode_frame(&mut self.inbuf) {
                Ok(None) => break,
                Ok(Some(frame)) => match Message::decode_at(frame.clone(), at) {
                    Ok(m) => self.on_message(m, frame),
                    Err(e) => self.fatal(error_code_for(&e, at), frame),
                },
                Err(e) => {
                    // A header the stream cannot get past (Length < 16 or over the limit):
                    // the copy is what arrived of that message, at most 1024 bytes.
                    let n = self.inbuf.len().min(MAX_ORIGINAL_COPY);
                    let copy = self.inbuf.split_to(n).freeze();
                    self.inbuf.clear();
                    self.fatal(error_code_for(&e, at), copy);
                }
            }
        }
        if self.inbuf.is_empty() {
            // Give the buffer back between messages (messages taken out share it): an idle
            // session then holds none.
            self.inbuf = BytesMut::new();
        }
    }

    /// Sends a PB-TNC batch (Data Transport only, RFC 6876 §3.6).
    pub fn send_batch(&mut self, batch: Bytes) -> Result<(), Error> {
        match self.phase {
            Phase::DataTransport => {}
            Phase::Closed => return Err(Error::Closed),
            _ => return Err(Error::NotInDataTransport),
        }
        let fits = batch
            .len()
            .checked_add(HEADER_LEN)
            .is_some_and(|n| u32::try_from(n).is_ok());
        if !fits {
            return Err(Error::TooLarge { len: batch.len() });
        }
        self.send(Body::PbTncBatch(batch));
        Ok(())
    }

    /// Closes the session locally; queued transmits stay available.
    pub fn close(&mut self) {
        if !self.is_closed() {
            self.closed(CloseReason::Local);
        }
    }

    /// The transport below ended: the peer closed TLS (close_notify) or the connection
    /// dropped. Closes the session with [`CloseReason::PeerClosed`] unless it is already
    /// closed (e.g. after a fatal PT-TLS Error, whose reason stays). Input still buffered
    /// (a partial message) is dropped; nothing is queued for sending.
    pub fn handle_transport_closed(&mut self) {
        if !self.is_closed() {
            self.closed(CloseReason::PeerClosed);
        }
    }

    /// The next message to write to TLS, in order.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.transmits.pop_front()
    }

    /// The next event for the layer above.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn send(&mut self, body: Body) {
        let m = Message::new(self.next_identifier, body);
        // RFC 6876 §3.5: identifiers count from 0 and MUST roll over to 0 after 2^32 - 1.
        self.next_identifier = self.next_identifier.wrapping_add(1);
        self.transmits.push_back(m.to_bytes());
    }

    fn closed(&mut self, reason: CloseReason) {
        tracing::debug!(side = ?self.side, ?reason, "pt-tls: session closed");
        self.phase = Phase::Closed;
        self.sasl = Sasl::Idle;
        self.inbuf = BytesMut::new();
        self.events.push_back(Event::Closed { reason });
    }

    /// Sends a PT-TLS Error carrying (the first 1024 bytes of) `original`; closes on a fatal
    /// code (RFC 6876 §3.9: sender and receiver close TLS).
    fn error(&mut self, code: ErrorCode, original: Bytes) {
        tracing::debug!(side = ?self.side, ?code, "pt-tls: sending PT-TLS Error");
        self.send(Body::Error(PtTlsError::ietf(code, original)));
        if code.is_fatal() {
            self.closed(CloseReason::SentError(code));
        }
    }

    fn fatal(&mut self, code: ErrorCode, original: Bytes) {
        self.error(code, original);
    }

    fn invalid(&mut self, original: Bytes) {
        self.error(ErrorCode::INVALID_MESSAGE, original);
    }

    fn on_message(&mut self, m: Message, frame: Bytes) {
        match m.body {
            // RFC 6876 §3.9: a received PT-TLS Error is never answered with one.
            Body::Error(e) => return self.on_peer_error(e),
            // RFC 6876 §3.6: compliant implementations MUST answer Experimental with Invalid
            // Message.
            Body::Experimental(_) => return self.invalid(frame),
            _ => {}
        }
        match self.phase {
            Phase::AwaitVersionRequest => self.on_await_request(m.body, frame),
            Phase::AwaitVersionResponse => self.on_await_response(m.body, frame),
            Phase::Negotiation => match self.side {
                Side::Client => self.on_client_negotiation(m.body, frame),
                Side::Server => self.on_server_negotiation(m.body, frame),
            },
            Phase::DataTransport => self.on_data_transport(m.body, frame),
            Phase::Closed => {}
        }
    }

    fn on_peer_error(&mut self, e: PtTlsError) {
        let fatal = e.is_fatal();
        tracing::debug!(side = ?self.side, code = ?e.code, vendor = %e.vendor, fatal, "pt-tls: received PT-TLS Error");
        let code = e.code;
        self.events.push_back(Event::PeerError(e));
        if fatal {
            // RFC 6876 §3.9: the receiver of a fatal code closes the TLS session.
            self.closed(CloseReason::ReceivedError(code));
        }
    }

    fn on_await_request(&mut self, body: Body, frame: Bytes) {
        match body {
            Body::VersionRequest(req) => {
                if req.accepts(PT_TLS_VERSION) {
                    self.send(Body::VersionResponse(VersionResponse {
                        version: PT_TLS_VERSION,
                    }));
                    self.enter_negotiation();
                } else {
                    // RFC 6876 §3.7.1, §3.9: no acceptable version → Version Not Supported.
                    self.fatal(ErrorCode::VERSION_NOT_SUPPORTED, frame);
                }
            }
            // RFC 6876 §3.7: the Responder completes version negotiation before accepting
            // any other message.
            _ => self.invalid(frame),
        }
    }

    fn on_await_response(&mut self, body: Body, frame: Bytes) {
        match body {
            Body::VersionResponse(resp) => {
                if VersionRequest::V1.accepts(resp.version) {
                    self.enter_negotiation();
                } else {
                    // RFC 6876 §3.7.2: a version outside the request's range → the Initiator
                    // MUST send Version Not Supported.
                    self.fatal(ErrorCode::VERSION_NOT_SUPPORTED, frame);
                }
            }
            _ => self.invalid(frame),
        }
    }

    fn enter_negotiation(&mut self) {
        tracing::trace!(side = ?self.side, "pt-tls: version 1 negotiated");
        self.phase = Phase::Negotiation;
        self.sasl = Sasl::Idle;
        if self.side == Side::Server {
            let want = match self.config.sasl_policy {
                SaslPolicy::Never => false,
                SaslPolicy::UnlessCertificate => self.peer_certificate.is_none(),
                SaslPolicy::Always => true,
            };
            if want && !self.offerable().is_empty() {
                self.offer();
            } else {
                self.end_negotiation();
            }
        }
    }

    fn ctx(&self) -> SaslContext<'_> {
        SaslContext::new(self.peer_certificate.as_deref())
    }

    /// The configured server mechanisms available on this connection.
    fn offerable(&self) -> Vec<Arc<dyn ServerMechanism>> {
        let ctx = self.ctx();
        self.config
            .server_mechanisms
            .iter()
            .filter(|m| m.available(&ctx))
            .cloned()
            .collect()
    }

    fn offer(&mut self) {
        let names = self.offerable().iter().map(|m| m.name()).collect();
        self.send(Body::SaslMechanisms(SaslMechanisms::new(names)));
        self.sasl = Sasl::ServerOffered;
    }

    /// NEA Server: the empty SASL Mechanisms, then Data Transport.
    fn end_negotiation(&mut self) {
        // RFC 6876 §3.8.3: the server MUST end Negotiation with an empty SASL Mechanisms.
        self.send(Body::SaslMechanisms(SaslMechanisms::empty()));
        self.sasl = Sasl::Idle;
        self.phase = Phase::DataTransport;
        tracing::debug!(side = ?self.side, "pt-tls: data transport");
        self.events.push_back(Event::Negotiated);
    }

    fn on_server_negotiation(&mut self, body: Body, frame: Bytes) {
        match (body, core::mem::replace(&mut self.sasl, Sasl::Idle)) {
            (Body::SaslMechanismSelection(sel), Sasl::ServerOffered) => {
                self.on_selection(sel, frame);
            }
            (Body::SaslAuthenticationData(data), Sasl::ServerRunning(mut conv)) => {
                self.sasl_rounds = self.sasl_rounds.saturating_add(1);
                if self.sasl_rounds > MAX_SASL_ROUNDS {
                    // A run that does not end: the server gives it up.
                    return self.on_server_step(ServerStep::Abort, conv);
                }
                let step = conv.step(Some(&data));
                self.on_server_step(step, conv);
            }
            (Body::Unknown(_), state) => {
                self.sasl = state;
                self.error(ErrorCode::TYPE_NOT_SUPPORTED, frame);
            }
            // RFC 6876 §3.6, §3.8.9: a selection during a run (it cannot change), data before a
            // selection, server-only types, version messages, and (§3.8.3, NEA-WIRE-FACTS §7
            // #1) a PB-TNC Batch before authentication ends → Invalid Message.
            (_, state) => {
                self.sasl = state;
                self.invalid(frame);
            }
        }
    }

    fn on_selection(&mut self, sel: SaslMechanismSelection, frame: Bytes) {
        let mech = self
            .offerable()
            .into_iter()
            .find(|m| m.name() == sel.mechanism);
        let Some(mech) = mech else {
            // RFC 6876 §3.8.3: an unacceptable selection → SASL Mechanism Error.
            return self.fatal(ErrorCode::SASL_MECHANISM_ERROR, frame);
        };
        self.sasl_rounds = 0;
        self.running_mechanism = Some(mech.name());
        let mut conv = mech.start(&self.ctx());
        let initial = (!sel.initial_response.is_empty()).then_some(&sel.initial_response[..]);
        let step = conv.step(initial);
        self.on_server_step(step, conv);
    }

    fn on_server_step(&mut self, step: ServerStep, conv: Box<dyn ServerConversation>) {
        let code = match step {
            ServerStep::Challenge(c) => {
                self.send(Body::SaslAuthenticationData(c));
                self.sasl = Sasl::ServerRunning(conv);
                return;
            }
            ServerStep::Success {
                identity,
                additional,
            } => {
                self.send(Body::SaslResult(SaslResult::success_with(additional)));
                self.identity = Some(identity.clone());
                self.mechanism = self.running_mechanism.clone();
                self.events.push_back(Event::Authenticated {
                    identity: Some(identity),
                });
                self.successful_runs = self.successful_runs.saturating_add(1);
                return if self.successful_runs < self.config.required_authentications {
                    // RFC 6876 §3.8.5.4: another run starts with another SASL Mechanisms.
                    self.offer()
                } else {
                    self.end_negotiation()
                };
            }
            ServerStep::Failure => SaslResultCode::FAILURE,
            ServerStep::MechanismFailure => SaslResultCode::MECHANISM_FAILURE,
            ServerStep::Abort => SaslResultCode::ABORT,
        };
        self.send(Body::SaslResult(SaslResult::new(code)));
        self.events.push_back(Event::AuthenticationFailed { code });
        self.failed_runs = self.failed_runs.saturating_add(1);
        if self.failed_runs < self.config.max_sasl_attempts && code != SaslResultCode::ABORT {
            // RFC 6876 §3.8.10: the client may retry after a failure.
            self.offer();
        } else if self.config.admit_unauthenticated {
            // RFC 6876 §3.4.2.2: the server may admit a client whose authentication failed.
            self.end_negotiation();
        } else {
            self.closed(CloseReason::AuthenticationFailed);
        }
    }

    fn on_client_negotiation(&mut self, body: Body, frame: Bytes) {
        match (body, core::mem::replace(&mut self.sasl, Sasl::Idle)) {
            (Body::SaslMechanisms(list), Sasl::Idle) => {
                if list.is_empty() {
                    // RFC 6876 §3.8.3: Data Transport only after the empty list.
                    self.phase = Phase::DataTransport;
                    tracing::debug!(side = ?self.side, "pt-tls: data transport");
                    self.events.push_back(Event::Negotiated);
                } else {
                    self.client_runs = self.client_runs.saturating_add(1);
                    if self.client_runs > MAX_SASL_RUNS {
                        // A server that re-offers forever: the client gives up.
                        return self.fatal(ErrorCode::SASL_MECHANISM_ERROR, frame);
                    }
                    self.select(&list.mechanisms, frame);
                }
            }
            (Body::SaslAuthenticationData(data), Sasl::ClientRunning(mut conv)) => {
                self.sasl_rounds = self.sasl_rounds.saturating_add(1);
                if self.sasl_rounds > MAX_SASL_ROUNDS {
                    // A run that does not end: the client aborts it (RFC 6876 §3.8.4).
                    return self.fatal(ErrorCode::SASL_MECHANISM_ERROR, frame);
                }
                match conv.step(&data) {
                    Ok(resp) => {
                        self.send(Body::SaslAuthenticationData(resp));
                        self.sasl = Sasl::ClientRunning(conv);
                    }
                    // RFC 6876 §3.8.4: the client aborts with SASL Mechanism Error.
                    Err(_) => self.fatal(ErrorCode::SASL_MECHANISM_ERROR, frame),
                }
            }
            (Body::SaslResult(result), Sasl::ClientRunning(mut conv)) => {
                if result.code == SaslResultCode::SUCCESS {
                    if conv.finish(&result.data).is_err() {
                        return self.fatal(ErrorCode::SASL_MECHANISM_ERROR, frame);
                    }
                    self.mechanism = self.running_mechanism.clone();
                    self.events
                        .push_back(Event::Authenticated { identity: None });
                } else {
                    // RFC 6876 §3.8.10: on Abort the client MUST end the conversation (the
                    // conversation is dropped here for every non-success code).
                    self.events
                        .push_back(Event::AuthenticationFailed { code: result.code });
                }
            }
            (Body::Unknown(_), state) => {
                self.sasl = state;
                self.error(ErrorCode::TYPE_NOT_SUPPORTED, frame);
            }
            // RFC 6876 §3.6: SASL Mechanisms during a run, data or a result outside a run,
            // client-only types, version messages, a batch before the empty list → Invalid
            // Message.
            (_, state) => {
                self.sasl = state;
                self.invalid(frame);
            }
        }
    }

    fn select(&mut self, offered: &[MechanismName], frame: Bytes) {
        let mech = offered.iter().find_map(|name| {
            self.config
                .client_mechanisms
                .iter()
                .find(|m| m.name() == *name)
                .cloned()
        });
        let Some(mech) = mech else {
            // RFC 6876 §3.8.3/§3.9 (NEA-WIRE-FACTS §7 #2): none of the offered mechanisms is
            // usable → SASL Mechanism Error.
            return self.fatal(ErrorCode::SASL_MECHANISM_ERROR, frame);
        };
        self.sasl_rounds = 0;
        self.running_mechanism = Some(mech.name());
        let mut conv = mech.start();
        let initial_response = conv.initial_response();
        self.send(Body::SaslMechanismSelection(SaslMechanismSelection {
            mechanism: mech.name(),
            initial_response,
        }));
        self.sasl = Sasl::ClientRunning(conv);
    }

    fn on_data_transport(&mut self, body: Body, frame: Bytes) {
        match body {
            Body::PbTncBatch(b) => self.events.push_back(Event::Batch(b)),
            // RFC 6876 §3.5, §3.9: an unsupported type → Type Not Supported, ignore, go on.
            Body::Unknown(_) => self.error(ErrorCode::TYPE_NOT_SUPPORTED, frame),
            // RFC 6876 §3.6, §3.7.2: negotiation messages after Negotiation → Invalid Message.
            _ => self.invalid(frame),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_is_send() {
        fn send<T: Send>() {}
        send::<Session>();
    }

    /// A session already in Data Transport.
    fn transporting(side: Side) -> Session {
        let mut s = Session::new(Arc::new(Config::default()), side, TlsRole::Responder, None);
        s.phase = Phase::DataTransport;
        s
    }

    #[test]
    fn identifier_wraps() {
        let mut s = transporting(Side::Client);
        s.next_identifier = u32::MAX;
        s.send_batch(Bytes::new()).unwrap();
        s.send_batch(Bytes::new()).unwrap();
        let a = Message::decode(s.poll_transmit().unwrap()).unwrap();
        let b = Message::decode(s.poll_transmit().unwrap()).unwrap();
        assert_eq!((a.identifier, b.identifier), (u32::MAX, 0));
    }

    #[test]
    fn input_buffer_is_released_between_messages() {
        let mut s = transporting(Side::Server);
        let batch = Bytes::from(vec![7u8; 3000]);
        let m = Message::new(5, Body::PbTncBatch(batch.clone())).to_bytes();
        let (a, b) = m.split_at(1000);
        s.handle_bytes(a);
        // A partial message stays buffered …
        assert_eq!(s.inbuf.len(), 1000);
        assert_eq!(s.poll_event(), None);
        s.handle_bytes(b);
        assert_eq!(s.poll_event(), Some(Event::Batch(batch)));
        // … and once every message is out, the session holds no buffer.
        assert_eq!(s.inbuf.capacity(), 0);
    }
}
