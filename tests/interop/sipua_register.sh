#!/usr/bin/env bash
# `sipua register` (RFC 3261 §10.2) against sipd (digest auth required, users
# from `sipd user add`) and against SIPp as a registrar (a peer we did not
# write, checking our Authorization with verifyauth): 401 answered, binding
# listed, refresh with the same Call-ID and a higher CSeq, SIGINT/SIGTERM
# unregister, --unregister, TCP, wrong password → exit 1, usage → exit 2.
source "$(dirname "$0")/common.bash"

P=$(free_port)
"$SIPD" user add sip:alice@localhost secret --db "$WORK/sipd.db" >/dev/null
cat >"$WORK/sipd.yaml" <<YAML
listen: [udp:127.0.0.1:$P, tcp:127.0.0.1:$P]
db: $WORK/sipd.db
trace: true
registrar: {require_auth: true, min_expires: 1}
YAML
start_sipd sipd -c "$WORK/sipd.yaml"
REG=sip:localhost:$P

reg() { "$SIPUA" register --user alice --registrar "$REG" "$@" >"$WORK/ua.out" 2>"$WORK/ua.err"; }
# The Contact URI a run registered ("registered: AOR -> URI expires N").
contact_of() { sed -n 's/^registered: [^ ]* -> \([^ ]*\) expires .*/\1/p' "$1" | head -n 1; }
# Waits until FILE has N lines matching RE (bounded).
wait_lines() {
	local file=$1 re=$2 n=$3
	for _ in $(seq 1 200); do
		[ "$(grep -c "$re" "$file" 2>/dev/null || true)" -ge "$n" ] && return 0
		sleep 0.05
	done
	return 1
}
# Call-ID and CSeq of every REGISTER sipd received, one "CALLID CSEQ EXPIRES" line each.
registers_seen() {
	awk '/ trace recv /{inreq=1; r=0; next}
	     inreq && /^REGISTER /{r=1}
	     inreq && r && /^Call-ID:/{c=$2}
	     inreq && r && /^CSeq:/{s=$2}
	     inreq && r && /^Expires:/{e=$2}
	     inreq && r && /^\r?$/{print c, s, e; inreq=0; r=0; c=s=e=""}' "$WORK/sipd.log" | tr -d '\r'
}

# 1. --once with the right password: 401 answered, 200 lists our binding.
check "register --once with the right password → exit 0" reg --password secret --once --expires 300
check "  prints the 200" grep -qx "SIP/2.0 200 OK" "$WORK/ua.out"
C1=$(contact_of "$WORK/ua.out")
check "  our contact ($C1) is listed with its expires" grep -q "^Contact: <$C1>;expires=300" "$WORK/ua.out"
check "  contact is sip:alice@127.0.0.1:PORT of our UDP listener" \
	bash -c "[[ '$C1' =~ ^sip:alice@127\.0\.0\.1:[0-9]+$ ]]"
check "  sipd saw the challenge answered (Authorization with a Digest response)" \
	grep -q '^Authorization: Digest username="alice", realm="localhost"' "$WORK/sipd.log"

# 2. Wrong password: one answer, the second 401 is final.
before=$(registers_seen | wc -l)
rc=0; reg --password wrong --once || rc=$?
check "wrong password → exit 1" [ $rc -eq 1 ]
check "  prints the 401" grep -q "^SIP/2.0 401" "$WORK/ua.out"
after=$(registers_seen | wc -l)
check "  exactly two REGISTERs sent (no retry loop): $((after - before))" [ $((after - before)) -eq 2 ]

# 3. TCP: the contact says transport=tcp.
check "register --once over TCP → exit 0" reg --password secret --once --transport tcp --expires 300
check "  contact has ;transport=tcp" bash -c "contact=\$(sed -n 's/^registered: [^ ]* -> \([^ ]*\) .*/\1/p' $WORK/ua.out); [[ \$contact == *';transport=tcp' ]]"

# 4. Running registration: refresh at half of 4 s, SIGINT unregisters.
"$SIPUA" register --user alice --password secret --registrar "$REG" --expires 4 >"$WORK/run.out" 2>"$WORK/run.err" &
UA_PID=$!; PIDS+=("$UA_PID")
check "registered, then refreshed (two 200s within 10 s)" wait_lines "$WORK/run.out" "^registered:" 2
C2=$(contact_of "$WORK/run.out")
check "  the refresh's 200 lists our binding with expires=4" grep -q "^Contact: <$C2>;expires=4" "$WORK/run.out"
kill -INT "$UA_PID"
rc=0; wait "$UA_PID" || rc=$?
stop_pid "$UA_PID"
check "SIGINT → unregistered, exit 0 (rc $rc)" [ $rc -eq 0 ]
check "  printed 'unregistered'" grep -q "^unregistered: sip:alice@localhost" "$WORK/run.out"
# The run's REGISTERs: one Call-ID, CSeq strictly increasing, the last one Expires: 0.
registers_seen >"$WORK/seen.txt"
cid=$(awk '$3 == 4 {c=$1} END{print c}' "$WORK/seen.txt")
grep "^$cid " "$WORK/seen.txt" >"$WORK/run.seen"
check "  sipd got >= 4 REGISTERs of that run (401, 200, refresh, unregister): $(wc -l <"$WORK/run.seen")" \
	[ "$(wc -l <"$WORK/run.seen")" -ge 4 ]
