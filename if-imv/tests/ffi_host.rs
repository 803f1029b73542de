//! C plugins in our brokers over the real C ABI: a small C IMC (if-imc/tests/c/test_imc.c)
//! and C IMV (tests/c/test_imv.c), compiled here with the `cc` crate into shared objects and
//! loaded through a `tnc_config` file, run a whole assessment through our TNCC ↔ TNCS next to
//! Rust plugins; the C plugins report every host answer inside their messages.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use if_imc::ffi::{LoadError, TncConfig};
use if_imc::{Imc, ImcConnection, ImcInit, ImcMessage};
use if_imv::{
    ActionRecommendation as A, ArIdentity, ConnectionState, EvaluationResult as E, Imv,
    ImvConnection, ImvInit, ImvMessage, MessageType, RetryReason, TncError,
};
use tnc_if::{ConnectionId, ImcId};

type Log = Arc<Mutex<Vec<String>>>;

fn out_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ffi_host");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Compiles `src` with `defines` into `out/<name>.so` (gcc through the `cc` crate's compiler
/// detection; overflow of our side is checked by running these tests in debug mode).
fn compile(src: &Path, name: &str, defines: &[&str]) -> PathBuf {
    let out = out_dir();
    let target = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
    let compiler = cc::Build::new()
        .target(&target)
        .host(&target)
        .opt_level(0)
        .out_dir(&out)
        .cargo_metadata(false)
        .warnings(true)
        .get_compiler();
    let so = out.join(format!("{name}.so"));
    let mut cmd = compiler.to_command();
    cmd.args(["-shared", "-fPIC", "-Wall", "-Werror", "-o"])
        .arg(&so)
        .arg(src)
        .arg("-lpthread");
    for d in defines {
        cmd.arg(format!("-D{d}"));
    }
    let status = cmd.status().unwrap();
    assert!(status.success(), "compiling {} failed", src.display());
    so
}

fn imc_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../if-imc/tests/c/test_imc.c")
}

fn imv_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/test_imv.c")
}

fn config(lines: &[(&str, &str, &Path)]) -> TncConfig {
    let mut text = String::from("# written by tests/ffi_host.rs\n\n");
    for (kind, name, path) in lines {
        text.push_str(&format!("{kind} \"{name}\" {}\n", path.display()));
    }
    let file = out_dir().join(format!("tnc_config_{}", lines[0].1.replace(' ', "_")));
    std::fs::write(&file, text).unwrap();
    TncConfig::read(&file).unwrap()
}

/// A Rust collector next to the C one: logs what it gets.
struct RustImc(Log);

impl Imc for RustImc {
    fn initialize(&mut self, init: &mut ImcInit<'_>) -> Result<(), TncError> {
        init.report_message_types(&[MessageType::ANY]);
        Ok(())
    }
    fn begin_handshake(&mut self, conn: &mut ImcConnection<'_>) -> Result<(), TncError> {
        conn.send(MessageType::SWIMA, Bytes::from_static(b"rust hello"))
    }
    fn receive_message(
        &mut self,
        _conn: &mut ImcConnection<'_>,
        m: &ImcMessage,
    ) -> Result<(), TncError> {
        self.0.lock().unwrap().push(format!(
            "rust-imc got from {:?} excl={}: {}",
            m.source,
            m.exclusive,
            String::from_utf8_lossy(&m.body)
        ));
        Ok(())
    }
}

/// A Rust verifier next to the C one: logs what it gets, allows.
struct RustImv(Log);

