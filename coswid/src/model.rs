//! The RFC 9393 §2 data model. Every type borrows from the decoded input (`'a`) where it can;
//! `into_owned()` detaches it.

use std::borrow::Cow;
use std::fmt;

/// Text borrowed from the input or owned.
pub type Text<'a> = Cow<'a, str>;

/// A map key (`label = text / int`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Label<'a> {
    /// Integer label.
    Int(i64),
    /// Text label.
    Text(Text<'a>),
}

/// A registry value that the CDDL types as `int / text` (role, version-scheme, rel, ownership,
/// use). Registered values are integers; see [`crate::registry`] for the constants and names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Code<'a> {
    /// Integer index (registered or private).
    Int(i64),
    /// Text value.
    Text(Text<'a>),
}

impl Code<'_> {
    /// Detach from the input.
    pub fn into_owned(self) -> Code<'static> {
        match self {
            Self::Int(i) => Code::Int(i),
            Self::Text(t) => Code::Text(Cow::Owned(t.into_owned())),
        }
    }
}

impl Label<'_> {
    /// Detach from the input.
    pub fn into_owned(self) -> Label<'static> {
        match self {
            Self::Int(i) => Label::Int(i),
            Self::Text(t) => Label::Text(Cow::Owned(t.into_owned())),
        }
    }
}

/// One well-formed CBOR data item kept as its encoded bytes (unknown values, extensions).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawValue<'a>(pub(crate) Cow<'a, [u8]>);

impl<'a> RawValue<'a> {
    /// Wrap encoded CBOR; `None` unless `bytes` is exactly one well-formed data item.
    pub fn from_cbor(bytes: impl Into<Cow<'a, [u8]>>) -> Option<Self> {
        let bytes = bytes.into();
        let mut d = minicbor::Decoder::new(&bytes);
        (d.skip().is_ok() && d.position() == bytes.len()).then_some(Self(bytes))
    }
    /// A text value.
    pub fn text(s: &str) -> RawValue<'static> {
        let mut out = Vec::with_capacity(s.len().saturating_add(9));
        crate::cbor::enc::text(&mut out, s);
        RawValue(Cow::Owned(out))
    }
    /// An integer value.
    pub fn int(i: i64) -> RawValue<'static> {
        let mut out = Vec::with_capacity(9);
        crate::cbor::enc::int(&mut out, i);
        RawValue(Cow::Owned(out))
    }
    /// The encoded item.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
    /// The value if it is a text string.
    pub fn as_text(&self) -> Option<&str> {
        minicbor::Decoder::new(&self.0).str().ok()
    }
    /// The value if it is an integer.
    pub fn as_int(&self) -> Option<i64> {
        minicbor::Decoder::new(&self.0).i64().ok()
    }
    /// Detach from the input.
    pub fn into_owned(self) -> RawValue<'static> {
        RawValue(Cow::Owned(self.0.into_owned()))
    }
}

/// `global-attributes` (lang) plus every other key of the map: any-attribute and `$$…-extension`
/// entries, and — in lenient mode — registered keys whose value had the wrong type. They are kept
/// in input order and re-encoded after the known fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Attributes<'a> {
    /// `lang` (15).
    pub lang: Option<Text<'a>>,
    /// Unknown keys with their raw values.
    pub extra: Vec<(Label<'a>, RawValue<'a>)>,
}

impl Attributes<'_> {
    /// Detach from the input.
    pub fn into_owned(self) -> Attributes<'static> {
        Attributes {
            lang: self.lang.map(own),
            extra: self
                .extra
                .into_iter()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        }
    }
}

pub(crate) fn own(t: Text<'_>) -> Text<'static> {
    Cow::Owned(t.into_owned())
}

/// `tag-id => text / bstr .size 16` (also used for `generator`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TagId<'a> {
    /// A text identifier.
    Text(Text<'a>),
    /// A 16-byte UUID.
    Uuid([u8; 16]),
}

impl TagId<'_> {
    /// A UUID tag-id from `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, with or without `urn:uuid:`.
    pub fn parse_uuid(s: &str) -> Option<TagId<'static>> {
        parse_uuid(s).map(TagId::Uuid)
    }
    /// Detach from the input.
    pub fn into_owned(self) -> TagId<'static> {
        match self {
            Self::Text(t) => TagId::Text(own(t)),
            Self::Uuid(u) => TagId::Uuid(u),
        }
    }
}

