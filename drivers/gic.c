/* GIC front end: driver selection, the handler table and IRQ dispatch. */
#include "drivers/gic.h"

#include "arch/arm64/barrier.h"
#include "arch/arm64/cpu.h"
#include "arch/arm64/irq.h"
#include "lib/console.h"
#include "lib/errno.h"
#include "lib/spinlock.h"

#define GIC_PRIO_DEFAULT 0xa0

static const struct gic_ops *gic;
static struct board_gic gic_desc;    /* written once by gic_init() */
/*
 * Entries for SGIs and PPIs are written by the boot CPU before any CPU
 * enables interrupts. An SPI's entry is written by gic_request_spi()
 * before the SPI is enabled, with a dsb between (see there); the IRQ
 * path reads it after acknowledging the interrupt.
 */
static irq_handler_t handlers[GIC_MAX_INTID];
/* Serialises gic_request_spi(): routing an SPI read-modify-writes
 * distributor registers shared with other SPIs (docs/locking.md). */
static struct spinlock spi_lock = SPINLOCK_INIT;

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
	gic_desc = *g;
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

int gic_request_spi(u32 intid, unsigned int cpu, irq_handler_t fn)
{
	u64 flags;
	int r;

	if (intid < GIC_SPI_BASE || intid >= GIC_MAX_INTID || cpu >= CONFIG_MAX_CPUS)
		return -EINVAL;
	if (cpu != this_cpu()->index && !cpu_is_online(cpu))
		return -ENOENT;
	flags = irq_save();
	spin_lock(&spi_lock);
	__atomic_store_n(&handlers[intid], fn, __ATOMIC_RELAXED);
	/* The entry is visible to every CPU before the MMIO writes that can
	 * make the SPI fire; pairs with the barrier after the acknowledge
	 * in each driver's ack(), before the IRQ path reads the entry. */
	dsb(ishst);
	r = gic->route_spi(intid, cpu, GIC_PRIO_DEFAULT);
	spin_unlock(&spi_lock);
	irq_restore(flags);
	return r;
}

void gic_send_sgi(u32 intid, unsigned int cpu)
{
	gic->send_sgi(intid, cpu);
}

void gic_deactivate(u32 intid)
{
	gic->deactivate(intid);
}

void gic_handle_irq(void)
{
	u32 intid;
	u32 raw = gic->ack(&intid);
	irq_handler_t fn;
	enum irq_result r = IRQ_DONE;

	if (intid >= GIC_MAX_INTID)
		return;    /* spurious: nothing to EOI */
	fn = __atomic_load_n(&handlers[intid], __ATOMIC_RELAXED);
	if (fn)
		r = fn(intid);
	else
		printf("hv: CPU interrupt %u has no handler\n", intid);
	gic->eoi(raw);
	if (r == IRQ_DONE)
		gic->deactivate(raw);
}

const char *gic_name(void)
{
	return gic ? gic->name : "none";
}

const struct board_gic *gic_board(void)
{
	return &gic_desc;
}
