/*
 * Per-CPU state of the hypervisor and CPU feature discovery. TPIDR_EL2
 * holds the current CPU's struct cpu from its first C instruction on.
 */
#ifndef ARCH_ARM64_CPU_H
#define ARCH_ARM64_CPU_H

#include "arch/arm64/sysreg.h"
#include "lib/types.h"

struct vcpu;

struct cpu {
	/* First (CPU_VCPU in arch/arm64/guest.h): the vCPU pinned here,
	 * set once before it first runs; NULL on a CPU without one. */
	struct vcpu *vcpu;
	unsigned int index;      /* logical index; 0 is the boot CPU */
	u64 mpidr;               /* affinity, as in the DTB */
	bool online;             /* set once by the CPU itself, with release */
};

extern struct cpu cpus[CONFIG_MAX_CPUS];

static inline struct cpu *this_cpu(void)
{
	return (struct cpu *)read_sysreg(tpidr_el2);
}

/* Makes @c the current CPU's struct (first thing every CPU does in C). */
static inline void cpu_set_current(struct cpu *c)
{
	write_sysreg(tpidr_el2, c);
}

static inline u64 cpu_read_mpidr(void)
{
	return read_sysreg(mpidr_el1) & MPIDR_AFF_MASK;
}

/* ID_AA64MMFR0_EL1.PARange: physical address size, as an encoding
 * (parange_bits() gives the bits). */
unsigned int cpu_pa_range(void);
/* ID_AA64MMFR1_EL1.HAFDBS: HAFDBS_NONE, HAFDBS_AF or HAFDBS_AF_DBM. */
unsigned int cpu_hafdbs(void);
/* Called by the CPU itself, once, when it is ready to take interrupts.
 * Release: pairs with the acquire in cpu_is_online(). */
static inline void cpu_mark_online(struct cpu *c)
{
	__atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
}

/* True once CPU @i has marked itself online. Acquire: pairs with the
 * release in cpu_mark_online(), so what the CPU set up before it went
 * online is visible to the caller. */
static inline bool cpu_is_online(unsigned int i)
{
	return __atomic_load_n(&cpus[i].online, __ATOMIC_ACQUIRE);
}

/* Number of CPUs that have set their online flag. */
unsigned int cpus_online(void);

#endif
