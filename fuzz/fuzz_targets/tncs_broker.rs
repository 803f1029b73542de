//! Fuzz target `tncs_broker`: see `nea_fuzz::brokers::tncs_broker`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nea_fuzz::brokers::tncs_broker(data));
