//! Shared code of the reference binaries.

pub mod inspect;
