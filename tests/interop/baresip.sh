#!/usr/bin/env bash
# A real SIP phone stack registers with sipd: baresip (libre) with digest
# authentication. libre answers only MD5 and gives up on a 401 that also
# carries a SHA-256 challenge, so this sipd offers MD5 alone
# (registrar.algorithms: [MD5]) — the setting docs/CONFIG.md gives for such
# clients. baresip unregisters when it exits.
source "$(dirname "$0")/common.bash"
command -v baresip >/dev/null || { echo "baresip missing (scripts/deps installs baresip-core)"; exit 1; }
P=$(free_port)
UA=$(free_port)
"$SIPD" user add sip:alice@localhost secret --db "$WORK/sipd.db" >/dev/null
cat >"$WORK/sipd.yaml" <<YAML
listen: [udp:127.0.0.1:$P]
db: $WORK/sipd.db
registrar: {require_auth: true, algorithms: [MD5]}
YAML
start_sipd sipd -c "$WORK/sipd.yaml" --trace
mkdir -p "$WORK/baresip"
cat >"$WORK/baresip/accounts" <<EOF2
<sip:alice@localhost>;auth_pass=secret;outbound="sip:127.0.0.1:$P";regint=60
EOF2
cat >"$WORK/baresip/config" <<EOF2
sip_listen 127.0.0.1:$UA
module_path /usr/lib/baresip/modules
module stdio.so
module account.so
module g711.so
module_app menu.so
EOF2
# baresip reads commands from stdin: keep it open for a few seconds, then EOF.
{ sleep 4; } | timeout 20 baresip -f "$WORK/baresip" >"$WORK/baresip.log" 2>&1 || true
check "baresip reports a successful registration" grep -q "registered successfully" "$WORK/baresip.log"
check "sipd challenged (401) and accepted (200) baresip's REGISTER" \
	bash -c "grep -a -A1 'trace send' '$WORK/sipd.log' | grep -q 'SIP/2.0 401' && grep -a -A1 'trace send' '$WORK/sipd.log' | grep -q 'SIP/2.0 200'"
check "baresip sent MD5 credentials for alice" grep -aq 'Authorization: Digest username="alice"' "$WORK/sipd.log"
check "sipd still running" kill -0 "$SIPD_PID"
