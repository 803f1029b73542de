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

fn pt_tls_scenario(name: &str) -> Vec<PathBuf> {
    files(&root().join("pt-tls/tests/data").join(name), ".pttls.bin")
}

/// Several capture files of one session: the SWIMA inventory sent in six IF-M segments is
/// shown reassembled, with every record in full in `--json`.
#[test]
fn several_files_reassemble_segmented_attributes() {
    let paths = pt_tls_scenario("03-swima-sw-inventory-segmented");
    let mut args = vec!["--layer", "pt-tls", "--json"];
    args.extend(paths.iter().map(|p| p.to_str().unwrap()));
    let out = run(&args, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["files"].as_array().unwrap().len(), paths.len());
    let r = &v["reassembled_attributes"][0];
    assert_eq!(r["segments"].as_array().unwrap().len(), 6);
    let inv = &r["attribute"]["value"];
    assert_eq!(inv["record_count"], 743);
    for rec in inv["records"].as_array().unwrap() {
        assert_eq!(
            rec["record"].as_str().unwrap().len() as u64,
            rec["record_length"].as_u64().unwrap()
        );
    }
    // the text view shortens the records and says so
    let mut args = vec!["--layer", "pt-tls"];
    args.extend(paths.iter().map(|p| p.to_str().unwrap()));
    let text = String::from_utf8(run(&args, None).stdout).unwrap();
    assert!(text.contains("--json shows everything]"), "{text}");
}

/// A truncated capture prints what decoded before the damage, then the error and its offset.
#[test]
fn damaged_capture_prints_what_decoded_then_the_error() {
    let paths = pt_tls_scenario("01-sasl-plain-test-os-isolate");
    let mut stream = std::fs::read(&paths[0]).unwrap();
    let first = stream.len();
    let second = std::fs::read(&paths[1]).unwrap();
    stream.extend_from_slice(&second[..second.len() - 1]);
    let out = run(&["--layer", "pt-tls", "--json", "-"], Some(&stream));
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["messages"].as_array().unwrap().len(), 1);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains(&format!("1 byte available at offset {}", first + 8))
            || err.contains(&format!("at offset {}", first + 8)),
        "{err}"
    );
    // an undamaged one, from stdin through `-`
    let out = run(
        &["--layer", "pt-tls", "-"],
        Some(&std::fs::read(&paths[0]).unwrap()),
    );
    assert_eq!(out.status.code(), Some(0));
}

/// Exit 3 when a CoSWID decodes but fails strict validation, with `validation` structured;
/// 0 when it passes; `--verify-key` checks the COSE signature.
#[test]
fn coswid_validation_status_and_signature() {
    let data = root().join("coswid/tests/data/coswid");
    // swidGenerator writes reg-id as untagged text: a deviation the strict decoder refuses
    let dpkg = &files(&data.join("dpkg-min"), ".cbor")[0];
    let out = run(
        &["--layer", "coswid", "--json", dpkg.to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(3));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["validation"]["ok"], false);
    let p = &v["validation"]["problems"][0];
    assert!(p["kind"].is_string() && p["path"].is_string(), "{p}");
    assert!(p["offset"].is_u64(), "{p}");

    let signed = data.join("rfc9393-cddl-derived/signed/tagged-sign1-es256.cbor");
    let es = data.join("rfc9393-cddl-derived/keys/es256-test-key.pub.pem");
    let ed = data.join("rfc9393-cddl-derived/keys/ed25519-test-key.pub.pem");
    let args = |key: &Path| {
        run(
            &[
                "--layer",
                "coswid",
                "--json",
                "--verify-key",
                key.to_str().unwrap(),
                signed.to_str().unwrap(),
            ],
            None,
        )
    };
    let out = args(&es);
    assert!(out.status.code() == Some(0) || out.status.code() == Some(3));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["signature"], json!({"signed": true, "verified": true}));
    let out = args(&ed);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("signature not verified")
    );
    let tampered = data.join("rfc9393-cddl-derived/signed/invalid-sign1-tampered-payload.cbor");
    let out = run(
        &[
            "--layer",
            "coswid",
            "--verify-key",
            es.to_str().unwrap(),
            tampered.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
}

/// Converting SWID XML to CoSWID says which attributes could not be carried.
#[test]
fn swid_to_coswid_reports_what_it_could_not_carry() {
    let dir = root().join("coswid/tests/data/swid-xml");
    let xml = files(&dir, ".xml")
        .into_iter()
        .find(|p| std::fs::read_to_string(p).unwrap().contains("n8060:"))
        .expect("a tag with NISTIR 8060 attributes");
    let out = run(
        &["--layer", "swid", "--to-coswid", xml.to_str().unwrap()],
        None,
    );
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("not carried to CoSWID: ") && err.contains("n8060:"),
        "{err}"
    );
    let out = run(&["--layer", "swid", "--json", xml.to_str().unwrap()], None);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let dropped = v["not_carried_to_coswid"].as_array().unwrap();
    assert!(
        dropped
            .iter()
            .any(|d| d["what"].as_str().unwrap().contains("@n8060:")),
        "{dropped:?}"
    );
}

/// A PA-TNC message damaged in its second attribute shows the first one, then the error.
#[test]
fn damaged_pa_tnc_message_shows_the_attributes_before_the_damage() {
    // header, a Forwarding Enabled attribute, then an attribute whose Length (at 32) is 11
    let out = run(
        &["--layer", "pa-tnc", "--hex", "--json"],
        Some(b"0100000000000007 000000000000000b00000010 00000001 000000000000000b0000000b"),
    );
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["message_identifier"], 7);
    assert_eq!(v["attributes"].as_array().unwrap().len(), 1);
    assert_eq!(
        v["attributes"][0]["attribute_type_name"],
        "Forwarding Enabled"
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("offset 32"), "{err}");
}
