//! Fuzz target `pb_tnc_batch`: see `nea_fuzz::pb_tnc::pb_tnc_batch`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nea_fuzz::pb_tnc::pb_tnc_batch(data));
