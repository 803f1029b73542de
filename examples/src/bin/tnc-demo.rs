//! `tnc-demo`: the whole profile on one machine. A throwaway CA, the posture manager on
//! 127.0.0.1 with an SQLite file in a temporary directory, an agent over a copy of the sample
//! tag directory (real SWID and CoSWID tags): the initial inventory arrives, a tag is added
//! (an install) and one removed, each reported as a SWIMA event; then the vulnerable-software
//! query through the HTTP API, the same question as guidance (the evaluator isolates the
//! endpoint at once, and allows it again when the rule goes), a re-assessment by an admin,
//! and a clean stop.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use nea_examples::agent::{Agent, AgentOptions, recommendation_word, result_word};
use nea_examples::http::{encode, request, send};
use nea_examples::manager::{ManagerOptions, start};
use nea_examples::pki::Ca;
use serde_json::Value;

/// mimalloc: glibc malloc was ~18 % of the manager's and agents' CPU under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const READ_TOKEN: &str = "demo-read-token-0123456789";
const ADMIN_TOKEN: &str = "demo-admin-token-0123456789";
const ENDPOINT: &str = "CN=laptop-17.example,O=Example";
const WAIT: Duration = Duration::from_secs(60);

type Fallible<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

/// Removes the temporary directory when the demo ends, however it ends.
struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn step(n: u32, text: &str) {
    println!("\n[{n}] {text}");
}

async fn get(api: std::net::SocketAddr, path: &str) -> Fallible<Value> {
    let (status, body) = request(api, "GET", path, Some(READ_TOKEN)).await?;
    if status != 200 {
        return Err(format!("GET {path}: HTTP {status}: {body}").into());
    }
    Ok(serde_json::from_str(&body)?)
}

/// The agent's next decision recommending `want` (`allow`, `isolate`, `no-access`); others
/// (assessments that reported software changes) are skipped.
async fn decision(
    decisions: &mut tokio::sync::mpsc::UnboundedReceiver<if_imc::Decision>,
    want: &str,
) -> Fallible<if_imc::Decision> {
    tokio::time::timeout(WAIT, async {
        while let Some(d) = decisions.recv().await {
            if recommendation_word(&d) == want {
                return Ok(d);
            }
        }
        Err("the agent stopped".into())
    })
    .await?
}

/// An admin request with a JSON body; the answer's JSON.
async fn admin(api: std::net::SocketAddr, method: &str, path: &str, body: &str) -> Fallible<Value> {
    let auth = format!("Bearer {ADMIN_TOKEN}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let (status, answer) = send(&api.to_string(), method, path, &headers, body.as_bytes()).await?;
    if status != 200 {
        return Err(format!("{method} {path}: HTTP {status}: {answer}").into());
    }
    Ok(serde_json::from_str(&answer)?)
}

fn s(v: &Value, k: &str) -> String {
    v.get(k)
        .and_then(|x| {
            x.as_str()
                .map(str::to_owned)
                .or_else(|| (!x.is_null()).then(|| x.to_string()))
        })
        .unwrap_or_else(|| "-".into())
}

fn table(headers: &[&str], rows: &[Vec<String>]) {
    let mut width: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for r in rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&width)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("    {}", parts.join("  "));
    };
    line(headers.iter().map(|h| (*h).to_owned()).collect());
    line(width.iter().map(|w| "-".repeat(*w)).collect());
    for r in rows {
        line(r.clone());
    }
}

