#!/usr/bin/env bash
# The stateful proxy end to end (RFC 3261 §16), SIPp on every side, sipd with
# two worker threads: a call to a user registered with a Path (RFC 3327),
# Record-Route and the ACK/BYE along the recorded route, from several caller
# ports so that responses may land on the other worker; 480 for a user with
# no binding; parallel forking (6xx wins over 486, 200 wins over 486, sipd
# ACKs the refused branch); CANCEL of a ringing call; no open relay (404);
# the redirect mode's 302; and a TCP caller reaching a UDP callee through
# sipd, which then double Record-Routes (RFC 5658); and sipd as the edge
# proxy of another sipd (Path added on the way to the registrar, used on the
# way back, RFC 3327); loops through another proxy, Max-Breadth, flows across
# workers, strict routers; the MTU rule toward plain bindings, flows and a
# callee without TCP; Timer C (shortened by the config) and a callee whose
# 200 comes after it.
source "$(dirname "$0")/common.bash"

SC=$HERE/scenarios
UA_TIMEOUT=8 # s: every SIPp run is bounded by this (-timeout, -timeout_error)

# sipp_uac NAME TRANSPORT SIPD_PORT SCENARIO ARGS... : a client toward sipd,
# in the foreground; its messages in $WORK/NAME.msg.
sipp_uac() {
	local name=$1 t=$2 port=$3 sc=$4; shift 4
	timeout 15 sipp -sf "$SC/$sc" -t "$t" -i 127.0.0.1 -m 1 -nostdin -nd \
		-timeout $UA_TIMEOUT -timeout_error -trace_err -error_file "$WORK/$name.sipp-err.log" \
		-trace_msg -message_file "$WORK/$name.msg" "$@" 127.0.0.1:"$port" >"$WORK/$name.sipp.out" 2>&1
}

# uas_start NAME PORT SCENARIO ARGS... : a SIPp UAS on udp 127.0.0.1:PORT in
# the background, waits until its socket is bound. Sets UAS_PID.
uas_start() {
	local name=$1 port=$2 sc=$3; shift 3
	timeout 15 sipp -sf "$SC/$sc" -t u1 -i 127.0.0.1 -p "$port" -m 1 -nostdin -nd \
		-timeout $UA_TIMEOUT -timeout_error -trace_err -error_file "$WORK/$name.sipp-err.log" \
		-trace_msg -message_file "$WORK/$name.msg" "$@" >"$WORK/$name.sipp.out" 2>&1 &
	UAS_PID=$!
	PIDS+=("$UAS_PID")
	for _ in $(seq 1 100); do
		[ -n "$(ss -Hlun "sport = :$port" 2>/dev/null)" ] && return 0
		sleep 0.02
	done
	echo "SIPp UAS $name did not bind port $port"
	return 1
}

# uas_done PID : waits for that UAS, true when its scenario passed.
uas_done() {
	local p=$1 rc=0 keep=()
	wait "$p" || rc=$?
	for q in "${PIDS[@]:-}"; do [ "$q" != "$p" ] && keep+=("$q"); done
	PIDS=("${keep[@]:-}")
	return $rc
}

# both_pass UAC_RC UAS_PID... : the caller's exit status and every UAS passed.
both_pass() {
	local rc=$1 r=0; shift
	for p in "$@"; do uas_done "$p" || r=1; done
	[ "$rc" -eq 0 ] && [ $r -eq 0 ]
}

# no_sanitizer_report NAME : sipd's log (after it stopped) has no ASan/UBSan/LSan report.
no_sanitizer_report() {
	! grep -Eq "ERROR: (Address|Leak)Sanitizer|runtime error:" "$WORK/$1.log"
}

register() { # NAME USER CONTACT_PORT SIPD_PORT
	sipp_uac "$1" u1 "$4" proxy_reg.xml -p "$(free_port)" -s "$2" -set cport "$3"
}

# --- The proxy: UDP and TCP on one port, two workers.
P=$(free_port)
start_sipd proxy -l udp:127.0.0.1:$P -l tcp:127.0.0.1:$P --workers 2 --db "$WORK/proxy.db" \
	--log-level debug --trace

# 1. bob behind an "edge proxy" (the UAS itself, named in Path); four callers.
U=$(free_port)
check "REGISTER bob with a Path naming the callee's edge (200 echoes the Path)" \
	sipp_uac reg-path u1 $P proxy_reg_path.xml -p "$U"
for i in 1 2 3 4; do
	C=$(free_port)
	uas_start uas-path$i "$U" proxy_uas.xml
	rc=0; sipp_uac uac-path$i u1 $P proxy_uac.xml -p "$C" -s bob || rc=$?
	check "Path + Record-Route call #$i (caller port $C): INVITE reaches the contact with Route = Path, our Via, Record-Route, Max-Forwards 69; 180/200 relayed; ACK and BYE along the recorded route" \
		both_pass $rc "$UAS_PID"
done
echo "info: sipd handed $(grep -c 'handed a' "$WORK/proxy.log" || true) response(s) to the other worker"

