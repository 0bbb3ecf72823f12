#!/usr/bin/env bash
# Faults with several front ends and CA nodes: two front ends (127.0.0.11, .12,
# `roles = front`) and two CA nodes (127.0.0.21, .22, `roles = ca`) sharing one
# PostgreSQL store (tests/lib/postgres.sh) and one CA key in a SoftHSM2 token
# (tests/lib/softhsm.sh). Both fronts prefer node 1 and publish each other's CES URI
# at the same priority. 4 clients enroll 12 times each; mid-run front 1 and node 1
# are killed with SIGKILL, then restarted. Afterwards:
#   - every client finished (through failover: a client retries a failed enrollment)
#   - every certificate a client received is in the database exactly once, no serial
#     twice, and `opencesd store check` passes
#   - the restarted front and node serve again (enrollments with the other stopped)
. "$(dirname "$0")/lib.sh"

F1_IP=127.0.0.11
F2_IP=127.0.0.12
N1_IP=127.0.0.21
N2_IP=127.0.0.22
CLIENTS=4
PER_CLIENT=12
MOD=/usr/lib/softhsm/libsofthsm2.so

# ---- peers: PostgreSQL and the token ----------------------------------------
# the server runs as user postgres when we are root: its directory must be reachable
PGDIR=$(mktemp -d "${TMPDIR:-/tmp}/oc-pg.XXXXXX")
chmod 0755 "$PGDIR"
stop_all() {
	local p
	for p in "${OC_PIDS[@]:-}"; do [ -n "$p" ] && kill -TERM "$p" 2>/dev/null || true; done
	for p in "${OC_PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
	bash "$OC_SOURCE_DIR/tests/lib/postgres.sh" stop "$PGDIR" || true
	rm -rf "$PGDIR"
	cleanup
}
trap stop_all EXIT
bash "$OC_SOURCE_DIR/tests/lib/postgres.sh" start "$PGDIR" "$(free_port)" \
    || die "PostgreSQL did not start"
PGURL=$(bash "$OC_SOURCE_DIR/tests/lib/postgres.sh" url "$PGDIR") || die "no database"
sql() { "${PGBIN:-/usr/lib/postgresql/15/bin}/psql" -qtAX "$PGURL" -c "$1"; }

set +e
bash "$OC_SOURCE_DIR/tests/lib/softhsm.sh" "$T/hsm" opences 58203917
rc=$?
set -e
[ "$rc" = 0 ] || die "softhsm.sh exit $rc (softhsm2 missing?)"
export SOFTHSM2_CONF=$T/hsm/softhsm2.conf
KEYURI="pkcs11:token=opences;object=ca-key;type=private?module-path=$MOD&pin-source=file:$T/hsm/pin"

# the demo's directory (templates, account "demo") and its CA for the HTTPS certificates
PORT=$(free_port)
D=$T/demo
start_demo "$D" "$PORT"
stop_pid "$DEMO_PID"
POLICY_ID=$(sed -n 's/^id = //p' "$D/opencesd.conf")

# ---- certificates: link PKI, HTTPS for both fronts ---------------------------------
P=$T/pki
mkdir -p "$P"
ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
leaf() { # NAME CN ISSUER EXT
	ec "$P/$1.key"
	openssl req -new -key "$P/$1.key" -subj "/CN=$2" -out "$P/$1.csr" 2>/dev/null
	printf '%s\n' "$4" >"$P/$1.ext"
	openssl x509 -req -in "$P/$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial \
	    -days 30 -extfile "$P/$1.ext" -out "$P/$1.pem" 2>/dev/null
}
ec "$P/linkca.key"
openssl req -x509 -new -key "$P/linkca.key" -subj "/CN=OpenCES link CA" -days 30 \
    -addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign \
    -out "$P/linkca.pem" 2>/dev/null
leaf node1 ca1 "$P/linkca" "subjectAltName=IP:$N1_IP"
leaf node2 ca2 "$P/linkca" "subjectAltName=IP:$N2_IP"
leaf front1 front1 "$P/linkca" "extendedKeyUsage=clientAuth"
leaf front2 front2 "$P/linkca" "extendedKeyUsage=clientAuth"
leaf https fronts.example.test "$D/ca" "subjectAltName=IP:$F1_IP,IP:$F2_IP"
[ -s "$P/https.pem" ] && [ -s "$P/front2.pem" ] || die "certificates not made"

