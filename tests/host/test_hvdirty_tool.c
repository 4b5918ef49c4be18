/*
 * tools/hvdirty against a fake dirty-log service: the client's checks of
 * every reply (over a bare socketpair, replies written by hand), and the
 * commands run through hvdirty_main() with a fake service thread on the
 * other end of each connection. The fake simulates a VM's RAM, its
 * dirty log (pages protected, logged, handed over, reset) and a
 * deterministic writer that changes pages at every request while the VM
 * is not paused, also half-way through a READ (torn copies).
 */
#define _GNU_SOURCE              /* posix_openpt() and the pty calls */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/host/test.h"
#include "tools/hvdirty/checkpoint.h"
#include "tools/hvdirty/client.h"
#include "tools/hvdirty/hvdirty.h"

#define HDR ((uint32_t)sizeof(struct hvd_hdr))

/* ============================================================ the fake */

#define WORK_ID 1u               /* the VM with RAM */
#define ID_42 2u                 /* a stopped VM named "42", listed only */
#define FOREIGN_ID 3u            /* in the scenario, not managed: E_PERM */
#define NR_SCENARIO_VMS 4u       /* ids from here on: E_NOVM */
#define RAM_IPA 0x40000000ull
#define RAM_PAGES 1024u          /* 4 MiB */
#define RAM_SIZE ((uint64_t)RAM_PAGES * HVD_PAGE_SIZE)
#define MAX_CONNS 16
#define NR_TYPES 16

/* A page's dirty-log state. */
enum page_state {
	PG_WRITABLE,             /* logging off */
	PG_PROTECTED,            /* the next write is logged */
	PG_LOGGED,               /* in @pending */
	PG_HANDED,               /* harvested, in @handed until a RESET */
};

/* A FIFO of page numbers; a page is in at most one, once. */
struct page_fifo {
	uint32_t page[RAM_PAGES];
	uint32_t head, count;
};

/* Writes @per_step words per request into the hot set: @pages pages
 * from @first, @stride apart. The set shrinks by @shrink pages at each
 * RESET that answers 0 (the end of a round), to 1 at least. */
struct writer {
	bool on;
	uint32_t first, pages, stride, per_step, shrink;
	uint64_t cursor, value;
};

/* One-shot fault: the request of @type (while paused, if @paused_only)
 * that follows @skip others gets error @status, or (@close) the
 * connection closes, or (@flag) it sets *@flag and is served. */
struct inject {
	uint16_t type;
	uint32_t status;
	bool close;
	bool paused_only;
	uint32_t skip;
	volatile sig_atomic_t *flag;
};

static struct fake {
	pthread_mutex_t lock;
	pthread_t threads[MAX_CONNS];
	unsigned int nr_threads;
	bool refuse_connect;
	bool trickle;            /* replies one byte per send() */
	bool dbm_capable;
	uint8_t *ram, *snapshot; /* @snapshot: the RAM at the last PAUSE */
	uint32_t log_mode;
	bool paused;
	uint8_t state[RAM_PAGES];
	struct page_fifo pending, handed;
	struct writer w;
	struct inject inj;
	bool drop_paused_entry;  /* a harvest while paused loses one entry */
	bool bogus_paused_entry; /* ... hands over one for a page past RAM */
	volatile sig_atomic_t *flag_on_pause;
	/* What happened. */
	unsigned int requests[NR_TYPES];
	unsigned int client_malformed;   /* requests the tool got wrong */
	unsigned int pauses, resumes;
	uint64_t logged, harvested, reset;
	/* The most READs that were waiting at once, the one being read
	 * included: at least that many were in flight. */
	unsigned int max_reads_queued;
} fk = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void fifo_push(struct page_fifo *q, uint32_t page)
{
	q->page[(q->head + q->count++) % RAM_PAGES] = page;
}

static uint32_t fifo_pop(struct page_fifo *q)
{
	uint32_t page = q->page[q->head];

	q->head = (q->head + 1) % RAM_PAGES;
	q->count--;
	return page;
}

/* A write of @value at @off of @page, logged as the hardware would. */
static void fake_write(uint32_t page, uint32_t off, uint64_t value)
{
	memcpy(fk.ram + (uint64_t)page * HVD_PAGE_SIZE + off, &value, sizeof(value));
	if (fk.state[page] == PG_PROTECTED) {
		fk.state[page] = PG_LOGGED;
		fifo_push(&fk.pending, page);
		fk.logged++;
	}
}

static void writer_step(void)
{
	struct writer *w = &fk.w;

	if (!w->on || fk.paused)
		return;
	for (uint32_t i = 0; i < w->per_step; i++, w->cursor++) {
		uint32_t page = (w->first + (uint32_t)(w->cursor % w->pages) * w->stride) %
				RAM_PAGES;

		w->value++;
		fake_write(page, (uint32_t)(w->value * 8 % HVD_PAGE_SIZE), w->value);
	}
}

/* A fresh fake: RAM with a pattern, logging off, nothing injected. */
static void fake_start(void)
{
	free(fk.ram);
	free(fk.snapshot);
	memset((char *)&fk + offsetof(struct fake, threads), 0,
	       sizeof(fk) - offsetof(struct fake, threads));
	fk.ram = malloc(RAM_SIZE);
	fk.snapshot = calloc(1, RAM_SIZE);
	for (uint64_t i = 0; i < RAM_SIZE / 8; i++)
		((uint64_t *)fk.ram)[i] = i * 0x9e3779b97f4a7c15ull;
}

/* Waits for every connection's thread (each ends when the tool closes). */
static void fake_join(void)
{
	for (unsigned int i = 0; i < fk.nr_threads; i++)
		pthread_join(fk.threads[i], NULL);
	fk.nr_threads = 0;
}

static uint32_t reply_reason(uint8_t *body, uint32_t *len, const char *why)
{
	size_t n = strlen(why) + 1;

	memset(body, 0, HVD_REASON_MAX);
	memcpy(body, why, n);
	*len = (uint32_t)((n + 7) / 8 * 8);
	return 0;
}

/* Checks a range as DIGEST and READ do: a status. */
static uint32_t check_range(const struct hvd_read *r, uint64_t max)
{
	if (!r->len || r->ipa % HVD_PAGE_SIZE || r->len % HVD_PAGE_SIZE ||
	    r->ipa + r->len < r->ipa || r->len > max)
		return HVD_E_MALFORMED;
	if (r->ipa < RAM_IPA || r->ipa + r->len > RAM_IPA + RAM_SIZE)
		return HVD_E_INVAL;
	return HVD_OK;
}

static void list_vm(struct hvd_vm *vm, uint32_t id, const char *name, uint64_t ipa,
		    uint64_t size, uint32_t flags, uint32_t log_mode)
{
	memset(vm, 0, sizeof(*vm));
	vm->id = id;
	vm->nr_vcpus = id == WORK_ID ? 2 : 1;
	vm->ram_ipa = ipa;
	vm->ram_size = size;
	vm->vsock_cid = id == WORK_ID ? 3 : 0;
	vm->flags = flags;
	vm->log_mode = log_mode;
	snprintf(vm->name, sizeof(vm->name), "%s", name);
}

static uint32_t do_list(uint8_t *body, uint32_t *len)
{
	struct hvd_list_reply *r = (struct hvd_list_reply *)body;

	r->count = 2;
	r->reserved = 0;
	list_vm(&r->vm[0], WORK_ID, "work", RAM_IPA, RAM_SIZE,
		(fk.dbm_capable ? HVD_VM_DBM : 0) | (fk.paused ? HVD_VM_PAUSED : 0),
		fk.log_mode);
	list_vm(&r->vm[1], ID_42, "42", 0x80000000ull, 0x10000, HVD_VM_STOPPED, 0);
	*len = sizeof(*r) + 2 * sizeof(struct hvd_vm);
	return HVD_OK;
}

static uint32_t do_log_start(const uint8_t *in, uint8_t *body, uint32_t *len)
{
	struct hvd_log_start req, rep = { 0, 0 };

	memcpy(&req, in, sizeof(req));
	if (req.reserved || req.mode < HVD_MODE_WP || req.mode > HVD_MODE_AUTO)
		return HVD_E_MALFORMED;
	if (fk.log_mode != HVD_MODE_OFF)
		return reply_reason(body, len, "logging is already on"), HVD_E_BUSY;
	if (req.mode == HVD_MODE_DBM && !fk.dbm_capable)
		return reply_reason(body, len, "dbm: the CPUs lack FEAT_HAFDBS"),
		       HVD_E_NOTSUP;
	rep.mode = req.mode != HVD_MODE_AUTO ? req.mode :
		   fk.dbm_capable ? HVD_MODE_DBM : HVD_MODE_WP;
	fk.log_mode = rep.mode;
	for (uint32_t i = 0; i < RAM_PAGES; i++)
		if (fk.state[i] == PG_WRITABLE)
			fk.state[i] = PG_PROTECTED;
	memcpy(body, &rep, sizeof(rep));
	*len = sizeof(rep);
	return HVD_OK;
}

