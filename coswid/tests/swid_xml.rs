//! SWID XML corpus (tests/data/swid-xml): parse, emit, convert to and from CoSWID.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};

use coswid::ConciseSwidTag;
use coswid::swid::{Resource, SoftwareIdentity, file_hashes};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|e| e == "xml" || e == "swidtag") {
            out.push(p);
        }
    }
}

fn all_xml() -> Vec<PathBuf> {
    let mut v = Vec::new();
    walk(&data("swid-xml"), &mut v);
    v.sort();
    v
}

#[test]
fn every_document_parses_and_round_trips() {
    let files = all_xml();
    assert!(files.len() >= 860, "{}", files.len());
    let mut templates = 0;
    for p in files {
        let bytes = std::fs::read(&p).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        if ![
            "<SoftwareIdentity",
            "<ns2:SoftwareIdentity",
            "<swid:SoftwareIdentity",
        ]
        .iter()
        .any(|r| text.contains(r))
        {
            // NIST swidval templates/unit tests are XPath patch documents, not SWID tags
            assert_eq!(
                SoftwareIdentity::parse(&bytes),
                Err(coswid::XmlError::NoSoftwareIdentity)
            );
            templates += 1;
            continue;
        }
        let si = SoftwareIdentity::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let xml = si.to_xml();
        let again = SoftwareIdentity::parse(xml.as_bytes()).unwrap();
        assert_eq!(again, si, "{}", p.display());
    }
    assert_eq!(templates, 26);
}

#[test]
fn signatures_preserved_byte_for_byte() {
    let mut n = 0;
    for p in all_xml() {
        let text = std::fs::read_to_string(&p).unwrap();
        if !text.contains("Signature") {
            continue;
        }
        let si = SoftwareIdentity::parse(text.as_bytes()).unwrap();
        let sig = si
            .other
            .iter()
            .find(|o| o.contains("SignatureValue"))
            .unwrap_or_else(|| panic!("{}", p.display()));
        assert!(text.contains(&**sig));
        assert!(si.to_xml().contains(&**sig));
        n += 1;
    }
    assert!(n >= 10, "{n}");
}

#[test]
fn foreign_attributes_kept() {
    let b = std::fs::read(data(
        "swid-xml/swidgen-variants/adduser-metapkg-schemaloc.xml",
    ))
    .unwrap();
    let si = SoftwareIdentity::parse(&b).unwrap();
    let xml = si.to_xml();
    assert!(
        xml.contains("xsi:schemaLocation=\"http://standards.iso.org/iso/19770/-2/2015/schema.xsd")
    );
    assert_eq!(si.element.lang(), Some("de-DE"));
    let b = std::fs::read(data("swid-xml/swidgen-variants/adduser-full-pretty.xml")).unwrap();
    let si = SoftwareIdentity::parse(&b).unwrap();
    assert!(si.to_xml().contains("n8060:mutable=\"true\""));
}

#[test]
fn nist_sha256_hash_attribute_read_by_namespace() {
    let b = std::fs::read(data("swid-xml/swidgen-variants/adduser-full-multihash.xml")).unwrap();
    let si = SoftwareIdentity::parse(&b).unwrap();
    let Resource::Directory(_, kids) = &si.payload.as_ref().unwrap().items[0] else {
        panic!()
    };
    let Resource::File(f) = &kids[0] else {
        panic!()
    };
    let h = file_hashes(f);
    assert_eq!(h.iter().map(|x| x.0).collect::<Vec<_>>(), [1, 7, 8]);
    assert_eq!(
        hex::encode(&h[0].1),
        "d59e8e5e6b3abc22f1143c316c5248f30bb4e15291eed6953a3b90b65dfda2c8"
    );
}

fn same_as_cbor(xml_dir: &str, cbor_dir: &str) -> usize {
    let mut n = 0;
    let mut v = Vec::new();
    walk(&data(xml_dir), &mut v);
    for p in v {
        let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
        let cbor = data(&format!("{cbor_dir}/{stem}.cbor"));
        let xml = std::fs::read(&p).unwrap();
        let si = SoftwareIdentity::parse(&xml).unwrap();
        let ours = si.to_coswid().unwrap_or_else(|e| panic!("{stem}: {e}"));
        let bytes = std::fs::read(&cbor).unwrap();
        let theirs = ConciseSwidTag::decode_lenient(&bytes).unwrap().tag;
        assert_eq!(ours, theirs, "{stem}");
        // SWID -> CoSWID -> SWID -> CoSWID keeps every mapped field
        let back = SoftwareIdentity::from_coswid(&ours);
        let xml = back.to_xml();
        let reparsed = SoftwareIdentity::parse(xml.as_bytes()).unwrap();
        assert_eq!(reparsed.to_coswid().unwrap(), ours, "{stem}");
        n += 1;
    }
    n
}

#[test]
fn conversion_matches_the_cbor_corpus() {
    assert_eq!(same_as_cbor("swid-xml/dpkg-min", "coswid/dpkg-min"), 732);
    assert_eq!(same_as_cbor("swid-xml/dpkg-full", "coswid/dpkg-full"), 728);
    assert_eq!(
        same_as_cbor("swid-xml/swidgen-variants", "coswid/swidgen-variants"),
        14
    );
}

