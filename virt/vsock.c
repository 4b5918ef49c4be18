/*
 * The virtio-vsock device of every VM that has one (virt/vsock.h), and
 * the switch between them: each packet a guest puts on its TX queue is
 * checked, then goes to the hypervisor's end of a service connection
 * (CID 2), is copied into the RX queue of a VM it may reach, or is
 * answered with RST. Also the hypervisor's end of service connections:
 * their buffers, credit both ways, shutdown, and running the services.
 *
 * Backpressure. A TX packet for another VM is copied straight into that
 * VM's RX buffers, split over as many as it needs (each piece a packet
 * of its own with its share of the payload: a stream has no record
 * boundaries). When the receiver has no RX buffer left, the sender's TX
 * chain is given back (vq_unpop()) with a cursor saying how far it got,
 * the sender "waits on" the receiver, and the receiver's next RX notify
 * has the sender's vCPU resume it (VCPU_REQ_DEVICE); a receiver that is
 * reset, stops or breaks lets it go on (the rest of the packet is
 * dropped, or answered with RST if none of it went). So a receiver
 * that never adds RX buffers holds its sender's TX queue, head of line,
 * CID 2 traffic included, until one of the two resets or stops: the
 * credit it advertises does not bound that.
 *
 * RSTs the device owes a guest wait in a short per-device queue; a TX
 * packet is taken only while that queue has room for what it may cause,
 * else the sender waits on its own RX queue. Replies on service
 * connections are per-connection state (RESPONSE due, data, SHUTDOWN
 * due, CREDIT_UPDATE due), sent whenever that VM's RX queue has buffers.
 *
 * Where work runs: a VM's TX queue and its services run on its own
 * vCPUs only (a notify, or vsock_vcpu_work() when another CPU left work
 * for it), so that a service never runs on a vCPU of a VM it may pause.
 * Another VM's RX queue is filled from the sender's vCPU, under
 * vsock_lock like everything else here.
 */
#include "lib/compiler.h"
#include "lib/console.h"
#include "lib/errno.h"
#include "lib/ratelimit.h"
#include "lib/spinlock.h"
#include "lib/string.h"
#include "mm/hyp_pool.h"
#include "virt/guest_map.h"
#include "virt/manage.h"
#include "virt/virtio_mmio.h"
#include "virt/vm.h"
#include "virt/vsock.h"

#define HDR_LEN ((u32)sizeof(struct virtio_vsock_hdr))
_Static_assert(sizeof(struct virtio_vsock_hdr) == 44, "virtio 1.2 §5.10.6: a 44-byte header");

/* Largest payload a guest's packet may carry: Linux's own limit
 * (VIRTIO_VSOCK_MAX_PKT_BUF_SIZE); we send no larger ones either. */
#define VSOCK_MAX_PAYLOAD (64u * 1024)
/* An RX buffer must hold a header and at least one payload byte, so
 * that every buffer moves a stream forward. */
#define RX_MIN (HDR_LEN + 1)
/* Payload bytes copied per step from one guest's TX chain to another's
 * RX chain through the bounce buffer: one RX buffer as Linux posts them
 * (a header and 4 KiB). */
#define BOUNCE_PAYLOAD 4096u
/* RSTs a device may owe its driver, and the most one TX packet can
 * add: a REQUEST that takes the slot of a closing connection (RST to
 * it) and is then refused (RST to the REQUEST). */
#define RSTQ_LEN 16u
#define RST_PER_PACKET 2u
/* TX chains taken per run, and process() calls per run, before the
 * vCPU lets the guest run again (and comes back through
 * VCPU_REQ_DEVICE): vsock_lock is one lock for all VMs. */
#define TX_BATCH VQ_MAX_SIZE
#define SVC_BATCH (4 * VSOCK_SVC_MAX_CONNS)
/* Lines a device may log about its guest's bad packets. */
#define LOG_BUDGET 8u
/* Services CID 2 may offer. */
#define MAX_SERVICES 4
/* A connection's buffers, in one allocation: input, then output. */
#define CONN_PAGES ((VSOCK_SVC_IN_BUF + VSOCK_SVC_OUT_BUF) / PAGE_SIZE)
#define SHUTDOWN_BOTH (VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND)
/* The alignment vsock_conn_reserve() keeps for a service whose
 * commits are all multiples of it (vsock.h). */
#define OUT_ALIGN 8u
/* virtio 1.2 §5.10.4: le64 guest_cid is the whole configuration space. */
#define CONFIG_SIZE 8u

_Static_assert((VSOCK_SVC_IN_BUF & (VSOCK_SVC_IN_BUF - 1)) == 0,
	       "the input ring is indexed by a counter modulo its size");
_Static_assert((u64)VSOCK_SVC_IN_BUF % PAGE_SIZE == 0 &&
	       (u64)VSOCK_SVC_OUT_BUF % PAGE_SIZE == 0,
	       "connection buffers are whole pages");

enum conn_state {
	CONN_FREE,
	CONN_OPEN,      /* accepted; RESPONSE sent or due */
	CONN_CLOSING,   /* the service closed it and our SHUTDOWN went out */
	CONN_DEAD,      /* ended while process() ran: freed when it returns */
};

struct vsock_dev;

/* The hypervisor's end of one connection to a service, under vsock_lock. */
struct vsock_conn {
	struct vsock_dev *dev;
	const struct vsock_service *svc;
	void *state;                 /* the service's, from accept() */
	enum conn_state st;
	u32 guest_port, port;        /* the guest's port, the service's */
	paddr_t pages;
	/* Input: stream bytes [fwd_cnt, rx_cnt) at in[cnt % IN_BUF].
	 * rx_cnt - fwd_cnt <= VSOCK_SVC_IN_BUF: a packet beyond the
	 * credit we gave ends the connection instead (conn_input()). */
	u8 *in;
	u32 rx_cnt, fwd_cnt;
	u32 told_fwd_cnt;            /* fwd_cnt in the last header sent */
	/* Output: [out_rd, out_wr) committed and not yet sent. Only the
	 * service moves out_wr (and compacts, in reserve()); sending only
	 * moves out_rd, so what a service writes past out_wr is its own.
	 * Compaction moves by multiples of OUT_ALIGN: out_wr keeps its
	 * alignment (vsock_conn_reserve()). */
	u8 *out;
	u32 out_rd, out_wr;
	u32 tx_cnt;                  /* payload bytes sent */
	u32 peer_buf_alloc, peer_fwd_cnt;   /* from the guest's last header */
	u32 peer_shut;               /* VIRTIO_VSOCK_SHUTDOWN_* received */
	bool response_due, credit_due, close_wanted;
	bool work;                   /* process() has something to look at */
	bool busy;                   /* process() runs (without the lock) */
};

/* A TX packet being copied into another VM's RX queue. */
struct fwd_cursor {
	bool active;
	u16 head;                    /* its TX chain */
	u32 off;                     /* payload bytes delivered */
	struct virtio_vsock_hdr hdr; /* as checked when it was first taken */
	struct vsock_dev *to;
	u32 to_gen;                  /* to->gen then: a reset drops the rest */
};

