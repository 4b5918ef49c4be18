/* The hypervisor's pool of free RAM pages, filled at boot from the DTB. */
#ifndef MM_HYP_POOL_H
#define MM_HYP_POOL_H

#include "mm/page_alloc.h"

extern struct page_pool hyp_pool;

/*
 * Adds the free RAM [base, base + size) to @pool, keeping its allocation
 * bitmap in the first pages of the range itself (RAM must be mapped).
 * A range too small to hold its own bitmap and one page is -ENOMEM.
 */
int page_pool_add_ram(struct page_pool *pool, paddr_t base, u64 size);

#endif
