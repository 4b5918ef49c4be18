/*
 * The hvdirty codec (virt/hvdirty_codec.c) as docs/protocol.md
 * specifies it: framing (the length field, NEED_MORE until a request is
 * whole, BROKEN for a length no frame can have), the order of the
 * checks of a framed request (version, type, body size, fields), every
 * body rule, byte-by-byte and back-to-back streams, and the replies it
 * writes. Buffers are exactly as long as what was received, so ASan
 * catches a read past it.
 */
#include <stdlib.h>

#include "tests/host/hvd_msg.h"
#include "tests/host/test.h"
#include "virt/hvdirty_codec.h"

#define HDR ((u32)sizeof(struct hvd_hdr))

/* Whether two bodies are the same: the digest member spans the union
 * (two u64s, no padding). */
static bool body_eq(const union hvd_req_body *a, const union hvd_req_body *b)
{
	_Static_assert(sizeof(*a) == sizeof(a->digest), "digest spans the union");
	return a->digest.ipa == b->digest.ipa && a->digest.len == b->digest.len;
}

/* One framed request of @type with a @body_len body, decoded whole. */
static struct hvd_req decode_one(u16 type, const void *body, u32 body_len)
{
	u8 buf[2 * HVD_REQ_MAX];
	struct hvd_req req;
	u32 len = hvd_msg(buf, type, 7, 3, body, body_len);

	memset(&req, 0xa5, sizeof(req));
	if (decode_exact(buf, len, &req) != HVD_DECODE_DONE)
		req.status = 0xdead;   /* the callers' CHECK_EQ on status reports it */
	return req;
}

/* ------------------------------------------------------------ framing */

TEST(fewer_bytes_than_the_length_field_need_more)
{
	u8 buf[HVD_REQ_MAX];
	struct hvd_req req;
	u32 len = hvd_msg(buf, HVD_LIST, 1, 0, NULL, 0);

	CHECK_EQ(len, HDR);
	for (u32 n = 0; n < 4; n++)
		CHECK_EQ(decode_exact(buf, n, &req), HVD_DECODE_MORE);
}

TEST(a_length_below_the_header_is_broken_as_soon_as_it_is_read)
{
	u8 buf[4];
	struct hvd_req req;

	for (u32 len = 0; len < HDR; len++) {
		memcpy(buf, &len, sizeof(len));
		CHECK_EQ(decode_exact(buf, 4, &req), HVD_DECODE_BROKEN);
		CHECK_EQ(req.status, HVD_E_MALFORMED);
		CHECK_EQ(req.len, 0);
		CHECK(req.why && *req.why);
	}
}

TEST(a_length_above_the_largest_request_is_broken)
{
	static const u32 lens[] = { HVD_REQ_MAX + 1, HVD_REPLY_MAX, 0x80000000u, 0xffffffffu };
	u8 buf[4];
	struct hvd_req req;

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		memcpy(buf, &lens[i], sizeof(lens[i]));
		CHECK_EQ(decode_exact(buf, 4, &req), HVD_DECODE_BROKEN);
		CHECK_EQ(req.status, HVD_E_MALFORMED);
	}
}

TEST(the_length_bounds_themselves_frame)
{
	u8 buf[HVD_REQ_MAX] = { 0 };
	struct hvd_req req;

	hvd_msg_hdr(buf, HDR, HVD_VERSION, HVD_LIST, 1, 0);
	CHECK_EQ(decode_exact(buf, HDR, &req), HVD_DECODE_DONE);
	CHECK_EQ(req.len, HDR);
	CHECK_EQ(req.status, HVD_OK);
	hvd_msg_hdr(buf, HVD_REQ_MAX, HVD_VERSION, HVD_LIST, 1, 0);
	CHECK_EQ(decode_exact(buf, HVD_REQ_MAX - 1, &req), HVD_DECODE_MORE);
	CHECK_EQ(decode_exact(buf, HVD_REQ_MAX, &req), HVD_DECODE_DONE);
	CHECK_EQ(req.len, HVD_REQ_MAX);
	CHECK_EQ(req.status, HVD_E_MALFORMED);   /* LIST has no body */
}

