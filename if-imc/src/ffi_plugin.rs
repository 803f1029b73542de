//! What hosting a C collector and a C verifier have in common: the loaded plugin and its
//! functions ([`CPlugin`]), and the host callbacks both bind functions hand out, generic over
//! the side ([`HostSide`]: TNCC or TNCS).
#![allow(unsafe_code)]

use std::ffi::{c_char, c_void};
use std::path::Path;

use bytes::Bytes;
use tnc_if::core::{PluginEntry, PluginHandle};
use tnc_if::{
    AttributeId, ConnectionId, ConnectionState, IdAllocator, MessageType, RetryReason, TncError,
};

use crate::ffi::{
    self, BindFunction, Current, HandleKind, LoadError, SharedLibrary, TncBuffer, TncResult,
    TncUInt32,
};

type Initialize =
    unsafe extern "C" fn(TncUInt32, TncUInt32, TncUInt32, *mut TncUInt32) -> TncResult;
type ConnFn = unsafe extern "C" fn(TncUInt32, TncUInt32) -> TncResult;
type NotifyFn = unsafe extern "C" fn(TncUInt32, TncUInt32, TncUInt32) -> TncResult;
type ReceiveFn =
    unsafe extern "C" fn(TncUInt32, TncUInt32, TncBuffer, TncUInt32, TncUInt32) -> TncResult;
type ReceiveLongFn = unsafe extern "C" fn(
    TncUInt32,
    TncUInt32,
    TncUInt32,
    TncBuffer,
    TncUInt32,
    TncUInt32,
    TncUInt32,
    TncUInt32,
    TncUInt32,
) -> TncResult;
type TerminateFn = unsafe extern "C" fn(TncUInt32) -> TncResult;
type ProvideBindFn = unsafe extern "C" fn(TncUInt32, BindFunction) -> TncResult;

/// A loaded C plugin (IMC or IMV): its library, its functions and its ID once initialized.
/// `Terminate` is called (once) before the library is closed.
#[doc(hidden)]
#[derive(Debug)]
pub struct CPlugin {
    initialize: Initialize,
    notify: Option<NotifyFn>,
    main: ConnFn,
    receive: Option<ReceiveFn>,
    receive_long: Option<ReceiveLongFn>,
    batch_ending: Option<ConnFn>,
    terminate: Option<TerminateFn>,
    provide_bind: ProvideBindFn,
    id: Option<TncUInt32>,
    lib: SharedLibrary,
}

/// A received message as a C plugin gets it.
#[doc(hidden)]
#[derive(Debug)]
pub struct CMessage<'a> {
    /// Exclusive flag.
    pub exclusive: bool,
    /// Type.
    pub message_type: MessageType,
    /// Body.
    pub body: &'a Bytes,
    /// Sender's ID.
    pub source: u16,
    /// Receiver's ID.
    pub destination: u16,
}

