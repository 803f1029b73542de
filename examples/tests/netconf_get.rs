//! `netconf-get` against the real NETCONF server (`scripts/netconfd-up.sh`, which the test
//! command starts): every authentication and transport the CLI offers, its JSON and text
//! output, and the one-line errors with exit 1. `#[ignore]`d in a plain `cargo test`
//! (`scripts/test.sh` runs it); fails when the server is missing. The timeout test needs no
//! server.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::{Command, Output};

#[path = "support/netconfd.rs"]
mod netconfd;
use netconfd::env;

use serde_json::Value;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netconf-get"))
        .args(args)
        .output()
        .unwrap()
}

fn ok_stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn one_line_error(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    err
}

/// A server that accepts the TCP connection and never speaks: the error names the phase.
/// (The listener is never accepted from: the kernel completes the connection; it closes
/// when the test ends.)
#[test]
fn timeout_names_the_stalled_phase() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port().to_string();
    let out = run(&[
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--user",
        "u",
        "--password",
        "p",
        "--accept-unknown-host-key",
        "--timeout",
        "1",
        "--get",
    ]);
    let err = one_line_error(&out);
    assert!(
        err.contains("timed out during SSH handshake and authentication"),
        "{err}"
    );
    drop(l);
}

/// One test function: the CLI runs are serialised so the server sees one session at a time.
#[test]
#[ignore = "needs the NETCONF test server: scripts/test.sh runs it"]
fn netconf_get_against_netconfd() {
    let e = env();
    let (host, port, user) = (&e["NETCONF_HOST"], &e["NETCONF_PORT"], &e["NETCONF_USER"]);
    let ssh = ["--host", host, "--port", port, "--user", user];
    let kh = ["--known-hosts", &e["NETCONF_KNOWN_HOSTS"]];

    // Password auth, RFC 7317 posture as RFC 7951 JSON: module-qualified top-level
    // containers, config and state apart, numbers and booleans typed, lists as arrays.
    let mut args: Vec<&str> = ssh.to_vec();
    args.extend(["--password", &e["NETCONF_PASSWORD"]]);
    args.extend(kh);
    args.extend(["--ietf-system", "--json"]);
    let v: Value = serde_json::from_str(&ok_stdout(&run(&args))).unwrap();
    let sys = &v["ietf-system:system"];
    assert_eq!(sys["hostname"], "nc-interop-1");
    assert_eq!(sys["contact"], "interop-lab@example.net");
    assert!(
        v["ietf-system:system-state"]["clock"]["current-datetime"]
            .as_str()
            .unwrap()
            .starts_with("20")
    );
    assert_eq!(sys["ntp"]["enabled"], true);
    assert_eq!(sys["ntp"]["server"][0]["udp"]["address"], "127.0.0.1");
    assert_eq!(sys["dns-resolver"]["options"]["timeout"], 2);
    assert_eq!(
        sys["authentication"]["user-authentication-order"][0],
        "ietf-system:local-users"
    );
    assert_eq!(sys["authentication"]["user"][0]["name"], "nctest");
    // The password hash is never printed.
    assert!(sys["authentication"]["user"][0].get("password").is_none());
    // netconfd reports no platform leaves: absent leaves are omitted, not null.
    assert!(v["ietf-system:system-state"].get("platform").is_none());

    // The password from a file and from an environment variable.
    let pw = std::env::temp_dir().join(format!("nea-netconf-get-pw-{}", std::process::id()));
    std::fs::write(&pw, format!("{}\n", e["NETCONF_PASSWORD"])).unwrap();
    let mut args: Vec<&str> = ssh.to_vec();
    args.extend(["--password-file", pw.to_str().unwrap()]);
    args.extend(kh);
    args.extend(["--ietf-system"]);
    let text = ok_stdout(&run(&args));
    std::fs::remove_file(&pw).ok();
    assert!(text.contains("hostname: nc-interop-1"), "{text}");
    let mut args: Vec<&str> = ssh.to_vec();
    args.extend(["--password-env", "NEA_TEST_NETCONF_PW"]);
    args.extend(kh);
    args.extend(["--ietf-system"]);
    let out = Command::new(env!("CARGO_BIN_EXE_netconf-get"))
        .args(&args)
        .env("NEA_TEST_NETCONF_PW", &e["NETCONF_PASSWORD"])
        .output()
        .unwrap();
    assert!(ok_stdout(&out).contains("hostname: nc-interop-1"));

    // Public-key auth, get-config with an XPath filter: raw XML.
    let mut args: Vec<&str> = ssh.to_vec();
    args.extend(["--key", &e["NETCONF_SSH_KEY"]]);
    args.extend(kh);
    args.extend(["--get-config", "running", "--filter", "/system"]);
    let xml = ok_stdout(&run(&args));
    assert!(xml.contains("<hostname>nc-interop-1</hostname>"), "{xml}");

    // <get> --json: the data as structured JSON (module-qualified top level, repeated
    // elements as arrays), not the XML in a string.
    let mut args: Vec<&str> = ssh.to_vec();
    args.extend(["--key", &e["NETCONF_SSH_KEY"]]);
    args.extend(kh);
    args.extend(["--get", "--filter", "/system", "--json"]);
    let v: Value = serde_json::from_str(&ok_stdout(&run(&args))).unwrap();
    assert_eq!(v["ietf-system:system"]["hostname"], "nc-interop-1");
    assert_eq!(
        v["ietf-system:system"]["ntp"]["server"]["udp"]["address"],
        "127.0.0.1"
    );

    // <get> with an XPath filter.
    let mut args: Vec<&str> = ssh.to_vec();
    args.extend(["--key", &e["NETCONF_SSH_KEY"]]);
    args.extend(kh);
    args.extend(["--get", "--filter", "/system/location"]);
    let xml = ok_stdout(&run(&args));
    assert!(xml.contains("loopback lab, rack 1"), "{xml}");

    // The same posture over the RFC 7589 TLS listener, as text.
    let tls_port = &e["NETCONF_TLS_PORT"];
    let args = [
        "--host",
        host,
        "--port",
        tls_port,
        "--user",
        user,
        "--tls",
        "--ca",
        &e["NETCONF_TLS_CA"],
        "--cert",
        &e["NETCONF_TLS_CERT"],
        "--tls-key",
        &e["NETCONF_TLS_KEY"],
        "--ietf-system",
    ];
    let text = ok_stdout(&run(&args));
    assert!(
        text.lines().any(|l| l.trim() == "hostname: nc-interop-1"),
        "{text}"
    );

    // An unknown host key is refused.
    let empty = std::env::temp_dir().join(format!("nea-empty-known-hosts-{}", std::process::id()));
    std::fs::write(&empty, "").unwrap();
    let mut args: Vec<&str> = ssh.to_vec();
    args.extend([
        "--password",
        &e["NETCONF_PASSWORD"],
        "--known-hosts",
        empty.to_str().unwrap(),
        "--ietf-system",
    ]);
    let err = one_line_error(&run(&args));
    assert!(err.contains("unknown host key"), "{err}");
    std::fs::remove_file(&empty).ok();

    // A wrong password.
    let mut args: Vec<&str> = ssh.to_vec();
    args.extend(["--password", "wrong"]);
    args.extend(kh);
    args.push("--ietf-system");
    let err = one_line_error(&run(&args));
    assert!(err.contains("authentication failed"), "{err}");

    // Nobody listening.
    let args = [
        "--host",
        "127.0.0.1",
        "--port",
        "9",
        "--user",
        user,
        "--password",
        "x",
        "--ietf-system",
    ];
    one_line_error(&run(&args));
}
