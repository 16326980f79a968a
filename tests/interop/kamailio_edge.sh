#!/usr/bin/env bash
# sipd as the home registrar and proxy behind Kamailio as the edge proxy
# (tests/interop/kamailio/edge.cfg), a deployment we did not write the other
# half of: a phone registers through Kamailio, which adds a Path with the
# phone's source address (path module); sipd stores it and, for a call to
# the phone, sends the INVITE to Kamailio with that Path as Route (RFC 3327);
# Kamailio loose-routes it to the phone; the phone's 486 comes back through
# both. Then the phone's own call goes through Kamailio (Record-Route) and
# sipd to a second phone registered directly.
source "$(dirname "$0")/common.bash"
command -v kamailio >/dev/null || { echo "kamailio not installed (scripts/deps)"; exit 1; }
H=$(free_port); K=$(free_port); U=$(free_port); V=$(free_port)
start_sipd home -l udp:127.0.0.1:$H --workers 2 --db "$WORK/home.db" --trace

kamailio -DD -E -f "$HERE/kamailio/edge.cfg" -l "udp:127.0.0.1:$K" -n 1 -Y "$WORK" \
	-A "HOME_URI=\"sip:127.0.0.1:$H\"" >"$WORK/kamailio.log" 2>&1 &
KAM_PID=$!
PIDS+=("$KAM_PID")
ready=0
for _ in $(seq 1 50); do
	kill -0 "$KAM_PID" 2>/dev/null || break
	if python3 - "$HERE" "$K" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import sipnet
port = int(sys.argv[2])
r = sipnet.udp_exchange(sipnet.options("127.0.0.1", port), ("127.0.0.1", port), wait=0.3)
sys.exit(0 if r and sipnet.status_of(r[-1]) else 1)
PY
	then ready=1; break; fi
	sleep 0.1
done
check "Kamailio (the edge) is up and answers (an OPTIONS relayed to sipd and back)" test $ready = 1

# An OPTIONS for the edge itself goes edge → sipd (the edge relays all to
# the home) → edge (its Request-URI) → sipd again: the same request came
# back through a proxy we did not write — 482 (§16.3 step 4, RFC 5393).
before=$(grep -a -A1 "trace recv" "$WORK/home.log" | grep -ac "^OPTIONS " || true)
loop=$(python3 - "$HERE" "$K" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import sipnet
port = int(sys.argv[2])
r = sipnet.udp_exchange(sipnet.options("127.0.0.1", port, call_id="kloop@t"), ("127.0.0.1", port), wait=3.0)
print(sipnet.status_of(r[-1]) if r else None)
PY
)
after=$(grep -a -A1 "trace recv" "$WORK/home.log" | grep -ac "^OPTIONS " || true)
check "a loop through Kamailio (edge → sipd → edge → sipd): 482 Loop Detected (got $loop)" test "$loop" = 482
check "  sipd saw the OPTIONS twice, not until Max-Forwards ran out" test $((after - before)) = 2

