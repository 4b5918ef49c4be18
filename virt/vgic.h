/*
 * The virtual GIC: a distributor (and, on GICv3, one redistributor per
 * vCPU) emulated on trapped MMIO, and the hardware's virtual CPU
 * interface delivering what the model makes pending through its list
 * registers (LRs). The version follows the physical GIC: GICv3 with the
 * system-register CPU interface, or GICv2, whose CPU interface the guest
 * reaches as the hardware GICV page mapped at GUEST_GICC_BASE.
 *
 * Guest view: SGIs, PPIs and GUEST_NR_SPIS SPIs; 5 priority bits; one
 * Security state (GICD_CTLR.DS = 1), groups 0 and 1; GICv3 always with
 * affinity routing (ARE = 1), no LPIs; vCPU i has affinity 0.0.0.i.
 *
 * State lives in two places. The *model* (every interrupt's enable,
 * pending, active, group, priority, trigger and routing) is protected by
 * the VM's vgic_dist.lock. The *list registers* of a vCPU exist only on
 * its physical CPU (vCPUs are pinned, one per physical CPU), and so does
 * the bookkeeping of what was written into them: vgic_sync() folds what
 * the guest did to them back into the model after an exit, vgic_flush()
 * puts the highest-priority deliverable interrupts into them before an
 * entry. List registers, ICH_VMCR/GICH_VMCR and the active-priority
 * registers stay loaded while the vCPU is out of the guest: nothing else
 * runs a guest on that CPU.
 */
#ifndef VIRT_VGIC_H
#define VIRT_VGIC_H

#include "boot/board.h"
#include "lib/spinlock.h"
#include "lib/types.h"
#include "virt/guest_map.h"

struct vm;
struct vcpu;

#define VGIC_NR_SGIS 16
#define VGIC_NR_PRIVATE 32                    /* SGIs and PPIs */
#define VGIC_NR_IRQS (VGIC_NR_PRIVATE + GUEST_NR_SPIS)
#define VGIC_SPI_BANKS (GUEST_NR_SPIS / 32)
#define VGIC_MAX_LRS 16                       /* list registers used at most */
#define VGIC_NO_VCPU 0xff                     /* an SPI routed nowhere */

_Static_assert(GUEST_NR_SPIS % 32 == 0 && GUEST_NR_SPIS <= 988,
	       "SPIs come in whole 32-interrupt banks below INTID 1020");

/* State of 32 consecutive INTIDs, one bit (or byte) each. */
struct vgic_bank {
	u32 group;        /* 1: group 1 */
	u32 enabled;
	u32 pending;      /* pending latch: an edge, ISPENDR, an SGI, a
			   * forwarded PPI; handed over to an LR that
			   * shows it pending (lr_pending) */
	u32 lr_pending;   /* latch held by the owning vCPU's LR, which showed
			   * it pending at the last sync: cleared when the
			   * guest acknowledges it, back to the latch if the
			   * LR gives it up */
	u32 level;        /* input line of level-sensitive interrupts */
	u32 active;
	u32 edge;         /* 1: edge-triggered, 0: level-sensitive */
	u32 in_lr;        /* held in a list register of its owning vCPU */
	u8 priority[32];  /* upper 5 bits kept */
};

/* One vCPU's interrupt state. */
struct vgic_cpu {
	/* Model, under the VM's vgic_dist.lock: */
	struct vgic_bank priv;                /* INTIDs 0..31 */
	u8 sgi_sources[VGIC_NR_SGIS];         /* GICv2: pending SGI sources
					       * (bit n: from vCPU n) */
	u8 sgi_lr_source[VGIC_NR_SGIS];       /* GICv2: the source whose SGI
					       * an LR holds (lr_pending) */
	u32 spi_routed[VGIC_SPI_BANKS];       /* SPIs delivered to this vCPU */
	u32 spi_in_lr[VGIC_SPI_BANKS];        /* SPIs in its list registers */
	bool asleep;                          /* GICR_WAKER.ProcessorSleep */
	/* Only ever touched on the vCPU's physical CPU, IRQs masked: */
	u64 lr_val[VGIC_MAX_LRS];             /* each LR as last written/read */
	u32 lr_used;                          /* LRs holding an interrupt */
	u32 hcr;                              /* ICH_HCR/GICH_HCR as written */
	u32 hw_live;                          /* PPIs whose physical interrupt
					       * is active on the guest's behalf */
	/* Any CPU, atomic: set when the model changed for this vCPU, so
	 * that vgic_flush() looks at it again. */
	u32 work;
};

