#!/usr/bin/env bash
# Active Directory as the directory ([directory] source = ldap) against a
# throwaway Samba AD DC with LDAP on 127.0.0.5 (tests/lib/samba-dc.sh,
# SDC_SERVICES="kdc ldap"): `opencesd init`, `opencesd ad publish` (templates
# with their ACLs and the CA into AD), then `opencesd serve` mirrors the policy
# from AD and takes callers' identities from it (the auth process: LDAP
# lookups and password binds over LDAPS verified against the DC's test CA).
#   bob  (domain user, Kerberos): sees User, not Machine nor WebServer; his User
#        certificate carries his AD DN, mail, UPN and objectSid (SID extension);
#   ws1$ (computer, keytab): sees Machine; DNS SAN = dNSHostName, its SID;
#   carol (password, LDAP bind as carol): enrolls User; a wrong password fails;
#   a deny ACE for bob on User (samba-tool dsacl): bob no longer sees User and
#        is refused with CERTSRV_E_TEMPLATE_DENIED; carol still enrolls;
#   a template edited in AD (displayName) is served changed after the refresh;
#   Samba stopped: GetPolicies still answers from the mirror, `directory status`
#        reports the failure.
# Needs root (Samba binds 88/389/636). A missing Samba is a failure, never a skip.
. "$(dirname "$0")/lib.sh"

SDC=$OC_SOURCE_DIR/tests/lib/samba-dc.sh
S=$T/samba
export SDC_IP=127.0.0.5 SDC_SERVICES="kdc ldap"   # 127.0.0.2/.3: the other Samba tests
trap 'bash "$SDC" stop "$S" >/dev/null 2>&1 || true; cleanup' EXIT
bash "$SDC" start "$S" >/dev/null || die "Samba AD DC did not start"
eval "$(bash "$SDC" env "$S")"
unset KRB5_KTNAME
export KRB5RCACHEDIR=$T
PKS="CN=Public Key Services,CN=Services,CN=Configuration,$SDC_BASE_DN"
X='local-name()'

# ---- configuration: our HTTPS certificate, the DC as directory --------------
D=$T/oc
mkdir -p "$D"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=e2e TLS CA" \
    -keyout "$D/tls-ca.key" -out "$D/tls-ca.pem" 2>/dev/null || die "TLS CA"
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$D/server.key" \
    -out "$D/server.csr" 2>/dev/null || die "server CSR"
