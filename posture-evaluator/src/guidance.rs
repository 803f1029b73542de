//! Guidance: the rules an endpoint's posture is evaluated against, in a typed and validated
//! JSON form.
//!
//! ```json
//! { "id": "CVE-2023-5678-openssl",
//!   "description": "OpenSSL before 3.0.13",
//!   "severity": "major",
//!   "recommendation": "isolate",
//!   "when": { "software": { "name": "openssl", "vendor": "openssl.org",
//!                           "versions": { "below": "3.0.13" } } } }
//! ```
//!
//! `when` is one of:
//! - `software`: any of `name` (ASCII case-insensitive), `vendor` (tag creator name or regid,
//!   ASCII case-insensitive), `tag_id` (the software identifier is the tag id or ends with
//!   `__` and it, RFC 8412 §5.4), `software_identifier` (exact), plus optional `versions`
//!   (`exactly`, or a lower bound `at_least`/`above` and/or an upper bound `below`/`at_most`,
//!   ordered by [`posture_repository::version::compare`]); every given field must match, and
//!   at least one of the four keys is required (it is what the rule is indexed by);
//! - `os_attribute`: `{ "name": "forwarding", "equals": "enabled" }` (see [`attributes`]);
//! - `stale`: `{ "hours": 24 }`: no contact with the endpoint for that long.
//!
//! `severity` is `minor`, `major`, `error` or `unknown` (`TNC_IMV_Evaluation_Result`
//! NONCOMPLIANT_MINOR, NONCOMPLIANT_MAJOR, ERROR, DONT_KNOW); `recommendation` is `allow`,
//! `isolate` or `no-access`. Unknown fields are refused.

use posture_repository::guidance::SoftwareKey;
use posture_repository::version::{VersionRange, compare};
use posture_repository::{SoftwareMeta, UnixTime};
use serde::{Deserialize, Serialize};
use tnc_if::{ActionRecommendation, EvaluationResult};

/// Names of the OS attributes the evaluator knows (what the manager stores with
/// [`Evaluator::on_attributes`](crate::Evaluator::on_attributes), from IETF PA-TNC attributes,
/// RFC 5792 §4.2). Other names are allowed; these are the documented ones.
pub mod attributes {
    /// Forwarding Enabled (RFC 5792 §4.2.11): `enabled`, `disabled`, `unknown`.
    pub const FORWARDING: &str = "forwarding";
    /// Factory Default Password Enabled (RFC 5792 §4.2.12): `yes`, `no`.
    pub const FACTORY_DEFAULT_PASSWORD: &str = "factory_default_password";
    /// Operating system product name (Product Information, RFC 5792 §4.2.2).
    pub const OS_NAME: &str = "os_name";
    /// Operating system version (Numeric/String Version, RFC 5792 §4.2.3–4).
    pub const OS_VERSION: &str = "os_version";
}

/// Longest rule id, attribute name, description and matcher text.
const MAX_ID: usize = 128;
const MAX_TEXT: usize = 1024;
/// Longest `stale` period: ten years.
const MAX_HOURS: u32 = 87_600;

/// A rule's severity: the evaluation result of an endpoint it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// NONCOMPLIANT_MINOR.
    Minor,
    /// NONCOMPLIANT_MAJOR.
    Major,
    /// ERROR.
    Error,
    /// DONT_KNOW (e.g. a stale assessment: the posture is not known).
    Unknown,
}

impl Severity {
    /// The IF-IMV evaluation result.
    pub fn evaluation_result(self) -> EvaluationResult {
        match self {
            Self::Minor => EvaluationResult::NonCompliantMinor,
            Self::Major => EvaluationResult::NonCompliantMajor,
            Self::Error => EvaluationResult::Error,
            Self::Unknown => EvaluationResult::DontKnow,
        }
    }
}

/// The access a rule recommends for an endpoint it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Recommendation {
    /// ALLOW (a warning only).
    #[serde(rename = "allow")]
    Allow,
    /// ISOLATE.
    #[serde(rename = "isolate")]
    Isolate,
    /// NO_ACCESS.
    #[serde(rename = "no-access")]
    NoAccess,
}

impl Recommendation {
    /// The IF-IMV action recommendation.
    pub fn action(self) -> ActionRecommendation {
        match self {
            Self::Allow => ActionRecommendation::Allow,
            Self::Isolate => ActionRecommendation::Isolate,
            Self::NoAccess => ActionRecommendation::NoAccess,
        }
    }
}

