/*
 * The vGIC model shared by GICv2 and GICv3 (see virt/vgic.h): distributor
 * and redistributor registers, injection, and the list-register sync and
 * flush over a backend (virt/vgic_v3.c, virt/vgic_v2.c).
 */
#include "virt/vgic.h"

#include "lib/arch_hooks.h"
#include "lib/compiler.h"
#include "lib/console.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "virt/vm.h"

#ifdef __aarch64__
#include "arch/arm64/cpu.h"
#include "drivers/gic.h"
#endif

#define SGI_BITS 0x0000ffffu          /* INTIDs 0..15 of the private bank */
#define PRIO_MASK 0xf8                /* 5 priority bits implemented */
#define LOG_LINES 16                  /* guest-caused log lines per VM */
#define NOT_HERE 1                    /* decoder: offset not in its range */

/* Access sizes, as a mask of the sizes in bytes. */
#define SZ_B 1u
#define SZ_W 4u
#define SZ_D 8u

/* Distributor registers (offsets shared by both versions unless noted). */
#define GICD_CTLR 0x0000
#define GICD_TYPER 0x0004
#define GICD_IIDR 0x0008
#define GICD_TYPER2 0x000c            /* GICv3 */
#define GICD_STATUSR 0x0010           /* GICv3 */
#define GICD_BITREGS 0x0080           /* IGROUPR..ICACTIVER, 0x80 bytes each */
#define GICD_IPRIORITYR 0x0400
#define GICD_ITARGETSR 0x0800
#define GICD_ICFGR 0x0c00
#define GICD_IGRPMODR 0x0d00          /* GICv3 */
#define GICD_NSACR 0x0e00
#define GICD_SGIR 0x0f00
#define GICD_CPENDSGIR 0x0f10
#define GICD_SPENDSGIR 0x0f20
#define GICD_SGI_REGS_END 0x0f30
#define GICD_IROUTER 0x6000           /* GICv3, 8 bytes per INTID */
#define GICD_IROUTER_END (GICD_IROUTER + 8 * 1020)
#define GICV2_DIST_SIZE 0x1000
#define GICV2_ID_REGS 0x0fd0          /* PIDR4..CIDR3 */
#define GICV3_ID_REGS 0xffd0
#define ID_PIDR2 0x18                 /* offsets inside the ID block */
#define ID_CIDR0 0x20

#define CTLR_ENGRP0 (1u << 0)
#define CTLR_ENGRP1 (1u << 1)
#define CTLR_ARE (1u << 4)            /* GICv3 with DS = 1: ARE, RAO/WI */
#define CTLR_DS (1u << 6)             /* one Security state, RAO/WI */
#define TYPER_LINES ((VGIC_NR_IRQS / 32) - 1)      /* ITLinesNumber */
#define TYPER_CPUS_SHIFT 5            /* GICv2 CPUNumber */
#define TYPER_IDBITS (9u << 19)       /* GICv3: 10 INTID bits */
/* Implementer Arm (JEP106 0x43b), product 'H' (hypervisor), rev 0. */
#define IIDR_VALUE (0x48u << 24 | 0x43bu)
#define PIDR2_ARCHREV_SHIFT 4
#define PIDR2_JEP106 0x0b             /* JEDEC bit, Arm's ID bits [6:4] */

#define SGIR_INTID(v) ((v) & 0xf)
#define SGIR_TARGETS(v) (((v) >> 16) & 0xff)
#define SGIR_FILTER(v) (((v) >> 24) & 3)
#define SGIR_LIST 0
#define SGIR_OTHERS 1
#define SGIR_SELF 2

#define IROUTER_IRM (1ULL << 31)
#define IROUTER_AFF0 0xffULL
#define IROUTER_AFF_UPPER 0xff00ffff00ULL   /* Aff3, Aff2, Aff1 */
#define IROUTER_VALID (IROUTER_AFF_UPPER | IROUTER_IRM | IROUTER_AFF0)

/* ICC_SGI1R_EL1 / ICC_SGI0R_EL1 / ICC_ASGI1R_EL1 */
#define SGI1R_TARGETS(v) ((v) & 0xffff)
#define SGI1R_AFF1(v) (((v) >> 16) & 0xff)
#define SGI1R_INTID(v) (((v) >> 24) & 0xf)
#define SGI1R_AFF2(v) (((v) >> 32) & 0xff)
#define SGI1R_IRM (1ULL << 40)
#define SGI1R_RS(v) (((v) >> 44) & 0xf)
#define SGI1R_AFF3(v) (((v) >> 48) & 0xff)

/* Redistributor: RD_base frame, then SGI_base frame. */
#define GICR_SGI_FRAME 0x10000
#define GICR_CTLR 0x0000
#define GICR_IIDR 0x0004
#define GICR_TYPER 0x0008
#define GICR_STATUSR 0x0010
#define GICR_WAKER 0x0014
#define GICR_PROPBASER 0x0070
#define GICR_PENDBASER 0x0078
#define GICR_IGRPMODR0 0x0d00         /* SGI frame */
#define GICR_NSACR 0x0e00             /* SGI frame */
#define TYPER_LAST (1ULL << 4)
#define TYPER_PROC_SHIFT 8
#define TYPER_AFF_SHIFT 32
#define WAKER_SLEEP (1u << 1)         /* ProcessorSleep */
#define WAKER_ASLEEP (1u << 2)        /* ChildrenAsleep */

static const struct vgic_hw_ops *hw;
static unsigned int nr_lrs;

/* ----------------------------------------------------------- locking */

/* One locked operation on a VM's model: who to kick when it is over. */
struct vgic_ctx {
	struct vm *vm;
	struct vgic_dist *d;
	struct vcpu *self;      /* the calling vCPU (never kicked), or NULL */
	u64 irq_flags;
	u32 kick;               /* vCPUs, by index, whose model changed */
};

static void ctx_lock(struct vgic_ctx *c, struct vm *vm, struct vcpu *self)
{
	c->vm = vm;
	c->d = &vm->vgic;
	c->self = self;
	c->kick = 0;
	c->irq_flags = arch_irq_save();
	spin_lock(&c->d->lock);
}

/* Kicks only after the unlock: a kicked vCPU takes the lock at once. */
static void ctx_unlock(struct vgic_ctx *c)
{
	spin_unlock(&c->d->lock);
	arch_irq_restore(c->irq_flags);
	if (c->self)
		c->kick &= ~(1u << c->self->index);
	for (u32 k = c->kick; k; k &= k - 1)
		vcpu_kick(c->vm->vcpus[__builtin_ctz(k)]);
}

/*
 * @t must look at its interrupts before it next enters the guest. The
 * flag is read without the lock by vgic_flush()'s fast path; a set that
 * races with that read is caught by the kick sent after the unlock,
 * which makes @t exit and flush again.
 */
static void want_flush(struct vgic_ctx *c, struct vcpu *t)
{
	__atomic_fetch_or(&t->vgic.work, 1, __ATOMIC_RELAXED);
	c->kick |= 1u << t->index;
}

/* -------------------------------------------------------- the model */

static u32 bit_of(u32 intid)
{
	return 1u << (intid % 32);
}

static bool is_spi(u32 intid)
{
	return intid >= VGIC_NR_PRIVATE;
}