struct vsock_stats {
	u64 pkts_in, bytes_in;       /* from the guest's TX queue */
	u64 pkts_out, bytes_out;     /* into its RX queue */
	u64 rsts;                    /* RSTs the device sent it */
	u64 errors;                  /* its packets that broke the spec */
};

/* One VM's device, under vsock_lock. */
struct vsock_dev {
	struct virtio_dev vdev;
	struct vm *vm;               /* NULL: this VM has no vsock device */
	u64 cid;
	bool stopped;                /* the VM stopped for good */
	u32 gen;                     /* bumped by every reset */
	struct vsock_dev *waits_on;  /* its TX waits for this one's RX buffers */
	struct fwd_cursor fwd;
	struct virtio_vsock_hdr rstq[RSTQ_LEN];
	u32 rst_head, rst_count;
	bool used[VSOCK_VQ_TX + 1];  /* buffers pushed, not yet signalled */
	unsigned int svc_next;       /* round-robin start of run_services() */
	struct vsock_conn conns[VSOCK_SVC_MAX_CONNS];
	struct vsock_stats stats;
	u32 log_budget;
};

/* Where a payload comes from: a guest's TX chain, or a service's buffer
 * (neither, for a packet without payload). */
struct pkt_src {
	const struct vq_chain *chain;
	const u8 *buf;
	u32 off;
};

enum tx_step {
	TX_DONE,     /* the chain is handled: push it back */
	TX_WAIT,     /* it was given back: wait for RX buffers (d->waits_on) */
	TX_EMPTY,    /* no chain */
	TX_STOP,     /* the device is not usable (broken, reset, stopped) */
};

static struct spinlock vsock_lock = SPINLOCK_INIT;
static struct vsock_dev devs[SCENARIO_MAX_VMS];
static const struct vsock_service *services[MAX_SERVICES];
/* Header and payload on their way into an RX buffer, under vsock_lock. */
/* 8-byte aligned, as the guests' buffers usually are, so that
 * memcpy() moves words, not bytes. */
static u8 bounce[BOUNCE_PAYLOAD] __aligned(8);

/* ---------------------------------------------------------- device */

static bool dev_up(const struct vsock_dev *d)
{
	return d->vm && !d->stopped && virtio_dev_live(&d->vdev);
}

/* Has a vCPU of @d's VM run its vsock work soon (vsock_vcpu_work()).
 * vCPU 0: every VM has it, and it takes requests even while powered
 * off. vcpu_request() is an atomic OR and an SGI: no lock. */
static void dev_kick(struct vsock_dev *d)
{
	vcpu_request(d->vm->vcpus[0], VCPU_REQ_DEVICE);
}

/* One line about a packet the device refused, while the budget lasts. */
static void dev_log(struct vsock_dev *d, const struct virtio_vsock_hdr *h,
		    const char *why)
{
	const char *more;

	if (!d->log_budget)
		return;
	more = --d->log_budget ? "" : " (no more of these are logged)";
	if (h)
		printf("hv: VM '%s' vsock: %s: op %u, %llu:%u -> %llu:%u%s\n",
		       d->vm->name, why, h->op, (unsigned long long)h->src_cid,
		       h->src_port, (unsigned long long)h->dst_cid, h->dst_port, more);
	else
		printf("hv: VM '%s' vsock: %s%s\n", d->vm->name, why, more);
}

/* The guest broke the protocol with @h (NULL: no header to show). */
static void proto_error(struct vsock_dev *d, const struct virtio_vsock_hdr *h,
			const char *why)
{
	d->stats.errors++;
	dev_log(d, h, why);
}

/*
 * A paused VM's memory must stay still: vm_pause() promises its manager
 * an exact harvest and a digest of unchanging RAM. So nothing is
 * delivered into a paused VM and its own device work waits, until
 * vsock_vm_resumed(). Acquire: pairs with the release of pause_depth in
 * vm_pause(); a delivery that read 0 here finished under vsock_lock
 * before vm_pause() returned (vsock_vm_paused()).
 */
static bool dev_paused(const struct vsock_dev *d)
{
	return __atomic_load_n(&d->vm->pause_depth, __ATOMIC_ACQUIRE);
}

static bool rx_has_avail(struct vsock_dev *d)
{
	return dev_up(d) && !dev_paused(d) && d->vdev.vq_ready[VSOCK_VQ_RX] &&
	       vq_has_avail(&d->vdev.vq[VSOCK_VQ_RX]);
}

/* Signals every queue with pushed buffers (once per batch). */
static void signal_used(void)
{
	for (unsigned int i = 0; i < SCENARIO_MAX_VMS; i++) {
		struct vsock_dev *d = &devs[i];

		for (unsigned int q = VSOCK_VQ_RX; q <= VSOCK_VQ_TX; q++) {
			if (!d->used[q])
				continue;
			d->used[q] = false;
			if (dev_up(d))
				virtio_dev_notify_used(&d->vdev, q);
		}
	}
}

/* Others whose TX waits on @d's RX queue go on: it has buffers now, or
 * is @gone (reset, stopped or broken: what they were sending is
 * dropped). */
static void wake_waiters(struct vsock_dev *d, bool gone)
{
	if (!gone && !rx_has_avail(d))
		return;
	for (unsigned int i = 0; i < SCENARIO_MAX_VMS; i++) {
		struct vsock_dev *w = &devs[i];

		if (w != d && w->vm && w->waits_on == d) {
			w->waits_on = NULL;
			dev_kick(w);
		}
	}
}

static void g2g_gone(struct vsock_dev *d);

/* @d gives up on its driver (virt/virtio_mmio.h); whoever waits for
 * its RX buffers goes on now (and finds it down), and the other ends
 * of its guest-to-guest streams are reset: what was on its way to it
 * is lost, and its driver may never reset it (Linux's does not). */
static void dev_broken(struct vsock_dev *d, const char *why)
{
	virtio_dev_broken(&d->vdev, why);
	wake_waiters(d, true);
	g2g_gone(d);
}

/*
 * The next chain of queue @q of @d: 1, 0 when there is none (the
 * driver is then asked to notify the next one: EVENT_IDX), or -1 when
 * the device cannot be used (a queue broke it just now, or it was
 * already down).
 */
static int dev_pop(struct vsock_dev *d, unsigned int q, struct vq_chain *c)
{
	struct virtqueue *vq = &d->vdev.vq[q];
	const char *why = "";
	int r;

	if (!dev_up(d))
		return -1;
	if (!d->vdev.vq_ready[q])
		return 0;
	r = vq_pop(vq, c, &why);
	if (r == 0) {
		vq_enable_notify(vq);
		if (vq_has_avail(vq))
			r = vq_pop(vq, c, &why);
	}
	if (r < 0) {
		dev_broken(d, why);
		return -1;
	}
	return r;
}

/* -------------------------------------------------------- RX queue */

/* An RX chain of @d (see dev_pop()); one too small breaks the device.
 * None while @d's VM is paused: the sender waits as for a full queue. */
static int rx_pop(struct vsock_dev *d, struct vq_chain *c)
{
	int r = dev_paused(d) ? 0 : dev_pop(d, VSOCK_VQ_RX, c);

	if (r == 1 && c->in_len < RX_MIN) {
		dev_broken(d, "an RX buffer is smaller than a header and one byte");
		return -1;
	}
	return r;
}

