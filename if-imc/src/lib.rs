#![doc = include_str!("../README.md")]

mod broker;
#[cfg(feature = "ffi")]
pub mod ffi;
#[cfg(feature = "ffi")]
mod ffi_export;
#[cfg(feature = "ffi")]
mod ffi_host;
#[cfg(feature = "ffi")]
mod ffi_plugin;
mod imc;
#[cfg(feature = "tokio")]
pub mod tokio;

pub use broker::{
    Broker, BrokerConfig, BrokerError, Connection, ConnectionConfig, Decision, Event,
};
pub use imc::{Imc, ImcConnection, ImcInit, ImcMessage, ImcSendOptions};
pub use tnc_if::{
    AttributeId, ConnectionId, ConnectionState, ImcId, ImvId, MessageType, RetryReason, TncError,
};
