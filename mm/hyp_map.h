/*
 * The hypervisor's own EL2 stage-1 address space: an identity map of RAM
 * (normal, write-back) and of the devices EL2 drives, built at boot.
 */
#ifndef MM_HYP_MAP_H
#define MM_HYP_MAP_H

#include "lib/types.h"

enum hyp_prot {
	HYP_TEXT,    /* read-only, executable */
	HYP_RO,      /* read-only data */
	HYP_RW,      /* read-write data, never executable */
	HYP_DEVICE,  /* Device-nGnRE, never executable */
};

/* Chooses the VA size from the CPU's PARange encoding (capped at 48
 * bits) and clears the tables. */
void hyp_map_init(unsigned int cpu_pa_range);
/*
 * Identity-maps [pa, pa + size) with @prot, rounded out to 4 KiB pages.
 * Mapping a page again with the same attributes is allowed; with other
 * attributes, or over a block, it fails with -EEXIST. Out of table pages
 * gives -ENOMEM. After the MMU is on, callers may only add mappings.
 */
int hyp_map_range(paddr_t pa, u64 size, enum hyp_prot prot);
/* The register values that turn this map on (for mmu_enable()). */
void hyp_map_regs(u64 *mair, u64 *tcr, u64 *ttbr0);
/* Number of table pages in use (for the boot report). */
unsigned int hyp_map_tables_used(void);

#endif
