/*
 * Dirty rings (DESIGN §7): a power-of-two array of 16-byte entries shaped
 * like KVM's struct kvm_dirty_gfn, shared by three parties:
 *
 *   producer  (the vCPU for its own ring; any CPU, under a lock, for a
 *             VM's ring) pushes {slot, offset} and publishes DIRTY;
 *   consumer  (the hypervisor's harvest on behalf of a manager, or the
 *             manager itself once the ring is mapped into it) copies a
 *             DIRTY entry and marks it RESET;
 *   resetter  (the hypervisor) re-protects the page of each RESET entry,
 *             then frees the entry (flags 0) and moves the reset index.
 *
 * Every hand-over between them is a store-release of an entry's flags or
 * of an index, read by a load-acquire on the other side; each access
 * names its pair. Indices are free-running u32s: the entry of index i is
 * gfns[i & (size - 1)], and dirty_index - reset_index is the number of
 * entries in use (DIRTY or RESET), never more than size.
 *
 * Host-testable: no arm64 code; tests/host builds it for x86.
 */
#ifndef MM_DIRTY_RING_H
#define MM_DIRTY_RING_H

#include "lib/types.h"

/* Entry flags, the values KVM's ABI uses. 0 means empty. */
#define DIRTY_GFN_F_DIRTY 1u   /* published by the producer */
#define DIRTY_GFN_F_RESET 2u   /* copied by the consumer */

/* One ring entry: 16 bytes, the layout of KVM's kvm_dirty_gfn. */
struct dirty_gfn {
	u32 flags;    /* DIRTY_GFN_F_*; only ever accessed atomically */
	u32 slot;     /* memslot id */
	u64 offset;   /* page number within the slot */
};

struct dirty_ring {
	struct dirty_gfn *gfns;
	u32 size;           /* entries, a power of two */
	u32 soft_limit;     /* push reports "soft full" from here on */
	/* Next entry the producer fills. Written only by the producer;
	 * read by others only for statistics. The consumer and the
	 * resetter also read it (relaxed) to bound their scans: a guest
	 * that maps the ring can write any flags, only indices are trusted. */
	u32 dirty_index;
	/* Next entry the resetter frees. Written only by the resetter
	 * (store-release), read by the producer (load-acquire). The
	 * consumer reads it too (load-acquire) to catch up with it. */
	u32 reset_index;
	/* Next entry the in-hypervisor consumer looks at (its private
	 * cursor; a consumer that maps the ring keeps its own). */
	u32 fetch_index;
};

/* What dirty_ring_push() did. */
enum dirty_ring_push {
	DIRTY_RING_PUSHED,      /* entry published; below the soft limit */
	DIRTY_RING_SOFT_FULL,   /* entry published; soft limit reached */
	DIRTY_RING_FULL,        /* no free entry: nothing published */
};

/*
 * Prepares @ring over @gfns (@size entries, a power of two, zeroed by
 * the caller). @reserve entries above the soft limit are kept for
 * pushes the producer cannot refuse. Returns 0, or -EINVAL if @size is
 * not a power of two or @reserve leaves no room below the soft limit.
 */
int dirty_ring_init(struct dirty_ring *ring, struct dirty_gfn *gfns, u32 size,
		    u32 reserve);

/* Producer: publishes {slot, offset}. Never waits. One producer at a time.
 * Also FULL if a guest wrote into the next free entry: never overwritten. */
enum dirty_ring_push dirty_ring_push(struct dirty_ring *ring, u32 slot,
				     u64 offset);

/* Entries in use (DIRTY or RESET) as the producer sees them. */
u32 dirty_ring_used(const struct dirty_ring *ring);

/* Producer side: true while the ring is at or above its soft limit. */
bool dirty_ring_soft_full(const struct dirty_ring *ring);

/*
 * Consumer: copies up to @max DIRTY entries, in ring order from
 * fetch_index, into @out and marks each RESET. Stops at the first entry
 * that is not DIRTY (entries are published in order). Returns the count.
 * One consumer at a time. If a guest's RESET marks let the resetter
 * pass fetch_index, collection resumes at reset_index.
 */
u32 dirty_ring_collect(struct dirty_ring *ring, struct dirty_gfn *out, u32 max);

/*
 * Resetter, first half: copies slot and offset of up to @max consecutive
 * RESET entries into @out (flags RESET), in ring order starting @from
 * entries past reset_index, without freeing them. Returns how many;
 * @from is what the earlier fetches of this reset returned in all (0 for
 * the first). Stops at the first entry that is not RESET and never passes
 * dirty_index. The caller re-protects the pages in batches, makes the
 * re-protection effective (TLB invalidation completed) and calls
 * dirty_ring_reset_finish() with the total. One resetter at a time.
 * If the ring is mapped into a guest the copies are untrusted and must
 * be checked.
 */
u32 dirty_ring_reset_fetch(struct dirty_ring *ring, u32 from,
			   struct dirty_gfn *out, u32 max);

/* Resetter, second half: frees the first @count entries (flags 0) and
 * moves reset_index past them, making them available to the producer. */
void dirty_ring_reset_finish(struct dirty_ring *ring, u32 count);

#endif
