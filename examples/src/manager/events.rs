//! The orchestrator's publish side (profile §2.1.5, §2.2.6): posture changes go into the
//! repository's event log ([`EventLog`]) in the transaction that commits them (so a crash
//! right after a commit loses no event), assessment and evaluation results after the writes
//! they follow; and
//! `GET /events` streams them to subscribers as Server-Sent Events.
//!
//! A subscriber's stream is fed from the repository, never from an in-memory queue of
//! everything published: its task reads a page of at most [`PAGE`] events after its position,
//! hands them to a channel of [`BUFFER`] events (waiting while the client is slow), and when
//! caught up sleeps until this manager appends (a `watch` channel) or [`POLL`] passes (events
//! appended by another manager sharing the PostgreSQL repository). So a slow subscriber costs
//! at most `PAGE + BUFFER` events of memory, and every manager serves the same sequence.

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State as Extract};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use posture_repository::events::{
    EventFilter, EventKind, EventLog, EventPage, NewEvent, Retention, Severity, StoredEvent,
};
use posture_repository::{EventAction, EventBatch, IngestSummary, Inventory, UnixTime};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use super::State;
use super::api::{ApiError, Role, authorize, bad_request, internal};
use crate::clock;

/// Events read from the repository at a time.
pub(crate) const PAGE: u32 = 100;
/// Events waiting for one slow SSE client.
const BUFFER: usize = 32;
/// How often a caught-up reader looks for events other managers appended.
pub(crate) const POLL: Duration = Duration::from_secs(1);
/// Keep-alive comment interval of the SSE stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Events the log keeps (the oldest are pruned beyond it) …
const RETAIN: u64 = 1_000_000;
/// … checked every this many appends.
const PRUNE_EVERY: i64 = 1_000;
/// The reconnection delay suggested to SSE clients.
const RETRY: Duration = Duration::from_secs(2);

/// The event log and the wake-up of its readers.
pub(crate) struct Hub {
    log: Arc<dyn EventLog>,
    newest: watch::Sender<i64>,
    stop: OnceLock<watch::Receiver<bool>>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("newest", &*self.newest.borrow())
            .finish_non_exhaustive()
    }
}

impl Hub {
    /// A hub over `log`.
    pub(crate) fn new(log: Arc<dyn EventLog>) -> Arc<Self> {
        let newest = log.event_bounds().map(|b| b.newest).unwrap_or_default();
        Arc::new(Self {
            log,
            newest: watch::Sender::new(newest),
            stop: OnceLock::new(),
        })
    }

    /// Ends every reader when `stop` turns true (the manager's shutdown).
    pub(crate) fn stop_on(&self, stop: watch::Receiver<bool>) {
        let _ = self.stop.set(stop);
    }

    /// The log.
    pub(crate) fn log(&self) -> Arc<dyn EventLog> {
        self.log.clone()
    }

    /// Appends an event and wakes the readers (blocking: the writer thread, or
    /// `spawn_blocking`). A failure is logged: the posture change it reports is committed.
    pub(crate) fn publish(&self, event: &NewEvent) -> Option<StoredEvent> {
        match self.log.append_event(event) {
            Ok(e) => {
                self.appended(std::slice::from_ref(&e));
                Some(e)
            }
            Err(err) => {
                tracing::error!(kind = event.kind.as_str(), error = %err, "event not stored");
                None
            }
        }
    }

    /// Wakes the readers for events appended (by `publish`, or with the posture change they
    /// report, in its transaction), and prunes the log now and then (blocking).
    pub(crate) fn appended(&self, events: &[StoredEvent]) {
        let Some(newest) = events.iter().map(|e| e.id).max() else {
            return;
        };
        let first = events.iter().map(|e| e.id).min().unwrap_or(newest);
        // A multiple of PRUNE_EVERY among the new ids.
        if newest / PRUNE_EVERY > (first - 1) / PRUNE_EVERY {
            let keep = Retention {
                max_events: Some(RETAIN),
                before: None,
            };
            if let Err(err) = self.log.prune(keep) {
                tracing::warn!(error = %err, "event log not pruned");
            }
        }
        self.newest.send_if_modified(|n| {
            let newer = newest > *n;
            *n = (*n).max(newest);
            newer
        });
    }

    /// A receiver woken by each local append.
    pub(crate) fn subscribe(&self) -> watch::Receiver<i64> {
        self.newest.subscribe()
    }

    /// Reads a page after `after` (off the tokio workers).
    pub(crate) async fn read(
        &self,
        after: i64,
        filter: &EventFilter,
    ) -> Result<EventPage, posture_repository::Error> {
        let (log, filter) = (self.log.clone(), filter.clone());
        tokio::task::spawn_blocking(move || log.events_since(after, &filter, PAGE))
            .await
            .unwrap_or_else(|e| Err(posture_repository::Error::Corrupt(panicked(&e))))
    }

