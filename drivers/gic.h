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

/*
 * What a handler did with its interrupt. The CPU interface runs with
 * split priority drop and deactivation (EOImode 1): gic_handle_irq()
 * always drops the running priority after the handler, and deactivates
 * the interrupt only for IRQ_DONE.
 */
enum irq_result {
	IRQ_DONE,          /* handled here: drop priority and deactivate */
	IRQ_FORWARDED,     /* injected into a vCPU with the list register's
			    * HW link (vgic_inject_hw_ppi): drop priority only;
			    * the guest's deactivation deactivates it */
};

typedef enum irq_result (*irq_handler_t)(u32 intid);

/* Operations a GIC version provides; see gicv2.c and gicv3.c. */
struct gic_ops {
	const char *name;
	int (*init_dist)(const struct board_gic *g);
	int (*init_cpu)(unsigned int cpu);
	/* Acknowledge the highest pending interrupt: returns the raw value
	 * to hand back to eoi() and deactivate() and stores the INTID in
	 * *intid. */
	u32 (*ack)(u32 *intid);
	void (*eoi)(u32 raw);           /* priority drop only (EOImode 1) */
	void (*deactivate)(u32 raw);    /* ICC_DIR_EL1 / GICC_DIR */
	void (*enable_private)(u32 intid, u8 priority);
	/* Group 1, @priority, routed to CPU @cpu only, then enabled. -EINVAL
	 * for an INTID the distributor does not implement, -ENOENT when
	 * the CPU's interface is unknown. */
	int (*route_spi)(u32 intid, unsigned int cpu, u8 priority);
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
/*
 * Installs @fn for SPI @intid and routes the SPI to physical CPU @cpu
 * alone (group 1, default priority, trigger as the firmware left it),
 * then enables it. @cpu must be the calling CPU or online. May be called
 * at any time, from any CPU. Returns 0, -EINVAL for an INTID that is
 * not an implemented SPI or a CPU out of range, -ENOENT for a CPU whose
 * interface is not set up.
 */
int gic_request_spi(u32 intid, unsigned int cpu, irq_handler_t fn);
void gic_send_sgi(u32 intid, unsigned int cpu);
/*
 * Deactivates @intid on the calling CPU's interface: for the vGIC, when
 * a forwarded PPI (IRQ_FORWARDED) will not be deactivated by the guest
 * after all (the vCPU was reset, or the guest cleared its state).
 */
void gic_deactivate(u32 intid);
/* Called by the IRQ vector: acknowledge, run the handler, drop the
 * priority, deactivate unless the handler forwarded the interrupt. */
void gic_handle_irq(void);
const char *gic_name(void);
/* The description gic_init() was given (GIC_NONE before): version,
 * virtualisation regions, maintenance interrupt. */
const struct board_gic *gic_board(void);

#endif
