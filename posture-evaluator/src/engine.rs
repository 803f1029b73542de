//! The evaluator: full and incremental evaluation, guidance changes, stored results.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use posture_repository::events::NewEvent;
use posture_repository::guidance::{
    EndpointAttribute, GuidanceChange, NewEvaluation, NewGuidanceChange, StoreOutcome,
};
use posture_repository::{EvaluationStore, InstalledSoftware, Page, Repository, UnixTime};
use tnc_if::{ActionRecommendation, EvaluationResult, RecommendationPolicy};

use crate::error::EvalError;
use crate::guidance::{Condition, Rule};
use crate::index::{ActiveRule, RuleIndex};
use crate::result::{Detail, Evaluation, Evidence, Finding, Outcome, ResultChange};

/// What the evaluator needs of a repository: the [`Repository`] queries and the
/// [`EvaluationStore`] tables. Implemented for every type that has both.
pub trait Store: Repository + EvaluationStore {}
impl<T: Repository + EvaluationStore + ?Sized> Store for T {}

/// Attempts of one evaluation when other writers keep storing evaluations of the endpoint.
const RETRIES: usize = 4;
/// Identifiers per [`EvaluationStore::installed_with`] call.
const LOOKUP_CHUNK: usize = 10_000;

/// What a guidance change stored and which endpoints' results it changed.
#[derive(Debug, Clone, PartialEq)]
pub struct GuidanceUpdate {
    /// The stored change (its revision, time, author, rule).
    pub change: GuidanceChange,
    /// Every endpoint whose stored evaluation changed.
    pub results: Vec<ResultChange>,
}

/// The evaluator (profile §2.1.4): holds the guidance in force, indexed, and evaluates
/// endpoints against it, storing each changed result in the repository with its history.
///
/// Every method takes the repository as an argument and the time as `now`: it opens no
/// socket and reads no clock. Calls are serialised inside one `Evaluator` (one evaluation of
/// an endpoint at a time); several processes sharing a repository are safe too: a store that
/// races another writer's is retried on the new state, and each call first loads guidance
/// changes other processes made ([`refresh`](Self::refresh)).
#[derive(Default)]
pub struct Evaluator {
    index: RwLock<RuleIndex>,
    serial: Mutex<()>,
    publisher: Option<Arc<Publisher>>,
}

/// What an evaluator announces of each result it stores: the events to append to the
/// repository's event log in the same transaction as the result
/// ([`EvaluationStore::store_evaluation_publishing`]), e.g. an `evaluation-result` event for
/// subscribers. It is given the change as stored (its [`events`](ResultChange::events) still
/// empty).
pub type Publisher = dyn Fn(&ResultChange) -> Vec<NewEvent> + Send + Sync;

impl std::fmt::Debug for Evaluator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evaluator")
            .field("index", &self.index)
            .field("publishing", &self.publisher.is_some())
            .finish_non_exhaustive()
    }
}

impl Evaluator {
    /// Loads the guidance in force from the repository.
    pub fn load<R: Store + ?Sized>(repo: &R) -> Result<Self, EvalError> {
        let e = Self::default();
        e.refresh(repo)?;
        Ok(e)
    }

    /// Announces every result this evaluator stores with the events `publisher` makes of it,
    /// appended in the result's own transaction: a crash can never keep a stored result and
    /// lose its announcement. Each [`ResultChange`] returned then carries its stored events.
    ///
    /// ```
    /// use posture_evaluator::Evaluator;
    /// use posture_repository::events::{EventKind, NewEvent, Severity};
    ///
    /// let evaluator = Evaluator::default().with_publisher(|change| {
    ///     vec![NewEvent {
    ///         at: posture_repository::UnixTime(0),
    ///         kind: EventKind::EvaluationResult,
    ///         endpoint: Some(change.endpoint.clone()),
    ///         device: None,
    ///         severity: Severity::Info,
    ///         payload: serde_json::json!({ "evaluation_id": change.evaluation_id }),
    ///     }]
    /// });
    /// # let _ = evaluator;
    /// ```
    pub fn with_publisher(
        mut self,
        publisher: impl Fn(&ResultChange) -> Vec<NewEvent> + Send + Sync + 'static,
    ) -> Self {
        self.publisher = Some(Arc::new(publisher));
        self
    }

