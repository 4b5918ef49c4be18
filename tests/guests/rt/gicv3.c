/*
 * GICv3 as a guest drives it: distributor and redistributors by MMIO at
 * the guest map's addresses, the CPU interface through ICC_* system
 * registers, everything in non-secure group 1.
 */
#include "arch/arm64/barrier.h"
#include "arch/arm64/mmio.h"
#include "arch/arm64/sysreg.h"
#include "tests/guests/rt/gic.h"
#include "tests/guests/rt/rt.h"
#include "tests/guests/rt/timer.h"
#include "virt/guest_map.h"

#define GICD_CTLR 0x0000
#define GICD_CTLR_RWP (1u << 31)
#define GICD_CTLR_ARE (1u << 4)        /* ARE_NS, or ARE when DS = 1 */
#define GICD_CTLR_ENGRP1A (1u << 1)    /* EnableGrp1A, or EnableGrp1 if DS = 1 */
#define GICD_CTLR_ENGRP1 (1u << 0)     /* EnableGrp1 (NS view), or EnableGrp0 */

#define GICR_FRAME 0x10000ULL           /* RD_base, then SGI_base */
#define GICR_TYPER 0x0008
#define GICR_TYPER_VLPIS (1u << 1)      /* two more frames per redistributor */
#define GICR_TYPER_LAST (1u << 4)
#define GICR_WAKER 0x0014
#define GICR_WAKER_SLEEP (1u << 1)
#define GICR_WAKER_ASLEEP (1u << 2)
#define GICR_IGROUPR0 0x0080            /* in the SGI frame */
#define GICR_ISENABLER0 0x0100
#define GICR_IPRIORITYR 0x0400

#define ICC_SRE_SRE (1u << 0)
#define ICC_IAR_INTID(v) ((v) & 0xffffff)

/* ICC_SGI1R_EL1 fields */
#define SGI1R_TARGETS(aff0) (1ULL << ((aff0) & 0xf))
#define SGI1R_AFF1(a) ((u64)(a) << 16)
#define SGI1R_INTID(i) ((u64)(i) << 24)
#define SGI1R_AFF2(a) ((u64)(a) << 32)
#define SGI1R_RS(aff0) ((u64)((aff0) >> 4) << 44)
#define SGI1R_AFF3(a) ((u64)(a) << 48)

#define GIC_WAIT_MS 1000

/* Each vCPU's redistributor (RD_base), found by affinity. */
static paddr_t gicr[RT_MAX_CPUS];

static void wait_clear(paddr_t reg, u32 bits, const char *what)
{
	u64 deadline = rt_deadline_ms(GIC_WAIT_MS);

	while (mmio_read32(reg) & bits)
		if (rt_past(deadline))
			rt_fail("GICv3: %s did not complete", what);
}

static void gicv3_init_dist(void)
{
	/* Affinity routing first, then the groups; RWP says when each took. */
	mmio_write32(GUEST_GICD_BASE + GICD_CTLR, GICD_CTLR_ARE);
	wait_clear(GUEST_GICD_BASE + GICD_CTLR, GICD_CTLR_RWP, "GICD_CTLR write");
	mmio_write32(GUEST_GICD_BASE + GICD_CTLR,
		     GICD_CTLR_ARE | GICD_CTLR_ENGRP1A | GICD_CTLR_ENGRP1);
	wait_clear(GUEST_GICD_BASE + GICD_CTLR, GICD_CTLR_RWP, "GICD_CTLR write");
}

/* GICR_TYPER[63:32] holds Aff3.Aff2.Aff1.Aff0 of the frame's CPU. */
static u32 typer_affinity(u64 mpidr)
{
	return (u32)(MPIDR_AFF3(mpidr) << 24 | MPIDR_AFF2(mpidr) << 16 |
		     MPIDR_AFF1(mpidr) << 8 | MPIDR_AFF0(mpidr));
}

