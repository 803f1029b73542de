//! proptest: arbitrary valid tags round-trip through CBOR (strict) and through SWID XML
//! (every mapped field), and arbitrary bytes never panic the decoders.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::borrow::Cow;

use coswid::swid::SoftwareIdentity;
use coswid::*;
use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;

fn text() -> impl Strategy<Value = Text<'static>> {
    "[a-zA-Z0-9 ./:_<>&\"'-]{0,12}".prop_map(Cow::Owned)
}

fn code() -> impl Strategy<Value = Code<'static>> {
    prop_oneof![
        // RFC 9393 §2.7 limits rel to -256..64436; the same range serves every registry here
        (-256i64..20000).prop_map(Code::Int),
        "x-[a-z]{1,6}".prop_map(|s| Code::Text(Cow::Owned(s))),
    ]
}

fn hash() -> impl Strategy<Value = HashEntry<'static>> {
    (
        prop_oneof![Just(1i64), Just(7), Just(8)],
        vec(any::<u8>(), 0..48),
    )
        .prop_map(|(alg, v)| HashEntry {
            alg,
            value: Cow::Owned(v),
        })
}

fn file() -> impl Strategy<Value = File<'static>> {
    (
        of(any::<bool>()),
        of(text()),
        text(),
        of(text()),
        of(any::<u64>()),
        of(text()),
        of(hash()),
    )
        .prop_map(|(key, location, fs_name, root, size, file_version, hash)| {
            let mut f = File {
                fs_name,
                size,
                hash,
                extra: None,
            };
            // an empty extra allocated or not: the same file
            let x = f.extra_mut();
            (x.key, x.location, x.root, x.file_version) = (key, location, root, file_version);
            f
        })
}

fn directory() -> impl Strategy<Value = Directory<'static>> {
    let leaf = (of(any::<bool>()), of(text()), text(), of(text())).prop_map(
        |(key, location, fs_name, root)| Directory {
            key,
            location,
            fs_name,
            root,
            path_elements: None,
            attributes: Attributes::default(),
        },
    );
    leaf.prop_recursive(3, 12, 3, |inner| {
        (text(), vec(inner, 0..3), vec(file(), 1..3)).prop_map(|(fs_name, directory, file)| {
            Directory {
                fs_name,
                path_elements: Some(PathElements {
                    directory,
                    file,
                    attributes: Attributes::default(),
                }),
                ..Directory::default()
            }
        })
    })
}

fn resources() -> impl Strategy<Value = ResourceCollection<'static>> {
    (
        vec(directory(), 0..3),
        vec(file(), 0..3),
        vec((text(), of(any::<i64>())), 0..2),
        vec(text(), 0..2),
    )
        .prop_map(|(directory, file, process, resource)| ResourceCollection {
            directory,
            file,
            process: process
                .into_iter()
                .map(|(process_name, pid)| Process {
                    process_name,
                    pid,
                    attributes: Attributes::default(),
                })
                .collect(),
            resource: resource
                .into_iter()
                .map(|type_| Resource {
                    type_,
                    attributes: Attributes::default(),
                })
                .collect(),
        })
}

fn entity(creator: bool) -> impl Strategy<Value = Entity<'static>> {
    (
        text(),
        of(text()),
        vec(
            prop_oneof![
                (2i64..=6).prop_map(Code::Int),
                "x-[a-z]{1,5}".prop_map(|s| Code::Text(Cow::Owned(s)))
            ],
            0..3,
        ),
        of(vec(any::<u8>(), 32..=32)),
    )
        .prop_map(move |(name, reg_id, mut role, thumb)| {
            if creator {
                role.insert(0, Code::Int(1));
            } else if role.is_empty() {
                role.push(Code::Int(2));
            }
            Entity {
                entity_name: Some(name),
                reg_id,
                role,
                thumbprint: thumb.map(|v| HashEntry {
                    alg: 1,
                    value: Cow::Owned(v),
                }),
                attributes: Attributes::default(),
            }
        })
}

fn link() -> impl Strategy<Value = Link<'static>> {
    (
        of(text()),
        text(),
        of(text()),
        of(code()),
        code(),
        of(text()),
        of(code()),
    )
        .prop_map(
            |(artifact, href, media, ownership, rel, media_type, use_)| Link {
                artifact,
                href,
                media,
                ownership,
                rel,
                media_type,
                use_,
                attributes: Attributes::default(),
            },
        )
}

fn meta() -> impl Strategy<Value = SoftwareMeta<'static>> {
    (
        of(text()),
        of(text()),
        of(any::<bool>()),
        of(text()),
        of(text()),
        of(text()),
    )
        .prop_map(
            |(description, product, edr, generator, summary, revision)| SoftwareMeta {
                description,
                product,
                entitlement_data_required: edr,
                generator: generator.map(TagId::Text),
                summary,
                revision,
                ..SoftwareMeta::default()
            },
        )
}

