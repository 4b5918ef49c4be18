/*
 * The test-only dirty-log control channel (virt/dirtyctl_abi.h): HVC
 * calls from a test guest that drive the dirty-tracking engine of a VM
 * it manages. Built only with CONFIG_DIRTY_TEST_CHANNEL.
 */
#ifndef VIRT_DIRTYCTL_H
#define VIRT_DIRTYCTL_H

#include "lib/types.h"

struct vcpu;

/* virt/dirtyctl.c defines VIRT_DIRTYCTL_IMPL: it is also compiled (by
 * scripts/lint.sh) in configurations that leave it out of the image. */
#if defined(CONFIG_DIRTY_TEST_CHANNEL) || defined(VIRT_DIRTYCTL_IMPL)
/* Handles the SMCCC call in @v's x0..x3 if it is a DIRTYCTL_* call
 * (result in x0..), and returns true; false for any other call. What a
 * caller holds when it stops is let go by manage_vm_stopped(). */
bool dirtyctl_call(struct vcpu *v);
#else
static inline bool dirtyctl_call(struct vcpu *v)
{
	(void)v;
	return false;
}
#endif

#endif
