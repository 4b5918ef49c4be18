/*
 * VMSAv8-64 descriptors with the 4 KiB granule: the table geometry and
 * descriptor layout that stage 1 (EL2's own map) and stage 2 (VMs) share,
 * and the stage-1 attribute bits (stage 2's are in stage2_pte.h).
 * Converting values only: walks live in mm/.
 */
#ifndef ARCH_ARM64_PTE_H
#define ARCH_ARM64_PTE_H

#include "arch/arm64/sysreg.h"
#include "lib/types.h"

#define PTE_VALID BIT(0)
#define PTE_TABLE BIT(1)              /* levels 0-2: next-level table */
#define PTE_PAGE BIT(1)               /* level 3: page (must be set) */
#define PTE_ADDR_MASK 0x0000fffffffff000UL

/* Stage 1 at EL2 (one privilege level) */
#define PTE_ATTRINDX(i) ((u64)(i) << 2)
#define PTE_AP_RO BIT(7)              /* AP[2]: read-only */
#define PTE_SH_INNER (3UL << 8)
#define PTE_AF BIT(10)                /* access flag, set: no AF faults */
#define PTE_XN BIT(54)                /* never executable at EL2 */

#define PT_ENTRIES 512
#define PT_BITS_PER_LEVEL 9
#define PAGE_SHIFT_4K 12

/* Bytes mapped by one entry at @level (0..3). */
static inline u64 pt_level_size(unsigned int level)
{
	return 1UL << (PAGE_SHIFT_4K + PT_BITS_PER_LEVEL * (3 - level));
}

/* Index into the table at @level for address @va. */
static inline unsigned int pt_index(u64 va, unsigned int level)
{
	return (va >> (PAGE_SHIFT_4K + PT_BITS_PER_LEVEL * (3 - level))) &
	       (PT_ENTRIES - 1);
}

static inline bool pte_is_valid(u64 pte)
{
	return pte & PTE_VALID;
}

static inline bool pte_is_table(u64 pte, unsigned int level)
{
	return level < 3 && (pte & (PTE_VALID | PTE_TABLE)) == (PTE_VALID | PTE_TABLE);
}

/* A valid block (levels 1-2) or page (level 3) descriptor. */
static inline bool pte_is_leaf(u64 pte, unsigned int level)
{
	return pte_is_valid(pte) && !pte_is_table(pte, level);
}

static inline paddr_t pte_addr(u64 pte)
{
	return pte & PTE_ADDR_MASK;
}

/* Every leaf bit that is neither the output address nor the type bits. */
static inline u64 pte_leaf_attrs(u64 pte)
{
	return pte & ~(PTE_ADDR_MASK | PTE_VALID | PTE_TABLE);
}

static inline u64 pte_make_table(paddr_t table)
{
	return table | PTE_TABLE | PTE_VALID;
}

/* A block (levels 1-2) or page (level 3) descriptor for @pa with @attrs. */
static inline u64 pte_make_leaf(paddr_t pa, u64 attrs, unsigned int level)
{
	return pa | attrs | PTE_VALID | (level == 3 ? PTE_PAGE : 0);
}

#endif
