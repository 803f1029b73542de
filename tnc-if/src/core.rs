//! The parts both brokers share: a hosted plugin's routing entry, one connection's state, and
//! the handle through which a plugin acts on a connection while the broker calls it.
//!
//! `if-imc` and `if-imv` wrap these with their own typed IDs ([`crate::ImcId`] /
//! [`crate::ImvId`]); embedders use those crates, not this module.

use bytes::Bytes;
use pb_tnc::{PbPa, Side};

use crate::{
    AttributeId, BrokerAttributes, ConnectionId, ConnectionState, IdAllocator, MessageType,
    RetryReason, TncError,
};

/// What the broker knows about one hosted plugin: its IDs and the message types it takes.
#[derive(Debug, Clone)]
pub struct PluginEntry {
    /// The primary ID (PB-PA value).
    pub primary: u16,
    /// Additional IDs it reserved.
    pub extra: Vec<u16>,
    /// The message types it registered (patterns, wildcards allowed).
    pub types: Vec<MessageType>,
    /// False once the plugin failed fatally and was terminated.
    pub active: bool,
}

/// Most additional IDs one plugin may reserve.
pub const MAX_EXTRA_IDS: usize = 64;

impl PluginEntry {
    /// An entry with no types registered.
    pub fn new(primary: u16) -> Self {
        Self {
            primary,
            extra: Vec::new(),
            types: Vec::new(),
            active: true,
        }
    }

    /// Whether `id` is the plugin's primary or one of its additional IDs.
    pub fn owns(&self, id: u16) -> bool {
        id == self.primary || self.extra.contains(&id)
    }

    /// Whether a message of type `t`, exclusive or not, addressed to `destination`, goes to
    /// this plugin: it must be active and registered for `t`; an exclusive message only
    /// reaches the owner of `destination`.
    pub fn takes(&self, t: MessageType, exclusive: bool, destination: u16) -> bool {
        self.active
            && self.types.iter().any(|p| p.matches(t))
            && (!exclusive || self.owns(destination))
    }

    /// Replaces the registered types (`ReportMessageTypes` replaces any earlier list).
    pub fn report_types(&mut self, types: &[MessageType]) {
        self.types.clear();
        self.types.extend_from_slice(types);
    }

    /// Reserves one more ID from `ids` for this plugin.
    pub fn reserve_id(&mut self, ids: &mut IdAllocator) -> Result<u16, TncError> {
        if self.extra.len() >= MAX_EXTRA_IDS {
            return Err(TncError::Other("too many additional IDs for one plugin"));
        }
        let id = ids.allocate()?;
        self.extra.push(id);
        Ok(id)
    }
}

/// One connection's state as both brokers keep it: the PB-TNC session, the TNC connection
/// state, the attributes, the PA-TNC message ID counter, and a retry a plugin asked for.
#[derive(Debug)]
pub struct ConnectionCore {
    /// The connection ID.
    pub id: ConnectionId,
    /// The PB-TNC session.
    pub pb: pb_tnc::Session,
    /// The TNC connection state last notified to the plugins.
    pub state: ConnectionState,
    /// What `GetAttribute` answers.
    pub attrs: BrokerAttributes,
    /// A retry a plugin asked for during a call (acted on when the call returns).
    pub retry_request: Option<RetryReason>,
    next_message_id: u32,
}

impl ConnectionCore {
    /// A connection in state CREATE over `pb`.
    pub fn new(id: ConnectionId, pb: pb_tnc::Session, attrs: BrokerAttributes) -> Self {
        Self {
            id,
            pb,
            state: ConnectionState::Create,
            attrs,
            retry_request: None,
            next_message_id: 0,
        }
    }

    /// A PA-TNC Message Identifier unique within this connection (RFC 5792 §4.1), shared by
    /// every plugin on it.
    pub fn next_message_id(&mut self) -> u32 {
        self.next_message_id = self.next_message_id.wrapping_add(1);
        self.next_message_id
    }

    /// The largest message body a plugin may send on this connection: the PB-TNC message
    /// and batch limits less the PB-PA (24 bytes) and batch (8 bytes) headers.
    pub fn max_body(&self, config: &pb_tnc::Config) -> usize {
        config
            .max_message_size
            .min(config.max_batch_size.saturating_sub(8))
            .saturating_sub(24)
    }
}

/// Whether a plugin may send during the current call (IF-IMC/IF-IMV: only inside
/// BeginHandshake, ReceiveMessage and BatchEnding for that connection).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendWindow {
    /// Sending is allowed.
    Open,
    /// Sending is an `IllegalOperation` (notifications, recommendation requests).
    Closed,
}