/// Text ids print as is; UUIDs as `urn:uuid:xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (RFC 8412 §3.4.1
/// form used by the SWIMA software identifier).
impl fmt::Display for TagId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(t) => f.write_str(t),
            Self::Uuid(u) => {
                f.write_str("urn:uuid:")?;
                f.write_str(&uuid_string(u))
            }
        }
    }
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, lower-case.
pub(crate) fn uuid_string(u: &[u8; 16]) -> String {
    let mut s = String::with_capacity(36);
    for (i, b) in u.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Parse `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (with or without `urn:uuid:`).
pub(crate) fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let s = s.strip_prefix("urn:uuid:").unwrap_or(s);
    let hex: Vec<u8> = s.bytes().filter(|b| *b != b'-').collect();
    if s.len() != 36 || hex.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (o, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let pair = core::str::from_utf8(pair).ok()?;
        *o = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

/// `hash-entry = [hash-alg-id: int, hash-value: bytes]`; ids from the IANA Named Information
/// Hash Algorithm Registry (see [`crate::registry::hash_alg_name`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HashEntry<'a> {
    /// hash-alg-id (1 = sha-256, 7 = sha-384, 8 = sha-512, …).
    pub alg: i64,
    /// hash-value.
    pub value: Cow<'a, [u8]>,
}

impl HashEntry<'_> {
    /// Detach from the input.
    pub fn into_owned(self) -> HashEntry<'static> {
        HashEntry {
            alg: self.alg,
            value: Cow::Owned(self.value.into_owned()),
        }
    }
}

/// `concise-swid-tag` (RFC 9393 §2.3).
///
/// ```text
/// { 0 tag-id, 12 tag-version, ?8 corpus, ?9 patch, ?11 supplemental, 1 software-name,
///   ?13 software-version, ?14 version-scheme, ?10 media, ?5 software-meta, 2 entity, ?4 link,
///   ?(6 payload / 3 evidence), *extensions, global-attributes }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConciseSwidTag<'a> {
    /// tag-id (0).
    pub tag_id: TagId<'a>,
    /// tag-version (12).
    pub tag_version: i64,
    /// corpus (8); `None` when absent (false).
    pub corpus: Option<bool>,
    /// patch (9).
    pub patch: Option<bool>,
    /// supplemental (11).
    pub supplemental: Option<bool>,
    /// software-name (1).
    pub software_name: Text<'a>,
    /// software-version (13).
    pub software_version: Option<Text<'a>>,
    /// version-scheme (14).
    pub version_scheme: Option<Code<'a>>,
    /// media (10).
    pub media: Option<Text<'a>>,
    /// software-meta (5), one or more.
    pub software_meta: Vec<SoftwareMeta<'a>>,
    /// entity (2), one or more.
    pub entity: Vec<Entity<'a>>,
    /// link (4), one or more.
    pub link: Vec<Link<'a>>,
    /// payload (6).
    pub payload: Option<Payload<'a>>,
    /// evidence (3).
    pub evidence: Option<Evidence<'a>>,
    /// lang and unknown keys.
    pub attributes: Attributes<'a>,
}

impl<'a> ConciseSwidTag<'a> {
    /// A minimal tag: tag-id, tag-version 0, name and one tag-creator entity.
    pub fn new(tag_id: TagId<'a>, software_name: impl Into<Text<'a>>, creator: Entity<'a>) -> Self {
        Self {
            tag_id,
            tag_version: 0,
            corpus: None,
            patch: None,
            supplemental: None,
            software_name: software_name.into(),
            software_version: None,
            version_scheme: None,
            media: None,
            software_meta: Vec::new(),
            entity: vec![creator],
            link: Vec::new(),
            payload: None,
            evidence: None,
            attributes: Attributes::default(),
        }
    }