static uint32_t do_log_stop(uint8_t *body, uint32_t *len)
{
	if (fk.log_mode == HVD_MODE_OFF)
		return reply_reason(body, len, "logging is off"), HVD_E_STATE;
	fk.log_mode = HVD_MODE_OFF;
	for (uint32_t i = 0; i < RAM_PAGES; i++)
		if (fk.state[i] == PG_PROTECTED)
			fk.state[i] = PG_WRITABLE;
	return HVD_OK;
}

static uint32_t do_harvest(const uint8_t *in, uint8_t *body, uint32_t *len)
{
	struct hvd_harvest req;
	struct hvd_harvest_reply *r = (struct hvd_harvest_reply *)body;
	uint32_t n = 0;

	memcpy(&req, in, sizeof(req));
	if (!req.max || req.max > HVD_HARVEST_MAX || req.flags)
		return HVD_E_MALFORMED;
	while (n < req.max && fk.pending.count) {
		uint32_t page = fifo_pop(&fk.pending);

		fk.state[page] = PG_HANDED;
		fifo_push(&fk.handed, page);
		if (fk.paused && fk.drop_paused_entry) {
			fk.drop_paused_entry = false;      /* lost on the way */
			continue;
		}
		r->entry[n++] = (struct hvd_entry){ HVD_ENTRY_DIRTY, 0, page };
	}
	if (fk.paused && fk.bogus_paused_entry && n < req.max) {
		fk.bogus_paused_entry = false;
		r->entry[n++] = (struct hvd_entry){ HVD_ENTRY_DIRTY, 0, RAM_PAGES + 5 };
	}
	fk.harvested += n;
	r->count = n;
	r->more = n == req.max;
	*len = (uint32_t)(sizeof(*r) + n * sizeof(struct hvd_entry));
	return HVD_OK;
}

static uint32_t do_reset(uint8_t *body, uint32_t *len)
{
	struct hvd_count c = { 0, 0 };

	while (c.count < HVDC_RESET_MAX && fk.handed.count) {
		uint32_t page = fifo_pop(&fk.handed);

		fk.state[page] = fk.log_mode ? PG_PROTECTED : PG_WRITABLE;
		c.count++;
	}
	if (!c.count && fk.w.pages > fk.w.shrink)
		fk.w.pages -= fk.w.shrink;
	fk.reset += c.count;
	memcpy(body, &c, sizeof(c));
	*len = sizeof(c);
	return HVD_OK;
}

static uint32_t do_pause(uint8_t *body, uint32_t *len)
{
	if (fk.paused)
		return reply_reason(body, len, "it is already paused by this VM"),
		       HVD_E_BUSY;
	fk.paused = true;
	fk.pauses++;
	memcpy(fk.snapshot, fk.ram, RAM_SIZE);
	if (fk.flag_on_pause)
		*fk.flag_on_pause = 1;
	return HVD_OK;
}

static uint32_t do_resume(uint8_t *body, uint32_t *len)
{
	if (!fk.paused)
		return reply_reason(body, len, "this VM has not paused it"), HVD_E_STATE;
	fk.paused = false;
	fk.resumes++;
	return HVD_OK;
}

static uint32_t do_digest(const uint8_t *in, uint8_t *body, uint32_t *len)
{
	struct hvd_read req;
	struct hvd_digest_reply rep;
	uint32_t st;

	memcpy(&req, in, sizeof(req));
	st = check_range(&req, UINT64_MAX);
	if (st)
		return st;
	rep.digest = hvd_digest_update(HVD_DIGEST_SEED,
				       (const uint64_t *)(fk.ram + (req.ipa - RAM_IPA)),
				       req.len / 8);
	memcpy(body, &rep, sizeof(rep));
	*len = sizeof(rep);
	return HVD_OK;
}

/* READ: the first half copied, a writer step, the rest: a running VM's
 * pages can come out torn. */
static uint32_t do_read(const uint8_t *in, uint8_t *body, uint32_t *len)
{
	struct hvd_read req;
	uint64_t half;
	uint32_t st;

	memcpy(&req, in, sizeof(req));
	st = check_range(&req, HVD_READ_MAX);
	if (st)
		return st;
	half = req.len / 2;
	memcpy(body, fk.ram + (req.ipa - RAM_IPA), half);
	writer_step();
	memcpy(body + half, fk.ram + (req.ipa - RAM_IPA) + half, req.len - half);
	*len = (uint32_t)req.len;
	return HVD_OK;
}

static uint32_t do_stats(uint8_t *body, uint32_t *len)
{
	struct hvd_stats st = {
		.log_mode = fk.log_mode, .pages_logged = fk.logged,
		.harvested = fk.harvested, .reset = fk.reset, .requests = 7,
		.malformed = fk.client_malformed, .refused = 3,
	};

	memcpy(body, &st, sizeof(st));
	*len = sizeof(st);
	return HVD_OK;
}

/* The body size each request type must have; -1: unknown type. */
static int body_size(uint16_t type)
{
	switch (type) {
	case HVD_LIST: case HVD_LOG_STOP: case HVD_RESET: case HVD_PAUSE:
	case HVD_RESUME: case HVD_STATS:
		return 0;
	case HVD_LOG_START: case HVD_HARVEST:
		return 8;
	case HVD_DIGEST: case HVD_READ:
		return 16;
	default:
		return -1;
	}
}

/* Who may ask about VM @id, as the service decides: a status. */
static uint32_t check_vm(const struct hvd_hdr *h, uint8_t *body, uint32_t *len)
{
	if (h->type == HVD_LIST)
		return HVD_OK;
	if (h->arg >= NR_SCENARIO_VMS)
		return reply_reason(body, len, "there is no such VM"), HVD_E_NOVM;
	if (h->arg != WORK_ID && h->arg != ID_42)
		return reply_reason(body, len, "it does not manage that VM"), HVD_E_PERM;
	if (h->arg == ID_42 && h->type != HVD_STATS)
		return reply_reason(body, len, "fake: VM 2 is only listed"), HVD_E_INVAL;
	return HVD_OK;
}

static uint32_t dispatch(const struct hvd_hdr *h, const uint8_t *in, uint8_t *body,
			 uint32_t *len)
{
	switch (h->type) {
	case HVD_LIST: return do_list(body, len);
	case HVD_LOG_START: return do_log_start(in, body, len);
	case HVD_LOG_STOP: return do_log_stop(body, len);
	case HVD_HARVEST: return do_harvest(in, body, len);
	case HVD_RESET: return do_reset(body, len);
	case HVD_PAUSE: return do_pause(body, len);
	case HVD_RESUME: return do_resume(body, len);
	case HVD_DIGEST: return do_digest(in, body, len);
	case HVD_READ: return do_read(in, body, len);
	default: return do_stats(body, len);
	}
}

/* Whether the injected fault hits request @h now (it counts as one of
 * those to skip if not). */
static bool injected(const struct hvd_hdr *h)
{
	if (!(fk.inj.status || fk.inj.close || fk.inj.flag) || h->type != fk.inj.type ||
	    (fk.inj.paused_only && !fk.paused))
		return false;
	if (fk.inj.skip) {
		fk.inj.skip--;
		return false;
	}
	return true;
}

/*
 * Serves request @h (body @in) into @out (a whole reply). Returns the
 * reply's length, or 0 to close the connection.
 */
static uint32_t serve_one(const struct hvd_hdr *h, const uint8_t *in, uint8_t *out)
{
	struct hvd_hdr *r = (struct hvd_hdr *)out;
	uint8_t *body = out + HDR;
	uint32_t len = 0, st;
	bool hit = injected(h);

	fk.requests[h->type % NR_TYPES]++;
	writer_step();
	if (hit && fk.inj.flag) {
		*fk.inj.flag = 1;
		fk.inj.flag = NULL;
		hit = false;         /* served as usual */
	}
	if (h->version != HVD_VERSION || body_size(h->type) != (int)(h->len - HDR)) {
		fk.client_malformed++;
		st = HVD_E_MALFORMED;
		reply_reason(body, &len, "fake: malformed");
	} else if (hit && fk.inj.close) {
		fk.inj.close = false;
		return 0;
	} else if (hit) {
		st = fk.inj.status;
		fk.inj.status = 0;
		reply_reason(body, &len, "injected");
	} else {
		st = check_vm(h, body, &len);
		if (st == HVD_OK)
			st = dispatch(h, in, body, &len);
		if (st == HVD_E_MALFORMED)
			fk.client_malformed++;
		if (st != HVD_OK && !len)
			reply_reason(body, &len, "fake: refused");
	}
	*r = (struct hvd_hdr){ HDR + len, HVD_VERSION, (uint16_t)(h->type | HVD_REPLY),
			       h->seq, st };
	return HDR + len;
}