/*
 * The next up to *@n payload bytes of @s, *@n set to how many: a
 * service's buffer is read in place, a guest's chain through the bounce
 * buffer.
 */
static const u8 *src_next(struct pkt_src *s, u32 *n)
{
	const u8 *p = bounce;

	if (s->chain) {
		u32 got;

		*n = MIN(*n, BOUNCE_PAYLOAD);
		got = vq_chain_read(s->chain, s->off, bounce, *n);
		/* The chain's length was checked against the header, so
		 * got == n; never let older bounce bytes out if not. */
		memset(bounce + got, 0, *n - got);
	} else {
		p = s->buf + s->off;
	}
	s->off += *n;
	return p;
}

/*
 * Writes @h (its len set to @n) and @n payload bytes from @src into
 * the RX chain @c of @d, which has room for them, and pushes it.
 */
static void rx_put(struct vsock_dev *d, const struct vq_chain *c,
		   struct virtio_vsock_hdr *h, struct pkt_src *src, u32 n)
{
	struct virtqueue *vq = &d->vdev.vq[VSOCK_VQ_RX];
	u32 written, left = n;

	h->len = n;
	written = vq_chain_write(vq, c, 0, h, HDR_LEN);
	while (left) {
		u32 chunk = left;
		const u8 *from = src_next(src, &chunk);

		written += vq_chain_write(vq, c, written, from, chunk);
		left -= chunk;
	}
	vq_push(vq, c->head, written);
	d->used[VSOCK_VQ_RX] = true;
	d->stats.pkts_out++;
	d->stats.bytes_out += n;
}

/* Sends the header-only packet @h to @d's driver; false: no RX buffer. */
static bool rx_send_hdr(struct vsock_dev *d, struct virtio_vsock_hdr *h)
{
	struct pkt_src none = { 0 };
	struct vq_chain c;

	if (rx_pop(d, &c) != 1)
		return false;
	rx_put(d, &c, h, &none, 0);
	return true;
}

/* ------------------------------------------------------- RST queue */

static bool rstq_has_room(const struct vsock_dev *d, u32 n)
{
	return RSTQ_LEN - d->rst_count >= n;
}

/* An RST for @d's guest from (@cid, @port) to its @guest_port. */
static struct virtio_vsock_hdr rst_hdr(const struct vsock_dev *d, u64 cid, u32 port,
				       u32 guest_port)
{
	return (struct virtio_vsock_hdr){
		.src_cid = cid, .dst_cid = d->cid, .src_port = port,
		.dst_port = guest_port, .type = VIRTIO_VSOCK_TYPE_STREAM,
		.op = VIRTIO_VSOCK_OP_RST,
	};
}

/* Queues an RST to @d's guest from (@cid, @port) to its @guest_port. */
static void rst_queue(struct vsock_dev *d, u64 cid, u32 port, u32 guest_port)
{
	if (!rstq_has_room(d, 1))
		return;   /* cannot happen: tx_one() made room first */
	d->rstq[(d->rst_head + d->rst_count++) % RSTQ_LEN] = rst_hdr(d, cid, port, guest_port);
}

/* Answers the guest's packet @h with RST, as its destination would;
 * never an RST (two ends must not reset each other for ever). */
static void rst_reply(struct vsock_dev *d, const struct virtio_vsock_hdr *h)
{
	if (h->op != VIRTIO_VSOCK_OP_RST)
		rst_queue(d, h->dst_cid, h->dst_port, h->src_port);
}

/* Sends queued RSTs while there are RX buffers. */
static void rst_flush(struct vsock_dev *d)
{
	while (d->rst_count && rx_send_hdr(d, &d->rstq[d->rst_head])) {
		d->rst_head = (d->rst_head + 1) % RSTQ_LEN;
		d->rst_count--;
		d->stats.rsts++;
	}
}

/* ------------------------------------------- guest-to-guest streams */

/*
 * The streams forwarded between two VMs, kept so that when one end's
 * device goes away (its VM stops or restarts, its driver resets it, or
 * it breaks) the other end gets an RST for each: a reader blocked on
 * such a socket then wakes (ECONNRESET) instead of waiting for ever,
 * as vhost-vsock resets host sockets whose guest went away.
 *
 * One table per pair of VMs, of G2G_PER_PAIR entries: per pair, so that
 * the two guests of one pair, by filling theirs, take nothing from
 * another pair; 64, because two VMs talk when one manages the other,
 * over a few control connections (hvdirty's, a shell's, a test's), and
 * a pair's scan (on every forwarded REQUEST, RESPONSE, SHUTDOWN and RST)
 * stays short under vsock_lock. A stream that finds its pair's table
 * full still works, untracked (logged, rate-limited): its other end is
 * then not reset when one goes away, as before this table. Refusing it
 * instead would let either guest deny its partner new connections by
 * keeping streams open, or by leaving REQUESTs unanswered.
 *
 * An entry, the pair's VMs being side 0 (the lower id) and side 1:
 *  - REQUESTED: side `requester`'s REQUEST from port[requester] to the
 *    other side's port was forwarded. Tracked from the REQUEST, not
 *    only once answered, so that a connect() still waiting for its
 *    RESPONSE fails at once too, rather than at its timeout;
 *  - OPEN: the other side's RESPONSE was forwarded too (a RESPONSE
 *    that answers no tracked REQUEST makes no entry);
 *  - RST_DUE: the other end of a REQUESTED or OPEN stream went away, and
 *    side `rst_to` is owed an RST from it (pair->owed[rst_to] counts
 *    them), sent when its RX queue has a buffer (g2g_flush()); a paused
 *    VM gets it when it resumes, and before any packet forwarded to it
 *    from then on (fwd_rx_pop()).
 * A port pair has at most one entry. REQUESTED and OPEN entries are
 * those of streams both of whose devices have stayed up since the
 * REQUEST; RST_DUE ones, of streams whose side owed has stayed up since
 * the other went away (g2g_gone()). An entry leaves on a forwarded RST
 * either way, once one side has shut down both directions (SHUTDOWN
 * flags, accumulated), when its RST is sent, or when the side it is
 * owed to goes away too or sends a packet on that stream (answered
 * with that same RST: g2g_take_owed()).
 */
#define G2G_PER_PAIR 64u
#define G2G_PAIRS (SCENARIO_MAX_VMS * (SCENARIO_MAX_VMS - 1) / 2)

enum g2g_state {
	G2G_FREE,
	G2G_REQUESTED,
	G2G_OPEN,
	G2G_RST_DUE,
};

struct g2g_stream {
	u32 port[2];          /* each side's port */
	u8 state;             /* enum g2g_state */
	u8 requester;         /* the side whose REQUEST opened it */
	u8 shut[2];           /* SHUTDOWN flags each side has sent */
	u8 rst_to;            /* RST_DUE: the side owed the RST */
};

struct g2g_pair {
	struct g2g_stream s[G2G_PER_PAIR];
	u16 owed[2];          /* RST_DUE entries owed to each side */
	u32 untracked;        /* streams it had no room for (the log's rate) */
};

_Static_assert(G2G_PER_PAIR <= 0xffff, "pair->owed counts entries in a u16");
_Static_assert(sizeof(struct g2g_pair) * G2G_PAIRS <= 32ul * 1024,
	       "the stream tables stay small (.bss, 28 pairs of 8 VMs)");

