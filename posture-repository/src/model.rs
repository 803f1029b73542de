//! The values that go in and come out of a [`Repository`](crate::Repository).

/// Seconds since the Unix epoch (UTC). The repository reads no clock: every time comes in as
/// an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct UnixTime(pub i64);

/// The SHA-256 of a certificate (or any DER), as stored for an endpoint.
pub fn fingerprint(der: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, der);
    let mut out = [0; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Paging of every list: skip `offset` rows, return at most `limit` (clamped to the
/// repository's [`Limits::max_page`](crate::Limits::max_page)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Rows to skip.
    pub offset: u32,
    /// Rows to return at most.
    pub limit: u32,
}

impl Page {
    /// The first `limit` rows.
    pub fn first(limit: u32) -> Self {
        Self { offset: 0, limit }
    }
    /// The page after this one.
    pub fn next(self) -> Self {
        Self {
            offset: self.offset.saturating_add(self.limit),
            limit: self.limit,
        }
    }
}

impl Default for Page {
    fn default() -> Self {
        Self::first(100)
    }
}

/// Software Data Model Type (RFC 8412 §3.4.2): PEN and type; `{0, 0}` is ISO/IEC 19770-2:2015
/// SWID XML, `{0, 1}` the 2009 edition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DataModel {
    /// Data Model Type PEN (24 bits on the wire).
    pub pen: u32,
    /// Data Model Type.
    pub kind: u8,
}

impl DataModel {
    /// ISO/IEC 19770-2:2015 SWID tags (XML).
    pub const SWID_2015: Self = Self { pen: 0, kind: 0 };
    /// ISO/IEC 19770-2:2009 SWID tags (XML).
    pub const SWID_2009: Self = Self { pen: 0, kind: 1 };
}

/// An endpoint connecting: what the manager knows before any posture is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// The endpoint identifier (the certificate-derived identity string).
    pub endpoint: String,
    /// SHA-256 of the endpoint's certificate, when it authenticated with one ([`fingerprint`]).
    pub cert_fingerprint: Option<[u8; 32]>,
    /// Which manager process holds the session (several may share a repository).
    pub manager_instance: String,
    /// The peer's address as text (`192.0.2.7:50022`).
    pub peer_address: String,
    /// When the session started.
    pub at: UnixTime,
}

/// A stored endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The endpoint identifier.
    pub identifier: String,
    /// SHA-256 of the certificate last seen.
    pub cert_fingerprint: Option<[u8; 32]>,
    /// First session.
    pub first_seen: UnixTime,
    /// Latest session start or end.
    pub last_seen: UnixTime,
    /// Whether a session of it is open now.
    pub connected: bool,
    /// The SWIMA position covered by what is stored.
    pub swima: Option<SwimaState>,
}

/// The SWIMA position of an endpoint (RFC 8412 §3.7): the EID epoch and the last EID whose
/// events (or a full inventory covering them) are stored. Written in the same transaction as
/// those records, so the next request asks for exactly what is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwimaState {
    /// EID Epoch.
    pub epoch: u32,
    /// Last EID covered.
    pub last_eid: u32,
}

impl SwimaState {
    /// The position stored in two nullable columns (both set once an inventory is stored).
    pub(crate) fn from_columns(epoch: Option<u32>, last_eid: Option<u32>) -> Option<Self> {
        epoch
            .zip(last_eid)
            .map(|(epoch, last_eid)| Self { epoch, last_eid })
    }
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Session id (repository-wide).
    pub id: i64,
    /// The endpoint identifier.
    pub endpoint: String,
    /// Start.
    pub started_at: UnixTime,
    /// End, `None` while open.
    pub ended_at: Option<UnixTime>,
    /// The manager process that held it.
    pub manager_instance: String,
    /// The peer's address.
    pub peer_address: String,
    /// The outcome (e.g. the access recommendation), set when it ended.
    pub result: Option<String>,
}

/// One software record as an endpoint reports it (RFC 8412 §5.7/§5.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Software Identifier (e.g. `regid__tagId`).
    pub software_identifier: String,
    /// Data Model Type.
    pub data_model: DataModel,
    /// Source Identification Number.
    pub source_id: u8,
    /// Record Identifier.
    pub record_id: u32,
    /// Software Locator (may be empty).
    pub locator: String,
    /// The full record (the tag), when the endpoint sent it.
    pub tag: Option<Vec<u8>>,
}

/// A full inventory (RFC 8412 Software \[Identifier\] Inventory): replaces what is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inventory {
    /// EID Epoch of the endpoint's log.
    pub epoch: u32,
    /// Last EID the inventory reflects.
    pub last_eid: u32,
    /// When the manager received it.
    pub received_at: UnixTime,
    /// The records.
    pub records: Vec<Record>,
}