openssl x509 -req -in "$D/server.csr" -CA "$D/tls-ca.pem" -CAkey "$D/tls-ca.key" \
    -CAcreateserial -days 2 -out "$D/server.pem" \
    -extfile <(printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n') \
    2>/dev/null || die "server certificate"
TLSCA=$D/tls-ca.pem
printf '%s\n' "$SDC_ADMIN_PASS" >"$D/ldap.pw"
chmod 600 "$D/ldap.pw" "$D/server.key"
PORT=$(free_port)
BASE="https://localhost:$PORT"
cat >"$D/opencesd.conf" <<EOF
[server]
listen = 127.0.0.1:$PORT
public_url = $BASE
tls_cert = server.pem
tls_key = server.key
audit_log = audit.log
client_ca = client-ca.pem
keytab = $SDC_KEYTAB
spn = HTTP/localhost
channel_binding = when_present

[ca]
name = OpenCES Demo CA
key = ca.key
cert = ca.pem
key_type = RSA2048

[store]
path = ca.db

[directory]
path = directory.db
source = ldap
ldap_uri = $SDC_LDAP_URI
ldap_ca_file = $SDC_LDAP_CA
ldap_bind = simple
ldap_bind_dn = $SDC_ADMIN_DN
ldap_password_file = ldap.pw
refresh_seconds = 1
ldap_timeout = 5

[policy]
id = {5B0A3A59-6C1F-4F7A-9D2E-0B7C2D4E6F81}
friendly_name = OpenCES AD policy

[endpoint]
service = cep
auth = kerberos

[endpoint]
service = ces
auth = kerberos
priority = 1

[endpoint]
service = cep
auth = password

[endpoint]
service = ces
auth = password
priority = 2

[endpoint]
service = cep
auth = certificate

[endpoint]
service = ces
auth = certificate
priority = 3
EOF
"$OPENCESD" init --config "$D/opencesd.conf" >"$T/init.log" 2>&1 \
    && pass "opencesd init with [directory] source = ldap" \
    || { cat "$T/init.log" >&2; die "init"; }
"$OPENCESD" --dir "$D" ad publish >"$T/publish.log" 2>&1 \
    && pass "opencesd ad publish" || { cat "$T/publish.log" >&2; die "ad publish"; }
ldapsearch -x -LLL -H "$SDC_LDAP_URI" -D "$SDC_ADMIN_DN" -w "$SDC_ADMIN_PASS" \
    -b "CN=Certificate Templates,$PKS" -s one '(cn=User)' cn 2>/dev/null | grep -q '^cn: User$' \
    && pass "the User template is in AD" || fail "User template not published"

# client certificates: ours, and a second CA's that name accounts only by UPN,
# DNS name or a SID (the mapping order of certauth.c, done by the directory)
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=e2e other CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$D/other-ca.key" -out "$D/other-ca.pem" 2>/dev/null || die "other CA"
cat "$D/ca.pem" "$D/other-ca.pem" >"$D/client-ca.pem"
other_cert() { # NAME SAN [SECTION] -> $T/NAME.{key,pem} issued by the other CA, clientAuth
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$T/$1.key" -out "$T/$1.csr" 2>/dev/null &&
	openssl x509 -req -in "$T/$1.csr" -CA "$D/other-ca.pem" -CAkey "$D/other-ca.key" -CAcreateserial \
	    -days 1 -out "$T/$1.pem" -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=clientAuth\n%s\n' "$2" "${3:-}") \
	    2>/dev/null || die "certificate $1"
}

start_serve "$D/opencesd.conf" "$T/serve.log" "https://127.0.0.1:$PORT" "$TLSCA"
CA=$D/ca.pem
CEP_K=$BASE/ADPolicyProvider_CEP_Kerberos/service.svc/CEP
CES_K="$BASE/OpenCES%20Demo%20CA_CES_Kerberos/service.svc/CES"
CEP_P=$BASE$CEP_PATH
CEP_C=$BASE/ADPolicyProvider_CEP_Certificate/service.svc/CEP

strip_security() {
	/usr/bin/python3 -c 'import re,sys; s=open(sys.argv[1]).read(); open(sys.argv[2],"w").write(re.sub(r"<(\w+):Security\b.*?</\1:Security>", "", s, flags=re.S))' "$1" "$2"
}
curl_k() { # OUT BODYFILE URL -> HTTP status (Negotiate with the current ccache)
	curl -s --cacert "$TLSCA" --resolve "localhost:$PORT:127.0.0.1" -o "$1" -w '%{http_code}' \
	    -H 'Content-Type: application/soap+xml; charset=utf-8' --data-binary @"$2" \
	    --negotiate -u : "$3"
}
render "$VEC/getpolicies-cepces.xml" "$T/gp.in" TO="$CEP_K" USER=x PASSWORD=x
strip_security "$T/gp.in" "$T/gp.xml"
# post_c CERT KEY URL BODY OUT -> HTTP status (a client certificate)
post_c() {
	curl -s --cacert "$TLSCA" --resolve "localhost:$PORT:127.0.0.1" --cert "$1" --key "$2" \
	    -o "$5" -w '%{http_code}' -H 'Content-Type: application/soap+xml; charset=utf-8' \
	    --data-binary @"$4" "$3"
}
csr=$(csr_b64 "$T/k-user.pem" "/CN=bob")
render "$VEC/issue-windows.xml" "$T/is.in" USER=x PASSWORD=x CSR="$csr" TEMPLATE=User
strip_security "$T/is.in" "$T/is.xml"

as() { # WHO: a ticket for WHO in its own ccache
	export KRB5CCNAME=FILE:$T/cc.$1
	bash "$SDC" kinit "$S" "$1" "$T/cc.$1" || die "kinit $1"
}
templates_of() { # OUT -> template cns of a GetPolicies answer, one a line
	xp "$1" "//*[$X='policy']/*[$X='attributes']/*[$X='commonName']/text()" | tr -s ' \n' '\n\n'
}
# the policy is mirrored from AD by the dirsync child: wait until it serves it
wait_templates() { # WHO-LABEL -> 0 when GetPolicies lists User for the current ticket
	local i
	for i in $(seq 1 60); do
		code=$(curl_k "$T/gp-wait.xml" "$T/gp.xml" "$CEP_K")
		[ "$code" = 200 ] && templates_of "$T/gp-wait.xml" | grep -qx "$1" && return 0
		sleep 0.5
	done
	return 1
}
enroll() { # DIR TEMPLATE AUTH [args...] -> exit status of opences enroll
	local dir=$1 tmpl=$2 auth=$3
	shift 3
	mkdir -p "$dir"
	"$OPENCES" enroll --policy-url "$([ "$auth" = kerberos ] && echo "$CEP_K" || echo "$CEP_P")" \
	    --auth "$auth" --template "$tmpl" --ca-file "$TLSCA" \
	    --key-out "$dir/key.pem" --cert-out "$dir/cert.pem" "$@" >"$dir/log" 2>&1
}
# SID extension 1.3.6.1.4.1.311.25.2 -> the SID text it carries (empty when absent)
sid_ext() {
	/usr/bin/python3 - "$1" <<'PY'
import re, subprocess, sys
der = subprocess.run(["openssl", "x509", "-in", sys.argv[1], "-outform", "DER"],
                     capture_output=True, check=True).stdout
oid = bytes.fromhex("060a2b060104018237190201")   # 1.3.6.1.4.1.311.25.2.1 (otherName type)
i = der.find(oid)
if i < 0:
    sys.exit(0)
m = re.match(rb"\xa0.\x04(.)", der[i + len(oid):], re.S)
if m:
    n = m.group(1)[0]
    print(der[i + len(oid) + 4:i + len(oid) + 4 + n].decode("ascii", "replace"))
PY
}
has_ext_oid() { openssl x509 -in "$1" -noout -text | grep -q "1.3.6.1.4.1.311.25.2:"; }

# ---- bob: Kerberos, a domain user ---------------------------------------------
# a left-over embedded account of the same name must not shadow bob's AD entry
# at the CA (accounts come from AD: the identity the auth process read wins)
"$OPENCESD" --dir "$D" account add bob --upn mallory@evil.example --mail mallory@evil.example \
    >"$T/shadow.log" 2>&1 || fail "embedded account bob not added: $(cat "$T/shadow.log")"
as bob
wait_templates User && pass "bob: the mirrored policy is served" || { fail "bob never sees User"; tail -30 "$T/serve.log" >&2; }
curl_k "$T/gp-bob.xml" "$T/gp.xml" "$CEP_K" >/dev/null
tl=$(templates_of "$T/gp-bob.xml" | sort | tr '\n' ' ')
echo "bob sees: $tl"
templates_of "$T/gp-bob.xml" | grep -qx User && ! templates_of "$T/gp-bob.xml" | grep -qx Machine &&
    ! templates_of "$T/gp-bob.xml" | grep -qx WebServer \
    && pass "bob sees User, not Machine nor WebServer" || fail "bob's templates: $tl"
if enroll "$T/e-bob" User kerberos --subject "CN=ignored"; then
	C=$T/e-bob/cert.pem
	openssl verify -CAfile "$CA" "$C" >/dev/null 2>&1 && pass "bob: User issued, verifies" || fail "bob: does not verify"
	subj=$(openssl x509 -in "$C" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
	case "$subj" in
	*"CN=Bob Builder,CN=Users,DC=corp,DC=example,DC=test"*) pass "bob: subject is his AD DN ($subj)" ;;
	*) fail "bob: subject $subj" ;;
	esac
	case "$subj" in *"bob@$SDC_DNS_DOMAIN"*) pass "bob: subject e-mail from AD mail" ;; *) fail "bob: no e-mail in $subj" ;; esac
	san=$(openssl x509 -in "$C" -noout -ext subjectAltName 2>/dev/null | tail -n +2)
	echo "$san" | grep -q "UPN::*bob@$SDC_DNS_DOMAIN" && echo "$san" | grep -q "email:bob@$SDC_DNS_DOMAIN" \
	    && pass "bob: SAN UPN and e-mail from AD" || fail "bob: SAN $san"
	! openssl x509 -in "$C" -noout -subject -ext subjectAltName 2>/dev/null | grep -q mallory \
	    && pass "bob: a local account of the same name does not shadow AD" \
	    || fail "bob: names of the embedded account bob reached the certificate"
	[ "$(sid_ext "$C")" = "$SDC_BOB_SID" ] && pass "bob: SID extension = his objectSid" \
	    || fail "bob: SID extension '$(sid_ext "$C")', expected $SDC_BOB_SID"
