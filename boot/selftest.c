/*
 * Boot self-check of the interrupt paths EL2 depends on: an SGI from CPU 0
 * reaches every other CPU, and every CPU takes its EL2 physical timer
 * interrupt. Counts are per CPU; CPU 0 waits for them with a timeout.
 */
#include "arch/arm64/cpu.h"
#include "boot/boot.h"
#include "drivers/arch_timer.h"
#include "drivers/gic.h"
#include "lib/console.h"

#define SELFTEST_SGI 1
#define SELFTEST_TIMER_MS 1
/* Generous: real hardware answers in microseconds, but under QEMU's
 * multi-threaded TCG on a loaded host a vCPU thread can wait hundreds of
 * milliseconds for a host CPU (seen: 8 vCPUs on 2 host cores beside
 * other QEMUs). The wait ends as soon as every CPU has answered. */
#define SELFTEST_TIMEOUT_MS 2000

static u32 timer_intid;
/* Incremented by each CPU's handlers, read by CPU 0 (acquire/release). */
static u32 sgi_seen[CONFIG_MAX_CPUS];
static u32 timer_seen[CONFIG_MAX_CPUS];

static enum irq_result selftest_sgi(u32 intid)
{
	/* Release: pairs with the acquire in missing(). */
	__atomic_fetch_add(&sgi_seen[this_cpu()->index], 1, __ATOMIC_RELEASE);
	return IRQ_DONE;
}

static enum irq_result selftest_timer(u32 intid)
{
	hyp_timer_disarm();    /* level-triggered: quiet it before EOI */
	/* Release: pairs with the acquire in missing(). */
	__atomic_fetch_add(&timer_seen[this_cpu()->index], 1, __ATOMIC_RELEASE);
	return IRQ_DONE;
}

int selftest_init(const struct board *b)
{
	int r;

	timer_intid = b->timer.hyp_phys_intid;
	r = gic_request_private(SELFTEST_SGI, selftest_sgi);
	if (!r)
		r = gic_request_private(timer_intid, selftest_timer);
	if (!r)
		hyp_timer_arm(timer_ms_to_ticks(SELFTEST_TIMER_MS));
	return r;
}

/* Run by each secondary CPU before it says it is online. */
void selftest_prepare_cpu(void)
{
	gic_enable_private_here(SELFTEST_SGI);
	gic_enable_private_here(timer_intid);
	hyp_timer_arm(timer_ms_to_ticks(SELFTEST_TIMER_MS));
}

/* CPU @i is online but its counter in @seen is still zero. Acquire:
 * pairs with the release in the handlers that count. */
static bool missing(const u32 *seen, unsigned int i)
{
	return cpu_is_online(i) && !__atomic_load_n(&seen[i], __ATOMIC_ACQUIRE);
}

/* True when every online CPU's counter in @seen is non-zero, waiting up
 * to SELFTEST_TIMEOUT_MS; @skip_self leaves CPU 0 out. */
static bool all_seen(const u32 *seen, bool skip_self)
{
	u64 deadline = timer_now() + timer_ms_to_ticks(SELFTEST_TIMEOUT_MS);
	bool done;

	do {
		done = true;
		for (unsigned int i = skip_self ? 1 : 0; i < CONFIG_MAX_CPUS; i++)
			if (missing(seen, i))
				done = false;
	} while (!done && timer_now() < deadline);
	return done;
}

static void report_missing(const char *what, const u32 *seen, bool skip_self)
{
	for (unsigned int i = skip_self ? 1 : 0; i < CONFIG_MAX_CPUS; i++)
		if (missing(seen, i))
			printf("hv: self-check: CPU %u never took the %s\n", i, what);
}

bool selftest_run(void)
{
	bool sgi_ok, timer_ok;

	for (unsigned int i = 1; i < CONFIG_MAX_CPUS; i++)
		if (cpu_is_online(i))
			gic_send_sgi(SELFTEST_SGI, i);
	sgi_ok = all_seen(sgi_seen, true);
	timer_ok = all_seen(timer_seen, false);
	if (!sgi_ok)
		report_missing("SGI from CPU 0", sgi_seen, true);
	if (!timer_ok)
		report_missing("EL2 timer interrupt", timer_seen, false);
	printf("hv: self-check: SGI from CPU 0 to %u other CPU(s) %s, "
	       "EL2 timer (INTID %u) on %u CPU(s) %s\n",
	       cpus_online() - 1, sgi_ok ? "ok" : "FAILED", timer_intid,
	       cpus_online(), timer_ok ? "ok" : "FAILED");
	return sgi_ok && timer_ok;
}

/*
 * "hv.selftest=fault": load from an address the EL2 map leaves unmapped on
 * every board (the last page below 4 GiB), to show that an unexpected
 * exception at EL2 gives a decoded register dump and a clean stop.
 */
void selftest_fault(void)
{
	volatile u64 *unmapped = (volatile u64 *)0xfffff000UL;

	printf("hv: self-check: taking a data abort at EL2 on purpose\n");
	(void)*unmapped;
	printf("hv: self-check: the load from %p did not fault\n", (void *)unmapped);
}
