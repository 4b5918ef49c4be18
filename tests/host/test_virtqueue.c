/*
 * Tests of the split-virtqueue walker (virt/virtqueue.c) over a fake
 * guest memory: a model driver lays out the rings and chains as a
 * virtio driver would; every rule that breaks a queue must give -EINVAL
 * with a reason and touch nothing outside memory; indices wrap at 2^16;
 * event-index suppression follows §2.7.7; every device write is
 * reported through vq_mem.wrote().
 */
#include <stdlib.h>

#include "lib/errno.h"
#include "tests/host/test.h"
#include "virt/virtqueue.h"

/* ------------------------------------------------- fake guest memory */

#define MEM_BASE 0x40000000ull
#define MEM_SIZE 0x10000ull
/* The model driver's layout: each part at the largest size it can have. */
#define DESC_AT (MEM_BASE + 0x0000)
#define AVAIL_AT (MEM_BASE + 0x1000)
#define USED_AT (MEM_BASE + 0x2000)
#define BUF_AT (MEM_BASE + 0x4000)
#define MAX_WROTE 64

static u8 *mem;                 /* malloc'd at exactly MEM_SIZE: ASan
				 * sees any host access beyond it */
static struct {
	u64 ipa, len;
} wrote_log[MAX_WROTE];
static unsigned int nr_wrote, nr_maps;
/* Runs inside map(), after the walker read the descriptor it maps: a
 * test's stand-in for a guest vCPU rewriting memory at that moment. */
static void (*map_hook)(void);

static bool in_mem(u64 ipa, u64 len)
{
	return ipa >= MEM_BASE && ipa - MEM_BASE <= MEM_SIZE &&
	       len <= MEM_SIZE - (ipa - MEM_BASE);
}

static void *fake_map(void *ctx, u64 ipa, u64 len)
{
	nr_maps++;
	if (map_hook)
		map_hook();
	return len && in_mem(ipa, len) ? mem + (ipa - MEM_BASE) : NULL;
}

static void fake_wrote(void *ctx, u64 ipa, u64 len)
{
	if (nr_wrote < MAX_WROTE) {
		wrote_log[nr_wrote].ipa = ipa;
		wrote_log[nr_wrote].len = len;
	}
	nr_wrote++;
}

static const struct vq_mem fake_mem = { .map = fake_map, .wrote = fake_wrote };

static bool wrote_covers(u64 ipa, u64 len)
{
	for (unsigned int i = 0; i < nr_wrote && i < MAX_WROTE; i++)
		if (wrote_log[i].ipa <= ipa &&
		    ipa + len <= wrote_log[i].ipa + wrote_log[i].len)
			return true;
	return false;
}

static void *at(u64 ipa)
{
	return mem + (ipa - MEM_BASE);
}

/* ------------------------------------------------- the model driver */

static struct virtqueue vq;
static u16 drv_avail_idx;       /* the driver's copy of avail->idx */
static u16 drv_used_seen;       /* used entries the driver has read */

static struct vring_desc *desc(u16 i)
{
	return (struct vring_desc *)at(DESC_AT) + i;
}

static struct vring_avail *avail(void)
{
	return at(AVAIL_AT);
}

static struct vring_used *used(void)
{
	return at(USED_AT);
}

static u16 *used_event(void)
{
	return &avail()->ring[vq.size];
}

static u16 *avail_event(void)
{
	return (u16 *)&used()->ring[vq.size];
}

static u64 buf(unsigned int n)
{
	return BUF_AT + n * 0x100ull;
}

static void set_desc(u16 i, u64 addr, u32 len, u16 flags, u16 next)
{
	*desc(i) = (struct vring_desc){ addr, len, flags, next };
}

/* Makes chain @head available (§2.7.13: ring entry, then idx). */
static void publish(u16 head)
{
	avail()->ring[drv_avail_idx & (vq.size - 1)] = head;
	drv_avail_idx++;
	avail()->idx = drv_avail_idx;
}

