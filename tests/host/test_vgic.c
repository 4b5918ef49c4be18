/*
 * The vGIC model (virt/vgic.c) on the host. The real GICv2 and GICv3
 * list-register formats run over fake CPU interfaces, one per physical
 * CPU, and a fake guest acknowledges and EOIs what the list registers
 * hold, as the hardware would. Threads play physical CPUs in the race
 * tests, which a second binary runs under ThreadSanitizer.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "lib/compiler.h"
#include "lib/errno.h"
#include "tests/host/test.h"
#include "virt/vgic.h"
#include "virt/vm.h"

#ifdef VGIC_RACES_ONLY
/* The TSan binary registers only the race tests. */
#define UNIT_TEST(name) static __attribute__((unused)) void name(void)
#else
#define UNIT_TEST(name) TEST(name)
#endif

/* Register offsets, as the architecture specification gives them. */
#define GICD_CTLR 0x0000
#define GICD_TYPER 0x0004
#define GICD_IIDR 0x0008
#define GICD_TYPER2 0x000c
#define GICD_IGROUPR(n) (0x0080 + 4 * (n))
#define GICD_ISENABLER(n) (0x0100 + 4 * (n))
#define GICD_ICENABLER(n) (0x0180 + 4 * (n))
#define GICD_ISPENDR(n) (0x0200 + 4 * (n))
#define GICD_ICPENDR(n) (0x0280 + 4 * (n))
#define GICD_ISACTIVER(n) (0x0300 + 4 * (n))
#define GICD_ICACTIVER(n) (0x0380 + 4 * (n))
#define GICD_IPRIORITYR(id) (0x0400 + (id))
#define GICD_ITARGETSR(id) (0x0800 + (id))
#define GICD_ICFGR(n) (0x0c00 + 4 * (n))
#define GICD_SGIR 0x0f00
#define GICD_CPENDSGIR(sgi) (0x0f10 + (sgi))
#define GICD_SPENDSGIR(sgi) (0x0f20 + (sgi))
#define GICD_IROUTER(id) (0x6000 + 8 * (id))
#define GICD_PIDR2_V3 0xffe8
#define GICD_PIDR2_V2 0x0fe8
#define RD(cpu) ((u64)(cpu) * GUEST_GICR_STRIDE)
#define SGI_FRAME(cpu) (RD(cpu) + 0x10000)
#define GICR_CTLR 0x0000
#define GICR_IIDR 0x0004
#define GICR_TYPER 0x0008
#define GICR_WAKER 0x0014
#define GICR_PIDR2 0xffe8

#define CTLR_GRP0 1u
#define CTLR_GRP1 2u
#define CTLR_ARE_DS 0x50u
#define IROUTER_IRM (1ULL << 31)
#define SGI1R(intid, targets) ((u64)(intid) << 24 | (targets))
#define SGIR_LIST(intid, targets) ((u32)(targets) << 16 | (intid))
#define SGIR_OTHERS(intid) (1u << 24 | (intid))
#define SGIR_SELF(intid) (2u << 24 | (intid))
#define NO_INTID 1023u
#define BAD 0xbadbadbadbadbadbULL
#define P VGIC_LR_PENDING
#define A VGIC_LR_ACTIVE

/* ----------------------------------------------- fake CPU interfaces */

#define NCPU 8

struct fake_cpu {
	u64 lr[VGIC_MAX_LRS];
	u32 hcr;
	struct vgic_vmcr vmcr;
	u32 phys_active;         /* forwarded PPIs the physical GIC holds active */
	unsigned int lr_reads, lr_writes, hcr_writes, deactivations;
	unsigned int eoi_maint;  /* LRs that raised EOI maintenance */
	bool bad_lr;             /* an LR beyond the implemented ones was used */
};

static struct fake_cpu fcpu[NCPU];
static __thread unsigned int cur;     /* the physical CPU this thread is */
static const struct vgic_hw_ops *fake;
static unsigned int nlrs;

static u64 f_read_lr(unsigned int i)
{
	fcpu[cur].lr_reads++;
	if (i >= nlrs)
		fcpu[cur].bad_lr = true;
	return fcpu[cur].lr[i % VGIC_MAX_LRS];
}

static void f_write_lr(unsigned int i, u64 raw)
{
	fcpu[cur].lr_writes++;
	if (i >= nlrs)
		fcpu[cur].bad_lr = true;
	fcpu[cur].lr[i % VGIC_MAX_LRS] = raw;
}

static void f_write_hcr(u32 hcr)
{
	fcpu[cur].hcr_writes++;
	fcpu[cur].hcr = hcr;
}

static struct vgic_vmcr f_read_vmcr(void)
{
	return fcpu[cur].vmcr;
}

static void f_reset_cpu(void)
{
	memset(fcpu[cur].lr, 0, sizeof(fcpu[cur].lr));
	fcpu[cur].hcr = 0;
}

static void f_deactivate(u32 intid)
{
	fcpu[cur].deactivations++;
	fcpu[cur].phys_active &= ~(1u << intid);
}

static const struct vgic_hw_ops fake_v3 = {
	.version = GIC_V3,
	.lr_encode = vgic_v3_lr_encode,
	.lr_decode = vgic_v3_lr_decode,
	.read_lr = f_read_lr,
	.write_lr = f_write_lr,
	.write_hcr = f_write_hcr,
	.read_vmcr = f_read_vmcr,
	.reset_cpu = f_reset_cpu,
	.deactivate = f_deactivate,
};

static const struct vgic_hw_ops fake_v2 = {
	.version = GIC_V2,
	.lr_encode = vgic_v2_lr_encode,
	.lr_decode = vgic_v2_lr_decode,
	.read_lr = f_read_lr,
	.write_lr = f_write_lr,
	.write_hcr = f_write_hcr,
	.read_vmcr = f_read_vmcr,
	.reset_cpu = f_reset_cpu,
	.deactivate = f_deactivate,
};

/* ------------------------------------------- what the hypervisor provides */

static u32 kicked;    /* vCPUs kicked, by index (atomic) */

void vcpu_kick(struct vcpu *v)
{
	__atomic_fetch_or(&kicked, 1u << v->index, __ATOMIC_RELAXED);
}

unsigned int arch_cpu_index(void)
{
	return cur;
}

u64 arch_irq_save(void)
{
	return 0;
}

void arch_irq_restore(u64 flags)
{
	(void)flags;
}

/* ------------------------------------------------------ the fake guest */

static struct vgic_lr lr_get(unsigned int c, unsigned int i)
{
	struct vgic_lr lr;

	fake->lr_decode(fcpu[c].lr[i], &lr);
	return lr;
}

/* The guest acknowledges the highest-priority pending LR on CPU @c:
 * returns its INTID (NO_INTID if none), and the GICv2 source. */
static u32 guest_ack_src(unsigned int c, u8 *source)
{
	int best = -1;
	struct vgic_lr b = { 0 };

	for (unsigned int i = 0; i < nlrs; i++) {
		struct vgic_lr lr = lr_get(c, i);

		if (lr.state == P && (best < 0 || lr.priority < b.priority)) {
			best = (int)i;
			b = lr;
		}
	}
	if (best < 0)
		return NO_INTID;
	b.state = A;
	fcpu[c].lr[best] = fake->lr_encode(&b);
	if (source)
		*source = b.source;
	return b.intid;
}

static u32 guest_ack(unsigned int c)
{
	return guest_ack_src(c, NULL);
}

/* EOI with EOImode 0: drop and deactivate; the hardware deactivates a
 * linked physical interrupt and raises EOI maintenance if asked. */
static bool guest_eoi(unsigned int c, u32 intid)
{
	for (unsigned int i = 0; i < nlrs; i++) {
		struct vgic_lr lr = lr_get(c, i);

		if (lr.intid != intid || !(lr.state & A))
			continue;
		lr.state &= ~A;
		if (!lr.state && lr.hw)
			fcpu[c].phys_active &= ~(1u << intid);
		if (!lr.state && lr.eoi_maint)
			fcpu[c].eoi_maint++;
		fcpu[c].lr[i] = fake->lr_encode(&lr);
		return true;
	}
	return false;
}

/* The LR holding @intid on CPU @c, or one with state 0. */
static struct vgic_lr lr_of(unsigned int c, u32 intid)
{
	for (unsigned int i = 0; i < nlrs; i++) {
		struct vgic_lr lr = lr_get(c, i);

		if (lr.state && lr.intid == intid)
			return lr;
	}
	return (struct vgic_lr){ .intid = NO_INTID };
}

