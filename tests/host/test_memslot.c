/*
 * Memslots (mm/memslot.c) and the MMIO decode over them
 * (virt/mmio_lookup.c) on the host: the array helpers, generations
 * around an update, the lookup cache's begin/fill protocol, KVM's stale
 * MMIO generation race (seeds/004) replayed step by step, and threads
 * racing readers against an updater, which a second binary runs under
 * ThreadSanitizer.
 */
#include <pthread.h>
#include <sched.h>

#include "lib/errno.h"
#include "mm/memslot.h"
#include "tests/host/test.h"
#include "virt/mmio_lookup.h"
#include "virt/vm.h"

#ifdef MEMSLOT_RACES_ONLY
/* The TSan binary registers only the tests that run threads. */
#define UNIT_TEST(name) static __attribute__((unused)) void name(void)
#else
#define UNIT_TEST(name) TEST(name)
#endif

#define PG 0x1000ULL

/* The guest map of these tests: RAM, a low slot, and a "hot" slot that
 * comes and goes over the page of two devices 0x200 apart (as the
 * virtio-mmio slots are). */
#define RAM_IPA 0x40000000ULL
#define LOW_IPA 0x10000000ULL
#define DEV_IPA 0x0a000000ULL
#define DEV_SIZE 0x200ULL
#define RAM_ID 0u
#define HOT_ID 1u
#define LOW_ID 2u

static const struct memslot ram = { RAM_IPA, 0x100000, 0x80000000, RAM_ID, 0 };
static const struct memslot low = { LOW_IPA, 2 * PG, 0x90000000, LOW_ID, 0 };
static const struct memslot hot = { DEV_IPA, PG, 0xa0000000, HOT_ID, 0 };

static struct memslot slot_at(u64 ipa, u64 size, u32 id)
{
	return (struct memslot){ ipa, size, 0x100000000ULL + ipa, id, 0 };
}

static bool slot_eq(const struct memslot *a, const struct memslot *b)
{
	return a->ipa == b->ipa && a->size == b->size && a->pa == b->pa &&
	       a->id == b->id && a->flags == b->flags;
}

static bool arrays_eq(const struct memslot_array *a, const struct memslot_array *b)
{
	if (a->nr != b->nr)
		return false;
	for (u32 i = 0; i < a->nr; i++)
		if (!slot_eq(&a->slots[i], &b->slots[i]))
			return false;
	return true;
}

static void init_devices(struct mmio_region dev[2])
{
	dev[0] = (struct mmio_region){ DEV_IPA, DEV_SIZE, NULL, NULL };
	dev[1] = (struct mmio_region){ DEV_IPA + DEV_SIZE, DEV_SIZE, NULL, NULL };
}

/* ------------------------------------------------ update callbacks */

static int edit_insert(struct memslot_array *next, void *arg)
{
	return memslot_array_insert(next, arg);
}

static int edit_remove(struct memslot_array *next, void *arg)
{
	return memslot_array_remove(next, *(const u32 *)arg);
}

static int edit_log_dirty(struct memslot_array *next, void *arg)
{
	return memslot_array_change_flags(next, *(const u32 *)arg,
					  MEMSLOT_LOG_DIRTY, 0);
}

/* Changes the spare copy, then gives up. */
static int edit_insert_then_fail(struct memslot_array *next, void *arg)
{
	memslot_array_insert(next, arg);
	return -EBUSY;
}

static int add_slot(struct memslots *ms, const struct memslot *s)
{
	return memslots_update(ms, edit_insert, (void *)s);
}

static int remove_slot(struct memslots *ms, u32 id)
{
	return memslots_update(ms, edit_remove, &id);
}

/* ms with RAM and the low slot, generation 4. */
static void two_slots(struct memslots *ms)
{
	memslots_init(ms);
	add_slot(ms, &ram);
	add_slot(ms, &low);
}

/* The current array, read in a section (single-threaded tests). */
static struct memslot_array snapshot(struct memslots *ms)
{
	unsigned int token;
	struct memslot_array a = *memslots_read_begin(ms, &token);

	memslots_read_end(ms, token);
	return a;
}

/* -------------------------------------------------- array helpers */

