#!/usr/bin/env bash
# Kerberos against a real Active Directory KDC (a throwaway Samba AD DC on 127.0.0.3,
# tests/lib/samba-dc.sh): the PAC's group SIDs decide Enroll rights. The embedded
# group "AD Enrollers" carries the SID of the Samba group "PKI Enrollers" and holds
# Enroll on WebServer; bob (a user in the group) and ws1$ (a computer account in the
# group) enroll with `opences enroll --auth kerberos` and with curl --negotiate; carol
# (not in the group) is refused. None of them has an account in our directory.
# Needs root (Samba binds port 88). A missing Samba is a failure, never a skip.
. "$(dirname "$0")/lib.sh"

SDC=$OC_SOURCE_DIR/tests/lib/samba-dc.sh
S=$T/samba
export SDC_IP=127.0.0.3        # 127.0.0.2 is the unit test's (tests/unit/test_auth_pac_samba.c)
trap 'bash "$SDC" stop "$S" >/dev/null 2>&1 || true; cleanup' EXIT
bash "$SDC" start "$S" >/dev/null || die "Samba AD DC did not start"
eval "$(bash "$SDC" env "$S")"
unset KRB5_KTNAME
export KRB5RCACHEDIR=$T

PORT=$(free_port)
D=$T/demo
start_demo "$D" "$PORT"
stop_pid "$DEMO_PID"
"$OPENCESD" --dir "$D" group add "AD Enrollers" --sid "$SDC_GROUP_SID" >/dev/null || die "group add --sid"
"$OPENCESD" --dir "$D" grant WebServer "AD Enrollers" enroll >/dev/null || die "grant"

BASE="https://localhost:$PORT"
CA=$D/ca.pem
X='local-name()'
CEP_K=$BASE/ADPolicyProvider_CEP_Kerberos/service.svc/CEP
CES_K="$BASE/OpenCES%20Demo%20CA_CES_Kerberos/service.svc/CES"
sed -e "s|^public_url = .*|public_url = $BASE|" \
    -e "s|^client_ca = ca.pem|client_ca = ca.pem\nkeytab = $SDC_KEYTAB\nspn = HTTP/localhost\nchannel_binding = when_present|" \
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
start_serve "$D/krb.conf" "$T/serve.log" "https://127.0.0.1:$PORT" "$CA"

curl_k() { # OUT BODYFILE URL -> HTTP status (Negotiate with the current ccache)
	curl -s --cacert "$CA" --resolve "localhost:$PORT:127.0.0.1" -o "$1" -w '%{http_code}' \
	    -H 'Content-Type: application/soap+xml; charset=utf-8' --data-binary @"$2" \
	    --negotiate -u : "$3"
}
strip_security() {
	/usr/bin/python3 -c 'import re,sys; s=open(sys.argv[1]).read(); open(sys.argv[2],"w").write(re.sub(r"<(\w+):Security\b.*?</\1:Security>", "", s, flags=re.S))' "$1" "$2"
}
render "$VEC/getpolicies-cepces.xml" "$T/gp.in" TO="$CEP_K" USER=x PASSWORD=x
strip_security "$T/gp.in" "$T/gp.xml"
csr=$(csr_b64 "$T/k-web.pem" "/CN=samba-web.example.test")
render "$VEC/issue-windows.xml" "$T/is.in" USER=x PASSWORD=x CSR="$csr" TEMPLATE=WebServer
strip_security "$T/is.in" "$T/is.xml"

# as WHO (bob, carol, ws1$): curl GetPolicies + Issue, then opences enroll
as() {
	export KRB5CCNAME=FILE:$T/cc.$1
	bash "$SDC" kinit "$S" "$1" "$T/cc.$1" || die "kinit $1"
}
sees_webserver() { # OUT -> 0 when WebServer is in the policy
	xp "$1" "//*[$X='policy']/*[$X='attributes']/*[$X='commonName']/text()" | grep -qx WebServer
}
enroll() { # WHO -> exit status of opences enroll WebServer
	mkdir -p "$T/e-$1"
	"$OPENCES" enroll --policy-url "$CEP_K" --auth kerberos --template WebServer --ca-file "$CA" \
	    --subject "CN=$1.samba.example.test" --dns "${1%$}.samba.example.test" \
	    --key-out "$T/e-$1/key.pem" --cert-out "$T/e-$1/cert.pem" >"$T/e-$1/log" 2>&1
}

for who in bob 'ws1$'; do
	as "$who"
	code=$(curl_k "$T/gp-$who.xml" "$T/gp.xml" "$CEP_K")
	[ "$code" = 200 ] && sees_webserver "$T/gp-$who.xml" && pass "$who (in PKI Enrollers): WebServer in the policy" \
	    || { fail "$who GetPolicies: HTTP $code"; tail -20 "$T/serve.log" >&2; }
	code=$(curl_k "$T/is-$who.xml" "$T/is.xml" "$CES_K")
	[ "$code" = 200 ] && grep -q BinarySecurityToken "$T/is-$who.xml" && pass "$who: curl --negotiate Issue WebServer: issued" \
	    || { fail "$who Issue: HTTP $code"; head -c 600 "$T/is-$who.xml" >&2; }
	if enroll "$who"; then
		openssl verify -CAfile "$CA" "$T/e-$who/cert.pem" >/dev/null 2>&1 \
		    && pass "$who: opences enroll --auth kerberos: certificate issued and verifies" \
		    || fail "$who: certificate does not verify"
	else fail "$who: opences enroll --auth kerberos failed"; cat "$T/e-$who/log" >&2; fi
done

as carol
code=$(curl_k "$T/gp-carol.xml" "$T/gp.xml" "$CEP_K")
[ "$code" = 200 ] && ! sees_webserver "$T/gp-carol.xml" && pass "carol (not in the group): authenticated, no WebServer" \
    || fail "carol GetPolicies: HTTP $code"
code=$(curl_k "$T/is-carol.xml" "$T/is.xml" "$CES_K")
[ "$code" = 500 ] && [ "$(xp "$T/is-carol.xml" "string(//*[$X='ErrorCode'])")" = -2146877422 ] \
    && pass "carol: Issue WebServer refused (CERTSRV_E_TEMPLATE_DENIED)" \
    || fail "carol Issue: HTTP $code $(xp "$T/is-carol.xml" "string(//*[$X='ErrorCode'])")"
enroll carol && fail "carol enrolled WebServer" || pass "carol: opences enroll refused"

# the grant is the group's: revoked, bob is refused too
"$OPENCESD" --dir "$D" revoke WebServer "AD Enrollers" enroll >/dev/null || fail "revoke"
sleep 1.2    # the policy snapshot is re-read at most once a second
as bob
code=$(curl_k "$T/is-bob2.xml" "$T/is.xml" "$CES_K")
[ "$code" = 500 ] && pass "bob after the group's grant is revoked: refused" || fail "bob after revoke: HTTP $code"
finish
