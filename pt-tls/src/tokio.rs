//! Async adapter: runs a [`Session`] over a `tokio_rustls` stream (feature `tokio`).
//!
//! The only file tree of the crate that sees sockets and time. TLS (rustls, ring provider) is
//! the caller's, or built from PEM files by [`tls`]; the TLS role of the stream (client or
//! server) makes this end the PT-TLS Initiator or Responder.
//!
//! - [`connect`] (NEA Client: TCP, TLS and Negotiation under one timeout) and
//!   [`PtTlsConnection::server`] / [`PtTlsConnection::client`] over an existing TLS stream;
//!   [`listener::Listener`] accepts thousands of NEA Clients with per-source limits.
//! - Negotiation (version, SASL) runs under [`Config::handshake_timeout`]; its outcome
//!   ([`Negotiated`]: SASL mechanism and identity, failed runs, the peer's identity) and the
//!   peer certificate's [`CertIdentity`] ([`PtTlsConnection::peer_identity`]) are kept on the
//!   connection.
//! - [`PtTlsConnection::recv`] returns everything the peer does ([`Received`]: a batch, a
//!   PT-TLS Error, the close and its reason) and is cancellation-safe.
//!
//! # Cancellation safety
//!
//! [`PtTlsConnection::recv`] may be dropped at any `.await` (a losing `tokio::select!` branch,
//! a timeout) without losing or tearing anything: bytes read from TLS go into the session at
//! once, whole events wait in the connection's queue for the next call, and output is written
//! from a queue that only advances by what the stream accepted, so a cancelled write resumes
//! where it stopped at the next call (`recv`, [`PtTlsConnection::send_batch`] or
//! [`PtTlsConnection::flush`]). A driver can therefore wait for the next batch and for a
//! local command at once:
//!
//! ```no_run
//! # async fn f(mut conn: pt_tls::tokio::PtTlsConnection<tokio::net::TcpStream>,
//! #            mut commands: tokio::sync::mpsc::Receiver<bytes::Bytes>)
//! #   -> Result<(), pt_tls::tokio::AdapterError> {
//! use pt_tls::tokio::Received;
//! loop {
//!     tokio::select! {
//!         r = conn.recv() => match r? {
//!             Received::Batch(b) => { /* pb_tnc.handle_batch(b) … conn.send_batch(reply) */ }
//!             Received::PeerError(e) => tracing::debug!(?e.code, "peer sent a PT-TLS Error"),
//!             Received::Closed(reason) => break tracing::debug!(?reason, "closed"),
//!             _ => {} // #[non_exhaustive]
//!         },
//!         Some(batch) = commands.recv() => conn.send_batch(batch).await?, // e.g. a retry
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! `send_batch` itself is not meant to be raced: if it is cancelled, the batch is still
//! queued whole and goes out with the next call.

pub mod listener;
pub mod tls;

use core::time::Duration;
use std::collections::VecDeque;
use std::io;
use std::sync::Arc;

use bytes::{Buf, Bytes};
use nea_wire::x509::CertIdentity;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, ToSocketAddrs};
use tokio_rustls::{TlsConnector, TlsStream};

use crate::wire::MechanismName;
use crate::{
    CloseReason, Config, Error, Event, PtTlsError, SaslResultCode, Session, Side, TlsRole,
};

