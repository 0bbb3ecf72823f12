#!/usr/bin/env bash
# samba-dc.sh - throwaway Samba Active Directory DC for the tests: a single
# 127.x address (default 127.0.0.2), every file under DIR, its own smb.conf and
# krb5.conf (no system file read or written), no DNS (dns backend NONE, no dns /
# dnsupdate / nbt service, dns_lookup_* false, rdns false). Adapted from the
# measured recipe in docs/testenv.md section 2.
#
#   samba-dc.sh start DIR     provision DIR on first use, start samba, wait
#                             until its KDC answers (bounded), seed the accounts
#   samba-dc.sh env DIR       print the client environment (eval it)
#   samba-dc.sh ldapmodify DIR  (LDIF on stdin) modify the running DC over
#                             LDAPS as Administrator (for edits that must go
#                             through the server, e.g. while a client watches)
#   samba-dc.sh kinit DIR PRINCIPAL CCACHE
#                             kinit a seeded account: bob / carol (password) or
#                             ws1$ (machine keytab) into CCACHE
#   samba-dc.sh stop DIR      stop the samba of 'start' (by its PID only)
#
# Seeded (offline, straight into sam.ldb):
#   websvc    service account, SPN HTTP/localhost, AES keys; DIR/http.keytab
#             holds HTTP/localhost (the acceptor's keytab)
#   bob       domain user, member of "PKI Enrollers"
#   carol     domain user, in no group but Domain Users
#   ws1$      computer account, member of "PKI Enrollers"; DIR/ws1.keytab
#   "PKI Enrollers"  global security group (its SID is SDC_GROUP_SID)
#   bob and carol carry mail and userPrincipalName (bob@corp.example.test,
#   carol@...); ws1$ carries dNSHostName ws1.corp.example.test (the lower-case
#   realm in place of corp.example.test).
# The SIDs are printed by 'env' (SDC_DOMAIN_SID SDC_BOB_SID SDC_CAROL_SID
# SDC_WS1_SID SDC_GROUP_SID).
#
# LDAP on demand: SDC_SERVICES="kdc ldap" (default "kdc": no LDAP listener)
# also starts the LDAP server (389 with StartTLS, 636 LDAPS) with AD's default
# 'ldap server require strong auth = yes' (simple binds only over TLS). The
# TLS certificate is our own: a test CA (DIR/tls/ca.pem) signs the DC's
# certificate with subjectAltName IP:SDC_IP, DNS:localhost, DNS:dc1.<realm>, so
# clients connect to ldaps://SDC_IP and verify the peer against that CA (no
# /etc/hosts entry, no "verify nothing"). 'env' prints SDC_LDAP_URI
# (ldaps://SDC_IP), SDC_LDAP_STARTTLS_URI (ldap://SDC_IP), SDC_LDAP_CA,
# SDC_BASE_DN, SDC_ADMIN_DN, SDC_ADMIN_UPN, SDC_ADMIN_PASS and LDAPTLS_CACERT
# (for ldapsearch/ldapmodify). The DC also holds the SPN ldap/SDC_IP for
# SASL/GSSAPI binds to ldap://SDC_IP (rdns = false). The service set is chosen
# at each 'start', so one provisioned DIR serves both modes.
#
# Tunables: SDC_IP (127.0.0.2) SDC_REALM (CORP.EXAMPLE.TEST) SDC_DOMAIN (CORP)
#   SDC_MAXRUN (seconds, 1800: samba exits by itself after that)
#   SDC_TIMEOUT (seconds to wait for readiness, 60).
# Ports are AD's fixed ones (88 tcp/udp and the kpasswd 464 of the KDC
# service) on SDC_IP only: one instance per 127.x address, run as root.
# Packages (scripts/extra-packages.txt): samba samba-ad-dc samba-ad-provision
#   samba-dsdb-modules winbind ldb-tools krb5-user openssl, and ldap-utils
#   with SDC_SERVICES containing ldap. A missing tool is an error.
set -euo pipefail

