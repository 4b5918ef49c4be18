/*
 * hvdirty's commands (cmd.h): connecting, resolving the VM the command
 * line names through LIST, and vms, log, watch, harvest, checkpoint,
 * stats, pause and resume, each printing text or JSON on @env->out.
 */
#include "tools/hvdirty/cmd.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tools/hvdirty/checkpoint.h"
#include "tools/hvdirty/output.h"

#define NS_PER_S 1000000000ull
#define NS_PER_MS 1000000ull

static const char unreachable_hint[] =
	"hint: load the vmw_vsock_virtio_transport module, and check that this VM "
	"has 'devices = vsock' in the scenario";

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------ connecting, the VM */

static int connect_service(struct tool *t)
{
	char why[192];
	int fd = t->env->connect(t->o.cid, t->o.port, why, sizeof(why));

	if (fd < 0)
		return report(t->env->err, HVD_EXIT_UNREACHABLE, t->what, "%s; %s", why,
			      unreachable_hint);
	hvdc_init(&t->c, fd, opt_given(t, OPT_VERBOSE) ? t->env->err : NULL);
	t->connected = true;
	return 0;
}

/* Connects and lists the managed VMs into *@vms (the caller frees it). */
static int list_vms(struct tool *t, struct hvd_vm **vms, uint32_t *count)
{
	int rc = connect_service(t);

	if (rc)
		return rc;
	*vms = calloc(HVDC_LIST_MAX, sizeof(**vms));
	if (!*vms)
		return report(t->env->err, HVD_EXIT_FAILED, t->what, "out of memory");
	rc = hvdc_list(&t->c, *vms, HVDC_LIST_MAX, count);
	return rc ? report_client(t->env->err, t->what, &t->c, rc, NULL) : 0;
}

/* The managed VM named @arg: by name first, else by numeric id. */
static const struct hvd_vm *find_vm(const struct hvd_vm *vms, uint32_t count,
				    const char *arg)
{
	char *end;
	unsigned long long id;

	for (uint32_t i = 0; i < count; i++)
		if (!strcmp(vms[i].name, arg))
			return &vms[i];
	if (*arg < '0' || *arg > '9')
		return NULL;
	errno = 0;
	id = strtoull(arg, &end, 10);
	for (uint32_t i = 0; !errno && !*end && i < count; i++)
		if (vms[i].id == id)
			return &vms[i];
	return NULL;
}

/* Connects and finds @t->vm_arg among the VMs this VM manages. */
static int resolve_vm(struct tool *t)
{
	struct hvd_vm *vms = NULL;
	const struct hvd_vm *vm;
	uint32_t count = 0;
	int rc = list_vms(t, &vms, &count);

	if (!rc) {
		vm = find_vm(vms, count, t->vm_arg);
		if (vm)
			t->vm = *vm;
		else
			rc = report(t->env->err, HVD_EXIT_REFUSED, t->what, "this VM manages "
				    "no VM '%s' ('hvdirty vms' lists those it does)",
				    t->vm_arg);
	}
	free(vms);
	return rc;
}

/* Reports failed call @rc about @t->vm, with "'hvdirty @fix VM' @does"
 * as the hint when the service refused it with @status. */
static int vm_call_err(struct tool *t, int rc, uint32_t status, const char *fix,
		       const char *does)
{
	char hint[128] = "";

	if (hvdc_refused(&t->c, rc, status))
		snprintf(hint, sizeof(hint), "'hvdirty %s %s' %s", fix, t->vm_arg, does);
	return report_client(t->env->err, t->what, &t->c, rc, hint);
}

/* Checks the output stream after a line, for a reader gone away. */
static int output_ok(struct tool *t)
{
	if (fflush(t->env->out) == EOF || ferror(t->env->out))
		return report(t->env->err, HVD_EXIT_FAILED, t->what, "writing the output "
			      "failed");
	return 0;
}

/* ---------------------------------------------------------------- vms */

