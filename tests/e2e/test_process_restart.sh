#!/usr/bin/env bash
# Process supervision: the CA, the auth process and the front end run as separate
# processes under a supervisor; any one killed with SIGKILL is restarted, the store keeps every
# certificate issued before, and SIGTERM to the supervisor stops everything.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
D=$T/demo
start_demo "$D" "$PORT"
URL="https://127.0.0.1:$PORT$CEP_PATH"

child_named() { # NAME -> pid of the supervisor's child with that comm
	local p
	for p in $(pgrep -P "$DEMO_PID"); do
		[ "$(cat /proc/$p/comm 2>/dev/null)" = "$1" ] && { echo "$p"; return 0; }
	done
	return 1
}
enroll() {
	"$OPENCES" enroll --policy-url "$URL" --auth password --user demo \
	    --password-file "$D/demo-password" --template WebServer --ca-file "$D/ca.pem" \
	    --subject "CN=$1.example.test" --dns "$1.example.test" \
	    --key-out "$T/$1.key" --cert-out "$T/$1.pem" >"$T/$1.log" 2>&1
}
enroll_retry() { # NAME: the restarted server may need a moment to listen again
	local i
	for i in $(seq 1 40); do enroll "$1" && return 0; sleep 0.25; done
	cat "$T/$1.log" >&2
	return 1
}

CA=$(child_named opencesd-ca) && pass "CA runs in its own process ($CA)" || fail "no opencesd-ca process"
FRONT=$(child_named opencesd-front) && pass "front end runs in its own process ($FRONT)" || fail "no opencesd-front process"
AUTH=$(child_named opencesd-auth) && pass "auth runs in its own process ($AUTH)" || fail "no opencesd-auth process"
[ -n "${CA:-}" ] && [ -n "${FRONT:-}" ] && [ "$CA" != "$FRONT" ] || die "process layout"
# the front end never maps the CA key file
grep -q "ca.key" /proc/"$FRONT"/maps 2>/dev/null && fail "front end maps ca.key" || pass "front end has no CA key file mapped"
ls -l /proc/"$FRONT"/fd 2>/dev/null | grep -q "ca.key" && fail "front end holds ca.key open" || pass "front end holds no CA key file open"

enroll before && pass "enrolled before the kill" || fail "enroll before"
s1=$(openssl x509 -in "$T/before.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')

kill -KILL "$CA"
enroll_retry afterca && pass "enrolled after the CA was killed" || fail "no enrollment after CA kill"
CA2=$(child_named opencesd-ca) && [ "$CA2" != "$CA" ] && pass "CA restarted ($CA2)" || fail "CA not restarted"

AUTH=$(child_named opencesd-auth)
kill -KILL "$AUTH"
enroll_retry afterauth && pass "enrolled after the auth process was killed" || fail "no enrollment after auth kill"
AUTH2=$(child_named opencesd-auth) && [ "$AUTH2" != "$AUTH" ] && pass "auth process restarted ($AUTH2)" || fail "auth not restarted"

FRONT=$(child_named opencesd-front)
kill -KILL "$FRONT"
enroll_retry afterfront && pass "enrolled after the front end was killed" || fail "no enrollment after front kill"

"$OPENCESD" --dir "$D" cert list >"$T/certs" 2>&1
grep -qi "$s1" "$T/certs" && pass "certificate issued before the kills is in the store" || fail "lost $s1"

stop_pid "$DEMO_PID"
sleep 0.2
pgrep -f "opencesd demo --dir $D" >/dev/null && fail "processes left after SIGTERM" || pass "SIGTERM stops everything"
finish
