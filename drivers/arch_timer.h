/* The Arm generic timer as EL2 uses it: counter, frequency, EL2 timer. */
#ifndef DRIVERS_ARCH_TIMER_H
#define DRIVERS_ARCH_TIMER_H

#include "lib/types.h"

/* @dt_freq_hz: the DTB's clock-frequency, or 0 to trust CNTFRQ_EL0. */
void timer_init(u32 dt_freq_hz);
u64 timer_freq(void);
/* The physical count (CNTPCT_EL0), ordered after earlier instructions. */
u64 timer_now(void);
u64 timer_ms_to_ticks(u64 ms);
/* Fire the EL2 physical timer (CNTHP) @ticks from now / stop it. */
void hyp_timer_arm(u64 ticks);
void hyp_timer_disarm(void);

#endif
