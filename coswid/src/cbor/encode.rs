//! Strict CoSWID encoder: known fields in ascending key order (the RFC 8949 §4.2.1 order for
//! these keys), then unknown keys in their stored order; one-or-more as a bare item when single;
//! URIs as `#6.32(tstr)`; dates as `#6.1(int)`; definite lengths and shortest integer heads.

use super::enc;
use crate::model::*;
use crate::registry::key;

pub(crate) trait Enc {
    fn enc(&self, out: &mut Vec<u8>);
}

fn n<T>(o: &Option<T>) -> usize {
    usize::from(o.is_some())
}

fn nv<T>(v: &[T]) -> usize {
    usize::from(!v.is_empty())
}

fn na(a: &Attributes<'_>) -> usize {
    n(&a.lang).saturating_add(a.extra.len())
}

fn k(out: &mut Vec<u8>, k: i64) {
    enc::int(out, k);
}

fn opt_text(out: &mut Vec<u8>, key: i64, v: &Option<Text<'_>>) {
    if let Some(v) = v {
        k(out, key);
        enc::text(out, v);
    }
}

fn opt_bool(out: &mut Vec<u8>, key: i64, v: Option<bool>) {
    if let Some(v) = v {
        k(out, key);
        enc::bool(out, v);
    }
}

fn uri(out: &mut Vec<u8>, v: &str) {
    enc::tag(out, 32);
    enc::text(out, v);
}

fn many<T: Enc>(out: &mut Vec<u8>, key: i64, v: &[T]) {
    match v {
        [] => {}
        [one] => {
            k(out, key);
            one.enc(out);
        }
        all => {
            k(out, key);
            enc::array(out, all.len());
            for x in all {
                x.enc(out);
            }
        }
    }
}

/// Lang before any key > 15 would be canonical; lang is emitted at its key position.
fn lang(out: &mut Vec<u8>, a: &Attributes<'_>) {
    opt_text(out, key::LANG, &a.lang);
}

fn extra(out: &mut Vec<u8>, a: &Attributes<'_>) {
    for (l, v) in &a.extra {
        l.enc(out);
        out.extend_from_slice(v.as_bytes());
    }
}

impl Enc for Label<'_> {
    fn enc(&self, out: &mut Vec<u8>) {
        match self {
            Label::Int(i) => enc::int(out, *i),
            Label::Text(t) => enc::text(out, t),
        }
    }
}

impl Enc for Code<'_> {
    fn enc(&self, out: &mut Vec<u8>) {
        match self {
            Code::Int(i) => enc::int(out, *i),
            Code::Text(t) => enc::text(out, t),
        }
    }
}

impl Enc for TagId<'_> {
    fn enc(&self, out: &mut Vec<u8>) {
        match self {
            TagId::Text(t) => enc::text(out, t),
            TagId::Uuid(u) => enc::bytes(out, u),
        }
    }
}

impl Enc for HashEntry<'_> {
    fn enc(&self, out: &mut Vec<u8>) {
        enc::array(out, 2);
        enc::int(out, self.alg);
        enc::bytes(out, &self.value);
    }
}

fn opt_code(out: &mut Vec<u8>, key: i64, v: &Option<Code<'_>>) {
    if let Some(v) = v {
        k(out, key);
        v.enc(out);
    }
}

impl Enc for ConciseSwidTag<'_> {
    fn enc(&self, out: &mut Vec<u8>) {
        let count = [
            1,
            nv(&self.entity).max(1),
            n(&self.evidence),
            nv(&self.link),
            nv(&self.software_meta),
            n(&self.payload),
            n(&self.corpus),
            n(&self.patch),
            n(&self.media),
            n(&self.supplemental),
            1,
            1,
            n(&self.software_version),
            n(&self.version_scheme),
            na(&self.attributes),
        ]
        .iter()
        .fold(0usize, |a, b| a.saturating_add(*b));
        enc::map(out, count);
        k(out, key::TAG_ID);
        self.tag_id.enc(out);
        k(out, key::SOFTWARE_NAME);
        enc::text(out, &self.software_name);
        if self.entity.is_empty() {
            k(out, key::ENTITY);
            enc::array(out, 0);
        }
        many(out, key::ENTITY, &self.entity);
        if let Some(e) = &self.evidence {
            k(out, key::EVIDENCE);
            e.enc(out);
        }
        many(out, key::LINK, &self.link);
        many(out, key::SOFTWARE_META, &self.software_meta);
        if let Some(p) = &self.payload {
            k(out, key::PAYLOAD);
            p.enc(out);
        }
        opt_bool(out, key::CORPUS, self.corpus);
        opt_bool(out, key::PATCH, self.patch);
        opt_text(out, key::MEDIA, &self.media);
        opt_bool(out, key::SUPPLEMENTAL, self.supplemental);
        k(out, key::TAG_VERSION);
        enc::int(out, self.tag_version);
        opt_text(out, key::SOFTWARE_VERSION, &self.software_version);
        opt_code(out, key::VERSION_SCHEME, &self.version_scheme);
        lang(out, &self.attributes);
        extra(out, &self.attributes);
    }
}

