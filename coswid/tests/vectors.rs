//! The shared CoSWID corpus (copied into tests/data/coswid, see tests/data/README.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};

use coswid::{ConciseSwidTag, DecodeErrorKind, DeviationKind, Mode, ValidationKind, canonicalize};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

fn files(rel: &str, ext: &str) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(data(rel))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no {ext} files in {rel}");
    v
}

/// decode -> canonical encode equals the canonicalised input (nothing lost, nothing added).
fn assert_lossless(name: &str, bytes: &[u8], tag: &ConciseSwidTag<'_>) {
    let mut inner = bytes;
    let mut tagged = Vec::new();
    if bytes.starts_with(&[0xda, 0x53, 0x57, 0x49, 0x44]) {
        inner = &bytes[5..];
        tag.encode_tagged(&mut tagged);
        assert_eq!(
            canonicalize(&tagged).unwrap(),
            canonicalize(bytes).unwrap(),
            "{name}"
        );
    }
    assert_eq!(
        tag.to_cbor_canonical(),
        canonicalize(inner).unwrap(),
        "{name}"
    );
}

#[test]
fn rfc9393_valid_decode_strict_and_lossless() {
    for (name, bytes) in files("coswid/rfc9393-cddl-derived/valid", "cbor") {
        let tag = ConciseSwidTag::decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_lossless(&name, &bytes, &tag);
        let out = tag.to_cbor().unwrap();
        let again = ConciseSwidTag::decode(&out).unwrap();
        assert_eq!(again, tag, "{name}");
        assert_eq!(tag.encoded_len(), tag.to_cbor().unwrap().len());
    }
}

#[test]
fn rfc9393_valid_details() {
    let b = std::fs::read(data(
        "coswid/rfc9393-cddl-derived/valid/all-fields-payload.cbor",
    ))
    .unwrap();
    let t = ConciseSwidTag::decode(&b).unwrap();
    assert_eq!(t.tag_version, 3);
    assert_eq!(t.software_meta.len(), 2);
    assert_eq!(t.entity.len(), 2);
    assert_eq!(t.entity[0].reg_id.as_deref(), Some("https://acme.com"));
    let p = t.payload.as_ref().unwrap();
    let pe = p.resources.directory[0].path_elements.as_ref().unwrap();
    assert_eq!(pe.file[0].size, Some(532_712));
    assert_eq!(p.resources.process[0].pid, Some(1234));
    assert_eq!(t.attributes.lang.as_deref(), Some("en-US"));
    assert_eq!(t.attributes.extra.len(), 2);
    assert_eq!(
        t.software_identifier().unwrap(),
        "https://acme.com__urn:uuid:1d4bd0c9-f8d4-4ff3-a9d3-a37b8e4d6e01"
    );
    let b = std::fs::read(data("coswid/rfc9393-cddl-derived/valid/evidence.cbor")).unwrap();
    let t = ConciseSwidTag::decode(&b).unwrap();
    assert_eq!(t.evidence.as_ref().unwrap().date, Some(1_700_000_000));
    let b = std::fs::read(data(
        "coswid/rfc9393-cddl-derived/valid/tagged-1398229316.cbor",
    ))
    .unwrap();
    assert!(ConciseSwidTag::decode_lenient(&b).unwrap().tagged);
}

