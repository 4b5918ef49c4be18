/* PL011 output. The boot loader (QEMU, U-Boot, Pi firmware with
 * enable_uart=1) has set the baud rate; we only make sure TX is on. */
#include "drivers/pl011.h"

#include "arch/arm64/mmio.h"

#define UARTDR 0x000
#define UARTFR 0x018
#define UARTCR 0x030
#define FR_TXFF (1u << 5)        /* transmit FIFO full */
#define CR_UARTEN (1u << 0)
#define CR_TXE (1u << 8)

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
