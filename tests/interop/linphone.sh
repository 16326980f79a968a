#!/usr/bin/env bash
# Two Linphone phones (linphonec, belle-sip: a stack we did not write and do
# not otherwise test) call each other through sipd with digest
# authentication required: alice registers over UDP, bob over TCP, both
# answer sipd's challenge — SHA-256 offered first (RFC 8760), so a client
# that knows it must use it. alice calls bob (bob answers automatically):
# alice's INVITE gets 407 and comes back with Proxy-Authorization; bob
# receives it without alice's credentials (§22.3: sipd consumes its own
# realm's), with sipd's Record-Route; both phones see the call and its
# audio streams established; alice hangs up, the BYE crosses sipd and both
# see the call end; alice's MESSAGE reaches bob. On exit both phones
# unregister and sipd holds no binding for them. Run three times: over IPv4
# (alice UDP, bob TCP), over IPv6 ([::1], both UDP), and with bob on TLS
# (linphone verifies sipd's certificate for "localhost"; sipd keeps bob's
# source with nat_rewrite and reaches him over his own connection, as it
# would behind a NAT). With mutual TLS, bob registers with a client
# certificate and cannot without one. Then our UA stack against linphone's:
# PRACK of sipua's reliable 180, a CANCEL while sipua rings, and sessions
# sipua refreshes with UPDATE and re-INVITE. No sound card: linphone runs with its null devices.
source "$(dirname "$0")/common.bash"
command -v linphonec >/dev/null || { echo "linphonec missing (scripts/deps installs linphone-cli)"; exit 1; }

"$SIPD" user add sip:alice@localhost alice-pw --db "$WORK/sipd.db" >/dev/null
"$SIPD" user add sip:bob@localhost bob-pw --db "$WORK/sipd.db" >/dev/null

# phone NAME SIP_PORT TRANSPORT PASSWORD: a linphonec config in $WORK/NAME,
# registering with sipd at $H:$P.
phone() {
	local name=$1 port=$2 tr=$3 pw=$4 rtp
	rtp=$(free_port "$FAM")
	mkdir -p "$WORK/$name/.local/share/linphone"
	cat >"$WORK/$name.rc" <<EOF
[sip]
sip_port=$([ "$tr" = udp ] && echo "$port" || echo 0)
sip_tcp_port=$([ "$tr" = tcp ] && echo "$port" || echo 0)
sip_tls_port=$([ "$tr" = tls ] && echo "$port" || echo 0)
root_ca=$WORK/tls/cert.pem
verify_server_certs=1
verify_server_cn=1
use_ipv6=$([ "$FAM" = 6 ] && echo 1 || echo 0)
default_proxy=0
[rtp]
audio_rtp_port=$rtp
[sound]
echocancellation=0
[video]
enabled=0
capture=0
display=0
[proxy_0]
reg_proxy=<sip:$([ "$tr" = tls ] && echo localhost || echo "$H"):$P;transport=$tr>
reg_route=<sip:$([ "$tr" = tls ] && echo localhost || echo "$H"):$P;transport=$tr;lr>
reg_identity=sip:$name@localhost
reg_expires=600
reg_sendregister=1
[auth_info_0]
username=$name
passwd=$pw
realm=localhost
domain=localhost
EOF
}

