/*
 * Stage-2 descriptor attribute bits and VTCR_EL2 fields; the geometry and
 * descriptor layout shared with stage 1 are in arch/arm64/pte.h.
 * Converting values only: every walk of stage-2 tables lives in mm/stage2.c
 * and the inline page walk of mm/stage2.h.
 */
#ifndef ARCH_ARM64_STAGE2_PTE_H
#define ARCH_ARM64_STAGE2_PTE_H

#include "arch/arm64/pte.h"
#include "arch/arm64/sysreg.h"
#include "lib/types.h"

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

/* Permission bits software changes without break-before-make. */
#define S2_PERM_MASK (S2AP_R | S2AP_W | S2_XN | S2_DBM)
/*
 * Bits of a leaf that hardware may set on its own while the entry is
 * live: AF (FEAT_HAFDBS access flag) and S2AP_W on a DBM entry (dirty).
 */
#define S2_HW_MASK (S2_AF | S2AP_W)

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

#endif
