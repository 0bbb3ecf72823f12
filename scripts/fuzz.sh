#!/usr/bin/env bash
# Longer local fuzzing (`make fuzz`): every fuzz target of a check build runs
# for --seconds S (default 300), --jobs J at a time, each with a corpus kept
# between runs in fuzz/corpus-<name>/ (git-ignored), seeded from
# tests/vectors/<concern>/ and fuzz/crashers/<name>/.
#
#   scripts/fuzz.sh [--seconds S] [--jobs J] [CHECK_BUILD_DIR] [NAME...]
#
# Logs go to build/fuzz-run/<name>/log; reproducers to build/fuzz-run/<name>/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=300
jobs=$(nproc)
while (($#)); do
	case $1 in
	--seconds) seconds=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	-*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
build=${1:-build/check}
(($#)) && shift
[[ -d $build/fuzz ]] || { echo "fuzz.sh: no fuzz targets in $build (configure with -DOC_FUZZ=ON)" >&2; exit 2; }

names=("$@")
if ((${#names[@]} == 0)); then
	for f in "$build"/fuzz/fuzz_*; do
		[[ -x $f && -f $f ]] && names+=("$(basename "$f")")
	done
fi
if ((${#names[@]} == 0)); then
	echo "fuzz.sh: no fuzz targets built in $build/fuzz"
	exit 0
fi

run_one() {
	local name=$1 concern
	concern=${name#fuzz_}
	concern=${concern%%_*}
	mkdir -p "build/fuzz-run/$name"
	if scripts/run-fuzzer.sh --seconds "$seconds" --work "build/fuzz-run/$name" \
		--corpus "fuzz/corpus-$name" "$build/fuzz/$name" \
		"tests/vectors/$concern" "fuzz/crashers/$name" > "build/fuzz-run/$name/log" 2>&1; then
		echo "ok      $name ($(find "fuzz/corpus-$name" -type f | wc -l) corpus files)"
	else
		echo "FAILED  $name: see build/fuzz-run/$name/log and build/fuzz-run/$name/artifacts/"
		return 1
	fi
}
export -f run_one
export seconds build

echo "fuzz.sh: ${#names[@]} target(s), ${seconds}s each, $jobs at a time"
rc=0
printf '%s\0' "${names[@]}" | xargs -0 -n1 -P "$jobs" bash -c 'run_one "$1"' _ || rc=$?
if ((rc != 0)); then
	echo "fuzz.sh: failures (see above)" >&2
	exit 1
fi
echo "fuzz.sh: all targets ran without a crash"
