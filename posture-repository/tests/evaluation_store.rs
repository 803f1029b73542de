//! The evaluator's tables (migration 4): guidance history, evaluations with history and the
//! optimistic store, findings index, attributes, last-seen look-ups.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

#[path = "common/fixture.rs"]
mod fixture;

use fixture::*;
use posture_repository::guidance::*;
use posture_repository::*;
use serde_json::json;

fn eval(ep: &str, at: i64, rec: u32, findings: &[&str], previous: Option<i64>) -> NewEvaluation {
    NewEvaluation {
        endpoint: ep.into(),
        at: UnixTime(at),
        guidance_revision: 1,
        recommendation: rec,
        result: 0,
        findings: findings.iter().map(|s| s.to_string()).collect(),
        detail: json!({ "findings": findings }),
        previous,
    }
}

fn evaluations_history_conflicts_and_findings(b: Backend) {
    let repo = b.open();
    connect(&repo, "ep1", 100);
    connect(&repo, "ep2", 100);
    let StoreOutcome::Stored(a) = repo
        .store_evaluation(&eval("ep1", 100, 0, &[], None))
        .unwrap()
    else {
        panic!("first store conflicts")
    };
    // A writer that read nothing (or an older one) loses the race.
    assert_eq!(
        repo.store_evaluation(&eval("ep1", 150, 2, &["r1"], None))
            .unwrap(),
        StoreOutcome::Conflict
    );
    let StoreOutcome::Stored(b) = repo
        .store_evaluation(&eval("ep1", 200, 2, &["r1", "r2"], Some(a)))
        .unwrap()
    else {
        panic!("conflict")
    };
    repo.store_evaluation(&eval("ep2", 200, 2, &["r1"], None))
        .unwrap();
    assert_eq!(
        repo.endpoints_with_finding("r1", Page::first(10)).unwrap(),
        ["ep1", "ep2"]
    );
    assert_eq!(
        repo.endpoints_with_finding("r2", Page::first(10)).unwrap(),
        ["ep1"]
    );
    repo.store_evaluation(&eval("ep1", 300, 0, &[], Some(b)))
        .unwrap();
    assert_eq!(
        repo.endpoints_with_finding("r1", Page::first(10)).unwrap(),
        ["ep2"]
    );
    let at = |t| {
        repo.evaluation("ep1", Some(UnixTime(t)))
            .unwrap()
            .map(|e| e.recommendation)
    };
    assert_eq!(
        (at(99), at(100), at(250), at(300)),
        (None, Some(0), Some(2), Some(0))
    );
    assert_eq!(
        repo.evaluation("ep1", Some(UnixTime(250)))
            .unwrap()
            .unwrap()
            .detail,
        json!({"findings": ["r1", "r2"]})
    );
    let h: Vec<i64> = repo
        .evaluations("ep1", Page::first(10))
        .unwrap()
        .iter()
        .map(|e| e.at.0)
        .collect();
    assert_eq!(h, [300, 200, 100]);
    assert!(matches!(
        repo.evaluation("nobody", None),
        Err(Error::UnknownEndpoint(_))
    ));
}

fn guidance_history_is_append_only(b: Backend) {
    let store = b.store();
    let repo = store.open();
    assert_eq!(repo.guidance_revision().unwrap(), 0);
    let c1 = repo
        .append_guidance(&NewGuidanceChange {
            rule_id: "r".into(),
            at: UnixTime(5),
            author: "tok-1".into(),
            rule: Some(json!({"x": 1})),
        })
        .unwrap();
    let c2 = repo
        .append_guidance(&NewGuidanceChange {
            rule_id: "r".into(),
            at: UnixTime(6),
            author: "tok-2".into(),
            rule: None,
        })
        .unwrap();
    assert_eq!((c1.revision, c2.revision), (1, 2));
    assert_eq!(
        repo.guidance_changes(1, Page::first(10)).unwrap(),
        std::slice::from_ref(&c2)
    );
    assert_eq!(repo.rule_history("r", Page::first(10)).unwrap(), [c1, c2]);
    connect(&repo, "ep", 1);
    repo.store_evaluation(&eval("ep", 1, 0, &[], None)).unwrap();
    drop(repo);
    let mut refused = vec![
        "UPDATE guidance_change SET author = 'mallory'",
        "DELETE FROM guidance_change",
        "UPDATE evaluation SET recommendation = 0",
        "DELETE FROM evaluation",
    ];
    if store.is_postgres() {
        refused.extend(["TRUNCATE guidance_change", "TRUNCATE evaluation"]);
    }
    for sql in refused {
        let e = store.raw(sql).unwrap_err();
        assert!(e.contains("append-only"), "{sql}: {e}");
    }
}

