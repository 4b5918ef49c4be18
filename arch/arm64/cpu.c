/* CPU features, the per-CPU array, and the hooks lib/ needs from arm64. */
#include "arch/arm64/cpu.h"

#include "arch/arm64/barrier.h"
#include "arch/arm64/irq.h"
#include "arch/arm64/semihost.h"
#include "lib/arch_hooks.h"

struct cpu cpus[CONFIG_MAX_CPUS];

unsigned int cpu_pa_range(void)
{
	return MMFR0_PARANGE(read_sysreg(id_aa64mmfr0_el1));
}

unsigned int cpu_hafdbs(void)
{
	return MMFR1_HAFDBS(read_sysreg(id_aa64mmfr1_el1));
}

unsigned int cpus_online(void)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < CONFIG_MAX_CPUS; i++)
		n += cpu_is_online(i);
	return n;
}

unsigned int arch_cpu_index(void)
{
	struct cpu *c = this_cpu();

	return c ? c->index : 0;
}

u64 arch_irq_save(void)
{
	return irq_save();
}

void arch_irq_restore(u64 flags)
{
	irq_restore(flags);
}

void arch_halt(void)
{
	irq_disable();
	if (semihost_exit_enabled())
		semihost_exit(1);    /* a stop is a failure for a test run */
	for (;;)
		wfi();
}
