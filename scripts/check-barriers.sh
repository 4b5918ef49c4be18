#!/usr/bin/env bash
# Build-time check of the memory orders of the hand-overs with guests and
# between CPUs on arm64: each function of the dirty ring (DESIGN §7) and
# of the virtqueue walker that takes part in a hand-over must hold the
# load-acquire (LDAR), store-release (STLR) or barrier (DMB) it needs; a
# plain LDR/STR there passes every test on x86 and loses entries (or
# reads a guest's descriptors before they are published) on arm64. Acquire loads and release stores are always inline (outline
# atomics only move read-modify-writes, which this file has none of, to
# libgcc; scripts/check-image.sh rejects such calls in the image).
# Usage: scripts/check-barriers.sh BUILD_DIR     (an arm64 build of the image;
#        the objdump is $OBJDUMP, else ${CROSS_COMPILE:-aarch64-linux-gnu-}objdump)
set -euo pipefail
objdump=${OBJDUMP:-${CROSS_COMPILE:-aarch64-linux-gnu-}objdump}

# One "object function mnemonic" line per instruction of each object.
insns=$(for o in mm/dirty_ring.o virt/virtqueue.o; do
	obj="$1/$o"
	[ -f "$obj" ] || { echo "check-barriers: $obj missing: build $1 first" >&2; exit 2; }
	"$objdump" -d --no-show-raw-insn "$obj" | awk -v o="$o" '
		/^[0-9a-f]+ <[^>]+>:$/ { fn = substr($2, 2, length($2) - 3); next }
		fn != "" && /^ +[0-9a-f]+:\t/ { split($0, f, "\t"); print o, fn, f[2] }'
done)

# object  function  instruction  what it is there for
required='
mm/dirty_ring.o  dirty_ring_used         ldar  load-acquire of reset_index
mm/dirty_ring.o  dirty_ring_push         ldar  load-acquire of reset_index and of the free entry flags
mm/dirty_ring.o  dirty_ring_push         stlr  store-release of DIRTY
mm/dirty_ring.o  dirty_ring_collect      ldar  load-acquire of DIRTY and of reset_index
mm/dirty_ring.o  dirty_ring_collect      stlr  store-release of RESET
mm/dirty_ring.o  dirty_ring_reset_fetch  ldar  load-acquire of RESET
mm/dirty_ring.o  dirty_ring_reset_finish stlr  store-release of flags 0 and of reset_index
virt/virtqueue.o vq_pop                  ldar  load-acquire of avail->idx before the entries it publishes
virt/virtqueue.o vq_push                 stlr  store-release of used->idx after the used entry
virt/virtqueue.o vq_should_notify        dmb   full barrier between used->idx and reading used_event
virt/virtqueue.o vq_enable_notify        dmb   full barrier between avail_event and re-reading avail->idx
'
rc=0
while read -r o fn insn why; do
	[ -n "$o" ] || continue
	obj="$1/$o"
	fn_insns=$(sed -n "s|^$o ||p" <<<"$insns")
	if ! grep -q "^$fn " <<<"$fn_insns"; then
		echo "check-barriers: $obj has no function $fn"
		rc=1
		continue
	fi
	n=$(grep -cE "^$fn ${insn}[bh]?$" <<<"$fn_insns" || true)
	if [ "$n" -eq 0 ]; then
		echo "check-barriers: $fn has no ${insn^^} ($why)"
		rc=1
	else
		echo "check-barriers: $fn: ${insn^^} x$n ($why)"
	fi
done <<<"$required"
[ "$rc" = 0 ] && echo "check-barriers: every hand-over has its LDAR/STLR/DMB"
exit "$rc"
