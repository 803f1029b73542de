//! PA-TNC targets.

use bytes::Bytes;
use pa_tnc::segmentation::{Reassembler, SegmentationEnvelope};
use pa_tnc::{IetfAttribute, Limits, PaAttribute, PaTncMessage, receive};

/// `pa_tnc_message`: decode a PA-TNC message; a successful decode re-encodes to the input
/// with an exact `encoded_len`; every known attribute decodes without panic and re-encodes to
/// a value that decodes to the same thing; the receiver rules and the reassembler never
/// panic.
pub fn pa_tnc_message(data: &[u8]) {
    let wire = Bytes::copy_from_slice(data);
    let limits = Limits::default();
    let _ = receive(wire.clone(), 0, &limits, pa_tnc::is_known);
    let Ok(m) = PaTncMessage::decode_with(wire.clone(), 0, &limits) else {
        return;
    };
    assert_eq!(m.encoded_len(), wire.len());
    assert_eq!(m.to_bytes(), wire);
    let mut reassembler = Reassembler::new(&limits);
    for a in &m.attributes {
        if let Some(Ok(t)) = IetfAttribute::decode(a) {
            let again = t.to_attribute();
            assert_eq!(IetfAttribute::decode(&again).map(Result::ok), Some(Some(t)));
        }
        if SegmentationEnvelope::matches(a)
            && let Ok(env) = SegmentationEnvelope::from_attribute(a)
        {
            let _ = reassembler.handle(&env);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replay_pa_tnc_message() {
        assert!(crate::replay("pa_tnc_message", super::pa_tnc_message) > 0);
    }
}
