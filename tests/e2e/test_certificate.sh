#!/usr/bin/env bash
# Client-certificate authentication end to end (docs/protocol/wstep.md 4.3, xcep.md 1.5):
# `opencesd demo` serves the Certificate endpoints (client certificates issued by the demo
# CA, asked for in the initial TLS handshake). A User certificate enrolled over the
# password endpoint (UPN SAN) authenticates as its account with `opences enroll --auth
# certificate` and curl --cert; unmapped, expired, revoked, unknown-to-the-CA and
# self-signed certificates, or none, get the security fault (s:Sender a:InvalidSecurity,
# HTTP 500, like a wrong password: docs/PROTOCOL-NOTES.md); `opences renew --auth
# certificate` keeps identity and template. An explicit mapping (`account map-cert`) of
# another account's certificate to demo wins over its UPN; mapped to a removed account: refused.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
D=$T/demo
start_demo "$D" "$PORT"
BASE="https://127.0.0.1:$PORT"
CA=$D/ca.pem
X='local-name()'
CEP_P=$BASE$CEP_PATH
CEP_C=$BASE/ADPolicyProvider_CEP_Certificate/service.svc/CEP
CES_C="$BASE/OpenCES%20Demo%20CA_CES_Certificate/service.svc/CES"

# --- a User certificate for "demo" over the password endpoint (UPN demo@opences.test in the SAN)
mkdir -p "$T/user"
"$OPENCES" enroll --policy-url "$CEP_P" --auth password --user demo --password-file "$D/demo-password" \
    --template User --ca-file "$CA" --key-out "$T/user/key.pem" --cert-out "$T/user/cert.pem" \
    >"$T/user/log" 2>&1 || { cat "$T/user/log" >&2; die "User enrollment over the password endpoint"; }
openssl x509 -in "$T/user/cert.pem" -noout -ext subjectAltName | grep -q 'demo@opences.test' \
    && pass "User certificate carries the UPN" || fail "User certificate without UPN"

strip_security() {
	/usr/bin/python3 -c 'import re,sys; s=open(sys.argv[1]).read(); open(sys.argv[2],"w").write(re.sub(r"<(\w+):Security\b.*?</\1:Security>", "", s, flags=re.S))' "$1" "$2"
}
render "$VEC/getpolicies-cepces.xml" "$T/gp.in" TO="$CEP_C" USER=x PASSWORD=x
strip_security "$T/gp.in" "$T/gp.xml"
# post_c CERT KEY URL BODY OUT -> HTTP status (CERT empty: no client certificate)
post_c() {
	local c=()
	[ -n "$1" ] && c=(--cert "$1" --key "$2")
	curl -s --cacert "$CA" "${c[@]}" -o "$5" -w '%{http_code}' \
	    -H 'Content-Type: application/soap+xml; charset=utf-8' --data-binary @"$4" "$3"
}

# --- mapped certificate: policy and enrollment
code=$(post_c "$T/user/cert.pem" "$T/user/key.pem" "$CEP_C" "$T/gp.xml" "$T/gp-user.xml")
[ "$code" = 200 ] && pass "User certificate: GetPolicies 200" || { fail "User certificate: HTTP $code"; head -c 600 "$T/gp-user.xml" >&2; }
xp "$T/gp-user.xml" "//*[$X='commonName']/text()" | grep -qx WebServer && pass "demo's templates listed" || fail "no templates for demo"
xp "$T/gp-user.xml" "//*[$X='cAURI'][*[$X='clientAuthentication']='8']/*[$X='uri']/text()" | grep -qF "$CES_C" \
    && pass "policy: Certificate CES URI with clientAuthentication 8" || fail "policy: no Certificate CES URI"