else
	fail "bob: opences enroll User (kerberos)"; cat "$T/e-bob/log" >&2; tail -20 "$T/serve.log" >&2
fi

# bob's certificate authenticates as bob: its SID extension maps to his objectSid
code=$(post_c "$T/e-bob/cert.pem" "$T/e-bob/key.pem" "$CEP_C" "$T/gp.xml" "$T/gp-bobc.xml")
[ "$code" = 200 ] && templates_of "$T/gp-bobc.xml" | grep -qx User && ! templates_of "$T/gp-bobc.xml" | grep -qx Machine \
    && pass "bob's User certificate on the certificate endpoint: mapped by SID, sees User" \
    || { fail "bob by certificate: HTTP $code $(templates_of "$T/gp-bobc.xml" | tr '\n' ' ')"; tail -5 "$T/serve.log" >&2; }

other_cert upn-carol "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:carol@$SDC_DNS_DOMAIN"
other_cert dns-ws1 "DNS:$SDC_WS1_DNS"
other_cert dns-bob "DNS:bob.$SDC_DNS_DOMAIN,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:nobody@$SDC_DNS_DOMAIN"
# a SID nobody has, next to carol's UPN: strong mapping, no fallback to the UPN
other_cert sid-none @alt "[alt]
otherName.1 = 1.3.6.1.4.1.311.20.2.3;UTF8:carol@$SDC_DNS_DOMAIN
URI.1 = tag:microsoft.com,2022-09-14:sid:$SDC_DOMAIN_SID-999999"
code=$(post_c "$T/upn-carol.pem" "$T/upn-carol.key" "$CEP_C" "$T/gp.xml" "$T/gp-c1.xml")
[ "$code" = 200 ] && templates_of "$T/gp-c1.xml" | grep -qx User \
    && pass "certificate with carol's UPN only: mapped to carol" || fail "UPN certificate: HTTP $code"
