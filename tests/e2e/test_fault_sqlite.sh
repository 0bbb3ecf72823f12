#!/usr/bin/env bash
# Single-host fault run with the embedded SQLite store: 4 clients enroll 15 times each
# (template OpenCESWebServerEC: P-256 keys keep the run short)
# with `opences enroll` while the CA process is killed with SIGKILL in the middle of the
# run (the supervisor restarts it). A client whose enrollment fails retries it (a new
# key, a new request), at most 40 times. Afterwards every certificate a client received
# (the files opences wrote) is in the store exactly once, no serial repeats, the store
# passes its integrity checks (SQLite's and ours: every certificate belongs to an ISSUED
# request naming its serial, no request is left undecided), and new enrollments work.
. "$(dirname "$0")/lib.sh"

CLIENTS=4
PER_CLIENT=15
command -v sqlite3 >/dev/null || die "sqlite3 (the SQLite shell) is needed"

PORT=$(free_port)
D=$T/demo
start_demo "$D" "$PORT"
URL="https://127.0.0.1:$PORT$CEP_PATH"

child_named() { # NAME -> pid of the supervisor's child with that comm
	local p
	for p in $(pgrep -P "$DEMO_PID"); do
		[ "$(cat /proc/$p/comm 2>/dev/null)" = "$1" ] && { echo "$p"; return 0; }
	done
	return 1
}
enroll() { # DIR NAME
	mkdir -p "$1"
	"$OPENCES" enroll --policy-url "$URL" --auth password --user demo \
	    --password-file "$D/demo-password" --template OpenCESWebServerEC --ca-file "$D/ca.pem" \
	    --subject "CN=$2.example.test" --dns "$2.example.test" --connect-timeout 2 --timeout 20 \
	    --key-out "$1/key.pem" --cert-out "$1/cert.pem" >"$1/log" 2>&1
}
client() { # K: PER_CLIENT enrollments, each retried until it succeeds (bounded)
	local k=$1 j a retries=0
	for j in $(seq 1 "$PER_CLIENT"); do
		for a in $(seq 1 40); do
			rm -f "$T/c$k/e$j/cert.pem"
			enroll "$T/c$k/e$j" "c$k-e$j" && break
			retries=$((retries + 1))
			cp "$T/c$k/e$j/log" "$T/c$k/e$j/log.fail$a" 2>/dev/null || true
			sleep 0.25
		done
	done
	echo "$retries" >"$T/c$k.retries"
}

PIDS=()
for k in $(seq 1 "$CLIENTS"); do client "$k" & PIDS+=($!); done

# Kill the CA once about a third of the certificates were received.
for i in $(seq 1 600); do
	n=$(find "$T" -name cert.pem 2>/dev/null | wc -l)
	[ "$n" -ge $((CLIENTS * PER_CLIENT / 3)) ] && break
	sleep 0.1
done
CAPID=$(child_named opencesd-ca) || die "no CA process"
kill -KILL "$CAPID"
pass "CA ($CAPID) killed with SIGKILL after $n certificates"
for p in "${PIDS[@]}"; do wait "$p" || true; done
CA2=$(child_named opencesd-ca) && [ "$CA2" != "$CAPID" ] && pass "CA restarted ($CA2)" || fail "CA not restarted"

retries=0
for k in $(seq 1 "$CLIENTS"); do retries=$((retries + $(cat "$T/c$k.retries" 2>/dev/null || echo 0))); done
echo "clients retried $retries enrollment(s) around the CA restart"
[ "$retries" -le $((CLIENTS * 40)) ] && pass "retries bounded ($retries)" || fail "retries: $retries"

# Every certificate a client received: in the store exactly once.
got=0
missing=0
: >"$T/serials"
for f in $(find "$T" -path "$T/c*" -name cert.pem | sort); do
	s=$(openssl x509 -in "$f" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
	echo "$s" >>"$T/serials"
	got=$((got + 1))
	c=$(sqlite3 "$D/ca.db" "SELECT count(*) FROM certificates WHERE serial = '$s';")
	if [ "$c" != 1 ]; then missing=$((missing + 1)); echo "serial $s ($f): $c rows" >&2; fi
	openssl verify -CAfile "$D/ca.pem" "$f" >/dev/null 2>&1 || { missing=$((missing + 1)); echo "$f does not verify" >&2; }
done
[ "$got" = $((CLIENTS * PER_CLIENT)) ] && pass "every client received its $PER_CLIENT certificates ($got)" \
    || fail "received $got of $((CLIENTS * PER_CLIENT)) certificates"
[ "$missing" = 0 ] && pass "every received certificate is in the store exactly once and verifies" \
    || fail "$missing received certificates missing, repeated or not verifying"
[ -z "$(sort "$T/serials" | uniq -d)" ] && pass "no serial received twice" || fail "serials repeated: $(sort "$T/serials" | uniq -d)"
"$OPENCESD" --dir "$D" cert list --json >"$T/certs.json" 2>"$T/certs.err" || fail "cert list --json"
/usr/bin/python3 - "$T/certs.json" "$T/serials" <<'PY' && pass "cert list --json: serials unique, every received one listed" || fail "cert list --json"
import json, sys
rows = json.load(open(sys.argv[1]))
serials = [r.get("serial") or r.get("serial_hex") for r in rows]
assert len(serials) == len(set(serials)), "repeated serial"
have = {s.lower() for s in serials}
for s in open(sys.argv[2]).read().split():
    assert s in have, s
PY

# Store integrity: SQLite's checks and the store's own invariants.
[ "$(sqlite3 "$D/ca.db" 'PRAGMA integrity_check;')" = ok ] && pass "PRAGMA integrity_check" || fail "integrity_check"
[ -z "$(sqlite3 "$D/ca.db" 'PRAGMA foreign_key_check;')" ] && pass "foreign keys" || fail "foreign_key_check"
bad=$(sqlite3 "$D/ca.db" "SELECT count(*) FROM certificates c LEFT JOIN requests r ON r.request_id = c.request_id
    WHERE r.request_id IS NULL OR r.status != 2 OR r.serial IS NOT c.serial;")
[ "$bad" = 0 ] && pass "every certificate belongs to an ISSUED request naming its serial" || fail "$bad certificates without their request"
bad=$(sqlite3 "$D/ca.db" "SELECT count(*) FROM requests r WHERE r.status = 2 AND NOT EXISTS
    (SELECT 1 FROM certificates c WHERE c.request_id = r.request_id);")
[ "$bad" = 0 ] && pass "every ISSUED request has its certificate" || fail "$bad ISSUED requests without a certificate"
bad=$(sqlite3 "$D/ca.db" "SELECT count(*) FROM requests WHERE status = 1;")
[ "$bad" = 0 ] && pass "no request left undecided" || fail "$bad requests left PENDING"
stored=$(sqlite3 "$D/ca.db" "SELECT count(*) FROM certificates;")
echo "store: $stored certificates for $got received (the difference: answers lost with the CA)"
[ "$stored" -ge "$got" ] && pass "store holds at least the received certificates ($stored)" || fail "store: $stored"

enroll "$T/after" after && openssl verify -CAfile "$D/ca.pem" "$T/after/cert.pem" >/dev/null 2>&1 \
    && pass "a new enrollment works after the run" || { fail "enrollment after the run"; cat "$T/after/log" >&2; }
finish
