//! The manager's HTTP API (axum, JSON): queries of the repository, re-assessment, metrics.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::Router;
use axum::extract::{Path as UrlPath, Query, State as Extract};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use posture_repository::version::VersionRange;
use posture_repository::{
    Endpoint, HistoryEntry, InstalledSoftware, NewAuditEntry, Page, SoftwareQuery, TagInfo,
};
use serde_json::{Value, json};

use super::reassess::{Request, Routed};
use super::{ManagerError, State};
use crate::clock;

/// What a bearer token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Queries only.
    Read,
    /// Queries and re-assessment.
    Admin,
}

/// The API's bearer tokens. Empty (no `--api-token-file`): queries need no token and nobody
/// is admin.
#[derive(Debug, Clone, Default)]
pub struct Tokens(HashMap<String, Role>);

impl Tokens {
    /// Reads `TOKEN ROLE` lines (`read` or `admin`; `#` starts a comment).
    pub fn load(path: &Path) -> Result<Self, ManagerError> {
        let bad = |reason: String| ManagerError::Tokens {
            path: path.to_owned(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        Self::parse(&text).map_err(bad)
    }

    /// Parses the token file's text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut map = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let mut parts = line.split_whitespace();
            let (Some(token), Some(role), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(format!("line {}: expected `TOKEN read|admin`", n + 1));
            };
            let role = match role {
                "read" => Role::Read,
                "admin" => Role::Admin,
                other => return Err(format!("line {}: unknown role {other:?}", n + 1)),
            };
            if token.len() < 16 {
                return Err(format!("line {}: token shorter than 16 characters", n + 1));
            }
            map.insert(token.to_owned(), role);
        }
        Ok(Self(map))
    }
}

/// An API error: status and message, as `{"error": "..."}`.
pub(super) struct ApiError(pub(super) StatusCode, pub(super) String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

pub(super) fn bad_request(msg: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, msg.into())
}

pub(super) fn internal(e: &posture_repository::Error) -> ApiError {
    ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

type ApiResult = Result<Json<Value>, ApiError>;
type Shared = Arc<State>;

/// The caller's role, or 401.
pub(super) fn authorize(
    state: &State,
    headers: &HeaderMap,
    need: Role,
) -> Result<String, ApiError> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let role = match presented {
        Some(t) => match state.tokens.0.get(t) {
            Some(r) => *r,
            None => return Err(ApiError(StatusCode::UNAUTHORIZED, "unknown token".into())),
        },
        None if state.tokens.0.is_empty() => Role::Read,
        None => {
            return Err(ApiError(
                StatusCode::UNAUTHORIZED,
                "a bearer token is required".into(),
            ));
        }
    };
    if role < need {
        return Err(ApiError(
            StatusCode::FORBIDDEN,
            "this needs an admin token".into(),
        ));
    }
    // The actor recorded in the audit log: a token's first 6 characters, never all of it.
    Ok(presented.map_or_else(
        || "anonymous".to_owned(),
        |t| format!("token:{}…", t.get(..6).unwrap_or_default()),
    ))
}

pub(super) fn page(q: &HashMap<String, String>) -> Result<Page, ApiError> {
    let num = |k: &str, default: u32| -> Result<u32, ApiError> {
        q.get(k).map_or(Ok(default), |v| {
            v.parse()
                .map_err(|_| bad_request(format!("{k} must be a non-negative integer")))
        })
    };
    let limit = num("limit", 100)?;
    if limit == 0 || limit > 10_000 {
        return Err(bad_request("limit must be between 1 and 10000"));
    }
    Ok(Page {
        offset: num("offset", 0)?,
        limit,
    })
}

pub(super) fn only(q: &HashMap<String, String>, allowed: &[&str]) -> Result<(), ApiError> {
    match q
        .keys()
        .find(|k| !allowed.contains(&k.as_str()) && *k != "offset" && *k != "limit")
    {
        Some(k) => Err(bad_request(format!("unknown parameter {k:?}"))),
        None => Ok(()),
    }
}

fn endpoint_json(e: &Endpoint) -> Value {
    json!({
        "identifier": e.identifier,
        "connected": e.connected,
        "first_seen": clock::rfc3339(e.first_seen),
        "last_seen": clock::rfc3339(e.last_seen),
        "cert_sha256": e.cert_fingerprint.map(hex::encode),
        "swima": e.swima.map(|s| json!({"epoch": s.epoch, "last_eid": s.last_eid})),
    })
}

