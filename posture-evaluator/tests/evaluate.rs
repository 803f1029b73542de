//! Evaluation with evidence, guidance versioning, history, incremental updates.
// The test bodies are plain functions that on_both!/proptest! call (clippy's test
// exemption sees only #[test] functions).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

#[path = "common/fixture.rs"]
mod fixture;

use fixture::*;
use posture_evaluator::*;
use posture_repository::events::{self, EventFilter, EventKind, NewEvent};
use posture_repository::{EventAction, EventLog, Page, UnixTime};
use tnc_if::{ActionRecommendation as A, EvaluationResult as E};

/// Runs each named test (a `fn(&dyn Store)`) on SQLite in memory, and with the `postgres`
/// feature on PostgreSQL too (`#[ignore]`d: `NEA_TEST_POSTGRES_URL` and `--ignored`).
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $name() {
                super::$name(&super::memory())
            })*
        }
        #[cfg(feature = "postgres")]
        mod postgres {
            $(#[test]
            #[ignore = "needs PostgreSQL: NEA_TEST_POSTGRES_URL and --ignored (scripts/test.sh)"]
            fn $name() {
                let pg = super::PgRepo::new();
                super::$name(&pg.repo)
            })*
        }
    };
}

on_both!(
    a_new_rule_finds_affected_endpoints_with_evidence,
    events_update_incrementally_and_history_answers_state_at_time,
    guidance_is_versioned_and_changes_reevaluate,
    os_attribute_and_stale_rules,
    tag_id_and_vendor_rules_and_combination,
    metadata_arriving_later_reevaluates_every_holder,
    a_publishing_evaluator_stores_each_result_with_its_events,
);

fn a_publishing_evaluator_stores_each_result_with_its_events<R: Store + EventLog>(repo: &R) {
    let log = |repo: &R| {
        repo.events_since(0, &EventFilter::default(), 100)
            .unwrap()
            .events
    };
    let old = openssl("3.0.11");
    import(repo, std::slice::from_ref(&old));
    for ep in ["ep1", "ep2"] {
        connect(repo, ep, 100);
        inventory(repo, ep, 100, &[old.id()]);
    }
    let ev = Evaluator::load(repo).unwrap().with_publisher(|c| {
        vec![NewEvent {
            at: UnixTime(1),
            kind: EventKind::EvaluationResult,
            endpoint: Some(c.endpoint.clone()),
            device: None,
            severity: events::Severity::Warning,
            payload: serde_json::json!({
                "evaluation_id": c.evaluation_id,
                "changed": c.recommendation_changed(),
                "events_known": c.events.len(),
            }),
        }]
    });
    let r = software_rule(
        "old-openssl",
        r#"{"name":"OpenSSL","versions":{"below":"3.0.13"}}"#,
        "isolate",
    );
    let up = ev.put_rule(repo, r, "admin", UnixTime(200)).unwrap();
    assert_eq!(up.results.len(), 2);
    let stored = log(repo);
    let announced: Vec<_> = up.results.iter().flat_map(|c| c.events.clone()).collect();
    assert_eq!(stored, announced);
    for (c, e) in up.results.iter().zip(&stored) {
        assert_eq!(e.endpoint.as_deref(), Some(c.endpoint.as_str()));
        assert_eq!(
            e.payload,
            serde_json::json!({
                "evaluation_id": c.evaluation_id,
                "changed": true,
                "events_known": 0,
            })
        );
    }
    // An evaluator without a publisher stores results and announces nothing.
    let quiet = Evaluator::load(repo).unwrap();
    let up = quiet
        .remove_rule(repo, "old-openssl", "admin", UnixTime(300))
        .unwrap();
    assert_eq!(up.results.len(), 2);
    assert!(up.results.iter().all(|c| c.events.is_empty()));
    assert_eq!(log(repo).len(), 2);
}

fn openssl(v: &str) -> Pkg {
    Pkg::new("openssl", v, "OpenSSL")
}

