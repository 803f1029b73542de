#![doc = include_str!("../README.md")]

mod collector;
mod config;
mod error;
#[cfg(feature = "fs")]
pub mod tags;
mod validator;
mod wire;

pub use error::{Error, SwimaErrorInfo};
pub use wire::SwimaAttribute;
pub use wire::events::{Event, Events, SoftwareEvents, SoftwareIdentifierEvents};
pub use wire::inventory::{
    FLAG_SUBSCRIPTION_FULFILLMENT, Inventory, SoftwareIdentifierInventory, SoftwareInventory,
};
pub use wire::record::{Action, DataModelType, Item, SoftwareId, SoftwareRecord};
pub use wire::request::SwimaRequest;
pub use wire::status::{
    SourceMetadata, SourceMetadataRequest, SourceMetadataResponse, SubscriptionStatusRequest,
    SubscriptionStatusResponse,
};

pub use collector::log::{LogState, LogStore, MemoryStore};
pub use collector::{Change, Collector, InventorySource, Peer, Recovery, SourceItem, Transmit};
pub use config::{CollectorConfig, ValidatorConfig};

#[cfg(feature = "fs")]
pub use collector::file_store::{FileStore, LoadReport};
pub use validator::{
    Mirror, MirrorChange, MirrorEntry, MirrorIter, MirrorKey, MirrorRecord, ResyncReason,
    Validator, ValidatorEvent, ValidatorState,
};
