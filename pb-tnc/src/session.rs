//! The PB-TNC client and server state machine (RFC 5793 §3.2), sans I/O.
//!
//! ```text
//!                Receive CRETRY        SRETRY
//!                     or SRETRY   +----------------+
//!                          +--+   |                |
//!                          v  |   v                |
//!                         +---------+  CRETRY  +---------+
//!               CDATA     | Server  |<---------| Decided | CLOSE
//!            +----------->| Working |--------->|         |-------+
//!            |            +---------+  RESULT  +---------+       |
//!            |                ^ |  |                             v
//!            |                | |  +---------------------->=======
//!          ========           | |              CLOSE       " End "
//!          " Init "      CDATA| |SDATA                     =======
//!          ========           | |                          ^    ^
//!            |  |             | v                          |    |
//!            |  | SDATA   +---------+          CLOSE       |    |
//!            |  +-------->| Client  |----------------------+    |
//!            |            | Working |                           |
//!            |            +---------+                           |
//!            |                |  ^                              |
//!            |                +--+                              |
//!            |            Receive CRETRY                        |
//!            |   CLOSE                                          |
//!            +--------------------------------------------------+
//! ```
//!
//! Per side (→ new state; "=" keeps the state; anything else received is answered with a
//! fatal Unexpected Batch Type in a CLOSE batch):
//!
//! | state | server sends | client sends | server receives | client receives |
//! |---|---|---|---|---|
//! | Init | SDATA→CW, CLOSE | CDATA→SW, CLOSE | CDATA→SW, CLOSE | SDATA→CW, CLOSE |
//! | SW | SDATA→CW, RESULT→Decided, CLOSE | CLOSE | CRETRY=, CLOSE | SDATA→CW, RESULT→Decided, SRETRY=, CLOSE |
//! | CW | CLOSE | CDATA→SW, CLOSE | CDATA→SW, CRETRY=, CLOSE | CLOSE |
//! | Decided | SRETRY→SW, CLOSE | CRETRY→SW, CLOSE | CRETRY→SW, CLOSE | SRETRY→SW, CLOSE |
//!
//! A crossing retry that is ignored ("=") still has its messages delivered.
//!
//! **Drain contract**: after every `handle_*` call and every command, call
//! [`Session::poll_transmit`] until it returns `None` (hand each batch to PT) and
//! [`Session::poll_event`] until it returns `None`.

mod event;
mod rules;

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;

pub use event::{CloseReason, Event};

use crate::error::pb_error_for;
use crate::registry::{AccessRecommendation, BatchType, PbAssessmentResult};
use crate::wire::{
    BATCH_HEADER_LEN, Batch, BatchHeader, LanguagePreference, Message, PbError, PbPa, PdpReferral,
    ReasonString, RemediationParameters, Side, decode_messages,
};
use crate::{Config, Error};

/// A PB-TNC session state (RFC 5793 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Init: nothing exchanged yet.
    Init,
    /// Server Working: the server holds the turn.
    ServerWorking,
    /// Client Working: the client holds the turn.
    ClientWorking,
    /// Decided: the server sent RESULT.
    Decided,
    /// End: terminal.
    End,
}

/// One PB-TNC session, client or server: batches in ([`Session::handle_batch`]), batches
/// out ([`Session::poll_transmit`]), events up ([`Session::poll_event`]).
#[derive(Debug)]
pub struct Session {
    config: Arc<Config>,
    side: Side,
    state: State,
    pending: Vec<Message>,
    pending_len: usize,
    transmits: VecDeque<Bytes>,
    events: VecDeque<Event>,
    /// Batches received in the current handshake (CLOSE excluded).
    received: u32,
    /// Handshakes started so far (first batch, and every retry sent or accepted).
    handshakes: u32,
    /// A retry asked for while a handshake was running (sent once Decided is reached).
    retry_pending: bool,
}

impl Session {
    /// A session in state Init for `side`.
    pub fn new(config: Arc<Config>, side: Side) -> Self {
        Self {
            config,
            side,
            state: State::Init,
            pending: Vec::new(),
            pending_len: BATCH_HEADER_LEN,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            received: 0,
            handshakes: 0,
            retry_pending: false,
        }
    }

