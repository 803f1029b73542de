//! The SWIMA-PV engine (RFC 8412 §3, §4): builds requests, mirrors one endpoint's inventory
//! from responses, events and subscription pushes, resynchronises on epoch changes and gaps,
//! and reports every change. Sans-IO; one `Validator` per endpoint (SWIMA-PC).
//!
//! ```text
//!  embedder                         Validator                          SWIMA-PC
//!  send_initial / send_* ──▶  pending requests, subscriptions ──▶ poll_transmit()
//!  handle_message(msg)   ──▶  mirror (record id → record), epoch, last EID
//!                              ──▶ poll_event(): Changed, Synced, Resync, Targeted, PeerError …
//! ```
//!
//! Drain contract: after each `handle_*` or `send_*` call, call [`Validator::poll_transmit`]
//! (requests to send to the SWIMA-PC, in a PA-TNC message of PA subtype SWIMA) and
//! [`Validator::poll_event`] until both return `None`. The validator never sends a PA-TNC
//! Error (RFC 8412 §3.9): malformed input is reported as [`ValidatorEvent::Malformed`].

mod mirror;

use std::collections::VecDeque;

use bytes::Bytes;
use nea_wire::{DecodeError, Text};
use pa_tnc::{Attribute, DateTime20, PaAttribute, PaTncError, PaTncMessage};

use crate::config::ValidatorConfig;
use mirror::Upsert;
pub use mirror::{Iter as MirrorIter, Mirror, MirrorEntry};

use crate::{
    Action, Event, Events, Inventory, Item, SoftwareId, SourceMetadataRequest,
    SourceMetadataResponse, SubscriptionStatusRequest, SubscriptionStatusResponse, SwimaAttribute,
    SwimaErrorInfo, SwimaRequest,
};

/// One record of the mirrored inventory.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MirrorRecord {
    /// Record Identifier, Data Model Type, Source, Software Identifier, Locator.
    pub id: SoftwareId,
    /// The record bytes, when full records were requested (attributes 16/17).
    pub record: Option<Bytes>,
}

/// How the mirror identifies a record: (Source Id Num, Software Identifier, Software Locator).
///
/// Not the Record Identifier alone: strongSwan sends Record Identifier 0 for every record of
/// an inventory and other numbers in events, while an alteration never changes the Software
/// Identifier (RFC 8412 §3.6) and a moved product gets a new locator (§3.4.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MirrorKey {
    /// Source Id Num.
    pub source_id: u8,
    /// Software Identifier.
    pub software_identifier: Text,
    /// Software Locator.
    pub locator: Text,
}

impl MirrorKey {
    /// The key of a record.
    pub fn of(id: &SoftwareId) -> Self {
        Self {
            source_id: id.source_id,
            software_identifier: id.software_identifier.clone(),
            locator: id.locator.clone(),
        }
    }
}

/// How the mirror changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MirrorChange {
    /// A record appeared.
    Added(MirrorRecord),
    /// A record disappeared.
    Removed(MirrorRecord),
    /// A record changed (same Record Identifier).
    Altered {
        /// Before.
        old: MirrorRecord,
        /// After.
        new: MirrorRecord,
    },
}

/// Why the mirror must be rebuilt from a full inventory (RFC 8412 §3.7.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResyncReason {
    /// The EID Epoch changed.
    EpochChanged {
        /// The epoch the mirror was in.
        old: u32,
        /// The new epoch.
        new: u32,
    },
    /// The Last EID went backwards within one epoch (SHOULD be logged, §3.7.6).
    LastEidWentBackwards {
        /// What the mirror had.
        mirrored: u32,
        /// What the SWIMA-PC reported.
        reported: u32,
    },
    /// Events arrived out of sequence or inconsistent.
    Inconsistent,
}

/// What a manager persists to resume a [`Validator`] after a restart
/// ([`Validator::state`], [`Validator::restore`]): the mirror is complete up to `last_eid` of
/// `epoch`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValidatorState {
    /// EID Epoch of the mirror.
    pub epoch: u32,
    /// The Last EID the mirror reflects.
    pub last_eid: u32,
    /// The mirrored records.
    pub mirror: Vec<MirrorRecord>,
}