#[test]
fn rfc9393_invalid_rejected_with_the_right_error() {
    use DecodeErrorKind::*;
    let expected: &[(&str, DecodeErrorKind, &str)] = &[
        ("entity-missing-role", MissingField, "entity/role"),
        ("file-missing-fs-name", MissingField, "file/fs-name"),
        (
            "hash-entry-as-map",
            WrongType {
                expected: "hash-entry",
            },
            "file/hash",
        ),
        ("missing-entity", MissingField, "entity"),
        ("missing-software-name", MissingField, "software-name"),
        ("missing-tag-id", MissingField, "tag-id"),
        ("missing-tag-version", MissingField, "tag-version"),
        (
            "one-or-more-empty-array",
            Deviation(DeviationKind::EmptyArray),
            "entity",
        ),
        (
            "one-or-more-single-element-array",
            Deviation(DeviationKind::SingleElementArray),
            "entity",
        ),
        (
            "payload-and-evidence",
            Invalid(ValidationKind::PayloadAndEvidence),
            "payload",
        ),
        ("tag-id-bstr-not-16", BadUuidLength, "tag-id"),
        (
            "tag-version-text",
            WrongType {
                expected: "integer",
            },
            "tag-version",
        ),
        (
            "top-level-array",
            WrongType { expected: "map" },
            "concise-swid-tag",
        ),
        ("wrong-cbor-tag", WrongCborTag(505), "coswid"),
    ];
    let all = files("coswid/rfc9393-cddl-derived/invalid", "cbor");
    assert_eq!(all.len(), expected.len());
    for (name, kind, field) in expected {
        let bytes = std::fs::read(data(&format!(
            "coswid/rfc9393-cddl-derived/invalid/{name}.cbor"
        )))
        .unwrap();
        let e = ConciseSwidTag::decode(&bytes).unwrap_err();
        assert_eq!((e.kind, e.field), (*kind, *field), "{name}: {e}");
    }
}

#[test]
fn ambiguous_policy() {
    // strict: a registered key with a wrong type is an error naming the field;
    // lenient: kept as an unknown attribute (or coerced) and reported.
    let cases = [
        (
            "evidence-date-untagged",
            "evidence/date",
            DeviationKind::UntaggedDate,
        ),
        (
            "file-size-negative",
            "file/size",
            DeviationKind::MistypedKeptAsAttribute,
        ),
        (
            "reg-id-untagged-text",
            "entity/reg-id",
            DeviationKind::UntaggedUri,
        ),
    ];
    for (name, field, dev) in cases {
        let bytes = std::fs::read(data(&format!(
            "coswid/rfc9393-cddl-derived/ambiguous/{name}.cbor"
        )))
        .unwrap();
        let e = ConciseSwidTag::decode(&bytes).unwrap_err();
        assert_eq!(e.field, field, "{name}: {e}");
        let d = ConciseSwidTag::decode_lenient(&bytes).unwrap();
        assert_eq!(d.deviations.len(), 1, "{name}");
        assert_eq!((d.deviations[0].kind, d.deviations[0].field), (dev, field));
        d.tag.validate().unwrap();
        if dev == DeviationKind::MistypedKeptAsAttribute {
            assert_lossless(name, &bytes, &d.tag);
        }
    }
}

#[test]
fn lenient_href() {
    let bytes = std::fs::read(data(
        "coswid/rfc9393-cddl-derived/lenient/href-untagged-text.cbor",
    ))
    .unwrap();
    let e = ConciseSwidTag::decode(&bytes).unwrap_err();
    assert_eq!(
        e.kind,
        DecodeErrorKind::Deviation(DeviationKind::UntaggedUri)
    );
    assert_eq!(e.field, "link/href");
    let d = ConciseSwidTag::decode_lenient(&bytes).unwrap();
    assert_eq!(d.tag.link[0].href, "https://example.com/x");
    // the strict encoder writes #6.32, which the strict decoder accepts
    let strict = d.tag.to_cbor().unwrap();
    assert_eq!(ConciseSwidTag::decode(&strict).unwrap(), d.tag);
}

fn check_corpus(dir: &str) -> usize {
    check_corpus_allowing(dir, &[DeviationKind::UntaggedUri])
}

fn check_corpus_allowing(dir: &str, allowed: &[DeviationKind]) -> usize {
    let mut n = 0;
    for (name, bytes) in files(dir, "cbor") {
        let d = ConciseSwidTag::decode_with(&bytes, Mode::Lenient)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        for dev in &d.deviations {
            assert!(allowed.contains(&dev.kind), "{name}: {dev}");
        }
        d.tag.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
        // strict re-encoding decodes strictly to the same model
        let strict = d.tag.to_cbor().unwrap();
        assert_eq!(ConciseSwidTag::decode(&strict).unwrap(), d.tag, "{name}");
        n += 1;
    }
    n
}

#[test]
fn dpkg_min_and_full() {
    assert_eq!(check_corpus("coswid/dpkg-min"), 732);
    assert_eq!(check_corpus("coswid/dpkg-full"), 728);
}

