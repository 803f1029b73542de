//! Async (tokio) client: work in progress.