impl Imv for RustImv {
    fn initialize(&mut self, init: &mut ImvInit<'_>) -> Result<(), TncError> {
        init.report_message_types(&[MessageType::ANY]);
        Ok(())
    }
    fn receive_message(
        &mut self,
        _conn: &mut ImvConnection<'_>,
        m: &ImvMessage,
    ) -> Result<(), TncError> {
        self.0.lock().unwrap().push(format!(
            "rust-imv got from {:?} to {:?} excl={}: {}",
            m.source,
            m.destination,
            m.exclusive,
            String::from_utf8_lossy(&m.body)
        ));
        Ok(())
    }
    fn solicit_recommendation(&mut self, conn: &mut ImvConnection<'_>) -> Result<(), TncError> {
        conn.provide_recommendation(A::Allow, E::Compliant);
        Ok(())
    }
}

struct Pair {
    client: if_imc::Broker,
    server: if_imv::Broker,
    c: if_imc::Connection,
    s: if_imv::Connection,
    decisions: Vec<if_imc::Decision>,
    outcomes: Vec<if_imv::Outcome>,
    client_events: Vec<if_imc::Event>,
}

impl Pair {
    fn run(&mut self) {
        for _ in 0..1000 {
            let mut moved = false;
            while let Some(b) = self.c.poll_transmit() {
                self.server.handle_batch(&mut self.s, b);
                moved = true;
            }
            while let Some(b) = self.s.poll_transmit() {
                self.client.handle_batch(&mut self.c, b);
                moved = true;
            }
            while let Some(e) = self.c.poll_event() {
                if let if_imc::Event::Decision(d) = &e {
                    self.decisions.push(d.clone());
                }
                self.client_events.push(e);
            }
            while let Some(e) = self.s.poll_event() {
                if let if_imv::Event::Outcome(o) = e {
                    self.outcomes.push(o);
                }
            }
            if !moved {
                return;
            }
        }
        panic!("brokers did not become idle");
    }
}

fn pair(config: &TncConfig, log: &Log) -> Pair {
    let mut client = if_imc::Broker::new(if_imc::BrokerConfig::default());
    for r in if_imc::ffi::load_imcs(&mut client, config) {
        r.unwrap();
    }
    client
        .add_imc("rust", Box::new(RustImc(log.clone())))
        .unwrap();
    let mut server = if_imv::Broker::new(if_imv::BrokerConfig::default());
    for r in if_imv::ffi::load_imvs(&mut server, config) {
        r.unwrap();
    }
    server
        .add_imv("rust", Box::new(RustImv(log.clone())))
        .unwrap();
    let c = client.connect(if_imc::ConnectionConfig::default());
    let s = server.accept(if_imv::ConnectionConfig {
        ar_identities: vec![ArIdentity::password_user("endpoint-7")],
        ..Default::default()
    });
    Pair {
        client,
        server,
        c,
        s,
        decisions: Vec::new(),
        outcomes: Vec::new(),
        client_events: Vec::new(),
    }
}

fn has(log: &Log, needle: &str) -> bool {
    log.lock().unwrap().iter().any(|l| l.contains(needle))
}