/// A plugin's view of one connection during one call: the raw (16-bit ID) handle the typed
/// `ImcConnection` / `ImvConnection` wrap.
#[derive(Debug)]
pub struct PluginHandle<'a> {
    /// The connection.
    pub conn: &'a mut ConnectionCore,
    /// The plugin's routing entry.
    pub entry: &'a mut PluginEntry,
    /// The broker's ID allocator (additional IDs).
    pub ids: &'a mut IdAllocator,
    /// The PB-TNC limits.
    pub config: &'a pb_tnc::Config,
    /// The broker's side (client: the plugin is an IMC; server: an IMV).
    pub side: Side,
    /// Whether the plugin may send now.
    pub window: SendWindow,
}

impl PluginHandle<'_> {
    /// Sends `body` as a message of type `t` from `source` (the plugin's primary or an
    /// additional ID; `None` = primary) to the peer plugin `destination` (`0xffff` = any),
    /// exclusively if asked. Nothing reaches the wire when this returns an error.
    pub fn send(
        &mut self,
        exclusive: bool,
        source: Option<u16>,
        destination: u16,
        t: MessageType,
        body: Bytes,
    ) -> Result<(), TncError> {
        if self.window == SendWindow::Closed {
            return Err(TncError::IllegalOperation(
                "messages may only be sent inside BeginHandshake, ReceiveMessage or BatchEnding",
            ));
        }
        if !self.entry.active {
            return Err(TncError::IllegalOperation("the plugin was terminated"));
        }
        t.check_sendable()?;
        let source = source.unwrap_or(self.entry.primary);
        if !self.entry.owns(source) {
            return Err(TncError::InvalidParameter(
                "the source ID is not one of the plugin's IDs",
            ));
        }
        if exclusive && destination == 0xffff {
            return Err(TncError::InvalidParameter(
                "an exclusive message needs a known destination ID",
            ));
        }
        let max = self.conn.max_body(self.config);
        if body.len() > max {
            return Err(TncError::ExceededMaxMessageSize {
                size: body.len(),
                max,
            });
        }
        let (collector, validator) = match self.side {
            Side::Client => (source, destination),
            Side::Server => (destination, source),
        };
        let pa = PbPa::new(t.vendor, t.pa_subtype(), body)
            .with_exclusive(exclusive)
            .with_collector_id(collector)
            .with_validator_id(validator);
        self.conn.pb.send_pa(pa).map_err(|e| match e {
            pb_tnc::Error::OverLimit { size, limit, .. } => {
                TncError::ExceededMaxMessageSize { size, max: limit }
            }
            pb_tnc::Error::Closed => TncError::IllegalOperation("the connection is closed"),
            _ => TncError::InvalidParameter("PB-TNC refused the message"),
        })
    }

    /// Asks for a handshake retry; the broker acts on it when the call returns (at once from
    /// Decided, or when the running handshake ends).
    pub fn request_retry(&mut self, reason: RetryReason) -> Result<(), TncError> {
        let imc_reason = reason.is_imc_reason();
        if imc_reason != (self.side == Side::Client) {
            return Err(TncError::InvalidParameter(
                "retry reason of the other side (IMC 0-3, IMV 4-8)",
            ));
        }
        if self.conn.pb.is_closed() {
            return Err(TncError::CantRetry("the connection is closed"));
        }
        if self.side == Side::Server && !self.conn.attrs.transport.is_full_duplex() {
            return Err(TncError::CantRetry(
                "a half-duplex transport does not let the server start a retry",
            ));
        }
        self.conn.retry_request.get_or_insert(reason);
        Ok(())
    }

    /// `GetAttribute` for this plugin on this connection.
    pub fn get_attribute(&self, id: AttributeId) -> Result<Bytes, TncError> {
        self.conn.attrs.get(id, self.entry.primary)
    }

    /// `ReportMessageTypes[Long]`.
    pub fn report_message_types(&mut self, types: &[MessageType]) {
        self.entry.report_types(types);
    }

    /// `ReserveAdditionalIMCID` / `ReserveAdditionalIMVID`.
    pub fn reserve_additional_id(&mut self) -> Result<u16, TncError> {
        self.entry.reserve_id(self.ids)
    }
}

/// Converts the state after a RESULT into a TNC connection state from the PB-TNC messages
/// (no Access-Recommendation: COMPLIANT means allowed, anything else none).
pub fn state_from_result(
    result: pb_tnc::PbAssessmentResult,
    recommendation: Option<pb_tnc::AccessRecommendation>,
) -> ConnectionState {
    match recommendation {
        Some(pb_tnc::AccessRecommendation::ACCESS_ALLOWED) => ConnectionState::AccessAllowed,
        Some(pb_tnc::AccessRecommendation::QUARANTINED) => ConnectionState::AccessIsolated,
        Some(_) => ConnectionState::AccessNone,
        None if result == pb_tnc::PbAssessmentResult::COMPLIANT => ConnectionState::AccessAllowed,
        None => ConnectionState::AccessNone,
    }
}

