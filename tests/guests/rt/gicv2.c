/*
 * GICv2 as a guest drives it: distributor (GICD) and CPU interface
 * (GICC) by MMIO at the guest map's addresses, everything in group 0
 * signalled as IRQ, as on a GIC without security extensions.
 */
#include "arch/arm64/barrier.h"
#include "arch/arm64/mmio.h"
#include "tests/guests/rt/gic.h"
#include "tests/guests/rt/rt.h"
#include "virt/guest_map.h"

#define GICD_CTLR 0x000
#define GICD_CTLR_ENABLE (1u << 0)
#define GICD_ISENABLER0 0x100
#define GICD_IPRIORITYR 0x400
#define GICD_ITARGETSR0 0x800          /* banked: reads this CPU's own bit */
#define GICD_SGIR 0xf00
#define GICD_SGIR_TARGETS(mask) ((u32)(mask) << 16)

#define GICC_CTLR 0x0000
#define GICC_CTLR_ENABLE (1u << 0)
#define GICC_PMR 0x0004
#define GICC_BPR 0x0008
#define GICC_IAR 0x000c
#define GICC_IAR_INTID(v) ((v) & 0x3ff)
#define GICC_IAR_CPUID(v) (((v) >> 10) & 0x7)
#define GICC_EOIR 0x0010

/* Each vCPU's CPU-interface bit, as SGIR target lists name it. Written
 * by that vCPU in init_cpu, before it runs its function; a sender reads
 * it only after the target said it is up (through an acquire of its
 * own, e.g. smp's online count). */
static u8 cpu_mask[RT_MAX_CPUS];

static void gicv2_init_dist(void)
{
	mmio_write32(GUEST_GICD_BASE + GICD_CTLR, GICD_CTLR_ENABLE);
}

static void gicv2_init_cpu(unsigned int cpu)
{
	u8 mask = mmio_read8(GUEST_GICD_BASE + GICD_ITARGETSR0);

	/* A GIC with one CPU interface may read these as zero. */
	if (!mask && rt_nr_cpus() == 1)
		mask = 1;
	if (!mask || (mask & (mask - 1)))
		rt_fail("GICv2: GICD_ITARGETSR0 of vCPU %u reads 0x%x, not one CPU",
			cpu, mask);
	cpu_mask[cpu] = mask;
	mmio_write32(GUEST_GICC_BASE + GICC_PMR, 0xff);
	mmio_write32(GUEST_GICC_BASE + GICC_BPR, 0);
	mmio_write32(GUEST_GICC_BASE + GICC_CTLR, GICC_CTLR_ENABLE);
}

/* The vCPU whose CPU interface is number @n, or -1. */
static int cpu_of_interface(unsigned int n)
{
	for (unsigned int i = 0; i < rt_nr_cpus(); i++)
		if (cpu_mask[i] == (1u << n))
			return (int)i;
	return -1;
}

static u32 gicv2_ack(u32 *intid, int *source)
{
	u32 iar = mmio_read32(GUEST_GICC_BASE + GICC_IAR);

	*intid = GICC_IAR_INTID(iar);
	*source = *intid < 16 ? cpu_of_interface(GICC_IAR_CPUID(iar)) : -1;
	return iar;
}

static void gicv2_eoi(u32 raw)
{
	mmio_write32(GUEST_GICC_BASE + GICC_EOIR, raw);
}

static void gicv2_enable_private(unsigned int cpu, u32 intid, u8 prio)
{
	mmio_write8(GUEST_GICD_BASE + GICD_IPRIORITYR + intid, prio);
	mmio_write32(GUEST_GICD_BASE + GICD_ISENABLER0, 1u << intid);
}

static void gicv2_send_sgi(u32 intid, unsigned int cpu)
{
	/* Pairs with the receiver's reads after it acknowledges: our
	 * earlier writes are visible before the SGI can arrive. */
	dsb(ish);
	mmio_write32(GUEST_GICD_BASE + GICD_SGIR,
		     GICD_SGIR_TARGETS(cpu_mask[cpu]) | intid);
}

const struct rt_gic_ops rt_gicv2_ops = {
	.name = "GICv2",
	.init_dist = gicv2_init_dist,
	.init_cpu = gicv2_init_cpu,
	.ack = gicv2_ack,
	.eoi = gicv2_eoi,
	.enable_private = gicv2_enable_private,
	.send_sgi = gicv2_send_sgi,
};
