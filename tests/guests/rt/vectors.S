/*
 * EL1 exception vectors of the test guests. Every entry saves a struct
 * trap_frame (arch/arm64/trap_frame.h) and, below it, the whole FP/SIMD
 * state (guest C code may use it, handlers too), calls
 * rt_exception(frame, kind) and returns to what ELR/SPSR then say.
 */
#include "arch/arm64/asm.h"
#include "arch/arm64/trap_frame.h"

#define FP_Q(n) (FRAME_SIZE + (n) * 16)
#define FP_FPSR (FRAME_SIZE + 32 * 16)
#define FP_FPCR (FP_FPSR + 8)
#define SAVE_SIZE (FP_FPCR + 8)

/* q0-q31 as 16 pairs, with @op = stp or ldp. */
.macro fpsimd_regs op
	\op	q0, q1, [sp, #FP_Q(0)]
	\op	q2, q3, [sp, #FP_Q(2)]
	\op	q4, q5, [sp, #FP_Q(4)]
	\op	q6, q7, [sp, #FP_Q(6)]
	\op	q8, q9, [sp, #FP_Q(8)]
	\op	q10, q11, [sp, #FP_Q(10)]
	\op	q12, q13, [sp, #FP_Q(12)]
	\op	q14, q15, [sp, #FP_Q(14)]
	\op	q16, q17, [sp, #FP_Q(16)]
	\op	q18, q19, [sp, #FP_Q(18)]
	\op	q20, q21, [sp, #FP_Q(20)]
	\op	q22, q23, [sp, #FP_Q(22)]
	\op	q24, q25, [sp, #FP_Q(24)]
	\op	q26, q27, [sp, #FP_Q(26)]
	\op	q28, q29, [sp, #FP_Q(28)]
	\op	q30, q31, [sp, #FP_Q(30)]
.endm

/* One 128-byte slot: make room, free x0/x1, go to the common code. */
.macro vector kind
	.balign	0x80
	sub	sp, sp, #SAVE_SIZE
	stp	x0, x1, [sp, #FRAME_X(0)]
	mov	x0, #(\kind)
	b	vector_common
.endm

	.text
	.balign	0x800
FUNC(rt_vectors)
	vector	(VEC_CUR_SP0 << 2 | VEC_SYNC)
	vector	(VEC_CUR_SP0 << 2 | VEC_IRQ)
	vector	(VEC_CUR_SP0 << 2 | VEC_FIQ)
	vector	(VEC_CUR_SP0 << 2 | VEC_SERROR)
	vector	(VEC_CUR_SPX << 2 | VEC_SYNC)
	vector	(VEC_CUR_SPX << 2 | VEC_IRQ)
	vector	(VEC_CUR_SPX << 2 | VEC_FIQ)
	vector	(VEC_CUR_SPX << 2 | VEC_SERROR)
	vector	(VEC_LOWER_A64 << 2 | VEC_SYNC)
	vector	(VEC_LOWER_A64 << 2 | VEC_IRQ)
	vector	(VEC_LOWER_A64 << 2 | VEC_FIQ)
	vector	(VEC_LOWER_A64 << 2 | VEC_SERROR)
	vector	(VEC_LOWER_A32 << 2 | VEC_SYNC)
	vector	(VEC_LOWER_A32 << 2 | VEC_IRQ)
	vector	(VEC_LOWER_A32 << 2 | VEC_FIQ)
	vector	(VEC_LOWER_A32 << 2 | VEC_SERROR)
ENDFUNC(rt_vectors)

/* x0 = kind; x0/x1 already saved at the frame's x[0..1]. */
FUNC(vector_common)
	frame_pairs_from_x2 stp
	add	x1, sp, #SAVE_SIZE	/* SP before the exception */
	stp	x30, x1, [sp, #FRAME_X(30)]
	mrs	x2, elr_el1
	mrs	x3, spsr_el1
	stp	x2, x3, [sp, #FRAME_ELR]
	mrs	x2, esr_el1
	mrs	x3, far_el1
	stp	x2, x3, [sp, #FRAME_ESR]
	fpsimd_regs stp
	mrs	x2, fpsr
	str	x2, [sp, #FP_FPSR]
	mrs	x2, fpcr
	str	x2, [sp, #FP_FPCR]

	mov	x1, x0
	mov	x0, sp
	bl	rt_exception

	ldr	x2, [sp, #FP_FPSR]
	msr	fpsr, x2
	ldr	x2, [sp, #FP_FPCR]
	msr	fpcr, x2
	fpsimd_regs ldp
	ldp	x0, x1, [sp, #FRAME_ELR]	/* a handler may have changed them */
	msr	elr_el1, x0
	msr	spsr_el1, x1
	ldp	x0, x1, [sp, #FRAME_X(0)]
	frame_pairs_from_x2 ldp
	ldr	x30, [sp, #FRAME_X(30)]
	add	sp, sp, #SAVE_SIZE
	eret
ENDFUNC(vector_common)
