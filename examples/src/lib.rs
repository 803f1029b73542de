//! Shared code of the reference binaries.

pub mod coswid_inspect;
pub mod inspect;
