//! CoSWID / SWID XML targets.

use coswid::swid::SoftwareIdentity;
use coswid::{ConciseSwidTag, canonicalize};

/// `coswid_cbor`: strict and lenient CoSWID decoding never panic; a strict decode re-encodes
/// (validated) to bytes that decode strictly to the same tag, with an exact `encoded_len`; a
/// canonical input re-encodes canonically to itself; a lenient decode re-encodes to bytes that
/// decode leniently to the same tag; COSE parsing never panics.
pub fn coswid_cbor(data: &[u8]) {
    let _ = coswid::cose::unverified_payload(data);
    if let Ok(d) = ConciseSwidTag::decode_with(data, coswid::Mode::Strict) {
        let t = d.tag;
        let out = t.to_cbor();
        assert!(out.is_ok(), "a strictly decoded tag validates");
        let Ok(out) = out else { return };
        assert_eq!(t.encoded_len(), out.len());
        assert_eq!(ConciseSwidTag::decode(&out).ok().as_ref(), Some(&t));
        if !d.tagged && canonicalize(data).ok().as_deref() == Some(data) {
            assert_eq!(t.to_cbor_canonical(), data);
        }
    }
    if let Ok(d) = ConciseSwidTag::decode_lenient(data) {
        let mut out = Vec::new();
        d.tag.encode(&mut out);
        let again = ConciseSwidTag::decode_lenient(&out).map(|x| x.tag);
        assert_eq!(again.as_ref().ok(), Some(&d.tag));
    }
}

/// `swid_xml`: parsing never panics; a parsed document re-emits to XML that parses to the same
/// tree; its CoSWID conversion encodes to CBOR that decodes leniently to the same tag.
pub fn swid_xml(data: &[u8]) {
    let Ok(si) = SoftwareIdentity::parse(data) else {
        return;
    };
    let xml = si.to_xml();
    assert_eq!(
        SoftwareIdentity::parse(xml.as_bytes()).ok().as_ref(),
        Some(&si)
    );
    if let Ok(tag) = si.to_coswid() {
        let mut out = Vec::new();
        tag.encode(&mut out);
        let again = ConciseSwidTag::decode_lenient(&out).map(|x| x.tag);
        assert_eq!(again.as_ref().ok(), Some(&tag));
        let _ = SoftwareIdentity::from_coswid(&tag).to_xml();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replay_coswid_cbor() {
        assert!(crate::replay("coswid_cbor", super::coswid_cbor) > 0);
    }

    #[test]
    fn replay_swid_xml() {
        assert!(crate::replay("swid_xml", super::swid_xml) > 0);
    }
}
