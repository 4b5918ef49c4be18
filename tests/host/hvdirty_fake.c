/*
 * Recording fakes of the service's surroundings (tests/host/hvdirty_fake.h).
 * The op fakes only record and answer: the service, not they, decides
 * who may ask what, so each counts a call about a VM the caller does
 * not manage as unauthorised.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/errno.h"
#include "tests/host/hvdirty_fake.h"

static const struct vm_config cfg_mgr = { .vsock_cid = 3, .manages = 1u << WORK | 1u << IDLE };
static const struct vm_config cfg_work = { .vsock_cid = 4 };
static const struct vm_config cfg_other = { .vsock_cid = 5, .manages = 1u << WORK };
static const struct vm_config cfg_idle = { .vsock_cid = 0 };
struct vm fake_vms[NR_VMS] = {
	{ .cfg = &cfg_mgr, .name = "mgr", .id = MGR, .nr_vcpus = 1, .ram_size = 0x1000000 },
	{ .cfg = &cfg_work, .name = "work", .id = WORK, .nr_vcpus = 2, .ram_size = 0x4000000,
	  .dirty = { .cpu_has_dbm = true, .mode = DIRTY_MODE_DBM } },
	{ .cfg = &cfg_other, .name = "other", .id = OTHER, .nr_vcpus = 1, .ram_size = 0x1000000 },
	{ .cfg = &cfg_idle, .name = "idle-vm-15chars", .id = IDLE, .nr_vcpus = 1,
	  .ram_size = 0x200000 },
};

/* ------------------------------------------------------ fake vsock */

int vsock_register_service(const struct vsock_service *s)
{
	fake.svc = s;
	return 0;
}

u32 vsock_conn_readable(struct vsock_conn *c)
{
	return c->in_len - c->in_pos;
}

u32 vsock_conn_peek(struct vsock_conn *c, void *dst, u32 len)
{
	u32 n = len < vsock_conn_readable(c) ? len : vsock_conn_readable(c);

	memcpy(dst, c->in + c->in_pos, n);
	return n;
}

void vsock_conn_consume(struct vsock_conn *c, u32 len)
{
	if (len > vsock_conn_readable(c))
		fake.consume_overrun++;
	else
		c->in_pos += len;
}

void *vsock_conn_reserve(struct vsock_conn *c, u32 *room)
{
	*room = c->out_cap - c->out_len;
	return c->out + c->out_len;
}

void vsock_conn_commit(struct vsock_conn *c, u32 len)
{
	if (len > c->out_cap - c->out_len)
		fake.commit_overrun++;
	else
		c->out_len += len;
}

void vsock_conn_close(struct vsock_conn *c)
{
	c->closed = true;
}

struct vm *vsock_conn_peer(struct vsock_conn *c)
{
	return c->peer;
}

/* ----------------------------------------------------- fake manage.h */

struct hvd_fake fake;

int manage_refuse(const struct manage_call *c, int err, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(fake.refused, sizeof(fake.refused), "%s: VM '%s' %s: %s", c->via,
		 c->caller->name, c->op, why);
	fake.refuse_calls++;
	return err;
}

struct vm *vm_by_id(unsigned int id)
{
	return id < NR_VMS ? &fake_vms[id] : NULL;
}

bool manage_may(const struct vm *caller, const struct vm *t)
{
	return caller->cfg->manages & (1u << t->id);
}

int manage_target(struct manage_call *c, u64 id, bool self_ok)
{
	struct vm *t = id < NR_VMS ? &fake_vms[id] : NULL;

	if (!t)
		return -ESRCH;
	if (!(t == c->caller && self_ok) && !manage_may(c->caller, t))
		return -EPERM;
	c->target = t;
	return 0;
}

u32 manage_holds(const struct vm *caller, const struct vm *t)
{
	return t->id == WORK ? fake.holds : 0;
}

bool manage_target_stopped(struct vm *t)
{
	return t->id == WORK && fake.target_stopped;
}

/* Every op fake: records the call, returns fake.ret. */
static int op_called(const struct manage_call *c)
{
	fake.op_calls++;
	if (!c->target || !manage_may(c->caller, c->target))
		fake.unauthorised++;
	fake.last = *c;
	return fake.ret;
}

