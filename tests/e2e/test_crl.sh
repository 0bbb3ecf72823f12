#!/usr/bin/env bash
# Revocation publication end to end: the demo with --publish-listen puts CDP
# and AIA URIs in the certificates it issues and serves them over plain HTTP;
# a revoked certificate appears with its reason on the next (on-demand) CRL,
# which verifies with the CA certificate and is fetched from the CDP URL with
# curl; openssl verify -crl_check fails for the revoked certificate and passes
# for a good one; a release from certificateHold shows as removeFromCRL on the
# delta CRL and is gone from the next complete one; the client-certificate
# endpoints refuse the revoked certificate.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
PP=$(free_port)
D=$T/demo
"$OPENCESD" demo --dir "$D" --listen "127.0.0.1:$PORT" --publish-listen "127.0.0.1:$PP" >"$D.log" 2>&1 &
DEMO_PID=$!
OC_PIDS+=("$DEMO_PID")
wait_http "https://127.0.0.1:$PORT/health" "$D/ca.pem" || { cat "$D.log" >&2; die "demo did not start"; }
URL="https://127.0.0.1:$PORT$CEP_PATH"
CA=$D/ca.pem
PUB="http://127.0.0.1:$PP"
X='local-name()'
adm() { "$OPENCESD" --dir "$D" "$@"; }

