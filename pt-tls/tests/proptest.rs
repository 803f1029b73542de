//! Property tests: `decode(encode(m)) == m`, `encode(decode(b)) == b` for canonical `b`, exact
//! `encoded_len`, and no panic on any bytes (codec, framer, both session roles).
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]

#[path = "common/pair.rs"]
mod pair;

use bytes::{Bytes, BytesMut};
use nea_wire::VendorId;
use proptest::prelude::*;
use pt_tls::wire::{
    MechanismName, ResultForm, SaslMechanismSelection, SaslMechanisms, SaslResult, UnknownMessage,
    VersionRequest, VersionResponse,
};
use pt_tls::{
    Body, ErrorCode, Framer, Message, PtTlsError, SaslResultCode, Session, Side, TlsRole,
};

fn bytes(max: usize) -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

fn mech() -> impl Strategy<Value = MechanismName> {
    "[A-Z0-9_-]{1,20}".prop_map(|s| MechanismName::new(&s).unwrap())
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        bytes(64).prop_map(Body::Experimental),
        (any::<u8>(), any::<u8>(), any::<u8>())
            .prop_map(|(min, max, pref)| Body::VersionRequest(VersionRequest { min, max, pref })),
        any::<u8>().prop_map(|version| Body::VersionResponse(VersionResponse { version })),
        proptest::collection::vec(mech(), 0..5)
            .prop_map(|m| Body::SaslMechanisms(SaslMechanisms::new(m))),
        (mech(), bytes(64)).prop_map(|(mechanism, initial_response)| {
            Body::SaslMechanismSelection(SaslMechanismSelection {
                mechanism,
                initial_response,
            })
        }),
        bytes(64).prop_map(Body::SaslAuthenticationData),
        (any::<u16>(), bytes(16)).prop_map(|(c, data)| Body::SaslResult(SaslResult {
            code: SaslResultCode(c),
            data,
            form: ResultForm::Rfc
        })),
        any::<u8>().prop_map(|c| Body::SaslResult(SaslResult {
            code: SaslResultCode(u16::from(c)),
            data: Bytes::new(),
            form: ResultForm::OneByte
        })),
        bytes(256).prop_map(Body::PbTncBatch),
        (0u32..0xffffff, any::<u32>(), bytes(64)).prop_map(|(v, c, o)| Body::Error(
            PtTlsError::new(VendorId::new(v).unwrap(), ErrorCode(c), o)
        )),
        (0u32..0xffffff, 9u32..0xffff_fffe, bytes(64)).prop_filter_map("known", |(v, t, b)| {
            UnknownMessage::new(VendorId::new(v).unwrap(), t, b).map(Body::Unknown)
        }),
    ]
}

proptest! {
    #[test]
    fn decode_encode_round_trip(id in any::<u32>(), body in body()) {
        let m = Message::new(id, body);
        let wire = m.to_bytes();
        prop_assert_eq!(wire.len(), m.encoded_len());
        let back = Message::decode(wire.clone()).unwrap();
        prop_assert_eq!(&back, &m);
        // encode(decode(b)) == b for these canonical bytes.
        prop_assert_eq!(back.to_bytes(), wire);
    }

    #[test]
    fn framer_reassembles_any_split(
        bodies in proptest::collection::vec(body(), 1..6),
        cuts in proptest::collection::vec(1usize..64, 1..20),
    ) {
        let msgs: Vec<Message> =
            bodies.into_iter().enumerate().map(|(i, b)| Message::new(i as u32, b)).collect();
        let stream: Vec<u8> = msgs.iter().flat_map(|m| m.to_bytes().to_vec()).collect();
        let mut f = Framer::new(1 << 16);
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        let mut pos = 0;
        let mut i = 0;
        while pos < stream.len() {
            let n = cuts[i % cuts.len()].min(stream.len() - pos);
            i += 1;
            buf.extend_from_slice(&stream[pos..pos + n]);
            pos += n;
            while let Some(m) = f.decode(&mut buf).unwrap() {
                got.push(m);
            }
        }
        prop_assert_eq!(got, msgs);
    }

    #[test]
    fn no_panic_on_any_message(b in bytes(128)) {
        if let Ok(m) = Message::decode(b.clone()) {
            // Reserved fields are normalised to 0; the length is kept.
            prop_assert_eq!(m.encoded_len(), b.len());
            prop_assert_eq!(Message::decode(m.to_bytes()).unwrap(), m);
        }
    }

    #[test]
    fn no_panic_on_any_stream(b in bytes(512), chunk in 1usize..40) {
        let mut f = Framer::new(256);
        let mut buf = BytesMut::new();
        for piece in b.chunks(chunk) {
            buf.extend_from_slice(piece);
            loop {
                match f.decode(&mut buf) {
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(e) => {
                        prop_assert!(e.offset <= f.offset() + buf.len() + 16);
                        break;
                    }
                }
            }
        }
    }

    #[test]
    fn sessions_never_panic(
        b in bytes(512),
        chunk in 1usize..40,
        server in any::<bool>(),
        initiator in any::<bool>(),
    ) {
        let (side, cfg) = if server {
            (Side::Server, pair::server_config())
        } else {
            (Side::Client, pair::client_config())
        };
        let role = if initiator { TlsRole::Initiator } else { TlsRole::Responder };
        let mut s = Session::new(cfg, side, role, None);
        for piece in b.chunks(chunk) {
            s.handle_bytes(piece);
            while let Some(t) = s.poll_transmit() {
                // Everything we send decodes.
                prop_assert!(Message::decode(t).is_ok());
            }
            while s.poll_event().is_some() {}
        }
    }

    #[test]
    fn sessions_never_panic_on_valid_messages(
        bodies in proptest::collection::vec(body(), 0..8),
        server in any::<bool>(),
    ) {
        let (side, cfg) = if server {
            (Side::Server, pair::server_config())
        } else {
            (Side::Client, pair::client_config())
        };
        let mut s = Session::new(cfg, side, TlsRole::Responder, None);
        s.handle_bytes(&Message::new(0, Body::VersionRequest(VersionRequest::V1)).to_bytes());
        for (i, b) in bodies.into_iter().enumerate() {
            s.handle_bytes(&Message::new(i as u32 + 1, b).to_bytes());
            while let Some(t) = s.poll_transmit() {
                prop_assert!(Message::decode(t).is_ok());
            }
            while s.poll_event().is_some() {}
        }
    }
}