# ---- CA nodes ------------------------------------------------------------------------
LPORT1=$(free_port)
LPORT2=$(free_port)
ca_node() { # DIR IP PORT LINKNAME
	local dir=$1
	mkdir -p "$dir"
	cp "$D/directory.db" "$dir/"
	cp "$P/$4.pem" "$dir/link.pem"
	cp "$P/$4.key" "$dir/link.key"
	cp "$P/linkca.pem" "$dir/fronts-ca.pem"
	cat >"$dir/opencesd.conf" <<CONF
[server]
roles = ca
audit_log = audit.log

[ca]
name = OpenCES Demo CA
key = $KEYURI
cert = $T/hsm-ca.pem

[store]
url = $PGURL

[directory]
path = directory.db

[ca_link]
listen = $2:$3
tls_cert = link.pem
tls_key = link.key
client_ca = fronts-ca.pem
allow = front1
allow = front2
CONF
}
start_node() { # DIR LOG -> NODE_PID
	local i
	"$OPENCESD" serve --config "$1/opencesd.conf" >"$2" 2>&1 &
	NODE_PID=$!
	OC_PIDS+=("$NODE_PID")
	for i in $(seq 1 300); do
		grep -q "calink: listening" "$2" 2>/dev/null && grep -q 'CA ".*" ready' "$2" && return 0
		kill -0 "$NODE_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$2" >&2
	die "CA node $1 did not start"
}
N1=$T/node1
N2=$T/node2
ca_node "$N1" "$N1_IP" "$LPORT1" node1
ca_node "$N2" "$N2_IP" "$LPORT2" node2
# node 1 first: it generates the key in the token and the CA certificate node 2 uses
start_node "$N1" "$T/node1.log"
N1_PID=$NODE_PID
[ -s "$T/hsm-ca.pem" ] || die "no CA certificate"
start_node "$N2" "$T/node2.log"
N2_PID=$NODE_PID
cat "$D/ca.pem" "$T/hsm-ca.pem" >"$T/trust.pem"

# ---- front ends ----------------------------------------------------------------------
FPORT1=$(free_port)
FPORT2=$(free_port)
front() { # DIR IP PORT LINKNAME OTHER-CES-URI
	local dir=$1
	mkdir -p "$dir"
	cp "$D/directory.db" "$P/https.pem" "$P/https.key" "$dir/"
	cp "$T/hsm-ca.pem" "$dir/ca.pem"
	cp "$P/$4.pem" "$dir/link-client.pem"
	cp "$P/$4.key" "$dir/link-client.key"
	cp "$P/linkca.pem" "$dir/nodes-ca.pem"
	cat >"$dir/opencesd.conf" <<CONF
[server]
roles = front
listen = $2:$3
public_url = https://$2:$3
tls_cert = https.pem
tls_key = https.key
audit_log = audit.log

[ca]
name = OpenCES Demo CA
cert = ca.pem

[directory]
path = directory.db

[policy]
id = $POLICY_ID
friendly_name = OpenCES fault test

[endpoint]
service = cep
auth = password

[endpoint]
service = ces
auth = password
priority = 1

[publish]
uri = $5
auth = password
priority = 1

[ca_link]
client_cert = link-client.pem
client_key = link-client.key
server_ca = nodes-ca.pem
connect_timeout = 2
retry_seconds = 5

[ca_node]
address = $N1_IP:$LPORT1
address = $N2_IP:$LPORT2
CONF
}
F1=$T/front1
F2=$T/front2
front "$F1" "$F1_IP" "$FPORT1" front1 "https://$F2_IP:$FPORT2$CES_PATH"
front "$F2" "$F2_IP" "$FPORT2" front2 "https://$F1_IP:$FPORT1$CES_PATH"
start_serve "$F1/opencesd.conf" "$T/front1.log" "https://$F1_IP:$FPORT1" "$D/ca.pem"
F1_PID=$SERVE_PID
start_serve "$F2/opencesd.conf" "$T/front2.log" "https://$F2_IP:$FPORT2" "$D/ca.pem"
F2_PID=$SERVE_PID
CEP1="https://$F1_IP:$FPORT1$CEP_PATH"
CEP2="https://$F2_IP:$FPORT2$CEP_PATH"

enroll() { # OUTDIR CN CEP-URL...
	local out=$1 cn=$2
	shift 2
	local urls=()
	for u in "$@"; do urls+=(--policy-url "$u"); done
	mkdir -p "$out"
	"$OPENCES" enroll "${urls[@]}" --auth password --user demo \
	    --password-file "$D/demo-password" --template WebServer --ca-file "$T/trust.pem" \
	    --subject "CN=$cn" --dns "$cn" --connect-timeout 2 --timeout 20 \
	    --key-out "$out/key.pem" --cert-out "$out/cert.pem" >>"$out/log" 2>&1
}

# ---- the load, and the faults ----------------------------------------------------------
client() { # ID
	local id=$1 i a
	for i in $(seq 1 "$PER_CLIENT"); do
		for a in 1 2 3 4 5; do
			enroll "$T/c$id/$i" "c$id-$i.example.test" "$CEP1" "$CEP2" && break
			echo "attempt $a failed" >>"$T/c$id/retries"
			sleep 1
		done
	done
}
start=$(date +%s)
CPIDS=()
for c in $(seq 1 "$CLIENTS"); do
	mkdir -p "$T/c$c"
	client "$c" &
	CPIDS+=($!)
