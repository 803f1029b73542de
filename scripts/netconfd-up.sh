#!/usr/bin/env bash
# netconfd-up.sh — start a real NETCONF server on loopback for the netconf-client integration tests.
#
# Server: Debian's yuma123 `netconfd` with `netconfd-module-ietf-system` (RFC 7317),
# reached over SSH (RFC 6242) through a private openssh-server instance whose `netconf`
# subsystem is yuma123's `netconf-subsystem`, plus (optional, default on) a TLS listener
# (RFC 7589 style: mutual X.509, client certificate CN = NETCONF user name) made with socat.
#
# Usage:   netconfd-up.sh [PORT]            (PORT default 8830; or NETCONF_PORT=...)
# Env:     NETCONF_ADDR       127.0.0.1 (default) or ::1 — nothing else is accepted
#          NETCONF_TLS_PORT   6513 (default); 0 disables the TLS listener
#          NETCONF_USER       nctest          NETCONF_PASSWORD  nctest-pw
#          NETCONF_STATE_DIR  /tmp/nea-netconfd-$PORT
#          NETCONF_KEEP_CONFIG=1  keep the datastore a previous run left (default: reseed)
#          NETCONF_TARGET     candidate (default: :candidate, running not writable) or running
#                             (:writable-running, no candidate)
#          NETCONF_NMDA       false (default) or true (adds ietf-netconf-nmda get-data; see quirks)
#          NETCONF_LOG_LEVEL  info (default), debug, debug4 ... (netconfd log)
# Output:  KEY=VALUE connection details on stdout, also written to $STATE_DIR/env
#          (so a test can `. "$STATE_DIR/env"`).
# Idempotent: what is already running (checked by pid file + /proc cmdline) is left alone.
# Stop with netconfd-down.sh (same PORT / NETCONF_STATE_DIR).
#
# Safety: yuma123's ietf-system module runs `hostname X` on a /system/hostname commit,
# `reboot` on <system-restart> and sets the host clock on <set-current-datetime>.
# So netconfd runs as an unprivileged user, with stub `hostname`/`reboot`/`hwclock`
# first in its PATH, and NACM (enforcing, no superuser) denies the three dangerous RPCs.
set -euo pipefail

PORT="${1:-${NETCONF_PORT:-8830}}"
ADDR="${NETCONF_ADDR:-127.0.0.1}"
TLS_PORT="${NETCONF_TLS_PORT:-6513}"
NC_USER="${NETCONF_USER:-nctest}"
NC_PASS="${NETCONF_PASSWORD:-nctest-pw}"
STATE="${NETCONF_STATE_DIR:-/tmp/nea-netconfd-$PORT}"
SVC_USER="netconfd-interop"          # unprivileged account that runs netconfd and socat

die() { echo "netconfd-up: $*" >&2; exit 1; }
log() { echo "netconfd-up: $*" >&2; }

