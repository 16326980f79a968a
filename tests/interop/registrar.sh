#!/usr/bin/env bash
# The registrar end to end (RFC 3261 §10.3): SIPp registers, refreshes,
# queries, unregisters one contact and all with '*', gets 423 and 400 for a
# bad wildcard (open registration on loopback, UDP and TCP); with digest
# authentication SIPp answers the 401 (MD5), a wrong password is challenged
# again, an old nonce gets stale=true; bad input gets its 4xx; and bindings
# survive `kill -9` of sipd.
source "$(dirname "$0")/common.bash"

sipp_reg() { # NAME TRANSPORT PORT SCENARIO ARGS...
	local name=$1 t=$2 port=$3 sc=$4; shift 4
	timeout 60 sipp -sf "$HERE/scenarios/$sc" -t "$t" -i 127.0.0.1 -p 0 -m 1 -nostdin -nd \
		-trace_err -error_file "$WORK/$name.err" "$@" 127.0.0.1:$port >"$WORK/$name.sipp.log" 2>&1
}

# 1. Open registration (loopback): the whole §10.3 flow over UDP and TCP.
P=$(free_port)
start_sipd open -l udp:127.0.0.1:$P -l tcp:127.0.0.1:$P --db "$WORK/open.db"
check "SIPp flow over UDP: register, refresh, query, unregister one/all, 423, 400 for bad wildcards" \
	sipp_reg flow-udp u1 $P reg_flow.xml -s carol -set domain localhost
check "the same flow over TCP" sipp_reg flow-tcp t1 $P reg_flow.xml -s dave -set domain localhost
python3 - "$HERE" "$P" <<'PY' || FAILS=$((FAILS + 1))
import sys
sys.path.insert(0, sys.argv[1])
import sipnet
port = int(sys.argv[2])
srv = ("127.0.0.1", port)
fails = 0
def check(what, cond):
    global fails
    print(("ok: " if cond else "FAIL: ") + what); fails += 0 if cond else 1
def status(msg):
    got = sipnet.udp_exchange(msg, srv)
    return sipnet.status_of(got[-1]) if got else None, got[-1] if got else b""
# A To that is not a SIP URI (RFC 4475 unksm2 style): 400.
m = sipnet.register("127.0.0.1", port, "x", "localhost", ["<sip:x@127.0.0.1:9>"]).replace(
    b"To: <sip:x@localhost>", b"To: isbn:2983792873")
check("non-SIP To → 400", status(m)[0] == 400)
# Thousands of Contacts in one REGISTER: a 4xx and nothing stored.
for n, want in ((1000, 400), (2000, 513)):
    many = ", ".join("<sip:m%d@127.0.0.1:9>" % i for i in range(n))
    m = sipnet.register("127.0.0.1", port, "many", "localhost", [many], call_id="many%d@test" % n)
    got = sipnet.tcp_exchange(m, srv)
    st = sipnet.status_of(got[-1]) if got else None
    check("%d Contacts in one REGISTER (%d bytes, TCP) → %d (got %s)" % (n, len(m), want, st), st == want)
m = sipnet.register("127.0.0.1", port, "many", "localhost", ["<sip:n%d@127.0.0.1:9>" % i for i in range(200)],
                    call_id="many3@test")
got = sipnet.tcp_exchange(m, srv)
st = sipnet.status_of(got[-1]) if got else None
check("200 Contact lines in one REGISTER → 4xx/513 (%s)" % st, st is not None and 400 <= st < 600)
m = sipnet.register("127.0.0.1", port, "many", "localhost", [], call_id="many2@test", cseq=2)
st, r = status(m)
check("  and nothing was stored (query lists no binding)", st == 200 and not sipnet.header_values(r, "Contact"))
# Malformed Expires and Contact: 400, nothing stored.
m = sipnet.register("127.0.0.1", port, "bad", "localhost", ["<sip:bad@127.0.0.1:9>"], extra="Expires: soon\r\n")
check("malformed Expires → 400", status(m)[0] == 400)
m = sipnet.register("127.0.0.1", port, "bad", "localhost", ["<sip:bad@127.0.0.1:9;>"], call_id="b2@t")
check("malformed Contact → 400", status(m)[0] == 400)
m = sipnet.register("127.0.0.1", port, "a" * 300, "localhost", ["<sip:y@127.0.0.1:9>"], call_id="long@t")
check("over-long AOR → 400", status(m)[0] == 400)
m = sipnet.register("127.0.0.1", port, "nobody", "elsewhere.example", ["<sip:y@127.0.0.1:9>"], call_id="f@t")
check("REGISTER for a domain that is not ours → 404", status(m)[0] == 404)
m = sipnet.register("127.0.0.1", port, "req", "localhost", ["<sip:y@127.0.0.1:9>"], extra="Require: nonsense\r\n")
st, r = status(m)
check("unknown Require → 420 with Unsupported", st == 420 and sipnet.header_values(r, "Unsupported") == [b"nonsense"])
sys.exit(1 if fails else 0)
PY
check "sipd still serving" kill -0 "$SIPD_PID"
stop_pid "$SIPD_PID"

