/*
 * libFuzzer target over the vsock device (virt/vsock.c), on the bench of
 * tests/host/vsock_harness.h: three VMs with devices (VM 0 manages
 * VM 1, VM 2 is on its own), 16-entry queues, the real transport and
 * walker, the fake echo and sink services on CID 2.
 *
 * Input: a sequence of operations, each an opcode byte and its
 * arguments (missing bytes read as 0):
 *
 *   RX     vm, count, layout, notify   post RX buffers (Linux's, one
 *                                      segment, minimal, split, too
 *                                      small, with a readable part,
 *                                      with an empty descriptor)
 *   CONN   vm, k, kind, arg16          a packet on model connection k
 *                                      to CID 2, its credit fields kept
 *                                      honest by the model: REQUEST,
 *                                      RW, SHUTDOWN, RST, CREDIT_UPDATE,
 *                                      CREDIT_REQUEST
 *   RAW    vm, how, 44 header bytes, len16   any header, any payload
 *   G2G    vm, to, op, len16           a packet to another VM's CID
 *   REAP   vm, consume16, refill       the driver takes its RX packets
 *                                      (each checked) and reads
 *   NOTIFY vm, queue
 *   RESET  vm, setup                   device reset, set up again
 *   POLICY bits                        the services' behaviour
 *   SETTLE                             pending vCPU requests run
 *   STOP   vm                          the VM stops for good
 *   POKE   vm, len16                   the guest rewrites its last TX chain
 *   PAUSE  vm                          the VM is paused (vm_pause()), or
 *                                      resumed if it was; while paused
 *                                      its guest does nothing
 *
 * Checked at every packet a guest receives: it is for that guest, a
 * stream packet with a known op and exactly the length the used ring
 * says; nothing but an RST comes from a CID the guest may not reach; on
 * a connection whose model keeps its credit fields honest, the device
 * never sends beyond the guest's credit, never claims to have read more
 * than was sent, and sends no data after its SHUTDOWN; nothing but an
 * RST comes from a VM once it has stopped (the device resets the other
 * ends of its streams), and nothing is written into a paused VM's
 * memory. vCPU requests always come to an end; at the end every connection buffer is back in
 * the page pool and every accepted connection was closed once.
 *
 * Seeds (tests/fuzz/seeds/vsock/) are written by this file:
 *   FUZZ_VSOCK_WRITE_SEEDS=tests/fuzz/seeds/vsock build/fuzz/fuzz_vsock
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/compiler.h"
#include "tests/host/vsock_harness.h"
#include "virt/virtio_mmio.h"

#define HDR_LEN ((u32)sizeof(struct virtio_vsock_hdr))
#define NR_VMS 3
#define QSIZE 16
#define CONNS 4
/* Model connection k's guest port: CONN_PORT + k + CONNS * gen, a new
 * gen (mod GENS) for each REQUEST, as Linux takes a new port for each
 * connect(): the last packets of an old connection are told apart. */
#define CONN_PORT 1000u
#define GENS 1000u
#define G2G_PORT 60000u
#define MAX_PAYLOAD (64u * 1024)
/* A raw packet's payload: a u16 from the input, or that near 64 KiB. */
#define RAW_NEAR_MAX (MAX_PAYLOAD - 0x8000)
#define RAW_MAX (0xffffu + RAW_NEAR_MAX)
#define SEED_MAX 4096

enum op { OP_RX, OP_CONN, OP_RAW, OP_G2G, OP_REAP, OP_NOTIFY, OP_RESET,
	  OP_POLICY, OP_SETTLE, OP_STOP, OP_POKE, OP_PAUSE, NR_OPS };
enum conn_kind { K_REQUEST, K_RW, K_SHUTDOWN, K_RST, K_CREDIT_UPDATE,
		 K_CREDIT_REQUEST, NR_KINDS };

static const u32 manages[HV_MAX_VMS] = { 1u << 1, 0, 0, 0 };

/* RX buffer layouts a driver might post. */
static const struct hv_layout rx_layouts[] = {
	{ .in = { HDR_LEN, 4096 }, .nr_in = 2 },          /* Linux 6.1 */
	{ .in = { HDR_LEN + 4096 }, .nr_in = 1 },
	{ .in = { HDR_LEN + 1 }, .nr_in = 1 },            /* the least allowed */
	{ .in = { 10, 50, 300 }, .nr_in = 3 },
	{ .in = { 30 }, .nr_in = 1 },                     /* too small: breaks */
	{ .out = { 8 }, .nr_out = 1, .in = { HDR_LEN, 100 }, .nr_in = 2 },
	{ .in = { HDR_LEN, 0 }, .nr_in = 2 },             /* empty: breaks */
};

