//! The decoder reads the common shapes of file and directory maps (definite texts and byte
//! strings, a uint size, a `[int, bstr]` hash) on a fast path and everything else on the
//! general one: both must give the same model, errors and deviations.

use std::borrow::Cow;

use coswid::{
    DecodeErrorKind, DeviationKind, Directory, File, HashEntry, Label, Mode, PathElements,
};

fn file(bytes: &[u8], mode: Mode) -> Result<(File<'_>, Vec<DeviationKind>), coswid::DecodeError> {
    File::decode_fragment(bytes, mode).map(|(f, d)| (f, d.into_iter().map(|d| d.kind).collect()))
}

#[test]
fn definite_and_indefinite_strings_give_the_same_file() {
    // {24: "ab", 20: 5, 7: [1, h'0102']}
    let definite = [
        0xa3, 0x18, 0x18, 0x62, b'a', b'b', 0x14, 0x05, 0x07, 0x82, 0x01, 0x42, 1, 2,
    ];
    // the same with an indefinite text and an indefinite byte string (general path)
    let indefinite = [
        0xa3, 0x18, 0x18, 0x7f, 0x61, b'a', 0x61, b'b', 0xff, 0x14, 0x05, 0x07, 0x82, 0x01, 0x5f,
        0x41, 1, 0x41, 2, 0xff,
    ];
    // and with one-byte lengths (0x78 / 0x58 heads)
    let long_heads = [
        0xa3, 0x18, 0x18, 0x78, 2, b'a', b'b', 0x14, 0x05, 0x07, 0x82, 0x01, 0x58, 2, 1, 2,
    ];
    let want = File {
        fs_name: Cow::Borrowed("ab"),
        size: Some(5),
        hash: Some(HashEntry {
            alg: 1,
            value: Cow::Borrowed(&[1, 2]),
        }),
        ..File::default()
    };
    for b in [&definite[..], &indefinite, &long_heads] {
        let (f, dev) = file(b, Mode::Strict).unwrap();
        assert_eq!(f, want);
        assert!(dev.is_empty());
    }
}

#[test]
fn duplicate_keys_after_the_fast_path() {
    // {24: "a", 24: "b"}
    let b = [0xa2, 0x18, 0x18, 0x61, b'a', 0x18, 0x18, 0x61, b'b'];
    let e = file(&b, Mode::Strict).unwrap_err();
    assert_eq!((e.kind, e.offset), (DecodeErrorKind::DuplicateKey, 5));
    let (f, dev) = file(&b, Mode::Lenient).unwrap();
    assert_eq!(f.fs_name, "b"); // the last wins
    assert_eq!(dev, [DeviationKind::DuplicateKey]);
    // {24: "a", 7: [1, h''], 7: [1, h'01']}
    let b = [
        0xa3, 0x18, 0x18, 0x61, b'a', 0x07, 0x82, 0x01, 0x40, 0x07, 0x82, 0x01, 0x41, 1,
    ];
    assert_eq!(
        file(&b, Mode::Strict).unwrap_err().kind,
        DecodeErrorKind::DuplicateKey
    );
    let (f, _) = file(&b, Mode::Lenient).unwrap();
    assert_eq!(f.hash.unwrap().value.as_ref(), [1]);
}

#[test]
fn bad_values_on_the_fast_path_are_reported_by_the_general_one() {
    // fs-name that is not UTF-8
    let b = [0xa1, 0x18, 0x18, 0x62, 0xff, 0xfe];
    for mode in [Mode::Strict, Mode::Lenient] {
        let e = file(&b, mode).unwrap_err();
        assert_eq!(
            (e.kind, e.field, e.offset),
            (DecodeErrorKind::Malformed, "file/fs-name", 3)
        );
    }
    // fs-name running past the end of the input
    let b = [0xa1, 0x18, 0x18, 0x65, b'a'];
    assert_eq!(
        file(&b, Mode::Lenient).unwrap_err().kind,
        DecodeErrorKind::EndOfInput
    );
    // hash algorithm beyond i64
    let b = [
        0xa2, 0x18, 0x18, 0x61, b'a', 0x07, 0x82, 0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x40,
    ];
    assert_eq!(
        file(&b, Mode::Lenient).unwrap_err().kind,
        DecodeErrorKind::IntegerOutOfRange
    );
    // a negative algorithm and the largest size are values, not errors
    let b = [
        0xa3, 0x18, 0x18, 0x61, b'a', 0x07, 0x82, 0x20, 0x40, 0x14, 0x1b, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff,
    ];
    let (f, _) = file(&b, Mode::Strict).unwrap();
    assert_eq!((f.hash.unwrap().alg, f.size), (-1, Some(u64::MAX)));
}