impl CPlugin {
    /// Opens `path` and resolves `<prefix>Initialize`, `<prefix><main>` and
    /// `<prefix>ProvideBindFunction` (mandatory) and the optional functions.
    pub fn load(path: &Path, prefix: &str, main: &str) -> Result<Self, LoadError> {
        let lib = SharedLibrary::open(path)?;
        let n = |f: &str| format!("{prefix}{f}");
        // SAFETY (every `get`/`require`): the IF-IMC 1.3 / IF-IMV 1.4 C prototypes, with
        // TNC_UInt32 = unsigned long; the pointers live as long as `lib`, stored alongside.
        unsafe {
            Ok(Self {
                initialize: lib.require(&n("Initialize"))?,
                main: lib.require(&n(main))?,
                provide_bind: lib.require(&n("ProvideBindFunction"))?,
                notify: lib.get(&n("NotifyConnectionChange")),
                receive: lib.get(&n("ReceiveMessage")),
                receive_long: lib.get(&n("ReceiveMessageLong")),
                batch_ending: lib.get(&n("BatchEnding")),
                terminate: lib.get(&n("Terminate")),
                id: None,
                lib,
            })
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        self.lib.path()
    }

    /// `Initialize(id, 1, 1)` (anything but version 1 is NO_COMMON_VERSION), then
    /// `ProvideBindFunction(id, bind)` with `init` as the current handle (the plugin binds
    /// and reports its types from inside).
    pub fn initialize(
        &mut self,
        id: u16,
        init: Current,
        bind: BindFunction,
    ) -> Result<(), TncError> {
        let id = TncUInt32::from(id);
        let mut version: TncUInt32 = 0;
        // SAFETY: Initialize with its C prototype; `version` outlives the call.
        ffi::check(unsafe { (self.initialize)(id, 1, 1, &raw mut version) })?;
        self.id = Some(id);
        if version != 1 {
            let _ = self.terminate();
            return Err(TncError::NoCommonVersion);
        }
        let provide = self.provide_bind;
        // SAFETY: ProvideBindFunction with its C prototype.
        ffi::check(ffi::with_current(init, || unsafe { provide(id, bind) }))
    }

    fn call(
        &mut self,
        cur: Current,
        conn: ConnectionId,
        f: impl FnOnce(TncUInt32, TncUInt32) -> TncResult,
    ) -> Result<(), TncError> {
        let id = self.id.ok_or(TncError::NotInitialized)?;
        let cid = TncUInt32::from(conn.0);
        ffi::check(ffi::with_current(cur, || f(id, cid)))
    }

    /// `NotifyConnectionChange` (if exported).
    pub fn notify(
        &mut self,
        cur: Current,
        conn: ConnectionId,
        state: ConnectionState,
    ) -> Result<(), TncError> {
        let Some(f) = self.notify else { return Ok(()) };
        let state = TncUInt32::from(state.code());
        // SAFETY: NotifyConnectionChange with its C prototype.
        self.call(cur, conn, |id, c| unsafe { f(id, c, state) })
    }

    /// `BeginHandshake` (IMC) / `SolicitRecommendation` (IMV).
    pub fn main(&mut self, cur: Current, conn: ConnectionId) -> Result<(), TncError> {
        let f = self.main;
        // SAFETY: the mandatory per-connection function with its C prototype.
        self.call(cur, conn, |id, c| unsafe { f(id, c) })
    }

    /// `BatchEnding` (if exported).
    pub fn batch_ending(&mut self, cur: Current, conn: ConnectionId) -> Result<(), TncError> {
        let Some(f) = self.batch_ending else {
            return Ok(());
        };
        // SAFETY: BatchEnding with its C prototype.
        self.call(cur, conn, |id, c| unsafe { f(id, c) })
    }

    /// `ReceiveMessageLong` when exported, else `ReceiveMessage` when the type has a short
    /// form; the plugin gets a private copy of the body (it may not write, but if it does the
    /// message stays intact).
    pub fn receive(
        &mut self,
        cur: Current,
        conn: ConnectionId,
        m: &CMessage<'_>,
    ) -> Result<(), TncError> {
        let mut body = m.body.to_vec();
        let len = TncUInt32::try_from(body.len()).unwrap_or(TncUInt32::MAX);
        let ptr = body.as_mut_ptr();
        let t = m.message_type;
        if let Some(f) = self.receive_long {
            let flags = if m.exclusive {
                ffi::MESSAGE_FLAGS_EXCLUSIVE
            } else {
                0
            };
            let (v, s) = (TncUInt32::from(t.vendor.get()), TncUInt32::from(t.subtype));
            let (src, dst) = (TncUInt32::from(m.source), TncUInt32::from(m.destination));
            // SAFETY: ReceiveMessageLong with its C prototype; `body` outlives the call.
            return self.call(cur, conn, |id, c| unsafe {
                f(id, c, flags, ptr, len, v, s, src, dst)
            });
        }
        match (self.receive, t.to_short()) {
            (Some(f), Some(short)) => {
                let short = TncUInt32::from(short);
                // SAFETY: ReceiveMessage with its C prototype; `body` outlives the call.
                self.call(cur, conn, |id, c| unsafe { f(id, c, ptr, len, short) })
            }
            _ => Ok(()),
        }
    }

    /// `Terminate` (if exported), once per successful `Initialize`.
    pub fn terminate(&mut self) -> Result<(), TncError> {
        let Some(id) = self.id.take() else {
            return Ok(());
        };
        let Some(f) = self.terminate else {
            return Ok(());
        };
        // SAFETY: Terminate with its C prototype.
        ffi::check(unsafe { f(id) })
    }
}

impl Drop for CPlugin {
    fn drop(&mut self) {
        // Terminate before `lib` is dropped (dlclose).
        let _ = self.terminate();
    }
}

/// One side of the host (TNCC or TNCS) as the shared callbacks see it.
#[doc(hidden)]
pub trait HostSide: 'static {
    /// `TNC_TNCC_` or `TNC_TNCS_`.
    const PREFIX: &'static str;
    /// The kind of the initialize handle.
    const INIT: HandleKind;
    /// The kind of the connection handle.
    const CONN: HandleKind;
    /// `ImcInit<'static>` / `ImvInit<'static>`.
    type Init;
    /// `ImcConnection<'static>` / `ImvConnection<'static>`.
    type Conn;
    /// The routing entry and ID allocator of an initialize handle.
    fn init_parts(init: &mut Self::Init) -> (&mut PluginEntry, &mut IdAllocator);
    /// The raw handle of a connection handle.
    fn handle(conn: &mut Self::Conn) -> &mut PluginHandle<'static>;
    /// `SetAttribute` on a connection.
    fn set_attribute(conn: &mut Self::Conn, id: AttributeId, value: &[u8]) -> Result<(), TncError>;
    /// A retry asked for outside any call (queued for the embedder).
    fn queue_retry(id: u16, conn: ConnectionId, reason: RetryReason) -> Result<(), TncError>;
    /// Side-specific bind names (e.g. `ProvideRecommendation`).
    fn bind_extra(name: &str) -> Option<*mut c_void>;
}

