#!/usr/bin/env bash
# Build-time check of the dirty ring's memory orders on arm64 (DESIGN §7):
# each function of mm/dirty_ring.o that takes part in a hand-over must
# hold the load-acquire (LDAR) or store-release (STLR) the protocol needs;
# a plain LDR/STR there passes every test on x86 and loses entries on
# arm64. Acquire loads and release stores are always inline (outline
# atomics only move read-modify-writes, which this file has none of, to
# libgcc; scripts/check-image.sh rejects such calls in the image).
# Usage: scripts/check-barriers.sh BUILD_DIR     (an arm64 build of the image;
#        the objdump is $OBJDUMP, else ${CROSS_COMPILE:-aarch64-linux-gnu-}objdump)
set -euo pipefail
obj="$1/mm/dirty_ring.o"
objdump=${OBJDUMP:-${CROSS_COMPILE:-aarch64-linux-gnu-}objdump}
[ -f "$obj" ] || { echo "check-barriers: $obj missing: build $1 first" >&2; exit 2; }

# One "function mnemonic" line per instruction.
insns=$("$objdump" -d --no-show-raw-insn "$obj" | awk '
	/^[0-9a-f]+ <[^>]+>:$/ { fn = substr($2, 2, length($2) - 3); next }
	fn != "" && /^ +[0-9a-f]+:\t/ { split($0, f, "\t"); print fn, f[2] }')

# function  instruction  what it is there for
required='
dirty_ring_used         ldar  load-acquire of reset_index
dirty_ring_push         ldar  load-acquire of reset_index and of the free entry flags
dirty_ring_push         stlr  store-release of DIRTY
dirty_ring_collect      ldar  load-acquire of DIRTY and of reset_index
dirty_ring_collect      stlr  store-release of RESET
dirty_ring_reset_fetch  ldar  load-acquire of RESET
dirty_ring_reset_finish stlr  store-release of flags 0 and of reset_index
'
rc=0
while read -r fn insn why; do
	[ -n "$fn" ] || continue
	if ! grep -q "^$fn " <<<"$insns"; then
		echo "check-barriers: $obj has no function $fn"
		rc=1
		continue
	fi
	n=$(grep -cE "^$fn ${insn}[bh]?$" <<<"$insns" || true)
	if [ "$n" -eq 0 ]; then
		echo "check-barriers: $fn has no ${insn^^} ($why)"
		rc=1
	else
		echo "check-barriers: $fn: ${insn^^} x$n ($why)"
	fi
done <<<"$required"
[ "$rc" = 0 ] && echo "check-barriers: $obj: every hand-over has its LDAR/STLR"
exit "$rc"