/* Fresh memory and a queue of @size set up at the model layout. */
static int ring_init(u16 size, bool event_idx)
{
	const char *why = NULL;
	int r;

	free(mem);
	mem = calloc(1, MEM_SIZE);
	nr_wrote = nr_maps = 0;
	map_hook = NULL;
	drv_avail_idx = drv_used_seen = 0;
	vq = (struct virtqueue){
		.size = size,
		.desc_ipa = DESC_AT,
		.avail_ipa = AVAIL_AT,
		.used_ipa = USED_AT,
		.event_idx = event_idx,
	};
	r = vq_setup(&vq, &fake_mem, &why);
	nr_maps = 0;            /* count only what the test itself causes */
	return r;
}

/* A queue whose pop must fail: -EINVAL with a reason, nothing advanced
 * or written, and the same answer again. */
static bool pop_breaks(const char *reason)
{
	struct vq_chain c;
	const char *why = NULL, *again = NULL;
	u16 last = vq.last_avail;

	if (vq_pop(&vq, &c, &why) != -EINVAL || !why || strcmp(why, reason) != 0)
		return false;
	if (vq.last_avail != last || nr_wrote)
		return false;
	return vq_pop(&vq, &c, &again) == -EINVAL && again == why;
}

static void reset_for(u16 size)
{
	if (ring_init(size, false))
		abort();
}

/* ------------------------------------------------------------- set-up */

TEST(setup_accepts_powers_of_two_up_to_max)
{
	for (u32 size = 1; size <= VQ_MAX_SIZE; size *= 2)
		CHECK_EQ(ring_init((u16)size, true), 0);
	CHECK_EQ(vq.last_avail, 0);
	CHECK_EQ(vq.used_idx, 0);
	CHECK(!vq.signalled_valid);
	CHECK(vq.mem == &fake_mem);
	CHECK(vq.desc == at(DESC_AT));
	CHECK(vq.avail == at(AVAIL_AT));
	CHECK(vq.used == at(USED_AT));
	CHECK_EQ(nr_wrote, 0);
}

TEST(setup_rejects_sizes_not_a_power_of_two_up_to_max)
{
	static const u16 bad[] = { 0, 3, 6, 255, 2 * VQ_MAX_SIZE, 0xffff };
	const char *why;

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(ring_init(bad[i], false), -EINVAL);
		why = NULL;
		CHECK_EQ(vq_setup(&vq, &fake_mem, &why), -EINVAL);
		CHECK_STREQ(why, "queue size is not a power of two from 1 to 256");
	}
	CHECK_EQ(nr_maps, 0);
}

static const char *setup_why(u64 desc_ipa, u64 avail_ipa, u64 used_ipa)
{
	const char *why = NULL;

	vq.desc_ipa = desc_ipa;
	vq.avail_ipa = avail_ipa;
	vq.used_ipa = used_ipa;
	return vq_setup(&vq, &fake_mem, &why) == -EINVAL ? why : "accepted";
}

TEST(setup_rejects_misaligned_parts)
{
	reset_for(8);
	CHECK_STREQ(setup_why(DESC_AT + 8, AVAIL_AT, USED_AT),
		    "descriptor table not 16-byte aligned");
	CHECK_STREQ(setup_why(DESC_AT, AVAIL_AT + 1, USED_AT),
		    "available ring not 2-byte aligned");
	CHECK_STREQ(setup_why(DESC_AT, AVAIL_AT, USED_AT + 2),
		    "used ring not 4-byte aligned");
	/* The minimum alignments are enough. */
	CHECK_STREQ(setup_why(DESC_AT + 16, AVAIL_AT + 2, USED_AT + 4), "accepted");
}