/// What the embedder learns (store it in the manager's repository, log it).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
// Most events are `Changed`: boxing it would add an allocation to the common case.
#[allow(clippy::large_enum_variant)]
pub enum ValidatorEvent {
    /// The mirror changed.
    Changed {
        /// What changed.
        change: MirrorChange,
        /// EID Epoch of the change.
        epoch: u32,
        /// The EID of the event; for a change found by comparing a full inventory with the
        /// mirror, the inventory's Last EID (the change happened at or before it).
        eid: u32,
        /// The event's timestamp (RFC 3339, as the SWIMA-PC sent it); `None` for a change
        /// found by comparing a full inventory (inventories carry no times).
        timestamp: Option<DateTime20>,
    },
    /// The mirror is complete up to `last_eid` of `epoch` (a full inventory or a complete
    /// event list arrived).
    Synced {
        /// EID Epoch.
        epoch: u32,
        /// Last EID.
        last_eid: u32,
    },
    /// The mirror is out of sync; a full inventory was requested.
    Resync(ResyncReason),
    /// The answer to a targeted request (not mirrored: it covers only some identifiers).
    Targeted(SwimaAttribute),
    /// A Subscription Status Response.
    SubscriptionStatus(SubscriptionStatusResponse),
    /// A Source Metadata Response.
    SourceMetadata(SourceMetadataResponse),
    /// The SWIMA-PC answered a request with a SWIMA error (codes 4–8).
    PeerError(SwimaErrorInfo),
    /// Another PA-TNC Error arrived (codes 1–3 or vendor codes).
    OtherError(PaTncError),
    /// A subscription ended (fulfilment error or denial).
    SubscriptionCancelled(u32),
    /// A malformed attribute from the SWIMA-PC (logged, never answered: RFC 8412 §3.9).
    Malformed(DecodeError),
    /// The endpoint has more records than [`ValidatorConfig::max_mirror`](crate::ValidatorConfig):
    /// the mirror keeps what it had, is no longer synchronised, and the validator makes no
    /// further request on its own (it would get the same answer again) until the embedder
    /// calls [`Validator::send_inventory_request`] (e.g. after raising the bound).
    MirrorOverflow {
        /// The bound.
        limit: usize,
        /// How many records the mirror would have needed (at least).
        needed: usize,
    },
}

/// The SWIMA-PV engine (RFC 8412 §3, §4): builds requests, mirrors one endpoint's inventory
/// from responses, events and subscription pushes, resynchronises on epoch changes and gaps,
/// and reports every change. Sans-IO; one `Validator` per endpoint (SWIMA-PC).
///
/// ```text
///  embedder                         Validator                          SWIMA-PC
///  send_initial / send_* ──▶  pending requests, subscriptions ──▶ poll_transmit()
///  handle_message(msg)   ──▶  mirror (record id → record), epoch, last EID
///                              ──▶ poll_event(): Changed, Synced, Resync, Targeted, PeerError …
/// ```
///
/// Drain contract: after each `handle_*` or `send_*` call, call [`Validator::poll_transmit`]
/// (requests to send to the SWIMA-PC, in a PA-TNC message of PA subtype SWIMA) and
/// [`Validator::poll_event`] until both return `None`. The validator never sends a PA-TNC
/// Error (RFC 8412 §3.9): malformed input is reported as [`ValidatorEvent::Malformed`].
#[derive(Debug)]
pub struct Validator {
    config: ValidatorConfig,
    next_request_id: u32,
    pending: VecDeque<SwimaRequest>,
    /// Establishing requests of the subscriptions held, by Request ID (= Subscription ID):
    /// a few at most, so a sorted list.
    subscriptions: Vec<SwimaRequest>,
    epoch: Option<u32>,
    last_eid: u32,
    synced: bool,
    /// The mirror bound was hit: no automatic inventory requests.
    overflowed: bool,
    resync_outstanding: Option<u32>,
    mirror: Mirror,
    out: VecDeque<Attribute>,
    events: VecDeque<ValidatorEvent>,
}

/// Gives a drained queue's memory back (a manager holds one idle validator per connected
/// endpoint; a full inventory queues one event per record).
fn release_if_empty<T>(q: &mut VecDeque<T>) {
    if q.is_empty() && q.capacity() > 0 {
        *q = VecDeque::new();
    }
}

