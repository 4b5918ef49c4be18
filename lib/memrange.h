/* Physical address ranges and set operations on small arrays of them. */
#ifndef LIB_MEMRANGE_H
#define LIB_MEMRANGE_H

#include "lib/types.h"

/* Granule that memrange_subtract() aligns its free ranges to. */
#define MEMRANGE_PAGE_SIZE 0x1000ULL

/*
 * The bytes [base, base + size). A range is valid when base + size does
 * not wrap past 2^64 (so its end is representable); size 0 means empty.
 */
struct mem_range {
	paddr_t base;
	u64 size;
};

/* Sort @n ranges by base (then by size), in place. Stable; O(n^2). */
void memrange_sort(struct mem_range *r, size_t n);

/*
 * Sort @n ranges and coalesce the ones that overlap or touch, in place,
 * dropping empty ones. Returns the new count (<= @n), or -EINVAL if a
 * range wraps past the top of the address space (@r is then unchanged).
 */
int memrange_merge(struct mem_range *r, size_t n);

/*
 * Write to @out (room for @cap ranges) the memory that is in some range of
 * @ram and in no range of @resv, as sorted, disjoint, non-adjacent ranges
 * trimmed inward to MEMRANGE_PAGE_SIZE: a page is listed iff it lies
 * wholly inside the union of @ram and touches no reservation. Inputs need
 * not be sorted and may overlap; they are not modified. Returns the number
 * of ranges written, -ENOSPC if @cap is too small, -EINVAL if any input
 * range wraps. O((nram + nresv)^2), meant for the few ranges of a DTB.
 */
int memrange_subtract(const struct mem_range *ram, size_t nram,
		      const struct mem_range *resv, size_t nresv,
		      struct mem_range *out, size_t cap);

/* Sum of the sizes of @n ranges (meaningful for disjoint ranges). */
u64 memrange_total(const struct mem_range *r, size_t n);

#endif
