//! What a SWIMA verifier concludes from a mirrored inventory.

use bytes::Bytes;
use if_imv::{ActionRecommendation, EvaluationResult};
use swima::{Mirror, MirrorRecord};

use crate::Verdict;

/// A product's name and version as its tag states them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoftwareName {
    /// SWID `name` / CoSWID `software-name`.
    pub name: String,
    /// SWID `version` / CoSWID `software-version`, if stated.
    pub version: Option<String>,
}

/// Reads name and version from a record's tag: SWID XML (ISO/IEC 19770-2) or CoSWID
/// (RFC 9393, tagged or not, COSE-signed or not). `None` without a record (identifier-only
/// mode) or for a tag that does not parse.
///
/// ```
/// use imcv::swima::software_name;
/// use swima::{DataModelType, MirrorRecord, SoftwareId};
///
/// let xml = br#"<SoftwareIdentity xmlns="http://standards.iso.org/iso/19770/-2/2015/schema.xsd"
///   name="openssl" version="3.0.2" tagId="openssl-3.0.2">
///   <Entity name="Example" regid="example.com" role="tagCreator"/></SoftwareIdentity>"#;
/// let r = MirrorRecord {
///     id: SoftwareId {
///         record_id: 1,
///         data_model: DataModelType::SWID_2015,
///         source_id: 0,
///         software_identifier: "example.com__openssl-3.0.2".into(),
///         locator: "".into(),
///     },
///     record: Some(bytes::Bytes::from_static(xml)),
/// };
/// let n = software_name(&r).unwrap();
/// assert_eq!((n.name.as_str(), n.version.as_deref()), ("openssl", Some("3.0.2")));
/// ```
pub fn software_name(record: &MirrorRecord) -> Option<SoftwareName> {
    tag_name(record.record.as_ref()?)
}

/// Name and version from a tag's bytes (see [`software_name`]).
fn tag_name(bytes: &Bytes) -> Option<SoftwareName> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first == b'<' || bytes.starts_with(&[0xef, 0xbb, 0xbf]) {
        let tag = coswid::swid::SoftwareIdentity::parse(bytes).ok()?;
        return Some(SoftwareName {
            name: tag.name()?.to_owned(),
            version: tag.element.attr("version").map(str::to_owned),
        });
    }
    let cbor = if coswid::cose::is_signed(bytes) {
        coswid::cose::unverified_payload(bytes).ok()?
    } else {
        bytes.as_ref()
    };
    let tag = coswid::ConciseSwidTag::decode_lenient(cbor).ok()?.tag;
    Some(SoftwareName {
        name: tag.software_name.into_owned(),
        version: tag.software_version.map(|v| v.into_owned()),
    })
}

/// Turns what a SWIMA verifier holds for an endpoint into a recommendation.
pub trait SwimaPolicy: Send {
    /// `inventory` is the mirror; `synced` says whether it is complete (a full inventory
    /// arrived, and every event since).
    fn evaluate(&self, endpoint: &str, inventory: &Mirror, synced: bool) -> Verdict;
}

/// One deny rule: a product name (exact) and the versions that are denied (none listed:
/// every version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DenyRule {
    /// The name as the tag states it.
    pub name: String,
    /// Denied versions (exact); empty for all.
    pub versions: Vec<String>,
}

impl DenyRule {
    /// A rule denying `versions` of `name` (all if empty).
    pub fn new(name: &str, versions: &[&str]) -> Self {
        Self {
            name: name.to_owned(),
            versions: versions.iter().map(|v| (*v).to_owned()).collect(),
        }
    }

    /// Whether `name` at `version` is denied.
    pub fn matches(&self, name: &str, version: Option<&str>) -> bool {
        name == self.name
            && (self.versions.is_empty()
                || version.is_some_and(|v| self.versions.iter().any(|d| d == v)))
    }
}

/// The default policy: allow and compliant once the inventory arrived, no access and
/// non-compliant (major) when a record matches a [`DenyRule`]; no recommendation while no
/// complete inventory is known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DenyList {
    /// The rules.
    pub rules: Vec<DenyRule>,
}

impl DenyList {
    /// A policy with these rules.
    pub fn new(rules: Vec<DenyRule>) -> Self {
        Self { rules }
    }
}

impl SwimaPolicy for DenyList {
    fn evaluate(&self, _endpoint: &str, inventory: &Mirror, synced: bool) -> Verdict {
        if !synced {
            return Verdict::with(
                ActionRecommendation::NoRecommendation,
                EvaluationResult::DontKnow,
                "the software inventory could not be read",
            );
        }
        if !self.rules.is_empty() {
            for r in inventory {
                let Some(n) = r.record.and_then(tag_name) else {
                    continue;
                };
                if self
                    .rules
                    .iter()
                    .any(|rule| rule.matches(&n.name, n.version.as_deref()))
                {
                    return Verdict::with(
                        ActionRecommendation::NoAccess,
                        EvaluationResult::NonCompliantMajor,
                        format!(
                            "forbidden software installed: {} {}",
                            n.name,
                            n.version.as_deref().unwrap_or("")
                        )
                        .trim_end(),
                    );
                }
            }
        }
        Verdict::allow()
    }
}
