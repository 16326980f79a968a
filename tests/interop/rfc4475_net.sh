#!/usr/bin/env bash
# Every RFC 4475 message, and every RFC 5118 (IPv6) one, sent to a running
# sipd over UDP and over TCP: sipd answers or drops each as the RFC says
# (expected codes below), keeps serving, and still answers OPTIONS afterwards.
source "$(dirname "$0")/common.bash"
python3 - "$ROOT/tests/data" "$HERE" "$SIPD" "$WORK" <<'PY' || FAILS=$((FAILS + 1))
import os, re, subprocess, sys, time
sys.path.insert(0, sys.argv[2])
import sipnet

data, sipd, work = sys.argv[1], sys.argv[3], sys.argv[4]
# What sipd answers today (None = no response: a response to a response, or a
# request too broken to answer). Foreign Request-URIs get 404 until the proxy
# core exists; zeromf 483 and bext01 420 are the proxy-role checks.
expect = {
    "badinv01": 400, "clerr": 400, "ncl": 400, "scalar02": 400, "scalarlg": None,
    "quotbal": 400, "ltgtruri": 400, "lwsruri": 400, "lwsstart": 400, "trws": 400,
    "escruri": 400, "baddate": 400, "regbadct": 400, "badaspec": 400, "baddn": 400,
    "badvers": 505, "mismatch01": 400, "mismatch02": 501, "bigcode": None, "test": None,
    "badbranch": 404, "insuf": None, "unkscm": 416, "novelsc": 416, "unksm2": 404,
    "bext01": 420, "invut": 404, "regaut01": 404, "multi01": 400, "mcl01": 400,
    "bcast": None, "zeromf": 483, "cparam01": 404, "cparam02": 404, "regescrt": 404,
    "sdp01": 404, "inv2543": 404,
    "wsinv": 404, "intmeth": 404, "esc01": 404, "escnull": 404, "esc02": 404,
    "lwsdisp": 404, "longreq": 404, "dblreq": 404, "semiuri": 404, "transports": 404,
    "mpart01": 404, "unreason": None, "noreason": None,
}
# On a stream: no Content-Length is a framing error (400); a body shorter than
# Content-Length, or a header section with no end, waits for more bytes and
# the connection just ends (§18.3).
tcp_expect = dict(expect, inv2543=400, clerr=None, baddn=None)
# RFC 5118: IPv6 references everywhere. Only ipv6-bad (no brackets in the
# Request-URI) must be rejected; the RFC lets an element accept the
# three-colon form, RFC 5954 (which corrected RFC 3261's ABNF) makes it
# invalid: we follow RFC 5954. via-received-param-with-delim is not valid
# ABNF either, but the RFC asks every element to parse that top Via and go on.
# The rest are well-formed requests for foreign hosts: 404.
expect_5118 = {
    "ipv6-good": 404, "ipv6-bad": 400, "port-ambiguous": 404, "port-unambiguous": 404,
    "via-received-param-with-delim": 404, "via-received-param-no-delim": 404, "ipv6-in-sdp": 404,
    "mult-ip-in-header": 404, "mult-ip-in-sdp": 404, "ipv4-mapped-ipv6": 404,
    "ipv6-bug-abnf-3-colons": 400, "ipv6-correct-abnf-2-colons": 404,
}
CORPORA = [("rfc4475", expect, tcp_expect, 50), ("rfc5118", expect_5118, expect_5118, 12)]


def txn_key(raw):
    """Several RFC 4475 files share a Via branch + sent-by + method: to sipd
    they are retransmissions of one transaction (§17.2.3). Each such file
    gets a fresh sipd so every message is judged on its own."""
    via = re.search(rb"(?im)^(?:via|v)\s*:\s*SIP\s*/\s*2\.0\s*/\s*\w+\s+([^;,\r\n]+)[^\r\n]*?branch\s*=\s*([^;,\s]+)", raw)
    method = raw.split(b" ", 1)[0]
    return (via.group(1).strip().lower(), via.group(2), method) if via else None


class Sipd:
    def __init__(self, n):
        self.port = free_port()
        self.log = open(os.path.join(work, "sipd-%d.log" % n), "w")
        self.p = subprocess.Popen([sipd, "-l", "udp:127.0.0.1:%d" % self.port, "-l", "tcp:127.0.0.1:%d" % self.port,
                                   "--workers", "2"], stderr=self.log, stdout=self.log)
        path = self.log.name
        for _ in range(200):
            if "sipd running" in open(path).read():
                return
            if self.p.poll() is not None:
                raise SystemExit("sipd exited: " + open(path).read())
            time.sleep(0.02)
        raise SystemExit("sipd did not start")

    def stop(self):
        alive = self.p.poll() is None
        self.p.terminate()
        self.p.wait(10)
        return alive


def free_port():
    import socket
    while True:
        t = socket.socket(); t.bind(("127.0.0.1", 0)); port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
        except OSError:
            t.close(); u.close(); continue
        t.close(); u.close(); return port


fails = 0
for corpus, udp_expect, stream_expect, count in CORPORA:
    files = sorted(f[:-4] for f in os.listdir(os.path.join(data, corpus)) if f.endswith(".dat"))
    assert len(files) == count and set(files) == set(udp_expect), files
    for transport in ("udp", "tcp"):
        n = 0
        srv, used = Sipd(n), set()
        for i, name in enumerate(files):
            raw = open(os.path.join(data, corpus, name + ".dat"), "rb").read()
            key = txn_key(raw)
            if key in used:
                if not srv.stop():
                    print("FAIL: sipd died"); fails += 1
                n += 1
                srv, used = Sipd(n), set()
            used.add(key)
            server = ("127.0.0.1", srv.port)
            want = (udp_expect if transport == "udp" else stream_expect)[name]
            if transport == "udp":
                # Bind where sipd's responses go: our own address, the Via's port.
                bind = ("127.0.0.%d" % (100 + i), sipnet.via_port(raw))
                got = sipnet.udp_exchange(raw, server, bind=bind, wait=1.0 if want else 0.3)
            else:
                got = sipnet.tcp_exchange(raw, server)
            finals = [sipnet.status_of(m) for m in got if (sipnet.status_of(m) or 0) >= 200]
            code = finals[0] if finals else None
            if code != want:
                print("FAIL: %s/%s over %s: got %s, want %s" % (corpus, name, transport, code, want))
                fails += 1
            else:
                print("ok: %s/%s over %s -> %s" % (corpus, name, transport, code))
        # Still serving after the torture run.
        msg = sipnet.options("127.0.0.1", srv.port, transport.upper())
        server = ("127.0.0.1", srv.port)
        got = sipnet.udp_exchange(msg, server) if transport == "udp" else sipnet.tcp_exchange(msg, server)
        if [sipnet.status_of(m) for m in got][-1:] != [200]:
            print("FAIL: OPTIONS over %s after the %s run: %s" % (transport, corpus, got))
            fails += 1
        else:
            print("ok: sipd still answers OPTIONS over %s after %s" % (transport, corpus))
        if not srv.stop():
            print("FAIL: sipd died during the %s run over %s" % (corpus, transport)); fails += 1
print("RFC 4475 and RFC 5118 over the network: %d failures" % fails)
sys.exit(1 if fails else 0)
PY
[ $FAILS -eq 0 ] && ok "RFC 4475 and RFC 5118 messages over UDP and TCP"
