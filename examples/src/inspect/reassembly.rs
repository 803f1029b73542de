//! IF-M segmentation across a conversation: the Segmentation Envelopes found in the PB-PA
//! messages of one or more PT-TLS streams (several capture files of one session, in the order
//! given) are reassembled (`pa_tnc::segmentation::Reassembler`) and each complete base
//! attribute is decoded by the PA-TNC view — e.g. the whole SWIMA inventory that travelled
//! in six segments.

use std::collections::HashMap;

use bytes::Bytes;
use nea_wire::{PaType, Reader, VendorId};
use pa_tnc::segmentation::{Reassembler, Reassembly, SegmentationEnvelope};
use pa_tnc::{Limits, PaAttribute, PaTncMessage, TcgAttributeType};
use pb_tnc::{Batch, Message as PbMessage, Side};
use pt_tls::Body;
use pt_tls::wire::{HEADER_LEN, MessageHeader};
use serde_json::{Value, json};

/// One exchange in progress: who sends it, and where its segments came from.
struct Exchange {
    reassembler: Reassembler,
    from: HashMap<u32, Vec<Value>>,
}

/// The PT-TLS messages of `stream` that decode (the walk stops at the first damage, which
/// the stream view reports), as (offset, message identifier, PB-TNC batch value).
fn batches(stream: &Bytes) -> Vec<(usize, u32, Bytes)> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while let Some(rest) = stream.get(pos..).filter(|r| !r.is_empty()) {
        let rest = stream.slice(pos..pos + rest.len());
        let Ok(h) = MessageHeader::read(&mut Reader::new(rest.clone(), pos)) else {
            break;
        };
        let len = usize::try_from(h.length).unwrap_or(usize::MAX);
        if len < HEADER_LEN || len > rest.len() {
            break;
        }
        if let Ok(m) = pt_tls::Message::decode_at(rest.slice(..len), pos)
            && let Body::PbTncBatch(b) = m.body
        {
            out.push((pos, h.identifier, b));
        }
        pos += len;
    }
    out
}

/// Reassembles the segmented attributes of the PT-TLS streams `files` (label, bytes), one
/// conversation in the order given. Each complete attribute becomes
/// `{"sender", "pa_type", "base_message_id", "segments": [{"file", "offset", "message_identifier", "segment_length"}], "attribute": …}`;
/// exchanges still open at the end are listed with `"incomplete": true`.
pub fn reassemble(files: &[(String, Bytes)]) -> Vec<Value> {
    let mut exchanges: HashMap<(bool, PaType), Exchange> = HashMap::new();
    let mut done = Vec::new();
    for (label, stream) in files {
        for (offset, identifier, batch) in batches(stream) {
            let Ok(batch) = Batch::decode_at(batch, offset + HEADER_LEN) else {
                continue;
            };
            let from_server = batch.sender() == Side::Server;
            for m in batch.messages() {
                let PbMessage::Pa(pa) = m else { continue };
                let Ok(msg) = PaTncMessage::decode_with(pa.body.clone(), 0, &Limits::default())
                else {
                    continue;
                };
                for a in &msg.attributes {
                    if a.vendor != VendorId::TCG
                        || a.kind != TcgAttributeType::SEGMENTATION_ENVELOPE.0
                    {
                        continue;
                    }
                    let Ok(env) = SegmentationEnvelope::from_attribute(a) else {
                        continue;
                    };
                    let pa_type = pa.pa_type();
                    let ex = exchanges
                        .entry((from_server, pa_type))
                        .or_insert_with(|| Exchange {
                            reassembler: Reassembler::new(&Limits::default()),
                            from: HashMap::new(),
                        });
                    let id = env.base_message_id;
                    if env.start() {
                        ex.from.remove(&id);
                    }
                    ex.from.entry(id).or_default().push(json!({
                        "file": label,
                        "offset": offset,
                        "message_identifier": identifier,
                        "segment_length": env.segment.len(),
                    }));
                    let head = json!({
                        "sender": if from_server { "server" } else { "client" },
                        "pa_type": pa_type.to_string(),
                        "base_message_id": id,
                    });
                    let out = match ex.reassembler.handle(&env) {
                        Ok(Reassembly::NeedMore(_)) => continue,
                        Ok(Reassembly::Complete(attr)) => json!({
                            "attribute": super::pa_tnc::attribute_to_json(&attr)
                                .unwrap_or_else(|e| super::error_json(&e)),
                        }),
                        Err(e) => json!({ "reassembly_error": e.to_string() }),
                    };
                    let mut o = head;
                    if let (Value::Object(o), Value::Object(x)) = (&mut o, out) {
                        let segments = ex.from.remove(&id).unwrap_or_default();
                        o.insert("segments".into(), Value::from(segments));
                        o.extend(x);
                    }
                    done.push(o);
                }
            }
        }
    }
    for ((from_server, pa_type), ex) in exchanges {
        for (id, segments) in ex.from {
            done.push(json!({
                "sender": if from_server { "server" } else { "client" },
                "pa_type": pa_type.to_string(),
                "base_message_id": id,
                "segments": segments,
                "incomplete": true,
            }));
        }
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(name: &str) -> Vec<(String, Bytes)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../pt-tls/tests/data")
            .join(name);
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(".pttls.bin"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (name, Bytes::from(std::fs::read(p).unwrap()))
            })
            .collect()
    }

    #[test]
    fn the_segmented_inventory_is_reassembled_across_files() {
        let files = scenario("03-swima-sw-inventory-segmented");
        assert!(files.len() > 6);
        let r = reassemble(&files);
        assert_eq!(r.len(), 1, "{r:#?}");
        let r = &r[0];
        assert_eq!(r["sender"], "client");
        assert_eq!(r["pa_type"], "IETF/SWIMA Attributes");
        assert_eq!(r["base_message_id"], 1);
        assert_eq!(r["segments"].as_array().unwrap().len(), 6);
        let a = &r["attribute"];
        assert_eq!(a["attribute_type_name"], "Software Inventory");
        // 390,774 bytes of attribute, as the capture README says
        assert_eq!(a["attribute_length"], 390_774);
        assert_eq!(a["value"]["record_count"], 743);
        // the whole record, not a preview
        let rec = a["value"]["records"][0]["record"].as_str().unwrap();
        assert_eq!(rec.len() as u64, a["value"]["records"][0]["record_length"]);
        assert!(rec.ends_with("</SoftwareIdentity>"), "{rec}");
    }

    #[test]
    fn a_missing_segment_leaves_the_exchange_incomplete() {
        let mut files = scenario("03-swima-sw-inventory-segmented");
        // drop the file holding the last segment
        let last = files
            .iter()
            .rposition(|(_, b)| {
                reassemble(&[("x".into(), b.clone())])
                    .iter()
                    .any(|v| v["segments"].as_array().is_some_and(|s| !s.is_empty()))
            })
            .unwrap();
        files.remove(last);
        let r = reassemble(&files);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0]["incomplete"], true);
        assert!(r[0].get("attribute").is_none());
    }
}
