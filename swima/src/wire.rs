//! The SWIMA attributes of RFC 8412 §5, one file per family, decode and encode side by side.

use nea_wire::{DecodeError, VendorId};
use pa_tnc::{Attribute, AttributeType, PaAttribute};

pub(crate) mod events;
pub(crate) mod inventory;
pub(crate) mod record;
pub(crate) mod request;
pub(crate) mod status;

pub(crate) use request::SwimaRequest;

/// Any SWIMA attribute (RFC 8412 §5.2), decoded from a PA-TNC [`Attribute`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SwimaAttribute {
    /// 13 SWIMA Request.
    Request(SwimaRequest),
    /// 14 Software Identifier Inventory.
    SoftwareIdentifierInventory(inventory::SoftwareIdentifierInventory),
    /// 15 Software Identifier Events.
    SoftwareIdentifierEvents(events::SoftwareIdentifierEvents),
    /// 16 Software Inventory.
    SoftwareInventory(inventory::SoftwareInventory),
    /// 17 Software Events.
    SoftwareEvents(events::SoftwareEvents),
    /// 18 Subscription Status Request.
    SubscriptionStatusRequest(status::SubscriptionStatusRequest),
    /// 19 Subscription Status Response.
    SubscriptionStatusResponse(status::SubscriptionStatusResponse),
    /// 20 Source Metadata Request.
    SourceMetadataRequest(status::SourceMetadataRequest),
    /// 21 Source Metadata Response.
    SourceMetadataResponse(status::SourceMetadataResponse),
}

impl SwimaAttribute {
    /// Whether vendor/type name a SWIMA attribute (IETF types 13–21).
    pub fn is_swima(vendor: VendorId, kind: u32) -> bool {
        vendor == VendorId::IETF
            && (AttributeType::SWIMA_REQUEST.0..=AttributeType::SOURCE_METADATA_RESPONSE.0)
                .contains(&kind)
    }

    /// Decodes a SWIMA attribute; `None` if `a` is not one (PA-TNC Error included: see
    /// [`crate::SwimaErrorInfo`]).
    pub fn decode(a: &Attribute) -> Option<Result<Self, DecodeError>> {
        Self::decode_value(a.vendor, a.kind, a.value.clone(), a.value_offset)
    }

    /// Decodes the value of a SWIMA attribute of type `kind`; `None` for other types.
    pub fn decode_value(
        vendor: VendorId,
        kind: u32,
        value: bytes::Bytes,
        base: usize,
    ) -> Option<Result<Self, DecodeError>> {
        if vendor != VendorId::IETF {
            return None;
        }
        Some(match AttributeType(kind) {
            AttributeType::SWIMA_REQUEST => {
                SwimaRequest::decode_value(value, base).map(Self::Request)
            }
            AttributeType::SOFTWARE_IDENTIFIER_INVENTORY => {
                PaAttribute::decode_value(value, base).map(Self::SoftwareIdentifierInventory)
            }
            AttributeType::SOFTWARE_IDENTIFIER_EVENTS => {
                PaAttribute::decode_value(value, base).map(Self::SoftwareIdentifierEvents)
            }
            AttributeType::SOFTWARE_INVENTORY => {
                PaAttribute::decode_value(value, base).map(Self::SoftwareInventory)
            }
            AttributeType::SOFTWARE_EVENTS => {
                PaAttribute::decode_value(value, base).map(Self::SoftwareEvents)
            }
            AttributeType::SUBSCRIPTION_STATUS_REQUEST => {
                PaAttribute::decode_value(value, base).map(Self::SubscriptionStatusRequest)
            }
            AttributeType::SUBSCRIPTION_STATUS_RESPONSE => {
                PaAttribute::decode_value(value, base).map(Self::SubscriptionStatusResponse)
            }
            AttributeType::SOURCE_METADATA_REQUEST => {
                PaAttribute::decode_value(value, base).map(Self::SourceMetadataRequest)
            }
            AttributeType::SOURCE_METADATA_RESPONSE => {
                PaAttribute::decode_value(value, base).map(Self::SourceMetadataResponse)
            }
            _ => return None,
        })
    }

    /// The attribute ready to put in a PA-TNC message.
    pub fn to_attribute(&self) -> Attribute {
        match self {
            Self::Request(v) => v.to_attribute(),
            Self::SoftwareIdentifierInventory(v) => v.to_attribute(),
            Self::SoftwareIdentifierEvents(v) => v.to_attribute(),
            Self::SoftwareInventory(v) => v.to_attribute(),
            Self::SoftwareEvents(v) => v.to_attribute(),
            Self::SubscriptionStatusRequest(v) => v.to_attribute(),
            Self::SubscriptionStatusResponse(v) => v.to_attribute(),
            Self::SourceMetadataRequest(v) => v.to_attribute(),
            Self::SourceMetadataResponse(v) => v.to_attribute(),
        }
    }

    /// Exact value size.
    pub fn value_len(&self) -> usize {
        match self {
            Self::Request(v) => v.value_len(),
            Self::SoftwareIdentifierInventory(v) => v.value_len(),
            Self::SoftwareIdentifierEvents(v) => v.value_len(),
            Self::SoftwareInventory(v) => v.value_len(),
            Self::SoftwareEvents(v) => v.value_len(),
            Self::SubscriptionStatusRequest(v) => v.value_len(),
            Self::SubscriptionStatusResponse(v) => v.value_len(),
            Self::SourceMetadataRequest(v) => v.value_len(),
            Self::SourceMetadataResponse(v) => v.value_len(),
        }
    }
}
