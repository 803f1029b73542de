#!/usr/bin/env bash
# The whole test suite: unit, integration and doc tests of every crate, the fuzz seed replays,
# and one pass of every criterion bench (as a test, no timing).
# Never add --all-targets here: the libFuzzer binaries would run as tests and fuzz forever.
set -euo pipefail
cd "$(dirname "$0")/.."
# netconf-client integration tests need the real NETCONF server (idempotent: no-op when it is up).
scripts/netconfd-up.sh >/dev/null ||
  echo "test.sh: scripts/netconfd-up.sh failed; the netconf-client server tests will fail" >&2
cargo test --workspace --locked
cargo test --workspace --locked --benches