int manage_log_start(struct manage_call *c, enum dirty_mode mode, enum dirty_mode *in_effect)
{
	fake.mode = mode;
	*in_effect = mode == DIRTY_MODE_AUTO ? DIRTY_MODE_WP : mode;
	return op_called(c);
}

int manage_log_stop(struct manage_call *c)
{
	return op_called(c);
}

int manage_pause(struct manage_call *c)
{
	return op_called(c);
}

int manage_resume(struct manage_call *c)
{
	return op_called(c);
}

int manage_attach(struct manage_call *c, u64 mem_ipa, u32 flags, struct manage_attach *out)
{
	fake.mem_ipa = mem_ipa;
	fake.attach_flags = flags;
	memset(out, 0, sizeof(*out));
	out->mem_ipa = 0x100000000ull;
	out->mem_size = c->target->ram_size;
	if (flags & MANAGE_ATTACH_RINGS) {
		out->rings_ipa = 0x140000000ull;
		out->nr_rings = c->target->nr_vcpus + 1;
		out->ring_entries = DIRTY_RING_ENTRIES;
		out->ring_stride = DIRTY_RING_ENTRIES * sizeof(struct dirty_gfn);
		for (u32 i = 0; i < out->nr_rings; i++)
			out->start_index[i] = 100 + i;
	}
	return op_called(c);
}

int manage_detach(struct manage_call *c)
{
	return op_called(c);
}

/* Hands over fake.harvest_left entries {DIRTY, slot 0, page n} in
 * chunks of at most fake.harvest_chunk. */
int manage_harvest(struct manage_call *c, bool mapped, struct dirty_gfn *out, u32 max,
		   bool *more)
{
	static u64 next_page;
	u32 n = max;
	int r = op_called(c);

	fake.mapped = mapped;
	if (++fake.harvest_calls == fake.harvest_err_at || (r && !fake.harvest_err_at))
		return r;
	if (n > fake.harvest_chunk)
		n = fake.harvest_chunk;
	if (n > fake.harvest_left)
		n = fake.harvest_left;
	for (u32 i = 0; i < n; i++)
		out[i] = (struct dirty_gfn){ DIRTY_GFN_F_DIRTY, 0, next_page++ };
	fake.harvest_left -= n;
	*more = fake.harvest_left > 0;
	return (int)n;
}

u32 manage_reset(struct manage_call *c)
{
	op_called(c);
	return 77;
}

int manage_digest(struct manage_call *c, u64 ipa, u64 len, u64 *digest)
{
	fake.ipa = ipa;
	fake.len = len;
	*digest = 0x0123456789abcdefull;
	return op_called(c);
}

u64 fake_ram_word(u64 ipa)
{
	return ipa * HVD_DIGEST_MUL ^ 0x5a5a5a5a5a5a5a5aull;
}

/* Copies fake_ram_word()s when it succeeds, nothing when it fails. */
int manage_read(struct manage_call *c, u64 ipa, u64 len, void *out)
{
	int r = op_called(c);

	fake.ipa = ipa;
	fake.len = len;
	for (u64 off = 0; !r && off < len; off += sizeof(u64)) {
		u64 w = fake_ram_word(ipa + off);

		memcpy((u8 *)out + off, &w, sizeof(w));
	}
	return r;
}

void dirty_log_get_stats(struct dirty_log *log, struct dirty_stats *out)
{
	u64 *w = (u64 *)out;

	for (size_t i = 0; i < sizeof(*out) / sizeof(u64); i++)
		w[i] = 1000 + i;
}

void fake_reset(void)
{
	const struct vsock_service *svc = fake.svc;

	memset(&fake, 0, sizeof(fake));
	fake.svc = svc;
	fake.harvest_chunk = HVD_HARVEST_MAX;
}

const u8 *fake_reply(const struct vsock_conn *c, u32 nth, struct hvd_hdr *h)
{
	u32 off = 0;

	for (;;) {
		if (c->out_len - off < sizeof(*h))
			return NULL;
		memcpy(h, c->out + off, sizeof(*h));
		if (h->len < sizeof(*h) || h->len > c->out_len - off)
			return NULL;
		if (!nth--)
			return c->out + off + sizeof(*h);
		off += h->len;
	}
}
