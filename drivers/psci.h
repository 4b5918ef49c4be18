/* PSCI client: how the hypervisor asks firmware to start or stop CPUs. */
#ifndef DRIVERS_PSCI_H
#define DRIVERS_PSCI_H

#include "boot/board.h"
#include "lib/types.h"

#define PSCI_VERSION 0x84000000u
#define PSCI_CPU_OFF 0x84000002u
#define PSCI_CPU_ON_64 0xc4000003u
#define PSCI_SYSTEM_OFF 0x84000008u
#define PSCI_SYSTEM_RESET 0x84000009u

#define PSCI_SUCCESS 0
#define PSCI_ALREADY_ON (-4)

/* Selects the conduit the DTB named; PSCI_NONE leaves PSCI unusable. */
void psci_init(enum psci_conduit conduit);
bool psci_available(void);
/* Major << 16 | minor, or a negative PSCI error. */
s32 psci_version(void);
/* Starts @mpidr at physical address @entry with x0 = @context. */
s32 psci_cpu_on(u64 mpidr, paddr_t entry, u64 context);
/* Return only if firmware refuses. */
void psci_system_off(void);
void psci_system_reset(void);

#endif
