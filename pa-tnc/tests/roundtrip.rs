//! Property tests: decode(encode(x)) == x, encode(decode(b)) == b, no panic on any bytes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use bytes::Bytes;
use nea_wire::VendorId;
use pa_tnc::segmentation::{Reassembler, Reassembly, Segmenter};
use pa_tnc::{Attribute, IetfAttribute, Limits, PaTncMessage, receive};
use proptest::prelude::*;

fn attribute() -> impl Strategy<Value = Attribute> {
    (
        any::<u8>(),
        0u32..=0xff_ffff,
        any::<u32>(),
        proptest::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(flags, v, t, value)| {
            let t = if t == u32::MAX { 0 } else { t };
            let v = if v == 0xff_ffff { 0 } else { v };
            Attribute {
                flags,
                vendor: VendorId::new(v).unwrap(),
                kind: t,
                value: Bytes::from(value),
                value_offset: 0,
            }
        })
}

proptest! {
    #[test]
    fn message_round_trip(id in any::<u32>(), attrs in proptest::collection::vec(attribute(), 0..8)) {
        let mut m = PaTncMessage::new(id);
        m.attributes = attrs;
        let wire = m.to_bytes();
        prop_assert_eq!(wire.len(), m.encoded_len());
        let back = PaTncMessage::decode(wire.clone()).unwrap();
        prop_assert_eq!(back.to_bytes(), wire);
        prop_assert_eq!(back.attributes.len(), m.attributes.len());
        for (a, b) in back.attributes.iter().zip(m.attributes.iter()) {
            prop_assert_eq!((a.flags, a.vendor, a.kind, &a.value), (b.flags, b.vendor, b.kind, &b.value));
        }
    }

    #[test]
    fn no_panic_on_any_bytes(data in proptest::collection::vec(any::<u8>(), 0..256)) {
        let wire = Bytes::from(data);
        if let Ok(m) = PaTncMessage::decode(wire.clone()) {
            prop_assert_eq!(m.to_bytes(), wire.clone());
            for a in &m.attributes {
                if let Some(Ok(t)) = IetfAttribute::decode(a) {
                    // Decoded values re-encode to a value that decodes to the same thing.
                    prop_assert_eq!(IetfAttribute::decode(&t.to_attribute()).unwrap().unwrap(), t);
                }
            }
        }
        let _ = receive(wire, 0, &Limits::default(), |_, _| false);
    }

    #[test]
    fn any_attribute_survives_segmentation(a in attribute(), size in 1u32..40) {
        let mut s = Segmenter::new(&a, 5, size);
        let mut r = Reassembler::new(&Limits::default());
        let mut out = None;
        while let Some(env) = s.next_envelope() {
            if let Reassembly::Complete(x) = r.handle(&env).unwrap() {
                out = Some(x);
            }
        }
        let out = out.unwrap();
        prop_assert_eq!((out.flags, out.vendor, out.kind, out.value), (a.flags, a.vendor, a.kind, a.value));
    }
}
