/*
 * The guest's interrupt controller at the virt/guest_map.h addresses:
 * GICv3 (system-register CPU interface, GICD + GICR) or GICv2 (GICD +
 * GICC), whichever the DTB's interrupt controller is compatible with.
 * Errors here fail the guest (rt_fail) with what went wrong.
 */
#ifndef TESTS_GUESTS_RT_GIC_H
#define TESTS_GUESTS_RT_GIC_H

#include "lib/types.h"

#define GIC_SPURIOUS 1020         /* INTIDs from here up: nothing to handle */
#define GIC_PRIO_DEFAULT 0xa0     /* below the priority mask of 0xff */

/* The per-version driver behind the functions below. */
struct rt_gic_ops {
	const char *name;
	void (*init_dist)(void);
	void (*init_cpu)(unsigned int cpu);
	/* Acknowledge: returns the value for eoi(); *@source is the sending
	 * vCPU of an SGI when the GIC says, else -1. */
	u32 (*ack)(u32 *intid, int *source);
	void (*eoi)(u32 raw);
	void (*enable_private)(unsigned int cpu, u32 intid, u8 prio);
	void (*send_sgi)(u32 intid, unsigned int cpu);
};

extern const struct rt_gic_ops rt_gicv2_ops;
extern const struct rt_gic_ops rt_gicv3_ops;

/* Boot vCPU: choose the driver from rt_board, check its addresses
 * against the guest map, set up the distributor and this CPU. */
void gic_init(void);
/* Every other vCPU, before it takes interrupts. */
void gic_init_cpu(unsigned int cpu);
/* "GICv2" or "GICv3". */
const char *gic_name(void);

/* Enable private interrupt @intid (< 32) on the calling vCPU. */
void gic_enable_private(u32 intid, u8 prio);
/* Send SGI @intid (< 16) to vCPU @cpu. Memory writes before the call
 * are visible to the target when it takes the interrupt. */
void gic_send_sgi(u32 intid, unsigned int cpu);

/* Take every pending interrupt: called from the IRQ vector. */
void gic_handle_irqs(void);

#endif
