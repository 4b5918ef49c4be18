/*
 * Split virtqueues (virtio 1.2 §2.7), device side: walking the chains a
 * guest driver makes available and returning them through the used ring.
 *
 * Everything in a queue's memory is the guest's and may change under us
 * at any time, from any of its vCPUs: every field is read once, checked,
 * and only the checked copy is used. Addresses, lengths and descriptor
 * indices are checked against the memory the device may use (struct
 * vq_mem); a queue that breaks a rule is reported with the reason and
 * the transport puts the device in DEVICE_NEEDS_RESET. The walker never
 * reads or writes a byte outside [ipa, ipa + len) ranges that
 * vq_mem.map() accepted, and never loops on a guest's ring.
 *
 * Host-testable: guest memory is reached only through struct vq_mem.
 * Not thread-safe: the device serialises all calls on one queue.
 */
#ifndef VIRT_VIRTQUEUE_H
#define VIRT_VIRTQUEUE_H

#include "lib/types.h"

/* Largest queue the transport offers (QueueNumMax); a power of two. */
#define VQ_MAX_SIZE 256
/* Segments one chain may have: longer chains are a broken queue. */
#define VQ_MAX_SEGS 16

/* Descriptor flags (virtio 1.2 §2.7.5). */
#define VRING_DESC_F_NEXT 1u
#define VRING_DESC_F_WRITE 2u
#define VRING_DESC_F_INDIRECT 4u   /* not offered: a broken queue if seen */

/* The guest-memory layouts, little-endian (we run little-endian). */
struct vring_desc {
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
};

struct vring_avail {
	u16 flags;
	u16 idx;
	u16 ring[];   /* [size], then u16 used_event with EVENT_IDX */
};

struct vring_used_elem {
	u32 id;
	u32 len;
};

struct vring_used {
	u16 flags;
	u16 idx;
	struct vring_used_elem ring[];   /* [size], then u16 avail_event */
};

#define VRING_AVAIL_F_NO_INTERRUPT 1u

/* Alignment the spec requires of each part (§2.7.1). */
#define VRING_DESC_ALIGN 16
#define VRING_AVAIL_ALIGN 2
#define VRING_USED_ALIGN 4

/* Guest memory as the device may use it. */
struct vq_mem {
	void *ctx;
	/* The host address of [ipa, ipa + len) if every byte is memory of
	 * the guest that its devices may read and write (its RAM), else
	 * NULL. len > 0. The mapping stays valid for the VM's life. */
	void *(*map)(void *ctx, u64 ipa, u64 len);
	/* The device wrote [ipa, ipa + len) (a buffer, the used ring):
	 * called after the bytes are in place, so that dirty logging
	 * (virt/guest_mem.h) sees them. */
	void (*wrote)(void *ctx, u64 ipa, u64 len);
};

/* One queue as the driver set it up through the transport. */
struct virtqueue {
	/* Written by the transport while the queue is not ready. */
	u16 size;                    /* QueueNum: a power of two <= VQ_MAX_SIZE */
	u64 desc_ipa, avail_ipa, used_ipa;
	bool event_idx;              /* VIRTIO_F_RING_EVENT_IDX negotiated */
	/* Set by vq_setup(): */
	const struct vq_mem *mem;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	u16 last_avail;              /* next avail ring slot the device reads */
	u16 used_idx;                /* the device's copy of used->idx */
	u16 signalled_used;          /* used_idx at the last interrupt sent */
	bool signalled_valid;        /* ... and whether that value means anything */
};

/* One segment of a chain: guest memory the device reads (out) or writes (in). */
struct vq_seg {
	u64 ipa;
	u32 len;
	void *host;                  /* vq_mem.map() of [ipa, ipa + len) */
};

/* A chain popped from the avail ring: its readable segments first, then
 * its writable ones (a readable after a writable breaks the queue). */
struct vq_chain {
	u16 head;                    /* descriptor index to return in vq_push() */
	u16 nr_out, nr_in;
	u32 out_len, in_len;         /* bytes in all, each at most 2^32 - 1 */
	struct vq_seg seg[VQ_MAX_SEGS];   /* [0, nr_out) out, then nr_in in */
};

/*
 * Checks the queue's size and addresses (alignment, inside memory the
 * device may use) and resets the device's indices; called when the
 * driver writes QueueReady = 1. Returns 0, or -EINVAL with *@why set to
 * a fixed string naming the broken rule.
 */
int vq_setup(struct virtqueue *vq, const struct vq_mem *mem, const char **why);

/*
 * Takes the next available chain into @c. Returns 1, 0 if the driver
 * has made none available, or -EINVAL with *@why set when the queue is
 * broken (avail index more than size ahead, a descriptor index out of
 * range, a loop or a chain longer than VQ_MAX_SEGS, a buffer outside
 * memory, a zero-length or indirect descriptor, a readable descriptor
 * after a writable one). Reads the descriptors only after the avail
 * index that published them (acquire order).
 */
int vq_pop(struct virtqueue *vq, struct vq_chain *c, const char **why);

/* Gives back the chain vq_pop() returned last, unprocessed: the next
 * vq_pop() returns it again (the device had nowhere to put it yet). */
void vq_unpop(struct virtqueue *vq);

/* Returns chain @head to the driver with @written bytes written into
 * its writable segments; the used entry is visible before the used
 * index (release order). */
void vq_push(struct virtqueue *vq, u16 head, u32 written);

/*
 * After one or more vq_push() calls: whether the driver wants an
 * interrupt for them (used_event with EVENT_IDX, else the avail ring's
 * NO_INTERRUPT flag). Call once per batch; it records what was signalled.
 */
bool vq_should_notify(struct virtqueue *vq);

/* True when the driver has chains available that vq_pop() has not taken. */
bool vq_has_avail(struct virtqueue *vq);

/*
 * With EVENT_IDX: asks the driver to notify the device when it makes
 * the next chain available (avail_event = last_avail). A device that
 * found the queue empty calls this, then checks vq_has_avail() again
 * (the driver may have added one in between).
 */
void vq_enable_notify(struct virtqueue *vq);

/* Copies up to @len bytes from the readable segments of @c, starting
 * @offset bytes in, to @dst. Returns the count copied. */
u32 vq_chain_read(const struct vq_chain *c, u32 offset, void *dst, u32 len);

/* Copies @len bytes into the writable segments of @c, starting @offset
 * bytes in, and reports them with vq_mem.wrote(). Returns the count
 * copied (less than @len if the segments end first). */
u32 vq_chain_write(struct virtqueue *vq, const struct vq_chain *c, u32 offset,
		   const void *src, u32 len);

#endif
