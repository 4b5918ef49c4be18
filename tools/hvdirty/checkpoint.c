/*
 * hvdirty checkpoint (checkpoint.h): the pre-copy algorithm over the
 * client, the bitmap of pages dirty in a round, the window of READs in
 * flight that copies them, the image file and its digest. Once the VM
 * is paused, every path out resumes it.
 */
#include "tools/hvdirty/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tools/hvdirty/hvdirty.h"
#include "tools/hvdirty/output.h"

#define PAGES_PER_READ (HVD_READ_MAX / HVD_PAGE_SIZE)
#define BITS_PER_WORD 64u
#define NS_PER_MS 1000000.0

/* A run of dirty pages one READ copies: @n pages from page @page on. */
struct run {
	uint64_t page, n;
};

/* The READs in flight, oldest first: @count runs from @run[@head] on,
 * wrapping. Until an error, as many as hvdc_in_flight() says, in the
 * order they were sent. */
struct window {
	struct run run[CKPT_READ_WINDOW];
	uint32_t head, count;
};

/* The @i-th oldest run of @w (@count and on: free slots). */
static struct run *window_slot(struct window *w, uint32_t i)
{
	return &w->run[(w->head + i) % CKPT_READ_WINDOW];
}

/* Whether we hold something the end must undo: logging, a pause. A
 * request whose reply was lost may or may not have taken effect. */
enum held { NOT_HELD, HELD, MAYBE_HELD };

