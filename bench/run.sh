#!/usr/bin/env bash
# OpenCES load benchmark (`make bench`), loopback only. See docs/PERFORMANCE.md.
#
#   bench/run.sh [BUILD_DIR]      (default build/release)
#
# 1. starts `opencesd demo` in a temporary directory on 127.0.0.1 (free port),
#    then serves its configuration again with [ca] idempotence_window_seconds
#    = 0 (the Issue series repeats one request: each must be a new certificate)
#    and, with BENCH_STORE_URL=postgresql://..., on that PostgreSQL store; with
#    BENCH_TOPOLOGY=link as a CA node (roles = ca) and a front end (roles =
#    front) joined by the mutual-TLS CA link;
# 2. writes a GetPolicies request and an Issue request (a real RSA 2048 CSR for
#    the WebServer template), both with a WS-Security UsernameToken for the demo
#    account, and checks that each gets a 200 with the right answer;
# 3. runs bench_load for GetPolicies and for Issue at concurrency 1, 2 and 4
#    (BENCH_SECONDS each, default 10), reporting the server's peak RSS;
# 4. runs `openssl speed` for rsa2048 and ecdsap256 (the CA's signing ceiling);
# 5. if cfssl is installed (Debian package golang-cfssl; this script installs
#    it when run as root unless BENCH_NO_APT=1), measures `cfssl serve`'s
#    /api/v1/cfssl/sign with an RSA 2048 CA the same way, over plain HTTP.
# Results: a Markdown table on stdout and in BUILD_DIR/bench/results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

build=${1:-build/release}
seconds=${BENCH_SECONDS:-10}
levels=${BENCH_CONCURRENCY:-1 2 4}
opencesd=${OPENCESD:-$build/src/opencesd}
bench_load=$build/bench/bench_load
[[ -x $opencesd ]] || { echo "bench: $opencesd not built (make build)" >&2; exit 1; }
[[ -x $bench_load ]] || { echo "bench: $bench_load not built (make build)" >&2; exit 1; }
opencesd=$(realpath "$opencesd")
bench_load=$(realpath "$bench_load")

# The bench's own packages (not test dependencies).
if ! command -v cfssl >/dev/null 2>&1 && [[ ${BENCH_NO_APT:-0} != 1 && $EUID == 0 ]]; then
	echo "bench: installing golang-cfssl for the comparison (BENCH_NO_APT=1 skips)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=600 \
		--no-install-recommends golang-cfssl >/dev/null 2>&1 ||
		echo "bench: golang-cfssl could not be installed; cfssl is skipped"
fi

tmp=$(mktemp -d /tmp/opences-bench.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

results=()        # Markdown table rows
issued_ok=0       # certificates the Issue series received
rfield() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }
add_row() {       # add_row WHAT CONCURRENCY "RESULT line"
	local line=$3 errs
	errs=$(( $(rfield "$line" bad_status) + $(rfield "$line" io_errors) ))
	results+=("| $1 | $2 | $(rfield "$line" rps) | $(rfield "$line" p50_ms) | $(rfield "$line" p99_ms) | $errs | $(rfield "$line" server_tree_vmhwm_kb) |")
}

run_load() {      # run_load WHAT URL BODY CONCURRENCY PID [bench_load args]
	local what=$1 url=$2 body=$3 c=$4 pid=$5 out n
	shift 5
	out=$("$bench_load" --url "$url" --body "$body" --concurrency "$c" --seconds "$seconds" \
		--server-pid "$pid" --label "$what" "$@" 2>&1) || true
	echo "$out"
	if [[ $what == "CES Issue"* ]]; then
		n=$(rfield "$(grep '^RESULT ' <<<"$out" || true)" ok)
		issued_ok=$((issued_ok + ${n:-0}))
	fi
	add_row "$what" "$c" "$(grep '^RESULT ' <<<"$out" || echo 'RESULT rps=- p50_ms=- p99_ms=- bad_status=0 io_errors=1 server_tree_vmhwm_kb=-')"
}

xml_escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g'; }

# --- 1. the demo server ------------------------------------------------------
port=$(free_port)
demo=$tmp/demo
base=https://127.0.0.1:$port
cep_url=$base/ADPolicyProvider_CEP_UsernamePassword/service.svc/CEP
ces_url="$base/OpenCES%20Demo%20CA_CES_UsernamePassword/service.svc/CES"
"$opencesd" demo --dir "$demo" --listen "127.0.0.1:$port" > "$tmp/opencesd.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")
for _ in $(seq 300); do
	if [[ -s $demo/ca.pem && -s $demo/demo-password ]] &&
		curl -s --max-time 2 --cacert "$demo/ca.pem" "$base/health" >/dev/null 2>&1; then
		break
	fi
	kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/opencesd.log" >&2; echo "bench: opencesd exited" >&2; exit 1; }
	sleep 0.1
