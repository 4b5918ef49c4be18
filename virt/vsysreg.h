/* Trapped guest system-register accesses (virt/vsysreg.c). */
#ifndef VIRT_VSYSREG_H
#define VIRT_VSYSREG_H

#include "virt/vm.h"

/* Emulates the MSR/MRS that trapped with ISS @iss. Returns true if done
 * (the caller steps past it); false if the VM was stopped instead. */
bool vsysreg_trap(struct vcpu *v, u32 iss);

#endif
