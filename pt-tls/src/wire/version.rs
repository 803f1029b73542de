//! Version Request and Version Response (RFC 6876 §3.7).

use bytes::{BufMut, BytesMut};
use nea_wire::{DecodeError, Reader};

/// Version Request (RFC 6876 §3.7.1), sent by the PT-TLS Initiator as its first message.
///
/// ```text
/// +---------------+---------------+---------------+---------------+
/// |    Reserved   |    Min Vers   |    Max Vers   |   Pref Vers   |
/// +---------------+---------------+---------------+---------------+
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VersionRequest {
    /// Lowest version the sender supports.
    pub min: u8,
    /// Highest version the sender supports.
    pub max: u8,
    /// Preferred version, within `min..=max`.
    pub pref: u8,
}

impl VersionRequest {
    /// The only request version 1 may send: min = max = pref = 1.
    pub const V1: Self = Self {
        min: 1,
        max: 1,
        pref: 1,
    };

    /// Whether `version` lies in the requested range.
    pub fn accepts(&self, version: u8) -> bool {
        (self.min..=self.max).contains(&version)
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        let _reserved = r.u8()?;
        Ok(Self {
            min: r.u8()?,
            max: r.u8()?,
            pref: r.u8()?,
        })
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&[0, self.min, self.max, self.pref]);
    }
}

/// Version Response (RFC 6876 §3.7.2), the PT-TLS Responder's choice.
///
/// ```text
/// +---------------+---------------+---------------+---------------+
/// |                 Reserved                      |    Version    |
/// +---------------+---------------+---------------+---------------+
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VersionResponse {
    /// The selected version.
    pub version: u8,
}

impl VersionResponse {
    pub(crate) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        let _reserved = r.u24()?;
        Ok(Self { version: r.u8()? })
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&[0, 0, 0, self.version]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_range() {
        let r = VersionRequest {
            min: 2,
            max: 4,
            pref: 3,
        };
        assert!(!r.accepts(1));
        assert!(r.accepts(2) && r.accepts(4));
        assert!(VersionRequest::V1.accepts(1));
    }
}