/* The driver's view of one of its connections to CID 2. */
struct mconn {
	u32 gen;
	bool used;               /* REQUEST sent, neither side ended it */
	bool open;               /* RESPONSE seen */
	bool tainted;            /* a raw packet spoke for it: no credit checks */
	bool dev_shut;           /* the device sent SHUTDOWN */
	u32 svc;
	u32 buf_alloc;           /* what it advertises, fixed per connection */
	u32 received, fwd_cnt;   /* RW bytes received / read */
	u32 tx_cnt;              /* RW bytes sent */
	u32 dev_buf_alloc, dev_fwd_cnt;
};

static struct mconn conns[NR_VMS][CONNS];
static bool stopped[NR_VMS];
static bool paused[NR_VMS];
/* FUZZ_VSOCK_TRACE set: every packet sent and received on stderr. */
static bool trace;

static void trace_hdr(const char *what, unsigned int vm, const struct virtio_vsock_hdr *h)
{
	if (trace)
		fprintf(stderr, "%s vm%u: op %u %llu:%u -> %llu:%u len %u buf %u fwd %u flags %u\n",
			what, vm, h->op, (unsigned long long)h->src_cid, h->src_port,
			(unsigned long long)h->dst_cid, h->dst_port, h->len, h->buf_alloc,
			h->fwd_cnt, h->flags);
}

struct input {
	const u8 *p;
	size_t n;
};

