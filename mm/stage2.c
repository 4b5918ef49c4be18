/*
 * Stage-2 translation tables (see mm/stage2.h). Every operation is a
 * walk with a visitor; every change of a live valid entry other than a
 * permission change goes through break_before_make().
 */
#include "mm/stage2.h"

#include "arch/arm64/barrier.h"
#include "lib/compiler.h"
#include "lib/errno.h"
#include "lib/string.h"

/* A visitor's "done, stop walking" answer; never returned to callers. */
#define WALK_STOP 1
/* A leaf visitor's "go on, but not below this entry" answer (it just
 * built a table whose entries need no visit). */
#define WALK_SKIP 2


/* ------------------------------------------------------------ geometry */

int stage2_vtcr(unsigned int ipa_bits, unsigned int pa_range, u64 *vtcr,
		unsigned int *start_level, unsigned int *nroot)
{
	unsigned int ps = MIN(pa_range, (unsigned int)PARANGE_48);
	unsigned int level, table_bits;

	if (ipa_bits < 32 || ipa_bits > 48 || ipa_bits > parange_bits(ps))
		return -ERANGE;
	/*
	 * One table at level L resolves 12 + 9 * (4 - L) bits of IPA; up to
	 * 16 tables concatenated at the start level resolve 4 more, which
	 * saves a level: level 2 up to 34 bits, level 1 up to 43, else 0.
	 */
	level = ipa_bits <= 34 ? 2 : ipa_bits <= 43 ? 1 : 0;
	table_bits = PAGE_SHIFT_4K + PT_BITS_PER_LEVEL * (4 - level);
	if (start_level)
		*start_level = level;
	if (nroot)
		*nroot = ipa_bits > table_bits ? 1u << (ipa_bits - table_bits) : 1;
	*vtcr = VTCR_RES1 | VTCR_T0SZ(ipa_bits) |
		((u64)(2 - level) << VTCR_SL0_SHIFT) |
		VTCR_IRGN0_WBWA | VTCR_ORGN0_WBWA | VTCR_SH0_INNER | VTCR_TG0_4K |
		((u64)ps << VTCR_PS_SHIFT);
	return 0;
}

static u64 output_limit(const struct stage2 *s2)
{
	unsigned int ps = (s2->vtcr >> VTCR_PS_SHIFT) & 7;

	return 1ULL << parange_bits(ps);
}

/* [ipa, ipa + size) is non-empty, page aligned and inside the IPA space. */
static int check_range(const struct stage2 *s2, u64 ipa, u64 size)
{
	if (!size || !IS_ALIGNED(ipa, PAGE_SIZE) || !IS_ALIGNED(size, PAGE_SIZE))
		return -EINVAL;
	if (ipa + size < ipa || ipa + size > (1ULL << s2->ipa_bits))
		return -ERANGE;
	return 0;
}

/* --------------------------------------------------- descriptor access */

/* Reads: stage2_pte_read(); compare-and-swap: stage2_pte_cas() (stage2.h). */

/*
 * Store-release: a table's entries (zeroed or filled) are visible before
 * the entry that links the table, for walkers on every CPU.
 */
static void pte_store(struct stage2 *s2, u64 *ptep, u64 val)
{
	__atomic_store_n(ptep, val, __ATOMIC_RELEASE);
	stage2_pte_traced(s2, ptep, val);
}

/* Atomic swap: returns the last value, hardware updates included. */
static u64 pte_xchg(struct stage2 *s2, u64 *ptep, u64 val)
{
	u64 old = __atomic_exchange_n(ptep, val, __ATOMIC_ACQ_REL);

	stage2_pte_traced(s2, ptep, val);
	return old;
}

static u64 prot_attrs(unsigned int prot)
{
	u64 attrs = S2_AF | S2_SH_INNER;

	attrs |= S2_MEMATTR((prot & STAGE2_PROT_DEVICE) ? S2_MEMATTR_DEVICE_nGnRE
							: S2_MEMATTR_NORMAL_WB);
	return attrs;
}

static u64 prot_perms(unsigned int prot)
{
	u64 perms = 0;

	if (prot & STAGE2_PROT_R)
		perms |= S2AP_R;
	if (prot & STAGE2_PROT_W)
		perms |= S2AP_W;
	if (!(prot & STAGE2_PROT_X))
		perms |= S2_XN;
	if (prot & STAGE2_PROT_DBM)
		perms |= S2_DBM;
	return perms;
}

