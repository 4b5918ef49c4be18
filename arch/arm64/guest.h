/*
 * Entering a guest and coming back: the contract between the vCPU run
 * loop (virt/vcpu.c) and arch/arm64/guest.S. Offsets are shared with the
 * assembly and checked against the C structures in virt/vcpu.c.
 */
#ifndef ARCH_ARM64_GUEST_H
#define ARCH_ARM64_GUEST_H

/* struct vcpu starts with struct vcpu_regs: x0..x30, pc, pstate. */
#define VCPU_X(n) ((n) * 8)
#define VCPU_PC 248        /* 31 * 8: after x0..x30 */
#define VCPU_PSTATE 256    /* 32 * 8 */
/* struct cpu starts with the pointer to the vCPU it runs (or NULL). */
#define CPU_VCPU 0

/* Why guest_enter() returned: the kind of exception that left the guest. */
#define GUEST_EXIT_SYNC 0
#define GUEST_EXIT_IRQ 1
#define GUEST_EXIT_FIQ 2
#define GUEST_EXIT_SERROR 3

#ifndef __ASSEMBLY__
struct vcpu;

/*
 * Runs @v on this CPU until an exception takes it back to EL2; returns
 * GUEST_EXIT_*. The guest's x0-x30, PC and PSTATE are loaded from and
 * saved to v->regs; everything else (EL1 and FP/SIMD registers, SP_EL0,
 * SP_EL1) stays in the hardware. this_cpu()->vcpu must be @v. Called
 * with interrupts masked; returns with them masked.
 */
unsigned int guest_enter(struct vcpu *v);
#endif
#endif