    /// The local side.
    pub fn side(&self) -> Side {
        self.side
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Whether the session reached End.
    pub fn is_closed(&self) -> bool {
        self.state == State::End
    }

    /// Whether the state machine lets this side send a `batch_type` batch now.
    pub fn can_send(&self, batch_type: BatchType) -> bool {
        self.check_send(batch_type).is_ok()
    }

    /// Whether this side may send its next data batch now (CDATA for the client; SDATA or
    /// RESULT for the server).
    pub fn is_my_turn(&self) -> bool {
        self.can_send(match self.side {
            Side::Client => BatchType::Cdata,
            Side::Server => BatchType::Sdata,
        })
    }

    /// Batches received in the current handshake (CLOSE excluded), compared with
    /// [`Config::max_round_trips`]; it starts again with every handshake, so a long-lived
    /// session with many re-assessments is not cut off.
    pub fn batches_received(&self) -> u32 {
        self.received
    }

    /// Handshakes started so far: the first exchange and every retry (sent, or received in
    /// Decided).
    pub fn handshakes(&self) -> u32 {
        self.handshakes
    }

    /// Whether a retry asked for during a handshake waits for Decided.
    pub fn is_retry_pending(&self) -> bool {
        self.retry_pending
    }

    /// Whether batches wait in [`Session::poll_transmit`].
    pub fn has_pending_transmit(&self) -> bool {
        !self.transmits.is_empty()
    }

    /// Whether messages are queued for the next batch this side sends.
    pub fn has_queued_messages(&self) -> bool {
        !self.pending.is_empty()
    }

    /// The next batch to hand to PT.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.transmits.pop_front()
    }

    /// The next event for the driver.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    // ---- user commands ----

    /// Queues a PB-PA message for the next batch this side sends.
    pub fn send_pa(&mut self, pa: PbPa) -> Result<(), Error> {
        self.queue(Message::Pa(pa))
    }

    /// Queues a PB-Language-Preference (replacing one already queued: at most one per
    /// batch, RFC 5793 §4.10).
    pub fn send_language_preference(&mut self, pref: LanguagePreference) -> Result<(), Error> {
        if let Some(i) = self
            .pending
            .iter()
            .position(|m| matches!(m, Message::LanguagePreference(_)))
        {
            let old = self.pending.remove(i);
            self.pending_len -= old.encoded_len();
        }
        self.queue(Message::LanguagePreference(pref))
    }

    /// Queues a PB-Reason-String (server only, RFC 5793 §4.11).
    pub fn send_reason_string(&mut self, reason: ReasonString) -> Result<(), Error> {
        self.queue(Message::ReasonString(reason))
    }

    /// Queues PB-Remediation-Parameters (server only, RFC 5793 §4.8).
    pub fn send_remediation(&mut self, params: RemediationParameters) -> Result<(), Error> {
        self.queue(Message::RemediationParameters(params))
    }

    /// Server: queues a TCG PB-PDP-Referral for the next batch this side sends, except a
    /// RESULT batch: strongSwan rejects a referral there, so [`Session::send_result`] keeps it
    /// queued for the batch after (an SRETRY, an SDATA of the next exchange, or CLOSE).
    pub fn send_pdp_referral(&mut self, referral: PdpReferral) -> Result<(), Error> {
        self.queue(Message::PdpReferral(referral))
    }

    /// Queues any message (vendor-specific, experimental, non-fatal PB-Error, ...), after the
    /// same side and validity checks as the typed `send_*` methods. Assessment results and
    /// access recommendations go through [`Session::send_result`], fatal errors through the
    /// session itself.
    pub fn send_message(&mut self, msg: Message) -> Result<(), Error> {
        match &msg {
            Message::AssessmentResult(_) | Message::AccessRecommendation(_) => {
                Err(Error::InvalidValue {
                    field: "PB-TNC Message Type",
                })
            }
            Message::Error(e) if e.fatal => Err(Error::InvalidValue { field: "FATAL" }),
            Message::LanguagePreference(l) => self.send_language_preference(l.clone()),
            _ => self.queue(msg),
        }
    }

    /// Ends this side's turn: sends the queued messages in a CDATA (client) or SDATA
    /// (server) batch.
    pub fn end_turn(&mut self) -> Result<(), Error> {
        let bt = match self.side {
            Side::Client => BatchType::Cdata,
            Side::Server => BatchType::Sdata,
        };
        let first = self.state == State::Init;
        self.flush(bt)?;
        if first {
            self.start_handshake();
        }
        Ok(())
    }

