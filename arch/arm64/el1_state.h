/*
 * A vCPU's EL1 system-register state. While a vCPU runs, this state lives
 * in the CPU it is pinned to (virt/vm.h): it is loaded when the vCPU is
 * reset (PSCI CPU_ON, VM start) and read for the register dump when a VM
 * is stopped. No trap path saves or restores it.
 */
#ifndef ARCH_ARM64_EL1_STATE_H
#define ARCH_ARM64_EL1_STATE_H

#include "lib/types.h"

struct el1_state {
	u64 sctlr, cpacr, ttbr0, ttbr1, tcr, mair, amair, vbar, contextidr;
	u64 tpidr_el0, tpidrro_el0, tpidr_el1, sp_el0, sp_el1, elr, spsr;
	u64 esr, far, afsr0, afsr1, par, cntkctl, csselr, mdscr;
	u64 cntv_ctl, cntv_cval, cntp_ctl, cntp_cval;
};

/* SCTLR_EL1 at reset as Linux's boot protocol wants it: MMU and caches
 * off, little-endian; only the bits that are RES1 in Armv8.0 set. */
#define SCTLR_EL1_RESET 0x30d00800UL

/* The state a vCPU starts from: everything zero but SCTLR_EL1. */
void el1_state_init(struct el1_state *s);
void el1_state_save(struct el1_state *s);
void el1_state_load(const struct el1_state *s);
/* Zero v0-v31, FPCR and FPSR (arch/arm64/fpsimd.S), so a vCPU never
 * starts with what a previous run of its CPU left there. */
void fpsimd_reset(void);

#endif
