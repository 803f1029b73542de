//! Hand-built bytes for every SWIMA attribute (RFC 8412 §5.6–§5.15): decode to the expected
//! value, re-encode identically, exact `value_len`, and a negative test per failure mode.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use bytes::Bytes;
use nea_wire::{DecodeError, DecodeErrorKind, Text, VendorId};
use pa_tnc::{DateTime20, ErrorCode, ErrorInfo, PaAttribute, PaTncError};
use proptest::prelude::*;
use swima::*;

fn rt<T: PaAttribute + PartialEq + core::fmt::Debug>(wire: &[u8], expected: &T) {
    let v = T::decode_value(Bytes::copy_from_slice(wire), 100).unwrap();
    assert_eq!(&v, expected);
    assert_eq!(v.value_len(), wire.len());
    let mut out = Vec::new();
    v.encode_value(&mut out);
    assert_eq!(out, wire);
}

fn err<T: PaAttribute + core::fmt::Debug>(wire: &[u8]) -> DecodeError {
    T::decode_value(Bytes::copy_from_slice(wire), 100).unwrap_err()
}

const REQ: &[u8] = &[
    0xc0, 0, 0, 2, // C + S, two targets
    0, 0, 0, 7, // request id
    0, 0, 0, 5, // earliest EID
    0, 3, b'a', b'_', b'b', // "a_b"
    0, 0, // ""
];

/// RFC 8412 §5.6.
#[test]
fn swima_request() {
    let r = SwimaRequest::new(0xc0, 7, 5, vec![Text::from("a_b"), Text::from("")]).unwrap();
    rt(REQ, &r);
    assert!(r.clear_subscriptions() && r.subscribe() && !r.identifiers_only());
    assert!(r.selects(&Text::from("a_b")) && !r.selects(&Text::from("x")));
    // Count larger than the bytes can hold: rejected before allocating, at the count field.
    let mut bad = REQ.to_vec();
    bad[1..4].copy_from_slice(&[0xff, 0xff, 0xff]);
    assert_eq!(
        err::<SwimaRequest>(&bad),
        DecodeError::new(DecodeErrorKind::CountMismatch { count: 0xff_ffff }, 101)
    );
    // Identifier length overruns.
    let mut bad = REQ.to_vec();
    bad[13] = 9;
    assert!(matches!(
        err::<SwimaRequest>(&bad).kind,
        DecodeErrorKind::UnexpectedEnd { .. }
    ));
    // Trailing bytes.
    let mut bad = REQ.to_vec();
    bad.push(0);
    assert_eq!(
        err::<SwimaRequest>(&bad),
        DecodeError::new(DecodeErrorKind::TrailingBytes { count: 1 }, 100 + REQ.len())
    );
    // Invalid UTF-8 in an identifier.
    let mut bad = REQ.to_vec();
    bad[14] = 0xff;
    assert_eq!(
        err::<SwimaRequest>(&bad),
        DecodeError::new(DecodeErrorKind::InvalidUtf8, 114)
    );
    // Short header.
    assert!(matches!(
        err::<SwimaRequest>(&REQ[..11]).kind,
        DecodeErrorKind::UnexpectedEnd { .. }
    ));
    // Constructors refuse what the wire cannot carry.
    let long = Text::from("x".repeat(70_000));
    assert!(matches!(
        SwimaRequest::new(0, 1, 0, vec![long]),
        Err(Error::TooLong { .. })
    ));
}

fn id_record() -> Vec<u8> {
    let mut v = vec![0, 0, 0, 9, 0, 0, 0, 1, 3, 0]; // record 9, PEN 0 type 1, source 3
    v.extend_from_slice(&[0, 3, b'r', b'_', b'x', 0, 7]);
    v.extend_from_slice(b"file:/x");
    v
}

fn sw_id() -> SoftwareId {
    SoftwareId::new(9, DataModelType::SWID_2009, 3, "r_x", "file:/x")
}

/// RFC 8412 §5.7.
#[test]
fn software_identifier_inventory() {
    let mut wire = vec![
        0x80, 0, 0, 1, 0, 0, 0, 4, 0xaa, 0xbb, 0xcc, 0xdd, 0, 0, 0, 12,
    ];
    wire.extend(id_record());
    let v = SoftwareIdentifierInventory::new(0x80, 4, 0xaabb_ccdd, 12, vec![sw_id()]).unwrap();
    rt(&wire, &v);
    assert!(v.subscription_fulfillment());
    assert_eq!(SoftwareIdentifierInventory::TYPE, 14);
    let mut bad = wire.clone();
    bad[3] = 2; // count 2, only one record
    assert!(matches!(
        err::<SoftwareIdentifierInventory>(&bad).kind,
        DecodeErrorKind::CountMismatch { count: 2 } | DecodeErrorKind::UnexpectedEnd { .. }
    ));
    let mut bad = wire.clone();
    bad[1..4].copy_from_slice(&[0x10, 0, 0]);
    assert_eq!(
        err::<SoftwareIdentifierInventory>(&bad),
        DecodeError::new(DecodeErrorKind::CountMismatch { count: 0x10_0000 }, 101)
    );
    assert!(err::<SoftwareIdentifierInventory>(&wire[..15]).offset >= 100);
}