    /// Server: sends a RESULT batch holding the queued messages, the PB-Assessment-Result
    /// and, if given, a PB-Access-Recommendation (RFC 5793 §4.1).
    pub fn send_result(
        &mut self,
        result: PbAssessmentResult,
        recommendation: Option<AccessRecommendation>,
    ) -> Result<(), Error> {
        if self.side != Side::Server {
            return Err(Error::WrongSide {
                what: "RESULT",
                side: self.side,
            });
        }
        self.check_send(BatchType::Result)?;
        let mut extra = vec![Message::AssessmentResult(result)];
        if let Some(r) = recommendation {
            extra.push(Message::AccessRecommendation(r));
        }
        // PB-PDP-Referral never rides in RESULT: it is held back for the next batch.
        let is_referral = |m: &Message| matches!(m, Message::PdpReferral(_));
        let held_len: usize = self
            .pending
            .iter()
            .filter(|m| is_referral(m))
            .map(Message::encoded_len)
            .sum();
        let mut size = self.pending_len - held_len;
        for m in &extra {
            m.validate()?;
            size = size.saturating_add(m.encoded_len());
        }
        self.check_batch_size(size)?;
        let (held, mut kept): (Vec<Message>, Vec<Message>) = core::mem::take(&mut self.pending)
            .into_iter()
            .partition(is_referral);
        // strongSwan's order: PB-PA, Assessment-Result, Access-Recommendation, then
        // Reason-String and Remediation-Parameters.
        let split = kept
            .iter()
            .position(|m| {
                matches!(
                    m,
                    Message::ReasonString(_) | Message::RemediationParameters(_)
                )
            })
            .unwrap_or(kept.len());
        let tail = kept.split_off(split);
        kept.extend(extra);
        kept.extend(tail);
        self.pending = kept;
        self.pending_len = size;
        self.flush(BatchType::Result)?;
        self.pending = held;
        self.pending_len = BATCH_HEADER_LEN + held_len;
        self.on_decided();
        Ok(())
    }

    /// Starts a new exchange: from Decided at once, with a CRETRY (client) or SRETRY (server,
    /// full-duplex PT only) batch carrying the queued messages. Asked for while a handshake
    /// runs (Init, Server Working, Client Working), the retry is remembered and
    /// [`Event::RetryDue`] is reported when the session reaches Decided; call `retry` again
    /// then. Returns whether the batch was sent now.
    pub fn retry(&mut self) -> Result<bool, Error> {
        let bt = match self.side {
            Side::Client => BatchType::Cretry,
            Side::Server => BatchType::Sretry,
        };
        match self.state {
            State::End => Err(Error::Closed),
            State::Decided => {
                self.flush(bt)?;
                self.retry_pending = false;
                self.start_handshake();
                Ok(true)
            }
            // RFC 5793 §3.2: over a half-duplex PT the server can never SRETRY.
            _ if self.side == Side::Server && self.config.half_duplex => Err(Error::IllegalBatch {
                batch_type: bt,
                side: self.side,
                state: self.state,
            }),
            _ => {
                self.retry_pending = true;
                Ok(false)
            }
        }
    }

    /// Sends a CLOSE batch (with any queued messages) and ends the session.
    pub fn close(&mut self) -> Result<(), Error> {
        self.flush(BatchType::Close)?;
        self.events.push_back(Event::Closed {
            reason: CloseReason::LocalClose,
        });
        Ok(())
    }

    // ---- peer input ----

    /// The PT connection ended (counts as CLOSE, RFC 5793 §3.2).
    pub fn handle_transport_closed(&mut self) {
        if self.state != State::End {
            self.end(CloseReason::TransportClosed);
        }
    }

