//! Signed webhooks (profile §2.1.5): an admin registers a URL, a secret and a filter; every
//! matching event from then on is POSTed there as the event JSON with
//! `X-Signature: sha256=<hex HMAC-SHA256(secret, body)>`, retried with exponential backoff,
//! and each attempt is kept in the hook's delivery log.
//!
//! Each hook has one task that reads the repository's event log from its position (as an SSE
//! subscriber does), delivers one event at a time in order, and moves on after the last
//! attempt fails (the log says so). Hooks live in this manager's memory: they are lost when it
//! restarts, and each manager delivers the whole shared log to its own hooks.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State as Extract};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use posture_repository::NewAuditEntry;
use posture_repository::events::{EventFilter, StoredEvent};
use ring::hmac;
use serde_json::{Value, json};

use super::State;
use super::api::{ApiError, Role, authorize, bad_request, internal};
use super::events::{Hub, event_json, filter_from, filter_json};
use crate::clock;

/// Attempts per event before the hook moves on.
pub(crate) const MAX_ATTEMPTS: u32 = 6;
/// The wait before the first retry; doubled after each failure up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// One attempt's time limit (connect, send, response).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// Delivery log entries kept per hook (the oldest go first).
const LOG_ENTRIES: usize = 1000;
/// Most hooks at once.
const MAX_HOOKS: usize = 100;
/// Shortest secret accepted.
const MIN_SECRET: usize = 16;

/// One delivery attempt.
#[derive(Debug, Clone)]
struct Attempt {
    event: i64,
    attempt: u32,
    at: posture_repository::UnixTime,
    status: Option<u16>,
    error: Option<String>,
    delivered: bool,
}

/// A registered hook.
struct Hook {
    url: String,
    filter: EventFilter,
    created: posture_repository::UnixTime,
    from: i64,
    log: Arc<Mutex<VecDeque<Attempt>>>,
    task: tokio::task::JoinHandle<()>,
}

/// This manager's webhooks.
#[derive(Default)]
pub(crate) struct Webhooks {
    hooks: Mutex<BTreeMap<u64, Hook>>,
    next: AtomicU64,
}

impl std::fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhooks").finish_non_exhaustive()
    }
}

impl Drop for Webhooks {
    fn drop(&mut self) {
        for h in self
            .hooks
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
        {
            h.task.abort();
        }
    }
}

/// Where a hook POSTs: `http://HOST[:PORT]/PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// `HOST:PORT` to connect to.
    pub(crate) authority: String,
    /// The request target (path and query).
    pub(crate) path: String,
}

/// Parses a webhook URL (plain `http://` only).
pub(crate) fn parse_url(url: &str) -> Result<Target, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or("the URL must start with http:// (https is not supported)")?;
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains('@') || authority.contains(char::is_whitespace) {
        return Err("the URL needs a host (no user info)".into());
    }
    if path.contains(|c: char| c.is_whitespace() || c.is_control()) {
        return Err("the URL path has spaces or control characters".into());
    }
    let has_port = match authority.rfind(':') {
        Some(i) => {
            !authority.ends_with(']')
                && authority
                    .get(i + 1..)
                    .is_some_and(|p| p.parse::<u16>().is_ok())
        }
        None => false,
    };
    let authority = if has_port {
        authority.to_owned()
    } else if authority.contains(':') && !authority.starts_with('[') {
        return Err("the port must be a number".into());
    } else {
        format!("{authority}:80")
    };
    let path = if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_owned()
    };
    Ok(Target { authority, path })
}

/// The `X-Signature` value of a body.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    format!("sha256={}", hex::encode(hmac::sign(&key, body).as_ref()))
}

fn push(log: &Mutex<VecDeque<Attempt>>, a: Attempt) {
    let mut l = log.lock().unwrap_or_else(PoisonError::into_inner);
    if l.len() >= LOG_ENTRIES {
        l.pop_front();
    }
    l.push_back(a);
}

/// One POST; the status, or why there is none.
async fn post(t: &Target, e: &StoredEvent, body: &[u8], sig: &str) -> Result<u16, String> {
    let headers = [
        ("Content-Type", "application/json"),
        ("X-Signature", sig),
        ("X-Event-Id", &e.id.to_string()),
        ("X-Event-Kind", e.kind.as_str()),
    ];
    let send = crate::http::send(t.authority.as_str(), "POST", &t.path, &headers, body);
    match tokio::time::timeout(ATTEMPT_TIMEOUT, send).await {
        Ok(Ok((status, _))) => Ok(status),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no response within {ATTEMPT_TIMEOUT:?}")),
    }
}

