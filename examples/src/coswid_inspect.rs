//! `tnc-inspect --layer coswid|swid [--to-coswid|--to-swid]`: CoSWID and SWID XML tags, field
//! by field (text) or as JSON (snake_case field names), and conversion between the two.

use coswid::registry::{CodeKind, code_name, hash_alg_name};
use coswid::swid::{Element, Resource as XmlResource, ResourceTree, SoftwareIdentity};
use coswid::{
    Attributes, Code, ConciseSwidTag, Directory, File, HashEntry, Label, ResourceCollection, TagId,
};
use serde_json::{Map, Value, json};

fn code(kind: CodeKind, c: &Code<'_>) -> Value {
    match c {
        Code::Int(i) => match code_name(kind, *i) {
            Some(n) => json!(format!("{n} ({i})")),
            None => json!(i),
        },
        Code::Text(t) => json!(t),
    }
}

fn tag_id(t: &TagId<'_>) -> Value {
    json!(t.to_string())
}

fn hash(h: &HashEntry<'_>) -> Value {
    json!({
        "alg": hash_alg_name(h.alg).map_or_else(|| h.alg.to_string(), str::to_owned),
        "value": hex::encode(&h.value),
    })
}

fn put(m: &mut Map<String, Value>, k: &str, v: Option<Value>) {
    if let Some(v) = v {
        m.insert(k.to_owned(), v);
    }
}

fn attrs(m: &mut Map<String, Value>, a: &Attributes<'_>) {
    put(m, "lang", a.lang.as_ref().map(|l| json!(l)));
    if !a.extra.is_empty() {
        let extra: Vec<Value> = a
            .extra
            .iter()
            .map(|(k, v)| {
                let key = match k {
                    Label::Int(i) => json!(i),
                    Label::Text(t) => json!(t),
                };
                json!({"key": key, "cbor": hex::encode(v.as_bytes())})
            })
            .collect();
        m.insert("unknown_keys".into(), Value::Array(extra));
    }
}

fn file(f: &File<'_>) -> Value {
    let mut m = Map::new();
    m.insert("fs_name".into(), json!(f.fs_name));
    put(&mut m, "root", f.root().map(|v| json!(v)));
    put(&mut m, "location", f.location().map(|v| json!(v)));
    put(&mut m, "key", f.key().map(|v| json!(v)));
    put(&mut m, "size", f.size.map(|v| json!(v)));
    put(&mut m, "file_version", f.file_version().map(|v| json!(v)));
    put(&mut m, "hash", f.hash.as_ref().map(hash));
    attrs(&mut m, f.attributes());
    Value::Object(m)
}

fn directory(d: &Directory<'_>) -> Value {
    let mut m = Map::new();
    m.insert("fs_name".into(), json!(d.fs_name));
    put(&mut m, "root", d.root.as_ref().map(|v| json!(v)));
    put(&mut m, "location", d.location.as_ref().map(|v| json!(v)));
    put(&mut m, "key", d.key.map(|v| json!(v)));
    if let Some(pe) = &d.path_elements {
        put(
            &mut m,
            "directory",
            nonempty(pe.directory.iter().map(directory).collect()),
        );
        put(&mut m, "file", nonempty(pe.file.iter().map(file).collect()));
    }
    attrs(&mut m, &d.attributes);
    Value::Object(m)
}

fn nonempty(v: Vec<Value>) -> Option<Value> {
    (!v.is_empty()).then_some(Value::Array(v))
}

fn collection(m: &mut Map<String, Value>, rc: &ResourceCollection<'_>) {
    put(
        m,
        "directory",
        nonempty(rc.directory.iter().map(directory).collect()),
    );
    put(m, "file", nonempty(rc.file.iter().map(file).collect()));
    put(
        m,
        "process",
        nonempty(
            rc.process
                .iter()
                .map(|p| json!({"process_name": p.process_name, "pid": p.pid}))
                .collect(),
        ),
    );
    put(
        m,
        "resource",
        nonempty(
            rc.resource
                .iter()
                .map(|r| json!({"type": r.type_}))
                .collect(),
        ),
    );
}