static u32 spi_index(u32 intid)
{
	return intid - VGIC_NR_PRIVATE;
}

/* The bank holding @intid: @v's own for a private INTID. */
static struct vgic_bank *bank_of(struct vgic_dist *d, struct vcpu *v, u32 intid)
{
	return is_spi(intid) ? &d->spi[spi_index(intid) / 32] : &v->vgic.priv;
}

static u32 bank_pending(const struct vgic_bank *b)
{
	return b->pending | b->lr_pending | (b->level & ~b->edge);
}

static u32 group_enabled(const struct vgic_dist *d, const struct vgic_bank *b)
{
	return ((d->ctlr & CTLR_ENGRP1) ? b->group : 0) |
	       ((d->ctlr & CTLR_ENGRP0) ? ~b->group : 0);
}

/* Pending, enabled, and its group forwarded by the distributor. */
static u32 deliverable(const struct vgic_dist *d, const struct vgic_bank *b)
{
	return bank_pending(b) & b->enabled & group_enabled(d, b);
}

static struct vcpu *vcpu_at(struct vm *vm, u8 index)
{
	return index == VGIC_NO_VCPU ? NULL : vm->vcpus[index];
}

/* The vCPU that must look at @intid after a change: for an SPI, the one
 * whose LR holds it, else the one it is routed to. */
static struct vcpu *irq_vcpu(struct vgic_ctx *c, struct vcpu *v, u32 intid)
{
	u32 i;

	if (!is_spi(intid))
		return v;
	i = spi_index(intid);
	if (c->d->spi[i / 32].in_lr & bit_of(intid))
		return c->vm->vcpus[c->d->owner[i]];
	return vcpu_at(c->vm, c->d->route[i]);
}

/* The interrupts @bits of the bank starting at @first changed. */
static void touch(struct vgic_ctx *c, struct vcpu *v, u32 first, u32 bits)
{
	if (bits && !is_spi(first)) {
		want_flush(c, v);
		return;
	}
	for (; bits; bits &= bits - 1) {
		struct vcpu *t = irq_vcpu(c, v, first + __builtin_ctz(bits));

		if (t)
			want_flush(c, t);
	}
}

static void touch_all(struct vgic_ctx *c)
{
	for (unsigned int i = 0; i < c->vm->nr_vcpus; i++)
		want_flush(c, c->vm->vcpus[i]);
}

/* GICv2: an SGI's latch is set while a source not yet handed to an LR
 * has it pending. */
static void sgi_sources_changed(struct vcpu *t, u32 sgi)
{
	if (t->vgic.sgi_sources[sgi])
		t->vgic.priv.pending |= bit_of(sgi);
	else
		t->vgic.priv.pending &= ~bit_of(sgi);
}

/* ----------------------------------------------------------- routing */

static u32 vcpu_mask(const struct vm *vm)
{
	return (1u << vm->nr_vcpus) - 1;
}

/* 1 of N: the first vCPU whose redistributor is awake, else vCPU 0. */
static u8 route_any(const struct vm *vm)
{
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		if (!vm->vcpus[i]->vgic.asleep)
			return (u8)i;
	return 0;
}

static u8 route_of(const struct vm *vm, const struct vgic_dist *d, u32 spi)
{
	u64 r = d->irouter[spi];

	if (d->version == GIC_V2)   /* several targets: the lowest takes it */
		return d->targets[spi] ? (u8)__builtin_ctz(d->targets[spi]) : VGIC_NO_VCPU;
	if (r & IROUTER_IRM)
		return route_any(vm);
	if ((r & IROUTER_AFF_UPPER) || (r & IROUTER_AFF0) >= vm->nr_vcpus)
		return VGIC_NO_VCPU;
	return (u8)(r & IROUTER_AFF0);
}

/* Recomputes where SPI @spi (index from 0) is delivered. */
static void update_route(struct vgic_ctx *c, u32 spi)
{
	struct vgic_dist *d = c->d;
	u8 old = d->route[spi], now = route_of(c->vm, d, spi);
	u32 m = 1u << (spi % 32);
	struct vcpu *t;

	if (old == now)
		return;
	if ((t = vcpu_at(c->vm, old))) {
		t->vgic.spi_routed[spi / 32] &= ~m;
		want_flush(c, t);
	}
	if ((t = vcpu_at(c->vm, now))) {
		t->vgic.spi_routed[spi / 32] |= m;
		want_flush(c, t);
	}
	d->route[spi] = now;
}

static void update_irm_routes(struct vgic_ctx *c)
{
	for (u32 i = 0; i < GUEST_NR_SPIS; i++)
		if (c->d->irouter[i] & IROUTER_IRM)
			update_route(c, i);
}

/* --------------------------------------------------------- MMIO helpers */

static bool access_ok(u64 off, unsigned int size, unsigned int sizes)
{
	return (size == 1 || size == 2 || size == 4 || size == 8) &&
	       (sizes & size) && IS_ALIGNED(off, size);
}

/* Something the guest did that has no effect, e.g. "write to" "GICD
 * offset" 0x40. Rate-limited: LOG_LINES lines per VM, then silence. */
static void log_guest(struct vgic_ctx *c, const char *action, const char *what,
		      u64 num)
{
	if (!c->d->log_left)
		return;
	c->d->log_left--;
	printf("hv: VM '%s': vGIC: %s %s 0x%llx ignored (not implemented)%s\n",
	       c->vm->name, action, what, (unsigned long long)num,
	       c->d->log_left ? "" : "; no more vGIC messages for this VM");
}

/* A reserved or unimplemented register: RAZ/WI, logged. */
static int reserved(struct vgic_ctx *c, const char *what, u64 off,
		    unsigned int size, bool write)
{
	if (!access_ok(off, size, SZ_W | SZ_D))
		return -EINVAL;
	log_guest(c, write ? "write to" : "read of", what, off);
	return 0;
}

/* A register with nothing behind it here (no LPIs, one Security state,
 * affinity routing always on): RAZ/WI, silently. */
static int raz_wi(u64 off, unsigned int size, unsigned int sizes)
{
	return access_ok(off, size, sizes) ? 0 : -EINVAL;
}

/* A read-only register of value @value; writes are ignored. */
static int ro_reg(u64 off, unsigned int size, unsigned int sizes, bool write,
		  u64 *val, u64 value)
{
	if (!access_ok(off, size, sizes))
		return -EINVAL;
	if (!write)
		*val = value;
	return 0;
}

/* The CoreSight-style ID block (PIDR4..CIDR3); @off inside it. */
static int id_regs(struct vgic_ctx *c, u64 off, unsigned int size, bool write,
		   u64 *val)
{
	static const u8 cidr[4] = { 0x0d, 0xf0, 0x05, 0xb1 };
	u64 value = 0;

	if (off == ID_PIDR2)
		value = (u64)c->d->version << PIDR2_ARCHREV_SHIFT | PIDR2_JEP106;
	else if (off >= ID_CIDR0 && off < ID_CIDR0 + 4 * sizeof(cidr))
		value = cidr[(off - ID_CIDR0) / 4];
	return ro_reg(off, size, SZ_W, write, val, value);
}

/* ----------------------------------------- per-INTID register families */