/// Calls `f`, logging a non-fatal error, and returns whether the plugin failed fatally
/// (FATAL: the broker terminates it).
pub fn call_ok(what: &str, id: u16, r: Result<(), TncError>) -> bool {
    match r {
        Ok(()) => false,
        Err(e) if e.is_fatal() => {
            tracing::warn!(
                plugin = id,
                call = what,
                "plugin failed fatally; terminating it"
            );
            true
        }
        Err(e) => {
            tracing::debug!(plugin = id, call = what, error = %e, "plugin call returned an error");
            false
        }
    }
}

/// One hosted plugin: its name, the plugin and its routing entry.
pub struct Slot<P: ?Sized> {
    /// The name it was added under.
    pub name: String,
    /// The plugin (`dyn Imc` or `dyn Imv`).
    pub plugin: Box<P>,
    /// Its IDs and types.
    pub entry: PluginEntry,
}

/// Why a plugin could not be hosted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddError {
    /// No ID left in the 16-bit PB-PA range.
    Ids(TncError),
    /// Its initialize failed (it was terminated).
    Initialize(TncError),
}

/// The plugins a broker hosts, the ID allocator and the connection numbering.
pub struct PluginTable<P: ?Sized> {
    /// The plugins, in the order they were added (terminated ones stay, inactive).
    pub slots: Vec<Slot<P>>,
    /// Primary and additional IDs.
    pub ids: IdAllocator,
    next_connection: u32,
}

impl<P: ?Sized> core::fmt::Debug for PluginTable<P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list()
            .entries(
                self.slots
                    .iter()
                    .map(|s| (&s.name, s.entry.primary, s.entry.active)),
            )
            .finish()
    }
}

impl<P: ?Sized> PluginTable<P> {
    /// An empty table handing out IDs from `ids`.
    pub fn new(ids: IdAllocator) -> Self {
        Self {
            slots: Vec::new(),
            ids,
            next_connection: 0,
        }
    }

    /// Gives `plugin` an ID and runs `init(plugin, id, entry, ids)`; on failure calls
    /// `terminate` and does not host it.
    pub fn add(
        &mut self,
        name: String,
        mut plugin: Box<P>,
        init: impl FnOnce(&mut P, u16, &mut PluginEntry, &mut IdAllocator) -> Result<(), TncError>,
        terminate: impl FnOnce(&mut P),
    ) -> Result<u16, AddError> {
        let id = self.ids.allocate().map_err(AddError::Ids)?;
        let mut entry = PluginEntry::new(id);
        if let Err(e) = init(&mut plugin, id, &mut entry, &mut self.ids) {
            terminate(&mut plugin);
            return Err(AddError::Initialize(e));
        }
        self.slots.push(Slot {
            name,
            plugin,
            entry,
        });
        Ok(id)
    }

    /// The active plugins: primary ID, name, registered types.
    pub fn active(&self) -> impl Iterator<Item = (u16, &str, &[MessageType])> {
        self.slots
            .iter()
            .filter(|s| s.entry.active)
            .map(|s| (s.entry.primary, s.name.as_str(), &s.entry.types[..]))
    }

    /// Deactivates the plugin with primary ID `id` and calls `terminate` on it.
    pub fn remove(&mut self, id: u16, terminate: impl FnOnce(&mut P)) -> bool {
        match self
            .slots
            .iter_mut()
            .find(|s| s.entry.active && s.entry.primary == id)
        {
            Some(s) => {
                s.entry.active = false;
                terminate(&mut s.plugin);
                true
            }
            None => false,
        }
    }

    /// Deactivates and terminates every plugin.
    pub fn terminate_all(&mut self, mut terminate: impl FnMut(&mut P)) {
        for s in self.slots.iter_mut().filter(|s| s.entry.active) {
            s.entry.active = false;
            terminate(&mut s.plugin);
        }
    }

    /// The next connection ID (from 1, skipping `ANY`).
    pub fn next_connection_id(&mut self) -> ConnectionId {
        self.next_connection = self.next_connection.wrapping_add(1);
        if self.next_connection == ConnectionId::ANY.0 || self.next_connection == 0 {
            self.next_connection = 1;
        }
        ConnectionId(self.next_connection)
    }

    /// Calls `f` on active plugin `i`; a FATAL result deactivates it and calls `terminate`.
    /// Returns the failed plugin's primary ID and name, for the broker's event.
    pub fn call(
        &mut self,
        i: usize,
        what: &str,
        f: impl FnOnce(&mut P, &mut PluginEntry, &mut IdAllocator) -> Result<(), TncError>,
        terminate: impl FnOnce(&mut P),
    ) -> Option<(u16, String)> {
        let slot = self.slots.get_mut(i).filter(|s| s.entry.active)?;
        let r = f(&mut slot.plugin, &mut slot.entry, &mut self.ids);
        if call_ok(what, slot.entry.primary, r) {
            slot.entry.active = false;
            terminate(&mut slot.plugin);
            return Some((slot.entry.primary, slot.name.clone()));
        }
        None
    }
}
