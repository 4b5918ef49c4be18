/*
 * Stage-2 translation tables of one VM (4 KiB granule): map, unmap,
 * permission changes, block split/merge, translate, and the one walker
 * they all use. Host-testable: memory and TLB access go through ops.
 */
#ifndef MM_STAGE2_H
#define MM_STAGE2_H

#include "arch/arm64/barrier.h"
#include "arch/arm64/stage2_pte.h"
#include "lib/spinlock.h"
#include "lib/types.h"
#include "mm/page_alloc.h"

struct stage2;

/* Permissions and memory type for stage2_map() / stage2_set_prot(). */
#define STAGE2_PROT_R BIT(0)
#define STAGE2_PROT_W BIT(1)
#define STAGE2_PROT_X BIT(2)
/* Writable-clean: hardware (FEAT_HAFDBS, VTCR_EL2.HD) sets W on write. */
#define STAGE2_PROT_DBM BIT(3)
/* Device-nGnRE instead of normal write-back memory (stage2_map only). */
#define STAGE2_PROT_DEVICE BIT(4)
#define STAGE2_PROT_RW (STAGE2_PROT_R | STAGE2_PROT_W)
#define STAGE2_PROT_PERMS (STAGE2_PROT_R | STAGE2_PROT_W | STAGE2_PROT_X | \
			   STAGE2_PROT_DBM)

enum stage2_barrier {
	STAGE2_DSB_ISHST,  /* earlier stores seen by every walker in the domain */
	STAGE2_DSB_ISH,    /* earlier TLBIs (and accesses) complete everywhere */
	STAGE2_ISB,        /* later instructions see the new context */
};

/*
 * How the tables reach memory and the TLBs. On arm64, stage2_default_ops
 * (identity map, real TLBI/DSB/ISB); host tests supply fakes that record.
 */
struct stage2_mm_ops {
	void *(*phys_to_virt)(paddr_t pa);
	paddr_t (*virt_to_phys)(void *va);
	/*
	 * Invalidate, on every CPU in the inner-shareable domain, the stage-2
	 * entries for @ipa of @s2's VMID (and the combined stage-1+2 entries
	 * that may have been built from them). @level is the level of the
	 * entry that changed. Completion is awaited by a later STAGE2_DSB_ISH.
	 */
	void (*tlbi_ipa)(struct stage2 *s2, u64 ipa, unsigned int level);
	/* Invalidate every stage-1 and stage-2 entry of @s2's VMID. */
	void (*tlbi_vmid)(struct stage2 *s2);
	/*
	 * Optional (NULL on the host): invalidate @ipa of @s2 on this CPU
	 * only, which must be running one of @s2's vCPUs (its VTTBR_EL2 is
	 * loaded). A vCPU's fault path calls it after relaxing a permission,
	 * so that a cached stricter entry does not fault again; completed
	 * on return.
	 */
	void (*tlbi_ipa_local)(struct stage2 *s2, u64 ipa);
	void (*barrier)(enum stage2_barrier kind);
	/* Optional (NULL on the target): told of every descriptor store. */
	void (*pte_written)(struct stage2 *s2, const u64 *ptep, u64 val);
};

/*
 * One VM's stage-2 address space.
 *
 * @lock serialises every software walk and change of the tables: linking,
 * unlinking and freeing table pages, break-before-make, and the
 * permission updates of stage2_set_prot(). It does not exclude hardware:
 * table walks and FEAT_HAFDBS updates of AF and of S2AP_W on DBM leaves
 * run at any time, which is why every software store to a live leaf is a
 * store-release, an atomic exchange or a compare-and-swap. Take it with
 * interrupts masked (the arm64 TLBI borrows VTTBR_EL2). It is a leaf lock
 * apart from the page pool's lock, which nests inside it.
 */
