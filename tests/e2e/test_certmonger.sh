#!/usr/bin/env bash
# certmonger (the Debian package, run privately on its own socket) enrolls
# through our CA helper opences-submit: `getcert add-ca` with the helper's
# command line, `getcert request -T WebServer` reaches MONITORING with a
# certificate of our CA for certmonger's key, `getcert resubmit` renews it (new
# serial, same key), FETCH-ROOTS gives certmonger our CA certificate (-F), and a
# template under manager approval leaves the request waiting (SUBMIT cookie,
# then POLLs) until `opencesd request approve`, after which a POLL brings it to
# MONITORING. The helper's own answers to each operation are checked as well.
. "$(dirname "$0")/lib.sh"
. "$OC_SOURCE_DIR/tests/lib/certmonger.sh"

SUBMIT=$(dirname "$OPENCES")/opences-submit
[ -x "$SUBMIT" ] || die "no opences-submit next to $OPENCES"

PORT=$(free_port)
D=$T/demo
start_demo "$D" "$PORT"
URL="https://127.0.0.1:$PORT$CEP_PATH"
CES_URL="https://127.0.0.1:$PORT$CES_PATH"
HELPER="$SUBMIT --policy-url $URL --auth password --user demo --password-file $D/demo-password --ca-file $D/ca.pem --poll-interval 2"

# ---- the helper alone, as certmonger runs it
helper() { # OPERATION [VAR=value ...] -> stdout in $T/h.out, exit status returned
	local op=$1
	shift
	# shellcheck disable=SC2086
	env CERTMONGER_OPERATION="$op" "$@" $HELPER >"$T/h.out" 2>"$T/h.err"
}
st=0; helper IDENTIFY || st=$?
[ $st = 0 ] && grep -q '^OpenCES opences-submit ' "$T/h.out" && pass "IDENTIFY" || fail "IDENTIFY: $st $(cat "$T/h.out")"
st=0; helper GET-NEW-REQUEST-REQUIREMENTS || st=$?
[ $st = 0 ] && [ "$(cat "$T/h.out")" = CERTMONGER_CA_PROFILE ] && pass "GET-NEW-REQUEST-REQUIREMENTS: the template" \
    || fail "GET-NEW-REQUEST-REQUIREMENTS: $st $(cat "$T/h.out")"
st=0; helper GET-SUPPORTED-TEMPLATES || st=$?
[ $st = 0 ] && grep -qx WebServer "$T/h.out" && grep -qx OpenCESUserApproval "$T/h.out" \
    && pass "GET-SUPPORTED-TEMPLATES lists WebServer and OpenCESUserApproval" \
    || fail "GET-SUPPORTED-TEMPLATES: $st $(cat "$T/h.out" "$T/h.err")"
st=0; helper FETCH-ROOTS || st=$?
if [ $st = 0 ] && [ "$(sed -n 1p "$T/h.out")" = "OpenCES Demo CA" ] &&
    [ "$(sed -n '2,$p' "$T/h.out" | openssl x509 -outform DER 2>/dev/null | sha256sum)" = \
      "$(openssl x509 -in "$D/ca.pem" -outform DER | sha256sum)" ]; then
	pass "FETCH-ROOTS: nickname, then our CA certificate"
else
	fail "FETCH-ROOTS: $st $(cat "$T/h.out" "$T/h.err")"
fi
st=0; helper FETCH-SCEP-CA-CAPS || st=$?
[ $st = 6 ] && pass "an operation we do not implement: 6" || fail "FETCH-SCEP-CA-CAPS: exit $st"
st=0; env -u CERTMONGER_OPERATION $HELPER >"$T/h.out" 2>&1 || st=$?
[ $st = 4 ] && pass "no CERTMONGER_OPERATION: 4" || fail "no operation: exit $st"
openssl req -new -newkey rsa:2048 -nodes -keyout "$T/direct.key" -subj /CN=direct.example.test \
    -out "$T/direct.csr" 2>/dev/null
st=0; helper SUBMIT CERTMONGER_CA_PROFILE=NoSuchTemplate CERTMONGER_CSR="$(cat "$T/direct.csr")" || st=$?
[ $st = 2 ] && grep -q NoSuchTemplate "$T/h.out" && pass "SUBMIT for a template not offered: rejected (2)" \
    || fail "SUBMIT unknown template: exit $st $(cat "$T/h.out")"