UNIT_TEST(insert_keeps_slots_sorted_by_ipa)
{
	struct memslot_array a = { 0 };

	CHECK_EQ(memslot_array_insert(&a, &ram), 0);
	CHECK_EQ(memslot_array_insert(&a, &hot), 0);
	CHECK_EQ(memslot_array_insert(&a, &low), 0);
	CHECK_EQ(a.nr, 3);
	CHECK(slot_eq(&a.slots[0], &hot));
	CHECK(slot_eq(&a.slots[1], &low));
	CHECK(slot_eq(&a.slots[2], &ram));
}

UNIT_TEST(insert_rejects_overlap_but_takes_adjacent_slots)
{
	struct memslot_array a = { 0 };
	struct memslot s;

	CHECK_EQ(memslot_array_insert(&a, &low), 0);   /* [LOW, LOW + 2 pages) */
	s = slot_at(LOW_IPA - PG, 2 * PG, 10);          /* covers its first page */
	CHECK_EQ(memslot_array_insert(&a, &s), -EEXIST);
	s = slot_at(LOW_IPA + PG, 2 * PG, 10);          /* its last page */
	CHECK_EQ(memslot_array_insert(&a, &s), -EEXIST);
	s = slot_at(LOW_IPA + PG, PG, 10);              /* inside it */
	CHECK_EQ(memslot_array_insert(&a, &s), -EEXIST);
	s = slot_at(LOW_IPA - PG, 4 * PG, 10);          /* around it */
	CHECK_EQ(memslot_array_insert(&a, &s), -EEXIST);
	CHECK_EQ(a.nr, 1);
	s = slot_at(LOW_IPA - PG, PG, 10);              /* ends at its base */
	CHECK_EQ(memslot_array_insert(&a, &s), 0);
	s = slot_at(LOW_IPA + 2 * PG, PG, 11);          /* starts at its end */
	CHECK_EQ(memslot_array_insert(&a, &s), 0);
	CHECK_EQ(a.nr, 3);
}

UNIT_TEST(insert_rejects_a_taken_id)
{
	struct memslot_array a = { 0 };
	struct memslot s = slot_at(0x20000000, PG, LOW_ID);

	CHECK_EQ(memslot_array_insert(&a, &low), 0);
	CHECK_EQ(memslot_array_insert(&a, &s), -EEXIST);
	CHECK_EQ(a.nr, 1);
}

UNIT_TEST(insert_into_a_full_array_is_enospc)
{
	struct memslot_array a = { 0 }, before;
	struct memslot s;

	for (u32 i = 0; i < MEMSLOT_MAX; i++) {
		s = slot_at(i * 0x10000000ULL, PG, i);
		CHECK_EQ(memslot_array_insert(&a, &s), 0);
	}
	before = a;
	s = slot_at(0xf0000000, PG, 99);
	CHECK_EQ(memslot_array_insert(&a, &s), -ENOSPC);
	CHECK(arrays_eq(&a, &before));
}

UNIT_TEST(insert_rejects_empty_unaligned_or_wrapping_slots)
{
	struct memslot_array a = { 0 };
	struct memslot s;

	s = slot_at(LOW_IPA, 0, 5);
	CHECK_EQ(memslot_array_insert(&a, &s), -EINVAL);
	s = slot_at(LOW_IPA + 8, PG, 5);
	CHECK_EQ(memslot_array_insert(&a, &s), -EINVAL);
	s = slot_at(LOW_IPA, PG + 8, 5);
	CHECK_EQ(memslot_array_insert(&a, &s), -EINVAL);
	s = slot_at(LOW_IPA, PG, 5);
	s.pa += 8;
	CHECK_EQ(memslot_array_insert(&a, &s), -EINVAL);
	s = slot_at(0ULL - PG, PG, 5);                  /* ends at 2^64 */
	CHECK_EQ(memslot_array_insert(&a, &s), -EINVAL);
	s = slot_at(LOW_IPA, PG, 5);
	s.pa = 0ULL - PG;
	CHECK_EQ(memslot_array_insert(&a, &s), -EINVAL);
	CHECK_EQ(a.nr, 0);
}

