/*
 * GICv3 physical side: distributor, this CPU's redistributor and the
 * system-register CPU interface, for the hypervisor's own SGIs and PPIs.
 */
#include "drivers/gic.h"

#include "arch/arm64/barrier.h"
#include "arch/arm64/cpu.h"
#include "arch/arm64/mmio.h"
#include "arch/arm64/sysreg.h"
#include "lib/compiler.h"
#include "lib/console.h"
#include "lib/errno.h"

#define GICD_CTLR 0x0000
#define GICD_CTLR_RWP (1u << 31)
#define GICD_CTLR_ARE (1u << 4)       /* ARE_NS, or ARE when DS = 1 */
#define GICD_CTLR_ENGRP1 (1u << 1)    /* EnableGrp1A, or EnableGrp1 */
#define GICD_TYPER 0x0004
#define GICD_TYPER_LINES(t) ((((t) & 0x1f) + 1) * 32)  /* ITLinesNumber */
#define GICD_IGROUPR 0x0080           /* one bit per INTID */
#define GICD_ISENABLER 0x0100
#define GICD_IPRIORITYR 0x0400        /* one byte per INTID */
#define GICD_IROUTER 0x6000           /* 64 bits per INTID */

#define GICR_FRAME 0x10000UL           /* RD_base and SGI_base frames */
#define GICR_TYPER 0x0008
#define GICR_TYPER_VLPIS (1u << 1)
#define GICR_TYPER_LAST (1u << 4)
#define GICR_WAKER 0x0014
#define GICR_WAKER_SLEEP (1u << 1)
#define GICR_WAKER_ASLEEP (1u << 2)
#define GICR_IGROUPR0 0x0080          /* in the SGI frame */
#define GICR_ISENABLER0 0x0100
#define GICR_IPRIORITYR 0x0400

#define ICC_SRE_SRE (1u << 0)
#define ICC_SRE_ENABLE (1u << 3)      /* EL1 may use ICC_SRE_EL1 */
/* At EL2 ICC_CTLR_EL1 is the Non-secure physical register, and its
 * EOImode governs EL2 as well as EL1: EOIR drops priority, DIR
 * deactivates. */
#define ICC_CTLR_EOIMODE (1u << 1)
#define ICC_DIR_EL1 s3_0_c12_c11_1

#define GIC_WAIT_LOOPS 1000000

static paddr_t gicd;
static u32 gicd_lines;                /* INTIDs the distributor implements */
static paddr_t gicr_region;
static u64 gicr_region_size;
/* Each CPU's redistributor, found by affinity at gic_init_cpu(). */
static paddr_t gicr[CONFIG_MAX_CPUS];

static int wait_clear32(paddr_t reg, u32 bits, const char *what)
{
	for (int i = 0; i < GIC_WAIT_LOOPS; i++)
		if (!(mmio_read32(reg) & bits))
			return 0;
	printf("hv: GICv3: %s did not complete\n", what);
	return -ETIMEDOUT;
}

static int gicv3_init_dist(const struct board_gic *g)
{
	gicd = g->dist;
	gicd_lines = MIN(GICD_TYPER_LINES(mmio_read32(gicd + GICD_TYPER)),
			 (u32)GIC_MAX_INTID);
	gicr_region = g->redist_or_cpuif;
	gicr_region_size = g->redist_or_cpuif_size;
	/* Affinity routing first, then group 1; RWP says when it took. */
	mmio_write32(gicd + GICD_CTLR, GICD_CTLR_ARE);
	if (wait_clear32(gicd + GICD_CTLR, GICD_CTLR_RWP, "GICD_CTLR write"))
		return -ETIMEDOUT;
	mmio_write32(gicd + GICD_CTLR, GICD_CTLR_ARE | GICD_CTLR_ENGRP1);
	return wait_clear32(gicd + GICD_CTLR, GICD_CTLR_RWP, "GICD_CTLR write");
}

/* GICR_TYPER[63:32] holds Aff3.Aff2.Aff1.Aff0 of the frame's CPU. */
static u32 mpidr_to_typer_aff(u64 mpidr)
{
	return (u32)(MPIDR_AFF3(mpidr) << 24 | MPIDR_AFF2(mpidr) << 16 |
		     MPIDR_AFF1(mpidr) << 8 | MPIDR_AFF0(mpidr));
}

static paddr_t find_redistributor(u64 mpidr)
{
	u32 aff = mpidr_to_typer_aff(mpidr);
	paddr_t rd = gicr_region;

	while (rd + 2 * GICR_FRAME <= gicr_region + gicr_region_size) {
		u64 typer = mmio_read64(rd + GICR_TYPER);

		if ((u32)(typer >> 32) == aff)
			return rd;
		if (typer & GICR_TYPER_LAST)
			break;
		rd += (typer & GICR_TYPER_VLPIS) ? 4 * GICR_FRAME : 2 * GICR_FRAME;
	}
	return 0;
}

