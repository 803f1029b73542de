//! Signals between the processes sharing a repository (PostgreSQL LISTEN/NOTIFY): what one
//! handle signals reaches every handle listening on that repository's channel, not one on
//! another channel or another repository; SQLite has no one to tell.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/fixture.rs"]
mod fixture;

use std::time::Duration;

use fixture::*;
use posture_repository::*;

const WAIT: Duration = Duration::from_secs(10);
const QUIET: Duration = Duration::from_millis(300);

fn reaches_every_listener_of_the_repository(b: Backend) {
    let repo = b.on_disk();
    let Some(mut other) = repo.another_handle().listen("reassess").unwrap() else {
        assert_eq!(b, Backend::Sqlite, "only SQLite has no listeners");
        // Nobody to tell: signalling still checks its input and succeeds.
        repo.signal("reassess", "CN=host1").unwrap();
        return;
    };
    let mut own = repo.listen("reassess").unwrap().unwrap();
    let mut elsewhere = repo.listen("other-channel").unwrap().unwrap();
    let unrelated = b.on_disk();
    let mut unrelated = unrelated.listen("reassess").unwrap().unwrap();

    repo.signal("reassess", "CN=host1").unwrap();
    repo.signal("reassess", "CN=host2").unwrap();
    assert_eq!(other.next(WAIT).unwrap().as_deref(), Some("CN=host1"));
    assert_eq!(other.next(WAIT).unwrap().as_deref(), Some("CN=host2"));
    // The sender hears itself too.
    assert_eq!(own.next(WAIT).unwrap().as_deref(), Some("CN=host1"));
    // Not another channel, not another repository in the same database.
    assert_eq!(elsewhere.next(QUIET).unwrap(), None);
    assert_eq!(unrelated.next(QUIET).unwrap(), None);
    // Nothing more, and a timeout is not an error.
    assert_eq!(other.next(QUIET).unwrap(), None);
}

fn sizes_are_checked(b: Backend) {
    let repo = b.open();
    let big = "x".repeat(signals::MAX_SIGNAL_PAYLOAD + 1);
    assert!(matches!(
        repo.signal("reassess", &big),
        Err(Error::TooLarge { .. })
    ));
    repo.signal("reassess", &big[1..]).unwrap();
}

on_both!(reaches_every_listener_of_the_repository, sizes_are_checked);
