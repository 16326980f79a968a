# lib.sh — shared helpers for the end-to-end tests (sourced, bash).
# Servers are started in the foreground as children, on free loopback ports,
# and stopped by PID (never by name). Every test calls `finish` on exit.
set -euo pipefail

BUILD=${1:?usage: $0 BUILD_DIR}
BUILD=$(cd "$BUILD" && pwd)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SIPD=$BUILD/sipd
SIPUA=$BUILD/sipua
WORK=$(mktemp -d /tmp/sipd-interop.XXXXXX)
PIDS=()
FAILS=0
PASSES=0

finish() {
	local rc=$?
	for p in "${PIDS[@]:-}"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
	done
	if [ $FAILS -gt 0 ] || [ $rc -ne 0 ]; then
		echo "--- logs in $WORK"
		for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "== $f"; tail -n 40 "$f"; }; done
		[ $rc -ne 0 ] || rc=1
	else
		[ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
	fi
	echo "$PASSES passed, $FAILS failed"
	exit $rc
}
trap finish EXIT

ok() { PASSES=$((PASSES + 1)); echo "ok: $*"; }
bad() { FAILS=$((FAILS + 1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

# A free port on 127.0.0.1 for both UDP and TCP (asks the kernel, then releases it).
free_port() {
	python3 - "$@" <<'PY'
import socket, sys
fam = socket.AF_INET6 if len(sys.argv) > 1 and sys.argv[1] == "6" else socket.AF_INET
host = "::1" if fam == socket.AF_INET6 else "127.0.0.1"
while True:
    t = socket.socket(fam, socket.SOCK_STREAM); t.bind((host, 0)); port = t.getsockname()[1]
    u = socket.socket(fam, socket.SOCK_DGRAM)
    try:
        u.bind((host, port))
    except OSError:
        t.close(); u.close(); continue
    t.close(); u.close(); print(port); break
PY
}

# start_sipd NAME ARGS... : starts sipd in the background, logs to $WORK/NAME.log,
# waits until it reports it is running. Sets SIPD_PID.
start_sipd() {
	local name=$1; shift
	"$SIPD" "$@" >"$WORK/$name.log" 2>&1 &
	SIPD_PID=$!
	PIDS+=("$SIPD_PID")
	for _ in $(seq 1 100); do
		grep -q "sipd running" "$WORK/$name.log" 2>/dev/null && return 0
		kill -0 "$SIPD_PID" 2>/dev/null || { echo "sipd exited:"; cat "$WORK/$name.log"; return 1; }
		sleep 0.05
	done
	echo "sipd did not start"; cat "$WORK/$name.log"; return 1
}

stop_pid() {
	local p=$1
	kill "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
	local keep=()
	for q in "${PIDS[@]:-}"; do [ "$q" != "$p" ] && keep+=("$q"); done
	PIDS=("${keep[@]:-}")
}

# sipp_run NAME ARGS... : runs SIPp in the foreground (bounded), output in $WORK/NAME.sipp.log.
sipp_run() {
	local name=$1; shift
	timeout 60 sipp "$@" -nostdin -nd -trace_err -error_file "$WORK/$name.sipp.err" >"$WORK/$name.sipp.log" 2>&1
}

# reg_contacts SIPD_PORT USER CONTACT_VALUE...: one REGISTER of USER@127.0.0.1
# binding every Contact value given; prints the status (sipnet.py).
reg_contacts() {
	python3 - "$HERE" "$@" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import sipnet
port, user, contacts = int(sys.argv[2]), sys.argv[3], sys.argv[4:]
r = sipnet.udp_exchange(sipnet.register("127.0.0.1", port, user, "127.0.0.1", contacts=contacts),
                        ("127.0.0.1", port))
print(sipnet.status_of(r[0]) if r else None)
PY
}

# baresip_phone NAME PORT ACCOUNT_LINE [UUID]: a baresip config directory
# $WORK/NAME for a phone listening on 127.0.0.1:PORT (baresip also binds
# PORT+1 for TLS: keep phones' ports apart) with one account line; audio is
# a sine source and a file sink (no sound card). UUID (+sip.instance, for
# outbound) is written without a newline: it goes into a header.
baresip_phone() {
	local name=$1 port=$2 account=$3 uuid=${4:-}
	mkdir -p "$WORK/$name"
	printf '%s\n' "$account" >"$WORK/$name/accounts"
	[ -n "$uuid" ] && printf '%s' "$uuid" >"$WORK/$name/uuid"
	cat >"$WORK/$name/config" <<EOF2
sip_listen 127.0.0.1:$port
module_path /usr/lib/baresip/modules
$([ -n "$uuid" ] && echo "module uuid.so")
module stdio.so
module account.so
module g711.so
module ausine.so
module aufile.so
audio_source ausine,440
audio_player aufile,$WORK/$name.wav
ausrc_srate 48000
auplay_srate 48000
ausrc_channels 2
auplay_channels 2
module_app menu.so
EOF2
}
