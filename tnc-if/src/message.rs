//! Message types (vendor + subtype, short and long form), received messages and send options.

use bytes::Bytes;
use nea_wire::{PaSubtype, VendorId};

use crate::TncError;

/// A message type: PA Message Vendor ID (24 bits) and PA Subtype (32 bits), exactly what a
/// PB-PA header carries (RFC 5793 §4.5) and what IF-IMC/IF-IMV's long calls pass.
///
/// Vendor `0xffffff` ([`MessageType::VENDOR_ANY`]) and subtype `0xff`
/// ([`MessageType::SUBTYPE_ANY`]) are wildcards: valid when registering for messages, never
/// when sending.
///
/// ```
/// use tnc_if::MessageType;
/// let swima = MessageType::SWIMA;
/// assert_eq!(swima.to_short(), Some(0x0000_0009));
/// assert_eq!(MessageType::from_short(0x0055_9701).subtype, 1);
/// assert!(MessageType::vendor_any(nea_wire::VendorId::IETF).matches(swima));
/// assert!(!MessageType::ANY.is_sendable());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct MessageType {
    /// PA Message Vendor ID.
    pub vendor: VendorId,
    /// PA Subtype.
    pub subtype: u32,
}

impl MessageType {
    /// `TNC_VENDORID_ANY`: matches every vendor when registering.
    pub const VENDOR_ANY: VendorId = VendorId::RESERVED;
    /// `TNC_SUBTYPE_ANY`: matches every subtype of a vendor when registering (short and long).
    pub const SUBTYPE_ANY: u32 = 0xff;
    /// Everything (`TNC_VENDORID_ANY`, `TNC_SUBTYPE_ANY`).
    pub const ANY: Self = Self::new(Self::VENDOR_ANY, Self::SUBTYPE_ANY);
    /// IETF Operating System (PA subtype 1, RFC 5792).
    pub const OPERATING_SYSTEM: Self = Self::new(VendorId::IETF, 1);
    /// IETF SWIMA (PA subtype 9, RFC 8412).
    pub const SWIMA: Self = Self::new(VendorId::IETF, 9);

    /// A type from its two parts.
    pub const fn new(vendor: VendorId, subtype: u32) -> Self {
        Self { vendor, subtype }
    }

    /// Every subtype of `vendor` (a registration pattern).
    pub const fn vendor_any(vendor: VendorId) -> Self {
        Self::new(vendor, Self::SUBTYPE_ANY)
    }

    /// The PB-PA subtype.
    pub const fn pa_subtype(self) -> PaSubtype {
        PaSubtype(self.subtype)
    }

    /// From IF-IMC/IF-IMV's short form `(vendor << 8) | subtype`.
    pub const fn from_short(t: u32) -> Self {
        Self::new(VendorId::from_u24(t >> 8), t & 0xff)
    }

    /// The short form, if the subtype fits in 8 bits.
    pub const fn to_short(self) -> Option<u32> {
        if self.subtype > 0xff {
            None
        } else {
            Some((self.vendor.get() << 8) | self.subtype)
        }
    }

    /// Whether either part is a wildcard (this type names a pattern, not a message).
    pub const fn is_wildcard(self) -> bool {
        self.vendor.is_reserved() || self.subtype == Self::SUBTYPE_ANY
    }

    /// Whether a message may be sent with this type: no wildcard, and not the PB-PA
    /// reserved subtype 0xffffffff.
    pub const fn is_sendable(self) -> bool {
        !self.is_wildcard() && self.subtype != u32::MAX
    }

    /// Checks [`MessageType::is_sendable`] with a clear error.
    pub fn check_sendable(self) -> Result<(), TncError> {
        if self.vendor.is_reserved() {
            return Err(TncError::InvalidParameter(
                "vendor 0xffffff is a wildcard and cannot be sent",
            ));
        }
        if self.subtype == Self::SUBTYPE_ANY {
            return Err(TncError::InvalidParameter(
                "subtype 0xff is a wildcard and cannot be sent",
            ));
        }
        if self.subtype == u32::MAX {
            return Err(TncError::InvalidParameter(
                "subtype 0xffffffff is reserved in PB-PA",
            ));
        }
        Ok(())
    }

    /// Whether this registration pattern matches the concrete type `t`: (ANY, ANY) matches
    /// everything, (V, ANY) every subtype of V, (V, S) exactly; (ANY, S) matches nothing
    /// (the interface leaves it undefined; strongSwan never matches it).
    pub const fn matches(self, t: MessageType) -> bool {
        let any_vendor = self.vendor.is_reserved();
        let any_subtype = self.subtype == Self::SUBTYPE_ANY;
        match (any_vendor, any_subtype) {
            (true, true) => true,
            (true, false) => false,
            (false, true) => self.vendor.get() == t.vendor.get(),
            (false, false) => self.vendor.get() == t.vendor.get() && self.subtype == t.subtype,
        }
    }
}

/// A message delivered to a plugin: the long form of `ReceiveMessage`.
/// `S` is the sender's ID type and `D` the receiver's ([`crate::ImvId`]/[`crate::ImcId`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedMessage<S, D> {
    /// `TNC_MESSAGE_FLAGS_EXCLUSIVE`: sent to this plugin only.
    pub exclusive: bool,
    /// The message type.
    pub message_type: MessageType,
    /// The sender's ID (the peer's collector or validator; ANY when unknown).
    pub source: S,
    /// The ID it was addressed to (the receiver's own or an additional ID, or ANY).
    pub destination: D,
    /// The message (a PA-TNC message for the IETF types), zero-copy from the batch.
    pub body: Bytes,
}

/// How a plugin sends one message (the long form of `SendMessage`). `I` is the plugin's own
/// ID type, `P` the peer's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendOptions<I, P> {
    /// `TNC_MESSAGE_FLAGS_EXCLUSIVE`: only the peer plugin `destination` receives it; needs a
    /// known destination.
    pub exclusive: bool,
    /// The source ID: the plugin's own ID or one of its additional IDs; `None` = its own.
    pub source: Option<I>,
    /// The peer plugin it is for, or ANY.
    pub destination: P,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_long_and_patterns() {
        let t = MessageType::from_short(0x0055_9701);
        assert_eq!((t.vendor, t.subtype), (VendorId::TCG, 1));
        assert_eq!(t.to_short(), Some(0x0055_9701));
        assert_eq!(MessageType::new(VendorId::IETF, 0x100).to_short(), None);
        assert!(MessageType::ANY.matches(t));
        assert!(MessageType::vendor_any(VendorId::TCG).matches(t));
        assert!(!MessageType::vendor_any(VendorId::IETF).matches(t));
        assert!(MessageType::new(VendorId::TCG, 1).matches(t));
        assert!(!MessageType::new(VendorId::TCG, 2).matches(t));
        // (ANY, S) is undefined and matches nothing.
        assert!(!MessageType::new(MessageType::VENDOR_ANY, 1).matches(t));
        assert!(MessageType::SWIMA.check_sendable().is_ok());
        assert!(
            MessageType::vendor_any(VendorId::IETF)
                .check_sendable()
                .is_err()
        );
        assert!(
            MessageType::new(MessageType::VENDOR_ANY, 1)
                .check_sendable()
                .is_err()
        );
        assert!(
            MessageType::new(VendorId::IETF, u32::MAX)
                .check_sendable()
                .is_err()
        );
    }
}
