/* Physical page allocator: the hypervisor's source of 4 KiB page frames. */
#ifndef MM_PAGE_ALLOC_H
#define MM_PAGE_ALLOC_H

#include "lib/spinlock.h"
#include "lib/types.h"

#define PAGE_SHIFT 12
#define PAGE_SIZE ((u64)1 << PAGE_SHIFT)

/* How many separate ranges of free RAM one pool can hold. */
#define PAGE_POOL_MAX_RANGES 16

/* One contiguous run of page frames and its allocation bitmap. */
struct page_range {
	paddr_t base;     /* physical address of page 0, page aligned */
	u64 npages;       /* pages in the range, > 0 */
	u64 *bitmap;      /* bit i set: page i in use; padding bits past
			   * npages in the last word are always set */
	u64 nfree;        /* clear bits among the first npages */
	u64 hint;         /* no page below this index is free */
};

/*
 * A set of page ranges. The allocator only does bookkeeping in the
 * caller-supplied bitmaps: it never reads or writes the pages themselves.
 */
struct page_pool {
	/* Protects every field below and the contents of every bitmap. */
	struct spinlock lock;
	unsigned int nranges;
	struct page_range ranges[PAGE_POOL_MAX_RANGES];
	u64 free_pages;   /* sum of ranges[].nfree */
};

/* Make @pool empty (no ranges). Call before any other use. */
void page_pool_init(struct page_pool *pool);

/*
 * Bytes of bitmap that page_pool_add_range() needs for a range of @size
 * bytes, whatever its base: one bit per page, rounded up to 64-bit words.
 */
size_t page_pool_bitmap_bytes(u64 size);

/*
 * Add the whole pages inside [@base, @base + @size) to @pool, all free.
 * @bitmap_mem (8-byte aligned, @bitmap_bytes long, at least
 * page_pool_bitmap_bytes(@size)) becomes owned by the pool. Returns 0,
 * -EINVAL for no whole page, a wrapping range or a too small or misaligned
 * bitmap, -EEXIST if it overlaps a range already in the pool, -ENOSPC if
 * the pool already holds PAGE_POOL_MAX_RANGES ranges.
 */
int page_pool_add_range(struct page_pool *pool, paddr_t base, u64 size,
			void *bitmap_mem, size_t bitmap_bytes);

/*
 * Allocate @npages physically contiguous pages whose first address is a
 * multiple of @align_pages pages (a power of two; 1 for no constraint)
 * and store that address in *@out. The pages' contents are untouched.
 * Returns 0, -ENOMEM if no such run is free, -EINVAL for @npages 0 or a
 * bad @align_pages.
 */
int page_alloc(struct page_pool *pool, u64 npages, u64 align_pages,
	       paddr_t *out);

/*
 * Free @npages pages starting at @pa, which must all be allocated and
 * lie in one range of @pool (they need not be exactly one earlier
 * allocation). Returns 0, or -EINVAL and changes nothing for an
 * unaligned, foreign, partly free or double-freed run.
 */
int page_free(struct page_pool *pool, paddr_t pa, u64 npages);

/* Number of free pages in @pool. */
u64 page_pool_free_pages(struct page_pool *pool);

/*
 * Verify the pool's internal invariants (free counts match the bitmaps,
 * padding bits set, hints valid). Returns 0 or -EINVAL. O(pages / 64);
 * for tests and debug checks.
 */
int page_pool_check(struct page_pool *pool);

#endif
