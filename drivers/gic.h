/*
 * The physical interrupt controller as the hypervisor uses it for its own
 * interrupts: one interface over GICv2 (GIC-400) and GICv3, picked from
 * the DTB at boot, and a table of handlers by INTID.
 */
#ifndef DRIVERS_GIC_H
#define DRIVERS_GIC_H

#include "boot/board.h"
#include "lib/types.h"

#define GIC_SGI_BASE 0
#define GIC_PPI_BASE 16
#define GIC_SPI_BASE 32
#define GIC_INTID_SPURIOUS 1023
#define GIC_MAX_INTID 1020      /* handlers kept for SGIs, PPIs and SPIs */

typedef void (*irq_handler_t)(u32 intid);

/* Operations a GIC version provides; see gicv2.c and gicv3.c. */
struct gic_ops {
	const char *name;
	int (*init_dist)(const struct board_gic *g);
	int (*init_cpu)(unsigned int cpu);
	/* Acknowledge the highest pending interrupt: returns the raw value
	 * to hand back to eoi() and stores the INTID in *intid. */
	u32 (*ack)(u32 *intid);
	void (*eoi)(u32 raw);
	void (*enable_private)(u32 intid, u8 priority);
	void (*send_sgi)(u32 intid, unsigned int cpu);
};

extern const struct gic_ops gicv2_ops;
extern const struct gic_ops gicv3_ops;

/* Picks the driver for @g->version and sets up the distributor. */
int gic_init(const struct board_gic *g);
/* Sets up the calling CPU's interface (redistributor / GICC). */
int gic_init_cpu(unsigned int cpu);
/* Installs @fn for SGI/PPI @intid on every CPU and enables it on this one. */
int gic_request_private(u32 intid, irq_handler_t fn);
/* Enables an already requested SGI/PPI on the calling CPU. */
void gic_enable_private_here(u32 intid);
void gic_send_sgi(u32 intid, unsigned int cpu);
/* Called by the IRQ vector: acknowledge, run the handler, EOI. */
void gic_handle_irq(void);
const char *gic_name(void);

#endif