/* One of each request, with valid bodies. */
struct sample {
	u16 type;
	u32 body_len;
	union hvd_req_body body;
};
static const struct sample samples[] = {
	{ HVD_LIST, 0, { .log_start = { 0, 0 } } },
	{ HVD_LOG_START, sizeof(struct hvd_log_start), { .log_start = { HVD_MODE_DBM, 0 } } },
	{ HVD_LOG_STOP, 0, { .log_start = { 0, 0 } } },
	{ HVD_ATTACH, sizeof(struct hvd_attach), { .attach = { HVD_ATTACH_RINGS, 0 } } },
	{ HVD_DETACH, 0, { .log_start = { 0, 0 } } },
	{ HVD_HARVEST, sizeof(struct hvd_harvest), { .harvest = { 100, HVD_HARVEST_MAPPED } } },
	{ HVD_RESET, 0, { .log_start = { 0, 0 } } },
	{ HVD_PAUSE, 0, { .log_start = { 0, 0 } } },
	{ HVD_RESUME, 0, { .log_start = { 0, 0 } } },
	{ HVD_DIGEST, sizeof(struct hvd_digest), { .digest = { 0x40001000, 0x2000 } } },
	{ HVD_STATS, 0, { .log_start = { 0, 0 } } },
	{ HVD_READ, sizeof(struct hvd_read), { .read = { 0x40003000, HVD_READ_MAX } } },
};
#define NR_SAMPLES (sizeof(samples) / sizeof(samples[0]))

TEST(every_request_decodes_with_its_header_and_body)
{
	for (size_t i = 0; i < NR_SAMPLES; i++) {
		const struct sample *s = &samples[i];
		struct hvd_req req = decode_one(s->type, &s->body, s->body_len);
		union hvd_req_body want = { .log_start = { 0, 0 } };

		memcpy(&want, &s->body, s->body_len);
		CHECK_EQ(req.status, HVD_OK);
		CHECK_EQ(req.len, HDR + s->body_len);
		CHECK_EQ(req.type, s->type);
		CHECK_EQ(req.seq, 7);
		CHECK_EQ(req.target, 3);
		CHECK(req.why == NULL);
		CHECK(body_eq(&req.body, &want));
	}
}

TEST(every_request_needs_more_until_its_last_byte)
{
	for (size_t i = 0; i < NR_SAMPLES; i++) {
		u8 buf[HVD_REQ_MAX];
		struct hvd_req req;
		u32 len = hvd_msg(buf, samples[i].type, 1, 0, &samples[i].body,
				  samples[i].body_len);

		for (u32 n = 0; n < len; n++)
			CHECK_EQ(decode_exact(buf, n, &req), HVD_DECODE_MORE);
		CHECK_EQ(decode_exact(buf, len, &req), HVD_DECODE_DONE);
		CHECK_EQ(req.status, HVD_OK);
	}
}

TEST(bytes_after_a_request_are_not_part_of_it)
{
	u8 buf[HVD_REQ_MAX * 2];
	struct hvd_req req;
	struct hvd_harvest h = { 1, 0 };
	u32 len = hvd_msg(buf, HVD_HARVEST, 9, 1, &h, sizeof(h));

	memset(buf + len, 0xff, sizeof(buf) - len);
	CHECK_EQ(decode_exact(buf, sizeof(buf), &req), HVD_DECODE_DONE);
	CHECK_EQ(req.len, len);
	CHECK_EQ(req.status, HVD_OK);
	CHECK_EQ(req.body.harvest.max, 1);
}

/* A stream of every sample and some refused requests, back to back,
 * fed in chunks of every size from 1 to the whole: each comes out in
 * order, with its status, whatever the chunking. */
