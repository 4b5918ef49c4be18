/*
 * Dirty rings (mm/dirty_ring.h, DESIGN §7): push, collect and the
 * two-step reset, and the acquire/release hand-overs between producer,
 * consumer and resetter.
 *
 * The entries may be mapped into a guest (the manager), which can write
 * anything into them at any time. Only the indices in struct dirty_ring,
 * which no guest sees, are trusted: every entry is reached through the
 * index mask, every scan is bounded by the indices and by its caller's
 * max, and a flag value other than the one a step expects ends the step.
 * Invariants kept that way, modulo 2^32:
 *   reset_index <= dirty_index <= reset_index + size, and
 *   reset_index <= fetch_index <= dirty_index whenever a collect starts.
 */
#include "mm/dirty_ring.h"

#include "lib/compiler.h"
#include "lib/errno.h"

/*
 * The orders of every hand-over. Only the host negative test overrides
 * them (tests/host/dirty_ring.mk builds dirty_ring_relaxed with both set
 * to __ATOMIC_RELAXED, to show that ThreadSanitizer reports the races
 * they prevent); the image and every other build use these.
 */
#ifndef DIRTY_RING_ACQUIRE
#define DIRTY_RING_ACQUIRE __ATOMIC_ACQUIRE
#endif
#ifndef DIRTY_RING_RELEASE
#define DIRTY_RING_RELEASE __ATOMIC_RELEASE
#endif

static bool is_power_of_two(u32 x)
{
	return x && !(x & (x - 1));
}

static struct dirty_gfn *ring_entry(const struct dirty_ring *ring, u32 index)
{
	return &ring->gfns[index & (ring->size - 1)];
}

int dirty_ring_init(struct dirty_ring *ring, struct dirty_gfn *gfns, u32 size,
		    u32 reserve)
{
	if (!is_power_of_two(size) || reserve >= size)
		return -EINVAL;
	ring->gfns = gfns;
	ring->size = size;
	ring->soft_limit = size - reserve;
	ring->dirty_index = 0;
	ring->reset_index = 0;
	ring->fetch_index = 0;
	return 0;
}

u32 dirty_ring_used(const struct dirty_ring *ring)
{
	/*
	 * Load-acquire, pairs with the store-release of reset_index in
	 * dirty_ring_reset_finish(): what the resetter did to the entries it
	 * freed (re-protection, its reads, flags 0) comes before the
	 * producer refills them. dirty_index is the producer's own (READ_ONCE
	 * only so that statistics may read it from elsewhere).
	 */
	u32 reset = __atomic_load_n(&ring->reset_index, DIRTY_RING_ACQUIRE);

	return READ_ONCE(ring->dirty_index) - reset;
}

bool dirty_ring_soft_full(const struct dirty_ring *ring)
{
	return dirty_ring_used(ring) >= ring->soft_limit;
}

enum dirty_ring_push dirty_ring_push(struct dirty_ring *ring, u32 slot,
				     u64 offset)
{
	u32 used = dirty_ring_used(ring);
	struct dirty_gfn *e;

	/* used never exceeds size (the resetter stops at dirty_index). */
	if (used >= ring->size)
		return DIRTY_RING_FULL;
	e = ring_entry(ring, ring->dirty_index);
	/*
	 * Load-acquire, pairs with the store-release of flags = 0 in
	 * dirty_ring_reset_finish(): the resetter's reads of this entry come
	 * before the writes below. A free entry that is not 0 was written by
	 * a guest; it is not overwritten, and the caller logs the page
	 * elsewhere (the overflow bitmap), as for a full ring.
	 */
	if (__atomic_load_n(&e->flags, DIRTY_RING_ACQUIRE) != 0)
		return DIRTY_RING_FULL;
	e->slot = slot;
	e->offset = offset;
	/*
	 * Store-release, pairs with the load-acquire of the flags in
	 * dirty_ring_collect() (or in a guest consumer): slot and offset are
	 * visible before DIRTY is.
	 */
	__atomic_store_n(&e->flags, DIRTY_GFN_F_DIRTY, DIRTY_RING_RELEASE);
	/*
	 * Relaxed: dirty_index hands nothing over. The consumer and the
	 * resetter only use it to bound their scans; the entries they read
	 * are ordered by the flags.
	 */
	WRITE_ONCE(ring->dirty_index, ring->dirty_index + 1);
	return used + 1 >= ring->soft_limit ? DIRTY_RING_SOFT_FULL :
					      DIRTY_RING_PUSHED;
}

