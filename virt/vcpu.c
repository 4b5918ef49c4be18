/*
 * The life of a vCPU on the physical CPU it is pinned to: loading the
 * per-VM EL2 controls once, resetting to a PSCI entry point, and the run
 * loop that enters the guest, handles each exit and waits, with no lock
 * held, while the vCPU is off or in WFI.
 */
#include "arch/arm64/barrier.h"
#include "arch/arm64/cpu.h"
#include "arch/arm64/el1_state.h"
#include "arch/arm64/guest.h"
#include "arch/arm64/irq.h"
#include "arch/arm64/sysreg.h"
#include "drivers/gic.h"
#include "virt/exit.h"
#include "virt/vcpu.h"
#include "virt/vm.h"
#include "virt/vsock.h"

_Static_assert(offsetof(struct vcpu, regs) == 0, "guest.S: regs first");
_Static_assert(offsetof(struct vcpu_regs, pc) == VCPU_PC, "guest.S: pc");
_Static_assert(offsetof(struct vcpu_regs, pstate) == VCPU_PSTATE,
	       "guest.S: pstate");
_Static_assert(offsetof(struct cpu, vcpu) == CPU_VCPU, "guest.S: cpu->vcpu");

static bool cpu_has_pauth(void)
{
	u64 isar1 = read_sysreg(id_aa64isar1_el1);

	/* APA [7:4], API [11:8], GPA [27:24], GPI [31:28] */
	return (isar1 & 0xff000ff0UL) != 0;
}

/*
 * HCR_EL2 while a guest runs: stage 2 on; physical interrupts and
 * SErrors to EL2; EL1 maintenance broadcast; WFI, SMC, ID registers,
 * implementation-defined registers and LORegions trapped. WFE is left to
 * the guest: its vCPUs are pinned, so waiting in place costs no one.
 */
static u64 guest_hcr(void)
{
	u64 hcr = HCR_VM | HCR_SWIO | HCR_FMO | HCR_IMO | HCR_AMO | HCR_FB |
		  HCR_BSU_IS | HCR_TWI | HCR_TID3 | HCR_TSC | HCR_TIDCP |
		  HCR_RW | HCR_TLOR;

	if (cpu_has_pauth())
		hcr |= HCR_API | HCR_APK;
	return hcr;
}

/*
 * Makes this CPU ready to run @v: the VM's stage 2 and the controls that
 * stay fixed while the vCPU is pinned here. SVE, SME, trace, activity
 * monitors, the PMU and statistical profiling trap (and are hidden from
 * the ID registers, virt/vsysreg.c); the EL1 timers and counter are the
 * guest's own.
 */
static void vcpu_load(struct vcpu *v)
{
	struct stage2 *s2 = &v->vm->s2;
	u64 hpmn = (read_sysreg(pmcr_el0) >> 11) & MDCR_HPMN_MASK;

	/* Hardware access flag and dirty state on where the CPU has them:
	 * harmless until dirty logging sets DBM on some leaves (every
	 * leaf is mapped with AF already set). */
	write_sysreg(vtcr_el2, s2->vtcr | (v->vm->dirty.cpu_has_dbm ?
					   VTCR_HA | VTCR_HD : 0));
	write_sysreg(vttbr_el2, s2->vttbr);
	write_sysreg(vpidr_el2, read_sysreg(midr_el1));
	write_sysreg(vmpidr_el2, VMPIDR_RES1 | v->index);
	write_sysreg(cptr_el2, CPTR_EL2_RES1 | CPTR_TZ | CPTR_TSM | CPTR_TTA |
			       CPTR_TAM);
	write_sysreg(mdcr_el2, hpmn | MDCR_TPMCR | MDCR_TPM | MDCR_TPMS);
	write_sysreg(cnthctl_el2, CNTHCTL_EL1PCTEN | CNTHCTL_EL1PCEN);
	write_sysreg(cntvoff_el2, 0);
	write_sysreg(hcr_el2, guest_hcr());
	isb();  /* the controls apply from the first guest instruction */
}

