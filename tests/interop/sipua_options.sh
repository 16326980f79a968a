#!/usr/bin/env bash
# `sipua options` against sipd (UDP, TCP, TLS; IPv4, IPv6) and against SIPp as
# a UAS; the exit status is a health check (0 only on 2xx); a request over
# 1300 bytes goes over TCP by the MTU rule (§18.1.1).
source "$(dirname "$0")/common.bash"
P=$(free_port)
P6=$(free_port 6)
PT=$(free_port)
"$ROOT/scripts/gencert" "$WORK/tls" localhost >/dev/null
start_sipd sipd --trace -l udp:127.0.0.1:$P -l tcp:127.0.0.1:$P -l udp:[::1]:$P6 -l tcp:[::1]:$P6 \
	-l tls:127.0.0.1:$PT --tls-cert "$WORK/tls/cert.pem" --tls-key "$WORK/tls/key.pem"

ua() { "$SIPUA" options "$@" >"$WORK/ua.out" 2>"$WORK/ua.err"; }
for t in udp tcp; do
	check "sipua options over $t/IPv4 → 200, exit 0" ua sip:127.0.0.1:$P --transport $t
	check "  prints the status line" grep -qx "SIP/2.0 200 OK" "$WORK/ua.out"
	check "  prints Allow" grep -q "^Allow:.*OPTIONS" "$WORK/ua.out"
	check "  Supported names the registrar's extensions" grep -qx "Supported: path, outbound" "$WORK/ua.out"
	check "  went over $t" grep -qi "over $t" "$WORK/ua.err"
	check "sipua options over $t/IPv6 → 200" ua "sip:[::1]:$P6" --transport $t
done
check "sipua options over TLS (certificate checked against 'localhost')" \
	ua sip:localhost:$PT --transport tls --tls-ca "$WORK/tls/cert.pem"
check "  went over TLS" grep -q "over TLS" "$WORK/ua.err"
check "sipua options over TLS to an IP not in the certificate fails (exit 1)" \
	bash -c "! \"$SIPUA\" options sip:127.0.0.1:$PT --transport tls --tls-ca $WORK/tls/cert.pem --t1 50 >/dev/null 2>&1"

# MTU rule: 1400 bytes of header → the UDP request goes over TCP.
before=$(grep -c "trace recv TCP" "$WORK/sipd.log" || true)
check "a 1700-byte OPTIONS to a UDP URI is answered" ua sip:127.0.0.1:$P --header "X-Pad: $(printf 'a%.0s' $(seq 1400))"
check "  it went over TCP by the MTU rule" grep -q "over TCP" "$WORK/ua.err"
after=$(grep -c "trace recv TCP" "$WORK/sipd.log" || true)
check "  sipd received it over TCP" [ "$after" -gt "$before" ]

# Against SIPp as the UAS (a peer we did not write).
SP=$(free_port)
timeout 30 sipp -sf "$HERE/scenarios/uas_options.xml" -i 127.0.0.1 -p $SP -m 1 -nostdin -nd >"$WORK/sipp-uas.log" 2>&1 &
SIPP_PID=$!; PIDS+=("$SIPP_PID")
sleep 0.3
check "sipua options against SIPp → 200, exit 0" ua sip:sipp@127.0.0.1:$SP
check "  prints SIPp's Supported" grep -q "^Supported: timer, 100rel" "$WORK/ua.out"
wait "$SIPP_PID" || true
timeout 30 sipp -sf "$HERE/scenarios/uas_busy.xml" -i 127.0.0.1 -p $SP -m 1 -nostdin -nd >"$WORK/sipp-busy.log" 2>&1 &
SIPP_PID=$!; PIDS+=("$SIPP_PID")
sleep 0.3
rc=0; ua sip:sipp@127.0.0.1:$SP || rc=$?
check "sipua options answered 486 → exit 1" [ $rc -eq 1 ]
check "  prints the 486 status line" grep -q "^SIP/2.0 486" "$WORK/ua.out"
wait "$SIPP_PID" || true

# Nobody there: Timer F (64*T1) then exit 1.
DEAD=$(free_port)
start=$(date +%s%N)
rc=0; ua sip:127.0.0.1:$DEAD --t1 20 || rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "no server: exit 1 after Timer F ($ms ms; 64*T1 = 1280 ms)" [ $rc -eq 1 ] && [ $ms -ge 1200 ]
check "usage error → exit 2" bash -c "\"$SIPUA\" options >/dev/null 2>&1; [ \$? -eq 2 ]"
check "sipd still running" kill -0 "$SIPD_PID"
