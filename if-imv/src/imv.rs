//! The `Imv` trait (a posture verifier) and the handles the broker lends it.

use bytes::Bytes;
use pb_tnc::RemediationParameters;
use tnc_if::core::PluginHandle;
use tnc_if::{
    ActionRecommendation, ArIdentity, AttributeId, ConnectionId, ConnectionState, EvaluationResult,
    ImcId, ImvId, MessageType, ReceivedMessage, RetryReason, SendOptions, TncError,
};

/// A message delivered to an IMV: from IMC `source` to IMV `destination`.
pub type ImvMessage = ReceivedMessage<ImcId, ImvId>;

/// How an IMV sends (the long form): its own or an additional ID as the source, an IMC as
/// the destination.
pub type ImvSendOptions = SendOptions<ImvId, ImcId>;

/// A posture verifier (IF-IMV 1.4), written in Rust or wrapping a C plugin.
///
/// Call order: `initialize` once; per connection `notify_connection_change(Create)` (the AR
/// identities are readable now), `(Handshake)`, for each client batch `receive_message` per
/// message then `batch_ending`, `solicit_recommendation` if it has not recommended when the
/// server must decide, the decision (`AccessAllowed`/`AccessIsolated`/`AccessNone`), and
/// `Delete`; `terminate` at the end. A verifier sends only inside `receive_message`,
/// `batch_ending` and `begin_handshake`, and may recommend at any time through
/// [`ImvConnection::provide_recommendation`].
///
/// Returning [`TncError::Fatal`] makes the broker terminate the verifier; it then counts as
/// giving no recommendation.
pub trait Imv: Send {
    /// `TNC_IMV_Initialize` (+ `ProvideBindFunction`): register message types here.
    fn initialize(&mut self, init: &mut ImvInit<'_>) -> Result<(), TncError>;

    /// `TNC_IMV_NotifyConnectionChange`.
    fn notify_connection_change(
        &mut self,
        conn: &mut ImvConnection<'_>,
        state: ConnectionState,
    ) -> Result<(), TncError> {
        let _ = (conn, state);
        Ok(())
    }

    /// A handshake the server starts (a server-initiated retry, profile §2.2.4): the verifier
    /// may send its first requests here (the TNCS-first handshake of the TCG Java binding; no
    /// C symbol exists, so wrapped C plugins ignore it).
    fn begin_handshake(&mut self, conn: &mut ImvConnection<'_>) -> Result<(), TncError> {
        let _ = conn;
        Ok(())
    }

    /// `TNC_IMV_ReceiveMessageLong`.
    fn receive_message(
        &mut self,
        conn: &mut ImvConnection<'_>,
        message: &ImvMessage,
    ) -> Result<(), TncError> {
        let _ = (conn, message);
        Ok(())
    }

    /// `TNC_IMV_BatchEnding`.
    fn batch_ending(&mut self, conn: &mut ImvConnection<'_>) -> Result<(), TncError> {
        let _ = conn;
        Ok(())
    }

    /// `TNC_IMV_SolicitRecommendation`: recommend now (through
    /// [`ImvConnection::provide_recommendation`]); returning without one counts as
    /// NO_RECOMMENDATION / DONT_KNOW.
    fn solicit_recommendation(&mut self, conn: &mut ImvConnection<'_>) -> Result<(), TncError>;

    /// An attribute the broker asks of the verifier.
    fn get_attribute(&mut self, id: AttributeId) -> Result<Bytes, TncError> {
        let _ = id;
        Err(TncError::InvalidParameter("attribute not supported"))
    }

    /// An attribute the broker sets on the verifier.
    fn set_attribute(&mut self, id: AttributeId, value: &[u8]) -> Result<(), TncError> {
        let _ = (id, value);
        Err(TncError::InvalidParameter("attribute not supported"))
    }

    /// `TNC_IMV_Terminate`.
    fn terminate(&mut self) -> Result<(), TncError> {
        Ok(())
    }
}

/// What an IMV can do while it initializes.
#[derive(Debug)]
pub struct ImvInit<'a> {
    pub(crate) id: ImvId,
    pub(crate) entry: &'a mut tnc_if::core::PluginEntry,
    pub(crate) ids: &'a mut tnc_if::IdAllocator,
}

impl ImvInit<'_> {
    /// The ID the broker gave this verifier.
    pub fn id(&self) -> ImvId {
        self.id
    }

    /// The negotiated interface version (always 1: IF-IMV 1.x).
    pub fn version(&self) -> u32 {
        tnc_if::INTERFACE_VERSION
    }

    /// `TNC_TNCS_ReportMessageTypes[Long]`.
    pub fn report_message_types(&mut self, types: &[MessageType]) {
        self.entry.report_types(types);
    }

    /// `TNC_TNCS_ReserveAdditionalIMVID`.
    pub fn reserve_additional_id(&mut self) -> Result<ImvId, TncError> {
        self.entry.reserve_id(self.ids).map(ImvId::new)
    }
}

/// What one verifier said on one connection in the current handshake.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ImvState {
    pub(crate) recommendation: Option<(ActionRecommendation, EvaluationResult)>,
    pub(crate) reason: Option<Bytes>,
    pub(crate) reason_language: Option<Bytes>,
    pub(crate) remediation: Vec<RemediationParameters>,
}

