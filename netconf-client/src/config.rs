//! Session configuration and its limits.

/// Limits applied to everything the peer sends, checked before any allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest message body accepted (bytes, framing excluded). Default 256 MiB.
    pub max_message_size: usize,
    /// Largest single chunk accepted (RFC 6242 §4.2 allows up to 4294967295). Default 64 MiB.
    pub max_chunk_size: usize,
    /// Most capabilities accepted in the server's `<hello>`. Default 4096.
    pub max_capabilities: usize,
    /// Most `<rpc-error>`s kept from one reply. Default 256.
    pub max_errors: usize,
    /// Most RPCs in flight at once. Default 1024.
    pub max_in_flight: usize,
    /// Deepest XML nesting accepted by the parsers. Default 256.
    pub max_depth: usize,
    /// Most notifications the async client keeps unread (`Client::next_notification`); when
    /// one more arrives the oldest is dropped and counted. Default 1024.
    pub max_notifications: usize,
    /// Most replies without a usable message-id (or for no RPC in flight) the async client
    /// keeps; when one more arrives the oldest is dropped and counted. Default 16.
    pub max_unmatched_replies: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_size: 256 << 20,
            max_chunk_size: 64 << 20,
            max_capabilities: 4096,
            max_errors: 256,
            max_in_flight: 1024,
            max_depth: 256,
            max_notifications: 1024,
            max_unmatched_replies: 16,
        }
    }
}

/// Client session configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Limits on peer input.
    pub limits: Limits,
    /// Announce `urn:ietf:params:netconf:base:1.1` (and so use chunked framing when the server
    /// does too). Default true.
    pub base11: bool,
    /// Extra capability URIs announced in the client `<hello>`.
    pub extra_capabilities: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            base11: true,
            extra_capabilities: Vec::new(),
        }
    }
}

impl Config {
    /// Replaces the limits.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Announces base:1.0 only (end-of-message framing for the whole session).
    #[must_use]
    pub fn with_base10_only(mut self) -> Self {
        self.base11 = false;
        self
    }
}