static u8 in_u8(struct input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static u16 in_u16(struct input *in)
{
	return (u16)(in_u8(in) | in_u8(in) << 8);
}

static unsigned int in_vm(struct input *in)
{
	return in_u8(in) % NR_VMS;
}

static void fill(u8 *buf, u32 len, u32 seed)
{
	for (u32 i = 0; i < len; i++)
		buf[i] = (u8)(seed + i * 31);
}

/* ---------------------------------------------------------- checks */

static u32 conn_port(unsigned int k, const struct mconn *c)
{
	return CONN_PORT + k + CONNS * c->gen;
}

/* The model connection whose current port is @port, or NULL. */
static struct mconn *conn_of(unsigned int vm, u32 port)
{
	u32 off = port - CONN_PORT;
	struct mconn *c;

	if (off >= CONNS * GENS)
		return NULL;
	c = &conns[vm][off % CONNS];
	return c->gen == off / CONNS ? c : NULL;
}

static bool allowed(unsigned int a, unsigned int b)
{
	return (manages[a] >> b & 1) || (manages[b] >> a & 1);
}

/* A packet from CID 2 on model connection @c. */
static void check_service_packet(struct mconn *c, const struct hv_pkt *p)
{
	if (!c->used || c->svc != p->hdr.src_port)
		return;   /* an old connection's last packets */
	if (p->hdr.op == VIRTIO_VSOCK_OP_RST) {
		c->used = false;
		return;
	}
	if (p->hdr.op == VIRTIO_VSOCK_OP_RESPONSE)
		c->open = true;
	if (!c->open || c->tainted)
		return;
	if (p->hdr.buf_alloc != VSOCK_SVC_IN_BUF)
		abort();
	/* The device never claims to have read what was never sent. */
	if ((u32)(p->hdr.fwd_cnt - c->dev_fwd_cnt) > c->tx_cnt - c->dev_fwd_cnt)
		abort();
	c->dev_buf_alloc = p->hdr.buf_alloc;
	c->dev_fwd_cnt = p->hdr.fwd_cnt;
	if (p->hdr.op == VIRTIO_VSOCK_OP_SHUTDOWN)
		c->dev_shut = true;
	if (p->hdr.op != VIRTIO_VSOCK_OP_RW)
		return;
	if (c->dev_shut)
		abort();                  /* data after its SHUTDOWN */
	c->received += p->hdr.len;
	if (c->received - c->fwd_cnt > c->buf_alloc)
		abort();                  /* beyond the credit we gave */
}

static void check_packet(unsigned int vm, const struct hv_pkt *p)
{
	const struct virtio_vsock_hdr *h = &p->hdr;

	trace_hdr("rx", vm, h);
	if (h->dst_cid != HV_CID(vm) || h->type != VIRTIO_VSOCK_TYPE_STREAM ||
	    h->op < VIRTIO_VSOCK_OP_REQUEST || h->op > VIRTIO_VSOCK_OP_CREDIT_REQUEST ||
	    p->used_len != HDR_LEN + h->len || h->len > MAX_PAYLOAD)
		abort();
	if (h->op == VIRTIO_VSOCK_OP_RST)
		; /* sent for any address the guest tried */
	else if (h->src_cid == VSOCK_HOST_CID) {
		if (h->src_port != HV_PORT_ECHO && h->src_port != HV_PORT_SINK)
			abort();
	} else {
		unsigned int from = (unsigned int)(h->src_cid - HV_CID(0));

		if (h->src_cid < HV_CID(0) || from >= NR_VMS || from == vm ||
		    !allowed(vm, from) || stopped[from])
			abort();              /* reached a VM it may not, or from a stopped one */
	}
	if (h->src_cid == VSOCK_HOST_CID) {
		struct mconn *c = conn_of(vm, h->dst_port);

		if (c)
			check_service_packet(c, p);
	}
}

/* -------------------------------------------------------- operations */

static void op_rx(struct input *in)
{
	unsigned int vm = in_vm(in), count = in_u8(in) % 4 + 1;
	const struct hv_layout *l = &rx_layouts[in_u8(in) % ARRAY_SIZE(rx_layouts)];

	hv_post_rx(vm, count, l);
	if (in_u8(in) & 1)
		hv_notify(vm, VSOCK_VQ_RX);
}

static void queue_and_notify(unsigned int vm, const u8 *buf, u32 len, bool split)
{
	struct hv_layout l = { .out = { 5, 30, HDR_LEN - 35 }, .nr_out = 3 };

	if (len > HDR_LEN)
		l.out[l.nr_out++] = len - HDR_LEN;
	if (hv_queue_tx(vm, buf, len, split && len >= HDR_LEN ? &l : NULL))
		hv_notify(vm, VSOCK_VQ_TX);
}

static u32 conn_credit(const struct mconn *c)
{
	u32 in_flight = c->tx_cnt - c->dev_fwd_cnt;

	return in_flight > c->dev_buf_alloc ? 0 : c->dev_buf_alloc - in_flight;
}

static void op_conn(struct input *in)
{
	static u8 buf[HDR_LEN + 6000];
	unsigned int vm = in_vm(in), k = in_u8(in) % CONNS;
	u8 kind = in_u8(in);
	u16 arg = in_u16(in);
	struct mconn *c = &conns[vm][k];
	struct virtio_vsock_hdr h = {
		.src_cid = HV_CID(vm), .dst_cid = VSOCK_HOST_CID,
		.type = VIRTIO_VSOCK_TYPE_STREAM,
	};

	switch (kind % NR_KINDS) {
	case K_REQUEST:
		*c = (struct mconn){ .gen = (c->gen + 1) % GENS, .used = true,
				     .svc = arg & 1 ? HV_PORT_SINK : HV_PORT_ECHO,
				     .buf_alloc = (u32)(arg >> 1) * 37 };
		h.op = VIRTIO_VSOCK_OP_REQUEST;
		break;
	case K_RW:
		h.op = VIRTIO_VSOCK_OP_RW;
		h.len = arg % 6000;
		if (arg & 0x8000)         /* as Linux: within the device's credit */
			h.len = MIN(h.len, conn_credit(c));
		c->tx_cnt += h.len;
		break;
	case K_SHUTDOWN:
		h.op = VIRTIO_VSOCK_OP_SHUTDOWN;
		h.flags = arg & 3;
		if (h.flags == 3)
			c->used = false;  /* it waits for the RST: nothing else counts */
		break;
	case K_RST:
		h.op = VIRTIO_VSOCK_OP_RST;
		c->used = false;
		break;
	case K_CREDIT_UPDATE:
		h.op = VIRTIO_VSOCK_OP_CREDIT_UPDATE;
		break;
	default:
		h.op = VIRTIO_VSOCK_OP_CREDIT_REQUEST;
		break;
	}
	h.src_port = conn_port(k, c);
	h.dst_port = c->svc ? c->svc : HV_PORT_ECHO;
	h.buf_alloc = c->buf_alloc;
	h.fwd_cnt = c->fwd_cnt;
	memcpy(buf, &h, HDR_LEN);
	fill(buf + HDR_LEN, h.len, arg);
	trace_hdr(kind & 0x80 ? "tx (not sent)" : "tx", vm, &h);
	if (kind & 0x80 || !hv_queue_tx(vm, buf, HDR_LEN + h.len, NULL))
		c->tainted |= h.op == VIRTIO_VSOCK_OP_RW;   /* not sent as counted */
	else
		hv_notify(vm, VSOCK_VQ_TX);
	if (kind & 0x40)
		hv_settle();
}

static void op_raw(struct input *in)
{
	static u8 buf[HDR_LEN + RAW_MAX];
	unsigned int vm = in_vm(in);
	u8 how = in_u8(in);
	struct virtio_vsock_hdr h;
	u32 len;

	for (u32 i = 0; i < HDR_LEN; i++)
		buf[i] = in_u8(in);
	memcpy(&h, buf, HDR_LEN);
	if (how & 1)
		h.src_cid = HV_CID(vm);
	if (how & 2)
		h.dst_cid = (how >> 4) % 5 == 0 ? VSOCK_HOST_CID : HV_CID((how >> 4) % 5 - 1);
	if (how & 4)
		h.type = VIRTIO_VSOCK_TYPE_STREAM;
	len = in_u16(in);
	if (how & 8)
		len += RAW_NEAR_MAX;          /* near and past the largest */
	if (how & 0x80)
		h.len = len;
	if (h.dst_cid == VSOCK_HOST_CID && conn_of(vm, h.src_port))
		conn_of(vm, h.src_port)->tainted = true;
	memcpy(buf, &h, HDR_LEN);
	fill(buf + HDR_LEN, len, how);
	trace_hdr("tx raw", vm, &h);
	queue_and_notify(vm, buf, (how & 0x40) ? in_u8(in) % HDR_LEN : HDR_LEN + len,
			 how & 0x20);
}

static void op_g2g(struct input *in)
{
	static u8 buf[HDR_LEN + 9000];
	unsigned int vm = in_vm(in), to = in_u8(in);
	u8 op = in_u8(in);
	struct virtio_vsock_hdr h = {
		.src_cid = HV_CID(vm), .dst_cid = to < 4 ? HV_CID(to) : to,
		.src_port = G2G_PORT + op % 4, .dst_port = G2G_PORT + op / 4 % 4,
		.type = VIRTIO_VSOCK_TYPE_STREAM,
		.op = (u16)(op / 16 % 7 + 1), .buf_alloc = 65536,
	};

	if (h.op == VIRTIO_VSOCK_OP_RW)
		h.len = in_u16(in) % 9000;
	memcpy(buf, &h, HDR_LEN);
	fill(buf + HDR_LEN, h.len, op);
	trace_hdr("tx g2g", vm, &h);
	queue_and_notify(vm, buf, HDR_LEN + h.len, op & 0x80);
}

static void take_all(unsigned int vm)
{
	struct hv_pkt p;

	while (hv_rx_take(vm, &p)) {
		check_packet(vm, &p);
		hv_pkt_free(&p);
	}
}

/* The driver of @vm takes what the device put in its RX queue; none of
 * it may have come while @vm was paused (drained when it was paused). */
static void drain(unsigned int vm, bool refill)
{
	if (hv_reap_rx(vm, refill) && paused[vm])
		abort();                      /* written into a paused VM */
	take_all(vm);
}

static void op_reap(struct input *in)
{
	unsigned int vm = in_vm(in);
	u16 consume = in_u16(in);
	bool refill = in_u8(in) & 1;

	drain(vm, refill);
	for (unsigned int k = 0; k < CONNS; k++) {
		struct mconn *c = &conns[vm][k];

		c->fwd_cnt += MIN((u32)consume, c->received - c->fwd_cnt);
	}
}

/* The device was reset: every connection is gone (ports stay new). */
static void model_forget(unsigned int vm)
{
	for (unsigned int k = 0; k < CONNS; k++)
		conns[vm][k] = (struct mconn){ .gen = conns[vm][k].gen };
}

static void op_reset(struct input *in)
{
	unsigned int vm = in_vm(in);

	take_all(vm);
	hv_reset(vm);
	model_forget(vm);
	if (in_u8(in) & 1) {
		hv_setup(vm, vm % 2 == 0);
		hv_post_rx(vm, QSIZE / 2, NULL);
	}
}

static void op_policy(struct input *in)
{
	u8 b = in_u8(in);

	hv_policy = (struct hv_policy){
		.refuse = b & 1, .no_echo = b & 2, .close_in_process = b & 4,
		.consume_max = (b >> 3) & 3 ? 1u << (3 * ((b >> 3) & 3)) : 0,
		.write_len = b & 0x20 ? 24 : 0,
		.reset_in_process = (b & 0xc0) == 0xc0,
	};
}

/* vm_pause()/vm_resume() as the hypervisor does them: depth, then the
 * device hears. */
static void set_paused(unsigned int vm, bool pause)
{
	paused[vm] = pause;
	__atomic_store_n(&hv_vm(vm)->pause_depth, pause, __ATOMIC_RELEASE);
	if (pause)
		vsock_vm_paused(hv_vm(vm));
	else
		vsock_vm_resumed(hv_vm(vm));
}

static void op_pause(unsigned int vm)
{
	drain(vm, false);
	set_paused(vm, !paused[vm]);
}

/* @vm stops: what the others received until now is taken first, so
 * that anything from @vm they take later came after its stop. */
static void op_stop(unsigned int vm)
{
	for (unsigned int i = 0; i < NR_VMS; i++)
		if (!stopped[i])
			drain(i, false);
	vsock_vm_stopped(hv_vm(vm));
	stopped[vm] = true;
}

static void run(struct input *in)
{
	while (in->n) {
		u8 op = in_u8(in) % NR_OPS;
		/* A stopped VM runs no vCPU: nothing of it happens again;
		 * a paused one's vCPUs wait for it to resume. */
		unsigned int vm = in->n ? in->p[0] % NR_VMS : 0;

		if (op != OP_POLICY && op != OP_SETTLE &&
		    (stopped[vm] || (paused[vm] && op != OP_PAUSE))) {
			in_u8(in);
			continue;
		}
		switch (op) {
		case OP_RX: op_rx(in); break;
		case OP_CONN: op_conn(in); break;
		case OP_RAW: op_raw(in); break;
		case OP_G2G: op_g2g(in); break;
		case OP_REAP: op_reap(in); break;
		case OP_NOTIFY: vm = in_vm(in); hv_notify(vm, in_u8(in) % 3); break;
		case OP_RESET: op_reset(in); break;
		case OP_POLICY: op_policy(in); break;
		case OP_SETTLE: break;
		case OP_STOP: op_stop(in_vm(in)); break;
		case OP_PAUSE: op_pause(in_vm(in)); break;
		default:
			vm = in_vm(in);
			hv_poke_last_tx_len(vm, in_u16(in));
			break;
		}
		if (!hv_settle())
			abort();              /* requests that never end */
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct input in = { data, size };

	hv_init(NR_VMS, 7, manages, QSIZE);
	memset(conns, 0, sizeof(conns));
	memset(stopped, 0, sizeof(stopped));
	memset(paused, 0, sizeof(paused));
	for (unsigned int vm = 0; vm < NR_VMS; vm++)
		hv_post_rx(vm, QSIZE / 2, NULL);
	run(&in);
	for (unsigned int vm = 0; vm < NR_VMS; vm++) {
		if (paused[vm]) {
			op_pause(vm);
			if (!hv_settle())
				abort();
		}
	}
	for (unsigned int vm = 0; vm < NR_VMS; vm++)
		if (!stopped[vm])
			drain(vm, false);
	if (!hv_teardown())
		abort();                      /* a leak, or a service misused */
	return 0;
}

/* ------------------------------------------------------------ seeds */

struct seed {
	u8 b[SEED_MAX];
	size_t n;
};

static void put(struct seed *s, unsigned int n, ...)
{
	va_list ap;

	va_start(ap, n);
	while (n--)
		s->b[s->n++] = (u8)va_arg(ap, unsigned int);
	va_end(ap);
}

static void put_conn(struct seed *s, unsigned int vm, unsigned int k, unsigned int kind,
		     unsigned int arg)
{
	put(s, 6, OP_CONN, vm, k, kind, arg & 0xff, arg >> 8);
}

static void put_reap(struct seed *s, unsigned int vm)
{
	put(s, 5, OP_REAP, vm, 0xff, 0xff, 1);
}

static void write_seed(const char *dir, const char *name, const struct seed *s)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(s->b, 1, s->n, f) != s->n)
		exit(1);
	fclose(f);
}

