//! Shared test fixtures: temporary folders, a repository on each backend, endpoints, records
//! and tags.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use posture_repository::*;

/// A folder removed on drop (also when the test fails).
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "posture-repo-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn db(&self) -> PathBuf {
        self.0.join("repo.sqlite")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A private in-memory SQLite repository.
pub fn memory() -> SqliteRepository {
    SqliteRepository::open_in_memory(SqliteConfig::default()).unwrap()
}

/// Every trait a backend implements, behind one handle.
pub trait Both: Repository + EvaluationStore + EventLog + Signals {}
impl<T: Repository + EvaluationStore + EventLog + Signals + ?Sized> Both for T {}

/// Which backend a test runs on (see [`on_both!`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite: in memory, or a file in a temporary folder.
    Sqlite,
    /// PostgreSQL at `NEA_TEST_POSTGRES_URL`, in a schema of its own dropped afterwards.
    #[cfg(feature = "postgres")]
    Postgres,
}

/// An empty store for one test (an SQLite file, or a PostgreSQL schema) and what it needs
/// kept until dropped. Open handles on it with [`Store::open`]; bypass the repository with
/// [`Store::raw`] (what someone with access to the database can do).
pub struct Store {
    target: Target,
    limits: Limits,
    _keep: Keep,
}

enum Target {
    Memory,
    File(PathBuf),
    #[cfg(feature = "postgres")]
    Postgres(String),
}

enum Keep {
    Nothing,
    Dir(TempDir),
    #[cfg(feature = "postgres")]
    Schema(pg::Schema),
}

impl Store {
    /// A handle on the store (a manager): the SQLite file, or a connection pool on the
    /// PostgreSQL schema; migrates it on first use.
    pub fn open(&self) -> std::sync::Arc<dyn Both> {
        self.try_open().unwrap()
    }

    pub fn try_open(&self) -> Result<std::sync::Arc<dyn Both>> {
        Ok(match &self.target {
            Target::Memory => panic!("an in-memory database has one handle; use Backend::on_disk"),
            Target::File(p) => std::sync::Arc::new(SqliteRepository::open(
                p,
                SqliteConfig {
                    limits: self.limits.clone(),
                    ..SqliteConfig::default()
                },
            )?),
            #[cfg(feature = "postgres")]
            Target::Postgres(url) => {
                let mut c = PostgresConfig::new(url.clone());
                c.limits = self.limits.clone();
                std::sync::Arc::new(PostgresRepository::open(&c)?)
            }
        })
    }

    /// Runs SQL statements on the store directly; the error text on failure.
    pub fn raw(&self, sql: &str) -> std::result::Result<(), String> {
        match &self.target {
            Target::Memory => panic!("no raw access to an in-memory database"),
            Target::File(p) => rusqlite::Connection::open(p)
                .and_then(|c| c.execute_batch(sql))
                .map_err(|e| e.to_string()),
            #[cfg(feature = "postgres")]
            Target::Postgres(_) => match &self._keep {
                Keep::Schema(s) => s
                    .client()
                    .batch_execute(sql)
                    .map_err(|e| Error::from(e).to_string()),
                _ => unreachable!(),
            },
        }
    }

    /// The first column of a query's rows, as integers.
    pub fn raw_i64s(&self, sql: &str) -> Vec<i64> {
        match &self.target {
            Target::Memory => panic!("no raw access to an in-memory database"),
            Target::File(p) => {
                let c = rusqlite::Connection::open(p).unwrap();
                let mut st = c.prepare(sql).unwrap();
                st.query_map([], |r| r.get(0))
                    .unwrap()
                    .collect::<rusqlite::Result<_>>()
                    .unwrap()
            }
            #[cfg(feature = "postgres")]
            Target::Postgres(_) => match &self._keep {
                Keep::Schema(s) => s
                    .client()
                    .query(sql, &[])
                    .unwrap()
                    .iter()
                    .map(|r| r.get(0))
                    .collect(),
                _ => unreachable!(),
            },
        }
    }

    /// Whether this store is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        !matches!(self.target, Target::Memory | Target::File(_))
    }
}

/// A repository for one test, on a [`Store`] of its own.
pub struct Repo {
    repo: std::sync::Arc<dyn Both>,
    pub store: Store,
}

impl std::ops::Deref for Repo {
    type Target = dyn Both;
    fn deref(&self) -> &(dyn Both + 'static) {
        &*self.repo
    }
}

impl Repo {
    /// Another handle on the same store (a second manager).
    pub fn another_handle(&self) -> std::sync::Arc<dyn Both> {
        self.store.open()
    }
}

impl Backend {
    /// A fresh repository with default limits.
    pub fn open(self) -> Repo {
        self.limited(Limits::default())
    }

    /// A fresh repository with these limits (SQLite in memory).
    pub fn limited(self, limits: Limits) -> Repo {
        match self {
            Self::Sqlite => Repo {
                repo: std::sync::Arc::new(
                    SqliteRepository::open_in_memory(SqliteConfig {
                        limits: limits.clone(),
                        ..SqliteConfig::default()
                    })
                    .unwrap(),
                ),
                store: Store {
                    target: Target::Memory,
                    limits,
                    _keep: Keep::Nothing,
                },
            },
            #[cfg(feature = "postgres")]
            Self::Postgres => {
                let store = self.store_with(limits);
                Repo {
                    repo: store.open(),
                    store,
                }
            }
        }
    }

    /// An empty store (nothing created in it yet).
    pub fn store(self) -> Store {
        self.store_with(Limits::default())
    }

