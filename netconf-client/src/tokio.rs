//! Async client over any tokio byte stream (SSH channel, TLS stream, or a test pipe): the
//! thin adapter that owns the socket; all protocol logic stays in [`Session`].
//!
//! ```no_run
//! # async fn demo(stream: tokio::net::TcpStream) -> Result<(), netconf_client::tokio::ClientError> {
//! use netconf_client::{Config, Filter, tokio::Client};
//! let mut client = Client::handshake(stream, Config::default()).await?;
//! let data = client.get(Some(Filter::xpath("/system"))).await?;
//! println!("{}", data.as_str());
//! client.close().await?;
//! # Ok(()) }
//! ```

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::capability::Capabilities;
use crate::config::Config;
use crate::error::{DecodeError, Error};
use crate::session::{CloseReason, Event, Session};
use crate::stream::{ReplyStream, StreamStep};
use crate::wire::notification::Notification;
use crate::wire::operation::{Commit, Datastore, EditConfig, Filter, Operation, WithDefaults};
use crate::wire::reply::{Data, ReplyContent, RpcError, RpcReply};
use crate::xml::XmlEvent;

/// Errors of the async client and its transports.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// Transport I/O failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// Local API misuse.
    #[error(transparent)]
    Api(#[from] Error),
    /// The server answered with an `<rpc-error>` of severity error.
    #[error("rpc-error: {0}")]
    Rpc(Box<RpcError>),
    /// The session ended.
    #[error("session closed: {0:?}")]
    Closed(CloseReason),
    /// The reply did not have the expected shape (e.g. no `<data>`).
    #[error("unexpected reply: {0}")]
    UnexpectedReply(&'static str),
    /// A message could not be decoded.
    #[error("undecodable message: {0}")]
    Decode(DecodeError),
    /// SSH transport failure.
    #[error("ssh: {0}")]
    Ssh(String),
    /// The SSH server's host key was refused.
    #[error("ssh host key refused: {0}")]
    HostKey(String),
    /// Authentication failed.
    #[error("authentication failed: {0}")]
    Auth(String),
    /// TLS transport or certificate failure.
    #[error("tls: {0}")]
    Tls(String),
    /// A step did not complete in time; the phase says which.
    #[error("timed out during {0}")]
    Timeout(Phase),
}

/// The step of a NETCONF exchange that a [`ClientError::Timeout`] interrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// The TCP connection to the server.
    Connect,
    /// The SSH handshake, authentication and `netconf` subsystem request.
    Ssh,
    /// The TLS handshake.
    Tls,
    /// The NETCONF `<hello>` exchange.
    Hello,
    /// Waiting for an RPC's reply ([`Client::set_rpc_timeout`]).
    Rpc,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Connect => "TCP connect",
            Self::Ssh => "SSH handshake and authentication",
            Self::Tls => "TLS handshake",
            Self::Hello => "NETCONF hello",
            Self::Rpc => "RPC (waiting for the reply)",
        })
    }
}

/// One deadline shared by the phases of a connection set-up: each phase that is still
/// running when it passes fails with [`ClientError::Timeout`] naming that phase.
#[cfg(any(feature = "ssh", feature = "tls"))]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline(tokio::time::Instant);

#[cfg(any(feature = "ssh", feature = "tls"))]
impl Deadline {
    pub(crate) fn after(d: Duration) -> Self {
        Self(tokio::time::Instant::now() + d)
    }

    /// Runs `f` as `phase` until the deadline.
    pub(crate) async fn run<T>(
        self,
        phase: Phase,
        f: impl Future<Output = Result<T, ClientError>>,
    ) -> Result<T, ClientError> {
        tokio::time::timeout_at(self.0, f)
            .await
            .map_err(|_| ClientError::Timeout(phase))?
    }

    /// The TCP connection (no Nagle: NETCONF messages are small and request/response).
    pub(crate) async fn tcp(
        self,
        host: &str,
        port: u16,
    ) -> Result<tokio::net::TcpStream, ClientError> {
        self.run(Phase::Connect, async {
            let tcp = tokio::net::TcpStream::connect((host, port)).await?;
            tcp.set_nodelay(true)?;
            Ok(tcp)
        })
        .await
    }

    /// The hello exchange over an opened transport.
    pub(crate) async fn hello<S: AsyncRead + AsyncWrite + Unpin>(
        self,
        transport: S,
        config: Config,
    ) -> Result<Client<S>, ClientError> {
        self.run(Phase::Hello, Client::handshake(transport, config))
            .await
    }
}