/// The JSON view of a CoSWID tag.
pub fn coswid_json(t: &ConciseSwidTag<'_>) -> Value {
    let mut m = Map::new();
    m.insert("tag_id".into(), tag_id(&t.tag_id));
    m.insert("tag_version".into(), json!(t.tag_version));
    put(&mut m, "corpus", t.corpus.map(|v| json!(v)));
    put(&mut m, "patch", t.patch.map(|v| json!(v)));
    put(&mut m, "supplemental", t.supplemental.map(|v| json!(v)));
    m.insert("software_name".into(), json!(t.software_name));
    put(
        &mut m,
        "software_version",
        t.software_version.as_ref().map(|v| json!(v)),
    );
    put(
        &mut m,
        "version_scheme",
        t.version_scheme
            .as_ref()
            .map(|c| code(CodeKind::VersionScheme, c)),
    );
    put(&mut m, "media", t.media.as_ref().map(|v| json!(v)));
    let metas: Vec<Value> = t
        .software_meta
        .iter()
        .map(|sm| {
            let mut o = Map::new();
            for (k, v) in [
                ("activation_status", &sm.activation_status),
                ("channel_type", &sm.channel_type),
                ("colloquial_version", &sm.colloquial_version),
                ("description", &sm.description),
                ("edition", &sm.edition),
                ("entitlement_key", &sm.entitlement_key),
                ("persistent_id", &sm.persistent_id),
                ("product", &sm.product),
                ("product_family", &sm.product_family),
                ("revision", &sm.revision),
                ("summary", &sm.summary),
                ("unspsc_code", &sm.unspsc_code),
                ("unspsc_version", &sm.unspsc_version),
            ] {
                put(&mut o, k, v.as_ref().map(|v| json!(v)));
            }
            put(
                &mut o,
                "entitlement_data_required",
                sm.entitlement_data_required.map(|v| json!(v)),
            );
            put(&mut o, "generator", sm.generator.as_ref().map(tag_id));
            attrs(&mut o, &sm.attributes);
            Value::Object(o)
        })
        .collect();
    put(&mut m, "software_meta", nonempty(metas));
    let entities: Vec<Value> = t
        .entity
        .iter()
        .map(|e| {
            let mut o = Map::new();
            put(
                &mut o,
                "entity_name",
                e.entity_name.as_ref().map(|v| json!(v)),
            );
            put(&mut o, "reg_id", e.reg_id.as_ref().map(|v| json!(v)));
            o.insert(
                "role".into(),
                Value::Array(e.role.iter().map(|r| code(CodeKind::Role, r)).collect()),
            );
            put(&mut o, "thumbprint", e.thumbprint.as_ref().map(hash));
            attrs(&mut o, &e.attributes);
            Value::Object(o)
        })
        .collect();
    m.insert("entity".into(), Value::Array(entities));
    let links: Vec<Value> = t
        .link
        .iter()
        .map(|l| {
            let mut o = Map::new();
            put(&mut o, "artifact", l.artifact.as_ref().map(|v| json!(v)));
            o.insert("href".into(), json!(l.href));
            put(&mut o, "media", l.media.as_ref().map(|v| json!(v)));
            put(
                &mut o,
                "ownership",
                l.ownership.as_ref().map(|c| code(CodeKind::Ownership, c)),
            );
            o.insert("rel".into(), code(CodeKind::Rel, &l.rel));
            put(
                &mut o,
                "media_type",
                l.media_type.as_ref().map(|v| json!(v)),
            );
            put(
                &mut o,
                "use",
                l.use_.as_ref().map(|c| code(CodeKind::Use, c)),
            );
            attrs(&mut o, &l.attributes);
            Value::Object(o)
        })
        .collect();
    put(&mut m, "link", nonempty(links));
    if let Some(p) = &t.payload {
        let mut o = Map::new();
        collection(&mut o, &p.resources);
        attrs(&mut o, &p.attributes);
        m.insert("payload".into(), Value::Object(o));
    }
    if let Some(e) = &t.evidence {
        let mut o = Map::new();
        collection(&mut o, &e.resources);
        put(&mut o, "date", e.date.map(|v| json!(v)));
        put(&mut o, "device_id", e.device_id.as_ref().map(|v| json!(v)));
        put(&mut o, "location", e.location.as_ref().map(|v| json!(v)));
        attrs(&mut o, &e.attributes);
        m.insert("evidence".into(), Value::Object(o));
    }
    attrs(&mut m, &t.attributes);
    put(
        &mut m,
        "software_identifier",
        t.software_identifier().map(|v| json!(v)),
    );
    Value::Object(m)
}

fn element_json(e: &Element<'_>) -> Value {
    let mut m = Map::new();
    m.insert("element".into(), json!(e.qname));
    let mut a = Map::new();
    for x in &e.attrs {
        a.insert(x.qname.to_string(), json!(x.value));
    }
    m.insert("attributes".into(), Value::Object(a));
    Value::Object(m)
}