    /// Hands every event after `cursor` that passes `filter` to `each`, in order, reading
    /// pages from the repository and waiting for more when caught up; returns when `each`
    /// says `false`, `gone` finishes, or the manager stops.
    pub(crate) async fn follow<F: Future<Output = bool>>(
        &self,
        mut cursor: i64,
        filter: &EventFilter,
        gone: impl Future<Output = ()>,
        mut each: impl FnMut(StoredEvent) -> F,
    ) {
        let mut wake = self.subscribe();
        let mut gone = std::pin::pin!(gone);
        loop {
            if self.stopping() {
                return;
            }
            let page = match self.read(cursor, filter).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(error = %e, "event log read failed; retrying");
                    if !self.pause(POLL).await {
                        return;
                    }
                    continue;
                }
            };
            let full = page.events.len() >= PAGE as usize;
            for e in page.events {
                if !each(e).await {
                    return;
                }
            }
            cursor = page.scanned_to;
            if !full && !self.wait(&mut wake, gone.as_mut()).await {
                return;
            }
        }
    }

    /// Waits until something may have been appended (a local append, or [`POLL`] passed).
    /// `false`: the manager is stopping, or `gone` finished.
    pub(crate) async fn wait(
        &self,
        wake: &mut watch::Receiver<i64>,
        gone: impl Future<Output = ()>,
    ) -> bool {
        tokio::select! {
            r = wake.changed() => r.is_ok(),
            () = tokio::time::sleep(POLL) => true,
            () = self.stopped() => false,
            () = gone => false,
        }
    }

    /// Sleeps `d`; `false` when the manager started stopping meanwhile.
    pub(crate) async fn pause(&self, d: Duration) -> bool {
        tokio::select! {
            () = tokio::time::sleep(d) => true,
            () = self.stopped() => false,
        }
    }

    async fn stopped(&self) {
        match self.stop.get().cloned() {
            Some(mut s) => crate::stopped(&mut s).await,
            None => std::future::pending().await,
        }
    }

    /// Whether the manager is stopping.
    pub(crate) fn stopping(&self) -> bool {
        self.stop.get().is_some_and(|s| *s.borrow())
    }
}

fn panicked(_: &tokio::task::JoinError) -> &'static str {
    "event log reader (task failed)"
}

// -- what is published --

/// An endpoint's event.
fn endpoint_event(endpoint: &str, kind: EventKind, severity: Severity, payload: Value) -> NewEvent {
    NewEvent {
        at: clock::now(),
        kind,
        endpoint: Some(endpoint.to_owned()),
        device: None,
        severity,
        payload,
    }
}

/// The events of a stored batch of SWIMA events: one per event applied (repeats skipped).
pub(crate) fn software_events(
    endpoint: &str,
    batch: &EventBatch,
    summary: &IngestSummary,
) -> Vec<NewEvent> {
    let mut out = Vec::new();
    for e in batch.events.iter().skip(summary.duplicates) {
        let kind = match e.action {
            EventAction::Install => EventKind::SoftwareInstalled,
            EventAction::Remove => EventKind::SoftwareRemoved,
            EventAction::Alter => EventKind::SoftwareAltered,
        };
        out.push(endpoint_event(
            endpoint,
            kind,
            Severity::Info,
            json!({
                "software_identifier": e.record.software_identifier,
                "eid": e.eid,
                "epoch": batch.epoch,
                "event_time": clock::rfc3339(e.timestamp),
                "locator": e.record.locator,
            }),
        ));
    }
    out
}

/// The event of a stored full inventory.
pub(crate) fn inventory_event(
    endpoint: &str,
    inventory: &Inventory,
    summary: &IngestSummary,
) -> Vec<NewEvent> {
    vec![endpoint_event(
        endpoint,
        EventKind::InventoryResync,
        Severity::Info,
        json!({
            "records": inventory.records.len(),
            "changes": summary.changes,
            "epoch": inventory.epoch,
            "last_eid": inventory.last_eid,
        }),
    )]
}

/// The event of an assessment's access recommendation (`allow`, `isolate`, `no-access`).
pub(crate) fn assessment_event(endpoint: &str, recommendation: &str) -> NewEvent {
    let severity = match recommendation {
        "allow" => Severity::Info,
        "isolate" => Severity::Warning,
        _ => Severity::Critical,
    };
    endpoint_event(
        endpoint,
        EventKind::AssessmentResult,
        severity,
        json!({ "recommendation": recommendation }),
    )
}

