//! `tnc-inspect`: prints every field of a PT-TLS message stream, a PB-TNC batch, a PA-TNC
//! message (or, with later layers, SWIMA attributes and CoSWID/SWID tags), readably or as
//! JSON.
//!
//! ```text
//! tnc-inspect --layer pt-tls|pb-tnc|pa-tnc|swima|coswid|swid [--hex] [--json] [FILE|-]...
//! tnc-inspect --layer pt-tls FILE1 FILE2 ...      # one session: segmented attributes reassembled
//! tnc-inspect --layer coswid --verify-key KEY.pem [FILE]   # check the COSE signature
//! tnc-inspect --layer swid --to-coswid [FILE]     # SWID XML in, CoSWID CBOR out (stdout)
//! tnc-inspect --layer coswid --to-swid [FILE]     # CoSWID CBOR in, SWID XML out
//! ```
//!
//! FILE, or stdin when absent or `-`; binary unless `--hex`. Several PT-TLS files are decoded
//! as one conversation in the order given, and the attributes that travelled in IF-M
//! segments are shown reassembled (`reassembled_attributes`). Exit status: 0 the input
//! decoded (and passed the strict checks), 1 a decode error (what decoded before the damage is
//! printed, then the error with its byte offset on stderr), 2 a usage error, 3 it decoded
//! but failed strict validation (CoSWID: strict CDDL decoding or RFC 9393 rules; see
//! `validation`).

use std::io::Read;
use std::process::ExitCode;

use bytes::Bytes;
use clap::{Parser, ValueEnum};
use nea_examples::{coswid_inspect, inspect};
use serde_json::{Value, json};

/// Exit status: the input decoded but a strict check failed.
const EXIT_INVALID: u8 = 3;

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
    /// Verify the COSE signature of a signed CoSWID (`--layer coswid`) with this public key
    /// (SubjectPublicKeyInfo, PEM or DER); a tag that does not verify is an error.
    #[arg(long, value_name = "KEY")]
    verify_key: Option<std::path::PathBuf>,
    /// Input files (`-` is stdin; stdin when none). Several only with `--layer pt-tls`: one
    /// session's captures, in order.
    files: Vec<String>,
}

/// How a run ended.
enum Failure {
    /// Nothing to show (bad arguments, unreadable input): the message.
    Fatal(String),
    /// Decoding stopped: what decoded before, then the error.
    Decode(Vec<u8>, String),
    /// Decoded, but a strict check failed: the full view.
    Invalid(Vec<u8>),
}

impl From<String> for Failure {
    fn from(s: String) -> Self {
        Self::Fatal(s)
    }
}

fn read_one(name: &str, hex_input: bool) -> Result<Vec<u8>, String> {
    let raw = if name == "-" {
        let mut v = Vec::new();
        std::io::stdin()
            .read_to_end(&mut v)
            .map_err(|e| format!("cannot read stdin: {e}"))?;
        v
    } else {
        std::fs::read(name).map_err(|e| format!("cannot read {name}: {e}"))?
    };
    if !hex_input {
        return Ok(raw);
    }
    let text: String = String::from_utf8_lossy(&raw)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    hex::decode(text).map_err(|e| format!("invalid hex input: {e}"))
}

fn read_inputs(args: &Args) -> Result<Vec<(String, Vec<u8>)>, String> {
    let names: Vec<&str> = if args.files.is_empty() {
        vec!["-"]
    } else {
        args.files.iter().map(String::as_str).collect()
    };
    if names.len() > 1 && args.layer != Layer::PtTls {
        return Err("several input files only with --layer pt-tls (one session)".into());
    }
    if names.iter().filter(|n| **n == "-").count() > 1 {
        return Err("stdin (-) can be read only once".into());
    }
    names
        .into_iter()
        .map(|n| Ok((n.to_owned(), read_one(n, args.hex)?)))
        .collect()
}

fn render(v: &Value, json: bool) -> Vec<u8> {
    let mut out = if json {
        serde_json::to_string_pretty(v).unwrap_or_default()
    } else {
        inspect::to_text(v)
    }
    .into_bytes();
    out.push(b'\n');
    out
}

/// The PT-TLS view of one or more files of one session.
fn pt_tls(inputs: Vec<(String, Vec<u8>)>, json_out: bool) -> Result<Vec<u8>, Failure> {
    let inputs: Vec<(String, Bytes)> = inputs
        .into_iter()
        .map(|(n, b)| (n, Bytes::from(b)))
        .collect();
    let mut views = Vec::new();
    let mut error = None;
    for (name, bytes) in &inputs {
        let (v, e) = inspect::pt_tls::stream_partial(bytes.clone(), 0);
        views.push((name, v));
        if let Some(e) = e {
            error = Some(format!("{name}: decode error: {e}"));
            break;
        }
    }
    let reassembled = inspect::reassembly::reassemble(&inputs);
    let mut v = if views.len() == 1 && inputs.len() == 1 {
        views.pop().map(|(_, v)| v).unwrap_or_default()
    } else {
        json!({
            "files": views
                .into_iter()
                .map(|(name, v)| json!({ "file": name, "messages": v.get("messages") }))
                .collect::<Vec<_>>()
        })
    };
    if !reassembled.is_empty()
        && let Value::Object(m) = &mut v
    {
        m.insert("reassembled_attributes".into(), Value::Array(reassembled));
    }
    finish(&v, json_out, error)
}

