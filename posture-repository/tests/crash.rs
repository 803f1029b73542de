//! Crash safety: a process killed (SIGKILL) while ingesting loses nothing it committed and
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
//! leaves nothing half-written; the next session asks for exactly what is missing.

#[path = "common/fixture.rs"]
mod fixture;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use fixture::*;
use posture_repository::*;

const DB_ENV: &str = "POSTURE_REPOSITORY_CRASH_DB";
const PER_BATCH: u32 = 200;

fn events_from(first: u32, n: u32) -> Vec<SoftwareEvent> {
    (first..first + n)
        .map(|eid| {
            // Install every EID's software; every third event removes the one two before.
            if eid % 3 == 0 && eid > 2 {
                event(
                    eid,
                    EventAction::Remove,
                    rec(&format!("v.example__sw-{}", eid - 2), eid - 2),
                )
            } else {
                event(
                    eid,
                    EventAction::Install,
                    rec(&format!("v.example__sw-{eid}"), eid),
                )
            }
        })
        .collect()
}

/// The child: ingests batches until killed, printing each committed position.
#[test]
#[ignore = "the child process of killed_mid_ingest_loses_nothing_committed"]
fn crash_child() {
    let Ok(db) = std::env::var(DB_ENV) else {
        return;
    };
    let repo = SqliteRepository::open(db, SqliteConfig::default()).unwrap();
    connect(&repo, "ep", 1);
    repo.apply_inventory("ep", &inventory(1, 0, 2, vec![]))
        .unwrap();
    let mut next = 1;
    // Bounded: the parent kills it long before this ends.
    for _ in 0..100_000 {
        let s = repo
            .apply_events(
                "ep",
                &batch(1, next + PER_BATCH - 1, 3, events_from(next, PER_BATCH)),
            )
            .unwrap();
        println!("COMMITTED {}", s.state.unwrap().last_eid);
        next += PER_BATCH;
    }
}

/// Kills the child on drop, also when the test fails.
struct Killer(Child);

impl Drop for Killer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn killed_mid_ingest_loses_nothing_committed() {
    let dir = TempDir::new("crash");
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "crash_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(DB_ENV, dir.db())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = Killer(child);
    let out = child.0.stdout.take().unwrap();
    let mut committed = 0;
    let mut seen = 0;
    for line in BufReader::new(out).lines() {
        let line = line.unwrap();
        if let Some(n) = line.strip_prefix("COMMITTED ") {
            committed = n.parse::<u32>().unwrap();
            seen += 1;
            if seen == 5 {
                break;
            }
        }
    }
    assert_eq!(seen, 5, "the child stopped before committing 5 batches");
    // SIGKILL, most likely in the middle of the next batch's transaction.
    child.0.kill().unwrap();
    child.0.wait().unwrap();

    let unpaged = SqliteConfig {
        limits: Limits {
            max_page: u32::MAX,
            ..Limits::default()
        },
        ..SqliteConfig::default()
    };
    let repo = SqliteRepository::open(dir.db(), unpaged).unwrap();
    let state = repo.swima_state("ep").unwrap().unwrap();
    // Nothing committed is lost (the child may have committed more after its last line).
    assert!(
        state.last_eid >= committed,
        "{} < {committed}",
        state.last_eid
    );
    assert_eq!(
        state.last_eid % PER_BATCH,
        0,
        "a batch was half applied: {state:?}"
    );
    // Nothing half-written: the history holds exactly the events up to the stored EID.
    let h = repo.history("ep", Page::first(u32::MAX)).unwrap();
    let eids: Vec<u32> = h.iter().filter_map(|e| e.eid).collect();
    assert_eq!(eids, (1..=state.last_eid).collect::<Vec<_>>());
    assert!(repo.verify_history().unwrap().is_intact());
    assert_eq!(
        repo.installed("ep", Page::first(u32::MAX)).unwrap(),
        repo.installed_as_of("ep", UnixTime(i64::MAX), Page::first(u32::MAX))
            .unwrap()
    );
    // The next session resends from what the repository asks: repeats are skipped, the rest
    // applies, and nothing is duplicated.
    let resend_from = state.last_eid - PER_BATCH + 1;
    let s = repo
        .apply_events(
            "ep",
            &batch(
                1,
                state.last_eid + PER_BATCH,
                4,
                events_from(resend_from, 2 * PER_BATCH),
            ),
        )
        .unwrap();
    assert_eq!(
        (s.duplicates, s.changes),
        (PER_BATCH as usize, PER_BATCH as usize)
    );
    assert_eq!(s.state.unwrap().last_eid, state.last_eid + PER_BATCH);
    assert!(repo.verify_history().unwrap().is_intact());
}