/* Starts @v afresh at @pc with x0 = @x0, as PSCI CPU_ON and the Linux
 * boot protocol say: EL1h, interrupts masked, MMU and caches off. */
static void vcpu_reset(struct vcpu *v, u64 pc, u64 x0)
{
	struct el1_state el1;

	el1_state_init(&el1);
	el1_state_load(&el1);
	fpsimd_reset();
	for (unsigned int i = 0; i < 31; i++)
		v->regs.x[i] = 0;
	v->regs.x[0] = x0;
	v->regs.pc = pc;
	v->regs.pstate = SPSR_EL1H_MASKED;
	vgic_vcpu_reset(v);
}

void vcpu_kick(struct vcpu *v)
{
	if (v->pcpu == this_cpu()->index)
		return;   /* we are it: the run loop looks before it enters */
	/* The new state (a request bit, a pending interrupt) is stored
	 * before the SGI can reach the target, whose exit path reads it
	 * after taking the SGI. */
	dsb(ish);
	gic_send_sgi(HV_SGI_KICK, v->pcpu);
}

void vcpu_request(struct vcpu *v, u32 req)
{
	/* Release: what the requester set up for the request is visible
	 * to the vCPU's acquire in vcpu_take_requests(). */
	__atomic_fetch_or(&v->requests, req, __ATOMIC_RELEASE);
	vcpu_kick(v);
}

/* Pairs with the release in vcpu_request(). */
static u32 vcpu_take_requests(struct vcpu *v)
{
	if (!__atomic_load_n(&v->requests, __ATOMIC_RELAXED))
		return 0;   /* the common case: one plain load */
	return __atomic_exchange_n(&v->requests, 0, __ATOMIC_ACQUIRE);
}

/* Holds no lock while waiting: whoever changes what @wake reads kicks
 * the vCPU afterwards, and WFI returns at once if that SGI is pending. */
void vcpu_wait_until(struct vcpu *v, bool (*wake)(struct vcpu *v))
{
	while (!wake(v) && !__atomic_load_n(&v->requests, __ATOMIC_ACQUIRE)) {
		wfi();
		irq_enable();   /* take what woke us: kick, timer, console */
		irq_disable();
	}
}

static bool vcpu_has_interrupt(struct vcpu *v)
{
	return vgic_has_pending(v);
}

/* A wake condition: CPU_ON is pending (its POWER request also wakes). */
static bool vcpu_is_powered(struct vcpu *v)
{
	return __atomic_load_n(&v->power, __ATOMIC_ACQUIRE) != VCPU_OFF;
}

void vcpu_wait_for_interrupt(struct vcpu *v)
{
	vcpu_wait_until(v, vcpu_has_interrupt);
}

/*
 * Brings @v's power state up to date after a POWER request: a pending
 * CPU_ON resets it to the requested entry point. Returns true if the
 * vCPU may enter the guest.
 */
static bool vcpu_power_up_to_date(struct vcpu *v)
{
	struct vm *vm = v->vm;
	u64 pc, ctx;

	spin_lock(&vm->lock);
	if (v->power != VCPU_ON_PENDING) {
		bool on = v->power == VCPU_ON;

		spin_unlock(&vm->lock);
		return on;
	}
	pc = v->entry_pc;
	ctx = v->entry_ctx;
	/* Release: AFFINITY_INFO (any vCPU, acquire) sees ON only once
	 * the entry point has been taken. */
	__atomic_store_n(&v->power, VCPU_ON, __ATOMIC_RELEASE);
	spin_unlock(&vm->lock);
	vcpu_reset(v, pc, ctx);
	return true;
}

/* A wake condition: the pause @v parked for is over or was renewed. */
static bool vcpu_pause_changed(struct vcpu *v)
{
	struct vm *vm = v->vm;

	return !__atomic_load_n(&vm->pause_depth, __ATOMIC_ACQUIRE) ||
	       __atomic_load_n(&vm->pause_seq, __ATOMIC_ACQUIRE) != v->paused_seq;
}

