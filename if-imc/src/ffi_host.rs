//! Hosting C collectors: a `TNC_IMC_*` shared object behind the [`Imc`] trait, and the TNCC
//! side of the shared host callbacks.
//!
//! Re-entrancy: while the broker calls into a C plugin, a thread-local names the
//! [`ImcInit`] / [`ImcConnection`] of that call; the plugin's callbacks (`SendMessage`, ...)
//! reach it through that pointer, which is taken out of the thread-local for the duration of
//! the callback, so there is never more than one `&mut` to it. A callback outside any call
//! (another thread, or a timer) can only ask for a handshake retry: it goes to a queue the
//! embedder drains ([`drain_pending_retries`]) into [`crate::Broker::request_retry`].
#![allow(unsafe_code)]

use std::ffi::c_void;
use std::ptr::NonNull;
use std::sync::Mutex;

use tnc_if::core::{PluginEntry, PluginHandle};
use tnc_if::{
    AttributeId, ConnectionId, ConnectionState, IdAllocator, ImcId, RetryReason, TncError,
};

use crate::ffi::{
    CMessage, CPlugin, ConfigEntry, HandleKind, HostSide, LoadError, PluginKind, TncConfig,
    bind_function, reserve_function,
};
use crate::{Broker, Imc, ImcConnection, ImcInit, ImcMessage};

/// A C collector (`TNC_IMC_*` shared object) as an [`Imc`]: add it to the broker with
/// [`Broker::add_imc`] (or load a whole `tnc_config` with [`load_imcs`]); the broker's calls
/// become calls of its C functions, with the interface version negotiated and the
/// `TNC_TNCC_*` functions offered through the bind function.
#[derive(Debug)]
pub struct CImc(CPlugin);

impl CImc {
    /// Opens the shared object (`RTLD_NOW | RTLD_GLOBAL`) and resolves its functions; a
    /// missing mandatory one (`Initialize`, `BeginHandshake`, `ProvideBindFunction`) is an
    /// error naming the file and the symbol. Nothing is called yet.
    pub fn load(path: &std::path::Path) -> Result<Self, LoadError> {
        CPlugin::load(path, "TNC_IMC_", "BeginHandshake").map(Self)
    }

    /// The file it was loaded from.
    pub fn path(&self) -> &std::path::Path {
        self.0.path()
    }
}

fn cur(conn: &mut ImcConnection<'_>) -> (HandleKind, NonNull<()>) {
    (HandleKind::ImcConnection, NonNull::from(conn).cast())
}

/// Hosts every `IMC` of a `tnc_config` in `broker`, in file order: one result per entry (a
/// plugin that fails to load or initialize is reported and skipped; the others still load).
pub fn load_imcs(broker: &mut Broker, config: &TncConfig) -> Vec<Result<ImcId, LoadError>> {
    config
        .of(PluginKind::Imc)
        .map(|e| load_one(broker, e))
        .collect()
}

fn load_one(broker: &mut Broker, e: &ConfigEntry) -> Result<ImcId, LoadError> {
    let imc = CImc::load(&e.path)?;
    broker
        .add_imc(e.name.clone(), Box::new(imc))
        .map_err(|err| LoadError::Initialize {
            path: e.path.clone(),
            message: err.to_string(),
        })
}

impl Imc for CImc {
    fn initialize(&mut self, init: &mut ImcInit<'_>) -> Result<(), TncError> {
        let id = init.id().get();
        let cur = (HandleKind::ImcInit, NonNull::from(init).cast());
        self.0.initialize(id, cur, bind_function::<Tncc>)
    }

    fn notify_connection_change(
        &mut self,
        conn: &mut ImcConnection<'_>,
        state: ConnectionState,
    ) -> Result<(), TncError> {
        let c = conn.id();
        self.0.notify(cur(conn), c, state)
    }

    fn begin_handshake(&mut self, conn: &mut ImcConnection<'_>) -> Result<(), TncError> {
        let c = conn.id();
        self.0.main(cur(conn), c)
    }

    fn receive_message(
        &mut self,
        conn: &mut ImcConnection<'_>,
        m: &ImcMessage,
    ) -> Result<(), TncError> {
        let c = conn.id();
        let m = CMessage {
            exclusive: m.exclusive,
            message_type: m.message_type,
            body: &m.body,
            source: m.source.get(),
            destination: m.destination.get(),
        };
        self.0.receive(cur(conn), c, &m)
    }

    fn batch_ending(&mut self, conn: &mut ImcConnection<'_>) -> Result<(), TncError> {
        let c = conn.id();
        self.0.batch_ending(cur(conn), c)
    }

    fn terminate(&mut self) -> Result<(), TncError> {
        self.0.terminate()
    }
}

/// A handshake retry a plugin asked for outside any call (from another thread).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingRetry {
    /// The IMC that asked.
    pub imc: ImcId,
    /// The connection (ANY = all of that IMC's).
    pub connection: ConnectionId,
    /// Why.
    pub reason: RetryReason,
}

static PENDING: Mutex<Vec<PendingRetry>> = Mutex::new(Vec::new());
const MAX_PENDING: usize = 1024;

/// Takes the retries C collectors requested outside a broker call; hand each to
/// [`Broker::request_retry`] on its connection.
pub fn drain_pending_retries() -> Vec<PendingRetry> {
    PENDING
        .lock()
        .map(|mut q| std::mem::take(&mut *q))
        .unwrap_or_default()
}

/// The TNCC side of the host callbacks.
struct Tncc;

impl HostSide for Tncc {
    const PREFIX: &'static str = "TNC_TNCC_";
    const INIT: HandleKind = HandleKind::ImcInit;
    const CONN: HandleKind = HandleKind::ImcConnection;
    type Init = ImcInit<'static>;
    type Conn = ImcConnection<'static>;

    fn init_parts(init: &mut Self::Init) -> (&mut PluginEntry, &mut IdAllocator) {
        (&mut *init.entry, &mut *init.ids)
    }

    fn handle(conn: &mut Self::Conn) -> &mut PluginHandle<'static> {
        &mut conn.inner
    }

    fn set_attribute(conn: &mut Self::Conn, id: AttributeId, value: &[u8]) -> Result<(), TncError> {
        conn.set_attribute(id, value)
    }

    fn queue_retry(id: u16, connection: ConnectionId, reason: RetryReason) -> Result<(), TncError> {
        if !reason.is_imc_reason() {
            return Err(TncError::InvalidParameter("IMC retry reasons are 0-3"));
        }
        let mut q = PENDING
            .lock()
            .map_err(|_| TncError::Other("retry queue poisoned"))?;
        if q.len() >= MAX_PENDING {
            return Err(TncError::CantRetry("too many pending retry requests"));
        }
        q.push(PendingRetry {
            imc: ImcId::new(id),
            connection,
            reason,
        });
        Ok(())
    }

    fn bind_extra(name: &str) -> Option<*mut c_void> {
        (name == "TNC_TNCC_ReserveAdditionalIMCID").then(reserve_function::<Self>)
    }
}
