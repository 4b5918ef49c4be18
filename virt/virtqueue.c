/*
 * Split virtqueues, device side (virt/virtqueue.h; virtio 1.2 §2.7):
 * set-up checks, the chain walker, the used ring and notification
 * suppression.
 *
 * Every field of the rings and descriptors is the guest's: it is read
 * once into a local, checked, and only the local is used afterwards. A
 * guest that rewrites a field behind our back can only make us read a
 * value it could have written in the first place. The device's own
 * indices (last_avail, used_idx, signalled_used) live in struct
 * virtqueue, which the guest cannot reach.
 */
#include "virt/virtqueue.h"

#include "lib/compiler.h"
#include "lib/errno.h"
#include "lib/string.h"

#define VQ_STR_(x) #x
#define VQ_STR(x) VQ_STR_(x)

/* Bytes of each part (virtio 1.2 §2.7, the size table): the avail and
 * used rings always include the trailing event field, whether or not
 * EVENT_IDX is negotiated. */
#define VRING_RING_HDR 4u         /* flags and idx */
#define VRING_EVENT_FIELD 2u      /* used_event / avail_event */

static u64 desc_bytes(u16 size)
{
	return (u64)size * sizeof(struct vring_desc);
}

static u64 avail_bytes(u16 size)
{
	return VRING_RING_HDR + (u64)size * sizeof(u16) + VRING_EVENT_FIELD;
}

static u64 used_bytes(u16 size)
{
	return VRING_RING_HDR + (u64)size * sizeof(struct vring_used_elem) +
	       VRING_EVENT_FIELD;
}

static u64 used_elem_ipa(const struct virtqueue *vq, u16 slot)
{
	return vq->used_ipa + VRING_RING_HDR +
	       (u64)slot * sizeof(struct vring_used_elem);
}

/* The u16 after avail->ring[size]: the driver's used_event. */
static u16 *used_event_field(const struct virtqueue *vq)
{
	return &vq->avail->ring[vq->size];
}

/* The u16 after used->ring[size]: the device's avail_event. */
static u16 *avail_event_field(const struct virtqueue *vq)
{
	return (u16 *)&vq->used->ring[vq->size];
}

static u64 avail_event_ipa(const struct virtqueue *vq)
{
	return used_elem_ipa(vq, vq->size);
}

static bool is_power_of_two(u32 x)
{
	return x && !(x & (x - 1));
}

static int broken(const char **why, const char *reason)
{
	*why = reason;
	return -EINVAL;
}

/* Maps one part of the queue whole; NULL if any byte is outside memory. */
static void *map_part(const struct vq_mem *mem, u64 ipa, u64 len)
{
	return mem->map(mem->ctx, ipa, len);
}

int vq_setup(struct virtqueue *vq, const struct vq_mem *mem, const char **why)
{
	void *desc, *avail, *used;

	if (!is_power_of_two(vq->size) || vq->size > VQ_MAX_SIZE)
		return broken(why, "queue size is not a power of two from 1 to "
			      VQ_STR(VQ_MAX_SIZE));
	if (!IS_ALIGNED(vq->desc_ipa, VRING_DESC_ALIGN))
		return broken(why, "descriptor table not 16-byte aligned");
	if (!IS_ALIGNED(vq->avail_ipa, VRING_AVAIL_ALIGN))
		return broken(why, "available ring not 2-byte aligned");
	if (!IS_ALIGNED(vq->used_ipa, VRING_USED_ALIGN))
		return broken(why, "used ring not 4-byte aligned");
	desc = map_part(mem, vq->desc_ipa, desc_bytes(vq->size));
	if (!desc)
		return broken(why, "descriptor table outside guest memory");
	avail = map_part(mem, vq->avail_ipa, avail_bytes(vq->size));
	if (!avail)
		return broken(why, "available ring outside guest memory");
	used = map_part(mem, vq->used_ipa, used_bytes(vq->size));
	if (!used)
		return broken(why, "used ring outside guest memory");
	vq->mem = mem;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	/* The driver zeroed both rings before enabling the queue (§2.7):
	 * both indices start at 0. */
	vq->last_avail = 0;
	vq->used_idx = 0;
	vq->signalled_used = 0;
	vq->signalled_valid = false;
	return 0;
}

/*
 * The avail index the driver has published. Load-acquire: pairs with the
 * driver's write barrier before its store of avail->idx (§2.7.13.3.1,
 * virtio_wmb() in Linux's virtqueue_add), so that the ring entries and
 * descriptors it published are visible to the reads that follow.
 */
