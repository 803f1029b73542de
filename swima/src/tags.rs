//! A SWID/CoSWID tag directory source (feature `fs`): scans directories for `.swidtag` (ISO
//! 19770-2 XML) and `.coswid` (RFC 9393 CBOR) files and derives each tag's RFC 8412 Software
//! Identifier, `TAG_CREATOR_REGID "__" UNIQUE_ID` (§6.1.2, §6.2.2). ISO 2015 SWID XML and
//! CoSWID (also COSE-signed) are read with the `coswid` crate; ISO 2009 tags, which that crate
//! does not model, by a small reader of the two fields needed here.
//!
//! Incomplete tags (RFC 8412 §3.2: a record whose Software Identifier cannot be derived is not
//! delivered): a tag without a unique ID, or without exactly one tag-creator entity, is skipped
//! and listed by [`TagDirSource::skipped`]. A 2015 tag-creator `Entity` without `regid` has the
//! schema's default, `http://invalid.unavailable`, and so has a CoSWID tag-creator without
//! `reg-id` (CoSWID encodes the 2015 data model); a 2009 `tag_creator` without `regid` has no
//! default, so such a tag is skipped too.
//!
//! Feed it to [`crate::Collector::refresh`]: each scan is diffed against the previous one, so
//! added, removed and changed tag files become CREATION, DELETION and ALTERATION events.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use nea_wire::{Text, VendorId};

use crate::{DataModelType, Error, InventorySource, SourceItem};

/// RegID used when a tag names no tag creator (RFC 8412 §6.1.2, ISO 2015 tags).
pub const UNKNOWN_REGID_2015: &str = "http://invalid.unavailable";
/// RegID used when a 2009 tag names no tag creator (RFC 8412 §6.2.2).
pub const UNKNOWN_REGID_2009: &str = "unknown";

/// Largest tag file read (bigger files are skipped).
const MAX_TAG_FILE: u64 = 16 * 1024 * 1024;
/// Deepest directory level walked below each root.
const MAX_DEPTH: usize = 8;
/// Deepest element nesting of a SWID tag (deeper files are skipped).
const MAX_XML_DEPTH: usize = 64;

/// Scans SWID/CoSWID tag directories.
#[derive(Debug, Clone)]
pub struct TagDirSource {
    roots: Vec<PathBuf>,
    /// Data model reported for `.coswid` records. RFC 8412's registry has 0 (ISO 2015 XML)
    /// and 1 (ISO 2009 XML); the CoSWID number assigned with RFC 9393 is not confirmed here,
    /// so the default is the local-use value 192 (RFC 8412 §10.5) until it is.
    pub coswid_data_model: DataModelType,
    skipped: Vec<PathBuf>,
}

impl TagDirSource {
    /// A source over `roots` (missing directories count as empty).
    pub fn new(roots: impl IntoIterator<Item = impl Into<PathBuf>>) -> Self {
        Self {
            roots: roots.into_iter().map(Into::into).collect(),
            coswid_data_model: DataModelType {
                pen: VendorId::IETF,
                kind: 192,
            },
            skipped: Vec::new(),
        }
    }

    /// The usual tag locations on Linux (NISTIR 8060 / ISO 19770-2 conventions).
    pub fn standard() -> Self {
        Self::new([
            "/usr/share/swidtag",
            "/usr/local/share/swidtag",
            "/usr/lib/swidtag",
            "/var/lib/swidtag",
        ])
    }

    /// Tag files the last scan skipped because no Software Identifier could be derived
    /// (RFC 8412 §3.2: such records are not delivered).
    pub fn skipped(&self) -> &[PathBuf] {
        &self.skipped
    }

