#!/usr/bin/env bash
# Roles and the CA link (src/calink): a `roles = ca` opencesd on 127.0.0.21 and a
# `roles = front` opencesd on 127.0.0.11, each with its own configuration, the link
# over mutual TLS with certificates from a link CA made here with the openssl CLI
# (as README "Front ends and CA nodes on separate hosts" tells an operator).
#   - `opences enroll` through the front gets a certificate that is in the CA's store;
#     the front host holds no CA key
#   - a front end with a certificate of another CA is refused (the enrollment fails
#     with a fault, the CA's log and audit log show the refusal); so is a trusted
#     front end that is not in the allow list
#   - two CA nodes (the same CA key and certificate, each its own SQLite store): the
#     first killed with SIGKILL, the front moves to the second and enrollments go on
. "$(dirname "$0")/lib.sh"

FRONT_IP=127.0.0.11
NODE1_IP=127.0.0.21
NODE2_IP=127.0.0.22

PORT=$(free_port)
D=$T/demo
start_demo "$D" "$PORT"
stop_pid "$DEMO_PID"
POLICY_ID=$(sed -n 's/^id = //p' "$D/opencesd.conf")

# ---- the link PKI ----------------------------------------------------------
P=$T/pki
mkdir -p "$P"
ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
mkca() { # NAME CN
	ec "$P/$1.key"
	openssl req -x509 -new -key "$P/$1.key" -subj "/CN=$2" -days 30 \
	    -addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign \
	    -out "$P/$1.pem" 2>/dev/null
}
leaf() { # NAME CN ISSUER EXT [CAKEY]
	ec "$P/$1.key"
	openssl req -new -key "$P/$1.key" -subj "/CN=$2" -out "$P/$1.csr" 2>/dev/null
	printf '%s\n' "$4" >"$P/$1.ext"
	openssl x509 -req -in "$P/$1.csr" -CA "$3.pem" -CAkey "${5:-$3.key}" -CAcreateserial \
	    -days 30 -extfile "$P/$1.ext" -out "$P/$1.pem" 2>/dev/null
}
mkca linkca "OpenCES link CA"
mkca rogueca "Some other CA"
leaf node1 ca-node1.example.test "$P/linkca" "subjectAltName=IP:$NODE1_IP
extendedKeyUsage=serverAuth"
leaf node2 ca-node2.example.test "$P/linkca" "subjectAltName=IP:$NODE2_IP
extendedKeyUsage=serverAuth"
leaf front-a front-a.example.test "$P/linkca" "extendedKeyUsage=clientAuth"
leaf front-b front-b.example.test "$P/linkca" "extendedKeyUsage=clientAuth"
leaf rogue front-a.example.test "$P/rogueca" "extendedKeyUsage=clientAuth"
# the front's HTTPS certificate, from the demo CA the clients trust
leaf https front.example.test "$D/ca" "subjectAltName=IP:$FRONT_IP,DNS:localhost"
[ -s "$P/https.pem" ] && [ -s "$P/rogue.pem" ] || die "link PKI not made"

# ---- a CA node -------------------------------------------------------------
# ca_node DIR IP PORT NAME: the demo's CA key, certificate, directory and store, copied
ca_node() {
	local dir=$1 ip=$2 port=$3 name=$4
	mkdir -p "$dir"
	cp "$D/ca.key" "$D/ca.pem" "$D/directory.db" "$D/ca.db" "$dir/"
	cp "$P/$name.pem" "$dir/link.pem"
	cp "$P/$name.key" "$dir/link.key"
	cp "$P/linkca.pem" "$dir/fronts-ca.pem"
	cat >"$dir/opencesd.conf" <<CONF
[server]
roles = ca
audit_log = audit.log

[ca]
name = OpenCES Demo CA
key = ca.key
cert = ca.pem

[store]
path = ca.db

[directory]
path = directory.db

[ca_link]
listen = $ip:$port
tls_cert = link.pem
tls_key = link.key
client_ca = fronts-ca.pem
allow = front-a.example.test
CONF
}