TEST(setup_maps_each_part_whole_with_its_event_field)
{
	const u64 end = MEM_BASE + MEM_SIZE;
	const u64 n = 8;

	reset_for(n);
	/* Each part at the end of memory fits (the used ring, 6 + 8n
	 * bytes at a multiple of 4, leaves 2 bytes)... */
	CHECK_STREQ(setup_why(end - 16 * n, AVAIL_AT, USED_AT), "accepted");
	CHECK_STREQ(setup_why(DESC_AT, end - (6 + 2 * n), USED_AT), "accepted");
	CHECK_STREQ(setup_why(DESC_AT, AVAIL_AT, end - (8 + 8 * n)), "accepted");
	/* ...one alignment step further it does not: the avail and used
	 * rings include used_event / avail_event (§2.7: 6 + 2n, 6 + 8n). */
	CHECK_STREQ(setup_why(end - 16 * n + 16, AVAIL_AT, USED_AT),
		    "descriptor table outside guest memory");
	CHECK_STREQ(setup_why(DESC_AT, end - (4 + 2 * n), USED_AT),
		    "available ring outside guest memory");
	CHECK_STREQ(setup_why(DESC_AT, AVAIL_AT, end - (4 + 8 * n)),
		    "used ring outside guest memory");
	CHECK_STREQ(setup_why(MEM_BASE - 16, AVAIL_AT, USED_AT),
		    "descriptor table outside guest memory");
	CHECK_STREQ(setup_why(DESC_AT, AVAIL_AT, 0xfffffffffffffffcull),
		    "used ring outside guest memory");
}

TEST(setup_resets_the_device_indices)
{
	reset_for(4);
	vq.last_avail = 7;
	vq.used_idx = 9;
	vq.signalled_used = 9;
	vq.signalled_valid = true;
	CHECK_STREQ(setup_why(DESC_AT, AVAIL_AT, USED_AT), "accepted");
	CHECK_EQ(vq.last_avail, 0);
	CHECK_EQ(vq.used_idx, 0);
	CHECK_EQ(vq.signalled_used, 0);
	CHECK(!vq.signalled_valid);
}

/* --------------------------------------------------------------- pop */

TEST(pop_of_an_empty_queue_returns_0)
{
	struct vq_chain c;
	const char *why = NULL;

	reset_for(8);
	CHECK(!vq_has_avail(&vq));
	CHECK_EQ(vq_pop(&vq, &c, &why), 0);
	CHECK(why == NULL);
	CHECK_EQ(vq.last_avail, 0);
}

TEST(pop_returns_a_readable_chain_in_order)
{
	struct vq_chain c;
	const char *why = NULL;
	char out[8];

	reset_for(8);
	memcpy(at(buf(0)), "abc", 3);
	memcpy(at(buf(1)), "defgh", 5);
	set_desc(5, buf(0), 3, VRING_DESC_F_NEXT, 2);
	set_desc(2, buf(1), 5, 0, 0);
	publish(5);
	CHECK(vq_has_avail(&vq));
	CHECK_EQ(vq_pop(&vq, &c, &why), 1);
	CHECK_EQ(c.head, 5);
	CHECK_EQ(c.nr_out, 2);
	CHECK_EQ(c.nr_in, 0);
	CHECK_EQ(c.out_len, 8);
	CHECK_EQ(c.in_len, 0);
	CHECK_EQ(c.seg[0].ipa, buf(0));
	CHECK_EQ(c.seg[0].len, 3);
	CHECK(c.seg[0].host == at(buf(0)));
	CHECK_EQ(c.seg[1].ipa, buf(1));
	CHECK_EQ(vq_chain_read(&c, 0, out, sizeof(out)), 8);
	CHECK(!memcmp(out, "abcdefgh", 8));
	CHECK(!vq_has_avail(&vq));
	CHECK_EQ(vq_pop(&vq, &c, &why), 0);
}

