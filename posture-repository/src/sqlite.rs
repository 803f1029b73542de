//! The SQLite backend: one file, WAL, foreign keys on, cached prepared statements, one
//! transaction per call.

mod events;
mod guidance;
mod ingest;
mod query;

use ingest::SqliteStore;

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::chain::{ChainHead, hash32};
use crate::error::{Error, Result};
use crate::events::{NewEvent, Publish, StoredEvent};
use crate::ingest::{self as shared, SoftwareIds};
use crate::limits::{Limits, check};
use crate::migrations::{self, BOOKKEEPING};
use crate::model::*;
use crate::repository::Repository;

/// How hard a commit waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous=NORMAL` in WAL mode: a committed transaction survives a crash of the
    /// process; a power loss may roll back the newest commits, whole (the SWIMA position is in
    /// the same transaction, so the next session asks again for exactly what was lost).
    #[default]
    Normal,
    /// `synchronous=FULL`: a commit survives power loss too (slower commits).
    Full,
}

/// Settings of [`SqliteRepository::open`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SqliteConfig {
    /// Limits.
    pub limits: Limits,
    /// Commit durability.
    pub durability: Durability,
}

/// The SQLite [`Repository`]. One connection behind a mutex: calls are serialised (SQLite has
/// one writer anyway); other processes may open the same file (WAL, busy timeout 5 s).
///
/// ```
/// use posture_repository::{Repository, SqliteRepository, SqliteConfig, NewSession, UnixTime, Page};
/// let repo = SqliteRepository::open_in_memory(SqliteConfig::default())?;
/// let s = repo.session_started(&NewSession {
///     endpoint: "CN=host1".into(), cert_fingerprint: None,
///     manager_instance: "m1".into(), peer_address: "127.0.0.1:40000".into(), at: UnixTime(100),
/// })?;
/// assert_eq!(repo.connected_endpoints(Page::first(10))?.len(), 1);
/// repo.session_ended(s, UnixTime(160), Some("allow"))?;
/// assert!(repo.connected_endpoints(Page::first(10))?.is_empty());
/// # Ok::<(), posture_repository::Error>(())
/// ```
#[derive(Debug)]
pub struct SqliteRepository {
    inner: Mutex<Inner>,
    /// A second connection for the reads a manager makes while serving sessions (a file
    /// database in WAL mode only): they no longer wait for a write transaction to end.
    reader: Option<Mutex<Connection>>,
    limits: Limits,
}

#[derive(Debug)]
struct Inner {
    conn: Connection,
    ids: SoftwareIds,
}

impl SqliteRepository {
    /// Opens (creating if needed) the database file and brings its schema to
    /// [`migrations::LATEST`].
    pub fn open(path: impl AsRef<Path>, config: SqliteConfig) -> Result<Self> {
        let conn = Connection::open(path.as_ref())?;
        // Before switching to WAL, which waits for other processes opening the file too.
        conn.busy_timeout(Duration::from_secs(5))?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        tracing::debug!(journal_mode = %mode, "sqlite repository opened");
        let mut repo = Self::setup(conn, config)?;
        if mode.eq_ignore_ascii_case("wal") {
            let reader = Connection::open(path.as_ref())?;
            configure(&reader, Durability::Normal)?;
            reader.pragma_update(None, "query_only", true)?;
            repo.reader = Some(Mutex::new(reader));
        }
        Ok(repo)
    }

    /// A private in-memory database (tests, examples).
    pub fn open_in_memory(config: SqliteConfig) -> Result<Self> {
        Self::setup(Connection::open_in_memory()?, config)
    }

    fn setup(mut conn: Connection, config: SqliteConfig) -> Result<Self> {
        configure(&conn, config.durability)?;
        migrate(&mut conn)?;
        Ok(Self {
            inner: Mutex::new(Inner {
                conn,
                ids: SoftwareIds::default(),
            }),
            reader: None,
            limits: config.limits,
        })
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<u32> {
        Ok(self.lock().query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )?)
    }

