/*
 * The vsock test bench (tests/host/vsock_harness.h): fake VMs with RAM,
 * a model driver per VM on the real transport and walker, the fakes
 * virt/vsock.c and virt/virtio_mmio.c link against, and a recording
 * fake service.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/compiler.h"
#include "lib/errno.h"
#include "mm/hyp_pool.h"
#include "tests/host/vsock_harness.h"
#include "virt/guest_map.h"
#include "virt/guest_mem.h"
#include "virt/manage.h"
#include "virt/vgic.h"
#include "virt/virtio_mmio.h"

#define HDR_LEN ((u32)sizeof(struct virtio_vsock_hdr))
#define RAM_SIZE (8ull << 20)
#define MAX_QSIZE 64u
/* The model driver's layout of a VM's RAM (offsets from its base). */
#define RING_AT(q) (0x4000ull * (q))   /* desc +0, avail +0x1000, used +0x2000 */
#define AVAIL_OFF 0x1000ull
#define USED_OFF 0x2000ull
#define RX_AT 0x10000ull
#define RX_SLOT 0x3000ull             /* per RX chain (by head) */
#define TX_AT 0x100000ull
#define TX_SLOT 0x11000ull            /* a header and 64 KiB, per TX chain */
#define ARENA_SIZE (16ull << 20)       /* the fake hyp_pool */
#define MAX_LINES 512
#define LINE_LEN 200
#define SETTLE_ROUNDS 100000
#define MAX_SVC_CONNS 64

_Static_assert(TX_AT + MAX_QSIZE * TX_SLOT <= RAM_SIZE, "TX slots fit in RAM");
_Static_assert(RX_AT + MAX_QSIZE * RX_SLOT <= TX_AT, "RX slots fit below TX");

struct drv_chain {
	bool live;
	u16 desc[HV_MAX_SEGS * 2];
	unsigned int n;
	u32 out_len;
};

struct drv_queue {
	u16 size;
	u16 avail_idx, used_seen;
	u16 free_desc[MAX_QSIZE];
	unsigned int nr_free;
	struct drv_chain chains[MAX_QSIZE];     /* by head */
};

struct hv_vm {
	struct vm vm;
	struct vm_config cfg;
	struct vcpu vcpu;
	char name[VM_NAME_LEN];
	u8 *ram;
	struct virtio_dev *dev;
	struct drv_queue q[VSOCK_VQ_EVENT + 1];
	unsigned int irqs;
	unsigned int tx_returned;      /* reaped, not yet told hv_reap_tx() */
	bool kick;
	struct hv_pkt rx[HV_MAX_RX_PKTS];
	unsigned int rx_head, rx_count;
};

struct hv_policy hv_policy;
struct hv_svc_stats hv_svc;
bool hv_echo_log;
struct page_pool hyp_pool;

static struct hv_vm vms[HV_MAX_VMS];
static unsigned int nr_vms;
static u16 queue_size;
static u8 *arena;
static u64 arena_pages;
static u64 pool_bitmap[ARENA_SIZE / PAGE_SIZE / 64 + 1];
static char lines[MAX_LINES][LINE_LEN];
static unsigned int nr_lines;

/* ------------------------------------------------------------- fakes */

int printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!strncmp(buf, "hv: ", 4)) {
		if (nr_lines < MAX_LINES)
			snprintf(lines[nr_lines++], LINE_LEN, "%.*s", LINE_LEN - 1, buf);
		if (!hv_echo_log)
			return n;
	}
	fputs(buf, stdout);
	return n;
}

unsigned int hv_log_count(const char *part)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < nr_lines; i++)
		n += strstr(lines[i], part) != NULL;
	return n;
}

static struct hv_vm *of(const struct vm *vm)
{
	return (struct hv_vm *)((const char *)vm - offsetof(struct hv_vm, vm));
}

void vgic_inject_edge(struct vm *vm, struct vcpu *target, u32 intid)
{
	if (target || intid != GUEST_VIRTIO_INTID(0))
		abort();                /* the device's SPI, never a PPI */
	of(vm)->irqs++;
}

void *guest_write_begin(struct vm *vm, u64 ipa, u64 len)
{
	u64 off = ipa - GUEST_RAM_BASE;

	if (ipa < GUEST_RAM_BASE || off > RAM_SIZE || len > RAM_SIZE - off)
		return NULL;
	return of(vm)->ram + off;
}