# 2. A user of ours with no binding.
check "INVITE to an AOR with no binding → 480 (ACKed)" \
	sipp_uac nobody u1 $P proxy_uac_final.xml -p "$(free_port)" -set to "sip:nobody@127.0.0.1:$P" \
	-set from "sip:alice@127.0.0.1" -set want 480

# 3. Forking: carol has two contacts; the later answer decides only by rank.
F1=$(free_port); F2=$(free_port)
check "REGISTER carol's first contact" register reg-carol1 carol "$F1" $P
check "REGISTER carol's second contact" register reg-carol2 carol "$F2" $P
uas_start fork-486a "$F1" proxy_uas_reject.xml -set code 486 -set delay 0; A=$UAS_PID
uas_start fork-603 "$F2" proxy_uas_reject.xml -set code 603 -set delay 300; B=$UAS_PID
rc=0; sipp_uac fork-uac1 u1 $P proxy_uac_final.xml -p "$(free_port)" -set to "sip:carol@127.0.0.1:$P" \
	-set from "sip:alice@127.0.0.1" -set want 603 || rc=$?
check "fork 486 + 603 → caller gets 603 (6xx wins, §16.7 step 6); sipd ACKs both refused branches" \
	both_pass $rc "$A" "$B"
uas_start fork-486b "$F1" proxy_uas_reject.xml -set code 486 -set delay 0; A=$UAS_PID
uas_start fork-200 "$F2" proxy_uas_answer.xml -s carol -set delay 300; B=$UAS_PID
rc=0; sipp_uac fork-uac2 u1 $P proxy_uac.xml -p "$(free_port)" -s carol || rc=$?
check "fork 486 + 200 → caller gets 200 and its ACK/BYE reach the 200 callee via the recorded route; sipd ACKs the 486" \
	both_pass $rc "$A" "$B"

# 4. CANCEL of a ringing call.
D=$(free_port)
check "REGISTER dave" register reg-dave dave "$D" $P
uas_start cancel-uas "$D" proxy_uas_cancel.xml -s dave
rc=0; sipp_uac cancel-uac u1 $P proxy_uac_cancel.xml -p "$(free_port)" -s dave || rc=$?
check "CANCEL after 180 → 200 (CANCEL) and the callee's 487 relayed (its To tag) to the caller; the callee gets the CANCEL, answers 200/487 and gets sipd's ACK" \
	both_pass $rc "$UAS_PID"

# 5. No open relay.
check "INVITE for sip:x@example.invalid from a foreign user → 404" \
	sipp_uac foreign u1 $P proxy_uac_final.xml -p "$(free_port)" -set to "sip:x@example.invalid" \
	-set from "sip:mallory@evil.example" -set want 404

# 7. Transport crossing: caller over TCP, callee over UDP.
E=$(free_port)
check "REGISTER erin over UDP" register reg-erin erin "$E" $P
uas_start cross-uas "$E" proxy_uas_answer.xml -s erin -set delay 0
rc=0; sipp_uac cross-uac t1 $P proxy_uac.xml -p "$(free_port)" -s erin || rc=$?
check "TCP caller → UDP callee: the call completes (INVITE/200/ACK/BYE across sipd)" both_pass $rc "$UAS_PID"
rr_seen() { # the Record-Route values of the first message the callee logged, in order
	awk '/^(Record-Route|record-route):/ { sub(/^[^:]*:[ \t]*/, ""); print } /^Content-Length/ { exit }' \
		"$WORK/cross-uas.msg" | tr -d '\r'
}
want_rr=$(printf '<sip:127.0.0.1:%s;lr>\n<sip:127.0.0.1:%s;transport=tcp;lr>' $P $P)
got_rr=$(rr_seen || true)
check "  the callee saw two Record-Route values, the UDP one on top (RFC 5658); got: $(echo $got_rr)" \
	test "$got_rr" = "$want_rr"
check "  the ACK and BYE reached the callee with both of sipd's Route values popped (§16.4)" \
	eval '! grep -qi "^Route:" "$WORK/cross-uas.msg"'
check "sipd still serving" kill -0 "$SIPD_PID"
stop_pid "$SIPD_PID"
check "no sanitizer report from the proxy" no_sanitizer_report proxy

# 6. Redirect mode: a 302 listing the binding.
R=$(free_port); X=$(free_port)
start_sipd redirect -l udp:127.0.0.1:$R --workers 2 --db "$WORK/redirect.db" --mode redirect
check "REGISTER bob at the redirect server" register reg-redir bob "$X" $R
check "redirect mode: INVITE for bob → 302 (ACKed)" \
	sipp_uac redir u1 $R proxy_uac_final.xml -p "$(free_port)" -set to "sip:bob@127.0.0.1:$R" \
	-set from "sip:alice@127.0.0.1" -set want 302
check "  the 302's Contact is bob's contact with ;expires=" \
	grep -Eq "^Contact: <sip:bob@127.0.0.1:$X>;expires=[1-9][0-9]*" "$WORK/redir.msg"
check "sipd (redirect) still serving" kill -0 "$SIPD_PID"
stop_pid "$SIPD_PID"
check "no sanitizer report from the redirect server" no_sanitizer_report redirect

