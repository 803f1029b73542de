//! Exporting a Rust collector as a C plugin: what [`crate::export_imc!`] expands to calls
//! into [`ExportedImc`]; the host-facing parts shared with if-imv's `export_imv!` are
//! [`HostFns`] and [`ExportCore`].
//!
//! The Rust plugin keeps its ordinary API: it is lent an [`ImcConnection`] over a shadow
//! connection (the host's attributes, read at CREATE, and an outbox PB-TNC session); after
//! each call the messages it queued go to the host's `SendMessageLong` (or `SendMessage`),
//! and a retry it asked for to `RequestHandshakeRetry`. Host functions come through the
//! host's bind function; SUCCESS with NULL counts as absent. Panics never cross into C
//! (FATAL).
#![allow(unsafe_code)]

use std::collections::BTreeMap;
use std::ffi::{c_char, c_void};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use pb_tnc::Side;
use tnc_if::core::{ConnectionCore, PluginEntry, PluginHandle, SendWindow};
use tnc_if::{
    ArIdentity, AttributeId, BrokerAttributes, ConnectionId, ConnectionState, IdAllocator, ImcId,
    ImvId, MessageType, ReceivedMessage, TncError,
};

use crate::ffi::{self, BindFunction, TncBuffer, TncResult, TncUInt32};
use crate::{Imc, ImcConnection, ImcInit};

type ReportFn = unsafe extern "C" fn(TncUInt32, *const TncUInt32, TncUInt32) -> TncResult;
type ReportLongFn =
    unsafe extern "C" fn(TncUInt32, *const TncUInt32, *const TncUInt32, TncUInt32) -> TncResult;
type SendFn =
    unsafe extern "C" fn(TncUInt32, TncUInt32, TncBuffer, TncUInt32, TncUInt32) -> TncResult;
type SendLongFn = unsafe extern "C" fn(
    TncUInt32,
    TncUInt32,
    TncUInt32,
    TncBuffer,
    TncUInt32,
    TncUInt32,
    TncUInt32,
    TncUInt32,
) -> TncResult;
type RetryFn = unsafe extern "C" fn(TncUInt32, TncUInt32, TncUInt32) -> TncResult;
type GetAttrFn = unsafe extern "C" fn(
    TncUInt32,
    TncUInt32,
    TncUInt32,
    TncUInt32,
    TncBuffer,
    *mut TncUInt32,
) -> TncResult;
type SetAttrFn =
    unsafe extern "C" fn(TncUInt32, TncUInt32, TncUInt32, TncUInt32, TncBuffer) -> TncResult;
type ReserveFn = unsafe extern "C" fn(TncUInt32, *mut TncUInt32) -> TncResult;
type RecommendFn = unsafe extern "C" fn(TncUInt32, TncUInt32, TncUInt32, TncUInt32) -> TncResult;

/// The host functions an exported plugin uses, found through the host's bind function.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, Default)]
pub struct HostFns {
    report: Option<ReportFn>,
    report_long: Option<ReportLongFn>,
    send: Option<SendFn>,
    send_long: Option<SendLongFn>,
    retry: Option<RetryFn>,
    get_attribute: Option<GetAttrFn>,
    set_attribute: Option<SetAttrFn>,
    /// `TNC_TNCS_ProvideRecommendation` (IMV side only).
    pub provide_recommendation: Option<RecommendFn>,
    reserve: Option<ReserveFn>,
}

impl HostFns {
    /// Binds every function under `prefix` (`TNC_TNCC_` / `TNC_TNCS_`).
    ///
    /// # Safety
    /// `bind` is the host's bind function.
    pub unsafe fn bind(id: TncUInt32, bind: BindFunction, prefix: &str, reserve: &str) -> Self {
        let get = |name: &str| -> Option<*mut c_void> {
            let name = std::ffi::CString::new(format!("{prefix}{name}")).ok()?;
            let mut p: *mut c_void = std::ptr::null_mut();
            // SAFETY: the host's bind function with a NUL-terminated name and a valid
            // out-pointer; SUCCESS with NULL counts as absent.
            let r = unsafe { bind(id, name.as_ptr().cast_mut().cast::<c_char>(), &raw mut p) };
            (r == 0 && !p.is_null()).then_some(p)
        };
        // SAFETY (each transmute): the host hands out the function of that name, whose
        // C prototype is the type we read it as (IF-IMC 1.3 / IF-IMV 1.4).
        unsafe {
            Self {
                report: get("ReportMessageTypes")
                    .map(|p| std::mem::transmute::<*mut c_void, ReportFn>(p)),
                report_long: get("ReportMessageTypesLong")
                    .map(|p| std::mem::transmute::<*mut c_void, ReportLongFn>(p)),
                send: get("SendMessage").map(|p| std::mem::transmute::<*mut c_void, SendFn>(p)),
                send_long: get("SendMessageLong")
                    .map(|p| std::mem::transmute::<*mut c_void, SendLongFn>(p)),
                retry: get("RequestHandshakeRetry")
                    .map(|p| std::mem::transmute::<*mut c_void, RetryFn>(p)),
                get_attribute: get("GetAttribute")
                    .map(|p| std::mem::transmute::<*mut c_void, GetAttrFn>(p)),
                set_attribute: get("SetAttribute")
                    .map(|p| std::mem::transmute::<*mut c_void, SetAttrFn>(p)),
                reserve: get(reserve).map(|p| std::mem::transmute::<*mut c_void, ReserveFn>(p)),
                provide_recommendation: get("ProvideRecommendation")
                    .map(|p| std::mem::transmute::<*mut c_void, RecommendFn>(p)),
            }
        }
    }