enum bitreg {
	BR_IGROUPR = 1,      /* (offset - GICD_BITREGS) / 0x80 + 1 */
	BR_ISENABLER,
	BR_ICENABLER,
	BR_ISPENDR,
	BR_ICPENDR,
	BR_ISACTIVER,
	BR_ICACTIVER,
};

static u32 bitreg_read(const struct vgic_bank *b, enum bitreg r)
{
	switch (r) {
	case BR_IGROUPR:
		return b->group;
	case BR_ISENABLER:
	case BR_ICENABLER:
		return b->enabled;
	case BR_ISPENDR:
	case BR_ICPENDR:
		return bank_pending(b);
	default:
		return b->active;
	}
}

static void bitreg_write(struct vgic_ctx *c, struct vcpu *v, struct vgic_bank *b,
			 u32 first, enum bitreg r, u32 val)
{
	u32 changed;

	/* GICv2 SGIs are made pending per source (SPENDSGIR) only. */
	if (!is_spi(first) && c->d->version == GIC_V2 &&
	    (r == BR_ISPENDR || r == BR_ICPENDR))
		val &= ~SGI_BITS;
	switch (r) {
	case BR_IGROUPR:
		changed = b->group ^ val;
		b->group = val;
		break;
	case BR_ISENABLER:
		changed = val & ~b->enabled;
		b->enabled |= val;
		break;
	case BR_ICENABLER:
		changed = val & b->enabled;
		b->enabled &= ~val;
		break;
	case BR_ISPENDR:
		changed = val;
		b->pending |= val;
		break;
	case BR_ICPENDR:
		changed = val & (b->pending | b->lr_pending);
		b->pending &= ~val;
		b->lr_pending &= ~val;
		break;
	case BR_ISACTIVER:
		changed = val & ~b->active;
		b->active |= val;
		break;
	default:
		changed = val & b->active;
		b->active &= ~val;
		break;
	}
	touch(c, v, first, changed);
}

static void prio_write(struct vgic_ctx *c, struct vcpu *v, struct vgic_bank *b,
		       u32 intid, u8 prio)
{
	u8 *p = &b->priority[intid % 32];

	prio &= PRIO_MASK;
	if (*p == prio)
		return;
	*p = prio;
	touch(c, v, intid, 1);
}

/* ICFGR: 2 bits per INTID, bit 1 of each = edge-triggered. */
static u32 icfgr_read(const struct vgic_bank *b, u32 first)
{
	u32 val = 0;

	for (u32 j = 0; j < 16; j++)
		if (b->edge & bit_of(first + j))
			val |= 2u << (2 * j);
	return val;
}

static void icfgr_write(struct vgic_ctx *c, struct vcpu *v, struct vgic_bank *b,
			u32 first, u32 val)
{
	u32 edge = 0, mask = 0xffffu << (first % 32);

	if (first < VGIC_NR_SGIS)
		return;      /* SGIs: always edge, read-only */
	for (u32 j = 0; j < 16; j++)
		if (val & (2u << (2 * j)))
			edge |= bit_of(first + j);
	touch(c, v, first & ~31u, (b->edge ^ edge) & mask);
	b->edge = (b->edge & ~mask) | edge;
}

/*
 * The registers with one field per INTID, at the same offsets in the
 * distributor and in the redistributor's SGI frame: IGROUPR to
 * ICACTIVER, IPRIORITYR, ICFGR. @priv: whose private bank the first
 * word addresses (NULL: RAZ/WI, GICv3 distributor); INTIDs from
 * @nr_intids up read as zero. NOT_HERE for other offsets.
 */
static int irq_regs(struct vgic_ctx *c, struct vcpu *priv, u32 nr_intids, u64 off,
		    unsigned int size, bool write, u64 *val)
{
	struct vgic_bank *b;
	u32 first;

	if (off >= GICD_BITREGS && off < GICD_IPRIORITYR) {
		enum bitreg r = (enum bitreg)((off - GICD_BITREGS) / 0x80 + BR_IGROUPR);

		first = (u32)(off % 0x80) * 8;
		if (!access_ok(off, size, SZ_W))
			return -EINVAL;
		if (first >= nr_intids || (!priv && !is_spi(first)))
			return 0;
		b = bank_of(c->d, priv, first);
		if (write)
			bitreg_write(c, priv, b, first, r, (u32)*val);
		else
			*val = bitreg_read(b, r);
		return 0;
	}
	if (off >= GICD_IPRIORITYR && off < GICD_ITARGETSR) {
		first = (u32)(off - GICD_IPRIORITYR);
		if (!access_ok(off, size, SZ_B | SZ_W))
			return -EINVAL;
		if (first >= nr_intids || (!priv && !is_spi(first)))
			return 0;
		b = bank_of(c->d, priv, first);
		for (u32 k = 0; k < size; k++) {
			if (write)
				prio_write(c, priv, b, first + k, (u8)(*val >> (8 * k)));
			else
				*val |= (u64)b->priority[(first + k) % 32] << (8 * k);
		}
		return 0;
	}
	if (off >= GICD_ICFGR && off < GICD_IGRPMODR) {
		first = (u32)(off - GICD_ICFGR) * 4;
		if (!access_ok(off, size, SZ_W))
			return -EINVAL;
		if (first >= nr_intids || (!priv && !is_spi(first)))
			return 0;
		b = bank_of(c->d, priv, first);
		if (write)
			icfgr_write(c, priv, b, first, (u32)*val);
		else
			*val = icfgr_read(b, first);
		return 0;
	}
	return NOT_HERE;
}

/* ------------------------------------------------------ the distributor */

static u32 typer_value(const struct vgic_ctx *c)
{
	if (c->d->version == GIC_V3)
		return TYPER_IDBITS | TYPER_LINES;
	return (c->vm->nr_vcpus - 1) << TYPER_CPUS_SHIFT | TYPER_LINES;
}

static int dist_ctlr(struct vgic_ctx *c, u64 off, unsigned int size, bool write,
		     u64 *val)
{
	u32 fixed = c->d->version == GIC_V3 ? CTLR_ARE | CTLR_DS : 0;
	u32 now = (u32)*val & (CTLR_ENGRP0 | CTLR_ENGRP1);

	if (!access_ok(off, size, SZ_W))
		return -EINVAL;
	if (!write) {
		*val = c->d->ctlr | fixed;
		return 0;
	}
	if (now != c->d->ctlr)
		touch_all(c);
	c->d->ctlr = now;
	return 0;
}

/* The registers both versions have at the same place. */
static int dist_common(struct vgic_ctx *c, struct vcpu *v, u64 off,
		       unsigned int size, bool write, u64 *val)
{
	struct vcpu *priv = c->d->version == GIC_V2 ? v : NULL;
	int r = irq_regs(c, priv, VGIC_NR_IRQS, off, size, write, val);

	if (r != NOT_HERE)
		return r;
	switch (off) {
	case GICD_CTLR:
		return dist_ctlr(c, off, size, write, val);
	case GICD_TYPER:
		return ro_reg(off, size, SZ_W, write, val, typer_value(c));
	case GICD_IIDR:
		return ro_reg(off, size, SZ_W, write, val, IIDR_VALUE);
	default:
		break;
	}
	if (off >= GICD_NSACR && off < GICD_SGIR)   /* one Security state */
		return raz_wi(off, size, SZ_W);
	return NOT_HERE;
}

