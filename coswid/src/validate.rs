//! The RFC 9393 MUSTs that the CDDL cannot express (or that lenient decoding lets through).

use crate::error::{ValidationError, ValidationKind};
use crate::model::*;
use crate::registry::role;

fn fail<T>(kind: ValidationKind, field: &'static str) -> Result<T, ValidationError> {
    Err(ValidationError { kind, field })
}

impl ConciseSwidTag<'_> {
    /// Check the tag against RFC 9393: required fields present, exactly one tag-creator entity,
    /// payload and evidence mutually exclusive, corpus and patch not both true, rel in range.
    pub fn validate(&self) -> Result<(), ValidationError> {
        // RFC 9393 §2.3: entity is one-or-more<entity-entry>.
        if self.entity.is_empty() {
            return fail(ValidationKind::Missing, "entity");
        }
        let mut creators = 0usize;
        for e in &self.entity {
            // RFC 9393 §2.6: entity-name and role are required.
            if e.entity_name.is_none() {
                return fail(ValidationKind::Missing, "entity/entity-name");
            }
            if e.role.is_empty() {
                return fail(ValidationKind::Missing, "entity/role");
            }
            if e.role.contains(&Code::Int(role::TAG_CREATOR)) {
                creators = creators.saturating_add(1);
            }
        }
        // RFC 9393 §2.6: the tag MUST have exactly one entity with the tag-creator role.
        match creators {
            0 => return fail(ValidationKind::NoTagCreator, "entity/role"),
            1 => {}
            _ => return fail(ValidationKind::MultipleTagCreators, "entity/role"),
        }
        // RFC 9393 §2.3: `? payload-or-evidence` — one or the other, never both.
        if self.payload.is_some() && self.evidence.is_some() {
            return fail(ValidationKind::PayloadAndEvidence, "payload");
        }
        // RFC 9393 §2.3 / ISO 19770-2 §8.6: a corpus tag describes a pre-installation
        // package, a patch tag an installed patch; a tag cannot be both.
        if self.corpus == Some(true) && self.patch == Some(true) {
            return fail(ValidationKind::CorpusAndPatch, "patch");
        }
        for l in &self.link {
            // RFC 9393 §2.7: $rel /= -256..64436 / text
            if let Code::Int(r) = l.rel
                && !(-256..=64436).contains(&r)
            {
                return fail(ValidationKind::RelOutOfRange, "link/rel");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn tag() -> ConciseSwidTag<'static> {
        ConciseSwidTag::new(
            TagId::Text(Cow::Borrowed("t")),
            "n",
            Entity::new("e", None, vec![Code::Int(role::TAG_CREATOR)]),
        )
    }

    #[test]
    fn rules() {
        assert_eq!(tag().validate(), Ok(()));
        let mut t = tag();
        t.entity.push(t.entity[0].clone());
        assert_eq!(
            t.validate().unwrap_err().kind,
            ValidationKind::MultipleTagCreators
        );
        let mut t = tag();
        t.entity[0].role = vec![Code::Int(2)];
        assert_eq!(t.validate().unwrap_err().kind, ValidationKind::NoTagCreator);
        let mut t = tag();
        t.payload = Some(Payload::default());
        t.evidence = Some(Evidence::default());
        assert_eq!(
            t.validate().unwrap_err().kind,
            ValidationKind::PayloadAndEvidence
        );
        let mut t = tag();
        t.link.push(Link::new("x", Code::Int(70000)));
        assert_eq!(t.validate().unwrap_err().field, "link/rel");
    }
}
