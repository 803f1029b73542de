//! The mirror a [`Validator`](super::Validator) keeps of one endpoint's inventory, stored
//! compactly: a manager holds one per connected endpoint, so what a record costs here is what
//! an idle connection costs there.
//!
//! Every record's Software Identifier and Software Locator are copied into one text buffer
//! (nothing points into received messages, so no received buffer stays alive), and a record
//! is a 40-byte entry pointing into it. Entries sit in two runs sorted by key: the main run,
//! built whole from a full inventory (a deletion only marks its entry), and a short run of the
//! records events added since, merged into the main run once it holds more than √n entries (an
//! event then moves O(√n) entries, not O(n); a lookup is two binary searches). The merge also
//! drops marked entries and text no entry uses.

use bytes::Bytes;
use nea_wire::Text;

use super::{MirrorKey, MirrorRecord};
use crate::{DataModelType, SoftwareId};

/// The short run and the marked entries are merged away past √n of them, but never below this.
const MIN_RUN: usize = 32;
/// Unused text is dropped (by a merge) once it is over half of the text and at least this.
const MIN_DEAD_TEXT: usize = 4096;

/// One mirrored record.
#[derive(Debug, Clone)]
struct Entry {
    /// Where the Software Identifier starts in the text; the Software Locator follows it.
    start: usize,
    id_len: u32,
    loc_len: u32,
    record_id: u32,
    data_model: DataModelType,
    source_id: u8,
    /// Deleted (main run only, until the next merge).
    dead: bool,
    /// The record bytes (full records only).
    record: Option<Box<Bytes>>,
}

impl Entry {
    fn text_len(&self) -> usize {
        // u32 → usize never truncates on the platforms tokio and rustls support.
        (self.id_len as usize).saturating_add(self.loc_len as usize)
    }

    fn same_content(&self, id: &SoftwareId, record: Option<&Bytes>) -> bool {
        self.record_id == id.record_id
            && self.data_model == id.data_model
            && self.record.as_deref() == record
    }

    fn set_content(&mut self, id: &SoftwareId, record: Option<&Bytes>) {
        self.record_id = id.record_id;
        self.data_model = id.data_model;
        self.record = record.map(|b| Box::new(b.clone()));
    }
}

/// A record's key as bytes: (Source Id Num, Software Identifier, Software Locator), ordered
/// as [`MirrorKey`] is.
type KeyRef<'a> = (u8, &'a [u8], &'a [u8]);

fn key_of(id: &SoftwareId) -> KeyRef<'_> {
    (
        id.source_id,
        id.software_identifier.as_str().as_bytes(),
        id.locator.as_str().as_bytes(),
    )
}

/// One record of a [`Mirror`], borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MirrorEntry<'a> {
    /// Record Identifier.
    pub record_id: u32,
    /// Data Model Type.
    pub data_model: DataModelType,
    /// Source Id Num.
    pub source_id: u8,
    /// Software Identifier.
    pub software_identifier: &'a str,
    /// Software Locator.
    pub locator: &'a str,
    /// The record bytes, when full records were requested.
    pub record: Option<&'a Bytes>,
}

impl MirrorEntry<'_> {
    /// The record as an owned [`MirrorRecord`] (the identifier and locator are copied).
    pub fn to_record(&self) -> MirrorRecord {
        MirrorRecord {
            id: SoftwareId {
                record_id: self.record_id,
                data_model: self.data_model,
                source_id: self.source_id,
                software_identifier: Text::from(self.software_identifier),
                locator: Text::from(self.locator),
            },
            record: self.record.cloned(),
        }
    }
}

/// What [`Mirror::upsert`] did.
#[derive(Debug)]
pub(crate) enum Upsert {
    /// The record was there, unchanged.
    Same,
    /// The record is new.
    Added,
    /// The record was there with other content (given back).
    Altered(MirrorRecord),
}

/// Where a key is.
#[derive(Clone, Copy)]
enum Slot {
    /// In the main run (perhaps marked deleted).
    Main(usize),
    /// In the short run.
    Recent(usize),
    /// Nowhere; its place in the short run.
    Absent(usize),
}

