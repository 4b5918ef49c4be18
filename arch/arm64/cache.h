/* Data cache maintenance by virtual address, to the point of coherency. */
#ifndef ARCH_ARM64_CACHE_H
#define ARCH_ARM64_CACHE_H

#include "lib/types.h"

/* Write back and invalidate: a CPU with its caches off then sees memory. */
void dcache_clean_inval_poc(const void *start, size_t size);
/* Invalidate, discarding any line: only for memory written with caches
 * off, and only for a range that starts and ends on a cache-line boundary
 * (a partial line at either end would lose its neighbours' data). */
void dcache_inval_poc(const void *start, size_t size);

/* Invalidate all instruction caches (inner shareable), see cache.S. */
void icache_inval_all(void);

#endif