void guest_write_done(struct vm *vm, u64 ipa, u64 len)
{
	u64 off = ipa - GUEST_RAM_BASE;

	/* Every device write was mapped first: a report outside RAM is a
	 * bug of the transport or the device. */
	if (ipa < GUEST_RAM_BASE || off > RAM_SIZE || len > RAM_SIZE - off)
		abort();
}

void vcpu_request(struct vcpu *v, u32 req)
{
	if (req != VCPU_REQ_DEVICE || v != &of(v->vm)->vcpu)
		abort();
	of(v->vm)->kick = true;
}

void vm_add_mmio(struct vm *vm, u64 base, u64 size, void *dev,
		 int (*access)(struct vcpu *, void *, u64, unsigned int, bool, u64 *))
{
	if (base != GUEST_VIRTIO_BASE || size != GUEST_VIRTIO_STRIDE ||
	    access != virtio_mmio_access)
		abort();
	of(vm)->dev = dev;
}

bool manage_may(const struct vm *caller, const struct vm *t)
{
	return caller->cfg->manages & (1u << t->id);
}

/* ------------------------------------------------------- fake service */

struct svc_conn {
	bool used, busy;
	u32 port;
};

static struct svc_conn svc_conns[MAX_SVC_CONNS];

static void *svc_accept(u32 port)
{
	if (hv_policy.refuse)
		return NULL;
	for (unsigned int i = 0; i < MAX_SVC_CONNS; i++) {
		if (!svc_conns[i].used) {
			svc_conns[i] = (struct svc_conn){ .used = true, .port = port };
			hv_svc.accepts++;
			return &svc_conns[i];
		}
	}
	return NULL;
}

static void *echo_accept(struct vm *peer, struct vsock_conn *c)
{
	if (vsock_conn_peer(c) != peer)
		abort();
	return svc_accept(HV_PORT_ECHO);
}

static void *sink_accept(struct vm *peer, struct vsock_conn *c)
{
	return svc_accept(HV_PORT_SINK);
}

/* The sink's answer: write_len bytes of a pattern, in one commit. */
static void sink_write(struct vsock_conn *c)
{
	u32 room;
	u8 *out = vsock_conn_reserve(c, &room);
	u32 n = MIN(room, hv_policy.write_len);

	hv_svc.misaligned |= (uintptr_t)out % 8 != 0;
	for (u32 k = 0; k < n; k++)
		out[k] = (u8)(hv_svc.bytes_written + k);
	vsock_conn_commit(c, n);
	hv_svc.bytes_written += n;
}

/* Reads what the policy allows; the echo service writes it back. */
static void svc_process(void *state, struct vsock_conn *c)
{
	struct svc_conn *s = state;
	u32 n = vsock_conn_readable(c);

	hv_svc.process_calls++;
	hv_svc.reentered |= s->busy;
	s->busy = true;
	if (hv_policy.consume_max)
		n = MIN(n, hv_policy.consume_max);
	else if (s->port == HV_PORT_SINK)
		n = 0;
	if (s->port == HV_PORT_ECHO && !hv_policy.no_echo) {
		u32 room;
		u8 *out = vsock_conn_reserve(c, &room);

		n = vsock_conn_peek(c, out, MIN(n, room));
		vsock_conn_commit(c, n);
		hv_svc.bytes_written += n;
	} else {
		u8 tmp[VSOCK_SVC_IN_BUF];

		n = vsock_conn_peek(c, tmp, MIN(n, (u32)sizeof(tmp)));
		if (hv_policy.write_len && n)
			sink_write(c);
	}
	vsock_conn_consume(c, n);
	hv_svc.bytes_read += n;
	if (hv_policy.close_in_process)
		vsock_conn_close(c);
	if (hv_policy.reset_in_process) {
		hv_reset(vsock_conn_peer(c)->id);
		/* What it does now goes nowhere, and harms nothing. */
		n = vsock_conn_readable(c);
		vsock_conn_commit(c, 8);
		vsock_conn_consume(c, 1);
		vsock_conn_close(c);
		if (n || vsock_conn_peek(c, &n, sizeof(n)))
			abort();
	}
	s->busy = false;
}

static void svc_closed(void *state)
{
	struct svc_conn *s = state;

	hv_svc.closed_while_busy |= s->busy;
	hv_svc.closes++;
	s->used = false;
}