static unsigned int pte_prot(u64 pte)
{
	unsigned int prot = 0;

	if (pte & S2AP_R)
		prot |= STAGE2_PROT_R;
	if (pte & S2AP_W)
		prot |= STAGE2_PROT_W;
	if (!(pte & S2_XN))
		prot |= STAGE2_PROT_X;
	if (pte & S2_DBM)
		prot |= STAGE2_PROT_DBM;
	if ((pte & S2_MEMATTR_MASK) == S2_MEMATTR(S2_MEMATTR_DEVICE_nGnRE))
		prot |= STAGE2_PROT_DEVICE;
	return prot;
}

/*
 * Attribute bits that software owns: AF is the hardware's to set, and so
 * is S2AP_W of a DBM leaf (it means "dirty", not a permission choice).
 */
static u64 sw_attrs(u64 pte)
{
	u64 hw = S2_AF | ((pte & S2_DBM) ? S2AP_W : 0);

	return pte_leaf_attrs(pte) & ~hw;
}

/* ----------------------------------------------------------- table pages */

/*
 * Table pages allocated ahead of a change ("prepare"), linked through
 * their first word, so that the change itself ("commit") cannot fail.
 */
struct table_cache {
	paddr_t head;
	u64 count;
};

static void cache_release(struct stage2 *s2, struct table_cache *c)
{
	while (c->count) {
		paddr_t pa = c->head;

		c->head = *stage2_table_va(s2, pa);
		c->count--;
		page_free(s2->pool, pa, 1);
	}
}

static int cache_fill(struct stage2 *s2, struct table_cache *c, u64 n)
{
	while (c->count < n) {
		paddr_t pa;

		if (page_alloc(s2->pool, 1, 1, &pa)) {
			cache_release(s2, c);
			return -ENOMEM;
		}
		*stage2_table_va(s2, pa) = c->head;
		c->head = pa;
		c->count++;
	}
	return 0;
}

/* A zeroed table page from @c, which must not be empty. */
static paddr_t cache_take(struct stage2 *s2, struct table_cache *c)
{
	paddr_t pa = c->head;
	u64 *t = stage2_table_va(s2, pa);

	c->head = t[0];
	c->count--;
	memset(t, 0, PAGE_SIZE);
	s2->tables++;
	return pa;
}

static void table_free(struct stage2 *s2, paddr_t pa)
{
	page_free(s2->pool, pa, 1);
	s2->tables--;
}

/* ----------------------------------------------- break-before-make */

/* Builds the entry that replaces @old once no TLB can hold @old. */
typedef u64 (*bbm_make_fn)(struct stage2 *s2, u64 old, unsigned int level,
			   void *arg);

/*
 * The one break-before-make sequence: replaces the valid entry at @ptep
 * (level @level, mapping from @ipa) by make()'s result, or leaves it
 * invalid if @make is NULL. Returns the old entry as last seen in memory.
 */
static u64 break_before_make(struct stage2 *s2, u64 *ptep, u64 ipa,
			     unsigned int level, bbm_make_fn make, void *arg)
{
	const struct stage2_mm_ops *ops = s2->ops;
	/* Break with an atomic exchange, not a store: a hardware AF or dirty
	 * update that lands before the invalid entry shows in @old instead
	 * of being lost. */
	u64 old = pte_xchg(s2, ptep, 0);

	/* The invalid entry reaches every table walker before the TLBI
	 * below, so no walk that starts after the TLBI can re-cache @old. */
	ops->barrier(STAGE2_DSB_ISHST);
	if (pte_is_table(old, level))
		/* A table's subtree may sit in TLBs as leaf and walk-cache
		 * entries for any IPA below it: one by-IPA TLBI misses them. */
		ops->tlbi_vmid(s2);
	else
		ops->tlbi_ipa(s2, ipa, level);
	/* The TLBI has completed on every CPU: no TLB holds @old, so it can
	 * never coexist with the new entry (the architecture's condition). */
	ops->barrier(STAGE2_DSB_ISH);
	if (make)
		pte_store(s2, ptep, make(s2, old, level, arg));
	return old;
}

/* After a change: the new entries are visible to every table walker
 * before the caller goes on (resumes a vCPU, reports the mapping). */
static void publish(struct stage2 *s2)
{
	s2->ops->barrier(STAGE2_DSB_ISHST);
}

/* ---------------------------------------------------------------- walker */

struct walker {
	struct stage2 *s2;
	stage2_visitor_fn fn;
	void *arg;
	unsigned int flags;
};

static int walk_table(const struct walker *w, u64 *table, u64 nentries,
		      u64 table_ipa, unsigned int level, u64 start, u64 end);

