//! RFC 5792 receiver rules: each error the receiver must produce, with its exact bytes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use bytes::Bytes;
use nea_wire::VendorId;
use pa_tnc::{
    Attribute, AttributeType, DecodeErrorOrUnsupported, Disposition, ErrorCode, ErrorInfo, Limits,
    NumericVersion, PaAttribute, PaTncError, PaTncMessage, receive,
};

fn ietf_only(v: VendorId, t: u32) -> bool {
    v == VendorId::IETF && t <= 12
}

fn msg(attrs: &[Attribute]) -> Bytes {
    let mut m = PaTncMessage::new(0x01020304);
    m.attributes.extend_from_slice(attrs);
    m.to_bytes()
}

fn reject(d: Disposition) -> (PaTncError, DecodeErrorOrUnsupported) {
    match d {
        Disposition::Reject { error, cause } => (error, cause),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn encoded(e: &PaTncError) -> Vec<u8> {
    let mut out = Vec::new();
    e.to_attribute().encode(&mut out);
    out
}

const HDR: [u8; 8] = [1, 0, 0, 0, 1, 2, 3, 4];

#[test]
fn processes_and_skips_unknown_without_noskip() {
    let unknown = Attribute::new(VendorId::ITA, 99, false, Bytes::from_static(b"x"));
    let nv = NumericVersion::default().to_attribute();
    match receive(msg(&[unknown, nv]), 0, &Limits::default(), ietf_only) {
        Disposition::Process { message, skipped } => {
            assert_eq!(skipped, vec![0]);
            assert_eq!(message.attributes.len(), 2);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn noskip_unsupported_is_attribute_type_not_supported() {
    // RFC 5792 §4.1, §4.2.8.3.
    let nv = NumericVersion::default().to_attribute();
    let unknown = Attribute::new(VendorId::ITA, 99, true, Bytes::from_static(b"x"));
    let (e, cause) = reject(receive(
        msg(&[nv, unknown]),
        0,
        &Limits::default(),
        ietf_only,
    ));
    assert_eq!(cause, DecodeErrorOrUnsupported::Unsupported(1));
    assert_eq!(e.ietf_code(), Some(ErrorCode::ATTRIBUTE_TYPE_NOT_SUPPORTED));
    assert_eq!(
        encoded(&e),
        [
            0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 36, // attribute header, length 12 + 8 + 16
            0, 0, 0, 0, 0, 0, 0, 3, // reserved, IETF, code 3
            1, 0, 0, 0, 1, 2, 3, 4, // copy of the message header
            0x80, 0x00, 0x90, 0x2a, 0, 0, 0,
            99, // flags, vendor, type of the rejected attribute
        ]
    );
}

#[test]
fn bad_version_is_version_not_supported() {
    // RFC 5792 §3.6, §4.2.8.2.
    let mut wire = msg(&[]).to_vec();
    wire[0] = 2;
    let (e, _) = reject(receive(Bytes::from(wire), 0, &Limits::default(), ietf_only));
    assert_eq!(
        e.info,
        ErrorInfo::VersionNotSupported {
            message_header: [2, 0, 0, 0, 1, 2, 3, 4],
            max_version: 1,
            min_version: 1
        }
    );
    assert_eq!(
        encoded(&e),
        [
            0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 32, 0, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0, 0, 1, 2, 3, 4, 1,
            1, 0, 0
        ]
    );
}

#[test]
fn bad_first_attribute_length_is_invalid_parameter_at_16() {
    // RFC 5792 §4.2.8.1: "if the PA-TNC Attribute Length of the first attribute is invalid,
    // the offset would be 16".
    let mut wire = msg(&[NumericVersion::default().to_attribute()]).to_vec();
    wire[19] = 200;
    let (e, cause) = reject(receive(Bytes::from(wire), 0, &Limits::default(), ietf_only));
    assert!(matches!(cause, DecodeErrorOrUnsupported::Decode(_)));
    assert_eq!(
        e.info,
        ErrorInfo::InvalidParameter {
            message_header: HDR,
            offset: 16
        }
    );
    assert_eq!(
        encoded(&e),
        [
            0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 32, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 2, 3, 4, 0,
            0, 0, 16
        ]
    );
}

#[test]
fn reserved_vendor_and_type_are_invalid_parameter() {
    let a = Attribute::new(VendorId::RESERVED, 1, false, Bytes::new());
    let (e, _) = reject(receive(msg(&[a]), 0, &Limits::default(), ietf_only));
    assert_eq!(
        e.info,
        ErrorInfo::InvalidParameter {
            message_header: HDR,
            offset: 9
        }
    );
    let a = Attribute::new(VendorId::IETF, u32::MAX, false, Bytes::new());
    let (e, _) = reject(receive(msg(&[a]), 0, &Limits::default(), ietf_only));
    assert_eq!(
        e.info,
        ErrorInfo::InvalidParameter {
            message_header: HDR,
            offset: 12
        }
    );
}

#[test]
fn offsets_are_relative_to_the_message_in_a_larger_buffer() {
    let mut wire = msg(&[NumericVersion::default().to_attribute()]).to_vec();
    wire[19] = 5;
    let (e, _) = reject(receive(
        Bytes::from(wire),
        1000,
        &Limits::default(),
        ietf_only,
    ));
    assert_eq!(
        e.info,
        ErrorInfo::InvalidParameter {
            message_header: HDR,
            offset: 16
        }
    );
}

#[test]
fn errors_are_never_answered_with_errors() {
    // A message carrying a PA-TNC Error whose next attribute is malformed: dropped silently.
    let err = PaTncError::invalid_parameter(HDR, 16).to_attribute();
    let mut wire = msg(&[err, NumericVersion::default().to_attribute()]).to_vec();
    let at = wire.len() - 28 + 11; // low byte of Numeric Version's Length
    wire[at] = 3;
    assert!(matches!(
        receive(Bytes::from(wire), 0, &Limits::default(), ietf_only),
        Disposition::Drop(_)
    ));
    // Same with an unsupported NOSKIP attribute next to a PA-TNC Error.
    let err = PaTncError::invalid_parameter(HDR, 16).to_attribute();
    let unknown = Attribute::new(VendorId::ITA, 5, true, Bytes::new());
    assert!(matches!(
        receive(msg(&[err, unknown]), 0, &Limits::default(), ietf_only),
        Disposition::Drop(_)
    ));
}

#[test]
fn typed_values_reject_bad_lengths_at_the_length_field() {
    // Numeric Version MUST be 28 bytes long (§4.2.3): reported at the attribute's Length.
    let a = Attribute::new(
        VendorId::IETF,
        AttributeType::NUMERIC_VERSION.0,
        false,
        Bytes::from_static(&[0; 15]),
    );
    let m = PaTncMessage::decode(msg(&[a])).unwrap();
    let e = NumericVersion::from_attribute(&m.attributes[0]).unwrap_err();
    assert_eq!(e.offset, 16);
    let reply = pa_tnc::value_error_reply(&m, 0, e);
    assert_eq!(
        reply.info,
        ErrorInfo::InvalidParameter {
            message_header: HDR,
            offset: 16
        }
    );
}

#[test]
fn every_ietf_attribute_rejects_truncation() {
    use pa_tnc::*;
    let samples: Vec<IetfAttribute> = vec![
        IetfAttribute::AttributeRequest(AttributeRequest::new(vec![(VendorId::IETF, 2)]).unwrap()),
        IetfAttribute::ProductInformation(ProductInformation {
            vendor: VendorId::new(9586).unwrap(),
            product_id: 7,
            name: "Debian".into(),
        }),
        IetfAttribute::NumericVersion(NumericVersion {
            major: 1,
            ..Default::default()
        }),
        IetfAttribute::StringVersion(StringVersion::new("1.0", "b7", "").unwrap()),
        IetfAttribute::OperationalStatus(OperationalStatus {
            status: 3,
            result: 1,
            last_use: DateTime20::new("2026-11-26T22:41:34Z").unwrap(),
        }),
        IetfAttribute::PortFilter(
            PortFilter::new(vec![PortFilterEntry {
                blocked: true,
                protocol: 6,
                port: 22,
            }])
            .unwrap(),
        ),
        IetfAttribute::InstalledPackages(
            InstalledPackages::new([("bash", "5.2"), ("vim", "")]).unwrap(),
        ),
        IetfAttribute::PaTncError(PaTncError::version_not_supported(HDR)),
        IetfAttribute::AssessmentResult(PaAssessmentResult::ERROR),
        IetfAttribute::RemediationInstructions(RemediationInstructions(
            RemediationParameters::String {
                text: "update".into(),
                lang: "en".into(),
            },
        )),
        IetfAttribute::ForwardingEnabled(ForwardingEnabled::UNKNOWN),
        IetfAttribute::FactoryDefaultPasswordEnabled(FactoryDefaultPasswordEnabled::YES),
    ];
    for s in samples {
        let a = s.to_attribute();
        assert_eq!(IetfAttribute::decode(&a).unwrap().unwrap(), s);
        // Types whose last field runs to the end accept a shorter value by design.
        if a.value.is_empty() || matches!(s, IetfAttribute::ProductInformation(_)) {
            continue;
        }
        let cut = Attribute {
            value: a.value.slice(..a.value.len() - 1),
            ..a.clone()
        };
        assert!(
            IetfAttribute::decode(&cut).unwrap().is_err(),
            "{s:?} accepted a truncated value"
        );
    }
}

#[test]
fn is_known_as_the_supported_predicate() {
    use pa_tnc::is_known;
    assert!(is_known(VendorId::IETF, 0) && is_known(VendorId::IETF, 12));
    assert!(!is_known(VendorId::IETF, 13)); // SWIMA: the swima crate's business
    assert!(is_known(VendorId::TCG, 0x21) && is_known(VendorId::TCG, 0x27));
    assert!(!is_known(VendorId::TCG, 0x20) && !is_known(VendorId::ITA, 1));
    // An ITA attribute with NOSKIP is rejected, one without is skipped.
    let ita = Attribute::new(VendorId::ITA, 1, true, Bytes::new());
    let (e, _) = reject(receive(msg(&[ita]), 0, &Limits::default(), is_known));
    assert_eq!(e.ietf_code(), Some(ErrorCode::ATTRIBUTE_TYPE_NOT_SUPPORTED));
    let ita = Attribute::new(VendorId::ITA, 1, false, Bytes::new());
    let nv = NumericVersion::default().to_attribute();
    match receive(msg(&[nv, ita]), 0, &Limits::default(), is_known) {
        Disposition::Process { skipped, .. } => assert_eq!(skipped, vec![1]),
        other => panic!("{other:?}"),
    }
}
