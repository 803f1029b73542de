//! `tnc-manager` and `tnc-agent` as processes on loopback (temp dirs, throwaway CA, every
//! process killed on drop): the initial assessment (profile C.1), an untrusted certificate
//! refused, the API's queries and authorization, and a manager down while the software
//! changes, then back (no event lost).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
#[path = "support/manager_proc.rs"]
mod manager_proc;
#[path = "support/proc.rs"]
mod proc;
#[path = "support/tmp.rs"]
mod tmp;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nea_examples::http::{encode, request};
use nea_examples::pki::{Ca, Files};
use proc::Proc;
use serde_json::Value;
use tmp::{Tmp, tmp};

const READ: &str = "read-token-0123456789abcdef";
const ADMIN: &str = "admin-token-0123456789abcdef";
const ENDPOINT: &str = "CN=host-1.example,O=Example";

struct Setup {
    dir: Tmp,
    ca: PathBuf,
    manager: Files,
    endpoint: Files,
    /// A second endpoint of the same CA.
    second: Files,
    tags: PathBuf,
}

fn setup(name: &str) -> Setup {
    let dir = tmp(name);
    let ca = Ca::new("test CA").unwrap();
    let ca_file = ca.write(&dir.0, "ca").unwrap();
    let manager = ca
        .leaf(
            &dir.0,
            "manager",
            "localhost",
            &["localhost", "127.0.0.1"],
            true,
        )
        .unwrap();
    let endpoint = ca
        .leaf(
            &dir.0,
            "endpoint",
            "host-1.example",
            &["host-1.example"],
            false,
        )
        .unwrap();
    let second = ca
        .leaf(
            &dir.0,
            "endpoint-2",
            "host-2.example",
            &["host-2.example"],
            false,
        )
        .unwrap();
    std::fs::write(
        dir.0.join("tokens"),
        format!("{READ} read\n{ADMIN} admin\n"),
    )
    .unwrap();
    let tags = dir.0.join("tags");
    std::fs::create_dir_all(&tags).unwrap();
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/tags");
    for e in std::fs::read_dir(samples).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, tags.join(p.file_name().unwrap())).unwrap();
    }
    Setup {
        dir,
        ca: ca_file,
        manager,
        endpoint,
        second,
        tags,
    }
}

/// A free loopback `ADDR:PORT`, so that a restarted manager is found at the same place.
fn free_listen() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("127.0.0.1:{port}")
}

/// Starts `tnc-manager` on `listen`; returns it with its PT-TLS and API addresses.
fn manager(s: &Setup, listen: &str) -> (Proc, SocketAddr, SocketAddr) {
    manager_with(s, listen, &[])
}

/// The same with extra arguments.
fn manager_with(s: &Setup, listen: &str, extra: &[&str]) -> (Proc, SocketAddr, SocketAddr) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tnc-manager"));
    c.args(["--listen", listen, "--api", "127.0.0.1:0"])
        .args(extra)
        .arg("--cert")
        .arg(&s.manager.cert)
        .arg("--key")
        .arg(&s.manager.key)
        .arg("--ca")
        .arg(&s.ca)
        .arg("--db")
        .arg(s.dir.0.join("posture.db"))
        .arg("--api-token-file")
        .arg(s.dir.0.join("tokens"));
    manager_proc::spawn(&mut c)
}

fn agent(s: &Setup, pt: SocketAddr, identity: &Files, once: bool) -> Command {
    agent_in(s, pt, identity, "agent-state", once)
}

/// An agent keeping its state in `state` (under the test's directory).
fn agent_in(s: &Setup, pt: SocketAddr, identity: &Files, state: &str, once: bool) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tnc-agent"));
    c.arg("--connect")
        .arg(format!("localhost:{}", pt.port()))
        .arg("--ca")
        .arg(&s.ca)
        .arg("--cert")
        .arg(&identity.cert)
        .arg("--key")
        .arg(&identity.key)
        .arg("--swid-dir")
        .arg(&s.tags)
        .arg("--state")
        .arg(s.dir.0.join(state))
        .stderr(Stdio::null());
    if once {
        c.arg("--once");
    }
    c
}

