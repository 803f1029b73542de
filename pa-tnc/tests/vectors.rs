//! Every PA-TNC message captured from strongSwan decodes, re-encodes byte for byte, and its
//! IETF attributes decode to the values the capture's index shows.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use bytes::Bytes;
use nea_wire::VendorId;
use pa_tnc::segmentation::{
    ContractRequest, ContractResponse, NextSegment, Reassembler, Reassembly, SegmentationEnvelope,
};
use pa_tnc::{
    AttributeType, FactoryDefaultPasswordEnabled, ForwardingEnabled, IetfAttribute, Limits,
    NumericVersion, OperationalStatus, PaAssessmentResult, PaAttribute, PaTncMessage,
    ProductInformation, StringVersion,
};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn all_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for d in std::fs::read_dir(data()).unwrap() {
        let d = d.unwrap().path();
        if d.is_dir() {
            for f in std::fs::read_dir(&d).unwrap() {
                let f = f.unwrap().path();
                if f.to_string_lossy().ends_with(".patnc.bin") {
                    out.push(f);
                }
            }
        }
    }
    out.sort();
    out
}

fn load(rel: &str) -> Bytes {
    Bytes::from(std::fs::read(data().join(rel)).unwrap())
}

#[test]
fn every_capture_round_trips() {
    let files = all_files();
    assert!(
        files.len() >= 40,
        "expected the whole capture set, found {}",
        files.len()
    );
    for f in files {
        let wire = Bytes::from(std::fs::read(&f).unwrap());
        let m =
            PaTncMessage::decode(wire.clone()).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert_eq!(m.encoded_len(), wire.len(), "{}", f.display());
        assert_eq!(m.to_bytes(), wire, "{}", f.display());
        for a in &m.attributes {
            if let Some(r) = IetfAttribute::decode(a) {
                let typed = r.unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                let mut again = typed.to_attribute();
                again.flags = a.flags;
                assert_eq!(again.value, a.value, "{}", f.display());
            }
        }
    }
}

#[test]
fn operating_system_attributes() {
    let m = PaTncMessage::decode(load(
        "01-sasl-plain-test-os-isolate/07-c2s-pb-cdata.pa2-operating-system.patnc.bin",
    ))
    .unwrap();
    assert_eq!(m.message_id, 0x3fc1d077);
    let a = &m.attributes;
    assert_eq!(a.len(), 7);
    let p = ProductInformation::from_attribute(&a[0]).unwrap();
    assert_eq!(p.vendor.get(), 9586);
    assert_eq!(p.product_id, 0);
    assert_eq!(p.name, "Debian");
    let s = StringVersion::from_attribute(&a[1]).unwrap();
    assert_eq!(s.product_version, "12 x86_64");
    assert_eq!(s.internal_build, "");
    let n = NumericVersion::from_attribute(&a[2]).unwrap();
    assert_eq!((n.major, n.minor, n.build), (12, 0, 0));
    let o = OperationalStatus::from_attribute(&a[3]).unwrap();
    assert_eq!(o.status, OperationalStatus::STATUS_OPERATIONAL);
    assert_eq!(o.result, 1);
    assert_eq!(o.last_use.as_str(), "2026-11-26T22:41:34Z");
    assert_eq!(
        ForwardingEnabled::from_attribute(&a[4]).unwrap(),
        ForwardingEnabled::DISABLED
    );
    assert_eq!(
        FactoryDefaultPasswordEnabled::from_attribute(&a[5]).unwrap(),
        FactoryDefaultPasswordEnabled::NO
    );
    // ITA Device ID: unknown to this crate, kept raw.
    assert_eq!(a[6].vendor, VendorId::ITA);
    assert_eq!(a[6].encoded_len(), 44);
    assert!(IetfAttribute::decode(&a[6]).is_none());

    let r = PaTncMessage::decode(load(
        "01-sasl-plain-test-os-isolate/10-s2c-pb-result.pa1-test.patnc.bin",
    ))
    .unwrap();
    assert_eq!(
        PaAssessmentResult::from_attribute(&r.attributes[0]).unwrap(),
        PaAssessmentResult::MINOR_NON_COMPLIANCE
    );
}

