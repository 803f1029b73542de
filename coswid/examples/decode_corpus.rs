//! Decodes every tag of a folder N times, for profiling (`valgrind --tool=callgrind`) and a
//! quick tags/s reading; the criterion figures come from `benches/benches/coswid.rs`.
//!
//! ```text
//! cargo run -p coswid --release --example decode_corpus -- xml|cbor DIR [ROUNDS]
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::Instant;

use coswid::ConciseSwidTag;
use coswid::swid::SoftwareIdentity;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (kind, dir) = (args[1].as_str(), &args[2]);
    let rounds: usize = args.get(3).map_or(10, |r| r.parse().unwrap());
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    let files: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let start = Instant::now();
    let mut ok = 0usize;
    for _ in 0..rounds {
        for f in &files {
            ok += match kind {
                "xml" => usize::from(std::hint::black_box(SoftwareIdentity::parse(f)).is_ok()),
                _ => usize::from(std::hint::black_box(ConciseSwidTag::decode_lenient(f)).is_ok()),
            };
        }
    }
    let s = start.elapsed().as_secs_f64();
    let n = files.len() * rounds;
    println!(
        "{kind}: {ok}/{n} decoded in {s:.3} s = {:.0} tags/s",
        n as f64 / s
    );
}