/// Runs `tnc-agent --once` (bounded), returning its success and stdout.
fn once(c: &mut Command) -> (bool, String) {
    let mut p = Proc(c.stdout(Stdio::piped()).spawn().unwrap());
    let (status, out) = p.finish(Duration::from_secs(60), "tnc-agent --once");
    (status.success(), out)
}

async fn get(api: SocketAddr, path: &str, token: Option<&str>) -> (u16, Value) {
    let (status, body) = request(api, "GET", path, token).await.unwrap();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

async fn software(api: SocketAddr) -> Vec<String> {
    let path = format!("/endpoints/{}/software", encode(ENDPOINT));
    let (status, v) = get(api, &path, Some(READ)).await;
    if status != 200 {
        return Vec::new();
    }
    let mut names: Vec<String> = v["software"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    names
}

async fn wait_for(api: SocketAddr, what: &str, ok: impl Fn(&[String]) -> bool) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let names = software(api).await;
        if ok(&names) {
            return names;
        }
        assert!(
            Instant::now() < deadline,
            "timed out: {what}; have {names:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn initial_assessment_then_api_queries_and_authorization() {
    let s = setup("c1");
    let (_m, pt, api) = manager(&s, "127.0.0.1:0");
    let (ok, out) = once(&mut agent(&s, pt, &s.endpoint, true));
    assert!(ok, "{out}");
    assert_eq!(out.lines().last(), Some("RECOMMENDATION allow compliant"));

    // C.1: the full inventory, names and versions from the tags (SWID and CoSWID), which
    // the manager asked for by targeted request. The repository writer commits them
    // moments after the recommendation went out.
    let want = [
        "adduser", "apt", "bash", "curl", "libcurl4", "openssl", "xz-utils", "zlib1g",
    ];
    wait_for(api, "the initial inventory with names", |n| n == want).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (st, v) = get(api, "/endpoints", Some(READ)).await;
        assert_eq!(st, 200);
        assert_eq!(v["endpoints"][0]["identifier"], ENDPOINT);
        if v["endpoints"][0]["connected"] == false {
            break;
        }
        assert!(Instant::now() < deadline, "the session never ended: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // C.2 with a version range: openssl 3.0.22-1~deb12u2 is below 3.0.23, not below 3.0.22.
    let (st, v) = get(api, "/software?name=OpenSSL&below=3.0.23", Some(READ)).await;
    assert_eq!(st, 200);
    assert_eq!(v["matches"][0]["endpoint"], ENDPOINT);
    assert_eq!(v["matches"][0]["software"]["version"], "3.0.22-1~deb12u2");
    let (_, v) = get(api, "/software?name=openssl&below=3.0.22", Some(READ)).await;
    assert_eq!(v["matches"].as_array().unwrap().len(), 0);
    let (_, v) = get(api, "/tags?vendor=strongswan.org", Some(READ)).await;
    assert_eq!(v["tags"].as_array().unwrap().len(), 8);
    let (_, v) = get(
        api,
        &format!("/endpoints/{}/history", encode(ENDPOINT)),
        Some(READ),
    )
    .await;
    assert_eq!(v["history"][0]["kind"], "resync");
    // As of 1970 the endpoint had nothing.
    let path = format!(
        "/endpoints/{}/software?as_of=1970-01-01T00:00:00Z",
        encode(ENDPOINT)
    );
    let (st, v) = get(api, &path, Some(READ)).await;
    assert_eq!(st, 200);
    assert_eq!(v["software"].as_array().unwrap().len(), 0);

    // Authorization and validation.
    assert_eq!(get(api, "/endpoints", None).await.0, 401);
    assert_eq!(
        get(api, "/endpoints", Some("wrong-token-0123456789"))
            .await
            .0,
        401
    );
    assert_eq!(get(api, "/software", Some(READ)).await.0, 400);
    assert_eq!(
        get(api, "/software?name=x&max=1&below=2", Some(READ))
            .await
            .0,
        400
    );
    assert_eq!(get(api, "/endpoints?limit=0", Some(READ)).await.0, 400);
    assert_eq!(
        get(api, "/endpoints?connected=maybe", Some(READ)).await.0,
        400
    );
    assert_eq!(get(api, "/endpoints?bogus=1", Some(READ)).await.0, 400);
    assert_eq!(
        get(
            api,
            &path.replace("1970-01-01T00:00:00Z", "yesterday"),
            Some(READ)
        )
        .await
        .0,
        400
    );
    assert_eq!(
        get(api, "/endpoints/nobody/history", Some(READ)).await.0,
        404
    );
    let reassess = format!("/endpoints/{}/reassess", encode(ENDPOINT));
    assert_eq!(request(api, "POST", &reassess, None).await.unwrap().0, 401);
    assert_eq!(
        request(api, "POST", &reassess, Some(READ)).await.unwrap().0,
        403
    );
    // Admin may, but the endpoint is not connected now.
    assert_eq!(
        request(api, "POST", &reassess, Some(ADMIN))
            .await
            .unwrap()
            .0,
        404
    );
    let (st, body) = request(api, "GET", "/metrics", None).await.unwrap();
    assert_eq!(st, 200);
    assert!(body.contains("tnc_assessments_total 1"), "{body}");
    let (st, v) = get(api, "/openapi.json", None).await;
    assert_eq!(st, 200);
    assert!(v["paths"]["/software"]["get"].is_object());
}

#[tokio::test(flavor = "multi_thread")]
async fn untrusted_certificate_refused() {
    let s = setup("untrusted");
    let (_m, pt, api) = manager(&s, "127.0.0.1:0");
    let other = Ca::new("other CA").unwrap();
    let stranger = other
        .leaf(
            &s.dir.0,
            "stranger",
            "host-1.example",
            &["host-1.example"],
            false,
        )
        .unwrap();
    let (ok, out) = once(&mut agent(&s, pt, &stranger, true));
    assert!(!ok, "{out}");
    assert!(!out.contains("RECOMMENDATION"), "{out}");
    // Nothing was read or stored about it.
    let (st, v) = get(api, "/endpoints", Some(READ)).await;
    assert_eq!(st, 200);
    assert_eq!(v["endpoints"].as_array().unwrap().len(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn manager_down_while_software_changes_then_back() {
    let s = setup("down");
    let listen = free_listen();
    let (m, pt, api) = manager(&s, &listen);
    let _agent = Proc(
        agent(&s, pt, &s.endpoint, false)
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for(api, "initial inventory", |n| n.len() == 8).await;

    // Event while connected: an install.
    let install = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples/install/Debian_12-x86_64-libssl3-3.0.22-1_deb12u2.swidtag");
    std::fs::copy(&install, s.tags.join(install.file_name().unwrap())).unwrap();
    wait_for(api, "install event", |n| n.iter().any(|x| x == "libssl3")).await;

    // Manager killed; two removals happen while it is away.
    drop(m);
    for gone in [
        "Debian_12-x86_64-xz-utils-5.4.1-1.coswid",
        "Debian_12-x86_64-bash-5.2.15-2_b8.swidtag",
    ] {
        std::fs::remove_file(s.tags.join(gone)).unwrap();
    }
    std::thread::sleep(Duration::from_millis(700));
    let (_m2, _, api2) = manager(&s, &listen);
    let names = wait_for(api2, "removals after the restart", |n| {
        !n.iter().any(|x| x == "xz-utils" || x == "bash")
    })
    .await;
    assert_eq!(names.len(), 7, "{names:?}");
    // Every event arrived once, in EID order, as events (not as a resync).
    let (_, v) = get(
        api2,
        &format!("/endpoints/{}/history", encode(ENDPOINT)),
        Some(READ),
    )
    .await;
    let events: Vec<(String, u64)> = v["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| Some((h["kind"].as_str()?.to_owned(), h["eid"].as_u64()?)))
        .collect();
    assert_eq!(
        events,
        [
            ("install".into(), 1),
            ("remove".into(), 2),
            ("remove".into(), 3)
        ]
    );
}

#[test]
fn imc_config_naming_a_missing_library_is_a_clear_error() {
    let s = setup("imcconfig");
    let cfg = s.dir.0.join("tnc_config");
    std::fs::write(&cfg, "IMC \"Missing\" /nonexistent/libimc_missing.so\n").unwrap();
    let pt: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let out = agent(&s, pt, &s.endpoint, true)
        .arg("--imc-config")
        .arg(&cfg)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--imc-config") && err.contains("libimc_missing.so"),
        "{err}"
    );
}

#[test]
fn imv_config_naming_a_missing_library_is_a_clear_error() {
    let s = setup("imvconfig");
    let cfg = s.dir.0.join("tnc_config");
    std::fs::write(&cfg, "IMV \"Missing\" /nonexistent/libimv_missing.so\n").unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_tnc-manager"))
        .args(["--listen", "127.0.0.1:0", "--api", "127.0.0.1:0"])
        .arg("--cert")
        .arg(&s.manager.cert)
        .arg("--key")
        .arg(&s.manager.key)
        .arg("--ca")
        .arg(&s.ca)
        .arg("--db")
        .arg(s.dir.0.join("posture.db"))
        .arg("--imv-config")
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Killed on drop if it wrongly starts serving instead of failing.
    let mut p = Proc(child);
    let (status, _) = p.finish(Duration::from_secs(60), "tnc-manager --imv-config");
    assert_eq!(status.code(), Some(1));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut p.0.stderr.take().unwrap(), &mut err).unwrap();
    assert!(
        err.contains("--imv-config") && err.contains("libimv_missing.so"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn agent_restarted_keeps_its_log_and_eids_continue() {
    let s = setup("restart");
    let (_m, pt, api) = manager(&s, "127.0.0.1:0");
    assert!(once(&mut agent(&s, pt, &s.endpoint, true)).0);
    // While no agent runs: one tag removed, one added.
    std::fs::remove_file(s.tags.join("Debian_12-x86_64-apt-2.6.1.swidtag")).unwrap();
    let install = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples/install/Debian_12-x86_64-libssl3-3.0.22-1_deb12u2.swidtag");
    std::fs::copy(&install, s.tags.join(install.file_name().unwrap())).unwrap();
    let (ok, out) = once(&mut agent(&s, pt, &s.endpoint, true));
    assert!(ok, "{out}");
    wait_for(api, "the install and the removal", |n| {
        n.contains(&"libssl3".to_owned()) && !n.contains(&"apt".to_owned())
    })
    .await;
    // Delivered as events of the same epoch (EIDs 1 and 2), after one resync only.
    let (_, v) = get(
        api,
        &format!("/endpoints/{}/history", encode(ENDPOINT)),
        Some(READ),
    )
    .await;
    let h = v["history"].as_array().unwrap();
    assert_eq!(h.iter().filter(|r| r["kind"] == "resync").count(), 1);
    let mut eids: Vec<u64> = h.iter().filter_map(|r| r["eid"].as_u64()).collect();
    eids.sort_unstable();
    assert_eq!(eids, [1, 2]);
}

#[tokio::test(flavor = "multi_thread")]
async fn sasl_plain_instead_of_a_certificate() {
    let s = setup("sasl");
    let (_m, pt, api) = manager_with(&s, "127.0.0.1:0", &["--allow-sasl", "alice:correct horse"]);
    let run = |secret: &str| {
        let f = s.dir.0.join("secret");
        std::fs::write(&f, format!("{secret}\n")).unwrap();
        let mut c = Command::new(env!("CARGO_BIN_EXE_tnc-agent"));
        c.arg("--connect")
            .arg(format!("localhost:{}", pt.port()))
            .arg("--ca")
            .arg(&s.ca)
            .args(["--user", "alice", "--secret-file"])
            .arg(&f)
            .arg("--swid-dir")
            .arg(&s.tags)
            .arg("--state")
            .arg(s.dir.0.join("agent-state"))
            .arg("--once")
            .stderr(Stdio::null());
        once(&mut c)
    };
    let (ok, out) = run("wrong");
    assert!(!ok, "{out}");
    let (ok, out) = run("correct horse");
    assert!(ok, "{out}");
    assert_eq!(out.lines().last(), Some("RECOMMENDATION allow compliant"));
    // The endpoint is known by the authenticated user.
    let (_, v) = get(api, "/endpoints", Some(READ)).await;
    let ids: Vec<&str> = v["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["identifier"].as_str())
        .collect();
    assert_eq!(ids, ["alice"]);
}

#[test]
fn import_tags_marks_reference_tags_trusted_once() {
    let s = setup("import");
    let dir = s.dir.0.join("reference");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/tags");
    let mut n = 0;
    for e in std::fs::read_dir(&samples).unwrap() {
        let p = e.unwrap().path();
        // Half of them one level down: the directory is searched recursively.
        let to = if n % 2 == 0 {
            dir.clone()
        } else {
            dir.join("sub")
        };
        std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
        n += 1;
    }
    std::fs::write(dir.join("README.txt"), "not a tag").unwrap();
    std::fs::write(dir.join("broken.swidtag"), "<SoftwareIdentity").unwrap();
    let db = s.dir.0.join("posture.db");
    let run = || {
        let mut p = Proc(
            Command::new(env!("CARGO_BIN_EXE_tnc-manager"))
                .arg("import-tags")
                .arg(&dir)
                .arg("--db")
                .arg(&db)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        p.finish(Duration::from_secs(60), "tnc-manager import-tags")
    };
    let (status, out) = run();
    assert!(status.success(), "{out}");
    assert_eq!(out.trim(), format!("IMPORTED {n} UNCHANGED 0 REJECTED 1"));
    // Importing the same files again changes nothing.
    let (status, out) = run();
    assert!(status.success(), "{out}");
    assert_eq!(out.trim(), format!("IMPORTED 0 UNCHANGED {n} REJECTED 1"));
}

/// A counter of the manager's `/metrics`.
async fn metric(api: SocketAddr, name: &str) -> u64 {
    nea_examples::http::metric(api, name)
        .await
        .unwrap_or_else(|| panic!("no {name} in /metrics"))
}

#[tokio::test(flavor = "multi_thread")]
async fn tags_are_requested_only_when_the_repository_lacks_them() {
    let s = setup("targeted");
    let (_m, pt, api) = manager(&s, "127.0.0.1:0");
    // The first endpoint: identifiers, then its 8 tags by targeted request.
    assert!(once(&mut agent(&s, pt, &s.endpoint, true)).0);
    wait_for(api, "the first inventory", |n| n.len() == 8).await;
    assert_eq!(metric(api, "tnc_tags_requested_total").await, 8);
    // A second endpoint with the same software: identifiers only, no tag asked for.
    let (ok, out) = once(&mut agent_in(&s, pt, &s.second, "agent-2-state", true));
    assert!(ok, "{out}");
    let path = format!(
        "/endpoints/{}/software",
        encode("CN=host-2.example,O=Example")
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (st, v) = get(api, &path, Some(READ)).await;
        if st == 200 && v["software"].as_array().is_some_and(|a| a.len() == 8) {
            // Names and versions come from the tags the first endpoint sent.
            assert!(
                v["software"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|r| r["name"].is_string())
            );
            break;
        }
        assert!(Instant::now() < deadline, "second inventory missing: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(metric(api, "tnc_tags_requested_total").await, 8);
    assert_eq!(metric(api, "tnc_records_ingested_total").await, 16);
}

#[tokio::test(flavor = "multi_thread")]
async fn manager_killed_during_ingest_loses_and_duplicates_nothing() {
    let s = setup("killed");
    // 2,000 more tags, so that the manager is still storing when it is killed.
    const EXTRA: usize = 2_000;
    for i in 0..EXTRA {
        std::fs::write(
            s.tags.join(format!("bulk-{i:04}.swidtag")),
            format!(
                "<SoftwareIdentity xmlns=\"http://standards.iso.org/iso/19770/-2/2015/schema.xsd\" \
                 name=\"bulk-{i:04}\" tagId=\"bulk-{i:04}\" version=\"1.{i}\">\
                 <Entity name=\"Bulk\" regid=\"bulk.example\" role=\"tagCreator\"/></SoftwareIdentity>"
            ),
        )
        .unwrap();
    }
    let total = 8 + EXTRA;
    let listen = free_listen();
    let (mut m, pt, api) = manager(&s, &listen);
    let _agent = Proc(
        agent(&s, pt, &s.endpoint, false)
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // SIGKILL as soon as the inventory arrived (the tags are being asked for and stored).
    let deadline = Instant::now() + Duration::from_secs(120);
    while metric(api, "tnc_tags_requested_total").await == 0 {
        assert!(Instant::now() < deadline, "no inventory arrived");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    m.0.kill().unwrap();
    m.0.wait().unwrap();
    drop(m);

    // Restarted on the same file and port: the agent comes back, the manager asks for what
    // it lacks (events since its stored EID, or the inventory; tags it does not hold).
    let (_m2, _, api2) = manager(&s, &listen);
    let path = format!("/endpoints/{}/software?limit=10000", encode(ENDPOINT));
    let deadline = Instant::now() + Duration::from_secs(180);
    let rows = loop {
        let (st, v) = get(api2, &path, Some(READ)).await;
        if st == 200 {
            let rows = v["software"].as_array().cloned().unwrap_or_default();
            if rows.len() == total && rows.iter().all(|r| r["name"].is_string()) {
                break rows;
            }
        }
        assert!(
            Instant::now() < deadline,
            "inventory incomplete after the restart"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut ids: Vec<&str> = rows
        .iter()
        .filter_map(|r| r["software_identifier"].as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), total, "a record is missing or stored twice");
    // History: every record installed exactly once, whatever the kill interrupted.
    let path = format!("/endpoints/{}/history?limit=10000", encode(ENDPOINT));
    let (st, v) = get(api2, &path, Some(READ)).await;
    assert_eq!(st, 200);
    let h = v["history"].as_array().unwrap();
    let mut installed: Vec<&str> = h
        .iter()
        .filter(|r| r["kind"] != "resync")
        .filter_map(|r| r["software_identifier"].as_str())
        .collect();
    installed.sort_unstable();
    let n = installed.len();
    installed.dedup();
    assert_eq!((n, installed.len()), (total, total), "history: {h:?}");
    // Every committed inventory has its event in the log (appended in its transaction).
    let resyncs = h.iter().filter(|r| r["kind"] == "resync").count();
    let db = s.dir.0.join("posture.db").display().to_string();
    let log = tokio::task::spawn_blocking(move || {
        use posture_repository::events::{EventFilter, EventKind};
        let store = posture_repository::open_store(&db, Default::default()).unwrap();
        let filter = EventFilter {
            kinds: vec![EventKind::InventoryResync],
            ..EventFilter::default()
        };
        store.events_since(0, &filter, 1000).unwrap().events.len()
    })
    .await
    .unwrap();
    assert_eq!(log, resyncs, "history: {h:?}");
    // The hash chain of the history is intact.
    let out = Command::new(env!("CARGO_BIN_EXE_tnc-manager"))
        .arg("verify-history")
        .arg("--db")
        .arg(s.dir.0.join("posture.db"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("0 broken chains"), "{text}");
}