static bool fd_read(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static bool fd_write(int fd, const void *buf, size_t len, bool trickle)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(fd, p, trickle ? 1 : len, MSG_NOSIGNAL);

		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* Notes how many READs wait at @fd, request @h (just read) included:
 * the tool sends a window's READs in one write. */
static void note_reads_queued(int fd, const struct hvd_hdr *h)
{
	int queued = 0;
	unsigned int reads;

	if (h->type != HVD_READ || ioctl(fd, FIONREAD, &queued))
		return;
	reads = 1 + (unsigned int)queued / HVDC_READ_REQ_SIZE;
	if (reads > fk.max_reads_queued)
		fk.max_reads_queued = reads;
}

/* A connection's thread: requests in, replies out, until either side
 * closes. */
static void *serve(void *arg)
{
	int fd = (int)(intptr_t)arg;
	uint8_t *out = malloc(HVD_REPLY_MAX);
	struct hvd_hdr h;
	uint8_t in[HVD_REQ_MAX];

	while (fd_read(fd, &h, HDR)) {
		uint32_t len;
		bool trickle;

		if (h.len < HDR || h.len > HVD_REQ_MAX || !fd_read(fd, in, h.len - HDR)) {
			fk.client_malformed++;
			break;
		}
		pthread_mutex_lock(&fk.lock);
		note_reads_queued(fd, &h);
		len = serve_one(&h, in, out);
		trickle = fk.trickle;
		pthread_mutex_unlock(&fk.lock);
		if (!len || !fd_write(fd, out, len, trickle))
			break;
	}
	free(out);
	close(fd);
	return NULL;
}

/* struct hvd_env.connect: a socketpair served by a new thread. */
static int fake_connect(unsigned int cid, unsigned int port, char *why, size_t why_len)
{
	int sv[2];

	if (fk.refuse_connect || fk.nr_threads == MAX_CONNS ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		snprintf(why, why_len, "fake: connection refused");
		return -1;
	}
	if (pthread_create(&fk.threads[fk.nr_threads], NULL, serve, (void *)(intptr_t)sv[1])) {
		close(sv[0]);
		close(sv[1]);
		snprintf(why, why_len, "fake: no thread");
		return -1;
	}
	fk.nr_threads++;
	return sv[0];
}

/* ===================================================== running the tool */

static char *out_text, *err_text;

/* hvdirty_main() on @cmdline (words split at spaces), output into
 * @out_text and @err_text, or into @out if not NULL. */
static int run_to(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int run_to(FILE *out, const char *fmt, ...)
{
	char line[512], *argv[32], *save = NULL;
	size_t out_len, err_len;
	FILE *o, *e;
	va_list ap;
	int argc = 0, rc;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	argv[argc++] = "hvdirty";
	for (char *w = strtok_r(line, " ", &save); w && argc < 31;
	     w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	free(out_text);
	free(err_text);
	o = open_memstream(&out_text, &out_len);
	e = open_memstream(&err_text, &err_len);
	rc = hvdirty_main(argc, argv,
			  &(struct hvd_env){ .connect = fake_connect, .out = out ? out : o,
					     .err = e });
	fclose(o);
	fclose(e);
	fake_join();
	return rc;
}
#define run(...) run_to(NULL, __VA_ARGS__)

static bool has(const char *text, const char *part)
{
	return text && strstr(text, part);
}

static unsigned int lines(const char *text)
{
	unsigned int n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

/* A path for an image that does not exist yet. */
static void image_path(char *path, size_t len)
{
	int fd;

	snprintf(path, len, "/tmp/hvdirty-test-XXXXXX");
	fd = mkstemp(path);
	if (fd >= 0)
		close(fd);
	unlink(path);
}

/* Whether the file at @path holds exactly the fake's RAM at the pause. */
static bool image_is_snapshot(const char *path)
{
	uint8_t *img = malloc(RAM_SIZE + 1);
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, img, RAM_SIZE + 1) : -1;
	bool same = n == (ssize_t)RAM_SIZE && !memcmp(img, fk.snapshot, RAM_SIZE);

	if (fd >= 0)
		close(fd);
	free(img);
	return same;
}

static void writer_on(uint32_t first, uint32_t pages, uint32_t stride, uint32_t per_step,
		      uint32_t shrink)
{
	fk.w = (struct writer){ true, first, pages, stride, per_step, shrink, 0, 0 };
}

/* ============================================= the client, by hand */

static int peer = -1;
static struct hvdc cl;

/* A client on one end of a socketpair; the test writes replies into
 * the other (@peer) before the call, so no thread is needed. */
static void raw_start(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	hvdc_init(&cl, sv[0], NULL);
	peer = sv[1];
}

static void raw_end(void)
{
	close(cl.fd);
	close(peer);
}

/* Writes a reply with these header fields and @body_len bytes of @body. */
static void raw_reply(uint32_t len, uint16_t version, uint16_t type, uint32_t seq,
		      uint32_t arg, const void *body, uint32_t body_len)
{
	struct hvd_hdr h = { len, version, type, seq, arg };

	if (!fd_write(peer, &h, HDR, false) ||
	    (body_len && !fd_write(peer, body, body_len, false)))
		abort();
}

/* A well-formed OK reply to the client's next request of @type. */
static void raw_ok(uint16_t type, const void *body, uint32_t body_len)
{
	raw_reply(HDR + body_len, HVD_VERSION, type | HVD_REPLY, cl.seq + 1, HVD_OK, body,
		  body_len);
}

TEST(client_sends_framed_requests_with_rising_seq)
{
	struct hvd_read rd = { RAM_IPA + 0x2000, 64 };
	struct hvd_hdr h;
	struct hvd_read body;
	uint8_t buf[64];

	raw_start();
	raw_ok(HVD_READ, buf, 8 * 8);
	CHECK_EQ(hvdc_read_send(&cl, WORK_ID, &rd, 1), 0);
	CHECK_EQ(hvdc_read_recv(&cl, 64, buf), 0);
	CHECK(fd_read(peer, &h, HDR) && fd_read(peer, &body, sizeof(body)));
	CHECK_EQ(h.len, HDR + sizeof(body));
	CHECK_EQ(h.version, HVD_VERSION);
	CHECK_EQ(h.type, HVD_READ);
	CHECK_EQ(h.seq, 1);
	CHECK_EQ(h.arg, WORK_ID);
	CHECK_EQ(body.ipa, RAM_IPA + 0x2000);
	CHECK_EQ(body.len, 64);
	raw_ok(HVD_PAUSE, NULL, 0);
	CHECK_EQ(hvdc_pause(&cl, WORK_ID), 0);
	CHECK(fd_read(peer, &h, HDR));
	CHECK_EQ(h.len, HDR);
	CHECK_EQ(h.seq, 2);
	raw_end();
}

TEST(client_accepts_a_good_stats_reply)
{
	struct hvd_stats st = { .pages_logged = 12, .refused = 3 }, got;

	raw_start();
	raw_ok(HVD_STATS, &st, sizeof(st));
	CHECK_EQ(hvdc_stats(&cl, WORK_ID, &got), 0);
	CHECK_EQ(got.pages_logged, 12);
	CHECK_EQ(got.refused, 3);
	raw_end();
}

TEST(client_rejects_a_reply_with_another_seq)
{
	struct hvd_stats st = { 0 };

	raw_start();
	raw_reply(HDR + sizeof(st), HVD_VERSION, HVD_STATS | HVD_REPLY, 7, HVD_OK, &st,
		  sizeof(st));
	CHECK_EQ(hvdc_stats(&cl, WORK_ID, &st), HVDC_E_PROTO);
	CHECK(has(cl.why, "seq 7"));
	CHECK(cl.broken);
	raw_end();
}

TEST(client_rejects_a_reply_of_another_type)
{
	struct hvd_stats st = { 0 };

	raw_start();
	raw_reply(HDR + sizeof(st), HVD_VERSION, HVD_STATS, 1, HVD_OK, &st, sizeof(st));
	CHECK_EQ(hvdc_stats(&cl, WORK_ID, &st), HVDC_E_PROTO);
	raw_end();
}

TEST(client_rejects_reply_lengths_that_break_framing)
{
	static const uint32_t bad[] = { HDR - 8, HDR + 4, HVD_REPLY_MAX + 8, UINT32_MAX };
	struct hvd_stats st;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		raw_start();
		raw_reply(bad[i], HVD_VERSION, HVD_STATS | HVD_REPLY, 1, HVD_OK, NULL, 0);
		CHECK_EQ(hvdc_stats(&cl, WORK_ID, &st), HVDC_E_PROTO);
		CHECK(has(cl.why, "a multiple of 8"));
		raw_end();
	}
}

TEST(client_rejects_a_body_of_the_wrong_size_for_its_type)
{
	uint8_t body[120] = { 0 };
	struct hvd_stats st;

	raw_start();
	raw_ok(HVD_STATS, body, sizeof(body));
	CHECK_EQ(hvdc_stats(&cl, WORK_ID, &st), HVDC_E_PROTO);
	CHECK(has(cl.why, "120 bytes, not 128"));
	raw_end();
}

TEST(client_short_reply_is_an_io_error)
{
	uint8_t body[24] = { 0 };
	struct hvd_stats st;

	raw_start();
	raw_reply(HDR + sizeof(st), HVD_VERSION, HVD_STATS | HVD_REPLY, 1, HVD_OK, body,
		  sizeof(body));
	shutdown(peer, SHUT_WR);
	CHECK_EQ(hvdc_stats(&cl, WORK_ID, &st), HVDC_E_IO);
	CHECK(has(cl.why, "closed the connection"));
	raw_end();
}

TEST(client_error_reply_gives_status_and_reason)
{
	char reason[24] = "logging is already on";
	uint32_t mode;

	raw_start();
	raw_reply(HDR + sizeof(reason), HVD_VERSION, HVD_LOG_START | HVD_REPLY, 1,
		  HVD_E_BUSY, reason, sizeof(reason));
	CHECK_EQ(hvdc_log_start(&cl, WORK_ID, HVD_MODE_AUTO, &mode), HVDC_E_STATUS);
	CHECK(hvdc_refused(&cl, HVDC_E_STATUS, HVD_E_BUSY));
	CHECK_STREQ(cl.reason, "logging is already on");
	CHECK(!cl.broken);
	raw_end();
}

TEST(client_error_reason_must_be_terminated_and_is_made_printable)
{
	char reason[16] = "bad\033[2Jterm";
	char open_reason[8] = "12345678";

	raw_start();
	raw_reply(HDR + sizeof(reason), HVD_VERSION, HVD_PAUSE | HVD_REPLY, 1, HVD_E_INVAL,
		  reason, sizeof(reason));
	CHECK_EQ(hvdc_pause(&cl, WORK_ID), HVDC_E_STATUS);
	CHECK_STREQ(cl.reason, "bad?[2Jterm");
	raw_reply(HDR + sizeof(open_reason), HVD_VERSION, HVD_PAUSE | HVD_REPLY, 2,
		  HVD_E_INVAL, open_reason, sizeof(open_reason));
	CHECK_EQ(hvdc_pause(&cl, WORK_ID), HVDC_E_PROTO);
	CHECK(has(cl.why, "not NUL-terminated"));
	raw_end();
}

TEST(client_error_reply_without_a_reason_is_malformed)
{
	raw_start();
	raw_reply(HDR, HVD_VERSION, HVD_PAUSE | HVD_REPLY, 1, HVD_E_INVAL, NULL, 0);
	CHECK_EQ(hvdc_pause(&cl, WORK_ID), HVDC_E_PROTO);
	raw_end();
}

TEST(client_learns_the_services_version_from_e_version)
{
	char reason[8] = "version";

	raw_start();
	raw_reply(HDR + sizeof(reason), 2, HVD_PAUSE | HVD_REPLY, 1, HVD_E_VERSION, reason,
		  sizeof(reason));
	CHECK_EQ(hvdc_pause(&cl, WORK_ID), HVDC_E_STATUS);
	CHECK_EQ(cl.status, HVD_E_VERSION);
	CHECK_EQ(cl.service_version, 2);
	raw_end();
}

TEST(client_rejects_an_ok_reply_of_another_version)
{
	raw_start();
	raw_reply(HDR, 2, HVD_PAUSE | HVD_REPLY, 1, HVD_OK, NULL, 0);
	CHECK_EQ(hvdc_pause(&cl, WORK_ID), HVDC_E_PROTO);
	CHECK(has(cl.why, "version 2"));
	raw_end();
}

TEST(client_names_the_unframeable_reply)
{
	char reason[8] = "framing";

	raw_start();
	raw_reply(HDR + sizeof(reason), HVD_VERSION, HVD_REPLY, 0, HVD_E_MALFORMED, reason,
		  sizeof(reason));
	CHECK_EQ(hvdc_pause(&cl, WORK_ID), HVDC_E_PROTO);
	CHECK(has(cl.why, "could not frame"));
	raw_end();
}

TEST(client_rejects_a_harvest_reply_that_disagrees_with_itself)
{
	uint8_t body[8 + 2 * 16] = { 0 };
	struct hvd_harvest_reply *r = (struct hvd_harvest_reply *)body;
	struct hvd_entry out[4];
	uint32_t count;
	bool more;

	raw_start();
	r->count = 3;            /* but two entries follow */
	raw_ok(HVD_HARVEST, body, sizeof(body));
	CHECK_EQ(hvdc_harvest(&cl, WORK_ID, 4, out, &count, &more), HVDC_E_PROTO);
	raw_end();

	raw_start();
	r->count = 2;
	r->more = 2;             /* a flag: 0 or 1 */
	raw_ok(HVD_HARVEST, body, sizeof(body));
	CHECK_EQ(hvdc_harvest(&cl, WORK_ID, 4, out, &count, &more), HVDC_E_PROTO);
	raw_end();

	raw_start();
	r->more = 1;
	raw_ok(HVD_HARVEST, body, sizeof(body));
	CHECK_EQ(hvdc_harvest(&cl, WORK_ID, 1, out, &count, &more), HVDC_E_PROTO);
	raw_end();
}

TEST(client_rejects_a_list_with_an_unterminated_name)
{
	uint8_t body[8 + sizeof(struct hvd_vm)] = { 0 };
	struct hvd_list_reply *r = (struct hvd_list_reply *)body;
	struct hvd_vm vms[2];
	uint32_t count;

	r->count = 1;
	memset(r->vm[0].name, 'a', sizeof(r->vm[0].name));
	raw_start();
	raw_ok(HVD_LIST, body, sizeof(body));
	CHECK_EQ(hvdc_list(&cl, vms, 2, &count), HVDC_E_PROTO);
	raw_end();
}

TEST(client_rejects_a_log_start_reply_with_no_mode_in_effect)
{
	struct hvd_log_start rep = { HVD_MODE_AUTO, 0 };
	uint32_t mode;

	raw_start();
	raw_ok(HVD_LOG_START, &rep, sizeof(rep));
	CHECK_EQ(hvdc_log_start(&cl, WORK_ID, HVD_MODE_AUTO, &mode), HVDC_E_PROTO);
	raw_end();
}

TEST(client_rejects_a_reset_of_more_than_it_may)
{
	struct hvd_count rep = { HVDC_RESET_MAX + 1, 0 };
	uint32_t count;

	raw_start();
	raw_ok(HVD_RESET, &rep, sizeof(rep));
	CHECK_EQ(hvdc_reset(&cl, WORK_ID, &count), HVDC_E_PROTO);
	raw_end();
}

TEST(client_sends_nothing_more_once_the_stream_is_out_of_step)
{
	struct hvd_stats st;
	uint8_t byte;

	raw_start();
	raw_reply(HDR + 4, HVD_VERSION, HVD_STATS | HVD_REPLY, 1, HVD_OK, NULL, 0);
	CHECK_EQ(hvdc_stats(&cl, WORK_ID, &st), HVDC_E_PROTO);
	CHECK(fd_read(peer, &st, HDR));          /* the first request */
	CHECK_EQ(hvdc_pause(&cl, WORK_ID), HVDC_E_IO);
	shutdown(cl.fd, SHUT_WR);
	CHECK_EQ(read(peer, &byte, 1), 0);       /* no second one */
	raw_end();
}

/* ------------------------------------------------- pipelined READs */

/* A READ reply to request @seq: @len bytes of @fill. */
static void raw_read_reply(uint32_t seq, uint32_t len, uint8_t fill)
{
	static uint8_t body[HVD_READ_MAX];

	memset(body, fill, len);
	raw_reply(HDR + len, HVD_VERSION, HVD_READ | HVD_REPLY, seq, HVD_OK, body, len);
}

/* An error reply to READ @seq. */
static void raw_read_refused(uint32_t seq, uint32_t status)
{
	char reason[16] = "outside RAM";

	raw_reply(HDR + sizeof(reason), HVD_VERSION, HVD_READ | HVD_REPLY, seq, status,
		  reason, sizeof(reason));
}

/* Whether @len bytes of @buf are all @fill. */
static bool all_bytes(const uint8_t *buf, uint32_t len, uint8_t fill)
{
	for (uint32_t i = 0; i < len; i++)
		if (buf[i] != fill)
			return false;
	return true;
}

TEST(client_pipelines_reads_and_matches_replies_in_order)
{
	static const struct hvd_read rd[3] = {
		{ RAM_IPA, 4096 }, { RAM_IPA + 0x5000, 8192 }, { RAM_IPA + 0x1000, 4096 },
	};
	static uint8_t got[8192];
	struct hvd_read body;
	struct hvd_hdr h;

	raw_start();
	CHECK_EQ(hvdc_read_send(&cl, WORK_ID, rd, 3), 0);
	CHECK_EQ(hvdc_in_flight(&cl), 3);
	/* All three are there before any reply is. */
	for (uint32_t i = 0; i < 3; i++) {
		CHECK(fd_read(peer, &h, HDR) && fd_read(peer, &body, sizeof(body)));
		CHECK_EQ(h.len, HVDC_READ_REQ_SIZE);
		CHECK_EQ(h.type, HVD_READ);
		CHECK_EQ(h.seq, i + 1);
		CHECK_EQ(body.ipa, rd[i].ipa);
		CHECK_EQ(body.len, rd[i].len);
	}
	for (uint32_t i = 0; i < 3; i++)
		raw_read_reply(i + 1, (uint32_t)rd[i].len, (uint8_t)('a' + i));
	for (uint32_t i = 0; i < 3; i++) {
		CHECK_EQ(hvdc_read_recv(&cl, rd[i].len, got), 0);
		CHECK(all_bytes(got, (uint32_t)rd[i].len, (uint8_t)('a' + i)));
		CHECK_EQ(hvdc_in_flight(&cl), 2 - i);
	}
	raw_ok(HVD_PAUSE, NULL, 0);              /* seq 4: in step */
	CHECK_EQ(hvdc_pause(&cl, WORK_ID), 0);
	raw_end();
}

TEST(client_rejects_pipelined_replies_out_of_order)
{
	static const struct hvd_read rd[2] = { { RAM_IPA, 4096 }, { RAM_IPA + 0x1000, 4096 } };
	static uint8_t got[4096];

	raw_start();
	CHECK_EQ(hvdc_read_send(&cl, WORK_ID, rd, 2), 0);
	raw_read_reply(2, 4096, 'b');
	raw_read_reply(1, 4096, 'a');
	CHECK_EQ(hvdc_read_recv(&cl, 4096, got), HVDC_E_PROTO);
	CHECK(has(cl.why, "seq 2 to READ seq 1"));
	CHECK(cl.broken);
	CHECK_EQ(hvdc_read_drain(&cl), HVDC_E_IO);      /* nothing left to trust */
	raw_end();
}

TEST(client_drains_the_window_after_a_refused_read)
{
	static const struct hvd_read rd[4] = {
		{ RAM_IPA, 4096 }, { RAM_IPA + 0x1000, 4096 }, { RAM_IPA + 0x2000, 4096 },
		{ RAM_IPA + 0x10000, HVD_READ_MAX },
	};
	static uint8_t got[4096];

	raw_start();
	CHECK_EQ(hvdc_read_send(&cl, WORK_ID, rd, 4), 0);
	raw_read_reply(1, 4096, 'a');
	raw_read_refused(2, HVD_E_INVAL);
	raw_read_refused(3, HVD_E_INVAL);
	raw_read_reply(4, HVD_READ_MAX, 'd');   /* more than the drain's scrap */
	CHECK_EQ(hvdc_read_recv(&cl, 4096, got), 0);
	CHECK_EQ(hvdc_read_recv(&cl, 4096, got), HVDC_E_STATUS);
	CHECK(hvdc_refused(&cl, HVDC_E_STATUS, HVD_E_INVAL));
	CHECK_STREQ(cl.reason, "outside RAM");
	CHECK(!cl.broken);
	CHECK_EQ(hvdc_in_flight(&cl), 2);
	CHECK_EQ(hvdc_read_drain(&cl), 0);
	CHECK_EQ(hvdc_in_flight(&cl), 0);
	raw_ok(HVD_RESUME, NULL, 0);             /* seq 5: in step */
	CHECK_EQ(hvdc_resume(&cl, WORK_ID), 0);
	raw_end();
}

TEST(client_drain_of_a_stream_that_breaks_fails)
{
	static const struct hvd_read rd[3] = {
		{ RAM_IPA, 4096 }, { RAM_IPA + 0x1000, 4096 }, { RAM_IPA + 0x2000, 4096 },
	};
	static uint8_t got[4096];

	raw_start();
	CHECK_EQ(hvdc_read_send(&cl, WORK_ID, rd, 3), 0);
	raw_read_refused(1, HVD_E_INVAL);
	raw_read_reply(2, 4096, 'b');
	shutdown(peer, SHUT_WR);                 /* no third reply */
	CHECK_EQ(hvdc_read_recv(&cl, 4096, got), HVDC_E_STATUS);
	CHECK_EQ(hvdc_read_drain(&cl), HVDC_E_IO);
	CHECK(has(cl.why, "closed the connection"));
	CHECK_EQ(hvdc_resume(&cl, WORK_ID), HVDC_E_IO);
	raw_end();
}

TEST(client_refuses_calls_that_would_take_a_reads_reply)
{
	static const struct hvd_read rd = { RAM_IPA, 4096 };
	static uint8_t got[4096];

	raw_start();
	CHECK_EQ(hvdc_read_send(&cl, WORK_ID, &rd, 1), 0);
	CHECK_EQ(hvdc_pause(&cl, WORK_ID), HVDC_E_PROTO);
	CHECK(has(cl.why, "a PAUSE request while 1 READs are in flight"));
	raw_end();

	raw_start();
	CHECK_EQ(hvdc_read_recv(&cl, 4096, got), HVDC_E_PROTO);
	CHECK(has(cl.why, "none in flight"));
	raw_end();
}

TEST(client_keeps_reads_in_flight_within_the_services_input_buffer)
{
	static struct hvd_read rd[HVDC_READS_MAX];
	static uint8_t sent[HVDC_INFLIGHT_BYTES];
	uint8_t byte;

	CHECK_EQ(HVDC_READS_MAX * HVDC_READ_REQ_SIZE, HVDC_INFLIGHT_BYTES);
	for (uint32_t i = 0; i < HVDC_READS_MAX; i++)
		rd[i] = (struct hvd_read){ RAM_IPA + (uint64_t)i * HVD_PAGE_SIZE, HVD_PAGE_SIZE };
	raw_start();
	CHECK_EQ(hvdc_read_send(&cl, WORK_ID, rd, HVDC_READS_MAX - 1), 0);
	CHECK_EQ(hvdc_read_send(&cl, WORK_ID, rd, 2), HVDC_E_PROTO);
	CHECK(has(cl.why, "the service holds 128"));
	CHECK(fd_read(peer, sent, HVDC_INFLIGHT_BYTES - HVDC_READ_REQ_SIZE));
	shutdown(cl.fd, SHUT_WR);
	CHECK_EQ(read(peer, &byte, 1), 0);       /* the two were not sent */
	raw_end();

	raw_start();
	CHECK_EQ(hvdc_read_send(&cl, WORK_ID, rd, HVDC_READS_MAX), 0);
	CHECK(fd_read(peer, sent, HVDC_INFLIGHT_BYTES));
	raw_end();
}

TEST(client_reads_replies_that_arrive_a_byte_at_a_time)
{
	struct hvd_vm vms[HVDC_LIST_MAX];
	struct hvd_stats st;
	struct hvdc c;
	uint32_t count;

	fake_start();
	fk.trickle = true;
	hvdc_init(&c, fake_connect(HVD_CID, HVD_PORT, c.why, sizeof(c.why)), NULL);
	CHECK_EQ(hvdc_list(&c, vms, HVDC_LIST_MAX, &count), 0);
	CHECK_EQ(count, 2);
	CHECK_STREQ(vms[0].name, "work");
	CHECK_EQ(vms[1].flags, HVD_VM_STOPPED);
	CHECK_EQ(hvdc_stats(&c, WORK_ID, &st), 0);
	CHECK_EQ(st.requests, 7);
	close(c.fd);
	fake_join();
}

/* =============================================== commands and options */

TEST(usage_errors_exit_2)
{
	static const char *const lines[] = {
		"", "frobnicate", "vms --frob", "stats", "log work", "log begin work",
		"log stop work --mode wp", "log start work --json", "stats work extra",
		"checkpoint work", "watch work --interval 0", "watch work --interval x",
		"harvest work --binary --json", "vms --cid", "log start work --mode fast",
		"--port 99999999999 vms",
	};

	fake_start();
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		CHECK_EQ(run("%s", lines[i]), HVD_EXIT_USAGE);
		CHECK(has(err_text, "hvdirty: "));
		CHECK(has(err_text, "--help"));
		CHECK_EQ(fk.nr_threads, 0);          /* nothing was asked */
	}
}

TEST(help_and_version_exit_0)
{
	fake_start();
	CHECK_EQ(run("--help"), 0);
	CHECK(has(out_text, "checkpoint VM -o FILE"));
	CHECK(has(out_text, "Exit codes:"));
	CHECK(has(out_text, "6  checkpoint"));
	CHECK_EQ(run("harvest --help"), 0);
	CHECK(has(out_text, "--binary"));
	CHECK(!has(out_text, "watch VM"));
	CHECK_EQ(run("--version"), 0);
	CHECK(has(out_text, "protocol version 1"));
}

TEST(unreachable_service_exits_3_with_a_hint)
{
	fake_start();
	fk.refuse_connect = true;
	CHECK_EQ(run("vms"), HVD_EXIT_UNREACHABLE);
	CHECK(has(err_text, "hvdirty: vms: fake: connection refused"));
	CHECK(has(err_text, "vmw_vsock_virtio_transport"));
	CHECK(has(err_text, "devices = vsock"));
}

TEST(vms_lists_the_managed_vms)
{
	fake_start();
	fk.dbm_capable = true;
	CHECK_EQ(run("vms"), 0);
	CHECK(has(out_text, "NAME"));
	CHECK(has(out_text, "work"));
	CHECK(has(out_text, "0x40000000"));
	CHECK(has(out_text, "4 MiB"));
	CHECK(has(out_text, "64 KiB"));
	CHECK(has(out_text, "stopped"));
	CHECK_EQ(fk.client_malformed, 0);
}

TEST(vms_json_is_one_object_per_line)
{
	fake_start();
	fk.dbm_capable = true;
	fk.log_mode = HVD_MODE_DBM;
	CHECK_EQ(run("vms --json"), 0);
	/* strcmp(), not CHECK_STREQ(): its message would not hold the lines. */
	CHECK(!strcmp(out_text,
		      "{\"id\":1,\"name\":\"work\",\"vcpus\":2,\"ram_ipa\":1073741824,"
		      "\"ram_size\":4194304,\"cid\":3,\"flags\":[\"dbm\"],"
		      "\"log_mode\":\"dbm\"}\n"
		      "{\"id\":2,\"name\":\"42\",\"vcpus\":1,\"ram_ipa\":2147483648,"
		      "\"ram_size\":65536,\"cid\":0,\"flags\":[\"stopped\"],"
		      "\"log_mode\":\"off\"}\n"));
}

TEST(a_vm_is_named_by_name_first_then_by_id)
{
	fake_start();
	CHECK_EQ(run("stats work"), 0);
	CHECK(has(out_text, "VM 'work' (id 1)"));
	CHECK_EQ(run("stats 1"), 0);
	CHECK(has(out_text, "VM 'work' (id 1)"));
	CHECK_EQ(run("stats 42"), 0);            /* the name, not id 42 */
	CHECK(has(out_text, "VM '42' (id 2)"));
	CHECK_EQ(run("stats 2"), 0);
	CHECK(has(out_text, "VM '42' (id 2)"));
}

TEST(an_unmanaged_vm_exits_4)
{
	fake_start();
	CHECK_EQ(run("stats nosuch"), HVD_EXIT_REFUSED);
	CHECK_STREQ(err_text, "hvdirty: stats nosuch: this VM manages no VM 'nosuch' "
		    "('hvdirty vms' lists those it does)\n");
	CHECK_EQ(run("log start 3"), HVD_EXIT_REFUSED);
	CHECK_EQ(fk.requests[HVD_LOG_START], 0);
}

TEST(service_refusals_map_to_exit_codes)
{
	static const struct {
		uint32_t status;
		int exit;
	} cases[] = {
		{ HVD_E_PERM, HVD_EXIT_REFUSED }, { HVD_E_NOVM, HVD_EXIT_REFUSED },
		{ HVD_E_BUSY, HVD_EXIT_BUSY }, { HVD_E_STATE, HVD_EXIT_BUSY },
		{ HVD_E_INVAL, HVD_EXIT_FAILED }, { HVD_E_NOMEM, HVD_EXIT_FAILED },
		{ HVD_E_TYPE, HVD_EXIT_FAILED }, { HVD_E_VERSION, HVD_EXIT_FAILED },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fake_start();
		fk.inj = (struct inject){ .type = HVD_STATS, .status = cases[i].status };
		CHECK_EQ(run("stats work"), cases[i].exit);
		CHECK(has(err_text, "hvdirty: stats work: "));
		CHECK(has(err_text, cases[i].status == HVD_E_VERSION ? "protocol version" :
				    "injected ("));
	}
}

TEST(stats_prints_named_counters)
{
	fake_start();
	fk.log_mode = HVD_MODE_WP;
	fk.logged = 5;
	CHECK_EQ(run("stats work"), 0);
	CHECK(has(out_text, "log_mode             wp\n"));
	CHECK(has(out_text, "pages_logged         5\n"));
	CHECK(has(out_text, "refused              3\n"));
	CHECK_EQ(run("stats work --json"), 0);
	CHECK(has(out_text, "{\"id\":1,\"name\":\"work\",\"log_mode\":\"wp\","
			    "\"pages_logged\":5,"));
	CHECK(has(out_text, "\"refused\":3}\n"));
}

TEST(log_start_prints_the_mode_and_refuses_twice)
{
	fake_start();
	CHECK_EQ(run("log start work"), 0);
	CHECK_STREQ(out_text, "dirty logging of VM 'work' (id 1) is on: wp\n");
	CHECK_EQ(fk.log_mode, HVD_MODE_WP);
	CHECK_EQ(run("log start work --mode wp"), HVD_EXIT_BUSY);
	CHECK_STREQ(err_text, "hvdirty: log start work: logging is already on (E_BUSY); "
			      "'hvdirty log stop work' stops it\n");
	CHECK_EQ(run("log stop work"), 0);
	CHECK_EQ(fk.log_mode, HVD_MODE_OFF);
	CHECK_EQ(run("log stop work"), HVD_EXIT_BUSY);
	CHECK(has(err_text, "logging is off (E_STATE)"));
}

TEST(log_start_dbm_without_the_feature_says_what_to_try)
{
	fake_start();
	CHECK_EQ(run("log start work --mode dbm"), HVD_EXIT_FAILED);
	CHECK(has(err_text, "(E_NOTSUP); try --mode wp"));
	fk.dbm_capable = true;
	CHECK_EQ(run("log start work --mode=auto"), 0);
	CHECK(has(out_text, "is on: dbm"));
}

TEST(pause_and_resume)
{
	fake_start();
	CHECK_EQ(run("pause work"), 0);
	CHECK(fk.paused);
	CHECK_EQ(run("pause work"), HVD_EXIT_BUSY);
	CHECK(has(err_text, "'hvdirty resume work' resumes it"));
	CHECK_EQ(run("resume work"), 0);
	CHECK(!fk.paused);
	CHECK_EQ(run("resume work"), HVD_EXIT_BUSY);
}

TEST(harvest_prints_slot_page_and_address_then_resets)
{
	fake_start();
	CHECK_EQ(run("log start work"), 0);
	fake_write(5, 0, 1);
	fake_write(6, 8, 2);
	fake_write(0x3ff, 16, 3);
	CHECK_EQ(run("harvest work"), 0);
	CHECK_STREQ(out_text, "0 0x5 0x40005000\n0 0x6 0x40006000\n0 0x3ff 0x403ff000\n");
	CHECK_EQ(fk.handed.count, 0);
	CHECK_EQ(fk.state[5], PG_PROTECTED);
	CHECK_EQ(run("harvest work"), 0);
	CHECK_STREQ(out_text, "");
	fake_write(5, 0, 4);                     /* protected again: logged */
	CHECK_EQ(run("harvest work --no-reset --json"), 0);
	CHECK_STREQ(out_text, "{\"slot\":0,\"page\":5,\"gpa\":1073762304}\n");
	CHECK_EQ(fk.handed.count, 1);
	CHECK_EQ(fk.client_malformed, 0);
}

TEST(harvest_binary_writes_raw_records)
{
	struct hvd_entry e[3];
	FILE *f = tmpfile();

	CHECK(f);
	fake_start();
	CHECK_EQ(run("log start work"), 0);
	fake_write(9, 0, 1);
	fake_write(2, 0, 1);
	CHECK_EQ(run_to(f, "harvest work --binary"), 0);
	rewind(f);
	CHECK_EQ(fread(e, sizeof(e[0]), 3, f), 2);
	CHECK_EQ(e[0].flags, HVD_ENTRY_DIRTY);
	CHECK_EQ(e[0].slot, 0);
	CHECK_EQ(e[0].offset, 9);
	CHECK_EQ(e[1].offset, 2);
	fclose(f);
}

TEST(harvest_binary_refuses_a_terminal)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	FILE *tty;

	CHECK(master >= 0);
	CHECK(!grantpt(master) && !unlockpt(master));
	tty = fopen(ptsname(master), "w");
	CHECK(tty);
	fake_start();
	CHECK_EQ(run_to(tty, "harvest work --binary"), HVD_EXIT_USAGE);
	CHECK(has(err_text, "redirect the output"));
	CHECK_EQ(fk.nr_threads, 0);
	fclose(tty);
	close(master);
}