static const struct vsock_service echo_svc = {
	.port = HV_PORT_ECHO, .name = "echo", .accept = echo_accept,
	.process = svc_process, .closed = svc_closed,
};

static const struct vsock_service sink_svc = {
	.port = HV_PORT_SINK, .name = "sink", .accept = sink_accept,
	.process = svc_process, .closed = svc_closed,
};

/* ------------------------------------------------------ model driver */

static void *ram_at(struct hv_vm *h, u64 off)
{
	return h->ram + off;
}

static u64 ipa_of(u64 off)
{
	return GUEST_RAM_BASE + off;
}

static u64 mmio(struct hv_vm *h, u64 off, bool write, u64 v, unsigned int size)
{
	if (virtio_mmio_access(&h->vcpu, h->dev, off, size, write, &v))
		abort();                /* the VM is never stopped */
	return v;
}

static u32 rd(struct hv_vm *h, u64 off)
{
	return (u32)mmio(h, off, false, 0, 4);
}

static void wr(struct hv_vm *h, u64 off, u32 v)
{
	mmio(h, off, true, v, 4);
}

static struct vring_desc *desc(struct hv_vm *h, unsigned int q, u16 i)
{
	return (struct vring_desc *)ram_at(h, RING_AT(q)) + i;
}

static struct vring_avail *avail(struct hv_vm *h, unsigned int q)
{
	return ram_at(h, RING_AT(q) + AVAIL_OFF);
}

static struct vring_used *used(struct hv_vm *h, unsigned int q)
{
	return ram_at(h, RING_AT(q) + USED_OFF);
}

static void drv_queue_reset(struct hv_vm *h, unsigned int q)
{
	struct drv_queue *dq = &h->q[q];

	memset(ram_at(h, RING_AT(q)), 0, RING_AT(1));
	memset(dq, 0, sizeof(*dq));
	dq->size = queue_size;
	for (u16 i = 0; i < queue_size; i++)
		dq->free_desc[dq->nr_free++] = (u16)(queue_size - 1 - i);
}

