//! Statements on one pooled connection: a transaction with a prepared-statement cache, typed
//! column reads, and ingest's statements ([`crate::ingest::Store`]).

use std::collections::HashMap;

use postgres::types::ToSql;
use postgres::{Row, Statement};

use crate::chain::{RowFields, hash32};
use crate::error::{Error, Result};
use crate::ingest::{EndpointRow, NewTag, Store};
use crate::model::*;

/// Parameters of one statement.
pub(super) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// Statements kept per connection before the cache starts over.
const MAX_CACHED: usize = 256;

/// A transaction on a pooled connection.
pub(super) struct Tx<'a> {
    pub(super) tx: postgres::Transaction<'a>,
    pub(super) stmts: &'a mut HashMap<String, Statement>,
}

impl Tx<'_> {
    fn st(&mut self, sql: &str) -> Result<Statement> {
        if let Some(s) = self.stmts.get(sql) {
            return Ok(s.clone());
        }
        let s = self.tx.prepare(sql)?;
        if self.stmts.len() >= MAX_CACHED {
            self.stmts.clear();
        }
        self.stmts.insert(sql.to_owned(), s.clone());
        Ok(s)
    }

    pub(super) fn exec(&mut self, sql: &str, p: Params<'_>) -> Result<u64> {
        let st = self.st(sql)?;
        Ok(self.tx.execute(&st, p)?)
    }

    pub(super) fn rows(&mut self, sql: &str, p: Params<'_>) -> Result<Vec<Row>> {
        let st = self.st(sql)?;
        Ok(self.tx.query(&st, p)?)
    }

    pub(super) fn opt(&mut self, sql: &str, p: Params<'_>) -> Result<Option<Row>> {
        let st = self.st(sql)?;
        Ok(self.tx.query_opt(&st, p)?)
    }

    pub(super) fn one(&mut self, sql: &str, p: Params<'_>) -> Result<Row> {
        let st = self.st(sql)?;
        Ok(self.tx.query_one(&st, p)?)
    }

    pub(super) fn commit(self) -> Result<()> {
        Ok(self.tx.commit()?)
    }
}

/// A `BIGINT` column that holds a `u32`.
pub(super) fn u32_at(r: &Row, i: usize, what: &'static str) -> Result<u32> {
    u32::try_from(r.try_get::<_, i64>(i)?).map_err(|_| Error::Corrupt(what))
}

/// A nullable `BIGINT` column that holds a `u32`.
pub(super) fn opt_u32_at(r: &Row, i: usize, what: &'static str) -> Result<Option<u32>> {
    r.try_get::<_, Option<i64>>(i)?
        .map(|v| u32::try_from(v).map_err(|_| Error::Corrupt(what)))
        .transpose()
}

/// A `BIGINT` column that holds a `u8`.
pub(super) fn u8_at(r: &Row, i: usize, what: &'static str) -> Result<u8> {
    u8::try_from(r.try_get::<_, i64>(i)?).map_err(|_| Error::Corrupt(what))
}

pub(super) fn endpoint_id(tx: &mut Tx<'_>, identifier: &str) -> Result<i64> {
    tx.opt(
        "SELECT id FROM endpoint WHERE identifier = $1",
        &[&identifier],
    )?
    .map(|r| r.try_get(0))
    .transpose()?
    .ok_or_else(|| Error::UnknownEndpoint(identifier.to_owned()))
}

fn software_id(tx: &mut Tx<'_>, identifier: &str) -> Result<i64> {
    // One statement, new or known software alike. When another transaction inserted the same
    // identifier concurrently, the insert waits for it and does nothing, and the statement's
    // snapshot (taken before) does not see its row: then a second statement reads it.
    if let Some(r) = tx.opt(
        "WITH ins AS (
             INSERT INTO software (software_identifier) VALUES ($1)
             ON CONFLICT (software_identifier) DO NOTHING RETURNING id)
         SELECT id FROM ins
         UNION ALL SELECT id FROM software WHERE software_identifier = $1
         LIMIT 1",
        &[&identifier],
    )? {
        return Ok(r.try_get(0)?);
    }
    Ok(tx
        .one(
            "SELECT id FROM software WHERE software_identifier = $1",
            &[&identifier],
        )?
        .try_get(0)?)
}

/// History rows kept back to be written by one statement ([`PgStore`]).
const HISTORY_BATCH: usize = 5_000;

/// History rows not written yet, as the columns of a multi-row insert.
#[derive(Default)]
struct HistoryRows {
    seq: Vec<i64>,
    at: Vec<i64>,
    kind: Vec<i64>,
    ident: Vec<Option<String>>,
    pen: Vec<Option<i64>>,
    dm_type: Vec<Option<i64>>,
    source: Vec<Option<i64>>,
    record_id: Vec<Option<i64>>,
    locator: Vec<Option<String>>,
    eid: Vec<Option<i64>>,
    event_time: Vec<Option<i64>>,
    epoch: Vec<i64>,
    hash: Vec<Vec<u8>>,
}

