#!/usr/bin/env bash
# Bad input on every endpoint type of one server: UsernamePassword (WS-Security UsernameToken),
# Kerberos (HTTP Negotiate, a throwaway MIT KDC from tests/lib/mit-kdc.sh) and Certificate (a
# TLS client certificate enrolled over the password endpoint). One table of cases: each gets
# its expected SOAP fault (HTTP 500, the right code and HRESULT) or HTTP status; nothing is
# expanded or fetched; the server keeps serving on that endpoint type afterwards. Everything
# that is not about credentials answers the same on all three types (status, fault code,
# subcode, reason, ErrorCode); on the Kerberos endpoints every answer given after
# authentication carries the mutual token (WWW-Authenticate: Negotiate <token>).
# URLs use the host name localhost (the SPN HTTP/localhost), resolved without DNS.
. "$(dirname "$0")/lib.sh"

MKDC=$OC_SOURCE_DIR/tests/lib/mit-kdc.sh
K=$T/kdc
export MKDC_PORT MKDC_USER=demo     # the principal demo@EXAMPLE.TEST maps to the demo account
MKDC_PORT=$(free_port)
trap 'bash "$MKDC" stop "$K" >/dev/null 2>&1 || true; cleanup' EXIT
bash "$MKDC" start "$K" >/dev/null || die "KDC did not start"
eval "$(bash "$MKDC" env "$K")"
unset KRB5_KTNAME                   # the server names its keytab in its configuration

# --- one server, three endpoint types: the demo's directory and CA, our configuration
PORT=$(free_port)
D=$T/demo
start_demo "$D" "$PORT"
stop_pid "$DEMO_PID"
BASE="https://localhost:$PORT"
CA=$D/ca.pem
PW=$(cat "$D/demo-password")
X='local-name()'
sed -e "s|^public_url = .*|public_url = $BASE|" \
    -e "s|^client_ca = ca.pem|client_ca = ca.pem\nkeytab = $K/http.keytab\nspn = HTTP/localhost\nkerberos_realm = EXAMPLE.TEST|" \
    "$D/opencesd.conf" >"$D/all.conf"
cat >>"$D/all.conf" <<EOF

[endpoint]
service = cep
auth = kerberos

[endpoint]
service = ces
auth = kerberos
priority = 3
EOF
grep -q '^auth = certificate' "$D/all.conf" || die "the demo configuration has no certificate endpoints"
start_serve "$D/all.conf" "$T/serve.log" "https://127.0.0.1:$PORT" "$CA"

TYPES="password kerberos certificate"
declare -A SIG WANT
declare -A AUTHNAME=([password]=UsernamePassword [kerberos]=Kerberos [certificate]=Certificate)
ep_url() { # SERVICE TYPE
	if [ "$1" = cep ]; then echo "$BASE/ADPolicyProvider_CEP_${AUTHNAME[$2]}/service.svc/CEP"
	else echo "$BASE/OpenCES%20Demo%20CA_CES_${AUTHNAME[$2]}/service.svc/CES"; fi
}

# --- credentials: demo's User certificate (UPN SAN) from the password endpoint, and a
# self-signed one naming the same UPN
mkdir -p "$T/user"
"$OPENCES" enroll --policy-url "https://127.0.0.1:$PORT$CEP_PATH" --auth password --user demo \
    --password-file "$D/demo-password" --template User --ca-file "$CA" \
    --key-out "$T/user/key.pem" --cert-out "$T/user/cert.pem" >"$T/user/log" 2>&1 \
    || { cat "$T/user/log" >&2; die "User enrollment over the password endpoint"; }
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/self.key" -out "$T/self.pem" -days 30 \
    -subj /CN=demo -addext 'subjectAltName=otherName:1.3.6.1.4.1.311.20.2.3;UTF8:demo@opences.test' \
    -addext extendedKeyUsage=clientAuth 2>/dev/null || die "self-signed certificate"
