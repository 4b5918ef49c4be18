/*
 * libFuzzer target over the split-virtqueue walker (virt/virtqueue.c).
 *
 * Input: a 16-byte header, then nr_ops operation bytes, then the guest
 * memory image (MEM_SIZE bytes at MEM_BASE; a shorter image is padded
 * with zeros):
 *
 *   u16 size     QueueNum as a driver wrote it (vq_setup judges it)
 *   u8  flags    bit 0: VIRTIO_F_RING_EVENT_IDX negotiated
 *   u8  nr_ops
 *   u32 desc, avail, used   area addresses, as offsets from
 *                           MEM_BASE - GUARD (so they may lie outside)
 *
 * Each operation byte is pop-and-push (reading every readable byte,
 * writing op >> 3 bytes into the writable ones), pop-and-unpop,
 * should_notify, or enable_notify + has_avail; then the queue is
 * drained with pop-and-push until it is empty or broken, as a device
 * would. The guest memory is ASan-poisoned except for what vq_mem.map()
 * accepted, so any access outside those ranges is reported; segments
 * and wrote() reports are checked to lie inside memory.
 *
 * Seeds (tests/fuzz/seeds/virtqueue/): well-formed rings that this file
 * writes itself, so format and seeds cannot drift apart:
 *   FUZZ_VQ_WRITE_SEEDS=tests/fuzz/seeds/virtqueue build/fuzz/fuzz_virtqueue
 */
#include <sanitizer/asan_interface.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/compiler.h"
#include "virt/virtqueue.h"

#define MEM_BASE 0x40000000ull
#define MEM_SIZE 0x2000u                /* a 256-entry queue fits */
#define GUARD 0x1000u
#define HDR_SIZE 16u
#define FLAG_EVENT_IDX 1u
#define OP_KINDS 4u
#define OP_WRITE_SHIFT 3                /* pop-and-push: bytes to write */

enum op { OP_POP_PUSH, OP_POP_UNPOP, OP_SHOULD_NOTIFY, OP_ENABLE_NOTIFY };

struct fuzz_hdr {
	u16 size;
	u8 flags;
	u8 nr_ops;
	u32 desc, avail, used;
} __attribute__((packed));

_Static_assert(sizeof(struct fuzz_hdr) == HDR_SIZE, "header layout");

static u8 *mem;

static bool in_mem(u64 ipa, u64 len)
{
	return ipa >= MEM_BASE && ipa - MEM_BASE <= MEM_SIZE &&
	       len <= MEM_SIZE - (ipa - MEM_BASE);
}

static void *fuzz_map(void *ctx, u64 ipa, u64 len)
{
	if (!len || !in_mem(ipa, len))
		return NULL;
	/* Only what the walker was given may be touched. */
	__asan_unpoison_memory_region(mem + (ipa - MEM_BASE), len);
	return mem + (ipa - MEM_BASE);
}

static void fuzz_wrote(void *ctx, u64 ipa, u64 len)
{
	if (!len || !in_mem(ipa, len))
		abort();
}

static const struct vq_mem fuzz_mem = { .map = fuzz_map, .wrote = fuzz_wrote };

/* What every popped chain must be, whatever the guest wrote. */
static void check_chain(const struct virtqueue *vq, const struct vq_chain *c)
{
	u64 out = 0, in = 0;

	if (c->head >= vq->size || c->nr_out + c->nr_in > VQ_MAX_SEGS)
		abort();
	for (unsigned int i = 0; i < c->nr_out + c->nr_in; i++) {
		const struct vq_seg *s = &c->seg[i];

		if (!s->len || !in_mem(s->ipa, s->len) ||
		    s->host != mem + (s->ipa - MEM_BASE))
			abort();
		*(i < c->nr_out ? &out : &in) += s->len;
	}
	if (out != c->out_len || in != c->in_len)
		abort();
}

/* Pops one chain and uses it as a device would. 1 if it did, 0 if the
 * queue was empty, -1 if it is broken. */
static int pop_push(struct virtqueue *vq, u32 write_len)
{
	static u8 scratch[MEM_SIZE];
	struct vq_chain c;
	const char *why = NULL;
	int r = vq_pop(vq, &c, &why);
	u32 n;

	if (r < 0 && !why)
		abort();
	if (r <= 0)
		return r ? -1 : 0;
	check_chain(vq, &c);
	if (vq_chain_read(&c, 0, scratch, sizeof(scratch)) != MIN(c.out_len, MEM_SIZE))
		abort();
	n = vq_chain_write(vq, &c, 0, scratch, MIN(write_len, (u32)sizeof(scratch)));
	vq_push(vq, c.head, n);
	return 1;
}

