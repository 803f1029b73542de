//! Writing: inventories, events, tags, and the history chain they extend.

use std::collections::{HashMap, HashSet};

use rusqlite::{Connection, OptionalExtension, params};

use super::{Limits, check, hash32};
use crate::chain::{RowFields, row_hash};
use crate::error::{Error, Result};
use crate::model::*;
use crate::tags;

pub(super) fn endpoint_id(c: &Connection, identifier: &str) -> Result<i64> {
    c.prepare_cached("SELECT id FROM endpoint WHERE identifier = ?1")?
        .query_row([identifier], |r| r.get(0))
        .optional()?
        .ok_or_else(|| Error::UnknownEndpoint(identifier.to_owned()))
}

/// An endpoint's row as ingest needs it, and the chain it extends.
struct Chain<'a> {
    id: i64,
    identifier: &'a str,
    state: Option<SwimaState>,
    seq: i64,
    hash: [u8; 32],
}

impl<'a> Chain<'a> {
    fn load(c: &Connection, identifier: &'a str) -> Result<Self> {
        type Row = (i64, Option<u32>, Option<u32>, i64, Vec<u8>);
        let row: Option<Row> = c
            .prepare_cached(
                "SELECT id, swima_epoch, swima_last_eid, head_seq, head_hash
                 FROM endpoint WHERE identifier = ?1",
            )?
            .query_row([identifier], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()?;
        let (id, epoch, last, seq, hash) =
            row.ok_or_else(|| Error::UnknownEndpoint(identifier.to_owned()))?;
        Ok(Self {
            id,
            identifier,
            state: epoch
                .zip(last)
                .map(|(epoch, last_eid)| SwimaState { epoch, last_eid }),
            seq,
            hash: hash32(&hash)?,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        c: &Connection,
        at: UnixTime,
        kind: HistoryKind,
        record: Option<&HistoryRecord>,
        eid: Option<u32>,
        event_time: Option<UnixTime>,
        epoch: u32,
    ) -> Result<()> {
        let seq = self
            .seq
            .checked_add(1)
            .ok_or(Error::Corrupt("history seq"))?;
        let hash = row_hash(
            &self.hash,
            &RowFields {
                endpoint: self.identifier,
                seq,
                at: at.0,
                kind,
                record,
                eid,
                event_time: event_time.map(|t| t.0),
                epoch,
            },
        );
        c.prepare_cached(
            "INSERT INTO history (endpoint_id, seq, at, kind, software_identifier, dm_pen,
                 dm_type, source_id, record_id, locator, eid, event_time, epoch, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )?
        .execute(params![
            self.id,
            seq,
            at.0,
            kind.code(),
            record.map(|r| &r.software_identifier),
            record.map(|r| r.data_model.pen),
            record.map(|r| r.data_model.kind),
            record.map(|r| r.source_id),
            record.map(|r| r.record_id),
            record.map(|r| &r.locator),
            eid,
            event_time.map(|t| t.0),
            epoch,
            &hash[..],
        ])?;
        self.seq = seq;
        self.hash = hash;
        Ok(())
    }

    /// Stores the chain head and the SWIMA position (same transaction as the rows).
    fn finish(self, c: &Connection, state: SwimaState) -> Result<()> {
        c.prepare_cached(
            "UPDATE endpoint SET head_seq = ?2, head_hash = ?3, swima_epoch = ?4,
                 swima_last_eid = ?5 WHERE id = ?1",
        )?
        .execute(params![
            self.id,
            self.seq,
            &self.hash[..],
            state.epoch,
            state.last_eid
        ])?;
        Ok(())
    }
}

/// Software ids already committed (rows of `software` are never deleted, so an id once
/// committed stays right, also when other connections write), and those learnt by the
/// transaction in progress, which join only if it commits.
#[derive(Debug, Default)]
pub(super) struct SoftwareIds {
    known: HashMap<String, i64>,
    fresh: Vec<(String, i64)>,
}

impl SoftwareIds {
    /// Bound on cached ids (about 100 bytes each).
    const MAX: usize = 1 << 20;

    fn id(&mut self, c: &Connection, identifier: &str) -> Result<i64> {
        if let Some(id) = self.known.get(identifier) {
            return Ok(*id);
        }
        let id = software_id(c, identifier)?;
        self.fresh.push((identifier.to_owned(), id));
        Ok(id)
    }

    /// After the transaction: keep what it learnt if it committed.
    pub(super) fn settle(&mut self, committed: bool) {
        if committed {
            if self.known.len() + self.fresh.len() > Self::MAX {
                self.known.clear();
            }
            self.known.extend(self.fresh.drain(..));
        } else {
            self.fresh.clear();
        }
    }
}

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

fn validate(limits: &Limits, r: &Record) -> Result<()> {
    check(
        "software identifier",
        r.software_identifier.len(),
        limits.max_text_bytes,
    )?;
    check("software locator", r.locator.len(), limits.max_text_bytes)?;
    if let Some(t) = &r.tag {
        check("tag", t.len(), limits.max_tag_bytes)?;
    }
    Ok(())
}

fn history_record(r: &Record) -> HistoryRecord {
    HistoryRecord {
        software_identifier: r.software_identifier.clone(),
        data_model: r.data_model,
        source_id: r.source_id,
        record_id: r.record_id,
        locator: r.locator.clone(),
    }
}

fn upsert_installed(
    c: &Connection,
    ep: i64,
    sw: i64,
    r: &HistoryRecord,
    at: UnixTime,
) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO installed (endpoint_id, software_id, source_id, record_id, locator, dm_pen,
             dm_type, since) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
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

fn delete_installed(c: &Connection, ep: i64, sw: i64, source_id: u8) -> Result<()> {
    c.prepare_cached(
        "DELETE FROM installed WHERE endpoint_id = ?1 AND software_id = ?2 AND source_id = ?3",
    )?
    .execute(params![ep, sw, source_id])?;
    Ok(())
}

fn store_record_tag(
    c: &Connection,
    ep: i64,
    r: &Record,
    at: UnixTime,
    s: &mut IngestSummary,
) -> Result<()> {
    if let Some(tag) = &r.tag
        && let TagOutcome::Stored(_) = store_tag(c, &r.software_identifier, tag, Some(ep), at)?
    {
        s.tags_stored += 1;
    }
    Ok(())
}

pub(super) fn inventory(
    c: &Connection,
    ids: &mut SoftwareIds,
    limits: &Limits,
    endpoint: &str,
    inv: &Inventory,
) -> Result<IngestSummary> {
    let mut chain = Chain::load(c, endpoint)?;
    let ep = chain.id;
    let at = inv.received_at;
    // What is installed now, by (software identifier, source).
    let mut current: HashMap<(String, u8), (i64, HistoryRecord)> = HashMap::new();
    {
        let mut st = c.prepare_cached(
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
        for row in rows {
            let (rec, sw) = row?;
            current.insert((rec.software_identifier.clone(), rec.source_id), (sw, rec));
        }
    }
    let mut s = IngestSummary {
        resync: true,
        ..IngestSummary::default()
    };
    chain.push(c, at, HistoryKind::Resync, None, None, None, inv.epoch)?;
    let mut seen: HashSet<(&str, u8)> = HashSet::new();
    for r in &inv.records {
        validate(limits, r)?;
        if !seen.insert((r.software_identifier.as_str(), r.source_id)) {
            s.duplicates += 1;
            continue;
        }
        let rec = history_record(r);
        let kind = match current.remove(&(r.software_identifier.clone(), r.source_id)) {
            None => {
                let sw = ids.id(c, &r.software_identifier)?;
                upsert_installed(c, ep, sw, &rec, at)?;
                Some(HistoryKind::Install)
            }
            Some((sw, old)) if old != rec => {
                upsert_installed(c, ep, sw, &rec, at)?;
                Some(HistoryKind::Alter)
            }
            Some(_) => None,
        };
        if let Some(kind) = kind {
            chain.push(c, at, kind, Some(&rec), None, None, inv.epoch)?;
            s.changes += 1;
        }
        store_record_tag(c, ep, r, at, &mut s)?;
    }
    let mut gone: Vec<_> = current.into_values().collect();
    gone.sort_by(|a, b| {
        (&a.1.software_identifier, a.1.source_id).cmp(&(&b.1.software_identifier, b.1.source_id))
    });
    for (sw, old) in gone {
        delete_installed(c, ep, sw, old.source_id)?;
        chain.push(
            c,
            at,
            HistoryKind::Remove,
            Some(&old),
            None,
            None,
            inv.epoch,
        )?;
        s.changes += 1;
    }
    let state = SwimaState {
        epoch: inv.epoch,
        last_eid: inv.last_eid,
    };
    chain.finish(c, state)?;
    s.state = Some(state);
    Ok(s)
}

pub(super) fn events(
    c: &Connection,
    ids: &mut SoftwareIds,
    limits: &Limits,
    endpoint: &str,
    batch: &EventBatch,
) -> Result<IngestSummary> {
    let mut chain = Chain::load(c, endpoint)?;
    let ep = chain.id;
    let state = chain
        .state
        .ok_or_else(|| Error::NoInventory(endpoint.to_owned()))?;
    if state.epoch != batch.epoch {
        return Err(Error::EpochMismatch {
            endpoint: endpoint.to_owned(),
            stored: state.epoch,
            reported: batch.epoch,
        });
    }
    let at = batch.received_at;
    let mut s = IngestSummary::default();
    let mut last = state.last_eid;
    for ev in &batch.events {
        if ev.eid <= last {
            s.duplicates += 1;
            continue;
        }
        if s.eid_gap.is_none() && s.changes == 0 && Some(ev.eid) != last.checked_add(1) {
            s.eid_gap = Some((last, ev.eid));
        }
        let r = &ev.record;
        validate(limits, r)?;
        let rec = history_record(r);
        let sw = ids.id(c, &r.software_identifier)?;
        let kind = match ev.action {
            EventAction::Install => {
                upsert_installed(c, ep, sw, &rec, at)?;
                HistoryKind::Install
            }
            EventAction::Alter => {
                upsert_installed(c, ep, sw, &rec, at)?;
                HistoryKind::Alter
            }
            EventAction::Remove => {
                delete_installed(c, ep, sw, r.source_id)?;
                HistoryKind::Remove
            }
        };
        chain.push(
            c,
            at,
            kind,
            Some(&rec),
            Some(ev.eid),
            Some(ev.timestamp),
            batch.epoch,
        )?;
        s.changes += 1;
        store_record_tag(c, ep, r, at, &mut s)?;
        last = ev.eid;
    }
    let state = SwimaState {
        epoch: batch.epoch,
        last_eid: last.max(batch.last_eid),
    };
    chain.finish(c, state)?;
    s.state = Some(state);
    Ok(s)
}

fn sha256(content: &[u8]) -> Result<[u8; 32]> {
    hash32(ring::digest::digest(&ring::digest::SHA256, content).as_ref())
}

fn set_software_meta(
    c: &Connection,
    identifier: &str,
    m: &SoftwareMeta,
    trusted: bool,
) -> Result<()> {
    software_id(c, identifier)?;
    c.prepare_cached(
        "UPDATE software SET name = ?2, version = ?3, vendor = ?4, regid = ?5,
             meta_trusted = ?6
         WHERE software_identifier = ?1 AND (?6 OR (meta_trusted = 0 AND name IS NULL))",
    )?
    .execute(params![
        identifier, m.name, m.version, m.vendor, m.regid, trusted
    ])?;
    Ok(())
}

/// Stores an endpoint-reported tag (never touching a trusted one).
pub(super) fn store_tag(
    c: &Connection,
    identifier: &str,
    content: &[u8],
    reported_by: Option<i64>,
    at: UnixTime,
) -> Result<TagOutcome> {
    let hash = sha256(content)?;
    let held: bool = c
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM tag WHERE software_identifier = ?1 AND sha256 = ?2)",
        )?
        .query_row(params![identifier, &hash[..]], |r| r.get(0))?;
    if held {
        return Ok(TagOutcome::AlreadyHeld);
    }
    let parsed = tags::parse(content);
    let mut flags = TagFlags::default();
    match &parsed {
        None => flags = flags | TagFlags::UNREADABLE,
        Some(p) if p.software_identifier.as_deref() != Some(identifier) => {
            flags = flags | TagFlags::IDENTIFIER_MISMATCH;
        }
        Some(_) => {}
    }
    let (trusted, other): (bool, bool) = c
        .prepare_cached(
            "SELECT COALESCE(MAX(trusted), 0), COUNT(*) > 0 FROM tag WHERE software_identifier = ?1",
        )?
        .query_row([identifier], |r| Ok((r.get(0)?, r.get(1)?)))?;
    if trusted {
        flags = flags | TagFlags::CONFLICTS_WITH_TRUSTED;
    } else if other {
        flags = flags | TagFlags::DIFFERS_FROM_REPORTED;
    }
    let meta = parsed.map(|p| p.meta).unwrap_or_default();
    insert_tag(
        c,
        identifier,
        &hash,
        content,
        false,
        flags,
        &meta,
        reported_by,
        at,
    )?;
    if flags.is_empty() {
        set_software_meta(c, identifier, &meta, false)?;
    }
    Ok(TagOutcome::Stored(flags))
}

#[allow(clippy::too_many_arguments)]
fn insert_tag(
    c: &Connection,
    identifier: &str,
    hash: &[u8; 32],
    content: &[u8],
    trusted: bool,
    flags: TagFlags,
    m: &SoftwareMeta,
    reported_by: Option<i64>,
    at: UnixTime,
) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO tag (software_identifier, sha256, content, trusted, flags, name, version,
             vendor, regid, added_at, reported_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        identifier,
        &hash[..],
        content,
        trusted,
        flags.0,
        m.name,
        m.version,
        m.vendor,
        m.regid,
        at.0,
        reported_by
    ])?;
    Ok(())
}

