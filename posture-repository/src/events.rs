//! The event log (profile §2.1.5 orchestrator, §2.2.6 data sharing): posture changes and
//! assessment results, appended in order, read back from any position.
//!
//! Every event gets an id from the repository (1, 2, …; never reused, even after
//! [`EventLog::prune`]). Ids are handed out under a row lock held until the append commits,
//! so on every backend the committed events are exactly the ids up to the newest: a reader
//! that has seen id N and asks for events after N misses nothing still held, and every
//! manager sharing one PostgreSQL repository reads the same sequence.
//!
//! Events are never changed once appended (both backends refuse an `UPDATE`); only
//! [`EventLog::prune`] removes the oldest, to bound the log.
//!
//! ```
//! use posture_repository::events::*;
//! use posture_repository::{SqliteConfig, SqliteRepository, UnixTime};
//! let repo = SqliteRepository::open_in_memory(SqliteConfig::default())?;
//! let e = repo.append_event(&NewEvent {
//!     at: UnixTime(100),
//!     kind: EventKind::SoftwareInstalled,
//!     endpoint: Some("CN=host1".into()),
//!     device: None,
//!     severity: Severity::Info,
//!     payload: serde_json::json!({"software_identifier": "org.example__app"}),
//! })?;
//! let page = repo.events_since(0, &EventFilter::default(), 10)?;
//! assert_eq!(page.events, [e.clone()]);
//! assert_eq!(page.scanned_to, e.id);
//! # Ok::<(), posture_repository::Error>(())
//! ```

use crate::error::Result;
use crate::model::UnixTime;

/// What happened. Each kind has a fixed name in the event JSON (`software-installed`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// Software was installed on an endpoint (SWIMA event or inventory difference).
    SoftwareInstalled,
    /// Software was removed from an endpoint.
    SoftwareRemoved,
    /// An installed record changed (SWIMA "altered").
    SoftwareAltered,
    /// A full inventory replaced what was held (epoch change, first inventory).
    InventoryResync,
    /// An assessment ended with an access recommendation.
    AssessmentResult,
    /// A network device's posture was read.
    DevicePosture,
    /// The evaluator stored a result that differs from the previous one.
    EvaluationResult,
}

impl EventKind {
    /// Every kind, in code order.
    pub const ALL: [Self; 7] = [
        Self::SoftwareInstalled,
        Self::SoftwareRemoved,
        Self::SoftwareAltered,
        Self::InventoryResync,
        Self::AssessmentResult,
        Self::DevicePosture,
        Self::EvaluationResult,
    ];

    /// The kind's name in the event JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SoftwareInstalled => "software-installed",
            Self::SoftwareRemoved => "software-removed",
            Self::SoftwareAltered => "software-altered",
            Self::InventoryResync => "inventory-resync",
            Self::AssessmentResult => "assessment-result",
            Self::DevicePosture => "device-posture",
            Self::EvaluationResult => "evaluation-result",
        }
    }

    /// The kind a name gives.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// How much an event matters to a subscriber, lowest first (filters take a minimum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Severity {
    /// Routine change.
    #[default]
    Info,
    /// Worth a look (e.g. an endpoint isolated).
    Warning,
    /// Needs action (e.g. access denied, a non-compliant endpoint).
    Critical,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Self; 3] = [Self::Info, Self::Warning, Self::Critical];

    /// The severity's name in the event JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }

    /// The severity a name gives.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    fn code(self) -> i64 {
        match self {
            Self::Info => 0,
            Self::Warning => 1,
            Self::Critical => 2,
        }
    }

    fn from_code(c: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == c)
    }
}

/// An event to append ([`EventLog::append_event`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// When the change was committed.
    pub at: UnixTime,
    /// What happened.
    pub kind: EventKind,
    /// The endpoint concerned, if any.
    pub endpoint: Option<String>,
    /// The network device concerned, if any.
    pub device: Option<String>,
    /// How much it matters.
    pub severity: Severity,
    /// Kind-specific detail (a JSON document the repository does not interpret).
    pub payload: serde_json::Value,
}

impl NewEvent {
    pub(crate) fn stored(&self, id: i64) -> StoredEvent {
        StoredEvent {
            id,
            at: self.at,
            kind: self.kind,
            endpoint: self.endpoint.clone(),
            device: self.device.clone(),
            severity: self.severity,
            payload: self.payload.clone(),
        }
    }
}

