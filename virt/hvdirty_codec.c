/*
 * The hvdirty protocol's codec (virt/hvdirty_codec.h): framing and
 * checking requests, writing reply headers and error replies. Every
 * byte it reads comes from a guest, so every length is checked before
 * it is used and nothing is read past @avail.
 */
#include "lib/compiler.h"
#include "lib/string.h"
#include "virt/hvdirty_codec.h"

/* Messages are copied to and from the wire as the structs are. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "the protocol is little-endian, as the structs are in memory");
_Static_assert(sizeof(struct hvd_hdr) == 16 && offsetof(struct hvd_hdr, version) == 4 &&
	       offsetof(struct hvd_hdr, type) == 6 && offsetof(struct hvd_hdr, seq) == 8 &&
	       offsetof(struct hvd_hdr, arg) == 12, "header layout of docs/protocol.md");
_Static_assert(sizeof(struct hvd_hdr) + sizeof(union hvd_req_body) <= HVD_REQ_MAX,
	       "every request fits HVD_REQ_MAX");
_Static_assert(HVD_REPLY_MAX == sizeof(struct hvd_hdr) + sizeof(struct hvd_harvest_reply) +
	       HVD_HARVEST_MAX * sizeof(struct hvd_entry), "HVD_REPLY_MAX is a full harvest");
_Static_assert(HVD_REASON_MAX % HVD_REPLY_ALIGN == 0, "a padded reason fits");

/* How a request's body is checked (the header has been). Returns NULL
 * if it is fine, else why not. */
typedef const char *(*body_check)(const union hvd_req_body *b);

static const char *check_log_start(const union hvd_req_body *b)
{
	u32 mode = b->log_start.mode;

	if (mode != HVD_MODE_WP && mode != HVD_MODE_DBM && mode != HVD_MODE_AUTO)
		return "mode is not 1 (wp), 2 (dbm) or 3 (auto)";
	if (b->log_start.reserved)
		return "reserved field is not 0";
	return NULL;
}

static const char *check_attach(const union hvd_req_body *b)
{
	if (b->attach.flags & ~HVD_ATTACH_RINGS)
		return "unknown attach flags";
	if (b->attach.reserved)
		return "reserved field is not 0";
	return NULL;
}

static const char *check_harvest(const union hvd_req_body *b)
{
	if (b->harvest.max < 1 || b->harvest.max > HVD_HARVEST_MAX)
		return "max is not 1 .. 4096";
	if (b->harvest.flags & ~HVD_HARVEST_MAPPED)
		return "unknown harvest flags";
	return NULL;
}

/* A range of the VM's RAM as struct hvd_digest states it: what can be
 * checked without the VM (inside its RAM is manage.c's to check). */
static const char *check_range(u64 ipa, u64 len)
{
	if (!IS_ALIGNED(ipa, HVD_PAGE_SIZE) || !IS_ALIGNED(len, HVD_PAGE_SIZE))
		return "range is not page aligned";
	if (!len)
		return "range is empty";
	if (ipa + len < ipa)
		return "range wraps around";
	return NULL;
}

static const char *check_digest(const union hvd_req_body *b)
{
	return check_range(b->digest.ipa, b->digest.len);
}

/* The reply carries the bytes: at most HVD_READ_MAX of them. */
static const char *check_read(const union hvd_req_body *b)
{
	const char *why = check_range(b->read.ipa, b->read.len);

	if (!why && b->read.len > HVD_READ_MAX)
		why = "range is above HVD_READ_MAX (65536)";
	return why;
}

struct req_rule {
	const char *name;        /* NULL: not a request type */
	u32 body;                /* the body's exact size */
	body_check check;        /* NULL: nothing to check in it */
};

