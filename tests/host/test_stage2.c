/*
 * Stage-2 tables (mm/stage2.c) on the host: "physical memory" is a
 * malloc'd 64 MiB at PA 0x80000000 with a page pool over it, and the
 * fake ops record descriptor stores, TLBIs and barriers in order.
 */
#include <pthread.h>
#include <stdlib.h>

#include "arch/arm64/stage2_pte.h"
#include "lib/compiler.h"
#include "lib/errno.h"
#include "mm/page_alloc.h"
#include "mm/stage2.h"
#include "tests/host/test.h"

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

#define MEM_BASE 0x80000000ULL
#define MEM_SIZE (64 * MiB)
#define MEM_PAGES (MEM_SIZE / PAGE_SIZE)
#define PA_RANGE_40 2          /* ID_AA64MMFR0_EL1.PARange for 40 bits */
#define PA_RANGE_48 5
#define OUT 0x100000000ULL     /* output addresses used by the tests (never
				* dereferenced: not inside MEM) */

static u8 *mem;
static struct page_pool pool;
static u64 pool_bitmap[2][MEM_PAGES / 64];
static struct stage2 s2;

/* ------------------------------------------------------ fake hardware */

enum ev_kind { EV_WRITE, EV_TLBI_IPA, EV_TLBI_VMID, EV_BARRIER };

struct event {
	enum ev_kind kind;
	u64 a;   /* WRITE: entry's PA; TLBI_IPA: IPA; BARRIER: kind */
	u64 b;   /* WRITE: value; TLBI_IPA: level */
};

#define MAX_EVENTS 65536
static struct event events[MAX_EVENTS];
static unsigned int nevents;
static bool recording;
static u64 tlbi_ipa_count, tlbi_vmid_count;

static void *fake_phys_to_virt(paddr_t pa)
{
	if (pa < MEM_BASE || pa >= MEM_BASE + MEM_SIZE)
		abort();   /* a table address outside "RAM": a bug, stop here */
	return mem + (pa - MEM_BASE);
}

static paddr_t fake_virt_to_phys(void *va)
{
	return MEM_BASE + (u64)((u8 *)va - mem);
}

static void record(enum ev_kind kind, u64 a, u64 b)
{
	if (recording && nevents < MAX_EVENTS)
		events[nevents++] = (struct event){ kind, a, b };
}

static void fake_tlbi_ipa(struct stage2 *s, u64 ipa, unsigned int level)
{
	__atomic_fetch_add(&tlbi_ipa_count, 1, __ATOMIC_RELAXED);
	record(EV_TLBI_IPA, ipa, level);
}

static void fake_tlbi_vmid(struct stage2 *s)
{
	__atomic_fetch_add(&tlbi_vmid_count, 1, __ATOMIC_RELAXED);
	record(EV_TLBI_VMID, 0, 0);
}

static void fake_barrier(enum stage2_barrier kind)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	record(EV_BARRIER, kind, 0);
}

static void fake_pte_written(struct stage2 *s, const u64 *ptep, u64 val)
{
	record(EV_WRITE, MEM_BASE + (u64)((const u8 *)ptep - mem), val);
}

static const struct stage2_mm_ops fake_ops = {
	.phys_to_virt = fake_phys_to_virt,
	.virt_to_phys = fake_virt_to_phys,
	.tlbi_ipa = fake_tlbi_ipa,
	.tlbi_vmid = fake_tlbi_vmid,
	.barrier = fake_barrier,
	.pte_written = fake_pte_written,
};

/* --------------------------------------------------------------- setup */

/* A pool of the first @pages pages of MEM and an empty 40-bit space. */
static int setup_pages(u64 pages)
{
	if (!mem) {
		mem = aligned_alloc(PAGE_SIZE, MEM_SIZE);
		if (!mem)
			abort();
	}
	memset(mem, 0x5a, MEM_SIZE);   /* tables must be zeroed by stage2 */
	page_pool_init(&pool);
	if (page_pool_add_range(&pool, MEM_BASE, pages * PAGE_SIZE,
				pool_bitmap[0], sizeof(pool_bitmap[0])))
		abort();
	nevents = 0;
	recording = false;
	tlbi_ipa_count = tlbi_vmid_count = 0;
	return stage2_init(&s2, &pool, &fake_ops, 40, PA_RANGE_40, 1);
}

static int setup(void)
{
	return setup_pages(MEM_PAGES);
}

static bool page_in_use(paddr_t pa)
{
	for (unsigned int i = 0; i < pool.nranges; i++) {
		const struct page_range *r = &pool.ranges[i];

		if (pa >= r->base && pa < r->base + r->npages * PAGE_SIZE) {
			u64 n = (pa - r->base) / PAGE_SIZE;

			return r->bitmap[n / 64] & (1ULL << (n % 64));
		}
	}
	return false;
}

static u64 pool_used(void)
{
	u64 total = 0;

	for (unsigned int i = 0; i < pool.nranges; i++)
		total += pool.ranges[i].npages;
	return total - page_pool_free_pages(&pool);
}

/* ----------------------------------------------------- table inspection */

static u8 seen[MEM_PAGES];
static u64 reached;

static const char *check_table(paddr_t pa, u64 nentries, unsigned int level,
			       bool root)
{
	u64 size = pt_level_size(level);
	const u64 *t;
	bool any = false;

	for (u64 k = 0; k < nentries / PT_ENTRIES; k++) {
		paddr_t page = pa + k * PAGE_SIZE;

		if (page < MEM_BASE || page >= MEM_BASE + MEM_SIZE)
			return "table page outside the pool's memory";
		if (!page_in_use(page))
			return "table page is free in the pool";
		if (seen[(page - MEM_BASE) / PAGE_SIZE]++)
			return "table page reachable twice";
		reached++;
	}
	t = fake_phys_to_virt(pa);
	for (u64 i = 0; i < nentries; i++) {
		u64 pte = t[i];

		if (!pte)
			continue;
		if (!pte_is_valid(pte))
			return "non-zero invalid entry";
		any = true;
		if (pte_is_table(pte, level)) {
			const char *err = check_table(pte_addr(pte), PT_ENTRIES, level + 1,
					  false);
			if (err)
				return err;
			continue;
		}
		if (level == 0)
			return "leaf at level 0";
		if (!IS_ALIGNED(pte_addr(pte), size))
			return "leaf output not aligned to its size";
		if (!(pte & S2_AF))
			return "leaf without AF";
	}
	if (!any && !root)
		return "empty table left linked";
	return NULL;
}

