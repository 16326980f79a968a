#!/bin/bash
# Flood protection (limits.rate_limit): one source sending far over its
# rate gets most datagrams dropped unanswered, a flooding TCP connection is
# closed, another source address is served all along, and the flooder is
# served again once it slows down. sipd with one worker so the per-worker
# bucket is the whole limit. Then a slowloris: requests trickled a byte at
# a time are cut off at limits.message_timeout_ms; and the cap on
# connections one address may hold (limits.max_connections_per_ip).
source "$(dirname "$0")/common.bash"

PORT=$(free_port)
cat >"$WORK/sipd.yaml" <<YAML
limits:
  rate_limit: 50
  rate_limit_burst: 50
YAML
start_sipd sipd -c "$WORK/sipd.yaml" -l "udp:127.0.0.1:$PORT" -l "tcp:127.0.0.1:$PORT" \
	--db "$WORK/sipd.db" --workers 1

python3 - "$PORT" "$HERE" >"$WORK/flood.out" 2>&1 <<'PY' || true
import socket, sys, time
sys.path.insert(0, sys.argv[2])
import sipnet
port = int(sys.argv[1])
srv = ("127.0.0.1", port)

# 500 OPTIONS as fast as one socket sends them, from 127.0.0.1.
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
t0 = time.time()
for i in range(500):
    s.sendto(sipnet.options("127.0.0.1", port, branch="z9hG4bK-fl%d" % i, call_id="fl%d@t" % i), srv)
sent_s = time.time() - t0
answered = 0
s.settimeout(0.5)
try:
    while True:
        data, _ = s.recvfrom(65535)
        answered += sipnet.status_of(data) == 200
except socket.timeout:
    pass
# Upper bound: the burst plus what 50/s refills while sending and reading.
print("flood_answered", answered, "bound", int(50 + 50 * (sent_s + 0.6)) + 1)

# Another source address (127.0.0.2) is served while 127.0.0.1 is limited.
r = sipnet.udp_exchange(sipnet.options("127.0.0.1", port), srv, bind=("127.0.0.2", 0))
print("other_source", sipnet.status_of(r[0]) if r else None)

# A TCP connection flooding from 127.0.0.3 is closed once over the limit.
c = socket.create_connection(srv, timeout=3, source_address=("127.0.0.3", 0))
msgs = b"".join(sipnet.options("127.0.0.1", port, transport="TCP", branch="z9hG4bK-tf%d" % i,
                               call_id="tf%d@t" % i) for i in range(300))
closed = False
try:
    c.sendall(msgs)
    data = b""
    deadline = time.time() + 3
    while time.time() < deadline:
        chunk = c.recv(65535)
        if not chunk:
            closed = True
            break
        data += chunk
except (ConnectionResetError, BrokenPipeError):
    closed = True
print("tcp_closed", closed, "tcp_answered", len(sipnet.split_stream(data)) if not closed or data else 0)

# After a pause the flooder's bucket has refilled: served again.
time.sleep(1.2)
r = sipnet.udp_exchange(sipnet.options("127.0.0.1", port), srv)
print("after_pause", sipnet.status_of(r[0]) if r else None)
PY
cat "$WORK/flood.out"
val() { awk -v k="$1" '$1 == k {print $2}' "$WORK/flood.out"; }
bound=$(awk '$1 == "flood_answered" {print $4}' "$WORK/flood.out")
n=$(val flood_answered)
check "a flood of 500 from one source: at most burst + refill answered ($n <= $bound)" \
	test -n "$n" -a "${n:-0}" -ge 40 -a "${n:-999}" -le "${bound:-0}"
check "another source address is answered 200 meanwhile" test "$(val other_source)" = 200
check "a flooding TCP connection is closed" test "$(val tcp_closed)" = True
check "the flooder is served again after a pause" test "$(val after_pause)" = 200
check "sipd logged the limit once per source run" \
	test "$(grep -c 'rate limit: dropping messages from 127.0.0.1' "$WORK/sipd.log")" -ge 1
