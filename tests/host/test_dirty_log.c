/*
 * The dirty-tracking engine (mm/dirty_log.c) on the host, over real
 * stage-2 tables (mm/stage2.c) in fake physical memory
 * (tests/host/fake_s2.c), real memslots and real rings.
 *
 * A guest write is played by a model vCPU: a TLB that caches
 * descriptors per page, the FEAT_HAFDBS dirty update (an atomic
 * compare-and-swap setting S2AP_W in a descriptor that still has DBM),
 * and, on a permission fault, dirty_log_write_fault() and a retry, as
 * virt/exit.c does. A TLBI drops the cached entries under each vCPU's
 * TLB lock, so that it completes only after writes already using them
 * (what the DSB after a TLBI guarantees on hardware). Page contents are
 * a model (one u64 per page, a new value per write); a consumer
 * harvests, resets and only then reads them, and every page whose
 * content changed since its last read must be in that round's log or
 * the next one's (the rule of KVM's dirty_log_test); once the writers
 * stop, the log is exact. Each KVM race in the design's seed mails has a
 * test named after it, but seed 002 (the rings' memory ordering), which
 * test_dirty_ring_tsan covers. The rings can also be handed to a model
 * manager that maps them (dirty_log_set_rings_mapped()): it consumes the
 * ring memory itself as KVM's dirty_log_test does, and the same rules
 * must hold; what it writes into them is untrusted. A second binary runs
 * the threaded tests under ThreadSanitizer.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "arch/arm64/stage2_pte.h"
#include "lib/compiler.h"
#include "lib/errno.h"
#include "mm/dirty_log.h"
#include "mm/dirty_ring.h"
#include "mm/memslot.h"
#include "mm/stage2.h"
#include "tests/host/fake_s2.h"
#include "tests/host/test.h"

#ifdef DIRTY_LOG_RACES_ONLY
/* The TSan binary registers only the tests that run threads. */
#define UNIT_TEST(name) static __attribute__((unused)) void name(void)
#else
#define UNIT_TEST(name) TEST(name)
#endif

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

#define IPA_BITS 40
#define PA_RANGE_40 2            /* ID_AA64MMFR0_EL1.PARange for 40 bits */
#define VMID 1
#define SLOT_IPA 0x40000000ULL
/* Guest memory sits at IPA + this (block aligned, never dereferenced:
 * the page contents live in the model). */
#define OUT_OFFSET 0x100000000ULL

#define MAX_SLOTS 4
#define MAX_VCPUS 3
#define MAX_PAGES 12288          /* pages the model covers (48 MiB) */
/* Faults one write may take before the vCPU counts as stuck (one is
 * enough for a page; a second one means a stale TLB entry). */
#define MAX_TRIES 8
#define GROUP ((u64)DIRTY_DBM_GROUP_PAGES)
/* Everything one round can hand out: every ring full plus overflow. */
#define ALL_ENTRIES (DIRTY_RING_ENTRIES * (MAX_VCPUS + 1) + MAX_PAGES)
/* A harvest/reset call size larger than anything a round holds. */
#define BIG_CHUNK ALL_ENTRIES

#define RO_PROT (STAGE2_PROT_R | STAGE2_PROT_X)
#define RW_PROT (STAGE2_PROT_RW | STAGE2_PROT_X)
#define ARMED_PROT (RO_PROT | STAGE2_PROT_DBM)
#define DIRTY_PROT (RW_PROT | STAGE2_PROT_DBM)

/* -------------------------------------------------------------- model */

/* A model vCPU: its ring, its TLB (descriptors cached by model page) and
 * what its writes met. Its counters are its own thread's. */
struct mvcpu {
	struct dirty_ring ring;
	u64 tlb[MAX_PAGES];
	u64 faults;        /* permission faults taken */
	u64 ring_full;     /* DIRTY_FAULT_RING_FULL answers */
	u64 waits;         /* waits for room, as the run loop does */
	bool waiting;      /* in such a wait now (atomic) */
};

/* Held by a vCPU across one access and by a TLBI dropping its entries. */
static pthread_mutex_t tlb_lock[MAX_VCPUS] = {
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
	PTHREAD_MUTEX_INITIALIZER,
};
/* TLBIs waiting for tlb_lock[i] (atomic): a vCPU lets them in first, or
 * a writer looping on its lock could starve the consumer's TLBIs. */
static u32 tlbi_waiting[MAX_VCPUS];

static void tlb_lock_for_access(u32 vi)
{
	while (__atomic_load_n(&tlbi_waiting[vi], __ATOMIC_RELAXED))
		sched_yield();
	pthread_mutex_lock(&tlb_lock[vi]);
}

static void tlb_lock_for_tlbi(u32 vi)
{
	__atomic_fetch_add(&tlbi_waiting[vi], 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&tlb_lock[vi]);
	__atomic_fetch_sub(&tlbi_waiting[vi], 1, __ATOMIC_RELAXED);
}

static struct {
	struct stage2 s2;
	struct memslots slots;
	struct dirty_log log;
	struct memslot slot[MAX_SLOTS];
	u32 nslots;
	u64 first[MAX_SLOTS];     /* model page of each slot's page 0 */
	u64 npages;               /* model pages: the slots in order */
	u64 *leaf[MAX_PAGES];     /* each page's leaf (refresh_leaves) */
	struct mvcpu vcpu[MAX_VCPUS];
	u32 nvcpus;
	u64 mem[MAX_PAGES];       /* page contents (atomic) */
	u64 marks[MAX_PAGES];     /* clean -> dirty updates by hardware */
	u64 wakes[MAX_VCPUS];     /* log->wake() calls per ring */
	u64 next_value;           /* last value written (atomic) */
} env;

/*
 * A manager that maps the rings (after map_rings()): its own cursor per
 * ring, in dirty_log_nr_rings() order (vCPU rings, then the VM's). Only
 * the consumer thread uses it.
 */
static struct {
	bool on;
	u32 cursor[MAX_VCPUS + 1];
} client;

/* The model vCPU this thread plays (for tlbi_ipa_local), or -1. */
static __thread int running = -1;

static u64 page_ipa(u64 g)
{
	for (u32 k = env.nslots; k--;)
		if (g >= env.first[k])
			return env.slot[k].ipa + (g - env.first[k]) * PAGE_SIZE;
	abort();
}

/* Pages of slot @k the model covers. */
static u64 slot_model_pages(u32 k)
{
	return MIN(env.slot[k].size / PAGE_SIZE, env.npages - env.first[k]);
}

/* The model page of (slot id, page offset), or -1. */
static long page_of(u32 id, u64 offset)
{
	for (u32 k = 0; k < env.nslots; k++) {
		if (env.slot[k].id != id)
			continue;
		if (offset >= slot_model_pages(k))
			return -1;
		return (long)(env.first[k] + offset);
	}
	return -1;
}

static u64 new_value(void)
{
	return __atomic_add_fetch(&env.next_value, 1, __ATOMIC_RELAXED);
}

/* Drops vCPU @vi's entries for [ipa, ipa + size). */
static void tlb_drop(u32 vi, u64 ipa, u64 size)
{
	tlb_lock_for_tlbi(vi);
	for (u32 k = 0; k < env.nslots; k++) {
		const struct memslot *s = &env.slot[k];
		u64 lo = MAX(ipa, s->ipa);
		u64 hi = MIN(ipa + size, s->ipa + slot_model_pages(k) * PAGE_SIZE);

		for (u64 a = lo; a < hi; a += PAGE_SIZE)
			env.vcpu[vi].tlb[env.first[k] + (a - s->ipa) / PAGE_SIZE] = 0;
	}
	pthread_mutex_unlock(&tlb_lock[vi]);
}

/* The fake machine's TLB invalidations, applied to the model TLBs. */
static void model_tlbi(const struct fake_event *e)
{
	switch (e->kind) {
	case FAKE_EV_TLBI_IPA: {
		u64 size = pt_level_size((unsigned int)e->b);

		for (u32 vi = 0; vi < env.nvcpus; vi++)
			tlb_drop(vi, ALIGN_DOWN(e->a, size), size);
		break;
	}
	case FAKE_EV_TLBI_VMID:
		for (u32 vi = 0; vi < env.nvcpus; vi++)
			tlb_drop(vi, 0, 1ULL << IPA_BITS);
		break;
	case FAKE_EV_TLBI_LOCAL:
		if (running >= 0)
			tlb_drop((u32)running, ALIGN_DOWN(e->a, PAGE_SIZE), PAGE_SIZE);
		break;
	default:
		break;
	}
}

/* Where each page's descriptor is: after every change of the tables'
 * shape (enable, disable). No vCPU may be writing. */
static void refresh_leaves(void)
{
	spin_lock(&env.s2.lock);
	for (u64 g = 0; g < env.npages; g++) {
		unsigned int level;

		env.leaf[g] = stage2_leaf_locked(&env.s2, page_ipa(g), &level);
	}
	spin_unlock(&env.s2.lock);
}

static u64 leaf_val(u64 g)
{
	return stage2_pte_read(env.leaf[g]);
}

/*
 * FEAT_HAFDBS: a write through a writable-clean entry sets S2AP_W in the
 * descriptor in memory with an atomic update that happens only while the
 * descriptor still has DBM set; otherwise the write faults. Returns the
 * descriptor as the write sees it.
 */
