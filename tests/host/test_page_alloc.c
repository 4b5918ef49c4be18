/*
 * Host tests for mm/page_alloc.c. Ranges use fake physical addresses
 * (never dereferenced: the allocator must not touch the pages); only the
 * bitmaps are real, malloc'd memory, so ASan catches any stray access.
 */
#include <stdlib.h>

#include "lib/compiler.h"
#include "lib/errno.h"
#include "mm/page_alloc.h"
#include "tests/host/test.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static struct page_pool pool;
static void *bitmaps[PAGE_POOL_MAX_RANGES + 1];
static int nbitmaps;

/* Fresh pool; frees the bitmaps of the previous one. */
static void reset(void)
{
	for (int i = 0; i < nbitmaps; i++)
		free(bitmaps[i]);
	nbitmaps = 0;
	page_pool_init(&pool);
}

static int add(paddr_t base, u64 size)
{
	size_t bytes = page_pool_bitmap_bytes(size);
	void *bm = malloc(bytes ? bytes : 1);
	int ret;

	memset(bm, 0xa5, bytes); /* the pool must initialise it */
	ret = page_pool_add_range(&pool, base, size, bm, bytes);
	if (ret)
		free(bm);
	else
		bitmaps[nbitmaps++] = bm;
	return ret;
}

TEST(bitmap_bytes)
{
	CHECK_EQ(page_pool_bitmap_bytes(0), 0);
	CHECK_EQ(page_pool_bitmap_bytes(PAGE_SIZE - 1), 0);
	CHECK_EQ(page_pool_bitmap_bytes(PAGE_SIZE), 8);
	CHECK_EQ(page_pool_bitmap_bytes(64 * PAGE_SIZE), 8);
	CHECK_EQ(page_pool_bitmap_bytes(65 * PAGE_SIZE), 16);
	CHECK_EQ(page_pool_bitmap_bytes(GiB), 262144 / 8);
	/* Enough for any base: an unaligned range never gains a page. */
	CHECK_EQ(page_pool_bitmap_bytes(64 * PAGE_SIZE + 0xfff), 8);
}

TEST(add_range_validation)
{
	u64 bm[4];

	reset();
	CHECK_EQ(add(0x40000000, 0), -EINVAL);
	CHECK_EQ(add(0x40000800, PAGE_SIZE), -EINVAL);     /* no whole page */
	CHECK_EQ(add(~0ULL - 0xfff, 0x1000), -EINVAL);     /* wraps */
	CHECK_EQ(add(~0ULL - 0x7ff, 0x800), -EINVAL);      /* last page, partial */
	CHECK_EQ(page_pool_add_range(&pool, 0, 65 * PAGE_SIZE, bm, 8), -EINVAL);
	CHECK_EQ(page_pool_add_range(&pool, 0, PAGE_SIZE, NULL, 8), -EINVAL);
	CHECK_EQ(page_pool_add_range(&pool, 0, PAGE_SIZE, (char *)bm + 4, 8), -EINVAL);
	CHECK_EQ(add(0x40000000, 16 * MiB), 0);
	CHECK_EQ(add(0x40fff000, 2 * PAGE_SIZE), -EEXIST);
	CHECK_EQ(add(0x3ffff000, 2 * PAGE_SIZE), -EEXIST);
	CHECK_EQ(add(0x41000000, PAGE_SIZE), 0);         /* adjacent is fine */
	CHECK_EQ(page_pool_free_pages(&pool), 4097);
	for (int i = 2; i < PAGE_POOL_MAX_RANGES; i++)
		CHECK_EQ(add(0x80000000ULL + (u64)i * MiB, MiB), 0);
	CHECK_EQ(add(0x100000000ULL, MiB), -ENOSPC);
	CHECK_EQ(page_pool_check(&pool), 0);
	reset();
}

