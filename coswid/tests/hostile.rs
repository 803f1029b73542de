//! Hostile input: deep nesting, huge declared lengths. Each must be an error (or a result),
//! never a panic, a stack overflow or an allocation sized by the wire.

use coswid::{ConciseSwidTag, DecodeErrorKind, Mode, swid::SoftwareIdentity};

const DEEP: usize = 100_000;

fn nested_arrays(n: usize) -> Vec<u8> {
    let mut v = vec![0x81; n];
    v.push(0x00);
    v
}

#[test]
fn deep_cbor_arrays() {
    let v = nested_arrays(DEEP);
    assert!(ConciseSwidTag::decode(&v).is_err());
    assert!(ConciseSwidTag::decode_lenient(&v).is_err());
    assert!(ConciseSwidTag::decode_sequence(&v, Mode::Lenient).is_err());
    assert!(coswid::canonicalize(&v).is_err());
    // inside an unknown key of the tag map: {99: [[[...0]]]}
    let mut m = vec![0xa1, 0x18, 99];
    m.extend_from_slice(&v);
    assert!(ConciseSwidTag::decode_lenient(&m).is_err());
    // as a one-or-more field (entity, key 2)
    let mut m = vec![0xa1, 0x02];
    m.extend_from_slice(&v);
    assert!(ConciseSwidTag::decode_lenient(&m).is_err());
}

#[test]
fn deep_cbor_wrapping() {
    // 1398229316(h'<1398229316(h'...')>') nested: lenient accepts one wrapping per level
    let mut v = vec![0xa0];
    for _ in 0..DEEP {
        let mut w = vec![0xda, 0x53, 0x57, 0x49, 0x44, 0x5a];
        w.extend_from_slice(&u32::try_from(v.len()).unwrap().to_be_bytes());
        w.extend_from_slice(&v);
        v = w;
    }
    let e = ConciseSwidTag::decode_lenient(&v).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::TooDeep);
    assert!(ConciseSwidTag::decode(&v).is_err());
    // one wrapping of a real tag still decodes leniently
    let tag = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/coswid/dpkg-min/Debian_12-x86_64-adduser-3.134.cbor"
    ));
    let mut w = vec![0xda, 0x53, 0x57, 0x49, 0x44, 0x5a];
    w.extend_from_slice(&u32::try_from(tag.len()).unwrap().to_be_bytes());
    w.extend_from_slice(tag);
    let d = ConciseSwidTag::decode_lenient(&w).unwrap();
    assert!(d.tagged);
    assert_eq!(d.tag, ConciseSwidTag::decode_lenient(tag).unwrap().tag);
}

#[test]
fn huge_declared_lengths() {
    let huge_array = [0x9b, 0x10, 0, 0, 0, 0, 0, 0, 0];
    let huge_map = [0xbb, 0x10, 0, 0, 0, 0, 0, 0, 0];
    let huge_text = [0x7b, 0x10, 0, 0, 0, 0, 0, 0, 0];
    for h in [&huge_array[..], &huge_map, &huge_text] {
        assert!(ConciseSwidTag::decode_lenient(h).is_err());
        assert!(coswid::canonicalize(h).is_err());
        for key in [0u8, 1, 2, 4, 6, 12, 99] {
            let mut m = vec![0xa1, 0x18, key];
            m.extend_from_slice(h);
            assert!(ConciseSwidTag::decode_lenient(&m).is_err());
            assert!(ConciseSwidTag::decode(&m).is_err());
        }
    }
}

#[test]
fn deep_xml() {
    let mut x = String::from("<SoftwareIdentity><Payload>");
    x.push_str(&"<a>".repeat(DEEP));
    x.push_str(&"</a>".repeat(DEEP));
    x.push_str("</Payload></SoftwareIdentity>");
    // an unknown element is skipped iteratively and kept raw
    let si = SoftwareIdentity::parse(x.as_bytes()).unwrap();
    assert_eq!(si.payload.unwrap().items.len(), 1);
    let mut x = String::from("<SoftwareIdentity><Payload>");
    x.push_str(&"<Directory>".repeat(DEEP));
    x.push_str(&"</Directory>".repeat(DEEP));
    x.push_str("</Payload></SoftwareIdentity>");
    assert!(SoftwareIdentity::parse(x.as_bytes()).is_err());
    let mut x = String::from("<SoftwareIdentity><Payload>");
    x.push_str(&"<Payload>".repeat(DEEP));
    x.push_str(&"</Payload>".repeat(DEEP));
    x.push_str("</Payload></SoftwareIdentity>");
    assert!(SoftwareIdentity::parse(x.as_bytes()).is_err());
    let mut x = String::from("<SoftwareIdentity><Entity>");
    x.push_str(&"<a>".repeat(DEEP));
    x.push_str(&"</a>".repeat(DEEP));
    x.push_str("</Entity></SoftwareIdentity>");
    let si = SoftwareIdentity::parse(x.as_bytes()).unwrap();
    assert_eq!(si.other.len(), 1);
    let x = "<a>".repeat(DEEP);
    assert!(SoftwareIdentity::parse(x.as_bytes()).is_err());
}

/// A real tag with one more key, 99, holding `value`.
fn with_extra(value: &[u8]) -> Vec<u8> {
    let tag = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/coswid/dpkg-min/Debian_12-x86_64-adduser-3.134.cbor"
    ));
    assert_eq!(tag[0], 0xa8);
    let mut v = vec![0xa9];
    v.extend_from_slice(&tag[1..]);
    v.extend_from_slice(&[0x18, 99]);
    v.extend_from_slice(value);
    v
}

