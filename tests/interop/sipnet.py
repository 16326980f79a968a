"""sipnet.py — a tiny raw SIP peer for the end-to-end tests: sends bytes over
UDP or TCP on loopback and collects the responses (status codes and raw
messages). Test-only; it frames responses by Content-Length."""
import re
import socket
import time


def status_of(msg):
    m = re.match(rb"SIP/2\.0 (\d{3})", msg)
    return int(m.group(1)) if m else None


def split_stream(data):
    """Splits a TCP byte stream into messages by Content-Length."""
    out = []
    while True:
        data = data.lstrip(b"\r\n")
        end = data.find(b"\r\n\r\n")
        if end < 0:
            return out
        head = data[:end]
        m = re.search(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d+)", head)
        n = int(m.group(1)) if m else 0
        if len(data) < end + 4 + n:
            return out
        out.append(data[: end + 4 + n])
        data = data[end + 4 + n:]


def via_port(msg):
    """Port of the top Via's sent-by (5060 when absent)."""
    m = re.search(rb"(?im)^(?:via|v)[ \t]*:[ \t]*SIP[ \t]*/[ \t]*2\.0[ \t]*/[ \t]*\w+[ \t]+([^;,\r\n]+)", msg)
    if not m:
        return 5060
    sent_by = m.group(1).strip()
    pm = re.search(rb":(\d+)$", sent_by)
    return int(pm.group(1)) if pm and not sent_by.endswith(b"]") else 5060


def udp_exchange(msg, server, bind=("127.0.0.1", 0), wait=1.0, until_final=True):
    """Sends one datagram from `bind`, returns the responses received within `wait` s."""
    s = socket.socket(socket.AF_INET6 if ":" in server[0] else socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(bind)
    s.sendto(msg, server)
    out = []
    deadline = time.time() + wait
    try:
        while time.time() < deadline:
            s.settimeout(max(0.01, deadline - time.time()))
            try:
                data, _ = s.recvfrom(65535)
            except socket.timeout:
                break
            out.append(data)
            st = status_of(data)
            if until_final and st and st >= 200:
                break
    finally:
        s.close()
    return out


def tcp_exchange(msg, server, wait=3.0):
    """Sends msg on a new connection, half-closes, returns the responses until EOF."""
    fam = socket.AF_INET6 if ":" in server[0] else socket.AF_INET
    s = socket.create_connection(server, timeout=wait) if fam == socket.AF_INET else socket.socket(fam)
    if fam == socket.AF_INET6:
        s.settimeout(wait)
        s.connect(server)
    s.sendall(msg)
    s.shutdown(socket.SHUT_WR)
    data = b""
    deadline = time.time() + wait
    try:
        while time.time() < deadline:
            s.settimeout(max(0.01, deadline - time.time()))
            try:
                chunk = s.recv(65535)
            except socket.timeout:
                break
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    return split_stream(data)


def options(host, port, transport="UDP", branch=None, call_id=None, tag="t1"):
    branch = branch or "z9hG4bK-opt-%d" % int(time.time() * 1e6)
    call_id = call_id or "opt-%d@test" % int(time.time() * 1e6)
    h = "[%s]" % host if ":" in host else host
    return (
        "OPTIONS sip:%s:%d SIP/2.0\r\n"
        "Via: SIP/2.0/%s %s:9;branch=%s;rport\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:test@%s>;tag=%s\r\n"
        "To: <sip:%s:%d>\r\n"
        "Call-ID: %s\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Content-Length: 0\r\n\r\n" % (h, port, transport, h, branch, h, tag, h, port, call_id)
    ).encode()


def register(host, port, user, domain, contacts=(), expires=None, call_id="reg-1@test", cseq=1,
             branch=None, local_port=9, extra=""):
    """A REGISTER for user@domain; contacts are full Contact values."""
    branch = branch or "z9hG4bK-reg-%d" % int(time.time() * 1e6)
    lines = [
        "REGISTER sip:%s SIP/2.0" % domain,
        "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=%s;rport" % (local_port, branch),
        "Max-Forwards: 70",
        "From: <sip:%s@%s>;tag=f%d" % (user, domain, cseq),
        "To: <sip:%s@%s>" % (user, domain),
        "Call-ID: %s" % call_id,
        "CSeq: %d REGISTER" % cseq,
    ]
    lines += ["Contact: %s" % c for c in contacts]
    if expires is not None:
        lines.append("Expires: %d" % expires)
    return ("\r\n".join(lines) + "\r\n" + extra + "Content-Length: 0\r\n\r\n").encode()


def header_values(msg, name):
    """Every value of a header (full name, case-insensitive), one per line."""
    return [v.strip() for v in re.findall(rb"(?im)^" + name.encode() + rb"[ \t]*:(.*)$", msg)]


def digest_md5(user, realm, password, method, uri, nonce, cnonce="0a4f113b", nc="00000001"):
    import hashlib
    h = lambda s: hashlib.md5(s.encode()).hexdigest()
    ha1, ha2 = h("%s:%s:%s" % (user, realm, password)), h("%s:%s" % (method, uri))
    resp = h("%s:%s:%s:%s:auth:%s" % (ha1, nonce, nc, cnonce, ha2))
    return ('Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=MD5, '
            'qop=auth, nc=%s, cnonce="%s"' % (user, realm, nonce, uri, resp, nc, cnonce))


def response_to(req, code, reason, to_tag="uas1"):
    """A response to req copying Via, From, To (with to_tag added), Call-ID, CSeq (§8.2.6.2)."""
    head = req.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]
    keep = []
    for line in head:
        name = line.split(b":", 1)[0].strip().lower()
        if name in (b"via", b"v", b"from", b"f", b"call-id", b"i", b"cseq"):
            keep.append(line)
        elif name in (b"to", b"t"):
            keep.append(line if b";tag=" in line else line + b";tag=" + to_tag.encode())
    return (b"SIP/2.0 %d %s\r\n" % (code, reason.encode()) + b"\r\n".join(keep) +
            b"\r\nContent-Length: 0\r\n\r\n")


class Responder:
    """A UDP callee on 127.0.0.1:port (a thread): answers every INVITE (and
    every request whose method is in `methods`) with `code` after `delay` s,
    absorbs ACKs, and records (arrival time, bytes) of each such request in
    self.invites (its sender in self.peers)."""

    def __init__(self, port, code=486, reason="Busy Here", delay=0.0, methods=("INVITE",)):
        import threading
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", port))
        self.sock.settimeout(0.05)
        self.code, self.reason, self.delay = code, reason, delay
        self.starts = tuple(m.encode() + b" " for m in methods)
        self.invites, self.peers, self.responses, self.running = [], [], [], True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        import threading
        while self.running:
            try:
                data, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            if not data.startswith(self.starts):
                if status_of(data):
                    self.responses.append(data)  # to what send() sent
                continue  # an ACK
            if any(d == data for _, d in self.invites):
                continue  # a retransmission (answered by the first's timer)
            self.peers.append(peer)
            self.invites.append((time.time(), data))
            resp = response_to(data, self.code, self.reason)
            threading.Timer(self.delay, self._send, (resp, peer)).start()

    def send(self, data, addr):
        """Sends a request of our own (a REGISTER) from the callee's socket;
        its responses land in self.responses."""
        self.sock.sendto(data, addr)

    def _send(self, resp, peer):
        try:
            self.sock.sendto(resp, peer)
        except OSError:
            pass

    def stop(self):
        self.running = False
        self.thread.join()
        self.sock.close()