    fn walk(
        &mut self,
        dir: &Path,
        depth: usize,
        seen: &mut HashSet<PathBuf>,
        out: &mut Vec<SourceItem>,
    ) -> Result<(), Error> {
        // Each directory once per scan, however many symlinks lead to it: a symlink loop
        // would otherwise be walked (and its tags reported) again at every depth.
        if let Ok(canonical) = std::fs::canonicalize(dir)
            && !seen.insert(canonical)
        {
            return Ok(());
        }
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::Source(format!("{}: {e}", dir.display()))),
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            let Ok(meta) = std::fs::metadata(&p) else {
                continue;
            };
            if meta.is_dir() {
                if depth < MAX_DEPTH {
                    self.walk(&p, depth + 1, seen, out)?;
                }
                continue;
            }
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or_default();
            // Regular files only (a FIFO would block the scan, a device like /dev/zero never
            // ends), and never more than MAX_TAG_FILE bytes even if the file grows meanwhile.
            if !(ext == "swidtag" || ext == "coswid")
                || !meta.is_file()
                || meta.len() > MAX_TAG_FILE
            {
                continue;
            }
            let Some(data) = read_limited(&p, MAX_TAG_FILE) else {
                continue;
            };
            let data = Bytes::from(data);
            let parsed = if ext == "swidtag" {
                swid_identifier(&data)
            } else {
                coswid_identifier(&data).map(|id| (id, self.coswid_data_model))
            };
            match parsed {
                Some((id, data_model)) => out.push(SourceItem {
                    data_model,
                    software_identifier: Text::from(id),
                    locator: Text::from(file_uri(&p)),
                    record: data,
                }),
                None => self.skipped.push(p),
            }
        }
        Ok(())
    }
}

impl InventorySource for TagDirSource {
    fn metadata(&self) -> Text {
        let dirs: Vec<String> = self.roots.iter().map(|r| r.display().to_string()).collect();
        Text::from(format!("SWID/CoSWID tag directories: {}", dirs.join(", ")))
    }

    fn scan(&mut self) -> Result<Vec<SourceItem>, Error> {
        self.skipped.clear();
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for r in self.roots.clone() {
            self.walk(&r, 0, &mut seen, &mut out)?;
        }
        Ok(out)
    }
}

/// The file's bytes, `None` if it cannot be read or holds more than `max` bytes.
fn read_limited(p: &Path, max: u64) -> Option<Vec<u8>> {
    let mut data = Vec::new();
    std::fs::File::open(p)
        .ok()?
        .take(max.saturating_add(1))
        .read_to_end(&mut data)
        .ok()?;
    (data.len() as u64 <= max).then_some(data)
}