/* GICD_IROUTER<n>, 64 bits, or either 32-bit half. */
static int dist_irouter(struct vgic_ctx *c, u64 off, unsigned int size,
			bool write, u64 *val)
{
	u32 intid = (u32)((off - GICD_IROUTER) / 8);
	unsigned int shift = (off % 8) * 8;
	u64 mask = (size == 8 ? ~0ULL : 0xffffffffULL) << shift;
	u32 i = spi_index(intid);

	if (!access_ok(off, size, SZ_W | SZ_D))
		return -EINVAL;
	if (!is_spi(intid) || intid >= VGIC_NR_IRQS)
		return 0;      /* reserved (SGIs/PPIs) or not implemented */
	if (!write) {
		*val = (c->d->irouter[i] & mask) >> shift;
		return 0;
	}
	c->d->irouter[i] = ((c->d->irouter[i] & ~mask) | ((*val << shift) & mask)) &
			    IROUTER_VALID;
	update_route(c, i);
	return 0;
}

static int dist_v3(struct vgic_ctx *c, struct vcpu *v, u64 off, unsigned int size,
		   bool write, u64 *val)
{
	int r = dist_common(c, v, off, size, write, val);

	if (r != NOT_HERE)
		return r;
	if (off >= GICD_IROUTER && off < GICD_IROUTER_END)
		return dist_irouter(c, off, size, write, val);
	if (off >= GICV3_ID_REGS)
		return id_regs(c, off - GICV3_ID_REGS, size, write, val);
	if (off == GICD_TYPER2 || off == GICD_STATUSR)
		return ro_reg(off, size, SZ_W, write, val, 0);
	/* With affinity routing these are RES0: targets, GICv2 SGIs. */
	if (off >= GICD_ITARGETSR && off < GICD_ICFGR)
		return raz_wi(off, size, SZ_B | SZ_W);
	if (off >= GICD_CPENDSGIR && off < GICD_SGI_REGS_END)
		return raz_wi(off, size, SZ_B | SZ_W);
	if (off == GICD_SGIR)
		return raz_wi(off, size, SZ_W);
	if (off >= GICD_IGRPMODR && off < GICD_NSACR)   /* RAZ/WI with DS = 1 */
		return raz_wi(off, size, SZ_W);
	return reserved(c, "GICD offset", off, size, write);
}

/* GICv2 GICD_ITARGETSR: byte @intid; the private ones read as the
 * caller's own CPU interface. */
static int dist_itargets(struct vgic_ctx *c, struct vcpu *v, u64 off,
			 unsigned int size, bool write, u64 *val)
{
	u32 first = (u32)(off - GICD_ITARGETSR);

	if (!access_ok(off, size, SZ_B | SZ_W))
		return -EINVAL;
	for (u32 k = 0; k < size; k++) {
		u32 intid = first + k, i = spi_index(intid);
		u8 byte = (u8)(*val >> (8 * k));

		if (intid >= VGIC_NR_IRQS)
			break;
		if (!is_spi(intid)) {
			if (!write)
				*val |= (u64)(1u << v->index) << (8 * k);
		} else if (!write) {
			*val |= (u64)c->d->targets[i] << (8 * k);
		} else {
			c->d->targets[i] = byte & vcpu_mask(c->vm);
			update_route(c, i);
		}
	}
	return 0;
}

/* GICv2 GICD_SGIR: SGI from @v to a list, to the others, or to itself. */
static void dist_sgir(struct vgic_ctx *c, struct vcpu *v, u32 val)
{
	u32 sgi = SGIR_INTID(val), targets;

	switch (SGIR_FILTER(val)) {
	case SGIR_LIST:
		targets = SGIR_TARGETS(val);
		break;
	case SGIR_OTHERS:
		targets = ~(1u << v->index);
		break;
	case SGIR_SELF:
		targets = 1u << v->index;
		break;
	default:
		log_guest(c, "write to", "GICD_SGIR with reserved filter, value", val);
		return;
	}
	for (targets &= vcpu_mask(c->vm); targets; targets &= targets - 1) {
		struct vcpu *t = c->vm->vcpus[__builtin_ctz(targets)];

		t->vgic.sgi_sources[sgi] |= (u8)(1u << v->index);
		sgi_sources_changed(t, sgi);
		want_flush(c, t);
	}
}

/* GICv2 GICD_CPENDSGIR / GICD_SPENDSGIR: one byte of sources per SGI. */
static int dist_sgi_pending(struct vgic_ctx *c, struct vcpu *v, u64 off,
			    unsigned int size, bool write, u64 *val)
{
	bool set = off >= GICD_SPENDSGIR;
	u32 first = (u32)(off - (set ? GICD_SPENDSGIR : GICD_CPENDSGIR));

	if (!access_ok(off, size, SZ_B | SZ_W))
		return -EINVAL;
	for (u32 k = 0; k < size; k++) {
		u32 sgi = first + k;
		u8 *src = &v->vgic.sgi_sources[sgi];
		u8 in_lr = (v->vgic.priv.lr_pending & bit_of(sgi)) ?
			   (u8)(1u << v->vgic.sgi_lr_source[sgi]) : 0;
		u8 byte = (u8)(*val >> (8 * k)) & (u8)vcpu_mask(c->vm);

		if (!write) {
			*val |= (u64)(*src | in_lr) << (8 * k);
			continue;
		}
		*src = set ? *src | byte : *src & ~byte;
		if (!set && (byte & in_lr))
			v->vgic.priv.lr_pending &= ~bit_of(sgi);
		sgi_sources_changed(v, sgi);
	}
	if (write)
		want_flush(c, v);
	return 0;
}

static int dist_v2(struct vgic_ctx *c, struct vcpu *v, u64 off, unsigned int size,
		   bool write, u64 *val)
{
	int r = dist_common(c, v, off, size, write, val);

	if (r != NOT_HERE)
		return r;
	if (off >= GICD_ITARGETSR && off < GICD_ICFGR)
		return dist_itargets(c, v, off, size, write, val);
	if (off == GICD_SGIR) {
		if (!access_ok(off, size, SZ_W))
			return -EINVAL;
		if (write)
			dist_sgir(c, v, (u32)*val);
		return 0;
	}
	if (off >= GICD_CPENDSGIR && off < GICD_SGI_REGS_END)
		return dist_sgi_pending(c, v, off, size, write, val);
	if (off >= GICV2_ID_REGS && off < GICV2_DIST_SIZE)
		return id_regs(c, off - GICV2_ID_REGS, size, write, val);
	return reserved(c, "GICD offset", off, size, write);
}

