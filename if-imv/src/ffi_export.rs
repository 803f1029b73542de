//! Exporting a Rust verifier as a C plugin: what [`crate::export_imv!`] expands to calls into
//! [`ExportedImv`] (if-imc's shared export runtime with the IMV side). A recommendation,
//! reason string or reason language the verifier gives during a call goes to the host's
//! `ProvideRecommendation` / `SetAttribute` when the call returns.
#![allow(unsafe_code)]

use if_imc::ffi::{self as cffi, CallParts, ExportSide, Exported, HostFns, TncResult, TncUInt32};
use pb_tnc::Side;
use tnc_if::core::{PluginEntry, PluginHandle, SendWindow};
use tnc_if::{
    ActionRecommendation, AttributeId, ConnectionId, ConnectionState, EvaluationResult,
    IdAllocator, ImcId, ImvId, MessageType, TncError,
};

use crate::imv::ImvState;
use crate::{Imv, ImvConnection, ImvInit};

/// A verifier's say on one connection (what it recommended, its reason string).
#[doc(hidden)]
#[derive(Debug, Clone, Default)]
pub struct Said(ImvState);

/// The IMV side of the export runtime.
#[doc(hidden)]
pub struct ImvSide;

impl ExportSide for ImvSide {
    type Plugin = dyn Imv;
    type Extra = Said;
    const PREFIX: &'static str = "TNC_TNCS_";
    const SIDE: Side = Side::Server;
    const RESERVE: &'static str = "ReserveAdditionalIMVID";

    fn initialize(
        plugin: &mut Self::Plugin,
        id: u16,
        entry: &mut PluginEntry,
        ids: &mut IdAllocator,
    ) -> Result<(), TncError> {
        plugin.initialize(&mut ImvInit {
            id: ImvId::new(id),
            entry,
            ids,
        })
    }

    fn terminate(plugin: &mut Self::Plugin) -> Result<(), TncError> {
        plugin.terminate()
    }

    fn after_call(host: &HostFns, id: TncUInt32, conn: ConnectionId, before: &Said, after: &Said) {
        let (before, after) = (&before.0, &after.0);
        if after.reason != before.reason
            && let Some(reason) = &after.reason
        {
            let _ = host.set_attribute(id, conn, AttributeId::REASON_STRING, reason);
        }
        if after.reason_language != before.reason_language
            && let Some(lang) = &after.reason_language
        {
            let _ = host.set_attribute(id, conn, AttributeId::REASON_LANGUAGE, lang);
        }
        if after.recommendation != before.recommendation
            && let (Some((rec, eval)), Some(p)) =
                (after.recommendation, host.provide_recommendation)
        {
            let (rec, eval) = (TncUInt32::from(rec.code()), TncUInt32::from(eval.code()));
            // SAFETY: the host's ProvideRecommendation.
            let _ = cffi::check(unsafe { p(id, TncUInt32::from(conn.0), rec, eval) });
        }
    }
}

/// The exported-IMV runtime behind [`crate::export_imv!`].
#[doc(hidden)]
#[derive(Default)]
pub struct ExportedImv(Exported<ImvSide>);

impl std::ops::Deref for ExportedImv {
    type Target = Exported<ImvSide>;

    fn deref(&self) -> &Exported<ImvSide> {
        &self.0
    }
}

impl ExportedImv {
    /// Not initialized.
    pub const fn new() -> Self {
        Self(Exported::new())
    }

    fn conn_call(
        &self,
        id: TncUInt32,
        conn: TncUInt32,
        window: SendWindow,
        f: impl FnOnce(&mut dyn Imv, &mut ImvConnection<'_>, &[(u16, u16)]) -> Result<(), TncError>,
    ) -> TncResult {
        self.call(id, conn, |p: CallParts<'_, ImvSide>| {
            let id_map = p.id_map;
            f(
                p.plugin,
                &mut ImvConnection {
                    inner: PluginHandle {
                        conn: p.conn,
                        entry: p.entry,
                        ids: p.ids,
                        config: p.config,
                        side: Side::Server,
                        window,
                    },
                    verdict: &mut p.extra.0,
                },
                id_map,
            )
        })
    }

