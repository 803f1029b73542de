//! The SWIMA-PC engine (RFC 8412 §3, §4): inventory model, event log with EIDs and epochs,
//! answers to every request form, subscriptions and size rules. Sans-IO.
//!
//! ```text
//!  embedder                          Collector                          SWIMA-PV
//!  add_source / apply_snapshot  ──▶  inventory + event log ──store──▶ LogStore
//!  apply_change (now)                 subscriptions
//!  handle_message(peer, msg)    ──▶  answer / PA-TNC Error / pushes ──▶ poll_transmit()
//!  disconnect(peer)                   (drops the peer's subscriptions)
//! ```
//!
//! Drain contract: after each `handle_*`, `apply_*`, `rotate_epoch` or `disconnect` call,
//! call [`Collector::poll_transmit`] until it returns `None` and send each attribute to its
//! peer (exclusively, RFC 8412 §3.3) in a PA-TNC message of PA subtype SWIMA.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use bytes::Bytes;
use nea_wire::{DecodeError, Text};
use pa_tnc::{Attribute, DateTime20, PaAttribute, PaTncError, PaTncMessage};

use crate::config::CollectorConfig;
use crate::wire::events::EVENT_PREFIX;
use crate::wire::inventory::FLAG_SUBSCRIPTION_FULFILLMENT;
use crate::{
    Action, DataModelType, Error, Event, Events, Inventory, Item, SoftwareId, SoftwareRecord,
    SourceMetadata, SourceMetadataRequest, SourceMetadataResponse, SubscriptionStatusRequest,
    SubscriptionStatusResponse, SwimaErrorInfo, SwimaRequest,
};

#[cfg(feature = "fs")]
pub(crate) mod file_store;
pub(crate) mod log;

use log::{LogState, LogStore};

/// Who a request came from and where answers go: the PB-TNC session (Connection ID) and the
/// Posture Validator Identifier (RFC 8412 §3.8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Peer {
    /// The broker's Connection ID.
    pub connection: u32,
    /// The Posture Validator Identifier of the SWIMA-PV.
    pub validator: u32,
}

/// One attribute for one peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Where to send it.
    pub peer: Peer,
    /// A SWIMA response or a PA-TNC Error.
    pub attribute: Attribute,
}

/// One software record as a source reports it (the collector assigns the Record Identifier).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SourceItem {
    /// Data model of `record`.
    pub data_model: DataModelType,
    /// Software Identifier: stable for the product (RFC 8412 §3.4.1).
    pub software_identifier: Text,
    /// Software Locator (URI, empty when unknown).
    pub locator: Text,
    /// The record (e.g. the SWID tag).
    pub record: Bytes,
}

/// A change a source detected in real time (RFC 8412 §3.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The record was created, or altered if one with the same identifier and locator exists.
    Upsert(SourceItem),
    /// The record with this identifier and locator was removed.
    Remove {
        /// Software Identifier.
        software_identifier: Text,
        /// Software Locator.
        locator: Text,
    },
}

/// A source of software records the embedder implements (RFC 8412 §3.1): it reports its full
/// current content; the collector derives creations, deletions and alterations.
pub trait InventorySource {
    /// Human-readable description for the Source Metadata Response (RFC 8412 §5.14).
    fn metadata(&self) -> Text;
    /// Everything the source holds now.
    fn scan(&mut self) -> Result<Vec<SourceItem>, Error>;
}

type Key = (u8, Text, Text);

/// What [`Collector::open`] found in its store.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Recovery {
    /// No stored log: a new epoch began.
    New,
    /// The stored log was loaded: same epoch, EIDs continue.
    Resumed,
    /// The stored log was unusable (unreadable, damaged inside, or with EID gaps): a new epoch
    /// began and every SWIMA-PV will resynchronise (RFC 8412 §3.7.6). Log it.
    Discarded(Error),
}

#[derive(Debug, Clone)]
struct Subscription {
    peer: Peer,
    request: SwimaRequest,
    /// EID of the last event reported for an event subscription (RFC 8412 §3.8.5.2).
    last_reported: u32,
}