TEST(watch_needs_logging_on)
{
	fake_start();
	CHECK_EQ(run("watch work --count 1"), HVD_EXIT_BUSY);
	CHECK(has(err_text, "start it with 'hvdirty log start work'"));
}

TEST(watch_prints_the_pages_of_each_interval)
{
	fake_start();
	CHECK_EQ(run("log start work"), 0);
	writer_on(100, 10, 1, 10, 0);            /* 10 pages before each request */
	CHECK_EQ(run("watch work --interval 1 --count 3 --json"), 0);
	for (const char *line = out_text, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
		CHECK(!strncmp(line, "{\"time_s\":", 10));
		CHECK(has(line, "\"pages\":10,\"pages_per_s\":"));
	}
	CHECK_EQ(lines(out_text), 3);
	CHECK_EQ(fk.requests[HVD_HARVEST], 4);   /* the drain, then 3 intervals */
	CHECK_EQ(run("watch work --interval 1 --count 2"), 0);
	CHECK(!strncmp(out_text, "   TIME_S", 9));
	CHECK(has(out_text, "        10 "));
}

/* ========================================================= checkpoint */

TEST(checkpoint_image_is_the_ram_at_the_pause)
{
	char path[64], hv[32];

	image_path(path, sizeof(path));
	fake_start();
	writer_on(7, 150, 3, 40, 0);             /* torn reads, scattered pages */
	CHECK_EQ(run("checkpoint work -o %s", path), 0);
	CHECK(image_is_snapshot(path));
	snprintf(hv, sizeof(hv), "digest    %016llx",
		 (unsigned long long)hvd_digest_update(HVD_DIGEST_SEED,
						       (const uint64_t *)fk.snapshot,
						       RAM_SIZE / 8));
	CHECK(has(out_text, hv));
	CHECK(has(out_text, "verified  yes"));
	CHECK(has(err_text, "round 0 (full copy): 1024 pages dirty, 1024 copied, 4.0 MiB"));
	CHECK(has(err_text, "(paused)"));
	CHECK_EQ(fk.pauses, 1);
	CHECK_EQ(fk.resumes, 1);
	CHECK(!fk.paused);
	CHECK_EQ(fk.log_mode, HVD_MODE_OFF);
	CHECK_EQ(fk.client_malformed, 0);
	CHECK(fk.max_reads_queued > CKPT_READ_REFILL);      /* pipelined */
	CHECK(fk.max_reads_queued <= CKPT_READ_WINDOW);
	unlink(path);
}

