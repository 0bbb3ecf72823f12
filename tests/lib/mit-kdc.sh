#!/usr/bin/env bash
# mit-kdc.sh - throwaway MIT Kerberos KDC for the tests: loopback only, every
# file under DIR, no system file touched (KRB5_CONFIG and KRB5_KDC_PROFILE
# point into DIR), no DNS (dns_lookup_*, rdns, dns_canonicalize_hostname off).
# Adapted from the measured recipe in docs/testenv.md section 1.
#
#   mit-kdc.sh start DIR              create the realm (first use), start krb5kdc,
#                                     wait until it answers, kinit the user into
#                                     FILE:DIR/ccache
#   mit-kdc.sh kinit DIR CCACHE [LIFE] kinit the user into CCACHE (e.g. LIFE=4s)
#   mit-kdc.sh kinit-machine DIR CCACHE kinit the machine account client$ from
#                                     DIR/client.keytab into CCACHE
#   mit-kdc.sh env DIR                print the client environment
#   mit-kdc.sh stop DIR               stop the krb5kdc of 'start' (by its PID only)
#
# Files in DIR: krb5.conf kdc.conf http.keytab (HTTP/localhost, HTTP/127.0.0.1)
# other.keytab (HTTP/other.example.test, a principal no client asks for)
# client.keytab (client$, a machine account as AD names them) ccache.
# Tunables: MKDC_IP (127.0.0.1) MKDC_PORT (28088) MKDC_REALM (EXAMPLE.TEST)
#   MKDC_USER (alice) MKDC_USERPASS MKDC_CLOCKSKEW (seconds, 300)
# Needs krb5-kdc and krb5-user (scripts/extra-packages.txt); no root (port > 1024).
# A missing tool is an error, never a skip.
set -euo pipefail
IP=${MKDC_IP:-127.0.0.1}; PORT=${MKDC_PORT:-28088}; REALM=${MKDC_REALM:-EXAMPLE.TEST}
USER_=${MKDC_USER:-alice}; USERPASS=${MKDC_USERPASS:-userpw123}
SKEW=${MKDC_CLOCKSKEW:-300}
SPNS="HTTP/localhost HTTP/127.0.0.1"
OTHER_SPN=HTTP/other.example.test
die() { echo "mit-kdc: $*" >&2; exit 1; }
case "$IP" in 127.*|::1) ;; *) die "MKDC_IP must be loopback" ;; esac
case "$PORT" in ''|*[!0-9]*) die "bad MKDC_PORT" ;; esac
case "$SKEW" in ''|*[!0-9]*) die "bad MKDC_CLOCKSKEW" ;; esac
cmd=${1:-}; D=${2:-}
[ -n "$D" ] || die "usage: $0 start|kinit|env|stop DIR"
D=$(realpath -m "$D")
export KRB5_CONFIG=$D/krb5.conf KRB5_KDC_PROFILE=$D/kdc.conf
# Paths come from PATH first, then the Debian locations of the daemons.
export PATH=$PATH:/usr/sbin:/sbin
for t in krb5kdc kdb5_util kadmin.local kinit; do
  command -v "$t" >/dev/null || die "$t not found: install krb5-kdc krb5-user"
done

create() {
  mkdir -p "$D"
  cat > "$D/krb5.conf" <<EOC
[libdefaults]
    default_realm = $REALM
    dns_lookup_realm = false
    dns_lookup_kdc = false
    dns_canonicalize_hostname = false
    rdns = false
    udp_preference_limit = 1
    clockskew = $SKEW
[realms]
    $REALM = {
        kdc = $IP:$PORT
    }
[domain_realm]
    localhost = $REALM
    127.0.0.1 = $REALM
    other.example.test = $REALM
EOC
  cat > "$D/kdc.conf" <<EOC
[kdcdefaults]
    kdc_listen = $IP:$PORT
    kdc_tcp_listen = $IP:$PORT
[realms]
    $REALM = {
        database_name = $D/principal
        key_stash_file = $D/stash
        acl_file = $D/kadm5.acl
        max_life = 10h 0m 0s
        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
    }
[logging]
    kdc = FILE:$D/kdc.log
    default = FILE:$D/krb5lib.log
EOC
  : > "$D/kadm5.acl"
  kdb5_util create -s -r "$REALM" -P "masterpw-$$-$RANDOM" >/dev/null
  kadmin.local -q "addprinc -pw $USERPASS $USER_" >/dev/null 2>&1
  for s in $SPNS $OTHER_SPN; do
    kadmin.local -q "addprinc -randkey $s" >/dev/null 2>&1
  done
  kadmin.local -q "ktadd -k $D/http.keytab $SPNS" >/dev/null 2>&1
  kadmin.local -q "ktadd -k $D/other.keytab $OTHER_SPN" >/dev/null 2>&1
  kadmin.local -q 'addprinc -randkey client$' >/dev/null 2>&1
  kadmin.local -q "ktadd -k $D/client.keytab client\$" >/dev/null 2>&1
  [ -s "$D/http.keytab" ] && [ -s "$D/other.keytab" ] && [ -s "$D/client.keytab" ] ||
    die "keytab export failed"
}

do_kinit() { # CCACHE [LIFE]
  local life=()
  [ -n "${2:-}" ] && life=(-l "$2")
  echo "$USERPASS" | KRB5CCNAME=$1 kinit "${life[@]}" "$USER_" >/dev/null
}

case "$cmd" in
start)
  if [ -f "$D/kdc.pid" ] && kill -0 "$(cat "$D/kdc.pid")" 2>/dev/null; then die "already running"; fi
  [ -f "$D/principal" ] || create
  krb5kdc -n < /dev/null > "$D/kdc.out" 2>&1 &   # -n: no fork, so $! is the KDC itself
  echo $! > "$D/kdc.pid"
  for _ in $(seq 1 100); do
    kill -0 "$(cat "$D/kdc.pid")" 2>/dev/null || { cat "$D/kdc.out" "$D/kdc.log" >&2 || true; rm -f "$D/kdc.pid"; die "krb5kdc exited"; }
    if do_kinit "FILE:$D/ccache" 2>/dev/null; then
      echo "mit-kdc: ready on $IP:$PORT realm $REALM"; exit 0
    fi
    sleep 0.05
  done
  die "not ready after 5 s"
  ;;
kinit)
  [ -n "${3:-}" ] || die "usage: $0 kinit DIR CCACHE [LIFETIME]"
  do_kinit "$3" "${4:-}"
  ;;
kinit-machine)
  [ -n "${3:-}" ] || die "usage: $0 kinit-machine DIR CCACHE"
  KRB5CCNAME=$3 kinit -k -t "$D/client.keytab" 'client$' >/dev/null
  ;;
env)
  echo "export KRB5_CONFIG=$D/krb5.conf KRB5_KDC_PROFILE=$D/kdc.conf KRB5CCNAME=FILE:$D/ccache"
  echo "export KRB5_KTNAME=FILE:$D/http.keytab MKDC_USER=$USER_ MKDC_USERPASS='$USERPASS'"
  ;;
stop)
  [ -f "$D/kdc.pid" ] || exit 0
  pid=$(cat "$D/kdc.pid"); kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$D/kdc.pid"; echo "mit-kdc: stopped"
  ;;
*) die "usage: $0 start DIR | kinit DIR CCACHE [LIFE] | kinit-machine DIR CCACHE | env DIR | stop DIR" ;;
esac
