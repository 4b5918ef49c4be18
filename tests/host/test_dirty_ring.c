/*
 * Dirty rings (mm/dirty_ring.c) on one thread: init checks, the order
 * of push, collect and the two-step reset, the soft limit and reserve,
 * wrap-around of the free-running u32 indices, and a "guest" that writes
 * any flag values into the shared entries. The threaded hand-over runs
 * under ThreadSanitizer in test_dirty_ring_tsan.c.
 */
#include <stdlib.h>

#include "lib/errno.h"
#include "mm/dirty_ring.h"
#include "tests/host/test.h"

#define RING_SIZE 8
#define RING_RESERVE 2                           /* soft limit 6 */
#define NEAR_WRAP (0xffffffffu - RING_SIZE / 2)  /* indices wrap soon */
#define FETCH_CANARY 0xfeedfaceu              /* flags no step writes */

/* A ring over its own zeroed entries, every index set to @start. */
struct test_ring {
	struct dirty_ring ring;
	struct dirty_gfn gfns[RING_SIZE];
};

static int ring_setup(struct test_ring *t, u32 reserve, u32 start)
{
	int ret;

	memset(t, 0, sizeof(*t));
	ret = dirty_ring_init(&t->ring, t->gfns, RING_SIZE, reserve);
	t->ring.dirty_index = start;
	t->ring.reset_index = start;
	t->ring.fetch_index = start;
	return ret;
}

static struct dirty_gfn *entry_of(struct test_ring *t, u32 index)
{
	return &t->gfns[index & (RING_SIZE - 1)];
}

/* Pushes @n entries {slot i % 3, offset first + i}; returns the last result. */
static enum dirty_ring_push push_n(struct test_ring *t, u64 first, u32 n)
{
	enum dirty_ring_push r = DIRTY_RING_PUSHED;

	for (u32 i = 0; i < n; i++)
		r = dirty_ring_push(&t->ring, i % 3, first + i);
	return r;
}

/* Collects, fetches for re-protection and frees everything collectable;
 * returns the count. */
static u32 drain(struct test_ring *t)
{
	struct dirty_gfn out[RING_SIZE];
	u32 got = dirty_ring_collect(&t->ring, out, RING_SIZE);

	dirty_ring_reset_finish(&t->ring,
				dirty_ring_reset_fetch(&t->ring, 0, out, RING_SIZE));
	return got;
}

/* The index invariants mm/dirty_ring.c keeps, whatever a guest writes. */
static bool used_sane(const struct dirty_ring *r)
{
	return r->dirty_index - r->reset_index <= r->size;
}

/* ... and, after a collect, reset_index <= fetch_index <= dirty_index. */
static bool indices_sane(const struct dirty_ring *r)
{
	return used_sane(r) &&
	       r->fetch_index - r->reset_index <= r->dirty_index - r->reset_index;
}

/* ---------------------------------------------------------------- init */

TEST(init_rejects_sizes_that_are_not_powers_of_two)
{
	static const u32 sizes[] = { 0, 3, 6, 12, 0x80000001u, 0xffffffffu };
	struct dirty_gfn g[1];
	struct dirty_ring r;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		CHECK_EQ(dirty_ring_init(&r, g, sizes[i], 0), -EINVAL);
}

TEST(init_rejects_a_reserve_that_leaves_no_room_below_the_soft_limit)
{
	struct dirty_gfn g[RING_SIZE];
	struct dirty_ring r;

	CHECK_EQ(dirty_ring_init(&r, g, RING_SIZE, RING_SIZE), -EINVAL);
	CHECK_EQ(dirty_ring_init(&r, g, RING_SIZE, RING_SIZE + 1), -EINVAL);
	CHECK_EQ(dirty_ring_init(&r, g, 1, 1), -EINVAL);
	CHECK_EQ(dirty_ring_init(&r, g, RING_SIZE, RING_SIZE - 1), 0);
	CHECK_EQ(r.soft_limit, 1);
}

