//! Fuzz target `netconf_reply`: see `nea_fuzz::netconf::netconf_reply`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nea_fuzz::netconf::netconf_reply(data));
