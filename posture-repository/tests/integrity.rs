//! Tamper evidence (hash-chained history), append-only history and audit log, schema
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
//! migrations on an existing older file, network device posture.

#[path = "common/fixture.rs"]
mod fixture;

use fixture::*;
use posture_repository::migrations::{BOOKKEEPING, Dialect, LATEST, MIGRATIONS};
use posture_repository::*;
use rusqlite::Connection;

/// Two endpoints with 5 and 4 history rows, in a store that raw SQL can reach.
fn populated(b: Backend) -> Store {
    let store = b.store();
    let repo = store.open();
    for ep in ["ep1", "ep2"] {
        connect(&repo, ep, 1);
        repo.apply_inventory(
            ep,
            &inventory(1, 0, 10, vec![rec("a__1", 1), rec("b__1", 2)]),
        )
        .unwrap();
        repo.apply_events(
            ep,
            &batch(
                1,
                1,
                20,
                vec![event(1, EventAction::Remove, rec("a__1", 1))],
            ),
        )
        .unwrap();
    }
    repo.apply_events(
        "ep1",
        &batch(
            1,
            2,
            30,
            vec![event(2, EventAction::Install, rec("c__1", 3))],
        ),
    )
    .unwrap();
    assert!(repo.verify_history().unwrap().is_intact());
    store
}

/// Runs `sql` with the append-only triggers out of the way (what an attacker with access to
/// the file, or with the table owner's rights, can do).
fn attack(store: &Store, sql: &str) {
    let off = if store.is_postgres() {
        "ALTER TABLE history DISABLE TRIGGER USER;"
    } else {
        "DROP TRIGGER history_no_update; DROP TRIGGER history_no_delete;"
    };
    store.raw(&format!("{off} {sql}")).unwrap();
}

/// Verification by a handle opened afresh.
fn verify(store: &Store) -> ChainReport {
    store.open().verify_history().unwrap()
}

const EP1: &str = "(SELECT id FROM endpoint WHERE identifier = 'ep1')";

fn an_intact_history_verifies(b: Backend) {
    let store = populated(b);
    let r = verify(&store);
    assert_eq!((r.endpoints, r.rows, r.faults.len()), (2, 9, 0));
    let repo = store.open();
    let heads = repo.chain_heads(ALL).unwrap();
    assert_eq!(heads.len(), 2);
    assert_eq!(heads[0].seq, 5);
    assert_eq!(heads[0].hash, repo.history("ep1", ALL).unwrap()[4].hash);
}

/// Populates a store, lets the attacker run `sql`, and returns what verification finds.
fn tampered(b: Backend, sql: &str) -> Vec<(String, i64, ChainProblem)> {
    let store = populated(b);
    attack(&store, &sql.replace("EP1", EP1));
    let r = verify(&store);
    assert_eq!(r.endpoints, 2);
    r.faults
        .into_iter()
        .map(|f| (f.endpoint, f.seq, f.problem))
        .collect()
}

fn ep1(seq: i64, problem: ChainProblem) -> Vec<(String, i64, ChainProblem)> {
    vec![("ep1".to_string(), seq, problem)]
}

fn an_altered_row_is_named(b: Backend) {
    // Rewrite "a__1 removed" at seq 4 into a removal of b__1.
    let sql = "UPDATE history SET software_identifier = 'b__1' WHERE endpoint_id = EP1 AND seq = 4";
    assert_eq!(tampered(b, sql), ep1(4, ChainProblem::Altered));
}

fn an_altered_row_with_a_borrowed_hash_is_named(b: Backend) {
    // Copying another row's hash into row 2 (a forger without the chain) does not help.
    let sql = "UPDATE history SET at = 5,
        hash = (SELECT hash FROM history WHERE endpoint_id = EP1 AND seq = 3)
        WHERE endpoint_id = EP1 AND seq = 2";
    assert_eq!(tampered(b, sql), ep1(2, ChainProblem::Altered));
}

fn an_unreadable_value_is_named_as_altered(b: Backend) {
    // A value the row type cannot hold (an EID above 32 bits).
    let sql = "UPDATE history SET eid = 4294967296 WHERE endpoint_id = EP1 AND seq = 5";
    assert_eq!(tampered(b, sql), ep1(5, ChainProblem::Altered));
}

fn a_deleted_row_is_named(b: Backend) {
    let sql = "DELETE FROM history WHERE endpoint_id = EP1 AND seq = 3";
    assert_eq!(tampered(b, sql), ep1(3, ChainProblem::Missing));
}

fn deleting_the_newest_rows_is_detected_by_the_head(b: Backend) {
    let sql = "DELETE FROM history WHERE endpoint_id = EP1 AND seq >= 4";
    assert_eq!(tampered(b, sql), ep1(4, ChainProblem::Truncated));
}