static u64 hw_dirty_update(u64 g)
{
	u64 old = leaf_val(g);

	do {
		if ((old & (S2_DBM | S2AP_W)) != S2_DBM)
			return old;   /* dirty already, or no DBM (a fault) */
	} while (!__atomic_compare_exchange_n(env.leaf[g], &old, old | S2AP_W, false,
					      __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
	__atomic_fetch_add(&env.marks[g], 1, __ATOMIC_RELAXED);
	return old | S2AP_W;
}

/* The CPU's side of a write by vCPU @vi to page @g: true if performed,
 * false for a permission fault. */
static bool cpu_write(u32 vi, u64 g, u64 value)
{
	struct mvcpu *v = &env.vcpu[vi];
	bool done;
	u64 e;

	tlb_lock_for_access(vi);
	e = v->tlb[g];
	if (!e)
		e = leaf_val(g);   /* a table walk */
	if ((e & (S2_DBM | S2AP_W)) == S2_DBM)
		e = hw_dirty_update(g);
	done = pte_is_valid(e) && (e & S2AP_W);
	/* A TLB may keep an entry that faults (until a TLBI drops it). */
	v->tlb[g] = pte_is_valid(e) ? e : 0;
	if (done)
		__atomic_store_n(&env.mem[g], value, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&tlb_lock[vi]);
	return done;
}

/* A read by vCPU @vi: fills its TLB entry for @g. */
static void cpu_read(u32 vi, u64 g)
{
	tlb_lock_for_access(vi);
	if (!env.vcpu[vi].tlb[g])
		env.vcpu[vi].tlb[g] = pte_is_valid(leaf_val(g)) ? leaf_val(g) : 0;
	pthread_mutex_unlock(&tlb_lock[vi]);
}

enum write_result {
	WRITE_DONE,
	WRITE_RING_FULL,   /* handled; the vCPU must wait for room, then retry */
	WRITE_REFUSED,     /* DIRTY_FAULT_NOT_LOGGED: a read-only page */
	WRITE_STUCK,       /* faulted MAX_TRIES times */
};

/* A guest write as the vCPU's exits play it: access, fault, retry. */
static enum write_result vcpu_try_write(u32 vi, u64 g, u64 value)
{
	struct mvcpu *v = &env.vcpu[vi];

	running = (int)vi;
	for (int tries = 0; tries < MAX_TRIES; tries++) {
		if (cpu_write(vi, g, value))
			return WRITE_DONE;
		v->faults++;
		switch (dirty_log_write_fault(&env.log, &v->ring, page_ipa(g))) {
		case DIRTY_FAULT_NOT_LOGGED:
			return WRITE_REFUSED;
		case DIRTY_FAULT_RING_FULL:
			v->ring_full++;
			return WRITE_RING_FULL;
		case DIRTY_FAULT_HANDLED:
			break;
		}
	}
	return WRITE_STUCK;
}

enum ring_policy {
	RING_WAIT,     /* wait for room as the run loop does (no lock held) */
	RING_IGNORE,   /* retry at once: pushes past the soft limit */
};

static enum write_result vcpu_write(u32 vi, u64 g, u64 value,
				    enum ring_policy policy)
{
	struct mvcpu *v = &env.vcpu[vi];
	enum write_result r;

	while ((r = vcpu_try_write(vi, g, value)) == WRITE_RING_FULL) {
		if (policy == RING_IGNORE)
			continue;
		v->waits++;
		__atomic_store_n(&v->waiting, true, __ATOMIC_RELAXED);
		while (dirty_ring_soft_full(&v->ring))
			sched_yield();
		__atomic_store_n(&v->waiting, false, __ATOMIC_RELAXED);
	}
	return r;
}

/* Single-threaded tests: one write by vCPU @vi with a new value. */
static enum write_result write_page(u32 vi, u64 g)
{
	return vcpu_write(vi, g, new_value(), RING_IGNORE);
}

/* -------------------------------------------------------------- setup */

static void count_wake(void *arg, u32 ring)
{
	__atomic_fetch_add(&env.wakes[ring], 1, __ATOMIC_RELAXED);
}

static int insert_slot(struct memslot_array *next, void *slot)
{
	return memslot_array_insert(next, slot);
}

/*
 * A VM with @n slots (ipa, size, id, flags of each; pa = ipa +
 * OUT_OFFSET), mapped with blocks wherever they fit (read-only slots
 * without write permission), @nvcpus vCPU rings, and a log that knows
 * the CPU has FEAT_HAFDBS if @dbm.
 */
static int setup(const struct memslot *slots, u32 n, u32 nvcpus, bool dbm)
{
	int r;

	memset(&env, 0, sizeof(env));
	memset(&client, 0, sizeof(client));
	fake_s2_reset();
	fake_s2.on_event = model_tlbi;
	r = stage2_init(&env.s2, &fake_s2.pool, &fake_s2_ops, IPA_BITS,
			PA_RANGE_40, VMID);
	memslots_init(&env.slots);
	for (u32 k = 0; !r && k < n; k++) {
		struct memslot s = slots[k];

		s.pa = s.ipa + OUT_OFFSET;
		env.slot[k] = s;
		env.first[k] = env.npages;
		env.npages = MIN(env.npages + s.size / PAGE_SIZE, (u64)MAX_PAGES);
		r = stage2_map(&env.s2, s.ipa, s.pa, s.size,
			       (s.flags & MEMSLOT_READONLY) ? RO_PROT : RW_PROT);
		if (!r)
			r = memslots_update(&env.slots, insert_slot, &s);
	}
	env.nslots = n;
	if (!r)
		r = dirty_log_init(&env.log, &env.s2, &env.slots, &fake_s2.pool, dbm);
	for (u32 i = 0; !r && i < nvcpus; i++)
		r = dirty_log_add_vcpu_ring(&env.log, &env.vcpu[i].ring);
	env.nvcpus = nvcpus;
	env.log.wake = count_wake;
	refresh_leaves();
	return r;
}

static int enable(enum dirty_mode mode)
{
	int r = dirty_log_enable(&env.log, mode);

	refresh_leaves();
	return r;
}

static int disable(void)
{
	int r = dirty_log_disable(&env.log);

	refresh_leaves();
	return r;
}

/* 4 MiB: two 2 MiB blocks, 1024 pages, 64 DBM groups. */
static const struct memslot one_slot[] = {
	{ .ipa = SLOT_IPA, .size = 4 * MiB, .id = 0 },
};
/* 48 MiB, for filling rings. */
static const struct memslot big_slot[] = {
	{ .ipa = SLOT_IPA, .size = MAX_PAGES * PAGE_SIZE, .id = 0 },
};
/* 32 pages: a consumer round over it is quick, so that rounds meet the
 * vCPUs' faults often. */
static const struct memslot small_slot[] = {
	{ .ipa = SLOT_IPA, .size = 2 * GROUP * PAGE_SIZE, .id = 0 },
};
/* Two logged slots (the second not a whole block: 1 MiB + 64 KiB) and a
 * read-only one, which logging leaves alone. */
#define SHORT_SLOT_PAGES (17 * GROUP)
static const struct memslot three_slots[] = {
	{ .ipa = SLOT_IPA, .size = 4 * MiB, .id = 0 },
	{ .ipa = SLOT_IPA + 8 * MiB, .size = SHORT_SLOT_PAGES * PAGE_SIZE, .id = 3 },
	{ .ipa = SLOT_IPA + 16 * MiB, .size = 2 * MiB, .id = 5,
	  .flags = MEMSLOT_READONLY },
};
#define SHORT_FIRST 1024     /* model page of slot 3's page 0 */
#define RO_FIRST (SHORT_FIRST + SHORT_SLOT_PAGES)

static bool page_is(u64 g, unsigned int want_prot, unsigned int want_level)
{
	unsigned int prot, level;

	return stage2_translate(&env.s2, page_ipa(g), NULL, &prot, &level) == 0 &&
	       prot == want_prot && level == want_level;
}

static struct dirty_stats stats(void)
{
	struct dirty_stats s;

	dirty_log_get_stats(&env.log, &s);
	return s;
}

static u32 ring_pushed(const struct dirty_ring *ring)
{
	return READ_ONCE(ring->dirty_index);
}

/* ----------------------------------------------------------- consumer */

static struct dirty_gfn got[ALL_ENTRIES];

/* One harvest call appending at got[@at]. */
static u32 harvest_into(u32 at, u32 max, bool *more)
{
	if (at + max > ALL_ENTRIES)
		max = ALL_ENTRIES - at;
	if (!max)
		abort();   /* got[] too small for what the test produced */
	return dirty_log_harvest(&env.log, got + at, max, more);
}

/* Ring @i as the manager sees it (dirty_log_nr_rings() order). */
static struct dirty_ring *ring_no(u32 i)
{
	return i < env.nvcpus ? &env.vcpu[i].ring : &env.log.vm_ring;
}

/* The rings go to the model manager, which starts at the hypervisor's
 * cursors (its start indices). */
static void map_rings(void)
{
	dirty_log_set_rings_mapped(&env.log, true, client.cursor);
	client.on = true;
}

/*
 * The manager consumes the mapped ring memory as a guest would (KVM's
 * dirty_log_test): from its cursor, an entry whose flags read DIRTY
 * (acquire) is copied, then marked RESET (release); the first entry
 * that is not DIRTY ends that ring. Up to @max entries appended at
 * got[@at].
 */
static u32 client_collect(u32 at, u32 max)
{
	u32 n = 0;

	if (at + max > ALL_ENTRIES)
		abort();   /* got[] too small for what the test produced */
	for (u32 i = 0; i < dirty_log_nr_rings(&env.log); i++) {
		struct dirty_ring *r = ring_no(i);

		for (; n < max; n++, client.cursor[i]++) {
			struct dirty_gfn *e = &r->gfns[client.cursor[i] & (r->size - 1)];

			if (__atomic_load_n(&e->flags, __ATOMIC_ACQUIRE) != DIRTY_GFN_F_DIRTY)
				break;
			got[at + n] = (struct dirty_gfn){ DIRTY_GFN_F_DIRTY, e->slot, e->offset };
			__atomic_store_n(&e->flags, DIRTY_GFN_F_RESET, __ATOMIC_RELEASE);
		}
	}
	return n;
}

/* Harvests until nothing is left behind, @chunk entries per call; with
 * the rings mapped, the manager then reads them (the scan's pages are
 * in the VM ring by then). */
static u32 harvest_all(u32 chunk)
{
	u32 n = 0;
	bool more;

	do
		n += harvest_into(n, chunk, &more);
	while (more);
	if (client.on)
		n += client_collect(n, ALL_ENTRIES - n);
	return n;
}

static u32 reset_all(u32 chunk)
{
	u32 n = 0, r;

	while ((r = dirty_log_reset(&env.log, chunk)))
		n += r;
	return n;
}

/* How many of got[0..n) name model page @g. */
static u32 count_in_got(u32 n, u64 g)
{
	u32 c = 0;

	for (u32 i = 0; i < n; i++)
		c += page_of(got[i].slot, got[i].offset) == (long)g;
	return c;
}

/* Each model page named at most once in got[0..n), and all in slots. */
static bool got_distinct(u32 n)
{
	static u8 seen[MAX_PAGES];

	memset(seen, 0, sizeof(seen));
	for (u32 i = 0; i < n; i++) {
		long g = page_of(got[i].slot, got[i].offset);

		if (g < 0 || got[i].flags != DIRTY_GFN_F_DIRTY || seen[g]++)
			return false;
	}
	return true;
}

/* ----------------------------------------------- the dirty_log_test rule */

static struct {
	u64 seen[MAX_PAGES];     /* contents at the last read */
	u8 owed[MAX_PAGES];      /* changed, not logged: due next round */
	u8 logged[MAX_PAGES];    /* in this round's entries */
	u64 reports[MAX_PAGES];  /* entries naming the page, all rounds */
	u64 entries;
	u32 rounds;
	const char *error;
	u64 error_page;
	u32 error_round;
} chk;

static void chk_fail(const char *what, u64 g)
{
	if (!chk.error) {
		chk.error = what;
		chk.error_page = g;
		chk.error_round = chk.rounds;
	}
}

static void chk_start(void)
{
	memset(&chk, 0, sizeof(chk));
}

/* "ok", or the first failure with its page and round. */
static const char *chk_verdict(void)
{
	static char msg[200];

	if (!chk.error)
		return "ok";
	snprintf(msg, sizeof(msg), "%s (page %llu, round %u)", chk.error,
		 (unsigned long long)chk.error_page, chk.error_round);
	return msg;
}

static void round_note(const struct dirty_gfn *e, u32 n)
{
	for (u32 i = 0; i < n; i++) {
		long g = page_of(e[i].slot, e[i].offset);

		if (g < 0) {
			chk_fail("an entry names no page of a slot", e[i].offset);
			continue;
		}
		chk.logged[g] = 1;
		chk.reports[g]++;
	}
	chk.entries += n;
}

/* After the reset: read every page. A change that is not in this
 * round's log must be in the next round's. */
static void round_read(void)
{
	for (u64 g = 0; g < env.npages; g++) {
		u64 v = __atomic_load_n(&env.mem[g], __ATOMIC_RELAXED);

		if (chk.owed[g] && !chk.logged[g])
			chk_fail("a page that changed is in neither that round's log nor the next one's", g);
		chk.owed[g] = v != chk.seen[g] && !chk.logged[g];
		chk.seen[g] = v;
		chk.logged[g] = 0;
	}
	chk.rounds++;
}

/* Harvest (until nothing is left), reset (until 0), then read. */
static u32 consumer_round(u32 chunk)
{
	u32 n = harvest_all(chunk);

	round_note(got, n);
	reset_all(chunk);
	round_read();
	return n;
}

/* No writer left and no vCPU in a fault handler: the log is exact. */
static void final_rounds(u32 chunk)
{
	consumer_round(chunk);
	for (u64 g = 0; g < env.npages; g++)
		if (chk.owed[g])
			chk_fail("a page written before the final harvest is missing from it", g);
	if (consumer_round(chunk))
		chk_fail("entries after the final round", 0);
}

/* ---------------------------------------------- the invariant, directly */

static bool slot_logged(u64 g)
{
	unsigned int token;
	const struct memslot_array *a = memslots_read_begin(&env.slots, &token);
	const struct memslot *s = memslot_find(a, page_ipa(g));
	bool logged = s && (s->flags & MEMSLOT_LOG_DIRTY);

	memslots_read_end(&env.slots, token);
	return logged;
}

static void mark_ring(const struct dirty_ring *ring, u8 *in_log)
{
	for (u32 i = ring->reset_index; i != ring->dirty_index; i++) {
		const struct dirty_gfn *e = &ring->gfns[i & (ring->size - 1)];
		long g = page_of(e->slot, e->offset);

		if (e->flags && g >= 0)
			in_log[g] = 1;
	}
}

/*
 * DESIGN §7 at a quiet moment (single-threaded: no vCPU inside its fault
 * handler): a page of a logged slot that the guest can write without the
 * hardware recording it (its descriptor or some TLB entry writable, DBM
 * aside) has a ring entry not yet freed. Armed DBM pages record in their
 * descriptor, but a TLB must not keep a writable entry for one that is
 * clean. Overflow bits are not visible from here: used only while no
 * page overflowed.
 */
static const char *log_invariant(void)
{
	static u8 in_log[MAX_PAGES];

	memset(in_log, 0, sizeof(in_log));
	mark_ring(&env.log.vm_ring, in_log);
	for (u32 vi = 0; vi < env.nvcpus; vi++)
		mark_ring(&env.vcpu[vi].ring, in_log);
	for (u64 g = 0; g < env.npages; g++) {
		u64 pte = leaf_val(g);
		bool tlb_w = false;

		if (!slot_logged(g))
			continue;
		for (u32 vi = 0; vi < env.nvcpus; vi++)
			tlb_w |= (env.vcpu[vi].tlb[g] & S2AP_W) != 0;
		if (pte & S2_DBM) {
			if (!(pte & S2AP_W) && tlb_w)
				return "a TLB still lets the guest write a cleaned DBM page";
			continue;
		}
		if (((pte & S2AP_W) || tlb_w) && !in_log[g])
			return "a writable page of a logged slot is not in the log";
	}
	return "ok";
}

/* ==================================================== write-protect mode */

UNIT_TEST(wp_enable_splits_blocks_into_read_only_pages)
{
	CHECK_EQ(setup(three_slots, 3, 1, false), 0);
	CHECK(page_is(0, RW_PROT, 2) && page_is(SHORT_FIRST, RW_PROT, 3));
	CHECK_EQ(enable(DIRTY_MODE_WP), 0);
	for (u64 g = 0; g < RO_FIRST; g++)
		CHECK(page_is(g, RO_PROT, 3));
	/* The read-only slot is not logged: its block stays. */
	CHECK(page_is(RO_FIRST, RO_PROT, 2));
	CHECK_EQ(stats().mode, DIRTY_MODE_WP);
	CHECK_EQ(enable(DIRTY_MODE_WP), -EBUSY);
	CHECK_EQ(ring_pushed(&env.vcpu[0].ring), 0);
}

UNIT_TEST(wp_fault_logs_exactly_that_page_and_makes_it_writable)
{
	CHECK_EQ(setup(three_slots, 3, 1, false), 0);
	CHECK_EQ(enable(DIRTY_MODE_WP), 0);
	CHECK_EQ(write_page(0, SHORT_FIRST + 5), WRITE_DONE);
	CHECK_EQ(env.vcpu[0].faults, 1);
	CHECK_EQ(ring_pushed(&env.vcpu[0].ring), 1);
	CHECK_EQ(env.vcpu[0].ring.gfns[0].slot, 3);
	CHECK_EQ(env.vcpu[0].ring.gfns[0].offset, 5);
	CHECK(page_is(SHORT_FIRST + 5, RW_PROT, 3));
	CHECK(page_is(SHORT_FIRST + 4, RO_PROT, 3) && page_is(SHORT_FIRST + 6, RO_PROT, 3));

	/* Again: no fault, no entry. */
	CHECK_EQ(write_page(0, SHORT_FIRST + 5), WRITE_DONE);
	CHECK_EQ(env.vcpu[0].faults, 1);
	CHECK_EQ(ring_pushed(&env.vcpu[0].ring), 1);

	/* Harvested once. */
	CHECK_EQ(harvest_all(BIG_CHUNK), 1);
	CHECK_EQ(got[0].flags, DIRTY_GFN_F_DIRTY);
	CHECK_EQ(got[0].slot, 3);
	CHECK_EQ(got[0].offset, 5);
	CHECK_EQ(harvest_all(BIG_CHUNK), 0);
}

/* The watched ring entry's flags, read as each event happens. */
static const struct dirty_gfn *watched;

static u64 watched_flags(void)
{
	return __atomic_load_n(&watched->flags, __ATOMIC_ACQUIRE);
}

UNIT_TEST(wp_reset_reprotects_and_invalidates_before_freeing_the_entry)
{
	const u64 g = 7;
	int w, ishst, tlbi, ish;

	CHECK_EQ(setup(one_slot, 1, 1, false), 0);
	CHECK_EQ(enable(DIRTY_MODE_WP), 0);
	CHECK_EQ(write_page(0, g), WRITE_DONE);
	CHECK_EQ(harvest_all(BIG_CHUNK), 1);
	watched = &env.vcpu[0].ring.gfns[0];
	CHECK_EQ(watched->flags, DIRTY_GFN_F_RESET);

	fake_s2.probe = watched_flags;
	fake_s2.recording = true;
	CHECK_EQ(dirty_log_reset(&env.log, DIRTY_RESET_MAX), 1);
	fake_s2.recording = false;
	fake_s2.probe = NULL;

	/* The descriptor loses W, the store reaches the walkers, the TLBI
	 * for that page is issued and completes: all while the entry is
	 * still RESET, i.e. not yet free for the producer. */
	w = fake_s2_find(0, FAKE_EV_WRITE);
	CHECK(w >= 0);
	CHECK_EQ(fake_s2.events[w].a, fake_s2_pa(env.leaf[g]));
	CHECK_EQ(fake_s2.events[w].b & S2AP_W, 0);
	ishst = fake_s2_find((u32)w, FAKE_EV_BARRIER);
	CHECK(ishst >= 0);
	CHECK_EQ(fake_s2.events[ishst].a, STAGE2_DSB_ISHST);
	tlbi = fake_s2_find((u32)ishst, FAKE_EV_TLBI_IPA);
	CHECK(tlbi >= 0);
	CHECK_EQ(fake_s2.events[tlbi].a, page_ipa(g));
	CHECK_EQ(fake_s2.events[tlbi].b, 3);
	CHECK_EQ(fake_s2.events[tlbi].probe, DIRTY_GFN_F_RESET);
	ish = fake_s2_find((u32)tlbi, FAKE_EV_BARRIER);
	CHECK(ish >= 0);
	CHECK_EQ(fake_s2.events[ish].a, STAGE2_DSB_ISH);
	CHECK_EQ(fake_s2.events[ish].probe, DIRTY_GFN_F_RESET);
	/* ... and then it is free. */
	CHECK_EQ(watched->flags, 0);
	CHECK_EQ(env.vcpu[0].ring.reset_index, 1);
	CHECK(page_is(g, RO_PROT, 3));

	/* The next write faults and logs the page again. */
	CHECK_EQ(write_page(0, g), WRITE_DONE);
	CHECK_EQ(env.vcpu[0].faults, 2);
	CHECK_EQ(harvest_all(BIG_CHUNK), 1);
	CHECK_EQ(got[0].offset, g);
}

UNIT_TEST(wp_disable_makes_pages_writable_and_merges_blocks_back)
{
	/* A 1 GiB slot, so that the merge climbs back to level 1 too. */
	static const struct memslot slots[] = {
		{ .ipa = GiB, .size = GiB, .id = 0 },
		{ .ipa = SLOT_IPA + GiB, .size = 4 * MiB, .id = 1 },
	};
	CHECK_EQ(setup(slots, 2, 1, false), 0);
	CHECK(page_is(0, RW_PROT, 1));
	CHECK_EQ(disable(), -EINVAL);
	CHECK_EQ(enable(DIRTY_MODE_WP), 0);
	CHECK(page_is(0, RO_PROT, 3) && page_is(MAX_PAGES - 1, RO_PROT, 3));
	CHECK_EQ(write_page(0, 1), WRITE_DONE);
	CHECK_EQ(disable(), 0);
	CHECK_EQ(env.log.mode, DIRTY_MODE_OFF);
	CHECK(page_is(0, RW_PROT, 1) && page_is(MAX_PAGES - 1, RW_PROT, 1));
	/* Slot 1 is beyond the model's pages: translate it directly. */
	{
		unsigned int prot, level;

		CHECK_EQ(stage2_translate(&env.s2, SLOT_IPA + GiB + 3 * MiB, NULL,
					  &prot, &level), 0);
		CHECK_EQ(prot, RW_PROT);
		CHECK_EQ(level, 2);
	}
	/* Roots, one level-2 table for the 1 GiB region that holds slot 1:
	 * every page table went back to the pool. */
	CHECK_EQ(env.s2.tables, env.s2.nroot + 1);
	/* Writes go straight through. */
	CHECK_EQ(write_page(0, 2), WRITE_DONE);
	CHECK_EQ(env.vcpu[0].faults, 1);
}

/* ================================================================ DBM */

UNIT_TEST(dbm_fault_arms_its_16_page_group)
{
	const u64 g = GROUP + 5;

	CHECK_EQ(setup(one_slot, 1, 1, true), 0);
	CHECK_EQ(enable(DIRTY_MODE_DBM), 0);
	CHECK(page_is(g, RO_PROT, 3));
	CHECK_EQ(write_page(0, g), WRITE_DONE);
	CHECK_EQ(env.vcpu[0].faults, 1);
	/* The group is writable-clean, the page written dirty by hardware. */
	for (u64 p = GROUP; p < 2 * GROUP; p++)
		CHECK(page_is(p, p == g ? DIRTY_PROT : ARMED_PROT, 3));
	CHECK(page_is(GROUP - 1, RO_PROT, 3) && page_is(2 * GROUP, RO_PROT, 3));
	CHECK_EQ(env.marks[g], 1);
	/* Nothing in any ring: the descriptor is the record. */
	CHECK_EQ(ring_pushed(&env.vcpu[0].ring), 0);
	CHECK_EQ(ring_pushed(&env.log.vm_ring), 0);
	CHECK_EQ(stats().dbm_arm_faults, 1);
}

UNIT_TEST(dbm_writes_in_an_armed_group_take_no_fault)
{
	CHECK_EQ(setup(one_slot, 1, 1, true), 0);
	CHECK_EQ(enable(DIRTY_MODE_DBM), 0);
	CHECK_EQ(write_page(0, GROUP), WRITE_DONE);
	for (u64 p = GROUP; p < 2 * GROUP; p++)
		CHECK_EQ(write_page(0, p), WRITE_DONE);
	CHECK_EQ(env.vcpu[0].faults, 1);
	CHECK_EQ(stats().dbm_arm_faults, 1);
	CHECK_EQ(stats().wp_faults, 0);
	for (u64 p = GROUP; p < 2 * GROUP; p++)
		CHECK(page_is(p, DIRTY_PROT, 3));
}

/* Entries the VM ring has published, read as each event happens. */
static u64 vm_ring_pushed(void)
{
	return ring_pushed(&env.log.vm_ring);
}

UNIT_TEST(dbm_scan_reports_exactly_the_written_pages_and_cleans_them)
{
	static const u64 written[] = { GROUP + 1, GROUP + 4, GROUP + 5, 2 * GROUP - 1 };
	int tlbi, ish;
	u32 n;

	CHECK_EQ(setup(one_slot, 1, 1, true), 0);
	CHECK_EQ(enable(DIRTY_MODE_DBM), 0);
	for (u32 i = 0; i < ARRAY_SIZE(written); i++)
		CHECK_EQ(write_page(0, written[i]), WRITE_DONE);

	fake_s2.probe = vm_ring_pushed;
	fake_s2.recording = true;
	n = harvest_all(BIG_CHUNK);
	fake_s2.recording = false;
	fake_s2.probe = NULL;

	CHECK_EQ(n, ARRAY_SIZE(written));
	CHECK(got_distinct(n));
	for (u32 i = 0; i < ARRAY_SIZE(written); i++)
		CHECK_EQ(count_in_got(n, written[i]), 1);
	/* Cleaned, still armed. */
	for (u64 p = GROUP; p < 2 * GROUP; p++)
		CHECK(page_is(p, ARMED_PROT, 3));
	/* One TLBI for the whole batch, after every clean and completed
	 * before any entry was published. */
	tlbi = fake_s2_find(0, FAKE_EV_TLBI_VMID);
	CHECK(tlbi >= 0);
	CHECK_EQ(fake_s2_find((u32)tlbi + 1, FAKE_EV_TLBI_VMID), -1);
	CHECK_EQ(fake_s2_find(0, FAKE_EV_TLBI_IPA), -1);
	CHECK_EQ(fake_s2_find((u32)tlbi, FAKE_EV_WRITE), -1);
	CHECK_EQ(fake_s2.events[tlbi].probe, 0);
	ish = fake_s2_find((u32)tlbi, FAKE_EV_BARRIER);
	CHECK(ish >= 0);
	CHECK_EQ(fake_s2.events[ish].a, STAGE2_DSB_ISH);
	CHECK_EQ(fake_s2.events[ish].probe, 0);
	CHECK_EQ(vm_ring_pushed(), ARRAY_SIZE(written));

	/* Written again: hardware marks them again, still no fault. */
	CHECK_EQ(write_page(0, written[0]), WRITE_DONE);
	CHECK_EQ(env.vcpu[0].faults, 1);
	CHECK_EQ(env.marks[written[0]], 2);
	CHECK_EQ(reset_all(BIG_CHUNK), ARRAY_SIZE(written));
	CHECK_EQ(harvest_all(BIG_CHUNK), 1);
	CHECK_EQ(count_in_got(1, written[0]), 1);
}

UNIT_TEST(dbm_group_found_clean_is_disarmed)
{
	CHECK_EQ(setup(one_slot, 1, 1, true), 0);
	CHECK_EQ(enable(DIRTY_MODE_DBM), 0);
	CHECK_EQ(write_page(0, 3), WRITE_DONE);
	CHECK_EQ(harvest_all(BIG_CHUNK), 1);     /* cleaned, stays armed */
	CHECK_EQ(reset_all(BIG_CHUNK), 1);
	CHECK(page_is(3, ARMED_PROT, 3));
	CHECK_EQ(harvest_all(BIG_CHUNK), 0);     /* found clean: disarmed */
	for (u64 p = 0; p < GROUP; p++)
		CHECK(page_is(p, RO_PROT, 3));
	CHECK_EQ(stats().dbm_groups_disarmed, 1);
	/* A write faults and arms it again. */
	CHECK_EQ(write_page(0, 9), WRITE_DONE);
	CHECK_EQ(env.vcpu[0].faults, 2);
	CHECK_EQ(stats().dbm_arm_faults, 2);
	CHECK(page_is(3, ARMED_PROT, 3) && page_is(9, DIRTY_PROT, 3));
}

UNIT_TEST(dbm_scan_cost_follows_armed_groups_not_memory)
{
	static const u64 pages[] = { 0, 100 * GROUP + 3, MAX_PAGES - 1 };

	CHECK_EQ(setup(big_slot, 1, 1, true), 0);
	CHECK_EQ(enable(DIRTY_MODE_DBM), 0);
	for (u32 i = 0; i < ARRAY_SIZE(pages); i++)
		CHECK_EQ(write_page(0, pages[i]), WRITE_DONE);
	CHECK_EQ(dirty_log_harvest(&env.log, got, BIG_CHUNK, &(bool){ false }), 3);
	CHECK_EQ(stats().dbm_scans, 1);
	CHECK_EQ(stats().dbm_pages_scanned, 3 * GROUP);
	CHECK_EQ(dirty_log_harvest(&env.log, got, BIG_CHUNK, &(bool){ false }), 0);
	CHECK_EQ(stats().dbm_pages_scanned, 6 * GROUP);
	/* All three disarmed: a scan of nothing costs nothing. */
	CHECK_EQ(dirty_log_harvest(&env.log, got, BIG_CHUNK, &(bool){ false }), 0);
	CHECK_EQ(stats().dbm_scans, 3);
	CHECK_EQ(stats().dbm_pages_scanned, 6 * GROUP);
}

/* Armed groups are whole 64 KiB runs of one table: a slot whose base or
 * size is not made of them cannot be logged (in any mode). */
UNIT_TEST(enable_refuses_a_slot_not_made_of_whole_64k_groups)
{
	static const struct memslot ragged[] = {
		{ .ipa = SLOT_IPA, .size = 4 * MiB, .id = 0 },
		{ .ipa = SLOT_IPA + 8 * MiB, .size = (GROUP + GROUP / 2) * PAGE_SIZE,
		  .id = 1 },
	};

	CHECK_EQ(setup(ragged, 2, 1, true), 0);
	CHECK_EQ(enable(DIRTY_MODE_WP), -EINVAL);
	CHECK_EQ(enable(DIRTY_MODE_DBM), -EINVAL);
	CHECK_EQ(env.log.mode, DIRTY_MODE_OFF);
	CHECK(page_is(0, RW_PROT, 2) && page_is(1024, RW_PROT, 3));
	CHECK_EQ(write_page(0, 1024), WRITE_DONE);
	CHECK_EQ(env.vcpu[0].faults, 0);
}

UNIT_TEST(auto_mode_picks_dbm_with_hafdbs_and_wp_without)
{
	CHECK_EQ(setup(one_slot, 1, 1, true), 0);
	CHECK_EQ(enable(DIRTY_MODE_AUTO), 0);
	CHECK_EQ(stats().mode, DIRTY_MODE_DBM);
	CHECK_EQ(env.log.mode, DIRTY_MODE_DBM);
	CHECK_EQ(disable(), 0);

	CHECK_EQ(setup(one_slot, 1, 1, false), 0);
	CHECK_EQ(enable(DIRTY_MODE_AUTO), 0);
	CHECK_EQ(stats().mode, DIRTY_MODE_WP);
	CHECK_EQ(env.log.mode, DIRTY_MODE_WP);
	CHECK_EQ(write_page(0, 0), WRITE_DONE);
	CHECK_EQ(ring_pushed(&env.vcpu[0].ring), 1);
}

UNIT_TEST(dbm_without_hafdbs_is_eopnotsupp_and_changes_nothing)
{
	CHECK_EQ(setup(one_slot, 1, 1, false), 0);
	CHECK_EQ(enable(DIRTY_MODE_DBM), -EOPNOTSUPP);
	CHECK_EQ(enable(DIRTY_MODE_OFF), -EINVAL);
	CHECK_EQ(env.log.mode, DIRTY_MODE_OFF);
	CHECK(page_is(0, RW_PROT, 2));
}

/*
 * Logging stops while pages the guest dirtied through DBM have not been
 * scanned yet. Their dirty state is still recorded (into the VM ring)
 * as the descriptors are made plainly writable, so a final harvest after
 * the stop misses nothing.
 */
UNIT_TEST(dbm_disable_records_pages_dirtied_since_the_last_scan)
{
	CHECK_EQ(setup(one_slot, 1, 1, true), 0);
	CHECK_EQ(enable(DIRTY_MODE_DBM), 0);
	CHECK_EQ(write_page(0, 2), WRITE_DONE);
	CHECK_EQ(write_page(0, 40), WRITE_DONE);
	CHECK_EQ(disable(), 0);
	CHECK(page_is(2, RW_PROT, 2));
	CHECK_EQ(harvest_all(BIG_CHUNK), 2);
	CHECK_EQ(count_in_got(2, 2), 1);
	CHECK_EQ(count_in_got(2, 40), 1);
}

/* ============================================= randomized model (rule) */

/* One simulated vCPU of the interleaving: a write that met a full ring
 * is retried once the ring has room. */
struct sim_vcpu {
	bool waiting;
	u64 g, value;
};

struct sim {
	u64 seed;
	struct sim_vcpu v[MAX_VCPUS];
	/* The hypervisor's write in two steps: the bytes, later the log. */
	bool hyp_pending;
	u64 hyp_g, hyp_n;
	bool harvesting;     /* consumer: harvest phase, else reset phase */
	bool mapped;         /* the model manager consumes the rings */
	const char *error;
};

static u64 rnd(u64 *s)
{
	/* xorshift64 */
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void sim_fail(struct sim *s, const char *what)
{
	if (!s->error)
		s->error = what;
}

/* Hot pages (the first three groups), any page, or a read-only one. */
static u64 sim_page(struct sim *s)
{
	u64 r = rnd(&s->seed) % 100;

	if (r < 50)
		return rnd(&s->seed) % (3 * GROUP);
	if (r < 95)
		return rnd(&s->seed) % RO_FIRST;
	return RO_FIRST + rnd(&s->seed) % (env.npages - RO_FIRST);
}

static void sim_write(struct sim *s, u32 vi)
{
	struct sim_vcpu *v = &s->v[vi];
	enum write_result r;

	if (v->waiting) {
		if (dirty_ring_soft_full(&env.vcpu[vi].ring))
			return;
		v->waiting = false;
	} else {
		v->g = sim_page(s);
		v->value = new_value();
	}
	r = vcpu_try_write(vi, v->g, v->value);
	if (r == WRITE_RING_FULL)
		v->waiting = true;
	else if (r == WRITE_STUCK)
		sim_fail(s, "a vCPU write faults again and again");
	else if ((r == WRITE_REFUSED) != (v->g >= RO_FIRST))
		sim_fail(s, "a write refused on a logged page, or allowed on a read-only one");
}

static void sim_hyp_write(struct sim *s)
{
	if (s->hyp_pending) {
		dirty_log_hyp_write(&env.log, page_ipa(s->hyp_g) + PAGE_SIZE / 2,
				    (s->hyp_n - 1) * PAGE_SIZE + 1);
		s->hyp_pending = false;
		return;
	}
	s->hyp_g = rnd(&s->seed) % (RO_FIRST - 2);
	s->hyp_n = 1 + rnd(&s->seed) % 2;
	if (s->hyp_g < SHORT_FIRST && s->hyp_g + s->hyp_n > SHORT_FIRST)
		s->hyp_n = 1;   /* pages of one slot, contiguous in IPA */
	for (u64 i = 0; i < s->hyp_n; i++)
		__atomic_store_n(&env.mem[s->hyp_g + i], new_value(), __ATOMIC_RELAXED);
	s->hyp_pending = true;
}

static void sim_consumer(struct sim *s)
{
	u32 chunk = 1 + rnd(&s->seed) % 40;
	const char *inv = log_invariant();

	if (strcmp(inv, "ok") != 0)
		sim_fail(s, inv);
	if (s->harvesting) {
		bool more;
		u32 n = harvest_into(0, chunk, &more);

		if (s->mapped) {
			u32 m = client_collect(n, chunk);

			more |= m == chunk;
			n += m;
		}
		round_note(got, n);
		s->harvesting = more;
	} else if (!dirty_log_reset(&env.log, chunk)) {
		/* The hypervisor's window between its bytes and its log
		 * entry is short: it never spans a consumer's read. */
		if (s->hyp_pending)
			sim_hyp_write(s);
		round_read();
		s->harvesting = true;
	}
}

/*
 * Three vCPUs write random pages (hot and cold, some read-only), read
 * pages (which leaves stale TLB entries, hence spurious faults), and the
 * hypervisor writes pages too, all interleaved step by step with a
 * consumer that harvests and resets in random chunks. At every consumer
 * step the invariant of DESIGN §7 is checked on the tables, TLBs and
 * rings; after every round the dirty_log_test rule; at the end, the
 * exact log.
 */
static const char *sim_run(bool dbm, u64 seed, u32 steps, bool mapped)
{
	struct sim s = { .seed = seed, .harvesting = true, .mapped = mapped };

	if (setup(three_slots, 3, MAX_VCPUS, dbm) ||
	    enable(dbm ? DIRTY_MODE_DBM : DIRTY_MODE_WP))
		return "setup";
	if (mapped)
		map_rings();
	chk_start();
	for (u32 step = 0; step < steps && !s.error && !chk.error; step++) {
		u64 r = rnd(&s.seed) % 100;

		if (r < 60)
			sim_write(&s, (u32)(rnd(&s.seed) % MAX_VCPUS));
		else if (r < 68)
			cpu_read((u32)(rnd(&s.seed) % MAX_VCPUS), sim_page(&s));
		else if (r < 73)
			sim_hyp_write(&s);
		else
			sim_consumer(&s);
	}
	if (s.hyp_pending)
		sim_hyp_write(&s);
	/* Finish the consumer's round, then the vCPUs' waiting writes. */
	while (!s.harvesting && !s.error)
		sim_consumer(&s);
	for (u32 vi = 0; vi < MAX_VCPUS; vi++)
		if (s.v[vi].waiting)
			sim_fail(&s, "a ring filled up in the simulation");
	final_rounds(BIG_CHUNK);
	if (s.error)
		return s.error;
	if (chk.error)
		return chk_verdict();
	if (chk.rounds < 100 || stats().overflow_pages)
		return "the simulation did not run as planned";
	return "ok";
}

UNIT_TEST(random_writes_and_rounds_never_lose_a_page_wp)
{
	CHECK_STREQ(sim_run(false, 0x9e3779b97f4a7c15ULL, 40000, false), "ok");
	CHECK(stats().spurious_faults > 0 && stats().wp_faults > 0);
}

UNIT_TEST(random_writes_and_rounds_never_lose_a_page_dbm)
{
	CHECK_STREQ(sim_run(true, 0x2545f4914f6cdd1dULL, 40000, false), "ok");
	CHECK(stats().dbm_groups_disarmed > 0 && stats().dbm_pages_dirty > 0);
}

/* The same with the rings mapped into the model manager: it reads them
 * itself, and the harvest hands over only the overflow bitmap. */
UNIT_TEST(random_writes_and_rounds_never_lose_a_page_mapped_rings_wp)
{
	CHECK_STREQ(sim_run(false, 0x9e3779b97f4a7c15ULL, 40000, true), "ok");
	CHECK(stats().wp_faults > 0 && stats().reset > 0);
	CHECK_EQ(stats().harvested, 0);   /* no overflow: every entry was the manager's */
}

UNIT_TEST(random_writes_and_rounds_never_lose_a_page_mapped_rings_dbm)
{
	CHECK_STREQ(sim_run(true, 0x2545f4914f6cdd1dULL, 40000, true), "ok");
	CHECK(stats().dbm_groups_disarmed > 0 && stats().dbm_pages_dirty > 0);
	CHECK_EQ(stats().harvested, 0);
}

/* ====================================================== hypervisor writes */

UNIT_TEST(hyp_write_logs_every_page_of_the_range_into_the_vm_ring)
{
	u32 n;

	CHECK_EQ(setup(three_slots, 3, 1, false), 0);
	CHECK_EQ(enable(DIRTY_MODE_WP), 0);
	/* Pages 1, 2 and 3 of slot 0, partly; page 6 exactly. */
	dirty_log_hyp_write(&env.log, SLOT_IPA + 0x1800, 0x2000);
	dirty_log_hyp_write(&env.log, page_ipa(6), PAGE_SIZE);
	/* Nothing: an empty range, the read-only slot, a hole. */
	dirty_log_hyp_write(&env.log, SLOT_IPA + 0x9000, 0);
	dirty_log_hyp_write(&env.log, page_ipa(RO_FIRST), 2 * PAGE_SIZE);
	dirty_log_hyp_write(&env.log, SLOT_IPA + 6 * MiB, PAGE_SIZE);
	/* The last page of slot 3 and the hole after it. */
	dirty_log_hyp_write(&env.log, page_ipa(RO_FIRST - 1), 3 * PAGE_SIZE);
	CHECK_EQ(ring_pushed(&env.log.vm_ring), 5);
	CHECK_EQ(ring_pushed(&env.vcpu[0].ring), 0);
	n = harvest_all(BIG_CHUNK);
	CHECK_EQ(n, 5);
	CHECK(got_distinct(n));
	for (u64 g = 1; g <= 3; g++)
		CHECK_EQ(count_in_got(n, g), 1);
	CHECK_EQ(count_in_got(n, 6), 1);
	CHECK_EQ(count_in_got(n, RO_FIRST - 1), 1);
	/* The hypervisor's writes do not make pages writable. */
	CHECK(page_is(2, RO_PROT, 3));
	CHECK_EQ(reset_all(BIG_CHUNK), 5);
	CHECK_EQ(harvest_all(BIG_CHUNK), 0);
}

UNIT_TEST(hyp_write_while_not_logging_logs_nothing)
{
	CHECK_EQ(setup(one_slot, 1, 1, false), 0);
	dirty_log_hyp_write(&env.log, SLOT_IPA, 4 * PAGE_SIZE);
	CHECK_EQ(enable(DIRTY_MODE_WP), 0);
	CHECK_EQ(disable(), 0);
	dirty_log_hyp_write(&env.log, SLOT_IPA, 4 * PAGE_SIZE);
	CHECK_EQ(ring_pushed(&env.log.vm_ring), 0);
	CHECK_EQ(harvest_all(BIG_CHUNK), 0);
}

UNIT_TEST(hyp_write_beyond_the_vm_ring_overflows_and_next_reset_reprotects_it)
{
	const u32 pages = DIRTY_RING_ENTRIES + 904;
	u32 n;

	CHECK_EQ(setup(big_slot, 1, 1, false), 0);
	CHECK_EQ(enable(DIRTY_MODE_WP), 0);
	dirty_log_hyp_write(&env.log, SLOT_IPA, (u64)pages * PAGE_SIZE);
	CHECK_EQ(ring_pushed(&env.log.vm_ring), DIRTY_RING_ENTRIES);
	CHECK_EQ(stats().overflow_pages, 904);
	CHECK_EQ(stats().pages_logged, DIRTY_RING_ENTRIES);
	/* Small harvests, so that overflow bits that do not fit go back. */
	n = harvest_all(100);
	CHECK_EQ(n, pages);
	CHECK(got_distinct(n));
	CHECK_EQ(count_in_got(n, pages - 1), 1);
	/* The guest writes one page that went to the overflow bitmap and
	 * one that went to the ring, after the harvest: the next reset
	 * write-protects both again. */
	CHECK_EQ(write_page(0, pages - 1), WRITE_DONE);
	CHECK_EQ(write_page(0, 10), WRITE_DONE);
	CHECK(page_is(pages - 1, RW_PROT, 3) && page_is(10, RW_PROT, 3));
	CHECK_EQ(reset_all(BIG_CHUNK), pages);
	CHECK(page_is(pages - 1, RO_PROT, 3) && page_is(10, RO_PROT, 3));
	/* Left: the two vCPU entries of those writes. */
	CHECK_EQ(harvest_all(BIG_CHUNK), 2);
	CHECK_EQ(stats().harvested, pages + 2);
}

/* A reset takes at most its @max entries, ring entries first, then
 * overflowed pages; what is left waits for the next one. */
UNIT_TEST(reset_of_ring_and_overflow_takes_at_most_its_max)
{
	const u32 pages = DIRTY_RING_ENTRIES + 904;

	CHECK_EQ(setup(big_slot, 1, 1, false), 0);
	CHECK_EQ(enable(DIRTY_MODE_WP), 0);
	dirty_log_hyp_write(&env.log, SLOT_IPA, (u64)pages * PAGE_SIZE);
	CHECK_EQ(stats().overflow_pages, 904);
	CHECK_EQ(harvest_all(BIG_CHUNK), pages);
	/* The guest writes the last page (overflowed) after the harvest. */
	CHECK_EQ(write_page(0, pages - 1), WRITE_DONE);
	CHECK_EQ(dirty_log_reset(&env.log, 4000), 4000);
	CHECK_EQ(dirty_log_reset(&env.log, 500), 500);       /* 96 ring, 404 overflow */
	CHECK(page_is(pages - 1, RW_PROT, 3));                /* not yet */
	CHECK_EQ(dirty_log_reset(&env.log, 1), 1);
	CHECK_EQ(dirty_log_reset(&env.log, DIRTY_RESET_MAX), 499);
	CHECK(page_is(pages - 1, RO_PROT, 3));
	CHECK_EQ(dirty_log_reset(&env.log, DIRTY_RESET_MAX), 0);
	CHECK_EQ(stats().reset, pages);
	CHECK_EQ(harvest_all(BIG_CHUNK), 1);                  /* the guest's write */
}

UNIT_TEST(fault_beyond_a_full_vcpu_ring_overflows_and_reset_reprotects_it)
{
	const u32 pages = DIRTY_RING_ENTRIES + 104;
	const u32 soft = DIRTY_RING_ENTRIES - DIRTY_RING_RESERVE;
	u64 vmid_before;
	u32 n;

	CHECK_EQ(setup(big_slot, 1, 1, false), 0);
	CHECK_EQ(enable(DIRTY_MODE_WP), 0);
	/* A vCPU that does not wait at the soft limit (the run loop would):
	 * every fault from the soft limit on answers RING_FULL, and those
	 * past the end go to the overflow bitmap. */
	for (u64 g = 0; g < pages; g++)
		CHECK_EQ(write_page(0, g), WRITE_DONE);
	CHECK_EQ(env.vcpu[0].ring_full, pages - soft + 1);
	CHECK_EQ(ring_pushed(&env.vcpu[0].ring), DIRTY_RING_ENTRIES);
	CHECK_EQ(stats().overflow_pages, 104);
	CHECK(page_is(pages - 1, RW_PROT, 3));
	n = harvest_all(1000);
	CHECK_EQ(n, pages);
	CHECK(got_distinct(n));
	vmid_before = fake_s2.tlbi_vmid;
	CHECK_EQ(reset_all(BIG_CHUNK), pages);
	for (u64 g = 0; g < pages; g++)
		CHECK(page_is(g, RO_PROT, 3));
	/* Hundreds of pages: whole-VMID invalidations, not one per page. */
	CHECK(fake_s2.tlbi_vmid > vmid_before);
	CHECK_EQ(env.wakes[0], 1);
	CHECK(!dirty_ring_soft_full(&env.vcpu[0].ring));
	CHECK_EQ(harvest_all(BIG_CHUNK), 0);
}

/* ========================================================= mapped rings */

UNIT_TEST(mapped_rings_are_the_managers_the_harvest_takes_only_the_overflow)
{
	const u32 pages = DIRTY_RING_ENTRIES + 10;
	bool more;
	u32 n;

	CHECK_EQ(setup(big_slot, 1, 1, false), 0);
	CHECK_EQ(enable(DIRTY_MODE_WP), 0);
	map_rings();
	CHECK_EQ(dirty_log_nr_rings(&env.log), 2);
	CHECK_EQ(client.cursor[0], 0);
	CHECK_EQ(client.cursor[1], 0);
	CHECK_EQ(write_page(0, 5), WRITE_DONE);
	/* The VM ring fills up; 10 pages go to the overflow bitmap. */
	dirty_log_hyp_write(&env.log, SLOT_IPA, (u64)pages * PAGE_SIZE);
	n = harvest_into(0, BIG_CHUNK, &more);
	CHECK_EQ(n, 10);
	CHECK(!more);
	for (u32 i = 0; i < n; i++)
		CHECK_EQ(got[i].offset, DIRTY_RING_ENTRIES + i);
	/* The rings are untouched: their entries are the manager's. */
	CHECK_EQ(env.vcpu[0].ring.gfns[0].flags, DIRTY_GFN_F_DIRTY);
	CHECK_EQ(env.vcpu[0].ring.fetch_index, 0);
	CHECK_EQ(env.log.vm_ring.fetch_index, 0);
	n = client_collect(0, BIG_CHUNK);
	CHECK_EQ(n, 1 + DIRTY_RING_ENTRIES);
	CHECK_EQ(got[0].offset, 5);
	/* One reset frees what the manager consumed and re-protects what
	 * the harvest took from the bitmap. */
	CHECK(page_is(5, RW_PROT, 3));
	CHECK_EQ(reset_all(BIG_CHUNK), 1 + DIRTY_RING_ENTRIES + 10);
	CHECK(page_is(5, RO_PROT, 3));
	CHECK_EQ(stats().harvested, 10);
	CHECK_EQ(harvest_all(BIG_CHUNK), 0);
}

UNIT_TEST(mapped_rings_get_the_dbm_scans_pages_in_the_vm_ring)
{
	bool more;
	u32 n;

	CHECK_EQ(setup(one_slot, 1, 1, true), 0);
	CHECK_EQ(enable(DIRTY_MODE_DBM), 0);
	map_rings();
	CHECK_EQ(write_page(0, GROUP + 1), WRITE_DONE);
	CHECK_EQ(write_page(0, GROUP + 4), WRITE_DONE);
	CHECK_EQ(harvest_into(0, BIG_CHUNK, &more), 0);
	CHECK(!more);
	CHECK_EQ(ring_pushed(&env.log.vm_ring), 2);
	n = client_collect(0, BIG_CHUNK);
	CHECK_EQ(n, 2);
	CHECK_EQ(count_in_got(n, GROUP + 1), 1);
	CHECK_EQ(count_in_got(n, GROUP + 4), 1);
	CHECK_EQ(reset_all(BIG_CHUNK), 2);
	CHECK(page_is(GROUP + 1, ARMED_PROT, 3) && page_is(GROUP + 4, ARMED_PROT, 3));
}

/*
 * The manager starts where the hypervisor's harvest stopped; when the
 * rings come back, entries it consumed wait for the next reset, and
 * every entry is handed over exactly once in all.
 */
UNIT_TEST(mapped_rings_start_at_the_hypervisors_cursor_and_come_back_whole)
{
	bool more;

	CHECK_EQ(setup(one_slot, 1, 1, false), 0);
	CHECK_EQ(enable(DIRTY_MODE_WP), 0);
	for (u64 g = 0; g < 6; g++)
		CHECK_EQ(write_page(0, g), WRITE_DONE);
	CHECK_EQ(harvest_into(0, 2, &more), 2);
	map_rings();
	CHECK_EQ(client.cursor[0], 2);
	CHECK_EQ(client.cursor[1], 0);
	CHECK_EQ(client_collect(0, 2), 2);
	CHECK_EQ(got[0].offset, 2);
	CHECK_EQ(got[1].offset, 3);
	dirty_log_set_rings_mapped(&env.log, false, NULL);
	client.on = false;
	CHECK_EQ(harvest_all(BIG_CHUNK), 0);   /* entry 2 is RESET: wait */
	CHECK_EQ(reset_all(BIG_CHUNK), 4);
	CHECK_EQ(harvest_all(BIG_CHUNK), 2);
	CHECK_EQ(got[0].offset, 4);
	CHECK_EQ(got[1].offset, 5);
	CHECK_EQ(reset_all(BIG_CHUNK), 2);
	CHECK_EQ(harvest_all(BIG_CHUNK), 0);
	for (u64 g = 0; g < 6; g++)
		CHECK(page_is(g, RO_PROT, 3));
}

/* Mostly the flag values that mean something, sometimes anything. */
static u32 garbage_flags(u64 *seed)
{
	u64 r = rnd(seed);

	return r % 8 < 6 ? (u32)(r % 4) : (u32)(r >> 32);
}

/* Mostly slot ids 0..7 (logged, read-only, absent), sometimes any. */
static u32 garbage_slot(u64 *seed)
{
	u64 r = rnd(seed);

	return r % 4 ? (u32)(r % 8) : (u32)(r >> 32);
}

/* Every entry of every ring overwritten, as a manager may. */
static void scribble_rings(u64 seed)
{
	for (u32 i = 0; i < dirty_log_nr_rings(&env.log); i++) {
		struct dirty_ring *r = ring_no(i);

		for (u32 k = 0; k < r->size; k++) {
			r->gfns[k].flags = garbage_flags(&seed);
			r->gfns[k].slot = garbage_slot(&seed);
			r->gfns[k].offset = rnd(&seed) % 3 ? rnd(&seed) % 2048 : rnd(&seed);
		}
	}
}

/*
 * A manager writes garbage over all of the mapped rings (flags, slots,
 * offsets; before and after the producer's index). The hypervisor
 * neither crashes nor touches memory outside the logged slots, and
 * still records every later write: in an entry it pushed, or, where the
 * garbage left no free entry, in the overflow bitmap that the harvest
 * hands over. Only the manager's own view of the rings suffers.
 */
UNIT_TEST(garbage_a_manager_writes_into_mapped_rings_harms_only_its_own_view)
{
	static u8 written[MAX_PAGES], reported[MAX_PAGES];
	u32 d0[MAX_VCPUS + 1], n;
	bool more;

	CHECK_EQ(setup(three_slots, 3, 2, false), 0);
	CHECK_EQ(enable(DIRTY_MODE_WP), 0);
	for (u64 g = 0; g < 10; g++)
		CHECK_EQ(write_page(0, g), WRITE_DONE);
	map_rings();
	scribble_rings(0x853c49e6748fea9bULL);
	for (u32 i = 0; i < dirty_log_nr_rings(&env.log); i++)
		d0[i] = ring_pushed(ring_no(i));
	memset(written, 0, sizeof(written));
	memset(reported, 0, sizeof(reported));
	for (u64 g = 100; g < 300; g++) {
		CHECK_EQ(write_page((u32)(g % 2), g), WRITE_DONE);
		written[g] = 1;
	}
	dirty_log_hyp_write(&env.log, page_ipa(SHORT_FIRST), 8 * PAGE_SIZE);
	for (u64 g = SHORT_FIRST; g < SHORT_FIRST + 8; g++)
		written[g] = 1;

	n = harvest_into(0, BIG_CHUNK, &more);
	CHECK(!more);
	for (u32 i = 0; i < n; i++)
		if (page_of(got[i].slot, got[i].offset) >= 0)
			reported[page_of(got[i].slot, got[i].offset)] = 1;
	for (u32 i = 0; i < dirty_log_nr_rings(&env.log); i++) {
		const struct dirty_ring *r = ring_no(i);

		for (u32 k = d0[i]; k != ring_pushed(r); k++) {
			const struct dirty_gfn *e = &r->gfns[k & (r->size - 1)];

			CHECK_EQ(e->flags, DIRTY_GFN_F_DIRTY);
			CHECK(page_of(e->slot, e->offset) >= 0);
			reported[page_of(e->slot, e->offset)] = 1;
		}
	}
	for (u64 g = 0; g < env.npages; g++)
		CHECK(!written[g] || reported[g]);
	CHECK(stats().overflow_pages > 0);   /* the garbage blocked pushes */

	reset_all(BIG_CHUNK);
	/* The read-only slot, the hole between slots and every logged page
	 * are as logging left them: nothing else was touched. */
	CHECK(page_is(RO_FIRST, RO_PROT, 2));
	CHECK_EQ(stage2_translate(&env.s2, SLOT_IPA + 6 * MiB, NULL, NULL, NULL),
		 -ENOENT);
	for (u64 g = 0; g < RO_FIRST; g++)
		CHECK(page_is(g, RO_PROT, 3) || page_is(g, RW_PROT, 3));

	/* Taken back, the hypervisor's own consumer copes as well ... */
	dirty_log_set_rings_mapped(&env.log, false, NULL);
	client.on = false;
	harvest_all(BIG_CHUNK);
	reset_all(BIG_CHUNK);
	CHECK_EQ(disable(), 0);
	CHECK(page_is(0, RW_PROT, 2));
	/* ... and logging again records a write, in a ring or the bitmap. */
	CHECK_EQ(enable(DIRTY_MODE_WP), 0);
	CHECK_EQ(write_page(0, 50), WRITE_DONE);
	n = harvest_all(BIG_CHUNK);
	CHECK(count_in_got(n, 50) >= 1);
}

/* ================================================================ stats */

UNIT_TEST(stats_count_what_happened)
{
	struct dirty_stats s;

	CHECK_EQ(setup(one_slot, 1, 2, true), 0);
	CHECK_EQ(enable(DIRTY_MODE_WP), 0);
	cpu_read(1, 1);                       /* vCPU 1 caches page 1 read-only */
	CHECK_EQ(write_page(0, 0), WRITE_DONE);
	CHECK_EQ(write_page(0, 0), WRITE_DONE);
	CHECK_EQ(write_page(0, 2), WRITE_DONE);
	CHECK_EQ(write_page(0, 1), WRITE_DONE);
	CHECK_EQ(write_page(1, 1), WRITE_DONE);   /* stale entry: spurious */
	CHECK_EQ(env.vcpu[1].faults, 1);
	dirty_log_hyp_write(&env.log, page_ipa(3), 2 * PAGE_SIZE);
	CHECK_EQ(harvest_all(BIG_CHUNK), 5);
	CHECK_EQ(reset_all(BIG_CHUNK), 5);
	s = stats();
	CHECK_EQ(s.mode, DIRTY_MODE_WP);
	CHECK_EQ(s.wp_faults, 4);
	CHECK_EQ(s.spurious_faults, 1);
	CHECK_EQ(s.pages_logged, 5);
	CHECK_EQ(s.harvested, 5);
	CHECK_EQ(s.reset, 5);
	CHECK_EQ(s.overflow_pages + s.ring_full_waits + s.dbm_arm_faults +
		 s.dbm_scans + s.dbm_pages_scanned + s.dbm_pages_dirty +
		 s.dbm_groups_disarmed, 0);

	/* Enabling again starts from zero. */
	CHECK_EQ(disable(), 0);
	CHECK_EQ(enable(DIRTY_MODE_DBM), 0);
	s = stats();
	CHECK_EQ(s.mode, DIRTY_MODE_DBM);
	CHECK_EQ(s.wp_faults + s.pages_logged + s.harvested + s.reset, 0);
	cpu_read(1, 5);                       /* before group 0 is armed */
	CHECK_EQ(write_page(0, 0), WRITE_DONE);   /* arms group 0 */
	CHECK_EQ(write_page(0, 1), WRITE_DONE);
	CHECK_EQ(write_page(0, 2 * GROUP), WRITE_DONE);   /* arms group 2 */
	CHECK_EQ(write_page(1, 5), WRITE_DONE);   /* stale entry: spurious */
	CHECK_EQ(dirty_log_harvest(&env.log, got, BIG_CHUNK, &(bool){ false }), 4);
	CHECK_EQ(dirty_log_harvest(&env.log, got, BIG_CHUNK, &(bool){ false }), 0);
	s = stats();
	CHECK_EQ(s.dbm_arm_faults, 2);
	CHECK_EQ(s.spurious_faults, 1);
	CHECK_EQ(s.wp_faults, 0);
	CHECK_EQ(s.dbm_scans, 2);
	CHECK_EQ(s.dbm_pages_scanned, 4 * GROUP);
	CHECK_EQ(s.dbm_pages_dirty, 4);
	CHECK_EQ(s.dbm_groups_disarmed, 2);
	CHECK_EQ(s.pages_logged, 4);
	CHECK_EQ(s.harvested, 4);
	CHECK_EQ(reset_all(BIG_CHUNK), 4);
	CHECK_EQ(stats().reset, 4);
}

/* ================================================== seed races, one each */

/* ---- seed 003: a plain read-modify-write loses a hardware dirty mark */

/* Set by the test: on the first descriptor store to @after, the model
 * hardware marks page @victim dirty. */
static struct {
	u64 after_pa;
	u64 victim;
	bool fired;
} inject;

static void inject_mark(const struct fake_event *e)
{
	model_tlbi(e);
	if (e->kind == FAKE_EV_WRITE && e->a == inject.after_pa && !inject.fired) {
		inject.fired = true;
		hw_dirty_update(inject.victim);
	}
}

/* Group 0 armed and clean, as a scan left it: the next scan disarms. */
static int armed_clean_group(void)
{
	if (setup(one_slot, 1, 1, true) || enable(DIRTY_MODE_DBM) ||
	    write_page(0, 0) != WRITE_DONE ||
	    harvest_all(BIG_CHUNK) != 1 || reset_all(BIG_CHUNK) != 1)
		return -1;
	return 0;
}

/*
 * Seed 003 (KVM's lock overview: a plain read-modify-write of a
 * descriptor racing the hardware's dirty update loses it), replayed
 * against the engine, deterministically: the scan has read page 1 clean
 * and decided to disarm the group; after it disarms page 0, and before
 * page 1, the hardware marks page 1 dirty. The disarm of page 1 is an
 * atomic update whose replaced value shows the mark: page 1 is logged.
 */
UNIT_TEST(seed003_disarm_records_a_mark_landing_after_its_clean_check)
{
	CHECK_EQ(armed_clean_group(), 0);
	inject.after_pa = fake_s2_pa(env.leaf[0]);
	inject.victim = 1;
	inject.fired = false;
	fake_s2.on_event = inject_mark;
	CHECK_EQ(harvest_all(BIG_CHUNK), 1);
	fake_s2.on_event = model_tlbi;
	CHECK(inject.fired);
	CHECK_EQ(env.marks[1], 1);
	CHECK_EQ(got[0].offset, 1);
	CHECK(page_is(1, RO_PROT, 3));
	CHECK_EQ(stats().dbm_groups_disarmed, 1);
}

/*
 * The contrast, written here and not in production code: the same
 * interleaving against a disarm done as a plain read-modify-write (read
 * the descriptor, compute, store). The hardware's mark lands between
 * the read and the store; the store puts back a clean, read-only
 * descriptor and the value it was computed from says "clean": the write
 * to page 1 is in no log, ever.
 */
UNIT_TEST(seed003_plain_rmw_loses_a_mark_under_the_same_interleaving)
{
	u64 *pte, seen;

	CHECK_EQ(armed_clean_group(), 0);
	pte = env.leaf[1];
	seen = stage2_pte_read(pte);                 /* the scan's read */
	CHECK_EQ(seen & (S2_DBM | S2AP_W), S2_DBM);
	CHECK_EQ(hw_dirty_update(1) & S2AP_W, S2AP_W);   /* the mark */
	__atomic_store_n(pte, seen & ~(S2_DBM | S2AP_W), __ATOMIC_RELAXED);
	CHECK_EQ(env.marks[1], 1);
	CHECK_EQ(seen & S2AP_W, 0);                  /* nothing to record */
	CHECK_EQ(stage2_pte_read(pte) & (S2_DBM | S2AP_W), 0);   /* mark gone */
}

/* ---- seed 004: memslot generation (the slot flag gates the fault path) */

/*
 * Seed 004 is covered by test_memslot; here, what the engine takes from
 * it: once dirty_log_disable() has cleared a slot's LOG_DIRTY flag (the
 * memslot update waits for every fault that could still see it set), a
 * fault there logs nothing. Entries from before stay for a harvest, and
 * their reset leaves the pages writable.
 */
UNIT_TEST(seed004_fault_after_disable_is_not_logged)
{
	struct dirty_stats before;

	CHECK_EQ(setup(one_slot, 1, 1, false), 0);
	CHECK_EQ(enable(DIRTY_MODE_WP), 0);
	CHECK_EQ(write_page(0, 3), WRITE_DONE);
	CHECK_EQ(disable(), 0);
	CHECK(!slot_logged(4));
	before = stats();
	CHECK(dirty_log_write_fault(&env.log, &env.vcpu[0].ring, page_ipa(4)) !=
	      DIRTY_FAULT_RING_FULL);
	CHECK_EQ(ring_pushed(&env.vcpu[0].ring), 1);
	CHECK_EQ(stats().wp_faults, before.wp_faults);
	CHECK_EQ(stats().pages_logged, before.pages_logged);
	CHECK_EQ(harvest_all(BIG_CHUNK), 1);
	CHECK_EQ(got[0].offset, 3);
	CHECK_EQ(reset_all(BIG_CHUNK), 1);
	CHECK(page_is(3, RW_PROT, 2));
}

/* ---------------------------------------------------- threaded helpers */

#define DEADLINE_SECONDS 20
/* Consumer rounds while the writers of a race test run. */
#ifndef RACE_ROUNDS
#define RACE_ROUNDS 2000
#endif
/* Writes a writer makes at least between two of those rounds, unless
 * it says otherwise. */
#define RACE_WRITES_PER_ROUND 64
#define WRITER_YIELD_EVERY 16

static double now_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Spins until @cond(@arg) holds. A deadline stands in for "forever": a
 * thread that never gets there is stuck, and the run stops. */
static void await_cond(bool (*cond)(const void *arg), const void *arg,
		       const char *what)
{
	double end = now_seconds() + DEADLINE_SECONDS;

	while (!cond(arg)) {
		if (now_seconds() > end) {
			printf("  FAIL: stuck waiting for %s\n", what);
			abort();
		}
		sched_yield();
	}
}

static bool flag_set(const void *flag)
{
	return __atomic_load_n((const bool *)flag, __ATOMIC_ACQUIRE);
}

/* Set to end the writers that run until told (writes == 0). */
static bool writers_stop;

/* A writer thread: vCPU @vi writes pages [@lo, @lo + @span) in order
 * (@seed 0) or at random (@seed: the generator's state), @writes times,
 * or until writers_stop if @writes is 0. */
struct writer {
	pthread_t thread;
	u32 vi;
	u64 lo, span;
	u32 writes;
	u64 seed;
	enum ring_policy policy;
	u32 progress;         /* writes done (atomic, release) */
	bool done;            /* (atomic, release) */
	enum write_result failed;
	u32 per_round;        /* writes awaited per round (0: the default) */
	u32 seen;             /* progress when the consumer last looked */
};

static bool writer_goes_on(const struct writer *w, u32 i)
{
	return w->writes ? i < w->writes
			 : !__atomic_load_n(&writers_stop, __ATOMIC_ACQUIRE);
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;

	for (u32 i = 0; writer_goes_on(w, i); i++) {
		u64 g = w->lo + (w->seed ? rnd(&w->seed) : i) % w->span;
		enum write_result r = vcpu_write(w->vi, g, new_value(), w->policy);

		if (r != WRITE_DONE) {
			w->failed = r;
			break;
		}
		__atomic_store_n(&w->progress, i + 1, __ATOMIC_RELEASE);
		/* Leave the CPU to the consumer now and then: with more
		 * threads than CPUs it would otherwise wait a whole time
		 * slice for each lock a writer held. */
		if (i % WRITER_YIELD_EVERY == 0)
			sched_yield();
	}
	__atomic_store_n(&w->done, true, __ATOMIC_RELEASE);
	return NULL;
}

static int start_writer(struct writer *w)
{
	return pthread_create(&w->thread, NULL, writer_main, w);
}

static bool all_done(const struct writer *w, u32 n)
{
	for (u32 i = 0; i < n; i++)
		if (!__atomic_load_n(&w[i].done, __ATOMIC_ACQUIRE))
			return false;
	return true;
}

/* Writer @w has made @target writes in all, or ended. */
struct writer_goal {
	const struct writer *w;
	u32 target;
};

static bool writer_reached(const void *arg)
{
	const struct writer_goal *goal = arg;

	return __atomic_load_n(&goal->w->progress, __ATOMIC_ACQUIRE) >= goal->target ||
	       __atomic_load_n(&goal->w->done, __ATOMIC_ACQUIRE);
}

/* Until writer @w made @n more writes since the last call for it. */
static void await_progress(struct writer *w, u32 n)
{
	struct writer_goal goal = { w, w->seen + n };

	await_cond(writer_reached, &goal, "a writer to make progress");
	w->seen = __atomic_load_n(&w->progress, __ATOMIC_ACQUIRE);
}

/*
 * Writers (until told to stop) race a consumer that harvests, resets
 * (re-protecting) and reads, @rounds times, each time after
 * @before_round (if any); then the writers stop. Returns the writes
 * made.
 */
static u64 race_rounds(struct writer *w, u32 n, u32 rounds, u32 chunk,
			void (*before_round)(void))
{
	u64 writes = 0;

	chk_start();
	__atomic_store_n(&writers_stop, false, __ATOMIC_RELEASE);
	for (u32 i = 0; i < n; i++)
		if (start_writer(&w[i]))
			abort();
	for (u32 r = 0; r < rounds; r++) {
		/* However the threads are scheduled, every round meets new
		 * writes from each writer. */
		for (u32 i = 0; i < n; i++)
			await_progress(&w[i], w[i].per_round ? w[i].per_round
							      : RACE_WRITES_PER_ROUND);
		if (before_round)
			before_round();
		consumer_round(chunk);
	}
	__atomic_store_n(&writers_stop, true, __ATOMIC_RELEASE);
	for (u32 i = 0; i < n; i++) {
		pthread_join(w[i].thread, NULL);
		writes += w[i].progress;
	}
	return writes;
}

/* ---- seed 001: write protection vs the dirty log's order */

/*
 * Seed 001 (KVM: "all pages are either dirty in the current bitmap, or
 * write-protected"): a consumer re-protects pages while a vCPU thread
 * faults on them and writes them, over a small hot set so that the
 * reset of a page and a fault on it meet often. A write that lands after
 * the page was harvested, re-protected and freed, without a new fault,
 * would show as a change in no log: one such write fails the test. (One
 * writer: with more threads than CPUs, a preempted ticket-lock waiter
 * stalls everyone for a time slice; two vCPUs on one page have their own
 * test below.)
 */
TEST(seed001_reprotect_racing_faults_and_writes_loses_no_write)
{
	struct writer w[1] = {
		{ .vi = 0, .lo = 0, .span = 24, .seed = 11, .policy = RING_WAIT,
		  .per_round = 8 },
	};
	u64 writes;

	CHECK_EQ(setup(small_slot, 1, 1, false), 0);
	CHECK_EQ(enable(DIRTY_MODE_WP), 0);
	writes = race_rounds(w, 1, RACE_ROUNDS, 7, NULL);
	final_rounds(7);
	CHECK_EQ(w[0].failed, WRITE_DONE);
	CHECK_STREQ(chk_verdict(), "ok");
	/* The race ran: pages were written and logged (how often they
	 * were logged again depends on the scheduler). */
	CHECK(writes >= (u64)RACE_ROUNDS * ARRAY_SIZE(w) * w[0].per_round);
	CHECK(chk.entries > 0);
	CHECK_EQ(stats().harvested, chk.entries);
	CHECK_EQ(stats().reset, chk.entries);
	CHECK_EQ(stats().pages_logged, chk.entries);
}

/* ---- seed 003, threaded: every hardware mark is reported */

/* Hardware that writes where the software just wrote: told of every
 * descriptor store, it writes the next page a moment later. */
static struct {
	pthread_t thread;
	u64 seq;          /* descriptor stores so far (atomic, release) */
	u64 pa;           /* the last one's entry (atomic) */
	u64 handled;      /* the last seq it reacted to (atomic, release) */
	bool exited;      /* (atomic, release) */
	u64 pages;        /* pages it may write: [0, pages) */
	u64 seed;
	u64 writes;
	bool stop;
	enum write_result failed;
} hw;

#define HW_DELAY 64   /* spread of its reaction time, in spins */

static void hw_watch(const struct fake_event *e)
{
	model_tlbi(e);
	if (e->kind != FAKE_EV_WRITE)
		return;
	__atomic_store_n(&hw.pa, e->a, __ATOMIC_RELAXED);
	/* Release: pairs with the acquire in hw_main(), @pa first. */
	__atomic_fetch_add(&hw.seq, 1, __ATOMIC_RELEASE);
}

/* The model page whose leaf is at @pa, or -1. */
static long page_of_leaf(u64 pa)
{
	for (u64 g = 0; g < hw.pages; g++)
		if (fake_s2_pa(env.leaf[g]) == pa)
			return (long)g;
	return -1;
}

static void *hw_main(void *arg)
{
	u64 last = 0, idle = 0;

	while (!__atomic_load_n(&hw.stop, __ATOMIC_ACQUIRE)) {
		u64 seq = __atomic_load_n(&hw.seq, __ATOMIC_ACQUIRE);
		long g;

		if (seq == last) {
			if (++idle % 1024 == 0)
				sched_yield();
			continue;
		}
		last = seq;
		g = page_of_leaf(__atomic_load_n(&hw.pa, __ATOMIC_RELAXED));
		__atomic_store_n(&hw.handled, seq, __ATOMIC_RELEASE);
		if (g < 0 || (u64)g + 1 >= hw.pages)
			continue;
		for (u64 k = rnd(&hw.seed) % HW_DELAY; k; k--)
			__atomic_signal_fence(__ATOMIC_SEQ_CST);
		hw.failed = vcpu_write(1, (u64)g + 1, new_value(), RING_WAIT);
		if (hw.failed != WRITE_DONE)
			break;
		hw.writes++;
	}
	__atomic_store_n(&hw.exited, true, __ATOMIC_RELEASE);
	return NULL;
}

static bool hw_reached(const void *target)
{
	return __atomic_load_n(&hw.handled, __ATOMIC_ACQUIRE) >= *(const u64 *)target ||
	       __atomic_load_n(&hw.exited, __ATOMIC_ACQUIRE);
}

/* However the threads are scheduled, the hardware thread has reacted to
 * the stores so far before the next round (and scan) starts. */
static void hw_catch_up(void)
{
	u64 target = __atomic_load_n(&hw.seq, __ATOMIC_ACQUIRE);

	await_cond(hw_reached, &target, "the hardware thread to react");
}

/*
 * Seed 003 with threads: a writer arms a few groups per round, so that
 * scans find groups clean and disarm them, and a "hardware" thread
 * writes the page after each descriptor the software just changed:
 * right where a disarm or a clean is about to read and update next.
 * Every clean -> dirty transition the hardware made is reported exactly
 * once: marks equal reports, page by page, and no change is lost.
 */
TEST(seed003_hardware_dirty_marks_during_scan_and_reset_are_all_reported)
{
	struct writer w = { .vi = 0, .lo = 0, .span = 16 * GROUP, .seed = 5,
			    .policy = RING_WAIT, .per_round = 4 };
	u64 marks = 0, writes;

	CHECK_EQ(setup(one_slot, 1, 2, true), 0);
	CHECK_EQ(enable(DIRTY_MODE_DBM), 0);
	hw = (typeof(hw)){ .pages = 16 * GROUP, .seed = 99 };
	fake_s2.on_event = hw_watch;
	CHECK_EQ(pthread_create(&hw.thread, NULL, hw_main, NULL), 0);
	writes = race_rounds(&w, 1, RACE_ROUNDS, 16, hw_catch_up);
	__atomic_store_n(&hw.stop, true, __ATOMIC_RELEASE);
	pthread_join(hw.thread, NULL);
	final_rounds(16);
	CHECK_EQ(w.failed, WRITE_DONE);
	CHECK_EQ(hw.failed, WRITE_DONE);
	CHECK_STREQ(chk_verdict(), "ok");
	for (u64 g = 0; g < env.npages; g++) {
		CHECK_EQ(env.marks[g], chk.reports[g]);
		marks += env.marks[g];
	}
	CHECK(writes >= (u64)RACE_ROUNDS * w.per_round);
	/* The race was exercised at all (how often depends on the
	 * scheduler: only "some" is certain). */
	CHECK(hw.writes > 0);
	CHECK(stats().dbm_groups_disarmed > 0);
	CHECK_EQ(stats().pages_logged, chk.entries);
}

/* ---- mapped rings, threaded: the manager is the consumer */

/*
 * Seed 001's race with the rings mapped into the model manager: it reads
 * the ring memory itself while the vCPU pushes into it, marks entries
 * RESET, and the hypervisor's reset re-protects and frees them. No
 * write is lost, and the harvest never takes a ring entry.
 */
static const char *mapped_race(bool dbm)
{
	struct writer w[1] = {
		{ .vi = 0, .lo = 0, .span = dbm ? 2 * GROUP : 24, .seed = 13,
		  .policy = RING_WAIT, .per_round = 8 },
	};
	u64 writes;

	if (setup(small_slot, 1, 1, dbm) || enable(dbm ? DIRTY_MODE_DBM : DIRTY_MODE_WP))
		return "setup";
	map_rings();
	writes = race_rounds(w, 1, RACE_ROUNDS, 7, NULL);
	final_rounds(7);
	if (w[0].failed != WRITE_DONE)
		return "a write failed";
	if (chk.error)
		return chk_verdict();
	if (writes < (u64)RACE_ROUNDS * w[0].per_round || !chk.entries)
		return "the race did not run";
	if (stats().harvested || stats().reset != chk.entries ||
	    stats().pages_logged != chk.entries)
		return "entries were not all the manager's, or not all reset";
	return "ok";
}

TEST(mapped_rings_consumer_racing_faults_and_writes_loses_no_write_wp)
{
	CHECK_STREQ(mapped_race(false), "ok");
}

TEST(mapped_rings_consumer_racing_dbm_writes_and_scans_loses_no_write)
{
	CHECK_STREQ(mapped_race(true), "ok");
}

/* ---- seed 000: the waitqueue deadlock */

/*
 * Seed 000 (KVM's dirty ring waitqueue deadlock: a vCPU waited for room
 * in a full ring with the MMU lock held, while the reset that makes room
 * needs that lock). vCPU 0 faults on 4300 pages without waiting (as if
 * the soft limit were ignored): its faults hold stage2.lock while they
 * meet a soft-full, then a full ring; each one returns (RING_FULL, the
 * page in the overflow bitmap), none waits, and no consumer has run yet.
 * vCPU 1 waits at its soft limit as the run loop does, with no lock
 * held. Only then does the resetter start, racing vCPU 0's last faults
 * and vCPU 1's: it makes progress, vCPU 1 is woken and finishes, and
 * every page written is in the log, the overflowed ones included.
 */
TEST(seed000_full_ring_faults_return_without_waiting_and_reset_progresses)
{
	/* vCPU 0: its ring's worth of pages and 204 more; vCPU 1: more
	 * pages than its soft limit. */
	enum { N0 = DIRTY_RING_ENTRIES + 204, N1 = DIRTY_RING_ENTRIES + 604 };
	struct writer w[2] = {
		{ .vi = 0, .lo = 0, .span = N0, .writes = N0, .policy = RING_IGNORE },
		{ .vi = 1, .lo = N0, .span = N1, .writes = N1, .policy = RING_WAIT },
	};
	const u32 overfull = DIRTY_RING_ENTRIES + 100;

	CHECK_EQ(setup(big_slot, 1, 2, false), 0);
	CHECK_EQ(enable(DIRTY_MODE_WP), 0);
	chk_start();
	for (u32 i = 0; i < 2; i++)
		CHECK_EQ(start_writer(&w[i]), 0);
	/* No consumer yet: vCPU 0 must get past the end of its ring alone. */
	await_cond(writer_reached, &(struct writer_goal){ &w[0], overfull },
		   "faults on a full ring to return");
	await_cond(flag_set, &env.vcpu[1].waiting, "vCPU 1 to reach its soft limit");
	while (!all_done(w, 2))
		consumer_round(BIG_CHUNK);
	for (u32 i = 0; i < 2; i++)
		pthread_join(w[i].thread, NULL);
	final_rounds(BIG_CHUNK);
	CHECK_EQ(w[0].failed, WRITE_DONE);
	CHECK_EQ(w[1].failed, WRITE_DONE);
	CHECK_STREQ(chk_verdict(), "ok");
	for (u64 g = 0; g < N0 + N1; g++)
		CHECK(chk.reports[g] >= 1);
	CHECK(stats().overflow_pages >= overfull - DIRTY_RING_ENTRIES);
	CHECK(env.vcpu[0].ring_full > DIRTY_RING_RESERVE);
	CHECK(env.vcpu[1].waits >= 1);
	CHECK(env.wakes[1] >= 1);
}

/* ---- seed 000: mark, then treat as clean */

struct same_page {
	pthread_barrier_t start, done;
	u64 g;
	u32 rounds;
	bool dbm;
	const char *error[2];
};

/* Is model page @g in some vCPU ring (an entry not yet freed)? Safe
 * while other vCPUs push: entries are read only once published. */
static bool in_vcpu_rings(u64 g)
{
	for (u32 vi = 0; vi < env.nvcpus; vi++) {
		const struct dirty_ring *ring = &env.vcpu[vi].ring;
		u32 end = READ_ONCE(ring->dirty_index);

		for (u32 i = __atomic_load_n(&ring->reset_index, __ATOMIC_ACQUIRE);
		     i != end; i++) {
			const struct dirty_gfn *e = &ring->gfns[i & (ring->size - 1)];

			if (__atomic_load_n(&e->flags, __ATOMIC_ACQUIRE) &&
			    page_of(e->slot, e->offset) == (long)g)
				return true;
		}
	}
	return false;
}

static struct same_page same;

static void *same_page_vcpu(void *arg)
{
	u32 vi = (u32)(uintptr_t)arg;

	running = (int)vi;
	for (u32 r = 0; r < same.rounds; r++) {
		enum dirty_fault f;

		pthread_barrier_wait(&same.start);
		f = dirty_log_write_fault(&env.log, &env.vcpu[vi].ring,
					  page_ipa(same.g));
		if (f != DIRTY_FAULT_HANDLED && !same.error[vi])
			same.error[vi] = "the fault was not handled";
		/* Whichever of the two returns, and however: the page is
		 * logged (wp: a ring entry) or armed (dbm) already. */
		if (same.dbm ? !(leaf_val(same.g) & S2_DBM) : !in_vcpu_rings(same.g))
			if (!same.error[vi])
				same.error[vi] = "a fault returned before its page was in the log";
		pthread_barrier_wait(&same.done);
	}
	return NULL;
}

static const char *two_vcpus_one_page(bool dbm, u32 rounds)
{
	pthread_t t[2];
	const char *err = NULL;

	if (setup(one_slot, 1, 2, dbm) ||
	    enable(dbm ? DIRTY_MODE_DBM : DIRTY_MODE_WP))
		return "setup";
	same = (struct same_page){ .g = GROUP + 3, .rounds = rounds, .dbm = dbm };
	pthread_barrier_init(&same.start, NULL, 3);
	pthread_barrier_init(&same.done, NULL, 3);
	for (uintptr_t vi = 0; vi < 2; vi++)
		pthread_create(&t[vi], NULL, same_page_vcpu, (void *)vi);
	for (u32 r = 0; r < rounds; r++) {
		u32 n;

		pthread_barrier_wait(&same.start);
		pthread_barrier_wait(&same.done);
		/* wp: one entry, whoever pushed it; dbm: none (no write),
		 * and the scan disarms the group for the next round. */
		n = harvest_all(BIG_CHUNK);
		if (!err && n != (dbm ? 0 : 1))
			err = "not exactly one entry for the page";
		if (!err && !dbm && count_in_got(n, same.g) != 1)
			err = "the entry names another page";
		reset_all(BIG_CHUNK);
		if (!err && !page_is(same.g, RO_PROT, 3))
			err = "the page is not write-protected after the round";
	}
	for (u32 vi = 0; vi < 2; vi++)
		pthread_join(t[vi], NULL);
	pthread_barrier_destroy(&same.start);
	pthread_barrier_destroy(&same.done);
	return err ? err : same.error[0] ? same.error[0] : same.error[1] ? same.error[1] : "ok";
}

/*
 * Seed 000's second race (vCPU 1 marks the page dirty and writes, vCPU
 * 2 sees the mark and treats the page as logged, but the entry is added
 * only later): two vCPUs fault on one page at once. The one that finds
 * it writable already returns only after the other's entry is in its
 * ring, because the entry is published before W, both under
 * stage2.lock: checked as each fault returns.
 */
TEST(seed000_two_vcpus_faulting_on_one_page_both_return_with_it_logged)
{
	CHECK_STREQ(two_vcpus_one_page(false, 2000), "ok");
	CHECK_EQ(stats().wp_faults, 2 * 2000);
	CHECK_EQ(stats().spurious_faults, 2000);
	CHECK_EQ(stats().pages_logged, 2000);
}

TEST(seed000_two_vcpus_faulting_on_one_page_dbm_both_return_with_it_armed)
{
	CHECK_STREQ(two_vcpus_one_page(true, 2000), "ok");
	CHECK_EQ(stats().dbm_arm_faults, 2000);
	CHECK_EQ(stats().spurious_faults, 2000);
	CHECK_EQ(stats().dbm_groups_disarmed, 2000);
}

/* ---- seed 004, threaded: faults racing the disable */

struct disable_race {
	bool disabled;    /* set once dirty_log_disable() returned */
	bool stop;
	u32 after;        /* faults taken after that */
};

static struct disable_race drace;

static void *fault_loop(void *arg)
{
	running = 0;
	for (u64 i = 0; !__atomic_load_n(&drace.stop, __ATOMIC_ACQUIRE); i++) {
		bool disabled = __atomic_load_n(&drace.disabled, __ATOMIC_ACQUIRE);

		dirty_log_write_fault(&env.log, &env.vcpu[0].ring, page_ipa(i % 64));
		if (disabled)
			__atomic_fetch_add(&drace.after, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/*
 * A vCPU faults again and again (on 64 pages, logged once each, then
 * spurious) while logging is disabled: every fault that started after
 * dirty_log_disable() returned logs nothing and counts nothing.
 */
TEST(seed004_faults_racing_disable_log_nothing_once_it_returns)
{
	struct dirty_stats s;
	u32 pushed;
	pthread_t t;

	CHECK_EQ(setup(one_slot, 1, 1, false), 0);
	CHECK_EQ(enable(DIRTY_MODE_WP), 0);
	drace = (struct disable_race){ 0 };
	CHECK_EQ(pthread_create(&t, NULL, fault_loop, NULL), 0);
	while (ring_pushed(&env.vcpu[0].ring) < 64)
		sched_yield();
	CHECK_EQ(dirty_log_disable(&env.log), 0);
	s = stats();
	pushed = ring_pushed(&env.vcpu[0].ring);
	__atomic_store_n(&drace.disabled, true, __ATOMIC_RELEASE);
	while (__atomic_load_n(&drace.after, __ATOMIC_RELAXED) < 1000)
		sched_yield();
	__atomic_store_n(&drace.stop, true, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	CHECK_EQ(pushed, 64);
	CHECK_EQ(ring_pushed(&env.vcpu[0].ring), pushed);
	CHECK_EQ(stats().wp_faults, s.wp_faults);
	CHECK_EQ(stats().spurious_faults, s.spurious_faults);
	CHECK(s.spurious_faults > 0);
}