/// The SWIMA-PC engine (RFC 8412 §3, §4): inventory model, event log with EIDs and epochs,
/// answers to every request form, subscriptions and size rules. Sans-IO.
///
/// ```text
///  embedder                          Collector                          SWIMA-PV
///  add_source / apply_snapshot  ──▶  inventory + event log ──store──▶ LogStore
///  apply_change (now)                 subscriptions
///  handle_message(peer, msg)    ──▶  answer / PA-TNC Error / pushes ──▶ poll_transmit()
///  disconnect(peer)                   (drops the peer's subscriptions)
/// ```
///
/// Drain contract: after each `handle_*`, `apply_*`, `rotate_epoch` or `disconnect` call,
/// call [`Collector::poll_transmit`] until it returns `None` and send each attribute to its
/// peer (exclusively, RFC 8412 §3.3) in a PA-TNC message of PA subtype SWIMA.
#[derive(Debug)]
pub struct Collector<S: LogStore> {
    config: CollectorConfig,
    store: S,
    epoch: u32,
    /// Whether the base inventory of this epoch may still change without events.
    base_open: bool,
    /// Sources whose first snapshot went into the open base.
    based: BTreeSet<u8>,
    base: Vec<SoftwareRecord>,
    inventory: BTreeMap<Key, SoftwareRecord>,
    events: Vec<Event<SoftwareRecord>>,
    next_record_id: u32,
    sources: BTreeMap<u8, Text>,
    subscriptions: Vec<Subscription>,
    limits: HashMap<Peer, usize>,
    out: VecDeque<Transmit>,
    recovery: Recovery,
    /// The store failed: events may be lost, so nothing is answered until a new epoch.
    store_failed: bool,
}

fn key_of(r: &SoftwareRecord) -> Key {
    (
        r.id.source_id,
        r.id.software_identifier.clone(),
        r.id.locator.clone(),
    )
}

impl<S: LogStore> Collector<S> {
    /// Opens the collector over `store`. A stored log keeps its epoch and EIDs; without one,
    /// or if it is corrupt or has gaps, the collector starts epoch `fresh_epoch` (a random
    /// value from the embedder, RFC 8412 §3.7.1) with an empty log (§3.7.6).
    pub fn open(config: CollectorConfig, mut store: S, fresh_epoch: u32) -> Result<Self, Error> {
        let (loaded, recovery) = match store.load() {
            Ok(Some(s)) if s.is_consistent() => (Some(s), Recovery::Resumed),
            // RFC 8412 §3.7.6: lost or corrupt log → new epoch, older events purged.
            Ok(Some(_)) => (
                None,
                Recovery::Discarded(Error::Store(
                    "stored events are not numbered 1, 2, 3 …".into(),
                )),
            ),
            Ok(None) => (None, Recovery::New),
            Err(e) => (None, Recovery::Discarded(e)),
        };
        let mut c = Self {
            config,
            store,
            epoch: fresh_epoch,
            base_open: true,
            based: BTreeSet::new(),
            base: Vec::new(),
            inventory: BTreeMap::new(),
            events: Vec::new(),
            next_record_id: 0,
            sources: BTreeMap::new(),
            subscriptions: Vec::new(),
            limits: HashMap::new(),
            out: VecDeque::new(),
            recovery,
            store_failed: false,
        };
        match loaded {
            Some(state) => {
                c.epoch = state.epoch;
                c.base_open = false;
                for r in &state.base {
                    c.insert(r.clone());
                }
                for e in &state.events {
                    c.replay(e);
                }
                c.base = state.base;
                c.events = state.events;
            }
            None => {
                c.store.reset(&LogState {
                    epoch: fresh_epoch,
                    ..LogState::default()
                })?;
            }
        }
        Ok(c)
    }

    fn insert(&mut self, r: SoftwareRecord) {
        self.next_record_id = self.next_record_id.max(r.id.record_id.saturating_add(1));
        self.inventory.insert(key_of(&r), r);
    }

    fn replay(&mut self, e: &Event<SoftwareRecord>) {
        if e.action == Action::DELETION {
            self.inventory.remove(&key_of(&e.item));
        } else {
            self.insert(e.item.clone());
        }
    }

