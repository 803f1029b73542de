//! An in-memory client/server pair (quinn's `Pair`): moves batches until idle.

use std::sync::Arc;

use bytes::Bytes;
use pb_tnc::{Config, Event, Session, Side};

/// Both ends of one PB-TNC session plus everything they sent and reported.
pub struct Pair {
    pub client: Session,
    pub server: Session,
    /// Batches the client sent, in order.
    pub c2s: Vec<Bytes>,
    /// Batches the server sent, in order.
    pub s2c: Vec<Bytes>,
    pub client_events: Vec<Event>,
    pub server_events: Vec<Event>,
}

impl Pair {
    pub fn new() -> Self {
        Self::with_config(Config::default())
    }

    pub fn with_config(config: Config) -> Self {
        let config = Arc::new(config);
        Self {
            client: Session::new(config.clone(), Side::Client),
            server: Session::new(config, Side::Server),
            c2s: Vec::new(),
            s2c: Vec::new(),
            client_events: Vec::new(),
            server_events: Vec::new(),
        }
    }

    /// Delivers pending batches both ways until neither side has anything to send
    /// (bounded, so a looping pair fails the test instead of hanging).
    pub fn drive(&mut self) {
        for _ in 0..10_000 {
            let mut moved = false;
            while let Some(e) = self.client.poll_event() {
                self.client_events.push(e);
            }
            while let Some(e) = self.server.poll_event() {
                self.server_events.push(e);
            }
            if let Some(b) = self.client.poll_transmit() {
                self.c2s.push(b.clone());
                self.server.handle_batch(b);
                moved = true;
            }
            if let Some(b) = self.server.poll_transmit() {
                self.s2c.push(b.clone());
                self.client.handle_batch(b);
                moved = true;
            }
            if !moved {
                while let Some(e) = self.client.poll_event() {
                    self.client_events.push(e);
                }
                while let Some(e) = self.server.poll_event() {
                    self.server_events.push(e);
                }
                return;
            }
        }
        panic!("pair did not become idle");
    }

    /// Only the server's transmits are taken (not delivered): for crossing-batch tests.
    pub fn take_server(&mut self) -> Vec<Bytes> {
        std::iter::from_fn(|| self.server.poll_transmit()).collect()
    }

    /// Only the client's transmits are taken (not delivered).
    pub fn take_client(&mut self) -> Vec<Bytes> {
        std::iter::from_fn(|| self.client.poll_transmit()).collect()
    }
}

/// Drains one session's events.
pub fn events(s: &mut Session) -> Vec<Event> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

/// Drains one session's transmits.
pub fn transmits(s: &mut Session) -> Vec<Bytes> {
    std::iter::from_fn(|| s.poll_transmit()).collect()
}