st=0; helper POLL CERTMONGER_CA_COOKIE="1,https://127.0.0.1:1/elsewhere" || st=$?
[ $st = 2 ] && pass "POLL to a URI the policy does not publish: refused" || fail "POLL elsewhere: exit $st $(cat "$T/h.out")"
st=0; env CERTMONGER_OPERATION=SUBMIT CERTMONGER_CA_PROFILE=WebServer CERTMONGER_CSR="$(cat "$T/direct.csr")" \
    "$SUBMIT" --policy-url "https://127.0.0.1:$(free_port)$CEP_PATH" --auth password --user demo \
    --password-file "$D/demo-password" --ca-file "$D/ca.pem" >"$T/h.out" 2>&1 || st=$?
[ $st = 3 ] && pass "nothing listening: unreachable (3)" || fail "unreachable: exit $st"

# ---- certmonger
CM=$T/cm
start_certmonger "$CM"
getcert add-ca -c OpenCES -e "$HELPER" >"$T/addca.out" 2>&1 && pass "getcert add-ca" \
    || fail "getcert add-ca: $(cat "$T/addca.out")"

# issued: MONITORING with a certificate of our CA for certmonger's key
K=$T/web
mkdir -p "$K"
getcert request -c OpenCES -I web -T WebServer -N CN=web.example.test -D web.example.test \
    -k "$K/key.pem" -f "$K/cert.pem" -F "$K/roots.pem" >"$T/req.out" 2>&1 \
    && pass "getcert request -T WebServer accepted" || fail "getcert request: $(cat "$T/req.out")"
if wait_cm_status web MONITORING 60; then
	pass "WebServer request reaches MONITORING"
else
	fail "WebServer request not MONITORING"; getcert list -i web >&2 || true; tail -40 "$CM/log" >&2
fi
openssl verify -CAfile "$D/ca.pem" "$K/cert.pem" >/dev/null 2>&1 \
    && pass "the certificate verifies against our CA" || fail "certificate does not verify"
[ "$(openssl x509 -in "$K/cert.pem" -noout -pubkey | sha256sum)" = "$(openssl pkey -in "$K/key.pem" -pubout | sha256sum)" ] \
    && pass "the certificate is for certmonger's key" || fail "certificate/key mismatch"
openssl x509 -in "$K/cert.pem" -noout -subject -nameopt RFC2253 | grep -q 'subject=CN=web.example.test$' \
    && pass "subject from the request" || fail "subject: $(openssl x509 -in "$K/cert.pem" -noout -subject)"
openssl x509 -in "$K/cert.pem" -noout -ext subjectAltName 2>/dev/null | grep -q 'DNS:web.example.test' \
    && pass "subjectAltName from the request" || fail "no DNS SAN"
openssl x509 -in "$K/cert.pem" -noout -text | grep -q 'TLS Web Server Authentication' \
    && pass "WebServer template's EKU" || fail "no server EKU"
[ "$(openssl x509 -in "$K/roots.pem" -outform DER 2>/dev/null | sha256sum)" = \
  "$(openssl x509 -in "$D/ca.pem" -outform DER | sha256sum)" ] \
    && pass "certmonger stored our CA certificate from FETCH-ROOTS (-F)" || fail "roots file: $(head -3 "$K/roots.pem" 2>&1)"
SERIAL1=$(openssl x509 -in "$K/cert.pem" -noout -serial)
KEY1=$(openssl pkey -in "$K/key.pem" -pubout | sha256sum)
"$OPENCESD" --dir "$D" cert list >"$T/certs.out" 2>&1 || true
grep -qi "${SERIAL1#serial=}" "$T/certs.out" && pass "the CA's store knows the serial" \
    || fail "serial ${SERIAL1#serial=} not in cert list: $(head -5 "$T/certs.out")"

# renewal: resubmit gives a new certificate (new serial) for the same key. The
# request changes (a second DNS name): certmonger may build a byte-identical CSR
# for an unchanged request, and the CA answers an identical order within
# [ca] idempotence_window_seconds with the certificate it already issued
# (docs/PROTOCOL-NOTES.md, idempotence)
getcert resubmit -i web -D www.web.example.test >"$T/resub.out" 2>&1 \
    && pass "getcert resubmit accepted" || fail "resubmit: $(cat "$T/resub.out")"