fn software_json(s: &InstalledSoftware) -> Value {
    json!({
        "software_identifier": s.software_identifier,
        "name": s.meta.name,
        "version": s.meta.version,
        "vendor": s.meta.vendor,
        "regid": s.meta.regid,
        "record_id": s.record_id,
        "source_id": s.source_id,
        "locator": s.locator,
        "since": clock::rfc3339(s.since),
    })
}

fn tag_json(t: &TagInfo) -> Value {
    json!({
        "software_identifier": t.software_identifier,
        "sha256": hex::encode(t.sha256),
        "name": t.meta.name,
        "version": t.meta.version,
        "vendor": t.meta.vendor,
        "regid": t.meta.regid,
        "trusted": t.trusted,
        "flags": t.flags.0,
        "size": t.size,
        "reported_by": t.reported_by,
    })
}

fn history_json(h: &HistoryEntry) -> Value {
    json!({
        "seq": h.seq,
        "at": clock::rfc3339(h.at),
        "kind": format!("{:?}", h.kind).to_lowercase(),
        "software_identifier": h.record.as_ref().map(|r| r.software_identifier.clone()),
        "eid": h.eid,
        "event_time": h.event_time.map(clock::rfc3339),
        "epoch": h.epoch,
    })
}

async fn endpoints(
    Extract(st): Extract<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    authorize(&st, &headers, Role::Read)?;
    only(&q, &["connected"])?;
    let p = page(&q)?;
    let rows = match q.get("connected").map(String::as_str) {
        None | Some("false") => st.repo.endpoints(p),
        Some("true") => st.repo.connected_endpoints(p),
        Some(_) => return Err(bad_request("connected must be true or false")),
    }
    .map_err(|e| internal(&e))?;
    Ok(Json(
        json!({"endpoints": rows.iter().map(endpoint_json).collect::<Vec<_>>()}),
    ))
}

pub(super) fn endpoint_known(st: &State, id: &str) -> Result<(), ApiError> {
    match st.repo.endpoint(id) {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("no endpoint {id:?}"),
        )),
        Err(e) => Err(internal(&e)),
    }
}

async fn software_of(
    Extract(st): Extract<Shared>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    authorize(&st, &headers, Role::Read)?;
    only(&q, &["as_of"])?;
    let p = page(&q)?;
    endpoint_known(&st, &id)?;
    let rows = match q.get("as_of") {
        None => st.repo.installed(&id, p),
        Some(t) => {
            let at = clock::parse_rfc3339(t)
                .ok_or_else(|| bad_request("as_of must be YYYY-MM-DDTHH:MM:SSZ"))?;
            st.repo.installed_as_of(&id, at, p)
        }
    }
    .map_err(|e| internal(&e))?;
    Ok(Json(json!({
        "endpoint": id,
        "software": rows.iter().map(software_json).collect::<Vec<_>>(),
    })))
}

async fn history(
    Extract(st): Extract<Shared>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    authorize(&st, &headers, Role::Read)?;
    only(&q, &[])?;
    let p = page(&q)?;
    endpoint_known(&st, &id)?;
    let rows = st.repo.history(&id, p).map_err(|e| internal(&e))?;
    Ok(Json(json!({
        "endpoint": id,
        "history": rows.iter().map(history_json).collect::<Vec<_>>(),
    })))
}

/// Appendix C.2: endpoints with software matching name / vendor / version range.
async fn find_software(
    Extract(st): Extract<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    authorize(&st, &headers, Role::Read)?;
    only(&q, &["name", "vendor", "min", "max", "below"])?;
    let p = page(&q)?;
    let nonempty = |k: &str| -> Result<Option<String>, ApiError> {
        match q.get(k) {
            Some(v) if v.is_empty() || v.len() > 1024 => {
                Err(bad_request(format!("{k} must be 1 to 1024 characters")))
            }
            other => Ok(other.cloned()),
        }
    };
    let name = nonempty("name")?;
    let vendor = nonempty("vendor")?;
    if name.is_none() && vendor.is_none() {
        return Err(bad_request("give name or vendor (or both)"));
    }
    let (max, below) = (nonempty("max")?, nonempty("below")?);
    if max.is_some() && below.is_some() {
        return Err(bad_request(
            "give max (inclusive) or below (exclusive), not both",
        ));
    }
    let versions = VersionRange {
        min: nonempty("min")?.map(|v| (v, true)),
        max: max.map(|v| (v, true)).or(below.map(|v| (v, false))),
    };
    let query = SoftwareQuery {
        name,
        vendor,
        versions,
    };
    let rows = st.repo.find_software(&query, p).map_err(|e| internal(&e))?;
    Ok(Json(json!({
        "matches": rows.iter().map(|m| json!({
            "endpoint": m.endpoint,
            "connected": m.connected,
            "software": software_json(&m.software),
        })).collect::<Vec<_>>(),
    })))
}

