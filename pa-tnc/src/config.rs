//! Decoder limits.

/// Limits applied while decoding a PA-TNC message, checked before any allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest PA-TNC message accepted (bytes, header included).
    pub max_message_size: usize,
    /// Most attributes one message may hold.
    pub max_attributes: usize,
    /// Largest attribute a segmentation reassembler accepts (bytes, header included), and the
    /// most bytes it holds for all exchanges in progress together.
    pub max_reassembled_size: usize,
    /// Most segmented attributes being reassembled at once.
    pub max_reassemblies: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_size: 16 * 1024 * 1024,
            max_attributes: 65_536,
            max_reassembled_size: 64 * 1024 * 1024,
            max_reassemblies: 16,
        }
    }
}
