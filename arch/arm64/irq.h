/* Masking of interrupts on the current CPU (PSTATE.DAIF). */
#ifndef ARCH_ARM64_IRQ_H
#define ARCH_ARM64_IRQ_H

#include "lib/types.h"

/* Masks IRQ and FIQ; returns the previous DAIF for irq_restore(). */
static inline u64 irq_save(void)
{
	u64 daif;

	__asm__ volatile("mrs %0, daif\n\tmsr daifset, #3" : "=r"(daif) : : "memory");
	return daif;
}

static inline void irq_restore(u64 daif)
{
	__asm__ volatile("msr daif, %0" : : "r"(daif) : "memory");
}

static inline void irq_enable(void)
{
	__asm__ volatile("msr daifclr, #3" ::: "memory");
}

static inline void irq_disable(void)
{
	__asm__ volatile("msr daifset, #3" ::: "memory");
}

#endif
