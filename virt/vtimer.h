/* The guests' EL1 timers (virt/vtimer.c). */
#ifndef VIRT_VTIMER_H
#define VIRT_VTIMER_H

#include "boot/board.h"

/* Once, on CPU 0: installs the forwarding of the EL1 timer PPIs.
 * Returns 0, or -EINVAL after a message if the board's timer PPIs are
 * not those of the guest platform. */
int vtimer_init(const struct board *b);
/* On each CPU that runs a vCPU, before it first enters the guest. */
void vtimer_init_cpu(void);

#endif
