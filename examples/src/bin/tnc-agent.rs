//! `tnc-agent`: the endpoint's posture agent (SWIMA + OS collectors over PT-TLS). See the
//! examples README.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use nea_examples::agent::{Agent, AgentOptions, recommendation_word, result_word};

/// mimalloc: glibc malloc was ~18 % of the manager's and agents' CPU under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The posture agent: reports this endpoint's software (a SWID/CoSWID tag directory) and OS
/// posture to a posture manager over PT-TLS.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Posture manager `HOST:PORT`; repeat for a list (first reachable wins).
    #[arg(long, value_name = "HOST:PORT", required = true)]
    connect: Vec<String>,
    /// CA certificate(s) the manager's certificate must chain to (PEM).
    #[arg(long, value_name = "PEM")]
    ca: PathBuf,
    /// This endpoint's certificate chain (PEM).
    #[arg(long, value_name = "PEM", requires = "key")]
    cert: Option<PathBuf>,
    /// This endpoint's private key (PEM).
    #[arg(long, value_name = "PEM", requires = "cert")]
    key: Option<PathBuf>,
    /// SASL PLAIN user (discouraged; instead of a certificate).
    #[arg(
        long,
        value_name = "U",
        requires = "secret_file",
        conflicts_with = "cert"
    )]
    user: Option<String>,
    /// File holding the SASL PLAIN password.
    #[arg(long, value_name = "F")]
    secret_file: Option<PathBuf>,
    /// SWID (`.swidtag`) and CoSWID (`.coswid`) tag directory.
    #[arg(long, value_name = "DIR")]
    swid_dir: PathBuf,
    /// Where the SWIMA event log is kept.
    #[arg(long, value_name = "DIR", default_value = "tnc-agent-state")]
    state: PathBuf,
    /// C IMCs to host from a tnc_config file (`IMC "name" /path/lib.so` lines).
    #[arg(long, value_name = "FILE")]
    imc_config: Option<PathBuf>,
    /// Run one assessment, print the recommendation, exit.
    #[arg(long)]
    once: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    nea_examples::init_logging("info");
    let (identity, sasl) = match (args.cert, args.key, args.user, args.secret_file) {
        (Some(c), Some(k), _, _) => (Some((c, k)), None),
        (_, _, Some(user), Some(file)) => match std::fs::read_to_string(&file) {
            Ok(secret) => (
                None,
                Some((user, secret.trim_end_matches(['\r', '\n']).to_owned())),
            ),
            Err(e) => {
                eprintln!("tnc-agent: --secret-file {}: {e}", file.display());
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("tnc-agent: give --cert and --key, or --user and --secret-file");
            return ExitCode::from(2);
        }
    };
    let opts = AgentOptions {
        connect: args.connect,
        ca: args.ca,
        identity,
        sasl,
        swid_dir: args.swid_dir,
        state: args.state,
        imc_config: args.imc_config,
    };
    let agent = match Agent::new(&opts) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("tnc-agent: {e}");
            return ExitCode::FAILURE;
        }
    };
    if args.once {
        return match agent.once().await {
            Ok(d) => {
                println!(
                    "RECOMMENDATION {} {}",
                    recommendation_word(&d),
                    result_word(&d)
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("tnc-agent: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let (tx, mut decisions) = tokio::sync::mpsc::unbounded_channel();
    let printer = tokio::spawn(async move {
        while let Some(d) = decisions.recv().await {
            println!(
                "RECOMMENDATION {} {}",
                recommendation_word(&d),
                result_word(&d)
            );
        }
    });
    let run = agent.run(stopped, Some(tx));
    tokio::pin!(run);
    let r = tokio::select! {
        r = &mut run => r,
        _ = tokio::signal::ctrl_c() => {
            let _ = stop.send(true);
            run.await
        }
    };
    let _ = printer.await;
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tnc-agent: {e}");
            ExitCode::FAILURE
        }
    }
}