/// Ingest's statements inside one transaction. History rows (never read back inside the
/// transaction) are written together, up to [`HISTORY_BATCH`] per statement, at the latest
/// when the chain head is stored: one round trip instead of one per row.
pub(super) struct PgStore<'a, 'b> {
    tx: &'a mut Tx<'b>,
    history: Option<(i64, HistoryRows)>,
}

impl<'a, 'b> PgStore<'a, 'b> {
    pub(super) fn new(tx: &'a mut Tx<'b>) -> Self {
        Self { tx, history: None }
    }

    fn flush_history(&mut self) -> Result<()> {
        let Some((ep, h)) = self.history.take() else {
            return Ok(());
        };
        self.tx.exec(
            "INSERT INTO history (endpoint_id, seq, at, kind, software_identifier, dm_pen,
                 dm_type, source_id, record_id, locator, eid, event_time, epoch, hash)
             SELECT $1, * FROM unnest($2::BIGINT[], $3::BIGINT[], $4::BIGINT[], $5::TEXT[],
                 $6::BIGINT[], $7::BIGINT[], $8::BIGINT[], $9::BIGINT[], $10::TEXT[],
                 $11::BIGINT[], $12::BIGINT[], $13::BIGINT[], $14::BYTEA[])",
            &[
                &ep,
                &h.seq,
                &h.at,
                &h.kind,
                &h.ident,
                &h.pen,
                &h.dm_type,
                &h.source,
                &h.record_id,
                &h.locator,
                &h.eid,
                &h.event_time,
                &h.epoch,
                &h.hash,
            ],
        )?;
        Ok(())
    }
}

impl Store for PgStore<'_, '_> {
    fn lock_endpoint(&mut self, identifier: &str) -> Result<Option<EndpointRow>> {
        // FOR UPDATE: a second session of the endpoint (on any manager) waits here until this
        // transaction ends, then reads the position it left.
        let Some(r) = self.tx.opt(
            "SELECT id, swima_epoch, swima_last_eid, head_seq, head_hash
             FROM endpoint WHERE identifier = $1 FOR UPDATE",
            &[&identifier],
        )?
        else {
            return Ok(None);
        };
        let epoch = opt_u32_at(&r, 1, "endpoint swima_epoch")?;
        let last = opt_u32_at(&r, 2, "endpoint swima_last_eid")?;
        Ok(Some(EndpointRow {
            id: r.try_get(0)?,
            state: SwimaState::from_columns(epoch, last),
            head_seq: r.try_get(3)?,
            head_hash: hash32(r.try_get::<_, &[u8]>(4)?)?,
        }))
    }

    fn insert_history(&mut self, ep: i64, row: &RowFields<'_>, hash: &[u8; 32]) -> Result<()> {
        if self.history.as_ref().is_some_and(|(e, _)| *e != ep) {
            self.flush_history()?;
        }
        let (_, h) = self
            .history
            .get_or_insert_with(|| (ep, HistoryRows::default()));
        let rec = row.record;
        h.seq.push(row.seq);
        h.at.push(row.at);
        h.kind.push(i64::from(row.kind.code()));
        h.ident.push(rec.map(|r| r.software_identifier.clone()));
        h.pen.push(rec.map(|r| i64::from(r.data_model.pen)));
        h.dm_type.push(rec.map(|r| i64::from(r.data_model.kind)));
        h.source.push(rec.map(|r| i64::from(r.source_id)));
        h.record_id.push(rec.map(|r| i64::from(r.record_id)));
        h.locator.push(rec.map(|r| r.locator.clone()));
        h.eid.push(row.eid.map(i64::from));
        h.event_time.push(row.event_time);
        h.epoch.push(i64::from(row.epoch));
        h.hash.push(hash.to_vec());
        if h.seq.len() >= HISTORY_BATCH {
            self.flush_history()?;
        }
        Ok(())
    }

    fn set_head(&mut self, ep: i64, seq: i64, hash: &[u8; 32], state: SwimaState) -> Result<()> {
        self.flush_history()?;
        self.tx.exec(
            "UPDATE endpoint SET head_seq = $2, head_hash = $3, swima_epoch = $4,
                 swima_last_eid = $5 WHERE id = $1",
            &[
                &ep,
                &seq,
                &&hash[..],
                &i64::from(state.epoch),
                &i64::from(state.last_eid),
            ],
        )?;
        Ok(())
    }