TEST(pop_splits_readable_then_writable_segments)
{
	struct vq_chain c;
	const char *why = NULL;

	reset_for(8);
	set_desc(0, buf(0), 44, VRING_DESC_F_NEXT, 1);
	set_desc(1, buf(1), 16, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 3);
	set_desc(3, buf(2), 32, VRING_DESC_F_WRITE, 0);
	publish(0);
	CHECK_EQ(vq_pop(&vq, &c, &why), 1);
	CHECK_EQ(c.nr_out, 1);
	CHECK_EQ(c.nr_in, 2);
	CHECK_EQ(c.out_len, 44);
	CHECK_EQ(c.in_len, 48);
	CHECK_EQ(c.seg[1].ipa, buf(1));
	CHECK_EQ(c.seg[2].ipa, buf(2));
}

TEST(pop_takes_a_chain_of_exactly_max_segments)
{
	struct vq_chain c;
	const char *why = NULL;

	reset_for(32);
	for (u16 i = 0; i < VQ_MAX_SEGS; i++)
		set_desc(i, buf(i), 8, i + 1 < VQ_MAX_SEGS ? VRING_DESC_F_NEXT : 0,
			 i + 1);
	publish(0);
	CHECK_EQ(vq_pop(&vq, &c, &why), 1);
	CHECK_EQ(c.nr_out, VQ_MAX_SEGS);
	CHECK_EQ(c.out_len, 8 * VQ_MAX_SEGS);
}

TEST(unpop_gives_the_same_chain_again)
{
	struct vq_chain c;
	const char *why = NULL;

	reset_for(4);
	set_desc(3, buf(0), 8, VRING_DESC_F_WRITE, 0);
	set_desc(1, buf(1), 8, VRING_DESC_F_WRITE, 0);
	publish(3);
	publish(1);
	CHECK_EQ(vq_pop(&vq, &c, &why), 1);
	CHECK_EQ(c.head, 3);
	vq_unpop(&vq);
	CHECK(vq_has_avail(&vq));
	CHECK_EQ(vq_pop(&vq, &c, &why), 1);
	CHECK_EQ(c.head, 3);
	CHECK_EQ(vq_pop(&vq, &c, &why), 1);
	CHECK_EQ(c.head, 1);
	CHECK_EQ(vq_pop(&vq, &c, &why), 0);
}

/* The walker keeps the copy it checked: a guest rewriting a descriptor
 * after it was read (here from inside map(), the next step) changes
 * nothing in the chain being built. */
static void rewrite_first_descriptor(void)
{
	set_desc(0, MEM_BASE + MEM_SIZE - 1, 0x10000, VRING_DESC_F_INDIRECT, 999);
}

TEST(pop_uses_each_descriptor_field_as_read_once)
{
	struct vq_chain c;
	const char *why = NULL;

	reset_for(8);
	set_desc(0, buf(0), 16, VRING_DESC_F_NEXT, 1);
	set_desc(1, buf(1), 16, 0, 0);
	publish(0);
	map_hook = rewrite_first_descriptor;
	CHECK_EQ(vq_pop(&vq, &c, &why), 1);
	CHECK_EQ(c.nr_out, 2);
	CHECK_EQ(c.seg[0].ipa, buf(0));
	CHECK_EQ(c.seg[0].len, 16);
	CHECK_EQ(c.seg[1].ipa, buf(1));
}

/* ------------------------------------------------------ broken queues */

TEST(broken_avail_index_more_than_size_ahead)
{
	reset_for(4);
	set_desc(0, buf(0), 8, 0, 0);
	for (int i = 0; i < 5; i++)
		publish(0);
	CHECK(pop_breaks("avail index more than the queue size ahead"));
	/* Exactly size ahead is a full ring, not a broken one. */
	reset_for(4);
	set_desc(0, buf(0), 8, 0, 0);
	for (int i = 0; i < 4; i++)
		publish(0);
	for (int i = 0; i < 4; i++) {
		struct vq_chain c;
		const char *why = NULL;

		CHECK_EQ(vq_pop(&vq, &c, &why), 1);
	}
}