static int visit(const struct walker *w, unsigned int kind, u64 *ptep,
		 u64 ipa, unsigned int level, u64 start, u64 end)
{
	struct stage2_visit v = {
		.s2 = w->s2, .ptep = ptep, .old = stage2_pte_read(ptep), .ipa = ipa,
		.start = start, .end = end, .level = level, .kind = kind,
		.arg = w->arg,
	};

	return w->fn(&v);
}

static int walk_entry(const struct walker *w, u64 *ptep, u64 ipa,
		      unsigned int level, u64 start, u64 end)
{
	u64 pte = stage2_pte_read(ptep);
	int ret;

	if (pte_is_table(pte, level)) {
		if (w->flags & STAGE2_WALK_TABLE_PRE) {
			ret = visit(w, STAGE2_WALK_TABLE_PRE, ptep, ipa, level,
				    start, end);
			if (ret)
				return ret;
			pte = stage2_pte_read(ptep);
		}
	} else if (w->flags & STAGE2_WALK_LEAF) {
		ret = visit(w, STAGE2_WALK_LEAF, ptep, ipa, level, start, end);
		if (ret == WALK_SKIP)
			return 0;
		if (ret)
			return ret;
		pte = stage2_pte_read(ptep);   /* the visitor may have made a table */
	}
	if (!pte_is_table(pte, level))
		return 0;
	ret = walk_table(w, stage2_table_va(w->s2, pte_addr(pte)), PT_ENTRIES, ipa,
			 level + 1, start, end);
	if (ret || !(w->flags & STAGE2_WALK_TABLE_POST))
		return ret;
	return visit(w, STAGE2_WALK_TABLE_POST, ptep, ipa, level, start, end);
}

static int walk_table(const struct walker *w, u64 *table, u64 nentries,
		      u64 table_ipa, unsigned int level, u64 start, u64 end)
{
	u64 size = pt_level_size(level);

	for (u64 i = (start - table_ipa) / size; i < nentries; i++) {
		u64 ipa = table_ipa + i * size;
		int ret;

		if (ipa >= end)
			break;
		ret = walk_entry(w, &table[i], ipa, level, MAX(start, ipa),
				 MIN(end, ipa + size));
		if (ret)
			return ret;
	}
	return 0;
}

/* The walk itself; s2->lock held, range checked. */
static int walk_locked(struct stage2 *s2, u64 start, u64 end,
		       stage2_visitor_fn fn, void *arg, unsigned int flags)
{
	const struct walker w = { .s2 = s2, .fn = fn, .arg = arg, .flags = flags };

	return walk_table(&w, stage2_table_va(s2, s2->root), (u64)s2->nroot * PT_ENTRIES,
			  0, s2->start_level, start, end);
}

int stage2_walk(struct stage2 *s2, u64 ipa, u64 size,
		stage2_visitor_fn visitor, void *arg, unsigned int flags)
{
	int ret = check_range(s2, ipa, size);

	if (ret)
		return ret;
	spin_lock(&s2->lock);
	ret = walk_locked(s2, ipa, ipa + size, visitor, arg, flags);
	spin_unlock(&s2->lock);
	return ret;
}

/* ------------------------------------------------------------ split */

/* Tables needed to split a leaf at @level so that [start, end) (part of
 * it) is covered by whole leaves. */
static u64 split_need(unsigned int level, u64 start, u64 end)
{
	unsigned int child = level + 1;
	u64 csize = pt_level_size(child), n = 1;

	if (child == 3)
		return 1;
	for (u64 ipa = ALIGN_DOWN(start, csize); ipa < end; ipa += csize) {
		u64 s = MAX(start, ipa), e = MIN(end, ipa + csize);

		if (s != ipa || e != ipa + csize)
			n += split_need(child, s, e);
	}
	return n;
}

/* What a split builds: the new table, and the permissions its leaves
 * get (@perms_mask 0: the block's own). */
struct split_arg {
	paddr_t table;
	u64 perms_mask;
	u64 perms;
};

/* Fills the table of @arg (a struct split_arg) with leaves covering
 * block @old. */
static u64 make_split_table(struct stage2 *s2, u64 old, unsigned int level,
			    void *arg)
{
	const struct split_arg *sa = arg;
	u64 *t = stage2_table_va(s2, sa->table);
	u64 csize = pt_level_size(level + 1);
	u64 attrs = (pte_leaf_attrs(old) & ~sa->perms_mask) | sa->perms;
	u64 leaf = pte_make_leaf(pte_addr(old), attrs, level + 1);

	/* The hot loop of enabling dirty logging (one store per page). */
	for (unsigned int i = 0; i < PT_ENTRIES; i++, leaf += csize)
		t[i] = leaf;
	return pte_make_table(sa->table);
}

