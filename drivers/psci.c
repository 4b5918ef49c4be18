/* PSCI calls through the conduit (SMC or HVC) the DTB names. */
#include "drivers/psci.h"

#include "arch/arm64/smccc.h"

static enum psci_conduit psci_conduit;

void psci_init(enum psci_conduit conduit)
{
	psci_conduit = conduit;
}

bool psci_available(void)
{
	return psci_conduit != PSCI_NONE;
}

static s32 psci_call(u32 fid, u64 a1, u64 a2, u64 a3)
{
	switch (psci_conduit) {
	case PSCI_SMC:
		return (s32)smccc_smc(fid, a1, a2, a3);
	case PSCI_HVC:
		return (s32)smccc_hvc(fid, a1, a2, a3);
	default:
		return -1;    /* NOT_SUPPORTED */
	}
}

s32 psci_version(void)
{
	return psci_call(PSCI_VERSION, 0, 0, 0);
}

s32 psci_cpu_on(u64 mpidr, paddr_t entry, u64 context)
{
	return psci_call(PSCI_CPU_ON_64, mpidr, entry, context);
}

void psci_system_off(void)
{
	psci_call(PSCI_SYSTEM_OFF, 0, 0, 0);
}

void psci_system_reset(void)
{
	psci_call(PSCI_SYSTEM_RESET, 0, 0, 0);
}
