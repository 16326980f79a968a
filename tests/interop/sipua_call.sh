#!/usr/bin/env bash
# sipua call / sipua answer (signalling-only calls over dialogs, src/ua/call.c):
# through sipd's proxy to a registered sipua, against SIPp's own UAS and UAC
# scenarios (peers we did not write), a refused call, and a CANCEL.
source "$(dirname "$0")/common.bash"
P=$(free_port)
start_sipd sipd -l "udp:127.0.0.1:$P" --db "$WORK/sipd.db" --workers 2 --trace

# 1. sipua → sipd → sipua (bob registered with his answer port as contact).
B=$(free_port)
check "sipua register bob (contact: his answer port)" \
	"$SIPUA" register --user bob --registrar "sip:127.0.0.1:$P" --contact "sip:bob@127.0.0.1:$B" --once
"$SIPUA" answer --listen "127.0.0.1:$B" --user bob --ring-ms 200 --timeout 15 >"$WORK/ans1.log" 2>&1 &
A=$!
PIDS+=("$A")
sleep 0.3
rc=0; timeout 20 "$SIPUA" call "sip:bob@127.0.0.1:$P" --hold 1 --timeout 15 >"$WORK/call1.log" 2>&1 || rc=$?
arc=0; wait "$A" || arc=$?
check "sipua call through sipd: answered and hung up (exit 0)" test $rc -eq 0
check "  the caller saw the call established, then its BYE answered 200" \
	bash -c "grep -q '^established (200)' '$WORK/call1.log' && grep -q '^ended: 200' '$WORK/call1.log'"
check "sipua answer: established, ended by the peer's BYE (exit 0)" \
	bash -c "[ $arc -eq 0 ] && grep -q '^ended: the peer hung up' '$WORK/ans1.log'"
trace_sent() { grep -a -A1 "trace send" "$WORK/sipd.log" | grep -ac "$1" || true; }
check "  sipd relayed the INVITE, the ACK and the BYE to bob's contact" \
	bash -c "[ $(trace_sent "^INVITE sip:bob@127.0.0.1:$B") -ge 1 ] && [ $(trace_sent "^ACK sip:bob@127.0.0.1:$B") -ge 1 ] && [ $(trace_sent "^BYE sip:bob@127.0.0.1:$B") -ge 1 ]"

# 2. A refused call: the callee answers 486; the caller exits 1 and says so.
"$SIPUA" answer --listen "127.0.0.1:$B" --user bob --ring-ms 100 --code 486 --timeout 15 >"$WORK/ans2.log" 2>&1 &
A=$!
PIDS+=("$A")
sleep 0.3
rc=0; timeout 20 "$SIPUA" call "sip:bob@127.0.0.1:$P" --timeout 15 >"$WORK/call2.log" 2>&1 || rc=$?
arc=0; wait "$A" || arc=$?
check "a call answered 486: the caller exits 1 and reports 486" \
	bash -c "[ $rc -eq 1 ] && grep -q '^ended: 486' '$WORK/call2.log'"
check "  the callee (--code 486) exits 0" test $arc -eq 0

# 3. sipua call against SIPp's built-in UAS (INVITE/180/200/ACK/BYE/200).
U=$(free_port)
timeout 20 sipp -sn uas -i 127.0.0.1 -p "$U" -m 1 -nostdin -nd -timeout 15 -timeout_error \
	-trace_err -error_file "$WORK/sipp-uas.err" >"$WORK/sipp-uas.log" 2>&1 &
S=$!
PIDS+=("$S")
sleep 0.3
rc=0; timeout 20 "$SIPUA" call "sip:service@127.0.0.1:$U" --hold 1 --timeout 15 >"$WORK/call3.log" 2>&1 || rc=$?
src=0; wait "$S" || src=$?
check "sipua call → SIPp uas: sipua exit 0, SIPp's scenario passed" bash -c "[ $rc -eq 0 ] && [ $src -eq 0 ]"

# 4. SIPp's built-in UAC calls sipua answer (ACK, then its BYE).
"$SIPUA" answer --listen "127.0.0.1:$B" --ring-ms 100 --timeout 15 >"$WORK/ans4.log" 2>&1 &
A=$!
PIDS+=("$A")
sleep 0.3
src=0; timeout 20 sipp -sn uac -s service -i 127.0.0.1 -p "$(free_port)" -m 1 -nostdin -nd -timeout 15 \
	-timeout_error -trace_err -error_file "$WORK/sipp-uac.err" "127.0.0.1:$B" >"$WORK/sipp-uac.log" 2>&1 || src=$?
arc=0; wait "$A" || arc=$?
check "SIPp uac → sipua answer: SIPp's scenario passed, sipua exit 0 (ended by SIPp's BYE)" \
	bash -c "[ $src -eq 0 ] && [ $arc -eq 0 ] && grep -q '^ended: the peer hung up' '$WORK/ans4.log'"

