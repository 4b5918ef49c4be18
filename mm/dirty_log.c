/*
 * The dirty-tracking engine (mm/dirty_log.h; design and proofs in
 * docs/dirty-tracking.md): enabling and disabling logging, the write
 * fault path, hypervisor writes, the DBM armed set and its scan, harvest
 * and reset. Locks: control_lock → memslots.update_lock, and
 * control_lock → stage2.lock → vm_ring_lock / page_pool.lock
 * (docs/locking.md).
 */
#include "mm/dirty_log.h"

#include "lib/compiler.h"
#include "lib/errno.h"
#include "lib/string.h"

/* Up to this many pages re-protected by one reset pass get one TLBI
 * each; more get one TLBI for the whole VMID. */
#define RESET_TLBI_PAGES 16
/* Entries a reset takes from a ring at once: 1 KiB of stack. */
#define RESET_BATCH 64
/* DBM pages found dirty by a scan, held until their TLBI is done. */
#define SCAN_BATCH 64

#define BITS_PER_WORD 64
/* IPA mapped by one level-3 table. */
#define TABLE_SPAN (PAGE_SIZE * PT_ENTRIES)

/*
 * Per logged slot. One page-pool allocation holds the struct and the
 * arrays after it; @pages and the group count fix their sizes.
 */
struct dirty_slot_state {
	u32 id;
	u64 ipa;
	u64 pages;
	paddr_t mem;                 /* the allocation */
	u64 mem_pages;
	/* Pages no ring could take: set atomically by any producer, taken
	 * by the harvest with an atomic exchange per word. */
	u64 *overflow;
	/* Pages the harvest took from @overflow; the next reset re-protects
	 * them. Under control_lock. */
	u64 *overflow_taken;
	/* The DBM armed set: a bitmap of groups and the list of them, so
	 * that a scan costs what is armed, not the slot. Under stage2.lock. */
	u64 *armed;
	u32 *armed_list;
	u32 nr_armed;
};

static u64 words_for(u64 bits)
{
	return (bits + BITS_PER_WORD - 1) / BITS_PER_WORD;
}

static u64 groups_of(u64 pages)
{
	return pages / DIRTY_DBM_GROUP_PAGES;   /* slots are whole groups */
}

/* Counters are written from several CPUs at once and read racily. */
static void stat_add(u64 *counter, u64 n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

/*
 * A counter whose every writer holds the same lock (stage2.lock for the
 * fault path's and the scan's, vm_ring_lock for vm_pages_logged,
 * control_lock for the consumer's): a relaxed load and store, no
 * read-modify-write; dirty_log_get_stats() still reads it racily.
 */
static void stat_add_locked(u64 *counter, u64 n)
{
	__atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + n,
			 __ATOMIC_RELAXED);
}

static void *pool_va(const struct dirty_log *log, paddr_t pa)
{
	return log->s2->ops->phys_to_virt(pa);
}

