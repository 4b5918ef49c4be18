/* Entry points and shared state of the boot sequence (boot/). */
#ifndef BOOT_BOOT_H
#define BOOT_BOOT_H

#include "boot/board.h"
#include "lib/compiler.h"

/* The machine, as read from the DTB by the boot CPU. */
extern struct board board;

/* Called from head.S. */
__noreturn void boot_primary(void *dtb, unsigned long entered_el,
			     u64 entry_count);
__noreturn void boot_wrong_el(void *dtb, unsigned long el);
__noreturn void secondary_main(unsigned long cpu);

/*
 * Ends the run: with "hv.exit=semihosting" QEMU exits with the verdict as
 * status (0 pass, 1 fail), otherwise the machine powers off. Any CPU.
 */
__noreturn void boot_finish(bool verdict);

/* boot/smp.c: start every CPU of the board; returns how many run. */
unsigned int smp_boot_secondaries(const struct board *b);

/* boot/selftest.c, built with CONFIG_SELFTEST */
#ifdef CONFIG_SELFTEST
int selftest_init(const struct board *b);
void selftest_prepare_cpu(void);
bool selftest_run(void);
void selftest_fault(void);
#else
/* Built without the self-check: nothing to install, arm or fail. */
static inline int selftest_init(const struct board *b) { return 0; }
static inline void selftest_prepare_cpu(void) {}
static inline bool selftest_run(void) { return true; }
static inline void selftest_fault(void) {}
#endif

#endif