static unsigned int lrs_valid(unsigned int c)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < nlrs; i++)
		n += lr_get(c, i).state != 0;
	return n;
}

/* ------------------------------------------------------------ the VM */

static struct vm vm;
static struct vcpu vcpus[VM_MAX_VCPUS];

/* An exit and the next entry of vCPU @i, on its own CPU. */
static void run_turn(unsigned int i)
{
	cur = i;
	vgic_sync(&vcpus[i]);
	vgic_flush(&vcpus[i]);
}

static void reset_counters(void)
{
	for (unsigned int i = 0; i < NCPU; i++) {
		fcpu[i].lr_reads = fcpu[i].lr_writes = fcpu[i].hcr_writes = 0;
		fcpu[i].deactivations = fcpu[i].eoi_maint = 0;
	}
	kicked = 0;
	cur = 0;
}

static void setup(enum gic_version version, unsigned int n, unsigned int lrs)
{
	memset(&vm, 0, sizeof(vm));
	memset(vcpus, 0, sizeof(vcpus));
	memset(fcpu, 0, sizeof(fcpu));
	vm.name = "test";
	vm.nr_vcpus = n;
	for (unsigned int i = 0; i < n; i++) {
		vcpus[i].vm = &vm;
		vcpus[i].index = i;
		vcpus[i].pcpu = i;
		vm.vcpus[i] = &vcpus[i];
		fcpu[i].vmcr = (struct vgic_vmcr){ .pmr = 0xff, .grp0_en = true,
						   .grp1_en = true };
	}
	nlrs = lrs;
	fake = version == GIC_V3 ? &fake_v3 : &fake_v2;
	vgic_use_hw(fake, lrs);
	if (vgic_init(&vm))
		abort();
	for (unsigned int i = 0; i < n; i++) {
		cur = i;
		vgic_vcpu_reset(&vcpus[i]);
		vgic_flush(&vcpus[i]);
	}
	reset_counters();
}

static u64 dread(unsigned int v, u64 off, unsigned int size)
{
	u64 val = BAD;

	return vgic_dist_mmio(&vcpus[v], off, size, false, &val) ? BAD : val;
}

static int dwrite(unsigned int v, u64 off, unsigned int size, u64 val)
{
	return vgic_dist_mmio(&vcpus[v], off, size, true, &val);
}

static u64 rread(unsigned int v, u64 off, unsigned int size)
{
	u64 val = BAD;

	return vgic_redist_mmio(&vcpus[v], off, size, false, &val) ? BAD : val;
}

static int rwrite(unsigned int v, u64 off, unsigned int size, u64 val)
{
	return vgic_redist_mmio(&vcpus[v], off, size, true, &val);
}

/* Distributor on for both groups, SPI @intid enabled with @prio. */
static void spi_on(u32 intid, u8 prio)
{
	dwrite(0, GICD_CTLR, 4, CTLR_GRP0 | CTLR_GRP1);
	dwrite(0, GICD_IPRIORITYR(intid), 1, prio);
	dwrite(0, GICD_ISENABLER(intid / 32), 4, 1u << (intid % 32));
}

static bool bit_set(u64 reg, u32 intid)
{
	return reg != BAD && (reg >> (intid % 32)) & 1;
}

/* ================================================== GICv3 distributor */

UNIT_TEST(gicd_v3_identifies_itself)
{
	setup(GIC_V3, 2, 4);
	CHECK_EQ(dread(0, GICD_TYPER, 4), 9u << 19 | 2);   /* 10 ID bits, 96 INTIDs */
	CHECK_EQ(dread(0, GICD_IIDR, 4), 0x4800043b);
	CHECK_EQ(dread(0, GICD_TYPER2, 4), 0);
	CHECK_EQ((dread(0, GICD_PIDR2_V3, 4) >> 4) & 0xf, 3);
	CHECK_EQ(dread(0, GICD_CTLR, 4), CTLR_ARE_DS);
}

UNIT_TEST(gicd_ctlr_keeps_only_the_group_enables)
{
	setup(GIC_V3, 1, 4);
	CHECK_EQ(dwrite(0, GICD_CTLR, 4, 0xffffffff), 0);
	CHECK_EQ(dread(0, GICD_CTLR, 4), CTLR_ARE_DS | 3);
	CHECK_EQ(dwrite(0, GICD_CTLR, 4, 0), 0);
	CHECK_EQ(dread(0, GICD_CTLR, 4), CTLR_ARE_DS);
}

UNIT_TEST(gicd_enable_set_and_clear)
{
	setup(GIC_V3, 1, 4);
	CHECK_EQ(dwrite(0, GICD_ISENABLER(1), 4, 0x5), 0);
	CHECK_EQ(dread(0, GICD_ISENABLER(1), 4), 0x5);
	CHECK_EQ(dread(0, GICD_ICENABLER(1), 4), 0x5);
	CHECK_EQ(dwrite(0, GICD_ICENABLER(1), 4, 0x1), 0);
	CHECK_EQ(dread(0, GICD_ISENABLER(1), 4), 0x4);
}

UNIT_TEST(gicd_pending_and_active_set_and_clear)
{
	setup(GIC_V3, 1, 4);
	CHECK_EQ(dwrite(0, GICD_ISPENDR(2), 4, 0x30), 0);
	CHECK_EQ(dread(0, GICD_ICPENDR(2), 4), 0x30);
	CHECK_EQ(dwrite(0, GICD_ICPENDR(2), 4, 0x10), 0);
	CHECK_EQ(dread(0, GICD_ISPENDR(2), 4), 0x20);
	CHECK_EQ(dwrite(0, GICD_ISACTIVER(1), 4, 0x3), 0);
	CHECK_EQ(dread(0, GICD_ICACTIVER(1), 4), 0x3);
	CHECK_EQ(dwrite(0, GICD_ICACTIVER(1), 4, 0x1), 0);
	CHECK_EQ(dread(0, GICD_ISACTIVER(1), 4), 0x2);
}

UNIT_TEST(gicd_v3_private_interrupt_registers_are_raz_wi)
{
	setup(GIC_V3, 1, 4);
	CHECK_EQ(dwrite(0, GICD_ICENABLER(0), 4, 0xffffffff), 0);
	CHECK_EQ(dread(0, GICD_ISENABLER(0), 4), 0);
	CHECK_EQ(dwrite(0, GICD_IPRIORITYR(3), 1, 0x80), 0);
	CHECK_EQ(dread(0, GICD_IPRIORITYR(3), 1), 0);
	/* The redistributor's copy is untouched: SGIs enabled at reset. */
	CHECK_EQ(rread(0, SGI_FRAME(0) + GICD_ISENABLER(0), 4), 0xffff);
}

UNIT_TEST(priorities_keep_five_bits_in_bytes_and_words)
{
	setup(GIC_V3, 1, 4);
	CHECK_EQ(dwrite(0, GICD_IPRIORITYR(40), 1, 0xff), 0);
	CHECK_EQ(dread(0, GICD_IPRIORITYR(40), 1), 0xf8);
	CHECK_EQ(dwrite(0, GICD_IPRIORITYR(32), 4, 0x11223344), 0);
	CHECK_EQ(dread(0, GICD_IPRIORITYR(32), 4), 0x10203040);
	CHECK_EQ(dread(0, GICD_IPRIORITYR(33), 1), 0x30);
	CHECK_EQ(rwrite(0, SGI_FRAME(0) + GICD_IPRIORITYR(27), 1, 0xa7), 0);
	CHECK_EQ(rread(0, SGI_FRAME(0) + GICD_IPRIORITYR(24), 4), 0xa0000000);
}

UNIT_TEST(icfgr_configures_spis_and_ppis_not_sgis)
{
	setup(GIC_V3, 1, 4);
	CHECK_EQ(dread(0, GICD_ICFGR(2), 4), 0);            /* SPIs: level */
	CHECK_EQ(dwrite(0, GICD_ICFGR(2), 4, 0x2), 0);
	CHECK_EQ(dread(0, GICD_ICFGR(2), 4), 0x2);
	CHECK_EQ(dwrite(0, GICD_ICFGR(2), 4, 0xffffffff), 0);
	CHECK_EQ(dread(0, GICD_ICFGR(2), 4), 0xaaaaaaaa);
	CHECK_EQ(rread(0, SGI_FRAME(0) + GICD_ICFGR(0), 4), 0xaaaaaaaa);
	CHECK_EQ(rwrite(0, SGI_FRAME(0) + GICD_ICFGR(0), 4, 0), 0);
	CHECK_EQ(rread(0, SGI_FRAME(0) + GICD_ICFGR(0), 4), 0xaaaaaaaa);
	CHECK_EQ(rwrite(0, SGI_FRAME(0) + GICD_ICFGR(1), 4, 0x8), 0);
	CHECK_EQ(rread(0, SGI_FRAME(0) + GICD_ICFGR(1), 4), 0x8);
}