# 8. sipd as the edge proxy of another sipd (RFC 3327): carol registers at
# the home registrar (domain home.test) through the edge, which adds its
# Path; a call to carol at the home goes to the edge (the Path as Route) and
# on to carol's contact.
H=$(free_port); G=$(free_port); K=$(free_port)
start_sipd home -l udp:127.0.0.1:$H --domain home.test --workers 2 --db "$WORK/home.db" --trace
HOME_PID=$SIPD_PID
start_sipd edge -l udp:127.0.0.1:$G --workers 2 --db "$WORK/edge.db" --trace
EDGE_PID=$SIPD_PID
check "REGISTER carol@home.test through the edge: 200 from the home registrar, echoing a Path" \
	sipp_uac reg-edge u1 $G proxy_reg_edge.xml -p "$K" -set edge "127.0.0.1:$G" -set home "127.0.0.1:$H"
check "  the edge added Path <sip:127.0.0.1:$G;lr> to the REGISTER it forwarded" \
	grep -aq "^Path: <sip:127.0.0.1:$G;lr>" "$WORK/edge.log"
uas_start edge-uas "$K" proxy_uas_reject.xml -set code 486 -set delay 0
rc=0; sipp_uac edge-uac u1 $H proxy_uac_final.xml -p "$(free_port)" -set to "sip:carol@home.test" \
	-set from "sip:dave@home.test" -set want 486 || rc=$?
check "a call to carol@home.test at the home reaches carol through the edge (486 back to the caller)" \
	both_pass $rc "$UAS_PID"
check "  the home sent the INVITE to the edge with the Path as Route" \
	bash -c "grep -a -A12 'trace send UDP 127.0.0.1:$G' '$WORK/home.log' | grep -aq '^Route: <sip:127.0.0.1:$G;lr>'"
check "  carol's INVITE carried the edge's and the home's Via (three in all)" \
	test "$(awk '/^INVITE /{f=1} f && /^Via:/{n++} f && /^Content-Length/{print n; exit}' "$WORK/edge-uas.msg")" = 3
stop_pid "$EDGE_PID"
stop_pid "$HOME_PID"
check "no sanitizer report from the edge and home proxies" \
	bash -c "! grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' '$WORK/edge.log' '$WORK/home.log'"

# 9. A binding whose contact is sipd itself must not loop (or fork on every
# turn until Max-Forwards runs out): two such contacts → 482 at once.
L=$(free_port)
start_sipd loop -l udp:127.0.0.1:$L --workers 2 --db "$WORK/loop.db" --trace
loop_out=$(python3 - "$L" "$HERE" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
import sipnet
port = int(sys.argv[1])
srv = ("127.0.0.1", port)
reg = sipnet.register("127.0.0.1", port, "loopy", "localhost",
                      contacts=["<sip:loopy@127.0.0.1:%d;x=1>" % port, "<sip:loopy@127.0.0.1:%d;x=2>" % port])
r = sipnet.udp_exchange(reg, srv)
inv = ("INVITE sip:loopy@localhost SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-loop1;rport\r\n"
       "Max-Forwards: 70\r\nFrom: <sip:x@example.net>;tag=1\r\nTo: <sip:loopy@localhost>\r\n"
       "Call-ID: loop1@t\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n").encode()
out = sipnet.udp_exchange(inv, srv, wait=3.0)
finals = [sipnet.status_of(m) for m in out if (sipnet.status_of(m) or 0) >= 200]
print(sipnet.status_of(r[0]) if r else None, finals[0] if finals else None)
PY
)
check "two contacts naming sipd itself: REGISTER 200, INVITE → 482 Loop Detected (got: $loop_out)" \
	test "$loop_out" = "200 482"
check "  sipd sent no INVITE to itself" \
	eval '! grep -a -A1 "trace send" "$WORK/loop.log" | grep -aq "^INVITE"'
stop_pid "$SIPD_PID"

# 10. Sequential forking by q (§16.6): dave's q=1.0 contact answers 486, and
# only then is his q=0.5 contact tried — it answers and the call completes.
Q=$(free_port); QA=$(free_port); QB=$(free_port)
start_sipd serial -l udp:127.0.0.1:$Q --workers 2 --db "$WORK/serial.db" --trace
qreg=$(reg_contacts "$Q" dave "<sip:dave@127.0.0.1:$QB>;q=0.5" "<sip:dave@127.0.0.1:$QA>;q=1.0")
check "REGISTER dave with two contacts, q=1.0 and q=0.5 (got $qreg)" test "$qreg" = 200
uas_start serial-a "$QA" proxy_uas_reject.xml -set code 486 -set delay 200; A=$UAS_PID
uas_start serial-b "$QB" proxy_uas_answer.xml -s dave -set delay 0; B=$UAS_PID
rc=0; sipp_uac serial-uac u1 $Q proxy_uac.xml -p "$(free_port)" -s dave || rc=$?
check "q=1.0 contact answers 486, then the q=0.5 one is tried and the call completes" both_pass $rc "$A" "$B"
order=$(grep -a -A1 "trace send\|trace recv" "$WORK/serial.log" |
	grep -aE "^INVITE sip:dave@127.0.0.1:($QA|$QB)|^SIP/2.0 486" | sed -E "s/:$QA /:A /; s/:$QB /:B /" | tr -d '\r' | cut -c1-28 | tr '\n' '|')