/// RFC 8412 §5.9.
#[test]
fn software_inventory() {
    let mut wire = vec![0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0];
    wire.extend(id_record());
    wire.extend_from_slice(&[0, 0, 0, 3, b'<', b'a', b'>']);
    let v = SoftwareInventory::new(
        0,
        4,
        1,
        0,
        vec![SoftwareRecord {
            id: sw_id(),
            record: Bytes::from_static(b"<a>"),
        }],
    )
    .unwrap();
    rt(&wire, &v);
    assert_eq!(SoftwareInventory::TYPE, 16);
    let mut bad = wire.clone();
    let n = bad.len();
    bad[n - 4] = 9; // record length overruns
    assert!(matches!(
        err::<SoftwareInventory>(&bad).kind,
        DecodeErrorKind::UnexpectedEnd { .. }
    ));
}

fn event_prefix(eid: u8) -> Vec<u8> {
    let mut v = vec![0, 0, 0, eid];
    v.extend_from_slice(b"2026-11-27T02:30:00Z");
    v
}

/// RFC 8412 §5.8.
#[test]
fn software_identifier_events() {
    let mut wire = vec![0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 7];
    wire.extend(event_prefix(7));
    let mut rec = id_record();
    rec[9] = 2; // Action DELETION in the reserved position
    wire.extend(rec);
    let e = Event {
        eid: 7,
        timestamp: DateTime20::new("2026-11-27T02:30:00Z").unwrap(),
        action: Action::DELETION,
        item: sw_id(),
    };
    let v = SoftwareIdentifierEvents::new(0, 4, 1, 9, 7, vec![e]).unwrap();
    rt(&wire, &v);
    assert!(v.is_partial());
    assert!(SoftwareIdentifierEvents::new(0, 4, 1, 6, 7, vec![]).is_err());
    // Unknown actions decode (a SWIMA-PV ignores that event only, §5.8).
    let mut odd = wire.clone();
    odd[20 + 24 + 9] = 9;
    let v = SoftwareIdentifierEvents::decode_value(Bytes::from(odd), 0).unwrap();
    assert!(!v.events()[0].action.is_known());
    // A malformed timestamp is reported at its offset.
    let mut bad = wire.clone();
    bad[24] = b'x';
    assert_eq!(
        err::<SoftwareIdentifierEvents>(&bad),
        DecodeError::new(
            DecodeErrorKind::InvalidValue {
                field: "RFC 3339 time"
            },
            124
        )
    );
    // strongSwan's unknown time is accepted.
    let mut unk = wire.clone();
    unk[24..44].copy_from_slice(b"0000-00-00T00:00:00Z");
    assert!(SoftwareIdentifierEvents::decode_value(Bytes::from(unk), 0).is_ok());
    let mut bad = wire.clone();
    bad[1..4].copy_from_slice(&[0, 0, 2]);
    assert!(matches!(
        err::<SoftwareIdentifierEvents>(&bad).kind,
        DecodeErrorKind::CountMismatch { count: 2 }
    ));
}

/// RFC 8412 §5.10.
#[test]
fn software_events() {
    let mut wire = vec![
        0x80, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0, 7,
    ];
    wire.extend(event_prefix(7));
    let mut rec = id_record();
    rec[9] = 1;
    wire.extend(rec);
    wire.extend_from_slice(&[0, 0, 0, 0]); // zero-length record (§3.6)
    let e = Event {
        eid: 7,
        timestamp: DateTime20::new("2026-11-27T02:30:00Z").unwrap(),
        action: Action::CREATION,
        item: SoftwareRecord {
            id: sw_id(),
            record: Bytes::new(),
        },
    };
    let v = SoftwareEvents::new(0x80, 4, 1, 7, 7, vec![e]).unwrap();
    rt(&wire, &v);
    assert!(v.subscription_fulfillment() && !v.is_partial());
    assert!(err::<SoftwareEvents>(&wire[..wire.len() - 1]).offset > 100);
}

/// RFC 8412 §5.11, §5.13: no value.
#[test]
fn empty_requests() {
    rt(&[], &SubscriptionStatusRequest);
    rt(&[], &SourceMetadataRequest);
    assert_eq!(
        err::<SubscriptionStatusRequest>(&[0]),
        DecodeError::new(
            DecodeErrorKind::LengthMismatch {
                length: 13,
                expected: 12
            },
            96
        )
    );
    assert!(err::<SourceMetadataRequest>(&[0, 0]).offset == 96);
}

