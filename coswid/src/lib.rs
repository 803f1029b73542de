//! coswid (work in progress).