/* Replaces the block @v points at by a table of next-level leaves with
 * its attributes, the permissions replaced by @perms unless @perms_mask
 * is 0. */
static void split_leaf_perms(const struct stage2_visit *v,
			     struct table_cache *c, u64 perms_mask, u64 perms)
{
	struct split_arg sa = { .table = cache_take(v->s2, c),
				.perms_mask = perms_mask, .perms = perms };

	break_before_make(v->s2, v->ptep, v->ipa, v->level, make_split_table,
			  &sa);
}

static void split_leaf(const struct stage2_visit *v, struct table_cache *c)
{
	split_leaf_perms(v, c, 0, 0);
}

/* ------------------------------------------------------------- map */

struct map_ctx {
	u64 delta;      /* pa - ipa, modulo 2^64 */
	u64 attrs;      /* leaf attributes and permissions */
	bool dry;       /* prepare: count tables, change nothing */
	u64 need;
	struct table_cache cache;
};

/* May [start, end), inside the level-@level entry at @ipa, be one leaf? */
static bool leaf_fits(unsigned int level, u64 ipa, u64 start, u64 end,
		      u64 delta)
{
	u64 size = pt_level_size(level);

	if (level == 3)
		return true;
	return level >= 1 && start == ipa && end == ipa + size &&
	       IS_ALIGNED(ipa + delta, size);
}

/* Tables needed to map [start, end) under an empty entry at @level. */
static u64 map_need(unsigned int level, u64 start, u64 end, u64 delta)
{
	unsigned int child = level + 1;
	u64 csize = pt_level_size(child), n = 1;

	for (u64 ipa = ALIGN_DOWN(start, csize); ipa < end; ipa += csize) {
		u64 s = MAX(start, ipa), e = MIN(end, ipa + csize);

		if (!leaf_fits(child, ipa, s, e, delta))
			n += map_need(child, s, e, delta);
	}
	return n;
}

static int map_visit(struct stage2_visit *v)
{
	struct map_ctx *m = v->arg;

	if (pte_is_valid(v->old)) {
		/* A leaf already there: fine only if it maps [start, end)
		 * to the same output with the same attributes. */
		if (pte_addr(v->old) + (v->start - v->ipa) != v->start + m->delta ||
		    sw_attrs(v->old) != sw_attrs(m->attrs))
			return -EEXIST;
		return 0;
	}
	if (leaf_fits(v->level, v->ipa, v->start, v->end, m->delta)) {
		/* Invalid entries are never cached in TLBs: filling one
		 * needs no invalidation. */
		if (!m->dry)
			pte_store(v->s2, v->ptep,
				  pte_make_leaf(v->ipa + m->delta, m->attrs,
						   v->level));
		return 0;
	}
	if (m->dry) {
		m->need += map_need(v->level, v->start, v->end, m->delta);
		return 0;
	}
	/* Linked empty, filled by the walk that now descends into it. */
	pte_store(v->s2, v->ptep, pte_make_table(cache_take(v->s2, &m->cache)));
	return 0;
}

int stage2_map(struct stage2 *s2, u64 ipa, paddr_t pa, u64 size,
	       unsigned int prot)
{
	struct map_ctx m = { .delta = pa - ipa, .dry = true };
	int ret = check_range(s2, ipa, size);

	if (ret)
		return ret;
	if (!IS_ALIGNED(pa, PAGE_SIZE) ||
	    (prot & ~(STAGE2_PROT_PERMS | STAGE2_PROT_DEVICE)))
		return -EINVAL;
	if (pa + size < pa || pa + size > output_limit(s2))
		return -ERANGE;
	m.attrs = prot_attrs(prot) | prot_perms(prot);

	spin_lock(&s2->lock);
	/* Prepare: find conflicts and count tables, changing nothing. */
	ret = walk_locked(s2, ipa, ipa + size, map_visit, &m, STAGE2_WALK_LEAF);
	if (!ret)
		ret = cache_fill(s2, &m.cache, m.need);
	if (!ret) {
		/* Commit: cannot fail, the walk takes the same decisions. */
		m.dry = false;
		ret = walk_locked(s2, ipa, ipa + size, map_visit, &m,
				  STAGE2_WALK_LEAF);
		publish(s2);
	}
	cache_release(s2, &m.cache);
	spin_unlock(&s2->lock);
	return ret;
}

/* ------------------------------------------- unmap and permissions */

struct range_ctx {
	bool dry;
	u64 need;
	struct table_cache cache;
	u64 perms;                   /* set_prot: new permission bits */
	void (*dirty)(void *arg, u64 ipa, u64 size);
	void *dirty_arg;
	bool downgraded;
};

