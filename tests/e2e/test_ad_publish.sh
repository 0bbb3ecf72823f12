#!/usr/bin/env bash
# `opencesd ad publish` against a real Active Directory: a throwaway Samba AD DC
# on 127.0.0.4 (tests/lib/samba-dc.sh with its LDAP service), LDAPS verified
# against the DC's test CA, simple bind as Administrator (and once SASL/GSSAPI
# from Administrator's keys). --dry-run changes
# nothing; a run creates every template, OID object, the pKIEnrollmentService,
# the Certification Authorities entry and NTAuthCertificates, checked attribute
# by attribute with ldapsearch and the ACLs read back with `ad show-sd`; a second
# run changes nothing; an administrator's edit of a template survives, an edit
# of our CA's attributes is put back, another CA in NTAuthCertificates is kept.
# Needs root (Samba binds port 88). A missing Samba is a failure, never a skip.
. "$(dirname "$0")/lib.sh"

SDC=$OC_SOURCE_DIR/tests/lib/samba-dc.sh
S=$T/samba
export SDC_IP=127.0.0.4        # .2: unit test_auth_pac_samba, .3: e2e test_samba
export SDC_SERVICES="kdc ldap"
trap 'bash "$SDC" stop "$S" >/dev/null 2>&1 || true; cleanup' EXIT
command -v ldapsearch >/dev/null || die "ldapsearch missing (ldap-utils)"
bash "$SDC" start "$S" >/dev/null || die "Samba AD DC did not start"
eval "$(bash "$SDC" env "$S")"

PORT=$(free_port)
D=$T/demo
start_demo "$D" "$PORT"
stop_pid "$DEMO_PID"
printf '%s\n' "$SDC_ADMIN_PASS" >"$D/ad-pass"
chmod 600 "$D/ad-pass"
sed "s|^path = directory.db|path = directory.db\nldap_uri = $SDC_LDAP_URI\nldap_ca_file = $SDC_LDAP_CA\nldap_bind = simple\nldap_bind_dn = $SDC_ADMIN_UPN\nldap_password_file = ad-pass|" \
    "$D/opencesd.conf" >"$D/ad.conf"
"$OPENCESD" init --config "$D/ad.conf" >"$T/init.log" 2>&1 || { cat "$T/init.log" >&2; die "init"; }

PKS="CN=Public Key Services,CN=Services,CN=Configuration,$SDC_BASE_DN"
FOREST=1.3.6.1.4.1.311.21.8.4811547.10262861.6392731.1513472.5764349.211
ls_ad() { # BASE SCOPE [ATTR...] -> unwrapped LDIF
	local base=$1 scope=$2
	shift 2
	timeout 30 ldapsearch -LLL -o ldif-wrap=no -x -H "$SDC_LDAP_URI" -D "$SDC_ADMIN_UPN" \
	    -w "$SDC_ADMIN_PASS" -b "$base" -s "$scope" "(objectClass=*)" "$@"
}
publish() { "$OPENCESD" --dir "$D" ad publish --config "$D/ad.conf" "$@"; }

# 1. --dry-run: LDIF out, nothing changes (every attribute, uSNChanged included)
ls_ad "$PKS" sub '*' uSNChanged >"$T/before.ldif" || die "ldapsearch"
publish --dry-run >"$T/dry.ldif" 2>"$T/dry.err" || { cat "$T/dry.err" >&2; die "dry run"; }
ls_ad "$PKS" sub '*' uSNChanged >"$T/after.ldif" || die "ldapsearch"
cmp -s "$T/before.ldif" "$T/after.ldif" && pass "dry run changes nothing" || fail "dry run changed the directory"
grep -q "^dry run, would be: 15 added, 1 modified, 4 unchanged$" "$T/dry.err" &&
    pass "dry run summary" || fail "dry run summary: $(tail -1 "$T/dry.err")"
[ "$(grep -c '^changetype: add$' "$T/dry.ldif")" = 15 ] && grep -q "^dn: CN=User,CN=Certificate Templates,$PKS$" "$T/dry.ldif" &&
    grep -q '^nTSecurityDescriptor:: AQAEl' "$T/dry.ldif" && grep -q "^dn: CN=OID,$PKS$" "$T/dry.ldif" &&
    pass "dry run LDIF (adds, base64 SD, CN=OID modify)" || fail "dry run LDIF"
