/*
 * timer: the EL1 virtual timer (CNTV, INTID 27) ticks periodically through
 * the GIC with WFI between ticks; every tick must come no earlier than
 * its compare value and the count must be exact. Then the EL1 physical
 * timer (CNTP, INTID 30) fires once. While one timer is tested, the other
 * is a watchdog, so a lost interrupt fails instead of hanging in WFI.
 */
#include "arch/arm64/irq.h"
#include "lib/compiler.h"
#include "tests/guests/rt/gic.h"
#include "tests/guests/rt/rt.h"
#include "tests/guests/rt/timer.h"
#include "virt/guest_map.h"

#define VIRT_TICKS 20
#define VIRT_PERIOD_MS 5
#define PHYS_PERIOD_MS 10
/* Beyond the ticks' own time. Generous: under QEMU's TCG on a loaded
 * host this vCPU can wait seconds for a host CPU, and once it runs the
 * watchdog's interrupt can be taken before the overdue ticks; a lost
 * interrupt still fails, 10 s late. Seen at 2 s: "12 of 20 ticks". */
#define WATCHDOG_MARGIN_MS 10000
#define QUIET_PERIODS 3          /* after the last tick: no more may come */

const char guest_name[] = "timer";

/* One timer's run; the handler writes, guest_main reads (same vCPU,
 * with interrupts masked while it looks). */
struct timer_run {
	const char *name;
	u32 intid;
	bool watchdog;           /* this run only guards the other */
	u32 wanted;              /* ticks to take, then stop */
	u64 period;              /* in counter ticks */
	u32 ticks;
	u32 early;               /* taken before the counter reached CVAL */
	u64 early_count, early_cval;
	u64 max_late;            /* counter ticks after CVAL, worst tick */
};

static struct timer_run runs[] = {
	[RT_TIMER_VIRT] = { .name = "CNTV", .intid = GUEST_VTIMER_INTID },
	[RT_TIMER_PHYS] = { .name = "CNTP", .intid = GUEST_PTIMER_INTID },
};

static enum rt_timer timer_of(u32 intid)
{
	return intid == GUEST_VTIMER_INTID ? RT_TIMER_VIRT : RT_TIMER_PHYS;
}

static enum rt_timer other(enum rt_timer t)
{
	return t == RT_TIMER_VIRT ? RT_TIMER_PHYS : RT_TIMER_VIRT;
}

static void timer_irq(u32 intid, int source)
{
	enum rt_timer t = timer_of(intid);
	struct timer_run *r = &runs[t];
	u64 now = rt_timer_count(t);
	u64 cval = rt_timer_cval(t);

	if (now < cval || !(rt_timer_ctl(t) & CNT_CTL_ISTATUS)) {
		if (!r->early++) {
			r->early_count = now;
			r->early_cval = cval;
		}
	} else {
		r->max_late = MAX(r->max_late, now - cval);
	}
	r->ticks++;
	if (!r->watchdog && r->ticks < r->wanted)
		rt_timer_arm(t, cval + r->period);    /* periodic, no drift */
	else
		rt_timer_stop(t);
}

static void start(enum rt_timer t, bool watchdog, u32 wanted, u64 period)
{
	struct timer_run *r = &runs[t];

	r->watchdog = watchdog;
	r->wanted = wanted;
	r->period = period;
	r->ticks = r->early = 0;
	r->max_late = 0;
	rt_timer_arm(t, rt_timer_count(t) + period);
}

/* Sleep in WFI until @t took its ticks or the watchdog fired. */
static void sleep_until_done(enum rt_timer t)
{
	for (;;) {
		irq_disable();
		if (READ_ONCE(runs[t].ticks) >= runs[t].wanted ||
		    READ_ONCE(runs[other(t)].ticks))
			break;
		wfi();          /* wakes for a pending interrupt even masked */
		irq_enable();   /* ... which is taken here */
	}
	irq_enable();
}

static void busy_wait(enum rt_timer t, u64 ticks)
{
	u64 end = rt_timer_count(t) + ticks;

	while (rt_timer_count(t) < end)
		;
}

static void test_timer(enum rt_timer t, u32 wanted, u64 period_ms)
{
	struct timer_run *r = &runs[t];
	u64 period = rt_ms_to_ticks(period_ms);
	u64 patience_ms = wanted * period_ms + WATCHDOG_MARGIN_MS;
	u64 began = rt_timer_count(t);
	u64 took;

	start(other(t), true, 1, rt_ms_to_ticks(patience_ms));
	start(t, false, wanted, period);
	sleep_until_done(t);
	took = rt_timer_count(t) - began;
	rt_timer_stop(other(t));
	if (READ_ONCE(runs[other(t)].ticks))
		rt_fail("%s: only %u of %u ticks within %llu ms", r->name,
			r->ticks, wanted, (unsigned long long)patience_ms);
	busy_wait(t, QUIET_PERIODS * period);
	if (READ_ONCE(r->ticks) != wanted)
		rt_fail("%s: %u ticks, %u were programmed", r->name,
			READ_ONCE(r->ticks), wanted);
	if (r->early)
		rt_fail("%s: %u tick(s) early, first at count 0x%llx with CVAL 0x%llx",
			r->name, r->early, (unsigned long long)r->early_count,
			(unsigned long long)r->early_cval);
	if (took < wanted * period)
		rt_fail("%s: %u ticks of %llu ms in only %llu us", r->name, wanted,
			(unsigned long long)period_ms,
			(unsigned long long)rt_ticks_to_us(took));
	printf("timer: %s (INTID %u): %u tick(s) of %llu ms in %llu us, none early, "
	       "worst %llu us late\n", r->name, r->intid, wanted,
	       (unsigned long long)period_ms, (unsigned long long)rt_ticks_to_us(took),
	       (unsigned long long)rt_ticks_to_us(r->max_late));
}

static void check_intid(const char *name, u32 dtb, u32 map)
{
	if (dtb != map)
		rt_fail("DTB gives the %s timer INTID %u, the guest map %u", name,
			dtb, map);
}

void guest_main(void)
{
	check_intid("virtual", rt_board.timer.virt_intid, GUEST_VTIMER_INTID);
	check_intid("physical", rt_board.timer.phys_intid, GUEST_PTIMER_INTID);
	printf("timer: counter at %llu Hz\n", (unsigned long long)rt_counter_freq());
	for (unsigned int i = 0; i < ARRAY_SIZE(runs); i++) {
		rt_irq_set_handler(runs[i].intid, timer_irq);
		gic_enable_private(runs[i].intid, GIC_PRIO_DEFAULT);
	}
	test_timer(RT_TIMER_VIRT, VIRT_TICKS, VIRT_PERIOD_MS);
	test_timer(RT_TIMER_PHYS, 1, PHYS_PERIOD_MS);
}
