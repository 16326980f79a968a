# shellcheck shell=bash disable=SC2034
# (SC2034: SL_* results are read by the scripts that source this file.)
# sipp_load.sh — reusable SIPp load driver for the server benches (sourced, bash).
#
#   source bench/sipp_load.sh; sl_init BUILD_DIR
#   sl_start_sipd sipd "$port" [extra sipd args...]
#   sl_start_kamailio kamailio "$port" bench/kamailio/options.cfg [extra args...]
#   sl_step sipd udp 20000            # one bounded SIPp run, fills SL_R[...]
#   sl_search sipd udp 20000          # step search, fills SL_BEST[...]
#
# Every server runs in its own process group (setsid) and is stopped by that
# recorded PGID — on normal exit, on error and on Ctrl-C (trap) — never by
# name. Everything binds 127.0.0.1 only.
#
# What a step measures (one SIPp run of SL_DURATION seconds at RATE calls/s,
# scenario SL_SCENARIO plus SL_SIPP_EXTRA args, e.g. -inf for REGISTER):
#   - good: 0 failed calls, every call answered, SIPp retransmissions <= 1%
#     of calls, and SIPp really sent >= SL_MIN_ACHIEVED of the target rate
#     (otherwise the client, not the server, was the limit);
#   - server CPU time: sum over every process in the server's process group
#     and every thread of each (/proc/PID/task/TID/schedstat, ns; falls back
#     to utime+stime ticks) — delta over the step / calls answered;
#   - latency: SIPp's per-call response times (-trace_rtt), integer ms — SIPp
#     measures with its millisecond clock tick, so finer is not available.

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	# `make bench` runs every bench/*.sh; this one is only a library.
	echo "bench/sipp_load.sh is the driver library of the SIPp benches (see bench/README-load.md)" >&2
	exit 0
fi

SL_DURATION=${SL_DURATION:-5}          # seconds per step
SL_MIN_ACHIEVED=${SL_MIN_ACHIEVED:-0.90}
SL_MAX_RETRANS_PCT=${SL_MAX_RETRANS_PCT:-1}
SL_RECV_TIMEOUT_MS=${SL_RECV_TIMEOUT_MS:-2000}
SL_MAX_RATE=${SL_MAX_RATE:-400000}     # search ceiling (calls/s)
SL_MIN_RATE=${SL_MIN_RATE:-1000}       # search floor
SL_BISECT_RATIO=${SL_BISECT_RATIO:-1.125} # stop bisecting when hi/lo <= this
SL_RATE_QUANTUM=${SL_RATE_QUANTUM:-1000}  # bisection rounds rates to this
SL_SIPP_EXTRA=()                       # scenario-specific SIPp args
SL_SCENARIO=""
SL_HOST=127.0.0.1

declare -A SL_PID=() SL_PORT=() SL_R=() SL_BEST=()
SL_SIPP_PID=""
SL_STEPS=0

sl_log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# sl_init BUILD_DIR: paths, work dir, cleanup trap; fails (with a message) without sipp, sipd or kamailio.
sl_init() {
	SL_BUILD=$(cd "${1:?usage: sl_init BUILD_DIR}" && pwd)
	SL_BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	SL_ROOT=$(cd "$SL_BENCH/.." && pwd) # for benches that need repo files
	SL_WORK=$(mktemp -d /tmp/sipd-bench.XXXXXX)
	SL_NPROC=$(nproc)
	SL_CLK_TCK=$(getconf CLK_TCK)
	trap 'sl__cleanup; exit 130' INT
	trap 'sl__cleanup; exit 143' TERM
	trap 'sl__cleanup' EXIT
	command -v sipp >/dev/null || { echo "sipp not installed (scripts/deps)" >&2; return 1; }
	# Every bench compares sipd with Kamailio.
	[ -x "$SL_BUILD/sipd" ] || { echo "no $SL_BUILD/sipd: build first" >&2; return 1; }
	command -v kamailio >/dev/null || { echo "kamailio not installed (scripts/deps)" >&2; return 1; }
}