    /// `TNC_IMV_NotifyConnectionChange` (HANDSHAKE clears the verdict, DELETE forgets the
    /// connection).
    pub fn notify(&self, id: TncUInt32, conn: TncUInt32, state: TncUInt32) -> TncResult {
        let r = ConnectionState::try_from(cffi::wide(state));
        let Ok(state) = r else {
            return cffi::result_code(r.map(|_| ()));
        };
        let code = self.conn_call(id, conn, SendWindow::Closed, |p, c, _| {
            if state == ConnectionState::Handshake {
                *c.verdict = ImvState::default();
            }
            c.inner.conn.state = state;
            p.notify_connection_change(c, state)
        });
        if state == ConnectionState::Delete {
            self.forget(conn);
        }
        code
    }

    /// `TNC_IMV_SolicitRecommendation`: a verifier that still says nothing gives
    /// NO_RECOMMENDATION / DONT_KNOW (the host must get a recommendation).
    pub fn solicit(&self, id: TncUInt32, conn: TncUInt32) -> TncResult {
        self.conn_call(id, conn, SendWindow::Closed, |p, c, _| {
            let r = p.solicit_recommendation(c);
            if c.verdict.recommendation.is_none() {
                c.provide_recommendation(
                    ActionRecommendation::NoRecommendation,
                    EvaluationResult::DontKnow,
                );
            }
            r
        })
    }

    /// `TNC_IMV_ReceiveMessageLong` (and the short form, with ANY IDs).
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
            cffi::received(
                flags,
                message,
                len,
                t,
                source,
                destination,
                ImcId::new,
                ImvId::new,
            )
        } {
            Ok(m) => m,
            Err(e) => return cffi::result_code(Err(e)),
        };
        self.conn_call(id, conn, SendWindow::Open, |p, c, id_map| {
            let mut m = m;
            m.destination = ImvId::new(cffi::map_id(id_map, m.destination.get(), true));
            p.receive_message(c, &m)
        })
    }

    /// `TNC_IMV_BatchEnding`.
    pub fn batch_ending(&self, id: TncUInt32, conn: TncUInt32) -> TncResult {
        self.conn_call(id, conn, SendWindow::Open, |p, c, _| p.batch_ending(c))
    }
}

/// Exports a Rust [`Imv`] as a C IF-IMV 1.4 plugin: in a `cdylib` crate,
/// `export_imv!(MyImv::new())` (run at `TNC_IMV_Initialize`) exports `TNC_IMV_Initialize`,
/// `NotifyConnectionChange`, `ReceiveMessage`, `ReceiveMessageLong`,
/// `SolicitRecommendation`, `BatchEnding`, `Terminate` and `ProvideBindFunction` with the
/// exact C signatures.
#[macro_export]
macro_rules! export_imv {
    (try $make:expr) => {
        fn __tnc_make(
        ) -> ::std::result::Result<::std::boxed::Box<dyn $crate::Imv>, $crate::TncError> {
            $make.map(|p| ::std::boxed::Box::new(p) as ::std::boxed::Box<dyn $crate::Imv>)
        }
        $crate::export_imv!(@exports);
    };
    ($make:expr) => {
        fn __tnc_make(
        ) -> ::std::result::Result<::std::boxed::Box<dyn $crate::Imv>, $crate::TncError> {
            ::std::result::Result::Ok(::std::boxed::Box::new($make))
        }
        $crate::export_imv!(@exports);
    };
    (@exports) => {
        $crate::ffi::__tnc_plugin_exports!(
            $crate::ffi::ExportedImv,
            TNC_IMV_Initialize,
            TNC_IMV_ProvideBindFunction,
            TNC_IMV_NotifyConnectionChange,
            TNC_IMV_SolicitRecommendation => solicit,
            TNC_IMV_ReceiveMessage,
            TNC_IMV_ReceiveMessageLong,
            TNC_IMV_BatchEnding,
            TNC_IMV_Terminate
        );
    };
}
