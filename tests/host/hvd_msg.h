/*
 * Building hvdirty messages (virt/hvdirty_proto.h) byte by byte in the
 * host tests and the fuzz target, as a client would send them.
 */
#ifndef TESTS_HOST_HVD_MSG_H
#define TESTS_HOST_HVD_MSG_H

#include <stdlib.h>
#include <string.h>

#include "lib/types.h"
#include "virt/hvdirty_codec.h"
#include "virt/hvdirty_proto.h"

/* Writes a header with every field given at @buf; returns its size. */
static inline u32 hvd_msg_hdr(void *buf, u32 len, u16 version, u16 type, u32 seq,
			      u32 arg)
{
	struct hvd_hdr h = { len, version, type, seq, arg };

	memcpy(buf, &h, sizeof(h));
	return sizeof(h);
}

/* Writes a well-framed request of this version at @buf: header, then
 * @body_len bytes of @body. Returns its length. */
static inline u32 hvd_msg(void *buf, u16 type, u32 seq, u32 target, const void *body,
			  u32 body_len)
{
	u32 len = (u32)sizeof(struct hvd_hdr) + body_len;

	hvd_msg_hdr(buf, len, HVD_VERSION, type, seq, target);
	if (body_len)
		memcpy((u8 *)buf + sizeof(struct hvd_hdr), body, body_len);
	return len;
}

/* hvd_decode() of the first @avail bytes of @msg, from a heap copy of
 * exactly that size, so that AddressSanitizer catches a read past them. */
static inline enum hvd_decode decode_exact(const void *msg, u32 avail,
					   struct hvd_req *req)
{
	u8 *copy = malloc(avail ? avail : 1);
	enum hvd_decode d;

	memcpy(copy, msg, avail);
	d = hvd_decode(copy, avail, req);
	free(copy);
	return d;
}

#endif
