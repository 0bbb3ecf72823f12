#!/usr/bin/env bash
# End to end on loopback: `opences autoenroll` against `opencesd demo`.
# Two short-lived templates (validity 40 s, renewal period 30 s, AUTO_ENROLLMENT;
# AutoUser2 supersedes AutoUser) are added before the demo publishes its CA.
# With enroll+autoenroll granted on AutoUser: --once enrolls it (key 0600, state
# file), a second --once has nothing to do, a --once in the renewal window renews
# it with a signed renewal (new serial, same subject and template, the CA's audit
# trail says renewal). Granting AutoUser2: it is enrolled and AutoUser is set
# aside (.superseded files, gone from the state). --daemon --interval 2 renews
# by itself and stops on SIGTERM with status 0. No reachable service: exit 5.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
D=$T/demo
S=$T/store
mkdir -p "$D"
for t in AutoUser AutoUser2; do
	sup=
	[ "$t" = AutoUser2 ] && sup="supersedes = AutoUser"
	cat >"$T/$t.tpl" <<EOF
cn = $t
display_name = $t (autoenrollment test)
schema_version = 2
revision = 100
minor_revision = 0
general_flags = 0x0001023a
enrollment_flags = 0x00000020
private_key_flags = 0x00000010
name_flags = 0xa6000000
min_key_size = 2048
key_spec = 1
validity = 40s
renewal = 30s
key_usage = a000
eku = 1.3.6.1.5.5.7.3.2
$sup
EOF
	"$OPENCESD" --dir "$D" template add "$T/$t.tpl" >/dev/null 2>&1 || die "template add $t"
done
start_demo "$D" "$PORT"
URL="https://127.0.0.1:$PORT$CEP_PATH"
"$OPENCESD" --dir "$D" grant AutoUser demo all >/dev/null || die "grant AutoUser"
sleep 1.1  # the policy service notices a change within a second

ae() { # log [extra args]
	local log=$1
	shift
	"$OPENCES" autoenroll --policy-url "$URL" --auth password --user demo \
	    --password-file "$D/demo-password" --ca-file "$D/ca.pem" --store "$S" "$@" >"$log" 2>&1
}
# st TEMPLATE FIELD -> the field of the template's state entry ("" if none)
st() {
	/usr/bin/python3 - "$S/state.json" "$1" "$2" <<'PY'
import json, sys
for e in json.load(open(sys.argv[1]))["templates"]:
    if e["template"] == sys.argv[2]:
        v = e.get(sys.argv[3])
        print("" if v is None else v)
PY
}
serial() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
subject() { openssl x509 -in "$1" -noout -subject -nameopt RFC2253; }
pub() { openssl pkey -in "$1" -pubout 2>/dev/null | sha256sum; }
cert_pub() { openssl x509 -in "$1" -noout -pubkey | sha256sum; }
# wait_renewal TEMPLATE: sleep until the template's renewal point (notAfter - 30) has passed
wait_renewal() {
	local at
	at=$(( $(st "$1" not_after) - 30 + 1 ))
	while [ "$(date +%s)" -lt "$at" ]; do sleep 0.5; done
}

# 1. missing -> enrolled
if ae "$T/1.log" --once; then pass "first pass: exit 0"; else fail "first pass: exit $?"; cat "$T/1.log" >&2; fi
grep -q "autoenroll: AutoUser enrolled" "$T/1.log" && pass "AutoUser enrolled" || fail "1: $(cat "$T/1.log")"
[ -f "$S/AutoUser.pem" ] && [ -f "$S/AutoUser.key" ] || die "no AutoUser files in the store"
[ "$(stat -c %a "$S/AutoUser.key")" = 600 ] && pass "key mode 600" || fail "key mode $(stat -c %a "$S/AutoUser.key")"
[ "$(stat -c %a "$S/state.json")" = 600 ] && pass "state mode 600" || fail "state mode"
openssl verify -CAfile "$D/ca.pem" "$S/AutoUser.pem" >/dev/null 2>&1 \
    && pass "the certificate verifies against the CA" || fail "does not verify"