/// The mirrored inventory of one endpoint ([`Validator::mirror`](super::Validator::mirror)),
/// in key order: (Source Id Num, Software Identifier, Software Locator), as [`MirrorKey`].
///
/// Stored compactly (about 40 bytes per record plus its identifier and locator); read it with
/// [`Mirror::iter`] (borrowed [`MirrorEntry`]s), [`Mirror::get`] or [`Mirror::records`].
#[derive(Clone, Default)]
pub struct Mirror {
    /// Identifier and locator of every entry, back to back (and text no entry uses).
    text: String,
    main: Vec<Entry>,
    recent: Vec<Entry>,
    /// Marked entries in `main`.
    dead: usize,
    /// Bytes of `text` no live entry uses.
    dead_text: usize,
}

impl core::fmt::Debug for Mirror {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for Mirror {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Mirror {}

impl Mirror {
    /// Records mirrored.
    pub fn len(&self) -> usize {
        self.main
            .len()
            .saturating_sub(self.dead)
            .saturating_add(self.recent.len())
    }

    /// Whether no record is mirrored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The records in key order, borrowed.
    pub fn iter(&self) -> Iter<'_> {
        Iter(self.entries())
    }

    /// The record with this key.
    pub fn get(&self, key: &MirrorKey) -> Option<MirrorEntry<'_>> {
        self.lookup(
            key.source_id,
            key.software_identifier.as_str(),
            key.locator.as_str(),
        )
    }