static void write_seeds(const char *dir)
{
	struct seed s = { .n = 0 };

	/* Echo: connect, data within credit, reads, Linux's close. */
	put_conn(&s, 0, 0, K_REQUEST, 2u * 300);
	put_reap(&s, 0);
	put_conn(&s, 0, 0, K_RW, 0x8000 | 700);
	put_reap(&s, 0);
	put_conn(&s, 0, 0, K_CREDIT_UPDATE, 0);
	put_reap(&s, 0);
	put_conn(&s, 0, 0, K_SHUTDOWN, 3);
	put_reap(&s, 0);
	write_seed(dir, "echo", &s);

	/* Sink: data beyond our credit, a credit request, a service that closes. */
	s.n = 0;
	put(&s, 2, OP_POLICY, 4 | (1 << 3));
	put_conn(&s, 1, 1, K_REQUEST, 1 | 2u * 5000);
	put_conn(&s, 1, 1, K_RW, 5000);
	put_conn(&s, 1, 1, K_CREDIT_REQUEST, 0);
	put_reap(&s, 1);
	put_conn(&s, 1, 2, K_REQUEST, 2u * 100);
	put_conn(&s, 1, 2, K_RW, 0x8000 | 50);
	put_reap(&s, 1);
	put_conn(&s, 1, 2, K_RST, 0);
	write_seed(dir, "sink", &s);

	/* Guest to guest: REQUEST, RESPONSE, a large RW into a small RX
	 * queue (backpressure), the receiver reading late; an unrelated VM. */
	s.n = 0;
	put(&s, 4, OP_G2G, 1, 0, 0x00);                 /* REQUEST 1 -> 0 */
	put_reap(&s, 0);
	put(&s, 4, OP_G2G, 0, 1, 0x10);                 /* RESPONSE 0 -> 1 */
	put(&s, 6, OP_G2G, 0, 1, 0x40, 0x10, 0x20);     /* RW 8208 bytes */
	put(&s, 6, OP_G2G, 0, 1, 0x40, 0x10, 0x20);
	put_reap(&s, 1);
	put_reap(&s, 1);
	put(&s, 4, OP_G2G, 2, 0, 0x00);                 /* refused: RST */
	put_reap(&s, 2);
	put(&s, 3, OP_RESET, 1, 1);
	write_seed(dir, "g2g", &s);

	/* Bad packets: a raw header, a short chain, tiny RX buffers. */
	s.n = 0;
	put(&s, 3, OP_RAW, 0, 0x87);
	for (unsigned int i = 0; i < HDR_LEN; i++)
		put(&s, 1, i == 30 ? 9 : 0);
	put(&s, 2, 8, 0);
	put(&s, 3, OP_RAW, 2, 0x41);
	for (unsigned int i = 0; i < HDR_LEN + 1; i++)
		put(&s, 1, 20);
	put(&s, 5, OP_RX, 0, 1, 4, 1);
	put_conn(&s, 0, 3, K_REQUEST, 0);
	put(&s, 3, OP_RESET, 0, 1);
	put(&s, 2, OP_STOP, 2);
	put(&s, 4, OP_G2G, 0, 2, 0x00);
	write_seed(dir, "bad", &s);

	/* A guest-to-guest stream whose other end goes away: VM 1 resets,
	 * then (a new stream) stops while VM 0 is paused; VM 0 gets each
	 * RST, the second once it resumes. */
	s.n = 0;
	put(&s, 4, OP_G2G, 1, 0, 0x00);                 /* REQUEST 1 -> 0 */
	put_reap(&s, 0);
	put(&s, 4, OP_G2G, 0, 1, 0x10);                 /* RESPONSE 0 -> 1 */
	put_reap(&s, 1);
	put(&s, 3, OP_RESET, 1, 1);
	put_reap(&s, 0);
	put(&s, 4, OP_G2G, 1, 0, 0x05);                 /* REQUEST, other ports */
	put_reap(&s, 0);
	put(&s, 4, OP_G2G, 0, 1, 0x15);
	put(&s, 2, OP_PAUSE, 0);
	put(&s, 2, OP_STOP, 1);
	put(&s, 2, OP_PAUSE, 0);
	put_reap(&s, 0);
	write_seed(dir, "g2g-gone", &s);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("FUZZ_VSOCK_WRITE_SEEDS");

	trace = getenv("FUZZ_VSOCK_TRACE") != NULL;
	hv_echo_log = trace;
	if (dir) {
		write_seeds(dir);
		exit(0);
	}
	return 0;
}