/* Every structural invariant of s2 and its pool; "ok" if all hold. */
static const char *invariants(void)
{
	const char *err;

	memset(seen, 0, sizeof(seen));
	reached = 0;
	if (!IS_ALIGNED(s2.root, s2.nroot * PAGE_SIZE))
		return "root not aligned to its concatenated size";
	err = check_table(s2.root, (u64)s2.nroot * PT_ENTRIES, s2.start_level,
			  true);
	if (err)
		return err;
	if (reached != s2.tables)
		return "s2.tables does not match the tables reachable";
	if (pool_used() != s2.tables)
		return "pool pages in use other than reachable tables";
	if (page_pool_check(&pool))
		return "pool inconsistent";
	return "ok";
}

/* The entry at @level for @ipa, or NULL if a leaf/hole comes first. */
static u64 *find_entry(u64 ipa, unsigned int level)
{
	u64 *t = fake_phys_to_virt(s2.root);
	unsigned int l = s2.start_level;
	u64 idx = ipa / pt_level_size(l);

	for (;; l++) {
		u64 *ptep = &t[idx];

		if (l == level)
			return ptep;
		if (!pte_is_table(*ptep, l))
			return NULL;
		t = fake_phys_to_virt(pte_addr(*ptep));
		idx = pt_index(ipa, l + 1);
	}
}

/* Every reachable entry, in walk order, for before/after comparisons. */
struct snapshot {
	u64 n;
	u64 v[1 << 16];
};

static void snap_table(struct snapshot *s, paddr_t pa, u64 nentries,
		       unsigned int level)
{
	const u64 *t = fake_phys_to_virt(pa);

	for (u64 i = 0; i < nentries; i++) {
		if (s->n < ARRAY_SIZE(s->v))
			s->v[s->n++] = t[i];
		if (pte_is_table(t[i], level))
			snap_table(s, pte_addr(t[i]), PT_ENTRIES, level + 1);
	}
}

static struct snapshot saved, now;

static void take_snapshot(struct snapshot *s)
{
	s->n = 0;
	snap_table(s, s2.root, (u64)s2.nroot * PT_ENTRIES, s2.start_level);
}

/* Whether the tables still equal the last take_snapshot(&saved). */
static bool unchanged_since_saved(void)
{
	take_snapshot(&now);
	return saved.n == now.n &&
	       memcmp(saved.v, now.v, saved.n * sizeof(u64)) == 0;
}

static bool maps(u64 ipa, paddr_t want_pa, unsigned int want_prot,
		 unsigned int want_level)
{
	paddr_t pa;
	unsigned int prot, level;

	return stage2_translate(&s2, ipa, &pa, &prot, &level) == 0 &&
	       pa == want_pa && prot == want_prot && level == want_level;
}

static bool unmapped(u64 ipa)
{
	paddr_t pa;

	return stage2_translate(&s2, ipa, &pa, NULL, NULL) == -ENOENT;
}

/* ------------------------------------------------------------- VTCR */

TEST(vtcr_values_for_each_ipa_size)
{
	/* RES1 | PS=48 bits (5) | SH0 inner | ORGN0/IRGN0 WBWA | TG0 4K,
	 * plus SL0 (bits 7:6) and T0SZ (bits 5:0). */
	static const struct {
		unsigned int bits;
		u64 vtcr;
		unsigned int level, nroot;
	} want[] = {
		{ 32, 0x80053520, 2, 4 },  /* level 2, 4 concatenated */
		{ 36, 0x8005355c, 1, 1 },  /* level 1, 64 entries used */
		{ 39, 0x80053559, 1, 1 },
		{ 40, 0x80053558, 1, 2 },  /* level 1, 2 concatenated */
		{ 42, 0x80053556, 1, 8 },
		{ 44, 0x80053594, 0, 1 },  /* 44 > 43: needs level 0 */
		{ 48, 0x80053590, 0, 1 },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(want); i++) {
		u64 vtcr;
		unsigned int level, nroot;

		CHECK_EQ(stage2_vtcr(want[i].bits, PA_RANGE_48, &vtcr, &level,
				     &nroot), 0);
		CHECK_EQ(vtcr, want[i].vtcr);
		CHECK_EQ(level, want[i].level);
		CHECK_EQ(nroot, want[i].nroot);
	}
}

TEST(vtcr_ps_follows_cpu_pa_range_and_caps_at_48_bits)
{
	u64 vtcr;

	CHECK_EQ(stage2_vtcr(40, PA_RANGE_40, &vtcr, NULL, NULL), 0);
	CHECK_EQ((vtcr >> 16) & 7, 2);
	CHECK_EQ(stage2_vtcr(40, 6 /* 52 bits */, &vtcr, NULL, NULL), 0);
	CHECK_EQ((vtcr >> 16) & 7, 5);
}

TEST(vtcr_rejects_ipa_beyond_pa_range_or_supported_sizes)
{
	u64 vtcr;

	CHECK_EQ(stage2_vtcr(42, PA_RANGE_40, &vtcr, NULL, NULL), -ERANGE);
	CHECK_EQ(stage2_vtcr(31, PA_RANGE_48, &vtcr, NULL, NULL), -ERANGE);
	CHECK_EQ(stage2_vtcr(49, 6, &vtcr, NULL, NULL), -ERANGE);
}

TEST(init_allocates_aligned_concatenated_zeroed_roots)
{
	CHECK_EQ(setup(), 0);
	CHECK_EQ(s2.nroot, 2);
	CHECK_EQ(s2.start_level, 1);
	CHECK_EQ(s2.vttbr, s2.root | (1ULL << 48));
	CHECK_STREQ(invariants(), "ok");
	CHECK(unmapped(0) && unmapped((1ULL << 40) - PAGE_SIZE));
	stage2_destroy(&s2);
	CHECK_EQ(pool_used(), 0);
}

/* ------------------------------------------------------------- map */

TEST(map_pages_then_translate_each)
{
	CHECK_EQ(setup(), 0);
	CHECK_EQ(stage2_map(&s2, 0x40001000, OUT + 0x5000, 3 * PAGE_SIZE,
			    STAGE2_PROT_RW), 0);
	CHECK(maps(0x40001000, OUT + 0x5000, STAGE2_PROT_RW, 3));
	CHECK(maps(0x40003fff, OUT + 0x7fff, STAGE2_PROT_RW, 3));
	CHECK(unmapped(0x40000000) && unmapped(0x40004000));
	CHECK_STREQ(invariants(), "ok");
}

