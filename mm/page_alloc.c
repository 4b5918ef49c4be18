/* Bitmap-per-range physical page allocator (see mm/page_alloc.h). */
#include "lib/compiler.h"
#include "lib/errno.h"
#include "mm/page_alloc.h"

#define WORD_BITS 64

/* ------------------------------------------------------- bitmap helpers */

/* Mask of bits [lo, hi) within one word, 0 <= lo < hi <= 64. */
static u64 word_mask(unsigned int lo, unsigned int hi)
{
	u64 upto_hi = hi == WORD_BITS ? ~0ULL : (1ULL << hi) - 1;

	return upto_hi & ~((1ULL << lo) - 1);
}

/*
 * First index in [start, limit) whose bit equals @want, or @limit.
 * Whole words with no such bit are skipped in one step.
 */
static u64 find_bit(const u64 *bm, u64 start, u64 limit, bool want)
{
	u64 i = start;

	while (i < limit) {
		/* Bits of the current word, flipped so that wanted bits are 1. */
		u64 w = want ? bm[i / WORD_BITS] : ~bm[i / WORD_BITS];

		w &= ~0ULL << (i % WORD_BITS);
		if (w) {
			u64 found = ALIGN_DOWN(i, WORD_BITS) + (u64)__builtin_ctzll(w);

			return MIN(found, limit);
		}
		i = ALIGN_DOWN(i, WORD_BITS) + WORD_BITS;
	}
	return limit;
}

/* Set (@val true) or clear bits [start, start + n). */
static void assign_bits(u64 *bm, u64 start, u64 n, bool val)
{
	u64 end = start + n;

	while (start < end) {
		u64 word_end = MIN(ALIGN_DOWN(start, WORD_BITS) + WORD_BITS, end);
		u64 mask = word_mask(start % WORD_BITS,
				     (unsigned int)(word_end - ALIGN_DOWN(start, WORD_BITS)));

		if (val)
			bm[start / WORD_BITS] |= mask;
		else
			bm[start / WORD_BITS] &= ~mask;
		start = word_end;
	}
}

