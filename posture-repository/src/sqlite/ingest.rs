//! The SQLite statements of ingest ([`crate::ingest::Store`]).

use rusqlite::{Connection, OptionalExtension, params};

use crate::chain::RowFields;
use crate::chain::hash32;
use crate::error::{Error, Result};
use crate::ingest::{EndpointRow, NewTag, Store};
use crate::model::*;

pub(super) fn endpoint_id(c: &Connection, identifier: &str) -> Result<i64> {
    c.prepare_cached("SELECT id FROM endpoint WHERE identifier = ?1")?
        .query_row([identifier], |r| r.get(0))
        .optional()?
        .ok_or_else(|| Error::UnknownEndpoint(identifier.to_owned()))
}

/// Ingest's statements on a connection inside a write (`IMMEDIATE`) transaction: SQLite has
/// one writer, so the endpoint row needs no lock of its own.
pub(super) struct SqliteStore<'a>(pub(super) &'a Connection);

fn software_id(c: &Connection, identifier: &str) -> Result<i64> {
    // Insert first: software seen for the first time costs one statement.
    let inserted = c
        .prepare_cached("INSERT OR IGNORE INTO software (software_identifier) VALUES (?1)")?
        .execute([identifier])?;
    if inserted == 1 {
        return Ok(c.last_insert_rowid());
    }
    Ok(
        c.prepare_cached("SELECT id FROM software WHERE software_identifier = ?1")?
            .query_row([identifier], |r| r.get(0))?,
    )
}