/// RFC 8412 §5.12: each record copies the establishing request exactly.
#[test]
fn subscription_status_response() {
    let mut wire = vec![0, 0, 0, 2];
    wire.extend_from_slice(REQ);
    wire.extend_from_slice(&[0x40, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0]);
    let a = SwimaRequest::decode_value(Bytes::from_static(REQ), 0).unwrap();
    let b = SwimaRequest::inventory(8).with_flag(SwimaRequest::FLAG_SUBSCRIBE);
    let v = SubscriptionStatusResponse::new(vec![a, b]).unwrap();
    rt(&wire, &v);
    rt(&[0, 0, 0, 0], &SubscriptionStatusResponse::default());
    let mut bad = wire.clone();
    bad[3] = 3;
    assert!(matches!(
        err::<SubscriptionStatusResponse>(&bad).kind,
        DecodeErrorKind::CountMismatch { count: 3 } | DecodeErrorKind::UnexpectedEnd { .. }
    ));
    assert!(err::<SubscriptionStatusResponse>(&[0, 0]).offset >= 100);
}

/// RFC 8412 §5.14: sub-blocks start at offset 3 (unaligned).
#[test]
fn source_metadata_response() {
    let wire = [0, 0, 2, 1, 0, 3, b'd', b'p', b'k', 7, 0, 0];
    let v = SourceMetadataResponse::new(vec![
        SourceMetadata {
            source_id: 1,
            metadata: Text::from("dpk"),
        },
        SourceMetadata {
            source_id: 7,
            metadata: Text::from(""),
        },
    ])
    .unwrap();
    rt(&wire, &v);
    assert!(matches!(
        err::<SourceMetadataResponse>(&[0, 0, 5, 1, 0, 0]).kind,
        DecodeErrorKind::CountMismatch { count: 5 }
    ));
    assert!(
        SourceMetadataResponse::new(vec![SourceMetadata {
            source_id: 1,
            metadata: Text::from("x\0"),
        }])
        .is_err()
    );
}

fn err_rt(code: ErrorCode, info: &[u8], expected: &SwimaErrorInfo) {
    let v = SwimaErrorInfo::decode(code.0, Bytes::copy_from_slice(info), 0)
        .unwrap()
        .unwrap();
    assert_eq!(&v, expected);
    assert_eq!(v.code(), code);
    assert_eq!(v.info_len(), info.len());
    let pe = PaTncError::from(&v);
    assert_eq!(pe.code, code.0);
    let ErrorInfo::Other(raw) = &pe.info else {
        panic!("not raw")
    };
    assert_eq!(&raw[..], info);
    // Through the PA-TNC Error attribute and back.
    let a = pe.to_attribute();
    let back = PaTncError::from_attribute(&a).unwrap();
    assert_eq!(SwimaErrorInfo::try_from(&back).unwrap(), v);
}

