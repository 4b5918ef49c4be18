/*
 * Window choice for attach (virt/manage_window.c): 1 GiB-aligned
 * windows above the floor, below the limit, clear of what is busy, and
 * no wrap-around whatever a guest asks for.
 */
#include "lib/compiler.h"
#include "tests/host/test.h"
#include "virt/manage_window.h"

#define GiB (1ULL << 30)
#define MiB (1ULL << 20)
#define KiB (1ULL << 10)

/* A manager with 256 MiB of RAM at 1 GiB in a 4 GiB IPA space. */
#define FLOOR (GiB + 256 * MiB)
#define LIMIT (4 * GiB)
#define MAX_BUSY 8

static struct ipa_range busy[MAX_BUSY];

static struct window_space space(u64 floor, u64 limit)
{
	return (struct window_space){ .floor = floor, .limit = limit, .busy = busy,
				      .max_busy = MAX_BUSY };
}

TEST(first_window_is_the_first_aligned_one_above_the_floor)
{
	struct window_space sp = space(FLOOR, LIMIT);

	CHECK_EQ(window_find(&sp, FLOOR, 512 * MiB), 2 * GiB);
	/* A floor on a boundary is a window itself. */
	sp.floor = 2 * GiB;
	CHECK_EQ(window_find(&sp, 0, GiB), 2 * GiB);
	/* @from above the floor. */
	CHECK_EQ(window_find(&sp, 2 * GiB + 1, GiB), 3 * GiB);
}

TEST(busy_ranges_are_skipped)
{
	struct window_space sp = space(FLOOR, LIMIT);

	/* RAM (below the floor) and a view at 2 GiB: the rings go to 3 GiB. */
	CHECK(window_space_add(&sp, GiB, 256 * MiB));
	CHECK(window_space_add(&sp, 2 * GiB, 96 * MiB));
	CHECK_EQ(window_find(&sp, FLOOR, 576 * KiB), 3 * GiB);
	/* A busy range that only touches the next window's start. */
	CHECK(window_space_add(&sp, 3 * GiB - 4 * KiB, 8 * KiB));
	CHECK_EQ(window_find(&sp, FLOOR, 576 * KiB), 0);
	sp.limit = 8 * GiB;
	CHECK_EQ(window_find(&sp, FLOOR, 576 * KiB), 4 * GiB);
}

TEST(a_window_larger_than_1_gib_needs_that_much_room)
{
	struct window_space sp = space(FLOOR, LIMIT);

	CHECK_EQ(window_find(&sp, FLOOR, 2 * GiB), 2 * GiB);
	CHECK_EQ(window_find(&sp, FLOOR, 2 * GiB + 1), 0);
	CHECK(window_space_add(&sp, 3 * GiB + 4 * KiB, 4 * KiB));
	CHECK_EQ(window_find(&sp, FLOOR, 2 * GiB), 0);
	CHECK_EQ(window_find(&sp, FLOOR, GiB), 2 * GiB);
}

TEST(no_window_when_the_space_is_full)
{
	struct window_space sp = space(FLOOR, LIMIT);

	CHECK(window_space_add(&sp, 2 * GiB, 2 * GiB));
	CHECK_EQ(window_find(&sp, FLOOR, 4 * KiB), 0);
	/* Floor above the limit, or nothing to put. */
	sp = space(LIMIT, LIMIT);
	CHECK_EQ(window_find(&sp, 0, 4 * KiB), 0);
	sp = space(FLOOR, LIMIT);
	CHECK_EQ(window_find(&sp, FLOOR, 0), 0);
}

TEST(nothing_wraps_around_the_top_of_the_address_space)
{
	struct window_space sp = space(FLOOR, ~0ULL);

	/* A range up to the top: the next candidate would wrap to 0. */
	CHECK(window_space_add(&sp, 2 * GiB, ~0ULL - 2 * GiB));
	CHECK_EQ(window_find(&sp, FLOOR, GiB), 0);
	sp = space(FLOOR, ~0ULL);
	/* @from so high that aligning it up wraps. */
	CHECK_EQ(window_find(&sp, ~0ULL - 5, GiB), 0);
	/* The last aligned window of the space, and one byte too many. */
	CHECK_EQ(window_find(&sp, ALIGN_DOWN(~0ULL, GiB), GiB - 1),
		 ALIGN_DOWN(~0ULL, GiB));
	CHECK_EQ(window_find(&sp, ALIGN_DOWN(~0ULL, GiB), GiB), 0);
	CHECK(!window_fits(&sp, ALIGN_DOWN(~0ULL, GiB), 2 * GiB));
}

TEST(window_fits_checks_alignment_bounds_and_busy_ranges)
{
	struct window_space sp = space(FLOOR, LIMIT);

	CHECK(window_fits(&sp, 2 * GiB, GiB));
	CHECK(window_fits(&sp, 3 * GiB, GiB));
	CHECK(!window_fits(&sp, 2 * GiB + 4 * KiB, 4 * KiB));   /* unaligned */
	CHECK(!window_fits(&sp, GiB, 4 * KiB));                 /* below the floor */
	CHECK(!window_fits(&sp, 3 * GiB, GiB + 1));             /* past the limit */
	CHECK(!window_fits(&sp, 4 * GiB, 4 * KiB));             /* at the limit */
	CHECK(!window_fits(&sp, 2 * GiB, 0));                   /* empty */
	CHECK(!window_fits(&sp, 1ULL << 52, 96 * MiB));
	CHECK(window_space_add(&sp, 2 * GiB + GiB / 2, 4 * KiB));
	CHECK(!window_fits(&sp, 2 * GiB, GiB));
	CHECK(window_fits(&sp, 2 * GiB, GiB / 2));
	/* An empty busy range blocks nothing. */
	CHECK(window_space_add(&sp, 3 * GiB, 0));
	CHECK(window_fits(&sp, 3 * GiB, GiB));
}

TEST(window_space_add_refuses_past_its_room)
{
	struct window_space sp = space(FLOOR, LIMIT);

	for (u32 i = 0; i < MAX_BUSY; i++)
		CHECK(window_space_add(&sp, 2 * GiB + 4 * KiB * i, 4 * KiB));
	CHECK(!window_space_add(&sp, 3 * GiB, 4 * KiB));
	CHECK_EQ(sp.nr_busy, MAX_BUSY);
}
