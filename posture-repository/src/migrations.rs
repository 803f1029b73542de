//! Schema migrations: one ordered list for every backend, with the SQL split by dialect.
//!
//! Each [`Migration`] has a version (1, 2, … without gaps), a name and its SQL per
//! [`Dialect`]. A backend applies, in order and each in its own transaction, the migrations
//! whose version is above the highest recorded in its `schema_migrations` table, and records
//! each one (version, name, time) in the same transaction. A database whose recorded version is
//! above [`LATEST`] is refused ([`Error::SchemaTooNew`](crate::Error::SchemaTooNew)).
//!
//! Every entry carries the text of both dialects: a new migration adds both, so the two
//! schemas never drift apart (a unit test checks that no PostgreSQL text is missing). Keep new
//! SQL portable where the dialects agree. PostgreSQL text declares every text column
//! `COLLATE "C"` (byte order and ASCII-only `lower()`, as SQLite's `BINARY` and `NOCASE`),
//! integers `BIGINT` and booleans `BOOLEAN`.

/// A SQL dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite 3.35 or later (bundled with rusqlite).
    Sqlite,
    /// PostgreSQL 12 or later (the `postgres` feature).
    Postgres,
}

/// One schema step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// Version reached once applied.
    pub version: u32,
    /// Short description, recorded in the database.
    pub name: &'static str,
    /// SQLite text.
    pub sqlite: &'static str,
    /// PostgreSQL text (`None` only while a migration is being written; the PostgreSQL
    /// backend refuses to open a database it cannot bring to [`LATEST`]).
    pub postgres: Option<&'static str>,
}

impl Migration {
    /// The SQL for `dialect`, if written.
    pub fn sql(&self, dialect: Dialect) -> Option<&'static str> {
        match dialect {
            Dialect::Sqlite => Some(self.sqlite),
            Dialect::Postgres => self.postgres,
        }
    }
}

/// The newest schema version.
pub const LATEST: u32 = 5;

/// The table every backend records applied migrations in (portable SQL).
pub const BOOKKEEPING: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at BIGINT NOT NULL
)";

/// All migrations, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "endpoints, sessions, software, tags, installed, history",
        sqlite: V1_SQLITE,
        postgres: Some(V1_POSTGRES),
    },
    Migration {
        version: 2,
        name: "network device posture, audit log",
        sqlite: V2_SQLITE,
        postgres: Some(V2_POSTGRES),
    },
    Migration {
        version: 3,
        name: "append-only triggers on history and audit",
        sqlite: V3_SQLITE,
        postgres: Some(V3_POSTGRES),
    },
    Migration {
        version: 4,
        name: "evaluator: guidance changes, endpoint attributes, evaluations, findings",
        sqlite: crate::guidance::V4_SQLITE,
        postgres: Some(crate::guidance::V4_POSTGRES),
    },
    Migration {
        version: 5,
        name: "event log for subscribers",
        sqlite: crate::events::V5_SQLITE,
        postgres: Some(crate::events::V5_POSTGRES),
    },
];

/// The migrations to apply to a database at `current`, or the error for a newer database.
pub fn pending(current: u32) -> crate::Result<impl Iterator<Item = &'static Migration>> {
    if current > LATEST {
        return Err(crate::Error::SchemaTooNew {
            found: current,
            known: LATEST,
        });
    }
    Ok(MIGRATIONS.iter().filter(move |m| m.version > current))
}

