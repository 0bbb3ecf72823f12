#!/usr/bin/env bash
# Kerberos (HTTP Negotiate, docs/protocol/xcep.md 1.5, wstep.md 4.1) end to end against a
# throwaway MIT KDC (tests/lib/mit-kdc.sh, realm EXAMPLE.TEST, keytab for HTTP/localhost):
# 401 + "WWW-Authenticate: Negotiate" first, the mutual token on 200 and on a fault,
# `opences enroll --auth kerberos` from a credential cache and from a client keytab,
# rights of the mapped directory account, an unknown principal, channel-binding modes.
# URLs use the host name localhost (the SPN), resolved without DNS.
. "$(dirname "$0")/lib.sh"

MKDC=$OC_SOURCE_DIR/tests/lib/mit-kdc.sh
K=$T/kdc
export MKDC_PORT
MKDC_PORT=$(free_port)
trap 'bash "$MKDC" stop "$K" >/dev/null 2>&1 || true; cleanup' EXIT
bash "$MKDC" start "$K" >/dev/null || die "KDC did not start"
eval "$(bash "$MKDC" env "$K")"
unset KRB5_KTNAME              # the server names its keytab in its configuration

PORT=$(free_port)
D=$T/demo
# the demo creates CA, TLS certificate and directory; then our own configuration serves
start_demo "$D" "$PORT"
stop_pid "$DEMO_PID"
"$OPENCESD" --dir "$D" account add alice --upn alice@EXAMPLE.TEST >/dev/null || die "account add"
"$OPENCESD" --dir "$D" grant WebServer alice enroll >/dev/null || die "grant"

BASE="https://localhost:$PORT"
CA=$D/ca.pem
X='local-name()'
CEP_K=$BASE/ADPolicyProvider_CEP_Kerberos/service.svc/CEP
CES_K="$BASE/OpenCES%20Demo%20CA_CES_Kerberos/service.svc/CES"

serve_with() { # channel_binding mode [kerberos_realm]
	sed -e "s|^public_url = .*|public_url = $BASE|" \
	    -e "s|^client_ca = ca.pem|client_ca = ca.pem\nkeytab = $K/http.keytab\nspn = HTTP/localhost\nchannel_binding = $1\nkerberos_realm = ${2:-EXAMPLE.TEST}|" \
	    "$D/opencesd.conf" >"$D/krb.conf"
	cat >>"$D/krb.conf" <<EOF

[endpoint]
service = cep
auth = kerberos

[endpoint]
service = ces
auth = kerberos
priority = 3
EOF
	start_serve "$D/krb.conf" "$T/serve-$1.log" "https://127.0.0.1:$PORT" "$CA"
}
serve_with when_present

# curl_k OUT HEADERS BODYFILE URL [curl args] -> HTTP status (Negotiate with the current ccache)
curl_k() {
	local out=$1 hdr=$2 body=$3 url=$4
	shift 4
	curl -s --cacert "$CA" --resolve "localhost:$PORT:127.0.0.1" -o "$out" -D "$hdr" \
	    -w '%{http_code}' -H 'Content-Type: application/soap+xml; charset=utf-8' \
	    --data-binary @"$body" "$@" "$url"
}
# the recorded request shapes without their WS-Security header (Kerberos is transport auth)
strip_security() {
	/usr/bin/python3 -c 'import re,sys; s=open(sys.argv[1]).read(); open(sys.argv[2],"w").write(re.sub(r"<(\w+):Security\b.*?</\1:Security>", "", s, flags=re.S))' "$1" "$2"
}
render "$VEC/getpolicies-cepces.xml" "$T/gp.in" TO="$CEP_K" USER=x PASSWORD=x
strip_security "$T/gp.in" "$T/gp.xml"
issue_k() { # OUT TEMPLATE
	local csr
	csr=$(csr_b64 "$T/k-$2.pem" "/CN=krb.example.test")
	render "$VEC/issue-windows.xml" "$T/is.in" USER=x PASSWORD=x CSR="$csr" TEMPLATE="$2"
	strip_security "$T/is.in" "$1"
}
grep -q Security "$T/gp.xml" && die "Security header left in the request"

