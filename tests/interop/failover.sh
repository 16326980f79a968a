#!/usr/bin/env bash
# RFC 3263 §4.3 fail-over end to end, with a real DNS server (dnsmasq on a
# free port, started and stopped here): the SRV records of fo.test list
# three servers by priority — one answers 503, one never answers, the last
# answers 200. sipua (the library's UA core) walks the list: 503 → next,
# Timer F (T1 = 20 ms) → next, 200. Over TCP (fot.test) the first server
# refuses the connection (a transport error) and the second is sipd itself.
# Then sipd as a proxy: a binding whose Contact is sip:lena@fo.test is
# reached the same way — the 503 and the timeout each move the branch to
# the next server, the caller gets the last one's 200. Last, a 503 after a
# 180 is the callee's answer, not a reason to ring a second phone.
source "$(dirname "$0")/common.bash"
DNSMASQ=/usr/sbin/dnsmasq
[ -x "$DNSMASQ" ] || { echo "dnsmasq missing (scripts/deps installs dnsmasq-base)"; exit 1; }

DNS=$(free_port)
A=$(free_port) # answers 503
B=$(free_port) # never answers
C=$(free_port) # answers 200
D=$(free_port) # nothing listens on TCP: connection refused
S=$(free_port) # sipd, UDP and TCP
R1=$(free_port) # rings, then 503
R2=$(free_port) # would answer 200: must not be called

"$DNSMASQ" -k --no-resolv --no-hosts --conf-file=/dev/null --listen-address=127.0.0.1 --bind-interfaces \
	--port="$DNS" --pid-file= --no-negcache --local=/test/ "$([ "$(id -u)" = 0 ] && echo --user=root || echo --no-ping)" \
	--srv-host=_sip._udp.fo.test,a.fo.test,"$A",10,0 \
	--srv-host=_sip._udp.fo.test,b.fo.test,"$B",20,0 \
	--srv-host=_sip._udp.fo.test,c.fo.test,"$C",30,0 \
	--srv-host=_sip._tcp.fot.test,d.fo.test,"$D",10,0 \
	--srv-host=_sip._tcp.fot.test,s.fo.test,"$S",20,0 \
	--srv-host=_sip._udp.ring.test,a.fo.test,"$R1",10,0 \
	--srv-host=_sip._udp.ring.test,b.fo.test,"$R2",20,0 \
	--host-record=a.fo.test,127.0.0.1 --host-record=b.fo.test,127.0.0.1 \
	--host-record=c.fo.test,127.0.0.1 --host-record=d.fo.test,127.0.0.1 \
	--host-record=s.fo.test,127.0.0.1 >"$WORK/dnsmasq.log" 2>&1 &
DNS_PID=$!
PIDS+=("$DNS_PID")
for _ in $(seq 1 100); do
	[ -n "$(ss -Hlun "sport = :$DNS" 2>/dev/null)" ] && break
	sleep 0.05
done

# The three UDP servers, counting what each got (one line per request).
python3 - "$HERE" "$A" "$B" "$C" "$WORK" <<'PY' &
import os, socket, sys, time
sys.path.insert(0, sys.argv[1])
import sipnet
a, b, c, work = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
ra = sipnet.Responder(a, code=503, reason="Service Unavailable", methods=("OPTIONS", "INVITE"))
rc = sipnet.Responder(c, code=200, reason="OK", methods=("OPTIONS", "INVITE"))
silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
silent.bind(("127.0.0.1", b))
silent.settimeout(0.05)
got_b = 0
while not os.path.exists(os.path.join(work, "stop")):
    try:
        silent.recvfrom(65535)
        got_b += 1
    except socket.timeout:
        pass
    with open(os.path.join(work, "counts.tmp"), "w") as f:
        f.write("a %d b %d c %d\n" % (len(ra.invites), got_b, len(rc.invites)))
    os.replace(os.path.join(work, "counts.tmp"), os.path.join(work, "counts"))
PY
SRV_PID=$!
PIDS+=("$SRV_PID")
for _ in $(seq 1 100); do [ -f "$WORK/counts" ] && break; sleep 0.05; done
counts() { cat "$WORK/counts"; }

cat >"$WORK/sipd.yaml" <<YAML
domains: [fot.test]
timers:
  t1: 20
proxy:
  dns: 127.0.0.1:$DNS
YAML
start_sipd sipd -c "$WORK/sipd.yaml" -l "udp:127.0.0.1:$S" -l "tcp:127.0.0.1:$S" --workers 2 --db "$WORK/sipd.db"

