//! Thin async adapter: runs a [`Session`] over a `tokio_rustls` stream (feature `tokio`).
//!
//! This is the only file of the crate that sees sockets. TLS (rustls, ring provider) is set
//! up by the caller, with mutual TLS when machine certificates are used; the TLS role of the
//! stream (client or server) makes this end the PT-TLS Initiator or Responder, and the peer's
//! certificate, if any, is handed to the session (a NEA Server then skips SASL under
//! [`crate::SaslPolicy::UnlessCertificate`]) and exposed by
//! [`PtTlsConnection::peer_certificate`].

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;

use bytes::Bytes;
use rustls::pki_types::CertificateDer;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_rustls::TlsStream;

use crate::{CloseReason, Config, Error, Event, Session, Side, TlsRole};

/// Size of the read buffer handed to TLS.
const READ_CHUNK: usize = 16 * 1024;

/// Errors of the adapter: I/O, a protocol close, or API misuse.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdapterError {
    /// Reading or writing the TLS stream failed.
    #[error("pt-tls i/o: {0}")]
    Io(#[from] io::Error),
    /// The session closed for a protocol reason (a PT-TLS Error sent or received, failed
    /// authentication).
    #[error("pt-tls session closed: {0:?}")]
    Closed(CloseReason),
    /// The connection ended before Negotiation completed.
    #[error("pt-tls connection ended during negotiation")]
    EndedDuringNegotiation,
    /// Misuse of the session API.
    #[error(transparent)]
    Session(#[from] Error),
}

/// A PT-TLS connection over a TLS stream, client or server.
pub struct PtTlsConnection<IO> {
    stream: TlsStream<IO>,
    session: Session,
    peer_certificate: Option<CertificateDer<'static>>,
    events: VecDeque<Event>,
    eof: bool,
    read_buf: Box<[u8]>,
}

impl<IO> core::fmt::Debug for PtTlsConnection<IO> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PtTlsConnection")
            .field("session", &self.session)
            .field("peer_certificate", &self.peer_certificate.is_some())
            .finish_non_exhaustive()
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> PtTlsConnection<IO> {
    /// Wraps a TLS stream whose handshake is complete; `side` is the NEA role of this end.
    pub fn new(config: Arc<Config>, side: Side, stream: impl Into<TlsStream<IO>>) -> Self {
        let stream = stream.into();
        let tls_role = match stream {
            TlsStream::Client(_) => TlsRole::Initiator,
            TlsStream::Server(_) => TlsRole::Responder,
        };
        let peer_certificate = stream
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| c.clone().into_owned());
        let der = peer_certificate
            .as_ref()
            .map(|c| Bytes::copy_from_slice(c.as_ref()));
        Self {
            stream,
            session: Session::new(config, side, tls_role, der),
            peer_certificate,
            events: VecDeque::new(),
            eof: false,
            read_buf: vec![0u8; READ_CHUNK].into_boxed_slice(),
        }
    }

    /// Connects as NEA Client over a TLS client stream and runs Negotiation to its end.
    pub async fn client(
        config: Arc<Config>,
        stream: tokio_rustls::client::TlsStream<IO>,
    ) -> Result<Self, AdapterError> {
        let mut c = Self::new(config, Side::Client, stream);
        c.negotiate().await?;
        Ok(c)
    }

    /// Serves as NEA Server over an accepted TLS stream and runs Negotiation to its end.
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
        self.peer_certificate.as_ref()
    }

    /// The state machine (read-only), e.g. for
    /// [`Session::authenticated_identity`].
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The TLS stream, e.g. for the negotiated protocol version.
    pub fn tls(&self) -> &TlsStream<IO> {
        &self.stream
    }

    async fn flush(&mut self) -> Result<(), AdapterError> {
        let mut wrote = false;
        while let Some(t) = self.session.poll_transmit() {
            self.stream.write_all(&t).await?;
            wrote = true;
        }
        if wrote {
            self.stream.flush().await?;
        }
        while let Some(e) = self.session.poll_event() {
            self.events.push_back(e);
        }
        Ok(())
    }

    /// The next event, reading from TLS as needed; `None` once the stream ended.
    pub async fn next_event(&mut self) -> Result<Option<Event>, AdapterError> {
        loop {
            self.flush().await?;
            if let Some(e) = self.events.pop_front() {
                if matches!(e, Event::Closed { .. }) {
                    // RFC 6876 §3.9: after a fatal error both ends close TLS.
                    let _ = self.stream.shutdown().await;
                }
                return Ok(Some(e));
            }
            if self.eof || self.session.is_closed() {
                return Ok(None);
            }
            let n = match self.stream.read(&mut self.read_buf).await {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => 0,
                Err(e) => return Err(e.into()),
            };
            match self.read_buf.get(..n) {
                Some(data) if n > 0 => self.session.handle_bytes(data),
                _ => {
                    self.eof = true;
                    self.session.close();
                }
            }
        }
    }

    /// Runs Negotiation (version, optional SASL) until Data Transport.
    pub async fn negotiate(&mut self) -> Result<(), AdapterError> {
        while !self.session.is_data_transport() {
            match self.next_event().await? {
                Some(Event::Closed { reason }) => {
                    return Err(if self.eof {
                        AdapterError::EndedDuringNegotiation
                    } else {
                        AdapterError::Closed(reason)
                    });
                }
                Some(Event::Batch(b)) => {
                    // Cannot happen before Data Transport; keep it anyway.
                    self.events.push_front(Event::Batch(b));
                }
                Some(_) => {}
                None => return Err(AdapterError::EndedDuringNegotiation),
            }
        }
        Ok(())
    }

    /// Sends one PB-TNC batch.
    pub async fn send_batch(&mut self, batch: Bytes) -> Result<(), AdapterError> {
        self.session.send_batch(batch)?;
        self.flush().await
    }

    /// Waits for the next PB-TNC batch; `Ok(None)` once the peer closed the connection, and
    /// [`AdapterError::Closed`] when a fatal PT-TLS Error (sent or received) ended it.
    pub async fn recv_batch(&mut self) -> Result<Option<Bytes>, AdapterError> {
        loop {
            match self.next_event().await? {
                Some(Event::Batch(b)) => return Ok(Some(b)),
                Some(Event::Closed { reason }) => {
                    return match reason {
                        CloseReason::Local => Ok(None),
                        other => Err(AdapterError::Closed(other)),
                    };
                }
                Some(_) => {}
                None => return Ok(None),
            }
        }
    }

    /// Closes the session and the TLS stream (close_notify).
    pub async fn close(mut self) -> Result<(), AdapterError> {
        self.session.close();
        self.flush().await?;
        self.stream.shutdown().await?;
        Ok(())
    }
}
