//! Messages between the processes that share one repository: "re-assess endpoint E" must
//! reach whichever manager holds E's session (issue 13 §3, profile §2.2.4).
//!
//! On PostgreSQL this is `NOTIFY` / `LISTEN`: [`Signals::signal`] sends a payload on a
//! channel to every process listening on it (the sender included), [`Signals::listen`] opens
//! a connection of its own that receives them. Channels are scoped to the repository (the
//! database and its schema), so two repositories in one database do not hear each other.
//! Delivery follows PostgreSQL's rules: a listener receives what was signalled while it was
//! listening, nothing from before; a signal is a hint to act on, never the record itself.
//!
//! An SQLite repository is one manager's file: there is no other process to tell, so
//! `signal` does nothing and `listen` returns `None`.
//!
//! ```
//! use posture_repository::Signals;
//! let store = posture_repository::open_store(":memory:", Default::default())?;
//! store.signal("reassess", "CN=host1")?; // nobody else to tell
//! assert!(store.listen("reassess")?.is_none());
//! # Ok::<(), posture_repository::Error>(())
//! ```

use std::time::Duration;

#[cfg(test)]
use crate::error::Error;
use crate::error::Result;

/// Longest payload of one signal (PostgreSQL's `NOTIFY` limit is 8,000 bytes).
pub const MAX_SIGNAL_PAYLOAD: usize = 7_999;

/// Longest channel name (it is hashed into the backend's channel name).
pub const MAX_CHANNEL: usize = 128;

/// Messages to the other processes sharing this repository.
pub trait Signals: Send + Sync {
    /// Sends `payload` on `channel` to every process listening on it now (this one
    /// included). [`Error::TooLarge`](crate::Error::TooLarge) for a payload over [`MAX_SIGNAL_PAYLOAD`] bytes or a
    /// channel name over [`MAX_CHANNEL`].
    fn signal(&self, channel: &str, payload: &str) -> Result<()>;

    /// Starts listening on `channel` on a connection of its own; `None` when the backend has
    /// no other processes to hear from (SQLite).
    fn listen(&self, channel: &str) -> Result<Option<Box<dyn SignalListener>>>;
}

/// A connection listening on one channel.
pub trait SignalListener: Send {
    /// Waits at most `timeout` for the next payload; `Ok(None)` when none came. An error
    /// means the connection is gone: listen again (signals sent meanwhile are lost).
    fn next(&mut self, timeout: Duration) -> Result<Option<String>>;
}

/// Checks the sizes of a signal.
pub(crate) fn check(channel: &str, payload: &str) -> Result<()> {
    crate::limits::check("signal channel", channel.len(), MAX_CHANNEL)?;
    crate::limits::check("signal payload", payload.len(), MAX_SIGNAL_PAYLOAD)
}

impl Signals for crate::SqliteRepository {
    fn signal(&self, channel: &str, payload: &str) -> Result<()> {
        check(channel, payload)
    }

    fn listen(&self, channel: &str) -> Result<Option<Box<dyn SignalListener>>> {
        check(channel, "")?;
        Ok(None)
    }
}

/// The backend channel of `channel` in the repository `scope` (the PostgreSQL database and
/// schema): `nea_` and 16 hex digits of a SHA-256, a valid identifier of fixed length.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(crate) fn scoped_channel(scope: &str, channel: &str) -> String {
    let d = ring::digest::digest(
        &ring::digest::SHA256,
        format!("{scope}\u{0}{channel}").as_bytes(),
    );
    let mut out = String::from("nea_");
    out.push_str(&hex::encode(d.as_ref().get(..8).unwrap_or_default()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_are_scoped_identifiers() {
        let a = scoped_channel("nea/public", "reassess");
        assert_eq!(a.len(), 20);
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        assert_ne!(a, scoped_channel("nea/other", "reassess"));
        assert_ne!(a, scoped_channel("nea/public", "other"));
        assert_eq!(a, scoped_channel("nea/public", "reassess"));
    }

    #[test]
    fn sizes_are_checked() {
        let repo = crate::SqliteRepository::open_in_memory(crate::SqliteConfig::default()).unwrap();
        assert!(repo.signal("c", &"x".repeat(MAX_SIGNAL_PAYLOAD)).is_ok());
        assert!(matches!(
            repo.signal("c", &"x".repeat(MAX_SIGNAL_PAYLOAD + 1)),
            Err(Error::TooLarge { .. })
        ));
        assert!(matches!(
            repo.listen(&"c".repeat(MAX_CHANNEL + 1)),
            Err(Error::TooLarge { .. })
        ));
    }
}
