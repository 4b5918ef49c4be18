/*
 * The mailbox a booting CPU reads before its MMU is on: its stack and
 * index, and the EL2 translation settings the boot CPU chose. Shared
 * between boot/smp.c (writer) and boot/head.S (reader), hence the
 * explicit offsets.
 */
#ifndef BOOT_BOOT_ARGS_H
#define BOOT_BOOT_ARGS_H

#define BOOT_ARGS_STACK_TOP 0
#define BOOT_ARGS_CPU_INDEX 8
#define BOOT_ARGS_MAIR 16
#define BOOT_ARGS_TCR 24
#define BOOT_ARGS_TTBR 32
#define BOOT_ARGS_SCTLR 40
#define BOOT_ARGS_SIZE 48

#ifndef __ASSEMBLY__
#include "lib/types.h"

struct boot_args {
	u64 stack_top;
	u64 cpu_index;
	u64 mair;
	u64 tcr;
	u64 ttbr;
	u64 sctlr;
};

_Static_assert(sizeof(struct boot_args) == BOOT_ARGS_SIZE, "boot_args layout");
_Static_assert(__builtin_offsetof(struct boot_args, sctlr) == BOOT_ARGS_SCTLR,
	       "boot_args layout");

/* Written by the boot CPU, read by the CPU being started (MMU off). */
extern struct boot_args secondary_boot_args;

void secondary_entry(void);
#endif
#endif