[ "$(cert_pub "$S/AutoUser.pem")" = "$(pub "$S/AutoUser.key")" ] && pass "key matches" || fail "key mismatch"
S1=$(serial "$S/AutoUser.pem")
[ "$(st AutoUser serial)" = "$S1" ] && pass "state records serial $S1" || fail "state serial $(st AutoUser serial)"
[ "$(st AutoUser last_result)" = enrolled ] && [ "$(st AutoUser failures)" = 0 ] \
    && [ "$(st AutoUser cert)" = AutoUser.pem ] && [ "$(st AutoUser key)" = AutoUser.key ] \
    && pass "state: files, result, failures" || fail "state: $(cat "$S/state.json")"
na=$(st AutoUser not_after)
[ "$na" = "$(date -d "$(openssl x509 -in "$S/AutoUser.pem" -noout -enddate | cut -d= -f2)" +%s)" ] \
    && pass "state records notAfter" || fail "state notAfter $na"
[ "$(st AutoUser2 serial)" = "" ] && ! [ -e "$S/AutoUser2.pem" ] \
    && pass "AutoUser2 (no autoenroll right yet) left alone" || fail "AutoUser2 enrolled too early"

# 2. valid, before the renewal window -> nothing
if ae "$T/2.log" --once; then pass "second pass: exit 0"; else fail "second pass: exit $?"; fi
grep -q "nothing to do" "$T/2.log" && pass "second pass: nothing to do" || fail "2: $(cat "$T/2.log")"
[ "$(serial "$S/AutoUser.pem")" = "$S1" ] && pass "certificate unchanged" || fail "certificate replaced"

# 3. renewal window reached -> signed renewal
wait_renewal AutoUser
if ae "$T/3.log" --once; then pass "third pass: exit 0"; else fail "third pass: exit $?"; cat "$T/3.log" >&2; fi
grep -q "autoenroll: AutoUser renewed" "$T/3.log" && pass "AutoUser renewed" || fail "3: $(cat "$T/3.log")"
S2=$(serial "$S/AutoUser.pem")
[ "$S2" != "$S1" ] && pass "renewal: new serial $S2" || fail "renewal: same serial"
[ "$(st AutoUser serial)" = "$S2" ] && [ "$(st AutoUser last_result)" = renewed ] \
    && pass "state records the renewal" || fail "state: $(cat "$S/state.json")"
openssl verify -CAfile "$D/ca.pem" "$S/AutoUser.pem" >/dev/null 2>&1 \
    && pass "renewed certificate verifies" || fail "renewed certificate does not verify"
[ "$(cert_pub "$S/AutoUser.pem")" = "$(pub "$S/AutoUser.key")" ] && pass "renewal: key matches" \
    || fail "renewal: key mismatch"
s2l=$(echo "$S2" | tr 'A-F' 'a-f')
grep "\"event\":\"issue\"" "$D/audit.log" | grep "serial=$s2l" | grep -q "renewal" \
    && pass "the CA audited a signed renewal for $S2" || fail "audit: $(tail -3 "$D/audit.log")"
"$OPENCESD" --dir "$D" cert show "$S2" --json >"$T/cert2.json"
"$OPENCESD" --dir "$D" cert show "$S1" --json >"$T/cert1.json"
/usr/bin/python3 - "$T/cert1.json" "$T/cert2.json" <<'PY' && pass "store: same subject, template and requester" || fail "store: $(cat "$T/cert1.json" "$T/cert2.json")"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
sys.exit(0 if all(a[k] == b[k] for k in ("subject", "template", "requester")) and b["template"] == "AutoUser" else 1)
PY

# 4. the superseding template granted -> enrolled, AutoUser set aside
"$OPENCESD" --dir "$D" grant AutoUser2 demo all >/dev/null || die "grant AutoUser2"
# the policy service notices a change within a second
for _ in $(seq 1 50); do
	"$OPENCES" policy --policy-url "$URL" --auth password --user demo \
	    --password-file "$D/demo-password" --ca-file "$D/ca.pem" 2>/dev/null \
	    | grep -q "template AutoUser2 .*autoenroll=yes" && break
	sleep 0.1
done
if ae "$T/4.log" --once; then pass "fourth pass: exit 0"; else fail "fourth pass: exit $?"; cat "$T/4.log" >&2; fi
grep -q "autoenroll: AutoUser2 enrolled" "$T/4.log" && pass "AutoUser2 enrolled" || fail "4: $(cat "$T/4.log")"
grep -q "autoenroll: AutoUser superseded by AutoUser2" "$T/4.log" && pass "AutoUser reported superseded" \
    || fail "4: $(cat "$T/4.log")"