impl Enc for Entity<'_> {
    fn enc(&self, out: &mut Vec<u8>) {
        let count =
            n(&self.entity_name) + n(&self.reg_id) + 1 + n(&self.thumbprint) + na(&self.attributes);
        enc::map(out, count);
        lang(out, &self.attributes);
        opt_text(out, key::ENTITY_NAME, &self.entity_name);
        if let Some(r) = &self.reg_id {
            k(out, key::REG_ID);
            uri(out, r);
        }
        if self.role.is_empty() {
            k(out, key::ROLE);
            enc::array(out, 0);
        }
        many(out, key::ROLE, &self.role);
        if let Some(t) = &self.thumbprint {
            k(out, key::THUMBPRINT);
            t.enc(out);
        }
        extra(out, &self.attributes);
    }
}

impl Enc for Link<'_> {
    fn enc(&self, out: &mut Vec<u8>) {
        let count = n(&self.artifact)
            + 1
            + n(&self.media)
            + n(&self.ownership)
            + 1
            + n(&self.media_type)
            + n(&self.use_)
            + na(&self.attributes);
        enc::map(out, count);
        opt_text(out, key::MEDIA, &self.media);
        lang(out, &self.attributes);
        opt_text(out, key::ARTIFACT, &self.artifact);
        k(out, key::HREF);
        uri(out, &self.href);
        opt_code(out, key::OWNERSHIP, &self.ownership);
        k(out, key::REL);
        self.rel.enc(out);
        opt_text(out, key::MEDIA_TYPE, &self.media_type);
        opt_code(out, key::USE, &self.use_);
        extra(out, &self.attributes);
    }
}

impl Enc for SoftwareMeta<'_> {
    fn enc(&self, out: &mut Vec<u8>) {
        let m = self;
        let count = [
            n(&m.activation_status),
            n(&m.channel_type),
            n(&m.colloquial_version),
            n(&m.description),
            n(&m.edition),
            n(&m.entitlement_data_required),
            n(&m.entitlement_key),
            n(&m.generator),
            n(&m.persistent_id),
            n(&m.product),
            n(&m.product_family),
            n(&m.revision),
            n(&m.summary),
            n(&m.unspsc_code),
            n(&m.unspsc_version),
            na(&m.attributes),
        ]
        .iter()
        .fold(0usize, |a, b| a.saturating_add(*b));
        enc::map(out, count);
        lang(out, &m.attributes);
        opt_text(out, key::ACTIVATION_STATUS, &m.activation_status);
        opt_text(out, key::CHANNEL_TYPE, &m.channel_type);
        opt_text(out, key::COLLOQUIAL_VERSION, &m.colloquial_version);
        opt_text(out, key::DESCRIPTION, &m.description);
        opt_text(out, key::EDITION, &m.edition);
        opt_bool(
            out,
            key::ENTITLEMENT_DATA_REQUIRED,
            m.entitlement_data_required,
        );
        opt_text(out, key::ENTITLEMENT_KEY, &m.entitlement_key);
        if let Some(g) = &m.generator {
            k(out, key::GENERATOR);
            g.enc(out);
        }
        opt_text(out, key::PERSISTENT_ID, &m.persistent_id);
        opt_text(out, key::PRODUCT, &m.product);
        opt_text(out, key::PRODUCT_FAMILY, &m.product_family);
        opt_text(out, key::REVISION, &m.revision);
        opt_text(out, key::SUMMARY, &m.summary);
        opt_text(out, key::UNSPSC_CODE, &m.unspsc_code);
        opt_text(out, key::UNSPSC_VERSION, &m.unspsc_version);
        extra(out, &m.attributes);
    }
}

