#!/usr/bin/env bash
# The whole test suite: unit, integration and doc tests of every crate, the fuzz seed replays,
# one pass of every criterion bench (as a test, no timing), and the tests against a real
# NETCONF server.
# Never add --all-targets here: the libFuzzer binaries would run as tests and fuzz forever.
#
# The server tests (netconf-client/tests/netconfd.rs, examples/tests/{netconf_get,devices}.rs) are
# #[ignore]d in a plain `cargo test`; this script runs them after starting the server with
# scripts/netconfd-up.sh (as root: apt packages, host accounts `netconfd-interop` and `nctest`,
# netconfd + a private sshd on 127.0.0.1:8830 + a socat TLS listener on 127.0.0.1:6513) and
# stops what it started when it ends, also on failure or Ctrl-C (scripts/netconfd-down.sh).
# A server that was already up is left running.
#
# The posture-repository suite runs on SQLite and, with its `postgres` feature, on a real
# PostgreSQL: scripts/postgres-up.sh starts a throwaway cluster on 127.0.0.1:55432 (Debian
# package `postgresql`, installed as root when missing; run as the `postgres` account; role
# and database `nea_test`; role `nea_tls` admitted over TLS only, with a throwaway CA), the
# PostgreSQL variants (#[ignore]d in a plain `cargo test`) run with NEA_TEST_POSTGRES_URL and
# NEA_TEST_POSTGRES_TLS_URL set, and scripts/postgres-down.sh stops the cluster and removes
# its folder when this script ends, also on failure or Ctrl-C.
#
#   NEA_SKIP_SERVER_TESTS=1 scripts/test.sh   no server, no root needed; the server tests are
#                                             reported as ignored
set -euo pipefail
cd "$(dirname "$0")/.."

started=0
pg_started=0
stop_servers() {
  local rc=$?
  if [ "$started" = 1 ]; then
    echo "test.sh: stopping the NETCONF test server it started" >&2
    scripts/netconfd-down.sh >&2 || echo "test.sh: netconfd-down.sh failed" >&2
  fi
  if [ "$pg_started" = 1 ]; then
    echo "test.sh: stopping and removing the PostgreSQL test cluster it started" >&2
    scripts/postgres-down.sh || echo "test.sh: postgres-down.sh failed" >&2
  fi
  exit "$rc"
}
trap stop_servers EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

server=0
if [ "${NEA_SKIP_SERVER_TESTS:-0}" = 1 ]; then
  echo "test.sh: NEA_SKIP_SERVER_TESTS=1: no NETCONF server; its tests are skipped (ignored)" >&2
else
  # Idempotent: says "already up" (and starts nothing) when the server runs.
  log=$(mktemp)
  if scripts/netconfd-up.sh >/dev/null 2>"$log"; then
    server=1
    grep -q "already up" "$log" || started=1
  else
    # It may have started part of the server before failing: stop that too.
    started=1
    cat "$log" >&2
    echo "test.sh: scripts/netconfd-up.sh failed (set NEA_SKIP_SERVER_TESTS=1 to skip the server tests)" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
fi

pg_url=""
if [ "${NEA_SKIP_SERVER_TESTS:-0}" != 1 ]; then
  log=$(mktemp)
  # Set before starting: a cluster half started by a failing run is stopped too.
  pg_started=1
  if pg_url=$(scripts/postgres-up.sh 2>"$log"); then
    if grep -q "already up" "$log"; then pg_started=0; fi
  else
    cat "$log" >&2
    echo "test.sh: scripts/postgres-up.sh failed (set NEA_SKIP_SERVER_TESTS=1 to skip the server tests)" >&2
    rm -f "$log"
    exit 1
  fi
  cat "$log" >&2
  rm -f "$log"
fi

# The C-ABI tests run their plugins and C host under valgrind when it is there (best effort).
if ! command -v valgrind >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get install -y -qq valgrind >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq valgrind >/dev/null 2>&1; }) ||
    echo "test.sh: valgrind could not be installed; the C-ABI memory checks are skipped" >&2
fi

cargo test --workspace --locked
cargo test --workspace --locked --benches
# The repository suite with the PostgreSQL backend built in; with the server, its PostgreSQL
# variants too.
cargo test --locked -p posture-repository --features postgres
if [ -n "$pg_url" ]; then
  pg_tls_url=$(cat "/tmp/nea-postgres-${NEA_TEST_POSTGRES_PORT:-55432}/tls-url")
  NEA_TEST_POSTGRES_URL="$pg_url" NEA_TEST_POSTGRES_TLS_URL="$pg_tls_url" \
    cargo test --locked -p posture-repository --features postgres -- --ignored
  NEA_TEST_POSTGRES_URL="$pg_url" cargo test --locked -p posture-evaluator --features postgres -- --ignored
  NEA_TEST_POSTGRES_URL="$pg_url" cargo test --locked -p nea-examples --test evaluation -- --ignored
fi
if [ "$server" = 1 ]; then
  cargo test --locked -p netconf-client --test netconfd -- --ignored
  cargo test --locked -p nea-examples --test netconf_get -- --ignored
  cargo test --locked -p nea-examples --test devices -- --ignored
fi
