//! The evaluator in `tnc-manager` (issue 13 §1) and several managers on one PostgreSQL
//! repository (§3), as processes on loopback:
//!
//! - guidance through the API (admin only, validated, versioned, audited); a new rule
//!   matching the connected agent's software re-assesses it at once (profile §2.2.4) and the
//!   agent receives the new recommendation; the evaluation says why (rule, evidence); a
//!   software removal reported by SWIMA events clears the finding; the history answers "what
//!   was the state and why";
//! - two managers sharing PostgreSQL (`#[ignore]`d: needs `NEA_TEST_POSTGRES_URL`, as
//!   `scripts/test.sh` provides): a rule stored through one manager re-assesses an agent
//!   connected to the other (LISTEN/NOTIFY), so does the admin's re-assessment request; the
//!   agent moves to the second manager when the first dies, and the software it installs
//!   meanwhile arrives once, with its EIDs continuing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "support/manager_proc.rs"]
mod manager_proc;
#[path = "support/proc.rs"]
#[allow(dead_code)]
mod proc;
#[path = "support/sse.rs"]
mod sse;
#[path = "support/tmp.rs"]
mod tmp;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nea_examples::http::{encode, metric, request, send};
use nea_examples::pki::{Ca, Files};
use proc::Proc;
use serde_json::Value;
use sse::Subscriber;
use tmp::{Tmp, tmp};

const READ: &str = "read-token-0123456789abcdef";
const ADMIN: &str = "admin-token-0123456789abcdef";
const ENDPOINT: &str = "CN=host-1.example,O=Example";
/// Longest wait for anything the test expects (a bound, never a timing assertion).
const PATIENCE: Duration = Duration::from_secs(60);
/// The sample tag the rule below matches (openssl 3.0.22).
const OPENSSL_TAG: &str = "Debian_12-x86_64-openssl-3.0.22-1_deb12u2.swidtag";
const OLD_OPENSSL: &str = r#"{"description": "openssl before 3.0.23 (CVE fixes)",
    "severity": "major", "recommendation": "isolate",
    "when": {"software": {"name": "openssl", "versions": {"below": "3.0.23"}}}}"#;

struct Setup {
    dir: Tmp,
    ca: PathBuf,
    manager: Files,
    endpoint: Files,
    tags: PathBuf,
}

fn setup(name: &str) -> Setup {
    let dir = tmp(name);
    let d = dir.0.clone();
    let ca = Ca::new("evaluation test CA").unwrap();
    let ca_file = ca.write(&d, "ca").unwrap();
    let manager = ca
        .leaf(
            &d,
            "manager",
            "localhost",
            &["localhost", "127.0.0.1"],
            true,
        )
        .unwrap();
    let endpoint = ca
        .leaf(&d, "endpoint", "host-1.example", &["host-1.example"], false)
        .unwrap();
    std::fs::write(d.join("tokens"), format!("{READ} read\n{ADMIN} admin\n")).unwrap();
    let tags = d.join("tags");
    std::fs::create_dir_all(&tags).unwrap();
    for f in std::fs::read_dir(samples().join("tags")).unwrap() {
        let p = f.unwrap().path();
        std::fs::copy(&p, tags.join(p.file_name().unwrap())).unwrap();
    }
    Setup {
        dir,
        ca: ca_file,
        manager,
        endpoint,
        tags,
    }
}

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

/// A manager on `db` (an SQLite file or a PostgreSQL URL).
fn manager(s: &Setup, listen: &str, db: &str) -> (Proc, SocketAddr, SocketAddr) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tnc-manager"));
    c.args(["--listen", listen, "--api", "127.0.0.1:0"])
        .arg("--cert")
        .arg(&s.manager.cert)
        .arg("--key")
        .arg(&s.manager.key)
        .arg("--ca")
        .arg(&s.ca)
        .args(["--db", db])
        .arg("--api-token-file")
        .arg(s.dir.0.join("tokens"));
    manager_proc::spawn(&mut c)
}

