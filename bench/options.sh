#!/usr/bin/env bash
# options.sh — OPTIONS-to-self load: sipd vs Kamailio, UDP then TCP, same run.
#
#   bash bench/options.sh BUILD_DIR [--quick] [--fixed-rate N] [--duration S]
#        [--rounds K] [--tcp-mode t1|tn] [--workers N] [--floor]
#
# --floor adds build/bench/floor (bench/floor.c: answers without any SIP
# work) to the fixed-rate rounds: its CPU per request is the kernel's share
# that every server pays, so "server - floor" is the server's own work.
#
# Table on stdout, one line per server and transport:
#   <server> <transport> <max_rate_per_s> <cpu_us_per_req_at_max> <p99_ms_at_max>
#     <cpu_us_per_req_at_fixed_rate> <p99_ms_at_fixed_rate>
# Progress and the human summary go to stderr. Always exits 0 unless the
# bench itself cannot run (benches never fail CI on a missed target).
# See bench/README-load.md.
set -uo pipefail

BUILD=${1:?usage: $0 BUILD_DIR [--quick] [--fixed-rate N] [--duration S] [--rounds K] [--tcp-mode t1|tn] [--workers N]}
shift
QUICK=0
FIXED_RATE=20000
ROUNDS=3
DURATION=5
TCP_MODE=t1
WORKERS=$(nproc)
FLOOR=0
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--fixed-rate) FIXED_RATE=$2; shift ;;
	--duration) DURATION=$2; shift ;;
	--rounds) ROUNDS=$2; shift ;;
	--tcp-mode) TCP_MODE=$2; shift ;;
	--workers) WORKERS=$2; shift ;;
	--floor) FLOOR=1 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
if [ $QUICK = 1 ]; then
	DURATION=2 ROUNDS=1
	SL_BISECT_RATIO=${SL_BISECT_RATIO:-1.5}
fi
SL_DURATION=$DURATION
SL_TCP_MODE=$TCP_MODE
SL_KAM_CHILDREN=$WORKERS
SL_PROBE=1
BUDGET=280
[ $QUICK = 1 ] && BUDGET=48

# shellcheck source=bench/sipp_load.sh
source "$(dirname "${BASH_SOURCE[0]}")/sipp_load.sh"
sl_init "$BUILD" || exit 0

START=$(date +%s)
sl_log "options bench: $SL_NPROC cores, ${DURATION}s steps, fixed rate $FIXED_RATE/s x $ROUNDS rounds," \
	"TCP mode -t $TCP_MODE, sipd --workers $WORKERS, kamailio -n/-N $WORKERS; load average: $(cut -d' ' -f1-3 /proc/loadavg)"

SERVERS=(sipd kamailio)
sl_start_sipd sipd "$(sl_free_port)" --workers "$WORKERS" || exit 0
sl_start_kamailio kamailio "$(sl_free_port)" "$SL_BENCH/kamailio/options.cfg" || exit 0
FIXED_ONLY=()
if [ $FLOOR = 1 ]; then
	[ -x "$SL_BUILD/bench/floor" ] || { echo "no $SL_BUILD/bench/floor: make bench first" >&2; exit 0; }
	port=$(sl_free_port)
	sl_start floor "$port" "$SL_BUILD/bench/floor" "$port" "$SL_HOST" || exit 0
	FIXED_ONLY=(floor)
fi

