#!/usr/bin/env bash
# sipd against SIPVicious (svmap, svwar, svcrack: the scanner toolkit
# attackers run against SIP servers on the Internet), authentication
# required. svmap finds the server. svwar cannot tell which extensions
# exist, even told to scan on (--force): unknown users and existing ones get
# the same challenge. svcrack, guessing alice's password from a list that
# holds it at position 201, finds nothing: after 20 failures from its
# address sipd refuses that address's credentials unchecked (403 Too Many
# Failed Authentications) until it is back under the allowed failures a
# minute, and logs it once. Meanwhile alice registers from another address
# (127.0.0.2), and the guessing address, from another port, still gets 403
# for the right password — on REGISTER and on an INVITE's 407 path alike,
# while the same INVITE from 127.0.0.2 gets through. With the guard turned off
# (limits.auth_fail_per_minute: 0) svcrack does find it: the guard is what
# stops it.
source "$(dirname "$0")/common.bash"
for c in svmap svwar svcrack; do
	command -v $c >/dev/null || { echo "$c missing (scripts/deps installs sipvicious)"; exit 1; }
done

"$SIPD" user add sip:alice@localhost 'secret-201' --db "$WORK/sipd.db" >/dev/null
"$SIPD" user add sip:105@localhost 'pw105' --db "$WORK/sipd.db" >/dev/null
python3 -c "
for i in range(200): print('guess%d' % i)
print('secret-201')" >"$WORK/words.txt"

# sipd_with NAME YAML_LIMITS: sipd on a fresh port $P, auth required.
sipd_with() {
	P=$(free_port)
	printf 'listen: [udp:127.0.0.1:%s]\ndomains: [localhost]\nregistrar: {require_auth: true}\n%s\n' \
		"$P" "$2" >"$WORK/$1.yaml"
	start_sipd "$1" -c "$WORK/$1.yaml" --db "$WORK/sipd.db" --workers 1
}

# register_from BIND_IP USER PASSWORD: a REGISTER answered with digest (MD5)
# from BIND_IP; prints the final status of the authenticated attempt.
register_from() {
	python3 - "$HERE" "$P" "$@" <<'PY'
import sys, re
sys.path.insert(0, sys.argv[1])
import sipnet
port, ip, user, pw = int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
srv = ("127.0.0.1", port)
c = ["<sip:%s@%s:5099>" % (user, ip)]
r = sipnet.udp_exchange(sipnet.register("127.0.0.1", port, user, "localhost", contacts=c, call_id="vic@" + ip),
                        srv, bind=(ip, 0))
ch = [v for v in sipnet.header_values(r[0], "WWW-Authenticate") if b"MD5" in v] if r else []
if not ch:
    print("no challenge", sipnet.status_of(r[0]) if r else None)
    sys.exit()
nonce = re.search(rb'nonce="([^"]+)"', ch[0]).group(1).decode()
auth = sipnet.digest_md5(user, "localhost", pw, "REGISTER", "sip:localhost", nonce)
r = sipnet.udp_exchange(sipnet.register("127.0.0.1", port, user, "localhost", contacts=c, call_id="vic@" + ip,
                                        cseq=2, extra="Authorization: %s\r\n" % auth), srv, bind=(ip, 0))
print(sipnet.status_of(r[0]) if r else None)
PY
}