    /// The entity holding the tag-creator role, if exactly one does.
    pub fn tag_creator(&self) -> Option<&Entity<'a>> {
        let mut it = self.entity.iter().filter(|e| {
            e.role
                .contains(&Code::Int(crate::registry::role::TAG_CREATOR))
        });
        let first = it.next()?;
        it.next().is_none().then_some(first)
    }

    /// The SWIMA software identifier (RFC 8412 §3.4.1, TCG SWIMA): the tag-creator's reg-id,
    /// `"__"`, then the tag-id; a 16-byte tag-id is written `urn:uuid:…`. `None` without a
    /// single tag-creator with a reg-id.
    pub fn software_identifier(&self) -> Option<String> {
        let regid = self.tag_creator()?.reg_id.as_deref()?;
        Some(format!("{regid}__{}", self.tag_id))
    }

    /// Detach from the input.
    pub fn into_owned(self) -> ConciseSwidTag<'static> {
        ConciseSwidTag {
            tag_id: self.tag_id.into_owned(),
            tag_version: self.tag_version,
            corpus: self.corpus,
            patch: self.patch,
            supplemental: self.supplemental,
            software_name: own(self.software_name),
            software_version: self.software_version.map(own),
            version_scheme: self.version_scheme.map(Code::into_owned),
            media: self.media.map(own),
            software_meta: self
                .software_meta
                .into_iter()
                .map(SoftwareMeta::into_owned)
                .collect(),
            entity: self.entity.into_iter().map(Entity::into_owned).collect(),
            link: self.link.into_iter().map(Link::into_owned).collect(),
            payload: self.payload.map(Payload::into_owned),
            evidence: self.evidence.map(Evidence::into_owned),
            attributes: self.attributes.into_owned(),
        }
    }
}

/// `entity-entry` (RFC 9393 §2.6): `{31 entity-name, ?32 reg-id, 33 role, ?34 thumbprint}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Entity<'a> {
    /// entity-name (31); required, `None` only after lenient decoding.
    pub entity_name: Option<Text<'a>>,
    /// reg-id (32), a URI (`#6.32(tstr)` on the wire).
    pub reg_id: Option<Text<'a>>,
    /// role (33), one or more.
    pub role: Vec<Code<'a>>,
    /// thumbprint (34).
    pub thumbprint: Option<HashEntry<'a>>,
    /// lang and unknown keys.
    pub attributes: Attributes<'a>,
}

impl<'a> Entity<'a> {
    /// An entity with a name, an optional reg-id and roles.
    pub fn new(name: impl Into<Text<'a>>, reg_id: Option<Text<'a>>, role: Vec<Code<'a>>) -> Self {
        Self {
            entity_name: Some(name.into()),
            reg_id,
            role,
            ..Self::default()
        }
    }
    /// Detach from the input.
    pub fn into_owned(self) -> Entity<'static> {
        Entity {
            entity_name: self.entity_name.map(own),
            reg_id: self.reg_id.map(own),
            role: self.role.into_iter().map(Code::into_owned).collect(),
            thumbprint: self.thumbprint.map(HashEntry::into_owned),
            attributes: self.attributes.into_owned(),
        }
    }
}

/// `link-entry` (RFC 9393 §2.7).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Link<'a> {
    /// artifact (37).
    pub artifact: Option<Text<'a>>,
    /// href (38), a URI.
    pub href: Text<'a>,
    /// media (10).
    pub media: Option<Text<'a>>,
    /// ownership (39).
    pub ownership: Option<Code<'a>>,
    /// rel (40).
    pub rel: Code<'a>,
    /// media-type (41).
    pub media_type: Option<Text<'a>>,
    /// use (42).
    pub use_: Option<Code<'a>>,
    /// lang and unknown keys.
    pub attributes: Attributes<'a>,
}

