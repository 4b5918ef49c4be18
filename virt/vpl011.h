/*
 * The emulated Arm PL011 UART (PrimeCell UART, ARM DDI 0183) each VM with
 * a console sees at GUEST_UART_BASE: enough of the register model for
 * Linux's amba-pl011 driver, earlycon=pl011 and simple polled guests.
 * Transmitted bytes go straight to the console mux (virt/vconsole.h), so
 * the transmit side is always empty and never busy; received bytes come
 * from the mux into a 16-entry receive FIFO. docs/console.md describes
 * the model and where it differs from the hardware.
 */
#ifndef VIRT_VPL011_H
#define VIRT_VPL011_H

#include "lib/spinlock.h"
#include "lib/types.h"

struct vm;

/* Receive FIFO depth with LCR_H.FEN set (1 without): the PL011 before
 * r1p5, as the PeriphID registers say, so drivers size it right. */
#define VPL011_FIFO_DEPTH 16

/* What a guest can change or see: all of it goes back to reset. */
struct vpl011_state {
	/* Receive FIFO: a ring of rx_count entries from rx_head, each the
	 * byte in bits 7:0 and its DR error bits (OE) in bits 11:8. */
	u16 rx[VPL011_FIFO_DEPTH];
	unsigned int rx_head, rx_count;
	u16 rsr;                 /* error status (RSR), sticky until ECR */
	u16 ris;                 /* raw interrupt status less TXIS (derived) */
	u16 imsc;
	u16 cr;
	u16 ibrd;
	u8 fbrd, lcr_h, ilpr, ifls, dmacr;
	bool level;              /* interrupt line as last told to the vGIC */
};

struct vpl011 {
	/* Serialises s between the VM's vCPUs (on several physical CPUs)
	 * and the console's receive interrupt on CPU 0. Taken with
	 * interrupts masked; see docs/locking.md. */
	struct spinlock lock;
	struct vm *vm;
	struct vpl011_state s;
	u64 rx_dropped;          /* bytes lost to a full receive FIFO */
};

/* Puts @u in its reset state for @vm, before the VM runs; no interrupt
 * is signalled. */
void vpl011_init(struct vpl011 *u, struct vm *vm);

/* Back to the reset state while the console may still deliver input (a
 * VM restart): under the lock, and lowering the line if it was high.
 * Bytes typed before the reset are dropped with the FIFO. */
void vpl011_reset(struct vpl011 *u);

/*
 * A trapped guest access of @size bytes (1, 2 or 4, naturally aligned) at
 * @offset from GUEST_UART_BASE. A read stores the value in *@val; a write
 * takes it from there. Returns 0, or -EINVAL for an offset that is no
 * register or a size or alignment the device does not accept: the caller
 * stops the VM. Called with interrupts masked.
 */
int vpl011_mmio(struct vpl011 *u, u64 offset, unsigned int size, bool write,
		u64 *val);

/*
 * A byte typed for this VM (from the console mux). Returns false if the
 * receive FIFO is full: the byte is dropped and counted in rx_dropped,
 * and the guest sees an overrun (OE, OEIS). Called with interrupts masked.
 */
bool vpl011_receive(struct vpl011 *u, u8 ch);

#endif
