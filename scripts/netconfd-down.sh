#!/usr/bin/env bash
# netconfd-down.sh — stop what netconfd-up.sh started (same PORT / NETCONF_STATE_DIR).
#
# Usage:  netconfd-down.sh [PORT] [--purge]
#   PORT     default 8830 (or NETCONF_PORT); selects /tmp/nea-netconfd-$PORT
#            unless NETCONF_STATE_DIR is set.
#   --purge  also delete the state directory (keys, certificates, datastore, logs).
# Only the processes named in the state directory's pid files are signalled, and only
# after /proc/PID/cmdline confirms each is the one netconfd-up.sh started. Accounts and
# packages are left in place.
set -euo pipefail

PORT="${NETCONF_PORT:-8830}"; PURGE=0
for a in "$@"; do
  case "$a" in
    --purge) PURGE=1 ;;
    ''|*[!0-9]*) echo "usage: $0 [PORT] [--purge]" >&2; exit 2 ;;
    *) PORT="$a" ;;
  esac
done
STATE="${NETCONF_STATE_DIR:-/tmp/nea-netconfd-$PORT}"
log() { echo "netconfd-down: $*" >&2; }
[ -d "$STATE" ] || { log "no state dir $STATE: nothing to stop"; exit 0; }

is_ours() { # is_ours PID PATTERN: live, non-zombie, cmdline contains PATTERN
  local pid=$1 pat=$2 st
  [ -r "/proc/$pid/cmdline" ] || return 1
  st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo Z)
  [ "$st" != Z ] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$pat"
}

stop() { # stop NAME PIDFILE PATTERN
  local name=$1 pf=$2 pat=$3 pid n
  if [ ! -s "$pf" ]; then log "$name: no pid file"; return 0; fi
  pid=$(cat "$pf")
  if ! [[ "$pid" =~ ^[0-9]+$ ]] || ! is_ours "$pid" "$pat"; then
    log "$name: pid ${pid:-?} is not running (or is not ours); removing stale pid file"
    rm -f "$pf"; return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for n in $(seq 50); do is_ours "$pid" "$pat" || break; sleep 0.1; done
  if is_ours "$pid" "$pat"; then
    log "$name: pid $pid ignored SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for n in $(seq 20); do is_ours "$pid" "$pat" || break; sleep 0.1; done
  fi
  rm -f "$pf"
  log "$name: stopped pid $pid"
}

# listeners first, then the server they feed
stop "TLS listener" "$STATE/tls.pid"      "$STATE/tls/server.pem"
stop "sshd"         "$STATE/sshd.pid"     "$STATE/ssh/sshd_config"
stop "netconfd"     "$STATE/netconfd.pid" "--ncxserver-sockname=$STATE/netconfd/ncxserver.sock"
rm -f "$STATE/netconfd/ncxserver.sock"

if [ "$PURGE" = 1 ]; then
  case "$STATE" in /tmp/nea-netconfd-*|"${NETCONF_STATE_DIR:-/nonexistent}") rm -rf -- "$STATE"; log "removed $STATE" ;;
    *) log "not purging unexpected path $STATE" ;; esac
fi
