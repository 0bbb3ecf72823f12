#!/usr/bin/env bash
# End to end on loopback: `opences renew` against `opencesd demo` (wstep.md 5.6).
# Enroll WebServer, renew it with the same key and with --new-key: the new
# certificate verifies against the CA, keeps subject, template and SAN, gets a
# new serial and the key asked for. Refused with exit 2: a certificate whose key
# was replaced (same issuer name and serial, signed by an impostor CA) and a
# self-signed certificate naming the template. Then `opencesd serve` with a
# renewal-only CES URI published: renew tries it first (failover from a dead
# renewal-only URI included), enroll never uses it.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
D=$T/demo
start_demo "$D" "$PORT"
URL="https://127.0.0.1:$PORT$CEP_PATH"
CES_URL="https://127.0.0.1:$PORT$CES_PATH"

common() { # the credentials and trust every command needs
	echo --policy-url "$URL" --auth password --user demo --password-file "$D/demo-password" \
	    --ca-file "$D/ca.pem"
}
# shellcheck disable=SC2046
enroll() { # outdir [extra args]
	local out=$1
	shift
	mkdir -p "$out"
	"$OPENCES" enroll $(common) --template WebServer --subject CN=host.example.test \
	    --dns host.example.test --dns www.example.test \
	    --key-out "$out/key.pem" --cert-out "$out/cert.pem" "$@" >"$out/log" 2>&1
}
# shellcheck disable=SC2046
renew() { # cert key outdir [extra args]
	local cert=$1 key=$2 out=$3
	shift 3
	mkdir -p "$out"
	"$OPENCES" renew $(common) --cert "$cert" --key "$key" \
	    --key-out "$out/key.pem" --cert-out "$out/cert.pem" "$@" >"$out/log" 2>&1
}
pub() { openssl pkey -in "$1" -pubout 2>/dev/null | sha256sum; }
cert_pub() { openssl x509 -in "$1" -noout -pubkey | sha256sum; }
serial() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
subject() { openssl x509 -in "$1" -noout -subject -nameopt RFC2253; }
san() { openssl x509 -in "$1" -noout -ext subjectAltName | tail -n +2 | tr -d ' '; }
# the template extension (20.2, BMPString "WebServer") as hex DER
tpl_ext() {
	openssl x509 -in "$1" -outform DER | openssl asn1parse -inform DER 2>/dev/null \
	    | grep -A1 ':1.3.6.1.4.1.311.20.2' | tail -1 | sed 's/.*\[HEX DUMP\]://'
}

if enroll "$T/orig"; then pass "WebServer enrolled"; else
	cat "$T/orig/log" >&2; die "enroll exit $?"; fi
ORIG=$T/orig

# renewal: same key, then a new key
while IFS='|' read -r name args keysame; do
	[ -z "$name" ] && continue
	out=$T/$name
	# shellcheck disable=SC2086
	if renew "$ORIG/cert.pem" "$ORIG/key.pem" "$out" $args; then pass "$name: renewed"; else
		fail "$name: renew exit $?"; cat "$out/log" >&2; continue; fi
	openssl verify -CAfile "$D/ca.pem" "$out/cert.pem" >/dev/null 2>&1 \
	    && pass "$name: verifies against the CA" || fail "$name: does not verify"
	[ "$(subject "$out/cert.pem")" = "$(subject "$ORIG/cert.pem")" ] \
	    && pass "$name: same subject" || fail "$name: subject $(subject "$out/cert.pem")"
	[ "$(san "$out/cert.pem")" = "$(san "$ORIG/cert.pem")" ] && [ -n "$(san "$ORIG/cert.pem")" ] \
	    && pass "$name: same SAN $(san "$out/cert.pem")" || fail "$name: SAN $(san "$out/cert.pem")"
	[ -n "$(tpl_ext "$ORIG/cert.pem")" ] && [ "$(tpl_ext "$out/cert.pem")" = "$(tpl_ext "$ORIG/cert.pem")" ] \
	    && pass "$name: same template extension" || fail "$name: template extension differs"
	grep -q 'template=WebServer' "$out/log" && pass "$name: summary names WebServer" \
	    || fail "$name: summary: $(cat "$out/log")"
	[ "$(serial "$out/cert.pem")" != "$(serial "$ORIG/cert.pem")" ] \
	    && pass "$name: new serial" || fail "$name: same serial"
	[ "$(cert_pub "$out/cert.pem")" = "$(pub "$out/key.pem")" ] \
	    && pass "$name: key-out matches the certificate" || fail "$name: key-out does not match"
	[ "$(stat -c %a "$out/key.pem")" = 600 ] && pass "$name: key mode 600" || fail "$name: key mode"
	if [ "$keysame" = same ]; then
		[ "$(pub "$out/key.pem")" = "$(pub "$ORIG/key.pem")" ] \
		    && pass "$name: same public key" || fail "$name: the key changed"
	else
		[ "$(pub "$out/key.pem")" != "$(pub "$ORIG/key.pem")" ] \
		    && pass "$name: new public key" || fail "$name: the key did not change"
	fi
done <<'TABLE'
same-key||same
new-key|--new-key|new
TABLE

# A renewed certificate renews again (the chain of renewals goes on).
if renew "$T/new-key/cert.pem" "$T/new-key/key.pem" "$T/again"; then
	pass "a renewed certificate renews again"
else fail "renewing the renewed certificate: exit $?"; cat "$T/again/log" >&2; fi

# Refusals by the CA (exit 2): the key of the certificate replaced ...
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/fakeca.key" -out "$T/fakeca.pem" \
    -subj "/CN=OpenCES Demo CA" -days 30 2>/dev/null