TEST(init_sets_the_soft_limit_below_the_reserve_and_an_empty_ring)
{
	struct test_ring t;

	memset(&t.ring, 0xa5, sizeof(t.ring));
	CHECK_EQ(dirty_ring_init(&t.ring, t.gfns, RING_SIZE, RING_RESERVE), 0);
	CHECK(t.ring.gfns == t.gfns);
	CHECK_EQ(t.ring.size, RING_SIZE);
	CHECK_EQ(t.ring.soft_limit, RING_SIZE - RING_RESERVE);
	CHECK_EQ(t.ring.dirty_index, 0);
	CHECK_EQ(t.ring.reset_index, 0);
	CHECK_EQ(t.ring.fetch_index, 0);
	CHECK_EQ(dirty_ring_used(&t.ring), 0);
	CHECK(!dirty_ring_soft_full(&t.ring));
}

TEST(init_accepts_a_one_entry_ring)
{
	struct dirty_gfn g[1] = { { 0 } };
	struct dirty_ring r;

	CHECK_EQ(dirty_ring_init(&r, g, 1, 0), 0);
	CHECK_EQ(dirty_ring_push(&r, 1, 2), DIRTY_RING_SOFT_FULL);
	CHECK_EQ(dirty_ring_push(&r, 1, 3), DIRTY_RING_FULL);
	CHECK_EQ(g[0].offset, 2);
}

/* ----------------------------------------------- push, collect, reset */

TEST(push_writes_slot_and_offset_and_publishes_dirty)
{
	struct test_ring t;

	CHECK_EQ(ring_setup(&t, RING_RESERVE, 0), 0);
	CHECK_EQ(dirty_ring_push(&t.ring, 7, 0x123456789ull), DIRTY_RING_PUSHED);
	CHECK_EQ(t.gfns[0].flags, DIRTY_GFN_F_DIRTY);
	CHECK_EQ(t.gfns[0].slot, 7);
	CHECK_EQ(t.gfns[0].offset, 0x123456789ull);
	CHECK_EQ(t.gfns[1].flags, 0);
	CHECK_EQ(t.ring.dirty_index, 1);
	CHECK_EQ(dirty_ring_used(&t.ring), 1);
}

TEST(collect_copies_dirty_entries_in_order_and_marks_them_reset)
{
	struct test_ring t;
	struct dirty_gfn out[RING_SIZE];

	CHECK_EQ(ring_setup(&t, RING_RESERVE, 0), 0);
	push_n(&t, 100, 3);
	CHECK_EQ(dirty_ring_collect(&t.ring, out, RING_SIZE), 3);
	for (u32 i = 0; i < 3; i++) {
		CHECK_EQ(out[i].flags, DIRTY_GFN_F_DIRTY);
		CHECK_EQ(out[i].slot, i % 3);
		CHECK_EQ(out[i].offset, 100 + i);
		CHECK_EQ(t.gfns[i].flags, DIRTY_GFN_F_RESET);
	}
	CHECK_EQ(t.ring.fetch_index, 3);
	/* Collected is still in use until the reset frees it. */
	CHECK_EQ(dirty_ring_used(&t.ring), 3);
	CHECK_EQ(dirty_ring_collect(&t.ring, out, RING_SIZE), 0);
}

TEST(collect_stops_at_max_and_resumes_where_it_stopped)
{
	struct test_ring t;
	struct dirty_gfn out[RING_SIZE];

	CHECK_EQ(ring_setup(&t, RING_RESERVE, 0), 0);
	push_n(&t, 0, 5);
	CHECK_EQ(dirty_ring_collect(&t.ring, out, 0), 0);
	CHECK_EQ(dirty_ring_collect(&t.ring, out, 2), 2);
	CHECK_EQ(t.gfns[2].flags, DIRTY_GFN_F_DIRTY);
	CHECK_EQ(dirty_ring_collect(&t.ring, out, RING_SIZE), 3);
	CHECK_EQ(out[0].offset, 2);
	CHECK_EQ(out[2].offset, 4);
}

TEST(collect_writes_no_more_than_max_entries_out)
{
	struct test_ring t;
	struct dirty_gfn *out;
	u32 n;

	CHECK_EQ(ring_setup(&t, RING_RESERVE, 0), 0);
	push_n(&t, 0, 6);
	out = malloc(2 * sizeof(*out));   /* ASan: exactly max entries */
	CHECK(out);
	n = dirty_ring_collect(&t.ring, out, 2);
	free(out);
	CHECK_EQ(n, 2);
}