TEST(broken_avail_entry_out_of_range)
{
	reset_for(8);
	publish(8);
	CHECK(pop_breaks("avail ring entry out of range"));
	CHECK_EQ(nr_maps, 0);
}

TEST(broken_next_index_out_of_range)
{
	reset_for(8);
	set_desc(0, buf(0), 8, VRING_DESC_F_NEXT, 8);
	publish(0);
	CHECK(pop_breaks("next descriptor index out of range"));
}

TEST(broken_chain_that_loops)
{
	reset_for(8);
	set_desc(0, buf(0), 8, VRING_DESC_F_NEXT, 1);
	set_desc(1, buf(1), 8, VRING_DESC_F_NEXT, 0);
	publish(0);
	CHECK(pop_breaks("descriptor chain loops"));
	reset_for(1);
	set_desc(0, buf(0), 8, VRING_DESC_F_NEXT, 0);      /* onto itself */
	publish(0);
	CHECK(pop_breaks("descriptor chain loops"));
}

TEST(broken_loop_in_the_largest_queue_ends_within_max_segments)
{
	reset_for(VQ_MAX_SIZE);
	for (u16 i = 0; i < VQ_MAX_SIZE; i++)
		set_desc(i, buf(0), 8, VRING_DESC_F_NEXT, (i + 1) % VQ_MAX_SIZE);
	publish(0);
	CHECK(pop_breaks("descriptor chain longer than 16"));
	CHECK_EQ(nr_maps, 2 * VQ_MAX_SEGS);     /* two pops, 16 descriptors each */
}

TEST(broken_chain_longer_than_max_segments)
{
	reset_for(32);
	for (u16 i = 0; i <= VQ_MAX_SEGS; i++)
		set_desc(i, buf(i), 8, i < VQ_MAX_SEGS ? VRING_DESC_F_NEXT : 0, i + 1);
	publish(0);
	CHECK(pop_breaks("descriptor chain longer than 16"));
}

TEST(broken_zero_length_descriptor)
{
	reset_for(8);
	set_desc(0, buf(0), 8, VRING_DESC_F_NEXT, 1);
	set_desc(1, buf(1), 0, 0, 0);
	publish(0);
	CHECK(pop_breaks("zero-length descriptor"));
}

TEST(broken_indirect_descriptor)
{
	reset_for(8);
	set_desc(0, buf(0), 16, VRING_DESC_F_INDIRECT, 0);
	publish(0);
	CHECK(pop_breaks("indirect descriptor (not offered)"));
	CHECK_EQ(nr_maps, 0);
}

TEST(broken_readable_after_writable)
{
	reset_for(8);
	set_desc(0, buf(0), 8, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	set_desc(1, buf(1), 8, 0, 0);
	publish(0);
	CHECK(pop_breaks("readable descriptor after a writable one"));
}

TEST(broken_buffer_outside_memory)
{
	static const struct {
		u64 addr;
		u32 len;
	} bad[] = {
		{ MEM_BASE - 8, 8 },                       /* below */
		{ MEM_BASE - 4, 8 },                       /* straddles the start */
		{ MEM_BASE + MEM_SIZE - 4, 8 },            /* straddles the end */
		{ MEM_BASE + MEM_SIZE, 1 },                /* just past it */
		{ 0, 0xffffffffu },
	};

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		reset_for(8);
		set_desc(0, buf(0), 8, VRING_DESC_F_NEXT, 1);
		set_desc(1, bad[i].addr, bad[i].len, VRING_DESC_F_WRITE, 0);
		publish(0);
		CHECK(pop_breaks("buffer outside guest memory"));
	}
}

TEST(broken_buffer_wrapping_the_address_space)
{
	reset_for(8);
	set_desc(0, 0xfffffffffffffff0ull, 0x20, 0, 0);
	publish(0);
	CHECK(pop_breaks("buffer wraps around the address space"));
	CHECK_EQ(nr_maps, 0);
}

