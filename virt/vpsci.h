/* PSCI 1.1 and SMCCC discovery for guests (virt/vpsci.c). */
#ifndef VIRT_VPSCI_H
#define VIRT_VPSCI_H

#include "virt/vm.h"

/* Handles the SMCCC call in @v's x0..x3 if it is PSCI or SMCCC
 * discovery, writing the result to x0; false if it is neither. */
bool vpsci_call(struct vcpu *v);

#endif