/// A version range in JSON form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionSpec {
    /// Exactly this version (no other field then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exactly: Option<String>,
    /// Lower bound, included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<String>,
    /// Lower bound, excluded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub above: Option<String>,
    /// Upper bound, excluded (the usual "fixed in" of an advisory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub below: Option<String>,
    /// Upper bound, included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_most: Option<String>,
}

impl VersionSpec {
    fn range(&self) -> Result<VersionRange, String> {
        let mut r = VersionRange::any();
        if let Some(v) = &self.exactly {
            if self.at_least.is_some()
                || self.above.is_some()
                || self.below.is_some()
                || self.at_most.is_some()
            {
                return Err("`exactly` excludes every other bound".into());
            }
            text(v, "versions.exactly")?;
            return Ok(VersionRange::exactly(v.clone()));
        }
        match (&self.at_least, &self.above) {
            (Some(_), Some(_)) => return Err("give `at_least` or `above`, not both".into()),
            (Some(v), None) => r.min = Some((text(v, "versions.at_least")?, true)),
            (None, Some(v)) => r.min = Some((text(v, "versions.above")?, false)),
            (None, None) => {}
        }
        match (&self.below, &self.at_most) {
            (Some(_), Some(_)) => return Err("give `below` or `at_most`, not both".into()),
            (Some(v), None) => r.max = Some((text(v, "versions.below")?, false)),
            (None, Some(v)) => r.max = Some((text(v, "versions.at_most")?, true)),
            (None, None) => {}
        }
        if r.is_any() {
            return Err("`versions` needs at least one bound".into());
        }
        if let (Some((lo, li)), Some((hi, hi_in))) = (&r.min, &r.max) {
            let o = compare(lo, hi);
            if o.is_gt() || (o.is_eq() && !(*li && *hi_in)) {
                return Err(format!("the range from {lo:?} to {hi:?} is empty"));
            }
        }
        Ok(r)
    }
}

fn text(v: &str, field: &str) -> Result<String, String> {
    if v.is_empty() {
        return Err(format!("`{field}` is empty"));
    }
    if v.len() > MAX_TEXT {
        return Err(format!(
            "`{field}` is {} bytes, over the limit of {MAX_TEXT}",
            v.len()
        ));
    }
    Ok(v.to_owned())
}

/// Software to match: every given field must match a record. Deserializing validates it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawMatcher", into = "RawMatcher")]
pub struct SoftwareMatcher {
    raw: RawMatcher,
    range: Option<VersionRange>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatcher {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tag_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    software_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    versions: Option<VersionSpec>,
}

impl From<SoftwareMatcher> for RawMatcher {
    fn from(m: SoftwareMatcher) -> Self {
        m.raw
    }
}

impl TryFrom<RawMatcher> for SoftwareMatcher {
    type Error = String;

    fn try_from(raw: RawMatcher) -> Result<Self, String> {
        for (v, f) in [
            (&raw.name, "software.name"),
            (&raw.vendor, "software.vendor"),
            (&raw.tag_id, "software.tag_id"),
            (&raw.software_identifier, "software.software_identifier"),
        ] {
            if let Some(v) = v {
                text(v, f)?;
            }
        }
        if raw.name.is_none()
            && raw.vendor.is_none()
            && raw.tag_id.is_none()
            && raw.software_identifier.is_none()
        {
            return Err(
                "`software` needs at least one of `name`, `vendor`, `tag_id`, `software_identifier`"
                    .into(),
            );
        }
        let range = raw.versions.as_ref().map(VersionSpec::range).transpose()?;
        Ok(Self { raw, range })
    }
}

impl SoftwareMatcher {
    /// Software name (ASCII case-insensitive).
    pub fn name(&self) -> Option<&str> {
        self.raw.name.as_deref()
    }
    /// Tag creator name or regid (ASCII case-insensitive).
    pub fn vendor(&self) -> Option<&str> {
        self.raw.vendor.as_deref()
    }
    /// SWID/CoSWID tag id.
    pub fn tag_id(&self) -> Option<&str> {
        self.raw.tag_id.as_deref()
    }
    /// SWIMA software identifier (exact).
    pub fn software_identifier(&self) -> Option<&str> {
        self.raw.software_identifier.as_deref()
    }
    /// Version range (a record without a known version does not match it).
    pub fn versions(&self) -> Option<&VersionRange> {
        self.range.as_ref()
    }

