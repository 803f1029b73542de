//! Numeric registries of RFC 5793 §6 (and the fixed value sets of §4.1, §4.6, §4.7) as
//! newtypes with constants whose `Debug` prints the RFC name, so unknown values pass through.

use core::fmt;

use nea_wire::registry;

pub use nea_wire::PaSubtype;

registry! {
    /// PB-TNC Message Type (RFC 5793 §4.3, §6.2), qualified by a vendor ID; the names are
    /// those of the IETF namespace (vendor 0).
    MessageType(u32) {
        /// PB-Experimental (§4.4).
        EXPERIMENTAL = 0 => "PB-Experimental",
        /// PB-PA (§4.5).
        PA = 1 => "PB-PA",
        /// PB-Assessment-Result (§4.6).
        ASSESSMENT_RESULT = 2 => "PB-Assessment-Result",
        /// PB-Access-Recommendation (§4.7).
        ACCESS_RECOMMENDATION = 3 => "PB-Access-Recommendation",
        /// PB-Remediation-Parameters (§4.8).
        REMEDIATION_PARAMETERS = 4 => "PB-Remediation-Parameters",
        /// PB-Error (§4.9).
        ERROR = 5 => "PB-Error",
        /// PB-Language-Preference (§4.10).
        LANGUAGE_PREFERENCE = 6 => "PB-Language-Preference",
        /// PB-Reason-String (§4.11).
        REASON_STRING = 7 => "PB-Reason-String",
        /// Reserved, never sent (§4.2).
        RESERVED = 0xffff_ffff => "reserved",
    }
}

impl MessageType {
    /// TCG PB-PDP-Referral, with vendor [`nea_wire::VendorId::TCG`].
    pub const TCG_PDP_REFERRAL: Self = Self(1);
}

registry! {
    /// PB-TNC Error Code (RFC 5793 §4.9.1, §6.5): 16 bits, qualified by a vendor ID.
    ErrorCode(u16) {
        /// Unexpected Batch Type (no parameters, always fatal).
        UNEXPECTED_BATCH_TYPE = 0 => "Unexpected Batch Type",
        /// Invalid Parameter (offset parameter).
        INVALID_PARAMETER = 1 => "Invalid Parameter",
        /// Local Error (no parameters, always fatal).
        LOCAL_ERROR = 2 => "Local Error",
        /// Unsupported Mandatory Message (offset parameter, always fatal).
        UNSUPPORTED_MANDATORY_MESSAGE = 3 => "Unsupported Mandatory Message",
        /// Version Not Supported (bad/max/min versions, always fatal).
        VERSION_NOT_SUPPORTED = 4 => "Version Not Supported",
    }
}

registry! {
    /// PB-Assessment-Result value (RFC 5793 §4.6): not a registry, only 0–4 are valid.
    PbAssessmentResult(u32) {
        /// Compliant.
        COMPLIANT = 0 => "compliant",
        /// Non-compliant minor.
        NON_COMPLIANT_MINOR = 1 => "non-compliant minor",
        /// Non-compliant major.
        NON_COMPLIANT_MAJOR = 2 => "non-compliant major",
        /// Error.
        ERROR = 3 => "error",
        /// Don't know.
        DONT_KNOW = 4 => "don't know",
    }
}

registry! {
    /// PB-Access-Recommendation code (RFC 5793 §4.7): only 1–3 are valid.
    AccessRecommendation(u16) {
        /// Access Allowed.
        ACCESS_ALLOWED = 1 => "Access Allowed",
        /// Access Denied.
        ACCESS_DENIED = 2 => "Access Denied",
        /// Quarantined.
        QUARANTINED = 3 => "Quarantined",
    }
}

registry! {
    /// PB-TNC Remediation Parameters Type (RFC 5793 §4.8.1, §6.4), qualified by a vendor ID.
    RemediationType(u32) {
        /// Remediation-URI.
        URI = 1 => "Remediation-URI",
        /// Remediation-String.
        STRING = 2 => "Remediation-String",
    }
}

impl PbAssessmentResult {
    /// Whether the value is one RFC 5793 §4.6 allows.
    pub const fn is_valid(self) -> bool {
        self.0 <= 4
    }
}

impl AccessRecommendation {
    /// Whether the value is one RFC 5793 §4.7 allows.
    pub const fn is_valid(self) -> bool {
        matches!(self.0, 1..=3)
    }
}

/// PB-TNC Batch Type (RFC 5793 §4.1): a closed set of six values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum BatchType {
    /// CDATA: client data.
    Cdata = 1,
    /// SDATA: server data.
    Sdata = 2,
    /// RESULT: the server's decision.
    Result = 3,
    /// CRETRY: the client restarts an exchange.
    Cretry = 4,
    /// SRETRY: the server restarts an exchange.
    Sretry = 5,
    /// CLOSE: the sender is about to close PT.
    Close = 6,
}

impl BatchType {
    /// The RFC name (`"CDATA"`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Cdata => "CDATA",
            Self::Sdata => "SDATA",
            Self::Result => "RESULT",
            Self::Cretry => "CRETRY",
            Self::Sretry => "SRETRY",
            Self::Close => "CLOSE",
        }
    }
}

impl TryFrom<u8> for BatchType {
    type Error = u8;

    fn try_from(v: u8) -> Result<Self, u8> {
        Ok(match v {
            1 => Self::Cdata,
            2 => Self::Sdata,
            3 => Self::Result,
            4 => Self::Cretry,
            5 => Self::Sretry,
            6 => Self::Close,
            other => return Err(other),
        })
    }
}

impl fmt::Display for BatchType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_prints_rfc_names() {
        assert_eq!(format!("{:?}", MessageType::PA), "MessageType(PB-PA)");
        assert_eq!(format!("{:?}", MessageType(99)), "MessageType(99)");
        assert_eq!(
            format!("{:?}", ErrorCode::VERSION_NOT_SUPPORTED),
            "ErrorCode(Version Not Supported)"
        );
        assert_eq!(PbAssessmentResult::DONT_KNOW.to_string(), "don't know");
        assert_eq!(
            AccessRecommendation::QUARANTINED.name(),
            Some("Quarantined")
        );
        assert_eq!(PaSubtype::SWIMA.get(), 9);
        assert_eq!(RemediationType::URI.name(), Some("Remediation-URI"));
    }

    #[test]
    fn batch_types() {
        for v in 1..=6u8 {
            assert_eq!(BatchType::try_from(v).unwrap() as u8, v);
        }
        assert_eq!(BatchType::try_from(0), Err(0));
        assert_eq!(BatchType::try_from(7), Err(7));
        assert_eq!(BatchType::Sretry.to_string(), "SRETRY");
        assert!(PbAssessmentResult(4).is_valid() && !PbAssessmentResult(5).is_valid());
        assert!(!AccessRecommendation(0).is_valid() && AccessRecommendation(3).is_valid());
    }
}
