/* Host tests for lib/memrange.c: tables, then a page-bitmap model. */
#include <stdlib.h>

#include "lib/compiler.h"
#include "lib/errno.h"
#include "lib/memrange.h"
#include "tests/host/test.h"

#define PG MEMRANGE_PAGE_SIZE
#define R(b, s) { .base = (b), .size = (s) }

static int same(const struct mem_range *a, int na, const struct mem_range *b, int nb)
{
	if (na != nb)
		return 0;
	for (int i = 0; i < na; i++)
		if (a[i].base != b[i].base || a[i].size != b[i].size)
			return 0;
	return 1;
}

static void dump(const char *what, const struct mem_range *r, int n)
{
	printf("    %s (%d):", what, n);
	for (int i = 0; i < n; i++)
		printf(" [%#llx+%#llx]", (unsigned long long)r[i].base,
		       (unsigned long long)r[i].size);
	printf("\n");
}

TEST(sort_orders_by_base_then_size)
{
	struct mem_range r[] = { R(0x3000, 1), R(0x1000, 5), R(0x1000, 2), R(0, 9) };
	const struct mem_range want[] = { R(0, 9), R(0x1000, 2), R(0x1000, 5), R(0x3000, 1) };

	memrange_sort(r, ARRAY_SIZE(r));
	CHECK(same(r, 4, want, 4));
	memrange_sort(r, 0);
}

TEST(merge_overlapping_and_adjacent)
{
	struct mem_range r[] = {
		R(0x5000, 0x1000), R(0x1000, 0x1000), R(0x2000, 0x800),
		R(0x1800, 0x100), R(0x9000, 0), R(0x4000, 0x1000),
		R(0x7000, 0x10),
	};
	const struct mem_range want[] = { R(0x1000, 0x1800), R(0x4000, 0x2000),
					  R(0x7000, 0x10) };
	int n = memrange_merge(r, ARRAY_SIZE(r));

	CHECK(same(r, n, want, ARRAY_SIZE(want)));
	CHECK_EQ(memrange_merge(r, 0), 0);
}

TEST(merge_rejects_wrapping_range_unchanged)
{
	struct mem_range r[] = { R(0x2000, 1), R(~0ULL - 0xfff, 0x1000) };
	const struct mem_range copy[] = { R(0x2000, 1), R(~0ULL - 0xfff, 0x1000) };

	CHECK_EQ(memrange_merge(r, 2), -EINVAL);
	CHECK(same(r, 2, copy, 2));
	/* Ending at 2^64 - 1 is fine. */
	r[1].size = 0xfff;
	CHECK_EQ(memrange_merge(r, 2), 2);
}

struct sub_case {
	const char *name;
	struct mem_range ram[4];
	int nram;
	struct mem_range resv[4];
	int nresv;
	struct mem_range want[4];
	int nwant;
};