u32 dirty_ring_collect(struct dirty_ring *ring, struct dirty_gfn *out, u32 max)
{
	/*
	 * Load-acquire, pairs with the store-release of reset_index in
	 * dirty_ring_reset_finish(): the resetter read a dirty_index at
	 * least this far before moving reset_index, so the dirty_index read
	 * next is no older, and reset <= dirty.
	 */
	u32 reset = __atomic_load_n(&ring->reset_index, DIRTY_RING_ACQUIRE);
	/* Relaxed: a bound only, as in dirty_ring_push(). */
	u32 dirty = READ_ONCE(ring->dirty_index);
	/* The consumer's own cursor, in a local (stores to @out could alias
	 * it) and stored back at the end. */
	u32 fetch = ring->fetch_index;
	struct dirty_gfn *gfns = ring->gfns;
	u32 mask = ring->size - 1;
	u32 n;

	/*
	 * fetch_index never passes dirty_index (the loop stops there). Only a
	 * guest that marks entries RESET ahead of it can make the resetter
	 * pass it; the entries behind reset_index are gone, so resume there.
	 */
	if (fetch - reset > dirty - reset)
		fetch = reset;
	for (n = 0; n < max && fetch != dirty; n++, fetch++) {
		struct dirty_gfn *e = &gfns[fetch & mask];

		/*
		 * Load-acquire, pairs with the store-release of DIRTY in
		 * dirty_ring_push(): the slot and offset written before it
		 * are the ones read below.
		 */
		if (__atomic_load_n(&e->flags, DIRTY_RING_ACQUIRE) !=
		    DIRTY_GFN_F_DIRTY)
			break;
		/* Read once each: a guest mapping the ring may rewrite them. */
		out[n].flags = DIRTY_GFN_F_DIRTY;
		out[n].slot = READ_ONCE(e->slot);
		out[n].offset = READ_ONCE(e->offset);
		/*
		 * Store-release, pairs with the load-acquire of the flags in
		 * dirty_ring_reset_fetch(): the reads above come before the
		 * resetter may free the entry and the producer refill it.
		 */
		__atomic_store_n(&e->flags, DIRTY_GFN_F_RESET, DIRTY_RING_RELEASE);
	}
	ring->fetch_index = fetch;
	return n;
}

u32 dirty_ring_reset_fetch(struct dirty_ring *ring, u32 from,
			   struct dirty_gfn *out, u32 max)
{
	/*
	 * Entries pushed and not yet freed. Relaxed read of dirty_index: a
	 * bound only, as in dirty_ring_push(). It keeps a guest that marks
	 * free entries RESET from moving reset_index past dirty_index.
	 * reset_index is the resetter's own.
	 */
	u32 pushed = READ_ONCE(ring->dirty_index) - ring->reset_index;
	u32 first = ring->reset_index + from;
	/* In locals: stores to @out could alias the ring's fields. */
	const struct dirty_gfn *gfns = ring->gfns;
	u32 mask = ring->size - 1;
	u32 n;

	for (n = 0; n < max && from + n < pushed; n++) {
		const struct dirty_gfn *e = &gfns[(first + n) & mask];

		/*
		 * Load-acquire, pairs with the store-release of RESET in
		 * dirty_ring_collect() (or in a guest consumer): the
		 * consumer's reads of the entry come before we hand it to
		 * the re-protection and, in reset_finish, free it.
		 */
		if (__atomic_load_n(&e->flags, DIRTY_RING_ACQUIRE) !=
		    DIRTY_GFN_F_RESET)
			break;
		/* Read once each: a guest mapping the ring may rewrite them. */
		out[n].flags = DIRTY_GFN_F_RESET;
		out[n].slot = READ_ONCE(e->slot);
		out[n].offset = READ_ONCE(e->offset);
	}
	return n;
}

/* @count is at most what the fetches of this reset returned in all. */
void dirty_ring_reset_finish(struct dirty_ring *ring, u32 count)
{
	u32 reset = ring->reset_index;   /* the resetter's own */
	struct dirty_gfn *gfns = ring->gfns;
	u32 mask = ring->size - 1;

	for (u32 i = 0; i < count; i++) {
		/*
		 * Store-release, pairs with the load-acquire of the flags in
		 * dirty_ring_push(): the re-protection and our reads of the
		 * entry come before the producer refills it.
		 */
		__atomic_store_n(&gfns[(reset + i) & mask].flags, 0,
				 DIRTY_RING_RELEASE);
	}
	/*
	 * Store-release, pairs with the load-acquire of reset_index in
	 * dirty_ring_used() (so in dirty_ring_push()) and in
	 * dirty_ring_collect(): the entries read as free before they count
	 * as free.
	 */
	__atomic_store_n(&ring->reset_index, reset + count, DIRTY_RING_RELEASE);
}