# start_phone NAME [ARGS...]: linphonec reading commands from the fifo
# $WORK/NAME.in (the fd is held open so it never sees end of file).
start_phone() {
	local name=$1; shift
	rm -f "$WORK/$name.in" "$WORK/$name.log"
	mkfifo "$WORK/$name.in"
	exec {fd}<>"$WORK/$name.in"
	HOME=$WORK/$name timeout 60 linphonec -c "$WORK/$name.rc" -d 5 -l "$WORK/$name.log" "$@" \
		<&$fd >"$WORK/$name.out" 2>&1 &
	PHONE_PID=$!
	PIDS+=("$PHONE_PID")
}
say() { echo "$2" >"$WORK/$1.in"; }
# wait_for FILE PATTERN [TENTHS]: until FILE has a line matching PATTERN.
wait_for() {
	for _ in $(seq 1 "${3:-100}"); do grep -aq "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}

# scenario FAMILY BOB_TRANSPORT: sipd on 127.0.0.1 or [::1], the two phones,
# the call, the checks (labelled with the family).
scenario() {
	FAM=$1
	local bt=$2 v="IPv$1"
	[ "$bt" = tls ] && v=TLS
	if [ "$FAM" = 6 ]; then H="[::1]"; else H=127.0.0.1; fi
	local hr=${H//[/\\[}; hr=${hr//]/\\]} # H as a regular expression
	P=$(free_port "$FAM")
	local name=sipd$FAM$bt stream="\"tcp:$H:$P\"" tls="" nat=false
	if [ "$bt" = tls ]; then
		# "localhost" may resolve to either family: TLS on both.
		stream="\"tls:127.0.0.1:$P\", \"tls:[::1]:$P\""
		tls="tls: {cert: $WORK/tls/cert.pem, key: $WORK/tls/key.pem}"
		nat=true
	fi
	cat >"$WORK/$name.yaml" <<-EOF
	listen: ["udp:$H:$P", $stream]
	domains: [localhost]
	$tls
	registrar:
	  require_auth: true
	  nat_rewrite: $nat
	  algorithms: [SHA-256, MD5]
	workers: 2
	EOF
	start_sipd $name -c "$WORK/$name.yaml" --db "$WORK/sipd.db" --trace
	local log="$WORK/$name.log"
	phone alice "$(free_port "$FAM")" udp alice-pw
	phone bob "$(free_port "$FAM")" "$bt" bob-pw
	start_phone alice; ALICE=$PHONE_PID
	start_phone bob -a; BOB=$PHONE_PID

	for n in alice bob; do
		for _ in $(seq 1 100); do
			say $n "status register"; sleep 0.1
			grep -aq "^registered, identity=sip:$n@localhost" "$WORK/$n.out" 2>/dev/null && break
		done
	done
	check "$v: alice registered over UDP (digest)" grep -aq "^registered, identity=sip:alice@localhost" "$WORK/alice.out"
	check "$v: bob registered over ${bt^^} (digest)" grep -aq "^registered, identity=sip:bob@localhost" "$WORK/bob.out"
	check "  both answered sipd's SHA-256 challenge (offered first)" \
		test "$(grep -a '^Authorization:' "$log" | grep -c 'algorithm=SHA-256')" -ge 2
	check "  bob's binding names ${bt^^}" grep -aq "^Contact: <sip:bob@$hr:[0-9]*;transport=$bt>" "$log"

	say alice "call sip:bob@localhost"
	check "$v: alice: call connected" wait_for "$WORK/alice.out" "Call 1 with sip:bob@localhost connected"
	check "$v: bob: incoming call from alice answered" wait_for "$WORK/bob.out" "Call 1 with sip:alice@localhost connected"
	check "$v: both: audio streams established" \
		bash -c "grep -aq 'Media streams established with sip:bob@localhost' '$WORK/alice.out' &&
			 grep -aq 'Media streams established with sip:alice@localhost' '$WORK/bob.out'"
	sleep 1
	say alice "terminate"
	check "$v: alice: call ended" wait_for "$WORK/alice.out" "Call 1 with sip:bob@localhost ended"
	check "$v: bob: call ended (alice's BYE)" wait_for "$WORK/bob.out" "Call 1 with sip:alice@localhost ended"

	# The INVITE as bob received it (belle-sip logs each message it receives).
	bob_invite=$(awk '/received \[[0-9]+\] new bytes from/ {keep = 0} /^INVITE sip:bob/ {keep = 1} keep' "$WORK/bob.log")
	check "$v: alice's first INVITE was challenged (407), the second carried credentials" \
		bash -c "grep -aq '^SIP/2.0 407 Proxy Authentication Required' '$log' &&
			 grep -aq '^Proxy-Authorization: *Digest' '$log'"
	check "$v: bob's INVITE carried sipd's Record-Route" grep -q "^Record-Route: <sip:$hr:$P[;>]" <<<"$bob_invite"
	check "  and no Proxy-Authorization: sipd consumed alice's credentials (§22.3)" \
		bash -c "[ -n \"\$1\" ] && ! grep -qi '^Proxy-Authorization' <<<\"\$1\"" _ "$bob_invite"
	if [ "$bt" = tls ]; then
		local reg_peer inv_peer
		reg_peer=$(grep -a -A1 "trace recv TLS" "$log" | grep -a -B1 "^REGISTER" | grep -ao "recv TLS [^ ]*" | head -1)
		inv_peer=$(grep -a -A1 "trace send TLS" "$log" | grep -a -B1 "^INVITE" | grep -ao "send TLS [^ ]*" | head -1)
		check "  sipd sent bob's INVITE over the TLS connection he registered on (${reg_peer#recv TLS })" \
			test -n "$reg_peer" -a "${reg_peer#recv }" = "${inv_peer#send }"
	fi
	say alice "chat sip:bob@localhost hello-$FAM-$bt"
	check "$v: alice's MESSAGE reached bob through sipd" \
		wait_for "$WORK/bob.out" "Message received from sip:alice@localhost: hello-$FAM-$bt"
	check "  after a 407 for it, answered with credentials" \
		bash -c "grep -a -A10 '^SIP/2.0 407' '$log' | grep -aq '^CSeq: [0-9]* MESSAGE'"
	check "$v: the BYE crossed sipd" test "$(grep -a -A1 'trace send' "$log" | grep -ac '^BYE sip:')" -ge 1

	say alice quit
	say bob quit
	wait "$ALICE" 2>/dev/null || true
	wait "$BOB" 2>/dev/null || true
	check "$v: on quit both phones unregistered (Expires: 0 answered 200)" \
		test "$(grep -a -B12 '^Expires: 0' "$log" | grep -ac '^REGISTER sip:localhost')" -ge 2
	check "$v: sipd still running" kill -0 "$SIPD_PID"
	stop_pid "$SIPD_PID"
	check "$v: sipd's store holds no binding for alice or bob" \
		test "$(sqlite3 "$WORK/sipd.db" "SELECT count(*) FROM bindings")" = 0
}

"$ROOT/scripts/gencert" "$WORK/tls" localhost >/dev/null
scenario 4 tcp
scenario 6 udp
scenario 4 tls

# Mutual TLS (tls.verify_clients): bob presents a client certificate that
# sipd's client_ca trusts and registers; without one the handshake fails and
# no request reaches sipd.
"$ROOT/scripts/gencert" "$WORK/client" bob >/dev/null
FAM=4 H=127.0.0.1
P=$(free_port)
cat >"$WORK/mtls.yaml" <<EOF
listen: ["tls:127.0.0.1:$P", "tls:[::1]:$P"]
domains: [localhost]
tls: {cert: $WORK/tls/cert.pem, key: $WORK/tls/key.pem, verify_clients: true, client_ca: $WORK/client/cert.pem}
registrar: {require_auth: true, nat_rewrite: true}
EOF
start_sipd mtls -c "$WORK/mtls.yaml" --db "$WORK/sipd.db" --trace
for cert in with without; do
	phone bob "$(free_port)" tls bob-pw
	[ $cert = with ] && sed -i "s|^\[sip\]$|[sip]\nclient_cert_chain=$WORK/client/cert.pem\nclient_cert_key=$WORK/client/key.pem|" "$WORK/bob.rc"
	start_phone bob; BOB=$PHONE_PID
	for _ in $(seq 1 40); do
		say bob "status register"; sleep 0.1
		grep -aq "^registered, identity=sip:bob@localhost" "$WORK/bob.out" 2>/dev/null && break
	done
	sleep 0.5
	say bob "status register"; sleep 0.2
	if [ $cert = with ]; then
		check "mutual TLS: bob with a client certificate sipd trusts registers" \
			grep -aq "^registered, identity=sip:bob@localhost" "$WORK/bob.out"
		check "  (linphone presented it)" grep -aq "found client *certificate" "$WORK/bob.log"
	else
		check "mutual TLS: bob without a client certificate does not register" \
			bash -c "! grep -aq '^registered, identity=sip:bob@localhost' '$WORK/bob.out'"
		check "  and no request of his reached sipd" test "$(grep -ac "^REGISTER sip:localhost" "$WORK/mtls.log")" = "$regs"
	fi
	say bob quit
	wait "$BOB" 2>/dev/null || true
	regs=$(grep -ac "^REGISTER sip:localhost" "$WORK/mtls.log") # his unregister included
done
stop_pid "$SIPD_PID"

# Our UA stack against Linphone's, through sipd (no authentication): alice
# (linphone, 100rel on, auto answer) calls carol, a `sipua answer --100rel`:
# carol's 180 is reliable and linphone PRACKs it (RFC 3262); then sipua
# calls alice twice, refreshing the session once with UPDATE (RFC 3311) and
# once with a re-INVITE.
FAM=4 H=127.0.0.1
P=$(free_port)
start_sipd sipd-ua -l "udp:127.0.0.1:$P" --db "$WORK/ua.db" --trace
phone alice "$(free_port)" udp unused
sed -i '/^\[auth_info_0\]/,$d; s/^default_proxy=0/default_proxy=0\n100rel_support_level=1/' "$WORK/alice.rc"
start_phone alice -a; ALICE=$PHONE_PID
C=$(free_port)
check "sipua register carol (contact: her answer port)" \
	"$SIPUA" register --user carol --registrar "sip:localhost:$P" --contact "sip:carol@127.0.0.1:$C" --once
"$SIPUA" answer --listen "127.0.0.1:$C" --user carol --ring-ms 500 --100rel --timeout 20 >"$WORK/carol.log" 2>&1 &
CAROL=$!
PIDS+=("$CAROL")
wait_for "$WORK/alice.log" "Register refresher \[200\]" 100 || true
say alice "call sip:carol@localhost"
check "linphone → sipd → sipua answer --100rel: connected" wait_for "$WORK/alice.out" "Call 1 with sip:carol@localhost connected"
say alice "terminate"
crc=0; wait "$CAROL" || crc=$?
check "  sipua: established, ended by linphone's BYE (exit 0)" \
	bash -c "[ $crc -eq 0 ] && grep -q '^ended: the peer hung up' '$WORK/carol.log'"
check "  carol's 180 carried Require: 100rel and RSeq, and linphone's PRACK crossed sipd to her" \
	bash -c "grep -a -A1 'trace send UDP 127.0.0.1:$C' '$WORK/sipd-ua.log' | grep -aq '^PRACK sip:carol@127.0.0.1:$C' &&
		 grep -a -A12 '^SIP/2.0 180' '$WORK/sipd-ua.log' | grep -aq '^RSeq: ' &&
		 grep -a -A12 '^SIP/2.0 180' '$WORK/sipd-ua.log' | grep -aq '^Require: 100rel'"
# linphone hangs up while carol's phone rings: its CANCEL crosses sipd, carol
# answers 487, sipd ACKs her and relays the 487, which linphone ACKs.
"$SIPUA" answer --listen "127.0.0.1:$C" --user carol --ring-ms 8000 --timeout 20 >"$WORK/carol2.log" 2>&1 &
CAROL=$!
PIDS+=("$CAROL")
sleep 0.3
say alice "call sip:carol@localhost"
check "linphone → sipua answer (ringing 8 s)" wait_for "$WORK/alice.out" "Call 2 to sip:carol@localhost ringing"
say alice "terminate"
wait "$CAROL" || true # not answered as asked: non-zero
wait_for "$WORK/sipd-ua.log" "^ACK sip:carol@localhost" 50 || true
check "  linphone cancels: sipua sees the CANCEL" grep -q '^ended: the peer hung up (CANCEL)' "$WORK/carol2.log"
check "  its 487 goes back through sipd and linphone ACKs it (ACK for the original Request-URI)" \
	bash -c "grep -a -A1 'trace send UDP 127.0.0.1' '$WORK/sipd-ua.log' | grep -aq '^SIP/2.0 487' &&
		 grep -a -A1 'trace recv UDP' '$WORK/sipd-ua.log' | grep -aq '^ACK sip:carol@localhost'"
for how in update invite; do
	rc=0
	timeout 20 "$SIPUA" call "sip:alice@localhost:$P" --hold 2 --refresh $how --timeout 15 >"$WORK/call-$how.log" 2>&1 || rc=$?
	check "sipua → sipd → linphone, refreshed with ${how^^}: answered, refreshed, hung up (exit 0)" \
		bash -c "[ $rc -eq 0 ] && grep -q '^refreshed (${how^^} 200)' '$WORK/call-$how.log' && grep -q '^ended: 200' '$WORK/call-$how.log'"
done
say alice quit
wait "$ALICE" 2>/dev/null || true
check "sipd still running" kill -0 "$SIPD_PID"
stop_pid "$SIPD_PID"
