//! What the evaluator (profile §2.1.4, crate `posture-evaluator`) keeps in the repository:
//! versioned guidance, endpoints' OS attributes, and evaluation results with their history.
//!
//! The repository stores guidance rules and evaluation details as JSON documents it does not
//! interpret (their typed form is the evaluator's); it provides the indexed look-ups that make
//! evaluation incremental: software by name / vendor / identifier / tag id, the endpoints that
//! hold given software, the endpoints with an OS attribute value, the endpoints last seen
//! before a time, and the endpoints with a current finding of a rule.
//!
//! Everything here is behind the [`EvaluationStore`] trait, separate from
//! [`Repository`](crate::Repository) so that a backend implements it on its own.

use crate::error::Result;
use crate::events::{NewEvent, StoredEvent};
use crate::model::{InstalledSoftware, Page, SoftwareMeta, UnixTime};

/// One stored change of a guidance rule (the rule's version history; never edited).
#[derive(Debug, Clone, PartialEq)]
pub struct GuidanceChange {
    /// Guidance revision: repository-wide, increasing by one per change (1, 2, …).
    pub revision: i64,
    /// The rule changed.
    pub rule_id: String,
    /// When.
    pub at: UnixTime,
    /// Who: the API token id or user.
    pub author: String,
    /// The rule as JSON after the change; `None` when the rule was removed.
    pub rule: Option<serde_json::Value>,
}

/// A guidance change to record ([`EvaluationStore::append_guidance`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NewGuidanceChange {
    /// The rule changed.
    pub rule_id: String,
    /// When.
    pub at: UnixTime,
    /// Who.
    pub author: String,
    /// The rule as JSON, `None` to remove it.
    pub rule: Option<serde_json::Value>,
}

/// An indexed key to look software up by ([`EvaluationStore::software_candidates`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SoftwareKey {
    /// Software identifier, exact.
    Identifier(String),
    /// Tag id: the software identifier is the tag id itself or ends with `__` and it
    /// (`regid__tagId`, RFC 8412 §5.4). The look-up may return a superset (ASCII case
    /// folded); the caller checks exactly.
    TagId(String),
    /// Software name, ASCII case-insensitive.
    Name(String),
    /// Tag creator name or regid, ASCII case-insensitive.
    Vendor(String),
}

/// A software identifier and what its tag says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoftwareEntry {
    /// Software identifier.
    pub software_identifier: String,
    /// Name, version, vendor (empty until a tag is held).
    pub meta: SoftwareMeta,
}

/// An endpoint's OS attribute as the evaluator reads it (e.g. `forwarding` = `enabled`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointAttribute {
    /// Attribute name.
    pub name: String,
    /// Its value as text.
    pub value: String,
    /// When it was reported.
    pub at: UnixTime,
}

/// An evaluation result to store ([`EvaluationStore::store_evaluation`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvaluation {
    /// The endpoint.
    pub endpoint: String,
    /// When it was computed.
    pub at: UnixTime,
    /// The newest guidance revision it reflects.
    pub guidance_revision: i64,
    /// Overall action recommendation (`TNC_IMV_Action_Recommendation` code).
    pub recommendation: u32,
    /// Overall evaluation result (`TNC_IMV_Evaluation_Result` code).
    pub result: u32,
    /// Ids of the rules with a finding (kept as the index of current findings).
    pub findings: Vec<String>,
    /// The evaluator's per-rule results and evidence.
    pub detail: serde_json::Value,
    /// The id of the endpoint's latest evaluation this one follows (`None`: the first). If
    /// another writer stored one since, nothing is stored ([`StoreOutcome::Conflict`]).
    pub previous: Option<i64>,
}

/// What [`EvaluationStore::store_evaluation_publishing`] appends to the event log: the
/// events made of the stored evaluation's id.
pub type PublishEvaluation<'a> = dyn Fn(i64) -> Vec<NewEvent> + Sync + 'a;

/// A stored evaluation result.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvaluation {
    /// Id (repository-wide, increasing).
    pub id: i64,
    /// The endpoint.
    pub endpoint: String,
    /// When it was computed.
    pub at: UnixTime,
    /// The newest guidance revision it reflects.
    pub guidance_revision: i64,
    /// Overall action recommendation code.
    pub recommendation: u32,
    /// Overall evaluation result code.
    pub result: u32,
    /// Per-rule results and evidence.
    pub detail: serde_json::Value,
}

