/*
 * PSCI 1.1 as a guest sees it (Arm DEN 0022): power control of its own
 * vCPUs, and SYSTEM_OFF / SYSTEM_RESET of its own VM. A vCPU's power
 * state is vcpu->power, written under vm->lock; CPU_ON only records the
 * entry point and kicks the target, which resets itself on its own CPU
 * (virt/vcpu.c), because only that CPU may touch its EL1 registers.
 */
#include "virt/vcpu.h"
#include "virt/vpsci.h"

#define PSCI_VERSION 0x84000000u
#define PSCI_CPU_SUSPEND_32 0x84000001u
#define PSCI_CPU_SUSPEND_64 0xc4000001u
#define PSCI_CPU_OFF 0x84000002u
#define PSCI_CPU_ON_32 0x84000003u
#define PSCI_CPU_ON_64 0xc4000003u
#define PSCI_AFFINITY_INFO_32 0x84000004u
#define PSCI_AFFINITY_INFO_64 0xc4000004u
#define PSCI_MIGRATE_INFO_TYPE 0x84000006u
#define PSCI_SYSTEM_OFF 0x84000008u
#define PSCI_SYSTEM_RESET 0x84000009u
#define PSCI_FEATURES 0x8400000au
#define SMCCC_VERSION 0x80000000u
#define SMCCC_ARCH_FEATURES 0x80000001u

#define PSCI_VERSION_1_1 0x10001
#define SMCCC_VERSION_1_1 0x10001
#define PSCI_SUCCESS 0
#define PSCI_NOT_SUPPORTED (-1)
#define PSCI_INVALID_PARAMETERS (-2)
#define PSCI_ALREADY_ON (-4)
#define PSCI_ON_PENDING (-5)
#define PSCI_AFF_ON 0
#define PSCI_AFF_OFF 1
#define PSCI_AFF_ON_PENDING 2
#define PSCI_TOS_NOT_PRESENT_MP 2   /* MIGRATE_INFO_TYPE: no trusted OS */

static bool is_psci_function(u32 fn)
{
	switch (fn) {
	case PSCI_VERSION:
	case PSCI_CPU_SUSPEND_32:
	case PSCI_CPU_SUSPEND_64:
	case PSCI_CPU_OFF:
	case PSCI_CPU_ON_32:
	case PSCI_CPU_ON_64:
	case PSCI_AFFINITY_INFO_32:
	case PSCI_AFFINITY_INFO_64:
	case PSCI_MIGRATE_INFO_TYPE:
	case PSCI_SYSTEM_OFF:
	case PSCI_SYSTEM_RESET:
	case PSCI_FEATURES:
	case SMCCC_VERSION:
		return true;
	default:
		return false;
	}
}

/* SMC32 calls pass 32-bit arguments: the upper halves are ignored. */
static u64 arg(const struct vcpu *v, unsigned int n, u32 fn)
{
	u64 a = vcpu_reg(v, n);

	return (fn & 0x40000000u) ? a : (u32)a;
}

static s64 cpu_on(struct vcpu *v, u32 fn)
{
	struct vcpu *t = vm_vcpu_by_mpidr(v->vm, arg(v, 1, fn));
	s64 ret = PSCI_SUCCESS;

	if (!t)
		return PSCI_INVALID_PARAMETERS;
	spin_lock(&v->vm->lock);
	if (t->power == VCPU_ON) {
		ret = PSCI_ALREADY_ON;
	} else if (t->power == VCPU_ON_PENDING) {
		ret = PSCI_ON_PENDING;
	} else {
		t->entry_pc = arg(v, 2, fn);
		t->entry_ctx = arg(v, 3, fn);
		/* Release: pairs with the acquire in vcpu_is_powered()
		 * and AFFINITY_INFO; the entry point is stored first. */
		__atomic_store_n(&t->power, VCPU_ON_PENDING, __ATOMIC_RELEASE);
	}
	spin_unlock(&v->vm->lock);
	if (ret == PSCI_SUCCESS)
		vcpu_request(t, VCPU_REQ_POWER);
	return ret;
}

