//! Fuzz target `coswid_cbor`: see `nea_fuzz::coswid::coswid_cbor`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nea_fuzz::coswid::coswid_cbor(data));
