#!/usr/bin/env bash
# Transaction behaviour of a running sipd seen from the wire (RFC 3261 §17.2):
# - a retransmitted OPTIONS gets the same response and is processed once
#   (the To tag sipd picks is random per processing, so equal tags prove it);
# - an INVITE answered with a final non-2xx response has that response
#   retransmitted (Timer G) until the ACK, and the ACK is absorbed.
source "$(dirname "$0")/common.bash"
PORT=$(free_port)
cat >"$WORK/sipd.yaml" <<YAML
listen: [udp:127.0.0.1:$PORT, tcp:127.0.0.1:$PORT]
timers: {t1: 100, t2: 400, t4: 500}
workers: 1
YAML
start_sipd txn -c "$WORK/sipd.yaml" --trace
python3 - "$HERE" "$PORT" <<'PY' || FAILS=$((FAILS + 1))
import re, socket, sys, time
sys.path.insert(0, sys.argv[1])
import sipnet
port = int(sys.argv[2])
server = ("127.0.0.1", port)
fails = 0

def check(what, cond):
    global fails
    print(("ok: " if cond else "FAIL: ") + what)
    fails += 0 if cond else 1

def to_tag(msg):
    m = re.search(rb"(?im)^To:.*;tag=([^;\s]+)", msg)
    return m.group(1) if m else None

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
me = s.getsockname()[1]

def recv_all(window):
    out, end = [], time.time() + window
    while time.time() < end:
        s.settimeout(max(0.01, end - time.time()))
        try:
            out.append((time.time(), s.recvfrom(65535)[0]))
        except socket.timeout:
            break
    return out

# 1. OPTIONS sent twice with one branch: one processing, identical responses.
opt = sipnet.options("127.0.0.1", port, "UDP", branch="z9hG4bK-retrans-1", call_id="retrans-1@test")
opt = opt.replace(b"127.0.0.1:9;", b"127.0.0.1:%d;" % me)
s.sendto(opt, server)
first = recv_all(0.3)
s.sendto(opt, server)
second = recv_all(0.3)
check("first OPTIONS answered 200", [sipnet.status_of(m) for _, m in first] == [200])
check("retransmitted OPTIONS answered again", [sipnet.status_of(m) for _, m in second] == [200])
if first and second:
    check("the same response both times (To tag %s)" % to_tag(first[0][1]), first[0][1] == second[0][1])

# 2. INVITE → 405 (final non-2xx): retransmitted with Timer G until the ACK.
invite = (
    "INVITE sip:%s:%d SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-inv-1\r\n"
    "Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=a1\r\nTo: <sip:127.0.0.1:%d>\r\n"
    "Call-ID: inv-1@test\r\nCSeq: 7 INVITE\r\nContact: <sip:a@127.0.0.1:%d>\r\n"
    "Content-Length: 0\r\n\r\n" % ("127.0.0.1", port, me, port, me)).encode()
t0 = time.time()
s.sendto(invite, server)
got = recv_all(1.0)
codes = [sipnet.status_of(m) for _, m in got]
finals = [m for _, m in got if sipnet.status_of(m) == 405]
check("INVITE answered 405 (codes %s)" % codes, len(finals) >= 1)
check("405 retransmitted without an ACK: %d copies in 1 s with T1=100 ms" % len(finals), len(finals) >= 3)
check("every copy identical", len(set(finals)) == 1)
# Timer G starts at T1 and doubles (0, .1, .3, .7 s): 4 copies in the first
# second, where a fixed T1 interval would give 10. Counting, not timing gaps,
# keeps the check robust on a loaded machine.
check("Timer G doubles: %d copies in 1 s (fixed interval: 10)" % len(finals), 3 <= len(finals) <= 5)
tag = to_tag(finals[0]) if finals else b"x"
ack = (
    "ACK sip:%s:%d SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-inv-1\r\n"
    "Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=a1\r\nTo: <sip:127.0.0.1:%d>;tag=%s\r\n"
    "Call-ID: inv-1@test\r\nCSeq: 7 ACK\r\nContent-Length: 0\r\n\r\n"
    % ("127.0.0.1", port, me, port, tag.decode())).encode()
s.sendto(ack, server)
recv_all(0.15)  # a copy already in flight may still arrive
after = recv_all(1.5)
check("no retransmission after the ACK, and the ACK got no response (%d messages)" % len(after), len(after) == 0)
sys.exit(1 if fails else 0)
PY
# The ACK was absorbed by the transaction: the TU (request core) never saw it.
check "sipd still running" kill -0 "$SIPD_PID"
