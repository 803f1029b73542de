//! The SWIMA verifier plugin.

use std::collections::{BTreeSet, HashMap};

use if_imv::{
    ConnectionId, ConnectionState, ImcId, Imv, ImvConnection, ImvInit, ImvMessage, MessageType,
    TncError,
};
use nea_wire::{Text, VendorId};
use pa_tnc::segmentation::{SegmentationEndpoint, SegmentationEvent};
use pa_tnc::{Attribute, AttributeType, DateTime20, Limits, PaAttribute};
use swima::{
    MirrorChange, MirrorRecord, SwimaAttribute, SwimaRequest, Validator, ValidatorConfig,
    ValidatorEvent, ValidatorState,
};

use super::policy::{DenyList, SwimaPolicy};
use crate::common::{Received, endpoint_id, receive, send_attributes};

/// Request IDs of the targeted tag requests the verifier makes itself (identifier-only mode),
/// far from the validator's own counter.
const TARGETED_BASE: u32 = 0xC000_0000;

/// One change of an endpoint's inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoftwareChange {
    /// What changed.
    pub change: MirrorChange,
    /// The EID of the event (for a change found by comparing inventories, the inventory's
    /// Last EID).
    pub eid: u32,
    /// When it happened, as the endpoint said (`None` for a change found by comparison).
    pub timestamp: Option<DateTime20>,
}

/// Where a [`SwimaImv`] delivers what it learns: the posture manager's repository.
///
/// `endpoint` is the endpoint's identifier: the first AR identity of the connection (the
/// TLS client certificate's, typically), or `connection N` when the transport authenticated
/// nobody.
pub trait SwimaSink: Send {
    /// What the manager stored for `endpoint` last time, so the verifier asks only for the
    /// events since (RFC 8412 §3.7.3) instead of the full inventory.
    fn load_state(&mut self, endpoint: &str) -> Option<ValidatorState> {
        let _ = endpoint;
        None
    }

    /// A full inventory arrived: `records` is the endpoint's software now, complete up to
    /// `last_eid` of `epoch`.
    fn inventory(&mut self, endpoint: &str, records: &[MirrorRecord], epoch: u32, last_eid: u32);

    /// Events arrived: the mirror now reflects `last_eid` of `epoch` (`changes` may be empty
    /// when an answer only confirmed it).
    fn events(&mut self, endpoint: &str, changes: &[SoftwareChange], epoch: u32, last_eid: u32);

    /// In identifier-only mode (`ValidatorConfig::full_records == false`): of these newly
    /// seen software identifiers, the ones whose full tags the repository does not hold yet;
    /// the verifier asks the endpoint for those tags (RFC 8412 targeted request).
    fn unknown_tags(&mut self, endpoint: &str, ids: &[Text]) -> Vec<Text> {
        let _ = (endpoint, ids);
        Vec::new()
    }

    /// Full records answering a targeted request made for [`SwimaSink::unknown_tags`].
    fn tags(&mut self, endpoint: &str, records: &[MirrorRecord]) {
        let _ = (endpoint, records);
    }
}

/// Settings of a [`SwimaImv`].
#[derive(Debug, Clone)]
pub struct SwimaImvConfig {
    /// The validator engine's settings (full records or identifiers only, mirror bound).
    pub validator: ValidatorConfig,
    /// Limits for received PA-TNC messages and reassembly of segmented attributes.
    pub limits: Limits,
    /// The largest attribute the verifier accepts (segmentation contract).
    pub max_attribute_size: u32,
    /// The largest segment the verifier asks for (lowered to what fits one PB-PA message).
    pub max_segment_size: u32,
}

impl Default for SwimaImvConfig {
    fn default() -> Self {
        Self {
            validator: ValidatorConfig::default(),
            limits: Limits::default(),
            max_attribute_size: 64 * 1024 * 1024,
            max_segment_size: u32::MAX,
        }
    }
}