TEST(map_aligned_range_uses_1g_and_2m_blocks)
{
	CHECK_EQ(setup(), 0);
	CHECK_EQ(stage2_map(&s2, GiB, OUT, GiB + 2 * MiB + PAGE_SIZE,
			    STAGE2_PROT_RW | STAGE2_PROT_X), 0);
	CHECK(maps(GiB + 5 * MiB, OUT + 5 * MiB, STAGE2_PROT_RW | STAGE2_PROT_X, 1));
	CHECK(maps(2 * GiB + MiB, OUT + GiB + MiB, STAGE2_PROT_RW | STAGE2_PROT_X, 2));
	CHECK(maps(2 * GiB + 2 * MiB, OUT + GiB + 2 * MiB,
		   STAGE2_PROT_RW | STAGE2_PROT_X, 3));
	CHECK(unmapped(2 * GiB + 2 * MiB + PAGE_SIZE));
	/* roots + one level-2 table + one level-3 table */
	CHECK_EQ(s2.tables, 4);
	CHECK_STREQ(invariants(), "ok");
}

TEST(block_needs_ipa_and_pa_aligned_together)
{
	CHECK_EQ(setup(), 0);
	/* IPA 2 MiB aligned, PA only 4 KiB aligned: pages. */
	CHECK_EQ(stage2_map(&s2, 0x40000000, OUT + PAGE_SIZE, 2 * MiB,
			    STAGE2_PROT_RW), 0);
	CHECK(maps(0x40000000, OUT + PAGE_SIZE, STAGE2_PROT_RW, 3));
	/* Both aligned: a block. */
	CHECK_EQ(stage2_map(&s2, 0x40400000, OUT + 4 * MiB, 2 * MiB,
			    STAGE2_PROT_RW), 0);
	CHECK(maps(0x40400000, OUT + 4 * MiB, STAGE2_PROT_RW, 2));
	/* PA 2 MiB aligned, IPA not: pages. */
	CHECK_EQ(stage2_map(&s2, 0x40801000, OUT + 8 * MiB, 2 * MiB,
			    STAGE2_PROT_RW), 0);
	CHECK(maps(0x40a00000, OUT + 8 * MiB + 0x1ff000, STAGE2_PROT_RW, 3));
	CHECK_STREQ(invariants(), "ok");
}

TEST(device_memory_translates_as_device)
{
	CHECK_EQ(setup(), 0);
	CHECK_EQ(stage2_map(&s2, 0x08000000, 0x08000000, 64 * KiB,
			    STAGE2_PROT_RW | STAGE2_PROT_DEVICE), 0);
	CHECK(maps(0x08000000, 0x08000000, STAGE2_PROT_RW | STAGE2_PROT_DEVICE, 3));
	CHECK_EQ(*find_entry(0x08000000, 3) & S2_MEMATTR_MASK,
		 S2_MEMATTR(S2_MEMATTR_DEVICE_nGnRE));
}

TEST(map_over_other_mapping_is_eexist_and_changes_nothing)
{
	CHECK_EQ(setup(), 0);
	CHECK_EQ(stage2_map(&s2, 0x40200000, OUT, PAGE_SIZE, STAGE2_PROT_RW), 0);
	take_snapshot(&saved);
	/* Starts in a hole, then hits the page with another output. */
	CHECK_EQ(stage2_map(&s2, 0x40000000, OUT + 8 * MiB, 4 * MiB,
			    STAGE2_PROT_RW), -EEXIST);
	/* Same output, other permissions. */
	CHECK_EQ(stage2_map(&s2, 0x40200000, OUT, PAGE_SIZE, STAGE2_PROT_R), -EEXIST);
	CHECK(unchanged_since_saved());
	CHECK_STREQ(invariants(), "ok");
}

TEST(map_same_mapping_again_succeeds)
{
	CHECK_EQ(setup(), 0);
	CHECK_EQ(stage2_map(&s2, 0x40000000, OUT, 2 * MiB, STAGE2_PROT_RW), 0);
	CHECK_EQ(stage2_map(&s2, 0x40001000, OUT + 0x1000, PAGE_SIZE,
			    STAGE2_PROT_RW), 0);
	CHECK_EQ(stage2_map(&s2, 0x40000000, OUT, 4 * MiB, STAGE2_PROT_RW), 0);
	CHECK(maps(0x40200000, OUT + 2 * MiB, STAGE2_PROT_RW, 2));
	CHECK_STREQ(invariants(), "ok");
}

TEST(map_rejects_bad_arguments)
{
	CHECK_EQ(setup(), 0);
	CHECK_EQ(stage2_map(&s2, 0x40000800, OUT, PAGE_SIZE, STAGE2_PROT_RW), -EINVAL);
	CHECK_EQ(stage2_map(&s2, 0x40000000, OUT + 8, PAGE_SIZE, STAGE2_PROT_RW), -EINVAL);
	CHECK_EQ(stage2_map(&s2, 0x40000000, OUT, 0, STAGE2_PROT_RW), -EINVAL);
	CHECK_EQ(stage2_map(&s2, 0x40000000, OUT, PAGE_SIZE, 1u << 20), -EINVAL);
	CHECK_EQ(stage2_map(&s2, (1ULL << 40) - PAGE_SIZE, OUT, 2 * PAGE_SIZE,
			    STAGE2_PROT_RW), -ERANGE);
	CHECK_EQ(stage2_map(&s2, 0, (1ULL << 40) - PAGE_SIZE, 2 * PAGE_SIZE,
			    STAGE2_PROT_RW), -ERANGE);
	CHECK_EQ(s2.tables, 2);
}

TEST(map_enomem_when_pool_is_dry_changes_nothing)
{
	/* 2 root pages + 2 for the first page's tables + 1 spare. */
	CHECK_EQ(setup_pages(5), 0);
	CHECK_EQ(stage2_map(&s2, 0x40000000, OUT, PAGE_SIZE, STAGE2_PROT_RW), 0);
	/* Pages up to 0x40200000, a block, then a level-3 table: the spare. */
	CHECK_EQ(stage2_map(&s2, 0x40001000, OUT + 0x1000, 4 * MiB,
			    STAGE2_PROT_RW), 0);
	CHECK(maps(0x40200000, OUT + 0x200000, STAGE2_PROT_RW, 2));
	CHECK_EQ(page_pool_free_pages(&pool), 0);
	take_snapshot(&saved);
	CHECK_EQ(stage2_map(&s2, 0x80001000, OUT + 0x80001000, PAGE_SIZE,
			    STAGE2_PROT_RW), -ENOMEM);
	CHECK(unchanged_since_saved());
	CHECK_EQ(page_pool_free_pages(&pool), 0);
	CHECK(unmapped(0x80001000));
	CHECK_STREQ(invariants(), "ok");
}

