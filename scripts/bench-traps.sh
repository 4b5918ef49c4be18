#!/usr/bin/env bash
# Benchmark: instructions per guest trap round trip (guest instruction,
# exit, handling, entry), measured by the trapbench guest
# (tests/guests/trapbench.c) in one VM on QEMU virt -cpu max under
# -icount shift=0, where the 1 GHz counter counts instructions.
# Usage: scripts/bench-traps.sh IMAGE   (built with
#        SCENARIO=tests/scenarios/trapbench.scenario)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
image=$1

out=$(timeout 120 "$top/scripts/qemu.sh" --test --icount --cpu max --smp 1 virt "$image" </dev/null 2>&1) || {
	echo "$out" | tail -n 20 >&2
	echo "bench-traps: the trapbench VM did not pass" >&2
	exit 1
}
sed -n 's/.*trapbench: \(.*\): \([0-9]*\) instructions per round trip.*/\1|\2/p' <<<"$out" |
	while IFS='|' read -r kind n; do
		printf '%-34s %12s instructions\n' "$kind" "$n"
	done