TEST(reset_fetch_copies_reset_entries_in_order_without_freeing)
{
	struct test_ring t;
	struct dirty_gfn out[RING_SIZE];

	CHECK_EQ(ring_setup(&t, RING_RESERVE, 0), 0);
	push_n(&t, 40, 4);
	CHECK_EQ(dirty_ring_collect(&t.ring, out, RING_SIZE), 4);
	memset(out, 0, sizeof(out));
	CHECK_EQ(dirty_ring_reset_fetch(&t.ring, 0, out, RING_SIZE), 4);
	for (u32 i = 0; i < 4; i++) {
		CHECK_EQ(out[i].flags, DIRTY_GFN_F_RESET);
		CHECK_EQ(out[i].slot, i % 3);
		CHECK_EQ(out[i].offset, 40 + i);
		CHECK_EQ(t.gfns[i].flags, DIRTY_GFN_F_RESET);
	}
	CHECK_EQ(t.ring.reset_index, 0);
	CHECK_EQ(dirty_ring_used(&t.ring), 4);
}

TEST(reset_finish_frees_the_entries_and_moves_the_reset_index)
{
	struct test_ring t;
	struct dirty_gfn out[RING_SIZE];
	u32 n;

	CHECK_EQ(ring_setup(&t, RING_RESERVE, 0), 0);
	push_n(&t, 0, 4);
	CHECK_EQ(dirty_ring_collect(&t.ring, out, RING_SIZE), 4);
	n = dirty_ring_reset_fetch(&t.ring, 0, out, RING_SIZE);
	CHECK_EQ(n, 4);
	dirty_ring_reset_finish(&t.ring, n);
	for (u32 i = 0; i < 4; i++)
		CHECK_EQ(t.gfns[i].flags, 0);
	CHECK_EQ(t.ring.reset_index, 4);
	CHECK_EQ(dirty_ring_used(&t.ring), 0);
}

TEST(reset_fetch_stops_at_the_first_entry_not_yet_collected)
{
	struct test_ring t;
	struct dirty_gfn out[RING_SIZE];

	CHECK_EQ(ring_setup(&t, RING_RESERVE, 0), 0);
	push_n(&t, 0, 5);
	CHECK_EQ(dirty_ring_collect(&t.ring, out, 2), 2);
	CHECK_EQ(dirty_ring_reset_fetch(&t.ring, 0, out, RING_SIZE), 2);
	CHECK_EQ(dirty_ring_reset_fetch(&t.ring, 2, out, RING_SIZE), 0);
}

TEST(reset_fetch_is_bounded_by_max)
{
	struct test_ring t;
	struct dirty_gfn out[RING_SIZE];
	u32 n;

	CHECK_EQ(ring_setup(&t, RING_RESERVE, 0), 0);
	push_n(&t, 10, 6);
	CHECK_EQ(dirty_ring_collect(&t.ring, out, RING_SIZE), 6);
	CHECK_EQ(dirty_ring_reset_fetch(&t.ring, 0, out, 0), 0);
	n = dirty_ring_reset_fetch(&t.ring, 0, out, 4);
	CHECK_EQ(n, 4);
	dirty_ring_reset_finish(&t.ring, n);
	CHECK_EQ(t.gfns[4].flags, DIRTY_GFN_F_RESET);
	CHECK_EQ(dirty_ring_reset_fetch(&t.ring, 0, out, RING_SIZE), 2);
	CHECK_EQ(out[0].offset, 14);
	CHECK_EQ(out[1].offset, 15);
}

TEST(reset_fetch_writes_no_more_than_max_entries_out)
{
	struct test_ring t;
	struct dirty_gfn ring_out[RING_SIZE];
	struct dirty_gfn *out;
	u32 n;

	CHECK_EQ(ring_setup(&t, RING_RESERVE, 0), 0);
	push_n(&t, 0, 6);
	CHECK_EQ(dirty_ring_collect(&t.ring, ring_out, RING_SIZE), 6);
	out = malloc(2 * sizeof(*out));   /* ASan: exactly max entries */
	CHECK(out);
	n = dirty_ring_reset_fetch(&t.ring, 0, out, 2);
	free(out);
	CHECK_EQ(n, 2);
}