struct stage2 {
	struct spinlock lock;
	paddr_t root;             /* first root table; @nroot are contiguous */
	unsigned int nroot;       /* concatenated root tables, 1..16 */
	unsigned int start_level; /* level of the root table(s), 0..2 */
	unsigned int ipa_bits;
	u16 vmid;                 /* 8-bit VMID space (VTCR_EL2.VS = 0) */
	u64 vtcr;                 /* VTCR_EL2 value, without HA/HD */
	u64 vttbr;                /* VTTBR_EL2 value: root | VMID */
	struct page_pool *pool;   /* every table page comes from and returns here */
	const struct stage2_mm_ops *ops;
	u64 tables;               /* table pages owned, roots included */
};

/*
 * VTCR_EL2 for a VM with @ipa_bits of IPA on a CPU whose
 * ID_AA64MMFR0_EL1.PARange is @pa_range: T0SZ, SL0, write-back inner
 * shareable walks, 4 KiB granule, PS. Up to 16 root tables are
 * concatenated to save a level. Also gives the start level and number
 * of root tables when those pointers are not NULL. Returns 0, or -ERANGE
 * for @ipa_bits outside 32..48 or above what @pa_range allows.
 */
int stage2_vtcr(unsigned int ipa_bits, unsigned int pa_range, u64 *vtcr,
		unsigned int *start_level, unsigned int *nroot);

/*
 * Empty address space: allocates and zeroes the root table(s) from @pool.
 * Returns 0, -ERANGE (see stage2_vtcr), -EINVAL for a VMID above 255,
 * or -ENOMEM.
 */
int stage2_init(struct stage2 *s2, struct page_pool *pool,
		const struct stage2_mm_ops *ops, unsigned int ipa_bits,
		unsigned int pa_range, u16 vmid);

/*
 * Frees every table page (roots included) after invalidating the VMID's
 * TLB entries. No vCPU of the VM may be running.
 */
void stage2_destroy(struct stage2 *s2);

/*
 * Maps [ipa, ipa + size) to [pa, pa + size) with @prot: 1 GiB and 2 MiB
 * blocks wherever ipa and pa are both aligned and the range covers the
 * block, pages elsewhere. All page aligned. Table pages are all
 * allocated before any entry changes, so -ENOMEM leaves the tables as
 * they were. A page already mapped to the same output with the same
 * attributes is left alone; any other valid mapping in the range gives
 * -EEXIST (nothing changed). -ERANGE outside the IPA or output size,
 * -EINVAL for misalignment, a bad @prot or an empty range.
 */
int stage2_map(struct stage2 *s2, u64 ipa, paddr_t pa, u64 size,
	       unsigned int prot);

/*
 * Unmaps [ipa, ipa + size), splitting blocks that straddle its ends
 * (the rest stays mapped) and freeing tables left empty. Unmapped holes
 * are fine. -ENOMEM (nothing changed) if a split lacks table pages.
 */
int stage2_unmap(struct stage2 *s2, u64 ipa, u64 size);

/*
 * Gives every leaf in [ipa, ipa + size) the permissions @prot (only
 * STAGE2_PROT_PERMS bits), splitting straddling blocks. Each leaf is
 * updated with a compare-and-swap loop so that a hardware AF or dirty
 * update racing with it is never lost; a downgrade is followed by TLBI
 * and DSB before return, an upgrade needs none. Holes are skipped.
 */
int stage2_set_prot(struct stage2 *s2, u64 ipa, u64 size, unsigned int prot);

/*
 * stage2_set_prot() that also calls @dirty(@arg, leaf ipa, leaf size) for
 * each leaf that was DBM-dirty (DBM and S2AP_W set) in the very value
 * its CAS replaced with one lacking write permission: the atomic
 * "clean and record" a DBM harvest needs. @dirty may be NULL.
 */
int stage2_set_prot_log(struct stage2 *s2, u64 ipa, u64 size,
			unsigned int prot,
			void (*dirty)(void *arg, u64 ipa, u64 size), void *arg);

/*
 * Makes every leaf in [ipa, ipa + size) a 4 KiB page with the permissions
 * @prot, blocks split by break-before-make straight into pages that have
 * them (the start of dirty logging). Every TLB agrees on return. Tables
 * are allocated before any change: -ENOMEM leaves everything as it was.
 * Any hardware dirty state on a block split here is dropped: call it
 * only while no leaf in the range has DBM set.
 */
