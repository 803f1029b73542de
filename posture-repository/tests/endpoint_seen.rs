//! An endpoint seen without a session (a network device the manager reads over NETCONF):
//! its row is created once, its last-seen time only moves forward, it is not connected, and
//! the evaluator's tables accept it.
#![allow(clippy::unwrap_used, clippy::panic)]

#[path = "common/fixture.rs"]
mod fixture;

use fixture::*;
use posture_repository::guidance::EndpointAttribute;
use posture_repository::*;

fn seen_without_a_session(b: Backend) {
    let repo = b.open();
    repo.endpoint_seen("netconf:sw1", UnixTime(100)).unwrap();
    repo.endpoint_seen("netconf:sw1", UnixTime(300)).unwrap();
    repo.endpoint_seen("netconf:sw1", UnixTime(200)).unwrap();
    let e = repo.endpoint("netconf:sw1").unwrap().unwrap();
    assert_eq!((e.first_seen, e.last_seen), (UnixTime(100), UnixTime(300)));
    assert!(!e.connected);
    assert_eq!(repo.endpoints(Page::first(10)).unwrap().len(), 1);
    repo.set_attributes(
        "netconf:sw1",
        &[EndpointAttribute {
            name: "hostname".into(),
            value: "sw1".into(),
            at: UnixTime(300),
        }],
    )
    .unwrap();
    assert_eq!(repo.attributes("netconf:sw1").unwrap().len(), 1);
    let big = "x".repeat(Limits::default().max_text_bytes + 1);
    assert!(matches!(
        repo.endpoint_seen(&big, UnixTime(1)),
        Err(Error::TooLarge { .. })
    ));
}

on_both!(seen_without_a_session);