TEST(reset_fetches_from_an_offset_continue_one_reset_in_order)
{
	struct test_ring t;
	struct dirty_gfn out[RING_SIZE];
	u32 n = 0, got;

	CHECK_EQ(ring_setup(&t, RING_RESERVE, NEAR_WRAP), 0);
	push_n(&t, 20, 7);
	CHECK_EQ(dirty_ring_collect(&t.ring, out, RING_SIZE), 7);
	/* Pieces of 3, 3 and 1 (across the u32 wrap), then nothing more. */
	while ((got = dirty_ring_reset_fetch(&t.ring, n, out, 3)) != 0) {
		for (u32 i = 0; i < got; i++)
			CHECK_EQ(out[i].offset, 20 + n + i);
		n += got;
	}
	CHECK_EQ(n, 7);
	CHECK_EQ(t.ring.reset_index, NEAR_WRAP);   /* nothing freed yet */
	CHECK_EQ(dirty_ring_reset_fetch(&t.ring, RING_SIZE, out, RING_SIZE), 0);
	dirty_ring_reset_finish(&t.ring, n);
	CHECK_EQ(dirty_ring_used(&t.ring), 0);
	CHECK(indices_sane(&t.ring));
}

/* --------------------------------------------------- limits and wrap */

TEST(soft_limit_is_reported_from_the_push_that_reaches_it)
{
	struct test_ring t;

	CHECK_EQ(ring_setup(&t, RING_RESERVE, 0), 0);
	CHECK_EQ(push_n(&t, 0, RING_SIZE - RING_RESERVE - 1), DIRTY_RING_PUSHED);
	CHECK(!dirty_ring_soft_full(&t.ring));
	CHECK_EQ(dirty_ring_push(&t.ring, 0, 99), DIRTY_RING_SOFT_FULL);
	CHECK(dirty_ring_soft_full(&t.ring));
	CHECK_EQ(dirty_ring_used(&t.ring), RING_SIZE - RING_RESERVE);
}

TEST(reserve_entries_are_published_above_the_soft_limit_until_full)
{
	struct test_ring t;

	CHECK_EQ(ring_setup(&t, RING_RESERVE, 0), 0);
	push_n(&t, 0, RING_SIZE - RING_RESERVE);
	for (u32 i = 0; i < RING_RESERVE; i++) {
		CHECK_EQ(dirty_ring_push(&t.ring, 5, 500 + i), DIRTY_RING_SOFT_FULL);
		CHECK_EQ(entry_of(&t, RING_SIZE - RING_RESERVE + i)->offset, 500 + i);
	}
	CHECK_EQ(dirty_ring_used(&t.ring), RING_SIZE);
	CHECK_EQ(dirty_ring_push(&t.ring, 5, 999), DIRTY_RING_FULL);
	CHECK(dirty_ring_soft_full(&t.ring));
}

TEST(no_reserve_makes_the_soft_limit_the_last_entry)
{
	struct test_ring t;

	CHECK_EQ(ring_setup(&t, 0, 0), 0);
	CHECK_EQ(push_n(&t, 0, RING_SIZE - 1), DIRTY_RING_PUSHED);
	CHECK_EQ(dirty_ring_push(&t.ring, 0, 7), DIRTY_RING_SOFT_FULL);
	CHECK_EQ(dirty_ring_push(&t.ring, 0, 8), DIRTY_RING_FULL);
}

TEST(full_ring_never_overwrites_an_entry)
{
	struct test_ring t;
	struct dirty_gfn before[RING_SIZE];
	struct dirty_gfn out[RING_SIZE];

	CHECK_EQ(ring_setup(&t, RING_RESERVE, 0), 0);
	push_n(&t, 0, RING_SIZE);
	memcpy(before, t.gfns, sizeof(before));
	for (u32 i = 0; i < 3 * RING_SIZE; i++)
		CHECK_EQ(dirty_ring_push(&t.ring, 9, 1000 + i), DIRTY_RING_FULL);
	CHECK(memcmp(before, t.gfns, sizeof(before)) == 0);
	CHECK_EQ(t.ring.dirty_index, RING_SIZE);
	/* Collected but not yet reset is still full. */
	CHECK_EQ(dirty_ring_collect(&t.ring, out, RING_SIZE), RING_SIZE);
	CHECK_EQ(dirty_ring_push(&t.ring, 9, 1), DIRTY_RING_FULL);
	CHECK_EQ(dirty_ring_collect(&t.ring, out, RING_SIZE), 0);
}

