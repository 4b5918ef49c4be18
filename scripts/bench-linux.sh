#!/usr/bin/env bash
# Benchmark: Debian's Linux 6.1 (2 vCPUs, 256 MiB, the tests' initramfs
# with role=boot) booted to init on plain QEMU virt and as a VM of the
# hypervisor (tests/scenarios/linuxboot.scenario), -cpu max, GICv3.
# Two figures each:
#  - guest time to init under -icount shift=0 (1 ns per instruction, all
#    vCPUs together): Linux's own "init after N s" from /proc/uptime;
#  - wall-clock seconds from starting QEMU to its exit (init powers off
#    at once), without icount, best of three.
# Usage: scripts/bench-linux.sh HV_IMAGE INITRAMFS
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
hv=$1 initrd=$2
kernel=$top/build/third_party/linux/Image
append="console=ttyAMA0 quiet role=boot"

plain() {
	timeout 120 qemu-system-aarch64 -M virt,gic-version=3 -cpu max -smp 2 -m 256M \
		-nographic -nic none -no-reboot -kernel "$kernel" -initrd "$initrd" \
		-append "$append" "$@" </dev/null 2>&1
}
ours() {
	timeout 120 "$top/scripts/qemu.sh" --test --cpu max "$@" virt "$hv" </dev/null 2>&1
}

# init_time CMD...: the guest's seconds to init, from its own report.
init_time() {
	local s
	s=$("$@" | sed -n 's/.*linux-boot: init after \([0-9.]*\) s.*/\1/p')
	[ -n "$s" ] || { echo "bench-linux: no 'init after' from $1" >&2; exit 1; }
	echo "$s"
}

# wall CMD...: the best of three wall-clock runs, in seconds.
wall() {
	local best=0 t0 t
	for _ in 1 2 3; do
		t0=$(date +%s%N)
		"$@" | grep -q 'linux-boot: PASS' || { echo "bench-linux: $1 did not pass" >&2; exit 1; }
		t=$(($(date +%s%N) - t0))
		if [ "$best" = 0 ] || [ "$t" -lt "$best" ]; then best=$t; fi
	done
	printf '%d.%02d' $((best / 1000000000)) $((best % 1000000000 / 10000000))
}

printf '%-28s %22s %16s\n' "" "to init, icount (s)" "wall, best of 3"
printf '%-28s %22s %14s s\n' "plain QEMU virt" "$(init_time plain -icount shift=0)" "$(wall plain)"
printf '%-28s %22s %14s s\n' "under the hypervisor" "$(init_time ours --icount)" "$(wall ours)"