/// A long-running agent connected to `managers` (first reachable wins), and the
/// recommendations it prints, line by line.
fn agent(s: &Setup, managers: &[SocketAddr]) -> (Proc, mpsc::Receiver<String>) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tnc-agent"));
    for m in managers {
        c.arg("--connect").arg(format!("localhost:{}", m.port()));
    }
    c.arg("--ca")
        .arg(&s.ca)
        .arg("--cert")
        .arg(&s.endpoint.cert)
        .arg("--key")
        .arg(&s.endpoint.key)
        .arg("--swid-dir")
        .arg(&s.tags)
        .arg("--state")
        .arg(s.dir.0.join("agent-state"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = c.spawn().unwrap();
    let out = BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in out.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (Proc(child), rx)
}

/// The next `RECOMMENDATION …` line's words (`allow compliant`, …).
fn next_recommendation(rx: &mpsc::Receiver<String>) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .expect("the agent printed no recommendation");
        if let Some(r) = line.strip_prefix("RECOMMENDATION ") {
            return r.to_owned();
        }
    }
}

/// Waits for a `RECOMMENDATION want` line (an assessment may repeat the one before).
fn await_recommendation(rx: &mpsc::Receiver<String>, want: &str) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let r = next_recommendation(rx);
        if r == want {
            return;
        }
        assert!(Instant::now() < deadline, "no {want:?}; last {r:?}");
    }
}

async fn get(api: SocketAddr, path: &str, token: Option<&str>) -> (u16, Value) {
    let (status, body) = request(api, "GET", path, token).await.unwrap();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

async fn put_rule(api: SocketAddr, id: &str, body: &str, token: Option<&str>) -> (u16, Value) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("content-type", "application/json")];
    if let Some(a) = &auth {
        headers.push(("authorization", a));
    }
    let (status, body) = send(
        &api.to_string(),
        "PUT",
        &format!("/guidance/rules/{id}"),
        &headers,
        body.as_bytes(),
    )
    .await
    .unwrap();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// Polls `path` until `ok` holds for its JSON.
