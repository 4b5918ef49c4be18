/*
 * The EL1 generic timers of a test guest: virtual (CNTV, compared with
 * CNTVCT) and physical (CNTP, compared with CNTPCT), and deadlines in
 * virtual counter ticks for every wait that must not hang.
 */
#ifndef TESTS_GUESTS_RT_TIMER_H
#define TESTS_GUESTS_RT_TIMER_H

#include "arch/arm64/barrier.h"
#include "arch/arm64/sysreg.h"
#include "lib/types.h"

enum rt_timer { RT_TIMER_VIRT, RT_TIMER_PHYS };

static inline u64 rt_counter_freq(void)
{
	return read_sysreg(cntfrq_el0);
}

/* The counter @t compares with; the ISB keeps the read from being taken
 * early, ahead of the code before it. */
static inline u64 rt_timer_count(enum rt_timer t)
{
	isb();
	return t == RT_TIMER_VIRT ? read_sysreg(cntvct_el0) : read_sysreg(cntpct_el0);
}

static inline u64 rt_timer_cval(enum rt_timer t)
{
	return t == RT_TIMER_VIRT ? read_sysreg(cntv_cval_el0) : read_sysreg(cntp_cval_el0);
}

static inline u64 rt_timer_ctl(enum rt_timer t)
{
	return t == RT_TIMER_VIRT ? read_sysreg(cntv_ctl_el0) : read_sysreg(cntp_ctl_el0);
}

/* Fire when the counter reaches @cval (interrupt unmasked). */
static inline void rt_timer_arm(enum rt_timer t, u64 cval)
{
	if (t == RT_TIMER_VIRT) {
		write_sysreg(cntv_cval_el0, cval);
		write_sysreg(cntv_ctl_el0, CNT_CTL_ENABLE);
	} else {
		write_sysreg(cntp_cval_el0, cval);
		write_sysreg(cntp_ctl_el0, CNT_CTL_ENABLE);
	}
	isb();    /* the new compare value is in force from here */
}

/* Disabled: the (level) interrupt drops. */
static inline void rt_timer_stop(enum rt_timer t)
{
	if (t == RT_TIMER_VIRT)
		write_sysreg(cntv_ctl_el0, 0);
	else
		write_sysreg(cntp_ctl_el0, 0);
	isb();    /* the output is low before the interrupt is completed */
}

static inline u64 rt_ms_to_ticks(u64 ms)
{
	return ms * rt_counter_freq() / 1000;
}

static inline u64 rt_ticks_to_us(u64 ticks)
{
	return ticks * 1000000 / rt_counter_freq();
}

/* A point @ms milliseconds from now, for rt_past(). */
static inline u64 rt_deadline_ms(u64 ms)
{
	return rt_timer_count(RT_TIMER_VIRT) + rt_ms_to_ticks(ms);
}

static inline bool rt_past(u64 deadline)
{
	return rt_timer_count(RT_TIMER_VIRT) >= deadline;
}

#endif
