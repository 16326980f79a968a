#!/usr/bin/env bash
# proxy.sh — calls through a stateful proxy: sipd vs Kamailio, UDP, same
# machine, same run. A SIPp UAS (bench/scenarios/uas.xml: the built-in uas copying Record-Route) is registered as
# user "bench" at both proxies; a SIPp UAC calls sip:bench@proxy with
# bench/scenarios/call.xml (INVITE, 180, 200, ACK and BYE along the recorded
# route, 200): 7 messages through the proxy per call (the 100 Trying is the
# proxy's own). Kamailio runs bench/kamailio/proxy.cfg (tm, rr, usrloc in
# memory, lookup + t_relay), sipd its default proxy with --location memory.
#
#   bash bench/proxy.sh BUILD_DIR [--quick] [--fixed-rate N] [--duration S] [--rounds K] [--workers N]
#
# Table on stdout, one line per server:
#   <server> udp <max_calls_per_s> <cpu_us_per_call_at_max> <p99_ms_at_max>
#     <cpu_us_per_call_at_fixed_rate> <p99_ms_at_fixed_rate>
# CPU per call = proxy CPU (all its processes and threads) / completed calls
# (the UAS's and UAC's CPU are not counted). Progress and a summary on stderr.
# Always exits 0 unless the options are wrong (see bench/README-load.md).
set -uo pipefail

BUILD=${1:?usage: $0 BUILD_DIR [--quick] [--fixed-rate N] [--duration S] [--rounds K] [--workers N]}
shift
QUICK=0 FIXED_RATE=2000 ROUNDS=3 DURATION=4 WORKERS=$(nproc)
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--fixed-rate) FIXED_RATE=$2; shift ;;
	--duration) DURATION=$2; shift ;;
	--rounds) ROUNDS=$2; shift ;;
	--workers) WORKERS=$2; shift ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
BUDGET=200
if [ $QUICK = 1 ]; then
	DURATION=2 ROUNDS=1 BUDGET=45
	SL_BISECT_RATIO=${SL_BISECT_RATIO:-1.5}
fi
SL_DURATION=$DURATION
SL_KAM_CHILDREN=$WORKERS
SL_RATE_QUANTUM=100
SL_MIN_RATE=100
# Kamailio keeps every transaction for its wait timers (~32 s for an
# INVITE): at thousands of calls a second the bench default of 128 MB of
# shared memory runs out (tm: "out of mem"), so the proxy runs get 1 GB.
SL_KAM_SHM_MB=${SL_KAM_SHM_MB:-1024}

source "$(dirname "${BASH_SOURCE[0]}")/sipp_load.sh"
sl_init "$BUILD" || exit 0

START=$(date +%s)
sl_log "proxy bench: $SL_NPROC cores, ${DURATION}s steps, fixed rate $FIXED_RATE calls/s x $ROUNDS rounds," \
	"sipd --workers $WORKERS, kamailio -n $WORKERS; load average: $(cut -d' ' -f1-3 /proc/loadavg)"

SERVERS=(sipd kamailio)
sl_start_sipd sipd "$(sl_free_port)" --workers "$WORKERS" --location memory || exit 0
sl_start_kamailio kamailio "$(sl_free_port)" "$SL_BENCH/kamailio/proxy.cfg" || exit 0

# The callee: SIPp's built-in UAS, for the whole run, on its own port.
UAS_PORT=$(sl_free_port)
(cd "$SL_WORK" && exec sipp -sf "$SL_BENCH/scenarios/uas.xml" -i "$SL_HOST" -p "$UAS_PORT" -nostdin -nd -buff_size 4194304 \
	-max_recv_loops 100000 -max_sched_loops 100000 >"$SL_WORK/uas.out" 2>&1) &
UAS_PID=$!
trap 'kill $UAS_PID 2>/dev/null; sl__cleanup' EXIT
sleep 0.5
for s in "${SERVERS[@]}"; do
	st=$(python3 - "${SL_PORT[$s]}" "$UAS_PORT" <<'PY'
import socket, sys
port, uas = int(sys.argv[1]), int(sys.argv[2])
msg = ("REGISTER sip:127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-benchreg;rport\r\n"
       "Max-Forwards: 70\r\nFrom: <sip:bench@127.0.0.1>;tag=b\r\nTo: <sip:bench@127.0.0.1>\r\n"
       "Call-ID: benchreg@t\r\nCSeq: 1 REGISTER\r\nContact: <sip:bench@127.0.0.1:%d>\r\nExpires: 3600\r\n"
       "Content-Length: 0\r\n\r\n" % (port, uas)).encode()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); s.settimeout(2)
s.sendto(msg, ("127.0.0.1", port))
try:
    print(s.recv(65535).split(b" ")[1].decode())
except Exception:
    print("none")
PY
)
	[ "$st" = 200 ] || { sl_log "$s: REGISTER of the callee got $st"; exit 0; }
done
SL_SCENARIO=$SL_BENCH/scenarios/call.xml
SL_SIPP_EXTRA=(-s bench)

declare -A FCPU=() FP99=() FGOOD=() OUT=()
for ((k = 1; k <= ROUNDS; k++)); do
	for s in "${SERVERS[@]}"; do
		sl_step "$s" udp "$FIXED_RATE" || true
		FCPU[$s]+="${SL_R[cpu_us]} "
		FP99[$s]+="${SL_R[p99]} "
		[ "${SL_R[good]}" = 1 ] && FGOOD[$s]=$((${FGOOD[$s]:-0} + 1))
	done
done
SEARCHES=0
for s in "${SERVERS[@]}"; do
	left=$((START + BUDGET - $(date +%s)))
	SL_DEADLINE=$(($(date +%s) + left / (${#SERVERS[@]} - SEARCHES)))
	SEARCHES=$((SEARCHES + 1))
	# shellcheck disable=SC2086
	fcpu=$(sl_median ${FCPU[$s]}) fp99=$(sl_median ${FP99[$s]})
	if [ "${FGOOD[$s]:-0}" -gt $((ROUNDS / 2)) ]; then
		sl_search "$s" udp "$FIXED_RATE" "$FIXED_RATE" "$fcpu" "$fp99" -1
	else
		sl_log "$s: fixed rate $FIXED_RATE calls/s was not clean in most rounds"
		sl_search "$s" udp "$FIXED_RATE"
	fi
	OUT[$s]="$s udp ${SL_BEST[rate]} ${SL_BEST[cpu_us]} ${SL_BEST[p99]} $fcpu $fp99"
done
for s in "${SERVERS[@]}"; do sl_stop "$s"; done
kill $UAS_PID 2>/dev/null
wait $UAS_PID 2>/dev/null

echo "# server transport max_calls_per_s cpu_us_per_call_at_max p99_ms_at_max cpu_us_per_call_at_$FIXED_RATE p99_ms_at_$FIXED_RATE"
for s in "${SERVERS[@]}"; do echo "${OUT[$s]}"; done
read -r _ _ _ _ _ sc _ <<<"${OUT[sipd]}"
read -r _ _ _ _ _ kc _ <<<"${OUT[kamailio]}"
ratio=$(awk -v a="$sc" -v b="$kc" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "-1" }')
{
	echo "calls through a stateful proxy (INVITE/180/200/ACK/BYE/200 + 100), 127.0.0.1 UDP, SIPp $(sipp -v 2>/dev/null | grep -o 'v[0-9.]*' | head -1)"
	echo "at $FIXED_RATE calls/s: CPU per call sipd $sc us, kamailio $kc us: ratio sipd/kamailio $ratio"
	echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg); $SL_STEPS steps in $(($(date +%s) - START)) s"
} >&2
exit 0