# 2. Digest authentication (--require-auth on loopback).
P=$(free_port)
"$SIPD" user add sip:alice@localhost secret --db "$WORK/auth.db" >/dev/null
cat >"$WORK/auth.yaml" <<YAML
listen: [udp:127.0.0.1:$P]
db: $WORK/auth.db
registrar: {require_auth: true, nonce_lifetime: 1}
YAML
start_sipd auth -c "$WORK/auth.yaml"
check "SIPp answers the 401 (MD5 digest) and registers" \
	sipp_reg auth u1 $P reg_auth.xml -s alice -set domain localhost -set expires 300 -au alice -ap secret -auth_uri localhost
check "a wrong password is challenged again (401)" \
	sipp_reg wrong u1 $P reg_auth_wrong.xml -s alice -set domain localhost -set expires 300 -au alice -ap nope -auth_uri localhost
check "SIPp: an expired nonce is answered with a new challenge carrying stale=true, then 200" \
	sipp_reg stale u1 $P reg_stale.xml -s alice -set domain localhost -set expires 300 -au alice -ap secret -auth_uri localhost
check "SIPp answers the proxy's 407 (Proxy-Authorization) and gets past the gate" \
	sipp_reg proxyauth u1 $P proxy_auth.xml -s alice -set domain localhost -au alice -ap secret \
	-auth_uri carol@elsewhere.example
python3 - "$HERE" "$P" <<'PY' || FAILS=$((FAILS + 1))
import re, sys, time
sys.path.insert(0, sys.argv[1])
import sipnet
port = int(sys.argv[2]); srv = ("127.0.0.1", port); fails = 0
def check(what, cond):
    global fails
    print(("ok: " if cond else "FAIL: ") + what); fails += 0 if cond else 1
def ask(m):
    got = sipnet.udp_exchange(m, srv)
    return got[-1] if got else b""
r = ask(sipnet.register("127.0.0.1", port, "alice", "localhost", ["<sip:alice@127.0.0.1:9>"], call_id="st@t"))
chal = [c for c in sipnet.header_values(r, "WWW-Authenticate") if b"MD5" in c]
check("401 offers MD5 first, SHA-256 too", sipnet.status_of(r) == 401 and len(sipnet.header_values(r, "WWW-Authenticate")) == 2
      and b"MD5" in sipnet.header_values(r, "WWW-Authenticate")[0])
nonce = re.search(rb'nonce="([^"]+)"', chal[0]).group(1).decode()
auth = sipnet.digest_md5("alice", "localhost", "secret", "REGISTER", "sip:localhost", nonce)
ok = ask(sipnet.register("127.0.0.1", port, "alice", "localhost", ["<sip:alice@127.0.0.1:9>"], call_id="st@t",
                         cseq=2, extra="Authorization: %s\r\n" % auth))
check("right credentials → 200", sipnet.status_of(ok) == 200)
bob = ask(sipnet.register("127.0.0.1", port, "bob", "localhost", ["<sip:bob@127.0.0.1:9>"], call_id="bob@t",
          extra="Authorization: %s\r\n" % sipnet.digest_md5("bob", "localhost", "x", "REGISTER", "sip:localhost", nonce)))
wrong = ask(sipnet.register("127.0.0.1", port, "alice", "localhost", ["<sip:alice@127.0.0.1:9>"], call_id="w@t",
            extra="Authorization: %s\r\n" % sipnet.digest_md5("alice", "localhost", "bad", "REGISTER", "sip:localhost", nonce, nc="00000002")))
strip = lambda m: re.sub(rb'(nonce|tag)="?[^",;\r\n]+', b"", re.sub(rb"(?m)^(Via|From|To|Call-ID|CSeq|Date):.*\r\n", b"", m))
check("unknown user and wrong password get the same answer (401)",
      sipnet.status_of(bob) == sipnet.status_of(wrong) == 401 and strip(bob) == strip(wrong))
time.sleep(2.2)  # nonce_lifetime is 1 s
stale = ask(sipnet.register("127.0.0.1", port, "alice", "localhost", ["<sip:alice@127.0.0.1:9>"], call_id="st@t",
            cseq=3, extra="Authorization: %s\r\n" % sipnet.digest_md5("alice", "localhost", "secret", "REGISTER",
                                                                      "sip:localhost", nonce, nc="00000009")))
check("an expired nonce → 401 with stale=true", sipnet.status_of(stale) == 401 and b"stale=true" in stale.lower())

# The proxy role (§22.3): our users' requests for elsewhere need Proxy-Authorization.
def request(method, ruri, frm, n, extra=""):
    return ("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-px%d;rport\r\nMax-Forwards: 70\r\n"
            "From: <%s>;tag=p%d\r\nTo: <%s>\r\nCall-ID: px%d@t\r\nCSeq: 1 %s\r\n%sContent-Length: 0\r\n\r\n"
            % (method, ruri, n, frm, n, ruri, n, method, extra)).encode()
