/*
 * Fuzz target `hvdirty`: the protocol decoder (virt/hvdirty_codec.c)
 * and the dirty-log service behind it (virt/hvdirty_svc.c, over the
 * recording fakes of tests/host/hvdirty_fake.h). The input is what a
 * management VM sends on one connection, after a 4-byte seed that
 * decides how the stream is cut into chunks and how the fakes answer.
 *
 *  - codec: the stream is decoded as it arrives, chunk by chunk, from
 *    buffers exactly as long as what arrived (ASan sees any read past
 *    them); every outcome is checked against what docs/protocol.md
 *    says of those bytes, and a request decodes the same however many
 *    bytes follow it;
 *  - service: the stream arrives on a connection of VM "mgr", the fakes
 *    fail some calls, the client reads its replies at random moments;
 *    nothing is consumed or committed beyond the buffers, no manage
 *    call is made about a VM "mgr" does not manage, every reply is
 *    whole and well-formed, and a closed connection stays silent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/compiler.h"
#include "lib/errno.h"
#include "tests/host/hvd_msg.h"
#include "tests/host/hvdirty_fake.h"
#include "virt/hvdirty_codec.h"
#include "virt/hvdirty_svc.h"

#define HDR ((u32)sizeof(struct hvd_hdr))
#define SEED_BYTES 4u
#define CHUNK_MAX 80u            /* bytes arriving at once, at most */

#define REQUIRE(cond)                                                      \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "%s:%d: invariant broken: %s\n",   \
				__FILE__, __LINE__, #cond);                \
			abort();                                           \
		}                                                          \
	} while (0)

