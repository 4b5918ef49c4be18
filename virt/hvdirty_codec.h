/*
 * The hvdirty protocol's codec (virt/hvdirty_proto.h): finding one
 * request at the front of the bytes a connection has received and
 * checking everything about it that does not depend on a VM, and
 * writing replies' headers and error replies. Pure functions over
 * memory, so that host tests and the fuzz target run them as the
 * service (virt/hvdirty_svc.c) does.
 */
#ifndef VIRT_HVDIRTY_CODEC_H
#define VIRT_HVDIRTY_CODEC_H

#include "lib/types.h"
#include "virt/hvdirty_proto.h"

/* What hvd_decode() found. */
enum hvd_decode {
	HVD_DECODE_MORE,     /* no whole request yet: wait for more bytes */
	HVD_DECODE_DONE,     /* one framed request: consume req->len bytes,
				answer it (req->status says how) */
	HVD_DECODE_BROKEN,   /* no frame to trust: answer req->status
				(HVD_E_MALFORMED) and close */
};

/* The bodies of the requests that have one. */
union hvd_req_body {
	struct hvd_log_start log_start;
	struct hvd_attach attach;
	struct hvd_harvest harvest;
	struct hvd_digest digest;
	struct hvd_read read;
};

/*
 * A decoded request. With status HVD_OK: @type is a request type,
 * @len is sizeof(struct hvd_hdr) plus its body's exact size, and the
 * body in @body passed every check hvd_decode() documents; the rest of
 * @body is zero. With an error status: @why says why, for people.
 */
struct hvd_req {
	u32 len;                 /* bytes it takes in the stream; 0 if BROKEN */
	u16 type;                /* as sent (for the reply's echo) */
	u32 seq;                 /* as sent */
	u32 target;              /* struct hvd_hdr.arg: the VM it is about */
	u32 status;              /* HVD_OK, or the error to answer with */
	const char *why;         /* static text; NULL with HVD_OK */
	union hvd_req_body body;
};

/*
 * Looks at the @avail bytes received at @buf (no alignment needed) for
 * the request at their front. MORE until its @len field and then all
 * its bytes are there; BROKEN as soon as @len is below the header or
 * above HVD_REQ_MAX. A framed request is checked in this order, the
 * first failure giving the status: version (HVD_E_VERSION), type
 * (HVD_E_TYPE), body size, reserved fields and value ranges
 * (HVD_E_MALFORMED). Fills @req for DONE and BROKEN.
 */
enum hvd_decode hvd_decode(const void *buf, u32 avail, struct hvd_req *req);

/* The name of request type @type ("HARVEST"), or "unknown". */
const char *hvd_type_name(u32 type);

/*
 * Writes at @out (no alignment needed) the header of the reply to
 * @type/@seq: the service's version, @status, and a length that counts
 * @body bytes the caller writes after it. Returns header + @body.
 */
u32 hvd_put_reply(void *out, u16 type, u32 seq, u32 status, u32 body);

/* An error reply's largest size: header and the longest reason. */
#define HVD_ERROR_REPLY_MAX (sizeof(struct hvd_hdr) + HVD_REASON_MAX)

/*
 * Writes at @out a whole error reply to @type/@seq: @status, and @why
 * (cut to HVD_REASON_MAX - 1 characters) NUL-terminated and NUL-padded
 * to a multiple of HVD_REPLY_ALIGN. Returns its length, at most
 * HVD_ERROR_REPLY_MAX.
 */
u32 hvd_put_error(void *out, u16 type, u32 seq, u32 status, const char *why);

#endif