TEST(reset_makes_room_and_clears_the_soft_limit)
{
	struct test_ring t;

	CHECK_EQ(ring_setup(&t, RING_RESERVE, 0), 0);
	push_n(&t, 0, RING_SIZE);
	CHECK_EQ(drain(&t), RING_SIZE);
	CHECK(!dirty_ring_soft_full(&t.ring));
	CHECK_EQ(dirty_ring_used(&t.ring), 0);
	CHECK_EQ(dirty_ring_push(&t.ring, 1, 2), DIRTY_RING_PUSHED);
	CHECK_EQ(t.gfns[0].offset, 2);
}

TEST(indices_wrap_around_u32_without_losing_order)
{
	struct test_ring t;
	struct dirty_gfn out[RING_SIZE];
	u64 pushed = 0, collected = 0, reset = 0;

	CHECK_EQ(ring_setup(&t, RING_RESERVE, NEAR_WRAP), 0);
	/* Several laps of the ring, with the u32 indices wrapping on the way. */
	for (u32 lap = 0; lap < 4; lap++) {
		while (dirty_ring_push(&t.ring, 3, pushed) != DIRTY_RING_FULL)
			pushed++;
		CHECK_EQ(dirty_ring_used(&t.ring), RING_SIZE);
		CHECK(dirty_ring_soft_full(&t.ring));
		/* Collect in three pieces, reset in three (freeing each). */
		for (u32 got; (got = dirty_ring_collect(&t.ring, out, 3)) != 0;) {
			for (u32 i = 0; i < got; i++)
				CHECK_EQ(out[i].offset, collected++);
		}
		for (u32 n; (n = dirty_ring_reset_fetch(&t.ring, 0, out, 3)) != 0;) {
			for (u32 i = 0; i < n; i++)
				CHECK_EQ(out[i].offset, reset++);
			dirty_ring_reset_finish(&t.ring, n);
		}
		CHECK_EQ(dirty_ring_used(&t.ring), 0);
	}
	CHECK_EQ(collected, pushed);
	CHECK_EQ(reset, pushed);
	CHECK_EQ(pushed, 4 * RING_SIZE);
	CHECK(t.ring.dirty_index < NEAR_WRAP);   /* it did wrap */
	CHECK_EQ(t.ring.dirty_index, (u32)(NEAR_WRAP + 4 * RING_SIZE));
}

TEST(used_counts_across_the_wrap_of_the_indices)
{
	struct test_ring t;

	CHECK_EQ(ring_setup(&t, RING_RESERVE, 0xffffffffu), 0);
	CHECK_EQ(push_n(&t, 0, 3), DIRTY_RING_PUSHED);
	CHECK_EQ(t.ring.dirty_index, 2);
	CHECK_EQ(dirty_ring_used(&t.ring), 3);
	CHECK_EQ(entry_of(&t, 0xffffffffu)->offset, 0);
	CHECK_EQ(entry_of(&t, 0)->offset, 1);
}

/* ------------------------------------------------ a misbehaving guest */

/* Flag values a guest might write, valid and not. */
static const u32 garbage_flags[] = {
	0, DIRTY_GFN_F_DIRTY, DIRTY_GFN_F_RESET,
	DIRTY_GFN_F_DIRTY | DIRTY_GFN_F_RESET, 4, 0x80000000u, 0xffffffffu,
};
#define NR_GARBAGE (sizeof(garbage_flags) / sizeof(garbage_flags[0]))

