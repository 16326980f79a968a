#!/usr/bin/env bash
# register.sh — REGISTER load: sipd vs Kamailio, UDP, 10,000 distinct users,
# same machine, same run.
#
#   bash bench/register.sh BUILD_DIR [--quick] [--fixed-rate N] [--auth-fixed-rate N]
#        [--duration S] [--rounds K] [--workers N] [--users N] [--floor] [--redis]
#
# Runs, in this order:
#   1. no auth: sipd --location memory, Kamailio (usrloc db_mode=0) and sipd
#      with its default durable SQLite location (200 only after COMMIT);
#   2. digest auth: sipd --location memory --require-auth, Kamailio + auth;
#   3. with --redis: sipd --location redis://... (a redis-server the bench
#      starts on a free port, in sipd's process group: CPU and memory per
#      registration count both).
# --floor also runs build/bench/floor (bench/floor.c: answers 200 with no SIP
# work) at the fixed rate: the kernel's share that every server pays.
# Table on stdout, one line per server and variant:
#   <server>-<variant> udp <max_rate_per_s> <cpu_us_per_reg_at_max> <p99_ms_at_max>
#     <cpu_us_per_reg_at_fixed_rate> <p99_ms_at_fixed_rate> <bytes_per_binding>
# A registration is one whole SIPp call (with auth: REGISTER, 401, REGISTER,
# 200); CPU per registration = server CPU (all processes and threads) /
# successful registrations. Progress and the summary go to stderr. Always
# exits 0 unless the options are wrong (a missed target never fails CI).
# See bench/README-load.md.
set -uo pipefail

BUILD=${1:?usage: $0 BUILD_DIR [--quick] [--fixed-rate N] [--auth-fixed-rate N] [--duration S] [--rounds K] [--workers N] [--users N]}
shift
QUICK=0
FIXED_RATE=20000
AUTH_FIXED_RATE=5000
ROUNDS=3
DURATION=4
WORKERS=$(nproc)
USERS=10000
FLOOR=0
REDIS=0
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--fixed-rate) FIXED_RATE=$2; shift ;;
	--auth-fixed-rate) AUTH_FIXED_RATE=$2; shift ;;
	--duration) DURATION=$2; shift ;;
	--rounds) ROUNDS=$2; shift ;;
	--workers) WORKERS=$2; shift ;;
	--users) USERS=$2; shift ;;
	--floor) FLOOR=1 ;;
	--redis) REDIS=1 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
# The rest after each phase's fills: sipd keeps each REGISTER's server
# transaction for Timer J = 64*T1 = 32 s, then gives its memory back within
# two 1 s trim periods (see fill()).
SETTLE_SECS=36
BUDGET=$((330 + 2 * SETTLE_SECS))
[ $REDIS = 1 ] && BUDGET=$((BUDGET + 70 + SETTLE_SECS))
if [ $QUICK = 1 ]; then
	DURATION=2 ROUNDS=1 BUDGET=$((80 + 2 * SETTLE_SECS))
	SL_BISECT_RATIO=${SL_BISECT_RATIO:-1.5}
fi
# The fill pass registers every user exactly once: FILL_RATE * FILL_SECS
# calls from the top of the SEQUENTIAL injection file (every SIPp run starts
# there), so it creates exactly USERS bindings.
FILL_RATE=5000
[ "$USERS" -lt "$FILL_RATE" ] && FILL_RATE=$USERS
FILL_SECS=$(((USERS + FILL_RATE - 1) / FILL_RATE))
USERS=$((FILL_RATE * FILL_SECS))
SL_DURATION=$DURATION
SL_KAM_CHILDREN=$WORKERS

# shellcheck source=bench/sipp_load.sh
source "$(dirname "${BASH_SOURCE[0]}")/sipp_load.sh"
sl_init "$BUILD" || exit 0

START=$(date +%s)
sl_log "register bench: $SL_NPROC cores, $USERS users, ${DURATION}s steps, fixed rate $FIXED_RATE/s" \
	"(auth $AUTH_FIXED_RATE/s) x $ROUNDS rounds, sipd --workers $WORKERS, kamailio -n $WORKERS;" \
	"load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# Users userN, password pwN: the SIPp injection file (field0 user, field1
