/*
 * The test-only dirty-log control channel (CONFIG_DIRTY_TEST_CHANNEL, off
 * by default): SMCCC calls a test guest makes with HVC to drive the
 * dirty-tracking engine (mm/dirty_log.h) of a VM it manages, until the
 * vsock service (issue 5) replaces it. Shared by the hypervisor
 * (virt/dirtyctl.c) and the test guests (tests/guests/dirtycheck.c);
 * constants and layouts only.
 *
 * Calls are SMC64 fast calls of the vendor-specific hypervisor service
 * owner (6), made with HVC: function in w0, arguments in x1..x3, results
 * in x0..x5 (x6..x17 are not preserved, as SMCCC 1.1 allows).
 *
 * x1 is always the target VM's id: its index in the scenario, counting
 * from 0 in file order. The target must be listed in the caller's
 * `manages =` line (docs/scenarios.md), or be the caller itself for
 * every call but PAUSE, RESUME and ATTACH (the benchmark drives its own
 * log), else DIRTYCTL_EPERM. A VM that harvests its own log keeps what
 * it dirties between resets below its vCPU ring's soft limit (4032
 * entries), or its vCPU waits for a reset only it could make.
 *
 * x0 returns 0 or a count, or a negative DIRTYCTL_E* value; on an error
 * nothing else is returned, and the hypervisor logs one line
 * `hv: dirtyctl: VM '<caller>' <CALL> [of VM '<target>']: why`.
 *
 * Buffers (HARVEST, STATS) are guest physical addresses in the caller's
 * own RAM, checked whole before anything is written: a buffer that is
 * not entirely inside the caller's RAM is DIRTYCTL_EINVAL. The
 * hypervisor writes them as it writes any guest memory (virt/guest_mem.h).
 *
 * A hypervisor built without the channel answers every call with SMCCC
 * NOT_SUPPORTED (-1): which is why no DIRTYCTL_E* value is -1.
 */
#ifndef VIRT_DIRTYCTL_ABI_H
#define VIRT_DIRTYCTL_ABI_H

#define DIRTYCTL_FN(n) (0xc6000000u | (n))

/*
 * -> x1 the target's RAM IPA, x2 its RAM size in bytes, x3 its vCPUs,
 *    x4 DIRTYCTL_CAP_* bits, x5 1 once the target has stopped for good
 *    (powered off or stopped by the hypervisor), else 0.
 */
#define DIRTYCTL_INFO DIRTYCTL_FN(0x100)
/*
 * x2 DIRTYCTL_MODE_* -> x1 the mode in effect (WP or DBM; AUTO picks DBM
 * where the CPUs have it). Starts logging every writable page of the
 * target's RAM. EBUSY if logging is already on, ENOTSUP for DBM without
 * FEAT_HAFDBS dirty state, ENOMEM.
 */
#define DIRTYCTL_ENABLE DIRTYCTL_FN(0x101)
/* Stops logging (pages writable again). EBUSY if logging is off.
 * Entries still in the log stay there for a HARVEST. */
#define DIRTYCTL_DISABLE DIRTYCTL_FN(0x102)
/*
 * x2 IPA of a buffer in the caller's RAM, x3 its capacity in entries
 * (1.. RAM size / 16); fills struct dirtyctl_entry[] -> x0 count, x1 1
 * if entries were left behind (call again), else 0. Harvested entries
 * are the consumer's: they are never returned twice.
 */
#define DIRTYCTL_HARVEST DIRTYCTL_FN(0x103)
/*
 * Re-protects the pages of up to 4096 harvested entries and frees them
 * -> x0 how many (call until 0). Read page contents only after it.
 */
#define DIRTYCTL_RESET DIRTYCTL_FN(0x104)
/*
 * Returns once no vCPU of the target runs or is inside a fault handler,
 * so that the next HARVEST is exact. One pause per caller and target at
 * a time (EBUSY for a second PAUSE, or a RESUME without one). EPERM if
 * the target manages a VM itself: two managers pausing each other would
 * wait for each other for ever. A caller must RESUME before it stops:
 * the target stays paused otherwise.
 */
#define DIRTYCTL_PAUSE DIRTYCTL_FN(0x105)
#define DIRTYCTL_RESUME DIRTYCTL_FN(0x106)
/* x2 IPA of a buffer of DIRTYCTL_STATS_WORDS u64 in the caller's RAM:
 * the engine's counters (below). */
#define DIRTYCTL_STATS DIRTYCTL_FN(0x107)
/*
 * x2 an IPA of the caller, 1 GiB aligned, at or above the end of its RAM,
 * with the whole window below the end of its IPA space and clear of its
 * devices and of anything already mapped, or 0 for the first such window
 * (virt/manage.h): the target's RAM appears there read-only (normal
 * memory; a write stops the caller) -> x1 the size mapped (the target's
 * RAM size), x2 where. Once per caller and target (EBUSY for a second);
 * it stays for the caller's life. IPA size: the smallest PARange that
 * holds the caller's RAM (32 bits, 4 GiB, for RAM below 3 GiB), so
 * 0x80000000 suits a small caller watching up to 2 GiB.
 */
#define DIRTYCTL_ATTACH DIRTYCTL_FN(0x108)

#define DIRTYCTL_MODE_WP 1
#define DIRTYCTL_MODE_DBM 2
#define DIRTYCTL_MODE_AUTO 3

#define DIRTYCTL_CAP_DBM 1     /* the CPUs have FEAT_HAFDBS dirty state */

/* Errors (x0). -1 is SMCCC NOT_SUPPORTED: no channel in this build. */
#define DIRTYCTL_ENOSYS (-1)   /* SMCCC NOT_SUPPORTED */
#define DIRTYCTL_EPERM (-2)    /* the caller may not manage the target */
#define DIRTYCTL_EINVAL (-3)   /* bad target, mode, buffer or IPA */
#define DIRTYCTL_EBUSY (-4)    /* logging already on / not on; paused
				  already / not paused; attached already */
#define DIRTYCTL_ENOTSUP (-5)  /* dbm without FEAT_HAFDBS */
#define DIRTYCTL_ENOMEM (-6)   /* no memory for tables or logging state */

/* One harvested page: the layout of struct dirty_gfn (16 bytes). */
struct dirtyctl_entry {
	unsigned int flags;         /* as the log held it (DIRTY) */
	unsigned int slot;          /* memslot id; the target's RAM is slot 0 */
	unsigned long long offset;  /* page number in the slot */
};

/* DIRTYCTL_STATS: the fields of struct dirty_stats (mm/dirty_log.h), in
 * its order: mode, pages_logged, wp_faults, spurious_faults,
 * dbm_arm_faults, dbm_scans, dbm_pages_scanned, dbm_pages_dirty,
 * dbm_groups_disarmed, ring_full_waits, overflow_pages, harvested, reset. */
#define DIRTYCTL_STATS_WORDS 13

#endif
