#![doc = include_str!("../README.md")]

mod attribute;
pub mod core;
mod error;
mod identity;
mod ids;
mod message;
mod state;
#[cfg(feature = "tokio")]
pub mod tokio;

pub use attribute::{AttributeId, BrokerAttributes, TransportProtocol};
pub use error::{ResultCode, TncError};
pub use identity::{ArIdentity, AuthMethod, IdentityType, SubjectType};
pub use ids::{ConnectionId, IdAllocator, ImcId, ImvId};
pub use message::{MessageType, ReceivedMessage, SendOptions};
pub use state::{
    ActionRecommendation, ConnectionState, EvaluationResult, RecommendationPolicy, RetryReason,
    combine,
};

/// The interface version every IF-IMC 1.x / IF-IMV 1.x host and plugin negotiates
/// (`TNC_IFIMC_VERSION_1` = `TNC_IFIMV_VERSION_1` = 1).
pub const INTERFACE_VERSION: u32 = 1;
