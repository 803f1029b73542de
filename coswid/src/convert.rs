//! SWID XML <-> CoSWID conversion following RFC 9393 §2 / §4 (attribute names ↔ keys, role,
//! version-scheme, ownership, rel and use names ↔ indexes, File hash attributes ↔ hash-entry).
//!
//! What does not map (dropped on conversion, and said so in the crate README):
//! - XML → CoSWID: attributes outside the ISO names (foreign namespaces such as `n8060:*`,
//!   `rim:*`, `xsi:schemaLocation`, and unknown unprefixed ones), unknown elements and
//!   `ds:Signature`, Process/Resource nested in a Directory, every File hash but one (the first
//!   of sha-256, sha-384, sha-512; then any other), Entity `thumbprint` unless it is 64 hex
//!   digits (taken as sha-256), Meta/Entity/Link `xml:lang` other than the tag's.
//! - CoSWID → XML: unknown keys and extensions, `lang` below the top level, evidence `location`,
//!   hash algorithms other than sha-256/384/512, a 16-byte tag-id or generator (written as the
//!   plain UUID text, so it comes back as text).

use std::borrow::Cow;

use crate::cbor::decode::MAX_DEPTH;
use crate::error::ConvertError;
use crate::model::uuid_string;
use crate::model::*;
use crate::registry::{CodeKind, code_index, code_name};
use crate::swid::{
    Element, HASH_NAMESPACES, Resource as XmlResource, ResourceTree, SWID_NS, SoftwareIdentity,
    XML_NS, XmlAttr, file_hashes, to_hex,
};

fn unmappable(field: &'static str, reason: &'static str) -> ConvertError {
    ConvertError::Unmappable { field, reason }
}

fn s(el: &Element<'_>, name: &str) -> Option<Text<'static>> {
    el.attr(name).map(|v| Cow::Owned(v.to_owned()))
}

fn b(el: &Element<'_>, name: &'static str) -> Result<Option<bool>, ConvertError> {
    match el.attr(name).map(str::trim) {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(_) => Err(unmappable(name, "not an xs:boolean")),
    }
}

fn code_from(kind: CodeKind, v: &str) -> Code<'static> {
    if let Some(i) = code_index(kind, v) {
        return Code::Int(i);
    }
    match v.trim().parse::<i64>() {
        Ok(i) => Code::Int(i),
        Err(_) => Code::Text(Cow::Owned(v.to_owned())),
    }
}

fn code_to(kind: CodeKind, c: &Code<'_>) -> String {
    match c {
        Code::Int(i) => code_name(kind, *i).map_or_else(|| i.to_string(), str::to_owned),
        Code::Text(t) => t.to_string(),
    }
}

/// The ISO/IEC 19770-2:2015 attributes of each element that the conversion carries.
fn carried(element: &str, local: &str) -> bool {
    let names: &[&str] = match element {
        "SoftwareIdentity" => &[
            "corpus",
            "name",
            "patch",
            "media",
            "supplemental",
            "tagId",
            "tagVersion",
            "version",
            "versionScheme",
        ],
        "Entity" => &["name", "regid", "role", "thumbprint"],
        "Link" => &[
            "artifact",
            "href",
            "media",
            "ownership",
            "rel",
            "type",
            "use",
        ],
        "Meta" => &[
            "activationStatus",
            "channelType",
            "colloquialVersion",
            "description",
            "edition",
            "entitlementDataRequired",
            "entitlementKey",
            "generator",
            "persistentId",
            "product",
            "productFamily",
            "revision",
            "summary",
            "unspscCode",
            "unspscVersion",
        ],
        "Evidence" => &["date", "deviceId"],
        "Directory" => &["key", "location", "name", "root"],
        "File" => &["key", "location", "name", "root", "size", "version"],
        "Process" => &["name", "pid"],
        "Resource" => &["type"],
        _ => &[],
    };
    names.contains(&local)
}

/// Counts what [`SoftwareIdentity::to_coswid`] drops, by `element/@attribute` or
/// `element/child`.
#[derive(Default)]
struct Dropped(std::collections::BTreeMap<String, usize>);

impl Dropped {
    fn add(&mut self, what: String) {
        *self.0.entry(what).or_default() += 1;
    }

