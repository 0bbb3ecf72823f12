#!/usr/bin/env bash
# Checks bench_load itself against bench/tiny_server.py on loopback (CTest
# test bench/bench_load_selftest): counting, bounds, framing, refusals.
#   selftest.sh BENCH_LOAD
set -euo pipefail
B=${1:?usage: selftest.sh BENCH_LOAD}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

start_server() {   # start_server NAME [args...] -> sets PORT, SPID
	local name=$1; shift
	python3 "$here/tiny_server.py" "$@" "$tmp/$name.port" &
	SPID=$!
	pids+=("$SPID")
	for _ in $(seq 100); do [[ -s $tmp/$name.port ]] && break; sleep 0.05; done
	[[ -s $tmp/$name.port ]] || fail "tiny_server $name did not start"
	PORT=$(cat "$tmp/$name.port")
}
# field KEY: value of KEY= in the RESULT line of $out
field() { sed -n "s/^RESULT .* $1=\([^ ]*\).*/\1/p" <<<"$out"; }
run() {   # run EXPECTED_RC args...
	local want=$1; shift
	rc=0
	out=$("$B" "$@" 2>&1) || rc=$?
	[[ $rc == "$want" ]] || { echo "$out" >&2; fail "bench_load $* exited $rc, expected $want"; }
}

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/key.pem" \
	-out "$tmp/cert.pem" -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
printf '<x>hello</x>' > "$tmp/body.xml"

start_server tls --tls "$tmp/cert.pem" "$tmp/key.pem"
tls_port=$PORT tls_pid=$SPID
url=https://127.0.0.1:$tls_port

# exact request bound, keep-alive, verified certificate, server RSS
run 0 --url "$url/ok" --body "$tmp/body.xml" -c 3 --requests 200 --cafile "$tmp/cert.pem" --server-pid "$tls_pid"
[[ $(field requests) == 200 && $(field ok) == 200 ]] || fail "requests bound: $out"
grep -q '^  connects   3 ' <<<"$out" || fail "expected 3 kept-alive connections: $out"
(($(field server_vmhwm_kb) > 1000)) || fail "server VmHWM not read: $out"

# other statuses are counted and make the run fail
run 1 --url "$url/status/500" --body "$tmp/body.xml" --requests 20
[[ $(field bad_status) == 20 && $(field ok) == 0 ]] || fail "status counting: $out"
grep -q ' 500:20' <<<"$out" || fail "status table: $out"
run 0 --url "$url/status/503" --body "$tmp/body.xml" --requests 5 --expect 503

# framing: Connection: close, chunked, HTTP/1.0 read-to-close
for p in close chunked http10; do
	run 0 --url "$url/$p" --body "$tmp/body.xml" -c 2 --requests 30
	[[ $(field ok) == 30 ]] || fail "$p: $out"
done

# time bound
start=$(date +%s)
run 0 --url "$url/ok" --body "$tmp/body.xml" -c 2 --seconds 2
end=$(date +%s)
((end - start <= 4)) || fail "--seconds 2 took $((end - start)) s"
(($(field requests) > 0)) || fail "no requests in 2 s"

# a wrong trust anchor is a transport error, not a success
run 1 --url "$url/ok" --body "$tmp/body.xml" --requests 3 --cafile /etc/ssl/certs/ca-certificates.crt
[[ $(field io_errors) == 3 ]] || fail "verify failure not counted: $out"

# plain HTTP (cfssl) and IPv6 loopback
start_server plain --host ::1
run 0 --url "http://[::1]:$PORT/ok" --body "$tmp/body.xml" --requests 10 --content-type application/json
[[ $(field ok) == 10 ]] || fail "plain http over ::1: $out"

# loopback only, no name resolution, bad arguments
for u in https://10.0.0.1:1/ https://192.168.1.1/ http://example.com/ "https://[2001:db8::1]:1/" ftp://127.0.0.1/; do
	run 2 --url "$u" --body "$tmp/body.xml" --requests 1
done
run 2 --url "$url/ok" --body "$tmp/nonexistent" --requests 1
run 2 --url "$url/ok" --body "$tmp/body.xml" --concurrency 0
echo "bench_load selftest: all checks passed"
