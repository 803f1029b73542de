//! The SWIMA collector plugin.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use if_imc::{
    ConnectionId, ConnectionState, Imc, ImcConnection, ImcInit, ImcMessage, MessageType,
    RetryReason, TncError,
};
use pa_tnc::segmentation::{ContractRequest, SegmentationEndpoint, SegmentationEvent};
use pa_tnc::{
    Attribute, DateTime20, Limits, MESSAGE_HEADER_LEN, PaAttribute, PaTncError, PaTncMessage,
};
use swima::{Change, Collector, InventorySource, LogStore, Peer, Transmit};

use crate::common::{Received, receive, send_attributes};

/// The Source Id Num under which the [`SwimaImc`]'s inventory source is registered.
pub const SOURCE_ID: u8 = 0;

/// Size of an envelope's overhead in a PA-TNC message: message header, attribute header and
/// the envelope's own 4 bytes.
const ENVELOPE_FRAME: usize = MESSAGE_HEADER_LEN + nea_wire::TLV_HEADER_LEN + 4;

/// Settings of a [`SwimaImc`].
#[derive(Debug, Clone)]
pub struct SwimaImcConfig {
    /// Limits for received PA-TNC messages and segment reassembly.
    pub limits: Limits,
    /// The largest attribute the collector agrees to send in segments (the contract's
    /// maximum message size is lowered to this).
    pub max_attribute_size: u32,
}

impl Default for SwimaImcConfig {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            max_attribute_size: 64 * 1024 * 1024,
        }
    }
}

struct Shared<S: LogStore> {
    collector: Collector<S>,
    source: Option<Box<dyn InventorySource + Send>>,
    /// Answers and subscription pushes not sent yet, by connection.
    outbox: BTreeMap<u32, Vec<Transmit>>,
}

impl<S: LogStore> Shared<S> {
    fn drain(&mut self) {
        while let Some(t) = self.collector.poll_transmit() {
            self.outbox.entry(t.peer.connection).or_default().push(t);
        }
    }
}

fn lock<S: LogStore>(m: &Mutex<Shared<S>>) -> MutexGuard<'_, Shared<S>> {
    // A panic elsewhere cannot leave the collector half-updated in a way that matters more
    // than losing the agent: keep going with what is there.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The SWIMA collector (SWIMA-PC) as an [`Imc`]: answers inventory, event, targeted and
/// subscription requests from a [`swima::Collector`] over any [`LogStore`].
///
/// Answers and subscription pushes leave exclusively to the validator that asked, in PA-TNC
/// messages of type IETF/SWIMA; an answer larger than one PB-PA message is cut into IF-M
/// segments once the validator proposed a segmentation contract. Malformed requests get a
/// PA-TNC Error. Pushes that happen between handshakes wait until the next handshake: the
/// [`SwimaImcHandle`] tells the driver which connections have some (so it can call
/// `if_imc::Broker::request_retry`), and the collector asks for the retry itself when the
/// connection's next assessment is decided.
///
/// ```
/// use imcv::swima::{SwimaImc, SwimaImcConfig};
/// use swima::{Collector, CollectorConfig, MemoryStore};
///
/// let collector = Collector::open(CollectorConfig::default(), MemoryStore::new(), 0x1234).unwrap();
/// let imc = SwimaImc::new(collector, None, SwimaImcConfig::default());
/// let handle = imc.handle(); // keep it to feed changes later
/// let mut broker = if_imc::Broker::new(if_imc::BrokerConfig::default());
/// broker.add_imc("swima", Box::new(imc)).unwrap();
/// assert_eq!(handle.last_eid(), 0);
/// ```
pub struct SwimaImc<S: LogStore> {
    shared: Arc<Mutex<Shared<S>>>,
    config: SwimaImcConfig,
    segmentation: HashMap<Peer, SegmentationEndpoint>,
}

impl<S: LogStore> core::fmt::Debug for SwimaImc<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SwimaImc")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A cloneable handle on a [`SwimaImc`]'s collector, for the agent: feed it changes and ask
/// whether subscription pushes wait for a connection.
pub struct SwimaImcHandle<S: LogStore> {
    shared: Arc<Mutex<Shared<S>>>,
}

impl<S: LogStore> Clone for SwimaImcHandle<S> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<S: LogStore> core::fmt::Debug for SwimaImcHandle<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SwimaImcHandle").finish_non_exhaustive()
    }
}

impl<S: LogStore> SwimaImcHandle<S> {
    /// Rescans the inventory source (e.g. after the tag directory changed) and records the
    /// net change as events at time `now`; returns how many. Without a source, nothing.
    pub fn refresh(&self, now: &DateTime20) -> Result<usize, swima::Error> {
        let mut s = lock(&self.shared);
        let s = &mut *s;
        let n = match s.source.as_mut() {
            Some(src) => s.collector.refresh(SOURCE_ID, src.as_mut(), now)?,
            None => 0,
        };
        s.drain();
        Ok(n)
    }