static const struct sub_case sub_cases[] = {
	{ "no reservations", { R(0x40000000, 0x100000) }, 1, { { 0 } }, 0,
	  { R(0x40000000, 0x100000) }, 1 },
	{ "hole in the middle", { R(0x40000000, 0x10000) }, 1,
	  { R(0x40004000, 0x2000) }, 1,
	  { R(0x40000000, 0x4000), R(0x40006000, 0xa000) }, 2 },
	{ "unaligned reservation widens inward", { R(0x40000000, 0x10000) }, 1,
	  { R(0x40004010, 0x10) }, 1,
	  { R(0x40000000, 0x4000), R(0x40005000, 0xb000) }, 2 },
	{ "unaligned ram shrinks", { R(0x40000123, 0x3000) }, 1, { { 0 } }, 0,
	  { R(0x40001000, 0x2000) }, 1 },
	{ "reservation covers everything", { R(0x1000, 0x3000) }, 1,
	  { R(0, 0x10000) }, 1, { { 0 } }, 0 },
	{ "reservation beyond ram both ends",
	  { R(0x10000, 0x10000), R(0x30000, 0x10000) }, 2,
	  { R(0x8000, 0x10000), R(0x3f000, 0x8000) }, 2,
	  { R(0x18000, 0x8000), R(0x30000, 0xf000) }, 2 },
	{ "overlapping reservations", { R(0, 0x20000) }, 1,
	  { R(0x4000, 0x4000), R(0x5000, 0x1000), R(0x6000, 0x6000),
	    R(0x11000, 0x100) }, 4,
	  { R(0, 0x4000), R(0xc000, 0x5000), R(0x12000, 0xe000) }, 3 },
	{ "ram given out of order, overlapping and adjacent",
	  { R(0x8000, 0x800), R(0x2000, 0x2000), R(0x8800, 0x800), R(0x3000, 0x2000) }, 4,
	  { { 0 } }, 0, { R(0x2000, 0x3000), R(0x8000, 0x1000) }, 2 },
	{ "two halves of a page make a page",
	  { R(0x1800, 0x800), R(0x1000, 0x800) }, 2, { { 0 } }, 0,
	  { R(0x1000, 0x1000) }, 1 },
	{ "ram up to the last byte of the address space",
	  { R(0xffffffffffff0000ULL, 0xffff) }, 1, { R(0xffffffffffff2000ULL, 1) }, 1,
	  { R(0xffffffffffff0000ULL, 0x2000), R(0xffffffffffff3000ULL, 0xc000) }, 2 },
	{ "ram inside the last page only", { R(0xfffffffffffff800ULL, 0x7ff) }, 1,
	  { { 0 } }, 0, { { 0 } }, 0 },
	{ "empty ranges ignored", { R(0x1000, 0), R(0x4000, 0x1000) }, 2,
	  { R(0x4000, 0) }, 1, { R(0x4000, 0x1000) }, 1 },
};

TEST(subtract_table)
{
	for (size_t i = 0; i < ARRAY_SIZE(sub_cases); i++) {
		const struct sub_case *c = &sub_cases[i];
		struct mem_range out[8];
		int n = memrange_subtract(c->ram, (size_t)c->nram, c->resv,
					  (size_t)c->nresv, out, ARRAY_SIZE(out));

		if (!same(out, n, c->want, c->nwant)) {
			printf("    case \"%s\"\n", c->name);
			dump("got", out, n);
			dump("want", c->want, c->nwant);
		}
		CHECK(same(out, n, c->want, c->nwant));
	}
}

TEST(subtract_capacity_and_overflow)
{
	const struct mem_range ram[] = { R(0, 0x10000) };
	const struct mem_range resv[] = { R(0x2000, 0x1000), R(0x8000, 0x1000) };
	const struct mem_range bad[] = { R(0xfffffffffffff000ULL, 0x1000) };
	struct mem_range out[3];

	CHECK_EQ(memrange_subtract(ram, 1, resv, 2, out, 3), 3);
	CHECK_EQ(memrange_subtract(ram, 1, resv, 2, out, 2), -ENOSPC);
	CHECK_EQ(memrange_subtract(ram, 1, resv, 2, NULL, 0), -ENOSPC);
	CHECK_EQ(memrange_subtract(ram, 1, NULL, 0, out, 1), 1);
	CHECK_EQ(memrange_subtract(bad, 1, NULL, 0, out, 3), -EINVAL);
	CHECK_EQ(memrange_subtract(ram, 1, bad, 1, out, 3), -EINVAL);
	CHECK_EQ(memrange_subtract(NULL, 0, resv, 2, out, 3), 0);
}

TEST(total_sums_sizes)
{
	const struct mem_range r[] = { R(0, 0x1000), R(0x5000, 0x2345) };

	CHECK_EQ(memrange_total(r, 2), 0x3345);
	CHECK_EQ(memrange_total(r, 0), 0);
}

/*
 * Model: a window of MODEL_PAGES pages, split into units of UNIT bytes;
 * random ranges are unit multiples (so sub-page edges are exercised) and
 * the window sits either low or at the very top of the address space.
 */