TEST(alloc_free_basic)
{
	paddr_t a, b, c;

	reset();
	CHECK_EQ(add(0x40000000, 16 * PAGE_SIZE), 0);
	CHECK_EQ(page_alloc(&pool, 1, 1, &a), 0);
	CHECK_EQ(a, 0x40000000);
	CHECK_EQ(page_alloc(&pool, 3, 1, &b), 0);
	CHECK_EQ(b, 0x40001000);
	CHECK_EQ(page_alloc(&pool, 2, 1, &c), 0);
	CHECK_EQ(c, 0x40004000);
	CHECK_EQ(page_pool_free_pages(&pool), 10);
	CHECK_EQ(page_free(&pool, b, 3), 0);
	CHECK_EQ(page_alloc(&pool, 2, 1, &b), 0);   /* first fit reuses the hole */
	CHECK_EQ(b, 0x40001000);
	CHECK_EQ(page_alloc(&pool, 2, 1, &b), 0);   /* too big for the rest of it */
	CHECK_EQ(b, 0x40006000);
	CHECK_EQ(page_alloc(&pool, 0, 1, &b), -EINVAL);
	CHECK_EQ(page_alloc(&pool, 1, 0, &b), -EINVAL);
	CHECK_EQ(page_alloc(&pool, 1, 3, &b), -EINVAL);
	CHECK_EQ(page_pool_check(&pool), 0);
	reset();
}

TEST(alignment_on_unaligned_range)
{
	paddr_t pa;

	reset();
	/* Range starts 5 pages past a 2 MiB boundary, and not page aligned. */
	CHECK_EQ(add(0x40005123, 8 * MiB), 0);
	CHECK_EQ(page_pool_free_pages(&pool), 8 * MiB / PAGE_SIZE - 1);
	CHECK_EQ(page_alloc(&pool, 1, 1, &pa), 0);
	CHECK_EQ(pa, 0x40006000);
	CHECK_EQ(page_alloc(&pool, 512, 512, &pa), 0);
	CHECK_EQ(pa, 0x40200000);
	CHECK_EQ(page_alloc(&pool, 2, 2, &pa), 0);
	CHECK_EQ(pa, 0x40008000);
	/* Concatenated stage-2 root: 16 pages aligned to 16 pages. */
	CHECK_EQ(page_alloc(&pool, 16, 16, &pa), 0);
	CHECK_EQ(pa, 0x40010000);
	CHECK_EQ(page_alloc(&pool, 512, 512, &pa), 0);
	CHECK_EQ(pa, 0x40400000);
	/* 0x40600000 + 2 MiB would pass the end (0x40805000): fits exactly
	 * only once. */
	CHECK_EQ(page_alloc(&pool, 512, 512, &pa), 0);
	CHECK_EQ(pa, 0x40600000);
	CHECK_EQ(page_alloc(&pool, 512, 512, &pa), -ENOMEM);
	CHECK_EQ(page_alloc(&pool, 5, 1, &pa), 0);
	CHECK_EQ(pa, 0x4000a000); /* the gap left below the 16-page block */
	CHECK_EQ(page_pool_check(&pool), 0);
	reset();
}

TEST(exhaustion_then_recovery)
{
	static paddr_t pages[300];
	paddr_t pa;

	reset();
	CHECK_EQ(add(0x40000000, 200 * PAGE_SIZE), 0);
	CHECK_EQ(add(0x90000000, 100 * PAGE_SIZE), 0);
	for (int i = 0; i < 300; i++)
		CHECK_EQ(page_alloc(&pool, 1, 1, &pages[i]), 0);
	CHECK_EQ(page_pool_free_pages(&pool), 0);
	CHECK_EQ(page_alloc(&pool, 1, 1, &pa), -ENOMEM);
	CHECK_EQ(page_free(&pool, pages[250], 1), 0);
	CHECK_EQ(page_alloc(&pool, 2, 1, &pa), -ENOMEM);
	CHECK_EQ(page_alloc(&pool, 1, 1, &pa), 0);
	CHECK_EQ(pa, pages[250]);
	for (int i = 0; i < 300; i++)
		CHECK_EQ(page_free(&pool, pages[i], 1), 0);
	CHECK_EQ(page_pool_free_pages(&pool), 300);
	/* Contiguity does not span ranges. */
	CHECK_EQ(page_alloc(&pool, 201, 1, &pa), -ENOMEM);
	CHECK_EQ(page_alloc(&pool, 200, 1, &pa), 0);
	CHECK_EQ(page_alloc(&pool, 100, 1, &pa), 0);
	CHECK_EQ(pa, 0x90000000);
	CHECK_EQ(page_pool_check(&pool), 0);
	reset();
}