UNIT_TEST(irouter_takes_64_and_32_bit_accesses)
{
	setup(GIC_V3, 2, 4);
	CHECK_EQ(dwrite(0, GICD_IROUTER(40), 8, ~0ULL), 0);
	CHECK_EQ(dread(0, GICD_IROUTER(40), 8), 0xff80ffffffULL);  /* RES0 bits */
	CHECK_EQ(dwrite(0, GICD_IROUTER(40), 4, 1), 0);
	CHECK_EQ(dread(0, GICD_IROUTER(40), 8), 0xff00000001ULL);
	CHECK_EQ(dread(0, GICD_IROUTER(40) + 4, 4), 0xff);
	CHECK_EQ(dwrite(0, GICD_IROUTER(5), 8, 1), 0);          /* no IROUTER for PPIs */
	CHECK_EQ(dread(0, GICD_IROUTER(5), 8), 0);
}

UNIT_TEST(irouter_delivers_to_the_named_vcpu_only)
{
	setup(GIC_V3, 4, 4);
	spi_on(40, 0x80);
	dwrite(0, GICD_IROUTER(40), 8, 2);
	kicked = 0;
	vgic_inject_edge(&vm, NULL, 40);
	CHECK_EQ(kicked, 1u << 2);
	run_turn(0);
	run_turn(2);
	CHECK_EQ(lr_of(0, 40).intid, NO_INTID);
	CHECK_EQ(lr_of(2, 40).state, P);
}

UNIT_TEST(irouter_naming_no_vcpu_delivers_nowhere)
{
	setup(GIC_V3, 2, 4);
	spi_on(40, 0x80);
	dwrite(0, GICD_IROUTER(40), 8, 0x100);    /* Aff1 = 1: no such vCPU */
	kicked = 0;
	vgic_inject_edge(&vm, NULL, 40);
	CHECK_EQ(kicked, 0);
	run_turn(0);
	run_turn(1);
	CHECK_EQ(lrs_valid(0) + lrs_valid(1), 0);
	CHECK(bit_set(dread(0, GICD_ISPENDR(1), 4), 40));
}

UNIT_TEST(irouter_irm_picks_an_awake_vcpu)
{
	setup(GIC_V3, 3, 4);
	spi_on(40, 0x80);
	CHECK_EQ(rwrite(1, RD(1) + GICR_WAKER, 4, 0), 0);
	dwrite(0, GICD_IROUTER(40), 8, IROUTER_IRM);
	vgic_inject_edge(&vm, NULL, 40);
	run_turn(0);
	run_turn(1);
	CHECK_EQ(lr_of(1, 40).state, P);
	CHECK_EQ(lr_of(0, 40).intid, NO_INTID);
}

/* ================================================= GICv3 redistributors */

UNIT_TEST(gicr_typer_gives_affinity_number_and_last)
{
	setup(GIC_V3, 3, 4);
	CHECK_EQ(rread(0, RD(1) + GICR_TYPER, 8), 1ULL << 32 | 1 << 8);
	CHECK_EQ(rread(0, RD(2) + GICR_TYPER, 8), 2ULL << 32 | 2 << 8 | 0x10);
	CHECK_EQ(rread(0, RD(2) + GICR_TYPER, 4), 2 << 8 | 0x10);
	CHECK_EQ(rread(0, RD(2) + GICR_TYPER + 4, 4), 2);
	CHECK_EQ((rread(0, RD(2) + GICR_PIDR2, 4) >> 4) & 0xf, 3);
	CHECK_EQ(rread(0, RD(0) + GICR_CTLR, 4), 0);
	CHECK_EQ(rread(0, RD(0) + GICR_IIDR, 4), 0x4800043b);
}

UNIT_TEST(gicr_waker_sleep_handshake)
{
	setup(GIC_V3, 1, 4);
	CHECK_EQ(rread(0, RD(0) + GICR_WAKER, 4), 6);   /* asleep at reset */
	CHECK_EQ(rwrite(0, RD(0) + GICR_WAKER, 4, 0), 0);
	CHECK_EQ(rread(0, RD(0) + GICR_WAKER, 4), 0);
	CHECK_EQ(rwrite(0, RD(0) + GICR_WAKER, 4, 2), 0);
	CHECK_EQ(rread(0, RD(0) + GICR_WAKER, 4), 6);
}

UNIT_TEST(gicr_registers_belong_to_the_frame_vcpu)
{
	setup(GIC_V3, 2, 4);
	CHECK_EQ(rwrite(0, SGI_FRAME(1) + GICD_ISENABLER(0), 4, 1u << 27), 0);
	CHECK_EQ(rread(1, SGI_FRAME(1) + GICD_ISENABLER(0), 4), 0xffff | 1u << 27);
	CHECK_EQ(rread(1, SGI_FRAME(0) + GICD_ISENABLER(0), 4), 0xffff);
	CHECK_EQ(rread(0, SGI_FRAME(1) + GICD_IGROUPR(0), 4), 0xffffffff);
	CHECK_EQ(rread(0, SGI_FRAME(1) + 0x0d00, 4), 0);      /* IGRPMODR0 */
}

/* ======================================================== GICv3 SGIs */

UNIT_TEST(sgi1r_target_list_reaches_the_listed_vcpus)
{
	setup(GIC_V3, 4, 4);
	vgic_sgi_sysreg(&vcpus[0], SGI1R(5, 0xa), false);
	CHECK_EQ(kicked, 0xa);
	for (unsigned int i = 0; i < 4; i++)
		CHECK_EQ(bit_set(rread(0, SGI_FRAME(i) + GICD_ISPENDR(0), 4), 5),
			 i == 1 || i == 3);
}

UNIT_TEST(sgi1r_affinity_outside_the_vm_reaches_nobody)
{
	setup(GIC_V3, 4, 4);
	vgic_sgi_sysreg(&vcpus[0], SGI1R(5, 1) | 1ULL << 44, false);   /* RS 1 */
	vgic_sgi_sysreg(&vcpus[0], SGI1R(5, 1) | 1ULL << 16, false);   /* Aff1 1 */
	vgic_sgi_sysreg(&vcpus[0], SGI1R(5, 1) | 1ULL << 48, false);   /* Aff3 1 */
	CHECK_EQ(kicked, 0);
	CHECK_EQ(rread(0, SGI_FRAME(0) + GICD_ISPENDR(0), 4), 0);
}

UNIT_TEST(sgi1r_irm_reaches_every_vcpu_but_the_sender)
{
	setup(GIC_V3, 4, 4);
	vgic_sgi_sysreg(&vcpus[2], SGI1R(7, 0) | 1ULL << 40, false);
	for (unsigned int i = 0; i < 4; i++)
		CHECK_EQ(bit_set(rread(0, SGI_FRAME(i) + GICD_ISPENDR(0), 4), 7), i != 2);
	CHECK_EQ(kicked, 0xb);
}

UNIT_TEST(sgi_to_self_does_not_kick)
{
	setup(GIC_V3, 2, 4);
	vgic_sgi_sysreg(&vcpus[0], SGI1R(1, 1), false);
	CHECK_EQ(kicked, 0);
	CHECK(bit_set(rread(0, SGI_FRAME(0) + GICD_ISPENDR(0), 4), 1));
}

UNIT_TEST(sgi0r_raises_only_group0_sgis)
{
	setup(GIC_V3, 2, 4);
	rwrite(1, SGI_FRAME(1) + GICD_IGROUPR(0), 4, ~(1u << 3));  /* SGI 3: group 0 */
	vgic_sgi_sysreg(&vcpus[0], SGI1R(3, 2), true);
	vgic_sgi_sysreg(&vcpus[0], SGI1R(4, 2), true);
	CHECK_EQ(rread(1, SGI_FRAME(1) + GICD_ISPENDR(0), 4), 1u << 3);
	vgic_sgi_sysreg(&vcpus[0], SGI1R(4, 2), false);
	CHECK_EQ(rread(1, SGI_FRAME(1) + GICD_ISPENDR(0), 4), 1u << 3 | 1u << 4);
}

