/* PL011 output, and input for the console mux. The boot loader (QEMU,
 * U-Boot, Pi firmware with enable_uart=1) has set the baud rate; we only
 * make sure TX (and, once asked, RX) is on. */
#include "drivers/pl011.h"

#include "arch/arm64/mmio.h"
#include "lib/errno.h"

#define UARTDR 0x000
#define UARTFR 0x018
#define UARTCR 0x030
#define UARTIMSC 0x038
#define UARTICR 0x044
#define FR_RXFE (1u << 4)        /* receive FIFO empty */
#define FR_TXFF (1u << 5)        /* transmit FIFO full */
#define CR_UARTEN (1u << 0)
#define CR_TXE (1u << 8)
#define CR_RXE (1u << 9)
#define DR_DATA 0xffu
#define DR_FE_PE_BE (7u << 8)    /* framing, parity, break error */
#define INT_RX (1u << 4)         /* in IMSC and ICR */
#define INT_RT (1u << 6)         /* receive timeout: a lone byte waits */
#define INT_ERRORS (0xfu << 7)   /* framing, parity, break, overrun */

static paddr_t pl011_base;

void pl011_init(paddr_t base)
{
	u32 cr = mmio_read32(base + UARTCR);

	if ((cr & (CR_UARTEN | CR_TXE)) != (CR_UARTEN | CR_TXE))
		mmio_write32(base + UARTCR, cr | CR_UARTEN | CR_TXE);
	pl011_base = base;
}

void pl011_putc(char c)
{
	if (!pl011_base)
		return;
	while (mmio_read32(pl011_base + UARTFR) & FR_TXFF)
		;
	mmio_write32(pl011_base + UARTDR, (u8)c);
}

void pl011_rx_enable(void)
{
	u32 cr = mmio_read32(pl011_base + UARTCR);

	if (!(cr & CR_RXE))
		mmio_write32(pl011_base + UARTCR, cr | CR_RXE);
	mmio_write32(pl011_base + UARTICR, INT_RX | INT_RT | INT_ERRORS);
	mmio_write32(pl011_base + UARTIMSC,
		     mmio_read32(pl011_base + UARTIMSC) | INT_RX | INT_RT);
}

int pl011_getc(void)
{
	u32 dr;

	if (mmio_read32(pl011_base + UARTFR) & FR_RXFE)
		return -ENOENT;
	dr = mmio_read32(pl011_base + UARTDR);
	return (dr & DR_FE_PE_BE) ? -EIO : (int)(dr & DR_DATA);
}
