/*
 * PSCI as a guest calls it: through HVC (the hypervisor, or QEMU when the
 * guest runs at EL1 on plain `virt`). Function IDs and return codes from
 * Arm DEN0022 (PSCI 1.1); 64-bit calling convention where there is one.
 */
#ifndef TESTS_GUESTS_RT_PSCI_H
#define TESTS_GUESTS_RT_PSCI_H

#define PSCI_FN_VERSION 0x84000000u
#define PSCI_FN_CPU_SUSPEND 0xc4000001u
#define PSCI_FN_CPU_OFF 0x84000002u
#define PSCI_FN_CPU_ON 0xc4000003u
#define PSCI_FN_AFFINITY_INFO 0xc4000004u
#define PSCI_FN_MIGRATE_INFO_TYPE 0x84000006u
#define PSCI_FN_SYSTEM_OFF 0x84000008u
#define PSCI_FN_SYSTEM_RESET 0x84000009u
#define PSCI_FN_FEATURES 0x8400000au

#define PSCI_SUCCESS 0
#define PSCI_NOT_SUPPORTED (-1)
#define PSCI_INVALID_PARAMETERS (-2)
#define PSCI_DENIED (-3)
#define PSCI_ALREADY_ON (-4)
#define PSCI_ON_PENDING (-5)

/* AFFINITY_INFO results */
#define PSCI_AFF_ON 0
#define PSCI_AFF_OFF 1
#define PSCI_AFF_ON_PENDING 2

/* MIGRATE_INFO_TYPE: no Trusted OS, or one that needs no migration. */
#define PSCI_MIGRATE_NOT_REQUIRED 2

#define PSCI_MAJOR(v) ((u32)(v) >> 16)
#define PSCI_MINOR(v) ((u32)(v) & 0xffff)

#ifndef __ASSEMBLY__
#include "arch/arm64/smccc.h"
#include "lib/types.h"

/* Results are 32-bit signed values in w0. */
static inline s64 psci_call(u32 fn, u64 a1, u64 a2, u64 a3)
{
	return (s32)smccc_hvc(fn, a1, a2, a3);
}

static inline s64 psci_version(void)
{
	return psci_call(PSCI_FN_VERSION, 0, 0, 0);
}

static inline s64 psci_features(u32 fn)
{
	return psci_call(PSCI_FN_FEATURES, fn, 0, 0);
}

static inline s64 psci_cpu_on(u64 mpidr, u64 entry, u64 context)
{
	return psci_call(PSCI_FN_CPU_ON, mpidr, entry, context);
}

static inline s64 psci_cpu_off(void)
{
	return psci_call(PSCI_FN_CPU_OFF, 0, 0, 0);
}

/* State of the CPU @mpidr (level 0: that CPU only). */
static inline s64 psci_affinity_info(u64 mpidr)
{
	return psci_call(PSCI_FN_AFFINITY_INFO, mpidr, 0, 0);
}

static inline s64 psci_migrate_info_type(void)
{
	return psci_call(PSCI_FN_MIGRATE_INFO_TYPE, 0, 0, 0);
}

static inline void psci_system_off(void)
{
	psci_call(PSCI_FN_SYSTEM_OFF, 0, 0, 0);
}
#endif

#endif