impl Store for SqliteStore<'_> {
    fn lock_endpoint(&mut self, identifier: &str) -> Result<Option<EndpointRow>> {
        type Row = (i64, Option<u32>, Option<u32>, i64, Vec<u8>);
        let row: Option<Row> = self
            .0
            .prepare_cached(
                "SELECT id, swima_epoch, swima_last_eid, head_seq, head_hash
                 FROM endpoint WHERE identifier = ?1",
            )?
            .query_row([identifier], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()?;
        row.map(|(id, epoch, last, head_seq, hash)| {
            Ok(EndpointRow {
                id,
                state: SwimaState::from_columns(epoch, last),
                head_seq,
                head_hash: hash32(&hash)?,
            })
        })
        .transpose()
    }

    fn insert_history(&mut self, ep: i64, row: &RowFields<'_>, hash: &[u8; 32]) -> Result<()> {
        let record = row.record;
        self.0
            .prepare_cached(
                "INSERT INTO history (endpoint_id, seq, at, kind, software_identifier, dm_pen,
                     dm_type, source_id, record_id, locator, eid, event_time, epoch, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )?
            .execute(params![
                ep,
                row.seq,
                row.at,
                row.kind.code(),
                record.map(|r| &r.software_identifier),
                record.map(|r| r.data_model.pen),
                record.map(|r| r.data_model.kind),
                record.map(|r| r.source_id),
                record.map(|r| r.record_id),
                record.map(|r| &r.locator),
                row.eid,
                row.event_time,
                row.epoch,
                &hash[..],
            ])?;
        Ok(())
    }

    fn set_head(&mut self, ep: i64, seq: i64, hash: &[u8; 32], state: SwimaState) -> Result<()> {
        self.0
            .prepare_cached(
                "UPDATE endpoint SET head_seq = ?2, head_hash = ?3, swima_epoch = ?4,
                     swima_last_eid = ?5 WHERE id = ?1",
            )?
            .execute(params![ep, seq, &hash[..], state.epoch, state.last_eid])?;
        Ok(())
    }

    fn installed_records(&mut self, ep: i64) -> Result<Vec<(HistoryRecord, i64)>> {
        let mut st = self.0.prepare_cached(
            "SELECT s.software_identifier, i.source_id, i.record_id, i.locator, i.dm_pen,
                 i.dm_type, i.software_id
             FROM installed i JOIN software s ON s.id = i.software_id WHERE i.endpoint_id = ?1",
        )?;
        let rows = st.query_map([ep], |r| {
            let rec = HistoryRecord {
                software_identifier: r.get(0)?,
                source_id: r.get(1)?,
                record_id: r.get(2)?,
                locator: r.get(3)?,
                data_model: DataModel {
                    pen: r.get(4)?,
                    kind: r.get(5)?,
                },
            };
            Ok((rec, r.get::<_, i64>(6)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn software_id(&mut self, identifier: &str) -> Result<i64> {
        software_id(self.0, identifier)
    }

    fn upsert_installed(
        &mut self,
        ep: i64,
        sw: i64,
        r: &HistoryRecord,
        at: UnixTime,
    ) -> Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO installed (endpoint_id, software_id, source_id, record_id, locator,
                     dm_pen, dm_type, since) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (endpoint_id, software_id, source_id) DO UPDATE SET
                     record_id = excluded.record_id, locator = excluded.locator,
                     dm_pen = excluded.dm_pen, dm_type = excluded.dm_type",
            )?
            .execute(params![
                ep,
                sw,
                r.source_id,
                r.record_id,
                r.locator,
                r.data_model.pen,
                r.data_model.kind,
                at.0
            ])?;
        Ok(())
    }

    fn delete_installed(&mut self, ep: i64, sw: i64, source_id: u8) -> Result<()> {
        self.0
            .prepare_cached(
                "DELETE FROM installed
                 WHERE endpoint_id = ?1 AND software_id = ?2 AND source_id = ?3",
            )?
            .execute(params![ep, sw, source_id])?;
        Ok(())
    }

    fn lock_tag_identifier(&mut self, _identifier: &str) -> Result<()> {
        Ok(())
    }

    fn tag_trusted(&mut self, identifier: &str, sha256: &[u8; 32]) -> Result<Option<bool>> {
        Ok(self
            .0
            .prepare_cached(
                "SELECT trusted FROM tag WHERE software_identifier = ?1 AND sha256 = ?2",
            )?
            .query_row(params![identifier, &sha256[..]], |r| r.get(0))
            .optional()?)
    }

    fn tags_held(&mut self, identifier: &str) -> Result<(bool, bool)> {
        Ok(self
            .0
            .prepare_cached(
                "SELECT COALESCE(MAX(trusted), 0), COUNT(*) > 0 FROM tag
                 WHERE software_identifier = ?1",
            )?
            .query_row([identifier], |r| Ok((r.get(0)?, r.get(1)?)))?)
    }

    fn insert_tag(&mut self, t: &NewTag<'_>) -> Result<bool> {
        let n = self
            .0
            .prepare_cached(
                "INSERT INTO tag (software_identifier, sha256, content, trusted, flags, name,
                     version, vendor, regid, added_at, reported_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT (software_identifier, sha256) DO NOTHING",
            )?
            .execute(params![
                t.identifier,
                &t.sha256[..],
                t.content,
                t.trusted,
                t.flags.0,
                t.meta.name,
                t.meta.version,
                t.meta.vendor,
                t.meta.regid,
                t.at.0,
                t.reported_by
            ])?;
        Ok(n == 1)
    }

    fn trust_tag(&mut self, identifier: &str, sha256: &[u8; 32]) -> Result<()> {
        self.0
            .prepare_cached(
                "UPDATE tag SET trusted = 1, flags = flags & ~3
                 WHERE software_identifier = ?1 AND sha256 = ?2",
            )?
            .execute(params![identifier, &sha256[..]])?;
        Ok(())
    }

    fn flag_conflicts(&mut self, identifier: &str, sha256: &[u8; 32]) -> Result<()> {
        self.0
            .prepare_cached(
                "UPDATE tag SET flags = (flags | 1) & ~2
                 WHERE software_identifier = ?1 AND trusted = 0 AND sha256 != ?2",
            )?
            .execute(params![identifier, &sha256[..]])?;
        Ok(())
    }

    fn set_software_meta(
        &mut self,
        identifier: &str,
        m: &SoftwareMeta,
        trusted: bool,
    ) -> Result<()> {
        software_id(self.0, identifier)?;
        self.0
            .prepare_cached(
                "UPDATE software SET name = ?2, version = ?3, vendor = ?4, regid = ?5,
                     meta_trusted = ?6
                 WHERE software_identifier = ?1 AND (?6 OR (meta_trusted = 0 AND name IS NULL))",
            )?
            .execute(params![
                identifier, m.name, m.version, m.vendor, m.regid, trusted
            ])?;
        Ok(())
    }
}
