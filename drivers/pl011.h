/* Arm PL011 UART: the hypervisor's console on both boards. */
#ifndef DRIVERS_PL011_H
#define DRIVERS_PL011_H

#include "lib/types.h"

/* Uses the UART at @base as the firmware left it (baud rate, format). */
void pl011_init(paddr_t base);
void pl011_putc(char c);
/* Turns the receiver on and unmasks its interrupts (receive, receive
 * timeout), so that each byte typed raises the UART's interrupt. */
void pl011_rx_enable(void);
/* The next received byte (0..255); -ENOENT when none is waiting, -EIO
 * for a byte that came with a framing, parity or break error (it is
 * taken from the FIFO and dropped). */
int pl011_getc(void);

#endif