/// A stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// Id: repository-wide, increasing, never reused.
    pub id: i64,
    /// When the change was committed.
    pub at: UnixTime,
    /// What happened.
    pub kind: EventKind,
    /// The endpoint concerned, if any.
    pub endpoint: Option<String>,
    /// The network device concerned, if any.
    pub device: Option<String>,
    /// How much it matters.
    pub severity: Severity,
    /// Kind-specific detail.
    pub payload: serde_json::Value,
}

/// Which events a reader wants. The default matches every event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EventFilter {
    /// Only this endpoint's events.
    pub endpoint: Option<String>,
    /// Only this device's events.
    pub device: Option<String>,
    /// Only these kinds (empty: every kind).
    pub kinds: Vec<EventKind>,
    /// Only events at least this severe.
    pub min_severity: Severity,
}

impl EventFilter {
    /// Whether `e` passes the filter (what [`EventLog::events_since`] applies in SQL).
    pub fn matches(&self, e: &StoredEvent) -> bool {
        self.endpoint
            .as_ref()
            .is_none_or(|x| e.endpoint.as_ref() == Some(x))
            && self
                .device
                .as_ref()
                .is_none_or(|x| e.device.as_ref() == Some(x))
            && (self.kinds.is_empty() || self.kinds.contains(&e.kind))
            && e.severity >= self.min_severity
    }
}

/// What [`EventLog::events_since`] read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EventPage {
    /// The matching events, oldest first.
    pub events: Vec<StoredEvent>,
    /// The highest id examined (matching or not; at least the `after` asked for): the next
    /// read starts after it. Below the newest id only when `limit` events were returned.
    pub scanned_to: i64,
}

impl EventPage {
    /// A read's result: `events` matched after `after` with `limit`, `newest` the newest id
    /// when the read began.
    pub(crate) fn new(events: Vec<StoredEvent>, after: i64, newest: i64, limit: i64) -> Self {
        let full = i64::try_from(events.len()).unwrap_or(i64::MAX) >= limit;
        let scanned_to = match events.last() {
            Some(last) if full => last.id,
            _ => newest.max(after),
        };
        Self { events, scanned_to }
    }
}

/// The ids the log holds now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EventBounds {
    /// The oldest held (0: none held).
    pub oldest: i64,
    /// The newest ever appended (0: none yet); held unless pruned.
    pub newest: i64,
}

/// How much of the log [`EventLog::prune`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Retention {
    /// Keep at most this many of the newest events.
    pub max_events: Option<u64>,
    /// Remove events appended before this time.
    pub before: Option<UnixTime>,
}

/// The append-only event log. Each call is one transaction.
pub trait EventLog: Send + Sync {
    /// Appends an event; returns it with its id.
    fn append_event(&self, event: &NewEvent) -> Result<StoredEvent>;
    /// Up to `limit` (clamped to [`Limits::max_page`](crate::Limits::max_page)) events with an
    /// id above `after` that pass `filter`, oldest first.
    fn events_since(&self, after: i64, filter: &EventFilter, limit: u32) -> Result<EventPage>;
    /// The oldest id held and the newest appended.
    fn event_bounds(&self) -> Result<EventBounds>;
    /// Removes the oldest events beyond `keep`; returns how many were removed.
    fn prune(&self, keep: Retention) -> Result<u64>;
}

/// A stored row's columns: id, at, kind, endpoint, device, severity, payload.
pub(crate) type EventRow = (
    i64,
    i64,
    String,
    Option<String>,
    Option<String>,
    i64,
    String,
);

pub(crate) fn event_from_row(r: EventRow) -> Result<StoredEvent> {
    let (id, at, kind, endpoint, device, severity, payload) = r;
    Ok(StoredEvent {
        id,
        at: UnixTime(at),
        kind: EventKind::parse(&kind).ok_or(crate::Error::Corrupt("event kind"))?,
        endpoint,
        device,
        severity: Severity::from_code(severity).ok_or(crate::Error::Corrupt("event severity"))?,
        payload: serde_json::from_str(&payload)?,
    })
}

pub(crate) fn severity_code(s: Severity) -> i64 {
    s.code()
}