#[test]
fn software_identifiers_from_xml() {
    let tsv = std::fs::read_to_string(data("swid-xml/dpkg-min-software-ids.tsv")).unwrap();
    for line in tsv.lines() {
        let (id, file) = line.split_once('\t').unwrap();
        let xml = std::fs::read(data(&format!("swid-xml/dpkg-min/{file}"))).unwrap();
        let si = SoftwareIdentity::parse(&xml).unwrap();
        assert_eq!(si.software_identifier().as_deref(), Some(id));
    }
}

#[test]
fn coswid_to_swid_for_rfc_vectors() {
    for name in [
        "all-fields-payload",
        "evidence",
        "patch-supplemental",
        "extension-points",
    ] {
        let b = std::fs::read(data(&format!(
            "coswid/rfc9393-cddl-derived/valid/{name}.cbor"
        )))
        .unwrap();
        let tag = ConciseSwidTag::decode(&b).unwrap();
        let si = SoftwareIdentity::from_coswid(&tag);
        let back = SoftwareIdentity::parse(si.to_xml().as_bytes())
            .unwrap()
            .to_coswid()
            .unwrap();
        assert_eq!(back.software_name, tag.software_name, "{name}");
        assert_eq!(back.entity.len(), tag.entity.len(), "{name}");
        assert_eq!(
            back.link,
            tag.link
                .iter()
                .cloned()
                .map(|mut l| {
                    l.attributes = Default::default();
                    l
                })
                .collect::<Vec<_>>()
        );
        if let Some(e) = &tag.evidence {
            assert_eq!(back.evidence.as_ref().unwrap().date, e.date);
        }
    }
}

#[test]
fn malformed_xml_is_an_error() {
    for bad in [
        "",
        "<a/>",
        "<SoftwareIdentity",
        "<SoftwareIdentity><Entity></SoftwareIdentity>",
    ] {
        assert!(SoftwareIdentity::parse(bad.as_bytes()).is_err(), "{bad}");
    }
}

#[test]
fn byte_order_mark_does_not_shift_raw_elements() {
    let doc = "\u{feff}<SoftwareIdentity name=\"n\" tagId=\"t\"><x:Unknown xmlns:x=\"urn:x\" a=\"1\"/></SoftwareIdentity>";
    let si = SoftwareIdentity::parse(doc.as_bytes()).unwrap();
    assert_eq!(si.other, ["<x:Unknown xmlns:x=\"urn:x\" a=\"1\"/>"]);
}

/// Found by the `swid_xml` fuzz target: U+0000 in `tagId` (and two byte order marks) was
/// accepted and `to_xml` wrote a document that does not parse.
#[test]
fn fuzz_found_nul_in_attribute_is_refused() {
    let input = std::fs::read(data("fuzz-found/swid_xml-nul-in-attribute.bin")).unwrap();
    let err = SoftwareIdentity::parse(&input).unwrap_err();
    // the first U+0000 (offset 0x122 in the file, byte order mark included)
    assert_eq!(
        err,
        coswid::XmlError::BadCharacter {
            offset: 0x122,
            code: 0
        }
    );
}

#[test]
fn characters_xml_cannot_carry_are_refused() {
    let doc = |tag_id: &str| format!("<SoftwareIdentity name=\"n\" tagId=\"{tag_id}\"/>");
    let at = doc("").find("\"/>").unwrap() as u64;
    for (tag_id, code) in [
        ("\u{0}", 0),
        ("\u{1b}", 0x1b),
        ("\u{fffe}", 0xfffe),
        ("\u{ffff}", 0xffff),
        ("&#0;", 0),
        ("&#x1;", 1),
        ("&#xFFFE;", 0xfffe),
        ("&#99999999999;", u32::MAX),
    ] {
        assert_eq!(
            SoftwareIdentity::parse(doc(tag_id).as_bytes()),
            Err(coswid::XmlError::BadCharacter { offset: at, code }),
            "{tag_id:?}"
        );
    }
    // the same characters the other way round: allowed ones parse and round-trip
    for tag_id in [
        "\t\n\r",
        "&#9;&#10;&#13;",
        "\u{d7ff}\u{e000}\u{fffd}\u{10000}",
        "&#x10FFFF;",
    ] {
        let xml = doc(tag_id);
        let si = SoftwareIdentity::parse(xml.as_bytes()).unwrap();
        assert_eq!(SoftwareIdentity::parse(si.to_xml().as_bytes()).unwrap(), si);
    }
    // elsewhere than in attributes too: in an unknown element kept raw
    let raw = "<SoftwareIdentity name=\"n\" tagId=\"t\"><x>&#0;</x></SoftwareIdentity>";
    assert!(matches!(
        SoftwareIdentity::parse(raw.as_bytes()),
        Err(coswid::XmlError::BadCharacter { code: 0, .. })
    ));
}