int stage2_split_to_pages(struct stage2 *s2, u64 ipa, u64 size,
			  unsigned int prot);

/*
 * Replaces the block holding @ipa by a table of the next level (a 2 MiB
 * block becomes 512 pages, a 1 GiB block 512 2 MiB blocks) with the same
 * output and attributes, by break-before-make. -ENOENT if nothing is
 * mapped there, -EINVAL if it is a page, -ENOMEM.
 */
int stage2_split_block(struct stage2 *s2, u64 ipa);

/*
 * Replaces the table under the level-@level entry holding @ipa (level 1
 * or 2) by one block, if its 512 entries are leaves with contiguous,
 * block-aligned output and equal attributes; frees the table. Hardware
 * dirty state is kept conservatively (the block is dirty if any leaf
 * was). -ENOENT if there is no table, -EINVAL if it is not uniform.
 */
int stage2_merge(struct stage2 *s2, u64 ipa, unsigned int level);

/*
 * Output address and permissions (STAGE2_PROT_*) of @ipa. -ENOENT if
 * unmapped. @level may be NULL.
 */
int stage2_translate(struct stage2 *s2, u64 ipa, paddr_t *pa,
		     unsigned int *prot, unsigned int *level);

/* ------------------------------------------------------------ walker */

#define STAGE2_WALK_LEAF BIT(0)        /* leaves and invalid entries */
#define STAGE2_WALK_TABLE_PRE BIT(1)   /* table entries, before their children */
#define STAGE2_WALK_TABLE_POST BIT(2)  /* table entries, after their children */

/* What a visitor sees: one entry and the IPA range it covers. */
struct stage2_visit {
	struct stage2 *s2;
	u64 *ptep;            /* the entry (in the ops' virtual view) */
	u64 old;              /* its value when read by the walker */
	u64 ipa;              /* first IPA the entry maps */
	u64 start, end;       /* the walked range clipped to this entry */
	unsigned int level;
	unsigned int kind;    /* one STAGE2_WALK_* bit */
	void *arg;
};

/*
 * Returns 0 to continue, anything else stops the walk and is returned.
 * A LEAF or TABLE_PRE visitor may change the entry: the walker re-reads
 * it and descends if it is (now) a table.
 */
typedef int (*stage2_visitor_fn)(struct stage2_visit *v);

/*
 * Visits, in IPA order, the entries covering [ipa, ipa + size) of the
 * kinds in @flags. Callers inside mm/stage2.c hold s2->lock; this public
 * entry takes it, so @visitor must not call other stage2_* functions.
 */
int stage2_walk(struct stage2 *s2, u64 ipa, u64 size,
		stage2_visitor_fn visitor, void *arg, unsigned int flags);

#ifdef __aarch64__
/* Identity-mapped tables, real TLB maintenance (see mm/stage2.c). */
extern const struct stage2_mm_ops stage2_default_ops;
#endif

/*
 * ------------------------------------- leaf access (dirty tracking)
 *
 * Inline: the write-fault and reset paths use them once per page.
 */

/* The hypervisor's own tables are identity mapped (no ops call). */
static inline bool stage2_identity_mapped(const struct stage2 *s2)
{
#ifdef __aarch64__
	return s2->ops == &stage2_default_ops;
#else
	(void)s2;
	return false;
#endif
}

/* A table page as the ops see it; @identity: stage2_identity_mapped(). */
static inline u64 *stage2_table_at(const struct stage2 *s2, bool identity,
				   paddr_t pa)
{
	return identity ? (u64 *)pa : (u64 *)s2->ops->phys_to_virt(pa);
}

static inline u64 *stage2_table_va(const struct stage2 *s2, paddr_t pa)
{
	return stage2_table_at(s2, stage2_identity_mapped(s2), pa);
}

/* A descriptor read once, whole (hardware may be updating it). */
static inline u64 stage2_pte_read(const u64 *ptep)
{
	return __atomic_load_n(ptep, __ATOMIC_RELAXED);
}

/* Tells the ops (a host test's recorder) of a descriptor store. */
static inline void stage2_pte_traced(struct stage2 *s2, const u64 *ptep, u64 val)
{
	if (s2->ops->pte_written)
		s2->ops->pte_written(s2, ptep, val);
}