die() { echo "samba-dc: $*" >&2; exit 1; }
cmd=${1:-}; D=${2:-}
[ -n "$D" ] || die "usage: $0 start|env|kinit|ldapmodify|stop DIR"
D=$(realpath -m "$D")
# Settings chosen at provision time are kept in DIR/sdc.env and win later.
[ -f "$D/sdc.env" ] && . "$D/sdc.env"
IP=${SDC_IP:-127.0.0.2}
REALM=${SDC_REALM:-CORP.EXAMPLE.TEST}
DOMAIN=${SDC_DOMAIN:-CORP}
MAXRUN=${SDC_MAXRUN:-1800}
TIMEOUT=${SDC_TIMEOUT:-60}
SERVICES=${SDC_SERVICES:-kdc}
ADMINPASS='Adm1n!Passw0rd'
SVCPASS='Svc!Passw0rd1'
USERPASS='Us3r!Passw0rd'
MACHPASS='Ws1!Machine-Passw0rd'
GROUP='PKI Enrollers'
realm_lc=$(echo "$REALM" | tr 'A-Z' 'a-z')
BASEDN=$(echo "$realm_lc" | sed 's/^/DC=/; s/\./,DC=/g')
case "$IP" in 127.*) ;; *) die "SDC_IP must be a 127.x loopback address, got $IP" ;; esac
case "$TIMEOUT$MAXRUN" in *[!0-9]*) die "bad SDC_TIMEOUT or SDC_MAXRUN" ;; esac
WANT_LDAP=0
for s in $SERVICES; do
  case "$s" in
    kdc) ;;
    ldap) WANT_LDAP=1 ;;
    *) die "SDC_SERVICES: only kdc and ldap are supported, got '$s'" ;;
  esac
done
case " $SERVICES " in *" kdc "*) ;; *) die "SDC_SERVICES must contain kdc (readiness is a kinit)" ;; esac
export PATH=$PATH:/usr/sbin:/sbin
export KRB5_CONFIG=$D/krb5.conf   # never the system one (it points at mit.edu)

need_tools() {
  local t
  local tools="samba samba-tool ldbmodify ldbsearch kinit timeout openssl"
  [ "$WANT_LDAP" = 1 ] && tools="$tools ldapsearch ldapmodify"
  for t in $tools; do
    command -v "$t" >/dev/null ||
      die "$t not found: install samba samba-ad-dc samba-ad-provision samba-dsdb-modules winbind ldb-tools krb5-user ldap-utils openssl"
  done
  [ "$(id -u)" = 0 ] || die "must run as root (samba binds port 88)"
}

show_logs() {
  local f
  for f in "$D/log/provision.log" "$D/log/samba.out" "$D/log/samba.log"; do
    [ -s "$f" ] && { echo "---- $f (tail)" >&2; tail -40 "$f" >&2; }
  done
  return 0
}

# samba-tool / ldb tools on sam.ldb, bounded in time
sdb() { timeout 60 "$@" -H "$D/private/sam.ldb"; }

sid_of() {   # objectSid of an account or group by sAMAccountName
  timeout 60 ldbsearch -H "$D/private/sam.ldb" "(sAMAccountName=$1)" objectSid 2>/dev/null |
    sed -n 's/^objectSid: //p' | head -1
}

# Our own TLS CA and DC certificate (SAN IP:$IP, localhost, dc1.<realm>), so
# that LDAPS to the IP verifies against DIR/tls/ca.pem. Samba would otherwise
# generate a self-signed certificate naming only the host (dc1.<realm>), which
# nothing here resolves.
make_tls() {
  mkdir -p "$D/tls"
  chmod 700 "$D/tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=samba-dc test CA $IP" \
    -keyout "$D/tls/ca.key" -out "$D/tls/ca.pem" 2>/dev/null &&
  openssl req -newkey rsa:2048 -nodes -subj "/CN=dc1.$realm_lc" \
    -keyout "$D/tls/key.pem" -out "$D/tls/req.pem" 2>/dev/null &&
  openssl x509 -req -in "$D/tls/req.pem" -CA "$D/tls/ca.pem" -CAkey "$D/tls/ca.key" \
    -CAcreateserial -days 30 -out "$D/tls/cert.pem" \
    -extfile <(printf 'subjectAltName=IP:%s,DNS:localhost,DNS:dc1.%s\nextendedKeyUsage=serverAuth\n' \
      "$IP" "$realm_lc") 2>/dev/null || return 1
  chmod 600 "$D/tls/ca.key" "$D/tls/key.pem"   # samba refuses a key file that is not 0600
  rm -f "$D/tls/req.pem"
}