/// Errors of the adapter: I/O, a protocol close, a timeout, or API misuse.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdapterError {
    /// Connecting, the TLS handshake, reading or writing failed.
    #[error("pt-tls i/o: {0}")]
    Io(#[from] io::Error),
    /// The session closed for a protocol reason during Negotiation (a PT-TLS Error sent or
    /// received, failed authentication).
    #[error("pt-tls session closed: {0:?}")]
    Closed(CloseReason),
    /// The peer ended the connection before Negotiation completed.
    #[error("pt-tls connection ended during negotiation")]
    EndedDuringNegotiation,
    /// Negotiation (and, in [`connect`] and the listener, TCP and TLS set-up before it) did
    /// not complete within [`Config::handshake_timeout`]; the connection is dropped.
    #[error("pt-tls handshake did not complete within {after:?}")]
    HandshakeTimeout {
        /// The timeout that expired.
        after: Duration,
    },
    /// Misuse of the session API (e.g. a batch after close).
    #[error(transparent)]
    Session(#[from] Error),
}

/// One thing the peer did, as returned by [`PtTlsConnection::recv`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Received {
    /// A PB-TNC batch (hand it to `pb-tnc`).
    Batch(Bytes),
    /// The peer sent a PT-TLS Error. After a non-fatal one (Type Not Supported) the session
    /// goes on; a fatal one is followed by `Closed(CloseReason::ReceivedError(code))`.
    PeerError(PtTlsError),
    /// The session is closed and TLS shut down; every later `recv` returns this again.
    /// [`CloseReason::PeerClosed`]: the peer ended the stream; `SentError`/`ReceivedError`:
    /// a fatal PT-TLS Error; `Local`: [`PtTlsConnection::close`] was called.
    Closed(CloseReason),
}

/// The outcome of Negotiation, kept by the connection ([`PtTlsConnection::negotiated`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Negotiated {
    /// The SASL mechanism of the last successful run (both sides), `None` without SASL.
    pub sasl_mechanism: Option<MechanismName>,
    /// NEA Server: the identity the last successful SASL run authenticated.
    pub sasl_identity: Option<String>,
    /// Result codes of the SASL runs that failed, in order.
    pub failed_sasl_runs: Vec<SaslResultCode>,
    /// Non-fatal PT-TLS Errors the peer sent during Negotiation.
    pub peer_errors: Vec<PtTlsError>,
    /// The identity of the peer: [`Negotiated::sasl_identity`] if SASL authenticated one,
    /// else the name in the peer's TLS certificate ([`cert_identity_name`]). Only as
    /// trustworthy as the rustls certificate verifier that admitted the certificate.
    pub identity: Option<String>,
}

/// The name a certificate identity stands for: the RFC 4514 subject, or, for a certificate
/// with an empty subject, its first dNSName, else its first rfc822Name.
pub fn cert_identity_name(id: &CertIdentity) -> Option<&str> {
    if !id.subject.is_empty() {
        return Some(&id.subject);
    }
    id.dns_names
        .first()
        .or(id.emails.first())
        .map(String::as_str)
}

/// A PT-TLS connection over a TLS stream, client or server.
///
/// One pointer: the state (TLS included, about 2 KB) lives on the heap, so a task that holds
/// the connection across awaits (and moves it, e.g. into a `close` future) does not carry
/// copies of it in its future. An idle connection holds no read buffer of its own: plaintext
/// is taken from rustls's buffer as it arrives.
pub struct PtTlsConnection<IO> {
    c: Box<Conn<IO>>,
}

/// The state of a [`PtTlsConnection`].
struct Conn<IO> {
    stream: TlsStream<IO>,
    session: Session,
    handshake_timeout: Duration,
    peer_identity: Option<CertIdentity>,
    negotiated: Negotiated,
    is_negotiated: bool,
    /// Events taken from the session, not yet returned.
    events: VecDeque<Event>,
    /// Output taken from the session, not yet accepted by the stream (front partly written).
    pending: VecDeque<Bytes>,
    needs_flush: bool,
    shut_down: bool,
    close_reason: Option<CloseReason>,
    /// Listener bookkeeping (per-source connection count), released on drop.
    _guard: Option<listener::SourceGuard>,
}

impl<IO> core::fmt::Debug for PtTlsConnection<IO> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PtTlsConnection")
            .field("session", &self.c.session)
            .field("negotiated", &self.c.negotiated)
            .field(
                "peer_certificate",
                &self.c.session.peer_certificate().is_some(),
            )
            .finish_non_exhaustive()
    }
}

