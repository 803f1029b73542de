//! pa-tnc (work in progress).
