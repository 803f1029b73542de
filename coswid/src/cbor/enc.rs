//! Minimal infallible CBOR writer (shortest-form heads, definite lengths).

pub(crate) fn head(out: &mut Vec<u8>, major: u8, v: u64) {
    let m = major << 5;
    if let Ok(small) = u8::try_from(v) {
        if small < 24 {
            out.push(m | small);
        } else {
            out.extend_from_slice(&[m | 24, small]);
        }
    } else if let Ok(v) = u16::try_from(v) {
        out.push(m | 25);
        out.extend_from_slice(&v.to_be_bytes());
    } else if let Ok(v) = u32::try_from(v) {
        out.push(m | 26);
        out.extend_from_slice(&v.to_be_bytes());
    } else {
        out.push(m | 27);
        out.extend_from_slice(&v.to_be_bytes());
    }
}

pub(crate) fn uint(out: &mut Vec<u8>, v: u64) {
    head(out, 0, v);
}

pub(crate) fn int(out: &mut Vec<u8>, v: i64) {
    match u64::try_from(v) {
        Ok(u) => head(out, 0, u),
        // -1 - v, computed without overflow: !v for negative v
        Err(_) => head(out, 1, u64::try_from(!v).unwrap_or(u64::MAX)),
    }
}

pub(crate) fn bytes(out: &mut Vec<u8>, b: &[u8]) {
    head(out, 2, b.len() as u64);
    out.extend_from_slice(b);
}

pub(crate) fn text(out: &mut Vec<u8>, s: &str) {
    head(out, 3, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

pub(crate) fn array(out: &mut Vec<u8>, n: usize) {
    head(out, 4, n as u64);
}

pub(crate) fn map(out: &mut Vec<u8>, n: usize) {
    head(out, 5, n as u64);
}

pub(crate) fn tag(out: &mut Vec<u8>, t: u64) {
    head(out, 6, t);
}

pub(crate) fn bool(out: &mut Vec<u8>, b: bool) {
    out.push(if b { 0xf5 } else { 0xf4 });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortest_heads() {
        let mut o = Vec::new();
        int(&mut o, 23);
        int(&mut o, 24);
        int(&mut o, -1);
        int(&mut o, -25);
        int(&mut o, i64::MIN);
        uint(&mut o, 65536);
        assert_eq!(
            o,
            [
                0x17, 0x18, 0x18, 0x20, 0x38, 0x18, 0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                0xff, 0x1a, 0, 1, 0, 0
            ]
        );
    }
}
