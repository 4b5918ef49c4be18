/*
 * hvdirty's side of the dirty-log protocol (virt/hvdirty_proto.h): one
 * request at a time over a connected stream, or READs pipelined (sent
 * ahead, their replies read in order), every reply checked before any
 * of it is used (version, type, seq, length, body size for its type).
 * It works on a file descriptor, so host tests drive it over a
 * socketpair; hvdc_connect_vsock() opens the real connection.
 */
#ifndef TOOLS_HVDIRTY_CLIENT_H
#define TOOLS_HVDIRTY_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "virt/hvdirty_proto.h"

/* What a call returns: 0, or one of these. */
enum hvdc_err {
	HVDC_E_IO = -1,          /* the connection failed or closed: @why */
	HVDC_E_PROTO = -2,       /* a reply that breaks the protocol: @why */
	HVDC_E_STATUS = -3,      /* the service refused: @status, @reason */
};

/* Entries one HVD_RESET frees at most (the header: "at most 4096 a request"). */
#define HVDC_RESET_MAX 4096u
/*
 * Request bytes the service holds before it consumes them: the credit
 * it gives (docs/protocol.md, "request bytes in flight"). A client with
 * at most this many bytes of requests sent and not yet answered never
 * waits in send() for credit. With more, send() could wait for credit
 * that the service gives only once it consumes a request, which it does
 * only once its output buffer has room, which it gets only once the
 * client, waiting in send(), reads replies: a deadlock.
 */
#define HVDC_INFLIGHT_BYTES 4096u
/* A READ request's bytes, and how many may be in flight: 128. */
#define HVDC_READ_REQ_SIZE ((uint32_t)(sizeof(struct hvd_hdr) + sizeof(struct hvd_read)))
#define HVDC_READS_MAX (HVDC_INFLIGHT_BYTES / HVDC_READ_REQ_SIZE)
/* VMs one LIST reply can describe within HVD_REPLY_MAX. */
#define HVDC_LIST_MAX ((HVD_REPLY_MAX - sizeof(struct hvd_hdr) - \
			sizeof(struct hvd_list_reply)) / sizeof(struct hvd_vm))

struct hvdc {
	int fd;
	uint32_t seq;                  /* the last request's */
	/* The last reply's seq. Replies come in order, so the requests
	 * answered_seq + 1 .. seq are in flight (hvdc_in_flight()), and
	 * the next reply must carry answered_seq + 1. Only READs are ever
	 * in flight between calls; every other call starts with none. */
	uint32_t answered_seq;
	/* Set by an HVDC_E_IO or HVDC_E_PROTO: the stream has no boundary
	 * left to trust, so every later call fails at once. */
	bool broken;
	uint32_t status;               /* after HVDC_E_STATUS: HVD_E_* */
	uint16_t service_version;      /* after HVD_E_VERSION: the service's */
	char reason[HVD_REASON_MAX];   /* after HVDC_E_STATUS: printable ASCII */
	char why[192];                 /* after HVDC_E_IO or HVDC_E_PROTO */
	FILE *trace;                   /* not NULL: a line per request and reply */
};

/* A client on connected stream @fd (not owned: the caller closes it). */
void hvdc_init(struct hvdc *c, int fd, FILE *trace);

/* Opens a stream to @cid:@port over AF_VSOCK: the fd, or -1 with the
 * reason in @why. */
int hvdc_connect_vsock(unsigned int cid, unsigned int port, char *why, size_t why_len);

/* Whether @rc, a call's result, is the service's refusal @status. */
bool hvdc_refused(const struct hvdc *c, int rc, uint32_t status);