done
[[ -s $demo/ca.pem && -s $demo/demo-password ]] || { cat "$tmp/opencesd.log" >&2; echo "bench: demo did not start" >&2; exit 1; }
# The Issue series posts one request body over and over: with idempotent
# issuance on, every order after the first would be answered from the store
# (the same certificate) and nothing would be signed. Serve the demo's
# configuration again with idempotence off, so each Issue is a new certificate.
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
sed -i 's/^\[ca\]$/[ca]\nidempotence_window_seconds = 0/' "$demo/opencesd.conf"
grep -q '^idempotence_window_seconds = 0' "$demo/opencesd.conf" || { echo "bench: config not rewritten" >&2; exit 1; }
# BENCH_STORE_URL=postgresql://...: the same server on a PostgreSQL store
if [[ -n ${BENCH_STORE_URL:-} ]]; then
	sed -i "s|^path = ca.db$|url = $BENCH_STORE_URL|" "$demo/opencesd.conf"
	grep -q '^url = ' "$demo/opencesd.conf" || { echo "bench: store not rewritten" >&2; exit 1; }
fi
serve_conf=$demo/opencesd.conf
# BENCH_TOPOLOGY=link: a CA node (roles = ca, listening on 127.0.0.21) and the
# front end (roles = front) talking to it over the mutual-TLS CA link
if [[ ${BENCH_TOPOLOGY:-} == link ]]; then
	L=$tmp/link
	mkdir -p "$L"
	lkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
	lkey "$L/ca.key"
	openssl req -x509 -new -key "$L/ca.key" -subj "/CN=bench link CA" -days 2 \
		-addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign \
		-out "$L/ca.pem" 2>/dev/null
	for who in node:IP:127.0.0.21 front:none; do
		name=${who%%:*} san=${who#*:}
		lkey "$L/$name.key"
		openssl req -new -key "$L/$name.key" -subj "/CN=bench-$name" -out "$L/$name.csr" 2>/dev/null
		if [[ $san == none ]]; then echo 'extendedKeyUsage=clientAuth'; else echo "subjectAltName=$san"; fi >"$L/$name.ext"
		openssl x509 -req -in "$L/$name.csr" -CA "$L/ca.pem" -CAkey "$L/ca.key" -CAcreateserial \
			-days 2 -extfile "$L/$name.ext" -out "$L/$name.pem" 2>/dev/null
	done
	lport=$(free_port)
	sed 's/^\[server\]$/[server]\nroles = ca/' "$demo/opencesd.conf" >"$demo/node.conf"
	printf '\n[ca_link]\nlisten = 127.0.0.21:%s\ntls_cert = %s\ntls_key = %s\nclient_ca = %s\nallow = bench-front\n' \
		"$lport" "$L/node.pem" "$L/node.key" "$L/ca.pem" >>"$demo/node.conf"
	sed -e 's/^\[server\]$/[server]\nroles = front/' -e '/^key = ca.key$/d' "$demo/opencesd.conf" >"$demo/front.conf"
	printf '\n[ca_link]\nclient_cert = %s\nclient_key = %s\nserver_ca = %s\n\n[ca_node]\naddress = 127.0.0.21:%s\n' \
		"$L/front.pem" "$L/front.key" "$L/ca.pem" "$lport" >>"$demo/front.conf"
	"$opencesd" serve --config "$demo/node.conf" > "$tmp/node.log" 2>&1 &
	pids+=("$!")
	for _ in $(seq 300); do grep -q "calink: listening" "$tmp/node.log" && break; sleep 0.1; done
	grep -q "calink: listening" "$tmp/node.log" || { cat "$tmp/node.log" >&2; echo "bench: CA node did not start" >&2; exit 1; }
	serve_conf=$demo/front.conf
	echo "bench: CA node on 127.0.0.21:$lport, front end over the CA link"
fi
"$opencesd" serve --config "$serve_conf" > "$tmp/opencesd.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")
for _ in $(seq 300); do
	curl -s --max-time 2 --cacert "$demo/ca.pem" "$base/health" >/dev/null 2>&1 && break
	kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/opencesd.log" >&2; echo "bench: opencesd exited" >&2; exit 1; }
	sleep 0.1
done
password=$(head -n1 "$demo/demo-password" | tr -d '\r\n' | xml_escape)
echo "bench: opencesd pid $server_pid on 127.0.0.1:$port"

# --- 2. requests ---------------------------------------------------------------
security="<o:Security s:mustUnderstand=\"1\" xmlns:o=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd\"><o:UsernameToken u:Id=\"uuid-2f0e1d6c-5d29-4f55-9a43-3b1c2b64e0f1-1\"><o:Username>demo</o:Username><o:Password o:Type=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText\">$password</o:Password></o:UsernameToken></o:Security>"