/* A VM's distributor and the lock over the whole model. */
struct vgic_dist {
	/* Guards every vgic_bank, sgi_sources, spi_routed, spi_in_lr and
	 * asleep of the VM, and the fields below. Taken with IRQs masked;
	 * only console_lock nests inside it (docs/locking.md). */
	struct spinlock lock;
	enum gic_version version;             /* GIC_V2 or GIC_V3 */
	u32 ctlr;                             /* GICD_CTLR.EnableGrp0/1 */
	struct vgic_bank spi[VGIC_SPI_BANKS];
	u8 targets[GUEST_NR_SPIS];            /* GICv2 GICD_ITARGETSR */
	u64 irouter[GUEST_NR_SPIS];           /* GICv3 GICD_IROUTER */
	u8 route[GUEST_NR_SPIS];              /* vCPU index, or VGIC_NO_VCPU */
	u8 owner[GUEST_NR_SPIS];              /* vCPU whose LR holds it */
	u32 log_left;                         /* log lines left for the guest */
};

/* ------------------------------------------------------------ the API */

/*
 * Sets up @vm's vGIC: after vm->vcpus[] and nr_vcpus exist, before any
 * vCPU runs, on the boot CPU. The first call also sets up the hypervisor
 * side (list-register backend for the physical GIC, maintenance
 * interrupt). Returns 0; -ENOSYS if the GIC has no virtualisation
 * support (GICv2 without GICH, no maintenance interrupt); -EINVAL for a
 * vCPU count the version cannot address.
 */
int vgic_init(struct vm *vm);
/*
 * Distributor and every vCPU's interrupt state back to reset, for a VM
 * restart. No vCPU of @vm may be in the guest or in a vgic call; each
 * runs vgic_vcpu_reset() before it enters the guest again.
 */
void vgic_reset(struct vm *vm);
/*
 * @v's interrupt state and its CPU interface (LRs, VMCR, active
 * priorities) back to reset, for PSCI CPU_ON and VM start. On @v's own
 * physical CPU, IRQs masked, before the next vgic_flush(). A forwarded
 * PPI still active for the guest is deactivated.
 */
void vgic_vcpu_reset(struct vcpu *v);

/*
 * Trapped guest MMIO at @offset from GUEST_GICD_BASE (GUEST_GICD_SIZE
 * bytes) or GUEST_GICR_BASE (nr_vcpus frames of GUEST_GICR_STRIDE; GICv3
 * only) by vCPU @v. A read stores the value, zero-extended, in *@val.
 * Returns 0, or -EINVAL for an access size or alignment the architecture
 * does not allow there (the caller stops the VM), -ERANGE for an offset
 * outside the region, -ENOSYS for redistributor access on GICv2.
 * Reserved registers read as zero and ignore writes, with a
 * rate-limited log line.
 */
int vgic_dist_mmio(struct vcpu *v, u64 offset, unsigned int size, bool write,
		   u64 *val);
int vgic_redist_mmio(struct vcpu *v, u64 offset, unsigned int size, bool write,
		     u64 *val);
/* Bytes of the redistributor region: one frame per vCPU (GICv3). */
u64 vgic_redist_size(const struct vm *vm);
/*
 * A trapped write of @val to ICC_SGI1R_EL1 (@group0 false),
 * ICC_SGI0R_EL1 or ICC_ASGI1R_EL1 (@group0 true: with one Security
 * state there is no other group 1, so ASGI1R generates group 0 SGIs
 * like SGI0R). GICv3 only; ignored on GICv2.
 */
void vgic_sgi_sysreg(struct vcpu *v, u64 val, bool group0);

/*
 * Device side, from any CPU. @target is the vCPU for a PPI, NULL for an
 * SPI. An INTID the vGIC does not have, an SGI, or a missing or
 * superfluous @target is a hypervisor bug: logged and ignored.
 *
 * vgic_inject_edge: the interrupt becomes pending (its pending latch is
 * set, whatever its configured trigger).
 * vgic_set_level: the input line goes to @level; a rising edge on an
 * edge-triggered interrupt latches it pending, a level-sensitive one is
 * pending while the line is high.
 */
