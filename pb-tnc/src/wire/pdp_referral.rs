//! TCG PB-PDP-Referral (vendor 0x005597, type 1; TCG TNC Server Discovery and Validation
//! §3.1.1): points the client at a Policy Decision Point it may reach over PT-TLS.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |    Reserved   |            PDP Identifier Vendor ID           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                      PDP Identifier Type                      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |    Reserved   |   Protocol    |          Port Number          |  (TCG types 0-2)
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |        FQDN / IPv4 address (4) / IPv6 address (16)            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use core::net::{Ipv4Addr, Ipv6Addr};

use bytes::{BufMut, Bytes, BytesMut};
use nea_wire::{DecodeError, Reader, Text, VendorId};

use crate::Error;

/// Where the identifier points and how (TCG identifier types 0 FQDN, 1 IPv4, 2 IPv6).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PdpAddress {
    /// TCG type 0: a fully qualified domain name.
    Fqdn(Text),
    /// TCG type 1: an IPv4 address.
    Ipv4(Ipv4Addr),
    /// TCG type 2: an IPv6 address.
    Ipv6(Ipv6Addr),
}

/// TCG PB-PDP-Referral message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PdpReferral {
    /// A TCG identifier (PDP Identifier Vendor ID 0x005597, types 0–2).
    Tcg {
        /// Protocol (0 = PT-TLS, the only one strongSwan accepts).
        protocol: u8,
        /// Port number.
        port: u16,
        /// The PDP's name or address.
        address: PdpAddress,
    },
    /// Any other identifier vendor/type, kept raw.
    Other {
        /// PDP Identifier Vendor ID.
        vendor: VendorId,
        /// PDP Identifier Type.
        kind: u32,
        /// The identifier, as received.
        value: Bytes,
    },
}

impl PdpReferral {
    /// A PT-TLS (protocol 0) referral to `address`:`port`.
    pub fn pt_tls(address: PdpAddress, port: u16) -> Self {
        Self::Tcg {
            protocol: 0,
            port,
            address,
        }
    }

    fn id_type(&self) -> (VendorId, u32) {
        match self {
            Self::Tcg { address, .. } => (
                VendorId::TCG,
                match address {
                    PdpAddress::Fqdn(_) => 0,
                    PdpAddress::Ipv4(_) => 1,
                    PdpAddress::Ipv6(_) => 2,
                },
            ),
            Self::Other { vendor, kind, .. } => (*vendor, *kind),
        }
    }

    pub(crate) fn value_len(&self) -> usize {
        8usize.saturating_add(match self {
            Self::Tcg { address, .. } => 4usize.saturating_add(match address {
                PdpAddress::Fqdn(t) => t.len(),
                PdpAddress::Ipv4(_) => 4,
                PdpAddress::Ipv6(_) => 16,
            }),
            Self::Other { value, .. } => value.len(),
        })
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        match self {
            Self::Other { vendor, kind, .. }
                if vendor.is_reserved() || (*vendor == VendorId::TCG && *kind <= 2) =>
            {
                Err(Error::InvalidValue {
                    field: "PDP Identifier Type",
                })
            }
            _ => Ok(()),
        }
    }

    pub(crate) fn encode_value(&self, out: &mut BytesMut) {
        let (vendor, kind) = self.id_type();
        out.put_u8(0);
        nea_wire::put_u24(out, vendor.get());
        out.put_u32(kind);
        match self {
            Self::Tcg {
                protocol,
                port,
                address,
            } => {
                out.put_u8(0);
                out.put_u8(*protocol);
                out.put_u16(*port);
                match address {
                    PdpAddress::Fqdn(t) => out.put_slice(t.as_bytes()),
                    PdpAddress::Ipv4(a) => out.put_slice(&a.octets()),
                    PdpAddress::Ipv6(a) => out.put_slice(&a.octets()),
                }
            }
            Self::Other { value, .. } => out.put_slice(value),
        }
    }

    pub(crate) fn decode_value(mut r: Reader) -> Result<Self, DecodeError> {
        let _reserved = r.u8()?;
        let vendor = VendorId::from_u24(r.u24()?);
        let kind = r.u32()?;
        if vendor != VendorId::TCG || kind > 2 {
            return Ok(Self::Other {
                vendor,
                kind,
                value: r.rest(),
            });
        }
        let _reserved = r.u8()?;
        let protocol = r.u8()?;
        let port = r.u16()?;
        let address = match kind {
            0 => {
                let len = r.remaining();
                PdpAddress::Fqdn(r.text_no_nul(len)?)
            }
            1 => PdpAddress::Ipv4(Ipv4Addr::from(r.bytes::<4>()?)),
            _ => PdpAddress::Ipv6(Ipv6Addr::from(r.bytes::<16>()?)),
        };
        r.finish()?;
        Ok(Self::Tcg {
            protocol,
            port,
            address,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::BatchType;
    use crate::wire::{Batch, Message, Side};

    #[test]
    fn fqdn_ipv4_ipv6_other_roundtrip() {
        let fqdn = PdpReferral::pt_tls(PdpAddress::Fqdn(Text::from("pdp.example")), 271);
        let b = Batch::new(
            Side::Server,
            BatchType::Sdata,
            vec![Message::PdpReferral(fqdn)],
        )
        .unwrap()
        .to_bytes();
        assert_eq!(
            &b[8..32],
            &[
                0, 0x00, 0x55, 0x97, 0, 0, 0, 1, 0, 0, 0, 35, 0, 0x00, 0x55, 0x97, 0, 0, 0, 0, 0,
                0, 0x01, 0x0f
            ]
        );
        assert_eq!(&b[32..], b"pdp.example");
        for m in [
            PdpReferral::pt_tls(PdpAddress::Ipv4(Ipv4Addr::new(10, 0, 0, 1)), 271),
            PdpReferral::pt_tls(PdpAddress::Ipv6(Ipv6Addr::LOCALHOST), 1),
            PdpReferral::Other {
                vendor: VendorId::ITA,
                kind: 5,
                value: Bytes::from_static(b"x"),
            },
        ] {
            let b = Batch::new(
                Side::Server,
                BatchType::Sdata,
                vec![Message::PdpReferral(m.clone())],
            )
            .unwrap()
            .to_bytes();
            let back = Batch::decode(b.clone()).unwrap();
            assert_eq!(back.messages(), &[Message::PdpReferral(m)]);
            assert_eq!(back.to_bytes(), b);
        }
    }

    #[test]
    fn negative() {
        // IPv4 identifier with 3 address bytes
        let wire = Bytes::from_static(&[
            2, 0x80, 0, 2, 0, 0, 0, 35, 0, 0x00, 0x55, 0x97, 0, 0, 0, 1, 0, 0, 0, 27, 0, 0x00,
            0x55, 0x97, 0, 0, 0, 1, 0, 0, 1, 0x0f, 10, 0, 0,
        ]);
        assert!(Batch::decode(wire).is_err());
        // NOSKIP set on the TCG message
        let wire = Bytes::from_static(&[
            2, 0x80, 0, 2, 0, 0, 0, 32, 0x80, 0x00, 0x55, 0x97, 0, 0, 0, 1, 0, 0, 0, 24, 0, 0x00,
            0x90, 0x2a, 0, 0, 0, 9, 1, 2, 3, 4,
        ]);
        assert_eq!(Batch::decode(wire).unwrap_err().offset, 8);
        let bad = PdpReferral::Other {
            vendor: VendorId::TCG,
            kind: 0,
            value: Bytes::new(),
        };
        assert!(bad.validate().is_err());
    }
}