    /// Reports the plugin's types: the long form when the host has it, else the short
    /// form of those that have one.
    pub fn report_types(&self, id: TncUInt32, types: &[MessageType]) -> Result<(), TncError> {
        let n = TncUInt32::try_from(types.len()).unwrap_or(0);
        if let Some(f) = self.report_long {
            let v: Vec<TncUInt32> = types
                .iter()
                .map(|t| TncUInt32::from(t.vendor.get()))
                .collect();
            let s: Vec<TncUInt32> = types.iter().map(|t| TncUInt32::from(t.subtype)).collect();
            // SAFETY: the host's ReportMessageTypesLong with two lists of `n` elements.
            return ffi::check(unsafe { f(id, v.as_ptr(), s.as_ptr(), n) });
        }
        let f = self
            .report
            .ok_or(TncError::Other("the host offers no ReportMessageTypes"))?;
        let short: Vec<TncUInt32> = types
            .iter()
            .filter_map(|t| t.to_short().map(TncUInt32::from))
            .collect();
        let n = TncUInt32::try_from(short.len()).unwrap_or(0);
        // SAFETY: the host's ReportMessageTypes with a list of `n` elements.
        ffi::check(unsafe { f(id, short.as_ptr(), n) })
    }

    /// The host's value of `attribute` on `conn` (at most 64 KiB).
    pub fn get_attribute(
        &self,
        id: TncUInt32,
        conn: ConnectionId,
        attribute: AttributeId,
    ) -> Option<Bytes> {
        let f = self.get_attribute?;
        let mut buf = vec![0u8; ffi::MAX_SET_ATTRIBUTE];
        let mut len: TncUInt32 = 0;
        let cap = TncUInt32::try_from(buf.len()).ok()?;
        // SAFETY: the host's GetAttribute with a buffer of `cap` bytes and an out-length.
        let r = unsafe {
            f(
                id,
                TncUInt32::from(conn.0),
                TncUInt32::from(attribute.0),
                cap,
                buf.as_mut_ptr(),
                &raw mut len,
            )
        };
        let len = usize::try_from(len).ok()?;
        if r != 0 || len > buf.len() {
            return None;
        }
        buf.truncate(len);
        Some(Bytes::from(buf))
    }

    /// The host's `SetAttribute`.
    pub fn set_attribute(
        &self,
        id: TncUInt32,
        conn: ConnectionId,
        attribute: AttributeId,
        value: &[u8],
    ) -> Result<(), TncError> {
        let f = self
            .set_attribute
            .ok_or(TncError::Other("the host offers no SetAttribute"))?;
        let mut v = value.to_vec();
        let n = TncUInt32::try_from(v.len()).unwrap_or(0);
        // SAFETY: the host's SetAttribute with `n` bytes it only reads for the call.
        ffi::check(unsafe {
            f(
                id,
                TncUInt32::from(conn.0),
                TncUInt32::from(attribute.0),
                n,
                v.as_mut_ptr(),
            )
        })
    }

    /// The host's view of a connection as broker attributes (what the plugin's handle
    /// answers): language, limits, transport, AR identities.
    pub fn attributes(&self, id: TncUInt32, conn: ConnectionId) -> BrokerAttributes {
        let be32 = |a| {
            self.get_attribute(id, conn, a)
                .and_then(|b| <[u8; 4]>::try_from(&b[..]).ok())
                .map(u32::from_be_bytes)
        };
        let text = |a| {
            self.get_attribute(id, conn, a).map(|b| {
                let b = b.strip_suffix(b"\0").unwrap_or(&b).to_vec();
                String::from_utf8_lossy(&b).into_owned()
            })
        };
        BrokerAttributes {
            preferred_language: text(AttributeId::PREFERRED_LANGUAGE),
            max_round_trips: be32(AttributeId::MAX_ROUND_TRIPS).unwrap_or(u32::MAX),
            max_message_size: be32(AttributeId::MAX_MESSAGE_SIZE).unwrap_or(0),
            transport: match text(AttributeId::IFT_PROTOCOL).as_deref() {
                Some("IF-T for Tunneled EAP") => tnc_if::TransportProtocol::PtEap,
                _ => tnc_if::TransportProtocol::PtTls,
            },
            ar_identities: self
                .get_attribute(id, conn, AttributeId::AR_IDENTITIES)
                .and_then(|b| ArIdentity::decode_list(b).ok())
                .unwrap_or_default(),
        }
    }