start_node() { # DIR LOG -> NODE_PID
	local dir=$1 log=$2 i
	"$OPENCESD" serve --config "$dir/opencesd.conf" >"$log" 2>&1 &
	NODE_PID=$!
	OC_PIDS+=("$NODE_PID")
	for i in $(seq 1 300); do
		grep -q "calink: listening" "$log" 2>/dev/null && grep -q 'CA ".*" ready' "$log" && return 0
		kill -0 "$NODE_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$log" >&2
	die "CA node $dir did not start"
}

# ---- a front end -------------------------------------------------------------
# front DIR PORT CLIENT NODE... : roles = front, its own directory copy, no CA key
front() {
	local dir=$1 port=$2 client=$3
	shift 3
	mkdir -p "$dir"
	cp "$D/ca.pem" "$D/directory.db" "$dir/"
	cp "$P/https.pem" "$P/https.key" "$dir/"
	cp "$P/$client.pem" "$dir/link-client.pem"
	cp "$P/$client.key" "$dir/link-client.key"
	cp "$P/linkca.pem" "$dir/nodes-ca.pem"
	cat >"$dir/opencesd.conf" <<CONF
[server]
roles = front
listen = $FRONT_IP:$port
public_url = https://$FRONT_IP:$port
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
friendly_name = OpenCES link test

[endpoint]
service = cep
auth = password

[endpoint]
service = ces
auth = password
priority = 1

[ca_link]
client_cert = link-client.pem
client_key = link-client.key
server_ca = nodes-ca.pem
connect_timeout = 2
CONF
	for n in "$@"; do
		printf '\n[ca_node]\naddress = %s\n' "$n" >>"$dir/opencesd.conf"
	done
}

enroll() { # FRONTPORT OUTDIR CN
	local port=$1 out=$2 cn=$3
	mkdir -p "$out"
	"$OPENCES" enroll --policy-url "https://$FRONT_IP:$port$CEP_PATH" --auth password \
	    --user demo --password-file "$D/demo-password" --template WebServer \
	    --ca-file "$D/ca.pem" --subject "CN=$cn" --dns "$cn" --connect-timeout 5 --timeout 30 \
	    --key-out "$out/key.pem" --cert-out "$out/cert.pem" >"$out/log" 2>&1
}

serial_of() {
	openssl x509 -in "$1" -noout -serial | sed 's/^serial=//'
}

in_store() { # NODEDIR CERT
	"$OPENCESD" --config "$1/opencesd.conf" cert show "$(serial_of "$2")" >/dev/null 2>&1
}

# ---- configurations refused ------------------------------------------------------
badconf() { # NAME SED-EXPRESSION DIR EXPECTED-LOG
	sed -e "$2" "$3/opencesd.conf" >"$3/$1.conf"
	if "$OPENCESD" init --config "$3/$1.conf" >"$T/$1.log" 2>&1; then
		fail "config $1 accepted"
	elif grep -q -- "$4" "$T/$1.log"; then pass "config $1 refused"
	else fail "config $1: $(cat "$T/$1.log")"; fi
}
ca_node "$T/cfg-node" "$NODE1_IP" 1 node1
front "$T/cfg-front" 1 front-a "$NODE1_IP:1"
badconf roles-unknown 's/^roles = ca$/roles = ca, backup/' "$T/cfg-node" "invalid line"
badconf node-no-allow '/^allow = /d' "$T/cfg-node" "roles = ca: missing"
badconf front-no-node '/^address = /d' "$T/cfg-front" "roles = front: missing"
badconf front-bad-timeout 's/^connect_timeout = 2$/connect_timeout = 0/' "$T/cfg-front" "invalid line"
badconf unknown-link-key 's/^server_ca = /server_ca_file = /' "$T/cfg-front" "invalid line"

# ---- one CA node, one front end ------------------------------------------------
LPORT=$(free_port)
N1=$T/node1
ca_node "$N1" "$NODE1_IP" "$LPORT" node1
start_node "$N1" "$T/node1.log"
N1_PID=$NODE_PID

FPORT=$(free_port)
F=$T/front
front "$F" "$FPORT" front-a "$NODE1_IP:$LPORT"
start_serve "$F/opencesd.conf" "$T/front.log" "https://$FRONT_IP:$FPORT" "$D/ca.pem"
F_PID=$SERVE_PID
[ ! -e "$F/ca.key" ] && ! grep -q '^key' "$F/opencesd.conf" && pass "the front host has no CA key" \
    || fail "a CA key on the front host"

