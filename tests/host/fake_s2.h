/*
 * A fake machine for host tests of code built on mm/stage2.c: "physical
 * memory" (one malloc'd block placed at FAKE_MEM_BASE) with a page pool
 * over all of it, and stage-2 ops that count every TLB invalidation,
 * record descriptor stores, TLBIs and barriers in order while asked to,
 * and hand each one to the test (to model a TLB, or to look at what is
 * visible at that instant).
 */
#ifndef TESTS_HOST_FAKE_S2_H
#define TESTS_HOST_FAKE_S2_H

#include "mm/page_alloc.h"
#include "mm/stage2.h"

#define FAKE_MEM_BASE 0x80000000ULL
#define FAKE_MEM_SIZE (64ULL << 20)

enum fake_ev_kind {
	FAKE_EV_WRITE,       /* a: the entry's PA, b: the value stored */
	FAKE_EV_TLBI_IPA,    /* a: IPA, b: level */
	FAKE_EV_TLBI_VMID,
	FAKE_EV_TLBI_LOCAL,  /* a: IPA (this CPU only) */
	FAKE_EV_BARRIER,     /* a: enum stage2_barrier */
};

struct fake_event {
	enum fake_ev_kind kind;
	u64 a, b;
	u64 probe;   /* fake_s2.probe() at that instant (0 without one) */
};

#define FAKE_MAX_EVENTS 8192

struct fake_s2 {
	struct page_pool pool;
	/* Events are kept while @recording is set: one thread only. */
	bool recording;
	u32 nevents;
	struct fake_event events[FAKE_MAX_EVENTS];
	/* Counted always, from any thread (atomic). */
	u64 tlbi_ipa, tlbi_vmid, tlbi_local;
	/* Optional: the value an event records as its probe. */
	u64 (*probe)(void);
	/* Optional: told of every event, on the thread that caused it. */
	void (*on_event)(const struct fake_event *e);
};

extern struct fake_s2 fake_s2;
extern const struct stage2_mm_ops fake_s2_ops;

/*
 * A fresh machine: memory filled with a pattern (nothing may rely on a
 * page it did not clear), all of it free in the pool, no events, counts
 * or hooks.
 */
void fake_s2_reset(void);

void *fake_s2_va(paddr_t pa);
paddr_t fake_s2_pa(const void *va);

/* Pool pages in use. */
u64 fake_s2_pool_used(void);

/* Index of the first recorded event from @from on of @kind, or -1. */
int fake_s2_find(u32 from, enum fake_ev_kind kind);

#endif