code=$(post_c "$T/dns-ws1.pem" "$T/dns-ws1.key" "$CEP_C" "$T/gp.xml" "$T/gp-c2.xml")
[ "$code" = 200 ] && templates_of "$T/gp-c2.xml" | grep -qx Machine \
    && pass "certificate with ws1's DNS name: mapped to the computer ws1\$" || fail "DNS certificate: HTTP $code"
code=$(post_c "$T/dns-bob.pem" "$T/dns-bob.key" "$CEP_C" "$T/gp.xml" "$T/gp-c3.xml")
[ "$code" = 500 ] && grep -q "/CN=dns-bob .*refused: no account for its names" "$T/serve.log" \
    && pass "certificate naming no account: refused (unmapped)" || fail "unmapped certificate: HTTP $code"
code=$(post_c "$T/sid-none.pem" "$T/sid-none.key" "$CEP_C" "$T/gp.xml" "$T/gp-c4.xml")
[ "$code" = 500 ] && grep -q "/CN=sid-none .*refused: SID matches no account" "$T/serve.log" \
    && pass "certificate with an unknown SID and carol's UPN: refused (strong mapping)" \
    || fail "unknown SID certificate: HTTP $code"

# ---- ws1$: Kerberos, a computer -----------------------------------------------
as 'ws1$'
curl_k "$T/gp-ws1.xml" "$T/gp.xml" "$CEP_K" >/dev/null
templates_of "$T/gp-ws1.xml" | grep -qx Machine && pass "ws1\$ sees Machine" \
    || fail "ws1\$ templates: $(templates_of "$T/gp-ws1.xml" | tr '\n' ' ')"