# password) and, for sipd with auth, the users table (HA1 rows written
# directly: one `sipd user add` process per user would take minutes).
python3 - "$USERS" "$SL_WORK/users.csv" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    f.write("SEQUENTIAL\n")
    for i in range(1, n + 1):
        f.write("user%d;pw%d\n" % (i, i))
PY

# make_users_db FILE: sipd's users table with every userN / pwN in realm
# localhost. The schema comes from sipd itself (one `user add`).
make_users_db() {
	"$SL_BUILD/sipd" user add sip:user1@localhost pw1 --db "$1" >/dev/null || return 1
	python3 - "$1" "$USERS" <<'PY'
import hashlib, sqlite3, sys
db, n = sqlite3.connect(sys.argv[1]), int(sys.argv[2])
rows = []
for i in range(1, n + 1):
    a = ("user%d:localhost:pw%d" % (i, i)).encode()
    rows.append(("user%d" % i, "localhost", hashlib.md5(a).hexdigest(), hashlib.sha256(a).hexdigest()))
db.executemany("INSERT OR REPLACE INTO users (username, realm, ha1_md5, ha1_sha256) VALUES (?, ?, ?, ?)", rows)
db.commit()
PY
}

declare -A OUT=() MEM=() MEMNOTE=() REFRESH=() NOTCLEAN=()

# use_scenario plain|auth
use_scenario() {
	if [ "$1" = auth ]; then
		SL_SCENARIO=$SL_BENCH/scenarios/register_auth.xml
		# -auth_uri: the digest uri is "sip:localhost", the Request-URI.
		# No BYE on an unexpected answer: the call just fails.
		SL_SIPP_EXTRA=(-inf "$SL_WORK/users.csv" -auth_uri localhost -default_behaviors "all,-bye")
	else
		SL_SCENARIO=$SL_BENCH/scenarios/register.xml
		SL_SIPP_EXTRA=(-inf "$SL_WORK/users.csv" -default_behaviors "all,-bye")
	fi
}

# fill NAME...: registers every user once on each fresh server, rests
# SETTLE_SECS so the fill's transactions have ended, and records the memory
# per stored binding (PSS delta / registrations answered 200). Then a second
# pass over the same users (refreshes: no new binding), measured at once: its
# delta is the in-flight part (transactions in Timer J, buffers) per REGISTER.
fill() {
	local name m0 m1 m2 ok
	local d=$SL_DURATION
	declare -A M0=() OK=()
	SL_DURATION=$FILL_SECS
	for name in "$@"; do
		M0[$name]=$(sl_mem_kb "$name")
		sl_step "$name" udp "$FILL_RATE" || true
		OK[$name]=${SL_R[ok]}
	done
	sl_log "waiting ${SETTLE_SECS}s for the fill's transactions to end"
	sleep "$SETTLE_SECS"
	for name in "$@"; do
		read -r -a m0 <<<"${M0[$name]}"
		read -r -a m1 < <(sl_mem_kb "$name")
		sl_step "$name" udp "$FILL_RATE" || true
		read -r -a m2 < <(sl_mem_kb "$name")
		ok=${OK[$name]}
		if [ "$ok" -gt 0 ]; then
			MEM[$name]=$(((m1[0] - m0[0]) * 1024 / ok))
		else
			MEM[$name]=-1
		fi
		REFRESH[$name]=$(((m2[0] - m1[0]) * 1024 / USERS))
		MEMNOTE[$name]="PSS ${m0[0]} -> ${m1[0]} -> ${m2[0]} kB, RSS sum ${m0[1]} -> ${m1[1]} -> ${m2[1]} kB, $ok bindings"
		sl_log "$name memory: ${MEMNOTE[$name]}: ${MEM[$name]} B/binding; refresh pass ${REFRESH[$name]} B/REGISTER in flight"
	done
	SL_DURATION=$d
}