provision() {
  rm -rf "$D"
  mkdir -p "$D"/run "$D"/log
  printf 'SDC_IP=%q\nSDC_REALM=%q\nSDC_DOMAIN=%q\n' "$IP" "$REALM" "$DOMAIN" > "$D/sdc.env"
  make_tls || die "TLS certificate generation failed"
  # interfaces = IP/8 + bind interfaces only => exactly IP ("127.0.0.2" or /32 binds nothing).
  # Services: the KDC only here (no dns, dnsupdate, nbt); 'start' adds ldap on demand.
  timeout 180 samba-tool domain provision --targetdir="$D" --realm="$REALM" --domain="$DOMAIN" \
    --server-role=dc --dns-backend=NONE --use-rfc2307 --host-name=dc1 --host-ip="$IP" \
    --adminpass="$ADMINPASS" \
    --option="interfaces = $IP/8" --option="bind interfaces only = yes" \
    --option="server services = kdc" --option="disable netbios = yes" \
    --option="pid directory = $D/run" --option="ncalrpc dir = $D/run/ncalrpc" \
    --option="winbindd socket directory = $D/run/winbindd" \
    --option="ntp signd socket directory = $D/run/ntp_signd" \
    --option="log file = $D/log/samba.log" \
    --option="tls enabled = yes" --option="tls keyfile = $D/tls/key.pem" \
    --option="tls certfile = $D/tls/cert.pem" --option="tls cafile = $D/tls/ca.pem" \
    > "$D/log/provision.log" 2>&1 || { show_logs; die "provision failed"; }

  {
    sdb samba-tool domain passwordsettings set --max-pwd-age=0 --complexity=off
    sdb samba-tool user add websvc "$SVCPASS"
    sdb samba-tool user setexpiry websvc --noexpiry
    sdb samba-tool spn add HTTP/localhost websvc
    sdb samba-tool user add bob "$USERPASS" --given-name=Bob --surname=Builder
    sdb samba-tool user add carol "$USERPASS"
    sdb samba-tool computer add ws1
    # 'computer add' leaves the account without keys: give it a password to export
    sdb samba-tool user setpassword 'ws1$' --newpassword="$MACHPASS"
    sdb samba-tool group add "$GROUP"
    sdb samba-tool group addmembers "$GROUP" 'bob,ws1$'
    # SASL/GSSAPI binds to ldap://IP (rdns = false) ask for ldap/IP
    sdb samba-tool spn add "ldap/$IP" 'DC1$'
    # Without msDS-SupportedEncryptionTypes the KDC uses RC4 for the service
    # ticket and exportkeytab exports arcfour only; 24 = AES128 + AES256.
    # 'samba-tool user add' already sets userPrincipalName name@<realm, lower
    # case> (a replace with the same value is a constraint violation)
    sdb ldbmodify <<EOF
dn: CN=websvc,CN=Users,$BASEDN
changetype: modify
replace: msDS-SupportedEncryptionTypes
msDS-SupportedEncryptionTypes: 24

dn: CN=Bob Builder,CN=Users,$BASEDN
changetype: modify
replace: mail
mail: bob@$realm_lc

dn: CN=carol,CN=Users,$BASEDN
changetype: modify
replace: mail
mail: carol@$realm_lc

dn: CN=ws1,CN=Computers,$BASEDN
changetype: modify
replace: dNSHostName
dNSHostName: ws1.$realm_lc
EOF
  } >> "$D/log/provision.log" 2>&1 || { show_logs; die "seeding accounts failed"; }
  timeout 60 samba-tool domain exportkeytab "$D/http.keytab" --principal=HTTP/localhost \
    -s "$D/etc/smb.conf" >> "$D/log/provision.log" 2>&1 || { show_logs; die "exportkeytab HTTP failed"; }
  timeout 60 samba-tool domain exportkeytab "$D/ws1.keytab" --principal='ws1$' \
    -s "$D/etc/smb.conf" >> "$D/log/provision.log" 2>&1 || { show_logs; die "exportkeytab ws1 failed"; }
  [ -s "$D/http.keytab" ] && [ -s "$D/ws1.keytab" ] || { show_logs; die "keytabs not written"; }
  {
    echo "SDC_DOMAIN_SID=$(timeout 60 ldbsearch -H "$D/private/sam.ldb" -s base -b "$BASEDN" objectSid 2>/dev/null | sed -n 's/^objectSid: //p')"
    echo "SDC_BOB_SID=$(sid_of bob)"
    echo "SDC_CAROL_SID=$(sid_of carol)"
    echo "SDC_WS1_SID=$(sid_of 'ws1$')"
    echo "SDC_GROUP_SID=$(sid_of "$GROUP")"
  } > "$D/sids.env"
  grep -q '=S-1-5-21-' "$D/sids.env" || { cat "$D/sids.env" >&2; die "SIDs not found"; }
  grep -c '=S-1-5-21-' "$D/sids.env" | grep -qx 5 || { cat "$D/sids.env" >&2; die "SIDs missing"; }

  # Our own client krb5.conf (provision's private/krb5.conf has dns_lookup_kdc = true).
  cat > "$D/krb5.conf" <<EOF
[libdefaults]
    default_realm = $REALM
    dns_lookup_realm = false
    dns_lookup_kdc = false
    dns_canonicalize_hostname = false
    rdns = false
    udp_preference_limit = 1
[realms]
    $REALM = {
        kdc = $IP
    }
[domain_realm]
    localhost = $REALM
    .$realm_lc = $REALM
    $realm_lc = $REALM
EOF
}