/*
 * Shared first step of unmap and set_prot for a valid leaf: a block
 * that straddles an end of the range is split (or, when preparing,
 * counted). Returns true if the leaf is wholly inside the range.
 */
static bool leaf_inside(const struct stage2_visit *v, struct range_ctx *r)
{
	if (v->start == v->ipa && v->end == v->ipa + pt_level_size(v->level))
		return true;
	if (r->dry)
		r->need += split_need(v->level, v->start, v->end);
	else
		split_leaf(v, &r->cache);   /* the walker descends into it */
	return false;
}

static bool table_empty(const struct stage2 *s2, u64 table_pte)
{
	const u64 *t = stage2_table_va(s2, pte_addr(table_pte));

	for (unsigned int i = 0; i < PT_ENTRIES; i++)
		if (pte_is_valid(stage2_pte_read(&t[i])))
			return false;
	return true;
}

static int unmap_visit(struct stage2_visit *v)
{
	struct range_ctx *r = v->arg;

	if (v->kind == STAGE2_WALK_TABLE_POST) {
		if (!r->dry && table_empty(v->s2, v->old)) {
			break_before_make(v->s2, v->ptep, v->ipa, v->level, NULL, NULL);
			table_free(v->s2, pte_addr(v->old));
		}
		return 0;
	}
	if (!pte_is_valid(v->old) || !leaf_inside(v, r) || r->dry)
		return 0;
	break_before_make(v->s2, v->ptep, v->ipa, v->level, NULL, NULL);
	return 0;
}

/* Prepare (count splits, allocate), then commit the walk of @fn. */
static int range_op(struct stage2 *s2, u64 ipa, u64 size, stage2_visitor_fn fn,
		    struct range_ctx *r, unsigned int flags)
{
	int ret;

	r->dry = true;
	ret = walk_locked(s2, ipa, ipa + size, fn, r, flags);
	if (!ret)
		ret = cache_fill(s2, &r->cache, r->need);
	if (!ret) {
		r->dry = false;
		ret = walk_locked(s2, ipa, ipa + size, fn, r, flags);
	}
	cache_release(s2, &r->cache);
	return ret;
}

int stage2_unmap(struct stage2 *s2, u64 ipa, u64 size)
{
	struct range_ctx r = { 0 };
	int ret = check_range(s2, ipa, size);

	if (ret)
		return ret;
	spin_lock(&s2->lock);
	ret = range_op(s2, ipa, size, unmap_visit, &r,
		       STAGE2_WALK_LEAF | STAGE2_WALK_TABLE_POST);
	publish(s2);
	spin_unlock(&s2->lock);
	return ret;
}

/* Gives the valid leaf @v, wholly inside the range, r->perms. */
static void prot_update_leaf(const struct stage2_visit *v, struct range_ctx *r)
{
	u64 old = v->old, new;
	/*
	 * Compare-and-swap until our value replaces exactly the one we
	 * computed it from. Hardware may set AF, or S2AP_W of a DBM leaf,
	 * between our read and our write: a plain store of (read value with
	 * new permissions) would silently undo that update, and a page the
	 * guest has written would look clean. A failed CAS hands back the
	 * updated value and we recompute from it.
	 */
	do {
		new = (old & ~S2_PERM_MASK) | r->perms;
		if (new == old)
			return;
	} while (!stage2_pte_cas(v->s2, v->ptep, &old, new));

	if (r->dirty && (old & S2_DBM) && (old & S2AP_W) && !(new & S2AP_W))
		r->dirty(r->dirty_arg, v->ipa, pt_level_size(v->level));
	/* Any permission taken away (XN is "execute taken away"): a TLB
	 * may still allow it until invalidated. Upgrades need nothing: a
	 * stale, stricter entry only causes a spurious fault. */
	if ((old & ~new & (S2AP_R | S2AP_W | S2_DBM)) || (new & ~old & S2_XN)) {
		/* The new entry is visible to walkers before the TLBI, so
		 * a walk after the TLBI cannot re-cache the old one. */
		v->s2->ops->barrier(STAGE2_DSB_ISHST);
		v->s2->ops->tlbi_ipa(v->s2, v->ipa, v->level);
		r->downgraded = true;
	}
}

static int prot_visit(struct stage2_visit *v)
{
	struct range_ctx *r = v->arg;
	u64 old = v->old;

	/* A leaf that already has the permissions needs no split. */
	if (!pte_is_valid(old) || ((old & ~S2_PERM_MASK) | r->perms) == old ||
	    !leaf_inside(v, r) || r->dry)
		return 0;
	prot_update_leaf(v, r);
	return 0;
}