/* A memory of 8 GiB whose buffers are never touched: enough to build a
 * chain of 4 GiB without allocating it. */
static void *huge_map(void *ctx, u64 ipa, u64 len)
{
	static u8 token;

	return ipa >= MEM_BASE && len <= (8ull << 30) ? &token : NULL;
}

TEST(broken_chain_of_4_gib)
{
	static const struct vq_mem huge = { .map = huge_map, .wrote = fake_wrote };
	struct vq_chain c;
	const char *why = NULL;

	reset_for(8);
	vq.mem = &huge;
	set_desc(0, MEM_BASE, 0x80000000u, VRING_DESC_F_NEXT, 1);
	set_desc(1, MEM_BASE, 0x7fffffffu, VRING_DESC_F_NEXT, 2);
	set_desc(2, MEM_BASE, 1, 0, 0);
	publish(0);
	CHECK(pop_breaks("chain of 4 GiB or more"));
	/* 2^32 - 1 bytes in all is allowed. */
	set_desc(1, MEM_BASE, 0x7fffffffu, 0, 0);
	CHECK_EQ(vq_pop(&vq, &c, &why), 1);
	CHECK_EQ(c.out_len, 0xffffffffu);
}

/* ------------------------------------------------------ push and wrap */

TEST(push_writes_the_used_element_then_the_index_and_reports_both)
{
	struct vq_chain c;
	const char *why = NULL;

	reset_for(8);
	set_desc(6, buf(0), 64, VRING_DESC_F_WRITE, 0);
	publish(6);
	CHECK_EQ(vq_pop(&vq, &c, &why), 1);
	vq_push(&vq, c.head, 40);
	CHECK_EQ(used()->idx, 1);
	CHECK_EQ(used()->ring[0].id, 6);
	CHECK_EQ(used()->ring[0].len, 40);
	CHECK_EQ(nr_wrote, 2);
	CHECK(wrote_covers(USED_AT + 4, 8));     /* ring[0] */
	CHECK(wrote_covers(USED_AT + 2, 2));     /* idx */
	CHECK_EQ(used()->flags, 0);
}

TEST(indices_wrap_at_2_to_the_16)
{
	struct vq_chain c;
	const char *why = NULL;

	reset_for(4);
	set_desc(0, buf(0), 8, VRING_DESC_F_WRITE, 0);
	set_desc(1, buf(1), 8, VRING_DESC_F_WRITE, 0);
	for (u32 n = 0; n < 0x10000 + 10; n++) {
		u16 head = n & 1;

		publish(head);
		CHECK_EQ(vq_pop(&vq, &c, &why), 1);
		CHECK_EQ(c.head, head);
		vq_push(&vq, c.head, n & 0xff);
		CHECK_EQ(used()->idx, (u16)(n + 1));
		CHECK_EQ(used()->ring[n & 3].id, head);
		CHECK_EQ(used()->ring[n & 3].len, n & 0xff);
		nr_wrote = 0;
	}
	CHECK_EQ(vq.last_avail, 10);
	CHECK_EQ(vq.used_idx, 10);
}

TEST(avail_index_ahead_rule_holds_across_the_wrap)
{
	reset_for(4);
	set_desc(0, buf(0), 8, 0, 0);
	vq.last_avail = 0xfffe;
	drv_avail_idx = 0xfffe;
	for (int i = 0; i < 4; i++)
		publish(0);                        /* idx 0x0002: 4 ahead */
	CHECK_EQ(avail()->idx, 2);
	CHECK(vq_has_avail(&vq));
	for (int i = 0; i < 4; i++) {
		struct vq_chain c;
		const char *why = NULL;

		CHECK_EQ(vq_pop(&vq, &c, &why), 1);
	}
	CHECK_EQ(vq.last_avail, 2);
	vq.last_avail = 0xfffe;
	publish(0);                                /* idx 0x0003: 5 ahead */
	CHECK(pop_breaks("avail index more than the queue size ahead"));
}