    /// The record with this Source Id Num, Software Identifier and Software Locator.
    pub fn lookup(
        &self,
        source_id: u8,
        software_identifier: &str,
        locator: &str,
    ) -> Option<MirrorEntry<'_>> {
        self.live(self.find((
            source_id,
            software_identifier.as_bytes(),
            locator.as_bytes(),
        )))
    }

    /// The record with `id`'s key.
    pub(crate) fn lookup_id(&self, id: &SoftwareId) -> Option<MirrorEntry<'_>> {
        self.live(self.find(key_of(id)))
    }

    /// The live record at `slot`.
    fn live(&self, slot: Slot) -> Option<MirrorEntry<'_>> {
        self.entry(slot).filter(|e| !e.dead).map(|e| self.view(e))
    }

    /// Whether a record with this key is mirrored.
    pub fn contains_key(&self, key: &MirrorKey) -> bool {
        self.get(key).is_some()
    }

    /// Every record, owned, in key order. Their identifiers and locators are slices of one
    /// copy of the mirror's text (one allocation for all of them).
    pub fn records(&self) -> Vec<MirrorRecord> {
        let all = Bytes::copy_from_slice(self.text.as_bytes());
        let text = |start: usize, len: u32| {
            let end = start.saturating_add(len as usize).min(all.len());
            Text::from_bytes(all.slice(start.min(end)..end)).unwrap_or_default()
        };
        let mut out = Vec::with_capacity(self.len());
        for e in self.entries() {
            let locator_at = e.start.saturating_add(e.id_len as usize);
            out.push(MirrorRecord {
                id: SoftwareId {
                    record_id: e.record_id,
                    data_model: e.data_model,
                    source_id: e.source_id,
                    software_identifier: text(e.start, e.id_len),
                    locator: text(locator_at, e.loc_len),
                },
                record: e.record.as_deref().cloned(),
            });
        }
        out
    }

    /// A mirror of `records`; of records with the same key the last one counts. Records
    /// whose identifier or locator is over 4 GiB long (the wire allows 65,535 bytes) are left
    /// out.
    pub(crate) fn from_records<'a>(
        records: impl IntoIterator<Item = (&'a SoftwareId, Option<&'a Bytes>)>,
    ) -> Self {
        let mut list: Vec<(&SoftwareId, Option<&Bytes>)> = records
            .into_iter()
            .filter(|(id, _)| lengths(id).is_some())
            .collect();
        // Stable: of equal keys the input order stays, and the last one is kept below.
        list.sort_by(|a, b| key_of(a.0).cmp(&key_of(b.0)));
        let mut kept: Vec<(&SoftwareId, Option<&Bytes>)> = Vec::with_capacity(list.len());
        for r in list {
            match kept.last_mut() {
                Some(last) if key_of(last.0) == key_of(r.0) => *last = r,
                _ => kept.push(r),
            }
        }
        let size = kept.iter().fold(0usize, |n, (id, _)| {
            n.saturating_add(id.software_identifier.len())
                .saturating_add(id.locator.len())
        });
        let mut m = Self {
            text: String::with_capacity(size),
            main: Vec::with_capacity(kept.len()),
            ..Self::default()
        };
        for (id, record) in kept {
            if let Some(e) = m.new_entry(id, record) {
                m.main.push(e);
            }
        }
        m
    }

    /// Adds or replaces the record of `id`'s key.
    pub(crate) fn upsert(&mut self, id: &SoftwareId, record: Option<&Bytes>) -> Upsert {
        let slot = self.find(key_of(id));
        if let Slot::Absent(at) = slot {
            let Some(e) = self.new_entry(id, record) else {
                return Upsert::Same;
            };
            self.recent.insert(at.min(self.recent.len()), e);
            self.tidy();
            return Upsert::Added;
        }
        let Some(e) = self.entry(slot) else {
            return Upsert::Same;
        };
        let change = if e.dead {
            // Deleted earlier, back now: its text is still there.
            let len = e.text_len();
            self.dead = self.dead.saturating_sub(1);
            self.dead_text = self.dead_text.saturating_sub(len);
            Upsert::Added
        } else if e.same_content(id, record) {
            return Upsert::Same;
        } else {
            Upsert::Altered(self.view(e).to_record())
        };
        if let Some(e) = self.entry_mut(slot) {
            e.dead = false;
            e.set_content(id, record);
        }
        change
    }

    /// Removes the record of `id`'s key; gives it back.
    pub(crate) fn remove(&mut self, id: &SoftwareId) -> Option<MirrorRecord> {
        let slot = self.find(key_of(id));
        let e = self.entry(slot).filter(|e| !e.dead)?;
        let old = self.view(e).to_record();
        self.dead_text = self.dead_text.saturating_add(e.text_len());
        match slot {
            Slot::Main(i) => {
                if let Some(e) = self.main.get_mut(i) {
                    e.dead = true;
                    e.record = None;
                }
                self.dead = self.dead.saturating_add(1);
            }
            Slot::Recent(i) => {
                self.recent.remove(i);
            }
            Slot::Absent(_) => {}
        }
        self.tidy();
        Some(old)
    }

    /// An entry for `id`, its text appended; `None` for text longer than the entry can say.
    fn new_entry(&mut self, id: &SoftwareId, record: Option<&Bytes>) -> Option<Entry> {
        let (id_len, loc_len) = lengths(id)?;
        let start = self.text.len();
        self.text.push_str(id.software_identifier.as_str());
        self.text.push_str(id.locator.as_str());
        Some(Entry {
            start,
            id_len,
            loc_len,
            record_id: id.record_id,
            data_model: id.data_model,
            source_id: id.source_id,
            dead: false,
            record: record.map(|b| Box::new(b.clone())),
        })
    }

    fn str_at(&self, start: usize, len: u32) -> &str {
        let end = start.saturating_add(len as usize);
        self.text.get(start..end).unwrap_or_default()
    }

    fn key(&self, e: &Entry) -> KeyRef<'_> {
        let locator_at = e.start.saturating_add(e.id_len as usize);
        (
            e.source_id,
            self.str_at(e.start, e.id_len).as_bytes(),
            self.str_at(locator_at, e.loc_len).as_bytes(),
        )
    }

    fn view<'a>(&'a self, e: &'a Entry) -> MirrorEntry<'a> {
        let locator_at = e.start.saturating_add(e.id_len as usize);
        MirrorEntry {
            record_id: e.record_id,
            data_model: e.data_model,
            source_id: e.source_id,
            software_identifier: self.str_at(e.start, e.id_len),
            locator: self.str_at(locator_at, e.loc_len),
            record: e.record.as_deref(),
        }
    }

    fn entry(&self, slot: Slot) -> Option<&Entry> {
        match slot {
            Slot::Main(i) => self.main.get(i),
            Slot::Recent(i) => self.recent.get(i),
            Slot::Absent(_) => None,
        }
    }

    fn entry_mut(&mut self, slot: Slot) -> Option<&mut Entry> {
        match slot {
            Slot::Main(i) => self.main.get_mut(i),
            Slot::Recent(i) => self.recent.get_mut(i),
            Slot::Absent(_) => None,
        }
    }

    fn find(&self, key: KeyRef<'_>) -> Slot {
        if let Ok(i) = self.main.binary_search_by(|e| self.key(e).cmp(&key)) {
            return Slot::Main(i);
        }
        match self.recent.binary_search_by(|e| self.key(e).cmp(&key)) {
            Ok(i) => Slot::Recent(i),
            Err(at) => Slot::Absent(at),
        }
    }

    /// The live entries in key order.
    fn entries(&self) -> Entries<'_> {
        Entries {
            mirror: self,
            main: &self.main,
            recent: &self.recent,
        }
    }

    /// Merges the short run into the main run once it, or the marked entries, pass √n, or
    /// once unused text is over half of the text.
    fn tidy(&mut self) {
        let limit = self.main.len().isqrt().max(MIN_RUN);
        let text_waste = self.dead_text >= MIN_DEAD_TEXT && self.dead_text > self.text.len() / 2;
        if self.recent.len() > limit || self.dead > limit || text_waste {
            self.merge();
        }
    }

    /// One sorted run of live entries and only their text.
    fn merge(&mut self) {
        let mut text = String::with_capacity(self.text.len().saturating_sub(self.dead_text));
        let mut main = Vec::with_capacity(self.len());
        for e in self.entries() {
            let mut e = e.clone();
            let s = self.str_at(e.start, e.id_len.saturating_add(e.loc_len));
            e.start = text.len();
            text.push_str(s);
            main.push(e);
        }
        *self = Self {
            text,
            main,
            ..Self::default()
        };
    }
}

