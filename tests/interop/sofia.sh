#!/usr/bin/env bash
# sipd against Sofia-SIP's `sip-options` (sofia-sip-bin: Nokia's SIP stack,
# its own parser and transaction layer — the stack FreeSWITCH uses):
# OPTIONS to sipd itself over UDP and TCP, IPv4 and IPv6 (200 with Allow and
# Server); at Max-Forwards 0 still 200 (RFC 3261 §16.3 step 3: an OPTIONS
# may be answered by the element it reaches); to a user with no binding 480;
# to a registered phone forwarded (Max-Forwards decremented, sipd's Via on
# top) and the phone's 200 relayed back to Sofia; at Max-Forwards 0 toward
# the phone 483, not forwarded.
source "$(dirname "$0")/common.bash"
command -v sip-options >/dev/null || { echo "sip-options missing (scripts/deps installs sofia-sip-bin)"; exit 1; }
P=$(free_port)
U=$(free_port)
start_sipd sipd -l "udp:127.0.0.1:$P" -l "tcp:127.0.0.1:$P" -l "udp:[::1]:$P" -l "tcp:[::1]:$P" \
	--db "$WORK/sipd.db" --workers 2
# so NAME ARGS...: sip-options, output in $WORK/NAME.out; sets RC.
so() {
	local name=$1; shift
	RC=0
	timeout 20 sip-options "$@" >"$WORK/$name.out" 2>&1 || RC=$?
}
answered_200() {
	[ "$RC" -eq 0 ] && grep -aq '^SIP/2.0 200 OK' "$WORK/$1.out" && grep -aq '^Server: sipd' "$WORK/$1.out" &&
		grep -aq '^Allow: .*OPTIONS' "$WORK/$1.out"
}

so udp4 "sip:127.0.0.1:$P"
check "OPTIONS over UDP/IPv4: 200 with Server and Allow, exit 0" answered_200 udp4
so tcp4 "sip:127.0.0.1:$P;transport=tcp"
check "OPTIONS over TCP/IPv4: 200" answered_200 tcp4
so udp6 --bind="sip:[::1]:*" "sip:[::1]:$P"
check "OPTIONS over UDP/IPv6: 200" answered_200 udp6
so tcp6 --bind="sip:[::1]:*;transport=tcp" "sip:[::1]:$P;transport=tcp"
check "OPTIONS over TCP/IPv6: 200" answered_200 tcp6
so mf0 --mf=0 "sip:127.0.0.1:$P"
check "OPTIONS to sipd itself at Max-Forwards 0: 200 (§16.3 step 3)" answered_200 mf0
so nobody "sip:nobody@127.0.0.1:$P"
check "OPTIONS to a user with no binding: 480, exit non-zero" \
	bash -c "[ $RC -ne 0 ] && grep -aq '^SIP/2.0 480 ' '$WORK/nobody.out'"

# bob's phone: registers, answers OPTIONS with 200 (a Python thread).
python3 - "$HERE" "$P" "$U" >"$WORK/phone.out" 2>&1 <<'PY' &
import sys, time
sys.path.insert(0, sys.argv[1])
import sipnet
sipd, u = int(sys.argv[2]), int(sys.argv[3])
phone = sipnet.Responder(u, code=200, reason="OK", methods=("OPTIONS",))
phone.send(sipnet.register("127.0.0.1", sipd, "bob", "127.0.0.1", contacts=["<sip:bob@127.0.0.1:%d>" % u],
                           local_port=u), ("127.0.0.1", sipd))
deadline = time.time() + 3
while time.time() < deadline and not phone.responses:
    time.sleep(0.05)
print("reg", sipnet.status_of(phone.responses[0]) if phone.responses else None, flush=True)
deadline = time.time() + 15
while time.time() < deadline and not phone.invites:
    time.sleep(0.05)
time.sleep(1)  # a second OPTIONS (the Max-Forwards 0 one) must not come
print("received", len(phone.invites))
if phone.invites:
    m = phone.invites[0][1].decode(errors="replace")
    print("ruri", m.split("\r\n")[0])
    print("mf", *[v.decode() for v in sipnet.header_values(phone.invites[0][1], "Max-Forwards")])
    vias = [l for l in m.split("\r\n") if l.lower().startswith(("via:", "v:"))]
    print("topvia", vias[0] if vias else None)
    print("vias", len(vias))
phone.stop()
PY
PHONE=$!
for _ in $(seq 1 60); do grep -q '^reg ' "$WORK/phone.out" 2>/dev/null && break; sleep 0.05; done
check "bob's phone registered (200)" grep -q '^reg 200$' "$WORK/phone.out"
so bob --mf=5 "sip:bob@127.0.0.1:$P"
check "OPTIONS to bob: the phone's 200 relayed to Sofia, exit 0" \
	bash -c "[ $RC -eq 0 ] && grep -aq '^SIP/2.0 200 OK' '$WORK/bob.out'"
so bob0 --mf=0 "sip:bob@127.0.0.1:$P"
check "OPTIONS to bob at Max-Forwards 0: 483, exit non-zero" \
	bash -c "[ $RC -ne 0 ] && grep -aq '^SIP/2.0 483 ' '$WORK/bob0.out'"
wait "$PHONE" || true
check "the phone got exactly one OPTIONS (the Max-Forwards 0 one was not forwarded)" \
	grep -q '^received 1$' "$WORK/phone.out"
check "  for its Contact, Max-Forwards 4, sipd's Via on top of Sofia's" \
	bash -c "grep -q '^ruri OPTIONS sip:bob@127.0.0.1:$U SIP/2.0' '$WORK/phone.out' &&
		grep -q '^mf 4$' '$WORK/phone.out' &&
		grep -q '^topvia Via: SIP/2.0/UDP 127.0.0.1:$P;branch=z9hG4bK' '$WORK/phone.out' &&
		grep -q '^vias 2$' '$WORK/phone.out'"
check "sipd still running" kill -0 "$SIPD_PID"
stop_pid "$SIPD_PID"
