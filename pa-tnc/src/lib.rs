#![doc = include_str!("../README.md")]

mod attr;
mod config;
mod message;
mod receive;
mod registry;

pub use attr::PaAttribute;
pub use attr::error::{ErrorInfo, PaTncError};
pub use attr::ietf::{
    AttributeRequest, DateTime20, FactoryDefaultPasswordEnabled, ForwardingEnabled, IetfAttribute,
    InstalledPackages, NumericVersion, OperationalStatus, PaAssessmentResult, PortFilter,
    PortFilterEntry, ProductInformation, RemediationInstructions, RemediationParameters,
    StringVersion,
};
pub use config::Limits;
pub use message::{Attribute, MESSAGE_HEADER_LEN, PA_TNC_VERSION, PaTncMessage};
pub use nea_wire::{PaType, VendorId};
pub use receive::{
    DecodeErrorOrUnsupported, Disposition, error_reply, is_known, message_header, receive,
    value_error_reply,
};
pub use registry::{
    AttributeType, ErrorCode, ItaAttributeType, PaSubtype, RemediationType, TcgAttributeType,
    TcgPaSubtype, attribute_type_name,
};

/// TCG IF-M Segmentation: contract, envelopes, segmenter and reassembler.
pub mod segmentation {
    pub use crate::attr::segmentation::*;
}
