/*
 * Memslots (mm/memslot.h, DESIGN §6): two copies of the slot array, a
 * lock-free read section that counts its readers per copy, an updater
 * that publishes the spare copy and drains the old one, the generation
 * that tells cached lookups they are stale, and the edit helpers.
 *
 * Invariants, kept by memslots_update() under update_lock:
 *  - @active's copy is complete and never written while it is active;
 *  - a copy is rewritten only after its reader count drained to 0 once
 *    it stopped being active, so a reader counted in it that passed its
 *    re-check of @active still has it intact until memslots_read_end();
 *  - the generation is odd from before @active changes until the old
 *    copy is drained, even otherwise, and only ever grows.
 */
#include "mm/memslot.h"

#include "lib/compiler.h"
#include "lib/errno.h"
#include "mm/page_alloc.h"

/* An empty cache's generation: odd, so never one a fill stores, and
 * one the counter does not reach (it would take 2^63 updates). */
#define CACHE_EMPTY_GENERATION (~0ULL)

void memslots_init(struct memslots *ms)
{
	*ms = (struct memslots){ .update_lock = SPINLOCK_INIT };
	ms->active = &ms->copy[0];
}

/* ------------------------------------------------------- read sections */

/* Which of the two copies @a is (a compare, not a division by the
 * array's size). */
static unsigned int copy_index(const struct memslots *ms,
			       const struct memslot_array *a)
{
	return a == &ms->copy[1];
}

const struct memslot_array *memslots_read_begin(struct memslots *ms,
						 unsigned int *token)
{
	for (;;) {
		/* Only picks which count to bump; the re-check below is the
		 * load whose value we trust. (Acquire: pairs with the
		 * updater's publishing store of @active, as the re-check.) */
		struct memslot_array *a = __atomic_load_n(&ms->active, __ATOMIC_ACQUIRE);
		unsigned int idx = copy_index(ms, a);

		/*
		 * Dekker pair with memslots_update(), which stores @active
		 * and then loads readers[old] (both seq_cst): either our
		 * re-check sees the new @active and we back out, or the
		 * updater's load sees our increment and waits for our
		 * memslots_read_end() before the copy is reused. The re-check
		 * is also an acquire of the store that published @a, so the
		 * array's contents are visible to us.
		 */
		__atomic_fetch_add(&ms->readers[idx], 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&ms->active, __ATOMIC_SEQ_CST) == a) {
			*token = idx;
			return a;
		}
		/* A stale copy, of which we read nothing. Release: pairs
		 * with the acquire in wait_for_readers(), as below. */
		__atomic_fetch_sub(&ms->readers[idx], 1, __ATOMIC_RELEASE);
	}
}

void memslots_read_end(struct memslots *ms, unsigned int token)
{
	/* Release: our loads from the copy happen before the updater's
	 * acquire in wait_for_readers() sees the count drop, hence before
	 * it rewrites the copy. */
	__atomic_fetch_sub(&ms->readers[token], 1, __ATOMIC_RELEASE);
}

/* Sorted and at most MEMSLOT_MAX slots: a linear scan is as short as a
 * binary search and obviously right. One unsigned compare per slot
 * (@ipa below a slot's base wraps to a huge offset). */
const struct memslot *memslot_find(const struct memslot_array *a, u64 ipa)
{
	const struct memslot *end = a->slots + a->nr;

	for (const struct memslot *s = a->slots; s < end; s++)
		if (ipa - s->ipa < s->size)
			return s;
	return NULL;
}

/* Index of slot @id in @a, or -1. */
static int slot_index(const struct memslot_array *a, u32 id)
{
	for (u32 i = 0; i < a->nr; i++)
		if (a->slots[i].id == id)
			return (int)i;
	return -1;
}

const struct memslot *memslot_by_id(const struct memslot_array *a, u32 id)
{
	int i = slot_index(a, id);

	return i < 0 ? NULL : &a->slots[i];
}

u64 memslots_generation(const struct memslots *ms)
{
	/* Acquire: pairs with set_generation()'s release, so what the
	 * update did before that store is visible to the caller. */
	return __atomic_load_n(&ms->generation, __ATOMIC_ACQUIRE);
}

/* ------------------------------------------------------------- updates */

/* Spins until no reader is counted in copy @idx. */
static void wait_for_readers(struct memslots *ms, unsigned int idx)
{
	/* Seq_cst: the second half of the Dekker pair in
	 * memslots_read_begin() (our store of @active comes first). It is
	 * also an acquire, pairing with the release decrements in
	 * memslots_read_end() and the back-out, so every reader's loads
	 * from the copy happen before we write it again. */
	while (__atomic_load_n(&ms->readers[idx], __ATOMIC_SEQ_CST))
		cpu_relax();
}

static void set_generation(struct memslots *ms, u64 gen)
{
	/* Release: pairs with the acquire in memslots_generation(). For
	 * the odd value, it comes before the store of @active, so a reader
	 * that saw the new array also sees an odd or later generation. */
	__atomic_store_n(&ms->generation, gen, __ATOMIC_RELEASE);
}

