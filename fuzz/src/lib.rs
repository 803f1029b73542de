//! Fuzz target bodies, one `pub fn` per target; the files in `fuzz_targets/` call them.
//! A `#[test]` in each module replays the committed seeds in `corpus/<target>/`.