#[test]
fn dpkg_software_identifiers_match_tsv() {
    let tsv = std::fs::read_to_string(data("swid-xml/dpkg-min-software-ids.tsv")).unwrap();
    let mut n = 0;
    for line in tsv.lines() {
        let (id, file) = line.split_once('\t').unwrap();
        let cbor = data(&format!(
            "coswid/dpkg-min/{}",
            file.replace(".xml", ".cbor")
        ));
        let bytes = std::fs::read(cbor).unwrap();
        let tag = ConciseSwidTag::decode_lenient(&bytes).unwrap().tag;
        assert_eq!(tag.software_identifier().as_deref(), Some(id));
        n += 1;
    }
    assert_eq!(n, 732);
}

#[test]
fn generated_variants_and_other_encoders() {
    check_corpus("coswid/swidgen-variants");
    check_corpus("coswid/veraison-encoded");
    // corim-rs 0.2.0 writes `lang` (15) twice in the top-level map
    check_corpus_allowing(
        "coswid/corim-rs-encoded",
        &[DeviationKind::UntaggedUri, DeviationKind::DuplicateKey],
    );
    // other encoders' output is the same data model as ours
    for (name, bytes) in files("coswid/corim-rs-encoded", "cbor") {
        let theirs = ConciseSwidTag::decode_lenient(&bytes).unwrap().tag;
        let ours = std::fs::read(data(&format!("coswid/dpkg-full/{name}"))).unwrap();
        let ours = ConciseSwidTag::decode_lenient(&ours).unwrap().tag;
        assert_eq!(theirs, ours, "{name}");
    }
    for (name, bytes) in files("coswid/veraison-encoded", "cbor") {
        let theirs = ConciseSwidTag::decode_lenient(&bytes).unwrap().tag;
        let ours = match name.strip_prefix("min-") {
            Some(n) => data(&format!("coswid/dpkg-min/{n}")),
            None => data(&format!("coswid/dpkg-full/{name}")),
        };
        let ours = std::fs::read(ours).unwrap();
        let ours = ConciseSwidTag::decode_lenient(&ours).unwrap().tag;
        assert_eq!(theirs, ours, "{name}");
    }
}

#[test]
fn dpkg_full_reencodes_byte_for_byte_except_uri_tags() {
    // the corpus is canonical with untagged reg-id: our encoding differs only by the 32 tag
    for (name, bytes) in files("coswid/dpkg-full", "cbor").into_iter().take(50) {
        let d = ConciseSwidTag::decode_lenient(&bytes).unwrap();
        let mut out = Vec::new();
        d.tag.encode(&mut out);
        assert_eq!(out.len(), bytes.len() + 2 * d.deviations.len(), "{name}");
    }
}