/* @bytes in the largest unit that divides it: "4 MiB". */
static const char *size_text(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned int u = 0;

	while (bytes && bytes % 1024 == 0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, len, "%" PRIu64 " %s", bytes, units[u]);
	return buf;
}

static void vm_json(FILE *f, const struct hvd_vm *vm)
{
	fprintf(f, "{\"id\":%u,\"name\":", vm->id);
	json_string(f, vm->name);
	fprintf(f, ",\"vcpus\":%u,\"ram_ipa\":%" PRIu64 ",\"ram_size\":%" PRIu64
		",\"cid\":%u,\"flags\":", vm->nr_vcpus, vm->ram_ipa, vm->ram_size,
		vm->vsock_cid);
	json_vm_flags(f, vm->flags);
	fprintf(f, ",\"log_mode\":\"%s\"}\n", mode_name(vm->log_mode));
}

static void vm_text(FILE *f, const struct hvd_vm *vm)
{
	char size[32], cid[16], flags[64];

	snprintf(cid, sizeof(cid), vm->vsock_cid ? "%u" : "-", vm->vsock_cid);
	fprintf(f, "%-4u %-15s %5u  0x%-12" PRIx64 " %9s  %-5s %-21s %s\n", vm->id,
		vm->name, vm->nr_vcpus, vm->ram_ipa,
		size_text(vm->ram_size, size, sizeof(size)), cid,
		vm_flags_text(vm->flags, flags, sizeof(flags)), mode_name(vm->log_mode));
}

int cmd_vms(struct tool *t)
{
	struct hvd_vm *vms = NULL;
	uint32_t count = 0;
	int rc = list_vms(t, &vms, &count);

	if (!rc && !opt_given(t, OPT_JSON))
		fprintf(t->env->out, "%-4s %-15s %5s  %-14s %9s  %-5s %-21s %s\n", "ID",
			"NAME", "VCPUS", "RAM_IPA", "RAM_SIZE", "CID", "FLAGS", "LOG");
	for (uint32_t i = 0; !rc && i < count; i++)
		(opt_given(t, OPT_JSON) ? vm_json : vm_text)(t->env->out, &vms[i]);
	free(vms);
	return rc;
}

/* ----------------------------------------------- log, pause, resume */

int cmd_log(struct tool *t)
{
	uint32_t mode;
	int rc = resolve_vm(t);

	if (rc)
		return rc;
	if (!t->log_start) {
		rc = hvdc_log_stop(&t->c, t->vm.id);
		if (rc)
			return report_client(t->env->err, t->what, &t->c, rc, NULL);
		fprintf(t->env->out, "dirty logging of VM '%s' (id %u) is off\n", t->vm.name,
			t->vm.id);
		return 0;
	}
	rc = hvdc_log_start(&t->c, t->vm.id, t->o.mode, &mode);
	if (hvdc_refused(&t->c, rc, HVD_E_NOTSUP))
		return report_client(t->env->err, t->what, &t->c, rc,
				     "try --mode wp or --mode auto");
	if (rc)
		return vm_call_err(t, rc, HVD_E_BUSY, "log stop", "stops it");
	fprintf(t->env->out, "dirty logging of VM '%s' (id %u) is on: %s\n", t->vm.name,
		t->vm.id, mode_name(mode));
	return 0;
}

int cmd_pause(struct tool *t)
{
	int rc = resolve_vm(t);

	if (rc)
		return rc;
	rc = hvdc_pause(&t->c, t->vm.id);
	if (rc)
		return vm_call_err(t, rc, HVD_E_BUSY, "resume", "resumes it");
	fprintf(t->env->out, "VM '%s' (id %u) is paused\n", t->vm.name, t->vm.id);
	return 0;
}

int cmd_resume(struct tool *t)
{
	int rc = resolve_vm(t);

	if (rc)
		return rc;
	rc = hvdc_resume(&t->c, t->vm.id);
	if (rc)
		return report_client(t->env->err, t->what, &t->c, rc, NULL);
	fprintf(t->env->out, "VM '%s' (id %u) is resumed\n", t->vm.name, t->vm.id);
	return 0;
}