impl<'a> Link<'a> {
    /// A link with href and rel.
    pub fn new(href: impl Into<Text<'a>>, rel: Code<'a>) -> Self {
        Self {
            artifact: None,
            href: href.into(),
            media: None,
            ownership: None,
            rel,
            media_type: None,
            use_: None,
            attributes: Attributes::default(),
        }
    }
    /// Detach from the input.
    pub fn into_owned(self) -> Link<'static> {
        Link {
            artifact: self.artifact.map(own),
            href: own(self.href),
            media: self.media.map(own),
            ownership: self.ownership.map(Code::into_owned),
            rel: self.rel.into_owned(),
            media_type: self.media_type.map(own),
            use_: self.use_.map(Code::into_owned),
            attributes: self.attributes.into_owned(),
        }
    }
}

/// `software-meta-entry` (RFC 9393 §2.8).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // each field is the CDDL name of the same spelling
pub struct SoftwareMeta<'a> {
    pub activation_status: Option<Text<'a>>,
    pub channel_type: Option<Text<'a>>,
    pub colloquial_version: Option<Text<'a>>,
    pub description: Option<Text<'a>>,
    pub edition: Option<Text<'a>>,
    pub entitlement_data_required: Option<bool>,
    pub entitlement_key: Option<Text<'a>>,
    pub generator: Option<TagId<'a>>,
    pub persistent_id: Option<Text<'a>>,
    pub product: Option<Text<'a>>,
    pub product_family: Option<Text<'a>>,
    pub revision: Option<Text<'a>>,
    pub summary: Option<Text<'a>>,
    pub unspsc_code: Option<Text<'a>>,
    pub unspsc_version: Option<Text<'a>>,
    pub attributes: Attributes<'a>,
}

impl SoftwareMeta<'_> {
    /// Detach from the input.
    pub fn into_owned(self) -> SoftwareMeta<'static> {
        SoftwareMeta {
            activation_status: self.activation_status.map(own),
            channel_type: self.channel_type.map(own),
            colloquial_version: self.colloquial_version.map(own),
            description: self.description.map(own),
            edition: self.edition.map(own),
            entitlement_data_required: self.entitlement_data_required,
            entitlement_key: self.entitlement_key.map(own),
            generator: self.generator.map(TagId::into_owned),
            persistent_id: self.persistent_id.map(own),
            product: self.product.map(own),
            product_family: self.product_family.map(own),
            revision: self.revision.map(own),
            summary: self.summary.map(own),
            unspsc_code: self.unspsc_code.map(own),
            unspsc_version: self.unspsc_version.map(own),
            attributes: self.attributes.into_owned(),
        }
    }
}

/// `resource-collection` (RFC 9393 §2.9.2): directory, file, process, resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ResourceCollection<'a> {
    /// directory (16).
    pub directory: Vec<Directory<'a>>,
    /// file (17).
    pub file: Vec<File<'a>>,
    /// process (18).
    pub process: Vec<Process<'a>>,
    /// resource (19).
    pub resource: Vec<Resource<'a>>,
}

impl ResourceCollection<'_> {
    /// Detach from the input.
    pub fn into_owned(self) -> ResourceCollection<'static> {
        ResourceCollection {
            directory: self
                .directory
                .into_iter()
                .map(Directory::into_owned)
                .collect(),
            file: self.file.into_iter().map(File::into_owned).collect(),
            process: self.process.into_iter().map(Process::into_owned).collect(),
            resource: self
                .resource
                .into_iter()
                .map(Resource::into_owned)
                .collect(),
        }
    }
}

/// `payload-entry` (RFC 9393 §2.9.3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Payload<'a> {
    /// The resource collection.
    pub resources: ResourceCollection<'a>,
    /// lang and unknown keys (payload extensions).
    pub attributes: Attributes<'a>,
}

impl Payload<'_> {
    /// Detach from the input.
    pub fn into_owned(self) -> Payload<'static> {
        Payload {
            resources: self.resources.into_owned(),
            attributes: self.attributes.into_owned(),
        }
    }
}

/// `evidence-entry` (RFC 9393 §2.9.4).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Evidence<'a> {
    /// The resource collection.
    pub resources: ResourceCollection<'a>,
    /// date (35), seconds since the epoch (`#6.1(int)` on the wire).
    pub date: Option<i64>,
    /// device-id (36).
    pub device_id: Option<Text<'a>>,
    /// location (23).
    pub location: Option<Text<'a>>,
    /// lang and unknown keys.
    pub attributes: Attributes<'a>,
}