/// Delivers one event, retrying; `false` when the manager is stopping.
async fn deliver(
    hub: &Hub,
    t: &Target,
    secret: &[u8],
    e: &StoredEvent,
    log: &Mutex<VecDeque<Attempt>>,
) -> bool {
    let body = event_json(e).to_string().into_bytes();
    let sig = signature(secret, &body);
    let mut backoff = FIRST_BACKOFF;
    for attempt in 1..=MAX_ATTEMPTS {
        let r = post(t, e, &body, &sig).await;
        let delivered = matches!(r, Ok(s) if (200..300).contains(&s));
        push(
            log,
            Attempt {
                event: e.id,
                attempt,
                at: clock::now(),
                status: r.as_ref().ok().copied(),
                error: r.err(),
                delivered,
            },
        );
        if delivered {
            return true;
        }
        if attempt == MAX_ATTEMPTS {
            tracing::warn!(url = %t.authority, event = e.id, "webhook delivery given up");
            return true;
        }
        if !hub.pause(backoff).await {
            return false;
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
    true
}

/// A hook's task: delivers every matching event after `cursor`, in order.
async fn run(
    hub: Arc<Hub>,
    t: Target,
    secret: Vec<u8>,
    filter: EventFilter,
    cursor: i64,
    log: Arc<Mutex<VecDeque<Attempt>>>,
) {
    let (t, secret) = (Arc::new(t), Arc::<[u8]>::from(secret));
    hub.follow(cursor, &filter, std::future::pending(), |e| {
        let (hub, t, secret, log) = (hub.clone(), t.clone(), secret.clone(), log.clone());
        async move { deliver(&hub, &t, &secret, &e, &log).await }
    })
    .await;
}

fn str_field<'a>(v: &'a Value, k: &str) -> Result<Option<&'a str>, ApiError> {
    match v.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad_request(format!("{k} must be a string"))),
    }
}

async fn create(
    Extract(st): Extract<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let actor = authorize(&st, &headers, Role::Admin)?;
    let v: Value = serde_json::from_slice(&body)
        .map_err(|e| bad_request(format!("body must be a JSON object: {e}")))?;
    let Some(obj) = v.as_object() else {
        return Err(bad_request("body must be a JSON object"));
    };
    let allowed = [
        "url", "secret", "endpoint", "device", "kind", "severity", "since",
    ];
    if let Some(k) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(bad_request(format!("unknown field {k:?}")));
    }
    let url = str_field(&v, "url")?.ok_or_else(|| bad_request("url is required"))?;
    if url.len() > 2048 {
        return Err(bad_request("url is longer than 2048 characters"));
    }
    let target = parse_url(url).map_err(bad_request)?;
    let secret = str_field(&v, "secret")?.ok_or_else(|| bad_request("secret is required"))?;
    if secret.len() < MIN_SECRET || secret.len() > 1024 {
        return Err(bad_request(format!(
            "secret must be {MIN_SECRET} to 1024 characters"
        )));
    }
    let kinds: Vec<&str> = match v.get("kind") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a
            .iter()
            .map(|k| {
                k.as_str()
                    .ok_or_else(|| bad_request("kind must hold strings"))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(bad_request("kind must be a string or a list")),
    };
    let filter = filter_from(
        str_field(&v, "endpoint")?,
        str_field(&v, "device")?,
        &kinds,
        str_field(&v, "severity")?,
    )?;
    let log_handle = st.events.log();
    let from = match v.get("since") {
        None | Some(Value::Null) => {
            tokio::task::spawn_blocking(move || log_handle.event_bounds())
                .await
                .map_err(|_| bad_request("event log unavailable"))?
                .map_err(|e| internal(&e))?
                .newest
        }
        Some(n) => n
            .as_i64()
            .filter(|n| *n >= 0)
            .ok_or_else(|| bad_request("since must be a non-negative event id"))?,
    };
    let hooks = &st.webhooks;
    if hooks
        .hooks
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .len()
        >= MAX_HOOKS
    {
        return Err(ApiError(
            StatusCode::CONFLICT,
            format!("at most {MAX_HOOKS} webhooks"),
        ));
    }
    let id = hooks.next.fetch_add(1, Ordering::Relaxed) + 1;
    let info = json!({"id": id, "url": url, "filter": filter_json(&filter), "from": from});
    st.repo
        .append_audit(&NewAuditEntry {
            at: clock::now(),
            actor,
            action: "webhook-create".into(),
            params: info.clone(),
        })
        .map_err(|e| internal(&e))?;
    let log = Arc::new(Mutex::new(VecDeque::new()));
    let task = tokio::spawn(run(
        st.events.clone(),
        target,
        secret.as_bytes().to_vec(),
        filter.clone(),
        from,
        log.clone(),
    ));
    hooks
        .hooks
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(
            id,
            Hook {
                url: url.to_owned(),
                filter,
                created: clock::now(),
                from,
                log,
                task,
            },
        );
    Ok((StatusCode::CREATED, Json(info)))
}

fn hook_json(id: u64, h: &Hook) -> Value {
    json!({
        "id": id,
        "url": h.url,
        "filter": filter_json(&h.filter),
        "from": h.from,
        "created": clock::rfc3339(h.created),
    })
}

async fn list(
    Extract(st): Extract<Arc<State>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    authorize(&st, &headers, Role::Admin)?;
    let hooks = st
        .webhooks
        .hooks
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    Ok(Json(
        json!({"webhooks": hooks.iter().map(|(id, h)| hook_json(*id, h)).collect::<Vec<_>>()}),
    ))
}

fn hook_id(s: &str) -> Result<u64, ApiError> {
    s.parse()
        .map_err(|_| ApiError(StatusCode::NOT_FOUND, format!("no webhook {s:?}")))
}

