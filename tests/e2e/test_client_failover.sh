#!/usr/bin/env bash
# Client load balancing and failover: dead CEP URLs are skipped, dead CES URIs of the
# best priority are tried before the next priority, a denial is not retried elsewhere,
# and nothing reachable gives the "unreachable" exit status.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
D=$T/demo
start_demo "$D" "$PORT"
stop_pid "$DEMO_PID"

# Two dead front ends published at priority 1, the live one at priority 2.
DEAD1=$(free_port)
DEAD2=$(free_port)
sed -i '/^\[endpoint\]$/,$ s/^priority = 1$/priority = 2/' "$D/opencesd.conf"
cat >>"$D/opencesd.conf" <<CONF

[publish]
uri = https://127.0.0.1:$DEAD1$CES_PATH
auth = password
priority = 1

[publish]
uri = https://127.0.0.1:$DEAD2$CES_PATH
auth = password
priority = 1

[publish]
uri = https://127.0.0.1:$DEAD2/renewal-only$CES_PATH
auth = password
priority = 0
renewal_only = true

[publish]
uri = https://127.0.0.1:$PORT$(echo "$CES_PATH" | tr 'A-Z' 'a-z')
auth = password
priority = 3
CONF
LOWER=$(echo "$CES_PATH" | tr 'A-Z' 'a-z')
start_serve "$D/opencesd.conf" "$T/serve.log" "https://127.0.0.1:$PORT" "$D/ca.pem"
LIVE="https://127.0.0.1:$PORT$CEP_PATH"
DEADCEP="https://127.0.0.1:$DEAD1$CEP_PATH"

enroll() { # out [args]
	local out=$1
	shift
	mkdir -p "$out"
	"$OPENCES" enroll --auth password --user demo --password-file "$D/demo-password" \
	    --ca-file "$D/ca.pem" --key-out "$out/key.pem" --cert-out "$out/cert.pem" \
	    --connect-timeout 2 --timeout 10 -v "$@" >"$out/log" 2>&1
}

for i in 1 2 3; do
	if enroll "$T/e$i" --policy-url "$DEADCEP" --policy-url "$LIVE" --template WebServer \
	    --subject "CN=fo$i.example.test" --dns "fo$i.example.test"; then
		pass "run $i: enrolled past dead CEP and CES URIs"
	else fail "run $i: exit $?"; cat "$T/e$i/log" >&2; fi
	openssl verify -CAfile "$D/ca.pem" "$T/e$i/cert.pem" >/dev/null 2>&1 && pass "run $i: certificate verifies" || fail "run $i: certificate"
	grep -q "127.0.0.1:$DEAD1" "$T/e$i/log" && grep -q "127.0.0.1:$DEAD2$CES_PATH" "$T/e$i/log" \
	    && pass "run $i: both priority-1 URIs tried first" || fail "run $i: dead URIs not both tried (log above)"
	grep -q "renewal-only" "$T/e$i/log" && fail "run $i: renewal-only URI used for a new enrollment" \
	    || pass "run $i: renewal-only URI not used"
done

# A denial (SOAP fault from the CA) is an answer: exit 2, and the next URI (the same live
# server published again at priority 3 under a lower-case path) is not tried after it.
printf 'pw-of-nodns-%s\n' "$RANDOM" >"$T/nodns.pw"
"$OPENCESD" --dir "$D" account add nodns --kind computer --password-file "$T/nodns.pw" >/dev/null 2>&1 \
    || fail "account add via CLI"
"$OPENCESD" --dir "$D" grant Machine nodns enroll >/dev/null 2>&1 || fail "grant via CLI"
set +e
mkdir -p "$T/denied"
"$OPENCES" enroll --auth password --user nodns --password-file "$T/nodns.pw" --ca-file "$D/ca.pem" \
    --key-out "$T/denied/key.pem" --cert-out "$T/denied/cert.pem" --connect-timeout 2 -v \
    --policy-url "$LIVE" --template Machine >"$T/denied/log" 2>&1
rc=$?
set -e
[ "$rc" = 2 ] && pass "CA denial (no DNS name for Machine): exit 2" || { fail "denied: exit $rc"; cat "$T/denied/log" >&2; }
grep -qi -e '0x8009480f' -e 'dns' "$T/denied/log" && pass "denial message names the cause" || fail "denial message: $(tail -3 "$T/denied/log")"
grep -q "$LOWER" "$T/denied/log" && fail "a denial was retried on another URI" || pass "denial not retried elsewhere"
[ ! -e "$T/denied/cert.pem" ] && pass "no certificate written on denial" || fail "certificate written on denial"

# Nothing reachable: exit 5.
set +e
enroll "$T/unreach" --policy-url "$DEADCEP" --policy-url "https://127.0.0.1:$DEAD2$CEP_PATH" --template WebServer --subject CN=u.example.test
rc=$?
set -e
[ "$rc" = 5 ] && pass "unreachable: exit 5" || { fail "unreachable: exit $rc"; cat "$T/unreach/log" >&2; }
finish
