//! nea-wire (work in progress).