TEST(bad_frees_rejected_without_damage)
{
	paddr_t a, b;

	reset();
	CHECK_EQ(add(0x40000000, 8 * PAGE_SIZE), 0);
	CHECK_EQ(page_alloc(&pool, 2, 1, &a), 0);
	CHECK_EQ(page_alloc(&pool, 2, 1, &b), 0);
	CHECK_EQ(page_free(&pool, a, 2), 0);
	CHECK_EQ(page_free(&pool, a, 2), -EINVAL);          /* double free */
	CHECK_EQ(page_free(&pool, a + PAGE_SIZE, 1), -EINVAL);
	CHECK_EQ(page_free(&pool, b, 3), -EINVAL);          /* partly free */
	CHECK_EQ(page_free(&pool, b + 1, 1), -EINVAL);      /* unaligned */
	CHECK_EQ(page_free(&pool, 0x80000000, 1), -EINVAL); /* foreign */
	CHECK_EQ(page_free(&pool, 0x3ffff000, 1), -EINVAL); /* just below */
	CHECK_EQ(page_free(&pool, 0x40008000, 1), -EINVAL); /* just past */
	CHECK_EQ(page_free(&pool, b, ~0ULL), -EINVAL);      /* huge count */
	CHECK_EQ(page_free(&pool, b, 0), -EINVAL);
	CHECK_EQ(page_pool_free_pages(&pool), 6);
	CHECK_EQ(page_pool_check(&pool), 0);
	/* Freeing part of an allocation, then the rest, is allowed. */
	CHECK_EQ(page_free(&pool, b + PAGE_SIZE, 1), 0);
	CHECK_EQ(page_free(&pool, b, 1), 0);
	CHECK_EQ(page_pool_free_pages(&pool), 8);
	CHECK_EQ(page_pool_check(&pool), 0);
	reset();
}

TEST(one_gib_range_is_fast)
{
	paddr_t pa;

	reset();
	CHECK_EQ(add(0x40000000, GiB), 0);
	/* Fill it page by page (the hint keeps this linear)... */
	for (u64 i = 0; i < GiB / PAGE_SIZE; i++) {
		CHECK_EQ(page_alloc(&pool, 1, 1, &pa), 0);
		CHECK_EQ(pa, 0x40000000 + i * PAGE_SIZE);
	}
	CHECK_EQ(page_alloc(&pool, 1, 1, &pa), -ENOMEM);
	/* ...free one page near the end and find it again, repeatedly. */
	for (int i = 0; i < 2000; i++) {
		paddr_t hole = 0x40000000 + GiB - (u64)(i % 7 + 1) * PAGE_SIZE;

		CHECK_EQ(page_free(&pool, hole, 1), 0);
		CHECK_EQ(page_alloc(&pool, 1, 1, &pa), 0);
		CHECK_EQ(pa, hole);
	}
	/* Free every other page: 2 MiB blocks must fail fast-ish, then the
	 * last 2 MiB block freed is found. */
	for (u64 i = 0; i < GiB / PAGE_SIZE; i += 2)
		CHECK_EQ(page_free(&pool, 0x40000000 + i * PAGE_SIZE, 1), 0);
	CHECK_EQ(page_alloc(&pool, 512, 512, &pa), -ENOMEM);
	for (u64 i = 1; i < 512; i += 2)
		CHECK_EQ(page_free(&pool, 0x7fe00000 + i * PAGE_SIZE, 1), 0);
	CHECK_EQ(page_alloc(&pool, 512, 512, &pa), 0);
	CHECK_EQ(pa, 0x7fe00000);
	CHECK_EQ(page_pool_check(&pool), 0);
	reset();
}

