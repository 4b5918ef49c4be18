/*
 * What a management VM may do to a VM it manages (virt/manage.h),
 * whatever channel it asks through: authorisation, logging on and off,
 * pauses (pause_state), attachments of a target's RAM (read-only, a
 * memslot of the caller) and dirty rings (read-write, stage 2 only),
 * harvests, resets, digests and copies of RAM, and letting go of all of
 * it when a manager stops. Nothing a guest passed is trusted: every id,
 * window and range is checked here before use.
 *
 * Locks: manage_lock guards the attachment records and is held across
 * an attach or detach: manage_lock -> the caller's memslots.update_lock,
 * stage2.lock (-> page_pool.lock), the target's dirty_log.control_lock,
 * and console_lock (refusals). Pauses are lock-free (compare-and-swap on
 * pause_state) and never wait with a lock held.
 */
#include <stdarg.h>

#include "lib/compiler.h"
#include "lib/console.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/ratelimit.h"
#include "lib/spinlock.h"
#include "lib/string.h"
#include "virt/hvdirty_proto.h"
#include "virt/manage.h"
#include "virt/manage_window.h"
#include "virt/vm.h"

/* A window above RAM cannot meet the one device stage 2 maps (GICv2's
 * GICV): it is below RAM. */
_Static_assert(GUEST_GICC_BASE + GUEST_GICC_SIZE <= GUEST_RAM_BASE,
	       "a window above RAM cannot meet the GICV mapping");
_Static_assert(DIRTY_LOG_MAX_VCPUS + 1 <= ARRAY_SIZE(((struct manage_attach *)0)->start_index),
	       "a start index per ring");

/* Memslot id, in the caller, of target @t's RAM attached into it. */
#define ATTACH_SLOT_ID(t) (1 + (t)->id)

/* What caller c has attached of target t: attached[c][t]. Under
 * manage_lock. The rings of a target are mapped into one caller at a
 * time (they have one consumer). */
struct attachment {
	u64 mem_ipa;       /* 0: nothing attached */
	u64 rings_ipa;     /* 0: the rings are not mapped */
	u64 rings_size;
};
static struct attachment attached[SCENARIO_MAX_VMS][SCENARIO_MAX_VMS];
static struct spinlock manage_lock = SPINLOCK_INIT;

/* Per caller and target: a PAUSE in flight or in force. Changed only by
 * compare-and-swap, so two vCPUs of one caller cannot pair a RESUME
 * with a PAUSE that has not paused yet. */
enum pause_state { PAUSE_NONE, PAUSE_PAUSING, PAUSE_HELD };
static u32 pause_state[SCENARIO_MAX_VMS][SCENARIO_MAX_VMS];

/* Refusals per caller, for the log's rate limit (lib/ratelimit.h): a
 * guest asking in a loop must not flood the console. */
static u32 refusals[SCENARIO_MAX_VMS];

int manage_refuse(const struct manage_call *c, int err, const char *fmt, ...)
{
	/* Relaxed: a count for the rate limit, ordered with nothing. */
	u32 nth = __atomic_add_fetch(&refusals[c->caller->id], 1, __ATOMIC_RELAXED);
	char why[128], of[32] = "";
	va_list ap;

	if (!log_nth_due(nth))
		return err;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (c->target)
		snprintf(of, sizeof(of), " of VM '%s'", c->target->name);
	printf("hv: %s: VM '%s' %s%s: %s%s\n", c->via, c->caller->name, c->op, of,
	       why, nth > LOG_BURST ? " (more refusals of this VM not logged)" : "");
	return err;
}

bool manage_may(const struct vm *caller, const struct vm *t)
{
	return caller->cfg->manages & (1u << t->id);
}

