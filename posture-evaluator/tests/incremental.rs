//! proptest: after any sequence of posture and guidance changes and of time passing (a
//! staleness rule, sessions, the timer), the stored (incremental)
//! evaluation of every endpoint equals a full re-evaluation by a freshly loaded evaluator.
// The test bodies are plain functions that on_both!/proptest! call (clippy's test
// exemption sees only #[test] functions).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

#[path = "common/fixture.rs"]
mod fixture;

use std::collections::BTreeSet;

use fixture::*;
use posture_evaluator::*;
use posture_repository::{EventAction, UnixTime};
use proptest::prelude::*;

const EPS: [&str; 3] = ["ep-a", "ep-b", "ep-c"];

fn pkgs() -> Vec<Pkg> {
    vec![
        Pkg::new("openssl", "1.1.1", "OpenSSL"),
        Pkg::new("openssl", "3.0.11", "OpenSSL"),
        Pkg::new("openssl", "3.0.13", "OpenSSL"),
        Pkg::new("bash", "5.2", "GNU"),
        Pkg::new("coreutils", "9.1", "GNU"),
        Pkg::new("agent", "2.0", "Acme"),
    ]
}

fn rules() -> Vec<Rule> {
    vec![
        software_rule(
            "r-name",
            r#"{"name":"openssl","versions":{"below":"3.0.13"}}"#,
            "isolate",
        ),
        software_rule(
            "r-range",
            r#"{"name":"OpenSSL","versions":{"at_least":"3","at_most":"3.0.13"}}"#,
            "allow",
        ),
        software_rule("r-vendor", r#"{"vendor":"gnu"}"#, "allow"),
        software_rule("r-regid", r#"{"vendor":"acme.example"}"#, "no-access"),
        software_rule("r-tag", r#"{"tag_id":"coreutils-9.1"}"#, "isolate"),
        software_rule(
            "r-id",
            r#"{"software_identifier":"gnu.example__bash-5.2","name":"bash"}"#,
            "no-access",
        ),
        rule(
            r#"{"id":"r-fwd","severity":"major","recommendation":"isolate","when":{"os_attribute":{"name":"forwarding","equals":"enabled"}}}"#,
        ),
        // Same id as r-name, another condition: a replaced rule.
        software_rule("r-name", r#"{"vendor":"OpenSSL"}"#, "no-access"),
        rule(
            r#"{"id":"r-stale","severity":"unknown","recommendation":"isolate","when":{"stale":{"hours":1}}}"#,
        ),
    ]
}

#[derive(Debug, Clone)]
enum Op {
    Install(usize, usize),
    Remove(usize, usize),
    Put(usize),
    Drop(usize),
    Forwarding(usize, bool),
    /// A session of the endpoint started (its last-seen time moved).
    Seen(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..EPS.len(), 0..6usize).prop_map(|(e, p)| Op::Install(e, p)),
        2 => (0..EPS.len(), 0..6usize).prop_map(|(e, p)| Op::Remove(e, p)),
        2 => (0..9usize).prop_map(Op::Put),
        1 => (0..9usize).prop_map(Op::Drop),
        1 => (0..EPS.len(), any::<bool>()).prop_map(|(e, f)| Op::Forwarding(e, f)),
        1 => (0..EPS.len()).prop_map(Op::Seen),
    ]
}

/// Applies the operations one by one; after each, every endpoint's stored evaluation must
/// equal a full evaluation by a freshly loaded evaluator.
fn run(repo: &dyn Store, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let pkgs = pkgs();
    let rules = rules();
    import(repo, &pkgs);
    let ev = Evaluator::load(repo).unwrap();
    let mut installed = vec![BTreeSet::new(); EPS.len()];
    for ep in EPS {
        connect(repo, ep, 10);
        inventory(repo, ep, 10, &[]);
        ev.evaluate_endpoint(repo, ep, UnixTime(10)).unwrap();
    }
    let mut before = UnixTime(10);
    for (step, op) in ops.into_iter().enumerate() {
        // Half an hour per step: a one-hour staleness rule fires after two quiet steps.
        let now = UnixTime(100 + 1_800 * i64::try_from(step).unwrap());
        match op {
            Op::Install(e, p) => {
                if installed[e].insert(p) {
                    let ids = events(repo, EPS[e], now.0, &[(EventAction::Install, pkgs[p].id())]);
                    ev.on_software_changes(repo, EPS[e], &ids, now).unwrap();
                }
            }
            Op::Remove(e, p) => {
                if installed[e].remove(&p) {
                    let ids = events(repo, EPS[e], now.0, &[(EventAction::Remove, pkgs[p].id())]);
                    ev.on_software_changes(repo, EPS[e], &ids, now).unwrap();
                }
            }
            Op::Put(r) => {
                ev.put_rule(repo, rules[r].clone(), "prop", now).unwrap();
            }
            Op::Drop(r) => match ev.remove_rule(repo, &rules[r].id, "prop", now) {
                Ok(_) | Err(EvalError::UnknownRule(_)) => {}
                Err(e) => panic!("{e}"),
            },
            Op::Forwarding(e, on) => {
                let v = if on { "enabled" } else { "disabled" };
                ev.on_attributes(repo, EPS[e], &[("forwarding".into(), v.into())], now)
                    .unwrap();
            }
            Op::Seen(e) => {
                connect(repo, EPS[e], now.0);
                ev.on_seen(repo, EPS[e], now).unwrap();
            }
        }
        // The manager's timer.
        ev.on_time(repo, before, now).unwrap();
        before = now;
        let fresh = Evaluator::load(repo).unwrap();
        for ep in EPS {
            let stored = Evaluator::current(repo, ep).unwrap().unwrap();
            let full = fresh.compute(repo, ep, now).unwrap();
            prop_assert_eq!(
                &stored.findings,
                &full.findings,
                "endpoint {} after step {}",
                ep,
                step
            );
            prop_assert_eq!(stored.outcome, full.outcome);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn incremental_equals_full(ops in proptest::collection::vec(op(), 1..24)) {
        run(&memory(), ops)?;
    }
}

#[cfg(feature = "postgres")]
proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    #[ignore = "needs PostgreSQL: NEA_TEST_POSTGRES_URL and --ignored (scripts/test.sh)"]
    fn incremental_equals_full_on_postgres(ops in proptest::collection::vec(op(), 1..24)) {
        let pg = PgRepo::new();
        run(&pg.repo, ops)?;
    }
}