static int gicv3_init_cpu(unsigned int cpu)
{
	paddr_t rd = find_redistributor(cpus[cpu].mpidr);
	paddr_t sgi;

	if (!rd) {
		printf("hv: GICv3: no redistributor for CPU %u (MPIDR 0x%llx)\n",
		       cpu, (unsigned long long)cpus[cpu].mpidr);
		return -ENOENT;
	}
	gicr[cpu] = rd;
	mmio_write32(rd + GICR_WAKER,
		     mmio_read32(rd + GICR_WAKER) & ~GICR_WAKER_SLEEP);
	if (wait_clear32(rd + GICR_WAKER, GICR_WAKER_ASLEEP, "redistributor wake-up"))
		return -ETIMEDOUT;
	sgi = rd + GICR_FRAME;
	mmio_write32(sgi + GICR_IGROUPR0, ~0u);    /* SGIs/PPIs: group 1 */

	write_sysreg(ICC_SRE_EL2, ICC_SRE_SRE | ICC_SRE_ENABLE);
	isb();    /* system-register interface on before using it */
	write_sysreg(ICC_PMR_EL1, 0xff);
	write_sysreg(ICC_BPR1_EL1, 0);
	write_sysreg(ICC_CTLR_EL1, ICC_CTLR_EOIMODE);
	write_sysreg(ICC_IGRPEN1_EL1, 1);
	isb();
	return 0;
}

static u32 gicv3_ack(u32 *intid)
{
	u32 iar = (u32)read_sysreg(ICC_IAR1_EL1);

	/* The acknowledge is done before the handler runs, and before the
	 * handler table is read (pairs with gic_request_spi()'s dsb). */
	dsb(sy);
	*intid = iar & 0xffffff;
	return iar;
}

static void gicv3_eoi(u32 raw)
{
	write_sysreg(ICC_EOIR1_EL1, raw);
	isb();
}

static void gicv3_deactivate(u32 raw)
{
	write_sysreg(ICC_DIR_EL1, raw);
	isb();
}

static void gicv3_enable_private(u32 intid, u8 priority)
{
	paddr_t sgi = gicr[this_cpu()->index] + GICR_FRAME;

	mmio_write8(sgi + GICR_IPRIORITYR + intid, priority);
	mmio_write32(sgi + GICR_ISENABLER0, 1u << intid);
}

/* IROUTER value naming one CPU (Interrupt_Routing_Mode 0). */
static u64 mpidr_to_irouter(u64 mpidr)
{
	return MPIDR_AFF3(mpidr) << 32 | MPIDR_AFF2(mpidr) << 16 |
	       MPIDR_AFF1(mpidr) << 8 | MPIDR_AFF0(mpidr);
}

/* Caller serialises (gic_request_spi's lock): IGROUPR is shared. */
static int gicv3_route_spi(u32 intid, unsigned int cpu, u8 priority)
{
	paddr_t grp = gicd + GICD_IGROUPR + 4 * (u64)(intid / 32);
	u32 bit = 1u << (intid % 32);

	if (intid >= gicd_lines)
		return -EINVAL;
	mmio_write8(gicd + GICD_IPRIORITYR + intid, priority);
	mmio_write64(gicd + GICD_IROUTER + 8 * (u64)intid, mpidr_to_irouter(cpus[cpu].mpidr));
	mmio_write32(grp, mmio_read32(grp) | bit);
	mmio_write32(gicd + GICD_ISENABLER + 4 * (u64)(intid / 32), bit);
	return 0;
}

static void gicv3_send_sgi(u32 intid, unsigned int cpu)
{
	u64 m = cpus[cpu].mpidr;
	u64 v = MPIDR_AFF3(m) << 48 | MPIDR_AFF2(m) << 32 |
		(u64)intid << 24 | MPIDR_AFF1(m) << 16 |
		(MPIDR_AFF0(m) >> 4) << 44 | (1u << (MPIDR_AFF0(m) & 0xf));

	dsb(ishst);    /* memory the receiver will read is visible first */
	write_sysreg(ICC_SGI1R_EL1, v);
	isb();
}

const struct gic_ops gicv3_ops = {
	.name = "GICv3",
	.init_dist = gicv3_init_dist,
	.init_cpu = gicv3_init_cpu,
	.ack = gicv3_ack,
	.eoi = gicv3_eoi,
	.deactivate = gicv3_deactivate,
	.enable_private = gicv3_enable_private,
	.route_spi = gicv3_route_spi,
	.send_sgi = gicv3_send_sgi,
};