/* xorshift32: the seed's choices, reproducible from the input. */
static u32 next_rand(u32 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* ------------------------------------------------------------- codec */

static bool body_is_zero(const union hvd_req_body *b)
{
	return b->digest.ipa == 0 && b->digest.len == 0;   /* digest spans it */
}

/* A request the codec let through obeys its type's rules. */
static void check_valid_body(const struct hvd_req *r)
{
	const union hvd_req_body *b = &r->body;

	switch (r->type) {
	case HVD_LOG_START:
		REQUIRE(r->len == HDR + sizeof(b->log_start));
		REQUIRE(b->log_start.mode >= HVD_MODE_WP && b->log_start.mode <= HVD_MODE_AUTO);
		REQUIRE(b->log_start.reserved == 0);
		break;
	case HVD_ATTACH:
		REQUIRE(r->len == HDR + sizeof(b->attach));
		REQUIRE(!(b->attach.flags & ~HVD_ATTACH_RINGS) && b->attach.reserved == 0);
		break;
	case HVD_HARVEST:
		REQUIRE(r->len == HDR + sizeof(b->harvest));
		REQUIRE(b->harvest.max >= 1 && b->harvest.max <= HVD_HARVEST_MAX);
		REQUIRE(!(b->harvest.flags & ~HVD_HARVEST_MAPPED));
		break;
	case HVD_DIGEST:
		REQUIRE(r->len == HDR + sizeof(b->digest));
		REQUIRE(b->digest.ipa % HVD_PAGE_SIZE == 0 && b->digest.len % HVD_PAGE_SIZE == 0);
		REQUIRE(b->digest.len && b->digest.ipa + b->digest.len > b->digest.ipa);
		break;
	case HVD_READ:
		REQUIRE(r->len == HDR + sizeof(b->read));
		REQUIRE(b->read.ipa % HVD_PAGE_SIZE == 0 && b->read.len % HVD_PAGE_SIZE == 0);
		REQUIRE(b->read.len && b->read.len <= HVD_READ_MAX);
		REQUIRE(b->read.ipa + b->read.len > b->read.ipa);
		break;
	case HVD_LIST:
	case HVD_LOG_STOP:
	case HVD_DETACH:
	case HVD_RESET:
	case HVD_PAUSE:
	case HVD_RESUME:
	case HVD_STATS:
		REQUIRE(r->len == HDR && body_is_zero(b));
		break;
	default:
		REQUIRE(!"an unknown type was let through");
	}
}

/* What hvd_decode() said of the @avail bytes at @p, against them. */
static void check_decoded(const u8 *p, u32 avail, enum hvd_decode d, const struct hvd_req *r)
{
	struct hvd_hdr h;
	u32 len;

	if (avail < sizeof(len)) {
		REQUIRE(d == HVD_DECODE_MORE);
		return;
	}
	memcpy(&len, p, sizeof(len));
	if (len < HDR || len > HVD_REQ_MAX) {
		REQUIRE(d == HVD_DECODE_BROKEN);
		REQUIRE(r->status == HVD_E_MALFORMED && r->why && r->len == 0);
		return;
	}
	if (avail < len) {
		REQUIRE(d == HVD_DECODE_MORE);
		return;
	}
	REQUIRE(d == HVD_DECODE_DONE);
	memcpy(&h, p, sizeof(h));
	REQUIRE(r->len == len && r->type == h.type && r->seq == h.seq && r->target == h.arg);
	REQUIRE((r->status == HVD_E_VERSION) == (h.version != HVD_VERSION));
	if (r->status == HVD_OK) {
		REQUIRE(r->why == NULL);
		REQUIRE(strcmp(hvd_type_name(r->type), "unknown") != 0);
		check_valid_body(r);
		return;
	}
	REQUIRE(r->status == HVD_E_VERSION || r->status == HVD_E_TYPE ||
		r->status == HVD_E_MALFORMED);
	REQUIRE(r->why && strlen(r->why) < HVD_REASON_MAX);
	REQUIRE(body_is_zero(&r->body));
	REQUIRE((r->status == HVD_E_TYPE) ==
		(h.version == HVD_VERSION && !strcmp(hvd_type_name(r->type), "unknown")));
}

/* An error reply for @r fits, is padded, and ends in NUL. */
static void check_error_reply(const struct hvd_req *r)
{
	u8 *out = malloc(HVD_ERROR_REPLY_MAX);
	u32 n = hvd_put_error(out, r->type, r->seq, r->status, r->why);

	REQUIRE(n <= HVD_ERROR_REPLY_MAX && n % HVD_REPLY_ALIGN == 0 && n > HDR);
	REQUIRE(out[n - 1] == 0);
	free(out);
}

static void fuzz_codec(const u8 *s, u32 n, u32 *rng)
{
	u32 received = 0, consumed = 0;

	for (;;) {
		struct hvd_req r, whole;
		enum hvd_decode d = decode_exact(s + consumed, received - consumed, &r);

		check_decoded(s + consumed, received - consumed, d, &r);
		if (d == HVD_DECODE_BROKEN) {
			check_error_reply(&r);
			return;
		}
		if (d == HVD_DECODE_MORE) {
			if (received == n)
				return;
			received += 1 + next_rand(rng) % CHUNK_MAX;
			if (received > n)
				received = n;
			continue;
		}
		/* The same request however much of the stream follows it. */
		REQUIRE(decode_exact(s + consumed, n - consumed, &whole) == HVD_DECODE_DONE);
		REQUIRE(whole.len == r.len && whole.status == r.status && whole.why == r.why &&
			whole.type == r.type && whole.seq == r.seq && whole.target == r.target &&
			whole.body.digest.ipa == r.body.digest.ipa &&
			whole.body.digest.len == r.body.digest.len);
		if (r.status != HVD_OK)
			check_error_reply(&r);
		consumed += r.len;
	}
}

/* ----------------------------------------------------------- service */

/* The answers the manage fakes give, most often success. */
static const int results[] = { 0, 0, 0, 0, -ESRCH, -EPERM, -EBUSY, -EALREADY,
			       -EOPNOTSUPP, -ENOMEM, -ENOSPC, -EINVAL, -EIO };

/* Every reply in @c's output is whole and well-formed; returns how many. */
static u32 check_replies(const struct vsock_conn *c)
{
	struct hvd_hdr h;
	const u8 *body;
	u32 n = 0, bytes = 0;

	while ((body = fake_reply(c, n, &h))) {
		REQUIRE(h.len % HVD_REPLY_ALIGN == 0 && h.len <= HVD_REPLY_MAX);
		REQUIRE(h.version == HVD_VERSION && (h.type & HVD_REPLY));
		REQUIRE(h.arg <= HVD_E_INVAL);
		if (h.arg != HVD_OK)
			REQUIRE(h.len - HDR <= HVD_REASON_MAX && body[h.len - HDR - 1] == 0);
		else if (h.type == (HVD_REPLY | HVD_READ))   /* whole pages, 64 KiB at most */
			REQUIRE(h.len > HDR && (h.len - HDR) % HVD_PAGE_SIZE == 0 &&
				h.len - HDR <= HVD_READ_MAX);
		bytes += h.len;
		n++;
	}
	REQUIRE(bytes == c->out_len);   /* never a cut reply */
	return n;
}

/* After a framing error: the last reply is its answer, then silence. */
static void check_closed(void *state, struct vsock_conn *c)
{
	u32 replies = check_replies(c), before = c->out_len;
	struct hvd_hdr h;

	REQUIRE(replies && fake_reply(c, replies - 1, &h));
	REQUIRE(h.type == HVD_REPLY && h.seq == 0 && h.arg == HVD_E_MALFORMED);
	fake.svc->process(state, c);
	REQUIRE(c->out_len == before);
}

/* process() with the fakes answering as @rng says; then the checks. */
static void process(void *state, struct vsock_conn *c, u32 *rng)
{
	fake.ret = results[next_rand(rng) % (sizeof(results) / sizeof(results[0]))];
	fake.harvest_err_at = next_rand(rng) % 3;
	fake.harvest_calls = 0;
	fake.target_stopped = next_rand(rng) & 1;
	fake.svc->process(state, c);
	REQUIRE(!fake.unauthorised && !fake.consume_overrun && !fake.commit_overrun);
	check_replies(c);
}

/* The stream arrives in chunks (never more unread than the peer's
 * credit, FAKE_IN_MAX); the client reads its replies at random. */
static void deliver(void *state, struct vsock_conn *c, const u8 *s, u32 n, u32 *rng)
{
	u32 sent = 0;

	while (sent < n && !c->closed) {
		u32 unread = c->in_len - c->in_pos;
		u32 chunk = 1 + next_rand(rng) % CHUNK_MAX;

		memmove(c->in, c->in + c->in_pos, unread);
		c->in_pos = 0;
		c->in_len = unread;
		chunk = MIN(chunk, MIN(n - sent, FAKE_IN_MAX - unread));
		memcpy(c->in + c->in_len, s + sent, chunk);
		c->in_len += chunk;
		sent += chunk;
		process(state, c, rng);
		if (c->closed)
			return;
		/* The client reads now or later; with the input full, now. */
		if (next_rand(rng) & 1 || c->in_len - c->in_pos == FAKE_IN_MAX)
			c->out_len = 0;
	}
}

static void fuzz_service(const u8 *s, u32 n, u32 *rng)
{
	static struct vsock_conn conn;
	u8 *out = malloc((size_t)VSOCK_SVC_OUT_BUF);   /* exact: ASan sees an overrun */
	struct hvd_req r;
	void *state;

	fake_reset();
	REQUIRE(fake.svc || !hvdirty_svc_init());
	memset(&conn, 0, sizeof(conn));
	conn.peer = &fake_vms[MGR];
	conn.out = out;
	conn.out_cap = VSOCK_SVC_OUT_BUF;
	state = fake.svc->accept(conn.peer, &conn);
	REQUIRE(state);
	fake.harvest_left = next_rand(rng) % (4 * HVD_HARVEST_MAX);
	fake.harvest_chunk = 1 + next_rand(rng) % HVD_HARVEST_MAX;
	deliver(state, &conn, s, n, rng);
	/* Once the client reads everything, no whole request is left. */
	while (!conn.closed && conn.in_pos < conn.in_len) {
		u32 pos = conn.in_pos;

		conn.out_len = 0;
		process(state, &conn, rng);
		if (conn.in_pos == pos)
			break;
	}
	if (conn.closed)
		check_closed(state, &conn);
	else
		REQUIRE(hvd_decode(conn.in + conn.in_pos, conn.in_len - conn.in_pos, &r) ==
			HVD_DECODE_MORE);
	fake.svc->closed(state);
	free(out);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	u32 seed = 0x9e3779b9u, rng;
	const u8 *s = data;
	u32 n;

	if (size > SEED_BYTES) {
		memcpy(&seed, data, SEED_BYTES);
		seed |= 1;   /* xorshift needs a nonzero state */
		s += SEED_BYTES;
		size -= SEED_BYTES;
	}
	n = size > 0x100000 ? 0x100000 : (u32)size;
	rng = seed;
	fuzz_codec(s, n, &rng);
	rng = seed;
	fuzz_service(s, n, &rng);
	return 0;
}
