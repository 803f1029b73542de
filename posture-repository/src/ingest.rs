//! Writing, for every backend: inventories, events, tags, and the history chain they extend.
//!
//! The logic lives here once; a backend supplies the statements through [`Store`], called
//! inside the one transaction of the repository call. So SQLite and PostgreSQL apply the same
//! SWIMA continuity rules, the same tag rules and the same hash chain.

use std::collections::{HashMap, HashSet};

use crate::chain::{RowFields, row_hash};
use crate::error::{Error, Result};
use crate::limits::{Limits, check};
use crate::model::*;
use crate::tags;

/// An endpoint's row as ingest needs it.
#[derive(Debug, Clone)]
pub(crate) struct EndpointRow {
    pub(crate) id: i64,
    pub(crate) state: Option<SwimaState>,
    pub(crate) head_seq: i64,
    pub(crate) head_hash: [u8; 32],
}

/// The statements ingest needs, run inside the caller's transaction.
pub(crate) trait Store {
    /// The endpoint's row; PostgreSQL also locks it (`FOR UPDATE`) until the transaction
    /// ends, so two sessions of one endpoint apply their batches one after the other.
    fn lock_endpoint(&mut self, identifier: &str) -> Result<Option<EndpointRow>>;
    /// Appends one history row.
    fn insert_history(&mut self, ep: i64, row: &RowFields<'_>, hash: &[u8; 32]) -> Result<()>;
    /// Stores the chain head and the SWIMA position.
    fn set_head(&mut self, ep: i64, seq: i64, hash: &[u8; 32], state: SwimaState) -> Result<()>;
    /// What is installed on the endpoint now, with each record's software id.
    fn installed_records(&mut self, ep: i64) -> Result<Vec<(HistoryRecord, i64)>>;
    /// The id of a software identifier, inserting the row when new.
    fn software_id(&mut self, identifier: &str) -> Result<i64>;
    /// Inserts or replaces an installed record.
    fn upsert_installed(&mut self, ep: i64, sw: i64, r: &HistoryRecord, at: UnixTime)
    -> Result<()>;
    /// Removes an installed record.
    fn delete_installed(&mut self, ep: i64, sw: i64, source_id: u8) -> Result<()>;
    /// Serialises tag writes of one software identifier until the transaction ends (a no-op
    /// where writers are serialised anyway).
    fn lock_tag_identifier(&mut self, identifier: &str) -> Result<()>;
    /// Whether this content is held for the identifier, and if so whether it is trusted.
    fn tag_trusted(&mut self, identifier: &str, sha256: &[u8; 32]) -> Result<Option<bool>>;
    /// Whether any tag of the identifier is trusted, and whether any is held.
    fn tags_held(&mut self, identifier: &str) -> Result<(bool, bool)>;
    /// Inserts a tag; `false` when this (identifier, SHA-256) was held already.
    fn insert_tag(&mut self, tag: &NewTag<'_>) -> Result<bool>;
    /// Marks held content trusted and clears its disagreement flags.
    fn trust_tag(&mut self, identifier: &str, sha256: &[u8; 32]) -> Result<()>;
    /// Flags the identifier's untrusted tags with other content as conflicting.
    fn flag_conflicts(&mut self, identifier: &str, sha256: &[u8; 32]) -> Result<()>;
    /// Sets the software's metadata: always when `trusted`, otherwise only when it has none
    /// and none was trusted.
    fn set_software_meta(
        &mut self,
        identifier: &str,
        m: &SoftwareMeta,
        trusted: bool,
    ) -> Result<()>;
}

/// A tag row to insert.
#[derive(Debug)]
pub(crate) struct NewTag<'a> {
    pub(crate) identifier: &'a str,
    pub(crate) sha256: &'a [u8; 32],
    pub(crate) content: &'a [u8],
    pub(crate) trusted: bool,
    pub(crate) flags: TagFlags,
    pub(crate) meta: &'a SoftwareMeta,
    pub(crate) reported_by: Option<i64>,
    pub(crate) at: UnixTime,
}

/// The chain an ingest call extends.
struct Chain<'a> {
    id: i64,
    identifier: &'a str,
    state: Option<SwimaState>,
    seq: i64,
    hash: [u8; 32],
}

