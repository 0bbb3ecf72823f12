#!/usr/bin/env bash
# Run one libFuzzer target, bounded, the way CI does.
#
#   run-fuzzer.sh [--seconds S] [--work DIR] [--corpus DIR] FUZZER VECTORS CRASHERS
#
# 1. Replays every file of CRASHERS (fuzz/crashers/<name>/, README excluded):
#    each one crashed once and must never crash again.
# 2. Fuzzes for S seconds (default 20) with -timeout=10 -rss_limit_mb=2048 over
#    a fresh corpus copy WORK/corpus made from VECTORS (tests/vectors/<concern>/)
#    and CRASHERS. With --corpus DIR (make fuzz), DIR is kept between runs and
#    grows instead of the throw-away copy. fuzz/<name>.dict is used if present.
# A crash, leak, timeout or out-of-memory exits non-zero; the reproducer is
# left in WORK/artifacts/.
set -euo pipefail

seconds=20
work=
keep=
while (($#)); do
	case $1 in
	--seconds) seconds=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	--corpus) keep=$2; shift 2 ;;
	--) shift; break ;;
	-*) echo "run-fuzzer: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
if (($# != 3)); then
	echo "usage: run-fuzzer.sh [--seconds S] [--work DIR] [--corpus DIR] FUZZER VECTORS CRASHERS" >&2
	exit 2
fi
fuzzer=$1 vectors=$2 crashers=$3
name=$(basename "$fuzzer")
[[ -n $work ]] || work=$(pwd)/fuzz-run/$name
[[ $seconds =~ ^[0-9]+$ ]] || { echo "run-fuzzer: bad --seconds" >&2; exit 2; }
[[ -x $fuzzer ]] || { echo "run-fuzzer: $fuzzer is not executable" >&2; exit 2; }

common=(-timeout=10 -rss_limit_mb=2048 -artifact_prefix="$work/artifacts/")
src_dir=$(cd "$(dirname "$0")/.." && pwd)
dict=$src_dir/fuzz/$name.dict
[[ -f $dict ]] && common+=(-dict="$dict")

rm -rf "$work/artifacts" "$work/corpus"
mkdir -p "$work/artifacts"

# Files that seed or replay: regular files, README and dotfiles excluded.
list_inputs() {
	[[ -d $1 ]] || return 0
	find "$1" -type f ! -name 'README*' ! -name '.*' -print0 | sort -z
}

mapfile -d '' old < <(list_inputs "$crashers")
if ((${#old[@]})); then
	echo "run-fuzzer: $name: replaying ${#old[@]} crasher(s) from $crashers"
	if ! "$fuzzer" "${common[@]}" "${old[@]}"; then
		echo "run-fuzzer: $name: a known crasher crashes again (see above)" >&2
		exit 1
	fi
fi

if [[ -n $keep ]]; then
	corpus=$keep
	mkdir -p "$corpus"
else
	corpus=$work/corpus
	mkdir -p "$corpus"
fi
n=0
while IFS= read -r -d '' f; do
	# Name seeds by content so repeated copies into a kept corpus do not pile up.
	h=$(sha1sum "$f")
	cp "$f" "$corpus/seed-${h%% *}"
	n=$((n + 1))
done < <(list_inputs "$vectors"; list_inputs "$crashers")
echo "run-fuzzer: $name: ${seconds}s over $corpus ($n seed file(s) from $vectors and $crashers)"

rc=0
"$fuzzer" "${common[@]}" -max_total_time="$seconds" -print_final_stats=1 "$corpus" || rc=$?
if ((rc != 0)); then
	echo "run-fuzzer: $name: FAILED (exit $rc); reproducer(s):" >&2
	ls -l "$work/artifacts" >&2 || true
	echo "run-fuzzer: reproduce with: $fuzzer <file>; once fixed, add the file to fuzz/crashers/$name/" >&2
	exit 1
fi
