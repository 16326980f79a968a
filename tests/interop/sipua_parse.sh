#!/usr/bin/env bash
# End-to-end test of `sipua parse` (DESIGN.md §5): runs build/sipua over the
# RFC 4475 corpus and checks exit codes against tests/data/rfc4475/expected.tsv,
# a few JSON values, the CLI contract (usage, errors on stderr only) and that
# random or mutated bytes never crash it. $1 is the build directory.
set -u
BUILD=${1:?usage: sipua_parse.sh BUILD_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
DATA="$HERE/../data/rfc4475"
SIPUA="$BUILD/sipua"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fails=0
ok() { :; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

[ -x "$SIPUA" ] || { echo "FAIL: $SIPUA not built"; exit 1; }

# Runs sipua parse on $1; sets rc, and checks the stdout/stderr contract:
# exit 0 -> JSON on stdout, nothing on stderr; exit 1 -> nothing on stdout and
# one "error: ... at offset N" line on stderr.
run_parse() {
	"$SIPUA" parse "$1" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	case $rc in
	0)
		[ -s "$TMP/err" ] && bad "$1: exit 0 with stderr: $(head -c 200 "$TMP/err")"
		python3 -c 'import json,sys; json.load(open(sys.argv[1], encoding="utf-8"))' "$TMP/out" ||
			bad "$1: exit 0 but stdout is not valid UTF-8 JSON"
		;;
	1)
		[ -s "$TMP/out" ] && bad "$1: exit 1 with output on stdout"
		grep -Eq '^error: .+ at offset [0-9]+$' "$TMP/err" || bad "$1: bad error line: $(head -c 200 "$TMP/err")"
		;;
	*) bad "$1: exit $rc (crash or unexpected status): $(head -c 200 "$TMP/err")" ;;
	esac
}

# 1. Verdicts.
n=0
while IFS=$'\t' read -r file verdict section what latitude; do
	[ -n "$file" ] || continue
	run_parse "$DATA/$file"
	n=$((n + 1))
	case $verdict in
	valid | backward) [ $rc -eq 0 ] || bad "$file ($verdict): exit $rc, want 0: $(cat "$TMP/err")" ;;
	invalid)
		if [ "$latitude" = may-accept ]; then
			[ $rc -le 1 ] || bad "$file (invalid, may-accept): exit $rc"
		else
			[ $rc -eq 1 ] || bad "$file (invalid): exit $rc, want 1"
		fi
		;;
	*) [ $rc -le 1 ] || bad "$file ($verdict): exit $rc" ;; # app/transaction: either, never a crash
	esac
done <"$DATA/expected.tsv"
[ $n -eq 50 ] || bad "expected.tsv has $n rows, want 50"

# 2. JSON values. check FILE PYTHON-EXPR (j is the parsed JSON; h(name) lists
#    the headers whose canonical name is name).
check() {
	"$SIPUA" parse "$DATA/$1" >"$TMP/j.json" 2>"$TMP/j.err" || { bad "$1: exit $?"; return; }
	python3 - "$TMP/j.json" "$2" <<'PY' || bad "$1: $2"
import json, sys
j = json.load(open(sys.argv[1], encoding="utf-8"))
def h(name):
    return [x for x in j["headers"] if x["canonical"] == name]
ok = eval(sys.argv[2])
if not ok:
    print("check failed:", sys.argv[2], file=sys.stderr)
sys.exit(0 if ok else 1)
PY
}
check wsinv.dat 'j["type"] == "request" and j["method"] == "INVITE" and j["version"] == "SIP/2.0"'
check wsinv.dat 'h("CSeq")[0]["typed"] == {"number": 9, "method": "INVITE"}'
check wsinv.dat 'h("Max-Forwards")[0]["typed"] == 68 and h("Max-Forwards")[0]["name"] == "MaX-fOrWaRdS"'
check wsinv.dat 'h("Max-Forwards")[0]["value"] == "0068" and j["body_length"] == 150'
check wsinv.dat 'h("To")[0]["typed"]["tag"] == "1918181833n" and h("From")[0]["typed"]["tag"] == "98asjd8"'
check wsinv.dat '[x["name"] for x in j["headers"] if x["canonical"] is None] == ["NewFangledHeader", "UnknownHeaderWithUnusualValue"]'
check wsinv.dat 'h("Route")[0]["typed"][0]["uri"]["params"] == {"lr": True, "unknownwith": "value", "unknown-no-value": True}'
check wsinv.dat 'j["uri"]["host"] == "chair-dnrc.example.com" and j["uri"]["params"] == {"unknownparam": True}'
check wsinv.dat '[v["branch"] for x in h("Via") for v in x["typed"]] == ["390skdjuw", "z9hG4bK9ikj8", "z9hG4bK30239"]'
check transports.dat '[v["transport"] for x in h("Via") for v in x["typed"]] == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]'
check longreq.dat 'sum(len(x["typed"]) for x in h("Via")) == 34'
check escnull.dat 'j["method"] == "REGISTER" and sum(len(x["typed"]) for x in h("Contact")) == 2'
check escnull.dat 'h("Contact")[0]["typed"][0]["uri"]["user"] == "%00"'
check esc02.dat 'j["method"] == "RE%47IST%45R" and sum(len(x["typed"]) for x in h("Contact")) == 2'
check esc02.dat 'any(x["name"] == "C%6Fntact" and x["canonical"] is None for x in j["headers"])'
check intmeth.dat "j['method'] == \"!interesting-Method0123456789_*+\`.%indeed'~\""
check dblreq.dat 'j["method"] == "REGISTER" and j["body_length"] == 0'
check mpart01.dat 'j["method"] == "MESSAGE" and j["body_length"] == 553'
check mpart01.dat 'h("Content-Type")[0]["typed"]["type"] == "multipart" and h("Content-Type")[0]["typed"]["subtype"] == "mixed"'
check unreason.dat 'j["type"] == "response" and j["status"] == 200 and j["reason"].startswith("= 2**3 * 5**2 ") and j["reason"].endswith("\u043f\u0440\u043e\u0441\u0442\u043e\u0435")'
check noreason.dat 'j["type"] == "response" and j["status"] == 100 and j["reason"] == ""'
check inv2543.dat 'j["body_length"] == 105 and h("Content-Length") == [] and h("Via")[0]["typed"][0]["branch"] is None'
check regaut01.dat 'h("Authorization")[0]["typed"]["scheme"] == "NoOneKnowsThisScheme"'
check bext01.dat 'h("Require")[0]["typed"] == ["nothingSupportsThis", "nothingSupportsThisEither"]'
check unkscm.dat 'j["uri"]["scheme"] == "nobodyKnowsThisScheme" and j["uri"]["opaque"] == "totallyopaquecontent"'
check zeromf.dat 'h("Max-Forwards")[0]["typed"] == 0'