struct Conn {
    endpoint: String,
    validator: Validator,
    segmentation: SegmentationEndpoint,
    /// The SWIMA collector answering (known once it sent something).
    imc: Option<ImcId>,
    started: bool,
    subscribed: bool,
    /// Whether this session asked the sink about the tags of the whole mirror yet.
    tags_checked: bool,
    targeted: BTreeSet<u32>,
    /// Attributes to send with the next message.
    out: Vec<Attribute>,
}

/// The SWIMA verifier (SWIMA-PV) as an [`Imv`] over [`swima::Validator`]: asks a new
/// endpoint for its full inventory, then subscribes to its events; an endpoint the
/// [`SwimaSink`] knows is asked only for the events since its stored state; an epoch change
/// makes it fetch the full inventory again. What it learns goes to the sink; the
/// [`SwimaPolicy`] decides (by default [`DenyList`] with no rules: allow once the inventory
/// arrived).
///
/// ```
/// use imcv::swima::{SoftwareChange, SwimaImv, SwimaImvConfig, SwimaSink};
/// use swima::MirrorRecord;
///
/// struct Log;
/// impl SwimaSink for Log {
///     fn inventory(&mut self, who: &str, records: &[MirrorRecord], epoch: u32, last: u32) {
///         println!("{who}: {} records (epoch {epoch}, EID {last})", records.len());
///     }
///     fn events(&mut self, who: &str, changes: &[SoftwareChange], _: u32, _: u32) {
///         println!("{who}: {} changes", changes.len());
///     }
/// }
/// let mut broker = if_imv::Broker::new(if_imv::BrokerConfig::default());
/// broker.add_imv("swima", Box::new(SwimaImv::new(Log, SwimaImvConfig::default()))).unwrap();
/// ```
pub struct SwimaImv<K: SwimaSink> {
    sink: K,
    policy: Box<dyn SwimaPolicy>,
    config: SwimaImvConfig,
    /// Boxed: the table keeps spare slots, each the size of its value (a validator).
    conns: HashMap<ConnectionId, Box<Conn>>,
    next_targeted: u32,
}

impl<K: SwimaSink> core::fmt::Debug for SwimaImv<K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SwimaImv")
            .field("config", &self.config)
            .field("connections", &self.conns.len())
            .finish_non_exhaustive()
    }
}

impl<K: SwimaSink> SwimaImv<K> {
    /// A verifier reporting to `sink`, with the default policy.
    pub fn new(sink: K, config: SwimaImvConfig) -> Self {
        Self {
            sink,
            policy: Box::new(DenyList::default()),
            config,
            conns: HashMap::new(),
            next_targeted: TARGETED_BASE,
        }
    }

    /// The same with another policy.
    #[must_use]
    pub fn with_policy(mut self, policy: impl SwimaPolicy + 'static) -> Self {
        self.policy = Box::new(policy);
        self
    }

    /// The sink.
    pub fn sink(&self) -> &K {
        &self.sink
    }

    fn open(&mut self, conn: &ImvConnection<'_>) -> Conn {
        let endpoint = endpoint_id(conn);
        let validator = match self.sink.load_state(&endpoint) {
            Some(state) => Validator::restore(self.config.validator.clone(), state),
            None => Validator::new(self.config.validator.clone()),
        };
        let fits = conn
            .max_message_size()
            .saturating_sub(pa_tnc::MESSAGE_HEADER_LEN + nea_wire::TLV_HEADER_LEN + 4);
        let segment = self
            .config
            .max_segment_size
            .min(u32::try_from(fits).unwrap_or(u32::MAX));
        Conn {
            endpoint,
            validator,
            segmentation: SegmentationEndpoint::new(
                &self.config.limits,
                self.config.max_attribute_size,
                segment,
            ),
            imc: None,
            started: false,
            subscribed: false,
            tags_checked: false,
            targeted: BTreeSet::new(),
            out: Vec::new(),
        }
    }

