#!/usr/bin/env bash
# [directory] source = ldap (accounts = embedded: slapd holds no AD accounts) against a real slapd with the shipped schema
# (tests/lib/slapd.sh, StartTLS with a test CA): the opencesd-dirsync child
# mirrors the 33 default templates and the CA entry of tests/vectors/ldap;
# GetPolicies (the recorded cepces request) serves exactly the templates the
# LDAP CA entry publishes and the caller may enroll (User through its real
# nTSecurityDescriptor and a group SID, WebServer through the grant table);
# an edited template is served changed after refresh_seconds; with slapd
# stopped the last policy keeps being served, enrollment works, and
# `directory status` shows the failure; slapd back: status OK.
. "$(dirname "$0")/lib.sh"

SUFFIX="DC=corp,DC=example,DC=test"
PKS="CN=Public Key Services,CN=Services,CN=Configuration,$SUFFIX"
DOM="S-1-5-21-3948352448-806306152-211583070"
X='local-name()'
SLAPD="$OC_SOURCE_DIR/tests/lib/slapd.sh"

# the demo's directory (account "demo", its CA), then served from a configuration
PORT=$(free_port)
D=$T/demo
start_demo "$D" "$PORT"
stop_pid "$DEMO_PID"

# slapd: the templates, and our CA's pKIEnrollmentService (cACertificate;binary, CES URI)
LPORT=$(free_port)
PORT2=$(free_port)
BASE="https://127.0.0.1:$PORT2"
CES_URI="$BASE$CES_PATH"
cat >"$T/ca.ldif" <<EOF
dn: CN=OpenCES Demo CA,CN=Enrollment Services,$PKS
objectClass: top
objectClass: pKIEnrollmentService
cn: OpenCES Demo CA
dNSHostName: 127.0.0.1
cACertificate;binary:: $(openssl x509 -in "$D/ca.pem" -outform DER | base64 -w0)
certificateTemplates: User
certificateTemplates: WebServer
certificateTemplates: EFS
msPKI-Enrollment-Servers:: $(printf '1\n4\n0\n%s\n0' "$CES_URI" | base64 -w0)
EOF
sed -i "s/@SUFFIX@/$SUFFIX/g" "$T/ca.ldif"
SL=$T/slapd
trap 'bash "$SLAPD" stop "$SL" || true; cleanup' EXIT
bash "$SLAPD" start "$SL" "$LPORT" "$OC_SOURCE_DIR/tests/vectors/ldap/templates.ldif" "$T/ca.ldif" \
    || die "slapd did not start (install slapd: scripts/extra-packages.txt)"
ldapmod() { # LDIF on stdin, as the root DN
	ldapmodify -x -H "ldap://127.0.0.1:$LPORT" -D "CN=admin,$SUFFIX" -y "$SL/password" >/dev/null
}
# WebServer without its SD: the grant table decides for it
ldapmod <<EOF || die "ldapmodify"
dn: CN=WebServer,CN=Certificate Templates,$PKS
changetype: modify
delete: nTSecurityDescriptor
EOF

C=$D/ldap.conf
MPORT=$(free_port)
health() { curl -s "http://127.0.0.1:$MPORT/health" 2>/dev/null || true; }
sed -e "s/127\.0\.0\.1:$PORT/127.0.0.1:$PORT2/g" \
    -e "s|^path = directory.db|path = directory.db\nsource = ldap\nldap_uri = ldap://127.0.0.1:$LPORT\nldap_starttls = true\nldap_ca_file = $SL/ca.pem\nldap_bind = simple\nldap_bind_dn = CN=admin,$SUFFIX\nldap_password_file = $SL/password\nldap_base_dn = CN=Configuration,$SUFFIX\nrefresh_seconds = 2\nldap_timeout = 3\naccounts = embedded|" \
    -e "s|^\\[server\\]|[server]\nmetrics_listen = 127.0.0.1:$MPORT|" \
    "$D/opencesd.conf" >"$C"
grep -q '^source = ldap' "$C" || die "config not rewritten"
start_serve "$C" "$T/serve.log" "$BASE" "$D/ca.pem"

status() { "$OPENCESD" --config "$C" directory status --json 2>/dev/null || true; }
wait_status() { # STATE: poll (bounded) until directory status says it
	local i
	for i in $(seq 1 60); do
		status | grep -q "\"state\":\"$1\"" && return 0
		sleep 0.25
	done
	return 1
}
wait_status ok && pass "first sync done: $(status)" || { fail "no sync: $(status)"; cat "$T/serve.log" >&2; }
comms=$(for p in $(pgrep -P "$SERVE_PID"); do cat "/proc/$p/comm" 2>/dev/null || true; done)
case "$comms" in *opencesd-dirsyn*) pass "opencesd-dirsync runs" ;; *) fail "no opencesd-dirsync child: $comms" ;; esac
status | grep -q '"templates":33' && pass "33 templates mirrored" || fail "mirrored: $(status)"

# rights: demo in a group carrying the Domain Users SID (User's real SD), WebServer by grant
"$OPENCESD" --config "$C" group add "AD Domain Users" --sid "$DOM-513" >/dev/null || fail "group add"
"$OPENCESD" --config "$C" group add-member "AD Domain Users" demo >/dev/null || fail "add-member"
"$OPENCESD" --config "$C" grant WebServer demo enroll >/dev/null || fail "grant WebServer"