# 3. The CLI contract.
"$SIPUA" --help >"$TMP/out" 2>&1 && grep -q 'parse' "$TMP/out" || bad "sipua --help"
"$SIPUA" >/dev/null 2>"$TMP/err"; [ $? -eq 2 ] && grep -q usage "$TMP/err" || bad "sipua without command: want usage, exit 2"
"$SIPUA" frobnicate >"$TMP/out" 2>"$TMP/err"; rc=$?
{ [ $rc -eq 2 ] && [ ! -s "$TMP/out" ] && grep -q usage "$TMP/err"; } || bad "unknown command: exit $rc, want 2 with usage on stderr"
"$SIPUA" parse >/dev/null 2>&1; [ $? -eq 2 ] || bad "parse without FILE: want exit 2"
"$SIPUA" parse "$TMP/does-not-exist" >/dev/null 2>&1; [ $? -eq 2 ] || bad "parse of a missing file: want exit 2"
"$SIPUA" parse - <"$DATA/wsinv.dat" >"$TMP/out" 2>/dev/null || bad "parse - (stdin): exit $?"
grep -q '"method": "INVITE"' "$TMP/out" || bad "parse - (stdin): no JSON"
"$SIPUA" parse - </dev/null >"$TMP/out" 2>"$TMP/err"; rc=$?
{ [ $rc -eq 1 ] && [ ! -s "$TMP/out" ] && grep -q '^error: ' "$TMP/err"; } || bad "empty input: exit $rc, want 1"
head -c 1048577 /dev/zero >"$TMP/big"
run_parse "$TMP/big"; [ $rc -eq 1 ] || bad "input over 1 MiB: exit $rc, want 1"

# 4. Never crash: random bytes, and corpus messages with random bytes flipped
#    or cut short (a fixed seed keeps failures reproducible).
for i in $(seq 1 40); do
	head -c $((i * 131)) /dev/urandom >"$TMP/rand"
	"$SIPUA" parse - <"$TMP/rand" >/dev/null 2>&1; rc=$?
	[ $rc -le 1 ] || { cp "$TMP/rand" "$TMP/../sipua-crash-$$"; bad "random input: exit $rc (saved in $TMP/../sipua-crash-$$)"; }
done
python3 - "$DATA" "$TMP/mut" <<'PY'
import os, random, sys
data, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
rnd = random.Random(4475)
k = 0
for name in sorted(os.listdir(data)):
    if not name.endswith(".dat"):
        continue
    b = bytearray(open(os.path.join(data, name), "rb").read())
    for _ in range(5):
        m = bytearray(b)
        for _ in range(rnd.randint(1, 6)):
            op = rnd.randrange(3)
            p = rnd.randrange(len(m))
            if op == 0:
                m[p] = rnd.randrange(256)
            elif op == 1:
                m[p:p] = bytes([rnd.choice(b"\r\n ,;:<>\"\\%\x00\xff=")])
            else:
                del m[p:]
                if not m:
                    m = bytearray(b"I")
        open(os.path.join(out, "%04d-%s" % (k, name)), "wb").write(m)
        k += 1
PY
for f in "$TMP"/mut/*; do
	run_parse "$f"
done

if [ $fails -ne 0 ]; then
	echo "$fails check(s) failed"
	exit 1
fi
echo "sipua_parse: all checks passed"
