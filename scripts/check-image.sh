#!/usr/bin/env bash
# Build-time checks of the linked hypervisor: every dynamic relocation is
# R_AARCH64_RELATIVE (the only kind boot/head.S applies) or NONE, no call leaves
# for libgcc (outline atomics), and no LSE atomics (ARMv8.0 CPUs such as
# the Pi 4's Cortex-A72 do not have them).
# Usage: scripts/check-image.sh OBJDUMP hypervisor.elf
set -euo pipefail
objdump=$1 elf=$2
readelf=${objdump%objdump}readelf

bad=$("$readelf" -rW "$elf" | awk '/^ *[0-9a-f]+ +[0-9a-f]+ +R_/ && $3 != "R_AARCH64_RELATIVE" && $3 != "R_AARCH64_NONE" {print $3}' | sort -u)
if [ -n "$bad" ]; then
	echo "check-image: $elf has relocations head.S cannot apply: $bad" >&2
	exit 1
fi
undef=$("$readelf" -sW "$elf" | awk '$7 == "UND" && $8 != "" {print $8}')
if [ -n "$undef" ]; then
	echo "check-image: $elf has undefined symbols: $undef" >&2
	exit 1
fi
lse=$("$objdump" -d "$elf" | grep -E $'\t(cas|casp|ldadd|ldclr|ldeor|ldset|ldsmax|ldsmin|ldumax|ldumin|swp|stadd|stclr|stset)[alb]*[hb]?\t' | head -n 3 || true)
if [ -n "$lse" ]; then
	echo "check-image: $elf uses LSE atomics (not on ARMv8.0):" >&2
	echo "$lse" >&2
	exit 1
fi
