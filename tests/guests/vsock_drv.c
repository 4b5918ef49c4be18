/*
 * The test guests' virtio-vsock driver (vsock_drv.h): virtio-mmio
 * bring-up, the three split virtqueues, and stream sockets with
 * credit-based flow control.
 *
 * Structure: vsock_poll() drains the used rings (RX packets into their
 * sockets' buffers, sent TX slots back to the free list, events) and
 * never waits; what a packet obliges us to send (RESPONSE, RST,
 * CREDIT_UPDATE) is only noted there and sent by send_owed(), so that
 * receiving never depends on TX room. A wait for TX room keeps draining
 * RX (re-posting buffers), so two guests that both send never block each
 * other on RX buffers.
 */
#include "tests/guests/vsock_drv.h"

#include <stdarg.h>

#include "arch/arm64/barrier.h"
#include "arch/arm64/mmio.h"
#include "lib/compiler.h"
#include "lib/printf.h"
#include "lib/spinlock.h"
#include "lib/string.h"
#include "tests/guests/gutil.h"
#include "tests/guests/rt/timer.h"
#include "virt/virtio_mmio.h"

#define HDR_SIZE ((u32)sizeof(struct virtio_vsock_hdr))
_Static_assert(sizeof(struct virtio_vsock_hdr) == 44, "virtio 1.2 §5.10.6 header");

/* Device configuration (§5.10.4): le64 guest_cid at offset 0. */
#define VSOCK_CONFIG_GUEST_CID 0
/* struct virtio_vsock_event (§5.10.6.7): le32 id. */
#define VIRTIO_VSOCK_EVENT_TRANSPORT_RESET 0
#define VRING_USED_F_NO_NOTIFY 1u     /* §2.7.10: the device needs no kicks */
#define VIRTIO_DEVICE_ID_NONE 0       /* an empty virtio-mmio slot */
#define VIRTIO_MMIO_VERSION_2 2
/* Local ports we connect from: Linux's ephemeral range. */
#define VSOCK_EPHEMERAL_PORT 49152u
#define SHUTDOWN_BOTH (VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND)
/* A wait polls without a break this long, then sleeps a little between
 * polls, so that a guest waiting on another VM leaves the host CPU to it
 * (and one served at once, as by CID 2 on its own vCPU, is not slowed). */
#define IDLE_AFTER_US 2000
#define IDLE_SLEEP_US 100
/* Reads of the config space retried while its generation moves. */
#define CONFIG_RETRIES 16
/* How long the device may take to show status 0 after a reset. */
#define RESET_WAIT_MS 1000
#define PAGE_SIZE 4096ULL

_Static_assert((VSOCK_SOCK_BUF & (VSOCK_SOCK_BUF - 1)) == 0, "ring of bytes");
_Static_assert(VSOCK_RX_QSIZE <= VQ_MAX_SIZE && VSOCK_TX_QSIZE <= VQ_MAX_SIZE,
	       "the hypervisor's QueueNumMax");

/* ------------------------------------------------------------ errors */

const char *vsock_why(const struct vsock_dev *d)
{
	return d->why;
}

static __printf(3, 4) int fail(struct vsock_dev *d, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->why, sizeof(d->why), fmt, ap);
	va_end(ap);
	return err;
}

/* The device broke a rule: the driver gives up on it for good. */
static __printf(2, 3) int device_broken(struct vsock_dev *d, const char *fmt, ...)
{
	va_list ap;

	if (d->broken)
		return VSOCK_E_DEVICE;     /* keep the first reason */
	va_start(ap, fmt);
	vsnprintf(d->why, sizeof(d->why), fmt, ap);
	va_end(ap);
	d->broken = true;
	return VSOCK_E_DEVICE;
}

/* ---------------------------------------------------------- registers */

static u32 reg_read(const struct vsock_dev *d, u32 off)
{
	return mmio_read32(d->base + off);
}

static void reg_write(const struct vsock_dev *d, u32 off, u32 v)
{
	mmio_write32(d->base + off, v);
}

static void status_set(const struct vsock_dev *d, u32 bits)
{
	reg_write(d, VIRTIO_MMIO_STATUS, reg_read(d, VIRTIO_MMIO_STATUS) | bits);
}

/* A wait ran out: say whether the device gave up (NEEDS_RESET) too. */
static int timed_out(struct vsock_dev *d, const char *what)
{
	u32 status = reg_read(d, VIRTIO_MMIO_STATUS);

	if (status & VIRTIO_STATUS_NEEDS_RESET)
		return device_broken(d, "%s: the device needs a reset (status 0x%x)", what,
				     status);
	return fail(d, VSOCK_E_TIMEOUT, "%s: no answer in time (device status 0x%x)",
		    what, status);
}

/* -------------------------------------------------------------- waits */

/* A bounded wait: its deadline, and when it starts to sleep between polls. */
struct wait {
	u64 deadline, sleep_from;
};

static struct wait wait_begin(u64 ms)
{
	u64 now = rt_timer_count(RT_TIMER_VIRT);

	return (struct wait){ .deadline = now + rt_ms_to_ticks(ms),
			      .sleep_from = now + IDLE_AFTER_US * rt_counter_freq() / 1000000 };
}