if enroll "$T/e-ws1" Machine kerberos; then
	C=$T/e-ws1/cert.pem
	san=$(openssl x509 -in "$C" -noout -ext subjectAltName 2>/dev/null | tail -n +2)
	echo "$san" | grep -q "DNS:$SDC_WS1_DNS" && pass "ws1\$: DNS SAN = dNSHostName" || fail "ws1\$: SAN $san"
	openssl x509 -in "$C" -noout -subject | grep -q "CN *= *$SDC_WS1_DNS" \
	    && pass "ws1\$: CN = dNSHostName" || fail "ws1\$: $(openssl x509 -in "$C" -noout -subject)"
	[ "$(sid_ext "$C")" = "$SDC_WS1_SID" ] && pass "ws1\$: SID extension = its objectSid" \
	    || fail "ws1\$: SID extension '$(sid_ext "$C")'"
else
	fail "ws1\$: opences enroll Machine (kerberos)"; cat "$T/e-ws1/log" >&2; tail -20 "$T/serve.log" >&2
fi

# ---- carol: password (a simple bind as carol over LDAPS) -----------------------
printf '%s\n' "$SDC_USERPASS" >"$T/carol.pw"
printf 'wrong-password\n' >"$T/bad.pw"
if enroll "$T/e-carol" User password --user "carol@$SDC_DNS_DOMAIN" --password-file "$T/carol.pw"; then
	C=$T/e-carol/cert.pem
	san=$(openssl x509 -in "$C" -noout -ext subjectAltName 2>/dev/null | tail -n +2)
	echo "$san" | grep -q "UPN::*carol@$SDC_DNS_DOMAIN" && [ "$(sid_ext "$C")" = "$SDC_CAROL_SID" ] \
	    && pass "carol (password): User issued with her UPN and SID" || fail "carol: SAN $san SID $(sid_ext "$C")"
else
	fail "carol: opences enroll User (password)"; cat "$T/e-carol/log" >&2; tail -20 "$T/serve.log" >&2
fi
# names the template does not take from the request: a CSR SAN and a request
# attribute (EDITF_ATTRIBUTESUBJECTALTNAME2's "san") asking for someone else's
csr=$(csr_b64 "$T/k-evil.pem" "/CN=Administrator" -addext \
    "subjectAltName=DNS:evil.example.net,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:administrator@$SDC_DNS_DOMAIN")
render "$VEC/issue-windows.xml" "$T/is-evil.in" USER="carol@$SDC_DNS_DOMAIN" PASSWORD="$SDC_USERPASS" \
    CSR="$csr" TEMPLATE=User
sed 's|<ContextItem Name="rmd">|<ContextItem Name="san"><Value>dns=evil.example.net\&amp;upn=administrator@'"$SDC_DNS_DOMAIN"'</Value></ContextItem><ContextItem Name="rmd">|' \
    "$T/is-evil.in" >"$T/is-evil.xml"
code=$(post "$BASE$CES_PATH" "$TLSCA" "$T/is-evil.xml" "$T/isr-evil.xml")
xp "$T/isr-evil.xml" "string(//*[$X='RequestedSecurityToken']/*[$X='BinarySecurityToken'])" | base64 -d \
    2>/dev/null | openssl x509 -inform DER -out "$T/evil.pem" 2>/dev/null
if [ "$code" = 200 ] && [ -s "$T/evil.pem" ]; then
	names=$(openssl x509 -in "$T/evil.pem" -noout -subject -ext subjectAltName 2>/dev/null)
	! echo "$names" | grep -qi 'evil\|administrator' && echo "$names" | grep -q "carol@$SDC_DNS_DOMAIN" \
	    && pass "request SAN and san attribute ignored: only carol's AD names" \
	    || fail "names from the request: $names"