/* -------------------------------------------------------------- stats */

static const struct {
	const char *name;
	size_t offset;
} stat_fields[] = {
#define STAT(f) { #f, offsetof(struct hvd_stats, f) }
	STAT(pages_logged), STAT(wp_faults), STAT(spurious_faults), STAT(dbm_arm_faults),
	STAT(dbm_scans), STAT(dbm_pages_scanned), STAT(dbm_pages_dirty),
	STAT(dbm_groups_disarmed), STAT(ring_full_waits), STAT(overflow_pages),
	STAT(harvested), STAT(reset), STAT(requests), STAT(malformed), STAT(refused),
#undef STAT
};

static uint64_t stat_value(const struct hvd_stats *st, size_t i)
{
	uint64_t v;

	memcpy(&v, (const char *)st + stat_fields[i].offset, sizeof(v));
	return v;
}

int cmd_stats(struct tool *t)
{
	struct hvd_stats st;
	FILE *f = t->env->out;
	bool json = opt_given(t, OPT_JSON);
	int rc = resolve_vm(t);

	if (rc)
		return rc;
	rc = hvdc_stats(&t->c, t->vm.id, &st);
	if (rc)
		return report_client(t->env->err, t->what, &t->c, rc, NULL);
	if (json) {
		fprintf(f, "{\"id\":%u,\"name\":", t->vm.id);
		json_string(f, t->vm.name);
		fprintf(f, ",\"log_mode\":\"%s\"", mode_name((uint32_t)st.log_mode));
	} else {
		fprintf(f, "VM '%s' (id %u)\n  %-20s %s\n", t->vm.name, t->vm.id, "log_mode",
			mode_name((uint32_t)st.log_mode));
	}
	for (size_t i = 0; i < sizeof(stat_fields) / sizeof(stat_fields[0]); i++)
		fprintf(f, json ? ",\"%s\":%" PRIu64 : "  %-20s %" PRIu64 "\n",
			stat_fields[i].name, stat_value(&st, i));
	if (json)
		fputs("}\n", f);
	return 0;
}

/* ------------------------------------------------------------ harvest */

/* hvdc_entry_fn for harvest: prints an entry as the options say. */
static int print_entry(void *arg, const struct hvd_entry *e)
{
	const struct tool *t = arg;
	FILE *f = t->env->out;
	/* Only memslot 0 is RAM, whose base LIST gives. */
	bool ram = e->slot == 0 && e->offset < t->vm.ram_size / HVD_PAGE_SIZE;
	uint64_t gpa = t->vm.ram_ipa + e->offset * HVD_PAGE_SIZE;

	if (opt_given(t, OPT_BINARY))
		fwrite(e, sizeof(*e), 1, f);
	else if (opt_given(t, OPT_JSON) && ram)
		fprintf(f, "{\"slot\":%u,\"page\":%" PRIu64 ",\"gpa\":%" PRIu64 "}\n",
			e->slot, e->offset, gpa);
	else if (opt_given(t, OPT_JSON))
		fprintf(f, "{\"slot\":%u,\"page\":%" PRIu64 ",\"gpa\":null}\n", e->slot,
			e->offset);
	else if (ram)
		fprintf(f, "%u 0x%" PRIx64 " 0x%" PRIx64 "\n", e->slot, e->offset, gpa);
	else
		fprintf(f, "%u 0x%" PRIx64 " -\n", e->slot, e->offset);
	return 0;
}

