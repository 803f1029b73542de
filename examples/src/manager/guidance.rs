//! The evaluator's side of the API (issue 13 §1): guidance managed by the admin role
//! (versioned, audited), and each endpoint's evaluation now or at a time, with the evidence.
//!
//! - `GET /guidance`: the rules in force and the guidance revision (read).
//! - `PUT /guidance/rules/{id}`: adds or replaces a rule (admin; the body is the rule's JSON,
//!   its `id` may be left out). The answer lists the endpoints whose result changed; those
//!   whose access recommendation changed are re-assessed wherever they are connected.
//! - `DELETE /guidance/rules/{id}`: removes a rule (admin).
//! - `GET /guidance/rules/{id}/history`: every version of a rule, with time and author (read).
//! - `GET /endpoints/{id}/evaluation[?at=T]`: the evaluation in force now or at T, with each
//!   matched rule and its evidence (read).
//! - `GET /endpoints/{id}/evaluations`: the endpoint's evaluation history, newest first (read).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path as UrlPath, Query, State as Extract};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use if_imv::RetryReason;
use posture_evaluator::{EvalError, Evaluation, Evaluator, GuidanceUpdate, Rule};
use posture_repository::NewAuditEntry;
use posture_repository::guidance::GuidanceChange;
use serde_json::{Value, json};

use super::State;
use super::api::{ApiError, Role, authorize, bad_request, endpoint_known, internal, only, page};
use super::evaluation::{recommendation_word, result_word};
use crate::clock;

type Shared = Arc<State>;
type ApiResult = Result<Json<Value>, ApiError>;

/// Largest rule body accepted.
const MAX_BODY: usize = 64 * 1024;

fn eval_error(e: &EvalError) -> ApiError {
    match e {
        EvalError::Guidance(g) => bad_request(g.to_string()),
        EvalError::UnknownRule(id) => ApiError(StatusCode::NOT_FOUND, format!("no rule {id:?}")),
        EvalError::Repository(r) => internal(r),
        other => ApiError(StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
    }
}

/// Runs blocking repository work off the tokio workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("task failed: {e}"),
        )
    })?
}

fn change_json(c: &GuidanceChange) -> Value {
    json!({
        "revision": c.revision,
        "rule_id": c.rule_id,
        "at": clock::rfc3339(c.at),
        "author": c.author,
        "rule": c.rule,
    })
}

/// An evaluation as JSON: overall outcome, and each finding with its evidence.
pub(crate) fn evaluation_json(e: &Evaluation) -> Value {
    json!({
        "endpoint": e.endpoint,
        "id": e.id,
        "at": clock::rfc3339(e.at),
        "guidance_revision": e.guidance_revision,
        "recommendation": recommendation_word(e.outcome.recommendation),
        "result": result_word(e.outcome.result),
        "findings": e.findings,
    })
}

fn update_json(u: &GuidanceUpdate) -> Value {
    json!({
        "change": change_json(&u.change),
        "changed": u.results.iter().map(|r| json!({
            "endpoint": r.endpoint,
            "evaluation_id": r.evaluation_id,
            "recommendation": recommendation_word(r.after.recommendation),
            "result": result_word(r.after.result),
            "recommendation_changed": r.recommendation_changed(),
        })).collect::<Vec<_>>(),
    })
}

async fn list(
    Extract(st): Extract<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    authorize(&st, &headers, Role::Read)?;
    only(&q, &[])?;
    blocking(move || {
        let ev = st.eval.evaluator();
        ev.refresh(st.eval.store()).map_err(|e| eval_error(&e))?;
        let rules: Vec<Value> = ev
            .rules()
            .iter()
            .map(|r| json!({"revision": r.revision, "rule": r.rule}))
            .collect();
        Ok(Json(json!({"revision": ev.revision(), "rules": rules})))
    })
    .await
}