    fn element(&mut self, name: &str, el: &Element<'_>, lang: Option<&str>) {
        let mut hashes = 0;
        for a in &el.attrs {
            let keep = match a.ns.as_deref() {
                // namespace declarations are not content
                _ if a.qname == "xmlns" || a.qname.starts_with("xmlns:") => true,
                None => carried(name, &a.qname),
                Some(XML_NS) if a.local() == "lang" => {
                    name == "SoftwareIdentity" || Some(&*a.value) == lang
                }
                Some(ns) if name == "File" && a.local() == "hash" => {
                    hashes += 1;
                    HASH_NAMESPACES.iter().any(|(n, _)| *n == ns) && hashes == 1
                }
                Some(_) => false,
            };
            if !keep {
                self.add(format!("{name}/@{}", a.qname));
            }
        }
        if name == "Entity"
            && el
                .attr("thumbprint")
                .is_some_and(|t| t.len() != 64 || crate::swid::from_hex(t).is_none())
        {
            self.add("Entity/@thumbprint (not 64 hex digits)".into());
        }
    }

    fn raw(&mut self, parent: &str, raw: &str) {
        let name: String = raw
            .trim_start_matches('<')
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
            .collect();
        self.add(format!("{parent}/{name}"));
    }

    fn items(&mut self, parent: &str, items: &[XmlResource<'_>], lang: Option<&str>, nested: bool) {
        for it in items {
            match it {
                XmlResource::Directory(el, kids) => {
                    self.element("Directory", el, lang);
                    self.items("Directory", kids, lang, true);
                }
                XmlResource::File(el) => self.element("File", el, lang),
                XmlResource::Process(_) if nested => self.add(format!("{parent}/Process")),
                XmlResource::Resource(_) if nested => self.add(format!("{parent}/Resource")),
                XmlResource::Process(el) => self.element("Process", el, lang),
                XmlResource::Resource(el) => self.element("Resource", el, lang),
                XmlResource::Other(raw) => self.raw(parent, raw),
            }
        }
    }
}

impl<'a> SoftwareIdentity<'a> {
    /// What [`to_coswid`](Self::to_coswid) cannot carry, as `(what, how many)` sorted by
    /// name: foreign and unknown attributes (`File/@n8060:mutable`), unknown elements
    /// (`SoftwareIdentity/ds:Signature`), Process/Resource inside a Directory, a File's
    /// hashes after the first, `xml:lang` below the root that differs from the tag's.
    ///
    /// ```
    /// use coswid::swid::SoftwareIdentity;
    /// let xml = r#"<SoftwareIdentity xmlns:n8060="http://csrc.nist.gov/ns/swid/2015-extensions/1.0"
    ///   name="x" tagId="t" n8060:edition="pro"><Entity name="e" role="tagCreator" regid="r"/>
    ///   <x/></SoftwareIdentity>"#;
    /// let si = SoftwareIdentity::parse(xml.as_bytes()).unwrap();
    /// assert_eq!(
    ///     si.not_carried_to_coswid(),
    ///     [("SoftwareIdentity/@n8060:edition".to_string(), 1), ("SoftwareIdentity/x".to_string(), 1)]
    /// );
    /// ```
    pub fn not_carried_to_coswid(&self) -> Vec<(String, usize)> {
        let mut d = Dropped::default();
        let lang = self.element.lang();
        d.element("SoftwareIdentity", &self.element, lang);
        for e in &self.entities {
            d.element("Entity", e, lang);
        }
        for l in &self.links {
            d.element("Link", l, lang);
        }
        for m in &self.metas {
            d.element("Meta", m, lang);
        }
        for (name, tree) in [("Payload", &self.payload), ("Evidence", &self.evidence)] {
            if let Some(t) = tree {
                d.element(name, &t.element, lang);
                d.items(name, &t.items, lang, false);
            }
        }
        for raw in &self.other {
            d.raw("SoftwareIdentity", raw);
        }
        d.0.into_iter().collect()
    }

