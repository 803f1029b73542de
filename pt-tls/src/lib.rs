#![doc = include_str!("../README.md")]

mod config;
mod error;
mod framer;
mod registry;
mod sasl;
mod session;
#[cfg(feature = "tokio")]
pub mod tokio;
pub mod wire;

pub use config::{Config, DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_MAX_MESSAGE_LEN, SaslPolicy};
pub use error::{DecodeError, DecodeErrorKind, Error, error_code_for};
pub use framer::Framer;
pub use registry::{ErrorCode, MessageType, SaslResultCode};
pub use sasl::{
    CertificateCheck, ClientConversation, ClientMechanism, CredentialCheck, ExternalClient,
    ExternalServer, PlainClient, PlainServer, SaslAbort, SaslContext, ServerConversation,
    ServerMechanism, ServerStep,
};
pub use session::{
    CloseReason, Event, MAX_SASL_ROUNDS, MAX_SASL_RUNS, PT_TLS_VERSION, Session, Side, TlsRole,
};
pub use wire::{Body, Message, MessageHeader, PtTlsError};
