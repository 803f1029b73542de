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
    assert_eq!(f.attributes.extra.len(), 1);
    assert_eq!(f.attributes.extra[0].0, Label::Int(7));
    assert_eq!(f.attributes.extra[0].1.as_text(), Some("x"));
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
    assert_eq!((f.size, f.attributes.extra.len()), (None, 1));
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