async fn wait_json(api: SocketAddr, path: &str, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (status, v) = get(api, path, Some(READ)).await;
        if status == 200 && ok(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out: {what}; have {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The endpoint's evaluation history, newest first.
async fn evaluations(api: SocketAddr) -> Vec<Value> {
    let path = format!("/endpoints/{}/evaluations", encode(ENDPOINT));
    let (st, v) = get(api, &path, Some(READ)).await;
    assert_eq!(st, 200, "{v}");
    v["evaluations"].as_array().unwrap().clone()
}

/// Waits until the manager holds the endpoint's software with names (tags received).
async fn software_named(api: SocketAddr, name: &str, present: bool) {
    let path = format!("/endpoints/{}/software", encode(ENDPOINT));
    wait_json(api, &path, &format!("{name} present={present}"), |v| {
        let list = v["software"].as_array().cloned().unwrap_or_default();
        let has = list.iter().any(|s| s["name"] == name);
        has == present && list.iter().all(|s| !s["name"].is_null())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn guidance_changes_and_posture_changes_reassess_the_connected_agent() {
    let s = setup("evaluation");
    let db = s.dir.0.join("posture.db").display().to_string();
    let (_m, pt, api) = manager(&s, "127.0.0.1:0", &db);
    let (_agent, rx) = agent(&s, &[pt]);
    assert_eq!(next_recommendation(&rx), "allow compliant");
    software_named(api, "openssl", true).await;

    // Guidance is the admin's, and validated.
    assert_eq!(put_rule(api, "old-openssl", OLD_OPENSSL, None).await.0, 401);
    assert_eq!(
        put_rule(api, "old-openssl", OLD_OPENSSL, Some(READ))
            .await
            .0,
        403
    );
    let (st, v) = put_rule(
        api,
        "old-openssl",
        r#"{"severity": "grave", "recommendation": "isolate", "when": {"stale": {"hours": 1}}}"#,
        Some(ADMIN),
    )
    .await;
    assert_eq!(st, 400, "{v}");
    assert!(v["error"].as_str().unwrap().contains("grave"), "{v}");
    let (st, v) = put_rule(
        api,
        "other-id",
        &format!(r#"{{"id": "x", {}"#, &OLD_OPENSSL[1..]),
        Some(ADMIN),
    )
    .await;
    assert_eq!(st, 400, "{v}");
    assert_eq!(put_rule(api, "x", "not json", Some(ADMIN)).await.0, 400);

    // A rule matching the agent's openssl: the endpoint's result changes, it is re-assessed
    // now and the agent receives the new decision.
    let (st, v) = put_rule(api, "old-openssl", OLD_OPENSSL, Some(ADMIN)).await;
    assert_eq!(st, 200, "{v}");
    let changed = v["changed"].as_array().unwrap();
    assert_eq!(changed.len(), 1, "{v}");
    assert_eq!(changed[0]["endpoint"], ENDPOINT);
    assert_eq!(changed[0]["recommendation"], "isolate");
    assert_eq!(changed[0]["recommendation_changed"], true);
    await_recommendation(&rx, "isolate non-compliant-major");
    assert!(metric(api, "tnc_reassessments_total").await.unwrap() >= 1);

    // Why: the rule and the record that matched it.
    let path = format!("/endpoints/{}/evaluation", encode(ENDPOINT));
    let (st, v) = get(api, &path, Some(READ)).await;
    assert_eq!(st, 200, "{v}");
    let e = &v["evaluation"];
    assert_eq!(e["recommendation"], "isolate", "{v}");
    assert_eq!(e["result"], "non-compliant-major");
    assert_eq!(e["findings"][0]["rule_id"], "old-openssl");
    let evidence = &e["findings"][0]["evidence"][0];
    assert_eq!(evidence["kind"], "software");
    assert_eq!(evidence["name"], "openssl");
    assert_eq!(evidence["version"], "3.0.22-1~deb12u2");
    let (st, g) = get(api, "/guidance", Some(READ)).await;
    assert_eq!(st, 200);
    assert_eq!(g["rules"][0]["rule"]["id"], "old-openssl", "{g}");

    // The agent removes openssl: SWIMA events, the finding clears, access is allowed again.
    std::fs::remove_file(s.tags.join(OPENSSL_TAG)).unwrap();
    await_recommendation(&rx, "allow compliant");
    let v = wait_json(api, &path, "the finding cleared", |v| {
        v["evaluation"]["recommendation"] == "allow"
    })
    .await;
    assert_eq!(v["evaluation"]["findings"].as_array().unwrap().len(), 0);
    // The history: newest first, the isolation with its reason before the allow.
    let h = evaluations(api).await;
    assert!(h.len() >= 2, "{h:?}");
    assert_eq!(h[0]["recommendation"], "allow");
    assert_eq!(h[1]["recommendation"], "isolate");
    assert_eq!(h[1]["findings"][0]["rule_id"], "old-openssl");
    // Subscribers were told of each stored result, in order, by its id (the events are
    // stored with the results, in their transactions).
    let (st, sub) = Subscriber::open(
        api,
        &format!(
            "/events?since=0&kind=evaluation-result&endpoint={}",
            encode(ENDPOINT)
        ),
        Some(READ),
        None,
    )
    .await;
    assert_eq!(st, 200);
    let last = h[0]["id"].clone();
    let told = sub
        .unwrap()
        .until(|e| e.data["payload"]["evaluation_id"] == last)
        .await;
    let told: Vec<(Value, Value)> = told
        .iter()
        .map(|e| {
            let p = &e.data["payload"];
            (
                p["evaluation_id"].clone(),
                p["after"]["recommendation"].clone(),
            )
        })
        .collect();
    let stored: Vec<(Value, Value)> = h
        .iter()
        .rev()
        .map(|e| (e["id"].clone(), e["recommendation"].clone()))
        .collect();
    assert_eq!(told, stored);

    // Removing the rule: versioned (who and when) and audited; a second removal is a 404.
    let del = |token| async move {
        let auth = format!("Bearer {token}");
        send(
            &api.to_string(),
            "DELETE",
            "/guidance/rules/old-openssl",
            &[("authorization", auth.as_str())],
            b"",
        )
        .await
        .unwrap()
        .0
    };
    assert_eq!(del(READ).await, 403);
    assert_eq!(del(ADMIN).await, 200);
    assert_eq!(del(ADMIN).await, 404);
    let (st, r) = get(api, "/guidance/rules/old-openssl/history", Some(READ)).await;
    assert_eq!(st, 200);
    let versions = r["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2, "{r}");
    assert!(
        versions.iter().all(|c| c["author"] == "token:admin-…"),
        "{r}"
    );
    assert!(versions.iter().any(|c| c["rule"].is_null()), "{r}");
    assert_eq!(get(api, "/audit", Some(READ)).await.0, 403);
    let (st, a) = get(api, "/audit", Some(ADMIN)).await;
    assert_eq!(st, 200);
    let actions: Vec<&str> = a["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["guidance-remove", "guidance-put"], "{a}");
    let (st, v) = get(api, "/openapi.json", None).await;
    assert_eq!(st, 200);
    assert!(v["paths"]["/guidance/rules/{id}"]["put"].is_object());
}

/// `tnc-manager import-tags` gives software its name, version and vendor: the endpoints
/// holding it are evaluated again, each changed result stored with its event.
#[test]
fn imported_reference_tags_reevaluate_the_endpoints_holding_the_software() {
    use posture_repository::events::{EventFilter, EventKind};
    use posture_repository::{Inventory, NewSession, Record, UnixTime};

    let dir = tmp("import-evaluation");
    let reference = dir.0.join("reference");
    std::fs::create_dir_all(&reference).unwrap();
    std::fs::copy(
        samples().join("tags").join(OPENSSL_TAG),
        reference.join(OPENSSL_TAG),
    )
    .unwrap();
    // The tag's software identifier, as the endpoint reports it (without the tag).
    let scratch = posture_repository::open_store(":memory:", Default::default()).unwrap();
    let mut one = std::iter::once((
        OPENSSL_TAG.to_owned(),
        std::fs::read(reference.join(OPENSSL_TAG)).unwrap(),
    ));
    let id = scratch
        .import_tags(&mut one, UnixTime(1))
        .unwrap()
        .software_identifiers;
    assert_eq!(id.len(), 1);
    let id = id[0].clone();

    let db = dir.0.join("posture.db").display().to_string();
    let store = posture_repository::open_store(&db, Default::default()).unwrap();
    for ep in ["holder", "other"] {
        store
            .session_started(&NewSession {
                endpoint: ep.into(),
                cert_fingerprint: None,
                manager_instance: "m1".into(),
                peer_address: "127.0.0.1:40000".into(),
                at: UnixTime(100),
            })
            .unwrap();
    }
    let record = Record {
        software_identifier: id.clone(),
        data_model: posture_repository::DataModel::SWID_2015,
        source_id: 0,
        record_id: 1,
        locator: String::new(),
        tag: None,
    };
    store
        .apply_inventory(
            "holder",
            &Inventory {
                epoch: 7,
                last_eid: 0,
                received_at: UnixTime(100),
                records: vec![record],
            },
        )
        .unwrap();
    let evaluator = posture_evaluator::Evaluator::load(&*store).unwrap();
    let rule = posture_evaluator::Rule::from_json(&format!(
        r#"{{"id": "old-openssl", {}"#,
        &OLD_OPENSSL[1..]
    ))
    .unwrap();
    // Without the tag the record has no name: the rule matches nothing yet.
    let up = evaluator
        .put_rule(&*store, rule, "admin", UnixTime(110))
        .unwrap();
    assert!(up.results.is_empty(), "{:?}", up.results);

    let imported = nea_examples::manager::import_tags(&db, &reference).unwrap();
    assert_eq!(imported.report.imported, 1);
    assert_eq!(imported.report.software_identifiers, [id]);
    assert_eq!(imported.changed.len(), 1, "{:?}", imported.changed);
    let c = &imported.changed[0];
    assert_eq!(c.endpoint, "holder");
    assert_eq!(
        c.after.recommendation,
        if_imv::ActionRecommendation::Isolate
    );
    assert!(c.recommendation_changed());
    let now = posture_evaluator::Evaluator::current(&*store, "holder")
        .unwrap()
        .unwrap();
    assert_eq!(now.id, Some(c.evaluation_id));
    assert!(now.finding("old-openssl").is_some());
    // Its announcement is in the event log, stored with it.
    let log = store
        .events_since(0, &EventFilter::default(), 100)
        .unwrap()
        .events;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].kind, EventKind::EvaluationResult);
    assert_eq!(log[0].endpoint.as_deref(), Some("holder"));
    assert_eq!(log[0].payload["evaluation_id"], c.evaluation_id);
    assert_eq!(c.events, log);

    // The same tags again change nothing.
    let again = nea_examples::manager::import_tags(&db, &reference).unwrap();
    assert_eq!(
        (again.report.unchanged, again.changed.len()),
        (1, 0),
        "{again:?}"
    );
}

// -- several managers on one PostgreSQL repository --

/// A schema of its own in the test database, dropped on drop; `url()` uses it.
struct Schema {
    base: String,
    name: String,
}

/// Runs `sql` on the test database, on a thread of its own (the synchronous client cannot
/// run on a tokio worker).
fn pg(base: &str, sql: String) -> Result<(), postgres::Error> {
    let base = base.to_owned();
    std::thread::spawn(move || {
        postgres::Client::connect(&base, postgres::NoTls)?.batch_execute(&sql)
    })
    .join()
    .unwrap()
}

impl Schema {
    fn new(base: String) -> Self {
        let name = format!("ex_{}", std::process::id());
        pg(
            &base,
            format!("DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"),
        )
        .unwrap();
        Self { base, name }
    }

    fn url(&self) -> String {
        let sep = if self.base.contains('?') { '&' } else { '?' };
        format!("{}{sep}options=-c%20search_path%3D{}", self.base, self.name)
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let _ = pg(
            &self.base,
            format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name),
        );
    }
}

/// A free loopback port (the manager's `--listen`, so both managers have distinct names).
fn free_listen() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("127.0.0.1:{}", l.local_addr().unwrap().port())
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs PostgreSQL: NEA_TEST_POSTGRES_URL and --ignored (scripts/test.sh)"]
async fn two_managers_on_postgres_route_reassessments_and_share_the_agent() {
    let base = std::env::var("NEA_TEST_POSTGRES_URL").expect("NEA_TEST_POSTGRES_URL");
    let schema = Schema::new(base);
    let s = setup("two-managers");
    let (mut m1, pt1, api1) = manager(&s, &free_listen(), &schema.url());
    let (_m2, pt2, api2) = manager(&s, &free_listen(), &schema.url());
    let (_agent, rx) = agent(&s, &[pt1, pt2]);
    assert_eq!(next_recommendation(&rx), "allow compliant");
    software_named(api2, "openssl", true).await;

    // Guidance stored through the second manager re-assesses the agent connected to the
    // first: the request travels by NOTIFY.
    let (st, v) = put_rule(api2, "old-openssl", OLD_OPENSSL, Some(ADMIN)).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["changed"][0]["endpoint"], ENDPOINT, "{v}");
    await_recommendation(&rx, "isolate non-compliant-major");
    // The first manager sees the rule too, and the same evaluation.
    let (_, g) = get(api1, "/guidance", Some(READ)).await;
    assert_eq!(g["rules"][0]["rule"]["id"], "old-openssl", "{g}");
    // The admin's re-assessment request through the second manager reaches the session.
    let path = format!("/endpoints/{}/reassess", encode(ENDPOINT));
    let (st, body) = request(api2, "POST", &path, Some(ADMIN)).await.unwrap();
    assert_eq!(st, 202, "{body}");
    assert!(body.contains("signalled"), "{body}");
    assert_eq!(next_recommendation(&rx), "isolate non-compliant-major");

    // The first manager dies; the agent moves to the second, and the software it removes
    // meanwhile arrives there once.
    let _ = m1.0.kill();
    let _ = m1.0.wait();
    std::fs::remove_file(s.tags.join(OPENSSL_TAG)).unwrap();
    await_recommendation(&rx, "allow compliant");
    software_named(api2, "openssl", false).await;
    let (st, h) = get(
        api2,
        &format!("/endpoints/{}/history", encode(ENDPOINT)),
        Some(READ),
    )
    .await;
    assert_eq!(st, 200);
    let removals: Vec<&Value> = h["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "remove")
        .collect();
    assert_eq!(removals.len(), 1, "{h}");
    // EIDs continue: the removal's EID follows the inventory's.
    assert!(removals[0]["eid"].as_u64().unwrap() >= 1, "{h}");
    assert_eq!(evaluations(api2).await[0]["recommendation"], "allow");
}
