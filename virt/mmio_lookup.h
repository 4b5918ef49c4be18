/*
 * MMIO decode of a data abort outside mapped RAM (virt/exit.c): the
 * emulated device region holding an IPA, remembered in a per-vCPU
 * memslot_cache for as long as the memslot generation stays put.
 */
#ifndef VIRT_MMIO_LOOKUP_H
#define VIRT_MMIO_LOOKUP_H

#include "lib/types.h"
#include "mm/memslot.h"

struct mmio_region;

/*
 * The region of @regions[0..@nr) containing @ipa, or NULL if there is
 * none or if @ipa lies in a memslot of @ms: it is memory now (a slot
 * was added after the access faulted), and the caller retries the
 * access instead of emulating a device. @cache belongs to the calling
 * vCPU; a hit is answered without searching. Must not be called inside
 * a memslot read section (it opens one).
 */
const struct mmio_region *mmio_lookup(struct memslot_cache *cache,
				      struct memslots *ms,
				      const struct mmio_region *regions,
				      unsigned int nr, u64 ipa);

#endif
