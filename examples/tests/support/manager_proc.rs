//! Starts a `tnc-manager` command and reads the addresses it prints when ready.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};

use crate::proc::Proc;

/// Spawns `c` (stdout piped, stderr dropped) and reads `LISTENING ADDR` and `API ADDR`;
/// returns the process (killed on drop), the PT-TLS and the API address.
pub(crate) fn spawn(c: &mut Command) -> (Proc, SocketAddr, SocketAddr) {
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let p = Proc(child);
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let pt: SocketAddr = line
        .strip_prefix("LISTENING ")
        .unwrap_or_else(|| panic!("first line {line:?}"))
        .trim()
        .parse()
        .unwrap();
    line.clear();
    out.read_line(&mut line).unwrap();
    let api: SocketAddr = line.strip_prefix("API ").unwrap().trim().parse().unwrap();
    (p, pt, api)
}