sl__cleanup() {
	trap - INT TERM EXIT
	if [ -n "$SL_SIPP_PID" ]; then
		kill "$SL_SIPP_PID" 2>/dev/null || true
		wait "$SL_SIPP_PID" 2>/dev/null || true
		SL_SIPP_PID=""
	fi
	local n
	for n in "${!SL_PID[@]}"; do sl_stop "$n"; done
	if [ -n "${SL_KEEP_WORK:-}" ]; then
		echo "bench work dir kept: $SL_WORK" >&2
	else
		[ -n "${SL_WORK:-}" ] && rm -rf "$SL_WORK"
	fi
}

# sl_free_port: a port free for both UDP and TCP on 127.0.0.1.
sl_free_port() {
	python3 - <<'PY'
import socket
while True:
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM); t.bind(("127.0.0.1", 0))
    port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port))
    except OSError:
        t.close(); u.close(); continue
    t.close(); u.close(); print(port); break
PY
}

# sl_start NAME PORT CMD...: starts CMD in its own session/process group,
# output to $SL_WORK/NAME.log. The PID is also the PGID (checked).
sl_start() {
	local name=$1 port=$2; shift 2
	setsid "$@" >"$SL_WORK/$name.log" 2>&1 </dev/null &
	local pid=$!
	SL_PID[$name]=$pid
	SL_PORT[$name]=$port
	local pgid
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		pgid=$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')
		[ "$pgid" = "$pid" ] && break
		sleep 0.05
	done
	if [ "$pgid" != "$pid" ]; then
		sl_log "$name: pid $pid is not its own process group leader (pgid '$pgid')"
		return 1
	fi
	sl_wait_ready "$name"
}

# sl_wait_ready NAME: waits until the server answers an OPTIONS over UDP and TCP.
sl_wait_ready() {
	local name=$1 port=${SL_PORT[$1]} t
	for t in u1 t1; do
		local ok=0
		for _ in $(seq 1 50); do
			kill -0 "${SL_PID[$name]}" 2>/dev/null || {
				sl_log "$name exited at start:"; tail -n 30 "$SL_WORK/$name.log" >&2; return 1; }
			if (cd "$SL_WORK" && timeout 5 sipp "$SL_HOST:$port" -sf "$SL_BENCH/scenarios/options.xml" \
				-t "$t" -i "$SL_HOST" -p "$(sl_free_port)" -m 1 -r 1 -nostdin -nd \
				-recv_timeout 1000 >/dev/null 2>&1); then
				ok=1; break
			fi
			sleep 0.1
		done
		[ $ok = 1 ] || { sl_log "$name does not answer OPTIONS over $t"; tail -n 30 "$SL_WORK/$name.log" >&2; return 1; }
	done
	sl_log "$name ready: pid/pgid ${SL_PID[$name]}, port $port"
}

# sl_start_sipd NAME PORT [ARGS...]: sipd listening on UDP and TCP PORT.
sl_start_sipd() {
	local name=$1 port=$2; shift 2
	sl_start "$name" "$port" "$SL_BUILD/sipd" -l "udp:$SL_HOST:$port" -l "tcp:$SL_HOST:$port" \
		--db "$SL_WORK/$name.db" --log-level warn "$@"
}

# sl_start_kamailio NAME PORT CFG [ARGS...]: Kamailio in the foreground (-DD:
# the creator does not daemonize, children are forked), logging to stderr
# (-E), UDP and TCP listeners on PORT, SL_KAM_CHILDREN receivers per protocol.
# Memory manager TLSF for shm and pkg (-x): the Debian build's default q_malloc
# spends ~75% of a receiver's time in qm_malloc under this load (33 vs 7 µs
# per OPTIONS here), which would make Kamailio look 4x worse than it runs.
sl_start_kamailio() {
	local name=$1 port=$2 cfg=$3; shift 3
	local n=${SL_KAM_CHILDREN:-$SL_NPROC}
	sl_start "$name" "$port" kamailio -DD -E -f "$cfg" \
		-l "udp:$SL_HOST:$port" -l "tcp:$SL_HOST:$port" -n "$n" -N "$n" \
		-x "${SL_KAM_MALLOC:-tlsf}" -m "${SL_KAM_SHM_MB:-128}" -M "${SL_KAM_PKG_MB:-8}" -Y "$SL_WORK" "$@"
}

