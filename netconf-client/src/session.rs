//! The client session state machine (RFC 6241 §2–§4, §8.1; RFC 6242 §4.1). No I/O.
//!
//! ```text
//!   new() ──queues client <hello> (EOM)──▶ AwaitHello
//!   AwaitHello ──server <hello> ok──▶ Ready     (both base:1.1 → chunked framing both ways)
//!   AwaitHello ──bad/missing hello──▶ Closed
//!   Ready ──send_rpc──▶ Ready (message-id n in flight) ──<rpc-reply message-id=n>──▶ Ready
//!   Ready ──<ok/> to close-session──▶ Closed
//!   any ──framing error / handle_eof──▶ Closed
//! ```
//!
//! Drain contract: after each `handle_*` call or command, call [`Session::poll_transmit`] and
//! [`Session::poll_event`] until both return `None`. Write the client hello on its own and
//! wait for [`Event::Ready`] before the first RPC (netconfd drops an RPC that arrives in the
//! same read as the hello).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};

use crate::capability::{BASE_1_0, BASE_1_1, Capabilities};
use crate::config::Config;
use crate::error::{DecodeError, DecodeErrorKind, Error};
use crate::framing::{self, FramePart, Framer, Framing};
use crate::wire::notification::Notification;
use crate::wire::operation::{self, Operation};
use crate::wire::reply::{ReplyContent, RpcReply};
use crate::wire::{Message, hello};
use crate::xml::{DataReader, XmlEvent, is_base};

/// Why a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// `<close-session>` answered `<ok/>`.
    CloseSession,
    /// The transport reached end of stream.
    TransportClosed,
    /// The peer's bytes could not be framed or decoded where the session cannot go on.
    Decode(DecodeError),
    /// The server's hello is unusable (reason given).
    BadHello(&'static str),
}

/// Something the application must know about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The server's hello arrived: RPCs may be sent.
    Ready {
        /// The server-assigned session-id.
        session_id: u32,
    },
    /// The reply to RPC `message_id`.
    Reply {
        /// The id [`Session::send_rpc`] returned.
        message_id: u64,
        /// The reply.
        reply: RpcReply,
    },
    /// A reply whose message-id matches no RPC in flight (e.g. `malformed-message` errors,
    /// which carry no message-id).
    UnmatchedReply(RpcReply),
    /// The next piece of the reply to a streaming RPC ([`Session::send_rpc_streaming`]):
    /// consecutive pieces are the `<rpc-reply>` message's bytes, in order (feed them to a
    /// [`ReplyStream`](crate::ReplyStream)); [`Event::ReplyEnd`] follows the last one.
    ReplyPart {
        /// The id [`Session::send_rpc_streaming`] returned.
        message_id: u64,
        /// A zero-copy slice of the read buffer.
        data: Bytes,
    },
    /// The reply to streaming RPC `message_id` is complete.
    ReplyEnd {
        /// The id [`Session::send_rpc_streaming`] returned.
        message_id: u64,
    },
    /// A notification (RFC 5277 / RFC 8639).
    Notification(Notification),
    /// A message could not be decoded; the session goes on (framing is intact).
    PeerError(DecodeError),
    /// The session ended; nothing more will be sent or delivered.
    Closed {
        /// Why.
        reason: CloseReason,
    },
}

/// Where an incoming message is while streaming RPCs are in flight.
#[derive(Debug)]
enum Inbound {
    /// Between messages.
    Idle,
    /// The start of a message, until its root start tag is complete.
    Head(BytesMut),
    /// A message that is not a streamed reply: collected whole.
    Whole(BytesMut),
    /// The reply to a streaming RPC: handed out as it arrives.
    Stream(u64),
}

/// The longest message head examined for the root element of a streamed reply.
const MAX_HEAD: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    AwaitHello,
    Ready,
    Closed,
}