int cmd_harvest(struct tool *t)
{
	struct hvd_entry *buf;
	uint64_t entries = 0, reset = 0;
	int rc;

	if (opt_given(t, OPT_BINARY) && isatty(fileno(t->env->out)))
		return report(t->env->err, HVD_EXIT_USAGE, t->what, "--binary writes "
			      "records, not text: redirect the output to a file or a pipe");
	rc = resolve_vm(t);
	if (rc)
		return rc;
	buf = calloc(HVD_HARVEST_MAX, sizeof(*buf));
	if (!buf)
		return report(t->env->err, HVD_EXIT_FAILED, t->what, "out of memory");
	rc = hvdc_harvest_pass(&t->c, t->vm.id, buf, hvdc_entry_limit(&t->vm), print_entry,
			       t, &entries);
	if (!rc && !opt_given(t, OPT_NO_RESET))
		rc = hvdc_reset_all(&t->c, t->vm.id, hvdc_entry_limit(&t->vm), &reset);
	free(buf);
	if (rc)
		return report_client(t->env->err, t->what, &t->c, rc, NULL);
	if (opt_given(t, OPT_VERBOSE))
		report_line(t->env->err, t->what, "%" PRIu64 " entries, %" PRIu64 " reset",
			    entries, reset);
	return output_ok(t);
}

/* -------------------------------------------------------------- watch */

static void sleep_until(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / NS_PER_S),
			       .tv_nsec = (long)(ns % NS_PER_S) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* A harvest pass and RESET until 0: *@pages logged since the last. */
static int harvest_and_reset(struct tool *t, struct hvd_entry *buf, uint64_t *pages)
{
	uint64_t limit = hvdc_entry_limit(&t->vm);
	int rc = hvdc_harvest_pass(&t->c, t->vm.id, buf, limit, NULL, NULL, pages);

	if (!rc)
		rc = hvdc_reset_all(&t->c, t->vm.id, limit, NULL);
	return rc ? report_client(t->env->err, t->what, &t->c, rc, NULL) : 0;
}

static void watch_line(struct tool *t, uint64_t since_start, uint64_t interval,
		       uint64_t pages)
{
	double secs = (double)interval / NS_PER_S;
	double rate = secs > 0 ? (double)pages / secs : 0;
	double mib = rate * HVD_PAGE_SIZE / MIB;

	if (opt_given(t, OPT_JSON))
		fprintf(t->env->out, "{\"time_s\":%.3f,\"interval_s\":%.3f,\"pages\":%" PRIu64
			",\"pages_per_s\":%.1f,\"mib_per_s\":%.3f}\n",
			(double)since_start / NS_PER_S, secs, pages, rate, mib);
	else
		fprintf(t->env->out, "%9.3f %10" PRIu64 " %12.0f %10.2f\n",
			(double)since_start / NS_PER_S, pages, rate, mib);
}

static int watch_loop(struct tool *t, struct hvd_entry *buf)
{
	uint64_t start, last, pages;
	int rc = harvest_and_reset(t, buf, &pages);    /* what came before */

	if (rc)
		return rc;
	if (!opt_given(t, OPT_JSON))
		fprintf(t->env->out, "%9s %10s %12s %10s\n", "TIME_S", "PAGES", "PAGES/S",
			"MiB/S");
	start = last = now_ns();
	for (uint64_t n = 1; !t->o.count || n <= t->o.count; n++) {
		uint64_t now;

		sleep_until(start + n * t->o.interval_ms * NS_PER_MS);
		rc = harvest_and_reset(t, buf, &pages);
		if (rc)
			return rc;
		now = now_ns();
		watch_line(t, now - start, now - last, pages);
		last = now;
		rc = output_ok(t);
		if (rc)
			return rc;
	}
	return 0;
}

int cmd_watch(struct tool *t)
{
	struct hvd_entry *buf;
	int rc = resolve_vm(t);

	if (rc)
		return rc;
	if (t->vm.log_mode == HVD_MODE_OFF)
		return report(t->env->err, HVD_EXIT_BUSY, t->what, "dirty logging of VM '%s' "
			      "is off; start it with 'hvdirty log start %s'", t->vm.name,
			      t->vm_arg);
	buf = calloc(HVD_HARVEST_MAX, sizeof(*buf));
	if (!buf)
		return report(t->env->err, HVD_EXIT_FAILED, t->what, "out of memory");
	rc = watch_loop(t, buf);
	free(buf);
	return rc;
}