impl Evidence<'_> {
    /// Detach from the input.
    pub fn into_owned(self) -> Evidence<'static> {
        Evidence {
            resources: self.resources.into_owned(),
            date: self.date,
            device_id: self.device_id.map(own),
            location: self.location.map(own),
            attributes: self.attributes.into_owned(),
        }
    }
}

/// `directory-entry` (RFC 9393 §2.9.2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Directory<'a> {
    /// key (22).
    pub key: Option<bool>,
    /// location (23).
    pub location: Option<Text<'a>>,
    /// fs-name (24).
    pub fs_name: Text<'a>,
    /// root (25).
    pub root: Option<Text<'a>>,
    /// path-elements (26).
    pub path_elements: Option<PathElements<'a>>,
    /// lang and unknown keys.
    pub attributes: Attributes<'a>,
}

impl Directory<'_> {
    /// Detach from the input.
    pub fn into_owned(self) -> Directory<'static> {
        Directory {
            key: self.key,
            location: self.location.map(own),
            fs_name: own(self.fs_name),
            root: self.root.map(own),
            path_elements: self.path_elements.map(PathElements::into_owned),
            attributes: self.attributes.into_owned(),
        }
    }
}

/// `path-elements => { ? directory, ? file }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PathElements<'a> {
    /// directory (16).
    pub directory: Vec<Directory<'a>>,
    /// file (17).
    pub file: Vec<File<'a>>,
    /// Unknown keys (not allowed by the CDDL, kept in lenient mode).
    pub attributes: Attributes<'a>,
}

impl PathElements<'_> {
    /// Detach from the input.
    pub fn into_owned(self) -> PathElements<'static> {
        PathElements {
            directory: self
                .directory
                .into_iter()
                .map(Directory::into_owned)
                .collect(),
            file: self.file.into_iter().map(File::into_owned).collect(),
            attributes: self.attributes.into_owned(),
        }
    }
}

/// `file-entry` (RFC 9393 §2.9.2).
///
/// What practically every file has — fs-name, size, hash — is inline; key, location, root,
/// file-version, lang and unknown keys sit in [`FileExtra`], allocated only when one of them
/// is present (a `File` is 80 bytes; a tag lists thousands). Read them with the accessors,
/// set them through [`extra_mut`](Self::extra_mut). Equality and hashing treat an empty
/// `extra` as none.
///
/// ```
/// use coswid::File;
/// let mut f = File::new("adduser.conf");
/// f.size = Some(3040);
/// assert_eq!((f.root(), f.extra.is_none()), (None, true));
/// f.extra_mut().root = Some("/etc".into());
/// assert_eq!(f.root(), Some("/etc"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct File<'a> {
    /// fs-name (24).
    pub fs_name: Text<'a>,
    /// size (20).
    pub size: Option<u64>,
    /// hash (7).
    pub hash: Option<HashEntry<'a>>,
    /// The rarer fields; `None` when all are absent.
    pub extra: Option<Box<FileExtra<'a>>>,
}

/// The fields of a [`File`] that real tags rarely carry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FileExtra<'a> {
    /// key (22).
    pub key: Option<bool>,
    /// location (23).
    pub location: Option<Text<'a>>,
    /// root (25).
    pub root: Option<Text<'a>>,
    /// file-version (21).
    pub file_version: Option<Text<'a>>,
    /// lang and unknown keys.
    pub attributes: Attributes<'a>,
}

static NO_EXTRA: FileExtra<'static> = FileExtra {
    key: None,
    location: None,
    root: None,
    file_version: None,
    attributes: Attributes {
        lang: None,
        extra: Vec::new(),
    },
};

impl FileExtra<'_> {
    pub(crate) fn is_empty(&self) -> bool {
        *self == NO_EXTRA
    }
    /// Detach from the input.
    pub fn into_owned(self) -> FileExtra<'static> {
        FileExtra {
            key: self.key,
            location: self.location.map(own),
            root: self.root.map(own),
            file_version: self.file_version.map(own),
            attributes: self.attributes.into_owned(),
        }
    }
}