carol = "sip:carol@elsewhere.example"
r = ask(request("OPTIONS", carol, "sip:alice@localhost", 1))
pa = sipnet.header_values(r, "Proxy-Authenticate")
check("a request of ours for elsewhere without credentials → 407, Proxy-Authenticate MD5 first, SHA-256 too",
      sipnet.status_of(r) == 407 and len(pa) == 2 and b"MD5" in pa[0] and b"SHA-256" in pa[1]
      and not sipnet.header_values(r, "WWW-Authenticate"))
pnonce = re.search(rb'nonce="([^"]+)"', pa[0]).group(1).decode()
good = ask(request("OPTIONS", carol, "sip:alice@localhost", 2,
                   "Proxy-Authorization: %s\r\n" % sipnet.digest_md5("alice", "localhost", "secret", "OPTIONS", carol, pnonce)))
check("right Proxy-Authorization → past the gate (404: no route yet)", sipnet.status_of(good) == 404)
bad = ask(request("OPTIONS", carol, "sip:alice@localhost", 3,
                  "Proxy-Authorization: %s\r\n" % sipnet.digest_md5("alice", "localhost", "bad", "OPTIONS", carol, pnonce,
                                                                      nc="00000002")))
check("wrong password in Proxy-Authorization → 407 again", sipnet.status_of(bad) == 407)
www = ask(request("OPTIONS", carol, "sip:alice@localhost", 4,
                  "Authorization: %s\r\n" % sipnet.digest_md5("alice", "localhost", "secret", "OPTIONS", carol, pnonce,
                                                                nc="00000003")))
check("credentials in Authorization (not Proxy-) do not count for the proxy → 407", sipnet.status_of(www) == 407)
foreign = ask(request("OPTIONS", carol, "sip:mallory@evil.example", 5))
check("a foreign user's request is not challenged (404: no route yet)", sipnet.status_of(foreign) == 404)
sys.exit(1 if fails else 0)
PY
# SIGUSR1: the REGISTER answers above, counted by status over the workers.
kill -USR1 "$SIPD_PID"
for _ in $(seq 1 40); do [ "$(grep -c 'REGISTER answered' "$WORK/auth.log")" -ge 2 ] && break; sleep 0.05; done
read -r n200 n401 n403 < <(tr -d , <"$WORK/auth.log" | awk '/REGISTER answered/ {
	for (i = 1; i <= NF; i++) { if ($i == "200") a += $(i + 1); if ($i == "401") b += $(i + 1); if ($i == "403") c += $(i + 1) }
} END { print a + 0, b + 0, c + 0 }')
check "SIGUSR1 counts the REGISTER answers: $n200 × 200 (≥ 3), $n401 × 401 (≥ 7 challenges), $n403 × 403" \
	bash -c "[ $n200 -ge 3 ] && [ $n401 -ge 7 ] && [ $n403 = 0 ]"
stop_pid "$SIPD_PID"

# 3. Durability: a 200 means the binding survives kill -9.
P=$(free_port)
start_sipd durable -l udp:127.0.0.1:$P --db "$WORK/durable.db"
python3 - "$HERE" "$P" register <<'PY' || FAILS=$((FAILS + 1))
import sys
sys.path.insert(0, sys.argv[1]); import sipnet
port = int(sys.argv[2])
got = sipnet.udp_exchange(sipnet.register("127.0.0.1", port, "erin", "localhost", ["<sip:erin@127.0.0.1:9>"],
                                           expires=600, call_id="dur@t"), ("127.0.0.1", port))
ok = got and sipnet.status_of(got[-1]) == 200
print(("ok: " if ok else "FAIL: ") + "registered erin for 600 s")
sys.exit(0 if ok else 1)
PY
kill -9 "$SIPD_PID"; wait "$SIPD_PID" 2>/dev/null || true
sleep 2
start_sipd durable2 -l udp:127.0.0.1:$P --db "$WORK/durable.db"
python3 - "$HERE" "$P" <<'PY' || FAILS=$((FAILS + 1))
import re, sys
sys.path.insert(0, sys.argv[1]); import sipnet
port = int(sys.argv[2])
got = sipnet.udp_exchange(sipnet.register("127.0.0.1", port, "erin", "localhost", [], call_id="q@t"), ("127.0.0.1", port))
c = sipnet.header_values(got[-1], "Contact") if got else []
m = re.search(rb"expires=(\d+)", c[0]) if c else None
left = int(m.group(1)) if m else -1
ok = bool(c) and b"sip:erin@127.0.0.1:9" in c[0] and 0 < left < 600
print(("ok: " if ok else "FAIL: ") + "after kill -9 and restart the binding is there with %d s left (< 600)" % left)
sys.exit(0 if ok else 1)
PY
check "sipd still running" kill -0 "$SIPD_PID"
