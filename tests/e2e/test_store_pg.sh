#!/usr/bin/env bash
# The CA store in PostgreSQL end to end: two servers (front and CA each) on
# one database through [store] url, a password in the URL. Enrollments on
# both land in the one store (RequestIDs and serials distinct), the admin CLI
# reads and revokes through the same URL, a CRL published by one numbers
# after the other's, and the password shows in no log.
. "$(dirname "$0")/lib.sh"

# the server runs as user postgres when we are root: its directory must be reachable
PG=$(mktemp -d "${TMPDIR:-/tmp}/oc-pg.XXXXXX")
chmod 0755 "$PG"
pg_stop() { "$OC_SOURCE_DIR/tests/lib/postgres.sh" stop "$PG" || true; rm -rf "$PG"; }
trap 'pg_stop; cleanup' EXIT
"$OC_SOURCE_DIR/tests/lib/postgres.sh" start "$PG" "$(free_port)" || die "PostgreSQL did not start"
DB=$("$OC_SOURCE_DIR/tests/lib/postgres.sh" url "$PG") || die "no database"
# trust authentication: any password is accepted, and none may be logged
SECRET=Hunter2-pg-secret
STORE_URL=$(echo "$DB" | sed "s|://postgres@|://postgres:$SECRET@|")
psqlq() { "${PGBIN:-/usr/lib/postgresql/15/bin}/psql" -qtAX "$DB" -c "$1"; }

# the demo makes keys, certificates and the directory; then serve from a config with the URL
PORT=$(free_port)
D=$T/demo
start_demo "$D" "$PORT"
stop_pid "$DEMO_PID"
PORT2=$(free_port)
for n in 1 2; do
	p=$PORT; [ $n = 2 ] && p=$PORT2
	sed -e "s|^path = ca.db$|url = $STORE_URL|" -e "s|127.0.0.1:$PORT|127.0.0.1:$p|g" \
	    -e "s|^audit_log = audit.log|audit_log = audit$n.log|" \
	    "$D/opencesd.conf" >"$D/node$n.conf"
	grep -q "^url = postgresql://" "$D/node$n.conf" || die "no [store] url in node$n.conf"
	grep -q "^publish_dir" "$D/node$n.conf" && sed -i "s|^publish_dir = pub|publish_dir = pub$n|" "$D/node$n.conf"
done
start_serve "$D/node1.conf" "$T/node1.log" "https://127.0.0.1:$PORT" "$D/ca.pem"
start_serve "$D/node2.conf" "$T/node2.log" "https://127.0.0.1:$PORT2" "$D/ca.pem"
[ "$(psqlq 'SELECT max(version) FROM schema_version')" = 3 ] \
    && pass "schema created in PostgreSQL (version 3)" || fail "schema version"

enroll() { # port out
	mkdir -p "$2"
	"$OPENCES" enroll --policy-url "https://127.0.0.1:$1$CEP_PATH" --auth password --user demo \
	    --password-file "$D/demo-password" --template User --ca-file "$D/ca.pem" \
	    --key-out "$2/key.pem" --cert-out "$2/cert.pem" >"$2/log" 2>&1
}
for i in 1 2 3; do
	enroll "$PORT" "$T/a$i" && pass "enrolled on node 1 ($i)" || { fail "node 1 enroll $i"; cat "$T/a$i/log" >&2; }
	enroll "$PORT2" "$T/b$i" && pass "enrolled on node 2 ($i)" || { fail "node 2 enroll $i"; cat "$T/b$i/log" >&2; }
done
[ "$(psqlq 'SELECT count(*) FROM certificates')" = 6 ] && pass "six certificates in the one store" \
    || fail "certificates: $(psqlq 'SELECT count(*) FROM certificates')"
[ "$(psqlq 'SELECT count(DISTINCT request_id) FROM requests WHERE status = 2')" = 6 ] \
    && pass "six distinct issued RequestIDs" || fail "requests"
serials=$(for f in "$T"/[ab]?/cert.pem; do openssl x509 -in "$f" -noout -serial; done | sort -u | wc -l)
[ "$serials" = 6 ] && pass "six distinct serials" || fail "serials: $serials"

# the admin CLI through the same URL
adm() { "$OPENCESD" --config "$D/node1.conf" "$@"; }
adm cert list --json >"$T/certs.json" 2>"$T/adm.err" || { fail "cert list"; cat "$T/adm.err" >&2; }
python3 -c 'import json,sys; assert len(json.load(open(sys.argv[1]))) == 6' "$T/certs.json" \
    && pass "admin cert list reads PostgreSQL" || fail "cert list: $(cat "$T/certs.json")"
S=$(openssl x509 -in "$T/b1/cert.pem" -noout -serial | cut -d= -f2)
adm cert revoke "$S" --reason keyCompromise >/dev/null 2>"$T/adm.err" \
    && pass "revoked from the admin CLI" || { fail "revoke"; cat "$T/adm.err" >&2; }
[ "$(psqlq "SELECT reason FROM certificates WHERE serial = lower('$S')")" = 1 ] \
    && pass "revocation stored" || fail "revocation not stored"
adm crl publish >/dev/null 2>"$T/adm.err" && pass "crl publish asked" || { fail "crl publish"; cat "$T/adm.err" >&2; }
for i in $(seq 1 100); do
	[ "$(psqlq 'SELECT count(*) FROM crls WHERE number > 2')" -ge 1 ] && break
	sleep 0.1
done
[ "$(psqlq 'SELECT count(*) - count(DISTINCT number) FROM crls')" = 0 ] \
    && [ "$(psqlq 'SELECT count(*) FROM crls')" -ge 3 ] \
    && pass "CRL numbers from both nodes, none twice: $(psqlq 'SELECT string_agg(number::text, $$,$$ ORDER BY number) FROM crls')" \
    || fail "crls: $(psqlq 'SELECT number, delta FROM crls')"
adm request list --json >/dev/null 2>&1 && pass "admin request list" || fail "request list"

# the password is in no log, audit line or error
stop_pid "$SERVE_PID"
if grep -rl "$SECRET" "$T"/*.log "$D"/*.log "$T/adm.err" 2>/dev/null; then
	fail "the store password was logged"
else
	pass "the store password is in no log"
fi
# a store that cannot be opened: the error names the URL, without the password
sed "s|^url = .*|url = ${STORE_URL%/*}/no_such_db|" "$D/node1.conf" >"$D/bad.conf"
if "$OPENCESD" --config "$D/bad.conf" cert list >/dev/null 2>"$T/bad.err"; then
	fail "a missing database opened"
elif grep -q "$SECRET" "$T/bad.err"; then
	fail "the password is in the error: $(cat "$T/bad.err")"
elif grep -q 'postgres:\*\*\*@127.0.0.1' "$T/bad.err"; then
	pass "the error shows the URL with *** for the password"
else
	fail "unexpected error: $(cat "$T/bad.err")"
fi
finish
