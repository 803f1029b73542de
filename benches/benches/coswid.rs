//! CoSWID / SWID XML benchmarks over the shared corpus copied into `coswid/tests/data`
//! (`coswid/<op>/<case>`): CBOR decode (borrowing, lenient because the corpus writes reg-id
//! untagged) and encode of the 728 dpkg-full and 732 dpkg-min tags, SWID XML parse of the
//! 728 dpkg-full and 732 dpkg-min tags, XML -> CoSWID conversion.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use coswid::ConciseSwidTag;
use coswid::swid::SoftwareIdentity;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn dir(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../coswid/tests/data")
        .join(rel)
}

fn load(rel: &str) -> Vec<Vec<u8>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir(rel))
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    paths.sort();
    paths.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

fn cbor(c: &mut Criterion, case: &str, files: &[Vec<u8>]) {
    let mut g = c.benchmark_group("coswid");
    // tags/s: the unit the manager's ingest needs (bytes/s in the README for reference)
    g.throughput(Throughput::Elements(files.len() as u64));
    g.bench_function(format!("decode/{case}"), |b| {
        b.iter(|| {
            for f in files {
                let _ = black_box(ConciseSwidTag::decode_lenient(black_box(f)));
            }
        })
    });
    let tags: Vec<ConciseSwidTag<'_>> = files
        .iter()
        .filter_map(|f| ConciseSwidTag::decode_lenient(f).ok().map(|d| d.tag))
        .collect();
    let mut out = Vec::with_capacity(1 << 20);
    g.bench_function(format!("encode/{case}"), |b| {
        b.iter(|| {
            for t in &tags {
                out.clear();
                black_box(t).encode(&mut out);
            }
        })
    });
    g.finish();
}

fn xml(c: &mut Criterion, case: &str, files: &[Vec<u8>]) {
    let mut g = c.benchmark_group("coswid");
    g.throughput(Throughput::Elements(files.len() as u64));
    g.bench_function(format!("xml_decode/{case}"), |b| {
        b.iter(|| {
            for f in files {
                let _ = black_box(SoftwareIdentity::parse(black_box(f)));
            }
        })
    });
    let docs: Vec<SoftwareIdentity<'_>> = files
        .iter()
        .filter_map(|f| SoftwareIdentity::parse(f).ok())
        .collect();
    g.bench_function(format!("xml_encode/{case}"), |b| {
        b.iter(|| {
            for d in &docs {
                black_box(black_box(d).to_xml());
            }
        })
    });
    g.bench_function(format!("xml_to_coswid/{case}"), |b| {
        b.iter(|| {
            for d in &docs {
                let _ = black_box(black_box(d).to_coswid());
            }
        })
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    cbor(c, "dpkg_full", &load("coswid/dpkg-full"));
    cbor(c, "dpkg_min", &load("coswid/dpkg-min"));
    xml(c, "dpkg_full", &load("swid-xml/dpkg-full"));
    xml(c, "dpkg_min", &load("swid-xml/dpkg-min"));
}

criterion_group!(benches, bench);
criterion_main!(benches);