    /// Records real-time changes of source `source` (see [`swima::Collector::apply_changes`]).
    pub fn apply_changes(
        &self,
        source: u8,
        changes: Vec<Change>,
        now: &DateTime20,
    ) -> Result<usize, swima::Error> {
        let mut s = lock(&self.shared);
        let r = s.collector.apply_changes(source, changes, now);
        s.drain();
        r
    }

    /// Starts a new EID epoch (see [`swima::Collector::rotate_epoch`]).
    pub fn rotate_epoch(&self, new_epoch: u32) -> Result<(), swima::Error> {
        let mut s = lock(&self.shared);
        let r = s.collector.rotate_epoch(new_epoch);
        s.drain();
        r
    }

    /// Whether answers or subscription pushes wait to be sent on `connection` (then ask the
    /// broker for a handshake retry on it).
    pub fn has_pending(&self, connection: ConnectionId) -> bool {
        lock(&self.shared)
            .outbox
            .get(&connection.0)
            .is_some_and(|v| !v.is_empty())
    }

    /// The connections with answers or pushes waiting.
    pub fn pending_connections(&self) -> Vec<ConnectionId> {
        lock(&self.shared)
            .outbox
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(c, _)| ConnectionId(*c))
            .collect()
    }

    /// The collector's current EID epoch.
    pub fn epoch(&self) -> u32 {
        lock(&self.shared).collector.epoch()
    }

    /// EID of the collector's last event.
    pub fn last_eid(&self) -> u32 {
        lock(&self.shared).collector.last_eid()
    }

    /// Runs `f` on the collector (e.g. to add a source or compact the log); pushes it
    /// produces are queued like the others.
    pub fn with_collector<R>(&self, f: impl FnOnce(&mut Collector<S>) -> R) -> R {
        let mut s = lock(&self.shared);
        let r = f(&mut s.collector);
        s.drain();
        r
    }
}

impl<S: LogStore> SwimaImc<S> {
    /// A collector plugin over `collector`; `source`, if given, is registered as
    /// [`SOURCE_ID`] and scanned by [`SwimaImcHandle::refresh`] (call it once before the
    /// first assessment, e.g. with `swima::tags::TagDirSource`, feature `fs`).
    pub fn new(
        mut collector: Collector<S>,
        source: Option<Box<dyn InventorySource + Send>>,
        config: SwimaImcConfig,
    ) -> Self {
        if let Some(src) = &source {
            collector.add_source(SOURCE_ID, src.metadata());
        }
        Self {
            shared: Arc::new(Mutex::new(Shared {
                collector,
                source,
                outbox: BTreeMap::new(),
            })),
            config,
            segmentation: HashMap::new(),
        }
    }

    /// The handle the agent keeps.
    pub fn handle(&self) -> SwimaImcHandle<S> {
        SwimaImcHandle {
            shared: self.shared.clone(),
        }
    }

    fn endpoint(&mut self, peer: Peer, max_body: usize) -> &mut SegmentationEndpoint {
        let own_segment =
            u32::try_from(max_body.saturating_sub(ENVELOPE_FRAME)).unwrap_or(u32::MAX);
        let max_attr = self.config.max_attribute_size;
        let limits = &self.config.limits;
        self.segmentation
            .entry(peer)
            .or_insert_with(|| SegmentationEndpoint::new(limits, max_attr, own_segment))
    }

    /// Sends what waits for `conn`'s connection (segmenting where the contract says so).
    fn flush(&mut self, conn: &mut ImcConnection<'_>) -> Result<(), TncError> {
        let pending = lock(&self.shared)
            .outbox
            .remove(&conn.id().0)
            .unwrap_or_default();
        let mut by_peer: BTreeMap<Peer, Vec<Attribute>> = BTreeMap::new();
        for t in pending {
            let max_body = conn.max_message_size();
            let a = self.endpoint(t.peer, max_body).prepare(t.attribute);
            by_peer.entry(t.peer).or_default().push(a);
        }
        let mut result = Ok(());
        for (peer, attrs) in by_peer {
            let to = u16::try_from(peer.validator).ok();
            if let Err(e) = send_attributes(conn, to, MessageType::SWIMA, attrs) {
                tracing::warn!(error = %e, "SWIMA answer not sent");
                result = Err(e);
            }
        }
        result
    }