impl Validator {
    /// A validator with an empty mirror.
    pub fn new(config: ValidatorConfig) -> Self {
        Self {
            config,
            next_request_id: 1,
            pending: VecDeque::new(),
            subscriptions: Vec::new(),
            epoch: None,
            last_eid: 0,
            synced: false,
            overflowed: false,
            resync_outstanding: None,
            mirror: Mirror::default(),
            out: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// A validator resuming from what a manager persisted: the mirror counts as synchronised
    /// at (`state.epoch`, `state.last_eid`), so [`Validator::send_initial`] asks only for the
    /// events since (RFC 8412 §3.7.3). If the SWIMA-PC answers from another epoch or with a
    /// smaller Last EID, the validator resynchronises with a full inventory (§3.7.6).
    ///
    /// Records beyond [`ValidatorConfig::max_mirror`] are dropped and the mirror is then not
    /// synchronised (a full inventory follows).
    pub fn restore(config: ValidatorConfig, state: ValidatorState) -> Self {
        let mut v = Self::new(config);
        let n = state.mirror.len();
        v.mirror = Mirror::from_records(
            state
                .mirror
                .iter()
                .take(v.config.max_mirror)
                .map(|r| (&r.id, r.record.as_ref())),
        );
        v.epoch = Some(state.epoch);
        v.last_eid = state.last_eid;
        v.synced = true;
        if n > v.config.max_mirror {
            v.overflow(n);
        }
        v
    }

    /// What to persist to resume later with [`Validator::restore`]; `None` while the mirror
    /// is not synchronised (persist nothing then: a restart asks for a full inventory).
    pub fn state(&self) -> Option<ValidatorState> {
        if !self.synced {
            return None;
        }
        Some(ValidatorState {
            epoch: self.epoch?,
            last_eid: self.last_eid,
            mirror: self.mirror.records(),
        })
    }

    /// The mirrored inventory, by (Source Id Num, Software Identifier, Software Locator).
    pub fn mirror(&self) -> &Mirror {
        &self.mirror
    }

    /// The mirrored EID Epoch (None before the first inventory).
    pub fn epoch(&self) -> Option<u32> {
        self.epoch
    }

    /// The Last EID the mirror reflects.
    pub fn last_eid(&self) -> u32 {
        self.last_eid
    }

    /// Whether the mirror reflects a full inventory of the current epoch plus every event
    /// since.
    pub fn is_synced(&self) -> bool {
        self.synced
    }

    /// The establishing requests of the subscriptions this validator holds, in Subscription
    /// ID order (a Subscription ID is its establishing request's Request ID).
    pub fn subscriptions(&self) -> &[SwimaRequest] {
        &self.subscriptions
    }

    fn subscription_at(&self, id: u32) -> Result<usize, usize> {
        self.subscriptions
            .binary_search_by_key(&id, |r| r.request_id)
    }

    fn remove_subscription(&mut self, id: u32) -> Option<SwimaRequest> {
        let i = self.subscription_at(id).ok()?;
        Some(self.subscriptions.remove(i))
    }

    fn flags(&self) -> u8 {
        if self.config.full_records {
            0
        } else {
            SwimaRequest::FLAG_IDENTIFIERS_ONLY
        }
    }

    fn next_id(&mut self) -> u32 {
        // RFC 8412 §5.5: never reuse an active Subscription ID as a Request ID.
        loop {
            let id = self.next_request_id;
            self.next_request_id = self.next_request_id.wrapping_add(1);
            if self.subscription_at(id).is_err() {
                return id;
            }
        }
    }

    fn send_request(&mut self, req: SwimaRequest) -> u32 {
        let id = req.request_id;
        if req.subscribe() {
            match self.subscription_at(id) {
                Ok(i) => {
                    if let Some(s) = self.subscriptions.get_mut(i) {
                        *s = req.clone();
                    }
                }
                Err(i) => self.subscriptions.insert(i, req.clone()),
            }
        }
        self.out.push_back(req.to_attribute());
        if self.pending.len() >= self.config.max_pending {
            self.pending.pop_front();
        }
        self.pending.push_back(req);
        id
    }

    /// The initial exchange: a full inventory request, or, for a validator resumed with
    /// [`Validator::restore`], a request for the events after the restored Last EID. Returns
    /// its Request ID.
    pub fn send_initial(&mut self) -> u32 {
        if self.synced {
            return self.send_events_request(self.last_eid.saturating_add(1));
        }
        self.send_inventory_request()
    }

    /// Requests the full inventory (records or identifiers per the config). Also what the
    /// embedder calls after a [`ValidatorEvent::MirrorOverflow`].
    pub fn send_inventory_request(&mut self) -> u32 {
        self.overflowed = false;
        let id = self.next_id();
        self.resync_outstanding = Some(id);
        self.send_request(SwimaRequest::inventory(id).with_flag(self.flags()))
    }

    /// Requests every event with EID ≥ `from` (non-targeted; `from` ≥ 1).
    pub fn send_events_request(&mut self, from: u32) -> u32 {
        let id = self.next_id();
        self.send_request(SwimaRequest::events(id, from.max(1)).with_flag(self.flags()))
    }

    /// "Has everything been sent?": asks for events after the mirrored Last EID; a complete
    /// empty answer confirms the mirror ([`ValidatorEvent::Synced`]).
    pub fn send_sync_check(&mut self) -> u32 {
        if !self.synced && self.resync_outstanding.is_none() {
            return self.send_inventory_request();
        }
        self.send_events_request(self.last_eid.saturating_add(1))
    }

    /// A targeted request (RFC 8412 §3.5): the inventory (`from_eid` 0) or events (≥
    /// `from_eid`) of `targets` only; the answer arrives as [`ValidatorEvent::Targeted`].
    pub fn send_targeted(
        &mut self,
        targets: Vec<Text>,
        from_eid: u32,
    ) -> Result<u32, crate::Error> {
        let id = self.next_id();
        let req = SwimaRequest::new(self.flags(), id, from_eid, targets)?;
        Ok(self.send_request(req))
    }

    /// Subscribes to events after the mirrored Last EID (or, before the first inventory, to
    /// the inventory: every change then pushes a full inventory).
    pub fn send_subscribe(&mut self) -> u32 {
        self.send_from_mirror(SwimaRequest::FLAG_SUBSCRIBE)
    }

    /// Clears this validator's subscriptions at the SWIMA-PC (`C` on a sync check).
    pub fn send_clear_subscriptions(&mut self) -> u32 {
        self.send_from_mirror(SwimaRequest::FLAG_CLEAR)
    }

    /// A request with `flag` for what the mirror lacks: the events after its Last EID, or the
    /// inventory while it is not synchronised.
    fn send_from_mirror(&mut self, flag: u8) -> u32 {
        let id = self.next_id();
        let req = if self.synced {
            SwimaRequest::events(id, self.last_eid.saturating_add(1))
        } else {
            self.resync_outstanding = Some(id);
            SwimaRequest::inventory(id)
        };
        self.send_request(req.with_flag(self.flags()).with_flag(flag))
    }

    /// Sends a Subscription Status Request (RFC 8412 §5.11).
    pub fn send_subscription_status_request(&mut self) {
        self.out.push_back(SubscriptionStatusRequest.to_attribute());
    }

    /// Sends a Source Metadata Request (RFC 8412 §5.13).
    pub fn send_source_metadata_request(&mut self) {
        self.out.push_back(SourceMetadataRequest.to_attribute());
    }

    /// The connection to the SWIMA-PC ended: its subscriptions ended with it (RFC 8412
    /// §3.8.3) and pending requests will never be answered. The mirror is kept; the next
    /// answer's epoch tells whether it is still valid.
    pub fn disconnect(&mut self) {
        self.subscriptions = Vec::new();
        self.pending = VecDeque::new();
        self.resync_outstanding = None;
        self.out = VecDeque::new();
    }

    /// The next attribute to send to the SWIMA-PC.
    pub fn poll_transmit(&mut self) -> Option<Attribute> {
        let a = self.out.pop_front();
        release_if_empty(&mut self.out);
        a
    }

    /// The next event for the embedder.
    pub fn poll_event(&mut self) -> Option<ValidatorEvent> {
        let ev = self.events.pop_front();
        release_if_empty(&mut self.events);
        ev
    }

    /// Handles one PA-TNC message from the SWIMA-PC.
    pub fn handle_message(&mut self, message: &PaTncMessage) {
        for a in &message.attributes {
            self.handle_attribute(a);
        }
    }

    /// Handles one attribute from the SWIMA-PC; non-SWIMA attributes are ignored.
    pub fn handle_attribute(&mut self, a: &Attribute) {
        if PaTncError::matches(a) {
            match PaTncError::from_attribute(a) {
                Ok(e) => self.handle_error(e, a.value_offset),
                Err(e) => self.events.push_back(ValidatorEvent::Malformed(e)),
            }
            return;
        }
        let Some(v) = SwimaAttribute::decode(a) else {
            return;
        };
        match v {
            Err(e) => self.events.push_back(ValidatorEvent::Malformed(e)),
            // RFC 8412 §5.2: a SWIMA-PV MUST ignore requests.
            Ok(
                SwimaAttribute::Request(_)
                | SwimaAttribute::SubscriptionStatusRequest(_)
                | SwimaAttribute::SourceMetadataRequest(_),
            ) => {}
            Ok(SwimaAttribute::SubscriptionStatusResponse(r)) => {
                self.events.push_back(ValidatorEvent::SubscriptionStatus(r));
            }
            Ok(SwimaAttribute::SourceMetadataResponse(r)) => {
                self.events.push_back(ValidatorEvent::SourceMetadata(r));
            }
            Ok(SwimaAttribute::SoftwareIdentifierInventory(i)) => {
                let t = self.handle_inventory(i);
                self.targeted(t.map(SwimaAttribute::SoftwareIdentifierInventory));
            }
            Ok(SwimaAttribute::SoftwareInventory(i)) => {
                let t = self.handle_inventory(i);
                self.targeted(t.map(SwimaAttribute::SoftwareInventory));
            }
            Ok(SwimaAttribute::SoftwareIdentifierEvents(e)) => {
                let t = self.handle_events(e);
                self.targeted(t.map(SwimaAttribute::SoftwareIdentifierEvents));
            }
            Ok(SwimaAttribute::SoftwareEvents(e)) => {
                let t = self.handle_events(e);
                self.targeted(t.map(SwimaAttribute::SoftwareEvents));
            }
        }
    }

    fn targeted(&mut self, t: Option<SwimaAttribute>) {
        if let Some(t) = t {
            self.events.push_back(ValidatorEvent::Targeted(t));
        }
    }

    fn handle_error(&mut self, e: PaTncError, base: usize) {
        let info = match SwimaErrorInfo::from_pa_tnc_error(&e, base) {
            None => {
                self.events.push_back(ValidatorEvent::OtherError(e));
                return;
            }
            Some(Err(d)) => {
                self.events.push_back(ValidatorEvent::Malformed(d));
                return;
            }
            Some(Ok(i)) => i,
        };
        let id = info.request_id();
        let was_pending = self.take_pending(id);
        if self.resync_outstanding == Some(id) {
            self.resync_outstanding = None;
        }
        match &info {
            SwimaErrorInfo::SubscriptionFulfillment { .. } => {
                // RFC 8412 §5.15.3: the subscription is cancelled on both sides.
                if self.remove_subscription(id).is_some() {
                    self.events
                        .push_back(ValidatorEvent::SubscriptionCancelled(id));
                }
            }
            SwimaErrorInfo::SubscriptionIdReuse { .. } => {}
            _ => {
                // The request failed as a whole (RFC 8412 §3.9): no subscription was made.
                if was_pending.is_some_and(|r| r.subscribe())
                    && self.remove_subscription(id).is_some()
                {
                    self.events
                        .push_back(ValidatorEvent::SubscriptionCancelled(id));
                }
            }
        }
        self.events.push_back(ValidatorEvent::PeerError(info));
    }

    fn take_pending(&mut self, id: u32) -> Option<SwimaRequest> {
        let i = self.pending.iter().position(|r| r.request_id == id)?;
        let req = self.pending.remove(i);
        release_if_empty(&mut self.pending);
        req
    }

    /// The request an answer refers to: a pending one, or the subscription for S_F pushes.
    /// RFC 8412 §3.3: an answer to an unknown request is dropped without error.
    fn request_for(&mut self, fulfillment: bool, id: u32) -> Option<SwimaRequest> {
        if fulfillment {
            let i = self.subscription_at(id).ok()?;
            return self.subscriptions.get(i).cloned();
        }
        let req = self.take_pending(id)?;
        if req.clear_subscriptions() {
            // RFC 8412 §3.8.3: C cleared all of them (then S added this one).
            self.subscriptions
                .retain(|r| r.request_id == id && req.subscribe());
        }
        Some(req)
    }

    fn resync(&mut self, reason: ResyncReason) {
        self.synced = false;
        self.events.push_back(ValidatorEvent::Resync(reason));
        self.auto_inventory_request();
    }

    /// Asks for a full inventory unless one is outstanding or the mirror bound was hit.
    fn auto_inventory_request(&mut self) {
        if self.resync_outstanding.is_none() && !self.overflowed {
            self.send_inventory_request();
        }
    }

    fn overflow(&mut self, needed: usize) {
        self.synced = false;
        self.overflowed = true;
        self.events.push_back(ValidatorEvent::MirrorOverflow {
            limit: self.config.max_mirror,
            needed,
        });
    }

    /// Applies an inventory; gives it back if it answers a targeted request.
    fn handle_inventory<R: Item>(&mut self, inv: Inventory<R>) -> Option<Inventory<R>> {
        let fulfillment = inv.subscription_fulfillment();
        let req = self.request_for(fulfillment, inv.request_id)?;
        if self.resync_outstanding == Some(inv.request_id) {
            self.resync_outstanding = None;
        }
        if req.is_targeted() {
            return Some(inv);
        }
        // A full inventory replaces the mirror (RFC 8412 §3.7.6).
        let (epoch, last_eid) = (inv.eid_epoch, inv.last_eid);
        let new = Mirror::from_records(inv.records().iter().map(|r| (r.id(), r.record())));
        if new.len() > self.config.max_mirror {
            self.overflow(new.len());
            return None;
        }
        let old = core::mem::take(&mut self.mirror);
        let mut changes = Vec::new();
        for o in &old {
            match new.lookup(o.source_id, o.software_identifier, o.locator) {
                None => changes.push(MirrorChange::Removed(o.to_record())),
                Some(n) if n != o => changes.push(MirrorChange::Altered {
                    old: o.to_record(),
                    new: n.to_record(),
                }),
                Some(_) => {}
            }
        }
        for n in &new {
            if old
                .lookup(n.source_id, n.software_identifier, n.locator)
                .is_none()
            {
                changes.push(MirrorChange::Added(n.to_record()));
            }
        }
        for change in changes {
            self.events.push_back(ValidatorEvent::Changed {
                change,
                epoch,
                eid: last_eid,
                timestamp: None,
            });
        }
        self.mirror = new;
        self.epoch = Some(epoch);
        self.last_eid = last_eid;
        self.synced = true;
        self.events
            .push_back(ValidatorEvent::Synced { epoch, last_eid });
        None
    }

    /// Applies events; gives them back if they answer a targeted request.
    fn handle_events<R: Item>(&mut self, ev: Events<R>) -> Option<Events<R>> {
        let fulfillment = ev.subscription_fulfillment();
        let req = self.request_for(fulfillment, ev.request_id)?;
        if req.is_targeted() {
            return Some(ev);
        }
        self.apply_events(&req, fulfillment, &ev);
        None
    }

    fn apply_events<R: Item>(&mut self, req: &SwimaRequest, fulfillment: bool, ev: &Events<R>) {
        if ev.last_consulted_eid > ev.last_eid {
            // RFC 8412 §3.7.5: the Last Consulted EID MUST NOT exceed the Last EID.
            return self.resync(ResyncReason::Inconsistent);
        }
        if !self.synced {
            // A full inventory is needed first; events alone cannot rebuild the mirror.
            self.auto_inventory_request();
            return;
        }
        if let Some(old) = self.epoch.filter(|e| *e != ev.eid_epoch) {
            // RFC 8412 §3.7.6: another epoch → only a full inventory resynchronises.
            return self.resync(ResyncReason::EpochChanged {
                old,
                new: ev.eid_epoch,
            });
        }
        if ev.last_eid < self.last_eid {
            // RFC 8412 §3.7.6: MUST be treated as an epoch change.
            return self.resync(ResyncReason::LastEidWentBackwards {
                mirrored: self.last_eid,
                reported: ev.last_eid,
            });
        }
        let start = if fulfillment {
            ev.events()
                .iter()
                .map(|e| e.eid)
                .min()
                .unwrap_or(ev.last_consulted_eid.saturating_add(1))
        } else {
            req.earliest_eid
        };
        if start > self.last_eid.saturating_add(1) {
            // RFC 8412 §3.7.6: a gap → ask for the missing events.
            self.send_events_request(self.last_eid.saturating_add(1));
            return;
        }
        let mut list: Vec<&Event<R>> = ev
            .events()
            .iter()
            .filter(|e| e.eid > self.last_eid && e.eid <= ev.last_consulted_eid)
            .collect();
        list.sort_by_key(|e| e.eid);
        let mut expect = self.last_eid.saturating_add(1);
        for e in list {
            if e.eid != expect {
                // A non-targeted list is complete within its range (RFC 8412 §3.7.5).
                return self.resync(ResyncReason::Inconsistent);
            }
            if self.mirror.len() >= self.config.max_mirror
                && e.action != Action::DELETION
                && self.mirror.lookup_id(e.item.id()).is_none()
            {
                // The mirror stays complete up to the previous event.
                self.last_eid = e.eid.saturating_sub(1);
                return self.overflow(self.mirror.len().saturating_add(1));
            }
            self.apply(ev.eid_epoch, e);
            expect = expect.saturating_add(1);
        }
        self.last_eid = self.last_eid.max(ev.last_consulted_eid);
        if ev.is_partial() {
            // A partial answer to an establishing request is completed by pushes (RFC 8412
            // §3.8.5.2); otherwise ask again from Last Consulted EID + 1 (§3.7.5).
            if !fulfillment && !req.subscribe() {
                self.send_events_request(ev.last_consulted_eid.saturating_add(1));
            }
        } else {
            self.events.push_back(ValidatorEvent::Synced {
                epoch: ev.eid_epoch,
                last_eid: self.last_eid,
            });
        }
    }

    fn apply<R: Item>(&mut self, epoch: u32, e: &Event<R>) {
        let (id, record) = (e.item.id(), e.item.record());
        let rec = || MirrorRecord {
            id: id.clone(),
            record: record.cloned(),
        };
        let change = match e.action {
            Action::CREATION | Action::ALTERATION => match self.mirror.upsert(id, record) {
                Upsert::Same => None,
                Upsert::Altered(old) => Some(MirrorChange::Altered { old, new: rec() }),
                Upsert::Added => Some(MirrorChange::Added(rec())),
            },
            Action::DELETION => self.mirror.remove(id).map(MirrorChange::Removed),
            // RFC 8412 §5.8: a SWIMA-PV MUST ignore an event with an unknown Action.
            _ => None,
        };
        if let Some(change) = change {
            self.events.push_back(ValidatorEvent::Changed {
                change,
                epoch,
                eid: e.eid,
                timestamp: Some(e.timestamp.clone()),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Collector, CollectorConfig, DataModelType, MemoryStore, Peer, SourceItem};

    #[test]
    fn an_idle_synced_validator_holds_no_queue_memory() {
        let now = DateTime20::new("2026-12-05T08:00:00Z").unwrap();
        let mut pc = Collector::open(CollectorConfig::default(), MemoryStore::new(), 7).unwrap();
        pc.add_source(1, "dpkg".into());
        let items = (0..100)
            .map(|i| SourceItem {
                data_model: DataModelType::SWID_2015,
                software_identifier: format!("example.org__pkg-{i}").into(),
                locator: "".into(),
                record: Bytes::from(format!("tag {i}")),
            })
            .collect();
        pc.apply_snapshot(1, items, &now).unwrap();
        let mut pv = Validator::new(ValidatorConfig::default().with_full_records(false));
        pv.send_initial();
        for _ in 0..3 {
            if pv.is_synced() && pv.subscriptions().is_empty() {
                pv.send_subscribe();
            }
            let mut m = PaTncMessage::new(1);
            while let Some(a) = pv.poll_transmit() {
                m.attributes.push(a);
            }
            pc.handle_message(
                Peer {
                    connection: 1,
                    validator: 1,
                },
                &m,
                0,
            );
            while let Some(t) = pc.poll_transmit() {
                pv.handle_attribute(&t.attribute);
            }
            while pv.poll_event().is_some() {}
        }
        assert!(pv.is_synced());
        assert_eq!(pv.mirror().len(), 100);
        assert_eq!(pv.subscriptions().len(), 1);
        // Answered and drained: nothing queued, and no memory kept for it.
        assert_eq!(pv.pending.capacity(), 0);
        assert_eq!(pv.out.capacity(), 0);
        assert_eq!(pv.events.capacity(), 0);
    }
}
