/*
 * Recording fakes of what the dirty-log service (virt/hvdirty_svc.c)
 * calls: a vsock connection's buffers (virt/vsock.h), the management
 * operations (virt/manage.h) over four VMs, and the engine's counters;
 * and a reader of the replies it wrote. Shared by the service's host
 * test and the hvdirty fuzz target.
 */
#ifndef TESTS_HOST_HVDIRTY_FAKE_H
#define TESTS_HOST_HVDIRTY_FAKE_H

#include "lib/types.h"
#include "virt/hvdirty_proto.h"
#include "virt/manage.h"
#include "virt/vm.h"
#include "virt/vsock.h"

/* VM 0 "mgr" manages VM 1 "work" (vsock CID 4, DBM) and VM 3 "idle";
 * VM 2 "other" manages VM 1 too; nobody manages "mgr". */
enum { MGR, WORK, OTHER, IDLE, NR_VMS };
extern struct vm fake_vms[NR_VMS];

/* A connection: what the peer sent, and the service's output buffer. */
#define FAKE_IN_MAX 4096u
struct vsock_conn {
	struct vm *peer;
	u8 in[FAKE_IN_MAX];
	u32 in_len, in_pos;      /* received, and consumed */
	u8 *out;                 /* output buffer */
	u32 out_len, out_cap;    /* committed, and the buffer's size */
	bool closed;
};

/* What the fakes were asked and will answer. */
struct hvd_fake {
	const struct vsock_service *svc;   /* as registered */
	int ret;                 /* the next manage op's result (0 or -errno) */
	u32 op_calls;            /* calls of the op fakes (not the checks) */
	struct manage_call last; /* the last op's call */
	u32 unauthorised;        /* op calls about a VM the caller does not manage */
	enum dirty_mode mode;    /* the last arguments ... */
	u64 mem_ipa, ipa, len;   /* ATTACH's window; DIGEST's and READ's range */
	u32 attach_flags;
	bool mapped;
	u32 holds;               /* manage_holds() of WORK */
	bool target_stopped;     /* manage_target_stopped() of WORK */
	u32 harvest_left;        /* entries the harvest fake has */
	u32 harvest_chunk;       /* ... and hands over per call at most */
	u32 harvest_err_at;      /* its Nth call (from 1) fails with @ret; 0:
				    every call does when @ret is set */
	u32 harvest_calls;
	u32 refuse_calls;
	char refused[256];       /* the last manage_refuse() line */
	u32 consume_overrun;     /* consumes beyond what was readable */
	u32 commit_overrun;      /* commits beyond the room */
};
extern struct hvd_fake fake;

/* The word of every fake VM's RAM at @ipa (8-aligned): what the READ
 * fake copies out, a pattern that tells any two words apart. */
u64 fake_ram_word(u64 ipa);

/* Forgets the records and answers: ret 0, harvest_chunk HVD_HARVEST_MAX. */
void fake_reset(void);

/* The @nth reply (from 0) in @c's output: its header in *@h, its body
 * returned; NULL if there is none whole. */
const u8 *fake_reply(const struct vsock_conn *c, u32 nth, struct hvd_hdr *h);

#endif
