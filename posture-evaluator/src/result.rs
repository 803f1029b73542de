//! Evaluation results: per rule (a finding, with its evidence) and overall.

use posture_repository::UnixTime;
use posture_repository::events::StoredEvent;
use posture_repository::guidance::StoredEvaluation;
use serde::{Deserialize, Serialize};
use tnc_if::{ActionRecommendation, EvaluationResult};

use crate::error::EvalError;
use crate::guidance::{Recommendation, Severity};

/// What made a rule match an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Evidence {
    /// An installed software record.
    Software {
        /// Software identifier of the record.
        software_identifier: String,
        /// Its Source Identification Number (RFC 8412 §5.7).
        source_id: u8,
        /// Name the tag held for it gives.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// Version the tag gives.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        version: Option<String>,
        /// Tag creator name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        vendor: Option<String>,
    },
    /// An OS attribute value.
    OsAttribute {
        /// Attribute name.
        name: String,
        /// Its value.
        value: String,
    },
    /// The endpoint was last seen too long ago.
    Stale {
        /// When it was last seen (seconds since the Unix epoch).
        last_seen: i64,
    },
}

impl Evidence {
    pub(crate) fn software_identifier(&self) -> Option<&str> {
        match self {
            Self::Software {
                software_identifier,
                ..
            } => Some(software_identifier),
            _ => None,
        }
    }
}

/// One rule that matched an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    /// The rule.
    pub rule_id: String,
    /// The guidance revision of the rule that matched (its text: `rule_history`).
    pub rule_revision: i64,
    /// The rule's severity.
    pub severity: Severity,
    /// The rule's recommendation.
    pub recommendation: Recommendation,
    /// What matched, sorted.
    pub evidence: Vec<Evidence>,
}

/// The overall result: the findings combined with `tnc_if::combine` (most restrictive wins;
/// an endpoint without findings is ALLOW / COMPLIANT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Outcome {
    /// Action recommendation.
    pub recommendation: ActionRecommendation,
    /// Evaluation result.
    pub result: EvaluationResult,
}

/// An endpoint's evaluation: overall and per rule, with the evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// The endpoint.
    pub endpoint: String,
    /// Stored id (`None` when computed and not stored).
    pub id: Option<i64>,
    /// When it was computed.
    pub at: UnixTime,
    /// The newest guidance revision it reflects.
    pub guidance_revision: i64,
    /// Overall.
    pub outcome: Outcome,
    /// Rules that matched, by rule id; rules not listed found nothing.
    pub findings: Vec<Finding>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Detail {
    pub(crate) findings: Vec<Finding>,
}

impl Evaluation {
    /// Reads a stored evaluation.
    pub fn from_stored(s: StoredEvaluation) -> Result<Self, EvalError> {
        let detail: Detail = serde_json::from_value(s.detail)
            .map_err(|_| EvalError::Corrupt("evaluation detail"))?;
        Ok(Self {
            endpoint: s.endpoint,
            id: Some(s.id),
            at: s.at,
            guidance_revision: s.guidance_revision,
            outcome: Outcome {
                recommendation: ActionRecommendation::try_from(u64::from(s.recommendation))
                    .map_err(|_| EvalError::Corrupt("evaluation recommendation"))?,
                result: EvaluationResult::try_from(u64::from(s.result))
                    .map_err(|_| EvalError::Corrupt("evaluation result"))?,
            },
            findings: detail.findings,
        })
    }

    /// The finding of a rule, if it matched.
    pub fn finding(&self, rule_id: &str) -> Option<&Finding> {
        self.findings.iter().find(|f| f.rule_id == rule_id)
    }
}

/// A stored change of an endpoint's evaluation.
///
/// When [`recommendation_changed`](Self::recommendation_changed) is true and the endpoint is
/// connected, the manager re-assesses it (profile §2.2.4: the broker's retry for the
/// connection, `TNC_RETRY_REASON_IMV_IMPORTANT_POLICY_CHANGE` for guidance changes,
/// `…_SERIOUS_EVENT` for posture changes), so the network learns the new decision.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultChange {
    /// The endpoint.
    pub endpoint: String,
    /// The stored evaluation's id.
    pub evaluation_id: i64,
    /// Overall before (`None`: first evaluation).
    pub before: Option<Outcome>,
    /// Overall now.
    pub after: Outcome,
    /// The events appended to the repository's event log with the evaluation, in its
    /// transaction (made by the evaluator's [`Publisher`](crate::Publisher); none without one).
    pub events: Vec<StoredEvent>,
}

impl ResultChange {
    /// Whether the access recommendation changed (a first evaluation counts as changed unless
    /// it is ALLOW).
    pub fn recommendation_changed(&self) -> bool {
        match self.before {
            Some(b) => b.recommendation != self.after.recommendation,
            None => self.after.recommendation != ActionRecommendation::Allow,
        }
    }
}
