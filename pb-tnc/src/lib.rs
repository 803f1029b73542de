#![doc = include_str!("../README.md")]

mod config;
mod error;
pub mod registry;
mod session;
pub mod wire;

pub use config::Config;
pub use error::{DecodeError, DecodeErrorKind, Error, pb_error_for};
pub use registry::{
    AccessRecommendation, BatchType, ErrorCode, MessageType, PaSubtype, PbAssessmentResult,
    RemediationType,
};
pub use session::{CloseReason, Event, Session, State};
pub use wire::{
    Batch, BatchHeader, ErrorParameters, Experimental, LanguagePreference, Message, PbError, PbPa,
    PdpAddress, PdpReferral, ReasonString, RemediationParameters, Side, UnknownMessage,
};