/// `file:` URI of a path (RFC 8089), percent-encoding everything but unreserved characters
/// and `/` (RFC 8412 §3.4.4).
pub fn file_uri(p: &Path) -> String {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut s = String::from("file://");
    for b in abs.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            s.push(char::from(b));
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

/// The Software Identifier of an ISO 19770-2 XML tag and its data model: 2015 tags
/// (`SoftwareIdentity/@tagId`, the one `Entity` whose role includes `tagCreator`, its `@regid`
/// or the schema default) or 2009 tags (`software_identification_tag/unique_id`,
/// `tag_creator/regid`). `None` for anything else (see the module docs).
pub fn swid_identifier(xml: &[u8]) -> Option<(String, DataModelType)> {
    match coswid::swid::SoftwareIdentity::parse(xml) {
        Ok(tag) => {
            let tag_id = tag.tag_id().filter(|t| !t.is_empty())?;
            let mut creators = tag.entities.iter().filter(|e| {
                e.attr("role")
                    .is_some_and(|r| r.split_ascii_whitespace().any(|r| r == "tagCreator"))
            });
            let creator = creators.next()?;
            if creators.next().is_some() {
                return None;
            }
            let regid = creator.attr("regid").unwrap_or(UNKNOWN_REGID_2015);
            Some((format!("{regid}__{tag_id}"), DataModelType::SWID_2015))
        }
        Err(_) => swid_2009_identifier(xml).map(|id| (id, DataModelType::SWID_2009)),
    }
}

/// The identifier of an ISO 2009 tag: `regid` of `tag_creator` and `unique_id`, both children
/// of the root `software_identification_tag` (any namespace prefix).
fn swid_2009_identifier(xml: &[u8]) -> Option<String> {
    use quick_xml::events::Event as X;
    let mut r = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut tag_id: Option<String> = None;
    let mut regid: Option<String> = None;
    let mut path: Vec<String> = Vec::new();
    loop {
        let ev = r.read_event_into(&mut buf).ok()?;
        match ev {
            X::Start(ref e) => {
                let name = e.local_name().into_inner().to_owned();
                if path.is_empty() && name != "software_identification_tag" {
                    return None;
                }
                // Real tags nest a few levels; a hostile file of nested elements would
                // otherwise hold one String per level.
                if path.len() >= MAX_XML_DEPTH {
                    return None;
                }
                path.push(name);
            }
            X::Empty(_) if path.is_empty() => return None,
            X::Text(ref t) => {
                let raw = t.xml10_content();
                let v = quick_xml::escape::unescape(&raw).ok()?.trim().to_string();
                match path.as_slice() {
                    [_, p, last] if p == "tag_creator" && last == "regid" => regid = Some(v),
                    [_, last] if last == "unique_id" => tag_id = Some(v),
                    _ => {}
                }
            }
            X::End(_) => {
                path.pop();
            }
            X::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    let tag_id = tag_id.filter(|t| !t.is_empty())?;
    let regid = regid.filter(|r| !r.is_empty())?;
    Some(format!("{regid}__{tag_id}"))
}

/// The Software Identifier of a CoSWID tag (RFC 9393, tagged or not, or COSE-signed: the
/// identifier is read from the payload without checking the signature, which is the
/// SWIMA-PV's business): the tag-creator's `reg-id`, `"__"`, the `tag-id` (a 16-byte tag-id is
/// written as `urn:uuid:…`; a tag-creator without `reg-id` has the 2015 data model's default,
/// `http://invalid.unavailable`, as in XML). Decoded leniently (real tags deviate from the
/// CDDL in harmless ways); `None` if it does not decode or has not exactly one tag-creator.
pub fn coswid_identifier(cbor: &[u8]) -> Option<String> {
    let payload = if coswid::cose::is_signed(cbor) {
        coswid::cose::unverified_payload(cbor).ok()?
    } else {
        cbor
    };
    let tag = coswid::ConciseSwidTag::decode_lenient(payload).ok()?.tag;
    let regid = tag
        .tag_creator()?
        .reg_id
        .as_deref()
        .unwrap_or(UNKNOWN_REGID_2015);
    let tag_id = tag.tag_id.to_string();
    (!tag_id.is_empty()).then(|| format!("{regid}__{tag_id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swid_2015_and_2009() {
        let x = br#"<?xml version="1.0"?><SoftwareIdentity xmlns="http://standards.iso.org/iso/19770/-2/2015/schema.xsd" name="adduser" tagId="Debian_12-x86_64-adduser-3.134" version="3.134"><Entity name="strongSwan Project" regid="strongswan.org" role="tagCreator" /></SoftwareIdentity>"#;
        assert_eq!(
            swid_identifier(x),
            Some((
                "strongswan.org__Debian_12-x86_64-adduser-3.134".into(),
                DataModelType::SWID_2015
            ))
        );
        // A tagCreator without regid has the schema default.
        let x = br#"<SoftwareIdentity name="n" tagId="t"><Entity name="e" role="softwareCreator tagCreator"/></SoftwareIdentity>"#;
        assert_eq!(
            swid_identifier(x).unwrap().0,
            "http://invalid.unavailable__t"
        );
        // Incomplete (RFC 8412 §3.2): no tag creator, two tag creators, no tagId → not delivered.
        for x in [
            &br#"<SoftwareIdentity name="n" tagId="t"><Entity name="e" regid="a" role="softwareCreator"/></SoftwareIdentity>"#[..],
            br#"<SoftwareIdentity name="n" tagId="t"><Entity name="a" regid="a" role="tagCreator"/><Entity name="b" regid="b" role="tagCreator"/></SoftwareIdentity>"#,
            br#"<SoftwareIdentity name="n"><Entity name="a" regid="a" role="tagCreator"/></SoftwareIdentity>"#,
            br#"<SoftwareIdentity name="n" tagId=""><Entity name="a" regid="a" role="tagCreator"/></SoftwareIdentity>"#,
        ] {
            assert_eq!(swid_identifier(x), None, "{}", String::from_utf8_lossy(x));
        }
        let x = br#"<swid:software_identification_tag xmlns:swid="http://standards.iso.org/iso/19770/-2/2009/schema.xsd"><swid:tag_creator><swid:name>X</swid:name><swid:regid>regid.2009-01.com.x</swid:regid></swid:tag_creator><swid:unique_id>abc</swid:unique_id></swid:software_identification_tag>"#;
        assert_eq!(
            swid_identifier(x),
            Some(("regid.2009-01.com.x__abc".into(), DataModelType::SWID_2009))
        );
        // 2009 without a tag creator regid: not delivered.
        let x = br#"<software_identification_tag><unique_id>abc</unique_id></software_identification_tag>"#;
        assert_eq!(swid_identifier(x), None);
        assert_eq!(swid_identifier(b"<x/>"), None);
        assert_eq!(swid_identifier(b"<SoftwareIdentity tagId="), None);
    }

    /// {0: tag-id, 12: 0, 1: "n", 2: entity} with `entity` as given.
    fn coswid_with(tag_id: &[u8], entity: &[u8]) -> Vec<u8> {
        let mut c = vec![0xa4, 0x00];
        c.extend_from_slice(tag_id);
        c.extend_from_slice(&[0x0c, 0x00, 0x01, 0x61, b'n', 0x02]);
        c.extend_from_slice(entity);
        c
    }

    #[test]
    fn coswid() {
        // {31: "X", 32: "x.org", 33: 1}
        let creator = [
            0xa3, 0x18, 0x1f, 0x61, b'X', 0x18, 0x20, 0x65, b'x', b'.', b'o', b'r', b'g', 0x18,
            0x21, 0x01,
        ];
        let c = coswid_with(&[0x61, b't'], &creator);
        assert_eq!(coswid_identifier(&c).as_deref(), Some("x.org__t"));
        // Tagged (1398229316) gives the same.
        let mut tagged = vec![0xda, 0x53, 0x57, 0x49, 0x44];
        tagged.extend_from_slice(&c);
        assert_eq!(coswid_identifier(&tagged).as_deref(), Some("x.org__t"));
        // 16-byte tag-id, entity array, role array [2, 1].
        let mut id = vec![0x50];
        id.extend_from_slice(&[0x1d; 16]);
        let e = [
            0x81, 0xa3, 0x18, 0x1f, 0x61, b'X', 0x18, 0x20, 0x61, b'r', 0x18, 0x21, 0x82, 0x02,
            0x01,
        ];
        assert_eq!(
            coswid_identifier(&coswid_with(&id, &e)).as_deref(),
            Some("r__urn:uuid:1d1d1d1d-1d1d-1d1d-1d1d-1d1d1d1d1d1d")
        );
        // Incomplete: no tag creator (role 2 only) → not delivered.
        let no_creator = [
            0xa3, 0x18, 0x1f, 0x61, b'X', 0x18, 0x20, 0x61, b'r', 0x18, 0x21, 0x02,
        ];
        assert_eq!(
            coswid_identifier(&coswid_with(&[0x61, b't'], &no_creator)),
            None
        );
        // A creator without reg-id has the default.
        let no_regid = [0xa2, 0x18, 0x1f, 0x61, b'X', 0x18, 0x21, 0x01];
        assert_eq!(
            coswid_identifier(&coswid_with(&[0x61, b't'], &no_regid)).as_deref(),
            Some("http://invalid.unavailable__t")
        );
        assert_eq!(coswid_identifier(&[0xa1]), None);
        assert_eq!(coswid_identifier(&[0x80]), None);
        // COSE-signed: the identifier comes from the payload.
        let strict = coswid::ConciseSwidTag::decode_lenient(&c)
            .unwrap()
            .tag
            .to_cbor()
            .unwrap();
        let (key, _) = coswid::cose::SigningKey::generate(coswid::cose::Algorithm::EdDsa).unwrap();
        let signed = coswid::cose::sign1(&strict, &key, None).unwrap();
        assert!(coswid::cose::is_signed(&signed));
        assert_eq!(coswid_identifier(&signed).as_deref(), Some("x.org__t"));
    }

    #[test]
    fn swid_2009_deep_nesting_is_refused() {
        let mut x = b"<software_identification_tag>".to_vec();
        for _ in 0..MAX_XML_DEPTH {
            x.extend_from_slice(b"<a>");
        }
        assert_eq!(swid_2009_identifier(&x), None);
        // Within the limit the tag still parses.
        let mut x = b"<software_identification_tag><tag_creator><regid>r</regid></tag_creator><unique_id>u</unique_id>".to_vec();
        for _ in 1..MAX_XML_DEPTH {
            x.extend_from_slice(b"<a>");
        }
        for _ in 1..MAX_XML_DEPTH {
            x.extend_from_slice(b"</a>");
        }
        x.extend_from_slice(b"</software_identification_tag>");
        assert_eq!(swid_2009_identifier(&x).as_deref(), Some("r__u"));
    }

    #[test]
    fn coswid_hostile_role_count_ends() {
        // Entity {33: array claiming 2^64 − 1 roles, none present}.
        let mut e = vec![0xa1, 0x18, 0x21, 0x9b];
        e.extend_from_slice(&[0xff; 8]);
        assert_eq!(coswid_identifier(&coswid_with(&[0x61, b't'], &e)), None);
        // Text roles are kept; an integer 1 after them still marks the creator.
        // {31: "X", 32: "r", 33: ["owner", 1]}
        let e = [
            0xa3, 0x18, 0x1f, 0x61, b'X', 0x18, 0x20, 0x61, b'r', 0x18, 0x21, 0x82, 0x65, b'o',
            b'w', b'n', b'e', b'r', 0x01,
        ];
        assert_eq!(
            coswid_identifier(&coswid_with(&[0x61, b't'], &e)).as_deref(),
            Some("r__t")
        );
        // Indefinite role array [_ 1].
        let e = [
            0xa3, 0x18, 0x1f, 0x61, b'X', 0x18, 0x20, 0x61, b'r', 0x18, 0x21, 0x9f, 0x01, 0xff,
        ];
        assert_eq!(
            coswid_identifier(&coswid_with(&[0x61, b't'], &e)).as_deref(),
            Some("r__t")
        );
    }

    #[test]
    fn scan_skips_special_files_and_symlink_loops() {
        let d = std::env::temp_dir().join(format!("swima-tags-hostile-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join("a.swidtag"),
            br#"<SoftwareIdentity tagId="a"><Entity regid="r" role="tagCreator"/></SoftwareIdentity>"#,
        )
        .unwrap();
        // A device posing as a tag: endless input, used to be read until memory ran out.
        std::os::unix::fs::symlink("/dev/zero", d.join("zero.swidtag")).unwrap();
        // Two symlinks back to the directory itself: 2^8 walks of it, each reporting a.swidtag.
        std::os::unix::fs::symlink(&d, d.join("loop1")).unwrap();
        std::os::unix::fs::symlink(&d, d.join("loop2")).unwrap();
        let mut s = TagDirSource::new([&d]);
        let items = s.scan().unwrap();
        let ids: Vec<&str> = items
            .iter()
            .map(|i| i.software_identifier.as_str())
            .collect();
        assert_eq!(ids, ["r__a"]);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