/* Under vsock_lock. */
static struct g2g_pair g2g_pairs[G2G_PAIRS];

/* The device with @cid, up or not. */
static struct vsock_dev *dev_by_cid(u64 cid)
{
	for (unsigned int i = 0; i < SCENARIO_MAX_VMS; i++)
		if (devs[i].vm && devs[i].cid == cid)
			return &devs[i];
	return NULL;
}

/* The table of two different devices @a and @b, and @a's side in it. */
static struct g2g_pair *g2g_pair(const struct vsock_dev *a, const struct vsock_dev *b,
				 unsigned int *side)
{
	unsigned int i = (unsigned int)(a - devs), j = (unsigned int)(b - devs);
	unsigned int lo = MIN(i, j), hi = MAX(i, j);

	*side = i > j;
	/* Pairs in order of hi, then lo: hi * (hi - 1) / 2 come before. */
	return &g2g_pairs[hi * (hi - 1) / 2 + lo];
}

/* The entry of side @side's @port with the other side's @peer_port. */
static struct g2g_stream *g2g_find(struct g2g_pair *p, unsigned int side, u32 port,
				   u32 peer_port)
{
	for (unsigned int i = 0; i < G2G_PER_PAIR; i++) {
		struct g2g_stream *e = &p->s[i];

		if (e->state != G2G_FREE && e->port[side] == port && e->port[!side] == peer_port)
			return e;
	}
	return NULL;
}

static void g2g_drop(struct g2g_pair *p, struct g2g_stream *e)
{
	if (e->state == G2G_RST_DUE)
		p->owed[e->rst_to]--;
	e->state = G2G_FREE;
}

/* @from's REQUEST @h went to @to (side @side of @p): a new entry, if
 * the pair has room. */
static void g2g_open(const struct vsock_dev *from, const struct vsock_dev *to,
		     struct g2g_pair *p, unsigned int side, const struct virtio_vsock_hdr *h)
{
	for (unsigned int i = 0; i < G2G_PER_PAIR; i++) {
		struct g2g_stream *e = &p->s[i];

		if (e->state == G2G_FREE) {
			*e = (struct g2g_stream){ .state = G2G_REQUESTED, .requester = (u8)side };
			e->port[side] = h->src_port;
			e->port[!side] = h->dst_port;
			return;
		}
	}
	if (log_nth_due(++p->untracked))
		printf("hv: VM '%s' vsock: %u streams with VM '%s' already: port %u to "
		       "port %u is not tracked (no RST if one end goes away)\n",
		       from->vm->name, G2G_PER_PAIR, to->vm->name, h->src_port, h->dst_port);
}

/* @from's packet @h went whole into @to's RX queue: its stream's entry
 * follows it. */
static void g2g_forwarded(const struct vsock_dev *from, const struct vsock_dev *to,
			  const struct virtio_vsock_hdr *h)
{
	unsigned int s;
	struct g2g_pair *p = g2g_pair(from, to, &s);
	struct g2g_stream *e;

	if (h->op == VIRTIO_VSOCK_OP_RW || h->op == VIRTIO_VSOCK_OP_CREDIT_UPDATE ||
	    h->op == VIRTIO_VSOCK_OP_CREDIT_REQUEST)
		return;   /* data and credit change no stream's state */
	e = g2g_find(p, s, h->src_port, h->dst_port);
	switch (h->op) {
	case VIRTIO_VSOCK_OP_REQUEST:
		if (e)
			g2g_drop(p, e);   /* a new stream on the same ports */
		g2g_open(from, to, p, s, h);
		break;
	case VIRTIO_VSOCK_OP_RESPONSE:
		if (e && e->state == G2G_REQUESTED && e->requester != s)
			e->state = G2G_OPEN;
		break;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		if (!e)
			break;
		e->shut[s] |= h->flags & SHUTDOWN_BOTH;
		if (e->shut[s] == SHUTDOWN_BOTH)
			g2g_drop(p, e);   /* §5.10.6.3: what follows is an RST */
		break;
	default:                          /* RST */
		if (e)
			g2g_drop(p, e);
		break;
	}
}

/*
 * @d's device went away (see above): each stream it had with another VM
 * is owed an RST by that VM if that one can take it (its device up with
 * a ready RX queue; paused is fine), and that VM's vCPU is asked to send
 * them (vsock_vcpu_work()); RSTs owed to @d go with its sockets.
 */
static void g2g_gone(struct vsock_dev *d)
{
	for (unsigned int j = 0; j < SCENARIO_MAX_VMS; j++) {
		struct vsock_dev *o = &devs[j];
		struct g2g_pair *p;
		unsigned int s;
		bool can;

		if (o == d)
			continue;
		p = g2g_pair(d, o, &s);
		can = dev_up(o) && o->vdev.vq_ready[VSOCK_VQ_RX];
		for (unsigned int i = 0; i < G2G_PER_PAIR; i++) {
			struct g2g_stream *e = &p->s[i];

			if (e->state == G2G_FREE || (e->state == G2G_RST_DUE && e->rst_to != s))
				continue;   /* none, or owed to @o already */
			if (e->state == G2G_RST_DUE || !can) {
				g2g_drop(p, e);
				continue;
			}
			e->state = G2G_RST_DUE;
			e->rst_to = (u8)!s;
			p->owed[!s]++;
		}
		if (p->owed[!s])
			dev_kick(o);
	}
}

/* At @d's creation: no streams with anyone, nor their log's count. */
static void g2g_forget(const struct vsock_dev *d)
{
	for (unsigned int j = 0; j < SCENARIO_MAX_VMS; j++) {
		unsigned int s;

		if (&devs[j] != d)
			memset(g2g_pair(d, &devs[j], &s), 0, sizeof(struct g2g_pair));
	}
}

/* Sends the RSTs owed to @d while its RX queue has buffers; false when
 * some still wait (no buffer, paused, or down). */
static bool g2g_flush(struct vsock_dev *d)
{
	for (unsigned int j = 0; j < SCENARIO_MAX_VMS; j++) {
		struct vsock_dev *o = &devs[j];
		struct g2g_pair *p;
		unsigned int s;

		if (o == d)
			continue;
		p = g2g_pair(d, o, &s);
		for (unsigned int i = 0; p->owed[s] && i < G2G_PER_PAIR; i++) {
			struct g2g_stream *e = &p->s[i];
			struct virtio_vsock_hdr h;

			if (e->state != G2G_RST_DUE || e->rst_to != s)
				continue;
			h = rst_hdr(d, o->cid, e->port[!s], e->port[s]);
			/* A failure may have broken @d: nothing is owed to
			 * it then, and nothing more is read here. */
			if (!rx_send_hdr(d, &h))
				return false;
			g2g_drop(p, e);
			d->stats.rsts++;
		}
	}
	return true;
}

/* Whether an RST is owed to @d for the stream of its packet @h to
 * another VM; if so, it is dropped: the caller answers @h with it. */