check "  all with the same Call-ID and increasing CSeq (a UDP retransmission repeats its line)" \
	bash -c "uniq '$WORK/run.seen' | awk 'NR > 1 && \$2 <= prev {exit 1} {prev = \$2}'"
check "  the last one has Expires: 0" [ "$(tail -n 1 "$WORK/run.seen" | awk '{print $3}')" = 0 ]
check "  refreshes after the first carried credentials pre-emptively (no 401 in between)" \
	bash -c "[ \$(grep -c . $WORK/run.seen) -le \$(( $(grep -c '^registered:' "$WORK/run.out") + 2 )) ]"

# The binding is gone: a new registration's 200 lists every binding of alice.
check "a new registration lists the bindings" reg --password secret --once --contact sip:alice@127.0.0.1:9 --expires 60
check "  the SIGINT-ed run's binding ($C2) is gone" bash -c "! grep -q '<$C2>' $WORK/ua.out"
check "  the --once binding ($C1) is still there" grep -q "<$C1>" "$WORK/ua.out"

# 5. SIGTERM unregisters too.
"$SIPUA" register --user alice --password secret --registrar "$REG" --expires 60 >"$WORK/term.out" 2>&1 &
UA_PID=$!; PIDS+=("$UA_PID")
check "registered (run 2)" wait_lines "$WORK/term.out" "^registered:" 1
kill -TERM "$UA_PID"
rc=0; wait "$UA_PID" || rc=$?
stop_pid "$UA_PID"
check "SIGTERM → unregistered, exit 0" bash -c "[ $rc -eq 0 ] && grep -q '^unregistered:' $WORK/term.out"

# 6. --unregister: Contact: * with Expires: 0 removes every binding.
check "register --unregister → exit 0" reg --password secret --unregister
check "  sipd got 'Contact: *'" grep -q "^Contact: \*" "$WORK/sipd.log"
check "a query-like registration afterwards lists only itself" reg --password secret --once --contact sip:alice@127.0.0.1:10 --expires 60
check "  exactly one binding" [ "$(grep -c '^Contact:' "$WORK/ua.out")" -eq 1 ]

# 7. Usage.
for args in "" "--user alice" "--registrar $REG" "--user alice --registrar mailto:x" \
	"--user alice --registrar $REG --transport sctp" "--user alice --registrar $REG --expires soon" \
	"--user alice --registrar $REG --once --unregister" "--user a@b --registrar $REG"; do
	rc=0; "$SIPUA" register $args >/dev/null 2>&1 || rc=$?
	check "usage error ($args) → exit 2" [ $rc -eq 2 ]
done
check "sipd still running" kill -0 "$SIPD_PID"
stop_pid "$SIPD_PID"

# 8. SIPp as the registrar: verifyauth checks our MD5 answer; refresh; SIGINT.
SP=$(free_port)
timeout 60 sipp -sf "$HERE/scenarios/uas_register_auth.xml" -i 127.0.0.1 -p $SP -m 1 -nostdin -nd \
	-trace_msg -message_file "$WORK/sipp.msg" -trace_err -error_file "$WORK/sipp.err" >"$WORK/sipp.log" 2>&1 &
SIPP_PID=$!; PIDS+=("$SIPP_PID")
sleep 0.3
"$SIPUA" register --user alice --password secret --registrar sip:127.0.0.1:$SP --expires 4 >"$WORK/sipp-ua.out" 2>&1 &
UA_PID=$!; PIDS+=("$UA_PID")
check "SIPp registrar: verifyauth accepted our answer, then a refresh (two 200s)" \
	wait_lines "$WORK/sipp-ua.out" "^registered:" 2
kill -INT "$UA_PID"
rc=0; wait "$UA_PID" || rc=$?
stop_pid "$UA_PID"
check "  SIGINT → unregister answered by SIPp, exit 0" [ $rc -eq 0 ]
rc=0; wait "$SIPP_PID" || rc=$?
stop_pid "$SIPP_PID"
check "  SIPp's scenario completed (exit 0)" [ $rc -eq 0 ]
check "  one Call-ID for every REGISTER" \
	[ "$(grep -A20 '^REGISTER ' "$WORK/sipp.msg" | grep '^Call-ID:' | sort -u | wc -l)" -eq 1 ]
# (uniq: a REGISTER retransmitted over UDP — same branch, same CSeq — is
# logged again by SIPp; it is not a new request.)
check "  CSeq 1, 2, 3 ... in order" \
	bash -c "grep -A20 '^REGISTER ' $WORK/sipp.msg | grep '^CSeq:' | awk '{print \$2}' | tr -d '\r' | uniq | awk '\$1 != NR {exit 1}'"

SP=$(free_port)
timeout 60 sipp -sf "$HERE/scenarios/uas_register_auth.xml" -i 127.0.0.1 -p $SP -m 1 -nostdin -nd >"$WORK/sipp2.log" 2>&1 &
SIPP_PID=$!; PIDS+=("$SIPP_PID")
sleep 0.3
rc=0; "$SIPUA" register --user alice --password nope --registrar sip:127.0.0.1:$SP --once >"$WORK/ua.out" 2>&1 || rc=$?
check "SIPp registrar, wrong password: verifyauth fails, second 401 is final → exit 1" [ $rc -eq 1 ]
wait "$SIPP_PID" || true
stop_pid "$SIPP_PID"