# One failure a minute after the first 20: no token comes back while the
# test runs (the default is 6 a minute).
# invite_from BIND_IP USER PASSWORD: an INVITE from USER to bob, answered
# with digest (MD5) after the 407, from BIND_IP; prints the final status.
invite_from() {
	python3 - "$HERE" "$P" "$@" <<'PY'
import sys, re
sys.path.insert(0, sys.argv[1])
import sipnet
port, ip, user, pw = int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
srv = ("127.0.0.1", port)
def invite(cseq, extra):
    return ("INVITE sip:bob@localhost SIP/2.0\r\nVia: SIP/2.0/UDP %s:9;branch=z9hG4bK-inv%d-%s;rport\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:%s@localhost>;tag=g1\r\nTo: <sip:bob@localhost>\r\n"
            "Call-ID: guard-%s@t\r\nCSeq: %d INVITE\r\n%sContent-Length: 0\r\n\r\n"
            % (ip, cseq, ip, user, ip, cseq, extra)).encode()
def final(rs):
    st = [sipnet.status_of(m) for m in rs if (sipnet.status_of(m) or 0) >= 200]
    return (st[0], [m for m in rs if sipnet.status_of(m) == st[0]][0]) if st else (None, None)
code, resp = final(sipnet.udp_exchange(invite(1, ""), srv, bind=(ip, 0)))
ch = [v for v in sipnet.header_values(resp, "Proxy-Authenticate") if b"MD5" in v] if resp else []
if code != 407 or not ch:
    print("no challenge", code)
    sys.exit()
nonce = re.search(rb'nonce="([^"]+)"', ch[0]).group(1).decode()
auth = sipnet.digest_md5(user, "localhost", pw, "INVITE", "sip:bob@localhost", nonce)
print(final(sipnet.udp_exchange(invite(2, "Proxy-Authorization: %s\r\n" % auth), srv, bind=(ip, 0), wait=3.0))[0])
PY
}

sipd_with guarded "limits: {auth_fail_burst: 20, auth_fail_per_minute: 1}"
timeout 30 svmap -p "$P" 127.0.0.1 >"$WORK/svmap.out" 2>&1 || true
check "svmap finds sipd" grep -q "127.0.0.1:$P.*sipd" "$WORK/svmap.out"
for m in REGISTER INVITE OPTIONS; do
	timeout 60 svwar --force -p "$P" -e 100-110 -m $m 127.0.0.1 >"$WORK/svwar-$m.out" 2>&1 || true
	# Its table would list the extensions it tells apart; it may also list
	# its own random probe when a late answer confuses it, so only the
	# scanned range counts.
	check "svwar ($m) cannot enumerate extensions 100-110 (105 exists)" \
		bash -c "grep -q 'scan started\|found nothing\|Extension' '$WORK/svwar-$m.out' &&
			 ! grep -Eq '^\| *(10[0-9]|110) +\|' '$WORK/svwar-$m.out'"
done
timeout 120 svcrack -p "$P" -u alice --domain=localhost -d "$WORK/words.txt" 127.0.0.1 >"$WORK/svcrack.out" 2>&1 || true
check "svcrack does not find alice's password (the 201st guess)" \
	bash -c "grep -q 'found nothing' '$WORK/svcrack.out' && ! grep -q 'secret-201' '$WORK/svcrack.out'"
check "  sipd logged the guessing address once" \
	test "$(grep -c 'authentication from the address of 127.0.0.1:[0-9]* failed 20 times' "$WORK/guarded.log")" = 1
check "alice registers from another address meanwhile (127.0.0.2: 200)" \
	test "$(register_from 127.0.0.2 alice secret-201)" = 200
check "the guessing address gets 403 for the right password, from any port" \
	test "$(register_from 127.0.0.1 alice secret-201)" = 403
check "  and so do its INVITEs with alice's right credentials (the proxy's 407 path shares the guard)" \
	test "$(invite_from 127.0.0.1 alice secret-201)" = 403
check "  while from 127.0.0.2 the same INVITE passes authentication (480: bob has no binding)" \
	test "$(invite_from 127.0.0.2 alice secret-201)" = 480
check "sipd still running" kill -0 "$SIPD_PID"
stop_pid "$SIPD_PID"

sipd_with open "limits: {auth_fail_per_minute: 0}"
timeout 120 svcrack -p "$P" -u alice --domain=localhost -d "$WORK/words.txt" 127.0.0.1 >"$WORK/svcrack-open.out" 2>&1 || true
check "without the guard svcrack finds it (the test can see a crack)" grep -q "secret-201" "$WORK/svcrack-open.out"
stop_pid "$SIPD_PID"
