#!/usr/bin/env bash
# Install every Debian 12 package the build and the tests need.
#
# Idempotent: when every package is already installed (checked exactly with
# dpkg-query) apt is not touched at all, so repeated local runs are fast.
# Extra packages are read from scripts/extra-packages.txt (one name per line,
# '#' starts a comment).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
	build-essential cmake ninja-build pkg-config
	clang libclang-rt-14-dev
	libssl-dev openssl
	libevent-dev
	libxml2-dev libxml2-utils
	libkrb5-dev
	libcrypt-dev
	libsqlite3-dev sqlite3
	libcurl4-openssl-dev curl
	libcmocka-dev
	libpq-dev
	libldap-dev
	libp11-dev
	ca-certificates
	python3
)

extra=scripts/extra-packages.txt
if [[ -f $extra ]]; then
	while IFS= read -r line || [[ -n $line ]]; do
		line=${line%%#*}
		for word in $line; do
			packages+=("$word")
		done
	done < "$extra"
fi

# A package counts as present only when dpkg says "install ok installed".
missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	if [[ $status != "install ok installed" ]]; then
		missing+=("$p")
	fi
done

if ((${#missing[@]} == 0)); then
	echo "install-deps: all ${#packages[@]} packages already installed"
	exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=()
if ((EUID != 0)); then
	if command -v sudo >/dev/null 2>&1; then
		sudo=(sudo --preserve-env=DEBIAN_FRONTEND)
	else
		echo "install-deps: missing packages and not root (no sudo): ${missing[*]}" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
# The packages' own services (slapd, postgresql, krb5-kdc, samba-ad-dc,
# certmonger, ...) are not started by the installation: the tests start their
# own throwaway instances on loopback, and a fresh slapd would otherwise listen
# on every interface. A policy-rc.d that already exists is left alone.
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
	printf '#!/bin/sh\n# install-deps.sh: no service starts while it installs\nexit 101\n' |
		"${sudo[@]}" tee "$policy" >/dev/null
	"${sudo[@]}" chmod 755 "$policy"
	trap '"${sudo[@]}" rm -f "$policy"' EXIT
fi
"${sudo[@]}" apt-get update
"${sudo[@]}" apt-get install -y -o DPkg::Lock::Timeout=600 --no-install-recommends \
	"${packages[@]}"

# Verify: a name apt could not install must not pass silently.
for p in "${missing[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	if [[ $status != "install ok installed" ]]; then
		echo "install-deps: $p is still not installed" >&2
		exit 1
	fi
done
