#![doc = include_str!("../README.md")]

mod broker;
#[cfg(feature = "ffi")]
pub mod ffi;
#[cfg(feature = "ffi")]
mod ffi_export;
mod imv;
#[cfg(feature = "tokio")]
pub mod tokio;

pub use broker::{
    Broker, BrokerConfig, BrokerError, Connection, ConnectionConfig, Event, Outcome, Verdict,
};
pub use imv::{Imv, ImvConnection, ImvInit, ImvMessage, ImvSendOptions};
pub use tnc_if::{
    ActionRecommendation, ArIdentity, AttributeId, ConnectionId, ConnectionState, EvaluationResult,
    ImcId, ImvId, MessageType, RecommendationPolicy, RetryReason, TncError,
};
