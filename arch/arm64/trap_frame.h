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

#ifndef __ASSEMBLY__
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