/// The lengths of `id`'s identifier and locator, if an entry can hold them.
fn lengths(id: &SoftwareId) -> Option<(u32, u32)> {
    let id_len = u32::try_from(id.software_identifier.len()).ok()?;
    let loc_len = u32::try_from(id.locator.len()).ok()?;
    id_len.checked_add(loc_len)?;
    Some((id_len, loc_len))
}

/// The live entries of a [`Mirror`] in key order: a merge of its two runs.
#[derive(Debug)]
struct Entries<'a> {
    mirror: &'a Mirror,
    main: &'a [Entry],
    recent: &'a [Entry],
}

impl<'a> Iterator for Entries<'a> {
    type Item = &'a Entry;

    fn next(&mut self) -> Option<&'a Entry> {
        while let Some((first, rest)) = self.main.split_first()
            && first.dead
        {
            self.main = rest;
        }
        let from_recent = match (self.main.first(), self.recent.first()) {
            (Some(a), Some(b)) => self.mirror.key(a) > self.mirror.key(b),
            (Some(_), None) => false,
            (None, _) => true,
        };
        let run = if from_recent {
            &mut self.recent
        } else {
            &mut self.main
        };
        let (e, rest) = run.split_first()?;
        *run = rest;
        Some(e)
    }
}

/// The records of a [`Mirror`] in key order ([`Mirror::iter`]).
#[derive(Debug)]
pub struct Iter<'a>(Entries<'a>);

impl<'a> Iterator for Iter<'a> {
    type Item = MirrorEntry<'a>;

    fn next(&mut self) -> Option<MirrorEntry<'a>> {
        let e = self.0.next()?;
        Some(self.0.mirror.view(e))
    }
}

impl<'a> IntoIterator for &'a Mirror {
    type Item = MirrorEntry<'a>;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    /// A record: key parts from small sets (so keys repeat), content from the rest.
    fn record(
        source_id: u8,
        name: u8,
        locator: u8,
        record_id: u32,
        bytes: Option<u8>,
    ) -> MirrorRecord {
        MirrorRecord {
            id: SoftwareId {
                record_id,
                data_model: DataModelType::SWID_2015,
                source_id,
                software_identifier: Text::from(format!(
                    "example.org__pkg-{name}-{}",
                    "x".repeat(usize::from(name % 7) * 9)
                )),
                locator: if locator == 0 {
                    Text::from("")
                } else {
                    Text::from(format!("/opt/{locator}"))
                },
            },
            record: bytes.map(|b| Bytes::from(vec![b; usize::from(b % 5)])),
        }
    }