check "  order at sipd: INVITE to the q=1.0 contact, its 486, then the INVITE to q=0.5 (got: $order)" \
	test "$order" = "INVITE sip:dave@127.0.0.1:A |SIP/2.0 486 Busy Here|INVITE sip:dave@127.0.0.1:B |"
stop_pid "$SIPD_PID"

# 11. Both of frank's phones challenge (401): the caller gets one 401 with
# both WWW-Authenticate values (§16.7 step 7).
Z=$(free_port); ZA=$(free_port); ZB=$(free_port)
start_sipd chal -l udp:127.0.0.1:$Z --workers 2 --db "$WORK/chal.db"
zreg=$(reg_contacts "$Z" frank "<sip:frank@127.0.0.1:$ZA>" "<sip:frank@127.0.0.1:$ZB>")
check "REGISTER frank with two contacts (got $zreg)" test "$zreg" = 200
uas_start chal-a "$ZA" proxy_uas_challenge.xml -set realm alpha; A=$UAS_PID
uas_start chal-b "$ZB" proxy_uas_challenge.xml -set realm beta; B=$UAS_PID
rc=0; sipp_uac chal-uac u1 $Z proxy_uac_final.xml -p "$(free_port)" -set to "sip:frank@127.0.0.1:$Z" \
	-set from "sip:x@example.net" -set want 401 || rc=$?
check "both branches answer 401: the caller gets a 401 (each branch ACKed by sipd)" both_pass $rc "$A" "$B"
check "  carrying both challenges, realm alpha and realm beta" \
	bash -c "grep -aq '^WWW-Authenticate: Digest realm=\"alpha\"' '$WORK/chal-uac.msg' && grep -aq '^WWW-Authenticate: Digest realm=\"beta\"' '$WORK/chal-uac.msg'"
stop_pid "$SIPD_PID"

# 12. A request from a strict router (§16.4): its Request-URI is our
# Record-Route value and the real target is the last Route; sipd puts that
# back as the Request-URI before routing.
S=$(free_port); SU=$(free_port)
start_sipd strict -l udp:127.0.0.1:$S --workers 2 --db "$WORK/strict.db" --trace
uas_start strict-uas "$SU" proxy_uas_reject.xml -set code 486 -set delay 0; A=$UAS_PID
strict_out=$(python3 - "$S" "$HERE" "$SU" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
import sipnet
port, u = int(sys.argv[1]), int(sys.argv[3])
inv = ("INVITE sip:127.0.0.1:%d;lr SIP/2.0\r\n"
       "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-strict1;rport\r\n"
       "Route: <sip:bob2@127.0.0.1:%d>\r\n"
       "Max-Forwards: 70\r\nFrom: <sip:x@127.0.0.1>;tag=1\r\nTo: <sip:bob2@127.0.0.1>\r\n"
       "Call-ID: strict1@t\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n" % (port, u)).encode()
out = sipnet.udp_exchange(inv, ("127.0.0.1", port), wait=5.0)
finals = [sipnet.status_of(m) for m in out if (sipnet.status_of(m) or 0) >= 200]
print(finals[0] if finals else None)
PY
)
check "strict-routed INVITE: reaches the last Route's URI, its 486 comes back (got $strict_out)" \
	test "$strict_out" = 486
check "  the callee's scenario passed (sipd ACKed its 486)" uas_done "$A"
check "  forwarded with that URI as Request-URI and the Route gone" \
	bash -c "grep -aq '^INVITE sip:bob2@127.0.0.1:$SU SIP/2.0' '$WORK/strict-uas.msg' && ! grep -aq '^Route:' '$WORK/strict-uas.msg'"
stop_pid "$SIPD_PID"

# invite_final SIPD_PORT RURI [EXTRA_HEADER_LINES]: sends one INVITE (UDP) and
# prints the first final status that comes back.
invite_final() {
	python3 - "$HERE" "$@" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import sipnet
port, ruri, extra = int(sys.argv[2]), sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else ""
inv = ("INVITE %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-%s;rport\r\n"
       "Max-Forwards: 70\r\nFrom: <sip:x@example.net>;tag=1\r\nTo: <%s>\r\n"
       "Call-ID: %s@t\r\nCSeq: 1 INVITE\r\n%sContent-Length: 0\r\n\r\n"
       % (ruri, sipnet.time.time(), ruri, sipnet.time.time(), extra)).encode()
out = sipnet.udp_exchange(inv, ("127.0.0.1", port), wait=8.0)
finals = [sipnet.status_of(m) for m in out if (sipnet.status_of(m) or 0) >= 200]
print(finals[0] if finals else None)
PY
}
# invites_received NAME: how many INVITEs sipd NAME's trace shows it received.
invites_received() {
	grep -a -A1 "trace recv" "$WORK/$1.log" | grep -ac "^INVITE " || true
}

