//! Our exported Rust plugins in a TNC host written in C: `tests/c/host.c` (compiled here with
//! the `cc` crate) loads `libimc_*.so` and `libimv_*.so` (this crate's cdylib examples, built
//! by the test with the same cargo) with `dlopen` and runs one assessment through the real
//! C ABI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn examples_dir() -> PathBuf {
    // target/<profile>/deps/c_host-<hash> → target/<profile>/examples
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().join("examples")
}

/// The four plugins: `cargo test` builds the examples (cdylibs) before it runs the tests.
fn plugins() -> PathBuf {
    let dir = examples_dir();
    for p in ["imc_os", "imv_os", "imc_swima", "imv_swima"] {
        assert!(
            dir.join(format!("lib{p}.so")).exists(),
            "lib{p}.so missing in {}: run `cargo test -p imcv-cdylib` (it builds the examples) \
             or `cargo build -p imcv-cdylib --examples` first",
            dir.display()
        );
    }
    dir
}

/// The C host, compiled once per test run.
fn host() -> PathBuf {
    static HOST: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    HOST.get_or_init(compile_host).clone()
}

fn compile_host() -> PathBuf {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c_host");
    std::fs::create_dir_all(&out).unwrap();
    let target = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
    let compiler = cc::Build::new()
        .target(&target)
        .host(&target)
        .opt_level(0)
        .out_dir(&out)
        .cargo_metadata(false)
        .get_compiler();
    let exe = out.join("tnc-host");
    let status = compiler
        .to_command()
        .args(["-Wall", "-Werror", "-o"])
        .arg(&exe)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/host.c"))
        .arg("-ldl")
        .status()
        .unwrap();
    assert!(status.success(), "compiling the C host failed");
    exe
}

fn run(imc: &str, imv: &str) -> Vec<String> {
    run_with(Command::new(host()), imc, imv)
}

fn run_with(mut cmd: Command, imc: &str, imv: &str) -> Vec<String> {
    let dir = plugins();
    let out = cmd
        .arg(dir.join(format!("lib{imc}.so")))
        .arg(dir.join(format!("lib{imv}.so")))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text.lines().map(str::to_owned).collect()
}

fn value(lines: &[String], prefix: &str, key: &str) -> i64 {
    let line = lines
        .iter()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line {prefix}: {lines:#?}"));
    let v = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key} in {line}"));
    v.parse().unwrap()
}

fn common(l: &[String]) {
    // Version negotiation, double Initialize, the version range, unknown IDs, Terminate.
    assert!(l.contains(&"imc init=0 version=1".to_owned()), "{l:#?}");
    assert!(l.contains(&"imc second init=2".to_owned()), "{l:#?}");
    assert!(l.contains(&"imv init v2 only=3".to_owned()), "{l:#?}");
    assert!(l.contains(&"imv init=0 version=1".to_owned()), "{l:#?}");
    assert!(value(l, "imc bind=0", "types") >= 1, "{l:#?}");
    assert!(value(l, "imv bind=0", "types") >= 1, "{l:#?}");
    assert!(l.contains(&"begin=0".to_owned()), "{l:#?}");
    assert!(l.contains(&"unknown imc id=6".to_owned()), "{l:#?}");
    assert!(l.contains(&"terminate imc=0 imv=0".to_owned()), "{l:#?}");
    assert!(
        !l.iter().any(|x| x.starts_with("receive returned")),
        "{l:#?}"
    );
    assert_eq!(l.last().map(String::as_str), Some("done"));
    // A real recommendation reached the host (ALLOW, NO_ACCESS or ISOLATE).
    assert!(
        (0..=2).contains(&value(l, "recommendation=", "recommendation")),
        "{l:#?}"
    );
}

#[test]
fn os_collector_and_verifier_as_c_plugins_in_a_c_host() {
    let l = run("imc_os", "imv_os");
    common(&l);
    // The collector's OS posture went to the verifier through SendMessageLong.
    assert!(value(&l, "rounds=", "to_imv") >= 1, "{l:#?}");
}

#[test]
fn swima_collector_and_verifier_as_c_plugins_in_a_c_host() {
    let l = run("imc_swima", "imv_swima");
    common(&l);
    // The verifier's request reached the collector and the collector answered it.
    assert!(value(&l, "rounds=", "to_imc") >= 1, "{l:#?}");
    assert!(value(&l, "rounds=", "to_imv") >= 2, "{l:#?}");
}

#[test]
fn the_exported_plugins_are_clean_under_valgrind() {
    let has_valgrind = Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_valgrind {
        eprintln!("valgrind not installed: memory check skipped");
        return;
    }
    for (imc, imv) in [("imc_os", "imv_os"), ("imc_swima", "imv_swima")] {
        let mut cmd = Command::new("valgrind");
        cmd.args(["-q", "--error-exitcode=99", "--leak-check=no"])
            .arg(host());
        // run_with asserts the exit status: 99 is a valgrind error.
        common(&run_with(cmd, imc, imv));
    }
}

/// The same `.so` files through our own brokers, from a `tnc_config`: the exported Rust
/// plugins are ordinary C plugins to `if_imc::ffi` / `if_imv::ffi` too.
#[test]
fn the_exported_plugins_run_in_our_own_brokers_from_a_tnc_config() {
    use if_imc::ffi::TncConfig;
    let dir = plugins();
    let config = TncConfig::parse(&format!(
        "IMC \"OS\" {0}/libimc_os.so\nIMC \"SWIMA\" {0}/libimc_swima.so\n\
         IMV \"OS\" {0}/libimv_os.so\nIMV \"SWIMA\" {0}/libimv_swima.so\n",
        dir.display()
    ))
    .unwrap();
    let mut client = if_imc::Broker::new(if_imc::BrokerConfig::default());
    for r in if_imc::ffi::load_imcs(&mut client, &config) {
        r.unwrap();
    }
    let mut server = if_imv::Broker::new(if_imv::BrokerConfig::default());
    for r in if_imv::ffi::load_imvs(&mut server, &config) {
        r.unwrap();
    }
    // Types reported through the host's bind function from inside ProvideBindFunction.
    let imcs: Vec<_> = client
        .imcs()
        .map(|(_, n, t)| (n.to_owned(), t.len()))
        .collect();
    assert_eq!(imcs.len(), 2);
    assert!(imcs.iter().all(|(_, n)| *n >= 1), "{imcs:?}");
    let mut c = client.connect(if_imc::ConnectionConfig::default());
    let mut s = server.accept(if_imv::ConnectionConfig {
        ar_identities: vec![if_imv::ArIdentity::password_user("endpoint-9")],
        ..Default::default()
    });
    client.begin_handshake(&mut c).unwrap();
    for _ in 0..200 {
        let mut moved = false;
        while let Some(b) = c.poll_transmit() {
            server.handle_batch(&mut s, b);
            moved = true;
        }
        while let Some(b) = s.poll_transmit() {
            client.handle_batch(&mut c, b);
            moved = true;
        }
        if !moved {
            break;
        }
    }
    let outcome = s.outcome().expect("the server decided");
    // Both exported verifiers recommended through ProvideRecommendation (none was left
    // at the NO_RECOMMENDATION a silent verifier counts as).
    assert_eq!(outcome.verdicts.len(), 2, "{outcome:?}");
    let os = outcome.verdicts.iter().find(|v| v.name == "OS").unwrap();
    assert_ne!(
        os.recommendation,
        if_imv::ActionRecommendation::NoRecommendation,
        "{outcome:?}"
    );
    assert!(c.decision().is_some());
    client.terminate();
    server.terminate();
}
