//! swima (work in progress).