fn items_json(items: &[XmlResource<'_>]) -> Value {
    Value::Array(
        items
            .iter()
            .map(|i| match i {
                XmlResource::Directory(e, kids) => {
                    let mut v = element_json(e);
                    if let Value::Object(m) = &mut v {
                        m.insert("children".into(), items_json(kids));
                    }
                    v
                }
                XmlResource::File(e) | XmlResource::Process(e) | XmlResource::Resource(e) => {
                    element_json(e)
                }
                XmlResource::Other(raw) => json!({"unknown_element": raw}),
            })
            .collect(),
    )
}

fn tree_json(t: &ResourceTree<'_>) -> Value {
    let mut v = element_json(&t.element);
    if let Value::Object(m) = &mut v {
        m.insert("children".into(), items_json(&t.items));
    }
    v
}

/// The JSON view of a SWID XML document.
pub fn swid_json(si: &SoftwareIdentity<'_>) -> Value {
    let mut m = Map::new();
    m.insert("software_identity".into(), element_json(&si.element));
    m.insert(
        "entity".into(),
        Value::Array(si.entities.iter().map(element_json).collect()),
    );
    m.insert(
        "link".into(),
        Value::Array(si.links.iter().map(element_json).collect()),
    );
    m.insert(
        "meta".into(),
        Value::Array(si.metas.iter().map(element_json).collect()),
    );
    put(&mut m, "payload", si.payload.as_ref().map(tree_json));
    put(&mut m, "evidence", si.evidence.as_ref().map(tree_json));
    m.insert(
        "unknown_elements".into(),
        Value::Array(
            si.other
                .iter()
                .map(|o| {
                    let name: String = o
                        .trim_start_matches('<')
                        .chars()
                        .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
                        .collect();
                    json!({"element": name, "bytes": o.len()})
                })
                .collect(),
        ),
    );
    put(
        &mut m,
        "software_identifier",
        si.software_identifier().map(|v| json!(v)),
    );
    Value::Object(m)
}

/// Render a JSON value as indented `field: value` lines.
fn text(v: &Value, indent: usize, out: &mut String) {
    let pad = "  ".repeat(indent);
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match v {
                    Value::Object(_) => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        text(v, indent + 1, out);
                    }
                    Value::Array(a) if a.iter().any(|x| x.is_object()) => {
                        for (i, x) in a.iter().enumerate() {
                            out.push_str(&format!("{pad}{k}[{i}]:\n"));
                            text(x, indent + 1, out);
                        }
                    }
                    _ => out.push_str(&format!("{pad}{k}: {}\n", scalar(v))),
                }
            }
        }
        _ => out.push_str(&format!("{pad}{}\n", scalar(v))),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(scalar).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

fn render(v: &Value, json: bool) -> Result<String, String> {
    if json {
        return serde_json::to_string_pretty(v).map_err(|e| e.to_string());
    }
    let mut s = String::new();
    text(v, 0, &mut s);
    Ok(s)
}

/// What `tnc-inspect` printed and whether the input passed the strict checks.
#[derive(Debug)]
pub struct Report {
    /// The rendered view (text or JSON).
    pub text: String,
    /// False when a strict check failed (strict decoding, RFC 9393 validation); the view is
    /// still complete, `validation` says what failed.
    pub valid: bool,
}

fn problem(kind: impl ToString, path: &str, offset: Option<usize>) -> Value {
    json!({ "kind": kind.to_string(), "path": path, "offset": offset })
}

/// Decode a CoSWID (strictly, falling back to lenient with the deviations listed) and describe
/// it. A COSE-signed tag is verified with `verify_key` when one is given (a bad signature is
/// an error) and otherwise unwrapped without verification. `validation` is structured:
/// `{"ok": bool, "problems": [{"kind", "path", "offset"}]}` (strict decode error, deviations
/// from the CDDL, RFC 9393 rule violations).
pub fn inspect_coswid(
    input: &[u8],
    json: bool,
    verify_key: Option<&coswid::cose::VerifyingKey>,
) -> Result<Report, String> {
    let signed = coswid::cose::is_signed(input);
    let payload = match (signed, verify_key) {
        (true, Some(k)) => coswid::cose::verify(input, k)
            .map_err(|e| format!("coswid: signature not verified: {e}"))?,
        (true, None) => {
            coswid::cose::unverified_payload(input).map_err(|e| format!("coswid: {e}"))?
        }
        (false, Some(_)) => {
            return Err("coswid: --verify-key given but the tag is not signed".into());
        }
        (false, None) => input,
    };
    let mut problems = Vec::new();
    let d = match ConciseSwidTag::decode_with(payload, coswid::Mode::Strict) {
        Ok(d) => d,
        Err(e) => {
            problems.push(problem(e.kind, e.field, Some(e.offset)));
            ConciseSwidTag::decode_lenient(payload).map_err(|e| format!("coswid: {e}"))?
        }
    };
    for x in &d.deviations {
        problems.push(problem(x.kind, x.field, Some(x.offset)));
    }
    if let Err(e) = d.tag.validate() {
        problems.push(problem(e.kind, e.field, None));
    }
    let valid = problems.is_empty();
    let mut v = coswid_json(&d.tag);
    if let Value::Object(m) = &mut v {
        m.insert("tagged".into(), json!(d.tagged));
        m.insert(
            "signature".into(),
            json!({ "signed": signed, "verified": signed && verify_key.is_some() }),
        );
        m.insert(
            "validation".into(),
            json!({ "ok": valid, "problems": problems }),
        );
    }
    Ok(Report {
        text: render(&v, json)?,
        valid,
    })
}