const V1_SQLITE: &str = "
CREATE TABLE endpoint (
    id INTEGER PRIMARY KEY,
    identifier TEXT NOT NULL UNIQUE,
    cert_fingerprint BLOB,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    swima_epoch INTEGER,
    swima_last_eid INTEGER,
    head_seq INTEGER NOT NULL DEFAULT 0,
    head_hash BLOB NOT NULL DEFAULT (zeroblob(32))
);
CREATE TABLE session (
    id INTEGER PRIMARY KEY,
    endpoint_id INTEGER NOT NULL REFERENCES endpoint(id),
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    manager_instance TEXT NOT NULL,
    peer_address TEXT NOT NULL,
    result TEXT
);
CREATE INDEX session_endpoint ON session(endpoint_id, id);
CREATE INDEX session_open ON session(endpoint_id) WHERE ended_at IS NULL;
CREATE INDEX session_open_instance ON session(manager_instance) WHERE ended_at IS NULL;
CREATE TABLE software (
    id INTEGER PRIMARY KEY,
    software_identifier TEXT NOT NULL UNIQUE,
    name TEXT,
    version TEXT,
    vendor TEXT,
    regid TEXT,
    meta_trusted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX software_name ON software(name COLLATE NOCASE);
CREATE INDEX software_vendor ON software(vendor COLLATE NOCASE);
CREATE INDEX software_regid ON software(regid COLLATE NOCASE);
CREATE TABLE tag (
    id INTEGER PRIMARY KEY,
    software_identifier TEXT NOT NULL,
    sha256 BLOB NOT NULL,
    content BLOB NOT NULL,
    trusted INTEGER NOT NULL,
    flags INTEGER NOT NULL,
    name TEXT,
    version TEXT,
    vendor TEXT,
    regid TEXT,
    added_at INTEGER NOT NULL,
    reported_by INTEGER REFERENCES endpoint(id),
    UNIQUE (software_identifier, sha256)
);
CREATE INDEX tag_vendor ON tag(vendor COLLATE NOCASE);
CREATE INDEX tag_regid ON tag(regid COLLATE NOCASE);
CREATE TABLE installed (
    endpoint_id INTEGER NOT NULL REFERENCES endpoint(id),
    software_id INTEGER NOT NULL REFERENCES software(id),
    source_id INTEGER NOT NULL,
    record_id INTEGER NOT NULL,
    locator TEXT NOT NULL,
    dm_pen INTEGER NOT NULL,
    dm_type INTEGER NOT NULL,
    since INTEGER NOT NULL,
    PRIMARY KEY (endpoint_id, software_id, source_id)
) WITHOUT ROWID;
CREATE INDEX installed_software ON installed(software_id, endpoint_id);
CREATE TABLE history (
    endpoint_id INTEGER NOT NULL REFERENCES endpoint(id),
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    software_identifier TEXT,
    dm_pen INTEGER,
    dm_type INTEGER,
    source_id INTEGER,
    record_id INTEGER,
    locator TEXT,
    eid INTEGER,
    event_time INTEGER,
    epoch INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (endpoint_id, seq)
) WITHOUT ROWID;
";

const V2_SQLITE: &str = "
CREATE TABLE device_posture (
    id INTEGER PRIMARY KEY,
    device TEXT NOT NULL,
    at INTEGER NOT NULL,
    posture TEXT NOT NULL
);
CREATE INDEX device_posture_device ON device_posture(device, at, id);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    params TEXT NOT NULL
);
";

const V3_SQLITE: &str = "
CREATE TRIGGER history_no_update BEFORE UPDATE ON history
    BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
CREATE TRIGGER history_no_delete BEFORE DELETE ON history
    BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
";

