/*
 * The test-only dirty-log control channel (virt/dirtyctl_abi.h): HVC
 * calls from a test guest that drive the dirty-tracking engine of a VM
 * it manages. Built only with CONFIG_DIRTY_TEST_CHANNEL.
 */
#ifndef VIRT_DIRTYCTL_H
#define VIRT_DIRTYCTL_H

#include "lib/types.h"

struct vcpu;
struct vm;

/* virt/dirtyctl.c defines VIRT_DIRTYCTL_IMPL: it is also compiled (by
 * scripts/lint.sh) in configurations that leave it out of the image. */
#if defined(CONFIG_DIRTY_TEST_CHANNEL) || defined(VIRT_DIRTYCTL_IMPL)
/* Handles the SMCCC call in @v's x0..x3 if it is a DIRTYCTL_* call
 * (result in x0..), and returns true; false for any other call. */
bool dirtyctl_call(struct vcpu *v);
/*
 * @vm has stopped for good (its last vCPU left): the pauses it holds on
 * the VMs it manages end, and their logging stops (nobody is left to
 * harvest and reset, and a vCPU waiting for ring space would wait
 * forever).
 */
void dirtyctl_vm_stopped(struct vm *vm);
#else
static inline bool dirtyctl_call(struct vcpu *v)
{
	(void)v;
	return false;
}

static inline void dirtyctl_vm_stopped(struct vm *vm)
{
	(void)vm;
}
#endif

#endif
