/*
 * dirtycheck: the checker of the dirty-logging test, in the manner of
 * KVM's dirty_log_test. It runs in a VM whose scenario entry manages the
 * workload VM (tests/guests/dirtywork.c) and drives that VM's dirty log
 * through the test-only control channel (virt/dirtyctl_abi.h, a build
 * with CONFIG_DIRTY_TEST_CHANNEL). The target starts with us, so it is
 * held paused from our first call until logging is on and our first
 * reading of its pages is taken; meanwhile a set of bad calls must all
 * be refused. Then:
 *
 *   ATTACH  the target's RAM appears read-only at `attach=` (its runtime
 *           map is made read-only there too: rt_map_readonly());
 *   ENABLE  logging in `mode=` wp, dbm or auto (dbm on a CPU without
 *           FEAT_HAFDBS: "dbm unavailable, using wp", and wp it is);
 *   rounds  HARVEST until nothing is left (the set D of pages logged),
 *           RESET until it returns 0, then read the first u64 of every
 *           page of the target through the view and compare it with
 *           the previous round's: the check of dirtyround.h;
 *   PAUSE   round rounds/2 (or every `pause_every=` rounds) is made
 *           with the target paused, and once the target has stopped a
 *           final round is made on it: both are exact (no write can be
 *           in flight, so nothing may be pending);
 *   STATS   the engine's counters, printed; then DISABLE.
 *
 * The workload writes a value no page ever held before at each store,
 * so a page whose first word changed was written. The rounds go at the
 * checker's own pace, with `interval_us=` between them for the workload
 * to dirty pages (spent in WFI until a timer tick: pacing only, nothing
 * waits for it to be long enough). Bootargs: target=<id> (required),
 * mode= (wp), rounds= (20), attach= (0x80000000), interval_us= (10000),
 * pause_every= (rounds/2), verbose=1 (a line for every round, not only
 * the exact ones and those that lost pages), crash_at= (0: the paused
 * round from which on it makes the hypervisor stop it, to show that its
 * target is then let go). With a large rounds= the
 * target's end ends the run, so that every run has its final exact round.
 * Verdict: "dirtycheck: PASS", or FAIL for any page lost, any call that
 * fails, or no page dirtied in any round (the target never ran).
 */
#include <stdarg.h>

#include "lib/compiler.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "tests/guests/dirtyctl_guest.h"
#include "tests/guests/dirtyround.h"
#include "tests/guests/gutil.h"
#include "tests/guests/rt/rt.h"
#include "virt/guest_map.h"
#include "virt/scenario.h"

#define DEFAULT_ROUNDS 20
#define HOLE_IPA 0x48000000ULL        /* no RAM, no device: a stop */
#define DEFAULT_ATTACH 0x80000000ULL  /* 2 GiB: above a small VM's RAM */
#define DEFAULT_INTERVAL_US 10000
#define PAGE_SHIFT 12
#define PAGE_SIZE (1ULL << PAGE_SHIFT)
#define DTB_SPAN 0x200000ULL          /* the target's DTB: its last 2 MiB */
#define FDT_MAGIC 0xd00dfeedu
#define HARVEST_ENTRIES 1024          /* per HARVEST call: 16 KiB */
/* Rounds without a single dirty page after which the target is taken
 * for one that never writes (rather than going on to rounds=). */
#define IDLE_ROUNDS_MAX 100
#define REASON_MAX 256
/* A HARVEST loop takes at most every page once plus what the rings and
 * overflow bitmap held before (the engine keeps a page out of the log
 * until it is reset): this many calls per round mean it never ends. */
#define HARVEST_CALLS_MAX(pages) (4 * ((pages) / HARVEST_ENTRIES) + 256)

const char guest_name[] = "dirtycheck";

static struct {
	u64 target;          /* VM id */
	u64 mode;            /* DIRTYCTL_MODE_* asked for */
	u64 rounds;
	u64 attach;          /* IPA of the view */
	u64 interval_us;
	u64 pause_every;     /* rounds between paused rounds */
	bool verbose;
	u64 crash_at;        /* 0, or the first paused round to stop in */
} cfg;

/* The target's pages and the round check over them (dirtyround.h). */
static u64 npages;
static struct dround chk;

static struct dirtyctl_entry harvest_buf[HARVEST_ENTRIES];

/* What must be undone before the verdict: the target must not stay
 * paused or logging once this VM is gone (its vCPUs would wait for a
 * reset that no one makes). */
static bool logging_on, paused;

/* Totals over the run beyond the round check's. */
static struct {
	u64 harvested, reset;
	u64 paused_rounds;
	bool final_on_stopped;
} total;

