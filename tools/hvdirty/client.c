/*
 * hvdirty's protocol client (client.h): framing requests, reading and
 * checking replies with EINTR-safe loops over a stream, pipelined READs,
 * and the harvest and reset loops. Nothing a reply says is used before
 * it is checked.
 */
#include "tools/hvdirty/client.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

/* Messages are read and written in place as the header's structs. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "the hvdirty protocol is little-endian");
_Static_assert(sizeof(struct hvd_hdr) + sizeof(struct hvd_read) <= HVD_REQ_MAX,
	       "the largest request body fits a request");

#define HDR_SIZE ((uint32_t)sizeof(struct hvd_hdr))

static const char *type_name(uint16_t type)
{
	static const char *const names[] = {
		[HVD_LIST] = "LIST", [HVD_LOG_START] = "LOG_START",
		[HVD_LOG_STOP] = "LOG_STOP", [HVD_ATTACH] = "ATTACH",
		[HVD_DETACH] = "DETACH", [HVD_HARVEST] = "HARVEST",
		[HVD_RESET] = "RESET", [HVD_PAUSE] = "PAUSE", [HVD_RESUME] = "RESUME",
		[HVD_DIGEST] = "DIGEST", [HVD_STATS] = "STATS", [HVD_READ] = "READ",
	};

	return type < sizeof(names) / sizeof(names[0]) && names[type] ? names[type] : "?";
}

void hvdc_init(struct hvdc *c, int fd, FILE *trace)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->trace = trace;
}

void hvdc_broken(struct hvdc *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	c->broken = true;
}

bool hvdc_refused(const struct hvdc *c, int rc, uint32_t status)
{
	return rc == HVDC_E_STATUS && c->status == status;
}

int hvdc_connect_vsock(unsigned int cid, unsigned int port, char *why, size_t why_len)
{
	struct sockaddr_vm addr = {
		.svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port,
	};
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		snprintf(why, why_len, "no AF_VSOCK socket: %s", strerror(errno));
		return -1;
	}
	while (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		if (errno == EINTR)
			continue;
		snprintf(why, why_len, "cannot connect to the dirty-log service at "
			 "vsock CID %u port %u: %s", cid, port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* ---------------------------------------------------------------- I/O */

