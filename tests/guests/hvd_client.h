/*
 * Client of the hypervisor's dirty-log service (virt/hvdirty_proto.h,
 * docs/protocol.md) for the bare-metal test guests: requests and their
 * replies over a vsock stream to CID 2, port HVD_PORT (vsock_drv.h).
 *
 * A call returns the reply's status (HVD_OK or an HVD_E_*, >= 0), or a
 * negative error when the exchange itself failed: the transport
 * (VSOCK_E_*) or the service breaking the protocol (HVDC_E_PROTO);
 * hvd_why() says what happened. A reply is checked in full: its type,
 * sequence number, version, length (a multiple of HVD_REPLY_ALIGN, at
 * most HVD_REPLY_MAX), the body size its type has, and an error reply's
 * reason (NUL-terminated, at most HVD_REASON_MAX bytes, kept in
 * c->reason). Every reply is read to its end, so the stream stays framed.
 */
#ifndef TESTS_GUESTS_HVD_CLIENT_H
#define TESTS_GUESTS_HVD_CLIENT_H

#include "lib/types.h"
#include "tests/guests/vsock_drv.h"
#include "virt/hvdirty_proto.h"

#define HVDC_E_PROTO (-16)       /* the service broke the protocol */

struct hvd_client {
	struct vsock_dev *dev;
	struct vsock_sock *s;
	u32 seq;                     /* of the last request sent */
	char reason[HVD_REASON_MAX]; /* of the last error reply */
	char why[VSOCK_WHY_MAX];     /* why the last call failed */
	/* Requests answered, and the counter ticks they took in all. */
	u64 calls, call_ticks;
};

/* Connects to the service; @timeout_ms bounds every later wait. */
int hvd_connect(struct hvd_client *c, struct vsock_dev *d, u64 timeout_ms);
/* Closes the connection (vsock_close()). */
int hvd_close(struct hvd_client *c);
const char *hvd_why(const struct hvd_client *c);
/* "OK", "E_PERM", ... */
const char *hvd_status_name(s64 status);

/*
 * Request @type about VM @vm with @len bytes of @body; an HVD_OK reply's
 * body must be exactly @reply_len bytes, read into @reply.
 */
int hvd_call(struct hvd_client *c, u16 type, u32 vm, const void *body, u32 len,
	     void *reply, u32 reply_len);
/* The same for a reply of variable size: up to @max bytes, *@got read. */
int hvd_call_var(struct hvd_client *c, u16 type, u32 vm, const void *body, u32 len,
		 void *reply, u32 max, u32 *got);

/* For tests of the service's framing: @len raw bytes as the next
 * request(s); then hvd_reply() reads the reply to (@type, @seq). */
int hvd_send_raw(struct hvd_client *c, const void *msg, u32 len);
int hvd_reply(struct hvd_client *c, u16 type, u32 seq, void *reply, u32 max, u32 *got);

/* HVD_READ of [@ipa, @ipa + @len) of VM @vm: an HVD_OK reply's body
 * must be exactly those @len bytes, read into @out. */
int hvd_read(struct hvd_client *c, u32 vm, u64 ipa, u32 len, void *out);

/*
 * HVD_HARVEST of up to @max entries (HVD_HARVEST_* @flags): each entry
 * of the reply goes to @fn as it is read. *@count and *@more as the
 * reply says. The count must not exceed @max.
 */
typedef void (*hvd_entry_fn)(void *arg, const struct hvd_entry *e);
int hvd_harvest(struct hvd_client *c, u32 vm, u32 flags, u32 max, hvd_entry_fn fn,
		void *arg, u32 *count, bool *more);

#endif