    fn store_with(self, limits: Limits) -> Store {
        match self {
            Self::Sqlite => {
                let dir = TempDir::new("repo");
                Store {
                    target: Target::File(dir.db()),
                    limits,
                    _keep: Keep::Dir(dir),
                }
            }
            #[cfg(feature = "postgres")]
            Self::Postgres => {
                let schema = pg::Schema::new();
                Store {
                    target: Target::Postgres(schema.url()),
                    limits,
                    _keep: Keep::Schema(schema),
                }
            }
        }
    }

    /// A fresh repository that more handles can open ([`Repo::another_handle`]): an SQLite
    /// file (in-memory databases are private to their handle) or a PostgreSQL schema.
    pub fn on_disk(self) -> Repo {
        let store = self.store();
        Repo {
            repo: store.open(),
            store,
        }
    }
}

/// Runs each named test (a `fn(Backend)`) on SQLite, and on PostgreSQL (with the `postgres`
/// feature, `#[ignore]`d: they run with `--ignored` and `NEA_TEST_POSTGRES_URL` set, as
/// `scripts/test.sh` does).
#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $name() {
                super::$name($crate::fixture::Backend::Sqlite)
            })*
        }
        #[cfg(feature = "postgres")]
        mod postgres {
            $(#[test]
            #[ignore = "needs PostgreSQL: NEA_TEST_POSTGRES_URL and --ignored (scripts/test.sh)"]
            fn $name() {
                super::$name($crate::fixture::Backend::Postgres)
            })*
        }
    };
}

#[cfg(feature = "postgres")]
pub mod pg {
    //! PostgreSQL fixtures: each test gets a schema of its own in the test database.
    use super::*;

    /// The test database's URL.
    pub fn url() -> String {
        std::env::var("NEA_TEST_POSTGRES_URL").unwrap_or_else(|_| {
            panic!("NEA_TEST_POSTGRES_URL is not set: run scripts/test.sh, or scripts/postgres-up.sh and export the URL it prints")
        })
    }

    /// A client on the test database (no schema of its own), for raw SQL.
    pub fn client() -> postgres::Client {
        postgres::Client::connect(&url(), postgres::NoTls).unwrap()
    }

    /// A schema dropped (with everything in it) on drop.
    pub struct Schema(pub String);

    impl Schema {
        pub fn new() -> Self {
            static N: AtomicU32 = AtomicU32::new(0);
            let name = format!(
                "t_{}_{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            );
            client()
                .batch_execute(&format!(
                    "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
                ))
                .unwrap();
            Self(name)
        }

        /// The URL whose connections use this schema.
        pub fn url(&self) -> String {
            let base = url();
            let sep = if base.contains('?') { '&' } else { '?' };
            format!("{base}{sep}options=-c%20search_path%3D{}", self.0)
        }

        /// A client whose statements act on this schema.
        pub fn client(&self) -> postgres::Client {
            let mut c = client();
            c.batch_execute(&format!("SET search_path = {}", self.0))
                .unwrap();
            c
        }
    }

    impl Drop for Schema {
        fn drop(&mut self) {
            if let Ok(mut c) = postgres::Client::connect(&url(), postgres::NoTls) {
                let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.0));
            }
        }
    }
}

/// Whatever holds a repository: a [`Repo`], a shared handle or a backend value.
pub trait AsRepo {
    fn as_repo(&self) -> &dyn Repository;
}

impl AsRepo for Repo {
    fn as_repo(&self) -> &dyn Repository {
        &*self.repo
    }
}

impl AsRepo for std::sync::Arc<dyn Both> {
    fn as_repo(&self) -> &dyn Repository {
        &**self
    }
}

impl AsRepo for SqliteRepository {
    fn as_repo(&self) -> &dyn Repository {
        self
    }
}

pub fn connect(repo: &impl AsRepo, ep: &str, at: i64) -> i64 {
    repo.as_repo()
        .session_started(&NewSession {
            endpoint: ep.into(),
            cert_fingerprint: Some(fingerprint(ep.as_bytes())),
            manager_instance: "m1".into(),
            peer_address: "127.0.0.1:40000".into(),
            at: UnixTime(at),
        })
        .unwrap()
}

pub fn rec(id: &str, record_id: u32) -> Record {
    Record {
        software_identifier: id.into(),
        data_model: DataModel::SWID_2015,
        source_id: 0,
        record_id,
        locator: String::new(),
        tag: None,
    }
}

pub fn with_tag(mut r: Record, tag: Vec<u8>) -> Record {
    r.tag = Some(tag);
    r
}

pub fn inventory(epoch: u32, last_eid: u32, at: i64, records: Vec<Record>) -> Inventory {
    Inventory {
        epoch,
        last_eid,
        received_at: UnixTime(at),
        records,
    }
}

pub fn event(eid: u32, action: EventAction, r: Record) -> SoftwareEvent {
    SoftwareEvent {
        eid,
        timestamp: UnixTime(1_000 + i64::from(eid)),
        action,
        record: r,
    }
}

pub fn batch(epoch: u32, last_eid: u32, at: i64, events: Vec<SoftwareEvent>) -> EventBatch {
    EventBatch {
        epoch,
        last_eid,
        received_at: UnixTime(at),
        events,
    }
}

/// A SWID XML tag; its software identifier is `{regid}__{tag_id}`.
pub fn swid(name: &str, version: &str, vendor: &str, regid: &str, tag_id: &str) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<SoftwareIdentity xmlns="http://standards.iso.org/iso/19770/-2/2015/schema.xsd" name="{name}" version="{version}" tagId="{tag_id}">
  <Entity name="{vendor}" regid="{regid}" role="tagCreator softwareCreator"/>
</SoftwareIdentity>
"#
    )
    .into_bytes()
}

pub fn ids(v: &[InstalledSoftware]) -> Vec<&str> {
    v.iter().map(|s| s.software_identifier.as_str()).collect()
}

pub const ALL: Page = Page {
    offset: 0,
    limit: 10_000,
};
