/*
 * EL2 exception vector table. Exceptions from a guest (lower EL) go to
 * the world switch in arch/arm64/guest.S. Exceptions taken at EL2 save a
 * struct trap_frame on the current EL2 stack and call C: IRQs go to
 * exception_irq(), anything else is a hypervisor bug and goes to
 * exception_unexpected(), which dumps the frame and stops.
 */
#include "arch/arm64/asm.h"
#include "arch/arm64/trap_frame.h"

/* Save x0-x30, the interrupted SP and the exception registers. */
.macro save_frame
	sub	sp, sp, #FRAME_SIZE
	stp	x0, x1, [sp, #FRAME_X(0)]
	frame_pairs_from_x2 stp
	add	x0, sp, #FRAME_SIZE	/* SP before the exception (same EL) */
	stp	x30, x0, [sp, #FRAME_X(30)]
	mrs	x0, elr_el2
	mrs	x1, spsr_el2
	stp	x0, x1, [sp, #FRAME_ELR]
	mrs	x0, esr_el2
	mrs	x1, far_el2
	stp	x0, x1, [sp, #FRAME_ESR]
.endm

/* Restore what save_frame saved (ELR/SPSR too: a handler may change
 * them) and return from the exception. */
.macro restore_frame_eret
	ldp	x0, x1, [sp, #FRAME_ELR]
	msr	elr_el2, x0
	msr	spsr_el2, x1
	ldp	x0, x1, [sp, #FRAME_X(0)]
	frame_pairs_from_x2 ldp
	ldr	x30, [sp, #FRAME_X(30)]
	add	sp, sp, #FRAME_SIZE
	eret
.endm

/* A vector slot: 32 instructions at most, so it only branches. */
.macro vector target
	.balign	0x80
	b	\target
.endm

.macro unexpected_entry source, type
vec_unexpected_\source\()_\type:
	save_frame
	mov	x0, sp
	mov	x1, #((\source << 2) | \type)
	bl	exception_unexpected	/* does not return */
	b	.
.endm

	.text
	.balign	0x800
FUNC(vectors)
	vector	vec_unexpected_0_0	/* current EL, SP0 */
	vector	vec_unexpected_0_1
	vector	vec_unexpected_0_2
	vector	vec_unexpected_0_3
	vector	vec_unexpected_1_0	/* current EL, SPx */
	vector	vec_irq_el2
	vector	vec_unexpected_1_2
	vector	vec_unexpected_1_3
	vector	guest_vector_sync	/* lower EL, AArch64: a guest */
	vector	guest_vector_irq
	vector	guest_vector_fiq
	vector	guest_vector_serror
	vector	guest_vector_sync	/* lower EL, AArch32: guest EL0 */
	vector	guest_vector_irq
	vector	guest_vector_fiq
	vector	guest_vector_serror
ENDFUNC(vectors)

vec_irq_el2:
	save_frame
	mov	x0, sp
	bl	exception_irq
	restore_frame_eret

	unexpected_entry 0, 0
	unexpected_entry 0, 1
	unexpected_entry 0, 2
	unexpected_entry 0, 3
	unexpected_entry 1, 0
	unexpected_entry 1, 2
	unexpected_entry 1, 3
