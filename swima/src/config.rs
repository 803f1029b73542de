//! Engine configuration and its limits.

/// Configuration of a [`crate::Collector`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CollectorConfig {
    /// Largest SWIMA attribute (12-byte header included) the collector sends unless a peer has
    /// a smaller limit ([`crate::Collector::set_peer_limit`]). Capped at the PA-TNC maximum of
    /// `u32::MAX` bytes (RFC 8412 §3.7.5).
    pub max_attribute_size: usize,
    /// Most subscriptions active at once over all peers; at least 8 (RFC 8412 §3.8.1).
    pub max_subscriptions: usize,
    /// How many of the latest events [`crate::Collector::compact`] always keeps.
    pub history: u32,
}

impl Default for CollectorConfig {
    fn default() -> Self {
        Self {
            max_attribute_size: 16 * 1024 * 1024,
            max_subscriptions: 64,
            history: 4096,
        }
    }
}

impl CollectorConfig {
    /// The configuration with another attribute size limit.
    #[must_use]
    pub fn with_max_attribute_size(mut self, n: usize) -> Self {
        self.max_attribute_size = n;
        self
    }

    /// The configuration keeping the latest `events` events on [`crate::Collector::compact`].
    #[must_use]
    pub fn with_history(mut self, events: u32) -> Self {
        self.history = events;
        self
    }

    /// The configuration with another subscription limit (raised to 8 if lower).
    #[must_use]
    pub fn with_max_subscriptions(mut self, n: usize) -> Self {
        // RFC 8412 §3.8.1: a SWIMA-PC MUST support at least 8 subscriptions at once.
        self.max_subscriptions = n.max(8);
        self
    }
}

/// Configuration of a [`crate::Validator`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidatorConfig {
    /// Ask for full records (attributes 16/17) rather than identifiers only (14/15).
    pub full_records: bool,
    /// Most requests awaiting an answer; older ones are forgotten first.
    pub max_pending: usize,
    /// Most records the mirror holds. An inventory with more, or events that would grow the
    /// mirror beyond it, leave the mirror unsynchronised (see [`crate::Validator`]).
    pub max_mirror: usize,
}

impl Default for ValidatorConfig {
    fn default() -> Self {
        Self {
            full_records: true,
            max_pending: 256,
            max_mirror: 1_000_000,
        }
    }
}

impl ValidatorConfig {
    /// The configuration asking for identifiers only (`R` set) when `!full`.
    #[must_use]
    pub fn with_full_records(mut self, full: bool) -> Self {
        self.full_records = full;
        self
    }

    /// The configuration with another mirror bound.
    #[must_use]
    pub fn with_max_mirror(mut self, records: usize) -> Self {
        self.max_mirror = records;
        self
    }
}
