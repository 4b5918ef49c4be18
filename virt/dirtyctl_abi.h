/*
 * The test-only dirty-log control channel (CONFIG_DIRTY_TEST_CHANNEL, off
 * by default): SMCCC calls a test guest makes with HVC to drive the
 * dirty-tracking engine of a VM it manages, until the vsock service
 * (issue 5) replaces it. Shared by the hypervisor (virt/dirtyctl.c) and
 * the test guests; constants and layouts only.
 *
 * Calls are SMC64 fast calls of the vendor-specific hypervisor service
 * owner (6). x1 is always the target VM's id (its index in the
 * scenario); the caller must be named by the target's `manages` line.
 * x0 returns 0 or a count, or a negative DIRTYCTL_E* value.
 */
#ifndef VIRT_DIRTYCTL_ABI_H
#define VIRT_DIRTYCTL_ABI_H

#define DIRTYCTL_FN(n) (0xc6000000u | (n))

/* -> x1 RAM IPA, x2 RAM size, x3 vCPUs, x4 DIRTYCTL_CAP_* bits */
#define DIRTYCTL_INFO DIRTYCTL_FN(0x100)
/* x2 DIRTYCTL_MODE_* -> x1 mode in effect */
#define DIRTYCTL_ENABLE DIRTYCTL_FN(0x101)
#define DIRTYCTL_DISABLE DIRTYCTL_FN(0x102)
/* x2 IPA of a buffer in the caller's RAM, x3 capacity in entries;
 * fills struct dirtyctl_entry[] -> x0 count, x1 1 if more are left */
#define DIRTYCTL_HARVEST DIRTYCTL_FN(0x103)
/* -> x0 entries re-protected and freed (call until 0) */
#define DIRTYCTL_RESET DIRTYCTL_FN(0x104)
/* Returns once no vCPU of the target runs or is inside a fault handler. */
#define DIRTYCTL_PAUSE DIRTYCTL_FN(0x105)
#define DIRTYCTL_RESUME DIRTYCTL_FN(0x106)
/* x2 IPA of a buffer of DIRTYCTL_STATS_WORDS u64 in the caller's RAM */
#define DIRTYCTL_STATS DIRTYCTL_FN(0x107)
/* x2 IPA in the caller's map (1 GiB aligned, above its RAM): the
 * target's RAM appears there read-only. -> x1 the size mapped. */
#define DIRTYCTL_ATTACH DIRTYCTL_FN(0x108)

#define DIRTYCTL_MODE_WP 1
#define DIRTYCTL_MODE_DBM 2
#define DIRTYCTL_MODE_AUTO 3

#define DIRTYCTL_CAP_DBM 1     /* the CPUs have FEAT_HAFDBS dirty state */

/* Errors (x0) */
#define DIRTYCTL_EPERM (-1)    /* the caller does not manage the target */
#define DIRTYCTL_EINVAL (-2)   /* bad target, mode, buffer or IPA */
#define DIRTYCTL_EBUSY (-3)    /* logging already on / not on */
#define DIRTYCTL_ENOTSUP (-4)  /* e.g. dbm without FEAT_HAFDBS */
#define DIRTYCTL_ENOMEM (-5)

/* One harvested page: the layout of struct dirty_gfn (16 bytes). */
struct dirtyctl_entry {
	unsigned int flags;
	unsigned int slot;          /* memslot id; RAM is slot 0 */
	unsigned long long offset;  /* page number in the slot */
};

/* DIRTYCTL_STATS: the fields of struct dirty_stats, in its order. */
#define DIRTYCTL_STATS_WORDS 13

#endif