    /// Handles one (whole) attribute from the collector.
    fn on_attribute(&mut self, c: &mut Conn, a: &Attribute) {
        if let Some(records) = targeted_answer(c, a) {
            self.sink.tags(&c.endpoint, &records);
            return;
        }
        let inventory = a.vendor == VendorId::IETF
            && (a.kind == AttributeType::SOFTWARE_INVENTORY.0
                || a.kind == AttributeType::SOFTWARE_IDENTIFIER_INVENTORY.0);
        c.validator.handle_attribute(a);
        let mut changes = Vec::new();
        let mut synced = false;
        while let Some(ev) = c.validator.poll_event() {
            match ev {
                ValidatorEvent::Changed {
                    change,
                    eid,
                    timestamp,
                    ..
                } => changes.push(SoftwareChange {
                    change,
                    eid,
                    timestamp,
                }),
                ValidatorEvent::Synced { .. } => synced = true,
                ValidatorEvent::SubscriptionCancelled(id) => {
                    tracing::info!(endpoint = %c.endpoint, id, "SWIMA subscription cancelled");
                    c.subscribed = false;
                }
                other => tracing::debug!(endpoint = %c.endpoint, event = ?other, "SWIMA"),
            }
        }
        let epoch = c.validator.epoch().unwrap_or(0);
        let last = c.validator.last_eid();
        if inventory && synced {
            let records = c.validator.mirror().records();
            self.sink.inventory(&c.endpoint, &records, epoch, last);
        } else if synced || !changes.is_empty() {
            self.sink.events(&c.endpoint, &changes, epoch, last);
        }
        if !self.config.validator.full_records {
            // The first time a session is in sync, every mirrored identifier is checked:
            // tags a previous session did not deliver (the manager stopped, the endpoint
            // left) are asked for again, not only those of new records.
            let whole = synced && !c.tags_checked;
            c.tags_checked |= synced;
            let new: Vec<Text> = if whole {
                c.validator
                    .mirror()
                    .records()
                    .into_iter()
                    .map(|r| r.id.software_identifier)
                    .collect()
            } else {
                changes
                    .iter()
                    .filter_map(|ch| match &ch.change {
                        MirrorChange::Added(r) | MirrorChange::Altered { new: r, .. } => {
                            Some(r.id.software_identifier.clone())
                        }
                        MirrorChange::Removed(_) => None,
                    })
                    .collect()
            };
            if !new.is_empty() {
                let unknown = self.sink.unknown_tags(&c.endpoint, &new);
                self.request_tags(c, unknown);
            }
        }
        if c.validator.is_synced() && !c.subscribed {
            c.validator.send_subscribe();
            c.subscribed = true;
        }
    }

    /// A targeted request for full records (RFC 8412 §3.5), made here rather than by the
    /// validator so that it asks for records even when the validator asks for identifiers.
    fn request_tags(&mut self, c: &mut Conn, ids: Vec<Text>) {
        if ids.is_empty() {
            return;
        }
        let id = self.next_targeted;
        self.next_targeted = self.next_targeted.wrapping_add(1).max(TARGETED_BASE);
        match SwimaRequest::new(0, id, 0, ids) {
            Ok(req) => {
                c.targeted.insert(id);
                c.out.push(req.to_attribute());
            }
            Err(e) => tracing::warn!(error = %e, "targeted SWIMA request not built"),
        }
    }

    fn receive(&mut self, c: &mut Conn, m: &ImvMessage) {
        let message = match receive(m.body.clone(), &self.config.limits, super::supported) {
            Received::Process(message) => message,
            Received::Reject(error) => {
                c.out.push(error);
                return;
            }
            Received::Drop => return,
        };
        for a in &message.attributes {
            match c.segmentation.handle(a) {
                None => self.on_attribute(c, a),
                Some(SegmentationEvent::Delivered(x)) => self.on_attribute(c, &x),
                Some(SegmentationEvent::Reply(r)) => c.out.push(r),
                Some(SegmentationEvent::Failed(e)) => {
                    // RFC 8412 §3.9: a SWIMA-PV does not answer with errors; log it.
                    tracing::warn!(endpoint = %c.endpoint, error = %e, "SWIMA segment refused");
                }
                Some(_) => {}
            }
        }
    }
}

