//! SWIMA ingest: inventories, events, EID/epoch continuity, resync, atomicity.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

#[path = "common/fixture.rs"]
mod fixture;

use fixture::*;
use posture_repository::*;

fn inventory_then_events_keep_the_eid_position(b: Backend) {
    let repo = b.open();
    connect(&repo, "ep1", 10);
    assert_eq!(repo.swima_state("ep1").unwrap(), None);
    let s = repo
        .apply_inventory(
            "ep1",
            &inventory(7, 3, 20, vec![rec("a__1", 1), rec("b__2", 2)]),
        )
        .unwrap();
    assert!(s.resync);
    assert_eq!(s.changes, 2);
    assert_eq!(
        s.state,
        Some(SwimaState {
            epoch: 7,
            last_eid: 3
        })
    );
    assert_eq!(
        repo.swima_state("ep1").unwrap(),
        Some(SwimaState {
            epoch: 7,
            last_eid: 3
        })
    );

    let s = repo
        .apply_events(
            "ep1",
            &batch(
                7,
                5,
                30,
                vec![
                    event(4, EventAction::Install, rec("c__3", 3)),
                    event(5, EventAction::Remove, rec("a__1", 1)),
                ],
            ),
        )
        .unwrap();
    assert_eq!((s.changes, s.duplicates, s.eid_gap), (2, 0, None));
    assert_eq!(
        repo.swima_state("ep1").unwrap(),
        Some(SwimaState {
            epoch: 7,
            last_eid: 5
        })
    );
    assert_eq!(ids(&repo.installed("ep1", ALL).unwrap()), ["b__2", "c__3"]);

    // The same events again (a session that crashed before its reply): nothing duplicated.
    let again = repo
        .apply_events(
            "ep1",
            &batch(
                7,
                6,
                40,
                vec![
                    event(4, EventAction::Install, rec("c__3", 3)),
                    event(5, EventAction::Remove, rec("a__1", 1)),
                    event(
                        6,
                        EventAction::Alter,
                        Record {
                            locator: "/usr".into(),
                            ..rec("b__2", 9)
                        },
                    ),
                ],
            ),
        )
        .unwrap();
    assert_eq!((again.changes, again.duplicates), (1, 2));
    let now = repo.installed("ep1", ALL).unwrap();
    assert_eq!(ids(&now), ["b__2", "c__3"]);
    assert_eq!((now[0].record_id, now[0].locator.as_str()), (9, "/usr"));
    let h = repo.history("ep1", ALL).unwrap();
    // Resync, 2 installs, install, remove, alter.
    assert_eq!(h.len(), 6);
    assert_eq!(
        h.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6]
    );
    assert_eq!(h[5].kind, HistoryKind::Alter);
    assert_eq!(h[5].eid, Some(6));
    assert_eq!(h[5].event_time, Some(UnixTime(1_006)));
}

fn an_eid_gap_is_reported_and_the_last_consulted_eid_is_kept(b: Backend) {
    let repo = b.open();
    connect(&repo, "ep", 1);
    repo.apply_inventory("ep", &inventory(1, 10, 2, vec![]))
        .unwrap();
    let s = repo
        .apply_events(
            "ep",
            &batch(
                1,
                20,
                3,
                vec![event(15, EventAction::Install, rec("x__1", 1))],
            ),
        )
        .unwrap();
    assert_eq!(s.eid_gap, Some((10, 15)));
    assert_eq!(
        s.state,
        Some(SwimaState {
            epoch: 1,
            last_eid: 20
        })
    );
    // An empty response still advances to its last consulted EID, never backwards.
    let s = repo.apply_events("ep", &batch(1, 12, 4, vec![])).unwrap();
    assert_eq!(
        s.state,
        Some(SwimaState {
            epoch: 1,
            last_eid: 20
        })
    );
}

fn events_need_an_inventory_and_the_same_epoch(b: Backend) {
    let repo = b.open();
    connect(&repo, "ep", 1);
    assert!(matches!(
        repo.apply_events("ep", &batch(1, 1, 2, vec![])),
        Err(Error::NoInventory(e)) if e == "ep"
    ));
    assert!(matches!(
        repo.apply_events("nobody", &batch(1, 1, 2, vec![])),
        Err(Error::UnknownEndpoint(_))
    ));
    repo.apply_inventory("ep", &inventory(1, 4, 2, vec![rec("a__1", 1)]))
        .unwrap();
    let e = repo
        .apply_events(
            "ep",
            &batch(
                2,
                1,
                3,
                vec![event(1, EventAction::Install, rec("b__1", 2))],
            ),
        )
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::EpochMismatch {
                stored: 1,
                reported: 2,
                ..
            }
        ),
        "{e}"
    );
    // Nothing of the refused batch was applied.
    assert_eq!(ids(&repo.installed("ep", ALL).unwrap()), ["a__1"]);
    assert_eq!(
        repo.swima_state("ep").unwrap(),
        Some(SwimaState {
            epoch: 1,
            last_eid: 4
        })
    );
}

