//! The manager's questions: connected endpoints, installed now and as of a time, the C.2
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
//! vulnerable-software query, tags by vendor, history, paging.

#[path = "common/fixture.rs"]
mod fixture;

use fixture::*;
use posture_repository::version::VersionRange;
use posture_repository::*;

fn connected_endpoints_and_sessions(b: Backend) {
    let repo = b.open();
    let s1 = connect(&repo, "ep-a", 10);
    let _s2 = connect(&repo, "ep-b", 11);
    let s3 = connect(&repo, "ep-a", 12); // a second session of the same endpoint
    let names = |v: Vec<Endpoint>| v.into_iter().map(|e| e.identifier).collect::<Vec<_>>();
    assert_eq!(
        names(repo.connected_endpoints(ALL).unwrap()),
        ["ep-a", "ep-b"]
    );
    repo.session_ended(s1, UnixTime(20), Some("allow")).unwrap();
    assert_eq!(
        names(repo.connected_endpoints(ALL).unwrap()),
        ["ep-a", "ep-b"]
    );
    repo.session_ended(s3, UnixTime(30), Some("isolate"))
        .unwrap();
    assert_eq!(names(repo.connected_endpoints(ALL).unwrap()), ["ep-b"]);
    let a = repo.endpoint("ep-a").unwrap().unwrap();
    assert_eq!(
        (a.first_seen, a.last_seen, a.connected),
        (UnixTime(10), UnixTime(30), false)
    );
    assert_eq!(a.cert_fingerprint, Some(fingerprint(b"ep-a")));
    let sessions = repo.sessions("ep-a", ALL).unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[0].id, s3); // newest first
    assert_eq!(sessions[0].result.as_deref(), Some("isolate"));
    assert_eq!(sessions[1].ended_at, Some(UnixTime(20)));
    assert!(matches!(
        repo.session_ended(999, UnixTime(1), None),
        Err(Error::UnknownSession(999))
    ));
    // A manager restarting closes what it left open.
    assert_eq!(
        repo.close_open_sessions("m1", UnixTime(40), "manager restart")
            .unwrap(),
        1
    );
    assert!(repo.connected_endpoints(ALL).unwrap().is_empty());
    assert_eq!(names(repo.endpoints(ALL).unwrap()), ["ep-a", "ep-b"]);
    assert_eq!(repo.endpoint("nobody").unwrap(), None);
}

fn installed_now_and_as_of_a_time(b: Backend) {
    let repo = b.open();
    connect(&repo, "ep", 1);
    repo.apply_inventory(
        "ep",
        &inventory(1, 0, 100, vec![rec("a__1", 1), rec("b__1", 2)]),
    )
    .unwrap();
    repo.apply_events(
        "ep",
        &batch(
            1,
            1,
            200,
            vec![event(1, EventAction::Install, rec("c__1", 3))],
        ),
    )
    .unwrap();
    repo.apply_events(
        "ep",
        &batch(
            1,
            2,
            300,
            vec![event(2, EventAction::Remove, rec("a__1", 1))],
        ),
    )
    .unwrap();
    repo.apply_inventory(
        "ep",
        &inventory(2, 0, 400, vec![rec("c__1", 3), rec("d__1", 4)]),
    )
    .unwrap();
    assert_eq!(ids(&repo.installed("ep", ALL).unwrap()), ["c__1", "d__1"]);
    let at = |t| repo.installed_as_of("ep", UnixTime(t), ALL).unwrap();
    assert!(at(99).is_empty());
    assert_eq!(ids(&at(100)), ["a__1", "b__1"]);
    assert_eq!(ids(&at(250)), ["a__1", "b__1", "c__1"]);
    assert_eq!(ids(&at(300)), ["b__1", "c__1"]);
    assert_eq!(ids(&at(400)), ["c__1", "d__1"]);
    assert_eq!(at(250)[2].since, UnixTime(200));
    // As of now equals the live table.
    assert_eq!(at(i64::MAX), repo.installed("ep", ALL).unwrap());
    // Paging.
    assert_eq!(
        ids(&repo
            .installed_as_of(
                "ep",
                UnixTime(250),
                Page {
                    offset: 1,
                    limit: 1
                }
            )
            .unwrap()),
        ["b__1"]
    );
    assert_eq!(
        ids(&repo
            .installed(
                "ep",
                Page {
                    offset: 1,
                    limit: 5
                }
            )
            .unwrap()),
        ["d__1"]
    );
    assert!(matches!(
        repo.installed("nobody", ALL),
        Err(Error::UnknownEndpoint(_))
    ));
}

/// 3 endpoints with OpenSSL (or not) at several versions; the announced vulnerability is
/// OpenSSL < 3.0.13 (C.2).
fn fleet(b: Backend) -> Repo {
    let repo = b.open();
    let tag = |v: &str| {
        swid(
            "OpenSSL",
            v,
            "OpenSSL Project",
            "openssl.org",
            &format!("openssl-{v}"),
        )
    };
    let id = |v: &str| format!("openssl.org__openssl-{v}");
    for (ep, v) in [
        ("ep1", "3.0.11"),
        ("ep2", "3.0.13"),
        ("ep3", "1.1.1w"),
        ("ep4", "3.0.9"),
    ] {
        connect(&repo, ep, 1);
        repo.apply_inventory(
            ep,
            &inventory(
                1,
                0,
                2,
                vec![
                    with_tag(rec(&id(v), 1), tag(v)),
                    with_tag(
                        rec("debian.org__bash-5.2", 2),
                        swid("bash", "5.2.15", "Debian", "debian.org", "bash-5.2"),
                    ),
                ],
            ),
        )
        .unwrap();
    }
    // ep4 removes its vulnerable OpenSSL.
    repo.apply_events(
        "ep4",
        &batch(
            1,
            1,
            3,
            vec![event(1, EventAction::Remove, rec(&id("3.0.9"), 1))],
        ),
    )
    .unwrap();
    repo
}

