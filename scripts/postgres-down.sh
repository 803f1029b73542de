#!/usr/bin/env bash
# postgres-down.sh — stop the cluster postgres-up.sh started and remove its folder.
# Env: NEA_TEST_POSTGRES_PORT (default 55432).
set -euo pipefail
PORT="${NEA_TEST_POSTGRES_PORT:-55432}"
STATE="/tmp/nea-postgres-$PORT"
[ -d "$STATE" ] || exit 0
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r | head -1)
if [ -n "$BIN" ] && [ -d "$STATE/data" ]; then
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$BIN/pg_ctl" -D "$STATE/data" -m fast -w stop >/dev/null 2>&1 || true
  else
    "$BIN/pg_ctl" -D "$STATE/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
fi
rm -rf "$STATE"
echo "postgres-down: stopped and removed $STATE" >&2
