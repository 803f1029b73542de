//! The repository's typed errors.

use std::path::PathBuf;

/// Everything a [`Repository`](crate::Repository) call can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database engine failed (I/O, constraint, corrupt file, …).
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The PostgreSQL server or its connection failed (the `postgres` feature).
    #[cfg(feature = "postgres")]
    #[error("postgres: {}", pg_detail(.0))]
    Postgres(#[from] postgres::Error),
    /// The database URL cannot be used (see [`open`](crate::open)).
    #[error("database url: {0}")]
    InvalidUrl(String),
    /// The database is not on the loopback and the URL does not give what a verified TLS
    /// connection needs (profile §8.2.4): `sslrootcert=` (the CA of the server's certificate)
    /// and no `sslmode=disable`.
    #[error(
        "database host {host} is not on the loopback: TLS with the server verified is required (give sslrootcert=CA-FILE, not sslmode=disable)"
    )]
    TlsRequired {
        /// The host named in the URL.
        host: String,
    },
    /// The URL names a backend this build does not include (a `postgres://` URL without the
    /// `postgres` feature).
    #[error("{0} backend not built in (cargo feature `postgres` of posture-repository)")]
    BackendNotBuilt(&'static str),
    /// No pooled database connection became free in time.
    #[error("no database connection free after {0:?} (pool of {1})")]
    PoolTimeout(std::time::Duration, usize),
    /// No endpoint with this identifier is stored (call `session_started` first).
    #[error("unknown endpoint {0:?}")]
    UnknownEndpoint(String),
    /// No session with this id is stored.
    #[error("unknown session {0}")]
    UnknownSession(i64),
    /// Events were offered for an epoch other than the stored one: the endpoint's SWIMA log was
    /// reset, so the manager must request a full inventory (RFC 8412 §3.7.3 resync).
    #[error(
        "endpoint {endpoint:?} reported EID epoch {reported} but the repository holds epoch {stored}: a full inventory is needed"
    )]
    EpochMismatch {
        /// The endpoint.
        endpoint: String,
        /// The epoch held.
        stored: u32,
        /// The epoch of the offered events.
        reported: u32,
    },
    /// Events were offered for an endpoint whose inventory was never received.
    #[error("endpoint {0:?} has no inventory yet: a full inventory is needed before events")]
    NoInventory(String),
    /// A value is larger than the configured limit.
    #[error("{what} is {len} bytes or items, over the limit of {limit}")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// Its size.
        len: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The database was written by a newer build (its schema version is unknown here).
    #[error("database schema version {found} is newer than the newest this build knows ({known})")]
    SchemaTooNew {
        /// Version recorded in the database.
        found: u32,
        /// Newest version this build knows.
        known: u32,
    },
    /// A stored value cannot be read back (the file was edited or is corrupt).
    #[error("stored value of {0} is invalid")]
    Corrupt(&'static str),
    /// Reading a tag file or folder failed.
    #[error("reading {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A JSON document (device posture, audit parameters) could not be stored or read.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

/// The driver's error with the server's message (its `Display` alone says only "db error").
#[cfg(feature = "postgres")]
fn pg_detail(e: &postgres::Error) -> String {
    match (e.as_db_error(), std::error::Error::source(e)) {
        (Some(db), _) => format!("{e}: {db}"),
        (None, Some(cause)) if !e.to_string().contains(&cause.to_string()) => {
            format!("{e}: {cause}")
        }
        _ => e.to_string(),
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
