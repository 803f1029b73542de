//! Fuzz target `swid_xml`: see `nea_fuzz::coswid::swid_xml`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nea_fuzz::coswid::swid_xml(data));
