//! The event log (migration 5): ids in order, filtered reads that resume where they stopped,
//! two handles (managers) on one store reading one sequence, retention, append-only.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

#[path = "common/fixture.rs"]
mod fixture;

use fixture::*;
use posture_repository::events::*;
use posture_repository::*;
use serde_json::json;

fn ev(at: i64, kind: EventKind, endpoint: &str, severity: Severity) -> NewEvent {
    NewEvent {
        at: UnixTime(at),
        kind,
        endpoint: Some(endpoint.into()),
        device: None,
        severity,
        payload: json!({"n": at}),
    }
}

fn ids(p: &EventPage) -> Vec<i64> {
    p.events.iter().map(|e| e.id).collect()
}

fn append_and_read_in_order(b: Backend) {
    let repo = b.open();
    assert_eq!(repo.event_bounds().unwrap(), EventBounds::default());
    let empty = repo.events_since(0, &EventFilter::default(), 10).unwrap();
    assert_eq!(empty, EventPage::default());
    let a = repo
        .append_event(&ev(
            100,
            EventKind::SoftwareInstalled,
            "ep1",
            Severity::Info,
        ))
        .unwrap();
    let d = repo
        .append_event(&NewEvent {
            device: Some("sw1".into()),
            endpoint: None,
            ..ev(101, EventKind::DevicePosture, "", Severity::Info)
        })
        .unwrap();
    let c = repo
        .append_event(&ev(
            102,
            EventKind::AssessmentResult,
            "ep2",
            Severity::Critical,
        ))
        .unwrap();
    assert_eq!((a.id, d.id, c.id), (1, 2, 3));
    let all = repo.events_since(0, &EventFilter::default(), 10).unwrap();
    assert_eq!(all.events, [a.clone(), d.clone(), c.clone()]);
    assert_eq!(all.scanned_to, 3);
    // Resuming after an id gives exactly what follows it.
    let rest = repo.events_since(1, &EventFilter::default(), 10).unwrap();
    assert_eq!(ids(&rest), [2, 3]);
    // A full page stops at its last event; the next read goes on from there.
    let first = repo.events_since(0, &EventFilter::default(), 2).unwrap();
    assert_eq!((ids(&first), first.scanned_to), (vec![1, 2], 2));
    let next = repo
        .events_since(first.scanned_to, &EventFilter::default(), 2)
        .unwrap();
    assert_eq!((ids(&next), next.scanned_to), (vec![3], 3));
    // Past the end: nothing, and the position stays.
    let none = repo.events_since(9, &EventFilter::default(), 2).unwrap();
    assert_eq!((ids(&none), none.scanned_to), (vec![], 9));
    assert_eq!(
        repo.event_bounds().unwrap(),
        EventBounds {
            oldest: 1,
            newest: 3
        }
    );
}

fn filters(b: Backend) {
    let repo = b.open();
    repo.append_event(&ev(1, EventKind::SoftwareInstalled, "ep1", Severity::Info))
        .unwrap();
    repo.append_event(&ev(2, EventKind::SoftwareRemoved, "ep2", Severity::Info))
        .unwrap();
    repo.append_event(&ev(
        3,
        EventKind::AssessmentResult,
        "ep1",
        Severity::Warning,
    ))
    .unwrap();
    repo.append_event(&ev(
        4,
        EventKind::AssessmentResult,
        "ep2",
        Severity::Critical,
    ))
    .unwrap();
    repo.append_event(&NewEvent {
        device: Some("sw1".into()),
        endpoint: None,
        ..ev(5, EventKind::DevicePosture, "", Severity::Info)
    })
    .unwrap();
    let read = |f: EventFilter| {
        let p = repo.events_since(0, &f, 100).unwrap();
        // A filtered read still scans to the newest event.
        assert_eq!(p.scanned_to, 5);
        for e in &p.events {
            assert!(f.matches(e));
        }
        ids(&p)
    };
    let ep1 = EventFilter {
        endpoint: Some("ep1".into()),
        ..EventFilter::default()
    };
    assert_eq!(read(ep1), [1, 3]);
    let kinds = EventFilter {
        kinds: vec![EventKind::SoftwareRemoved, EventKind::DevicePosture],
        ..EventFilter::default()
    };
    assert_eq!(read(kinds), [2, 5]);
    let severe = EventFilter {
        min_severity: Severity::Warning,
        ..EventFilter::default()
    };
    assert_eq!(read(severe), [3, 4]);
    let device = EventFilter {
        device: Some("sw1".into()),
        ..EventFilter::default()
    };
    assert_eq!(read(device), [5]);
    let all_three = EventFilter {
        endpoint: Some("ep2".into()),
        kinds: vec![EventKind::AssessmentResult],
        min_severity: Severity::Critical,
        device: None,
    };
    assert_eq!(read(all_three), [4]);
    let nobody = EventFilter {
        endpoint: Some("ep3".into()),
        ..EventFilter::default()
    };
    assert_eq!(read(nobody), Vec::<i64>::new());
}

