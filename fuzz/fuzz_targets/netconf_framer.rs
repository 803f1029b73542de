//! Fuzz target `netconf_framer`: see `nea_fuzz::netconf::netconf_framer`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nea_fuzz::netconf::netconf_framer(data));
