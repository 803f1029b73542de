//! PB-TNC targets.

use std::sync::Arc;

use bytes::Bytes;
use pb_tnc::{
    AccessRecommendation, Batch, Config, PaSubtype, PbAssessmentResult, PbPa, Session, Side,
};

/// `pb_tnc_batch`: decode a PB-TNC batch; a successful decode has an exact `encoded_len`
/// and re-encodes to bytes of the same length that decode to the same value and re-encode to
/// themselves. The first re-encoding equals the input except in reserved bits and fields
/// (ignored on receipt, sent as 0, RFC 5793 §4); the seed replay test checks byte equality
/// on the canonical strongSwan seeds. Both session roles take the bytes as a received batch
/// without panicking.
pub fn pb_tnc_batch(data: &[u8]) {
    let wire = Bytes::copy_from_slice(data);
    for side in [Side::Client, Side::Server] {
        let mut s = Session::new(Arc::new(Config::default()), side);
        s.handle_batch(wire.clone());
        while s.poll_transmit().is_some() {}
        while s.poll_event().is_some() {}
    }
    let Ok(b) = Batch::decode(wire.clone()) else {
        return;
    };
    assert_eq!(b.encoded_len(), wire.len());
    let again = b.to_bytes();
    assert_eq!(again.len(), wire.len());
    let b2 = Batch::decode(again.clone());
    assert_eq!(
        b2.as_ref().ok(),
        Some(&b),
        "a re-encoded batch decodes to the same value"
    );
    let Ok(b2) = b2 else { return };
    assert_eq!(b2.to_bytes(), again);
}

/// `pb_tnc_session`: random chunks as batches and random commands, for a client and a server
/// that also exchange whatever they transmit. Nothing may panic and a closed session must
/// stay closed.
pub fn pb_tnc_session(data: &[u8]) {
    let config = Arc::new(Config::default().with_max_round_trips(50));
    let mut client = Session::new(config.clone(), Side::Client);
    let mut server = Session::new(config, Side::Server);
    let mut rest = data;
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        let target = if op & 0x80 != 0 {
            &mut server
        } else {
            &mut client
        };
        match op & 0x0f {
            0 | 1 => {
                // A chunk of the input as a received batch: length byte, then bytes.
                let Some((&n, tail)) = rest.split_first() else {
                    break;
                };
                let n = usize::from(n).min(tail.len());
                let (chunk, tail) = tail.split_at(n);
                rest = tail;
                target.handle_batch(Bytes::copy_from_slice(chunk));
            }
            2 => {
                let _ = target.send_pa(PbPa::new(
                    nea_wire::VendorId::IETF,
                    PaSubtype::TESTING,
                    Bytes::from_static(b"pa"),
                ));
            }
            3 => {
                let _ = target.end_turn();
            }
            4 => {
                let _ = target.send_result(
                    PbAssessmentResult::COMPLIANT,
                    Some(AccessRecommendation::ACCESS_ALLOWED),
                );
            }
            5 => {
                let _ = target.retry();
            }
            6 => {
                let _ = target.close();
            }
            7 => target.handle_transport_closed(),
            _ => {
                // Exchange what both sides sent.
                while let Some(b) = client.poll_transmit() {
                    server.handle_batch(b);
                }
                while let Some(b) = server.poll_transmit() {
                    client.handle_batch(b);
                }
            }
        }
        for s in [&mut client, &mut server] {
            while s.poll_event().is_some() {}
            if s.is_closed() {
                assert!(!s.is_my_turn());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replay_pb_tnc_batch() {
        assert!(crate::replay("pb_tnc_batch", super::pb_tnc_batch) > 0);
        // The seeds are real (canonical) batches: byte-for-byte round trip.
        fn exact(data: &[u8]) {
            if let Ok(b) = pb_tnc::Batch::decode(bytes::Bytes::copy_from_slice(data)) {
                assert_eq!(&b.to_bytes()[..], data);
            }
        }
        assert!(crate::replay("pb_tnc_batch", exact) > 0);
    }

    #[test]
    fn replay_pb_tnc_session() {
        assert!(crate::replay("pb_tnc_session", super::pb_tnc_session) > 0);
    }
}
