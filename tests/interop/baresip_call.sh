#!/usr/bin/env bash
# Two real phones call each other through sipd's proxy: baresip (libre)
# alice and bob register, bob answers automatically, alice dials
# sip:bob@localhost and hangs up after a few seconds. The INVITE reaches
# bob's registered contact with sipd's Record-Route, the ACK and BYE follow
# the recorded route through sipd, and both phones see the call established
# and ended. Audio is a sine source and a file sink (no sound card).
source "$(dirname "$0")/common.bash"
command -v baresip >/dev/null || { echo "baresip missing (scripts/deps installs baresip-core)"; exit 1; }
P=$(free_port)
start_sipd sipd -l "udp:127.0.0.1:$P" --db "$WORK/sipd.db" --trace --workers 2

phone() { # phone NAME PORT
	baresip_phone "$1" "$2" "<sip:$1@localhost>;outbound=\"sip:127.0.0.1:$P\";regint=60;answermode=auto"
}
A=$(free_port)
B=$(free_port)
while [ $((B - A)) -ge -2 ] && [ $((B - A)) -le 2 ]; do B=$(free_port); done
phone alice "$A"
phone bob "$B"

{ sleep 10; } | timeout 25 baresip -f "$WORK/bob" >"$WORK/bob.log" 2>&1 &
BOB=$!
PIDS+=("$BOB")
for _ in $(seq 1 60); do grep -aq "registered successfully" "$WORK/bob.log" && break; sleep 0.1; done
{ sleep 1.5; echo "/dial sip:bob@localhost"; sleep 3; echo "/hangup"; sleep 1.5; } |
	timeout 25 baresip -f "$WORK/alice" >"$WORK/alice.log" 2>&1 || true
wait "$BOB" 2>/dev/null || true

trace_lines() { grep -a -A1 "trace $1" "$WORK/sipd.log" | grep -a "$2" | wc -l; }
check "both phones registered" \
	bash -c "grep -aq 'registered successfully' '$WORK/alice.log' && grep -aq 'registered successfully' '$WORK/bob.log'"
check "alice: call established with bob" grep -aq "Call established: sip:bob@localhost" "$WORK/alice.log"
check "bob: call established with alice (auto answer)" grep -aq "Call established: sip:alice@localhost" "$WORK/bob.log"
check "sipd sent the INVITE to bob's registered contact" test "$(trace_lines send '^INVITE sip:bob-')" -ge 1
check "sipd Record-Routed the INVITE" grep -aq "^Record-Route: <sip:127.0.0.1:$P;lr>" "$WORK/sipd.log"
check "the ACK crossed sipd (in and out)" test "$(trace_lines 'recv\|trace send' '^ACK sip:bob-')" -ge 2
check "the BYE crossed sipd and its 200 came back" \
	bash -c "[ \$(grep -a -A1 'trace send' '$WORK/sipd.log' | grep -ac '^BYE sip:bob-') -ge 1 ] && grep -a -A1 'trace send' '$WORK/sipd.log' | grep -aq '^SIP/2.0 200'"
check "both phones saw the call end" \
	bash -c "grep -aq 'terminated (duration' '$WORK/alice.log' && grep -aq 'terminated (duration' '$WORK/bob.log'"
check "sipd still running" kill -0 "$SIPD_PID"

# A real phone calls sipua: baresip alice dials carol, who is `sipua answer`
# registered at sipd; sipua answers the phone's SDP offer (RFC 3264: same
# m-lines, PCMU/PCMA taken, inactive) and the phone's BYE ends the call.
C=$(free_port)
check "sipua register carol (contact: her answer port)" \
	"$SIPUA" register --user carol --registrar "sip:localhost:$P" --contact "sip:carol@127.0.0.1:$C" --once
"$SIPUA" answer --listen "127.0.0.1:$C" --user carol --ring-ms 300 --timeout 20 >"$WORK/carol.log" 2>&1 &
CAROL=$!
PIDS+=("$CAROL")
sleep 0.3
{ sleep 1.5; echo "/dial sip:carol@localhost"; sleep 3; echo "/hangup"; sleep 1.5; } |
	timeout 25 baresip -f "$WORK/alice" >"$WORK/alice2.log" 2>&1 || true
crc=0; wait "$CAROL" || crc=$?
check "baresip → sipd → sipua: the phone established the call" grep -aq "Call established: sip:carol@localhost" "$WORK/alice2.log"
check "  sipua answered and was hung up by the phone (exit 0)" \
	bash -c "[ $crc -eq 0 ] && grep -q '^ended: the peer hung up' '$WORK/carol.log'"
check "  sipua's 200 carried an SDP answer with the phone's m-line" \
	bash -c "grep -a -A30 '^SIP/2.0 200 OK' '$WORK/sipd.log' | grep -aq '^a=inactive'"