/// The rule in a PUT body: the path's id goes in when the body has none; a different one is
/// refused.
fn rule_of(id: &str, body: &str) -> Result<Rule, ApiError> {
    if body.len() > MAX_BODY {
        return Err(bad_request(format!(
            "the rule is over {MAX_BODY} bytes of JSON"
        )));
    }
    let mut v: Value = serde_json::from_str(body)
        .map_err(|e| bad_request(format!("the body is not JSON: {e}")))?;
    let obj = v
        .as_object_mut()
        .ok_or_else(|| bad_request("the rule must be a JSON object"))?;
    match obj.get("id") {
        None => {
            obj.insert("id".into(), Value::String(id.to_owned()));
        }
        Some(Value::String(given)) if given == id => {}
        Some(_) => {
            return Err(bad_request(format!(
                "the body's id differs from the path's {id:?}"
            )));
        }
    }
    Rule::from_json(&v.to_string()).map_err(|e| bad_request(e.to_string()))
}

/// A guidance change by `actor`: audited, applied by the evaluator (`f`), its result changes
/// published and the endpoints whose recommendation changed re-assessed.
fn change(
    st: &State,
    actor: &str,
    action: &str,
    params: Value,
    f: impl FnOnce(&Evaluator, &str) -> Result<GuidanceUpdate, EvalError>,
) -> ApiResult {
    st.repo
        .append_audit(&NewAuditEntry {
            at: clock::now(),
            actor: actor.to_owned(),
            action: action.into(),
            params,
        })
        .map_err(|e| internal(&e))?;
    let u = f(st.eval.evaluator(), actor).map_err(|e| eval_error(&e))?;
    st.eval
        .changed(&u.results, RetryReason::ImvImportantPolicyChange);
    Ok(Json(update_json(&u)))
}

async fn put(
    Extract(st): Extract<Shared>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
    body: String,
) -> ApiResult {
    let actor = authorize(&st, &headers, Role::Admin)?;
    let rule = rule_of(&id, &body)?;
    blocking(move || {
        let params = json!({ "rule": rule });
        change(&st, &actor, "guidance-put", params, |ev, actor| {
            ev.put_rule(st.eval.store(), rule, actor, clock::now())
        })
    })
    .await
}

async fn remove(
    Extract(st): Extract<Shared>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> ApiResult {
    let actor = authorize(&st, &headers, Role::Admin)?;
    blocking(move || {
        let ev = st.eval.evaluator();
        ev.refresh(st.eval.store()).map_err(|e| eval_error(&e))?;
        if !ev.rules().iter().any(|r| r.rule.id == id) {
            return Err(ApiError(StatusCode::NOT_FOUND, format!("no rule {id:?}")));
        }
        let params = json!({ "rule_id": id });
        change(&st, &actor, "guidance-remove", params, |ev, actor| {
            ev.remove_rule(st.eval.store(), &id, actor, clock::now())
        })
    })
    .await
}

async fn rule_history(
    Extract(st): Extract<Shared>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    authorize(&st, &headers, Role::Read)?;
    only(&q, &[])?;
    let p = page(&q)?;
    blocking(move || {
        let rows = st
            .eval
            .store()
            .rule_history(&id, p)
            .map_err(|e| internal(&e))?;
        if rows.is_empty() && p.offset == 0 {
            return Err(ApiError(StatusCode::NOT_FOUND, format!("no rule {id:?}")));
        }
        Ok(Json(json!({
            "rule_id": id,
            "versions": rows.iter().map(change_json).collect::<Vec<_>>(),
        })))
    })
    .await
}

/// A read of one endpoint's evaluations: the read role, only `allowed` parameters (and
/// paging), the endpoint known; `f` runs off the tokio workers.
async fn endpoint_read(
    st: Shared,
    headers: &HeaderMap,
    id: String,
    q: HashMap<String, String>,
    allowed: &[&str],
    f: impl FnOnce(&State, &str, &HashMap<String, String>) -> Result<Value, ApiError> + Send + 'static,
) -> ApiResult {
    authorize(&st, headers, Role::Read)?;
    only(&q, allowed)?;
    blocking(move || {
        endpoint_known(&st, &id)?;
        f(&st, &id, &q).map(Json)
    })
    .await
}

async fn evaluation(
    Extract(st): Extract<Shared>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    endpoint_read(st, &headers, id, q, &["at"], |st, id, q| {
        let at = match q.get("at") {
            None => None,
            Some(t) => Some(
                clock::parse_rfc3339(t)
                    .ok_or_else(|| bad_request("at must be YYYY-MM-DDTHH:MM:SSZ"))?,
            ),
        };
        let e = Evaluator::state_at(st.eval.store(), id, at).map_err(|e| eval_error(&e))?;
        Ok(json!({
            "endpoint": id,
            "at": at.map(clock::rfc3339),
            "evaluation": e.as_ref().map(evaluation_json),
        }))
    })
    .await
}

async fn evaluations(
    Extract(st): Extract<Shared>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    endpoint_read(st, &headers, id, q, &[], |st, id, q| {
        let rows = Evaluator::history(st.eval.store(), id, page(q)?).map_err(|e| eval_error(&e))?;
        Ok(json!({
            "endpoint": id,
            "evaluations": rows.iter().map(evaluation_json).collect::<Vec<_>>(),
        }))
    })
    .await
}

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/guidance", get(list))
        .route(
            "/guidance/rules/{id}",
            axum::routing::put(put).delete(remove),
        )
        .route("/guidance/rules/{id}/history", get(rule_history))
        .route("/endpoints/{id}/evaluation", get(evaluation))
        .route("/endpoints/{id}/evaluations", get(evaluations))
}

