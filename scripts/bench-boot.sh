#!/usr/bin/env bash
# Benchmark: time from the hypervisor's first instruction to its banner,
# counted in instructions. Under -icount shift=0 each guest instruction
# advances the virtual clock by 1 ns, so the "banner N ns after entry" the
# hypervisor prints is N instructions (all CPUs together).
# Usage: scripts/bench-boot.sh VIRT_IMAGE RPI4_IMAGE
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
virt=$1 rpi4=$2

run() {
	local label=$1 n
	shift
	n=$(timeout 120 "$top/scripts/qemu.sh" --test --icount "$@" </dev/null 2>&1 |
		sed -n 's/.*banner \([0-9]*\) ns after entry.*/\1/p')
	[ -n "$n" ] || { echo "bench-boot: no banner from $label" >&2; exit 1; }
	printf '%-34s %12s instructions\n' "$label" "$n"
}

run "virt -cpu max -smp 4" --cpu max --smp 4 virt "$virt"
run "virt -cpu max -smp 1" --cpu max --smp 1 virt "$virt"
run "virt -cpu cortex-a72 -smp 4" --cpu cortex-a72 --smp 4 virt "$virt"
run "raspi4b (4 CPUs)" rpi4 "$rpi4"
run "virt via U-Boot booti" uboot "$virt"
