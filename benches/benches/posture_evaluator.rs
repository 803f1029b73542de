//! posture-evaluator benchmarks (`posture_evaluator/<op>/<case>`), issue 13 §1:
//!
//! - `new_rule/…`: one new vulnerable-software rule (`put_rule`: stored as a guidance
//!   revision, affected endpoints found through the repository's indexes, each re-evaluated
//!   and its new result stored) over a fleet of 10,000 endpoints × 1,000 installed records
//!   (20,000 packages, each on 500 endpoints; every endpoint already evaluated). Each
//!   iteration adds a rule for another package, so each one changes 500 stored results.
//! - `event/…`: one SWIMA event (an install or removal of a package that a rule names) on an
//!   endpoint with 1,000 records, against 1,000 rules (and 10, for comparison): the
//!   evaluator call alone (`evaluate_only`: the same change re-checked, nothing to store) and
//!   ingest plus evaluation (`ingest_and_evaluate`: install then removal, two stored results).
//!
//! The 10-million-row fleet is written with SQL straight into a file of the repository's
//! schema (as a manager that ingested it would have it), once, into
//! `$TMPDIR/posture-evaluator-bench-fleet-v1.sqlite`, and copied for each run; delete the file
//! to rebuild it. Under `cargo test --benches` (no `--bench` argument) the fleet is 100
//! endpoints, built fresh.

// A bench whose setup or calls fail has nothing to measure: it stops with the reason.
#![allow(clippy::expect_used)]

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use nea_benches::cpu_timed;
use posture_evaluator::{Evaluator, Rule};
use posture_repository::{
    DataModel, EventAction, EventBatch, Inventory, NewSession, Record, Repository, SoftwareEvent,
    SqliteConfig, SqliteRepository, UnixTime,
};
use std::hint::black_box;
use std::path::{Path, PathBuf};

const PACKAGES: u32 = 20_000;
const RECORDS: u32 = 1_000;

struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        let p =
            std::env::temp_dir().join(format!("posture-eval-bench-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create scratch folder");
        Self(p)
    }
    fn db(&self) -> PathBuf {
        self.0.join("repo.sqlite")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes the fleet: `endpoints` endpoints, each with 1,000 of the 20,000 packages
/// (`(e * 37 + r * 20) mod 20,000` for r < 1,000: each package on 1/20 of the endpoints),
/// package p named `pkg-p` at version `1.(p mod 7)` by one of 50 vendors, and a stored
/// (empty) evaluation per endpoint.
fn build_fleet(path: &Path, endpoints: u32) {
    drop(SqliteRepository::open(path, SqliteConfig::default()).expect("create schema"));
    let c = rusqlite::Connection::open(path).expect("open fleet");
    c.execute_batch(&format!(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;
         BEGIN;
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last_ep})
         INSERT INTO endpoint (id, identifier, first_seen, last_seen)
             SELECT i + 1, printf('endpoint-%05d', i), 1, 1 FROM n;
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last_pkg})
         INSERT INTO software (id, software_identifier, name, version, vendor, regid, meta_trusted)
             SELECT i + 1, printf('vendor%d.example__pkg-%05d', i % 50, i), printf('pkg-%05d', i),
                 printf('1.%d', i % 7), printf('Vendor %d', i % 50),
                 printf('vendor%d.example', i % 50), 1 FROM n;
         DROP INDEX installed_software;
         WITH RECURSIVE e(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM e WHERE i < {last_ep}),
              r(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM r WHERE j < {last_rec})
         INSERT INTO installed (endpoint_id, software_id, source_id, record_id, locator, dm_pen,
                 dm_type, since)
             SELECT i + 1, ((i * 37 + j * 20) % {PACKAGES}) + 1, 0, j, '', 0, 0, 1
             FROM e CROSS JOIN r;
         CREATE INDEX installed_software ON installed(software_id, endpoint_id);
         INSERT INTO evaluation (endpoint_id, at, guidance_revision, recommendation, result, detail)
             SELECT id, 1, 0, 0, 0, '{{\"findings\":[]}}' FROM endpoint;
         COMMIT;
         PRAGMA wal_checkpoint(TRUNCATE);",
        last_ep = endpoints - 1,
        last_pkg = PACKAGES - 1,
        last_rec = RECORDS - 1,
    ))
    .expect("write fleet");
}

fn vulnerable(p: u32) -> Rule {
    Rule::from_json(&format!(
        r#"{{"id":"vuln-{p}","severity":"major","recommendation":"isolate",
            "when":{{"software":{{"name":"pkg-{p:05}","versions":{{"below":"2"}}}}}}}}"#
    ))
    .expect("rule")
}

