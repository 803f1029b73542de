//! The evaluator in the manager (profile §2.1.4, issue 13 §1): the repository writer runs it
//! after each posture change it commits, the API after each guidance change; each changed
//! result is stored with its `evaluation-result` event (one transaction), and when an
//! endpoint's access recommendation changed, the endpoint is re-assessed wherever its session
//! is (§2.2.4).
//!
//! The assessment itself asks the evaluator too: the SWIMA verifier's policy
//! ([`EvaluatorPolicy`]) waits until the endpoint's reported posture is written and
//! evaluated, then recommends what the stored evaluation says, with the rules that matched as
//! the reason.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use if_imv::{ActionRecommendation, EvaluationResult, RetryReason};
use imcv::Verdict;
use imcv::os::{OsPosture, OsSink};
use imcv::swima::{DenyList, SwimaPolicy};
use posture_evaluator::{Evaluator, ResultChange, attributes};
use posture_repository::events::{EventKind, NewEvent, Severity};
use posture_repository::{PostureStore, UnixTime};
use serde_json::{Value, json};
use swima::Mirror;

use super::Metrics;
use super::events::Hub;
use super::reassess::{Request, Routed, Router};
use super::writer::{Job, Writer};
use crate::clock;

/// Longest an assessment waits for the endpoint's posture to be written and evaluated before
/// it decides on the evaluation stored so far (a change found later re-assesses it).
const POLICY_WAIT: Duration = Duration::from_secs(5);

/// The evaluator, the store it reads and writes, and where its results go.
pub(crate) struct Evaluation {
    store: Arc<dyn PostureStore>,
    evaluator: Evaluator,
    hub: Arc<Hub>,
    router: Arc<Router>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Evaluation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evaluation")
            .field("evaluator", &self.evaluator)
            .finish_non_exhaustive()
    }
}

/// `allow`, `isolate`, `no-access` or `none`.
pub(crate) fn recommendation_word(r: ActionRecommendation) -> &'static str {
    match r {
        ActionRecommendation::Allow => "allow",
        ActionRecommendation::Isolate => "isolate",
        ActionRecommendation::NoAccess => "no-access",
        _ => "none",
    }
}

/// The evaluation result's name.
pub(crate) fn result_word(r: EvaluationResult) -> &'static str {
    match r {
        EvaluationResult::Compliant => "compliant",
        EvaluationResult::NonCompliantMinor => "non-compliant-minor",
        EvaluationResult::NonCompliantMajor => "non-compliant-major",
        EvaluationResult::Error => "error",
        _ => "dont-know",
    }
}

/// The severity of an `evaluation-result` event: by the access it leaves the endpoint.
fn severity(r: ActionRecommendation) -> Severity {
    match r {
        ActionRecommendation::Allow | ActionRecommendation::NoRecommendation => Severity::Info,
        ActionRecommendation::Isolate => Severity::Warning,
        _ => Severity::Critical,
    }
}

fn outcome_json(o: &posture_evaluator::Outcome) -> Value {
    json!({
        "recommendation": recommendation_word(o.recommendation),
        "result": result_word(o.result),
    })
}

/// The `evaluation-result` event of a stored change (appended in the change's transaction).
pub(crate) fn result_event(c: &ResultChange) -> NewEvent {
    NewEvent {
        at: clock::now(),
        kind: EventKind::EvaluationResult,
        endpoint: Some(c.endpoint.clone()),
        device: None,
        severity: severity(c.after.recommendation),
        payload: json!({
            "evaluation_id": c.evaluation_id,
            "before": c.before.as_ref().map(outcome_json),
            "after": outcome_json(&c.after),
            "recommendation_changed": c.recommendation_changed(),
        }),
    }
}

impl Evaluation {
    /// Loads the guidance in force from `store`.
    pub(crate) fn load(
        store: Arc<dyn PostureStore>,
        hub: Arc<Hub>,
        router: Arc<Router>,
        metrics: Arc<Metrics>,
    ) -> Result<Arc<Self>, posture_evaluator::EvalError> {
        let evaluator = Evaluator::load(&*store)?.with_publisher(|c| vec![result_event(c)]);
        Ok(Arc::new(Self {
            store,
            evaluator,
            hub,
            router,
            metrics,
        }))
    }

    /// The evaluator.
    pub(crate) fn evaluator(&self) -> &Evaluator {
        &self.evaluator
    }

    /// The store.
    pub(crate) fn store(&self) -> &dyn PostureStore {
        &*self.store
    }

    /// Publishes each change, and re-assesses the endpoints whose recommendation changed
    /// (blocking: the writer thread or `spawn_blocking`).
    pub(crate) fn changed(&self, changes: &[ResultChange], reason: RetryReason) {
        for c in changes {
            self.metrics.evaluations.fetch_add(1, Ordering::Relaxed);
            tracing::info!(
                endpoint = c.endpoint,
                evaluation = c.evaluation_id,
                recommendation = recommendation_word(c.after.recommendation),
                result = result_word(c.after.result),
                "evaluation changed"
            );
            // Appended with the result, in its transaction.
            self.hub.appended(&c.events);
            if c.recommendation_changed() {
                let req = Request {
                    reason,
                    expect: Some(c.after.recommendation),
                };
                let routed = self.router.request(&c.endpoint, req);
                if routed != Routed::NotConnected {
                    self.metrics.reassessments.fetch_add(1, Ordering::Relaxed);
                }
                tracing::info!(
                    endpoint = c.endpoint,
                    ?routed,
                    "re-assessment for the new result"
                );
            }
        }
    }