/// What [`EvaluationStore::store_evaluation`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOutcome {
    /// Stored with this id.
    Stored(i64),
    /// Another evaluation of the endpoint was stored after `previous`: read it and retry.
    Conflict,
}

/// The evaluator's storage: versioned guidance, OS attributes, evaluation results with
/// history, and the indexed look-ups of incremental evaluation. Each writing method is one
/// transaction. History tables (guidance changes, evaluations) are append-only.
pub trait EvaluationStore: Send + Sync {
    // -- guidance --

    /// Records a guidance change; returns it with its revision.
    fn append_guidance(&self, change: &NewGuidanceChange) -> Result<GuidanceChange>;
    /// The newest guidance revision (0 before any change).
    fn guidance_revision(&self) -> Result<i64>;
    /// Guidance changes with a revision above `after`, oldest first (to load or refresh).
    fn guidance_changes(&self, after: i64, page: Page) -> Result<Vec<GuidanceChange>>;
    /// One rule's changes, oldest first.
    fn rule_history(&self, rule_id: &str, page: Page) -> Result<Vec<GuidanceChange>>;

    // -- software look-ups --

    /// Software identifiers (with metadata) matching an indexed key; the caller applies the
    /// rest of its rule. Reads the software catalogue, never the per-endpoint rows.
    fn software_candidates(&self, key: &SoftwareKey) -> Result<Vec<SoftwareEntry>>;
    /// Every `(endpoint, installed row)` of these software identifiers, by endpoint.
    fn installed_with(
        &self,
        software_identifiers: &[String],
    ) -> Result<Vec<(String, InstalledSoftware)>>;
    /// The endpoint's installed rows of these software identifiers (none: not installed now).
    fn installed_subset(
        &self,
        endpoint: &str,
        software_identifiers: &[String],
    ) -> Result<Vec<InstalledSoftware>>;

    // -- OS attributes and last-seen --

    /// Sets the endpoint's OS attributes (replacing those of the same names).
    fn set_attributes(&self, endpoint: &str, attributes: &[EndpointAttribute]) -> Result<()>;
    /// The endpoint's OS attributes, by name.
    fn attributes(&self, endpoint: &str) -> Result<Vec<EndpointAttribute>>;
    /// Endpoints whose attribute `name` has the value `value` (ASCII case-insensitive).
    fn endpoints_with_attribute(&self, name: &str, value: &str, page: Page) -> Result<Vec<String>>;
    /// Endpoints last seen at or after `from` and before `to`, by identifier.
    fn endpoints_last_seen(&self, from: UnixTime, to: UnixTime, page: Page) -> Result<Vec<String>>;

    // -- evaluation results --

    /// Appends an evaluation and makes it the endpoint's current one (also its findings).
    fn store_evaluation(&self, evaluation: &NewEvaluation) -> Result<StoreOutcome> {
        // Without events: publishing nothing.
        self.store_evaluation_publishing(evaluation, &|_| Vec::new())
            .map(|(outcome, _)| outcome)
    }
    /// [`store_evaluation`](Self::store_evaluation), and in the same transaction appends to
    /// the event log the events `publish` makes of the stored evaluation's id: an evaluation
    /// is never committed without the events that announce it (nor the events without it).
    /// A [`StoreOutcome::Conflict`] stores nothing and publishes nothing.
    fn store_evaluation_publishing(
        &self,
        evaluation: &NewEvaluation,
        publish: &PublishEvaluation<'_>,
    ) -> Result<(StoreOutcome, Vec<StoredEvent>)>;
    /// The endpoint's evaluation now (`as_of: None`) or in force at a time: the latest
    /// computed at or before it. This is "the state of endpoint E at time T and why".
    fn evaluation(
        &self,
        endpoint: &str,
        as_of: Option<UnixTime>,
    ) -> Result<Option<StoredEvaluation>>;
    /// The endpoint's evaluations, newest first.
    fn evaluations(&self, endpoint: &str, page: Page) -> Result<Vec<StoredEvaluation>>;
    /// Endpoints whose current evaluation has a finding of the rule, by identifier.
    fn endpoints_with_finding(&self, rule_id: &str, page: Page) -> Result<Vec<String>>;
}