# phase_secs N: what a phase of N servers takes besides its searches — the
# fill and refresh passes, the rest, the fixed-rate rounds.
phase_secs() { echo $(($1 * (2 * FILL_SECS + 4) + SETTLE_SECS + ROUNDS * $1 * (DURATION + 2))); }

SEARCHES=0
TOTAL_SEARCHES=$((5 + REDIS))
# phase RATE SERVER...: fixed-rate rounds alternating the servers, then one
# search per server from the fixed rate. SEARCH_ORDER (optional) reorders
# the searches. Fills OUT[server].
phase() {
	local rate=$1; shift
	local servers=("$@") s k
	declare -A FCPU=() FP99=() FGOOD=()
	for ((k = 1; k <= ROUNDS; k++)); do
		for s in "${servers[@]}"; do
			sl_step "$s" udp "$rate" || true
			FCPU[$s]+="${SL_R[cpu_us]} "
			FP99[$s]+="${SL_R[p99]} "
			[ "${SL_R[good]}" = 1 ] && FGOOD[$s]=$((${FGOOD[$s]:-0} + 1))
		done
	done
	for s in "${servers[@]}"; do
		local left reserve fcpu fp99
		left=$((START + BUDGET - $(date +%s)))
		# Keep room for the later phases' fills, rests and fixed rounds.
		reserve=$LATER_RESERVE
		SL_DEADLINE=$(($(date +%s) + (left - reserve) / (TOTAL_SEARCHES - SEARCHES)))
		SEARCHES=$((SEARCHES + 1))
		# shellcheck disable=SC2086
		fcpu=$(sl_median ${FCPU[$s]}) fp99=$(sl_median ${FP99[$s]})
		if [ "${FGOOD[$s]:-0}" -gt $((ROUNDS / 2)) ]; then
			sl_search "$s" udp "$rate" "$rate" "$fcpu" "$fp99"
		else
			sl_log "$s: fixed rate $rate/s was not clean in most rounds"
			NOTCLEAN[$s]=1
			sl_search "$s" udp $((rate / 2))
		fi
		OUT[$s]="$s udp ${SL_BEST[rate]} ${SL_BEST[cpu_us]} ${SL_BEST[p99]} $fcpu $fp99 ${MEM[$s]}"
	done
}

# ---- phase 1: no authentication ----
use_scenario plain
sl_start_sipd sipd-memory "$(sl_free_port)" --workers "$WORKERS" --location memory || exit 0
sl_start_kamailio kamailio-memory "$(sl_free_port)" "$SL_BENCH/kamailio/register.cfg" || exit 0
sl_start_sipd sipd-sqlite "$(sl_free_port)" --workers "$WORKERS" || exit 0
P1=(sipd-memory kamailio-memory sipd-sqlite)
fill "${P1[@]}"
# Seconds the phases after the current one need besides their searches.
LATER_RESERVE=$(($(phase_secs 2) + REDIS * $(phase_secs 1) + 8))
# Kamailio's search first so sipd-sqlite's is compared with a known figure
# (the order of searches does not change what each measures).
phase "$FIXED_RATE" kamailio-memory sipd-memory sipd-sqlite
FLOOR_CPU=-1
if [ $FLOOR = 1 ] && [ -x "$SL_BUILD/bench/floor" ]; then
	port=$(sl_free_port)
	if sl_start floor "$port" "$SL_BUILD/bench/floor" "$port" "$SL_HOST"; then
		fc=""
		for ((k = 1; k <= ROUNDS; k++)); do
			sl_step floor udp "$FIXED_RATE" || true
			fc+="${SL_R[cpu_us]} "
		done
		# shellcheck disable=SC2086
		FLOOR_CPU=$(sl_median $fc)
	fi
	sl_stop floor
fi
SQLITE_BINDINGS=$(sqlite3 "$SL_WORK/sipd-sqlite.db" 'SELECT count(*) FROM bindings' 2>/dev/null || echo "?")
for s in "${P1[@]}"; do sl_stop "$s"; done