#[test]
fn mistyped_fields_on_the_fast_path() {
    // {7: "x", 24: "n"}: hash mistyped
    let b = [0xa2, 0x07, 0x61, b'x', 0x18, 0x18, 0x61, b'n'];
    assert_eq!(
        file(&b, Mode::Strict).unwrap_err().kind,
        DecodeErrorKind::WrongType {
            expected: "hash-entry"
        }
    );
    let (f, dev) = file(&b, Mode::Lenient).unwrap();
    assert_eq!(f.hash, None);
    assert_eq!(f.attributes().extra.len(), 1);
    assert_eq!(f.attributes().extra[0].0, Label::Int(7));
    assert_eq!(f.attributes().extra[0].1.as_text(), Some("x"));
    assert_eq!(dev, [DeviationKind::MistypedKeptAsAttribute]);
    // {24: 5}: a mistyped fs-name leaves the file without one
    let b = [0xa1, 0x18, 0x18, 0x05];
    assert_eq!(
        file(&b, Mode::Lenient).unwrap_err().kind,
        DecodeErrorKind::MissingField
    );
    // {20: -1}: size is a uint
    let b = [0xa2, 0x18, 0x18, 0x61, b'n', 0x14, 0x20];
    assert!(file(&b, Mode::Strict).is_err());
    let (f, _) = file(&b, Mode::Lenient).unwrap();
    assert_eq!((f.size, f.attributes().extra.len()), (None, 1));
}

#[test]
fn long_file_arrays_and_hostile_lengths() {
    // directory {24: "d", 26: {17: [200 x {24: "f"}]}}
    let mut b = vec![
        0xa2, 0x18, 0x18, 0x61, b'd', 0x18, 0x1a, 0xa1, 0x11, 0x98, 200,
    ];
    for _ in 0..200 {
        b.extend_from_slice(&[0xa1, 0x18, 0x18, 0x61, b'f']);
    }
    let (d, _) = Directory::decode_fragment(&b, Mode::Strict).unwrap();
    let pe: PathElements<'_> = d.path_elements.unwrap();
    assert_eq!(pe.file.len(), 200);
    assert!(pe.file.iter().all(|f| f.fs_name == "f"));
    // a declared length of 2^32 files with five bytes behind it: an error, nothing reserved
    // beyond what the input can hold
    let b = [
        0xa2, 0x18, 0x18, 0x61, b'd', 0x18, 0x1a, 0xa1, 0x11, 0x9a, 0xff, 0xff, 0xff, 0xff, 0xa1,
        0x18, 0x18, 0x61, b'f',
    ];
    assert_eq!(
        Directory::decode_fragment(&b, Mode::Strict)
            .unwrap_err()
            .kind,
        DecodeErrorKind::EndOfInput
    );
    // a file that is not a map inside the array: the field is mistyped as a whole
    let b = [
        0xa2, 0x18, 0x18, 0x61, b'd', 0x18, 0x1a, 0xa1, 0x11, 0x82, 0xa1, 0x18, 0x18, 0x61, b'f',
        0x05,
    ];
    assert!(Directory::decode_fragment(&b, Mode::Strict).is_err());
    let (d, dev) = Directory::decode_fragment(&b, Mode::Lenient).unwrap();
    let pe = d.path_elements.unwrap();
    assert!(pe.file.is_empty());
    assert_eq!(pe.attributes.extra.len(), 1);
    assert_eq!(dev.len(), 1);
}

