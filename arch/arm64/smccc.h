/* SMC Calling Convention: a call to firmware (SMC) or a hypervisor (HVC). */
#ifndef ARCH_ARM64_SMCCC_H
#define ARCH_ARM64_SMCCC_H

#include "lib/types.h"

/* Function ID in x0, arguments in x1..x3; returns x0. */
u64 smccc_smc(u64 fid, u64 a1, u64 a2, u64 a3);
u64 smccc_hvc(u64 fid, u64 a1, u64 a2, u64 a3);

#endif