    /// Compacts the event log as RFC 8412 §3.7.6 allows (a "sliding window"): drops the
    /// events that every event subscription has already been sent and that are older than the
    /// last [`CollectorConfig::history`] events, folds them into the base inventory, and
    /// renumbers the retained events from EID 1 in the new epoch `new_epoch` (a random value
    /// ≠ the current one; purging events needs a new epoch, §3.7.1). Subscription trackers
    /// move with their events (§3.8.5.2). Returns how many events were dropped; with nothing
    /// to drop the epoch stays.
    ///
    /// The store is rewritten ([`LogStore::reset`]), so this is also how a `FileStore`
    /// shrinks. Every SWIMA-PV resynchronises after the epoch change.
    pub fn compact(&mut self, new_epoch: u32) -> Result<u32, Error> {
        if self.store_failed {
            return Err(Error::Store(
                "the event log failed: rotate the epoch".into(),
            ));
        }
        let mut cut = self.last_eid().saturating_sub(self.config.history);
        for s in self
            .subscriptions
            .iter()
            .filter(|s| s.request.wants_events())
        {
            cut = cut.min(s.last_reported);
        }
        if cut == 0 {
            return Ok(0);
        }
        if new_epoch == self.epoch {
            return Err(Error::InvalidValue("new epoch equals the current one"));
        }
        let n = usize::try_from(cut).unwrap_or(usize::MAX);
        let mut inv: BTreeMap<Key, SoftwareRecord> =
            self.base.iter().map(|r| (key_of(r), r.clone())).collect();
        for e in self.events.get(..n).unwrap_or_default() {
            if e.action == Action::DELETION {
                inv.remove(&key_of(&e.item));
            } else {
                inv.insert(key_of(&e.item), e.item.clone());
            }
        }
        let events = self
            .events
            .get(n..)
            .unwrap_or_default()
            .iter()
            .map(|e| Event {
                eid: e.eid - cut,
                ..e.clone()
            })
            .collect();
        let state = LogState {
            epoch: new_epoch,
            base: inv.into_values().collect(),
            events,
        };
        self.store.reset(&state)?;
        self.epoch = new_epoch;
        self.base = state.base;
        self.events = state.events;
        self.base_open = false;
        // RFC 8412 §3.8.5.2: the tracker moves to the new EID of the last reported event.
        for s in &mut self.subscriptions {
            s.last_reported = s.last_reported.saturating_sub(cut);
        }
        Ok(cut)
    }

    /// Whether the store failed; requests are refused until [`Collector::rotate_epoch`].
    pub fn store_failed(&self) -> bool {
        self.store_failed
    }

    /// Whether `open` found a stored log (same epoch, continuing EIDs).
    pub fn recovered(&self) -> bool {
        self.recovery == Recovery::Resumed
    }

    /// What `open` found in the store, including why a stored log was discarded.
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// The current EID Epoch.
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// EID of the last recorded event (0: none in this epoch).
    pub fn last_eid(&self) -> u32 {
        u32::try_from(self.events.len()).unwrap_or(u32::MAX)
    }

    /// The events of this epoch (EID `i + 1` at index `i`).
    pub fn events(&self) -> &[Event<SoftwareRecord>] {
        &self.events
    }