    fn lock(&self) -> MappedConn<'_> {
        MappedConn(self.lock_inner())
    }

    /// A connection for a read: the reader (file databases), else the one connection.
    fn read(&self) -> ReadConn<'_> {
        match &self.reader {
            Some(r) => ReadConn::Reader(r.lock().unwrap_or_else(PoisonError::into_inner)),
            None => ReadConn::Main(self.lock()),
        }
    }

    fn lock_inner(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock dropped its transaction (rolled back): the
        // connection is still consistent.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs one write transaction that may learn software ids; they join the cache only
    /// once it committed.
    fn write<T>(
        &self,
        f: impl FnOnce(&mut SqliteStore<'_>, &mut SoftwareIds) -> Result<T>,
    ) -> Result<T> {
        let mut guard = self.lock_inner();
        let Inner { conn, ids } = &mut *guard;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&mut SqliteStore(&tx), ids).and_then(|v| Ok(tx.commit().map(|()| v)?));
        ids.settle(out.is_ok());
        out
    }

    /// Appends the events `publish` makes of `summary` in the transaction of `s`.
    fn publish_in(
        &self,
        s: &mut SqliteStore<'_>,
        summary: IngestSummary,
        publish: &Publish<'_>,
    ) -> Result<(IngestSummary, Vec<StoredEvent>)> {
        let mut out = Vec::new();
        for e in publish(&summary) {
            let id = events::append_in(s.0, &self.limits, &e)?;
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
}

/// The settings of every connection of a repository.
fn configure(conn: &Connection, durability: Durability) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "foreign_keys", true)?;
    let sync = match durability {
        Durability::Normal => "NORMAL",
        Durability::Full => "FULL",
    };
    conn.pragma_update(None, "synchronous", sync)?;
    // 8 MiB of page cache: SQLite walks the cache's hash table at every commit, so a
    // much larger one slows ingest down (seen in a profile at 32 MiB).
    conn.pragma_update(None, "cache_size", -8_192)?;
    // Checkpoint every 4,000 WAL pages (16 MiB) rather than 1,000: hot pages are copied
    // back to the file less often.
    let _: i64 = conn.query_row("PRAGMA wal_autocheckpoint = 4000", [], |r| r.get(0))?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.set_prepared_statement_cache_capacity(128);
    // Query planner stability: plans do not depend on bound values. Without it SQLite marks
    // statements with a bound LIMIT/OFFSET (or LIKE pattern) for re-preparing when their
    // bindings change, and rusqlite's statement cache clears the bindings of every
    // statement it takes back, so each such cached statement was parsed again at every
    // use (~6 % of the manager's CPU under load).
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(())
}

/// The connection a read uses.
enum ReadConn<'a> {
    Reader(MutexGuard<'a, Connection>),
    Main(MappedConn<'a>),
}

impl std::ops::Deref for ReadConn<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        match self {
            Self::Reader(c) => c,
            Self::Main(c) => c,
        }
    }
}

/// The connection of a locked repository.
struct MappedConn<'a>(MutexGuard<'a, Inner>);

impl std::ops::Deref for MappedConn<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.0.conn
    }
}

impl std::ops::DerefMut for MappedConn<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.0.conn
    }
}

fn migrate(conn: &mut Connection) -> Result<()> {
    conn.execute_batch(BOOKKEEPING)?;
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current: u32 = tx.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )?;
        let Some(m) = migrations::pending(current)?.next() else {
            return Ok(());
        };
        tx.execute_batch(m.sqlite)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at)
             VALUES (?1, ?2, CAST(strftime('%s', 'now') AS INTEGER))",
            params![m.version, m.name],
        )?;
        tx.commit()?;
        tracing::debug!(
            version = m.version,
            name = m.name,
            "schema migration applied"
        );
    }
}

fn fp(v: Option<Vec<u8>>) -> Result<Option<[u8; 32]>> {
    v.map(|v| hash32(&v)).transpose()
}

const ENDPOINT_COLUMNS: &str = "e.identifier, e.cert_fingerprint, e.first_seen, e.last_seen,
    EXISTS (SELECT 1 FROM session s WHERE s.endpoint_id = e.id AND s.ended_at IS NULL),
    e.swima_epoch, e.swima_last_eid";