TEST(checkpoint_file_is_private)
{
	char path[64];
	struct stat st;

	image_path(path, sizeof(path));
	fake_start();
	CHECK_EQ(run("checkpoint work -o %s --quiet", path), 0);
	CHECK(!stat(path, &st));
	CHECK_EQ(st.st_mode & 0777, 0600);
	CHECK_EQ(st.st_size, RAM_SIZE);
	CHECK_STREQ(err_text, "");
	unlink(path);
}

/* checkpoint_run() directly, over a fresh fake connection. */
static int checkpoint_direct(const char *path, uint32_t max_rounds, uint64_t small,
			     volatile sig_atomic_t *stop, struct ckpt_result *r)
{
	struct hvd_vm vms[HVDC_LIST_MAX];
	struct ckpt_params p = {
		.mode = HVD_MODE_AUTO, .max_rounds = max_rounds, .small = small,
		.path = path, .what = "checkpoint work", .stop = stop,
	};
	size_t err_len;
	struct hvdc c;
	uint32_t count;
	int rc;

	memset(r, 0, sizeof(*r));
	free(err_text);
	p.err = open_memstream(&err_text, &err_len);
	hvdc_init(&c, fake_connect(HVD_CID, HVD_PORT, c.why, sizeof(c.why)), NULL);
	rc = hvdc_list(&c, vms, HVDC_LIST_MAX, &count);
	if (!rc)
		rc = checkpoint_run(&c, &vms[0], &p, r);
	close(c.fd);
	fclose(p.err);
	fake_join();
	return rc;
}

