//! The event log's persistence: [`LogStore`] and the in-memory [`MemoryStore`].

use crate::{Error, Event, SoftwareRecord};

/// Everything the collector persists: the EID Epoch, the inventory at EID 0 of the epoch
/// (`base`), and every event of the epoch in EID order (EIDs 1, 2, 3 … without gaps).
///
/// Replaying `events` over `base` gives the current inventory, so a restart keeps both the
/// epoch and the EIDs (RFC 8412 §3.7.1, §3.7.6).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogState {
    /// EID Epoch.
    pub epoch: u32,
    /// The inventory when the epoch began (Last EID 0).
    pub base: Vec<SoftwareRecord>,
    /// The events of the epoch, EID `i + 1` at index `i`.
    pub events: Vec<Event<SoftwareRecord>>,
}

impl LogState {
    /// Whether the events are numbered 1, 2, 3 … without gaps (RFC 8412 §3.7.1).
    pub fn is_consistent(&self) -> bool {
        self.events
            .iter()
            .enumerate()
            .all(|(i, e)| u32::try_from(i + 1).is_ok_and(|n| n == e.eid))
    }
}

/// Where the collector keeps its event log (RFC 8412 §3.7, §8.3): the plug-in point for
/// persistence. Calls happen before the change they record becomes visible to any SWIMA-PV.
pub trait LogStore {
    /// The stored log, `Ok(None)` if there is none. An `Err` (corrupt or unreadable log) makes
    /// the collector start a new epoch (RFC 8412 §3.7.6).
    fn load(&mut self) -> Result<Option<LogState>, Error>;
    /// Appends one event of the current epoch (it may stay buffered until [`LogStore::flush`]).
    fn append(&mut self, epoch: u32, event: &Event<SoftwareRecord>) -> Result<(), Error>;
    /// Makes every appended event durable; called once per batch of changes, before any of
    /// them is reported.
    fn flush(&mut self) -> Result<(), Error> {
        Ok(())
    }
    /// Replaces the whole log (new epoch, or new base before the first event).
    fn reset(&mut self, state: &LogState) -> Result<(), Error>;
}

/// A [`LogStore`] in memory: survives a collector restart within one process (tests, or an
/// embedder with its own persistence).
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    state: Option<LogState>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// What is stored.
    pub fn state(&self) -> Option<&LogState> {
        self.state.as_ref()
    }

    /// Loses everything (simulates a lost log).
    pub fn clear(&mut self) {
        self.state = None;
    }
}

impl LogStore for MemoryStore {
    fn load(&mut self) -> Result<Option<LogState>, Error> {
        Ok(self.state.clone())
    }

    fn append(&mut self, epoch: u32, event: &Event<SoftwareRecord>) -> Result<(), Error> {
        match &mut self.state {
            Some(s) if s.epoch == epoch => {
                s.events.push(event.clone());
                Ok(())
            }
            _ => Err(Error::Store("append to a log of another epoch".into())),
        }
    }

    fn reset(&mut self, state: &LogState) -> Result<(), Error> {
        self.state = Some(state.clone());
        Ok(())
    }
}

impl<T: LogStore + ?Sized> LogStore for &mut T {
    fn load(&mut self) -> Result<Option<LogState>, Error> {
        (**self).load()
    }

    fn append(&mut self, epoch: u32, event: &Event<SoftwareRecord>) -> Result<(), Error> {
        (**self).append(epoch, event)
    }

    fn flush(&mut self) -> Result<(), Error> {
        (**self).flush()
    }

    fn reset(&mut self, state: &LogState) -> Result<(), Error> {
        (**self).reset(state)
    }
}
