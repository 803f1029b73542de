//! `tnc-manager`: the posture manager (PT-TLS server with the SWIMA and OS verifiers, SQLite
//! repository, HTTP API). See the examples README.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use nea_examples::manager::{ManagerOptions, import_tags, start};

/// mimalloc: glibc malloc was ~18 % of the manager's and agents' CPU under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The posture manager: assesses endpoints over PT-TLS (mutual TLS), stores their software
/// in SQLite or PostgreSQL, evaluates it against guidance and answers questions about it over
/// HTTP.
#[derive(Parser, Debug)]
#[command(version, subcommand_negates_reqs = true)]
struct Args {
    /// Instead of serving: a maintenance command.
    #[command(subcommand)]
    command: Option<Command>,
    /// PT-TLS listen address (port 0 picks a free one).
    #[arg(long, value_name = "ADDR:PORT", required = true)]
    listen: Option<String>,
    /// Manager certificate chain (PEM).
    #[arg(long, value_name = "PEM", required = true)]
    cert: Option<PathBuf>,
    /// Manager private key (PEM).
    #[arg(long, value_name = "PEM", required = true)]
    key: Option<PathBuf>,
    /// CA certificate(s) endpoint certificates must chain to (PEM).
    #[arg(long, value_name = "PEM", required = true)]
    ca: Option<PathBuf>,
    /// The repository: an SQLite file (created if missing), or a `postgres://` URL of a
    /// database several managers share.
    #[arg(long, value_name = "FILE|URL", required = true)]
    db: Option<String>,
    /// HTTP API listen address.
    #[arg(long, value_name = "ADDR:PORT", required = true)]
    api: Option<String>,
    /// API bearer tokens, one `TOKEN read|admin` per line.
    #[arg(long, value_name = "FILE")]
    api_token_file: Option<PathBuf>,
    /// Accept SASL PLAIN for this user from clients without a certificate (discouraged).
    #[arg(long, value_name = "USER:SECRET")]
    allow_sasl: Option<String>,
    /// Network devices to poll over NETCONF: a JSON file (see the examples README).
    #[arg(long, value_name = "FILE")]
    netconf_devices: Option<PathBuf>,
    /// C IMVs to host, from a tnc_config file.
    #[arg(long, value_name = "FILE")]
    imv_config: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Imports reference tags from a trusted platform (SWID `.swidtag` XML and `.coswid`
    /// files under DIR) into the repository, marked trusted: an endpoint can never alter them.
    ImportTags {
        /// The directory (searched recursively).
        dir: PathBuf,
        /// The repository: an SQLite file (created if missing) or a `postgres://` URL.
        #[arg(long, value_name = "FILE|URL")]
        db: String,
    },
    /// Walks every endpoint's hash-chained history and names the first row of each chain
    /// that was altered or removed (profile §8.2.4). Exit status 0 when every chain is
    /// intact, 1 when one is broken.
    VerifyHistory {
        /// The repository: an SQLite file or a `postgres://` URL.
        #[arg(long, value_name = "FILE|URL")]
        db: String,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    nea_examples::init_logging("info");
    if let Some(Command::ImportTags { dir, db }) = &args.command {
        return match import_tags(db, dir) {
            Ok(imported) => {
                let r = &imported.report;
                for (file, why) in &r.rejected {
                    eprintln!("tnc-manager: {file}: not imported: {why}");
                }
                for c in &imported.changed {
                    eprintln!(
                        "tnc-manager: endpoint {}: evaluation changed to {:?}",
                        c.endpoint, c.after.recommendation
                    );
                }
                println!(
                    "IMPORTED {} UNCHANGED {} REJECTED {}",
                    r.imported,
                    r.unchanged,
                    r.rejected.len()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("tnc-manager: import-tags: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if let Some(Command::VerifyHistory { db }) = &args.command {
        return verify_history(db);
    }
    let (Some(listen), Some(cert), Some(key), Some(ca), Some(db), Some(api)) =
        (args.listen, args.cert, args.key, args.ca, args.db, args.api)
    else {
        // clap enforces these without a subcommand.
        eprintln!("tnc-manager: --listen, --cert, --key, --ca, --db and --api are required");
        return ExitCode::from(2);
    };
    let allow_sasl = match args.allow_sasl.as_deref().map(|s| s.split_once(':')) {
        None => None,
        Some(Some((u, p))) if !u.is_empty() && !p.is_empty() => Some((u.to_owned(), p.to_owned())),
        Some(_) => {
            eprintln!("tnc-manager: --allow-sasl wants USER:SECRET");
            return ExitCode::from(2);
        }
    };
    let opts = ManagerOptions {
        listen,
        cert,
        key,
        ca,
        db,
        api,
        api_token_file: args.api_token_file,
        limits: Default::default(),
        allow_sasl,
        imv_config: args.imv_config,
        netconf_devices: args.netconf_devices,
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

/// `tnc-manager verify-history --db FILE|URL`.
fn verify_history(db: &str) -> ExitCode {
    let report = posture_repository::open(db, posture_repository::Limits::default())
        .and_then(|repo| repo.verify_history());
    match report {
        Ok(r) => {
            for f in &r.faults {
                println!(
                    "BROKEN endpoint {:?} at row {}: {:?}",
                    f.endpoint, f.seq, f.problem
                );
            }
            println!(
                "{} endpoints, {} history rows, {} broken chains",
                r.endpoints,
                r.rows,
                r.faults.len()
            );
            if r.is_intact() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("tnc-manager: verify-history {db}: {e}");
            ExitCode::from(2)
        }
    }
}