static int run_op(struct virtqueue *vq, u8 op)
{
	struct vq_chain c;
	const char *why = NULL;
	int r;

	switch (op % OP_KINDS) {
	case OP_POP_PUSH:
		return pop_push(vq, op >> OP_WRITE_SHIFT);
	case OP_POP_UNPOP:
		r = vq_pop(vq, &c, &why);
		if (r < 0)
			return -1;
		if (r)
			vq_unpop(vq);
		return 0;
	case OP_SHOULD_NOTIFY:
		vq_should_notify(vq);
		return 0;
	default:
		vq_enable_notify(vq);
		vq_has_avail(vq);
		return 0;
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t len)
{
	struct fuzz_hdr h;
	struct virtqueue vq;
	const u8 *ops;
	const char *why = NULL;
	size_t image;

	if (len < HDR_SIZE)
		return 0;
	memcpy(&h, data, HDR_SIZE);
	if (len - HDR_SIZE < h.nr_ops)
		return 0;
	ops = data + HDR_SIZE;
	image = MIN(len - HDR_SIZE - h.nr_ops, (size_t)MEM_SIZE);
	mem = calloc(1, MEM_SIZE);
	memcpy(mem, ops + h.nr_ops, image);
	__asan_poison_memory_region(mem, MEM_SIZE);

	vq = (struct virtqueue){
		.size = h.size,
		.desc_ipa = MEM_BASE - GUARD + h.desc,
		.avail_ipa = MEM_BASE - GUARD + h.avail,
		.used_ipa = MEM_BASE - GUARD + h.used,
		.event_idx = h.flags & FLAG_EVENT_IDX,
	};
	if (vq_setup(&vq, &fuzz_mem, &why) == 0) {
		int r = 0;

		for (unsigned int i = 0; i < h.nr_ops && r >= 0; i++)
			r = run_op(&vq, ops[i]);
		/* At most size chains can be pending: the drain ends. */
		while (r >= 0 && pop_push(&vq, UINT32_MAX) > 0)
			;
	} else if (!why) {
		abort();
	}

	__asan_unpoison_memory_region(mem, MEM_SIZE);
	free(mem);
	return 0;
}

/* ------------------------------------------------------------ seeds */

struct seed {
	struct fuzz_hdr h;
	u8 ops[8];
	u8 image[MEM_SIZE];
};

static void seed_desc(struct seed *s, u16 i, u64 addr, u32 len, u16 flags,
		      u16 next)
{
	struct vring_desc d = { addr, len, flags, next };

	memcpy(s->image + (s->h.desc - GUARD) + i * sizeof(d), &d, sizeof(d));
}

/* Publishes @heads in the avail ring, as a driver would. */
static void seed_avail(struct seed *s, const u16 *heads, u16 n)
{
	u8 *avail = s->image + (s->h.avail - GUARD);

	for (u16 i = 0; i < n; i++)
		memcpy(avail + 4 + 2 * (i & (s->h.size - 1)), &heads[i], 2);
	memcpy(avail + 2, &n, 2);
}

static void seed_write(const char *dir, const char *name, const struct seed *s)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(s, sizeof(*s), 1, f) != 1 || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static struct seed *seed_new(u16 size, u8 flags, const char *ops)
{
	static struct seed s;

	memset(&s, 0, sizeof(s));
	s.h = (struct fuzz_hdr){
		.size = size, .flags = flags, .nr_ops = sizeof(s.ops),
		.desc = GUARD, .avail = GUARD + 0x1000, .used = GUARD + 0x1400,
	};
	memcpy(s.ops, ops, sizeof(s.ops));
	return &s;
}

#define BUF(n) (MEM_BASE + 0x1c00 + (n) * 0x40ull)

/* Three well-formed queues: small without EVENT_IDX, a chain of the
 * longest length, and the largest queue with EVENT_IDX. */
static void write_seeds(const char *dir)
{
	static const char ops_basic[8] = { 0, 2, 1, 3, 0x40, 2, 3, 2 };
	static const char ops_notify[8] = { 3, 0x80, 2, 3, 1, 0x18, 2, 3 };
	struct seed *s;
	u16 heads[4];

	s = seed_new(8, 0, ops_basic);
	seed_desc(s, 0, BUF(0), 44, 0, 0);
	seed_desc(s, 5, BUF(1), 44, VRING_DESC_F_NEXT, 2);
	seed_desc(s, 2, BUF(2), 16, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 7);
	seed_desc(s, 7, BUF(3), 32, VRING_DESC_F_WRITE, 0);
	heads[0] = 0;
	heads[1] = 5;
	seed_avail(s, heads, 2);
	seed_write(dir, "small-split-ring", s);

	s = seed_new(16, 0, ops_basic);
	for (u16 i = 0; i < VQ_MAX_SEGS; i++)
		seed_desc(s, i, BUF(i), 8,
			  (i + 1 < VQ_MAX_SEGS ? VRING_DESC_F_NEXT : 0) |
			  (i >= VQ_MAX_SEGS / 2 ? VRING_DESC_F_WRITE : 0), i + 1);
	heads[0] = 0;
	seed_avail(s, heads, 1);
	seed_write(dir, "longest-chain", s);

	s = seed_new(VQ_MAX_SIZE, FLAG_EVENT_IDX, ops_notify);
	s->h.used = GUARD + 0x1208;   /* after the avail ring's 6 + 512 bytes */
	for (u16 i = 0; i < 4; i++) {
		seed_desc(s, 10 * i, BUF(2 * i), 20, VRING_DESC_F_NEXT, 10 * i + 1);
		seed_desc(s, 10 * i + 1, BUF(2 * i + 1), 24, VRING_DESC_F_WRITE, 0);
		heads[i] = 10 * i;
	}
	seed_avail(s, heads, 4);
	seed_write(dir, "largest-queue-event-idx", s);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("FUZZ_VQ_WRITE_SEEDS");

	if (dir) {
		write_seeds(dir);
		exit(0);
	}
	return 0;
}