fn vulnerable_software_query(b: Backend) {
    let repo = fleet(b);
    let q = SoftwareQuery {
        name: Some("openssl".into()), // case-insensitive
        vendor: None,
        versions: VersionRange::below("3.0.13"),
    };
    let hits = repo.find_software(&q, ALL).unwrap();
    let got: Vec<_> = hits
        .iter()
        .map(|m| {
            (
                m.endpoint.as_str(),
                m.software.meta.version.as_deref().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, [("ep1", "3.0.11"), ("ep3", "1.1.1w")]);
    assert!(hits.iter().all(|m| m.connected));
    assert_eq!(
        hits[0].software.meta.vendor.as_deref(),
        Some("OpenSSL Project")
    );

    let range = |r| {
        let q = SoftwareQuery {
            name: Some("OpenSSL".into()),
            vendor: None,
            versions: r,
        };
        repo.find_software(&q, ALL)
            .unwrap()
            .into_iter()
            .map(|m| m.endpoint)
            .collect::<Vec<_>>()
    };
    assert_eq!(range(VersionRange::between("3.0", "3.1")), ["ep1", "ep2"]);
    assert_eq!(range(VersionRange::exactly("3.0.13")), ["ep2"]);
    assert_eq!(range(VersionRange::any()), ["ep1", "ep2", "ep3"]);
    assert_eq!(
        range(VersionRange {
            min: Some(("3.0.11".into(), false)),
            max: None
        }),
        ["ep2"]
    );

    // By vendor name or regid, any name.
    let by_vendor = |v: &str| {
        let q = SoftwareQuery {
            vendor: Some(v.into()),
            ..SoftwareQuery::default()
        };
        repo.find_software(&q, ALL).unwrap().len()
    };
    assert_eq!(by_vendor("debian"), 4);
    assert_eq!(by_vendor("DEBIAN.ORG"), 4);
    assert_eq!(by_vendor("openssl project"), 3);
    assert_eq!(by_vendor("nobody"), 0);
    // Name and vendor together must both match.
    let q = SoftwareQuery {
        name: Some("bash".into()),
        vendor: Some("openssl.org".into()),
        ..SoftwareQuery::default()
    };
    assert!(repo.find_software(&q, ALL).unwrap().is_empty());
    // Paging walks the whole answer once.
    let q = SoftwareQuery::default();
    let all = repo.find_software(&q, ALL).unwrap();
    assert_eq!(all.len(), 7);
    let mut paged = Vec::new();
    let mut p = Page::first(3);
    loop {
        let chunk = repo.find_software(&q, p).unwrap();
        if chunk.is_empty() {
            break;
        }
        paged.extend(chunk);
        p = p.next();
    }
    assert_eq!(paged, all);
}

fn software_without_a_tag_matches_no_version_range(b: Backend) {
    let repo = b.open();
    connect(&repo, "ep", 1);
    repo.apply_inventory("ep", &inventory(1, 0, 2, vec![rec("x.org__thing-1", 1)]))
        .unwrap();
    let q = SoftwareQuery {
        versions: VersionRange::below("99"),
        ..SoftwareQuery::default()
    };
    assert!(repo.find_software(&q, ALL).unwrap().is_empty());
    let q = SoftwareQuery::default();
    let hits = repo.find_software(&q, ALL).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].software.meta, SoftwareMeta::default());
}

fn tags_by_vendor_and_history_paging(b: Backend) {
    let repo = fleet(b);
    let t = repo.tags_by_vendor("openssl.org", ALL).unwrap();
    assert_eq!(t.len(), 4);
    assert!(
        t.windows(2)
            .all(|w| w[0].software_identifier <= w[1].software_identifier)
    );
    assert!(
        t.iter()
            .all(|t| !t.trusted && t.flags.is_empty() && t.reported_by.is_some())
    );
    assert_eq!(repo.tags_by_vendor("Debian", ALL).unwrap().len(), 1); // stored once
    assert_eq!(
        repo.tags_by_vendor(
            "Debian",
            Page {
                offset: 1,
                limit: 10
            }
        )
        .unwrap()
        .len(),
        0
    );

    let h = repo.history("ep4", ALL).unwrap();
    assert_eq!(
        h.iter().map(|e| e.kind).collect::<Vec<_>>(),
        [
            HistoryKind::Resync,
            HistoryKind::Install,
            HistoryKind::Install,
            HistoryKind::Remove
        ]
    );
    assert_eq!(
        repo.history(
            "ep4",
            Page {
                offset: 2,
                limit: 1
            }
        )
        .unwrap(),
        h[2..3]
    );
}

fn page_limits_are_clamped(b: Backend) {
    let repo = b.limited(Limits {
        max_page: 2,
        ..Limits::default()
    });
    for i in 0..5 {
        connect(&repo, &format!("ep{i}"), 1);
    }
    assert_eq!(repo.endpoints(Page::first(1000)).unwrap().len(), 2);
    assert_eq!(
        repo.connected_endpoints(Page {
            offset: 4,
            limit: 1000
        })
        .unwrap()
        .len(),
        1
    );
}

on_both!(
    connected_endpoints_and_sessions,
    installed_now_and_as_of_a_time,
    vulnerable_software_query,
    software_without_a_tag_matches_no_version_range,
    tags_by_vendor_and_history_paging,
    page_limits_are_clamped,
);