    /// Runs an evaluator call and hands on what it changed; an error is logged and counted
    /// (the posture it evaluates is committed; the next change or guidance update retries).
    pub(crate) fn run<T: IntoIterator<Item = ResultChange>>(
        &self,
        what: &str,
        reason: RetryReason,
        f: impl FnOnce(&Evaluator, &dyn PostureStore) -> Result<T, posture_evaluator::EvalError>,
    ) {
        match f(&self.evaluator, &*self.store) {
            Ok(changes) => self.changed(&changes.into_iter().collect::<Vec<_>>(), reason),
            Err(e) => {
                self.metrics.errors.fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %e, "evaluation after {what} failed");
            }
        }
    }

    /// Every minute: endpoints that became stale meanwhile.
    pub(crate) fn tick(&self, since: UnixTime, now: UnixTime) {
        self.run("time passing", RetryReason::ImvPeriodic, |e, s| {
            e.on_time(s, since, now)
        });
    }
}

/// The SWIMA verifier's policy: the evaluator's stored result for the endpoint, once the
/// posture reported so far is written and evaluated.
pub(crate) struct EvaluatorPolicy {
    eval: Arc<Evaluation>,
    writer: Arc<Writer>,
}

impl EvaluatorPolicy {
    pub(crate) fn new(eval: Arc<Evaluation>, writer: Arc<Writer>) -> Self {
        Self { eval, writer }
    }
}

impl SwimaPolicy for EvaluatorPolicy {
    fn evaluate(&self, endpoint: &str, inventory: &Mirror, synced: bool) -> Verdict {
        if !synced {
            // What the stock policy says of an inventory not read (yet).
            return DenyList::default().evaluate(endpoint, inventory, synced);
        }
        // Guidance other managers stored since (one indexed query when nothing changed).
        if let Err(err) = self.eval.evaluator.refresh(self.eval.store()) {
            tracing::warn!(error = %err, "guidance not refreshed");
        }
        if self.eval.evaluator.is_empty() {
            return Verdict::allow();
        }
        self.writer.wait_idle_for(endpoint, POLICY_WAIT);
        match Evaluator::current(self.eval.store(), endpoint) {
            Ok(Some(e)) if e.findings.is_empty() => Verdict::allow(),
            Ok(Some(e)) => {
                let rules: Vec<&str> = e.findings.iter().map(|f| f.rule_id.as_str()).collect();
                Verdict::with(
                    e.outcome.recommendation,
                    e.outcome.result,
                    format!("guidance rules matched: {}", rules.join(", ")),
                )
            }
            Ok(None) => Verdict::allow(),
            Err(err) => {
                self.eval.metrics.errors.fetch_add(1, Ordering::Relaxed);
                tracing::error!(endpoint, error = %err, "evaluation not read");
                Verdict::with(
                    ActionRecommendation::NoRecommendation,
                    EvaluationResult::Error,
                    "the evaluation could not be read",
                )
            }
        }
    }
}

/// The OS verifier's sink: the attributes the evaluator's `os_attribute` rules read.
pub(crate) struct OsAttributes {
    writer: Arc<Writer>,
}

impl OsAttributes {
    pub(crate) fn new(writer: Arc<Writer>) -> Self {
        Self { writer }
    }
}

/// The evaluator's attributes of an OS posture (names in [`attributes`]).
pub(crate) fn os_attributes(p: &OsPosture) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut put = |name: &str, value: String| out.push((name.to_owned(), value));
    if let Some(f) = p.forwarding {
        put(
            attributes::FORWARDING,
            f.name().map_or_else(|| f.get().to_string(), str::to_owned),
        );
    }
    if let Some(f) = p.factory_default_password {
        put(
            attributes::FACTORY_DEFAULT_PASSWORD,
            f.name().map_or_else(|| f.get().to_string(), str::to_owned),
        );
    }
    if let Some(pi) = &p.product {
        put(attributes::OS_NAME, pi.name.as_str().to_owned());
    }
    if let Some(v) = &p.string_version {
        put(
            attributes::OS_VERSION,
            v.product_version.as_str().to_owned(),
        );
    } else if let Some(v) = &p.numeric_version {
        put(
            attributes::OS_VERSION,
            format!("{}.{}.{}", v.major, v.minor, v.build),
        );
    }
    out
}

impl OsSink for OsAttributes {
    fn posture(&mut self, endpoint: &str, posture: &OsPosture, _verdict: &Verdict) {
        let attributes = os_attributes(posture);
        if !attributes.is_empty() {
            self.writer.submit(Job::Attributes {
                endpoint: endpoint.to_owned(),
                attributes,
                at: clock::now(),
            });
        }
    }
}
