/*
 * dirtywork: the workload of the dirty-logging test (and a plain page
 * writer for benchmarks). Every vCPU (secondaries started with PSCI
 * CPU_ON) stores 8-byte values into the first word of pages of a buffer
 * of `mb=` MiB above the image: pages picked at random with a per-vCPU
 * xorshift (`pattern=random`, the default) or walked in order through the
 * vCPU's own share of the buffer (`pattern=seq`). Every value is unique,
 * (vCPU << 56) | sequence number from 1, so whoever watches the buffer
 * (tests/guests/dirtycheck.c) sees each store as a change. After
 * `writes=` stores per vCPU, and (with `ms=`) once it has written for at
 * least that many milliseconds of its own time, so that a test whose
 * checker needs several rounds does not depend on how fast the host
 * runs the writer, it prints "dirtywork: PASS <n> writes" and powers
 * off. `vcpus=` uses fewer vCPUs than the DTB lists.
 */
#include "lib/compiler.h"
#include "lib/errno.h"
#include "lib/fdt.h"
#include "lib/spinlock.h"
#include "lib/string.h"
#include "tests/guests/rt/psci.h"
#include "tests/guests/rt/rt.h"
#include "tests/guests/rt/timer.h"

#define DEFAULT_MB 64
#define DEFAULT_WRITES 100000
#define PAGE_SIZE 4096
#define PAGE_SHIFT 12
#define BUF_ALIGN 0x200000           /* 2 MiB: whole stage-2 blocks */
#define SEQ_BITS 56                  /* value = vCPU << SEQ_BITS | sequence */
/* The workers may be slowed by every round of write protection, and a
 * checker may pause the VM: generous, only a guard against a hang. */
#define WAIT_MS 120000
/* xorshift64 seed per vCPU: any non-zero value; an odd constant (from
 * splitmix64) times vCPU + 1 keeps the vCPUs' sequences apart. */
#define SEED_MIX 0x9e3779b97f4a7c15ULL

const char guest_name[] = "dirtywork";

/* Set by the boot vCPU before any other starts; read-only after. */
static struct {
	u8 *buf;
	u64 pages;
	u64 writes;              /* per vCPU, per batch */
	u64 min_ms;              /* keep writing batches until this long */
	unsigned int vcpus;
	bool sequential;
} cfg;

/* vCPUs done writing: bumped with release (pairs with the acquire in
 * wait_done()), so the boot vCPU sees every store before it reports. */
static u32 done;
/* Stores each vCPU made, written before its release of @done. */
static u64 written[RT_MAX_CPUS];

static void parse_args(void)
{
	const char *p;
	size_t len;
	u64 mb = rt_arg_u64_or("mb", DEFAULT_MB);

	cfg.writes = rt_arg_u64_or("writes", DEFAULT_WRITES);
	cfg.min_ms = rt_arg_u64_or("ms", 0);
	cfg.vcpus = (unsigned int)MIN(rt_arg_u64_or("vcpus", rt_nr_cpus()), (u64)rt_nr_cpus());
	if (!cfg.vcpus || !mb || mb > (1ULL << 20) || !cfg.writes ||
	    cfg.writes >= (1ULL << SEQ_BITS))
		rt_fail("bootargs: vcpus=, mb= (up to 1 TiB) and writes= (below "
			"2^%u) must be positive", SEQ_BITS);
	if (!rt_arg("pattern", &p, &len)) {
		if (len == 3 && !strncmp(p, "seq", len))
			cfg.sequential = true;
		else if (len != 6 || strncmp(p, "random", len))
			rt_fail("bootargs: pattern= is random or seq");
	}
	cfg.pages = mb << (20 - PAGE_SHIFT);
}

static bool overlaps(paddr_t a, u64 alen, paddr_t b, u64 blen)
{
	return a < b + blen && b < a + alen;
}

/* The buffer: 2 MiB aligned above the image and clear of the DTB (the
 * hypervisor puts it in the last 2 MiB of RAM, plain QEMU at the start),
 * inside the first RAM range. */
static void place_buffer(void)
{
	paddr_t base = ALIGN_UP(rt_image_end(), (paddr_t)BUF_ALIGN);
	paddr_t dtb = (paddr_t)rt_dtb;
	u64 size = cfg.pages << PAGE_SHIFT, dtb_size = fdt_totalsize(rt_dtb);
	const struct mem_range *ram = &rt_board.mem[0];

	if (overlaps(base, size, dtb, dtb_size))
		base = ALIGN_UP(dtb + dtb_size, (paddr_t)BUF_ALIGN);
	if (!rt_board.nmem || base < ram->base || base - ram->base > ram->size ||
	    size > ram->size - (base - ram->base) || overlaps(base, size, dtb, dtb_size))
		rt_fail("a %llu MiB buffer from 0x%llx does not fit in RAM beside the "
			"DTB at %p: lower mb= or raise the VM's memory",
			(unsigned long long)(size >> 20), (unsigned long long)base, rt_dtb);
	cfg.buf = (u8 *)base;
}