    fn any_record() -> impl Strategy<Value = MirrorRecord> {
        (
            0u8..2,
            0u8..60,
            0u8..3,
            0u32..3,
            proptest::option::of(0u8..4),
        )
            .prop_map(|(s, n, l, r, b)| record(s, n, l, r, b))
    }

    #[derive(Debug, Clone)]
    enum Op {
        Upsert(MirrorRecord),
        Remove(MirrorRecord),
        Rebuild(Vec<MirrorRecord>),
    }

    fn any_op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => any_record().prop_map(Op::Upsert),
            4 => any_record().prop_map(Op::Remove),
            1 => proptest::collection::vec(any_record(), 0..80).prop_map(Op::Rebuild),
        ]
    }

    fn check(m: &Mirror, model: &BTreeMap<MirrorKey, MirrorRecord>) {
        assert_eq!(m.len(), model.len());
        let want: Vec<MirrorRecord> = model.values().cloned().collect();
        assert_eq!(m.records(), want);
        let seen: Vec<MirrorRecord> = m.iter().map(|e| e.to_record()).collect();
        assert_eq!(seen, want);
        for (k, r) in model {
            assert_eq!(m.get(k).map(|e| e.to_record()).as_ref(), Some(r));
        }
        // The text is what the live entries use plus what is counted as unused.
        let used: usize = m.entries().map(Entry::text_len).sum();
        assert_eq!(used + m.dead_text, m.text.len());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// The mirror behaves as the ordered map it replaces: same records in the same
        /// order, the same answers to lookups, the same previous records given back.
        #[test]
        fn behaves_as_an_ordered_map(ops in proptest::collection::vec(any_op(), 1..600)) {
            let mut m = Mirror::default();
            let mut model: BTreeMap<MirrorKey, MirrorRecord> = BTreeMap::new();
            for op in ops {
                match op {
                    Op::Upsert(r) => {
                        let before = model.insert(MirrorKey::of(&r.id), r.clone());
                        let got = m.upsert(&r.id, r.record.as_ref());
                        match (before, got) {
                            (None, Upsert::Added) => {}
                            (Some(old), Upsert::Same) => prop_assert_eq!(old, r),
                            (Some(old), Upsert::Altered(o)) => {
                                prop_assert_ne!(&old, &r);
                                prop_assert_eq!(o, old);
                            }
                            (b, g) => prop_assert!(false, "model {:?}, mirror {:?}", b, g),
                        }
                    }
                    Op::Remove(r) => {
                        let before = model.remove(&MirrorKey::of(&r.id));
                        prop_assert_eq!(m.remove(&r.id), before);
                    }
                    Op::Rebuild(list) => {
                        model = list.iter().map(|r| (MirrorKey::of(&r.id), r.clone())).collect();
                        m = Mirror::from_records(list.iter().map(|r| (&r.id, r.record.as_ref())));
                    }
                }
                check(&m, &model);
            }
        }
    }

    #[test]
    fn many_events_on_a_large_mirror_stay_sorted_and_compact() {
        let base: Vec<MirrorRecord> = (0..5000u32)
            .map(|i| {
                let mut r = record(0, 0, 0, i, None);
                r.id.software_identifier = Text::from(format!("example.org__base-{i:05}"));
                r
            })
            .collect();
        let mut m = Mirror::from_records(base.iter().map(|r| (&r.id, None)));
        assert_eq!(m.text.capacity(), m.text.len());
        // Every other base record removed, 3000 new ones added in between.
        for r in base.iter().step_by(2) {
            assert!(m.remove(&r.id).is_some());
        }
        for i in 0..3000u32 {
            let mut r = record(0, 0, 0, i, None);
            r.id.software_identifier = Text::from(format!("example.org__base-{i:05}x"));
            assert!(matches!(m.upsert(&r.id, None), Upsert::Added));
        }
        assert_eq!(m.len(), 5500);
        assert!(m.recent.len() <= m.main.len().isqrt().max(MIN_RUN));
        assert!(m.dead <= m.main.len().isqrt().max(MIN_RUN));
        let ids: Vec<&str> = m.iter().map(|e| e.software_identifier).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert!(m.dead_text <= m.text.len() / 2 || m.dead_text < MIN_DEAD_TEXT);
    }

    #[test]
    fn entries_are_small() {
        assert!(size_of::<Entry>() <= 40);
    }
}
