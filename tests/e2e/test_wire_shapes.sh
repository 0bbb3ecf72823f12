#!/usr/bin/env bash
# The recorded request shapes of real clients (Windows CertEnroll, cepces), posted with curl;
# the responses are checked field by field and validated against the MS-XCEP / MS-WSTEP schemas.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
D=$T/demo
start_demo "$D" "$PORT"
BASE="https://127.0.0.1:$PORT"
CA=$D/ca.pem
PW=$(cat "$D/demo-password")
X='local-name()'

for shape in windows cepces; do
	render "$VEC/getpolicies-$shape.xml" "$T/gp-$shape.xml" TO="$BASE$CEP_PATH" USER=demo PASSWORD="$PW"
	code=$(post "$BASE$CEP_PATH" "$CA" "$T/gp-$shape.xml" "$T/gpr-$shape.xml")
	[ "$code" = 200 ] && pass "GetPolicies ($shape): 200" || { fail "GetPolicies ($shape): HTTP $code"; cat "$T/gpr-$shape.xml" >&2; continue; }
	R=$T/gpr-$shape.xml
	[ "$(xp "$R" "string(//*[$X='Action'])")" = "http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy/IPolicy/GetPoliciesResponse" ] \
	    && pass "$shape: response Action" || fail "$shape: response Action"
	want_id=$(xp "$T/gp-$shape.xml" "string(//*[$X='MessageID'])")
	[ "$(xp "$R" "string(//*[$X='RelatesTo'])")" = "$want_id" ] && pass "$shape: RelatesTo" || fail "$shape: RelatesTo"
	[ "$(xp "$R" "local-name(/*[$X='Envelope']/*[$X='Body']/*[1])")" = GetPoliciesResponse ] \
	    && pass "$shape: GetPoliciesResponse is the first Body child" || fail "$shape: Body child"
	body_payload "$R" "$T/gpr-$shape.payload.xml"
	xmllint --noout --schema "$SCHEMAS/xcep.xsd" "$T/gpr-$shape.payload.xml" 2>"$T/xsd.err" \
	    && pass "$shape: GetPoliciesResponse validates against MS-XCEP" || { fail "$shape: schema"; cat "$T/xsd.err" >&2; }
	names=$(xp "$R" "//*[$X='attributes']/*[$X='commonName']/text()" | tr '\n' ' ')
	for tpl in User Machine WebServer Workstation; do
		echo " $names " | grep -q " $tpl " && pass "$shape: policy offers $tpl" || fail "$shape: $tpl missing from ($names)"
	done
	[ "$(xp "$R" "string(//*[$X='policy'][*[$X='attributes']/*[$X='commonName']='User']//*[$X='subjectNameFlags'])")" = 2785017856 ] \
	    && pass "$shape: User subjectNameFlags unsigned 2785017856" || fail "$shape: User subjectNameFlags"
	[ "$(xp "$R" "string(//*[$X='policy'][*[$X='attributes']/*[$X='commonName']='WebServer']//*[$X='enroll'])")" = true ] \
	    && pass "$shape: WebServer enroll true" || fail "$shape: WebServer enroll"
	[ "$(xp "$R" "string(//*[$X='cAURI']/*[$X='uri'])")" = "$BASE$CES_PATH" ] \
	    && pass "$shape: CES URI published" || fail "$shape: CES URI: $(xp "$R" "string(//*[$X='cAURI']/*[$X='uri'])")"
	[ "$(xp "$R" "string(//*[$X='cAURI']/*[$X='clientAuthentication'])")" = 4 ] \
	    && pass "$shape: clientAuthentication 4" || fail "$shape: clientAuthentication"
	cert_b64=$(xp "$R" "string(//*[$X='cA']/*[$X='certificate'])")
	[ "$(echo "$cert_b64" | base64 -d | openssl x509 -inform DER -outform PEM 2>/dev/null | sha256sum)" = \
	  "$(openssl x509 -in "$CA" | sha256sum)" ] && pass "$shape: CA certificate published" || fail "$shape: CA certificate"
	policy_id=$(xp "$R" "string(//*[$X='policyID'])")
	[ -n "$policy_id" ] && pass "$shape: policyID $policy_id" || fail "$shape: no policyID"
done
# policyID is stable across requests
[ "$(xp "$T/gpr-windows.xml" "string(//*[$X='policyID'])")" = "$(xp "$T/gpr-cepces.xml" "string(//*[$X='policyID'])")" ] \
    && pass "policyID stable" || fail "policyID differs"

# Issue, cepces shape (template in the 20.2 extension, PKCS10 ValueType, one line base64).
cat >"$T/ext.cnf" <<'CNF'
[req]
distinguished_name = dn
[dn]
[v1]
1.3.6.1.4.1.311.20.2 = ASN1:BMPSTRING:WebServer
subjectAltName = DNS:cepces.example.test
CNF
CSR=$(csr_b64 "$T/cepces.key" "/CN=cepces.example.test" -config "$T/ext.cnf" -reqexts v1)
render "$VEC/issue-cepces.xml" "$T/is-cepces.xml" TO="$BASE$CES_PATH" USER=demo PASSWORD="$PW" CSR="$CSR"
code=$(post "$BASE$CES_PATH" "$CA" "$T/is-cepces.xml" "$T/isr-cepces.xml")
R=$T/isr-cepces.xml
[ "$code" = 200 ] && pass "Issue (cepces): 200" || { fail "Issue (cepces): HTTP $code"; cat "$R" >&2; }
[ "$(xp "$R" "local-name(/*[$X='Envelope']/*[$X='Body']/*[1])")" = RequestSecurityTokenResponseCollection ] \
    && pass "cepces: RSTRC is the first Body child" || fail "cepces: Body child"
[ "$(xp "$R" "string(//*[$X='Action'])")" = "http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RSTRC/wstep" ] \
    && pass "cepces: RSTRC Action" || fail "cepces: Action"
[ "$(xp "$R" "string(//*[$X='RelatesTo'])")" = "urn:uuid:bc7ef851-2ddd-454a-af67-ca7ffab57d60" ] \
    && pass "cepces: RelatesTo" || fail "cepces: RelatesTo"
order=$(/usr/bin/python3 -c '
import sys, xml.etree.ElementTree as ET
for e in ET.parse(sys.argv[1]).iter():
    if e.tag.endswith("}RequestSecurityTokenResponse"):
        print(" ".join(c.tag.split("}")[1] for c in e), end=" ")' "$R")
[ "$order" = "TokenType DispositionMessage BinarySecurityToken RequestedSecurityToken RequestID " ] \
    && pass "cepces: RSTR children in Windows order" || fail "cepces: RSTR children: $order"
certtext=$(xp "$R" "string(//*[$X='RequestedSecurityToken']/*[$X='BinarySecurityToken'])")
echo -n "$certtext" | grep -Eq '^[A-Za-z0-9+/=]+$' && pass "cepces: certificate base64 on one line" || fail "cepces: certificate text layout"
echo "$certtext" | base64 -d >"$T/cepces.der" 2>/dev/null
openssl x509 -inform DER -in "$T/cepces.der" -out "$T/cepces.pem" 2>/dev/null \
    && openssl verify -CAfile "$CA" "$T/cepces.pem" >/dev/null 2>&1 && pass "cepces: certificate verifies" || fail "cepces: certificate"
openssl x509 -in "$T/cepces.pem" -noout -text | grep -q 'cepces.example.test' && pass "cepces: SAN/subject from request" || fail "cepces: names"
rid=$(xp "$R" "string(//*[$X='RequestID'])")
echo "$rid" | grep -Eq '^[0-9]+$' && [ "$rid" -le 4294967295 ] && pass "cepces: RequestID $rid decimal 32-bit" || fail "cepces: RequestID '$rid'"
cmc=$(xp "$R" "string(//*[$X='RequestSecurityTokenResponse']/*[$X='BinarySecurityToken'])")
echo "$cmc" | base64 -d >"$T/cmc.der"
openssl cms -cmsout -inform DER -in "$T/cmc.der" -print 2>/dev/null | grep -q '1.3.6.1.5.5.7.12.3\|id-cct-PKIResponse' \
    && pass "cepces: CMC full PKI response (id-cct-PKIResponse)" || fail "cepces: CMC content type"
openssl cms -verify -inform DER -in "$T/cmc.der" -CAfile "$CA" -binary -out /dev/null 2>/dev/null \
    && pass "cepces: CMC response signed by the CA" || fail "cepces: CMC signature"
body_payload "$R" "$T/isr-cepces.payload.xml"
xmllint --noout --schema "$SCHEMAS/wstep.xsd" "$T/isr-cepces.payload.xml" 2>"$T/xsd.err" \
    && pass "cepces: RSTRC validates against MS-WSTEP" || { fail "cepces: RSTRC schema"; cat "$T/xsd.err" >&2; }

# Issue, Windows shape (template in AdditionalContext, #PKCS7 ValueType, 64-column base64).
CSR=$(openssl req -new -newkey rsa:2048 -nodes -keyout "$T/win.key" -subj "/CN=win.example.test" -outform DER 2>/dev/null | base64 -w64)
render "$VEC/issue-windows.xml" "$T/is-win.xml" USER=demo PASSWORD="$PW" CSR="$CSR" TEMPLATE=WebServer
code=$(post "$BASE$CES_PATH" "$CA" "$T/is-win.xml" "$T/isr-win.xml")
R=$T/isr-win.xml
[ "$code" = 200 ] && pass "Issue (windows): 200" || { fail "Issue (windows): HTTP $code"; cat "$R" >&2; }
[ "$(xp "$R" "string(//*[$X='RelatesTo'])")" = "urn:uuid:b5d1a601-5091-4a7d-b34b-5204c18b5919" ] \
    && pass "windows: RelatesTo" || fail "windows: RelatesTo"
xp "$R" "string(//*[$X='RequestedSecurityToken']/*[$X='BinarySecurityToken'])" | base64 -d 2>/dev/null \
    | openssl x509 -inform DER -noout -subject 2>/dev/null | grep -q win.example.test \
    && pass "windows: certificate for win.example.test" || fail "windows: certificate"
body_payload "$R" "$T/isr-win.payload.xml"
xmllint --noout --schema "$SCHEMAS/wstep.xsd" "$T/isr-win.payload.xml" 2>"$T/xsd.err" \
    && pass "windows: RSTRC validates" || { fail "windows: RSTRC schema"; cat "$T/xsd.err" >&2; }

# Path matching: case-insensitive and with a trailing slash, like IIS.
lc=$(echo "$CEP_PATH" | tr 'A-Z' 'a-z')
code=$(post "$BASE$lc/" "$CA" "$T/gp-cepces.xml" "$T/lc.xml")
[ "$code" = 200 ] && pass "lower-case path with trailing slash" || fail "lower-case path: $code"
finish
