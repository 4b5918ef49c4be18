/*
 * The guest side of the test-only dirty-log control channel
 * (virt/dirtyctl_abi.h): the HVC call itself, error names and the
 * indices of the STATS words, shared by the test guests that drive it.
 */
#ifndef TESTS_GUESTS_DIRTYCTL_GUEST_H
#define TESTS_GUESTS_DIRTYCTL_GUEST_H

#include "lib/types.h"
#include "virt/dirtyctl_abi.h"

struct dctl_ret {
	s64 x0;
	u64 x1, x2, x3, x4, x5;
};

/* DIRTYCTL_STATS words (the order of struct dirty_stats). */
enum dctl_stat {
	DSTAT_MODE, DSTAT_PAGES_LOGGED, DSTAT_WP_FAULTS, DSTAT_SPURIOUS,
	DSTAT_DBM_ARM_FAULTS, DSTAT_DBM_SCANS, DSTAT_DBM_PAGES_SCANNED,
	DSTAT_DBM_PAGES_DIRTY, DSTAT_DBM_DISARMED, DSTAT_RING_FULL_WAITS,
	DSTAT_OVERFLOW, DSTAT_HARVESTED, DSTAT_RESET,
};
_Static_assert(DSTAT_RESET + 1 == DIRTYCTL_STATS_WORDS, "stats layout");

/* SMCCC 1.1 through HVC: x0..x5 back, x6..x17 not preserved. "memory":
 * HARVEST and STATS write into the caller's RAM. */
static inline struct dctl_ret dctl_call(u32 fn, u64 target, u64 a2, u64 a3)
{
	register u64 x0 __asm__("x0") = fn;
	register u64 x1 __asm__("x1") = target;
	register u64 x2 __asm__("x2") = a2;
	register u64 x3 __asm__("x3") = a3;
	register u64 x4 __asm__("x4");
	register u64 x5 __asm__("x5");

	__asm__ volatile("hvc #0"
			 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "=r"(x4), "=r"(x5)
			 :
			 : "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14",
			   "x15", "x16", "x17", "memory");
	return (struct dctl_ret){ (s64)x0, x1, x2, x3, x4, x5 };
}

static inline const char *dctl_err_name(s64 e)
{
	switch (e) {
	case DIRTYCTL_ENOSYS: return "NOT_SUPPORTED (no CONFIG_DIRTY_TEST_CHANNEL?)";
	case DIRTYCTL_EPERM: return "EPERM";
	case DIRTYCTL_EINVAL: return "EINVAL";
	case DIRTYCTL_EBUSY: return "EBUSY";
	case DIRTYCTL_ENOTSUP: return "ENOTSUP";
	case DIRTYCTL_ENOMEM: return "ENOMEM";
	default: return "unknown error";
	}
}

#endif