/* A permission change over a range with @visitor: checked, prepared
 * and committed under the lock, complete in every TLB on return. */
static int perms_op(struct stage2 *s2, u64 ipa, u64 size, unsigned int prot,
		    stage2_visitor_fn visitor, struct range_ctx *r)
{
	int ret = check_range(s2, ipa, size);

	if (ret)
		return ret;
	if (prot & ~STAGE2_PROT_PERMS)
		return -EINVAL;
	r->perms = prot_perms(prot);
	spin_lock(&s2->lock);
	ret = range_op(s2, ipa, size, visitor, r, STAGE2_WALK_LEAF);
	/* A page only counts as protected once every TLBI above has
	 * completed on every CPU (a split completed its own). */
	if (r->downgraded)
		s2->ops->barrier(STAGE2_DSB_ISH);
	publish(s2);
	spin_unlock(&s2->lock);
	return ret;
}

int stage2_set_prot_log(struct stage2 *s2, u64 ipa, u64 size,
			unsigned int prot,
			void (*dirty)(void *arg, u64 ipa, u64 size), void *arg)
{
	struct range_ctx r = { .dirty = dirty, .dirty_arg = arg };

	return perms_op(s2, ipa, size, prot, prot_visit, &r);
}

int stage2_set_prot(struct stage2 *s2, u64 ipa, u64 size, unsigned int prot)
{
	return stage2_set_prot_log(s2, ipa, size, prot, NULL, NULL);
}

/* ------------------------------------------ split to pages (logging) */

/*
 * Every valid leaf becomes a 4 KiB page with the permissions r->perms.
 * A block wholly inside the range is split straight into pages that
 * carry the new permissions (a 1 GiB block first into 2 MiB blocks,
 * which the walk then visits), so each page costs one store; a block
 * straddling an end is split keeping its attributes and its inner part
 * visited; pages already there get the compare-and-swap of prot_visit.
 */
static int pages_visit(struct stage2_visit *v)
{
	struct range_ctx *r = v->arg;

	if (!pte_is_valid(v->old))
		return 0;
	if (v->level == 3) {   /* a page: always wholly inside */
		if (!r->dry)
			prot_update_leaf(v, r);
		return 0;
	}
	if (!leaf_inside(v, r)) {
		/* Counting: the inner 2 MiB blocks of a straddling 1 GiB
		 * block are split again once the walk reaches them. */
		if (r->dry && v->level == 1)
			r->need += (v->end - v->start) / pt_level_size(2) + 2;
		return 0;
	}
	if (r->dry) {
		r->need += v->level == 2 ? 1 : 1 + PT_ENTRIES;
		return 0;
	}
	/* The block's permissions give way to the new ones: a hardware
	 * dirty mark on it is dropped, which is why this runs only before
	 * logging starts, when no leaf has DBM set. */
	split_leaf_perms(v, &r->cache, S2_PERM_MASK, r->perms);
	return v->level == 2 ? WALK_SKIP : 0;
}

int stage2_split_to_pages(struct stage2 *s2, u64 ipa, u64 size,
			  unsigned int prot)
{
	struct range_ctx r = { 0 };

	return perms_op(s2, ipa, size, prot, pages_visit, &r);
}

/* ------------------------------------------------- split and merge */

struct split_ctx {
	struct table_cache cache;
};

static int split_visit(struct stage2_visit *v)
{
	struct split_ctx *sc = v->arg;

	if (!pte_is_valid(v->old))
		return -ENOENT;
	if (v->level == 3)
		return -EINVAL;
	split_leaf(v, &sc->cache);
	return WALK_STOP;
}

int stage2_split_block(struct stage2 *s2, u64 ipa)
{
	struct split_ctx sc = { { 0, 0 } };
	int ret;

	ipa = ALIGN_DOWN(ipa, PAGE_SIZE);
	ret = check_range(s2, ipa, PAGE_SIZE);
	if (ret)
		return ret;
	spin_lock(&s2->lock);
	ret = cache_fill(s2, &sc.cache, 1);
	if (!ret)
		ret = walk_locked(s2, ipa, ipa + PAGE_SIZE, split_visit, &sc,
				  STAGE2_WALK_LEAF);
	if (ret == WALK_STOP) {
		ret = 0;
		publish(s2);
	}
	cache_release(s2, &sc.cache);
	spin_unlock(&s2->lock);
	return ret;
}

struct merge_ctx {
	unsigned int level;
};