int manage_target(struct manage_call *c, u64 id, bool self_ok)
{
	struct vm *t = id < SCENARIO_MAX_VMS ? vm_by_id((unsigned int)id) : NULL;

	c->target = NULL;
	if (!t)
		return manage_refuse(c, -ESRCH, "there is no VM %llu",
				     (unsigned long long)id);
	if (t == c->caller && !self_ok)
		return manage_refuse(c, -EPERM, "a VM cannot do this to itself");
	if (t != c->caller && !manage_may(c->caller, t))
		return manage_refuse(c, -EPERM, "VM %u ('%s') is not in its "
				     "`manages =` list", t->id, t->name);
	c->target = t;
	return 0;
}

static u32 *pause_of(const struct vm *caller, const struct vm *t)
{
	return &pause_state[caller->id][t->id];
}

u32 manage_holds(const struct vm *caller, const struct vm *t)
{
	u32 holds = 0;

	/* Relaxed: a snapshot for a listing, ordered with nothing. */
	if (__atomic_load_n(pause_of(caller, t), __ATOMIC_RELAXED) == PAUSE_HELD)
		holds |= MANAGE_HOLDS_PAUSE;
	spin_lock(&manage_lock);
	if (attached[caller->id][t->id].mem_ipa)
		holds |= MANAGE_HOLDS_ATTACH;
	spin_unlock(&manage_lock);
	return holds;
}

/* As vm.c reads it: under the VM's lock. */
bool manage_target_stopped(struct vm *t)
{
	bool stopped;

	spin_lock(&t->lock);
	stopped = t->state != VM_RUNNING;
	spin_unlock(&t->lock);
	return stopped;
}

/* ------------------------------------------------------------ logging */

int manage_log_start(struct manage_call *c, enum dirty_mode mode,
		     enum dirty_mode *in_effect)
{
	struct dirty_stats st;
	int r;

	if (mode != DIRTY_MODE_WP && mode != DIRTY_MODE_DBM && mode != DIRTY_MODE_AUTO)
		return manage_refuse(c, -EINVAL, "mode %d is not wp, dbm or auto",
				     (int)mode);
	r = dirty_log_enable(&c->target->dirty, mode);
	switch (r) {
	case 0:
		break;
	case -EBUSY:
		return manage_refuse(c, r, "logging is already on");
	case -EOPNOTSUPP:
		return manage_refuse(c, r, "dbm: the CPUs lack FEAT_HAFDBS dirty state");
	case -ENOMEM:
		return manage_refuse(c, r, "no memory for the logging state");
	default:
		return manage_refuse(c, -EINVAL, "the engine refused (%d)", r);
	}
	dirty_log_get_stats(&c->target->dirty, &st);
	*in_effect = (enum dirty_mode)st.mode;
	return 0;
}

int manage_log_stop(struct manage_call *c)
{
	int r = dirty_log_disable(&c->target->dirty);

	if (r == -EINVAL)
		return manage_refuse(c, -EALREADY, "logging is off");
	if (r)
		return manage_refuse(c, -EINVAL, "the engine refused (%d)", r);
	return 0;
}

/* ------------------------------------------------------------- pauses */

/* A target that manages VMs could be inside a PAUSE of its own, waiting
 * for a VM that waits for it: refused, which rules out every cycle. */
int manage_pause(struct manage_call *c)
{
	u32 none = PAUSE_NONE;

	if (c->target == c->caller)
		return manage_refuse(c, -EPERM, "a VM cannot pause itself");
	if (c->target->cfg->manages)
		return manage_refuse(c, -EPERM, "it manages VMs itself: it cannot be "
				     "paused");
	/* Relaxed: the state only pairs this caller's calls; what vm_pause()
	 * did is published by the release below. */
	if (!__atomic_compare_exchange_n(pause_of(c->caller, c->target), &none,
					 PAUSE_PAUSING, false, __ATOMIC_RELAXED,
					 __ATOMIC_RELAXED))
		return manage_refuse(c, -EBUSY, "it is already paused by this VM");
	vm_pause(c->target);
	/* Release: pairs with the acquires in end_pause(), so its
	 * vm_resume() comes after this vm_pause(), and in paused_by_any(),
	 * so a digest that finds the pause reads the RAM it left still. */
	__atomic_store_n(pause_of(c->caller, c->target), PAUSE_HELD, __ATOMIC_RELEASE);
	return 0;
}

