//! The TNC server over PT-TLS with tokio (feature `tokio`): see `tnc_if::tokio`.
//!
//! ```no_run
//! # async fn f(tls: std::sync::Arc<rustls::ServerConfig>) -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::{Arc, Mutex};
//! use if_imv::tokio::{ServerSession, ServerSessionExt};
//! let broker = Arc::new(Mutex::new(if_imv::Broker::new(if_imv::BrokerConfig::default())));
//! let mut listener = pt_tls::tokio::listener::Listener::bind(
//!     "127.0.0.1:0", tls, Arc::new(pt_tls::Config::default()), Default::default()).await?;
//! while let Some((pt, addr)) = listener.accept().await {
//!     let broker = broker.clone();
//!     tokio::spawn(async move {
//!         let mut s = ServerSession::accept(&broker, pt, Some(addr.ip()));
//!         while let Ok(ev) = s.next_event(&broker).await {
//!             println!("{ev:?}"); // HandshakeStarted, Outcome(..), Closed(..)
//!         }
//!     });
//! }
//! # Ok(()) }
//! ```

use std::net::IpAddr;
use std::sync::Mutex;

use bytes::Bytes;
use pt_tls::tokio::PtTlsConnection;
use tnc_if::tokio::{Driven, Session};
use tnc_if::{ArIdentity, SubjectType};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::{Broker, Connection, ConnectionConfig, Event};

pub use tnc_if::tokio::DriverError;

/// A TNC server connection over PT-TLS.
pub type ServerSession<IO> = Session<Broker, IO>;

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

/// The AR identities of a PT-TLS client: the identities its TLS certificate authenticates
/// (subject DN first: the endpoint's identifier), else the user a SASL run authenticated,
/// then its address.
pub fn ar_identities<IO: AsyncRead + AsyncWrite + Unpin>(
    pt: &PtTlsConnection<IO>,
    peer: Option<IpAddr>,
) -> Vec<ArIdentity> {
    let mut ids = match pt.peer_identity() {
        Some(cert) => ArIdentity::from_certificate(cert, SubjectType::MACHINE),
        None => Vec::new(),
    };
    if let Some(user) = &pt.negotiated().sasl_identity {
        ids.insert(0, ArIdentity::password_user(user));
    }
    if let Some(ip) = peer {
        ids.push(ArIdentity::peer_address(ip));
    }
    ids
}

/// Server-side constructor.
pub trait ServerSessionExt<IO>: Sized {
    /// Accepts a negotiated PT-TLS connection into the broker (CREATE, with the AR
    /// identities of [`ar_identities`]).
    fn accept(broker: &Mutex<Broker>, pt: PtTlsConnection<IO>, peer: Option<IpAddr>) -> Self;
}

impl<IO: AsyncRead + AsyncWrite + Unpin> ServerSessionExt<IO> for ServerSession<IO> {
    fn accept(broker: &Mutex<Broker>, pt: PtTlsConnection<IO>, peer: Option<IpAddr>) -> Self {
        let config = ConnectionConfig {
            ar_identities: ar_identities(&pt, peer),
            ..Default::default()
        };
        // A poisoned lock: the data is still consistent per connection; take it.
        let conn = match broker.lock() {
            Ok(mut b) => b.accept(config),
            Err(p) => p.into_inner().accept(config),
        };
        Session::new(pt, conn)
    }
}
