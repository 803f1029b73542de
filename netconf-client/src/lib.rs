//! netconf-client (work in progress).