/// The last device reading published (the device's clock aside): a reading publishes an
/// event only when it differs.
#[derive(Debug, Default)]
pub(crate) struct LastReading(std::sync::Mutex<Option<Value>>);

impl LastReading {
    fn get(&self) -> std::sync::MutexGuard<'_, Option<Value>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Stores a device's reading, with its `device-posture` event in the same transaction when
/// it differs from the last one published, and wakes the readers (blocking).
pub(crate) fn store_device_reading(
    repo: &dyn posture_repository::Repository,
    hub: &Hub,
    last: &LastReading,
    reading: &posture_repository::DevicePosture,
) -> posture_repository::Result<()> {
    fn without_clock(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .filter(|(k, _)| !k.ends_with("current-datetime"))
                    .map(|(k, v)| (k.clone(), without_clock(v)))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(without_clock).collect()),
            other => other.clone(),
        }
    }
    let key = without_clock(&reading.posture);
    let changed = last.get().as_ref() != Some(&key);
    let event = changed.then(|| device_event(&reading.device, reading.at, &reading.posture));
    let stored = repo.store_device_posture_publishing(reading, event.as_slice())?;
    if changed {
        *last.get() = Some(key);
    }
    hub.appended(&stored);
    Ok(())
}

/// The event of a device posture reading.
fn device_event(device: &str, at: UnixTime, posture: &Value) -> NewEvent {
    NewEvent {
        at,
        kind: EventKind::DevicePosture,
        endpoint: None,
        device: Some(device.to_owned()),
        severity: Severity::Info,
        payload: json!({ "posture": posture }),
    }
}

/// An event as JSON: the one schema of the SSE `data` and of webhook bodies.
pub(crate) fn event_json(e: &StoredEvent) -> Value {
    json!({
        "id": e.id,
        "time": clock::rfc3339(e.at),
        "kind": e.kind.as_str(),
        "endpoint": e.endpoint,
        "device": e.device,
        "severity": e.severity.as_str(),
        "payload": e.payload,
    })
}

/// The JSON schema of an event (OpenAPI `components.schemas.Event`).
pub(crate) fn event_schema() -> Value {
    let kinds: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
    let severities: Vec<&str> = Severity::ALL.iter().map(|s| s.as_str()).collect();
    json!({
        "type": "object",
        "required": ["id", "time", "kind", "severity", "payload"],
        "properties": {
            "id": {"type": "integer", "description": "repository-wide, increasing, never reused; the SSE id"},
            "time": {"type": "string", "format": "date-time"},
            "kind": {"type": "string", "enum": kinds},
            "endpoint": {"type": "string", "nullable": true, "description": "endpoint identifier"},
            "device": {"type": "string", "nullable": true, "description": "network device name"},
            "severity": {"type": "string", "enum": severities},
            "payload": {"type": "object", "description": "software-*: software_identifier, eid, epoch, event_time, locator; inventory-resync: records, changes, epoch, last_eid; assessment-result: recommendation; device-posture: posture"},
        }
    })
}

// -- filters --

/// A filter from `endpoint`, `device`, `kind` (comma-separated) and `severity` (minimum).
pub(crate) fn filter_from(
    endpoint: Option<&str>,
    device: Option<&str>,
    kinds: &[&str],
    severity: Option<&str>,
) -> Result<EventFilter, ApiError> {
    let text = |k: &str, v: Option<&str>| match v {
        Some(v) if v.is_empty() || v.len() > 1024 => {
            Err(bad_request(format!("{k} must be 1 to 1024 characters")))
        }
        other => Ok(other.map(str::to_owned)),
    };
    let mut out = EventFilter {
        endpoint: text("endpoint", endpoint)?,
        device: text("device", device)?,
        ..EventFilter::default()
    };
    for k in kinds.iter().flat_map(|k| k.split(',')) {
        let kind = EventKind::parse(k.trim())
            .ok_or_else(|| bad_request(format!("unknown event kind {k:?}")))?;
        if !out.kinds.contains(&kind) {
            out.kinds.push(kind);
        }
    }
    if let Some(s) = severity {
        out.min_severity =
            Severity::parse(s).ok_or_else(|| bad_request(format!("unknown severity {s:?}")))?;
    }
    Ok(out)
}

/// A filter as JSON (webhook listings).
pub(crate) fn filter_json(f: &EventFilter) -> Value {
    json!({
        "endpoint": f.endpoint,
        "device": f.device,
        "kind": f.kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        "severity": f.min_severity.as_str(),
    })
}