TEST(checkpoint_of_an_idle_vm_needs_one_round)
{
	struct ckpt_result r;
	char path[64];

	image_path(path, sizeof(path));
	fake_start();
	CHECK_EQ(checkpoint_direct(path, CKPT_MAX_ROUNDS, CKPT_SMALL_PAGES, NULL, &r), 0);
	CHECK_EQ(r.precopy_rounds, 1);
	CHECK_EQ(r.end, CKPT_END_SMALL);
	CHECK_EQ(r.pages_copied, RAM_PAGES);
	CHECK_EQ(r.pages_paused, 0);
	CHECK(image_is_snapshot(path));
	unlink(path);
}

TEST(checkpoint_stops_rounds_when_the_dirty_set_stops_shrinking)
{
	struct ckpt_result r;
	char path[64];

	image_path(path, sizeof(path));
	fake_start();
	writer_on(0, 100, 1, 100, 0);            /* the same 100 pages, all the time */
	CHECK_EQ(checkpoint_direct(path, CKPT_MAX_ROUNDS, CKPT_SMALL_PAGES, NULL, &r), 0);
	CHECK_EQ(r.precopy_rounds, 2);           /* 100, then 100 again */
	CHECK_EQ(r.end, CKPT_END_NOT_SHRINKING);
	CHECK_EQ(r.pages_paused, 100);
	CHECK_EQ(r.pages_copied, RAM_PAGES + 3 * 100);
	CHECK(r.image_digested && r.image_digest == r.hv_digest);
	CHECK(image_is_snapshot(path));
	unlink(path);
}

