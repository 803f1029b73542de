//! The IF-IMV 1.4 C binary interface (feature `ffi`): loading C verifiers into the
//! [`crate::Broker`] ([`CImv`], [`load_imvs`]) and exporting a Rust [`crate::Imv`] as a C
//! plugin ([`crate::export_imv!`]). The C types, the `tnc_config` parser and the load errors
//! are if-imc's ([`if_imc::ffi`], re-exported here).
//!
//! Re-entrancy works as on the client side: during a call into the plugin its
//! [`ImvInit`] / [`ImvConnection`] is reachable from the callbacks through a thread-local (one
//! `&mut` at a time). Outside any call (another thread) a plugin may still ask for a retry or
//! give a recommendation: both are queued ([`drain_pending`]) for the embedder.
#![allow(unsafe_code)]

use std::ffi::c_void;
use std::ptr::NonNull;
use std::sync::Mutex;

#[doc(hidden)]
pub use crate::ffi_export::ExportedImv;
#[doc(hidden)]
pub use if_imc::__tnc_plugin_exports;
use if_imc::ffi::{self as cffi, CMessage, CPlugin, HandleKind, HostSide};
#[doc(hidden)]
pub use if_imc::ffi::{BindFunction, long_type, short_type};
pub use if_imc::ffi::{
    ConfigEntry, ConfigError, LoadError, PluginKind, SharedLibrary, TncConfig, TncResult, TncUInt32,
};
use tnc_if::core::{PluginEntry, PluginHandle};
use tnc_if::{
    ActionRecommendation, AttributeId, ConnectionId, ConnectionState, EvaluationResult,
    IdAllocator, ImvId, RetryReason, TncError,
};

use crate::{Broker, Imv, ImvConnection, ImvInit, ImvMessage};

/// A C verifier (`TNC_IMV_*` shared object) as an [`Imv`]; see [`if_imc::ffi::CImc`] for the
/// collector side. [`Imv::begin_handshake`] (TNCS-first) has no C symbol and does nothing.
#[derive(Debug)]
pub struct CImv(CPlugin);

impl CImv {
    /// Opens the shared object (`RTLD_NOW | RTLD_GLOBAL`) and resolves its functions; a
    /// missing `Initialize`, `SolicitRecommendation` or `ProvideBindFunction` is an error
    /// naming the file and the symbol.
    pub fn load(path: &std::path::Path) -> Result<Self, LoadError> {
        CPlugin::load(path, "TNC_IMV_", "SolicitRecommendation").map(Self)
    }

    /// The file it was loaded from.
    pub fn path(&self) -> &std::path::Path {
        self.0.path()
    }
}

fn cur(conn: &mut ImvConnection<'_>) -> (HandleKind, NonNull<()>) {
    (HandleKind::ImvConnection, NonNull::from(conn).cast())
}

/// Hosts every `IMV` of a `tnc_config` in `broker`, in file order (one result per entry;
/// failures are reported and the others still load).
pub fn load_imvs(broker: &mut Broker, config: &TncConfig) -> Vec<Result<ImvId, LoadError>> {
    config
        .of(PluginKind::Imv)
        .map(|e| {
            let imv = CImv::load(&e.path)?;
            broker
                .add_imv(e.name.clone(), Box::new(imv))
                .map_err(|err| LoadError::Initialize {
                    path: e.path.clone(),
                    message: err.to_string(),
                })
        })
        .collect()
}

impl Imv for CImv {
    fn initialize(&mut self, init: &mut ImvInit<'_>) -> Result<(), TncError> {
        let id = init.id().get();
        let cur = (HandleKind::ImvInit, NonNull::from(init).cast());
        self.0.initialize(id, cur, cffi::bind_function::<Tncs>)
    }

    fn notify_connection_change(
        &mut self,
        conn: &mut ImvConnection<'_>,
        state: ConnectionState,
    ) -> Result<(), TncError> {
        let c = conn.id();
        self.0.notify(cur(conn), c, state)
    }

