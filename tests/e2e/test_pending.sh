#!/usr/bin/env bash
# Pending requests end to end: OpenCESUserApproval pends (exit 4, RequestID,
# key kept); the administrator lists, approves and denies from the CLI (with
# the actor in the audit log); `opences retrieve` and a recorded cepces-style
# poll (wstep.md 9.2 with a UsernameToken) get the issued certificate; a
# denied request answers CERTSRV_E_ADMIN_DENIED_REQUEST, an unknown RequestID
# CERTSRV_E_NO_REQUEST, and another user cannot retrieve someone else's request.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
D=$T/demo
start_demo "$D" "$PORT"
URL="https://127.0.0.1:$PORT$CEP_PATH"
CES="https://127.0.0.1:$PORT$CES_PATH"
X='local-name()'
PW=$(cat "$D/demo-password")
adm() { "$OPENCESD" --dir "$D" "$@"; }

# a second account with Enroll on the template
printf 'other-secret-1\n' >"$T/other-pw"
adm account add other --password-file "$T/other-pw" >/dev/null
adm grant OpenCESUserApproval other enroll >/dev/null

enroll() { # out
	mkdir -p "$1"
	"$OPENCES" enroll --policy-url "$URL" --auth password --user demo \
	    --password-file "$D/demo-password" --template OpenCESUserApproval --ca-file "$D/ca.pem" \
	    --key-out "$1/key.pem" --cert-out "$1/cert.pem" >"$1/out" 2>"$1/err"
}
retrieve() { # id key out [user pwfile]
	"$OPENCES" retrieve --request-id "$1" --policy-url "$URL" --auth password \
	    --user "${4:-demo}" --password-file "${5:-$D/demo-password}" --ca-file "$D/ca.pem" \
	    --key "$2" --cert-out "$3" >"$3.out" 2>"$3.err"
}
poll() { # id out [user password]
	render "$VEC/poll-cepces.xml" "$T/poll-$1.xml" "TO=$CES" "USER=${3:-demo}" \
	    "PASSWORD=${4:-$PW}" "REQUESTID=$1"
	post "$CES" "$D/ca.pem" "$T/poll-$1.xml" "$2"
}

# 1. enroll: pending, exit 4, RequestID printed, key written
A=$T/a
set +e; enroll "$A"; ex=$?; set -e
[ "$ex" = 4 ] && pass "enroll pends with exit 4" || { fail "enroll exit $ex"; cat "$A/err" >&2; }
ID=$(sed -n 's/.*requestID=\([0-9]*\).*/\1/p' "$A/out")
[ -n "$ID" ] && pass "RequestID $ID printed" || fail "no RequestID in: $(cat "$A/out")"
[ -s "$A/key.pem" ] && [ ! -e "$A/cert.pem" ] && pass "key kept, no certificate yet" \
    || fail "key/cert files after pending"

# 2. the administrator sees it pending
adm request list --status pending --json >"$T/pending.json"
python3 - "$T/pending.json" "$ID" <<'PY' && pass "request list --status pending --json shows it" || fail "not listed: $(cat "$T/pending.json")"
import json, sys
rows = json.load(open(sys.argv[1]))
r = [x for x in rows if x["request_id"] == int(sys.argv[2])]
assert len(r) == 1 and r[0]["status"] == "pending" and r[0]["requester"] == "demo" \
    and r[0]["template"] == "OpenCESUserApproval", rows
assert all(x["status"] == "pending" for x in rows)
PY
adm request show "$ID" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["status"]=="pending"' \
    && pass "request show --json" || fail "request show"

# 3. still pending before approval: retrieve exits 4, the poll answers pending
set +e; retrieve "$ID" "$A/key.pem" "$A/cert.pem"; ex=$?; set -e
[ "$ex" = 4 ] && pass "retrieve before approval: exit 4" || fail "retrieve before approval: exit $ex $(cat "$A/cert.pem.err")"

# 4. approve; SUDO_USER names who ran it
SUDO_USER=carol adm request approve "$ID" >/dev/null && pass "approved" || fail "approve"
set +e; adm request approve "$ID" >/dev/null 2>&1; ex=$?; set -e
[ "$ex" != 0 ] && pass "approving twice is refused" || fail "approved twice"
me=$(id -un)
grep '"event":"approve"' "$D/audit.log" | grep -q "$me (sudo: carol)" \
    && pass "audit log names the approver" || fail "audit log: $(grep approve "$D/audit.log")"
adm request show "$ID" | grep -q "$me (sudo: carol)" && pass "request show names the approver" \
    || fail "request show: no approver"

# 5. another user cannot retrieve it (looks unknown), the owner can
set +e; retrieve "$ID" "$A/key.pem" "$T/other-cert.pem" other "$T/other-pw"; ex=$?; set -e
[ "$ex" = 2 ] && grep -q -- '-2146877438' "$T/other-cert.pem.err" \
    && pass "another user gets CERTSRV_E_NO_REQUEST" || fail "other user: exit $ex $(cat "$T/other-cert.pem.err")"
set +e; retrieve "$ID" "$A/key.pem" "$A/cert.pem"; ex=$?; set -e
[ "$ex" = 0 ] && pass "retrieve after approval: issued" || fail "retrieve: exit $ex $(cat "$A/cert.pem.err")"
openssl verify -CAfile "$D/ca.pem" "$A/cert.pem" >/dev/null 2>&1 && pass "retrieved certificate verifies" \
    || fail "retrieved certificate does not verify"
