#!/usr/bin/env bash
# Metrics and health ([server] metrics_listen): the opencesd-metrics process serves
# Prometheus text (format 0.0.4) and /health over plain HTTP. Requests posted with curl
# (recorded cepces shapes) are counted exactly by endpoint, authentication and outcome;
# the CA's orders and signatures likewise; /health is 200 while every role runs, 503
# naming the CA role after the CA process is killed with SIGKILL, and 200 again once the
# supervisor has restarted it. The counters survive the restart (one shared registry).
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
MPORT=$(free_port)
D=$T/demo
start_demo "$D" "$PORT"
stop_pid "$DEMO_PID"
sed -i "s/^\[server\]\$/[server]\nmetrics_listen = 127.0.0.1:$MPORT\nhealth_max_age_seconds = 5/" \
    "$D/opencesd.conf"
start_serve "$D/opencesd.conf" "$T/serve.log" "https://127.0.0.1:$PORT" "$D/ca.pem"
BASE="https://127.0.0.1:$PORT"
CA=$D/ca.pem
PW=$(cat "$D/demo-password")
M="http://127.0.0.1:$MPORT"

child_named() { # NAME -> pid of the supervisor's child with that comm
	local p
	for p in $(pgrep -P "$SERVE_PID"); do
		[ "$(cat /proc/$p/comm 2>/dev/null)" = "$1" ] && { echo "$p"; return 0; }
	done
	return 1
}
scrape() { curl -sf --max-time 5 "$M/metrics" >"$T/metrics.txt"; }
# metric 'NAME{labels}' -> its value in the last scrape ("missing" if absent)
metric() {
	awk -v k="$1" 'substr($0, 1, length(k) + 1) == k " " { v = substr($0, length(k) + 2) }
	    END { print (v == "" ? "missing" : v) }' "$T/metrics.txt"
}
expect() { # 'NAME{labels}' VALUE
	local v
	v=$(metric "$1")
	[ "$v" = "$2" ] && pass "$1 = $2" || fail "$1 = $v, expected $2"
}
health() { curl -s --max-time 5 -o "$T/health.json" -w '%{http_code}' "$M/health"; }

for i in $(seq 1 100); do [ "$(health)" = 200 ] && break; sleep 0.1; done
[ "$(health)" = 200 ] && pass "/health 200 with every role up" || fail "/health $(cat "$T/health.json")"
grep -qx '{"status":"ok","roles":{"front":"ok","ca":"ok"}}' "$T/health.json" \
    && pass "/health names the front and CA roles" || fail "/health body: $(cat "$T/health.json")"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" "$BASE/health")
[ "$code" = 200 ] && pass "the front's HTTPS /health still answers" || fail "HTTPS /health: $code"
ct=$(curl -s -o /dev/null -w '%{content_type}' "$M/metrics")
echo "$ct" | grep -q 'text/plain; version=0.0.4' && pass "exposition format 0.0.4 ($ct)" || fail "content type '$ct'"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$M/metrics")
[ "$code" = 405 ] && pass "POST /metrics: 405" || fail "POST /metrics: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$M/nothing")
[ "$code" = 404 ] && pass "unknown path: 404" || fail "unknown path: $code"
METRICS_PID=$(child_named opencesd-metric)   # comm keeps 15 characters && pass "metrics process runs ($METRICS_PID)" || fail "no opencesd-metrics process"
[ -n "${METRICS_PID:-}" ] && ! grep -q "ca.key" /proc/"$METRICS_PID"/maps 2>/dev/null \
    && ! ls -l /proc/"$METRICS_PID"/fd 2>/dev/null | grep -q -e ca.key -e ca.db \
    && pass "metrics process holds no key and no store" || fail "metrics process holds ca.key or ca.db"

scrape
expect 'opences_requests_total{endpoint="ces",auth="password",outcome="ok"}' 0
expect 'opences_process_up{process="ca"}' 1
expect 'opences_process_up{process="front"}' 1
expect 'opences_process_up{process="auth"}' 1
expect 'opences_process_up{process="metrics"}' 1

