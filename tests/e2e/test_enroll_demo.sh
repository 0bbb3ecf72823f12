#!/usr/bin/env bash
# End to end on loopback: `opencesd demo` and `opences enroll` for every default template;
# the certificates verify against the CA and carry exactly the template's extensions;
# a restart on the same directory keeps everything.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
D=$T/demo
start_demo "$D" "$PORT"
URL="https://127.0.0.1:$PORT$CEP_PATH"
[ -s "$D/ca.pem" ] && pass "ca.pem written" || fail "no ca.pem"
[ -s "$D/demo-password" ] && pass "demo-password written" || fail "no demo-password"
[ "$(stat -c %a "$D/demo-password")" = 600 ] && pass "demo-password mode 600" || fail "demo-password mode"
grep -q "CEP URL: $URL" "$D.log" && pass "CEP URL printed" || fail "CEP URL not printed"

enroll() { # template outdir [extra args]
	local tpl=$1 out=$2
	shift 2
	mkdir -p "$out"
	"$OPENCES" enroll --policy-url "$URL" --auth password --user demo \
	    --password-file "$D/demo-password" --template "$tpl" --ca-file "$D/ca.pem" \
	    --key-out "$out/key.pem" --cert-out "$out/cert.pem" "$@" >"$out/log" 2>&1
}

# template | extra args | required extensions (besides SKI/AKI) | EKU text | subject pattern
while IFS='|' read -r tpl args exts eku subj; do
	[ -z "$tpl" ] && continue
	out=$T/$tpl
	# shellcheck disable=SC2086
	if enroll "$tpl" "$out" $args; then pass "$tpl: enrolled"; else
		fail "$tpl: enroll exit $?"; cat "$out/log" >&2; continue; fi
	[ "$(stat -c %a "$out/key.pem")" = 600 ] && pass "$tpl: key mode 600" || fail "$tpl: key mode"
	openssl verify -CAfile "$D/ca.pem" "$out/cert.pem" >/dev/null 2>&1 \
	    && pass "$tpl: verifies against the CA" || fail "$tpl: does not verify"
	# key and certificate belong together
	[ "$(openssl x509 -in "$out/cert.pem" -noout -pubkey | sha256sum)" = \
	  "$(openssl pkey -in "$out/key.pem" -pubout | sha256sum)" ] \
	    && pass "$tpl: key matches certificate" || fail "$tpl: key does not match"
	got=$(cert_exts "$out/cert.pem" | grep -v -e 'Subject Key Identifier' -e 'Authority Key Identifier' -e 'S/MIME Capabilities' | sort | tr '\n' ',')
	want=$(echo "$exts" | tr ',' '\n' | sort | tr '\n' ',')
	[ "$got" = "$want" ] && pass "$tpl: extensions $want" || fail "$tpl: extensions got '$got' want '$want'"
	text=$(openssl x509 -in "$out/cert.pem" -noout -text)
	echo "$text" | grep -A1 'X509v3 Extended Key Usage' | tail -1 | grep -q -- "$eku" \
	    && pass "$tpl: EKU $eku" || fail "$tpl: EKU: $(echo "$text" | grep -A1 'Extended Key Usage' | tail -1)"
	openssl x509 -in "$out/cert.pem" -noout -subject -nameopt RFC2253 | grep -Eq -- "$subj" \
	    && pass "$tpl: subject" || fail "$tpl: subject $(openssl x509 -in "$out/cert.pem" -noout -subject -nameopt RFC2253)"
done <<'TABLE'
WebServer|--subject CN=host.example.test --dns host.example.test|1.3.6.1.4.1.311.20.2,X509v3 Extended Key Usage,X509v3 Key Usage,X509v3 Subject Alternative Name|TLS Web Server Authentication|subject=CN=host.example.test$
User||1.3.6.1.4.1.311.20.2,X509v3 Extended Key Usage,X509v3 Key Usage,X509v3 Subject Alternative Name|E-mail Protection|CN=demo,CN=Users,DC=opences,DC=test
Machine||1.3.6.1.4.1.311.20.2,X509v3 Extended Key Usage,X509v3 Key Usage,X509v3 Subject Alternative Name|TLS Web Server Authentication|subject=CN=demo.opences.test$
Workstation||1.3.6.1.4.1.311.21.10,1.3.6.1.4.1.311.21.7,X509v3 Extended Key Usage,X509v3 Key Usage,X509v3 Subject Alternative Name|TLS Web Client Authentication|subject=
OpenCESWebServerEC|--subject CN=ec.example.test --dns ec.example.test|1.3.6.1.4.1.311.21.10,1.3.6.1.4.1.311.21.7,X509v3 Extended Key Usage,X509v3 Key Usage,X509v3 Subject Alternative Name|TLS Web Server Authentication|subject=CN=ec.example.test$
TABLE

# The v2 template extension names the template OID and revision the policy published.
openssl x509 -in "$T/Workstation/cert.pem" -outform DER | openssl asn1parse -inform DER 2>/dev/null \
    | grep -q ':1.3.6.1.4.1.311.21.7' && pass "Workstation: 21.7 present in DER" || fail "Workstation: no 21.7"
# EC template gives an EC key
openssl pkey -in "$T/OpenCESWebServerEC/key.pem" -noout -text 2>/dev/null | grep -q 'prime256v1\|P-256' \
    && pass "OpenCESWebServerEC: P-256 key" || fail "OpenCESWebServerEC: not a P-256 key"

# A template that needs a manager's approval answers pending (exit 4) with a RequestID.
set +e
enroll OpenCESUserApproval "$T/pending"
rc=$?
set -e
[ "$rc" = 4 ] && pass "OpenCESUserApproval: pending exit 4" || { fail "OpenCESUserApproval: exit $rc"; cat "$T/pending/log" >&2; }
grep -Eiq 'request ?id[^0-9]*[0-9]+' "$T/pending/log" && pass "pending prints RequestID" || fail "pending: no RequestID printed"

# Issued certificates are in the store (admin CLI).
serial=$(openssl x509 -in "$T/WebServer/cert.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
"$OPENCESD" --dir "$D" cert list >"$T/certs.txt" 2>&1 || fail "cert list failed"
grep -qi "$serial" "$T/certs.txt" && pass "cert list shows the WebServer serial" || fail "serial $serial not listed"

# Restart on the same directory keeps CA, account and password.
ca_before=$(sha256sum <"$D/ca.pem")
pw_before=$(cat "$D/demo-password")
stop_pid "$DEMO_PID"
PORT2=$(free_port)
start_demo "$D" "$PORT2" "$D.log2"
URL="https://127.0.0.1:$PORT2$CEP_PATH"
[ "$(sha256sum <"$D/ca.pem")" = "$ca_before" ] && pass "restart keeps the CA" || fail "CA changed on restart"
[ "$(cat "$D/demo-password")" = "$pw_before" ] && pass "restart keeps the password" || fail "password changed"
if enroll WebServer "$T/again" --subject CN=again.example.test --dns again.example.test; then
	pass "enroll after restart (new port published)"
else fail "enroll after restart"; cat "$T/again/log" >&2; fi
"$OPENCESD" --dir "$D" cert list >"$T/certs2.txt" 2>&1
grep -qi "$serial" "$T/certs2.txt" && pass "old certificate still in the store" || fail "old certificate lost"
finish
