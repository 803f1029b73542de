//! Numeric registries of RFC 5792 (and the values RFC 8412 and the TCG added to them), as
//! open newtypes: unknown values pass through, known ones print their RFC name.

use nea_wire::{VendorId, registry};

pub use nea_wire::PaSubtype;

registry! {
    /// PA-TNC Attribute Type (RFC 5792 §7.3, RFC 8412 §10.3), IETF namespace (vendor 0).
    AttributeType(u32) {
        /// Testing (§4.2).
        TESTING = 0 => "Testing",
        /// Attribute Request (§4.2.1).
        ATTRIBUTE_REQUEST = 1 => "Attribute Request",
        /// Product Information (§4.2.2).
        PRODUCT_INFORMATION = 2 => "Product Information",
        /// Numeric Version (§4.2.3).
        NUMERIC_VERSION = 3 => "Numeric Version",
        /// String Version (§4.2.4).
        STRING_VERSION = 4 => "String Version",
        /// Operational Status (§4.2.5).
        OPERATIONAL_STATUS = 5 => "Operational Status",
        /// Port Filter (§4.2.6).
        PORT_FILTER = 6 => "Port Filter",
        /// Installed Packages (§4.2.7).
        INSTALLED_PACKAGES = 7 => "Installed Packages",
        /// PA-TNC Error (§4.2.8).
        PA_TNC_ERROR = 8 => "PA-TNC Error",
        /// Assessment Result (§4.2.9).
        ASSESSMENT_RESULT = 9 => "Assessment Result",
        /// Remediation Instructions (§4.2.10).
        REMEDIATION_INSTRUCTIONS = 10 => "Remediation Instructions",
        /// Forwarding Enabled (§4.2.11).
        FORWARDING_ENABLED = 11 => "Forwarding Enabled",
        /// Factory Default Password Enabled (§4.2.12).
        FACTORY_DEFAULT_PASSWORD_ENABLED = 12 => "Factory Default Password Enabled",
        /// SWIMA Request (RFC 8412 §5.6).
        SWIMA_REQUEST = 13 => "SWIMA Request",
        /// Software Identifier Inventory (RFC 8412 §5.7).
        SOFTWARE_IDENTIFIER_INVENTORY = 14 => "Software Identifier Inventory",
        /// Software Identifier Events (RFC 8412 §5.8).
        SOFTWARE_IDENTIFIER_EVENTS = 15 => "Software Identifier Events",
        /// Software Inventory (RFC 8412 §5.9).
        SOFTWARE_INVENTORY = 16 => "Software Inventory",
        /// Software Events (RFC 8412 §5.10).
        SOFTWARE_EVENTS = 17 => "Software Events",
        /// Subscription Status Request (RFC 8412 §5.11).
        SUBSCRIPTION_STATUS_REQUEST = 18 => "Subscription Status Request",
        /// Subscription Status Response (RFC 8412 §5.12).
        SUBSCRIPTION_STATUS_RESPONSE = 19 => "Subscription Status Response",
        /// Source Metadata Request (RFC 8412 §5.13).
        SOURCE_METADATA_REQUEST = 20 => "Source Metadata Request",
        /// Source Metadata Response (RFC 8412 §5.14).
        SOURCE_METADATA_RESPONSE = 21 => "Source Metadata Response",
        /// Reserved, never sent (§4.1).
        RESERVED = 0xffff_ffff => "Reserved",
    }
}

registry! {
    /// TCG attribute types (vendor `0x005597`) of IF-M Segmentation.
    TcgAttributeType(u32) {
        /// Segmentation Contract Request.
        SEGMENTATION_CONTRACT_REQUEST = 0x21 => "Segmentation Contract Request",
        /// Segmentation Contract Response.
        SEGMENTATION_CONTRACT_RESPONSE = 0x22 => "Segmentation Contract Response",
        /// Segmentation Envelope.
        SEGMENTATION_ENVELOPE = 0x23 => "Segmentation Envelope",
        /// Next Segment.
        NEXT_SEGMENT = 0x24 => "Next Segment",
        /// Cancel Segment Exchange.
        CANCEL_SEGMENT = 0x25 => "Cancel Segment Exchange",
        /// Oversized Attribute.
        OVERSIZED_ATTRIBUTE = 0x26 => "Oversized Attribute",
        /// Contract Exemption.
        CONTRACT_EXEMPTION = 0x27 => "Contract Exemption",
    }
}

registry! {
    /// ITA-HSR attribute types (vendor `0x00902a`, strongSwan's libimcv), which deployed
    /// strongSwan peers send: Command (NOSKIP, the test IMC's `allow`/`isolate`/… text) and
    /// Device ID (the OS IMC's device identifier, text) appear in the captures under
    /// `tests/data`.
    ItaAttributeType(u32) {
        /// Command (text).
        COMMAND = 1 => "Command",
        /// Dummy (padding of a given size, for tests).
        DUMMY = 2 => "Dummy",
        /// Get Settings (the names of settings asked for).
        GET_SETTINGS = 3 => "Get Settings",
        /// Settings (name/value pairs).
        SETTINGS = 4 => "Settings",
        /// Start Angel.
        START_ANGEL = 5 => "Start Angel",
        /// Stop Angel.
        STOP_ANGEL = 6 => "Stop Angel",
        /// Echo.
        ECHO = 7 => "Echo",
        /// Device ID (text).
        DEVICE_ID = 8 => "Device ID",
    }
}

