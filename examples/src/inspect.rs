//! The layers of `tnc-inspect`: each turns one unit of bytes into a JSON value whose field
//! names are the RFC field names in snake_case; nested payloads are decoded by the next layer.
//! Every function takes the absolute offset of its input's first byte so errors name the byte
//! of the file the user gave.

use bytes::Bytes;
use nea_wire::DecodeError;
use serde_json::Value;

pub mod pa_tnc;
pub mod pb_tnc;
pub mod pt_tls;
pub mod reassembly;
pub mod swima;

/// Strings longer than this many characters are shortened in the text view (never in JSON).
pub const TEXT_PREVIEW: usize = 160;

/// A decode error nested in a view (a PB-TNC batch inside a PT-TLS message, …) as JSON:
/// `{"decode_error": {"message": "…", "offset": n}}`; [`decode_errors`] finds them again.
pub fn error_json(e: &DecodeError) -> Value {
    serde_json::json!({ "decode_error": { "message": e.to_string(), "offset": e.offset } })
}

/// Every `decode_error` in `v`, in document order, as (message, offset).
pub fn decode_errors(v: &Value) -> Vec<(String, u64)> {
    fn walk(v: &Value, out: &mut Vec<(String, u64)>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if k == "decode_error" {
                        let msg = x["message"].as_str().unwrap_or_default().to_owned();
                        out.push((msg, x["offset"].as_u64().unwrap_or_default()));
                    } else {
                        walk(x, out);
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut out);
    out
}

/// `n` with its unit, singular for one: `1 byte`, `2 bytes`.
pub fn count(n: usize, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// One whole PA-TNC attribute (12-byte header and value), decoded as `pa_tnc` shows it
/// (SWIMA attributes with their fields).
pub fn swima_attribute_to_json(input: Bytes, base: usize) -> Result<Value, DecodeError> {
    let a = ::pa_tnc::Attribute::decode(input, base)?;
    pa_tnc::attribute_to_json(&a)
}

/// A registry value as JSON: `{"number": n, "name": "…"}`, the name only when known.
pub fn named(number: u64, name: Option<&str>) -> Value {
    match name {
        Some(n) => serde_json::json!({"number": number, "name": n}),
        None => serde_json::json!({ "number": number }),
    }
}

/// A vendor ID (SMI Private Enterprise Number) as JSON: the number plus its separate name.
pub fn vendor(v: nea_wire::VendorId) -> Value {
    named(u64::from(v.get()), v.name())
}

/// Renders a JSON value as indented `name: value` lines. Strings longer than
/// [`TEXT_PREVIEW`] characters are cut there and say so (`--json` shows them whole).
pub fn to_text(v: &Value) -> String {
    let mut out = String::new();
    write_text(&mut out, v, 0, None);
    while out.ends_with('\n') {
        out.pop();
    }
    out
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::Null => Some("-".into()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(match s.char_indices().nth(TEXT_PREVIEW) {
            Some((cut, _)) => format!(
                "{}… [shortened: {} in all, --json shows everything]",
                s.get(..cut).unwrap_or_default(),
                count(s.len(), "byte")
            ),
            None => s.clone(),
        }),
        // a `named` value reads as "1 (enabled)"
        Value::Object(m) if m.keys().all(|k| k == "number" || k == "name") => {
            match (m.get("number"), m.get("name")) {
                (Some(n), Some(Value::String(name))) => Some(format!("{n} ({name})")),
                (Some(n), None) => Some(n.to_string()),
                _ => None,
            }
        }
        _ => None,
    }
}

fn write_text(out: &mut String, v: &Value, indent: usize, key: Option<&str>) {
    let pad = "  ".repeat(indent);
    match (v, scalar(v)) {
        (_, Some(s)) => match key {
            Some(k) => out.push_str(&format!("{pad}{k}: {s}\n")),
            None => out.push_str(&format!("{pad}{s}\n")),
        },
        (Value::Array(items), None) => {
            if let Some(k) = key {
                out.push_str(&format!("{pad}{k}: [{}]\n", items.len()));
            }
            for (i, item) in items.iter().enumerate() {
                write_text(out, item, indent + 1, Some(&format!("[{i}]")));
            }
        }
        (Value::Object(map), None) => {
            let inner = match key {
                Some(k) => {
                    out.push_str(&format!("{pad}{k}:\n"));
                    indent + 1
                }
                None => indent,
            };
            for (k, item) in map {
                write_text(out, item, inner, Some(k));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_rendering() {
        let v = json!({"a": 1, "b": {"c": "x"}, "d": [true, {"e": null}]});
        assert_eq!(
            to_text(&v),
            "a: 1\nb:\n  c: x\nd: [2]\n  [0]: true\n  [1]:\n    e: -"
        );
        let v = json!({"v": vendor(nea_wire::VendorId::ITA), "w": named(7, None)});
        assert_eq!(to_text(&v), "v: 36906 (ITA)\nw: 7");
        let long = "x".repeat(TEXT_PREVIEW + 1);
        assert_eq!(
            to_text(&json!({ "r": long })),
            format!(
                "r: {}… [shortened: 161 bytes in all, --json shows everything]",
                "x".repeat(TEXT_PREVIEW)
            )
        );
        assert_eq!(count(1, "byte"), "1 byte");
        assert_eq!(count(0, "byte"), "0 bytes");
    }
}