/// For the tag-id look-up of both backends: `%` and `_` are LIKE wildcards: escape them (and the escape character).
pub(crate) fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for ch in s.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// Migration 4 (SQLite): the evaluator's tables.
pub(crate) const V4_SQLITE: &str = "
CREATE TABLE guidance_change (
    revision INTEGER PRIMARY KEY,
    rule_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    author TEXT NOT NULL,
    rule TEXT
);
CREATE INDEX guidance_change_rule ON guidance_change(rule_id, revision);
CREATE TABLE endpoint_attribute (
    endpoint_id INTEGER NOT NULL REFERENCES endpoint(id),
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (endpoint_id, name)
) WITHOUT ROWID;
CREATE INDEX endpoint_attribute_value ON endpoint_attribute(name, value COLLATE NOCASE, endpoint_id);
CREATE INDEX endpoint_last_seen ON endpoint(last_seen);
CREATE TABLE evaluation (
    id INTEGER PRIMARY KEY,
    endpoint_id INTEGER NOT NULL REFERENCES endpoint(id),
    at INTEGER NOT NULL,
    guidance_revision INTEGER NOT NULL,
    recommendation INTEGER NOT NULL,
    result INTEGER NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX evaluation_endpoint ON evaluation(endpoint_id, at, id);
CREATE TABLE finding (
    rule_id TEXT NOT NULL,
    endpoint_id INTEGER NOT NULL REFERENCES endpoint(id),
    PRIMARY KEY (rule_id, endpoint_id)
) WITHOUT ROWID;
CREATE INDEX finding_endpoint ON finding(endpoint_id);
CREATE TRIGGER guidance_change_no_update BEFORE UPDATE ON guidance_change
    BEGIN SELECT RAISE(ABORT, 'guidance history is append-only'); END;
CREATE TRIGGER guidance_change_no_delete BEFORE DELETE ON guidance_change
    BEGIN SELECT RAISE(ABORT, 'guidance history is append-only'); END;
CREATE TRIGGER evaluation_no_update BEFORE UPDATE ON evaluation
    BEGIN SELECT RAISE(ABORT, 'evaluation history is append-only'); END;
CREATE TRIGGER evaluation_no_delete BEFORE DELETE ON evaluation
    BEGIN SELECT RAISE(ABORT, 'evaluation history is append-only'); END;
";

/// Migration 4 (PostgreSQL): the same tables. The guidance revision is given by the writer
/// (the next one under a lock, so revisions have no gaps), not by a sequence.
pub(crate) const V4_POSTGRES: &str = r#"
CREATE TABLE guidance_change (
    revision BIGINT PRIMARY KEY,
    rule_id TEXT COLLATE "C" NOT NULL,
    at BIGINT NOT NULL,
    author TEXT COLLATE "C" NOT NULL,
    rule TEXT
);
CREATE INDEX guidance_change_rule ON guidance_change(rule_id, revision);
CREATE TABLE endpoint_attribute (
    endpoint_id BIGINT NOT NULL REFERENCES endpoint(id),
    name TEXT COLLATE "C" NOT NULL,
    value TEXT COLLATE "C" NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (endpoint_id, name)
);
CREATE INDEX endpoint_attribute_value ON endpoint_attribute(name, lower(value), endpoint_id);
CREATE INDEX endpoint_last_seen ON endpoint(last_seen);
CREATE TABLE evaluation (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    endpoint_id BIGINT NOT NULL REFERENCES endpoint(id),
    at BIGINT NOT NULL,
    guidance_revision BIGINT NOT NULL,
    recommendation BIGINT NOT NULL,
    result BIGINT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX evaluation_endpoint ON evaluation(endpoint_id, at, id);
CREATE TABLE finding (
    rule_id TEXT COLLATE "C" NOT NULL,
    endpoint_id BIGINT NOT NULL REFERENCES endpoint(id),
    PRIMARY KEY (rule_id, endpoint_id)
);
CREATE INDEX finding_endpoint ON finding(endpoint_id);
CREATE TRIGGER guidance_change_no_update BEFORE UPDATE OR DELETE ON guidance_change
    FOR EACH ROW EXECUTE FUNCTION nea_append_only();
CREATE TRIGGER guidance_change_no_truncate BEFORE TRUNCATE ON guidance_change
    FOR EACH STATEMENT EXECUTE FUNCTION nea_append_only();
CREATE TRIGGER evaluation_no_update BEFORE UPDATE OR DELETE ON evaluation
    FOR EACH ROW EXECUTE FUNCTION nea_append_only();
CREATE TRIGGER evaluation_no_truncate BEFORE TRUNCATE ON evaluation
    FOR EACH STATEMENT EXECUTE FUNCTION nea_append_only();
"#;