TEST(map_enomem_partway_through_preparing_changes_nothing)
{
	CHECK_EQ(setup_pages(5), 0);   /* roots + 3 free */
	CHECK_EQ(stage2_map(&s2, 0x40000000, OUT, PAGE_SIZE, STAGE2_PROT_RW), 0);
	take_snapshot(&saved);
	CHECK_EQ(page_pool_free_pages(&pool), 1);
	/* Needs 2 tables: the first allocation succeeds, the second fails. */
	CHECK_EQ(stage2_map(&s2, 0x40201000, OUT + 0x1000, 4 * MiB - 0x2000,
			    STAGE2_PROT_RW), -ENOMEM);
	CHECK_EQ(page_pool_free_pages(&pool), 1);
	CHECK(unchanged_since_saved());
	CHECK(unmapped(0x40201000));
	/* More memory: the same call now succeeds. */
	CHECK_EQ(page_pool_add_range(&pool, MEM_BASE + MiB, MiB, pool_bitmap[1],
				     sizeof(pool_bitmap[1])), 0);
	CHECK_EQ(stage2_map(&s2, 0x40201000, OUT + 0x1000, 4 * MiB - 0x2000,
			    STAGE2_PROT_RW), 0);
	CHECK(maps(0x40201000, OUT + 0x1000, STAGE2_PROT_RW, 3));
	CHECK_STREQ(invariants(), "ok");
}

/* ------------------------------------------------------------- unmap */

TEST(unmap_part_of_block_splits_it_and_keeps_the_rest)
{
	CHECK_EQ(setup(), 0);
	CHECK_EQ(stage2_map(&s2, GiB, OUT, GiB, STAGE2_PROT_RW), 0);
	CHECK_EQ(stage2_unmap(&s2, GiB + 2 * MiB + 0x3000, 0x2000), 0);
	CHECK(unmapped(GiB + 2 * MiB + 0x3000) && unmapped(GiB + 2 * MiB + 0x4000));
	CHECK(maps(GiB + 2 * MiB + 0x2000, OUT + 2 * MiB + 0x2000, STAGE2_PROT_RW, 3));
	CHECK(maps(GiB + 2 * MiB + 0x5000, OUT + 2 * MiB + 0x5000, STAGE2_PROT_RW, 3));
	CHECK(maps(GiB, OUT, STAGE2_PROT_RW, 2));
	CHECK(maps(2 * GiB - 1, OUT + GiB - 1, STAGE2_PROT_RW, 2));
	CHECK_STREQ(invariants(), "ok");
}

TEST(unmap_everything_frees_every_table_but_the_roots)
{
	CHECK_EQ(setup(), 0);
	CHECK_EQ(stage2_map(&s2, 0x40001000, OUT + 0x1000, 5 * MiB, STAGE2_PROT_RW), 0);
	CHECK(s2.tables > 2);
	CHECK_EQ(stage2_unmap(&s2, 0x40000000, 8 * MiB), 0);
	CHECK_EQ(s2.tables, 2);
	CHECK_EQ(pool_used(), 2);
	CHECK_STREQ(invariants(), "ok");
}

TEST(unmap_of_a_hole_is_fine)
{
	CHECK_EQ(setup(), 0);
	CHECK_EQ(stage2_unmap(&s2, 0x40000000, GiB), 0);
	CHECK_STREQ(invariants(), "ok");
}

TEST(unmap_enomem_for_split_changes_nothing)
{
	CHECK_EQ(setup_pages(3), 0);   /* roots + 1 free */
	CHECK_EQ(stage2_map(&s2, GiB, OUT, GiB, STAGE2_PROT_RW), 0);
	take_snapshot(&saved);
	/* Splitting 1 GiB down to pages needs 2 tables. */
	CHECK_EQ(stage2_unmap(&s2, GiB + 0x1000, 0x1000), -ENOMEM);
	CHECK(unchanged_since_saved());
	CHECK_EQ(page_pool_free_pages(&pool), 1);
	CHECK(maps(GiB + 0x1000, OUT + 0x1000, STAGE2_PROT_RW, 1));
}

/* ------------------------------------------------------- permissions */

TEST(protect_range_read_only_then_back_to_read_write)
{
	CHECK_EQ(setup(), 0);
	CHECK_EQ(stage2_map(&s2, 0x40000000, OUT, 4 * MiB, STAGE2_PROT_RW), 0);
	CHECK_EQ(stage2_set_prot(&s2, 0x40100000, 2 * MiB, STAGE2_PROT_R), 0);
	CHECK(maps(0x400ff000, OUT + 0xff000, STAGE2_PROT_RW, 3));
	CHECK(maps(0x40100000, OUT + 0x100000, STAGE2_PROT_R, 3));
	CHECK(maps(0x402ff000, OUT + 0x2ff000, STAGE2_PROT_R, 3));
	CHECK(maps(0x40300000, OUT + 0x300000, STAGE2_PROT_RW, 3));
	CHECK_EQ(stage2_set_prot(&s2, 0x40100000, 2 * MiB, STAGE2_PROT_RW), 0);
	CHECK(maps(0x40100000, OUT + 0x100000, STAGE2_PROT_RW, 3));
	CHECK(maps(0x402ff000, OUT + 0x2ff000, STAGE2_PROT_RW, 3));
	CHECK_STREQ(invariants(), "ok");
}

TEST(set_prot_to_the_same_permissions_leaves_blocks_whole)
{
	CHECK_EQ(setup(), 0);
	CHECK_EQ(stage2_map(&s2, 0x40200000, OUT, 2 * MiB, STAGE2_PROT_RW), 0);
	CHECK_EQ(stage2_set_prot(&s2, 0x40201000, PAGE_SIZE, STAGE2_PROT_RW), 0);
	CHECK(maps(0x40201000, OUT + 0x1000, STAGE2_PROT_RW, 2));
	CHECK_EQ(tlbi_ipa_count, 0);
}