static void *alloc_zeroed(struct dirty_log *log, u64 bytes, paddr_t *pa,
			  u64 *npages)
{
	u64 n = (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
	void *va;

	if (page_alloc(log->pool, n, 1, pa))
		return NULL;
	va = pool_va(log, *pa);
	memset(va, 0, n * PAGE_SIZE);
	*npages = n;
	return va;
}

/* ------------------------------------------------------------ setup */

_Static_assert(DIRTY_RING_BYTES % PAGE_SIZE == 0,
	      "a ring mapped into a guest shares no page with other data");

static int ring_alloc(struct dirty_log *log, struct dirty_ring *ring)
{
	paddr_t pa;
	u64 npages;
	struct dirty_gfn *gfns = alloc_zeroed(log, DIRTY_RING_BYTES, &pa, &npages);

	if (!gfns)
		return -ENOMEM;
	return dirty_ring_init(ring, gfns, DIRTY_RING_ENTRIES, DIRTY_RING_RESERVE);
}

int dirty_log_init(struct dirty_log *log, struct stage2 *s2,
		   struct memslots *slots, struct page_pool *pool,
		   bool cpu_has_dbm)
{
	memset(log, 0, sizeof(*log));
	log->s2 = s2;
	log->slots = slots;
	log->pool = pool;
	log->cpu_has_dbm = cpu_has_dbm;
	log->mode = DIRTY_MODE_OFF;
	return ring_alloc(log, &log->vm_ring);
}

int dirty_log_add_vcpu_ring(struct dirty_log *log, struct dirty_ring *ring)
{
	int ret;

	if (log->nr_vcpu_rings == DIRTY_LOG_MAX_VCPUS)
		return -ENOSPC;
	ret = ring_alloc(log, ring);
	if (!ret)
		log->vcpu_rings[log->nr_vcpu_rings++] = ring;
	return ret;
}

static struct dirty_slot_state *slot_state(const struct dirty_log *log, u32 id)
{
	return id < MEMSLOT_MAX ? log->slot_state[id] : NULL;
}

static void slot_state_free(struct dirty_log *log, u32 id)
{
	struct dirty_slot_state *st = log->slot_state[id];

	if (st) {
		log->slot_state[id] = NULL;
		page_free(log->pool, st->mem, st->mem_pages);
	}
}

/* State for @slot, reused if an earlier run left one of the same shape
 * (its overflow bits may still await a harvest). */
static int slot_state_get(struct dirty_log *log, const struct memslot *slot)
{
	struct dirty_slot_state *st = slot_state(log, slot->id);
	u64 pages = slot->size / PAGE_SIZE, words = words_for(pages);
	u64 groups = groups_of(pages), gwords = words_for(groups);
	u64 bytes = sizeof(*st) + (2 * words + gwords) * sizeof(u64) +
		    groups * sizeof(u32);
	paddr_t pa;
	u64 npages;
	u8 *p;

	if (st && st->ipa == slot->ipa && st->pages == pages)
		return 0;
	if (slot->id >= MEMSLOT_MAX)
		return -EINVAL;
	slot_state_free(log, slot->id);
	p = alloc_zeroed(log, bytes, &pa, &npages);
	if (!p)
		return -ENOMEM;
	st = (struct dirty_slot_state *)p;
	p += ALIGN_UP(sizeof(*st), sizeof(u64));
	st->id = slot->id;
	st->ipa = slot->ipa;
	st->pages = pages;
	st->mem = pa;
	st->mem_pages = npages;
	st->overflow = (u64 *)p;
	st->overflow_taken = st->overflow + words;
	st->armed = st->overflow_taken + words;
	st->armed_list = (u32 *)(st->armed + gwords);
	log->slot_state[slot->id] = st;
	return 0;
}

/* ------------------------------------------------ recording a page */

static void overflow_mark(struct dirty_log *log, struct dirty_slot_state *st,
			  u64 page)
{
	__atomic_fetch_or(&st->overflow[page / BITS_PER_WORD],
			  1ULL << (page % BITS_PER_WORD), __ATOMIC_RELAXED);
	/* Release: the bit is set before the flag is seen; pairs with the
	 * acquire exchange in overflow_collect(). */
	__atomic_store_n(&log->overflow_pending, 1, __ATOMIC_RELEASE);
	stat_add(&log->stats.overflow_pages, 1);
}

/* A page dirtied outside any vCPU: into the VM's ring, or overflow. */
/* With vm_ring_lock held: into the VM's ring, or the overflow bitmap
 * (lock-free, so it may run under the lock). */
static void push_vm_locked(struct dirty_log *log, struct dirty_slot_state *st,
			   u64 page)
{
	if (dirty_ring_push(&log->vm_ring, st->id, page) == DIRTY_RING_FULL)
		overflow_mark(log, st, page);
	else
		stat_add_locked(&log->vm_pages_logged, 1);
}

static void log_vm_page(struct dirty_log *log, struct dirty_slot_state *st,
			u64 page)
{
	spin_lock(&log->vm_ring_lock);
	push_vm_locked(log, st, page);
	spin_unlock(&log->vm_ring_lock);
}

/* The logged slot holding @ipa, or NULL. */
static const struct memslot *logged_slot(const struct memslot_array *a, u64 ipa)
{
	const struct memslot *slot = memslot_find(a, ipa);

	return slot && (slot->flags & MEMSLOT_LOG_DIRTY) ? slot : NULL;
}

void dirty_log_hyp_write(struct dirty_log *log, u64 ipa, u64 len)
{
	const struct memslot_array *a;
	unsigned int token;

	/* Acquire: pairs with the release in dirty_log_enable(); a write
	 * that sees logging off came before it started. */
	if (!len || __atomic_load_n(&log->mode, __ATOMIC_ACQUIRE) == DIRTY_MODE_OFF)
		return;
	a = memslots_read_begin(log->slots, &token);
	for (u64 p = ALIGN_DOWN(ipa, PAGE_SIZE); p < ipa + len; p += PAGE_SIZE) {
		const struct memslot *slot = logged_slot(a, p);
		struct dirty_slot_state *st = slot ? slot_state(log, slot->id) : NULL;

		if (st)
			log_vm_page(log, st, (p - slot->ipa) / PAGE_SIZE);
	}
	memslots_read_end(log->slots, token);
}

/* ------------------------------------------------------- fault path */

/*
 * wp: log first, then make writable, both under stage2.lock. The lock
 * keeps a reset from re-protecting the page between the two (it would
 * free our entry and then find the page still read-only, and the write
 * that follows would go unrecorded). The push never waits, so holding
 * the lock across it cannot deadlock (seed: the waitqueue deadlock).
 */
static enum dirty_fault wp_fault(struct dirty_log *log, struct dirty_ring *ring,
				 struct dirty_slot_state *st, u64 page, u64 *ptep)
{
	if (stage2_pte_read(ptep) & S2AP_W) {
		/* Another vCPU logged it and made it writable, under this
		 * lock: it is in the log; no reset re-protected it since. */
		stat_add_locked(&log->stats.spurious_faults, 1);
		return DIRTY_FAULT_HANDLED;
	}
	enum dirty_ring_push pushed = dirty_ring_push(ring, st->id, page);

	if (pushed == DIRTY_RING_FULL)
		overflow_mark(log, st, page);
	else
		stat_add_locked(&log->stats.pages_logged, 1);
	stage2_pte_update(log->s2, ptep, 0, S2AP_W);
	/* At the soft limit or beyond: the vCPU waits for room. */
	return pushed == DIRTY_RING_PUSHED ? DIRTY_FAULT_HANDLED : DIRTY_FAULT_RING_FULL;
}

/*
 * dbm: arm the group around the page: every page of it becomes
 * writable-clean (DBM), the faulting one included, and the hardware
 * records the writes from now on; the next scan reports them.
 */
static bool group_armed(const struct dirty_slot_state *st, u64 group)
{
	return st->armed[group / BITS_PER_WORD] & (1ULL << (group % BITS_PER_WORD));
}

/* Puts @group in the armed set and gives its pages DBM (writable-clean).
 * Groups are 64 KiB aligned in a slot whose base and size are too
 * (start_logging()), so a group never crosses a table: its entries are
 * contiguous from @first_pte. */
static void arm_group(struct dirty_log *log, struct dirty_slot_state *st,
		      u64 group, u64 *first_pte)
{
	st->armed[group / BITS_PER_WORD] |= 1ULL << (group % BITS_PER_WORD);
	st->armed_list[st->nr_armed++] = (u32)group;
	for (u64 i = 0; i < DIRTY_DBM_GROUP_PAGES; i++)
		stage2_pte_update(log->s2, first_pte + i, 0, S2_DBM);
}

/*
 * A write fault in dbm mode arms the page's group. A writer that has
 * just filled the group before it (still armed) is taken to be
 * sequential: the next group is armed as well, so such a writer traps
 * once per two groups instead of once per group.
 */
static void dbm_arm(struct dirty_log *log, struct dirty_slot_state *st,
		    u64 page, u64 *ptep)
{
	u64 group = page / DIRTY_DBM_GROUP_PAGES;
	u64 *first_pte = ptep - (page - group * DIRTY_DBM_GROUP_PAGES);
	u64 next = group + 1, *next_pte;

	if (group_armed(st, group)) {
		/* Another vCPU armed it, or this CPU's TLB held the old entry. */
		stat_add_locked(&log->stats.spurious_faults, 1);
		return;
	}
	stat_add_locked(&log->stats.dbm_arm_faults, 1);
	arm_group(log, st, group, first_pte);
	if (!group || !group_armed(st, group - 1) ||
	    next >= groups_of(st->pages) || group_armed(st, next))
		return;
	next_pte = stage2_page_locked(log->s2, st->ipa +
				      next * DIRTY_DBM_GROUP_PAGES * PAGE_SIZE);
	if (next_pte)
		arm_group(log, st, next, next_pte);
}

/* Under stage2.lock: the logged slot state holding @ipa, or NULL. */
static struct dirty_slot_state *logged_state(const struct dirty_log *log,
					     u64 ipa)
{
	for (u32 i = 0; i < log->nr_logged; i++) {
		struct dirty_slot_state *st = log->logged[i];

		if (ipa - st->ipa < st->pages * PAGE_SIZE)
			return st;
	}
	return NULL;
}

/*
 * Not in a logged slot: a writable slot whose logging is being switched
 * on or off (the retried access finds the tables done), or memory the
 * VM may only read, or no memory at all (both NOT_LOGGED).
 */
static enum dirty_fault unlogged_fault(struct dirty_log *log, u64 ipa)
{
	unsigned int token;
	const struct memslot *slot =
		memslot_find(memslots_read_begin(log->slots, &token), ipa);
	bool writable = slot && !(slot->flags & MEMSLOT_READONLY);

	memslots_read_end(log->slots, token);
	return writable ? DIRTY_FAULT_HANDLED : DIRTY_FAULT_NOT_LOGGED;
}

/*
 * The logged slots are looked up under stage2.lock (log->logged), not in
 * a memslot read section: start_logging() and stop_logging() change that
 * list under the same lock, so a handler that finds a slot there
 * finishes before logging of it stops (as the memslot update's drain
 * would guarantee), and one that does not find it takes the slow path.
 */
enum dirty_fault dirty_log_write_fault(struct dirty_log *log,
				       struct dirty_ring *ring, u64 ipa)
{
	enum dirty_fault ret = DIRTY_FAULT_HANDLED;
	struct stage2 *s2 = log->s2;
	struct dirty_slot_state *st;
	u64 *ptep;

	spin_lock(&s2->lock);
	st = logged_state(log, ipa);
	if (!st) {
		spin_unlock(&s2->lock);
		ret = unlogged_fault(log, ipa);
		/* Retried: this CPU may hold the stricter entry. */
		if (ret == DIRTY_FAULT_HANDLED)
			stage2_tlbi_ipa_local(s2, ipa);
		return ret;
	}
	/* Not a page: the tables are being changed (logging starting); the
	 * retried access finds them done. */
	ptep = stage2_page_locked(s2, ipa);
	if (ptep) {
		u64 page = (ipa - st->ipa) / PAGE_SIZE;

		/* Relaxed: the mode was stored before the slot joined
		 * log->logged, under this lock. */
		if (__atomic_load_n(&log->mode, __ATOMIC_RELAXED) == DIRTY_MODE_DBM) {
			dbm_arm(log, st, page, ptep);
		} else {
			stat_add_locked(&log->stats.wp_faults, 1);
			ret = wp_fault(log, ring, st, page, ptep);
		}
	}
	spin_unlock(&s2->lock);
	/* This CPU may hold the stricter entry that faulted. */
	stage2_tlbi_ipa_local(s2, ipa);
	return ret;
}

/* ------------------------------------------------------- DBM scan */

/* Pages the scan found dirty, held until their TLB entries are gone. */
struct scan_batch {
	u32 n;
	struct { u32 slot; u64 page; } e[SCAN_BATCH];
	bool tlbi;       /* a descriptor lost W or DBM since the last flush */
};

/* The scan's changes take effect in every TLB, then what it found is
 * logged: a consumer never sees a page before it is protected again. */
static void scan_flush(struct dirty_log *log, struct scan_batch *b)
{
	struct stage2 *s2 = log->s2;

	if (b->tlbi) {
		s2->ops->barrier(STAGE2_DSB_ISHST);
		s2->ops->tlbi_vmid(s2);
		s2->ops->barrier(STAGE2_DSB_ISH);
		b->tlbi = false;
	}
	spin_lock(&log->vm_ring_lock);
	for (u32 i = 0; i < b->n; i++)
		push_vm_locked(log, slot_state(log, b->e[i].slot), b->e[i].page);
	spin_unlock(&log->vm_ring_lock);
	b->n = 0;
}

static void scan_record(struct dirty_log *log, struct scan_batch *b,
			const struct dirty_slot_state *st, u64 page)
{
	if (b->n == SCAN_BATCH)
		scan_flush(log, b);
	b->e[b->n].slot = st->id;
	b->e[b->n].page = page;
	b->n++;
}

/*
 * One armed group: each dirty page is cleaned (W cleared, DBM kept) and
 * recorded. A group found wholly clean leaves the armed set: its pages
 * lose DBM and are plain write-protected again (a write that raced in
 * is recorded from the value the CAS replaced). Returns true if the
 * group stays armed.
 */
static bool scan_group(struct dirty_log *log, struct dirty_slot_state *st,
		       u64 group, struct scan_batch *b, bool disarm)
{
	const u64 n = DIRTY_DBM_GROUP_PAGES;
	u64 first = group * n;
	u64 *ptep = stage2_page_locked(log->s2, st->ipa + first * PAGE_SIZE);
	u64 dirty = 0;

	if (!ptep)
		return false;   /* cannot happen while logging: tables are pages */
	stat_add_locked(&log->stats.dbm_pages_scanned, n);
	for (u64 i = 0; !disarm && i < n; i++) {
		if ((stage2_pte_read(&ptep[i]) & (S2_DBM | S2AP_W)) != (S2_DBM | S2AP_W))
			continue;
		/* Only hardware sets W here, and never clears it: the value
		 * the CAS replaces is dirty too. */
		stage2_pte_update(log->s2, &ptep[i], S2AP_W, 0);
		scan_record(log, b, st, first + i);
		dirty++;
	}
	if (dirty) {
		b->tlbi = true;
		stat_add_locked(&log->stats.dbm_pages_dirty, dirty);
		return true;
	}
	for (u64 i = 0; i < n; i++)
		if (stage2_pte_update(log->s2, &ptep[i], S2_DBM | S2AP_W, 0) & S2AP_W)
			scan_record(log, b, st, first + i);
	b->tlbi = true;
	stat_add_locked(&log->stats.dbm_groups_disarmed, 1);
	return false;
}

/* Scans (or with @disarm, empties) the armed set of @st. */
static void scan_slot(struct dirty_log *log, struct dirty_slot_state *st,
		      struct scan_batch *b, bool disarm)
{
	spin_lock(&log->s2->lock);
	for (u32 i = 0; i < st->nr_armed;) {
		u32 group = st->armed_list[i];

		if (scan_group(log, st, group, b, disarm)) {
			i++;
			continue;
		}
		st->armed[group / BITS_PER_WORD] &= ~(1ULL << (group % BITS_PER_WORD));
		st->armed_list[i] = st->armed_list[--st->nr_armed];
	}
	scan_flush(log, b);
	spin_unlock(&log->s2->lock);
}

/* A harvest's scan; or, when logging stops (@disarm), every armed
 * group disarmed with its dirty pages recorded. */
static void dbm_scan(struct dirty_log *log, bool disarm)
{
	struct scan_batch batch = { 0 };

	stat_add_locked(&log->stats.dbm_scans, 1);
	for (u32 id = 0; id < MEMSLOT_MAX; id++)
		if (log->slot_state[id])
			scan_slot(log, log->slot_state[id], &batch, disarm);
}

/* ------------------------------------------------- harvest and reset */

/* Moves overflow bits into @out (and into overflow_taken for the next
 * reset); what does not fit goes back. */
static u32 overflow_collect(struct dirty_log *log, struct dirty_gfn *out,
			    u32 max)
{
	u32 n = 0;

	/* Acquire: pairs with the release in overflow_mark(); every bit
	 * set before that flag is visible below. */
	if (!__atomic_exchange_n(&log->overflow_pending, 0, __ATOMIC_ACQUIRE))
		return 0;
	for (u32 id = 0; id < MEMSLOT_MAX; id++) {
		struct dirty_slot_state *st = log->slot_state[id];

		for (u64 w = 0; st && w < words_for(st->pages); w++) {
			u64 bits = __atomic_exchange_n(&st->overflow[w], 0,
						       __ATOMIC_ACQUIRE);

			while (bits && n < max) {
				unsigned int bit = __builtin_ctzll(bits);

				bits &= bits - 1;
				out[n].flags = DIRTY_GFN_F_DIRTY;
				out[n].slot = st->id;
				out[n].offset = w * BITS_PER_WORD + bit;
				st->overflow_taken[w] |= 1ULL << bit;
				log->overflow_taken_any = true;
				n++;
			}
			if (bits) {
				/* No room: back they go, for the next harvest. */
				__atomic_fetch_or(&st->overflow[w], bits, __ATOMIC_RELAXED);
				__atomic_store_n(&log->overflow_pending, 1, __ATOMIC_RELEASE);
				return n;
			}
		}
	}
	return n;
}

/* Every ring's entries into @out (the hypervisor is their consumer). */
static u32 rings_collect(struct dirty_log *log, struct dirty_gfn *out, u32 max)
{
	u32 n = 0;

	for (u32 i = 0; i < log->nr_vcpu_rings; i++)
		n += dirty_ring_collect(log->vcpu_rings[i], out + n, max - n);
	return n + dirty_ring_collect(&log->vm_ring, out + n, max - n);
}

u32 dirty_log_harvest(struct dirty_log *log, struct dirty_gfn *out, u32 max,
		      bool *more)
{
	u32 n = 0;

	spin_lock(&log->control_lock);
	/* One scan per pass: the calls of a pass after the first only
	 * hand over what is left (a group cleaned by this pass's scan
	 * must not look "clean for a round" to a second scan). */
	if (log->mode == DIRTY_MODE_DBM && !log->harvest_pass_open)
		dbm_scan(log, false);
	/* Mapped rings have one consumer, the manager: never a second. */
	if (!log->rings_mapped)
		n = rings_collect(log, out, max);
	n += overflow_collect(log, out + n, max - n);
	stat_add_locked(&log->stats.harvested, n);
	*more = n == max;
	log->harvest_pass_open = *more;
	spin_unlock(&log->control_lock);
	return n;
}

/* Ring @i in dirty_log_nr_rings() order. */
static const struct dirty_ring *ring_at(const struct dirty_log *log, u32 i)
{
	return i < log->nr_vcpu_rings ? log->vcpu_rings[i] : &log->vm_ring;
}

paddr_t dirty_log_ring_pa(const struct dirty_log *log, u32 i)
{
	return log->s2->ops->virt_to_phys(ring_at(log, i)->gfns);
}

void dirty_log_set_rings_mapped(struct dirty_log *log, bool mapped, u32 *start)
{
	spin_lock(&log->control_lock);
	log->rings_mapped = mapped;
	for (u32 i = 0; start && i < dirty_log_nr_rings(log); i++)
		start[i] = ring_at(log, i)->fetch_index;
	spin_unlock(&log->control_lock);
}

/* What one reset pass re-protected, for its TLB invalidation. */
struct reprotect_ctx {
	struct dirty_log *log;
	const struct memslot_array *slots;
	/* The slot of the last entry: its id, first IPA and pages, 0 pages
	 * if it is not (or no longer) logged. */
	u32 slot_id;
	u64 slot_ipa;
	u64 slot_pages;
	/* The last level-3 table walked to, and the 2 MiB of IPA it maps
	 * (NO_TABLE: none): consecutive entries are mostly neighbours.
	 * Valid under stage2.lock while logging is on (tables are not
	 * freed then). */
	u64 table_ipa;
	u64 *table;
	u64 ipas[RESET_TLBI_PAGES];
	u32 downgraded;
};

/* table_ipa of no table: not 2 MiB aligned, so no IPA matches it. */
#define NO_TABLE (~0ULL)
/* slot_id before the first lookup: no slot has it, and an entry naming
 * it (a guest's scribble) finds 0 pages, as for any unknown id. */
#define NO_SLOT (~0U)

/* Looks slot @id up for the entries that follow (the slot changes
 * rarely: out of line). */
static void reprotect_slot(struct reprotect_ctx *c, u32 id)
{
	const struct memslot *slot = memslot_by_id(c->slots, id);

	c->slot_id = id;
	c->slot_pages = 0;
	if (slot && (slot->flags & MEMSLOT_LOG_DIRTY)) {
		c->slot_ipa = slot->ipa;
		c->slot_pages = slot->size / PAGE_SIZE;
	}
}

/* Walks to the table of @ipa; false if a page does not map it. */
static bool reprotect_table(struct reprotect_ctx *c, u64 ipa)
{
	u64 *ptep = stage2_page_locked(c->log->s2, ipa);

	if (!ptep)
		return false;
	c->table = ptep - pt_index(ipa, 3);
	c->table_ipa = ALIGN_DOWN(ipa, TABLE_SPAN);
	return true;
}

/*
 * Write-protects the page of a harvested entry again, unless the entry
 * names no logged page (logging was stopped since, or a guest that maps
 * the ring wrote nonsense into it) or the page is armed for DBM, whose
 * dirty state only the scan cleans (it recorded that state already).
 * Inline: once per entry.
 */
static inline void reprotect(struct reprotect_ctx *c, u32 slot_id, u64 page)
{
	u64 ipa, *ptep;

	if (slot_id != c->slot_id)
		reprotect_slot(c, slot_id);
	if (page >= c->slot_pages)
		return;
	ipa = c->slot_ipa + page * PAGE_SIZE;
	if (ALIGN_DOWN(ipa, TABLE_SPAN) != c->table_ipa && !reprotect_table(c, ipa))
		return;
	ptep = c->table + pt_index(ipa, 3);
	/* DBM set: the scan's to clean; W clear: nothing to take away. */
	if ((stage2_pte_read(ptep) & (S2_DBM | S2AP_W)) != S2AP_W)
		return;
	if (!(stage2_pte_update(c->log->s2, ptep, S2AP_W, 0) & S2AP_W))
		return;
	if (c->downgraded < RESET_TLBI_PAGES)
		c->ipas[c->downgraded] = ipa;
	c->downgraded++;
}

/* The pages re-protected so far count as protected only after this. */
static void reprotect_flush(struct reprotect_ctx *c)
{
	struct stage2 *s2 = c->log->s2;

	if (!c->downgraded)
		return;
	s2->ops->barrier(STAGE2_DSB_ISHST);
	if (c->downgraded > RESET_TLBI_PAGES)
		s2->ops->tlbi_vmid(s2);
	else
		for (u32 i = 0; i < c->downgraded; i++)
			s2->ops->tlbi_ipa(s2, c->ipas[i], 3);
	s2->ops->barrier(STAGE2_DSB_ISH);
	c->downgraded = 0;
}

/* One ring: re-protect (under stage2.lock, so no fault handler is
 * between its push and its write enable), invalidate, then free. */
static u32 reset_ring(struct reprotect_ctx *c, struct dirty_ring *ring, u32 max)
{
	struct dirty_gfn batch[RESET_BATCH];
	u32 n = 0, got;

	spin_lock(&c->log->s2->lock);
	c->table_ipa = NO_TABLE;
	do {
		got = dirty_ring_reset_fetch(ring, n, batch, MIN(max - n, (u32)RESET_BATCH));
		for (u32 i = 0; i < got; i++)
			reprotect(c, batch[i].slot, batch[i].offset);
		n += got;
	} while (got == RESET_BATCH);
	spin_unlock(&c->log->s2->lock);
	reprotect_flush(c);
	dirty_ring_reset_finish(ring, n);
	return n;
}

/* The lowest @max set bits of @bits (all of them if there are fewer). */
static u64 lowest_bits(u64 bits, u32 max)
{
	u64 take = 0;

	for (; bits && max; bits &= bits - 1, max--)
		take |= bits & -bits;
	return take;
}

/* Up to @max pages the last harvests took from the overflow bitmaps; the
 * rest stay taken for the next reset. */
static u32 reset_overflow(struct reprotect_ctx *c, u32 max)
{
	u32 n = 0;

	if (!c->log->overflow_taken_any || !max)
		return 0;
	c->log->overflow_taken_any = false;
	for (u32 id = 0; id < MEMSLOT_MAX; id++) {
		struct dirty_slot_state *st = c->log->slot_state[id];

		for (u64 w = 0; st && w < words_for(st->pages); w++) {
			u64 bits = st->overflow_taken[w], take;

			if (!bits)
				continue;
			if (n == max) {
				c->log->overflow_taken_any = true;   /* the rest: next time */
				return n;
			}
			take = lowest_bits(bits, max - n);
			st->overflow_taken[w] = bits & ~take;
			spin_lock(&c->log->s2->lock);
			c->table_ipa = NO_TABLE;
			for (; take; take &= take - 1, n++)
				reprotect(c, st->id, w * BITS_PER_WORD +
					  __builtin_ctzll(take));
			spin_unlock(&c->log->s2->lock);
			reprotect_flush(c);
		}
	}
	return n;
}

u32 dirty_log_reset(struct dirty_log *log, u32 max)
{
	struct reprotect_ctx c = { .log = log, .slot_id = NO_SLOT };
	unsigned int token;
	u32 total = 0;

	spin_lock(&log->control_lock);
	c.slots = memslots_read_begin(log->slots, &token);
	for (u32 i = 0; i < log->nr_vcpu_rings && total < max; i++) {
		u32 n = reset_ring(&c, log->vcpu_rings[i], max - total);

		total += n;
		if (n && log->wake)
			log->wake(log->wake_arg, i);
	}
	if (total < max)
		total += reset_ring(&c, &log->vm_ring, max - total);
	total += reset_overflow(&c, max - total);
	memslots_read_end(log->slots, token);
	stat_add_locked(&log->stats.reset, total);
	spin_unlock(&log->control_lock);
	return total;
}

/* ------------------------------------------------ enable and disable */

/* The writable slots of the moment (ids), at most MEMSLOT_MAX. */
static u32 writable_slots(struct dirty_log *log, struct memslot *out)
{
	unsigned int token;
	const struct memslot_array *a = memslots_read_begin(log->slots, &token);
	u32 n = 0;

	for (u32 i = 0; i < a->nr; i++)
		if (!(a->slots[i].flags & MEMSLOT_READONLY))
			out[n++] = a->slots[i];
	memslots_read_end(log->slots, token);
	return n;
}

struct flag_edit {
	const struct memslot *slots;
	u32 n;
	u32 set, clear;
};

static int edit_flags(struct memslot_array *next, void *arg)
{
	const struct flag_edit *e = arg;

	for (u32 i = 0; i < e->n; i++) {
		int ret = memslot_array_change_flags(next, e->slots[i].id, e->set,
						     e->clear);
		if (ret)
			return ret;
	}
	return 0;
}

static void set_log_flag(struct dirty_log *log, const struct memslot *slots,
			 u32 n, bool on)
{
	struct flag_edit e = { slots, n, on ? MEMSLOT_LOG_DIRTY : 0,
			       on ? 0 : MEMSLOT_LOG_DIRTY };

	memslots_update(log->slots, edit_flags, &e);
}

/*
 * The fault path's list of logged slots (dirty_log_write_fault()),
 * changed under stage2.lock: filled after the mode is set and before the
 * tables are split, emptied before any armed group is disarmed or page
 * made writable again. States on it are never freed (slot_state_get()
 * replaces only states of slots not logged).
 */
static void set_logged(struct dirty_log *log, const struct memslot *slots,
		       u32 n)
{
	spin_lock(&log->s2->lock);
	for (u32 i = 0; i < n; i++)
		log->logged[i] = slot_state(log, slots[i].id);
	log->nr_logged = n;
	spin_unlock(&log->s2->lock);
}

/* Blocks back wherever a slot covers a whole aligned one. */
static void merge_blocks(struct stage2 *s2, const struct memslot *slot)
{
	for (unsigned int level = 2; level >= 1; level--) {
		u64 size = pt_level_size(level);

		for (u64 ipa = ALIGN_UP(slot->ipa, size);
		     ipa + size <= slot->ipa + slot->size; ipa += size)
			stage2_merge(s2, ipa, level);   /* -EINVAL: keep pages */
	}
}

/*
 * Logging off for @slots: flags first (no new logging fault after the
 * update returns; a write that faults from now on is retried until its
 * page is writable), then every armed group disarmed with its dirty
 * pages recorded (a final harvest still gets them), then writable, then
 * merged.
 */
static void stop_logging(struct dirty_log *log, const struct memslot *slots,
			 u32 n)
{
	set_log_flag(log, slots, n, false);
	set_logged(log, NULL, 0);
	if (log->mode == DIRTY_MODE_DBM)
		dbm_scan(log, true);
	for (u32 i = 0; i < n; i++) {
		stage2_set_prot(log->s2, slots[i].ipa, slots[i].size,
				STAGE2_PROT_R | STAGE2_PROT_W | STAGE2_PROT_X);
		merge_blocks(log->s2, &slots[i]);
	}
	/* Release: pairs with the acquire in dirty_log_hyp_write(). */
	__atomic_store_n(&log->mode, DIRTY_MODE_OFF, __ATOMIC_RELEASE);
}

static int start_logging(struct dirty_log *log, const struct memslot *slots,
			 u32 n, enum dirty_mode mode)
{
	for (u32 i = 0; i < n; i++) {
		int ret = -EINVAL;

		/* Armed groups must not cross a table, nor the slot's end
		 * (dbm_arm()). */
		if (IS_ALIGNED(slots[i].ipa | slots[i].size,
			       DIRTY_DBM_GROUP_PAGES * PAGE_SIZE))
			ret = slot_state_get(log, &slots[i]);
		if (ret)
			return ret;
	}
	memset(&log->stats, 0, sizeof(log->stats));
	log->vm_pages_logged = 0;
	log->stats.mode = mode;
	/* Release: the mode and the slot states are visible to a fault
	 * handler before the LOG_DIRTY flag it acts on (published by the
	 * memslot update below, itself a release). */
	__atomic_store_n(&log->mode, mode, __ATOMIC_RELEASE);
	set_log_flag(log, slots, n, true);
	set_logged(log, slots, n);
	for (u32 i = 0; i < n; i++) {
		int ret = stage2_split_to_pages(log->s2, slots[i].ipa, slots[i].size,
						STAGE2_PROT_R | STAGE2_PROT_X);
		if (ret) {
			stop_logging(log, slots, n);
			return ret;
		}
	}
	return 0;
}

int dirty_log_enable(struct dirty_log *log, enum dirty_mode mode)
{
	struct memslot slots[MEMSLOT_MAX];
	u32 n;
	int ret;

	if (mode == DIRTY_MODE_AUTO)
		mode = log->cpu_has_dbm ? DIRTY_MODE_DBM : DIRTY_MODE_WP;
	if (mode != DIRTY_MODE_WP && mode != DIRTY_MODE_DBM)
		return -EINVAL;
	if (mode == DIRTY_MODE_DBM && !log->cpu_has_dbm)
		return -EOPNOTSUPP;
	spin_lock(&log->control_lock);
	if (log->mode != DIRTY_MODE_OFF) {
		spin_unlock(&log->control_lock);
		return -EBUSY;
	}
	n = writable_slots(log, slots);
	ret = start_logging(log, slots, n, mode);
	spin_unlock(&log->control_lock);
	return ret;
}

int dirty_log_disable(struct dirty_log *log)
{
	struct memslot slots[MEMSLOT_MAX];
	u32 n;

	spin_lock(&log->control_lock);
	if (log->mode == DIRTY_MODE_OFF) {
		spin_unlock(&log->control_lock);
		return -EINVAL;
	}
	n = writable_slots(log, slots);
	stop_logging(log, slots, n);
	spin_unlock(&log->control_lock);
	/* A vCPU waiting for room in its ring goes on without logging. */
	for (u32 i = 0; log->wake && i < log->nr_vcpu_rings; i++)
		log->wake(log->wake_arg, i);
	return 0;
}

void dirty_log_get_stats(struct dirty_log *log, struct dirty_stats *out)
{
	const u64 *src = (const u64 *)&log->stats;
	u64 *dst = (u64 *)out;

	for (size_t i = 0; i < sizeof(*out) / sizeof(u64); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	out->pages_logged += __atomic_load_n(&log->vm_pages_logged, __ATOMIC_RELAXED);
}
