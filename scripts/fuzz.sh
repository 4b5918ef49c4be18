#!/usr/bin/env bash
# Runs libFuzzer targets (tests/fuzz/): first replays every input in
# tests/fuzz/regress/<name>/ (inputs that crashed it once), then fuzzes
# for SECONDS from the seeds in tests/fuzz/seeds/<name>/, with a scratch
# corpus under BUILD/fuzz/corpus/<name>. A crash leaves its input in
# BUILD/fuzz/crash-<name>-*: copy it into tests/fuzz/regress/<name>/ once
# fixed. Prints "fuzz <name>: ok (N runs)" or "fuzz <name>: FAIL ..." per
# target; the exit status is 0 only if every target passed.
#
# Usage: scripts/fuzz.sh BUILD SECONDS NAME...
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath -m "$1")
seconds=$2
shift 2
rc=0
for name in "$@"; do
	bin="$build/fuzz/fuzz_$name"
	log="$build/fuzz/fuzz_$name.log"
	corpus="$build/fuzz/corpus/$name"
	regress="$top/tests/fuzz/regress/$name"
	seeds="$top/tests/fuzz/seeds/$name"
	mkdir -p "$corpus"
	if [ ! -x "$bin" ]; then
		echo "fuzz $name: FAIL (no binary $bin)"
		rc=1
		continue
	fi
	if [ -d "$regress" ] && [ -n "$(ls -A "$regress")" ] &&
		! "$bin" "$regress"/* >"$log.regress" 2>&1; then
		echo "fuzz $name: FAIL (a regression input crashes it again, see $log.regress)"
		rc=1
		continue
	fi
	dirs=("$corpus")
	[ -d "$seeds" ] && dirs+=("$seeds")
	if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$build/fuzz/crash-$name-" \
		"${dirs[@]}" >"$log" 2>&1; then
		runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log")
		echo "fuzz $name: ok (${runs:-?} runs in ${seconds}s)"
	else
		echo "fuzz $name: FAIL (see $log and $build/fuzz/crash-$name-*)"
		rc=1
	fi
done
exit $rc