    /// Convert to CoSWID (RFC 9393 mappings; see the module docs for what is dropped).
    pub fn to_coswid(&self) -> Result<ConciseSwidTag<'static>, ConvertError> {
        let el = &self.element;
        let tag_id = el
            .attr("tagId")
            .ok_or_else(|| unmappable("tagId", "missing"))?;
        let name = s(el, "name").ok_or_else(|| unmappable("name", "missing"))?;
        let tag_version = match el.attr("tagVersion") {
            None => 0,
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| unmappable("tagVersion", "not an integer"))?,
        };
        let mut entity = Vec::new();
        for e in &self.entities {
            let role = e
                .attr("role")
                .unwrap_or_default()
                .split_ascii_whitespace()
                .map(|r| code_from(CodeKind::Role, r))
                .collect();
            let thumbprint = e
                .attr("thumbprint")
                .and_then(crate::swid::from_hex)
                .filter(|h| h.len() == 32)
                .map(|h| HashEntry {
                    alg: 1,
                    value: Cow::Owned(h),
                });
            entity.push(Entity {
                entity_name: s(e, "name"),
                reg_id: s(e, "regid"),
                role,
                thumbprint,
                attributes: Attributes::default(),
            });
        }
        let mut link = Vec::new();
        for l in &self.links {
            link.push(Link {
                artifact: s(l, "artifact"),
                href: s(l, "href").ok_or_else(|| unmappable("Link/href", "missing"))?,
                media: s(l, "media"),
                ownership: l
                    .attr("ownership")
                    .map(|v| code_from(CodeKind::Ownership, v)),
                rel: l
                    .attr("rel")
                    .map(|v| code_from(CodeKind::Rel, v))
                    .ok_or_else(|| unmappable("Link/rel", "missing"))?,
                media_type: s(l, "type"),
                use_: l.attr("use").map(|v| code_from(CodeKind::Use, v)),
                attributes: Attributes::default(),
            });
        }
        let mut software_meta = Vec::new();
        for m in &self.metas {
            software_meta.push(SoftwareMeta {
                activation_status: s(m, "activationStatus"),
                channel_type: s(m, "channelType"),
                colloquial_version: s(m, "colloquialVersion"),
                description: s(m, "description"),
                edition: s(m, "edition"),
                entitlement_data_required: b(m, "entitlementDataRequired")?,
                entitlement_key: s(m, "entitlementKey"),
                generator: s(m, "generator").map(TagId::Text),
                persistent_id: s(m, "persistentId"),
                product: s(m, "product"),
                product_family: s(m, "productFamily"),
                revision: s(m, "revision"),
                summary: s(m, "summary"),
                unspsc_code: s(m, "unspscCode"),
                unspsc_version: s(m, "unspscVersion"),
                attributes: Attributes::default(),
            });
        }
        let payload = match &self.payload {
            None => None,
            Some(p) => Some(Payload {
                resources: collection(&p.items, 2)?,
                attributes: Attributes::default(),
            }),
        };
        let evidence = match &self.evidence {
            None => None,
            Some(e) => Some(Evidence {
                resources: collection(&e.items, 2)?,
                date: match e.element.attr("date") {
                    None => None,
                    Some(d) => Some(
                        parse_datetime(d)
                            .ok_or_else(|| unmappable("Evidence/date", "not an xs:dateTime"))?,
                    ),
                },
                device_id: s(&e.element, "deviceId"),
                location: None,
                attributes: Attributes::default(),
            }),
        };
        Ok(ConciseSwidTag {
            tag_id: TagId::Text(Cow::Owned(tag_id.to_owned())),
            tag_version,
            corpus: b(el, "corpus")?,
            patch: b(el, "patch")?,
            supplemental: b(el, "supplemental")?,
            software_name: name,
            software_version: s(el, "version"),
            version_scheme: el
                .attr("versionScheme")
                .map(|v| code_from(CodeKind::VersionScheme, v)),
            media: s(el, "media"),
            software_meta,
            entity,
            link,
            payload,
            evidence,
            attributes: Attributes {
                lang: el.lang().map(|l| Cow::Owned(l.to_owned())),
                extra: Vec::new(),
            },
        })
    }

    /// Convert a CoSWID to SWID XML (see the module docs for what is dropped).
    pub fn from_coswid(tag: &'a ConciseSwidTag<'_>) -> Self {
        let mut root = Element::new("SoftwareIdentity");
        root.attrs.push(XmlAttr {
            qname: "xmlns".into(),
            ns: None,
            value: SWID_NS.into(),
        });
        let mut algs = Vec::new();
        let payload = tag
            .payload
            .as_ref()
            .map(|p| tree(Element::new("Payload"), &p.resources, &mut algs));
        let evidence = tag.evidence.as_ref().map(|e| {
            let mut el = Element::new("Evidence");
            el.push("date", e.date.map(format_datetime));
            el.push("deviceId", e.device_id.as_deref());
            tree(el, &e.resources, &mut algs)
        });
        for (ns, id) in HASH_NAMESPACES {
            if algs.contains(id) {
                let p = hash_prefix(*id);
                root.attrs.push(XmlAttr {
                    qname: format!("xmlns:{p}").into(),
                    ns: Some(crate::swid::XMLNS_NS.into()),
                    value: (*ns).into(),
                });
            }
        }
        root.push("name", Some(tag.software_name.as_ref()));
        if let Some(l) = &tag.attributes.lang {
            root.attrs.push(XmlAttr {
                qname: "xml:lang".into(),
                ns: Some(XML_NS.into()),
                value: l.as_ref().into(),
            });
        }
        root.push(
            "tagId",
            Some(match &tag.tag_id {
                TagId::Text(t) => t.to_string(),
                TagId::Uuid(u) => uuid_string(u),
            }),
        );
        root.push("version", tag.software_version.as_deref());
        root.push(
            "versionScheme",
            tag.version_scheme
                .as_ref()
                .map(|c| code_to(CodeKind::VersionScheme, c)),
        );
        root.push(
            "tagVersion",
            (tag.tag_version != 0).then(|| tag.tag_version.to_string()),
        );
        root.push("corpus", tag.corpus.map(|v| v.to_string()));
        root.push("patch", tag.patch.map(|v| v.to_string()));
        root.push("supplemental", tag.supplemental.map(|v| v.to_string()));
        root.push("media", tag.media.as_deref());
        let entities = tag
            .entity
            .iter()
            .map(|e| {
                let mut el = Element::new("Entity");
                el.push("name", e.entity_name.as_deref());
                el.push("regid", e.reg_id.as_deref());
                let roles: Vec<String> =
                    e.role.iter().map(|r| code_to(CodeKind::Role, r)).collect();
                el.push("role", Some(roles.join(" ")));
                el.push(
                    "thumbprint",
                    e.thumbprint.as_ref().map(|t| to_hex(&t.value)),
                );
                el
            })
            .collect();
        let links = tag
            .link
            .iter()
            .map(|l| {
                let mut el = Element::new("Link");
                el.push("artifact", l.artifact.as_deref());
                el.push("href", Some(l.href.as_ref()));
                el.push("media", l.media.as_deref());
                el.push(
                    "ownership",
                    l.ownership
                        .as_ref()
                        .map(|c| code_to(CodeKind::Ownership, c)),
                );
                el.push("rel", Some(code_to(CodeKind::Rel, &l.rel)));
                el.push("type", l.media_type.as_deref());
                el.push("use", l.use_.as_ref().map(|c| code_to(CodeKind::Use, c)));
                el
            })
            .collect();
        let metas = tag
            .software_meta
            .iter()
            .map(|m| {
                let mut el = Element::new("Meta");
                el.push("activationStatus", m.activation_status.as_deref());
                el.push("channelType", m.channel_type.as_deref());
                el.push("colloquialVersion", m.colloquial_version.as_deref());
                el.push("description", m.description.as_deref());
                el.push("edition", m.edition.as_deref());
                el.push(
                    "entitlementDataRequired",
                    m.entitlement_data_required.map(|v| v.to_string()),
                );
                el.push("entitlementKey", m.entitlement_key.as_deref());
                el.push(
                    "generator",
                    m.generator.as_ref().map(|g| match g {
                        TagId::Text(t) => t.to_string(),
                        TagId::Uuid(u) => uuid_string(u),
                    }),
                );
                el.push("persistentId", m.persistent_id.as_deref());
                el.push("product", m.product.as_deref());
                el.push("productFamily", m.product_family.as_deref());
                el.push("revision", m.revision.as_deref());
                el.push("summary", m.summary.as_deref());
                el.push("unspscCode", m.unspsc_code.as_deref());
                el.push("unspscVersion", m.unspsc_version.as_deref());
                el
            })
            .collect();
        SoftwareIdentity {
            element: root,
            entities,
            links,
            metas,
            payload,
            evidence,
            other: Vec::new(),
        }
    }
}