out=$(python3 - "$HERE" "$H" "$K" "$U" "$V" <<'PY'
import sys, re, time
sys.path.insert(0, sys.argv[1])
import sipnet
home, edge, u, v = (int(x) for x in sys.argv[2:6])
phone = sipnet.Responder(u)           # registers through the edge, answers 486
reg = sipnet.register("127.0.0.1", home, "bob", "127.0.0.1", contacts=["<sip:bob@127.0.0.1:%d>" % u],
                      local_port=u, extra="Supported: path\r\n")
phone.send(reg, ("127.0.0.1", edge))
deadline = time.time() + 3
while time.time() < deadline and not any(sipnet.status_of(m) for m in phone.responses):
    time.sleep(0.05)
r = phone.responses[0] if phone.responses else b""
print("reg", sipnet.status_of(r) if r else None)
path = re.search(rb"(?im)^Path: *(.*?)\r$", r)
print("path", path.group(1).decode() if path else None)
# A call to bob at the home: home -> edge (Route = Path) -> phone.
inv = ("INVITE sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-ke1;rport\r\n"
       "Max-Forwards: 70\r\nFrom: <sip:carol@127.0.0.1>;tag=k1\r\nTo: <sip:bob@127.0.0.1>\r\n"
       "Call-ID: kedge1@t\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n").encode()
res = sipnet.udp_exchange(inv, ("127.0.0.1", home), wait=5.0)
finals = [sipnet.status_of(m) for m in res if (sipnet.status_of(m) or 0) >= 200]
print("call", finals[0] if finals else None)
if phone.invites:
    m = phone.invites[0][1]
    print("from", phone.peers[0][1])
    print("ruri", m.split(b"\r\n")[0].decode())
    print("vias", len(re.findall(rb"(?im)^(?:Via|v):", m)))
    print("routes", len(re.findall(rb"(?im)^Route:", m)))
phone.stop()
# bob's own call through the edge to dave, registered directly at the home.
dave = sipnet.Responder(v, code=480, reason="Temporarily Unavailable")
r = sipnet.udp_exchange(sipnet.register("127.0.0.1", home, "dave", "127.0.0.1",
                        contacts=["<sip:dave@127.0.0.1:%d>" % v]), ("127.0.0.1", home))
inv = ("INVITE sip:dave@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-ke2;rport\r\n"
       "Max-Forwards: 70\r\nFrom: <sip:bob@127.0.0.1>;tag=k2\r\nTo: <sip:dave@127.0.0.1>\r\n"
       "Call-ID: kedge2@t\r\nCSeq: 1 INVITE\r\nContact: <sip:bob@127.0.0.1:%d>\r\nContent-Length: 0\r\n\r\n" % u).encode()
res = sipnet.udp_exchange(inv, ("127.0.0.1", edge), wait=5.0)
finals = [sipnet.status_of(m) for m in res if (sipnet.status_of(m) or 0) >= 200]
print("out", finals[0] if finals else None)
if dave.invites:
    m = dave.invites[0][1]
    print("out_rr", ",".join(x.decode() for x in re.findall(rb"(?im)^Record-Route: *(.*?)\r$", m)))
dave.stop()
PY
)
echo "$out" | sed 's/^/info: /'
check "bob registers through Kamailio: sipd's 200 comes back through it" grep -qx "reg 200" <<<"$out"
check "  with the Path Kamailio added (its address, bob's source as ;received)" \
	grep -Eq "^path <sip:127\.0\.0\.1:$K;.*received=" <<<"$out"
check "a call to bob at sipd: the home routes it along the Path, Kamailio to bob; bob's 486 comes back" \
	grep -qx "call 486" <<<"$out"
check "  bob got it from Kamailio (port $K)" grep -qx "from $K" <<<"$out"
check "  with his contact as Request-URI, three Vias, the Route consumed by Kamailio" \
	bash -c "grep -qx 'ruri INVITE sip:bob@127.0.0.1:$U SIP/2.0' <<<'$out' && grep -qx 'vias 3' <<<'$out' && grep -qx 'routes 0' <<<'$out'"
check "  sipd sent the INVITE to Kamailio with the Path as its Route" \
	bash -c "grep -a -A12 'trace send UDP 127.0.0.1:$K' '$WORK/home.log' | grep -aq '^Route: <sip:127.0.0.1:$K;.*received='"
check "bob's call to dave through Kamailio and sipd: dave's 480 comes back" grep -qx "out 480" <<<"$out"
check "  Record-Routed by sipd and by Kamailio" \
	grep -Eq "^out_rr <sip:127\.0\.0\.1:$H;lr>,<sip:127\.0\.0\.1:$K;lr>" <<<"$out"
check "Kamailio still running" kill -0 "$KAM_PID"
stop_pid "$KAM_PID"
stop_pid "$SIPD_PID"
check "no sanitizer report from sipd" bash -c "! grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' '$WORK/home.log'"
