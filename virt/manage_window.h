/*
 * Where attach puts another VM's memory and rings in a manager's IPA
 * space (virt/manage.c): 1 GiB-aligned windows above everything the
 * manager has below a floor (its RAM and devices), below the end of its
 * IPA space, clear of what is mapped there already. Pure arithmetic,
 * host-testable.
 */
#ifndef VIRT_MANAGE_WINDOW_H
#define VIRT_MANAGE_WINDOW_H

#include "lib/types.h"

#define MANAGE_WINDOW_ALIGN (1ULL << 30)   /* 1 GiB */

/* A range of IPA space: [base, base + size). */
struct ipa_range {
	u64 base, size;
};

/* Where windows may lie: [floor, limit), clear of @busy[0..@nr_busy),
 * an array with room for @max_busy ranges. */
struct window_space {
	u64 floor;
	u64 limit;
	struct ipa_range *busy;
	u32 nr_busy;
	u32 max_busy;
};

/* Adds [@base, @base + @size) to the busy ranges; false if full. */
bool window_space_add(struct window_space *sp, u64 base, u64 size);

/* [@base, @base + @size) is MANAGE_WINDOW_ALIGN aligned, non-empty,
 * inside @sp's [floor, limit) and meets none of its busy ranges. */
bool window_fits(const struct window_space *sp, u64 base, u64 size);

/* The lowest base at or above @from (and the floor, which must not be
 * 0) for which window_fits(@sp, base, @size); 0 if there is none. */
u64 window_find(const struct window_space *sp, u64 from, u64 size);

#endif
