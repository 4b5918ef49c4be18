/* Shared test-guest services: RAM carved above the image, timed WFI waits. */
#include "tests/guests/gutil.h"

#include "arch/arm64/barrier.h"
#include "arch/arm64/irq.h"
#include "lib/compiler.h"
#include "lib/string.h"
#include "tests/guests/rt/gic.h"
#include "tests/guests/rt/rt.h"
#include "tests/guests/rt/timer.h"
#include "virt/guest_map.h"

#define PAGE_SIZE 4096ULL

void *gu_carve(u64 size)
{
	static paddr_t next;
	paddr_t end = (paddr_t)rt_dtb, p;

	if (!next)
		next = ALIGN_UP(rt_image_end(), (paddr_t)PAGE_SIZE);
	p = next;
	if (end < p || size > end - p)
		rt_fail("no room for %llu KiB of tables below the DTB: raise this "
			"VM's memory", (unsigned long long)(size >> 10));
	next = ALIGN_UP(p + size, (paddr_t)PAGE_SIZE);
	memset((void *)p, 0, size);
	return (void *)p;
}

/* Per vCPU: set by its CNTV handler, read by gu_sleep_us() on the same
 * vCPU; whether its timer interrupt is enabled yet. */
static bool tick[RT_MAX_CPUS];
static bool timer_enabled[RT_MAX_CPUS];

static void timer_irq(u32 intid, int source)
{
	rt_timer_stop(RT_TIMER_VIRT);
	WRITE_ONCE(tick[rt_cpu_index()], true);
}

void gu_sleep_us(u64 us)
{
	unsigned int cpu = rt_cpu_index();

	if (!timer_enabled[cpu]) {
		rt_irq_set_handler(GUEST_VTIMER_INTID, timer_irq);
		gic_enable_private(GUEST_VTIMER_INTID, GIC_PRIO_DEFAULT);
		timer_enabled[cpu] = true;
	}
	WRITE_ONCE(tick[cpu], false);
	rt_timer_arm(RT_TIMER_VIRT, rt_timer_count(RT_TIMER_VIRT) +
				    us * rt_counter_freq() / 1000000);
	while (!READ_ONCE(tick[cpu])) {
		wfi();          /* wakes for a pending interrupt even masked */
		irq_enable();   /* ... which is taken here */
		irq_disable();
	}
}
