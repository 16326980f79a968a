#!/usr/bin/env bash
# sipd against sipsak, the SIP swiss army knife (its own message code):
# an OPTIONS ping (200 with Server and Allow); usrloc mode — sipsak
# registers a contact, sends itself a MESSAGE through sipd's proxy to that
# binding, and removes it — all passes; traceroute mode — Max-Forwards
# counted up from 0: 483 Too Many Hops at 0, then sipd's own answer; a
# flood of 2,000 OPTIONS; random mode (sipsak mangles characters of its
# messages until one goes unanswered: sipd drops what it cannot answer,
# e.g. a request whose Via was mangled away); after all of it sipd still
# answers.
source "$(dirname "$0")/common.bash"
command -v sipsak >/dev/null || { echo "sipsak missing (scripts/deps installs it)"; exit 1; }
P=$(free_port)
start_sipd sipd -l "udp:127.0.0.1:$P" --db "$WORK/sipd.db" --workers 2
# sipsak takes the port from -r (a port in the URI is not used for sending).
sak() { timeout 30 sipsak -r "$P" "$@"; }

rc=0; sak -vv -s sip:127.0.0.1 >"$WORK/options.out" 2>&1 || rc=$?
check "OPTIONS ping: exit 0, 200 OK" bash -c "[ $rc -eq 0 ] && grep -aq '^SIP/2.0 200 OK' '$WORK/options.out'"
check "  with Server and Allow" \
	bash -c "grep -aq '^Server: sipd' '$WORK/options.out' && grep -aq '^Allow: .*OPTIONS' '$WORK/options.out'"

rc=0; sak -U -x 120 -v -s sip:sak@127.0.0.1 >"$WORK/usrloc.out" 2>&1 || rc=$?
check "usrloc: register, MESSAGE to itself through the proxy, remove — all passed" \
	bash -c "[ $rc -eq 0 ] && grep -aq 'All usrloc tests completed successful' '$WORK/usrloc.out'"
rc=0; sak -U -v -s sip:short@127.0.0.1 >"$WORK/usrloc15.out" 2>&1 || rc=$?
check "usrloc with sipsak's default Expires: 15: 423 with Min-Expires: 60" \
	bash -c "grep -aq '^SIP/2.0 423 Interval Too Brief' '$WORK/usrloc15.out' && grep -aq '^Min-Expires: 60' '$WORK/usrloc15.out'"

sak -T -s sip:nobody@127.0.0.1 >"$WORK/trace.out" 2>&1 || true
check "traceroute: 483 Too Many Hops at Max-Forwards 0, then 480 for a user with no binding" \
	bash -c "grep -aq '^0: .*483 Too Many Hops' '$WORK/trace.out' && grep -aq '480 Temporarily Unavailable' '$WORK/trace.out'"

rc=0; sak -F -e 2000 -s sip:127.0.0.1 >"$WORK/flood.out" 2>&1 || rc=$?
check "flood of 2,000 OPTIONS sent" bash -c "[ $rc -eq 0 ] && grep -aq 'flood end reached' '$WORK/flood.out'"
sak -R -t 20 -vv -s sip:127.0.0.1 >"$WORK/random.out" 2>&1 || true
check "random mode ran (sipsak stops at the first mangled message left unanswered)" \
	grep -aq "message with [0-9]* randomized chars" "$WORK/random.out"
rc=0; sak -s sip:127.0.0.1 >/dev/null 2>&1 || rc=$?
check "sipd still answers OPTIONS afterwards" test $rc -eq 0
check "sipd still running" kill -0 "$SIPD_PID"
stop_pid "$SIPD_PID"
