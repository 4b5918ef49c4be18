#!/usr/bin/env bash
# Benchmark: the cost of dirty logging (enable, write-protect fault,
# harvest + reset, DBM traps and scans), measured by the dirtybench guest
# (tests/guests/dirtybench.c) in one 1 GiB VM on QEMU virt under
# -icount shift=0, where the 1 GHz counter of -cpu max counts
# instructions. With --cpu cortex-a72 only the wp figures exist (no
# FEAT_HAFDBS), and they are no longer instructions (62.5 MHz counter):
# the guest refuses, so run it on max.
# Usage: scripts/bench-dirty.sh IMAGE   (built with
#        CONFIG_DIRTY_TEST_CHANNEL=y and
#        SCENARIO=tests/scenarios/dirtybench.scenario)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
image=$1

out=$(timeout 300 "$top/scripts/qemu.sh" --test --icount --cpu max --smp 1 \
	--mem 2G virt "$image" </dev/null 2>&1) || {
	echo "$out" | tail -n 20 >&2
	echo "bench-dirty: the dirtybench VM did not pass" >&2
	exit 1
}
sed -n 's/.*dirtybench: \([^:]*\): \(.*\)\r*$/\1|\2/p' <<<"$out" |
	while IFS='|' read -r what figure; do
		printf '%-40s %s\n' "$what" "${figure%$'\r'}"
	done