fn two_managers_one_sequence(b: Backend) {
    let repo = b.on_disk();
    let other = repo.another_handle();
    let mut threads = Vec::new();
    for (t, h) in [repo.another_handle(), other.clone()]
        .into_iter()
        .enumerate()
    {
        threads.push(std::thread::spawn(move || {
            for i in 0..25 {
                h.append_event(&ev(
                    i,
                    EventKind::SoftwareInstalled,
                    &format!("ep{t}"),
                    Severity::Info,
                ))
                .unwrap();
            }
        }));
    }
    for t in threads {
        t.join().unwrap();
    }
    let a = repo.events_since(0, &EventFilter::default(), 100).unwrap();
    let b2 = other.events_since(0, &EventFilter::default(), 100).unwrap();
    assert_eq!(ids(&a), (1..=50).collect::<Vec<_>>());
    assert_eq!(a, b2);
    // Each writer's events keep their order within the sequence.
    for ep in ["ep0", "ep1"] {
        let times: Vec<i64> = a
            .events
            .iter()
            .filter(|e| e.endpoint.as_deref() == Some(ep))
            .map(|e| e.at.0)
            .collect();
        assert_eq!(times, (0..25).collect::<Vec<_>>());
    }
}

fn retention_and_append_only(b: Backend) {
    let repo = b.on_disk();
    for i in 1..=10 {
        repo.append_event(&ev(
            i * 10,
            EventKind::SoftwareInstalled,
            "ep1",
            Severity::Info,
        ))
        .unwrap();
    }
    assert_eq!(
        repo.prune(Retention {
            max_events: Some(6),
            before: None
        })
        .unwrap(),
        4
    );
    assert_eq!(
        repo.prune(Retention {
            max_events: None,
            before: Some(UnixTime(70))
        })
        .unwrap(),
        2
    );
    assert_eq!(
        repo.event_bounds().unwrap(),
        EventBounds {
            oldest: 7,
            newest: 10
        }
    );
    // A reader behind the oldest held gets what is still held.
    let p = repo.events_since(2, &EventFilter::default(), 100).unwrap();
    assert_eq!(ids(&p), [7, 8, 9, 10]);
    // Ids are never reused, even when everything was pruned.
    repo.prune(Retention {
        max_events: Some(0),
        before: None,
    })
    .unwrap();
    assert_eq!(
        repo.event_bounds().unwrap(),
        EventBounds {
            oldest: 0,
            newest: 10
        }
    );
    let e = repo
        .append_event(&ev(200, EventKind::SoftwareRemoved, "ep1", Severity::Info))
        .unwrap();
    assert_eq!(e.id, 11);
    let err = repo
        .store
        .raw("UPDATE event SET kind = 'software-installed' WHERE id = 11")
        .unwrap_err();
    assert!(err.contains("append-only"), "{err}");
}