URL="$BASE$CEP_PATH"
render "$VEC/getpolicies-cepces.xml" "$T/gp.xml" TO="$URL" USER=demo PASSWORD="$(cat "$D/demo-password")"
policies() { # OUT -> sorted template names served to demo
	local code
	code=$(post "$URL" "$D/ca.pem" "$T/gp.xml" "$1")
	[ "$code" = 200 ] || { echo "HTTP $code"; return 0; }
	xp "$1" "//*[$X='policy']/*[$X='attributes']/*[$X='commonName']/text()" | sort | tr '\n' ' '
}
got=$(policies "$T/gpr1.xml")
[ "$got" = "User WebServer " ] && pass "GetPolicies serves exactly User and WebServer" \
    || fail "GetPolicies served: $got"
[ "$(xp "$T/gpr1.xml" "string(//*[$X='cAURI']/*[$X='uri'])")" = "$CES_URI" ] \
    && pass "CES URI from msPKI-Enrollment-Servers" || fail "CES URI: $(xp "$T/gpr1.xml" "string(//*[$X='cAURI']/*[$X='uri'])")"
ws() { xp "$1" "string(//*[$X='policy'][*[$X='attributes']/*[$X='commonName']='WebServer']//*[$X='$2'])"; }
[ "$(ws "$T/gpr1.xml" validityPeriodSeconds)" = 63072000 ] && pass "WebServer validity 2y from LDAP" \
    || fail "WebServer validity $(ws "$T/gpr1.xml" validityPeriodSeconds)"

# an edited template is served changed after refresh_seconds
ldapmod <<EOF || fail "ldapmodify WebServer"
dn: CN=WebServer,CN=Certificate Templates,$PKS
changetype: modify
replace: pKIExpirationPeriod
pKIExpirationPeriod:: AEA5hy7h/v8=
-
replace: msPKI-Template-Minor-Revision
msPKI-Template-Minor-Revision: 7
EOF
changed=0
for i in $(seq 1 40); do
	policies "$T/gpr2.xml" >/dev/null
	if [ "$(ws "$T/gpr2.xml" validityPeriodSeconds)" = 31536000 ]; then changed=1; break; fi
	sleep 0.25
done
[ "$changed" = 1 ] && pass "edited validity served after the refresh (1y)" || fail "edit not served"
[ "$(ws "$T/gpr2.xml" minorRevision)" = 7 ] && pass "edited minor revision served" \
    || fail "minorRevision $(ws "$T/gpr2.xml" minorRevision)"

enroll() { # NAME
	"$OPENCES" enroll --policy-url "$URL" --auth password --user demo \
	    --password-file "$D/demo-password" --template WebServer --ca-file "$D/ca.pem" \
	    --subject "CN=$1.example.test" --dns "$1.example.test" \
	    --key-out "$T/$1.key" --cert-out "$T/$1.pem" >"$T/$1.log" 2>&1
}
days() { # PEM -> validity in days
	/usr/bin/python3 - "$1" <<'PY'
import subprocess, sys, datetime
out = subprocess.run(["openssl", "x509", "-in", sys.argv[1], "-noout", "-startdate", "-enddate"],
                     capture_output=True, text=True).stdout.splitlines()
f = lambda s: datetime.datetime.strptime(s.split("=", 1)[1], "%b %d %H:%M:%S %Y %Z")
print(round((f(out[1]) - f(out[0])).total_seconds() / 86400))
PY
}
enroll web1 && pass "enrolled WebServer from the mirrored policy" || { fail "enroll"; cat "$T/web1.log" >&2; }
[ -f "$T/web1.pem" ] && [ "$(days "$T/web1.pem")" = 365 ] && pass "certificate valid 365 days (LDAP value)" \
    || fail "validity $(days "$T/web1.pem" 2>/dev/null) days"

# slapd down: the last policy stays, enrollment works, status shows the failure
bash "$SLAPD" stop "$SL"
wait_status failing && pass "status failing: $(status)" || fail "status after stop: $(status)"
status | grep -q "127.0.0.1:$LPORT" && pass "status names the server" || fail "status error text"
health | grep -q '"directory":{"source":"ldap","state":"failing","failures":[1-9]' \
    && pass "/health shows the directory failing: $(health)" || fail "/health while down: $(health)"
"$OPENCESD" --config "$C" directory status >"$T/status.txt" 2>&1 && fail "status exit 0 while failing" \
    || pass "status exits non-zero while failing"
grep -q '^failures: *[1-9]' "$T/status.txt" && pass "consecutive failures counted" || fail "$(cat "$T/status.txt")"
got=$(policies "$T/gpr3.xml")
[ "$got" = "User WebServer " ] && [ "$(ws "$T/gpr3.xml" validityPeriodSeconds)" = 31536000 ] \
    && pass "last policy served while slapd is down" || fail "served while down: $got"
enroll web2 && pass "enrolled while slapd is down" || { fail "enroll while down"; cat "$T/web2.log" >&2; }
n=$(grep -c 'mirror: sync failed' "$T/serve.log" || true)
[ "$n" = 1 ] && pass "the failure is logged once" || fail "failure logged $n times"

# back
bash "$SLAPD" start "$SL" "$LPORT" || die "slapd restart"
wait_status ok && pass "status ok after slapd is back" || fail "status after restart: $(status)"
health | grep -q '"status":"ok".*"directory":{"source":"ldap","state":"ok","failures":0' \
    && pass "/health shows the directory ok again" || fail "/health after restart: $(health)"
grep -q 'mirror: sync works again' "$T/serve.log" && pass "recovery logged" || fail "no recovery log"

stop_pid "$SERVE_PID"
pgrep -f "$C" >/dev/null && fail "processes left after SIGTERM" || pass "stopped on SIGTERM"
finish