UNIT_TEST(remove_keeps_the_others_in_order)
{
	struct memslot_array a = { 0 };

	memslot_array_insert(&a, &ram);
	memslot_array_insert(&a, &hot);
	memslot_array_insert(&a, &low);
	CHECK_EQ(memslot_array_remove(&a, LOW_ID), 0);
	CHECK_EQ(a.nr, 2);
	CHECK(slot_eq(&a.slots[0], &hot));
	CHECK(slot_eq(&a.slots[1], &ram));
	CHECK_EQ(memslot_array_remove(&a, LOW_ID), -ENOENT);
	CHECK_EQ(memslot_array_remove(&a, HOT_ID), 0);
	CHECK_EQ(memslot_array_remove(&a, RAM_ID), 0);
	CHECK_EQ(a.nr, 0);
}

UNIT_TEST(change_flags_sets_then_clears_only_that_slot)
{
	struct memslot_array a = { 0 };

	memslot_array_insert(&a, &ram);
	memslot_array_insert(&a, &low);
	CHECK_EQ(memslot_array_change_flags(&a, LOW_ID, MEMSLOT_LOG_DIRTY |
					    MEMSLOT_READONLY, 0), 0);
	CHECK_EQ(memslot_by_id(&a, LOW_ID)->flags, MEMSLOT_LOG_DIRTY | MEMSLOT_READONLY);
	CHECK_EQ(memslot_by_id(&a, RAM_ID)->flags, 0);
	CHECK_EQ(memslot_array_change_flags(&a, LOW_ID, 0, MEMSLOT_READONLY), 0);
	CHECK_EQ(memslot_by_id(&a, LOW_ID)->flags, MEMSLOT_LOG_DIRTY);
	/* A bit in both ends up set. */
	CHECK_EQ(memslot_array_change_flags(&a, LOW_ID, MEMSLOT_READONLY,
					    MEMSLOT_READONLY), 0);
	CHECK_EQ(memslot_by_id(&a, LOW_ID)->flags, MEMSLOT_LOG_DIRTY | MEMSLOT_READONLY);
	CHECK_EQ(memslot_array_change_flags(&a, HOT_ID, MEMSLOT_LOG_DIRTY, 0), -ENOENT);
}

UNIT_TEST(find_answers_at_slot_edges)
{
	struct memslot_array a = { 0 };
	struct memslot below = slot_at(LOW_IPA - PG, PG, 7);

	CHECK(memslot_find(&a, LOW_IPA) == NULL);      /* empty */
	memslot_array_insert(&a, &ram);
	memslot_array_insert(&a, &low);
	memslot_array_insert(&a, &below);              /* touches low's base */
	CHECK(memslot_find(&a, LOW_IPA - PG - 1) == NULL);
	CHECK_EQ(memslot_find(&a, LOW_IPA - PG)->id, 7);
	CHECK_EQ(memslot_find(&a, LOW_IPA - 1)->id, 7);
	CHECK_EQ(memslot_find(&a, LOW_IPA)->id, LOW_ID);
	CHECK_EQ(memslot_find(&a, LOW_IPA + 2 * PG - 1)->id, LOW_ID);
	CHECK(memslot_find(&a, LOW_IPA + 2 * PG) == NULL);
	CHECK_EQ(memslot_find(&a, RAM_IPA)->id, RAM_ID);
	CHECK_EQ(memslot_find(&a, RAM_IPA + ram.size - 1)->id, RAM_ID);
	CHECK(memslot_find(&a, RAM_IPA + ram.size) == NULL);
	CHECK(memslot_find(&a, 0) == NULL);
	CHECK(memslot_find(&a, ~0ULL) == NULL);
}

UNIT_TEST(by_id_finds_each_slot_and_nothing_else)
{
	struct memslot_array a = { 0 };

	memslot_array_insert(&a, &ram);
	memslot_array_insert(&a, &low);
	CHECK(slot_eq(memslot_by_id(&a, RAM_ID), &ram));
	CHECK(slot_eq(memslot_by_id(&a, LOW_ID), &low));
	CHECK(memslot_by_id(&a, HOT_ID) == NULL);
}

/* ------------------------------------------------------- updates */

UNIT_TEST(update_moves_an_even_generation_to_the_next_even_one)
{
	struct memslots ms;
	struct memslot_array a;

	memslots_init(&ms);
	CHECK_EQ(memslots_generation(&ms), 0);
	CHECK_EQ(snapshot(&ms).nr, 0);
	CHECK_EQ(add_slot(&ms, &ram), 0);
	CHECK_EQ(memslots_generation(&ms), 2);
	CHECK_EQ(add_slot(&ms, &low), 0);
	CHECK_EQ(memslots_generation(&ms), 4);
	a = snapshot(&ms);
	CHECK_EQ(a.nr, 2);
	CHECK(slot_eq(&a.slots[0], &low));
	CHECK(slot_eq(&a.slots[1], &ram));
}