    /// An additional ID from the host (`ReserveAdditionalIMCID` / `IMVID`).
    pub fn reserve_id(&self, id: TncUInt32) -> Result<u16, TncError> {
        let f = self
            .reserve
            .ok_or(TncError::Other("the host offers no ReserveAdditional ID"))?;
        let mut out: TncUInt32 = 0;
        // SAFETY: the host's ReserveAdditional*ID with a valid out-pointer.
        ffi::check(unsafe { f(id, &raw mut out) })?;
        ffi::id_of(out)
    }

    /// Hands what the plugin queued on `core` to the host: every PB-PA as a message (long
    /// form when the host has it), then a retry it asked for. The outbox is renewed.
    pub fn flush(
        &self,
        id: TncUInt32,
        core: &mut ConnectionCore,
        side: Side,
        config: &Arc<pb_tnc::Config>,
        id_map: &[(u16, u16)],
    ) -> Result<(), TncError> {
        let mut outbox = pb_tnc::Session::new(config.clone(), Side::Client);
        std::mem::swap(&mut outbox, &mut core.pb);
        let conn = TncUInt32::from(core.id.0);
        let mut result = Ok(());
        if outbox.has_queued_messages() && outbox.end_turn().is_ok() {
            while let Some(batch) = outbox.poll_transmit() {
                let Ok(batch) = pb_tnc::Batch::decode(batch) else {
                    continue;
                };
                for m in batch.messages() {
                    if let pb_tnc::Message::Pa(pa) = m {
                        let r = self.send_pa(conn, pa, side, id_map);
                        if result.is_ok() {
                            result = r;
                        }
                    }
                }
            }
        }
        if let (Some(reason), Some(f)) = (core.retry_request.take(), self.retry) {
            // SAFETY: the host's RequestHandshakeRetry.
            let _ = ffi::check(unsafe { f(id, conn, TncUInt32::from(reason.code())) });
        }
        result
    }

    fn send_pa(
        &self,
        conn: TncUInt32,
        pa: &pb_tnc::PbPa,
        side: Side,
        id_map: &[(u16, u16)],
    ) -> Result<(), TncError> {
        let (source, destination) = match side {
            Side::Client => (pa.collector_id, pa.validator_id),
            Side::Server => (pa.validator_id, pa.collector_id),
        };
        // An additional ID the plugin reserved locally goes out as the host's.
        let source = map_id(id_map, source, false);
        let mut body = pa.body.to_vec();
        let len = TncUInt32::try_from(body.len()).unwrap_or(TncUInt32::MAX);
        let (source, destination) = (TncUInt32::from(source), TncUInt32::from(destination));
        if let Some(f) = self.send_long {
            let flags = if pa.exclusive {
                ffi::MESSAGE_FLAGS_EXCLUSIVE
            } else {
                0
            };
            // SAFETY: the host's SendMessageLong with `len` bytes it only reads for the call.
            return ffi::check(unsafe {
                f(
                    source,
                    conn,
                    flags,
                    body.as_mut_ptr(),
                    len,
                    TncUInt32::from(pa.vendor.get()),
                    TncUInt32::from(pa.subtype.0),
                    destination,
                )
            });
        }
        let t = MessageType::new(pa.vendor, pa.subtype.0);
        match (self.send, t.to_short()) {
            (Some(f), Some(short)) => {
                // SAFETY: the host's SendMessage with `len` bytes it only reads for the call.
                ffi::check(unsafe {
                    f(source, conn, body.as_mut_ptr(), len, TncUInt32::from(short))
                })
            }
            _ => Err(TncError::NoLongMessageTypes),
        }
    }
}

/// The state of an exported plugin `P` with per-connection data `E`, behind a mutex (hosts
/// may call from several threads).
#[doc(hidden)]
pub struct ExportCore<P, E> {
    /// The plugin, once made by Initialize.
    pub plugin: Option<P>,
    /// Its ID (from the host).
    pub id: TncUInt32,
    /// Its routing entry (types it registered).
    pub entry: PluginEntry,
    /// Local allocator for additional IDs.
    pub ids: IdAllocator,
    /// The host's functions.
    pub host: HostFns,
    /// Shadow connections.
    pub conns: BTreeMap<u32, (ConnectionCore, E, Arc<pb_tnc::Config>)>,
    /// PB-TNC limits of the shadow connections.
    pub config: Arc<pb_tnc::Config>,
    /// Types last reported to the host.
    pub reported: Vec<MessageType>,
    /// The plugin's additional IDs (reserved locally, as the `Imc`/`Imv` API does) and
    /// the host's IDs they stand for: (local, host).
    pub id_map: Vec<(u16, u16)>,
}

/// Translates an ID between the plugin's local additional IDs and the host's (`to_local`:
/// host → local); other IDs (the primary, the peer's) are unchanged.
#[doc(hidden)]
pub fn map_id(id_map: &[(u16, u16)], id: u16, to_local: bool) -> u16 {
    id_map
        .iter()
        .find(|(l, h)| if to_local { *h == id } else { *l == id })
        .map_or(id, |(l, h)| if to_local { *l } else { *h })
}

/// Most connections an exported plugin tracks at once.
pub const MAX_CONNECTIONS: usize = 4096;

