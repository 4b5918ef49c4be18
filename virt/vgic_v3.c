/*
 * vGIC list-register backend for GICv3: the ICH_* system registers of the
 * calling CPU (virtual CPU interface control), and the ICH_LR<n>_EL2
 * format. The encoders build on the host too, for the tests.
 */
#include "virt/vgic.h"

#include "lib/compiler.h"
#include "lib/errno.h"

/* ICH_LR<n>_EL2 */
#define LR_VINTID_MASK 0xffffffffULL
#define LR_PINTID_SHIFT 32
#define LR_PINTID_MASK 0x1fffULL      /* pINTID, bits [44:32], when HW = 1 */
#define LR_EOI (1ULL << 41)           /* HW = 0: maintenance on deactivation */
#define LR_PRIORITY_SHIFT 48
#define LR_GROUP1 (1ULL << 60)
#define LR_HW (1ULL << 61)
#define LR_STATE_SHIFT 62             /* 1 pending, 2 active: VGIC_LR_* */

u64 vgic_v3_lr_encode(const struct vgic_lr *lr)
{
	u64 v = lr->intid | (u64)lr->priority << LR_PRIORITY_SHIFT |
		(u64)lr->state << LR_STATE_SHIFT;

	if (lr->group1)
		v |= LR_GROUP1;
	if (lr->hw)
		v |= LR_HW | (lr->intid & LR_PINTID_MASK) << LR_PINTID_SHIFT;
	else if (lr->eoi_maint)
		v |= LR_EOI;
	return v;
}

void vgic_v3_lr_decode(u64 raw, struct vgic_lr *lr)
{
	*lr = (struct vgic_lr){
		.intid = (u32)(raw & LR_VINTID_MASK),
		.state = (u8)(raw >> LR_STATE_SHIFT),
		.priority = (u8)(raw >> LR_PRIORITY_SHIFT),
		.group1 = raw & LR_GROUP1,
		.hw = raw & LR_HW,
		.eoi_maint = !(raw & LR_HW) && (raw & LR_EOI),
	};
}

#ifdef __aarch64__

#include "arch/arm64/barrier.h"
#include "drivers/gic.h"

/* Generic names: the encodings, so that any assembler takes them. */
#define ICH_AP0R(n) "s3_4_c12_c8_" #n
#define ICH_AP1R(n) "s3_4_c12_c9_" #n
#define ICH_HCR_EL2 "s3_4_c12_c11_0"
#define ICH_VTR_EL2 "s3_4_c12_c11_1"
#define ICH_VMCR_EL2 "s3_4_c12_c11_7"
#define ICH_LR(crm, op2) "s3_4_c12_c" #crm "_" #op2   /* LR0-7: c12, 8-15: c13 */
#define ICC_SRE_EL1_REG "s3_0_c12_c12_5"

#define SYSREG_READ(enc) ({                                               \
	u64 v_;                                                           \
	__asm__ volatile("mrs %0, " enc : "=r"(v_));                      \
	v_;                                                               \
})
#define SYSREG_WRITE(enc, val) \
	__asm__ volatile("msr " enc ", %0" : : "r"((u64)(val)) : "memory")

/* ICH_VTR_EL2 */
#define VTR_LISTREGS(v) (((v) & 0x1f) + 1)
#define VTR_PREBITS(v) ((((v) >> 26) & 7) + 1)
/* ICH_VMCR_EL2 */
#define VMCR_VENG0 (1u << 0)
#define VMCR_VENG1 (1u << 1)
#define VMCR_VPMR_SHIFT 24
/* ICC_SRE_EL1 as the guest finds it: system registers, no bypass. */
#define SRE_EL1_GUEST 0x7              /* SRE | DFB | DIB */

/* Every list register, as (n, CRm, op2). */
#define FOR_EACH_LR(X) \
	X(0, 12, 0) X(1, 12, 1) X(2, 12, 2) X(3, 12, 3) \
	X(4, 12, 4) X(5, 12, 5) X(6, 12, 6) X(7, 12, 7) \
	X(8, 13, 0) X(9, 13, 1) X(10, 13, 2) X(11, 13, 3) \
	X(12, 13, 4) X(13, 13, 5) X(14, 13, 6) X(15, 13, 7)

static unsigned int nr_lrs;
static unsigned int nr_aprs;          /* ICH_AP{0,1}R<n> implemented */

static u64 v3_read_lr(unsigned int i)
{
	switch (i) {
#define READ_LR(n, crm, op2) case n: return SYSREG_READ(ICH_LR(crm, op2));
	FOR_EACH_LR(READ_LR)
#undef READ_LR
	default:
		return 0;
	}
}

static void v3_write_lr(unsigned int i, u64 raw)
{
	switch (i) {
#define WRITE_LR(n, crm, op2) case n: SYSREG_WRITE(ICH_LR(crm, op2), raw); break;
	FOR_EACH_LR(WRITE_LR)
#undef WRITE_LR
	default:
		break;
	}
}

static void v3_write_hcr(u32 hcr)
{
	SYSREG_WRITE(ICH_HCR_EL2, hcr);
}

static struct vgic_vmcr v3_read_vmcr(void)
{
	u64 vmcr = SYSREG_READ(ICH_VMCR_EL2);

	return (struct vgic_vmcr){
		.pmr = (u8)(vmcr >> VMCR_VPMR_SHIFT),
		.grp0_en = vmcr & VMCR_VENG0,
		.grp1_en = vmcr & VMCR_VENG1,
	};
}

static void v3_write_aprs(void)
{
	/* 5 preemption bits: one register each; 6: two; 7: four. */
	switch (nr_aprs) {
	case 4:
		SYSREG_WRITE(ICH_AP0R(3), 0);
		SYSREG_WRITE(ICH_AP1R(3), 0);
		SYSREG_WRITE(ICH_AP0R(2), 0);
		SYSREG_WRITE(ICH_AP1R(2), 0);
		/* fall through */
	case 2:
		SYSREG_WRITE(ICH_AP0R(1), 0);
		SYSREG_WRITE(ICH_AP1R(1), 0);
		/* fall through */
	default:
		SYSREG_WRITE(ICH_AP0R(0), 0);
		SYSREG_WRITE(ICH_AP1R(0), 0);
	}
}

static void v3_reset_cpu(void)
{
	SYSREG_WRITE(ICH_HCR_EL2, 0);
	SYSREG_WRITE(ICH_VMCR_EL2, 0);
	v3_write_aprs();
	for (unsigned int i = 0; i < nr_lrs; i++)
		v3_write_lr(i, 0);
	SYSREG_WRITE(ICC_SRE_EL1_REG, SRE_EL1_GUEST);
	isb();    /* the guest's next entry sees a clean interface */
}

static const struct vgic_hw_ops v3_ops = {
	.version = GIC_V3,
	.lr_encode = vgic_v3_lr_encode,
	.lr_decode = vgic_v3_lr_decode,
	.read_lr = v3_read_lr,
	.write_lr = v3_write_lr,
	.write_hcr = v3_write_hcr,
	.read_vmcr = v3_read_vmcr,
	.reset_cpu = v3_reset_cpu,
	.deactivate = gic_deactivate,
};

int vgic_v3_probe(const struct vgic_hw_ops **ops, unsigned int *n)
{
	u64 vtr = SYSREG_READ(ICH_VTR_EL2);

	nr_lrs = MIN(VTR_LISTREGS(vtr), (unsigned int)VGIC_MAX_LRS);
	nr_aprs = 1u << (VTR_PREBITS(vtr) - 5);
	*ops = &v3_ops;
	*n = nr_lrs;
	return 0;
}

#endif
