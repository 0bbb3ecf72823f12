#!/bin/bash
# A SoftHSM2 token in a scratch directory, for tests of the CA key in PKCS#11.
#   softhsm.sh DIR [LABEL [PIN]]
# writes DIR/softhsm2.conf (token files under DIR/tokens) and DIR/pin (the user
# PIN, mode 0600), and initialises a token LABEL (default "opences") in the first
# free slot. Use it with SOFTHSM2_CONF=DIR/softhsm2.conf and the module
# /usr/lib/softhsm/libsofthsm2.so. Exits 77 (skipped) when softhsm2 is missing.
set -eu
dir=${1:?usage: softhsm.sh DIR [LABEL [PIN]]}
label=${2:-opences}
pin=${3:-1234}
command -v softhsm2-util >/dev/null 2>&1 || { echo "softhsm2-util not found" >&2; exit 77; }
[ -e /usr/lib/softhsm/libsofthsm2.so ] || { echo "libsofthsm2.so not found" >&2; exit 77; }
mkdir -p "$dir/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
  "$dir" > "$dir/softhsm2.conf"
(umask 077; printf '%s\n' "$pin" > "$dir/pin")
SOFTHSM2_CONF=$dir/softhsm2.conf softhsm2-util --init-token --free --label "$label" \
  --so-pin 12345678 --pin "$pin" >/dev/null