fn hash_prefix(id: i64) -> &'static str {
    match id {
        1 => "SHA256",
        7 => "SHA384",
        _ => "SHA512",
    }
}

fn tree<'a>(
    element: Element<'a>,
    rc: &'a ResourceCollection<'_>,
    algs: &mut Vec<i64>,
) -> ResourceTree<'a> {
    let mut items = Vec::new();
    for d in &rc.directory {
        items.push(dir_xml(d, algs));
    }
    for f in &rc.file {
        items.push(XmlResource::File(file_xml(f, algs)));
    }
    for p in &rc.process {
        let mut el = Element::new("Process");
        el.push("name", Some(p.process_name.as_ref()));
        el.push("pid", p.pid.map(|v| v.to_string()));
        items.push(XmlResource::Process(el));
    }
    for r in &rc.resource {
        let mut el = Element::new("Resource");
        el.push("type", Some(r.type_.as_ref()));
        items.push(XmlResource::Resource(el));
    }
    ResourceTree { element, items }
}

fn fs_attrs<'a>(
    el: &mut Element<'a>,
    key: Option<bool>,
    location: &'a Option<Text<'_>>,
    name: &'a str,
    root: &'a Option<Text<'_>>,
) {
    el.push("root", root.as_deref());
    el.push("name", Some(name));
    el.push("key", key.map(|v| v.to_string()));
    el.push("location", location.as_deref());
}