/* Is the table under @table_pte (at @level) mergeable into one block? */
static bool table_uniform(const struct stage2 *s2, u64 table_pte,
			  unsigned int level)
{
	const u64 *t = stage2_table_va(s2, pte_addr(table_pte));
	u64 first = stage2_pte_read(&t[0]), csize = pt_level_size(level + 1);

	if (!pte_is_leaf(first, level + 1) ||
	    !IS_ALIGNED(pte_addr(first), pt_level_size(level)))
		return false;
	for (unsigned int i = 1; i < PT_ENTRIES; i++) {
		u64 pte = stage2_pte_read(&t[i]);

		if (!pte_is_leaf(pte, level + 1) ||
		    pte_addr(pte) != pte_addr(first) + i * csize ||
		    sw_attrs(pte) != sw_attrs(first))
			return false;
	}
	return true;
}

/*
 * The block replacing table @old. Runs after the break and TLBI, when no
 * CPU can update the old leaves any more: their hardware bits are final.
 */
static u64 make_merged_block(struct stage2 *s2, u64 old, unsigned int level,
			     void *arg)
{
	const u64 *t = stage2_table_va(s2, pte_addr(old));
	u64 hw = 0;

	for (unsigned int i = 0; i < PT_ENTRIES; i++)
		hw |= stage2_pte_read(&t[i]) & S2_HW_MASK;
	if (!(t[0] & S2_DBM))
		hw &= ~S2AP_W;   /* W is then a permission, equal in all */
	return pte_make_leaf(pte_addr(t[0]), pte_leaf_attrs(t[0]) | hw,
				level);
}

static int merge_visit(struct stage2_visit *v)
{
	const struct merge_ctx *mc = v->arg;

	if (v->level < mc->level)
		return v->kind == STAGE2_WALK_LEAF ? -ENOENT : 0;
	if (v->kind != STAGE2_WALK_TABLE_PRE)
		return -ENOENT;
	if (!table_uniform(v->s2, v->old, v->level))
		return -EINVAL;
	break_before_make(v->s2, v->ptep, v->ipa, v->level, make_merged_block,
			  NULL);
	table_free(v->s2, pte_addr(v->old));
	return WALK_STOP;
}

int stage2_merge(struct stage2 *s2, u64 ipa, unsigned int level)
{
	struct merge_ctx mc = { .level = level };
	int ret;

	if (level < 1 || level > 2 || level < s2->start_level)
		return -EINVAL;
	ipa = ALIGN_DOWN(ipa, pt_level_size(level));
	ret = check_range(s2, ipa, pt_level_size(level));
	if (ret)
		return ret;
	spin_lock(&s2->lock);
	ret = walk_locked(s2, ipa, ipa + pt_level_size(level), merge_visit, &mc,
			  STAGE2_WALK_LEAF | STAGE2_WALK_TABLE_PRE);
	if (ret == WALK_STOP) {
		ret = 0;
		publish(s2);
	}
	spin_unlock(&s2->lock);
	return ret;
}

/* ----------------------------------------------------------- lookups */

struct translate_ctx {
	u64 pte;
	unsigned int level;
	u64 ipa;
};

static int translate_visit(struct stage2_visit *v)
{
	struct translate_ctx *tc = v->arg;

	if (!pte_is_valid(v->old))
		return -ENOENT;
	tc->pte = v->old;
	tc->level = v->level;
	tc->ipa = v->ipa;
	return WALK_STOP;
}

int stage2_translate(struct stage2 *s2, u64 ipa, paddr_t *pa,
		     unsigned int *prot, unsigned int *level)
{
	struct translate_ctx tc = { 0 };
	u64 page = ALIGN_DOWN(ipa, PAGE_SIZE);
	int ret = check_range(s2, page, PAGE_SIZE);

	if (ret)
		return ret;
	spin_lock(&s2->lock);
	ret = walk_locked(s2, page, page + PAGE_SIZE, translate_visit, &tc,
			  STAGE2_WALK_LEAF);
	spin_unlock(&s2->lock);
	if (ret != WALK_STOP)
		return ret ? ret : -ENOENT;
	if (pa)
		*pa = pte_addr(tc.pte) + (ipa - tc.ipa);
	if (prot)
		*prot = pte_prot(tc.pte);
	if (level)
		*level = tc.level;
	return 0;
}

/* ------------------------------------------------------- life cycle */

