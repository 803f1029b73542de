//! proptest: `decode(encode(x)) == x`, `encode(decode(b)) == b` for valid `b`, an exact
//! `encoded_len`, and no panic on any bytes (codec and both session roles).

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::expect_used
)]

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use bytes::Bytes;
use nea_wire::{Text, VendorId};
use pb_tnc::{
    AccessRecommendation, Batch, BatchType, Config, ErrorCode, ErrorParameters, Experimental,
    LanguagePreference, Message, MessageType, PaSubtype, PbAssessmentResult, PbError, PbPa,
    PdpAddress, PdpReferral, ReasonString, RemediationParameters, RemediationType, Session, Side,
    UnknownMessage,
};
use proptest::prelude::*;

fn bytes(max: usize) -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

fn text(re: &'static str) -> impl Strategy<Value = Text> {
    proptest::string::string_regex(re)
        .unwrap()
        .prop_map(Text::from)
}

fn vendor() -> impl Strategy<Value = VendorId> {
    (0u32..0xff_ffff).prop_map(VendorId::from_u24)
}

/// A vendor that is neither IETF nor TCG.
fn other_vendor() -> impl Strategy<Value = VendorId> {
    (0x1_0000u32..0xff_ffff).prop_map(VendorId::from_u24)
}

fn pa() -> impl Strategy<Value = PbPa> {
    (
        any::<bool>(),
        vendor(),
        0u32..u32::MAX,
        any::<u16>(),
        any::<u16>(),
        bytes(64),
    )
        .prop_map(|(x, v, s, c, val, body)| {
            PbPa::new(v, PaSubtype(s), body)
                .with_exclusive(x)
                .with_collector_id(c)
                .with_validator_id(val)
        })
}

fn pb_error() -> impl Strategy<Value = PbError> {
    prop_oneof![
        Just(PbError::unexpected_batch_type()),
        any::<u32>().prop_map(PbError::invalid_parameter),
        any::<u32>().prop_map(|o| PbError {
            fatal: false,
            ..PbError::invalid_parameter(o)
        }),
        Just(PbError::local_error()),
        any::<u32>().prop_map(PbError::unsupported_mandatory_message),
        (any::<u8>(), any::<u8>(), any::<u8>())
            .prop_map(|(b, x, n)| PbError::version_not_supported(b, x, n)),
        // strongSwan's extra offset
        any::<u32>().prop_map(|o| PbError {
            parameters: ErrorParameters::Offset(o),
            ..PbError::local_error()
        }),
        (any::<bool>(), other_vendor(), any::<u16>(), bytes(8)).prop_map(|(f, v, c, p)| {
            PbError {
                fatal: f,
                vendor: v,
                code: ErrorCode(c),
                parameters: if p.is_empty() {
                    ErrorParameters::None
                } else {
                    ErrorParameters::Raw(p)
                },
            }
        }),
    ]
}

fn remediation() -> impl Strategy<Value = RemediationParameters> {
    prop_oneof![
        text("[a-z]{1,8}:[a-z/.]{0,20}").prop_map(RemediationParameters::Uri),
        (text("[a-zA-Z é]{0,20}"), text("[a-z-]{0,8}"))
            .prop_map(|(text, language)| RemediationParameters::String { text, language }),
        (other_vendor(), any::<u32>(), bytes(16)).prop_map(|(vendor, k, value)| {
            RemediationParameters::Other {
                vendor,
                kind: RemediationType(k),
                value,
            }
        }),
    ]
}