    /// The repository key the rule is indexed by: the most selective field given.
    pub fn key(&self) -> SoftwareKey {
        let r = &self.raw;
        if let Some(s) = &r.software_identifier {
            SoftwareKey::Identifier(s.clone())
        } else if let Some(t) = &r.tag_id {
            SoftwareKey::TagId(t.clone())
        } else if let Some(n) = &r.name {
            SoftwareKey::Name(n.clone())
        } else {
            SoftwareKey::Vendor(r.vendor.clone().unwrap_or_default())
        }
    }

    /// Whether a record with this identifier and metadata matches.
    pub fn matches(&self, software_identifier: &str, meta: &SoftwareMeta) -> bool {
        let eq = |want: &Option<String>, have: &Option<String>| {
            want.as_ref()
                .is_none_or(|w| have.as_ref().is_some_and(|h| h.eq_ignore_ascii_case(w)))
        };
        let r = &self.raw;
        r.software_identifier
            .as_ref()
            .is_none_or(|s| s == software_identifier)
            && r.tag_id
                .as_ref()
                .is_none_or(|t| tag_id_matches(software_identifier, t))
            && eq(&r.name, &meta.name)
            && r.vendor.as_ref().is_none_or(|v| {
                [&meta.vendor, &meta.regid]
                    .iter()
                    .any(|h| h.as_ref().is_some_and(|h| h.eq_ignore_ascii_case(v)))
            })
            && self
                .range
                .as_ref()
                .is_none_or(|r| meta.version.as_ref().is_some_and(|v| r.contains(v)))
    }
}

/// Whether the software identifier is the tag id or `…__tag_id`.
pub(crate) fn tag_id_matches(software_identifier: &str, tag_id: &str) -> bool {
    software_identifier == tag_id
        || software_identifier
            .strip_suffix(tag_id)
            .is_some_and(|head| head.ends_with("__"))
}

/// What a rule looks at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// Installed software matching.
    Software(Box<SoftwareMatcher>),
    /// An OS attribute with this value (ASCII case-insensitive).
    OsAttribute {
        /// Attribute name ([`attributes`]).
        name: String,
        /// The value that makes the rule match.
        equals: String,
    },
    /// No contact with the endpoint for this long.
    Stale {
        /// Hours since the endpoint was last seen.
        hours: u32,
    },
}

/// A validated guidance rule. Build it with [`Rule::from_json`] or deserialize it (both
/// validate); serializing gives the JSON form back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawRule", into = "RawRule")]
pub struct Rule {
    /// Rule id: 1–128 of `A-Z a-z 0-9 . _ : -`.
    pub id: String,
    /// Free text for people.
    pub description: String,
    /// Evaluation result of a matching endpoint.
    pub severity: Severity,
    /// Recommendation for a matching endpoint.
    pub recommendation: Recommendation,
    /// What the rule looks at.
    pub when: Condition,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    description: String,
    severity: Severity,
    recommendation: Recommendation,
    when: Condition,
}

impl From<Rule> for RawRule {
    fn from(r: Rule) -> Self {
        Self {
            id: r.id,
            description: r.description,
            severity: r.severity,
            recommendation: r.recommendation,
            when: r.when,
        }
    }
}

/// Why guidance was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GuidanceError {
    /// Not JSON of the rule's shape (syntax, unknown field, wrong type, unknown enum value);
    /// the message names the field and the position.
    #[error("guidance rule JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// JSON of the right shape with a value the rule cannot have.
    #[error("guidance rule {rule:?}: {reason}")]
    Invalid {
        /// The rule id as given.
        rule: String,
        /// What is wrong.
        reason: String,
    },
}

impl TryFrom<RawRule> for Rule {
    type Error = GuidanceError;

    fn try_from(r: RawRule) -> Result<Self, GuidanceError> {
        let invalid = |reason: String| GuidanceError::Invalid {
            rule: r.id.clone(),
            reason,
        };
        check_id(&r.id).map_err(invalid)?;
        if r.description.len() > MAX_TEXT {
            return Err(invalid(format!(
                "`description` is {} bytes, over the limit of {MAX_TEXT}",
                r.description.len()
            )));
        }
        let when = r.when.clone();
        match &when {
            Condition::Software(_) => {} // validated when deserialized
            Condition::OsAttribute { name, equals } => {
                check_id(name).map_err(|e| invalid(format!("os_attribute.name: {e}")))?;
                text(equals, "os_attribute.equals").map_err(invalid)?;
            }
            Condition::Stale { hours } => {
                if *hours == 0 || *hours > MAX_HOURS {
                    return Err(invalid(format!(
                        "`stale.hours` is {hours}, not between 1 and {MAX_HOURS}"
                    )));
                }
            }
        }
        Ok(Self {
            id: r.id,
            description: r.description,
            severity: r.severity,
            recommendation: r.recommendation,
            when,
        })
    }
}