const V1_POSTGRES: &str = r#"
CREATE TABLE endpoint (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    identifier TEXT COLLATE "C" NOT NULL UNIQUE,
    cert_fingerprint BYTEA,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    swima_epoch BIGINT,
    swima_last_eid BIGINT,
    head_seq BIGINT NOT NULL DEFAULT 0,
    head_hash BYTEA NOT NULL DEFAULT decode(repeat('00', 32), 'hex')
);
CREATE TABLE session (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    endpoint_id BIGINT NOT NULL REFERENCES endpoint(id),
    started_at BIGINT NOT NULL,
    ended_at BIGINT,
    manager_instance TEXT COLLATE "C" NOT NULL,
    peer_address TEXT COLLATE "C" NOT NULL,
    result TEXT COLLATE "C"
);
CREATE INDEX session_endpoint ON session(endpoint_id, id);
CREATE INDEX session_open ON session(endpoint_id) WHERE ended_at IS NULL;
CREATE INDEX session_open_instance ON session(manager_instance) WHERE ended_at IS NULL;
CREATE TABLE software (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    software_identifier TEXT COLLATE "C" NOT NULL UNIQUE,
    name TEXT COLLATE "C",
    version TEXT COLLATE "C",
    vendor TEXT COLLATE "C",
    regid TEXT COLLATE "C",
    meta_trusted BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX software_name ON software(lower(name));
CREATE INDEX software_vendor ON software(lower(vendor));
CREATE INDEX software_regid ON software(lower(regid));
CREATE TABLE tag (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    software_identifier TEXT COLLATE "C" NOT NULL,
    sha256 BYTEA NOT NULL,
    content BYTEA NOT NULL,
    trusted BOOLEAN NOT NULL,
    flags BIGINT NOT NULL,
    name TEXT COLLATE "C",
    version TEXT COLLATE "C",
    vendor TEXT COLLATE "C",
    regid TEXT COLLATE "C",
    added_at BIGINT NOT NULL,
    reported_by BIGINT REFERENCES endpoint(id),
    UNIQUE (software_identifier, sha256)
);
CREATE INDEX tag_vendor ON tag(lower(vendor));
CREATE INDEX tag_regid ON tag(lower(regid));
CREATE TABLE installed (
    endpoint_id BIGINT NOT NULL REFERENCES endpoint(id),
    software_id BIGINT NOT NULL REFERENCES software(id),
    source_id BIGINT NOT NULL,
    record_id BIGINT NOT NULL,
    locator TEXT COLLATE "C" NOT NULL,
    dm_pen BIGINT NOT NULL,
    dm_type BIGINT NOT NULL,
    since BIGINT NOT NULL,
    PRIMARY KEY (endpoint_id, software_id, source_id)
);
CREATE INDEX installed_software ON installed(software_id, endpoint_id);
CREATE TABLE history (
    endpoint_id BIGINT NOT NULL REFERENCES endpoint(id),
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    kind BIGINT NOT NULL,
    software_identifier TEXT COLLATE "C",
    dm_pen BIGINT,
    dm_type BIGINT,
    source_id BIGINT,
    record_id BIGINT,
    locator TEXT COLLATE "C",
    eid BIGINT,
    event_time BIGINT,
    epoch BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    PRIMARY KEY (endpoint_id, seq)
);
"#;

const V2_POSTGRES: &str = r#"
CREATE TABLE device_posture (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    device TEXT COLLATE "C" NOT NULL,
    at BIGINT NOT NULL,
    posture TEXT NOT NULL
);
CREATE INDEX device_posture_device ON device_posture(device, at, id);
CREATE TABLE audit (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT COLLATE "C" NOT NULL,
    action TEXT COLLATE "C" NOT NULL,
    params TEXT NOT NULL
);
"#;

const V3_POSTGRES: &str = "
CREATE FUNCTION nea_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END
$$;
CREATE TRIGGER history_no_update BEFORE UPDATE OR DELETE ON history
    FOR EACH ROW EXECUTE FUNCTION nea_append_only();
CREATE TRIGGER history_no_truncate BEFORE TRUNCATE ON history
    FOR EACH STATEMENT EXECUTE FUNCTION nea_append_only();
CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION nea_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION nea_append_only();
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_and_end_at_latest() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1);
            assert!(m.sql(Dialect::Sqlite).is_some());
            assert!(
                m.sql(Dialect::Postgres).is_some(),
                "{} has no PostgreSQL text",
                m.name
            );
        }
        assert_eq!(MIGRATIONS.last().map(|m| m.version), Some(LATEST));
        assert_eq!(pending(0).unwrap().count(), MIGRATIONS.len());
        assert_eq!(pending(LATEST).unwrap().count(), 0);
        assert!(matches!(
            pending(LATEST + 1).map(|_| ()),
            Err(crate::Error::SchemaTooNew { .. })
        ));
    }
}
