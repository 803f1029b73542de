//! The `Repository` trait: everything the manager stores and asks.

use std::path::Path;

use crate::Limits;
use crate::chain::ChainHead;
use crate::error::{Error, Result};
use crate::model::*;

/// The posture manager's store. Synchronous and `Send + Sync`: every method takes `&self`, so
/// one value is shared by all sessions (the async manager calls it through `spawn_blocking`).
/// Each writing method is one transaction: it happens whole or not at all.
///
/// Endpoints are named by their identifier (the certificate-derived identity string). Every
/// list takes a [`Page`]; its limit is clamped to [`Limits::max_page`].
pub trait Repository: Send + Sync {
    /// The limits in force.
    fn limits(&self) -> &Limits;

    // -- endpoints and sessions --

    /// An endpoint connected: creates the endpoint on first sight (first seen), updates its
    /// certificate fingerprint and last seen, opens a session; returns the session id.
    fn session_started(&self, session: &NewSession) -> Result<i64>;
    /// The session ended with `result` (e.g. the access recommendation).
    fn session_ended(&self, session: i64, at: UnixTime, result: Option<&str>) -> Result<()>;
    /// Ends every session `manager_instance` left open (call at manager start: after a crash
    /// its endpoints are no longer connected); returns how many.
    fn close_open_sessions(
        &self,
        manager_instance: &str,
        at: UnixTime,
        result: &str,
    ) -> Result<usize>;
    /// One endpoint.
    fn endpoint(&self, identifier: &str) -> Result<Option<Endpoint>>;
    /// All endpoints, by identifier.
    fn endpoints(&self, page: Page) -> Result<Vec<Endpoint>>;
    /// Endpoints with a session open now, by identifier.
    fn connected_endpoints(&self, page: Page) -> Result<Vec<Endpoint>>;
    /// An endpoint's sessions, newest first.
    fn sessions(&self, endpoint: &str, page: Page) -> Result<Vec<Session>>;

    // -- SWIMA ingest --

    /// The SWIMA position stored for the endpoint (`None`: no inventory yet, ask for one).
    fn swima_state(&self, endpoint: &str) -> Result<Option<SwimaState>>;
    /// A full inventory: replaces the endpoint's inventory (history: a `Resync` row then one
    /// row per difference), stores tags it carries, and sets the epoch and last EID — all in
    /// one transaction.
    fn apply_inventory(&self, endpoint: &str, inventory: &Inventory) -> Result<IngestSummary>;
    /// Events: applies those whose EID is above the stored last EID (others are repeats and
    /// skipped), stores tags they carry, and advances the last EID — in one transaction.
    /// [`Error::EpochMismatch`] when the epoch changed (request a full inventory),
    /// [`Error::NoInventory`] before the first inventory.
    fn apply_events(&self, endpoint: &str, batch: &EventBatch) -> Result<IngestSummary>;
    /// [`apply_inventory`](Self::apply_inventory), and in the same transaction appends to the
    /// event log ([`EventLog`](crate::EventLog)) the events `publish` makes of what was
    /// stored: a subscriber then sees every committed change, also when the process dies
    /// right after the commit. Returns the summary and the events as stored.
    fn apply_inventory_publishing(
        &self,
        endpoint: &str,
        inventory: &Inventory,
        publish: &crate::events::Publish<'_>,
    ) -> Result<(IngestSummary, Vec<crate::events::StoredEvent>)>;
    /// [`apply_events`](Self::apply_events), with the events `publish` makes of what was
    /// applied appended in the same transaction (as
    /// [`apply_inventory_publishing`](Self::apply_inventory_publishing)).
    fn apply_events_publishing(
        &self,
        endpoint: &str,
        batch: &EventBatch,
        publish: &crate::events::Publish<'_>,
    ) -> Result<(IngestSummary, Vec<crate::events::StoredEvent>)>;

    // -- tags --

    /// Of these software identifiers, those for which no tag is held (request those tags,
    /// RFC 8412 targeted request). Order kept, repeats dropped.
    fn missing_tags(&self, software_identifiers: &[String]) -> Result<Vec<String>>;
    /// Tags an endpoint sent. Content is stored once per (identifier, SHA-256); content that
    /// differs from a trusted tag is stored beside it, flagged, and never changes it.
    fn store_tags(
        &self,
        endpoint: &str,
        tags: &[ReportedTag],
        at: UnixTime,
    ) -> Result<Vec<TagOutcome>>;
    /// Imports reference tags from a trusted platform as `(name, content)` pairs (SWID XML or
    /// CoSWID); each is keyed by the identifier the tag gives itself and marked trusted.
    /// Unreadable or oversized items are reported in [`ImportReport::rejected`].
    fn import_tags(
        &self,
        tags: &mut dyn Iterator<Item = (String, Vec<u8>)>,
        at: UnixTime,
    ) -> Result<ImportReport>;
    /// Every tag held for a software identifier (trusted first).
    fn tags(&self, software_identifier: &str) -> Result<Vec<TagInfo>>;
    /// A tag's content.
    fn tag_content(&self, software_identifier: &str, sha256: &[u8; 32]) -> Result<Option<Vec<u8>>>;
    /// Tags whose creator name or regid is `vendor` (ASCII case-insensitive).
    fn tags_by_vendor(&self, vendor: &str, page: Page) -> Result<Vec<TagInfo>>;
    /// Tags with any flag set (conflicts with trusted tags first).
    fn flagged_tags(&self, page: Page) -> Result<Vec<TagInfo>>;

