/*
 * hvdirty checkpoint: a pre-copy copy of a VM's RAM into a file through
 * the dirty-log service, READs pipelined, checked against the
 * hypervisor's own digest of the paused RAM (docs/hvdirty.md, "What a
 * checkpoint guarantees").
 */
#ifndef TOOLS_HVDIRTY_CHECKPOINT_H
#define TOOLS_HVDIRTY_CHECKPOINT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tools/hvdirty/client.h"

/* A pre-copy round that finds at most this many pages dirty is the last:
 * the final round, with the VM paused, then copies about as few. */
#define CKPT_SMALL_PAGES 64u
/* Pre-copy rounds at most, unless --max-rounds says otherwise. */
#define CKPT_MAX_ROUNDS 30u

/*
 * READs in flight at most while copying, and when more are sent. Under
 * QEMU a READ's round trip (tool, Linux's vsock, the hypervisor and
 * back) costs far more than the copy in it, mostly per-message work on
 * the way, and each write() of requests is itself a Linux vsock packet,
 * a virtqueue kick (a trap into the hypervisor) and a pass of the
 * service. So the window is refilled only once half of it is free, in
 * one write, while the other half keeps the service busy. Measured in
 * the linux-virt and linux-rpi4 scenarios (docs/hvdirty.md, "How fast
 * it copies"): scattered pages cost about 0.1 ms each this way, 0.4 ms
 * when each reply is answered at once by one new request, and no less
 * with 128 in flight. The window stays within HVDC_READS_MAX, what the
 * service's input buffer holds (client.h says why that bound matters).
 */
#define CKPT_READ_WINDOW 64u
#define CKPT_READ_REFILL (CKPT_READ_WINDOW / 2)
_Static_assert(CKPT_READ_WINDOW <= HVDC_READS_MAX,
	       "the service holds the window's requests");

/* Why pre-copy ended. */
enum ckpt_end {
	CKPT_END_SMALL,          /* a round found at most @small pages dirty */
	CKPT_END_NOT_SHRINKING,  /* a round found as many as the one before, or more */
	CKPT_END_MAX_ROUNDS,     /* @max_rounds rounds ran */
};

struct ckpt_params {
	uint32_t mode;           /* HVD_MODE_* to start logging in */
	uint32_t max_rounds;     /* pre-copy rounds at most (0: pause after the full copy) */
	uint64_t small;          /* pages: a round this small ends pre-copy */
	const char *path;        /* the image file: created or truncated, mode 0600 */
	const char *what;        /* "checkpoint <VM>": error lines start with it */
	FILE *err;               /* error lines */
	FILE *progress;          /* a line per round; NULL: none */
	/* Set (by a signal handler) to give up before the next request; the
	 * VM is resumed and logging stopped. NULL: never. */
	volatile sig_atomic_t *stop;
	/* Replaces @c's broken connection by a new one (0 on success), so
	 * that the VM is resumed and logging stopped even then. NULL: no. */
	int (*reconnect)(void *arg, struct hvdc *c);
	void *reconnect_arg;
};

struct ckpt_result {
	uint32_t mode;           /* HVD_MODE_WP or _DBM: logging in effect */
	uint32_t precopy_rounds; /* rounds between the full copy and the pause */
	enum ckpt_end end;       /* why pre-copy ended */
	uint64_t pages_copied;   /* every round's, the full copy's included */
	uint64_t pages_paused;   /* the final round's, copied with the VM paused */
	uint64_t paused_ns;      /* from PAUSE sent to RESUME answered */
	uint64_t total_ns;
	bool hv_digested;        /* @hv_digest is the hypervisor's, of the paused RAM */
	uint64_t hv_digest;
	bool image_digested;     /* @image_digest is the file's, read back */
	uint64_t image_digest;
};

/*
 * Checkpoints the RAM of @vm (as LIST described it) into @p->path: LOG_START,
 * drain the log, copy all RAM, pre-copy rounds until the dirty set is
 * small, stops shrinking or @p->max_rounds ran, PAUSE, a final round,
 * DIGEST, RESUME (always, once paused), LOG_STOP, fsync, then the
 * image's digest against the hypervisor's. Errors are reported on
 * @p->err. Returns an enum hvd_exit; *@r is filled as far as it got.
 */
int checkpoint_run(struct hvdc *c, const struct hvd_vm *vm, const struct ckpt_params *p,
		   struct ckpt_result *r);

#endif
