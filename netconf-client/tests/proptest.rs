//! Property tests: framing round trips on any body, chunk size and read split; no panic on
//! any bytes for the framer and the message decoder.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use bytes::{Bytes, BytesMut};
use netconf_client::framing::{self, Framer, Framing};
use netconf_client::{Limits, Message};
use proptest::prelude::*;

fn decode_in(
    stream: &[u8],
    framing: Framing,
    step: usize,
) -> Result<Vec<Bytes>, netconf_client::DecodeError> {
    let mut f = Framer::new(1 << 20, 1 << 20);
    f.set_framing(framing);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for part in stream.chunks(step.max(1)) {
        buf.extend_from_slice(part);
        while let Some(m) = f.decode(&mut buf)? {
            out.push(m);
        }
    }
    Ok(out)
}

proptest! {
    #[test]
    fn chunked_roundtrip(bodies in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..300), 1..5),
                         chunk in 1usize..64, step in 1usize..100) {
        let mut stream = BytesMut::new();
        for b in &bodies {
            framing::encode_chunked(b, chunk, &mut stream);
        }
        let got = decode_in(&stream, Framing::Chunked, step).unwrap();
        prop_assert_eq!(got.iter().map(|b| b.to_vec()).collect::<Vec<_>>(), bodies);
    }

    #[test]
    fn eom_roundtrip(bodies in prop::collection::vec("[a-z<>/ \\]]{1,200}", 1..5), step in 1usize..100) {
        let bodies: Vec<String> = bodies.into_iter().filter(|b| !b.contains("]]>]]>") && !b.ends_with(']') && !b.ends_with("]]>") && !b.ends_with("]]>]") && !b.ends_with("]]>]]")).collect();
        let mut stream = BytesMut::new();
        for b in &bodies {
            framing::encode_eom(b.as_bytes(), &mut stream);
        }
        let got = decode_in(&stream, Framing::EndOfMessage, step).unwrap();
        prop_assert_eq!(got.iter().map(|b| String::from_utf8(b.to_vec()).unwrap()).collect::<Vec<_>>(), bodies);
    }

    #[test]
    fn framer_never_panics(data in prop::collection::vec(any::<u8>(), 0..400), chunked in any::<bool>(), step in 1usize..50) {
        let f = if chunked { Framing::Chunked } else { Framing::EndOfMessage };
        let whole = decode_in(&data, f, data.len().max(1));
        let split = decode_in(&data, f, step);
        prop_assert_eq!(whole.is_ok(), split.is_ok());
    }

    #[test]
    fn decoder_never_panics(data in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = Message::decode(Bytes::from(data), &Limits::default());
    }

    #[test]
    fn decoder_never_panics_on_xmlish(s in "(<(rpc-reply|data|hello|notification|rpc-error|error-info|ok|x)( xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\")?>|</(rpc-reply|data|hello|x)>|[a-z&;#0-9 ]){0,40}") {
        let _ = Message::decode(Bytes::from(s), &Limits::default());
    }
}