/// `{7: [alg, h'0102'], 20: 5, 24: name}`: the exact shape of swidGenerator's file maps.
fn exact_file(alg: &[u8], name: &[u8]) -> Vec<u8> {
    let mut b = vec![0xa3, 0x07, 0x82];
    b.extend_from_slice(alg);
    b.extend_from_slice(&[0x42, 1, 2, 0x14, 0x05, 0x18, 0x18]);
    assert!(name.len() < 24);
    b.push(0x60 | u8::try_from(name.len()).unwrap_or_default());
    b.extend_from_slice(name);
    b
}

#[test]
fn the_exact_file_shape_reads_as_the_general_path_reads_it() {
    // the same map with its keys in another order takes the general path
    let general = [
        0xa3, 0x18, 0x18, 0x62, b'a', b'b', 0x14, 0x05, 0x07, 0x82, 0x01, 0x42, 1, 2,
    ];
    let (want, _) = file(&general, Mode::Strict).unwrap();
    let ab = exact_file(&[0x01], b"ab");
    for mode in [Mode::Strict, Mode::Lenient] {
        let (f, dev) = file(&ab, mode).unwrap();
        assert_eq!((&f, dev.len()), (&want, 0));
    }
    // a negative and a two-byte algorithm
    let neg = exact_file(&[0x20], b"ab");
    assert_eq!(file(&neg, Mode::Strict).unwrap().0.hash.unwrap().alg, -1);
    let two = exact_file(&[0x19, 0x01, 0x00], b"ab");
    assert_eq!(file(&two, Mode::Strict).unwrap().0.hash.unwrap().alg, 256);
    // sizes in every head length
    for (head, size) in [
        (&[0x17][..], 23),
        (&[0x18, 0xff], 255),
        (&[0x19, 0x0b, 0xe0], 3040),
        (&[0x1a, 0x00, 0x01, 0x00, 0x00], 65536),
        (
            &[0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            u64::MAX,
        ),
    ] {
        let mut b = vec![0xa3, 0x07, 0x82, 0x01, 0x42, 1, 2, 0x14];
        b.extend_from_slice(head);
        b.extend_from_slice(&[0x18, 0x18, 0x61, b'a']);
        assert_eq!(file(&b, Mode::Strict).unwrap().0.size, Some(size));
    }
    // what the shape does not hold goes to the general path, errors included
    let e = file(&exact_file(&[0x01], &[0xff, 0xfe]), Mode::Lenient).unwrap_err();
    assert_eq!(
        (e.kind, e.field),
        (DecodeErrorKind::Malformed, "file/fs-name")
    );
    let huge = [0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    let e = file(&exact_file(&huge, b"ab"), Mode::Lenient).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::IntegerOutOfRange);
    let mut short = exact_file(&[0x01], b"ab");
    short.pop();
    assert_eq!(
        file(&short, Mode::Lenient).unwrap_err().kind,
        DecodeErrorKind::EndOfInput
    );
}

#[test]
fn the_exact_directory_shape_reads_as_the_general_path_reads_it() {
    // {24: "d", 25: "/", 26: {17: [f, f]}} and the same with fs-name last (general path)
    let f = exact_file(&[0x01], b"f");
    let mut exact = vec![0xa3, 0x18, 0x18, 0x61, b'd', 0x18, 0x19, 0x61, b'/'];
    exact.extend_from_slice(&[0x18, 0x1a, 0xa1, 0x11, 0x82]);
    exact.extend_from_slice(&f);
    exact.extend_from_slice(&f);
    let mut general = vec![0xa3, 0x18, 0x19, 0x61, b'/', 0x18, 0x1a, 0xa1, 0x11, 0x82];
    general.extend_from_slice(&f);
    general.extend_from_slice(&f);
    general.extend_from_slice(&[0x18, 0x18, 0x61, b'd']);
    for mode in [Mode::Strict, Mode::Lenient] {
        let (a, da) = Directory::decode_fragment(&exact, mode).unwrap();
        let (b, db) = Directory::decode_fragment(&general, mode).unwrap();
        assert_eq!((a, da), (b, db));
    }
    // one file as a one-element array: the deviation is reported once
    let mut one = vec![0xa3, 0x18, 0x18, 0x61, b'd', 0x18, 0x19, 0x61, b'/'];
    one.extend_from_slice(&[0x18, 0x1a, 0xa1, 0x11, 0x81]);
    one.extend_from_slice(&f);
    let (_, dev) = Directory::decode_fragment(&one, Mode::Lenient).unwrap();
    assert_eq!(dev.len(), 1);
    assert_eq!(dev[0].kind, DeviationKind::SingleElementArray);
    // files that are not files: read again by the general path, deviations not doubled
    let mut bad = vec![0xa3, 0x18, 0x18, 0x61, b'd', 0x18, 0x19, 0x61, b'/'];
    bad.extend_from_slice(&[0x18, 0x1a, 0xa1, 0x11, 0x82]);
    bad.extend_from_slice(&f);
    bad.push(0x05);
    assert!(Directory::decode_fragment(&bad, Mode::Strict).is_err());
    let (d, dev) = Directory::decode_fragment(&bad, Mode::Lenient).unwrap();
    assert_eq!(d.path_elements.unwrap().attributes.extra.len(), 1);
    assert_eq!(dev.len(), 1);
    assert_eq!(dev[0].kind, DeviationKind::MistypedKeptAsAttribute);
}

// ---- SWID XML ----

use coswid::XmlError;
use coswid::swid::SoftwareIdentity;

/// `tag` as the first child of a Payload: read on the fast path (quick-xml's last event was
/// the Payload start tag). With text just before it, quick-xml reads it: the text is ignored,
/// so the two must parse to the same tree or fail alike (one byte further on).
fn both_ways(tag: &str) -> (Result<String, XmlError>, Result<String, XmlError>) {
    let doc = |before: &str| {
        format!(
            "<SoftwareIdentity xmlns=\"http://standards.iso.org/iso/19770/-2/2015/schema.xsd\" \
             xmlns:p=\"urn:p\" name=\"n\" tagId=\"t\"><Payload>{before}{tag}\
             <File name=\"after\"/></Payload></SoftwareIdentity>"
        )
    };
    let parse =
        |xml: String| SoftwareIdentity::parse(xml.as_bytes()).map(|si| format!("{:?}", si.payload));
    (parse(doc("")), parse(doc("x")))
}

#[test]
fn empty_element_tags_on_the_fast_path_read_as_quick_xml_reads_them() {
    let tags = [
        "<File name=\"a\" size=\"1\"/>",
        "<File name='a' size = \"1\"  />",
        " \n\t<File name=\"a\"/>",
        "<File/>",
        "<File name=\"a>b\" p:x='say \"hi\"'/>",
        "<File name=\"a&amp;b\"/>",
        "<File name=\"a\tb\"/>",
        "<p:File name=\"a\"/>",
        "<Other name=\"a\"/>",
        "<Directory name=\"d\"/>",
        "<Directory name=\"d\"><File name=\"f\"/></Directory>",
        "<File name=\"a\"><x/></File>",
        // malformed: each must fail the same way either way
        "<File name=\"a\" name=\"b\"/>",
        "<File name=\"a\"size=\"1\"/>",
        "<File name=\"a\"/ >",
        "<File name/>",
        "<File name=a/>",
        "<File name=\"a<b\"/>",
        "<File na\"me=\"a\"/>",
        "<File name=\"a\" b/>",
        "<File x:name=\"a\"/>",
        "<File xmlns:xml=\"urn:other\"/>",
        "<_x/>",
        "<File name=\"unterminated/>",
    ];
    for tag in tags {
        match both_ways(tag) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{tag}"),
            (
                Err(XmlError::Malformed { offset, message }),
                Err(XmlError::Malformed {
                    offset: o2,
                    message: m2,
                }),
            ) => assert_eq!((offset + 1, message), (o2, m2), "{tag}"),
            (a, b) => assert_eq!(format!("{a:?}"), format!("{b:?}"), "{tag}"),
        }
    }
    // the fast path took the well-formed ones: they parse
    assert!(both_ways(tags[0]).0.unwrap().contains("\"after\""));
}
