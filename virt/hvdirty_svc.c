/*
 * The dirty-log service (docs/protocol.md) on vsock CID 2, port
 * HVD_PORT: per connection, requests framed and checked by the codec
 * (virt/hvdirty_codec.h), served one at a time through virt/manage.h on
 * the management VM's own vCPU, and answered in the connection's output
 * buffer; counters per caller. A malformed request costs its connection
 * an error answer (and, for one that cannot be framed, the connection),
 * never the hypervisor.
 */
#include "lib/compiler.h"
#include "lib/console.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "virt/hvdirty_codec.h"
#include "virt/hvdirty_svc.h"
#include "virt/manage.h"
#include "virt/vm.h"
#include "virt/vsock.h"

/* HARVEST has the engine store its entries in place, as the wire's. */
_Static_assert(sizeof(struct hvd_entry) == sizeof(struct dirty_gfn) &&
	       offsetof(struct hvd_entry, slot) == offsetof(struct dirty_gfn, slot) &&
	       offsetof(struct hvd_entry, offset) == offsetof(struct dirty_gfn, offset) &&
	       HVD_ENTRY_DIRTY == DIRTY_GFN_F_DIRTY && HVD_ENTRY_RESET == DIRTY_GFN_F_RESET,
	       "struct hvd_entry is struct dirty_gfn");
/* STATS copies struct dirty_stats as the first words of struct hvd_stats. */
_Static_assert(sizeof(struct dirty_stats) == offsetof(struct hvd_stats, requests) &&
	       offsetof(struct dirty_stats, reset) == offsetof(struct hvd_stats, reset),
	       "struct hvd_stats begins with struct dirty_stats");
_Static_assert(HVD_MODE_OFF == DIRTY_MODE_OFF && HVD_MODE_WP == DIRTY_MODE_WP &&
	       HVD_MODE_DBM == DIRTY_MODE_DBM && HVD_MODE_AUTO == DIRTY_MODE_AUTO,
	       "wire modes are the engine's");
_Static_assert(ARRAY_SIZE(((struct manage_attach *)0)->start_index) <= HVD_MAX_RINGS,
	       "an attach reply describes every ring");
_Static_assert(VM_NAME_LEN <= sizeof(((struct hvd_vm *)0)->name), "a VM name fits");
_Static_assert(sizeof(struct hvd_hdr) + sizeof(struct hvd_list_reply) +
	       SCENARIO_MAX_VMS * sizeof(struct hvd_vm) <= HVD_REPLY_MAX, "a listing fits");
_Static_assert(sizeof(struct hvd_hdr) + sizeof(struct hvd_attach_reply) <= HVD_REPLY_MAX &&
	       sizeof(struct hvd_hdr) + sizeof(struct hvd_stats) <= HVD_REPLY_MAX &&
	       HVD_ERROR_REPLY_MAX <= HVD_REPLY_MAX, "every reply fits HVD_REPLY_MAX");
_Static_assert(sizeof(struct hvd_hdr) + HVD_READ_MAX <= HVD_REPLY_MAX &&
	       HVD_PAGE_SIZE % HVD_REPLY_ALIGN == 0,
	       "a READ reply fits HVD_REPLY_MAX, its length a multiple of HVD_REPLY_ALIGN");
_Static_assert(VSOCK_SVC_OUT_BUF >= HVD_REPLY_MAX && VSOCK_SVC_IN_BUF >= HVD_REQ_MAX,
	       "a connection's buffers hold the largest reply and request");

/*
 * One connection. @used is under vsock_lock (accept and closed run with
 * it); the rest belongs to the connection's process() from accept to
 * closed, which vsock.c never runs at once.
 */
struct hvd_conn {
	bool used;
	bool closing;            /* the service closed it: read no more */
	struct vm *peer;
	u32 malformed;           /* its malformed requests, for the log's limit */
};
static struct hvd_conn conns[SCENARIO_MAX_VMS * VSOCK_SVC_MAX_CONNS];

/* Per caller VM, since boot. Relaxed atomic adds: two connections of
 * one VM may be served on two of its vCPUs at once; a reader wants
 * counts, not an order. */
