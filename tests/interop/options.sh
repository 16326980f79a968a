#!/usr/bin/env bash
# OPTIONS to sipd from peers we did not write: SIPp over UDP and TCP, IPv4 and
# IPv6; openssl s_client carrying a raw request over TLS (Debian's SIPp has no
# TLS), with the certificate verified against the host name; a certificate
# renewed in place and reloaded on SIGHUP; bad input logged with its fate and
# the counters every worker logs on SIGUSR1.
source "$(dirname "$0")/common.bash"
P4=$(free_port)
P6=$(free_port 6)
PT=$(free_port)
"$ROOT/scripts/gencert" "$WORK/tls" localhost >/dev/null
start_sipd options -l udp:127.0.0.1:$P4 -l tcp:127.0.0.1:$P4 -l udp:[::1]:$P6 -l tcp:[::1]:$P6 \
	-l tls:127.0.0.1:$PT -l tls:[::1]:$PT --tls-cert "$WORK/tls/cert.pem" --tls-key "$WORK/tls/key.pem"

SC=$HERE/scenarios/options.xml
run_sipp() { # NAME TRANSPORT LOCAL_IP TARGET
	local name=$1 t=$2 ip=$3 target=$4
	if timeout 60 sipp -sf "$SC" -t "$t" -i "$ip" -p 0 -m 20 -r 100 -nostdin -nd \
		-trace_stat -stf "$WORK/$name.csv" "$target" >"$WORK/$name.sipp.log" 2>&1; then
		ok "SIPp OPTIONS over $name: 20 of 20 answered 200 with Allow"
	else
		bad "SIPp OPTIONS over $name (exit $?)"
	fi
}
run_sipp udp4 u1 127.0.0.1 127.0.0.1:$P4
run_sipp tcp4 t1 127.0.0.1 127.0.0.1:$P4
run_sipp udp6 u1 ::1 "[::1]:$P6"
run_sipp tcp6 t1 ::1 "[::1]:$P6"

tls_options() { # HOST PORT VERIFYNAME → prints the status line
	local host=$1 port=$2 name=$3 h=$1
	[[ $host == *:* ]] && h="[$host]"
	printf 'OPTIONS sip:%s:%s SIP/2.0\r\nVia: SIP/2.0/TLS %s:9;branch=z9hG4bK-tls-%s;rport\r\nMax-Forwards: 70\r\nFrom: <sip:t@%s>;tag=1\r\nTo: <sip:%s:%s>\r\nCall-ID: tls-%s@test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n' \
		"$h" "$port" "$h" "$RANDOM$RANDOM" "$h" "$h" "$port" "$RANDOM$RANDOM" |
		{ cat; sleep 1; } | timeout 10 openssl s_client -connect "$h:$port" -quiet -verify_return_error \
			-CAfile "$WORK/tls/cert.pem" -verify_hostname "$name" ${S_CLIENT_EXTRA:-} 2>"$WORK/s_client.err" | head -1 | tr -d '\r' || true
}
got=$(tls_options 127.0.0.1 $PT localhost)
check "TLS over IPv4 (openssl s_client, certificate verified): '$got'" [ "$got" = "SIP/2.0 200 OK" ]
got=$(tls_options ::1 $PT localhost)
check "TLS over IPv6 (openssl s_client, certificate verified): '$got'" [ "$got" = "SIP/2.0 200 OK" ]
got=$(tls_options 127.0.0.1 $PT wrong.example.com)
check "TLS with the wrong host name is refused by the peer" [ -z "$got" ]

# A renewed certificate without a restart: new files in place, SIGHUP.
served_fingerprint() {
	timeout 10 openssl s_client -connect "127.0.0.1:$PT" </dev/null 2>/dev/null |
		openssl x509 -noout -fingerprint -sha256 2>/dev/null || true
}
old_fp=$(served_fingerprint)
"$ROOT/scripts/gencert" "$WORK/tls2" localhost >/dev/null
new_fp=$(openssl x509 -noout -fingerprint -sha256 -in "$WORK/tls2/cert.pem")
cp "$WORK/tls2/cert.pem" "$WORK/tls/cert.pem"
cp "$WORK/tls2/key.pem" "$WORK/tls/key.pem"
kill -HUP "$SIPD_PID"
for _ in $(seq 1 40); do grep -q "TLS files reloaded" "$WORK/options.log" && break; sleep 0.05; done
check "SIGHUP: sipd reloads its TLS files and logs it" grep -q "TLS files reloaded $WORK/tls/cert.pem" "$WORK/options.log"
got_fp=$(served_fingerprint)
check "  new connections get the new certificate (it was the old one before)" \
	bash -c "[ -n '$old_fp' ] && [ '$old_fp' != '$new_fp' ] && [ '$got_fp' = '$new_fp' ]"
got=$(tls_options 127.0.0.1 $PT localhost)
check "  and are answered, verified against the new certificate: '$got'" [ "$got" = "SIP/2.0 200 OK" ]
printf 'not a key\n' >"$WORK/tls/key.pem"
kill -HUP "$SIPD_PID"
for _ in $(seq 1 40); do grep -q "reloading the TLS files failed" "$WORK/options.log" && break; sleep 0.05; done
check "SIGHUP with a damaged key: the failure is logged, the working certificate stays" \
	bash -c "grep -q 'reloading the TLS files failed' '$WORK/options.log' && [ \"\$(timeout 10 openssl s_client -connect 127.0.0.1:$PT </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256)\" = '$new_fp' ]"
