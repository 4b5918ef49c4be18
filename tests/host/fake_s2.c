/*
 * The fake machine of tests/host/fake_s2.h: memory, its page pool and
 * the recording stage-2 ops.
 */
#include "tests/host/fake_s2.h"

#include <stdlib.h>
#include <string.h>

#define FAKE_MEM_PAGES (FAKE_MEM_SIZE / PAGE_SIZE)
/* Fill for fresh memory: a table or ring that is not cleared shows. */
#define FAKE_MEM_PATTERN 0x5a

struct fake_s2 fake_s2;

static u8 *mem;
static u64 pool_bitmap[FAKE_MEM_PAGES / 64];

void *fake_s2_va(paddr_t pa)
{
	if (pa < FAKE_MEM_BASE || pa >= FAKE_MEM_BASE + FAKE_MEM_SIZE)
		abort();   /* an address outside "RAM": a bug, stop here */
	return mem + (pa - FAKE_MEM_BASE);
}

paddr_t fake_s2_pa(const void *va)
{
	return FAKE_MEM_BASE + (u64)((const u8 *)va - mem);
}

void fake_s2_reset(void)
{
	if (!mem) {
		mem = aligned_alloc(PAGE_SIZE, FAKE_MEM_SIZE);
		if (!mem)
			abort();
	}
	memset(mem, FAKE_MEM_PATTERN, FAKE_MEM_SIZE);
	memset(&fake_s2, 0, sizeof(fake_s2));
	page_pool_init(&fake_s2.pool);
	if (page_pool_add_range(&fake_s2.pool, FAKE_MEM_BASE, FAKE_MEM_SIZE,
				pool_bitmap, sizeof(pool_bitmap)))
		abort();
}

u64 fake_s2_pool_used(void)
{
	return FAKE_MEM_PAGES - page_pool_free_pages(&fake_s2.pool);
}

static void event(enum fake_ev_kind kind, u64 a, u64 b)
{
	struct fake_event e = { kind, a, b, fake_s2.probe ? fake_s2.probe() : 0 };

	if (fake_s2.recording && fake_s2.nevents < FAKE_MAX_EVENTS)
		fake_s2.events[fake_s2.nevents++] = e;
	if (fake_s2.on_event)
		fake_s2.on_event(&e);
}

int fake_s2_find(u32 from, enum fake_ev_kind kind)
{
	for (u32 i = from; i < fake_s2.nevents; i++)
		if (fake_s2.events[i].kind == kind)
			return (int)i;
	return -1;
}

static void *ops_phys_to_virt(paddr_t pa)
{
	return fake_s2_va(pa);
}

static paddr_t ops_virt_to_phys(void *va)
{
	return fake_s2_pa(va);
}

static void ops_tlbi_ipa(struct stage2 *s2, u64 ipa, unsigned int level)
{
	__atomic_fetch_add(&fake_s2.tlbi_ipa, 1, __ATOMIC_RELAXED);
	event(FAKE_EV_TLBI_IPA, ipa, level);
}

static void ops_tlbi_vmid(struct stage2 *s2)
{
	__atomic_fetch_add(&fake_s2.tlbi_vmid, 1, __ATOMIC_RELAXED);
	event(FAKE_EV_TLBI_VMID, 0, 0);
}

static void ops_tlbi_ipa_local(struct stage2 *s2, u64 ipa)
{
	__atomic_fetch_add(&fake_s2.tlbi_local, 1, __ATOMIC_RELAXED);
	event(FAKE_EV_TLBI_LOCAL, ipa, 0);
}

/* Every barrier is a seq_cst read-modify-write of this word. */
static u64 barrier_word;

static void ops_barrier(enum stage2_barrier kind)
{
	/* What a DSB gives the real code: every earlier access before any
	 * later one, seen from every thread. A locked RMW is a full barrier
	 * on the host, and unlike a fence ThreadSanitizer models it. */
	__atomic_fetch_add(&barrier_word, 1, __ATOMIC_SEQ_CST);
	event(FAKE_EV_BARRIER, kind, 0);
}

static void ops_pte_written(struct stage2 *s2, const u64 *ptep, u64 val)
{
	event(FAKE_EV_WRITE, fake_s2_pa(ptep), val);
}

const struct stage2_mm_ops fake_s2_ops = {
	.phys_to_virt = ops_phys_to_virt,
	.virt_to_phys = ops_virt_to_phys,
	.tlbi_ipa = ops_tlbi_ipa,
	.tlbi_vmid = ops_tlbi_vmid,
	.tlbi_ipa_local = ops_tlbi_ipa_local,
	.barrier = ops_barrier,
	.pte_written = ops_pte_written,
};