impl<P, E: Default> ExportCore<P, E> {
    /// A plugin `make` gave, initialized with version negotiation.
    pub fn new(id: TncUInt32, plugin: P) -> Result<Self, TncError> {
        let primary = ffi::id_of(id)?;
        // Local additional IDs start above the primary, so they never equal it.
        let mut ids = IdAllocator::new();
        while ids.allocate().is_ok_and(|n| n < primary) {}
        Ok(Self {
            plugin: Some(plugin),
            id,
            entry: PluginEntry::new(primary),
            ids,
            host: HostFns::default(),
            conns: BTreeMap::new(),
            config: Arc::new(pb_tnc::Config::default()),
            reported: Vec::new(),
            id_map: Vec::new(),
        })
    }

    /// The shadow of connection `c` (made on first use, with the host's attributes).
    pub fn conn(&mut self, c: TncUInt32) -> Result<(), TncError> {
        let cid = ConnectionId(ffi::u32_of(c, "connection ID")?);
        if !self.conns.contains_key(&cid.0) {
            if self.conns.len() >= MAX_CONNECTIONS {
                return Err(TncError::Other("too many connections"));
            }
            let attrs = self.host.attributes(self.id, cid);
            // The body limit is the host's MAX_MESSAGE_SIZE when it gives one (strongSwan's
            // PB-TNC takes far less than our default), plus the PB-PA header.
            let mut config = (*self.config).clone();
            if attrs.max_message_size > 0 {
                let host = usize::try_from(attrs.max_message_size).unwrap_or(usize::MAX);
                config.max_message_size = config.max_message_size.min(host.saturating_add(24));
            }
            let config = Arc::new(config);
            let pb = pb_tnc::Session::new(config.clone(), Side::Client);
            self.conns.insert(
                cid.0,
                (ConnectionCore::new(cid, pb, attrs), E::default(), config),
            );
        }
        Ok(())
    }

    /// Asks the host for an ID for every local additional ID without one yet.
    pub fn sync_ids(&mut self) {
        for local in &self.entry.extra {
            if self.id_map.iter().any(|(l, _)| l == local) {
                continue;
            }
            match self.host.reserve_id(self.id) {
                Ok(host) => self.id_map.push((*local, host)),
                Err(e) => {
                    tracing::warn!(error = %e, "the host gave no additional ID");
                    return;
                }
            }
        }
    }

    /// Reports the registered types to the host if they changed.
    pub fn sync_types(&mut self) -> Result<(), TncError> {
        if self.entry.types != self.reported {
            self.host.report_types(self.id, &self.entry.types)?;
            self.reported = self.entry.types.clone();
        }
        Ok(())
    }
}

/// Checks `Initialize`'s version range and writes version 1.
///
/// # Safety
/// `out` is NULL or valid for a write.
unsafe fn negotiate(min: TncUInt32, max: TncUInt32, out: *mut TncUInt32) -> Result<(), TncError> {
    if min > 1 || max < 1 {
        return Err(TncError::NoCommonVersion);
    }
    // SAFETY: forwarded caller contract.
    unsafe { ffi::write_out(out, 1) }
}

/// One kind of exported plugin (IMC or IMV) as the shared runtime [`Exported`] sees it.
#[doc(hidden)]
pub trait ExportSide: 'static {
    /// `dyn Imc` / `dyn Imv`.
    type Plugin: ?Sized;
    /// Per-connection state besides the shadow connection.
    type Extra: Default + Clone;
    /// `TNC_TNCC_` / `TNC_TNCS_`: the host functions it binds.
    const PREFIX: &'static str;
    /// The side whose PB-PA ID fields it fills (client: collector = source).
    const SIDE: Side;
    /// `ReserveAdditionalIMCID` / `ReserveAdditionalIMVID`.
    const RESERVE: &'static str;
    /// The plugin's `initialize`.
    fn initialize(
        plugin: &mut Self::Plugin,
        id: u16,
        entry: &mut PluginEntry,
        ids: &mut IdAllocator,
    ) -> Result<(), TncError>;
    /// The plugin's `terminate`.
    fn terminate(plugin: &mut Self::Plugin) -> Result<(), TncError>;
    /// After a call and its messages: hand the host what changed in `extra`.
    fn after_call(
        host: &HostFns,
        id: TncUInt32,
        conn: ConnectionId,
        before: &Self::Extra,
        after: &Self::Extra,
    ) {
        let _ = (host, id, conn, before, after);
    }
}

/// What a per-connection call lends the side's code.
#[doc(hidden)]
pub struct CallParts<'a, S: ExportSide> {
    /// The plugin.
    pub plugin: &'a mut S::Plugin,
    /// The shadow connection.
    pub conn: &'a mut ConnectionCore,
    /// The plugin's routing entry.
    pub entry: &'a mut PluginEntry,
    /// The ID allocator.
    pub ids: &'a mut IdAllocator,
    /// PB-TNC limits.
    pub config: &'a pb_tnc::Config,
    /// Per-connection state.
    pub extra: &'a mut S::Extra,
    /// (local, host) additional IDs: translate a received message's destination with
    /// [`map_id`].
    pub id_map: &'a [(u16, u16)],
}

