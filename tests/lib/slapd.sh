#!/usr/bin/env bash
# slapd.sh - throwaway OpenLDAP slapd for the tests: loopback only, every file
# under DIR, the shipped AD PKI schema (contrib/ldap/opences-adpki.schema)
# loaded, StartTLS offered with a test CA made here. Adapted from the recipe
# in docs/testenv.md section 3.
#
#   slapd.sh start DIR PORT [LDIF...]  first use: write slapd.conf, make the test
#                                      CA and server certificate, slapadd the
#                                      LDIF files; then start slapd on
#                                      ldap://127.0.0.1:PORT and wait (bounded)
#                                      until it answers. A later start reuses
#                                      DIR (data kept) and ignores LDIF.
#   slapd.sh stop DIR                  stop the slapd of 'start' (by its PID only)
#   slapd.sh env DIR                   print SLAPD_URI, SLAPD_BASE, SLAPD_BIND_DN,
#                                      SLAPD_PASSWORD_FILE, SLAPD_CA_FILE
#
# Suffix DC=corp,DC=example,DC=test (SLAPD_SUFFIX); the configuration naming
# context is CN=Configuration under it. The root DN CN=admin,<suffix> binds with
# the password in DIR/password. Needs slapd and ldap-utils
# (scripts/extra-packages.txt) and openssl; a missing one is an error, never a skip.
# SLAPD_GLOBAL_CONF: extra global slapd.conf lines on first use (e.g. sasl-host for
# GSSAPI binds; slapd then needs KRB5_CONFIG and KRB5_KTNAME in its environment).
set -euo pipefail
SUFFIX=${SLAPD_SUFFIX:-DC=corp,DC=example,DC=test}
die() { echo "slapd.sh: $*" >&2; exit 1; }
cmd=${1:-}; D=${2:-}
[ -n "$D" ] || die "usage: $0 start DIR PORT [LDIF...] | stop DIR | env DIR"
D=$(realpath -m "$D")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCHEMA=$HERE/../../contrib/ldap/opences-adpki.schema
export PATH=$PATH:/usr/sbin:/sbin

case "$cmd" in
start)
  PORT=${3:-}
  case "$PORT" in ''|*[!0-9]*) die "bad PORT" ;; esac
  shift 3
  for t in slapd slapadd ldapsearch openssl; do
    command -v "$t" >/dev/null || die "$t not found: install slapd ldap-utils openssl"
  done
  [ -f "$SCHEMA" ] || die "no schema at $SCHEMA"
  if [ -f "$D/bg.pid" ] && kill -0 "$(cat "$D/bg.pid")" 2>/dev/null; then
    die "already running in $D"
  fi
  if [ ! -f "$D/slapd.conf" ]; then
    mkdir -p "$D/db"
    printf "secret-%s-%s" "$$" "$RANDOM" > "$D/password"
    chmod 600 "$D/password"
    # a test CA and a server certificate for 127.0.0.1 / localhost
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
      -subj "/CN=slapd test CA" -keyout "$D/ca.key" -out "$D/ca.pem" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
      -keyout "$D/server.key" -out "$D/server.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > "$D/ext.cnf"
    openssl x509 -req -in "$D/server.csr" -CA "$D/ca.pem" -CAkey "$D/ca.key" \
      -CAcreateserial -days 2 -extfile "$D/ext.cnf" -out "$D/server.pem" 2>/dev/null
    cat > "$D/slapd.conf" <<EOF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include $SCHEMA
pidfile $D/slapd.pid
argsfile $D/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCACertificateFile $D/ca.pem
TLSCertificateFile $D/server.pem
TLSCertificateKeyFile $D/server.key
${SLAPD_GLOBAL_CONF:-}
database mdb
maxsize 104857600
suffix "$SUFFIX"
rootdn "CN=admin,$SUFFIX"
rootpw $(cat "$D/password")
directory $D/db
EOF
    for f in "$@"; do
      sed "s/@SUFFIX@/$SUFFIX/g" "$f" | slapadd -q -f "$D/slapd.conf" \
        || die "slapadd $f failed"
    done
  fi
  echo "$PORT" > "$D/port"
  # -d 0: stay in the foreground (so bg.pid is slapd itself), no debug output
  slapd -f "$D/slapd.conf" -h "ldap://127.0.0.1:$PORT/" -d 0 </dev/null >"$D/slapd.log" 2>&1 &
  echo $! > "$D/bg.pid"
  for _ in $(seq 1 100); do
    if ldapsearch -x -LLL -H "ldap://127.0.0.1:$PORT" -b "" -s base namingContexts \
        >/dev/null 2>&1; then
      exit 0
    fi
    kill -0 "$(cat "$D/bg.pid")" 2>/dev/null || { cat "$D/slapd.log" >&2; die "slapd ended"; }
    sleep 0.1
  done
  kill "$(cat "$D/bg.pid")" 2>/dev/null || true
  die "slapd did not answer on 127.0.0.1:$PORT within 10 s"
  ;;
stop)
  [ -f "$D/bg.pid" ] || exit 0
  pid=$(cat "$D/bg.pid")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$D/bg.pid"
  ;;
env)
  echo "SLAPD_URI=ldap://127.0.0.1:$(cat "$D/port")"
  echo "SLAPD_BASE=CN=Configuration,$SUFFIX"
  echo "SLAPD_BIND_DN=CN=admin,$SUFFIX"
  echo "SLAPD_PASSWORD_FILE=$D/password"
  echo "SLAPD_CA_FILE=$D/ca.pem"
  ;;
*) die "unknown command $cmd" ;;
esac