[ "$(subject "$T/fakeca.pem" | sed 's/^subject=//')" = "$(openssl x509 -in "$D/ca.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')" ] \
    || die "impostor CA name differs from the demo CA's"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/wrong.key" 2>/dev/null
openssl x509 -x509toreq -in "$ORIG/cert.pem" -key "$T/wrong.key" -copy_extensions copy \
    -out "$T/wrong.csr" 2>/dev/null
openssl x509 -req -in "$T/wrong.csr" -CA "$T/fakeca.pem" -CAkey "$T/fakeca.key" \
    -set_serial "0x$(serial "$ORIG/cert.pem")" -copy_extensions copy -days 30 \
    -out "$T/wrong.pem" 2>/dev/null
[ "$(serial "$T/wrong.pem")" = "$(serial "$ORIG/cert.pem")" ] || die "forged serial differs"
# ... and a self-signed certificate that names the template
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/self.key" -out "$T/self.pem" \
    -subj /CN=host.example.test -days 30 -addext "subjectAltName=DNS:host.example.test" \
    -addext "1.3.6.1.4.1.311.20.2=ASN1:BMPSTRING:WebServer" 2>/dev/null
while IFS='|' read -r name cert key why; do
	[ -z "$name" ] && continue
	set +e
	renew "$cert" "$key" "$T/$name"
	rc=$?
	set -e
	[ "$rc" = 2 ] && pass "$name: refused, exit 2" || { fail "$name: exit $rc"; cat "$T/$name/log" >&2; }
	grep -q "$why" "$T/$name/log" && pass "$name: the CA says why" || fail "$name: $(cat "$T/$name/log")"
	[ ! -e "$T/$name/cert.pem" ] && pass "$name: no certificate written" || fail "$name: cert written"
done <<TABLE
replaced-key|$T/wrong.pem|$T/wrong.key|not issued by this CA
other-ca|$T/self.pem|$T/self.key|not issued by this CA
TABLE

# Refused by the client before anything is sent (exit 1): key of another certificate.
set +e
renew "$ORIG/cert.pem" "$T/wrong.key" "$T/mismatch"
rc=$?
set -e
[ "$rc" = 1 ] && grep -q 'does not belong' "$T/mismatch/log" \
    && pass "key not of the certificate: exit 1" || fail "mismatch: exit $rc $(cat "$T/mismatch/log")"
# A certificate that names no template of the policy: exit 3.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/nt.key" -out "$T/nt.pem" -subj /CN=x \
    -days 30 2>/dev/null
set +e
renew "$T/nt.pem" "$T/nt.key" "$T/notpl"
rc=$?
set -e
[ "$rc" = 3 ] && pass "no template in the certificate: exit 3" || fail "no template: exit $rc"

# Renewal-only URI: `opencesd serve` on the demo's files with two [publish]ed
# renewal-only URIs for the same CES path: a dead one (priority 1) and the
# live one under the name localhost (priority 2, worse than the normal URI's 1).
stop_pid "$DEMO_PID"
PORT2=$(free_port)
DEAD=$(free_port)
RO_URL="https://localhost:$PORT2$CES_PATH"
DEAD_URL="https://127.0.0.1:$DEAD$CES_PATH"
sed "s/127\.0\.0\.1:$PORT/127.0.0.1:$PORT2/g" "$D/opencesd.conf" >"$D/renew.conf"
cat >>"$D/renew.conf" <<EOF

[publish]
uri = $RO_URL
auth = password
priority = 2
renewal_only = true

[publish]
uri = $DEAD_URL
auth = password
priority = 1
renewal_only = true
EOF
start_serve "$D/renew.conf" "$T/serve.log" "https://127.0.0.1:$PORT2" "$D/ca.pem"
URL="https://127.0.0.1:$PORT2$CEP_PATH"
CES_URL="https://127.0.0.1:$PORT2$CES_PATH"

if renew "$ORIG/cert.pem" "$ORIG/key.pem" "$T/ro" -v --connect-timeout 2; then
	pass "renew with renewal-only URIs published"
else fail "renew (renewal-only): exit $?"; cat "$T/ro/log" >&2; fi
posts=$(grep -o 'POST [^ ]*/CES' "$T/ro/log" | sed 's/^POST //' || true)
[ "$(echo "$posts" | sed -n 1p)" = "$DEAD_URL" ] && pass "renew tries the renewal-only URIs first" \
    || fail "renew's first CES URI: $(echo "$posts" | sed -n 1p)"
[ "$(echo "$posts" | sed -n 2p)" = "$RO_URL" ] && [ "$(echo "$posts" | wc -l)" = 2 ] \
    && pass "renew fails over to the next renewal-only URI, which issues" \
    || fail "renew's CES URIs: $(echo "$posts" | tr '\n' ' ')"
grep -q "uri=$RO_URL" "$T/ro/log" && pass "issued through the renewal-only URI" \
    || fail "summary: $(grep issued "$T/ro/log")"
openssl verify -CAfile "$D/ca.pem" "$T/ro/cert.pem" >/dev/null 2>&1 \
    && pass "renewal-only: verifies" || fail "renewal-only: does not verify"

if enroll "$T/enr" -v; then pass "enroll with renewal-only URIs published"; else
	fail "enroll: exit $?"; cat "$T/enr/log" >&2; fi
eposts=$(grep -o 'POST [^ ]*/CES' "$T/enr/log" | sed 's/^POST //' || true)
[ "$eposts" = "$CES_URL" ] && pass "enroll uses the normal URI only" \
    || fail "enroll's CES URIs: $(echo "$eposts" | tr '\n' ' ')"
finish
