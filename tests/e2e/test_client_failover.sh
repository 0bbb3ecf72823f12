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

# Silent peers: a URI that accepts the connection but never answers is abandoned after the
# configured timeout. Raw TCP (no TLS handshake): --connect-timeout; TLS that never
# answers the HTTP request: --timeout. Each is given up within its bound.
SILENT_TCP=$(free_port)
SILENT_TLS=$(free_port)
/usr/bin/python3 - "$SILENT_TCP" >"$T/silent-tcp.log" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
held = []
end = time.time() + 120
s.settimeout(1)
while time.time() < end:
    try:
        held.append(s.accept()[0])   # accepted, never read, never answered
    except socket.timeout:
        pass
PY
OC_PIDS+=($!)
/usr/bin/python3 - "$SILENT_TLS" "$D/server.pem" "$D/server.key" >"$T/silent-tls.log" 2>&1 <<'PY' &
import socket, ssl, sys, threading, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[2], sys.argv[3])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
held = []
def hold(c):
    try:
        c.settimeout(10)
        held.append(ctx.wrap_socket(c, server_side=True))   # handshake, then silence
    except Exception:
        pass
end = time.time() + 120
s.settimeout(1)
while time.time() < end:
    try:
        threading.Thread(target=hold, args=(s.accept()[0],), daemon=True).start()
    except socket.timeout:
        pass
PY
OC_PIDS+=($!)
for i in $(seq 1 50); do
	(exec 3<>"/dev/tcp/127.0.0.1/$SILENT_TLS") 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$SILENT_TCP") 2>/dev/null && break
	sleep 0.1
done
set +e
t0=$(date +%s)
enroll "$T/silent-cep" --policy-url "https://127.0.0.1:$SILENT_TCP$CEP_PATH" --template WebServer \
    --subject CN=s.example.test --connect-timeout 2 --timeout 4
rc=$?
el=$(( $(date +%s) - t0 ))
set -e
[ "$rc" = 5 ] && [ "$el" -le 5 ] && pass "silent TCP policy URL abandoned after the connect timeout (${el}s, exit 5)" \
    || { fail "silent TCP: exit $rc after ${el}s"; cat "$T/silent-cep/log" >&2; }

# A CES URI of the best priority that completes TLS but never answers: the client waits
# --timeout, then enrolls at the next priority.
stop_pid "$SERVE_PID"
cat >>"$D/opencesd.conf" <<CONF

[publish]
uri = https://127.0.0.1:$SILENT_TLS$CES_PATH
auth = password
priority = 0
CONF
start_serve "$D/opencesd.conf" "$T/serve2.log" "https://127.0.0.1:$PORT" "$D/ca.pem"
t0=$(date +%s)
if enroll "$T/silent-ces" --policy-url "$LIVE" --template WebServer --subject CN=sc.example.test \
    --dns sc.example.test --connect-timeout 2 --timeout 3; then
	pass "enrolled past a CES URI that never answers"
else fail "silent CES: exit $?"; cat "$T/silent-ces/log" >&2; fi
el=$(( $(date +%s) - t0 ))
grep -q "127.0.0.1:$SILENT_TLS" "$T/silent-ces/log" && pass "the silent priority-0 URI was tried first" \
    || fail "silent URI not tried (log above)"
[ "$el" -ge 3 ] && [ "$el" -le 8 ] && pass "abandoned after the 3 s timeout (whole run ${el}s)" \
    || fail "silent CES: whole run ${el}s"
openssl verify -CAfile "$D/ca.pem" "$T/silent-ces/cert.pem" >/dev/null 2>&1 && pass "certificate after failover verifies" \
    || fail "certificate after silent failover"
finish