#[test]
fn c_imc_and_c_imv_complete_an_assessment_with_rust_plugins() {
    let imc = compile(&imc_src(), "test_imc", &[]);
    let imv = compile(&imv_src(), "test_imv", &[]);
    let config = config(&[
        ("IMC", "C OS collector", &imc),
        ("IMV", "C OS verifier", &imv),
    ]);
    let log = Log::default();
    let mut p = pair(&config, &log);
    // The C IMC registered IETF/OS through ReportMessageTypesLong, inside
    // ProvideBindFunction, and reserved an additional ID (2) there.
    let imcs: Vec<_> = p
        .client
        .imcs()
        .map(|(id, n, t)| (id, n.to_owned(), t.to_vec()))
        .collect();
    assert_eq!(
        imcs[0],
        (
            ImcId::new(1),
            "C OS collector".to_owned(),
            vec![MessageType::OPERATING_SYSTEM]
        )
    );
    assert_eq!(imcs[1].0, ImcId::new(3));
    let imvs: Vec<_> = p
        .server
        .imvs()
        .map(|(id, _, t)| (id.get(), t.to_vec()))
        .collect();
    assert_eq!(imvs[0], (1, vec![MessageType::OPERATING_SYSTEM]));
    assert_eq!(
        imvs[1].0, 3,
        "the C IMV reserved ID 2 through the misspelled name"
    );

    p.client.begin_handshake(&mut p.c).unwrap();
    p.run();
    let l = log.lock().unwrap().clone();
    // Short send from C (type 1), with the host's answers: an unknown bind name got
    // INVALID_PARAMETER (6) and NULL, the reserved ID is 2, sending during
    // NotifyConnectionChange was ILLEGAL_OPERATION (8), SetAttribute on the TNCC is
    // INVALID_PARAMETER, the preferred language was readable at CREATE, and a retry asked
    // from another thread (outside any call) was queued (0).
    assert!(
        has(
            &log,
            "rust-imv got from ImcId(1) to ImvId(ANY) excl=false: c-imc hello n=1 lang=Accept-Language: en bogus=6 null=1 reserve=0 extra=2 illegal=8 setattr=6 thread=0 retry=99"
        ),
        "{l:#?}"
    );
    // The C IMV's short send, with what it saw: the AR identity from a 2 kB buffer after a
    // 4-byte one got INVALID_PARAMETER with the full length (4 + 28 + 10 = 42), its extra ID
    // and a refused IMC retry reason.
    assert!(
        has(
            &log,
            "rust-imc got from ImvId(1) excl=false: ask from c-imv ids=endpoint-7 small=6 need=42 reserve=0 extra=2 type=1 wrongreason=6"
        ),
        "{l:#?}"
    );
    // The C IMV's long send from its additional ID.
    assert!(
        has(
            &log,
            "rust-imc got from ImvId(2) excl=false: long from c-imv extra"
        ),
        "{l:#?}"
    );
    // The C IMC's exclusive long answer (from its additional ID 2 to IMV 1) reached only the
    // C IMV, which then set a reason string and recommended ISOLATE; the Rust IMV never saw it.
    assert!(!has(&log, "c-imc re:"), "{l:#?}");
    // The C IMC asked for a retry inside ReceiveMessage: a second handshake ran.
    assert_eq!(p.decisions.len(), 2, "{:#?}", p.client_events);
    for d in &p.decisions {
        assert_eq!(d.state, ConnectionState::AccessIsolated);
        assert_eq!(
            d.reasons,
            vec![pb_tnc::ReasonString::new("c-imv: isolate", "en")]
        );
    }
    assert_eq!(p.outcomes.len(), 2);
    assert_eq!(
        (p.outcomes[1].recommendation, p.outcomes[1].evaluation),
        (A::Isolate, E::NonCompliantMinor)
    );
    assert!(has(&log, "c-imc hello n=2"), "{l:#?}");
    assert!(
        has(&log, "retry=0"),
        "the in-call retry request succeeded: {l:#?}"
    );
    // The retry from the other thread waits in the queue for the embedder.
    let pending = if_imc::ffi::drain_pending_retries();
    assert!(
        pending.contains(&if_imc::ffi::PendingRetry {
            imc: ImcId::new(1),
            connection: ConnectionId(1),
            reason: RetryReason::ImcPeriodic
        }),
        "{pending:?}"
    );
    p.client.terminate();
    p.server.terminate();
}