TEST(guest_flag_other_than_dirty_stops_collect)
{
	struct test_ring t;
	struct dirty_gfn out[RING_SIZE];

	for (size_t g = 0; g < NR_GARBAGE; g++) {
		if (garbage_flags[g] == DIRTY_GFN_F_DIRTY)
			continue;
		CHECK_EQ(ring_setup(&t, RING_RESERVE, 0), 0);
		push_n(&t, 0, 4);
		t.gfns[2].flags = garbage_flags[g];
		CHECK_EQ(dirty_ring_collect(&t.ring, out, RING_SIZE), 2);
		CHECK_EQ(t.ring.fetch_index, 2);
		CHECK_EQ(t.gfns[2].flags, garbage_flags[g]);   /* left alone */
	}
}

TEST(guest_flag_other_than_reset_stops_reset_fetch)
{
	struct test_ring t;
	struct dirty_gfn out[RING_SIZE];

	for (size_t g = 0; g < NR_GARBAGE; g++) {
		if (garbage_flags[g] == DIRTY_GFN_F_RESET)
			continue;
		CHECK_EQ(ring_setup(&t, RING_RESERVE, 0), 0);
		push_n(&t, 0, 4);
		CHECK_EQ(dirty_ring_collect(&t.ring, out, RING_SIZE), 4);
		t.gfns[1].flags = garbage_flags[g];
		CHECK_EQ(dirty_ring_reset_fetch(&t.ring, 0, out, RING_SIZE), 1);
		CHECK_EQ(out[0].offset, 0);
		CHECK_EQ(t.gfns[1].flags, garbage_flags[g]);   /* left alone */
	}
}

TEST(guest_marks_on_free_entries_are_never_collected_or_reset)
{
	struct test_ring t;
	struct dirty_gfn out[RING_SIZE];

	for (size_t g = 0; g < NR_GARBAGE; g++) {
		CHECK_EQ(ring_setup(&t, RING_RESERVE, NEAR_WRAP), 0);
		push_n(&t, 0, 2);
		/* Every free entry scribbled, the next one to fill included. */
		for (u32 i = 2; i < RING_SIZE; i++)
			entry_of(&t, NEAR_WRAP + i)->flags = garbage_flags[g];
		CHECK_EQ(dirty_ring_collect(&t.ring, out, RING_SIZE), 2);
		CHECK_EQ(t.ring.fetch_index, NEAR_WRAP + 2);
		CHECK_EQ(dirty_ring_reset_fetch(&t.ring, 0, out, RING_SIZE), 2);
		/* A later fetch of the same reset stops at dirty_index too. */
		CHECK_EQ(dirty_ring_reset_fetch(&t.ring, 2, out, RING_SIZE), 0);
		dirty_ring_reset_finish(&t.ring, 2);
		CHECK_EQ(t.ring.reset_index, NEAR_WRAP + 2);
		CHECK_EQ(dirty_ring_used(&t.ring), 0);
		CHECK(indices_sane(&t.ring));
	}
}

TEST(guest_write_into_the_next_free_entry_makes_push_refuse_not_overwrite)
{
	struct test_ring t;

	CHECK_EQ(ring_setup(&t, RING_RESERVE, 0), 0);
	push_n(&t, 0, 1);
	t.gfns[1].flags = 3;
	t.gfns[1].offset = 0xbad;
	CHECK_EQ(dirty_ring_push(&t.ring, 1, 42), DIRTY_RING_FULL);
	CHECK_EQ(t.gfns[1].flags, 3);
	CHECK_EQ(t.gfns[1].offset, 0xbad);
	CHECK_EQ(t.ring.dirty_index, 1);
	/* Once the guest puts it back, the ring goes on. */
	t.gfns[1].flags = 0;
	CHECK_EQ(dirty_ring_push(&t.ring, 1, 42), DIRTY_RING_PUSHED);
	CHECK_EQ(t.gfns[1].offset, 42);
}

