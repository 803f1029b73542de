//! Session configuration: limits and the SASL policy of each side.

use core::fmt;
use core::time::Duration;
use std::sync::Arc;

use crate::sasl::{ClientMechanism, ServerMechanism};

/// Default maximum PT-TLS message size: 8 MiB (strongSwan sends at most 2 MiB).
pub const DEFAULT_MAX_MESSAGE_LEN: u32 = 8 * 1024 * 1024;

/// Default [`Config::handshake_timeout`]: 5 seconds.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// When the NEA Server asks for SASL client authentication (RFC 6876 §3.8: server policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SaslPolicy {
    /// Never: send the empty mechanism list at once.
    Never,
    /// Only when the TLS client presented no certificate (the usual case, §3.8).
    #[default]
    UnlessCertificate,
    /// Always, even after TLS client authentication (§3.8: e.g. a user after a machine).
    Always,
}

/// Configuration shared by sessions (`Arc<Config>`), immutable once built.
#[derive(Clone)]
pub struct Config {
    /// Largest PT-TLS message accepted (header included), checked on the header before any
    /// allocation; larger announcements are answered with Invalid Parameter.
    pub max_message_len: u32,
    /// NEA Client: mechanisms it can run, by name; the first one the server offers (in the
    /// server's order) is selected.
    pub client_mechanisms: Vec<Arc<dyn ClientMechanism>>,
    /// NEA Server: mechanisms offered, in order of preference.
    pub server_mechanisms: Vec<Arc<dyn ServerMechanism>>,
    /// NEA Server: when to ask for SASL authentication.
    pub sasl_policy: SaslPolicy,
    /// NEA Server: failed runs (Failure or Mechanism Failure) after which the client gets no
    /// further chance (RFC 6876 §3.8.10 allows retries).
    pub max_sasl_attempts: u32,
    /// NEA Server: admit a client whose authentication failed into Data Transport (RFC 6876
    /// §3.4.2.2 allows it) instead of closing.
    pub admit_unauthenticated: bool,
    /// NEA Server: successful SASL runs required before Data Transport (RFC 6876 §3.8.5.4:
    /// after a run completes the server may start another, e.g. a user after a machine); each
    /// further run offers the mechanisms again. 0 behaves as 1.
    pub required_authentications: u32,
    /// Longest time version negotiation plus SASL (and, in the tokio listener, the TLS
    /// handshake before them) may take before the connection is dropped. The sans-IO
    /// [`crate::Session`] has no clock: the tokio adapter enforces this, a caller driving the
    /// session itself enforces its own.
    pub handshake_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_message_len: DEFAULT_MAX_MESSAGE_LEN,
            client_mechanisms: Vec::new(),
            server_mechanisms: Vec::new(),
            sasl_policy: SaslPolicy::default(),
            max_sasl_attempts: 3,
            admit_unauthenticated: false,
            required_authentications: 1,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }
}

impl Config {
    /// Sets the maximum message length.
    #[must_use]
    pub fn with_max_message_len(mut self, len: u32) -> Self {
        self.max_message_len = len;
        self
    }

    /// Adds a client mechanism.
    #[must_use]
    pub fn with_client_mechanism(mut self, m: Arc<dyn ClientMechanism>) -> Self {
        self.client_mechanisms.push(m);
        self
    }

    /// Adds a server mechanism.
    #[must_use]
    pub fn with_server_mechanism(mut self, m: Arc<dyn ServerMechanism>) -> Self {
        self.server_mechanisms.push(m);
        self
    }

    /// Sets the server's SASL policy.
    #[must_use]
    pub fn with_sasl_policy(mut self, p: SaslPolicy) -> Self {
        self.sasl_policy = p;
        self
    }

    /// Sets how many failed runs the server allows.
    #[must_use]
    pub fn with_max_sasl_attempts(mut self, n: u32) -> Self {
        self.max_sasl_attempts = n;
        self
    }

    /// Sets whether a client that failed authentication is still admitted.
    #[must_use]
    pub fn with_admit_unauthenticated(mut self, yes: bool) -> Self {
        self.admit_unauthenticated = yes;
        self
    }
}

impl Config {
    /// Sets how many successful SASL runs the server requires.
    #[must_use]
    pub fn with_required_authentications(mut self, n: u32) -> Self {
        self.required_authentications = n;
        self
    }

    /// Sets the handshake timeout (see [`Config::handshake_timeout`]).
    #[must_use]
    pub fn with_handshake_timeout(mut self, t: Duration) -> Self {
        self.handshake_timeout = t;
        self
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = |v: Vec<String>| v.join(",");
        f.debug_struct("Config")
            .field("max_message_len", &self.max_message_len)
            .field(
                "client_mechanisms",
                &names(
                    self.client_mechanisms
                        .iter()
                        .map(|m| m.name().to_string())
                        .collect(),
                ),
            )
            .field(
                "server_mechanisms",
                &names(
                    self.server_mechanisms
                        .iter()
                        .map(|m| m.name().to_string())
                        .collect(),
                ),
            )
            .field("sasl_policy", &self.sasl_policy)
            .field("max_sasl_attempts", &self.max_sasl_attempts)
            .field("admit_unauthenticated", &self.admit_unauthenticated)
            .field("required_authentications", &self.required_authentications)
            .field("handshake_timeout", &self.handshake_timeout)
            .finish()
    }
}