TEST(back_to_back_requests_come_out_in_order_whatever_the_chunks)
{
	u8 stream[32 * HVD_REQ_MAX];
	u16 want_type[32];
	u32 want_status[32], n = 0, len = 0;
	struct hvd_log_start bad_mode = { 9, 0 };

	for (size_t i = 0; i < NR_SAMPLES; i++) {
		len += hvd_msg(stream + len, samples[i].type, n, 0, &samples[i].body,
			       samples[i].body_len);
		want_type[n] = samples[i].type;
		want_status[n++] = HVD_OK;
		len += hvd_msg(stream + len, HVD_LOG_START, n, 0, &bad_mode, sizeof(bad_mode));
		want_type[n] = HVD_LOG_START;
		want_status[n++] = HVD_E_MALFORMED;
	}
	len += hvd_msg(stream + len, 0x77, n, 0, NULL, 0);
	want_type[n] = 0x77;
	want_status[n++] = HVD_E_TYPE;

	for (u32 chunk = 1; chunk <= len; chunk++) {
		u32 received = 0, consumed = 0, got = 0;

		while (got < n) {
			struct hvd_req req;
			enum hvd_decode d = decode_exact(stream + consumed, received - consumed, &req);

			if (d == HVD_DECODE_MORE) {
				CHECK(received < len);
				received = received + chunk > len ? len : received + chunk;
				continue;
			}
			CHECK_EQ(d, HVD_DECODE_DONE);
			CHECK_EQ(req.type, want_type[got]);
			CHECK_EQ(req.seq, got);
			CHECK_EQ(req.status, want_status[got]);
			consumed += req.len;
			got++;
		}
		CHECK_EQ(consumed, len);
	}
}

/* ------------------------------------------------- checks and their order */

TEST(another_version_is_refused_before_anything_else)
{
	static const u16 versions[] = { 0, HVD_VERSION + 1, 0xffff };
	u8 buf[HVD_REQ_MAX] = { 0 };
	struct hvd_req req;

	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		/* An unknown type and a wrong body size too: version wins. */
		hvd_msg_hdr(buf, HDR + 4, versions[i], 0x1234, 5, 0);
		CHECK_EQ(decode_exact(buf, HDR + 4, &req), HVD_DECODE_DONE);
		CHECK_EQ(req.status, HVD_E_VERSION);
		CHECK_EQ(req.len, HDR + 4);
		CHECK_EQ(req.type, 0x1234);
		CHECK_EQ(req.seq, 5);
	}
}

TEST(an_unknown_type_is_refused_before_its_body)
{
	static const u16 types[] = { 0, HVD_READ + 1, 0x7fff, HVD_REPLY | HVD_LIST, 0xffff };
	u8 buf[HVD_REQ_MAX] = { 0 };
	struct hvd_req req;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		hvd_msg_hdr(buf, HDR + 8, HVD_VERSION, types[i], 1, 0);
		CHECK_EQ(decode_exact(buf, HDR + 8, &req), HVD_DECODE_DONE);
		CHECK_EQ(req.status, HVD_E_TYPE);
		CHECK_EQ(req.type, types[i]);
		CHECK_EQ(req.len, HDR + 8);
		CHECK(req.why && *req.why);
	}
}

TEST(a_body_of_any_other_size_is_malformed_and_the_stream_goes_on)
{
	u8 zeros[HVD_REQ_MAX] = { 0 };

	for (size_t i = 0; i < NR_SAMPLES; i++) {
		for (u32 body = 0; HDR + body <= HVD_REQ_MAX; body++) {
			struct hvd_req req;

			if (body == samples[i].body_len)
				continue;
			req = decode_one(samples[i].type, zeros, body);
			CHECK_EQ(req.status, HVD_E_MALFORMED);
			CHECK_EQ(req.len, HDR + body);   /* consumed: the connection goes on */
		}
	}
}

TEST(a_refused_request_carries_no_body)
{
	struct hvd_log_start bad = { 0, 0 };
	struct hvd_req req = decode_one(HVD_LOG_START, &bad, sizeof(bad));
	union hvd_req_body zero;

	memset(&zero, 0, sizeof(zero));
	CHECK_EQ(req.status, HVD_E_MALFORMED);
	CHECK(body_eq(&req.body, &zero));
}