fn check_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > MAX_ID {
        return Err(format!(
            "id must be 1 to {MAX_ID} bytes long, not {}",
            id.len()
        ));
    }
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-')))
    {
        return Err(format!(
            "id {id:?} contains {c:?}: only A-Z a-z 0-9 . _ : - are allowed"
        ));
    }
    Ok(())
}

impl Rule {
    /// Parses and validates one rule from JSON.
    ///
    /// ```
    /// use posture_evaluator::{Rule, GuidanceError};
    /// let r = Rule::from_json(r#"{"id": "fwd", "severity": "major", "recommendation": "isolate",
    ///     "when": {"os_attribute": {"name": "forwarding", "equals": "enabled"}}}"#)?;
    /// assert_eq!(r.id, "fwd");
    /// let e = Rule::from_json(r#"{"id": "x", "severity": "huge", "recommendation": "allow",
    ///     "when": {"stale": {"hours": 1}}}"#).unwrap_err();
    /// assert!(e.to_string().contains("unknown variant `huge`"));
    /// # Ok::<(), GuidanceError>(())
    /// ```
    pub fn from_json(json: &str) -> Result<Self, GuidanceError> {
        let raw: RawRule = serde_json::from_str(json)?;
        Self::try_from(raw)
    }

    /// The rule as a JSON value (what the repository stores).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(RawRule::from(self.clone())).unwrap_or(serde_json::Value::Null)
    }

    /// Reads a stored rule (validating it again).
    pub fn from_value(v: serde_json::Value) -> Result<Self, GuidanceError> {
        let raw: RawRule = serde_json::from_value(v)?;
        Self::try_from(raw)
    }

    /// Whether the rule matches an endpoint last seen at `last_seen`, at `now`.
    pub(crate) fn stale_at(hours: u32, last_seen: UnixTime, now: UnixTime) -> bool {
        now.0.saturating_sub(last_seen.0) >= i64::from(hours) * 3600
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(name: &str, version: &str, vendor: &str) -> SoftwareMeta {
        SoftwareMeta {
            name: Some(name.into()),
            version: Some(version.into()),
            vendor: Some(vendor.into()),
            regid: Some(format!("{}.example", vendor.to_lowercase())),
        }
    }

    fn sw(json: &str) -> SoftwareMatcher {
        let r = Rule::from_json(&format!(
            r#"{{"id":"r","severity":"major","recommendation":"isolate","when":{{"software":{json}}}}}"#
        ))
        .unwrap();
        match r.when {
            Condition::Software(m) => *m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn version_ranges() {
        let m = sw(r#"{"name":"OpenSSL","versions":{"below":"3.0.13"}}"#);
        assert!(m.matches("x", &meta("openssl", "3.0.12", "OpenSSL")));
        assert!(m.matches("x", &meta("OPENSSL", "1.1.1w", "OpenSSL")));
        assert!(!m.matches("x", &meta("openssl", "3.0.13", "OpenSSL")));
        assert!(!m.matches("x", &meta("openssl", "3.1", "OpenSSL")));
        assert!(!m.matches("x", &meta("libssl", "1.0", "OpenSSL")));
        let no_version = SoftwareMeta {
            version: None,
            ..meta("openssl", "", "x")
        };
        assert!(
            !m.matches("x", &no_version),
            "unknown version is outside a range"
        );
        let m = sw(r#"{"name":"a","versions":{"above":"1.0","at_most":"2.0"}}"#);
        assert!(!m.matches("x", &meta("a", "1.0", "v")));
        assert!(m.matches("x", &meta("a", "1.0.1", "v")));
        assert!(m.matches("x", &meta("a", "2.0", "v")));
        assert!(!m.matches("x", &meta("a", "2.0.1", "v")));
        let m = sw(r#"{"name":"a","versions":{"exactly":"1.2"}}"#);
        assert!(m.matches("x", &meta("a", "1.2", "v")));
        assert!(!m.matches("x", &meta("a", "1.2.0", "v")));
    }

    #[test]
    fn vendor_tag_id_and_identifier() {
        let m = sw(r#"{"vendor":"acme"}"#);
        assert!(m.matches("x", &meta("a", "1", "ACME")));
        assert!(m.matches("x", &meta("a", "1", "Other").clone().with_regid("Acme")));
        assert!(!m.matches("x", &meta("a", "1", "acme corp")));
        let m = sw(r#"{"tag_id":"Debian_12-adduser-3.134"}"#);
        assert!(m.matches(
            "strongswan.org__Debian_12-adduser-3.134",
            &SoftwareMeta::default()
        ));
        assert!(m.matches("Debian_12-adduser-3.134", &SoftwareMeta::default()));
        assert!(!m.matches(
            "strongswan.org_Debian_12-adduser-3.134",
            &SoftwareMeta::default()
        ));
        assert!(!m.matches("x__debian_12-adduser-3.134", &SoftwareMeta::default()));
        assert!(!m.matches("x__Debian_12-adduser-3.134.1", &SoftwareMeta::default()));
        let m = sw(r#"{"software_identifier":"a__b","name":"n"}"#);
        assert!(m.matches("a__b", &meta("N", "1", "v")));
        assert!(!m.matches("a__b", &meta("m", "1", "v")));
        assert!(!m.matches("A__b", &meta("n", "1", "v")));
    }

    trait WithRegid {
        fn with_regid(self, r: &str) -> Self;
    }
    impl WithRegid for SoftwareMeta {
        fn with_regid(mut self, r: &str) -> Self {
            self.regid = Some(r.into());
            self
        }
    }

    #[test]
    fn invalid_rules_are_refused_with_the_reason() {
        let bad = |json: &str, want: &str| {
            let e = Rule::from_json(json).unwrap_err().to_string();
            assert!(e.contains(want), "{e:?} lacks {want:?}");
        };
        let base = |when: &str| {
            format!(r#"{{"id":"r1","severity":"major","recommendation":"isolate","when":{when}}}"#)
        };
        bad("{", "EOF");
        bad(
            &base(r#"{"software":{"nmae":"x"}}"#),
            "unknown field `nmae`",
        );
        bad(&base(r#"{"software":{}}"#), "needs at least one of");
        bad(
            &base(r#"{"software":{"name":"x","versions":{}}}"#),
            "at least one bound",
        );
        bad(
            &base(r#"{"software":{"name":"x","versions":{"at_least":"2","below":"1.9"}}}"#),
            "is empty",
        );
        bad(
            &base(r#"{"software":{"name":"x","versions":{"exactly":"2","below":"3"}}}"#),
            "excludes every other bound",
        );
        bad(
            &base(r#"{"software":{"name":"x","versions":{"at_least":"1","above":"1"}}}"#),
            "not both",
        );
        bad(&base(r#"{"stale":{"hours":0}}"#), "not between 1 and");
        bad(&base(r#"{"stale":{"hours":-1}}"#), "invalid value");
        bad(&base(r#"{"firewall":{}}"#), "unknown variant `firewall`");
        bad(
            &base(r#"{"os_attribute":{"name":"forwarding","equals":""}}"#),
            "`os_attribute.equals` is empty",
        );
        bad(
            r#"{"id":"a b","severity":"major","recommendation":"isolate","when":{"stale":{"hours":1}}}"#,
            "contains ' '",
        );
        bad(
            r#"{"id":"a","severity":"major","recommendation":"block","when":{"stale":{"hours":1}}}"#,
            "unknown variant `block`",
        );
        bad(
            r#"{"id":"a","severity":"major","when":{"stale":{"hours":1}}}"#,
            "missing field `recommendation`",
        );
        // Deserializing validates too.
        let e = serde_json::from_str::<Rule>(
            r#"{"id":"","severity":"major","recommendation":"isolate","when":{"stale":{"hours":1}}}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("id must be 1 to 128 bytes"));
    }

    #[test]
    fn json_round_trip() {
        let json = r#"{"id":"CVE-1","description":"d","severity":"minor","recommendation":"no-access","when":{"software":{"vendor":"acme","versions":{"at_least":"1.0","below":"2.0"}}}}"#;
        let r = Rule::from_json(json).unwrap();
        assert_eq!(serde_json::to_string(&r).unwrap(), json);
        assert_eq!(Rule::from_value(r.to_json()).unwrap(), r);
        assert_eq!(serde_json::from_str::<Rule>(json).unwrap(), r);
    }
}
