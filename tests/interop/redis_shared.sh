#!/usr/bin/env bash
# Two sipd servers sharing one location store in a real redis-server
# (--location redis://...): a phone registers at one, a call to it through
# the other reaches it; an unregistration at the second is seen by the
# first; a binding survives a kill -9 of the server that stored it.
source "$(dirname "$0")/common.bash"
command -v redis-server >/dev/null || { echo "redis-server not installed (scripts/deps)"; exit 1; }
R=$(free_port); A=$(free_port); B=$(free_port); U=$(free_port)
# start_redis: redis-server on port $R in the foreground as our child (no
# persistence); sets REDIS_PID and waits until it answers PING.
start_redis() {
	redis-server --port "$R" --bind 127.0.0.1 --save "" --appendonly no >>"$WORK/redis.log" 2>&1 &
	REDIS_PID=$!
	PIDS+=("$REDIS_PID")
	for _ in $(seq 1 100); do
		redis-cli -p "$R" PING 2>/dev/null | grep -q PONG && break
		sleep 0.05
	done
}
start_redis
check "redis-server answers on port $R" bash -c "redis-cli -p $R PING | grep -q PONG"
start_sipd a -l udp:127.0.0.1:$A --workers 2 --db "$WORK/a.db" --location "redis://127.0.0.1:$R" --trace
A_PID=$SIPD_PID
start_sipd b -l udp:127.0.0.1:$B --workers 2 --db "$WORK/b.db" --location "redis://127.0.0.1:$R" --trace
B_PID=$SIPD_PID
check "sipd logs where its bindings live" grep -q "bindings in Redis redis://127.0.0.1:$R" "$WORK/a.log"

# call PORT USER: INVITE USER@127.0.0.1 at sipd PORT; prints the final status
# and how many INVITEs the phone on $U got.
call() {
	python3 - "$HERE" "$1" "$2" "$U" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import sipnet
port, user, u = int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
phone = sipnet.Responder(u)
inv = ("INVITE sip:%s@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-rs%s;rport\r\n"
       "Max-Forwards: 70\r\nFrom: <sip:x@127.0.0.1>;tag=r1\r\nTo: <sip:%s@127.0.0.1>\r\n"
       "Call-ID: rs%s@t\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
       % (user, sipnet.time.time(), user, sipnet.time.time())).encode()
out = sipnet.udp_exchange(inv, ("127.0.0.1", port), wait=4.0)
sipnet.time.sleep(0.1)
phone.stop()
finals = [sipnet.status_of(m) for m in out if (sipnet.status_of(m) or 0) >= 200]
print(finals[0] if finals else None, len(phone.invites))
PY
}
check "bob registers at sipd A (200)" test "$(reg_contacts "$A" bob "<sip:bob@127.0.0.1:$U>")" = 200
check "  Redis holds bob's binding" bash -c "redis-cli -p $R EXISTS 'sipd:aor:sip:bob@127.0.0.1' | grep -qx 1"
got=$(call "$B" bob)
check "a call to bob through sipd B reaches him (486 back, one INVITE) (got $got)" test "$got" = "486 1"
got=$(python3 - "$HERE" "$B" "$U" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import sipnet
port, u = int(sys.argv[2]), int(sys.argv[3])
r = sipnet.udp_exchange(sipnet.register("127.0.0.1", port, "bob", "127.0.0.1", contacts=["*"], expires=0,
                        call_id="reg-2@test"), ("127.0.0.1", port))
print(sipnet.status_of(r[0]) if r else None)
PY
)
check "bob unregisters everything at sipd B (200)" test "$got" = 200
got=$(call "$A" bob)
check "  sipd A sees it: a call to bob there gets 480, no INVITE (got $got)" test "$got" = "480 0"

check "carol registers at sipd A (200)" test "$(reg_contacts "$A" carol "<sip:carol@127.0.0.1:$U>")" = 200
kill -9 "$A_PID"; wait "$A_PID" 2>/dev/null || true
start_sipd a2 -l udp:127.0.0.1:$A --workers 2 --db "$WORK/a.db" --location "redis://127.0.0.1:$R"
got=$(call "$A" carol)
check "after kill -9 and a restart of sipd A, a call to carol reaches her (got $got)" test "$got" = "486 1"

# Redis goes away: REGISTERs get 500 at once, and the server keeps serving
# (its workers do not wait on a dead Redis); when Redis is back, so are
# registrations.
stop_pid "$REDIS_PID"
t0=$(date +%s%N)
got=$(reg_contacts "$A" dave "<sip:dave@127.0.0.1:$U>")
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "with Redis down, a REGISTER gets 500 (got $got in $ms ms)" test "$got" = 500
check "  and sipd still answers OPTIONS" \
	bash -c "python3 -c 'import sys; sys.path.insert(0, \"$HERE\"); import sipnet; r = sipnet.udp_exchange(sipnet.options(\"127.0.0.1\", $A), (\"127.0.0.1\", $A)); sys.exit(0 if r and sipnet.status_of(r[0]) == 200 else 1)'"
start_redis
ok_again=""
for _ in $(seq 1 30); do # the worker retries the connection after its back-off
	ok_again=$(reg_contacts "$A" dave "<sip:dave@127.0.0.1:$U>")
	[ "$ok_again" = 200 ] && break
	sleep 0.2
done
check "Redis back: REGISTER 200 again (got $ok_again)" test "$ok_again" = 200
stop_pid "$SIPD_PID"
stop_pid "$B_PID"
stop_pid "$REDIS_PID"
check "no sanitizer report from either sipd" \
	bash -c "! grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' '$WORK/a.log' '$WORK/b.log' '$WORK/a2.log'"