#[test]
fn not_utf8_and_text_before_the_root_are_refused() {
    let e = SoftwareIdentity::parse(b"<SoftwareIdentity name=\"\xff\" tagId=\"t\"/>");
    assert_eq!(e, Err(coswid::XmlError::NotUtf8 { offset: 24 }));
    // two byte order marks: the second one is text before the root element; the offset counts
    // the first one
    let e = SoftwareIdentity::parse(
        "\u{feff}\u{feff}<SoftwareIdentity name=\"n\" tagId=\"t\"/>".as_bytes(),
    );
    assert!(
        matches!(e, Err(coswid::XmlError::Malformed { offset: 3, .. })),
        "{e:?}"
    );
    // one byte order mark and whitespace are fine
    assert!(
        SoftwareIdentity::parse("\u{feff}\n <SoftwareIdentity name=\"n\" tagId=\"t\"/>".as_bytes())
            .is_ok()
    );
}

/// Namespaces in XML: the parser resolves prefixes itself from the declarations of the open
/// SWID elements (declarations on an element apply to its own name and attributes, and end
/// with it).
#[test]
fn namespace_scopes() {
    const ISO: &str = "http://standards.iso.org/iso/19770/-2/2015/schema.xsd";
    let doc = format!(
        r#"<s:SoftwareIdentity xmlns:s="{ISO}" xmlns:n="urn:n" name="x" tagId="t" xml:lang="en">
        <s:Entity name="e" regid="r" role="tagCreator" n:a="1"/>
        <s:Payload>
          <s:Directory xmlns:d="urn:d" xmlns="urn:other" name="a" d:x="2">
            <File name="f1"/>
            <s:File xmlns="" name="f2" d:y="3"/>
          </s:Directory>
          <s:Directory name="b" d:x="4"><s:File xmlns:s="urn:not-swid" name="f3"/></s:Directory>
          <s:Directory xmlns:s="" name="c"/>
          <File xmlns="{ISO}" name="f4"/>
        </s:Payload>
        </s:SoftwareIdentity>"#
    );
    let si = SoftwareIdentity::parse(doc.as_bytes()).unwrap();
    assert_eq!(si.element.lang(), Some("en"));
    assert_eq!(si.entities[0].attr_ns("urn:n", "a"), Some("1"));
    let items = &si.payload.as_ref().unwrap().items;
    assert_eq!(items.len(), 4, "{items:?}");
    // urn:other is the default namespace inside the first Directory: its unprefixed File is
    // not SWID (kept raw); `xmlns=""` puts the second back in no namespace
    let Resource::Directory(a, kids) = &items[0] else {
        panic!("{:?}", items[0])
    };
    assert_eq!(a.attr_ns("urn:d", "x"), Some("2"));
    assert!(matches!(&kids[0], Resource::Other(x) if x.contains("f1")));
    let Resource::File(f2) = &kids[1] else {
        panic!("{:?}", kids[1])
    };
    assert_eq!(f2.attr_ns("urn:d", "y"), Some("3"));
    // the d: prefix ended with the first Directory; s: is redeclared on the File
    let Resource::Directory(b, kids) = &items[1] else {
        panic!("{:?}", items[1])
    };
    assert_eq!(b.attr_ns("urn:d", "x"), None);
    assert!(matches!(&kids[0], Resource::Other(x) if x.contains("f3")));
    // `xmlns:s=""` undeclares the prefix: an unknown element
    assert!(matches!(&items[2], Resource::Other(x) if x.contains("\"c\"")));
    assert!(matches!(&items[3], Resource::File(f) if f.attr("name") == Some("f4")));
    // and the tree survives a round trip
    assert_eq!(SoftwareIdentity::parse(si.to_xml().as_bytes()).unwrap(), si);
}

#[test]
fn reserved_namespace_declarations_are_refused() {
    for decl in [
        r#"xmlns:xml="urn:x""#,
        r#"xmlns:xmlns="urn:x""#,
        r#"xmlns:p="http://www.w3.org/XML/1998/namespace""#,
        r#"xmlns:p="http://www.w3.org/2000/xmlns/""#,
    ] {
        let doc = format!(
            r#"<SoftwareIdentity name="n" tagId="t"><Entity {decl} name="e"/></SoftwareIdentity>"#
        );
        let e = SoftwareIdentity::parse(doc.as_bytes()).unwrap_err();
        assert!(
            matches!(e, coswid::XmlError::Malformed { offset: 37, .. }),
            "{decl}: {e:?}"
        );
    }
    // binding xml to its own name is allowed
    let doc = r#"<SoftwareIdentity xmlns:xml="http://www.w3.org/XML/1998/namespace" name="n" tagId="t"/>"#;
    assert!(SoftwareIdentity::parse(doc.as_bytes()).is_ok());
    // an undeclared prefix on the root: not a SWID tag
    let doc = r#"<p:SoftwareIdentity name="n" tagId="t"/>"#;
    assert_eq!(
        SoftwareIdentity::parse(doc.as_bytes()).unwrap_err(),
        coswid::XmlError::NoSoftwareIdentity
    );
}