fn event_id(v: &str, what: &str) -> Result<i64, ApiError> {
    v.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| bad_request(format!("{what} must be a non-negative event id")))
}

// -- GET /events --

/// The receiving end of a subscriber's channel, as the stream axum's SSE body reads.
struct Feed(mpsc::Receiver<SseEvent>);

impl futures_core::Stream for Feed {
    type Item = Result<SseEvent, Infallible>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|e| e.map(Ok))
    }
}

async fn events(
    Extract(st): Extract<Arc<State>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    authorize(&st, &headers, Role::Read)?;
    if let Some(k) = q
        .keys()
        .find(|k| !["endpoint", "device", "kind", "severity", "since"].contains(&k.as_str()))
    {
        return Err(bad_request(format!("unknown parameter {k:?}")));
    }
    let kinds: Vec<&str> = q.get("kind").map(String::as_str).into_iter().collect();
    let filter = filter_from(
        q.get("endpoint").map(String::as_str),
        q.get("device").map(String::as_str),
        &kinds,
        q.get("severity").map(String::as_str),
    )?;
    let last = headers
        .get("last-event-id")
        .map(|v| event_id(v.to_str().unwrap_or("-"), "Last-Event-ID"))
        .transpose()?;
    let since = q.get("since").map(|v| event_id(v, "since")).transpose()?;
    let hub = st.events.clone();
    // Resume after the last event seen; else after `since`; else from now on.
    let start = match last.or(since) {
        Some(id) => id,
        None => {
            let log = hub.log();
            tokio::task::spawn_blocking(move || log.event_bounds())
                .await
                .map_err(|_| bad_request("event log unavailable"))?
                .map_err(|e| internal(&e))?
                .newest
        }
    };
    let (tx, rx) = mpsc::channel(BUFFER);
    tokio::spawn(feed(hub, filter, start, tx));
    Ok(Sse::new(Feed(rx))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response())
}

/// Feeds one subscriber from position `cursor` until it leaves or the manager stops.
async fn feed(hub: Arc<Hub>, filter: EventFilter, cursor: i64, tx: mpsc::Sender<SseEvent>) {
    let hello = SseEvent::default().retry(RETRY).comment("subscribed");
    if tx.send(hello).await.is_err() {
        return;
    }
    // Events after the position that retention already removed: say so, once.
    let log = hub.log();
    if let Ok(Ok(b)) = tokio::task::spawn_blocking(move || log.event_bounds()).await {
        let first_held = if b.oldest == 0 {
            b.newest + 1
        } else {
            b.oldest
        };
        if first_held > cursor + 1 && b.newest > cursor {
            let lost = SseEvent::default()
                .event("lost")
                .data(json!({"from": cursor + 1, "to": first_held - 1}).to_string());
            if tx.send(lost).await.is_err() {
                return;
            }
        }
    }
    hub.follow(cursor, &filter, tx.closed(), |e| {
        let ev = SseEvent::default()
            .id(e.id.to_string())
            .event(e.kind.as_str())
            .data(event_json(&e).to_string());
        let tx = tx.clone();
        async move { tx.send(ev).await.is_ok() }
    })
    .await;
}

/// The routes of this module.
pub(crate) fn routes() -> Router<Arc<State>> {
    Router::new().route("/events", get(events))
}

/// The OpenAPI paths of this module.
pub(crate) fn openapi_paths() -> impl Iterator<Item = (&'static str, Value)> {
    let q = |name: &str, desc: &str| json!({"name": name, "in": "query", "schema": {"type": "string"}, "description": desc});
    [(
        "/events",
        json!({"get": {
            "summary": "Posture changes and assessment results as Server-Sent Events (read token). Each SSE event: `id` = event id, `event` = kind, `data` = the Event JSON. Resumes after the Last-Event-ID header (or `since`); without either, from now on. An `event: lost` says which ids retention removed before they could be sent. Keep-alive comments every 15 s.",
            "parameters": [
                q("endpoint", "only this endpoint's events"),
                q("device", "only this device's events"),
                q("kind", "comma-separated kinds"),
                q("severity", "minimum severity: info, warning, critical"),
                {"name": "since", "in": "query", "schema": {"type": "integer", "minimum": 0}, "description": "start after this event id (0: everything held)"},
                {"name": "Last-Event-ID", "in": "header", "schema": {"type": "integer"}, "description": "resume after this event id (wins over since)"},
            ],
            "responses": {
                "200": {"description": "text/event-stream of Event", "content": {"text/event-stream": {"schema": {"$ref": "#/components/schemas/Event"}}}},
                "400": {"description": "bad parameter"},
                "401": {"description": "no or unknown token"},
            }
        }}),
    )]
    .into_iter()
}
