//! Attribute IDs of `TNC_TNCC_GetAttribute` / `TNC_TNCS_GetAttribute` and the values a
//! broker answers with, encoded the way deployed plugins read them.

use bytes::{BufMut, Bytes, BytesMut};

use crate::{ArIdentity, TncError};

nea_wire::registry! {
    /// `TNC_AttributeID`.
    AttributeId(u32) {
        /// Preferred language (the peer's PB-Language-Preference on a TNCS; the local one on a TNCC).
        PREFERRED_LANGUAGE = 0x0000_0001 => "preferred language",
        /// Reason string an IMV sets for the endpoint (UTF-8).
        REASON_STRING = 0x0000_0002 => "reason string",
        /// Language tag of the reason string.
        REASON_LANGUAGE = 0x0000_0003 => "reason language",
        /// Round trips allowed per handshake (4-byte big-endian).
        MAX_ROUND_TRIPS = 0x0055_9700 => "max round trips",
        /// Largest message body a plugin may send (4-byte big-endian).
        MAX_MESSAGE_SIZE = 0x0055_9701 => "max message size",
        /// Diffie-Hellman pre-negotiation value (not supported).
        DHPN_VALUE = 0x0055_9702 => "DHPN value",
        /// Whether long message types are supported (1 byte).
        HAS_LONG_TYPES = 0x0055_9703 => "has long types",
        /// Whether exclusive delivery is supported (1 byte).
        HAS_EXCLUSIVE = 0x0055_9704 => "has exclusive",
        /// Whether SOH is supported (1 byte).
        HAS_SOH = 0x0055_9705 => "has SOH",
        /// SOH (IF-TNCCS-SOH only).
        SOH = 0x0055_9706 => "SOH",
        /// SSOH (IF-TNCCS-SOH only).
        SSOH = 0x0055_9707 => "SSOH",
        /// SOHR (IF-TNCCS-SOH only).
        SOHR = 0x0055_9708 => "SOHR",
        /// SSOHR (IF-TNCCS-SOH only).
        SSOHR = 0x0055_9709 => "SSOHR",
        /// IF-TNCCS protocol name (NUL-terminated).
        IFTNCCS_PROTOCOL = 0x0055_970A => "IF-TNCCS protocol",
        /// IF-TNCCS protocol version (NUL-terminated).
        IFTNCCS_VERSION = 0x0055_970B => "IF-TNCCS version",
        /// IF-T protocol name (NUL-terminated).
        IFT_PROTOCOL = 0x0055_970C => "IF-T protocol",
        /// IF-T protocol version (NUL-terminated).
        IFT_VERSION = 0x0055_970D => "IF-T version",
        /// TLS unique channel binding (not available with TLS 1.3 / rustls).
        TLS_UNIQUE = 0x0055_970E => "TLS unique",
        /// Whether the IMC supports TNCS-first (asked of the IMC).
        IMC_SPTS_TNCS1 = 0x0055_970F => "IMC supports TNCS-first",
        /// The plugin's primary IMV ID (4-byte big-endian).
        PRIMARY_IMV_ID = 0x0055_9710 => "primary IMV ID",
        /// The plugin's primary IMC ID (4-byte big-endian).
        PRIMARY_IMC_ID = 0x0055_9711 => "primary IMC ID",
        /// The endpoint's authenticated identities (IF-IMV 1.4, [`ArIdentity`]).
        AR_IDENTITIES = 0x0055_9712 => "AR identities",
    }
}

/// The transport under PB-TNC, for the IF-T attributes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum TransportProtocol {
    /// RFC 6876 PT-TLS ("IF-T for TLS" 2.0).
    #[default]
    PtTls,
    /// RFC 7171 PT-EAP ("IF-T for Tunneled EAP" 2.0).
    PtEap,
}

impl TransportProtocol {
    /// The IF-T protocol name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::PtTls => "IF-T for TLS",
            Self::PtEap => "IF-T for Tunneled EAP",
        }
    }

    /// Whether the transport is full-duplex (the server may start a retry).
    pub const fn is_full_duplex(self) -> bool {
        matches!(self, Self::PtTls)
    }
}

/// What a broker knows about one connection, answered through `GetAttribute`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BrokerAttributes {
    /// The preferred language (a PB-Language-Preference value, e.g. `Accept-Language: en`).
    pub preferred_language: Option<String>,
    /// Round trips allowed per handshake.
    pub max_round_trips: u32,
    /// Largest message body a plugin may send.
    pub max_message_size: u32,
    /// The transport.
    pub transport: TransportProtocol,
    /// The endpoint's identities (TNCS only).
    pub ar_identities: Vec<ArIdentity>,
}

