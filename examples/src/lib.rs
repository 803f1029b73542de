//! Shared helpers of the reference binaries.
