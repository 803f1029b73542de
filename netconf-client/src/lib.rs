#![doc = include_str!("../README.md")]

mod capability;
mod config;
mod error;
pub mod framing;
pub mod ietf_system;
mod session;
pub mod stream;
pub mod wire;
mod xml;

#[cfg(feature = "tokio")]
pub mod blocking;
#[cfg(feature = "ssh")]
pub mod ssh;
#[cfg(feature = "tls")]
pub mod tls;
#[cfg(feature = "tokio")]
pub mod tokio;

pub use capability::{Capabilities, Capability};
pub use config::{Config, Limits};
pub use error::{DecodeError, DecodeErrorKind, Error};
pub use session::{CloseReason, Event, Session};
pub use stream::{ReplyStream, StreamStep};
pub use wire::Message;
pub use wire::hello::Hello;
pub use wire::notification::Notification;
pub use wire::operation::{
    Commit, Datastore, DefaultOperation, EditConfig, EditContent, ErrorOption,
    EstablishSubscription, Filter, GetData, NmdaDatastore, Operation, TestOption, WithDefaults,
};
pub use wire::reply::{
    Data, ErrorInfo, ErrorSeverity, ErrorTag, ErrorType, ReplyContent, RpcError, RpcReply,
};
pub use xml::{DataReader, NS_BASE, NS_NOTIFICATION, XmlEvent};

/// Capability URI constants (RFC 6241 §8 and friends).
pub mod capabilities {
    pub use crate::capability::{
        BASE_1_0, BASE_1_1, CANDIDATE, CONFIRMED_COMMIT_1_1, INTERLEAVE, MONITORING_NS, NMDA_NS,
        NOTIFICATION, ROLLBACK_ON_ERROR, STARTUP, URL, VALIDATE_1_1, WITH_DEFAULTS,
        WRITABLE_RUNNING, XPATH,
    };
}