[ "$(id -u)" = 0 ] || die "must run as root (apt, useradd, sshd)"
case "$ADDR" in 127.0.0.1|::1) ;; *) die "NETCONF_ADDR must be 127.0.0.1 or ::1 (loopback only)";; esac
[[ "$PORT" =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1024 ] && [ "$PORT" -le 65535 ] || die "bad PORT $PORT"
[[ "$TLS_PORT" =~ ^[0-9]+$ ]] || die "bad NETCONF_TLS_PORT"
[ "$TLS_PORT" = 0 ] || [ "$TLS_PORT" != "$PORT" ] || die "TLS port equals SSH port"
[[ "$NC_USER" =~ ^[a-z_][a-z0-9_-]{0,30}$ ]] || die "bad NETCONF_USER"
case "$STATE" in /*) ;; *) die "NETCONF_STATE_DIR must be absolute";; esac
case "${NETCONF_TARGET:-candidate}" in candidate|running) ;; *) die "NETCONF_TARGET must be candidate or running";; esac
case "${NETCONF_NMDA:-false}" in true|false) ;; *) die "NETCONF_NMDA must be true or false";; esac

# ---------------------------------------------------------------- fast path
# Already up (env file written, every process ours and alive): print the details, do nothing.
up_alive() { # up_alive PIDFILE PATTERN
  local pid
  [ -s "$1" ] || return 1
  pid=$(cat "$1"); [[ "$pid" =~ ^[0-9]+$ ]] && [ -r "/proc/$pid/cmdline" ] || return 1
  [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo Z)" != Z ] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$2"
}
if [ -s "$STATE/env" ] &&
   up_alive "$STATE/netconfd.pid" "--ncxserver-sockname=$STATE/netconfd/ncxserver.sock" &&
   up_alive "$STATE/sshd.pid" "$STATE/ssh/sshd_config" &&
   { [ "$TLS_PORT" = 0 ] || up_alive "$STATE/tls.pid" "$STATE/tls/server.pem"; } &&
   grep -qx "NETCONF_PORT=$PORT" "$STATE/env"; then
  cat "$STATE/env"
  log "already up"
  exit 0
fi

# ---------------------------------------------------------------- packages
PKGS=(netconfd netconfd-module-ietf-system yangcli openssh-server openssh-client)
[ "$TLS_PORT" = 0 ] || PKGS+=(socat openssl)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing: ${missing[*]}"
  # Never let a package's maintainer script start a system-wide sshd on 0.0.0.0:22.
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; made_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt_ok=0
  for try in 1 2 3; do
    if timeout 600 apt-get -o DPkg::Lock::Timeout=120 update -q >/dev/null &&
       timeout 900 apt-get -o DPkg::Lock::Timeout=120 install -y -q --no-install-recommends "${missing[@]}" >/dev/null; then
      apt_ok=1; break
    fi
    log "apt attempt $try failed (dpkg lock?); retrying in 20s"; sleep 20
  done
  [ "$made_policy" = 0 ] || rm -f /usr/sbin/policy-rc.d
  [ "$apt_ok" = 1 ] || die "apt-get install failed"
fi
SUBSYS=$(dpkg -L netconfd | grep -m1 '/netconf-subsystem$') || die "netconf-subsystem not found"
NETCONFD=$(dpkg -L netconfd | grep -m1 '/sbin/netconfd$') || die "netconfd binary not found"
[ -n "$(dpkg -L netconfd-module-ietf-system | grep -m1 'libietf-system.so')" ] || die "ietf-system module missing"

# ---------------------------------------------------------------- accounts
# netconfd expands "~/.yuma" from the passwd entry (not $HOME), so the account needs a real home.
SVC_HOME=/var/lib/netconfd-interop
if ! id "$SVC_USER" >/dev/null 2>&1; then
  useradd --system --home-dir "$SVC_HOME" --no-create-home --shell /usr/sbin/nologin "$SVC_USER"
fi
[ "$(getent passwd "$SVC_USER" | cut -d: -f6)" = "$SVC_HOME" ] || usermod -d "$SVC_HOME" "$SVC_USER"
install -d -m 750 -o "$SVC_USER" -g "$SVC_USER" "$SVC_HOME"
if ! id "$NC_USER" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/sh "$NC_USER"
fi
echo "$NC_USER:$NC_PASS" | chpasswd
NC_HOME=$(getent passwd "$NC_USER" | cut -d: -f6)

# ---------------------------------------------------------------- state dir
install -d -m 755 "$STATE" "$STATE/bin" "$STATE/ssh" "$STATE/client"
install -d -m 755 -o "$SVC_USER" -g "$SVC_USER" "$STATE/netconfd"   # netconf-subsystem (runs as the SSH user) must reach the socket
SOCK="$STATE/netconfd/ncxserver.sock"

# stubs that stand in for the host commands the ietf-system module shells out to
for c in hostname reboot hwclock; do
  cat > "$STATE/bin/$c" <<EOF
#!/bin/sh
# stub installed by netconfd-up.sh: records the call, never touches the host
echo "\$(date -u +%FT%TZ) $c \$*" >> "$STATE/netconfd/host-commands.log"
exit 0
EOF
  chmod 755 "$STATE/bin/$c"
done

# client key (ed25519) authorised for the test user
[ -f "$STATE/client/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C "$NC_USER@netconfd-interop" -f "$STATE/client/id_ed25519"
install -d -m 700 -o "$NC_USER" -g "$NC_USER" "$NC_HOME/.ssh"
touch "$NC_HOME/.ssh/authorized_keys"
grep -qxF "$(cat "$STATE/client/id_ed25519.pub")" "$NC_HOME/.ssh/authorized_keys" ||
  cat "$STATE/client/id_ed25519.pub" >> "$NC_HOME/.ssh/authorized_keys"
chown "$NC_USER:$NC_USER" "$NC_HOME/.ssh/authorized_keys"; chmod 600 "$NC_HOME/.ssh/authorized_keys"

# host keys + known_hosts
for t in ed25519 rsa; do
  [ -f "$STATE/ssh/ssh_host_${t}_key" ] || ssh-keygen -q -t "$t" -N '' -f "$STATE/ssh/ssh_host_${t}_key"
done
if [ "$ADDR" = "::1" ]; then KH_HOST="[::1]:$PORT"; else KH_HOST="[$ADDR]:$PORT"; fi
{ for t in ed25519 rsa; do echo "$KH_HOST $(cut -d' ' -f1,2 "$STATE/ssh/ssh_host_${t}_key.pub")"; done; } \
  > "$STATE/client/known_hosts"

# ---------------------------------------------------------------- helpers
# alive PIDFILE PATTERN: pid file names a live (non-zombie) process whose cmdline contains PATTERN
alive() {
  local pf=$1 pat=$2 pid st
  [ -s "$pf" ] || return 1
  pid=$(cat "$pf"); [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/cmdline" ] || return 1
  st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo Z)
  [ "$st" != Z ] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$pat"
}
wait_for() { # wait_for SECONDS CMD...
  local n=$(( $1 * 10 )); shift
  while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done
  return 1
}
listening() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

# ---------------------------------------------------------------- netconfd
if alive "$STATE/netconfd.pid" "--ncxserver-sockname=$SOCK"; then
  log "netconfd already running (pid $(cat "$STATE/netconfd.pid"))"
else
  rm -f "$SOCK" "$STATE/netconfd.pid"
  STARTUP="$STATE/netconfd/startup-cfg.xml"
  if [ "${NETCONF_KEEP_CONFIG:-0}" != 1 ] || [ ! -s "$STARTUP" ]; then
    PWHASH=$(openssl passwd -5 -salt interop "$NC_PASS")
    KEYDATA=$(cut -d' ' -f2 "$STATE/client/id_ed25519.pub")
    cat > "$STARTUP" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">
  <nacm xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-acm">
    <enable-nacm>true</enable-nacm>
    <read-default>permit</read-default>
    <write-default>permit</write-default>
    <exec-default>permit</exec-default>
    <groups><group><name>interop</name><user-name>$NC_USER</user-name></group></groups>
    <rule-list>
      <name>interop-guard</name>
      <group>*</group>
      <!-- yuma123 2.13 ignores <action> in rpc rules: a matching rule whose access-operations
           contain "exec" PERMITS. A matching rule without "exec" denies, hence the "-yuma" rules
           first; the standard deny rules follow for conformant servers. -->
      <rule><name>deny-system-restart-yuma</name><module-name>ietf-system</module-name>
        <rpc-name>system-restart</rpc-name><access-operations>read</access-operations><action>deny</action></rule>
      <rule><name>deny-system-shutdown-yuma</name><module-name>ietf-system</module-name>
        <rpc-name>system-shutdown</rpc-name><access-operations>read</access-operations><action>deny</action></rule>
      <rule><name>deny-set-current-datetime-yuma</name><module-name>ietf-system</module-name>
        <rpc-name>set-current-datetime</rpc-name><access-operations>read</access-operations><action>deny</action></rule>
      <rule><name>deny-system-restart</name><module-name>ietf-system</module-name>
        <rpc-name>system-restart</rpc-name><access-operations>exec</access-operations><action>deny</action></rule>
      <rule><name>deny-system-shutdown</name><module-name>ietf-system</module-name>
        <rpc-name>system-shutdown</rpc-name><access-operations>exec</access-operations><action>deny</action></rule>
      <rule><name>deny-set-current-datetime</name><module-name>ietf-system</module-name>
        <rpc-name>set-current-datetime</rpc-name><access-operations>exec</access-operations><action>deny</action></rule>
      <rule><name>permit-rest</name><module-name>*</module-name>
        <access-operations>*</access-operations><action>permit</action></rule>
    </rule-list>
  </nacm>
  <system xmlns="urn:ietf:params:xml:ns:yang:ietf-system" xmlns:sys="urn:ietf:params:xml:ns:yang:ietf-system">
    <contact>interop-lab@example.net</contact>
    <hostname>nc-interop-1</hostname>
    <location>loopback lab, rack 1</location>
    <clock><timezone-name>Etc/UTC</timezone-name></clock>
    <ntp>
      <enabled>true</enabled>
      <server><name>ntp1</name><udp><address>127.0.0.1</address></udp>
        <association-type>server</association-type><iburst>true</iburst><prefer>true</prefer></server>
    </ntp>
    <dns-resolver>
      <search>example.net</search>
      <server><name>dns1</name><udp-and-tcp><address>127.0.0.1</address></udp-and-tcp></server>
      <options><timeout>2</timeout><attempts>2</attempts></options>
    </dns-resolver>
    <authentication>
      <user-authentication-order>sys:local-users</user-authentication-order>
      <user><name>$NC_USER</name><password>$PWHASH</password>
        <authorized-key><name>interop</name><algorithm>ssh-ed25519</algorithm><key-data>$KEYDATA</key-data></authorized-key>
      </user>
    </authentication>
  </system>
</config>
EOF
    chown "$SVC_USER:$SVC_USER" "$STARTUP"
  fi
  PORT_ARGS=(--port="$PORT"); [ "$TLS_PORT" = 0 ] || PORT_ARGS+=(--port="$TLS_PORT")
  # setpriv execs (pid stays netconfd's); env -i gives a clean env with the stub PATH first.
  nohup setpriv --reuid="$SVC_USER" --regid="$SVC_USER" --init-groups \
    env -i HOME="$SVC_HOME" PATH="$STATE/bin:/usr/sbin:/usr/bin:/sbin:/bin" LANG=C.UTF-8 \
    "$NETCONFD" --module=ietf-system "${PORT_ARGS[@]}" --ncxserver-sockname="$SOCK" \
      --startup="$STARTUP" --access-control=enforcing --target="${NETCONF_TARGET:-candidate}" --with-nmda="${NETCONF_NMDA:-false}" \
      --log="$STATE/netconfd/netconfd.log" --log-level="${NETCONF_LOG_LEVEL:-info}" \
    </dev/null >"$STATE/netconfd/stdout.log" 2>&1 &
  echo $! > "$STATE/netconfd.pid"
  if ! wait_for 15 test -S "$SOCK"; then
    tail -20 "$STATE/netconfd/netconfd.log" >&2 || true
    die "netconfd did not come up (see $STATE/netconfd/netconfd.log)"
  fi
  alive "$STATE/netconfd.pid" "--ncxserver-sockname=$SOCK" || die "netconfd pid check failed"
  log "netconfd started (pid $(cat "$STATE/netconfd.pid"))"
fi

# ---------------------------------------------------------------- sshd (private instance)
cat > "$STATE/ssh/sshd_config" <<EOF
# private sshd for NETCONF interop tests (netconfd-up.sh); loopback only
Port $PORT
ListenAddress $ADDR
HostKey $STATE/ssh/ssh_host_ed25519_key
HostKey $STATE/ssh/ssh_host_rsa_key
PidFile $STATE/sshd.pid
UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin no
AllowUsers $NC_USER
AuthorizedKeysFile .ssh/authorized_keys
AllowTcpForwarding no
AllowAgentForwarding no
X11Forwarding no
PermitTTY no
PrintMotd no
MaxStartups 100:30:200
MaxSessions 20
Subsystem netconf "$SUBSYS --ncxserver-sockname=$PORT@$SOCK"
EOF
if alive "$STATE/sshd.pid" "$STATE/ssh/sshd_config"; then
  log "sshd already running (pid $(cat "$STATE/sshd.pid"))"
else
  rm -f "$STATE/sshd.pid"
  listening "$PORT" && die "port $PORT is taken by another process"
  install -d -m 755 /run/sshd
  /usr/sbin/sshd -t -f "$STATE/ssh/sshd_config" || die "sshd config test failed"
  /usr/sbin/sshd -f "$STATE/ssh/sshd_config" -E "$STATE/ssh/sshd.log"
  wait_for 10 alive "$STATE/sshd.pid" "$STATE/ssh/sshd_config" || die "sshd did not start (see $STATE/ssh/sshd.log)"
  wait_for 10 listening "$PORT" || die "sshd not listening on $PORT"
  log "sshd started (pid $(cat "$STATE/sshd.pid")) on $ADDR:$PORT"
fi

# ---------------------------------------------------------------- TLS listener (optional)
if [ "$TLS_PORT" != 0 ]; then
  T="$STATE/tls"; install -d -m 755 "$T"
  if [ ! -s "$T/client.pem" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
      -subj "/CN=netconfd-interop test CA" -keyout "$T/ca.key" -out "$T/ca.pem" 2>/dev/null
    if [ "$ADDR" = "::1" ]; then SAN="IP:::1,DNS:localhost"; else SAN="IP:$ADDR,DNS:localhost"; fi
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
      -keyout "$T/server.key" -out "$T/server.csr" 2>/dev/null
    openssl x509 -req -in "$T/server.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -days 3650 \
      -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$SAN") \
      -out "$T/server.pem" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$NC_USER" \
      -keyout "$T/client.key" -out "$T/client.csr" 2>/dev/null
    openssl x509 -req -in "$T/client.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -days 3650 \
      -extfile <(printf 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n') \
      -out "$T/client.pem" 2>/dev/null
    rm -f "$T"/*.csr
    chown "$SVC_USER:$SVC_USER" "$T/server.key"; chmod 600 "$T/server.key" "$T/ca.key" "$T/client.key"
  fi
  # per-connection wrapper: cert-to-name (client cert CN = user) then hand over to netconf-subsystem
  cat > "$STATE/bin/netconf-tls-session" <<EOF
#!/bin/sh
USER="\${SOCAT_OPENSSL_X509_COMMONNAME:-}"
[ -n "\$USER" ] || exit 1
export USER
PEER="\${SOCAT_PEERADDR:-$ADDR}"; PEER="\${PEER#[}"; PEER="\${PEER%]}"   # socat brackets IPv6 peers
export SSH_CONNECTION="\$PEER \${SOCAT_PEERPORT:-0} $ADDR $TLS_PORT"
exec $SUBSYS --ncxserver-sockname=$TLS_PORT@$SOCK
EOF
  chmod 755 "$STATE/bin/netconf-tls-session"
  if alive "$STATE/tls.pid" "$STATE/tls/server.pem"; then
    log "TLS listener already running (pid $(cat "$STATE/tls.pid"))"
  else
    rm -f "$STATE/tls.pid"
    listening "$TLS_PORT" && die "port $TLS_PORT is taken by another process"
    if [ "$ADDR" = "::1" ]; then LST="OPENSSL-LISTEN:$TLS_PORT,pf=ip6,bind=[::1]"; else LST="OPENSSL-LISTEN:$TLS_PORT,pf=ip4,bind=$ADDR"; fi
    nohup setpriv --reuid="$SVC_USER" --regid="$SVC_USER" --init-groups \
      socat "$LST,reuseaddr,fork,cert=$T/server.pem,key=$T/server.key,cafile=$T/ca.pem,verify=1,openssl-min-proto-version=TLS1.2" \
        EXEC:"$STATE/bin/netconf-tls-session" \
      </dev/null >"$STATE/tls/socat.log" 2>&1 &
    echo $! > "$STATE/tls.pid"
    wait_for 10 listening "$TLS_PORT" || die "TLS listener did not start (see $STATE/tls/socat.log)"
    log "TLS listener started (pid $(cat "$STATE/tls.pid")) on $ADDR:$TLS_PORT"
  fi
fi

# ---------------------------------------------------------------- smoke test (hello over SSH)
HELLO='<?xml version="1.0" encoding="UTF-8"?><hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><capabilities><capability>urn:ietf:params:netconf:base:1.0</capability></capabilities></hello>]]>]]>'
got=$( (printf '%s' "$HELLO"; sleep 1) | timeout 15 ssh -p "$PORT" -i "$STATE/client/id_ed25519" \
        -o BatchMode=yes -o IdentitiesOnly=yes -o UserKnownHostsFile="$STATE/client/known_hosts" \
        -o StrictHostKeyChecking=yes -o LogLevel=ERROR "$NC_USER@$ADDR" -s netconf 2>&1 || true)
echo "$got" | grep -q 'urn:ietf:params:netconf:base:1.1' || { echo "$got" | tail -5 >&2; die "SSH smoke test failed"; }

# ---------------------------------------------------------------- details
cat > "$STATE/env" <<EOF
NETCONF_HOST=$ADDR
NETCONF_PORT=$PORT
NETCONF_USER=$NC_USER
NETCONF_PASSWORD=$NC_PASS
NETCONF_SSH_KEY=$STATE/client/id_ed25519
NETCONF_KNOWN_HOSTS=$STATE/client/known_hosts
NETCONF_TLS_PORT=$TLS_PORT
NETCONF_TLS_CA=$( [ "$TLS_PORT" = 0 ] || echo "$STATE/tls/ca.pem" )
NETCONF_TLS_CERT=$( [ "$TLS_PORT" = 0 ] || echo "$STATE/tls/client.pem" )
NETCONF_TLS_KEY=$( [ "$TLS_PORT" = 0 ] || echo "$STATE/tls/client.key" )
NETCONF_STATE_DIR=$STATE
NETCONF_SERVER_LOG=$STATE/netconfd/netconfd.log
EOF
cat "$STATE/env"
log "ready: ssh -p $PORT -i $STATE/client/id_ed25519 -o UserKnownHostsFile=$STATE/client/known_hosts $NC_USER@$ADDR -s netconf"
