/*
 * Virtual machines and their vCPUs. A VM is created at boot from its
 * scenario entry (virt/scenario.h) and owns: its stage-2 tables and the
 * physical memory behind its RAM, a virtual GIC, an emulated PL011 and
 * one vCPU per physical CPU named in the scenario. Each vCPU is pinned:
 * only its own physical CPU ever runs it, so while it is loaded its EL1
 * and FP/SIMD state live in the hardware (the hypervisor is built with
 * -mgeneral-regs-only and never touches EL1 registers on a trap path).
 */
#ifndef VIRT_VM_H
#define VIRT_VM_H

#include "lib/compiler.h"
#include "lib/spinlock.h"
#include "lib/types.h"
#include "mm/dirty_log.h"
#include "mm/memslot.h"
#include "mm/stage2.h"
#include "virt/guest_map.h"
#include "virt/scenario.h"
#include "virt/vgic.h"
#include "virt/vpl011.h"

struct vm;
struct vcpu;

#define VM_MAX_MMIO (3 + GUEST_VIRTIO_SLOTS)

/* An emulated device region of a VM's guest physical map. */
struct mmio_region {
	u64 base, size;
	void *dev;
	/* @offset from @base; 0, or a negative errno: the access cannot be
	 * emulated and the VM is stopped. */
	int (*access)(struct vcpu *v, void *dev, u64 offset, unsigned int size,
		      bool write, u64 *val);
};

/* Guest general registers as the exit path saves them (arch/arm64/guest.S). */
struct vcpu_regs {
	u64 x[31];
	u64 pc;                  /* ELR_EL2 at the exit */
	u64 pstate;              /* SPSR_EL2 at the exit */
};

/* Why the vCPU last left the guest, with the syndrome of a synchronous exit. */
struct vcpu_exit {
	u64 esr;
	u64 far;                 /* aborts only */
	u64 ipa;                 /* aborts only: the guest physical address */
};

enum vcpu_power {
	VCPU_OFF,                /* waits for PSCI CPU_ON */
	VCPU_ON_PENDING,         /* CPU_ON accepted, not yet running */
	VCPU_ON,
};

struct vcpu {
	struct vcpu_regs regs;   /* first: guest.S addresses it from the start */
	struct vcpu_exit exit;
	struct vm *vm;
	unsigned int index;      /* vCPU number = Aff0 of its virtual MPIDR */
	unsigned int pcpu;       /* physical CPU it is pinned to */
	enum vcpu_power power;   /* under vm->lock */
	u64 entry_pc, entry_ctx; /* CPU_ON arguments, under vm->lock */
	u32 requests;            /* VCPU_REQ_* bits, atomic */
	u32 reset_seen;          /* vm->reset_generation when it last reset */
	struct vgic_cpu vgic;
	struct dirty_ring ring;  /* pages it dirtied; it is the only producer */
	/* Set and cleared only by this vCPU: it waits in its run loop
	 * until the ring is below the soft limit again. */
	bool ring_full;
	/* The vm->pause_seq it last saw while parked in its run loop, and
	 * 1 in @left once it left for good: store-release by the vCPU,
	 * load-acquire in vm_pause(). */
	u32 paused_seq;
	u32 left;
	struct memslot_cache mmio_cache;   /* last MMIO decode (exit.c) */
};

/* Work a vCPU does before it enters the guest again (vcpu->requests). */
#define VCPU_REQ_STOP (1u << 0)  /* the VM is stopping: leave for good */
#define VCPU_REQ_POWER (1u << 1) /* power state changed (CPU_ON/OFF) */
#define VCPU_REQ_RESET (1u << 2) /* the VM restarts: wait, then reset */
#define VCPU_REQ_PAUSE (1u << 3) /* wait in the run loop until resumed */
#define VCPU_REQ_DEVICE (1u << 4) /* a device left it work: vsock_vcpu_work() */

/* Where a VM's images go in its RAM, decided once at creation. */
struct vm_layout {
	u64 kernel_ipa, kernel_span;   /* span: the Image's image_size */
	u64 initrd_ipa;
	u64 dtb_ipa;
};

_Static_assert(VM_MAX_VCPUS <= DIRTY_LOG_MAX_VCPUS,
	       "every vCPU of a VM has a ring in its dirty log");