TEST(checkpoint_stops_rounds_at_max_rounds)
{
	char path[64];

	image_path(path, sizeof(path));
	fake_start();
	writer_on(0, 200, 2, 200, 1);            /* a page fewer each round */
	CHECK_EQ(run("checkpoint work -o %s --max-rounds 5", path), 0);
	CHECK(has(out_text, "rounds    7: the full copy, 5 pre-copy (--max-rounds reached)"));
	CHECK(has(err_text, "round 1: 200 pages dirty"));
	CHECK(has(err_text, "round 5: 196 pages dirty"));
	CHECK(has(err_text, "round 6 (paused): 195 pages dirty"));
	CHECK(!has(err_text, "round 7"));
	CHECK(image_is_snapshot(path));
	unlink(path);
}

TEST(checkpoint_in_dbm_mode_when_the_cpus_have_it)
{
	char path[64];

	image_path(path, sizeof(path));
	fake_start();
	fk.dbm_capable = true;
	writer_on(3, 30, 5, 7, 0);
	CHECK_EQ(run("checkpoint work -o %s", path), 0);
	CHECK(has(out_text, "mode      dbm"));
	CHECK(image_is_snapshot(path));
	unlink(path);
}

TEST(checkpoint_refuses_a_log_that_is_on)
{
	char path[64];

	image_path(path, sizeof(path));
	fake_start();
	fk.log_mode = HVD_MODE_WP;
	CHECK_EQ(run("checkpoint work -o %s", path), HVD_EXIT_BUSY);
	CHECK(has(err_text, "a checkpoint needs the log to itself; 'hvdirty log stop work'"));
	CHECK(access(path, F_OK));               /* no file made */
	CHECK_EQ(fk.log_mode, HVD_MODE_WP);      /* not ours to stop */
	CHECK_EQ(fk.pauses, 0);
}

TEST(checkpoint_refuses_when_log_start_finds_it_busy)
{
	char path[64];

	image_path(path, sizeof(path));
	fake_start();
	fk.inj = (struct inject){ .type = HVD_LOG_START, .status = HVD_E_BUSY };
	CHECK_EQ(run("checkpoint work -o %s", path), HVD_EXIT_BUSY);
	CHECK_EQ(fk.requests[HVD_LOG_STOP], 0);
	CHECK_EQ(fk.pauses, 0);
	unlink(path);
}

TEST(checkpoint_refuses_a_vm_it_has_paused)
{
	char path[64];

	image_path(path, sizeof(path));
	fake_start();
	fk.paused = true;
	CHECK_EQ(run("checkpoint work -o %s", path), HVD_EXIT_BUSY);
	CHECK(has(err_text, "'hvdirty resume work' resumes it"));
	CHECK(fk.paused);
	CHECK_EQ(fk.requests[HVD_LOG_START], 0);
}

TEST(checkpoint_that_cannot_pause_stops_logging)
{
	char path[64];

	image_path(path, sizeof(path));
	fake_start();
	fk.inj = (struct inject){ .type = HVD_PAUSE, .status = HVD_E_PERM };
	CHECK_EQ(run("checkpoint work -o %s", path), HVD_EXIT_REFUSED);
	CHECK(has(err_text, "hvdirty: checkpoint work: pausing the VM: injected (E_PERM)"));
	CHECK_EQ(fk.requests[HVD_RESUME], 0);
	CHECK_EQ(fk.log_mode, HVD_MODE_OFF);
	unlink(path);
}

TEST(checkpoint_resumes_the_vm_on_an_error_after_the_pause)
{
	char path[64];

	image_path(path, sizeof(path));
	fake_start();
	writer_on(0, 20, 1, 20, 0);
	fk.inj = (struct inject){ .type = HVD_READ, .status = HVD_E_INVAL,
				  .paused_only = true };
	CHECK_EQ(run("checkpoint work -o %s", path), HVD_EXIT_FAILED);
	CHECK(has(err_text, "reading 65536 bytes of RAM at 0x40000000: injected (E_INVAL)"));
	CHECK_EQ(fk.pauses, 1);
	CHECK_EQ(fk.resumes, 1);
	CHECK(!fk.paused);
	CHECK_EQ(fk.log_mode, HVD_MODE_OFF);
	CHECK(!has(out_text, "verified"));
	unlink(path);
}

