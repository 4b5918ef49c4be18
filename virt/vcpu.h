/* The vCPU run loop and what the exit handlers need from it (virt/vcpu.c). */
#ifndef VIRT_VCPU_H
#define VIRT_VCPU_H

#include "virt/vm.h"

/* The hypervisor's SGI that interrupts a CPU out of its guest so that it
 * looks at new requests and pending interrupts (vcpu_kick()). */
#define HV_SGI_KICK 0

/* Runs @v on this, its pinned CPU, until its VM stops. Interrupts masked. */
void vcpu_run(struct vcpu *v);

/* WFI and CPU_SUSPEND: waits until an interrupt is pending for @v or a
 * request arrives. */
void vcpu_wait_for_interrupt(struct vcpu *v);

/* Waits on this CPU, taking interrupts between waits, until @wake(@v)
 * is true or a request for @v arrives. */
void vcpu_wait_until(struct vcpu *v, bool (*wake)(struct vcpu *v));

/* virt/vm.c: the run loop's calls into the VM. */
void vm_vcpu_left(struct vcpu *v);
void vm_vcpu_reset_barrier(struct vcpu *v);

#endif