/* What an edit callback saw of the memslots it changes. */
struct edit_view {
	struct memslots *ms;
	u64 generation;
	const struct memslot_array *readers_see;
	u32 next_nr;
};

static int edit_observe(struct memslot_array *next, void *arg)
{
	struct edit_view *v = arg;
	unsigned int token;

	v->generation = memslots_generation(v->ms);
	v->readers_see = memslots_read_begin(v->ms, &token);
	memslots_read_end(v->ms, token);
	v->next_nr = next->nr;
	return memslot_array_insert(next, &hot);
}

/* The edit runs on an unpublished copy: readers still get the current
 * array and the generation is still even. (It turns odd only just
 * before the copy is published; update_keeps_generation_odd_... shows
 * that window.) */
UNIT_TEST(edit_works_on_an_unpublished_copy_of_the_current_array)
{
	struct memslots ms;
	struct edit_view v = { .ms = &ms };
	const struct memslot_array *before;
	unsigned int token;

	two_slots(&ms);
	before = memslots_read_begin(&ms, &token);
	memslots_read_end(&ms, token);
	CHECK_EQ(memslots_update(&ms, edit_observe, &v), 0);
	CHECK_EQ(v.generation, 4);
	CHECK(v.readers_see == before);
	CHECK_EQ(v.next_nr, 2);           /* the current array, copied */
	CHECK_EQ(memslots_generation(&ms), 6);
	CHECK_EQ(snapshot(&ms).nr, 3);
}

UNIT_TEST(failed_edit_publishes_nothing_and_keeps_the_generation)
{
	struct memslots ms;
	struct memslot_array before, after;

	two_slots(&ms);
	before = snapshot(&ms);
	CHECK_EQ(memslots_update(&ms, edit_insert_then_fail, (void *)&hot), -EBUSY);
	CHECK_EQ(memslots_generation(&ms), 4);
	after = snapshot(&ms);
	CHECK(arrays_eq(&before, &after));
	/* The abandoned change does not leak into the next update. */
	CHECK_EQ(remove_slot(&ms, LOW_ID), 0);
	after = snapshot(&ms);
	CHECK_EQ(after.nr, 1);
	CHECK(slot_eq(&after.slots[0], &ram));
	/* Nor do the helpers' own refusals publish anything. */
	CHECK_EQ(add_slot(&ms, &ram), -EEXIST);
	CHECK_EQ(remove_slot(&ms, HOT_ID), -ENOENT);
	CHECK_EQ(memslots_generation(&ms), 6);
}

/*
 * An update held up by a reader in the old array: the test holds a read
 * section, a thread runs the update, and the test looks while it waits.
 */
struct inflight {
	struct memslots ms;
	const struct memslot_array *held;
	unsigned int token;
	pthread_t updater;
	bool running;   /* the updater thread exists */
	u32 returned;   /* store-release by the updater thread, load-acquire here */
};

