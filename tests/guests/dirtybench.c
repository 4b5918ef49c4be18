/*
 * dirtybench: the cost of dirty logging, for `make bench`. One vCPU
 * drives its own VM's dirty log through the test-only control channel
 * (virt/dirtyctl_abi.h; a VM may always drive its own log) and times
 * each step with the virtual counter. Under QEMU `-icount shift=0` with
 * `-cpu max` the counter runs at 1 GHz and one instruction takes 1 ns,
 * so ticks are instructions, guest and hypervisor together.
 *
 * Measured, on BENCH_PAGES pages of a buffer in its own RAM (fewer than
 * its vCPU ring's soft limit: a VM harvesting its own log must never
 * make its vCPU wait for room):
 *   - enabling logging, per page of RAM;
 *   - a write-protect fault, trap to guest resume: a pass of first
 *     writes minus a pass over the same, now writable, pages;
 *   - harvest plus reset, per page, for sequential and scattered pages;
 *   - dbm: traps per 16 pages for a sequential and a scattered writer,
 *     harvest cost per armed page scanned, and per page harvested.
 * Each figure is one line "dirtybench: <what>: <n> <unit>"; the verdict
 * is FAIL only if a call fails or the counter is not 1 GHz.
 */
#include "lib/compiler.h"
#include "lib/printf.h"
#include "tests/guests/dirtyctl_guest.h"
#include "tests/guests/rt/rt.h"
#include "tests/guests/rt/timer.h"
#include "virt/guest_map.h"

#define ICOUNT_FREQ 1000000000u     /* -icount shift=0, CNTFRQ of -cpu max */
#define PAGE_SIZE 0x1000ULL
#define BENCH_PAGES 2048u           /* below the 4032-entry soft limit */
#define BUF_OFFSET (256ULL << 20)   /* buffer: 256 MiB into RAM ... */
#define BUF_PAGES 16384u            /* ... 64 MiB long */
/* Scattered order: i * STRIDE mod BUF_PAGES visits distinct pages (the
 * stride is odd, BUF_PAGES a power of two) about 31 MiB apart. */
#define SCATTER_STRIDE 7919u
#define HARVEST_ENTRIES 4096u
#define GROUP_PAGES 16u             /* DIRTY_DBM_GROUP_PAGES */

const char guest_name[] = "dirtybench";

static u64 self;                    /* our VM id: target= */
static u8 *buf;
static struct dirtyctl_entry entries[HARVEST_ENTRIES];
static u64 stats[DIRTYCTL_STATS_WORDS];

static u64 ticks(void)
{
	return rt_timer_count(RT_TIMER_VIRT);
}

static struct dctl_ret call(u32 fn, const char *what, u64 a2, u64 a3)
{
	struct dctl_ret r = dctl_call(fn, self, a2, a3);

	if (r.x0 < 0)
		rt_fail("%s: %s", what, dctl_err_name(r.x0));
	return r;
}

static u64 stat(enum dctl_stat i)
{
	call(DIRTYCTL_STATS, "STATS", (u64)stats, 0);
	return stats[i];
}

static u64 *page_word(u32 page)
{
	return (u64 *)(buf + (u64)page * PAGE_SIZE);
}

static u32 bench_page(u32 i, bool scattered)
{
	return scattered ? (i * SCATTER_STRIDE) % BUF_PAGES : i;
}

/* One write to the first word of each bench page: the ticks taken. */
static u64 write_pass(bool scattered, u64 value)
{
	u64 t0 = ticks();

	for (u32 i = 0; i < BENCH_PAGES; i++)
		__atomic_store_n(page_word(bench_page(i, scattered)), value + i,
				 __ATOMIC_RELAXED);
	return ticks() - t0;
}

/* Harvest everything, then reset everything: the ticks taken, and the
 * entries harvested in *@n. */
static u64 harvest_and_reset(u64 *n)
{
	u64 t0 = ticks();
	struct dctl_ret r;

	*n = 0;
	do {
		r = call(DIRTYCTL_HARVEST, "HARVEST", (u64)entries, HARVEST_ENTRIES);
		*n += (u64)r.x0;
	} while (r.x1);
	while (call(DIRTYCTL_RESET, "RESET", 0, 0).x0)
		;
	return ticks() - t0;
}

static void report(const char *what, u64 total, u64 per, const char *unit)
{
	printf("dirtybench: %s: %llu instructions per %s\n", what,
	       (unsigned long long)(per ? total / per : 0), unit);
}

