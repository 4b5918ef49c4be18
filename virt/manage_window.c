/*
 * Window choice for attach (virt/manage_window.h). Every sum is checked
 * for wrapping: bases and sizes come from guests.
 */
#include "virt/manage_window.h"

#include "lib/compiler.h"

bool window_space_add(struct window_space *sp, u64 base, u64 size)
{
	if (sp->nr_busy == sp->max_busy)
		return false;
	sp->busy[sp->nr_busy++] = (struct ipa_range){ base, size };
	return true;
}

/* The first busy range that [base, base + size) meets, or NULL. The
 * caller has checked that base + size does not wrap. */
static const struct ipa_range *first_met(const struct window_space *sp,
					 u64 base, u64 size)
{
	for (u32 i = 0; i < sp->nr_busy; i++) {
		const struct ipa_range *b = &sp->busy[i];

		if (b->size && base < b->base + b->size && b->base < base + size)
			return b;
	}
	return NULL;
}

/* Inside [floor, limit), without wrapping. */
static bool in_space(const struct window_space *sp, u64 base, u64 size)
{
	return size && base >= sp->floor && size <= sp->limit &&
	       base <= sp->limit - size;
}

bool window_fits(const struct window_space *sp, u64 base, u64 size)
{
	return IS_ALIGNED(base, MANAGE_WINDOW_ALIGN) && in_space(sp, base, size) &&
	       !first_met(sp, base, size);
}

/*
 * Each step either succeeds or moves @base past the end of a busy
 * range it met, so there are at most nr_busy + 1 steps.
 */
u64 window_find(const struct window_space *sp, u64 from, u64 size)
{
	u64 base = ALIGN_UP(MAX(from, sp->floor), MANAGE_WINDOW_ALIGN);

	while (base && in_space(sp, base, size)) {
		const struct ipa_range *b = first_met(sp, base, size);
		u64 next;

		if (!b)
			return base;
		next = ALIGN_UP(b->base + b->size, MANAGE_WINDOW_ALIGN);
		if (next <= base)
			return 0;   /* the busy range ends at the top of the space */
		base = next;
	}
	return 0;
}