prop_compose! {
    fn tag()(
        tag_id in prop_oneof!["[a-z0-9._-]{1,20}".prop_map(|s| TagId::Text(Cow::Owned(s))), any::<[u8; 16]>().prop_map(TagId::Uuid)],
        tag_version in any::<i64>(),
        flags in (of(any::<bool>()), of(any::<bool>()), of(any::<bool>())),
        software_name in text(),
        software_version in of(text()),
        version_scheme in of(code()),
        media in of(text()),
        software_meta in vec(meta(), 0..3),
        creator in entity(true),
        others in vec(entity(false), 0..2),
        link in vec(link(), 0..3),
        pe in 0u8..3,
        rc in resources(),
        date in of(0i64..4_000_000_000),
        device_id in of(text()),
        lang in of("[a-z]{2}-[A-Z]{2}"),
    ) -> ConciseSwidTag<'static> {
        let mut entity = vec![creator];
        entity.extend(others);
        let (corpus, patch, supplemental) = flags;
        let patch = if corpus == Some(true) { None } else { patch };
        ConciseSwidTag {
            tag_id, tag_version, corpus, patch, supplemental, software_name, software_version,
            version_scheme, media, software_meta, entity, link,
            payload: (pe == 1).then(|| Payload { resources: rc.clone(), attributes: Attributes::default() }),
            evidence: (pe == 2).then(|| Evidence { resources: rc, date, device_id, location: None, attributes: Attributes::default() }),
            attributes: Attributes { lang: lang.map(Cow::Owned), extra: Vec::new() },
        }
    }
}

fn extras() -> impl Strategy<Value = Vec<(Label<'static>, RawValue<'static>)>> {
    vec(
        (
            prop_oneof![
                (-1000i64..-1).prop_map(Label::Int),
                "x-[a-z]{1,8}".prop_map(|s| Label::Text(Cow::Owned(s)))
            ],
            prop_oneof![
                any::<i64>().prop_map(RawValue::int),
                "[a-z]{0,8}".prop_map(|s| RawValue::text(&s))
            ],
        ),
        0..3,
    )
    .prop_map(|mut v| {
        v.sort_by(|a, b| format!("{:?}", a.0).cmp(&format!("{:?}", b.0)));
        v.dedup_by(|a, b| a.0 == b.0);
        v
    })
}

proptest! {
    #[test]
    fn cbor_round_trip(mut t in tag(), extra in extras()) {
        t.attributes.extra = extra;
        t.validate().unwrap();
        let out = t.to_cbor().unwrap();
        prop_assert_eq!(t.encoded_len(), out.len());
        prop_assert_eq!(&ConciseSwidTag::decode(&out).unwrap(), &t);
        // encode(decode(b)) == b for our own strict output
        let mut again = Vec::new();
        ConciseSwidTag::decode(&out).unwrap().encode(&mut again);
        prop_assert_eq!(&again, &out);
        // canonical form: idempotent, same tag up to the order of unknown keys
        let canon = t.to_cbor_canonical();
        let mut c = ConciseSwidTag::decode(&canon).unwrap();
        prop_assert_eq!(&c.to_cbor_canonical(), &canon);
        c.attributes.extra.sort_by_key(|e| format!("{e:?}"));
        let mut sorted = t.clone();
        sorted.attributes.extra.sort_by_key(|e| format!("{e:?}"));
        prop_assert_eq!(c, sorted);
        let mut tagged = Vec::new();
        t.encode_tagged(&mut tagged);
        let d = ConciseSwidTag::decode_with(&tagged, Mode::Strict).unwrap();
        prop_assert!(d.tagged);
        prop_assert_eq!(d.tag, t);
    }

    #[test]
    fn xml_round_trip(t in tag()) {
        let si = SoftwareIdentity::from_coswid(&t);
        let xml = si.to_xml();
        let parsed = SoftwareIdentity::parse(xml.as_bytes()).unwrap();
        prop_assert_eq!(&parsed, &si);
        let mut back = parsed.to_coswid().unwrap();
        // a 16-byte tag-id is written as UUID text in XML
        if let TagId::Uuid(u) = &t.tag_id {
            prop_assert_eq!(&back.tag_id, &TagId::Text(Cow::Owned(TagId::Uuid(*u).to_string().trim_start_matches("urn:uuid:").to_owned())));
            back.tag_id = t.tag_id.clone();
        }
        prop_assert_eq!(back, t);
    }

    #[test]
    fn random_bytes_never_panic(b in vec(any::<u8>(), 0..256)) {
        let _ = ConciseSwidTag::decode(&b);
        let _ = ConciseSwidTag::decode_lenient(&b);
        let _ = canonicalize(&b);
        let _ = SoftwareIdentity::parse(&b);
        let _ = cose::unverified_payload(&b);
    }

    #[test]
    fn mutated_corpus_never_panics(i in 0usize..8, pos in any::<usize>(), byte in any::<u8>()) {
        let names = ["all-fields-payload", "evidence", "extension-points", "indefinite-length-encoding", "minimal", "patch-supplemental", "private-version-scheme", "tagged-1398229316"];
        let p = format!("{}/tests/data/coswid/rfc9393-cddl-derived/valid/{}.cbor", env!("CARGO_MANIFEST_DIR"), names[i]);
        let mut b = std::fs::read(p).unwrap();
        let at = pos % b.len();
        b[at] = byte;
        if let Ok(d) = ConciseSwidTag::decode_lenient(&b) {
            let mut out = Vec::new();
            d.tag.encode(&mut out);
            prop_assert_eq!(ConciseSwidTag::decode_lenient(&out).unwrap().tag, d.tag);
        }
        if let Ok(t) = ConciseSwidTag::decode(&b) {
            let out = t.to_cbor().unwrap();
            prop_assert_eq!(ConciseSwidTag::decode(&out).unwrap(), t);
        }
    }
}