# ---- phase 2: digest authentication ----
use_scenario auth
make_users_db "$SL_WORK/sipd-memory-auth.db" || { sl_log "cannot create the users table"; exit 0; }
sl_start_sipd sipd-memory-auth "$(sl_free_port)" --workers "$WORKERS" --location memory --require-auth || exit 0
sl_start_kamailio kamailio-memory-auth "$(sl_free_port)" "$SL_BENCH/kamailio/register.cfg" -A WITH_AUTH || exit 0
P2=(sipd-memory-auth kamailio-memory-auth)
fill "${P2[@]}"
LATER_RESERVE=$((REDIS * $(phase_secs 1) + 8))
phase "$AUTH_FIXED_RATE" kamailio-memory-auth sipd-memory-auth
for s in "${P2[@]}"; do sl_stop "$s"; done

# ---- phase 3 (--redis): bindings in a Redis server ----
if [ $REDIS = 1 ] && command -v redis-server >/dev/null; then
	use_scenario plain
	rport=$(sl_free_port) sport=$(sl_free_port)
	# One process group: redis-server started first (sipd checks it answers
	# at start), then sipd in the shell's place.
	sl_start sipd-redis "$sport" bash -c 'redis-server --port "$1" --bind 127.0.0.1 --save "" --appendonly no >/dev/null &
		for _ in $(seq 1 50); do redis-cli -p "$1" PING >/dev/null 2>&1 && break; sleep 0.1; done
		shift; exec "$@"' redis "$rport" "$SL_BUILD/sipd" -l "udp:$SL_HOST:$sport" -l "tcp:$SL_HOST:$sport" \
		--db "$SL_WORK/sipd-redis.db" --log-level warn --workers "$WORKERS" --location "redis://127.0.0.1:$rport" || exit 0
	fill sipd-redis
	LATER_RESERVE=0
	phase "$FIXED_RATE" sipd-redis
	sl_stop sipd-redis
fi

ALL=(sipd-memory kamailio-memory sipd-sqlite sipd-memory-auth kamailio-memory-auth)
[ $REDIS = 1 ] && ALL+=(sipd-redis)
echo "# server-variant transport max_rate_per_s cpu_us_per_reg_at_max p99_ms_at_max" \
	"cpu_us_per_reg_at_fixed_rate p99_ms_at_fixed_rate bytes_per_binding" \
	"(fixed rate: $FIXED_RATE/s, auth $AUTH_FIXED_RATE/s)"
for s in "${ALL[@]}"; do echo "${OUT[$s]:-$s udp -1 -1 -1 -1 -1 -1}"; done

