//! Fuzz target `pb_tnc_session`: see `nea_fuzz::pb_tnc::pb_tnc_session`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nea_fuzz::pb_tnc::pb_tnc_session(data));