timeout 10 ldapmodify -n -x -H ldap://127.0.0.1:1 -f "$T/dry.ldif" >/dev/null 2>&1 &&
    pass "dry run LDIF parses (ldapmodify -n)" || fail "ldapmodify -n refuses the dry run LDIF"

# 2. publish
publish >"$T/pub.out" 2>"$T/pub.err" || { cat "$T/pub.err" >&2; die "publish"; }
grep -qx "15 added, 1 modified, 4 unchanged" "$T/pub.out" && pass "publish summary" ||
    fail "publish summary: $(cat "$T/pub.out")"
[ "$(grep -c '"event":"ad-publish"' "$D/audit.log")" = 16 ] && pass "16 changes audited" ||
    fail "audit: $(grep -c ad-publish "$D/audit.log")"

check() { # DN ATTR VALUE...: ATTR holds exactly these values (binary ones as base64)
	local dn=$1 a=$2 v ok=1 got n
	shift 2
	got=$(ls_ad "$dn" base "$a" | grep -i "^$a::\? " | sed 's/^[^:]*::\? //')
	for v in "$@"; do grep -qxF -- "$v" <<<"$got" || { ok=0; fail "$dn: $a lacks $v"; }; done
	n=$(grep -c . <<<"$got" || true)
	[ "$n" = $# ] || { ok=0; fail "$dn: $a has $n values, want $#"; }
	[ $ok = 1 ]
}
# templates.md section 12 (rows 1, 14, 16, 30), as AD holds them
tmpl() { # CN DISPLAY SCHEMA FLAGS NAMEFLAG ENROLLFLAG PKFLAG EXP REV MINOR ARC EKU...
	local dn="CN=$1,CN=Certificate Templates,$PKS" ok=0
	check "$dn" displayName "$2" && check "$dn" msPKI-Template-Schema-Version "$3" &&
	check "$dn" flags "$4" && check "$dn" msPKI-Certificate-Name-Flag "$5" &&
	check "$dn" msPKI-Enrollment-Flag "$6" && check "$dn" msPKI-Private-Key-Flag "$7" &&
	check "$dn" pKIExpirationPeriod "$8" && check "$dn" pKIOverlapPeriod "AICmCv/e//8=" &&
	check "$dn" revision "$9" && check "$dn" msPKI-Template-Minor-Revision "${10}" &&
	check "$dn" msPKI-Cert-Template-OID "$FOREST.1.${11}" && check "$dn" pKIKeyUsage "oAA=" &&
	check "$dn" msPKI-Minimal-Key-Size 2048 && check "$dn" pKIDefaultKeySpec 1 &&
	check "$dn" msPKI-RA-Signature 0 && check "$dn" pKIMaxIssuingDepth 0 &&
	check "$dn" pKICriticalExtensions 2.5.29.15 && check "$dn" objectClass top pKICertificateTemplate &&
	check "$dn" pKIExtendedKeyUsage "${@:12}" && ok=1
	[ $ok = 1 ] && pass "template $1"
}
tmpl User User 1 66106 -1509949440 41 16 AEA5hy7h/v8= 3 1 1 1.3.6.1.4.1.311.10.3.4 1.3.6.1.5.5.7.3.4 1.3.6.1.5.5.7.3.2
tmpl Machine Computer 1 66144 402653184 32 0 AEA5hy7h/v8= 5 1 14 1.3.6.1.5.5.7.3.2 1.3.6.1.5.5.7.3.1
tmpl WebServer "Web Server" 1 66113 1 0 0 AIByDl3C/f8= 4 1 16 1.3.6.1.5.5.7.3.1
tmpl Workstation "Workstation Authentication" 2 66144 134217728 32 0 AEA5hy7h/v8= 101 0 30 1.3.6.1.5.5.7.3.2
check "CN=Workstation,CN=Certificate Templates,$PKS" msPKI-Certificate-Application-Policy 1.3.6.1.5.5.7.3.2 &&
    check "CN=WebServer,CN=Certificate Templates,$PKS" pKIDefaultCSPs "2,Microsoft DH SChannel Cryptographic Provider" \
    "1,Microsoft RSA SChannel Cryptographic Provider" && pass "application policy, CSPs"
ec="CN=OpenCESWebServerEC,CN=Certificate Templates,$PKS"
check "$ec" msPKI-RA-Application-Policies 'msPKI-Asymmetric-Algorithm`PZPWSTR`ECDSA_P256`msPKI-Hash-Algorithm`PZPWSTR`SHA256`' &&
    check "$ec" msPKI-Template-Schema-Version 4 && check "$ec" msPKI-Minimal-Key-Size 256 && pass "template OpenCESWebServerEC"
check "CN=OpenCESUserApproval,CN=Certificate Templates,$PKS" msPKI-Enrollment-Flag 43 && pass "template OpenCESUserApproval"

# OID objects (templates.md 8): cn = last arc . MD5(UTF-16LE(OID))
oidcn() { printf '%s' "$1" | iconv -f ASCII -t UTF-16LE | md5sum | awk -v a="${1##*.}" '{print a "." toupper($1)}'; }
ok=1
for arc in 1 14 16 30 1001 1002; do
	dn="CN=$(oidcn "$FOREST.1.$arc"),CN=OID,$PKS"
	check "$dn" flags 1 && check "$dn" msPKI-Cert-Template-OID "$FOREST.1.$arc" &&
	    check "$dn" objectClass top msPKI-Enterprise-Oid || ok=0
done
check "CN=16.1AF432386EA73B0271FB36C8770FE544,CN=OID,$PKS" displayName "Web Server" || ok=0
check "CN=OID,$PKS" msPKI-Cert-Template-OID "$FOREST" || ok=0
[ $ok = 1 ] && pass "OID objects and the forest OID"

# the CA (templates.md 7): pKIEnrollmentService, Certification Authorities, NTAuth
CADER=$(openssl x509 -in "$D/ca.pem" -outform DER | base64 -w0)
es="CN=OpenCES Demo CA,CN=Enrollment Services,$PKS"
ces1=$(printf '1\n4\n0\nhttps://127.0.0.1:%s/OpenCES%%20Demo%%20CA_CES_UsernamePassword/service.svc/CES\n0' "$PORT" | base64 -w0)
ces2=$(printf '2\n8\n0\nhttps://127.0.0.1:%s/OpenCES%%20Demo%%20CA_CES_Certificate/service.svc/CES\n0' "$PORT" | base64 -w0)
check "$es" flags 10 && check "$es" dNSHostName 127.0.0.1 && check "$es" displayName "OpenCES Demo CA" &&
    check "$es" cACertificate "$CADER" && check "$es" cACertificateDN "CN=OpenCES Demo CA" &&
    check "$es" certificateTemplates Machine OpenCESUserApproval OpenCESWebServerEC User WebServer Workstation &&
    check "$es" msPKI-Enrollment-Servers "$ces1" "$ces2" && pass "pKIEnrollmentService"
for dn in "CN=OpenCES Demo CA,CN=Certification Authorities,$PKS" "CN=NTAuthCertificates,$PKS"; do
	check "$dn" cACertificate "$CADER" && check "$dn" objectClass top certificationAuthority &&
	    pass "${dn%%,CN=Public*}: our CA certificate"
done

# ACLs read back (templates.md 6.4)
sd() { "$OPENCESD" --dir "$D" ad show-sd --config "$D/ad.conf" "$1" 2>"$T/sd.err"; }
EN=0e10c968-78fb-11d2-90d4-00c04f79dc55
sd User >"$T/sd-user" && grep -qx "owner: $SDC_DOMAIN_SID-519" "$T/sd-user" &&
    grep -qx "ace: allow S-1-5-11 0x00020094" "$T/sd-user" &&
    grep -qx "ace: allow-object $SDC_DOMAIN_SID-513 0x00000130 $EN enroll" "$T/sd-user" &&
    grep -qx "ace: allow-object $SDC_DOMAIN_SID-512 0x00000130 $EN enroll" "$T/sd-user" &&
    pass "User: Domain Users enroll, Authenticated Users read" || { cat "$T/sd-user" "$T/sd.err" >&2; fail "User SD"; }
sd WebServer >"$T/sd-web" && grep -q "$SDC_DOMAIN_SID-519 0x00000130 $EN enroll" "$T/sd-web" &&
    ! grep -q -- "-51[35] " "$T/sd-web" && pass "WebServer: admins only" || fail "WebServer SD"
sd Machine >"$T/sd-m" && grep -qx "ace: allow-object $SDC_DOMAIN_SID-515 0x00000130 $EN enroll" "$T/sd-m" &&
    ! grep -q -- "-513 " "$T/sd-m" && pass "Machine: Domain Computers enroll" || fail "Machine SD"

# 3. a second run changes nothing
publish >"$T/pub2.out" 2>/dev/null && grep -qx "0 added, 0 modified, 20 unchanged" "$T/pub2.out" &&
    pass "second run: nothing to do" || fail "second run: $(cat "$T/pub2.out")"

# 4. an administrator edits a template and our CA entry; another CA joins NTAuth
OTHER=$(openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
    -subj "/CN=Other CA" -days 2 -outform DER 2>/dev/null | base64 -w0)
bash "$SDC" ldapmodify "$S" >/dev/null <<EOF || die "ldapmodify"
dn: CN=WebServer,CN=Certificate Templates,$PKS
changetype: modify
replace: displayName
displayName: Web Server (edited)
-
replace: msPKI-Minimal-Key-Size
msPKI-Minimal-Key-Size: 3072
-

dn: $es
changetype: modify
replace: flags
flags: 0
-
replace: certificateTemplates
certificateTemplates: Foreign
-

dn: CN=NTAuthCertificates,$PKS
changetype: modify
replace: cACertificate
cACertificate:: $OTHER
-
EOF
publish >"$T/pub3.out" 2>/dev/null && grep -qx "0 added, 2 modified, 18 unchanged" "$T/pub3.out" &&
    pass "edits: 2 entries modified" || fail "after edits: $(cat "$T/pub3.out")"
check "CN=WebServer,CN=Certificate Templates,$PKS" displayName "Web Server (edited)" &&
    check "CN=WebServer,CN=Certificate Templates,$PKS" msPKI-Minimal-Key-Size 3072 &&
    pass "the edited template is not overwritten"
check "$es" flags 10 && check "$es" certificateTemplates Machine OpenCESUserApproval OpenCESWebServerEC User WebServer Workstation &&
    pass "our CA attributes are put back"
check "CN=NTAuthCertificates,$PKS" cACertificate "$OTHER" "$CADER" && pass "NTAuth keeps the other CA and adds ours"
publish >"$T/pub4.out" 2>/dev/null && grep -qx "0 added, 0 modified, 20 unchanged" "$T/pub4.out" &&
    pass "and then nothing to do" || fail "after the repair: $(cat "$T/pub4.out")"

# 5. SASL/GSSAPI from a keytab (Administrator's keys; sealed, so no StartTLS)
PATH=$PATH:/usr/sbin timeout 60 samba-tool domain exportkeytab "$T/admin.keytab" --principal=Administrator \
    -s "$S/etc/smb.conf" >/dev/null 2>&1 || die "exportkeytab Administrator"
sed "s|^path = directory.db|path = directory.db\nldap_uri = $SDC_LDAP_STARTTLS_URI\nldap_starttls = false\nldap_bind = gssapi\nldap_keytab = $T/admin.keytab\nldap_principal = Administrator@$SDC_REALM|" \
    "$D/opencesd.conf" >"$D/gss.conf"
bash "$SDC" ldapmodify "$S" >/dev/null <<EOF || die "ldapmodify"
dn: $es
changetype: modify
replace: dNSHostName
dNSHostName: elsewhere.example.test
-
EOF
"$OPENCESD" --dir "$D" ad publish --config "$D/gss.conf" >"$T/pub5.out" 2>"$T/pub5.err" &&
    grep -qx "0 added, 1 modified, 19 unchanged" "$T/pub5.out" && check "$es" dNSHostName 127.0.0.1 &&
    pass "GSSAPI bind: our dNSHostName put back" || { cat "$T/pub5.err" >&2; fail "GSSAPI: $(cat "$T/pub5.out")"; }

finish