/* A wait that is over already: for sends that must not wait (and are
 * made again later if there is no room now). */
static const struct wait no_wait;

static void wait_idle(const struct wait *w)
{
	if (rt_past(w->sleep_from))
		gu_sleep_us(IDLE_SLEEP_US);
	else
		cpu_relax();
}

/* ------------------------------------------------------------- queues */

/* Puts chain @head in the next avail slot; queue_kick() publishes it. */
static void queue_add(struct vsock_vq *q, u16 head)
{
	WRITE_ONCE(q->avail->ring[q->avail_idx & (q->size - 1)], head);
	q->avail_idx++;
}

/* virtio 1.2 §2.7.10: notify if the device asked (avail_event) to hear
 * of the index moving from @old to @new past it. */
static bool need_event(u16 event, u16 new, u16 old)
{
	return (u16)(new - event - 1) < (u16)(new - old);
}

/* §2.7.8: the device's avail_event follows used->ring[size]. */
static u16 avail_event(const struct vsock_vq *q)
{
	const u16 *event = (const void *)&q->used->ring[q->size];

	return READ_ONCE(*event);
}

/* Publishes what queue_add() queued and notifies the device if it wants. */
static void queue_kick(struct vsock_dev *d, struct vsock_vq *q)
{
	u16 old = q->kicked_idx, new = q->avail_idx;
	bool notify;

	if (old == new)
		return;
	/*
	 * Descriptors and ring slots before the index (§2.7.13.3.1). Pairs
	 * with the device's load-acquire of avail->idx in vq_pop()
	 * (virt/virtqueue.c, avail_idx_acquire()).
	 */
	dmb(ishst);
	WRITE_ONCE(q->avail->idx, new);
	q->kicked_idx = new;
	/*
	 * Our store of avail->idx before our load of avail_event (or
	 * used->flags). Pairs with the device's full barrier between its
	 * store of avail_event and its second look at avail->idx
	 * (vq_enable_notify() then vq_has_avail()): either it sees our
	 * index, or we see its avail_event and notify. It also orders the
	 * ring stores before the QueueNotify write below, which traps to
	 * the hypervisor on this vCPU.
	 */
	dmb(ish);
	if (d->event_idx)
		notify = need_event(avail_event(q), new, old);
	else
		notify = !(READ_ONCE(q->used->flags) & VRING_USED_F_NO_NOTIFY);
	if (notify) {
		reg_write(d, VIRTIO_MMIO_QUEUE_NOTIFY, q->index);
		d->notifies++;
	}
}

/*
 * The next used entry, if the device returned one: true with *@e. The
 * device may never have more than size entries outstanding.
 */
static bool queue_get_used(struct vsock_dev *d, struct vsock_vq *q,
			struct vring_used_elem *e)
{
	u16 idx = READ_ONCE(q->used->idx);
	const struct vring_used_elem *u;

	if (idx == q->last_used || d->broken)
		return false;
	/*
	 * The entries, and the buffers they return, are read after the
	 * index. Pairs with the device's store-release of used->idx in
	 * vq_push() (virt/virtqueue.c).
	 */
	dmb(ishld);
	if ((u16)(idx - q->last_used) > q->size) {
		device_broken(d, "queue %u: used index %u is %u entries past ours (%u), "
			      "size %u", q->index, idx, (u16)(idx - q->last_used),
			      q->last_used, q->size);
		return false;
	}
	u = &q->used->ring[q->last_used & (q->size - 1)];
	e->id = READ_ONCE(u->id);
	e->len = READ_ONCE(u->len);
	q->last_used++;
	return true;
}

/* Rings in zeroed pages of our RAM: avail then used, each with its
 * event field (§2.7: used_event after avail->ring, avail_event after
 * used->ring). */
static void queue_alloc(struct vsock_vq *q, u16 index, u16 size)
{
	q->index = index;
	q->size = size;
	q->desc = gu_carve(sizeof(struct vring_desc) * size);
	q->avail = gu_carve(sizeof(struct vring_avail) + sizeof(u16) * (size + 1u));
	q->used = gu_carve(sizeof(struct vring_used) +
			   sizeof(struct vring_used_elem) * size + sizeof(u16));
}

static void reg_write64(const struct vsock_dev *d, u32 low, u64 v)
{
	reg_write(d, low, (u32)v);
	reg_write(d, low + 4, (u32)(v >> 32));
}

/* §4.2.3.2: select, check it is not in use, size, addresses, ready. */
static int queue_setup(struct vsock_dev *d, struct vsock_vq *q)
{
	u32 max;

	reg_write(d, VIRTIO_MMIO_QUEUE_SEL, q->index);
	if (reg_read(d, VIRTIO_MMIO_QUEUE_READY))
		return device_broken(d, "queue %u is ready before we set it up", q->index);
	max = reg_read(d, VIRTIO_MMIO_QUEUE_NUM_MAX);
	if (max < q->size)
		return device_broken(d, "queue %u: QueueNumMax %u, we need %u", q->index,
				     max, q->size);
	reg_write(d, VIRTIO_MMIO_QUEUE_NUM, q->size);
	reg_write64(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (u64)q->desc);
	reg_write64(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (u64)q->avail);
	reg_write64(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (u64)q->used);
	reg_write(d, VIRTIO_MMIO_QUEUE_READY, 1);
	if (reg_read(d, VIRTIO_MMIO_QUEUE_READY) != 1)
		return device_broken(d, "queue %u: QueueReady does not read back 1", q->index);
	return 0;
}

