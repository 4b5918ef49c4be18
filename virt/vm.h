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

#include "lib/spinlock.h"
#include "lib/types.h"
#include "mm/stage2.h"
#include "virt/scenario.h"
#include "virt/vgic.h"
#include "virt/vpl011.h"

struct vm;

/* Guest general registers as the exit path saves them (arch/arm64/guest.S). */
struct vcpu_regs {
	u64 x[31];
	u64 pc;                  /* ELR_EL2 at the exit */
	u64 pstate;              /* SPSR_EL2 at the exit */
};

/* Why the vCPU last left the guest, with the syndrome of a synchronous exit. */
struct vcpu_exit {
	u64 esr;
	u64 far;
	u64 hpfar;
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
	struct vgic_cpu vgic;
};

/* Work a vCPU does before it enters the guest again (vcpu->requests). */
#define VCPU_REQ_STOP (1u << 0)  /* the VM is stopping: leave for good */
#define VCPU_REQ_POWER (1u << 1) /* power state changed (CPU_ON/OFF) */

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
	struct stage2 s2;
	paddr_t ram_pa;          /* host physical base of the guest's RAM */
	u64 ram_size;
	struct vgic_dist vgic;
	struct vpl011 uart;
};

/* Makes @v notice new work (an interrupt, a request) soon: if it runs
 * on another physical CPU, that CPU is interrupted out of the guest. */
void vcpu_kick(struct vcpu *v);

#endif