# 5. The caller gives up while it rings: CANCEL reaches the callee through sipd.
"$SIPUA" answer --listen "127.0.0.1:$B" --user bob --ring-ms 5000 --timeout 15 >"$WORK/ans5.log" 2>&1 &
A=$!
PIDS+=("$A")
sleep 0.3
timeout 3 "$SIPUA" call "sip:bob@127.0.0.1:$P" --timeout 1 >"$WORK/call5.log" 2>&1 || true
arc=0; wait "$A" || arc=$?
check "a caller that times out while ringing: callee ends by CANCEL (487), exit 1 (never established)" \
	bash -c "grep -q 'ended: the peer hung up (CANCEL)' '$WORK/ans5.log' && [ $arc -eq 1 ]"
# 6. RFC 3262: the callee sends its 180 reliably, the caller PRACKs it in the
# early dialog (through sipd, along the recorded route), then the call goes on.
before=$(grep -ac "" "$WORK/sipd.log")
"$SIPUA" answer --listen "127.0.0.1:$B" --user bob --ring-ms 400 --100rel --timeout 15 >"$WORK/ans6.log" 2>&1 &
A=$!
PIDS+=("$A")
sleep 0.3
rc=0; timeout 20 "$SIPUA" call "sip:bob@127.0.0.1:$P" --hold 1 --timeout 15 >"$WORK/call6.log" 2>&1 || rc=$?
arc=0; wait "$A" || arc=$?
tail -n +"$before" "$WORK/sipd.log" >"$WORK/sipd6.log"
check "100rel call through sipd: both ends exit 0" bash -c "[ $rc -eq 0 ] && [ $arc -eq 0 ]"
check "  the 180 carried Require: 100rel and an RSeq" \
	bash -c "grep -aq '^Require: 100rel' '$WORK/sipd6.log' && grep -aq '^RSeq: [0-9]' '$WORK/sipd6.log'"
check "  the caller's PRACK (RAck matching the RSeq, INVITE's CSeq) crossed sipd and got 200" \
	bash -c "rseq=\$(grep -a -m1 '^RSeq: ' '$WORK/sipd6.log' | tr -dc 0-9); grep -a -A1 'trace send' '$WORK/sipd6.log' | grep -aq '^PRACK sip:bob@127.0.0.1:$B' && grep -aq \"^RAck: \$rseq [0-9]* INVITE\" '$WORK/sipd6.log' && grep -a -A8 '^SIP/2.0 200' '$WORK/sipd6.log' | grep -aq '^CSeq: [0-9]* PRACK'"
# 7. Target refreshes in the call: UPDATE (RFC 3311) and a re-INVITE, each
# answered 200 by the callee through sipd (the re-INVITE's 2xx ACKed).
for m in update invite; do
	"$SIPUA" answer --listen "127.0.0.1:$B" --user bob --ring-ms 100 --timeout 15 >"$WORK/ans7$m.log" 2>&1 &
	A=$!
	PIDS+=("$A")
	sleep 0.3
	rc=0; timeout 20 "$SIPUA" call "sip:bob@127.0.0.1:$P" --hold 1 --refresh $m --timeout 15 >"$WORK/call7$m.log" 2>&1 || rc=$?
	arc=0; wait "$A" || arc=$?
	M=$(echo $m | tr a-z A-Z)
	check "a call with a $M refresh: answered 200, both ends exit 0" \
		bash -c "[ $rc -eq 0 ] && [ $arc -eq 0 ] && grep -q '^refreshed ($M 200)' '$WORK/call7$m.log'"
done
check "  sipd relayed the UPDATE and the re-INVITE's ACK (CSeq 2) to bob" \
	bash -c "grep -a -A1 'trace send' '$WORK/sipd.log' | grep -aq '^UPDATE sip:bob@127.0.0.1:$B' && grep -a -A8 '^ACK sip:bob@127.0.0.1:$B' '$WORK/sipd.log' | grep -aq '^CSeq: [0-9]* ACK'"
check "sipd still running" kill -0 "$SIPD_PID"

# 9. With authentication required: the INVITE from our user alice is
# challenged (407) and sent again with Proxy-Authorization; the BYE that
# follows the recorded route is not challenged again.
PA=$(free_port); BA=$(free_port)
"$SIPD" user add "sip:alice@127.0.0.1" secret --db "$WORK/auth.db" >/dev/null
"$SIPD" user add "sip:bob@127.0.0.1" bobpw --db "$WORK/auth.db" >/dev/null
start_sipd sipda -l "udp:127.0.0.1:$PA" --db "$WORK/auth.db" --require-auth --trace
check "auth: bob registers with his password" \
	"$SIPUA" register --user bob --password bobpw --registrar "sip:127.0.0.1:$PA" --contact "sip:bob@127.0.0.1:$BA" --once
