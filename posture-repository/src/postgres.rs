//! The PostgreSQL backend (cargo feature `postgres`): several managers share one database.
//!
//! Driver: the `postgres` crate, the synchronous client over tokio-postgres by the same
//! maintainers; [`Repository`] is synchronous, so it fits without a runtime bridge. Each
//! writing call is one transaction on a pooled connection (pool size from the URL's
//! `pool_size`, default [`PostgresConfig::DEFAULT_POOL_SIZE`]). SWIMA ingest locks the
//! endpoint's row (`SELECT … FOR UPDATE`) first, so two sessions of one endpoint, on any
//! managers, apply their batches one after the other and the second sees the first's EID.
//! A transaction the server aborts as a deadlock or serialisation failure is run again (up
//! to [`MAX_ATTEMPTS`] times).

mod events;
mod guidance;
mod pool;
mod signals;
mod store;
mod tls;

use std::time::Duration;

use postgres::error::SqlState;

use self::pool::Pool;
use self::store::{PgStore, Tx, endpoint_id, opt_u32_at, u8_at, u32_at};
use crate::chain::{ChainHead, Walk, hash32};
use crate::error::{Error, Result};
use crate::events::{NewEvent, Publish, StoredEvent};
use crate::ingest::{self as shared, SoftwareIds};
use crate::limits::{Limits, check};
use crate::migrations::{self, BOOKKEEPING, Dialect};
use crate::model::*;
use crate::replay::Replay;
use crate::repository::Repository;

/// Attempts of a write transaction that the server aborted as a deadlock or serialisation
/// failure.
pub const MAX_ATTEMPTS: usize = 5;

/// Runs `f`, which blocks on the `postgres` client, where that is allowed. The client drives
/// its connection with a runtime of its own, and tokio refuses to block a thread that is
/// running asynchronous tasks: so on a multi-thread runtime's worker `f` runs under
/// `block_in_place` (the worker's other tasks move to another thread), on a current-thread
/// runtime on a scoped thread of its own; elsewhere (a plain thread, `spawn_blocking`) as is.
/// A manager's verifiers and API handlers can call the repository wherever they run.
pub(crate) fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        Ok(_) => std::thread::scope(|s| {
            s.spawn(f)
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))
        }),
        Err(_) => f(),
    }
}

/// Advisory lock key held while migrating (any value unlikely to clash: "nea-migr").
const MIGRATION_LOCK: i64 = 0x6e65_612d_6d69_6772;

/// Settings of [`PostgresRepository::open`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresConfig {
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DB?…` (libpq form; see the crate README for
    /// `sslrootcert`, `sslmode` and `pool_size`).
    pub url: String,
    /// Limits.
    pub limits: Limits,
    /// How long a call waits for a free pooled connection.
    pub acquire_timeout: Duration,
}

impl PostgresConfig {
    /// Connections in the pool when the URL gives no `pool_size`.
    pub const DEFAULT_POOL_SIZE: usize = 8;

    /// Defaults for `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            limits: Limits::default(),
            acquire_timeout: Duration::from_secs(30),
        }
    }
}

/// The PostgreSQL [`Repository`].
///
/// ```no_run
/// use posture_repository::{PostgresConfig, PostgresRepository, Repository};
/// let repo = PostgresRepository::open(&PostgresConfig::new(
///     "postgres://nea@db.example/nea?sslrootcert=/etc/nea/db-ca.pem&pool_size=16",
/// ))?;
/// assert!(repo.verify_history()?.is_intact());
/// # Ok::<(), posture_repository::Error>(())
/// ```
#[derive(Debug)]
pub struct PostgresRepository {
    pool: Pool,
    limits: Limits,
    /// `database/schema`, the scope of signal channels (read when first needed).
    scope: std::sync::OnceLock<String>,
}

fn retryable(e: &Error) -> bool {
    matches!(e, Error::Postgres(e) if matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::T_R_SERIALIZATION_FAILURE
    ))
}

fn endpoint_row(r: &postgres::Row) -> Result<Endpoint> {
    let epoch = opt_u32_at(r, 5, "endpoint swima_epoch")?;
    let last = opt_u32_at(r, 6, "endpoint swima_last_eid")?;
    Ok(Endpoint {
        identifier: r.try_get(0)?,
        cert_fingerprint: r.try_get::<_, Option<&[u8]>>(1)?.map(hash32).transpose()?,
        first_seen: UnixTime(r.try_get(2)?),
        last_seen: UnixTime(r.try_get(3)?),
        connected: r.try_get(4)?,
        swima: SwimaState::from_columns(epoch, last),
    })
}