/* ------------------------------------------------------ notifications */

static void push_one(void)
{
	vq_push(&vq, 0, 0);
}

TEST(notify_without_event_idx_follows_the_no_interrupt_flag)
{
	reset_for(8);
	CHECK(vq_should_notify(&vq) == true);    /* first call: nothing known */
	CHECK(vq_should_notify(&vq) == false);   /* nothing used since */
	push_one();
	CHECK(vq_should_notify(&vq) == true);
	avail()->flags = VRING_AVAIL_F_NO_INTERRUPT;
	push_one();
	CHECK(vq_should_notify(&vq) == false);
	avail()->flags = 0;
	push_one();
	CHECK(vq_should_notify(&vq) == true);
	*used_event() = 0x1234;                  /* ignored without EVENT_IDX */
	push_one();
	CHECK(vq_should_notify(&vq) == true);
}

TEST(notify_with_event_idx_follows_used_event)
{
	CHECK_EQ(ring_init(8, true), 0);
	avail()->flags = VRING_AVAIL_F_NO_INTERRUPT; /* ignored with EVENT_IDX */
	*used_event() = 0x7777;
	push_one();                              /* used idx 1 */
	CHECK(vq_should_notify(&vq) == true);    /* the first always does */
	*used_event() = 2;   /* "interrupt me once entry 2 is written" */
	push_one();                              /* idx 2: entry 1 written */
	CHECK(vq_should_notify(&vq) == false);
	push_one();                              /* idx 3: entry 2 written */
	CHECK(vq_should_notify(&vq) == true);
	push_one();
	push_one();                              /* idx 5, batch of 2 */
	*used_event() = 3;                       /* entry 3 is in the batch */
	CHECK(vq_should_notify(&vq) == true);
	*used_event() = 4;                       /* already signalled past */
	CHECK(vq_should_notify(&vq) == false);   /* nothing new */
	push_one();                              /* idx 6, entry 5 */
	CHECK(vq_should_notify(&vq) == false);   /* event 4 is behind */
}

TEST(notify_with_event_idx_wraps)
{
	CHECK_EQ(ring_init(8, true), 0);
	vq.used_idx = 0xfffe;
	vq.signalled_used = 0xfffe;
	vq.signalled_valid = true;
	push_one();
	push_one();
	push_one();                              /* 0xfffe -> 0x0001 */
	*used_event() = 0xffff;
	CHECK(vq_should_notify(&vq) == true);
	vq.signalled_used = 0xfffe;
	*used_event() = 0x0000;
	CHECK(vq_should_notify(&vq) == true);
	vq.signalled_used = 0xfffe;
	*used_event() = 0x0001;                  /* entry 1 not written yet */
	CHECK(vq_should_notify(&vq) == false);
	vq.signalled_used = 0xfffe;
	*used_event() = 0xfffd;                  /* before the batch */
	CHECK(vq_should_notify(&vq) == false);
}

TEST(enable_notify_writes_avail_event_with_event_idx)
{
	struct vq_chain c;
	const char *why = NULL;

	CHECK_EQ(ring_init(8, true), 0);
	set_desc(0, buf(0), 8, 0, 0);
	publish(0);
	publish(0);
	CHECK_EQ(vq_pop(&vq, &c, &why), 1);
	CHECK_EQ(vq_pop(&vq, &c, &why), 1);
	vq_enable_notify(&vq);
	CHECK_EQ(*avail_event(), 2);
	CHECK_EQ(nr_wrote, 1);
	CHECK(wrote_covers(USED_AT + 4 + 8ull * 8, 2));
	CHECK(!vq_has_avail(&vq));
	publish(0);
	CHECK(vq_has_avail(&vq));
}

TEST(enable_notify_writes_nothing_without_event_idx)
{
	reset_for(8);
	*avail_event() = 0x5555;
	vq_enable_notify(&vq);
	CHECK_EQ(*avail_event(), 0x5555);
	CHECK_EQ(used()->flags, 0);
	CHECK_EQ(nr_wrote, 0);
}