TEST(log_start_takes_wp_dbm_or_auto_and_a_zero_reserved_field)
{
	static const u32 good[] = { HVD_MODE_WP, HVD_MODE_DBM, HVD_MODE_AUTO };
	static const u32 bad[] = { HVD_MODE_OFF, HVD_MODE_AUTO + 1, 0xffffffffu };

	for (size_t i = 0; i < 3; i++) {
		struct hvd_log_start b = { good[i], 0 };
		struct hvd_req req = decode_one(HVD_LOG_START, &b, sizeof(b));

		CHECK_EQ(req.status, HVD_OK);
		CHECK_EQ(req.body.log_start.mode, good[i]);
		b.reserved = 1;
		CHECK_EQ(decode_one(HVD_LOG_START, &b, sizeof(b)).status, HVD_E_MALFORMED);
	}
	for (size_t i = 0; i < 3; i++) {
		struct hvd_log_start b = { bad[i], 0 };

		CHECK_EQ(decode_one(HVD_LOG_START, &b, sizeof(b)).status, HVD_E_MALFORMED);
	}
}

TEST(attach_takes_only_the_rings_flag_and_a_zero_reserved_field)
{
	struct hvd_attach b = { 0, 0 };

	CHECK_EQ(decode_one(HVD_ATTACH, &b, sizeof(b)).status, HVD_OK);
	b.flags = HVD_ATTACH_RINGS;
	CHECK_EQ(decode_one(HVD_ATTACH, &b, sizeof(b)).status, HVD_OK);
	b.flags = HVD_ATTACH_RINGS << 1;
	CHECK_EQ(decode_one(HVD_ATTACH, &b, sizeof(b)).status, HVD_E_MALFORMED);
	b.flags = 0x80000000u;
	CHECK_EQ(decode_one(HVD_ATTACH, &b, sizeof(b)).status, HVD_E_MALFORMED);
	b.flags = 0;
	b.reserved = 2;
	CHECK_EQ(decode_one(HVD_ATTACH, &b, sizeof(b)).status, HVD_E_MALFORMED);
}

TEST(harvest_takes_1_to_4096_entries_and_only_the_mapped_flag)
{
	struct hvd_harvest b = { 1, 0 };

	CHECK_EQ(decode_one(HVD_HARVEST, &b, sizeof(b)).status, HVD_OK);
	b.max = HVD_HARVEST_MAX;
	b.flags = HVD_HARVEST_MAPPED;
	CHECK_EQ(decode_one(HVD_HARVEST, &b, sizeof(b)).status, HVD_OK);
	b.max = 0;
	CHECK_EQ(decode_one(HVD_HARVEST, &b, sizeof(b)).status, HVD_E_MALFORMED);
	b.max = HVD_HARVEST_MAX + 1;
	CHECK_EQ(decode_one(HVD_HARVEST, &b, sizeof(b)).status, HVD_E_MALFORMED);
	b.max = 0xffffffffu;
	CHECK_EQ(decode_one(HVD_HARVEST, &b, sizeof(b)).status, HVD_E_MALFORMED);
	b.max = 16;
	b.flags = 2;
	CHECK_EQ(decode_one(HVD_HARVEST, &b, sizeof(b)).status, HVD_E_MALFORMED);
}

TEST(digest_takes_a_nonempty_page_aligned_range_that_does_not_wrap)
{
	struct hvd_digest b = { 0x40000000, HVD_PAGE_SIZE };

	CHECK_EQ(decode_one(HVD_DIGEST, &b, sizeof(b)).status, HVD_OK);
	b.ipa = 0xfffffffffffff000ull;   /* the last page: its end, 2^64, wraps to 0 */
	CHECK_EQ(decode_one(HVD_DIGEST, &b, sizeof(b)).status, HVD_E_MALFORMED);
	b.ipa = 0xffffffffffffe000ull;   /* the page before it ends in range */
	CHECK_EQ(decode_one(HVD_DIGEST, &b, sizeof(b)).status, HVD_OK);
	b.ipa = 0x40000008;
	CHECK_EQ(decode_one(HVD_DIGEST, &b, sizeof(b)).status, HVD_E_MALFORMED);
	b.ipa = 0x40000000;
	b.len = HVD_PAGE_SIZE + 8;
	CHECK_EQ(decode_one(HVD_DIGEST, &b, sizeof(b)).status, HVD_E_MALFORMED);
	b.len = 0;
	CHECK_EQ(decode_one(HVD_DIGEST, &b, sizeof(b)).status, HVD_E_MALFORMED);
	b.ipa = HVD_PAGE_SIZE;
	b.len = 0xfffffffffffff000ull;
	CHECK_EQ(decode_one(HVD_DIGEST, &b, sizeof(b)).status, HVD_E_MALFORMED);
}