    fn serial(&self) -> MutexGuard<'_, ()> {
        self.serial.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, RuleIndex> {
        self.index.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies guidance changes stored since the last load (by any process); returns whether
    /// there were any. The `on_*` methods call it first.
    pub fn refresh<R: Store + ?Sized>(&self, repo: &R) -> Result<bool, EvalError> {
        let mut after = self.read().revision;
        if repo.guidance_revision()? <= after {
            return Ok(false);
        }
        let max = repo.limits().max_page.max(1);
        let mut index = self.index.write().unwrap_or_else(PoisonError::into_inner);
        loop {
            let changes = repo.guidance_changes(after, Page::first(max))?;
            let n = changes.len();
            for c in changes {
                let rule = c.rule.map(Rule::from_value).transpose().map_err(|source| {
                    EvalError::StoredRule {
                        revision: c.revision,
                        source,
                    }
                })?;
                index.apply(&c.rule_id, rule, c.revision);
                after = c.revision;
            }
            if n < max as usize {
                return Ok(true);
            }
        }
    }

    /// The newest guidance revision applied.
    pub fn revision(&self) -> i64 {
        self.read().revision
    }

    /// Whether no rule is in force (as of the last load or [`refresh`](Self::refresh)): every
    /// endpoint is then allowed and compliant.
    pub fn is_empty(&self) -> bool {
        self.read().rules.is_empty()
    }

    /// The rules in force, by id.
    pub fn rules(&self) -> Vec<ActiveRule> {
        self.read().rules.values().map(|r| (**r).clone()).collect()
    }

    // -- guidance changes --

    /// Adds or replaces a rule (stored as a new guidance revision by `author`, e.g. the API
    /// token id), then re-evaluates every affected endpoint: those with a finding of the old
    /// rule and those the new rule matches, found through the repository's indexes (never a
    /// walk over all endpoints).
    pub fn put_rule<R: Store + ?Sized>(
        &self,
        repo: &R,
        rule: Rule,
        author: &str,
        now: UnixTime,
    ) -> Result<GuidanceUpdate, EvalError> {
        let _serial = self.serial();
        self.refresh(repo)?;
        let change = repo.append_guidance(&NewGuidanceChange {
            rule_id: rule.id.clone(),
            at: now,
            author: author.to_owned(),
            rule: Some(rule.to_json()),
        })?;
        let results =
            self.with_index(repo, |idx| self.reevaluate_rule(repo, idx, &rule.id, now))?;
        Ok(GuidanceUpdate { change, results })
    }

    /// Removes a rule (a new guidance revision) and re-evaluates the endpoints that had a
    /// finding of it.
    pub fn remove_rule<R: Store + ?Sized>(
        &self,
        repo: &R,
        rule_id: &str,
        author: &str,
        now: UnixTime,
    ) -> Result<GuidanceUpdate, EvalError> {
        let _serial = self.serial();
        self.refresh(repo)?;
        if !self.read().rules.contains_key(rule_id) {
            return Err(EvalError::UnknownRule(rule_id.to_owned()));
        }
        let change = repo.append_guidance(&NewGuidanceChange {
            rule_id: rule_id.to_owned(),
            at: now,
            author: author.to_owned(),
            rule: None,
        })?;
        let results = self.with_index(repo, |idx| self.reevaluate_rule(repo, idx, rule_id, now))?;
        Ok(GuidanceUpdate { change, results })
    }

    fn reevaluate_rule<R: Store + ?Sized>(
        &self,
        repo: &R,
        idx: &RuleIndex,
        rule_id: &str,
        now: UnixTime,
    ) -> Result<Vec<ResultChange>, EvalError> {
        let max = repo.limits().max_page.max(1);
        let active = idx.rules.get(rule_id).cloned();
        // Endpoint → this rule's software evidence on it.
        let mut affected: BTreeMap<String, Vec<Evidence>> = BTreeMap::new();
        for ep in all_pages(max, |p| repo.endpoints_with_finding(rule_id, p))? {
            affected.entry(ep).or_default();
        }
        if let Some(a) = &active {
            match &a.rule.when {
                Condition::Software(m) => {
                    let ids: Vec<String> = repo
                        .software_candidates(&m.key())?
                        .into_iter()
                        .filter(|c| m.matches(&c.software_identifier, &c.meta))
                        .map(|c| c.software_identifier)
                        .collect();
                    for chunk in ids.chunks(LOOKUP_CHUNK) {
                        for (ep, row) in repo.installed_with(chunk)? {
                            affected.entry(ep).or_default().push(evidence(&row));
                        }
                    }
                }
                Condition::OsAttribute { name, equals } => {
                    for ep in all_pages(max, |p| repo.endpoints_with_attribute(name, equals, p))? {
                        affected.entry(ep).or_default();
                    }
                }
                Condition::Stale { hours } => {
                    let to = stale_bound(now, *hours).saturating_add(1);
                    for ep in all_pages(max, |p| {
                        repo.endpoints_last_seen(UnixTime(i64::MIN), UnixTime(to), p)
                    })? {
                        affected.entry(ep).or_default();
                    }
                }
            }
        }
        let mut out = Vec::new();
        for (ep, mut ev) in affected {
            ev.sort();
            ev.dedup();
            let edit = |f: &mut BTreeMap<String, Finding>| -> Result<(), EvalError> {
                f.remove(rule_id);
                if let Some(a) = &active
                    && matches!(a.rule.when, Condition::Software(_))
                    && !ev.is_empty()
                {
                    let mut finding = new_finding(a);
                    finding.evidence.clone_from(&ev);
                    f.insert(rule_id.to_owned(), finding);
                }
                Ok(())
            };
            out.extend(self.update(repo, idx, &ep, now, Some(rule_id), Mode::Edit(&edit))?);
        }
        Ok(out)
    }

    // -- posture changes --

    /// The endpoint's software changed: `software_identifiers` are those whose records were
    /// installed, removed or altered (an ingested SWIMA event batch) or whose tag metadata
    /// arrived. Only those records are checked, each against its candidate rules; the other
    /// findings are kept. Returns the change of the stored evaluation, if any.
    ///
    /// After a full inventory (a resync) call [`evaluate_endpoint`](Self::evaluate_endpoint).
    pub fn on_software_changes<R: Store + ?Sized>(
        &self,
        repo: &R,
        endpoint: &str,
        software_identifiers: &[String],
        now: UnixTime,
    ) -> Result<Option<ResultChange>, EvalError> {
        let _serial = self.serial();
        self.with_index(repo, |idx| {
            Ok(Vec::from_iter(self.software_update(
                repo,
                idx,
                endpoint,
                software_identifiers,
                now,
            )?))
        })
        .map(|mut v| v.pop())
    }

    /// Software metadata changed (tags stored or imported gave these software identifiers a
    /// name, version or vendor, or a trusted import replaced them): re-evaluates those records
    /// on every endpoint holding them (found by the installed-by-software index).
    pub fn on_metadata_change<R: Store + ?Sized>(
        &self,
        repo: &R,
        software_identifiers: &[String],
        now: UnixTime,
    ) -> Result<Vec<ResultChange>, EvalError> {
        let _serial = self.serial();
        let mut holders = std::collections::BTreeSet::new();
        for chunk in software_identifiers.chunks(LOOKUP_CHUNK) {
            holders.extend(repo.installed_with(chunk)?.into_iter().map(|(ep, _)| ep));
        }
        self.with_index(repo, |idx| {
            let mut out = Vec::new();
            for ep in &holders {
                out.extend(self.software_update(repo, idx, ep, software_identifiers, now)?);
            }
            Ok(out)
        })
    }

    fn software_update<R: Store + ?Sized>(
        &self,
        repo: &R,
        idx: &RuleIndex,
        endpoint: &str,
        software_identifiers: &[String],
        now: UnixTime,
    ) -> Result<Option<ResultChange>, EvalError> {
        let changed: HashSet<&str> = software_identifiers.iter().map(String::as_str).collect();
        let edit = |f: &mut BTreeMap<String, Finding>| -> Result<(), EvalError> {
            for finding in f.values_mut() {
                finding
                    .evidence
                    .retain(|e| e.software_identifier().is_none_or(|s| !changed.contains(s)));
            }
            if idx.has_software_rules() {
                for chunk in software_identifiers.chunks(LOOKUP_CHUNK) {
                    for row in repo.installed_subset(endpoint, chunk)? {
                        add_software(idx, f, &row);
                    }
                }
            }
            Ok(())
        };
        self.update(repo, idx, endpoint, now, None, Mode::Edit(&edit))
    }

    /// Stores the endpoint's OS attributes (e.g. [`attributes::FORWARDING`](crate::attributes)
    /// = `enabled`) and re-evaluates its attribute and staleness rules.
    pub fn on_attributes<R: Store + ?Sized>(
        &self,
        repo: &R,
        endpoint: &str,
        attributes: &[(String, String)],
        now: UnixTime,
    ) -> Result<Option<ResultChange>, EvalError> {
        let attrs: Vec<EndpointAttribute> = attributes
            .iter()
            .map(|(name, value)| EndpointAttribute {
                name: name.clone(),
                value: value.clone(),
                at: now,
            })
            .collect();
        repo.set_attributes(endpoint, &attrs)?;
        self.on_seen(repo, endpoint, now)
    }

    /// The endpoint was seen (a session started: its last-seen time moved): re-evaluates its
    /// staleness and attribute rules.
    pub fn on_seen<R: Store + ?Sized>(
        &self,
        repo: &R,
        endpoint: &str,
        now: UnixTime,
    ) -> Result<Option<ResultChange>, EvalError> {
        self.one(repo, endpoint, now, false)
    }

    /// Time passed from `since` to `now` (call it periodically, e.g. each minute, with the
    /// previous call's `now`): re-evaluates the endpoints that became stale under a staleness
    /// rule in that interval (found by the last-seen index).
    pub fn on_time<R: Store + ?Sized>(
        &self,
        repo: &R,
        since: UnixTime,
        now: UnixTime,
    ) -> Result<Vec<ResultChange>, EvalError> {
        let _serial = self.serial();
        self.with_index(repo, |idx| self.stale_since(repo, idx, since, now))
    }

    fn stale_since<R: Store + ?Sized>(
        &self,
        repo: &R,
        idx: &RuleIndex,
        since: UnixTime,
        now: UnixTime,
    ) -> Result<Vec<ResultChange>, EvalError> {
        let max = repo.limits().max_page.max(1);
        let mut eps = std::collections::BTreeSet::new();
        for r in idx.endpoint_rules() {
            if let Condition::Stale { hours } = r.rule.when {
                let from = stale_bound(since, hours).saturating_add(1);
                let to = stale_bound(now, hours).saturating_add(1);
                eps.extend(all_pages(max, |p| {
                    repo.endpoints_last_seen(UnixTime(from), UnixTime(to), p)
                })?);
            }
        }
        let mut out = Vec::new();
        for ep in eps {
            out.extend(self.update(repo, idx, &ep, now, None, Mode::Edit(&|_| Ok(())))?);
        }
        Ok(out)
    }

    /// Evaluates the endpoint from scratch (every installed record) and stores the result if
    /// it changed. Use after a full inventory; costs the endpoint's record count.
    pub fn evaluate_endpoint<R: Store + ?Sized>(
        &self,
        repo: &R,
        endpoint: &str,
        now: UnixTime,
    ) -> Result<Option<ResultChange>, EvalError> {
        self.one(repo, endpoint, now, true)
    }

    /// Re-evaluates one endpoint: from scratch, or its endpoint rules only.
    fn one<R: Store + ?Sized>(
        &self,
        repo: &R,
        endpoint: &str,
        now: UnixTime,
        from_scratch: bool,
    ) -> Result<Option<ResultChange>, EvalError> {
        let _serial = self.serial();
        let keep = |_: &mut BTreeMap<String, Finding>| Ok(());
        self.with_index(repo, |idx| {
            let mode = if from_scratch {
                Mode::Full
            } else {
                Mode::Edit(&keep)
            };
            Ok(Vec::from_iter(
                self.update(repo, idx, endpoint, now, None, mode)?,
            ))
        })
        .map(|mut v| v.pop())
    }

    /// Evaluates the endpoint from scratch without storing anything (a what-if, or a check
    /// of the stored result).
    pub fn compute<R: Store + ?Sized>(
        &self,
        repo: &R,
        endpoint: &str,
        now: UnixTime,
    ) -> Result<Evaluation, EvalError> {
        let idx = self.read();
        let findings: Vec<Finding> = full(repo, &idx, endpoint, now)?
            .into_values()
            .filter(|f| !f.evidence.is_empty())
            .collect();
        Ok(Evaluation {
            endpoint: endpoint.to_owned(),
            id: None,
            at: now,
            guidance_revision: idx.revision,
            outcome: outcome(&findings),
            findings,
        })
    }

    // -- stored results --

    /// The endpoint's stored evaluation now.
    pub fn current<R: Store + ?Sized>(
        repo: &R,
        endpoint: &str,
    ) -> Result<Option<Evaluation>, EvalError> {
        Self::state_at(repo, endpoint, None)
    }

    /// "What was the state of endpoint E at time T and why": the evaluation in force at `at`
    /// (`None`: now), with its findings and evidence; each finding names the guidance
    /// revision of its rule (`EvaluationStore::rule_history` gives the rule's text).
    pub fn state_at<R: Store + ?Sized>(
        repo: &R,
        endpoint: &str,
        at: Option<UnixTime>,
    ) -> Result<Option<Evaluation>, EvalError> {
        repo.evaluation(endpoint, at)?
            .map(Evaluation::from_stored)
            .transpose()
    }

    /// The endpoint's evaluation history, newest first.
    pub fn history<R: Store + ?Sized>(
        repo: &R,
        endpoint: &str,
        page: Page,
    ) -> Result<Vec<Evaluation>, EvalError> {
        repo.evaluations(endpoint, page)?
            .into_iter()
            .map(Evaluation::from_stored)
            .collect()
    }

    /// Runs an evaluation step under the guidance in force, loaded fresh. If guidance changed
    /// meanwhile (another process stored a rule: an evaluation it wrote is newer than this
    /// index, or the revision moved during the step), loads it and runs the step again, so a
    /// rule added concurrently is never missed: either its writer's affected-endpoint query
    /// already sees this step's posture, or this step sees the rule. Changes of one endpoint
    /// over the runs are merged (first `before`, last `after`).
    fn with_index<R: Store + ?Sized>(
        &self,
        repo: &R,
        mut step: impl FnMut(&RuleIndex) -> Result<Vec<ResultChange>, EvalError>,
    ) -> Result<Vec<ResultChange>, EvalError> {
        let mut out: Vec<ResultChange> = Vec::new();
        for _ in 0..RETRIES {
            self.refresh(repo)?;
            let idx = self.read();
            match step(&idx) {
                Err(EvalError::StaleGuidance) => continue,
                Err(e) => return Err(e),
                Ok(changes) => {
                    for c in changes {
                        match out.iter_mut().find(|o| o.endpoint == c.endpoint) {
                            Some(o) => {
                                o.evaluation_id = c.evaluation_id;
                                o.after = c.after;
                            }
                            None => out.push(c),
                        }
                    }
                    if repo.guidance_revision()? <= idx.revision {
                        return Ok(out);
                    }
                }
            }
        }
        Err(EvalError::StaleGuidance)
    }

    /// Reads the endpoint's current evaluation, applies the change (or evaluates from scratch
    /// when the stored one cannot be extended), and stores the result if the findings
    /// changed. `changing` names the rule being re-evaluated (its old finding may be of an
    /// older revision).
    fn update<R: Store + ?Sized>(
        &self,
        repo: &R,
        idx: &RuleIndex,
        endpoint: &str,
        now: UnixTime,
        changing: Option<&str>,
        mode: Mode<'_>,
    ) -> Result<Option<ResultChange>, EvalError> {
        for _ in 0..RETRIES {
            let prev = repo
                .evaluation(endpoint, None)?
                .map(Evaluation::from_stored)
                .transpose()?;
            if prev
                .as_ref()
                .is_some_and(|p| p.guidance_revision > idx.revision)
            {
                // Written under guidance this index has not loaded yet.
                return Err(EvalError::StaleGuidance);
            }
            let mut findings = match (&prev, &mode) {
                (Some(p), Mode::Edit(edit)) if extends(p, idx, changing) => {
                    let mut f: BTreeMap<String, Finding> = p
                        .findings
                        .iter()
                        .map(|f| (f.rule_id.clone(), f.clone()))
                        .collect();
                    edit(&mut f)?;
                    endpoint_findings(repo, idx, endpoint, now, &mut f)?;
                    f
                }
                _ => full(repo, idx, endpoint, now)?,
            };
            for f in findings.values_mut() {
                f.evidence.sort();
                f.evidence.dedup();
            }
            let findings: Vec<Finding> = findings
                .into_values()
                .filter(|f| !f.evidence.is_empty())
                .collect();
            if prev.as_ref().is_some_and(|p| p.findings == findings) {
                return Ok(None);
            }
            let after = outcome(&findings);
            let detail = serde_json::to_value(Detail { findings })
                .map_err(|_| EvalError::Corrupt("evaluation detail"))?;
            let change = |evaluation_id| ResultChange {
                endpoint: endpoint.to_owned(),
                evaluation_id,
                before: prev.as_ref().map(|p| p.outcome),
                after,
                events: Vec::new(),
            };
            let publish = |id| {
                self.publisher
                    .as_ref()
                    .map_or_else(Vec::new, |p| p(&change(id)))
            };
            let stored = repo.store_evaluation_publishing(
                &NewEvaluation {
                    endpoint: endpoint.to_owned(),
                    at: now,
                    guidance_revision: idx.revision,
                    recommendation: after.recommendation.code(),
                    result: after.result.code(),
                    findings: detail_rule_ids(&detail),
                    detail,
                    previous: prev.as_ref().and_then(|p| p.id),
                },
                &publish,
            )?;
            match stored {
                (StoreOutcome::Stored(id), events) => {
                    tracing::debug!(endpoint, evaluation = id, ?after, "evaluation stored");
                    return Ok(Some(ResultChange {
                        events,
                        ..change(id)
                    }));
                }
                (StoreOutcome::Conflict, _) => continue,
            }
        }
        Err(EvalError::Conflict(endpoint.to_owned()))
    }
}

type Edit<'a> = dyn Fn(&mut BTreeMap<String, Finding>) -> Result<(), EvalError> + 'a;

enum Mode<'a> {
    /// Extend the stored evaluation with this edit (recomputing endpoint rules).
    Edit(&'a Edit<'a>),
    /// Evaluate from scratch.
    Full,
}

