/*
 * The world switch, kept minimal because every trap pays for it:
 * guest_enter() saves the callee-saved registers of the C caller on the
 * EL2 stack and erets into the guest; the lower-EL vectors save the
 * guest's general registers into its struct vcpu and return from
 * guest_enter() with the kind of exit. Nothing else is switched: each
 * vCPU is pinned to one CPU, so its EL1 and FP/SIMD state stay in the
 * hardware while the hypervisor (built -mgeneral-regs-only, never touching
 * EL1 registers on this path) handles the exit.
 *
 * SP_EL2 is not moved by the guest, so at an exit it still points at the
 * callee-saved frame guest_enter() pushed.
 */
#include "arch/arm64/asm.h"
#include "arch/arm64/guest.h"

	.text

/* unsigned int guest_enter(struct vcpu *v) */
FUNC(guest_enter)
	stp	x29, x30, [sp, #-96]!
	stp	x19, x20, [sp, #16]
	stp	x21, x22, [sp, #32]
	stp	x23, x24, [sp, #48]
	stp	x25, x26, [sp, #64]
	stp	x27, x28, [sp, #80]
	ldp	x1, x2, [x0, #VCPU_PC]
	msr	elr_el2, x1
	msr	spsr_el2, x2
	ldp	x2, x3, [x0, #VCPU_X(2)]
	ldp	x4, x5, [x0, #VCPU_X(4)]
	ldp	x6, x7, [x0, #VCPU_X(6)]
	ldp	x8, x9, [x0, #VCPU_X(8)]
	ldp	x10, x11, [x0, #VCPU_X(10)]
	ldp	x12, x13, [x0, #VCPU_X(12)]
	ldp	x14, x15, [x0, #VCPU_X(14)]
	ldp	x16, x17, [x0, #VCPU_X(16)]
	ldp	x18, x19, [x0, #VCPU_X(18)]
	ldp	x20, x21, [x0, #VCPU_X(20)]
	ldp	x22, x23, [x0, #VCPU_X(22)]
	ldp	x24, x25, [x0, #VCPU_X(24)]
	ldp	x26, x27, [x0, #VCPU_X(26)]
	ldp	x28, x29, [x0, #VCPU_X(28)]
	ldr	x30, [x0, #VCPU_X(30)]
	ldp	x0, x1, [x0, #VCPU_X(0)]
	eret
	dsb	nsh			/* no speculation past the eret */
	isb
ENDFUNC(guest_enter)

/*
 * Lower-EL vector body: save the guest's registers into this CPU's vCPU
 * and return from guest_enter() with @kind. x0/x1 go through the stack
 * because no other register is free before the vCPU is found.
 */
.macro guest_exit kind
	stp	x0, x1, [sp, #-16]!
	mrs	x0, tpidr_el2
	ldr	x0, [x0, #CPU_VCPU]
	stp	x2, x3, [x0, #VCPU_X(2)]
	stp	x4, x5, [x0, #VCPU_X(4)]
	stp	x6, x7, [x0, #VCPU_X(6)]
	stp	x8, x9, [x0, #VCPU_X(8)]
	stp	x10, x11, [x0, #VCPU_X(10)]
	stp	x12, x13, [x0, #VCPU_X(12)]
	stp	x14, x15, [x0, #VCPU_X(14)]
	stp	x16, x17, [x0, #VCPU_X(16)]
	stp	x18, x19, [x0, #VCPU_X(18)]
	stp	x20, x21, [x0, #VCPU_X(20)]
	stp	x22, x23, [x0, #VCPU_X(22)]
	stp	x24, x25, [x0, #VCPU_X(24)]
	stp	x26, x27, [x0, #VCPU_X(26)]
	stp	x28, x29, [x0, #VCPU_X(28)]
	ldp	x2, x3, [sp], #16
	stp	x2, x3, [x0, #VCPU_X(0)]
	mrs	x1, elr_el2
	mrs	x2, spsr_el2
	stp	x30, x1, [x0, #VCPU_X(30)]	/* x30 and pc are adjacent */
	str	x2, [x0, #VCPU_PSTATE]
	mov	w0, #\kind
	b	guest_return
.endm

FUNC(guest_vector_sync)
	guest_exit GUEST_EXIT_SYNC
ENDFUNC(guest_vector_sync)

FUNC(guest_vector_irq)
	guest_exit GUEST_EXIT_IRQ
ENDFUNC(guest_vector_irq)

FUNC(guest_vector_fiq)
	guest_exit GUEST_EXIT_FIQ
ENDFUNC(guest_vector_fiq)

FUNC(guest_vector_serror)
	guest_exit GUEST_EXIT_SERROR
ENDFUNC(guest_vector_serror)

/* Back into guest_enter()'s caller with w0 = kind of exit. */
guest_return:
	ldp	x19, x20, [sp, #16]
	ldp	x21, x22, [sp, #32]
	ldp	x23, x24, [sp, #48]
	ldp	x25, x26, [sp, #64]
	ldp	x27, x28, [sp, #80]
	ldp	x29, x30, [sp], #96
	ret