async fn remove(
    Extract(st): Extract<Arc<State>>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Result<StatusCode, ApiError> {
    let actor = authorize(&st, &headers, Role::Admin)?;
    let n = hook_id(&id)?;
    let hook = st
        .webhooks
        .hooks
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(&n)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no webhook {n}")))?;
    hook.task.abort();
    st.repo
        .append_audit(&NewAuditEntry {
            at: clock::now(),
            actor,
            action: "webhook-delete".into(),
            params: json!({"id": n, "url": hook.url}),
        })
        .map_err(|e| internal(&e))?;
    Ok(StatusCode::NO_CONTENT)
}

async fn deliveries(
    Extract(st): Extract<Arc<State>>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    authorize(&st, &headers, Role::Admin)?;
    super::api::only(&q, &[])?;
    let page = super::api::page(&q)?;
    let n = hook_id(&id)?;
    let log = st
        .webhooks
        .hooks
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&n)
        .map(|h| h.log.clone())
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no webhook {n}")))?;
    let log = log.lock().unwrap_or_else(PoisonError::into_inner);
    // Newest first.
    let rows: Vec<Value> = log
        .iter()
        .rev()
        .skip(page.offset as usize)
        .take(page.limit as usize)
        .map(|a| {
            json!({
                "event": a.event,
                "attempt": a.attempt,
                "at": clock::rfc3339(a.at),
                "status": a.status,
                "error": a.error,
                "delivered": a.delivered,
            })
        })
        .collect();
    Ok(Json(json!({"webhook": n, "deliveries": rows})))
}

/// The routes of this module.
pub(crate) fn routes() -> Router<Arc<State>> {
    Router::new()
        .route("/webhooks", get(list).post(create))
        .route("/webhooks/{id}", axum::routing::delete(remove))
        .route("/webhooks/{id}/deliveries", get(deliveries))
}

/// The OpenAPI paths of this module.
pub(crate) fn openapi_paths(
    offset: &Value,
    limit: &Value,
) -> impl Iterator<Item = (&'static str, Value)> {
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}});
    let admin =
        json!({"401": {"description": "no or unknown token"}, "403": {"description": "not admin"}});
    let with = |mut r: Value, extra: Value| {
        if let (Some(r), Some(e)) = (r.as_object_mut(), extra.as_object()) {
            r.extend(e.clone());
        }
        r
    };
    [
        (
            "/webhooks",
            json!({
                "get": {"summary": "Webhooks of this manager (admin; secrets are never returned)",
                    "responses": with(admin.clone(), json!({"200": {"description": "JSON"}}))},
                "post": {"summary": "Register a webhook (admin, audited): every matching Event from `since` (default: now) is POSTed as JSON with X-Signature: sha256=<hex HMAC-SHA256(secret, body)>, X-Event-Id and X-Event-Kind; a non-2xx answer or no answer is retried 6 times in all, the wait doubling from 250 ms",
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {
                        "type": "object", "required": ["url", "secret"],
                        "properties": {
                            "url": {"type": "string", "description": "http://HOST[:PORT]/PATH"},
                            "secret": {"type": "string", "minLength": MIN_SECRET, "maxLength": 1024},
                            "endpoint": {"type": "string"}, "device": {"type": "string"},
                            "kind": {"type": "array", "items": {"type": "string"}},
                            "severity": {"type": "string", "enum": ["info", "warning", "critical"]},
                            "since": {"type": "integer", "minimum": 0}}}}}},
                    "responses": with(admin.clone(), json!({"201": {"description": "created: id, url, filter, from"}, "400": {"description": "bad body"}, "409": {"description": "too many webhooks"}}))},
            }),
        ),
        (
            "/webhooks/{id}",
            json!({"delete": {"summary": "Remove a webhook (admin, audited)", "parameters": [id.clone()],
                "responses": with(admin.clone(), json!({"204": {"description": "removed"}, "404": {"description": "no such webhook"}}))}}),
        ),
        (
            "/webhooks/{id}/deliveries",
            json!({"get": {"summary": "The webhook's delivery log, newest first: event, attempt, at, status, error, delivered (admin; the last 1,000 attempts)",
                "parameters": [id, offset, limit],
                "responses": with(admin, json!({"200": {"description": "JSON"}, "404": {"description": "no such webhook"}}))}}),
        ),
    ]
    .into_iter()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn urls() {
        let t = parse_url("http://127.0.0.1:8080/hook?x=1").unwrap();
        assert_eq!(t.authority, "127.0.0.1:8080");
        assert_eq!(t.path, "/hook?x=1");
        let t = parse_url("http://example.net").unwrap();
        assert_eq!(
            (t.authority.as_str(), t.path.as_str()),
            ("example.net:80", "/")
        );
        let t = parse_url("http://[::1]:9000/a").unwrap();
        assert_eq!(t.authority, "[::1]:9000");
        for bad in [
            "https://example.net/",
            "ftp://x",
            "http:///path",
            "http://user@host/",
            "http://host:port/",
            "http://host/a b",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn signature_is_hmac_sha256_hex() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