#[test]
fn deep_unknown_values_are_bounded() {
    // an unknown value nests within the same 64 levels as everything else (README: Limits)
    for deep in [
        nested_arrays(DEEP),
        nested_arrays(64),
        [vec![0xc1; 64], vec![0x00]].concat(),
        [vec![0x9f; 64], vec![0x00], vec![0xff; 64]].concat(),
        [[0xa1, 0x00].repeat(64), vec![0x00]].concat(),
    ] {
        let e = ConciseSwidTag::decode_lenient(&with_extra(&deep)).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::TooDeep);
    }
    // just within the limit: kept, and the canonical encoding really is canonical
    let ok = with_extra(&nested_arrays(63));
    let d = ConciseSwidTag::decode_lenient(&ok).unwrap();
    assert_eq!(d.tag.attributes.extra.len(), 1);
    let c = d.tag.to_cbor_canonical();
    assert_eq!(coswid::canonicalize(&c).unwrap(), c);
    let ok = with_extra(&[vec![0x9f; 63], vec![0x00], vec![0xff; 63]].concat());
    let d = ConciseSwidTag::decode_lenient(&ok).unwrap();
    let c = d.tag.to_cbor_canonical();
    assert_eq!(coswid::canonicalize(&c).unwrap(), c);
}

fn deep_dirs(n: usize, leaf: &str) -> String {
    format!(
        "<SoftwareIdentity xmlns=\"http://standards.iso.org/iso/19770/-2/2015/schema.xsd\" \
         name=\"x\" tagId=\"t\" version=\"1\"><Entity name=\"e\" regid=\"r\" \
         role=\"tagCreator\"/><Payload>{}{leaf}{}</Payload></SoftwareIdentity>",
        "<Directory name=\"d\">".repeat(n),
        "</Directory>".repeat(n)
    )
}

#[test]
fn deep_directories_convert_only_when_readable_back() {
    // the XML reader follows 64 levels; each Directory is two CBOR levels (directory map and
    // path-elements map): what converts must decode again, the rest is a conversion error
    let mut converted = 0;
    for n in 1..=63 {
        for leaf in [
            "",
            "<File name=\"f\"/>",
            "<File name=\"f\"/><File name=\"g\"/>",
        ] {
            let xml = deep_dirs(n, leaf);
            let si = SoftwareIdentity::parse(xml.as_bytes()).unwrap();
            let Ok(t) = si.to_coswid() else {
                assert!(n > 20, "{n} directories convert");
                continue;
            };
            converted += 1;
            let mut out = Vec::new();
            t.encode(&mut out);
            assert_eq!(
                ConciseSwidTag::decode_lenient(&out).unwrap().tag,
                t,
                "{n} {leaf}"
            );
        }
    }
    assert!(converted >= 60);
    let xml = deep_dirs(40, "");
    let si = SoftwareIdentity::parse(xml.as_bytes()).unwrap();
    assert!(si.to_coswid().is_err());
}

#[test]
fn evidence_dates_out_of_range_do_not_overflow() {
    for date in [
        "2020-01-01T-9000000000000000000:00:00Z",
        "2020-01-01T00:-9000000000000000000:00Z",
        "2020-01-01T00:00:-9000000000000000000Z",
        "2020-01-01T00:00:00+9000000000000000000:00",
        "2020-01-01T00:00:00+00:9000000000000000000",
    ] {
        let x = format!(
            "<SoftwareIdentity name=\"x\" tagId=\"t\"><Entity name=\"e\" regid=\"r\" \
             role=\"tagCreator\"/><Evidence date=\"{date}\"/></SoftwareIdentity>"
        );
        let si = SoftwareIdentity::parse(x.as_bytes()).unwrap();
        assert!(si.to_coswid().is_err(), "{date}");
    }
}

#[test]
fn cose_sign_signer_count_is_bounded() {
    use coswid::CoseError;
    use coswid::cose::{Algorithm, MAX_SIGNERS, SigningKey, verify};
    let (key, _) = SigningKey::generate(Algorithm::Es256).unwrap();
    // COSE_Sign (tag 98): protected {3: "application/swid+cbor"}, {}, payload, signatures.
    let protected = {
        let mut b = Vec::new();
        let mut e = minicbor::Encoder::new(&mut b);
        e.map(1)
            .unwrap()
            .i64(3)
            .unwrap()
            .str("application/swid+cbor")
            .unwrap();
        b
    };
    let build = |signers: u64| {
        let mut b = Vec::new();
        let mut e = minicbor::Encoder::new(&mut b);
        e.tag(minicbor::data::Tag::new(98)).unwrap();
        e.array(4).unwrap();
        e.bytes(&protected)
            .unwrap()
            .map(0)
            .unwrap()
            .bytes(b"x")
            .unwrap();
        e.array(signers).unwrap();
        for _ in 0..signers {
            e.array(3)
                .unwrap()
                .bytes(&[])
                .unwrap()
                .map(0)
                .unwrap()
                .bytes(&[])
                .unwrap();
        }
        b
    };
    let too_many = build(MAX_SIGNERS + 1);
    let refused = verify(&too_many, &key.verifying_key()).unwrap_err();
    assert!(matches!(refused, CoseError::Malformed(_)), "{refused:?}");
    // At the cap the signers are examined (none matches): a different error.
    let at_cap = build(MAX_SIGNERS);
    let e = verify(&at_cap, &key.verifying_key()).unwrap_err();
    assert_ne!(format!("{e:?}"), format!("{refused:?}"));
}
