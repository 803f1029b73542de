#![doc = include_str!("../README.md")]

mod error;
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