    /// Processes one complete batch received from PT. Violations are answered on the wire
    /// and reported as events, never as `Err`. Batches after End are ignored.
    pub fn handle_batch(&mut self, input: Bytes) {
        if self.state == State::End {
            return;
        }
        if input.len() > self.config.max_batch_size {
            return self.fail_limit();
        }
        let header = match BatchHeader::decode(&input, 0) {
            Ok(h) => h,
            Err(e) => return self.fail(pb_error_for(&e)),
        };
        let bt = header.batch_type;
        // RFC 5793 §4.1: D MUST be 0 from a client and 1 from a server.
        if header.sender != self.side.peer() {
            return self.fail(PbError::invalid_parameter(1));
        }
        // RFC 5793 §4.1: a batch type not permitted in this state: ignore its contents, fatal
        // Unexpected Batch Type in CLOSE.
        let Some(next) = rules::on_receive(self.side, self.state, bt) else {
            return self.fail(PbError::unexpected_batch_type());
        };
        let new_handshake = matches!(
            (self.state, bt),
            (State::Init, BatchType::Cdata | BatchType::Sdata)
                | (State::Decided, BatchType::Cretry | BatchType::Sretry)
        );
        if new_handshake {
            self.start_handshake();
        }
        if bt != BatchType::Close {
            self.received = self.received.saturating_add(1);
            if self.received > self.config.max_round_trips {
                return self.fail_limit();
            }
        }
        let max_msg = u32::try_from(self.config.max_message_size).unwrap_or(u32::MAX);
        let messages =
            match decode_messages(input.slice(BATCH_HEADER_LEN..), BATCH_HEADER_LEN, max_msg) {
                Ok(m) => m,
                Err(e) => return self.fail(pb_error_for(&e)),
            };
        // RFC 5793 §4.2: scan the whole batch before acting on any part of it.
        if let Err(e) = self.scan(bt, &messages) {
            return self.fail(e);
        }
        self.state = next;
        if new_handshake {
            self.events
                .push_back(Event::HandshakeStarted { batch_type: bt });
        }
        let last_lang = messages
            .iter()
            .rposition(|(_, m)| matches!(m, Message::LanguagePreference(_)));
        let mut fatal = None;
        for (i, (_, m)) in messages.into_iter().enumerate() {
            let ev = match m {
                Message::Pa(p) => Some(Event::Pa(p)),
                // RFC 5793 §4.6, §4.7: the client MUST ignore these outside RESULT.
                Message::AssessmentResult(a) if bt == BatchType::Result => {
                    Some(Event::AssessmentResult(a))
                }
                Message::AccessRecommendation(a) if bt == BatchType::Result => {
                    Some(Event::AccessRecommendation(a))
                }
                Message::RemediationParameters(r) => Some(Event::RemediationParameters(r)),
                Message::ReasonString(r) => Some(Event::ReasonString(r)),
                // RFC 5793 §4.10: of several, all but the last are ignored.
                Message::LanguagePreference(l) if Some(i) == last_lang => {
                    Some(Event::LanguagePreference(l))
                }
                Message::Unknown(u) => Some(Event::Unknown(u)),
                Message::PdpReferral(p) if self.side == Side::Client => Some(Event::PdpReferral(p)),
                Message::Error(e) => {
                    if e.fatal && fatal.is_none() {
                        fatal = Some(e.clone());
                    }
                    Some(Event::PeerError(e))
                }
                _ => None,
            };
            if let Some(ev) = ev {
                self.events.push_back(ev);
            }
        }
        if let Some(e) = fatal {
            // RFC 5793 §4.9: after a fatal error, end the session without replying.
            self.end(CloseReason::PeerError(e));
        } else if bt == BatchType::Close {
            self.end(CloseReason::PeerClosed);
        } else {
            self.events.push_back(Event::EndOfBatch { batch_type: bt });
            if self.state == State::Decided {
                self.on_decided();
            }
        }
    }

    /// The per-message checks that need the side and batch type (RFC 5793 §4.2–§4.11).
    fn scan(&self, bt: BatchType, messages: &[(usize, Message)]) -> Result<(), PbError> {
        let mut results = 0usize;
        let mut recommendations = 0usize;
        for (off, m) in messages {
            let off32 = u32::try_from(*off).unwrap_or(u32::MAX);
            match m {
                // RFC 5793 §4.2, §4.4: an unknown or experimental NOSKIP message is a fatal
                // Unsupported Mandatory Message at the message offset.
                Message::Experimental(e) if e.noskip => {
                    return Err(PbError::unsupported_mandatory_message(off32));
                }
                Message::Unknown(u) if u.noskip() => {
                    return Err(PbError::unsupported_mandatory_message(off32));
                }
                // RFC 5793 §4.6–§4.8, §4.11: sent only by the server; a server receiving
                // one answers fatal Invalid Parameter.
                Message::AssessmentResult(_)
                | Message::AccessRecommendation(_)
                | Message::RemediationParameters(_)
                | Message::ReasonString(_)
                    if self.side == Side::Server =>
                {
                    return Err(PbError::invalid_parameter(off32));
                }
                Message::AssessmentResult(_) if bt == BatchType::Result => {
                    results += 1;
                    // RFC 5793 §4.6: exactly one per RESULT batch.
                    if results > 1 {
                        return Err(PbError::invalid_parameter(off32));
                    }
                }
                Message::AccessRecommendation(_) if bt == BatchType::Result => {
                    recommendations += 1;
                    // RFC 5793 §4.7: at most one per RESULT batch.
                    if recommendations > 1 {
                        return Err(PbError::invalid_parameter(off32));
                    }
                }
                _ => {}
            }
        }
        // RFC 5793 §4.1: a RESULT batch MUST include a PB-Assessment-Result (offset of the
        // B-Type field).
        if bt == BatchType::Result && results == 0 {
            return Err(PbError::invalid_parameter(3));
        }
        Ok(())
    }

