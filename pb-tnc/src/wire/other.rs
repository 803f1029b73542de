//! PB-Experimental (RFC 5793 §4.4) and messages of unknown vendor/type (§4.2).

use bytes::Bytes;
use nea_wire::{NOSKIP, VendorId};

use crate::Error;
use crate::registry::MessageType;

/// PB-Experimental (RFC 5793 §4.4): for tests only; a receiver ignores it unless NOSKIP is
/// set, in which case it answers Unsupported Mandatory Message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Experimental {
    /// The NOSKIP flag.
    pub noskip: bool,
    /// The message value, raw.
    pub value: Bytes,
}

/// A message this crate does not know: flags, vendor, type and value kept as received, so
/// it re-encodes byte for byte (RFC 5793 §4.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnknownMessage {
    /// The flags byte as received (NOSKIP = `0x80`).
    pub flags: u8,
    /// PB-TNC Vendor ID.
    pub vendor: VendorId,
    /// PB-TNC Message Type.
    pub message_type: MessageType,
    /// Message Value.
    pub value: Bytes,
}

impl UnknownMessage {
    /// Whether NOSKIP is set.
    pub fn noskip(&self) -> bool {
        self.flags & NOSKIP != 0
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        let known = matches!(
            (self.vendor, self.message_type.get()),
            (VendorId::IETF, 0..=7) | (VendorId::TCG, 1)
        );
        // RFC 5793 §4.2: the reserved vendor and type MUST NOT be sent.
        if known || self.vendor.is_reserved() || self.message_type == MessageType::RESERVED {
            return Err(Error::InvalidValue {
                field: "PB-TNC Message Type",
            });
        }
        Ok(())
    }
}