! grep -q "AutoUser renewed" "$T/4.log" && pass "the superseded template is not renewed" || fail "AutoUser renewed"
[ -f "$S/AutoUser.pem.superseded" ] && [ -f "$S/AutoUser.key.superseded" ] && [ ! -e "$S/AutoUser.pem" ] \
    && [ ! -e "$S/AutoUser.key" ] && pass "old files kept as .superseded" || fail "store: $(ls "$S")"
[ "$(serial "$S/AutoUser.pem.superseded")" = "$S2" ] && pass "the set-aside certificate is the last AutoUser" \
    || fail "set-aside serial"
[ "$(st AutoUser serial)" = "" ] && [ -n "$(st AutoUser2 serial)" ] \
    && pass "state: AutoUser gone, AutoUser2 recorded" || fail "state: $(cat "$S/state.json")"
openssl x509 -in "$S/AutoUser2.pem" -noout -text | grep -q "AutoUser2\|1.3.6.1.4.1.311.21.7" \
    && pass "AutoUser2 certificate carries the template" || fail "AutoUser2 template extension"
if ae "$T/5.log" --once && grep -q "nothing to do" "$T/5.log"; then pass "then nothing to do"
else fail "5: $(cat "$T/5.log")"; fi

# 5. --daemon renews by itself, SIGTERM stops it
A2=$(st AutoUser2 serial)
"$OPENCES" autoenroll --policy-url "$URL" --auth password --user demo \
    --password-file "$D/demo-password" --ca-file "$D/ca.pem" --store "$S" \
    --daemon --interval 2 >"$T/daemon.log" 2>&1 &
DPID=$!
OC_PIDS+=("$DPID")
renewed=
for _ in $(seq 1 60); do  # the renewal point is at most ~10 s away
	sleep 0.5
	if [ -f "$S/state.json" ] && [ "$(st AutoUser2 serial)" != "$A2" ]; then renewed=1; break; fi
done
[ -n "$renewed" ] && pass "daemon renewed AutoUser2 by itself" || fail "daemon: $(cat "$T/daemon.log")"
kill -0 "$DPID" 2>/dev/null && pass "daemon still running" || fail "daemon exited early"
kill -TERM "$DPID"
set +e
wait "$DPID"
rc=$?
set -e
[ "$rc" = 0 ] && pass "SIGTERM: daemon exits 0" || fail "daemon exit $rc: $(cat "$T/daemon.log")"
grep -q "autoenroll: AutoUser2 renewed" "$T/daemon.log" && pass "daemon log says renewed" \
    || fail "daemon log: $(cat "$T/daemon.log")"
[ "$(serial "$S/AutoUser2.pem")" = "$(st AutoUser2 serial)" ] && pass "daemon: file and state agree" \
    || fail "daemon: file and state differ"

# 6. nothing reachable -> 5, the store untouched
DEAD=$(free_port)
set +e
"$OPENCES" autoenroll --policy-url "https://127.0.0.1:$DEAD$CEP_PATH" --auth password --user demo \
    --password-file "$D/demo-password" --ca-file "$D/ca.pem" --store "$T/store2" --once \
    --connect-timeout 2 >"$T/6.log" 2>&1
rc=$?
set -e
[ "$rc" = 5 ] && pass "unreachable: exit 5" || fail "unreachable: exit $rc: $(cat "$T/6.log")"
# usage errors
set +e
"$OPENCES" autoenroll --policy-url "$URL" --auth password --user demo \
    --password-file "$D/demo-password" --ca-file "$D/ca.pem" --once >/dev/null 2>&1
rc1=$?
"$OPENCES" autoenroll --policy-url "$URL" --auth password --user demo \
    --password-file "$D/demo-password" --ca-file "$D/ca.pem" --store "$S" --once --daemon >/dev/null 2>&1
rc2=$?
set -e
[ "$rc1" = 1 ] && [ "$rc2" = 1 ] && pass "usage errors: exit 1" || fail "usage: $rc1 $rc2"

finish