GARBAGE_TOKEN=$(head -c 300 /dev/urandom | base64 -w0)
# demo loses Enroll on Workstation while the server runs (it served demo's policy above)
"$OPENCESD" --dir "$D" revoke Workstation demo enroll >/dev/null 2>&1 || die "revoke via CLI"
sleep 1.2   # the policy snapshot is re-checked at most once a second

# --- request material, made once
csr() { openssl req -new -newkey rsa:2048 -nodes -keyout "$T/k.pem" -subj "/CN=bad.example.test" -outform DER 2>/dev/null; }
CSR_GOOD=$(csr | base64 -w0)
CSR_TRUNC=$(csr | head -c 200 | base64 -w0)
CSR_GARBAGE=$(head -c 300 /dev/urandom | base64 -w0)
csr >"$T/sig.der"
/usr/bin/python3 -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); b[-5]^=0xff; open(sys.argv[1],"wb").write(b)' "$T/sig.der"
CSR_BADSIG=$(base64 -w0 <"$T/sig.der")
CSR_SMALL=$(openssl req -new -newkey rsa:1024 -nodes -keyout "$T/s.pem" -subj /CN=small.example.test -outform DER 2>/dev/null | base64 -w0)

# an entity server that records any fetch
HP=$(free_port)
/usr/bin/python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        open(sys.argv[2], "a").write(self.path + "\n"); self.send_response(200); self.end_headers(); self.wfile.write(b"FETCHED")
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()' "$HP" "$T/fetches" &
OC_PIDS+=("$!")
DTD="<!DOCTYPE s:Envelope [<!ENTITY x \"EXPANDED-ENTITY\"><!ENTITY ext SYSTEM \"http://127.0.0.1:$HP/ext\"><!ENTITY file SYSTEM \"file:///etc/hostname\">]>"

# resub IN OUT PATTERN REPLACEMENT: a Perl regex over the whole file (/s), must match
resub() {
	PAT=$3 REP=$4 perl -0777 -pe '$n += s/$ENV{PAT}/$ENV{REP}/sg; END { exit($n ? 0 : 1) }' "$1" >"$2.tmp" \
	    || die "resub: /$3/ matched nothing in $1"
	mv "$2.tmp" "$2"
}
# the WS-Security header out (Kerberos and certificates are transport authentication)
strip_security() { perl -0777 -pe 's/<(\w+):Security\b.*?<\/\1:Security>//sg' "$1" >"$2"; }