fn an_epoch_change_resyncs_and_history_says_so(b: Backend) {
    let repo = b.open();
    connect(&repo, "ep", 1);
    repo.apply_inventory(
        "ep",
        &inventory(1, 2, 10, vec![rec("a__1", 1), rec("b__1", 2)]),
    )
    .unwrap();
    // The endpoint's log was reset (new epoch): a full inventory replaces what is stored.
    let s = repo
        .apply_inventory(
            "ep",
            &inventory(9, 0, 20, vec![rec("b__1", 2), rec("c__1", 3)]),
        )
        .unwrap();
    assert!(s.resync);
    assert_eq!(s.changes, 2); // c installed, a removed; b unchanged
    assert_eq!(ids(&repo.installed("ep", ALL).unwrap()), ["b__1", "c__1"]);
    assert_eq!(
        repo.swima_state("ep").unwrap(),
        Some(SwimaState {
            epoch: 9,
            last_eid: 0
        })
    );
    let h = repo.history("ep", ALL).unwrap();
    let tail: Vec<_> = h[3..]
        .iter()
        .map(|e| {
            (
                e.kind,
                e.record.as_ref().map(|r| r.software_identifier.as_str()),
                e.epoch,
            )
        })
        .collect();
    assert_eq!(
        tail,
        [
            (HistoryKind::Resync, None, 9),
            (HistoryKind::Install, Some("c__1"), 9),
            (HistoryKind::Remove, Some("a__1"), 9),
        ]
    );
    assert!(
        h.iter()
            .filter(|e| e.kind != HistoryKind::Resync)
            .all(|e| e.eid.is_none())
    );
    // Events now continue in the new epoch.
    repo.apply_events(
        "ep",
        &batch(
            9,
            1,
            30,
            vec![event(1, EventAction::Remove, rec("b__1", 2))],
        ),
    )
    .unwrap();
    assert_eq!(ids(&repo.installed("ep", ALL).unwrap()), ["c__1"]);
}

fn a_failure_mid_batch_leaves_nothing_half_written(b: Backend) {
    let store = b.on_disk();
    {
        let repo = store.another_handle();
        connect(&repo, "ep", 1);
        repo.apply_inventory("ep", &inventory(1, 0, 2, vec![rec("a__1", 1)]))
            .unwrap();
        // The third event's locator is over the limit: the error comes after two events were
        // written inside the transaction.
        let long = "x".repeat(repo.limits().max_text_bytes + 1);
        let e = repo
            .apply_events(
                "ep",
                &batch(
                    1,
                    3,
                    3,
                    vec![
                        event(
                            1,
                            EventAction::Install,
                            with_tag(rec("b__1", 2), swid("b", "1", "V", "b", "1")),
                        ),
                        event(2, EventAction::Remove, rec("a__1", 1)),
                        event(
                            3,
                            EventAction::Install,
                            Record {
                                locator: long,
                                ..rec("c__1", 3)
                            },
                        ),
                    ],
                ),
            )
            .unwrap_err();
        assert!(
            matches!(
                e,
                Error::TooLarge {
                    what: "software locator",
                    ..
                }
            ),
            "{e}"
        );
    }
    let repo = store.another_handle();
    assert_eq!(ids(&repo.installed("ep", ALL).unwrap()), ["a__1"]);
    assert_eq!(
        repo.swima_state("ep").unwrap(),
        Some(SwimaState {
            epoch: 1,
            last_eid: 0
        })
    );
    assert_eq!(repo.history("ep", ALL).unwrap().len(), 2);
    assert_eq!(repo.missing_tags(&["b__1".into()]).unwrap(), ["b__1"]);
    assert!(repo.verify_history().unwrap().is_intact());
    // The next session asks from EID 0 again and the retry applies whole.
    repo.apply_events(
        "ep",
        &batch(
            1,
            2,
            4,
            vec![
                event(1, EventAction::Install, rec("b__1", 2)),
                event(2, EventAction::Remove, rec("a__1", 1)),
            ],
        ),
    )
    .unwrap();
    assert_eq!(ids(&repo.installed("ep", ALL).unwrap()), ["b__1"]);
}