/* xorshift64 (Marsaglia): never 0 from a non-zero state. */
static inline u64 xorshift64(u64 x)
{
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

/* A page in [0, pages): the high half of x * pages (no division). */
static inline u64 pick(u64 x, u64 pages)
{
	return (u64)(((unsigned __int128)x * pages) >> 64);
}

/*
 * The hot loops: one store per iteration, nothing else in memory. The
 * store is volatile so that each one is made, in order; the value is
 * the only thing that changes.
 */
static void write_random(unsigned int cpu, u64 *x, u64 first, u64 n)
{
	u8 *buf = cfg.buf;
	u64 pages = cfg.pages, tag = (u64)cpu << SEQ_BITS, r = *x;

	for (u64 seq = first; seq < first + n; seq++) {
		r = xorshift64(r);
		*(volatile u64 *)(buf + (pick(r, pages) << PAGE_SHIFT)) = tag | seq;
	}
	*x = r;
}

/* vCPU i walks pages [i * share, (i + 1) * share) again and again from
 * *@at; the last vCPU's share also takes the remainder. */
static void write_sequential(unsigned int cpu, u8 **at, u64 first, u64 n)
{
	u64 share = cfg.pages / cfg.vcpus;
	u64 count = cpu == cfg.vcpus - 1 ? cfg.pages - share * cpu : share;
	u8 *start = cfg.buf + ((cpu * share) << PAGE_SHIFT);
	u8 *end = start + (count << PAGE_SHIFT), *p = *at ? *at : start;
	u64 tag = (u64)cpu << SEQ_BITS;

	for (u64 seq = first; seq < first + n; seq++) {
		*(volatile u64 *)p = tag | seq;
		p += PAGE_SIZE;
		if (p == end)
			p = start;
	}
	*at = p;
}

/* Batches of `writes=` stores until `ms=` have passed; sequence numbers
 * go on from batch to batch, so every value stays unique. */
static void work(unsigned int cpu)
{
	u64 deadline = rt_deadline_ms(cfg.min_ms), seq = 1, x = SEED_MIX * (cpu + 1);
	u8 *at = NULL;

	do {
		if (cfg.sequential)
			write_sequential(cpu, &at, seq, cfg.writes);
		else
			write_random(cpu, &x, seq, cfg.writes);
		seq += cfg.writes;
	} while (!rt_past(deadline) && seq + cfg.writes < (1ULL << SEQ_BITS));
	written[cpu] = seq - 1;
	__atomic_fetch_add(&done, 1, __ATOMIC_RELEASE);   /* pairs with wait_done() */
}

static void wait_done(void)
{
	u64 deadline = rt_deadline_ms(WAIT_MS);

	/* Acquire: pairs with the release in work(). */
	while (__atomic_load_n(&done, __ATOMIC_ACQUIRE) < cfg.vcpus) {
		if (rt_past(deadline))
			rt_fail("only %u of %u vCPUs finished their writes in %u s",
				__atomic_load_n(&done, __ATOMIC_RELAXED), cfg.vcpus,
				WAIT_MS / 1000);
		cpu_relax();
	}
}

void guest_main(void)
{
	u64 began, us, total = 0;

	parse_args();
	place_buffer();
	printf("dirtywork: %u vCPU(s) x %llu writes%s, %s, into %llu MiB at %p\n",
	       cfg.vcpus, (unsigned long long)cfg.writes,
	       cfg.min_ms ? " (and more, for at least ms=)" : "",
	       cfg.sequential ? "sequential" : "random",
	       (unsigned long long)(cfg.pages >> (20 - PAGE_SHIFT)), cfg.buf);
	began = rt_timer_count(RT_TIMER_VIRT);
	for (unsigned int cpu = 1; cpu < cfg.vcpus; cpu++) {
		s64 r = rt_cpu_on(cpu, work);

		if (r != PSCI_SUCCESS)
			rt_fail("CPU_ON of vCPU %u = %lld", cpu, (long long)r);
	}
	work(0);
	wait_done();
	us = rt_ticks_to_us(rt_timer_count(RT_TIMER_VIRT) - began);
	for (unsigned int cpu = 0; cpu < cfg.vcpus; cpu++)
		total += written[cpu];
	printf("dirtywork: %llu writes in %llu ms (%llu per second per vCPU)\n",
	       (unsigned long long)total, (unsigned long long)(us / 1000),
	       (unsigned long long)(us ? total / cfg.vcpus * 1000000 / us : 0));
	rt_pass_note("%llu writes", (unsigned long long)total);
}