u32 hv_setup(unsigned int i, bool event_idx)
{
	struct hv_vm *h = &vms[i];
	u32 st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
	u64 features;

	wr(h, VIRTIO_MMIO_STATUS, 0);
	if (rd(h, VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC ||
	    rd(h, VIRTIO_MMIO_VERSION) != 2 ||
	    rd(h, VIRTIO_MMIO_DEVICE_ID) != VIRTIO_ID_VSOCK)
		abort();
	wr(h, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(h, VIRTIO_MMIO_STATUS, st);
	wr(h, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	features = (u64)rd(h, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	wr(h, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	features |= rd(h, VIRTIO_MMIO_DEVICE_FEATURES);
	features &= (1ull << VIRTIO_F_VERSION_1) |
		    (event_idx ? 1ull << VIRTIO_F_RING_EVENT_IDX : 0);
	wr(h, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(h, VIRTIO_MMIO_DRIVER_FEATURES, (u32)(features >> 32));
	wr(h, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(h, VIRTIO_MMIO_DRIVER_FEATURES, (u32)features);
	st |= VIRTIO_STATUS_FEATURES_OK;
	wr(h, VIRTIO_MMIO_STATUS, st);
	for (unsigned int q = 0; q <= VSOCK_VQ_EVENT; q++) {
		u64 base = ipa_of(RING_AT(q));

		drv_queue_reset(h, q);
		wr(h, VIRTIO_MMIO_QUEUE_SEL, q);
		if (rd(h, VIRTIO_MMIO_QUEUE_NUM_MAX) < queue_size)
			abort();
		wr(h, VIRTIO_MMIO_QUEUE_NUM, queue_size);
		wr(h, VIRTIO_MMIO_QUEUE_DESC_LOW, (u32)base);
		wr(h, VIRTIO_MMIO_QUEUE_DESC_HIGH, (u32)(base >> 32));
		wr(h, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (u32)(base + AVAIL_OFF));
		wr(h, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (u32)((base + AVAIL_OFF) >> 32));
		wr(h, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (u32)(base + USED_OFF));
		wr(h, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (u32)((base + USED_OFF) >> 32));
		wr(h, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	wr(h, VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_DRIVER_OK);
	return rd(h, VIRTIO_MMIO_STATUS);
}

void hv_reset(unsigned int i)
{
	struct hv_vm *h = &vms[i];

	wr(h, VIRTIO_MMIO_STATUS, 0);
	for (unsigned int q = 0; q <= VSOCK_VQ_EVENT; q++)
		drv_queue_reset(h, q);
}

u32 hv_status(unsigned int i)
{
	return rd(&vms[i], VIRTIO_MMIO_STATUS);
}

u64 hv_config_cid(unsigned int i)
{
	struct hv_vm *h = &vms[i];

	return (u64)rd(h, VIRTIO_MMIO_CONFIG) |
	       (u64)rd(h, VIRTIO_MMIO_CONFIG + 4) << 32;
}

/* Builds a chain of @l on queue @q (buffers in the head's slot, @data
 * copied into the readable part) and makes it available. */
static bool drv_add(struct hv_vm *h, unsigned int q, const struct hv_layout *l,
		    const u8 *data, u64 slot_at, u64 slot_size)
{
	struct drv_queue *dq = &h->q[q];
	unsigned int n = l->nr_out + l->nr_in;
	u64 total = 0, at;
	u16 head;

	if (!n || n > dq->nr_free)
		return false;
	for (unsigned int k = 0; k < l->nr_out; k++)
		total += l->out[k];
	for (unsigned int k = 0; k < l->nr_in; k++)
		total += l->in[k];
	if (total > slot_size)
		return false;
	head = dq->free_desc[dq->nr_free - 1];
	at = slot_at + head * slot_size;
	dq->chains[head] = (struct drv_chain){ .live = true, .n = n };
	for (unsigned int k = 0; k < n; k++) {
		bool in = k >= l->nr_out;
		u32 len = in ? l->in[k - l->nr_out] : l->out[k];
		u16 d = dq->free_desc[--dq->nr_free];
		u16 next = k + 1 < n ? dq->free_desc[dq->nr_free - 1] : 0;

		dq->chains[head].desc[k] = d;
		*desc(h, q, d) = (struct vring_desc){
			.addr = ipa_of(at), .len = len,
			.flags = (u16)((in ? VRING_DESC_F_WRITE : 0) |
				       (k + 1 < n ? VRING_DESC_F_NEXT : 0)),
			.next = next,
		};
		if (!in && data) {
			memcpy(ram_at(h, at), data, len);
			data += len;
		}
		if (!in)
			dq->chains[head].out_len += len;
		at += len;
	}
	avail(h, q)->ring[dq->avail_idx % dq->size] = head;
	dq->avail_idx++;
	/* Release: the device reads the entry after seeing the index. */
	__atomic_store_n(&avail(h, q)->idx, dq->avail_idx, __ATOMIC_RELEASE);
	return true;
}

unsigned int hv_post_rx(unsigned int i, unsigned int n, const struct hv_layout *layout)
{
	static const struct hv_layout linux_rx = { .in = { HDR_LEN, HV_RX_PAYLOAD }, .nr_in = 2 };
	unsigned int k;

	for (k = 0; k < n; k++)
		if (!drv_add(&vms[i], VSOCK_VQ_RX, layout ? layout : &linux_rx, NULL,
			     RX_AT, RX_SLOT))
			break;
	return k;
}

static bool drv_used(struct hv_vm *h, unsigned int q, struct drv_chain *c, u32 *len,
		     u16 *head);

/* Takes back the used TX chains, as Linux's TX work does. */
static void tx_reclaim(struct hv_vm *h)
{
	struct drv_chain c;
	u32 len;
	u16 head;

	while (drv_used(h, VSOCK_VQ_TX, &c, &len, &head)) {
		if (len)
			abort();            /* a TX buffer is never written */
		h->tx_returned++;
	}
}

bool hv_queue_tx(unsigned int i, const void *pkt, u32 len, const struct hv_layout *layout)
{
	struct hv_layout l = { .out = { MIN(len, HDR_LEN) }, .nr_out = 1 };

	tx_reclaim(&vms[i]);
	if (len > HDR_LEN)
		l.out[l.nr_out++] = len - HDR_LEN;
	return drv_add(&vms[i], VSOCK_VQ_TX, layout ? layout : &l, pkt, TX_AT, TX_SLOT);
}

bool hv_settle(void)
{
	for (unsigned int round = 0; round < SETTLE_ROUNDS; round++) {
		bool any = false;

		for (unsigned int i = 0; i < nr_vms; i++) {
			if (vms[i].kick) {
				vms[i].kick = false;
				vsock_vcpu_work(&vms[i].vcpu);
				any = true;
			}
		}
		if (!any)
			return true;
	}
	return false;
}

void hv_notify(unsigned int i, unsigned int q)
{
	wr(&vms[i], VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

static void settle_or_die(void)
{
	if (!hv_settle())
		abort();                /* a livelock of vCPU requests */
}

bool hv_kick_pending(unsigned int i)
{
	return vms[i].kick;
}

u32 hv_reg(unsigned int i, u64 off)
{
	return rd(&vms[i], off);
}

void hv_reg_write(unsigned int i, u64 off, u32 v)
{
	wr(&vms[i], off, v);
}

void hv_poke_last_tx_len(unsigned int i, u32 len)
{
	struct hv_vm *h = &vms[i];
	struct drv_queue *dq = &h->q[VSOCK_VQ_TX];
	u16 head = avail(h, VSOCK_VQ_TX)->ring[(u16)(dq->avail_idx - 1) % dq->size];
	const struct drv_chain *c = &dq->chains[head];

	if (dq->avail_idx && c->n)
		desc(h, VSOCK_VQ_TX, c->desc[c->n - 1])->len = len;
}

void hv_send(unsigned int i, const struct virtio_vsock_hdr *hdr, const void *payload)
{
	u8 buf[HDR_LEN + 65536];

	memcpy(buf, hdr, HDR_LEN);
	if (hdr->len <= 65536 && payload)
		memcpy(buf + HDR_LEN, payload, hdr->len);
	if (!hv_queue_tx(i, buf, HDR_LEN + (payload ? MIN(hdr->len, 65536u) : 0), NULL))
		abort();
	hv_notify(i, VSOCK_VQ_TX);
	settle_or_die();
}

/* Takes the next used entry of queue @q: its chain, or false. */
static bool drv_used(struct hv_vm *h, unsigned int q, struct drv_chain *c, u32 *len,
		     u16 *head)
{
	struct drv_queue *dq = &h->q[q];
	struct vring_used *u = used(h, q);
	struct vring_used_elem e;

	/* Acquire: pairs with the device's release of used->idx. */
	if (__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) == dq->used_seen)
		return false;
	e = u->ring[dq->used_seen % dq->size];
	dq->used_seen++;
	if (e.id >= dq->size || !dq->chains[e.id].live)
		abort();                /* the device returned a chain it never had */
	*c = dq->chains[e.id];
	*len = e.len;
	*head = (u16)e.id;
	dq->chains[e.id].live = false;
	for (unsigned int k = 0; k < c->n; k++)
		dq->free_desc[dq->nr_free++] = c->desc[k];
	return true;
}

static void rx_record(struct hv_vm *h, u16 head, const struct drv_chain *c, u32 len)
{
	const u8 *buf = ram_at(h, RX_AT + head * RX_SLOT + c->out_len);
	struct hv_pkt *p;

	if (h->rx_count == HV_MAX_RX_PKTS)
		abort();                /* a test that never takes its packets */
	p = &h->rx[(h->rx_head + h->rx_count++) % HV_MAX_RX_PKTS];
	*p = (struct hv_pkt){ .used_len = len };
	memcpy(&p->hdr, buf, HDR_LEN);
	if (len >= HDR_LEN && p->hdr.len && p->hdr.len <= len - HDR_LEN) {
		p->data = malloc(p->hdr.len);
		memcpy(p->data, buf + HDR_LEN, p->hdr.len);
	}
}

unsigned int hv_reap_rx(unsigned int i, bool refill)
{
	struct hv_vm *h = &vms[i];
	struct drv_chain c;
	unsigned int n = 0;
	u32 len;
	u16 head;

	while (drv_used(h, VSOCK_VQ_RX, &c, &len, &head)) {
		rx_record(h, head, &c, len);
		n++;
	}
	if (refill && n) {
		hv_post_rx(i, n, NULL);
		hv_notify(i, VSOCK_VQ_RX);
		settle_or_die();
	}
	return n;
}

unsigned int hv_reap_tx(unsigned int i)
{
	unsigned int n;

	tx_reclaim(&vms[i]);
	n = vms[i].tx_returned;
	vms[i].tx_returned = 0;
	return n;
}

unsigned int hv_rx_count(unsigned int i)
{
	return vms[i].rx_count;
}

bool hv_rx_take(unsigned int i, struct hv_pkt *p)
{
	struct hv_vm *h = &vms[i];

	if (!h->rx_count)
		return false;
	*p = h->rx[h->rx_head];
	h->rx_head = (h->rx_head + 1) % HV_MAX_RX_PKTS;
	h->rx_count--;
	return true;
}

void hv_pkt_free(struct hv_pkt *p)
{
	free(p->data);
	p->data = NULL;
}

unsigned int hv_irqs(unsigned int i)
{
	return vms[i].irqs;
}

unsigned int hv_rx_posted(unsigned int i)
{
	struct drv_queue *dq = &vms[i].q[VSOCK_VQ_RX];

	return (u16)(dq->avail_idx - __atomic_load_n(&used(&vms[i], VSOCK_VQ_RX)->idx,
						     __ATOMIC_ACQUIRE));
}

struct vm *hv_vm(unsigned int i)
{
	return &vms[i].vm;
}

/* ------------------------------------------------------------- bench */

static void pool_init(void)
{
	if (!arena) {
		arena = aligned_alloc(PAGE_SIZE, ARENA_SIZE);
		if (!arena)
			abort();
	}
	page_pool_init(&hyp_pool);
	if (page_pool_add_range(&hyp_pool, (paddr_t)(uintptr_t)arena, ARENA_SIZE,
				pool_bitmap, sizeof(pool_bitmap)))
		abort();
	arena_pages = page_pool_free_pages(&hyp_pool);
}

static void rx_drop_all(struct hv_vm *h)
{
	struct hv_pkt p;

	while (hv_rx_take((unsigned int)(h - vms), &p))
		hv_pkt_free(&p);
}

bool hv_teardown(void)
{
	bool ok;

	for (unsigned int i = 0; i < nr_vms; i++) {
		if (vms[i].dev)
			hv_reset(i);
		rx_drop_all(&vms[i]);
	}
	ok = hv_settle();
	ok = ok && hv_svc.accepts == hv_svc.closes && !hv_svc.reentered &&
	     !hv_svc.closed_while_busy;
	ok = ok && page_pool_free_pages(&hyp_pool) == arena_pages &&
	     page_pool_check(&hyp_pool) == 0;
	nr_vms = 0;
	return ok;
}

void hv_init(unsigned int n, u32 devices, const u32 *manages, u16 qsize)
{
	static bool registered;

	if (n > HV_MAX_VMS || qsize > MAX_QSIZE || (qsize & (qsize - 1)))
		abort();
	setvbuf(stdout, NULL, _IONBF, 0);   /* every line, even before an abort */
	hv_teardown();
	if (!registered) {
		if (vsock_register_service(&echo_svc) || vsock_register_service(&sink_svc) ||
		    vsock_register_service(&echo_svc) != -EEXIST)
			abort();
		registered = true;
	}
	pool_init();
	memset(&hv_policy, 0, sizeof(hv_policy));
	memset(&hv_svc, 0, sizeof(hv_svc));
	memset(svc_conns, 0, sizeof(svc_conns));
	nr_lines = 0;
	queue_size = qsize;
	nr_vms = n;
	for (unsigned int i = 0; i < n; i++) {
		struct hv_vm *h = &vms[i];
		u8 *ram = h->ram;

		memset(h, 0, sizeof(*h));
		h->ram = ram ? ram : calloc(1, RAM_SIZE);
		if (!h->ram)
			abort();
		snprintf(h->name, sizeof(h->name), "vm%u", i);
		h->cfg = (struct vm_config){
			.name = h->name, .nr_vcpus = 1,
			.devices = (devices >> i) & 1 ? VM_DEV_VSOCK : 0,
			.vsock_cid = (devices >> i) & 1 ? HV_CID(i) : 0,
			.manages = manages ? manages[i] : 0,
		};
		h->vm.cfg = &h->cfg;
		h->vm.name = h->name;
		h->vm.id = i;
		h->vm.nr_vcpus = 1;
		h->vm.vcpus[0] = &h->vcpu;
		h->vm.ram_size = RAM_SIZE;
		h->vcpu.vm = &h->vm;
		if (h->cfg.devices) {
			if (vsock_create(&h->vm, 0))
				abort();
			hv_setup(i, i % 2 == 0);
		}
	}
}
