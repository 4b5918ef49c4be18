/* GIC driver choice and interrupt dispatch for the test guests. */
#include "tests/guests/rt/gic.h"

#include "tests/guests/rt/rt.h"
#include "virt/guest_map.h"

static const struct rt_gic_ops *gic;
/* Written by the boot vCPU before the interrupt can be enabled. */
static rt_irq_fn handlers[RT_NR_PRIVATE_IRQS];

static void check_base(const char *what, paddr_t dtb, paddr_t map)
{
	if (dtb != map)
		rt_fail("DTB puts the %s at 0x%llx, the guest map at 0x%llx",
			what, (unsigned long long)dtb, (unsigned long long)map);
}

void gic_init(void)
{
	const struct board_gic *g = &rt_board.gic;

	switch (g->version) {
	case GIC_V3:
		gic = &rt_gicv3_ops;
		check_base("GICR", g->redist_or_cpuif, GUEST_GICR_BASE);
		break;
	case GIC_V2:
		gic = &rt_gicv2_ops;
		check_base("GICC", g->redist_or_cpuif, GUEST_GICC_BASE);
		break;
	default:
		rt_fail("DTB names no GICv2 or GICv3");
	}
	check_base("GICD", g->dist, GUEST_GICD_BASE);
	gic->init_dist();
	gic->init_cpu(0);
}

void gic_init_cpu(unsigned int cpu)
{
	gic->init_cpu(cpu);
}

const char *gic_name(void)
{
	return gic->name;
}

void gic_enable_private(u32 intid, u8 prio)
{
	if (intid >= RT_NR_PRIVATE_IRQS)
		rt_fail("INTID %u is not a private interrupt", intid);
	gic->enable_private(rt_cpu_index(), intid, prio);
}

void gic_send_sgi(u32 intid, unsigned int cpu)
{
	if (intid >= 16 || cpu >= rt_nr_cpus())
		rt_fail("SGI %u to vCPU %u: no such SGI or vCPU", intid, cpu);
	gic->send_sgi(intid, cpu);
}

void rt_irq_set_handler(u32 intid, rt_irq_fn fn)
{
	if (intid >= RT_NR_PRIVATE_IRQS)
		rt_fail("INTID %u is not a private interrupt", intid);
	handlers[intid] = fn;
}

void gic_handle_irqs(void)
{
	for (;;) {
		int source;
		u32 intid;
		u32 raw = gic->ack(&intid, &source);

		if (intid >= GIC_SPURIOUS)
			return;
		if (intid >= RT_NR_PRIVATE_IRQS || !handlers[intid])
			rt_fail("unexpected interrupt, INTID %u on vCPU %u",
				intid, rt_cpu_index());
		handlers[intid](intid, source);
		gic->eoi(raw);
	}
}
