//! `tnc-manager --netconf-devices`: network devices polled over NETCONF, their posture
//! stored and answered by the HTTP API. Unreachable and silent devices are counted as errors
//! while the manager keeps serving (no server needed); `devices_polled_from_netconfd` polls the
//! real NETCONF server over SSH (password and key) and TLS (`#[ignore]`d: `scripts/test.sh`
//! starts the server and runs it). Only `<get>` and `<close-session>` reach the server.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "support/manager_proc.rs"]
mod manager_proc;
#[path = "support/netconfd.rs"]
mod netconfd;
#[path = "support/proc.rs"]
mod proc;
#[path = "support/tmp.rs"]
mod tmp;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nea_examples::http::{encode, request};
use nea_examples::pki::Ca;
use proc::Proc;
use serde_json::{Value, json};
use tmp::tmp;

const READ: &str = "read-token-0123456789abcdef";
const ADMIN: &str = "admin-token-0123456789abcdef";

/// The manager's command line in `dir` (throwaway CA and certificate, a read token) with
/// `--netconf-devices dir/devices.json`.
fn manager_command(dir: &Path) -> Command {
    let ca = Ca::new("devices test CA").unwrap();
    let ca_file = ca.write(dir, "ca").unwrap();
    let m = ca
        .leaf(dir, "manager", "localhost", &["localhost"], true)
        .unwrap();
    std::fs::write(dir.join("tokens"), format!("{READ} read\n{ADMIN} admin\n")).unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_tnc-manager"));
    c.args(["--listen", "127.0.0.1:0", "--api", "127.0.0.1:0"])
        .arg("--cert")
        .arg(&m.cert)
        .arg("--key")
        .arg(&m.key)
        .arg("--ca")
        .arg(ca_file)
        .arg("--db")
        .arg(dir.join("posture.db"))
        .arg("--api-token-file")
        .arg(dir.join("tokens"))
        .arg("--netconf-devices")
        .arg(dir.join("devices.json"));
    c
}

/// Starts the manager; returns it and its API address.
fn start_manager(dir: &Path) -> (Proc, SocketAddr) {
    let (p, _, api) = manager_proc::spawn(&mut manager_command(dir));
    (p, api)
}