/* ------------------------------------------------------------ the calls */

/* A call about the target. */
static struct dctl_ret dctl(u32 fn, u64 a2, u64 a3)
{
	return dctl_call(fn, cfg.target, a2, a3);
}

/* Leaves the target running unlogged, then fails. */
static __noreturn __printf(1, 2) void check_fail(const char *fmt, ...)
{
	char why[REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (paused)
		dctl(DIRTYCTL_RESUME, 0, 0);
	if (logging_on)
		dctl(DIRTYCTL_DISABLE, 0, 0);
	paused = logging_on = false;
	rt_fail("%s", why);
}

/* A call that must succeed. */
static struct dctl_ret must(u32 fn, const char *name, u64 a2, u64 a3)
{
	struct dctl_ret r = dctl(fn, a2, a3);

	if (r.x0 < 0)
		check_fail("%s of VM %llu: %s (%lld)", name, (unsigned long long)cfg.target,
			   dctl_err_name(r.x0), (long long)r.x0);
	return r;
}

static bool target_stopped(void)
{
	return must(DIRTYCTL_INFO, "INFO", 0, 0).x5 != 0;
}

/* ------------------------------------------------------- refusals */

static unsigned int refused;

/* A call the hypervisor must refuse with @want (and log why). */
static void expect_refusal(const char *what, s64 want, u64 target, u32 fn,
			   u64 a2, u64 a3)
{
	s64 got = dctl_call(fn, target, a2, a3).x0;

	if (got != want)
		check_fail("%s: answered %lld, expected %s (%lld)", what, (long long)got,
			   dctl_err_name(want), (long long)want);
	refused++;
}

/*
 * Before anything is set up (the target held paused, so a second PAUSE
 * is refused too): every VM id but the target's and our own
 * (which INFO describes as a VM of our size) is refused, as is the
 * target's id with high bits set (it must not alias it); we may not
 * pause or attach ourselves; bad modes, calls out of order, and every
 * buffer or window that is not wholly where it must be are refused. A
 * refused HARVEST must not consume entries: logging is off, none exist.
 */
static void check_refusals(void)
{
	const struct mem_range *ram = &rt_board.mem[0];
	u64 ram_end = ram->base + ram->size;

	u64 self = ~0ULL;

	for (u64 id = 0; id < SCENARIO_MAX_VMS; id++) {
		struct dctl_ret r;

		if (id == cfg.target)
			continue;
		r = dctl_call(DIRTYCTL_INFO, id, 0, 0);
		if (!r.x0 && self == ~0ULL && r.x2 == ram->size && r.x3 == rt_nr_cpus()) {
			self = id;   /* we may look at our own log */
			continue;
		}
		if (r.x0 != DIRTYCTL_EPERM && r.x0 != DIRTYCTL_EINVAL)
			check_fail("INFO of VM %llu, which we do not manage: answered %lld",
				   (unsigned long long)id, (long long)r.x0);
		refused++;
	}
	if (self == ~0ULL)
		check_fail("INFO: no VM id is ours");
	expect_refusal("PAUSE of ourselves", DIRTYCTL_EPERM, self, DIRTYCTL_PAUSE, 0, 0);
	expect_refusal("ATTACH of ourselves", DIRTYCTL_EPERM, self, DIRTYCTL_ATTACH,
		       cfg.attach, 0);
	expect_refusal("INFO of the target's id + 2^32", DIRTYCTL_EINVAL,
		       cfg.target + (1ULL << 32), DIRTYCTL_INFO, 0, 0);
	expect_refusal("ENABLE mode 0", DIRTYCTL_EINVAL, cfg.target, DIRTYCTL_ENABLE, 0, 0);
	expect_refusal("ENABLE mode 4", DIRTYCTL_EINVAL, cfg.target, DIRTYCTL_ENABLE,
		       DIRTYCTL_MODE_AUTO + 1, 0);
	expect_refusal("DISABLE while off", DIRTYCTL_EBUSY, cfg.target,
		       DIRTYCTL_DISABLE, 0, 0);
	expect_refusal("a second PAUSE", DIRTYCTL_EBUSY, cfg.target,
		       DIRTYCTL_PAUSE, 0, 0);
	expect_refusal("HARVEST into IPA 0", DIRTYCTL_EINVAL, cfg.target,
		       DIRTYCTL_HARVEST, 0, 1);
	expect_refusal("HARVEST across the end of RAM", DIRTYCTL_EINVAL, cfg.target,
		       DIRTYCTL_HARVEST, ram_end - sizeof(struct dirtyctl_entry) / 2, 1);
	expect_refusal("HARVEST of 0 entries", DIRTYCTL_EINVAL, cfg.target,
		       DIRTYCTL_HARVEST, (u64)harvest_buf, 0);
	expect_refusal("HARVEST of 2^60 entries", DIRTYCTL_EINVAL, cfg.target,
		       DIRTYCTL_HARVEST, (u64)harvest_buf, 1ULL << 60);
	expect_refusal("STATS across the end of RAM", DIRTYCTL_EINVAL, cfg.target,
		       DIRTYCTL_STATS, ram_end - sizeof(u64), 0);
	expect_refusal("ATTACH at an unaligned IPA", DIRTYCTL_EINVAL, cfg.target,
		       DIRTYCTL_ATTACH, cfg.attach + PAGE_SIZE, 0);
	expect_refusal("ATTACH over our RAM", DIRTYCTL_EINVAL, cfg.target,
		       DIRTYCTL_ATTACH, GUEST_RAM_BASE, 0);
	expect_refusal("ATTACH beyond our IPA space", DIRTYCTL_EINVAL, cfg.target,
		       DIRTYCTL_ATTACH, 1ULL << 52, 0);
	printf("dirtycheck: %u bad calls refused\n", refused);
}

/* --------------------------------------------------------------- set-up */

static void parse_args(void)
{
	const char *m;
	size_t len;

	if (rt_arg_u64("target", &cfg.target))
		rt_fail("bootargs: target=<VM id> is required");
	cfg.rounds = rt_arg_u64_or("rounds", DEFAULT_ROUNDS);
	cfg.attach = rt_arg_u64_or("attach", DEFAULT_ATTACH);
	cfg.interval_us = rt_arg_u64_or("interval_us", DEFAULT_INTERVAL_US);
	cfg.mode = DIRTYCTL_MODE_WP;
	if (!rt_arg("mode", &m, &len)) {
		if (len == 2 && !strncmp(m, "wp", len))
			cfg.mode = DIRTYCTL_MODE_WP;
		else if (len == 3 && !strncmp(m, "dbm", len))
			cfg.mode = DIRTYCTL_MODE_DBM;
		else if (len == 4 && !strncmp(m, "auto", len))
			cfg.mode = DIRTYCTL_MODE_AUTO;
		else
			rt_fail("bootargs: mode= is wp, dbm or auto");
	}
	if (cfg.rounds < 2)
		rt_fail("bootargs: rounds= must be at least 2 (one of them paused)");
	cfg.pause_every = rt_arg_u64_or("pause_every", cfg.rounds / 2);
	cfg.verbose = rt_arg_u64_or("verbose", 0);
	cfg.crash_at = rt_arg_u64_or("crash_at", 0);
	if (!cfg.pause_every)
		rt_fail("bootargs: pause_every= must be positive");
}

static void attach(void)
{
	struct dctl_ret info = must(DIRTYCTL_INFO, "INFO", 0, 0);
	struct dctl_ret a;
	u64 ram_size = info.x2;
	const volatile u8 *view;
	u32 magic;

	if (info.x1 != GUEST_RAM_BASE || !ram_size || ram_size % DTB_SPAN)
		check_fail("INFO: RAM 0x%llx bytes at 0x%llx is not a VM's RAM",
			   (unsigned long long)ram_size, (unsigned long long)info.x1);
	a = must(DIRTYCTL_ATTACH, "ATTACH", cfg.attach, 0);
	expect_refusal("a second ATTACH", DIRTYCTL_EBUSY, cfg.target, DIRTYCTL_ATTACH,
		       cfg.attach, 0);
	if (a.x1 != ram_size)
		check_fail("ATTACH mapped 0x%llx bytes, INFO said 0x%llx",
			   (unsigned long long)a.x1, (unsigned long long)ram_size);
	if (rt_map_readonly(cfg.attach, ram_size))
		check_fail("attach=0x%llx: not a GiB-aligned window the runtime can map",
			   (unsigned long long)cfg.attach);
	view = (const volatile u8 *)cfg.attach;
	npages = ram_size >> PAGE_SHIFT;
	/* The hypervisor put the target's DTB at the start of its last
	 * 2 MiB (docs/vms.md): seeing it there shows the view is its RAM. */
	magic = __builtin_bswap32(*(const volatile u32 *)(view + ram_size - DTB_SPAN));
	if (magic != FDT_MAGIC)
		check_fail("the view at 0x%llx shows 0x%08x where the target's DTB "
			   "starts, not the FDT magic", (unsigned long long)cfg.attach, magic);
	printf("dirtycheck: VM %llu: %llu MiB, %llu vCPU(s), dbm %s; its RAM "
	       "is attached read-only at 0x%llx\n", (unsigned long long)cfg.target,
	       (unsigned long long)(ram_size >> 20), (unsigned long long)info.x3,
	       (info.x4 & DIRTYCTL_CAP_DBM) ? "available" : "unavailable",
	       (unsigned long long)cfg.attach);
	dround_init(&chk, view, npages, cfg.verbose);
}

static const char *mode_name(u64 m)
{
	return m == DIRTYCTL_MODE_DBM ? "dbm" : m == DIRTYCTL_MODE_WP ? "wp" : "?";
}

/* mode=dbm where the CPUs lack FEAT_HAFDBS is not an error: the engine
 * answers ENOTSUP (INFO's capability must agree) and the run goes on in
 * wp, so one scenario serves both CPU models (tests/qemu/vms.scenarios). */
static void enable(void)
{
	bool has_dbm = must(DIRTYCTL_INFO, "INFO", 0, 0).x4 & DIRTYCTL_CAP_DBM;
	struct dctl_ret r = dctl(DIRTYCTL_ENABLE, cfg.mode, 0);

	if (r.x0 == DIRTYCTL_ENOTSUP && cfg.mode == DIRTYCTL_MODE_DBM && !has_dbm) {
		printf("dirtycheck: dbm unavailable, using wp\n");
		r = dctl(DIRTYCTL_ENABLE, DIRTYCTL_MODE_WP, 0);
	}
	if (r.x0 < 0)
		check_fail("ENABLE %s: %s (%lld)", mode_name(cfg.mode), dctl_err_name(r.x0),
			   (long long)r.x0);
	logging_on = true;
	expect_refusal("a second ENABLE", DIRTYCTL_EBUSY, cfg.target, DIRTYCTL_ENABLE,
		       DIRTYCTL_MODE_WP, 0);
	if (r.x1 != DIRTYCTL_MODE_WP && r.x1 != DIRTYCTL_MODE_DBM)
		check_fail("ENABLE: mode %llu in effect", (unsigned long long)r.x1);
	if ((r.x1 == DIRTYCTL_MODE_DBM) != (has_dbm && cfg.mode != DIRTYCTL_MODE_WP))
		check_fail("ENABLE %s: mode %s in effect, but INFO says dbm is %s",
			   mode_name(cfg.mode), mode_name(r.x1),
			   has_dbm ? "available" : "unavailable");
	printf("dirtycheck: mode %s in effect\n", mode_name(r.x1));
}

/* ---------------------------------------------------------------- rounds */

/* HARVEST until none are left: D = the pages logged since the last round. */
static void harvest(void)
{
	u64 calls = 0;
	struct dctl_ret r;

	dround_harvest_begin(&chk);
	do {
		if (++calls > HARVEST_CALLS_MAX(npages))
			check_fail("HARVEST still had entries after %llu calls",
				   (unsigned long long)(calls - 1));
		r = must(DIRTYCTL_HARVEST, "HARVEST", (u64)harvest_buf, HARVEST_ENTRIES);
		if ((u64)r.x0 > HARVEST_ENTRIES)
			check_fail("HARVEST returned %lld entries for %u places",
				   (long long)r.x0, HARVEST_ENTRIES);
		for (s64 i = 0; i < r.x0; i++) {
			const struct dirtyctl_entry *e = &harvest_buf[i];

			if (!dround_mark(&chk, e->slot, e->offset))
				check_fail("HARVEST entry %lld: slot %u page %llu is not in "
					   "the target's RAM (slot 0, %llu pages)", (long long)i,
					   e->slot, e->offset, (unsigned long long)npages);
		}
		total.harvested += (u64)r.x0;
	} while (r.x1);
}

/* RESET until 0: every harvested page is protected again (its TLB
 * entries gone) before we read it. Each call frees at least one entry
 * or returns 0, so it ends within harvested + 1 calls. */
static void reset(void)
{
	u64 budget = total.harvested - total.reset + 1;
	s64 n;

	while ((n = must(DIRTYCTL_RESET, "RESET", 0, 0).x0) > 0) {
		total.reset += (u64)n;
		if (!budget--)
			check_fail("RESET kept returning entries: %llu reset, %llu harvested",
				   (unsigned long long)total.reset,
				   (unsigned long long)total.harvested);
	}
}

/* One round (dirtyround.h): D = harvest, reset, then the check. */
static void check_round(u64 round, bool exact)
{
	harvest();
	reset();
	dround_check(&chk, round, exact, 0);
}

/*
 * Rounds until `rounds`, every pause_every-th with the target paused; as
 * soon as INFO says the target has stopped, one final round on it
 * (exact: nothing runs there) and no more.
 */
/*
 * crash_at=: the containment test. With the target paused and logged,
 * this VM makes an access the hypervisor must stop it for; the target
 * must then be resumed and its logging stopped (virt/dirtyctl.c,
 * dirtyctl_vm_stopped()), and finish on its own.
 */
static void crash_holding_pause(void)
{
	printf("dirtycheck: stopping itself while it holds a pause, logging on\n");
	(void)*(volatile u32 *)HOLE_IPA;
	rt_fail("still running after reading 0x%llx", HOLE_IPA);
}

static void run_rounds(void)
{
	for (u64 round = 1; round <= cfg.rounds; round++) {
		gu_sleep_us(cfg.interval_us);
		if (target_stopped()) {
			check_round(round, true);
			total.final_on_stopped = true;
			break;
		}
		if (round > IDLE_ROUNDS_MAX && !chk.total.dirty_seen)
			check_fail("no page was logged dirty in %u rounds: the target "
				   "does not write", IDLE_ROUNDS_MAX);
		if (round % cfg.pause_every) {
			check_round(round, false);
			continue;
		}
		must(DIRTYCTL_PAUSE, "PAUSE", 0, 0);
		paused = true;
		if (cfg.crash_at && round >= cfg.crash_at)
			crash_holding_pause();
		check_round(round, true);
		must(DIRTYCTL_RESUME, "RESUME", 0, 0);
		paused = false;
		total.paused_rounds++;
	}
}

/* The engine's counters, a few to a line (the hypervisor's console
 * takes lines of up to 160 characters). */
static void print_stats(void)
{
	static const char *const names[DIRTYCTL_STATS_WORDS] = {
		"mode", "pages_logged", "wp_faults", "spurious_faults",
		"dbm_arm_faults", "dbm_scans", "dbm_pages_scanned", "dbm_pages_dirty",
		"dbm_groups_disarmed", "ring_full_waits", "overflow_pages",
		"harvested", "reset",
	};
	static const unsigned int line_starts[] = {
		DSTAT_MODE, DSTAT_DBM_ARM_FAULTS, DSTAT_RING_FULL_WAITS, DIRTYCTL_STATS_WORDS,
	};
	static u64 stats[DIRTYCTL_STATS_WORDS];

	must(DIRTYCTL_STATS, "STATS", (u64)stats, 0);
	for (unsigned int l = 0; l + 1 < ARRAY_SIZE(line_starts); l++) {
		printf("dirtycheck: stats:");
		for (unsigned int i = line_starts[l]; i < line_starts[l + 1]; i++)
			printf(" %s %llu", names[i], (unsigned long long)stats[i]);
		printf("\n");
	}
}

static void print_totals(void)
{
	printf("dirtycheck: %llu rounds, %llu exact (%llu paused%s)\n",
	       (unsigned long long)chk.total.rounds,
	       (unsigned long long)chk.total.exact_rounds,
	       (unsigned long long)total.paused_rounds,
	       total.final_on_stopped ? ", 1 final on the stopped target" : "");
	dround_print_totals(&chk);
	printf("dirtycheck: %llu entries harvested, %llu reset\n",
	       (unsigned long long)total.harvested, (unsigned long long)total.reset);
}

void guest_main(void)
{
	parse_args();
	if (dctl(DIRTYCTL_INFO, 0, 0).x0 == DIRTYCTL_ENOSYS)
		rt_fail("no dirty-log control channel here (a hypervisor built with "
			"CONFIG_DIRTY_TEST_CHANNEL has one)");
	/* The target was started with us: held still while we set up, or
	 * a quick one could be done before its writes are logged. */
	must(DIRTYCTL_PAUSE, "PAUSE", 0, 0);
	paused = true;
	check_refusals();
	attach();
	enable();
	dround_start(&chk, chk.view);   /* logging is on: every later write is logged */
	must(DIRTYCTL_RESUME, "RESUME", 0, 0);
	paused = false;
	expect_refusal("RESUME without PAUSE", DIRTYCTL_EBUSY, cfg.target,
		       DIRTYCTL_RESUME, 0, 0);
	run_rounds();
	print_stats();
	must(DIRTYCTL_DISABLE, "DISABLE", 0, 0);
	logging_on = false;
	print_totals();
	if (chk.total.lost)
		rt_fail("%llu page(s) lost", (unsigned long long)chk.total.lost);
	if (!chk.total.dirty_seen)
		rt_fail("no page was logged dirty in %llu rounds: the target never "
			"wrote", (unsigned long long)chk.total.rounds);
}
