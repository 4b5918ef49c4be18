/* Starting the scenario's VMs at boot (virt/vm.c). */
#ifndef VIRT_VM_START_H
#define VIRT_VM_START_H

#include "boot/board.h"
#include "lib/compiler.h"

/* On CPU 0, once every CPU is online: creates the scenario's VMs.
 * Returns 0, or a negative errno after a message saying what to change. */
int vm_start_scenario(const struct board *b);

/* Every CPU, after boot: waits for the VMs, then runs the vCPU pinned
 * to it, or idles. The run ends when the last VM stops (vm_vcpu_left()). */
__noreturn void vm_cpu_main(void);

#endif