#define MODEL_PAGES 48
#define UNIT 0x200ULL
#define UNITS_PER_PAGE (PG / UNIT)
#define MODEL_UNITS (MODEL_PAGES * UNITS_PER_PAGE)

static void mark(bool *units, paddr_t win, const struct mem_range *r, int n)
{
	for (int i = 0; i < n; i++)
		for (u64 u = (r[i].base - win) / UNIT;
		     u < (r[i].base - win + r[i].size) / UNIT; u++)
			units[u] = true;
}

static struct mem_range rand_range(paddr_t win)
{
	u64 first = (u64)rand() % MODEL_UNITS;
	u64 len = (u64)rand() % (MODEL_UNITS / 3);

	/* Reaching the window's end (2^64 for the top window) is rare. */
	if (first + len >= MODEL_UNITS)
		len = MODEL_UNITS - first - (rand() % 8 ? 1 : 0);
	return (struct mem_range){ .base = win + first * UNIT, .size = len * UNIT };
}

static bool wraps(const struct mem_range *r, int n)
{
	for (int i = 0; i < n; i++)
		if (r[i].base + r[i].size < r[i].base ||
		    (r[i].size && r[i].base + r[i].size == 0))
			return true;
	return false;
}

TEST(subtract_and_merge_match_page_model)
{
	int rejected = 0;

	srand(42);
	for (int iter = 0; iter < 5000; iter++) {
		paddr_t win = iter % 2 ? 0x80000000ULL : 0 - MODEL_PAGES * PG;
		struct mem_range ram[6], resv[6], out[MODEL_PAGES], merged[6];
		int nram = 1 + rand() % 6, nresv = rand() % 7;
		bool in_ram[MODEL_UNITS] = { false }, in_resv[MODEL_UNITS] = { false };

		for (int i = 0; i < nram; i++)
			ram[i] = rand_range(win);
		for (int i = 0; i < nresv; i++)
			resv[i] = rand_range(win);

		int n = memrange_subtract(ram, (size_t)nram, resv, (size_t)nresv,
					  out, ARRAY_SIZE(out));
		if (wraps(ram, nram) || wraps(resv, nresv)) {
			CHECK_EQ(n, -EINVAL);
			rejected++;
			continue;
		}
		CHECK(n >= 0);

		mark(in_ram, win, ram, nram);
		mark(in_resv, win, resv, nresv);
		bool got[MODEL_PAGES] = { false };
		for (int i = 0; i < n; i++) {
			CHECK(IS_ALIGNED(out[i].base, PG) && IS_ALIGNED(out[i].size, PG));
			CHECK(out[i].size > 0);
			/* Sorted, disjoint and not touching. */
			if (i)
				CHECK(out[i].base > out[i - 1].base + out[i - 1].size);
			for (u64 p = (out[i].base - win) / PG;
			     p < (out[i].base - win + out[i].size) / PG; p++)
				got[p] = true;
		}
		for (int p = 0; p < MODEL_PAGES; p++) {
			bool want = true;

			for (u64 u = 0; u < UNITS_PER_PAGE; u++) {
				u64 k = (u64)p * UNITS_PER_PAGE + u;

				if (!in_ram[k] || in_resv[k])
					want = false;
			}
			CHECK_EQ(got[p], want);
		}
		u64 npages = 0;
		for (int p = 0; p < MODEL_PAGES; p++)
			npages += got[p];
		CHECK_EQ(memrange_total(out, (size_t)n), npages * PG);

		/* merge(ram) covers exactly the units of ram, canonically. */
		memcpy(merged, ram, sizeof(ram));
		int nm = memrange_merge(merged, (size_t)nram);
		bool mu[MODEL_UNITS] = { false };
		CHECK(nm >= 0 && nm <= nram);
		mark(mu, win, merged, nm);
		CHECK(memcmp(mu, in_ram, sizeof(mu)) == 0);
		for (int i = 1; i < nm; i++)
			CHECK(merged[i].base > merged[i - 1].base + merged[i - 1].size);
	}
	/* Both outcomes were exercised. */
	CHECK(rejected > 50 && rejected < 2000);
}