# What is sent. CEP: two policies, one wrong password, one GET. CES: one issued, one
# wrong password, one denied (a 1024-bit key for WebServer), one fault (the status of
# an unknown RequestID), one malformed body.
render "$VEC/getpolicies-cepces.xml" "$T/gp.xml" TO="$BASE$CEP_PATH" USER=demo PASSWORD="$PW"
render "$VEC/getpolicies-cepces.xml" "$T/gp-bad.xml" TO="$BASE$CEP_PATH" USER=demo PASSWORD=wrong
for i in 1 2; do
	code=$(post "$BASE$CEP_PATH" "$CA" "$T/gp.xml" "$T/gpr$i.xml")
	[ "$code" = 200 ] && pass "GetPolicies $i: 200" || fail "GetPolicies $i: $code"
done
code=$(post "$BASE$CEP_PATH" "$CA" "$T/gp-bad.xml" "$T/gpr-bad.xml")
[ "$code" = 500 ] && pass "GetPolicies, wrong password: fault" || fail "GetPolicies wrong password: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" "$BASE$CEP_PATH")
[ "$code" = 405 ] && pass "GET on CEP: 405" || fail "GET on CEP: $code"

cat >"$T/ext.cnf" <<'CNF'
[req]
distinguished_name = dn
[dn]
[v1]
1.3.6.1.4.1.311.20.2 = ASN1:BMPSTRING:WebServer
subjectAltName = DNS:metrics.example.test
CNF
CSR=$(csr_b64 "$T/ok.key" "/CN=metrics.example.test" -config "$T/ext.cnf" -reqexts v1)
render "$VEC/issue-cepces.xml" "$T/is.xml" TO="$BASE$CES_PATH" USER=demo PASSWORD="$PW" CSR="$CSR"
render "$VEC/issue-cepces.xml" "$T/is-bad.xml" TO="$BASE$CES_PATH" USER=demo PASSWORD=wrong CSR="$CSR"
WEAK=$(openssl req -new -newkey rsa:1024 -nodes -keyout "$T/weak.key" -subj "/CN=weak.example.test" \
    -config "$T/ext.cnf" -reqexts v1 -outform DER 2>/dev/null | base64 -w0)
render "$VEC/issue-cepces.xml" "$T/is-weak.xml" TO="$BASE$CES_PATH" USER=demo PASSWORD="$PW" CSR="$WEAK"
render "$VEC/poll-cepces.xml" "$T/poll.xml" TO="$BASE$CES_PATH" USER=demo PASSWORD="$PW" REQUESTID=12345
printf '<not-xml' >"$T/garbage.xml"

code=$(post "$BASE$CES_PATH" "$CA" "$T/is.xml" "$T/isr.xml")
[ "$code" = 200 ] && pass "Issue: 200" || { fail "Issue: $code"; cat "$T/isr.xml" >&2; }
code=$(post "$BASE$CES_PATH" "$CA" "$T/is-bad.xml" "$T/isr-bad.xml")
[ "$code" = 500 ] && pass "Issue, wrong password: fault" || fail "Issue wrong password: $code"
code=$(post "$BASE$CES_PATH" "$CA" "$T/is-weak.xml" "$T/isr-weak.xml")
[ "$code" = 500 ] && grep -q -i 'key size' "$T/isr-weak.xml" && pass "Issue, 1024-bit key: denied" \
    || { fail "Issue weak key: $code"; cat "$T/isr-weak.xml" >&2; }
code=$(post "$BASE$CES_PATH" "$CA" "$T/poll.xml" "$T/pollr.xml")
[ "$code" = 500 ] && pass "status of an unknown RequestID: fault" || { fail "poll: $code"; cat "$T/pollr.xml" >&2; }
code=$(post "$BASE$CES_PATH" "$CA" "$T/garbage.xml" "$T/isr-garbage.xml")
[ "$code" = 500 ] && pass "malformed body: fault" || fail "malformed body: $code"

