/* Generic timer: counter reads and the EL2 physical timer (CNTHP_*). */
#include "drivers/arch_timer.h"

#include "arch/arm64/barrier.h"
#include "arch/arm64/sysreg.h"

static u64 freq_hz;

void timer_init(u32 dt_freq_hz)
{
	freq_hz = dt_freq_hz ? dt_freq_hz : read_sysreg(cntfrq_el0);
}

u64 timer_freq(void)
{
	return freq_hz;
}

u64 timer_now(void)
{
	isb();    /* do not read the counter ahead of earlier instructions */
	return read_sysreg(cntpct_el0);
}

u64 timer_ms_to_ticks(u64 ms)
{
	return ms * freq_hz / 1000;
}

void hyp_timer_arm(u64 ticks)
{
	write_sysreg(cnthp_tval_el2, ticks);
	write_sysreg(cnthp_ctl_el2, CNT_CTL_ENABLE);
	isb();
}

void hyp_timer_disarm(void)
{
	write_sysreg(cnthp_ctl_el2, 0);
	isb();
}