/* Indexed by request type. */
static const struct req_rule rules[] = {
	[HVD_LIST] = { "LIST", 0, NULL },
	[HVD_LOG_START] = { "LOG_START", sizeof(struct hvd_log_start), check_log_start },
	[HVD_LOG_STOP] = { "LOG_STOP", 0, NULL },
	[HVD_ATTACH] = { "ATTACH", sizeof(struct hvd_attach), check_attach },
	[HVD_DETACH] = { "DETACH", 0, NULL },
	[HVD_HARVEST] = { "HARVEST", sizeof(struct hvd_harvest), check_harvest },
	[HVD_RESET] = { "RESET", 0, NULL },
	[HVD_PAUSE] = { "PAUSE", 0, NULL },
	[HVD_RESUME] = { "RESUME", 0, NULL },
	[HVD_DIGEST] = { "DIGEST", sizeof(struct hvd_digest), check_digest },
	[HVD_STATS] = { "STATS", 0, NULL },
	[HVD_READ] = { "READ", sizeof(struct hvd_read), check_read },
};

static const struct req_rule *rule_of(u32 type)
{
	if (type >= ARRAY_SIZE(rules) || !rules[type].name)
		return NULL;
	return &rules[type];
}

const char *hvd_type_name(u32 type)
{
	const struct req_rule *r = rule_of(type);

	return r ? r->name : "unknown";
}

/* The checks of a framed request, whose header is @req's; @body is its
 * @req->len - header bytes. */
static void check_request(struct hvd_req *req, u16 version, const u8 *body)
{
	const struct req_rule *r = rule_of(req->type);
	u32 body_len = req->len - (u32)sizeof(struct hvd_hdr);

	req->status = HVD_E_MALFORMED;
	if (version != HVD_VERSION) {
		req->status = HVD_E_VERSION;
		req->why = "unknown protocol version";
	} else if (!r) {
		req->status = HVD_E_TYPE;
		req->why = "unknown request type";
	} else if (body_len != r->body) {
		req->why = "wrong body size for its type";
	} else {
		memcpy(&req->body, body, body_len);
		req->why = r->check ? r->check(&req->body) : NULL;
		if (!req->why)
			req->status = HVD_OK;
	}
}

enum hvd_decode hvd_decode(const void *buf, u32 avail, struct hvd_req *req)
{
	const u8 *p = buf;
	struct hvd_hdr h;
	u32 len;

	if (avail < sizeof(h.len))
		return HVD_DECODE_MORE;
	memcpy(&len, p, sizeof(len));
	memset(req, 0, sizeof(*req));
	if (len < sizeof(h) || len > HVD_REQ_MAX) {
		req->status = HVD_E_MALFORMED;
		req->why = len < sizeof(h) ? "length is below the header's"
					   : "length is above HVD_REQ_MAX (64)";
		return HVD_DECODE_BROKEN;
	}
	if (avail < len)
		return HVD_DECODE_MORE;
	memcpy(&h, p, sizeof(h));
	req->len = len;
	req->type = h.type;
	req->seq = h.seq;
	req->target = h.arg;
	check_request(req, h.version, p + sizeof(h));
	if (req->status != HVD_OK)
		memset(&req->body, 0, sizeof(req->body));
	return HVD_DECODE_DONE;
}

u32 hvd_put_reply(void *out, u16 type, u32 seq, u32 status, u32 body)
{
	struct hvd_hdr h = {
		.len = (u32)sizeof(h) + body,
		.version = HVD_VERSION,
		.type = (u16)(type | HVD_REPLY),
		.seq = seq,
		.arg = status,
	};

	memcpy(out, &h, sizeof(h));
	return h.len;
}

u32 hvd_put_error(void *out, u16 type, u32 seq, u32 status, const char *why)
{
	u8 *reason = (u8 *)out + sizeof(struct hvd_hdr);
	u32 n = (u32)strnlen(why, HVD_REASON_MAX - 1);
	u32 body = ALIGN_UP(n + 1, HVD_REPLY_ALIGN);   /* <= HVD_REASON_MAX */

	memcpy(reason, why, n);
	memset(reason + n, 0, body - n);
	return hvd_put_reply(out, type, seq, status, body);
}
