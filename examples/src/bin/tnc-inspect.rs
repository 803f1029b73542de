//! `tnc-inspect`: prints every field of a PT-TLS message stream, a PB-TNC batch, a PA-TNC
//! message (or, with later layers, SWIMA attributes and CoSWID/SWID tags), readably or as
//! JSON.
//!
//! ```text
//! tnc-inspect --layer pt-tls|pb-tnc|pa-tnc|swima|coswid|swid [--hex] [--json] [FILE]
//! tnc-inspect --layer swid --to-coswid [FILE]     # SWID XML in, CoSWID CBOR out (stdout)
//! tnc-inspect --layer coswid --to-swid [FILE]     # CoSWID CBOR in, SWID XML out
//! ```
//!
//! FILE or stdin; binary unless `--hex`. Exit 0 when the input decoded, 1 with a one-line
//! error naming the byte offset when it did not.

use std::io::Read;
use std::process::ExitCode;

use bytes::Bytes;
use clap::{Parser, ValueEnum};
use nea_examples::{coswid_inspect, inspect};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Layer {
    /// A stream of PT-TLS messages (RFC 6876).
    PtTls,
    /// One PB-TNC batch (RFC 5793).
    PbTnc,
    /// One PA-TNC message (RFC 5792).
    PaTnc,
    /// One PA-TNC attribute (header and value) of the SWIMA set (RFC 8412).
    Swima,
    /// One CoSWID tag (RFC 9393), tagged, untagged or COSE-signed.
    Coswid,
    /// One ISO/IEC 19770-2:2015 SWID tag (XML).
    Swid,
}

/// Decode NEA protocol bytes and print every field.
#[derive(Debug, Parser)]
#[command(name = "tnc-inspect", version)]
struct Args {
    /// Which layer the input is.
    #[arg(long, value_enum)]
    layer: Layer,
    /// The input is hex text (whitespace ignored) rather than binary.
    #[arg(long)]
    hex: bool,
    /// Print JSON instead of indented text.
    #[arg(long)]
    json: bool,
    /// Convert the SWID XML input (`--layer swid`) to CoSWID CBOR, written to stdout.
    #[arg(long, conflicts_with_all = ["json", "to_swid"])]
    to_coswid: bool,
    /// Convert the CoSWID input (`--layer coswid`) to SWID XML, written to stdout.
    #[arg(long, conflicts_with = "json")]
    to_swid: bool,
    /// Input file; stdin when absent.
    file: Option<std::path::PathBuf>,
}

fn read_input(args: &Args) -> Result<Vec<u8>, String> {
    let raw = match &args.file {
        Some(p) => std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?,
        None => {
            let mut v = Vec::new();
            std::io::stdin()
                .read_to_end(&mut v)
                .map_err(|e| format!("cannot read stdin: {e}"))?;
            v
        }
    };
    if !args.hex {
        return Ok(raw);
    }
    let text: String = String::from_utf8_lossy(&raw)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    hex::decode(text).map_err(|e| format!("invalid hex input: {e}"))
}

fn run(args: &Args) -> Result<Vec<u8>, String> {
    let raw = read_input(args)?;
    match (args.layer, args.to_coswid, args.to_swid) {
        (Layer::Swid, true, false) => return coswid_inspect::to_coswid(&raw),
        (Layer::Coswid, false, true) => return coswid_inspect::to_swid(&raw),
        (_, false, false) => {}
        _ => return Err("--to-coswid needs --layer swid, --to-swid needs --layer coswid".into()),
    }
    let text = match args.layer {
        Layer::Coswid => coswid_inspect::inspect_coswid(&raw, args.json)?,
        Layer::Swid => coswid_inspect::inspect_swid(&raw, args.json)?,
        layer => {
            let input = Bytes::from(raw);
            let value = match layer {
                Layer::PtTls => inspect::pt_tls::stream_to_json(input, 0),
                Layer::PbTnc => inspect::pb_tnc::batch_to_json(input, 0),
                Layer::PaTnc => inspect::pa_tnc::message_to_json(input, 0),
                _ => inspect::swima_attribute_to_json(input, 0),
            }
            .map_err(|e| format!("decode error: {e}"))?;
            if args.json {
                serde_json::to_string_pretty(&value).unwrap_or_default()
            } else {
                inspect::to_text(&value)
            }
        }
    };
    let mut out = text.into_bytes();
    out.push(b'\n');
    Ok(out)
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(out) => {
            use std::io::Write;
            let mut stdout = std::io::stdout().lock();
            if stdout
                .write_all(&out)
                .and_then(|()| stdout.flush())
                .is_err()
            {
                return ExitCode::from(1);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tnc-inspect: {e}");
            ExitCode::from(1)
        }
    }
}