/// Imports a trusted reference tag: `Ok(Ok(true))` stored or newly trusted, `Ok(Ok(false))`
/// already trusted, `Ok(Err(why))` refused.
pub(super) fn import_tag(
    c: &Connection,
    content: &[u8],
    at: UnixTime,
) -> Result<Result<bool, &'static str>> {
    let Some(parsed) = tags::parse(content) else {
        return Ok(Err("neither a SWID XML nor a CoSWID tag"));
    };
    let Some(identifier) = parsed.software_identifier.as_deref() else {
        return Ok(Err("the tag names no single tag creator with a regid"));
    };
    let hash = sha256(content)?;
    let held: Option<bool> = c
        .prepare_cached("SELECT trusted FROM tag WHERE software_identifier = ?1 AND sha256 = ?2")?
        .query_row(params![identifier, &hash[..]], |r| r.get(0))
        .optional()?;
    match held {
        Some(true) => return Ok(Ok(false)),
        // An endpoint reported exactly this content first: it becomes the trusted tag.
        Some(false) => {
            c.prepare_cached(
                "UPDATE tag SET trusted = 1, flags = flags & ~3
                 WHERE software_identifier = ?1 AND sha256 = ?2",
            )?
            .execute(params![identifier, &hash[..]])?;
        }
        None => insert_tag(
            c,
            identifier,
            &hash,
            content,
            true,
            TagFlags::default(),
            &parsed.meta,
            None,
            at,
        )?,
    }
    // Endpoint-reported tags of this identifier with other content now conflict with it.
    c.prepare_cached(
        "UPDATE tag SET flags = (flags | 1) & ~2
         WHERE software_identifier = ?1 AND trusted = 0 AND sha256 != ?2",
    )?
    .execute(params![identifier, &hash[..]])?;
    set_software_meta(c, identifier, &parsed.meta, true)?;
    Ok(Ok(true))
}