/* Ends @caller's pause of @t if it holds one (not one in flight). */
static bool end_pause(const struct vm *caller, struct vm *t)
{
	u32 held = PAUSE_HELD;

	/* Acquire: pairs with the release in manage_pause(). */
	if (!__atomic_compare_exchange_n(pause_of(caller, t), &held, PAUSE_NONE,
					 false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return false;
	vm_resume(t);
	return true;
}

int manage_resume(struct manage_call *c)
{
	if (!end_pause(c->caller, c->target))
		return manage_refuse(c, -EALREADY, "this VM has not paused it");
	return 0;
}

/* ------------------------------------------------------------ attach */

static int insert_slot(struct memslot_array *next, void *slot)
{
	return memslot_array_insert(next, slot);
}

static int remove_slot(struct memslot_array *next, void *id)
{
	return memslot_array_remove(next, *(const u32 *)id);
}

/* The caller's own RAM, devices, and the end of its IPA space. */
static void space_of(const struct vm *me, struct window_space *sp)
{
	u64 floor = GUEST_RAM_BASE + me->ram_size;

	for (unsigned int i = 0; i < me->nr_mmio; i++)
		floor = MAX(floor, me->mmio[i].base + me->mmio[i].size);
	sp->floor = floor;
	sp->limit = 1ULL << me->s2.ipa_bits;
}

/* Everything above RAM a caller has mapped: its memslots (attached
 * views) and mapped rings, into @sp (room for all of them). Under
 * manage_lock, which every change of either holds. */
static void busy_of(struct vm *me, struct window_space *sp)
{
	unsigned int token;
	const struct memslot_array *a = memslots_read_begin(&me->slots, &token);

	for (u32 i = 0; i < a->nr; i++)
		window_space_add(sp, a->slots[i].ipa, a->slots[i].size);
	memslots_read_end(&me->slots, token);
	for (unsigned int t = 0; t < SCENARIO_MAX_VMS; t++) {
		const struct attachment *at = &attached[me->id][t];

		if (at->rings_ipa)
			window_space_add(sp, at->rings_ipa, at->rings_size);
	}
}

/* The caller holding @t's rings mapped, or NULL. Under manage_lock. */
static struct vm *rings_holder(const struct vm *t)
{
	for (unsigned int c = 0; c < SCENARIO_MAX_VMS; c++)
		if (attached[c][t->id].rings_ipa)
			return vm_by_id(c);
	return NULL;
}

/* The target's RAM, read-only at @ipa of the caller: the slot first (a
 * fault there meanwhile is retried, exit.c), then the mapping. */
static int map_mem(struct manage_call *c, u64 ipa)
{
	struct vm *me = c->caller, *t = c->target;
	struct memslot slot = {
		.ipa = ipa, .size = t->ram_size, .pa = t->ram_pa,
		.id = ATTACH_SLOT_ID(t), .flags = MEMSLOT_READONLY,
	};
	int r = memslots_update(&me->slots, insert_slot, &slot);

	if (r)
		return manage_refuse(c, r == -ENOSPC ? -ENOMEM : -EINVAL,
				     "no memslot for the window 0x%llx (%d)",
				     (unsigned long long)ipa, r);
	r = stage2_map(&me->s2, ipa, t->ram_pa, t->ram_size, STAGE2_PROT_R);
	if (r) {
		memslots_update(&me->slots, remove_slot, &slot.id);
		return manage_refuse(c, r == -ENOMEM ? -ENOMEM : -EINVAL,
				     "stage-2 mapping of the window 0x%llx failed (%d)",
				     (unsigned long long)ipa, r);
	}
	return 0;
}

/* The mapping out of the caller first (the TLBI completes before the
 * unmap returns), then the slot: a view never outlives its slot. The
 * unmaps here are of whole windows that were mapped exactly, so no
 * block straddles their ends and no split (the one way they can fail)
 * is needed. */
static void unmap_mem(struct vm *me, const struct vm *t, u64 ipa)
{
	u32 id = ATTACH_SLOT_ID(t);

	stage2_unmap(&me->s2, ipa, t->ram_size);
	memslots_update(&me->slots, remove_slot, &id);
}

/* Ring i of the target, read-write at @ipa + i * DIRTY_RING_BYTES of the
 * caller. No memslot: the caller's dirty log never covers them, exit.c
 * never takes them for memory, and guest_mem.h never writes to them
 * (only RAM). The target's harvest leaves them to the caller first. */
static int map_rings(struct manage_call *c, u64 ipa, struct manage_attach *out)
{
	struct vm *me = c->caller;
	struct dirty_log *log = &c->target->dirty;
	u32 n = dirty_log_nr_rings(log);
	int r = 0;

	dirty_log_set_rings_mapped(log, true, out->start_index);
	for (u32 i = 0; !r && i < n; i++)
		r = stage2_map(&me->s2, ipa + i * DIRTY_RING_BYTES,
			       dirty_log_ring_pa(log, i), DIRTY_RING_BYTES,
			       STAGE2_PROT_RW);
	if (r) {
		stage2_unmap(&me->s2, ipa, n * DIRTY_RING_BYTES);
		dirty_log_set_rings_mapped(log, false, NULL);
		return manage_refuse(c, r == -ENOMEM ? -ENOMEM : -EINVAL,
				     "stage-2 mapping of the rings at 0x%llx failed (%d)",
				     (unsigned long long)ipa, r);
	}
	out->rings_ipa = ipa;
	out->nr_rings = n;
	out->ring_entries = DIRTY_RING_ENTRIES;
	out->ring_stride = DIRTY_RING_BYTES;
	return 0;
}

/* Out of the caller first (no write of it can follow), then the rings
 * go back to the hypervisor's consumer. */
static void unmap_rings(struct vm *me, struct vm *t, const struct attachment *at)
{
	stage2_unmap(&me->s2, at->rings_ipa, at->rings_size);
	dirty_log_set_rings_mapped(&t->dirty, false, NULL);
}

/* Picks (@mem_ipa 0) or checks the memory window, then the rings'. */
static int choose_windows(struct manage_call *c, u64 *mem_ipa, bool rings,
			  u64 *rings_ipa)
{
	/* Every memslot and ring window, and the memory window being
	 * attached when the rings' is chosen: room for all. */
	struct ipa_range busy[MEMSLOT_MAX + SCENARIO_MAX_VMS + 1];
	struct window_space sp = { .busy = busy, .max_busy = ARRAY_SIZE(busy) };
	u64 size = c->target->ram_size;

	space_of(c->caller, &sp);
	busy_of(c->caller, &sp);
	if (!*mem_ipa)
		*mem_ipa = window_find(&sp, sp.floor, size);
	else if (!window_fits(&sp, *mem_ipa, size))
		return manage_refuse(c, -EINVAL, "window 0x%llx (+0x%llx) is not 1 GiB "
				     "aligned within [0x%llx, 0x%llx), clear of what "
				     "is mapped there", (unsigned long long)*mem_ipa,
				     (unsigned long long)size,
				     (unsigned long long)sp.floor,
				     (unsigned long long)sp.limit);
	if (!*mem_ipa)
		return manage_refuse(c, -ENOMEM, "no free 1 GiB-aligned window for "
				     "0x%llx bytes below 0x%llx",
				     (unsigned long long)size,
				     (unsigned long long)sp.limit);
	if (!rings)
		return 0;
	window_space_add(&sp, *mem_ipa, size);
	size = dirty_log_nr_rings(&c->target->dirty) * DIRTY_RING_BYTES;
	*rings_ipa = window_find(&sp, *mem_ipa + c->target->ram_size, size);
	if (!*rings_ipa)
		return manage_refuse(c, -ENOMEM, "no free 1 GiB-aligned window for "
				     "its rings above 0x%llx below 0x%llx",
				     (unsigned long long)*mem_ipa,
				     (unsigned long long)sp.limit);
	return 0;
}

static int attach_locked(struct manage_call *c, u64 mem_ipa, u32 flags,
			 struct manage_attach *out)
{
	struct attachment *at = &attached[c->caller->id][c->target->id];
	bool rings = flags & MANAGE_ATTACH_RINGS;
	const struct vm *holder = rings_holder(c->target);
	u64 rings_ipa = 0;
	int r;

	if (at->mem_ipa)
		return manage_refuse(c, -EBUSY, "already attached at 0x%llx",
				     (unsigned long long)at->mem_ipa);
	if (rings && holder)
		return manage_refuse(c, -EBUSY, "its rings are mapped into VM '%s'",
				     holder->name);
	r = choose_windows(c, &mem_ipa, rings, &rings_ipa);
	if (!r)
		r = map_mem(c, mem_ipa);
	if (r)
		return r;
	*out = (struct manage_attach){ .mem_ipa = mem_ipa,
				       .mem_size = c->target->ram_size };
	if (rings) {
		r = map_rings(c, rings_ipa, out);
		if (r) {
			unmap_mem(c->caller, c->target, mem_ipa);
			return r;
		}
	}
	*at = (struct attachment){ .mem_ipa = mem_ipa, .rings_ipa = out->rings_ipa,
				   .rings_size = out->nr_rings * out->ring_stride };
	return 0;
}

int manage_attach(struct manage_call *c, u64 mem_ipa, u32 flags,
		  struct manage_attach *out)
{
	int r;

	if (c->target == c->caller)
		return manage_refuse(c, -EPERM, "a VM cannot attach its own memory");
	if (flags & ~MANAGE_ATTACH_RINGS)
		return manage_refuse(c, -EINVAL, "unknown attach flags 0x%x", flags);
	spin_lock(&manage_lock);
	r = attach_locked(c, mem_ipa, flags, out);
	spin_unlock(&manage_lock);
	return r;
}

/* Unmaps what caller @me attached of @t. Under manage_lock. */
static void detach_locked(struct vm *me, struct vm *t)
{
	struct attachment *at = &attached[me->id][t->id];

	if (at->rings_ipa)
		unmap_rings(me, t, at);
	unmap_mem(me, t, at->mem_ipa);
	*at = (struct attachment){ 0 };
}

int manage_detach(struct manage_call *c)
{
	bool was = false;

	spin_lock(&manage_lock);
	if (attached[c->caller->id][c->target->id].mem_ipa) {
		detach_locked(c->caller, c->target);
		was = true;
	}
	spin_unlock(&manage_lock);
	return was ? 0 : manage_refuse(c, -EALREADY, "it is not attached");
}

/* ---------------------------------------------------- harvest, reset */

int manage_harvest(struct manage_call *c, bool mapped, struct dirty_gfn *out,
		   u32 max, bool *more)
{
	const struct vm *holder;

	spin_lock(&manage_lock);
	holder = rings_holder(c->target);
	spin_unlock(&manage_lock);
	/* A detach or attach racing with this harvest changes only who
	 * consumes the rings, never that each entry goes to one consumer:
	 * the engine decides that under its own lock. */
	if (mapped && holder != c->caller)
		return manage_refuse(c, -EBUSY, "its rings are not mapped into "
				     "this VM");
	if (!mapped && holder)
		return manage_refuse(c, -EBUSY, "its rings are mapped into VM '%s': "
				     "they are harvested there", holder->name);
	/* The count fits: @max is clamped to what an int holds. */
	return (int)dirty_log_harvest(&c->target->dirty, out,
				      MIN(max, (u32)INT32_MAX), more);
}

u32 manage_reset(struct manage_call *c)
{
	return dirty_log_reset(&c->target->dirty, DIRTY_RESET_MAX);
}

/* ------------------------------------------------------- digest, read */

/* Whether some manager holds a pause of @t that vm_pause() completed. */
static bool paused_by_any(const struct vm *t)
{
	for (unsigned int c = 0; c < SCENARIO_MAX_VMS; c++)
		/* Acquire: pairs with the release in manage_pause(), so the
		 * parking of @t's vCPUs comes before the caller's reads of
		 * its RAM. */
		if (__atomic_load_n(&pause_state[c][t->id], __ATOMIC_ACQUIRE) == PAUSE_HELD)
			return true;
	return false;
}

/*
 * [ipa, ipa + len) of the target's RAM as the hypervisor reaches it
 * (guest RAM is identity-mapped at EL2, as guest_mem.c writes it), if
 * the range is page aligned, not empty and inside RAM; else NULL, the
 * refusal logged.
 */
static const void *ram_range(struct manage_call *c, u64 ipa, u64 len)
{
	const struct vm *t = c->target;
	u64 off = ipa - GUEST_RAM_BASE;

	if (!IS_ALIGNED(ipa | len, PAGE_SIZE) || !len || ipa < GUEST_RAM_BASE ||
	    off >= t->ram_size || len > t->ram_size - off) {
		manage_refuse(c, -EINVAL, "range 0x%llx (+0x%llx) is not page aligned "
			      "inside its RAM", (unsigned long long)ipa,
			      (unsigned long long)len);
		return NULL;
	}
	return (const void *)(t->ram_pa + off);
}

int manage_digest(struct manage_call *c, u64 ipa, u64 len, u64 *digest)
{
	const struct vm *t = c->target;
	const u64 *words = ram_range(c, ipa, len);
	bool whole = ipa == GUEST_RAM_BASE && len == t->ram_size;
	/* Taken as the digest begins: a pause its holder ends meanwhile (a
	 * RESUME served at once on another of its vCPUs) is not seen. */
	bool paused = whole && paused_by_any(t);

	if (!words)
		return -EINVAL;
	*digest = hvd_digest_update(HVD_DIGEST_SEED, words, len / sizeof(u64));
	if (whole)
		printf("hv: VM '%s' RAM digest %016llx (%s), asked by '%s'\n", t->name,
		       (unsigned long long)*digest, paused ? "paused" : "running",
		       c->caller->name);
	return 0;
}

int manage_read(struct manage_call *c, u64 ipa, u64 len, void *out)
{
	const void *src = ram_range(c, ipa, len);

	if (!src)
		return -EINVAL;
	memcpy(out, src, len);
	return 0;
}

/* ------------------------------------------------------ a manager stops */

void manage_vm_stopped(struct vm *vm)
{
	for (unsigned int id = 0; id < SCENARIO_MAX_VMS; id++) {
		struct vm *t = vm_by_id(id);

		if (!t || t == vm || !manage_may(vm, t))
			continue;
		/* No vCPU of @vm is left to be inside a PAUSE of its own. */
		if (end_pause(vm, t))
			printf("hv: manage: VM '%s' stopped: VM '%s' resumes\n",
			       vm->name, t->name);
		if (!dirty_log_disable(&t->dirty))
			printf("hv: manage: VM '%s' stopped: logging of VM '%s' "
			       "stops\n", vm->name, t->name);
		/* Its vCPUs have all left: nothing runs on its tables. */
		spin_lock(&manage_lock);
		if (attached[vm->id][id].mem_ipa) {
			detach_locked(vm, t);
			printf("hv: manage: VM '%s' stopped: VM '%s' is detached "
			       "from it\n", vm->name, t->name);
		}
		spin_unlock(&manage_lock);
	}
}