/* ------------------------------------------------------------ buffers */

static void rx_post(struct vsock_dev *d, u16 buf)
{
	d->rx_posted[buf] = true;
	queue_add(&d->rxq, (u16)(2 * buf));
}

/* Fixed descriptor pairs: header (device-writable, chained), payload. */
static void rx_fill(struct vsock_dev *d)
{
	for (u16 i = 0; i < VSOCK_RX_BUFS; i++) {
		struct vring_desc *h = &d->rxq.desc[(size_t)2 * i], *p = h + 1;

		*h = (struct vring_desc){ .addr = (u64)&d->rx_hdr[i], .len = HDR_SIZE,
					  .flags = VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
					  .next = (u16)(2 * i + 1) };
		*p = (struct vring_desc){ .addr = (u64)d->rx_data[i], .len = VSOCK_RX_DATA,
					  .flags = VRING_DESC_F_WRITE };
		rx_post(d, i);
	}
	queue_kick(d, &d->rxq);
}

static void ev_fill(struct vsock_dev *d)
{
	for (u16 i = 0; i < VSOCK_EV_QSIZE; i++) {
		d->evq.desc[i] = (struct vring_desc){ .addr = (u64)&d->ev_buf[i],
						      .len = sizeof(u32),
						      .flags = VRING_DESC_F_WRITE };
		queue_add(&d->evq, i);
	}
	queue_kick(d, &d->evq);
}

/* ------------------------------------------------------------ bring-up */

/* §2.4.1: a config field is read again while the generation moves. */
static int read_guest_cid(struct vsock_dev *d)
{
	for (unsigned int i = 0; i < CONFIG_RETRIES; i++) {
		u32 gen = reg_read(d, VIRTIO_MMIO_CONFIG_GENERATION);
		/* §4.2.2.2: 64-bit fields with two 32-bit reads. */
		u32 lo = reg_read(d, VIRTIO_MMIO_CONFIG + VSOCK_CONFIG_GUEST_CID);
		u32 hi = reg_read(d, VIRTIO_MMIO_CONFIG + VSOCK_CONFIG_GUEST_CID + 4);

		if (gen == reg_read(d, VIRTIO_MMIO_CONFIG_GENERATION)) {
			d->guest_cid = (u64)hi << 32 | lo;
			if (d->guest_cid <= VSOCK_HOST_CID || d->guest_cid >= 0xffffffffu)
				return device_broken(d, "guest CID %llu is reserved",
						     (unsigned long long)d->guest_cid);
			return 0;
		}
	}
	return device_broken(d, "the config generation kept moving");
}

static int check_identity(struct vsock_dev *d)
{
	u32 magic = reg_read(d, VIRTIO_MMIO_MAGIC_VALUE);
	u32 version = reg_read(d, VIRTIO_MMIO_VERSION);
	u32 id = reg_read(d, VIRTIO_MMIO_DEVICE_ID);

	if (magic != VIRTIO_MMIO_MAGIC)
		return fail(d, VSOCK_E_NODEV, "no virtio-mmio transport at 0x%llx "
			    "(magic 0x%x)", (unsigned long long)d->base, magic);
	if (version != VIRTIO_MMIO_VERSION_2)
		return fail(d, VSOCK_E_NODEV, "virtio-mmio version %u, not 2", version);
	if (id == VIRTIO_DEVICE_ID_NONE)
		return fail(d, VSOCK_E_NODEV, "no device in the virtio-mmio slot at 0x%llx",
			    (unsigned long long)d->base);
	if (id != VIRTIO_ID_VSOCK)
		return fail(d, VSOCK_E_NODEV, "device type %u, not vsock (%u)", id,
			    VIRTIO_ID_VSOCK);
	return 0;
}