fn history_and_audit_refuse_update_and_delete_in_the_database_too(b: Backend) {
    let store = populated(b);
    let repo = store.open();
    let id = repo
        .append_audit(&NewAuditEntry {
            at: UnixTime(100),
            actor: "token:admin-1".into(),
            action: "reassess".into(),
            params: serde_json::json!({ "endpoint": "ep1" }),
        })
        .unwrap();
    repo.append_audit(&NewAuditEntry {
        at: UnixTime(101),
        actor: "token:admin-2".into(),
        action: "import-tags".into(),
        params: serde_json::json!({ "dir": "/srv/tags", "imported": 3 }),
    })
    .unwrap();
    let log = repo.audit_log(ALL).unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[1].id, id); // newest first
    assert_eq!(
        (log[1].actor.as_str(), log[1].action.as_str()),
        ("token:admin-1", "reassess")
    );
    assert_eq!(log[0].params["imported"], 3);
    assert_eq!(
        repo.audit_log(Page {
            offset: 1,
            limit: 1
        })
        .unwrap()[0]
            .id,
        id
    );

    let mut refused = vec![
        "UPDATE audit SET actor = 'someone else'",
        "DELETE FROM audit",
        "UPDATE history SET at = 0",
        "DELETE FROM history",
    ];
    if store.is_postgres() {
        refused.extend(["TRUNCATE history", "TRUNCATE audit"]);
    }
    for sql in refused {
        let e = store.raw(sql).unwrap_err();
        assert!(e.contains("append-only"), "{sql}: {e}");
    }
    assert_eq!(repo.audit_log(ALL).unwrap(), log);
    assert!(repo.verify_history().unwrap().is_intact());
}

fn dialect(store: &Store) -> Dialect {
    if store.is_postgres() {
        Dialect::Postgres
    } else {
        Dialect::Sqlite
    }
}

fn an_older_database_is_migrated_in_place(b: Backend) {
    let store = b.store();
    // A database as the first release wrote it: schema version 1 only, with data.
    store.raw(BOOKKEEPING).unwrap();
    store
        .raw(MIGRATIONS[0].sql(dialect(&store)).unwrap())
        .unwrap();
    store
        .raw(
            "INSERT INTO schema_migrations VALUES (1, 'v1', 0);
             INSERT INTO endpoint (identifier, first_seen, last_seen) VALUES ('old-ep', 5, 6);",
        )
        .unwrap();
    let repo = store.open();
    let ep = repo.endpoint("old-ep").unwrap().unwrap();
    assert_eq!((ep.first_seen, ep.last_seen), (UnixTime(5), UnixTime(6)));
    // Tables of later versions work, and the old endpoint takes new data.
    repo.append_audit(&NewAuditEntry {
        at: UnixTime(7),
        actor: "t".into(),
        action: "a".into(),
        params: serde_json::Value::Null,
    })
    .unwrap();
    connect(&repo, "old-ep", 8);
    repo.apply_inventory("old-ep", &inventory(1, 0, 9, vec![rec("a__1", 1)]))
        .unwrap();
    assert!(repo.verify_history().unwrap().is_intact());
    drop(repo);
    let versions =
        || store.raw_i64s("SELECT CAST(version AS BIGINT) FROM schema_migrations ORDER BY version");
    let all: Vec<i64> = (1..=i64::from(LATEST)).collect();
    assert_eq!(versions(), all);
    // Opening again applies nothing twice, and the data is still there.
    let again = store.open();
    assert_eq!(versions(), all);
    assert_eq!(again.installed("old-ep", ALL).unwrap().len(), 1);
    assert!(again.verify_history().unwrap().is_intact());
}

fn managers_starting_together_migrate_once(b: Backend) {
    let store = std::sync::Arc::new(b.store());
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || store.open().verify_history().unwrap())
        })
        .collect();
    for h in handles {
        assert!(h.join().unwrap().is_intact());
    }
    assert_eq!(
        store.raw_i64s("SELECT CAST(version AS BIGINT) FROM schema_migrations ORDER BY version"),
        (1..=i64::from(LATEST)).collect::<Vec<_>>()
    );
}

fn a_newer_database_is_refused(b: Backend) {
    let store = b.store();
    drop(store.open());
    store
        .raw(&format!(
            "INSERT INTO schema_migrations VALUES ({}, 'future', 0)",
            LATEST + 1
        ))
        .unwrap();
    let e = store.try_open().err().unwrap();
    assert!(
        matches!(e, Error::SchemaTooNew { found, known } if found == LATEST + 1 && known == LATEST),
        "{e}"
    );
}