renewed=0
for i in $(seq 1 300); do
	if [ "$(cm_status web)" = MONITORING ] &&
	    [ "$(openssl x509 -in "$K/cert.pem" -noout -serial 2>/dev/null)" != "$SERIAL1" ]; then
		renewed=1
		break
	fi
	sleep 0.2
done
if [ $renewed = 1 ]; then pass "renewed: MONITORING with a new serial"; else
	fail "not renewed: $(cm_status web) $(cm_field web ca-error)"; tail -30 "$CM/log" >&2; fi
[ "$(openssl pkey -in "$K/key.pem" -pubout | sha256sum)" = "$KEY1" ] && \
[ "$(openssl x509 -in "$K/cert.pem" -noout -pubkey | sha256sum)" = "$KEY1" ] \
    && pass "renewed certificate for the same key" || fail "renewal key mismatch"
openssl verify -CAfile "$D/ca.pem" "$K/cert.pem" >/dev/null 2>&1 \
    && pass "renewed certificate verifies" || fail "renewed certificate does not verify"

# pending: a template under manager approval waits, polled with the cookie
P=$T/pend
mkdir -p "$P"
getcert request -c OpenCES -I pend -T OpenCESUserApproval -k "$P/key.pem" -f "$P/cert.pem" \
    >"$T/preq.out" 2>&1 && pass "getcert request -T OpenCESUserApproval accepted" \
    || fail "pending request: $(cat "$T/preq.out")"
if wait_cm_status pend CA_WORKING 60; then
	pass "approval template: certmonger waits on the CA (CA_WORKING)"
else
	fail "approval template: $(cm_status pend)"; getcert list -i pend >&2 || true
fi
COOKIE=
for i in $(seq 1 50); do
	COOKIE=$(sed -n 's/^ca_cookie=//p' "$CM"/requests/* | head -1)
	[ -n "$COOKIE" ] && break
	sleep 0.2
done
echo "$COOKIE" | grep -Eq "^[0-9]+,$(echo "$CES_URL" | sed 's/[.%]/\\&/g')\$" \
    && pass "cookie is RequestID,URI of our CES ($COOKIE)" || fail "cookie '$COOKIE'"
# certmonger polls again after --poll-interval (2 s): POLL answers still pending
sleep 5
polls=$(grep -c 'Setting "CERTMONGER_OPERATION" to "POLL"' "$CM/log" || true)
[ "${polls:-0}" -ge 1 ] && pass "certmonger polled ($polls POLLs in 5 s)" || fail "certmonger never polled"
[ "$(cm_status pend)" = CA_WORKING ] && [ ! -s "$P/cert.pem" ] && pass "still waiting after the polls" \
    || fail "after polls: $(cm_status pend) $(cm_field pend ca-error)"
st=0; helper POLL CERTMONGER_CA_COOKIE="$COOKIE" || st=$?
[ $st = 5 ] && [ "$(sed -n 2p "$T/h.out")" = "$COOKIE" ] && [ "$(sed -n 1p "$T/h.out")" = 2 ] \
    && pass "POLL of the pending request: 5, delay and the same cookie" || fail "POLL: exit $st $(cat "$T/h.out")"

# a manager approves: certmonger's next POLL retrieves the certificate
RID=${COOKIE%%,*}
"$OPENCESD" --dir "$D" request approve "$RID" >"$T/approve.out" 2>&1 \
    && pass "opencesd request approve $RID" || fail "approve: $(cat "$T/approve.out")"
if wait_cm_status pend MONITORING 30; then
	pass "approved request: POLL brings it to MONITORING"
else
	fail "approved request not MONITORING"; tail -30 "$CM/log" >&2
fi
openssl verify -CAfile "$D/ca.pem" "$P/cert.pem" >/dev/null 2>&1 \
    && pass "approved certificate verifies against our CA" || fail "approved certificate does not verify"
[ "$(openssl x509 -in "$P/cert.pem" -noout -pubkey 2>/dev/null | sha256sum)" = \
  "$(openssl pkey -in "$P/key.pem" -pubout | sha256sum)" ] \
    && pass "approved certificate is for certmonger's key" || fail "approved certificate/key mismatch"

finish
