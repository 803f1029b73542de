//! An in-memory client/server pair driven until idle (quinn's `Pair`), public API only.
#![allow(dead_code, unreachable_pub)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::cast_possible_truncation
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use bytes::Bytes;
use pt_tls::{Config, CredentialCheck, Event, PlainClient, PlainServer, Session, Side, TlsRole};

/// alice / s3cret, the test credentials of the strongSwan captures.
pub struct Alice;

impl CredentialCheck for Alice {
    fn check_plain(&self, authzid: &str, authcid: &str, password: &str) -> bool {
        authzid.is_empty() && authcid == "alice" && password == "s3cret"
    }
}

/// Refuses the first `n` attempts, then checks like [`Alice`].
pub struct FailFirst(pub AtomicU32);

impl CredentialCheck for FailFirst {
    fn check_plain(&self, a: &str, b: &str, c: &str) -> bool {
        let left = self.0.load(Ordering::SeqCst);
        if left > 0 {
            self.0.store(left - 1, Ordering::SeqCst);
            return false;
        }
        Alice.check_plain(a, b, c)
    }
}

pub fn client_config() -> Arc<Config> {
    Arc::new(
        Config::default()
            .with_client_mechanism(Arc::new(PlainClient::new("alice", "s3cret").unwrap())),
    )
}

pub fn server_config() -> Arc<Config> {
    Arc::new(Config::default().with_server_mechanism(Arc::new(PlainServer::new(Arc::new(Alice)))))
}

/// Everything one side produced during a drive.
#[derive(Debug, Default)]
pub struct Log {
    pub sent: Vec<Bytes>,
    pub events: Vec<Event>,
}

pub struct Pair {
    pub client: Session,
    pub server: Session,
    pub client_log: Log,
    pub server_log: Log,
}

impl Pair {
    /// NEA client = TLS initiator (the usual layout).
    pub fn new(client: Arc<Config>, server: Arc<Config>, client_cert: Option<Bytes>) -> Self {
        Self::with_roles(client, server, client_cert, TlsRole::Initiator)
    }

    pub fn with_roles(
        client: Arc<Config>,
        server: Arc<Config>,
        client_cert: Option<Bytes>,
        client_tls: TlsRole,
    ) -> Self {
        let server_tls = match client_tls {
            TlsRole::Initiator => TlsRole::Responder,
            TlsRole::Responder => TlsRole::Initiator,
        };
        Self {
            client: Session::new(client, Side::Client, client_tls, None),
            server: Session::new(server, Side::Server, server_tls, client_cert),
            client_log: Log::default(),
            server_log: Log::default(),
        }
    }

    /// Moves bytes both ways (one byte at a time when `trickle`) until neither side has
    /// anything to send; at most 1000 steps.
    pub fn drive_with(&mut self, trickle: bool) {
        for _ in 0..1000 {
            let mut moved = false;
            while let Some(e) = self.client.poll_event() {
                self.client_log.events.push(e);
            }
            while let Some(e) = self.server.poll_event() {
                self.server_log.events.push(e);
            }
            while let Some(t) = self.client.poll_transmit() {
                moved = true;
                self.client_log.sent.push(t.clone());
                feed(&mut self.server, &t, trickle);
            }
            while let Some(t) = self.server.poll_transmit() {
                moved = true;
                self.server_log.sent.push(t.clone());
                feed(&mut self.client, &t, trickle);
            }
            if !moved {
                while let Some(e) = self.client.poll_event() {
                    self.client_log.events.push(e);
                }
                while let Some(e) = self.server.poll_event() {
                    self.server_log.events.push(e);
                }
                return;
            }
        }
        panic!("pair did not go idle");
    }

    pub fn drive(&mut self) {
        self.drive_with(false);
    }
}

fn feed(s: &mut Session, t: &[u8], trickle: bool) {
    if trickle {
        for b in t {
            s.handle_bytes(std::slice::from_ref(b));
        }
    } else {
        s.handle_bytes(t);
    }
}

/// A PT-TLS message in the IETF namespace.
pub fn ietf(message_type: u32, id: u32, value: &[u8]) -> Vec<u8> {
    msg(0, message_type, id, value)
}

pub fn msg(vendor: u32, message_type: u32, id: u32, value: &[u8]) -> Vec<u8> {
    let mut v = vec![0];
    v.extend_from_slice(&vendor.to_be_bytes()[1..]);
    v.extend_from_slice(&message_type.to_be_bytes());
    v.extend_from_slice(&(16 + value.len() as u32).to_be_bytes());
    v.extend_from_slice(&id.to_be_bytes());
    v.extend_from_slice(value);
    v
}

/// Drains a session.
pub fn drain(s: &mut Session) -> (Vec<Bytes>, Vec<Event>) {
    let mut t = Vec::new();
    while let Some(b) = s.poll_transmit() {
        t.push(b);
    }
    let mut e = Vec::new();
    while let Some(x) = s.poll_event() {
        e.push(x);
    }
    (t, e)
}

/// The value of a PT-TLS Error with IETF `code` carrying `original`.
pub fn error_value(code: u32, original: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 0, 0, 0];
    v.extend_from_slice(&code.to_be_bytes());
    v.extend_from_slice(&original[..original.len().min(1024)]);
    v
}
