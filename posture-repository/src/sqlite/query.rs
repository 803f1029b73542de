//! Reading: tags, installed software (now and as of a time), the C.2 query, history, and the
//! chain walk.

use rusqlite::{Connection, Row, params};

use crate::chain::{Walk, hash32};
use crate::error::{Error, Result};
use crate::model::*;
use crate::replay::Replay;

pub(super) fn tags(
    c: &Connection,
    filter: &str,
    arg: &str,
    (l, o): (i64, i64),
) -> Result<Vec<TagInfo>> {
    let sql = format!(
        "SELECT t.software_identifier, t.sha256, t.name, t.version, t.vendor, t.regid, t.trusted,
             t.flags, length(t.content), t.added_at, e.identifier
         FROM tag t LEFT JOIN endpoint e ON e.id = t.reported_by {filter}"
    );
    let mut st = c.prepare_cached(&sql)?;
    let rows = st.query_map(params![arg, l, o], |r| {
        Ok((
            TagInfo {
                software_identifier: r.get(0)?,
                sha256: [0; 32],
                meta: SoftwareMeta {
                    name: r.get(2)?,
                    version: r.get(3)?,
                    vendor: r.get(4)?,
                    regid: r.get(5)?,
                },
                trusted: r.get(6)?,
                flags: TagFlags(r.get(7)?),
                size: usize::try_from(r.get::<_, i64>(8)?).unwrap_or_default(),
                added_at: UnixTime(r.get(9)?),
                reported_by: r.get(10)?,
            },
            r.get::<_, Vec<u8>>(1)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (mut t, h) = row?;
        t.sha256 = hash32(&h)?;
        out.push(t);
    }
    Ok(out)
}

pub(super) const INSTALLED_COLUMNS: &str =
    "s.software_identifier, s.name, s.version, s.vendor, s.regid,
    i.dm_pen, i.dm_type, i.source_id, i.record_id, i.locator, i.since";

/// Reads [`INSTALLED_COLUMNS`] starting at column `at`.
pub(super) fn installed_row(r: &Row<'_>, at: usize) -> rusqlite::Result<InstalledSoftware> {
    Ok(InstalledSoftware {
        software_identifier: r.get(at)?,
        meta: SoftwareMeta {
            name: r.get(at + 1)?,
            version: r.get(at + 2)?,
            vendor: r.get(at + 3)?,
            regid: r.get(at + 4)?,
        },
        data_model: DataModel {
            pen: r.get(at + 5)?,
            kind: r.get(at + 6)?,
        },
        source_id: r.get(at + 7)?,
        record_id: r.get(at + 8)?,
        locator: r.get(at + 9)?,
        since: UnixTime(r.get(at + 10)?),
    })
}

pub(super) fn installed(
    c: &Connection,
    ep: i64,
    (l, o): (i64, i64),
) -> Result<Vec<InstalledSoftware>> {
    let sql = format!(
        "SELECT {INSTALLED_COLUMNS} FROM installed i JOIN software s ON s.id = i.software_id
         WHERE i.endpoint_id = ?1 ORDER BY s.software_identifier, i.source_id LIMIT ?2 OFFSET ?3"
    );
    let mut st = c.prepare_cached(&sql)?;
    let rows = st.query_map(params![ep, l, o], |r| installed_row(r, 0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn history_row(r: &Row<'_>) -> Result<HistoryEntry> {
    let kind = HistoryKind::from_code(r.get(2)?).ok_or(Error::Corrupt("history kind"))?;
    let ident: Option<String> = r.get(3)?;
    let record = match ident {
        None => None,
        Some(software_identifier) => Some(HistoryRecord {
            software_identifier,
            data_model: DataModel {
                pen: r
                    .get::<_, Option<u32>>(4)?
                    .ok_or(Error::Corrupt("history dm_pen"))?,
                kind: r
                    .get::<_, Option<u8>>(5)?
                    .ok_or(Error::Corrupt("history dm_type"))?,
            },
            source_id: r
                .get::<_, Option<u8>>(6)?
                .ok_or(Error::Corrupt("history source_id"))?,
            record_id: r
                .get::<_, Option<u32>>(7)?
                .ok_or(Error::Corrupt("history record_id"))?,
            locator: r
                .get::<_, Option<String>>(8)?
                .ok_or(Error::Corrupt("history locator"))?,
        }),
    };
    Ok(HistoryEntry {
        seq: r.get(0)?,
        at: UnixTime(r.get(1)?),
        kind,
        record,
        eid: r.get(9)?,
        event_time: r.get::<_, Option<i64>>(10)?.map(UnixTime),
        epoch: r.get(11)?,
        hash: hash32(&r.get::<_, Vec<u8>>(12)?)?,
    })
}

const HISTORY_COLUMNS: &str = "seq, at, kind, software_identifier, dm_pen, dm_type, source_id,
    record_id, locator, eid, event_time, epoch, hash";

pub(super) fn history(c: &Connection, ep: i64, (l, o): (i64, i64)) -> Result<Vec<HistoryEntry>> {
    let sql = format!(
        "SELECT {HISTORY_COLUMNS} FROM history WHERE endpoint_id = ?1 ORDER BY seq LIMIT ?2 OFFSET ?3"
    );
    let mut st = c.prepare_cached(&sql)?;
    let mut rows = st.query(params![ep, l, o])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(history_row(r)?);
    }
    Ok(out)
}

pub(super) fn installed_as_of(
    c: &Connection,
    ep: i64,
    at: UnixTime,
    (l, o): (i64, i64),
) -> Result<Vec<InstalledSoftware>> {
    // Replay the endpoint's history up to `at`.
    let sql = format!(
        "SELECT {HISTORY_COLUMNS} FROM history WHERE endpoint_id = ?1 AND at <= ?2 ORDER BY seq"
    );
    let mut st = c.prepare_cached(&sql)?;
    let mut rows = st.query(params![ep, at.0])?;
    let mut replay = Replay::default();
    while let Some(r) = rows.next()? {
        replay.apply(history_row(r)?);
    }
    let mut meta = c.prepare_cached(
        "SELECT name, version, vendor, regid FROM software WHERE software_identifier = ?1",
    )?;
    let mut out = Vec::new();
    for (rec, since) in replay.page((l, o)) {
        let m = meta
            .query_row([&rec.software_identifier], |r| {
                Ok(SoftwareMeta {
                    name: r.get(0)?,
                    version: r.get(1)?,
                    vendor: r.get(2)?,
                    regid: r.get(3)?,
                })
            })
            .unwrap_or_default();
        out.push(InstalledSoftware {
            software_identifier: rec.software_identifier,
            meta: m,
            data_model: rec.data_model,
            source_id: rec.source_id,
            record_id: rec.record_id,
            locator: rec.locator,
            since,
        });
    }
    Ok(out)
}

pub(super) fn find_software(
    c: &mut Connection,
    q: &SoftwareQuery,
    (l, o): (i64, i64),
) -> Result<Vec<SoftwareMatch>> {
    let tx = c.transaction()?;
    // 1. Candidate software by name / vendor (indexed), 2. version range in Rust (the order
    // is not SQL's), 3. the endpoints holding any candidate, paged.
    let mut ids = Vec::new();
    {
        // Only the given filters, so SQLite can use the name / vendor / regid indexes.
        let mut sql = String::from("SELECT id, version FROM software WHERE 1");
        let mut args: Vec<&dyn rusqlite::ToSql> = Vec::new();
        if let Some(name) = &q.name {
            args.push(name);
            sql.push_str(&format!(" AND name = ?{} COLLATE NOCASE", args.len()));
        }
        if let Some(vendor) = &q.vendor {
            args.push(vendor);
            let n = args.len();
            sql.push_str(&format!(
                " AND (vendor = ?{n} COLLATE NOCASE OR regid = ?{n} COLLATE NOCASE)"
            ));
        }
        let mut st = tx.prepare_cached(&sql)?;
        let rows = st.query_map(&*args, |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?))
        })?;
        for row in rows {
            let (id, version) = row?;
            let ok = q.versions.is_any() || version.is_some_and(|v| q.versions.contains(&v));
            if ok {
                ids.push(id);
            }
        }
    }
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS query_software (id INTEGER PRIMARY KEY);
         DELETE FROM temp.query_software;",
    )?;
    {
        let mut ins = tx.prepare_cached("INSERT INTO temp.query_software (id) VALUES (?1)")?;
        for id in ids {
            ins.execute([id])?;
        }
    }
    // CROSS JOIN fixes SQLite's join order: the temporary table has no statistics, and left
    // to itself the planner walks every installed row (seconds at 10,000 x 100) instead of
    // looking up the candidates' rows in `installed_software`.
    let sql = format!(
        "SELECT e.identifier,
             EXISTS (SELECT 1 FROM session x WHERE x.endpoint_id = e.id AND x.ended_at IS NULL),
             {INSTALLED_COLUMNS}
         FROM temp.query_software q
         CROSS JOIN installed i ON i.software_id = q.id
         CROSS JOIN software s ON s.id = q.id
         CROSS JOIN endpoint e ON e.id = i.endpoint_id
         ORDER BY e.identifier, s.software_identifier, i.source_id LIMIT ?1 OFFSET ?2"
    );
    let out = {
        let mut st = tx.prepare_cached(&sql)?;
        let rows = st.query_map([l, o], |r| {
            Ok(SoftwareMatch {
                endpoint: r.get(0)?,
                connected: r.get(1)?,
                software: installed_row(r, 2)?,
            })
        })?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    tx.execute_batch("DELETE FROM temp.query_software")?;
    tx.commit()?;
    Ok(out)
}

pub(super) fn verify(c: &Connection) -> Result<ChainReport> {
    let mut report = ChainReport::default();
    let mut eps =
        c.prepare("SELECT id, identifier, head_seq, head_hash FROM endpoint ORDER BY identifier")?;
    let eps: Vec<(i64, String, i64, Vec<u8>)> = eps
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let sql = format!("SELECT {HISTORY_COLUMNS} FROM history WHERE endpoint_id = ?1 ORDER BY seq");
    let mut st = c.prepare(&sql)?;
    for (id, identifier, head_seq, head_hash) in eps {
        report.endpoints += 1;
        let mut walk = Walk::new(&identifier);
        let mut rows = st.query([id])?;
        while let Some(r) = rows.next()? {
            report.rows += 1;
            // Unreadable column values: the row was edited.
            let row = history_row(r).map_err(|_| r.get::<_, i64>(0).unwrap_or(walk.expected_seq()));
            if !walk.row(row) {
                break;
            }
        }
        if let Some((seq, problem)) = walk.finish(head_seq, &head_hash) {
            report.faults.push(ChainFault {
                endpoint: identifier,
                seq,
                problem,
            });
        }
    }
    Ok(report)
}
