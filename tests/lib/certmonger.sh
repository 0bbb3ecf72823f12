# A private certmonger for the tests (sourced after tests/e2e/lib.sh): the
# Debian package's daemon listening only on its own socket (-L -P: no system
# or session bus), with its requests, CAs, local CA, lock and temporary files
# under a test directory, so nothing system-wide is read or touched.
#
#   start_certmonger DIR     starts it (CM_PID), exports CERTMONGER_PVT_ADDRESS for getcert
#   cm_status ID             the request's status word (MONITORING, CA_WORKING, ...)
#   cm_field ID NAME         a field of `getcert list -i ID` ("ca-error", "expires", ...)
#   wait_cm_status ID RE [S] waits up to S seconds (default 60) for a status matching RE

start_certmonger() {
	local d=$1 i
	command -v certmonger >/dev/null || die "certmonger is not installed (scripts/extra-packages.txt)"
	command -v getcert >/dev/null || die "getcert is not installed"
	mkdir -p "$d/requests" "$d/cas" "$d/local" "$d/tmp" "$d/config"
	export CERTMONGER_REQUESTS_DIR=$d/requests CERTMONGER_CAS_DIR=$d/cas \
	    CERTMONGER_LOCAL_CA_DIR=$d/local CERTMONGER_TMPDIR=$d/tmp \
	    CERTMONGER_CONFIG_DIR=$d/config CERTMONGER_SYSTEM_LOCK_FILE=$d/lock
	certmonger -L -P "$d/socket" -n -d 2 -p "$d/pid" >"$d/log" 2>&1 &
	CM_PID=$!
	OC_PIDS+=("$CM_PID")
	export CERTMONGER_PVT_ADDRESS="unix:path=$d/socket"
	for i in $(seq 1 100); do
		if [ -S "$d/socket" ] && getcert list-cas >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$CM_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$d/log" >&2
	die "certmonger did not start"
}

cm_field() {
	getcert list -i "$1" 2>/dev/null | sed -n "s/^[[:space:]]*$2: //p" | head -1
}

cm_status() {
	getcert list -i "$1" 2>/dev/null | sed -n 's/^[[:space:]]*status: //p' | head -1
}

wait_cm_status() {
	local id=$1 re=$2 secs=${3:-60} i st=
	for i in $(seq 1 $((secs * 5))); do
		st=$(cm_status "$id")
		if echo "$st" | grep -Eq "^($re)\$"; then
			return 0
		fi
		sleep 0.2
	done
	echo "request $id: status '$st' after ${secs}s; ca-error: $(cm_field "$id" ca-error)" >&2
	return 1
}
