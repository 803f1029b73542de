//! The connection details `scripts/netconfd-up.sh` wrote (`$NETCONF_ENV_FILE`, default
//! `/tmp/nea-netconfd-8830/env`); a test using them fails when the file is missing.

use std::collections::HashMap;

/// The `KEY=VALUE` lines of the env file.
pub(crate) fn env() -> HashMap<String, String> {
    let path = std::env::var("NETCONF_ENV_FILE")
        .unwrap_or_else(|_| "/tmp/nea-netconfd-8830/env".to_owned());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("NETCONF test server env file {path} unreadable ({e}): run scripts/netconfd-up.sh")
    });
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}