/// A decoded view, failing with decode errors nested in it (a damaged PB-TNC batch inside a
/// PT-TLS message) or the one that stopped the walk.
fn finish(v: &Value, json_out: bool, error: Option<String>) -> Result<Vec<u8>, Failure> {
    let out = render(v, json_out);
    let nested = inspect::decode_errors(v);
    match (error, nested.first()) {
        (Some(e), _) => Err(Failure::Decode(out, e)),
        (None, Some((msg, _))) => Err(Failure::Decode(out, format!("decode error: {msg}"))),
        (None, None) => Ok(out),
    }
}

fn run(args: &Args) -> Result<Vec<u8>, Failure> {
    let mut inputs = read_inputs(args)?;
    if args.verify_key.is_some() && args.layer != Layer::Coswid {
        return Err(Failure::Fatal("--verify-key needs --layer coswid".into()));
    }
    if args.layer == Layer::PtTls && !args.to_coswid && !args.to_swid {
        return pt_tls(inputs, args.json);
    }
    let (_, raw) = inputs.pop().unwrap_or_default();
    match (args.layer, args.to_coswid, args.to_swid) {
        (Layer::Swid, true, false) => {
            let (cbor, dropped) = coswid_inspect::to_coswid(&raw)?;
            if !dropped.is_empty() {
                let list: Vec<String> = dropped
                    .iter()
                    .map(|(what, n)| format!("{what} ({})", inspect::count(*n, "time")))
                    .collect();
                eprintln!("tnc-inspect: not carried to CoSWID: {}", list.join(", "));
            }
            return Ok(cbor);
        }
        (Layer::Coswid, false, true) => return Ok(coswid_inspect::to_swid(&raw)?),
        (_, false, false) => {}
        _ => {
            return Err(Failure::Fatal(
                "--to-coswid needs --layer swid, --to-swid needs --layer coswid".into(),
            ));
        }
    }
    match args.layer {
        Layer::Coswid => {
            let key = match &args.verify_key {
                Some(p) => Some(read_key(p)?),
                None => None,
            };
            let r = coswid_inspect::inspect_coswid(&raw, args.json, key.as_ref())?;
            let mut out = r.text.into_bytes();
            out.push(b'\n');
            if r.valid {
                Ok(out)
            } else {
                Err(Failure::Invalid(out))
            }
        }
        Layer::Swid => {
            let mut out = coswid_inspect::inspect_swid(&raw, args.json)?.into_bytes();
            out.push(b'\n');
            Ok(out)
        }
        layer => {
            let input = Bytes::from(raw);
            let (value, error) = match layer {
                Layer::PbTnc => inspect::pb_tnc::batch_partial(input, 0),
                Layer::PaTnc => inspect::pa_tnc::message_partial(input, 0),
                _ => match inspect::swima_attribute_to_json(input, 0) {
                    Ok(v) => (v, None),
                    Err(e) => (Value::Null, Some(e)),
                },
            };
            let error = error.map(|e| format!("decode error: {e}"));
            match (value, error) {
                (Value::Null, Some(e)) => Err(Failure::Decode(Vec::new(), e)),
                (v, e) => finish(&v, args.json, e),
            }
        }
    }
}

fn read_key(path: &std::path::Path) -> Result<coswid::cose::VerifyingKey, String> {
    let raw = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let key = match core::str::from_utf8(&raw) {
        Ok(pem) if pem.contains("-----BEGIN") => coswid::cose::VerifyingKey::from_spki_pem(pem),
        _ => coswid::cose::VerifyingKey::from_spki_der(&raw),
    };
    key.map_err(|e| format!("{}: not a public key: {e}", path.display()))
}

fn write_out(out: &[u8]) -> bool {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out).and_then(|()| stdout.flush()).is_ok()
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(out) => {
            if write_out(&out) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(Failure::Fatal(e)) => {
            eprintln!("tnc-inspect: {e}");
            ExitCode::from(1)
        }
        Err(Failure::Decode(out, e)) => {
            write_out(&out);
            eprintln!("tnc-inspect: {e}");
            ExitCode::from(1)
        }
        Err(Failure::Invalid(out)) => {
            write_out(&out);
            eprintln!("tnc-inspect: strict validation failed (see validation)");
            ExitCode::from(EXIT_INVALID)
        }
    }
}
