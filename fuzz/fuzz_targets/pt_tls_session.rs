//! Fuzz target `pt_tls_session`: see `nea_fuzz::pt_tls::pt_tls_session`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nea_fuzz::pt_tls::pt_tls_session(data));
