/*
 * The emulated PL011: register decode, the receive FIFO and the interrupt
 * line. Register layout and bits from the PL011 TRM (ARM DDI 0183); the
 * model's choices where the hardware has timing (transmit, receive
 * timeout) are explained in docs/console.md.
 */
#include "virt/vpl011.h"

#include "lib/compiler.h"
#include "lib/errno.h"
#include "virt/guest_map.h"
#include "virt/vconsole.h"
#include "virt/vgic.h"

/* Register offsets. */
#define UARTDR 0x000
#define UARTRSR 0x004            /* read: RSR; write: ECR (clears it) */
#define UARTFR 0x018
#define UARTILPR 0x020
#define UARTIBRD 0x024
#define UARTFBRD 0x028
#define UARTLCR_H 0x02c
#define UARTCR 0x030
#define UARTIFLS 0x034
#define UARTIMSC 0x038
#define UARTRIS 0x03c
#define UARTMIS 0x040
#define UARTICR 0x044
#define UARTDMACR 0x048
#define UARTPERIPHID0 0xfe0      /* PeriphID0..3, then CellID0..3 */
#define UART_ID_REGS 8

/* Data register: the byte, then its error bits. */
#define DR_DATA 0xffu
#define DR_OE (1u << 11)         /* data was lost after this byte */
#define RSR_OE (1u << 3)

/* Flag register. */
#define FR_CTS (1u << 0)
#define FR_DSR (1u << 1)
#define FR_DCD (1u << 2)
#define FR_BUSY (1u << 3)
#define FR_RXFE (1u << 4)
#define FR_TXFF (1u << 5)
#define FR_RXFF (1u << 6)
#define FR_TXFE (1u << 7)

#define LCRH_FEN (1u << 4)       /* FIFOs on; off: 1-byte holding registers */
#define CR_LBE (1u << 7)         /* loopback: transmitted bytes are received */
#define CR_TXE (1u << 8)
#define CR_RXE (1u << 9)
#define CR_WRITABLE 0xff87u      /* bits 6:3 are reserved */
#define IFLS_RXSEL_SHIFT 3       /* bits 5:3: receive trigger level */
#define IFLS_RESET 0x12u         /* both triggers at half full */

/* Interrupt bits, the same in RIS, MIS, IMSC and ICR. */
#define INT_RX (1u << 4)
#define INT_TX (1u << 5)
#define INT_RT (1u << 6)         /* receive timeout */
#define INT_OE (1u << 10)        /* overrun */
#define INT_ALL 0x7ffu

/* Widths of the plain read/write registers. */
#define ILPR_MASK 0xffu
#define IBRD_MASK 0xffffu
#define FBRD_MASK 0x3fu
#define LCRH_MASK 0xffu
#define IFLS_MASK 0x3fu
#define DMACR_MASK 0x7u

/* PeriphID0..3: part 0x011, designer 0x41 (Arm), revision 1 (r1p3: a
 * 16-entry FIFO to Linux, which takes revision 3 and up as 32 entries);
 * CellID0..3: the PrimeCell preamble. */
static const u8 id_regs[UART_ID_REGS] = {
	0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1,
};

static const struct vpl011_state reset_state = {
	.cr = CR_TXE | CR_RXE,
	.ifls = IFLS_RESET,
};

void vpl011_init(struct vpl011 *u, struct vm *vm)
{
	*u = (struct vpl011){
		.lock = SPINLOCK_INIT,
		.vm = vm,
		.s = reset_state,
	};
}

void vpl011_reset(struct vpl011 *u)
{
	spin_lock(&u->lock);
	if (u->s.level)
		vgic_set_level(u->vm, NULL, GUEST_UART_INTID, false);
	u->s = reset_state;
	spin_unlock(&u->lock);
}

static unsigned int rx_depth(const struct vpl011 *u)
{
	return (u->s.lcr_h & LCRH_FEN) ? VPL011_FIFO_DEPTH : 1;
}