/// Sends what `c` has queued and what its validator asks, to the collector that answers.
fn flush(c: &mut Conn, conn: &mut ImvConnection<'_>) {
    let mut attrs = core::mem::take(&mut c.out);
    while let Some(a) = c.validator.poll_transmit() {
        attrs.push(a);
    }
    if attrs.is_empty() {
        return;
    }
    let to = c.imc.map(ImcId::get);
    if let Err(e) = send_attributes(conn, to, MessageType::SWIMA, attrs) {
        tracing::warn!(endpoint = %c.endpoint, error = %e, "SWIMA request not sent");
    }
}

/// The records of an answer to one of our own targeted requests, if `a` is one.
fn targeted_answer(c: &mut Conn, a: &Attribute) -> Option<Vec<MirrorRecord>> {
    if c.targeted.is_empty() {
        return None;
    }
    let records = match SwimaAttribute::decode(a)? {
        Ok(SwimaAttribute::SoftwareInventory(i)) if c.targeted.remove(&i.request_id) => i
            .into_records()
            .into_iter()
            .map(|r| MirrorRecord {
                id: r.id,
                record: Some(r.record),
            })
            .collect(),
        Ok(SwimaAttribute::SoftwareIdentifierInventory(i)) if c.targeted.remove(&i.request_id) => i
            .into_records()
            .into_iter()
            .map(|id| MirrorRecord { id, record: None })
            .collect(),
        _ => return None,
    };
    Some(records)
}

impl<K: SwimaSink + 'static> Imv for SwimaImv<K> {
    fn initialize(&mut self, init: &mut ImvInit<'_>) -> Result<(), TncError> {
        init.report_message_types(&[MessageType::SWIMA]);
        Ok(())
    }

    fn notify_connection_change(
        &mut self,
        conn: &mut ImvConnection<'_>,
        state: ConnectionState,
    ) -> Result<(), TncError> {
        match state {
            ConnectionState::Create => {
                let c = Box::new(self.open(conn));
                self.conns.insert(conn.id(), c);
            }
            ConnectionState::Delete => {
                self.conns.remove(&conn.id());
            }
            _ => {}
        }
        Ok(())
    }

    fn begin_handshake(&mut self, conn: &mut ImvConnection<'_>) -> Result<(), TncError> {
        // A re-assessment the server started: ask whether anything happened since.
        if let Some(c) = self.conns.get_mut(&conn.id())
            && c.started
        {
            c.validator.send_sync_check();
            flush(c, conn);
        }
        Ok(())
    }

    fn receive_message(
        &mut self,
        conn: &mut ImvConnection<'_>,
        message: &ImvMessage,
    ) -> Result<(), TncError> {
        let Some(mut c) = self.conns.remove(&conn.id()) else {
            return Ok(());
        };
        if !message.source.is_any() {
            c.imc = Some(message.source);
        }
        self.receive(&mut c, message);
        flush(&mut c, conn);
        self.conns.insert(conn.id(), c);
        Ok(())
    }

    fn batch_ending(&mut self, conn: &mut ImvConnection<'_>) -> Result<(), TncError> {
        let Some(c) = self.conns.get_mut(&conn.id()) else {
            return Ok(());
        };
        if !c.started {
            // The first request of the connection, with our segmentation contract: a full
            // inventory, or for a known endpoint the events since its stored state
            // (subscribing at once, RFC 8412 §3.8.5.2).
            c.started = true;
            c.out.push(c.segmentation.contract_request());
            if c.validator.is_synced() {
                c.validator.send_subscribe();
                c.subscribed = true;
            } else {
                c.validator.send_initial();
            }
        }
        flush(c, conn);
        Ok(())
    }

    fn solicit_recommendation(&mut self, conn: &mut ImvConnection<'_>) -> Result<(), TncError> {
        let verdict = match self.conns.get(&conn.id()) {
            Some(c) => {
                self.policy
                    .evaluate(&c.endpoint, c.validator.mirror(), c.validator.is_synced())
            }
            None => return Ok(()),
        };
        verdict.provide(conn);
        Ok(())
    }
}
