/* The dirty-log service's client for test guests (hvd_client.h). */
#include "tests/guests/hvd_client.h"

#include <stdarg.h>

#include "lib/compiler.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "tests/guests/rt/timer.h"

#define HDR_SIZE ((u32)sizeof(struct hvd_hdr))
/* Entries read from the stream at a time. */
#define ENTRY_CHUNK 256

static __printf(3, 4) int proto_err(struct hvd_client *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return err;
}

/* A transport failure: the driver's reason. */
static int transport_err(struct hvd_client *c, int err, const char *what)
{
	return proto_err(c, err, "%s: %s", what, vsock_why(c->dev));
}

const char *hvd_why(const struct hvd_client *c)
{
	return c->why;
}

const char *hvd_status_name(s64 status)
{
	return status < 0 ? "no reply" : hvd_status_str((u32)status);
}

int hvd_connect(struct hvd_client *c, struct vsock_dev *d, u64 timeout_ms)
{
	int r;

	memset(c, 0, sizeof(*c));
	c->dev = d;
	r = vsock_connect(d, HVD_CID, HVD_PORT, timeout_ms, &c->s);
	return r ? transport_err(c, r, "connect to the dirty-log service") : 0;
}

int hvd_close(struct hvd_client *c)
{
	int r = vsock_close(c->s);

	c->s = NULL;
	return r ? transport_err(c, r, "close") : 0;
}

int hvd_send_raw(struct hvd_client *c, const void *msg, u32 len)
{
	int r = vsock_send(c->s, msg, len);

	return r ? transport_err(c, r, "send") : 0;
}

static int recv(struct hvd_client *c, void *buf, u32 len)
{
	int r = vsock_recv(c->s, buf, len);

	return r ? transport_err(c, r, "receive") : 0;
}

/* The header of the reply to (@type, @seq), checked. */
static int reply_hdr(struct hvd_client *c, u16 type, u32 seq, struct hvd_hdr *h)
{
	int r = recv(c, h, HDR_SIZE);

	if (r)
		return r;
	if (h->len < HDR_SIZE || h->len > HVD_REPLY_MAX || h->len % HVD_REPLY_ALIGN)
		return proto_err(c, HVDC_E_PROTO, "reply length %u", h->len);
	if (h->type != (type | HVD_REPLY) || h->seq != seq)
		return proto_err(c, HVDC_E_PROTO, "reply type 0x%x seq %u to request "
				 "type %u seq %u", h->type, h->seq, type, seq);
	if (h->version != HVD_VERSION && h->arg != HVD_E_VERSION)
		return proto_err(c, HVDC_E_PROTO, "reply in version %u", h->version);
	return 0;
}

/* An error reply's body: a NUL-terminated reason, NUL-padded. */
static int error_body(struct hvd_client *c, const struct hvd_hdr *h)
{
	u32 len = h->len - HDR_SIZE;
	int r;

	if (!len || len > HVD_REASON_MAX)
		return proto_err(c, HVDC_E_PROTO, "%s reply with a reason of %u bytes",
				 hvd_status_name(h->arg), len);
	r = recv(c, c->reason, len);
	if (r)
		return r;
	if (c->reason[len - 1])
		return proto_err(c, HVDC_E_PROTO, "%s reply's reason is not NUL-terminated",
				 hvd_status_name(h->arg));
	return (int)h->arg;
}

int hvd_reply(struct hvd_client *c, u16 type, u32 seq, void *reply, u32 max, u32 *got)
{
	struct hvd_hdr h;
	int r = reply_hdr(c, type, seq, &h);
	u32 len;

	if (r)
		return r;
	if (h.arg != HVD_OK)
		return error_body(c, &h);
	len = h.len - HDR_SIZE;
	if (got ? len > max : len != max)
		return proto_err(c, HVDC_E_PROTO, "reply to type %u: %u bytes of body, "
				 "expected %s%u", type, len, got ? "at most " : "", max);
	if (got)
		*got = len;
	return len ? recv(c, reply, len) : 0;
}

/* Sends request (@type, @vm) with its body; returns the seq or an error. */
static int request(struct hvd_client *c, u16 type, u32 vm, const void *body, u32 len)
{
	u8 msg[HVD_REQ_MAX];
	struct hvd_hdr h = {
		.len = HDR_SIZE + len, .version = HVD_VERSION, .type = type,
		.seq = ++c->seq, .arg = vm,
	};

	if (len > HVD_REQ_MAX - HDR_SIZE)
		return proto_err(c, HVDC_E_PROTO, "request of %u bytes", h.len);
	memcpy(msg, &h, HDR_SIZE);
	if (len)
		memcpy(msg + HDR_SIZE, body, len);
	return hvd_send_raw(c, msg, h.len);
}

int hvd_call_var(struct hvd_client *c, u16 type, u32 vm, const void *body, u32 len,
		 void *reply, u32 max, u32 *got)
{
	u64 began = rt_timer_count(RT_TIMER_VIRT);
	int r = request(c, type, vm, body, len);

	if (!r)
		r = hvd_reply(c, type, c->seq, reply, max, got);
	if (r >= 0) {
		c->calls++;
		c->call_ticks += rt_timer_count(RT_TIMER_VIRT) - began;
	}
	return r;
}

int hvd_call(struct hvd_client *c, u16 type, u32 vm, const void *body, u32 len,
	     void *reply, u32 reply_len)
{
	return hvd_call_var(c, type, vm, body, len, reply, reply_len, NULL);
}

int hvd_read(struct hvd_client *c, u32 vm, u64 ipa, u32 len, void *out)
{
	struct hvd_read req = { .ipa = ipa, .len = len };

	return hvd_call(c, HVD_READ, vm, &req, sizeof(req), out, len);
}

int hvd_harvest(struct hvd_client *c, u32 vm, u32 flags, u32 max, hvd_entry_fn fn,
		void *arg, u32 *count, bool *more)
{
	static struct hvd_entry chunk[ENTRY_CHUNK];
	struct hvd_harvest req = { .max = max, .flags = flags };
	struct hvd_harvest_reply head;
	struct hvd_hdr h;
	u64 began = rt_timer_count(RT_TIMER_VIRT);
	int r = request(c, HVD_HARVEST, vm, &req, sizeof(req));

	if (!r)
		r = reply_hdr(c, HVD_HARVEST, c->seq, &h);
	if (r)
		return r;
	if (h.arg != HVD_OK)
		return error_body(c, &h);
	if (h.len < HDR_SIZE + sizeof(head))
		return proto_err(c, HVDC_E_PROTO, "HARVEST reply of %u bytes", h.len);
	r = recv(c, &head, sizeof(head));
	if (r)
		return r;
	if (head.count > max || head.more > 1 ||
	    h.len != HDR_SIZE + sizeof(head) + head.count * sizeof(struct hvd_entry))
		return proto_err(c, HVDC_E_PROTO, "HARVEST reply: %u entries (asked for "
				 "at most %u), more %u, in %u bytes", head.count, max,
				 head.more, h.len);
	for (u32 done = 0; done < head.count;) {
		u32 n = head.count - done;

		if (n > ENTRY_CHUNK)
			n = ENTRY_CHUNK;
		r = recv(c, chunk, n * sizeof(struct hvd_entry));
		if (r)
			return r;
		for (u32 i = 0; i < n; i++)
			fn(arg, &chunk[i]);
		done += n;
	}
	*count = head.count;
	*more = head.more;
	c->calls++;
	c->call_ticks += rt_timer_count(RT_TIMER_VIRT) - began;
	return HVD_OK;
}