    fn receive_message(
        &mut self,
        conn: &mut ImvConnection<'_>,
        m: &ImvMessage,
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

    fn batch_ending(&mut self, conn: &mut ImvConnection<'_>) -> Result<(), TncError> {
        let c = conn.id();
        self.0.batch_ending(cur(conn), c)
    }

    fn solicit_recommendation(&mut self, conn: &mut ImvConnection<'_>) -> Result<(), TncError> {
        let c = conn.id();
        self.0.main(cur(conn), c)
    }

    fn terminate(&mut self) -> Result<(), TncError> {
        self.0.terminate()
    }
}

/// Something a C verifier asked for outside any broker call (from another thread).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pending {
    /// `RequestHandshakeRetry`: hand to [`Broker::request_retry`].
    Retry {
        /// The IMV.
        imv: ImvId,
        /// The connection (ANY = all).
        connection: ConnectionId,
        /// Why.
        reason: RetryReason,
    },
    /// `ProvideRecommendation` outside a call: hand to [`Broker::provide_recommendation`]
    /// for the connection it names.
    Recommendation {
        /// The IMV.
        imv: ImvId,
        /// The connection.
        connection: ConnectionId,
        /// The recommendation.
        recommendation: ActionRecommendation,
        /// The evaluation.
        evaluation: EvaluationResult,
    },
}

static PENDING: Mutex<Vec<Pending>> = Mutex::new(Vec::new());
const MAX_PENDING: usize = 1024;

/// Takes what C verifiers asked for outside broker calls.
pub fn drain_pending() -> Vec<Pending> {
    PENDING
        .lock()
        .map(|mut q| std::mem::take(&mut *q))
        .unwrap_or_default()
}

fn queue(p: Pending) -> Result<(), TncError> {
    let mut q = PENDING
        .lock()
        .map_err(|_| TncError::Other("queue poisoned"))?;
    if q.len() >= MAX_PENDING {
        return Err(TncError::Other("too many pending requests"));
    }
    q.push(p);
    Ok(())
}

/// The TNCS side of the host callbacks.
struct Tncs;

impl HostSide for Tncs {
    const PREFIX: &'static str = "TNC_TNCS_";
    const INIT: HandleKind = HandleKind::ImvInit;
    const CONN: HandleKind = HandleKind::ImvConnection;
    type Init = ImvInit<'static>;
    type Conn = ImvConnection<'static>;

    fn init_parts(init: &mut Self::Init) -> (&mut PluginEntry, &mut IdAllocator) {
        (&mut *init.entry, &mut *init.ids)
    }

    fn handle(conn: &mut Self::Conn) -> &mut PluginHandle<'static> {
        &mut conn.inner
    }

    fn set_attribute(conn: &mut Self::Conn, id: AttributeId, value: &[u8]) -> Result<(), TncError> {
        conn.set_attribute(id, value)
    }

    fn queue_retry(
        imv: u16,
        connection: ConnectionId,
        reason: RetryReason,
    ) -> Result<(), TncError> {
        if reason.is_imc_reason() {
            return Err(TncError::InvalidParameter("IMV retry reasons are 4-8"));
        }
        queue(Pending::Retry {
            imv: ImvId::new(imv),
            connection,
            reason,
        })
    }

    fn bind_extra(name: &str) -> Option<*mut c_void> {
        match name {
            "TNC_TNCS_ProvideRecommendation" => Some(provide_recommendation as *mut c_void),
            // strongSwan's IMVs ask for the misspelled TNCC name.
            "TNC_TNCS_ReserveAdditionalIMVID" | "TNC_TNCC_ReserveAdditionalIMVID" => {
                Some(cffi::reserve_function::<Self>())
            }
            _ => None,
        }
    }
}

unsafe extern "C" fn provide_recommendation(
    id: TncUInt32,
    connection: TncUInt32,
    recommendation: TncUInt32,
    evaluation: TncUInt32,
) -> TncResult {
    cffi::side_callback::<Tncs>(|t| {
        let recommendation = ActionRecommendation::try_from(cffi::wide(recommendation))?;
        let evaluation = EvaluationResult::try_from(cffi::wide(evaluation))?;
        match t {
            cffi::Target::Conn(c) => {
                cffi::check_call(&c.inner, id, connection)?;
                c.provide_recommendation(recommendation, evaluation);
                Ok(())
            }
            cffi::Target::Init(_) => Err(TncError::IllegalOperation(
                "no connection during Initialize",
            )),
            cffi::Target::Outside => queue(Pending::Recommendation {
                imv: ImvId::new(cffi::id_of(id)?),
                connection: cffi::connection_of(connection)?,
                recommendation,
                evaluation,
            }),
        }
    })
}