/* Room for a VM's device tree: about 2 KiB plus its command line. */
#define VM_DTB_MAX 0x4000

enum vm_state {
	VM_RUNNING,
	VM_OFF,                  /* the guest asked for SYSTEM_OFF */
	VM_CRASHED,              /* stopped by the hypervisor: bad access */
};

struct vm {
	const struct vm_config *cfg;
	const char *name;
	unsigned int id;         /* index in the scenario; VMID = id + 1 */
	unsigned int nr_vcpus;
	struct vcpu *vcpus[VM_MAX_VCPUS];
	struct spinlock lock;    /* power states, VM state (docs/locking.md) */
	enum vm_state state;
	bool resetting;          /* SYSTEM_RESET in progress, under lock */
	u32 reset_arrived;       /* vCPUs at the reset barrier, atomic */
	u32 reset_generation;    /* bumped (release) when a reset is done */
	u32 vcpus_running;       /* vCPUs not yet out for good, atomic */
	struct stage2 s2;
	struct memslots slots;   /* guest memory; RAM is slot 0 */
	struct dirty_log dirty;  /* dirty tracking of the slots */
	/* vm_pause() calls in force, and how many were ever made; both
	 * written under @lock with store-release, read by the vCPUs with
	 * load-acquire (virt/vcpu.c, vcpu_pause_wait()). */
	u32 pause_depth;
	u32 pause_seq;
	unsigned int ipa_range;  /* PARange encoding of the IPA size */
	paddr_t ram_pa;          /* host physical base of the guest's RAM */
	struct vm_layout layout;
	unsigned int dtb_size;
	u8 dtb[VM_DTB_MAX] __aligned(8);  /* built once, reloaded at reset */
	u64 ram_size;
	struct vgic_dist vgic;
	struct vpl011 uart;
	unsigned int nr_mmio;
	struct mmio_region mmio[VM_MAX_MMIO];   /* emulated devices, fixed at creation */
};

/* Makes @v notice new work (an interrupt, a request) soon: if it runs
 * on another physical CPU, that CPU is interrupted out of the guest. */
void vcpu_kick(struct vcpu *v);

/* Sets request bits on @v and kicks it (virt/vcpu.c). */
void vcpu_request(struct vcpu *v, u32 req);

/* Guest register n as an instruction names it: 31 is XZR. */
static inline u64 vcpu_reg(const struct vcpu *v, unsigned int n)
{
	return n < 31 ? v->regs.x[n] : 0;
}

static inline void vcpu_set_reg(struct vcpu *v, unsigned int n, u64 val)
{
	if (n < 31)
		v->regs.x[n] = val;
}

/* The vCPU of @vm whose virtual MPIDR affinity is @mpidr, or NULL. */
struct vcpu *vm_vcpu_by_mpidr(struct vm *vm, u64 mpidr);

/*
 * Stops @vm for good (SYSTEM_OFF, or a fault the hypervisor cannot
 * emulate): every vCPU leaves the guest at its next exit. When the last
 * VM of the scenario has stopped, the hypervisor ends (virt/vm.c).
 */
void vm_stop(struct vm *vm, enum vm_state why);

/* Restarts @vm from its images, as at boot (PSCI SYSTEM_RESET). */
void vm_request_reset(struct vm *vm);

/* Adds an emulated device region to @vm, at creation (before any vCPU
 * runs): for devices created outside virt/vm.c (virt/vsock.c). */
void vm_add_mmio(struct vm *vm, u64 base, u64 size, void *dev,
		 int (*access)(struct vcpu *, void *, u64, unsigned int, bool, u64 *));

/* VM @id of the scenario, or NULL if there is none. */
struct vm *vm_by_id(unsigned int id);

/*
 * Stops every vCPU of @vm outside the guest and outside any fault
 * handler, and returns once they all wait (or have left for good), so
 * that a harvest after it is exact. Pauses nest. Must not be called
 * from one of @vm's own vCPUs.
 */
void vm_pause(struct vm *vm);
/* Ends one vm_pause(); the vCPUs go on when the last one ends. */
void vm_resume(struct vm *vm);

#endif