/* Walk the redistributor region the DTB gives until the frame of @mpidr. */
static paddr_t find_redistributor(u64 mpidr)
{
	paddr_t end = GUEST_GICR_BASE + rt_board.gic.redist_or_cpuif_size;
	paddr_t rd = GUEST_GICR_BASE;
	u32 aff = typer_affinity(mpidr);

	while (rd + 2 * GICR_FRAME <= end) {
		u64 typer = mmio_read64(rd + GICR_TYPER);

		if ((u32)(typer >> 32) == aff)
			return rd;
		if (typer & GICR_TYPER_LAST)
			break;
		rd += (typer & GICR_TYPER_VLPIS) ? 4 * GICR_FRAME : 2 * GICR_FRAME;
	}
	rt_fail("GICv3: no redistributor for MPIDR 0x%llx",
		(unsigned long long)mpidr);
}

static void gicv3_init_cpu(unsigned int cpu)
{
	paddr_t rd = find_redistributor(rt_cpu_mpidr(cpu));

	gicr[cpu] = rd;
	mmio_write32(rd + GICR_WAKER,
		     mmio_read32(rd + GICR_WAKER) & ~GICR_WAKER_SLEEP);
	wait_clear(rd + GICR_WAKER, GICR_WAKER_ASLEEP, "redistributor wake-up");
	mmio_write32(rd + GICR_FRAME + GICR_IGROUPR0, ~0u);   /* group 1 */

	write_sysreg(ICC_SRE_EL1, read_sysreg(ICC_SRE_EL1) | ICC_SRE_SRE);
	isb();    /* the system-register interface is on before we use it */
	if (!(read_sysreg(ICC_SRE_EL1) & ICC_SRE_SRE))
		rt_fail("GICv3: ICC_SRE_EL1.SRE stays 0: no system-register interface");
	write_sysreg(ICC_PMR_EL1, 0xff);
	write_sysreg(ICC_BPR1_EL1, 0);
	write_sysreg(ICC_CTLR_EL1, 0);    /* EOI both drops and deactivates */
	write_sysreg(ICC_IGRPEN1_EL1, 1);
	isb();    /* the CPU interface is on before interrupts are unmasked */
}

static u32 gicv3_ack(u32 *intid, int *source)
{
	u32 iar = (u32)read_sysreg(ICC_IAR1_EL1);

	*intid = ICC_IAR_INTID(iar);
	*source = -1;    /* GICv3 does not say who sent an SGI */
	return iar;
}

static void gicv3_eoi(u32 raw)
{
	write_sysreg(ICC_EOIR1_EL1, raw);
	isb();    /* the interrupt is completed before we return from it */
}

static void gicv3_enable_private(unsigned int cpu, u32 intid, u8 prio)
{
	paddr_t sgi = gicr[cpu] + GICR_FRAME;

	mmio_write8(sgi + GICR_IPRIORITYR + intid, prio);
	mmio_write32(sgi + GICR_ISENABLER0, 1u << intid);
}

static void gicv3_send_sgi(u32 intid, unsigned int cpu)
{
	u64 m = rt_cpu_mpidr(cpu);

	/* Pairs with the receiver's reads after it acknowledges: our
	 * earlier writes are visible before the SGI can arrive. */
	dsb(ish);
	write_sysreg(ICC_SGI1R_EL1,
		     SGI1R_AFF3(MPIDR_AFF3(m)) | SGI1R_AFF2(MPIDR_AFF2(m)) |
		     SGI1R_AFF1(MPIDR_AFF1(m)) | SGI1R_RS(MPIDR_AFF0(m)) |
		     SGI1R_TARGETS(MPIDR_AFF0(m)) | SGI1R_INTID(intid));
	isb();    /* the SGI is on its way before we go on */
}

const struct rt_gic_ops rt_gicv3_ops = {
	.name = "GICv3",
	.init_dist = gicv3_init_dist,
	.init_cpu = gicv3_init_cpu,
	.ack = gicv3_ack,
	.eoi = gicv3_eoi,
	.enable_private = gicv3_enable_private,
	.send_sgi = gicv3_send_sgi,
};