int stage2_init(struct stage2 *s2, struct page_pool *pool,
		const struct stage2_mm_ops *ops, unsigned int ipa_bits,
		unsigned int pa_range, u16 vmid)
{
	int ret;

	memset(s2, 0, sizeof(*s2));
	ret = stage2_vtcr(ipa_bits, pa_range, &s2->vtcr, &s2->start_level,
			  &s2->nroot);
	if (ret)
		return ret;
	if (vmid > 0xff)
		return -EINVAL;
	/* Concatenated roots: contiguous and aligned to their total size. */
	if (page_alloc(pool, s2->nroot, s2->nroot, &s2->root))
		return -ENOMEM;
	s2->lock = (struct spinlock)SPINLOCK_INIT;
	s2->ipa_bits = ipa_bits;
	s2->vmid = vmid;
	s2->pool = pool;
	s2->ops = ops;
	s2->tables = s2->nroot;
	s2->vttbr = s2->root | ((u64)vmid << VTTBR_VMID_SHIFT);
	memset(stage2_table_va(s2, s2->root), 0, s2->nroot * PAGE_SIZE);
	publish(s2);
	return 0;
}

static int destroy_visit(struct stage2_visit *v)
{
	table_free(v->s2, pte_addr(v->old));
	return 0;
}

void stage2_destroy(struct stage2 *s2)
{
	spin_lock(&s2->lock);
	/* No TLB may keep an entry of this VMID (it may be reused), nor a
	 * walk-cache entry pointing into pages about to be reused. */
	s2->ops->tlbi_vmid(s2);
	s2->ops->barrier(STAGE2_DSB_ISH);
	walk_locked(s2, 0, 1ULL << s2->ipa_bits, destroy_visit, NULL,
		    STAGE2_WALK_TABLE_POST);
	page_free(s2->pool, s2->root, s2->nroot);
	s2->tables -= s2->nroot;
	s2->root = 0;
	spin_unlock(&s2->lock);
}

/* ------------------------------------------------- arm64 default ops */

#ifdef __aarch64__

static void *identity_phys_to_virt(paddr_t pa)
{
	return (void *)pa;
}

static paddr_t identity_virt_to_phys(void *va)
{
	return (paddr_t)va;
}

/*
 * TLBI by IPA acts on the VMID in VTTBR_EL2, so this VM's VTTBR is
 * loaded around it. Requires interrupts masked (s2->lock is taken so)
 * and must not run between a vCPU's VTTBR load and its ERET.
 */
static void arm64_tlbi_ipa(struct stage2 *s2, u64 ipa, unsigned int level)
{
	u64 saved = read_sysreg(vttbr_el2);

	write_sysreg(vttbr_el2, s2->vttbr);
	isb();               /* the TLBIs below use this VM's VMID */
	/* Stage-2 entries (all levels) for this IPA; operand is IPA[47:12]. */
	__asm__ volatile("tlbi ipas2e1is, %0" : : "r"(ipa >> 12) : "memory");
	dsb(ish);            /* IPA invalidation done before the next one */
	/* Combined stage-1+2 entries are tagged by VA, not IPA: drop all
	 * stage-1 entries of this VMID, which drops those too. */
	__asm__ volatile("tlbi vmalle1is" : : : "memory");
	dsb(ish);            /* both complete before the VMID goes away */
	write_sysreg(vttbr_el2, saved);
	isb();               /* the old VTTBR is back for what follows */
}

static void arm64_tlbi_vmid(struct stage2 *s2)
{
	u64 saved = read_sysreg(vttbr_el2);

	write_sysreg(vttbr_el2, s2->vttbr);
	isb();               /* the TLBI below uses this VM's VMID */
	/* Every stage-1 and stage-2 entry of this VMID, all CPUs. */
	__asm__ volatile("tlbi vmalls12e1is" : : : "memory");
	dsb(ish);            /* complete before the VMID goes away */
	write_sysreg(vttbr_el2, saved);
	isb();
}

static void arm64_tlbi_ipa_local(struct stage2 *s2, u64 ipa)
{
	(void)s2;   /* its VMID is the one in VTTBR_EL2 */
	stage2_arm64_tlbi_ipa_local(ipa);
}

static void arm64_barrier(enum stage2_barrier kind)
{
	switch (kind) {
	case STAGE2_DSB_ISHST:
		dsb(ishst);  /* earlier descriptor stores reach all walkers */
		break;
	case STAGE2_DSB_ISH:
		dsb(ish);    /* earlier TLBIs complete on all CPUs */
		break;
	case STAGE2_ISB:
	default:
		isb();       /* later instructions see the new context */
		break;
	}
}

const struct stage2_mm_ops stage2_default_ops = {
	.phys_to_virt = identity_phys_to_virt,
	.virt_to_phys = identity_virt_to_phys,
	.tlbi_ipa = arm64_tlbi_ipa,
	.tlbi_vmid = arm64_tlbi_vmid,
	.tlbi_ipa_local = arm64_tlbi_ipa_local,
	.barrier = arm64_barrier,
	.pte_written = NULL,
};

#endif