static s64 cpu_off(struct vcpu *v)
{
	spin_lock(&v->vm->lock);
	/* Release: pairs with the acquire in AFFINITY_INFO on other vCPUs. */
	__atomic_store_n(&v->power, VCPU_OFF, __ATOMIC_RELEASE);
	spin_unlock(&v->vm->lock);
	/* The run loop re-reads its power state on this request. */
	vcpu_request(v, VCPU_REQ_POWER);
	return PSCI_SUCCESS;   /* never seen: the vCPU waits for CPU_ON */
}

static s64 affinity_info(struct vcpu *v, u32 fn)
{
	struct vcpu *t;

	if (arg(v, 2, fn) != 0)
		return PSCI_INVALID_PARAMETERS;   /* only level 0 exists */
	t = vm_vcpu_by_mpidr(v->vm, arg(v, 1, fn));
	if (!t)
		return PSCI_INVALID_PARAMETERS;
	/* Acquire: pairs with the releases in cpu_on(), cpu_off() and the
	 * run loop's power-up. */
	switch (__atomic_load_n(&t->power, __ATOMIC_ACQUIRE)) {
	case VCPU_ON:
		return PSCI_AFF_ON;
	case VCPU_ON_PENDING:
		return PSCI_AFF_ON_PENDING;
	default:
		return PSCI_AFF_OFF;
	}
}

static s64 features(struct vcpu *v)
{
	u32 fn = (u32)vcpu_reg(v, 1);

	if (!is_psci_function(fn))
		return PSCI_NOT_SUPPORTED;
	/* CPU_SUSPEND: original power-state format, no OS-initiated mode. */
	return PSCI_SUCCESS;
}

static s64 dispatch(struct vcpu *v, u32 fn)
{
	switch (fn) {
	case PSCI_VERSION:
		return PSCI_VERSION_1_1;
	case SMCCC_VERSION:
		return SMCCC_VERSION_1_1;
	case SMCCC_ARCH_FEATURES:
		return PSCI_NOT_SUPPORTED;   /* no firmware workarounds offered */
	case PSCI_CPU_SUSPEND_32:
	case PSCI_CPU_SUSPEND_64:
		/* Every state is treated as standby: wake on an interrupt, as
		 * the spec allows for a powerdown request too. */
		vcpu_wait_for_interrupt(v);
		return PSCI_SUCCESS;
	case PSCI_CPU_OFF:
		return cpu_off(v);
	case PSCI_CPU_ON_32:
	case PSCI_CPU_ON_64:
		return cpu_on(v, fn);
	case PSCI_AFFINITY_INFO_32:
	case PSCI_AFFINITY_INFO_64:
		return affinity_info(v, fn);
	case PSCI_MIGRATE_INFO_TYPE:
		return PSCI_TOS_NOT_PRESENT_MP;
	case PSCI_SYSTEM_OFF:
		vm_stop(v->vm, VM_OFF);
		return PSCI_SUCCESS;
	case PSCI_SYSTEM_RESET:
		vm_request_reset(v->vm);
		return PSCI_SUCCESS;
	case PSCI_FEATURES:
		return features(v);
	default:
		return PSCI_NOT_SUPPORTED;
	}
}

/* SMCCC function ID: owning entity, bits [29:24]. */
#define SMCCC_OWNER(fn) (((fn) >> 24) & 0x3f)
#define SMCCC_OWNER_ARCH 0       /* SMCCC_VERSION, SMCCC_ARCH_FEATURES */
#define SMCCC_OWNER_STANDARD 4   /* PSCI */

bool vpsci_call(struct vcpu *v)
{
	u32 fn = (u32)vcpu_reg(v, 0);

	/* Cheap first test: other owners' calls are not ours. */
	if (SMCCC_OWNER(fn) != SMCCC_OWNER_ARCH && SMCCC_OWNER(fn) != SMCCC_OWNER_STANDARD)
		return false;
	if (!is_psci_function(fn) && fn != SMCCC_ARCH_FEATURES)
		return false;
	vcpu_set_reg(v, 0, (u64)dispatch(v, fn));
	return true;
}
