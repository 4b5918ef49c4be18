#!/usr/bin/env bash
# Benchmark: the dirty-log service over virtio-vsock, measured from
# inside the machine by the management guest (tests/guests/hvdmgr.c
# bench=1): the round trip of a STATS and of a LIST request, and the
# harvest and reset of a writer's log through the socket and through the
# mapped rings, in wp and dbm, for a sequential and a random writer
# (tests/scenarios/hvdbench.scenario). QEMU virt -cpu max -smp 3 under
# -icount shift=0: the guest's 1 GHz counter counts instructions (every
# CPU's: what is not being timed is paused, its vCPU in WFI).
# Usage: scripts/bench-vsock.sh IMAGE   (the default image, built with
#        SCENARIO=tests/scenarios/hvdbench.scenario)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
image=$1

out=$(timeout 300 "$top/scripts/qemu.sh" --test --icount --cpu max --smp 3 \
	virt "$image" </dev/null 2>&1) || true
# A guest's FAIL powers its VM off like a PASS does: the run's status
# alone does not say that the benchmark ran.
if ! grep -q '\[mgr\] hvdmgr: PASS bench' <<<"$out" ||
   ! grep -q 'hv: all VMs have stopped' <<<"$out" ||
   grep -q ': FAIL\|stopped by the hypervisor' <<<"$out"; then
	echo "$out" | tail -n 20 >&2
	echo "bench-vsock: the hvdmgr bench VM did not pass" >&2
	exit 1
fi
sed -n 's/.*hvdmgr: bench: \(.*\): \([^:]*\)\r*$/\1|\2/p' <<<"$out" |
	while IFS='|' read -r what figure; do
		printf '%-50s %s\n' "$what" "${figure%$'\r'}"
	done