    // -- queries --

    /// Software installed on the endpoint now, by software identifier.
    fn installed(&self, endpoint: &str, page: Page) -> Result<Vec<InstalledSoftware>>;
    /// Software installed on the endpoint as of `at`, rebuilt from its history.
    fn installed_as_of(
        &self,
        endpoint: &str,
        at: UnixTime,
        page: Page,
    ) -> Result<Vec<InstalledSoftware>>;
    /// Endpoints with installed software matching the query (Appendix C.2), by endpoint.
    fn find_software(&self, query: &SoftwareQuery, page: Page) -> Result<Vec<SoftwareMatch>>;
    /// The endpoint's change history, oldest first.
    fn history(&self, endpoint: &str, page: Page) -> Result<Vec<HistoryEntry>>;

    // -- tamper evidence --

    /// Every endpoint's chain head, to anchor outside the repository.
    fn chain_heads(&self, page: Page) -> Result<Vec<ChainHead>>;
    /// Walks every endpoint's history chain and names the first broken row of each.
    fn verify_history(&self) -> Result<ChainReport>;

    // -- network devices --

    /// Stores a device's posture read at `posture.at`.
    fn store_device_posture(&self, posture: &DevicePosture) -> Result<()> {
        self.store_device_posture_publishing(posture, &[])
            .map(|_| ())
    }
    /// [`store_device_posture`](Self::store_device_posture), and in the same transaction
    /// appends `events` to the event log ([`EventLog`](crate::EventLog)), e.g. a
    /// `device-posture` event when the reading differs from the last one. Returns the events
    /// as stored.
    fn store_device_posture_publishing(
        &self,
        posture: &DevicePosture,
        events: &[crate::events::NewEvent],
    ) -> Result<Vec<crate::events::StoredEvent>>;
    /// An endpoint seen without a session of its own (a network device read over NETCONF, so
    /// the evaluator can judge it): creates its row if needed and moves its last-seen time.
    fn endpoint_seen(&self, identifier: &str, at: UnixTime) -> Result<()>;
    /// The device's posture now (`as_of: None`) or as last read at or before a time.
    fn device_posture(
        &self,
        device: &str,
        as_of: Option<UnixTime>,
    ) -> Result<Option<DevicePosture>>;
    /// Every stored reading of a device, newest first.
    fn device_history(&self, device: &str, page: Page) -> Result<Vec<DevicePosture>>;

    // -- audit log --

    /// Appends an administrative action; returns its id. There is no way to change or remove
    /// one through this trait.
    fn append_audit(&self, entry: &NewAuditEntry) -> Result<i64>;
    /// The audit log, newest first.
    fn audit_log(&self, page: Page) -> Result<Vec<AuditEntry>>;

    /// Imports every `.swidtag`/`.xml` (SWID) and `.coswid`/`.cbor` (CoSWID) file of `dir`
    /// (not recursive) as trusted reference tags; see [`import_tags`](Self::import_tags).
    /// Files over [`Limits::max_tag_bytes`] are rejected without being read.
    fn import_tag_dir(&self, dir: &Path, at: UnixTime) -> Result<ImportReport> {
        let io = |e| Error::Io {
            path: dir.to_owned(),
            source: e,
        };
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let p = entry.map_err(io)?.path();
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or_default();
            if matches!(ext, "swidtag" | "xml" | "coswid" | "cbor") && p.is_file() {
                paths.push(p);
            }
        }
        paths.sort();
        let max = self.limits().max_tag_bytes;
        let mut rejected = Vec::new();
        let mut items = paths.into_iter().filter_map(|p| {
            let name = p.display().to_string();
            let len = std::fs::metadata(&p).map(|m| m.len());
            match len {
                Ok(n) if usize::try_from(n).is_ok_and(|n| n <= max) => match std::fs::read(&p) {
                    Ok(b) => Some((name, b)),
                    Err(e) => {
                        rejected.push((name, e.to_string()));
                        None
                    }
                },
                Ok(n) => {
                    rejected.push((name, format!("{n} bytes, over the limit of {max}")));
                    None
                }
                Err(e) => {
                    rejected.push((name, e.to_string()));
                    None
                }
            }
        });
        let mut report = self.import_tags(&mut items, at)?;
        drop(items);
        report.rejected.extend(rejected);
        Ok(report)
    }
}