/// The `WHERE` clause of a filtered read, with numbered placeholders (`$n`; SQLite accepts
/// `?n`, so the caller substitutes): `$1` after, `$2` up to, `$3` endpoint, `$4` device,
/// `$5` minimum severity, then one per kind from `$6`; `LIMIT` takes the next.
pub(crate) fn filter_sql(filter: &EventFilter, mark: char) -> (String, usize) {
    let mut sql = format!(
        "WHERE id > {m}1 AND id <= {m}2 AND (CAST({m}3 AS TEXT) IS NULL OR endpoint = {m}3)
         AND (CAST({m}4 AS TEXT) IS NULL OR device = {m}4) AND severity >= {m}5",
        m = mark
    );
    let mut n = 5;
    if !filter.kinds.is_empty() {
        let list: Vec<String> = filter
            .kinds
            .iter()
            .map(|_| {
                n += 1;
                format!("{mark}{n}")
            })
            .collect();
        sql.push_str(&format!(" AND kind IN ({})", list.join(", ")));
    }
    (sql, n + 1)
}

/// What a publishing ingest appends to the event log: the events made of what was stored
/// ([`Repository::apply_inventory_publishing`](crate::Repository::apply_inventory_publishing),
/// [`Repository::apply_events_publishing`](crate::Repository::apply_events_publishing)).
pub type Publish<'a> = dyn Fn(&crate::IngestSummary) -> Vec<NewEvent> + Sync + 'a;

/// Checks an event against the limits; its payload as JSON text.
pub(crate) fn encode(limits: &crate::Limits, e: &NewEvent) -> Result<String> {
    for t in [&e.endpoint, &e.device].into_iter().flatten() {
        crate::limits::check("event endpoint or device", t.len(), limits.max_text_bytes)?;
    }
    let payload = serde_json::to_string(&e.payload)?;
    crate::limits::check("event payload", payload.len(), limits.max_json_bytes)?;
    Ok(payload)
}

pub(crate) const EVENT_COLUMNS: &str = "id, at, kind, endpoint, device, severity, payload";

/// The SQL of the id counter, the same on both backends: the row lock it takes is held until
/// the append commits, so ids commit in order.
pub(crate) const NEXT_ID: &str =
    "UPDATE event_counter SET last_id = last_id + 1 WHERE one = 1 RETURNING last_id";

/// Migration 5 (SQLite): the event log.
pub(crate) const V5_SQLITE: &str = "
CREATE TABLE event_counter (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    last_id INTEGER NOT NULL
);
INSERT INTO event_counter (one, last_id) VALUES (1, 0);
CREATE TABLE event (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    endpoint TEXT,
    device TEXT,
    severity INTEGER NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX event_endpoint ON event(endpoint, id) WHERE endpoint IS NOT NULL;
CREATE INDEX event_at ON event(at);
CREATE TRIGGER event_no_update BEFORE UPDATE ON event
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
";

/// Migration 5 (PostgreSQL): the same tables.
pub(crate) const V5_POSTGRES: &str = r#"
CREATE TABLE event_counter (
    one BIGINT PRIMARY KEY CHECK (one = 1),
    last_id BIGINT NOT NULL
);
INSERT INTO event_counter (one, last_id) VALUES (1, 0);
CREATE TABLE event (
    id BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    kind TEXT COLLATE "C" NOT NULL,
    endpoint TEXT COLLATE "C",
    device TEXT COLLATE "C",
    severity BIGINT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX event_endpoint ON event(endpoint, id) WHERE endpoint IS NOT NULL;
CREATE INDEX event_at ON event(at);
CREATE FUNCTION nea_event_no_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only';
END
$$;
CREATE TRIGGER event_no_update BEFORE UPDATE ON event
    FOR EACH ROW EXECUTE FUNCTION nea_event_no_update();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
        }
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.as_str()), Some(s));
            assert_eq!(Severity::from_code(s.code()), Some(s));
        }
        assert_eq!(EventKind::parse("software"), None);
        assert_eq!(Severity::parse("INFO"), None);
    }

    #[test]
    fn filter_sql_numbers_kinds_and_limit() {
        let f = EventFilter {
            kinds: vec![EventKind::SoftwareInstalled, EventKind::SoftwareRemoved],
            ..EventFilter::default()
        };
        let (sql, limit) = filter_sql(&f, '$');
        assert!(sql.ends_with("AND kind IN ($6, $7)"), "{sql}");
        assert_eq!(limit, 8);
        let (sql, limit) = filter_sql(&EventFilter::default(), '?');
        assert!(!sql.contains("kind"));
        assert_eq!(limit, 6);
    }
}