/// Polls the endpoint's software list until `done` holds.
async fn wait_software(
    api: std::net::SocketAddr,
    done: impl Fn(&[Value]) -> bool,
) -> Fallible<Vec<Value>> {
    let path = format!("/endpoints/{}/software", encode(ENDPOINT));
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Ok(v) = get(api, &path).await {
            let list = v
                .get("software")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if done(&list) {
                return Ok(list);
            }
        }
        if tokio::time::Instant::now() > deadline {
            return Err("timed out waiting for the manager's repository".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn has(list: &[Value], name: &str) -> bool {
    list.iter()
        .any(|s| s.get("name").and_then(Value::as_str) == Some(name))
}

async fn print_history(api: std::net::SocketAddr, last: usize) -> Fallible<()> {
    let h = get(
        api,
        &format!("/endpoints/{}/history?limit=10000", encode(ENDPOINT)),
    )
    .await?;
    let rows: Vec<Vec<String>> = h
        .get("history")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .rev()
                .take(last)
                .rev()
                .map(|r| {
                    vec![
                        s(r, "seq"),
                        s(r, "kind"),
                        s(r, "eid"),
                        s(r, "software_identifier"),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    table(&["seq", "kind", "EID", "software identifier"], &rows);
    Ok(())
}

async fn demo(dir: &Path) -> Fallible<()> {
    step(1, "Throwaway CA, manager and endpoint certificates (rcgen)");
    let ca = Ca::new("tnc-demo CA")?;
    let ca_file = ca.write(dir, "ca")?;
    let mgr = ca.leaf(
        dir,
        "manager",
        "localhost",
        &["localhost", "127.0.0.1"],
        true,
    )?;
    let ep = ca.leaf(
        dir,
        "endpoint",
        "laptop-17.example",
        &["laptop-17.example"],
        false,
    )?;
    let tokens = dir.join("tokens");
    std::fs::write(&tokens, format!("{READ_TOKEN} read\n{ADMIN_TOKEN} admin\n"))?;
    println!("    in {}", dir.display());

    step(
        2,
        "Posture manager on 127.0.0.1 (PT-TLS, mutual TLS; SQLite; HTTP API)",
    );
    let manager = start(&ManagerOptions {
        listen: "127.0.0.1:0".into(),
        cert: mgr.cert,
        key: mgr.key,
        ca: ca_file.clone(),
        db: dir.join("posture.db").display().to_string(),
        api: "127.0.0.1:0".into(),
        api_token_file: Some(tokens),
        allow_sasl: None,
        imv_config: None,
        netconf_devices: None,
        limits: Default::default(),
    })
    .await?;
    let api = manager.api_addr;
    println!("    LISTENING {}   API http://{api}", manager.pt_addr);

    step(
        3,
        "Agent over a copy of the sample tag directory (SWID + CoSWID)",
    );
    let tags = dir.join("tags");
    std::fs::create_dir_all(&tags)?;
    let mut names = Vec::new();
    for e in std::fs::read_dir(samples().join("tags"))? {
        let p = e?.path();
        if let Some(n) = p.file_name() {
            std::fs::copy(&p, tags.join(n))?;
            names.push(n.to_string_lossy().into_owned());
        }
    }
    names.sort();
    for n in &names {
        println!("    {n}");
    }
    let agent = std::sync::Arc::new(Agent::new(&AgentOptions {
        connect: vec![manager.pt_addr.to_string()],
        ca: ca_file,
        identity: Some((ep.cert, ep.key)),
        sasl: None,
        swid_dir: tags.clone(),
        state: dir.join("agent-state"),
        imc_config: None,
    })?);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let (tx, mut decisions) = tokio::sync::mpsc::unbounded_channel();
    let a = agent.clone();
    let agent_task = tokio::spawn(async move { a.run(stopped, Some(tx)).await });
    let first = tokio::time::timeout(WAIT, decisions.recv())
        .await?
        .ok_or("the agent stopped")?;
    println!(
        "    RECOMMENDATION {} ({})",
        recommendation_word(&first),
        result_word(&first)
    );

    step(
        4,
        "The initial inventory, as the manager stored it (GET /endpoints/{id}/software)",
    );
    let list = wait_software(api, |l| {
        l.len() == names.len() && l.iter().all(|s| !s["name"].is_null())
    })
    .await?;
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|x| vec![s(x, "name"), s(x, "version"), s(x, "vendor")])
        .collect();
    table(&["name", "version", "tag creator"], &rows);

    step(
        5,
        "Install: a new tag appears in the directory -> SWIMA event -> repository",
    );
    let new_tag = "Debian_12-x86_64-libssl3-3.0.22-1_deb12u2.swidtag";
    std::fs::copy(samples().join("install").join(new_tag), tags.join(new_tag))?;
    println!("    added {new_tag}");
    wait_software(api, |l| has(l, "libssl3")).await?;
    print_history(api, 1).await?;

    step(6, "Removal: a tag disappears -> SWIMA event -> repository");
    let gone = names
        .iter()
        .find(|n| n.contains("xz-utils"))
        .ok_or("xz-utils sample missing")?;
    std::fs::remove_file(tags.join(gone))?;
    println!("    removed {gone}");
    wait_software(api, |l| !has(l, "xz-utils")).await?;
    print_history(api, 1).await?;
    println!(
        "    agent's SWIMA log: epoch {:#010x}, last EID {}",
        agent.swima().epoch(),
        agent.swima().last_eid()
    );

    step(
        7,
        "Vulnerable-software query (Appendix C.2): openssl below 3.0.23",
    );
    let path = "/software?name=openssl&below=3.0.23";
    println!("    GET {path}");
    let v = get(api, path).await?;
    let rows: Vec<Vec<String>> = v
        .get("matches")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|m| {
                    let sw = &m["software"];
                    vec![
                        s(m, "endpoint"),
                        s(m, "connected"),
                        s(sw, "name"),
                        s(sw, "version"),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    if rows.is_empty() {
        return Err("the query found nothing".into());
    }
    table(&["endpoint", "connected", "name", "version"], &rows);

    step(
        8,
        "Guidance (evaluator): the same question as a rule; the manager re-assesses at once",
    );
    let rule = r#"{"description": "openssl before 3.0.23", "severity": "major",
        "recommendation": "isolate",
        "when": {"software": {"name": "openssl", "versions": {"below": "3.0.23"}}}}"#;
    // The assessments that reported the install and the removal are not shown.
    while decisions.try_recv().is_ok() {}
    println!("    PUT /guidance/rules/old-openssl (admin)");
    let v = admin(api, "PUT", "/guidance/rules/old-openssl", rule).await?;
    for c in v
        .get("changed")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        println!(
            "    result changed: {} -> {}",
            s(c, "endpoint"),
            s(c, "recommendation")
        );
    }
    let isolated = decision(&mut decisions, "isolate").await?;
    println!(
        "    RECOMMENDATION {} ({})",
        recommendation_word(&isolated),
        result_word(&isolated)
    );
    let e = get(api, &format!("/endpoints/{}/evaluation", encode(ENDPOINT))).await?;
    let rows: Vec<Vec<String>> = e
        .pointer("/evaluation/findings")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .flat_map(|f| {
            let rule = s(f, "rule_id");
            f.get("evidence")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |ev| vec![rule.clone(), s(&ev, "name"), s(&ev, "version")])
        })
        .collect();
    println!("    why (GET /endpoints/{{id}}/evaluation):");
    table(&["rule", "software", "version"], &rows);
    println!("    DELETE /guidance/rules/old-openssl (admin)");
    admin(api, "DELETE", "/guidance/rules/old-openssl", "").await?;
    let allowed = decision(&mut decisions, "allow").await?;
    println!(
        "    RECOMMENDATION {} ({})",
        recommendation_word(&allowed),
        result_word(&allowed)
    );

    step(
        9,
        "Re-assessment of the connected endpoint (POST, admin token only)",
    );
    let reassess = format!("/endpoints/{}/reassess", encode(ENDPOINT));
    let (status, _) = request(api, "POST", &reassess, Some(READ_TOKEN)).await?;
    println!("    with the read token:  HTTP {status}");
    let (status, _) = request(api, "POST", &reassess, Some(ADMIN_TOKEN)).await?;
    println!("    with the admin token: HTTP {status}");
    if status != 202 {
        return Err(format!("re-assessment refused: HTTP {status}").into());
    }
    let again = tokio::time::timeout(WAIT, decisions.recv())
        .await?
        .ok_or("the agent stopped")?;
    println!(
        "    RECOMMENDATION {} ({})",
        recommendation_word(&again),
        result_word(&again)
    );

    step(10, "Stopping the agent and the manager");
    let _ = stop.send(true);
    agent_task.await??;
    manager.shutdown().await;
    println!("    done");
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    nea_examples::init_logging("warn");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir =
        TempDir(std::env::temp_dir().join(format!("tnc-demo-{}-{nanos}", std::process::id())));
    if let Err(e) = std::fs::create_dir_all(&dir.0) {
        eprintln!("tnc-demo: {}: {e}", dir.0.display());
        return ExitCode::FAILURE;
    }
    match demo(&dir.0).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tnc-demo: {e}");
            ExitCode::FAILURE
        }
    }
}