fn dir_xml<'a>(d: &'a Directory<'_>, algs: &mut Vec<i64>) -> XmlResource<'a> {
    let mut el = Element::new("Directory");
    fs_attrs(&mut el, d.key, &d.location, &d.fs_name, &d.root);
    let mut kids = Vec::new();
    if let Some(pe) = &d.path_elements {
        for sub in &pe.directory {
            kids.push(dir_xml(sub, algs));
        }
        for f in &pe.file {
            kids.push(XmlResource::File(file_xml(f, algs)));
        }
    }
    XmlResource::Directory(el, kids)
}

fn file_xml<'a>(f: &'a File<'_>, algs: &mut Vec<i64>) -> Element<'a> {
    let mut el = Element::new("File");
    let x = f.extras();
    fs_attrs(&mut el, x.key, &x.location, &f.fs_name, &x.root);
    el.push("size", f.size.map(|v| v.to_string()));
    el.push("version", x.file_version.as_deref());
    if let Some(h) = &f.hash
        && let Some((ns, id)) = HASH_NAMESPACES.iter().find(|(_, id)| *id == h.alg)
    {
        if !algs.contains(id) {
            algs.push(*id);
        }
        let p = hash_prefix(*id);
        el.attrs.push(XmlAttr {
            qname: format!("{p}:hash").into(),
            ns: Some((*ns).into()),
            value: to_hex(&h.value).into(),
        });
    }
    el
}

type FsItem = (
    Option<bool>,
    Option<Text<'static>>,
    Text<'static>,
    Option<Text<'static>>,
);

fn fs_item(el: &Element<'_>, what: &'static str) -> Result<FsItem, ConvertError> {
    Ok((
        b(el, "key")?,
        s(el, "location"),
        s(el, "name").ok_or_else(|| unmappable(what, "name missing"))?,
        s(el, "root"),
    ))
}

