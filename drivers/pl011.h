/* Arm PL011 UART: the hypervisor's console on both boards. */
#ifndef DRIVERS_PL011_H
#define DRIVERS_PL011_H

#include "lib/types.h"

/* Uses the UART at @base as the firmware left it (baud rate, format). */
void pl011_init(paddr_t base);
void pl011_putc(char c);

#endif
