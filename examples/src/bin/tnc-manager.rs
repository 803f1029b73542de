//! `tnc-manager`: the posture manager (PT-TLS server with the SWIMA and OS verifiers, SQLite
//! repository, HTTP API). See the examples README.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use nea_examples::manager::{ManagerOptions, start};

/// The posture manager: assesses endpoints over PT-TLS (mutual TLS), stores their software
/// in SQLite and answers questions about it over HTTP.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// PT-TLS listen address (port 0 picks a free one).
    #[arg(long, value_name = "ADDR:PORT")]
    listen: String,
    /// Manager certificate chain (PEM).
    #[arg(long, value_name = "PEM")]
    cert: PathBuf,
    /// Manager private key (PEM).
    #[arg(long, value_name = "PEM")]
    key: PathBuf,
    /// CA certificate(s) endpoint certificates must chain to (PEM).
    #[arg(long, value_name = "PEM")]
    ca: PathBuf,
    /// SQLite repository file (created if missing).
    #[arg(long, value_name = "FILE")]
    db: PathBuf,
    /// HTTP API listen address.
    #[arg(long, value_name = "ADDR:PORT")]
    api: String,
    /// API bearer tokens, one `TOKEN read|admin` per line.
    #[arg(long, value_name = "FILE")]
    api_token_file: Option<PathBuf>,
    /// Accept SASL PLAIN for this user from clients without a certificate (discouraged).
    #[arg(long, value_name = "USER:SECRET")]
    allow_sasl: Option<String>,
    /// Network devices to poll over NETCONF (not supported yet).
    #[arg(long, value_name = "FILE")]
    netconf_devices: Option<PathBuf>,
    /// C IMVs to host, from a tnc_config file.
    #[arg(long, value_name = "FILE")]
    imv_config: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    nea_examples::init_logging("info");
    for (given, what) in [(
        args.netconf_devices.is_some(),
        "--netconf-devices (NETCONF device polling is not wired yet)",
    )] {
        if given {
            eprintln!("tnc-manager: {what}: not supported yet");
            return ExitCode::from(2);
        }
    }
    let allow_sasl = match args.allow_sasl.as_deref().map(|s| s.split_once(':')) {
        None => None,
        Some(Some((u, p))) if !u.is_empty() && !p.is_empty() => Some((u.to_owned(), p.to_owned())),
        Some(_) => {
            eprintln!("tnc-manager: --allow-sasl wants USER:SECRET");
            return ExitCode::from(2);
        }
    };
    let opts = ManagerOptions {
        listen: args.listen,
        cert: args.cert,
        key: args.key,
        ca: args.ca,
        db: args.db,
        api: args.api,
        api_token_file: args.api_token_file,
        limits: Default::default(),
        allow_sasl,
        imv_config: args.imv_config,
    };
    let m = match start(&opts).await {
        Ok(m) => m,
        Err(e) => {
            eprintln!("tnc-manager: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("LISTENING {}", m.pt_addr);
    println!("API {}", m.api_addr);
    let _ = tokio::signal::ctrl_c().await;
    m.shutdown().await;
    ExitCode::SUCCESS
}