/// Appends `item`, first dropping the oldest if `q` holds `max` already; true if one was
/// dropped. With `max` 0 nothing is kept.
fn push_bounded<T>(q: &mut VecDeque<T>, item: T, max: usize) -> bool {
    if max == 0 {
        return true;
    }
    let dropped = q.len() >= max;
    while q.len() >= max {
        q.pop_front();
    }
    q.push_back(item);
    dropped
}

/// An async NETCONF client over stream `S`.
///
/// Queues: notifications and replies without a usable message-id are kept until taken, up to
/// [`Limits::max_notifications`](crate::Limits) and
/// [`Limits::max_unmatched_replies`](crate::Limits); beyond that the oldest is dropped and
/// counted ([`Client::dropped_notifications`], [`Client::dropped_unmatched_replies`]).
#[derive(Debug)]
pub struct Client<S> {
    io: S,
    session: Session,
    rbuf: Vec<u8>,
    replies: HashMap<u64, RpcReply>,
    unmatched: VecDeque<RpcReply>,
    notifications: VecDeque<Notification>,
    dropped_unmatched: u64,
    dropped_notifications: u64,
    closed: Option<CloseReason>,
    /// The streaming RPC being walked, its pieces not yet walked, and whether it ended.
    streaming: Option<u64>,
    parts: VecDeque<bytes::Bytes>,
    parts_end: bool,
    rpc_timeout: Option<Duration>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    /// Sends the client hello (alone, flushed) and waits for the server's.
    pub async fn handshake(io: S, config: Config) -> Result<Self, ClientError> {
        let mut c = Self {
            io,
            session: Session::new(Arc::new(config)),
            rbuf: vec![0; 64 * 1024],
            replies: HashMap::new(),
            unmatched: VecDeque::new(),
            notifications: VecDeque::new(),
            dropped_unmatched: 0,
            dropped_notifications: 0,
            closed: None,
            streaming: None,
            parts: VecDeque::new(),
            parts_end: false,
            rpc_timeout: None,
        };
        c.flush_tx().await?;
        while !c.session.is_ready() {
            if let Some(r) = &c.closed {
                return Err(ClientError::Closed(r.clone()));
            }
            c.read_more().await?;
        }
        Ok(c)
    }

    /// The server-assigned session-id.
    #[must_use]
    pub fn session_id(&self) -> u32 {
        self.session.session_id().unwrap_or(0)
    }

    /// The server's capabilities.
    #[must_use]
    pub fn capabilities(&self) -> &Capabilities {
        self.session.capabilities()
    }

    /// Notifications dropped because [`Limits::max_notifications`](crate::Limits) were
    /// already waiting unread (the oldest go first).
    #[must_use]
    pub fn dropped_notifications(&self) -> u64 {
        self.dropped_notifications
    }

    /// Replies without a usable message-id dropped because
    /// [`Limits::max_unmatched_replies`](crate::Limits) were already kept (oldest first).
    #[must_use]
    pub fn dropped_unmatched_replies(&self) -> u64 {
        self.dropped_unmatched
    }

    /// Notifications received and not yet taken by [`Client::next_notification`].
    #[must_use]
    pub fn queued_notifications(&self) -> usize {
        self.notifications.len()
    }

    /// Bounds the wait for each RPC's reply (`None`, the default: no bound); a reply that
    /// takes longer fails with [`ClientError::Timeout`]`(`[`Phase::Rpc`]`)`. The session
    /// should then be dropped: the reply may still arrive.
    pub fn set_rpc_timeout(&mut self, timeout: Option<Duration>) {
        self.rpc_timeout = timeout;
    }