static bool g2g_take_owed(struct vsock_dev *d, const struct virtio_vsock_hdr *h)
{
	struct vsock_dev *o = dev_by_cid(h->dst_cid);
	struct g2g_stream *e;
	struct g2g_pair *p;
	unsigned int s;

	if (!o || o == d)
		return false;
	p = g2g_pair(d, o, &s);
	e = p->owed[s] ? g2g_find(p, s, h->src_port, h->dst_port) : NULL;
	if (!e || e->state != G2G_RST_DUE || e->rst_to != s)
		return false;
	g2g_drop(p, e);
	return true;
}

/* ---------------------------------------------------- connections */

static const struct vsock_service *service_find(u32 port)
{
	for (unsigned int i = 0; i < MAX_SERVICES; i++)
		if (services[i] && services[i]->port == port)
			return services[i];
	return NULL;
}

static bool conn_live(const struct vsock_conn *c)
{
	return c->st == CONN_OPEN || c->st == CONN_CLOSING;
}

static struct vsock_conn *conn_find(struct vsock_dev *d, u32 guest_port, u32 port)
{
	for (unsigned int i = 0; i < VSOCK_SVC_MAX_CONNS; i++) {
		struct vsock_conn *c = &d->conns[i];

		if (conn_live(c) && c->guest_port == guest_port && c->port == port)
			return c;
	}
	return NULL;
}

static u32 conn_readable(const struct vsock_conn *c)
{
	return c->rx_cnt - c->fwd_cnt;
}

/* What the guest may still send: the credit we advertise. */
static u32 conn_in_room(const struct vsock_conn *c)
{
	return VSOCK_SVC_IN_BUF - conn_readable(c);
}

/* What we may still send (virtio 1.2 §5.10.6.3.1); 0 when the guest's
 * fwd_cnt claims more than we sent. */