fn detail_rule_ids(detail: &serde_json::Value) -> Vec<String> {
    detail
        .get("findings")
        .and_then(|f| f.as_array())
        .into_iter()
        .flatten()
        .filter_map(|f| f.get("rule_id")?.as_str().map(str::to_owned))
        .collect()
}

/// Whether a stored evaluation can be extended under the guidance in force: each finding's
/// rule is still in force at the same revision (but `changing`, which the caller redoes).
fn extends(prev: &Evaluation, idx: &RuleIndex, changing: Option<&str>) -> bool {
    prev.guidance_revision <= idx.revision
        && prev.findings.iter().all(|f| {
            Some(f.rule_id.as_str()) == changing
                || idx
                    .rules
                    .get(&f.rule_id)
                    .is_some_and(|r| r.revision == f.rule_revision)
        })
}

/// The overall result: ALLOW / COMPLIANT without findings, else the findings combined, most
/// restrictive first (`tnc_if::combine`).
fn outcome(findings: &[Finding]) -> Outcome {
    let (recommendation, result) = if findings.is_empty() {
        (ActionRecommendation::Allow, EvaluationResult::Compliant)
    } else {
        tnc_if::combine(
            RecommendationPolicy::MostRestrictive,
            findings
                .iter()
                .map(|f| (f.recommendation.action(), f.severity.evaluation_result())),
        )
    };
    Outcome {
        recommendation,
        result,
    }
}