/* ================================================== GICv2 distributor */

UNIT_TEST(gicd_v2_identifies_itself)
{
	setup(GIC_V2, 3, 4);
	CHECK_EQ(dread(0, GICD_TYPER, 4), 2u << 5 | 2);     /* 3 CPUs, 96 INTIDs */
	CHECK_EQ((dread(0, GICD_PIDR2_V2, 4) >> 4) & 0xf, 2);
	CHECK_EQ(dread(0, GICD_CTLR, 4), 0);
	CHECK_EQ(dread(0, GICD_IGROUPR(1), 4), 0);            /* group 0 at reset */
}

UNIT_TEST(gicd_v2_private_bank_is_the_callers)
{
	setup(GIC_V2, 2, 4);
	CHECK_EQ(dwrite(1, GICD_ISENABLER(0), 4, 1u << 20), 0);
	CHECK_EQ(dread(1, GICD_ISENABLER(0), 4), 0xffff | 1u << 20);
	CHECK_EQ(dread(0, GICD_ISENABLER(0), 4), 0xffff);
}

UNIT_TEST(gicd_v2_itargetsr_private_read_only_spis_masked)
{
	setup(GIC_V2, 3, 4);
	CHECK_EQ(dread(1, GICD_ITARGETSR(0), 4), 0x02020202);
	CHECK_EQ(dread(2, GICD_ITARGETSR(31), 1), 0x04);
	CHECK_EQ(dwrite(2, GICD_ITARGETSR(28), 4, 0), 0);
	CHECK_EQ(dread(2, GICD_ITARGETSR(28), 4), 0x04040404);
	CHECK_EQ(dwrite(0, GICD_ITARGETSR(40), 1, 0xff), 0);
	CHECK_EQ(dread(0, GICD_ITARGETSR(40), 1), 0x07);
	CHECK_EQ(dwrite(0, GICD_ITARGETSR(40), 4, 0x01020304), 0);
	CHECK_EQ(dread(0, GICD_ITARGETSR(40), 4), 0x01020304);
}

UNIT_TEST(gicd_v2_spi_goes_to_lowest_target)
{
	setup(GIC_V2, 3, 4);
	spi_on(40, 0x80);
	dwrite(0, GICD_ITARGETSR(40), 1, 0x6);
	kicked = 0;
	vgic_inject_edge(&vm, NULL, 40);
	CHECK_EQ(kicked, 1u << 1);
	run_turn(1);
	CHECK_EQ(lr_of(1, 40).state, P);
}

UNIT_TEST(gicd_v2_sgir_list_others_and_self)
{
	setup(GIC_V2, 4, 4);
	CHECK_EQ(dwrite(1, GICD_SGIR, 4, SGIR_LIST(2, 0x5)), 0);
	CHECK_EQ(dread(0, GICD_SPENDSGIR(2), 1), 0x2);       /* from vCPU 1 */
	CHECK_EQ(dread(2, GICD_SPENDSGIR(2), 1), 0x2);
	CHECK_EQ(dread(3, GICD_SPENDSGIR(2), 1), 0);
	CHECK_EQ(dwrite(1, GICD_SGIR, 4, SGIR_OTHERS(3)), 0);
	CHECK_EQ(dread(1, GICD_SPENDSGIR(3), 1), 0);
	CHECK_EQ(dread(3, GICD_SPENDSGIR(3), 1), 0x2);
	CHECK_EQ(dwrite(1, GICD_SGIR, 4, SGIR_SELF(4)), 0);
	CHECK_EQ(dread(1, GICD_SPENDSGIR(4), 1), 0x2);
	CHECK_EQ(dread(0, GICD_SPENDSGIR(4), 1), 0);
	CHECK_EQ(dwrite(1, GICD_SGIR, 4, 3u << 24 | 5), 0);   /* reserved filter */
	CHECK_EQ(dread(1, GICD_SPENDSGIR(4), 4), 0x2);
	CHECK(bit_set(dread(0, GICD_ISPENDR(0), 4), 2));
}

UNIT_TEST(gicd_v2_sgi_sources_set_and_clear)
{
	setup(GIC_V2, 3, 4);
	CHECK_EQ(dwrite(0, GICD_SPENDSGIR(1), 1, 0xfe), 0);
	CHECK_EQ(dread(0, GICD_CPENDSGIR(1), 1), 0x06);      /* 3 vCPUs */
	CHECK_EQ(dwrite(0, GICD_CPENDSGIR(1), 1, 0x02), 0);
	CHECK_EQ(dread(0, GICD_SPENDSGIR(0), 4), 0x0400);
	CHECK_EQ(dread(0, GICD_ISPENDR(0), 4), 1u << 1);
	/* ISPENDR0/ICPENDR0 do not reach GICv2 SGIs. */
	CHECK_EQ(dwrite(0, GICD_ISPENDR(0), 4, 0x1), 0);
	CHECK_EQ(dwrite(0, GICD_ICPENDR(0), 4, 0x2), 0);
	CHECK_EQ(dread(0, GICD_ISPENDR(0), 4), 1u << 1);
}

/* ================================================= bad accesses, reserved */

UNIT_TEST(accesses_of_bad_size_or_alignment_are_rejected)
{
	u64 val;

	setup(GIC_V3, 2, 4);
	CHECK_EQ(vgic_dist_mmio(&vcpus[0], GICD_ISENABLER(1), 2, false, &val), -EINVAL);
	CHECK_EQ(vgic_dist_mmio(&vcpus[0], GICD_ISENABLER(1) + 2, 4, false, &val), -EINVAL);
	CHECK_EQ(vgic_dist_mmio(&vcpus[0], GICD_ISENABLER(1), 1, false, &val), -EINVAL);
	CHECK_EQ(vgic_dist_mmio(&vcpus[0], GICD_CTLR, 8, false, &val), -EINVAL);
	CHECK_EQ(vgic_dist_mmio(&vcpus[0], GICD_IROUTER(40) + 4, 8, false, &val), -EINVAL);
	CHECK_EQ(vgic_dist_mmio(&vcpus[0], GICD_IROUTER(40) + 1, 1, false, &val), -EINVAL);
	CHECK_EQ(vgic_dist_mmio(&vcpus[0], GICD_IPRIORITYR(41), 1, false, &val), 0);
	CHECK_EQ(vgic_dist_mmio(&vcpus[0], GICD_IPRIORITYR(41), 3, false, &val), -EINVAL);
	CHECK_EQ(vgic_dist_mmio(&vcpus[0], GUEST_GICD_SIZE, 4, false, &val), -ERANGE);
	CHECK_EQ(vgic_dist_mmio(&vcpus[0], GUEST_GICD_SIZE - 2, 4, false, &val), -ERANGE);
	CHECK_EQ(vgic_redist_mmio(&vcpus[0], RD(2), 4, false, &val), -ERANGE);
	CHECK_EQ(vgic_redist_mmio(&vcpus[0], RD(1) + GICR_TYPER + 4, 8, false, &val), -EINVAL);
	CHECK_EQ(vgic_redist_mmio(&vcpus[0], RD(1) + GICR_WAKER, 1, true, &val), -EINVAL);
	CHECK_EQ(vgic_redist_mmio(&vcpus[0], SGI_FRAME(1) + 0x4444, 1, false, &val), -EINVAL);
}

UNIT_TEST(redistributor_access_on_gicv2_is_refused)
{
	u64 val;

	setup(GIC_V2, 1, 4);
	CHECK_EQ(vgic_redist_mmio(&vcpus[0], 0, 4, false, &val), -ENOSYS);
}

UNIT_TEST(reserved_registers_read_zero_and_log_a_bounded_number_of_lines)
{
	setup(GIC_V3, 1, 4);
	CHECK_EQ(vm.vgic.log_left, 16);
	CHECK_EQ(dread(0, 0x0040, 4), 0);                /* SETSPI_NSR: no MBIS */
	CHECK_EQ(dwrite(0, 0x0040, 4, 1), 0);
	CHECK_EQ(rread(0, RD(0) + 0x0100, 8), 0);
	CHECK_EQ(vm.vgic.log_left, 13);
	for (int i = 0; i < 40; i++)
		CHECK_EQ(dread(0, 0x8000, 4), 0);
	CHECK_EQ(vm.vgic.log_left, 0);
	setup(GIC_V2, 1, 4);
	CHECK_EQ(dread(0, 0x1000, 4), 0);                /* past the GICv2 GICD */
	CHECK_EQ(vm.vgic.log_left, 15);
}