enroll() { # name template [args]
	local n=$1 tpl=$2
	shift 2
	mkdir -p "$T/$n"
	"$OPENCES" enroll --policy-url "$URL" --auth password --user demo \
	    --password-file "$D/demo-password" --template "$tpl" --ca-file "$CA" \
	    --key-out "$T/$n/key.pem" --cert-out "$T/$n/cert.pem" "$@" >"$T/$n/log" 2>&1 \
	    || { cat "$T/$n/log" >&2; die "enroll $n"; }
}
serial() { openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f'; }
crl_number() { # complete|delta
	adm crl status --json | python3 -c "import json,sys; d=json.load(sys.stdin)['$1']; print(d['number'] if d else 0)"
}
wait_number_above() { # complete|delta N
	local i
	for i in $(seq 1 50); do
		[ "$(crl_number "$1")" -gt "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

enroll bad User
enroll good WebServer --subject CN=good.example.test --dns good.example.test
enroll held WebServer --subject CN=held.example.test --dns held.example.test
BAD=$(serial "$T/bad/cert.pem")
HELD=$(serial "$T/held/cert.pem")

# the certificates carry the publication URIs
CDP=$(openssl x509 -in "$T/bad/cert.pem" -noout -ext crlDistributionPoints | sed -n 's/.*URI:\(http[^ ]*\).*/\1/p')
AIA=$(openssl x509 -in "$T/bad/cert.pem" -noout -ext authorityInfoAccess | sed -n 's/.*CA Issuers - URI:\(http[^ ]*\).*/\1/p')
[ "$CDP" = "$PUB/OpenCES-Demo-CA.crl" ] && pass "CDP URI $CDP" || fail "CDP URI '$CDP'"
[ "$AIA" = "$PUB/OpenCES-Demo-CA.crt" ] && pass "AIA caIssuers URI $AIA" || fail "AIA URI '$AIA'"

# the CA certificate at the AIA URI (DER) and as PEM
curl -sf "$AIA" -o "$T/ca.crt" && openssl x509 -inform DER -in "$T/ca.crt" -outform PEM | cmp -s - <(openssl x509 -in "$CA") \
    && pass "AIA serves the CA certificate (DER)" || fail "AIA certificate"
curl -sf "$PUB/OpenCES-Demo-CA.pem" | openssl x509 -noout 2>/dev/null && pass "CA certificate as PEM" || fail "no PEM"
ct=$(curl -s -o /dev/null -w '%{content_type}' "$CDP")
[ "$ct" = application/pkix-crl ] && pass "CRL served as application/pkix-crl" || fail "content type $ct"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$PUB/../ca.key")" = 404 ] && \
[ "$(curl -s -o /dev/null -w '%{http_code}' "$PUB/.hidden")" = 404 ] && \
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$CDP")" = 405 ] \
    && pass "publication listener: only flat names, GET only" || fail "publication listener accepts more"
# HEAD: headers with the length, no body; the server keeps serving (and its front end does not restart)
hl=$(curl -s -I "$CDP" | tr -d '\r' | awk -F': ' 'tolower($1)=="content-length"{print $2}')
[ "${hl:-0}" -gt 0 ] && [ "$hl" = "$(curl -s "$CDP" | wc -c)" ] && pass "HEAD: Content-Length of the CRL" \
    || fail "HEAD: Content-Length '$hl'"
curl -s -I "$CDP" >/dev/null; curl -s -I "$CDP" >/dev/null
curl -sf "$CDP" -o /dev/null && pass "still serving after HEAD requests" || fail "not serving after HEAD"

# a CRL at start
N0=$(crl_number complete)
[ "$N0" -ge 1 ] && pass "a complete CRL published at start (number $N0)" || fail "no CRL at start"

# revoke with reasons, publish on demand
adm cert revoke "$BAD" --reason keyCompromise >/dev/null && pass "revoked $BAD keyCompromise" || fail "revoke"
adm cert revoke "$HELD" --reason certificateHold >/dev/null && pass "held $HELD" || fail "hold"
grep '"event":"revoke"' "$D/audit.log" | grep -i "\"serial\":\"$BAD\"" | grep -q '"reason":"keyCompromise","actor":"' \
    && pass "revocation audited with reason and actor" || fail "revocation not audited: $(grep revoke "$D/audit.log" | tail -2)"
adm crl publish >/dev/null && pass "crl publish" || fail "crl publish"
wait_number_above complete "$N0" && pass "the CA published a new CRL within seconds" || fail "no new CRL"
N1=$(crl_number complete)
[ "$N1" -gt "$N0" ] && pass "CRL number grows ($N0 -> $N1)" || fail "CRL number $N0 -> $N1"
adm crl status --json | python3 -c 'import json,sys; d=json.load(sys.stdin); c=d["complete"]; assert c["entries"]==2 and c["next_update"]>c["this_update"] and d["delta"]["base"]==c["number"]' \
    && pass "crl status --json: entries, this/next update, delta base" || fail "crl status: $(adm crl status --json)"

curl -sf "$CDP" -o "$T/full.crl" && pass "CRL fetched from the CDP URI" || fail "CRL fetch"
openssl crl -inform DER -in "$T/full.crl" -CAfile "$CA" -noout 2>&1 | grep -q 'verify OK' \
    && pass "CRL verifies with the CA certificate" || fail "CRL does not verify"
openssl crl -inform DER -in "$T/full.crl" -noout -text >"$T/full.txt"
python3 - "$T/full.txt" "$BAD" "$HELD" "$N1" <<'PY' && pass "CRL lists both with their reasons and its number" || fail "CRL content: $(cat "$T/full.txt")"
import re, sys
t = open(sys.argv[1]).read()
def reason(serial):
    m = re.search(r"Serial Number: 0*%s\s*\n\s*Revocation Date:.*\n(?:\s*CRL entry extensions:\s*\n\s*X509v3 CRL Reason Code:\s*\n\s*(.+))?" % serial.lstrip("0").upper(), t)
    return m and (m.group(1) or "").strip()
assert reason(sys.argv[2]) == "Key Compromise", reason(sys.argv[2])
assert reason(sys.argv[3]) == "Certificate Hold", reason(sys.argv[3])
assert re.search(r"X509v3 CRL Number:\s*\n\s*%s\b" % sys.argv[4], t)
assert "X509v3 Authority Key Identifier" in t
assert "Freshest CRL" in t or "X509v3 Freshest CRL" in t
PY

# openssl verify with the CRL
openssl crl -inform DER -in "$T/full.crl" -out "$T/full.pem"
openssl verify -crl_check -CAfile "$CA" -CRLfile "$T/full.pem" "$T/bad/cert.pem" >"$T/v-bad" 2>&1 \
    && fail "verify -crl_check passed for the revoked certificate" \
    || { grep -q "revoked" "$T/v-bad" && pass "verify -crl_check: revoked certificate fails" || fail "$(cat "$T/v-bad")"; }
openssl verify -crl_check -CAfile "$CA" -CRLfile "$T/full.pem" "$T/good/cert.pem" >/dev/null 2>&1 \
    && pass "verify -crl_check: good certificate passes" || fail "good certificate fails -crl_check"

# release from hold: removeFromCRL on the next delta, gone from the next complete CRL
D1=$(crl_number delta)
adm cert unrevoke "$HELD" >/dev/null && pass "released $HELD from hold" || fail "unrevoke"
adm crl publish --delta >/dev/null
wait_number_above delta "$D1" && pass "delta CRL published on demand" || fail "no delta CRL"
[ "$(crl_number complete)" = "$N1" ] && pass "crl publish --delta: no new complete CRL" || fail "complete CRL re-published"
curl -sf "$PUB/OpenCES-Demo-CA-delta.crl" -o "$T/delta.crl" && pass "delta CRL fetched" || fail "delta fetch"
openssl crl -inform DER -in "$T/delta.crl" -CAfile "$CA" -noout 2>&1 | grep -q 'verify OK' \
    && pass "delta CRL verifies" || fail "delta does not verify"
openssl crl -inform DER -in "$T/delta.crl" -noout -text >"$T/delta.txt"
grep -A1 "Delta CRL Indicator: critical" "$T/delta.txt" | grep -q "$N1" && pass "delta indicator names base $N1" \
    || fail "delta indicator: $(grep -A1 Delta "$T/delta.txt")"
grep -A4 -i "Serial Number: 0*$(echo "$HELD" | sed 's/^0*//' | tr a-f A-F)" "$T/delta.txt" | grep -q "Remove From CRL" \
    && pass "delta CRL: removeFromCRL for the released certificate" || fail "delta: $(cat "$T/delta.txt")"
adm crl publish >/dev/null
wait_number_above complete "$N1" || fail "no next complete CRL"
curl -sf "$CDP" | openssl crl -inform DER -noout -text >"$T/full2.txt"
grep -qi "Serial Number: 0*$(echo "$HELD" | sed 's/^0*//' | tr a-f A-F)" "$T/full2.txt" \
    && fail "the released certificate is still on the complete CRL" || pass "next complete CRL omits the released certificate"
grep -qi "Serial Number: 0*$(echo "$BAD" | sed 's/^0*//' | tr a-f A-F)" "$T/full2.txt" \
    && pass "next complete CRL still lists the revoked one" || fail "revoked certificate missing"

# the client-certificate endpoints refuse the revoked certificate
render "$VEC/getpolicies-cepces.xml" "$T/gp.in" TO="https://127.0.0.1:$PORT/ADPolicyProvider_CEP_Certificate/service.svc/CEP" USER=x PASSWORD=x
python3 -c 'import re,sys; s=open(sys.argv[1]).read(); open(sys.argv[2],"w").write(re.sub(r"<(\w+):Security\b.*?</\1:Security>", "", s, flags=re.S))' "$T/gp.in" "$T/gp.xml"
code=$(curl -s --cacert "$CA" --cert "$T/bad/cert.pem" --key "$T/bad/key.pem" -o "$T/gp-bad.xml" -w '%{http_code}' \
    -H 'Content-Type: application/soap+xml; charset=utf-8' --data-binary @"$T/gp.xml" \
    "https://127.0.0.1:$PORT/ADPolicyProvider_CEP_Certificate/service.svc/CEP")
[ "$code" != 200 ] && [ "$(xp "$T/gp-bad.xml" "local-name(/*[$X='Envelope']/*[$X='Body']/*[1])")" = Fault ] \
    && pass "certificate endpoint refuses the revoked certificate (HTTP $code)" || fail "revoked certificate accepted: $code"

stop_pid "$DEMO_PID"
finish