TEST(guest_resetting_ahead_of_the_consumer_makes_collect_catch_up)
{
	struct test_ring t;
	struct dirty_gfn out[RING_SIZE];
	u32 n;

	CHECK_EQ(ring_setup(&t, RING_RESERVE, NEAR_WRAP), 0);
	push_n(&t, 0, 6);
	CHECK_EQ(dirty_ring_collect(&t.ring, out, 1), 1);
	/* The guest marks every entry in use RESET, uncollected ones too. */
	for (u32 i = 0; i < 6; i++)
		entry_of(&t, NEAR_WRAP + i)->flags = DIRTY_GFN_F_RESET;
	n = dirty_ring_reset_fetch(&t.ring, 0, out, RING_SIZE);
	CHECK_EQ(n, 6);           /* not past what was pushed */
	dirty_ring_reset_finish(&t.ring, n);
	CHECK_EQ(dirty_ring_used(&t.ring), 0);
	/* fetch_index is behind reset_index now; new entries still arrive. */
	CHECK_EQ(push_n(&t, 100, 3), DIRTY_RING_PUSHED);
	CHECK_EQ(dirty_ring_collect(&t.ring, out, RING_SIZE), 3);
	CHECK_EQ(out[0].offset, 100);
	CHECK_EQ(out[2].offset, 102);
	CHECK(indices_sane(&t.ring));
}

/* Deterministic pseudo-random numbers (xorshift32) for the fuzz loop. */
static u32 next_random(u32 *state)
{
	u32 x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

#define FUZZ_ROUNDS 200
#define FUZZ_STEPS 2000     /* per round, from an empty ring */
#define FUZZ_MAX 12         /* max argument range: above the ring size too */
#define FUZZ_OUT (FUZZ_MAX + 1)   /* room for a canary after max entries */
#define FUZZ_SCRIBBLE 32    /* one step in this many is the guest's */

/*
 * Random pushes, collects and resets from indices at @start, and a guest
 * writing random flags into random entries. Sets *@wrapped if the u32
 * indices wrapped on the way (garbage can stall the ring for good).
 */
static void fuzz_round(u32 *rnd, u32 start, bool *wrapped)
{
	struct test_ring t;
	struct dirty_gfn out[FUZZ_OUT];
	u32 fetched = 0;   /* by the fetches of the reset under way */

	CHECK_EQ(ring_setup(&t, RING_RESERVE, start), 0);
	for (u32 step = 0; step < FUZZ_STEPS; step++) {
		u32 r = next_random(rnd);
		u32 max = (r >> 8) % FUZZ_MAX;
		u32 used = dirty_ring_used(&t.ring);
		u32 dirty = t.ring.dirty_index;

		if (r % FUZZ_SCRIBBLE == 0) {   /* the guest, on any entry */
			t.gfns[next_random(rnd) % RING_SIZE].flags =
				garbage_flags[next_random(rnd) % NR_GARBAGE];
			continue;
		}
		switch ((r >> 5) % 4) {
		case 0:
			if (dirty_ring_push(&t.ring, r, step) == DIRTY_RING_FULL)
				CHECK_EQ(t.ring.dirty_index, dirty);
			else
				CHECK_EQ(t.ring.dirty_index, dirty + 1);
			break;
		case 1:
			CHECK(dirty_ring_collect(&t.ring, out, max) <= max);
			CHECK(indices_sane(&t.ring));
			break;
		case 2: {
			u32 got;

			out[max].flags = FETCH_CANARY;
			got = dirty_ring_reset_fetch(&t.ring, fetched, out, max);
			CHECK(got <= max && fetched + got <= used);
			CHECK_EQ(out[max].flags, FETCH_CANARY);
			for (u32 i = 0; i < got; i++)
				CHECK_EQ(out[i].flags, DIRTY_GFN_F_RESET);
			fetched += got;
			break;
		}
		default:
			dirty_ring_reset_finish(&t.ring, fetched);
			fetched = 0;
			break;
		}
		CHECK(used_sane(&t.ring));
	}
	*wrapped = t.ring.dirty_index < start;
}

TEST(random_guest_writes_never_break_the_indices_or_overrun)
{
	u32 rnd = 0x2545f491u, wraps = 0;

	for (u32 round = 0; round < FUZZ_ROUNDS; round++) {
		bool wrapped = false;

		fuzz_round(&rnd, 0xffffffffu - round % (2 * RING_SIZE), &wrapped);
		wraps += wrapped;
	}
	/* Most rounds crossed the u32 wrap (fixed seed: 138 of 200). */
	CHECK(wraps >= FUZZ_ROUNDS / 2);
}