#[test]
fn ita_command_has_noskip() {
    let m = PaTncMessage::decode(load(
        "01-sasl-plain-test-os-isolate/07-c2s-pb-cdata.pa1-test.patnc.bin",
    ))
    .unwrap();
    assert!(m.attributes[0].noskip());
    assert_eq!(m.attributes[0].vendor, VendorId::ITA);
    assert_eq!(&m.attributes[0].value[..], b"isolate");
}

#[test]
fn segmented_inventory_reassembles() {
    let dir = "03-swima-sw-inventory-segmented";
    // Contract: the client asks for 2,097,080-byte segments, the server lowers to 65,512.
    let req =
        PaTncMessage::decode(load(&format!("{dir}/04-c2s-pb-cdata.pa2-swima.patnc.bin"))).unwrap();
    let req = ContractRequest::from_attribute(&req.attributes[0]).unwrap();
    assert_eq!(req.max_message_size, u32::MAX);
    assert_eq!(req.max_segment_size, 2_097_080);
    let resp =
        PaTncMessage::decode(load(&format!("{dir}/05-s2c-pb-sdata.pa1-swima.patnc.bin"))).unwrap();
    assert_eq!(
        ContractResponse::from_attribute(&resp.attributes[0]).unwrap(),
        req.respond(u32::MAX, 65_512)
    );

    let mut r = Reassembler::new(&Limits::default());
    let envelopes = [
        "06-c2s-pb-cdata.pa1-swima.patnc.bin",
        "08-c2s-pb-cdata.pa1-swima.patnc.bin",
        "10-c2s-pb-cdata.pa1-swima.patnc.bin",
        "12-c2s-pb-cdata.pa1-swima.patnc.bin",
        "14-c2s-pb-cdata.pa1-swima.patnc.bin",
        "16-c2s-pb-cdata.pa1-swima.patnc.bin",
    ];
    let next_requests = [
        "07-s2c-pb-sdata.pa1-swima.patnc.bin",
        "09-s2c-pb-sdata.pa1-swima.patnc.bin",
        "11-s2c-pb-sdata.pa1-swima.patnc.bin",
        "13-s2c-pb-sdata.pa1-swima.patnc.bin",
        "15-s2c-pb-sdata.pa1-swima.patnc.bin",
    ];
    let mut complete = None;
    for (i, f) in envelopes.iter().enumerate() {
        let m = PaTncMessage::decode(load(&format!("{dir}/{f}"))).unwrap();
        let a = m.attributes.last().unwrap();
        let env = SegmentationEnvelope::from_attribute(a).unwrap();
        assert_eq!(env.base_message_id, 1);
        assert_eq!(env.flags, [0xc0, 0x80, 0x80, 0x80, 0x80, 0x00][i]);
        match r.handle(&env).unwrap() {
            Reassembly::NeedMore(ns) => {
                // Our Next Segment is byte-identical to strongSwan's.
                let theirs =
                    PaTncMessage::decode(load(&format!("{dir}/{}", next_requests[i]))).unwrap();
                assert_eq!(
                    NextSegment::from_attribute(&theirs.attributes[0]).unwrap(),
                    ns
                );
                assert_eq!(ns.to_attribute().value, theirs.attributes[0].value);
            }
            Reassembly::Complete(a) => complete = Some(a),
        }
    }
    let a = complete.expect("last envelope completes the attribute");
    assert!(a.is_ietf(AttributeType::SOFTWARE_INVENTORY));
    assert_eq!(a.encoded_len(), 390_774);
    // The derived reassembled attribute shipped with the captures.
    let mut out = Vec::new();
    a.encode(&mut out);
    let whole: Vec<u8> = envelopes
        .iter()
        .flat_map(|f| {
            let m = PaTncMessage::decode(load(&format!("{dir}/{f}"))).unwrap();
            let env = SegmentationEnvelope::from_attribute(m.attributes.last().unwrap()).unwrap();
            env.segment.to_vec()
        })
        .collect();
    assert_eq!(out, whole);
}