/*
 * Parks @v while its VM is paused (vm_pause()), outside the guest and
 * any handler, holding no lock. Each time it sees a new pause it says
 * so (release, pairs with the acquire in vm_pause()'s vcpu_parked()).
 * Returns early for any other request, which the run loop handles
 * before it comes back here.
 */
static void vcpu_pause_wait(struct vcpu *v)
{
	struct vm *vm = v->vm;

	while (__atomic_load_n(&vm->pause_depth, __ATOMIC_ACQUIRE) &&
	       !__atomic_load_n(&v->requests, __ATOMIC_ACQUIRE)) {
		/* Acquire: pairs with the release in vm_pause(). */
		u32 seq = __atomic_load_n(&vm->pause_seq, __ATOMIC_ACQUIRE);

		__atomic_store_n(&v->paused_seq, seq, __ATOMIC_RELEASE);
		vcpu_wait_until(v, vcpu_pause_changed);
	}
}

/* A wake condition: a reset freed room in the vCPU's dirty ring, or
 * logging stopped (acquire: pairs with the release in stop_logging();
 * its entries stay in the ring for a harvest). */
static bool vcpu_ring_has_room(struct vcpu *v)
{
	return !dirty_ring_soft_full(&v->ring) ||
	       __atomic_load_n(&v->vm->dirty.mode, __ATOMIC_ACQUIRE) == DIRTY_MODE_OFF;
}

/*
 * The dirty ring reached its soft limit on the last exit: wait, holding
 * no lock, until a reset makes room or logging stops (both kick us,
 * vm.c wake_vcpu()).
 * Only this vCPU sets and clears ring_full. Returns true while it must
 * still wait.
 */
static bool vcpu_ring_wait(struct vcpu *v)
{
	if (vcpu_ring_has_room(v)) {
		v->ring_full = false;
		return false;
	}
	__atomic_fetch_add(&v->vm->dirty.stats.ring_full_waits, 1, __ATOMIC_RELAXED);
	vcpu_wait_until(v, vcpu_ring_has_room);
	return true;
}

/* @v leaves this CPU for good: its timers stop here, the VM is told. */
static void vcpu_put(struct vcpu *v)
{
	write_sysreg(cntv_ctl_el0, 0);
	write_sysreg(cntp_ctl_el0, 0);
	isb();
	/* Release: pairs with the acquire in vm_pause(): a pause need not
	 * wait for a vCPU that will never run again. */
	__atomic_store_n(&v->left, 1, __ATOMIC_RELEASE);
	vm_vcpu_left(v);
}

void vcpu_run(struct vcpu *v)
{
	/* Whether the vCPU is powered on, re-derived only when a POWER
	 * request says its power state changed (or a reset completed). */
	bool powered;

	vcpu_load(v);
	powered = vcpu_power_up_to_date(v);
	for (;;) {
		u32 req = vcpu_take_requests(v);

		if (req) {
			if (req & VCPU_REQ_STOP)
				break;
			if (req & VCPU_REQ_RESET)
				vm_vcpu_reset_barrier(v);
			if (req & VCPU_REQ_DEVICE)
				vsock_vcpu_work(v);
			powered = vcpu_power_up_to_date(v);
		}
		if (__atomic_load_n(&v->vm->pause_depth, __ATOMIC_ACQUIRE)) {
			vcpu_pause_wait(v);
			continue;
		}
		if (!powered) {
			vcpu_wait_until(v, vcpu_is_powered);
			continue;
		}
		if (v->ring_full && vcpu_ring_wait(v))
			continue;
		vgic_flush(v);
		unsigned int kind = guest_enter(v);
		vgic_sync(v);
		vcpu_handle_exit(v, kind);
	}
	vcpu_put(v);
}