# --- body builders: b_NAME OUT writes the request as the password endpoint gets it, from
# TO (this endpoint's URL), U and P (the UsernameToken); they may set CT (Content-Type),
# METHOD (GET: no body) and URL (another path).
b_gp() { render "$VEC/getpolicies-cepces.xml" "$1" TO="$TO" USER="$U" PASSWORD="$P"; }
b_issue() { # OUT [CSR_B64] [TEMPLATE]
	render "$VEC/issue-windows.xml" "$1" USER="$U" PASSWORD="$P" CSR="${2:-$CSR_GOOD}" TEMPLATE="${3:-WebServer}"
}
b_malformed() { printf '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><oops></s:Body>' >"$1"; }
# DOCTYPE with an internal, an external (HTTP) and a file entity, referenced in the
# UsernameToken and in the MessageID (echoed as RelatesTo) so every endpoint type carries them
dtd_from() { # VECTOR OUT
	render "$1" "$T/dtd.in" TO="$TO" USER='&x;&ext;&file;' PASSWORD="$P" CSR="$CSR_GOOD" TEMPLATE=WebServer
	resub "$T/dtd.in" "$T/dtd.in" '<s:Envelope' "$DTD<s:Envelope"
	resub "$T/dtd.in" "$2" '<a:MessageID>' '<a:MessageID>&x;&ext;&file;'
}
b_dtd_cep() { dtd_from "$VEC/getpolicies-windows.xml" "$1"; }
b_dtd_ces() { dtd_from "$VEC/issue-windows.xml" "$1"; }
b_laughs() {
	cat >"$1" <<'XML'
<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&lol3;</s:Body></s:Envelope>
XML
}
b_soap11_cep() { b_gp "$T/b.in"; resub "$T/b.in" "$1" 'http://www.w3.org/2003/05/soap-envelope' 'http://schemas.xmlsoap.org/soap/envelope/'; }
b_soap11_ces() { b_issue "$T/b.in"; resub "$T/b.in" "$1" 'http://www.w3.org/2003/05/soap-envelope' 'http://schemas.xmlsoap.org/soap/envelope/'; }
b_wrongns_cep() { b_gp "$T/b.in"; resub "$T/b.in" "$1" 'xmlns:ns2="http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy"' 'xmlns:ns2="urn:example:wrong"'; }
b_wrongns_ces() { b_issue "$T/b.in"; resub "$T/b.in" "$1" '<RequestSecurityToken xmlns="[^"]*"' '<RequestSecurityToken xmlns="urn:example:wrong"'; }
b_nohdr_cep() { b_gp "$T/b.in"; resub "$T/b.in" "$1" '<ns0:Header>.*</ns0:Header>' ''; }
b_nohdr_ces() { b_issue "$T/b.in"; resub "$T/b.in" "$1" '<s:Header>.*</s:Header>' ''; }
ACT_CEP=http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy/IPolicy/GetPolicies
ACT_CES=http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RST/wstep
b_noaction_cep() { b_gp "$T/b.in"; resub "$T/b.in" "$1" '<ns1:Action [^>]*>[^<]*</ns1:Action>' ''; }
b_noaction_ces() { b_issue "$T/b.in"; resub "$T/b.in" "$1" '<a:Action [^>]*>[^<]*</a:Action>' ''; }
b_action_cep() { b_gp "$T/b.in"; resub "$T/b.in" "$1" "$ACT_CEP" "$ACT_CES"; }
b_action_ces() { b_issue "$T/b.in"; resub "$T/b.in" "$1" "$ACT_CES" "$ACT_CEP"; }
b_mu_cep() { b_gp "$T/b.in"; resub "$T/b.in" "$1" '</ns1:To>' '</ns1:To><ns1:Unknown ns0:mustUnderstand="1">x</ns1:Unknown>'; }
b_mu_ces() { b_issue "$T/b.in"; resub "$T/b.in" "$1" '</a:MessageID>' '</a:MessageID><a:Unknown s:mustUnderstand="1">x</a:Unknown>'; }
b_noclient() { b_gp "$T/b.in"; resub "$T/b.in" "$1" '<ns2:client>.*</ns2:client>' ''; }
b_norst() { b_issue "$T/b.in"; resub "$T/b.in" "$1" '<RequestSecurityToken .*</RequestSecurityToken>' ''; }
big() { { cat "$T/b.in"; head -c 2097152 /dev/zero | tr '\0' ' '; } >"$1"; }   # 2 MiB
b_big_cep() { b_gp "$T/b.in"; big "$1"; }
b_big_ces() { b_issue "$T/b.in"; big "$1"; }
b_ctype_cep() { b_gp "$1"; CT=text/plain; }
b_ctype_ces() { b_issue "$1"; CT=text/plain; }
b_get() { : >"$1"; METHOD=GET; }
b_nowhere_cep() { b_gp "$1"; URL=${URL%/*}/nowhere; }
b_nowhere_ces() { b_issue "$1"; URL=${URL%/*}/nowhere; }
b_b64() { b_issue "$1" 'MIIB!!!not*base64'; }
b_trunc() { b_issue "$1" "$CSR_TRUNC"; }
b_garbage() { b_issue "$1" "$CSR_GARBAGE"; }
b_badsig() { b_issue "$1" "$CSR_BADSIG"; }
b_small() { b_issue "$1" "$CSR_SMALL"; }
b_unknown() { b_issue "$1" "$CSR_GOOD" NoSuchTemplate; }
b_denied() { b_issue "$1" "$CSR_GOOD" Workstation; }

# --- the cases. Columns (|-separated): service | name | body builder | credentials |
# expected on password | kerberos | certificate | extra check.
# Credentials: good (demo's password / a ticket for demo, curl --negotiate -u : / demo's
# User certificate), none (no Security header / no Authorization / no client certificate),
# bad (wrong password / a garbage Negotiate token / a self-signed certificate naming demo's
# UPN), unknown (user "nobody"; password only).
# Expected: "fault CODE [HRESULT]" HTTP 500 + s:Fault with s:Code CODE (and ErrorCode) |
# "secfault" HTTP 500 + s:Sender / a:InvalidSecurity (every credential failure looks alike) |
# "status N" | "challenge" HTTP 401 + a bare WWW-Authenticate: Negotiate, no SOAP |
# "=" as on the password endpoint, and the same answer there (status, code, subcode, reason,
# ErrorCode) | "-" n/a. CODE may name the subcode too: Sender/ActionNotSupported. Endpoint types
# with the same expectation in a row must give the same answer.
# Without a SOAP header a password request has no credentials; the CEP dispatches on the Body
# (a:Action is optional there, xcep.md 1.4), the CES on a:Action (wstep.md 1).
# ErrorCodes: E_INVALIDARG -2147024809, CRYPT_E_ASN1_BADTAG -2146881269, CRYPT_E_ASN1_EOD
# -2146881278, NTE_BAD_SIGNATURE -2146893818, CERTSRV_E_KEY_LENGTH -2146875375,
# CERTSRV_E_UNKNOWN_CERT_TYPE -2146875392, CERTSRV_E_TEMPLATE_DENIED -2146877422.
CASES=$(cat <<'EOF'
cep | no credentials                          | b_gp           | none    | secfault                     | challenge | secfault | x_same_cred
cep | wrong credentials                       | b_gp           | bad     | secfault                     | challenge | secfault | x_same_cred
cep | unknown user                            | b_gp           | unknown | secfault                     | -         | -        | x_same_cred
ces | no credentials                          | b_issue        | none    | secfault                     | challenge | secfault | x_same_cred
ces | wrong credentials                       | b_issue        | bad     | secfault                     | challenge | secfault | x_same_cred
cep | malformed XML                           | b_malformed    | good    | fault Sender                 | =         | =        |
ces | malformed XML                           | b_malformed    | good    | fault Sender -2147024809     | =         | =        |
cep | DOCTYPE with entities                   | b_dtd_cep      | good    | fault Sender                 | =         | =        | x_not_expanded
ces | DOCTYPE with entities                   | b_dtd_ces      | good    | fault Sender -2147024809     | =         | =        | x_not_expanded
cep | billion laughs                          | b_laughs       | good    | fault Sender                 | =         | =        |
ces | billion laughs                          | b_laughs       | good    | fault Sender -2147024809     | =         | =        |
cep | SOAP 1.1 envelope                       | b_soap11_cep   | good    | fault VersionMismatch        | =         | =        |
ces | SOAP 1.1 envelope                       | b_soap11_ces   | good    | fault VersionMismatch        | =         | =        |
cep | GetPolicies in a wrong namespace        | b_wrongns_cep  | good    | fault Sender                 | =         | =        |
ces | RequestSecurityToken in a wrong namespace | b_wrongns_ces | good   | fault Sender -2147024809     | =         | =        |
cep | missing SOAP header                     | b_nohdr_cep    | good    | secfault                     | status 200 | status 200 |
ces | missing SOAP header                     | b_nohdr_ces    | good    | secfault                     | fault Sender/ActionNotSupported | fault Sender/ActionNotSupported |
cep | missing a:Action                        | b_noaction_cep | good    | status 200                   | =         | =        |
ces | missing a:Action                        | b_noaction_ces | good    | fault Sender/ActionNotSupported | =      | =        |
cep | the CES action on the CEP               | b_action_cep   | good    | fault Sender/ActionNotSupported | =      | =        |
ces | the CEP action on the CES               | b_action_ces   | good    | fault Sender/ActionNotSupported | =      | =        |
cep | unknown mustUnderstand header           | b_mu_cep       | good    | fault Sender                 | =         | =        |
ces | unknown mustUnderstand header           | b_mu_ces       | good    | fault Sender -2147024809     | =         | =        |
cep | GetPolicies without client              | b_noclient     | good    | fault Sender                 | =         | =        |
ces | empty Body                              | b_norst        | good    | fault Sender -2147024809     | =         | =        |
cep | oversized body                          | b_big_cep      | good    | status 413                   | =         | =        |
ces | oversized body                          | b_big_ces      | good    | status 413                   | =         | =        |
cep | wrong Content-Type                      | b_ctype_cep    | good    | status 415                   | =         | =        |
ces | wrong Content-Type                      | b_ctype_ces    | good    | status 415                   | =         | =        |
cep | GET on the endpoint                     | b_get          | good    | status 405                   | =         | =        |
ces | GET on the endpoint                     | b_get          | good    | status 405                   | =         | =        |
cep | unknown path                            | b_nowhere_cep  | good    | status 404                   | =         | =        |
ces | unknown path                            | b_nowhere_ces  | good    | status 404                   | =         | =        |
ces | bad base64                              | b_b64          | good    | fault Sender -2146881269     | =         | =        |
ces | truncated CSR                           | b_trunc        | good    | fault Receiver -2146881278   | =         | =        |
ces | garbage CSR                             | b_garbage      | good    | fault Receiver               | =         | =        |
ces | CSR signature does not verify           | b_badsig       | good    | fault Receiver -2146893818   | =         | =        |
ces | key below the minimum size              | b_small        | good    | fault Receiver -2146875375   | =         | =        |
ces | unknown template                        | b_unknown      | good    | fault Receiver -2146875392   | =         | =        |
ces | template without Enroll right           | b_denied       | good    | fault Receiver -2146877422   | =         | =        | x_denied
EOF
)

# send TYPE CREDS REQ OUT HDR -> HTTP status (of the last answer: curl --negotiate may make two)
send() {
	local type=$1 creds=$2 a=()
	case "$type/$creds" in
	kerberos/good) a=(--negotiate -u :) ;;
	kerberos/bad) a=(-H "Authorization: Negotiate $GARBAGE_TOKEN") ;;
	certificate/good) a=(--cert "$T/user/cert.pem" --key "$T/user/key.pem") ;;
	certificate/bad) a=(--cert "$T/self.pem" --key "$T/self.key") ;;
	esac
	[ "$METHOD" = POST ] && a+=(-H "Content-Type: $CT" --data-binary @"$3")
	curl -s --cacert "$CA" --resolve "localhost:$PORT:127.0.0.1" -o "$4" -D "$5" -w '%{http_code}' \
	    "${a[@]}" "$URL"
}
# the header block of the last answer in a curl -D file
last_headers() { awk '/^HTTP\//{n=""} {n=n $0 "\n"} END{printf "%s", n}' "$1" | tr -d '\r'; }
# signature of an answer: status | code | subcode | reason | ErrorCode
signature() { # CODE OUT
	local f=$2
	if [ "$1" = 500 ]; then
		echo "500|$(xp "$f" "string(//*[$X='Fault']/*[$X='Code']/*[$X='Value'])" | sed 's/.*://')|$(
		    xp "$f" "string(//*[$X='Fault']/*[$X='Code']/*[$X='Subcode']/*[$X='Value'])" | sed 's/.*://')|$(
		    xp "$f" "string(//*[$X='Fault']/*[$X='Reason'])")|$(xp "$f" "string(//*[$X='ErrorCode'])")"
	else echo "$1"; fi
}

# still_serving TYPE: demo's GetPolicies on this endpoint type answers 200
for ty in $TYPES; do
	TO=$(ep_url cep "$ty") U=demo P=$PW
	b_gp "$T/alive-$ty.xml"
	[ "$ty" = password ] || { strip_security "$T/alive-$ty.xml" "$T/alive.tmp"; mv "$T/alive.tmp" "$T/alive-$ty.xml"; }
done
grep -q ':Security' "$T/alive-kerberos.xml" && die "Security header left in the request"
grep -q ':Security' "$T/alive-password.xml" || die "no Security header in the password request"
still_serving() {
	local code
	CT='application/soap+xml; charset=utf-8' METHOD=POST URL=$(ep_url cep "$1")
	code=$(send "$1" good "$T/alive-$1.xml" "$T/alive.out" "$T/alive.hdr")
	[ "$code" = 200 ] || { fail "$1: not serving after: $2 (HTTP $code)"; return 1; }
}

# --- extra checks: x_NAME TYPE SERVICE NAME OUT
x_same_cred() { # every credential failure of a type and service gets byte-identical answers
	local ref=$T/cred-$1-$2.out
	if [ -f "$ref" ]; then
		cmp -s "$ref" "$4" && pass "$1 $2 $3: identical answers for every credential failure" \
		    || fail "$1 $2 $3: answer differs from another credential failure"
	else cp "$4" "$ref"; fi
}
x_not_expanded() {
	grep -q -e EXPANDED-ENTITY -e FETCHED "$4" && fail "$1 $2 $3: entity expanded in the answer" \
	    || pass "$1 $2 $3: entity not expanded"
}
x_denied() {
	local tpls
	[ "$(xp "$4" "string(//*[$X='InvalidRequest'])")" = true ] && pass "$1 denial: InvalidRequest true" \
	    || fail "$1 denial: InvalidRequest '$(xp "$4" "string(//*[$X='InvalidRequest'])")'"
	xp "$4" "string(//*[$X='CertificateEnrollmentWSDetail']/*[$X='RequestID'])" | grep -Eq '^[0-9]+$' \
	    && pass "$1 denial carries the RequestID" || fail "$1 denial: no RequestID"
	# the revoked right is gone from this endpoint type's policy too
	CT='application/soap+xml; charset=utf-8' METHOD=POST URL=$(ep_url cep "$1")
	send "$1" good "$T/alive-$1.xml" "$T/pol.out" "$T/pol.hdr" >/dev/null
	tpls=" $(xp "$T/pol.out" "//*[$X='commonName']/text()" | tr '\n' ' ')"
	case "$tpls" in
	*" Workstation "*) fail "$1: policy still offers Workstation after revoke" ;;
	*" WebServer "*) pass "$1: policy no longer offers Workstation (WebServer still offered)" ;;
	*) fail "$1: policy templates after revoke:$tpls" ;;
	esac
}

# run_one SERVICE NAME BUILDER CREDS TYPE WANT CHECK
run_one() {
	local svc=$1 name=$2 builder=$3 creds=$4 type=$5 want=$6 check=$7 code out=$T/resp.out hdr=$T/resp.hdr
	local label="$type $svc $name" sig hr h fcode same
	[ "$want" = - ] && return 0
	TO=$(ep_url "$svc" "$type") U=demo P=$PW CT='application/soap+xml; charset=utf-8' METHOD=POST
	URL=$TO
	case "$type/$creds" in
	password/bad) P=not-the-password ;;
	password/unknown) U=nobody P=not-the-password ;;
	*/unknown) die "$name: 'unknown' credentials exist only for passwords" ;;
	esac
	"$builder" "$T/req.in"
	if [ "$type" = password ] && [ "$creds" != none ]; then cp "$T/req.in" "$T/req.xml"
	else strip_security "$T/req.in" "$T/req.xml"; fi
	rm -f "$out" "$hdr"
	code=$(send "$type" "$creds" "$T/req.xml" "$out" "$hdr") || true
	[ -f "$out" ] || : >"$out"
	sig=$(signature "$code" "$out")
	h=$(last_headers "$hdr" 2>/dev/null || true)
	SIG[$type]=$sig
	[ "$want" = = ] && { want=${WANT[password]}; same=1; } || same=0
	WANT[$type]=$want
	set -- $want
	case "$1" in
	fault)
		hr=${3:-} fcode=$(echo "$sig" | cut -d'|' -f2)
		case "$2" in */*) fcode=$fcode/$(echo "$sig" | cut -d'|' -f3) ;; esac
		if [ "$code" != 500 ]; then fail "$label: HTTP $code, want 500"; head -c 400 "$out" >&2; echo >&2
		elif [ "$(xp "$out" "local-name(/*[$X='Envelope']/*[$X='Body']/*[1])")" != Fault ]; then fail "$label: no s:Fault"
		elif [ "$fcode" != "$2" ]; then fail "$label: code '$fcode', want $2"
		elif [ -n "$hr" ] && [ "$(echo "$sig" | cut -d'|' -f5)" != "$hr" ]; then
			fail "$label: ErrorCode '$(echo "$sig" | cut -d'|' -f5)', want $hr ($(echo "$sig" | cut -d'|' -f4))"
		else pass "$label: fault $2${hr:+ ErrorCode $hr}"; fi ;;
	secfault)
		[ "$code" = 500 ] && [ "$(echo "$sig" | cut -d'|' -f2-3)" = "Sender|InvalidSecurity" ] \
		    && pass "$label: security fault" || fail "$label: '$sig', want the security fault" ;;
	status)
		[ "$code" = "$2" ] && pass "$label: HTTP $2" || fail "$label: HTTP $code, want $2" ;;
	challenge)
		if [ "$code" = 401 ] && echo "$h" | grep -Eiq '^WWW-Authenticate: Negotiate\s*$' && ! grep -q Envelope "$out"; then
			pass "$label: 401 + bare WWW-Authenticate: Negotiate"
		else fail "$label: HTTP $code, $(echo "$h" | grep -i '^www-auth' || echo 'no WWW-Authenticate')"; fi ;;
	*) die "bad expectation '$want'" ;;
	esac
	if [ "$same" = 1 ]; then
		[ "$sig" = "${SIG[password]}" ] && pass "$label: same answer as on the password endpoint" \
		    || fail "$label: '$sig', on the password endpoint '${SIG[password]}'"
	fi
	# Kerberos: whatever is answered after authentication carries the mutual token (404, 405
	# and 413 are decided before it)
	if [ "$type/$creds" = kerberos/good ] && [ "$code" != 404 ] && [ "$code" != 405 ] && [ "$code" != 413 ]; then
		echo "$h" | grep -Eiq '^WWW-Authenticate: Negotiate [A-Za-z0-9+/=]{20,}\s*$' \
		    && pass "$label: mutual token on the HTTP $code answer" || fail "$label: HTTP $code without mutual token"
	fi
	[ -n "$check" ] && "$check" "$type" "$svc" "$name" "$out"
	still_serving "$type" "$svc $name" || true
}

while IFS="|" read -r -u 3 svc name builder creds w_pw w_krb w_cert check; do
	svc=$(echo $svc) builder=$(echo $builder) creds=$(echo $creds) check=$(echo $check)
	name=$(echo "$name" | sed 's/^ *//; s/ *$//')
	w_pw=$(echo $w_pw) w_krb=$(echo $w_krb) w_cert=$(echo $w_cert)
	SIG=() WANT=()
	run_one "$svc" "$name" "$builder" "$creds" password "$w_pw" "$check"
	run_one "$svc" "$name" "$builder" "$creds" kerberos "$w_krb" "$check"
	run_one "$svc" "$name" "$builder" "$creds" certificate "$w_cert" "$check"
	# Kerberos and certificates, both transport authentication, answer alike when expected alike
	if [ "$w_krb" != - ] && [ "${WANT[kerberos]}" = "${WANT[certificate]}" ] && [ "$w_krb" != = ]; then
		[ "${SIG[kerberos]}" = "${SIG[certificate]}" ] && pass "$svc $name: kerberos and certificate answer alike" \
		    || fail "$svc $name: kerberos '${SIG[kerberos]}', certificate '${SIG[certificate]}'"
	fi
done 3<<<"$CASES"

sleep 0.3
[ ! -s "$T/fetches" ] && pass "no external entity fetched" || fail "external entity fetched: $(cat "$T/fetches")"
for ty in $TYPES; do
	if still_serving "$ty" "all cases"; then pass "$ty endpoints serve after all cases"; fi
done
stop_pid "$SERVE_PID"
grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error' "$T/serve.log" \
    && { fail "sanitizer report in the server log"; grep -E -A20 'AddressSanitizer|LeakSanitizer|runtime error' "$T/serve.log" | head -60 >&2; } \
    || pass "server log free of sanitizer reports"
finish