thread_local! {
    /// Whether this thread is inside a call into an exported plugin (a host calling back
    /// into it from one of its own functions would otherwise deadlock on the mutex).
    static IN_CALL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

type State<S> = Option<ExportCore<Box<<S as ExportSide>::Plugin>, <S as ExportSide>::Extra>>;

/// The runtime of an exported plugin behind `export_imc!` / `export_imv!`: one per library,
/// thread-safe (hosts may call from several threads; a host calling back into the plugin
/// from inside one of its own callbacks is refused, not deadlocked).
#[doc(hidden)]
pub struct Exported<S: ExportSide>(Mutex<State<S>>);

impl<S: ExportSide> Default for Exported<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: ExportSide> Exported<S> {
    /// Not initialized.
    pub const fn new() -> Self {
        Self(Mutex::new(None))
    }

    fn with(&self, f: impl FnOnce(&mut State<S>) -> Result<(), TncError>) -> TncResult {
        ffi::guard(|| {
            if IN_CALL.get() {
                return Err(TncError::IllegalOperation(
                    "the host called the plugin from inside one of the plugin's calls",
                ));
            }
            let mut g = self.0.lock().map_err(|_| TncError::Fatal)?;
            IN_CALL.set(true);
            let r = f(&mut g);
            IN_CALL.set(false);
            r
        })
    }

    /// `Initialize`: version 1 only; `make` builds the plugin, which then initializes.
    ///
    /// # Safety
    /// `out` is NULL or valid for a write.
    pub unsafe fn initialize(
        &self,
        id: TncUInt32,
        min: TncUInt32,
        max: TncUInt32,
        out: *mut TncUInt32,
        make: fn() -> Result<Box<S::Plugin>, TncError>,
    ) -> TncResult {
        self.with(|s| {
            if s.is_some() {
                return Err(TncError::AlreadyInitialized);
            }
            // SAFETY: forwarded caller contract.
            unsafe { negotiate(min, max, out) }?;
            let mut core = ExportCore::new(id, make()?)?;
            let primary = core.entry.primary;
            let ExportCore {
                plugin, entry, ids, ..
            } = &mut core;
            let plugin = plugin.as_mut().ok_or(TncError::NotInitialized)?;
            S::initialize(plugin, primary, entry, ids)?;
            *s = Some(core);
            Ok(())
        })
    }

    /// `ProvideBindFunction`: binds the host's functions and reports the plugin's types.
    ///
    /// # Safety
    /// `bind` is the host's bind function.
    pub unsafe fn provide_bind(&self, id: TncUInt32, bind: BindFunction) -> TncResult {
        self.with(|s| {
            let core = s.as_mut().ok_or(TncError::NotInitialized)?;
            if core.id != id {
                return Err(TncError::InvalidParameter("unknown plugin ID"));
            }
            // SAFETY: the host's bind function.
            core.host = unsafe { HostFns::bind(id, bind, S::PREFIX, S::RESERVE) };
            core.sync_ids();
            core.sync_types()
        })
    }

    /// Runs `f` on connection `conn` (its shadow made on first use), then hands the host
    /// the messages, retry and (side-specific) results of the call.
    pub fn call(
        &self,
        id: TncUInt32,
        conn: TncUInt32,
        f: impl FnOnce(CallParts<'_, S>) -> Result<(), TncError>,
    ) -> TncResult {
        self.with(|s| {
            let core = s.as_mut().ok_or(TncError::NotInitialized)?;
            if core.id != id {
                return Err(TncError::InvalidParameter("unknown plugin ID"));
            }
            core.conn(conn)?;
            let key = ffi::u32_of(conn, "connection ID")?;
            let ExportCore {
                plugin,
                entry,
                ids,
                conns,
                host,
                id_map,
                ..
            } = core;
            let plugin = plugin.as_mut().ok_or(TncError::NotInitialized)?;
            let (cc, extra, config) = conns
                .get_mut(&key)
                .ok_or(TncError::InvalidParameter("unknown connection"))?;
            let before = extra.clone();
            let r = f(CallParts {
                plugin,
                conn: cc,
                entry,
                ids,
                config,
                extra,
                id_map,
            });
            let flushed = host.flush(id, cc, S::SIDE, config, id_map);
            S::after_call(host, id, ConnectionId(key), &before, extra);
            core.sync_ids();
            core.sync_types()?;
            r.and(flushed)
        })
    }

    /// Forgets a shadow connection after DELETE (the host may reuse its ID).
    pub fn forget(&self, conn: TncUInt32) {
        if let Ok(mut g) = self.0.lock()
            && let Some(core) = g.as_mut()
            && let Ok(key) = u32::try_from(conn)
        {
            core.conns.remove(&key);
        }
    }

    /// `Terminate`: the plugin is terminated and dropped (the host may unload us next).
    pub fn terminate(&self, id: TncUInt32) -> TncResult {
        self.with(|s| {
            let mut core = s.take().ok_or(TncError::NotInitialized)?;
            if core.id != id {
                *s = Some(core);
                return Err(TncError::InvalidParameter("unknown plugin ID"));
            }
            core.plugin
                .take()
                .map_or(Ok(()), |mut p| S::terminate(&mut p))
        })
    }
}

/// Reads a received message's body (bounded first) and builds the message with the IDs
/// made by `src` / `dst` (ANY for IDs beyond 16 bits).
///
/// # Safety
/// `message` is NULL or points to `len` readable bytes.
#[doc(hidden)]
#[allow(clippy::too_many_arguments)]
pub unsafe fn received<Src, Dst>(
    flags: TncUInt32,
    message: *const u8,
    len: TncUInt32,
    t: MessageType,
    source: TncUInt32,
    destination: TncUInt32,
    src: fn(u16) -> Src,
    dst: fn(u16) -> Dst,
) -> Result<ReceivedMessage<Src, Dst>, TncError> {
    // SAFETY: forwarded caller contract; bounded by MAX_RECEIVED first.
    let body = unsafe { ffi::read_buffer(message, len, MAX_RECEIVED) }?;
    Ok(ReceivedMessage {
        exclusive: ffi::exclusive_flag(flags)?,
        message_type: t,
        source: src(ffi::id_of(source).unwrap_or(0xffff)),
        destination: dst(ffi::id_of(destination).unwrap_or(0xffff)),
        body,
    })
}

/// The IMC side of the export runtime.
#[doc(hidden)]
pub struct ImcSide;

impl ExportSide for ImcSide {
    type Plugin = dyn Imc;
    type Extra = ();
    const PREFIX: &'static str = "TNC_TNCC_";
    const SIDE: Side = Side::Client;
    const RESERVE: &'static str = "ReserveAdditionalIMCID";

    fn initialize(
        plugin: &mut Self::Plugin,
        id: u16,
        entry: &mut PluginEntry,
        ids: &mut IdAllocator,
    ) -> Result<(), TncError> {
        plugin.initialize(&mut ImcInit {
            id: ImcId::new(id),
            entry,
            ids,
        })
    }

    fn terminate(plugin: &mut Self::Plugin) -> Result<(), TncError> {
        plugin.terminate()
    }
}

/// The exported-IMC runtime behind [`crate::export_imc!`].
#[doc(hidden)]
#[derive(Default)]
pub struct ExportedImc(Exported<ImcSide>);

impl std::ops::Deref for ExportedImc {
    type Target = Exported<ImcSide>;

    fn deref(&self) -> &Exported<ImcSide> {
        &self.0
    }
}

impl ExportedImc {
    /// Not initialized.
    pub const fn new() -> Self {
        Self(Exported::new())
    }

    fn conn_call(
        &self,
        id: TncUInt32,
        conn: TncUInt32,
        window: SendWindow,
        f: impl FnOnce(&mut dyn Imc, &mut ImcConnection<'_>, &[(u16, u16)]) -> Result<(), TncError>,
    ) -> TncResult {
        self.call(id, conn, |p| {
            let id_map = p.id_map;
            f(
                p.plugin,
                &mut ImcConnection {
                    inner: PluginHandle {
                        conn: p.conn,
                        entry: p.entry,
                        ids: p.ids,
                        config: p.config,
                        side: Side::Client,
                        window,
                    },
                },
                id_map,
            )
        })
    }

    /// `TNC_IMC_NotifyConnectionChange` (DELETE forgets the connection).
    pub fn notify(&self, id: TncUInt32, conn: TncUInt32, state: TncUInt32) -> TncResult {
        let r = ConnectionState::try_from(ffi::wide(state));
        let Ok(state) = r else {
            return ffi::result_code(r.map(|_| ()));
        };
        let code = self.conn_call(id, conn, SendWindow::Closed, |p, c, _| {
            c.inner.conn.state = state;
            p.notify_connection_change(c, state)
        });
        if state == ConnectionState::Delete {
            self.forget(conn);
        }
        code
    }

    /// `TNC_IMC_BeginHandshake`.
    pub fn begin_handshake(&self, id: TncUInt32, conn: TncUInt32) -> TncResult {
        self.conn_call(id, conn, SendWindow::Open, |p, c, _| p.begin_handshake(c))
    }

    /// `TNC_IMC_ReceiveMessageLong` (and the short form, with ANY IDs).
    ///
    /// # Safety
    /// `message` is NULL or points to `len` readable bytes.
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn receive(
        &self,
        id: TncUInt32,
        conn: TncUInt32,
        flags: TncUInt32,
        message: *const u8,
        len: TncUInt32,
        t: MessageType,
        source: TncUInt32,
        destination: TncUInt32,
    ) -> TncResult {
        // SAFETY: forwarded caller contract.
        let m = match unsafe {
            received(
                flags,
                message,
                len,
                t,
                source,
                destination,
                ImvId::new,
                ImcId::new,
            )
        } {
            Ok(m) => m,
            Err(e) => return ffi::result_code(Err(e)),
        };
        self.conn_call(id, conn, SendWindow::Open, |p, c, id_map| {
            let mut m = m;
            m.destination = ImcId::new(map_id(id_map, m.destination.get(), true));
            p.receive_message(c, &m)
        })
    }

    /// `TNC_IMC_BatchEnding`.
    pub fn batch_ending(&self, id: TncUInt32, conn: TncUInt32) -> TncResult {
        self.conn_call(id, conn, SendWindow::Open, |p, c, _| p.batch_ending(c))
    }
}

/// Largest message an exported plugin accepts from its host (PA-TNC messages are bounded by
/// PB-TNC's default message limit).
pub const MAX_RECEIVED: usize = 16 * 1024 * 1024;

/// Exports a Rust [`Imc`] as a C IF-IMC 1.3 plugin: put it in a `cdylib` crate,
/// `export_imc!(MyImc::new())` (an expression run at `TNC_IMC_Initialize`; `export_imc!(try
/// make())` for a `Result<MyImc, TncError>`, an error failing Initialize), and the library
/// exports `TNC_IMC_Initialize`, `NotifyConnectionChange`, `BeginHandshake`,
/// `ReceiveMessage`, `ReceiveMessageLong`, `BatchEnding`, `Terminate` and
/// `ProvideBindFunction` with the exact C signatures (`TNC_UInt32` = `unsigned long`).
#[macro_export]
macro_rules! export_imc {
    (try $make:expr) => {
        fn __tnc_make(
        ) -> ::std::result::Result<::std::boxed::Box<dyn $crate::Imc>, $crate::TncError> {
            $make.map(|p| ::std::boxed::Box::new(p) as ::std::boxed::Box<dyn $crate::Imc>)
        }
        $crate::export_imc!(@exports);
    };
    ($make:expr) => {
        fn __tnc_make(
        ) -> ::std::result::Result<::std::boxed::Box<dyn $crate::Imc>, $crate::TncError> {
            ::std::result::Result::Ok(::std::boxed::Box::new($make))
        }
        $crate::export_imc!(@exports);
    };
    (@exports) => {
        $crate::__tnc_plugin_exports!(
            $crate::ffi::ExportedImc,
            TNC_IMC_Initialize,
            TNC_IMC_ProvideBindFunction,
            TNC_IMC_NotifyConnectionChange,
            TNC_IMC_BeginHandshake => begin_handshake,
            TNC_IMC_ReceiveMessage,
            TNC_IMC_ReceiveMessageLong,
            TNC_IMC_BatchEnding,
            TNC_IMC_Terminate
        );
    };
}

/// The C functions of an exported plugin (IMC or IMV: the names differ, the signatures do
/// not), calling the runtime `$rt` and the constructor `__tnc_make` of the invoking macro.
#[doc(hidden)]
#[macro_export]
macro_rules! __tnc_plugin_exports {
    ($rt:path, $init:ident, $bind:ident, $notify:ident, $main:ident => $main_method:ident,
     $recv:ident, $recv_long:ident, $batch:ident, $term:ident) => {
        static __TNC_PLUGIN: $rt = <$rt>::new();

        #[doc = concat!("`", stringify!($init), "`.")]
        ///
        /// # Safety
        /// Called by a TNC host with a valid out-pointer.
        #[allow(unsafe_code)]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $init(
            id: ::std::ffi::c_ulong,
            min: ::std::ffi::c_ulong,
            max: ::std::ffi::c_ulong,
            out: *mut ::std::ffi::c_ulong,
        ) -> ::std::ffi::c_ulong {
            // SAFETY: the host passes a valid (or NULL, refused) out-pointer.
            unsafe { __TNC_PLUGIN.initialize(id, min, max, out, __tnc_make) }
        }

        #[doc = concat!("`", stringify!($bind), "`.")]
        ///
        /// # Safety
        /// Called by a TNC host with its bind function.
        #[allow(unsafe_code)]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $bind(
            id: ::std::ffi::c_ulong,
            bind: $crate::ffi::BindFunction,
        ) -> ::std::ffi::c_ulong {
            // SAFETY: `bind` is the host's bind function.
            unsafe { __TNC_PLUGIN.provide_bind(id, bind) }
        }

        #[doc = concat!("`", stringify!($notify), "`.")]
        #[allow(unsafe_code)]
        #[unsafe(no_mangle)]
        pub extern "C" fn $notify(
            id: ::std::ffi::c_ulong,
            conn: ::std::ffi::c_ulong,
            state: ::std::ffi::c_ulong,
        ) -> ::std::ffi::c_ulong {
            __TNC_PLUGIN.notify(id, conn, state)
        }

        #[doc = concat!("`", stringify!($main), "`.")]
        #[allow(unsafe_code)]
        #[unsafe(no_mangle)]
        pub extern "C" fn $main(
            id: ::std::ffi::c_ulong,
            conn: ::std::ffi::c_ulong,
        ) -> ::std::ffi::c_ulong {
            __TNC_PLUGIN.$main_method(id, conn)
        }

        #[doc = concat!("`", stringify!($recv), "`.")]
        ///
        /// # Safety
        /// Called by a TNC host with `len` readable bytes at `message`.
        #[allow(unsafe_code)]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $recv(
            id: ::std::ffi::c_ulong,
            conn: ::std::ffi::c_ulong,
            message: *mut u8,
            len: ::std::ffi::c_ulong,
            message_type: ::std::ffi::c_ulong,
        ) -> ::std::ffi::c_ulong {
            let t = $crate::ffi::short_type(message_type);
            // SAFETY: the host's buffer of `len` bytes (length bounded before reading).
            unsafe { __TNC_PLUGIN.receive(id, conn, 0, message, len, t, 0xffff, 0xffff) }
        }

        #[doc = concat!("`", stringify!($recv_long), "`.")]
        ///
        /// # Safety
        /// Called by a TNC host with `len` readable bytes at `message`.
        #[allow(unsafe_code, clippy::too_many_arguments)]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $recv_long(
            id: ::std::ffi::c_ulong,
            conn: ::std::ffi::c_ulong,
            flags: ::std::ffi::c_ulong,
            message: *mut u8,
            len: ::std::ffi::c_ulong,
            vendor: ::std::ffi::c_ulong,
            subtype: ::std::ffi::c_ulong,
            source: ::std::ffi::c_ulong,
            destination: ::std::ffi::c_ulong,
        ) -> ::std::ffi::c_ulong {
            let ::std::result::Result::Ok(t) = $crate::ffi::long_type(vendor, subtype) else {
                return 6;
            };
            // SAFETY: the host's buffer of `len` bytes (length bounded before reading).
            unsafe { __TNC_PLUGIN.receive(id, conn, flags, message, len, t, source, destination) }
        }

        #[doc = concat!("`", stringify!($batch), "`.")]
        #[allow(unsafe_code)]
        #[unsafe(no_mangle)]
        pub extern "C" fn $batch(
            id: ::std::ffi::c_ulong,
            conn: ::std::ffi::c_ulong,
        ) -> ::std::ffi::c_ulong {
            __TNC_PLUGIN.batch_ending(id, conn)
        }

        #[doc = concat!("`", stringify!($term), "`.")]
        #[allow(unsafe_code)]
        #[unsafe(no_mangle)]
        pub extern "C" fn $term(id: ::std::ffi::c_ulong) -> ::std::ffi::c_ulong {
            __TNC_PLUGIN.terminate(id)
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A host whose only attribute is MAX_MESSAGE_SIZE = 100.
    unsafe extern "C" fn small_host_attribute(
        _id: TncUInt32,
        _conn: TncUInt32,
        attribute: TncUInt32,
        buffer_len: TncUInt32,
        buffer: TncBuffer,
        out_len: *mut TncUInt32,
    ) -> TncResult {
        if attribute != TncUInt32::from(AttributeId::MAX_MESSAGE_SIZE.0) {
            return 6;
        }
        // SAFETY: the exporter's own buffer and out-length.
        unsafe {
            ffi::result_code(ffi::copy_attribute(
                &100u32.to_be_bytes(),
                buffer_len,
                buffer,
                out_len,
            ))
        }
    }

    #[test]
    fn a_shadow_connection_takes_the_hosts_message_limit() {
        let mut core = ExportCore::<(), ()>::new(1, ()).unwrap();
        core.host.get_attribute = Some(small_host_attribute);
        core.conn(7).unwrap();
        let (cc, (), config) = core.conns.get(&7).unwrap();
        assert_eq!(cc.attrs.max_message_size, 100);
        assert_eq!(cc.max_body(config), 100);
        assert!(core.conn(TncUInt32::MAX).is_err());
        assert_eq!(
            cc_limit_default(),
            pb_tnc::Config::default().max_message_size - 24
        );
    }

    unsafe extern "C" fn host_reserve(_id: TncUInt32, out: *mut TncUInt32) -> TncResult {
        // SAFETY: the exporter's out-pointer.
        unsafe { out.write(40) };
        0
    }

    #[test]
    fn local_additional_ids_are_mapped_to_the_hosts() {
        let mut core = ExportCore::<(), ()>::new(1, ()).unwrap();
        // Reserved by the plugin during initialize (before the host is bound): local,
        // never the primary.
        let local = core.entry.reserve_id(&mut core.ids).unwrap();
        assert_eq!(local, 2);
        core.sync_ids();
        assert!(core.id_map.is_empty(), "no host function yet");
        core.host.reserve = Some(host_reserve);
        core.sync_ids();
        core.sync_ids();
        assert_eq!(core.id_map, vec![(2, 40)]);
        assert_eq!(map_id(&core.id_map, 2, false), 40);
        assert_eq!(map_id(&core.id_map, 40, true), 2);
        assert_eq!(map_id(&core.id_map, 1, false), 1);
        assert_eq!(map_id(&core.id_map, 0xffff, true), 0xffff);
        // A primary of 5 (a host numbering differently): local IDs start at 6.
        let mut core = ExportCore::<(), ()>::new(5, ()).unwrap();
        assert_eq!(core.entry.reserve_id(&mut core.ids).unwrap(), 6);
    }

    fn cc_limit_default() -> usize {
        let mut core = ExportCore::<(), ()>::new(1, ()).unwrap();
        core.conn(1).unwrap();
        let (cc, (), config) = core.conns.get(&1).unwrap();
        cc.max_body(config)
    }
}
