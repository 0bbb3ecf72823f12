#!/usr/bin/env bash
# Bad input: each case gets its expected SOAP fault (HTTP 500, the right HRESULT) or HTTP
# status, nothing is expanded or fetched, and the server keeps serving afterwards.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
D=$T/demo
start_demo "$D" "$PORT"
BASE="https://127.0.0.1:$PORT"
CA=$D/ca.pem
PW=$(cat "$D/demo-password")
X='local-name()'
CEP=$BASE$CEP_PATH
CES=$BASE$CES_PATH

render "$VEC/getpolicies-cepces.xml" "$T/gp.xml" TO="$CEP" USER=demo PASSWORD="$PW"
still_serving() {
	local code
	code=$(post "$CEP" "$CA" "$T/gp.xml" "$T/alive.xml")
	[ "$code" = 200 ] && pass "still serving after: $1" || fail "not serving after: $1 (HTTP $code)"
}
# expect_fault NAME URL FILE CODE [HRESULT]
expect_fault() {
	local name=$1 url=$2 file=$3 want=$4 hr=${5:-} code out=$T/resp.xml
	code=$(post "$url" "$CA" "$file" "$out")
	if [ "$code" != 500 ]; then fail "$name: HTTP $code, want 500"; head -c 600 "$out" >&2; echo >&2
	elif [ "$(xp "$out" "local-name(/*[$X='Envelope']/*[$X='Body']/*[1])")" != Fault ]; then fail "$name: no s:Fault"
	elif ! xp "$out" "string(//*[$X='Fault']/*[$X='Code']/*[$X='Value'])" | grep -q ":$want\$"; then
		fail "$name: code $(xp "$out" "string(//*[$X='Fault']/*[$X='Code']/*[$X='Value'])"), want $want"
	elif [ -n "$hr" ] && [ "$(xp "$out" "string(//*[$X='ErrorCode'])")" != "$hr" ]; then
		fail "$name: ErrorCode '$(xp "$out" "string(//*[$X='ErrorCode'])")', want $hr ($(xp "$out" "string(//*[$X='Reason'])"))"
	else pass "$name: fault $want ${hr:+ErrorCode $hr}"; fi
	still_serving "$name"
}
expect_status() {
	local name=$1 url=$2 file=$3 want=$4 code
	code=$(post "$url" "$CA" "$file" "$T/resp.out")
	[ "$code" = "$want" ] && pass "$name: HTTP $want" || fail "$name: HTTP $code, want $want"
	still_serving "$name"
}
issue_with() { # OUT CSR_B64 [TEMPLATE]
	render "$VEC/issue-windows.xml" "$1" USER=demo PASSWORD="$PW" CSR="$2" TEMPLATE="${3:-WebServer}"
}
good_csr() { openssl req -new -newkey rsa:2048 -nodes -keyout "$T/k.pem" -subj "/CN=bad.example.test" -outform DER 2>/dev/null; }

# --- XML level, both services
printf '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><oops></s:Body>' >"$T/malformed.xml"
expect_fault "CEP malformed XML" "$CEP" "$T/malformed.xml" Sender
expect_fault "CES malformed XML" "$CES" "$T/malformed.xml" Sender -2147024809

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
sed "s|<s:Envelope|<!DOCTYPE s:Envelope [<!ENTITY x \"EXPANDED-ENTITY\"><!ENTITY ext SYSTEM \"http://127.0.0.1:$HP/ext\"><!ENTITY file SYSTEM \"file:///etc/hostname\">]><s:Envelope|; s|<o:Username>@USER@</o:Username>|<o:Username>\&x;\&ext;\&file;</o:Username>|" \
    "$VEC/getpolicies-windows.xml" >"$T/dtd.in"
render "$T/dtd.in" "$T/dtd.xml" TO="$CEP" USER=demo PASSWORD="$PW"
expect_fault "CEP DOCTYPE with entities" "$CEP" "$T/dtd.xml" Sender
grep -q EXPANDED-ENTITY "$T/resp.xml" && fail "entity expanded in the answer" || pass "entity not expanded"
expect_fault "CES DOCTYPE with entities" "$CES" "$T/dtd.xml" Sender -2147024809
cat >"$T/laughs.xml" <<'XML'
<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&lol3;</s:Body></s:Envelope>
XML
expect_fault "billion laughs" "$CEP" "$T/laughs.xml" Sender
sleep 0.3
[ ! -s "$T/fetches" ] && pass "no external entity fetched" || fail "external entity fetched: $(cat "$T/fetches")"

sed 's|http://www.w3.org/2003/05/soap-envelope|http://schemas.xmlsoap.org/soap/envelope/|' "$T/gp.xml" >"$T/soap11.xml"
expect_fault "SOAP 1.1 envelope" "$CEP" "$T/soap11.xml" VersionMismatch
sed 's|xmlns:ns2="http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy"|xmlns:ns2="urn:example:wrong"|' "$T/gp.xml" >"$T/wrongns.xml"
expect_fault "GetPolicies in a wrong namespace" "$CEP" "$T/wrongns.xml" Sender
sed 's|<ns3:Security.*</ns3:Security>||' "$T/gp.xml" >"$T/nosec.xml"
expect_fault "missing Security header" "$CEP" "$T/nosec.xml" Sender
sed 's|<ns0:Header>.*</ns0:Header>||' "$T/gp.xml" >"$T/nohdr.xml"
expect_fault "missing SOAP header" "$CEP" "$T/nohdr.xml" Sender
sed 's|</ns1:To>|</ns1:To><ns1:Unknown ns0:mustUnderstand="1">x</ns1:Unknown>|' "$T/gp.xml" >"$T/mu.xml"
expect_fault "unknown mustUnderstand header" "$CEP" "$T/mu.xml" Sender
sed 's|<ns2:client>.*</ns2:client>||' "$T/gp.xml" >"$T/noclient.xml"
expect_fault "GetPolicies without client" "$CEP" "$T/noclient.xml" Sender

# oversized body: 2 MiB
{ cat "$T/gp.xml"; head -c 2097152 /dev/zero | tr '\0' ' '; } >"$T/big.xml"
expect_status "oversized body" "$CEP" "$T/big.xml" 413
# wrong content type
code=$(curl -s --cacert "$CA" -o /dev/null -w '%{http_code}' -H 'Content-Type: text/plain' --data-binary @"$T/gp.xml" "$CEP")
[ "$code" = 415 ] && pass "wrong Content-Type: 415" || fail "wrong Content-Type: $code"
code=$(curl -s --cacert "$CA" -o /dev/null -w '%{http_code}' "$CEP")
[ "$code" = 405 ] && pass "GET on the endpoint: 405" || fail "GET: $code"
code=$(curl -s --cacert "$CA" -o /dev/null -w '%{http_code}' -H 'Content-Type: application/soap+xml' --data-binary @"$T/gp.xml" "$BASE/nowhere")
[ "$code" = 404 ] && pass "unknown path: 404" || fail "unknown path: $code"

# --- credentials: wrong password and unknown user get the same answer
render "$VEC/getpolicies-cepces.xml" "$T/wrongpw.xml" TO="$CEP" USER=demo PASSWORD="not-the-password"
expect_fault "wrong password" "$CEP" "$T/wrongpw.xml" Sender
cp "$T/resp.xml" "$T/wrongpw.resp"
render "$VEC/getpolicies-cepces.xml" "$T/nouser.xml" TO="$CEP" USER=nobody PASSWORD="not-the-password"
expect_fault "unknown user" "$CEP" "$T/nouser.xml" Sender
cmp -s "$T/wrongpw.resp" "$T/resp.xml" && pass "wrong password and unknown user: identical answers" \
    || fail "wrong password and unknown user answers differ"
issue_with "$T/wrongpw-ces.xml" "$(good_csr | base64 -w0)"
sed -i "s|>$PW<|>wrong<|" "$T/wrongpw-ces.xml"
expect_fault "CES wrong password" "$CES" "$T/wrongpw-ces.xml" Sender

# --- request bytes
issue_with "$T/b64.xml" 'MIIB!!!not*base64'
expect_fault "bad base64" "$CES" "$T/b64.xml" Sender -2146881269
issue_with "$T/trunc.xml" "$(good_csr | head -c 200 | base64 -w0)"
expect_fault "truncated CSR" "$CES" "$T/trunc.xml" Receiver -2146881278
issue_with "$T/garbage.xml" "$(head -c 300 /dev/urandom | base64 -w0)"
expect_fault "garbage CSR" "$CES" "$T/garbage.xml" Receiver
good_csr >"$T/sig.der"
/usr/bin/python3 -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); b[-5]^=0xff; open(sys.argv[1],"wb").write(b)' "$T/sig.der"
issue_with "$T/badsig.xml" "$(base64 -w0 <"$T/sig.der")"
expect_fault "CSR signature does not verify" "$CES" "$T/badsig.xml" Receiver -2146893818
issue_with "$T/small.xml" "$(openssl req -new -newkey rsa:1024 -nodes -keyout "$T/s.pem" -subj /CN=small.example.test -outform DER 2>/dev/null | base64 -w0)"
expect_fault "key below the minimum size" "$CES" "$T/small.xml" Receiver -2146875375
issue_with "$T/unknown.xml" "$(good_csr | base64 -w0)" NoSuchTemplate
expect_fault "unknown template" "$CES" "$T/unknown.xml" Receiver -2146875392
"$OPENCESD" --dir "$D" revoke Workstation demo enroll >/dev/null 2>&1 || fail "revoke via CLI"
issue_with "$T/denied.xml" "$(good_csr | base64 -w0)" Workstation
expect_fault "template without Enroll right" "$CES" "$T/denied.xml" Receiver -2146877422
[ "$(xp "$T/resp.xml" "string(//*[$X='InvalidRequest'])")" = true ] && pass "denial: InvalidRequest true" || fail "denial: InvalidRequest"
xp "$T/resp.xml" "string(//*[$X='CertificateEnrollmentWSDetail']/*[$X='RequestID'])" | grep -Eq '^[0-9]+$' \
    && pass "denial carries the RequestID" || fail "denial: no RequestID"
sleep 1.2   # the policy snapshot is re-checked at most once a second
code=$(post "$CEP" "$CA" "$T/gp.xml" "$T/after-revoke.xml")
xp "$T/after-revoke.xml" "//*[$X='commonName']/text()" | grep -qx Workstation \
    && fail "policy still offers Workstation after revoke" || pass "policy no longer offers Workstation"
finish
