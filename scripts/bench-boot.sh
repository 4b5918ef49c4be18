#!/usr/bin/env bash
# Benchmark: time from QEMU start to the hypervisor's banner, counted in
# instructions. Under -icount shift=0 each guest instruction advances the
# virtual clock by 1 ns, so the "banner at N us" the hypervisor prints is
# N * 1000 instructions, the same on every run and every host.
# Usage: scripts/bench-boot.sh VIRT_IMAGE RPI4_IMAGE
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
virt=$1 rpi4=$2

run() {
	local label=$1 us
	shift
	us=$(timeout 120 "$top/scripts/qemu.sh" --test --icount "$@" </dev/null 2>&1 |
		sed -n 's/.*banner at \([0-9]*\) us.*/\1/p')
	[ -n "$us" ] || { echo "bench-boot: no banner from $label" >&2; exit 1; }
	printf '%-34s %12s instructions\n' "$label" "$((us * 1000))"
}

run "virt -cpu max -smp 4" --cpu max --smp 4 virt "$virt"
run "virt -cpu max -smp 1" --cpu max --smp 1 virt "$virt"
run "virt -cpu cortex-a72 -smp 4" --cpu cortex-a72 --smp 4 virt "$virt"
run "raspi4b (4 CPUs)" rpi4 "$rpi4"
run "virt via U-Boot (U-Boot included)" uboot "$virt"