/* --------------------------------------------------------- checkpoint */

/* Set by SIGINT, SIGTERM or SIGHUP during a checkpoint: it gives up at
 * the next request, resuming the VM. The handler is reset by its first
 * call (SA_RESETHAND), so a second signal ends the tool at once. */
static volatile sig_atomic_t ckpt_stop;

static void on_stop_signal(int sig)
{
	(void)sig;
	ckpt_stop = 1;
}

static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP };
#define NR_STOP_SIGNALS (sizeof(stop_signals) / sizeof(stop_signals[0]))

/* ckpt_params.reconnect: a new connection in place of @c's. */
static int reconnect(void *arg, struct hvdc *c)
{
	struct tool *t = arg;
	char why[192];
	int fd = t->env->connect(t->o.cid, t->o.port, why, sizeof(why));

	if (fd < 0) {
		report_line(t->env->err, t->what, "%s", why);
		return -1;
	}
	close(c->fd);
	hvdc_init(c, fd, c->trace);
	return 0;
}

static const char *end_text(enum ckpt_end end)
{
	switch (end) {
	case CKPT_END_SMALL:
		return "few pages were dirty";
	case CKPT_END_NOT_SHRINKING:
		return "the dirty set stopped shrinking";
	default:
		return "--max-rounds reached";
	}
}

static void checkpoint_summary(struct tool *t, const struct ckpt_result *r)
{
	FILE *f = t->env->out;

	fprintf(f, "checkpoint of VM '%s' (id %u): %" PRIu64 " bytes of RAM at 0x%" PRIx64
		" in %s\n", t->vm.name, t->vm.id, t->vm.ram_size, t->vm.ram_ipa,
		t->o.output);
	fprintf(f, "  mode      %s\n", mode_name(r->mode));
	fprintf(f, "  rounds    %u: the full copy, %u pre-copy (%s), the final one paused\n",
		r->precopy_rounds + 2, r->precopy_rounds, end_text(r->end));
	fprintf(f, "  copied    %" PRIu64 " pages (%.1f MiB), %" PRIu64 " of them paused\n",
		r->pages_copied, (double)r->pages_copied * HVD_PAGE_SIZE / MIB,
		r->pages_paused);
	fprintf(f, "  paused    %.3f ms\n", (double)r->paused_ns / NS_PER_MS);
	fprintf(f, "  total     %.3f ms\n", (double)r->total_ns / NS_PER_MS);
	fprintf(f, "  digest    %016" PRIx64 "\n", r->hv_digest);
	fprintf(f, "  verified  %s\n", r->image_digest == r->hv_digest ?
		"yes: the image's digest is the hypervisor's of the paused RAM" :
		"NO: the image's digest differs");
}

int cmd_checkpoint(struct tool *t)
{
	struct sigaction sa = { .sa_handler = on_stop_signal, .sa_flags = SA_RESETHAND };
	struct sigaction old[NR_STOP_SIGNALS];
	struct ckpt_params p = {
		.mode = t->o.mode, .max_rounds = (uint32_t)t->o.max_rounds,
		.small = CKPT_SMALL_PAGES, .path = t->o.output, .what = t->what,
		.err = t->env->err, .progress = opt_given(t, OPT_QUIET) ? NULL : t->env->err,
		.stop = &ckpt_stop, .reconnect = reconnect, .reconnect_arg = t,
	};
	struct ckpt_result r;
	int rc = resolve_vm(t);

	if (rc)
		return rc;
	ckpt_stop = 0;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NR_STOP_SIGNALS; i++)
		sigaction(stop_signals[i], &sa, &old[i]);
	rc = checkpoint_run(&t->c, &t->vm, &p, &r);
	for (size_t i = 0; i < NR_STOP_SIGNALS; i++)
		sigaction(stop_signals[i], &old[i], NULL);
	if (r.image_digested)
		checkpoint_summary(t, &r);
	return rc;
}