do_kinit() {   # principal ccache
  local p=$1 cc=$2
  case "$p" in
    *\$) KRB5CCNAME="FILE:$cc" timeout 20 kinit -k -t "$D/ws1.keytab" "$p@$REALM" ;;
    *) echo "$USERPASS" | KRB5CCNAME="FILE:$cc" timeout 20 kinit "$p@$REALM" >/dev/null ;;
  esac
}

ldap_ready() {
  [ "$WANT_LDAP" = 1 ] || return 0
  LDAPTLS_CACERT="$D/tls/ca.pem" LDAPTLS_REQCERT=demand timeout 10 ldapsearch -x -LLL \
    -H "ldaps://$IP" -D "Administrator@$realm_lc" -w "$ADMINPASS" -b '' -s base \
    defaultNamingContext 2>/dev/null | grep -q '^defaultNamingContext:'
}

wait_ready() {
  local pid=$1 deadline=$((SECONDS + TIMEOUT))
  while [ "$SECONDS" -lt "$deadline" ]; do
    kill -0 "$pid" 2>/dev/null || { show_logs; die "samba exited"; }
    if do_kinit bob "$D/ccache.probe" 2>/dev/null && ldap_ready; then
      rm -f "$D/ccache.probe"; return 0
    fi
    sleep 0.2
  done
  show_logs
  die "not ready after $TIMEOUT s"
}

stop() {
  local pid i
  [ -f "$D/samba.pid" ] || return 0
  pid=$(cat "$D/samba.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$D/samba.pid"
}

case "$cmd" in
start)
  need_tools
  if [ -f "$D/samba.pid" ] && kill -0 "$(cat "$D/samba.pid")" 2>/dev/null; then die "already running"; fi
  [ -f "$D/private/sam.ldb" ] && [ -f "$D/sids.env" ] || provision
  # -F: foreground (-i would exit at EOF of stdin); -M single: one process.
  samba -F -M single -s "$D/etc/smb.conf" --maximum-runtime="$MAXRUN" \
    --option="server services = $SERVICES" \
    < /dev/null > "$D/log/samba.out" 2>&1 &
  echo $! > "$D/samba.pid"
  if ! (wait_ready "$(cat "$D/samba.pid")"); then stop; exit 1; fi
  echo "samba-dc: ready on $IP (pid $(cat "$D/samba.pid")), realm $REALM, services $SERVICES"
  ;;
env)
  [ -f "$D/sids.env" ] || die "not provisioned: $D"
  echo "export KRB5_CONFIG=$D/krb5.conf"
  echo "export SDC_REALM=$REALM SDC_IP=$IP"
  echo "export SDC_KEYTAB=$D/http.keytab SDC_SPN=HTTP/localhost SDC_WS1_KEYTAB=$D/ws1.keytab"
  echo "export SDC_USERPASS='$USERPASS'"
  echo "export SDC_LDAP_URI=ldaps://$IP SDC_LDAP_STARTTLS_URI=ldap://$IP SDC_LDAP_CA=$D/tls/ca.pem"
  echo "export LDAPTLS_CACERT=$D/tls/ca.pem"
  echo "export SDC_BASE_DN='$BASEDN' SDC_ADMIN_DN='CN=Administrator,CN=Users,$BASEDN'"
  echo "export SDC_ADMIN_UPN='Administrator@$realm_lc' SDC_ADMIN_PASS='$ADMINPASS'"
  echo "export SDC_DNS_DOMAIN=$realm_lc SDC_WS1_DNS=ws1.$realm_lc"
  sed 's/^/export /' "$D/sids.env"
  ;;
kinit)
  [ $# -eq 4 ] || die "usage: $0 kinit DIR PRINCIPAL CCACHE"
  do_kinit "$3" "$4" || die "kinit $3 failed"
  ;;
ldapmodify)
  LDAPTLS_CACERT="$D/tls/ca.pem" LDAPTLS_REQCERT=demand timeout 30 ldapmodify -x -H "ldaps://$IP" \
    -D "Administrator@$realm_lc" -w "$ADMINPASS" || die "ldapmodify failed"
  ;;
stop)
  stop
  echo "samba-dc: stopped"
  ;;
*) die "usage: $0 start|env|kinit|ldapmodify|stop DIR" ;;
esac