impl<'a> Chain<'a> {
    fn load(s: &mut impl Store, identifier: &'a str) -> Result<Self> {
        let row = s
            .lock_endpoint(identifier)?
            .ok_or_else(|| Error::UnknownEndpoint(identifier.to_owned()))?;
        Ok(Self {
            id: row.id,
            identifier,
            state: row.state,
            seq: row.head_seq,
            hash: row.head_hash,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        s: &mut impl Store,
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
        let row = RowFields {
            endpoint: self.identifier,
            seq,
            at: at.0,
            kind,
            record,
            eid,
            event_time: event_time.map(|t| t.0),
            epoch,
        };
        let hash = row_hash(&self.hash, &row);
        s.insert_history(self.id, &row, &hash)?;
        self.seq = seq;
        self.hash = hash;
        Ok(())
    }

    /// Stores the chain head and the SWIMA position (same transaction as the rows).
    fn finish(self, s: &mut impl Store, state: SwimaState) -> Result<()> {
        s.set_head(self.id, self.seq, &self.hash, state)
    }
}

/// Software ids already committed (rows of `software` are never deleted, so an id once
/// committed stays right, also when other connections write), and those learnt by the
/// transaction in progress, which join only if it commits.
#[derive(Debug, Default)]
pub(crate) struct SoftwareIds {
    known: HashMap<String, i64>,
    fresh: Vec<(String, i64)>,
}

impl SoftwareIds {
    /// Bound on cached ids (about 100 bytes each).
    const MAX: usize = 1 << 20;

    fn id(&mut self, s: &mut impl Store, identifier: &str) -> Result<i64> {
        if let Some(id) = self.known.get(identifier) {
            return Ok(*id);
        }
        let id = s.software_id(identifier)?;
        self.fresh.push((identifier.to_owned(), id));
        Ok(id)
    }

    /// After the transaction: keep what it learnt if it committed.
    pub(crate) fn settle(&mut self, committed: bool) {
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

fn store_record_tag(
    s: &mut impl Store,
    ep: i64,
    r: &Record,
    at: UnixTime,
    sum: &mut IngestSummary,
) -> Result<()> {
    if let Some(tag) = &r.tag
        && let TagOutcome::Stored(_) = store_tag(s, &r.software_identifier, tag, Some(ep), at)?
    {
        sum.tags_stored += 1;
    }
    Ok(())
}

/// A full inventory replaces the endpoint's: a `Resync` row, then one row per difference.
pub(crate) fn inventory(
    s: &mut impl Store,
    ids: &mut SoftwareIds,
    limits: &Limits,
    endpoint: &str,
    inv: &Inventory,
) -> Result<IngestSummary> {
    let mut chain = Chain::load(s, endpoint)?;
    let ep = chain.id;
    let at = inv.received_at;
    // What is installed now, by (software identifier, source).
    let mut current: HashMap<(String, u8), (i64, HistoryRecord)> = s
        .installed_records(ep)?
        .into_iter()
        .map(|(rec, sw)| ((rec.software_identifier.clone(), rec.source_id), (sw, rec)))
        .collect();
    let mut sum = IngestSummary {
        resync: true,
        ..IngestSummary::default()
    };
    chain.push(s, at, HistoryKind::Resync, None, None, None, inv.epoch)?;
    let mut seen: HashSet<(&str, u8)> = HashSet::new();
    for r in &inv.records {
        validate(limits, r)?;
        if !seen.insert((r.software_identifier.as_str(), r.source_id)) {
            sum.duplicates += 1;
            continue;
        }
        let rec = history_record(r);
        let kind = match current.remove(&(r.software_identifier.clone(), r.source_id)) {
            None => {
                let sw = ids.id(s, &r.software_identifier)?;
                s.upsert_installed(ep, sw, &rec, at)?;
                Some(HistoryKind::Install)
            }
            Some((sw, old)) if old != rec => {
                s.upsert_installed(ep, sw, &rec, at)?;
                Some(HistoryKind::Alter)
            }
            Some(_) => None,
        };
        if let Some(kind) = kind {
            chain.push(s, at, kind, Some(&rec), None, None, inv.epoch)?;
            sum.changes += 1;
        }
        store_record_tag(s, ep, r, at, &mut sum)?;
    }
    let mut gone: Vec<_> = current.into_values().collect();
    gone.sort_by(|a, b| {
        (&a.1.software_identifier, a.1.source_id).cmp(&(&b.1.software_identifier, b.1.source_id))
    });
    for (sw, old) in gone {
        s.delete_installed(ep, sw, old.source_id)?;
        chain.push(
            s,
            at,
            HistoryKind::Remove,
            Some(&old),
            None,
            None,
            inv.epoch,
        )?;
        sum.changes += 1;
    }
    let state = SwimaState {
        epoch: inv.epoch,
        last_eid: inv.last_eid,
    };
    chain.finish(s, state)?;
    sum.state = Some(state);
    Ok(sum)
}

/// Events after the stored last EID, in order; repeats skipped.
pub(crate) fn events(
    s: &mut impl Store,
    ids: &mut SoftwareIds,
    limits: &Limits,
    endpoint: &str,
    batch: &EventBatch,
) -> Result<IngestSummary> {
    let mut chain = Chain::load(s, endpoint)?;
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
    let mut sum = IngestSummary::default();
    let mut last = state.last_eid;
    for ev in &batch.events {
        if ev.eid <= last {
            sum.duplicates += 1;
            continue;
        }
        if sum.eid_gap.is_none() && sum.changes == 0 && Some(ev.eid) != last.checked_add(1) {
            sum.eid_gap = Some((last, ev.eid));
        }
        let r = &ev.record;
        validate(limits, r)?;
        let rec = history_record(r);
        let sw = ids.id(s, &r.software_identifier)?;
        let kind = match ev.action {
            EventAction::Install => {
                s.upsert_installed(ep, sw, &rec, at)?;
                HistoryKind::Install
            }
            EventAction::Alter => {
                s.upsert_installed(ep, sw, &rec, at)?;
                HistoryKind::Alter
            }
            EventAction::Remove => {
                s.delete_installed(ep, sw, r.source_id)?;
                HistoryKind::Remove
            }
        };
        chain.push(
            s,
            at,
            kind,
            Some(&rec),
            Some(ev.eid),
            Some(ev.timestamp),
            batch.epoch,
        )?;
        sum.changes += 1;
        store_record_tag(s, ep, r, at, &mut sum)?;
        last = ev.eid;
    }
    let state = SwimaState {
        epoch: batch.epoch,
        last_eid: last.max(batch.last_eid),
    };
    chain.finish(s, state)?;
    sum.state = Some(state);
    Ok(sum)
}

fn sha256(content: &[u8]) -> Result<[u8; 32]> {
    crate::chain::hash32(ring::digest::digest(&ring::digest::SHA256, content).as_ref())
}

/// Stores an endpoint-reported tag (never touching a trusted one).
pub(crate) fn store_tag(
    s: &mut impl Store,
    identifier: &str,
    content: &[u8],
    reported_by: Option<i64>,
    at: UnixTime,
) -> Result<TagOutcome> {
    let hash = sha256(content)?;
    s.lock_tag_identifier(identifier)?;
    if s.tag_trusted(identifier, &hash)?.is_some() {
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
    let (trusted, other) = s.tags_held(identifier)?;
    if trusted {
        flags = flags | TagFlags::CONFLICTS_WITH_TRUSTED;
    } else if other {
        flags = flags | TagFlags::DIFFERS_FROM_REPORTED;
    }
    let meta = parsed.map(|p| p.meta).unwrap_or_default();
    let inserted = s.insert_tag(&NewTag {
        identifier,
        sha256: &hash,
        content,
        trusted: false,
        flags,
        meta: &meta,
        reported_by,
        at,
    })?;
    if !inserted {
        return Ok(TagOutcome::AlreadyHeld);
    }
    if flags.is_empty() {
        s.set_software_meta(identifier, &meta, false)?;
    }
    Ok(TagOutcome::Stored(flags))
}

/// Imports every `(name, content)` item as a trusted reference tag, reporting each.
pub(crate) fn import_all(
    s: &mut impl Store,
    limits: &Limits,
    tags: &mut dyn Iterator<Item = (String, Vec<u8>)>,
    at: UnixTime,
) -> Result<ImportReport> {
    let mut report = ImportReport::default();
    for (name, content) in tags {
        if content.len() > limits.max_tag_bytes {
            let why = format!(
                "{} bytes, over the limit of {}",
                content.len(),
                limits.max_tag_bytes
            );
            report.rejected.push((name, why));
            continue;
        }
        match import_tag(s, &content, at)? {
            Ok(Some(identifier)) => {
                report.imported += 1;
                report.software_identifiers.push(identifier);
            }
            Ok(None) => report.unchanged += 1,
            Err(why) => report.rejected.push((name, why.to_owned())),
        }
    }
    Ok(report)
}

/// Imports a trusted reference tag: `Ok(Ok(Some(software identifier)))` stored or newly
/// trusted, `Ok(Ok(None))` already trusted, `Ok(Err(why))` refused.
fn import_tag(
    s: &mut impl Store,
    content: &[u8],
    at: UnixTime,
) -> Result<Result<Option<String>, &'static str>> {
    let Some(parsed) = tags::parse(content) else {
        return Ok(Err("neither a SWID XML nor a CoSWID tag"));
    };
    let Some(identifier) = parsed.software_identifier.as_deref() else {
        return Ok(Err("the tag names no single tag creator with a regid"));
    };
    let hash = sha256(content)?;
    s.lock_tag_identifier(identifier)?;
    match s.tag_trusted(identifier, &hash)? {
        Some(true) => return Ok(Ok(None)),
        // An endpoint reported exactly this content first: it becomes the trusted tag.
        Some(false) => s.trust_tag(identifier, &hash)?,
        None => {
            s.insert_tag(&NewTag {
                identifier,
                sha256: &hash,
                content,
                trusted: true,
                flags: TagFlags::default(),
                meta: &parsed.meta,
                reported_by: None,
                at,
            })?;
        }
    }
    // Endpoint-reported tags of this identifier with other content now conflict with it.
    s.flag_conflicts(identifier, &hash)?;
    s.set_software_meta(identifier, &parsed.meta, true)?;
    Ok(Ok(Some(identifier.to_owned())))
}