# 13. A loop through another proxy (§16.3 step 4, RFC 5393 §4.2): bob's
# binding at A points to B, and B's binding for bob points back to A. The
# copy that comes back to A carries A's own Via with the same loop hash: 482
# at once, where before it went round until Max-Forwards ran out (70 hops).
LA=$(free_port); LB=$(free_port)
start_sipd loopa -l udp:127.0.0.1:$LA --workers 2 --db "$WORK/loopa.db" --trace; LA_PID=$SIPD_PID
start_sipd loopb -l udp:127.0.0.1:$LB --workers 2 --db "$WORK/loopb.db" --trace; LB_PID=$SIPD_PID
check "bob at A → B, bob at B → A: both REGISTERs 200" \
	test "$(reg_contacts "$LA" bob "<sip:bob@127.0.0.1:$LB>") $(reg_contacts "$LB" bob "<sip:bob@127.0.0.1:$LA>")" = "200 200"
got=$(invite_final "$LA" "sip:bob@127.0.0.1:$LA")
check "an INVITE to bob at A comes back through B: 482 Loop Detected (got $got)" test "$got" = 482
check "  A received it twice (from the caller, then from B), B once" \
	test "$(invites_received loopa) $(invites_received loopb)" = "2 1"
stop_pid "$LB_PID"
stop_pid "$LA_PID"

# 14. Max-Breadth (RFC 5393 §5): eve has three phones, each answering 486
# after 0.3 s. Without Max-Breadth the three branches share the default 60;
# with Max-Breadth 2 only two are out at once, each with 1, and the third
# starts when one of them has answered; 0 → 440, a malformed value → 400.
M=$(free_port)
start_sipd breadth -l udp:127.0.0.1:$M --workers 2 --db "$WORK/breadth.db" --trace
breadth_out=$(python3 - "$HERE" "$M" "$(free_port)" "$(free_port)" "$(free_port)" <<'PY'
import sys, re, subprocess
sys.path.insert(0, sys.argv[1])
import sipnet
port, phones = int(sys.argv[2]), [int(p) for p in sys.argv[3:6]]
srv = ("127.0.0.1", port)
r = sipnet.udp_exchange(sipnet.register("127.0.0.1", port, "eve", "127.0.0.1",
                        contacts=["<sip:eve@127.0.0.1:%d>" % p for p in phones]), srv)
print("reg", sipnet.status_of(r[0]) if r else None)
def call(extra):
    rs = [sipnet.Responder(p, delay=0.3) for p in phones]
    inv = ("INVITE sip:eve@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-b%s;rport\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:x@example.net>;tag=1\r\nTo: <sip:eve@127.0.0.1>\r\n"
           "Call-ID: breadth%s@t\r\nCSeq: 1 INVITE\r\n%sContent-Length: 0\r\n\r\n"
           % (sipnet.time.time(), sipnet.time.time(), extra)).encode()
    out = sipnet.udp_exchange(inv, srv, wait=5.0)
    sipnet.time.sleep(0.2)
    for x in rs:
        x.stop()
    finals = [sipnet.status_of(m) for m in out if (sipnet.status_of(m) or 0) >= 200]
    invites = sorted(i for x in rs for i in x.invites)
    mb = sorted(re.search(rb"(?im)^Max-Breadth: *(\S+)", d).group(1).decode() for _, d in invites)
    gap = invites[-1][0] - invites[0][0] if invites else -1
    return finals[0] if finals else None, mb, gap
f, mb, gap = call("")
print("none", f, ",".join(mb), "serial" if gap > 0.2 else "parallel")
f, mb, gap = call("Max-Breadth: 2\r\n")
print("two", f, ",".join(mb), "serial" if gap > 0.2 else "parallel")
f, mb, gap = call("Max-Breadth: 0\r\n")
print("zero", f, len(mb))
f, mb, gap = call("Max-Breadth: 2x\r\n")
print("bad", f, len(mb))
PY
)
echo "$breadth_out" | sed 's/^/info: /'
check "eve's three contacts registered" grep -qx "reg 200" <<<"$breadth_out"
check "no Max-Breadth: three branches at once, 20 each, the callees' 486 comes back" \
	grep -qx "none 486 20,20,20 parallel" <<<"$breadth_out"
check "Max-Breadth 2: each branch gets 1, the third only after one answered" \
	grep -qx "two 486 1,1,1 serial" <<<"$breadth_out"
check "Max-Breadth 0: 440 Max-Breadth Exceeded, no branch" grep -qx "zero 440 0" <<<"$breadth_out"
check "Max-Breadth 2x: 400, no branch" grep -qx "bad 400 0" <<<"$breadth_out"
stop_pid "$SIPD_PID"