if enroll "$FPORT" "$T/e1" one.example.test; then
	pass "enrolled through the front end and the link"
else fail "enroll through the link: exit $?"; cat "$T/e1/log" "$T/front.log" >&2; fi
openssl verify -CAfile "$D/ca.pem" "$T/e1/cert.pem" >/dev/null 2>&1 \
    && pass "certificate verifies" || fail "certificate does not verify"
in_store "$N1" "$T/e1/cert.pem" && pass "the certificate is in the CA node's store" \
    || fail "certificate $(serial_of "$T/e1/cert.pem") not in the CA node's store"
grep -q "calink: front end CN=front-a.example.test connected" "$T/node1.log" \
    && pass "CA node logged the front end" || fail "no connection logged by the CA node"
grep -q '"method":"ca_link"' "$N1/audit.log" && pass "front end's link authentication audited" \
    || fail "no ca_link audit record: $(cat "$N1/audit.log" 2>/dev/null | tail -2)"

# ---- refused front ends ----------------------------------------------------------
refused() { # NAME CLIENT EXPECTED-REASON
	local name=$1 client=$2 reason=$3 port rc
	port=$(free_port)
	front "$T/$name" "$port" "$client" "$NODE1_IP:$LPORT"
	start_serve "$T/$name/opencesd.conf" "$T/$name.log" "https://$FRONT_IP:$port" "$D/ca.pem"
	set +e
	enroll "$port" "$T/$name-e" "$name.example.test"
	rc=$?
	set -e
	[ "$rc" != 0 ] && [ ! -s "$T/$name-e/cert.pem" ] && pass "$name: enrollment fails (exit $rc)" \
	    || fail "$name: enrolled (exit $rc)"
	grep -qi -e fault -e unavailable -e "not available" -e 503 "$T/$name-e/log" \
	    && pass "$name: the client got a fault" || fail "$name: client log: $(tail -3 "$T/$name-e/log")"
	grep -q "calink: refused front end CN=front-.\.example\.test from [0-9.]*:[0-9]*: $reason" \
	    "$T/node1.log" && pass "$name: the CA node logged the refusal ($reason)" \
	    || { fail "$name: no refusal in the CA log"; grep calink "$T/node1.log" >&2; }
	stop_pid "$SERVE_PID"
}
refused rogue rogue "unable to get local issuer certificate"
refused unlisted front-b "not allowed"
grep -q '"deny".*"ca_link"' "$N1/audit.log" && pass "refusals audited" \
    || fail "no deny record in the CA node's audit log"

# ---- two CA nodes; the first killed ------------------------------------------------
LPORT2=$(free_port)
N2=$T/node2
ca_node "$N2" "$NODE2_IP" "$LPORT2" node2
start_node "$N2" "$T/node2.log"
stop_pid "$F_PID"
front "$F" "$FPORT" front-a "$NODE1_IP:$LPORT" "$NODE2_IP:$LPORT2"
start_serve "$F/opencesd.conf" "$T/front2.log" "https://$FRONT_IP:$FPORT" "$D/ca.pem"
enroll "$FPORT" "$T/e2" two.example.test && in_store "$N1" "$T/e2/cert.pem" \
    && pass "first node preferred" || { fail "enroll through node 1"; cat "$T/e2/log" >&2; }

kill -KILL "$N1_PID"
wait "$N1_PID" 2>/dev/null || true
ok=0
for i in 1 2 3; do
	if enroll "$FPORT" "$T/k$i" "k$i.example.test" && in_store "$N2" "$T/k$i/cert.pem"; then
		ok=$((ok + 1))
	else cat "$T/k$i/log" >&2; fi
done
[ "$ok" = 3 ] && pass "node 1 killed: 3 enrollments through node 2" \
    || fail "after SIGKILL of node 1: $ok of 3 enrollments through node 2"
grep -q "calink: CA node $NODE1_IP:$LPORT" "$T/front2.log" \
    && pass "the front logged the lost node" || fail "no failover logged"
! in_store "$N2" "$T/e2/cert.pem" && pass "each node its own store" || fail "stores shared?"
finish
