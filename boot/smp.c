/*
 * Bringing up the secondary CPUs: PSCI CPU_ON on virt, the spin table on
 * the Pi. CPUs start one at a time through one mailbox, each waited for
 * with a timeout so that a CPU that never arrives is named, not hung on.
 */
#include "arch/arm64/barrier.h"
#include "arch/arm64/cache.h"
#include "arch/arm64/cpu.h"
#include "arch/arm64/irq.h"
#include "boot/boot.h"
#include "boot/boot_args.h"
#include "drivers/arch_timer.h"
#include "drivers/gic.h"
#include "drivers/psci.h"
#include "lib/console.h"
#include "lib/errno.h"
#include "mm/hyp_map.h"
#include "virt/vm_start.h"

/* One stack per CPU; CPU 0's is the first (head.S). */
u8 cpu_stacks[CONFIG_MAX_CPUS][CONFIG_STACK_SIZE] __aligned(16);
struct boot_args secondary_boot_args;

static int release_cpu(const struct board_cpu *bc, unsigned int idx)
{
	switch (bc->enable) {
	case CPU_ENABLE_PSCI: {
		s32 r = psci_cpu_on(bc->mpidr, (paddr_t)secondary_entry, idx);

		if (r != PSCI_SUCCESS) {
			printf("hv: PSCI CPU_ON for MPIDR 0x%llx failed: %d\n",
			       (unsigned long long)bc->mpidr, r);
			return -EIO;
		}
		return 0;
	}
	case CPU_ENABLE_SPIN_TABLE: {
		volatile u64 *release = (volatile u64 *)bc->release_addr;

		*release = (u64)secondary_entry;
		/* The parked CPU polls with its caches off: push the write
		 * to memory, then wake it from WFE. */
		dcache_clean_inval_poc((const void *)release, sizeof(*release));
		sev();
		return 0;
	}
	default:
		printf("hv: CPU MPIDR 0x%llx has no enable-method we can use\n",
		       (unsigned long long)bc->mpidr);
		return -ENOSYS;
	}
}

static bool wait_online(unsigned int idx)
{
	u64 deadline = timer_now() + timer_ms_to_ticks(CONFIG_SECONDARY_TIMEOUT_MS);

	while (!cpu_is_online(idx))
		if (timer_now() > deadline)
			return false;
	return true;
}

static bool start_cpu(const struct board_cpu *bc, unsigned int idx)
{
	struct boot_args *a = &secondary_boot_args;

	cpus[idx].index = idx;
	cpus[idx].mpidr = bc->mpidr;
	a->stack_top = (u64)&cpu_stacks[idx + 1];
	a->cpu_index = idx;
	hyp_map_regs(&a->mair, &a->tcr, &a->ttbr);
	a->sctlr = read_sysreg(sctlr_el2);
	/* The new CPU reads the mailbox with its MMU (and caches) off; it
	 * reads cpus[] only once its MMU is on, coherently. */
	dcache_clean_inval_poc(a, sizeof(*a));
	if (release_cpu(bc, idx))
		return false;
	if (!wait_online(idx)) {
		printf("hv: CPU %u (MPIDR 0x%llx) did not come online within %d ms\n",
		       idx, (unsigned long long)bc->mpidr, CONFIG_SECONDARY_TIMEOUT_MS);
		return false;
	}
	return true;
}

unsigned int smp_boot_secondaries(const struct board *b)
{
	unsigned int next = 1, online = 1;
	u64 self = cpus[0].mpidr;

	for (unsigned int i = 0; i < b->ncpus; i++) {
		if (b->cpus[i].mpidr == self)
			continue;
		if (next == CONFIG_MAX_CPUS) {
			printf("hv: CPU MPIDR 0x%llx left parked: CONFIG_MAX_CPUS=%d\n",
			       (unsigned long long)b->cpus[i].mpidr, CONFIG_MAX_CPUS);
			continue;
		}
		if (start_cpu(&b->cpus[i], next))
			online++;
		next++;
	}
	return online;
}

void secondary_main(unsigned long idx)
{
	struct cpu *c = &cpus[idx];

	cpu_set_current(c);
	if (gic_init_cpu(c->index) == 0) {
		selftest_prepare_cpu();
		cpu_mark_online(c);
		irq_enable();
		vm_cpu_main();
	}
	for (;;)
		wfi();
}