struct hvd_counters {
	u64 requests, malformed, refused;
};
static struct hvd_counters counters[SCENARIO_MAX_VMS];

static void count(u64 *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

/*
 * manage_*() errors as statuses:
 *   -ESRCH      HVD_E_NOVM     no VM with that id
 *   -EPERM      HVD_E_PERM     not the caller's to manage, or not allowed
 *                              on that VM (PAUSE of a VM that manages)
 *   -EBUSY      HVD_E_BUSY     already so (logging on, paused, attached,
 *                              rings mapped elsewhere; HARVEST's MAPPED
 *                              flag against where the rings are)
 *   -EALREADY   HVD_E_STATE    not so (logging off, not paused by it,
 *                              not attached)
 *   -EOPNOTSUPP HVD_E_NOTSUP   dbm without FEAT_HAFDBS
 *   -ENOMEM, -ENOSPC  HVD_E_NOMEM
 *   anything else     HVD_E_INVAL  (a range or window not allowed)
 */
static u32 status_of(int err)
{
	switch (err) {
	case -ESRCH:
		return HVD_E_NOVM;
	case -EPERM:
		return HVD_E_PERM;
	case -EBUSY:
		return HVD_E_BUSY;
	case -EALREADY:
		return HVD_E_STATE;
	case -EOPNOTSUPP:
		return HVD_E_NOTSUP;
	case -ENOMEM:
	case -ENOSPC:
		return HVD_E_NOMEM;
	default:
		return HVD_E_INVAL;
	}
}

/* The reason an error answer gives: the first entry for the request's
 * type (0: any request, and errors of resolving the target) and error. */
struct refusal {
	u16 type;
	int err;
	const char *why;
};
#define WHY_OUTSIDE_RAM "the range is not inside its RAM"
static const struct refusal refusals[] = {
	{ HVD_LOG_START, -EBUSY, "logging is already on" },
	{ HVD_LOG_STOP, -EALREADY, "logging is off" },
	{ HVD_ATTACH, -EBUSY, "already attached, or its rings are mapped elsewhere" },
	{ HVD_ATTACH, -ENOMEM, "no free window or memory for it" },
	{ HVD_ATTACH, -EINVAL, "mapping it failed" },
	{ HVD_DETACH, -EALREADY, "not attached" },
	{ HVD_HARVEST, -EBUSY, "HVD_HARVEST_MAPPED does not match where its rings are" },
	{ HVD_PAUSE, -EBUSY, "already paused by this VM" },
	{ HVD_PAUSE, -EPERM, "it manages VMs itself" },
	{ HVD_RESUME, -EALREADY, "not paused by this VM" },
	{ HVD_DIGEST, -EINVAL, WHY_OUTSIDE_RAM },
	{ HVD_READ, -EINVAL, WHY_OUTSIDE_RAM },
	{ 0, -ESRCH, "no such VM" },
	{ 0, -EPERM, "this VM does not manage it" },
	{ 0, -EOPNOTSUPP, "dbm: the CPUs lack FEAT_HAFDBS dirty state" },
	{ 0, -ENOMEM, "out of memory" },
	{ 0, -ENOSPC, "out of memory" },
};

static const char *refusal_why(u16 type, int err)
{
	for (size_t i = 0; i < ARRAY_SIZE(refusals); i++)
		if ((refusals[i].type == type || !refusals[i].type) && refusals[i].err == err)
			return refusals[i].why;
	return "refused";
}

/* ------------------------------------------------------------ requests */

/* A request being served: the call for manage_*(), the request, and
 * where its reply's body goes (HVD_REPLY_ALIGN aligned, room for
 * HVD_REPLY_MAX - header bytes), whose length the handler sets. */
struct hvd_call {
	struct manage_call mc;
	const struct hvd_req *req;
	void *body;
	u32 body_len;
};

static void describe_vm(struct vm *caller, struct vm *t, struct hvd_vm *d)
{
	u32 holds = manage_holds(caller, t);

	memset(d, 0, sizeof(*d));
	d->id = t->id;
	d->nr_vcpus = t->nr_vcpus;
	d->ram_ipa = GUEST_RAM_BASE;
	d->ram_size = t->ram_size;
	d->vsock_cid = t->cfg->vsock_cid;
	d->flags = (manage_target_stopped(t) ? HVD_VM_STOPPED : 0) |
		   (t->dirty.cpu_has_dbm ? HVD_VM_DBM : 0) |
		   (holds & MANAGE_HOLDS_ATTACH ? HVD_VM_ATTACHED : 0) |
		   (holds & MANAGE_HOLDS_PAUSE ? HVD_VM_PAUSED : 0);
	/* Relaxed: a snapshot for a listing, ordered with nothing. */
	d->log_mode = __atomic_load_n(&t->dirty.mode, __ATOMIC_RELAXED);
	memcpy(d->name, t->name, strnlen(t->name, sizeof(d->name) - 1));
}

/* The VMs the caller manages, in id order (never the caller itself). */
static int do_list(struct hvd_call *c)
{
	struct hvd_list_reply *r = c->body;
	struct vm *me = c->mc.caller;
	u32 n = 0;

	for (unsigned int id = 0; id < SCENARIO_MAX_VMS; id++) {
		struct vm *t = vm_by_id(id);

		if (t && t != me && manage_may(me, t))
			describe_vm(me, t, &r->vm[n++]);
	}
	r->count = n;
	r->reserved = 0;
	c->body_len = (u32)(sizeof(*r) + n * sizeof(r->vm[0]));
	return 0;
}

static int do_log_start(struct hvd_call *c)
{
	struct hvd_log_start *r = c->body;
	enum dirty_mode in_effect;
	int err;

	/* The codec let only WP, DBM and AUTO through (same values). */
	err = manage_log_start(&c->mc, (enum dirty_mode)c->req->body.log_start.mode,
			       &in_effect);
	if (err)
		return err;
	r->mode = in_effect;
	r->reserved = 0;
	c->body_len = sizeof(*r);
	return 0;
}

static int do_log_stop(struct hvd_call *c)
{
	return manage_log_stop(&c->mc);
}

/* The hypervisor picks the windows (mem_ipa 0); the reply names them. */
static int do_attach(struct hvd_call *c)
{
	struct hvd_attach_reply *r = c->body;
	struct manage_attach a;
	u32 flags = c->req->body.attach.flags & HVD_ATTACH_RINGS ? MANAGE_ATTACH_RINGS : 0;
	int err = manage_attach(&c->mc, 0, flags, &a);

	if (err)
		return err;
	memset(r, 0, sizeof(*r));
	r->mem_ipa = a.mem_ipa;
	r->mem_size = a.mem_size;
	r->rings_ipa = a.rings_ipa;
	r->ring_stride = a.ring_stride;
	r->nr_rings = MIN(a.nr_rings, (u32)ARRAY_SIZE(a.start_index));
	r->ring_entries = a.ring_entries;
	memcpy(r->start_index, a.start_index, r->nr_rings * sizeof(r->start_index[0]));
	c->body_len = sizeof(*r);
	return 0;
}

static int do_detach(struct hvd_call *c)
{
	return manage_detach(&c->mc);
}

/*
 * Entries go straight into the reply. manage_harvest() may hand over
 * fewer than asked while more are left (a chunk of one ring), so it is
 * asked again until the reply is full or the pass is over. Entries it
 * handed over are the client's and are never handed over again: once
 * some are in the reply, a later error answers them with @more set.
 */
static int do_harvest(struct hvd_call *c)
{
	struct hvd_harvest_reply *r = c->body;
	struct dirty_gfn *out = (struct dirty_gfn *)r->entry;
	const struct hvd_harvest *h = &c->req->body.harvest;
	bool mapped = h->flags & HVD_HARVEST_MAPPED, more = true;
	u32 done = 0;

	while (more && done < h->max) {
		int n = manage_harvest(&c->mc, mapped, out + done, h->max - done, &more);

		if (n < 0 && !done)
			return n;
		if (n <= 0) {
			more = more || n < 0;
			break;   /* nothing to hand over now: the client asks again */
		}
		done += (u32)n;
	}
	r->count = done;
	r->more = more;
	c->body_len = (u32)(sizeof(*r) + done * sizeof(r->entry[0]));
	return 0;
}

static int do_reset(struct hvd_call *c)
{
	struct hvd_count *r = c->body;

	r->count = manage_reset(&c->mc);
	r->reserved = 0;
	c->body_len = sizeof(*r);
	return 0;
}

static int do_pause(struct hvd_call *c)
{
	return manage_pause(&c->mc);
}

static int do_resume(struct hvd_call *c)
{
	return manage_resume(&c->mc);
}

static int do_digest(struct hvd_call *c)
{
	struct hvd_digest_reply *r = c->body;
	const struct hvd_digest *d = &c->req->body.digest;
	u64 digest;
	int err = manage_digest(&c->mc, d->ipa, d->len, &digest);

	if (err)
		return err;
	r->digest = digest;
	c->body_len = sizeof(*r);
	return 0;
}

/* The bytes go straight into the reply: the codec let through at most
 * HVD_READ_MAX of them, page multiples (see the asserts above). */
static int do_read(struct hvd_call *c)
{
	const struct hvd_read *rd = &c->req->body.read;
	int err = manage_read(&c->mc, rd->ipa, rd->len, c->body);

	if (err)
		return err;
	c->body_len = (u32)rd->len;
	return 0;
}

static int do_stats(struct hvd_call *c)
{
	struct hvd_stats *r = c->body;
	struct dirty_stats st;
	struct hvd_counters *k = &counters[c->mc.caller->id];

	dirty_log_get_stats(&c->mc.target->dirty, &st);
	memcpy(r, &st, sizeof(st));
	/* Relaxed: see struct hvd_counters. */
	r->requests = __atomic_load_n(&k->requests, __ATOMIC_RELAXED);
	r->malformed = __atomic_load_n(&k->malformed, __ATOMIC_RELAXED);
	r->refused = __atomic_load_n(&k->refused, __ATOMIC_RELAXED);
	c->body_len = sizeof(*r);
	return 0;
}

struct hvd_op {
	int (*run)(struct hvd_call *c);
	bool targeted;           /* about the VM in struct hvd_hdr.arg */
};

/* Indexed by request type; the codec lets only these through. */
static const struct hvd_op ops[] = {
	[HVD_LIST] = { do_list, false },
	[HVD_LOG_START] = { do_log_start, true },
	[HVD_LOG_STOP] = { do_log_stop, true },
	[HVD_ATTACH] = { do_attach, true },
	[HVD_DETACH] = { do_detach, true },
	[HVD_HARVEST] = { do_harvest, true },
	[HVD_RESET] = { do_reset, true },
	[HVD_PAUSE] = { do_pause, true },
	[HVD_RESUME] = { do_resume, true },
	[HVD_DIGEST] = { do_digest, true },
	[HVD_STATS] = { do_stats, true },
	[HVD_READ] = { do_read, true },
};

/* Counts a malformed request of @conn, logs it (manage_refuse() keeps
 * the log's rate limit), and writes the error answer at @out. Returns
 * the answer's length. */
static u32 refuse_malformed(struct hvd_conn *conn, const struct manage_call *mc,
			    const struct hvd_req *req, void *out)
{
	count(&counters[conn->peer->id].malformed);
	conn->malformed++;
	manage_refuse(mc, -EINVAL, "malformed request (%s), %u on this connection",
		      req->why, conn->malformed);
	return hvd_put_error(out, req->type, req->seq, req->status, req->why);
}

/* Serves the framed request @req into @out. Returns the reply's length. */
static u32 answer(struct hvd_conn *conn, const struct hvd_req *req, void *out)
{
	struct hvd_call c = {
		.mc = { .caller = conn->peer, .via = "hvdirty",
			.op = hvd_type_name(req->type) },
		.req = req,
		.body = (u8 *)out + sizeof(struct hvd_hdr),
	};
	const struct hvd_op *op;
	u16 why_type = req->type;
	int err = 0;

	count(&counters[conn->peer->id].requests);
	if (req->status != HVD_OK)
		return refuse_malformed(conn, &c.mc, req, out);
	op = &ops[req->type];
	if (op->targeted) {
		err = manage_target(&c.mc, req->target, false);
		if (err)
			why_type = 0;   /* the target's errors, whatever the request */
	}
	if (!err)
		err = op->run(&c);
	if (err) {
		count(&counters[conn->peer->id].refused);
		return hvd_put_error(out, req->type, req->seq, status_of(err),
				     refusal_why(why_type, err));
	}
	return hvd_put_reply(out, req->type, req->seq, HVD_OK, c.body_len);
}

/* ---------------------------------------------------------- connections */

/*
 * Serves the request at the front of @c's input, if a whole one is
 * there and the output buffer has room for any reply (so a reply is
 * never cut). Returns whether it did and another may follow.
 */
static bool serve_one(struct hvd_conn *conn, struct vsock_conn *c)
{
	u8 in[HVD_REQ_MAX];
	struct hvd_req req;
	u32 room, avail = vsock_conn_readable(c);
	void *out;

	if (!avail)
		return false;
	out = vsock_conn_reserve(c, &room);
	if (room < HVD_REPLY_MAX)
		return false;   /* process() runs again once room is freed */
	/* Every commit is a multiple of HVD_REPLY_ALIGN, so vsock.c keeps
	 * this aligned (vsock_conn_reserve()); the replies' structs and
	 * HARVEST's engine stores need it. */
	if (!IS_ALIGNED((uintptr_t)out, HVD_REPLY_ALIGN)) {
		printf("hv: hvdirty: VM '%s': output buffer misaligned, closing\n",
		       conn->peer->name);
		conn->closing = true;
		vsock_conn_close(c);
		return false;
	}
	avail = vsock_conn_peek(c, in, MIN(avail, (u32)sizeof(in)));
	switch (hvd_decode(in, avail, &req)) {
	case HVD_DECODE_MORE:
		return false;
	case HVD_DECODE_BROKEN: {
		struct manage_call mc = { .caller = conn->peer, .via = "hvdirty",
					  .op = "request" };

		/* No boundary left to trust: answer (type HVD_REPLY alone,
		 * seq 0, as docs/protocol.md says), then close. */
		count(&counters[conn->peer->id].requests);
		req.type = 0;
		req.seq = 0;
		vsock_conn_commit(c, refuse_malformed(conn, &mc, &req, out));
		conn->closing = true;
		vsock_conn_close(c);
		return false;
	}
	case HVD_DECODE_DONE:
		break;
	}
	vsock_conn_consume(c, req.len);
	vsock_conn_commit(c, answer(conn, &req, out));
	return true;
}

static void hvd_process(void *state, struct vsock_conn *c)
{
	struct hvd_conn *conn = state;

	while (!conn->closing && serve_one(conn, c))
		;
}

/* Under vsock_lock: must not wait. */
static void *hvd_accept(struct vm *peer, struct vsock_conn *c)
{
	for (size_t i = 0; i < ARRAY_SIZE(conns); i++) {
		if (!conns[i].used) {
			conns[i] = (struct hvd_conn){ .used = true, .peer = peer };
			return &conns[i];
		}
	}
	printf("hv: hvdirty: VM '%s': no connection left, refused\n", peer->name);
	return NULL;
}

/* Under vsock_lock, never during process() of the connection. */
static void hvd_closed(void *state)
{
	struct hvd_conn *conn = state;

	conn->used = false;
}

static const struct vsock_service hvdirty_service = {
	.port = HVD_PORT,
	.name = "hvdirty",
	.accept = hvd_accept,
	.process = hvd_process,
	.closed = hvd_closed,
};

int hvdirty_svc_init(void)
{
	int r = vsock_register_service(&hvdirty_service);

	if (r)
		printf("hv: hvdirty: cannot offer port %u (%d)\n", HVD_PORT, r);
	return r;
}