    /// Reads more while waiting for a reply, within `deadline` if there is one.
    async fn read_for_reply(
        &mut self,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<(), ClientError> {
        match deadline {
            Some(d) => tokio::time::timeout_at(d, self.read_more())
                .await
                .map_err(|_| ClientError::Timeout(Phase::Rpc))?,
            None => self.read_more().await,
        }
    }

    fn rpc_deadline(&self) -> Option<tokio::time::Instant> {
        self.rpc_timeout.map(|t| tokio::time::Instant::now() + t)
    }

    /// The underlying sans-IO session.
    #[must_use]
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The transport.
    pub fn get_ref(&self) -> &S {
        &self.io
    }

    async fn flush_tx(&mut self) -> Result<(), ClientError> {
        while let Some(b) = self.session.poll_transmit() {
            self.io.write_all(&b).await?;
        }
        self.io.flush().await?;
        Ok(())
    }

    async fn read_more(&mut self) -> Result<(), ClientError> {
        let n = self.io.read(&mut self.rbuf).await?;
        match self.rbuf.get(..n) {
            Some(b) if n > 0 => self.session.handle_bytes(b),
            _ => self.session.handle_eof(),
        }
        self.drain_events();
        Ok(())
    }

    fn drain_events(&mut self) {
        while let Some(ev) = self.session.poll_event() {
            match ev {
                Event::Ready { session_id } => tracing::debug!(session_id, "netconf session ready"),
                Event::Reply { message_id, reply } => {
                    self.replies.insert(message_id, reply);
                }
                Event::ReplyPart { message_id, data } => {
                    if self.streaming == Some(message_id) {
                        self.parts.push_back(data);
                    }
                }
                Event::ReplyEnd { message_id } => {
                    if self.streaming == Some(message_id) {
                        self.parts_end = true;
                    }
                }
                Event::UnmatchedReply(r) => {
                    let max = self.session.config().limits.max_unmatched_replies;
                    if push_bounded(&mut self.unmatched, r, max) {
                        self.dropped_unmatched += 1;
                        tracing::warn!(max, "unmatched reply queue full: oldest dropped");
                    }
                }
                Event::Notification(n) => {
                    let max = self.session.config().limits.max_notifications;
                    if push_bounded(&mut self.notifications, n, max) {
                        self.dropped_notifications += 1;
                        tracing::warn!(max, "notification queue full: oldest dropped");
                    }
                }
                Event::PeerError(e) => tracing::debug!(%e, "undecodable message from peer"),
                Event::Closed { reason } => self.closed = Some(reason),
            }
        }
    }

    /// Sends an RPC without waiting; returns its message-id (several may be in flight).
    pub async fn send(&mut self, op: &Operation) -> Result<u64, ClientError> {
        let id = self.session.send_rpc(op)?;
        self.flush_tx().await?;
        Ok(id)
    }

    /// Waits for the reply to `message_id` (other replies and notifications are kept).
    pub async fn wait_reply(&mut self, message_id: u64) -> Result<RpcReply, ClientError> {
        let deadline = self.rpc_deadline();
        loop {
            if let Some(r) = self.replies.remove(&message_id) {
                return Ok(r);
            }
            // A reply without usable message-id (malformed-message) answers the only RPC
            // in flight.
            if self.session.in_flight() == 1
                && let Some(r) = self.unmatched.pop_front()
            {
                return Ok(r);
            }
            if let Some(r) = &self.closed {
                return Err(ClientError::Closed(r.clone()));
            }
            self.read_for_reply(deadline).await?;
        }
    }

    /// Sends `op` and waits for its reply (which may carry `<rpc-error>`s).
    pub async fn rpc(&mut self, op: &Operation) -> Result<RpcReply, ClientError> {
        let id = self.send(op).await?;
        self.wait_reply(id).await
    }

    /// Sends `op`; an `<rpc-error>` of severity error becomes [`ClientError::Rpc`].
    pub async fn request(&mut self, op: &Operation) -> Result<RpcReply, ClientError> {
        let r = self.rpc(op).await?;
        match r.first_error() {
            Some(e) => Err(ClientError::Rpc(Box::new(e.clone()))),
            None => Ok(r),
        }
    }

    async fn ok(&mut self, op: &Operation) -> Result<(), ClientError> {
        let r = self.request(op).await?;
        match r.content {
            ReplyContent::Ok => Ok(()),
            _ => Err(ClientError::UnexpectedReply("expected <ok/>")),
        }
    }

    async fn data(&mut self, op: &Operation) -> Result<Data, ClientError> {
        let r = self.request(op).await?;
        match r.content {
            ReplyContent::Data(d) => Ok(d),
            // an empty result may come as <data/> or nothing
            ReplyContent::None | ReplyContent::Ok => Ok(Data::new(bytes::Bytes::new())),
            _ => Err(ClientError::UnexpectedReply("expected <data>")),
        }
    }

    /// `<get>` (RFC 6241 §7.7).
    pub async fn get(&mut self, filter: Option<Filter>) -> Result<Data, ClientError> {
        self.data(&Operation::get(filter)).await
    }

    /// `<get>` whose `<data>` is walked while it arrives: `on_event` sees every event inside
    /// `<data>` with its depth (1 for a top-level element), and the reply is never held
    /// whole: memory stays bounded by one read plus the largest tag or text (see
    /// [`ReplyStream`]). Returns the most bytes the walk held at once.
    pub async fn get_streaming<F>(
        &mut self,
        filter: Option<Filter>,
        on_event: F,
    ) -> Result<usize, ClientError>
    where
        F: FnMut(XmlEvent<'_>, usize),
    {
        self.rpc_streaming(&Operation::get(filter), on_event).await
    }

    /// Sends `op` and walks the `<data>` of its reply while it arrives, as
    /// [`Client::get_streaming`] does; an `<rpc-error>` of severity error becomes
    /// [`ClientError::Rpc`] (a reply without `<data>`, e.g. `<ok/>`, walks nothing).
    pub async fn rpc_streaming<F>(
        &mut self,
        op: &Operation,
        mut on_event: F,
    ) -> Result<usize, ClientError>
    where
        F: FnMut(XmlEvent<'_>, usize),
    {
        let id = self.session.send_rpc_streaming(op)?;
        self.streaming = Some(id);
        self.parts.clear();
        self.parts_end = false;
        let result = self.walk_streaming(id, &mut on_event).await;
        self.streaming = None;
        self.parts.clear();
        self.parts_end = false;
        result
    }

    async fn walk_streaming(
        &mut self,
        id: u64,
        on_event: &mut dyn FnMut(XmlEvent<'_>, usize),
    ) -> Result<usize, ClientError> {
        self.flush_tx().await?;
        let deadline = self.rpc_deadline();
        let mut walk = ReplyStream::new(&self.session.config().limits);
        loop {
            while let Some(p) = self.parts.pop_front() {
                walk.push(p);
            }
            if self.parts_end {
                walk.finish();
            }
            loop {
                let depth = walk.depth();
                match walk.next_event().map_err(ClientError::Decode)? {
                    StreamStep::Event(ev) => {
                        // a start is at its own depth, text and end at the open element's
                        let d = match ev {
                            XmlEvent::Start { .. } => depth.saturating_add(1),
                            XmlEvent::End | XmlEvent::Text(_) => depth,
                        };
                        on_event(ev, d);
                    }
                    StreamStep::NeedMore => break,
                    StreamStep::Done => {
                        if let Some(e) = walk.reply().and_then(RpcReply::first_error) {
                            return Err(ClientError::Rpc(Box::new(e.clone())));
                        }
                        return Ok(walk.high_water());
                    }
                }
            }
            // A reply without usable message-id (malformed-message) answers the only RPC
            // in flight.
            if self.session.in_flight() == 1
                && self.session.is_streaming(id)
                && let Some(r) = self.unmatched.pop_front()
            {
                return match r.first_error() {
                    Some(e) => Err(ClientError::Rpc(Box::new(e.clone()))),
                    None => Err(ClientError::UnexpectedReply("reply without message-id")),
                };
            }
            if let Some(r) = &self.closed {
                return Err(ClientError::Closed(r.clone()));
            }
            self.read_for_reply(deadline).await?;
        }
    }

    /// `<get>` with an RFC 6243 with-defaults mode.
    pub async fn get_with_defaults(
        &mut self,
        filter: Option<Filter>,
        with_defaults: WithDefaults,
    ) -> Result<Data, ClientError> {
        self.data(&Operation::Get {
            filter,
            with_defaults: Some(with_defaults),
        })
        .await
    }

    /// `<get-config>` (RFC 6241 §7.1).
    pub async fn get_config(
        &mut self,
        source: Datastore,
        filter: Option<Filter>,
    ) -> Result<Data, ClientError> {
        self.data(&Operation::get_config(source, filter)).await
    }

    /// `<edit-config>` (RFC 6241 §7.2).
    pub async fn edit_config(&mut self, edit: EditConfig) -> Result<(), ClientError> {
        self.ok(&Operation::EditConfig(edit)).await
    }

    /// `<copy-config>` (RFC 6241 §7.3).
    pub async fn copy_config(
        &mut self,
        target: Datastore,
        source: Datastore,
    ) -> Result<(), ClientError> {
        self.ok(&Operation::CopyConfig { target, source }).await
    }

    /// `<delete-config>` (RFC 6241 §7.4).
    pub async fn delete_config(&mut self, target: Datastore) -> Result<(), ClientError> {
        self.ok(&Operation::DeleteConfig { target }).await
    }

    /// `<lock>` (RFC 6241 §7.5).
    pub async fn lock(&mut self, target: Datastore) -> Result<(), ClientError> {
        self.ok(&Operation::Lock { target }).await
    }

    /// `<unlock>` (RFC 6241 §7.6).
    pub async fn unlock(&mut self, target: Datastore) -> Result<(), ClientError> {
        self.ok(&Operation::Unlock { target }).await
    }

    /// `<commit>` (RFC 6241 §8.3.4.1 / §8.4.5.1).
    pub async fn commit(&mut self, commit: Commit) -> Result<(), ClientError> {
        self.ok(&Operation::Commit(commit)).await
    }

    /// `<cancel-commit>` (RFC 6241 §8.4.4.1).
    pub async fn cancel_commit(&mut self, persist_id: Option<String>) -> Result<(), ClientError> {
        self.ok(&Operation::CancelCommit { persist_id }).await
    }

    /// `<discard-changes>` (RFC 6241 §8.3.4.2).
    pub async fn discard_changes(&mut self) -> Result<(), ClientError> {
        self.ok(&Operation::DiscardChanges).await
    }

    /// `<validate>` (RFC 6241 §8.6.4.1).
    pub async fn validate(&mut self, source: Datastore) -> Result<(), ClientError> {
        self.ok(&Operation::Validate { source }).await
    }

    /// `<kill-session>` (RFC 6241 §7.9).
    pub async fn kill_session(&mut self, session_id: u32) -> Result<(), ClientError> {
        self.ok(&Operation::KillSession { session_id }).await
    }

    /// `<get-schema>` (RFC 6022 §3.1): the schema text.
    pub async fn get_schema(
        &mut self,
        identifier: &str,
        version: Option<&str>,
        format: Option<&str>,
    ) -> Result<String, ClientError> {
        let d = self
            .data(&Operation::GetSchema {
                identifier: identifier.to_owned(),
                version: version.map(str::to_owned),
                format: format.map(str::to_owned),
            })
            .await?;
        let mut r = d.reader().map_err(ClientError::Decode)?;
        let mut text = String::new();
        while let Some(ev) = r.next_event().map_err(ClientError::Decode)? {
            if let XmlEvent::Text(t) = ev {
                text.push_str(t);
            }
        }
        Ok(text)
    }

    /// RFC 5277 `<create-subscription>` to `stream` (default `NETCONF`).
    pub async fn create_subscription(
        &mut self,
        stream: Option<&str>,
        filter: Option<Filter>,
    ) -> Result<(), ClientError> {
        self.ok(&Operation::CreateSubscription {
            stream: stream.map(str::to_owned),
            filter,
            start_time: None,
            stop_time: None,
        })
        .await
    }

    /// The next notification (waits for one to arrive).
    pub async fn next_notification(&mut self) -> Result<Notification, ClientError> {
        loop {
            if let Some(n) = self.notifications.pop_front() {
                return Ok(n);
            }
            if let Some(r) = &self.closed {
                return Err(ClientError::Closed(r.clone()));
            }
            self.read_more().await?;
        }
    }

    /// `<close-session>`, then shuts the transport down.
    pub async fn close(mut self) -> Result<(), ClientError> {
        self.ok(&Operation::CloseSession).await?;
        let _ = self.io.shutdown().await;
        Ok(())
    }
}

#[cfg(all(test, any(feature = "ssh", feature = "tls")))]
mod tests {
    use super::*;

    const STALL: Duration = Duration::from_millis(100);

    #[tokio::test]
    async fn each_phase_is_named() {
        // A server that never sends its hello.
        let (io, _server) = tokio::io::duplex(1024);
        let e = Deadline::after(STALL)
            .hello(io, Config::default())
            .await
            .unwrap_err();
        assert!(matches!(e, ClientError::Timeout(Phase::Hello)), "{e}");
        // A connect that never completes (what a black-holed address does).
        let e = Deadline::after(STALL)
            .run(
                Phase::Connect,
                std::future::pending::<Result<(), ClientError>>(),
            )
            .await
            .unwrap_err();
        assert_eq!(e.to_string(), "timed out during TCP connect");
    }
}