    /// The current inventory, in (source, identifier, locator) order.
    pub fn inventory(&self) -> impl Iterator<Item = &SoftwareRecord> {
        self.inventory.values()
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The store, mutably (e.g. to inject failures in tests).
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// The collector's store, for a restart.
    pub fn into_store(self) -> S {
        self.store
    }

    /// Active subscriptions: (peer, establishing request).
    pub fn subscriptions(&self) -> impl Iterator<Item = (Peer, &SwimaRequest)> {
        self.subscriptions.iter().map(|s| (s.peer, &s.request))
    }

    /// Registers (or renames) source `id` (RFC 8412 §3.4.5).
    pub fn add_source(&mut self, id: u8, metadata: Text) {
        self.sources.insert(id, metadata);
    }

    /// Limits what `peer` may receive: the largest SWIMA attribute (header included), e.g.
    /// the PA-TNC message limit the broker or segmentation contract allows minus 8.
    pub fn set_peer_limit(&mut self, peer: Peer, max_attribute_size: usize) {
        self.limits.insert(peer, max_attribute_size);
    }

    fn limit(&self, peer: Peer) -> usize {
        let l = self
            .limits
            .get(&peer)
            .copied()
            .unwrap_or(self.config.max_attribute_size);
        l.min(self.config.max_attribute_size)
            .min(usize::try_from(u32::MAX).unwrap_or(usize::MAX))
    }

    /// The PB-TNC session of `connection` ended: its subscriptions end (RFC 8412 §3.8.3).
    pub fn disconnect(&mut self, connection: u32) {
        self.subscriptions
            .retain(|s| s.peer.connection != connection);
        self.limits.retain(|p, _| p.connection != connection);
    }

    /// Starts a new EID epoch (`new_epoch` random, ≠ the current one; RFC 8412 §3.7.1): the
    /// current inventory becomes the epoch's base (Last EID 0) and the log is purged.
    /// Needed when the log must shrink or EIDs are exhausted.
    pub fn rotate_epoch(&mut self, new_epoch: u32) -> Result<(), Error> {
        // RFC 8412 §3.7.1: a reset EID counter MUST come with a new epoch.
        if new_epoch == self.epoch {
            return Err(Error::InvalidValue("new epoch equals the current one"));
        }
        let state = LogState {
            epoch: new_epoch,
            base: self.inventory.values().cloned().collect(),
            events: Vec::new(),
        };
        self.store.reset(&state)?;
        self.epoch = new_epoch;
        self.base = state.base;
        self.events.clear();
        self.base_open = false;
        self.store_failed = false;
        // RFC 8412 §3.8.5.2: the trackers restart at zero after a full purge.
        for s in &mut self.subscriptions {
            s.last_reported = 0;
        }
        Ok(())
    }

    /// Drops source `id` and its records. Losing a source is a discontinuity, so this starts
    /// epoch `new_epoch` (RFC 8412 §3.1).
    pub fn remove_source(&mut self, id: u8, new_epoch: u32) -> Result<(), Error> {
        self.sources.remove(&id);
        let before = self.inventory.clone();
        self.inventory.retain(|k, _| k.0 != id);
        if let Err(e) = self.rotate_epoch(new_epoch) {
            self.inventory = before;
            return Err(e);
        }
        Ok(())
    }

    /// Scans `source` (registered as `id`) and records the net change.
    pub fn refresh<T: InventorySource + ?Sized>(
        &mut self,
        id: u8,
        source: &mut T,
        now: &DateTime20,
    ) -> Result<usize, Error> {
        let items = source.scan()?;
        self.add_source(id, source.metadata());
        self.apply_snapshot(id, items, now)
    }

    /// Records the difference between source `id`'s records and `items`, its full current
    /// content (RFC 8412 §3.6: net change, e.g. after downtime): deletions, alterations and
    /// creations, each with the next EID and timestamp `now`. Returns how many events were
    /// recorded; subscriptions are then fulfilled.
    ///
    /// The first snapshot of each source in a brand-new epoch, before anything was answered
    /// or logged, forms the epoch's base inventory (Last EID 0) instead.
    pub fn apply_snapshot(
        &mut self,
        id: u8,
        items: Vec<SourceItem>,
        now: &DateTime20,
    ) -> Result<usize, Error> {
        if !self.sources.contains_key(&id) {
            return Err(Error::UnknownSource(id));
        }
        let mut new: BTreeMap<(Text, Text), SourceItem> = BTreeMap::new();
        for it in items {
            check_item(&it)?;
            new.insert((it.software_identifier.clone(), it.locator.clone()), it);
        }
        let mut changes = Vec::new();
        for (k, _) in self
            .inventory
            .range((id, Text::default(), Text::default())..)
        {
            if k.0 != id {
                break;
            }
            if !new.contains_key(&(k.1.clone(), k.2.clone())) {
                changes.push(Change::Remove {
                    software_identifier: k.1.clone(),
                    locator: k.2.clone(),
                });
            }
        }
        for ((ident, loc), it) in new {
            match self.inventory.get(&(id, ident, loc)) {
                Some(old) if old.id.data_model == it.data_model && old.record == it.record => {}
                _ => changes.push(Change::Upsert(it)),
            }
        }
        // A second snapshot of the same source reports changes as events.
        if self.based.contains(&id) {
            self.base_open = false;
        }
        if self.base_open && self.events.is_empty() {
            self.based.insert(id);
            for c in changes {
                self.apply_to_base(id, c);
            }
            let state = LogState {
                epoch: self.epoch,
                base: self.inventory.values().cloned().collect(),
                events: Vec::new(),
            };
            self.store.reset(&state)?;
            self.base = state.base;
            return Ok(0);
        }
        self.apply_changes(id, changes, now)
    }

    fn apply_to_base(&mut self, id: u8, c: Change) {
        match c {
            Change::Upsert(it) => {
                let rec = self.to_record(id, it);
                self.insert(rec);
            }
            Change::Remove {
                software_identifier,
                locator,
            } => {
                self.inventory.remove(&(id, software_identifier, locator));
            }
        }
    }

    fn to_record(&self, id: u8, it: SourceItem) -> SoftwareRecord {
        let key = (id, it.software_identifier.clone(), it.locator.clone());
        // RFC 8412 §3.4.3: the Record Identifier SHOULD survive modification.
        let record_id = self
            .inventory
            .get(&key)
            .map_or(self.next_record_id, |r| r.id.record_id);
        SoftwareRecord {
            id: SoftwareId {
                record_id,
                data_model: it.data_model,
                source_id: id,
                software_identifier: it.software_identifier,
                locator: it.locator,
            },
            record: it.record,
        }
    }

    /// Records real-time changes of source `id` (RFC 8412 §3.6); a no-op change (upsert of an
    /// identical record, removal of an absent one) records nothing.
    pub fn apply_changes(
        &mut self,
        id: u8,
        changes: Vec<Change>,
        now: &DateTime20,
    ) -> Result<usize, Error> {
        if !self.sources.contains_key(&id) {
            return Err(Error::UnknownSource(id));
        }
        if self.store_failed {
            return Err(Error::Store(
                "the event log failed: rotate the epoch".into(),
            ));
        }
        let mut n = 0;
        let mut touched = BTreeSet::new();
        let mut result = Ok(());
        for c in changes {
            let (action, item) = match c {
                Change::Upsert(it) => {
                    if let Err(e) = check_item(&it) {
                        result = Err(e);
                        break;
                    }
                    let key = (id, it.software_identifier.clone(), it.locator.clone());
                    match self.inventory.get(&key) {
                        Some(old)
                            if old.id.data_model == it.data_model && old.record == it.record =>
                        {
                            continue;
                        }
                        Some(_) => (Action::ALTERATION, self.to_record(id, it)),
                        None => (Action::CREATION, self.to_record(id, it)),
                    }
                }
                Change::Remove {
                    software_identifier,
                    locator,
                } => match self.inventory.get(&(id, software_identifier, locator)) {
                    // RFC 8412 §3.6: the deletion event keeps the record's ID and locator.
                    Some(old) => (Action::DELETION, old.clone()),
                    None => continue,
                },
            };
            let Some(eid) = self.last_eid().checked_add(1) else {
                result = Err(Error::InvalidValue("EID space exhausted: rotate the epoch"));
                break;
            };
            let event = Event {
                eid,
                timestamp: now.clone(),
                action,
                item,
            };
            // The log is written before the change is visible to anyone.
            if let Err(e) = self.store.append(self.epoch, &event) {
                self.store_failed = true;
                result = Err(e);
                break;
            }
            touched.insert(event.item.id.software_identifier.clone());
            self.replay(&event);
            self.events.push(event);
            self.base_open = false;
            n += 1;
        }
        if n > 0 {
            // Durable before anything is reported.
            if let Err(e) = self.store.flush() {
                self.store_failed = true;
                result = Err(e);
            } else {
                self.fulfil(&touched);
            }
        }
        result.map(|()| n)
    }

    /// Handles one received PA-TNC message from `peer` (`base`: absolute offset of its first
    /// byte, for error offsets). Answers SWIMA Requests, Subscription Status Requests and
    /// Source Metadata Requests; a malformed one gets Invalid Parameter (RFC 8412 §3.9).
    /// Responses and PA-TNC Errors are ignored (§5.2, §5.15). Apply [`pa_tnc::receive`]'s
    /// NOSKIP rules before calling this.
    pub fn handle_message(&mut self, peer: Peer, message: &PaTncMessage, base: usize) {
        for a in &message.attributes {
            if let Err(e) = self.handle_attribute(peer, a) {
                let err = pa_tnc::value_error_reply(message, base, e);
                self.send(peer, err.to_attribute());
            }
        }
    }

    /// Handles one received attribute; `Err` is a malformed SWIMA request, which the caller
    /// answers with Invalid Parameter ([`Collector::handle_message`] does).
    pub fn handle_attribute(&mut self, peer: Peer, a: &Attribute) -> Result<(), DecodeError> {
        if SwimaRequest::matches(a) {
            let req = SwimaRequest::from_attribute(a)?;
            self.handle_request(peer, req);
        } else if SubscriptionStatusRequest::matches(a) {
            SubscriptionStatusRequest::from_attribute(a)?;
            // RFC 8412 §5.12: exactly this requester's active subscriptions.
            let subs = self
                .subscriptions
                .iter()
                .filter(|s| s.peer == peer)
                .map(|s| s.request.clone())
                .collect();
            match SubscriptionStatusResponse::new(subs) {
                Ok(r) => self.send(peer, r.to_attribute()),
                Err(_) => self.send_error(peer, swima_error(0, "too many subscriptions")),
            }
        } else if SourceMetadataRequest::matches(a) {
            SourceMetadataRequest::from_attribute(a)?;
            // RFC 8412 §5.14: a record for every source used toward this peer.
            let sources = self
                .sources
                .iter()
                .map(|(id, m)| SourceMetadata {
                    source_id: *id,
                    metadata: m.clone(),
                })
                .collect();
            match SourceMetadataResponse::new(sources) {
                Ok(r) => self.send(peer, r.to_attribute()),
                Err(_) => self.send_error(peer, swima_error(0, "invalid source metadata")),
            }
        }
        Ok(())
    }

    /// Answers one SWIMA Request (RFC 8412 §3.9: all or nothing, one answer or one error).
    ///
    /// After a [`LogStore`] failure every request gets SWIMA_ERROR until
    /// [`Collector::rotate_epoch`] succeeds: events might be lost, and a gap MUST NOT be
    /// reported as continuity (RFC 8412 §3.7.1).
    pub fn handle_request(&mut self, peer: Peer, req: SwimaRequest) {
        self.base_open = false;
        let id = req.request_id;
        if self.store_failed {
            return self.send_error(peer, swima_error(id, "event log unavailable"));
        }
        let cleared = req.clear_subscriptions();
        let active = |s: &&Subscription| s.peer == peer && !cleared;
        // RFC 8412 §5.5: a Request ID equal to an active Subscription ID of this peer.
        if self
            .subscriptions
            .iter()
            .filter(active)
            .any(|s| s.request.request_id == id)
        {
            return self.send_error(
                peer,
                SwimaErrorInfo::SubscriptionIdReuse {
                    request_id: id,
                    description: Text::from_static("request id is an active subscription id"),
                },
            );
        }
        if req.subscribe() {
            let remaining = if cleared {
                self.subscriptions.iter().filter(|s| s.peer != peer).count()
            } else {
                self.subscriptions.len()
            };
            // RFC 8412 §3.8.1: no room → SUBSCRIPTION_DENIED, nothing changes.
            if remaining >= self.config.max_subscriptions {
                return self.send_error(
                    peer,
                    SwimaErrorInfo::SubscriptionDenied {
                        request_id: id,
                        description: Text::from_static("subscription limit reached"),
                    },
                );
            }
        }
        let limit = self.limit(peer);
        let answer = if req.wants_events() {
            self.events_answer(&req, req.earliest_eid, 0, id, limit)
        } else {
            self.inventory_answer(&req, 0, id, limit)
                .map(|a| (a, self.last_eid()))
        };
        let (attribute, consulted) = match answer {
            Ok(a) => a,
            Err(e) => return self.send_error(peer, e),
        };
        // Only now, with the answer built, do C and S take effect (RFC 8412 §3.9).
        if cleared {
            // RFC 8412 §3.8.3: C clears all subscriptions of this (connection, validator).
            self.subscriptions.retain(|s| s.peer != peer);
        }
        let mut push = false;
        if req.subscribe() {
            push = req.wants_events() && consulted < self.last_eid();
            self.subscriptions.push(Subscription {
                peer,
                request: req,
                last_reported: consulted,
            });
        }
        // RFC 8412 §3.9: sending the answer is the last action for this request.
        self.send(peer, attribute);
        if push {
            // RFC 8412 §3.8.5.2: unreported events after a partial direct answer are pushed
            // at once.
            if let Some(i) = self.subscriptions.len().checked_sub(1) {
                self.fulfil_one(i, None);
            }
        }
    }

    fn inventory_answer(
        &self,
        req: &SwimaRequest,
        flags: u8,
        id: u32,
        limit: usize,
    ) -> Result<Attribute, SwimaErrorInfo> {
        let sel = Selector::new(req);
        let selected: Vec<&SoftwareRecord> = self
            .inventory
            .values()
            .filter(|r| sel.selects(&r.id.software_identifier))
            .collect();
        let header = nea_wire::TLV_HEADER_LEN + Inventory::<SoftwareId>::HEADER_LEN;
        let size = header
            + selected
                .iter()
                .map(|r| {
                    if req.identifiers_only() {
                        r.id.encoded_len()
                    } else {
                        r.encoded_len()
                    }
                })
                .sum::<usize>();
        if size > limit {
            // RFC 8412 §3.7.5: an inventory cannot be partial → RESPONSE_TOO_LARGE.
            return Err(too_large(id, limit));
        }
        let built = if req.identifiers_only() {
            Inventory::new(
                flags,
                id,
                self.epoch,
                self.last_eid(),
                selected.iter().map(|r| r.id.clone()).collect(),
            )
            .map(|i| i.to_attribute())
        } else {
            Inventory::new(
                flags,
                id,
                self.epoch,
                self.last_eid(),
                selected.into_iter().cloned().collect(),
            )
            .map(|i| i.to_attribute())
        };
        built.map_err(|_| too_large(id, limit))
    }

    /// The events answer from `from` on, cut to `limit` (a partial list, RFC 8412 §3.7.5);
    /// returns it with its Last Consulted EID.
    fn events_answer(
        &self,
        req: &SwimaRequest,
        from: u32,
        flags: u8,
        id: u32,
        limit: usize,
    ) -> Result<(Attribute, u32), SwimaErrorInfo> {
        let last = self.last_eid();
        let mut size = nea_wire::TLV_HEADER_LEN + Events::<SoftwareId>::HEADER_LEN;
        if size > limit {
            return Err(too_large(id, limit));
        }
        let sel = Selector::new(req);
        let mut picked: Vec<&Event<SoftwareRecord>> = Vec::new();
        // RFC 8412 §3.7.5: an Earliest EID beyond the last event → zero events and Last
        // Consulted EID = Last EID.
        let mut consulted = last;
        let start = usize::try_from(from.max(1) - 1).unwrap_or(usize::MAX);
        for e in self.events.get(start..).unwrap_or_default() {
            // RFC 8412 §3.7.4: only events matching a target (if targeted).
            if !sel.selects(&e.item.id.software_identifier) {
                continue;
            }
            let len = if req.identifiers_only() {
                EVENT_PREFIX + e.item.id.encoded_len()
            } else {
                e.encoded_len()
            };
            if size + len > limit {
                consulted = e.eid - 1;
                break;
            }
            size += len;
            picked.push(e);
        }
        if consulted < from && from <= last {
            // Not even one applicable event fits: no partial list can make progress.
            return Err(too_large(id, limit));
        }
        let built = if req.identifiers_only() {
            Events::new(
                flags,
                id,
                self.epoch,
                last,
                consulted,
                picked
                    .into_iter()
                    .map(|e| Event {
                        eid: e.eid,
                        timestamp: e.timestamp.clone(),
                        action: e.action,
                        item: e.item.id.clone(),
                    })
                    .collect(),
            )
            .map(|v| v.to_attribute())
        } else {
            Events::new(
                flags,
                id,
                self.epoch,
                last,
                consulted,
                picked.into_iter().cloned().collect(),
            )
            .map(|v| v.to_attribute())
        };
        built
            .map(|a| (a, consulted))
            .map_err(|_| too_large(id, limit))
    }

    /// Pushes to every subscription affected by changes to `touched` identifiers.
    fn fulfil(&mut self, touched: &BTreeSet<Text>) {
        let mut i = 0;
        while i < self.subscriptions.len() {
            if self.fulfil_one(i, Some(touched)) {
                i += 1;
            }
        }
    }

    /// Fulfils subscription `i`; returns false if it was cancelled (removed).
    fn fulfil_one(&mut self, i: usize, touched: Option<&BTreeSet<Text>>) -> bool {
        let Some(sub) = self.subscriptions.get(i).cloned() else {
            return false;
        };
        let limit = self.limit(sub.peer);
        let id = sub.request.request_id;
        let flags = FLAG_SUBSCRIPTION_FULFILLMENT;
        let sel = Selector::new(&sub.request);
        if !sub.request.wants_events() {
            // RFC 8412 §3.8.5.3: targeted subscriptions fire only for matching records.
            if touched.is_some_and(|t| !t.iter().any(|x| sel.selects(x))) {
                return true;
            }
            // RFC 8412 §3.8.5.1: resend the (targeted) inventory.
            return match self.inventory_answer(&sub.request, flags, id, limit) {
                Ok(a) => {
                    self.send(sub.peer, a);
                    true
                }
                Err(e) => self.cancel(i, sub.peer, id, e),
            };
        }
        // RFC 8412 §3.8.5.2: only events after the last reported one; a partial list is
        // followed at once by the rest.
        let mut from = sub.last_reported.saturating_add(1);
        while from <= self.last_eid() {
            let applicable = self
                .events
                .get(usize::try_from(from - 1).unwrap_or(usize::MAX)..)
                .unwrap_or_default()
                .iter()
                .any(|e| sel.selects(&e.item.id.software_identifier));
            if !applicable {
                from = self.last_eid().saturating_add(1);
                break;
            }
            match self.events_answer(&sub.request, from, flags, id, limit) {
                Ok((a, consulted)) => {
                    self.send(sub.peer, a);
                    from = consulted.saturating_add(1);
                }
                Err(e) => return self.cancel(i, sub.peer, id, e),
            }
        }
        if let Some(s) = self.subscriptions.get_mut(i) {
            s.last_reported = from - 1;
        }
        true
    }

    fn cancel(&mut self, i: usize, peer: Peer, id: u32, sub_error: SwimaErrorInfo) -> bool {
        // RFC 8412 §3.9, §5.15.3: a fulfilment failure is reported as code 7 with the cause
        // inside, and cancels that subscription only.
        self.subscriptions.remove(i);
        let info = SwimaErrorInfo::SubscriptionFulfillment {
            subscription_id: id,
            sub_error: sub_error.to_pa_tnc_error(),
        };
        self.send_error(peer, info);
        false
    }

    fn send(&mut self, peer: Peer, attribute: Attribute) {
        self.out.push_back(Transmit { peer, attribute });
    }

    fn send_error(&mut self, peer: Peer, e: SwimaErrorInfo) {
        let pe: PaTncError = e.into();
        self.send(peer, pe.to_attribute());
    }

    /// The next attribute to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop_front()
    }
}