/* ------------------------------------------------ chain read and write */

/* A chain of 3 readable segments (4 + 1 + 5 bytes) and 3 writable ones
 * (3 + 8 + 2 bytes). */
static int three_and_three(struct vq_chain *c)
{
	const char *why = NULL;

	reset_for(8);
	memcpy(at(buf(0)), "abcd", 4);
	memcpy(at(buf(1)), "e", 1);
	memcpy(at(buf(2)), "fghij", 5);
	set_desc(0, buf(0), 4, VRING_DESC_F_NEXT, 1);
	set_desc(1, buf(1), 1, VRING_DESC_F_NEXT, 2);
	set_desc(2, buf(2), 5, VRING_DESC_F_NEXT, 3);
	set_desc(3, buf(3), 3, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 4);
	set_desc(4, buf(4), 8, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 5);
	set_desc(5, buf(5), 2, VRING_DESC_F_WRITE, 0);
	publish(0);
	return vq_pop(&vq, c, &why);
}

TEST(chain_read_crosses_segments_from_any_offset)
{
	struct vq_chain c;
	char out[16];

	CHECK_EQ(three_and_three(&c), 1);
	memset(out, 0, sizeof(out));
	CHECK_EQ(vq_chain_read(&c, 3, out, 4), 4);
	CHECK(!memcmp(out, "defg", 4));
	CHECK_EQ(vq_chain_read(&c, 5, out, 16), 5);    /* short: 10 in all */
	CHECK(!memcmp(out, "fghij", 5));
	CHECK_EQ(vq_chain_read(&c, 10, out, 1), 0);
	CHECK_EQ(vq_chain_read(&c, 0xffffffffu, out, 1), 0);
	CHECK_EQ(nr_wrote, 0);
}

TEST(chain_write_crosses_segments_and_reports_each_part)
{
	struct vq_chain c;

	CHECK_EQ(three_and_three(&c), 1);
	CHECK_EQ(vq_chain_write(&vq, &c, 2, "0123456789", 10), 10);
	CHECK(!memcmp((u8 *)at(buf(3)) + 2, "0", 1));
	CHECK(!memcmp(at(buf(4)), "12345678", 8));
	CHECK(!memcmp(at(buf(5)), "9", 1));
	CHECK_EQ(((u8 *)at(buf(3)))[1], 0);          /* before the offset */
	CHECK_EQ(((u8 *)at(buf(5)))[1], 0);          /* after the end */
	CHECK_EQ(nr_wrote, 3);
	CHECK(wrote_covers(buf(3) + 2, 1));
	CHECK(wrote_covers(buf(4), 8));
	CHECK(wrote_covers(buf(5), 1));
	/* The readable segments are never written. */
	CHECK(!memcmp(at(buf(0)), "abcd", 4));
}

TEST(chain_write_stops_at_the_end_of_the_writable_segments)
{
	struct vq_chain c;

	CHECK_EQ(three_and_three(&c), 1);
	CHECK_EQ(vq_chain_write(&vq, &c, 11, "xyz", 3), 2);
	CHECK(!memcmp(at(buf(5)), "xy", 2));
	CHECK_EQ(((u8 *)at(buf(6)))[0], 0);
	CHECK_EQ(vq_chain_write(&vq, &c, 13, "xyz", 3), 0);
}

TEST(chain_write_of_a_readable_only_chain_writes_nothing)
{
	struct vq_chain c;
	const char *why = NULL;

	reset_for(8);
	set_desc(0, buf(0), 8, 0, 0);
	publish(0);
	CHECK_EQ(vq_pop(&vq, &c, &why), 1);
	CHECK_EQ(vq_chain_write(&vq, &c, 0, "abc", 3), 0);
	CHECK_EQ(((u8 *)at(buf(0)))[0], 0);
	CHECK_EQ(nr_wrote, 0);
}
