/* Handling a guest exit (virt/exit.c) and stopping a VM that misbehaves. */
#ifndef VIRT_EXIT_H
#define VIRT_EXIT_H

#include "lib/compiler.h"
#include "virt/vm.h"

/* Handles the exit guest_enter() returned (@kind: GUEST_EXIT_*). */
void vcpu_handle_exit(struct vcpu *v, unsigned int kind);

/*
 * Stops @v's VM because of what @v just did: prints the reason, the
 * decoded syndrome and the vCPU's registers, then vm_stop(VM_CRASHED).
 * The hypervisor and the other VMs go on.
 */
void vcpu_crash(struct vcpu *v, const char *fmt, ...) __printf(2, 3);

#endif