TEST(downgrade_is_followed_by_tlbi_and_dsb_upgrade_is_not)
{
	u64 *ptep;

	CHECK_EQ(setup(), 0);
	CHECK_EQ(stage2_map(&s2, 0x40000000, OUT, PAGE_SIZE, STAGE2_PROT_RW), 0);
	ptep = find_entry(0x40000000, 3);
	recording = true;
	nevents = 0;
	CHECK_EQ(stage2_set_prot(&s2, 0x40000000, PAGE_SIZE, STAGE2_PROT_R), 0);
	/* CAS write, DSB ISHST, TLBI by IPA, DSB ISH (the page now counts
	 * as protected), final publish. */
	CHECK(nevents >= 4);
	CHECK_EQ(events[0].kind, EV_WRITE);
	CHECK_EQ(events[0].a, fake_virt_to_phys(ptep));
	CHECK(!(events[0].b & S2AP_W));
	CHECK(events[1].kind == EV_BARRIER && events[1].a == STAGE2_DSB_ISHST);
	CHECK(events[2].kind == EV_TLBI_IPA && events[2].a == 0x40000000 &&
	      events[2].b == 3);
	CHECK(events[3].kind == EV_BARRIER && events[3].a == STAGE2_DSB_ISH);
	nevents = 0;
	CHECK_EQ(stage2_set_prot(&s2, 0x40000000, PAGE_SIZE, STAGE2_PROT_RW), 0);
	for (unsigned int i = 0; i < nevents; i++)
		CHECK(events[i].kind != EV_TLBI_IPA && events[i].kind != EV_TLBI_VMID);
	CHECK(*ptep & S2AP_W);
}

static u64 reported[8];

static void report_dirty(void *arg, u64 ipa, u64 size)
{
	reported[(ipa - 0x40000000) / PAGE_SIZE]++;
	(*(u64 *)arg)++;
}

TEST(set_prot_log_reports_dbm_dirty_pages_it_cleans)
{
	u64 n = 0;

	CHECK_EQ(setup(), 0);
	CHECK_EQ(stage2_map(&s2, 0x40000000, OUT, 8 * PAGE_SIZE,
			    STAGE2_PROT_R | STAGE2_PROT_DBM), 0);
	/* "Hardware" dirties pages 2 and 5. */
	*find_entry(0x40002000, 3) |= S2AP_W;
	*find_entry(0x40005000, 3) |= S2AP_W;
	memset(reported, 0, sizeof(reported));
	CHECK_EQ(stage2_set_prot_log(&s2, 0x40000000, 8 * PAGE_SIZE,
				     STAGE2_PROT_R | STAGE2_PROT_DBM, report_dirty, &n), 0);
	CHECK_EQ(n, 2);
	CHECK(reported[2] == 1 && reported[5] == 1);
	CHECK(!(*find_entry(0x40002000, 3) & S2AP_W));
	CHECK(*find_entry(0x40002000, 3) & S2_DBM);
}

/* ----------------------------------------------------- split / merge */

TEST(split_2m_block_keeps_attributes_in_all_512_pages)
{
	unsigned int prot = STAGE2_PROT_R | STAGE2_PROT_X;

	CHECK_EQ(setup(), 0);
	CHECK_EQ(stage2_map(&s2, 0x40200000, OUT + 2 * MiB, 2 * MiB, prot), 0);
	u64 block = *find_entry(0x40200000, 2);
	CHECK_EQ(stage2_split_block(&s2, 0x40234567), 0);
	for (u64 i = 0; i < 512; i++) {
		u64 pte = *find_entry(0x40200000 + i * PAGE_SIZE, 3);

		CHECK(maps(0x40200000 + i * PAGE_SIZE, OUT + 2 * MiB + i * PAGE_SIZE,
			   prot, 3));
		CHECK_EQ(pte_leaf_attrs(pte), pte_leaf_attrs(block));
	}
	CHECK_STREQ(invariants(), "ok");
}

TEST(split_is_break_before_make_in_order)
{
	paddr_t entry_pa;
	u64 *ptep;
	unsigned int i = 0;

	CHECK_EQ(setup(), 0);
	CHECK_EQ(stage2_map(&s2, 0x40200000, OUT + 2 * MiB, 2 * MiB, STAGE2_PROT_RW), 0);
	ptep = find_entry(0x40200000, 2);
	entry_pa = fake_virt_to_phys(ptep);
	recording = true;
	nevents = 0;
	CHECK_EQ(stage2_split_block(&s2, 0x40200000), 0);
	recording = false;
	/* invalid-write -> DSB ISHST -> TLBI by IPA (level 2) -> DSB ISH ->
	 * write of the new table entry. */
	CHECK(nevents >= 5);
	CHECK(events[i].kind == EV_WRITE && events[i].a == entry_pa && events[i].b == 0);
	i++;
	CHECK(events[i].kind == EV_BARRIER && events[i].a == STAGE2_DSB_ISHST);
	i++;
	CHECK(events[i].kind == EV_TLBI_IPA && events[i].a == 0x40200000 &&
	      events[i].b == 2);
	i++;
	CHECK(events[i].kind == EV_BARRIER && events[i].a == STAGE2_DSB_ISH);
	i++;
	CHECK(events[i].kind == EV_WRITE && events[i].a == entry_pa &&
	      pte_is_table(events[i].b, 2) && events[i].b == *ptep);
}

TEST(split_1g_block_gives_2m_blocks)
{
	CHECK_EQ(setup(), 0);
	CHECK_EQ(stage2_map(&s2, GiB, OUT, GiB, STAGE2_PROT_RW), 0);
	CHECK_EQ(stage2_split_block(&s2, GiB + 3 * MiB), 0);
	CHECK(maps(GiB + 3 * MiB, OUT + 3 * MiB, STAGE2_PROT_RW, 2));
	CHECK(maps(2 * GiB - PAGE_SIZE, OUT + GiB - PAGE_SIZE, STAGE2_PROT_RW, 2));
	CHECK_STREQ(invariants(), "ok");
}

TEST(split_of_a_page_or_hole_is_refused)
{
	CHECK_EQ(setup(), 0);
	CHECK_EQ(stage2_map(&s2, 0x40000000, OUT, PAGE_SIZE, STAGE2_PROT_RW), 0);
	CHECK_EQ(stage2_split_block(&s2, 0x40000000), -EINVAL);
	CHECK_EQ(stage2_split_block(&s2, 0x40001000), -ENOENT);
	CHECK_STREQ(invariants(), "ok");
}