fn a_new_rule_finds_affected_endpoints_with_evidence(repo: &dyn Store) {
    let (old, new, other) = (
        openssl("3.0.11"),
        openssl("3.0.13"),
        Pkg::new("bash", "5.2", "GNU"),
    );
    import(repo, &[old.clone(), new.clone(), other.clone()]);
    for (ep, pkgs) in [
        ("ep1", vec![&old, &other]),
        ("ep2", vec![&new, &other]),
        ("ep3", vec![&old]),
    ] {
        connect(repo, ep, 100);
        inventory(
            repo,
            ep,
            100,
            &pkgs.iter().map(|p| p.id()).collect::<Vec<_>>(),
        );
    }
    let ev = Evaluator::load(repo).unwrap();
    for ep in ["ep1", "ep2", "ep3"] {
        let c = ev
            .evaluate_endpoint(repo, ep, UnixTime(110))
            .unwrap()
            .unwrap();
        assert_eq!(c.after.recommendation, A::Allow);
        assert!(!c.recommendation_changed());
    }
    let r = software_rule(
        "CVE-2023-5678",
        r#"{"name":"OpenSSL","vendor":"openssl.example","versions":{"below":"3.0.13"}}"#,
        "isolate",
    );
    let up = ev
        .put_rule(repo, r, "token-admin-1", UnixTime(200))
        .unwrap();
    assert_eq!(up.change.revision, 1);
    assert_eq!(up.change.author, "token-admin-1");
    let changed: Vec<&str> = up.results.iter().map(|c| c.endpoint.as_str()).collect();
    assert_eq!(changed, ["ep1", "ep3"]);
    assert!(up.results.iter().all(ResultChange::recommendation_changed));
    let e1 = Evaluator::current(repo, "ep1").unwrap().unwrap();
    assert_eq!(e1.outcome.recommendation, A::Isolate);
    assert_eq!(e1.outcome.result, E::NonCompliantMajor);
    let f = e1.finding("CVE-2023-5678").unwrap();
    assert_eq!(f.rule_revision, 1);
    assert_eq!(
        f.evidence,
        [Evidence::Software {
            software_identifier: old.id(),
            source_id: 0,
            name: Some("openssl".into()),
            version: Some("3.0.11".into()),
            vendor: Some("OpenSSL".into()),
        }]
    );
    let e2 = Evaluator::current(repo, "ep2").unwrap().unwrap();
    assert!(e2.findings.is_empty());
    assert_eq!(e2.outcome.recommendation, A::Allow);
    assert_eq!(
        repo.endpoints_with_finding("CVE-2023-5678", Page::first(10))
            .unwrap(),
        ["ep1", "ep3"]
    );
}

fn events_update_incrementally_and_history_answers_state_at_time(repo: &dyn Store) {
    let (old, new) = (openssl("1.1.1"), openssl("3.0.13"));
    import(repo, &[old.clone(), new.clone()]);
    connect(repo, "ep", 100);
    inventory(repo, "ep", 100, &[new.id()]);
    let ev = Evaluator::load(repo).unwrap();
    ev.put_rule(
        repo,
        software_rule(
            "old-openssl",
            r#"{"name":"openssl","versions":{"below":"3"}}"#,
            "no-access",
        ),
        "admin",
        UnixTime(150),
    )
    .unwrap();
    assert!(
        ev.evaluate_endpoint(repo, "ep", UnixTime(160))
            .unwrap()
            .is_some()
    );
    // Install the vulnerable version at 200.
    let ids = events(repo, "ep", 200, &[(EventAction::Install, old.id())]);
    let c = ev
        .on_software_changes(repo, "ep", &ids, UnixTime(200))
        .unwrap()
        .unwrap();
    assert_eq!(c.before.map(|o| o.recommendation), Some(A::Allow));
    assert_eq!(c.after.recommendation, A::NoAccess);
    assert!(c.recommendation_changed());
    // An unrelated repeat changes nothing and stores nothing.
    assert_eq!(
        ev.on_software_changes(repo, "ep", &[new.id()], UnixTime(250))
            .unwrap(),
        None
    );
    // Remove it at 300.
    let ids = events(repo, "ep", 300, &[(EventAction::Remove, old.id())]);
    let c = ev
        .on_software_changes(repo, "ep", &ids, UnixTime(300))
        .unwrap()
        .unwrap();
    assert_eq!(c.after.recommendation, A::Allow);

    // State at time T and why.
    let at = |t| Evaluator::state_at(repo, "ep", Some(UnixTime(t))).unwrap();
    assert!(at(159).is_none());
    assert_eq!(at(199).unwrap().outcome.recommendation, A::Allow);
    let mid = at(250).unwrap();
    assert_eq!(mid.outcome.recommendation, A::NoAccess);
    let why = mid.finding("old-openssl").unwrap();
    assert!(
        matches!(&why.evidence[..], [Evidence::Software { software_identifier, .. }] if *software_identifier == old.id())
    );
    let rule_text = repo.rule_history("old-openssl", Page::first(10)).unwrap();
    assert_eq!(rule_text.last().unwrap().revision, why.rule_revision);
    assert_eq!(at(300).unwrap().outcome.recommendation, A::Allow);
    let hist = Evaluator::history(repo, "ep", Page::first(10)).unwrap();
    assert_eq!(
        hist.iter().map(|e| e.at.0).collect::<Vec<_>>(),
        [300, 200, 160]
    );
}