void vgic_inject_edge(struct vm *vm, struct vcpu *target, u32 intid);
void vgic_set_level(struct vm *vm, struct vcpu *target, u32 intid, bool level);
/*
 * A physical PPI (the EL1 timers, INTIDs 27 and 30) fired on @v's
 * physical CPU and was left active (IRQ_FORWARDED): make it pending on
 * @v with the LR's HW bit, pINTID = @intid, so that the guest's
 * deactivation deactivates the physical interrupt. From that CPU's IRQ
 * handler.
 */
void vgic_inject_hw_ppi(struct vcpu *v, u32 intid);

/*
 * Run-loop hooks, on @v's own physical CPU with IRQs masked:
 * vgic_sync() after every exit (what the guest acknowledged and
 * completed goes back into the model), vgic_flush() before every entry
 * (the highest-priority deliverable interrupts into the LRs, never more
 * than the hardware has). Both return at once when no LR is in use,
 * resp. nothing changed.
 */
void vgic_sync(struct vcpu *v);
void vgic_flush(struct vcpu *v);
/* For WFI, after vgic_sync(): something pending and enabled would be
 * signalled to @v (its priority mask and group enables allowing). */
bool vgic_has_pending(struct vcpu *v);
/* Once on each physical CPU that runs a vCPU, after the first
 * vgic_init(), IRQs masked: CPU interface to reset, maintenance
 * interrupt enabled on this CPU. */
void vgic_cpu_init_hw(void);

/* ------------------------------------- list-register backends (internal)
 * virt/vgic_v3.c (system registers) and virt/vgic_v2.c (GICH MMIO)
 * implement these; host tests supply fakes with vgic_use_hw(). */

#define VGIC_LR_PENDING 1u
#define VGIC_LR_ACTIVE 2u

/* A list register, decoded. */
struct vgic_lr {
	u32 intid;
	u8 state;          /* VGIC_LR_PENDING | VGIC_LR_ACTIVE, 0: empty */
	u8 priority;
	u8 source;         /* GICv2 SGIs: the requesting vCPU (CPUID) */
	bool group1;
	bool hw;           /* linked to the physical INTID == intid */
	bool eoi_maint;    /* maintenance interrupt on deactivation (!hw) */
};

/* ICH_HCR_EL2 and GICH_HCR share these bit positions. */
#define VGIC_HCR_EN (1u << 0)
#define VGIC_HCR_UIE (1u << 1)   /* underflow: at most one LR valid */
#define VGIC_HCR_NPIE (1u << 3)  /* no LR in the pending state */

/* The guest's CPU interface controls that decide delivery. */
struct vgic_vmcr {
	u8 pmr;            /* priority mask, 8-bit scale */
	bool grp0_en, grp1_en;
};

struct vgic_hw_ops {
	enum gic_version version;
	u64 (*lr_encode)(const struct vgic_lr *lr);
	void (*lr_decode)(u64 raw, struct vgic_lr *lr);
	/* The calling CPU's interface: */
	u64 (*read_lr)(unsigned int i);
	void (*write_lr)(unsigned int i, u64 raw);
	void (*write_hcr)(u32 hcr);
	struct vgic_vmcr (*read_vmcr)(void);
	/* LRs, HCR, VMCR and active priorities to zero (and, GICv3, the
	 * guest's ICC_SRE_EL1 to system registers). */
	void (*reset_cpu)(void);
	/* Deactivate physical @intid on this CPU (gic_deactivate). */
	void (*deactivate)(u32 intid);
};

/* Makes @ops with @nr_lrs list registers (at most VGIC_MAX_LRS used)
 * the backend; vgic_init() calls it, host tests call it directly. */
void vgic_use_hw(const struct vgic_hw_ops *ops, unsigned int nr_lrs);
/* The maintenance interrupt fired on the CPU running @v (NULL: none):
 * silences it (HCR to zero) until the next vgic_flush(). */
void vgic_maintenance(struct vcpu *v);

u64 vgic_v3_lr_encode(const struct vgic_lr *lr);
void vgic_v3_lr_decode(u64 raw, struct vgic_lr *lr);
u64 vgic_v2_lr_encode(const struct vgic_lr *lr);
void vgic_v2_lr_decode(u64 raw, struct vgic_lr *lr);
/* Hardware backends (arm64): 0, or -ENOSYS when the CPU interface has
 * no virtualisation support; *@nr_lrs from ICH_VTR / GICH_VTR. */
int vgic_v3_probe(const struct vgic_hw_ops **ops, unsigned int *nr_lrs);
int vgic_v2_probe(const struct board_gic *g, const struct vgic_hw_ops **ops,
		  unsigned int *nr_lrs);

#endif
