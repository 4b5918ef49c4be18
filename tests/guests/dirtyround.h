/*
 * The round check of the dirty-logging tests, in the manner of KVM's
 * dirty_log_test, whatever channel the log is harvested through (the
 * test-only HVC channel in dirtycheck.c, the vsock service in hvdmgr.c).
 * A round is: the caller harvests the target's log into D
 * (dround_harvest_begin(), dround_mark() per entry), resets it until
 * nothing is left, then dround_check() reads the first u64 of every page
 * of the target through its read-only view and compares it with the
 * previous round's reading:
 *
 *   changed, not in D: its write may have come after the harvest looked,
 *     so its entry may come in the next round: it is *pending*. In an
 *     exact round (target paused or stopped: no write is in flight)
 *     there is no such write: the page is LOST.
 *   pending from the previous round, not in D now: the write happened
 *     after our previous read, so the page was protected and the write
 *     logged; the entry was not in the last harvest, so it must be in
 *     this one. Missing: LOST.
 *   in D, unchanged, not pending: logged but not (visibly) written, e.g.
 *     written between the previous harvest and our previous read, or
 *     with the same value: counted, not an error.
 *
 * The workload (dirtywork.c) stores a value no page held before at each
 * write, so a page whose first word changed was written. Lines printed
 * start with the guest's name. Boot vCPU only.
 */
#ifndef TESTS_GUESTS_DIRTYROUND_H
#define TESTS_GUESTS_DIRTYROUND_H

#include "lib/types.h"

struct dround {
	const volatile u8 *view;     /* the target's RAM, read-only */
	u64 npages;
	bool verbose;                /* a line for every round */
	/* Per target page: first word in the previous and this round;
	 * bitmaps of D, of pages pending from the previous round and
	 * pending for the next. Carved once by dround_init(). */
	u64 *prev, *cur;
	u64 *dirty, *pending, *pending_next;
	u64 map_words;
	/* Totals since dround_start(). */
	struct {
		u64 rounds, exact_rounds, dirty_seen, pending_carried, lost,
		    logged_unchanged;
	} total;
};

/* Carves the tables for a target of @npages pages whose RAM is readable
 * at @view. The view may be moved later with dround_start(). */
void dround_init(struct dround *r, const volatile u8 *view, u64 npages, bool verbose);

/* Logging is on and every page protected: takes the first reading (at
 * @view, which may differ from the last start's), clears the totals
 * and pending pages. */
void dround_start(struct dround *r, const volatile u8 *view);

/* D = {} for the harvest that follows. */
void dround_harvest_begin(struct dround *r);
/* Adds an entry of the harvest to D: false if it does not name a page
 * of the target's RAM (slot 0, below npages): a broken log. */
bool dround_mark(struct dround *r, u32 slot, u64 offset);
/* Whether page @p is in D. */
bool dround_in_d(const struct dround *r, u64 p);

/*
 * After the harvest into D and the reset: reads every page, compares,
 * prints LOST pages and a round line (if verbose, exact or pages were
 * lost; with the rate of dirty pages per second when @ticks, the
 * counter ticks the round's interval took, is non-zero). Returns |D|.
 */
u64 dround_check(struct dround *r, u64 round, bool exact, u64 ticks);

/* "<name>: N pages seen dirty, N pending carried, N lost, N logged but
 * unchanged" for the totals since dround_start(). */
void dround_print_totals(const struct dround *r);

#endif