/* ============================================= list registers: flush */

UNIT_TEST(flush_and_sync_do_nothing_when_idle)
{
	setup(GIC_V3, 1, 4);
	for (int i = 0; i < 3; i++)
		run_turn(0);
	CHECK_EQ(fcpu[0].lr_reads, 0);
	CHECK_EQ(fcpu[0].lr_writes, 0);
	CHECK_EQ(fcpu[0].hcr_writes, 0);
	CHECK_EQ(fcpu[0].hcr, VGIC_HCR_EN);
}

UNIT_TEST(sync_reads_only_used_lrs_and_writes_none_when_unchanged)
{
	setup(GIC_V3, 1, 4);
	spi_on(40, 0x80);
	vgic_inject_edge(&vm, NULL, 40);
	run_turn(0);
	reset_counters();
	run_turn(0);
	CHECK_EQ(fcpu[0].lr_reads, 1);
	CHECK_EQ(fcpu[0].lr_writes, 0);
	CHECK_EQ(fcpu[0].hcr_writes, 0);
}

UNIT_TEST(flush_puts_the_highest_priorities_first)
{
	static const u8 prio[6] = { 0xa0, 0x10, 0x80, 0x20, 0xf0, 0x40 };

	setup(GIC_V3, 1, 4);
	for (u32 i = 0; i < 6; i++) {
		spi_on(32 + i, prio[i]);
		vgic_inject_edge(&vm, NULL, 32 + i);
	}
	run_turn(0);
	CHECK_EQ(lrs_valid(0), 4);
	CHECK_EQ(fcpu[0].hcr, VGIC_HCR_EN | VGIC_HCR_NPIE);
	CHECK_EQ(guest_ack(0), 33);
	CHECK_EQ(guest_ack(0), 35);
	CHECK_EQ(guest_ack(0), 37);
	CHECK_EQ(guest_ack(0), 34);
	CHECK_EQ(guest_ack(0), NO_INTID);
	for (u32 i = 33; i <= 37; i++)
		guest_eoi(0, i);
	run_turn(0);
	CHECK_EQ(lrs_valid(0), 2);
	CHECK_EQ(guest_ack(0), 32);
	CHECK_EQ(guest_ack(0), 36);
	CHECK_EQ(fcpu[0].hcr, VGIC_HCR_EN);
}

UNIT_TEST(flush_never_uses_more_lrs_than_the_hardware_has)
{
	setup(GIC_V3, 1, 2);
	for (u32 i = 0; i < 10; i++) {
		spi_on(40 + i, 0x80);
		vgic_inject_edge(&vm, NULL, 40 + i);
	}
	for (int round = 0; round < 8; round++) {
		run_turn(0);
		CHECK(lrs_valid(0) <= 2);
		guest_eoi(0, guest_ack(0));
	}
	CHECK(!fcpu[0].bad_lr);
	CHECK((vcpus[0].vgic.lr_used & ~3u) == 0);
}

UNIT_TEST(a_higher_priority_interrupt_displaces_the_lowest_pending)
{
	setup(GIC_V3, 1, 2);
	spi_on(32, 0x80);
	spi_on(33, 0x90);
	spi_on(34, 0x10);
	vgic_inject_edge(&vm, NULL, 32);
	vgic_inject_edge(&vm, NULL, 33);
	run_turn(0);
	CHECK_EQ(lr_of(0, 33).state, P);
	vgic_inject_edge(&vm, NULL, 34);
	run_turn(0);
	CHECK_EQ(lr_of(0, 34).state, P);
	CHECK_EQ(lr_of(0, 32).state, P);
	CHECK_EQ(lr_of(0, 33).intid, NO_INTID);
	CHECK(bit_set(dread(0, GICD_ISPENDR(1), 4), 33));
	CHECK_EQ(fcpu[0].hcr, VGIC_HCR_EN | VGIC_HCR_NPIE);
}

UNIT_TEST(lrs_full_of_active_interrupts_ask_for_each_completion)
{
	setup(GIC_V3, 1, 2);
	spi_on(32, 0x80);
	spi_on(33, 0x80);
	spi_on(34, 0x10);
	dwrite(0, GICD_ICFGR(2), 4, 0xaaaaaaaa);     /* edge: no resampling */
	vgic_inject_edge(&vm, NULL, 32);
	vgic_inject_edge(&vm, NULL, 33);
	run_turn(0);
	guest_ack(0);
	guest_ack(0);
	vgic_inject_edge(&vm, NULL, 34);
	run_turn(0);
	CHECK_EQ(lr_of(0, 32).state, A);
	CHECK(lr_of(0, 32).eoi_maint);
	CHECK(lr_of(0, 33).eoi_maint);
	CHECK_EQ(fcpu[0].hcr, VGIC_HCR_EN | VGIC_HCR_UIE);
	guest_eoi(0, 32);
	CHECK_EQ(fcpu[0].eoi_maint, 1);
	run_turn(0);
	CHECK_EQ(lr_of(0, 34).state, P);
	CHECK(!lr_of(0, 33).eoi_maint);
	CHECK_EQ(fcpu[0].hcr, VGIC_HCR_EN);
}

UNIT_TEST(disabled_or_group_disabled_interrupts_are_not_delivered)
{
	setup(GIC_V3, 1, 4);
	spi_on(40, 0x80);
	dwrite(0, GICD_CTLR, 4, CTLR_GRP0);      /* SPIs are group 1 */
	vgic_inject_edge(&vm, NULL, 40);
	run_turn(0);
	CHECK_EQ(lrs_valid(0), 0);
	dwrite(0, GICD_CTLR, 4, CTLR_GRP1);
	run_turn(0);
	CHECK_EQ(lr_of(0, 40).state, P);
	dwrite(0, GICD_ICENABLER(1), 4, 1u << 8);
	run_turn(0);
	CHECK_EQ(lrs_valid(0), 0);               /* retracted */
	CHECK(bit_set(dread(0, GICD_ISPENDR(1), 4), 40));
	dwrite(0, GICD_ISENABLER(1), 4, 1u << 8);
	run_turn(0);
	CHECK_EQ(lr_of(0, 40).state, P);
}

UNIT_TEST(group_and_priority_reach_the_lr)
{
	setup(GIC_V2, 1, 4);
	spi_on(40, 0x48);
	dwrite(0, GICD_ITARGETSR(40), 1, 1);
	vgic_inject_edge(&vm, NULL, 40);
	run_turn(0);
	CHECK_EQ(lr_of(0, 40).priority, 0x48);
	CHECK(!lr_of(0, 40).group1);
	dwrite(0, GICD_IGROUPR(1), 4, 1u << 8);
	run_turn(0);
	CHECK(lr_of(0, 40).group1);
}

/* ============================================== list registers: sync */

UNIT_TEST(acknowledge_and_eoi_come_back_to_the_model)
{
	setup(GIC_V3, 1, 4);
	spi_on(40, 0x80);
	vgic_inject_edge(&vm, NULL, 40);
	run_turn(0);
	CHECK(bit_set(dread(0, GICD_ISPENDR(1), 4), 40));
	CHECK_EQ(guest_ack(0), 40);
	run_turn(0);
	CHECK(!bit_set(dread(0, GICD_ISPENDR(1), 4), 40));
	CHECK(bit_set(dread(0, GICD_ISACTIVER(1), 4), 40));
	CHECK(guest_eoi(0, 40));
	run_turn(0);
	CHECK(!bit_set(dread(0, GICD_ISACTIVER(1), 4), 40));
	CHECK_EQ(vcpus[0].vgic.lr_used, 0);
	CHECK_EQ(fcpu[0].lr[0], 0);
}

UNIT_TEST(an_edge_while_active_makes_it_pending_and_active)
{
	setup(GIC_V3, 1, 4);
	spi_on(40, 0x80);
	dwrite(0, GICD_ICFGR(2), 4, 2u << 16);       /* INTID 40: edge */
	vgic_inject_edge(&vm, NULL, 40);
	run_turn(0);
	guest_ack(0);
	run_turn(0);
	vgic_inject_edge(&vm, NULL, 40);
	run_turn(0);
	CHECK_EQ(lr_of(0, 40).state, P | A);
	CHECK(!lr_of(0, 40).eoi_maint);
	guest_eoi(0, 40);
	CHECK_EQ(guest_ack(0), 40);
}