fn evidence(row: &InstalledSoftware) -> Evidence {
    Evidence::Software {
        software_identifier: row.software_identifier.clone(),
        source_id: row.source_id,
        name: row.meta.name.clone(),
        version: row.meta.version.clone(),
        vendor: row.meta.vendor.clone(),
    }
}

fn new_finding(a: &ActiveRule) -> Finding {
    Finding {
        rule_id: a.rule.id.clone(),
        rule_revision: a.revision,
        severity: a.rule.severity,
        recommendation: a.rule.recommendation,
        evidence: Vec::new(),
    }
}

fn add_software(idx: &RuleIndex, f: &mut BTreeMap<String, Finding>, row: &InstalledSoftware) {
    idx.matching(
        &row.software_identifier,
        &row.meta,
        |r: &Arc<ActiveRule>| {
            f.entry(r.rule.id.clone())
                .or_insert_with(|| new_finding(r))
                .evidence
                .push(evidence(row));
        },
    );
}

/// The last-seen time at or before which an endpoint is stale at `now`.
fn stale_bound(now: UnixTime, hours: u32) -> i64 {
    now.0.saturating_sub(i64::from(hours) * 3600)
}

/// Recomputes the endpoint rules (OS attributes, staleness) into `f`.
fn endpoint_findings<R: Store + ?Sized>(
    repo: &R,
    idx: &RuleIndex,
    endpoint: &str,
    now: UnixTime,
    f: &mut BTreeMap<String, Finding>,
) -> Result<(), EvalError> {
    let mut attrs: Option<Vec<EndpointAttribute>> = None;
    let mut last_seen: Option<UnixTime> = None;
    for r in idx.endpoint_rules() {
        f.remove(&r.rule.id);
        let ev = match &r.rule.when {
            Condition::OsAttribute { name, equals } => {
                if attrs.is_none() {
                    attrs = Some(repo.attributes(endpoint)?);
                }
                attrs
                    .iter()
                    .flatten()
                    .find(|a| &a.name == name && a.value.eq_ignore_ascii_case(equals))
                    .map(|a| Evidence::OsAttribute {
                        name: a.name.clone(),
                        value: a.value.clone(),
                    })
            }
            Condition::Stale { hours } => {
                let seen = match last_seen {
                    Some(t) => t,
                    None => {
                        let e = repo.endpoint(endpoint)?.ok_or_else(|| {
                            posture_repository::Error::UnknownEndpoint(endpoint.to_owned())
                        })?;
                        last_seen = Some(e.last_seen);
                        e.last_seen
                    }
                };
                Rule::stale_at(*hours, seen, now).then_some(Evidence::Stale { last_seen: seen.0 })
            }
            Condition::Software(_) => None,
        };
        if let Some(ev) = ev {
            let mut finding = new_finding(r);
            finding.evidence.push(ev);
            f.insert(r.rule.id.clone(), finding);
        }
    }
    Ok(())
}