/* Entries at which the receive interrupt asserts: IFLS's 1/8, 1/4, 1/2,
 * 3/4 or 7/8 of the FIFO (the reserved encodings act as 7/8); a single
 * byte without the FIFO. */
static unsigned int rx_trigger(const struct vpl011 *u)
{
	static const u8 eighths[] = { 1, 2, 4, 6, 7 };
	unsigned int sel = (u->s.ifls >> IFLS_RXSEL_SHIFT) & 7;

	if (!(u->s.lcr_h & LCRH_FEN))
		return 1;
	if (sel >= ARRAY_SIZE(eighths))
		sel = ARRAY_SIZE(eighths) - 1;
	return VPL011_FIFO_DEPTH * eighths[sel] / 8;
}

/* The transmit FIFO is always empty (bytes leave at once), so TXIS, "at
 * or below the trigger level", is always raised: a guest that unmasks it
 * is interrupted at once, and masks it when it has nothing to send. */
static u32 raw_status(const struct vpl011 *u)
{
	return u->s.ris | INT_TX;
}

/* Tells the vGIC when the line changes. Under u->lock, so that the level
 * the vGIC last heard is the one the registers give. */
static void update_irq(struct vpl011 *u)
{
	bool level = (raw_status(u) & u->s.imsc) != 0;

	if (level == u->s.level)
		return;
	u->s.level = level;
	vgic_set_level(u->vm, NULL, GUEST_UART_INTID, level);
}

/* A received byte into the FIFO; false (overrun) when it is full. The
 * receive timeout is taken to expire at once: nothing else is on the way
 * when a byte arrives, so a lone byte interrupts as on an idle line. */
static bool rx_push(struct vpl011 *u, u8 ch)
{
	if (u->s.rx_count >= rx_depth(u)) {
		/* The FIFO keeps its contents; its newest byte is the one data
		 * was lost after (as Linux reads DR.OE). */
		u->s.rx[(u->s.rx_head + u->s.rx_count - 1) % VPL011_FIFO_DEPTH] |= DR_OE;
		u->s.rsr |= RSR_OE;
		u->s.ris |= INT_OE;
		u->rx_dropped++;
		return false;
	}
	u->s.rx[(u->s.rx_head + u->s.rx_count) % VPL011_FIFO_DEPTH] = ch;
	u->s.rx_count++;
	if (u->s.rx_count == rx_trigger(u))
		u->s.ris |= INT_RX;    /* asserts on reaching the level only */
	u->s.ris |= INT_RT;
	return true;
}

/* A read of DR: the oldest byte with its error bits, or 0 when empty. */
static u32 rx_pop(struct vpl011 *u)
{
	u32 v;

	if (!u->s.rx_count)
		return 0;
	v = u->s.rx[u->s.rx_head];
	u->s.rx_head = (u->s.rx_head + 1) % VPL011_FIFO_DEPTH;
	u->s.rx_count--;
	if (u->s.rx_count < rx_trigger(u))
		u->s.ris &= ~INT_RX;
	if (!u->s.rx_count)
		u->s.ris &= ~INT_RT;
	return v;
}

static u32 flags(const struct vpl011 *u)
{
	/* A terminal is attached: CTS, DSR and DCD asserted. Transmit is
	 * never full or busy. */
	u32 fr = FR_CTS | FR_DSR | FR_DCD | FR_TXFE;

	if (!u->s.rx_count)
		fr |= FR_RXFE;
	if (u->s.rx_count >= rx_depth(u))
		fr |= FR_RXFF;
	return fr;
}

static void transmit(struct vpl011 *u, u8 ch)
{
	if (u->s.cr & CR_LBE)
		rx_push(u, ch);
	else
		vconsole_putc(u->vm, ch);
}