/* ------------------------------------------------ randomized vs. model */

#define MAX_LIVE 256

struct live {
	paddr_t pa;
	u64 n;
};

static const struct { paddr_t base; u64 size; } model_ranges[] = {
	{ 0x40000000, 700 * PAGE_SIZE },
	{ 0x40300800, 130 * PAGE_SIZE + 0x900 },  /* unaligned both ends */
	{ 0xfffffffff0000000ULL, 96 * PAGE_SIZE }, /* high addresses */
};

static bool in_pool(paddr_t pa)
{
	for (size_t i = 0; i < ARRAY_SIZE(model_ranges); i++) {
		paddr_t s = ALIGN_UP(model_ranges[i].base, PAGE_SIZE);
		paddr_t e = ALIGN_DOWN(model_ranges[i].base + model_ranges[i].size,
				       PAGE_SIZE);

		if (pa >= s && pa < e)
			return true;
	}
	return false;
}

TEST(random_against_model)
{
	static struct live live[MAX_LIVE];
	int nlive = 0;
	u64 total = 0, used = 0;
	int failed_allocs = 0;

	reset();
	srand(7);
	for (size_t i = 0; i < ARRAY_SIZE(model_ranges); i++)
		CHECK_EQ(add(model_ranges[i].base, model_ranges[i].size), 0);
	total = page_pool_free_pages(&pool);
	CHECK_EQ(total, 700 + 130 + 96);

	for (int op = 0; op < 20000; op++) {
		/* Alternate filling and draining phases to reach exhaustion. */
		int alloc_pct = (op / 2000) % 2 ? 75 : 35;

		if (nlive < MAX_LIVE && (nlive == 0 || rand() % 100 < alloc_pct)) {
			static const u64 sizes[] = { 1, 1, 1, 2, 3, 4, 8, 16, 33, 64 };
			u64 n = sizes[rand() % ARRAY_SIZE(sizes)];
			u64 align = 1ULL << (rand() % 7);
			paddr_t pa;
			int ret = page_alloc(&pool, n, align, &pa);

			if (ret == 0) {
				CHECK(IS_ALIGNED(pa, align * PAGE_SIZE));
				CHECK(in_pool(pa) && in_pool(pa + (n - 1) * PAGE_SIZE));
				/* No overlap with any live allocation. */
				for (int i = 0; i < nlive; i++)
					CHECK(pa + n * PAGE_SIZE <= live[i].pa ||
					      live[i].pa + live[i].n * PAGE_SIZE <= pa);
				live[nlive++] = (struct live){ pa, n };
				used += n;
			} else {
				CHECK_EQ(ret, -ENOMEM);
				failed_allocs++;
				/* Plainly impossible requests must fail. */
				CHECK(n > 1 || align > 1 || used == total);
			}
		} else {
			int k = rand() % nlive;

			/* Freeing one more page than allocated must fail if
			 * that page is free, and then change nothing. */
			paddr_t next = live[k].pa + live[k].n * PAGE_SIZE;
			bool next_live = false;
			for (int i = 0; i < nlive; i++)
				if (live[i].pa == next)
					next_live = true;
			if (!next_live)
				CHECK_EQ(page_free(&pool, live[k].pa, live[k].n + 1),
					 -EINVAL);
			CHECK_EQ(page_free(&pool, live[k].pa, live[k].n), 0);
			CHECK_EQ(page_free(&pool, live[k].pa, live[k].n), -EINVAL);
			used -= live[k].n;
			live[k] = live[--nlive];
		}
		CHECK_EQ(page_pool_free_pages(&pool), total - used);
		CHECK_EQ(page_pool_check(&pool), 0);
	}
	CHECK(failed_allocs > 100); /* the pool did run dry at times */
	reset();
}