static u16 avail_idx_acquire(const struct virtqueue *vq)
{
	return __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
}

/* A snapshot of one descriptor: each field read once. */
static struct vring_desc desc_read(const struct virtqueue *vq, u16 i)
{
	const struct vring_desc *d = &vq->desc[i];

	return (struct vring_desc){
		.addr = READ_ONCE(d->addr),
		.len = READ_ONCE(d->len),
		.flags = READ_ONCE(d->flags),
		.next = READ_ONCE(d->next),
	};
}

/* Adds descriptor @d to @c as its next segment; -EINVAL if it breaks a
 * rule. Keeps: out segments before in segments, each sum < 2^32. */
static int chain_add(const struct virtqueue *vq, struct vq_chain *c,
		     const struct vring_desc *d, const char **why)
{
	bool writable = d->flags & VRING_DESC_F_WRITE;
	struct vq_seg *s = &c->seg[c->nr_out + c->nr_in];
	u32 *total = writable ? &c->in_len : &c->out_len;

	if (d->flags & VRING_DESC_F_INDIRECT)
		return broken(why, "indirect descriptor (not offered)");
	if (!d->len)
		return broken(why, "zero-length descriptor");
	if (!writable && c->nr_in)
		return broken(why, "readable descriptor after a writable one");
	if (d->len > UINT32_MAX - *total)
		return broken(why, "chain of 4 GiB or more");
	if (d->addr + d->len < d->addr)
		return broken(why, "buffer wraps around the address space");
	s->host = vq->mem->map(vq->mem->ctx, d->addr, d->len);
	if (!s->host)
		return broken(why, "buffer outside guest memory");
	s->ipa = d->addr;
	s->len = d->len;
	*total += d->len;
	if (writable)
		c->nr_in++;
	else
		c->nr_out++;
	return 0;
}

/* Walks the chain starting at descriptor @head into @c. Terminates: at
 * most VQ_MAX_SEGS descriptors are read, and a descriptor seen twice
 * (a loop) is refused before that. */
static int chain_walk(const struct virtqueue *vq, u16 head, struct vq_chain *c,
		      const char **why)
{
	u64 seen[VQ_MAX_SIZE / 64] = { 0 };
	u16 i = head;

	c->head = head;
	c->nr_out = c->nr_in = 0;
	c->out_len = c->in_len = 0;
	for (;;) {
		struct vring_desc d;
		int r;

		if (seen[i / 64] & (1ull << (i % 64)))
			return broken(why, "descriptor chain loops");
		if (c->nr_out + c->nr_in == VQ_MAX_SEGS)
			return broken(why, "descriptor chain longer than "
				      VQ_STR(VQ_MAX_SEGS));
		seen[i / 64] |= 1ull << (i % 64);
		d = desc_read(vq, i);
		r = chain_add(vq, c, &d, why);
		if (r)
			return r;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= vq->size)
			return broken(why, "next descriptor index out of range");
		i = d.next;
	}
}

int vq_pop(struct virtqueue *vq, struct vq_chain *c, const char **why)
{
	u16 avail = avail_idx_acquire(vq);
	u16 pending = (u16)(avail - vq->last_avail);
	u16 head;
	int r;

	if (!pending)
		return 0;
	/* At most size chains can be outstanding (§2.7.13: the ring is as
	 * large as the descriptor table). */
	if (pending > vq->size)
		return broken(why, "avail index more than the queue size ahead");
	head = READ_ONCE(vq->avail->ring[vq->last_avail & (vq->size - 1)]);
	if (head >= vq->size)
		return broken(why, "avail ring entry out of range");
	r = chain_walk(vq, head, c, why);
	if (r)
		return r;
	vq->last_avail++;
	return 1;
}

void vq_unpop(struct virtqueue *vq)
{
	vq->last_avail--;
}

void vq_push(struct virtqueue *vq, u16 head, u32 written)
{
	u16 slot = vq->used_idx & (vq->size - 1);
	struct vring_used_elem *e = &vq->used->ring[slot];

	WRITE_ONCE(e->id, (u32)head);
	WRITE_ONCE(e->len, written);
	vq->mem->wrote(vq->mem->ctx, used_elem_ipa(vq, slot), sizeof(*e));
	vq->used_idx++;
	/*
	 * Store-release: the element above, and every byte the device wrote
	 * into the chain's buffers before this call, are visible before the
	 * new index. Pairs with the driver's read barrier after its load of
	 * used->idx (virtio_rmb() in Linux's virtqueue_get_buf).
	 */
	__atomic_store_n(&vq->used->idx, vq->used_idx, __ATOMIC_RELEASE);
	vq->mem->wrote(vq->mem->ctx, vq->used_ipa + offsetof(struct vring_used, idx),
		       sizeof(vq->used->idx));
}