/// A NETCONF client session: bytes in, bytes and events out.
#[derive(Debug)]
pub struct Session {
    config: Arc<Config>,
    framer: Framer,
    rx: BytesMut,
    tx: VecDeque<Bytes>,
    events: VecDeque<Event>,
    state: State,
    send_framing: Framing,
    next_id: u64,
    in_flight: HashMap<u64, &'static str>,
    streaming: HashSet<u64>,
    inbound: Inbound,
    session_id: Option<u32>,
    server_caps: Capabilities,
}

impl Session {
    /// A new client session; its `<hello>` is queued for [`Session::poll_transmit`].
    #[must_use]
    pub fn new(config: Arc<Config>) -> Self {
        let l = &config.limits;
        let framer = Framer::new(l.max_message_size, l.max_chunk_size);
        let mut out = BytesMut::new();
        framing::encode_eom(hello::client_hello(&config).as_bytes(), &mut out);
        let mut tx = VecDeque::new();
        tx.push_back(out.freeze());
        Self {
            config,
            framer,
            rx: BytesMut::new(),
            tx,
            events: VecDeque::new(),
            state: State::AwaitHello,
            send_framing: Framing::EndOfMessage,
            next_id: 1,
            in_flight: HashMap::new(),
            streaming: HashSet::new(),
            inbound: Inbound::Idle,
            session_id: None,
            server_caps: Capabilities::default(),
        }
    }

    /// The server-assigned session-id, once the hello arrived.
    #[must_use]
    pub fn session_id(&self) -> Option<u32> {
        self.session_id
    }

    /// The server's capabilities (empty before its hello).
    #[must_use]
    pub fn capabilities(&self) -> &Capabilities {
        &self.server_caps
    }

    /// The framing in force for messages the client sends.
    #[must_use]
    pub fn framing(&self) -> Framing {
        self.send_framing
    }

    /// Whether RPCs may be sent.
    #[must_use]
    pub fn is_ready(&self) -> bool {
        self.state == State::Ready
    }

    /// Whether the session ended.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Whether RPC `message_id` was sent with [`Session::send_rpc_streaming`] and its reply
    /// has not ended yet.
    #[must_use]
    pub fn is_streaming(&self, message_id: u64) -> bool {
        self.streaming.contains(&message_id)
    }

    /// Number of RPCs awaiting their reply.
    #[must_use]
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Queues `<rpc>` for `op`; returns its message-id. The reply comes as [`Event::Reply`].
    pub fn send_rpc(&mut self, op: &Operation) -> Result<u64, Error> {
        match self.state {
            State::AwaitHello => return Err(Error::NotReady),
            State::Closed => return Err(Error::Closed),
            State::Ready => {}
        }
        if self.in_flight.len() >= self.config.limits.max_in_flight {
            return Err(Error::TooManyInFlight);
        }
        if let Operation::Raw(x) = op {
            check_one_element(x)?;
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        let body = operation::rpc(id, op);
        let mut out = BytesMut::new();
        framing::encode(self.send_framing, body.as_bytes(), &mut out);
        tracing::debug!(message_id = id, op = op.name(), "send rpc");
        self.tx.push_back(out.freeze());
        self.in_flight.insert(id, op.name());
        Ok(id)
    }

    /// Queues `<rpc>` for `op` like [`Session::send_rpc`], but its reply is not collected:
    /// it comes as [`Event::ReplyPart`]s as it arrives, then [`Event::ReplyEnd`], so a
    /// multi-MB `<data>` reply never has to be held whole. Other messages (replies to other
    /// RPCs, notifications) arriving meanwhile are delivered as usual.
    pub fn send_rpc_streaming(&mut self, op: &Operation) -> Result<u64, Error> {
        let id = self.send_rpc(op)?;
        self.streaming.insert(id);
        Ok(id)
    }

    /// Queues `<close-session>`; the session ends when its `<ok/>` arrives.
    pub fn close(&mut self) -> Result<u64, Error> {
        self.send_rpc(&Operation::CloseSession)
    }

    /// Bytes to write to the transport, in order.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.tx.pop_front()
    }

