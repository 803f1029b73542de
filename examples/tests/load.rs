//! `tnc-load` completes a small run against its in-process manager with no failure (a smoke
//! test: its figures are measured by hand, see the README).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/proc.rs"]
mod proc;

use std::process::{Command, Stdio};
use std::time::Duration;

use proc::Proc;

#[test]
fn small_run_succeeds() {
    let mut p = Proc(
        Command::new(env!("CARGO_BIN_EXE_tnc-load"))
            .args(["--agents", "2", "--assessments", "6", "--records", "20"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let (status, out) = p.finish(Duration::from_secs(120), "tnc-load");
    assert!(status.success(), "{out}");
    assert!(out.contains("assessments 6 ok, 0 failed"), "{out}");
    assert!(out.contains("assessments/s"), "{out}");
}