# 1. sipua over UDP: 503, timeout, 200.
rc=0; "$SIPUA" options sip:fo.test --dns "127.0.0.1:$DNS" --t1 20 >"$WORK/ua1.out" 2>&1 || rc=$?
sleep 0.3; c1=$(counts)
check "sipua options sip:fo.test: the 503 server, then the silent one (Timer F), then 200 from the third" \
	bash -c "[ $rc -eq 0 ] && grep -q '^SIP/2.0 200' '$WORK/ua1.out'"
check "  each server was tried, in SRV priority order ($c1)" \
	bash -c "read -r _ a _ b _ c <<<'$c1'; [ \$a -eq 1 ] && [ \$b -ge 1 ] && [ \$c -eq 1 ]"

# 2. sipua over TCP: connection refused, then sipd.
rc=0; "$SIPUA" options sip:fot.test --transport tcp --dns "127.0.0.1:$DNS" --t1 20 >"$WORK/ua2.out" 2>&1 || rc=$?
check "sipua options sip:fot.test over TCP: refused by the first server, 200 from the second (sipd)" \
	bash -c "[ $rc -eq 0 ] && grep -q '^sipua: 200 over TCP from 127.0.0.1:$S' '$WORK/ua2.out'"

# 3. sipd proxying to a Contact in fo.test.
python3 - "$HERE" "$S" <<'PY' >"$WORK/reg.out"
import sys
sys.path.insert(0, sys.argv[1])
import sipnet
port = int(sys.argv[2])
msg = ("REGISTER sip:127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-fo-reg;rport\r\n"
       "Max-Forwards: 70\r\nFrom: <sip:lena@127.0.0.1>;tag=r1\r\nTo: <sip:lena@127.0.0.1>\r\n"
       "Call-ID: fo-reg@t\r\nCSeq: 1 REGISTER\r\nContact: <sip:lena@fo.test>\r\nExpires: 300\r\n"
       "Content-Length: 0\r\n\r\n") % (port, port)
got = sipnet.udp_exchange(msg.encode(), ("127.0.0.1", port))
print(sipnet.status_of(got[-1]) if got else None)
PY
check "REGISTER lena with Contact <sip:lena@fo.test>: 200" grep -qx 200 "$WORK/reg.out"
before=$(counts)
# (the caller's own Timer F must outlast sipd's 64 × 20 ms on the silent server)
rc=0; "$SIPUA" options "sip:lena@127.0.0.1:$S" --t1 100 >"$WORK/ua3.out" 2>&1 || rc=$?
sleep 0.3; after=$(counts)
check "OPTIONS to lena through sipd: the 503 and the timeout each move the branch on, the caller gets 200" \
	bash -c "[ $rc -eq 0 ] && grep -q '^SIP/2.0 200' '$WORK/ua3.out'"
check "  sipd tried all three servers ($before → $after)" \
	bash -c "read -r _ a0 _ b0 _ c0 <<<'$before'; read -r _ a1 _ b1 _ c1 <<<'$after';
		[ \$((a1 - a0)) -eq 1 ] && [ \$((b1 - b0)) -ge 1 ] && [ \$((c1 - c0)) -eq 1 ]"

# 4. sipua call: the first server rings, then answers 503 — the final answer.
"$SIPUA" answer --listen "127.0.0.1:$R1" --ring-ms 300 --code 503 --timeout 8 >"$WORK/r1.out" 2>&1 &
R1_PID=$!; PIDS+=("$R1_PID")
"$SIPUA" answer --listen "127.0.0.1:$R2" --code 200 --timeout 4 >"$WORK/r2.out" 2>&1 &
R2_PID=$!; PIDS+=("$R2_PID")
sleep 0.3
rc=0; "$SIPUA" call sip:bob@ring.test --dns "127.0.0.1:$DNS" --timeout 6 >"$WORK/call.out" 2>&1 || rc=$?
r2=0; wait "$R2_PID" || r2=$?
check "sipua call: 180 then 503 from the first server is the answer (exit non-zero, 503 reported)" \
	bash -c "[ $rc -ne 0 ] && grep -q '503' '$WORK/call.out'"
check "  the second server was never called (it timed out waiting, exit $r2)" \
	bash -c "[ $r2 -ne 0 ] && ! grep -qi 'INVITE\|ringing\|answered' '$WORK/r2.out'"
stop_pid "$R1_PID"

touch "$WORK/stop"
check "sipd still running" kill -0 "$SIPD_PID"
stop_pid "$SIPD_PID"
stop_pid "$SRV_PID"
stop_pid "$DNS_PID"