struct ckpt {
	struct hvdc *c;
	const struct hvd_vm *vm;
	const struct ckpt_params *p;
	struct ckpt_result *r;
	int fd;                      /* the image */
	uint64_t pages;              /* of RAM */
	/* Bit n: page n was harvested this round and is not copied yet;
	 * @ndirty bits are set. */
	uint64_t *dirty;
	uint64_t ndirty;
	uint64_t other_slots;        /* entries for memslots other than RAM: ignored */
	struct hvd_entry *entries;   /* a harvest reply's, HVD_HARVEST_MAX */
	uint64_t *buf;               /* HVD_READ_MAX bytes, in words for the digest */
	enum held logging, paused;
	uint64_t paused_at;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Reports client call result @rc while @doing; returns the exit code. */
static int client_err(struct ckpt *k, int rc, const char *doing, const char *hint)
{
	char what[160];

	snprintf(what, sizeof(what), "%s: %s", k->p->what, doing);
	return report_client(k->p->err, what, k->c, rc, hint);
}

/* Whether the caller asked us to give up (a signal): reported. */
static int check_stop(struct ckpt *k)
{
	if (k->p->stop && *k->p->stop)
		return report(k->p->err, HVD_EXIT_FAILED, k->p->what, "interrupted");
	return 0;
}

static void progress(struct ckpt *k, uint32_t round, const char *label, uint64_t dirty,
		     uint64_t copied, uint64_t began)
{
	if (!k->p->progress)
		return;
	fprintf(k->p->progress, "round %u%s: %" PRIu64 " pages dirty, %" PRIu64 " copied, "
		"%.1f MiB, %.1f ms\n", round, label, dirty, copied,
		(double)copied * HVD_PAGE_SIZE / MIB, (double)(now_ns() - began) / NS_PER_MS);
	fflush(k->p->progress);
}

/* ---------------------------------------------------------- the image */

static int write_image(struct ckpt *k, uint64_t off, uint64_t len)
{
	const uint8_t *p = (const uint8_t *)k->buf;

	while (len) {
		ssize_t n = pwrite(k->fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return report(k->p->err, HVD_EXIT_FAILED, k->p->what, "writing %s: %s",
				      k->p->path, n ? strerror(errno) : "nothing written");
		p += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

/* Reads @len bytes of the image at @off into @k->buf. */
static int read_image(struct ckpt *k, uint64_t off, uint64_t len)
{
	uint8_t *p = (uint8_t *)k->buf;

	while (len) {
		ssize_t n = pread(k->fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return report(k->p->err, HVD_EXIT_FAILED, k->p->what, "reading %s back: "
				      "%s", k->p->path, n ? strerror(errno) :
				      "shorter than the RAM");
		p += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

/* The digest of the image as written: its words, as HVD_DIGEST's. */
static int image_digest(struct ckpt *k, uint64_t *digest)
{
	uint64_t h = HVD_DIGEST_SEED;

	for (uint64_t off = 0; off < k->vm->ram_size; off += HVD_READ_MAX) {
		uint64_t len = k->vm->ram_size - off < HVD_READ_MAX ?
			       k->vm->ram_size - off : HVD_READ_MAX;
		int rc = read_image(k, off, len);

		if (rc)
			return rc;
		h = hvd_digest_update(h, k->buf, len / sizeof(uint64_t));
	}
	*digest = h;
	return 0;
}

/* ----------------------------------------------------------- a round */

static bool page_dirty(const struct ckpt *k, uint64_t page)
{
	return k->dirty[page / BITS_PER_WORD] >> (page % BITS_PER_WORD) & 1;
}

/* hvdc_entry_fn: marks an entry's page dirty. */
static int mark_dirty(void *arg, const struct hvd_entry *e)
{
	struct ckpt *k = arg;
	uint64_t bit;

	if (e->slot != 0) {
		k->other_slots++;
		return 0;
	}
	if (e->offset >= k->pages)
		return hvdc_fail(k->c, HVDC_E_PROTO, "a log entry for page %" PRIu64 ", past "
				 "the RAM's %" PRIu64 " pages", e->offset, k->pages);
	bit = 1ull << (e->offset % BITS_PER_WORD);
	if (!(k->dirty[e->offset / BITS_PER_WORD] & bit)) {
		k->dirty[e->offset / BITS_PER_WORD] |= bit;
		k->ndirty++;
	}
	return 0;
}

/* A harvest pass, each page into the bitmap if @mark, then RESET until
 * 0: the harvested pages are protected again, so they may be read now.
 * @doing names the step in an error. */
static int harvest_and_reset(struct ckpt *k, bool mark, const char *doing)
{
	int rc = hvdc_harvest_pass(k->c, k->vm->id, k->entries, hvdc_entry_limit(k->vm),
				   mark ? mark_dirty : NULL, k, NULL);

	if (!rc)
		rc = hvdc_reset_all(k->c, k->vm->id, hvdc_entry_limit(k->vm), NULL);
	return rc ? client_err(k, rc, doing, NULL) : 0;
}

/* Sets every page's bit: the full copy is a round with all RAM dirty. */
static void mark_all(struct ckpt *k)
{
	for (uint64_t page = 0; page < k->pages; page++)
		k->dirty[page / BITS_PER_WORD] |= 1ull << (page % BITS_PER_WORD);
	k->ndirty = k->pages;
}

/* Takes the next run of dirty pages from page *@cursor on into @r:
 * adjacent pages, HVD_READ_MAX bytes at most, their bits cleared and
 * *@cursor past them. false: none is left. */
static bool next_run(struct ckpt *k, uint64_t *cursor, struct run *r)
{
	uint64_t page = *cursor;

	while (page < k->pages && !page_dirty(k, page))
		page += page % BITS_PER_WORD == 0 && !k->dirty[page / BITS_PER_WORD] ?
			BITS_PER_WORD : 1;
	r->page = page;
	for (r->n = 0; page < k->pages && r->n < PAGES_PER_READ && page_dirty(k, page);
	     page++, r->n++)
		k->dirty[page / BITS_PER_WORD] &= ~(1ull << (page % BITS_PER_WORD));
	*cursor = page;
	return r->n != 0;
}

/* Reports failed call @rc about the READ of run @r. */
static int read_err(struct ckpt *k, int rc, const struct run *r)
{
	char doing[96];

	snprintf(doing, sizeof(doing), "reading %" PRIu64 " bytes of RAM at 0x%" PRIx64,
		 r->n * HVD_PAGE_SIZE, k->vm->ram_ipa + r->page * HVD_PAGE_SIZE);
	return client_err(k, rc, doing, hvdc_refused(k->c, rc, HVD_E_TYPE) ?
			  "the hypervisor predates HVD_READ" : NULL);
}

/* Once at least CKPT_READ_REFILL of @w's slots are free, fills them with
 * READs of the next dirty runs from *@cursor on, in one write. */
static int fill_window(struct ckpt *k, struct window *w, uint64_t *cursor)
{
	struct hvd_read reads[CKPT_READ_WINDOW];
	uint32_t n = 0;
	int rc = check_stop(k);

	if (rc || CKPT_READ_WINDOW - w->count < CKPT_READ_REFILL)
		return rc;
	for (; w->count + n < CKPT_READ_WINDOW; n++) {
		struct run *r = window_slot(w, w->count + n);

		if (!next_run(k, cursor, r))
			break;
		reads[n] = (struct hvd_read){ .ipa = k->vm->ram_ipa + r->page * HVD_PAGE_SIZE,
					      .len = r->n * HVD_PAGE_SIZE };
	}
	if (!n)
		return 0;
	rc = hvdc_read_send(k->c, k->vm->id, reads, n);
	if (rc)
		return read_err(k, rc, window_slot(w, w->count));
	w->count += n;
	return 0;
}

/* The reply to the oldest READ of @w, into the image. */
static int take_reply(struct ckpt *k, struct window *w)
{
	const struct run *r = window_slot(w, 0);
	int rc = hvdc_read_recv(k->c, r->n * HVD_PAGE_SIZE, k->buf);

	if (rc)
		return read_err(k, rc, r);
	w->head = (w->head + 1) % CKPT_READ_WINDOW;
	w->count--;
	return write_image(k, r->page * HVD_PAGE_SIZE, r->n * HVD_PAGE_SIZE);
}

/*
 * Copies the dirty pages into the image, clearing the bitmap: a READ
 * per run of adjacent pages, up to CKPT_READ_WINDOW of them in flight,
 * each reply written out as it comes while later READs are on their way.
 * On an error (a refused READ, a broken stream, a failed write, a
 * signal) the replies still in flight are read and dropped, so that
 * the connection is in step for RESUME and LOG_STOP; if that fails too,
 * the stream is broken, and finish() tries a new connection.
 */
static int copy_dirty(struct ckpt *k)
{
	struct window w = { .count = 0 };
	uint64_t cursor = 0;
	int rc;

	for (;;) {
		rc = fill_window(k, &w, &cursor);
		if (rc || !w.count)
			break;
		rc = take_reply(k, &w);
		if (rc)
			break;
	}
	/* (void): a drain that fails leaves the stream broken, which
	 * finish() sees and answers with a new connection. */
	if (rc)
		(void)hvdc_read_drain(k->c);
	k->ndirty = 0;
	return rc;
}

/* Round @round: harvest, reset, copy. *@dirty gets the pages it found. */
static int run_round(struct ckpt *k, uint32_t round, bool paused, uint64_t *dirty)
{
	uint64_t began = now_ns();
	int rc = check_stop(k);

	if (!rc)
		rc = harvest_and_reset(k, true, "harvesting the dirty log");
	*dirty = k->ndirty;
	if (!rc)
		rc = copy_dirty(k);
	if (rc)
		return rc;
	k->r->pages_copied += *dirty;
	progress(k, round, paused ? " (paused)" : "", *dirty, *dirty, began);
	return 0;
}

/* ---------------------------------------------------------- the steps */

static int start_logging(struct ckpt *k)
{
	char hint[128] = "";
	int rc = hvdc_log_start(k->c, k->vm->id, k->p->mode, &k->r->mode);

	if (!rc) {
		k->logging = HELD;
		return 0;
	}
	if (rc != HVDC_E_STATUS)
		k->logging = MAYBE_HELD;
	if (hvdc_refused(k->c, rc, HVD_E_BUSY))
		snprintf(hint, sizeof(hint), "a checkpoint needs the log to itself; "
			 "'hvdirty log stop %s' stops it", k->vm->name);
	else if (hvdc_refused(k->c, rc, HVD_E_NOTSUP))
		snprintf(hint, sizeof(hint), "try --mode wp or --mode auto");
	return client_err(k, rc, "starting the dirty log", hint);
}

/* Round 0: all RAM, after the drain. */
static int copy_all(struct ckpt *k)
{
	uint64_t began = now_ns();
	int rc;

	mark_all(k);
	rc = copy_dirty(k);
	if (rc)
		return rc;
	k->r->pages_copied += k->pages;
	progress(k, 0, " (full copy)", k->pages, k->pages, began);
	return 0;
}

/* Rounds while the VM runs, until the dirty set is small, stops
 * shrinking, or @max_rounds ran. */
static int precopy(struct ckpt *k)
{
	uint64_t before = k->pages;      /* the full copy's "dirty set" */

	k->r->end = CKPT_END_MAX_ROUNDS;
	for (uint32_t round = 1; round <= k->p->max_rounds; round++) {
		uint64_t dirty;
		int rc = run_round(k, round, false, &dirty);

		if (rc)
			return rc;
		k->r->precopy_rounds = round;
		if (dirty <= k->p->small) {
			k->r->end = CKPT_END_SMALL;
			break;
		}
		if (dirty >= before) {
			k->r->end = CKPT_END_NOT_SHRINKING;
			break;
		}
		before = dirty;
	}
	return 0;
}

/* PAUSE, the final round (exact now), DIGEST of the paused RAM. */
static int final_round(struct ckpt *k)
{
	int rc = check_stop(k);

	if (rc)
		return rc;
	k->paused_at = now_ns();
	rc = hvdc_pause(k->c, k->vm->id);
	if (rc) {
		if (rc != HVDC_E_STATUS)
			k->paused = MAYBE_HELD;
		return client_err(k, rc, "pausing the VM", NULL);
	}
	k->paused = HELD;
	rc = run_round(k, k->r->precopy_rounds + 1, true, &k->r->pages_paused);
	if (rc)
		return rc;
	rc = hvdc_digest(k->c, k->vm->id, k->vm->ram_ipa, k->vm->ram_size, &k->r->hv_digest);
	if (rc)
		return client_err(k, rc, "the digest of the paused RAM", NULL);
	k->r->hv_digested = true;
	return 0;
}

/* An undoing request (RESUME, LOG_STOP): if the connection broke, it
 * is tried once more on a new one. */
static int undo_call(struct ckpt *k, int (*call)(struct hvdc *, uint32_t))
{
	int rc = call(k->c, k->vm->id);

	if ((rc == HVDC_E_IO || rc == HVDC_E_PROTO) && k->p->reconnect) {
		report_line(k->p->err, k->p->what, "%s; trying a new connection", k->c->why);
		if (!k->p->reconnect(k->p->reconnect_arg, k->c))
			rc = call(k->c, k->vm->id);
	}
	return rc;
}

/* Undoes @what we hold with @call; E_STATE means we did not hold it. */
static int undo(struct ckpt *k, enum held *what, int (*call)(struct hvdc *, uint32_t),
		const char *doing, const char *hint)
{
	int rc;

	if (*what == NOT_HELD)
		return 0;
	rc = undo_call(k, call);
	if (rc && !(*what == MAYBE_HELD && hvdc_refused(k->c, rc, HVD_E_STATE)))
		return client_err(k, rc, doing, hint);
	*what = NOT_HELD;
	return 0;
}

/* Resumes the VM if we paused it and stops logging if we started it,
 * whatever @rc says; returns @rc, or the first error of these. */
static int finish(struct ckpt *k, int rc)
{
	char hint[96];
	int r2;

	if (k->paused != NOT_HELD) {
		snprintf(hint, sizeof(hint), "it stays paused until 'hvdirty resume %s' "
			 "succeeds", k->vm->name);
		r2 = undo(k, &k->paused, hvdc_resume, "resuming the VM", hint);
		k->r->paused_ns = now_ns() - k->paused_at;
		rc = rc ? rc : r2;
	}
	r2 = undo(k, &k->logging, hvdc_log_stop, "stopping the dirty log", NULL);
	return rc ? rc : r2;
}

/* fsync, then the image's digest against the hypervisor's. */
static int verify(struct ckpt *k)
{
	struct ckpt_result *r = k->r;
	int rc;

	if (fsync(k->fd))
		return report(k->p->err, HVD_EXIT_FAILED, k->p->what, "fsync %s: %s",
			      k->p->path, strerror(errno));
	rc = image_digest(k, &r->image_digest);
	if (rc)
		return rc;
	r->image_digested = true;
	if (r->image_digest != r->hv_digest)
		return report(k->p->err, HVD_EXIT_VERIFY, k->p->what, "verification failed: "
			      "the image's digest %016" PRIx64 " is not the hypervisor's %016"
			      PRIx64 " of the paused RAM", r->image_digest, r->hv_digest);
	return 0;
}

/* ------------------------------------------------------------ the run */

/* The RAM as LIST describes it must be whole pages that do not wrap. */
static int check_ram(const struct ckpt_params *p, const struct hvd_vm *vm)
{
	if (vm->ram_size && vm->ram_size % HVD_PAGE_SIZE == 0 &&
	    vm->ram_ipa % HVD_PAGE_SIZE == 0 && vm->ram_ipa + vm->ram_size > vm->ram_ipa)
		return 0;
	return report(p->err, HVD_EXIT_FAILED, p->what, "the service describes the RAM "
		      "as %" PRIu64 " bytes at 0x%" PRIx64 ": not whole pages", vm->ram_size,
		      vm->ram_ipa);
}

/* The checks LIST allows before anything is started. */
static int check_vm(const struct ckpt_params *p, const struct hvd_vm *vm)
{
	if (vm->flags & HVD_VM_PAUSED)
		return report(p->err, HVD_EXIT_BUSY, p->what, "VM '%s' is paused by this VM "
			      "(an interrupted checkpoint?); 'hvdirty resume %s' resumes it",
			      vm->name, vm->name);
	if (vm->log_mode != HVD_MODE_OFF)
		return report(p->err, HVD_EXIT_BUSY, p->what, "the dirty log of VM '%s' is "
			      "on (%s): a checkpoint needs the log to itself; "
			      "'hvdirty log stop %s' stops it", vm->name,
			      mode_name(vm->log_mode), vm->name);
	return check_ram(p, vm);
}

static int alloc(struct ckpt *k)
{
	size_t words = (size_t)((k->pages + BITS_PER_WORD - 1) / BITS_PER_WORD);

	k->dirty = calloc(words, sizeof(*k->dirty));
	k->entries = calloc(HVD_HARVEST_MAX, sizeof(*k->entries));
	k->buf = malloc(HVD_READ_MAX);
	if (k->dirty && k->entries && k->buf)
		return 0;
	return report(k->p->err, HVD_EXIT_FAILED, k->p->what, "out of memory for a "
		      "bitmap of %" PRIu64 " pages", k->pages);
}

static int open_image(struct ckpt *k)
{
	k->fd = open(k->p->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (k->fd < 0)
		return report(k->p->err, HVD_EXIT_FAILED, k->p->what, "%s: %s", k->p->path,
			      strerror(errno));
	if (ftruncate(k->fd, (off_t)k->vm->ram_size))
		return report(k->p->err, HVD_EXIT_FAILED, k->p->what, "%s: %s", k->p->path,
			      strerror(errno));
	return 0;
}

/* The steps up to the digest of the paused RAM; the first error ends them. */
static int copy_steps(struct ckpt *k)
{
	int rc = start_logging(k);

	/* Empty the log of what it held before: all RAM is copied next. */
	if (!rc)
		rc = harvest_and_reset(k, false, "draining the dirty log");
	if (!rc)
		rc = copy_all(k);
	if (!rc)
		rc = precopy(k);
	if (!rc)
		rc = final_round(k);
	return rc;
}

int checkpoint_run(struct hvdc *c, const struct hvd_vm *vm, const struct ckpt_params *p,
		   struct ckpt_result *r)
{
	struct ckpt k = {
		.c = c, .vm = vm, .p = p, .r = r, .fd = -1,
		.pages = vm->ram_size / HVD_PAGE_SIZE,
	};
	uint64_t began = now_ns();
	int rc;

	memset(r, 0, sizeof(*r));
	rc = check_vm(p, vm);
	if (!rc)
		rc = alloc(&k);
	if (!rc)
		rc = open_image(&k);
	if (!rc)
		rc = finish(&k, copy_steps(&k));
	if (r->hv_digested) {
		int v = verify(&k);

		rc = rc ? rc : v;
	}
	if (k.fd >= 0 && close(k.fd) && !rc)
		rc = report(p->err, HVD_EXIT_FAILED, p->what, "closing %s: %s", p->path,
			    strerror(errno));
	r->total_ns = now_ns() - began;
	free(k.dirty);
	free(k.entries);
	free(k.buf);
	return rc;
}
