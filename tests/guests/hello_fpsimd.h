/*
 * hello's trap loop, in assembly so that no compiled code touches the
 * FP/SIMD registers while it runs (hello_fpsimd.S).
 */
#ifndef TESTS_GUESTS_HELLO_FPSIMD_H
#define TESTS_GUESTS_HELLO_FPSIMD_H

/* What hello_fpsimd_traps() found changed (0: nothing). */
#define FPSIMD_BAD_V 0x100        /* | n: register v<n> */
#define FPSIMD_REG_MASK 0xffULL
#define FPSIMD_BAD_FPCR 0x200
#define FPSIMD_BAD_FPSR 0x300
#define FPSIMD_BAD_PSCI 0x400     /* PSCI VERSION gave another answer */

#define FPSIMD_DOTS_PER_LINE 64   /* console output: one '.' per iteration */

#ifndef __ASSEMBLY__
#include "lib/types.h"

/*
 * Fill v0-v31, FPCR and FPSR with a pattern; then @iterations times call
 * PSCI VERSION (expecting @psci_version) and write one character to the
 * PL011 at @uart (each a trap to a hypervisor); then check every register
 * still holds its pattern. Returns 0 or an FPSIMD_BAD_* value.
 */
u64 hello_fpsimd_traps(u64 iterations, u64 psci_version, u64 uart);
#endif

#endif