fn limits_are_checked_before_anything_is_stored(b: Backend) {
    let repo = b.limited(Limits {
        max_records: 2,
        max_tag_bytes: 10,
        ..Limits::default()
    });
    connect(&repo, "ep", 1);
    let e = repo
        .apply_inventory(
            "ep",
            &inventory(1, 0, 2, vec![rec("a", 1), rec("b", 2), rec("c", 3)]),
        )
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::TooLarge {
                what: "inventory",
                len: 3,
                limit: 2
            }
        ),
        "{e}"
    );
    let e = repo
        .apply_inventory(
            "ep",
            &inventory(1, 0, 2, vec![with_tag(rec("a", 1), vec![0; 11])]),
        )
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::TooLarge {
                what: "tag",
                len: 11,
                limit: 10
            }
        ),
        "{e}"
    );
    assert_eq!(repo.swima_state("ep").unwrap(), None);
}

fn duplicate_records_in_one_inventory_count_once(b: Backend) {
    let repo = b.open();
    connect(&repo, "ep", 1);
    let s = repo
        .apply_inventory(
            "ep",
            &inventory(1, 0, 2, vec![rec("a__1", 1), rec("a__1", 1)]),
        )
        .unwrap();
    assert_eq!((s.changes, s.duplicates), (1, 1));
    // The same software from another source is another record.
    let s = repo
        .apply_inventory(
            "ep",
            &inventory(
                1,
                0,
                3,
                vec![
                    rec("a__1", 1),
                    Record {
                        source_id: 1,
                        ..rec("a__1", 5)
                    },
                ],
            ),
        )
        .unwrap();
    assert_eq!(s.changes, 1);
    assert_eq!(repo.installed("ep", ALL).unwrap().len(), 2);
}

fn two_handles_on_one_file_racing_the_same_events_apply_them_once(b: Backend) {
    // Two managers (two connections) receive the same events for one endpoint at once.
    let store = b.on_disk();
    let (a, b) = (store.another_handle(), store.another_handle());
    connect(&a, "ep", 1);
    a.apply_inventory("ep", &inventory(1, 0, 2, vec![]))
        .unwrap();
    let events: Vec<_> = (1..=300)
        .map(|e| event(e, EventAction::Install, rec(&format!("s__{e}"), e)))
        .collect();
    let handles: Vec<_> = [a.clone(), b.clone(), a.clone(), b.clone()]
        .into_iter()
        .map(|repo| {
            let events = events.clone();
            std::thread::spawn(move || repo.apply_events("ep", &batch(1, 300, 3, events)).unwrap())
        })
        .collect();
    let sums: Vec<IngestSummary> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(sums.iter().map(|s| s.changes).sum::<usize>(), 300);
    assert_eq!(sums.iter().map(|s| s.duplicates).sum::<usize>(), 900);
    assert_eq!(b.installed("ep", ALL).unwrap().len(), 300);
    assert_eq!(b.history("ep", ALL).unwrap().len(), 301);
    assert!(a.verify_history().unwrap().is_intact());
}

fn software_first_seen_in_a_rolled_back_batch_is_stored_right_on_retry(b: Backend) {
    // The repository caches software ids; ids learnt by a transaction that rolled back must
    // not be used later (the row they name does not exist).
    let repo = b.open();
    connect(&repo, "ep", 1);
    repo.apply_inventory("ep", &inventory(1, 0, 2, vec![]))
        .unwrap();
    let long = "x".repeat(repo.limits().max_text_bytes + 1);
    let failing = batch(
        1,
        2,
        3,
        vec![
            event(1, EventAction::Install, rec("new.example__pkg-1", 1)),
            event(
                2,
                EventAction::Install,
                Record {
                    locator: long,
                    ..rec("new.example__pkg-2", 2)
                },
            ),
        ],
    );
    assert!(repo.apply_events("ep", &failing).is_err());
    // Another software row takes the id the rolled-back one had.
    connect(&repo, "other", 4);
    repo.apply_inventory(
        "other",
        &inventory(1, 0, 4, vec![rec("other.example__x-1", 1)]),
    )
    .unwrap();
    repo.apply_events(
        "ep",
        &batch(
            1,
            1,
            5,
            vec![event(1, EventAction::Install, rec("new.example__pkg-1", 1))],
        ),
    )
    .unwrap();
    assert_eq!(
        ids(&repo.installed("ep", ALL).unwrap()),
        ["new.example__pkg-1"]
    );
    assert_eq!(
        ids(&repo.installed("other", ALL).unwrap()),
        ["other.example__x-1"]
    );
}