/// What a callback reaches.
#[doc(hidden)]
pub enum Target<'a, S: HostSide> {
    /// Inside `ProvideBindFunction`.
    Init(&'a mut S::Init),
    /// Inside a call on a connection.
    Conn(&'a mut S::Conn),
    /// Outside any call (or another thread).
    Outside,
}

/// Runs a callback body with the handle of the call in progress on this thread.
#[doc(hidden)]
pub fn callback<S: HostSide>(f: impl FnOnce(Target<'_, S>) -> Result<(), TncError>) -> TncResult {
    ffi::callback(|cur| match cur {
        // The pointer was made from the `&mut S::Init` of the call in progress on this
        // thread (`with_current`), which its owner does not use until the plugin returns; it
        // is out of the thread-local while this runs.
        // SAFETY: so this is the only reference to it.
        Some((k, p)) if k == S::INIT => f(Target::Init(unsafe { p.cast().as_mut() })),
        // SAFETY: as above, for the `&mut S::Conn` of the call in progress.
        Some((k, p)) if k == S::CONN => f(Target::Conn(unsafe { p.cast().as_mut() })),
        _ => f(Target::Outside),
    })
}

fn own(entry: &PluginEntry, id: TncUInt32) -> Result<(), TncError> {
    if entry.owns(ffi::id_of(id)?) {
        Ok(())
    } else {
        Err(TncError::InvalidParameter(
            "the ID is not the calling plugin's own",
        ))
    }
}

fn report<S: HostSide>(
    t: Target<'_, S>,
    id: TncUInt32,
    types: &[MessageType],
) -> Result<(), TncError> {
    let entry = match t {
        Target::Init(init) => S::init_parts(init).0,
        Target::Conn(c) => &mut *S::handle(c).entry,
        Target::Outside => {
            return Err(TncError::IllegalOperation(
                "message types can only be reported during a call",
            ));
        }
    };
    own(entry, id)?;
    entry.report_types(types);
    Ok(())
}

const NOT_IN_CALL: TncError = TncError::IllegalOperation(
    "messages may only be sent inside a handshake call (BeginHandshake, ReceiveMessage, BatchEnding)",
);

unsafe extern "C" fn report_message_types<S: HostSide>(
    id: TncUInt32,
    types: *const TncUInt32,
    count: TncUInt32,
) -> TncResult {
    callback::<S>(|t| {
        // SAFETY: `count` types at `types`, bounded before reading.
        let types = unsafe { ffi::read_short_types(types, count) }?;
        report(t, id, &types)
    })
}

unsafe extern "C" fn report_message_types_long<S: HostSide>(
    id: TncUInt32,
    vendors: *const TncUInt32,
    subtypes: *const TncUInt32,
    count: TncUInt32,
) -> TncResult {
    callback::<S>(|t| {
        // SAFETY: two lists of `count` elements, bounded before reading.
        let types = unsafe { ffi::read_long_types(vendors, subtypes, count) }?;
        report(t, id, &types)
    })
}

unsafe extern "C" fn send_message<S: HostSide>(
    id: TncUInt32,
    connection: TncUInt32,
    message: TncBuffer,
    len: TncUInt32,
    message_type: TncUInt32,
) -> TncResult {
    callback::<S>(|t| {
        let Target::Conn(c) = t else {
            return Err(NOT_IN_CALL);
        };
        let mt = MessageType::from_short(ffi::u32_of(message_type, "message type")?);
        // SAFETY: `len` bytes at `message`; the length is checked first.
        unsafe { ffi::handle_send(S::handle(c), id, connection, 0, message, len, mt, 0xffff) }
    })
}

#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn send_message_long<S: HostSide>(
    id: TncUInt32,
    connection: TncUInt32,
    flags: TncUInt32,
    message: TncBuffer,
    len: TncUInt32,
    vendor: TncUInt32,
    subtype: TncUInt32,
    destination: TncUInt32,
) -> TncResult {
    callback::<S>(|t| {
        let Target::Conn(c) = t else {
            return Err(NOT_IN_CALL);
        };
        let mt = ffi::long_type(vendor, subtype)?;
        // SAFETY: `len` bytes at `message`; the length is checked first.
        unsafe {
            ffi::handle_send(
                S::handle(c),
                id,
                connection,
                flags,
                message,
                len,
                mt,
                destination,
            )
        }
    })
}

unsafe extern "C" fn request_handshake_retry<S: HostSide>(
    id: TncUInt32,
    connection: TncUInt32,
    reason: TncUInt32,
) -> TncResult {
    callback::<S>(|t| match t {
        Target::Conn(c) => ffi::handle_retry(S::handle(c), id, connection, reason),
        Target::Init(_) => Err(TncError::IllegalOperation(
            "no connection during Initialize",
        )),
        Target::Outside => S::queue_retry(
            ffi::id_of(id)?,
            ffi::connection_of(connection)?,
            RetryReason::try_from(ffi::wide(reason))?,
        ),
    })
}

unsafe extern "C" fn get_attribute<S: HostSide>(
    id: TncUInt32,
    connection: TncUInt32,
    attribute: TncUInt32,
    buffer_len: TncUInt32,
    buffer: TncBuffer,
    out_len: *mut TncUInt32,
) -> TncResult {
    callback::<S>(|t| match t {
        // SAFETY: the plugin's buffer of `buffer_len` bytes and its out-pointer.
        Target::Conn(c) => unsafe {
            ffi::handle_get_attribute(
                S::handle(c),
                id,
                connection,
                attribute,
                buffer_len,
                buffer,
                out_len,
            )
        },
        _ => Err(TncError::InvalidParameter(
            "attributes are per connection, during a call on it",
        )),
    })
}

unsafe extern "C" fn set_attribute<S: HostSide>(
    id: TncUInt32,
    connection: TncUInt32,
    attribute: TncUInt32,
    len: TncUInt32,
    buffer: TncBuffer,
) -> TncResult {
    callback::<S>(|t| {
        let Target::Conn(c) = t else {
            return Err(TncError::InvalidParameter("no connection"));
        };
        ffi::owned_id(S::handle(c), id)?;
        ffi::same_connection(S::handle(c), connection)?;
        // SAFETY: `len` bytes at `buffer`, bounded first.
        let value = unsafe { ffi::read_buffer(buffer, len, ffi::MAX_SET_ATTRIBUTE) }
            .map_err(|_| TncError::InvalidParameter("attribute value too long"))?;
        S::set_attribute(c, AttributeId(ffi::u32_of(attribute, "attribute")?), &value)
    })
}

unsafe extern "C" fn reserve_additional_id<S: HostSide>(
    id: TncUInt32,
    out: *mut TncUInt32,
) -> TncResult {
    callback::<S>(|t| {
        if out.is_null() {
            return Err(TncError::InvalidParameter("NULL out-pointer"));
        }
        let (entry, ids) = match t {
            Target::Init(init) => S::init_parts(init),
            Target::Conn(c) => {
                let h = S::handle(c);
                (&mut *h.entry, &mut *h.ids)
            }
            Target::Outside => {
                return Err(TncError::IllegalOperation(
                    "IDs can only be reserved during a call",
                ));
            }
        };
        own(entry, id)?;
        let new = entry.reserve_id(ids)?;
        // SAFETY: checked non-NULL above; the plugin's out-pointer.
        unsafe { ffi::write_out(out, TncUInt32::from(new)) }
    })
}

/// The bind function of side `S`: the shared names under `S::PREFIX`, then `S::bind_extra`;
/// an unknown name gets INVALID_PARAMETER with NULL written.
#[doc(hidden)]
pub unsafe extern "C" fn bind_function<S: HostSide>(
    _id: TncUInt32,
    name: *const c_char,
    out: *mut *mut c_void,
) -> TncResult {
    let r = std::panic::catch_unwind(|| {
        // SAFETY: the plugin's name string and out-pointer.
        unsafe {
            ffi::bind(name, out, |n| {
                let common = n.strip_prefix(S::PREFIX).and_then(|f| {
                    Some(match f {
                        "ReportMessageTypes" => report_message_types::<S> as *mut c_void,
                        "ReportMessageTypesLong" => report_message_types_long::<S> as *mut c_void,
                        "SendMessage" => send_message::<S> as *mut c_void,
                        "SendMessageLong" => send_message_long::<S> as *mut c_void,
                        "RequestHandshakeRetry" => request_handshake_retry::<S> as *mut c_void,
                        "GetAttribute" => get_attribute::<S> as *mut c_void,
                        "SetAttribute" => set_attribute::<S> as *mut c_void,
                        "BindFunction" => bind_function::<S> as *mut c_void,
                        _ => return None,
                    })
                });
                common.or_else(|| S::bind_extra(n))
            })
        }
    });
    r.unwrap_or_else(|_| ffi::result_code(Err(TncError::Fatal)))
}

/// The shared `ReserveAdditionalIMCID` / `ReserveAdditionalIMVID` of side `S` (its name
/// differs per side, so `S::bind_extra` hands it out).
#[doc(hidden)]
pub fn reserve_function<S: HostSide>() -> *mut c_void {
    reserve_additional_id::<S> as *mut c_void
}

/// Whether a callback on an IMV connection is the caller's (for side-specific callbacks).
#[doc(hidden)]
pub fn check_call(
    h: &PluginHandle<'_>,
    id: TncUInt32,
    connection: TncUInt32,
) -> Result<(), TncError> {
    ffi::owned_id(h, id)?;
    ffi::same_connection(h, connection)
}