mkdir -p "$T/web"
if "$OPENCES" enroll --policy-url "$CEP_C" --auth certificate --tls-cert "$T/user/cert.pem" \
    --tls-key "$T/user/key.pem" --template WebServer --subject CN=web.example.test --dns web.example.test \
    --ca-file "$CA" --key-out "$T/web/key.pem" --cert-out "$T/web/cert.pem" >"$T/web/log" 2>&1; then
	pass "opences enroll --auth certificate"
else fail "opences enroll --auth certificate: exit $?"; cat "$T/web/log" >&2; fi
"$OPENCESD" --dir "$D" cert list --json >"$T/certs.json" 2>&1
ws=$(openssl x509 -in "$T/web/cert.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
grep -i "$ws" "$T/certs.json" | grep -q '"demo"' && pass "issued to demo (the mapped account)" \
    || fail "requester of $ws: $(grep -i "$ws" "$T/certs.json")"

# --- refusals: each gets the security fault and an audit line with its reason
fault_check() { # NAME CERT KEY URL BODY REASON
	local name=$1 out=$T/f.xml code
	code=$(post_c "$2" "$3" "$4" "$5" "$out")
	if [ "$code" = 500 ] && xp "$out" "string(//*[$X='Fault']/*[$X='Code']/*[$X='Value'])" | grep -q ':Sender$' &&
	    xp "$out" "string(//*[$X='Fault']/*[$X='Code']/*[$X='Subcode']/*[$X='Value'])" | grep -q ':InvalidSecurity$'; then
		pass "$name: security fault"
	else fail "$name: HTTP $code $(head -c 300 "$out")"; fi
	sleep 0.1
	tail -n 5 "$D/audit.log" | grep '"method":"certificate"' | grep -q "\"$6\"" \
	    && pass "$name: audited as $6" || fail "$name: audit $(tail -n 1 "$D/audit.log")"
}
fault_check "no client certificate" "" "" "$CEP_C" "$T/gp.xml" "no certificate"
# a WebServer certificate: issued by our CA, no clientAuth purpose and no account for its DNS name
fault_check "WebServer certificate" "$T/web/cert.pem" "$T/web/key.pem" "$CEP_C" "$T/gp.xml" "not for client authentication"
# self-signed (wrong CA) with the same UPN
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/self.key" -out "$T/self.pem" -days 30 \
    -subj /CN=demo -addext 'subjectAltName=otherName:1.3.6.1.4.1.311.20.2.3;UTF8:demo@opences.test' \
    -addext extendedKeyUsage=clientAuth 2>/dev/null
fault_check "self-signed certificate" "$T/self.pem" "$T/self.key" "$CEP_C" "$T/gp.xml" untrusted
# signed with the demo CA key by `openssl ca`: expired, and valid but unknown to the CA's records
openssl req -new -newkey rsa:2048 -nodes -keyout "$T/expired.key" -subj /CN=demo -out "$T/expired.csr" 2>/dev/null
mkdir -p "$T/ca-db/new"; : >"$T/ca-db/index.txt"; echo 1234567890ABCDEF >"$T/ca-db/serial"
cat >"$T/ca.cnf" <<EOF
[ca]
default_ca = d
[d]
dir = $T/ca-db
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
unique_subject = no
default_md = sha256
policy = p
copy_extensions = none
[p]
commonName = supplied
[x]
subjectAltName = otherName:1.3.6.1.4.1.311.20.2.3;UTF8:demo@opences.test
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
EOF
openssl ca -batch -config "$T/ca.cnf" -cert "$CA" -keyfile "$D/ca.key" -in "$T/expired.csr" \
    -out "$T/expired.pem" -startdate 20200101000000Z -enddate 20200201000000Z -extensions x \
    -notext >/dev/null 2>&1 || fail "could not make an expired certificate"
openssl ca -batch -config "$T/ca.cnf" -cert "$CA" -keyfile "$D/ca.key" -in "$T/expired.csr" \
    -out "$T/unknown.pem" -days 30 -extensions x -notext >/dev/null 2>&1 || fail "could not make a certificate"
cp "$T/expired.key" "$T/unknown.key"
fault_check "expired certificate" "$T/expired.pem" "$T/expired.key" "$CEP_C" "$T/gp.xml" expired
fault_check "certificate our CA has no record of" "$T/unknown.pem" "$T/unknown.key" "$CEP_C" "$T/gp.xml" revoked

# a User certificate (clientAuth, UPN) of an account that has since been removed: unmapped
printf 'leaver-pw-%s\n' "$RANDOM" >"$T/leaver.pw"
"$OPENCESD" --dir "$D" account add leaver --upn leaver@opences.test --mail leaver@opences.test \
    --dn CN=leaver,CN=Users,DC=opences,DC=test --password-file "$T/leaver.pw" >/dev/null 2>&1 || fail "account add leaver"
mkdir -p "$T/leaver"
"$OPENCES" enroll --policy-url "$CEP_P" --auth password --user leaver --password-file "$T/leaver.pw" \
    --template User --ca-file "$CA" --key-out "$T/leaver/key.pem" --cert-out "$T/leaver/cert.pem" \
    >"$T/leaver/log" 2>&1 && pass "User certificate for leaver" || { fail "leaver enrollment"; cat "$T/leaver/log" >&2; }
"$OPENCESD" --dir "$D" account remove leaver >/dev/null 2>&1 || fail "account remove leaver"
fault_check "certificate whose account was removed" "$T/leaver/cert.pem" "$T/leaver/key.pem" "$CEP_C" "$T/gp.xml" "no account for its names"

# --- renew with the client certificate: same identity and template
mkdir -p "$T/renew"
if "$OPENCES" renew --policy-url "$CEP_C" --auth certificate --tls-cert "$T/user/cert.pem" \
    --tls-key "$T/user/key.pem" --cert "$T/user/cert.pem" --key "$T/user/key.pem" --ca-file "$CA" \
    --key-out "$T/renew/key.pem" --cert-out "$T/renew/cert.pem" >"$T/renew/log" 2>&1; then
	pass "opences renew --auth certificate"
	[ "$(openssl x509 -in "$T/renew/cert.pem" -noout -subject)" = "$(openssl x509 -in "$T/user/cert.pem" -noout -subject)" ] \
	    && pass "renewal keeps the subject" || fail "renewal subject differs"
	"$OPENCESD" --dir "$D" cert list --json >"$T/certs.json" 2>&1
	rs=$(openssl x509 -in "$T/renew/cert.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
	grep -i "$rs" "$T/certs.json" | grep '"demo"' | grep -q '"User"' && pass "renewal: requester demo, template User" \
	    || fail "renewal record: $(grep -i "$rs" "$T/certs.json")"
else fail "opences renew --auth certificate: exit $?"; cat "$T/renew/log" >&2; fi

# --- revoked: the User certificate no longer authenticates
us=$(openssl x509 -in "$T/user/cert.pem" -noout -serial | cut -d= -f2)
"$OPENCESD" --dir "$D" cert revoke "$us" >/dev/null 2>&1 && pass "cert revoke $us" || fail "cert revoke"
fault_check "revoked certificate" "$T/user/cert.pem" "$T/user/key.pem" "$CEP_C" "$T/gp.xml" revoked
render "$VEC/issue-windows.xml" "$T/is.in" USER=x PASSWORD=x CSR="$(csr_b64 "$T/r.key" /CN=r)" TEMPLATE=User
strip_security "$T/is.in" "$T/is.xml"
fault_check "revoked certificate on CES" "$T/user/cert.pem" "$T/user/key.pem" "$CES_C" "$T/is.xml" revoked
# the renewed one still works
code=$(post_c "$T/renew/cert.pem" "$T/renew/key.pem" "$CEP_C" "$T/gp.xml" "$T/gp-renew.xml")
[ "$code" = 200 ] && pass "renewed certificate authenticates" || fail "renewed certificate: HTTP $code"
# the password endpoints do not look at client certificates
code=$(post_c "$T/self.pem" "$T/self.key" "$CEP_P" "$T/gp.xml" "$T/p.xml")
[ "$code" = 500 ] && pass "password endpoint ignores the certificate (no UsernameToken: fault)" || fail "password endpoint: HTTP $code"
# --- explicit mapping (account map-cert): an administrator binds other's User certificate
# (UPN other@opences.test) to demo; it wins over the UPN, so it authenticates as demo
printf 'other-pw-%s\n' "$RANDOM" >"$T/other.pw"
"$OPENCESD" --dir "$D" account add other --upn other@opences.test --mail other@opences.test \
    --dn CN=other,CN=Users,DC=opences,DC=test --password-file "$T/other.pw" >/dev/null 2>&1 || fail "account add other"
mkdir -p "$T/other" "$T/mapped"
"$OPENCES" enroll --policy-url "$CEP_P" --auth password --user other --password-file "$T/other.pw" \
    --template User --ca-file "$CA" --key-out "$T/other/key.pem" --cert-out "$T/other/cert.pem" \
    >"$T/other/log" 2>&1 && pass "User certificate for other" || { fail "other enrollment"; cat "$T/other/log" >&2; }
"$OPENCESD" --dir "$D" account map-cert demo --cert "$T/other/cert.pem" >/dev/null 2>&1 \
    && pass "account map-cert demo" || fail "account map-cert demo"
"$OPENCESD" --dir "$D" account show demo | grep -q "^cert_mapping: sha256 $(openssl x509 -in "$T/other/cert.pem" \
    -outform DER | sha256sum | cut -d' ' -f1) " && pass "account show lists the mapping" || fail "mapping not shown"
if "$OPENCES" enroll --policy-url "$CEP_C" --auth certificate --tls-cert "$T/other/cert.pem" \
    --tls-key "$T/other/key.pem" --template WebServer --subject CN=mapped.example.test --dns mapped.example.test \
    --ca-file "$CA" --key-out "$T/mapped/key.pem" --cert-out "$T/mapped/cert.pem" >"$T/mapped/log" 2>&1; then
	"$OPENCESD" --dir "$D" cert list --json >"$T/certs.json" 2>&1
	ms=$(openssl x509 -in "$T/mapped/cert.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
	grep -i "$ms" "$T/certs.json" | grep -q '"demo"' && pass "explicit mapping beats the UPN: issued to demo" \
	    || fail "explicitly mapped: requester of $ms: $(grep -i "$ms" "$T/certs.json")"
else fail "enroll with the explicitly mapped certificate: exit $?"; cat "$T/mapped/log" >&2; fi
# mapped to an account that is then removed: refused, no fallback to the UPN of "other"
"$OPENCESD" --dir "$D" account add gone >/dev/null 2>&1 || fail "account add gone"
"$OPENCESD" --dir "$D" account unmap-cert demo --cert "$T/other/cert.pem" >/dev/null 2>&1 || fail "account unmap-cert demo"
"$OPENCESD" --dir "$D" account map-cert gone --cert "$T/other/cert.pem" >/dev/null 2>&1 || fail "account map-cert gone"
"$OPENCESD" --dir "$D" account remove gone >/dev/null 2>&1 || fail "account remove gone"
fault_check "explicitly mapped to a removed account" "$T/other/cert.pem" "$T/other/key.pem" "$CEP_C" "$T/gp.xml" \
    "no account for its names"
"$OPENCESD" --dir "$D" account unmap-cert other --cert "$T/other/cert.pem" >/dev/null 2>&1 \
    && pass "unmap-cert drops the left-over mapping" || fail "unmap-cert of a left-over"
code=$(post_c "$T/other/cert.pem" "$T/other/key.pem" "$CEP_C" "$T/gp.xml" "$T/gp-other.xml")
[ "$code" = 200 ] && pass "unmapped: the UPN maps again" || fail "unmapped certificate: HTTP $code"
finish