{
	echo
	echo "REGISTER, $USERS users, UDP 127.0.0.1, SIPp $(sipp -v 2>/dev/null | awk '/SIPp v/ { sub(/-.*/, "", $2); print $2; exit }')," \
		"$(kamailio -v | awk 'NR == 1 { print $2, $3 }') (-x ${SL_KAM_MALLOC:-tlsf}); ${DURATION}s steps;" \
		"good = 0 failed, <= ${SL_MAX_RETRANS_PCT}% retransmissions, >= ${SL_MIN_ACHIEVED} of target sent"
	echo "memory (PSS summed over the server's processes; before -> ${SETTLE_SECS}s after $USERS new bindings" \
		"(their transactions ended) -> just after a refresh pass (its transactions in flight)):"
	for s in "${ALL[@]}"; do
		printf '  %-21s %s; refresh pass %s B/REGISTER in flight\n' "$s" "${MEMNOTE[$s]:-n/a}" "${REFRESH[$s]:-n/a}"
	done
	echo "  sipd-sqlite bindings table rows at the end of its phase: $SQLITE_BINDINGS"
	read -r _ _ smr smc _ sfc _ smb <<<"${OUT[sipd-memory]:-x x -1 -1 -1 -1 -1 -1}"
	read -r _ _ kmr kmc _ kfc _ kmb <<<"${OUT[kamailio-memory]:-x x -1 -1 -1 -1 -1 -1}"
	read -r _ _ sqr sqc _ sqfc _ sqb <<<"${OUT[sipd-sqlite]:-x x -1 -1 -1 -1 -1 -1}"
	read -r _ _ sar sac _ safc _ sab <<<"${OUT[sipd-memory-auth]:-x x -1 -1 -1 -1 -1 -1}"
	read -r _ _ kar kac _ kafc _ kab <<<"${OUT[kamailio-memory-auth]:-x x -1 -1 -1 -1 -1 -1}"
	awk -v fr="$FIXED_RATE" -v afr="$AUTH_FIXED_RATE" \
		-v smr="$smr" -v smc="$smc" -v sfc="$sfc" -v smb="$smb" \
		-v kmr="$kmr" -v kmc="$kmc" -v kfc="$kfc" -v kmb="$kmb" \
		-v sqr="$sqr" -v sqc="$sqc" -v sqfc="$sqfc" -v sqb="$sqb" \
		-v sar="$sar" -v sac="$sac" -v safc="$safc" -v sab="$sab" \
		-v kar="$kar" -v kac="$kac" -v kafc="$kafc" -v kab="$kab" '
	function ratio(a, b) { return (a > 0 && b > 0) ? sprintf("%.2f", a / b) : "n/a" }
	function verdict(ok, known) { return known ? (ok ? "MET" : "MISSED") : "n/a" }
	BEGIN {
		printf "no auth, at %d/s: CPU/registration sipd-memory %s us, kamailio %s us: ratio %s (sipd-sqlite %s us: %s)\n",
			fr, sfc, kfc, ratio(sfc, kfc), sqfc, ratio(sqfc, kfc)
		printf "no auth, at max: sipd-memory %d/s %s us, kamailio %d/s %s us, sipd-sqlite %d/s %s us; CPU ratio sipd-memory/kamailio %s\n",
			smr, smc, kmr, kmc, sqr, sqc, ratio(smc, kmc)
		printf "max rate sipd-sqlite / kamailio-memory: %s; sipd-memory / kamailio-memory: %s\n",
			ratio(sqr, kmr), ratio(smr, kmr)
		printf "auth, at %d/s: CPU/registration sipd-memory %s us, kamailio %s us: ratio %s; at max: sipd %d/s, kamailio %d/s\n",
			afr, safc, kafc, ratio(safc, kafc), sar, kar
		printf "bytes per binding: sipd-memory %s, sipd-sqlite %s, kamailio %s (auth runs: sipd %s, kamailio %s)\n",
			smb, sqb, kmb, sab, kab
		printf "target memory backend CPU/registration <= 1/2 of Kamailio (at %d/s): %s\n", fr,
			verdict(sfc <= kfc / 2, sfc > 0 && kfc > 0)
		printf "target SQLite max rate >= Kamailio in-memory max rate: %s\n", verdict(sqr >= kmr, kmr > 0)
		printf "target <= 1 KiB per binding (sipd-memory / sipd-sqlite): %s / %s\n",
			verdict(smb <= 1024, smb >= 0), verdict(sqb <= 1024, sqb >= 0)
	}'
	if [ $FLOOR = 1 ]; then
		awk -v fr="$FIXED_RATE" -v f="$FLOOR_CPU" -v s="$sfc" -v k="$kfc" 'BEGIN {
			printf "floor (200 with no SIP work) at %d/s %s us/registration; above the floor: sipd-memory %.2f," \
				" kamailio %.2f us; 1/2 of kamailio = %.2f us = %.2fx the floor\n", fr, f, s - f, k - f, k / 2, (k / 2) / f
		}'
	fi
	[ ${#NOTCLEAN[@]} -eq 0 ] || echo "NOTE: the fixed-rate steps were not clean (failed registrations, retransmissions or" \
		"client-limited) for: ${!NOTCLEAN[*]} - their fixed-rate figures are medians of bad steps"
	echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg) on $SL_NPROC cores; ${SL_STEPS} steps in $(($(date +%s) - START)) s"
} >&2
exit 0