# 15. RFC 5626 flows across workers: flowy registers over a TCP connection
# with reg-id and +sip.instance (its Contact, 192.0.2.77, is unreachable), so
# requests to it must go back over that connection — which one worker owns.
# Twelve calls from as many UDP ports land on both workers; each reaches
# flowy over its connection (the other worker hands its messages to the
# owner) and flowy's 486 comes back. Then twelve answered calls: flowy's 200
# names its flow's own address as Contact (as baresip does), so the ACK and
# BYE reach it only because sipd finds which worker holds that connection.
F=$(free_port)
start_sipd flow -l udp:127.0.0.1:$F -l tcp:127.0.0.1:$F --workers 2 --db "$WORK/flow.db" --log-level debug
flow_out=$(python3 - "$HERE" "$F" <<'PY'
import sys, socket, threading, time, re
sys.path.insert(0, sys.argv[1])
import sipnet
port = int(sys.argv[2])
srv = ("127.0.0.1", port)
t = socket.create_connection(srv)
lp = t.getsockname()[1]
t.sendall(("REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:%d;branch=z9hG4bK-f1;rport\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:flowy@127.0.0.1>;tag=f1\r\nTo: <sip:flowy@127.0.0.1>\r\n"
           "Call-ID: flow1@t\r\nCSeq: 1 REGISTER\r\nSupported: outbound, path\r\n"
           "Contact: <sip:flowy@192.0.2.77:5060;transport=tcp;ob>;reg-id=1;"
           "+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"\r\n"
           "Expires: 600\r\nContent-Length: 0\r\n\r\n" % lp).encode())
got, buf = [], b""
answer = {"code": 486}
def reader():
    global buf
    while True:
        try:
            d = t.recv(65535)
        except OSError:
            return
        if not d:
            return
        buf += d
        for m in sipnet.split_stream(buf):
            buf = buf[buf.find(m) + len(m):]
            got.append(m)
            if m.startswith(b"INVITE ") and answer["code"] == 486:
                t.sendall(sipnet.response_to(m, 486, "Busy Here"))
            elif m.startswith(b"INVITE "):
                # Like baresip with outbound: the Contact names the flow's own
                # address, and the Record-Route set comes back.
                r = sipnet.response_to(m, 200, "OK", to_tag="fl%d" % len(got))
                rr = b"".join(b"Record-Route: " + v + b"\r\n" for v in re.findall(rb"(?im)^Record-Route: *(.*?)\r$", m))
                extra = rr + b"Contact: <sip:flowy@127.0.0.1:%d;transport=tcp>\r\n" % lp
                t.sendall(r.replace(b"Content-Length: 0\r\n", extra + b"Content-Length: 0\r\n"))
            elif m.startswith(b"BYE "):
                t.sendall(sipnet.response_to(m, 200, "OK"))
threading.Thread(target=reader, daemon=True).start()
time.sleep(0.5)
print("reg", ",".join(str(sipnet.status_of(m)) for m in got if sipnet.status_of(m)))
def invite(i):
    return ("INVITE sip:flowy@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-fc%d;rport\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:x@127.0.0.1>;tag=c%d\r\nTo: <sip:flowy@127.0.0.1>\r\n"
            "Call-ID: flowcall%d@t\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n" % (i, i, i)).encode()
res = []
for i in range(12):
    out = sipnet.udp_exchange(invite(i), srv, wait=3.0)
    finals = [sipnet.status_of(m) for m in out if (sipnet.status_of(m) or 0) >= 200]
    res.append(str(finals[0] if finals else None))
print("calls", ",".join(res))
print("invites", sum(1 for m in got if m.startswith(b"INVITE ")))
# Answered calls: ACK and BYE along the Record-Route to the Contact, which
# names the flow's address (not a binding): any worker must find the flow.
answer["code"] = 200
byes = []
for i in range(12, 24):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(3.0)
    s.sendto(invite(i), srv)
    ok = None
    try:
        while True:
            d, _ = s.recvfrom(65535)
            if sipnet.status_of(d) == 200:
                ok = d
                break
    except socket.timeout:
        pass
    if not ok:
        byes.append("no200")
        continue
    contact = re.search(rb"(?im)^Contact: *<([^>]*)>", ok).group(1).decode()
    route = "".join("Route: %s\r\n" % v.decode() for v in re.findall(rb"(?im)^Record-Route: *(.*?)\r$", ok))
    to = re.search(rb"(?im)^To: *(.*?)\r$", ok).group(1).decode()
    lport = s.getsockname()[1]
    for meth, cseq, br in (("ACK", 1, "a"), ("BYE", 2, "b")):
        s.sendto(("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-%s%d;rport\r\n%s"
                  "Max-Forwards: 70\r\nFrom: <sip:x@127.0.0.1>;tag=c%d\r\nTo: %s\r\n"
                  "Call-ID: flowcall%d@t\r\nCSeq: %d %s\r\nContent-Length: 0\r\n\r\n"
                  % (meth, contact, lport, br, i, route, i, to, i, cseq, meth)).encode(), srv)
    st = None
    try:
        while st is None:
            d, _ = s.recvfrom(65535)
            if b"CSeq: 2 BYE" in d and sipnet.status_of(d):
                st = sipnet.status_of(d)
    except socket.timeout:
        pass
    byes.append(str(st))
time.sleep(0.3)
print("byes", ",".join(byes))
print("acks", sum(1 for m in got if m.startswith(b"ACK ")), "byes_in", sum(1 for m in got if m.startswith(b"BYE ")))
PY
)
echo "$flow_out" | sed 's/^/info: /'
check "flowy registered over its TCP flow (200)" grep -qx "reg 200" <<<"$flow_out"
check "twelve calls to flowy from UDP callers on both workers: each reached it over its flow, 486 back" \
	grep -qx "calls $(printf '486,%.0s' $(seq 11))486" <<<"$flow_out"
