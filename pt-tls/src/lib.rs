//! pt-tls (work in progress).