/* Says in @c->why what broke the connection: @c is broken from now on. */
void hvdc_broken(struct hvdc *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* hvdc_broken(), then the call's result @err: also for a violation found
 * above the client (an entry outside the VM's RAM). A macro, so that
 * the static analyzer (which does not enter variadic functions) sees
 * the value returned. */
#define hvdc_fail(c, err, ...) (hvdc_broken((c), __VA_ARGS__), (err))

/* The VMs the caller manages, into @vms (HVDC_LIST_MAX of them fit). */
int hvdc_list(struct hvdc *c, struct hvd_vm *vms, uint32_t max, uint32_t *count);
/* Starts logging in HVD_MODE_*; *@in_effect gets HVD_MODE_WP or _DBM. */
int hvdc_log_start(struct hvdc *c, uint32_t vm, uint32_t mode, uint32_t *in_effect);
int hvdc_log_stop(struct hvdc *c, uint32_t vm);
int hvdc_pause(struct hvdc *c, uint32_t vm);
int hvdc_resume(struct hvdc *c, uint32_t vm);
/* One HARVEST of at most @max entries into @out. */
int hvdc_harvest(struct hvdc *c, uint32_t vm, uint32_t max, struct hvd_entry *out,
		 uint32_t *count, bool *more);
/* One RESET: *@count entries re-protected and freed. */
int hvdc_reset(struct hvdc *c, uint32_t vm, uint32_t *count);
int hvdc_digest(struct hvdc *c, uint32_t vm, uint64_t ipa, uint64_t len,
		uint64_t *digest);
int hvdc_stats(struct hvdc *c, uint32_t vm, struct hvd_stats *st);
/*
 * READs, pipelined: hvdc_read_send() sends @n READs of @vm's RAM in one
 * write without waiting for their replies (each range: @len
 * 1..HVD_READ_MAX, both page multiples, as the service requires); at
 * most HVDC_READS_MAX may be in flight at once (HVDC_INFLIGHT_BYTES
 * says why). hvdc_read_recv() reads the reply to the oldest READ in
 * flight, of @len bytes, into @buf: the service answers in order, so a
 * reply belongs to the request of its place, and its seq must say so.
 * While READs are in flight no other call may be made (it would read
 * their replies as its own; it fails with HVDC_E_PROTO instead).
 * After a refused READ (HVDC_E_STATUS) the ones behind it are still in
 * flight: hvdc_read_drain() reads and drops their replies, after the
 * caller has reported the refusal (theirs may overwrite @c->status and
 * @c->reason), and fails only if the stream is broken.
 */
int hvdc_read_send(struct hvdc *c, uint32_t vm, const struct hvd_read *reads, uint32_t n);
int hvdc_read_recv(struct hvdc *c, uint64_t len, void *buf);
int hvdc_read_drain(struct hvdc *c);

/* Requests sent whose replies are not read yet. */
static inline uint32_t hvdc_in_flight(const struct hvdc *c)
{
	return c->seq - c->answered_seq;
}

/* Called for each entry of a harvest pass; a value other than 0 ends
 * the pass with it. */
typedef int (*hvdc_entry_fn)(void *arg, const struct hvd_entry *e);

/*
 * A harvest pass: HARVEST, HVD_HARVEST_MAX entries at a time into @buf
 * (room for that many), until a reply says more = 0; @fn (if not
 * NULL) sees every entry in order. A pass hands each page over once,
 * so more than @limit entries is a service that does not end its
 * pass: HVDC_E_PROTO.
 * *@entries (if not NULL) gets the count.
 */
int hvdc_harvest_pass(struct hvdc *c, uint32_t vm, struct hvd_entry *buf,
		      uint64_t limit, hvdc_entry_fn fn, void *arg, uint64_t *entries);

/* RESET until it answers 0; more than @limit entries in all is
 * HVDC_E_PROTO. *@count (if not NULL) gets the total. */
int hvdc_reset_all(struct hvdc *c, uint32_t vm, uint64_t limit, uint64_t *count);

/* The @limit for a pass or reset loop over @vm: each RAM page at most
 * twice (generous: other writable memslots than RAM), plus a reply. */
static inline uint64_t hvdc_entry_limit(const struct hvd_vm *vm)
{
	return 2 * (vm->ram_size / HVD_PAGE_SIZE) + HVD_HARVEST_MAX;
}

#endif