fn two_sessions_of_one_endpoint_racing_overlapping_batches_lose_and_repeat_nothing(b: Backend) {
    // Two managers hold a session of the same endpoint (it reconnected elsewhere) and each
    // delivers EIDs 1..=240 in batches of its own size, at once. Every event must be stored
    // once, in EID order, with the position at the end.
    let store = b.on_disk();
    connect(&store, "ep", 1);
    store
        .apply_inventory("ep", &inventory(9, 0, 2, vec![]))
        .unwrap();
    let events: Vec<_> = (1..=240)
        .map(|e| event(e, EventAction::Install, rec(&format!("s__{e}"), e)))
        .collect();
    let threads: Vec<_> = [(store.another_handle(), 7), (store.another_handle(), 30)]
        .into_iter()
        .map(|(repo, size)| {
            let events = events.clone();
            std::thread::spawn(move || {
                let mut changes = 0;
                for chunk in events.chunks(size) {
                    let last = chunk.last().unwrap().eid;
                    let s = repo
                        .apply_events("ep", &batch(9, last, 3, chunk.to_vec()))
                        .unwrap();
                    assert!(s.state.unwrap().last_eid >= last);
                    changes += s.changes;
                }
                changes
            })
        })
        .collect();
    let changes: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(changes, 240);
    let h = store.history("ep", ALL).unwrap();
    let eids: Vec<u32> = h.iter().filter_map(|r| r.eid).collect();
    assert_eq!(eids, (1..=240).collect::<Vec<_>>());
    assert_eq!(store.installed("ep", ALL).unwrap().len(), 240);
    assert_eq!(
        store.swima_state("ep").unwrap(),
        Some(SwimaState {
            epoch: 9,
            last_eid: 240
        })
    );
    assert!(store.verify_history().unwrap().is_intact());
}

fn a_large_inventory_and_batch_are_stored_whole(b: Backend) {
    // More rows than one multi-row statement of the PostgreSQL backend writes (5,000).
    let repo = b.open();
    connect(&repo, "big", 1);
    let records: Vec<_> = (0..12_000)
        .map(|i| rec(&format!("pkg__{i:05}"), i))
        .collect();
    let s = repo
        .apply_inventory("big", &inventory(1, 0, 2, records))
        .unwrap();
    assert_eq!(s.changes, 12_000);
    let events: Vec<_> = (1..=6_000)
        .map(|e| {
            event(
                e,
                EventAction::Remove,
                rec(&format!("pkg__{:05}", e - 1), e - 1),
            )
        })
        .collect();
    assert_eq!(
        repo.apply_events("big", &batch(1, 6_000, 3, events))
            .unwrap()
            .changes,
        6_000
    );
    let page = Page::first(10_000);
    let h: Vec<_> = [page, page.next()]
        .into_iter()
        .flat_map(|p| repo.history("big", p).unwrap())
        .collect();
    assert_eq!(h.len(), 18_001);
    assert!(h.iter().enumerate().all(|(i, r)| r.seq == i as i64 + 1));
    assert_eq!(h[12_001].eid, Some(1));
    assert_eq!(repo.installed("big", page).unwrap().len(), 6_000);
    let r = repo.verify_history().unwrap();
    assert!(r.is_intact());
    assert_eq!(r.rows, 18_001);
}

on_both!(
    inventory_then_events_keep_the_eid_position,
    an_eid_gap_is_reported_and_the_last_consulted_eid_is_kept,
    events_need_an_inventory_and_the_same_epoch,
    an_epoch_change_resyncs_and_history_says_so,
    a_failure_mid_batch_leaves_nothing_half_written,
    limits_are_checked_before_anything_is_stored,
    duplicate_records_in_one_inventory_count_once,
    two_handles_on_one_file_racing_the_same_events_apply_them_once,
    software_first_seen_in_a_rolled_back_batch_is_stored_right_on_retry,
    two_sessions_of_one_endpoint_racing_overlapping_batches_lose_and_repeat_nothing,
    a_large_inventory_and_batch_are_stored_whole,
);