/// Every finding of the endpoint, from scratch.
fn full<R: Store + ?Sized>(
    repo: &R,
    idx: &RuleIndex,
    endpoint: &str,
    now: UnixTime,
) -> Result<BTreeMap<String, Finding>, EvalError> {
    let mut f = BTreeMap::new();
    let max = repo.limits().max_page.max(1);
    let mut page = Page::first(max);
    // Without software rules no record can match: none is read.
    while idx.has_software_rules() {
        let rows = repo.installed(endpoint, page)?;
        for row in &rows {
            add_software(idx, &mut f, row);
        }
        if rows.len() < max as usize {
            break;
        }
        page = page.next();
    }
    endpoint_findings(repo, idx, endpoint, now, &mut f)?;
    for finding in f.values_mut() {
        finding.evidence.sort();
        finding.evidence.dedup();
    }
    Ok(f)
}

fn all_pages<T>(
    max: u32,
    mut f: impl FnMut(Page) -> Result<Vec<T>, posture_repository::Error>,
) -> Result<Vec<T>, EvalError> {
    let mut out = Vec::new();
    let mut page = Page::first(max);
    loop {
        let v = f(page)?;
        let n = v.len();
        out.extend(v);
        if n < max as usize {
            return Ok(out);
        }
        page = page.next();
    }
}