async fn get(api: SocketAddr, path: &str, token: Option<&str>) -> (u16, Value) {
    let (status, body) = request(api, "GET", path, token).await.unwrap();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// `/devices` as a map by name.
async fn devices(api: SocketAddr) -> HashMap<String, Value> {
    let (st, v) = get(api, "/devices", Some(READ)).await;
    assert_eq!(st, 200, "{v}");
    v["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["name"].as_str().unwrap().to_owned(), d.clone()))
        .collect()
}

/// Polls `/devices` until `ok` holds (at most 60 s).
async fn wait_devices(
    api: SocketAddr,
    what: &str,
    ok: impl Fn(&HashMap<String, Value>) -> bool,
) -> HashMap<String, Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let d = devices(api).await;
        if ok(&d) {
            return d;
        }
        assert!(Instant::now() < deadline, "timed out: {what}; have {d:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{name} missing from {text}"))
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_devices_are_counted_and_the_manager_keeps_serving() {
    let dir = tmp("devices-down");
    // Nobody listens on a port just released; a listener never accepting completes the TCP
    // handshake in the kernel and then says nothing (the SSH set-up times out).
    let gone = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    std::fs::write(dir.0.join("pw"), "secret\n").unwrap();
    let file = json!({"devices": [
        {"name": "gone sw", "address": gone.to_string(), "transport": "ssh", "user": "u",
         "password_file": "pw", "known_hosts": "known_hosts", "poll_interval_secs": 1},
        {"name": "silent", "address": silent.local_addr().unwrap().to_string(),
         "transport": "ssh", "user": "u", "key_file": "id", "known_hosts": "known_hosts",
         "poll_interval_secs": 1, "timeout_secs": 1},
    ]});
    std::fs::write(dir.0.join("devices.json"), file.to_string()).unwrap();
    let (_m, api) = start_manager(&dir.0);

    let d = wait_devices(api, "both devices failed once", |d| {
        d.values().all(|v| v["errors"].as_u64() >= Some(1))
    })
    .await;
    assert_eq!(d.len(), 2);
    let g = &d["gone sw"];
    assert_eq!(g["address"], gone.to_string());
    assert_eq!(g["transport"], "ssh");
    assert_eq!(g["poll_interval_secs"], 1);
    assert!(g["last_success"].is_null());
    assert!(
        g["last_error"].as_str().unwrap().contains("i/o error"),
        "{g}"
    );
    let s = &d["silent"];
    assert!(
        s["last_error"]
            .as_str()
            .unwrap()
            .contains("timed out during SSH handshake"),
        "{s}"
    );
    assert!(s["failures_in_a_row"].as_u64() >= Some(1));

    let (st, text) = request(api, "GET", "/metrics", None).await.unwrap();
    assert_eq!(st, 200);
    let (polls, errors) = (
        metric(&text, "tnc_device_polls_total"),
        metric(&text, "tnc_device_poll_errors_total"),
    );
    assert!(errors >= 2 && polls >= errors, "{text}");

    // No reading: 404 for the posture, an empty history for a configured device, 404 for
    // a device neither configured nor ever read.
    let path = format!("/devices/{}/posture", encode("gone sw"));
    let (st, v) = get(api, &path, Some(READ)).await;
    assert_eq!(st, 404, "{v}");
    assert!(v["error"].as_str().unwrap().contains("no reading"), "{v}");
    let (st, v) = get(api, "/devices/silent/history", Some(READ)).await;
    assert_eq!(st, 200);
    assert_eq!(v["configured"], true);
    assert_eq!(v["readings"], json!([]));
    assert_eq!(get(api, "/devices/nobody/history", Some(READ)).await.0, 404);

    // Authorization and validation as for the other queries.
    assert_eq!(get(api, "/devices", None).await.0, 401);
    assert_eq!(get(api, "/devices/silent/posture", None).await.0, 401);
    for bad in [
        "/devices?limit=0",
        "/devices?colour=red",
        "/devices/silent/posture?as_of=yesterday",
        "/devices/silent/posture?limit=5",
        "/devices/silent/history?offset=-1",
        &format!("/devices/{}/posture", "n".repeat(257)),
    ] {
        let (st, v) = get(api, bad, Some(READ)).await;
        assert_eq!(st, 400, "{bad}: {v}");
        assert!(v["error"].is_string(), "{bad}: {v}");
    }
    let (_, v) = get(api, "/devices?offset=1&limit=1", Some(READ)).await;
    assert_eq!(v["devices"].as_array().unwrap().len(), 1);

    // The rest of the manager still answers, and the API document lists the device queries.
    assert_eq!(get(api, "/endpoints", Some(READ)).await.0, 200);
    let (_, doc) = get(api, "/openapi.json", None).await;
    for p in [
        "/devices",
        "/devices/{name}/posture",
        "/devices/{name}/history",
    ] {
        assert!(doc["paths"][p]["get"].is_object(), "{p}");
    }
    drop(silent);
}

#[test]
fn a_malformed_device_file_stops_the_manager_naming_it() {
    let dir = tmp("devices-bad");
    std::fs::write(
        dir.0.join("devices.json"),
        r#"{"devices": [{"name": "x", "address": "h:830", "transport": "ssh", "user": "u",
            "password_file": "pw", "key_file": "id", "known_hosts": "kh"}]}"#,
    )
    .unwrap();
    let mut p = Proc(
        manager_command(&dir.0)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut err = String::new();
    std::io::Read::read_to_string(&mut p.0.stderr.take().unwrap(), &mut err).unwrap();
    let (status, _) = p.finish(Duration::from_secs(30), "tnc-manager");
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(
        err.contains("devices.json: device 1 (\"x\"): give password_file or key_file, not both"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the NETCONF test server: scripts/test.sh runs it"]
async fn devices_polled_from_netconfd() {
    let e = netconfd::env();
    let dir = tmp("devices-netconfd");
    std::fs::write(dir.0.join("pw"), format!("{}\n", e["NETCONF_PASSWORD"])).unwrap();
    let ssh = format!("{}:{}", e["NETCONF_HOST"], e["NETCONF_PORT"]);
    let file = json!({"devices": [
        {"name": "nc-ssh-password", "address": ssh, "transport": "ssh",
         "user": e["NETCONF_USER"], "password_file": "pw",
         "known_hosts": e["NETCONF_KNOWN_HOSTS"], "poll_interval_secs": 1, "timeout_secs": 20},
        {"name": "nc-ssh-key", "address": ssh, "transport": "ssh",
         "user": e["NETCONF_USER"], "key_file": e["NETCONF_SSH_KEY"],
         "known_hosts": e["NETCONF_KNOWN_HOSTS"], "poll_interval_secs": 600, "timeout_secs": 20},
        {"name": "nc-tls", "address": format!("{}:{}", e["NETCONF_HOST"], e["NETCONF_TLS_PORT"]),
         "transport": "tls", "ca": e["NETCONF_TLS_CA"], "cert": e["NETCONF_TLS_CERT"],
         "key": e["NETCONF_TLS_KEY"], "poll_interval_secs": 600, "timeout_secs": 20},
    ]});
    std::fs::write(dir.0.join("devices.json"), file.to_string()).unwrap();
    let (_m, api) = start_manager(&dir.0);

    // Two readings of the 1-second device, one of each other device.
    let d = wait_devices(api, "every device read", |d| {
        d.len() == 3
            && d.values().all(|v| !v["last_success"].is_null())
            && d["nc-ssh-password"]["polls"].as_u64() >= Some(2)
    })
    .await;
    for (name, v) in &d {
        assert_eq!(v["errors"], 0, "{name}: {v}");
    }

    // What netconfd reports, read by netconf-get.
    let out = Command::new(env!("CARGO_BIN_EXE_netconf-get"))
        .args(["--host", &e["NETCONF_HOST"], "--port", &e["NETCONF_PORT"]])
        .args(["--user", &e["NETCONF_USER"], "--key", &e["NETCONF_SSH_KEY"]])
        .args(["--known-hosts", &e["NETCONF_KNOWN_HOSTS"]])
        .args(["--ietf-system", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reported: Value = serde_json::from_slice(&out.stdout).unwrap();
    let hostname = reported["ietf-system:system"]["hostname"].as_str().unwrap();
    assert!(!hostname.is_empty());

    for name in ["nc-ssh-password", "nc-ssh-key", "nc-tls"] {
        let (st, v) = get(api, &format!("/devices/{name}/posture"), Some(READ)).await;
        assert_eq!(st, 200, "{name}: {v}");
        assert_eq!(v["device"], name);
        assert_eq!(v["configured"], true);
        let posture = &v["reading"]["posture"];
        // The whole configuration (hostname, contact, NTP, DNS, users) and the platform
        // (netconfd reports none: absent in both) equal what netconfd reports; the clock
        // is read at another time.
        assert_eq!(
            posture["ietf-system:system"]["hostname"], hostname,
            "{name}"
        );
        assert_eq!(
            posture["ietf-system:system"], reported["ietf-system:system"],
            "{name}"
        );
        assert_eq!(
            posture["ietf-system:system-state"]["platform"],
            reported["ietf-system:system-state"]["platform"],
            "{name}"
        );
        assert!(
            posture["ietf-system:system-state"]["clock"]["current-datetime"]
                .as_str()
                .unwrap()
                .starts_with("20"),
            "{name}: {posture}"
        );

        // As of the reading's time: that reading (or a later one of the same second); as of
        // 2000: none.
        let at = v["reading"]["at"].as_str().unwrap();
        let (st, w) = get(
            api,
            &format!("/devices/{name}/posture?as_of={at}"),
            Some(READ),
        )
        .await;
        assert_eq!(st, 200);
        assert_eq!(w["reading"]["at"], at);
        let (st, _) = get(
            api,
            &format!("/devices/{name}/posture?as_of=2000-01-01T00:00:00Z"),
            Some(READ),
        )
        .await;
        assert_eq!(st, 404);
    }

    // The history: every reading, newest first.
    let (st, v) = get(api, "/devices/nc-ssh-password/history", Some(READ)).await;
    assert_eq!(st, 200);
    let readings = v["readings"].as_array().unwrap();
    assert!(readings.len() >= 2, "{v}");
    let times: Vec<&str> = readings.iter().map(|r| r["at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    assert!(
        readings
            .iter()
            .all(|r| r["posture"]["ietf-system:system"]["hostname"] == hostname)
    );

    // Each device's posture was announced once, stored with its first reading: the later
    // readings of the 1-second device differ only in the clock.
    let log = posture_repository::open_store(
        &dir.0.join("posture.db").display().to_string(),
        Default::default(),
    )
    .unwrap();
    let filter = posture_repository::events::EventFilter {
        kinds: vec![posture_repository::events::EventKind::DevicePosture],
        ..Default::default()
    };
    let announced = log.events_since(0, &filter, 100).unwrap().events;
    let mut names: Vec<&str> = announced
        .iter()
        .map(|e| e.device.as_deref().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["nc-ssh-key", "nc-ssh-password", "nc-tls"],
        "{announced:?}"
    );
    for e in &announced {
        assert_eq!(
            e.payload["posture"]["ietf-system:system"]["hostname"], hostname,
            "{e:?}"
        );
    }

    // The evaluator judges devices too (endpoint `netconf:NAME`): a rule on the hostname
    // netconfd reports isolates the three devices, with the attribute as the evidence.
    let rule = json!({"severity": "minor", "recommendation": "isolate",
        "when": {"os_attribute": {"name": "hostname", "equals": hostname}}});
    let auth = format!("Bearer {ADMIN}");
    let (st, body) = nea_examples::http::send(
        &api.to_string(),
        "PUT",
        "/guidance/rules/device-hostname",
        &[("authorization", auth.as_str())],
        rule.to_string().as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(st, 200, "{body}");
    let changed: Value = serde_json::from_str(&body).unwrap();
    let mut judged: Vec<&str> = changed["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["endpoint"].as_str().unwrap())
        .collect();
    judged.sort_unstable();
    assert_eq!(
        judged,
        [
            "netconf:nc-ssh-key",
            "netconf:nc-ssh-password",
            "netconf:nc-tls"
        ],
        "{body}"
    );
    let (st, v) = get(api, "/endpoints/netconf:nc-tls/evaluation", Some(READ)).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["evaluation"]["recommendation"], "isolate", "{v}");
    let evidence = &v["evaluation"]["findings"][0]["evidence"][0];
    assert_eq!(evidence["kind"], "os_attribute", "{v}");
    assert_eq!(evidence["value"], hostname, "{v}");

    let (_, text) = request(api, "GET", "/metrics", None).await.unwrap();
    assert!(metric(&text, "tnc_device_polls_total") >= 4, "{text}");
    assert_eq!(metric(&text, "tnc_device_poll_errors_total"), 0, "{text}");
}
