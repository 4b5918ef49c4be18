/* The PL011 registers the guests' polled console uses (GUEST_UART_BASE). */
#ifndef TESTS_GUESTS_RT_PL011_H
#define TESTS_GUESTS_RT_PL011_H

#define UART_DR 0x00              /* data */
#define UART_FR 0x18              /* flags */
#define UART_FR_TXFF_BIT 5        /* transmit FIFO full */

#endif
