/*
 * Guest exits: the cause decoded from ESR_EL2 and handed to whatever
 * emulates it (PSCI, system registers, MMIO devices, WFI); anything
 * that cannot be emulated stops the VM with a register dump naming it.
 */
#include <stdarg.h>

#include "arch/arm64/el1_state.h"
#include "arch/arm64/esr.h"
#include "arch/arm64/guest.h"
#include "arch/arm64/sysreg.h"
#include "drivers/gic.h"
#include "lib/console.h"
#include "lib/printf.h"
#include "lib/spinlock.h"
#include "virt/dirtyctl.h"
#include "virt/exit.h"
#include "virt/mmio_lookup.h"
#include "virt/vcpu.h"
#include "virt/vpsci.h"
#include "virt/vsysreg.h"

/* One register dump at a time: VMs crashing on several CPUs at once
 * still give whole dumps (a leaf lock: console_lock nests inside). */
static struct spinlock dump_lock = SPINLOCK_INIT;

/* SMCCC: the value of an unknown function. */
#define SMCCC_NOT_SUPPORTED ((u64)-1)

/* Data abort ISS fields beyond those in esr.h */
#define DABT_SAS(iss) (((iss) >> 22) & 3)   /* access size: 1 << SAS bytes */
#define DABT_SSE(iss) (((iss) >> 21) & 1)   /* sign-extend the load */
#define DABT_SRT(iss) (((iss) >> 16) & 31)  /* transfer register */
#define DABT_SF(iss) (((iss) >> 15) & 1)    /* 64-bit register */
#define DABT_S1PTW(iss) (((iss) >> 7) & 1)  /* fault on a stage-1 walk */
#define FSC_TYPE(fsc) ((fsc) & 0x3c)        /* fault type without level */
#define FSC_TRANSLATION 0x04
#define FSC_PERMISSION 0x0c
/* HPFAR_EL2.FIPA, bits [43:4], holds IPA[51:12]. */
#define HPFAR_FIPA_MASK 0xfffffffffff0UL

static void skip_instruction(struct vcpu *v)
{
	v->regs.pc += 4;   /* every trapped A64 instruction is 4 bytes */
}

static void dump_vcpu(struct vcpu *v)
{
	struct el1_state el1;
	char line[160];

	esr_describe(v->exit.esr, v->exit.far, line, sizeof(line));
	printf("  ESR_EL2 0x%08llx: %s\n", (unsigned long long)v->exit.esr, line);
	if (ESR_EC(v->exit.esr) == EC_DABT_LOW || ESR_EC(v->exit.esr) == EC_IABT_LOW)
		printf("  guest physical address 0x%llx\n",
		       (unsigned long long)v->exit.ipa);
	for (unsigned int i = 0; i < 31; i += 2)
		printf("  x%-2u %016llx  x%-2u %016llx\n", i,
		       (unsigned long long)v->regs.x[i], i + 1,
		       i + 1 < 31 ? (unsigned long long)v->regs.x[i + 1] : 0ULL);
	el1_state_save(&el1);
	printf("  pc  %016llx  pstate %08llx  sp_el1 %016llx  sp_el0 %016llx\n",
	       (unsigned long long)v->regs.pc, (unsigned long long)v->regs.pstate,
	       (unsigned long long)el1.sp_el1, (unsigned long long)el1.sp_el0);
	printf("  sctlr_el1 %016llx  vbar_el1 %016llx  elr_el1 %016llx  esr_el1 %08llx\n",
	       (unsigned long long)el1.sctlr, (unsigned long long)el1.vbar,
	       (unsigned long long)el1.elr, (unsigned long long)el1.esr);
}

void vcpu_crash(struct vcpu *v, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	spin_lock(&dump_lock);
	printf("hv: VM '%s' vCPU %u stopped: %s\n", v->vm->name, v->index, why);
	dump_vcpu(v);
	spin_unlock(&dump_lock);
	vm_stop(v->vm, VM_CRASHED);
}

/* HVC, and SMC (trapped by HCR_EL2.TSC): SMCCC calls. PSCI, the SMCCC
 * discovery calls and (test builds only) the dirty-log control channel
 * exist; anything else gets NOT_SUPPORTED. */
static void handle_smccc(struct vcpu *v)
{
	if (ESR_ISS(v->exit.esr) & 0xffff) {
		vcpu_set_reg(v, 0, SMCCC_NOT_SUPPORTED);  /* not an SMCCC call */
		return;
	}
	if (!vpsci_call(v) && !dirtyctl_call(v))
		vcpu_set_reg(v, 0, SMCCC_NOT_SUPPORTED);
}

/* Loads: zero- or sign-extended to the register width (SSE, SF). */
static u64 extend_load(u64 val, unsigned int size, u32 iss)
{
	unsigned int bits = size * 8;

	if (DABT_SSE(iss) && bits < 64 && (val & (1ULL << (bits - 1))))
		val |= ~0ULL << bits;
	return DABT_SF(iss) ? val : (u32)val;
}

/* Is @ipa inside one of the VM's memslots? */
static bool ipa_is_memory(struct vm *vm, u64 ipa)
{
	unsigned int token;
	bool found = memslot_find(memslots_read_begin(&vm->slots, &token), ipa);

	memslots_read_end(&vm->slots, token);
	return found;
}

/* A data access the guest made outside its RAM: emulate it if a device
 * is there and the syndrome describes the access, else stop the VM. */