fn file(el: &Element<'_>) -> Result<File<'static>, ConvertError> {
    let (key, location, fs_name, root) = fs_item(el, "File/name")?;
    let hashes = file_hashes(el);
    let pick = [1, 7, 8]
        .iter()
        .find_map(|want| hashes.iter().find(|(id, _)| id == want))
        .or_else(|| hashes.first());
    let extra = FileExtra {
        key,
        location,
        root,
        file_version: s(el, "version"),
        attributes: Attributes::default(),
    };
    Ok(File {
        fs_name,
        size: match el.attr("size") {
            None => None,
            Some(v) => Some(
                v.trim()
                    .parse()
                    .map_err(|_| unmappable("File/size", "not an integer"))?,
            ),
        },
        hash: pick.map(|(alg, v)| HashEntry {
            alg: *alg,
            value: Cow::Owned(v.clone()),
        }),
        extra: (extra != FileExtra::default()).then(|| Box::new(extra)),
    })
}

/// `depth`: the CBOR nesting level of the directory map (the tag map is level 1).
fn directory(
    el: &Element<'_>,
    kids: &[XmlResource<'_>],
    depth: u32,
) -> Result<Directory<'static>, ConvertError> {
    let (key, location, fs_name, root) = fs_item(el, "Directory/name")?;
    let rc = collection(kids, depth.saturating_add(1))?;
    let path_elements = (!rc.directory.is_empty() || !rc.file.is_empty()).then(|| PathElements {
        directory: rc.directory,
        file: rc.file,
        attributes: Attributes::default(),
    });
    Ok(Directory {
        key,
        location,
        fs_name,
        root,
        path_elements,
        attributes: Attributes::default(),
    })
}

/// `depth`: the CBOR nesting level of the map holding the collection (payload/evidence: 2).
/// Directories and files must land within the decoder's nesting limit, or the CoSWID written
/// could not be read back.
fn collection(
    items: &[XmlResource<'_>],
    depth: u32,
) -> Result<ResourceCollection<'static>, ConvertError> {
    let count = |f: fn(&XmlResource<'_>) -> bool| items.iter().filter(|x| f(x)).count();
    // one-or-more: a single item is a bare map, several sit in an array
    let at = |n: usize| depth.saturating_add(if n >= 2 { 2 } else { 1 });
    let (n_dirs, n_files) = (
        count(|x| matches!(x, XmlResource::Directory(..))),
        count(|x| matches!(x, XmlResource::File(_))),
    );
    let dirs = at(n_dirs);
    if (n_dirs > 0 && dirs > MAX_DEPTH) || (n_files > 0 && at(n_files) > MAX_DEPTH) {
        return Err(unmappable(
            "Directory",
            "nested deeper than CoSWID decoding allows",
        ));
    }
    let mut rc = ResourceCollection::default();
    for it in items {
        match it {
            XmlResource::Directory(el, kids) => rc.directory.push(directory(el, kids, dirs)?),
            XmlResource::File(el) => rc.file.push(file(el)?),
            XmlResource::Process(el) => rc.process.push(Process {
                process_name: s(el, "name").ok_or_else(|| unmappable("Process/name", "missing"))?,
                pid: match el.attr("pid") {
                    None => None,
                    Some(v) => Some(
                        v.trim()
                            .parse()
                            .map_err(|_| unmappable("Process/pid", "not an integer"))?,
                    ),
                },
                attributes: Attributes::default(),
            }),
            XmlResource::Resource(el) => rc.resource.push(Resource {
                type_: s(el, "type").ok_or_else(|| unmappable("Resource/type", "missing"))?,
                attributes: Attributes::default(),
            }),
            XmlResource::Other(_) => {}
        }
    }
    Ok(rc)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// xs:dateTime (`YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]`, no zone = UTC) to Unix seconds.
pub(crate) fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, time) = s.split_once('T')?;
    let mut dp = date.splitn(3, '-');
    let y: i64 = dp.next()?.parse().ok()?;
    let mo: i64 = dp.next()?.parse().ok()?;
    let d: i64 = dp.next()?.parse().ok()?;
    let (clock, offset) = if let Some(c) = time.strip_suffix('Z') {
        (c, 0)
    } else if let Some(i) = time.rfind(['+', '-']) {
        let (c, z) = time.split_at(i);
        let sign = if z.starts_with('-') { -1 } else { 1 };
        let (zh, zm) = z.get(1..)?.split_once(':')?;
        let (zh, zm) = (zh.parse::<i64>().ok()?, zm.parse::<i64>().ok()?);
        // range first: hostile digits must not overflow the arithmetic
        if !(0..=24).contains(&zh) || !(0..=59).contains(&zm) {
            return None;
        }
        (c, sign * (zh * 3600 + zm * 60))
    } else {
        (time, 0)
    };
    let mut cp = clock.splitn(3, ':');
    let h: i64 = cp.next()?.parse().ok()?;
    let mi: i64 = cp.next()?.parse().ok()?;
    let sec: i64 = cp.next()?.split('.').next()?.parse().ok()?;
    if !(1..=12).contains(&mo)
        || !(1..=31).contains(&d)
        || !(0..=24).contains(&h)
        || !(0..=59).contains(&mi)
        || !(0..=60).contains(&sec)
        || y.abs() > 1_000_000
    {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset)
}

/// Unix seconds to xs:dateTime in UTC.
pub(crate) fn format_datetime(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    // civil_from_days
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes() {
        assert_eq!(parse_datetime("2023-11-14T22:13:20Z"), Some(1_700_000_000));
        assert_eq!(
            parse_datetime("2023-11-15T00:13:20+02:00"),
            Some(1_700_000_000)
        );
        assert_eq!(parse_datetime("2023-11-14T22:13:20.5"), Some(1_700_000_000));
        assert_eq!(format_datetime(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(format_datetime(0), "1970-01-01T00:00:00Z");
        assert_eq!(parse_datetime("nope"), None);
    }
}