    fn receive(&mut self, conn: &mut ImcConnection<'_>, m: &ImcMessage) -> Vec<Attribute> {
        let peer = Peer {
            connection: conn.id().0,
            validator: u32::from(m.source.get()),
        };
        let max_body = conn.max_message_size();
        let mut replies = Vec::new();
        let message = match receive(m.body.clone(), &self.config.limits, super::supported) {
            Received::Process(message) => message,
            Received::Reject(error) => {
                replies.push(error);
                return replies;
            }
            Received::Drop => return replies,
        };
        // Until a contract says otherwise, an answer must fit one PB-PA message.
        if !self.segmentation.contains_key(&peer) {
            lock(&self.shared)
                .collector
                .set_peer_limit(peer, max_body.saturating_sub(MESSAGE_HEADER_LEN));
        }
        for a in &message.attributes {
            let seg = self.endpoint(peer, max_body);
            let delivered = match seg.handle(a) {
                None => a.clone(),
                Some(SegmentationEvent::Delivered(x)) => x,
                // The validator proposed the contract: answer it, and hold ourselves to the
                // answer (the smaller of both sides' limits).
                Some(SegmentationEvent::Reply(r)) if ContractRequest::matches(a) => {
                    if let Some(SegmentationEvent::ContractAgreed(k)) = seg.handle(&r) {
                        let limit = k.max_message_size.min(self.config.max_attribute_size);
                        lock(&self.shared)
                            .collector
                            .set_peer_limit(peer, usize::try_from(limit).unwrap_or(usize::MAX));
                    }
                    replies.push(r);
                    continue;
                }
                Some(SegmentationEvent::Reply(r)) => {
                    replies.push(r);
                    continue;
                }
                Some(SegmentationEvent::Failed(e)) => {
                    tracing::debug!(error = %e, "segmentation attribute refused");
                    replies.push(invalid_at(&message, a));
                    continue;
                }
                Some(_) => continue,
            };
            let mut shared = lock(&self.shared);
            if let Err(e) = shared.collector.handle_attribute(peer, &delivered) {
                replies.push(pa_tnc::value_error_reply(&message, 0, e).to_attribute());
            }
            shared.drain();
        }
        replies
    }
}

/// Invalid Parameter pointing at attribute `a` of `message` (RFC 5792 §4.2.8).
pub(crate) fn invalid_at(message: &PaTncMessage, a: &Attribute) -> Attribute {
    let at = a.value_offset.saturating_sub(nea_wire::TLV_HEADER_LEN);
    PaTncError::invalid_parameter(
        message.header_bytes(),
        u32::try_from(at).unwrap_or(u32::MAX),
    )
    .to_attribute()
}

impl<S: LogStore + Send + 'static> Imc for SwimaImc<S> {
    fn initialize(&mut self, init: &mut ImcInit<'_>) -> Result<(), TncError> {
        init.report_message_types(&[MessageType::SWIMA]);
        Ok(())
    }

    fn notify_connection_change(
        &mut self,
        conn: &mut ImcConnection<'_>,
        state: ConnectionState,
    ) -> Result<(), TncError> {
        let id = conn.id().0;
        match state {
            ConnectionState::Delete => {
                let mut s = lock(&self.shared);
                // RFC 8412 §3.8.3: subscriptions end with the PB-TNC session.
                s.collector.disconnect(id);
                s.outbox.remove(&id);
                drop(s);
                self.segmentation.retain(|p, _| p.connection != id);
            }
            ConnectionState::AccessAllowed
            | ConnectionState::AccessIsolated
            | ConnectionState::AccessNone => {
                // Pushes arrived while the handshake ran: report them in a new one.
                let waiting = lock(&self.shared)
                    .outbox
                    .get(&id)
                    .is_some_and(|v| !v.is_empty());
                if waiting && let Err(e) = conn.request_retry(RetryReason::ImcInformationalEvent) {
                    tracing::debug!(error = %e, "retry for SWIMA events refused");
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn begin_handshake(&mut self, conn: &mut ImcConnection<'_>) -> Result<(), TncError> {
        let _ = self.flush(conn);
        Ok(())
    }

    fn receive_message(
        &mut self,
        conn: &mut ImcConnection<'_>,
        message: &ImcMessage,
    ) -> Result<(), TncError> {
        let replies = self.receive(conn, message);
        if !replies.is_empty() {
            // Replies (contract, next segment, errors) go before the answers they prepare.
            let to = Some(message.source.get()).filter(|_| !message.source.is_any());
            let _ = send_attributes(conn, to, MessageType::SWIMA, replies);
        }
        let _ = self.flush(conn);
        Ok(())
    }

    fn batch_ending(&mut self, conn: &mut ImcConnection<'_>) -> Result<(), TncError> {
        let _ = self.flush(conn);
        Ok(())
    }
}
