//! Fuzz target `pa_tnc_message`: see `nea_fuzz::pa_tnc::pa_tnc_message`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nea_fuzz::pa_tnc::pa_tnc_message(data));