# sl__group_pids PGID: every process of the group.
sl__group_pids() {
	ps -e -o pid=,pgid= | awk -v g="$1" '$2 == g { print $1 }'
}

# sl_stop NAME: SIGTERM to the whole process group, wait for the leader, make
# sure no member survives (SIGKILL to the group after 5 s).
sl_stop() {
	local name=$1 pid=${SL_PID[$1]:-}
	[ -n "$pid" ] || return 0
	kill -TERM -- "-$pid" 2>/dev/null || true
	for _ in $(seq 1 50); do
		[ -z "$(sl__group_pids "$pid")" ] && break
		sleep 0.1
	done
	if [ -n "$(sl__group_pids "$pid")" ]; then
		sl_log "$name: group $pid still alive after SIGTERM, SIGKILL"
		kill -KILL -- "-$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
	unset "SL_PID[$name]"
}

# sl_cpu_ns NAME: CPU time (user+system, ns) used so far by every thread of
# every process in NAME's process group.
sl_cpu_ns() {
	local pgid=${SL_PID[$1]} p total=0 v
	for p in $(sl__group_pids "$pgid"); do
		v=$(cat /proc/"$p"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f", s }')
		if [ -z "$v" ] || [ "$v" = 0 ]; then
			v=$(awk -v hz="$SL_CLK_TCK" '{ sub(/.*\) /, ""); printf "%.0f", ($12 + $13) * 1e9 / hz }' \
				/proc/"$p"/stat 2>/dev/null || echo 0)
		fi
		total=$((total + v))
	done
	echo "$total"
}

# sl_mem_kb NAME: "PSS_KB RSS_KB" summed over every process in NAME's process
# group (/proc/PID/smaps_rollup Pss, /proc/PID/status VmRSS). PSS splits each
# shared page among the processes mapping it, so the sum counts a multi-
# process server's shared memory (Kamailio's shm pool) once; the RSS sum
# counts it once per process that touched it.
sl_mem_kb() {
	local pgid=${SL_PID[$1]} p pss=0 rss=0 v
	for p in $(sl__group_pids "$pgid"); do
		v=$(awk '/^Pss:/ { print $2; exit }' /proc/"$p"/smaps_rollup 2>/dev/null)
		pss=$((pss + ${v:-0}))
		v=$(awk '/^VmRSS:/ { print $2; exit }' /proc/"$p"/status 2>/dev/null)
		rss=$((rss + ${v:-0}))
	done
	echo "$pss $rss"
}

# sl__parse STATCSV RTTDIR: "calls ok failed retrans rate p50 p99 p999 samples"
sl__parse() {
	python3 - "$1" "$2" <<'PY'
import csv, glob, sys
stat, rttdir = sys.argv[1], sys.argv[2]
with open(stat, newline="") as f:
    rows = [r for r in csv.reader(f, delimiter=";") if r]
hdr, last = rows[0], rows[-1]
col = lambda name: last[hdr.index(name)]
calls = int(col("OutgoingCall(C)"))
ok = int(col("SuccessfulCall(C)"))
failed = int(col("FailedCall(C)"))
retrans = int(col("Retransmissions(C)"))
rate = float(col("CallRate(C)"))
rtt = []
for fn in glob.glob(rttdir + "/*_rtt.csv"):
    with open(fn) as f:
        next(f, None)
        for line in f:
            p = line.split(";")
            if len(p) >= 2:
                try:
                    rtt.append(float(p[1]))
                except ValueError:
                    pass
rtt.sort()
def pct(q):
    if not rtt:
        return -1
    i = max(0, min(len(rtt) - 1, int(-(-q * len(rtt) // 1)) - 1))  # nearest rank
    return rtt[i]
print(calls, ok, failed, retrans, "%.0f" % rate, "%g" % pct(0.50), "%g" % pct(0.99), "%g" % pct(0.999), len(rtt))
PY
}

# sl__probe HOST PORT udp|tcp SECONDS INTERVAL_MS: latency probe with
# microsecond resolution, run beside SIPp: one OPTIONS at a time every
# INTERVAL_MS on its own socket (TCP: one connection), timed with a monotonic
# ns clock. Prints "answered p50_us p99_us" (-1 when nothing was answered).
# The figures include the probe's own Python overhead (tens of µs, the same
# for every server); SIPp's own response times are whole milliseconds.
sl__probe() {
	python3 - "$@" <<'PY'
import socket, sys, time
host, port, tr, secs, ivl = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), float(sys.argv[5]) / 1000
if tr == "tcp":
    s = socket.create_connection((host, port), timeout=1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, 0)); s.connect((host, port)); s.settimeout(1)
lport = s.getsockname()[1]
T = "TCP" if tr == "tcp" else "UDP"
lat, n, end, buf = [], 0, time.monotonic() + secs, b""
while time.monotonic() < end:
    n += 1
    req = ("OPTIONS sip:%s:%d SIP/2.0\r\nVia: SIP/2.0/%s %s:%d;branch=z9hG4bKprobe%d\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:probe@%s>;tag=p%d\r\nTo: <sip:%s:%d>\r\n"
           "Call-ID: probe%d-%d@%s\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
           % (host, port, T, host, lport, n, host, n, host, port, n, lport, host)).encode()
    t0 = time.perf_counter_ns()
    try:
        s.send(req)
        if tr == "tcp":
            while True:
                i = buf.find(b"\r\n\r\n")
                if i >= 0:
                    head = buf[:i].decode("latin-1").lower()
                    cl = 0
                    for line in head.split("\r\n"):
                        if line.startswith("content-length:") or line.startswith("l:"):
                            cl = int(line.split(":", 1)[1])
                    if len(buf) >= i + 4 + cl:
                        buf = buf[i + 4 + cl:]
                        break
                d = s.recv(65536)
                if not d:
                    raise OSError("closed")
                buf += d
        else:
            s.recv(65536)
        lat.append((time.perf_counter_ns() - t0) / 1000)
    except OSError:
        if tr == "tcp":
            break
    time.sleep(max(0, ivl - (time.perf_counter_ns() - t0) / 1e9))
lat.sort()
pct = lambda q: lat[max(0, min(len(lat) - 1, int(-(-q * len(lat) // 1)) - 1))] if lat else -1
print(len(lat), "%.0f" % pct(0.5), "%.0f" % pct(0.99))
PY
}

# sl_step NAME TRANSPORT RATE: one SIPp run against server NAME (udp|tcp) at
# RATE calls/s for SL_DURATION s. Fills SL_R[target rate calls ok failed
# retrans cpu_us p50 p99 p999 good why].
sl_step() {
	local name=$1 tr=$2 rate=$3
	local port=${SL_PORT[$name]} scen=${SL_SCENARIO:-$SL_BENCH/scenarios/options.xml}
	local n=$((rate * SL_DURATION))
	local t=u1
	[ "$tr" = tcp ] && t=${SL_TCP_MODE:-t1}
	SL_STEPS=$((SL_STEPS + 1))
	local dir="$SL_WORK/step$SL_STEPS-$name-$tr-$rate"
	mkdir -p "$dir"
	local cpu0 cpu1
	cpu0=$(sl_cpu_ns "$name")
	(cd "$dir" && exec sipp "$SL_HOST:$port" -sf "$scen" -t "$t" -i "$SL_HOST" -p "$(sl_free_port)" \
		-r "$rate" -rp 1000 -m "$n" -l $((rate * 4 + 1000)) -nostdin -nd \
		-trace_stat -stf "$dir/stat.csv" -fd 1 -trace_rtt -rtt_freq 1000 \
		-trace_err -error_file "$dir/err.log" -recv_timeout "$SL_RECV_TIMEOUT_MS" \
		-timeout $((SL_DURATION * 3 + 10)) -max_recv_loops 100000 -max_sched_loops 100000 \
		-buff_size 4194304 "${SL_SIPP_EXTRA[@]}" >"$dir/sipp.out" 2>&1) &
	SL_SIPP_PID=$!
	local probe=(0 -1 -1)
	if [ "${SL_PROBE:-0}" = 1 ] && [ "$SL_DURATION" -ge 2 ]; then
		# Starts after SIPp's first second, ends before its last.
		sleep 1
		read -r -a probe < <(sl__probe "$SL_HOST" "$port" "$tr" $((SL_DURATION - 2)).5 \
			"${SL_PROBE_MS:-2}" 2>>"$dir/probe.err" || echo 0 -1 -1)
		[ ${#probe[@]} -eq 3 ] || probe=(0 -1 -1)
	fi
	wait "$SL_SIPP_PID" || true
	SL_SIPP_PID=""
	cpu1=$(sl_cpu_ns "$name")
	SL_R=([target]=$rate [good]=0 [why]="" [calls]=0 [ok]=0 [failed]=0 [retrans]=0 [rate]=0
		[cpu_us]=-1 [p50]=-1 [p99]=-1 [p999]=-1
		[probe_n]=${probe[0]} [probe_p50_us]=${probe[1]} [probe_p99_us]=${probe[2]})
	if ! kill -0 "${SL_PID[$name]}" 2>/dev/null; then
		SL_R[why]="server died"
		sl_log "$name $tr $rate/s: server died"; tail -n 20 "$SL_WORK/$name.log" >&2
		return 1
	fi
	if [ ! -s "$dir/stat.csv" ]; then
		SL_R[why]="no sipp stats"
		sl_log "$name $tr $rate/s: no SIPp statistics"; tail -n 5 "$dir/sipp.out" >&2
		return 0
	fi
	local calls ok failed retrans arate p50 p99 p999
	read -r calls ok failed retrans arate p50 p99 p999 _ < <(sl__parse "$dir/stat.csv" "$dir")
	SL_R[calls]=$calls SL_R[ok]=$ok SL_R[failed]=$failed SL_R[retrans]=$retrans SL_R[rate]=$arate
	SL_R[p50]=$p50 SL_R[p99]=$p99 SL_R[p999]=$p999
	if [ "$ok" -gt 0 ]; then
		# The probe's requests cost the server CPU too: count them.
		SL_R[cpu_us]=$(awk -v d=$((cpu1 - cpu0)) -v n=$((ok + probe[0])) 'BEGIN { printf "%.2f", d / n / 1000 }')
	fi
	local why=""
	[ "$failed" -eq 0 ] || why+="failed=$failed "
	[ "$ok" -eq "$n" ] || why+="answered=$ok/$n "
	awk -v r="$retrans" -v n="$n" -v p="$SL_MAX_RETRANS_PCT" 'BEGIN { exit !(r * 100 > n * p) }' &&
		why+="retrans=$retrans "
	awk -v a="$arate" -v r="$rate" -v m="$SL_MIN_ACHIEVED" 'BEGIN { exit !(a < r * m) }' &&
		why+="client-limited(sent ${arate}/s) "
	# Optional latency bound (off by default: the issue's criterion is
	# failures and retransmissions only, which TCP never shows).
	[ -n "${SL_MAX_P99_MS:-}" ] && awk -v p="$p99" -v m="$SL_MAX_P99_MS" 'BEGIN { exit !(p > m) }' &&
		why+="p99>${SL_MAX_P99_MS}ms "
	SL_R[why]=${why% }
	[ -z "$why" ] && SL_R[good]=1
	sl_log "$(printf '%-9s %s %7d/s: sent %6s/s ok %7d fail %d retrans %d cpu %6s us/req rtt p50 %s p99 %s p99.9 %s ms%s %s' \
		"$name" "$tr" "$rate" "$arate" "$ok" "$failed" "$retrans" "${SL_R[cpu_us]}" "$p50" "$p99" "$p999" \
		"$([ "${probe[0]}" -gt 0 ] && echo " (probe p50 ${probe[1]} p99 ${probe[2]} us)")" \
		"$([ "${SL_R[good]}" = 1 ] && echo good || echo "BAD: ${SL_R[why]}")")"
	rm -f "$dir"/*_rtt.csv
	return 0
}

sl__keep_best() {
	SL_BEST=([rate]=${SL_R[target]} [cpu_us]=${SL_R[cpu_us]} [p99]=${SL_R[p99]} [p50]=${SL_R[p50]}
		[probe_p99_us]=${SL_R[probe_p99_us]})
}

# sl__late: true once SL_DEADLINE (epoch seconds, optional) has passed.
sl__late() {
	[ -n "${SL_DEADLINE:-}" ] && [ "$(date +%s)" -ge "$SL_DEADLINE" ] && {
		sl_log "time budget reached: search stops here"; return 0; }
	return 1
}

# sl_search NAME TRANSPORT START [KNOWN_GOOD_RATE CPU P99 PROBE_P99]: highest good rate.
# Doubles from START (or from 2*KNOWN_GOOD_RATE when a step at that rate
# already passed, whose figures are then reused) until a step fails, then
# bisects until hi/lo <= SL_BISECT_RATIO. If START fails, halves down to
# SL_MIN_RATE. Stops early at SL_DEADLINE. Fills SL_BEST[rate cpu_us p99
# probe_p99_us] (rate 0: nothing passed).
sl_search() {
	local name=$1 tr=$2 r=$3 lo=0 hi=0
	SL_BEST=([rate]=0 [cpu_us]=-1 [p99]=-1 [p50]=-1 [probe_p99_us]=-1)
	if [ -n "${4:-}" ] && [ "$4" -gt 0 ]; then
		lo=$4 r=$((2 * $4))
		SL_BEST=([rate]=$4 [cpu_us]=$5 [p99]=$6 [p50]=-1 [probe_p99_us]=${7:--1})
	fi
	while [ "$r" -le "$SL_MAX_RATE" ] && ! sl__late; do
		sl_step "$name" "$tr" "$r" || return 0
		if [ "${SL_R[good]}" = 1 ]; then
			lo=$r; sl__keep_best; r=$((r * 2))
		else
			hi=$r; break
		fi
	done
	if [ "$lo" -eq 0 ]; then
		r=$((hi / 2))
		while [ "$r" -ge "$SL_MIN_RATE" ] && ! sl__late; do
			sl_step "$name" "$tr" "$r" || return 0
			if [ "${SL_R[good]}" = 1 ]; then lo=$r; sl__keep_best; break; fi
			hi=$r; r=$((r / 2))
		done
		[ "$lo" -eq 0 ] && return 0
	fi
	[ "$hi" -eq 0 ] && return 0
	while ! sl__late && awk -v h="$hi" -v l="$lo" -v q="$SL_BISECT_RATIO" 'BEGIN { exit !(h > l * q) }'; do
		r=$(((lo + hi) / 2 / SL_RATE_QUANTUM * SL_RATE_QUANTUM))
		{ [ "$r" -le "$lo" ] || [ "$r" -ge "$hi" ]; } && break
		sl_step "$name" "$tr" "$r" || return 0
		if [ "${SL_R[good]}" = 1 ]; then lo=$r; sl__keep_best; else hi=$r; fi
	done
	return 0
}

# sl_median V...: median of numbers (the lower middle for an even count).
sl_median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
