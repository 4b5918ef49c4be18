/*
 * The dirty-tracking engine of one VM (DESIGN §7, docs/dirty-tracking.md):
 * which pages of its logged memslots were written since the last
 * harvest, by write-protect faults ("wp") or by hardware dirty state on
 * an armed set of DBM pages ("dbm"), recorded in per-vCPU rings and one
 * per-VM ring, with an overflow bitmap behind them so nothing is lost.
 *
 * The invariant every harvest relies on: each page of a logged slot is
 * write-protected in stage 2 and in every TLB, or writable-clean under
 * DBM and in the armed set, or present in the log (a ring entry not yet
 * reset, a DBM-dirty descriptor in the armed set, an overflow bit). The
 * only gap is a vCPU inside its own fault handler, which pausing waits out.
 * The rings' consumer may be the hypervisor (dirty_log_harvest()) or,
 * once they are mapped into a manager (dirty_log_set_rings_mapped()),
 * the manager itself; either way an entry stays in the log until a
 * reset has re-protected its page.
 *
 * Host-testable: stage-2 access goes through struct stage2's ops.
 */
#ifndef MM_DIRTY_LOG_H
#define MM_DIRTY_LOG_H

#include "lib/spinlock.h"
#include "lib/types.h"
#include "mm/dirty_ring.h"
#include "mm/memslot.h"
#include "mm/stage2.h"

enum dirty_mode {
	DIRTY_MODE_OFF,
	DIRTY_MODE_WP,     /* write protection: one fault per page per round */
	DIRTY_MODE_DBM,    /* FEAT_HAFDBS dirty state on an armed set */
	DIRTY_MODE_AUTO,   /* DBM where the CPU has it, else WP (request only) */
};

/* Counters since logging was last enabled (all u64, read racily). */
struct dirty_stats {
	u64 mode;               /* enum dirty_mode in effect */
	u64 pages_logged;       /* entries pushed into any ring */
	u64 wp_faults;          /* write faults on logged pages */
	u64 spurious_faults;    /* ... that found the page already writable */
	u64 dbm_arm_faults;     /* faults that armed a DBM group */
	u64 dbm_scans;          /* harvest scans of the armed set */
	u64 dbm_pages_scanned;  /* armed pages looked at by those scans */
	u64 dbm_pages_dirty;    /* dirty pages they found (traps avoided) */
	u64 dbm_groups_disarmed;
	u64 ring_full_waits;    /* vCPU entries into the ring-full wait */
	u64 overflow_pages;     /* pages that went to the overflow bitmap */
	u64 harvested;          /* entries handed to a consumer */
	u64 reset;              /* entries re-protected and freed */
};

/* vCPU rings a log can hold (virt/vm.h checks VM_MAX_VCPUS fits). */
#define DIRTY_LOG_MAX_VCPUS 8

/* Pages per DBM armed group: a fault arms the aligned group around it. */
#define DIRTY_DBM_GROUP_PAGES 16

struct dirty_slot_state;   /* per logged slot: overflow bits, armed set */

struct dirty_log {
	struct stage2 *s2;
	struct memslots *slots;
	/* enum dirty_mode in effect; store-release on enable/disable,
	 * load-acquire on the fault path. */
	u32 mode;
	bool cpu_has_dbm;            /* FEAT_HAFDBS with dirty state */
	/* Rings: one per vCPU (its only producer) ... */
	struct dirty_ring *vcpu_rings[DIRTY_LOG_MAX_VCPUS];
	u32 nr_vcpu_rings;
	/* ... and one per VM, for pages dirtied outside a vCPU. */
	struct dirty_ring vm_ring;
	struct spinlock vm_ring_lock;   /* producers of vm_ring */
	/* Entries pushed into vm_ring, under vm_ring_lock (counted apart
	 * from stats.pages_logged, whose writers hold stage2.lock). */
	u64 vm_pages_logged;
	/* Serialises enable, disable, harvest and reset. */
	struct spinlock control_lock;
	/* Under control_lock: the last harvest call left entries behind
	 * (its pass goes on), and a harvest took overflow bits that the
	 * next reset must re-protect. */
	bool harvest_pass_open;
	bool overflow_taken_any;
	/* Under control_lock: the rings are consumed by a manager that maps
	 * them, not by dirty_log_harvest(). */
	bool rings_mapped;
	struct dirty_slot_state *slot_state[MEMSLOT_MAX];
	/* The states of the slots being logged, for the write fault path;
	 * under stage2.lock (set_logged()). */
	struct dirty_slot_state *logged[MEMSLOT_MAX];
	u32 nr_logged;
	struct page_pool *pool;
	/* Set when a page went to an overflow bitmap (store-release after
	 * the bit); a harvest exchanges it for 0 (acquire) before looking. */
	u32 overflow_pending;
	/* Told after a reset freed entries of vCPU ring @ring_index (the
	 * order of dirty_log_add_vcpu_ring() calls), so that a vCPU waiting
	 * for room wakes up. */
	void (*wake)(void *arg, u32 ring_index);
	void *wake_arg;
	struct dirty_stats stats;
};