/// A verifier's view of one connection while the broker calls it.
#[derive(Debug)]
pub struct ImvConnection<'a> {
    pub(crate) inner: PluginHandle<'a>,
    pub(crate) verdict: &'a mut ImvState,
}

impl ImvConnection<'_> {
    /// The connection ID.
    pub fn id(&self) -> ConnectionId {
        self.inner.conn.id
    }

    /// This verifier's primary ID.
    pub fn imv_id(&self) -> ImvId {
        ImvId::new(self.inner.entry.primary)
    }

    /// The connection state last notified.
    pub fn state(&self) -> ConnectionState {
        self.inner.conn.state
    }

    /// `TNC_TNCS_SendMessage`: to any IMC that takes type `t`.
    pub fn send(&mut self, t: MessageType, body: Bytes) -> Result<(), TncError> {
        self.inner.send(false, None, 0xffff, t, body)
    }

    /// `TNC_TNCS_SendMessageLong`.
    pub fn send_long(
        &mut self,
        options: ImvSendOptions,
        t: MessageType,
        body: Bytes,
    ) -> Result<(), TncError> {
        self.inner.send(
            options.exclusive,
            options.source.map(ImvId::get),
            options.destination.get(),
            t,
            body,
        )
    }

    /// `TNC_TNCS_ProvideRecommendation`: allowed at any time; the last one of the handshake
    /// counts.
    pub fn provide_recommendation(
        &mut self,
        recommendation: ActionRecommendation,
        evaluation: EvaluationResult,
    ) {
        self.verdict.recommendation = Some((recommendation, evaluation));
    }

    /// `TNC_TNCS_RequestHandshakeRetry` (reasons 4–8; PT-TLS only: a half-duplex transport
    /// answers `CantRetry`).
    pub fn request_retry(&mut self, reason: RetryReason) -> Result<(), TncError> {
        self.inner.request_retry(reason)
    }

    /// `TNC_TNCS_GetAttribute`.
    pub fn get_attribute(&self, id: AttributeId) -> Result<Bytes, TncError> {
        self.inner.get_attribute(id)
    }

    /// `TNC_TNCS_SetAttribute`: `REASON_STRING` (UTF-8, no NUL) and `REASON_LANGUAGE` (a
    /// language tag) for the endpoint's user; sent in the RESULT batch as a PB-Reason-String.
    pub fn set_attribute(&mut self, id: AttributeId, value: &[u8]) -> Result<(), TncError> {
        let value = value.strip_suffix(b"\0").unwrap_or(value);
        if core::str::from_utf8(value).is_err() || value.contains(&0) {
            return Err(TncError::InvalidParameter("not UTF-8 text without NUL"));
        }
        match id {
            AttributeId::REASON_STRING => {
                if value.is_empty() {
                    return Err(TncError::InvalidParameter("empty reason string"));
                }
                self.verdict.reason = Some(Bytes::copy_from_slice(value));
            }
            AttributeId::REASON_LANGUAGE => {
                if value.len() > 255 {
                    return Err(TncError::InvalidParameter("language tag over 255 bytes"));
                }
                self.verdict.reason_language = Some(Bytes::copy_from_slice(value));
            }
            _ => {
                return Err(TncError::InvalidParameter(
                    "only REASON_STRING and REASON_LANGUAGE can be set",
                ));
            }
        }
        Ok(())
    }

    /// A reason string for the endpoint's user in `language` (the same as setting both
    /// attributes).
    pub fn set_reason(&mut self, reason: &str, language: &str) -> Result<(), TncError> {
        self.set_attribute(AttributeId::REASON_STRING, reason.as_bytes())?;
        self.set_attribute(AttributeId::REASON_LANGUAGE, language.as_bytes())
    }

    /// Remediation instructions sent in the RESULT batch (PB-Remediation-Parameters).
    pub fn add_remediation(&mut self, remediation: RemediationParameters) {
        self.verdict.remediation.push(remediation);
    }

    /// The client's preferred language (its PB-Language-Preference), if it sent one: answer
    /// reason strings in it.
    pub fn preferred_language(&self) -> Option<&str> {
        self.inner.conn.attrs.preferred_language.as_deref()
    }

    /// The endpoint's authenticated identities (AR identities); the first is its identifier.
    pub fn ar_identities(&self) -> &[ArIdentity] {
        &self.inner.conn.attrs.ar_identities
    }

    /// The largest body [`ImvConnection::send`] accepts.
    pub fn max_message_size(&self) -> usize {
        self.inner.conn.max_body(self.inner.config)
    }

    /// A PA-TNC Message Identifier unique on this connection.
    pub fn next_message_id(&mut self) -> u32 {
        self.inner.conn.next_message_id()
    }

    /// `TNC_TNCS_ReportMessageTypes` outside `initialize`.
    pub fn report_message_types(&mut self, types: &[MessageType]) {
        self.inner.report_message_types(types);
    }

    /// `TNC_TNCS_ReserveAdditionalIMVID` outside `initialize`.
    pub fn reserve_additional_id(&mut self) -> Result<ImvId, TncError> {
        self.inner.reserve_additional_id().map(ImvId::new)
    }
}