#[test]
fn a_misbehaving_c_imc_gets_error_results_and_the_host_survives() {
    let imc = compile(&imc_src(), "test_imc_bad", &["MISBEHAVE"]);
    let imv = compile(&imv_src(), "test_imv_for_bad", &[]);
    let config = config(&[("IMC", "bad", &imc), ("IMV", "ok", &imv)]);
    let log = Log::default();
    let mut p = pair(&config, &log);
    p.client.begin_handshake(&mut p.c).unwrap();
    p.run();
    let l = log.lock().unwrap().clone();
    // foreign ID: INVALID_PARAMETER; a length of 2^40 on a 16-byte buffer:
    // EXCEEDED_MAX_MESSAGE_SIZE (0x559701), refused before reading; NULL buffer: 6; unknown
    // connection: 6; wildcard type: 6; NULL out-length: 6; undefined flags: 6; an ID beyond
    // 32 bits: 6.
    assert!(
        has(
            &log,
            "c-imc bad foreign=6 lie=559701 null=6 conn=6 wild=6 getnull=6 flags=6 bigid=6"
        ),
        "{l:#?}"
    );
    // The assessment still completed.
    assert!(!p.outcomes.is_empty());
    p.client.terminate();
    p.server.terminate();
}

#[test]
fn load_failures_name_the_file_and_symbol_and_the_others_still_load() {
    let missing = compile(&imc_src(), "test_imc_nobegin", &["OMIT_BEGIN"]);
    let wrong = compile(&imc_src(), "test_imc_v2", &["WRONG_VERSION"]);
    let good = compile(&imc_src(), "test_imc_good", &[]);
    let absent = out_dir().join("no-such-imc.so");
    let config = config(&[
        ("IMC", "no begin", &missing),
        ("IMC", "absent", &absent),
        ("IMC", "wrong version", &wrong),
        ("IMC", "good", &good),
    ]);
    let mut client = if_imc::Broker::new(if_imc::BrokerConfig::default());
    let r = if_imc::ffi::load_imcs(&mut client, &config);
    assert_eq!(r.len(), 4);
    match &r[0] {
        Err(e @ LoadError::MissingSymbol { path, symbol }) => {
            assert_eq!(*symbol, "TNC_IMC_BeginHandshake");
            assert_eq!(path, &missing);
            assert!(e.to_string().contains("test_imc_nobegin.so"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    match &r[1] {
        Err(e @ LoadError::Open { path, .. }) => {
            assert_eq!(path, &absent);
            assert!(e.to_string().contains("no-such-imc.so"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    match &r[2] {
        Err(e @ LoadError::Initialize { .. }) => {
            assert!(e.to_string().contains("no common interface version"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    assert!(r[3].is_ok());
    assert_eq!(client.imcs().count(), 1);
    // A library that is not an IMV at all: the IMV loader names the missing symbol.
    let mut server = if_imv::Broker::new(if_imv::BrokerConfig::default());
    let as_imv = TncConfig::parse(&format!("IMV \"not an imv\" {}\n", good.display())).unwrap();
    match &if_imv::ffi::load_imvs(&mut server, &as_imv)[0] {
        Err(LoadError::MissingSymbol { symbol, .. }) => assert_eq!(*symbol, "TNC_IMV_Initialize"),
        other => panic!("{other:?}"),
    }
    client.terminate();
}

/// Valgrind on PATH (CI installs it with the C toolchain); `None` skips the memory check.
fn valgrind() -> Option<std::process::Command> {
    let ok = std::process::Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then(|| {
        let mut c = std::process::Command::new("valgrind");
        c.args(["-q", "--error-exitcode=99", "--leak-check=no"]);
        c
    })
}

#[test]
fn the_hosting_tests_are_clean_under_valgrind() {
    if std::env::var_os("NEA_UNDER_VALGRIND").is_some() {
        return;
    }
    let Some(mut vg) = valgrind() else {
        eprintln!("valgrind not installed: memory check skipped");
        return;
    };
    // This test binary again, under valgrind, running the C-plugin tests (invalid reads or
    // writes at the boundary make valgrind fail the run).
    let out = vg
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "--test-threads=1",
            "c_imc_and_c_imv_complete_an_assessment_with_rust_plugins",
            "a_misbehaving_c_imc_gets_error_results_and_the_host_survives",
            "load_failures_name_the_file_and_symbol_and_the_others_still_load",
        ])
        .env("NEA_UNDER_VALGRIND", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("3 passed"), "{text}");
}
