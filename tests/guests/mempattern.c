/*
 * mempattern: fills all of this VM's RAM above its own image (stacks and
 * page table included), except the DTB and reserved ranges, with a
 * pattern made from each word's address, a seed (bootargs `seed=N`) and
 * the round, verifies it, and repeats for `rounds=N` rounds. Two VMs
 * running it side by side with different seeds show that neither sees
 * the other's memory, nor a page of its own twice.
 */
#include "lib/compiler.h"
#include "lib/errno.h"
#include "lib/fdt.h"
#include "lib/memrange.h"
#include "tests/guests/rt/rt.h"
#include "tests/guests/rt/timer.h"

#define DEFAULT_SEED 1
#define DEFAULT_ROUNDS 3
#define MAX_RANGES (BOARD_MAX_MEM + BOARD_MAX_RESERVED)

/* Odd 64-bit constants (from splitmix64) that spread bits around. */
#define MIX_ADDR 0x9e3779b97f4a7c15ULL
#define MIX_SEED 0xbf58476d1ce4e5b9ULL
#define MIX_ROUND 0x94d049bb133111ebULL

const char guest_name[] = "mempattern";

static struct mem_range ranges[MAX_RANGES];
static int nranges;

/* What the word at @addr holds in a round whose key is @key. */
static inline u64 pattern(u64 addr, u64 key)
{
	return (addr * MIX_ADDR) ^ key;
}

struct mismatch {
	u64 count;
	u64 addr, got, want;     /* the first one */
};

static void fill(const struct mem_range *r, u64 key)
{
	volatile u64 *p = (volatile u64 *)r->base;

	for (u64 i = 0; i < r->size / 8; i++)
		p[i] = pattern(r->base + 8 * i, key);
}

static void verify(const struct mem_range *r, u64 key, struct mismatch *m)
{
	const volatile u64 *p = (const volatile u64 *)r->base;

	for (u64 i = 0; i < r->size / 8; i++) {
		u64 got = p[i];
		u64 want = pattern(r->base + 8 * i, key);

		if (got == want)
			continue;
		if (!m->count++) {
			m->addr = r->base + 8 * i;
			m->got = got;
			m->want = want;
		}
	}
}

/* RAM minus everything up to the end of our image, the DTB and the
 * reserved ranges, in whole pages. */
static void find_ranges(void)
{
	struct mem_range resv[BOARD_MAX_RESERVED + 2];
	size_t nresv = 0;

	resv[nresv++] = (struct mem_range){ 0, rt_image_end() };
	resv[nresv++] = (struct mem_range){ (paddr_t)rt_dtb, fdt_totalsize(rt_dtb) };
	for (unsigned int i = 0; i < rt_board.nreserved; i++)
		resv[nresv++] = rt_board.reserved[i];
	nranges = memrange_subtract(rt_board.mem, rt_board.nmem, resv, nresv,
				    ranges, ARRAY_SIZE(ranges));
	if (nranges <= 0)
		rt_fail("no RAM to test above the image (%d)", nranges);
	for (int i = 0; i < nranges; i++) {
		u64 end = ranges[i].base + ranges[i].size;

		printf("mempattern: testing [0x%llx, 0x%llx), %llu KiB\n",
		       (unsigned long long)ranges[i].base, (unsigned long long)end,
		       (unsigned long long)(ranges[i].size >> 10));
	}
}

void guest_main(void)
{
	u64 seed = rt_arg_u64_or("seed", DEFAULT_SEED);
	u64 rounds = rt_arg_u64_or("rounds", DEFAULT_ROUNDS);
	u64 total;

	find_ranges();
	total = memrange_total(ranges, (size_t)nranges);
	printf("mempattern: %llu MiB, seed %llu, %llu round(s)\n",
	       (unsigned long long)(total >> 20), (unsigned long long)seed,
	       (unsigned long long)rounds);
	for (u64 round = 1; round <= rounds; round++) {
		u64 key = seed * MIX_SEED + round * MIX_ROUND;
		u64 began = rt_timer_count(RT_TIMER_VIRT);
		struct mismatch m = { 0 };

		for (int i = 0; i < nranges; i++)
			fill(&ranges[i], key);
		for (int i = 0; i < nranges; i++)
			verify(&ranges[i], key, &m);
		if (m.count)
			rt_fail("round %llu: %llu word(s) differ, first at 0x%llx: "
				"0x%llx, expected 0x%llx", (unsigned long long)round,
				(unsigned long long)m.count, (unsigned long long)m.addr,
				(unsigned long long)m.got, (unsigned long long)m.want);
		printf("mempattern: round %llu: written and verified in %llu ms\n",
		       (unsigned long long)round,
		       (unsigned long long)rt_ticks_to_us(rt_timer_count(RT_TIMER_VIRT) -
							   began) / 1000);
	}
}
