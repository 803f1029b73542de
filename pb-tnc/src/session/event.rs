//! What the session reports upwards.

use crate::registry::{AccessRecommendation, BatchType, PbAssessmentResult};
use crate::wire::{
    LanguagePreference, PbError, PbPa, PdpReferral, ReasonString, RemediationParameters,
    UnknownMessage,
};

/// Something the driver must act on, taken out with [`crate::Session::poll_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The batch being processed starts a new handshake (assessment exchange): the first
    /// batch of the session, or a CRETRY/SRETRY received in Decided. Reported before the
    /// batch's messages, so the driver can tell its collectors/validators first (TNC
    /// connection state HANDSHAKE). The round-trip count of [`crate::Config::max_round_trips`]
    /// starts again here.
    HandshakeStarted {
        /// The batch type that started it.
        batch_type: BatchType,
    },
    /// A retry asked for with [`crate::Session::retry`] while a handshake was running is due
    /// now that the session reached Decided: call [`crate::Session::retry`] again (after
    /// gathering the messages the retry batch should carry).
    RetryDue,
    /// A PB-PA message for the collector(s) (client) or validator(s) (server) subscribed to
    /// its vendor/subtype, or only the one named by its ID when `exclusive` is set.
    Pa(PbPa),
    /// PB-Assessment-Result of a RESULT batch (client only).
    AssessmentResult(PbAssessmentResult),
    /// PB-Access-Recommendation of a RESULT batch (client only).
    AccessRecommendation(AccessRecommendation),
    /// PB-Remediation-Parameters (client only).
    RemediationParameters(RemediationParameters),
    /// PB-Reason-String (client only).
    ReasonString(ReasonString),
    /// PB-Language-Preference (the last one of the batch).
    LanguagePreference(LanguagePreference),
    /// TCG PB-PDP-Referral (client only).
    PdpReferral(PdpReferral),
    /// A message of a vendor/type this crate does not know, without NOSKIP (a receiver may
    /// skip it, RFC 5793 §4.2; the driver may use it, e.g. strongSwan's PB-Mutual-Capability).
    Unknown(UnknownMessage),
    /// A PB-Error the peer sent (fatal ones are followed by [`Event::Closed`]).
    PeerError(PbError),
    /// The batch's messages have all been delivered; if [`crate::Session::is_my_turn`] the
    /// driver now gathers replies (collectors/validators) and ends its turn.
    EndOfBatch {
        /// The type of the batch just processed.
        batch_type: BatchType,
    },
    /// The session reached End; nothing more is sent or received.
    Closed {
        /// Why.
        reason: CloseReason,
    },
}

/// Why a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The peer sent a CLOSE batch without a fatal PB-Error.
    PeerClosed,
    /// The peer sent this fatal PB-Error; nothing is sent in reply (RFC 5793 §4.9).
    PeerError(PbError),
    /// The peer broke RFC 5793; this fatal PB-Error was sent in a CLOSE batch.
    ProtocolViolation(PbError),
    /// A configured limit (batch size, message size, round trips) was exceeded; this fatal
    /// PB-Error (Local Error) was sent in a CLOSE batch.
    LimitExceeded(PbError),
    /// The local side called [`crate::Session::close`].
    LocalClose,
    /// The driver reported the end of the PT connection.
    TransportClosed,
}
