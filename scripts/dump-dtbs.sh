#!/usr/bin/env bash
# Writes the device trees the host tests read into OUTDIR: QEMU virt with
# GICv3 and GICv2 (dumped by QEMU itself) and the Raspberry Pi 4 DTB
# fetched by scripts/setup.sh, and one deliberately broken copy for the
# boot-error scenario. Fails loudly if any of them is missing.
#
# Usage: scripts/dump-dtbs.sh OUTDIR
set -euo pipefail

if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi
top=$(cd "$(dirname "$0")/.." && pwd)
out=$1
pi_dtb="$top/build/third_party/bcm2711-rpi-4-b.dtb"
mkdir -p "$out"

for gic in 3 2; do
	dtb="$out/virt-gicv$gic.dtb"
	qemu-system-aarch64 -M "virt,virtualization=on,gic-version=$gic,dumpdtb=$dtb" \
		-cpu max -smp 4 -m 1G -nic none -display none >/dev/null
	[ -s "$dtb" ] || { echo "dump-dtbs: QEMU wrote no $dtb" >&2; exit 1; }
done

if [ ! -s "$pi_dtb" ]; then
	echo "dump-dtbs: $pi_dtb missing (run scripts/setup.sh)" >&2
	exit 1
fi
cp "$pi_dtb" "$out/bcm2711-rpi-4-b.dtb"

# A broken board for the boot-error scenario: virt without /cpus.
cp "$out/virt-gicv3.dtb" "$out/virt-gicv3-nocpus.dtb"
fdtput -r "$out/virt-gicv3-nocpus.dtb" /cpus
