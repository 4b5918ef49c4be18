/*
 * The EL1 virtual and physical timers belong to the guest pinned on each
 * CPU (CNTHCTL_EL2 gives EL1 the physical timer too, CNTVOFF_EL2 is 0),
 * so nothing is emulated or switched. Their interrupts reach EL2
 * (HCR_EL2.IMO) and are forwarded to the vCPU through a list register
 * linked to the physical interrupt: the hypervisor only drops its
 * priority, and the guest's deactivation of the virtual interrupt
 * deactivates the physical one, so the timer cannot fire again before
 * the guest has handled it.
 */
#include "arch/arm64/cpu.h"
#include "drivers/gic.h"
#include "lib/console.h"
#include "lib/errno.h"
#include "virt/guest_map.h"
#include "virt/vm.h"
#include "virt/vtimer.h"

static enum irq_result vtimer_irq(u32 intid)
{
	/* Only CPUs with a vCPU enable these PPIs (vtimer_init_cpu()). */
	vgic_inject_hw_ppi(this_cpu()->vcpu, intid);
	return IRQ_FORWARDED;
}

int vtimer_init(const struct board *b)
{
	if (b->timer.virt_intid != GUEST_VTIMER_INTID ||
	    b->timer.phys_intid != GUEST_PTIMER_INTID) {
		printf("hv: the board's EL1 timer interrupts are INTIDs %u and %u; "
		       "guests expect %u and %u\n", b->timer.virt_intid,
		       b->timer.phys_intid, GUEST_VTIMER_INTID, GUEST_PTIMER_INTID);
		return -EINVAL;
	}
	if (gic_request_private(GUEST_VTIMER_INTID, vtimer_irq) ||
	    gic_request_private(GUEST_PTIMER_INTID, vtimer_irq))
		return -EBUSY;
	return 0;
}

void vtimer_init_cpu(void)
{
	gic_enable_private_here(GUEST_VTIMER_INTID);
	gic_enable_private_here(GUEST_PTIMER_INTID);
}