/// Action of an event (RFC 8412 §5.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventAction {
    /// CREATION: installed.
    Install,
    /// DELETION: removed.
    Remove,
    /// ALTERATION: changed in place (the record replaces the stored one).
    Alter,
}

/// One event (RFC 8412 §5.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoftwareEvent {
    /// EID.
    pub eid: u32,
    /// The endpoint's timestamp of the event.
    pub timestamp: UnixTime,
    /// What happened.
    pub action: EventAction,
    /// The record it happened to.
    pub record: Record,
}

/// A batch of events (RFC 8412 Software \[Identifier\] Events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventBatch {
    /// EID Epoch; must equal the stored one ([`Error::EpochMismatch`](crate::Error) otherwise).
    pub epoch: u32,
    /// The last EID this response covers (its Last Consulted EID); stored when greater.
    pub last_eid: u32,
    /// When the manager received it.
    pub received_at: UnixTime,
    /// The events, in EID order.
    pub events: Vec<SoftwareEvent>,
}

/// What one ingest call did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestSummary {
    /// History rows written for records (installs + removals + alterations).
    pub changes: usize,
    /// Events skipped because their EID was already covered (a repeated delivery).
    pub duplicates: usize,
    /// Tags stored (new content).
    pub tags_stored: usize,
    /// Whether this was a resync (full inventory).
    pub resync: bool,
    /// The first EID of the batch was not the one after the stored last EID: `(stored, first)`.
    pub eid_gap: Option<(u32, u32)>,
    /// The SWIMA position after the call.
    pub state: Option<SwimaState>,
}

/// Software on an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledSoftware {
    /// Software Identifier.
    pub software_identifier: String,
    /// Name, version and vendor from the tag held for it, when one is.
    pub meta: SoftwareMeta,
    /// Data Model Type of the record.
    pub data_model: DataModel,
    /// Source Identification Number.
    pub source_id: u8,
    /// Record Identifier.
    pub record_id: u32,
    /// Software Locator.
    pub locator: String,
    /// When the repository learnt it was installed.
    pub since: UnixTime,
}

/// What a tag says about software (empty until a tag is held).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SoftwareMeta {
    /// Software name.
    pub name: Option<String>,
    /// Software version.
    pub version: Option<String>,
    /// Tag creator's name.
    pub vendor: Option<String>,
    /// Tag creator's regid.
    pub regid: Option<String>,
}

/// The Appendix C.2 "vulnerable software" query. Every given field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SoftwareQuery {
    /// Software name, ASCII case-insensitive exact match.
    pub name: Option<String>,
    /// Vendor (tag creator name) or tag creator regid, ASCII case-insensitive exact match.
    pub vendor: Option<String>,
    /// Version range in [`version::compare`](crate::version::compare) order.
    pub versions: crate::version::VersionRange,
}

/// One (endpoint, software) pair answering a [`SoftwareQuery`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoftwareMatch {
    /// The endpoint identifier.
    pub endpoint: String,
    /// Whether it is connected now.
    pub connected: bool,
    /// The matching software.
    pub software: InstalledSoftware,
}

/// Kind of a history row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HistoryKind {
    /// The software was installed (an event, or present in a resync and not before).
    Install,
    /// The software was removed (an event, or absent from a resync).
    Remove,
    /// The record changed in place.
    Alter,
    /// A full inventory replaced the endpoint's inventory (initial, epoch change or requested);
    /// the install/remove rows that follow with no EID are its differences.
    Resync,
}

impl HistoryKind {
    pub(crate) fn code(self) -> u8 {
        match self {
            Self::Install => 1,
            Self::Remove => 2,
            Self::Alter => 3,
            Self::Resync => 4,
        }
    }
    pub(crate) fn from_code(c: i64) -> Option<Self> {
        Some(match c {
            1 => Self::Install,
            2 => Self::Remove,
            3 => Self::Alter,
            4 => Self::Resync,
            _ => return None,
        })
    }
}

/// One row of an endpoint's append-only history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// Position in the endpoint's chain (1, 2, …).
    pub seq: i64,
    /// When the repository recorded it.
    pub at: UnixTime,
    /// What happened.
    pub kind: HistoryKind,
    /// The record (`None` for [`HistoryKind::Resync`]).
    pub record: Option<HistoryRecord>,
    /// The EID of the event, `None` for resync rows.
    pub eid: Option<u32>,
    /// The endpoint's timestamp of the event.
    pub event_time: Option<UnixTime>,
    /// The EID epoch in force.
    pub epoch: u32,
    /// SHA-256 chained over this row and the previous one ([`crate::chain`]).
    pub hash: [u8; 32],
}

