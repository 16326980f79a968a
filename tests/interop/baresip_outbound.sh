#!/usr/bin/env bash
# Real phones using SIP outbound (RFC 5626, baresip's sipnat=outbound): bob
# registers over TCP with +sip.instance and reg-id, alice over UDP; alice
# calls bob three times through sipd with two workers. bob's Contact names
# his flow's own address, so every request to him (INVITE, ACK, BYE) must go
# over the connection he opened — held by one worker, while each call may be
# handled by either: the other worker hands its messages to the owner.
source "$(dirname "$0")/common.bash"
command -v baresip >/dev/null || { echo "baresip missing (scripts/deps installs baresip-core)"; exit 1; }
P=$(free_port)
start_sipd sipd -l "udp:127.0.0.1:$P" -l "tcp:127.0.0.1:$P" --db "$WORK/sipd.db" --trace --workers 2 \
	--log-level debug

phone() { # phone NAME PORT TRANSPORT UUID
	baresip_phone "$1" "$2" \
		"<sip:$1@localhost;transport=$3>;outbound=\"sip:127.0.0.1:$P;transport=$3\";regint=60;answermode=auto;sipnat=outbound" "$4"
}
A=$(free_port)
B=$(free_port)
while [ $((B - A)) -ge -2 ] && [ $((B - A)) -le 2 ]; do B=$(free_port); done
phone bob "$B" tcp c4d6e8a0-1b2c-4d3e-8f90-a1b2c3d4e5f6
phone alice "$A" udp d5e7f9a1-2c3d-4e5f-9a01-b2c3d4e5f6a7

{ sleep 14; } | timeout 30 baresip -f "$WORK/bob" >"$WORK/bob.log" 2>&1 &
BOB=$!
PIDS+=("$BOB")
for _ in $(seq 1 60); do grep -aq "registered successfully" "$WORK/bob.log" && break; sleep 0.1; done
check "bob registered over TCP with outbound" grep -aq "registered successfully" "$WORK/bob.log"
check "  sipd answered with Require: outbound" \
	bash -c "grep -a -A14 'trace send TCP' '$WORK/sipd.log' | grep -aq '^Require: outbound'"
dial() { echo "/dial sip:bob@localhost"; sleep 2; echo "/hangup"; sleep 1; }
{ sleep 1.5; dial; dial; dial; } | timeout 30 baresip -f "$WORK/alice" >"$WORK/alice.log" 2>&1 || true
wait "$BOB" 2>/dev/null || true

check "alice: three calls established with bob" test "$(grep -ac 'Call established: sip:bob@localhost' "$WORK/alice.log")" = 3
check "bob: three calls answered and ended" test "$(grep -ac 'Call with sip:alice@localhost terminated' "$WORK/bob.log")" = 3
sent() { grep -a -A1 "trace send TCP" "$WORK/sipd.log" | grep -ac "^$1 sip:bob" || true; }
check "every INVITE, ACK and BYE to bob went out over TCP (3 each)" \
	test "$(sent INVITE) $(sent ACK) $(sent BYE)" = "3 3 3"
check "  all on bob's own connection: sipd never connected out to him" \
	bash -c "! grep -aq 'connection refused' '$WORK/sipd.log'"
echo "info: messages handed to the worker holding bob's connection: $(grep -c 'handed a message for connection' "$WORK/sipd.log" || true)"
stop_pid "$SIPD_PID"
check "no sanitizer report from sipd" bash -c "! grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' '$WORK/sipd.log'"
