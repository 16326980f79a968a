#!/usr/bin/env python3
"""Writes the typical-message corpus (*.sip beside this script) byte-exact:
CRLF line ends, Content-Length computed from the body. Re-run after editing."""
import os
out = os.path.dirname(os.path.abspath(__file__))
sdp_offer = (
"v=0\r\n"
"o=alice 2890844526 2890844526 IN IP4 198.51.100.7\r\n"
"s=-\r\n"
"c=IN IP4 198.51.100.7\r\n"
"t=0 0\r\n"
"m=audio 49170 RTP/AVP 0 8 101\r\n"
"a=rtpmap:0 PCMU/8000\r\n"
"a=rtpmap:8 PCMA/8000\r\n"
"a=rtpmap:101 telephone-event/8000\r\n"
"a=fmtp:101 0-16\r\n"
"a=ptime:20\r\n"
"a=sendrecv\r\n")
sdp_answer = (
"v=0\r\n"
"o=bob 2808844564 2808844564 IN IP4 203.0.113.20\r\n"
"s=-\r\n"
"c=IN IP4 203.0.113.20\r\n"
"t=0 0\r\n"
"m=audio 3456 RTP/AVP 0 101\r\n"
"a=rtpmap:0 PCMU/8000\r\n"
"a=rtpmap:101 telephone-event/8000\r\n"
"a=fmtp:101 0-16\r\n"
"a=sendrecv\r\n")
pidf = (
'<?xml version="1.0" encoding="UTF-8"?>\r\n'
'<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:bob@example.com">\r\n'
'  <tuple id="t1"><status><basic>open</basic></status></tuple>\r\n'
'</presence>\r\n')