/// Parse a SWID XML document and describe it, with what a conversion to CoSWID would drop.
pub fn inspect_swid(input: &[u8], json: bool) -> Result<String, String> {
    let si = SoftwareIdentity::parse(input).map_err(|e| format!("swid: {e}"))?;
    let mut v = swid_json(&si);
    if let Value::Object(m) = &mut v {
        m.insert("not_carried_to_coswid".into(), not_carried(&si));
    }
    render(&v, json)
}

fn not_carried(si: &SoftwareIdentity<'_>) -> Value {
    Value::Array(
        si.not_carried_to_coswid()
            .into_iter()
            .map(|(what, count)| json!({ "what": what, "count": count }))
            .collect(),
    )
}

/// CoSWID CBOR and what the conversion could not carry, as `(what, how many)`.
pub type Converted = (Vec<u8>, Vec<(String, usize)>);

/// SWID XML to CoSWID CBOR (validated, strict encoding), and what the conversion could not
/// carry as `(what, how many)` (see `SoftwareIdentity::not_carried_to_coswid`).
pub fn to_coswid(swid_xml: &[u8]) -> Result<Converted, String> {
    let si = SoftwareIdentity::parse(swid_xml).map_err(|e| format!("swid: {e}"))?;
    let tag = si.to_coswid().map_err(|e| format!("swid: {e}"))?;
    let cbor = tag.to_cbor().map_err(|e| format!("coswid: {e}"))?;
    Ok((cbor, si.not_carried_to_coswid()))
}

/// CoSWID CBOR (lenient; a signed tag is unwrapped without verification) to SWID XML.
pub fn to_swid(coswid: &[u8]) -> Result<Vec<u8>, String> {
    let payload = if coswid::cose::is_signed(coswid) {
        coswid::cose::unverified_payload(coswid).map_err(|e| format!("coswid: {e}"))?
    } else {
        coswid
    };
    let d = ConciseSwidTag::decode_lenient(payload).map_err(|e| format!("coswid: {e}"))?;
    Ok(SoftwareIdentity::from_coswid(&d.tag).to_xml().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &[u8] = include_bytes!(
        "../../coswid/tests/data/coswid/rfc9393-cddl-derived/valid/all-fields-payload.cbor"
    );
    const XML: &[u8] = include_bytes!(
        "../../coswid/tests/data/swid-xml/dpkg-min/Debian_12-x86_64-adduser-3.134.xml"
    );

    #[test]
    fn inspect_and_convert() {
        let r = inspect_coswid(MIN, false, None).unwrap();
        assert!(r.valid);
        let t = r.text;
        assert!(t.contains("software_name: ACME Roadrunner Detector"), "{t}");
        assert!(
            t.contains("role: tag-creator") || t.contains("tagCreator (1)"),
            "{t}"
        );
        let j: Value =
            serde_json::from_str(&inspect_coswid(MIN, true, None).unwrap().text).unwrap();
        assert_eq!(j["tag_version"], 3);
        assert_eq!(j["validation"], json!({"ok": true, "problems": []}));
        let s = inspect_swid(XML, false).unwrap();
        assert!(
            s.contains("strongswan.org__Debian_12-x86_64-adduser-3.134"),
            "{s}"
        );
        let (cbor, _) = to_coswid(XML).unwrap();
        let back = to_swid(&cbor).unwrap();
        assert_eq!(to_coswid(&back).unwrap().0, cbor);
        assert!(
            inspect_coswid(b"\x00", false, None)
                .unwrap_err()
                .starts_with("coswid:")
        );
        assert!(inspect_swid(b"<x/>", true).is_err());
    }
}