/* READ's range: the rules of DIGEST's, plus at most HVD_READ_MAX. */
static u32 read_status(u64 ipa, u64 len)
{
	struct hvd_read b = { ipa, len };

	return decode_one(HVD_READ, &b, sizeof(b)).status;
}

TEST(read_takes_a_page_up_to_64_KiB_and_decodes_its_range)
{
	struct hvd_read b = { 0x40000000, HVD_PAGE_SIZE };
	struct hvd_req req = decode_one(HVD_READ, &b, sizeof(b));

	CHECK_EQ(req.status, HVD_OK);
	CHECK_EQ(req.len, HDR + sizeof(b));
	CHECK_EQ(req.body.read.ipa, 0x40000000);
	CHECK_EQ(req.body.read.len, HVD_PAGE_SIZE);
	CHECK_EQ(read_status(0x40000000, HVD_READ_MAX), HVD_OK);
	CHECK_EQ(read_status(0xffffffffffff0000ull - HVD_READ_MAX, HVD_READ_MAX), HVD_OK);
}

TEST(read_of_a_misaligned_range_is_malformed)
{
	CHECK_EQ(read_status(0x40000008, HVD_PAGE_SIZE), HVD_E_MALFORMED);
	CHECK_EQ(read_status(0x40000800, HVD_PAGE_SIZE), HVD_E_MALFORMED);
	CHECK_EQ(read_status(0x40000000, HVD_PAGE_SIZE + 8), HVD_E_MALFORMED);
	CHECK_EQ(read_status(0x40000000, 8), HVD_E_MALFORMED);
}

TEST(read_of_nothing_is_malformed)
{
	CHECK_EQ(read_status(0x40000000, 0), HVD_E_MALFORMED);
	CHECK_EQ(read_status(0, 0), HVD_E_MALFORMED);
}

TEST(read_of_more_than_64_KiB_is_malformed)
{
	CHECK_EQ(read_status(0x40000000, HVD_READ_MAX + HVD_PAGE_SIZE), HVD_E_MALFORMED);
	CHECK_EQ(read_status(0x40000000, 0x100000000ull), HVD_E_MALFORMED);
	CHECK_EQ(read_status(0x40000000, 0xfffffffffffff000ull), HVD_E_MALFORMED);
	CHECK_STREQ(decode_one(HVD_READ, &(struct hvd_read){ 0, 2ull * HVD_READ_MAX },
			       sizeof(struct hvd_read)).why,
		    "range is above HVD_READ_MAX (65536)");
}

TEST(read_of_a_range_that_wraps_is_malformed)
{
	CHECK_EQ(read_status(0xfffffffffffff000ull, HVD_PAGE_SIZE), HVD_E_MALFORMED);
	CHECK_EQ(read_status(0xffffffffffffc000ull, HVD_READ_MAX), HVD_E_MALFORMED);
	/* The last pages, ending at 2^64 - 4096: in range. */
	CHECK_EQ(read_status(0xffffffffffffe000ull, HVD_PAGE_SIZE), HVD_OK);
}

TEST(read_with_a_body_of_another_size_is_malformed)
{
	struct hvd_read b[2] = { { 0x40000000, HVD_PAGE_SIZE }, { 0, 0 } };

	CHECK_EQ(decode_one(HVD_READ, b, 0).status, HVD_E_MALFORMED);
	CHECK_EQ(decode_one(HVD_READ, b, sizeof(u64)).status, HVD_E_MALFORMED);
	CHECK_EQ(decode_one(HVD_READ, b, sizeof(b[0]) + 8).status, HVD_E_MALFORMED);
	CHECK_EQ(decode_one(HVD_READ, b, sizeof(b)).status, HVD_E_MALFORMED);
}

TEST(the_target_is_passed_through_for_the_service_to_check)
{
	u8 buf[HVD_REQ_MAX];
	struct hvd_req req;
	u32 len = hvd_msg(buf, HVD_STATS, 1, 0xffffffffu, NULL, 0);

	CHECK_EQ(decode_exact(buf, len, &req), HVD_DECODE_DONE);
	CHECK_EQ(req.status, HVD_OK);
	CHECK_EQ(req.target, 0xffffffffu);
}

