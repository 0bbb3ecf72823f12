# Shared helpers for the end-to-end tests (sourced). Servers bind 127.0.0.1 only.
set -euo pipefail

: "${OPENCESD:?OPENCESD must point at the opencesd binary}"
: "${OPENCES:?OPENCES must point at the opences binary}"
: "${OC_SOURCE_DIR:?}"
VEC="$OC_SOURCE_DIR/tests/vectors/e2e"
SCHEMAS="$OC_SOURCE_DIR/tests/schemas"

T=$(mktemp -d "${TMPDIR:-/tmp}/oc-e2e.XXXXXX")
OC_PIDS=()
cleanup() {
	local p
	for p in "${OC_PIDS[@]:-}"; do
		[ -n "$p" ] && kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${OC_PIDS[@]:-}"; do
		[ -n "$p" ] && wait "$p" 2>/dev/null || true
	done
	if [ "${OC_KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

FAILS=0
PASSES=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; PASSES=$((PASSES + 1)); }
die() { echo "FATAL: $*" >&2; exit 1; }
finish() {
	echo "$PASSES passed, $FAILS failed"
	[ "$FAILS" -eq 0 ]
}

# A free TCP port on 127.0.0.1 (the kernel picks it).
free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_demo DIR PORT [LOG] -- starts `opencesd demo` in the background and waits until it serves.
start_demo() {
	local dir=$1 port=$2 log=${3:-$1.log}
	"$OPENCESD" demo --dir "$dir" --listen "127.0.0.1:$port" >"$log" 2>&1 &
	DEMO_PID=$!
	OC_PIDS+=("$DEMO_PID")
	wait_http "https://127.0.0.1:$port/health" "$dir/ca.pem" || { cat "$log" >&2; die "demo did not start"; }
}

# start_serve CONF LOG -- `opencesd serve --config CONF` in the background.
start_serve() {
	local conf=$1 log=$2 url=$3 ca=$4
	"$OPENCESD" serve --config "$conf" >"$log" 2>&1 &
	SERVE_PID=$!
	OC_PIDS+=("$SERVE_PID")
	wait_http "$url/health" "$ca" || { cat "$log" >&2; die "server did not start"; }
}

wait_http() {
	local url=$1 ca=$2 i
	for i in $(seq 1 300); do
		if [ -f "$ca" ] && curl -sf --cacert "$ca" -o /dev/null "$url" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

stop_pid() {
	local p=$1
	kill -TERM "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
}

CEP_PATH=/ADPolicyProvider_CEP_UsernamePassword/service.svc/CEP
CES_PATH="/OpenCES%20Demo%20CA_CES_UsernamePassword/service.svc/CES"

# render TEMPLATE OUT key=value... : replace @KEY@ placeholders in a vector file.
render() {
	local in=$1 out=$2
	shift 2
	/usr/bin/python3 - "$in" "$out" "$@" <<'PY'
import sys
src, dst = sys.argv[1], sys.argv[2]
s = open(src).read()
for kv in sys.argv[3:]:
    k, v = kv.split("=", 1)
    if v.startswith("@file:"):
        v = open(v[6:]).read()
    s = s.replace("@" + k + "@", v)
open(dst, "w").write(s)
PY
}

# post URL CA BODYFILE OUTFILE -> prints HTTP status
post() {
	curl -s --cacert "$2" -o "$4" -w '%{http_code}' \
	    -H 'Content-Type: application/soap+xml; charset=utf-8' --data-binary @"$3" "$1"
}

# xp FILE XPATH -> string value (namespace-agnostic XPath with local-name())
xp() {
	xmllint --xpath "$2" "$1" 2>/dev/null || true
}

# CSR in base64 (one line) for a new RSA key: csr_b64 KEYOUT SUBJ [extra openssl req args...]
csr_b64() {
	local key=$1 subj=$2
	shift 2
	openssl req -new -newkey rsa:2048 -nodes -keyout "$key" -subj "$subj" -outform DER "$@" 2>/dev/null | base64 -w0
}

# Extension names of a PEM certificate, one per line ("X509v3 Key Usage", "1.3.6.1.4.1.311.21.7", ...).
cert_exts() {
	openssl x509 -in "$1" -noout -text | /usr/bin/python3 -c '
import sys
inext = False
for line in sys.stdin:
    if line.strip() == "X509v3 extensions:":
        inext = True; continue
    if inext:
        if line.startswith("    Signature Algorithm") or not line.startswith("            "):
            break
        if not line.startswith("             ") and line.rstrip().endswith(("critical", ":")):
            print(line.strip().rsplit(":", 1)[0] if line.rstrip().endswith(":") else line.strip().rsplit(": critical",1)[0])
'
}

# body_payload ENVELOPE OUT -- the first element child of s:Body as its own document.
body_payload() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import sys, xml.etree.ElementTree as ET
S = "{http://www.w3.org/2003/05/soap-envelope}"
root = ET.parse(sys.argv[1]).getroot()
body = root.find(S + "Body")
child = list(body)[0]
open(sys.argv[2], "wb").write(ET.tostring(child))
PY
}