/* §3.1.1 steps 4-6: VERSION_1 required, EVENT_IDX if both want it. */
static int negotiate(struct vsock_dev *d, bool event_idx)
{
	u64 offered, wanted;

	reg_write(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	offered = reg_read(d, VIRTIO_MMIO_DEVICE_FEATURES);
	reg_write(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	offered |= (u64)reg_read(d, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	if (!(offered & (1ULL << VIRTIO_F_VERSION_1)))
		return device_broken(d, "VERSION_1 not offered (features 0x%llx)",
				     (unsigned long long)offered);
	wanted = 1ULL << VIRTIO_F_VERSION_1;
	if (event_idx && (offered & (1ULL << VIRTIO_F_RING_EVENT_IDX)))
		wanted |= 1ULL << VIRTIO_F_RING_EVENT_IDX;
	d->event_idx = wanted & (1ULL << VIRTIO_F_RING_EVENT_IDX);
	reg_write(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	reg_write(d, VIRTIO_MMIO_DRIVER_FEATURES, (u32)wanted);
	reg_write(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	reg_write(d, VIRTIO_MMIO_DRIVER_FEATURES, (u32)(wanted >> 32));
	status_set(d, VIRTIO_STATUS_FEATURES_OK);
	if (!(reg_read(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK))
		return device_broken(d, "features 0x%llx not accepted (FEATURES_OK "
				     "did not stick)", (unsigned long long)wanted);
	return 0;
}

static int device_reset(struct vsock_dev *d)
{
	u64 deadline = rt_deadline_ms(RESET_WAIT_MS);

	reg_write(d, VIRTIO_MMIO_STATUS, 0);
	/* §2.1.2: wait for status to read 0 before going on. */
	while (reg_read(d, VIRTIO_MMIO_STATUS)) {
		if (rt_past(deadline))
			return device_broken(d, "status not 0 %u ms after the reset",
					     RESET_WAIT_MS);
		cpu_relax();
	}
	return 0;
}

static void alloc_all(struct vsock_dev *d)
{
	queue_alloc(&d->rxq, VSOCK_VQ_RX, VSOCK_RX_QSIZE);
	queue_alloc(&d->txq, VSOCK_VQ_TX, VSOCK_TX_QSIZE);
	queue_alloc(&d->evq, VSOCK_VQ_EVENT, VSOCK_EV_QSIZE);
	d->rx_hdr = gu_carve(sizeof(*d->rx_hdr) * VSOCK_RX_BUFS);
	d->rx_data = gu_carve(sizeof(*d->rx_data) * VSOCK_RX_BUFS);
	d->tx_pkt = gu_carve(sizeof(*d->tx_pkt) * VSOCK_TX_QSIZE);
	d->ev_buf = gu_carve(sizeof(*d->ev_buf) * VSOCK_EV_QSIZE);
	for (unsigned int i = 0; i < VSOCK_MAX_SOCKS; i++) {
		d->socks[i].dev = d;
		d->socks[i].buf = gu_carve(VSOCK_SOCK_BUF);
	}
}

int vsock_init(struct vsock_dev *d, paddr_t base, bool event_idx)
{
	int r;

	memset(d, 0, sizeof(*d));
	d->base = base;
	d->next_port = VSOCK_EPHEMERAL_PORT;
	r = check_identity(d);
	if (r)
		return r;
	r = device_reset(d);
	if (r)
		return r;
	status_set(d, VIRTIO_STATUS_ACKNOWLEDGE);
	status_set(d, VIRTIO_STATUS_DRIVER);
	r = negotiate(d, event_idx);
	if (r)
		goto failed;
	alloc_all(d);
	r = queue_setup(d, &d->rxq);
	if (!r)
		r = queue_setup(d, &d->txq);
	if (!r)
		r = queue_setup(d, &d->evq);
	if (!r)
		r = read_guest_cid(d);
	if (r)
		goto failed;
	/* We poll: no used-buffer interrupts wanted (without EVENT_IDX the
	 * flag says so; with it used_event stays 0, an interrupt per 2^16
	 * buffers; the SPI is not enabled in the GIC either way). */
	if (!d->event_idx) {
		d->rxq.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
		d->txq.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
		d->evq.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	}
	status_set(d, VIRTIO_STATUS_DRIVER_OK);
	if (reg_read(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET) {
		r = device_broken(d, "the device needs a reset right after DRIVER_OK");
		goto failed;
	}
	/* §3.1.1: no notification before DRIVER_OK, so buffers come now. */
	rx_fill(d);
	ev_fill(d);
	return 0;
failed:
	status_set(d, VIRTIO_STATUS_FAILED);
	return r;
}

/* ---------------------------------------------------------------- TX */

static void tx_reclaim(struct vsock_dev *d)
{
	struct vring_used_elem e;

	while (queue_get_used(d, &d->txq, &e)) {
		if (e.id >= VSOCK_TX_QSIZE || !d->tx_busy[e.id]) {
			device_broken(d, "TX used entry %u was not made available", e.id);
			return;
		}
		d->tx_busy[e.id] = false;
	}
}

static int tx_free_slot(const struct vsock_dev *d)
{
	for (int i = 0; i < VSOCK_TX_QSIZE; i++)
		if (!d->tx_busy[i])
			return i;
	return -1;
}

static void rx_drain(struct vsock_dev *d);

/* A free TX slot, waiting for the device to take sent ones (draining
 * RX meanwhile) within @w. */
static int tx_slot(struct vsock_dev *d, const struct wait *w)
{
	for (;;) {
		int slot;

		tx_reclaim(d);
		if (d->broken)
			return VSOCK_E_DEVICE;
		slot = tx_free_slot(d);
		if (slot >= 0)
			return slot;
		if (w == &no_wait)
			return VSOCK_E_TIMEOUT;     /* not an error: sent later */
		rx_drain(d);
		if (rt_past(w->deadline))
			return timed_out(d, "TX queue full");
		wait_idle(w);
	}
}

/* Sends one packet with header @h (ours to fill but for the payload
 * length) and @len bytes of @data. */
static int tx_packet(struct vsock_dev *d, const struct virtio_vsock_hdr *h,
		     const void *data, u32 len, const struct wait *w)
{
	int slot = tx_slot(d, w);
	struct vsock_tx_pkt *p;

	if (slot < 0)
		return slot;
	p = &d->tx_pkt[slot];
	p->hdr = *h;
	p->hdr.len = len;
	if (len)
		memcpy(p->data, data, len);
	d->txq.desc[slot] = (struct vring_desc){ .addr = (u64)p, .len = HDR_SIZE + len };
	d->tx_busy[slot] = true;
	queue_add(&d->txq, (u16)slot);
	queue_kick(d, &d->txq);
	d->tx_pkts++;
	return 0;
}

/* A packet of socket @s: addresses, and our credit (which the peer
 * hears of with every packet). */
static int sock_send_op(struct vsock_sock *s, u16 op, u32 flags, const void *data,
			u32 len, const struct wait *w)
{
	struct vsock_dev *d = s->dev;
	struct virtio_vsock_hdr h = {
		.src_cid = d->guest_cid, .dst_cid = s->peer_cid,
		.src_port = s->local_port, .dst_port = s->peer_port,
		.type = VIRTIO_VSOCK_TYPE_STREAM, .op = op, .flags = flags,
		.buf_alloc = VSOCK_SOCK_BUF, .fwd_cnt = s->fwd_cnt,
	};
	int r = tx_packet(d, &h, data, len, w);

	if (!r)
		s->fwd_sent = s->fwd_cnt;
	return r;
}

/* The answers vsock_poll() noted, as far as TX room allows right now
 * (what is left goes with the next call). */
static void send_owed(struct vsock_dev *d)
{

	tx_reclaim(d);
	for (unsigned int i = 0; i < VSOCK_MAX_SOCKS; i++) {
		struct vsock_sock *s = &d->socks[i];

		if (s->state == SOCK_FREE)
			continue;
		if (s->rst_due && !sock_send_op(s, VIRTIO_VSOCK_OP_RST, 0, NULL, 0,
						&no_wait)) {
			s->rst_due = false;
			s->state = SOCK_CLOSED;
		}
		if (s->response_due &&
		    !sock_send_op(s, VIRTIO_VSOCK_OP_RESPONSE, 0, NULL, 0, &no_wait))
			s->response_due = false;
		if (s->credit_update_due &&
		    !sock_send_op(s, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 0, &no_wait)) {
			s->credit_update_due = false;
			s->credit_updates_sent++;
		}
	}
	if (d->orphan_rst_due) {
		struct virtio_vsock_hdr h = {
			.src_cid = d->guest_cid, .dst_cid = d->orphan.src_cid,
			.src_port = d->orphan.dst_port, .dst_port = d->orphan.src_port,
			.type = VIRTIO_VSOCK_TYPE_STREAM, .op = VIRTIO_VSOCK_OP_RST,
		};

		if (!tx_packet(d, &h, NULL, 0, &no_wait))
			d->orphan_rst_due = false;
	}
}

/* ---------------------------------------------------------------- RX */

static struct vsock_sock *sock_find(struct vsock_dev *d, const struct virtio_vsock_hdr *h)
{
	for (unsigned int i = 0; i < VSOCK_MAX_SOCKS; i++) {
		struct vsock_sock *s = &d->socks[i];

		if (s->state != SOCK_FREE && s->local_port == h->dst_port &&
		    s->peer_port == h->src_port && s->peer_cid == h->src_cid)
			return s;
	}
	return NULL;
}

static struct vsock_sock *sock_alloc(struct vsock_dev *d)
{
	for (unsigned int i = 0; i < VSOCK_MAX_SOCKS; i++) {
		struct vsock_sock *s = &d->socks[i];

		if (s->state == SOCK_FREE) {
			u8 *buf = s->buf;

			memset(s, 0, sizeof(*s));
			s->dev = d;
			s->buf = buf;
			return s;
		}
	}
	return NULL;
}

/* A packet for no socket: RST back, unless it is an RST (§5.10.6.4). */
static void orphan(struct vsock_dev *d, const struct virtio_vsock_hdr *h)
{
	if (h->op == VIRTIO_VSOCK_OP_RST)
		return;
	if (d->orphan_rst_due) {
		d->orphans_dropped++;
		return;
	}
	d->orphan = *h;
	d->orphan_rst_due = true;
}

static void accept_request(struct vsock_dev *d, const struct virtio_vsock_hdr *h)
{
	struct vsock_sock *s = sock_alloc(d);

	if (!s) {
		orphan(d, h);     /* no room: refused */
		return;
	}
	s->state = SOCK_OPEN;
	s->accepted = true;
	s->response_due = true;
	s->peer_cid = h->src_cid;
	s->peer_port = h->src_port;
	s->local_port = h->dst_port;
	s->peer_buf_alloc = h->buf_alloc;
	s->peer_fwd_cnt = h->fwd_cnt;
}

/* The peer broke the stream's rules: the socket fails and is reset. */
static __printf(3, 4) void sock_violation(struct vsock_sock *s, int err,
					  const char *fmt, ...)
{
	if (!s->err) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(s->dev->why, sizeof(s->dev->why), fmt, ap);
		va_end(ap);
		s->err = err;
	}
	s->rst_due = true;
}

/* Credit news from any packet: fwd_cnt may only move forward, and never
 * past what we sent. */
static void take_credit(struct vsock_sock *s, const struct virtio_vsock_hdr *h)
{
	if ((u32)(h->fwd_cnt - s->peer_fwd_cnt) > (u32)(s->tx_cnt - s->peer_fwd_cnt)) {
		sock_violation(s, VSOCK_E_DEVICE, "peer %llu:%u: fwd_cnt %u, but we "
			       "sent %u bytes and it had consumed %u",
			       (unsigned long long)s->peer_cid, s->peer_port, h->fwd_cnt,
			       s->tx_cnt, s->peer_fwd_cnt);
		return;
	}
	s->peer_fwd_cnt = h->fwd_cnt;
	s->peer_buf_alloc = h->buf_alloc;
}

/* Payload into the socket's byte ring: never more than the credit we
 * gave (buf_alloc - (rx_cnt - fwd_cnt) = the free room). */
static void sock_rw(struct vsock_sock *s, const u8 *data, u32 len)
{
	u32 room = VSOCK_SOCK_BUF - (s->rx_cnt - s->fwd_cnt);
	u32 at = s->rx_cnt & (VSOCK_SOCK_BUF - 1);
	u32 first = MIN(len, VSOCK_SOCK_BUF - at);

	if (s->state != SOCK_OPEN || (s->peer_shutdown & VIRTIO_VSOCK_SHUTDOWN_SEND))
		return;           /* after we or it shut down: dropped */
	if (len > room) {
		sock_violation(s, VSOCK_E_DEVICE, "peer %llu:%u sent %u bytes with %u of "
			       "credit left", (unsigned long long)s->peer_cid,
			       s->peer_port, len, room);
		return;
	}
	memcpy(s->buf + at, data, first);
	memcpy(s->buf, data + first, len - first);
	s->rx_cnt += len;
}

static void sock_packet(struct vsock_sock *s, const struct virtio_vsock_hdr *h,
			const u8 *data)
{
	/* An RST's credit fields mean nothing (a device may send zeros). */
	if (h->op != VIRTIO_VSOCK_OP_RST)
		take_credit(s, h);
	switch (h->op) {
	case VIRTIO_VSOCK_OP_RESPONSE:
		if (s->state != SOCK_CONNECTING)
			sock_violation(s, VSOCK_E_DEVICE, "RESPONSE on an open connection");
		else
			s->state = SOCK_OPEN;
		break;
	case VIRTIO_VSOCK_OP_RW:
		sock_rw(s, data, h->len);
		break;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		break;
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		s->credit_update_due = true;
		break;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		s->peer_shutdown |= h->flags & SHUTDOWN_BOTH;
		/* §5.10.6.5: a full shutdown is answered with RST. */
		if ((s->peer_shutdown & SHUTDOWN_BOTH) == SHUTDOWN_BOTH)
			s->rst_due = true;
		break;
	case VIRTIO_VSOCK_OP_RST:
		s->peer_reset = true;
		s->rst_due = false;
		s->state = SOCK_CLOSED;
		break;
	default:      /* REQUEST on a connection, or no op we know */
		sock_violation(s, VSOCK_E_DEVICE, "op %u on an open connection", h->op);
	}
}

static void rx_packet(struct vsock_dev *d, const struct virtio_vsock_hdr *h,
		      const u8 *data)
{
	struct vsock_sock *s;

	d->rx_pkts++;
	if (h->dst_cid != d->guest_cid) {
		device_broken(d, "packet for CID %llu delivered to CID %llu (op %u from "
			      "%llu:%u)", (unsigned long long)h->dst_cid,
			      (unsigned long long)d->guest_cid, h->op,
			      (unsigned long long)h->src_cid, h->src_port);
		return;
	}
	if (h->type != VIRTIO_VSOCK_TYPE_STREAM) {
		orphan(d, h);      /* §5.10.6.4: unsupported type: RST */
		return;
	}
	s = sock_find(d, h);
	if (s)
		sock_packet(s, h, data);
	else if (h->op == VIRTIO_VSOCK_OP_REQUEST && d->listen_port &&
		 h->dst_port == d->listen_port)
		accept_request(d, h);
	else
		orphan(d, h);
}

/* Copies every returned RX buffer out (header read once), hands it on
 * and gives the buffer straight back to the device. */
static void rx_drain(struct vsock_dev *d)
{
	struct vring_used_elem e;

	while (queue_get_used(d, &d->rxq, &e)) {
		u16 buf = (u16)(e.id / 2);
		struct virtio_vsock_hdr h;

		if (e.id % 2 || buf >= VSOCK_RX_BUFS || !d->rx_posted[buf]) {
			device_broken(d, "RX used entry %u was not made available", e.id);
			return;
		}
		d->rx_posted[buf] = false;
		memcpy(&h, (const void *)&d->rx_hdr[buf], HDR_SIZE);
		if (e.len < HDR_SIZE || h.len > VSOCK_RX_DATA || h.len > e.len - HDR_SIZE) {
			device_broken(d, "RX buffer %u: %u bytes written, header says %u "
				      "bytes of payload (op %u)", buf, e.len, h.len, h.op);
			return;
		}
		rx_packet(d, &h, d->rx_data[buf]);
		rx_post(d, buf);
	}
	queue_kick(d, &d->rxq);
}

/* Events (§5.10.6.7): a transport reset drops every connection. */
static void ev_drain(struct vsock_dev *d)
{
	struct vring_used_elem e;

	while (queue_get_used(d, &d->evq, &e)) {
		if (e.id >= VSOCK_EV_QSIZE || e.len < sizeof(u32)) {
			device_broken(d, "event used entry %u (%u bytes) is not ours", e.id, e.len);
			return;
		}
		if (READ_ONCE(d->ev_buf[e.id]) == VIRTIO_VSOCK_EVENT_TRANSPORT_RESET) {
			d->transport_resets++;
			for (unsigned int i = 0; i < VSOCK_MAX_SOCKS; i++) {
				if (d->socks[i].state != SOCK_FREE) {
					d->socks[i].peer_reset = true;
					d->socks[i].state = SOCK_CLOSED;
				}
			}
			read_guest_cid(d);
		}
		queue_add(&d->evq, (u16)e.id);
	}
	queue_kick(d, &d->evq);
}

void vsock_poll(struct vsock_dev *d)
{
	if (d->broken)
		return;
	rx_drain(d);
	ev_drain(d);
	send_owed(d);
}

/* ------------------------------------------------------------ sockets */

/* One step of a wait: poll, then the bound, then a pause. 0 to go on,
 * else the error. */
static int wait_step(struct vsock_dev *d, const struct wait *w, const char *what)
{
	vsock_poll(d);
	if (d->broken)
		return VSOCK_E_DEVICE;
	if (rt_past(w->deadline))
		return timed_out(d, what);
	wait_idle(w);
	return 0;
}

int vsock_connect(struct vsock_dev *d, u64 cid, u32 port, u64 timeout_ms,
		  struct vsock_sock **out)
{
	struct vsock_sock *s;
	struct wait w = wait_begin(timeout_ms);
	int r;

	if (d->broken)
		return VSOCK_E_DEVICE;
	s = sock_alloc(d);
	if (!s)
		return fail(d, VSOCK_E_NOSOCK, "all %u sockets in use", VSOCK_MAX_SOCKS);
	s->peer_cid = cid;
	s->peer_port = port;
	s->local_port = d->next_port++;
	s->timeout_ms = timeout_ms;
	s->state = SOCK_CONNECTING;
	r = sock_send_op(s, VIRTIO_VSOCK_OP_REQUEST, 0, NULL, 0, &w);
	while (!r && s->state == SOCK_CONNECTING)
		r = wait_step(d, &w, "connect");
	if (!r && s->state == SOCK_OPEN && !s->err) {
		*out = s;
		return 0;
	}
	if (!r)
		r = s->err ? s->err : s->peer_reset ? VSOCK_E_REFUSED : VSOCK_E_RESET;
	if (r == VSOCK_E_REFUSED)
		fail(d, r, "connect to %llu:%u: refused (RST)", (unsigned long long)cid, port);
	s->state = SOCK_FREE;
	return r;
}

void vsock_listen(struct vsock_dev *d, u32 port)
{
	d->listen_port = port;
}

int vsock_accept(struct vsock_dev *d, u64 wait_ms, u64 timeout_ms,
		 struct vsock_sock **out)
{
	struct wait w = wait_begin(wait_ms);
	int r = 0;

	while (!r) {
		for (unsigned int i = 0; i < VSOCK_MAX_SOCKS; i++) {
			struct vsock_sock *s = &d->socks[i];

			if (s->state != SOCK_FREE && s->accepted) {
				s->accepted = false;
				s->timeout_ms = timeout_ms;
				*out = s;
				return 0;
			}
		}
		r = wait_step(d, &w, "accept");
	}
	return r;
}

/* The peer's room for our bytes: its buffer less what it has not yet
 * consumed of what we sent (0 if it shrank its buffer below that). */
static u32 peer_credit(const struct vsock_sock *s)
{
	u32 in_flight = s->tx_cnt - s->peer_fwd_cnt;

	return in_flight > s->peer_buf_alloc ? 0 : s->peer_buf_alloc - in_flight;
}

/* Why a socket cannot go on, or 0. */
static int sock_state_err(const struct vsock_sock *s)
{
	if (s->dev->broken)
		return VSOCK_E_DEVICE;
	if (s->err)
		return s->err;
	if (s->peer_reset || s->state != SOCK_OPEN)
		return VSOCK_E_RESET;
	return 0;
}

/* Why nothing more may be sent on @s, or 0. */
static int send_err(struct vsock_sock *s)
{
	int r = sock_state_err(s);

	if (!r && (s->peer_shutdown & VIRTIO_VSOCK_SHUTDOWN_RCV))
		r = fail(s->dev, VSOCK_E_CLOSED, "peer %llu:%u receives no more",
			 (unsigned long long)s->peer_cid, s->peer_port);
	return r;
}

/* Sends what the peer's credit allows of @len bytes now, in packets of
 * at most VSOCK_TX_DATA, waiting only for TX room (within @w). Returns
 * the count sent, 0 if the credit is spent, or an error. A stall (no
 * credit for bytes to send) is counted once, until bytes go again. */
static int send_credited(struct vsock_sock *s, const u8 *p, u32 len,
			 const struct wait *w)
{
	u32 done = 0;

	while (done < len) {
		u32 n;
		int r = send_err(s);

		if (r)
			return r;
		n = MIN(MIN(len - done, peer_credit(s)), (u32)VSOCK_TX_DATA);
		if (!n)
			break;
		r = sock_send_op(s, VIRTIO_VSOCK_OP_RW, 0, p + done, n, w);
		if (r)
			return r;
		s->tx_cnt += n;
		done += n;
	}
	if (done < len && (done || !s->stalled))
		s->credit_waits++;
	s->stalled = done < len;
	return (int)done;
}

int vsock_send_some(struct vsock_sock *s, const void *buf, u32 len)
{
	struct wait w = wait_begin(s->timeout_ms);

	vsock_poll(s->dev);        /* credit news first */
	return send_credited(s, buf, len, &w);
}

int vsock_send(struct vsock_sock *s, const void *buf, u32 len)
{
	const u8 *p = buf;
	struct wait w = wait_begin(s->timeout_ms);
	bool asked = false;

	while (len) {
		int r = send_credited(s, p, len, &w);

		if (r < 0)
			return r;
		p += r;
		len -= (u32)r;
		if (r)
			asked = false;
		if (!len)
			break;
		/* No credit: wait for a CREDIT_UPDATE, asking once. */
		r = 0;
		if (!asked) {
			s->credit_requests_sent++;
			asked = true;
			r = sock_send_op(s, VIRTIO_VSOCK_OP_CREDIT_REQUEST, 0, NULL, 0, &w);
		}
		if (!r)
			r = wait_step(s->dev, &w, "send: waiting for credit");
		if (r)
			return r;
	}
	return 0;
}

u32 vsock_readable(const struct vsock_sock *s)
{
	return s->rx_cnt - s->fwd_cnt;
}

/* Takes up to @max buffered bytes; tells the peer of the room once
 * half the buffer was freed since it last heard. */
static u32 sock_take(struct vsock_sock *s, u8 *dst, u32 max)
{
	u32 n = MIN(max, vsock_readable(s));
	u32 at = s->fwd_cnt & (VSOCK_SOCK_BUF - 1);
	u32 first = MIN(n, VSOCK_SOCK_BUF - at);

	memcpy(dst, s->buf + at, first);
	memcpy(dst + first, s->buf, n - first);
	s->fwd_cnt += n;
	if (s->fwd_cnt - s->fwd_sent >= VSOCK_SOCK_BUF / 2)
		s->credit_update_due = true;
	return n;
}

/* Waits for bytes: with nothing buffered, the peer must know all the
 * room we have (else both could wait for ever). */
static int wait_readable(struct vsock_sock *s, const struct wait *w)
{
	struct vsock_dev *d = s->dev;
	int r;

	if (s->fwd_cnt != s->fwd_sent)
		s->credit_update_due = true;
	r = wait_step(d, w, "receive");
	if (r || vsock_readable(s))
		return r;
	r = sock_state_err(s);
	if (r == VSOCK_E_RESET && !s->peer_reset)
		r = 0;                   /* closing: data may still come */
	if (!r && (s->peer_shutdown & VIRTIO_VSOCK_SHUTDOWN_SEND))
		r = VSOCK_E_CLOSED;
	if (r == VSOCK_E_RESET || r == VSOCK_E_CLOSED)
		fail(d, r, "peer %llu:%u %s", (unsigned long long)s->peer_cid, s->peer_port,
		     r == VSOCK_E_RESET ? "reset the connection" : "shut down its sending");
	return r;
}

int vsock_recv(struct vsock_sock *s, void *buf, u32 len)
{
	u8 *p = buf;
	struct wait w = wait_begin(s->timeout_ms);

	while (len) {
		u32 n = sock_take(s, p, len);
		int r;

		p += n;
		len -= n;
		if (!len)
			break;
		r = wait_readable(s, &w);
		if (r)
			return r;
	}
	vsock_poll(s->dev);       /* sends a credit update if one is due */
	return 0;
}

int vsock_recv_some(struct vsock_sock *s, void *buf, u32 max)
{
	struct wait w = wait_begin(s->timeout_ms);

	while (!vsock_readable(s)) {
		int r = wait_readable(s, &w);

		if (r)
			return r;
	}
	max = sock_take(s, buf, max);
	vsock_poll(s->dev);
	return (int)max;
}

int vsock_close(struct vsock_sock *s)
{
	struct vsock_dev *d = s->dev;
	struct wait w = wait_begin(s->timeout_ms);
	int r = 0;

	if (s->state == SOCK_OPEN && !s->peer_reset && !d->broken) {
		s->state = SOCK_CLOSING;
		r = sock_send_op(s, VIRTIO_VSOCK_OP_SHUTDOWN, SHUTDOWN_BOTH, NULL, 0, &w);
		while (!r && !s->peer_reset && s->state != SOCK_CLOSED)
			r = wait_step(d, &w, "close: waiting for the peer's RST");
		if (r == VSOCK_E_TIMEOUT)
			sock_send_op(s, VIRTIO_VSOCK_OP_RST, 0, NULL, 0, &no_wait);
	} else {
		r = s->err;
	}
	send_owed(d);      /* an RST we owe the peer goes before the slot is reused */
	s->state = SOCK_FREE;
	return r;
}