/// RFC 8412 §5.15.1–§5.15.3, codes 4–8.
#[test]
fn swima_errors() {
    let desc = Text::from("no");
    err_rt(
        ErrorCode::SWIMA_ERROR,
        &[0, 0, 0, 1, b'n', b'o'],
        &SwimaErrorInfo::SwimaError {
            request_id: 1,
            description: desc.clone(),
        },
    );
    err_rt(
        ErrorCode::SWIMA_SUBSCRIPTION_DENIED_ERROR,
        &[0, 0, 0, 2, b'n', b'o'],
        &SwimaErrorInfo::SubscriptionDenied {
            request_id: 2,
            description: desc.clone(),
        },
    );
    err_rt(
        ErrorCode::SWIMA_RESPONSE_TOO_LARGE_ERROR,
        &[0, 0, 0, 3, 0, 1, 0, 0],
        &SwimaErrorInfo::ResponseTooLarge {
            request_id: 3,
            max_allowed_size: 65536,
            description: Text::from(""),
        },
    );
    err_rt(
        ErrorCode::SWIMA_SUBSCRIPTION_ID_REUSE_ERROR,
        &[0, 0, 0, 4, b'n', b'o'],
        &SwimaErrorInfo::SubscriptionIdReuse {
            request_id: 4,
            description: desc.clone(),
        },
    );
    // Code 7 wraps a sub-error: here RESPONSE_TOO_LARGE.
    let sub = SwimaErrorInfo::ResponseTooLarge {
        request_id: 5,
        max_allowed_size: 100,
        description: Text::from(""),
    };
    let f = SwimaErrorInfo::fulfillment(5, sub.to_pa_tnc_error()).unwrap();
    err_rt(
        ErrorCode::SWIMA_SUBSCRIPTION_FULFILLMENT_ERROR,
        &[0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 5, 0, 0, 0, 100],
        &f,
    );
    let SwimaErrorInfo::SubscriptionFulfillment { sub_error, .. } = &f else {
        panic!()
    };
    assert_eq!(
        SwimaErrorInfo::from_pa_tnc_error(sub_error, 0)
            .unwrap()
            .unwrap(),
        sub
    );
    // RFC 8412 §5.15.3: the sub-error MUST NOT be code 7.
    assert!(SwimaErrorInfo::fulfillment(5, f.to_pa_tnc_error()).is_err());
    let nested = [
        0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 4,
    ];
    assert_eq!(
        SwimaErrorInfo::decode(7, Bytes::copy_from_slice(&nested), 20)
            .unwrap()
            .unwrap_err(),
        DecodeError::new(
            DecodeErrorKind::InvalidValue {
                field: "Sub-error Code"
            },
            28
        )
    );
    // Short information, bad UTF-8, non-SWIMA codes.
    assert!(matches!(
        SwimaErrorInfo::decode(4, Bytes::from_static(&[0, 0]), 0)
            .unwrap()
            .unwrap_err()
            .kind,
        DecodeErrorKind::UnexpectedEnd { .. }
    ));
    assert_eq!(
        SwimaErrorInfo::decode(6, Bytes::from_static(&[0, 0, 0, 1, 0, 0, 0, 1, 0xff]), 8)
            .unwrap()
            .unwrap_err(),
        DecodeError::new(DecodeErrorKind::InvalidUtf8, 16)
    );
    assert!(SwimaErrorInfo::decode(3, Bytes::new(), 0).is_none());
    let other_vendor = PaTncError {
        vendor: VendorId::ITA,
        code: 4,
        info: ErrorInfo::Other(Bytes::new()),
    };
    assert!(SwimaErrorInfo::from_pa_tnc_error(&other_vendor, 0).is_none());
    // RFC 8412 §5.15.1: descriptions are never NUL-terminated.
    assert!(
        SwimaErrorInfo::SwimaError {
            request_id: 1,
            description: Text::from("x\0")
        }
        .check()
        .is_err()
    );
}

/// The dispatcher covers 13–21 and nothing else.
#[test]
fn dispatch() {
    assert!(SwimaAttribute::decode_value(VendorId::IETF, 8, Bytes::new(), 0).is_none());
    assert!(SwimaAttribute::decode_value(VendorId::ITA, 13, Bytes::new(), 0).is_none());
    let a = SwimaRequest::inventory(1).to_attribute();
    let v = SwimaAttribute::decode(&a).unwrap().unwrap();
    assert_eq!(v.to_attribute(), a);
    assert!(SwimaAttribute::is_swima(VendorId::IETF, 21));
    assert!(!SwimaAttribute::is_swima(VendorId::IETF, 22));
}

proptest! {
    /// No panic on any bytes, and whatever decodes re-encodes to an equal value of the same
    /// size (byte-exact except ignored reserved bytes of records).
    #[test]
    fn any_bytes(kind in 13u32..=21, data in proptest::collection::vec(any::<u8>(), 0..200)) {
        let input = Bytes::from(data);
        if let Some(Ok(v)) = SwimaAttribute::decode_value(VendorId::IETF, kind, input.clone(), 0) {
            let a = v.to_attribute();
            prop_assert_eq!(a.value.len(), input.len());
            prop_assert_eq!(v.value_len(), input.len());
            let again = SwimaAttribute::decode(&a).unwrap().unwrap();
            prop_assert_eq!(again, v);
        }
        for code in 4..=8 {
            if let Some(Ok(v)) = SwimaErrorInfo::decode(code, input.clone(), 0) {
                prop_assert_eq!(v.info_len(), input.len());
            }
        }
    }

    /// decode(encode(x)) == x for generated requests and inventories.
    #[test]
    fn generated(flags in any::<u8>(), id in any::<u32>(), eid in any::<u32>(),
                 ids in proptest::collection::vec("[a-z_]{0,12}", 0..6)) {
        let targets: Vec<Text> = ids.iter().map(|s| Text::from(s.as_str())).collect();
        let r = SwimaRequest::new(flags, id, eid, targets).unwrap();
        let back = SwimaRequest::from_attribute(&r.to_attribute()).unwrap();
        prop_assert_eq!(&back, &r);
        let recs: Vec<SoftwareRecord> = ids.iter().enumerate().map(|(i, s)| SoftwareRecord {
            id: SoftwareId::new(u32::try_from(i).unwrap(), DataModelType::SWID_2015, 1, s.as_str(), ""),
            record: Bytes::from(s.clone().into_bytes()),
        }).collect();
        let inv = SoftwareInventory::new(flags & 0x80, id, eid, eid, recs).unwrap();
        prop_assert_eq!(SoftwareInventory::from_attribute(&inv.to_attribute()).unwrap(), inv);
    }
}
