/*
 * What a management VM may do to a VM it manages, whatever the channel
 * it asks through (the vsock service virt/hvdirty_svc.c, the test-only
 * HVC channel virt/dirtyctl.c): authorisation against the scenario's
 * `manages =` lists, starting and stopping dirty logging, pausing and
 * resuming, attaching the target's memory (read-only) and dirty rings
 * (read-write) into the manager, harvests, digests and copies of memory
 * ranges, and what happens to all of that when the manager stops.
 *
 * Every call names its request in a struct manage_call; a refusal is
 * logged here as one line "hv: <via>: VM '<caller>' <op> [of VM
 * '<target>']: <why>" and returned as a negative errno, which the
 * channel turns into its own error code. Nothing here trusts a value
 * the guest passed.
 */
#ifndef VIRT_MANAGE_H
#define VIRT_MANAGE_H

#include "lib/compiler.h"
#include "lib/types.h"
#include "mm/dirty_log.h"

struct vm;

/* One request being served. */
struct manage_call {
	struct vm *caller;
	struct vm *target;       /* set by manage_target() */
	const char *via;         /* the channel, for log lines: "hvdirty", "dirtyctl" */
	const char *op;          /* the request's name, for log lines */
};

/* Logs a refusal of @c and returns @err (a negative errno). */
__printf(3, 4) int manage_refuse(const struct manage_call *c, int err,
				 const char *fmt, ...);

/*
 * Resolves VM @id of the scenario as the target of @c: -ESRCH if there
 * is none, -EPERM unless it is in the caller's `manages =` list (or is
 * the caller itself and @self_ok).
 */
int manage_target(struct manage_call *c, u64 id, bool self_ok);

/* Whether @caller's `manages =` list names @t. */
bool manage_may(const struct vm *caller, const struct vm *t);

/* What @caller holds of @t now (MANAGE_HOLDS_*), for a listing. */
#define MANAGE_HOLDS_PAUSE 1u    /* a manage_pause() not yet resumed */
#define MANAGE_HOLDS_ATTACH 2u   /* a manage_attach() not yet detached */
u32 manage_holds(const struct vm *caller, const struct vm *t);

/* The target has stopped for good (powered off or stopped by us). */
bool manage_target_stopped(struct vm *t);

/* Starts logging the target's RAM; *@in_effect gets WP or DBM.
 * -EBUSY (already on), -EOPNOTSUPP (DBM without FEAT_HAFDBS), -ENOMEM,
 * -EINVAL (not a mode). */
int manage_log_start(struct manage_call *c, enum dirty_mode mode,
		     enum dirty_mode *in_effect);
/* -EALREADY if logging is off. */
int manage_log_stop(struct manage_call *c);

/*
 * Pauses the target until this caller resumes it (one pause per caller
 * and target: -EBUSY for a second). -EPERM if the target manages VMs
 * itself (two managers pausing each other would wait for ever), or is
 * the caller. Returns once no vCPU of the target runs (vm_pause()).
 */
int manage_pause(struct manage_call *c);
/* -EALREADY unless this caller holds a pause of the target. */
int manage_resume(struct manage_call *c);

/* Where an attach put the target's memory and rings in the caller. */
struct manage_attach {
	u64 mem_ipa, mem_size;       /* the target's RAM, read-only */
	u64 rings_ipa;               /* 0 when the rings were not mapped */
	u32 nr_rings;                /* vCPU rings in vCPU order, then the VM ring */
	u32 ring_entries;            /* struct dirty_gfn per ring */
	u64 ring_stride;             /* bytes from one ring to the next */
	/* Where a consumer of each mapped ring starts: the hypervisor's own
	 * consumer cursor at the attach. */
	u32 start_index[DIRTY_LOG_MAX_VCPUS + 1];
};

/* manage_attach() flags. */
#define MANAGE_ATTACH_RINGS 1u   /* map the rings too (read-write) */

/*
 * Maps the target's RAM read-only into the caller at @mem_ipa (1 GiB
 * aligned, above the caller's RAM and devices; 0: the first such window
 * that is free), and with MANAGE_ATTACH_RINGS its dirty rings
 * read-write in the window after it. Once the rings are mapped the
 * caller consumes them itself: manage_harvest() then takes only what is
 * not in a ring. -EBUSY if already attached, -EINVAL for a bad window,
 * -ENOMEM, -EPERM for the caller itself.
 */
int manage_attach(struct manage_call *c, u64 mem_ipa, u32 flags,
		  struct manage_attach *out);
/* Unmaps what manage_attach() mapped. -EALREADY if nothing is attached. */
int manage_detach(struct manage_call *c);

/*
 * Hands up to @max log entries of the target to the caller, into @out
 * (only ever stored to: it may be guest memory). Without the rings
 * mapped: the rings, the overflow bitmap and (first call of a pass) the
 * DBM scan, as dirty_log_harvest(). With them mapped (@mapped true):
 * the DBM scan, whose pages land in the VM ring, and the overflow
 * bitmap only. Returns the count or a negative errno: -EBUSY when
 * @mapped does not match how the caller attached. *@more as
 * dirty_log_harvest().
 */
int manage_harvest(struct manage_call *c, bool mapped, struct dirty_gfn *out,
		   u32 max, bool *more);

/* Re-protects and frees up to DIRTY_RESET_MAX harvested entries of the
 * target (mapped rings included). Returns the count. */
u32 manage_reset(struct manage_call *c);

/*
 * hvd_digest_update() (virt/hvdirty_proto.h) of [ipa, ipa + len) of the
 * target's RAM: page aligned, not empty, inside RAM. -EINVAL otherwise.
 * The target should be paused for a digest that means anything. A
 * digest of the whole RAM is logged, for a test to check a checkpoint
 * against without trusting its manager: "hv: VM '<target>' RAM digest
 * <16 hex digits> (paused|running), asked by '<caller>'" (paused: a
 * manager held a pause of it when the digest began).
 */
int manage_digest(struct manage_call *c, u64 ipa, u64 len, u64 *digest);

/*
 * Copies [ipa, ipa + len) of the target's RAM, checked as
 * manage_digest() checks it, to @out (room for @len bytes: the channel
 * bounds @len, HVD_READ_MAX for the service). -EINVAL otherwise. Of a
 * running target the bytes are as they were at some moment of the
 * copy, a page possibly torn: pause it, or read a page only after the
 * reset that re-protected it.
 */
int manage_read(struct manage_call *c, u64 ipa, u64 len, void *out);

/*
 * @vm has stopped for good: the pauses it holds end, logging of the VMs
 * it manages stops, and what it attached is unmapped (virt/vm.c calls
 * this once its last vCPU has left).
 */
void manage_vm_stopped(struct vm *vm);

#endif