UNIT_TEST(an_edge_after_a_silent_acknowledge_is_a_new_one)
{
	setup(GIC_V3, 2, 4);
	spi_on(40, 0x80);
	dwrite(0, GICD_ICFGR(2), 4, 2u << 16);       /* INTID 40: edge */
	vgic_inject_edge(&vm, NULL, 40);
	run_turn(0);
	CHECK_EQ(guest_ack(0), 40);                   /* no exit in between */
	CHECK(guest_eoi(0, 40));
	vgic_inject_edge(&vm, NULL, 40);
	vgic_sgi_sysreg(&vcpus[1], SGI1R(2, 1), false);
	run_turn(0);
	CHECK_EQ(guest_ack(0), 2);
	run_turn(0);
	CHECK_EQ(guest_ack(0), 40);
	guest_eoi(0, 40);
	guest_eoi(0, 2);
	vgic_sgi_sysreg(&vcpus[1], SGI1R(2, 1), false);   /* SGI after silent ack */
	run_turn(0);
	CHECK_EQ(guest_ack(0), 2);
}

UNIT_TEST(gicv2_sgi_after_a_silent_acknowledge_is_a_new_one)
{
	setup(GIC_V2, 2, 4);
	dwrite(0, GICD_CTLR, 4, CTLR_GRP0);
	dwrite(1, GICD_SGIR, 4, SGIR_LIST(5, 1));
	run_turn(0);
	CHECK_EQ(guest_ack(0), 5);
	CHECK(guest_eoi(0, 5));
	dwrite(1, GICD_SGIR, 4, SGIR_LIST(5, 1));
	CHECK_EQ(dread(0, GICD_SPENDSGIR(5), 1), 0x2);
	run_turn(0);
	CHECK_EQ(guest_ack(0), 5);
	run_turn(0);
	CHECK_EQ(dread(0, GICD_SPENDSGIR(5), 1), 0);
}

UNIT_TEST(a_cleared_active_state_leaves_the_lr)
{
	setup(GIC_V3, 2, 4);
	spi_on(40, 0x80);
	vgic_inject_edge(&vm, NULL, 40);
	run_turn(0);
	guest_ack(0);
	run_turn(0);
	kicked = 0;
	dwrite(1, GICD_ICACTIVER(1), 4, 1u << 8);      /* another vCPU clears it */
	CHECK_EQ(kicked, 1u << 0);
	run_turn(0);
	CHECK_EQ(lrs_valid(0), 0);
	CHECK(!bit_set(dread(0, GICD_ISACTIVER(1), 4), 40));
}

UNIT_TEST(a_level_interrupt_is_resampled_when_the_guest_completes_it)
{
	setup(GIC_V3, 1, 4);
	spi_on(41, 0x80);
	vgic_set_level(&vm, NULL, 41, true);
	run_turn(0);
	CHECK_EQ(lr_of(0, 41).state, P);
	CHECK(lr_of(0, 41).eoi_maint);
	CHECK_EQ(guest_ack(0), 41);
	CHECK(guest_eoi(0, 41));              /* line still high */
	CHECK_EQ(fcpu[0].eoi_maint, 1);
	vgic_maintenance(&vcpus[0]);
	run_turn(0);
	CHECK_EQ(lr_of(0, 41).state, P);      /* delivered again */
	CHECK_EQ(guest_ack(0), 41);
	vgic_set_level(&vm, NULL, 41, false);   /* the handler quietens it */
	run_turn(0);
	CHECK(guest_eoi(0, 41));
	run_turn(0);
	CHECK_EQ(lrs_valid(0), 0);
	CHECK_EQ(dread(0, GICD_ISPENDR(1), 4), 0);
	CHECK_EQ(dread(0, GICD_ISACTIVER(1), 4), 0);
}

UNIT_TEST(a_level_interrupt_still_high_when_acknowledged_is_pending_and_active)
{
	setup(GIC_V3, 1, 4);
	spi_on(41, 0x80);
	vgic_set_level(&vm, NULL, 41, true);
	run_turn(0);
	guest_ack(0);
	run_turn(0);
	CHECK_EQ(lr_of(0, 41).state, P | A);
	vgic_set_level(&vm, NULL, 41, false);
	run_turn(0);
	CHECK_EQ(lr_of(0, 41).state, A);
}

UNIT_TEST(a_level_drop_retracts_the_pending_lr)
{
	setup(GIC_V3, 1, 4);
	spi_on(41, 0x80);
	vgic_set_level(&vm, NULL, 41, true);
	run_turn(0);
	vgic_set_level(&vm, NULL, 41, false);
	run_turn(0);
	CHECK_EQ(lrs_valid(0), 0);
	CHECK_EQ(vcpus[0].vgic.lr_used, 0);
}

UNIT_TEST(a_rising_edge_latches_an_edge_interrupt)
{
	setup(GIC_V3, 1, 4);
	spi_on(42, 0x80);
	dwrite(0, GICD_ICFGR(2), 4, 2u << 20);       /* INTID 42: edge */
	vgic_set_level(&vm, NULL, 42, true);
	vgic_set_level(&vm, NULL, 42, false);
	run_turn(0);
	CHECK_EQ(lr_of(0, 42).state, P);
	CHECK(!lr_of(0, 42).eoi_maint);
}

UNIT_TEST(an_active_spi_stays_with_its_vcpu_a_pending_one_follows_the_route)
{
	setup(GIC_V3, 2, 4);
	spi_on(40, 0x80);
	spi_on(41, 0x80);
	vgic_inject_edge(&vm, NULL, 40);
	vgic_inject_edge(&vm, NULL, 41);
	run_turn(0);
	CHECK_EQ(guest_ack(0), 40);
	run_turn(0);
	kicked = 0;
	dwrite(1, GICD_IROUTER(40), 8, 1);
	dwrite(1, GICD_IROUTER(41), 8, 1);
	CHECK_EQ(kicked, 1u << 0);
	run_turn(0);
	CHECK_EQ(lr_of(0, 40).state, A);
	CHECK_EQ(lr_of(0, 41).intid, NO_INTID);
	run_turn(1);
	CHECK_EQ(lr_of(1, 41).state, P);
	CHECK_EQ(lr_of(1, 40).intid, NO_INTID);
}

UNIT_TEST(a_pending_spi_evicted_after_a_route_change_reaches_the_new_vcpu)
{
	setup(GIC_V3, 2, 4);
	spi_on(41, 0x80);
	vgic_inject_edge(&vm, NULL, 41);
	run_turn(0);
	dwrite(1, GICD_IROUTER(41), 8, 1);
	run_turn(1);                  /* still in vCPU 0's LR: not yet */
	CHECK_EQ(lrs_valid(1), 0);
	kicked = 0;
	run_turn(0);
	CHECK_EQ(kicked, 1u << 1);
	run_turn(1);
	CHECK_EQ(lr_of(1, 41).state, P);
}

UNIT_TEST(a_completed_spi_pending_again_reaches_its_new_route)
{
	setup(GIC_V3, 2, 4);
	spi_on(41, 0x80);
	vgic_set_level(&vm, NULL, 41, true);
	run_turn(0);
	guest_ack(0);
	run_turn(0);                            /* active on vCPU 0 */
	dwrite(1, GICD_IROUTER(41), 8, 1);
	run_turn(1);
	CHECK_EQ(lrs_valid(1), 0);              /* vCPU 0 still has it */
	guest_eoi(0, 41);                       /* the line is still high */
	kicked = 0;
	run_turn(0);
	CHECK_EQ(kicked, 1u << 1);
	CHECK_EQ(lrs_valid(0), 0);
	run_turn(1);
	CHECK_EQ(lr_of(1, 41).state, P);
}

UNIT_TEST(injection_kicks_the_target_vcpu)
{
	setup(GIC_V3, 2, 4);
	spi_on(40, 0x80);
	dwrite(0, GICD_IROUTER(40), 8, 1);
	kicked = 0;
	vgic_inject_edge(&vm, NULL, 40);
	CHECK_EQ(kicked, 1u << 1);
	kicked = 0;
	vgic_set_level(&vm, &vcpus[0], 20, true);
	CHECK_EQ(kicked, 1u << 0);
}

UNIT_TEST(bad_injections_are_ignored)
{
	setup(GIC_V3, 2, 4);
	vgic_inject_edge(&vm, &vcpus[0], 3);          /* SGI */
	vgic_inject_edge(&vm, NULL, 20);              /* PPI without vCPU */
	vgic_inject_edge(&vm, &vcpus[0], 40);         /* SPI with one */
	vgic_inject_edge(&vm, NULL, VGIC_NR_IRQS);
	vgic_inject_hw_ppi(&vcpus[0], 40);
	CHECK_EQ(kicked, 0);
	CHECK_EQ(rread(0, SGI_FRAME(0) + GICD_ISPENDR(0), 4), 0);
	CHECK_EQ(dread(0, GICD_ISPENDR(1), 4), 0);
}