cat > "$tmp/getpolicies.xml" <<EOF
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing" xmlns:u="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"><s:Header><a:Action s:mustUnderstand="1">http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy/IPolicy/GetPolicies</a:Action><a:MessageID>urn:uuid:5fb5f6fd-4709-414b-8afa-0c05f6686d1c</a:MessageID><a:ReplyTo><a:Address>http://www.w3.org/2005/08/addressing/anonymous</a:Address></a:ReplyTo><a:To s:mustUnderstand="1">$cep_url</a:To>$security</s:Header><s:Body xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xs="http://www.w3.org/2001/XMLSchema"><GetPolicies xmlns="http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy"><client><lastUpdate>0001-01-01T00:00:00</lastUpdate><preferredLanguage xsi:nil="true"></preferredLanguage></client><requestFilter xsi:nil="true"></requestFilter></GetPolicies></s:Body></s:Envelope>
EOF

# A real CSR: RSA 2048, subject and SAN, template name in 1.3.6.1.4.1.311.20.2 (as certmonger does).
openssl req -new -newkey rsa:2048 -nodes -keyout "$tmp/leaf.key" -out "$tmp/leaf.csr" \
	-subj "/CN=bench.example.test" -addext "subjectAltName=DNS:bench.example.test" \
	-addext "1.3.6.1.4.1.311.20.2=ASN1:BMPSTRING:WebServer" 2>/dev/null
csr_b64=$(sed -e '/-----/d' "$tmp/leaf.csr")
{
	printf '%s' "<ns0:Envelope xmlns:ns0=\"http://www.w3.org/2003/05/soap-envelope\" xmlns:ns1=\"http://www.w3.org/2005/08/addressing\" xmlns:ns2=\"http://docs.oasis-open.org/ws-sx/ws-trust/200512\" xmlns:ns3=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd\" xmlns:ns4=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd\"><ns0:Header><ns1:Action ns0:mustUnderstand=\"1\">http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RST/wstep</ns1:Action><ns1:MessageID>urn:uuid:bc7ef851-2ddd-454a-af67-ca7ffab57d60</ns1:MessageID><ns1:To ns0:mustUnderstand=\"1\">$ces_url</ns1:To><ns3:Security ns0:mustUnderstand=\"1\"><ns3:UsernameToken><ns3:Username>demo</ns3:Username><ns3:Password ns3:Type=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText\">$password</ns3:Password><ns4:Created>2026-11-25T12:00:00Z</ns4:Created></ns3:UsernameToken></ns3:Security></ns0:Header><ns0:Body><ns2:RequestSecurityToken><ns2:TokenType>http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3</ns2:TokenType><ns2:RequestType>http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue</ns2:RequestType><ns3:BinarySecurityToken ValueType=\"http://schemas.microsoft.com/windows/pki/2009/01/enrollment#PKCS10\" EncodingType=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd#base64binary\" ns4:Id=\"\">"
	printf '%s' "$csr_b64"
	printf '%s' "</ns3:BinarySecurityToken></ns2:RequestSecurityToken></ns0:Body></ns0:Envelope>"
} > "$tmp/issue.xml"

check_once() {    # check_once NAME URL BODY EXPECTED_SUBSTRING
	local code
	code=$(curl -s -o "$tmp/$1.out" -w '%{http_code}' --max-time 30 --cacert "$demo/ca.pem" \
		-H 'Content-Type: application/soap+xml; charset=utf-8' --data-binary "@$3" "$2") || code=000
	if [[ $code != 200 ]] || ! grep -q "$4" "$tmp/$1.out"; then
		echo "bench: $1 answered $code, not a $4 (first 400 bytes below); skipping its series" >&2
		head -c 400 "$tmp/$1.out" >&2 || true
		echo >&2
		return 1
	fi
}
have_cep=1 have_ces=1
check_once getpolicies "$cep_url" "$tmp/getpolicies.xml" GetPoliciesResponse || have_cep=0
check_once issue "$ces_url" "$tmp/issue.xml" RequestSecurityTokenResponseCollection || have_ces=0

# --- 3. load -------------------------------------------------------------------
for c in $levels; do
	if ((have_cep)); then
		run_load "CEP GetPolicies" "$cep_url" "$tmp/getpolicies.xml" "$c" "$server_pid" --cafile "$demo/ca.pem"
	else
		results+=("| CEP GetPolicies | $c | not measured: no valid answer | | | | |")
	fi
done
for c in $levels; do
	if ((have_ces)); then
		run_load "CES Issue (RSA 2048 CA)" "$ces_url" "$tmp/issue.xml" "$c" "$server_pid" --cafile "$demo/ca.pem"
	else
		results+=("| CES Issue (RSA 2048 CA) | $c | not measured: no valid answer | | | | |")
	fi
done

