//! Limits on what one repository call may store or return, for every backend.

use crate::error::{Error, Result};

/// Limits on what one call may store or return (untrusted endpoints feed the repository).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Records in one inventory or events in one batch.
    pub max_records: usize,
    /// Bytes of one tag.
    pub max_tag_bytes: usize,
    /// Bytes of one software identifier, locator, endpoint identifier or other text
    /// (SWIMA carries 16-bit lengths: 65,535).
    pub max_text_bytes: usize,
    /// Rows of one page.
    pub max_page: u32,
    /// Identifiers in one [`missing_tags`](crate::Repository::missing_tags) call.
    pub max_lookup: usize,
    /// Bytes of one JSON document (device posture, audit parameters).
    pub max_json_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_records: 1_000_000,
            max_tag_bytes: 4 << 20,
            max_text_bytes: 65_535,
            max_page: 10_000,
            max_lookup: 100_000,
            max_json_bytes: 1 << 20,
        }
    }
}

pub(crate) fn check(what: &'static str, len: usize, limit: usize) -> Result<()> {
    if len > limit {
        return Err(Error::TooLarge { what, len, limit });
    }
    Ok(())
}
