/*
 * The test-only dirty-log control channel (ABI: virt/dirtyctl_abi.h):
 * a test guest's HVC calls that drive the dirty-tracking engine of a VM
 * it manages (mm/dirty_log.h), pause and resume it, and map its RAM
 * read-only into the caller. Every argument is the guest's, so each is
 * checked here; a bad one is an error answer and one log line, never a
 * crash. Only guest_mem.h's calls write into the caller's memory.
 */
#include <stdarg.h>

#define VIRT_DIRTYCTL_IMPL   /* the real dirtyctl_call(), whatever the config */
#include "lib/console.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "virt/dirtyctl.h"
#include "virt/dirtyctl_abi.h"
#include "virt/guest_mem.h"
#include "virt/vm.h"

_Static_assert(sizeof(struct dirtyctl_entry) == sizeof(struct dirty_gfn) &&
	       offsetof(struct dirtyctl_entry, slot) == offsetof(struct dirty_gfn, slot) &&
	       offsetof(struct dirtyctl_entry, offset) == offsetof(struct dirty_gfn, offset),
	       "HARVEST copies struct dirty_gfn out as struct dirtyctl_entry");
_Static_assert(sizeof(struct dirty_stats) == DIRTYCTL_STATS_WORDS * sizeof(u64),
	       "STATS copies struct dirty_stats out as DIRTYCTL_STATS_WORDS u64");
/* ENABLE's x1 and STATS' first word are enum dirty_mode as they are. */
_Static_assert(DIRTYCTL_MODE_WP == DIRTY_MODE_WP && DIRTYCTL_MODE_DBM == DIRTY_MODE_DBM,
	       "ABI modes are the engine's");
/* ATTACH checks the window against the VM's RAM and its emulated
 * devices; the one device stage 2 maps (GICv2's GICV) is below RAM. */
_Static_assert(GUEST_GICC_BASE + GUEST_GICC_SIZE <= GUEST_RAM_BASE,
	       "a window above RAM cannot meet the GICV mapping");

#define SZ_1G 0x40000000ULL
/* Entries moved per dirty_log_harvest() call (the time control_lock is
 * held at once): one ring's worth. */
#define HARVEST_CHUNK DIRTY_RING_ENTRIES
/* Memslot id of another VM's RAM attached into a caller. */
#define ATTACH_SLOT_ID(target) (1 + (target)->id)

/* One call being served. */
struct call {
	struct vcpu *v;
	struct vm *caller;
	struct vm *target;       /* NULL until the target is resolved */
	const char *name;        /* the call's name, for the log line */
};

/* Per caller and target: a PAUSE in flight or in force. Changed only by
 * compare-and-swap, so two vCPUs of one caller cannot pair a RESUME
 * with a PAUSE that has not paused yet. */
enum pause_state { PAUSE_NONE, PAUSE_PAUSING, PAUSE_HELD };
static u32 pause_state[SCENARIO_MAX_VMS][SCENARIO_MAX_VMS];

static u64 arg(const struct call *c, unsigned int n)
{
	return vcpu_reg(c->v, n);
}

