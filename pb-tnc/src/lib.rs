//! pb-tnc (work in progress).