scrape
expect 'opences_requests_total{endpoint="cep",auth="password",outcome="ok"}' 2
expect 'opences_requests_total{endpoint="cep",auth="password",outcome="unauthorized"}' 1
expect 'opences_requests_total{endpoint="cep",auth="password",outcome="bad_request"}' 1
expect 'opences_requests_total{endpoint="ces",auth="password",outcome="ok"}' 1
expect 'opences_requests_total{endpoint="ces",auth="password",outcome="unauthorized"}' 1
expect 'opences_requests_total{endpoint="ces",auth="password",outcome="denied"}' 1
expect 'opences_requests_total{endpoint="ces",auth="password",outcome="fault"}' 1
expect 'opences_requests_total{endpoint="ces",auth="password",outcome="bad_request"}' 1
expect 'opences_requests_total{endpoint="ces",auth="password",outcome="pending"}' 0
expect 'opences_requests_total{endpoint="ces",auth="certificate",outcome="ok"}' 0
expect 'opences_request_duration_seconds_count{endpoint="cep"}' 4
expect 'opences_request_duration_seconds_count{endpoint="ces"}' 5
expect 'opences_request_duration_seconds_bucket{endpoint="ces",le="+Inf"}' 5
expect 'opences_http_queue_depth' 0
expect 'opences_ca_orders_total{result="issued"}' 1
expect 'opences_ca_orders_total{result="denied"}' 1
expect 'opences_ca_orders_total{result="pending"}' 0
expect 'opences_ca_orders_total{result="error"}' 0
expect 'opences_ca_signatures_total' 1
expect 'opences_store_commit_failures_total' 0
expect 'opences_ca_info{ca="OpenCES Demo CA"}' 1
n=$(grep -c '^# TYPE ' "$T/metrics.txt")
[ "$n" -ge 12 ] && pass "$n metric families, each with HELP and TYPE" || fail "$n TYPE lines"
[ "$(grep -c '^# HELP ' "$T/metrics.txt")" = "$n" ] && pass "a HELP line per family" || fail "HELP lines"
hb=$(metric opences_ca_last_heartbeat_seconds)
now=$(date +%s)
[ "$hb" != missing ] && [ $((now - hb)) -le 3 ] && pass "CA heartbeat fresh ($((now - hb)) s)" || fail "heartbeat $hb (now $now)"
bsum=$(metric opences_ca_batch_size_sum)
[ "$bsum" != missing ] && [ "${bsum%%.*}" -ge 2 ] && pass "batch sizes recorded ($bsum frames)" || fail "batch sum $bsum"

# The CA killed: /health is 503 naming the CA until the supervisor has restarted it.
CAPID=$(child_named opencesd-ca) || die "no CA process"
kill -KILL "$CAPID"
saw503=0
for i in $(seq 1 200); do
	code=$(health)
	if [ "$code" = 503 ] && grep -q '"ca":"down"' "$T/health.json"; then saw503=1; cp "$T/health.json" "$T/health-503.json"; break; fi
	sleep 0.02
done
[ "$saw503" = 1 ] && pass "after SIGKILL of the CA: 503 $(cat "$T/health-503.json")" || fail "no 503 after the CA was killed (last: $code $(cat "$T/health.json"))"
grep -q '"status":"unhealthy"' "$T/health-503.json" 2>/dev/null && pass "status unhealthy" || fail "503 body"
back=0
for i in $(seq 1 300); do
	[ "$(health)" = 200 ] && { back=1; break; }
	sleep 0.1
done
[ "$back" = 1 ] && pass "200 again once the CA was restarted" || fail "not healthy again: $(cat "$T/health.json")"
CA2=$(child_named opencesd-ca) && [ "$CA2" != "$CAPID" ] && pass "CA restarted ($CA2)" || fail "CA not restarted"
scrape
expect 'opences_requests_total{endpoint="cep",auth="password",outcome="ok"}' 2
expect 'opences_ca_signatures_total' 1
expect 'opences_process_up{process="ca"}' 1
st=$(metric 'opences_process_start_time_seconds{process="ca"}')
[ "$st" != missing ] && [ "$st" -ge "$now" ] && pass "CA start time is the restart's" || fail "CA start time $st"
# still counting after the restart
for i in $(seq 1 50); do
	code=$(post "$BASE$CEP_PATH" "$CA" "$T/gp.xml" "$T/gpr3.xml")
	[ "$code" = 200 ] && break
	sleep 0.1
done
scrape
expect 'opences_requests_total{endpoint="cep",auth="password",outcome="ok"}' 3

stop_pid "$SERVE_PID"
sleep 0.2
curl -s --max-time 2 -o /dev/null "$M/health" && fail "metrics listener still up after SIGTERM" \
    || pass "SIGTERM stops the metrics process"
finish