done
issued() { ls "$T"/c*/*/cert.pem 2>/dev/null | wc -l; }
for i in $(seq 1 600); do
	[ "$(issued)" -ge 12 ] && break
	sleep 0.1
done
[ "$(issued)" -ge 12 ] || die "the load did not start: $(cat "$T"/c1/1/log 2>/dev/null | tail -5)"
kill -KILL "$F1_PID" "$N1_PID"
wait "$F1_PID" 2>/dev/null || true
wait "$N1_PID" 2>/dev/null || true
pass "front 1 and node 1 killed with SIGKILL after $(issued) enrollments"
sleep 3
start_node "$N1" "$T/node1-again.log"
N1_PID=$NODE_PID
start_serve "$F1/opencesd.conf" "$T/front1-again.log" "https://$F1_IP:$FPORT1" "$D/ca.pem"
F1_PID=$SERVE_PID
pass "front 1 and node 1 restarted"
for p in "${CPIDS[@]}"; do wait "$p" || true; done
echo "load: $(( $(date +%s) - start )) s, $(cat "$T"/c*/retries 2>/dev/null | wc -l) retried enrollments"

# ---- afterwards ----------------------------------------------------------------------
total=$((CLIENTS * PER_CLIENT))
[ "$(issued)" = "$total" ] && pass "every client finished: $total certificates" \
    || { fail "$(issued) of $total certificates"; tail -5 "$T"/c*/*/log >&2 || true; }
: >"$T/serials"
missing=0
for f in "$T"/c*/*/cert.pem; do
	s=$(openssl x509 -in "$f" -noout -serial | sed 's/^serial=//' | tr 'A-F' 'a-f')
	echo "$s" >>"$T/serials"
	n=$(sql "SELECT count(*) FROM certificates WHERE serial = '$s'
	    AND der = decode('$(openssl x509 -in "$f" -outform DER | od -An -tx1 -v | tr -d ' \n')', 'hex')")
	[ "$n" = 1 ] || { missing=$((missing + 1)); echo "serial $s: $n rows" >&2; }
done
[ "$missing" = 0 ] && pass "every received certificate is in the database exactly once" \
    || fail "$missing received certificates not in the database exactly once"
[ -z "$(sort "$T/serials" | uniq -d)" ] && pass "no serial received twice" || fail "a serial twice"
[ "$(sql "SELECT count(*) - count(DISTINCT serial) FROM certificates")" = 0 ] \
    && pass "no serial twice in the database" || fail "serials repeated in the database"
ncerts=$(sql "SELECT count(*) FROM certificates")
retries=$(cat "$T"/c*/retries 2>/dev/null | wc -l || true)
echo "database: $ncerts certificates, $(sql "SELECT count(*) FROM requests") requests"
# an order re-sent to node 2 after node 1 died is answered from the store, not issued again;
# only a client's own retry (its front end died under it) may leave a certificate it never got
[ "$ncerts" -le $((total + retries)) ] && pass "no order issued twice ($ncerts certificates, $retries client retries)" \
    || fail "$ncerts certificates for $total enrollments and $retries client retries"
"$OPENCESD" --config "$N1/opencesd.conf" store check >"$T/check.out" 2>&1 \
    && pass "store check passes" || { fail "store check"; cat "$T/check.out" >&2; }
grep -q "calink: CA node $N1_IP:$LPORT1" "$T/front2.log" \
    && pass "front 2 lost node 1 and moved on" || fail "front 2 did not log the lost node"
echo "front 2: $(grep -h "sent again" "$T/front2.log" | sed 's/.*calink: //' | head -3)"

# the restarted node serves: node 2 stopped, an enrollment through either front
stop_pid "$N2_PID"
enroll "$T/after-n1" after-n1.example.test "$CEP1" "$CEP2" && in=$(openssl x509 \
    -in "$T/after-n1/cert.pem" -noout -serial | sed 's/^serial=//' | tr 'A-F' 'a-f') \
    && [ "$(sql "SELECT count(*) FROM certificates WHERE serial = '$in'")" = 1 ] \
    && pass "restarted node 1 serves (node 2 stopped)" \
    || { fail "no enrollment through the restarted node 1"; cat "$T/after-n1/log" >&2; }
# the restarted front serves: front 2 stopped
stop_pid "$F2_PID"
enroll "$T/after-f1" after-f1.example.test "$CEP1" \
    && openssl verify -CAfile "$T/hsm-ca.pem" "$T/after-f1/cert.pem" >/dev/null 2>&1 \
    && pass "restarted front 1 serves (front 2 stopped)" \
    || { fail "no enrollment through the restarted front 1"; cat "$T/after-f1/log" >&2; }
echo "total: $(( $(date +%s) - start )) s"
finish
