//! A SWID/CoSWID tag directory source (feature `fs`): scans directories for `.swidtag` (ISO
//! 19770-2 XML) and `.coswid` (RFC 9393 CBOR) files and derives each tag's RFC 8412 Software
//! Identifier, `TAG_CREATOR_REGID "__" UNIQUE_ID` (§6.1.2, §6.2.2), with a minimal parse.
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
/// (`SoftwareIdentity/@tagId`, `Entity[@role~tagCreator]/@regid`) or 2009 tags
/// (`software_identification_tag/unique_id`, `tag_creator/regid`).
pub fn swid_identifier(xml: &[u8]) -> Option<(String, DataModelType)> {
    use quick_xml::events::Event as X;
    let mut r = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut tag_id: Option<String> = None;
    let mut regid: Option<String> = None;
    let mut is_2009 = false;
    let mut path: Vec<String> = Vec::new();
    loop {
        let ev = r.read_event_into(&mut buf).ok()?;
        match ev {
            X::Start(ref e) | X::Empty(ref e) => {
                let name = e.local_name().into_inner().to_string();
                match name.as_str() {
                    "SoftwareIdentity" if path.is_empty() => {
                        tag_id = attr(e, "tagId");
                    }
                    "Entity" if regid.is_none() => {
                        let role = attr(e, "role").unwrap_or_default();
                        if role.split_whitespace().any(|x| x == "tagCreator") {
                            regid = attr(e, "regid");
                        }
                    }
                    "software_identification_tag" if path.is_empty() => is_2009 = true,
                    _ => {}
                }
                if matches!(ev, X::Start(_)) {
                    // Real tags nest a few levels; a hostile file of nested elements would
                    // otherwise hold one String per level (≈ 23× the file in memory).
                    if path.len() >= MAX_XML_DEPTH {
                        return None;
                    }
                    path.push(name);
                }
            }
            X::Text(ref t) if is_2009 => {
                let raw = t.xml10_content();
                let v = quick_xml::escape::unescape(&raw).ok()?.trim().to_string();
                let last = path.last().map(String::as_str);
                let parent = path.len().checked_sub(2).and_then(|i| path.get(i));
                match (parent.map(String::as_str), last) {
                    (Some("tag_creator"), Some("regid")) => regid = Some(v),
                    (_, Some("unique_id")) if path.len() == 2 => tag_id = Some(v),
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
    let (dm, unknown) = if is_2009 {
        (DataModelType::SWID_2009, UNKNOWN_REGID_2009)
    } else {
        (DataModelType::SWID_2015, UNKNOWN_REGID_2015)
    };
    let regid = regid.unwrap_or_else(|| unknown.to_string());
    Some((format!("{regid}__{tag_id}"), dm))
}

fn attr(e: &quick_xml::events::BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().into_inner() == name)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

/// CBOR tag of a CoSWID (RFC 9393 §8).
const COSWID_TAG: u64 = 1_398_229_316;

/// The Software Identifier of a CoSWID tag: `reg-id` of the entity with role tag-creator (1),
/// `"__"`, and `tag-id` (key 0; a 16-byte tag-id is written as `urn:uuid:…`). COSE-signed tags
/// are not unwrapped here.
pub fn coswid_identifier(cbor: &[u8]) -> Option<String> {
    use minicbor::data::Type;
    let mut d = minicbor::Decoder::new(cbor);
    if d.datatype().ok()? == Type::Tag {
        let t = d.tag().ok()?;
        if t.as_u64() != COSWID_TAG {
            return None;
        }
    }
    let mut tag_id = None;
    let mut regid = None;
    let n = d.map().ok()?;
    let mut i = 0u64;
    loop {
        match n {
            Some(n) if i >= n => break,
            None if d.datatype().ok()? == Type::Break => break,
            _ => {}
        }
        i += 1;
        let key = match d.datatype().ok()? {
            Type::U8
            | Type::U16
            | Type::U32
            | Type::U64
            | Type::I8
            | Type::I16
            | Type::I32
            | Type::I64
            | Type::Int => d.i64().ok(),
            _ => {
                d.skip().ok()?;
                None
            }
        };
        match key {
            Some(0) => {
                tag_id = Some(match d.datatype().ok()? {
                    Type::String => d.str().ok()?.to_string(),
                    Type::Bytes => uuid(d.bytes().ok()?)?,
                    _ => return None,
                });
            }
            Some(2) => {
                if matches!(d.datatype().ok()?, Type::Array | Type::ArrayIndef) {
                    let len = d.array().ok()?;
                    let mut j = 0u64;
                    loop {
                        match len {
                            Some(l) if j >= l => break,
                            None if d.datatype().ok()? == Type::Break => {
                                d.skip().ok()?;
                                break;
                            }
                            _ => {}
                        }
                        j += 1;
                        let r = entity_regid(&mut d)?;
                        regid = regid.or(r);
                    }
                } else {
                    let r = entity_regid(&mut d)?;
                    regid = regid.or(r);
                }
            }
            _ => d.skip().ok()?,
        }
    }
    let tag_id = tag_id?;
    let regid = regid.unwrap_or_else(|| UNKNOWN_REGID_2015.to_string());
    Some(format!("{regid}__{tag_id}"))
}

fn uuid(b: &[u8]) -> Option<String> {
    let b: [u8; 16] = b.try_into().ok()?;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Some(format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        h.get(0..8)?,
        h.get(8..12)?,
        h.get(12..16)?,
        h.get(16..20)?,
        h.get(20..32)?
    ))
}

/// Reads one entity map; `Some(Some(regid))` if it is the tag creator with a reg-id.
fn entity_regid(d: &mut minicbor::Decoder<'_>) -> Option<Option<String>> {
    use minicbor::data::Type;
    let n = d.map().ok()?;
    let mut i = 0u64;
    let mut regid = None;
    let mut creator = false;
    loop {
        match n {
            Some(n) if i >= n => break,
            None if d.datatype().ok()? == Type::Break => {
                d.skip().ok()?;
                break;
            }
            _ => {}
        }
        i += 1;
        let key = if matches!(d.datatype().ok()?, Type::String | Type::Bytes) {
            d.skip().ok()?;
            None
        } else {
            d.i64().ok()
        };
        match key {
            Some(32) => {
                if d.datatype().ok()? == Type::Tag {
                    d.tag().ok()?;
                }
                regid = Some(d.str().ok()?.to_string());
            }
            Some(33) => {
                if matches!(d.datatype().ok()?, Type::Array | Type::ArrayIndef) {
                    // Every element is consumed or the parse fails, so a hostile length
                    // cannot spin without input (an empty array claiming 2^64 − 1 roles).
                    match d.array().ok()? {
                        Some(len) => {
                            for _ in 0..len {
                                creator |= is_tag_creator(d)?;
                            }
                        }
                        None => {
                            while d.datatype().ok()? != Type::Break {
                                creator |= is_tag_creator(d)?;
                            }
                            d.skip().ok()?;
                        }
                    }
                } else {
                    creator |= is_tag_creator(d)?;
                }
            }
            _ => d.skip().ok()?,
        }
    }
    Some(if creator { regid } else { None })
}

/// Reads one role (an integer or a text, RFC 9393 `$role`); whether it is tag-creator (1).
fn is_tag_creator(d: &mut minicbor::Decoder<'_>) -> Option<bool> {
    use minicbor::data::Type;
    match d.datatype().ok()? {
        Type::U8
        | Type::U16
        | Type::U32
        | Type::U64
        | Type::I8
        | Type::I16
        | Type::I32
        | Type::I64
        | Type::Int => Some(d.i64().ok()? == 1),
        _ => {
            d.skip().ok()?;
            Some(false)
        }
    }
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
        let x = br#"<SoftwareIdentity tagId="t"><Entity regid="a" role="softwareCreator"/></SoftwareIdentity>"#;
        assert_eq!(
            swid_identifier(x).unwrap().0,
            "http://invalid.unavailable__t"
        );
        let x = br#"<swid:software_identification_tag xmlns:swid="http://standards.iso.org/iso/19770/-2/2009/schema.xsd"><swid:tag_creator><swid:name>X</swid:name><swid:regid>regid.2009-01.com.x</swid:regid></swid:tag_creator><swid:unique_id>abc</swid:unique_id></swid:software_identification_tag>"#;
        assert_eq!(
            swid_identifier(x),
            Some(("regid.2009-01.com.x__abc".into(), DataModelType::SWID_2009))
        );
        assert_eq!(swid_identifier(b"<x/>"), None);
        assert_eq!(swid_identifier(b"<SoftwareIdentity tagId="), None);
    }

    #[test]
    fn coswid() {
        // {0: "t", 2: {31: "X", 32: "x.org", 33: 1}}
        let c = [
            0xa2, 0x00, 0x61, b't', 0x02, 0xa3, 0x18, 0x1f, 0x61, b'X', 0x18, 0x20, 0x65, b'x',
            b'.', b'o', b'r', b'g', 0x18, 0x21, 0x01,
        ];
        assert_eq!(coswid_identifier(&c).as_deref(), Some("x.org__t"));
        // 16-byte tag-id, entity array, role array [2, 1].
        let mut c = vec![0xa2, 0x00, 0x50];
        c.extend_from_slice(&[0x1d; 16]);
        c.extend_from_slice(&[
            0x02, 0x81, 0xa2, 0x18, 0x20, 0x61, b'r', 0x18, 0x21, 0x82, 0x02, 0x01,
        ]);
        assert_eq!(
            coswid_identifier(&c).as_deref(),
            Some("r__urn:uuid:1d1d1d1d-1d1d-1d1d-1d1d-1d1d1d1d1d1d")
        );
        assert_eq!(coswid_identifier(&[0xa1]), None);
        assert_eq!(coswid_identifier(&[0x80]), None);
    }

    #[test]
    fn swid_deep_nesting_is_refused() {
        let mut x = br#"<SoftwareIdentity tagId="t">"#.to_vec();
        for _ in 0..MAX_XML_DEPTH {
            x.extend_from_slice(b"<a>");
        }
        assert_eq!(swid_identifier(&x), None);
        // Within the limit the tag still parses.
        let mut x = br#"<SoftwareIdentity tagId="t">"#.to_vec();
        for _ in 1..MAX_XML_DEPTH {
            x.extend_from_slice(b"<a>");
        }
        assert_eq!(
            swid_identifier(&x).map(|v| v.0).as_deref(),
            Some("http://invalid.unavailable__t")
        );
    }

    #[test]
    fn coswid_hostile_role_count_ends() {
        // {0: "t", 2: {33: array claiming 2^64 − 1 roles, none present}}: used to spin
        // (each failed read consumed nothing) instead of giving up.
        let mut c = vec![0xa2, 0x00, 0x61, b't', 0x02, 0xa1, 0x18, 0x21, 0x9b];
        c.extend_from_slice(&[0xff; 8]);
        assert_eq!(coswid_identifier(&c), None);
        // Text roles are skipped whole; an integer 1 after them still marks the creator.
        // {0: "t", 2: {32: "r", 33: ["owner", 1]}}
        let c = [
            0xa2, 0x00, 0x61, b't', 0x02, 0xa2, 0x18, 0x20, 0x61, b'r', 0x18, 0x21, 0x82, 0x65,
            b'o', b'w', b'n', b'e', b'r', 0x01,
        ];
        assert_eq!(coswid_identifier(&c).as_deref(), Some("r__t"));
        // Indefinite role array [_ 1].
        let c = [
            0xa2, 0x00, 0x61, b't', 0x02, 0xa2, 0x18, 0x20, 0x61, b'r', 0x18, 0x21, 0x9f, 0x01,
            0xff,
        ];
        assert_eq!(coswid_identifier(&c).as_deref(), Some("r__t"));
        // Indefinite entity array [_ {32: "r", 33: 1}].
        let c = [
            0xa2, 0x00, 0x61, b't', 0x02, 0x9f, 0xa2, 0x18, 0x20, 0x61, b'r', 0x18, 0x21, 0x01,
            0xff,
        ];
        assert_eq!(coswid_identifier(&c).as_deref(), Some("r__t"));
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
