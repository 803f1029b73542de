//! Decode (and encode) a directory of CoSWID or SWID XML files `N` times: a deterministic
//! workload for instruction counting, e.g.
//! `valgrind --tool=callgrind target/release/examples/corpus cbor tests/data/coswid/dpkg-full 1`.

use coswid::ConciseSwidTag;
use coswid::swid::SoftwareIdentity;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(kind), Some(dir)) = (args.get(1), args.get(2)) else {
        return Err("usage: corpus cbor|xml|encode DIR [N]".into());
    };
    let n: usize = args.get(3).map_or(Ok(1), |s| s.parse())?;
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir)? {
        files.push(std::fs::read(e?.path())?);
    }
    let mut ok = 0usize;
    let mut out = Vec::with_capacity(1 << 20);
    for _ in 0..n {
        for f in &files {
            match kind.as_str() {
                "cbor" => ok += usize::from(ConciseSwidTag::decode_lenient(f).is_ok()),
                "encode" => {
                    if let Ok(d) = ConciseSwidTag::decode_lenient(f) {
                        for _ in 0..10 {
                            out.clear();
                            d.tag.encode(&mut out);
                        }
                        ok += 1;
                    }
                }
                _ => ok += usize::from(SoftwareIdentity::parse(f).is_ok()),
            }
        }
    }
    println!("{ok} of {} decoded", files.len().saturating_mul(n));
    Ok(())
}