async fn tags_by_vendor(
    Extract(st): Extract<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    authorize(&st, &headers, Role::Read)?;
    only(&q, &["vendor"])?;
    let p = page(&q)?;
    let vendor = q
        .get("vendor")
        .filter(|v| !v.is_empty() && v.len() <= 1024)
        .ok_or_else(|| bad_request("vendor is required (1 to 1024 characters)"))?;
    let rows = st
        .repo
        .tags_by_vendor(vendor, p)
        .map_err(|e| internal(&e))?;
    Ok(Json(
        json!({"tags": rows.iter().map(tag_json).collect::<Vec<_>>()}),
    ))
}

async fn reassess(
    Extract(st): Extract<Shared>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let actor = authorize(&st, &headers, Role::Admin)?;
    let not_connected = || ApiError(StatusCode::NOT_FOUND, format!("{id:?} is not connected"));
    // Connected here, or (shared PostgreSQL repository) at another manager.
    let connected =
        st.router.is_local(&id) || matches!(st.repo.endpoint(&id), Ok(Some(e)) if e.connected);
    if !connected {
        return Err(not_connected());
    }
    st.repo
        .append_audit(&NewAuditEntry {
            at: clock::now(),
            actor,
            action: "reassess".into(),
            params: json!({"endpoint": id}),
        })
        .map_err(|e| internal(&e))?;
    let req = Request {
        reason: if_imv::RetryReason::ImvImportantPolicyChange,
        expect: None,
    };
    let (router, ep) = (st.router.clone(), id.clone());
    let routed = tokio::task::spawn_blocking(move || router.request(&ep, req))
        .await
        .unwrap_or(Routed::NotConnected);
    let how = match routed {
        Routed::Local => "requested",
        Routed::Signalled => "signalled to the manager holding the session",
        Routed::NotConnected => {
            return Err(ApiError(
                StatusCode::CONFLICT,
                format!("{id:?} just disconnected"),
            ));
        }
    };
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"endpoint": id, "reassessment": how})),
    ))
}

/// The audit log of administrative actions, newest first (admin; read-only: the API has no
/// way to change it).
async fn audit(
    Extract(st): Extract<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    authorize(&st, &headers, Role::Admin)?;
    only(&q, &[])?;
    let p = page(&q)?;
    let rows = st.repo.audit_log(p).map_err(|e| internal(&e))?;
    Ok(Json(json!({
        "audit": rows.iter().map(|a| json!({
            "id": a.id,
            "at": clock::rfc3339(a.at),
            "actor": a.actor,
            "action": a.action,
            "params": a.params,
        })).collect::<Vec<_>>(),
    })))
}

async fn metrics(Extract(st): Extract<Shared>) -> impl IntoResponse {
    let m = &st.metrics;
    let line = |name: &str, kind: &str, help: &str, v: u64| {
        format!("# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}\n")
    };
    let counters = [
        (
            "tnc_sessions_total",
            "counter",
            "PT-TLS sessions accepted.",
            &m.sessions,
        ),
        (
            "tnc_sessions_open",
            "gauge",
            "Sessions open now.",
            &m.sessions_open,
        ),
        (
            "tnc_assessments_total",
            "counter",
            "Assessments decided.",
            &m.assessments,
        ),
        (
            "tnc_records_ingested_total",
            "counter",
            "Software records and events stored.",
            &m.records,
        ),
        (
            "tnc_tags_requested_total",
            "counter",
            "Full tags requested from endpoints (identifiers without a stored tag).",
            &m.tags_requested,
        ),
        (
            "tnc_repository_queue",
            "gauge",
            "Writes waiting for the repository writer.",
            &m.writer_queue,
        ),
        (
            "tnc_device_polls_total",
            "counter",
            "NETCONF device polls.",
            &m.device_polls,
        ),
        (
            "tnc_device_poll_errors_total",
            "counter",
            "NETCONF device polls that failed.",
            &m.device_poll_errors,
        ),
        (
            "tnc_evaluations_changed_total",
            "counter",
            "Evaluation results that changed.",
            &m.evaluations,
        ),
        (
            "tnc_reassessments_total",
            "counter",
            "Re-assessments requested because an evaluation changed the recommendation.",
            &m.reassessments,
        ),
        (
            "tnc_errors_total",
            "counter",
            "Session and repository errors.",
            &m.errors,
        ),
    ];
    let body: String = counters
        .iter()
        .map(|(name, kind, help, v)| line(name, kind, help, v.load(Ordering::Relaxed)))
        .collect();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}

