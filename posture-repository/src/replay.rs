//! "Installed as of a time", rebuilt from an endpoint's history, for every backend.

use std::collections::BTreeMap;

use crate::model::{HistoryEntry, HistoryKind, HistoryRecord, UnixTime};

/// The installed set while history rows are applied in `seq` order.
#[derive(Debug, Default)]
pub(crate) struct Replay {
    set: BTreeMap<(String, u8), (HistoryRecord, UnixTime)>,
}

impl Replay {
    /// Applies one row.
    pub(crate) fn apply(&mut self, h: HistoryEntry) {
        let Some(rec) = h.record else { return };
        let key = (rec.software_identifier.clone(), rec.source_id);
        match h.kind {
            HistoryKind::Install | HistoryKind::Alter => {
                let since = self.set.get(&key).map_or(h.at, |(_, since)| *since);
                self.set.insert(key, (rec, since));
            }
            HistoryKind::Remove => {
                self.set.remove(&key);
            }
            HistoryKind::Resync => {}
        }
    }

    /// One page of the result, by (software identifier, source): each record and since when.
    pub(crate) fn page(
        self,
        (l, o): (i64, i64),
    ) -> impl Iterator<Item = (HistoryRecord, UnixTime)> {
        let skip = usize::try_from(o).unwrap_or(usize::MAX);
        let take = usize::try_from(l).unwrap_or(0);
        self.set.into_values().skip(skip).take(take)
    }
}
