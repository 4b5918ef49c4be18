/*
 * vGIC list-register backend for GICv2 (GIC-400): the GICH virtual
 * interface control registers, memory-mapped and banked per CPU, and the
 * GICH_LR<n> format. The encoders build on the host too, for the tests.
 */
#include "virt/vgic.h"

#include "lib/compiler.h"
#include "lib/errno.h"

/* GICH_LR<n> */
#define LR_VIRTUALID_MASK 0x3ffu
#define LR_PHYSID_SHIFT 10            /* HW = 1: physical INTID, [19:10] */
#define LR_CPUID_SHIFT 10             /* HW = 0: SGI source CPU, [12:10] */
#define LR_CPUID_MASK 7u
#define LR_EOI (1u << 19)             /* HW = 0: maintenance on deactivation */
#define LR_PRIORITY_SHIFT 23          /* priority[7:3] in [27:23] */
#define LR_PRIORITY_DROP 3
#define LR_STATE_SHIFT 28             /* 1 pending, 2 active: VGIC_LR_* */
#define LR_STATE_MASK 3u
#define LR_GROUP1 (1u << 30)
#define LR_HW (1u << 31)

u64 vgic_v2_lr_encode(const struct vgic_lr *lr)
{
	u32 v = (lr->intid & LR_VIRTUALID_MASK) |
		(u32)(lr->priority >> LR_PRIORITY_DROP) << LR_PRIORITY_SHIFT |
		(u32)(lr->state & LR_STATE_MASK) << LR_STATE_SHIFT;

	if (lr->group1)
		v |= LR_GROUP1;
	if (lr->hw)
		return v | LR_HW | (lr->intid & LR_VIRTUALID_MASK) << LR_PHYSID_SHIFT;
	v |= (u32)(lr->source & LR_CPUID_MASK) << LR_CPUID_SHIFT;
	return lr->eoi_maint ? v | LR_EOI : v;
}

void vgic_v2_lr_decode(u64 raw, struct vgic_lr *lr)
{
	u32 v = (u32)raw;
	bool hw = v & LR_HW;

	*lr = (struct vgic_lr){
		.intid = v & LR_VIRTUALID_MASK,
		.state = (u8)((v >> LR_STATE_SHIFT) & LR_STATE_MASK),
		.priority = (u8)(((v >> LR_PRIORITY_SHIFT) & 0x1f) << LR_PRIORITY_DROP),
		.source = hw ? 0 : (u8)((v >> LR_CPUID_SHIFT) & LR_CPUID_MASK),
		.group1 = v & LR_GROUP1,
		.hw = hw,
		.eoi_maint = !hw && (v & LR_EOI),
	};
}

#ifdef __aarch64__

#include "arch/arm64/mmio.h"
#include "drivers/gic.h"
#include "lib/console.h"
#include "mm/hyp_map.h"

/* GICH registers: each CPU sees its own interface at the same address. */
#define GICH_HCR 0x000
#define GICH_VTR 0x004
#define GICH_VMCR 0x008
#define GICH_APR 0x0f0
#define GICH_LR0 0x100
#define GICH_SIZE 0x1000
#define VTR_LISTREGS(v) (((v) & 0x3f) + 1)
#define VMCR_GRP0_EN (1u << 0)
#define VMCR_GRP1_EN (1u << 1)
#define VMCR_PRIMASK_SHIFT 27          /* priority mask[7:3] in [31:27] */

static paddr_t gich;
static unsigned int nr_lrs;

static u64 v2_read_lr(unsigned int i)
{
	return mmio_read32(gich + GICH_LR0 + 4 * (u64)i);
}

static void v2_write_lr(unsigned int i, u64 raw)
{
	mmio_write32(gich + GICH_LR0 + 4 * (u64)i, (u32)raw);
}

static void v2_write_hcr(u32 hcr)
{
	mmio_write32(gich + GICH_HCR, hcr);
}

static struct vgic_vmcr v2_read_vmcr(void)
{
	u32 vmcr = mmio_read32(gich + GICH_VMCR);

	return (struct vgic_vmcr){
		.pmr = (u8)((vmcr >> VMCR_PRIMASK_SHIFT) << LR_PRIORITY_DROP),
		.grp0_en = vmcr & VMCR_GRP0_EN,
		.grp1_en = vmcr & VMCR_GRP1_EN,
	};
}

static void v2_reset_cpu(void)
{
	mmio_write32(gich + GICH_HCR, 0);
	mmio_write32(gich + GICH_VMCR, 0);
	mmio_write32(gich + GICH_APR, 0);
	for (unsigned int i = 0; i < nr_lrs; i++)
		v2_write_lr(i, 0);
}

static const struct vgic_hw_ops v2_ops = {
	.version = GIC_V2,
	.lr_encode = vgic_v2_lr_encode,
	.lr_decode = vgic_v2_lr_decode,
	.read_lr = v2_read_lr,
	.write_lr = v2_write_lr,
	.write_hcr = v2_write_hcr,
	.read_vmcr = v2_read_vmcr,
	.reset_cpu = v2_reset_cpu,
	.deactivate = gic_deactivate,
};

int vgic_v2_probe(const struct board_gic *g, const struct vgic_hw_ops **ops,
		  unsigned int *n)
{
	int r;

	if (!g->gich || !g->gicv) {
		printf("hv: vGIC: the GICv2 has no virtualisation extensions "
		       "(no GICH/GICV in the DTB)\n");
		return -ENOSYS;
	}
	r = hyp_map_range(g->gich, GICH_SIZE, HYP_DEVICE);
	if (r)
		return r;
	gich = g->gich;
	nr_lrs = MIN(VTR_LISTREGS(mmio_read32(gich + GICH_VTR)),
		     (unsigned int)VGIC_MAX_LRS);
	*ops = &v2_ops;
	*n = nr_lrs;
	return 0;
}

#endif
