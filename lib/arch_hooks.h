/*
 * The few services lib/ needs from the architecture, so that lib/ also
 * builds for the host (where tests supply their own versions).
 */
#ifndef LIB_ARCH_HOOKS_H
#define LIB_ARCH_HOOKS_H

#include "lib/compiler.h"
#include "lib/types.h"

/* Index of the calling CPU (0 = boot CPU). */
unsigned int arch_cpu_index(void);
/* Mask interrupts on this CPU; returns a token for arch_irq_restore(). */
u64 arch_irq_save(void);
void arch_irq_restore(u64 flags);
/* Stop the machine for good after a fatal error. */
__noreturn void arch_halt(void);

#endif
