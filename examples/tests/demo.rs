//! The README's main command: `tnc-demo` runs end to end (debug build, bounded time) and
//! shows every step: initial inventory, the install and the removal as SWIMA events, the
//! vulnerable-software query, the same question as guidance (isolated, then allowed again when
//! the rule goes), the admin-only re-assessment.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/proc.rs"]
mod proc;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use proc::Proc;

#[test]
fn demo_runs_end_to_end() {
    let child = Command::new(env!("CARGO_BIN_EXE_tnc-demo"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut g = Proc(child);
    let (status, out) = g.finish(Duration::from_secs(240), "tnc-demo");
    let mut err = String::new();
    g.0.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(status.success(), "tnc-demo failed:\n{out}\n{err}");
    // The initial inventory: every sample tag (SWID and CoSWID) with its name and version.
    for row in [
        "openssl   3.0.22-1~deb12u2",
        "curl      7.88.1-10+deb12u15",
        "xz-utils  5.4.1-1",
    ] {
        assert!(out.contains(row), "missing {row:?} in:\n{out}");
    }
    // The install and the removal arrived as events with EIDs 1 and 2.
    assert!(
        out.contains("install  1    strongswan.org__Debian_12-x86_64-libssl3-3.0.22-1~deb12u2"),
        "{out}"
    );
    assert!(
        out.contains("remove  2    strongswan.org__Debian_12-x86_64-xz-utils-5.4.1-1"),
        "{out}"
    );
    // C.2 found the endpoint; the read token may not re-assess, the admin token may.
    assert!(
        out.contains("CN=laptop-17.example,O=Example  true       openssl  3.0.22-1~deb12u2"),
        "{out}"
    );
    assert!(out.contains("with the read token:  HTTP 403"), "{out}");
    assert!(out.contains("with the admin token: HTTP 202"), "{out}");
    // The rule isolates the endpoint at once, with the record as the reason; removing it
    // allows the endpoint again.
    assert!(
        out.contains("result changed: CN=laptop-17.example,O=Example -> isolate"),
        "{out}"
    );
    assert_eq!(
        out.matches("RECOMMENDATION isolate (non-compliant-major)")
            .count(),
        1,
        "{out}"
    );
    assert!(
        out.contains("old-openssl  openssl   3.0.22-1~deb12u2"),
        "{out}"
    );
    assert_eq!(
        out.matches("RECOMMENDATION allow (compliant)").count(),
        3,
        "{out}"
    );
}