else
	fail "carol Issue with foreign names: HTTP $code $(xp "$T/isr-evil.xml" "string(//*[$X='ErrorCode'])")"
fi
enroll "$T/e-carol-bad" User password --user "CORP\\carol" --password-file "$T/bad.pw" \
    && fail "carol with a wrong password enrolled" || pass "carol with a wrong password: refused"
# wrong password and unknown user: the same answer, byte for byte
render "$VEC/getpolicies-cepces.xml" "$T/gp-bad.xml" TO="$CEP_P" USER=carol PASSWORD=wrong-password
render "$VEC/getpolicies-cepces.xml" "$T/gp-nobody.xml" TO="$CEP_P" USER=nobody PASSWORD=wrong-password
c1=$(post "$CEP_P" "$TLSCA" "$T/gp-bad.xml" "$T/gp-bad.out")
c2=$(post "$CEP_P" "$TLSCA" "$T/gp-nobody.xml" "$T/gp-nobody.out")
[ "$c1" = "$c2" ] && [ "$c1" != 200 ] && cmp -s "$T/gp-bad.out" "$T/gp-nobody.out" \
    && pass "wrong password and unknown user: identical refusals (HTTP $c1)" \
    || fail "refusals differ: HTTP $c1 / $c2"
enroll "$T/e-carol2" User password --user "CORP\\carol" --password-file "$T/carol.pw" \
    && pass "carol as CORP\\carol: issued" || { fail "carol as CORP\\carol"; cat "$T/e-carol2/log" >&2; }

# ---- a deny ACE for bob on User ------------------------------------------------
timeout 60 samba-tool dsacl set -H "$S/private/sam.ldb" --objectdn="CN=User,CN=Certificate Templates,$PKS" \
    --sddl="(OD;;CR;0e10c968-78fb-11d2-90d4-00c04f79dc55;;$SDC_BOB_SID)" >"$T/dsacl.log" 2>&1 \
    || { cat "$T/dsacl.log" >&2; fail "dsacl set"; }
as bob
gone=0
for i in $(seq 1 40); do
	curl_k "$T/gp-bob2.xml" "$T/gp.xml" "$CEP_K" >/dev/null
	if ! templates_of "$T/gp-bob2.xml" | grep -qx User; then gone=1; break; fi
	sleep 0.5
done
[ "$gone" = 1 ] && pass "after the refresh bob no longer sees User" || fail "bob still sees User"
code=$(curl_k "$T/is-bob.xml" "$T/is.xml" "$CES_K")
[ "$code" = 500 ] && [ "$(xp "$T/is-bob.xml" "string(//*[$X='ErrorCode'])")" = -2146877422 ] \
    && pass "bob: Issue User denied (CERTSRV_E_TEMPLATE_DENIED)" \
    || fail "bob Issue after deny: HTTP $code $(xp "$T/is-bob.xml" "string(//*[$X='ErrorCode'])")"
enroll "$T/e-carol3" User password --user "carol@$SDC_DNS_DOMAIN" --password-file "$T/carol.pw" \
    && pass "carol still enrolls User" || { fail "carol after bob's deny"; cat "$T/e-carol3/log" >&2; }

# ---- a template edited in AD -------------------------------------------------------
bash "$SDC" ldapmodify "$S" >"$T/ldapmodify.log" 2>&1 <<EOF || { cat "$T/ldapmodify.log" >&2; fail "ldapmodify"; }
dn: CN=Machine,CN=Certificate Templates,$PKS
changetype: modify
replace: displayName
displayName: Computer (edited in AD)
EOF
as 'ws1$'
seen=0
for i in $(seq 1 40); do
	curl_k "$T/gp-ws1b.xml" "$T/gp.xml" "$CEP_K" >/dev/null
	if grep -q 'Computer (edited in AD)' "$T/gp-ws1b.xml"; then seen=1; break; fi
	sleep 0.5
done
[ "$seen" = 1 ] && pass "a displayName edited in AD is served after the refresh" || fail "edited displayName not served"

# ---- Samba stopped: the last policy is still served -------------------------------------
bash "$SDC" stop "$S" >/dev/null
sleep 2.5
code=$(curl_k "$T/gp-ws1c.xml" "$T/gp.xml" "$CEP_K")
[ "$code" = 200 ] && templates_of "$T/gp-ws1c.xml" | grep -qx Machine \
    && pass "Samba stopped: GetPolicies still answers with the last policy" || fail "Samba stopped: HTTP $code"
# a sync round in progress may first wait out ldap_timeout (5 s) on the dead connection, twice
st=0
for i in $(seq 1 60); do
	"$OPENCESD" --dir "$D" directory status >"$T/dirstatus.txt" 2>&1 || { st=1; break; }
	sleep 0.5
done
[ "$st" = 1 ] && pass "directory status reports the failure: $(grep -i error "$T/dirstatus.txt" | head -1)" \
    || { fail "directory status does not report the failure"; cat "$T/dirstatus.txt" >&2; }
finish
