//! The PostgreSQL backend called from inside tokio runtimes (a manager's verifiers and API
//! handlers run on its workers): the synchronous client must step off the worker instead of
//! panicking ("Cannot start a runtime from within a runtime"), on a multi-thread runtime and
//! on a current-thread one, for calls, listeners and the final drop of the pool.
#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/fixture.rs"]
mod fixture;

use std::time::Duration;

use fixture::*;
use posture_repository::*;

fn calls_inside(rt: tokio::runtime::Runtime) {
    let store = Backend::Postgres.store();
    rt.block_on(async {
        // On the runtime's thread (a worker for the multi-thread one).
        let repo = store.open();
        repo.session_started(&NewSession {
            endpoint: "CN=async".into(),
            cert_fingerprint: None,
            manager_instance: "m".into(),
            peer_address: "127.0.0.1:1".into(),
            at: UnixTime(1),
        })
        .unwrap();
        let mut l = repo.listen("reassess").unwrap().unwrap();
        repo.signal("reassess", "CN=async").unwrap();
        assert_eq!(
            l.next(Duration::from_secs(10)).unwrap().as_deref(),
            Some("CN=async")
        );
        // And from a spawned task.
        let r = repo.clone();
        let n = tokio::spawn(async move { r.endpoints(Page::first(10)).unwrap().len() })
            .await
            .unwrap();
        assert_eq!(n, 1);
        drop(l);
        // The last handle, with its pooled connections, dropped on the runtime.
        drop(repo);
    });
}

#[test]
#[ignore = "needs PostgreSQL: NEA_TEST_POSTGRES_URL and --ignored (scripts/test.sh)"]
fn from_a_multi_thread_runtime() {
    calls_inside(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap(),
    );
}

#[test]
#[ignore = "needs PostgreSQL: NEA_TEST_POSTGRES_URL and --ignored (scripts/test.sh)"]
fn from_a_current_thread_runtime() {
    calls_inside(
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
    );
}