    fn installed_records(&mut self, ep: i64) -> Result<Vec<(HistoryRecord, i64)>> {
        let rows = self.tx.rows(
            "SELECT s.software_identifier, i.source_id, i.record_id, i.locator, i.dm_pen,
                 i.dm_type, i.software_id
             FROM installed i JOIN software s ON s.id = i.software_id WHERE i.endpoint_id = $1",
            &[&ep],
        )?;
        rows.iter()
            .map(|r| {
                let rec = HistoryRecord {
                    software_identifier: r.try_get(0)?,
                    source_id: u8_at(r, 1, "installed source_id")?,
                    record_id: u32_at(r, 2, "installed record_id")?,
                    locator: r.try_get(3)?,
                    data_model: DataModel {
                        pen: u32_at(r, 4, "installed dm_pen")?,
                        kind: u8_at(r, 5, "installed dm_type")?,
                    },
                };
                Ok((rec, r.try_get(6)?))
            })
            .collect()
    }

    fn software_id(&mut self, identifier: &str) -> Result<i64> {
        software_id(self.tx, identifier)
    }

    fn upsert_installed(
        &mut self,
        ep: i64,
        sw: i64,
        r: &HistoryRecord,
        at: UnixTime,
    ) -> Result<()> {
        self.tx.exec(
            "INSERT INTO installed (endpoint_id, software_id, source_id, record_id, locator,
                 dm_pen, dm_type, since) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (endpoint_id, software_id, source_id) DO UPDATE SET
                 record_id = EXCLUDED.record_id, locator = EXCLUDED.locator,
                 dm_pen = EXCLUDED.dm_pen, dm_type = EXCLUDED.dm_type",
            &[
                &ep,
                &sw,
                &i64::from(r.source_id),
                &i64::from(r.record_id),
                &r.locator,
                &i64::from(r.data_model.pen),
                &i64::from(r.data_model.kind),
                &at.0,
            ],
        )?;
        Ok(())
    }

    fn delete_installed(&mut self, ep: i64, sw: i64, source_id: u8) -> Result<()> {
        self.tx.exec(
            "DELETE FROM installed WHERE endpoint_id = $1 AND software_id = $2 AND source_id = $3",
            &[&ep, &sw, &i64::from(source_id)],
        )?;
        Ok(())
    }

    fn lock_tag_identifier(&mut self, identifier: &str) -> Result<()> {
        // Two managers storing tags of one identifier at once would each see "no other tag"
        // and miss a disagreement flag: serialise them on a transaction-scoped advisory lock.
        self.tx.exec(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            &[&identifier],
        )?;
        Ok(())
    }

    fn tag_trusted(&mut self, identifier: &str, sha256: &[u8; 32]) -> Result<Option<bool>> {
        Ok(self
            .tx
            .opt(
                "SELECT trusted FROM tag WHERE software_identifier = $1 AND sha256 = $2",
                &[&identifier, &&sha256[..]],
            )?
            .map(|r| r.try_get(0))
            .transpose()?)
    }

    fn tags_held(&mut self, identifier: &str) -> Result<(bool, bool)> {
        let r = self.tx.one(
            "SELECT COALESCE(bool_or(trusted), FALSE), COUNT(*) > 0 FROM tag
             WHERE software_identifier = $1",
            &[&identifier],
        )?;
        Ok((r.try_get(0)?, r.try_get(1)?))
    }

    fn insert_tag(&mut self, t: &NewTag<'_>) -> Result<bool> {
        let n = self.tx.exec(
            "INSERT INTO tag (software_identifier, sha256, content, trusted, flags, name,
                 version, vendor, regid, added_at, reported_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT (software_identifier, sha256) DO NOTHING",
            &[
                &t.identifier,
                &&t.sha256[..],
                &t.content,
                &t.trusted,
                &i64::from(t.flags.0),
                &t.meta.name,
                &t.meta.version,
                &t.meta.vendor,
                &t.meta.regid,
                &t.at.0,
                &t.reported_by,
            ],
        )?;
        Ok(n == 1)
    }

    fn trust_tag(&mut self, identifier: &str, sha256: &[u8; 32]) -> Result<()> {
        self.tx.exec(
            "UPDATE tag SET trusted = TRUE, flags = flags & ~3::BIGINT
             WHERE software_identifier = $1 AND sha256 = $2",
            &[&identifier, &&sha256[..]],
        )?;
        Ok(())
    }

    fn flag_conflicts(&mut self, identifier: &str, sha256: &[u8; 32]) -> Result<()> {
        self.tx.exec(
            "UPDATE tag SET flags = (flags | 1) & ~2::BIGINT
             WHERE software_identifier = $1 AND NOT trusted AND sha256 != $2",
            &[&identifier, &&sha256[..]],
        )?;
        Ok(())
    }

    fn set_software_meta(
        &mut self,
        identifier: &str,
        m: &SoftwareMeta,
        trusted: bool,
    ) -> Result<()> {
        software_id(self.tx, identifier)?;
        self.tx.exec(
            "UPDATE software SET name = $2, version = $3, vendor = $4, regid = $5,
                 meta_trusted = $6
             WHERE software_identifier = $1 AND ($6 OR (NOT meta_trusted AND name IS NULL))",
            &[
                &identifier,
                &m.name,
                &m.version,
                &m.vendor,
                &m.regid,
                &trusted,
            ],
        )?;
        Ok(())
    }
}