cp "$WORK/tls2/key.pem" "$WORK/tls/key.pem" # the good pair again, for the mutual TLS server below
check "sipd still running" kill -0 "$SIPD_PID"

# Bad input is logged with its fate; SIGUSR1 makes every worker log its
# counters (and worker 0 the live bindings).
python3 - "$P4" <<'PY'
import socket, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"\x00\xff garbage", ("127.0.0.1", port))
s.sendto(b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-badcl;rport\r\n"
         b"From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: badcl@t\r\nCSeq: 1 OPTIONS\r\n"
         b"Max-Forwards: 70\r\nContent-Length: many\r\n\r\n", ("127.0.0.1", port))
PY
sleep 0.3
kill -USR1 "$SIPD_PID"
for _ in $(seq 1 40); do [ "$(grep -c ' stats: ' "$WORK/options.log")" -ge 2 ] && break; sleep 0.05; done
check "bad input logged: garbage dropped (no response can be routed), a bad Content-Length answered 400" \
	bash -c "grep -q 'bad message from 127.0.0.1:[0-9]* (.*), dropped: no response can be routed' '$WORK/options.log' &&
		grep -q 'bad message from 127.0.0.1:[0-9]* (malformed Content-Length.*), answered 400' '$WORK/options.log'"
stats=$(python3 - "$WORK/options.log" <<'PY'
import re, sys
log = open(sys.argv[1]).read()
rows = re.findall(r"worker (\d+) stats: messages in (\d+) out (\d+), unparsable (\d+), answered statelessly (\d+)"
                  r".*connections open \d+ accepted (\d+)", log)
ws = sorted({r[0] for r in rows})
tot = [sum(int(r[i]) for r in rows) for i in range(1, 6)]
print("workers", len(ws), "in", tot[0], "out", tot[1], "unparsable", tot[2], "stateless", tot[3], "accepted", tot[4],
      "bindings", "yes" if re.search(r"bindings: 0 live", log) else "no")
PY
)
echo "  $stats"
read -r _ nw _ rin _ rout _ unp _ sl _ acc _ bnd <<<"$stats"
check "SIGUSR1: both workers report; at least the 83 OPTIONS in and answered (SIPp 4x20, TLS 3), 2 unparsable, 1 answered statelessly" \
	bash -c "[ $nw = 2 ] && [ $rin -ge 83 ] && [ $rout -ge 83 ] && [ $unp = 2 ] && [ $sl = 1 ]"
check "  connections accepted (SIPp TCP over IPv4 and IPv6, the TLS ones) counted; worker 0 counts the bindings" \
	bash -c "[ $acc -ge 5 ] && [ $bnd = yes ]"
stop_pid "$SIPD_PID"

# Mutual TLS: tls.verify_clients refuses a client without a certificate the
# client CA vouches for (the self-signed test pair is its own CA).
PM=$(free_port)
cat >"$WORK/mtls.yaml" <<YAML
listen: [tls:127.0.0.1:$PM]
tls: {cert: $WORK/tls/cert.pem, key: $WORK/tls/key.pem, verify_clients: true, client_ca: $WORK/tls/cert.pem}
db: $WORK/mtls.db
YAML
start_sipd mtls -c "$WORK/mtls.yaml"
S_CLIENT_EXTRA="-cert $WORK/tls/cert.pem -key $WORK/tls/key.pem"
got=$(tls_options 127.0.0.1 $PM localhost)
check "mutual TLS: a client with a certificate from the client CA is answered: '$got'" [ "$got" = "SIP/2.0 200 OK" ]
S_CLIENT_EXTRA=""
got=$(tls_options 127.0.0.1 $PM localhost)
check "mutual TLS: a client without a certificate is refused" [ -z "$got" ]
stop_pid "$SIPD_PID"

# Two UDP listeners on two addresses: each answer leaves from the address and
# port its request was sent to (a client drops answers from elsewhere).
PA=$(free_port)
PB=$(free_port)
start_sipd multi -l udp:127.0.0.1:$PA -l udp:127.0.0.2:$PB
python3 - "$HERE" "$PA" "$PB" <<'PY' || FAILS=$((FAILS + 1))
import socket, sys
sys.path.insert(0, sys.argv[1])
import sipnet
fails = 0
for ip, port in (("127.0.0.1", int(sys.argv[2])), ("127.0.0.2", int(sys.argv[3]))):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(2)
    s.sendto(sipnet.options(ip, port, "UDP"), (ip, port))
    try:
        data, src = s.recvfrom(65535)
    except socket.timeout:
        data, src = b"", None
    ok = sipnet.status_of(data) == 200 and src == (ip, port)
    print(("ok: " if ok else "FAIL: ") + "OPTIONS to %s:%d answered from %s" % (ip, port, src))
    fails += 0 if ok else 1
sys.exit(1 if fails else 0)
PY