/// The name of attribute type `kind` in the namespace of `vendor`: IETF ([`AttributeType`]),
/// TCG ([`TcgAttributeType`]) and ITA ([`ItaAttributeType`]); `None` for other vendors and
/// unassigned types.
///
/// ```
/// use pa_tnc::{VendorId, attribute_type_name};
/// assert_eq!(attribute_type_name(VendorId::ITA, 8), Some("Device ID"));
/// assert_eq!(attribute_type_name(VendorId::IETF, 8), Some("PA-TNC Error"));
/// assert_eq!(attribute_type_name(VendorId::of::<9586>(), 8), None);
/// ```
pub const fn attribute_type_name(vendor: VendorId, kind: u32) -> Option<&'static str> {
    match vendor.get() {
        0 => AttributeType(kind).name(),
        0x005597 => TcgAttributeType(kind).name(),
        0x00902a => ItaAttributeType(kind).name(),
        _ => None,
    }
}

registry! {
    /// PA-TNC Error Code (RFC 5792 §7.4, RFC 8412 §10.4), IETF namespace.
    ErrorCode(u32) {
        /// Reserved.
        RESERVED = 0 => "Reserved",
        /// Invalid Parameter (§4.2.8.1).
        INVALID_PARAMETER = 1 => "Invalid Parameter",
        /// Version Not Supported (§4.2.8.2).
        VERSION_NOT_SUPPORTED = 2 => "Version Not Supported",
        /// Attribute Type Not Supported (§4.2.8.3).
        ATTRIBUTE_TYPE_NOT_SUPPORTED = 3 => "Attribute Type Not Supported",
        /// SWIMA_ERROR (RFC 8412 §5.15.1).
        SWIMA_ERROR = 4 => "SWIMA_ERROR",
        /// SWIMA_SUBSCRIPTION_DENIED_ERROR (RFC 8412 §5.15.1).
        SWIMA_SUBSCRIPTION_DENIED_ERROR = 5 => "SWIMA_SUBSCRIPTION_DENIED_ERROR",
        /// SWIMA_RESPONSE_TOO_LARGE_ERROR (RFC 8412 §5.15.2).
        SWIMA_RESPONSE_TOO_LARGE_ERROR = 6 => "SWIMA_RESPONSE_TOO_LARGE_ERROR",
        /// SWIMA_SUBSCRIPTION_FULFILLMENT_ERROR (RFC 8412 §5.15.3).
        SWIMA_SUBSCRIPTION_FULFILLMENT_ERROR = 7 => "SWIMA_SUBSCRIPTION_FULFILLMENT_ERROR",
        /// SWIMA_SUBSCRIPTION_ID_REUSE_ERROR (RFC 8412 §5.15.1).
        SWIMA_SUBSCRIPTION_ID_REUSE_ERROR = 8 => "SWIMA_SUBSCRIPTION_ID_REUSE_ERROR",
    }
}

registry! {
    /// PA subtypes of the TCG namespace (vendor `0x005597`).
    TcgPaSubtype(u32) {
        /// Platform Trust Services.
        PTS = 1 => "PTS",
        /// SCAP.
        SCAP = 2 => "SCAP",
        /// SWID.
        SWID = 3 => "SWID",
    }
}

registry! {
    /// PA-TNC Remediation Parameters Type (RFC 5792 §7.5), IETF namespace.
    RemediationType(u32) {
        /// Reserved.
        RESERVED = 0 => "Reserved",
        /// Remediation URI (§4.2.10.1).
        URI = 1 => "Remediation URI",
        /// Remediation String (§4.2.10.2).
        STRING = 2 => "Remediation String",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            format!("{:?}", AttributeType(16)),
            "AttributeType(Software Inventory)"
        );
        assert_eq!(format!("{:?}", AttributeType(99)), "AttributeType(99)");
        assert_eq!(ErrorCode::SWIMA_ERROR.name(), Some("SWIMA_ERROR"));
        assert_eq!(PaSubtype::SWIMA, PaSubtype(9));
        assert_eq!(TcgAttributeType::NEXT_SEGMENT.0, 0x24);
        assert_eq!(
            format!("{:?}", ItaAttributeType(1)),
            "ItaAttributeType(Command)"
        );
        assert_eq!(attribute_type_name(VendorId::ITA, 1), Some("Command"));
        assert_eq!(
            attribute_type_name(VendorId::TCG, 0x23),
            Some("Segmentation Envelope")
        );
        assert_eq!(attribute_type_name(VendorId::ITA, 99), None);
    }

    #[test]
    fn assessment_result_prints_names() {
        use crate::PaAssessmentResult as R;
        assert_eq!(
            format!("{:?}", R(1)),
            "PaAssessmentResult(non-compliant minor)"
        );
        assert_eq!(R::UNABLE_TO_DETERMINE.to_string(), "don't know");
        assert_eq!(R::ERROR.name(), Some("error"));
        assert_eq!(R(9).to_string(), "9");
    }
}
