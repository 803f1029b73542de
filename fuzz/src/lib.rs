//! Fuzz target bodies, one `pub fn` per target; the files in `fuzz_targets/` call them.
//! A `#[test]` in each module replays the committed seeds in `corpus/<target>/`, so stable
//! `cargo test --workspace` covers the fuzz code (see [`replay`]).

pub mod brokers;
pub mod coswid;
pub mod netconf;
pub mod pa_tnc;
pub mod pb_tnc;
pub mod pt_tls;
pub mod swima;

/// Runs `f` on every file of `corpus/<target>/` and returns how many seeds ran.
///
/// # Panics
/// If the corpus folder is missing or unreadable: a target without seeds is a defect.
#[allow(clippy::expect_used)]
pub fn replay(target: &str, f: fn(&[u8])) -> usize {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut n = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus folder exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_file() {
            f(&std::fs::read(&p).expect("seed is readable"));
            n += 1;
        }
    }
    n
}