declare -A OUT=() PROBE=() FLOOR_CPU=()
SEARCHES=0
NOTCLEAN=""
for tr in udp tcp; do
	# Fixed rate, alternating servers so background noise hits both alike;
	# the median round is kept.
	declare -A FCPU=() FP99=() FGOOD=() FPROBE=()
	for ((k = 1; k <= ROUNDS; k++)); do
		for s in "${SERVERS[@]}" "${FIXED_ONLY[@]}"; do
			sl_step "$s" "$tr" "$FIXED_RATE" || true
			FCPU[$s]+="${SL_R[cpu_us]} "
			FP99[$s]+="${SL_R[p99]} "
			FPROBE[$s]+="${SL_R[probe_p99_us]} "
			[ "${SL_R[good]}" = 1 ] && FGOOD[$s]=$((${FGOOD[$s]:-0} + 1))
		done
	done
	# shellcheck disable=SC2086
	[ $FLOOR = 1 ] && FLOOR_CPU[$tr]=${FCPU[floor]}
	for s in "${SERVERS[@]}"; do
		# Share what is left of the time budget among the searches still to run.
		left=$((START + BUDGET - $(date +%s)))
		# (keeping room for the TCP fixed-rate rounds while on UDP).
		reserve=0
		[ "$tr" = udp ] && reserve=$((ROUNDS * ${#SERVERS[@]} * (DURATION + 2)))
		SL_DEADLINE=$(($(date +%s) + (left - reserve) / (2 * ${#SERVERS[@]} - SEARCHES)))
		SEARCHES=$((SEARCHES + 1))
		# shellcheck disable=SC2086
		fcpu=$(sl_median ${FCPU[$s]}) fp99=$(sl_median ${FP99[$s]}) fprobe=$(sl_median ${FPROBE[$s]})
		[ "${FGOOD[$s]:-0}" -gt $((ROUNDS / 2)) ] || sl_log "$s $tr: fixed rate $FIXED_RATE/s was not clean in most rounds"
		if [ "${FGOOD[$s]:-0}" -gt $((ROUNDS / 2)) ]; then
			sl_search "$s" "$tr" "$FIXED_RATE" "$FIXED_RATE" "$fcpu" "$fp99" "$fprobe"
		else
			sl_search "$s" "$tr" "$FIXED_RATE"
		fi
		[ "${FGOOD[$s]:-0}" -gt $((ROUNDS / 2)) ] || NOTCLEAN+="$s/$tr "
		OUT[$s.$tr]="$s $tr ${SL_BEST[rate]} ${SL_BEST[cpu_us]} ${SL_BEST[p99]} $fcpu $fp99"
		PROBE[$s.$tr]="${SL_BEST[probe_p99_us]} $fprobe"
	done
done

for s in "${SERVERS[@]}" "${FIXED_ONLY[@]}"; do sl_stop "$s"; done

echo "# server transport max_rate_per_s cpu_us_per_req_at_max p99_ms_at_max cpu_us_per_req_at_${FIXED_RATE} p99_ms_at_${FIXED_RATE}"
for tr in udp tcp; do
	for s in "${SERVERS[@]}"; do echo "${OUT[$s.$tr]}"; done
done

{
	echo
	echo "OPTIONS-to-self, 127.0.0.1, SIPp $(sipp -v 2>/dev/null | awk '/SIPp v/ { sub(/-.*/, "", $2); print $2; exit }')," \
		"$(kamailio -v | awk 'NR == 1 { print $2, $3 }'); UDP -t u1, TCP -t $TCP_MODE;" \
		"${DURATION}s steps; good = 0 failed, <= ${SL_MAX_RETRANS_PCT}% retransmissions, >= ${SL_MIN_ACHIEVED} of target sent"
	echo "probe (one OPTIONS every ${SL_PROBE_MS:-2} ms beside SIPp, us, includes Python overhead): p99 at max / at $FIXED_RATE/s:"
	for tr in udp tcp; do
		for s in "${SERVERS[@]}"; do
			read -r pm pf <<<"${PROBE[$s.$tr]}"
			printf '  %-9s %s  %6s / %6s us\n' "$s" "$tr" "$pm" "$pf"
		done
	done
	for tr in udp tcp; do
		read -r _ _ srate scpu sp99 sfcpu sfp99 <<<"${OUT[sipd.$tr]}"
		read -r _ _ krate kcpu kp99 kfcpu kfp99 <<<"${OUT[kamailio.$tr]}"
		awk -v tr="$tr" -v fr="$FIXED_RATE" -v sr="$srate" -v kr="$krate" -v sc="$scpu" -v kc="$kcpu" \
			-v sp="$sp99" -v kp="$kp99" -v sfc="$sfcpu" -v kfc="$kfcpu" -v sfp="$sfp99" -v kfp="$kfp99" '
		function ratio(a, b) { return (a > 0 && b > 0) ? sprintf("%.2f", a / b) : "n/a" }
		BEGIN {
			printf "%s: at %d/s  sipd %s us/req p99 %s ms | kamailio %s us/req p99 %s ms | CPU ratio sipd/kamailio %s\n",
				toupper(tr), fr, sfc, sfp, kfc, kfp, ratio(sfc, kfc)
			printf "%s: at max  sipd %d/s %s us/req p99 %s ms | kamailio %d/s %s us/req p99 %s ms | CPU ratio %s\n",
				toupper(tr), sr, sc, sp, kr, kc, kp, ratio(sc, kc)
			met = (sfc > 0 && kfc > 0 && sfc <= kfc / 2 && sfp <= kfp)
			printf "%s: target (<= 1/2 of Kamailio CPU/req at an equal or better p99, fixed rate): %s\n",
				toupper(tr), met ? "MET" : "MISSED"
		}'
	done
	if [ $FLOOR = 1 ]; then
		for tr in udp tcp; do
			# shellcheck disable=SC2086
			fl=$(sl_median ${FLOOR_CPU[$tr]})
			read -r _ _ _ _ _ sfcpu _ <<<"${OUT[sipd.$tr]}"
			read -r _ _ _ _ _ kfcpu _ <<<"${OUT[kamailio.$tr]}"
			awk -v tr="$tr" -v fr="$FIXED_RATE" -v f="$fl" -v s="$sfcpu" -v k="$kfcpu" 'BEGIN {
				printf "%s: floor (no SIP work) at %d/s %s us/req; above the floor: sipd %.2f, kamailio %.2f us/req;" \
					" 1/2 of kamailio = %.2f us/req = %.2fx the floor\n", toupper(tr), fr, f, s - f, k - f, k / 2, (k / 2) / f
			}'
		done
	fi
	[ -z "$NOTCLEAN" ] || echo "NOTE: the fixed-rate steps were not clean (failures/retransmissions/client-limited) for: $NOTCLEAN- their fixed-rate figures are medians of bad steps"
	echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg) on $SL_NPROC cores; ${SL_STEPS} steps in $(($(date +%s) - START)) s"
} >&2
exit 0