#[test]
fn the_file_is_wal_with_foreign_keys() {
    let dir = TempDir::new("pragmas");
    let repo = SqliteRepository::open(dir.db(), SqliteConfig::default()).unwrap();
    connect(&repo, "ep", 1);
    let c = Connection::open(dir.db()).unwrap();
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    // The schema declares its references: with foreign keys on (as the repository's own
    // connection has them), an installed row for a missing endpoint is refused.
    c.pragma_update(None, "foreign_keys", true).unwrap();
    assert!(
        c.execute(
            "INSERT INTO installed VALUES (999, 999, 0, 1, '', 0, 0, 0)",
            []
        )
        .is_err()
    );
}

fn device_posture_now_and_as_of(b: Backend) {
    let repo = b.open();
    let posture = |host: &str, forwarding: bool| serde_json::json!({ "hostname": host, "platform": { "os-name": "Linux" }, "forwarding": forwarding });
    for (at, fwd) in [(100, false), (200, true), (300, false)] {
        repo.store_device_posture(&DevicePosture {
            device: "switch-1".into(),
            at: UnixTime(at),
            posture: posture("sw1", fwd),
        })
        .unwrap();
    }
    let now = repo.device_posture("switch-1", None).unwrap().unwrap();
    assert_eq!(
        (now.at, &now.posture),
        (UnixTime(300), &posture("sw1", false))
    );
    let then = repo
        .device_posture("switch-1", Some(UnixTime(250)))
        .unwrap()
        .unwrap();
    assert_eq!(
        (then.at, then.posture["forwarding"].as_bool()),
        (UnixTime(200), Some(true))
    );
    assert_eq!(
        repo.device_posture("switch-1", Some(UnixTime(99))).unwrap(),
        None
    );
    assert_eq!(repo.device_posture("other", None).unwrap(), None);
    let h = repo.device_history("switch-1", Page::first(2)).unwrap();
    assert_eq!(h.iter().map(|p| p.at.0).collect::<Vec<_>>(), [300, 200]);
    let big = b.limited(Limits {
        max_json_bytes: 10,
        ..Limits::default()
    });
    let e = big
        .store_device_posture(&DevicePosture {
            device: "d".into(),
            at: UnixTime(1),
            posture: posture("x", true),
        })
        .unwrap_err();
    assert!(matches!(
        e,
        Error::TooLarge {
            what: "device posture",
            ..
        }
    ));
}

fn a_device_reading_is_stored_with_its_events(b: Backend) {
    use posture_repository::events::{EventFilter, EventKind, NewEvent, Severity};
    let repo = b.limited(Limits {
        max_json_bytes: 200,
        ..Limits::default()
    });
    let reading = |at| DevicePosture {
        device: "switch-1".into(),
        at: UnixTime(at),
        posture: serde_json::json!({ "hostname": "sw1" }),
    };
    let event = |pad: usize| NewEvent {
        at: UnixTime(1),
        kind: EventKind::DevicePosture,
        endpoint: None,
        device: Some("switch-1".into()),
        severity: Severity::Info,
        payload: serde_json::json!({ "pad": "x".repeat(pad) }),
    };
    let log = |repo: &Repo| {
        repo.events_since(0, &EventFilter::default(), 10)
            .unwrap()
            .events
    };
    let stored = repo
        .store_device_posture_publishing(&reading(100), &[event(0)])
        .unwrap();
    assert_eq!((stored.len(), stored[0].id), (1, 1));
    assert_eq!(log(&repo), stored);
    // No event: the reading alone.
    assert!(
        repo.store_device_posture_publishing(&reading(200), &[])
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        repo.device_posture("switch-1", None).unwrap().unwrap().at,
        UnixTime(200)
    );
    // An event the log refuses takes its reading with it.
    assert!(matches!(
        repo.store_device_posture_publishing(&reading(300), &[event(0), event(500)]),
        Err(Error::TooLarge { .. })
    ));
    assert_eq!(
        repo.device_posture("switch-1", None).unwrap().unwrap().at,
        UnixTime(200)
    );
    assert_eq!(log(&repo).len(), 1);
}

on_both!(
    an_intact_history_verifies,
    an_altered_row_is_named,
    an_altered_row_with_a_borrowed_hash_is_named,
    an_unreadable_value_is_named_as_altered,
    a_deleted_row_is_named,
    deleting_the_newest_rows_is_detected_by_the_head,
    history_and_audit_refuse_update_and_delete_in_the_database_too,
    an_older_database_is_migrated_in_place,
    managers_starting_together_migrate_once,
    a_newer_database_is_refused,
    device_posture_now_and_as_of,
    a_device_reading_is_stored_with_its_events,
);