int memslots_update(struct memslots *ms,
		    int (*edit)(struct memslot_array *next, void *arg),
		    void *arg)
{
	struct memslot_array *cur;
	unsigned int old, spare;
	u64 gen;
	int ret;

	spin_lock(&ms->update_lock);
	/* Only updaters write @active and the generation, under the lock
	 * we hold: relaxed loads of our own values. */
	cur = __atomic_load_n(&ms->active, __ATOMIC_RELAXED);
	gen = __atomic_load_n(&ms->generation, __ATOMIC_RELAXED);
	old = copy_index(ms, cur);
	spare = old ^ 1;

	/* The last update drained the spare copy; anyone counted in it
	 * now holds a stale pointer and backs out at its re-check. Let
	 * them go, so the copy is written with nobody counted in it. */
	wait_for_readers(ms, spare);
	ms->copy[spare] = *cur;
	ret = edit(&ms->copy[spare], arg);
	if (ret)
		goto out;   /* nothing published, the generation untouched */

	set_generation(ms, gen + 1);   /* odd: do not cache */
	/* Publish. Seq_cst: a release of the copy's contents (pairs with
	 * the acquire of the readers' re-check) and the first half of the
	 * Dekker pair with memslots_read_begin(). */
	__atomic_store_n(&ms->active, &ms->copy[spare], __ATOMIC_SEQ_CST);
	wait_for_readers(ms, old);
	set_generation(ms, gen + 2);   /* even: stable again */
out:
	spin_unlock(&ms->update_lock);
	return ret;
}

/* -------------------------------------------------------- edit helpers */

/* Non-empty, page aligned, and neither range wraps. */
static bool slot_valid(const struct memslot *s)
{
	return s->size && IS_ALIGNED(s->ipa | s->size | s->pa, PAGE_SIZE) &&
	       s->ipa + s->size > s->ipa && s->pa + s->size > s->pa;
}

static bool slots_overlap(const struct memslot *a, const struct memslot *b)
{
	return a->ipa < b->ipa + b->size && b->ipa < a->ipa + a->size;
}

int memslot_array_insert(struct memslot_array *a, const struct memslot *slot)
{
	u32 pos;

	if (!slot_valid(slot))
		return -EINVAL;
	for (u32 i = 0; i < a->nr; i++)
		if (a->slots[i].id == slot->id || slots_overlap(&a->slots[i], slot))
			return -EEXIST;
	if (a->nr == MEMSLOT_MAX)
		return -ENOSPC;
	/* Shift the slots above it up by one, keeping the order. */
	for (pos = a->nr; pos > 0 && a->slots[pos - 1].ipa > slot->ipa; pos--)
		a->slots[pos] = a->slots[pos - 1];
	a->slots[pos] = *slot;
	a->nr++;
	return 0;
}

int memslot_array_remove(struct memslot_array *a, u32 id)
{
	int i = slot_index(a, id);

	if (i < 0)
		return -ENOENT;
	for (u32 j = (u32)i; j + 1 < a->nr; j++)
		a->slots[j] = a->slots[j + 1];
	a->nr--;
	return 0;
}

int memslot_array_change_flags(struct memslot_array *a, u32 id, u32 set,
			       u32 clear)
{
	int i = slot_index(a, id);

	if (i < 0)
		return -ENOENT;
	a->slots[i].flags = (a->slots[i].flags & ~clear) | set;
	return 0;
}

/* ------------------------------------------------------- lookup cache */

void memslot_cache_init(struct memslot_cache *c)
{
	*c = (struct memslot_cache){ .generation = CACHE_EMPTY_GENERATION };
}

/*
 * The generation must be read BEFORE the lookup. Read after it (as KVM
 * did before its 2014 fix, seeds/004), this interleaving caches a stale
 * answer for good:
 *
 *	vCPU                          updater
 *	lookup: no slot at ipa -> MMIO
 *	                              add a slot over ipa, generation g -> g+2
 *	gen = generation (g+2)
 *	cache MMIO under g+2          (nothing will move g+2 again)
 *
 * and every later access to ipa is emulated as a device while it is RAM.
 * Read before, @gen is g and memslot_cache_fill() sees g+2: no store.
 */
u64 memslot_cache_begin(const struct memslots *ms)
{
	/* Acquire (memslots_generation()): the lookup's loads come after. */
	return memslots_generation(ms);
}

/*
 * Stores only if @gen was even (no update in flight when the lookup
 * began) and is still the generation after the lookup, so that a stored
 * entry was current when it was stored.
 *
 * What keeps a stale answer out is the tag: the entry carries @gen, read
 * before the lookup, and memslot_cache_get() honours it only while the
 * generation still equals it. A lookup that saw anything published after
 * @gen is tagged with a generation that is already gone for good (it
 * only grows). The odd test matters too: an entry tagged with an odd
 * generation would be honoured for the rest of that update, though it
 * may describe the array the update has already replaced. The re-read
 * only refuses entries that are dead on arrival.
 */
void memslot_cache_fill(struct memslot_cache *c, const struct memslots *ms,
			u64 gen, u64 ipa, const void *value)
{
	if (gen & 1)
		return;
	/* Acquire fence: the lookup's loads are ordered before the re-read
	 * below. A lookup that saw an array published after @gen (its load
	 * of @active read the updater's store, which follows the odd
	 * generation's store-release) therefore reads an odd or later
	 * generation here and stores nothing. A read section's acquire of
	 * @active gives this already; the fence makes it hold whatever
	 * loads the lookup used. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&ms->generation, __ATOMIC_RELAXED) != gen)
		return;
	c->generation = gen;
	c->ipa_page = ipa >> PAGE_SHIFT;
	c->value = value;
}

const void *memslot_cache_get(const struct memslot_cache *c,
			      const struct memslots *ms, u64 ipa)
{
	/* memslots_generation() acquires the updater's release: after an
	 * update returned (and the caller heard of it through any acquire),
	 * the older value cached here is not used. */
	if (c->generation != memslots_generation(ms) ||
	    c->ipa_page != ipa >> PAGE_SHIFT)
		return NULL;
	return c->value;
}
