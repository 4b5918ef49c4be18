/*
 * The register frame every exception vector saves on the EL2 stack, and
 * the vector kinds. Offsets are shared with arch/arm64/vectors.S.
 */
#ifndef ARCH_ARM64_TRAP_FRAME_H
#define ARCH_ARM64_TRAP_FRAME_H

#define FRAME_X(n) ((n) * 8)
#define FRAME_SP (31 * 8)
#define FRAME_ELR (32 * 8)
#define FRAME_SPSR (33 * 8)
#define FRAME_ESR (34 * 8)
#define FRAME_FAR (35 * 8)
#define FRAME_SIZE (36 * 8)

/* Vector kinds: (source << 2) | type, in the order of the vector table. */
#define VEC_SYNC 0
#define VEC_IRQ 1
#define VEC_FIQ 2
#define VEC_SERROR 3
#define VEC_CUR_SP0 0
#define VEC_CUR_SPX 1
#define VEC_LOWER_A64 2
#define VEC_LOWER_A32 3

#ifdef __ASSEMBLY__
/* \op (stp or ldp) of x2..x29 at their struct trap_frame slots on SP:
 * the part every vector's save and restore share (x0/x1 are the
 * scratch registers around it, x30 pairs with SP or is alone). */
.macro frame_pairs_from_x2 op
	\op	x2, x3, [sp, #FRAME_X(2)]
	\op	x4, x5, [sp, #FRAME_X(4)]
	\op	x6, x7, [sp, #FRAME_X(6)]
	\op	x8, x9, [sp, #FRAME_X(8)]
	\op	x10, x11, [sp, #FRAME_X(10)]
	\op	x12, x13, [sp, #FRAME_X(12)]
	\op	x14, x15, [sp, #FRAME_X(14)]
	\op	x16, x17, [sp, #FRAME_X(16)]
	\op	x18, x19, [sp, #FRAME_X(18)]
	\op	x20, x21, [sp, #FRAME_X(20)]
	\op	x22, x23, [sp, #FRAME_X(22)]
	\op	x24, x25, [sp, #FRAME_X(24)]
	\op	x26, x27, [sp, #FRAME_X(26)]
	\op	x28, x29, [sp, #FRAME_X(28)]
.endm
#else
#include "lib/types.h"

struct trap_frame {
	u64 x[31];
	u64 sp;   /* the interrupted context's SP */
	u64 elr;
	u64 spsr;
	u64 esr;
	u64 far;
};

_Static_assert(sizeof(struct trap_frame) == FRAME_SIZE, "trap_frame layout");

/* Called from vectors.S. */
void exception_unexpected(struct trap_frame *f, unsigned int kind);
void exception_irq(struct trap_frame *f);
#endif
#endif
