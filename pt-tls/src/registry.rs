//! The PT-TLS numeric registries (RFC 6876 §6) as open newtypes: unknown values pass through
//! and `Debug` prints the RFC name where one is assigned.

use nea_wire::registry;

registry! {
    /// PT-TLS Message Type in the IETF namespace (RFC 6876 §3.6, registry §6.2).
    MessageType(u32) {
        /// Experimental, reserved for restricted test networks.
        EXPERIMENTAL = 0 => "Experimental",
        /// Version Request (§3.7.1).
        VERSION_REQUEST = 1 => "Version Request",
        /// Version Response (§3.7.2).
        VERSION_RESPONSE = 2 => "Version Response",
        /// SASL Mechanisms (§3.8.7).
        SASL_MECHANISMS = 3 => "SASL Mechanisms",
        /// SASL Mechanism Selection (§3.8.8).
        SASL_MECHANISM_SELECTION = 4 => "SASL Mechanism Selection",
        /// SASL Authentication Data (§3.8.9).
        SASL_AUTHENTICATION_DATA = 5 => "SASL Authentication Data",
        /// SASL Result (§3.8.10).
        SASL_RESULT = 6 => "SASL Result",
        /// PB-TNC Batch.
        PB_TNC_BATCH = 7 => "PB-TNC Batch",
        /// PT-TLS Error (§3.9).
        PT_TLS_ERROR = 8 => "PT-TLS Error",
        /// Reserved, never sent (§3.5).
        RESERVED = 0xffff_ffff => "Reserved",
    }
}

registry! {
    /// PT-TLS Error Code in the IETF namespace (RFC 6876 §3.9, registry §6.3).
    ErrorCode(u32) {
        /// Debug echo; recipients SHOULD ignore it.
        RESERVED = 0 => "Reserved",
        /// Basic sanity check of the message content failed.
        MALFORMED_MESSAGE = 1 => "Malformed Message",
        /// No acceptable version in the Version Request (fatal).
        VERSION_NOT_SUPPORTED = 2 => "Version Not Supported",
        /// Unknown or unsupported message type (not fatal).
        TYPE_NOT_SUPPORTED = 3 => "Type Not Supported",
        /// Message not allowed in the current state (fatal).
        INVALID_MESSAGE = 4 => "Invalid Message",
        /// Fatal client-authentication failure.
        SASL_MECHANISM_ERROR = 5 => "SASL Mechanism Error",
        /// Invalid or unsupported value in the message header (fatal).
        INVALID_PARAMETER = 6 => "Invalid Parameter",
    }
}

impl ErrorCode {
    /// Whether RFC 6876 §3.9 makes this IETF code fatal: sender and receiver close TLS.
    ///
    /// Reserved (0) and Type Not Supported (3) are not; unassigned codes are treated as not
    /// fatal (an implementation MUST NOT require support for codes it does not know).
    pub const fn is_fatal(self) -> bool {
        matches!(self.0, 1 | 2 | 4 | 5 | 6)
    }
}

registry! {
    /// SASL Result Code (RFC 6876 §3.8.10); 16 bits on the wire (strongSwan: 8 bits).
    SaslResultCode(u16) {
        /// Authentication succeeded.
        SUCCESS = 0 => "Success",
        /// Authentication failed (bad identity or credentials).
        FAILURE = 1 => "Failure",
        /// The exchange was aborted by the server.
        ABORT = 2 => "Abort",
        /// The mechanism failed for a reason unrelated to the user's input.
        MECHANISM_FAILURE = 3 => "Mechanism Failure",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_unknowns() {
        assert_eq!(
            format!("{:?}", MessageType::PB_TNC_BATCH),
            "MessageType(PB-TNC Batch)"
        );
        assert_eq!(format!("{:?}", MessageType(9)), "MessageType(9)");
        assert_eq!(MessageType::RESERVED.0, u32::MAX);
        assert_eq!(
            ErrorCode::INVALID_PARAMETER.to_string(),
            "Invalid Parameter"
        );
        assert_eq!(
            format!("{:?}", SaslResultCode::ABORT),
            "SaslResultCode(Abort)"
        );
        assert_eq!(SaslResultCode::from(7).name(), None);
    }

    #[test]
    fn fatal_codes() {
        // RFC 6876 §3.9: codes 1, 2, 4, 5, 6 are fatal; 0 and 3 are not.
        let fatal: Vec<u32> = (0..10).filter(|c| ErrorCode(*c).is_fatal()).collect();
        assert_eq!(fatal, [1, 2, 4, 5, 6]);
    }
}