static void emulate_mmio(struct vcpu *v, u32 iss)
{
	struct vm *vm = v->vm;
	const struct mmio_region *r = mmio_lookup(&v->mmio_cache, &vm->slots,
						  vm->mmio, vm->nr_mmio, v->exit.ipa);
	unsigned int size = 1u << DABT_SAS(iss), rt = DABT_SRT(iss);
	bool write = ISS_DABT_WNR(iss);
	u64 val = 0;

	if (!r && ipa_is_memory(vm, v->exit.ipa))
		return;   /* see handle_abort(): retried */
	if (!r) {
		vcpu_crash(v, "%s at 0x%llx: nothing is mapped there",
			   write ? "write" : "read", (unsigned long long)v->exit.ipa);
		return;
	}
	if (!ISS_DABT_ISV(iss)) {
		vcpu_crash(v, "device access at 0x%llx without a syndrome (load/store "
			   "pair, writeback or SIMD): cannot emulate",
			   (unsigned long long)v->exit.ipa);
		return;
	}
	if (write)
		val = vcpu_reg(v, rt) & (size == 8 ? ~0ULL : (1ULL << (size * 8)) - 1);
	if (r->access(v, r->dev, v->exit.ipa - r->base, size, write, &val)) {
		vcpu_crash(v, "%u-byte %s at 0x%llx (device offset 0x%llx) cannot be emulated",
			   size, write ? "write" : "read", (unsigned long long)v->exit.ipa,
			   (unsigned long long)(v->exit.ipa - r->base));
		return;
	}
	if (!write)
		vcpu_set_reg(v, rt, extend_load(val, size, iss));
	skip_instruction(v);
}

/*
 * A permission fault on a write, or on a stage-1 table walk (which may
 * be updating the guest's own access or dirty bits, so it counts as a
 * write): memory write-protected for dirty logging, or a read-only view.
 */
static void handle_write_fault(struct vcpu *v)
{
	switch (dirty_log_write_fault(&v->vm->dirty, &v->ring, v->exit.ipa)) {
	case DIRTY_FAULT_RING_FULL:
		v->ring_full = true;   /* the run loop waits for room */
		break;
	case DIRTY_FAULT_HANDLED:
		break;                 /* logged: the access is retried */
	default:
		vcpu_crash(v, "write at 0x%llx to memory it may only read",
			   (unsigned long long)v->exit.ipa);
		break;
	}
}

/* Any abort but a write fault. Not inlined, so that handle_abort()
 * keeps the small frame the write fault path needs. */
static __attribute__((noinline)) void handle_other_abort(struct vcpu *v,
							 bool data, u32 iss,
							 u32 fsc)
{
	/* Memory whose entry is being rebuilt (break-before-make while
	 * logging starts or stops), or a slot added since the access: the
	 * retried access finds it. Data accesses check in emulate_mmio(),
	 * after the cached device lookup, to keep MMIO fast. */
	if (fsc == FSC_TRANSLATION && (DABT_S1PTW(iss) || !data) &&
	    ipa_is_memory(v->vm, v->exit.ipa))
		return;
	if (DABT_S1PTW(iss)) {
		vcpu_crash(v, "its stage-1 page tables are at 0x%llx, outside its memory",
			   (unsigned long long)v->exit.ipa);
		return;
	}
	if (!data || fsc != FSC_TRANSLATION) {
		vcpu_crash(v, "%s at 0x%llx outside its memory map",
			   data ? "access" : "instruction fetch",
			   (unsigned long long)v->exit.ipa);
		return;
	}
	emulate_mmio(v, iss);
}

static void handle_abort(struct vcpu *v, bool data)
{
	u32 iss = ESR_ISS(v->exit.esr), fsc = FSC_TYPE(ISS_ABT_FSC(iss));

	v->exit.far = read_sysreg(far_el2);
	v->exit.ipa = ((read_sysreg(hpfar_el2) & HPFAR_FIPA_MASK) << 8) |
		      (v->exit.far & 0xfff);
	if (fsc == FSC_PERMISSION && (DABT_S1PTW(iss) || (data && ISS_DABT_WNR(iss))))
		handle_write_fault(v);
	else
		handle_other_abort(v, data, iss, fsc);
}

static void handle_sync(struct vcpu *v)
{
	u64 esr = read_sysreg(esr_el2);

	v->exit.esr = esr;
	/* Tested first: dirty logging's write faults are the hot exit
	 * (a switch would compare its way up to the highest class). */
	if (ESR_EC(esr) == EC_DABT_LOW) {
		handle_abort(v, true);
		return;
	}
	switch (ESR_EC(esr)) {
	case EC_HVC64:   /* ELR is already past the HVC */
		handle_smccc(v);
		break;
	case EC_SMC64:   /* a trapped SMC returns to itself */
		handle_smccc(v);
		skip_instruction(v);
		break;
	case EC_WFX:     /* only WFI traps (HCR_EL2.TWI) */
		vcpu_wait_for_interrupt(v);
		skip_instruction(v);
		break;
	case EC_SYS64:
		if (vsysreg_trap(v, ESR_ISS(esr)))
			skip_instruction(v);
		break;
	case EC_IABT_LOW:
		handle_abort(v, false);
		break;
	default:
		v->exit.far = read_sysreg(far_el2);
		vcpu_crash(v, "%s: not emulated", esr_class_name(ESR_EC(esr)));
		break;
	}
}

void vcpu_handle_exit(struct vcpu *v, unsigned int kind)
{
	switch (kind) {
	case GUEST_EXIT_SYNC:
		handle_sync(v);
		break;
	case GUEST_EXIT_IRQ:
		gic_handle_irq();
		break;
	case GUEST_EXIT_SERROR:
		v->exit.esr = read_sysreg(esr_el2);
		vcpu_crash(v, "SError (asynchronous external abort)");
		break;
	default:   /* FIQ: the hypervisor uses none; nothing to do */
		break;
	}
}