/// NEA Client: connects over TCP, runs the TLS handshake against `server_name` and PT-TLS
/// Negotiation, all within [`Config::handshake_timeout`].
pub async fn connect(
    addr: impl ToSocketAddrs,
    server_name: ServerName<'static>,
    tls: Arc<rustls::ClientConfig>,
    config: Arc<Config>,
) -> Result<PtTlsConnection<TcpStream>, AdapterError> {
    let after = config.handshake_timeout;
    let setup = async {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let stream = TlsConnector::from(tls).connect(server_name, tcp).await?;
        let mut c = PtTlsConnection::new(config, Side::Client, stream);
        c.negotiate_untimed().await?;
        Ok(c)
    };
    tokio::time::timeout(after, setup)
        .await
        .map_err(|_| AdapterError::HandshakeTimeout { after })?
}

impl<IO: AsyncRead + AsyncWrite + Unpin> PtTlsConnection<IO> {
    /// Wraps a TLS stream whose handshake is complete; `side` is the NEA role of this end.
    /// Call [`PtTlsConnection::negotiate`] next (or use `client`/`server`, which do).
    pub fn new(config: Arc<Config>, side: Side, stream: impl Into<TlsStream<IO>>) -> Self {
        let stream = stream.into();
        let tls_role = match stream {
            TlsStream::Client(_) => TlsRole::Initiator,
            TlsStream::Server(_) => TlsRole::Responder,
        };
        // rustls keeps the peer's chain for the connection's lifetime: no copy here.
        let peer_certificate = stream
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|c| c.first());
        let peer_identity = peer_certificate.and_then(|c| {
            CertIdentity::from_der(c)
                .inspect_err(|e| tracing::debug!(%e, "pt-tls: peer certificate not readable"))
                .ok()
        });
        let der = peer_certificate.map(|c| Bytes::copy_from_slice(c.as_ref()));
        let handshake_timeout = config.handshake_timeout;
        let c = Box::new(Conn {
            session: Session::new(config, side, tls_role, der),
            stream,
            handshake_timeout,
            peer_identity,
            negotiated: Negotiated::default(),
            is_negotiated: false,
            events: VecDeque::new(),
            pending: VecDeque::new(),
            needs_flush: false,
            shut_down: false,
            close_reason: None,
            _guard: None,
        });
        Self { c }
    }

    /// NEA Client over a TLS client stream: runs Negotiation within
    /// [`Config::handshake_timeout`].
    pub async fn client(
        config: Arc<Config>,
        stream: tokio_rustls::client::TlsStream<IO>,
    ) -> Result<Self, AdapterError> {
        let mut c = Self::new(config, Side::Client, stream);
        c.negotiate().await?;
        Ok(c)
    }

    /// NEA Server over an accepted TLS stream: runs Negotiation within
    /// [`Config::handshake_timeout`] (a client that sends nothing is dropped when it expires).
    pub async fn server(
        config: Arc<Config>,
        stream: tokio_rustls::server::TlsStream<IO>,
    ) -> Result<Self, AdapterError> {
        let mut c = Self::new(config, Side::Server, stream);
        c.negotiate().await?;
        Ok(c)
    }

    /// The peer's TLS end-entity certificate, if it presented one.
    pub fn peer_certificate(&self) -> Option<&CertificateDer<'static>> {
        self.c
            .stream
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|c| c.first())
    }

    /// The identity in the peer's TLS certificate (subject, SANs, fingerprint), if it
    /// presented one that parses.
    pub fn peer_identity(&self) -> Option<&CertIdentity> {
        self.c.peer_identity.as_ref()
    }

    /// Who the peer is: the SASL-authenticated identity (NEA Server), else the name in its
    /// certificate ([`cert_identity_name`]: the RFC 4514 subject). The same value as
    /// [`Negotiated::identity`], also before Negotiation ends.
    pub fn authenticated_identity(&self) -> Option<&str> {
        self.c
            .session
            .authenticated_identity()
            .or_else(|| self.c.peer_identity.as_ref().and_then(cert_identity_name))
    }

    /// The outcome of Negotiation (complete once [`PtTlsConnection::negotiate`] returned).
    pub fn negotiated(&self) -> &Negotiated {
        &self.c.negotiated
    }

    /// The state machine (read-only).
    pub fn session(&self) -> &Session {
        &self.c.session
    }

    /// The TLS stream, e.g. for the negotiated protocol version or the TCP peer address.
    pub fn tls(&self) -> &TlsStream<IO> {
        &self.c.stream
    }

    /// Whether output is queued that the stream has not accepted yet (e.g. after a cancelled
    /// call); [`PtTlsConnection::flush`] writes it.
    pub fn has_pending_output(&self) -> bool {
        !self.c.pending.is_empty() || self.c.needs_flush
    }

    /// Moves the session's output and events into the connection's queues (no I/O).
    fn pump(&mut self) {
        while let Some(t) = self.c.session.poll_transmit() {
            if !t.is_empty() {
                self.c.pending.push_back(t);
            }
        }
        while let Some(e) = self.c.session.poll_event() {
            self.record(&e);
            self.c.events.push_back(e);
        }
    }

    /// Keeps what Negotiation reports in [`Negotiated`].
    fn record(&mut self, e: &Event) {
        let n = &mut self.c.negotiated;
        match e {
            Event::Authenticated { identity } => {
                n.sasl_mechanism = self.c.session.authenticated_mechanism().cloned();
                if identity.is_some() {
                    n.sasl_identity.clone_from(identity);
                }
            }
            Event::AuthenticationFailed { code } => n.failed_sasl_runs.push(*code),
            Event::PeerError(err) if !self.c.is_negotiated => n.peer_errors.push(err.clone()),
            Event::Negotiated => {
                self.c.is_negotiated = true;
                let id = self
                    .c
                    .session
                    .authenticated_identity()
                    .or_else(|| self.c.peer_identity.as_ref().and_then(cert_identity_name));
                self.c.negotiated.identity = id.map(str::to_owned);
            }
            _ => {}
        }
    }

    /// Writes queued output; cancellation-safe (the queue only advances by what the stream
    /// accepted). A write failure means the peer is gone: the session closes with
    /// [`CloseReason::PeerClosed`].
    pub async fn flush(&mut self) -> Result<(), AdapterError> {
        self.pump();
        let r = self.write_pending().await;
        if r.is_err() {
            self.c.pending.clear();
            self.c.needs_flush = false;
            self.c.session.handle_transport_closed();
            self.pump();
        }
        Ok(r?)
    }

    async fn write_pending(&mut self) -> io::Result<()> {
        while let Some(front) = self.c.pending.front_mut() {
            let n = self.c.stream.write(front).await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            self.c.needs_flush = true;
            front.advance(n.min(front.len()));
            if front.is_empty() {
                self.c.pending.pop_front();
            }
        }
        if self.c.needs_flush {
            self.c.stream.flush().await?;
            self.c.needs_flush = false;
        }
        Ok(())
    }

    /// The next event, reading from TLS as needed; `None` once the session is closed and its
    /// `Closed` event was returned. Cancellation-safe (see the module docs).
    async fn next_event(&mut self) -> Result<Option<Event>, AdapterError> {
        loop {
            if let Err(e) = self.flush().await {
                // The peer is gone: `flush` closed the session (PeerClosed) behind what the
                // peer sent before, which stays deliverable; `send_batch` reports the error.
                tracing::debug!(%e, "pt-tls: write failed");
            }
            if let Some(front) = self.c.events.front() {
                if matches!(front, Event::Closed { .. }) && !self.c.shut_down {
                    // RFC 6876 §3.9: after a fatal error both ends close TLS. Bounded, so a
                    // peer that stopped reading cannot hold the task.
                    let _ =
                        tokio::time::timeout(self.c.handshake_timeout, self.c.stream.shutdown())
                            .await;
                    self.c.shut_down = true;
                }
                let e = self.c.events.pop_front();
                if let Some(Event::Closed { reason }) = &e {
                    self.c.close_reason = Some(reason.clone());
                }
                return Ok(e);
            }
            if self.c.session.is_closed() {
                return Ok(None);
            }
            // Plaintext straight from rustls's buffer (cancellation-safe: nothing is taken
            // until `consume`), so an idle connection holds no read buffer of its own.
            let c = &mut *self.c;
            match c.stream.fill_buf().await {
                Ok([]) => c.session.handle_transport_closed(),
                Ok(data) => {
                    let n = data.len();
                    c.session.handle_bytes(data);
                    c.stream.consume(n);
                }
                // A TCP end without TLS close_notify: the peer is gone all the same.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    self.c.session.handle_transport_closed();
                }
                Err(e) => {
                    self.c.session.handle_transport_closed();
                    self.pump();
                    return Err(e.into());
                }
            }
        }
    }

    /// Runs Negotiation (version, optional SASL) until Data Transport, within
    /// [`Config::handshake_timeout`]; returns its outcome. On timeout the session is closed
    /// and the connection should be dropped.
    pub async fn negotiate(&mut self) -> Result<&Negotiated, AdapterError> {
        let after = self.c.handshake_timeout;
        match tokio::time::timeout(after, self.negotiate_untimed()).await {
            Ok(r) => r?,
            Err(_) => {
                tracing::debug!(?after, "pt-tls: handshake timeout");
                self.c.session.close();
                self.pump();
                self.c.pending.clear();
                return Err(AdapterError::HandshakeTimeout { after });
            }
        }
        Ok(&self.c.negotiated)
    }

    async fn negotiate_untimed(&mut self) -> Result<(), AdapterError> {
        while !self.c.is_negotiated {
            match self.next_event().await? {
                Some(Event::Closed { reason }) => {
                    return Err(match reason {
                        CloseReason::PeerClosed => AdapterError::EndedDuringNegotiation,
                        other => AdapterError::Closed(other),
                    });
                }
                None => return Err(AdapterError::EndedDuringNegotiation),
                Some(Event::Batch(b)) => {
                    // Cannot come before Negotiated (the session refuses batches until Data
                    // Transport); keep it for `recv` all the same.
                    self.c.events.push_front(Event::Batch(b));
                    return Ok(());
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Sends one PB-TNC batch and writes it out. If this call is cancelled the batch stays
    /// queued whole and the next call (or [`PtTlsConnection::flush`]) finishes it.
    pub async fn send_batch(&mut self, batch: Bytes) -> Result<(), AdapterError> {
        self.c.session.send_batch(batch)?;
        self.flush().await
    }

    /// Waits for the next thing the peer does: a batch, a PT-TLS Error, or the close (with
    /// its reason; repeated on every later call). Cancellation-safe: see the module docs.
    ///
    /// `Err` only for a read error other than the end of the stream (e.g. a reset); the
    /// session is then closed and the next call returns `Closed(PeerClosed)`. A failed write
    /// of queued output also ends in `Closed(PeerClosed)`, after whatever the peer sent
    /// before.
    pub async fn recv(&mut self) -> Result<Received, AdapterError> {
        loop {
            match self.next_event().await? {
                Some(Event::Batch(b)) => return Ok(Received::Batch(b)),
                Some(Event::PeerError(e)) => return Ok(Received::PeerError(e)),
                Some(Event::Closed { reason }) => return Ok(Received::Closed(reason)),
                // Negotiation events (recorded in `negotiated`).
                Some(_) => {}
                None => {
                    let reason = self.c.close_reason.clone().unwrap_or(CloseReason::Local);
                    return Ok(Received::Closed(reason));
                }
            }
        }
    }

    /// Closes the session and the TLS stream (close_notify), writing what is queued first.
    pub async fn close(mut self) -> Result<(), AdapterError> {
        self.c.session.close();
        self.flush().await?;
        if !self.c.shut_down {
            self.c.stream.shutdown().await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_is_one_pointer() {
        // A session task holds (and moves) its connection across awaits: the TLS state must
        // not be inline in the task's future.
        assert_eq!(size_of::<PtTlsConnection<TcpStream>>(), size_of::<usize>());
    }
}