/// The OpenAPI paths of this module.
pub(crate) fn openapi_paths(
    offset: &Value,
    limit: &Value,
    ok: &Value,
) -> impl Iterator<Item = (&'static str, Value)> {
    let rule_id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"},
        "description": "rule id (A-Z a-z 0-9 . _ : -, 1-128 characters)"});
    let endpoint = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"},
        "description": "endpoint identifier (certificate subject, URL-encoded)"});
    let admin = json!({"200": {"description": "the change and the endpoints whose result changed"},
        "400": {"description": "invalid rule (the field is named)"},
        "401": {"description": "no or unknown token"}, "403": {"description": "not admin"},
        "404": {"description": "no such rule (DELETE)"}});
    let rule_body = json!({"required": true, "content": {"application/json": {"schema": {"type": "object",
        "description": "a rule: id (optional, the path's), description, severity (minor|major|error|unknown), recommendation (allow|isolate|no-access), when: {software: {name, vendor, tag_id, software_identifier, versions: {exactly | at_least/above, below/at_most}}} | {os_attribute: {name, equals}} | {stale: {hours}}"}}}});
    [
        (
            "/guidance",
            json!({"get": {"summary": "The guidance rules in force and the guidance revision", "responses": ok}}),
        ),
        (
            "/guidance/rules/{id}",
            json!({
                "put": {"summary": "Add or replace a rule (admin; versioned and audited); endpoints whose recommendation changes are re-assessed",
                    "parameters": [rule_id], "requestBody": rule_body, "responses": admin},
                "delete": {"summary": "Remove a rule (admin; versioned and audited)",
                    "parameters": [rule_id], "responses": admin},
            }),
        ),
        (
            "/guidance/rules/{id}/history",
            json!({"get": {"summary": "Every version of a rule with time and author",
                "parameters": [rule_id, offset, limit], "responses": ok}}),
        ),
        (
            "/endpoints/{id}/evaluation",
            json!({"get": {"summary": "The endpoint's evaluation now or at a time: outcome, matched rules, evidence",
                "parameters": [endpoint, {"name": "at", "in": "query", "schema": {"type": "string"}, "description": "YYYY-MM-DDTHH:MM:SSZ"}],
                "responses": ok}}),
        ),
        (
            "/endpoints/{id}/evaluations",
            json!({"get": {"summary": "The endpoint's evaluation history, newest first",
                "parameters": [endpoint, offset, limit], "responses": ok}}),
        ),
    ]
    .into_iter()
}