#[test]
fn segmenter_reproduces_strongswan_envelopes() {
    let dir = "03-swima-sw-inventory-segmented";
    let mut r = Reassembler::new(&Limits::default());
    let mut theirs = Vec::new();
    let mut base = None;
    for f in ["06", "08", "10", "12", "14", "16"] {
        let m = PaTncMessage::decode(load(&format!("{dir}/{f}-c2s-pb-cdata.pa1-swima.patnc.bin")))
            .unwrap();
        let env = SegmentationEnvelope::from_attribute(m.attributes.last().unwrap()).unwrap();
        if let Reassembly::Complete(a) = r.handle(&env).unwrap() {
            base = Some(a);
        }
        theirs.push(m.attributes.last().unwrap().clone());
    }
    let base = base.unwrap();
    let mut s = pa_tnc::segmentation::Segmenter::new(&base, 1, 65_512);
    for t in theirs {
        let ours = s.next_envelope().unwrap().to_attribute();
        assert_eq!(ours.flags, t.flags);
        assert_eq!(ours.value, t.value);
    }
    assert!(s.is_done());
}

#[test]
fn endpoint_plays_strongswans_validator_side() {
    use pa_tnc::segmentation::{SegmentationEndpoint, SegmentationEvent};
    let dir = "03-swima-sw-inventory-segmented";
    let attr = |f: &str, i: usize| {
        PaTncMessage::decode(load(&format!("{dir}/{f}")))
            .unwrap()
            .attributes[i]
            .clone()
    };
    // The IMV's limits as in the capture: segments of at most 65,512 bytes.
    let mut pv = SegmentationEndpoint::new(&Limits::default(), u32::MAX, 65_512);
    let Some(SegmentationEvent::Reply(resp)) =
        pv.handle(&attr("04-c2s-pb-cdata.pa2-swima.patnc.bin", 0))
    else {
        panic!("contract request must be answered");
    };
    assert_eq!(
        resp.value,
        attr("05-s2c-pb-sdata.pa1-swima.patnc.bin", 0).value
    );
    let replies = ["07", "09", "11", "13", "15"];
    for (i, n) in ["06", "08", "10", "12", "14"].iter().enumerate() {
        let env = {
            let m =
                PaTncMessage::decode(load(&format!("{dir}/{n}-c2s-pb-cdata.pa1-swima.patnc.bin")))
                    .unwrap();
            m.attributes.last().unwrap().clone()
        };
        let Some(SegmentationEvent::Reply(ns)) = pv.handle(&env) else {
            panic!("segment {i} must be answered with Next Segment");
        };
        let theirs = attr(
            &format!("{}-s2c-pb-sdata.pa1-swima.patnc.bin", replies[i]),
            0,
        );
        assert_eq!(
            (ns.vendor, ns.kind, &ns.value),
            (theirs.vendor, theirs.kind, &theirs.value)
        );
    }
    let last = attr("16-c2s-pb-cdata.pa1-swima.patnc.bin", 0);
    let Some(SegmentationEvent::Delivered(inv)) = pv.handle(&last) else {
        panic!("last segment completes the inventory");
    };
    assert!(inv.is_ietf(AttributeType::SOFTWARE_INVENTORY));
    assert_eq!(inv.encoded_len(), 390_774);
    // Non-segmentation attributes are left to the caller.
    assert!(
        pv.handle(&attr("05-s2c-pb-sdata.pa3-swima.patnc.bin", 1))
            .is_none()
    );
}
