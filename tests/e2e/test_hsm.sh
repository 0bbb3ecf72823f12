#!/usr/bin/env bash
# End to end on loopback with the CA key in a PKCS#11 token (SoftHSM2):
# `opencesd serve` with [ca] key = pkcs11:... generates the key in the token and
# its root certificate on first start, issues its own HTTPS certificate with it,
# and `opences enroll` gets a certificate that verifies against that root; the
# token's key stays sensitive and never extractable. Skipped without softhsm2.
. "$(dirname "$0")/lib.sh"

MOD=/usr/lib/softhsm/libsofthsm2.so
set +e
bash "$OC_SOURCE_DIR/tests/lib/softhsm.sh" "$T/hsm" opences 58203917
rc=$?
set -e
[ "$rc" = 77 ] && die "softhsm2 is not installed (scripts/extra-packages.txt)"
[ "$rc" = 0 ] || die "softhsm.sh exit $rc"
export SOFTHSM2_CONF=$T/hsm/softhsm2.conf

# the demo's directory (account "demo" and its password), then its files put aside
PORT=$(free_port)
D=$T/demo
start_demo "$D" "$PORT"
stop_pid "$DEMO_PID"
rm -f "$D/server.pem" "$D/server.key"
filekey=$(sha256sum <"$D/ca.key")

PORT2=$(free_port)
URI="pkcs11:token=opences;object=ca-key;type=private?module-path=$MOD&pin-source=file:$T/hsm/pin"
sed -e "s/127\.0\.0\.1:$PORT/127.0.0.1:$PORT2/g" -e "s|^key = ca.key|key = ${URI//&/\\&}|" \
    -e 's|^cert = ca.pem|cert = hsm-ca.pem|' -e 's|^client_ca = ca.pem|client_ca = hsm-ca.pem|' \
    "$D/opencesd.conf" >"$D/hsm.conf"
grep -q "^key = pkcs11:" "$D/hsm.conf" || die "config not rewritten"
start_serve "$D/hsm.conf" "$T/serve.log" "https://127.0.0.1:$PORT2" "$D/hsm-ca.pem"
grep -q 'generated CA key "ca-key" in PKCS#11 token "opences"' "$T/serve.log" \
    && pass "CA key generated in the token" || fail "no key generation logged"
grep -q 58203917 "$T/serve.log" && fail "the PIN is in the log" || pass "the PIN is not logged"
[ "$(sha256sum <"$D/ca.key")" = "$filekey" ] && ! ls "$D" | grep -q '^pkcs11' \
    && pass "no key file written" || fail "a key file was written or changed"
openssl verify -CAfile "$D/hsm-ca.pem" "$D/hsm-ca.pem" >/dev/null 2>&1 \
    && pass "self-signed root verifies" || fail "root does not verify"
openssl verify -CAfile "$D/hsm-ca.pem" "$D/server.pem" >/dev/null 2>&1 \
    && pass "HTTPS certificate signed by the token key" || fail "HTTPS certificate does not verify"

URL="https://127.0.0.1:$PORT2$CEP_PATH"
mkdir -p "$T/ws"
if "$OPENCES" enroll --policy-url "$URL" --auth password --user demo \
    --password-file "$D/demo-password" --template WebServer --ca-file "$D/hsm-ca.pem" \
    --subject CN=host.example.test --dns host.example.test \
    --key-out "$T/ws/key.pem" --cert-out "$T/ws/cert.pem" >"$T/ws/log" 2>&1; then
	pass "WebServer enrolled"
else fail "enroll exit $?"; cat "$T/ws/log" >&2; fi
openssl verify -CAfile "$D/hsm-ca.pem" "$T/ws/cert.pem" >/dev/null 2>&1 \
    && pass "issued certificate verifies against the token CA" || fail "issued certificate does not verify"

if command -v pkcs11-tool >/dev/null 2>&1; then
	pkcs11-tool --module "$MOD" --token-label opences --login --pin 58203917 --list-objects \
	    --type privkey >"$T/objs" 2>/dev/null || true
	grep -q 'never extractable' "$T/objs" && grep -q 'Access:.*sensitive' "$T/objs" \
	    && pass "token key sensitive, never extractable" || fail "token key attributes: $(cat "$T/objs")"
fi

# restart: the same root and the same token key
root=$(sha256sum <"$D/hsm-ca.pem")
stop_pid "$SERVE_PID"
start_serve "$D/hsm.conf" "$T/serve2.log" "https://127.0.0.1:$PORT2" "$D/hsm-ca.pem"
[ "$(sha256sum <"$D/hsm-ca.pem")" = "$root" ] && pass "restart keeps the root" || fail "root changed"
grep -q 'generated CA key' "$T/serve2.log" && fail "key generated again" || pass "restart loads the existing key"
mkdir -p "$T/ws2"
"$OPENCES" enroll --policy-url "$URL" --auth password --user demo \
    --password-file "$D/demo-password" --template WebServer --ca-file "$D/hsm-ca.pem" \
    --subject CN=again.example.test --dns again.example.test \
    --key-out "$T/ws2/key.pem" --cert-out "$T/ws2/cert.pem" >"$T/ws2/log" 2>&1 \
    && openssl verify -CAfile "$D/hsm-ca.pem" "$T/ws2/cert.pem" >/dev/null 2>&1 \
    && pass "enroll after restart" || { fail "enroll after restart"; cat "$T/ws2/log" >&2; }
finish