CID = "a84b4c76e66710@pc33.example.com"
ALLOW = "INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, INFO, UPDATE"
UA = "ExamplePhone/5.2.1 (Linux)"
vias_inv = [
 "SIP/2.0/UDP proxy2.example.org:5060;branch=z9hG4bK2d4790.1;received=192.0.2.111",
 "SIP/2.0/UDP proxy1.example.com:5060;branch=z9hG4bK77ef4c2312983.1;received=192.0.2.101",
 "SIP/2.0/UDP 198.51.100.7:5060;rport=5060;received=198.51.100.7;branch=z9hG4bK74bf9",
]
def msg(start, headers, body=""):
    b = body.encode()
    lines = [start] + [f"{k}: {v}" for k, v in headers] + [f"Content-Length: {len(b)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + b

def dialog_hdrs(from_tag, to_tag, cseq, method, call_id=CID):
    h = [("From", f'"Alice" <sip:alice@example.com>;tag={from_tag}')]
    h.append(("To", f'"Bob" <sip:bob@example.org>' + (f";tag={to_tag}" if to_tag else "")))
    h.append(("Call-ID", call_id))
    h.append(("CSeq", f"{cseq} {method}"))
    return h

files = {}
files["register.sip"] = msg("REGISTER sip:registrar.example.com SIP/2.0", [
 ("Via", "SIP/2.0/UDP 198.51.100.7:5060;rport;branch=z9hG4bKnashds7"),
 ("Max-Forwards", "70"),
 ("From", "<sip:alice@example.com>;tag=a73kszlfl"),
 ("To", "<sip:alice@example.com>"),
 ("Call-ID", "1j9FpLxk3uxtm8tn@198.51.100.7"),
 ("CSeq", "2 REGISTER"),
 ("Contact", "<sip:alice@198.51.100.7:5060;transport=udp>;expires=3600;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\""),
 ("Authorization", 'Digest username="alice", realm="example.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:registrar.example.com", response="245f23415f11432b3434341c022a8cd1", algorithm=MD5, cnonce="0a4f113b", opaque="5ccc069c403ebaf9f0171e9517f40e41", qop=auth, nc=00000001'),
 ("Allow", ALLOW),
 ("Supported", "path, gruu, outbound"),
 ("User-Agent", UA),
 ("Expires", "3600"),
])
files["register_401.sip"] = msg("SIP/2.0 401 Unauthorized", [
 ("Via", "SIP/2.0/UDP 198.51.100.7:5060;rport=5060;branch=z9hG4bKnashd92;received=198.51.100.7"),
 ("From", "<sip:alice@example.com>;tag=a73kszlfl"),
 ("To", "<sip:alice@example.com>;tag=1410948204"),
 ("Call-ID", "1j9FpLxk3uxtm8tn@198.51.100.7"),
 ("CSeq", "1 REGISTER"),
 ("WWW-Authenticate", 'Digest realm="example.com", qop="auth", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41", algorithm=MD5, stale=FALSE'),
 ("Server", "ExampleRegistrar/1.0"),
])
files["register_200.sip"] = msg("SIP/2.0 200 OK", [
 ("Via", "SIP/2.0/UDP 198.51.100.7:5060;rport=5060;branch=z9hG4bKnashds7;received=198.51.100.7"),
 ("From", "<sip:alice@example.com>;tag=a73kszlfl"),
 ("To", "<sip:alice@example.com>;tag=37GkEhwl6"),
 ("Call-ID", "1j9FpLxk3uxtm8tn@198.51.100.7"),
 ("CSeq", "2 REGISTER"),
 ("Contact", "<sip:alice@198.51.100.7:5060;transport=udp>;expires=3600"),
 ("Date", "Sat, 13 Nov 2010 23:29:00 GMT"),
 ("Server", "ExampleRegistrar/1.0"),
])
files["invite.sip"] = msg("INVITE sip:bob@example.org SIP/2.0",
 [("Via", v) for v in vias_inv] + [
 ("Max-Forwards", "68"),
 ("Record-Route", "<sip:proxy2.example.org;lr>, <sip:proxy1.example.com;lr>"),
 ("Route", "<sip:edge.example.org;lr>"),
] + dialog_hdrs("9fxced76sl", None, 314159, "INVITE") + [
 ("Contact", "<sip:alice@198.51.100.7:5060;transport=udp>"),
 ("Allow", ALLOW),
 ("Supported", "replaces, timer, 100rel"),
 ("User-Agent", UA),
 ("Session-Expires", "1800"),
 ("Content-Type", "application/sdp"),
], sdp_offer)
files["invite_100.sip"] = msg("SIP/2.0 100 Trying",
 [("Via", v) for v in vias_inv[2:]] + dialog_hdrs("9fxced76sl", None, 314159, "INVITE"))
files["invite_180.sip"] = msg("SIP/2.0 180 Ringing",
 [("Via", v) for v in vias_inv] + [
 ("Record-Route", "<sip:proxy2.example.org;lr>, <sip:proxy1.example.com;lr>"),
] + dialog_hdrs("9fxced76sl", "8321234356", 314159, "INVITE") + [
 ("Contact", "<sip:bob@203.0.113.20:5060>"),
 ("Allow", ALLOW),
])
files["invite_200.sip"] = msg("SIP/2.0 200 OK",
 [("Via", v) for v in vias_inv] + [
 ("Record-Route", "<sip:proxy2.example.org;lr>, <sip:proxy1.example.com;lr>"),
] + dialog_hdrs("9fxced76sl", "8321234356", 314159, "INVITE") + [
 ("Contact", "<sip:bob@203.0.113.20:5060>"),
 ("Allow", ALLOW),
 ("Supported", "replaces, timer"),
 ("Server", "ExamplePBX/3.1"),
 ("Content-Type", "application/sdp"),
], sdp_answer)
files["ack.sip"] = msg("ACK sip:bob@203.0.113.20:5060 SIP/2.0", [
 ("Via", "SIP/2.0/UDP 198.51.100.7:5060;rport;branch=z9hG4bK74bfa"),
 ("Max-Forwards", "70"),
 ("Route", "<sip:proxy1.example.com;lr>, <sip:proxy2.example.org;lr>"),
] + dialog_hdrs("9fxced76sl", "8321234356", 314159, "ACK") + [
 ("Contact", "<sip:alice@198.51.100.7:5060;transport=udp>"),
 ("User-Agent", UA),
])
files["bye.sip"] = msg("BYE sip:alice@198.51.100.7:5060;transport=udp SIP/2.0", [
 ("Via", "SIP/2.0/UDP proxy1.example.com:5060;branch=z9hG4bK77ef4c2312983.2"),
 ("Via", "SIP/2.0/UDP 203.0.113.20:5060;rport=5060;branch=z9hG4bKnashds10"),
 ("Max-Forwards", "69"),
 ("From", '"Bob" <sip:bob@example.org>;tag=8321234356'),
 ("To", '"Alice" <sip:alice@example.com>;tag=9fxced76sl'),
 ("Call-ID", CID),
 ("CSeq", "231 BYE"),
 ("User-Agent", "ExamplePBX/3.1"),
])
files["bye_200.sip"] = msg("SIP/2.0 200 OK", [
 ("Via", "SIP/2.0/UDP proxy1.example.com:5060;branch=z9hG4bK77ef4c2312983.2;received=192.0.2.101"),
 ("Via", "SIP/2.0/UDP 203.0.113.20:5060;rport=5060;branch=z9hG4bKnashds10"),
 ("From", '"Bob" <sip:bob@example.org>;tag=8321234356'),
 ("To", '"Alice" <sip:alice@example.com>;tag=9fxced76sl'),
 ("Call-ID", CID),
 ("CSeq", "231 BYE"),
 ("User-Agent", UA),
])
files["options.sip"] = msg("OPTIONS sip:carol@chicago.example.com SIP/2.0", [
 ("Via", "SIP/2.0/TCP 198.51.100.7:5060;branch=z9hG4bKhjhs8ass877"),
 ("Max-Forwards", "70"),
 ("To", "<sip:carol@chicago.example.com>"),
 ("From", "Alice <sip:alice@example.com>;tag=1928301774"),
 ("Call-ID", "a84b4c76e66710"),
 ("CSeq", "63104 OPTIONS"),
 ("Contact", "<sip:alice@198.51.100.7;transport=tcp>"),
 ("Accept", "application/sdp"),
 ("Allow", ALLOW),
 ("User-Agent", UA),
])
files["subscribe.sip"] = msg("SUBSCRIBE sip:bob@example.org SIP/2.0", [
 ("Via", "SIP/2.0/TCP 198.51.100.7:5060;branch=z9hG4bKnashds9"),
 ("Max-Forwards", "70"),
 ("From", "<sip:alice@example.com>;tag=xfg9"),
 ("To", "<sip:bob@example.org>"),
 ("Call-ID", "2010@198.51.100.7"),
 ("CSeq", "17766 SUBSCRIBE"),
 ("Contact", "<sip:alice@198.51.100.7;transport=tcp>"),
 ("Event", "presence"),
 ("Accept", "application/pidf+xml"),
 ("Expires", "600"),
 ("Allow-Events", "presence, dialog"),
 ("User-Agent", UA),
])
files["notify.sip"] = msg("NOTIFY sip:alice@198.51.100.7;transport=tcp SIP/2.0", [
 ("Via", "SIP/2.0/TCP server.example.org:5060;branch=z9hG4bKna998sk"),
 ("Max-Forwards", "70"),
 ("From", "<sip:bob@example.org>;tag=ffd2"),
 ("To", "<sip:alice@example.com>;tag=xfg9"),
 ("Call-ID", "2010@198.51.100.7"),
 ("CSeq", "8775 NOTIFY"),
 ("Contact", "<sip:server.example.org;transport=tcp>"),
 ("Event", "presence"),
 ("Subscription-State", "active;expires=599"),
 ("Content-Type", "application/pidf+xml"),
], pidf)
for name, data in files.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
    print(name, len(data))
