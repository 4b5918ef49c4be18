/*
 * EL2 identity map. Tables come from a static pool so the map can be
 * built with the MMU off, before any allocator exists. Leaves use 1 GiB
 * or 2 MiB blocks where a range is aligned and large enough, pages
 * elsewhere.
 */
#include "mm/hyp_map.h"

#include "arch/arm64/barrier.h"
#include "arch/arm64/pte.h"
#include "arch/arm64/sysreg.h"
#include "lib/compiler.h"
#include "lib/errno.h"
#include "lib/string.h"

#define HYP_MAP_TABLES 32

static u64 tables[HYP_MAP_TABLES][PT_ENTRIES] __aligned(4096);
static unsigned int tables_used;    /* tables[0..tables_used) may be non-zero */
static unsigned int va_bits;
static unsigned int start_level;
static unsigned int pa_range;    /* TCR_EL2.PS encoding, at most 48 bits */

/* Levels 0..3 resolve VA bits 47:39, 38:30, 29:21, 20:12: the first
 * level needed for @bits of VA. */
static unsigned int first_level(unsigned int bits)
{
	if (bits > 39)
		return 0;
	return bits > 30 ? 1 : 2;
}

void hyp_map_init(unsigned int cpu_pa_range)
{
	pa_range = MIN(cpu_pa_range, (unsigned int)PARANGE_48);
	va_bits = parange_bits(pa_range);    /* identity map: VA = PA */
	start_level = first_level(va_bits);
	memset(tables, 0, tables_used * sizeof(tables[0]));
	tables_used = 1;    /* tables[0] is the root */
}

static u64 *table_alloc(void)
{
	if (tables_used == HYP_MAP_TABLES)
		return NULL;
	return tables[tables_used++];    /* zeroed: BSS, never freed */
}

static u64 prot_attrs(enum hyp_prot prot)
{
	switch (prot) {
	case HYP_TEXT:
		return PTE_ATTRINDX(MT_NORMAL) | PTE_SH_INNER | PTE_AF | PTE_AP_RO;
	case HYP_RO:
		return PTE_ATTRINDX(MT_NORMAL) | PTE_SH_INNER | PTE_AF | PTE_AP_RO |
		       PTE_XN;
	case HYP_RW:
		return PTE_ATTRINDX(MT_NORMAL) | PTE_SH_INNER | PTE_AF | PTE_XN;
	case HYP_DEVICE:
	default:
		return PTE_ATTRINDX(MT_DEVICE) | PTE_AF | PTE_XN;
	}
}

/* Largest leaf level (1 GiB, 2 MiB or 4 KiB) that fits at @pa. */
static unsigned int leaf_level(paddr_t pa, u64 left, unsigned int level)
{
	for (unsigned int l = MAX(level, 1u); l < 3; l++) {
		u64 sz = pt_level_size(l);

		if (IS_ALIGNED(pa, sz) && left >= sz)
			return l;
	}
	return 3;
}

/* The table at @level + 1 under @entry, created if the entry is empty. */
static u64 *next_table(u64 *entry, unsigned int level)
{
	u64 *t;

	if (pte_is_table(*entry, level))
		return (u64 *)pte_addr(*entry);
	if (pte_is_valid(*entry))
		return NULL;    /* a block is in the way */
	t = table_alloc();
	if (!t)
		return NULL;
	/* Store-release orders the table's zeroes before the entry that
	 * makes it reachable by a walker on another CPU. */
	__atomic_store_n(entry, pte_make_table((paddr_t)t), __ATOMIC_RELEASE);
	return t;
}

static int map_one(paddr_t pa, u64 left, u64 attrs, u64 *mapped)
{
	u64 *table = tables[0];
	unsigned int target = leaf_level(pa, left, start_level);

	for (unsigned int level = start_level; level < target; level++) {
		u64 *entry = &table[pt_index(pa, level)];

		table = next_table(entry, level);
		if (!table)
			return pte_is_valid(*entry) ? -EEXIST : -ENOMEM;
	}
	u64 *leaf = &table[pt_index(pa, target)];
	u64 want = pte_make_leaf(pa, attrs, target);

	if (pte_is_valid(*leaf) && *leaf != want)
		return -EEXIST;
	/* An invalid entry is never held in a TLB, so filling it needs no
	 * invalidation; the barrier in hyp_map_range() publishes it. */
	WRITE_ONCE(*leaf, want);
	*mapped = pt_level_size(target);
	return 0;
}

int hyp_map_range(paddr_t pa, u64 size, enum hyp_prot prot)
{
	paddr_t end = ALIGN_UP(pa + size, 4096);
	u64 attrs = prot_attrs(prot);
	int ret = 0;

	if (end > (1UL << va_bits) || end <= pa)
		return -ERANGE;
	for (pa = ALIGN_DOWN(pa, 4096); pa < end;) {
		u64 step;

		ret = map_one(pa, end - pa, attrs, &step);
		if (ret)
			break;
		pa += step;
	}
	/* With the MMU on, new entries must reach the table walkers before
	 * this CPU uses them; with it off (boot) the barriers cost nothing. */
	dsb(ishst);
	isb();
	return ret;
}

void hyp_map_regs(u64 *mair, u64 *tcr, u64 *ttbr0)
{
	*mair = MAIR_EL2_VALUE;
	*tcr = TCR_EL2_RES1 | TCR_T0SZ(va_bits) | TCR_IRGN0_WBWA |
	       TCR_ORGN0_WBWA | TCR_SH0_INNER | TCR_TG0_4K |
	       ((u64)pa_range << TCR_PS_SHIFT);
	*ttbr0 = (u64)tables[0];
}

unsigned int hyp_map_tables_used(void)
{
	return tables_used;
}
