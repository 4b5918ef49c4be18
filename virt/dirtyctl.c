/*
 * The test-only dirty-log control channel (ABI: virt/dirtyctl_abi.h):
 * a test guest's HVC calls, turned into the management operations of
 * virt/manage.h (which authorise them, log refusals and do the work) on
 * a VM it manages. This file owns only the transport: registers in and
 * out, the caller's buffers (checked whole here, written only through
 * guest_mem.h), and the ABI's error codes.
 */
#define VIRT_DIRTYCTL_IMPL   /* the real dirtyctl_call(), whatever the config */
#include "lib/compiler.h"
#include "lib/errno.h"
#include "virt/dirtyctl.h"
#include "virt/dirtyctl_abi.h"
#include "virt/guest_mem.h"
#include "virt/manage.h"
#include "virt/vm.h"

_Static_assert(sizeof(struct dirtyctl_entry) == sizeof(struct dirty_gfn) &&
	       offsetof(struct dirtyctl_entry, slot) == offsetof(struct dirty_gfn, slot) &&
	       offsetof(struct dirtyctl_entry, offset) == offsetof(struct dirty_gfn, offset),
	       "HARVEST copies struct dirty_gfn out as struct dirtyctl_entry");
_Static_assert(sizeof(struct dirty_stats) == DIRTYCTL_STATS_WORDS * sizeof(u64),
	       "STATS copies struct dirty_stats out as DIRTYCTL_STATS_WORDS u64");
/* ENABLE's x1 and x2 and STATS' first word are enum dirty_mode as they
 * are. */
_Static_assert(DIRTYCTL_MODE_WP == DIRTY_MODE_WP && DIRTYCTL_MODE_DBM == DIRTY_MODE_DBM &&
	       DIRTYCTL_MODE_AUTO == DIRTY_MODE_AUTO, "ABI modes are the engine's");

/* Entries moved per manage_harvest() call (the time the target's
 * control_lock is held at once): one ring's worth. */
#define HARVEST_CHUNK DIRTY_RING_ENTRIES

/* One call being served: the vCPU making it, and the request as
 * virt/manage.h names it. */
struct call {
	struct vcpu *v;
	struct manage_call mc;
};

static u64 arg(const struct call *c, unsigned int n)
{
	return vcpu_reg(c->v, n);
}

/* The ABI's code for a refusal virt/manage.c has logged already. */
static s64 abi_error(int err)
{
	switch (err) {
	case -EPERM:
		return DIRTYCTL_EPERM;
	case -EBUSY:
	case -EALREADY:
		return DIRTYCTL_EBUSY;
	case -EOPNOTSUPP:
		return DIRTYCTL_ENOTSUP;
	case -ENOMEM:
		return DIRTYCTL_ENOMEM;
	default:
		return DIRTYCTL_EINVAL;   /* -ESRCH (no such VM) and -EINVAL */
	}
}

/* 0 stays 0, a count stays a count, an errno becomes the ABI's. */
static s64 result(int r)
{
	return r < 0 ? abi_error(r) : r;
}

/* Logs why the call failed; returns the ABI's code for @err. */
#define refuse(c, err, ...) abi_error(manage_refuse(&(c)->mc, (err), __VA_ARGS__))

static s64 do_info(struct call *c)
{
	struct vm *t = c->mc.target;

	vcpu_set_reg(c->v, 1, GUEST_RAM_BASE);
	vcpu_set_reg(c->v, 2, t->ram_size);
	vcpu_set_reg(c->v, 3, t->nr_vcpus);
	vcpu_set_reg(c->v, 4, t->dirty.cpu_has_dbm ? DIRTYCTL_CAP_DBM : 0);
	vcpu_set_reg(c->v, 5, manage_target_stopped(t));
	return 0;
}

static s64 do_enable(struct call *c)
{
	u64 m = arg(c, 2);
	enum dirty_mode in_effect;
	int r;

	if (m < DIRTYCTL_MODE_WP || m > DIRTYCTL_MODE_AUTO)
		return refuse(c, -EINVAL, "mode %llu is not one of 1 (wp), 2 (dbm), "
			      "3 (auto)", (unsigned long long)m);
	r = manage_log_start(&c->mc, (enum dirty_mode)m, &in_effect);
	if (!r)
		vcpu_set_reg(c->v, 1, in_effect);
	return result(r);
}

static s64 do_disable(struct call *c)
{
	return result(manage_log_stop(&c->mc));
}

