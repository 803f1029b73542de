//! The rule index: which software rules can match a record, found by hashing the record's
//! identifier, tag id suffixes, name and vendor, so one record is checked against only its
//! candidate rules and never against the whole guidance.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use posture_repository::SoftwareMeta;
use posture_repository::guidance::SoftwareKey;

use crate::guidance::{Condition, Rule};

/// A rule in force and the guidance revision that set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveRule {
    /// The rule.
    pub rule: Rule,
    /// Guidance revision of its last change.
    pub revision: i64,
}

#[derive(Debug, Default)]
pub(crate) struct RuleIndex {
    /// Every rule in force, by id.
    pub(crate) rules: BTreeMap<String, Arc<ActiveRule>>,
    by_identifier: HashMap<String, Vec<Arc<ActiveRule>>>,
    by_tag_id: HashMap<String, Vec<Arc<ActiveRule>>>,
    by_name: HashMap<String, Vec<Arc<ActiveRule>>>,
    by_vendor: HashMap<String, Vec<Arc<ActiveRule>>>,
    /// The newest guidance revision applied.
    pub(crate) revision: i64,
}

impl RuleIndex {
    fn bucket(
        &mut self,
        key: &SoftwareKey,
    ) -> (&mut HashMap<String, Vec<Arc<ActiveRule>>>, String) {
        match key {
            SoftwareKey::Identifier(s) => (&mut self.by_identifier, s.clone()),
            SoftwareKey::TagId(t) => (&mut self.by_tag_id, t.clone()),
            SoftwareKey::Name(n) => (&mut self.by_name, n.to_ascii_lowercase()),
            SoftwareKey::Vendor(v) => (&mut self.by_vendor, v.to_ascii_lowercase()),
        }
    }

    /// Puts a rule in force (replacing one with its id); `None` removes the rule.
    pub(crate) fn apply(&mut self, id: &str, rule: Option<Rule>, revision: i64) {
        if let Some(old) = self.rules.remove(id)
            && let Condition::Software(m) = &old.rule.when
        {
            let (map, k) = self.bucket(&m.key());
            if let Some(v) = map.get_mut(&k) {
                v.retain(|r| r.rule.id != id);
                if v.is_empty() {
                    map.remove(&k);
                }
            }
        }
        if let Some(rule) = rule {
            let active = Arc::new(ActiveRule { rule, revision });
            if let Condition::Software(m) = &active.rule.when {
                let (map, k) = self.bucket(&m.key());
                map.entry(k).or_default().push(Arc::clone(&active));
            }
            self.rules.insert(id.to_owned(), active);
        }
        self.revision = self.revision.max(revision);
    }

    /// Whether any software rule is in force (without one, no record can match and the
    /// evaluator reads none).
    pub(crate) fn has_software_rules(&self) -> bool {
        !(self.by_identifier.is_empty()
            && self.by_tag_id.is_empty()
            && self.by_name.is_empty()
            && self.by_vendor.is_empty())
    }

    /// The software rules that match a record, each once.
    pub(crate) fn matching<'a>(
        &'a self,
        software_identifier: &str,
        meta: &SoftwareMeta,
        mut f: impl FnMut(&Arc<ActiveRule>),
    ) {
        let mut seen: Vec<&'a str> = Vec::new();
        let mut visit = |list: Option<&'a Vec<Arc<ActiveRule>>>| {
            for r in list.into_iter().flatten() {
                if let Condition::Software(m) = &r.rule.when
                    && !seen.contains(&r.rule.id.as_str())
                    && m.matches(software_identifier, meta)
                {
                    seen.push(&r.rule.id);
                    f(r);
                }
            }
        };
        visit(self.by_identifier.get(software_identifier));
        if !self.by_tag_id.is_empty() {
            visit(self.by_tag_id.get(software_identifier));
            // Every suffix after a `__` (overlapping: `a___b` has `_b` and `b`) is a possible
            // tag id.
            let b = software_identifier.as_bytes();
            for i in 0..b.len().saturating_sub(1) {
                if b.get(i..i + 2) == Some(b"__")
                    && let Some(rest) = software_identifier.get(i + 2..)
                {
                    visit(self.by_tag_id.get(rest));
                }
            }
        }
        if !self.by_name.is_empty()
            && let Some(n) = &meta.name
        {
            visit(self.by_name.get(&n.to_ascii_lowercase()));
        }
        if !self.by_vendor.is_empty() {
            for v in [&meta.vendor, &meta.regid].into_iter().flatten() {
                visit(self.by_vendor.get(&v.to_ascii_lowercase()));
            }
        }
    }

    /// The rules that are not software rules (OS attributes, staleness): evaluated whole for
    /// each endpoint evaluated.
    pub(crate) fn endpoint_rules(&self) -> impl Iterator<Item = &Arc<ActiveRule>> {
        self.rules
            .values()
            .filter(|r| !matches!(r.rule.when, Condition::Software(_)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(idx: &RuleIndex, sid: &str, meta: &SoftwareMeta) -> Vec<String> {
        let mut v = Vec::new();
        idx.matching(sid, meta, |r| v.push(r.rule.id.clone()));
        v.sort();
        v
    }

    fn sw(id: &str, m: &str) -> Rule {
        Rule::from_json(&format!(
            r#"{{"id":"{id}","severity":"major","recommendation":"isolate","when":{{"software":{m}}}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn candidates_by_every_key_each_once() {
        let mut idx = RuleIndex::default();
        idx.apply("t", Some(sw("t", r#"{"tag_id":"y"}"#)), 1);
        idx.apply("t2", Some(sw("t2", r#"{"tag_id":"_y"}"#)), 2);
        idx.apply("n", Some(sw("n", r#"{"name":"Foo"}"#)), 3);
        idx.apply("v", Some(sw("v", r#"{"vendor":"acme","name":"foo"}"#)), 4);
        let meta = SoftwareMeta {
            name: Some("FOO".into()),
            version: Some("1".into()),
            vendor: Some("Acme".into()),
            regid: Some("acme".into()),
        };
        // Three underscores: both `_y` and `y` are tag-id suffixes.
        assert_eq!(ids(&idx, "x___y", &meta), ["n", "t", "t2", "v"]);
        assert_eq!(
            ids(&idx, "x__z", &SoftwareMeta::default()),
            Vec::<String>::new()
        );
        // Replacing and removing keep the buckets right.
        idx.apply("n", Some(sw("n", r#"{"name":"bar"}"#)), 5);
        assert_eq!(ids(&idx, "q", &meta), ["v"]);
        idx.apply("v", None, 6);
        assert_eq!(ids(&idx, "q", &meta), Vec::<String>::new());
        assert_eq!(idx.revision, 6);
        assert_eq!(idx.rules.len(), 3);
    }
}
