/*
 * Ticket spinlock. Fair between CPUs; the holder must not sleep or take
 * an interrupt that takes the same lock (callers mask interrupts first,
 * see arch/arm64/irq.h). Every lock is listed in docs/locking.md.
 */
#ifndef LIB_SPINLOCK_H
#define LIB_SPINLOCK_H

#include "lib/types.h"

struct spinlock {
	u32 next;   /* ticket handed to the next CPU that asks */
	u32 owner;  /* ticket now allowed in */
};

#define SPINLOCK_INIT { 0, 0 }

static inline void cpu_relax(void)
{
#if defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#endif
}

static inline void spin_lock(struct spinlock *l)
{
	u32 ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);

	/* Acquire: pairs with the release in spin_unlock(), so the previous
	 * holder's writes are visible before we enter. */
	while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != ticket)
		cpu_relax();
}

static inline void spin_unlock(struct spinlock *l)
{
	/* Only the holder writes owner, so a plain read of it is exact.
	 * Release: pairs with the acquire in spin_lock(). */
	__atomic_store_n(&l->owner, l->owner + 1, __ATOMIC_RELEASE);
}

#endif