fn nrc(rc: &ResourceCollection<'_>) -> usize {
    nv(&rc.directory) + nv(&rc.file) + nv(&rc.process) + nv(&rc.resource)
}

/// Resource collection keys 16..=19 (lang 15 goes first, so callers write it before).
fn rc(out: &mut Vec<u8>, rc: &ResourceCollection<'_>) {
    many(out, key::DIRECTORY, &rc.directory);
    many(out, key::FILE, &rc.file);
    many(out, key::PROCESS, &rc.process);
    many(out, key::RESOURCE, &rc.resource);
}

impl Enc for Payload<'_> {
    fn enc(&self, out: &mut Vec<u8>) {
        enc::map(out, nrc(&self.resources) + na(&self.attributes));
        lang(out, &self.attributes);
        rc(out, &self.resources);
        extra(out, &self.attributes);
    }
}

impl Enc for Evidence<'_> {
    fn enc(&self, out: &mut Vec<u8>) {
        enc::map(
            out,
            nrc(&self.resources)
                + n(&self.date)
                + n(&self.device_id)
                + n(&self.location)
                + na(&self.attributes),
        );
        lang(out, &self.attributes);
        rc(out, &self.resources);
        opt_text(out, key::LOCATION, &self.location);
        if let Some(dt) = self.date {
            k(out, key::DATE);
            enc::tag(out, 1);
            enc::int(out, dt);
        }
        opt_text(out, key::DEVICE_ID, &self.device_id);
        extra(out, &self.attributes);
    }
}

impl Enc for Directory<'_> {
    fn enc(&self, out: &mut Vec<u8>) {
        enc::map(
            out,
            n(&self.key)
                + n(&self.location)
                + 1
                + n(&self.root)
                + n(&self.path_elements)
                + na(&self.attributes),
        );
        lang(out, &self.attributes);
        opt_bool(out, key::KEY, self.key);
        opt_text(out, key::LOCATION, &self.location);
        k(out, key::FS_NAME);
        enc::text(out, &self.fs_name);
        opt_text(out, key::ROOT, &self.root);
        if let Some(pe) = &self.path_elements {
            k(out, key::PATH_ELEMENTS);
            enc::map(out, nv(&pe.directory) + nv(&pe.file) + na(&pe.attributes));
            lang(out, &pe.attributes);
            many(out, key::DIRECTORY, &pe.directory);
            many(out, key::FILE, &pe.file);
            extra(out, &pe.attributes);
        }
        extra(out, &self.attributes);
    }
}

impl Enc for File<'_> {
    fn enc(&self, out: &mut Vec<u8>) {
        let x = self.extras();
        enc::map(
            out,
            n(&self.hash)
                + n(&x.key)
                + n(&x.location)
                + 1
                + n(&x.root)
                + n(&self.size)
                + n(&x.file_version)
                + na(&x.attributes),
        );
        if let Some(h) = &self.hash {
            k(out, key::HASH);
            h.enc(out);
        }
        lang(out, &x.attributes);
        if let Some(s) = self.size {
            k(out, key::SIZE);
            enc::uint(out, s);
        }
        opt_text(out, key::FILE_VERSION, &x.file_version);
        opt_bool(out, key::KEY, x.key);
        opt_text(out, key::LOCATION, &x.location);
        k(out, key::FS_NAME);
        enc::text(out, &self.fs_name);
        opt_text(out, key::ROOT, &x.root);
        extra(out, &x.attributes);
    }
}

impl Enc for Process<'_> {
    fn enc(&self, out: &mut Vec<u8>) {
        enc::map(out, 1 + n(&self.pid) + na(&self.attributes));
        lang(out, &self.attributes);
        k(out, key::PROCESS_NAME);
        enc::text(out, &self.process_name);
        if let Some(p) = self.pid {
            k(out, key::PID);
            enc::int(out, p);
        }
        extra(out, &self.attributes);
    }
}

impl Enc for Resource<'_> {
    fn enc(&self, out: &mut Vec<u8>) {
        enc::map(out, 1 + na(&self.attributes));
        lang(out, &self.attributes);
        k(out, key::TYPE);
        enc::text(out, &self.type_);
        extra(out, &self.attributes);
    }
}