    /// The next event for the application.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The transport reached end of stream.
    pub fn handle_eof(&mut self) {
        if self.state != State::Closed {
            self.close_with(CloseReason::TransportClosed);
        }
    }

    fn close_with(&mut self, reason: CloseReason) {
        tracing::debug!(?reason, "session closed");
        self.state = State::Closed;
        self.in_flight.clear();
        self.streaming.clear();
        self.inbound = Inbound::Idle;
        self.events.push_back(Event::Closed { reason });
    }

    /// Bytes read from the transport, on any boundary.
    pub fn handle_bytes(&mut self, data: &[u8]) {
        if self.state == State::Closed {
            return;
        }
        self.rx.extend_from_slice(data);
        while self.state != State::Closed {
            if !self.streaming.is_empty() || !matches!(self.inbound, Inbound::Idle) {
                match self.framer.decode_part(&mut self.rx) {
                    Ok(Some(part)) => self.handle_part(part),
                    Ok(None) => break,
                    Err(e) => {
                        self.close_with(CloseReason::Decode(e));
                        break;
                    }
                }
                continue;
            }
            let body = match self.framer.decode(&mut self.rx) {
                Ok(Some(b)) => b,
                Ok(None) => break,
                Err(e) => {
                    self.close_with(CloseReason::Decode(e));
                    break;
                }
            };
            self.handle_message(body);
        }
    }

    fn handle_part(&mut self, part: FramePart) {
        let inbound = std::mem::replace(&mut self.inbound, Inbound::Idle);
        match (inbound, part) {
            (Inbound::Idle, FramePart::End) => self.handle_message(Bytes::new()),
            (Inbound::Idle, FramePart::Data(d)) => self.handle_head(BytesMut::from(d)),
            (Inbound::Head(mut h), FramePart::Data(d)) => {
                h.extend_from_slice(&d);
                // the root start tag can only have completed with a '>' in the new bytes
                if d.contains(&b'>') || h.len() > MAX_HEAD {
                    self.handle_head(h);
                } else {
                    self.inbound = Inbound::Head(h);
                }
            }
            (Inbound::Head(h) | Inbound::Whole(h), FramePart::End) => {
                self.handle_message(h.freeze());
            }
            (Inbound::Whole(mut w), FramePart::Data(d)) => {
                w.extend_from_slice(&d);
                self.inbound = Inbound::Whole(w);
            }
            (Inbound::Stream(id), FramePart::Data(data)) => {
                self.events.push_back(Event::ReplyPart {
                    message_id: id,
                    data,
                });
                self.inbound = Inbound::Stream(id);
            }
            (Inbound::Stream(id), FramePart::End) => {
                self.in_flight.remove(&id);
                self.streaming.remove(&id);
                self.events.push_back(Event::ReplyEnd { message_id: id });
            }
        }
    }

    /// Decides, once the root start tag is in, whether a message is a streamed reply.
    fn handle_head(&mut self, head: BytesMut) {
        match streamed_reply_id(&head) {
            Head::Partial if head.len() <= MAX_HEAD => self.inbound = Inbound::Head(head),
            Head::Reply(id) if self.streaming.contains(&id) => {
                self.events.push_back(Event::ReplyPart {
                    message_id: id,
                    data: head.freeze(),
                });
                self.inbound = Inbound::Stream(id);
            }
            _ => self.inbound = Inbound::Whole(head),
        }
    }