# --- 4. raw signing speed --------------------------------------------------------
echo "bench: openssl speed (5 s per operation)"
speed_rsa=$(openssl speed -seconds 5 rsa2048 2>/dev/null | grep -E '^rsa 2048 bits' | tail -1 |
	awk '{printf "%s sign/s, %s verify/s", $(NF-1), $NF}' || true)
speed_ec=$(openssl speed -seconds 5 ecdsap256 2>/dev/null | grep -E '256 bits ecdsa' | tail -1 |
	awk '{printf "%s sign/s, %s verify/s", $(NF-1), $NF}' || true)
echo "  $speed_rsa"
echo "  $speed_ec"

# --- 5. cfssl ----------------------------------------------------------------------
cfssl_note="cfssl not installed (Debian package golang-cfssl): not measured"
if command -v cfssl >/dev/null 2>&1; then
	cport=$(free_port)
	openssl genrsa -traditional -out "$tmp/cfssl-ca-key.pem" 2048 2>/dev/null
	openssl req -x509 -new -key "$tmp/cfssl-ca-key.pem" -out "$tmp/cfssl-ca.pem" -days 30 \
		-subj "/CN=cfssl bench CA" -addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
	cat > "$tmp/cfssl-config.json" <<'EOF'
{"signing": {"default": {"expiry": "8760h", "usages": ["digital signature", "key encipherment", "server auth"]}}}
EOF
	cfssl serve -address 127.0.0.1 -port "$cport" -ca "$tmp/cfssl-ca.pem" -ca-key "$tmp/cfssl-ca-key.pem" \
		-config "$tmp/cfssl-config.json" > "$tmp/cfssl.log" 2>&1 &
	cfssl_pid=$!
	pids+=("$cfssl_pid")
	python3 -c 'import json,sys; print(json.dumps({"certificate_request": open(sys.argv[1]).read(), "hosts": ["bench.example.test"]}))' \
		"$tmp/leaf.csr" > "$tmp/cfssl-sign.json"
	for _ in $(seq 100); do
		curl -s --max-time 1 -o /dev/null "http://127.0.0.1:$cport/api/v1/cfssl/info" -d '{}' && break
		sleep 0.1
	done
	code=$(curl -s -o "$tmp/cfssl.out" -w '%{http_code}' --max-time 10 -H 'Content-Type: application/json' \
		--data-binary "@$tmp/cfssl-sign.json" "http://127.0.0.1:$cport/api/v1/cfssl/sign") || code=000
	if [[ $code == 200 ]] && grep -q '"success":true' "$tmp/cfssl.out"; then
		cfssl_note="cfssl $(cfssl version 2>/dev/null | sed -n 's/^Version: //p'), RSA 2048 CA, plain HTTP, no authentication"
		for c in $levels; do
			run_load "cfssl sign (RSA 2048 CA)" "http://127.0.0.1:$cport/api/v1/cfssl/sign" \
				"$tmp/cfssl-sign.json" "$c" "$cfssl_pid" --content-type application/json
		done
	else
		cfssl_note="cfssl serve did not sign (HTTP $code): not measured"
		head -c 400 "$tmp/cfssl.out" >&2 || true
	fi
fi

# --- report ------------------------------------------------------------------------
report=$build/bench/results.md
mkdir -p "$(dirname "$report")"
# every Issue answered 200 was a new certificate in the store (none replayed)
if [[ -n ${BENCH_STORE_URL:-} ]]; then
	stored=$("${PGBIN:-/usr/lib/postgresql/15/bin}/psql" -qtAX "$BENCH_STORE_URL" \
		-c 'SELECT count(*) FROM certificates' 2>/dev/null || echo "?")
else
	stored=$(sqlite3 "$demo/ca.db" 'SELECT count(*) FROM certificates' 2>/dev/null || echo "?")
fi
if [[ $stored != "?" ]] && ((stored < issued_ok)); then
	echo "bench: $issued_ok Issue answers but only $stored certificates stored" >&2
	exit 1
fi
{
	echo "## OpenCES bench, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPU(s), ${seconds} s per row"
	echo
	echo "opencesd $("$opencesd" --version 2>/dev/null | awk '{print $2}'), $(openssl version | awk '{print $1, $2}'), kernel $(uname -r)"
	echo
	echo "| what | concurrency | requests/s | p50 ms | p99 ms | errors | server peak RSS kB |"
	echo "|---|---|---|---|---|---|---|"
	printf '%s\n' "${results[@]}"
	echo
	echo "- certificates issued during the Issue series (each one signed and stored durably before the answer): $issued_ok; certificates in the store: $stored"
	echo "- openssl speed rsa2048: ${speed_rsa:-n/a}"
	echo "- openssl speed ecdsap256: ${speed_ec:-n/a}"
	echo "- cfssl: $cfssl_note"
} > "$report"
echo
cat "$report"
echo
echo "bench: report written to $report"