fn managers_appending_guidance_at_once_get_revisions_without_gaps(b: Backend) {
    // Four managers (handles) change guidance at the same time.
    let repo = b.on_disk();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let h = repo.another_handle();
            std::thread::spawn(move || {
                (0..10)
                    .map(|i| {
                        h.append_guidance(&NewGuidanceChange {
                            rule_id: format!("r{t}"),
                            at: UnixTime(i),
                            author: format!("tok-{t}"),
                            rule: Some(json!({ "i": i })),
                        })
                        .unwrap()
                        .revision
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all: Vec<i64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (1..=40).collect::<Vec<_>>());
    assert_eq!(repo.guidance_revision().unwrap(), 40);
    assert_eq!(
        repo.guidance_changes(0, Page::first(100)).unwrap().len(),
        40
    );
}

fn lookups_for_incremental_evaluation(b: Backend) {
    let repo = b.open();
    let tag = swid(
        "OpenSSL",
        "3.0.11",
        "OpenSSL",
        "openssl.org",
        "openssl-3.0.11",
    );
    let mut it = std::iter::once(("t".to_string(), tag));
    repo.import_tags(&mut it, UnixTime(1)).unwrap();
    let id = "openssl.org__openssl-3.0.11".to_string();
    for (ep, at) in [("a", 100), ("b", 200), ("c", 300)] {
        connect(&repo, ep, at);
    }
    for ep in ["a", "c"] {
        repo.apply_inventory(
            ep,
            &inventory(1, 0, 400, vec![rec(&id, 1), rec("other__x", 2)]),
        )
        .unwrap();
    }
    let names = |k: SoftwareKey| -> Vec<String> {
        repo.software_candidates(&k)
            .unwrap()
            .into_iter()
            .map(|e| e.software_identifier)
            .collect()
    };
    assert_eq!(
        names(SoftwareKey::Name("openssl".into())),
        std::slice::from_ref(&id)
    );
    assert_eq!(
        names(SoftwareKey::Vendor("OPENSSL.ORG".into())),
        std::slice::from_ref(&id)
    );
    assert_eq!(
        names(SoftwareKey::Identifier(id.clone())),
        std::slice::from_ref(&id)
    );
    assert_eq!(
        names(SoftwareKey::TagId("openssl-3.0.11".into())),
        std::slice::from_ref(&id)
    );
    // `_` and `%` in a tag id are literal, not LIKE wildcards.
    assert!(names(SoftwareKey::TagId("openssl-3.0.1_".into())).is_empty());
    assert!(names(SoftwareKey::TagId("%".into())).is_empty());
    let holders: Vec<String> = repo
        .installed_with(std::slice::from_ref(&id))
        .unwrap()
        .into_iter()
        .map(|(e, _)| e)
        .collect();
    assert_eq!(holders, ["a", "c"]);
    let sub = repo
        .installed_subset("a", &[id.clone(), "nope".into(), id.clone()])
        .unwrap();
    assert_eq!(sub.len(), 1);
    assert_eq!(sub[0].meta.version.as_deref(), Some("3.0.11"));
    repo.set_attributes(
        "b",
        &[EndpointAttribute {
            name: "forwarding".into(),
            value: "Enabled".into(),
            at: UnixTime(5),
        }],
    )
    .unwrap();
    assert_eq!(
        repo.endpoints_with_attribute("forwarding", "enabled", Page::first(10))
            .unwrap(),
        ["b"]
    );
    assert!(
        repo.endpoints_with_attribute("forwarding", "disabled", Page::first(10))
            .unwrap()
            .is_empty()
    );
    assert_eq!(repo.attributes("b").unwrap()[0].value, "Enabled");
    assert_eq!(
        repo.endpoints_last_seen(UnixTime(150), UnixTime(300), Page::first(10))
            .unwrap(),
        ["b"]
    );
}

/// The `evaluation-result` event of a stored evaluation id, with a payload of `pad` bytes.
fn announce(ep: &str, id: i64, pad: usize) -> events::NewEvent {
    events::NewEvent {
        at: UnixTime(7),
        kind: events::EventKind::EvaluationResult,
        endpoint: Some(ep.into()),
        device: None,
        severity: events::Severity::Warning,
        payload: json!({ "evaluation_id": id, "pad": "x".repeat(pad) }),
    }
}

fn all_events(repo: &Repo) -> Vec<events::StoredEvent> {
    repo.events_since(0, &events::EventFilter::default(), 100)
        .unwrap()
        .events
}

fn evaluations_are_stored_with_their_events_in_one_transaction(b: Backend) {
    let repo = b.limited(Limits {
        max_json_bytes: 4096,
        ..Limits::default()
    });
    connect(&repo, "ep", 100);
    let (outcome, published) = repo
        .store_evaluation_publishing(&eval("ep", 100, 2, &["r1"], None), &|id| {
            vec![announce("ep", id, 0)]
        })
        .unwrap();
    let StoreOutcome::Stored(a) = outcome else {
        panic!("first store conflicts")
    };
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].payload["evaluation_id"], json!(a));
    assert_eq!(all_events(&repo), published);

    // A lost race stores neither the evaluation nor its events (nor asks for them).
    let (outcome, published) = repo
        .store_evaluation_publishing(&eval("ep", 150, 0, &[], None), &|_| {
            panic!("events asked for an evaluation that is not stored")
        })
        .unwrap();
    assert_eq!((outcome, published.len()), (StoreOutcome::Conflict, 0));

    // An event the log refuses (payload over the limit) takes its evaluation with it.
    let refused = repo.store_evaluation_publishing(&eval("ep", 200, 0, &[], Some(a)), &|id| {
        vec![announce("ep", id, 0), announce("ep", id, 5000)]
    });
    assert!(
        matches!(refused, Err(Error::TooLarge { .. })),
        "{refused:?}"
    );
    assert_eq!(repo.evaluation("ep", None).unwrap().unwrap().id, a);
    assert_eq!(
        repo.endpoints_with_finding("r1", Page::first(10)).unwrap(),
        ["ep"]
    );
    assert_eq!(all_events(&repo).len(), 1);

    // The plain store publishes nothing; the next publishing one follows on.
    let StoreOutcome::Stored(b) = repo
        .store_evaluation(&eval("ep", 300, 0, &[], Some(a)))
        .unwrap()
    else {
        panic!("conflict")
    };
    assert_eq!(all_events(&repo).len(), 1);
    let (_, published) = repo
        .store_evaluation_publishing(&eval("ep", 400, 2, &["r2"], Some(b)), &|id| {
            vec![announce("ep", id, 0)]
        })
        .unwrap();
    let ids: Vec<i64> = all_events(&repo).iter().map(|e| e.id).collect();
    assert_eq!(ids, [1, 2]);
    assert_eq!(published[0].id, 2);
}

on_both!(
    evaluations_are_stored_with_their_events_in_one_transaction,
    evaluations_history_conflicts_and_findings,
    guidance_history_is_append_only,
    managers_appending_guidance_at_once_get_revisions_without_gaps,
    lookups_for_incremental_evaluation,
);