TEST(checkpoint_resumes_over_a_new_connection_when_the_old_one_dies)
{
	char path[64];

	image_path(path, sizeof(path));
	fake_start();
	fk.inj = (struct inject){ .type = HVD_HARVEST, .close = true, .paused_only = true };
	CHECK_EQ(run("checkpoint work -o %s", path), HVD_EXIT_FAILED);
	CHECK(has(err_text, "trying a new connection"));
	CHECK_EQ(fk.resumes, 1);
	CHECK(!fk.paused);
	CHECK_EQ(fk.log_mode, HVD_MODE_OFF);
	unlink(path);
}

TEST(checkpoint_gives_up_when_stopped_and_still_resumes)
{
	static volatile sig_atomic_t stop;
	struct ckpt_result r;
	char path[64];

	image_path(path, sizeof(path));
	fake_start();
	stop = 0;
	fk.flag_on_pause = &stop;                /* as a SIGINT during the pause */
	CHECK_EQ(checkpoint_direct(path, CKPT_MAX_ROUNDS, CKPT_SMALL_PAGES, &stop, &r),
		 HVD_EXIT_FAILED);
	CHECK(has(err_text, "interrupted"));
	CHECK_EQ(fk.resumes, 1);
	CHECK(!fk.paused);
	CHECK_EQ(fk.log_mode, HVD_MODE_OFF);
	CHECK(!r.hv_digested);
	unlink(path);
}

TEST(checkpoint_that_misses_a_page_fails_verification)
{
	char path[64];

	image_path(path, sizeof(path));
	fake_start();
	writer_on(0, 100, 1, 100, 0);
	fk.drop_paused_entry = true;
	CHECK_EQ(run("checkpoint work -o %s", path), HVD_EXIT_VERIFY);
	CHECK(has(err_text, "verification failed"));
	CHECK(has(out_text, "verified  NO"));
	CHECK_EQ(fk.resumes, 1);
	CHECK(!fk.paused);
	CHECK(!image_is_snapshot(path));
	unlink(path);
}

TEST(checkpoint_rejects_a_harvest_entry_outside_ram)
{
	char path[64];

	image_path(path, sizeof(path));
	fake_start();
	fk.bogus_paused_entry = true;
	CHECK_EQ(run("checkpoint work -o %s", path), HVD_EXIT_FAILED);
	CHECK(has(err_text, "harvesting the dirty log: a log entry for page 1029, past "
		  "the RAM's 1024 pages"));
	CHECK_EQ(fk.resumes, 1);                 /* over a new connection */
	CHECK(has(err_text, "trying a new connection"));
	CHECK_EQ(fk.log_mode, HVD_MODE_OFF);
	unlink(path);
}

/* ------------------------------------------- checkpoint: the window */

/* 200 scattered pages written at every request: each round, the final
 * one too, has 200 READs of a page, more than a window. */
static void writer_scattered(void)
{
	writer_on(1, 200, 2, 200, 0);
}

TEST(checkpoint_window_larger_than_the_pages_left)
{
	struct ckpt_result r;
	char path[64];

	image_path(path, sizeof(path));
	fake_start();
	writer_on(1, 3, 2, 3, 0);                /* 3 scattered pages */
	CHECK_EQ(checkpoint_direct(path, CKPT_MAX_ROUNDS, CKPT_SMALL_PAGES, NULL, &r), 0);
	CHECK(image_is_snapshot(path));
	CHECK_EQ(r.precopy_rounds, 1);
	CHECK_EQ(r.pages_paused, 3);
	/* The full copy, 64 KiB a READ, then 3 READs in each of 2 rounds. */
	CHECK_EQ(fk.requests[HVD_READ], RAM_SIZE / HVD_READ_MAX + 3 + 3);
	CHECK(fk.max_reads_queued <= CKPT_READ_WINDOW);
	CHECK_EQ(fk.client_malformed, 0);
	unlink(path);
}

TEST(checkpoint_copies_rounds_larger_than_the_window)
{
	struct ckpt_result r;
	char path[64];

	image_path(path, sizeof(path));
	fake_start();
	writer_scattered();
	CHECK_EQ(checkpoint_direct(path, CKPT_MAX_ROUNDS, CKPT_SMALL_PAGES, NULL, &r), 0);
	CHECK(image_is_snapshot(path));
	CHECK_EQ(r.pages_paused, 200);
	CHECK_EQ(fk.requests[HVD_READ],
		 RAM_SIZE / HVD_READ_MAX + 200 * (uint64_t)(r.precopy_rounds + 1));
	CHECK(fk.max_reads_queued > CKPT_READ_REFILL);
	CHECK(fk.max_reads_queued <= CKPT_READ_WINDOW);
	unlink(path);
}

TEST(checkpoint_refused_read_mid_window_is_drained_and_the_vm_resumed)
{
	char path[64];

	image_path(path, sizeof(path));
	fake_start();
	writer_scattered();
	/* The sixth READ of the final round: page 11, with more behind it. */
	fk.inj = (struct inject){ .type = HVD_READ, .status = HVD_E_INVAL,
				  .paused_only = true, .skip = 5 };
	CHECK_EQ(run("checkpoint work -o %s", path), HVD_EXIT_FAILED);
	CHECK(has(err_text, "hvdirty: checkpoint work: reading 4096 bytes of RAM at "
		  "0x4000b000: injected (E_INVAL)\n"));
	CHECK_EQ(lines(err_text), 4);            /* rounds 0-2, then the error */
	CHECK(!has(err_text, "new connection")); /* the drain kept it in step */
	CHECK_EQ(fk.pauses, 1);
	CHECK_EQ(fk.resumes, 1);
	CHECK(!fk.paused);
	CHECK_EQ(fk.log_mode, HVD_MODE_OFF);
	CHECK_EQ(fk.client_malformed, 0);
	CHECK(!has(out_text, "verified"));
	unlink(path);
}

TEST(checkpoint_refused_read_while_running_stops_logging)
{
	char path[64];

	image_path(path, sizeof(path));
	fake_start();
	/* The eleventh READ of the full copy: its 64 KiB at page 160. */
	fk.inj = (struct inject){ .type = HVD_READ, .status = HVD_E_INVAL, .skip = 10 };
	CHECK_EQ(run("checkpoint work -o %s", path), HVD_EXIT_FAILED);
	CHECK_STREQ(err_text, "hvdirty: checkpoint work: reading 65536 bytes of RAM at "
		    "0x400a0000: injected (E_INVAL)\n");
	CHECK_EQ(fk.pauses, 0);
	CHECK_EQ(fk.requests[HVD_LOG_STOP], 1);
	CHECK_EQ(fk.log_mode, HVD_MODE_OFF);
	CHECK_EQ(fk.client_malformed, 0);
	unlink(path);
}

TEST(checkpoint_stream_broken_mid_window_still_resumes)
{
	char path[64];

	image_path(path, sizeof(path));
	fake_start();
	writer_scattered();
	fk.inj = (struct inject){ .type = HVD_READ, .close = true, .paused_only = true,
				  .skip = 5 };
	CHECK_EQ(run("checkpoint work -o %s", path), HVD_EXIT_FAILED);
	/* A reset or an end of stream, as the fake left requests unread. */
	CHECK(has(err_text, "hvdirty: checkpoint work: reading 4096 bytes of RAM at "
		  "0x4000b000: receiving from the service: "));
	CHECK(has(err_text, "trying a new connection"));
	CHECK_EQ(fk.resumes, 1);
	CHECK(!fk.paused);
	CHECK_EQ(fk.log_mode, HVD_MODE_OFF);
	unlink(path);
}

TEST(checkpoint_interrupted_mid_window_drains_and_resumes)
{
	static volatile sig_atomic_t stop;
	struct ckpt_result r;
	char path[64];

	image_path(path, sizeof(path));
	fake_start();
	writer_scattered();
	stop = 0;
	/* As a SIGINT while the final round's first window is in flight. */
	fk.inj = (struct inject){ .type = HVD_READ, .paused_only = true, .skip = 5,
				  .flag = &stop };
	/* No reconnect here: RESUME works only if the drain kept the
	 * stream in step. */
	CHECK_EQ(checkpoint_direct(path, CKPT_MAX_ROUNDS, CKPT_SMALL_PAGES, &stop, &r),
		 HVD_EXIT_FAILED);
	CHECK(has(err_text, "hvdirty: checkpoint work: interrupted\n"));
	CHECK_EQ(fk.resumes, 1);
	CHECK(!fk.paused);
	CHECK_EQ(fk.log_mode, HVD_MODE_OFF);
	CHECK_EQ(fk.client_malformed, 0);
	CHECK(!r.hv_digested);
	unlink(path);
}