/* virtio 1.2 §2.7.7: the driver wants an interrupt when the used index
 * moves from @old to @new past @event, i.e. @event is in [old, new),
 * all modulo 2^16. */
static bool need_event(u16 event, u16 new, u16 old)
{
	return (u16)(new - event - 1) < (u16)(new - old);
}

bool vq_should_notify(struct virtqueue *vq)
{
	u16 old = vq->signalled_used;
	bool valid = vq->signalled_valid;

	/*
	 * Full barrier between our store of used->idx (vq_push) and the
	 * loads of the driver's suppression fields below. Pairs with the
	 * driver's full barrier between its store of used_event / flags and
	 * its re-read of used->idx (virtio_mb() in Linux's
	 * virtqueue_enable_cb_prepare/poll): either we see its new
	 * used_event, or it sees our new index and needs no interrupt.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->signalled_used = vq->used_idx;
	vq->signalled_valid = true;
	if (valid && old == vq->used_idx)
		return false;                   /* nothing used since */
	if (!vq->event_idx)
		return !(READ_ONCE(vq->avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
	/* The first interrupt after set-up: old means nothing yet. */
	if (!valid)
		return true;
	return need_event(READ_ONCE(*used_event_field(vq)), vq->used_idx, old);
}

bool vq_has_avail(struct virtqueue *vq)
{
	/* Only compared: vq_pop() reads it again, with acquire, before it
	 * reads anything the index published. */
	return READ_ONCE(vq->avail->idx) != vq->last_avail;
}

void vq_enable_notify(struct virtqueue *vq)
{
	if (!vq->event_idx)
		return;     /* used->flags stays 0: the driver always notifies */
	WRITE_ONCE(*avail_event_field(vq), vq->last_avail);
	vq->mem->wrote(vq->mem->ctx, avail_event_ipa(vq), VRING_EVENT_FIELD);
	/*
	 * Full barrier between the store of avail_event and the caller's
	 * next load of avail->idx (vq_has_avail). Pairs with the driver's
	 * full barrier between its store of avail->idx and its load of
	 * avail_event (virtio_mb() in Linux's virtqueue_kick_prepare):
	 * either it sees our avail_event and notifies, or we see its index.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/*
 * Calls @fn on the parts of segments [@first, @first + @nr) of @c that
 * lie at byte @offset .. @offset + @len of their concatenation, in order,
 * and returns the bytes covered.
 */
static u32 chain_span(const struct vq_chain *c, unsigned int first,
		      unsigned int nr, u32 offset, u32 len,
		      void (*fn)(const struct vq_seg *s, u32 at, u32 done,
				 u32 n, void *arg),
		      void *arg)
{
	u32 done = 0;

	for (unsigned int i = first; i < first + nr && done < len; i++) {
		const struct vq_seg *s = &c->seg[i];
		u32 n;

		if (offset >= s->len) {
			offset -= s->len;
			continue;
		}
		n = MIN(s->len - offset, len - done);
		fn(s, offset, done, n, arg);
		done += n;
		offset = 0;
	}
	return done;
}

static void copy_out(const struct vq_seg *s, u32 at, u32 done, u32 n, void *dst)
{
	memcpy((u8 *)dst + done, (const u8 *)s->host + at, n);
}

u32 vq_chain_read(const struct vq_chain *c, u32 offset, void *dst, u32 len)
{
	return chain_span(c, 0, c->nr_out, offset, len, copy_out, dst);
}

struct copy_in_arg {
	const struct vq_mem *mem;
	const void *src;
};

static void copy_in(const struct vq_seg *s, u32 at, u32 done, u32 n, void *arg)
{
	const struct copy_in_arg *a = arg;

	memcpy((u8 *)s->host + at, (const u8 *)a->src + done, n);
	a->mem->wrote(a->mem->ctx, s->ipa + at, n);
}

u32 vq_chain_write(struct virtqueue *vq, const struct vq_chain *c, u32 offset,
		   const void *src, u32 len)
{
	struct copy_in_arg a = { .mem = vq->mem, .src = src };

	return chain_span(c, c->nr_out, c->nr_in, offset, len, copy_in, &a);
}
