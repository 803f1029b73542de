//! Session configuration and its limits.

/// Configuration shared by sessions (`Arc<Config>`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Largest batch accepted or built, header included (default 2,097,136: strongSwan's
    /// PT-TLS maximum). A larger received batch is answered with a fatal Local Error before
    /// it is decoded.
    pub max_batch_size: usize,
    /// Largest single PB-TNC message accepted or built, header included (default
    /// `max_batch_size - 8`). Checked on the message header before its value is decoded.
    pub max_message_size: usize,
    /// Most batches this side accepts from the peer (CLOSE excluded) before it closes the
    /// session with a fatal Local Error, so two misbehaving peers cannot loop forever
    /// (default 1000).
    pub max_round_trips: u32,
    /// The PT below is half-duplex (e.g. PT-EAP): the server may not send SRETRY from
    /// Decided, since it sent the last batch (RFC 5793 §3.2). Default `false` (PT-TLS).
    pub half_duplex: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_batch_size: 2_097_136,
            max_message_size: 2_097_128,
            max_round_trips: 1000,
            half_duplex: false,
        }
    }
}

impl Config {
    /// Sets [`Config::max_batch_size`].
    #[must_use]
    pub fn with_max_batch_size(mut self, n: usize) -> Self {
        self.max_batch_size = n;
        self
    }

    /// Sets [`Config::max_message_size`].
    #[must_use]
    pub fn with_max_message_size(mut self, n: usize) -> Self {
        self.max_message_size = n;
        self
    }

    /// Sets [`Config::half_duplex`].
    #[must_use]
    pub fn with_half_duplex(mut self, half_duplex: bool) -> Self {
        self.half_duplex = half_duplex;
        self
    }

    /// Sets [`Config::max_round_trips`].
    #[must_use]
    pub fn with_max_round_trips(mut self, n: u32) -> Self {
        self.max_round_trips = n;
        self
    }
}
