#!/usr/bin/env bash
# postgres-up.sh — start a throwaway PostgreSQL cluster on loopback for the posture-repository
# tests (issue 13: the repository suite runs against SQLite and a real PostgreSQL).
#
# Usage:   postgres-up.sh            Env: NEA_TEST_POSTGRES_PORT (default 55432)
# Server:  Debian's `postgresql` (installed with apt when missing, as root), a new cluster
#          (initdb) in /tmp/nea-postgres-$PORT/ listening on 127.0.0.1:$PORT only (and a Unix
#          socket in that folder), run as the `postgres` account when started as root
#          (PostgreSQL refuses to run as root), as the calling user otherwise.
# Accounts: role and database `nea_test`, password `nea-test-pw` (scram-sha-256 over TCP);
#          role `nea_tls` (same password) admitted over TLS only.
# TLS:     a throwaway CA and server certificate (openssl; SAN localhost and 127.0.0.1) in the
#          folder; the server accepts TLS (ssl=on) and requires it of `nea_tls`.
# Output:  the URL for NEA_TEST_POSTGRES_URL on stdout, also in /tmp/nea-postgres-$PORT/url;
#          the TLS URL (with sslrootcert) for NEA_TEST_POSTGRES_TLS_URL in .../tls-url.
# Idempotent: a cluster of this script already running there is left alone ("already up").
# Stop and remove with postgres-down.sh.
set -euo pipefail

PORT="${NEA_TEST_POSTGRES_PORT:-55432}"
STATE="/tmp/nea-postgres-$PORT"
URL="postgres://nea_test:nea-test-pw@127.0.0.1:$PORT/nea_test"

die() { echo "postgres-up: $*" >&2; exit 1; }
log() { echo "postgres-up: $*" >&2; }
[[ "$PORT" =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1024 ] && [ "$PORT" -le 65535 ] || die "bad port $PORT"

pg_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

if ! BIN=$(pg_bin); then
  [ "$(id -u)" = 0 ] || die "PostgreSQL is not installed and installing it needs root (apt-get install postgresql)"
  log "installing postgresql (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq postgresql >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null && apt-get install -y -qq postgresql >/dev/null; } ||
    die "apt-get install postgresql failed"
  BIN=$(pg_bin) || die "no initdb after installing postgresql"
  # The package starts Debian's default cluster (port 5432); the tests do not use it.
  if command -v pg_lsclusters >/dev/null; then
    pg_lsclusters -h 2>/dev/null | awk '$4 == "online" {print $1, $2}' | while read -r v c; do
      pg_ctlcluster "$v" "$c" stop >/dev/null 2>&1 && log "stopped the package's cluster $v/$c" || true
    done
  fi
fi

# Run PostgreSQL tools as `postgres` when root, as ourselves otherwise.
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || die "no postgres account (the postgresql package creates it)"
  as_pg() { runuser -u postgres -- "$@"; }
  OWNER=postgres
else
  as_pg() { "$@"; }
  OWNER=$(id -un)
fi

if [ -s "$STATE/url" ] && [ -s "$STATE/tls-url" ] && as_pg "$BIN/pg_ctl" -D "$STATE/data" status >/dev/null 2>&1; then
  log "already up on 127.0.0.1:$PORT"
  cat "$STATE/url"
  exit 0
fi

rm -rf "$STATE"
mkdir -p "$STATE"
chown "$OWNER" "$STATE"
chmod 700 "$STATE"
pwfile="$STATE/superuser-pw"
as_pg sh -c "umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > '$pwfile'"
as_pg "$BIN/initdb" -D "$STATE/data" -U postgres --pwfile="$pwfile" -E UTF8 --locale=C \
  --auth-local=trust --auth-host=scram-sha-256 >"$STATE/initdb.log" 2>&1 ||
  { cat "$STATE/initdb.log" >&2; die "initdb failed"; }
# TLS material: a CA and a server certificate it signs, valid two days.
command -v openssl >/dev/null || die "openssl is needed for the TLS test certificates (apt-get install openssl)"
tls="$STATE/tls"
mkdir -p "$tls"
(
  cd "$tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
    -out ca.pem -subj /CN=nea-test-postgres-ca -days 2 -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key \
    -out server.csr -subj /CN=localhost
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile ext -out server.crt
) >"$STATE/openssl.log" 2>&1 || { cat "$STATE/openssl.log" >&2; die "making the TLS certificates failed"; }
chown -R "$OWNER" "$tls"
chmod 600 "$tls/server.key" "$tls/ca.key"
chmod 644 "$tls/ca.pem"
# nea_tls: TLS only. The first matching line wins, so these go before initdb's.
hba="$STATE/data/pg_hba.conf"
{ printf 'hostssl all nea_tls 127.0.0.1/32 scram-sha-256\nhost all nea_tls 127.0.0.1/32 reject\n'
  cat "$hba"; } > "$hba.new"
mv "$hba.new" "$hba"
chown "$OWNER" "$hba"
as_pg "$BIN/pg_ctl" -D "$STATE/data" -l "$STATE/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories=$STATE -c fsync=off -c max_connections=200 -c ssl=on -c ssl_cert_file=$tls/server.crt -c ssl_key_file=$tls/server.key" \
  start >/dev/null || { cat "$STATE/server.log" >&2; die "pg_ctl start failed"; }
as_pg "$BIN/psql" -q -v ON_ERROR_STOP=1 -h "$STATE" -p "$PORT" -U postgres -d postgres <<SQL >/dev/null
CREATE ROLE nea_test LOGIN PASSWORD 'nea-test-pw';
CREATE ROLE nea_tls LOGIN PASSWORD 'nea-test-pw';
CREATE DATABASE nea_test OWNER nea_test;
SQL
echo "$URL" > "$STATE/url"
echo "postgres://nea_tls:nea-test-pw@127.0.0.1:$PORT/nea_test?sslrootcert=$tls/ca.pem" > "$STATE/tls-url"
log "PostgreSQL $("$BIN/pg_ctl" --version | awk '{print $3}') up on 127.0.0.1:$PORT (data in $STATE)"
echo "$URL"