/* ======================================== forwarded (HW-linked) PPIs */

static void vtimer_fires(unsigned int c)
{
	fcpu[c].phys_active |= 1u << GUEST_VTIMER_INTID;
	cur = c;
	vgic_inject_hw_ppi(&vcpus[c], GUEST_VTIMER_INTID);
}

static void vtimer_on(unsigned int c)
{
	rwrite(c, SGI_FRAME(c) + GICD_ISENABLER(0), 4, 1u << GUEST_VTIMER_INTID);
	dwrite(c, GICD_CTLR, 4, CTLR_GRP1);
}

UNIT_TEST(a_forwarded_ppi_is_linked_to_the_physical_one)
{
	setup(GIC_V3, 1, 4);
	vtimer_on(0);
	vtimer_fires(0);
	run_turn(0);
	CHECK(lr_of(0, GUEST_VTIMER_INTID).hw);
	CHECK_EQ(lr_of(0, GUEST_VTIMER_INTID).state, P);
	CHECK_EQ((fcpu[0].lr[0] >> 32) & 0x1fff, GUEST_VTIMER_INTID);   /* pINTID */
	CHECK_EQ(guest_ack(0), GUEST_VTIMER_INTID);
	guest_eoi(0, GUEST_VTIMER_INTID);
	CHECK_EQ(fcpu[0].phys_active, 0);         /* deactivated through the link */
	run_turn(0);
	CHECK_EQ(vcpus[0].vgic.hw_live, 0);
	CHECK_EQ(fcpu[0].deactivations, 0);
	CHECK_EQ(rread(0, SGI_FRAME(0) + GICD_ISACTIVER(0), 4), 0);
}

UNIT_TEST(a_forwarded_ppi_the_guest_clears_is_deactivated_by_us)
{
	setup(GIC_V3, 1, 4);
	vtimer_on(0);
	vtimer_fires(0);
	run_turn(0);
	rwrite(0, SGI_FRAME(0) + GICD_ICPENDR(0), 4, 1u << GUEST_VTIMER_INTID);
	run_turn(0);
	CHECK_EQ(lrs_valid(0), 0);
	CHECK_EQ(fcpu[0].deactivations, 1);
	CHECK_EQ(fcpu[0].phys_active, 0);
	CHECK_EQ(vcpus[0].vgic.hw_live, 0);
}

UNIT_TEST(a_forwarded_ppi_waits_while_disabled)
{
	setup(GIC_V3, 1, 4);
	dwrite(0, GICD_CTLR, 4, CTLR_GRP1);
	vtimer_fires(0);
	run_turn(0);
	CHECK_EQ(lrs_valid(0), 0);
	CHECK_EQ(fcpu[0].deactivations, 0);       /* stays active: cannot refire */
	vtimer_on(0);
	run_turn(0);
	CHECK(lr_of(0, GUEST_VTIMER_INTID).hw);
}

UNIT_TEST(vcpu_reset_deactivates_a_forwarded_ppi_and_clears_the_lrs)
{
	setup(GIC_V3, 1, 4);
	vtimer_on(0);
	vtimer_fires(0);
	run_turn(0);
	guest_ack(0);
	run_turn(0);
	vgic_vcpu_reset(&vcpus[0]);
	CHECK_EQ(fcpu[0].deactivations, 1);
	CHECK_EQ(fcpu[0].phys_active, 0);
	CHECK_EQ(lrs_valid(0), 0);
	CHECK_EQ(vcpus[0].vgic.lr_used, 0);
	CHECK_EQ(rread(0, SGI_FRAME(0) + GICD_ISACTIVER(0), 4), 0);
	CHECK_EQ(rread(0, RD(0) + GICR_WAKER, 4), 6);
	run_turn(0);
	CHECK_EQ(fcpu[0].hcr, VGIC_HCR_EN);
}

UNIT_TEST(gicv2_forwarded_ppi_carries_the_physical_id)
{
	setup(GIC_V2, 1, 4);
	dwrite(0, GICD_ISENABLER(0), 4, 1u << GUEST_VTIMER_INTID);
	dwrite(0, GICD_CTLR, 4, CTLR_GRP0);
	vtimer_fires(0);
	run_turn(0);
	CHECK_EQ(fcpu[0].lr[0] >> 31, 1);                         /* HW */
	CHECK_EQ((fcpu[0].lr[0] >> 10) & 0x3ff, GUEST_VTIMER_INTID);
	guest_ack(0);
	guest_eoi(0, GUEST_VTIMER_INTID);
	CHECK_EQ(fcpu[0].phys_active, 0);
}

/* ======================================================== maintenance */

UNIT_TEST(maintenance_silences_the_interface_until_the_next_flush)
{
	setup(GIC_V3, 1, 4);
	CHECK_EQ(fcpu[0].hcr, VGIC_HCR_EN);
	vgic_maintenance(&vcpus[0]);
	CHECK_EQ(fcpu[0].hcr, 0);
	run_turn(0);
	CHECK_EQ(fcpu[0].hcr, VGIC_HCR_EN);
	vgic_maintenance(NULL);
	CHECK_EQ(fcpu[0].hcr, 0);
}

/* ============================================================= GICv2 SGIs */

UNIT_TEST(gicv2_sgi_sources_are_delivered_one_at_a_time)
{
	u8 src = 0xff;

	setup(GIC_V2, 3, 4);
	dwrite(0, GICD_CTLR, 4, CTLR_GRP0);
	dwrite(2, GICD_SGIR, 4, SGIR_LIST(3, 1));
	dwrite(1, GICD_SGIR, 4, SGIR_LIST(3, 1));
	run_turn(0);
	CHECK_EQ(lrs_valid(0), 1);
	CHECK_EQ(guest_ack_src(0, &src), 3);
	CHECK_EQ(src, 1);
	run_turn(0);
	CHECK_EQ(lr_of(0, 3).state, A);
	CHECK(lr_of(0, 3).eoi_maint);            /* another source waits */
	CHECK_EQ(dread(0, GICD_SPENDSGIR(3), 1), 0x4);
	guest_eoi(0, 3);
	CHECK_EQ(fcpu[0].eoi_maint, 1);
	run_turn(0);
	CHECK_EQ(guest_ack_src(0, &src), 3);
	CHECK_EQ(src, 2);
	guest_eoi(0, 3);
	run_turn(0);
	CHECK_EQ(lrs_valid(0), 0);
	CHECK_EQ(dread(0, GICD_SPENDSGIR(3), 1), 0);
}

/* ================================================================= WFI */

UNIT_TEST(wfi_wakes_only_for_what_the_cpu_interface_would_signal)
{
	setup(GIC_V3, 1, 4);
	spi_on(40, 0x80);
	CHECK(!vgic_has_pending(&vcpus[0]));
	vgic_inject_edge(&vm, NULL, 40);
	CHECK(vgic_has_pending(&vcpus[0]));
	fcpu[0].vmcr.pmr = 0x80;
	CHECK(!vgic_has_pending(&vcpus[0]));
	fcpu[0].vmcr.pmr = 0x88;
	CHECK(vgic_has_pending(&vcpus[0]));
	fcpu[0].vmcr.grp1_en = false;
	CHECK(!vgic_has_pending(&vcpus[0]));
	fcpu[0].vmcr.grp1_en = true;
	dwrite(0, GICD_ICENABLER(1), 4, 1u << 8);
	CHECK(!vgic_has_pending(&vcpus[0]));
}

UNIT_TEST(vm_reset_returns_the_distributor_to_reset)
{
	setup(GIC_V3, 2, 4);
	spi_on(40, 0x80);
	dwrite(0, GICD_IROUTER(40), 8, 1);
	vgic_inject_edge(&vm, NULL, 40);
	run_turn(1);
	vgic_reset(&vm);
	CHECK_EQ(dread(0, GICD_CTLR, 4), CTLR_ARE_DS);
	CHECK_EQ(dread(0, GICD_ISENABLER(1), 4), 0);
	CHECK_EQ(dread(0, GICD_ISPENDR(1), 4), 0);
	CHECK_EQ(dread(0, GICD_IROUTER(40), 8), 0);
	cur = 1;
	vgic_vcpu_reset(&vcpus[1]);
	CHECK_EQ(lrs_valid(1), 0);
	CHECK_EQ(vcpus[1].vgic.lr_used, 0);
}