fn pdp() -> impl Strategy<Value = PdpReferral> {
    prop_oneof![
        (any::<u8>(), any::<u16>(), text("[a-z.]{0,20}")).prop_map(|(p, port, t)| {
            PdpReferral::Tcg {
                protocol: p,
                port,
                address: PdpAddress::Fqdn(t),
            }
        }),
        (any::<u8>(), any::<u16>(), any::<[u8; 4]>()).prop_map(|(p, port, a)| {
            PdpReferral::Tcg {
                protocol: p,
                port,
                address: PdpAddress::Ipv4(Ipv4Addr::from(a)),
            }
        }),
        (any::<u8>(), any::<u16>(), any::<[u8; 16]>()).prop_map(|(p, port, a)| {
            PdpReferral::Tcg {
                protocol: p,
                port,
                address: PdpAddress::Ipv6(Ipv6Addr::from(a)),
            }
        }),
        (other_vendor(), any::<u32>(), bytes(16)).prop_map(|(vendor, kind, value)| {
            PdpReferral::Other {
                vendor,
                kind,
                value,
            }
        }),
    ]
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        (any::<bool>(), bytes(16))
            .prop_map(|(noskip, value)| Message::Experimental(Experimental { noskip, value })),
        pa().prop_map(Message::Pa),
        (0u32..=4).prop_map(|v| Message::AssessmentResult(PbAssessmentResult(v))),
        (1u16..=3).prop_map(|v| Message::AccessRecommendation(AccessRecommendation(v))),
        remediation().prop_map(Message::RemediationParameters),
        pb_error().prop_map(Message::Error),
        text("[ -~]{0,30}").prop_map(|t| Message::LanguagePreference(LanguagePreference(t))),
        (text("[a-zA-Z é]{1,20}"), text("[a-z-]{0,8}"))
            .prop_map(|(r, l)| Message::ReasonString(ReasonString::new(r, l))),
        pdp().prop_map(Message::PdpReferral),
        (any::<u8>(), other_vendor(), 0u32..u32::MAX, bytes(16)).prop_map(|(f, v, t, value)| {
            Message::Unknown(UnknownMessage {
                flags: f,
                vendor: v,
                message_type: MessageType(t),
                value,
            })
        }),
    ]
}

fn batch_type() -> impl Strategy<Value = BatchType> {
    (1u8..=6).prop_map(|v| BatchType::try_from(v).unwrap())
}

fn batch() -> impl Strategy<Value = Batch> {
    (
        prop_oneof![Just(Side::Client), Just(Side::Server)],
        batch_type(),
        proptest::collection::vec(message(), 0..6),
    )
        .prop_map(|(s, t, m)| Batch::new(s, t, m).unwrap())
}

proptest! {
    #[test]
    fn decode_encode_roundtrip(b in batch()) {
        let wire = b.to_bytes();
        prop_assert_eq!(wire.len(), b.encoded_len());
        let back = Batch::decode(wire.clone()).unwrap();
        prop_assert_eq!(&back, &b);
        // encode(decode(wire)) == wire
        prop_assert_eq!(back.to_bytes(), wire);
    }

    #[test]
    fn no_panic_on_any_bytes(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        let data = Bytes::from(data);
        if let Ok(b) = Batch::decode(data.clone()) {
            prop_assert_eq!(b.encoded_len(), data.len());
            let again = Batch::decode(b.to_bytes()).unwrap();
            prop_assert_eq!(again, b);
        }
        for side in [Side::Client, Side::Server] {
            let mut s = Session::new(Arc::new(Config::default()), side);
            s.handle_batch(data.clone());
            while s.poll_transmit().is_some() {}
            while s.poll_event().is_some() {}
        }
    }

    #[test]
    fn no_panic_on_mutated_batches(b in batch(), flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4)) {
        let mut wire = b.to_bytes().to_vec();
        for (i, x) in flips {
            let n = wire.len();
            wire[i % n] ^= x;
        }
        let wire = Bytes::from(wire);
        if let Ok(d) = Batch::decode(wire.clone()) {
            prop_assert_eq!(d.encoded_len(), wire.len());
        }
        let mut s = Session::new(Arc::new(Config::default()), Side::Server);
        s.handle_batch(wire);
        while s.poll_event().is_some() {}
    }
}