/* Reads exactly @len bytes: a stream hands them over in pieces. */
static int read_full(struct hvdc *c, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(c->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return hvdc_fail(c, HVDC_E_IO, "receiving from the service: %s",
					 strerror(errno));
		if (n == 0)
			return hvdc_fail(c, HVDC_E_IO, "the service closed the connection "
					 "in the middle of a reply");
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_full(struct hvdc *c, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		/* MSG_NOSIGNAL: a closed connection is an error, not SIGPIPE. */
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return hvdc_fail(c, HVDC_E_IO, "sending to the service: %s",
					 strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ------------------------------------------------------------ framing */

/* Frames request @type about @vm with body @body (@len bytes) at @msg
 * (room for HVD_REQ_MAX) under the next seq. Returns its length. */
static uint32_t frame_request(struct hvdc *c, uint8_t *msg, uint16_t type, uint32_t vm,
			      const void *body, uint32_t len)
{
	struct hvd_hdr h = {
		.len = HDR_SIZE + len, .version = HVD_VERSION, .type = type,
		.seq = ++c->seq, .arg = vm,
	};

	memcpy(msg, &h, HDR_SIZE);
	if (len)
		memcpy(msg + HDR_SIZE, body, len);
	if (c->trace)
		fprintf(c->trace, "hvdirty: -> %s vm %u seq %u, %u bytes\n",
			type_name(type), vm, h.seq, h.len);
	return h.len;
}

/* Sends one request whose reply is read next: none may be in flight. */
static int send_request(struct hvdc *c, uint16_t type, uint32_t vm, const void *body,
			uint32_t len)
{
	uint8_t msg[HVD_REQ_MAX];

	if (c->broken)
		return HVDC_E_IO;      /* @why still says what broke it */
	if (hvdc_in_flight(c))
		return hvdc_fail(c, HVDC_E_PROTO, "a %s request while %u READs are in flight",
				 type_name(type), hvdc_in_flight(c));
	return write_full(c, msg, frame_request(c, msg, type, vm, body, len));
}

/* Makes a reason from the peer printable: its bytes up to the NUL. */
static void make_printable(char *s)
{
	for (; *s; s++)
		if (*s < ' ' || *s > '~')
			*s = '?';
}

/* An error reply's body: a NUL-terminated reason, NUL-padded. */
static int read_reason(struct hvdc *c, uint16_t type, uint32_t status, uint32_t len)
{
	int r;

	if (len == 0 || len > HVD_REASON_MAX)
		return hvdc_fail(c, HVDC_E_PROTO, "%s reply to %s with a reason of %u bytes "
				 "(1..%u)", hvd_status_str(status), type_name(type), len,
				 HVD_REASON_MAX);
	r = read_full(c, c->reason, len);
	if (r)
		return r;
	if (c->reason[len - 1])
		return hvdc_fail(c, HVDC_E_PROTO, "%s reply to %s: the reason is not "
				 "NUL-terminated", hvd_status_str(status), type_name(type));
	make_printable(c->reason);
	c->status = status;
	if (c->trace)
		fprintf(c->trace, "hvdirty: <- %s %s: %s\n", type_name(type),
			hvd_status_str(status), c->reason);
	return HVDC_E_STATUS;
}

/*
 * Reads the reply to the oldest request in flight (of @type, seq
 * @c->answered_seq + 1) up to its body and checks its header. An error
 * reply is read whole: its status is returned. Otherwise *@body_len is
 * the body's size, still unread.
 */
static int read_reply_hdr(struct hvdc *c, uint16_t type, uint32_t *body_len)
{
	uint32_t seq = c->answered_seq + 1;
	struct hvd_hdr h;
	int r;

	if (c->broken)
		return HVDC_E_IO;
	r = read_full(c, &h, HDR_SIZE);
	if (r)
		return r;
	if (h.len < HDR_SIZE || h.len > HVD_REPLY_MAX || h.len % HVD_REPLY_ALIGN)
		return hvdc_fail(c, HVDC_E_PROTO, "%s reply of %u bytes (%u..%u, a multiple "
				 "of %u)", type_name(type), h.len, HDR_SIZE, HVD_REPLY_MAX,
				 HVD_REPLY_ALIGN);
	if (h.type == HVD_REPLY && h.seq == 0 && h.arg == HVD_E_MALFORMED)
		return hvdc_fail(c, HVDC_E_PROTO, "the service could not frame the %s "
				 "request and closed the connection", type_name(type));
	if (h.type != (type | HVD_REPLY) || h.seq != seq)
		return hvdc_fail(c, HVDC_E_PROTO, "reply of type 0x%x seq %u to %s seq %u",
				 h.type, h.seq, type_name(type), seq);
	c->answered_seq = seq;
	if (h.arg == HVD_E_VERSION)
		c->service_version = h.version;
	else if (h.version != HVD_VERSION)
		return hvdc_fail(c, HVDC_E_PROTO, "%s reply in protocol version %u (this "
				 "tool speaks %u)", type_name(type), h.version, HVD_VERSION);
	*body_len = h.len - HDR_SIZE;
	if (h.arg != HVD_OK)
		return read_reason(c, type, h.arg, *body_len);
	if (c->trace)
		fprintf(c->trace, "hvdirty: <- %s OK, %u bytes\n", type_name(type), h.len);
	return 0;
}

/* A reply body that must be @want bytes, into @buf. */
static int body_exact(struct hvdc *c, uint16_t type, uint32_t got, void *buf,
		      uint32_t want)
{
	if (got != want)
		return hvdc_fail(c, HVDC_E_PROTO, "%s reply with a body of %u bytes, not %u",
				 type_name(type), got, want);
	return want ? read_full(c, buf, want) : 0;
}

/* One request whose reply body has a fixed size. */
static int call_fixed(struct hvdc *c, uint16_t type, uint32_t vm, const void *body,
		      uint32_t len, void *reply, uint32_t reply_len)
{
	uint32_t got;
	int r = send_request(c, type, vm, body, len);

	if (!r)
		r = read_reply_hdr(c, type, &got);
	return r ? r : body_exact(c, type, got, reply, reply_len);
}

/* ----------------------------------------------------------- requests */

/*
 * Sends a request whose reply is a fixed head followed by an array (LIST,
 * HARVEST) and reads that head into @head; *@body_len is the whole
 * body's size, the array still unread.
 */
static int call_counted(struct hvdc *c, uint16_t type, uint32_t vm, const void *req,
			uint32_t req_len, void *head, uint32_t head_len, uint32_t *body_len)
{
	int r = send_request(c, type, vm, req, req_len);

	if (!r)
		r = read_reply_hdr(c, type, body_len);
	if (r)
		return r;
	if (*body_len < head_len)
		return hvdc_fail(c, HVDC_E_PROTO, "%s reply with a body of %u bytes",
				 type_name(type), *body_len);
	return read_full(c, head, head_len);
}

int hvdc_list(struct hvdc *c, struct hvd_vm *vms, uint32_t max, uint32_t *count)
{
	struct hvd_list_reply head;
	uint32_t got;
	int r = call_counted(c, HVD_LIST, 0, NULL, 0, &head, sizeof(head), &got);

	if (r)
		return r;
	if (head.count > max || got != sizeof(head) + head.count * sizeof(struct hvd_vm))
		return hvdc_fail(c, HVDC_E_PROTO, "LIST reply of %u VMs in a body of %u bytes",
				 head.count, got);
	r = read_full(c, vms, head.count * sizeof(struct hvd_vm));
	if (r)
		return r;
	for (uint32_t i = 0; i < head.count; i++) {
		if (!memchr(vms[i].name, 0, sizeof(vms[i].name)))
			return hvdc_fail(c, HVDC_E_PROTO, "LIST reply: VM %u's name is not "
					 "NUL-terminated", vms[i].id);
		make_printable(vms[i].name);
	}
	*count = head.count;
	return 0;
}

int hvdc_log_start(struct hvdc *c, uint32_t vm, uint32_t mode, uint32_t *in_effect)
{
	struct hvd_log_start req = { .mode = mode }, rep;
	int r = call_fixed(c, HVD_LOG_START, vm, &req, sizeof(req), &rep, sizeof(rep));

	if (r)
		return r;
	if (rep.mode != HVD_MODE_WP && rep.mode != HVD_MODE_DBM)
		return hvdc_fail(c, HVDC_E_PROTO, "LOG_START reply: mode %u in effect",
				 rep.mode);
	*in_effect = rep.mode;
	return 0;
}

int hvdc_log_stop(struct hvdc *c, uint32_t vm)
{
	return call_fixed(c, HVD_LOG_STOP, vm, NULL, 0, NULL, 0);
}

int hvdc_pause(struct hvdc *c, uint32_t vm)
{
	return call_fixed(c, HVD_PAUSE, vm, NULL, 0, NULL, 0);
}

int hvdc_resume(struct hvdc *c, uint32_t vm)
{
	return call_fixed(c, HVD_RESUME, vm, NULL, 0, NULL, 0);
}

int hvdc_harvest(struct hvdc *c, uint32_t vm, uint32_t max, struct hvd_entry *out,
		 uint32_t *count, bool *more)
{
	struct hvd_harvest req = { .max = max };
	struct hvd_harvest_reply head;
	uint32_t got;
	int r = call_counted(c, HVD_HARVEST, vm, &req, sizeof(req), &head, sizeof(head),
			     &got);

	if (r)
		return r;
	if (head.count > max || head.more > 1 ||
	    got != sizeof(head) + head.count * sizeof(struct hvd_entry))
		return hvdc_fail(c, HVDC_E_PROTO, "HARVEST reply of %u entries (at most %u), "
				 "more %u, in a body of %u bytes", head.count, max,
				 head.more, got);
	r = read_full(c, out, head.count * sizeof(struct hvd_entry));
	if (r)
		return r;
	*count = head.count;
	*more = head.more;
	return 0;
}

int hvdc_reset(struct hvdc *c, uint32_t vm, uint32_t *count)
{
	struct hvd_count rep;
	int r = call_fixed(c, HVD_RESET, vm, NULL, 0, &rep, sizeof(rep));

	if (r)
		return r;
	if (rep.count > HVDC_RESET_MAX)
		return hvdc_fail(c, HVDC_E_PROTO, "RESET reply: %u entries (at most %u)",
				 rep.count, HVDC_RESET_MAX);
	*count = rep.count;
	return 0;
}

int hvdc_digest(struct hvdc *c, uint32_t vm, uint64_t ipa, uint64_t len,
		uint64_t *digest)
{
	struct hvd_digest req = { .ipa = ipa, .len = len };
	struct hvd_digest_reply rep;
	int r = call_fixed(c, HVD_DIGEST, vm, &req, sizeof(req), &rep, sizeof(rep));

	if (!r)
		*digest = rep.digest;
	return r;
}

int hvdc_stats(struct hvdc *c, uint32_t vm, struct hvd_stats *st)
{
	return call_fixed(c, HVD_STATS, vm, NULL, 0, st, sizeof(*st));
}

/* ----------------------------------------------------- pipelined READs */

int hvdc_read_send(struct hvdc *c, uint32_t vm, const struct hvd_read *reads, uint32_t n)
{
	uint8_t msg[HVDC_INFLIGHT_BYTES];
	uint32_t len = 0;

	if (c->broken)
		return HVDC_E_IO;
	if (n > HVDC_READS_MAX - hvdc_in_flight(c))
		return hvdc_fail(c, HVDC_E_PROTO, "%u more READs with %u in flight: the "
				 "service holds %u", n, hvdc_in_flight(c), HVDC_READS_MAX);
	for (uint32_t i = 0; i < n; i++)
		len += frame_request(c, msg + len, HVD_READ, vm, &reads[i], sizeof(reads[i]));
	return write_full(c, msg, len);
}

int hvdc_read_recv(struct hvdc *c, uint64_t len, void *buf)
{
	uint32_t got;
	int r;

	/* body_exact() reads exactly @len bytes into @buf, whatever the
	 * reply claims; the bound keeps @len a reply's size. */
	if (len > HVD_READ_MAX)
		return hvdc_fail(c, HVDC_E_PROTO, "READ of %" PRIu64 " bytes (at most %u)",
				 len, HVD_READ_MAX);
	if (!hvdc_in_flight(c))
		return hvdc_fail(c, HVDC_E_PROTO, "a READ reply awaited with none in flight");
	r = read_reply_hdr(c, HVD_READ, &got);
	return r ? r : body_exact(c, HVD_READ, got, buf, (uint32_t)len);
}

int hvdc_read_drain(struct hvdc *c)
{
	uint8_t scrap[HVD_PAGE_SIZE];

	while (hvdc_in_flight(c)) {
		uint32_t left;
		int r = read_reply_hdr(c, HVD_READ, &left);

		if (r == HVDC_E_STATUS)
			continue;        /* read whole */
		if (r)
			return r;
		while (left) {
			uint32_t n = left < sizeof(scrap) ? left : (uint32_t)sizeof(scrap);

			r = read_full(c, scrap, n);
			if (r)
				return r;
			left -= n;
		}
	}
	return 0;
}

/* -------------------------------------------------------------- loops */

int hvdc_harvest_pass(struct hvdc *c, uint32_t vm, struct hvd_entry *buf,
		      uint64_t limit, hvdc_entry_fn fn, void *arg, uint64_t *entries)
{
	uint64_t total = 0;
	bool more = true;

	while (more) {
		uint32_t n;
		int r = hvdc_harvest(c, vm, HVD_HARVEST_MAX, buf, &n, &more);

		if (r)
			return r;
		total += n;
		if (total > limit)
			return hvdc_fail(c, HVDC_E_PROTO, "a harvest pass of more than %" PRIu64
					 " entries: the service does not end it", limit);
		for (uint32_t i = 0; fn && i < n; i++) {
			r = fn(arg, &buf[i]);
			if (r)
				return r;
		}
	}
	if (entries)
		*entries = total;
	return 0;
}

int hvdc_reset_all(struct hvdc *c, uint32_t vm, uint64_t limit, uint64_t *count)
{
	uint64_t total = 0;
	uint32_t n = 0;

	do {
		int r = hvdc_reset(c, vm, &n);

		if (r)
			return r;
		total += n;
		if (total > limit)
			return hvdc_fail(c, HVDC_E_PROTO, "RESET freed more than %" PRIu64
					 " entries: the service does not stop", limit);
	} while (n);
	if (count)
		*count = total;
	return 0;
}