fn guidance_is_versioned_and_changes_reevaluate(repo: &dyn Store) {
    let p = Pkg::new("telnetd", "0.17", "Netkit");
    import(repo, std::slice::from_ref(&p));
    connect(repo, "ep", 100);
    inventory(repo, "ep", 100, &[p.id()]);
    let ev = Evaluator::load(repo).unwrap();
    ev.evaluate_endpoint(repo, "ep", UnixTime(100)).unwrap();
    let v1 = software_rule("no-telnet", r#"{"name":"telnetd"}"#, "allow");
    let up = ev
        .put_rule(repo, v1.clone(), "alice", UnixTime(200))
        .unwrap();
    // A warning: ALLOW with NONCOMPLIANT_MAJOR, the recommendation did not change.
    assert_eq!(up.results.len(), 1);
    assert!(!up.results[0].recommendation_changed());
    assert_eq!(up.results[0].after.result, E::NonCompliantMajor);
    let mut v2 = v1.clone();
    v2.recommendation = Recommendation::Isolate;
    v2.severity = Severity::Minor;
    let up = ev.put_rule(repo, v2.clone(), "bob", UnixTime(300)).unwrap();
    assert_eq!(up.change.revision, 2);
    assert!(up.results[0].recommendation_changed());
    let cur = Evaluator::current(repo, "ep").unwrap().unwrap();
    assert_eq!(cur.finding("no-telnet").unwrap().rule_revision, 2);
    assert_eq!(
        (cur.outcome.recommendation, cur.outcome.result),
        (A::Isolate, E::NonCompliantMinor)
    );
    let up = ev
        .remove_rule(repo, "no-telnet", "carol", UnixTime(400))
        .unwrap();
    assert_eq!(up.results[0].after.recommendation, A::Allow);
    assert!(matches!(
        ev.remove_rule(repo, "no-telnet", "carol", UnixTime(401)),
        Err(EvalError::UnknownRule(_))
    ));
    // Every change kept with its time and author; the text of each version.
    let h = repo.rule_history("no-telnet", Page::first(10)).unwrap();
    let who: Vec<(i64, i64, &str)> = h
        .iter()
        .map(|c| (c.revision, c.at.0, c.author.as_str()))
        .collect();
    assert_eq!(who, [(1, 200, "alice"), (2, 300, "bob"), (3, 400, "carol")]);
    assert_eq!(Rule::from_value(h[0].rule.clone().unwrap()).unwrap(), v1);
    assert_eq!(Rule::from_value(h[1].rule.clone().unwrap()).unwrap(), v2);
    assert!(h[2].rule.is_none());
    // A second evaluator loads the same guidance.
    let ev2 = Evaluator::load(repo).unwrap();
    assert_eq!(ev2.revision(), 3);
    assert!(ev2.rules().is_empty());
    // The guidance history is append-only in the database too.
    assert!(ev.rules().is_empty());
}

fn os_attribute_and_stale_rules(repo: &dyn Store) {
    connect(repo, "router-ish", 1_000);
    connect(repo, "quiet", 1_000);
    let ev = Evaluator::load(repo).unwrap();
    ev.put_rule(
        repo,
        rule(r#"{"id":"fwd","severity":"major","recommendation":"isolate","when":{"os_attribute":{"name":"forwarding","equals":"enabled"}}}"#),
        "admin",
        UnixTime(1_000),
    )
    .unwrap();
    let c = ev
        .on_attributes(
            repo,
            "router-ish",
            &[(attributes::FORWARDING.into(), "Enabled".into())],
            UnixTime(1_010),
        )
        .unwrap()
        .unwrap();
    assert_eq!(c.after.recommendation, A::Isolate);
    let cur = Evaluator::current(repo, "router-ish").unwrap().unwrap();
    assert_eq!(
        cur.finding("fwd").unwrap().evidence,
        [Evidence::OsAttribute {
            name: "forwarding".into(),
            value: "Enabled".into()
        }]
    );
    let c = ev
        .on_attributes(
            repo,
            "router-ish",
            &[(attributes::FORWARDING.into(), "disabled".into())],
            UnixTime(1_020),
        )
        .unwrap()
        .unwrap();
    assert_eq!(c.after.recommendation, A::Allow);

    // Staleness: a rule over 1 hour; "quiet" is not seen again, "router-ish" is.
    let up = ev
        .put_rule(
            repo,
            rule(r#"{"id":"stale","severity":"unknown","recommendation":"isolate","when":{"stale":{"hours":1}}}"#),
            "admin",
            UnixTime(2_000),
        )
        .unwrap();
    assert!(up.results.is_empty(), "nobody is stale yet");
    connect(repo, "router-ish", 4_000);
    let changes = ev.on_time(repo, UnixTime(2_000), UnixTime(4_600)).unwrap();
    let who: Vec<&str> = changes.iter().map(|c| c.endpoint.as_str()).collect();
    assert_eq!(who, ["quiet"]);
    assert_eq!(changes[0].after.recommendation, A::Isolate);
    assert_eq!(changes[0].after.result, E::DontKnow);
    // The next tick does not find it again; the other one becomes stale later.
    assert!(
        ev.on_time(repo, UnixTime(4_600), UnixTime(4_700))
            .unwrap()
            .is_empty()
    );
    let changes = ev.on_time(repo, UnixTime(4_700), UnixTime(7_600)).unwrap();
    assert_eq!(
        changes
            .iter()
            .map(|c| c.endpoint.as_str())
            .collect::<Vec<_>>(),
        ["router-ish"]
    );
    // Seen again: no longer stale.
    connect(repo, "quiet", 7_700);
    let c = ev.on_seen(repo, "quiet", UnixTime(7_700)).unwrap().unwrap();
    assert_eq!(c.after.recommendation, A::Allow);
    assert_eq!(c.before.unwrap().recommendation, A::Isolate);
}

fn tag_id_and_vendor_rules_and_combination(repo: &dyn Store) {
    let a = Pkg::new("agent", "2.0", "Acme");
    let b = Pkg::new("tool", "1.0", "Acme");
    let c = Pkg::new("tool", "1.0", "Other");
    import(repo, &[a.clone(), b.clone(), c.clone()]);
    connect(repo, "ep", 100);
    inventory(repo, "ep", 100, &[a.id(), c.id()]);
    let ev = Evaluator::load(repo).unwrap();
    ev.put_rule(
        repo,
        software_rule("acme-any", r#"{"vendor":"ACME.example"}"#, "allow"),
        "x",
        UnixTime(110),
    )
    .unwrap();
    ev.put_rule(
        repo,
        software_rule(
            "tag",
            &format!(r#"{{"tag_id":"{}"}}"#, c.tag_id()),
            "no-access",
        ),
        "x",
        UnixTime(120),
    )
    .unwrap();
    ev.put_rule(
        repo,
        software_rule("tag-neg", r#"{"tag_id":"ool-1.0"}"#, "no-access"),
        "x",
        UnixTime(130),
    )
    .unwrap();
    let cur = Evaluator::current(repo, "ep").unwrap().unwrap();
    let ids: Vec<&str> = cur.findings.iter().map(|f| f.rule_id.as_str()).collect();
    assert_eq!(ids, ["acme-any", "tag"]);
    assert_eq!(
        cur.outcome.recommendation,
        A::NoAccess,
        "most restrictive wins"
    );
    assert_eq!(cur.finding("acme-any").unwrap().evidence.len(), 1);
    // Incremental equals full.
    let full = ev.compute(repo, "ep", UnixTime(130)).unwrap();
    assert_eq!(full.findings, cur.findings);
    assert_eq!(full.outcome, cur.outcome);
}

fn metadata_arriving_later_reevaluates_every_holder(repo: &dyn Store) {
    let p = openssl("1.0.2");
    for ep in ["a", "b", "c"] {
        connect(repo, ep, 100);
    }
    // a and b report the software before any tag is held: no name, no version yet.
    inventory(repo, "a", 100, &[p.id()]);
    inventory(repo, "b", 100, &[p.id()]);
    inventory(repo, "c", 100, &[]);
    let ev = Evaluator::load(repo).unwrap();
    let up = ev
        .put_rule(
            repo,
            software_rule(
                "old",
                r#"{"name":"openssl","versions":{"below":"3"}}"#,
                "isolate",
            ),
            "x",
            UnixTime(110),
        )
        .unwrap();
    assert!(
        up.results.iter().all(|c| !c.recommendation_changed()),
        "no metadata, no match"
    );
    // The tag arrives (endpoint a sends it): both holders are re-evaluated.
    let stored = repo
        .store_tags(
            "a",
            &[posture_repository::ReportedTag {
                software_identifier: p.id(),
                data_model: posture_repository::DataModel::SWID_2015,
                content: p.tag(),
            }],
            UnixTime(120),
        )
        .unwrap();
    assert_eq!(stored.len(), 1);
    let changes = ev
        .on_metadata_change(repo, &[p.id()], UnixTime(120))
        .unwrap();
    let who: Vec<&str> = changes.iter().map(|c| c.endpoint.as_str()).collect();
    assert_eq!(who, ["a", "b"]);
    assert!(changes.iter().all(|c| c.after.recommendation == A::Isolate));
    assert_eq!(
        ev.compute(repo, "b", UnixTime(120)).unwrap().findings,
        Evaluator::current(repo, "b").unwrap().unwrap().findings
    );
}

#[test]
fn two_evaluators_on_one_repository_share_guidance() {
    let dir = std::env::temp_dir().join(format!("posture-eval-two-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    struct Rm(std::path::PathBuf);
    impl Drop for Rm {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _rm = Rm(dir.clone());
    let db = dir.join("repo.sqlite");
    let open = || {
        posture_repository::SqliteRepository::open(&db, posture_repository::SqliteConfig::default())
            .unwrap()
    };
    let (r1, r2) = (open(), open());
    let p = Pkg::new("vim", "9.0", "Vim");
    import(&r1, std::slice::from_ref(&p));
    connect(&r1, "ep", 100);
    inventory(&r1, "ep", 100, &[]);
    let (e1, e2) = (Evaluator::load(&r1).unwrap(), Evaluator::load(&r2).unwrap());
    e2.evaluate_endpoint(&r2, "ep", UnixTime(100)).unwrap();
    // Manager 1 adds a rule; manager 2 ingests the install and sees the rule.
    e1.put_rule(
        &r1,
        software_rule("vim", r#"{"name":"vim"}"#, "isolate"),
        "admin",
        UnixTime(110),
    )
    .unwrap();
    assert_eq!(e2.revision(), 0);
    let ids = events(&r2, "ep", 120, &[(EventAction::Install, p.id())]);
    let c = e2
        .on_software_changes(&r2, "ep", &ids, UnixTime(120))
        .unwrap()
        .unwrap();
    assert_eq!(e2.revision(), 1);
    assert_eq!(c.after.recommendation, A::Isolate);
    // Manager 1 removes it; manager 2's next call extends nothing stale.
    e1.remove_rule(&r1, "vim", "admin", UnixTime(130)).unwrap();
    assert_eq!(
        Evaluator::current(&r2, "ep")
            .unwrap()
            .unwrap()
            .outcome
            .recommendation,
        A::Allow
    );
    assert_eq!(e2.on_seen(&r2, "ep", UnixTime(140)).unwrap(), None);
}

#[test]
fn a_rule_stored_by_another_manager_during_a_call_is_not_missed() {
    let dir = std::env::temp_dir().join(format!("posture-eval-race-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    struct Rm(std::path::PathBuf);
    impl Drop for Rm {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _rm = Rm(dir.clone());
    let db = dir.join("repo.sqlite");
    let repo = posture_repository::SqliteRepository::open(
        &db,
        posture_repository::SqliteConfig::default(),
    )
    .unwrap();
    let p = Pkg::new("vim", "9.0", "Vim");
    import(&repo, std::slice::from_ref(&p));
    connect(&repo, "ep", 100);
    inventory(&repo, "ep", 100, &[p.id()]);
    let ev = Evaluator::load(&repo).unwrap();
    // "Another manager" stores a rule exactly while this evaluator stores its first result
    // (a trigger on the evaluation insert, in the same transaction).
    let rule = software_rule("vim", r#"{"name":"vim"}"#, "isolate")
        .to_json()
        .to_string();
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch(&format!(
            "CREATE TRIGGER other_manager AFTER INSERT ON evaluation
             WHEN (SELECT COUNT(*) FROM guidance_change) = 0
             BEGIN INSERT INTO guidance_change (rule_id, at, author, rule)
                   VALUES ('vim', 105, 'other-manager', '{rule}'); END;"
        ))
        .unwrap();
    let c = ev
        .evaluate_endpoint(&repo, "ep", UnixTime(110))
        .unwrap()
        .unwrap();
    assert_eq!(ev.revision(), 1, "the rule was loaded");
    assert_eq!((c.before, c.after.recommendation), (None, A::Isolate));
    let cur = Evaluator::current(&repo, "ep").unwrap().unwrap();
    assert_eq!(cur.finding("vim").unwrap().rule_revision, 1);
}