/* Compare-and-swap of a live descriptor; on failure *@old is the
 * current value (a hardware AF or dirty update included). */
static inline bool stage2_pte_cas(struct stage2 *s2, u64 *ptep, u64 *old,
				  u64 val)
{
	if (!__atomic_compare_exchange_n(ptep, old, val, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED))
		return false;
	stage2_pte_traced(s2, ptep, val);
	return true;
}

/*
 * With s2->lock held: the entry that maps @ipa at the deepest level the
 * tables reach (a leaf, or an invalid entry), its level in *@level; NULL
 * if @ipa is outside the IPA space. Valid until the lock is dropped.
 */
static inline u64 *stage2_leaf_locked(struct stage2 *s2, u64 ipa,
				      unsigned int *level)
{
	unsigned int l = s2->start_level;
	/* IPA bits below those that index the level-@l table. */
	unsigned int shift = PAGE_SHIFT_4K + PT_BITS_PER_LEVEL * (3 - l);
	bool identity = stage2_identity_mapped(s2);   /* read once */
	u64 *ptep, pte;

	if (ipa >> s2->ipa_bits)
		return NULL;
	/* The concatenated roots act as one table indexed by all the IPA
	 * bits above the start level. */
	ptep = stage2_table_at(s2, identity, s2->root) + (ipa >> shift);
	while (pte = stage2_pte_read(ptep), pte_is_table(pte, l)) {
		l++;
		shift -= PT_BITS_PER_LEVEL;
		ptep = stage2_table_at(s2, identity, pte_addr(pte)) +
		       ((ipa >> shift) & (PT_ENTRIES - 1));
	}
	*level = l;
	return ptep;
}

/* With s2->lock held: the valid level-3 entry of @ipa, or NULL (a block
 * or nothing maps it). Valid until the lock is dropped. */
static inline u64 *stage2_page_locked(struct stage2 *s2, u64 ipa)
{
	unsigned int level;
	u64 *ptep = stage2_leaf_locked(s2, ipa, &level);

	return ptep && level == 3 && pte_is_valid(stage2_pte_read(ptep)) ? ptep : NULL;
}

/*
 * With s2->lock held: atomically replaces the leaf at @ptep by
 * (old & ~@clear) | @set, retrying if hardware changed it meanwhile, and
 * returns the value replaced. No TLB maintenance: the caller issues it
 * when a permission was taken away.
 */
static inline u64 stage2_pte_update(struct stage2 *s2, u64 *ptep, u64 clear,
				    u64 set)
{
	u64 old = stage2_pte_read(ptep), new;

	/* Compare-and-swap, as in prot_visit(): a hardware AF or dirty
	 * update between our read and our write is never undone. */
	do {
		new = (old & ~clear) | set;
		if (new == old)
			return old;
	} while (!stage2_pte_cas(s2, ptep, &old, new));
	return old;
}

#ifdef __aarch64__
/* The arm64 ops' tlbi_ipa_local(), inline (see stage2_mm_ops). */
static inline void stage2_arm64_tlbi_ipa_local(u64 ipa)
{
	/* The relaxed entry is in memory before this CPU's walker looks. */
	dsb(ishst);
	__asm__ volatile("tlbi ipas2e1, %0" : : "r"(ipa >> 12) : "memory");
	dsb(nsh);
	/* Combined stage-1+2 entries are tagged by VA: drop them all. */
	__asm__ volatile("tlbi vmalle1" : : : "memory");
	dsb(nsh);   /* complete before the ERET back to the guest */
}
#endif

/* ops->tlbi_ipa_local() if there is one; no call with the arm64 ops. */
static inline void stage2_tlbi_ipa_local(struct stage2 *s2, u64 ipa)
{
#ifdef __aarch64__
	if (stage2_identity_mapped(s2)) {
		stage2_arm64_tlbi_ipa_local(ipa);
		return;
	}
#endif
	if (s2->ops->tlbi_ipa_local)
		s2->ops->tlbi_ipa_local(s2, ipa);
}

#endif
