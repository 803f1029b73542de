//! The orchestrator (profile §2.1.5, §2.2.6) of `tnc-manager`, as processes on loopback: a
//! Server-Sent Events subscriber sees an endpoint's install and removal in order, resumes
//! with `Last-Event-ID` getting exactly what it missed, filters; tokens are required; a
//! webhook receiver (an axum server in the test) gets signed deliveries, a failing one is
//! retried until it answers 2xx, and the delivery log says so.
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

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use nea_examples::http::{encode, request, send};
use nea_examples::manager::{ManagerOptions, start, webhook_signature};
use nea_examples::pki::Ca;
use proc::Proc;
use serde_json::{Value, json};
use sse::{Sse, Subscriber};
use tmp::{Tmp, tmp};

const READ: &str = "read-token-0123456789abcdef";
const ADMIN: &str = "admin-token-0123456789abcdef";
const ENDPOINT: &str = "CN=host-1.example,O=Example";
/// Longest wait for anything the test expects (never a timing assertion: only a bound).
const PATIENCE: Duration = Duration::from_secs(60);

struct Setup {
    _dir: Tmp,
    tags: PathBuf,
    agent_args: Vec<std::ffi::OsString>,
    /// The manager's settings, for one started in this process.
    options: ManagerOptions,
}

/// A CA, the manager's and one endpoint's certificates, tokens, the agent's tags.
fn setup(name: &str) -> (Setup, Command) {
    let dir = tmp(name);
    let d = &dir.0;
    let ca = Ca::new("events test CA").unwrap();
    let ca_file = ca.write(d, "ca").unwrap();
    let m = ca
        .leaf(d, "manager", "localhost", &["localhost", "127.0.0.1"], true)
        .unwrap();
    let e = ca
        .leaf(d, "endpoint", "host-1.example", &["host-1.example"], false)
        .unwrap();
    std::fs::write(d.join("tokens"), format!("{READ} read\n{ADMIN} admin\n")).unwrap();
    let tags = d.join("tags");
    std::fs::create_dir_all(&tags).unwrap();
    for f in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/tags")).unwrap()
    {
        let p = f.unwrap().path();
        std::fs::copy(&p, tags.join(p.file_name().unwrap())).unwrap();
    }
    let mut c = Command::new(env!("CARGO_BIN_EXE_tnc-manager"));
    c.args(["--listen", "127.0.0.1:0", "--api", "127.0.0.1:0"])
        .arg("--cert")
        .arg(&m.cert)
        .arg("--key")
        .arg(&m.key)
        .arg("--ca")
        .arg(&ca_file)
        .arg("--db")
        .arg(d.join("posture.db"))
        .arg("--api-token-file")
        .arg(d.join("tokens"));
    let options = ManagerOptions {
        listen: "127.0.0.1:0".into(),
        cert: m.cert.clone(),
        key: m.key.clone(),
        ca: ca_file.clone(),
        db: d.join("posture.db").display().to_string(),
        api: "127.0.0.1:0".into(),
        api_token_file: Some(d.join("tokens")),
        limits: Default::default(),
        allow_sasl: None,
        imv_config: None,
        netconf_devices: None,
    };
    let agent_args = vec![
        "--ca".into(),
        ca_file.into(),
        "--cert".into(),
        e.cert.into(),
        "--key".into(),
        e.key.into(),
        "--swid-dir".into(),
        tags.clone().into(),
        "--state".into(),
        d.join("agent-state").into(),
    ];
    (
        Setup {
            _dir: dir,
            tags,
            agent_args,
            options,
        },
        c,
    )
}