    // ---- internals ----

    fn start_handshake(&mut self) {
        self.received = 0;
        self.handshakes = self.handshakes.saturating_add(1);
    }

    fn on_decided(&mut self) {
        if self.retry_pending {
            self.retry_pending = false;
            self.events.push_back(Event::RetryDue);
        }
    }

    fn check_send(&self, bt: BatchType) -> Result<State, Error> {
        if self.state == State::End {
            return Err(Error::Closed);
        }
        // RFC 5793 §3.2: over a half-duplex PT the server cannot SRETRY from Decided.
        let half_duplex_sretry = self.config.half_duplex && bt == BatchType::Sretry;
        rules::on_send(self.side, self.state, bt)
            .filter(|_| !half_duplex_sretry)
            .ok_or(Error::IllegalBatch {
                batch_type: bt,
                side: self.side,
                state: self.state,
            })
    }

    fn check_batch_size(&self, size: usize) -> Result<(), Error> {
        if size > self.config.max_batch_size {
            return Err(Error::OverLimit {
                what: "batch",
                size,
                limit: self.config.max_batch_size,
            });
        }
        Ok(())
    }

    fn queue(&mut self, msg: Message) -> Result<(), Error> {
        if self.state == State::End {
            return Err(Error::Closed);
        }
        let server_only = matches!(
            msg,
            Message::AssessmentResult(_)
                | Message::AccessRecommendation(_)
                | Message::RemediationParameters(_)
                | Message::ReasonString(_)
                | Message::PdpReferral(_)
        );
        if server_only && self.side == Side::Client {
            return Err(Error::WrongSide {
                what: "this message",
                side: self.side,
            });
        }
        msg.validate()?;
        let len = msg.encoded_len();
        if len > self.config.max_message_size {
            return Err(Error::OverLimit {
                what: "message",
                size: len,
                limit: self.config.max_message_size,
            });
        }
        let size = self.pending_len.saturating_add(len);
        self.check_batch_size(size)?;
        self.pending.push(msg);
        self.pending_len = size;
        Ok(())
    }

    fn flush(&mut self, bt: BatchType) -> Result<(), Error> {
        let next = self.check_send(bt)?;
        let messages = core::mem::take(&mut self.pending);
        self.pending_len = BATCH_HEADER_LEN;
        let batch = Batch::new(self.side, bt, messages)?;
        self.transmits.push_back(batch.to_bytes());
        self.state = next;
        Ok(())
    }

    /// Ends the session on a violation: a CLOSE batch (Version 2) holding only `error`.
    fn fail(&mut self, error: PbError) {
        self.fail_with(error.clone(), CloseReason::ProtocolViolation(error));
    }

    fn fail_limit(&mut self) {
        let error = PbError::local_error();
        self.fail_with(error.clone(), CloseReason::LimitExceeded(error));
    }

    fn fail_with(&mut self, error: PbError, reason: CloseReason) {
        self.pending.clear();
        self.pending_len = BATCH_HEADER_LEN;
        // RFC 5793 §4.9: a fatal error goes in a CLOSE batch, and the session ends.
        if let Ok(batch) = Batch::new(self.side, BatchType::Close, vec![Message::Error(error)]) {
            self.transmits.push_back(batch.to_bytes());
        }
        self.end(reason);
    }

    fn end(&mut self, reason: CloseReason) {
        self.state = State::End;
        self.pending.clear();
        self.pending_len = BATCH_HEADER_LEN;
        self.events.push_back(Event::Closed { reason });
    }
}