impl<'a> File<'a> {
    /// A file with an fs-name and nothing else.
    pub fn new(fs_name: impl Into<Text<'a>>) -> Self {
        Self {
            fs_name: fs_name.into(),
            ..Self::default()
        }
    }
    /// The rarer fields (all absent when `extra` is `None`).
    pub fn extras(&self) -> &FileExtra<'a> {
        self.extra.as_deref().unwrap_or(&NO_EXTRA)
    }
    /// The rarer fields, to set them (allocated on first use).
    pub fn extra_mut(&mut self) -> &mut FileExtra<'a> {
        self.extra.get_or_insert_with(Box::default)
    }
    /// key (22).
    pub fn key(&self) -> Option<bool> {
        self.extras().key
    }
    /// location (23).
    pub fn location(&self) -> Option<&str> {
        self.extras().location.as_deref()
    }
    /// root (25).
    pub fn root(&self) -> Option<&str> {
        self.extras().root.as_deref()
    }
    /// file-version (21).
    pub fn file_version(&self) -> Option<&str> {
        self.extras().file_version.as_deref()
    }
    /// lang and unknown keys.
    pub fn attributes(&self) -> &Attributes<'a> {
        &self.extras().attributes
    }
    /// Detach from the input.
    pub fn into_owned(self) -> File<'static> {
        File {
            fs_name: own(self.fs_name),
            size: self.size,
            hash: self.hash.map(HashEntry::into_owned),
            extra: self.extra.map(|e| Box::new(e.into_owned())),
        }
    }
}

impl PartialEq for File<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.fs_name == other.fs_name
            && self.size == other.size
            && self.hash == other.hash
            && self.extras() == other.extras()
    }
}

impl Eq for File<'_> {}

impl std::hash::Hash for File<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.fs_name.hash(state);
        self.size.hash(state);
        self.hash.hash(state);
        self.extras().hash(state);
    }
}

/// `process-entry` (RFC 9393 §2.9.2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Process<'a> {
    /// process-name (27).
    pub process_name: Text<'a>,
    /// pid (28).
    pub pid: Option<i64>,
    /// lang and unknown keys.
    pub attributes: Attributes<'a>,
}

impl Process<'_> {
    /// Detach from the input.
    pub fn into_owned(self) -> Process<'static> {
        Process {
            process_name: own(self.process_name),
            pid: self.pid,
            attributes: self.attributes.into_owned(),
        }
    }
}

/// `resource-entry` (RFC 9393 §2.9.2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Resource<'a> {
    /// type (29).
    pub type_: Text<'a>,
    /// lang and unknown keys.
    pub attributes: Attributes<'a>,
}

impl Resource<'_> {
    /// Detach from the input.
    pub fn into_owned(self) -> Resource<'static> {
        Resource {
            type_: own(self.type_),
            attributes: self.attributes.into_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_file_is_small() {
        assert_eq!(size_of::<File<'_>>(), 80);
    }

    #[test]
    fn an_empty_extra_is_no_extra() {
        let mut a = File::new("f");
        let b = a.clone();
        a.extra_mut();
        assert_eq!(a, b);
        a.extra_mut().key = Some(true);
        assert_ne!(a, b);
        assert_eq!(a.key(), Some(true));
    }

    #[test]
    fn uuid_round_trip() {
        let u = [
            0x1d, 0x4b, 0xd0, 0xc9, 0xf8, 0xd4, 0x4f, 0xf3, 0xa9, 0xd3, 0xa3, 0x7b, 0x8e, 0x4d,
            0x6e, 0x01,
        ];
        let s = TagId::Uuid(u).to_string();
        assert_eq!(s, "urn:uuid:1d4bd0c9-f8d4-4ff3-a9d3-a37b8e4d6e01");
        assert_eq!(parse_uuid(&s), Some(u));
        assert_eq!(parse_uuid("1d4bd0c9-f8d4-4ff3-a9d3-a37b8e4d6e0"), None);
    }
}
