#!/usr/bin/env bash
# Idempotent issuance ([ca] idempotence_window_seconds, default 600): a cepces-style
# Issue RST posted twice with curl (a client that lost the first answer) gets the same
# RequestID and the same certificate, and the store holds one certificate and one
# request for it (audit "issue-replayed"); another CSR is a new request; with the window
# at 0 the same RST posted twice gives two certificates.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
D=$T/demo
start_demo "$D" "$PORT"
BASE="https://127.0.0.1:$PORT"
CA=$D/ca.pem
PW=$(cat "$D/demo-password")
X='local-name()'

cat >"$T/ext.cnf" <<'CNF'
[req]
distinguished_name = dn
[dn]
[v1]
1.3.6.1.4.1.311.20.2 = ASN1:BMPSTRING:WebServer
subjectAltName = DNS:idem.example.test
CNF
rst() { # NAME CN -> $T/NAME.xml, a cepces Issue RST for a new key
	local csr
	csr=$(csr_b64 "$T/$1.key" "/CN=$2" -config "$T/ext.cnf" -reqexts v1)
	render "$VEC/issue-cepces.xml" "$T/$1.xml" TO="$BASE$CES_PATH" USER=demo PASSWORD="$PW" CSR="$csr"
}
issue() { # NAME OUT -> RequestID and certificate of the answer in OUT.rid / OUT.cert
	local code
	code=$(post "$BASE$CES_PATH" "$CA" "$T/$1.xml" "$T/$2.xml")
	[ "$code" = 200 ] || { fail "$2: HTTP $code"; cat "$T/$2.xml" >&2; return 1; }
	xp "$T/$2.xml" "string(//*[$X='RequestID'])" >"$T/$2.rid"
	xp "$T/$2.xml" "string(//*[$X='RequestedSecurityToken']/*[$X='BinarySecurityToken'])" >"$T/$2.cert"
}
certs_in_store() { # SQL condition -> number of certificates
	sqlite3 "$D/ca.db" "SELECT count(*) FROM certificates WHERE $1;"
}
requests_in_store() {
	sqlite3 "$D/ca.db" "SELECT count(*) FROM requests WHERE $1;"
}
command -v sqlite3 >/dev/null || die "sqlite3 (the SQLite shell) is needed"

rst once idem.example.test
issue once first && pass "first Issue: issued (RequestID $(cat "$T/first.rid"))"
issue once again && pass "the same RST again: answered"
[ -s "$T/first.rid" ] && [ "$(cat "$T/first.rid")" = "$(cat "$T/again.rid")" ] \
    && pass "same RequestID" || fail "RequestIDs $(cat "$T/first.rid") and $(cat "$T/again.rid")"
[ -s "$T/first.cert" ] && cmp -s "$T/first.cert" "$T/again.cert" \
    && pass "same certificate" || fail "different certificates"
RID=$(cat "$T/first.rid")
[ "$(certs_in_store "request_id = $RID")" = 1 ] && pass "one certificate for the request" \
    || fail "certificates for $RID: $(certs_in_store "request_id = $RID")"
[ "$(certs_in_store "subject LIKE '%idem.example.test%'")" = 1 ] && pass "one certificate for the CSR" \
    || fail "certificates for the CSR: $(certs_in_store "subject LIKE '%idem.example.test%'")"
[ "$(requests_in_store "requester = 'demo'")" = 1 ] && pass "one request row" \
    || fail "request rows: $(requests_in_store "requester = 'demo'")"
grep -q 'issue-replayed' "$D/audit.log" && pass "audit: issue-replayed" || fail "no issue-replayed audit line"
[ "$(sqlite3 "$D/ca.db" "SELECT count(*) FROM audit WHERE event = 'issue-replayed';")" = 1 ] \
    && pass "store audit: one issue-replayed" || fail "store audit"

# A third time, and in parallel: still the one certificate.
PIDS=()
for i in 1 2 3 4; do issue once "par$i" & PIDS+=($!); done
for p in "${PIDS[@]}"; do wait "$p" || true; done
for i in 1 2 3 4; do
	[ "$(cat "$T/par$i.rid")" = "$RID" ] && cmp -s "$T/first.cert" "$T/par$i.cert" \
	    || fail "parallel resend $i: RequestID $(cat "$T/par$i.rid")"
done
[ "$(certs_in_store "subject LIKE '%idem.example.test%'")" = 1 ] && pass "4 parallel resends: one certificate" \
    || fail "after parallel resends: $(certs_in_store "subject LIKE '%idem.example.test%'") certificates"

# Another CSR (new key) from the same requester: a new request.
rst other idem.example.test
issue other other
[ "$(cat "$T/other.rid")" != "$RID" ] && pass "another CSR: new RequestID" || fail "another CSR replayed"
[ "$(certs_in_store "subject LIKE '%idem.example.test%'")" = 2 ] && pass "another CSR: second certificate" \
    || fail "certificates: $(certs_in_store "subject LIKE '%idem.example.test%'")"

# Window 0: no replay.
stop_pid "$DEMO_PID"
sed -i "s/^\[ca\]\$/[ca]\nidempotence_window_seconds = 0/" "$D/opencesd.conf"
start_serve "$D/opencesd.conf" "$T/serve.log" "$BASE" "$CA"
rst off off.example.test
issue off off1
issue off off2
[ "$(cat "$T/off1.rid")" != "$(cat "$T/off2.rid")" ] && pass "window 0: two RequestIDs" \
    || fail "window 0: replayed"
[ "$(certs_in_store "subject LIKE '%off.example.test%'")" = 2 ] && pass "window 0: two certificates" \
    || fail "window 0: $(certs_in_store "subject LIKE '%off.example.test%'") certificates"
[ "$(sqlite3 "$D/ca.db" 'PRAGMA integrity_check;')" = ok ] && pass "store integrity" || fail "integrity_check"
finish
