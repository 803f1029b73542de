//! `tnc-inspect` end to end: every captured strongSwan unit decodes at its layer, nesting
//! reaches the innermost layer, and bad input gives exit 1 with a one-line error naming the
//! byte offset.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tnc-inspect"));
    cmd.args(args);
    if let Some(input) = stdin {
        use std::io::Write;
        use std::process::Stdio;
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        return child.wait_with_output().unwrap();
    }
    cmd.output().unwrap()
}

fn json_of(layer: &str, file: &Path) -> Value {
    let out = run(&["--layer", layer, "--json", file.to_str().unwrap()], None);
    assert!(
        out.status.success(),
        "{} at layer {layer}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every value stored under `key`, anywhere in `v`.
fn find<'a>(v: &'a Value, key: &str, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == key {
                    out.push(x);
                }
                find(x, key, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| find(x, key, out)),
        _ => {}
    }
}

fn count(v: &Value, key: &str) -> usize {
    let mut out = Vec::new();
    find(v, key, &mut out);
    out.len()
}

fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p, suffix));
        } else if p.to_string_lossy().ends_with(suffix) {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn every_pa_tnc_capture_decodes() {
    let all = files(&root().join("pa-tnc/tests/data"), ".patnc.bin");
    assert!(all.len() >= 40);
    for f in all {
        let v = json_of("pa-tnc", &f);
        assert_eq!(v["version"], 1, "{}", f.display());
        assert!(v["attributes"].is_array());
    }
}

#[test]
fn every_pb_tnc_capture_decodes() {
    let all = files(&root().join("pb-tnc/tests/data"), ".batch.bin");
    assert!(all.len() >= 38, "pb-tnc test data missing: {}", all.len());
    for f in all {
        let v = json_of("pb-tnc", &f);
        // Every batch shows its header fields; a non-empty one lists its messages.
        assert_eq!(count(&v, "batch_type"), 1, "{}", f.display());
        let bytes = std::fs::metadata(&f).unwrap().len();
        assert!(
            bytes == 8 || count(&v, "message_type") >= 1,
            "{}",
            f.display()
        );
    }
}

#[test]
fn every_pt_tls_capture_decodes() {
    let all = files(&root().join("pt-tls/tests/data"), ".pttls.bin");
    assert!(all.len() >= 59, "pt-tls test data missing: {}", all.len());
    for f in all {
        let v = json_of("pt-tls", &f);
        // One capture file is one PT-TLS message.
        assert_eq!(
            v["messages"].as_array().map(Vec::len),
            Some(1),
            "{}",
            f.display()
        );
    }
}

#[test]
fn session_sample_nests_down_to_attributes() {
    let v = json_of(
        "pt-tls",
        &root().join("examples/samples/strongswan-sasl-plain-session.pttls.bin"),
    );
    // Five PB-TNC batches, four of which carry PB-PA messages with PA-TNC inside.
    assert_eq!(count(&v, "pb_tnc_batch"), 5);
    assert!(count(&v, "pa_tnc_message") >= 5);
    let mut names = Vec::new();
    find(&v, "product_name", &mut names);
    assert_eq!(names, vec![&Value::from("Debian")]);
}

#[test]
fn swima_sample_shows_software_identifiers() {
    let v = json_of(
        "pt-tls",
        &root().join("examples/samples/strongswan-swima-events-session.pttls.bin"),
    );
    let mut ids = Vec::new();
    find(&v, "software_identifier", &mut ids);
    assert!(ids.len() >= 887, "found {} software identifiers", ids.len());
    assert!(
        ids.iter()
            .all(|i| i.as_str().is_some_and(|s| s.contains("__")))
    );
}

#[test]
fn text_output_and_hex_input() {
    let out = run(
        &["--layer", "pa-tnc", "--hex"],
        Some(b"01000000 00000007\n00000000 0000000b 00000010 00000001\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("message_identifier: 7"), "{text}");
    assert!(
        text.contains("attribute_type_name: Forwarding Enabled"),
        "{text}"
    );
    assert!(text.contains("forwarding_enabled: 1 (enabled)"), "{text}");
}

#[test]
fn errors_name_the_offset_on_one_line() {
    // A PA-TNC attribute whose Length (at offset 16) is 11.
    let out = run(
        &["--layer", "pa-tnc", "--hex"],
        Some(b"0100000000000007 000000000000000b0000000b"),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("offset 16"), "{err}");
    // Garbage hex.
    let out = run(&["--layer", "pb-tnc", "--hex"], Some(b"zz"));
    assert_eq!(out.status.code(), Some(1));
    // Truncated PT-TLS header.
    let out = run(&["--layer", "pt-tls"], Some(&[0, 0, 0, 0, 0, 0, 0, 1, 0]));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr).unwrap().contains("offset"));
}

#[test]
fn swid_and_coswid_layers_convert_both_ways() {
    // Real tags from swidGenerator (dpkg), with and without file payloads.
    let mut swid = files(&root().join("coswid/tests/data/swid-xml/dpkg-full"), ".xml");
    swid.truncate(10);
    swid.extend(
        files(&root().join("coswid/tests/data/swid-xml/dpkg-min"), ".xml")
            .into_iter()
            .take(10),
    );
    assert_eq!(swid.len(), 20);
    for f in &swid {
        let xml = std::fs::read(f).unwrap();
        let shown = run(&["--layer", "swid", "--json", f.to_str().unwrap()], None);
        assert!(
            shown.status.success(),
            "{}: {}",
            f.display(),
            String::from_utf8_lossy(&shown.stderr)
        );
        let cbor = run(&["--layer", "swid", "--to-coswid"], Some(&xml));
        assert!(
            cbor.status.success(),
            "{}: {}",
            f.display(),
            String::from_utf8_lossy(&cbor.stderr)
        );
        let coswid = run(&["--layer", "coswid", "--json"], Some(&cbor.stdout));
        assert!(coswid.status.success(), "{}", f.display());
        let v: Value = serde_json::from_slice(&coswid.stdout).unwrap();
        let tag_id = v["tag_id"].as_str().unwrap().to_owned();
        let back = run(&["--layer", "coswid", "--to-swid"], Some(&cbor.stdout));
        assert!(back.status.success(), "{}", f.display());
        let back = String::from_utf8(back.stdout).unwrap();
        assert!(
            back.contains(&format!("tagId=\"{tag_id}\"")),
            "{}: {back}",
            f.display()
        );
    }
    // Conversion flags must match the layer.
    let out = run(&["--layer", "pa-tnc", "--to-swid"], Some(b""));
    assert_eq!(out.status.code(), Some(1));
}

/// ITA-HSR attributes decode by name, the PA subtype is named in its vendor's namespace, and
/// vendor IDs are a number plus a separate name; both assessment results print names.
#[test]
fn ita_attributes_and_names() {
    let dir = root().join("pb-tnc/tests/data/01-sasl-plain-test-os-isolate");
    let v = json_of("pb-tnc", &dir.join("07-c2s-pb-cdata.batch.bin"));
    let pa = &v["messages"][1]["value"];
    assert_eq!(
        pa["pa_message_vendor_id"],
        json!({"number": 0x90_2a, "name": "ITA"})
    );
    assert_eq!(pa["pa_subtype_name"], "Test");
    let cmd = &pa["pa_tnc_message"]["attributes"][0];
    assert_eq!(cmd["attribute_type_name"], "Command");
    assert_eq!(cmd["value"]["command"], "isolate");
    let mut ids = Vec::new();
    find(&v, "device_id", &mut ids);
    assert_eq!(ids, [&json!("aabbccddeeff11223344556677889900")]);

    let v = json_of("pb-tnc", &dir.join("10-s2c-pb-result.batch.bin"));
    let mut results = Vec::new();
    find(&v, "assessment_result", &mut results);
    // the PA-TNC attribute (RFC 5792) and the PB-TNC message (RFC 5793) print alike
    assert_eq!(
        results,
        [
            &json!({"number": 1, "name": "non-compliant minor"}),
            &json!({"number": 1, "name": "non-compliant minor"})
        ]
    );
    assert_eq!(
        pa_tnc::PaAssessmentResult(1).to_string(),
        pb_tnc::PbAssessmentResult(1).to_string()
    );
}