/*
 * The buffer is checked whole first: entries the engine hands over are
 * the consumer's and are never handed over again, so none may be taken
 * that cannot be written out. The engine writes them straight into it
 * (it only ever stores there, so the caller's other vCPUs scribbling on
 * the buffer meanwhile change nothing but what they read back).
 */
static s64 do_harvest(struct call *c)
{
	struct vm *me = c->mc.caller;
	struct dirty_gfn *out;
	u64 buf = arg(c, 2), cap = arg(c, 3), done = 0;
	bool more = true;
	int n = 0;

	if (!cap || cap > me->ram_size / sizeof(*out) ||
	    !(out = guest_write_begin(me, buf, cap * sizeof(*out))))
		return refuse(c, -EINVAL, "buffer 0x%llx for %llu entries is not "
			      "inside its RAM", (unsigned long long)buf,
			      (unsigned long long)cap);
	while (more && done < cap) {
		n = manage_harvest(&c->mc, false, out + done,
				   (u32)MIN(cap - done, (u64)HARVEST_CHUNK), &more);
		if (n <= 0)
			break;   /* nothing to hand over now: the caller asks again */
		done += (u64)n;
	}
	guest_write_done(me, buf, done * sizeof(*out));
	/* A refusal (the rings are mapped) comes on the first call, before
	 * any entry was taken. */
	if (n < 0 && !done)
		return abi_error(n);
	vcpu_set_reg(c->v, 1, more);
	return (s64)done;
}

static s64 do_reset(struct call *c)
{
	return manage_reset(&c->mc);
}

static s64 do_pause(struct call *c)
{
	return result(manage_pause(&c->mc));
}

static s64 do_resume(struct call *c)
{
	return result(manage_resume(&c->mc));
}

static s64 do_stats(struct call *c)
{
	struct dirty_stats st;
	u64 buf = arg(c, 2);

	dirty_log_get_stats(&c->mc.target->dirty, &st);
	/* Checked whole before a byte is written (guest_mem.h). */
	if (guest_write(c->mc.caller, buf, &st, sizeof(st)))
		return refuse(c, -EINVAL, "buffer 0x%llx is not inside its RAM",
			      (unsigned long long)buf);
	return 0;
}

/* The RAM only (the test guests harvest through this channel). */
static s64 do_attach(struct call *c)
{
	struct manage_attach a;
	int r = manage_attach(&c->mc, arg(c, 2), 0, &a);

	if (!r) {
		vcpu_set_reg(c->v, 1, a.mem_size);
		vcpu_set_reg(c->v, 2, a.mem_ipa);
	}
	return result(r);
}

struct dirtyctl_op {
	const char *name;
	s64 (*run)(struct call *c);
	/* A VM may make this call on its own log (the benchmark does):
	 * everything but pausing itself or attaching its own memory. */
	bool self;
};

/* Indexed by function number from DIRTYCTL_INFO on. */
#define OP(fn, name, handler, self) [(fn) - DIRTYCTL_INFO] = { name, handler, self }
static const struct dirtyctl_op ops[] = {
	OP(DIRTYCTL_INFO, "INFO", do_info, true),
	OP(DIRTYCTL_ENABLE, "ENABLE", do_enable, true),
	OP(DIRTYCTL_DISABLE, "DISABLE", do_disable, true),
	OP(DIRTYCTL_HARVEST, "HARVEST", do_harvest, true),
	OP(DIRTYCTL_RESET, "RESET", do_reset, true),
	OP(DIRTYCTL_PAUSE, "PAUSE", do_pause, false),
	OP(DIRTYCTL_RESUME, "RESUME", do_resume, false),
	OP(DIRTYCTL_STATS, "STATS", do_stats, true),
	OP(DIRTYCTL_ATTACH, "ATTACH", do_attach, false),
};

bool dirtyctl_call(struct vcpu *v)
{
	u32 index = (u32)vcpu_reg(v, 0) - DIRTYCTL_INFO;   /* SMCCC: w0 */
	struct call c = { .v = v, .mc = { .caller = v->vm, .via = "dirtyctl" } };
	s64 r;

	if (index >= ARRAY_SIZE(ops))
		return false;
	c.mc.op = ops[index].name;
	/* x1: the caller itself (for calls that allow it), or a VM of the
	 * scenario in the caller's `manages`. */
	r = result(manage_target(&c.mc, arg(&c, 1), ops[index].self));
	if (!r)
		r = ops[index].run(&c);
	vcpu_set_reg(v, 0, (u64)r);
	return true;
}