check "  flowy got exactly twelve INVITEs on its connection" grep -qx "invites 12" <<<"$flow_out"
check "twelve answered calls: ACK and BYE along the Record-Route to flowy's Contact (its flow's own address) reach it over the flow, BYE 200 back" \
	grep -qx "byes $(printf '200,%.0s' $(seq 11))200" <<<"$flow_out"
check "  flowy got 24 ACKs (sipd's for the twelve 486s, the callers' for the 200s) and twelve BYEs on its connection" \
	grep -qx "acks 24 byes_in 12" <<<"$flow_out"
echo "info: messages handed to the flow's worker: $(grep -c 'handed a message for connection' "$WORK/flow.log" || true)"
# RFC 5626 §4.4.2 keep-alive on a UDP flow: a STUN Binding request to the
# SIP port gets a Binding response whose XOR-MAPPED-ADDRESS is the sender.
stun=$(python3 - "$F" <<'PY'
import socket, struct, sys, os
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(2.0)
tid = os.urandom(12)
s.sendto(struct.pack("!HHI", 0x0001, 0, 0x2112A442) + tid, ("127.0.0.1", port))
d, _ = s.recvfrom(2048)
typ, length, cookie = struct.unpack("!HHI", d[:8])
ok = typ == 0x0101 and cookie == 0x2112A442 and d[8:20] == tid and length + 20 == len(d)
at, alen, fam, xport = struct.unpack("!HHxBH", d[20:28])
xaddr = struct.unpack("!I", d[28:32])[0] ^ 0x2112A442
mapped = "%s:%d" % (socket.inet_ntoa(struct.pack("!I", xaddr)), xport ^ 0x2112)
me = "%s:%d" % s.getsockname()
print("stun", "ok" if ok and at == 0x20 and mapped == me else "bad %r %s %s" % (d, mapped, me))
PY
)
check "a STUN keep-alive to sipd's UDP port: Binding response with the sender's address ($stun)" test "$stun" = "stun ok"
stop_pid "$SIPD_PID"

# 16. To a strict router (§16.6 step 6): the Route after ours has no ;lr, so
# its URI becomes the Request-URI and the Request-URI the last Route value.
T=$(free_port); TS=$(free_port)
start_sipd tostrict -l udp:127.0.0.1:$T --workers 2 --db "$WORK/tostrict.db"
ts_out=$(python3 - "$HERE" "$T" "$TS" <<'PY'
import sys, re
sys.path.insert(0, sys.argv[1])
import sipnet
port, sr = int(sys.argv[2]), int(sys.argv[3])
r = sipnet.Responder(sr)
inv = ("INVITE sip:zed@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-ts1;rport\r\n"
       "Route: <sip:127.0.0.1:%d;lr>, <sip:127.0.0.1:%d>\r\n"
       "Max-Forwards: 70\r\nFrom: <sip:x@example.net>;tag=1\r\nTo: <sip:zed@example.com>\r\n"
       "Call-ID: tostrict1@t\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n" % (port, sr)).encode()
out = sipnet.udp_exchange(inv, ("127.0.0.1", port), wait=5.0)
sipnet.time.sleep(0.2)
r.stop()
finals = [sipnet.status_of(m) for m in out if (sipnet.status_of(m) or 0) >= 200]
print("final", finals[0] if finals else None)
if r.invites:
    m = r.invites[0][1]
    print("ruri", m.split(b"\r\n")[0].decode())
    print("route", ",".join(v.decode() for v in re.findall(rb"(?im)^Route: *(.*?)\r$", m)))
PY
)
echo "$ts_out" | sed 's/^/info: /'
check "an INVITE routed on to a strict router: its 486 comes back" grep -qx "final 486" <<<"$ts_out"
check "  the strict router got its own URI as Request-URI" grep -qx "ruri INVITE sip:127.0.0.1:$TS SIP/2.0" <<<"$ts_out"
check "  and the real target as the last (here only) Route value" grep -qx "route <sip:zed@example.com>" <<<"$ts_out"
stop_pid "$SIPD_PID"

