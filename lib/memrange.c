/* Sorting, merging and subtraction of struct mem_range arrays. */
#include "lib/compiler.h"
#include "lib/errno.h"
#include "lib/memrange.h"

/* True if the end of @r (base + size) is representable in 64 bits. */
static bool range_valid(const struct mem_range *r)
{
	return r->size <= UINT64_MAX - r->base;
}

static bool all_valid(const struct mem_range *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!range_valid(&r[i]))
			return false;
	return true;
}

static paddr_t range_end(const struct mem_range *r)
{
	return r->base + r->size;
}

static bool range_less(const struct mem_range *a, const struct mem_range *b)
{
	return a->base < b->base || (a->base == b->base && a->size < b->size);
}

void memrange_sort(struct mem_range *r, size_t n)
{
	/* Insertion sort: r[0..i) is sorted at the top of each iteration. */
	for (size_t i = 1; i < n; i++) {
		struct mem_range key = r[i];
		size_t j = i;

		for (; j > 0 && range_less(&key, &r[j - 1]); j--)
			r[j] = r[j - 1];
		r[j] = key;
	}
}

int memrange_merge(struct mem_range *r, size_t n)
{
	size_t out = 0;

	if (!all_valid(r, n))
		return -EINVAL;
	memrange_sort(r, n);
	/* r[0..out) is merged: disjoint, non-adjacent, sorted, non-empty. */
	for (size_t i = 0; i < n; i++) {
		if (!r[i].size)
			continue;
		if (out && r[i].base <= range_end(&r[out - 1])) {
			paddr_t end = MAX(range_end(&r[out - 1]), range_end(&r[i]));

			r[out - 1].size = end - r[out - 1].base;
		} else {
			r[out++] = r[i];
		}
	}
	return (int)out;
}

/*
 * Among the non-empty ranges that end above @pos, the one that starts
 * lowest, or NULL if none: the next range a sweep upward from @pos meets.
 */
static const struct mem_range *next_range(const struct mem_range *r, size_t n,
					  paddr_t pos)
{
	const struct mem_range *best = NULL;

	for (size_t i = 0; i < n; i++) {
		if (!r[i].size || range_end(&r[i]) <= pos)
			continue;
		if (!best || r[i].base < best->base)
			best = &r[i];
	}
	return best;
}

/* Output array being filled by memrange_subtract(). */
struct range_out {
	struct mem_range *r;
	size_t cap;
	size_t n;
};

/*
 * Append the whole pages inside [start, end). Consecutive pieces are
 * separated by a non-empty gap (a reservation or a hole in RAM) and each
 * is trimmed inward, so the output never has touching ranges.
 */
static int emit(struct range_out *o, paddr_t start, paddr_t end)
{
	paddr_t s = ALIGN_UP(start, MEMRANGE_PAGE_SIZE);
	paddr_t e = ALIGN_DOWN(end, MEMRANGE_PAGE_SIZE);

	/* ALIGN_UP wraps to 0 only for a start in the last page: empty. */
	if (s < start || s >= e)
		return 0;
	if (o->n == o->cap)
		return -ENOSPC;
	o->r[o->n++] = (struct mem_range){ .base = s, .size = e - s };
	return 0;
}

/* Emit [start, end) minus every reservation, sweeping upward. */
static int emit_unreserved(struct range_out *o, paddr_t start, paddr_t end,
			   const struct mem_range *resv, size_t nresv)
{
	paddr_t cur = start;
	const struct mem_range *rs;

	/* Invariant: [start, cur) has been handled. cur grows each pass. */
	while (cur < end && (rs = next_range(resv, nresv, cur)) != NULL &&
	       rs->base < end) {
		if (rs->base > cur) {
			int err = emit(o, cur, rs->base);

			if (err)
				return err;
		}
		cur = range_end(rs);
	}
	return cur < end ? emit(o, cur, end) : 0;
}

int memrange_subtract(const struct mem_range *ram, size_t nram,
		      const struct mem_range *resv, size_t nresv,
		      struct mem_range *out, size_t cap)
{
	struct range_out o = { .r = out, .cap = cap, .n = 0 };
	const struct mem_range *r;
	paddr_t pos = 0;

	if (!all_valid(ram, nram) || !all_valid(resv, nresv))
		return -EINVAL;
	/* Walk the union of @ram upward as maximal segments [start, end). */
	while ((r = next_range(ram, nram, pos)) != NULL) {
		paddr_t start = MAX(r->base, pos);
		paddr_t end = range_end(r);
		bool grew;
		int err;

		/* Grow the segment while another range overlaps or touches it. */
		do {
			grew = false;
			for (size_t i = 0; i < nram; i++) {
				if (ram[i].size && ram[i].base <= end &&
				    range_end(&ram[i]) > end) {
					end = range_end(&ram[i]);
					grew = true;
				}
			}
		} while (grew);
		/* No range ending above @end starts at or below it now. */
		err = emit_unreserved(&o, start, end, resv, nresv);
		if (err)
			return err;
		pos = end;
	}
	return (int)o.n;
}

u64 memrange_total(const struct mem_range *r, size_t n)
{
	u64 sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += r[i].size;
	return sum;
}