async fn openapi() -> Json<Value> {
    let offset =
        json!({"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}});
    let limit = json!({"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 10000}});
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"},
        "description": "endpoint identifier (certificate subject, URL-encoded)"});
    let q = |name: &str, desc: &str| json!({"name": name, "in": "query", "schema": {"type": "string"}, "description": desc});
    let ok = json!({"200": {"description": "JSON"}, "400": {"description": "bad parameter"}, "401": {"description": "no or unknown token"}});
    let devices = super::devices::openapi_paths(&offset, &limit, &ok);
    let events = super::events::openapi_paths();
    let webhooks = super::webhooks::openapi_paths(&offset, &limit);
    let guidance = super::guidance::openapi_paths(&offset, &limit, &ok);
    let mut doc = json!({
        "openapi": "3.0.3",
        "info": {"title": "tnc-manager API", "version": env!("CARGO_PKG_VERSION")},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Event": super::events::event_schema()}},
        "security": [{"bearer": []}],
        "paths": {
            "/endpoints": {"get": {"summary": "Endpoints (connected=true: connected now)",
                "parameters": [q("connected", "true or false"), offset, limit], "responses": ok}},
            "/endpoints/{id}/software": {"get": {"summary": "Software on an endpoint now, or as of a time",
                "parameters": [id, q("as_of", "YYYY-MM-DDTHH:MM:SSZ"), offset, limit], "responses": ok}},
            "/endpoints/{id}/history": {"get": {"summary": "Install/remove history of an endpoint",
                "parameters": [id, offset, limit], "responses": ok}},
            "/endpoints/{id}/reassess": {"post": {"summary": "Re-assess a connected endpoint (admin)",
                "parameters": [id], "responses": {"202": {"description": "requested"}, "403": {"description": "not admin"}, "404": {"description": "not connected"}}}},
            "/software": {"get": {"summary": "Endpoints with matching software (vulnerable-software query, Appendix C.2)",
                "parameters": [q("name", "software name"), q("vendor", "tag creator name or regid"),
                    q("min", "lowest version (inclusive)"), q("max", "highest version (inclusive)"),
                    q("below", "versions strictly below"), offset, limit], "responses": ok}},
            "/audit": {"get": {"summary": "Audit log of administrative actions, newest first (admin; append-only)",
                "parameters": [offset, limit], "responses": {"200": {"description": "JSON"}, "401": {"description": "no or unknown token"}, "403": {"description": "not admin"}}}},
            "/tags": {"get": {"summary": "Tags by vendor", "parameters": [q("vendor", "tag creator name or regid"), offset, limit], "responses": ok}},
            "/metrics": {"get": {"summary": "Prometheus metrics", "security": [], "responses": {"200": {"description": "text"}}}},
            "/openapi.json": {"get": {"summary": "This document", "security": [], "responses": {"200": {"description": "JSON"}}}},
        }
    });
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        paths.extend(
            devices
                .into_iter()
                .chain(events)
                .chain(webhooks)
                .chain(guidance)
                .map(|(k, v)| (k.to_owned(), v)),
        );
    }
    Json(doc)
}

async fn not_found() -> ApiError {
    ApiError(StatusCode::NOT_FOUND, "no such resource".into())
}

pub(super) fn router(state: Shared) -> Router {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/metrics", get(metrics))
        .route("/endpoints", get(endpoints))
        .route("/endpoints/{id}/software", get(software_of))
        .route("/endpoints/{id}/history", get(history))
        .route("/endpoints/{id}/reassess", post(reassess))
        .route("/software", get(find_software))
        .route("/tags", get(tags_by_vendor))
        .route("/audit", get(audit))
        .merge(super::devices::routes())
        .merge(super::events::routes())
        .merge(super::webhooks::routes())
        .merge(super::guidance::routes())
        .fallback(not_found)
        .with_state(state)
}