    fn handle_message(&mut self, body: Bytes) {
        let msg = Message::decode(body, &self.config.limits);
        match (self.state, msg) {
            (State::AwaitHello, Ok(Message::Hello(h))) => self.handle_hello(h),
            (State::AwaitHello, Ok(_)) => self.close_with(CloseReason::BadHello("not a hello")),
            (State::AwaitHello, Err(e)) => self.close_with(CloseReason::Decode(e)),
            (_, Ok(Message::Hello(_))) => {
                self.events.push_back(Event::PeerError(DecodeError::new(
                    DecodeErrorKind::UnexpectedRoot,
                    0u64,
                )));
            }
            (_, Ok(Message::Reply(r))) => self.handle_reply(r),
            (_, Ok(Message::Notification(n))) => self.events.push_back(Event::Notification(n)),
            (_, Err(e)) => self.events.push_back(Event::PeerError(e)),
        }
    }

    fn handle_hello(&mut self, h: hello::Hello) {
        // RFC 6241 §8.1: the server's hello MUST carry a session-id
        let Some(session_id) = h.session_id else {
            return self.close_with(CloseReason::BadHello("no session-id"));
        };
        let both11 = self.config.base11 && h.capabilities.has(BASE_1_1);
        // RFC 6241 §8.1: without a common base version the session cannot proceed
        if !both11 && !h.capabilities.has(BASE_1_0) {
            return self.close_with(CloseReason::BadHello("no common base version"));
        }
        if both11 {
            // RFC 6242 §4.1: chunked framing from the next message on, both directions
            self.framer.set_framing(Framing::Chunked);
            self.send_framing = Framing::Chunked;
        }
        self.session_id = Some(session_id);
        self.server_caps = h.capabilities;
        self.state = State::Ready;
        self.events.push_back(Event::Ready { session_id });
    }

    fn handle_reply(&mut self, reply: RpcReply) {
        let id = reply
            .message_id
            .as_deref()
            .and_then(|m| m.trim().parse::<u64>().ok());
        let Some((id, op)) = id.and_then(|id| self.in_flight.remove_entry(&id)) else {
            self.events.push_back(Event::UnmatchedReply(reply));
            return;
        };
        let closing = op == "close-session" && matches!(reply.content, ReplyContent::Ok);
        self.events.push_back(Event::Reply {
            message_id: id,
            reply,
        });
        if closing {
            self.close_with(CloseReason::CloseSession);
        }
    }
}

enum Head {
    /// The root start tag is not complete yet.
    Partial,
    /// An `<rpc-reply>` with this message-id.
    Reply(u64),
    /// Anything else.
    Other,
}

/// Reads the root start tag of a message head.
fn streamed_reply_id(head: &[u8]) -> Head {
    let mut r = quick_xml::reader::NsReader::from_reader(head);
    loop {
        match r.read_resolved_event() {
            Ok((ns, quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e))) => {
                let ns = match ns {
                    quick_xml::name::ResolveResult::Bound(n) => n.0,
                    _ => "",
                };
                if e.local_name().as_ref() != "rpc-reply" || !is_base(ns) {
                    return Head::Other;
                }
                let id = e
                    .try_get_attribute("message-id")
                    .ok()
                    .flatten()
                    .and_then(|a| a.value.trim().parse().ok());
                return id.map_or(Head::Other, Head::Reply);
            }
            Ok((_, quick_xml::events::Event::Eof)) | Err(_) => return Head::Partial,
            Ok(_) => {}
        }
    }
}

fn check_one_element(x: &str) -> Result<(), Error> {
    let bad = Error::InvalidArgument("raw rpc must be one well-formed element");
    let mut r = DataReader::from_str_at(x, 256, 0);
    let mut roots = 0;
    loop {
        let (start, stray_text) = match r.next_event() {
            Ok(Some(XmlEvent::Start { .. })) => (true, false),
            Ok(Some(XmlEvent::Text(t))) => (false, !t.trim().is_empty()),
            Ok(Some(XmlEvent::End)) => (false, false),
            Ok(None) => break,
            Err(_) => return Err(bad),
        };
        if start && r.depth() == 1 {
            roots += 1;
        }
        if stray_text && r.depth() == 0 {
            return Err(bad);
        }
    }
    if roots == 1 { Ok(()) } else { Err(bad) }
}
