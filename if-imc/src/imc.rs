//! The `Imc` trait (a posture collector) and the handles the broker lends it.

use bytes::Bytes;
use tnc_if::core::PluginHandle;
use tnc_if::{
    AttributeId, ConnectionId, ConnectionState, ImcId, ImvId, MessageType, ReceivedMessage,
    RetryReason, SendOptions, TncError,
};

/// A message delivered to an IMC: from IMV `source` to IMC `destination`.
pub type ImcMessage = ReceivedMessage<ImvId, ImcId>;

/// How an IMC sends (the long form): its own or an additional ID as the source, an IMV as
/// the destination.
pub type ImcSendOptions = SendOptions<ImcId, ImvId>;

/// A posture collector (IF-IMC 1.3), written in Rust or wrapping a C plugin.
///
/// The broker calls these methods in the order the interface prescribes: `initialize` once,
/// then per connection `notify_connection_change(Create)`, `(Handshake)`, `begin_handshake`,
/// for each received batch `receive_message` per message then `batch_ending`, the access
/// decision (`AccessAllowed`/`AccessIsolated`/`AccessNone`) and finally `Delete`;
/// `terminate` at the end. A collector sends only through the [`ImcConnection`] it is lent,
/// and only inside `begin_handshake`, `receive_message` and `batch_ending`; it never sees
/// PB-TNC.
///
/// Returning [`TncError::Fatal`] from any method makes the broker terminate the collector
/// (the others go on); other errors are logged and ignored.
pub trait Imc: Send {
    /// `TNC_IMC_Initialize` (+ `ProvideBindFunction`): the negotiated interface version is
    /// [`ImcInit::version`]; register message types here.
    fn initialize(&mut self, init: &mut ImcInit<'_>) -> Result<(), TncError>;

    /// `TNC_IMC_NotifyConnectionChange`.
    fn notify_connection_change(
        &mut self,
        conn: &mut ImcConnection<'_>,
        state: ConnectionState,
    ) -> Result<(), TncError> {
        let _ = (conn, state);
        Ok(())
    }

    /// `TNC_IMC_BeginHandshake`: send the first messages of a handshake.
    fn begin_handshake(&mut self, conn: &mut ImcConnection<'_>) -> Result<(), TncError>;

    /// `TNC_IMC_ReceiveMessageLong`: one message for this collector.
    fn receive_message(
        &mut self,
        conn: &mut ImcConnection<'_>,
        message: &ImcMessage,
    ) -> Result<(), TncError> {
        let _ = (conn, message);
        Ok(())
    }

    /// `TNC_IMC_BatchEnding`: the last chance to send in this batch.
    fn batch_ending(&mut self, conn: &mut ImcConnection<'_>) -> Result<(), TncError> {
        let _ = conn;
        Ok(())
    }

    /// An attribute the broker asks of the collector (e.g. `IMC_SPTS_TNCS1`).
    fn get_attribute(&mut self, id: AttributeId) -> Result<Bytes, TncError> {
        let _ = id;
        Err(TncError::InvalidParameter("attribute not supported"))
    }

    /// An attribute the broker sets on the collector.
    fn set_attribute(&mut self, id: AttributeId, value: &[u8]) -> Result<(), TncError> {
        let _ = (id, value);
        Err(TncError::InvalidParameter("attribute not supported"))
    }

    /// `TNC_IMC_Terminate`: release everything (a C host may unload the library next).
    fn terminate(&mut self) -> Result<(), TncError> {
        Ok(())
    }
}

/// What an IMC can do while it initializes.
#[derive(Debug)]
pub struct ImcInit<'a> {
    pub(crate) id: ImcId,
    pub(crate) entry: &'a mut tnc_if::core::PluginEntry,
    pub(crate) ids: &'a mut tnc_if::IdAllocator,
}

impl ImcInit<'_> {
    /// The ID the broker gave this collector.
    pub fn id(&self) -> ImcId {
        self.id
    }

    /// The negotiated interface version (always 1: IF-IMC 1.x).
    pub fn version(&self) -> u32 {
        tnc_if::INTERFACE_VERSION
    }

    /// `TNC_TNCC_ReportMessageTypes[Long]`: the types this collector receives (replaces any
    /// earlier list; wildcards allowed).
    pub fn report_message_types(&mut self, types: &[MessageType]) {
        self.entry.report_types(types);
    }

    /// `TNC_TNCC_ReserveAdditionalIMCID`.
    pub fn reserve_additional_id(&mut self) -> Result<ImcId, TncError> {
        self.entry.reserve_id(self.ids).map(ImcId::new)
    }
}

/// A collector's view of one connection while the broker calls it.
#[derive(Debug)]
pub struct ImcConnection<'a> {
    pub(crate) inner: PluginHandle<'a>,
}

impl ImcConnection<'_> {
    /// The connection ID.
    pub fn id(&self) -> ConnectionId {
        self.inner.conn.id
    }

    /// This collector's primary ID.
    pub fn imc_id(&self) -> ImcId {
        ImcId::new(self.inner.entry.primary)
    }

    /// The connection state last notified.
    pub fn state(&self) -> ConnectionState {
        self.inner.conn.state
    }

    /// `TNC_TNCC_SendMessage`: to any IMV that takes type `t`, from the primary ID.
    /// Wildcard types, oversize bodies and sending outside a handshake call are refused and
    /// nothing is sent.
    pub fn send(&mut self, t: MessageType, body: Bytes) -> Result<(), TncError> {
        self.inner.send(false, None, 0xffff, t, body)
    }

    /// `TNC_TNCC_SendMessageLong`.
    pub fn send_long(
        &mut self,
        options: ImcSendOptions,
        t: MessageType,
        body: Bytes,
    ) -> Result<(), TncError> {
        self.inner.send(
            options.exclusive,
            options.source.map(ImcId::get),
            options.destination.get(),
            t,
            body,
        )
    }

    /// `TNC_TNCC_RequestHandshakeRetry` (reasons 0–3): sent now if an assessment was
    /// decided, else as soon as the running handshake ends.
    pub fn request_retry(&mut self, reason: RetryReason) -> Result<(), TncError> {
        self.inner.request_retry(reason)
    }

    /// `TNC_TNCC_GetAttribute`.
    pub fn get_attribute(&self, id: AttributeId) -> Result<Bytes, TncError> {
        self.inner.get_attribute(id)
    }

    /// `TNC_TNCC_SetAttribute`: the TNCC has no settable attributes.
    pub fn set_attribute(&mut self, id: AttributeId, value: &[u8]) -> Result<(), TncError> {
        let _ = (id, value);
        Err(TncError::InvalidParameter(
            "the TNC client has no settable attributes",
        ))
    }

    /// The preferred language the client announces (PB-Language-Preference), if any.
    pub fn preferred_language(&self) -> Option<&str> {
        self.inner.conn.attrs.preferred_language.as_deref()
    }

    /// The largest body [`ImcConnection::send`] accepts.
    pub fn max_message_size(&self) -> usize {
        self.inner.conn.max_body(self.inner.config)
    }

    /// A PA-TNC Message Identifier unique on this connection.
    pub fn next_message_id(&mut self) -> u32 {
        self.inner.conn.next_message_id()
    }

    /// `TNC_TNCC_ReportMessageTypes` outside `initialize`.
    pub fn report_message_types(&mut self, types: &[MessageType]) {
        self.inner.report_message_types(types);
    }

    /// `TNC_TNCC_ReserveAdditionalIMCID` outside `initialize`.
    pub fn reserve_additional_id(&mut self) -> Result<ImcId, TncError> {
        self.inner.reserve_additional_id().map(ImcId::new)
    }
}
