/*
 * Arm semihosting, used only to hand a test verdict to QEMU
 * (-semihosting): without a debugger attached HLT #0xF000 faults, so only
 * call this when the command line asked for it.
 */
#ifndef ARCH_ARM64_SEMIHOST_H
#define ARCH_ARM64_SEMIHOST_H

#include "lib/compiler.h"
#include "lib/types.h"

/* SYS_EXIT_EXTENDED: QEMU exits with @status. */
__noreturn void semihost_exit(int status);
/* The command line asked for a verdict: from now on every stop of the
 * machine (verdict, panic, halt) ends QEMU through semihost_exit(). */
void semihost_enable_exit(void);
bool semihost_exit_enabled(void);

#endif
