/*
 * GICv2 / GIC-400 physical side: distributor and memory-mapped CPU
 * interface, for the hypervisor's own SGIs and PPIs. EL2 is Non-secure:
 * where the GIC has the Security Extensions, firmware must have put the
 * interrupts we use in Group 1 (the Pi firmware and QEMU both do).
 */
#include "drivers/gic.h"

#include "arch/arm64/barrier.h"
#include "arch/arm64/cpu.h"
#include "arch/arm64/mmio.h"
#include "lib/compiler.h"
#include "lib/console.h"
#include "lib/errno.h"

#define GICD_CTLR 0x000
#define GICD_TYPER 0x004
#define GICD_TYPER_LINES(t) ((((t) & 0x1f) + 1) * 32)  /* ITLinesNumber */
#define GICD_ISENABLER 0x100
#define GICD_IPRIORITYR 0x400
#define GICD_ITARGETSR 0x800
#define GICD_SGIR 0xf00
#define GICD_CTLR_ENABLE 1u

#define GICC_CTLR 0x00
#define GICC_PMR 0x04
#define GICC_BPR 0x08
#define GICC_IAR 0x0c
#define GICC_EOIR 0x10
#define GICC_DIR 0x1000    /* second page of the CPU interface */
#define GICC_CTLR_ENABLE 1u
/* EOImodeNS in the Non-secure view, EOImode without the Security
 * Extensions: EOIR drops priority, DIR deactivates. */
#define GICC_CTLR_EOIMODE (1u << 9)

static paddr_t gicd;
static u32 gicd_lines;    /* INTIDs the distributor implements */
static paddr_t gicc;
/* Each CPU's interface bit, as its banked GICD_ITARGETSR0 reports it. */
static u8 cpu_if_mask[CONFIG_MAX_CPUS];

static int gicv2_init_dist(const struct board_gic *g)
{
	gicd = g->dist;
	gicd_lines = MIN(GICD_TYPER_LINES(mmio_read32(gicd + GICD_TYPER)),
			 (u32)GIC_MAX_INTID);
	gicc = g->redist_or_cpuif;
	mmio_write32(gicd + GICD_CTLR, GICD_CTLR_ENABLE);
	return 0;
}

static int gicv2_init_cpu(unsigned int cpu)
{
	/* Any byte of the banked ITARGETSR0-7 reads as this CPU's mask. */
	cpu_if_mask[cpu] = mmio_read8(gicd + GICD_ITARGETSR);
	if (!cpu_if_mask[cpu]) {
		printf("hv: GICv2: CPU %u reads no CPU interface number\n", cpu);
		return -1;
	}
	mmio_write32(gicc + GICC_PMR, 0xff);
	mmio_write32(gicc + GICC_BPR, 0);
	mmio_write32(gicc + GICC_CTLR, GICC_CTLR_ENABLE | GICC_CTLR_EOIMODE);
	return 0;
}

static u32 gicv2_ack(u32 *intid)
{
	u32 iar = mmio_read32(gicc + GICC_IAR);

	/* The acknowledge completes before the handler table is read
	 * (pairs with gic_request_spi()'s dsb). */
	dsb(ld);
	*intid = iar & 0x3ff;    /* bits 12:10 hold an SGI's source CPU */
	return iar;
}

static void gicv2_eoi(u32 raw)
{
	mmio_write32(gicc + GICC_EOIR, raw);    /* source CPU bits included */
}

static void gicv2_deactivate(u32 raw)
{
	mmio_write32(gicc + GICC_DIR, raw);
}

static void gicv2_enable_private(u32 intid, u8 priority)
{
	/* SGI/PPI registers are banked: this writes the calling CPU's. */
	mmio_write8(gicd + GICD_IPRIORITYR + intid, priority);
	mmio_write32(gicd + GICD_ISENABLER, 1u << intid);
}

static int gicv2_route_spi(u32 intid, unsigned int cpu, u8 priority)
{
	if (intid >= gicd_lines)
		return -EINVAL;
	if (!cpu_if_mask[cpu])
		return -ENOENT;
	mmio_write8(gicd + GICD_IPRIORITYR + intid, priority);
	mmio_write8(gicd + GICD_ITARGETSR + intid, cpu_if_mask[cpu]);
	mmio_write32(gicd + GICD_ISENABLER + 4 * (u64)(intid / 32), 1u << (intid % 32));
	return 0;
}

static void gicv2_send_sgi(u32 intid, unsigned int cpu)
{
	dsb(ishst);    /* memory the receiver will read is visible first */
	mmio_write32(gicd + GICD_SGIR, (u32)cpu_if_mask[cpu] << 16 | intid);
}

const struct gic_ops gicv2_ops = {
	.name = "GICv2",
	.init_dist = gicv2_init_dist,
	.init_cpu = gicv2_init_cpu,
	.ack = gicv2_ack,
	.eoi = gicv2_eoi,
	.deactivate = gicv2_deactivate,
	.enable_private = gicv2_enable_private,
	.route_spi = gicv2_route_spi,
	.send_sgi = gicv2_send_sgi,
};