#[test]
fn third_party_lenient() {
    let cases: &[(&str, &[DeviationKind])] = &[
        (
            "third-party/hirs/LVFS_sbom.coswid",
            &[DeviationKind::MissingTagVersion],
        ),
        (
            "third-party/hirs/coswid_rim_1.coswid",
            &[
                DeviationKind::WrappedInByteString,
                DeviationKind::DuplicateKey,
                DeviationKind::TextTagVersion,
            ],
        ),
        (
            "third-party/coswid-rs/firmware-coswid.cbor",
            &[DeviationKind::BignumInteger],
        ),
        (
            "third-party/python-uswid/dell-xps13-0.cbor",
            &[DeviationKind::MissingTagVersion],
        ),
        (
            "third-party/python-uswid/lenovo-x1-carbon-0.cbor",
            &[DeviationKind::MissingTagVersion],
        ),
    ];
    for (rel, must) in cases {
        let bytes = std::fs::read(data(&format!("coswid/{rel}"))).unwrap();
        assert!(ConciseSwidTag::decode(&bytes).is_err(), "{rel} strict");
        let d = ConciseSwidTag::decode_lenient(&bytes).unwrap_or_else(|e| panic!("{rel}: {e}"));
        for m in *must {
            assert!(
                d.deviations.iter().any(|x| x.kind == *m),
                "{rel}: {m} not in {:?}",
                d.deviations
            );
        }
        // the lenient model re-encodes and decodes back to itself
        let mut out = Vec::new();
        d.tag.encode(&mut out);
        let back = ConciseSwidTag::decode_lenient(&out).unwrap();
        assert_eq!(back.tag, d.tag, "{rel}");
    }
    for dir in [
        "third-party/python-uswid",
        "third-party/veraison-swid-tests",
    ] {
        for (name, bytes) in files(&format!("coswid/{dir}"), "cbor") {
            ConciseSwidTag::decode_lenient(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}

#[test]
fn truncations_never_panic() {
    for (_, bytes) in files("coswid/rfc9393-cddl-derived/valid", "cbor") {
        for i in 0..bytes.len() {
            assert!(ConciseSwidTag::decode(&bytes[..i]).is_err());
            let _ = ConciseSwidTag::decode_lenient(&bytes[..i]);
        }
    }
}

#[test]
fn uswid_cbor_sequences() {
    for name in ["dell-xps13", "lenovo-x1-carbon"] {
        let seq = std::fs::read(data(&format!(
            "coswid/third-party/python-uswid/{name}.cborseq"
        )))
        .unwrap();
        assert!(ConciseSwidTag::decode_sequence(&seq, Mode::Strict).is_err());
        let tags = ConciseSwidTag::decode_sequence(&seq, Mode::Lenient).unwrap();
        assert_eq!(tags.len(), 3);
        for (i, t) in tags.iter().enumerate() {
            let one = std::fs::read(data(&format!(
                "coswid/third-party/python-uswid/{name}-{i}.cbor"
            )))
            .unwrap();
            assert_eq!(t.tag, ConciseSwidTag::decode_lenient(&one).unwrap().tag);
        }
    }
}

type FragmentDecoder<T> =
    fn(&'static [u8], Mode) -> Result<(T, Vec<coswid::Deviation>), coswid::DecodeError>;

#[test]
fn veraison_fragments() {
    use coswid::{Directory, Entity, Evidence, File, Link, SoftwareMeta};
    // fragments are leaked so the decoded values may borrow for 'static
    fn check<T: PartialEq + std::fmt::Debug>(
        name: &str,
        bytes: &'static [u8],
        dec: FragmentDecoder<T>,
        enc: fn(&T, &mut Vec<u8>),
    ) {
        let (v, _) = dec(bytes, Mode::Lenient).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut out = Vec::new();
        enc(&v, &mut out);
        let out: &'static [u8] = Box::leak(out.into_boxed_slice());
        let (again, _) = dec(out, Mode::Lenient).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(again, v, "{name}");
    }
    let mut n = 0;
    for (name, bytes) in files("coswid/third-party/veraison-swid-tests/fragments", "cbor") {
        let b: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        match name.split('-').next().unwrap() {
            "entity" => check(&name, b, Entity::decode_fragment, Entity::encode_fragment),
            "link" => check(&name, b, Link::decode_fragment, Link::encode_fragment),
            "softwaremeta" => check(
                &name,
                b,
                SoftwareMeta::decode_fragment,
                SoftwareMeta::encode_fragment,
            ),
            "evidence" => check(
                &name,
                b,
                Evidence::decode_fragment,
                Evidence::encode_fragment,
            ),
            "directory" => check(
                &name,
                b,
                Directory::decode_fragment,
                Directory::encode_fragment,
            ),
            "file" => check(&name, b, File::decode_fragment, File::encode_fragment),
            "files" if b[0] >> 5 == 5 => {
                check(&name, b, File::decode_fragment, File::encode_fragment)
            }
            _ => continue,
        }
        n += 1;
    }
    assert_eq!(n, 14);
    // re-encoded fragments decode to the same value
    let b = std::fs::read(data("coswid/third-party/veraison-swid-tests/fragments/entity-TestEntity_UnnknownGlobalAttributesAndExtensionsToo-tv-L254.cbor")).unwrap();
    let (e, devs) = Entity::decode_fragment(&b, Mode::Lenient).unwrap();
    assert!(devs.is_empty());
    assert_eq!(e.attributes.extra.len(), 4);
    let mut out = Vec::new();
    e.encode_fragment(&mut out);
    assert_eq!(Entity::decode_fragment(&out, Mode::Strict).unwrap().0, e);
    assert_eq!(canonicalize(&out).unwrap(), canonicalize(&b).unwrap());
}