TEST(merge_back_to_block_frees_the_table)
{
	u64 used;

	CHECK_EQ(setup(), 0);
	CHECK_EQ(stage2_map(&s2, 0x40200000, OUT + 2 * MiB, 2 * MiB, STAGE2_PROT_RW), 0);
	used = pool_used();
	CHECK_EQ(stage2_split_block(&s2, 0x40200000), 0);
	CHECK_EQ(pool_used(), used + 1);
	recording = true;
	nevents = 0;
	CHECK_EQ(stage2_merge(&s2, 0x40300000, 2), 0);
	recording = false;
	CHECK_EQ(pool_used(), used);
	CHECK(maps(0x40300000, OUT + 3 * MiB, STAGE2_PROT_RW, 2));
	/* Break-before-make of a table entry invalidates the whole VMID. */
	CHECK(events[0].kind == EV_WRITE && events[0].b == 0);
	CHECK(events[1].kind == EV_BARRIER && events[1].a == STAGE2_DSB_ISHST);
	CHECK(events[2].kind == EV_TLBI_VMID);
	CHECK(events[3].kind == EV_BARRIER && events[3].a == STAGE2_DSB_ISH);
	CHECK(events[4].kind == EV_WRITE && !pte_is_table(events[4].b, 2) &&
	      pte_is_valid(events[4].b));
	CHECK_STREQ(invariants(), "ok");
}

TEST(merge_2m_blocks_back_to_1g_block)
{
	CHECK_EQ(setup(), 0);
	CHECK_EQ(stage2_map(&s2, GiB, OUT, GiB, STAGE2_PROT_RW), 0);
	CHECK_EQ(stage2_split_block(&s2, GiB), 0);
	CHECK_EQ(stage2_merge(&s2, GiB, 1), 0);
	CHECK(maps(GiB, OUT, STAGE2_PROT_RW, 1));
	CHECK_EQ(s2.tables, 2);
	CHECK_STREQ(invariants(), "ok");
}

TEST(merge_keeps_hardware_dirty_state)
{
	CHECK_EQ(setup(), 0);
	CHECK_EQ(stage2_map(&s2, 0x40200000, OUT + 2 * MiB, 2 * MiB,
			    STAGE2_PROT_R | STAGE2_PROT_DBM), 0);
	CHECK_EQ(stage2_split_block(&s2, 0x40200000), 0);
	*find_entry(0x40207000, 3) |= S2AP_W;   /* hardware marked one dirty */
	CHECK_EQ(stage2_merge(&s2, 0x40200000, 2), 0);
	CHECK(*find_entry(0x40200000, 2) & S2AP_W);
}

TEST(merge_refuses_non_uniform_tables)
{
	CHECK_EQ(setup(), 0);
	CHECK_EQ(stage2_map(&s2, 0x40200000, OUT + 2 * MiB, 2 * MiB, STAGE2_PROT_RW), 0);
	CHECK_EQ(stage2_split_block(&s2, 0x40200000), 0);
	CHECK_EQ(stage2_set_prot(&s2, 0x40205000, PAGE_SIZE, STAGE2_PROT_R), 0);
	CHECK_EQ(stage2_merge(&s2, 0x40200000, 2), -EINVAL);
	CHECK_EQ(stage2_unmap(&s2, 0x40205000, PAGE_SIZE), 0);
	CHECK_EQ(stage2_merge(&s2, 0x40200000, 2), -EINVAL);
	/* Contiguous and uniform but the output is not 2 MiB aligned. */
	CHECK_EQ(stage2_map(&s2, 0x40600000, OUT + PAGE_SIZE, 2 * MiB, STAGE2_PROT_RW), 0);
	CHECK_EQ(stage2_merge(&s2, 0x40600000, 2), -EINVAL);
	/* Already a block, or nothing: no table to merge. */
	CHECK_EQ(stage2_map(&s2, 0x40800000, OUT + 8 * MiB, 2 * MiB, STAGE2_PROT_RW), 0);
	CHECK_EQ(stage2_merge(&s2, 0x40800000, 2), -ENOENT);
	CHECK_EQ(stage2_merge(&s2, 0x80000000, 2), -ENOENT);
	CHECK_EQ(stage2_merge(&s2, 0x40800000, 3), -EINVAL);
	CHECK_STREQ(invariants(), "ok");
}

/* ------------------------------------------------------- life cycle */

TEST(destroy_returns_every_table_page_and_flushes_the_vmid)
{
	CHECK_EQ(setup(), 0);
	CHECK_EQ(stage2_map(&s2, 0x40001000, OUT + 0x1000, 9 * MiB, STAGE2_PROT_RW), 0);
	CHECK_EQ(stage2_map(&s2, 0x7000000000, OUT, GiB + 4 * MiB, STAGE2_PROT_R), 0);
	tlbi_vmid_count = 0;
	stage2_destroy(&s2);
	CHECK_EQ(pool_used(), 0);
	CHECK_EQ(tlbi_vmid_count, 1);
	CHECK_EQ(s2.tables, 0);
}

struct count_ctx {
	unsigned int leaves, pre, post;
	u64 last_post_ipa;
};

static int count_visit(struct stage2_visit *v)
{
	struct count_ctx *c = v->arg;

	if (v->kind == STAGE2_WALK_LEAF && pte_is_valid(v->old))
		c->leaves++;
	if (v->kind == STAGE2_WALK_TABLE_PRE)
		c->pre++;
	if (v->kind == STAGE2_WALK_TABLE_POST) {
		c->post++;
		c->last_post_ipa = v->ipa;
	}
	return 0;
}

TEST(walk_visits_leaves_and_tables_before_and_after_children)
{
	struct count_ctx c = { 0 };

	CHECK_EQ(setup(), 0);
	CHECK_EQ(stage2_map(&s2, 0x40000000, OUT, 2 * MiB + 2 * PAGE_SIZE,
			    STAGE2_PROT_RW), 0);
	CHECK_EQ(stage2_walk(&s2, 0x40000000, 4 * MiB, count_visit, &c,
			     STAGE2_WALK_LEAF | STAGE2_WALK_TABLE_PRE |
			     STAGE2_WALK_TABLE_POST), 0);
	CHECK_EQ(c.leaves, 3);   /* one block and two pages */
	CHECK_EQ(c.pre, 2);      /* level-1 entry's table, 0x40200000's table */
	CHECK_EQ(c.post, 2);
	CHECK_EQ(c.last_post_ipa, 0x40000000);   /* the outer one last */
}

