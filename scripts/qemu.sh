#!/usr/bin/env bash
# The one place that knows how to start QEMU for each way the hypervisor
# boots. Used by `make run`, `make run-uboot`, `make demo` and the tests.
#
# Usage: scripts/qemu.sh [options] BOARD IMAGE [-- extra QEMU args]
#   BOARD   virt    QEMU virt, GICv3, -kernel (EL2 via virtualization=on)
#           rpi4    QEMU raspi4b with Debian's bcm2711-rpi-4-b.dtb
#           uboot   QEMU virt, U-Boot (u-boot-qemu) as -bios, which boots
#                   the image with booti
#           virt-el1  QEMU virt without virtualization=on (entered at EL1)
#   --cpu C       CPU model for virt/uboot (default max)
#   --smp N       CPU count for virt/uboot (default 4; rpi4 always has 4)
#   --gic V       GIC version for virt/uboot (default 3)
#   --mem SIZE    RAM for virt/uboot (default 1G)
#   --append S    command line for the hypervisor (/chosen bootargs)
#   --dtb FILE    use FILE as the device tree (virt and rpi4)
#   --test        verdict mode: semihosting on, "hv.exit=semihosting"
#                 appended, so QEMU's exit status is the verdict
#   --icount      -icount shift=0: guest time counts instructions
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cpu=max smp=4 gic=3 mem=1G append="" test=0 icount=0 dtb=""

usage() { sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

while [ $# -gt 0 ]; do
	case "$1" in
	--cpu) cpu=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--gic) gic=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--append) append=$2; shift 2 ;;
	--dtb) dtb=$2; shift 2 ;;
	--test) test=1; shift ;;
	--icount) icount=1; shift ;;
	-h|--help) usage ;;
	-*) echo "qemu.sh: unknown option $1" >&2; usage ;;
	*) break ;;
	esac
done
[ $# -ge 2 ] || usage
board=$1 image=$2
shift 2
[ "${1:-}" = "--" ] && shift
[ -f "$image" ] || { echo "qemu.sh: no image $image (run make first)" >&2; exit 2; }

if [ "$test" = 1 ]; then
	append="${append:+$append }hv.exit=semihosting"
fi

# Every run: no network, console on stdio, no reboot loops.
args=(-nographic -nic none -no-reboot)
[ "$test" = 1 ] && args+=(-semihosting)
[ "$icount" = 1 ] && args+=(-icount shift=0)

virt_machine() {
	args+=(-M "virt,virtualization=$1,gic-version=$gic" -cpu "$cpu" -smp "$smp" -m "$mem")
}

case "$board" in
virt)
	virt_machine on
	args+=(-kernel "$image")
	[ -n "$dtb" ] && args+=(-dtb "$dtb")
	;;
virt-el1)
	virt_machine off
	args+=(-kernel "$image")
	;;
uboot)
	uboot=/usr/lib/u-boot/qemu_arm64/u-boot.bin
	[ -f "$uboot" ] || { echo "qemu.sh: $uboot missing: run 'make setup'" >&2; exit 2; }
	virt_machine on
	args+=(-bios "$uboot" -kernel "$image")
	;;
rpi4)
	dtb=${dtb:-$top/build/third_party/bcm2711-rpi-4-b.dtb}
	[ -f "$dtb" ] || { echo "qemu.sh: $dtb missing: run 'make setup'" >&2; exit 2; }
	args+=(-M raspi4b -dtb "$dtb" -kernel "$image")
	;;
*)
	echo "qemu.sh: unknown board '$board' (virt, virt-el1, uboot, rpi4)" >&2
	exit 2
	;;
esac
[ -n "$append" ] && args+=(-append "$append")

exec qemu-system-aarch64 "${args[@]}" "$@"