/* The bytes an access of @size covers; the decoders see only those. */
static u64 size_mask(unsigned int size)
{
	return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

int vgic_dist_mmio(struct vcpu *v, u64 off, unsigned int size, bool write, u64 *val)
{
	u64 data = write ? *val & size_mask(size) : 0;
	struct vgic_ctx c;
	int r;

	if (off >= GUEST_GICD_SIZE || size > GUEST_GICD_SIZE - off)
		return -ERANGE;
	ctx_lock(&c, v->vm, v);
	if (c.d->version == GIC_V3)
		r = dist_v3(&c, v, off, size, write, &data);
	else
		r = dist_v2(&c, v, off, size, write, &data);
	ctx_unlock(&c);
	if (!write)
		*val = data & size_mask(size);
	return r;
}

/* -------------------------------------------------- the redistributors */

static u64 gicr_typer(const struct vm *vm, const struct vcpu *t)
{
	u64 typer = (u64)t->index << TYPER_AFF_SHIFT | (u64)t->index << TYPER_PROC_SHIFT;

	return t->index == vm->nr_vcpus - 1 ? typer | TYPER_LAST : typer;
}

/* GICR_WAKER: ChildrenAsleep follows ProcessorSleep at once. */
static int gicr_waker(struct vgic_ctx *c, struct vcpu *t, u64 off,
		      unsigned int size, bool write, u64 *val)
{
	bool sleep = *val & WAKER_SLEEP;

	if (!access_ok(off, size, SZ_W))
		return -EINVAL;
	if (!write) {
		*val = t->vgic.asleep ? WAKER_SLEEP | WAKER_ASLEEP : 0;
		return 0;
	}
	if (sleep != t->vgic.asleep) {
		t->vgic.asleep = sleep;
		update_irm_routes(c);
	}
	return 0;
}

/* RD_base frame of vCPU @t. */
static int gicr_rd(struct vgic_ctx *c, struct vcpu *t, u64 off, unsigned int size,
		   bool write, u64 *val)
{
	switch (off) {
	case GICR_CTLR:         /* no LPIs: EnableLPIs RES0, RWP always 0 */
	case GICR_STATUSR:
		return ro_reg(off, size, SZ_W, write, val, 0);
	case GICR_IIDR:
		return ro_reg(off, size, SZ_W, write, val, IIDR_VALUE);
	case GICR_TYPER:
	case GICR_TYPER + 4:
		return ro_reg(off, size, off == GICR_TYPER ? SZ_W | SZ_D : SZ_W, write,
			      val, gicr_typer(c->vm, t) >> (8 * (off - GICR_TYPER)));
	case GICR_WAKER:
		return gicr_waker(c, t, off, size, write, val);
	default:
		break;
	}
	if (off >= GICR_PROPBASER && off < GICR_PENDBASER + 8)   /* no LPIs */
		return raz_wi(off, size, SZ_W | SZ_D);
	if (off >= GICV3_ID_REGS)
		return id_regs(c, off - GICV3_ID_REGS, size, write, val);
	return reserved(c, "GICR RD_base offset", off, size, write);
}

/* SGI_base frame of vCPU @t. */
static int gicr_sgi(struct vgic_ctx *c, struct vcpu *t, u64 off, unsigned int size,
		    bool write, u64 *val)
{
	int r = irq_regs(c, t, VGIC_NR_PRIVATE, off, size, write, val);

	if (r != NOT_HERE)
		return r;
	if (off == GICR_IGRPMODR0 || off == GICR_NSACR)   /* DS = 1 */
		return raz_wi(off, size, SZ_W);
	return reserved(c, "GICR SGI_base offset", off, size, write);
}

u64 vgic_redist_size(const struct vm *vm)
{
	return vm->nr_vcpus * GUEST_GICR_STRIDE;
}

int vgic_redist_mmio(struct vcpu *v, u64 off, unsigned int size, bool write, u64 *val)
{
	struct vm *vm = v->vm;
	struct vcpu *t;
	struct vgic_ctx c;
	u64 data;
	int r;

	if (vm->vgic.version != GIC_V3)
		return -ENOSYS;
	if (off >= vgic_redist_size(vm) || size > vgic_redist_size(vm) - off)
		return -ERANGE;
	t = vm->vcpus[off / GUEST_GICR_STRIDE];
	off %= GUEST_GICR_STRIDE;
	data = write ? *val & size_mask(size) : 0;
	ctx_lock(&c, vm, v);
	if (off < GICR_SGI_FRAME)
		r = gicr_rd(&c, t, off, size, write, &data);
	else
		r = gicr_sgi(&c, t, off - GICR_SGI_FRAME, size, write, &data);
	ctx_unlock(&c);
	if (!write)
		*val = data & size_mask(size);
	return r;
}

/* --------------------------------------------------------------- SGIs */

/* The vCPUs an ICC_SGI1R_EL1 value names (ours all have Aff3.2.1 = 0). */
static u32 sgi1r_targets(const struct vm *vm, const struct vcpu *v, u64 val)
{
	u32 list = (u32)SGI1R_TARGETS(val), targets = 0;
	u32 base = (u32)SGI1R_RS(val) * 16;

	if (val & SGI1R_IRM)
		return vcpu_mask(vm) & ~(1u << v->index);
	if (SGI1R_AFF1(val) || SGI1R_AFF2(val) || SGI1R_AFF3(val))
		return 0;
	for (; list; list &= list - 1) {
		u32 aff0 = base + (u32)__builtin_ctz(list);

		if (aff0 < vm->nr_vcpus)
			targets |= 1u << aff0;
	}
	return targets;
}

void vgic_sgi_sysreg(struct vcpu *v, u64 val, bool group0)
{
	u32 sgi = (u32)SGI1R_INTID(val), m = bit_of(sgi);
	struct vgic_ctx c;

	ctx_lock(&c, v->vm, v);
	if (c.d->version != GIC_V3) {
		log_guest(&c, "write to", "ICC_SGI*R_EL1 on GICv2, value", val);
		ctx_unlock(&c);
		return;
	}
	for (u32 t = sgi1r_targets(v->vm, v, val); t; t &= t - 1) {
		struct vcpu *to = v->vm->vcpus[__builtin_ctz(t)];

		/* A group 0 request raises only SGIs configured group 0;
		 * SGI1R raises either group (one Security state). */
		if (group0 && (to->vgic.priv.group & m))
			continue;
		to->vgic.priv.pending |= m;
		want_flush(&c, to);
	}
	ctx_unlock(&c);
}

/* -------------------------------------------------------- injection */

static bool injectable(const struct vm *vm, const struct vcpu *target, u32 intid)
{
	if (intid < VGIC_NR_SGIS || intid >= VGIC_NR_IRQS)
		return false;
	if (is_spi(intid))
		return !target;
	return target && target->vm == vm;
}

static void bad_injection(const struct vm *vm, u32 intid)
{
	printf("hv: VM '%s': vGIC: bad injection of INTID %u ignored\n",
	       vm->name, intid);
}

void vgic_inject_edge(struct vm *vm, struct vcpu *target, u32 intid)
{
	struct vgic_ctx c;

	if (!injectable(vm, target, intid)) {
		bad_injection(vm, intid);
		return;
	}
	ctx_lock(&c, vm, NULL);
	bank_of(c.d, target, intid)->pending |= bit_of(intid);
	touch(&c, target, intid, 1);
	ctx_unlock(&c);
}

void vgic_set_level(struct vm *vm, struct vcpu *target, u32 intid, bool level)
{
	struct vgic_ctx c;
	struct vgic_bank *b;
	u32 m = bit_of(intid);

	if (!injectable(vm, target, intid)) {
		bad_injection(vm, intid);
		return;
	}
	ctx_lock(&c, vm, NULL);
	b = bank_of(c.d, target, intid);
	if (level != !!(b->level & m)) {
		if (level && (b->edge & m))
			b->pending |= m;     /* rising edge */
		b->level ^= m;
		touch(&c, target, intid, 1);
	}
	ctx_unlock(&c);
}

void vgic_inject_hw_ppi(struct vcpu *v, u32 intid)
{
	struct vgic_ctx c;

	if (intid < VGIC_NR_SGIS || intid >= VGIC_NR_PRIVATE) {
		bad_injection(v->vm, intid);
		return;
	}
	ctx_lock(&c, v->vm, v);
	v->vgic.priv.pending |= bit_of(intid);
	v->vgic.hw_live |= bit_of(intid);
	want_flush(&c, v);
	ctx_unlock(&c);
}

/* ---------------------------------------------------- list registers */

static void lr_claim(struct vgic_ctx *c, struct vcpu *v, u32 intid)
{
	bank_of(c->d, v, intid)->in_lr |= bit_of(intid);
	if (is_spi(intid)) {
		c->d->owner[spi_index(intid)] = (u8)v->index;
		v->vgic.spi_in_lr[spi_index(intid) / 32] |= bit_of(intid);
	}
}

/*
 * Pending state moves: an interrupt's pending latch is handed to the LR
 * that shows it pending (lr_pending), so that an edge arriving after
 * the guest has silently acknowledged that LR is a new pending state,
 * not one that the next vgic_sync() would take for acknowledged. It
 * moves back when the LR stops showing it unacknowledged.
 */
static void pending_to_lr(struct vgic_bank *b, u32 m)
{
	b->lr_pending |= b->pending & m;
	b->pending &= ~m;
}

static void pending_from_lr(struct vgic_ctx *c, struct vcpu *v, u32 intid)
{
	struct vgic_bank *b = bank_of(c->d, v, intid);
	u32 m = bit_of(intid);

	if (!(b->lr_pending & m))
		return;
	b->lr_pending &= ~m;
	if (c->d->version == GIC_V2 && intid < VGIC_NR_SGIS) {
		v->vgic.sgi_sources[intid] |= (u8)(1u << v->vgic.sgi_lr_source[intid]);
		sgi_sources_changed(v, intid);
	} else {
		b->pending |= m;
	}
}

/*
 * @intid leaves @v's LRs (completed, evicted, or @v reset). An SPI is
 * then free for the vCPU it is routed to, which may have been changed
 * meanwhile: that vCPU must look. Only @v's own claim is released:
 * after vgic_reset() an SPI may already be claimed anew.
 */
static void lr_release(struct vgic_ctx *c, struct vcpu *v, u32 intid)
{
	u32 m = bit_of(intid);
	struct vcpu *t;

	if (is_spi(intid)) {
		u32 *mine = &v->vgic.spi_in_lr[spi_index(intid) / 32];

		if (!(*mine & m))
			return;
		*mine &= ~m;
	}
	pending_from_lr(c, v, intid);
	bank_of(c->d, v, intid)->in_lr &= ~m;
	if (is_spi(intid) && (t = vcpu_at(c->vm, c->d->route[spi_index(intid)])) && t != v)
		want_flush(c, t);
}

/* Empties LR @i; what it held pending goes back to the model. */
static void lr_free(struct vgic_ctx *c, struct vcpu *v, unsigned int i, u32 intid)
{
	struct vgic_cpu *vc = &v->vgic;

	hw->write_lr(i, 0);
	vc->lr_val[i] = 0;
	vc->lr_used &= ~(1u << i);
	lr_release(c, v, intid);
}

/*
 * LR @i now reads @raw: apply what the guest's CPU interface did to it
 * since it was written (acknowledge: the pending state it was handed is
 * consumed; activation and deactivation: active came or went) to the
 * model. Changes the model made meanwhile (another vCPU cleared the
 * pending or active state, a new edge) are kept: only the guest's
 * transitions are applied, not the LR state.
 */
static void lr_fold(struct vgic_ctx *c, struct vcpu *v, unsigned int i, u64 raw)
{
	struct vgic_lr was, now;
	struct vgic_bank *b;
	u32 m;

	hw->lr_decode(v->vgic.lr_val[i], &was);
	hw->lr_decode(raw, &now);
	b = bank_of(c->d, v, was.intid);
	m = bit_of(was.intid);
	if ((was.state & VGIC_LR_PENDING) && !(now.state & VGIC_LR_PENDING))
		b->lr_pending &= ~m;      /* acknowledged */
	if (!(was.state & VGIC_LR_ACTIVE) && (now.state & VGIC_LR_ACTIVE))
		b->active |= m;
	if ((was.state & VGIC_LR_ACTIVE) && !(now.state & VGIC_LR_ACTIVE))
		b->active &= ~m;
	if (now.state) {
		v->vgic.lr_val[i] = raw;
		return;
	}
	/* Completed. With HW set, the guest's deactivation has also
	 * deactivated the physical interrupt. */
	if (was.hw)
		v->vgic.hw_live &= ~m;
	lr_free(c, v, i, was.intid);
}

/* The LRs in use: read each, and fold those the guest changed. */
static __attribute__((noinline)) void sync_lrs(struct vcpu *v)
{
	struct vgic_cpu *vc = &v->vgic;
	u64 now[VGIC_MAX_LRS];
	u32 changed = 0;
	struct vgic_ctx c;

	for (u32 m = vc->lr_used; m; m &= m - 1) {
		unsigned int i = __builtin_ctz(m);

		now[i] = hw->read_lr(i);
		if (now[i] != vc->lr_val[i])
			changed |= 1u << i;
	}
	if (!changed)
		return;
	ctx_lock(&c, v->vm, v);
	for (u32 m = changed; m; m &= m - 1)
		lr_fold(&c, v, __builtin_ctz(m), now[__builtin_ctz(m)]);
	want_flush(&c, v);
	ctx_unlock(&c);
}

void vgic_sync(struct vcpu *v)
{
	if (v->vgic.lr_used)
		sync_lrs(v);
}

/* A candidate for a list register. */
struct pick {
	u32 intid;
	u8 priority;
	bool active;
};

/* Active ones first (they must stay where the guest can deactivate
 * them), then by priority, then by INTID. */
static bool pick_before(const struct pick *a, const struct pick *b)
{
	if (a->active != b->active)
		return a->active;
	if (a->priority != b->priority)
		return a->priority < b->priority;
	return a->intid < b->intid;
}

/* The best nr_lrs candidates, in order. */
struct picks {
	struct pick p[VGIC_MAX_LRS];
	unsigned int n;
	bool left_over;          /* a pending candidate did not fit */
};

static void picks_add(struct picks *s, struct pick p)
{
	unsigned int j;

	if (s->n >= nr_lrs) {     /* full: @p replaces the last, or is left */
		if (!s->n || !pick_before(&p, &s->p[s->n - 1])) {
			s->left_over |= !p.active;
			return;
		}
		s->left_over |= !s->p[--s->n].active;
	}
	for (j = s->n; j > 0 && pick_before(&p, &s->p[j - 1]); j--)
		s->p[j] = s->p[j - 1];
	s->p[j] = p;
	s->n++;
}

static void picks_add_bank(struct picks *s, const struct vgic_bank *b, u32 first,
			   u32 bits)
{
	for (; bits; bits &= bits - 1) {
		u32 k = __builtin_ctz(bits);

		picks_add(s, (struct pick){ first + k, b->priority[k],
					    (b->active >> k) & 1 });
	}
}

/* Every interrupt that should be in @v's LRs, best first. */
static void gather(struct vgic_ctx *c, struct vcpu *v, struct picks *s)
{
	const struct vgic_dist *d = c->d;
	const struct vgic_cpu *vc = &v->vgic;

	s->n = 0;
	s->left_over = false;
	picks_add_bank(s, &vc->priv, 0, deliverable(d, &vc->priv) | vc->priv.active);
	for (u32 k = 0; k < VGIC_SPI_BANKS; k++) {
		const struct vgic_bank *b = &d->spi[k];
		u32 mine = vc->spi_in_lr[k], others = b->in_lr & ~mine;
		/* Pending ones follow the routing; an active one stays in the
		 * LR it is in until the guest deactivates it. */
		u32 want = ((deliverable(d, b) | b->active) & vc->spi_routed[k] & ~others) |
			   (b->active & mine);

		picks_add_bank(s, b, VGIC_NR_PRIVATE + 32 * k, want);
	}
}

static u32 lowest_bit(u32 x)
{
	return (u32)__builtin_ctz(x);
}

/*
 * GICv2 SGI @sgi: one source at a time is pending in the LR, the others
 * wait in sgi_sources, and the LR's deactivation exits so that the next
 * one follows. Returns whether the LR shows it pending.
 */
static bool sgi_v2_build(struct vcpu *v, u32 sgi, bool active, bool pending,
			 struct vgic_lr *lr)
{
	struct vgic_cpu *vc = &v->vgic;
	u8 *src = &vc->sgi_sources[sgi];

	if (!pending) {
		/* nothing to show */
	} else if (vc->priv.lr_pending & bit_of(sgi)) {
		lr->source = vc->sgi_lr_source[sgi];   /* a repeat merges */
		*src &= (u8)~(1u << lr->source);
	} else if (active || !*src) {
		pending = false;
	} else {
		lr->source = (u8)__builtin_ctz(*src);
		*src &= (u8)~(1u << lr->source);
		vc->sgi_lr_source[sgi] = lr->source;
		vc->priv.lr_pending |= bit_of(sgi);
	}
	sgi_sources_changed(v, sgi);
	lr->eoi_maint = *src != 0;
	return pending;
}

/*
 * The LR contents for @intid on @v; @held: the LR it is in now, or -1.
 * What the LR shows pending is handed to it (pending_to_lr()). An
 * active interrupt keeps the priority and source it was acknowledged
 * with. A pending state the LR cannot show (a HW interrupt that is
 * active: its physical one cannot fire again yet; a GICv2 SGI from
 * another source while one is active) waits in the model.
 */
static void lr_build(struct vgic_ctx *c, struct vcpu *v, u32 intid, int held,
		     struct vgic_lr *lr)
{
	struct vgic_cpu *vc = &v->vgic;
	struct vgic_bank *b = bank_of(c->d, v, intid);
	u32 m = bit_of(intid);
	bool active = b->active & m, pending = deliverable(c->d, b) & m;

	*lr = (struct vgic_lr){ .intid = intid, .priority = b->priority[intid % 32],
				.group1 = b->group & m };
	if (active && held >= 0) {
		struct vgic_lr now;

		hw->lr_decode(vc->lr_val[held], &now);
		lr->priority = now.priority;
		lr->source = now.source;
	}
	if (!is_spi(intid) && (vc->hw_live & m)) {
		lr->hw = true;
		if (active)
			pending = false;
	} else if (!(b->edge & m)) {
		lr->eoi_maint = true;     /* level-sensitive: resample then */
	}
	if (c->d->version == GIC_V2 && intid < VGIC_NR_SGIS)
		pending = sgi_v2_build(v, intid, active, pending, lr);
	else if (pending)
		pending_to_lr(b, m);
	if (!pending)
		pending_from_lr(c, v, intid);
	lr->state = (pending ? VGIC_LR_PENDING : 0) | (active ? VGIC_LR_ACTIVE : 0);
}

/* Writes @s into @v's LRs, reusing the LR an interrupt is already in;
 * returns the HCR maintenance bits the overflow, if any, needs. */
static u32 lr_place(struct vgic_ctx *c, struct vcpu *v, const struct picks *s)
{
	struct vgic_cpu *vc = &v->vgic;
	struct vgic_lr lr[VGIC_MAX_LRS];
	int held[VGIC_MAX_LRS];
	bool any_pending = false;

	for (unsigned int j = 0; j < s->n; j++)
		held[j] = -1;
	for (u32 m = vc->lr_used; m; m &= m - 1) {
		unsigned int i = __builtin_ctz(m), j;
		struct vgic_lr now;

		hw->lr_decode(vc->lr_val[i], &now);
		for (j = 0; j < s->n && s->p[j].intid != now.intid; j++)
			;
		if (j < s->n)
			held[j] = (int)i;
		else
			lr_free(c, v, i, now.intid);     /* no longer belongs there */
	}
	for (unsigned int j = 0; j < s->n; j++) {
		lr_build(c, v, s->p[j].intid, held[j], &lr[j]);
		any_pending |= lr[j].state & VGIC_LR_PENDING;
	}
	for (unsigned int j = 0; j < s->n; j++) {
		unsigned int i;
		u64 raw;

		/* Every LR active and more waiting: hear of each completion. */
		if (s->left_over && !any_pending && !lr[j].hw)
			lr[j].eoi_maint = true;
		raw = hw->lr_encode(&lr[j]);
		if (held[j] >= 0) {
			i = (unsigned int)held[j];
		} else {
			i = lowest_bit(~vc->lr_used);
			vc->lr_used |= 1u << i;
			lr_claim(c, v, s->p[j].intid);
		}
		if (raw != vc->lr_val[i]) {
			hw->write_lr(i, raw);
			vc->lr_val[i] = raw;
		}
	}
	if (!s->left_over)
		return 0;
	/* More pending than fits: exit when the guest has taken every
	 * pending one, or (all active) when the LRs have drained. */
	return any_pending ? VGIC_HCR_NPIE : VGIC_HCR_UIE;
}

/* Forwarded PPIs that the model no longer holds for the guest (cleared
 * pending or active state, disabled... by MMIO): the guest will never
 * deactivate them, so the hypervisor does. */
static void hw_reconcile(struct vcpu *v)
{
	struct vgic_cpu *vc = &v->vgic;
	u32 dead = vc->hw_live & ~vc->priv.in_lr &
		   ~(vc->priv.pending | vc->priv.lr_pending | vc->priv.active);

	for (u32 m = dead; m; m &= m - 1)
		hw->deactivate(__builtin_ctz(m));
	vc->hw_live &= ~dead;
}

/* Something changed for @v: recompute its LRs from the model. */
static __attribute__((noinline)) void flush_lrs(struct vcpu *v)
{
	struct vgic_cpu *vc = &v->vgic;
	struct picks s;
	struct vgic_ctx c;
	u32 hcr;

	ctx_lock(&c, v->vm, v);
	/* Under the lock every other setter is excluded; the maintenance
	 * handler, the one setter without it, runs on this CPU with IRQs
	 * masked, so not now. */
	__atomic_store_n(&vc->work, 0, __ATOMIC_RELAXED);
	gather(&c, v, &s);
	hcr = VGIC_HCR_EN | lr_place(&c, v, &s);
	if (hcr != vc->hcr) {
		hw->write_hcr(hcr);
		vc->hcr = hcr;
	}
	hw_reconcile(v);
	ctx_unlock(&c);
}

void vgic_flush(struct vcpu *v)
{
	/* Relaxed: see want_flush(). */
	if (__atomic_load_n(&v->vgic.work, __ATOMIC_RELAXED))
		flush_lrs(v);
}

bool vgic_has_pending(struct vcpu *v)
{
	struct vgic_vmcr vmcr = hw->read_vmcr();
	const struct vgic_cpu *vc = &v->vgic;
	struct vgic_ctx c;
	bool found = false;

	ctx_lock(&c, v->vm, v);
	for (u32 k = 0; k <= VGIC_SPI_BANKS && !found; k++) {
		const struct vgic_bank *b = k ? &c.d->spi[k - 1] : &vc->priv;
		u32 bits = deliverable(c.d, b) &
			   ((vmcr.grp1_en ? b->group : 0) | (vmcr.grp0_en ? ~b->group : 0));

		if (k)
			bits &= vc->spi_routed[k - 1] | vc->spi_in_lr[k - 1];
		for (; bits && !found; bits &= bits - 1)
			found = b->priority[__builtin_ctz(bits)] < vmcr.pmr;
	}
	ctx_unlock(&c);
	return found;
}

void vgic_maintenance(struct vcpu *v)
{
	/* The condition (an LR to clean up, an LR to refill) is dealt with
	 * by the vgic_sync() and vgic_flush() around the next entry; until
	 * then the level-triggered maintenance interrupt must be quiet. */
	hw->write_hcr(0);
	if (v) {
		v->vgic.hcr = 0;
		__atomic_fetch_or(&v->vgic.work, 1, __ATOMIC_RELAXED);
	}
}

/* ------------------------------------------------------------ resets */

/* @v's private interrupts to reset; its SPIs leave its LRs. The input
 * lines are the devices', not the GIC's: they are kept. */
static void reset_private(struct vgic_ctx *c, struct vcpu *v)
{
	struct vgic_cpu *vc = &v->vgic;
	u32 level = vc->priv.level;

	memset(&vc->priv, 0, sizeof(vc->priv));
	vc->priv.level = level;
	vc->priv.group = c->d->version == GIC_V3 ? ~0u : 0;
	vc->priv.enabled = SGI_BITS;
	vc->priv.edge = SGI_BITS;
	memset(vc->sgi_sources, 0, sizeof(vc->sgi_sources));
	memset(vc->sgi_lr_source, 0, sizeof(vc->sgi_lr_source));
	for (u32 k = 0; k < VGIC_SPI_BANKS; k++)
		for (u32 m = vc->spi_in_lr[k]; m; m &= m - 1)
			lr_release(c, v, VGIC_NR_PRIVATE + 32 * k + __builtin_ctz(m));
	vc->asleep = true;
	update_irm_routes(c);
	want_flush(c, v);
}

void vgic_reset(struct vm *vm)
{
	struct vgic_dist *d = &vm->vgic;
	struct vgic_ctx c;

	ctx_lock(&c, vm, NULL);
	d->ctlr = 0;
	for (u32 k = 0; k < VGIC_SPI_BANKS; k++) {
		u32 level = d->spi[k].level;

		memset(&d->spi[k], 0, sizeof(d->spi[k]));
		d->spi[k].level = level;
		d->spi[k].group = d->version == GIC_V3 ? ~0u : 0;
	}
	memset(d->targets, 0, sizeof(d->targets));
	memset(d->irouter, 0, sizeof(d->irouter));
	for (u32 i = 0; i < vm->nr_vcpus; i++) {
		memset(vm->vcpus[i]->vgic.spi_routed, 0, sizeof(vm->vcpus[i]->vgic.spi_routed));
		memset(vm->vcpus[i]->vgic.spi_in_lr, 0, sizeof(vm->vcpus[i]->vgic.spi_in_lr));
	}
	for (u32 i = 0; i < vm->nr_vcpus; i++)
		reset_private(&c, vm->vcpus[i]);
	for (u32 i = 0; i < GUEST_NR_SPIS; i++) {
		d->route[i] = VGIC_NO_VCPU;
		update_route(&c, i);
	}
	ctx_unlock(&c);
}

void vgic_vcpu_reset(struct vcpu *v)
{
	struct vgic_cpu *vc = &v->vgic;
	struct vgic_ctx c;

	ctx_lock(&c, v->vm, v);
	reset_private(&c, v);
	for (u32 m = vc->hw_live; m; m &= m - 1)
		hw->deactivate(__builtin_ctz(m));
	vc->hw_live = 0;
	hw->reset_cpu();
	memset(vc->lr_val, 0, sizeof(vc->lr_val));
	vc->lr_used = 0;
	vc->hcr = 0;
	ctx_unlock(&c);
}

/* ---------------------------------------------------- set-up and glue */

void vgic_use_hw(const struct vgic_hw_ops *ops, unsigned int n)
{
	hw = ops;
	nr_lrs = MIN(n, (unsigned int)VGIC_MAX_LRS);
}

#ifdef __aarch64__

static enum irq_result maintenance_irq(u32 intid)
{
	vgic_maintenance(this_cpu()->vcpu);
	return IRQ_DONE;
}

/* The backend for the physical GIC, once, on the boot CPU. */
static int hw_setup(void)
{
	const struct board_gic *g = gic_board();
	const struct vgic_hw_ops *ops = NULL;
	unsigned int n = 0;
	int r = -ENOSYS;

	if (hw)
		return 0;
#ifdef CONFIG_GICV3
	if (g->version == GIC_V3)
		r = vgic_v3_probe(&ops, &n);
#endif
#ifdef CONFIG_GICV2
	if (g->version == GIC_V2)
		r = vgic_v2_probe(g, &ops, &n);
#endif
	if (!r && !g->maint_intid) {
		printf("hv: vGIC: the DTB names no GIC maintenance interrupt\n");
		r = -ENOSYS;
	}
	if (!r)
		r = gic_request_private(g->maint_intid, maintenance_irq);
	if (r)
		return r;
	vgic_use_hw(ops, n);
	printf("hv: vGIC: GICv%d, %u list registers, maintenance INTID %u\n",
	       g->version, n, g->maint_intid);
	return 0;
}

void vgic_cpu_init_hw(void)
{
	if (!hw)
		return;      /* no VM was set up: nothing uses the interface */
	hw->reset_cpu();
	gic_enable_private_here(gic_board()->maint_intid);
}

#else

/* Host tests install their backend with vgic_use_hw(). */
static int hw_setup(void)
{
	return hw ? 0 : -ENOSYS;
}

#endif

int vgic_init(struct vm *vm)
{
	struct vgic_dist *d = &vm->vgic;
	int r = hw_setup();

	if (r)
		return r;
	if (!vm->nr_vcpus || vm->nr_vcpus > VM_MAX_VCPUS)
		return -EINVAL;
	memset(d, 0, sizeof(*d));
	d->lock = (struct spinlock)SPINLOCK_INIT;
	d->version = hw->version;
	d->log_left = LOG_LINES;
	for (u32 i = 0; i < vm->nr_vcpus; i++)
		memset(&vm->vcpus[i]->vgic, 0, sizeof(vm->vcpus[i]->vgic));
	vgic_reset(vm);
	return 0;
}