/* Number of set bits in @w (no libgcc call with -mgeneral-regs-only). */
static unsigned int popcount64(u64 w)
{
	w = w - ((w >> 1) & 0x5555555555555555ULL);
	w = (w & 0x3333333333333333ULL) + ((w >> 2) & 0x3333333333333333ULL);
	w = (w + (w >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (unsigned int)((w * 0x0101010101010101ULL) >> 56);
}

static u64 bitmap_words(u64 npages)
{
	return (npages + WORD_BITS - 1) / WORD_BITS;
}

/* --------------------------------------------------------- the ranges */

static paddr_t range_end(const struct page_range *r)
{
	return r->base + (r->npages << PAGE_SHIFT);
}

/*
 * Find @n free pages in @r starting at an index whose physical frame
 * number is a multiple of @align, mark them used and return the index;
 * return r->npages if there is no such run. Caller holds the pool lock.
 */
static u64 range_alloc(struct page_range *r, u64 n, u64 align)
{
	u64 pfn0 = r->base >> PAGE_SHIFT;
	u64 i, first_free;

	if (r->nfree < n)
		return r->npages;
	first_free = find_bit(r->bitmap, r->hint, r->npages, false);
	r->hint = first_free; /* still true: nothing free below it */
	i = first_free;
	while (i < r->npages) {
		/* First aligned candidate at or above the free page i. */
		u64 cand = ALIGN_UP(pfn0 + i, align) - pfn0;
		u64 busy;

		if (cand > r->npages || r->npages - cand < n)
			break;
		busy = find_bit(r->bitmap, cand, cand + n, true);
		if (busy == cand + n) {
			assign_bits(r->bitmap, cand, n, true);
			r->nfree -= n;
			/* [hint, cand) was already in use, and now so is
			 * [cand, cand + n): the hint can move past both. */
			if (cand == r->hint)
				r->hint = cand + n;
			return cand;
		}
		i = find_bit(r->bitmap, busy + 1, r->npages, false);
	}
	return r->npages;
}

static struct page_range *range_of(struct page_pool *pool, paddr_t pa)
{
	for (unsigned int i = 0; i < pool->nranges; i++) {
		struct page_range *r = &pool->ranges[i];

		if (pa >= r->base && pa < range_end(r))
			return r;
	}
	return NULL;
}

/* --------------------------------------------------------- public API */

void page_pool_init(struct page_pool *pool)
{
	*pool = (struct page_pool){ .lock = SPINLOCK_INIT };
}

size_t page_pool_bitmap_bytes(u64 size)
{
	/* A range of size bytes holds at most size / PAGE_SIZE whole pages. */
	return (size_t)(bitmap_words(size >> PAGE_SHIFT) * sizeof(u64));
}

int page_pool_add_range(struct page_pool *pool, paddr_t base, u64 size,
			void *bitmap_mem, size_t bitmap_bytes)
{
	paddr_t start, end;
	u64 npages;
	int ret = 0;

	if (size > UINT64_MAX - base)
		return -EINVAL;
	start = ALIGN_UP(base, PAGE_SIZE);
	end = ALIGN_DOWN(base + size, PAGE_SIZE);
	/* start < base: rounding up wrapped, the range is in the last page. */
	if (start < base || start >= end)
		return -EINVAL;
	npages = (end - start) >> PAGE_SHIFT;
	if (!bitmap_mem || !IS_ALIGNED((uintptr_t)bitmap_mem, sizeof(u64)) ||
	    bitmap_bytes / sizeof(u64) < bitmap_words(npages))
		return -EINVAL;

	spin_lock(&pool->lock);
	for (unsigned int i = 0; i < pool->nranges; i++) {
		const struct page_range *o = &pool->ranges[i];

		if (start < range_end(o) && o->base < end)
			ret = -EEXIST;
	}
	if (!ret && pool->nranges == PAGE_POOL_MAX_RANGES)
		ret = -ENOSPC;
	if (!ret) {
		struct page_range *r = &pool->ranges[pool->nranges++];

		*r = (struct page_range){
			.base = start, .npages = npages, .bitmap = bitmap_mem,
			.nfree = npages, .hint = 0,
		};
		for (u64 w = 0; w < bitmap_words(npages); w++)
			r->bitmap[w] = 0;
		/* Padding bits past npages read as in use, permanently. */
		if (npages % WORD_BITS)
			r->bitmap[npages / WORD_BITS] =
				word_mask(npages % WORD_BITS, WORD_BITS);
		pool->free_pages += npages;
	}
	spin_unlock(&pool->lock);
	return ret;
}

int page_alloc(struct page_pool *pool, u64 npages, u64 align_pages,
	       paddr_t *out)
{
	int ret = -ENOMEM;

	if (!npages || !align_pages || (align_pages & (align_pages - 1)))
		return -EINVAL;

	spin_lock(&pool->lock);
	for (unsigned int i = 0; i < pool->nranges && ret; i++) {
		struct page_range *r = &pool->ranges[i];
		u64 idx = range_alloc(r, npages, align_pages);

		if (idx < r->npages) {
			*out = r->base + (idx << PAGE_SHIFT);
			pool->free_pages -= npages;
			ret = 0;
		}
	}
	spin_unlock(&pool->lock);
	return ret;
}

int page_free(struct page_pool *pool, paddr_t pa, u64 npages)
{
	struct page_range *r;
	int ret = -EINVAL;

	if (!npages || !IS_ALIGNED(pa, PAGE_SIZE))
		return -EINVAL;

	spin_lock(&pool->lock);
	r = range_of(pool, pa);
	if (r) {
		u64 idx = (pa - r->base) >> PAGE_SHIFT;

		/* The whole run must be in this range and fully in use. */
		if (npages <= r->npages - idx &&
		    find_bit(r->bitmap, idx, idx + npages, false) == idx + npages) {
			assign_bits(r->bitmap, idx, npages, false);
			r->nfree += npages;
			pool->free_pages += npages;
			r->hint = MIN(r->hint, idx);
			ret = 0;
		}
	}
	spin_unlock(&pool->lock);
	return ret;
}

u64 page_pool_free_pages(struct page_pool *pool)
{
	u64 n;

	spin_lock(&pool->lock);
	n = pool->free_pages;
	spin_unlock(&pool->lock);
	return n;
}

/* Check one range's invariants; caller holds the pool lock. */
static bool range_ok(const struct page_range *r)
{
	u64 words = bitmap_words(r->npages), used = 0;

	for (u64 w = 0; w < words; w++)
		used += popcount64(r->bitmap[w]);
	/* Padding bits count as used: subtract them back out. */
	used -= words * WORD_BITS - r->npages;
	if (r->npages % WORD_BITS &&
	    (r->bitmap[words - 1] & word_mask(r->npages % WORD_BITS, WORD_BITS)) !=
	    word_mask(r->npages % WORD_BITS, WORD_BITS))
		return false;
	if (r->npages - used != r->nfree || r->hint > r->npages)
		return false;
	return find_bit(r->bitmap, 0, r->hint, false) == r->hint;
}

int page_pool_check(struct page_pool *pool)
{
	u64 total = 0;
	int ret = 0;

	spin_lock(&pool->lock);
	for (unsigned int i = 0; i < pool->nranges; i++) {
		if (!range_ok(&pool->ranges[i]))
			ret = -EINVAL;
		total += pool->ranges[i].nfree;
	}
	if (total != pool->free_pages)
		ret = -EINVAL;
	spin_unlock(&pool->lock);
	return ret;
}