/* ========================================================== races */

/*
 * Each thread is a vCPU's physical CPU: it runs its guest (acknowledge,
 * handle, EOI), and between turns plays the devices and the other
 * guest code of that CPU: edge and level interrupts for any vCPU, SGIs,
 * and priority and routing changes by MMIO. Under ThreadSanitizer no
 * more threads than a small host has CPUs: the ticket lock spins, and
 * spinning on an instrumented atomic starves the holder.
 */
#ifdef VGIC_RACES_ONLY
#define RACE_VCPUS 2
#define RACE_EVENTS 1500
#else
#define RACE_VCPUS 4
#define RACE_EVENTS 4000
#endif
#define RACE_SPIS 32                  /* edge SPIs 32..63, level 64..95 */

/* Edges: at most one outstanding (injected, not yet handled) per
 * interrupt, so none may merge: each is delivered exactly once. SGIs
 * are counted per target vCPU. */
static u32 injected[RACE_VCPUS][VGIC_NR_IRQS], delivered[RACE_VCPUS][VGIC_NR_IRQS];
static u32 outstanding[RACE_VCPUS][VGIC_NR_IRQS];
static u32 threads_done;
static pthread_mutex_t line_lock[VGIC_NR_IRQS];
static bool line_up[VGIC_NR_IRQS];    /* a level device's status, under line_lock */
static u32 raised[VGIC_NR_IRQS], handled[VGIC_NR_IRQS];

static bool is_level(u32 intid)
{
	return intid >= 32 + RACE_SPIS;
}

/* What a driver's handler does: for a level device, read and clear its
 * status (an MMIO exit: sync, device model, flush), which lowers the
 * line. */
/* The counters of @intid as vCPU @c takes it: SPIs count once, at 0. */
static unsigned int counter_row(unsigned int c, u32 intid)
{
	return intid < VGIC_NR_SGIS ? c : 0;
}

/* Claims the one outstanding edge of (@row, @intid); false if taken. */
static bool claim_edge(unsigned int row, u32 intid)
{
	u32 free_ = 0;

	if (!__atomic_compare_exchange_n(&outstanding[row][intid], &free_, 1, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return false;
	__atomic_fetch_add(&injected[row][intid], 1, __ATOMIC_RELAXED);
	return true;
}

static void handle(unsigned int c, u32 intid)
{
	unsigned int row = counter_row(c, intid);

	if (!is_level(intid)) {
		__atomic_fetch_add(&delivered[row][intid], 1, __ATOMIC_RELAXED);
		/* Release: pairs with the acquire of the next claim_edge(). */
		__atomic_store_n(&outstanding[row][intid], 0, __ATOMIC_RELEASE);
		return;
	}
	vgic_sync(&vcpus[c]);
	pthread_mutex_lock(&line_lock[intid]);
	if (line_up[intid]) {
		line_up[intid] = false;
		handled[intid]++;
		vgic_set_level(&vm, NULL, intid, false);
	}
	pthread_mutex_unlock(&line_lock[intid]);
	vgic_flush(&vcpus[c]);
}

/* A device raises SPI @intid: an edge, or its level line if it is low. */
static void device_event(u32 intid)
{
	if (!is_level(intid)) {
		if (claim_edge(0, intid))
			vgic_inject_edge(&vm, NULL, intid);
		return;
	}
	pthread_mutex_lock(&line_lock[intid]);
	if (!line_up[intid]) {
		line_up[intid] = true;
		raised[intid]++;
		vgic_set_level(&vm, NULL, intid, true);
	}
	pthread_mutex_unlock(&line_lock[intid]);
}

/* Guest code on vCPU @c does something else than take interrupts. */
static void other_work(unsigned int c, unsigned int *seed)
{
	u32 intid = 32 + rand_r(seed) % (2 * RACE_SPIS);
	u32 sgi = rand_r(seed) % VGIC_NR_SGIS;

	unsigned int to = rand_r(seed) % RACE_VCPUS;

	switch (rand_r(seed) % 4) {
	case 0:
		if (claim_edge(to, sgi))
			vgic_sgi_sysreg(&vcpus[c], SGI1R(sgi, 1u << to), false);
		break;
	case 1:
		vgic_dist_mmio(&vcpus[c], GICD_IPRIORITYR(intid), 1, true,
			       &(u64){ rand_r(seed) & 0xf0 });
		break;
	case 2:
		vgic_dist_mmio(&vcpus[c], GICD_IROUTER(intid), 8, true,
			       &(u64){ rand_r(seed) % RACE_VCPUS });
		break;
	default:
		device_event(intid);
		break;
	}
}

static bool vcpu_quiet(unsigned int c)
{
	return !vcpus[c].vgic.lr_used &&
	       !__atomic_load_n(&vcpus[c].vgic.work, __ATOMIC_RELAXED) &&
	       !vgic_has_pending(&vcpus[c]);
}

static void *race_cpu(void *arg)
{
	unsigned int c = (unsigned int)(uintptr_t)arg, seed = 1 + c;
	unsigned int events = 0, turns = 0;

	cur = c;
	/* Bounded: a lost interrupt fails the checks instead of hanging. */
	while (++turns < 1000 * RACE_EVENTS) {
		u32 intid;

		vgic_flush(&vcpus[c]);
		while ((intid = guest_ack(c)) != NO_INTID) {
			handle(c, intid);
			guest_eoi(c, intid);
		}
		sched_yield();      /* the guest runs on: others inject meanwhile */
		vgic_sync(&vcpus[c]);
		if (events < RACE_EVENTS) {
			other_work(c, &seed);
			/* Release: this thread's last event is in the model
			 * before others see it done (acquire below). */
			if (++events == RACE_EVENTS)
				__atomic_fetch_add(&threads_done, 1, __ATOMIC_RELEASE);
		} else if (__atomic_load_n(&threads_done, __ATOMIC_ACQUIRE) == RACE_VCPUS &&
			   vcpu_quiet(c)) {
			return NULL;
		}
		sched_yield();
	}
	return NULL;
}

TEST(concurrent_injection_routing_and_delivery_lose_nothing)
{
	pthread_t cpu_t[RACE_VCPUS];

	setup(GIC_V3, RACE_VCPUS, 4);
	memset(injected, 0, sizeof(injected));
	memset(delivered, 0, sizeof(delivered));
	memset(outstanding, 0, sizeof(outstanding));
	memset(raised, 0, sizeof(raised));
	memset(handled, 0, sizeof(handled));
	memset(line_up, 0, sizeof(line_up));
	threads_done = 0;
	for (u32 i = 0; i < VGIC_NR_IRQS; i++)
		pthread_mutex_init(&line_lock[i], NULL);
	dwrite(0, GICD_CTLR, 4, CTLR_GRP1);
	dwrite(0, GICD_ISENABLER(1), 4, ~0u);
	dwrite(0, GICD_ISENABLER(2), 4, ~0u);
	dwrite(0, GICD_ICFGR(2), 4, 0xaaaaaaaa);     /* 32..47 edge */
	dwrite(0, GICD_ICFGR(3), 4, 0xaaaaaaaa);     /* 48..63 edge */
	for (u32 i = 32; i < VGIC_NR_IRQS; i++)
		dwrite(0, GICD_IROUTER(i), 8, i % RACE_VCPUS);
	for (uintptr_t c = 0; c < RACE_VCPUS; c++)
		pthread_create(&cpu_t[c], NULL, race_cpu, (void *)c);
	for (unsigned int c = 0; c < RACE_VCPUS; c++)
		pthread_join(cpu_t[c], NULL);
	for (u32 i = 0; i < VGIC_NR_IRQS; i++) {
		for (unsigned int row = 0; row < RACE_VCPUS && !is_level(i); row++)
			CHECK_EQ(delivered[row][i], injected[row][i]);
		if (is_level(i)) {
			CHECK_EQ(handled[i], raised[i]);   /* each raise handled once */
			CHECK(!line_up[i]);
		}
	}
	for (unsigned int c = 0; c < RACE_VCPUS; c++) {
		CHECK(!fcpu[c].bad_lr);
		CHECK_EQ(vcpus[c].vgic.lr_used, 0);
	}
	for (u32 k = 0; k < VGIC_SPI_BANKS; k++)
		CHECK_EQ(vm.vgic.spi[k].in_lr, 0);
}