/* Register @reg (4-byte aligned) into *@v; -EINVAL if there is none. */
static int reg_read(struct vpl011 *u, u64 reg, u32 *v)
{
	switch (reg) {
	case UARTDR: *v = rx_pop(u); break;
	case UARTRSR: *v = u->s.rsr; break;
	case UARTFR: *v = flags(u); break;
	case UARTILPR: *v = u->s.ilpr; break;
	case UARTIBRD: *v = u->s.ibrd; break;
	case UARTFBRD: *v = u->s.fbrd; break;
	case UARTLCR_H: *v = u->s.lcr_h; break;
	case UARTCR: *v = u->s.cr; break;
	case UARTIFLS: *v = u->s.ifls; break;
	case UARTIMSC: *v = u->s.imsc; break;
	case UARTRIS: *v = raw_status(u); break;
	case UARTMIS: *v = raw_status(u) & u->s.imsc; break;
	case UARTICR: *v = 0; break;        /* write-only: reads as zero */
	case UARTDMACR: *v = u->s.dmacr; break;
	default:
		if (reg < UARTPERIPHID0 || reg >= GUEST_UART_SIZE)
			return -EINVAL;
		*v = id_regs[(reg - UARTPERIPHID0) / 4];
	}
	return 0;
}

/* @v into register @reg (4-byte aligned); -EINVAL if there is none.
 * Writes to read-only registers are ignored (Linux writes MIS on some
 * variants as a delay). */
static int reg_write(struct vpl011 *u, u64 reg, u32 v)
{
	switch (reg) {
	case UARTDR: transmit(u, (u8)(v & DR_DATA)); break;
	case UARTRSR: u->s.rsr = 0; break;
	case UARTILPR: u->s.ilpr = (u8)(v & ILPR_MASK); break;
	case UARTIBRD: u->s.ibrd = (u16)(v & IBRD_MASK); break;
	case UARTFBRD: u->s.fbrd = (u8)(v & FBRD_MASK); break;
	case UARTLCR_H: u->s.lcr_h = (u8)(v & LCRH_MASK); break;
	case UARTCR: u->s.cr = (u16)(v & CR_WRITABLE); break;
	case UARTIFLS: u->s.ifls = (u8)(v & IFLS_MASK); break;
	case UARTIMSC: u->s.imsc = (u16)(v & INT_ALL); break;
	case UARTICR: u->s.ris &= (u16)~v; break;
	case UARTDMACR: u->s.dmacr = (u8)(v & DMACR_MASK); break;
	case UARTFR:
	case UARTRIS:
	case UARTMIS:
		break;
	default:
		if (reg < UARTPERIPHID0 || reg >= GUEST_UART_SIZE)
			return -EINVAL;
	}
	return 0;
}

/*
 * Accepted: 1, 2 or 4 bytes, naturally aligned, inside the 4 KiB frame.
 * A read may pick any bytes of a register; a write must start at the
 * register's first byte (the PL011 sees whole-register writes, and a
 * write to a register's upper half has no defined meaning).
 */
static bool access_ok(u64 offset, unsigned int size, bool write)
{
	if (size != 1 && size != 2 && size != 4)
		return false;
	if (offset >= GUEST_UART_SIZE || (offset & (size - 1)))
		return false;
	return !write || (offset & 3) == 0;
}

int vpl011_mmio(struct vpl011 *u, u64 offset, unsigned int size, bool write,
		u64 *val)
{
	u64 reg = offset & ~3ull;
	unsigned int shift = (unsigned int)(offset & 3) * 8;
	u32 mask, v = 0;
	int r;

	if (!access_ok(offset, size, write))
		return -EINVAL;
	mask = size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
	spin_lock(&u->lock);
	if (write) {
		r = reg_write(u, reg, (u32)*val & mask);
	} else {
		r = reg_read(u, reg, &v);
		*val = (v >> shift) & mask;
	}
	update_irq(u);
	spin_unlock(&u->lock);
	return r;
}

bool vpl011_receive(struct vpl011 *u, u8 ch)
{
	bool ok;

	spin_lock(&u->lock);
	ok = rx_push(u, ch);
	update_irq(u);
	spin_unlock(&u->lock);
	return ok;
}