fn new_rule(c: &mut Criterion) {
    let full = std::env::args().any(|a| a == "--bench");
    let endpoints = if full { 10_000 } else { 100 };
    let scratch = Scratch::new("fleet");
    if full {
        let pristine = std::env::temp_dir().join("posture-evaluator-bench-fleet-v1.sqlite");
        if !pristine.exists() {
            let building = pristine.with_extension("building");
            let _ = std::fs::remove_file(&building);
            build_fleet(&building, endpoints);
            std::fs::rename(&building, &pristine).expect("keep fleet");
        }
        std::fs::copy(&pristine, scratch.db()).expect("copy fleet");
    } else {
        build_fleet(&scratch.db(), endpoints);
    }
    let repo = SqliteRepository::open(scratch.db(), SqliteConfig::default()).expect("open");
    let ev = Evaluator::load(&repo).expect("load");
    let mut g = c.benchmark_group("posture_evaluator/new_rule");
    g.sample_size(10);
    let mut p = 0;
    let mut next_rule = || {
        p = (p + 1) % PACKAGES;
        (vulnerable(p), UnixTime(10 + i64::from(p)))
    };
    let affected = usize::try_from(endpoints / 20).unwrap_or(0);
    let put = |(rule, at): (Rule, UnixTime)| {
        let up = ev.put_rule(&repo, rule, "bench", at).expect("put rule");
        assert_eq!(up.results.len(), affected);
        up
    };
    g.bench_function(format!("vulnerable_package_{endpoints}x{RECORDS}"), |b| {
        b.iter_batched(&mut next_rule, put, BatchSize::SmallInput);
    });
    // The same in CPU time of the bench thread (SQLite works on it): what a rule costs, not
    // how long it waited for a core on the shared machine. (Not for the event benches: the
    // kernel's per-thread CPU time advances in scheduler ticks, too coarse for ~100 µs.)
    g.bench_function(
        format!("vulnerable_package_{endpoints}x{RECORDS}_cpu"),
        |b| {
            b.iter_custom(|iters| cpu_timed(iters, &mut next_rule, put));
        },
    );
    g.finish();
}

fn record(p: u32, record_id: u32) -> Record {
    Record {
        software_identifier: format!("vendor{}.example__pkg-{p:05}", p % 50),
        data_model: DataModel::SWID_2015,
        source_id: 0,
        record_id,
        locator: String::new(),
        tag: None,
    }
}

fn tag(p: u32) -> (String, Vec<u8>) {
    let body = format!(
        "<SoftwareIdentity xmlns=\"http://standards.iso.org/iso/19770/-2/2015/schema.xsd\" \
         name=\"pkg-{p:05}\" version=\"1.{}\" tagId=\"pkg-{p:05}\">\
         <Entity name=\"Vendor {}\" regid=\"vendor{}.example\" role=\"tagCreator\"/>\
         </SoftwareIdentity>",
        p % 7,
        p % 50,
        p % 50
    );
    (format!("pkg-{p}"), body.into_bytes())
}

/// One endpoint with 1,000 records (packages 1,000–1,999) and `rules` rules, one per package
/// name for packages 0..`rules` (none matches what is installed).
fn event_setup(rules: u32) -> (SqliteRepository, Evaluator) {
    let repo = SqliteRepository::open_in_memory(SqliteConfig::default()).expect("open");
    let mut tags = (0..2_000).map(tag);
    repo.import_tags(&mut tags, UnixTime(1)).expect("tags");
    repo.session_started(&NewSession {
        endpoint: "ep".into(),
        cert_fingerprint: None,
        manager_instance: "bench".into(),
        peer_address: "127.0.0.1:1".into(),
        at: UnixTime(1),
    })
    .expect("session");
    repo.apply_inventory(
        "ep",
        &Inventory {
            epoch: 1,
            last_eid: 0,
            received_at: UnixTime(2),
            records: (0..RECORDS).map(|i| record(1_000 + i, i)).collect(),
        },
    )
    .expect("inventory");
    let ev = Evaluator::load(&repo).expect("load");
    for p in 0..rules {
        ev.put_rule(&repo, vulnerable(p), "bench", UnixTime(3))
            .expect("rule");
    }
    ev.evaluate_endpoint(&repo, "ep", UnixTime(4))
        .expect("evaluate");
    (repo, ev)
}

fn batch(eid: u32, action: EventAction) -> EventBatch {
    EventBatch {
        epoch: 1,
        last_eid: eid,
        received_at: UnixTime(5),
        events: vec![SoftwareEvent {
            eid,
            timestamp: UnixTime(5),
            action,
            record: record(7, 5_000),
        }],
    }
}

fn event(c: &mut Criterion) {
    let mut g = c.benchmark_group("posture_evaluator/event");
    for rules in [10, 1_000] {
        let (repo, ev) = event_setup(rules);
        let changed = vec![record(7, 0).software_identifier];
        let mut eid = 0;
        // Install package 7 (a rule names it): the stored result changes.
        eid += 1;
        repo.apply_events("ep", &batch(eid, EventAction::Install))
            .expect("install");
        let evaluate = || {
            ev.on_software_changes(&repo, "ep", &changed, UnixTime(6))
                .expect("evaluate")
        };
        evaluate();
        g.bench_function(format!("evaluate_only_{rules}_rules"), |b| {
            b.iter(|| black_box(evaluate()));
        });
        let mut two_events = || {
            for action in [EventAction::Remove, EventAction::Install] {
                eid += 1;
                repo.apply_events("ep", &batch(eid, action))
                    .expect("ingest");
                assert!(evaluate().is_some_and(|c| c.recommendation_changed()));
            }
        };
        g.bench_function(format!("ingest_and_evaluate_{rules}_rules"), |b| {
            b.iter(&mut two_events);
        });
    }
    g.finish();
}

criterion_group!(benches, new_rule, event);
criterion_main!(benches);
