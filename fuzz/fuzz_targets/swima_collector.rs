//! Fuzz target `swima_collector`: see `nea_fuzz::swima::swima_collector`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nea_fuzz::swima::swima_collector(data));