"$SIPUA" answer --listen "127.0.0.1:$BA" --user bob --ring-ms 100 --timeout 15 >"$WORK/ans9.log" 2>&1 &
A=$!
PIDS+=("$A")
sleep 0.3
rc=0; timeout 20 "$SIPUA" call "sip:bob@127.0.0.1:$PA" --user alice --password secret --hold 1 --timeout 15 \
	>"$WORK/call9.log" 2>&1 || rc=$?
arc=0; wait "$A" || arc=$?
sent9() { grep -a -A1 "trace send" "$WORK/sipda.log" | grep -ac "$1" || true; }
check "auth: alice's call is challenged (407), answered, established and hung up (both exit 0)" \
	bash -c "[ $rc -eq 0 ] && [ $arc -eq 0 ] && [ $(sent9 '^SIP/2.0 407') -eq 1 ]"
check "  the INVITE went on with Proxy-Authorization; the BYE was relayed unchallenged" \
	bash -c "grep -aq '^Proxy-Authorization: Digest username=\"alice\"' '$WORK/sipda.log' && [ $(sent9 '^BYE sip:') -ge 1 ]"

# 10. The caller over TLS (certificate checked), the callee over UDP: sipd
# double Record-Routes (the UDP side on top for the callee), and the BYE goes
# back to sipd over TLS along the caller's route set.
PT=$(free_port); PU=$(free_port); BT=$(free_port)
"$ROOT/scripts/gencert" "$WORK/tls" 127.0.0.1 >/dev/null
start_sipd sipdt -l "udp:127.0.0.1:$PU" -l "tls:127.0.0.1:$PT" --tls-cert "$WORK/tls/cert.pem" \
	--tls-key "$WORK/tls/key.pem" --db "$WORK/sipdt.db" --workers 2 --trace
check "TLS: bob registers over UDP" \
	"$SIPUA" register --user bob --registrar "sip:127.0.0.1:$PU" --contact "sip:bob@127.0.0.1:$BT" --once
"$SIPUA" answer --listen "127.0.0.1:$BT" --user bob --ring-ms 100 --timeout 15 >"$WORK/ans10.log" 2>&1 &
A=$!
PIDS+=("$A")
sleep 0.3
rc=0; timeout 20 "$SIPUA" call "sip:bob@127.0.0.1:$PT;transport=tls" --tls-ca "$WORK/tls/cert.pem" --hold 1 \
	--timeout 15 >"$WORK/call10.log" 2>&1 || rc=$?
arc=0; wait "$A" || arc=$?
check "TLS: a caller over TLS reaches the UDP callee through sipd and hangs up (both exit 0)" \
	bash -c "[ $rc -eq 0 ] && [ $arc -eq 0 ]"
check "  sipd recorded both sides: <sip:127.0.0.1:$PU;lr> and <sip:127.0.0.1:$PT;transport=tls;lr>" \
	bash -c "grep -aq '^Record-Route: <sip:127.0.0.1:$PU;lr>' '$WORK/sipdt.log' && grep -aq '^Record-Route: <sip:127.0.0.1:$PT;transport=tls;lr>' '$WORK/sipdt.log'"
check "  the caller's BYE came in over TLS" \
	bash -c "grep -a -A1 'trace recv TLS' '$WORK/sipdt.log' | grep -aq '^BYE '"

# 8. The same over IPv6: sipd on [::1], bob registered and called there.
if ip -6 addr show lo 2>/dev/null | grep -q '::1'; then
	P6=$(free_port 6); B6=$(free_port 6)
	start_sipd sipd6 -l "udp:[::1]:$P6" --db "$WORK/sipd6.db" --workers 2 --trace
	check "IPv6: sipua register bob at [::1]" \
		"$SIPUA" register --user bob --registrar "sip:[::1]:$P6" --contact "sip:bob@[::1]:$B6" --once
	"$SIPUA" answer --listen "[::1]:$B6" --user bob --ring-ms 100 --timeout 15 >"$WORK/ans8.log" 2>&1 &
	A=$!
	PIDS+=("$A")
	sleep 0.3
	rc=0; timeout 20 "$SIPUA" call "sip:bob@[::1]:$P6" --hold 1 --timeout 15 >"$WORK/call8.log" 2>&1 || rc=$?
	arc=0; wait "$A" || arc=$?
	check "IPv6: a call through sipd on [::1] (both ends exit 0, Record-Route <sip:[::1]:PORT;lr>)" \
		bash -c "[ $rc -eq 0 ] && [ $arc -eq 0 ] && grep -aq '^Record-Route: <sip:\[::1\]:$P6;lr>' '$WORK/sipd6.log'"
fi
