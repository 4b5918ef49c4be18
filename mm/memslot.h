/*
 * Memslots (DESIGN §6): a VM's guest memory as a small sorted array of
 * slots {IPA base, size, physical base, id, flags}. Readers (a vCPU in
 * its fault handler, a hypervisor write into guest memory, a harvest)
 * look slots up inside a read section and never take a lock. An update
 * builds the next array in the spare copy, publishes it, bumps the
 * generation and waits until no reader can still be inside the old copy.
 *
 * The generation is even while the slots are stable and odd while an
 * update is in flight. Anything cached from a lookup records the
 * generation it was computed under (memslot_cache_*) and is ignored once
 * the generation moved; nothing is cached while it is odd.
 *
 * Host-testable: no arm64 code.
 */
#ifndef MM_MEMSLOT_H
#define MM_MEMSLOT_H

#include "lib/spinlock.h"
#include "lib/types.h"

#define MEMSLOT_MAX 8

/* Slot flags */
#define MEMSLOT_LOG_DIRTY (1u << 0)   /* writes are logged (mm/dirty_log.c) */
#define MEMSLOT_READONLY (1u << 1)    /* the guest may only read it (a view
					 of another VM's memory) */

struct memslot {
	u64 ipa;        /* page aligned */
	u64 size;       /* page aligned, non-zero */
	paddr_t pa;     /* host physical base */
	u32 id;         /* stable: dirty ring entries name slots by it */
	u32 flags;      /* MEMSLOT_* */
};

/* One version of the slots: sorted by ipa, non-overlapping. */
struct memslot_array {
	u32 nr;
	struct memslot slots[MEMSLOT_MAX];
};

struct memslots {
	struct memslot_array copy[2];
	/* The copy readers use. Stored by the updater (sequentially
	 * consistent, hence a release) and re-checked by each reader after
	 * it counted itself in readers[]: a Dekker pair (mm/memslot.c). */
	struct memslot_array *active;
	/* Readers inside each copy (atomic). A reader that loaded a stale
	 * @active may bump the spare copy's count for a moment; it backs
	 * out without reading that copy. */
	u32 readers[2];
	/* Even: stable; odd: an update is in flight. Atomic; written only
	 * by the updater (store-release). */
	u64 generation;
	/* Serialises updaters (a leaf lock: see docs/locking.md). */
	struct spinlock update_lock;
};

/* Empty slots, generation 0. */
void memslots_init(struct memslots *ms);

/*
 * Read section: returns the current array, which stays valid (and
 * unchanged) until memslots_read_end(ms, *token). Never waits for an
 * updater (it only retries if an update published in between); sections
 * may not nest on one CPU, and nothing inside one may wait, since an
 * updater spins until the section ends.
 */
const struct memslot_array *memslots_read_begin(struct memslots *ms,
						 unsigned int *token);
void memslots_read_end(struct memslots *ms, unsigned int token);

/* The slot holding @ipa in @a, or NULL. */
const struct memslot *memslot_find(const struct memslot_array *a, u64 ipa);

/* The slot with id @id in @a, or NULL. */
const struct memslot *memslot_by_id(const struct memslot_array *a, u32 id);

/* Load-acquire of the generation. */
u64 memslots_generation(const struct memslots *ms);

/*
 * Updater: copies the current array into the spare copy, lets @edit
 * change it (returning 0 to commit or a negative errno to abandon, in
 * which case nothing is published), publishes it, and returns once no
 * reader can still be using the previous array. The generation is odd
 * from before the new array is published until after the old one is
 * drained. Must not be called inside a read section. Returns @edit's
 * result.
 */
int memslots_update(struct memslots *ms,
		    int (*edit)(struct memslot_array *next, void *arg),
		    void *arg);

/* Edit helpers for memslots_update() callbacks. */
/* Inserts @slot keeping the order; -EEXIST if its id is taken or it
 * overlaps a slot, -ENOSPC when full, -EINVAL if empty or unaligned. */
int memslot_array_insert(struct memslot_array *a, const struct memslot *slot);
/* Removes the slot @id; -ENOENT if absent. */
int memslot_array_remove(struct memslot_array *a, u32 id);
/* Sets and clears flags of slot @id (a bit in both @set and @clear
 * ends up set); -ENOENT if absent. */
int memslot_array_change_flags(struct memslot_array *a, u32 id, u32 set,
			       u32 clear);

/*
 * A one-entry cache of a lookup keyed by IPA page, valid for one
 * generation (the MMIO decode of exit.c uses it). A cache has one owner
 * (a vCPU): its fields are plain, only the generation is shared. A
 * value cannot be NULL (NULL is "not cached"). Filling is
 *
 *	gen = memslot_cache_begin(ms);      before the lookup
 *	... look up slots and devices ...
 *	memslot_cache_fill(c, ms, gen, ipa, value);
 *
 * and memslot_cache_fill() stores nothing if @gen was odd or the
 * generation moved during the lookup.
 */
struct memslot_cache {
	u64 generation;     /* odd (never valid) when empty */
	u64 ipa_page;
	const void *value;
};

void memslot_cache_init(struct memslot_cache *c);
u64 memslot_cache_begin(const struct memslots *ms);
void memslot_cache_fill(struct memslot_cache *c, const struct memslots *ms,
			u64 gen, u64 ipa, const void *value);
/* The cached value for @ipa if it was computed under the current
 * generation, else NULL. */
const void *memslot_cache_get(const struct memslot_cache *c,
			      const struct memslots *ms, u64 ipa);

#endif