fn endpoint_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Endpoint, Option<Vec<u8>>)> {
    let epoch: Option<u32> = r.get(5)?;
    let last: Option<u32> = r.get(6)?;
    Ok((
        Endpoint {
            identifier: r.get(0)?,
            cert_fingerprint: None,
            first_seen: UnixTime(r.get(2)?),
            last_seen: UnixTime(r.get(3)?),
            connected: r.get(4)?,
            swima: SwimaState::from_columns(epoch, last),
        },
        r.get(1)?,
    ))
}

fn endpoints(
    conn: &Connection,
    filter: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<Endpoint>> {
    let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM endpoint e {filter}");
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map(args, endpoint_row)?;
    let mut out = Vec::new();
    for row in rows {
        let (mut e, f) = row?;
        e.cert_fingerprint = fp(f)?;
        out.push(e);
    }
    Ok(out)
}

impl Repository for SqliteRepository {
    fn limits(&self) -> &Limits {
        &self.limits
    }

    fn session_started(&self, s: &NewSession) -> Result<i64> {
        self.text("endpoint identifier", &s.endpoint)?;
        self.text("manager instance", &s.manager_instance)?;
        self.text("peer address", &s.peer_address)?;
        let mut c = self.lock();
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let fp = s.cert_fingerprint.map(|f| f.to_vec());
        tx.prepare_cached(
            "INSERT INTO endpoint (identifier, cert_fingerprint, first_seen, last_seen)
             VALUES (?1, ?2, ?3, ?3)
             ON CONFLICT (identifier) DO UPDATE SET
                 cert_fingerprint = COALESCE(excluded.cert_fingerprint, cert_fingerprint),
                 last_seen = MAX(last_seen, excluded.last_seen)",
        )?
        .execute(params![s.endpoint, fp, s.at.0])?;
        let ep: i64 = tx
            .prepare_cached("SELECT id FROM endpoint WHERE identifier = ?1")?
            .query_row([&s.endpoint], |r| r.get(0))?;
        tx.prepare_cached(
            "INSERT INTO session (endpoint_id, started_at, manager_instance, peer_address)
             VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![ep, s.at.0, s.manager_instance, s.peer_address])?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(id)
    }

    fn endpoint_seen(&self, identifier: &str, at: UnixTime) -> Result<()> {
        self.text("endpoint identifier", identifier)?;
        self.lock()
            .prepare_cached(
                "INSERT INTO endpoint (identifier, first_seen, last_seen) VALUES (?1, ?2, ?2)
                 ON CONFLICT (identifier) DO UPDATE SET
                     last_seen = MAX(last_seen, excluded.last_seen)",
            )?
            .execute(params![identifier, at.0])?;
        Ok(())
    }

    fn session_ended(&self, session: i64, at: UnixTime, result: Option<&str>) -> Result<()> {
        if let Some(r) = result {
            self.text("session result", r)?;
        }
        let mut c = self.lock();
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = tx
            .prepare_cached(
                "UPDATE session SET ended_at = ?2, result = ?3 WHERE id = ?1 AND ended_at IS NULL",
            )?
            .execute(params![session, at.0, result])?;
        if n == 0 {
            let exists: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM session WHERE id = ?1)",
                [session],
                |r| r.get(0),
            )?;
            if !exists {
                return Err(Error::UnknownSession(session));
            }
        }
        tx.prepare_cached(
            "UPDATE endpoint SET last_seen = MAX(last_seen, ?2)
             WHERE id = (SELECT endpoint_id FROM session WHERE id = ?1)",
        )?
        .execute(params![session, at.0])?;
        tx.commit()?;
        Ok(())
    }

    fn close_open_sessions(&self, instance: &str, at: UnixTime, result: &str) -> Result<usize> {
        let c = self.lock();
        Ok(c.prepare_cached(
            "UPDATE session SET ended_at = ?2, result = ?3
             WHERE manager_instance = ?1 AND ended_at IS NULL",
        )?
        .execute(params![instance, at.0, result])?)
    }

    fn endpoint(&self, identifier: &str) -> Result<Option<Endpoint>> {
        let c = self.read();
        Ok(endpoints(&c, "WHERE e.identifier = ?1", &[&identifier])?
            .into_iter()
            .next())
    }

    fn endpoints(&self, page: Page) -> Result<Vec<Endpoint>> {
        let (l, o) = self.page(page);
        endpoints(
            &self.lock(),
            "ORDER BY e.identifier LIMIT ?1 OFFSET ?2",
            &[&l, &o],
        )
    }

    fn connected_endpoints(&self, page: Page) -> Result<Vec<Endpoint>> {
        let (l, o) = self.page(page);
        endpoints(
            &self.lock(),
            "WHERE EXISTS (SELECT 1 FROM session s WHERE s.endpoint_id = e.id AND s.ended_at IS NULL)
             ORDER BY e.identifier LIMIT ?1 OFFSET ?2",
            &[&l, &o],
        )
    }

    fn sessions(&self, endpoint: &str, page: Page) -> Result<Vec<Session>> {
        let (l, o) = self.page(page);
        let c = self.lock();
        let mut st = c.prepare_cached(
            "SELECT s.id, s.started_at, s.ended_at, s.manager_instance, s.peer_address, s.result
             FROM session s JOIN endpoint e ON e.id = s.endpoint_id
             WHERE e.identifier = ?1 ORDER BY s.id DESC LIMIT ?2 OFFSET ?3",
        )?;
        let rows = st.query_map(params![endpoint, l, o], |r| {
            Ok(Session {
                id: r.get(0)?,
                endpoint: endpoint.to_owned(),
                started_at: UnixTime(r.get(1)?),
                ended_at: r.get::<_, Option<i64>>(2)?.map(UnixTime),
                manager_instance: r.get(3)?,
                peer_address: r.get(4)?,
                result: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn swima_state(&self, endpoint: &str) -> Result<Option<SwimaState>> {
        let c = self.read();
        let row: Option<(Option<u32>, Option<u32>)> = c
            .prepare_cached(
                "SELECT swima_epoch, swima_last_eid FROM endpoint WHERE identifier = ?1",
            )?
            .query_row([endpoint], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (epoch, last) = row.ok_or_else(|| Error::UnknownEndpoint(endpoint.to_owned()))?;
        Ok(SwimaState::from_columns(epoch, last))
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
        self.write(|s, ids| {
            let summary = shared::inventory(s, ids, &self.limits, endpoint, inventory)?;
            self.publish_in(s, summary, publish)
        })
    }

    fn apply_events_publishing(
        &self,
        endpoint: &str,
        batch: &EventBatch,
        publish: &Publish<'_>,
    ) -> Result<(IngestSummary, Vec<StoredEvent>)> {
        check("event batch", batch.events.len(), self.limits.max_records)?;
        self.write(|s, ids| {
            let summary = shared::events(s, ids, &self.limits, endpoint, batch)?;
            self.publish_in(s, summary, publish)
        })
    }

    fn missing_tags(&self, ids: &[String]) -> Result<Vec<String>> {
        check("identifier list", ids.len(), self.limits.max_lookup)?;
        // One statement per 64 identifiers (the last group padded with its last one), so the
        // same cached statement serves every call.
        const GROUP: usize = 64;
        let c = self.read();
        let marks = vec!["?"; GROUP].join(", ");
        let mut st = c.prepare_cached(&format!(
            "SELECT DISTINCT software_identifier FROM tag WHERE software_identifier IN ({marks})"
        ))?;
        let mut held = std::collections::HashSet::new();
        for group in ids.chunks(GROUP) {
            let Some(last) = group.last() else { continue };
            let args = group
                .iter()
                .chain(std::iter::repeat(last))
                .take(GROUP)
                .map(|s| s as &dyn rusqlite::ToSql);
            let rows = st.query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(0))?;
            for r in rows {
                held.insert(r?);
            }
        }
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
        let mut c = self.lock();
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let ep = ingest::endpoint_id(&tx, endpoint)?;
        let mut out = Vec::with_capacity(tags.len());
        for t in tags {
            self.text("software identifier", &t.software_identifier)?;
            check("tag", t.content.len(), self.limits.max_tag_bytes)?;
            out.push(shared::store_tag(
                &mut SqliteStore(&tx),
                &t.software_identifier,
                &t.content,
                Some(ep),
                at,
            )?);
        }
        tx.commit()?;
        Ok(out)
    }

    fn import_tags(
        &self,
        tags: &mut dyn Iterator<Item = (String, Vec<u8>)>,
        at: UnixTime,
    ) -> Result<ImportReport> {
        let mut c = self.lock();
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let report = shared::import_all(&mut SqliteStore(&tx), &self.limits, tags, at)?;
        tx.commit()?;
        Ok(report)
    }

    fn tags(&self, software_identifier: &str) -> Result<Vec<TagInfo>> {
        query::tags(
            &self.lock(),
            "WHERE t.software_identifier = ?1 ORDER BY t.trusted DESC, t.id LIMIT ?2 OFFSET ?3",
            software_identifier,
            self.page(Page::first(self.limits.max_page)),
        )
    }

    fn tag_content(&self, software_identifier: &str, sha256: &[u8; 32]) -> Result<Option<Vec<u8>>> {
        Ok(self
            .lock()
            .prepare_cached(
                "SELECT content FROM tag WHERE software_identifier = ?1 AND sha256 = ?2",
            )?
            .query_row(params![software_identifier, &sha256[..]], |r| r.get(0))
            .optional()?)
    }

    fn tags_by_vendor(&self, vendor: &str, page: Page) -> Result<Vec<TagInfo>> {
        query::tags(
            &self.lock(),
            "WHERE t.vendor = ?1 COLLATE NOCASE OR t.regid = ?1 COLLATE NOCASE
             ORDER BY t.software_identifier, t.trusted DESC, t.id LIMIT ?2 OFFSET ?3",
            vendor,
            self.page(page),
        )
    }

    fn flagged_tags(&self, page: Page) -> Result<Vec<TagInfo>> {
        query::tags(
            &self.lock(),
            "WHERE t.flags != 0 AND ?1 = ?1
             ORDER BY (t.flags & 1) DESC, t.software_identifier, t.id LIMIT ?2 OFFSET ?3",
            "",
            self.page(page),
        )
    }

    fn installed(&self, endpoint: &str, page: Page) -> Result<Vec<InstalledSoftware>> {
        let c = self.read();
        let ep = ingest::endpoint_id(&c, endpoint)?;
        query::installed(&c, ep, self.page(page))
    }

    fn installed_as_of(
        &self,
        endpoint: &str,
        at: UnixTime,
        page: Page,
    ) -> Result<Vec<InstalledSoftware>> {
        let c = self.lock();
        let ep = ingest::endpoint_id(&c, endpoint)?;
        query::installed_as_of(&c, ep, at, self.page(page))
    }

    fn find_software(&self, q: &SoftwareQuery, page: Page) -> Result<Vec<SoftwareMatch>> {
        let mut c = self.lock();
        query::find_software(&mut c, q, self.page(page))
    }

    fn history(&self, endpoint: &str, page: Page) -> Result<Vec<HistoryEntry>> {
        let c = self.lock();
        let ep = ingest::endpoint_id(&c, endpoint)?;
        query::history(&c, ep, self.page(page))
    }

    fn chain_heads(&self, page: Page) -> Result<Vec<ChainHead>> {
        let (l, o) = self.page(page);
        let c = self.lock();
        let mut st = c.prepare_cached(
            "SELECT identifier, head_seq, head_hash FROM endpoint ORDER BY identifier LIMIT ?1 OFFSET ?2",
        )?;
        let rows = st.query_map([l, o], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get::<_, Vec<u8>>(2)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (endpoint, seq, hash) = row?;
            out.push(ChainHead {
                endpoint,
                seq,
                hash: hash32(&hash)?,
            });
        }
        Ok(out)
    }

    fn verify_history(&self) -> Result<ChainReport> {
        let mut c = self.lock();
        // One read transaction: a consistent snapshot even while other processes write.
        let tx = c.transaction()?;
        let r = query::verify(&tx)?;
        tx.commit()?;
        Ok(r)
    }

    fn store_device_posture_publishing(
        &self,
        p: &DevicePosture,
        published: &[NewEvent],
    ) -> Result<Vec<StoredEvent>> {
        self.text("device identity", &p.device)?;
        let json = serde_json::to_string(&p.posture)?;
        check("device posture", json.len(), self.limits.max_json_bytes)?;
        let mut c = self.lock();
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.prepare_cached("INSERT INTO device_posture (device, at, posture) VALUES (?1, ?2, ?3)")?
            .execute(params![p.device, p.at.0, json])?;
        let mut out = Vec::with_capacity(published.len());
        for e in published {
            let id = events::append_in(&tx, &self.limits, e)?;
            out.push(e.stored(id));
        }
        tx.commit()?;
        Ok(out)
    }

    fn device_posture(
        &self,
        device: &str,
        as_of: Option<UnixTime>,
    ) -> Result<Option<DevicePosture>> {
        let c = self.lock();
        let row: Option<(i64, String)> = c
            .prepare_cached(
                "SELECT at, posture FROM device_posture WHERE device = ?1 AND at <= ?2
                 ORDER BY at DESC, id DESC LIMIT 1",
            )?
            .query_row(params![device, as_of.map_or(i64::MAX, |t| t.0)], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        row.map(|(at, json)| DevicePosture::from_stored(device, at, &json))
            .transpose()
    }

    fn device_history(&self, device: &str, page: Page) -> Result<Vec<DevicePosture>> {
        let (l, o) = self.page(page);
        let c = self.lock();
        let mut st = c.prepare_cached(
            "SELECT at, posture FROM device_posture WHERE device = ?1
             ORDER BY at DESC, id DESC LIMIT ?2 OFFSET ?3",
        )?;
        let rows = st.query_map(params![device, l, o], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (at, json) = row?;
            out.push(DevicePosture::from_stored(device, at, &json)?);
        }
        Ok(out)
    }

    fn append_audit(&self, e: &NewAuditEntry) -> Result<i64> {
        self.text("audit actor", &e.actor)?;
        self.text("audit action", &e.action)?;
        let json = serde_json::to_string(&e.params)?;
        check("audit parameters", json.len(), self.limits.max_json_bytes)?;
        let c = self.lock();
        c.prepare_cached("INSERT INTO audit (at, actor, action, params) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![e.at.0, e.actor, e.action, json])?;
        Ok(c.last_insert_rowid())
    }

    fn audit_log(&self, page: Page) -> Result<Vec<AuditEntry>> {
        let (l, o) = self.page(page);
        let c = self.lock();
        let mut st = c.prepare_cached(
            "SELECT id, at, actor, action, params FROM audit ORDER BY id DESC LIMIT ?1 OFFSET ?2",
        )?;
        let rows = st.query_map([l, o], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, at, actor, action, params) = row?;
            out.push(AuditEntry {
                id,
                at: UnixTime(at),
                actor,
                action,
                params: serde_json::from_str(&params)?,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_database_reads_on_its_own_connection_what_was_committed() {
        let dir = std::env::temp_dir().join(format!("posture-reader-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let repo = SqliteRepository::open(dir.join("r.db"), SqliteConfig::default()).unwrap();
        assert!(repo.reader.is_some(), "WAL file: a reader connection");
        repo.session_started(&NewSession {
            endpoint: "ep".into(),
            cert_fingerprint: None,
            manager_instance: "m".into(),
            peer_address: "127.0.0.1:1".into(),
            at: UnixTime(1),
        })
        .unwrap();
        // Committed on the writing connection, seen on the reader at once.
        assert!(repo.endpoint("ep").unwrap().unwrap().connected);
        assert_eq!(repo.swima_state("ep").unwrap(), None);
        // The reader refuses writes.
        let r = repo.read().execute("DELETE FROM endpoint", []);
        assert!(r.is_err(), "{r:?}");
        drop(repo);
        let _ = std::fs::remove_dir_all(&dir);
        let memory = SqliteRepository::open_in_memory(SqliteConfig::default()).unwrap();
        assert!(
            memory.reader.is_none(),
            "an in-memory database has one connection"
        );
    }
}