/* ------------------------------------------------ randomized model */

#define WIN_BASE 0x40000000ULL
#define WIN_PAGES 4096        /* 16 MiB: eight 2 MiB regions */
#define HOME (OUT + 64 * MiB) /* pa - ipa of the usual mapping */

struct model_page {
	bool mapped;
	paddr_t pa;
	unsigned int prot;
};

static struct model_page model[WIN_PAGES], seen_pages[WIN_PAGES];
static u64 rng_state;

static u64 rnd(u64 n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state % n;
}

static const unsigned int perms[] = {
	STAGE2_PROT_R, STAGE2_PROT_RW, STAGE2_PROT_R | STAGE2_PROT_X,
	STAGE2_PROT_RW | STAGE2_PROT_X, STAGE2_PROT_R | STAGE2_PROT_DBM,
};

static int dump_visit(struct stage2_visit *v)
{
	unsigned int prot = 0;

	if (!pte_is_valid(v->old))
		return 0;
	prot |= (v->old & S2AP_R) ? STAGE2_PROT_R : 0;
	prot |= (v->old & S2AP_W) ? STAGE2_PROT_W : 0;
	prot |= (v->old & S2_XN) ? 0 : STAGE2_PROT_X;
	prot |= (v->old & S2_DBM) ? STAGE2_PROT_DBM : 0;
	if ((v->old & S2_MEMATTR_MASK) == S2_MEMATTR(S2_MEMATTR_DEVICE_nGnRE))
		prot |= STAGE2_PROT_DEVICE;
	for (u64 ipa = v->start; ipa < v->end; ipa += PAGE_SIZE) {
		struct model_page *p = &seen_pages[(ipa - WIN_BASE) / PAGE_SIZE];

		p->mapped = true;
		p->pa = pte_addr(v->old) + (ipa - v->ipa);
		p->prot = prot;
	}
	return 0;
}

/* Index of the first page where the tables and the model differ, or -1. */
static long model_diff(void)
{
	memset(seen_pages, 0, sizeof(seen_pages));
	if (stage2_walk(&s2, WIN_BASE, WIN_PAGES * PAGE_SIZE, dump_visit, NULL,
			STAGE2_WALK_LEAF))
		return -2;
	for (long i = 0; i < WIN_PAGES; i++) {
		const struct model_page *m = &model[i], *t = &seen_pages[i];

		if (m->mapped != t->mapped ||
		    (m->mapped && (m->pa != t->pa || m->prot != t->prot)))
			return i;
	}
	return -1;
}

static void random_range(u64 *first, u64 *n)
{
	switch (rnd(3)) {
	case 0:   /* a few pages */
		*n = 1 + rnd(8);
		break;
	case 1:   /* whole 2 MiB regions */
		*first = rnd(WIN_PAGES / 512) * 512;
		*n = 512 * (1 + rnd(3));
		*n = MIN(*n, WIN_PAGES - *first);
		return;
	default:  /* anything */
		*n = 1 + rnd(1500);
		break;
	}
	*first = rnd(WIN_PAGES - *n + 1);
}

static int model_map(u64 first, u64 n, u64 delta, unsigned int prot)
{
	for (u64 i = first; i < first + n; i++) {
		const struct model_page *m = &model[i];
		u64 pa = WIN_BASE + i * PAGE_SIZE + delta;

		if (m->mapped && (m->pa != pa || m->prot != prot))
			return -EEXIST;
	}
	for (u64 i = first; i < first + n; i++)
		model[i] = (struct model_page){ true, WIN_BASE + i * PAGE_SIZE + delta,
						prot };
	return 0;
}

/* What stage2_merge(level 2) must answer for the region at @first. */
static int model_merge(u64 first)
{
	u64 *entry = find_entry(WIN_BASE + first * PAGE_SIZE, 2);

	if (!entry || !pte_is_table(*entry, 2))
		return -ENOENT;
	for (u64 i = first; i < first + 512; i++)
		if (!model[i].mapped || model[i].prot != model[first].prot ||
		    model[i].pa != model[first].pa + (i - first) * PAGE_SIZE)
			return -EINVAL;
	return IS_ALIGNED(model[first].pa, 2 * MiB) ? 0 : -EINVAL;
}

TEST(random_operations_match_a_page_model)
{
	/* [op][0]: succeeded, [op][1]: refused; all must occur. */
	unsigned int seen_outcome[5][2] = { { 0 } };
	static const int kind_of_op[10] = { 0, 0, 0, 0, 1, 1, 2, 2, 3, 4 };

	CHECK_EQ(setup(), 0);
	memset(model, 0, sizeof(model));
	rng_state = 0x9e3779b97f4a7c15ULL;
	for (int step = 0; step < 3000; step++) {
		u64 first = 0, n = 0;
		int op = (int)rnd(10), ret, want;
		long diff;

		random_range(&first, &n);
		u64 ipa = WIN_BASE + first * PAGE_SIZE, size = n * PAGE_SIZE;

		if (op < 4) {
			u64 delta = rnd(4) ? HOME : HOME + rnd(16) * 2 * MiB +
				    (rnd(2) ? PAGE_SIZE * rnd(512) : 0);
			unsigned int prot = perms[rnd(ARRAY_SIZE(perms))];

			if (!rnd(8))
				prot = STAGE2_PROT_RW | STAGE2_PROT_DEVICE;
			want = model_map(first, n, delta, prot);
			ret = stage2_map(&s2, ipa, ipa + delta, size, prot);
		} else if (op < 6) {
			for (u64 i = first; i < first + n; i++)
				model[i].mapped = false;
			want = 0;
			ret = stage2_unmap(&s2, ipa, size);
		} else if (op < 8) {
			unsigned int prot = perms[rnd(ARRAY_SIZE(perms))];

			for (u64 i = first; i < first + n; i++)
				model[i].prot = (model[i].prot & STAGE2_PROT_DEVICE) | prot;
			want = 0;
			ret = stage2_set_prot(&s2, ipa, size, prot);
		} else if (op == 8) {
			unsigned int level = 0;
			int t = stage2_translate(&s2, ipa, NULL, NULL, &level);

			want = t ? -ENOENT : level == 3 ? -EINVAL : 0;
			ret = stage2_split_block(&s2, ipa);
		} else {
			first = ALIGN_DOWN(first, 512);
			want = model_merge(first);
			ret = stage2_merge(&s2, WIN_BASE + first * PAGE_SIZE, 2);
		}
		if (ret != want) {
			printf("  step %d op %d ipa 0x%llx size 0x%llx: %d, want %d\n",
			       step, op, (unsigned long long)ipa,
			       (unsigned long long)size, ret, want);
			CHECK_EQ(ret, want);
		}
		seen_outcome[kind_of_op[op]][ret != 0]++;
		CHECK_STREQ(invariants(), "ok");
		diff = model_diff();
		if (diff != -1) {
			printf("  step %d op %d: page %ld differs\n", step, op, diff);
			CHECK_EQ(diff, -1);
		}
	}
	stage2_destroy(&s2);
	CHECK_EQ(pool_used(), 0);
	/* map, unmap, set_prot, split, merge all succeeded sometimes; map
	 * (-EEXIST), split and merge were also refused sometimes. */
	for (int k = 0; k < 5; k++)
		CHECK(seen_outcome[k][0] > 0);
	CHECK(seen_outcome[0][1] > 0 && seen_outcome[3][1] > 0 &&
	      seen_outcome[4][1] > 0);
}