static u32 conn_peer_credit(const struct vsock_conn *c)
{
	u32 in_flight = c->tx_cnt - c->peer_fwd_cnt;

	return in_flight > c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

/* The header of our next packet on @c, which is sent: the guest now
 * knows our fwd_cnt. */
static struct virtio_vsock_hdr conn_hdr(struct vsock_conn *c, u16 op, u32 flags)
{
	c->told_fwd_cnt = c->fwd_cnt;
	c->credit_due = false;
	return (struct virtio_vsock_hdr){
		.src_cid = VSOCK_HOST_CID, .dst_cid = c->dev->cid,
		.src_port = c->port, .dst_port = c->guest_port,
		.type = VIRTIO_VSOCK_TYPE_STREAM, .op = op, .flags = flags,
		.buf_alloc = VSOCK_SVC_IN_BUF, .fwd_cnt = c->fwd_cnt,
	};
}

static bool conn_send_ctrl(struct vsock_conn *c, u16 op, u32 flags)
{
	struct pkt_src none = { 0 };
	struct vq_chain rc;
	struct virtio_vsock_hdr h;

	if (rx_pop(c->dev, &rc) != 1)
		return false;
	h = conn_hdr(c, op, flags);
	rx_put(c->dev, &rc, &h, &none, 0);
	return true;
}

/* Sends committed output while the guest's credit and RX buffers allow;
 * false when the RX buffers ran out. */
static bool conn_send_data(struct vsock_conn *c)
{
	if (c->peer_shut & VIRTIO_VSOCK_SHUTDOWN_RCV)
		c->out_rd = c->out_wr;   /* the guest reads no more (§5.10.6.3) */
	while (c->out_rd != c->out_wr && conn_peer_credit(c)) {
		struct pkt_src src = { .buf = c->out, .off = c->out_rd };
		struct virtio_vsock_hdr h;
		struct vq_chain rc;
		u32 n;

		if (rx_pop(c->dev, &rc) != 1)
			return false;
		n = MIN(c->out_wr - c->out_rd, conn_peer_credit(c));
		n = MIN(n, MIN(rc.in_len - HDR_LEN, VSOCK_MAX_PAYLOAD));
		h = conn_hdr(c, VIRTIO_VSOCK_OP_RW, 0);
		rx_put(c->dev, &rc, &h, &src, n);
		c->out_rd += n;
		c->tx_cnt += n;
		/* Room was freed: the service may have left a request
		 * waiting for it. */
		c->work |= conn_readable(c) != 0;
	}
	return true;
}

/*
 * Sends what @c owes its guest, in stream order: RESPONSE, data, our
 * SHUTDOWN once the service closed and all its data is out, then a
 * CREDIT_UPDATE unless a packet already carried our fwd_cnt. False
 * when the RX buffers ran out first.
 */
static bool conn_flush(struct vsock_conn *c)
{
	if (!conn_live(c))
		return true;
	if (c->response_due) {
		if (!conn_send_ctrl(c, VIRTIO_VSOCK_OP_RESPONSE, 0))
			return false;
		c->response_due = false;
	}
	if (!conn_send_data(c))
		return false;
	if (c->close_wanted && c->st == CONN_OPEN && c->out_rd == c->out_wr) {
		if (!conn_send_ctrl(c, VIRTIO_VSOCK_OP_SHUTDOWN, SHUTDOWN_BOTH))
			return false;
		c->st = CONN_CLOSING;
	}
	return !c->credit_due || conn_send_ctrl(c, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0);
}

/* Everything @d owes its driver: RSTs (its own packets', then those of
 * streams whose other end went away), then each connection's packets. */
static void dev_flush(struct vsock_dev *d)
{
	rst_flush(d);
	g2g_flush(d);
	for (unsigned int i = 0; i < VSOCK_SVC_MAX_CONNS; i++)
		if (!conn_flush(&d->conns[i]))
			return;
}

static void conn_free(struct vsock_conn *c)
{
	c->svc->closed(c->state);
	page_free(&hyp_pool, c->pages, CONN_PAGES);
	*c = (struct vsock_conn){ .st = CONN_FREE };
}

/* @c is gone: the service hears it now, or when its process() returns. */
static void conn_end(struct vsock_conn *c)
{
	if (c->busy)
		c->st = CONN_DEAD;
	else
		conn_free(c);
}

/* Resets @c: an RST to the guest, and the connection ends. */
static void conn_rst(struct vsock_conn *c)
{
	rst_queue(c->dev, VSOCK_HOST_CID, c->port, c->guest_port);
	conn_end(c);
}

/* The guest broke the protocol on @c: logged, RST, gone. */
static void conn_violation(struct vsock_conn *c, const struct virtio_vsock_hdr *h,
			   const char *why)
{
	proto_error(c->dev, h, why);
	conn_rst(c);
}

/* A free slot of @d; a closing connection whose guest never sent its
 * RST gives its slot up (§5.10.6.3: "an RST is sent to forcibly
 * disconnect"). NULL if all are in use. */
static struct vsock_conn *conn_slot(struct vsock_dev *d)
{
	struct vsock_conn *closing = NULL;

	for (unsigned int i = 0; i < VSOCK_SVC_MAX_CONNS; i++) {
		struct vsock_conn *c = &d->conns[i];

		if (c->st == CONN_FREE)
			return c;
		if (c->st == CONN_CLOSING && !c->busy)
			closing = c;
	}
	if (closing)
		conn_rst(closing);
	return closing;
}

/* A REQUEST to CID 2 for no open connection: accept it, or RST. */
static void conn_open(struct vsock_dev *d, const struct virtio_vsock_hdr *h)
{
	const struct vsock_service *svc = service_find(h->dst_port);
	struct vsock_conn *c = svc ? conn_slot(d) : NULL;
	paddr_t pa;

	if (svc && !c)
		dev_log(d, h, "too many connections to services");
	if (c && page_alloc(&hyp_pool, CONN_PAGES, 1, &pa)) {
		dev_log(d, h, "no memory for a connection's buffers");
		c = NULL;
	}
	if (!c) {
		rst_reply(d, h);
		return;
	}
	*c = (struct vsock_conn){
		.dev = d, .svc = svc, .st = CONN_OPEN, .pages = pa,
		.guest_port = h->src_port, .port = h->dst_port,
		.in = (u8 *)(uintptr_t)pa, .out = (u8 *)(uintptr_t)pa + VSOCK_SVC_IN_BUF,
		.peer_buf_alloc = h->buf_alloc, .peer_fwd_cnt = h->fwd_cnt,
		.response_due = true,
	};
	/* No byte of an earlier connection's buffers reaches this guest. */
	memset(c->in, 0, CONN_PAGES * PAGE_SIZE);
	c->state = svc->accept(d->vm, c);
	if (!c->state) {
		page_free(&hyp_pool, pa, CONN_PAGES);
		*c = (struct vsock_conn){ .st = CONN_FREE };
		rst_reply(d, h);
	}
}

/* RW on @c: into its input buffer, within the credit we gave. */
static void conn_input(struct vsock_conn *c, const struct virtio_vsock_hdr *h,
		       const struct vq_chain *tx)
{
	u32 pos = c->rx_cnt % VSOCK_SVC_IN_BUF, first;

	if (c->st != CONN_OPEN)
		return;   /* our SHUTDOWN said we receive no more */
	if (c->peer_shut & VIRTIO_VSOCK_SHUTDOWN_SEND) {
		conn_violation(c, h, "data after its SHUTDOWN(SEND)");
		return;
	}
	if (h->len > conn_in_room(c)) {
		conn_violation(c, h, "data beyond the credit it was given");
		return;
	}
	first = MIN(h->len, VSOCK_SVC_IN_BUF - pos);
	vq_chain_read(tx, HDR_LEN, c->in + pos, first);
	vq_chain_read(tx, HDR_LEN + first, c->in, h->len - first);
	c->rx_cnt += h->len;
	c->work |= h->len != 0;
}

/* SHUTDOWN on @c: once the guest has shut both ways, RST ends it (what
 * Linux waits for, and §5.10.6.3's clean disconnect). */
static void conn_shutdown(struct vsock_conn *c, u32 flags)
{
	c->peer_shut |= flags & SHUTDOWN_BOTH;
	if (c->peer_shut == SHUTDOWN_BOTH)
		conn_rst(c);
}

/* A checked packet of @d's guest to CID 2. */
static void svc_packet(struct vsock_dev *d, const struct virtio_vsock_hdr *h,
		       const struct vq_chain *tx)
{
	struct vsock_conn *c = conn_find(d, h->src_port, h->dst_port);

	if (!c) {
		if (h->op == VIRTIO_VSOCK_OP_REQUEST)
			conn_open(d, h);
		else
			rst_reply(d, h);
		return;
	}
	/* Every header carries the guest's receive buffer state. */
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	switch (h->op) {
	case VIRTIO_VSOCK_OP_RST:
		conn_end(c);
		break;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		conn_shutdown(c, h->flags);
		break;
	case VIRTIO_VSOCK_OP_RW:
		conn_input(c, h, tx);
		break;
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		c->credit_due = true;
		break;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		break;   /* the header said it all */
	default:
		conn_violation(c, h, "REQUEST or RESPONSE on an open connection");
		break;
	}
}

/* Ends every connection of @d (the guest's end is gone with its
 * queues, so no RST), forgets what its TX queue was doing, and has the
 * other ends of its guest-to-guest streams reset. */
static void dev_reset_state(struct vsock_dev *d)
{
	for (unsigned int i = 0; i < VSOCK_SVC_MAX_CONNS; i++)
		if (conn_live(&d->conns[i]))
			conn_end(&d->conns[i]);
	d->fwd.active = false;
	d->waits_on = NULL;
	d->rst_count = 0;
	d->used[VSOCK_VQ_RX] = d->used[VSOCK_VQ_TX] = false;
	d->gen++;
	wake_waiters(d, true);
	g2g_gone(d);
}

/* ------------------------------------------------------ forwarding */

/* The device of the VM with @cid, if @d's VM may reach it now. */
static struct vsock_dev *route(struct vsock_dev *d, u64 cid)
{
	struct vsock_dev *b = dev_by_cid(cid);

	if (!b || b == d || !dev_up(b) ||
	    !(manage_may(d->vm, b->vm) || manage_may(b->vm, d->vm)))
		return NULL;
	return b;
}

/*
 * The next RX chain of the receiver of @f (see dev_pop()); -1 if it was
 * reset since the packet was taken. The RSTs it is owed go first: they
 * end streams older than this packet (the other end may have restarted
 * and opened a new one on the same ports).
 */
static int fwd_rx_pop(struct fwd_cursor *f, struct vq_chain *c)
{
	if (f->to->gen != f->to_gen)
		return -1;
	if (!g2g_flush(f->to))
		return dev_up(f->to) ? 0 : -1;
	return rx_pop(f->to, c);
}

/*
 * Copies the rest of the packet of @d's cursor, whose TX chain is @c,
 * into RX buffers of its destination, one piece per buffer. TX_WAIT
 * when they run out. A destination reset or stopped meanwhile gets no
 * more of it; one that got none of it is answered for with RST.
 */
static enum tx_step fwd_resume(struct vsock_dev *d, const struct vq_chain *c)
{
	struct fwd_cursor *f = &d->fwd;
	struct pkt_src src = { .chain = c, .off = HDR_LEN + f->off };

	if (c->head != f->head || c->out_len != HDR_LEN + f->hdr.len) {
		dev_broken(d, "a TX chain changed while the device held it");
		return TX_STOP;
	}
	for (;;) {
		struct virtio_vsock_hdr h = f->hdr;
		struct vq_chain rc;
		int r = fwd_rx_pop(f, &rc);
		u32 n;

		if (r < 0) {
			/* Answered as if it had not been routed (tx_route()). */
			if (!f->off) {
				g2g_take_owed(d, &f->hdr);
				rst_reply(d, &f->hdr);
			}
			f->active = false;
			return TX_DONE;
		}
		if (r == 0) {
			d->waits_on = f->to;
			return TX_WAIT;
		}
		n = MIN(f->hdr.len - f->off, rc.in_len - HDR_LEN);
		rx_put(f->to, &rc, &h, &src, n);
		f->off += n;
		if (f->off == f->hdr.len) {
			g2g_forwarded(d, f->to, &f->hdr);
			f->active = false;
			return TX_DONE;
		}
	}
}

/* --------------------------------------------------------- TX queue */

static bool op_known(u16 op)
{
	return op >= VIRTIO_VSOCK_OP_REQUEST && op <= VIRTIO_VSOCK_OP_CREDIT_REQUEST;
}

/* What is wrong with header @h of a TX chain of @out_len bytes, or NULL. */
static const char *hdr_check(const struct vsock_dev *d,
			     const struct virtio_vsock_hdr *h, u32 out_len)
{
	if (h->type != VIRTIO_VSOCK_TYPE_STREAM)
		return "not a stream packet";
	if (!op_known(h->op))
		return "unknown op";
	if (h->len > VSOCK_MAX_PAYLOAD)
		return "payload larger than 64 KiB";
	if (h->len != out_len - HDR_LEN)
		return "len is not the payload the buffer holds";
	if (h->len && h->op != VIRTIO_VSOCK_OP_RW)
		return "payload on a packet that carries none";
	if (h->src_cid != d->cid)
		return "source CID is not its own";
	return NULL;
}

/* Reads and checks the header of TX chain @c into @h. False when the
 * packet is refused (logged, answered with RST where it can be). */
static bool tx_parse(struct vsock_dev *d, const struct vq_chain *c,
		     struct virtio_vsock_hdr *h)
{
	const char *why;

	if (c->out_len < HDR_LEN) {
		proto_error(d, NULL, "a TX packet is shorter than its header");
		return false;
	}
	vq_chain_read(c, 0, h, HDR_LEN);
	why = hdr_check(d, h, c->out_len);
	if (!why)
		return true;
	proto_error(d, h, why);
	if (h->dst_cid == VSOCK_HOST_CID) {
		struct vsock_conn *conn = conn_find(d, h->src_port, h->dst_port);

		if (conn)
			conn_end(conn);   /* the RST below is its reset */
	}
	rst_reply(d, h);
	return false;
}

/* A checked packet: to CID 2, on to a VM it may reach, or RST. */
static enum tx_step tx_route(struct vsock_dev *d, const struct virtio_vsock_hdr *h,
			     const struct vq_chain *c)
{
	struct vsock_dev *to;

	d->stats.pkts_in++;
	d->stats.bytes_in += h->len;
	if (h->dst_cid == VSOCK_HOST_CID) {
		svc_packet(d, h, c);
		return TX_DONE;
	}
	to = route(d, h->dst_cid);
	/* A stream whose RST @d is owed ended with the other end's device
	 * (g2g_gone()): that RST answers it, even if a new device now has
	 * the CID. Taken first, so that it is never sent twice. */
	if (g2g_take_owed(d, h) || !to) {
		rst_reply(d, h);
		return TX_DONE;
	}
	d->fwd = (struct fwd_cursor){ .active = true, .head = c->head, .hdr = *h,
				      .to = to, .to_gen = to->gen };
	return fwd_resume(d, c);
}

/* Takes and handles one TX chain of @d. */
static enum tx_step tx_one(struct vsock_dev *d)
{
	struct virtqueue *vq = &d->vdev.vq[VSOCK_VQ_TX];
	struct virtio_vsock_hdr h;
	struct vq_chain c;
	enum tx_step step = TX_DONE;
	int r;

	if (!rstq_has_room(d, RST_PER_PACKET)) {
		rst_flush(d);
		if (!rstq_has_room(d, RST_PER_PACKET)) {
			d->waits_on = d;
			return TX_WAIT;
		}
	}
	r = dev_pop(d, VSOCK_VQ_TX, &c);
	if (r <= 0)
		return r < 0 ? TX_STOP : TX_EMPTY;
	if (d->fwd.active)
		step = fwd_resume(d, &c);
	else if (tx_parse(d, &c, &h))
		step = tx_route(d, &h, &c);
	if (step == TX_WAIT) {
		vq_unpop(vq);
	} else if (step == TX_DONE) {
		vq_push(vq, c.head, 0);
		d->used[VSOCK_VQ_TX] = true;
	}
	return step;
}

/* Handles @d's TX chains, up to a batch: if there may be more, its
 * vCPU comes back for them. */
static void tx_process(struct vsock_dev *d)
{
	d->waits_on = NULL;
	for (unsigned int i = 0; i < TX_BATCH; i++)
		if (tx_one(d) != TX_DONE)
			return;
	dev_kick(d);
}

/* -------------------------------------------------------- services */

/* The next connection of @d whose service has work, round robin. */
static struct vsock_conn *conn_next_work(struct vsock_dev *d)
{
	for (unsigned int i = 0; i < VSOCK_SVC_MAX_CONNS; i++) {
		unsigned int k = (d->svc_next + i) % VSOCK_SVC_MAX_CONNS;
		struct vsock_conn *c = &d->conns[k];

		if (c->st == CONN_OPEN && c->work && !c->busy && !c->close_wanted) {
			d->svc_next = k + 1;
			return c;
		}
	}
	return NULL;
}

/*
 * Runs process() of @d's connections that have work, without the lock,
 * one call at a time per connection (busy); a connection that ended
 * meanwhile is freed once its call returns. Then sends what the call
 * left owed (a credit update after it consumed).
 */
static void run_services(struct vsock_dev *d)
{
	for (unsigned int i = 0; i < SVC_BATCH; i++) {
		struct vsock_conn *c;

		spin_lock(&vsock_lock);
		c = conn_next_work(d);
		if (!c) {
			spin_unlock(&vsock_lock);
			return;
		}
		c->work = false;
		c->busy = true;
		spin_unlock(&vsock_lock);
		c->svc->process(c->state, c);
		spin_lock(&vsock_lock);
		c->busy = false;
		if (c->st == CONN_DEAD)
			conn_free(c);
		else
			conn_flush(c);
		signal_used();
		spin_unlock(&vsock_lock);
	}
	spin_lock(&vsock_lock);
	if (conn_next_work(d))
		dev_kick(d);
	spin_unlock(&vsock_lock);
}

/* Everything @d's VM has to do, on one of its vCPUs; while it is
 * paused, nothing (vsock_vm_resumed() has it done then). */
static void vsock_run(struct vsock_dev *d)
{
	if (dev_paused(d))
		return;
	spin_lock(&vsock_lock);
	if (dev_up(d)) {
		tx_process(d);
		dev_flush(d);
		wake_waiters(d, false);
	}
	signal_used();
	spin_unlock(&vsock_lock);
	run_services(d);
}

/* ---------------------------------------------- virtio_dev_ops */

static bool vsock_config_read(struct virtio_dev *vd, u64 offset, unsigned int size,
			      u64 *val)
{
	const struct vsock_dev *d = vd->priv;

	if (offset >= CONFIG_SIZE || size > CONFIG_SIZE - offset)
		return false;
	*val = d->cid >> (offset * 8);
	if (size < sizeof(u64))
		*val &= (1ULL << (size * 8)) - 1;
	return true;
}

static void vsock_start(struct virtio_dev *vd)
{
	const struct vsock_dev *d = vd->priv;

	printf("hv: VM '%s' vsock: driver ready, CID %llu\n", d->vm->name,
	       (unsigned long long)d->cid);
}

static void vsock_notify(struct virtio_dev *vd, unsigned int queue)
{
	/* The event queue only ever holds the driver's buffers: we send
	 * no events (no migration, no transport reset). */
	if (queue == VSOCK_VQ_RX || queue == VSOCK_VQ_TX)
		vsock_run(vd->priv);
}

static void vsock_reset(struct virtio_dev *vd)
{
	dev_reset_state(vd->priv);
}

static const struct virtio_dev_ops vsock_ops = {
	.features = 0,   /* streams only: no VIRTIO_VSOCK_F_SEQPACKET */
	.nr_queues = VSOCK_VQ_EVENT + 1,
	.config_read = vsock_config_read,
	.start = vsock_start,
	.notify = vsock_notify,
	.reset = vsock_reset,
};

/* ------------------------------------------------------------ API */

/* Whether a VM other than @vm has @cid. */
static bool cid_taken(const struct vm *vm, u64 cid)
{
	for (unsigned int i = 0; i < SCENARIO_MAX_VMS; i++)
		if (i != vm->id && devs[i].vm && devs[i].cid == cid)
			return true;
	return false;
}

/* At creation, before any vCPU runs: the table is published to the
 * vCPUs with the VMs (vms_started, virt/vm.c). */
int vsock_create(struct vm *vm, unsigned int slot)
{
	struct vsock_dev *d = &devs[vm->id];
	u64 cid = vm->cfg->vsock_cid;

	if (cid <= VSOCK_HOST_CID || cid_taken(vm, cid)) {
		printf("hv: VM '%s': vsock CID %llu is reserved or taken: give it "
		       "another `vsock_cid =`\n", vm->name, (unsigned long long)cid);
		return -EINVAL;
	}
	memset(d, 0, sizeof(*d));
	g2g_forget(d);
	d->cid = cid;
	d->log_budget = LOG_BUDGET;
	virtio_mmio_init(&d->vdev, vm, slot, VIRTIO_ID_VSOCK, &vsock_ops, d, &vsock_lock);
	vm_add_mmio(vm, GUEST_VIRTIO_BASE + slot * GUEST_VIRTIO_STRIDE,
		    GUEST_VIRTIO_STRIDE, &d->vdev, virtio_mmio_access);
	d->vm = vm;
	return 0;
}

int vsock_register_service(const struct vsock_service *s)
{
	int r = -ENOSPC;

	spin_lock(&vsock_lock);
	if (service_find(s->port)) {
		r = -EEXIST;
	} else {
		for (unsigned int i = 0; i < MAX_SERVICES && r; i++) {
			if (!services[i]) {
				services[i] = s;
				r = 0;
			}
		}
	}
	spin_unlock(&vsock_lock);
	return r;
}

void vsock_vm_stopped(struct vm *vm)
{
	struct vsock_dev *d = &devs[vm->id];
	struct vsock_stats st;

	if (!d->vm)
		return;
	spin_lock(&vsock_lock);
	d->stopped = true;
	dev_reset_state(d);
	st = d->stats;
	spin_unlock(&vsock_lock);
	printf("hv: VM '%s' vsock: %llu packets (%llu bytes) sent, %llu (%llu bytes) "
	       "received, %llu RSTs to it, %llu bad packets\n", vm->name,
	       (unsigned long long)st.pkts_in, (unsigned long long)st.bytes_in,
	       (unsigned long long)st.pkts_out, (unsigned long long)st.bytes_out,
	       (unsigned long long)st.rsts, (unsigned long long)st.errors);
}

void vsock_vm_reset(struct vm *vm)
{
	struct vsock_dev *d = &devs[vm->id];
	u64 status = 0;

	/* The transport's own path for a driver's reset (it takes the
	 * lock, resets us, then its registers); no vCPU is needed. */
	if (d->vm)
		virtio_mmio_access(NULL, &d->vdev, VIRTIO_MMIO_STATUS, sizeof(u32), true,
				   &status);
}

void vsock_vm_paused(struct vm *vm)
{
	/* Waits out a delivery into @vm that read pause_depth as 0: the
	 * lock's acquire orders vm_pause()'s store before any later
	 * delivery's check (dev_paused()). */
	if (devs[vm->id].vm) {
		spin_lock(&vsock_lock);
		spin_unlock(&vsock_lock);
	}
}

void vsock_vm_resumed(struct vm *vm)
{
	struct vsock_dev *d = &devs[vm->id];

	if (!d->vm)
		return;
	spin_lock(&vsock_lock);
	wake_waiters(d, false);
	spin_unlock(&vsock_lock);
	dev_kick(d);   /* the device work it skipped while paused */
}

void vsock_vcpu_work(struct vcpu *v)
{
	struct vsock_dev *d = &devs[v->vm->id];

	if (d->vm)
		vsock_run(d);
}

u32 vsock_conn_readable(struct vsock_conn *c)
{
	u32 n;

	spin_lock(&vsock_lock);
	n = c->st == CONN_OPEN ? conn_readable(c) : 0;
	spin_unlock(&vsock_lock);
	return n;
}

u32 vsock_conn_peek(struct vsock_conn *c, void *dst, u32 len)
{
	u32 n = 0;

	spin_lock(&vsock_lock);
	if (c->st == CONN_OPEN) {
		u32 pos = c->fwd_cnt % VSOCK_SVC_IN_BUF, first;

		n = MIN(len, conn_readable(c));
		first = MIN(n, VSOCK_SVC_IN_BUF - pos);
		memcpy(dst, c->in + pos, first);
		memcpy((u8 *)dst + first, c->in, n - first);
	}
	spin_unlock(&vsock_lock);
	return n;
}

void vsock_conn_consume(struct vsock_conn *c, u32 len)
{
	spin_lock(&vsock_lock);
	if (c->st == CONN_OPEN) {
		c->fwd_cnt += MIN(len, conn_readable(c));
		/* Told with the reply, or on its own when process() returns
		 * (conn_flush()). */
		c->credit_due = c->fwd_cnt != c->told_fwd_cnt;
	}
	spin_unlock(&vsock_lock);
}

void *vsock_conn_reserve(struct vsock_conn *c, u32 *room)
{
	void *p;

	spin_lock(&vsock_lock);
	if (c->st != CONN_OPEN || c->close_wanted) {
		*room = 0;
		p = c->out;
	} else {
		/* Only this (the service's) side moves out_wr: the pending
		 * bytes move to the front so that the room is in one piece,
		 * by whole OUT_ALIGN steps unless nothing is pending. */
		u32 shift = c->out_rd == c->out_wr ? c->out_rd
						   : ALIGN_DOWN(c->out_rd, OUT_ALIGN);

		if (shift)
			memmove(c->out, c->out + shift, c->out_wr - shift);
		c->out_rd -= shift;
		c->out_wr -= shift;
		*room = VSOCK_SVC_OUT_BUF - c->out_wr;
		p = c->out + c->out_wr;
	}
	spin_unlock(&vsock_lock);
	return p;
}

void vsock_conn_commit(struct vsock_conn *c, u32 len)
{
	/* Sent when process() returns (run_services()), with whatever
	 * else the call owes the guest: one reply carries the credit its
	 * request freed. */
	spin_lock(&vsock_lock);
	if (c->st == CONN_OPEN && !c->close_wanted)
		c->out_wr += MIN(len, VSOCK_SVC_OUT_BUF - c->out_wr);
	spin_unlock(&vsock_lock);
}

void vsock_conn_close(struct vsock_conn *c)
{
	/* The SHUTDOWN follows the data when process() returns. */
	spin_lock(&vsock_lock);
	if (c->st == CONN_OPEN)
		c->close_wanted = true;
	spin_unlock(&vsock_lock);
}

struct vm *vsock_conn_peer(struct vsock_conn *c)
{
	return c->dev->vm;
}