/* ------------------------------------------------------------- replies */

TEST(a_reply_header_echoes_type_and_seq_with_the_services_version)
{
	u8 out[HDR];
	struct hvd_hdr h;

	CHECK_EQ(hvd_put_reply(out, HVD_STATS, 0x12345678, HVD_OK, sizeof(struct hvd_stats)),
		 HDR + sizeof(struct hvd_stats));
	memcpy(&h, out, sizeof(h));
	CHECK_EQ(h.len, HDR + sizeof(struct hvd_stats));
	CHECK_EQ(h.version, HVD_VERSION);
	CHECK_EQ(h.type, HVD_REPLY | HVD_STATS);
	CHECK_EQ(h.seq, 0x12345678);
	CHECK_EQ(h.arg, HVD_OK);
}

TEST(an_error_reply_is_a_nul_padded_reason)
{
	u8 out[HVD_ERROR_REPLY_MAX + 1];
	struct hvd_hdr h;
	u32 len;

	memset(out, 0xee, sizeof(out));
	len = hvd_put_error(out, HVD_PAUSE, 3, HVD_E_BUSY, "busy");   /* 5 bytes -> 8 */
	CHECK_EQ(len, HDR + 8);
	memcpy(&h, out, sizeof(h));
	CHECK_EQ(h.len, len);
	CHECK_EQ(h.type, HVD_REPLY | HVD_PAUSE);
	CHECK_EQ(h.arg, HVD_E_BUSY);
	CHECK(memcmp(out + HDR, "busy\0\0\0\0", 8) == 0);
	CHECK_EQ(out[len], 0xee);   /* nothing written past it */

	len = hvd_put_error(out, HVD_LIST, 3, HVD_E_PERM, "1234567");   /* 8 -> 8 */
	CHECK_EQ(len, HDR + 8);
	len = hvd_put_error(out, HVD_LIST, 3, HVD_E_PERM, "12345678");   /* 9 -> 16 */
	CHECK_EQ(len, HDR + 16);
	CHECK_EQ(out[HDR + 8], 0);
	len = hvd_put_error(out, HVD_LIST, 3, HVD_E_PERM, "");
	CHECK_EQ(len, HDR + 8);
}

TEST(a_long_reason_is_cut_to_fit)
{
	char why[300];
	u8 out[HVD_ERROR_REPLY_MAX + 1];
	u32 len;

	memset(why, 'x', sizeof(why) - 1);
	why[sizeof(why) - 1] = 0;
	memset(out, 0xee, sizeof(out));
	len = hvd_put_error(out, HVD_LIST, 1, HVD_E_INVAL, why);
	CHECK_EQ(len, HVD_ERROR_REPLY_MAX);
	CHECK_EQ(strnlen((char *)out + HDR, HVD_REASON_MAX), HVD_REASON_MAX - 1);
	CHECK_EQ(out[len - 1], 0);
	CHECK_EQ(out[len], 0xee);
}

TEST(every_reply_length_is_a_multiple_of_the_alignment)
{
	u8 out[HVD_ERROR_REPLY_MAX];
	char why[HVD_REASON_MAX + 8];

	for (u32 n = 0; n < sizeof(why); n++) {
		memset(why, 'r', n);
		why[n] = 0;
		CHECK_EQ(hvd_put_error(out, HVD_LIST, 0, HVD_E_INVAL, why) % HVD_REPLY_ALIGN, 0);
	}
}

TEST(types_have_names)
{
	CHECK_STREQ(hvd_type_name(HVD_LIST), "LIST");
	CHECK_STREQ(hvd_type_name(HVD_HARVEST), "HARVEST");
	CHECK_STREQ(hvd_type_name(HVD_STATS), "STATS");
	CHECK_STREQ(hvd_type_name(HVD_READ), "READ");
	CHECK_STREQ(hvd_type_name(0), "unknown");
	CHECK_STREQ(hvd_type_name(HVD_READ + 1), "unknown");
	CHECK_STREQ(hvd_type_name(0xffffffffu), "unknown");
}