/* ------------------------------------------------------- concurrency */

#define RACE_PAGES 8
#ifndef RACE_DELAY
#define RACE_DELAY 64         /* spread of the "hardware" reaction time */
#endif

struct race {
	u64 *pteps[RACE_PAGES];
	u64 marks[RACE_PAGES];     /* clean -> dirty transitions by "hardware" */
	u64 reports[RACE_PAGES];   /* dirty -> clean transitions set_prot saw */
	u64 written;               /* 1 + index of the entry set_prot last wrote */
	bool stop;
};

static struct race race;

/* set_prot just wrote an entry: tell the "hardware" which one. */
static void race_pte_written(struct stage2 *s, const u64 *ptep, u64 val)
{
	for (u64 i = 0; i < RACE_PAGES; i++)
		if (race.pteps[i] == ptep)
			__atomic_store_n(&race.written, i + 1, __ATOMIC_RELEASE);
}

static const struct stage2_mm_ops race_ops = {
	.phys_to_virt = fake_phys_to_virt,
	.virt_to_phys = fake_virt_to_phys,
	.tlbi_ipa = fake_tlbi_ipa,
	.tlbi_vmid = fake_tlbi_vmid,
	.barrier = fake_barrier,
	.pte_written = race_pte_written,
};

/*
 * The CPU's side of a guest write to a writable-clean page (FEAT_HAFDBS):
 * an atomic update of the descriptor from DBM-clean to dirty, made only
 * if the descriptor in memory still has DBM set. To hit the window that
 * matters, it writes to the page set_prot is about to read and update:
 * on each entry set_prot writes, it waits a varying moment and dirties
 * the next one.
 */
static void *hardware_writer(void *arg)
{
	struct race *r = arg;
	u64 seed = 12345, last = 0;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		u64 w = __atomic_load_n(&r->written, __ATOMIC_ACQUIRE);

		if (w == last)
			continue;
		last = w;
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		for (u64 k = (seed >> 40) % RACE_DELAY; k; k--)
			__atomic_signal_fence(__ATOMIC_SEQ_CST);

		unsigned int i = w % RACE_PAGES;   /* the entry after w - 1 */
		u64 old = __atomic_load_n(r->pteps[i], __ATOMIC_RELAXED);

		if (!(old & S2_DBM) || (old & S2AP_W))
			continue;   /* would fault, or is already dirty */
		if (__atomic_compare_exchange_n(r->pteps[i], &old, old | S2AP_W, false,
						__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			__atomic_fetch_add(&r->marks[i], 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void race_report(void *arg, u64 ipa, u64 size)
{
	struct race *r = arg;

	r->reports[(ipa - WIN_BASE) / PAGE_SIZE]++;
}

/*
 * The CAS in stage2_set_prot() closes this race: set_prot reads a clean
 * descriptor, hardware marks it dirty, set_prot writes "clean" back. A
 * plain read-modify-write would store over the dirty mark without
 * reporting it, so marks[i] would exceed reports[i] + final dirty state
 * (checked: with the CAS replaced by a plain store this test fails);
 * with CAS the write fails, set_prot sees the dirty value and reports it.
 * Every mark is therefore accounted for exactly once. Rounds alternate
 * execute permission so that every round writes every entry.
 */
TEST(concurrent_hardware_dirty_marks_are_never_lost_by_set_prot)
{
	struct race *r = &race;
	u64 total = 0;
	int failed = 0;
	pthread_t hw;

	CHECK_EQ(setup(), 0);
	memset(r, 0, sizeof(*r));
	s2.ops = &race_ops;
	CHECK_EQ(stage2_map(&s2, WIN_BASE, OUT + PAGE_SIZE, RACE_PAGES * PAGE_SIZE,
			    STAGE2_PROT_R | STAGE2_PROT_DBM), 0);
	for (unsigned int i = 0; i < RACE_PAGES; i++)
		r->pteps[i] = find_entry(WIN_BASE + i * PAGE_SIZE, 3);
	CHECK_EQ(pthread_create(&hw, NULL, hardware_writer, r), 0);
	for (int round = 0; round < 40000 && !failed; round++) {
		unsigned int x = (round & 1) ? STAGE2_PROT_X : 0;

		failed = stage2_set_prot_log(&s2, WIN_BASE, RACE_PAGES * PAGE_SIZE,
					     STAGE2_PROT_R | STAGE2_PROT_DBM | x,
					     race_report, r);
	}
	__atomic_store_n(&r->stop, true, __ATOMIC_RELEASE);
	CHECK_EQ(pthread_join(hw, NULL), 0);
	CHECK_EQ(failed, 0);
	for (unsigned int i = 0; i < RACE_PAGES; i++) {
		u64 dirty = (*r->pteps[i] & S2AP_W) ? 1 : 0;

		CHECK_EQ(r->marks[i], r->reports[i] + dirty);
		total += r->marks[i];
	}
	CHECK(total > 0);   /* the race was actually exercised */
	s2.ops = &fake_ops;
	CHECK_STREQ(invariants(), "ok");
}
