//! Fuzz target `swima_attributes`: see `nea_fuzz::swima::swima_attributes`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nea_fuzz::swima::swima_attributes(data));
