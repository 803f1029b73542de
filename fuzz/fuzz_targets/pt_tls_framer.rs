//! Fuzz target `pt_tls_framer`: see `nea_fuzz::pt_tls::pt_tls_framer`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nea_fuzz::pt_tls::pt_tls_framer(data));