# --- 1. first POST without Authorization: bare 401 challenge, no SOAP
code=$(curl_k "$T/r1" "$T/h1" "$T/gp.xml" "$CEP_K")
[ "$code" = 401 ] && pass "no Authorization: 401" || fail "no Authorization: HTTP $code"
grep -Eiq '^WWW-Authenticate: Negotiate\s*$' "$T/h1" && pass "401 carries a bare 'WWW-Authenticate: Negotiate'" \
    || fail "401 challenge: $(grep -i www-auth "$T/h1")"
grep -q Envelope "$T/r1" && fail "401 carries SOAP" || pass "401 without SOAP"
code=$(curl_k "$T/r1" "$T/h1" "$T/gp.xml" "$CES_K")
[ "$code" = 401 ] && grep -Eiq '^WWW-Authenticate: Negotiate' "$T/h1" && pass "CES: 401 + Negotiate" || fail "CES first POST: $code"
# --- a Basic header or a garbage token: 401 again
code=$(curl_k "$T/r1" "$T/h1" "$T/gp.xml" "$CEP_K" -H 'Authorization: Basic YWxpY2U6eA==')
[ "$code" = 401 ] && pass "Basic credentials: 401" || fail "Basic: HTTP $code"
code=$(curl_k "$T/r1" "$T/h1" "$T/gp.xml" "$CEP_K" -H "Authorization: Negotiate $(head -c 300 /dev/urandom | base64 -w0)")
[ "$code" = 401 ] && grep -Eiq '^WWW-Authenticate: Negotiate\s*$' "$T/h1" && pass "garbage token: 401 + Negotiate" || fail "garbage token: HTTP $code"
code=$(curl_k "$T/r1" "$T/h1" "$T/gp.xml" "$CEP_K" -H 'Authorization: Negotiate !!!not-base64!!!')
[ "$code" = 401 ] && pass "token not base64: 401" || fail "token not base64: HTTP $code"
# a 64 KiB Authorization header passes the HTTP layer (and is refused by Kerberos)
big=$(head -c 49000 /dev/urandom | base64 -w0)
code=$(curl_k "$T/r1" "$T/h1" "$T/gp.xml" "$CEP_K" -H "Authorization: Negotiate $big")
[ "$code" = 401 ] && pass "Authorization header of ${#big} bytes: 401 from Kerberos, not the HTTP limit" \
    || fail "large Authorization header: HTTP $code"

# --- 2. curl --negotiate as alice (user ccache from kinit): GetPolicies
code=$(curl_k "$T/gp-alice.xml" "$T/h2" "$T/gp.xml" "$CEP_K" --negotiate -u :)
[ "$code" = 200 ] && pass "alice GetPolicies: 200" || { fail "alice GetPolicies: HTTP $code"; cat "$T/serve-when_present.log" >&2; }
grep -Eiq '^WWW-Authenticate: Negotiate [A-Za-z0-9+/=]{20,}' "$T/h2" && pass "200 carries the mutual token" \
    || fail "200 without mutual token: $(grep -i www-auth "$T/h2")"
tpls=$(xp "$T/gp-alice.xml" "//*[$X='policy']/*[$X='attributes']/*[$X='commonName']/text()" | sort | tr '\n' ' ')
case " $tpls " in *" WebServer "*) pass "alice sees WebServer (granted)";; *) fail "alice's templates: $tpls";; esac
case " $tpls " in *" Workstation "*) fail "alice sees Workstation (no right)";; *) pass "alice does not see Workstation";; esac
# the policy lists the Kerberos CES URI with clientAuthentication 2
xp "$T/gp-alice.xml" "//*[$X='cAURI'][*[$X='clientAuthentication']='2']/*[$X='uri']/text()" | grep -qF "$CES_K" \
    && pass "policy: Kerberos CES URI with clientAuthentication 2" || fail "policy: no Kerberos CES URI"

