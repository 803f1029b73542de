//! RFC 8949 §4.2.1 core deterministic re-encoding of any CBOR item: definite lengths,
//! shortest heads, map keys sorted by their encoded bytes. Floats are copied as written.

use minicbor::Decoder;
use minicbor::data::Type;

use super::decode::MAX_DEPTH;
use super::enc;
use crate::error::{DecodeError, DecodeErrorKind};

fn err(kind: DecodeErrorKind, offset: usize) -> DecodeError {
    DecodeError {
        kind,
        field: "cbor",
        offset,
    }
}

fn cb(e: &minicbor::decode::Error, d: &Decoder<'_>) -> DecodeError {
    err(
        if e.is_end_of_input() {
            DecodeErrorKind::EndOfInput
        } else {
            DecodeErrorKind::Malformed
        },
        e.position().unwrap_or(d.position()),
    )
}

/// Re-encode one complete item deterministically.
pub(crate) fn canonicalize(input: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let mut d = Decoder::new(input);
    let mut out = Vec::with_capacity(input.len());
    item(&mut d, &mut out, 0)?;
    if d.position() != input.len() {
        return Err(err(DecodeErrorKind::TrailingBytes, d.position()));
    }
    Ok(out)
}

fn is_break(d: &Decoder<'_>) -> Result<bool, DecodeError> {
    Ok(d.datatype().map_err(|e| cb(&e, d))? == Type::Break)
}

fn item(d: &mut Decoder<'_>, out: &mut Vec<u8>, depth: u32) -> Result<(), DecodeError> {
    if depth > MAX_DEPTH {
        return Err(err(DecodeErrorKind::TooDeep, d.position()));
    }
    let start = d.position();
    match d.datatype().map_err(|e| cb(&e, d))? {
        Type::U8 | Type::U16 | Type::U32 | Type::U64 => {
            enc::uint(out, d.u64().map_err(|e| cb(&e, d))?)
        }
        Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::Int => {
            let i = i128::from(d.int().map_err(|e| cb(&e, d))?);
            match u64::try_from(i) {
                Ok(u) => enc::head(out, 0, u),
                Err(_) => enc::head(
                    out,
                    1,
                    u64::try_from(-1 - i).map_err(|_| err(DecodeErrorKind::Malformed, start))?,
                ),
            }
        }
        Type::Bytes | Type::BytesIndef => {
            let mut v = Vec::new();
            let p = d.position();
            for c in d
                .bytes_iter()
                .map_err(|e| err(DecodeErrorKind::Malformed, e.position().unwrap_or(p)))?
            {
                v.extend_from_slice(
                    c.map_err(|e| err(DecodeErrorKind::Malformed, e.position().unwrap_or(start)))?,
                );
            }
            enc::bytes(out, &v);
        }
        Type::String | Type::StringIndef => {
            let mut v = String::new();
            let p = d.position();
            for c in d
                .str_iter()
                .map_err(|e| err(DecodeErrorKind::Malformed, e.position().unwrap_or(p)))?
            {
                v.push_str(
                    c.map_err(|e| err(DecodeErrorKind::Malformed, e.position().unwrap_or(start)))?,
                );
            }
            enc::text(out, &v);
        }
        Type::Array | Type::ArrayIndef => {
            let len = d.array().map_err(|e| cb(&e, d))?;
            let mut body = Vec::new();
            let mut count = 0usize;
            loop {
                match len {
                    Some(n) if count as u64 >= n => break,
                    None if is_break(d)? => {
                        d.set_position(d.position().saturating_add(1));
                        break;
                    }
                    _ => {}
                }
                item(d, &mut body, depth.saturating_add(1))?;
                count = count.saturating_add(1);
            }
            enc::array(out, count);
            out.extend_from_slice(&body);
        }
        Type::Map | Type::MapIndef => {
            let len = d.map().map_err(|e| cb(&e, d))?;
            let mut entries: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
            loop {
                match len {
                    Some(n) if entries.len() as u64 >= n => break,
                    None if is_break(d)? => {
                        d.set_position(d.position().saturating_add(1));
                        break;
                    }
                    _ => {}
                }
                let mut k = Vec::new();
                item(d, &mut k, depth.saturating_add(1))?;
                let mut v = Vec::new();
                item(d, &mut v, depth.saturating_add(1))?;
                entries.push((k, v));
            }
            entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            enc::map(out, entries.len());
            for (k, v) in entries {
                out.extend_from_slice(&k);
                out.extend_from_slice(&v);
            }
        }
        Type::Tag => {
            let t = d.tag().map_err(|e| cb(&e, d))?;
            enc::tag(out, t.as_u64());
            item(d, out, depth.saturating_add(1))?;
        }
        Type::Break | Type::Unknown(_) => return Err(err(DecodeErrorKind::Malformed, start)),
        _ => {
            // simple values and floats: copied as written
            d.skip().map_err(|e| cb(&e, d))?;
            out.extend_from_slice(d.input().get(start..d.position()).unwrap_or_default());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_and_shortens() {
        // {_ "b": 1, 0x18 0x01 (non-shortest 1): [_ 1]}
        let input = [0xbf, 0x61, 0x62, 0x01, 0x18, 0x01, 0x9f, 0x01, 0xff, 0xff];
        assert_eq!(
            canonicalize(&input).unwrap(),
            [0xa2, 0x01, 0x81, 0x01, 0x61, 0x62, 0x01]
        );
    }
}
