/* GIC front end: driver selection, the handler table and IRQ dispatch. */
#include "drivers/gic.h"

#include "lib/console.h"
#include "lib/errno.h"

#define GIC_PRIO_DEFAULT 0xa0

static const struct gic_ops *gic;
/* Written before interrupts are enabled on any CPU, then read-only. */
static irq_handler_t handlers[GIC_MAX_INTID];

int gic_init(const struct board_gic *g)
{
	switch (g->version) {
#ifdef CONFIG_GICV2
	case GIC_V2:
		gic = &gicv2_ops;
		break;
#endif
#ifdef CONFIG_GICV3
	case GIC_V3:
		gic = &gicv3_ops;
		break;
#endif
	default:
		printf("hv: the DTB's GICv%d has no driver in this build "
		       "(enable CONFIG_GICV%d)\n", g->version, g->version);
		return -ENOSYS;
	}
	return gic->init_dist(g);
}

int gic_init_cpu(unsigned int cpu)
{
	return gic->init_cpu(cpu);
}

int gic_request_private(u32 intid, irq_handler_t fn)
{
	if (intid >= GIC_SPI_BASE)
		return -EINVAL;
	handlers[intid] = fn;
	gic->enable_private(intid, GIC_PRIO_DEFAULT);
	return 0;
}

void gic_enable_private_here(u32 intid)
{
	gic->enable_private(intid, GIC_PRIO_DEFAULT);
}

void gic_send_sgi(u32 intid, unsigned int cpu)
{
	gic->send_sgi(intid, cpu);
}

void gic_handle_irq(void)
{
	u32 intid;
	u32 raw = gic->ack(&intid);

	if (intid >= GIC_MAX_INTID)
		return;    /* spurious: nothing to EOI */
	if (handlers[intid])
		handlers[intid](intid);
	else
		printf("hv: CPU interrupt %u has no handler\n", intid);
	gic->eoi(raw);
}

const char *gic_name(void)
{
	return gic ? gic->name : "none";
}