fn limits_apply(b: Backend) {
    let repo = b.limited(Limits {
        max_json_bytes: 64,
        max_text_bytes: 8,
        max_page: 2,
        ..Limits::default()
    });
    let big = NewEvent {
        payload: json!({"x": "y".repeat(100)}),
        ..ev(1, EventKind::SoftwareInstalled, "ep1", Severity::Info)
    };
    assert!(matches!(
        repo.append_event(&big),
        Err(Error::TooLarge { .. })
    ));
    assert!(matches!(
        repo.append_event(&ev(
            1,
            EventKind::SoftwareInstalled,
            "a-very-long-endpoint",
            Severity::Info
        )),
        Err(Error::TooLarge { .. })
    ));
    for i in 0..3 {
        repo.append_event(&ev(i, EventKind::SoftwareInstalled, "ep1", Severity::Info))
            .unwrap();
    }
    // The page is clamped to max_page.
    let p = repo.events_since(0, &EventFilter::default(), 100).unwrap();
    assert_eq!((ids(&p), p.scanned_to), (vec![1, 2], 2));
}

/// Ingest and its events in one transaction: both are stored, or (a refused batch, an event
/// over the limits) neither.
fn ingest_publishes_in_the_same_transaction(b: Backend) {
    let repo = b.open();
    connect(&repo, "ep1", 10);
    let made = |what: &'static str| {
        move |s: &IngestSummary| {
            vec![NewEvent {
                at: UnixTime(20),
                kind: EventKind::InventoryResync,
                endpoint: Some("ep1".into()),
                device: None,
                severity: Severity::Info,
                payload: json!({"what": what, "changes": s.changes}),
            }]
        }
    };
    let (summary, stored) = repo
        .apply_inventory_publishing(
            "ep1",
            &inventory(7, 0, 20, vec![rec("a__1", 1), rec("b__2", 2)]),
            &made("inventory"),
        )
        .unwrap();
    assert_eq!(summary.changes, 2);
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].payload,
        json!({"what": "inventory", "changes": 2})
    );
    let (_, stored) = repo
        .apply_events_publishing(
            "ep1",
            &batch(
                7,
                1,
                30,
                vec![event(1, EventAction::Remove, rec("a__1", 1))],
            ),
            &made("events"),
        )
        .unwrap();
    assert_eq!(stored[0].id, 2);
    // A batch of another epoch is refused: no event either.
    let refused = repo.apply_events_publishing(
        "ep1",
        &batch(
            8,
            2,
            40,
            vec![event(2, EventAction::Remove, rec("b__2", 2))],
        ),
        &made("refused"),
    );
    assert!(
        matches!(refused, Err(Error::EpochMismatch { .. })),
        "{refused:?}"
    );
    // An event the log refuses (payload over the limit) takes the ingest back with it.
    let big = |_: &IngestSummary| {
        vec![NewEvent {
            at: UnixTime(50),
            kind: EventKind::SoftwareRemoved,
            endpoint: Some("ep1".into()),
            device: None,
            severity: Severity::Info,
            payload: json!({"x": "y".repeat(Limits::default().max_json_bytes)}),
        }]
    };
    let r = repo.apply_events_publishing(
        "ep1",
        &batch(
            7,
            2,
            50,
            vec![event(2, EventAction::Remove, rec("b__2", 2))],
        ),
        &big,
    );
    assert!(matches!(r, Err(Error::TooLarge { .. })), "{r:?}");
    assert_eq!(repo.swima_state("ep1").unwrap().unwrap().last_eid, 1);
    assert_eq!(repo.installed("ep1", Page::first(10)).unwrap().len(), 1);
    let p = repo.events_since(0, &EventFilter::default(), 100).unwrap();
    assert_eq!(ids(&p), [1, 2]);
}

on_both!(
    ingest_publishes_in_the_same_transaction,
    append_and_read_in_order,
    filters,
    two_managers_one_sequence,
    retention_and_append_only,
    limits_apply,
);