/// A long-running agent connected to `pt`.
fn agent(s: &Setup, pt: SocketAddr) -> Proc {
    Proc(
        Command::new(env!("CARGO_BIN_EXE_tnc-agent"))
            .arg("--connect")
            .arg(format!("localhost:{}", pt.port()))
            .args(&s.agent_args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// One SSE event as the stream gave it.
fn is(kind: &str, software: &str) -> impl Fn(&Sse) -> bool {
    move |e: &Sse| {
        e.event == kind
            && e.data["payload"]["software_identifier"]
                .as_str()
                .is_some_and(|s| s.contains(software))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn subscribers_see_changes_in_order_and_resume_without_loss() {
    let (s, mut c) = setup("sse");
    let (_m, pt, api) = manager_proc::spawn(&mut c);
    // Authorization and parameters first.
    assert_eq!(Subscriber::open(api, "/events", None, None).await.0, 401);
    assert_eq!(
        Subscriber::open(api, "/events", Some("not-a-token-at-all"), None)
            .await
            .0,
        401
    );
    for bad in [
        "/events?kind=reboot",
        "/events?severity=loud",
        "/events?since=-1",
        "/events?x=1",
    ] {
        assert_eq!(
            Subscriber::open(api, bad, Some(READ), None).await.0,
            400,
            "{bad}"
        );
    }
    assert_eq!(
        Subscriber::open(api, "/events", Some(READ), Some(-3))
            .await
            .0,
        400
    );

    let (_, all) = Subscriber::open(api, "/events?since=0", Some(READ), None).await;
    let mut all = all.unwrap();
    let path = format!(
        "/events?since=0&endpoint={}&kind=software-installed,software-removed",
        encode(ENDPOINT)
    );
    let mut changes = Subscriber::open(api, &path, Some(READ), None)
        .await
        .1
        .unwrap();
    let _agent = agent(&s, pt);

    // The first inventory and the assessment.
    let first = all.until(|e| e.event == "assessment-result").await;
    let resync = first
        .iter()
        .find(|e| e.event == "inventory-resync")
        .unwrap();
    assert_eq!(resync.data["endpoint"], ENDPOINT);
    assert_eq!(resync.data["payload"]["records"], 8);
    let assessed = first.last().unwrap();
    assert_eq!(assessed.data["payload"]["recommendation"], "allow");
    assert_eq!(assessed.data["severity"], "info");
    assert!(resync.id < assessed.id);

    // An install, then a removal.
    let install = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples/install/Debian_12-x86_64-libssl3-3.0.22-1_deb12u2.swidtag");
    std::fs::copy(&install, s.tags.join(install.file_name().unwrap())).unwrap();
    let seen = all.until(is("software-installed", "libssl3")).await;
    let installed = seen.last().unwrap().clone();
    assert_eq!(installed.data["id"], installed.id);
    assert_eq!(installed.data["endpoint"], ENDPOINT);
    // The subscriber leaves; the removal happens while it is away.
    drop(all);
    std::fs::remove_file(s.tags.join("Debian_12-x86_64-bash-5.2.15-2_b8.swidtag")).unwrap();

    // The filtered subscriber saw both, in order, and nothing else.
    let both = changes.until(is("software-removed", "bash")).await;
    let kinds: Vec<&str> = both.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(kinds, ["software-installed", "software-removed"]);
    assert!(both[0].id < both[1].id);
    assert_eq!(both[0], installed);
    let removed = both[1].clone();

    // Back with Last-Event-ID: exactly what it missed, as a fresh reader of the whole log
    // sees it after that id.
    let mut again = Subscriber::open(api, "/events", Some(READ), Some(installed.id))
        .await
        .1
        .unwrap();
    let missed = again.until(|e| e.id == removed.id).await;
    let mut fresh = Subscriber::open(api, "/events?since=0", Some(READ), None)
        .await
        .1
        .unwrap();
    let everything = fresh.until(|e| e.id == removed.id).await;
    let expected: Vec<Sse> = everything
        .iter()
        .filter(|e| e.id > installed.id)
        .cloned()
        .collect();
    assert_eq!(missed, expected);
    assert_eq!(missed.last().unwrap(), &removed);
    // Ids are consecutive in the unfiltered stream: nothing was skipped.
    let ids: Vec<i64> = everything.iter().map(|e| e.id).collect();
    assert_eq!(ids, (1..=removed.id).collect::<Vec<_>>());
    // `since` resumes the same way as the header.
    let mut by_since = Subscriber::open(
        api,
        &format!("/events?since={}", installed.id),
        Some(READ),
        None,
    )
    .await
    .1
    .unwrap();
    assert_eq!(by_since.until(|e| e.id == removed.id).await, expected);
    // The event schema is in the OpenAPI document.
    let (st, doc) = request(api, "GET", "/openapi.json", None).await.unwrap();
    assert_eq!(st, 200);
    let doc: Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(
        doc["components"]["schemas"]["Event"]["properties"]["kind"]["enum"][0],
        "software-installed"
    );
    assert!(doc["paths"]["/events"]["get"].is_object());
    assert!(doc["paths"]["/webhooks"]["post"].is_object());
}

/// What the test's webhook receiver got: signature header and body, per request.
type Received = Arc<Mutex<Vec<(Option<String>, String)>>>;

/// A receiver on 127.0.0.1 that answers 503 to its first `fail` requests, then 204.
async fn receiver(fail: usize) -> (SocketAddr, Received, tokio::task::JoinHandle<()>) {
    let got: Received = Arc::default();
    let g = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let g = g.clone();
            async move {
                let sig = headers
                    .get("x-signature")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let mut g = g.lock().unwrap();
                g.push((sig, body));
                if g.len() <= fail {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    (addr, got, task)
}

/// Stops the receiver also when the test fails.
struct Abort(tokio::task::JoinHandle<()>);
impl Drop for Abort {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn call(
    api: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    body: &Value,
) -> (u16, Value) {
    let auth = format!("Bearer {token}");
    let text = body.to_string();
    let (st, b) = send(
        &api.to_string(),
        method,
        path,
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        if body.is_null() { b"" } else { text.as_bytes() },
    )
    .await
    .unwrap();
    (st, serde_json::from_str(&b).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn webhooks_signed_retried_and_logged() {
    const SECRET: &str = "webhook-secret-0123456789";
    let (s, mut c) = setup("hooks");
    let (_m, pt, api) = manager_proc::spawn(&mut c);
    let (addr, got, task) = receiver(2).await;
    let _stop = Abort(task);
    let url = format!("http://{addr}/hook");
    let body = json!({"url": url, "secret": SECRET, "kind": ["assessment-result"], "since": 0});

    // Admin only; bad bodies refused.
    assert_eq!(call(api, "POST", "/webhooks", READ, &body).await.0, 403);
    assert_eq!(request(api, "GET", "/webhooks", None).await.unwrap().0, 401);
    assert_eq!(
        request(api, "GET", "/webhooks", Some(READ))
            .await
            .unwrap()
            .0,
        403
    );
    for bad in [
        json!({"url": url, "secret": "short"}),
        json!({"url": "https://example.net/", "secret": SECRET}),
        json!({"url": url, "secret": SECRET, "kind": "reboot"}),
        json!({"url": url, "secret": SECRET, "colour": "red"}),
        json!(["not", "an", "object"]),
    ] {
        assert_eq!(
            call(api, "POST", "/webhooks", ADMIN, &bad).await.0,
            400,
            "{bad}"
        );
    }
    let (st, created) = call(api, "POST", "/webhooks", ADMIN, &body).await;
    assert_eq!(st, 201, "{created}");
    assert!(created.get("secret").is_none());
    let id = created["id"].as_u64().unwrap();
    let (st, list) = call(api, "GET", "/webhooks", ADMIN, &Value::Null).await;
    assert_eq!(st, 200);
    assert_eq!(list["webhooks"][0]["url"], url);
    assert!(!list.to_string().contains(SECRET));

    // An assessment: its event reaches the receiver on the third attempt.
    let _agent = agent(&s, pt);
    let deliveries = format!("/webhooks/{id}/deliveries");
    let log = tokio::time::timeout(PATIENCE, async {
        loop {
            let (st, v) = call(api, "GET", &deliveries, ADMIN, &Value::Null).await;
            assert_eq!(st, 200, "{v}");
            if v["deliveries"][0]["delivered"] == true {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("no delivery in time");
    // Newest first: attempts 3 (delivered), 2 and 1 (503) of the first event.
    let rows: Vec<Value> = log["deliveries"].as_array().unwrap().clone();
    let first = rows.last().unwrap()["event"].clone();
    let rows: Vec<Value> = rows.into_iter().filter(|r| r["event"] == first).collect();
    let summary: Vec<(u64, Value, bool)> = rows
        .iter()
        .map(|r| {
            (
                r["attempt"].as_u64().unwrap(),
                r["status"].clone(),
                r["delivered"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (3, json!(204), true),
            (2, json!(503), false),
            (1, json!(503), false)
        ]
    );
    let got: Vec<_> = got.lock().unwrap().iter().take(3).cloned().collect();
    assert_eq!(got.len(), 3);
    for (sig, body) in &got {
        // The signature verifies with the secret, computed here with ring directly.
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SECRET.as_bytes());
        let hex = sig.as_deref().unwrap().strip_prefix("sha256=").unwrap();
        ring::hmac::verify(&key, body.as_bytes(), &hex::decode(hex).unwrap()).unwrap();
        assert_eq!(
            sig.as_deref(),
            Some(webhook_signature(SECRET.as_bytes(), body.as_bytes()).as_str())
        );
        let v: Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["kind"], "assessment-result");
        assert_eq!(v["endpoint"], ENDPOINT);
        assert_eq!(v["id"], rows[0]["event"]);
    }
    // A signature made with another secret does not verify.
    let other = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"another-secret-0123456789");
    let hex = got[0]
        .0
        .as_deref()
        .unwrap()
        .strip_prefix("sha256=")
        .unwrap();
    assert!(ring::hmac::verify(&other, got[0].1.as_bytes(), &hex::decode(hex).unwrap()).is_err());

    // Removal: read token refused, then gone.
    let hook = format!("/webhooks/{id}");
    assert_eq!(call(api, "DELETE", &hook, READ, &Value::Null).await.0, 403);
    assert_eq!(call(api, "DELETE", &hook, ADMIN, &Value::Null).await.0, 204);
    assert_eq!(call(api, "DELETE", &hook, ADMIN, &Value::Null).await.0, 404);
    assert_eq!(
        call(api, "GET", &deliveries, ADMIN, &Value::Null).await.0,
        404
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_ends_open_streams() {
    let (s, _) = setup("shutdown");
    let m = start(&s.options).await.unwrap();
    let api = m.api_addr;
    let mut sub = Subscriber::open(api, "/events?since=0", Some(READ), None)
        .await
        .1
        .unwrap();
    // The stream is open (its first chunk, the "subscribed" comment, arrived).
    assert!(sub.chunk().await);
    assert!(sub.text.contains(": subscribed"), "{:?}", sub.text);
    tokio::time::timeout(PATIENCE, m.shutdown())
        .await
        .expect("shutdown waited for an open event stream");
    assert_eq!(sub.next().await, None);
}
