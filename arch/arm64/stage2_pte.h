/*
 * VMSAv8-64 stage-2 descriptor bits (4 KiB granule) and VTCR_EL2 fields.
 * Converting values only: every walk of stage-2 tables lives in mm/stage2.c.
 */
#ifndef ARCH_ARM64_STAGE2_PTE_H
#define ARCH_ARM64_STAGE2_PTE_H

#include "arch/arm64/sysreg.h"
#include "lib/types.h"

#define S2_PTE_VALID BIT(0)
#define S2_PTE_TABLE BIT(1)           /* levels 0-2: next-level table */
#define S2_PTE_PAGE BIT(1)            /* level 3: page (must be set) */
#define S2_MEMATTR_SHIFT 2            /* MemAttr[3:0], bits 5:2 */
#define S2_MEMATTR_MASK (0xfUL << S2_MEMATTR_SHIFT)
#define S2_MEMATTR_NORMAL_WB 0xfUL    /* Normal, outer and inner write-back */
#define S2_MEMATTR_DEVICE_nGnRE 0x1UL /* Device-nGnRE */
#define S2_MEMATTR(a) ((u64)(a) << S2_MEMATTR_SHIFT)
#define S2AP_R BIT(6)                 /* S2AP[0]: EL1/EL0 may read */
#define S2AP_W BIT(7)                 /* S2AP[1]: may write; with DBM, "dirty" */
#define S2_SH_INNER (3UL << 8)        /* inner shareable */
#define S2_AF BIT(10)                 /* access flag, set: no AF faults */
#define S2_DBM BIT(51)                /* hardware may set S2AP_W on write */
#define S2_XN BIT(54)                 /* XN[1:0] = 0b10: never executable */
#define S2_ADDR_MASK 0x0000fffffffff000UL

/* Permission bits software changes without break-before-make. */
#define S2_PERM_MASK (S2AP_R | S2AP_W | S2_XN | S2_DBM)
/*
 * Bits of a leaf that hardware may set on its own while the entry is
 * live: AF (FEAT_HAFDBS access flag) and S2AP_W on a DBM entry (dirty).
 */
#define S2_HW_MASK (S2_AF | S2AP_W)

#define S2_ENTRIES 512
#define S2_BITS_PER_LEVEL 9
#define S2_PAGE_SHIFT 12
#define S2_MAX_CONCAT 16              /* root tables that may be concatenated */

/* VTCR_EL2 fields (Arm ARM D19.2). */
#define VTCR_T0SZ(bits) ((u64)(64 - (bits)) << 0)
#define VTCR_SL0_SHIFT 6              /* 4 KiB granule: 0 = level 2, 1 = 1, 2 = 0 */
#define VTCR_IRGN0_WBWA (1UL << 8)    /* table walks: inner write-back */
#define VTCR_ORGN0_WBWA (1UL << 10)   /* table walks: outer write-back */
#define VTCR_SH0_INNER (3UL << 12)    /* table walks: inner shareable */
#define VTCR_TG0_4K (0UL << 14)
#define VTCR_PS_SHIFT 16
#define VTCR_HA BIT(21)               /* hardware access flag update */
#define VTCR_HD BIT(22)               /* hardware dirty state (DBM) update */
#define VTCR_RES1 BIT(31)

/* VTTBR_EL2: table base and VMID (8-bit VMIDs, VTCR_EL2.VS = 0). */
#define VTTBR_VMID_SHIFT 48

/* Bytes mapped by one entry at @level (0..3). */
static inline u64 s2_level_size(unsigned int level)
{
	return 1UL << (S2_PAGE_SHIFT + S2_BITS_PER_LEVEL * (3 - level));
}

/* Index into the table at @level for @ipa (roots may be concatenated:
 * the caller adds the table number from the bits above). */
static inline unsigned int s2_index(u64 ipa, unsigned int level)
{
	return (ipa >> (S2_PAGE_SHIFT + S2_BITS_PER_LEVEL * (3 - level))) &
	       (S2_ENTRIES - 1);
}

static inline bool s2_pte_is_valid(u64 pte)
{
	return pte & S2_PTE_VALID;
}

static inline bool s2_pte_is_table(u64 pte, unsigned int level)
{
	return level < 3 &&
	       (pte & (S2_PTE_VALID | S2_PTE_TABLE)) == (S2_PTE_VALID | S2_PTE_TABLE);
}

/* A valid block (levels 1-2) or page (level 3) descriptor. */
static inline bool s2_pte_is_leaf(u64 pte, unsigned int level)
{
	return s2_pte_is_valid(pte) && !s2_pte_is_table(pte, level);
}

static inline paddr_t s2_pte_addr(u64 pte)
{
	return pte & S2_ADDR_MASK;
}

/* Every leaf bit that is neither the output address nor the type bits. */
static inline u64 s2_pte_attrs(u64 pte)
{
	return pte & ~(S2_ADDR_MASK | S2_PTE_VALID | S2_PTE_TABLE);
}

static inline u64 s2_pte_make_table(paddr_t table)
{
	return table | S2_PTE_TABLE | S2_PTE_VALID;
}

/* A block (levels 1-2) or page (level 3) descriptor for @pa with @attrs. */
static inline u64 s2_pte_make_leaf(paddr_t pa, u64 attrs, unsigned int level)
{
	return pa | attrs | S2_PTE_VALID | (level == 3 ? S2_PTE_PAGE : 0);
}

#endif