/* Logs why the call failed and returns @err for x0. */
static __printf(3, 4) s64 refuse(const struct call *c, s64 err, const char *fmt, ...)
{
	char why[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (c->target)
		printf("hv: dirtyctl: VM '%s' %s of VM '%s': %s\n", c->caller->name,
		       c->name, c->target->name, why);
	else
		printf("hv: dirtyctl: VM '%s' %s: %s\n", c->caller->name, c->name, why);
	return err;
}

/* [ipa, ipa + len) lies inside @vm's RAM, len > 0. */
static bool in_ram(const struct vm *vm, u64 ipa, u64 len)
{
	u64 off = ipa - GUEST_RAM_BASE;

	return ipa >= GUEST_RAM_BASE && off < vm->ram_size && len &&
	       len <= vm->ram_size - off;
}

/* As vm.c reads it: under the VM's lock. */
static bool target_stopped(struct vm *vm)
{
	bool stopped;

	spin_lock(&vm->lock);
	stopped = vm->state != VM_RUNNING;
	spin_unlock(&vm->lock);
	return stopped;
}

static s64 do_info(struct call *c)
{
	struct vm *t = c->target;

	vcpu_set_reg(c->v, 1, GUEST_RAM_BASE);
	vcpu_set_reg(c->v, 2, t->ram_size);
	vcpu_set_reg(c->v, 3, t->nr_vcpus);
	vcpu_set_reg(c->v, 4, t->dirty.cpu_has_dbm ? DIRTYCTL_CAP_DBM : 0);
	vcpu_set_reg(c->v, 5, target_stopped(t));
	return 0;
}

static s64 do_enable(struct call *c)
{
	static const enum dirty_mode modes[] = {
		[DIRTYCTL_MODE_WP] = DIRTY_MODE_WP,
		[DIRTYCTL_MODE_DBM] = DIRTY_MODE_DBM,
		[DIRTYCTL_MODE_AUTO] = DIRTY_MODE_AUTO,
	};
	u64 m = arg(c, 2);
	struct dirty_stats st;
	int r;

	if (m >= ARRAY_SIZE(modes) || modes[m] == DIRTY_MODE_OFF)
		return refuse(c, DIRTYCTL_EINVAL, "mode %llu is not one of 1 (wp), "
			      "2 (dbm), 3 (auto)", (unsigned long long)m);
	r = dirty_log_enable(&c->target->dirty, modes[m]);
	switch (r) {
	case 0:
		break;
	case -EBUSY:
		return refuse(c, DIRTYCTL_EBUSY, "logging is already on");
	case -EOPNOTSUPP:
		return refuse(c, DIRTYCTL_ENOTSUP, "dbm: the CPUs lack FEAT_HAFDBS "
			      "dirty state");
	case -ENOMEM:
		return refuse(c, DIRTYCTL_ENOMEM, "no memory for the logging state");
	default:
		return refuse(c, DIRTYCTL_EINVAL, "the engine refused (%d)", r);
	}
	dirty_log_get_stats(&c->target->dirty, &st);
	vcpu_set_reg(c->v, 1, st.mode);
	return 0;
}

static s64 do_disable(struct call *c)
{
	int r = dirty_log_disable(&c->target->dirty);

	if (r == -EINVAL)
		return refuse(c, DIRTYCTL_EBUSY, "logging is off");
	if (r)
		return refuse(c, DIRTYCTL_EINVAL, "the engine refused (%d)", r);
	return 0;
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
	struct dirty_gfn *out;
	u64 buf = arg(c, 2), cap = arg(c, 3), done = 0;
	bool more = true;

	if (!cap || cap > c->caller->ram_size / sizeof(*out) ||
	    !(out = guest_write_begin(c->caller, buf, cap * sizeof(*out))))
		return refuse(c, DIRTYCTL_EINVAL, "buffer 0x%llx for %llu entries is "
			      "not inside its RAM", (unsigned long long)buf,
			      (unsigned long long)cap);
	while (more && done < cap) {
		u32 want = (u32)MIN(cap - done, (u64)HARVEST_CHUNK);
		u32 n = dirty_log_harvest(&c->target->dirty, out + done, want, &more);

		done += n;
		if (!n)
			break;   /* nothing to hand over now: the caller asks again */
	}
	guest_write_done(c->caller, buf, done * sizeof(*out));
	vcpu_set_reg(c->v, 1, more);
	return (s64)done;
}

static s64 do_reset(struct call *c)
{
	return dirty_log_reset(&c->target->dirty, DIRTY_RESET_MAX);
}

/* A target that manages VMs could be inside a PAUSE of its own, waiting
 * for a VM that waits for it: refused, which rules out every cycle. */
static s64 do_pause(struct call *c)
{
	u32 *st = &pause_state[c->caller->id][c->target->id];
	u32 none = PAUSE_NONE;

	if (c->target->cfg->manages)
		return refuse(c, DIRTYCTL_EPERM, "it manages VMs itself: it cannot be "
			      "paused");
	/* Relaxed: the state only pairs this caller's calls; what vm_pause()
	 * did is published by the release below. */
	if (!__atomic_compare_exchange_n(st, &none, PAUSE_PAUSING, false,
					 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return refuse(c, DIRTYCTL_EBUSY, "it is already paused by this VM");
	vm_pause(c->target);
	/* Release: pairs with the acquire in do_resume(), so its vm_resume()
	 * comes after this vm_pause(). */
	__atomic_store_n(st, PAUSE_HELD, __ATOMIC_RELEASE);
	return 0;
}

static s64 do_resume(struct call *c)
{
	u32 *st = &pause_state[c->caller->id][c->target->id];
	u32 held = PAUSE_HELD;

	/* Acquire: pairs with the release in do_pause(). */
	if (!__atomic_compare_exchange_n(st, &held, PAUSE_NONE, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return refuse(c, DIRTYCTL_EBUSY, "this VM has not paused it");
	vm_resume(c->target);
	return 0;
}

static s64 do_stats(struct call *c)
{
	struct dirty_stats st;
	u64 buf = arg(c, 2);

	if (!in_ram(c->caller, buf, sizeof(st)))
		return refuse(c, DIRTYCTL_EINVAL, "buffer 0x%llx is not inside its RAM",
			      (unsigned long long)buf);
	dirty_log_get_stats(&c->target->dirty, &st);
	if (guest_write(c->caller, buf, &st, sizeof(st)))
		return refuse(c, DIRTYCTL_EINVAL, "writing to 0x%llx failed",
			      (unsigned long long)buf);
	return 0;
}

static bool meets_device(const struct vm *vm, u64 ipa, u64 size)
{
	for (unsigned int i = 0; i < vm->nr_mmio; i++) {
		const struct mmio_region *r = &vm->mmio[i];

		if (ipa < r->base + r->size && r->base < ipa + size)
			return true;
	}
	return false;
}

static int insert_slot(struct memslot_array *next, void *slot)
{
	return memslot_array_insert(next, slot);
}

static int remove_slot(struct memslot_array *next, void *id)
{
	return memslot_array_remove(next, *(const u32 *)id);
}

/* The slot first (it also refuses a second ATTACH of the same target),
 * then the mapping; the slot goes again if the mapping fails. */
static s64 do_attach(struct call *c)
{
	struct vm *me = c->caller, *t = c->target;
	u64 ipa = arg(c, 2), ram_end = GUEST_RAM_BASE + me->ram_size;
	u64 ipa_end = 1ULL << me->s2.ipa_bits;
	struct memslot slot = {
		.ipa = ipa, .size = t->ram_size, .pa = t->ram_pa,
		.id = ATTACH_SLOT_ID(t), .flags = MEMSLOT_READONLY,
	};
	int r;

	if ((ipa & (SZ_1G - 1)) || ipa < ram_end || ipa >= ipa_end ||
	    slot.size > ipa_end - ipa)
		return refuse(c, DIRTYCTL_EINVAL, "window 0x%llx (+0x%llx) is not 1 GiB "
			      "aligned within [0x%llx, 0x%llx)", (unsigned long long)ipa,
			      (unsigned long long)slot.size, (unsigned long long)ram_end,
			      (unsigned long long)ipa_end);
	if (meets_device(me, ipa, slot.size))
		return refuse(c, DIRTYCTL_EINVAL, "window 0x%llx meets a device",
			      (unsigned long long)ipa);
	r = memslots_update(&me->slots, insert_slot, &slot);
	if (r == -EEXIST)
		return refuse(c, DIRTYCTL_EBUSY, "already attached, or the window "
			      "0x%llx meets a memslot", (unsigned long long)ipa);
	if (r)
		return refuse(c, r == -ENOSPC ? DIRTYCTL_ENOMEM : DIRTYCTL_EINVAL,
			      "no memslot for the window (%d)", r);
	r = stage2_map(&me->s2, ipa, t->ram_pa, t->ram_size, STAGE2_PROT_R);
	if (r) {
		memslots_update(&me->slots, remove_slot, &slot.id);
		return refuse(c, r == -ENOMEM ? DIRTYCTL_ENOMEM : DIRTYCTL_EINVAL,
			      "stage-2 mapping of the window 0x%llx failed (%d)",
			      (unsigned long long)ipa, r);
	}
	vcpu_set_reg(c->v, 1, t->ram_size);
	return 0;
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

/* x1: the caller itself (for calls that allow it), or a VM of the
 * scenario in the caller's `manages`. */
static s64 find_target(struct call *c, bool self_ok)
{
	u64 id = arg(c, 1);
	struct vm *t = id < SCENARIO_MAX_VMS ? vm_by_id((unsigned int)id) : NULL;

	if (!t)
		return refuse(c, DIRTYCTL_EINVAL, "there is no VM %llu",
			      (unsigned long long)id);
	if (t == c->caller && !self_ok)
		return refuse(c, DIRTYCTL_EPERM, "a VM cannot pause itself or "
			      "attach its own memory");
	if (t != c->caller && !(c->caller->cfg->manages & (1u << t->id)))
		return refuse(c, DIRTYCTL_EPERM, "VM %u ('%s') is not in its "
			      "`manages =` list", t->id, t->name);
	c->target = t;
	return 0;
}

void dirtyctl_vm_stopped(struct vm *vm)
{
	for (unsigned int id = 0; id < SCENARIO_MAX_VMS; id++) {
		struct vm *t = vm_by_id(id);
		u32 held = PAUSE_HELD;

		if (!t || t == vm || !(vm->cfg->manages & (1u << id)))
			continue;
		/* Acquire: pairs with the release in do_pause(). No vCPU of
		 * @vm is left to be inside a PAUSE of its own. */
		if (__atomic_compare_exchange_n(&pause_state[vm->id][id], &held,
						PAUSE_NONE, false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED)) {
			printf("hv: dirtyctl: VM '%s' stopped: VM '%s' resumes\n",
			       vm->name, t->name);
			vm_resume(t);
		}
		if (!dirty_log_disable(&t->dirty))
			printf("hv: dirtyctl: VM '%s' stopped: logging of VM '%s' "
			       "stops\n", vm->name, t->name);
	}
}

bool dirtyctl_call(struct vcpu *v)
{
	u32 index = (u32)vcpu_reg(v, 0) - DIRTYCTL_INFO;   /* SMCCC: w0 */
	struct call c = { .v = v, .caller = v->vm };
	s64 r;

	if (index >= ARRAY_SIZE(ops))
		return false;
	c.name = ops[index].name;
	r = find_target(&c, ops[index].self);
	if (!r)
		r = ops[index].run(&c);
	vcpu_set_reg(v, 0, (u64)r);
	return true;
}