/* What dirty_log_write_fault() decided. */
enum dirty_fault {
	DIRTY_FAULT_NOT_LOGGED,  /* no logged slot there: not ours */
	DIRTY_FAULT_HANDLED,     /* logged and writable: resume the guest */
	DIRTY_FAULT_RING_FULL,   /* handled, and the vCPU ring hit its soft
				    limit: wait (no lock held) before resuming */
};

/* Ring sizes, in entries (powers of two). */
#define DIRTY_RING_ENTRIES 4096
#define DIRTY_RING_RESERVE 64
/* Entries one dirty_log_reset() call handles at most. */
#define DIRTY_RESET_MAX 4096
/* Bytes of one ring's entries: whole pages, so that a ring mapped into
 * a guest shares its pages with nothing else. */
#define DIRTY_RING_BYTES (DIRTY_RING_ENTRIES * sizeof(struct dirty_gfn))

/*
 * Sets up @log for a VM whose tables are @s2 and memory @slots; the ring
 * memory comes from @pool. Returns 0 or -ENOMEM.
 */
int dirty_log_init(struct dirty_log *log, struct stage2 *s2,
		   struct memslots *slots, struct page_pool *pool,
		   bool cpu_has_dbm);

/* Adds a vCPU ring (called once per vCPU at VM creation). */
int dirty_log_add_vcpu_ring(struct dirty_log *log, struct dirty_ring *ring);

/*
 * Starts logging on every writable slot: blocks split to pages, pages
 * write-protected; @mode AUTO resolves to DBM or WP. Returns 0,
 * -EBUSY if logging is on, -EOPNOTSUPP for DBM without FEAT_HAFDBS, or
 * -ENOMEM (nothing changed).
 */
int dirty_log_enable(struct dirty_log *log, enum dirty_mode mode);

/* Stops logging: pages writable again, blocks merged back, vCPUs
 * waiting for ring space woken (they go on). Entries still in the
 * rings stay there for a harvest. -EINVAL if not logging. */
int dirty_log_disable(struct dirty_log *log);

/*
 * A write permission fault at @ipa from the vCPU owning @ring (a stage-1
 * walk's hardware update counts as a write). Logs the page and makes it
 * writable (wp), or arms its DBM group (dbm). Never waits.
 */
enum dirty_fault dirty_log_write_fault(struct dirty_log *log,
				       struct dirty_ring *ring, u64 ipa);

/* A write by the hypervisor into [ipa, ipa + len) of guest memory,
 * called after the bytes are written. */
void dirty_log_hyp_write(struct dirty_log *log, u64 ipa, u64 len);

/*
 * Consumer: copies up to @max entries from the rings and the overflow
 * bitmap into @out, marking ring entries RESET. Returns the count;
 * *@more is set when entries may have been left behind. A pass is the
 * calls up to the one that returns *@more false; the first call of a
 * pass first scans the armed DBM set (cleaning what is dirty, TLB
 * invalidation completed before those pages are logged). @out is only
 * ever stored to, so it may be guest memory (virt/dirtyctl.c).
 * While the rings are mapped (dirty_log_set_rings_mapped()) their
 * consumer is the manager: only the scan (whose pages go into the VM
 * ring) and the overflow bitmap are left for this call.
 */
u32 dirty_log_harvest(struct dirty_log *log, struct dirty_gfn *out, u32 max,
		      bool *more);

/*
 * Re-protects the pages of up to @max harvested entries and frees them
 * (TLB invalidation completed before any is freed). Returns the count.
 * A consumer reads page contents only after this returns.
 */
u32 dirty_log_reset(struct dirty_log *log, u32 max);

/*
 * The rings in the order a manager that maps them sees them: vCPU ring
 * i for i < nr_vcpu_rings (the order of dirty_log_add_vcpu_ring()),
 * then the VM's ring. Ring @i's entries are DIRTY_RING_BYTES of
 * physically contiguous memory from the page-aligned address returned
 * (one page_alloc() each), holding nothing else. @i must be at most
 * nr_vcpu_rings.
 */
static inline u32 dirty_log_nr_rings(const struct dirty_log *log)
{
	return log->nr_vcpu_rings + 1;
}
paddr_t dirty_log_ring_pa(const struct dirty_log *log, u32 i);

/*
 * Hands the consumer side of every ring to a manager that maps them
 * (@mapped true), or takes it back (false, once the manager can no
 * longer write them). On the way out, @start (dirty_log_nr_rings()
 * entries) gets each ring's fetch_index: the manager consumes from
 * there on, and entries before it were harvested already. On the way
 * back, dirty_log_harvest() goes on from its own cursor; entries the
 * manager consumed are RESET and end its collection until a reset
 * frees them (dirty_ring_collect() then resumes at reset_index).
 */
void dirty_log_set_rings_mapped(struct dirty_log *log, bool mapped, u32 *start);

/* A copy of the counters. */
void dirty_log_get_stats(struct dirty_log *log, struct dirty_stats *out);

#endif