[ "$(openssl x509 -in "$A/cert.pem" -noout -pubkey | sha256sum)" = \
  "$(openssl pkey -in "$A/key.pem" -pubout | sha256sum)" ] \
    && pass "retrieved certificate matches the key kept at enroll" || fail "key mismatch"
adm request show "$ID" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["status"]=="issued" and d["serial"]' \
    && pass "request now issued" || fail "request not issued"
# a wrong key is refused
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/wrong.pem" 2>/dev/null
set +e; retrieve "$ID" "$T/wrong.pem" "$T/wrong-cert.pem"; ex=$?; set -e
[ "$ex" = 1 ] && [ ! -e "$T/wrong-cert.pem" ] && pass "certificate not for --key: refused" \
    || fail "wrong key: exit $ex"

# 6. the recorded cepces poll gets the issued RSTRC
st=$(poll "$ID" "$T/poll-ok.xml")
[ "$st" = 200 ] && pass "cepces poll: 200" || fail "cepces poll: HTTP $st"
[ "$(xp "$T/poll-ok.xml" "local-name(/*[$X='Envelope']/*[$X='Body']/*[1])")" = RequestSecurityTokenResponseCollection ] \
    && pass "cepces poll: RSTRC" || fail "cepces poll: $(head -c 400 "$T/poll-ok.xml")"
xp "$T/poll-ok.xml" "string(//*[$X='RequestedSecurityToken']/*[$X='BinarySecurityToken'])" | base64 -d 2>/dev/null \
    | openssl x509 -inform DER -noout -pubkey 2>/dev/null | sha256sum >"$T/poll.pub"
[ "$(cat "$T/poll.pub")" = "$(openssl pkey -in "$A/key.pem" -pubout | sha256sum)" ] \
    && pass "cepces poll: the issued certificate" || fail "cepces poll: certificate differs"
[ "$(xp "$T/poll-ok.xml" "string(//*[$X='RequestID'])")" = "$ID" ] && pass "cepces poll: RequestID" \
    || fail "cepces poll: RequestID"

# 7. a second request denied with a reason: fault 0x80094014 via both
B=$T/b
set +e; enroll "$B"; set -e
ID2=$(sed -n 's/.*requestID=\([0-9]*\).*/\1/p' "$B/out")
adm request deny "$ID2" --reason "no such project" >/dev/null && pass "denied" || fail "deny"
set +e; retrieve "$ID2" "$B/key.pem" "$B/cert.pem"; ex=$?; set -e
[ "$ex" = 2 ] && grep -q -- '-2146877420' "$B/cert.pem.err" && grep -q "no such project" "$B/cert.pem.err" \
    && pass "retrieve of a denied request: exit 2, 0x80094014 and the reason" \
    || fail "denied retrieve: exit $ex $(cat "$B/cert.pem.err")"
st=$(poll "$ID2" "$T/poll-denied.xml")
[ "$(xp "$T/poll-denied.xml" "local-name(/*[$X='Envelope']/*[$X='Body']/*[1])")" = Fault ] \
    && [ "$(xp "$T/poll-denied.xml" "string(//*[$X='ErrorCode'])")" = -2146877420 ] \
    && pass "cepces poll of a denied request: fault -2146877420 (HTTP $st)" \
    || fail "cepces poll denied: $(head -c 600 "$T/poll-denied.xml")"
grep '"event":"admin_deny"' "$D/audit.log" | grep -q "$me" && pass "audit log names the denier" \
    || fail "no admin_deny audit line"

# 8. unknown RequestID: CERTSRV_E_NO_REQUEST via both
set +e; retrieve 7 "$A/key.pem" "$T/unknown.pem"; ex=$?; set -e
[ "$ex" = 2 ] && grep -q -- '-2146877438' "$T/unknown.pem.err" \
    && pass "unknown RequestID: CERTSRV_E_NO_REQUEST" || fail "unknown: exit $ex $(cat "$T/unknown.pem.err")"
poll 7 "$T/poll-unknown.xml" >/dev/null
[ "$(xp "$T/poll-unknown.xml" "string(//*[$X='ErrorCode'])")" = -2146877438 ] \
    && pass "cepces poll unknown RequestID: -2146877438" || fail "poll unknown: $(head -c 600 "$T/poll-unknown.xml")"
# another user's poll of the issued request: also unknown
poll "$ID" "$T/poll-other.xml" other other-secret-1 >/dev/null
[ "$(xp "$T/poll-other.xml" "string(//*[$X='ErrorCode'])")" = -2146877438 ] \
    && pass "cepces poll by another user: -2146877438" || fail "poll other: $(head -c 600 "$T/poll-other.xml")"

# 9. approving or denying what is not pending
set +e; adm request deny "$ID" >/dev/null 2>&1; ex=$?; set -e
[ "$ex" != 0 ] && pass "denying an issued request is refused" || fail "denied an issued request"
set +e; adm request approve 99 >/dev/null 2>&1; ex=$?; set -e
[ "$ex" = 2 ] && pass "approving an unknown request: exit 2" || fail "approve unknown: exit $ex"

stop_pid "$DEMO_PID"
finish