# 17. The MTU rule at the proxy (§18.1.1) and its one exception. "big" is a
# phone on UDP port P, and a TCP listener squats on the same port. A ~1.5 KB
# INVITE to a binding registered as a plain Contact goes over TCP (the MTU
# rule); to a binding registered from that UDP socket as an RFC 5626 flow it
# stays on UDP — TCP to a NAT or flow address would hang until the connect
# timeout. With nothing on TCP the connect fails and the INVITE is resent over
# UDP, its Via back to UDP, and the log says so.
U=$(free_port)
start_sipd mtu -l udp:127.0.0.1:$U -l tcp:127.0.0.1:$U --workers 2 --db "$WORK/mtu.db" --trace
mtu_out=$(python3 - "$HERE" "$U" "$(free_port)" <<'PY'
import sys, socket, threading, re
sys.path.insert(0, sys.argv[1])
import sipnet
port, P = int(sys.argv[2]), int(sys.argv[3])
srv = ("127.0.0.1", port)
tcp_got, conns = [], []
def squat(ls):
    while True:
        try:
            c, _ = ls.accept()
        except OSError:
            return
        conns.append(c)
        buf, done = b"", 0
        try:
            while True:
                d = c.recv(65535)
                if not d:
                    break
                buf += d
                msgs = sipnet.split_stream(buf)
                for m in msgs[done:]:
                    if m.startswith(b"INVITE "):
                        tcp_got.append(m)
                        c.sendall(sipnet.response_to(m, 486, "Busy Here"))
                done = len(msgs)
        except OSError:
            pass
def call(n):
    pad = "X-Pad: " + "p" * 1400 + "\r\n"
    inv = ("INVITE sip:big@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-mtu%d;rport\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:x@example.net>;tag=1\r\nTo: <sip:big@127.0.0.1>\r\n"
           "Call-ID: mtu%d@t\r\nCSeq: 1 INVITE\r\n%sContent-Length: 0\r\n\r\n" % (n, n, pad)).encode()
    out = sipnet.udp_exchange(inv, srv, wait=5.0)
    finals = [sipnet.status_of(m) for m in out if (sipnet.status_of(m) or 0) >= 200]
    return finals[0] if finals else None
def register(r, extra_contact, extra, cseq):
    r.responses.clear()
    lp = r.sock.getsockname()[1]
    r.send(sipnet.register("127.0.0.1", port, "big", "127.0.0.1", contacts=["<sip:big@127.0.0.1:%d%s" % (lp, extra_contact)],
                           expires=600, call_id="mtu-reg@t", cseq=cseq, local_port=lp, extra=extra), srv)
    sipnet.time.sleep(0.3)
    return sipnet.status_of(r.responses[0]) if r.responses else None
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", P)); ls.listen(8)
threading.Thread(target=squat, args=(ls,), daemon=True).start()
r = sipnet.Responder(P)
print("plain reg", register(r, ">", "", 1))
print("plain final", call(1), "udp", len(r.invites), "tcp", len(tcp_got))
print("plain via", sipnet.header_values(tcp_got[0], "Via")[0].split()[0].decode() if tcp_got else "-")
print("flow reg", register(r, ";ob>;reg-id=1;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-00000000b16a>\"",
                           "Supported: outbound, path\r\n", 2))
print("flow final", call(2), "udp", len(r.invites), "tcp", len(tcp_got))
ls.close()
for c in conns:
    c.shutdown(socket.SHUT_RDWR)  # sipd would reuse an open connection
    c.close()
r.stop()
sipnet.time.sleep(0.3)
r = sipnet.Responder(P)  # nothing on TCP now: the connect is refused
print("fallback reg", register(r, ">", "", 3))
print("fallback final", call(3), "udp", len(r.invites))
print("fallback via", sipnet.header_values(r.invites[0][1], "Via")[0].split()[0].decode() if r.invites else "-")
r.stop()
PY
)
echo "$mtu_out" | sed 's/^/info: /'
check "a 1.5 KB INVITE to a plain UDP binding goes over TCP (MTU rule): 486 comes back" \
	grep -qx "plain reg 200" <<<"$mtu_out"
check "  it reached the TCP side only, its Via saying TCP" \
	grep -qx "plain final 486 udp 0 tcp 1" <<<"$mtu_out"
check "  (Via SIP/2.0/TCP)" grep -qx "plain via SIP/2.0/TCP" <<<"$mtu_out"
check "the same INVITE to an RFC 5626 flow over UDP stays on the flow" \
	grep -qx "flow final 486 udp 1 tcp 1" <<<"$mtu_out"
check "with TCP refused the INVITE is resent over UDP, Via back to UDP" \
	grep -qx "fallback final 486 udp 1" <<<"$mtu_out"
check "  (Via SIP/2.0/UDP)" grep -qx "fallback via SIP/2.0/UDP" <<<"$mtu_out"
stop_pid "$SIPD_PID"
check "  and sipd's log says the request was resent over UDP" grep -q "resent over UDP" "$WORK/mtu.log"

# --- Timer C (§16.6 step 11) shortened to 1 s by the config: a callee that
# neither rings nor answers gets the caller a 408; when it answers 200 after
# all, the 200 still reaches the caller (§16.7 step 5), statelessly since
# the server transaction is Completed, and the call is set up and ended.
cat >"$WORK/timer_c.yaml" <<YAML
timers:
  c: 1000
YAML
T=$(free_port)
start_sipd timer_c -c "$WORK/timer_c.yaml" -l udp:127.0.0.1:$T --workers 1 --db "$WORK/timer_c.db" --trace
L=$(free_port)
register reg-late lena $L $T
uas_start uas-late "$L" proxy_uas_late.xml -s lena -set delay 2500
rc=0; sipp_uac uac-late u1 $T proxy_uac_late.xml -p "$(free_port)" -s lena || rc=$?
check "Timer C (1 s) with a silent callee: 408 to the caller, ACKed; the callee's 200 at 2.5 s still reaches the caller, ACK and BYE go through" \
	both_pass $rc "$UAS_PID"
stop_pid "$SIPD_PID"
check "  sipd sent the 408 before the 200" \
	bash -c "awk '/SIP\/2.0 408/ { a = NR } /SIP\/2.0 200 OK/ && a && !b { b = NR } END { exit !(a && b > a) }' '$WORK/timer_c.log'"