/// The record of a history row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRecord {
    /// Software Identifier.
    pub software_identifier: String,
    /// Data Model Type.
    pub data_model: DataModel,
    /// Source Identification Number.
    pub source_id: u8,
    /// Record Identifier.
    pub record_id: u32,
    /// Software Locator.
    pub locator: String,
}

/// Flags of a stored tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TagFlags(pub u32);

impl TagFlags {
    /// An endpoint reported content other than the trusted reference tag of this identifier.
    pub const CONFLICTS_WITH_TRUSTED: Self = Self(1);
    /// Endpoints reported different contents for this identifier.
    pub const DIFFERS_FROM_REPORTED: Self = Self(2);
    /// The content is neither a readable SWID XML nor a CoSWID tag.
    pub const UNREADABLE: Self = Self(4);
    /// The tag's own software identifier is not the one it was reported under.
    pub const IDENTIFIER_MISMATCH: Self = Self(8);
    /// Whether all of `other`'s flags are set.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
    /// Whether no flag is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl std::ops::BitOr for TagFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// A stored tag's description (without content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagInfo {
    /// The software identifier it is stored under.
    pub software_identifier: String,
    /// SHA-256 of the content (tags are content-addressed).
    pub sha256: [u8; 32],
    /// What the tag says.
    pub meta: SoftwareMeta,
    /// Imported from a trusted platform.
    pub trusted: bool,
    /// Why it needs a look.
    pub flags: TagFlags,
    /// Content length.
    pub size: usize,
    /// When it was first stored.
    pub added_at: UnixTime,
    /// Endpoint that first reported it (`None` for imported tags).
    pub reported_by: Option<String>,
}

/// A tag an endpoint sent (a Software Inventory Evidence Record, RFC 8412 §5.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedTag {
    /// The identifier it was reported under.
    pub software_identifier: String,
    /// Data Model Type.
    pub data_model: DataModel,
    /// The record bytes.
    pub content: Vec<u8>,
}

/// What storing one reported tag did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagOutcome {
    /// New content stored.
    Stored(TagFlags),
    /// This exact content was held already.
    AlreadyHeld,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Tags stored or newly marked trusted.
    pub imported: usize,
    /// Tags already held as trusted with this content.
    pub unchanged: usize,
    /// Files refused, with the reason.
    pub rejected: Vec<(String, String)>,
    /// The software identifiers of the tags imported (stored or newly trusted), in import
    /// order: their name, version and vendor may have changed (an evaluator re-evaluates the
    /// endpoints holding them).
    pub software_identifiers: Vec<String>,
}

/// A network device's ietf-system posture (profile §4) at one time.
#[derive(Debug, Clone, PartialEq)]
pub struct DevicePosture {
    /// Device identity.
    pub device: String,
    /// When it was read.
    pub at: UnixTime,
    /// The posture as JSON (e.g. a serde view of `netconf_client::ietf_system::SystemPosture`).
    pub posture: serde_json::Value,
}

impl DevicePosture {
    /// A stored reading: its time and JSON text.
    pub(crate) fn from_stored(device: &str, at: i64, json: &str) -> crate::Result<Self> {
        Ok(Self {
            device: device.to_owned(),
            at: UnixTime(at),
            posture: serde_json::from_str(json)?,
        })
    }
}

/// An administrative action to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEntry {
    /// When.
    pub at: UnixTime,
    /// Who: the token id or user.
    pub actor: String,
    /// What (e.g. `reassess`, `import-tags`).
    pub action: String,
    /// Its parameters.
    pub params: serde_json::Value,
}

/// A recorded administrative action.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Position in the log.
    pub id: i64,
    /// When.
    pub at: UnixTime,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// Parameters.
    pub params: serde_json::Value,
}

/// What [`verify_history`](crate::Repository::verify_history) found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainReport {
    /// Endpoints whose chain was walked.
    pub endpoints: usize,
    /// Rows checked.
    pub rows: usize,
    /// The first fault of each broken chain.
    pub faults: Vec<ChainFault>,
}

impl ChainReport {
    /// Whether every chain verified.
    pub fn is_intact(&self) -> bool {
        self.faults.is_empty()
    }
}

/// The first broken link of one endpoint's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainFault {
    /// The endpoint.
    pub endpoint: String,
    /// The row (sequence number) at fault.
    pub seq: i64,
    /// What is wrong with it.
    pub problem: ChainProblem,
}

/// How a chain is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainProblem {
    /// The row's content does not hash to its stored hash (edited), or its hash does not
    /// continue the previous row's.
    Altered,
    /// The row with this sequence number is missing (deleted).
    Missing,
    /// Rows at and after this sequence number are missing (the chain head recorded for the
    /// endpoint is further on).
    Truncated,
}
