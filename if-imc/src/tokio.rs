//! The TNC client over PT-TLS with tokio (feature `tokio`): see `tnc_if::tokio`.
//!
//! ```no_run
//! # async fn f(tls: std::sync::Arc<rustls::ClientConfig>) -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::{Arc, Mutex};
//! use if_imc::tokio::{ClientSession, ClientSessionExt};
//! let broker = Mutex::new(if_imc::Broker::new(if_imc::BrokerConfig::default()));
//! // broker.lock().unwrap().add_imc("os", Box::new(...))?;
//! let pt = pt_tls::tokio::connect(
//!     "manager.example:271",
//!     "manager.example".try_into()?,
//!     tls,
//!     Arc::new(pt_tls::Config::default()),
//! ).await?;
//! let mut session = ClientSession::start(&broker, pt, if_imc::ConnectionConfig::default()).await?;
//! let decision = session.run_until_decision(&broker).await?;
//! println!("{:?}", decision.state);
//! session.close(&broker).await?;
//! # Ok(()) }
//! ```

use std::sync::Mutex;

use bytes::Bytes;
use pt_tls::tokio::PtTlsConnection;
use tnc_if::tokio::{Driven, DriverError, Session};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::{Broker, BrokerError, Connection, ConnectionConfig, Decision, Event};

/// A TNC client connection over PT-TLS.
pub type ClientSession<IO> = Session<Broker, IO>;

impl Driven for Broker {
    type Connection = Connection;
    type Event = Event;

    fn handle_batch(&mut self, conn: &mut Connection, batch: Bytes) {
        Broker::handle_batch(self, conn, batch);
    }

    fn handle_transport_closed(&mut self, conn: &mut Connection) {
        Broker::handle_transport_closed(self, conn);
    }

    fn close(&mut self, conn: &mut Connection) {
        Broker::close(self, conn);
    }

    fn poll_transmit(conn: &mut Connection) -> Option<Bytes> {
        conn.poll_transmit()
    }

    fn poll_event(conn: &mut Connection) -> Option<Event> {
        conn.poll_event()
    }

    fn is_closed(conn: &Connection) -> bool {
        conn.is_closed()
    }
}

/// Errors of starting a client session.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The broker refused to start the handshake.
    #[error(transparent)]
    Broker(#[from] BrokerError),
    /// The transport failed.
    #[error(transparent)]
    Driver(#[from] DriverError),
}

/// What [`ClientSession::run_until_decision`] can end with besides a decision.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AssessmentError {
    /// The transport failed.
    #[error(transparent)]
    Driver(#[from] DriverError),
    /// The connection closed before the server decided.
    #[error("the connection closed before a decision: {0:?}")]
    ClosedBeforeDecision(pb_tnc::CloseReason),
}

/// Client-side helpers on the session.
pub trait ClientSessionExt<IO>: Sized {
    /// Opens a broker connection on `pt` (CREATE), starts the first handshake and sends the
    /// first CDATA.
    fn start(
        broker: &Mutex<Broker>,
        pt: PtTlsConnection<IO>,
        config: ConnectionConfig,
    ) -> impl Future<Output = Result<Self, StartError>>;

    /// Runs until the server's next decision (RESULT), returning it; other events are
    /// handed to `tracing`.
    fn run_until_decision(
        &mut self,
        broker: &Mutex<Broker>,
    ) -> impl Future<Output = Result<Decision, AssessmentError>>;
}

impl<IO: AsyncRead + AsyncWrite + Unpin> ClientSessionExt<IO> for ClientSession<IO> {
    async fn start(
        broker: &Mutex<Broker>,
        pt: PtTlsConnection<IO>,
        config: ConnectionConfig,
    ) -> Result<Self, StartError> {
        let conn = {
            let mut b = broker.lock().map_err(|_| DriverError::Poisoned)?;
            let mut conn = b.connect(config);
            b.begin_handshake(&mut conn)?;
            conn
        };
        let mut s = Session::new(pt, conn);
        s.flush().await?;
        Ok(s)
    }

    async fn run_until_decision(
        &mut self,
        broker: &Mutex<Broker>,
    ) -> Result<Decision, AssessmentError> {
        loop {
            match self.next_event(broker).await? {
                Event::Decision(d) => return Ok(d),
                Event::Closed(reason) => return Err(AssessmentError::ClosedBeforeDecision(reason)),
                other => tracing::debug!(event = ?other, "TNC client"),
            }
        }
    }
}