fn nul_terminated(s: &str) -> Bytes {
    let mut b = BytesMut::with_capacity(s.len() + 1);
    b.put_slice(s.as_bytes());
    b.put_u8(0);
    b.freeze()
}

fn be32(v: u32) -> Bytes {
    Bytes::copy_from_slice(&v.to_be_bytes())
}

fn flag(v: bool) -> Bytes {
    Bytes::copy_from_slice(&[u8::from(v)])
}

impl BrokerAttributes {
    /// The value of `id` for the plugin whose primary ID is `primary_id`, encoded as deployed
    /// plugins expect it (integers 4-byte big-endian, booleans 1 byte, protocol names and
    /// versions NUL-terminated, the language without NUL).
    ///
    /// `InvalidParameter` for attributes this connection has no value for (SOH, TLS unique,
    /// DHPN, an unset language) and for unknown IDs.
    pub fn get(&self, id: AttributeId, primary_id: u16) -> Result<Bytes, TncError> {
        Ok(match id {
            AttributeId::PREFERRED_LANGUAGE => match &self.preferred_language {
                Some(l) => Bytes::copy_from_slice(l.as_bytes()),
                None => return Err(TncError::InvalidParameter("no preferred language known")),
            },
            AttributeId::MAX_ROUND_TRIPS => be32(self.max_round_trips),
            AttributeId::MAX_MESSAGE_SIZE => be32(self.max_message_size),
            AttributeId::HAS_LONG_TYPES | AttributeId::HAS_EXCLUSIVE => flag(true),
            AttributeId::HAS_SOH => flag(false),
            AttributeId::IFTNCCS_PROTOCOL => nul_terminated("IF-TNCCS"),
            AttributeId::IFTNCCS_VERSION => nul_terminated("2.0"),
            AttributeId::IFT_PROTOCOL => nul_terminated(self.transport.name()),
            AttributeId::IFT_VERSION => nul_terminated("2.0"),
            AttributeId::PRIMARY_IMC_ID | AttributeId::PRIMARY_IMV_ID => {
                be32(u32::from(primary_id))
            }
            AttributeId::AR_IDENTITIES => ArIdentity::encode_list(&self.ar_identities),
            _ => return Err(TncError::InvalidParameter("attribute not available")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        let a = BrokerAttributes {
            preferred_language: Some("Accept-Language: de".into()),
            max_round_trips: 1000,
            max_message_size: 65_000,
            transport: TransportProtocol::PtTls,
            ar_identities: vec![ArIdentity::password_user("alice")],
        };
        let g = |id| a.get(id, 7).unwrap();
        assert_eq!(
            &g(AttributeId::PREFERRED_LANGUAGE)[..],
            b"Accept-Language: de"
        );
        assert_eq!(&g(AttributeId::MAX_ROUND_TRIPS)[..], &[0, 0, 3, 0xe8]);
        assert_eq!(
            &g(AttributeId::MAX_MESSAGE_SIZE)[..],
            &65_000u32.to_be_bytes()
        );
        assert_eq!(&g(AttributeId::HAS_LONG_TYPES)[..], &[1]);
        assert_eq!(&g(AttributeId::HAS_EXCLUSIVE)[..], &[1]);
        assert_eq!(&g(AttributeId::HAS_SOH)[..], &[0]);
        assert_eq!(&g(AttributeId::IFTNCCS_PROTOCOL)[..], b"IF-TNCCS\0");
        assert_eq!(&g(AttributeId::IFTNCCS_VERSION)[..], b"2.0\0");
        assert_eq!(&g(AttributeId::IFT_PROTOCOL)[..], b"IF-T for TLS\0");
        assert_eq!(&g(AttributeId::IFT_VERSION)[..], b"2.0\0");
        assert_eq!(&g(AttributeId::PRIMARY_IMV_ID)[..], &[0, 0, 0, 7]);
        assert_eq!(
            ArIdentity::decode_list(g(AttributeId::AR_IDENTITIES)).unwrap(),
            a.ar_identities
        );
        assert!(a.get(AttributeId::TLS_UNIQUE, 7).is_err());
        assert!(a.get(AttributeId(0x1234), 7).is_err());
        assert!(
            BrokerAttributes::default()
                .get(AttributeId::PREFERRED_LANGUAGE, 1)
                .is_err()
        );
    }
}