# --- 3. CES: WebServer issued to alice; Workstation refused by the CA (a fault with the token)
issue_k "$T/is-web.xml" WebServer
code=$(curl_k "$T/web.xml" "$T/h3" "$T/is-web.xml" "$CES_K" --negotiate -u :)
[ "$code" = 200 ] && pass "alice Issue WebServer: 200" || { fail "alice Issue WebServer: HTTP $code"; head -c 800 "$T/web.xml" >&2; }
grep -Eiq '^WWW-Authenticate: Negotiate [A-Za-z0-9+/=]{20,}' "$T/h3" && pass "Issue 200 carries the mutual token" || fail "Issue 200 without token"
issue_k "$T/is-ws.xml" Workstation
code=$(curl_k "$T/ws.xml" "$T/h4" "$T/is-ws.xml" "$CES_K" --negotiate -u :)
[ "$code" = 500 ] && [ "$(xp "$T/ws.xml" "string(//*[$X='ErrorCode'])")" = -2146877422 ] \
    && pass "alice Issue Workstation: denied fault (no Enroll right)" || fail "alice Workstation: HTTP $code $(xp "$T/ws.xml" "string(//*[$X='ErrorCode'])")"
grep -Eiq '^WWW-Authenticate: Negotiate [A-Za-z0-9+/=]{20,}' "$T/h4" && pass "500 fault carries the mutual token" || fail "fault without mutual token"
"$OPENCESD" --dir "$D" request list >"$T/requests.txt" 2>&1
grep -q alice "$T/requests.txt" && pass "requests recorded for alice" || fail "no request recorded for alice"

# --- 4. opences enroll --auth kerberos (ccache from kinit), CEP and CES over Kerberos
mkdir -p "$T/enroll"
if "$OPENCES" enroll --policy-url "$CEP_K" --auth kerberos --template WebServer --ca-file "$CA" \
    --subject CN=alice-web.example.test --dns alice-web.example.test \
    --key-out "$T/enroll/key.pem" --cert-out "$T/enroll/cert.pem" >"$T/enroll/log" 2>&1; then
	pass "opences enroll --auth kerberos (ccache)"
	openssl verify -CAfile "$CA" "$T/enroll/cert.pem" >/dev/null 2>&1 && pass "certificate verifies" || fail "certificate does not verify"
else fail "opences enroll --auth kerberos: exit $?"; cat "$T/enroll/log" >&2; fi
set +e
"$OPENCES" enroll --policy-url "$CEP_K" --auth kerberos --template Workstation --ca-file "$CA" \
    --key-out "$T/enroll/k2.pem" --cert-out "$T/enroll/c2.pem" >"$T/enroll/log2" 2>&1
rc=$?
set -e
[ "$rc" != 0 ] && pass "opences enroll Workstation refused (exit $rc)" || fail "Workstation enrolled over Kerberos"

# --- 5. an unknown principal (machine account client$ from its keytab, no directory account)
export KRB5CCNAME=FILE:$T/machine.ccache
bash "$MKDC" kinit-machine "$K" "$KRB5CCNAME"
code=$(curl_k "$T/gp-machine.xml" "$T/h5" "$T/gp.xml" "$CEP_K" --negotiate -u :)
n=$(xp "$T/gp-machine.xml" "count(//*[$X='policy'])")
[ "$code" = 200 ] && [ "${n:-x}" = 0 ] && pass "unknown principal client\$: authenticated, no template" \
    || fail "unknown principal: HTTP $code, $n policies"
issue_k "$T/is-m.xml" WebServer
code=$(curl_k "$T/m.xml" "$T/h6" "$T/is-m.xml" "$CES_K" --negotiate -u :)
[ "$code" = 500 ] && pass "unknown principal: Issue refused" || fail "unknown principal Issue: HTTP $code"
# the same machine from a client keytab (MIT's KRB5_CLIENT_KTNAME, no kinit), once a computer account exists
"$OPENCESD" --dir "$D" account add 'client$' --kind computer --dns client.example.test >/dev/null || fail "computer account"
"$OPENCESD" --dir "$D" grant WebServer 'client$' enroll >/dev/null || fail "grant computer"
sleep 1.2    # the policy snapshot is re-read at most once a second
mkdir -p "$T/kt"
if KRB5CCNAME=MEMORY:kt KRB5_CLIENT_KTNAME=$K/client.keytab "$OPENCES" enroll --policy-url "$CEP_K" \
    --auth kerberos --template WebServer --ca-file "$CA" --subject CN=client.example.test \
    --dns client.example.test --key-out "$T/kt/key.pem" --cert-out "$T/kt/cert.pem" >"$T/kt/log" 2>&1; then
	pass "opences enroll --auth kerberos from a client keytab (client\$ -> computer account)"
else fail "client keytab enroll: exit $?"; cat "$T/kt/log" >&2; fi
export KRB5CCNAME=FILE:$K/ccache

# --- 6. the three endpoint types side by side on this one server; the policy publishes a
# CES URI per auth type with its clientAuthentication (2, 4, 8) and priority
PW=$(cat "$D/demo-password")
render "$VEC/getpolicies-cepces.xml" "$T/gp-pw.xml" TO="$BASE$CEP_PATH" USER=demo PASSWORD="$PW"
code=$(curl_k "$T/pol.xml" "$T/h8" "$T/gp-pw.xml" "$BASE$CEP_PATH")
[ "$code" = 200 ] && pass "password endpoint on the same server: 200" || fail "password endpoint: HTTP $code"
uris=$(xp "$T/pol.xml" "//*[$X='cAURI']" | /usr/bin/python3 -c '
import re, sys
for m in re.finditer(r"<(?:\w+:)?cAURI>(.*?)</(?:\w+:)?cAURI>", sys.stdin.read(), re.S):
    f = dict(re.findall(r"<(?:\w+:)?(\w+)>([^<]*)</", m.group(1)))
    print(f["clientAuthentication"], f["priority"], f["uri"].rsplit("/", 3)[1])' | sort | tr '\n' ';')
want="2 3 OpenCES%20Demo%20CA_CES_Kerberos;4 1 OpenCES%20Demo%20CA_CES_UsernamePassword;8 2 OpenCES%20Demo%20CA_CES_Certificate;"
[ "$uris" = "$want" ] && pass "policy: CES URIs 2/4/8 with priorities 3/1/2" || fail "policy CES URIs: '$uris' want '$want'"
mkdir -p "$T/side"
"$OPENCES" enroll --policy-url "https://localhost:$PORT$CEP_PATH" --auth password --user demo \
    --password-file "$D/demo-password" --template User --ca-file "$CA" \
    --key-out "$T/side/key.pem" --cert-out "$T/side/cert.pem" >"$T/side/log" 2>&1 \
    && pass "password enrollment beside Kerberos" || { fail "password enrollment"; cat "$T/side/log" >&2; }
code=$(curl -s --cacert "$CA" --resolve "localhost:$PORT:127.0.0.1" --cert "$T/side/cert.pem" --key "$T/side/key.pem" \
    -o "$T/c.xml" -w '%{http_code}' -H 'Content-Type: application/soap+xml; charset=utf-8' \
    --data-binary @"$T/gp.xml" "$BASE/ADPolicyProvider_CEP_Certificate/service.svc/CEP")
[ "$code" = 200 ] && pass "certificate endpoint beside Kerberos: 200" || fail "certificate endpoint: HTTP $code"
code=$(curl_k "$T/r9" "$T/h9" "$T/gp.xml" "$CEP_K" --cert "$T/side/cert.pem" --key "$T/side/key.pem")
[ "$code" = 401 ] && pass "a client certificate is no Kerberos credential: 401" || fail "cert on Kerberos endpoint: HTTP $code"

# --- 7. channel bindings: curl sends none; accepted in when_present, refused when required
code=$(curl_k "$T/cb.xml" "$T/h7" "$T/gp.xml" "$CEP_K" --negotiate -u :)
[ "$code" = 200 ] && pass "when_present: no bindings accepted" || fail "when_present: HTTP $code"
stop_pid "$SERVE_PID"
serve_with required
code=$(curl_k "$T/cb.xml" "$T/h7" "$T/gp.xml" "$CEP_K" --negotiate -u :)
[ "$code" = 401 ] && pass "required: no bindings refused (401)" || fail "required: HTTP $code"
grep -q Envelope "$T/cb.xml" && fail "required: SOAP answered" || pass "required: no SOAP processed"

# --- 8. only principals of the configured realm map to accounts by name: with another
# realm configured, client$@EXAMPLE.TEST is no longer the computer account client$
stop_pid "$SERVE_PID"
serve_with when_present OTHER.TEST
export KRB5CCNAME=FILE:$T/machine.ccache
code=$(curl_k "$T/gp-realm.xml" "$T/h10" "$T/gp.xml" "$CEP_K" --negotiate -u :)
n=$(xp "$T/gp-realm.xml" "count(//*[$X='policy'])")
[ "$code" = 200 ] && [ "${n:-x}" = 0 ] && pass "principal of another realm: not mapped by name (no template)" \
    || fail "realm scoping: HTTP $code, $n policies"
finish