const ENDPOINT_COLUMNS: &str = "e.identifier, e.cert_fingerprint, e.first_seen, e.last_seen,
    EXISTS (SELECT 1 FROM session s WHERE s.endpoint_id = e.id AND s.ended_at IS NULL),
    e.swima_epoch, e.swima_last_eid";

const INSTALLED_COLUMNS: &str = "s.software_identifier, s.name, s.version, s.vendor, s.regid,
    i.dm_pen, i.dm_type, i.source_id, i.record_id, i.locator, i.since";

fn installed_row(r: &postgres::Row, at: usize) -> Result<InstalledSoftware> {
    Ok(InstalledSoftware {
        software_identifier: r.try_get(at)?,
        meta: SoftwareMeta {
            name: r.try_get(at + 1)?,
            version: r.try_get(at + 2)?,
            vendor: r.try_get(at + 3)?,
            regid: r.try_get(at + 4)?,
        },
        data_model: DataModel {
            pen: u32_at(r, at + 5, "installed dm_pen")?,
            kind: u8_at(r, at + 6, "installed dm_type")?,
        },
        source_id: u8_at(r, at + 7, "installed source_id")?,
        record_id: u32_at(r, at + 8, "installed record_id")?,
        locator: r.try_get(at + 9)?,
        since: UnixTime(r.try_get(at + 10)?),
    })
}

const HISTORY_COLUMNS: &str = "seq, at, kind, software_identifier, dm_pen, dm_type, source_id,
    record_id, locator, eid, event_time, epoch, hash";

fn history_row(r: &postgres::Row) -> Result<HistoryEntry> {
    let kind = HistoryKind::from_code(r.try_get(2)?).ok_or(Error::Corrupt("history kind"))?;
    let record = match r.try_get::<_, Option<String>>(3)? {
        None => None,
        Some(software_identifier) => Some(HistoryRecord {
            software_identifier,
            data_model: DataModel {
                pen: opt_u32_at(r, 4, "history dm_pen")?.ok_or(Error::Corrupt("history dm_pen"))?,
                kind: r
                    .try_get::<_, Option<i64>>(5)?
                    .and_then(|v| u8::try_from(v).ok())
                    .ok_or(Error::Corrupt("history dm_type"))?,
            },
            source_id: r
                .try_get::<_, Option<i64>>(6)?
                .and_then(|v| u8::try_from(v).ok())
                .ok_or(Error::Corrupt("history source_id"))?,
            record_id: opt_u32_at(r, 7, "history record_id")?
                .ok_or(Error::Corrupt("history record_id"))?,
            locator: r
                .try_get::<_, Option<String>>(8)?
                .ok_or(Error::Corrupt("history locator"))?,
        }),
    };
    Ok(HistoryEntry {
        seq: r.try_get(0)?,
        at: UnixTime(r.try_get(1)?),
        kind,
        record,
        eid: opt_u32_at(r, 9, "history eid")?,
        event_time: r.try_get::<_, Option<i64>>(10)?.map(UnixTime),
        epoch: u32_at(r, 11, "history epoch")?,
        hash: hash32(r.try_get::<_, &[u8]>(12)?)?,
    })
}

fn tag_row(r: &postgres::Row) -> Result<TagInfo> {
    Ok(TagInfo {
        software_identifier: r.try_get(0)?,
        sha256: hash32(r.try_get::<_, &[u8]>(1)?)?,
        meta: SoftwareMeta {
            name: r.try_get(2)?,
            version: r.try_get(3)?,
            vendor: r.try_get(4)?,
            regid: r.try_get(5)?,
        },
        trusted: r.try_get(6)?,
        flags: TagFlags(u32_at(r, 7, "tag flags")?),
        size: usize::try_from(r.try_get::<_, i64>(8)?).unwrap_or_default(),
        added_at: UnixTime(r.try_get(9)?),
        reported_by: r.try_get(10)?,
    })
}

const TAG_COLUMNS: &str = "SELECT t.software_identifier, t.sha256, t.name, t.version, t.vendor,
    t.regid, t.trusted, t.flags, octet_length(t.content)::BIGINT, t.added_at, e.identifier
    FROM tag t LEFT JOIN endpoint e ON e.id = t.reported_by";