check "sipd still running" kill -0 "$SIPD_PID"
stop_pid "$SIPD_PID"

# A slowloris: connections that trickle a request a byte at a time (each
# byte within the idle timeout) are closed message_timeout_ms after the
# request's first byte, unanswered; a client meanwhile is served.
# tcp_sipd NAME "KEY: VALUE": a one-worker sipd on TCP only with that
# limit; its port in TP.
tcp_sipd() {
	TP=$(free_port)
	printf 'limits:\n  %s\n' "$2" >"$WORK/$1.yaml"
	start_sipd "$1" -c "$WORK/$1.yaml" -l "tcp:127.0.0.1:$TP" --db "$WORK/$1.db" --workers 1
}
tcp_sipd slow "message_timeout_ms: 1500"
python3 - "$TP" "$HERE" >"$WORK/slow.out" 2>&1 <<'PY' || true
import socket, sys, time
sys.path.insert(0, sys.argv[2])
import sipnet
port = int(sys.argv[1])
req = sipnet.options("127.0.0.1", port, transport="TCP")
conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
start, closed_at, i = time.time(), {}, 0
while len(closed_at) < len(conns) and time.time() - start < 10 and i < len(req):
    for k, c in enumerate(conns):
        if k in closed_at:
            continue
        try:
            c.sendall(req[i:i + 1])
            c.settimeout(0.01)
            if c.recv(100) == b"":
                closed_at[k] = time.time() - start
        except socket.timeout:
            pass
        except OSError:
            closed_at[k] = time.time() - start
    i += 1
    if i == 5:
        r = sipnet.tcp_exchange(req, ("127.0.0.1", port))
        print("meanwhile", sipnet.status_of(r[0]) if r else None)
    time.sleep(0.1)
print("closed", len(closed_at), "of", len(conns), "bytes_sent", i, "of", len(req))
print("latest_close_s %.1f" % max(closed_at.values(), default=99))
PY
cat "$WORK/slow.out"
check "five connections trickling a request are all closed" grep -q "^closed 5 of 5" "$WORK/slow.out"
check "  at the message deadline (1.5 s), long before their request was complete" \
	awk '$1 == "latest_close_s" { exit !($2 >= 1.4 && $2 < 4) }' "$WORK/slow.out"
check "  a client is served meanwhile" grep -q "^meanwhile 200" "$WORK/slow.out"
check "sipd still running" kill -0 "$SIPD_PID"
stop_pid "$SIPD_PID"

# One address may hold limits.max_connections_per_ip connections: of five
# from 127.0.0.1, three stay open and two are closed at once; a client at
# 127.0.0.2 is still served over TCP.
tcp_sipd cap "max_connections_per_ip: 3"
python3 - "$TP" "$HERE" >"$WORK/cap.out" 2>&1 <<'PY' || true
import socket, sys, time
sys.path.insert(0, sys.argv[2])
import sipnet
port = int(sys.argv[1])
conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
time.sleep(0.5)
closed = 0
for c in conns:
    c.settimeout(0.2)
    try:
        if c.recv(10) == b"":
            closed += 1
    except socket.timeout:
        pass
    except OSError:
        closed += 1
print("closed", closed, "open", len(conns) - closed)
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.2", 0))
s.settimeout(3)
s.connect(("127.0.0.1", port))
s.sendall(sipnet.options("127.0.0.1", port, transport="TCP"))
data = b""
try:
    while b"\r\n\r\n" not in data:
        d = s.recv(4096)
        if not d:
            break
        data += d
except OSError:
    pass
print("other", sipnet.status_of(data) if data else None)
PY
cat "$WORK/cap.out"
check "five connections from one address under a cap of three: two closed at once, three open" \
	grep -q "^closed 2 open 3" "$WORK/cap.out"
check "  a client at another address is served over TCP (200)" grep -q "^other 200" "$WORK/cap.out"
check "sipd still running" kill -0 "$SIPD_PID"
