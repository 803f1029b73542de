//! The tokio driver (feature `tokio`): runs a broker's connection over a PT-TLS connection
//! ([`pt_tls::tokio::PtTlsConnection`]), client or server side, draining both state machines.
//!
//! `if-imc` and `if-imv` implement [`Driven`] for their brokers and name the result
//! (`if_imc::tokio::ClientSession`, `if_imv::tokio::ServerSession`). The broker sits behind a
//! `std::sync::Mutex`, locked only around the sans-IO calls (never across an `.await`), so one
//! broker serves every connection of a manager while each connection runs in its own task.
//!
//! [`Session::next_event`] is cancellation-safe: it can race a local command in
//! `tokio::select!` (e.g. the manager asking for a re-assessment) without losing a batch.

use std::sync::Mutex;

use bytes::Bytes;
use pt_tls::tokio::{AdapterError, PtTlsConnection, Received};
use pt_tls::{CloseReason, PtTlsError};
use tokio::io::{AsyncRead, AsyncWrite};

/// A broker whose connections the driver can run.
pub trait Driven {
    /// One connection of this broker.
    type Connection;
    /// What a connection reports.
    type Event;

    /// Hands a received PB-TNC batch to the broker.
    fn handle_batch(&mut self, conn: &mut Self::Connection, batch: Bytes);
    /// The transport ended.
    fn handle_transport_closed(&mut self, conn: &mut Self::Connection);
    /// Ends the connection (CLOSE batch).
    fn close(&mut self, conn: &mut Self::Connection);
    /// The connection's next PB-TNC batch to send.
    fn poll_transmit(conn: &mut Self::Connection) -> Option<Bytes>;
    /// The connection's next event.
    fn poll_event(conn: &mut Self::Connection) -> Option<Self::Event>;
    /// Whether the connection ended.
    fn is_closed(conn: &Self::Connection) -> bool;
}

/// Errors of the driver.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// The PT-TLS connection failed (I/O, a timeout, a protocol close).
    #[error(transparent)]
    Transport(#[from] AdapterError),
    /// A thread panicked while holding the broker's lock.
    #[error("the broker's lock is poisoned")]
    Poisoned,
    /// The connection ended and its last event was already returned.
    #[error("the connection is closed")]
    Closed,
}

/// One broker connection over one PT-TLS connection.
#[derive(Debug)]
pub struct Session<B: Driven, IO> {
    pt: PtTlsConnection<IO>,
    conn: B::Connection,
    transport_closed: Option<CloseReason>,
    peer_errors: Vec<PtTlsError>,
}

fn lock<B>(broker: &Mutex<B>) -> Result<std::sync::MutexGuard<'_, B>, DriverError> {
    broker.lock().map_err(|_| DriverError::Poisoned)
}

impl<B: Driven, IO: AsyncRead + AsyncWrite + Unpin> Session<B, IO> {
    /// Joins a PT-TLS connection in Data Transport and a broker connection.
    pub fn new(pt: PtTlsConnection<IO>, conn: B::Connection) -> Self {
        Self {
            pt,
            conn,
            transport_closed: None,
            peer_errors: Vec::new(),
        }
    }

    /// The broker connection.
    pub fn connection(&self) -> &B::Connection {
        &self.conn
    }

    /// The PT-TLS connection (peer identity, negotiated SASL mechanism, TLS details).
    pub fn transport(&self) -> &PtTlsConnection<IO> {
        &self.pt
    }

    /// Why PT-TLS closed, once it did.
    pub fn transport_close_reason(&self) -> Option<&CloseReason> {
        self.transport_closed.as_ref()
    }

    /// Non-fatal PT-TLS Errors the peer sent during data transport.
    pub fn peer_errors(&self) -> &[PtTlsError] {
        &self.peer_errors
    }

    /// Writes every batch the broker queued.
    pub async fn flush(&mut self) -> Result<(), DriverError> {
        while let Some(b) = B::poll_transmit(&mut self.conn) {
            if self.transport_closed.is_some() {
                continue;
            }
            // `send_batch` queues the batch before its first await: a cancelled call still
            // sends it with the next one.
            self.pt.send_batch(b).await?;
        }
        if self.pt.has_pending_output() && self.transport_closed.is_none() {
            self.pt.flush().await?;
        }
        Ok(())
    }

    /// Runs `f` on the broker and this connection (a command such as a retry request), then
    /// sends what it queued.
    pub async fn command<R>(
        &mut self,
        broker: &Mutex<B>,
        f: impl FnOnce(&mut B, &mut B::Connection) -> R,
    ) -> Result<R, DriverError> {
        let r = f(&mut *lock(broker)?, &mut self.conn);
        self.flush().await?;
        Ok(r)
    }

    /// The next event of the broker connection, reading batches from PT-TLS and sending the
    /// broker's as needed. After the connection's last event (its close),
    /// [`DriverError::Closed`]. Cancellation-safe.
    pub async fn next_event(&mut self, broker: &Mutex<B>) -> Result<B::Event, DriverError> {
        loop {
            if let Some(ev) = B::poll_event(&mut self.conn) {
                return Ok(ev);
            }
            self.flush().await?;
            if let Some(ev) = B::poll_event(&mut self.conn) {
                return Ok(ev);
            }
            if B::is_closed(&self.conn) {
                return Err(DriverError::Closed);
            }
            if self.transport_closed.is_some() {
                lock(broker)?.handle_transport_closed(&mut self.conn);
                continue;
            }
            match self.pt.recv().await? {
                Received::Batch(b) => lock(broker)?.handle_batch(&mut self.conn, b),
                Received::PeerError(e) => {
                    tracing::debug!(code = ?e.code, "peer sent a PT-TLS Error");
                    self.peer_errors.push(e);
                }
                Received::Closed(reason) => {
                    self.transport_closed = Some(reason);
                    lock(broker)?.handle_transport_closed(&mut self.conn);
                }
                _ => {}
            }
        }
    }

    /// Ends the broker connection (CLOSE batch unless it already ended) and closes TLS.
    pub async fn close(mut self, broker: &Mutex<B>) -> Result<(), DriverError> {
        if !B::is_closed(&self.conn) {
            lock(broker)?.close(&mut self.conn);
        }
        self.flush().await?;
        if self.transport_closed.is_none() {
            self.pt.close().await?;
        }
        Ok(())
    }
}