fn migrate(tx: &mut Tx<'_>) -> Result<Option<&'static migrations::Migration>> {
    // One manager migrates at a time; the others wait here and then find nothing to do.
    tx.exec("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.tx.batch_execute(BOOKKEEPING)?;
    let current: i32 = tx
        .one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )?
        .try_get(0)?;
    let current = u32::try_from(current).map_err(|_| Error::Corrupt("schema_migrations"))?;
    let Some(m) = migrations::pending(current)?.next() else {
        return Ok(None);
    };
    let sql = m.sql(Dialect::Postgres).ok_or(Error::SchemaTooNew {
        found: m.version,
        known: m.version.saturating_sub(1),
    })?;
    tx.tx.batch_execute(sql)?;
    let version = i32::try_from(m.version).map_err(|_| Error::Corrupt("schema version"))?;
    tx.exec(
        "INSERT INTO schema_migrations (version, name, applied_at)
         VALUES ($1, $2, EXTRACT(EPOCH FROM now())::BIGINT)",
        &[&version, &m.name],
    )?;
    Ok(Some(m))
}

impl PostgresRepository {
    /// Connects (one connection, to migrate; the pool opens the others when needed) and
    /// brings the schema to [`migrations::LATEST`], each migration in its own transaction
    /// under an advisory lock, so managers starting together migrate once.
    pub fn open(config: &PostgresConfig) -> Result<Self> {
        let mut target = tls::parse(&config.url)?;
        let tls = tls::plan(&mut target)?;
        if target.config.get_connect_timeout().is_none() {
            target.config.connect_timeout(Duration::from_secs(10));
        }
        let size = target
            .pool_size
            .unwrap_or(PostgresConfig::DEFAULT_POOL_SIZE);
        let repo = Self {
            pool: Pool::new(target.config, tls, size, config.acquire_timeout),
            limits: config.limits.clone(),
            scope: std::sync::OnceLock::new(),
        };
        while let Some(m) = repo.run(false, migrate)? {
            tracing::debug!(
                version = m.version,
                name = m.name,
                "schema migration applied"
            );
        }
        Ok(repo)
    }

    /// The schema version of the database.
    pub fn schema_version(&self) -> Result<u32> {
        let v: i32 = self.read(|tx| {
            Ok(tx
                .one(
                    "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                    &[],
                )?
                .try_get(0)?)
        })?;
        u32::try_from(v).map_err(|_| Error::Corrupt("schema_migrations"))
    }

    /// Runs `f` in one transaction and commits; with `retry`, runs it again when the server
    /// aborted it as a deadlock or serialisation failure.
    fn run<T: Send>(
        &self,
        retry: bool,
        mut f: impl FnMut(&mut Tx<'_>) -> Result<T> + Send,
    ) -> Result<T> {
        off_runtime(|| self.run_here(retry, &mut f))
    }

    fn run_here<T>(&self, retry: bool, f: &mut impl FnMut(&mut Tx<'_>) -> Result<T>) -> Result<T> {
        let mut attempt = 1;
        loop {
            let out = (|| {
                let mut conn = self.pool.get()?;
                let pool::Conn { client, stmts } = &mut *conn;
                let mut tx = Tx {
                    tx: client.transaction()?,
                    stmts,
                };
                let v = f(&mut tx)?;
                tx.commit()?;
                Ok(v)
            })();
            match out {
                Err(e) if retry && attempt < MAX_ATTEMPTS && retryable(&e) => {
                    tracing::debug!(attempt, error = %e, "transaction retried");
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    fn write<T: Send>(&self, f: impl FnMut(&mut Tx<'_>) -> Result<T> + Send) -> Result<T> {
        self.run(true, f)
    }

    fn read<T: Send>(&self, f: impl FnMut(&mut Tx<'_>) -> Result<T> + Send) -> Result<T> {
        self.run(false, f)
    }

    /// Appends the events `publish` makes of `summary` in the transaction `tx`.
    fn publish_in(
        &self,
        tx: &mut Tx<'_>,
        summary: IngestSummary,
        publish: &Publish<'_>,
    ) -> Result<(IngestSummary, Vec<StoredEvent>)> {
        let mut out = Vec::new();
        for e in publish(&summary) {
            let id = events::append_in(tx, &self.limits, &e)?;
            out.push(e.stored(id));
        }
        Ok((summary, out))
    }

    fn page(&self, p: Page) -> (i64, i64) {
        (
            i64::from(p.limit.min(self.limits.max_page)),
            i64::from(p.offset),
        )
    }

    fn text(&self, what: &'static str, s: &str) -> Result<()> {
        check(what, s.len(), self.limits.max_text_bytes)
    }

    fn endpoints_where(&self, filter: &str, page: Page) -> Result<Vec<Endpoint>> {
        let (l, o) = self.page(page);
        let sql = format!(
            "SELECT {ENDPOINT_COLUMNS} FROM endpoint e {filter}
             ORDER BY e.identifier LIMIT $1 OFFSET $2"
        );
        self.read(|tx| tx.rows(&sql, &[&l, &o])?.iter().map(endpoint_row).collect())
    }

    fn tags_where(
        &self,
        filter: &str,
        args: &[&(dyn postgres::types::ToSql + Sync)],
        page: Page,
    ) -> Result<Vec<TagInfo>> {
        let (l, o) = self.page(page);
        let n = args.len();
        let sql = format!("{TAG_COLUMNS} {filter} LIMIT ${} OFFSET ${}", n + 1, n + 2);
        let mut all: Vec<&(dyn postgres::types::ToSql + Sync)> = args.to_vec();
        all.push(&l);
        all.push(&o);
        self.read(|tx| tx.rows(&sql, &all)?.iter().map(tag_row).collect())
    }
}

impl Repository for PostgresRepository {
    fn limits(&self) -> &Limits {
        &self.limits
    }

    fn session_started(&self, s: &NewSession) -> Result<i64> {
        self.text("endpoint identifier", &s.endpoint)?;
        self.text("manager instance", &s.manager_instance)?;
        self.text("peer address", &s.peer_address)?;
        let fp = s.cert_fingerprint.as_ref().map(|f| &f[..]);
        self.write(|tx| {
            let ep: i64 = tx
                .one(
                    "INSERT INTO endpoint (identifier, cert_fingerprint, first_seen, last_seen)
                     VALUES ($1, $2, $3, $3)
                     ON CONFLICT (identifier) DO UPDATE SET
                         cert_fingerprint =
                             COALESCE(EXCLUDED.cert_fingerprint, endpoint.cert_fingerprint),
                         last_seen = GREATEST(endpoint.last_seen, EXCLUDED.last_seen)
                     RETURNING id",
                    &[&s.endpoint, &fp, &s.at.0],
                )?
                .try_get(0)?;
            Ok(tx
                .one(
                    "INSERT INTO session (endpoint_id, started_at, manager_instance, peer_address)
                     VALUES ($1, $2, $3, $4) RETURNING id",
                    &[&ep, &s.at.0, &s.manager_instance, &s.peer_address],
                )?
                .try_get(0)?)
        })
    }

    fn endpoint_seen(&self, identifier: &str, at: UnixTime) -> Result<()> {
        self.text("endpoint identifier", identifier)?;
        self.write(|tx| {
            tx.exec(
                "INSERT INTO endpoint (identifier, first_seen, last_seen) VALUES ($1, $2, $2)
                 ON CONFLICT (identifier) DO UPDATE SET
                     last_seen = GREATEST(endpoint.last_seen, EXCLUDED.last_seen)",
                &[&identifier, &at.0],
            )?;
            Ok(())
        })
    }

    fn session_ended(&self, session: i64, at: UnixTime, result: Option<&str>) -> Result<()> {
        if let Some(r) = result {
            self.text("session result", r)?;
        }
        self.write(|tx| {
            let n = tx.exec(
                "UPDATE session SET ended_at = $2, result = $3 WHERE id = $1 AND ended_at IS NULL",
                &[&session, &at.0, &result],
            )?;
            if n == 0 {
                let exists: bool = tx
                    .one(
                        "SELECT EXISTS (SELECT 1 FROM session WHERE id = $1)",
                        &[&session],
                    )?
                    .try_get(0)?;
                if !exists {
                    return Err(Error::UnknownSession(session));
                }
            }
            tx.exec(
                "UPDATE endpoint SET last_seen = GREATEST(last_seen, $2)
                 WHERE id = (SELECT endpoint_id FROM session WHERE id = $1)",
                &[&session, &at.0],
            )?;
            Ok(())
        })
    }

    fn close_open_sessions(&self, instance: &str, at: UnixTime, result: &str) -> Result<usize> {
        let n = self.write(|tx| {
            tx.exec(
                "UPDATE session SET ended_at = $2, result = $3
                 WHERE manager_instance = $1 AND ended_at IS NULL",
                &[&instance, &at.0, &result],
            )
        })?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn endpoint(&self, identifier: &str) -> Result<Option<Endpoint>> {
        let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM endpoint e WHERE e.identifier = $1");
        self.read(|tx| {
            tx.opt(&sql, &[&identifier])?
                .as_ref()
                .map(endpoint_row)
                .transpose()
        })
    }

    fn endpoints(&self, page: Page) -> Result<Vec<Endpoint>> {
        self.endpoints_where("", page)
    }

    fn connected_endpoints(&self, page: Page) -> Result<Vec<Endpoint>> {
        self.endpoints_where(
            "WHERE EXISTS (SELECT 1 FROM session s WHERE s.endpoint_id = e.id AND s.ended_at IS NULL)",
            page,
        )
    }

    fn sessions(&self, endpoint: &str, page: Page) -> Result<Vec<Session>> {
        let (l, o) = self.page(page);
        self.read(|tx| {
            tx.rows(
                "SELECT s.id, s.started_at, s.ended_at, s.manager_instance, s.peer_address,
                     s.result
                 FROM session s JOIN endpoint e ON e.id = s.endpoint_id
                 WHERE e.identifier = $1 ORDER BY s.id DESC LIMIT $2 OFFSET $3",
                &[&endpoint, &l, &o],
            )?
            .iter()
            .map(|r| {
                Ok(Session {
                    id: r.try_get(0)?,
                    endpoint: endpoint.to_owned(),
                    started_at: UnixTime(r.try_get(1)?),
                    ended_at: r.try_get::<_, Option<i64>>(2)?.map(UnixTime),
                    manager_instance: r.try_get(3)?,
                    peer_address: r.try_get(4)?,
                    result: r.try_get(5)?,
                })
            })
            .collect()
        })
    }

    fn swima_state(&self, endpoint: &str) -> Result<Option<SwimaState>> {
        self.read(|tx| {
            let r = tx
                .opt(
                    "SELECT swima_epoch, swima_last_eid FROM endpoint WHERE identifier = $1",
                    &[&endpoint],
                )?
                .ok_or_else(|| Error::UnknownEndpoint(endpoint.to_owned()))?;
            let epoch = opt_u32_at(&r, 0, "endpoint swima_epoch")?;
            let last = opt_u32_at(&r, 1, "endpoint swima_last_eid")?;
            Ok(SwimaState::from_columns(epoch, last))
        })
    }

    fn apply_inventory(&self, endpoint: &str, inventory: &Inventory) -> Result<IngestSummary> {
        // Without events: publishing nothing.
        self.apply_inventory_publishing(endpoint, inventory, &|_| Vec::new())
            .map(|(summary, _)| summary)
    }

    fn apply_events(&self, endpoint: &str, batch: &EventBatch) -> Result<IngestSummary> {
        // Without events: publishing nothing.
        self.apply_events_publishing(endpoint, batch, &|_| Vec::new())
            .map(|(summary, _)| summary)
    }

    fn apply_inventory_publishing(
        &self,
        endpoint: &str,
        inventory: &Inventory,
        publish: &Publish<'_>,
    ) -> Result<(IngestSummary, Vec<StoredEvent>)> {
        check(
            "inventory",
            inventory.records.len(),
            self.limits.max_records,
        )?;
        self.write(|tx| {
            let mut ids = SoftwareIds::default();
            let summary = shared::inventory(
                &mut PgStore::new(tx),
                &mut ids,
                &self.limits,
                endpoint,
                inventory,
            )?;
            self.publish_in(tx, summary, publish)
        })
    }

    fn apply_events_publishing(
        &self,
        endpoint: &str,
        batch: &EventBatch,
        publish: &Publish<'_>,
    ) -> Result<(IngestSummary, Vec<StoredEvent>)> {
        check("event batch", batch.events.len(), self.limits.max_records)?;
        self.write(|tx| {
            let mut ids = SoftwareIds::default();
            let summary = shared::events(
                &mut PgStore::new(tx),
                &mut ids,
                &self.limits,
                endpoint,
                batch,
            )?;
            self.publish_in(tx, summary, publish)
        })
    }

    fn missing_tags(&self, ids: &[String]) -> Result<Vec<String>> {
        check("identifier list", ids.len(), self.limits.max_lookup)?;
        let held: std::collections::HashSet<String> = self.read(|tx| {
            tx.rows(
                "SELECT DISTINCT software_identifier FROM tag WHERE software_identifier = ANY($1)",
                &[&ids],
            )?
            .iter()
            .map(|r| Ok(r.try_get(0)?))
            .collect()
        })?;
        let mut seen = std::collections::HashSet::new();
        Ok(ids
            .iter()
            .filter(|id| seen.insert(id.as_str()) && !held.contains(id.as_str()))
            .cloned()
            .collect())
    }

    fn store_tags(
        &self,
        endpoint: &str,
        tags: &[ReportedTag],
        at: UnixTime,
    ) -> Result<Vec<TagOutcome>> {
        check("tag list", tags.len(), self.limits.max_records)?;
        self.write(|tx| {
            let ep = endpoint_id(tx, endpoint)?;
            let mut out = Vec::with_capacity(tags.len());
            for t in tags {
                self.text("software identifier", &t.software_identifier)?;
                check("tag", t.content.len(), self.limits.max_tag_bytes)?;
                out.push(shared::store_tag(
                    &mut PgStore::new(tx),
                    &t.software_identifier,
                    &t.content,
                    Some(ep),
                    at,
                )?);
            }
            Ok(out)
        })
    }

    fn import_tags(
        &self,
        tags: &mut dyn Iterator<Item = (String, Vec<u8>)>,
        at: UnixTime,
    ) -> Result<ImportReport> {
        // The items are read once, so this transaction is not retried. The iterator need not
        // be `Send`: off a multi-thread runtime's worker by `block_in_place` only.
        let mut tags = Some(tags);
        let mut f = |tx: &mut Tx<'_>| match tags.take() {
            Some(tags) => shared::import_all(&mut PgStore::new(tx), &self.limits, tags, at),
            None => Ok(ImportReport::default()),
        };
        match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => {
                tokio::task::block_in_place(|| self.run_here(false, &mut f))
            }
            _ => self.run_here(false, &mut f),
        }
    }

    fn tags(&self, software_identifier: &str) -> Result<Vec<TagInfo>> {
        self.tags_where(
            "WHERE t.software_identifier = $1 ORDER BY t.trusted DESC, t.id",
            &[&software_identifier],
            Page::first(self.limits.max_page),
        )
    }

    fn tag_content(&self, software_identifier: &str, sha256: &[u8; 32]) -> Result<Option<Vec<u8>>> {
        self.read(|tx| {
            Ok(tx
                .opt(
                    "SELECT content FROM tag WHERE software_identifier = $1 AND sha256 = $2",
                    &[&software_identifier, &&sha256[..]],
                )?
                .map(|r| r.try_get(0))
                .transpose()?)
        })
    }

    fn tags_by_vendor(&self, vendor: &str, page: Page) -> Result<Vec<TagInfo>> {
        self.tags_where(
            r#"WHERE lower(t.vendor) = lower($1::text COLLATE "C")
                  OR lower(t.regid) = lower($1::text COLLATE "C")
               ORDER BY t.software_identifier, t.trusted DESC, t.id"#,
            &[&vendor],
            page,
        )
    }

    fn flagged_tags(&self, page: Page) -> Result<Vec<TagInfo>> {
        self.tags_where(
            "WHERE t.flags != 0 ORDER BY (t.flags & 1) DESC, t.software_identifier, t.id",
            &[],
            page,
        )
    }

    fn installed(&self, endpoint: &str, page: Page) -> Result<Vec<InstalledSoftware>> {
        let (l, o) = self.page(page);
        let sql = format!(
            "SELECT {INSTALLED_COLUMNS} FROM installed i JOIN software s ON s.id = i.software_id
             WHERE i.endpoint_id = $1 ORDER BY s.software_identifier, i.source_id
             LIMIT $2 OFFSET $3"
        );
        self.read(|tx| {
            let ep = endpoint_id(tx, endpoint)?;
            tx.rows(&sql, &[&ep, &l, &o])?
                .iter()
                .map(|r| installed_row(r, 0))
                .collect()
        })
    }

    fn installed_as_of(
        &self,
        endpoint: &str,
        at: UnixTime,
        page: Page,
    ) -> Result<Vec<InstalledSoftware>> {
        let page = self.page(page);
        let sql = format!(
            "SELECT {HISTORY_COLUMNS} FROM history WHERE endpoint_id = $1 AND at <= $2 ORDER BY seq"
        );
        self.read(|tx| {
            let ep = endpoint_id(tx, endpoint)?;
            let mut replay = Replay::default();
            for r in tx.rows(&sql, &[&ep, &at.0])? {
                replay.apply(history_row(&r)?);
            }
            let mut out = Vec::new();
            for (rec, since) in replay.page(page) {
                let meta = tx
                    .opt(
                        "SELECT name, version, vendor, regid FROM software
                         WHERE software_identifier = $1",
                        &[&rec.software_identifier],
                    )?
                    .map(|r| -> Result<_> {
                        Ok(SoftwareMeta {
                            name: r.try_get(0)?,
                            version: r.try_get(1)?,
                            vendor: r.try_get(2)?,
                            regid: r.try_get(3)?,
                        })
                    })
                    .transpose()?
                    .unwrap_or_default();
                out.push(InstalledSoftware {
                    software_identifier: rec.software_identifier,
                    meta,
                    data_model: rec.data_model,
                    source_id: rec.source_id,
                    record_id: rec.record_id,
                    locator: rec.locator,
                    since,
                });
            }
            Ok(out)
        })
    }

    fn find_software(&self, q: &SoftwareQuery, page: Page) -> Result<Vec<SoftwareMatch>> {
        let (l, o) = self.page(page);
        // 1. Candidate software by name / vendor (indexed on lower()), 2. version range in
        // Rust (the order is not SQL's), 3. the endpoints holding any candidate, paged.
        let mut sql = String::from("SELECT id, version FROM software WHERE TRUE");
        let mut args: Vec<&(dyn postgres::types::ToSql + Sync)> = Vec::new();
        if let Some(name) = &q.name {
            args.push(name);
            sql.push_str(&format!(
                r#" AND lower(name) = lower(${}::text COLLATE "C")"#,
                args.len()
            ));
        }
        if let Some(vendor) = &q.vendor {
            args.push(vendor);
            let n = args.len();
            sql.push_str(&format!(
                r#" AND (lower(vendor) = lower(${n}::text COLLATE "C")
                     OR lower(regid) = lower(${n}::text COLLATE "C"))"#
            ));
        }
        let matches = format!(
            "SELECT e.identifier,
                 EXISTS (SELECT 1 FROM session x WHERE x.endpoint_id = e.id AND x.ended_at IS NULL),
                 {INSTALLED_COLUMNS}
             FROM installed i
             JOIN software s ON s.id = i.software_id
             JOIN endpoint e ON e.id = i.endpoint_id
             WHERE i.software_id = ANY($1)
             ORDER BY e.identifier, s.software_identifier, i.source_id LIMIT $2 OFFSET $3"
        );
        self.read(|tx| {
            let mut ids: Vec<i64> = Vec::new();
            for r in tx.rows(&sql, &args)? {
                let version: Option<String> = r.try_get(1)?;
                if q.versions.is_any() || version.is_some_and(|v| q.versions.contains(&v)) {
                    ids.push(r.try_get(0)?);
                }
            }
            tx.rows(&matches, &[&ids, &l, &o])?
                .iter()
                .map(|r| {
                    Ok(SoftwareMatch {
                        endpoint: r.try_get(0)?,
                        connected: r.try_get(1)?,
                        software: installed_row(r, 2)?,
                    })
                })
                .collect()
        })
    }

    fn history(&self, endpoint: &str, page: Page) -> Result<Vec<HistoryEntry>> {
        let (l, o) = self.page(page);
        let sql = format!(
            "SELECT {HISTORY_COLUMNS} FROM history WHERE endpoint_id = $1 ORDER BY seq
             LIMIT $2 OFFSET $3"
        );
        self.read(|tx| {
            let ep = endpoint_id(tx, endpoint)?;
            tx.rows(&sql, &[&ep, &l, &o])?
                .iter()
                .map(history_row)
                .collect()
        })
    }

    fn chain_heads(&self, page: Page) -> Result<Vec<ChainHead>> {
        let (l, o) = self.page(page);
        self.read(|tx| {
            tx.rows(
                "SELECT identifier, head_seq, head_hash FROM endpoint ORDER BY identifier
                 LIMIT $1 OFFSET $2",
                &[&l, &o],
            )?
            .iter()
            .map(|r| {
                Ok(ChainHead {
                    endpoint: r.try_get(0)?,
                    seq: r.try_get(1)?,
                    hash: hash32(r.try_get::<_, &[u8]>(2)?)?,
                })
            })
            .collect()
        })
    }

    fn verify_history(&self) -> Result<ChainReport> {
        let sql =
            format!("SELECT {HISTORY_COLUMNS} FROM history WHERE endpoint_id = $1 ORDER BY seq");
        self.read(|tx| {
            // One snapshot for the whole walk, however many managers write meanwhile.
            tx.exec(
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY",
                &[],
            )?;
            let mut report = ChainReport::default();
            let eps = tx.rows(
                "SELECT id, identifier, head_seq, head_hash FROM endpoint ORDER BY identifier",
                &[],
            )?;
            for ep in eps {
                let (id, identifier): (i64, String) = (ep.try_get(0)?, ep.try_get(1)?);
                let (head_seq, head_hash): (i64, &[u8]) = (ep.try_get(2)?, ep.try_get(3)?);
                report.endpoints += 1;
                let mut walk = Walk::new(&identifier);
                for r in tx.rows(&sql, &[&id])? {
                    report.rows += 1;
                    // Unreadable column values: the row was edited.
                    let row = history_row(&r)
                        .map_err(|_| r.try_get::<_, i64>(0).unwrap_or(walk.expected_seq()));
                    if !walk.row(row) {
                        break;
                    }
                }
                if let Some((seq, problem)) = walk.finish(head_seq, head_hash) {
                    report.faults.push(ChainFault {
                        endpoint: identifier,
                        seq,
                        problem,
                    });
                }
            }
            Ok(report)
        })
    }

    fn store_device_posture_publishing(
        &self,
        p: &DevicePosture,
        published: &[NewEvent],
    ) -> Result<Vec<StoredEvent>> {
        self.text("device identity", &p.device)?;
        let json = serde_json::to_string(&p.posture)?;
        check("device posture", json.len(), self.limits.max_json_bytes)?;
        self.write(|tx| {
            tx.exec(
                "INSERT INTO device_posture (device, at, posture) VALUES ($1, $2, $3)",
                &[&p.device, &p.at.0, &json],
            )?;
            let mut out = Vec::with_capacity(published.len());
            for e in published {
                let id = events::append_in(tx, &self.limits, e)?;
                out.push(e.stored(id));
            }
            Ok(out)
        })
    }

    fn device_posture(
        &self,
        device: &str,
        as_of: Option<UnixTime>,
    ) -> Result<Option<DevicePosture>> {
        let until = as_of.map_or(i64::MAX, |t| t.0);
        let row = self.read(|tx| {
            tx.opt(
                "SELECT at, posture FROM device_posture WHERE device = $1 AND at <= $2
                 ORDER BY at DESC, id DESC LIMIT 1",
                &[&device, &until],
            )?
            .map(|r| -> Result<(i64, String)> { Ok((r.try_get(0)?, r.try_get(1)?)) })
            .transpose()
        })?;
        row.map(|(at, json)| DevicePosture::from_stored(device, at, &json))
            .transpose()
    }

    fn device_history(&self, device: &str, page: Page) -> Result<Vec<DevicePosture>> {
        let (l, o) = self.page(page);
        self.read(|tx| {
            tx.rows(
                "SELECT at, posture FROM device_posture WHERE device = $1
                 ORDER BY at DESC, id DESC LIMIT $2 OFFSET $3",
                &[&device, &l, &o],
            )?
            .iter()
            .map(|r| DevicePosture::from_stored(device, r.try_get(0)?, r.try_get(1)?))
            .collect()
        })
    }

    fn append_audit(&self, e: &NewAuditEntry) -> Result<i64> {
        self.text("audit actor", &e.actor)?;
        self.text("audit action", &e.action)?;
        let json = serde_json::to_string(&e.params)?;
        check("audit parameters", json.len(), self.limits.max_json_bytes)?;
        self.write(|tx| {
            Ok(tx
                .one(
                    "INSERT INTO audit (at, actor, action, params) VALUES ($1, $2, $3, $4)
                     RETURNING id",
                    &[&e.at.0, &e.actor, &e.action, &json],
                )?
                .try_get(0)?)
        })
    }

    fn audit_log(&self, page: Page) -> Result<Vec<AuditEntry>> {
        let (l, o) = self.page(page);
        self.read(|tx| {
            tx.rows(
                "SELECT id, at, actor, action, params FROM audit ORDER BY id DESC
                 LIMIT $1 OFFSET $2",
                &[&l, &o],
            )?
            .iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get(0)?,
                    at: UnixTime(r.try_get(1)?),
                    actor: r.try_get(2)?,
                    action: r.try_get(3)?,
                    params: serde_json::from_str(r.try_get::<_, &str>(4)?)?,
                })
            })
            .collect()
        })
    }
}
