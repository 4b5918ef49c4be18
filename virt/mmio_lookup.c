/*
 * MMIO decode (virt/mmio_lookup.h): memslots first, then the VM's
 * device regions, with the answer cached under the memslot generation
 * read before the search (the begin/fill protocol of mm/memslot.h).
 */
#include "virt/mmio_lookup.h"

#include "virt/vm.h"

static bool region_holds(const struct mmio_region *r, u64 ipa)
{
	return ipa - r->base < r->size;   /* below base wraps: false */
}

static bool ipa_in_memslot(struct memslots *ms, u64 ipa)
{
	unsigned int token;
	const struct memslot_array *a = memslots_read_begin(ms, &token);
	bool found = memslot_find(a, ipa) != NULL;

	memslots_read_end(ms, token);
	return found;
}

static const struct mmio_region *find_region(const struct mmio_region *regions,
					     unsigned int nr, u64 ipa)
{
	for (unsigned int i = 0; i < nr; i++)
		if (region_holds(&regions[i], ipa))
			return &regions[i];
	return NULL;
}

const struct mmio_region *mmio_lookup(struct memslot_cache *cache,
				      struct memslots *ms,
				      const struct mmio_region *regions,
				      unsigned int nr, u64 ipa)
{
	const struct mmio_region *r = memslot_cache_get(cache, ms, ipa);
	u64 gen;

	/* The cache is keyed by page and devices may share one (virtio-mmio
	 * slots are GUEST_VIRTIO_STRIDE apart): a hit counts only if the
	 * region holds @ipa, else the search below refills it. */
	if (r && region_holds(r, ipa))
		return r;
	/* Before the search, so that an update during it keeps the answer
	 * out of the cache (memslot_cache_begin()). */
	gen = memslot_cache_begin(ms);
	if (ipa_in_memslot(ms, ipa))
		return NULL;   /* memory, never cached: the caller retries */
	r = find_region(regions, nr, ipa);
	if (r)
		memslot_cache_fill(cache, ms, gen, ipa, r);
	return r;
}