static void *inflight_update(void *arg)
{
	struct inflight *f = arg;

	add_slot(&f->ms, &hot);
	__atomic_store_n(&f->returned, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Tries before a wait for another thread counts as failed (seconds). */
#define WAIT_TRIES 10000000UL
/* Yields that give a thread ample time to do what it must not do. */
#define LINGER_YIELDS 10000

/* Starts the update and returns once it has published (odd generation). */
static bool inflight_start(struct inflight *f)
{
	unsigned long n = 0;

	two_slots(&f->ms);
	f->returned = 0;
	f->held = memslots_read_begin(&f->ms, &f->token);
	f->running = !pthread_create(&f->updater, NULL, inflight_update, f);
	while (f->running && !(memslots_generation(&f->ms) & 1) && ++n < WAIT_TRIES)
		sched_yield();
	return memslots_generation(&f->ms) & 1;
}

static bool inflight_returned(struct inflight *f)
{
	for (int i = 0; i < LINGER_YIELDS; i++)
		sched_yield();
	return __atomic_load_n(&f->returned, __ATOMIC_ACQUIRE);
}

static void inflight_finish(struct inflight *f)
{
	memslots_read_end(&f->ms, f->token);
	if (f->running)
		pthread_join(f->updater, NULL);
}

TEST(update_keeps_generation_odd_until_old_readers_leave)
{
	struct inflight f;
	const struct memslot_array *fresh;
	unsigned int token;
	bool started = inflight_start(&f), returned_early, fresh_has_hot;
	u64 gen_during = memslots_generation(&f.ms);

	/* New readers get the new array at once, without waiting. */
	fresh = memslots_read_begin(&f.ms, &token);
	fresh_has_hot = fresh != f.held && memslot_by_id(fresh, HOT_ID);
	memslots_read_end(&f.ms, token);
	/* The update waits for us, the old reader. */
	returned_early = inflight_returned(&f);
	inflight_finish(&f);
	CHECK(started);
	CHECK_EQ(gen_during, 5);
	CHECK(fresh_has_hot);
	CHECK(!returned_early);
	CHECK_EQ(memslots_generation(&f.ms), 6);
	CHECK_EQ(f.held->nr, 2);
	CHECK(memslot_by_id(f.held, HOT_ID) == NULL);
}

/* ---------------------------------------------------------- cache */

UNIT_TEST(cache_starts_empty)
{
	struct memslots ms;
	struct memslot_cache c;

	memslots_init(&ms);
	memslot_cache_init(&c);
	CHECK(memslot_cache_get(&c, &ms, 0) == NULL);
	CHECK(memslot_cache_get(&c, &ms, DEV_IPA) == NULL);
}

UNIT_TEST(cache_fill_then_hit_under_the_same_generation)
{
	struct memslots ms;
	struct memslot_cache c;
	int dev;
	u64 gen;

	two_slots(&ms);
	memslot_cache_init(&c);
	gen = memslot_cache_begin(&ms);
	memslot_cache_fill(&c, &ms, gen, DEV_IPA, &dev);
	CHECK(memslot_cache_get(&c, &ms, DEV_IPA) == &dev);
}

/* "Stores nothing" is checked on the cache itself: a refused fill
 * leaves it byte for byte as it was. */
static bool cache_same(const struct memslot_cache *a, const struct memslot_cache *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

UNIT_TEST(cache_fill_with_an_odd_generation_stores_nothing)
{
	struct memslots ms;
	struct memslot_cache c, before;
	int dev;

	two_slots(&ms);
	memslot_cache_init(&c);
	before = c;
	memslot_cache_fill(&c, &ms, 5, DEV_IPA, &dev);
	CHECK(cache_same(&c, &before));
	CHECK(memslot_cache_get(&c, &ms, DEV_IPA) == NULL);
}

/* The real thing: begin while an update is in flight. */
TEST(cache_begun_during_an_update_stores_nothing)
{
	struct inflight f;
	struct memslot_cache c, before;
	int dev;
	u64 gen = 0;
	const void *during = NULL;
	bool started = inflight_start(&f);

	memslot_cache_init(&c);
	before = c;
	if (started) {
		gen = memslot_cache_begin(&f.ms);
		memslot_cache_fill(&c, &f.ms, gen, DEV_IPA, &dev);
		during = memslot_cache_get(&c, &f.ms, DEV_IPA);
	}
	inflight_finish(&f);
	CHECK(started);
	CHECK_EQ(gen, 5);
	CHECK(during == NULL);
	CHECK(cache_same(&c, &before));
	CHECK(memslot_cache_get(&c, &f.ms, DEV_IPA) == NULL);
}

UNIT_TEST(cache_update_between_begin_and_fill_stores_nothing)
{
	struct memslots ms;
	struct memslot_cache c, before;
	struct memslot other = slot_at(0x20000000, PG, 9);
	int dev;
	u64 gen;

	two_slots(&ms);
	memslot_cache_init(&c);
	before = c;
	gen = memslot_cache_begin(&ms);
	add_slot(&ms, &other);
	memslot_cache_fill(&c, &ms, gen, DEV_IPA, &dev);
	CHECK(cache_same(&c, &before));
	CHECK(memslot_cache_get(&c, &ms, DEV_IPA) == NULL);
}

UNIT_TEST(cache_hit_becomes_a_miss_after_any_update)
{
	struct memslots ms;
	struct memslot_cache c;
	u32 id = RAM_ID;
	int dev;

	two_slots(&ms);
	memslot_cache_init(&c);
	memslot_cache_fill(&c, &ms, memslot_cache_begin(&ms), DEV_IPA, &dev);
	/* A failed update changed nothing: still a hit. */
	CHECK_EQ(remove_slot(&ms, HOT_ID), -ENOENT);
	CHECK(memslot_cache_get(&c, &ms, DEV_IPA) == &dev);
	/* A flag change on an unrelated slot is an update all the same. */
	CHECK_EQ(memslots_update(&ms, edit_log_dirty, &id), 0);
	CHECK(memslot_cache_get(&c, &ms, DEV_IPA) == NULL);
}

UNIT_TEST(cache_is_keyed_by_ipa_page)
{
	struct memslots ms;
	struct memslot_cache c;
	int dev;

	two_slots(&ms);
	memslot_cache_init(&c);
	memslot_cache_fill(&c, &ms, memslot_cache_begin(&ms), DEV_IPA + 0x234, &dev);
	CHECK(memslot_cache_get(&c, &ms, DEV_IPA) == &dev);
	CHECK(memslot_cache_get(&c, &ms, DEV_IPA + PG - 1) == &dev);
	CHECK(memslot_cache_get(&c, &ms, DEV_IPA + PG) == NULL);
	CHECK(memslot_cache_get(&c, &ms, DEV_IPA - 1) == NULL);
}

/* ---------------------------------------------------- mmio_lookup */

UNIT_TEST(mmio_lookup_finds_the_device_holding_the_ipa)
{
	struct memslots ms;
	struct memslot_cache c;
	struct mmio_region dev[2];

	two_slots(&ms);
	memslot_cache_init(&c);
	init_devices(dev);
	CHECK(mmio_lookup(&c, &ms, dev, 2, DEV_IPA) == &dev[0]);
	CHECK(mmio_lookup(&c, &ms, dev, 2, DEV_IPA + DEV_SIZE - 1) == &dev[0]);
	CHECK(mmio_lookup(&c, &ms, dev, 2, DEV_IPA + DEV_SIZE) == &dev[1]);
	CHECK(mmio_lookup(&c, &ms, dev, 2, DEV_IPA + 2 * DEV_SIZE) == NULL);
	CHECK(mmio_lookup(&c, &ms, dev, 2, DEV_IPA - 1) == NULL);
}

UNIT_TEST(mmio_lookup_hit_is_answered_without_searching)
{
	struct memslots ms;
	struct memslot_cache c;
	struct mmio_region dev[2];

	two_slots(&ms);
	memslot_cache_init(&c);
	init_devices(dev);
	CHECK(mmio_lookup(&c, &ms, dev, 2, DEV_IPA + 8) == &dev[0]);
	/* No regions to search: only the cache can answer. */
	CHECK(mmio_lookup(&c, &ms, NULL, 0, DEV_IPA + 16) == &dev[0]);
}

/* Two devices in one page: the page's cached device is not the answer
 * for the other one. */
UNIT_TEST(mmio_lookup_tells_apart_devices_sharing_a_page)
{
	struct memslots ms;
	struct memslot_cache c;
	struct mmio_region dev[2];

	two_slots(&ms);
	memslot_cache_init(&c);
	init_devices(dev);
	CHECK(mmio_lookup(&c, &ms, dev, 2, DEV_IPA) == &dev[0]);
	CHECK(mmio_lookup(&c, &ms, dev, 2, DEV_IPA + DEV_SIZE) == &dev[1]);
	CHECK(mmio_lookup(&c, &ms, dev, 2, DEV_IPA) == &dev[0]);
}

UNIT_TEST(mmio_lookup_inside_a_memslot_is_null_and_not_cached)
{
	struct memslots ms;
	struct memslot_cache c;
	struct mmio_region dev[2];

	two_slots(&ms);
	add_slot(&ms, &hot);
	memslot_cache_init(&c);
	init_devices(dev);
	CHECK(mmio_lookup(&c, &ms, dev, 2, DEV_IPA) == NULL);
	CHECK(memslot_cache_get(&c, &ms, DEV_IPA) == NULL);
	CHECK(mmio_lookup(&c, &ms, dev, 2, RAM_IPA) == NULL);
}

UNIT_TEST(mmio_lookup_follows_a_slot_coming_and_going)
{
	struct memslots ms;
	struct memslot_cache c;
	struct mmio_region dev[2];

	two_slots(&ms);
	memslot_cache_init(&c);
	init_devices(dev);
	CHECK(mmio_lookup(&c, &ms, dev, 2, DEV_IPA) == &dev[0]);   /* cached */
	add_slot(&ms, &hot);
	CHECK(mmio_lookup(&c, &ms, dev, 2, DEV_IPA) == NULL);
	remove_slot(&ms, HOT_ID);
	CHECK(mmio_lookup(&c, &ms, dev, 2, DEV_IPA) == &dev[0]);
}

/*
 * KVM's stale MMIO generation (seeds/004), step by step: a vCPU decodes
 * a fault as MMIO, and a slot is added over the IPA before it caches
 * the answer. The decode here is mmio_lookup()'s miss path, cut open so
 * the update can land in the middle.
 */
UNIT_TEST(seed_race_slot_added_during_decode_is_not_cached_as_mmio)
{
	struct memslots ms;
	struct memslot_cache c, buggy;
	struct mmio_region dev[2];
	const struct memslot_array *a;
	const struct mmio_region *answer;
	unsigned int token;
	u64 gen, gen_after;
	bool in_slot;

	two_slots(&ms);
	memslot_cache_init(&c);
	memslot_cache_init(&buggy);
	init_devices(dev);

	gen = memslot_cache_begin(&ms);           /* before the lookup */
	a = memslots_read_begin(&ms, &token);
	in_slot = memslot_find(a, DEV_IPA) != NULL;
	memslots_read_end(&ms, token);
	CHECK(!in_slot);
	answer = &dev[0];                         /* decoded: a device */

	CHECK_EQ(add_slot(&ms, &hot), 0);         /* the race: now it is RAM */

	memslot_cache_fill(&c, &ms, gen, DEV_IPA, answer);
	CHECK_EQ(c.generation, ~0ULL);            /* still empty */
	CHECK(memslot_cache_get(&c, &ms, DEV_IPA) == NULL);
	CHECK(mmio_lookup(&c, &ms, dev, 2, DEV_IPA) == NULL);

	/*
	 * Contrast, not production code: the order KVM had, the generation
	 * read after the lookup. It reads the new generation, the fill
	 * accepts it, and the stale device answer is served for good:
	 * nothing moves the generation again until the next slot change.
	 */
	gen_after = memslot_cache_begin(&ms);
	memslot_cache_fill(&buggy, &ms, gen_after, DEV_IPA, answer);
	CHECK(memslot_cache_get(&buggy, &ms, DEV_IPA) == answer);
	CHECK(mmio_lookup(&buggy, &ms, dev, 2, DEV_IPA) == answer);
}

/* ------------------------------------------------------ the race */

#ifdef MEMSLOT_RACES_ONLY
#define RACE_UPDATES 300
#else
#define RACE_UPDATES 1000
#endif
#define RACE_READERS 2

/* The hot slot's state, in race.phase modulo 4. The updater moves it
 * (store-release) before and after each update; a reader that loads
 * (acquire) the same value before and after a lookup knows that no
 * update published anything the lookup could see, other than the one
 * the phase says has returned. */
enum hot_phase { HOT_ABSENT, HOT_ADDING, HOT_PRESENT, HOT_REMOVING };

static struct {
	struct memslots ms;
	struct mmio_region dev[2];
	u32 phase;
	u32 done;        /* store-release by the updater, load-acquire by readers */
} race;

struct race_reader {
	struct memslot_cache cache;
	pthread_t thread;
	unsigned long torn, stale_device, device_missed, slot_missed, slot_stale;
	unsigned long present_checks, absent_checks, hits;
};

/* Sorted, non-overlapping, RAM and low present, every slot a known one. */
static bool array_sound(const struct memslot_array *a)
{
	static const struct memslot *known[] = { &ram, &low, &hot };
	unsigned int seen = 0;

	if (a->nr < 2 || a->nr > 3)
		return false;
	for (u32 i = 0; i < a->nr; i++) {
		unsigned int k = 0;

		while (k < 3 && !slot_eq(&a->slots[i], known[k]))
			k++;
		if (k == 3 || (seen & (1u << k)))
			return false;
		seen |= 1u << k;
		if (i && a->slots[i - 1].ipa + a->slots[i - 1].size > a->slots[i].ipa)
			return false;
	}
	return (seen & 3) == 3;
}

static void *race_reader(void *arg)
{
	struct race_reader *r = arg;

	for (unsigned long n = 0; !__atomic_load_n(&race.done, __ATOMIC_ACQUIRE); n++) {
		const struct mmio_region *want = &race.dev[n & 1];
		u64 ipa = want->base + (n & (DEV_SIZE - 8));
		u32 before = __atomic_load_n(&race.phase, __ATOMIC_ACQUIRE), after;
		const struct memslot_array *a;
		const struct mmio_region *got;
		unsigned int token;
		bool sound, in_slot;

		a = memslots_read_begin(&race.ms, &token);
		sound = array_sound(a);
		in_slot = memslot_find(a, ipa) != NULL;
		memslots_read_end(&race.ms, token);
		if (memslot_cache_get(&r->cache, &race.ms, ipa))
			r->hits++;
		got = mmio_lookup(&r->cache, &race.ms, race.dev, 2, ipa);
		after = __atomic_load_n(&race.phase, __ATOMIC_ACQUIRE);

		r->torn += !sound;
		if (before != after)
			continue;
		if (before % 4 == HOT_PRESENT) {
			r->present_checks++;
			r->stale_device += got != NULL;
			r->slot_missed += !in_slot;
		} else if (before % 4 == HOT_ABSENT) {
			r->absent_checks++;
			r->device_missed += got != want;
			r->slot_stale += in_slot;
		}
	}
	return NULL;
}

static void set_phase(u32 phase)
{
	/* Release: pairs with the readers' acquires. For HOT_PRESENT and
	 * HOT_ABSENT, the update that just returned happens before any
	 * lookup that starts after a reader saw this value. */
	__atomic_store_n(&race.phase, phase, __ATOMIC_RELEASE);
	sched_yield();   /* let readers look in every phase */
}

/* Readers look up the device page while the updater adds and removes
 * the hot slot over it, and sometimes fails an update. */
TEST(race_readers_see_whole_arrays_and_no_device_once_the_slot_is_in)
{
	struct race_reader readers[RACE_READERS] = { 0 };
	unsigned long torn = 0, stale = 0, missed = 0, present = 0, absent = 0, hits = 0;
	int failed_updates = 0;

	two_slots(&race.ms);
	init_devices(race.dev);
	race.phase = 0;
	race.done = 0;
	for (int i = 0; i < RACE_READERS; i++) {
		memslot_cache_init(&readers[i].cache);
		pthread_create(&readers[i].thread, NULL, race_reader, &readers[i]);
	}
	for (u32 i = 0; i < RACE_UPDATES; i++) {
		set_phase(4 * i + HOT_ADDING);
		failed_updates += add_slot(&race.ms, &hot) != 0;
		set_phase(4 * i + HOT_PRESENT);
		if (i % 8 == 0)   /* refused: publishes nothing */
			failed_updates += add_slot(&race.ms, &hot) != -EEXIST;
		set_phase(4 * i + HOT_REMOVING);
		failed_updates += remove_slot(&race.ms, HOT_ID) != 0;
		set_phase(4 * i + 4 + HOT_ABSENT);
	}
	__atomic_store_n(&race.done, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < RACE_READERS; i++) {
		struct race_reader *r = &readers[i];

		pthread_join(r->thread, NULL);
		torn += r->torn;
		stale += r->stale_device + r->slot_stale;
		missed += r->device_missed + r->slot_missed;
		present += r->present_checks;
		absent += r->absent_checks;
		hits += r->hits;
	}
	CHECK_EQ(failed_updates, 0);
	CHECK_EQ(memslots_generation(&race.ms), 4 + 4ULL * RACE_UPDATES);
	CHECK_EQ(torn, 0);
	CHECK_EQ(stale, 0);
	CHECK_EQ(missed, 0);
	/* Not vacuous: both phases were checked, and the cache answered. */
	CHECK(present > 0);
	CHECK(absent > 0);
	CHECK(hits > 0);
}