/* Writes that trapped, in hundredths of a trap per GROUP_PAGES pages. */
static void report_traps(const char *what, u64 traps, u64 pages)
{
	u64 hundredths = traps * GROUP_PAGES * 100 / pages;

	printf("dirtybench: %s: %llu.%02llu traps per %u pages written\n", what,
	       (unsigned long long)(hundredths / 100),
	       (unsigned long long)(hundredths % 100), GROUP_PAGES);
}

static u64 fault_traps(void)
{
	return stat(DSTAT_WP_FAULTS) + stat(DSTAT_DBM_ARM_FAULTS) +
	       stat(DSTAT_SPURIOUS);
}

static void bench_wp(u64 ram_pages)
{
	u64 t, n, first, again;

	t = ticks();
	call(DIRTYCTL_ENABLE, "ENABLE wp", DIRTYCTL_MODE_WP, 0);
	report("enable logging (wp)", ticks() - t, ram_pages, "page of RAM");
	harvest_and_reset(&n);   /* the pages the set-up itself dirtied */

	for (int scattered = 0; scattered <= 1; scattered++) {
		first = write_pass(scattered, 1);
		again = write_pass(scattered, 1 + BENCH_PAGES);
		report(scattered ? "wp fault, scattered pages" : "wp fault, sequential pages",
		       first - again, BENCH_PAGES, "fault");
		t = harvest_and_reset(&n);
		if (n < BENCH_PAGES)
			rt_fail("harvested %llu entries for %u written pages",
				(unsigned long long)n, BENCH_PAGES);
		report(scattered ? "harvest + reset, scattered pages" :
				   "harvest + reset, sequential pages", t, n, "page");
	}
	t = ticks();
	call(DIRTYCTL_DISABLE, "DISABLE", 0, 0);
	report("disable logging (merge back)", ticks() - t, ram_pages, "page of RAM");
	harvest_and_reset(&n);
}

static void bench_dbm(void)
{
	u64 t, n, traps, scanned;

	call(DIRTYCTL_ENABLE, "ENABLE dbm", DIRTYCTL_MODE_DBM, 0);
	harvest_and_reset(&n);
	for (int scattered = 0; scattered <= 1; scattered++) {
		traps = fault_traps();
		t = write_pass(scattered, 1);
		traps = fault_traps() - traps;
		report_traps(scattered ? "dbm, scattered writer" : "dbm, sequential writer",
			     traps, BENCH_PAGES);
		report(scattered ? "dbm write, scattered pages" :
				   "dbm write, sequential pages", t, BENCH_PAGES, "page");
		scanned = stat(DSTAT_DBM_PAGES_SCANNED);
		t = harvest_and_reset(&n);
		scanned = stat(DSTAT_DBM_PAGES_SCANNED) - scanned;
		report(scattered ? "dbm harvest + reset, scattered pages" :
				   "dbm harvest + reset, sequential pages", t, n, "page");
		report(scattered ? "dbm scan, scattered pages" :
				   "dbm scan, sequential pages", t, scanned, "armed page scanned");
		/* A second harvest finds the groups clean and disarms them. */
		scanned = stat(DSTAT_DBM_PAGES_SCANNED);
		t = harvest_and_reset(&n);
		scanned = stat(DSTAT_DBM_PAGES_SCANNED) - scanned;
		report(scattered ? "dbm disarm, scattered pages" :
				   "dbm disarm, sequential pages", t, scanned, "armed page scanned");
	}
	call(DIRTYCTL_DISABLE, "DISABLE", 0, 0);
}

void guest_main(void)
{
	struct dctl_ret info;

	if (rt_counter_freq() != ICOUNT_FREQ)
		rt_fail("counter runs at %llu Hz, not 1 GHz: run under -cpu max "
			"(figures would not be instructions)",
			(unsigned long long)rt_counter_freq());
	if (rt_arg_u64("target", &self))
		rt_fail("bootargs: target=<this VM's id> is required");
	info = call(DIRTYCTL_INFO, "INFO", 0, 0);
	if (info.x2 < BUF_OFFSET + (u64)BUF_PAGES * PAGE_SIZE + (16ULL << 20))
		rt_fail("needs at least %llu MiB of RAM",
			(unsigned long long)((BUF_OFFSET >> 20) + 80));
	buf = (u8 *)(info.x1 + BUF_OFFSET);
	for (u32 p = 0; p < BUF_PAGES; p++)   /* no fault is a first touch */
		*page_word(p) = 0;
	bench_wp(info.x2 / PAGE_SIZE);
	if (info.x4 & DIRTYCTL_CAP_DBM)
		bench_dbm();
	else
		printf("dirtybench: dbm: not available on this CPU\n");
	rt_pass();
}
