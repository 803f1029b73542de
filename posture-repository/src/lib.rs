#![doc = include_str!("../README.md")]

pub mod chain;
mod error;
pub mod events;
pub mod guidance;
mod ingest;
mod limits;
pub mod migrations;
mod model;
#[cfg(feature = "postgres")]
mod postgres;
mod replay;
mod repository;
pub mod signals;
mod sqlite;
pub mod tags;
pub mod version;

pub use chain::ChainHead;
pub use error::{Error, Result};
pub use events::EventLog;
pub use guidance::EvaluationStore;
pub use limits::Limits;
pub use model::*;
#[cfg(feature = "postgres")]
pub use postgres::{MAX_ATTEMPTS, PostgresConfig, PostgresRepository};
pub use repository::Repository;
pub use signals::{SignalListener, Signals};
pub use sqlite::{Durability, SqliteConfig, SqliteRepository};

use std::sync::Arc;

/// Whether `target` names a PostgreSQL database (`postgres://` or `postgresql://`) rather
/// than an SQLite file.
pub fn is_postgres_url(target: &str) -> bool {
    target.starts_with("postgres://") || target.starts_with("postgresql://")
}

/// Opens the repository `target` names, bringing its schema up to date: a `postgres://…` or
/// `postgresql://…` URL opens a `PostgresRepository` (cargo feature `postgres`; see the
/// README for TLS and pool settings in the URL), anything else is an SQLite file path
/// ([`SqliteRepository`], default durability).
///
/// ```
/// let repo = posture_repository::open(":memory:", posture_repository::Limits::default())?;
/// assert!(repo.verify_history()?.is_intact());
/// # Ok::<(), posture_repository::Error>(())
/// ```
pub fn open(target: &str, limits: Limits) -> Result<Arc<dyn Repository>> {
    Ok(open_store(target, limits)?)
}

/// Everything a backend stores: the [`Repository`], the evaluator's [`EvaluationStore`] and
/// the [`EventLog`], and the [`Signals`] between the processes sharing it, behind one handle
/// (`Arc<dyn PostureStore>` converts to `Arc<dyn Repository>` and the others).
pub trait PostureStore: Repository + EvaluationStore + EventLog + Signals {}
impl<T: Repository + EvaluationStore + EventLog + Signals + ?Sized> PostureStore for T {}

/// [`open`], keeping every trait of the backend.
///
/// ```
/// use posture_repository::{EventLog, Limits, Repository};
/// let store = posture_repository::open_store(":memory:", Limits::default())?;
/// assert_eq!(store.event_bounds()?.newest, 0);
/// let repo: std::sync::Arc<dyn Repository> = store;
/// assert!(repo.verify_history()?.is_intact());
/// # Ok::<(), posture_repository::Error>(())
/// ```
pub fn open_store(target: &str, limits: Limits) -> Result<Arc<dyn PostureStore>> {
    if is_postgres_url(target) {
        #[cfg(feature = "postgres")]
        {
            let mut config = PostgresConfig::new(target);
            config.limits = limits;
            return Ok(Arc::new(PostgresRepository::open(&config)?));
        }
        #[cfg(not(feature = "postgres"))]
        return Err(Error::BackendNotBuilt("PostgreSQL"));
    }
    let config = SqliteConfig {
        limits,
        ..SqliteConfig::default()
    };
    Ok(Arc::new(SqliteRepository::open(target, config)?))
}