/// Which identifiers a request selects (RFC 8412 §3.5: exact match), as a set so a request
/// with many targets costs O(records + targets), not their product.
enum Selector<'a> {
    All,
    Some(HashSet<&'a Text>),
}

impl<'a> Selector<'a> {
    fn new(req: &'a SwimaRequest) -> Self {
        if req.is_targeted() {
            Self::Some(req.targets().iter().collect())
        } else {
            Self::All
        }
    }

    fn selects(&self, t: &Text) -> bool {
        match self {
            Self::All => true,
            Self::Some(set) => set.contains(t),
        }
    }
}

fn check_item(it: &SourceItem) -> Result<(), Error> {
    SoftwareRecord {
        id: SoftwareId::new(
            0,
            it.data_model,
            0,
            it.software_identifier.clone(),
            it.locator.clone(),
        ),
        record: it.record.clone(),
    }
    .check()
}

fn too_large(id: u32, limit: usize) -> SwimaErrorInfo {
    // RFC 8412 §5.15.2: the largest SWIMA attribute the SWIMA-PC is willing to send.
    SwimaErrorInfo::ResponseTooLarge {
        request_id: id,
        max_allowed_size: u32::try_from(limit).unwrap_or(u32::MAX),
        description: Text::from_static("response exceeds the maximum attribute size"),
    }
}

fn swima_error(id: u32, d: &'static str) -> SwimaErrorInfo {
    SwimaErrorInfo::SwimaError {
        request_id: id,
        description: Text::from_static(d),
    }
}
