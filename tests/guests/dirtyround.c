/* The dirty_log_test round check shared by dirtycheck and hvdmgr. */
#include "tests/guests/dirtyround.h"

#include "lib/printf.h"
#include "lib/string.h"
#include "tests/guests/gutil.h"
#include "tests/guests/rt/rt.h"
#include "tests/guests/rt/timer.h"
#include "virt/guest_map.h"

#define PAGE_SHIFT 12
#define LOST_REPORTS 10               /* LOST lines printed at most */

void dround_init(struct dround *r, const volatile u8 *view, u64 npages, bool verbose)
{
	r->view = view;
	r->npages = npages;
	r->verbose = verbose;
	r->map_words = (npages + 63) / 64;
	r->prev = gu_carve(npages * sizeof(u64));
	r->cur = gu_carve(npages * sizeof(u64));
	r->dirty = gu_carve(r->map_words * sizeof(u64));
	r->pending = gu_carve(r->map_words * sizeof(u64));
	r->pending_next = gu_carve(r->map_words * sizeof(u64));
}

static bool test_bit(const u64 *map, u64 i)
{
	return map[i / 64] & (1ULL << (i % 64));
}

static void set_bit(u64 *map, u64 i)
{
	map[i / 64] |= 1ULL << (i % 64);
}

static void read_view(const struct dround *r, u64 *out)
{
	for (u64 p = 0; p < r->npages; p++)
		out[p] = *(const volatile u64 *)(r->view + (p << PAGE_SHIFT));
}

void dround_start(struct dround *r, const volatile u8 *view)
{
	r->view = view;
	memset(&r->total, 0, sizeof(r->total));
	memset(r->pending, 0, r->map_words * sizeof(u64));
	read_view(r, r->prev);
}

void dround_harvest_begin(struct dround *r)
{
	memset(r->dirty, 0, r->map_words * sizeof(u64));
}

bool dround_mark(struct dround *r, u32 slot, u64 offset)
{
	if (slot != 0 || offset >= r->npages)
		return false;
	set_bit(r->dirty, offset);
	return true;
}

bool dround_in_d(const struct dround *r, u64 p)
{
	return test_bit(r->dirty, p);
}

/* @p changed to @to (from *@from, if known) in round @written, and the
 * harvest of round @round, which had to have it, did not. */
static void report_lost(struct dround *r, u64 p, u64 round, u64 written,
			const u64 *from, u64 to)
{
	char was[24] = "";

	if (++r->total.lost > LOST_REPORTS)
		return;
	if (from)
		snprintf(was, sizeof(was), "0x%llx -> ", (unsigned long long)*from);
	printf("%s: LOST page %llu (target IPA 0x%llx): written in round "
	       "%llu (%s0x%llx), not in the harvest of round %llu\n", guest_name,
	       (unsigned long long)p,
	       (unsigned long long)(GUEST_RAM_BASE + (p << PAGE_SHIFT)),
	       (unsigned long long)written, was, (unsigned long long)to,
	       (unsigned long long)round);
}

/*
 * The order matters: a page is read only after it is protected again
 * (the caller's reset), so a write after our read must fault (or, with
 * DBM, mark the descriptor) and be logged; a write that landed before
 * the reset is in what we read.
 */
u64 dround_check(struct dround *r, u64 round, bool exact, u64 ticks)
{
	u64 dirty = 0, carried = 0, unchanged = 0, lost_before = r->total.lost;
	char rate[48] = "";
	u64 *swap;

	read_view(r, r->cur);
	memset(r->pending_next, 0, r->map_words * sizeof(u64));
	for (u64 p = 0; p < r->npages; p++) {
		bool in_d = test_bit(r->dirty, p), was_pending = test_bit(r->pending, p);
		bool changed = r->cur[p] != r->prev[p];

		dirty += in_d;
		if (was_pending && !in_d) {
			report_lost(r, p, round, round - 1, NULL, r->prev[p]);
		} else if (changed && !in_d && exact) {
			report_lost(r, p, round, round, &r->prev[p], r->cur[p]);
		} else if (changed && !in_d) {
			set_bit(r->pending_next, p);
			carried++;
		} else if (in_d && !changed && !was_pending) {
			unchanged++;
		}
		r->prev[p] = r->cur[p];
	}
	swap = r->pending;          /* the next round's pending is this one's */
	r->pending = r->pending_next;
	r->pending_next = swap;
	r->total.rounds++;
	r->total.exact_rounds += exact;
	r->total.dirty_seen += dirty;
	r->total.pending_carried += carried;
	r->total.logged_unchanged += unchanged;
	if (!r->verbose && !exact && r->total.lost == lost_before)
		return dirty;
	if (ticks)
		snprintf(rate, sizeof(rate), " in %llu ms: %llu pages/s",
			 (unsigned long long)(rt_ticks_to_us(ticks) / 1000),
			 (unsigned long long)(dirty * rt_counter_freq() / ticks));
	printf("%s: round %llu%s: %llu dirty, %llu pending, %llu logged but "
	       "unchanged, %llu lost%s\n", guest_name, (unsigned long long)round,
	       exact ? " (exact)" : "", (unsigned long long)dirty,
	       (unsigned long long)carried, (unsigned long long)unchanged,
	       (unsigned long long)(r->total.lost - lost_before), rate);
	return dirty;
}

void dround_print_totals(const struct dround *r)
{
	printf("%s: %llu pages seen dirty, %llu pending carried, %llu lost, "
	       "%llu logged but unchanged\n", guest_name,
	       (unsigned long long)r->total.dirty_seen,
	       (unsigned long long)r->total.pending_carried,
	       (unsigned long long)r->total.lost,
	       (unsigned long long)r->total.logged_unchanged);
}
