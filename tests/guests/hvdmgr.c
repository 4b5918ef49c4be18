/*
 * hvdmgr: the bare-metal management guest. It drives the dirty log of
 * a VM it manages through the hypervisor's dirty-log service, over its
 * own virtio-vsock device (vsock_drv.h) to CID 2 port HVD_PORT
 * (hvd_client.h), and checks what it gets in the manner of KVM's
 * dirty_log_test (dirtyround.h). In role=manager (the default):
 *
 *   LIST      its target is listed, and no VM it does not manage;
 *   echo      with peer=<id> (a VM it manages running role=echo): bytes
 *             through the hypervisor to that VM and back, more than
 *             either side's buffer, so credit flows both ways;
 *   refusals  the target held paused meanwhile: requests about VMs it
 *             does not manage (E_PERM) or that do not exist (E_NOVM),
 *             malformed ones (E_MALFORMED, E_TYPE, E_VERSION; the
 *             connection goes on), out of order ones (E_BUSY, E_STATE),
 *             a request the service cannot frame on a second connection
 *             (E_MALFORMED, then the service closes it);
 *   phases    for each of `harvest=` socket and rings: ATTACH (memory
 *             read-only; with rings the dirty rings too), LOG_START in
 *             `mode=`, then `rounds=` rounds of harvest, reset and the
 *             check of every page, every `pause_every=`-th with the
 *             target paused (exact); socket harvests with HVD_HARVEST,
 *             rings consumes the mapped rings as KVM's are (load-acquire
 *             flags == DIRTY, copy, store-release RESET) plus
 *             HVD_HARVEST_MAPPED for the overflow; then HVD_RESET until 0;
 *   checkpoint  with checkpoint=1: its own copy of the target's RAM,
 *             pre-copy rounds (harvest, reset, copy D) until the dirty
 *             set stops shrinking, PAUSE, a final round, then DIGEST of
 *             the target's RAM (2 MiB pieces and whole) against
 *             hvd_digest_update() over the copy: all equal; a copy with
 *             one bit flipped must give another digest; READ of its
 *             first and last 64 KiB and a page in the middle: the bytes
 *             of the copy; RESUME;
 *   tail      with until_stopped=1, rounds `tail_us=` apart until the
 *             target has stopped, then one exact round on it;
 *   end       STATS, LOG_STOP, DETACH, the connection closed.
 *
 * role=intruder: a VM with vsock that manages nothing: LIST is empty,
 * every request about `target=` is refused with E_PERM and carries no
 * data, connections to the manager (`probe_cid=`), to a CID 2 port
 * nobody serves and to a CID nobody has are refused (RST).
 * role=echo: accepts one connection on HVDMGR_ECHO_PORT and sends every
 * byte back until the peer shuts down.
 *
 * probes=0 leaves out the requests that must be refused (the
 * refusals above, a second ATTACH or LOG_START), each of which the
 * hypervisor logs: for a demo.
 *
 * bench=1 (role manager; `make bench`, scripts/bench-vsock.sh) measures
 * instead, under QEMU -icount shift=0 on -cpu max, where the 1 GHz
 * counter counts instructions (all CPUs', so every VM it does not time
 * is held paused, its vCPUs in WFI): the round trip of a STATS and of a
 * LIST request; then, for `target=` and then `target2=` (writer VMs,
 * e.g. dirtywork pattern=seq and random), each `harvest=` way and wp
 * then dbm (where the CPU has it): LOG_START, one round not counted and
 * `rounds=` rounds of RESUME, `interval_us=` of writing, PAUSE, then the
 * harvest (as the phases do it) and HVD_RESET until 0 timed apart.
 * Lines "hvdmgr: bench: <what>: <figure>"; verdict PASS unless a call
 * fails or a round harvests nothing.
 *
 * demo=1 prints every round with its dirty pages per second (guest
 * time). Verdict: "hvdmgr: PASS <summary>", or FAIL for a lost page, a
 * digest that differs, a refusal that did not come, any error.
 */
#include <stdarg.h>

#include "lib/compiler.h"
#include "lib/printf.h"
#include "lib/spinlock.h"
#include "lib/string.h"
#include "tests/guests/dirtyround.h"
#include "tests/guests/gutil.h"
#include "tests/guests/hvd_client.h"
#include "tests/guests/rt/rt.h"
#include "tests/guests/rt/timer.h"
#include "tests/guests/vsock_drv.h"
#include "virt/guest_map.h"
#include "virt/scenario.h"

const char guest_name[] = "hvdmgr";

#define HVDMGR_ECHO_PORT 5000u
#define DEFAULT_ROUNDS 20
#define DEFAULT_PAUSE_EVERY 4
#define DEFAULT_INTERVAL_US 20000
/* Between the rounds that wait for the target to stop: long enough for
 * a write-protected writer to spend most of it writing, not faulting,
 * so that its end comes soon whatever its writes= (the phases' rounds,
 * close together, hold it back). */
#define DEFAULT_TAIL_US 200000
#define DEFAULT_CKPT_ROUNDS 20
#define DEFAULT_TIMEOUT_MS 10000
#define DEFAULT_WAIT_S 60
#define DEFAULT_ECHO_BYTES 0x40000ULL   /* 256 KiB: 4 times either buffer */
#define ECHO_ACCEPT_MS 60000          /* the echo VM waits this long */
#define ECHO_RETRY_US 10000           /* refused: the peer may not listen yet */
/* The echo VM starts reading this late, and the manager, once out of
 * credit, starts taking the echo back this late: each side's buffer
 * fills, so each sender runs out of credit and gets it back. */
#define ECHO_PEER_DELAY_US 20000
#define ECHO_MGR_DELAY_US 50000
#define PAGE_SHIFT 12
#define PAGE_SIZE (1ULL << PAGE_SHIFT)
#define GIB (1ULL << 30)
#define DTB_SPAN 0x200000ULL          /* the target's DTB: its last 2 MiB */
#define FDT_MAGIC 0xd00dfeedu
#define DIGEST_PIECE 0x200000ULL      /* DIGEST requests of 2 MiB */
#define REASON_MAX 256
#define UNUSED_PORT 1u                /* a CID 2 port no service has */
#define UNUSED_CID 77u                /* a CID no VM has in our scenarios */
#define RTT_SAMPLES 64u               /* STATS requests timed one by one */
/* bench=1: requests timed per kind; a round's writing time; the
 * counter of -cpu max, which -icount shift=0 makes count instructions. */
#define BENCH_RTT_SAMPLES 256u
#define DEFAULT_BENCH_INTERVAL_US 2000
#define ICOUNT_FREQ 1000000000ULL
/* A harvest pass takes at most every page once plus what the rings and
 * the overflow bitmap held before: this many requests mean it never ends. */
#define HARVEST_CALLS_MAX(pages, max) (4 * ((pages) / (max)) + 256)

enum role { ROLE_MANAGER, ROLE_INTRUDER, ROLE_ECHO };
enum via { VIA_SOCKET, VIA_RINGS };
static const char *const via_name[] = { "socket", "rings" };

static struct {
	enum role role;
	u32 target;
	bool has_peer;
	u32 peer;
	u32 probe_cid;               /* intruder: the manager's CID, 0 if none */
	u32 mode;                    /* HVD_MODE_* asked for */
	enum via via[2];
	unsigned int nr_via;
	u64 rounds, pause_every, interval_us, tail_us, ckpt_rounds, harvest_max;
	u64 timeout_ms, wait_s, echo_bytes;
	bool checkpoint, demo, until_stopped, event_idx, probes, bench;
	bool has_target2;            /* bench: a second writer, after target */
	u32 target2;
} cfg;

static struct vsock_dev dev;
static struct hvd_client cl;

/* The target as LIST and ATTACH describe it, and what we hold of it. */
static struct {
	struct hvd_vm vm;
	struct hvd_attach_reply at;
	const volatile u8 *view;
	u64 npages;
	u32 ring_idx[HVD_MAX_RINGS];     /* our consumer index per mapped ring */
	u32 mode;                        /* in effect */
	bool attached, logging, paused, stopped;
	bool target2_paused;             /* bench: cfg.target2 held paused */
} tgt;

static struct dround chk;

/* GiBs of our map made read-only (views of a target's RAM): a later
 * window for rings must not fall there. */
static u64 ro_gib_first = ~0ULL, ro_gib_last;

/* Totals over the run. */
static struct {
	u64 refused, malformed, harvested, reset, requests_harvest, bad_entries;
	u64 phase_rounds[2], phase_exact[2], phase_dirty[2];
	u64 ckpt_precopy, ckpt_final_pages, ckpt_pieces;
	bool final_on_stopped;
} total;

/* ------------------------------------------------------------ failing */

/* Leaves the target running and unlogged (as far as the service still
 * answers), then fails. */
static __noreturn __printf(1, 2) void mgr_fail(const char *fmt, ...)
{
	char why[REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (cl.s && tgt.paused)
		hvd_call(&cl, HVD_RESUME, cfg.target, NULL, 0, NULL, 0);
	if (cl.s && tgt.logging)
		hvd_call(&cl, HVD_LOG_STOP, cfg.target, NULL, 0, NULL, 0);
	if (cl.s && tgt.target2_paused)
		hvd_call(&cl, HVD_RESUME, cfg.target2, NULL, 0, NULL, 0);
	tgt.paused = tgt.logging = tgt.target2_paused = false;
	rt_fail("%s", why);
}

/* A call that must be answered (any status); transport errors fail. */
static int call(u16 type, u32 vm, const void *body, u32 len, void *reply, u32 rlen)
{
	int r = hvd_call(&cl, type, vm, body, len, reply, rlen);

	if (r < 0)
		mgr_fail("request %u about VM %u: %s", type, vm, hvd_why(&cl));
	return r;
}

/* A call about the target that must succeed. */
static void must(u16 type, const char *name, const void *body, u32 len, void *reply,
		 u32 rlen)
{
	int r = call(type, cfg.target, body, len, reply, rlen);

	if (r != HVD_OK)
		mgr_fail("%s of VM %u: %s (%s)", name, cfg.target, hvd_status_name(r),
			 cl.reason);
}

/* Statuses the service counts as malformed requests (STATS). */
static bool is_malformed(int status)
{
	return status == HVD_E_MALFORMED || status == HVD_E_TYPE || status == HVD_E_VERSION;
}

static void count_refusal(int status)
{
	total.refused++;
	total.malformed += is_malformed(status);
}

/* A request the service must refuse with @want. */
static void expect(const char *what, int want, u16 type, u32 vm, const void *body,
		   u32 len)
{
	int r = call(type, vm, body, len, NULL, 0);

	if (r != want)
		mgr_fail("%s: answered %s, expected %s", what, hvd_status_name(r),
			 hvd_status_name(want));
	count_refusal(want);
}

static void pause_target(void)
{
	must(HVD_PAUSE, "PAUSE", NULL, 0, NULL, 0);
	tgt.paused = true;
}

static void resume_target(void)
{
	must(HVD_RESUME, "RESUME", NULL, 0, NULL, 0);
	tgt.paused = false;
}

/* --------------------------------------------------------------- args */

static bool arg_is(const char *v, size_t len, const char *word)
{
	return len == strlen(word) && !strncmp(v, word, len);
}

static void parse_mode(void)
{
	const char *v;
	size_t len;

	cfg.mode = HVD_MODE_AUTO;
	if (rt_arg("mode", &v, &len))
		return;
	if (arg_is(v, len, "wp"))
		cfg.mode = HVD_MODE_WP;
	else if (arg_is(v, len, "dbm"))
		cfg.mode = HVD_MODE_DBM;
	else if (!arg_is(v, len, "auto"))
		rt_fail("bootargs: mode= is wp, dbm or auto");
}

/* harvest=socket, rings or both (socket, then rings). */
static void parse_harvest(void)
{
	const char *v;
	size_t len;

	cfg.nr_via = 2;
	cfg.via[0] = VIA_SOCKET;
	cfg.via[1] = VIA_RINGS;
	if (rt_arg("harvest", &v, &len) || arg_is(v, len, "both"))
		return;
	cfg.nr_via = 1;
	if (arg_is(v, len, "rings"))
		cfg.via[0] = VIA_RINGS;
	else if (!arg_is(v, len, "socket"))
		rt_fail("bootargs: harvest= is socket, rings or both");
}

static void parse_role(void)
{
	const char *v;
	size_t len;

	cfg.role = ROLE_MANAGER;
	if (rt_arg("role", &v, &len))
		return;
	if (arg_is(v, len, "intruder"))
		cfg.role = ROLE_INTRUDER;
	else if (arg_is(v, len, "echo"))
		cfg.role = ROLE_ECHO;
	else if (!arg_is(v, len, "manager"))
		rt_fail("bootargs: role= is manager, intruder or echo");
}

static void parse_args(void)
{
	u64 v;

	parse_role();
	parse_mode();
	parse_harvest();
	if (cfg.role != ROLE_ECHO) {
		if (rt_arg_u64("target", &v) || v >= SCENARIO_MAX_VMS)
			rt_fail("bootargs: target=<VM id> is required (below %u)",
				SCENARIO_MAX_VMS);
		cfg.target = (u32)v;
	}
	cfg.has_peer = !rt_arg_u64("peer", &v);
	cfg.peer = (u32)v;
	cfg.has_target2 = !rt_arg_u64("target2", &v);
	cfg.target2 = (u32)v;
	cfg.probe_cid = (u32)rt_arg_u64_or("probe_cid", 0);
	cfg.rounds = rt_arg_u64_or("rounds", DEFAULT_ROUNDS);
	cfg.pause_every = rt_arg_u64_or("pause_every", DEFAULT_PAUSE_EVERY);
	cfg.bench = rt_arg_u64_or("bench", 0);
	cfg.probes = rt_arg_u64_or("probes", !cfg.bench);
	cfg.interval_us = rt_arg_u64_or("interval_us", cfg.bench ? DEFAULT_BENCH_INTERVAL_US :
					DEFAULT_INTERVAL_US);
	cfg.tail_us = rt_arg_u64_or("tail_us", DEFAULT_TAIL_US);
	cfg.ckpt_rounds = rt_arg_u64_or("ckpt_rounds", DEFAULT_CKPT_ROUNDS);
	cfg.harvest_max = rt_arg_u64_or("harvest_max", HVD_HARVEST_MAX);
	cfg.timeout_ms = rt_arg_u64_or("timeout_ms", DEFAULT_TIMEOUT_MS);
	cfg.wait_s = rt_arg_u64_or("wait_s", DEFAULT_WAIT_S);
	cfg.echo_bytes = rt_arg_u64_or("echo_bytes", DEFAULT_ECHO_BYTES);
	cfg.checkpoint = rt_arg_u64_or("checkpoint", 1);
	cfg.demo = rt_arg_u64_or("demo", 0);
	cfg.until_stopped = rt_arg_u64_or("until_stopped", 1);
	cfg.event_idx = rt_arg_u64_or("event_idx", 1);
	if (!cfg.rounds || !cfg.pause_every || !cfg.ckpt_rounds || !cfg.timeout_ms ||
	    !cfg.harvest_max || cfg.harvest_max > HVD_HARVEST_MAX || !cfg.echo_bytes)
		rt_fail("bootargs: rounds=, pause_every=, ckpt_rounds=, timeout_ms=, "
			"echo_bytes= must be positive, harvest_max= 1..%u", HVD_HARVEST_MAX);
	if (cfg.has_target2 && (!cfg.bench || cfg.role != ROLE_MANAGER ||
				cfg.target2 == cfg.target || cfg.target2 >= SCENARIO_MAX_VMS))
		rt_fail("bootargs: target2= is a second VM to measure with bench=1");
}

/* ------------------------------------------------------------- set-up */

static void start_vsock(void)
{
	int r = vsock_init(&dev, GUEST_VIRTIO_BASE, cfg.event_idx);

	if (r)
		rt_fail("virtio-vsock: %s", vsock_why(&dev));
	printf("hvdmgr: virtio-vsock up: CID %llu, EVENT_IDX %s\n",
	       (unsigned long long)dev.guest_cid, dev.event_idx ? "on" : "off");
	r = hvd_connect(&cl, &dev, cfg.timeout_ms);
	if (r)
		rt_fail("%s", hvd_why(&cl));
}

/* Room for any LIST reply. */
struct list_reply {
	struct hvd_list_reply head;
	struct hvd_vm vm[SCENARIO_MAX_VMS];
};

/* LIST: the VMs we manage; *@n of them into @vms. */
static void list_vms(struct hvd_vm *vms, u32 *n)
{
	static struct list_reply reply;
	u32 got;
	int r = hvd_call_var(&cl, HVD_LIST, 0, NULL, 0, &reply, sizeof(reply), &got);

	if (r < 0)
		mgr_fail("LIST: %s", hvd_why(&cl));
	if (r != HVD_OK)
		mgr_fail("LIST: %s (%s)", hvd_status_name(r), cl.reason);
	if (got < sizeof(reply.head) || reply.head.count > SCENARIO_MAX_VMS ||
	    got != sizeof(reply.head) + reply.head.count * sizeof(struct hvd_vm))
		mgr_fail("LIST: %u VMs in %u bytes", reply.head.count, got);
	*n = reply.head.count;
	memcpy(vms, reply.vm, *n * sizeof(struct hvd_vm));
}

static const struct hvd_vm *find_vm(const struct hvd_vm *vms, u32 n, u32 id)
{
	for (u32 i = 0; i < n; i++)
		if (vms[i].id == id)
			return &vms[i];
	return NULL;
}

/* The target's entry now (its flags tell stopped, paused, attached). */
static struct hvd_vm target_now(void)
{
	struct hvd_vm vms[SCENARIO_MAX_VMS];
	const struct hvd_vm *t;
	u32 n;

	list_vms(vms, &n);
	t = find_vm(vms, n, cfg.target);
	if (!t)
		mgr_fail("LIST no longer lists VM %u", cfg.target);
	return *t;
}

static bool target_stopped(void)
{
	tgt.stopped = target_now().flags & HVD_VM_STOPPED;
	return tgt.stopped;
}

/* The VMs we were told we manage: the target(s) and the echo peer. */
static bool told_to_manage(u32 id)
{
	return id == cfg.target || (cfg.has_peer && id == cfg.peer) ||
	       (cfg.has_target2 && id == cfg.target2);
}

/* LIST names the target, maybe the echo peer or target2, and nothing
 * else; each entry is a VM's RAM. */
static void check_list(struct hvd_vm *peer)
{
	struct hvd_vm vms[SCENARIO_MAX_VMS];
	const struct hvd_vm *t;
	u32 n;

	list_vms(vms, &n);
	for (u32 i = 0; i < n; i++) {
		const struct hvd_vm *v = &vms[i];

		if (!told_to_manage(v->id))
			mgr_fail("LIST names VM %u ('%.15s'), which we do not manage",
				 v->id, v->name);
		if (v->ram_ipa != GUEST_RAM_BASE || !v->ram_size || v->ram_size % DTB_SPAN ||
		    !v->nr_vcpus || v->nr_vcpus > VM_MAX_VCPUS || v->name[15] || v->reserved)
			mgr_fail("LIST: VM %u: RAM 0x%llx bytes at 0x%llx, %u vCPUs: not a VM",
				 v->id, (unsigned long long)v->ram_size,
				 (unsigned long long)v->ram_ipa, v->nr_vcpus);
		printf("hvdmgr: LIST: VM %u '%s': %llu MiB, %u vCPU(s), CID %u, flags 0x%x\n",
		       v->id, v->name, (unsigned long long)(v->ram_size >> 20), v->nr_vcpus,
		       v->vsock_cid, v->flags);
	}
	t = find_vm(vms, n, cfg.target);
	if (!t)
		mgr_fail("LIST does not name our target, VM %u", cfg.target);
	tgt.vm = *t;
	tgt.npages = t->ram_size >> PAGE_SHIFT;
	if (cfg.has_peer) {
		const struct hvd_vm *p = find_vm(vms, n, cfg.peer);

		if (!p || !p->vsock_cid)
			mgr_fail("LIST does not name our peer VM %u with a vsock CID", cfg.peer);
		*peer = *p;
	}
}

/* ---------------------------------------------------------- refusals */

/* Every VM id we do not manage is refused with E_PERM (it exists) or
 * E_NOVM (it does not), the same for a read, a pause and an attach; our
 * own id is one of the E_PERM ones. */
static void refuse_unmanaged(void)
{
	struct hvd_digest dg = { .ipa = GUEST_RAM_BASE, .len = PAGE_SIZE };
	struct hvd_read rd = { .ipa = GUEST_RAM_BASE, .len = PAGE_SIZE };
	struct hvd_attach at = { 0 };
	unsigned int perm = 0, novm = 0;
	char perm_why[HVD_REASON_MAX] = "";

	for (u32 id = 0; id < SCENARIO_MAX_VMS; id++) {
		int r;

		if (told_to_manage(id))
			continue;
		r = call(HVD_STATS, id, NULL, 0, NULL, 0);
		if (r != HVD_E_PERM && r != HVD_E_NOVM)
			mgr_fail("STATS of VM %u, which we do not manage: answered %s", id,
				 hvd_status_name(r));
		expect("PAUSE of a VM we do not manage", r, HVD_PAUSE, id, NULL, 0);
		expect("ATTACH of a VM we do not manage", r, HVD_ATTACH, id, &at, sizeof(at));
		expect("DIGEST of a VM we do not manage", r, HVD_DIGEST, id, &dg, sizeof(dg));
		expect("READ of a VM we do not manage", r, HVD_READ, id, &rd, sizeof(rd));
		count_refusal(r);
		if (r == HVD_E_NOVM)
			novm++;
		else if (!perm++)
			memcpy(perm_why, cl.reason, sizeof(perm_why));
	}
	if (!perm)
		mgr_fail("no VM id answered E_PERM: not even our own");
	expect("STATS of VM 2^32 - 1", HVD_E_NOVM, HVD_STATS, ~0u, NULL, 0);
	printf("hvdmgr: VMs we do not manage: %u refused with E_PERM (\"%s\"), %u ids "
	       "with E_NOVM\n", perm, perm_why, novm);
}

/* Framed requests with bad bodies or headers: answered, and the
 * connection goes on. */
static void refuse_malformed(void)
{
	struct hvd_log_start bad_mode = { .mode = HVD_MODE_AUTO + 1 };
	struct hvd_log_start reserved = { .mode = HVD_MODE_WP, .reserved = 1 };
	struct hvd_attach attach_reserved = { .reserved = 1 };
	struct hvd_harvest none = { .max = 0 }, too_many = { .max = HVD_HARVEST_MAX + 1 };
	struct hvd_digest unaligned = { .ipa = GUEST_RAM_BASE + 8, .len = PAGE_SIZE };
	struct hvd_digest empty = { .ipa = GUEST_RAM_BASE, .len = 0 };
	struct hvd_digest outside = { .ipa = GUEST_RAM_BASE + tgt.vm.ram_size,
				      .len = PAGE_SIZE };
	struct hvd_read read_big = { .ipa = GUEST_RAM_BASE, .len = HVD_READ_MAX + PAGE_SIZE };
	struct hvd_read read_past = { .ipa = GUEST_RAM_BASE + tgt.vm.ram_size - PAGE_SIZE,
				      .len = 2 * PAGE_SIZE };
	struct hvd_hdr h = { .len = sizeof(h), .version = HVD_VERSION + 1,
			     .type = HVD_LIST, .seq = ++cl.seq };
	struct hvd_vm vms[SCENARIO_MAX_VMS];
	u32 n;
	int r;

	expect("LOG_START with a 4-byte body", HVD_E_MALFORMED, HVD_LOG_START,
	       cfg.target, &bad_mode, sizeof(u32));
	expect("LOG_START mode 4", HVD_E_MALFORMED, HVD_LOG_START, cfg.target,
	       &bad_mode, sizeof(bad_mode));
	expect("LOG_START with reserved != 0", HVD_E_MALFORMED, HVD_LOG_START,
	       cfg.target, &reserved, sizeof(reserved));
	expect("ATTACH with reserved != 0", HVD_E_MALFORMED, HVD_ATTACH, cfg.target,
	       &attach_reserved, sizeof(attach_reserved));
	expect("HARVEST of 0 entries", HVD_E_MALFORMED, HVD_HARVEST, cfg.target,
	       &none, sizeof(none));
	expect("HARVEST of 4097 entries", HVD_E_MALFORMED, HVD_HARVEST, cfg.target,
	       &too_many, sizeof(too_many));
	expect("DIGEST at an unaligned IPA", HVD_E_MALFORMED, HVD_DIGEST, cfg.target,
	       &unaligned, sizeof(unaligned));
	expect("DIGEST of 0 bytes", HVD_E_MALFORMED, HVD_DIGEST, cfg.target, &empty,
	       sizeof(empty));
	expect("DIGEST beyond the target's RAM", HVD_E_INVAL, HVD_DIGEST, cfg.target,
	       &outside, sizeof(outside));
	expect("READ of 68 KiB", HVD_E_MALFORMED, HVD_READ, cfg.target, &read_big,
	       sizeof(read_big));
	expect("READ across the end of the target's RAM", HVD_E_INVAL, HVD_READ,
	       cfg.target, &read_past, sizeof(read_past));
	expect("request type 99", HVD_E_TYPE, 99, cfg.target, NULL, 0);
	/* Another version: answered in the service's, and we go on. */
	r = hvd_send_raw(&cl, &h, sizeof(h));
	if (!r)
		r = hvd_reply(&cl, HVD_LIST, h.seq, NULL, 0, NULL);
	if (r != HVD_E_VERSION)
		mgr_fail("a request in version %u: answered %s (%s), expected E_VERSION",
			 h.version, hvd_status_name(r), r < 0 ? hvd_why(&cl) : cl.reason);
	count_refusal(r);
	list_vms(vms, &n);      /* the connection still works */
}

/* Calls out of order: the state they need is not there. The target is
 * paused by us and not attached, logging off. */
static void refuse_out_of_order(void)
{
	struct hvd_harvest h = { .max = 1 };

	expect("a second PAUSE", HVD_E_BUSY, HVD_PAUSE, cfg.target, NULL, 0);
	expect("LOG_STOP while off", HVD_E_STATE, HVD_LOG_STOP, cfg.target, NULL, 0);
	expect("DETACH while not attached", HVD_E_STATE, HVD_DETACH, cfg.target, NULL, 0);
	expect("HARVEST with HARVEST_MAPPED, not attached with rings", HVD_E_BUSY,
	       HVD_HARVEST, cfg.target, &(struct hvd_harvest){ .max = 1,
		       .flags = HVD_HARVEST_MAPPED }, sizeof(h));
}

/*
 * A request the service cannot frame (a length below the header), on a
 * connection of its own: E_MALFORMED with type HVD_REPLY and seq 0, then
 * the service closes that connection. Ours goes on.
 */
static void refuse_unframed(void)
{
	struct hvd_client bad;
	struct hvd_hdr h = { .len = sizeof(u32), .version = HVD_VERSION,
			     .type = HVD_LIST, .seq = 1 };
	u8 byte;
	int r;

	if (hvd_connect(&bad, &dev, cfg.timeout_ms))
		mgr_fail("a second connection: %s", hvd_why(&bad));
	r = hvd_send_raw(&bad, &h, sizeof(h));
	if (!r)
		r = hvd_reply(&bad, 0, 0, NULL, 0, NULL);
	if (r != HVD_E_MALFORMED)
		mgr_fail("a request of length %u: answered %s (%s), expected E_MALFORMED",
			 h.len, hvd_status_name(r), r < 0 ? hvd_why(&bad) : bad.reason);
	r = vsock_recv(bad.s, &byte, 1);
	if (r != VSOCK_E_CLOSED && r != VSOCK_E_RESET)
		mgr_fail("after an unframed request the service did not close the "
			 "connection (%d: %s)", r, vsock_why(&dev));
	vsock_close(bad.s);
	count_refusal(HVD_E_MALFORMED);
}

/* The service counts what it refused for us, on every connection. */
static void check_refusal_counts(void)
{
	struct hvd_stats st;
	u64 other = total.refused - total.malformed;

	must(HVD_STATS, "STATS", NULL, 0, &st, sizeof(st));
	if (st.malformed != total.malformed || st.refused != other)
		mgr_fail("STATS counts %llu malformed and %llu refused requests, we "
			 "sent %llu and %llu", (unsigned long long)st.malformed,
			 (unsigned long long)st.refused, (unsigned long long)total.malformed,
			 (unsigned long long)other);
	printf("hvdmgr: %llu bad requests refused; the service counts %llu malformed, "
	       "%llu refused of %llu\n", (unsigned long long)total.refused,
	       (unsigned long long)st.malformed, (unsigned long long)st.refused,
	       (unsigned long long)st.requests);
}

static void check_refusals(void)
{
	refuse_unmanaged();
	refuse_malformed();
	refuse_unframed();
	check_refusal_counts();
	refuse_out_of_order();
}

/* -------------------------------------------------------------- attach */

static bool overlaps(u64 a, u64 alen, u64 b, u64 blen)
{
	return a < b + blen && b < a + alen;
}

/* The rings: one per vCPU and the VM's, each a power of two of
 * entries, in a window clear of our RAM and of read-only views. */
static void check_rings(const struct hvd_attach_reply *a)
{
	const struct mem_range *ram = &rt_board.mem[0];
	u64 bytes = (u64)a->ring_entries * sizeof(struct hvd_entry);
	u64 span = a->ring_stride * (a->nr_rings - 1) + bytes;

	if (a->nr_rings != tgt.vm.nr_vcpus + 1 || a->nr_rings > HVD_MAX_RINGS ||
	    !a->ring_entries || (a->ring_entries & (a->ring_entries - 1)) ||
	    a->ring_stride < bytes || a->rings_ipa % PAGE_SIZE)
		mgr_fail("ATTACH: %u rings of %u entries %llu bytes apart at 0x%llx, for "
			 "%u vCPUs", a->nr_rings, a->ring_entries,
			 (unsigned long long)a->ring_stride,
			 (unsigned long long)a->rings_ipa, tgt.vm.nr_vcpus);
	if (a->rings_ipa < RT_DEVICE_END || a->rings_ipa + span > (1ULL << RT_VA_BITS) ||
	    overlaps(a->rings_ipa, span, ram->base, ram->size) ||
	    overlaps(a->rings_ipa, span, a->mem_ipa, a->mem_size))
		mgr_fail("ATTACH: rings at 0x%llx (%llu bytes) overlap our RAM or the view, "
			 "or are out of our map", (unsigned long long)a->rings_ipa,
			 (unsigned long long)span);
	if (ro_gib_first != ~0ULL &&
	    overlaps(a->rings_ipa / GIB, (span + GIB - 1) / GIB + 1, ro_gib_first,
		     ro_gib_last - ro_gib_first + 1))
		mgr_fail("ATTACH: rings at 0x%llx fall in a GiB this guest mapped "
			 "read-only for an earlier view: use harvest=rings first",
			 (unsigned long long)a->rings_ipa);
	for (u32 i = 0; i < a->nr_rings; i++)
		tgt.ring_idx[i] = a->start_index[i];
}

/* The view: where the reply says, read-only in our map as in stage 2. */
static void map_view(const struct hvd_attach_reply *a)
{
	u32 magic;

	if (a->mem_size != tgt.vm.ram_size || a->mem_ipa % GIB ||
	    rt_map_readonly(a->mem_ipa, a->mem_size))
		mgr_fail("ATTACH: %llu bytes at 0x%llx: not the target's RAM in a "
			 "GiB-aligned window below 2^%u", (unsigned long long)a->mem_size,
			 (unsigned long long)a->mem_ipa, RT_VA_BITS);
	if (ro_gib_first == ~0ULL || a->mem_ipa / GIB < ro_gib_first)
		ro_gib_first = a->mem_ipa / GIB;
	ro_gib_last = MAX(ro_gib_last, (a->mem_ipa + a->mem_size - 1) / GIB);
	tgt.view = (const volatile u8 *)a->mem_ipa;
	/* The hypervisor put the target's DTB at the start of its last
	 * 2 MiB (docs/vms.md): seeing it there shows the view is its RAM. */
	magic = __builtin_bswap32(*(const volatile u32 *)(tgt.view + a->mem_size - DTB_SPAN));
	if (magic != FDT_MAGIC)
		mgr_fail("the view at 0x%llx shows 0x%08x where the target's DTB starts",
			 (unsigned long long)a->mem_ipa, magic);
}

static void attach(enum via via)
{
	struct hvd_attach req = { .flags = via == VIA_RINGS ? HVD_ATTACH_RINGS : 0 };
	struct hvd_attach_reply *a = &tgt.at;

	must(HVD_ATTACH, "ATTACH", &req, sizeof(req), a, sizeof(*a));
	tgt.attached = true;
	if (cfg.probes)
		expect("a second ATTACH", HVD_E_BUSY, HVD_ATTACH, cfg.target, &req,
		       sizeof(req));
	map_view(a);
	if (via == VIA_RINGS)
		check_rings(a);
	else if (a->rings_ipa || a->nr_rings)
		mgr_fail("ATTACH without rings mapped %u rings at 0x%llx", a->nr_rings,
			 (unsigned long long)a->rings_ipa);
	printf("hvdmgr: VM %u attached: RAM read-only at 0x%llx", cfg.target,
	       (unsigned long long)a->mem_ipa);
	if (via == VIA_RINGS)
		printf(", %u rings of %u entries read-write at 0x%llx", a->nr_rings,
		       a->ring_entries, (unsigned long long)a->rings_ipa);
	printf("\n");
}

static const char *mode_name(u32 m)
{
	return m == HVD_MODE_DBM ? "dbm" : m == HVD_MODE_WP ? "wp" : m == HVD_MODE_AUTO ?
	       "auto" : "?";
}

/* Logging on in @mode. dbm where the CPUs lack FEAT_HAFDBS: E_NOTSUP
 * (LIST's flag must agree) and the run goes on in wp. auto means dbm
 * where there is. */
static void log_start(u32 mode)
{
	bool has_dbm = tgt.vm.flags & HVD_VM_DBM;
	struct hvd_log_start req = { .mode = mode }, got;
	int r = call(HVD_LOG_START, cfg.target, &req, sizeof(req), &got, sizeof(got));

	if (r == HVD_E_NOTSUP && mode == HVD_MODE_DBM && !has_dbm) {
		printf("hvdmgr: dbm unavailable, using wp\n");
		req.mode = HVD_MODE_WP;
		r = call(HVD_LOG_START, cfg.target, &req, sizeof(req), &got, sizeof(got));
	}
	if (r != HVD_OK)
		mgr_fail("LOG_START %s: %s (%s)", mode_name(req.mode), hvd_status_name(r),
			 cl.reason);
	tgt.logging = true;
	if (cfg.probes)
		expect("a second LOG_START", HVD_E_BUSY, HVD_LOG_START, cfg.target, &req,
		       sizeof(req));
	if ((got.mode != HVD_MODE_WP && got.mode != HVD_MODE_DBM) ||
	    (got.mode == HVD_MODE_DBM) != (has_dbm && req.mode != HVD_MODE_WP))
		mgr_fail("LOG_START %s: mode %s in effect, dbm %savailable",
			 mode_name(req.mode), mode_name(got.mode), has_dbm ? "" : "un");
	tgt.mode = got.mode;
	printf("hvdmgr: mode %s in effect\n", mode_name(got.mode));
}

/* ------------------------------------------------------------ harvests */

static void mark(u32 slot, u64 offset)
{
	if (!dround_mark(&chk, slot, offset) && total.bad_entries++ == 0)
		printf("hvdmgr: log entry slot %u page %llu is not in the target's RAM\n",
		       slot, (unsigned long long)offset);
}

static void mark_entry(void *arg, const struct hvd_entry *e)
{
	mark(e->slot, e->offset);
	total.harvested++;
}

/* HVD_HARVEST until @more is 0 (with HVD_HARVEST_MAPPED: only what did
 * not fit in the mapped rings). */
static void harvest_socket(u32 flags)
{
	u64 calls = 0;
	bool more;

	do {
		u32 n;
		int r = hvd_harvest(&cl, cfg.target, flags, (u32)cfg.harvest_max, mark_entry,
				    NULL, &n, &more);

		if (r < 0)
			mgr_fail("HARVEST: %s", hvd_why(&cl));
		if (r != HVD_OK)
			mgr_fail("HARVEST: %s (%s)", hvd_status_name(r), cl.reason);
		total.requests_harvest++;
		if (++calls > HARVEST_CALLS_MAX(tgt.npages, cfg.harvest_max))
			mgr_fail("HARVEST still had entries after %llu requests",
				 (unsigned long long)calls);
	} while (more);
}

static volatile struct hvd_entry *ring_entry(u32 ring, u32 idx)
{
	const struct hvd_attach_reply *a = &tgt.at;

	return (volatile struct hvd_entry *)(a->rings_ipa + ring * a->ring_stride) +
	       (idx & (a->ring_entries - 1));
}

/*
 * Each mapped ring, KVM-style, from our index on: an entry whose flags
 * read DIRTY is copied and marked RESET, stopping at the first that is
 * not (entries are published in order). At most a ring's worth a pass.
 */
static void consume_rings(void)
{
	for (u32 ring = 0; ring < tgt.at.nr_rings; ring++) {
		for (u32 n = 0; n < tgt.at.ring_entries; n++) {
			volatile struct hvd_entry *e = ring_entry(ring, tgt.ring_idx[ring]);
			/* Load-acquire: pairs with the store-release of DIRTY in
			 * dirty_ring_push() (mm/dirty_ring.c), so slot and offset
			 * are read after the producer wrote them. */
			u32 flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);

			if (flags != HVD_ENTRY_DIRTY)
				break;
			mark(e->slot, e->offset);
			/* Store-release: our reads of the entry are done before
			 * the resetter (dirty_ring_reset_fetch(), its load-acquire
			 * of RESET) may free and reuse it. */
			__atomic_store_n(&e->flags, HVD_ENTRY_RESET, __ATOMIC_RELEASE);
			tgt.ring_idx[ring]++;
			total.harvested++;
		}
	}
}

/* Through the rings: what they hold; HARVEST_MAPPED for the overflow
 * (and, with DBM, the scan, whose pages land in the VM ring); the rings
 * again for those. */
static void harvest_rings(void)
{
	consume_rings();
	harvest_socket(HVD_HARVEST_MAPPED);
	consume_rings();
}

/* A round's harvest through @via, into D (mark()). */
static void harvest(enum via via)
{
	if (via == VIA_RINGS)
		harvest_rings();
	else
		harvest_socket(0);
}

/* HVD_RESET until 0: every harvested page protected again before we
 * read it. Each request frees at least one entry or answers 0. */
static void reset(void)
{
	u64 budget = total.harvested - total.reset + 2;
	struct hvd_count n;

	do {
		must(HVD_RESET, "RESET", NULL, 0, &n, sizeof(n));
		total.reset += n.count;
		if (!budget--)
			mgr_fail("RESET kept freeing entries: %llu reset, %llu harvested",
				 (unsigned long long)total.reset,
				 (unsigned long long)total.harvested);
	} while (n.count);
}

static void check_entries(void)
{
	if (total.bad_entries)
		mgr_fail("%llu log entries outside the target's RAM",
			 (unsigned long long)total.bad_entries);
}

/* Counter at the previous harvest: a round's rate is over the time
 * since (the time the workload had to dirty pages). */
static u64 last_harvest;

/* One round: D by @via, reset, the check (dirtyround.h). Returns |D|. */
static u64 round_check(enum via via, u64 round, bool exact)
{
	u64 now = rt_timer_count(RT_TIMER_VIRT), d;

	dround_harvest_begin(&chk);
	harvest(via);
	check_entries();
	reset();
	d = dround_check(&chk, round, exact, cfg.demo ? now - last_harvest : 0);
	last_harvest = now;
	return d;
}

/* ------------------------------------------------------------- phases */

/* With the target paused: attach, logging on, the first reading. */
static void phase_begin(enum via via)
{
	printf("hvdmgr: --- harvest through the %s ---\n", via_name[via]);
	attach(via);
	log_start(cfg.mode);
	dround_start(&chk, tgt.view);
	last_harvest = rt_timer_count(RT_TIMER_VIRT);
	if (tgt.paused)
		resume_target();
}

/* `rounds` rounds, every pause_every-th paused; a final exact round
 * once the target has stopped, and no more. */
static void phase_rounds(enum via via)
{
	u64 began = rt_timer_count(RT_TIMER_VIRT), ticks;

	for (u64 round = 1; round <= cfg.rounds; round++) {
		gu_sleep_us(cfg.interval_us);
		if (target_stopped()) {
			round_check(via, round, true);
			total.final_on_stopped = true;
			break;
		}
		if (round % cfg.pause_every) {
			round_check(via, round, false);
			continue;
		}
		pause_target();
		round_check(via, round, true);
		resume_target();
	}
	ticks = rt_timer_count(RT_TIMER_VIRT) - began;
	total.phase_rounds[via] = chk.total.rounds;
	total.phase_exact[via] = chk.total.exact_rounds;
	total.phase_dirty[via] = chk.total.dirty_seen;
	printf("hvdmgr: %s: %llu rounds, %llu exact, in %llu ms: %llu dirty pages/s\n",
	       via_name[via], (unsigned long long)chk.total.rounds,
	       (unsigned long long)chk.total.exact_rounds,
	       (unsigned long long)(rt_ticks_to_us(ticks) / 1000),
	       (unsigned long long)(chk.total.dirty_seen * rt_counter_freq() / ticks));
	dround_print_totals(&chk);
	if (chk.total.lost)
		mgr_fail("%s: %llu page(s) lost", via_name[via],
			 (unsigned long long)chk.total.lost);
	if (!chk.total.dirty_seen)
		mgr_fail("%s: no page was logged dirty: the target did not write (or "
			 "stopped before: raise its writes=)", via_name[via]);
}

/* The target paused: one last exact round, logging off, nothing left
 * to harvest after that, detached. The target stays paused. */
static void phase_end(enum via via)
{
	u64 harvested;

	if (!tgt.paused && !target_stopped())
		pause_target();
	round_check(via, chk.total.rounds + 1, true);
	must(HVD_LOG_STOP, "LOG_STOP", NULL, 0, NULL, 0);
	tgt.logging = false;
	harvested = total.harvested;
	dround_harvest_begin(&chk);
	harvest(via);
	if (total.harvested != harvested)
		mgr_fail("%llu entries logged while the target was paused",
			 (unsigned long long)(total.harvested - harvested));
	must(HVD_DETACH, "DETACH", NULL, 0, NULL, 0);
	tgt.attached = false;
	if (chk.total.lost)
		mgr_fail("%s: %llu page(s) lost", via_name[via],
			 (unsigned long long)chk.total.lost);
}

/* ---------------------------------------------------------- checkpoint */

static u8 *copy;

static void copy_pages(bool all)
{
	for (u64 p = 0; p < tgt.npages; p++)
		if (all || dround_in_d(&chk, p))
			memcpy(copy + (p << PAGE_SHIFT),
			       (const void *)(tgt.view + (p << PAGE_SHIFT)), PAGE_SIZE);
}

static u64 digest_of_copy(u64 off, u64 len)
{
	return hvd_digest_update(HVD_DIGEST_SEED, (const u64 *)(copy + off), len / 8);
}

static u64 digest_of_target(u64 off, u64 len)
{
	struct hvd_digest req = { .ipa = GUEST_RAM_BASE + off, .len = len };
	struct hvd_digest_reply rep;

	must(HVD_DIGEST, "DIGEST", &req, sizeof(req), &rep, sizeof(rep));
	return rep.digest;
}

/* The paused target's RAM against our copy: in pieces, then whole; then
 * a copy with one bit flipped must not pass. */
static void compare_digests(void)
{
	u64 size = tgt.vm.ram_size, bad = 0, first = 0, flip_at;
	u64 whole, d0, flipped;

	for (u64 off = 0; off < size; off += DIGEST_PIECE) {
		u64 len = MIN(DIGEST_PIECE, size - off);

		if (digest_of_target(off, len) != digest_of_copy(off, len) && !bad++)
			first = off;
		total.ckpt_pieces++;
	}
	if (bad)
		mgr_fail("checkpoint: %llu of %llu pieces differ, the first at target IPA "
			 "0x%llx", (unsigned long long)bad,
			 (unsigned long long)total.ckpt_pieces,
			 (unsigned long long)(GUEST_RAM_BASE + first));
	whole = digest_of_target(0, size);
	if (whole != digest_of_copy(0, size))
		mgr_fail("checkpoint: the digest of all the RAM differs");
	/* The check can fail: one bit of the copy's first piece flipped. */
	flip_at = size / 2;
	d0 = digest_of_target(flip_at - flip_at % DIGEST_PIECE, DIGEST_PIECE);
	copy[flip_at] ^= 1;
	flipped = digest_of_copy(flip_at - flip_at % DIGEST_PIECE, DIGEST_PIECE);
	copy[flip_at] ^= 1;
	if (flipped == d0)
		mgr_fail("checkpoint: a copy with a bit flipped has the right digest");
	printf("hvdmgr: checkpoint: digests equal: %llu pieces of %llu KiB, all %llu MiB "
	       "0x%016llx\n", (unsigned long long)total.ckpt_pieces,
	       (unsigned long long)(DIGEST_PIECE >> 10), (unsigned long long)(size >> 20),
	       (unsigned long long)whole);
	printf("hvdmgr: checkpoint: a copy with one bit flipped: 0x%016llx, the target's "
	       "0x%016llx\n", (unsigned long long)flipped, (unsigned long long)d0);
}

/* The paused target's RAM as READ copies it out of the hypervisor,
 * against our copy (made through the view): its first and last
 * HVD_READ_MAX bytes (the last one ends at the end of RAM) and a page in
 * the middle. */
static void compare_reads(void)
{
	static u8 *buf;
	u64 size = tgt.vm.ram_size, bytes = 0;
	const struct { u64 off; u32 len; } ranges[] = {
		{ 0, HVD_READ_MAX },
		{ (size / 2) & ~(PAGE_SIZE - 1), PAGE_SIZE },
		{ size - HVD_READ_MAX, HVD_READ_MAX },
	};

	if (!buf)
		buf = gu_carve(HVD_READ_MAX);
	for (u32 i = 0; i < ARRAY_SIZE(ranges); i++) {
		u64 ipa = GUEST_RAM_BASE + ranges[i].off;
		int r = hvd_read(&cl, cfg.target, ipa, ranges[i].len, buf);

		if (r < 0)
			mgr_fail("READ of 0x%llx (+0x%x): %s", (unsigned long long)ipa,
				 ranges[i].len, hvd_why(&cl));
		if (r != HVD_OK)
			mgr_fail("READ of 0x%llx (+0x%x): %s (%s)", (unsigned long long)ipa,
				 ranges[i].len, hvd_status_name(r), cl.reason);
		for (u32 b = 0; b < ranges[i].len; b++)
			if (buf[b] != copy[ranges[i].off + b])
				mgr_fail("checkpoint: READ of 0x%llx (+0x%x) differs from "
					 "our copy at byte 0x%x: 0x%02x, not 0x%02x",
					 (unsigned long long)ipa, ranges[i].len, b, buf[b],
					 copy[ranges[i].off + b]);
		bytes += ranges[i].len;
	}
	printf("hvdmgr: checkpoint: READ of %u ranges (%llu KiB) equals our copy\n",
	       (u32)ARRAY_SIZE(ranges), (unsigned long long)(bytes >> 10));
}

/*
 * Pre-copy: the whole RAM once, then only D, until D stops shrinking;
 * then the final round paused. A page is copied only after the reset
 * that protects it again, so a later write is in a later D, and a write
 * before it is in the copy.
 */
static void checkpoint(enum via via)
{
	u64 round = chk.total.rounds, prev_d = ~0ULL, d, began;

	printf("hvdmgr: --- checkpoint (harvest through the %s) ---\n", via_name[via]);
	copy = gu_carve(tgt.vm.ram_size);
	began = rt_timer_count(RT_TIMER_VIRT);
	round_check(via, ++round, false);
	copy_pages(true);
	printf("hvdmgr: checkpoint: copied all %llu MiB in %llu ms\n",
	       (unsigned long long)(tgt.vm.ram_size >> 20),
	       (unsigned long long)(rt_ticks_to_us(rt_timer_count(RT_TIMER_VIRT) - began) /
				    1000));
	for (u64 k = 1; k <= cfg.ckpt_rounds; k++) {
		gu_sleep_us(cfg.interval_us);
		d = round_check(via, ++round, false);
		copy_pages(false);
		total.ckpt_precopy++;
		printf("hvdmgr: checkpoint: pre-copy round %llu: %llu dirty pages copied\n",
		       (unsigned long long)k, (unsigned long long)d);
		if (d >= prev_d)
			break;        /* the dirty set stopped shrinking */
		prev_d = d;
	}
	pause_target();
	d = round_check(via, ++round, true);
	copy_pages(false);
	total.ckpt_final_pages = d;
	printf("hvdmgr: checkpoint: final round, target paused: %llu dirty pages copied\n",
	       (unsigned long long)d);
	if (chk.total.lost)
		mgr_fail("checkpoint: %llu page(s) lost", (unsigned long long)chk.total.lost);
	compare_digests();
	compare_reads();
	resume_target();
}

/* Rounds until the target stops (at most wait_s), then one exact one. */
static void tail(enum via via)
{
	u64 deadline = rt_deadline_ms(cfg.wait_s * 1000), round = chk.total.rounds;

	while (!target_stopped()) {
		if (rt_past(deadline))
			mgr_fail("the target did not stop within %llu s",
				 (unsigned long long)cfg.wait_s);
		gu_sleep_us(cfg.tail_us);
		round_check(via, ++round, false);
	}
	round_check(via, ++round, true);
	total.final_on_stopped = true;
	printf("hvdmgr: the target stopped: final round %llu (exact)\n",
	       (unsigned long long)round);
	if (chk.total.lost)
		mgr_fail("%llu page(s) lost", (unsigned long long)chk.total.lost);
}

/* Round trips of requests without a body, timed one by one. */
struct round_trips {
	u64 sum, best;               /* counter ticks */
	unsigned int n;
};

/* @n requests @type (@name) about VM @vm, each answered HVD_OK. */
static struct round_trips time_requests(u16 type, const char *name, u32 vm,
					 unsigned int n)
{
	/* Room for a LIST reply holds a STATS reply too. */
	_Static_assert(sizeof(struct list_reply) >= sizeof(struct hvd_stats),
		       "the reply buffer fits both");
	static struct list_reply reply;
	struct round_trips rt = { .best = ~0ULL, .n = n };

	for (unsigned int i = 0; i < n; i++) {
		u64 t = rt_timer_count(RT_TIMER_VIRT);
		u32 got;
		int r = hvd_call_var(&cl, type, vm, NULL, 0, &reply, sizeof(reply), &got);

		t = rt_timer_count(RT_TIMER_VIRT) - t;
		if (r < 0)
			mgr_fail("%s: %s", name, hvd_why(&cl));
		if (r != HVD_OK)
			mgr_fail("%s: %s (%s)", name, hvd_status_name(r), cl.reason);
		rt.sum += t;
		rt.best = MIN(rt.best, t);
	}
	return rt;
}

/* The round trip of a small request (STATS): average and best. */
static void measure_round_trip(void)
{
	struct round_trips rt = time_requests(HVD_STATS, "STATS", cfg.target, RTT_SAMPLES);

	printf("hvdmgr: round trip of a STATS request: %llu us on average, %llu us at "
	       "best (%u requests)\n", (unsigned long long)rt_ticks_to_us(rt.sum / rt.n),
	       (unsigned long long)rt_ticks_to_us(rt.best), rt.n);
}

static void print_stats(void)
{
	struct hvd_stats st;

	must(HVD_STATS, "STATS", NULL, 0, &st, sizeof(st));
	printf("hvdmgr: stats: mode %llu pages_logged %llu wp_faults %llu spurious %llu "
	       "dbm_scans %llu dbm_pages_dirty %llu\n", (unsigned long long)st.log_mode,
	       (unsigned long long)st.pages_logged, (unsigned long long)st.wp_faults,
	       (unsigned long long)st.spurious_faults, (unsigned long long)st.dbm_scans,
	       (unsigned long long)st.dbm_pages_dirty);
	printf("hvdmgr: stats: ring_full_waits %llu overflow_pages %llu harvested %llu "
	       "reset %llu requests %llu malformed %llu refused %llu\n",
	       (unsigned long long)st.ring_full_waits, (unsigned long long)st.overflow_pages,
	       (unsigned long long)st.harvested, (unsigned long long)st.reset,
	       (unsigned long long)st.requests, (unsigned long long)st.malformed,
	       (unsigned long long)st.refused);
	printf("hvdmgr: %llu entries harvested (%llu HARVEST requests), %llu reset; "
	       "%llu requests, %llu us a round trip on average\n",
	       (unsigned long long)total.harvested,
	       (unsigned long long)total.requests_harvest, (unsigned long long)total.reset,
	       (unsigned long long)cl.calls,
	       (unsigned long long)(cl.calls ? rt_ticks_to_us(cl.call_ticks) / cl.calls : 0));
	printf("hvdmgr: vsock: %llu packets in, %llu out, %llu notifies, %llu credit "
	       "updates sent, %llu waits for credit\n", (unsigned long long)dev.rx_pkts,
	       (unsigned long long)dev.tx_pkts, (unsigned long long)dev.notifies,
	       (unsigned long long)cl.s->credit_updates_sent,
	       (unsigned long long)cl.s->credit_waits);
}

/* ------------------------------------------------------------- echo */

/* The echo stream's byte at offset @x: no two offsets 256 bytes or a
 * packet apart carry the same run, so lost, repeated or reordered
 * packets show. */
static u8 echo_byte(u64 x)
{
	return (u8)(x + (x >> 8) * 7 + (x >> 16) * 13);
}

/* The echo VM boots with us: until it listens, its device (or its
 * driver) refuses; it gets timeout_ms to start. */
static int echo_connect(const struct hvd_vm *peer, struct vsock_sock **s)
{
	u64 deadline = rt_deadline_ms(cfg.timeout_ms);
	int r;

	while ((r = vsock_connect(&dev, peer->vsock_cid, HVDMGR_ECHO_PORT, cfg.timeout_ms,
				  s)) == VSOCK_E_REFUSED && !rt_past(deadline))
		gu_sleep_us(ECHO_RETRY_US);
	return r;
}

/* Takes what came back, checked against what was sent. Returns the
 * count (0 if nothing is there yet). */
static u32 echo_take(struct vsock_sock *s, u64 at, u64 left)
{
	static u8 in[VSOCK_TX_DATA];
	int r;

	if (!vsock_readable(s))
		return 0;
	r = vsock_recv_some(s, in, (u32)MIN(left, (u64)sizeof(in)));
	if (r < 0)
		mgr_fail("echo: receive at byte %llu: %s", (unsigned long long)at,
			 vsock_why(&dev));
	for (int i = 0; i < r; i++) {
		u64 x = at + (u64)i;

		if (in[i] != echo_byte(x))
			mgr_fail("echo: byte %llu came back as 0x%02x, not 0x%02x",
				 (unsigned long long)x, in[i], echo_byte(x));
	}
	return (u32)r;
}

/*
 * Manager side: echo_bytes to the echo VM and back, sending whenever its
 * credit allows and taking back whatever came meanwhile, so that both
 * sides' buffers (64 KiB) fill and credit runs out and is given back
 * both ways. A wait without progress is bounded by timeout_ms.
 */
static void echo_test(const struct hvd_vm *peer)
{
	static u8 out[VSOCK_TX_DATA];
	struct vsock_sock *s;
	u64 began = rt_timer_count(RT_TIMER_VIRT), sent = 0, back = 0, us;
	u64 deadline = rt_deadline_ms(cfg.timeout_ms);
	bool delayed = false;
	int r = echo_connect(peer, &s);

	if (r)
		mgr_fail("echo: connect to VM %u (CID %u): %s", peer->id, peer->vsock_cid,
			 vsock_why(&dev));
	while (back < cfg.echo_bytes) {
		u32 got;

		r = 0;
		if (sent < cfg.echo_bytes) {
			u64 left = cfg.echo_bytes - sent;
			u32 n = left < sizeof(out) ? (u32)left : (u32)sizeof(out);

			for (u32 i = 0; i < n; i++)
				out[i] = echo_byte(sent + i);
			r = vsock_send_some(s, out, n);
			if (r < 0)
				mgr_fail("echo: send at byte %llu: %s", (unsigned long long)sent,
					 vsock_why(&dev));
			sent += (u64)r;
		}
		if (s->stalled && !delayed) {
			gu_sleep_us(ECHO_MGR_DELAY_US);
			delayed = true;
		}
		got = echo_take(s, back, cfg.echo_bytes - back);
		back += got;
		if (r || got) {
			deadline = rt_deadline_ms(cfg.timeout_ms);
		} else if (rt_past(deadline)) {
			mgr_fail("echo: no progress in %llu ms at %llu bytes sent, %llu back",
				 (unsigned long long)cfg.timeout_ms, (unsigned long long)sent,
				 (unsigned long long)back);
		} else {
			vsock_poll(&dev);
			cpu_relax();
		}
	}
	r = vsock_close(s);
	if (r)
		mgr_fail("echo: close: %s", vsock_why(&dev));
	us = rt_ticks_to_us(rt_timer_count(RT_TIMER_VIRT) - began);
	printf("hvdmgr: echo: %llu KiB to VM %u (CID %u) and back in %llu ms; %llu "
	       "stalls for its credit, %llu credit updates sent\n",
	       (unsigned long long)(cfg.echo_bytes >> 10), peer->id, peer->vsock_cid,
	       (unsigned long long)(us / 1000), (unsigned long long)s->credit_waits,
	       (unsigned long long)s->credit_updates_sent);
}

/* role=echo: one connection, every byte back, until the peer shuts down. */
static void run_echo(void)
{
	static u8 buf[VSOCK_TX_DATA];
	struct vsock_sock *s;
	u64 bytes = 0;
	int r = vsock_init(&dev, GUEST_VIRTIO_BASE, cfg.event_idx);

	if (r)
		rt_fail("virtio-vsock: %s", vsock_why(&dev));
	vsock_listen(&dev, HVDMGR_ECHO_PORT);
	printf("hvdmgr: echo: CID %llu listening on port %u\n",
	       (unsigned long long)dev.guest_cid, HVDMGR_ECHO_PORT);
	r = vsock_accept(&dev, ECHO_ACCEPT_MS, DEFAULT_TIMEOUT_MS, &s);
	if (r)
		rt_fail("echo: no connection: %s", vsock_why(&dev));
	gu_sleep_us(ECHO_PEER_DELAY_US);
	while ((r = vsock_recv_some(s, buf, sizeof(buf))) > 0) {
		bytes += (u64)r;
		r = vsock_send(s, buf, (u32)r);
		if (r)
			rt_fail("echo: send: %s", vsock_why(&dev));
	}
	if (r != VSOCK_E_CLOSED)
		rt_fail("echo: receive: %s", vsock_why(&dev));
	printf("hvdmgr: echo: %llu stalls for the peer's credit, %llu credit updates "
	       "sent\n", (unsigned long long)s->credit_waits,
	       (unsigned long long)s->credit_updates_sent);
	vsock_close(s);
	rt_pass_note("echoed %llu bytes for CID %llu", (unsigned long long)bytes,
		     (unsigned long long)s->peer_cid);
}

/* ---------------------------------------------------------- intruder */

/* A connection the hypervisor must refuse. */
static void expect_refused(const char *what, u64 cid, u32 port)
{
	struct vsock_sock *s;
	int r = vsock_connect(&dev, cid, port, cfg.timeout_ms, &s);

	if (r == 0)
		rt_fail("%s (%llu:%u) was accepted", what, (unsigned long long)cid, port);
	if (r != VSOCK_E_REFUSED)
		rt_fail("%s (%llu:%u): %s, expected RST", what, (unsigned long long)cid,
			port, vsock_why(&dev));
	total.refused++;
}

/* role=intruder: nothing about the target, and no data, for us. */
static void run_intruder(void)
{
	struct hvd_digest dg = { .ipa = GUEST_RAM_BASE, .len = PAGE_SIZE };
	struct hvd_log_start ls = { .mode = HVD_MODE_WP };
	struct hvd_attach at = { .flags = HVD_ATTACH_RINGS };
	struct hvd_harvest hv = { .max = HVD_HARVEST_MAX };
	struct hvd_read rd = { .ipa = GUEST_RAM_BASE, .len = HVD_READ_MAX };
	struct hvd_vm vms[SCENARIO_MAX_VMS];
	u32 n;

	start_vsock();
	list_vms(vms, &n);
	if (n)
		rt_fail("LIST names %u VMs to a VM that manages none", n);
	expect("STATS of the target", HVD_E_PERM, HVD_STATS, cfg.target, NULL, 0);
	expect("PAUSE of the target", HVD_E_PERM, HVD_PAUSE, cfg.target, NULL, 0);
	expect("ATTACH of the target", HVD_E_PERM, HVD_ATTACH, cfg.target, &at, sizeof(at));
	expect("LOG_START of the target", HVD_E_PERM, HVD_LOG_START, cfg.target, &ls,
	       sizeof(ls));
	expect("HARVEST of the target", HVD_E_PERM, HVD_HARVEST, cfg.target, &hv,
	       sizeof(hv));
	expect("RESET of the target", HVD_E_PERM, HVD_RESET, cfg.target, NULL, 0);
	expect("DIGEST of the target", HVD_E_PERM, HVD_DIGEST, cfg.target, &dg, sizeof(dg));
	expect("READ of the target", HVD_E_PERM, HVD_READ, cfg.target, &rd, sizeof(rd));
	printf("hvdmgr: intruder: %llu requests about VM %u refused (\"%s\")\n",
	       (unsigned long long)total.refused, cfg.target, cl.reason);
	expect("STATS of VM 2^32 - 1", HVD_E_NOVM, HVD_STATS, ~0u, NULL, 0);
	if (hvd_close(&cl))
		rt_fail("%s", hvd_why(&cl));
	if (cfg.probe_cid)
		expect_refused("a connection to the manager", cfg.probe_cid, HVDMGR_ECHO_PORT);
	expect_refused("a connection to an unserved CID 2 port", HVD_CID, UNUSED_PORT);
	expect_refused("a connection to a CID nobody has", UNUSED_CID, HVD_PORT);
	rt_pass_note("%llu refusals", (unsigned long long)total.refused);
}

/* -------------------------------------------------------------- bench */

/* One (harvest way, mode) of a target over its rounds: entries, counter
 * ticks (instructions) and requests of the harvests and of the resets. */
struct bench_acc {
	u64 rounds, entries, harvest_ticks, reset_ticks, harvest_calls, reset_calls;
};

/* The other target becomes the current one (bench=1 with target2=). */
static void swap_targets(void)
{
	u32 id = cfg.target;
	bool paused = tgt.paused;

	cfg.target = cfg.target2;
	cfg.target2 = id;
	tgt.paused = tgt.target2_paused;
	tgt.target2_paused = paused;
}

/*
 * One round: the writer runs for interval_us (we sleep in WFI), then,
 * paused, so that only this vCPU counts, its log is harvested through
 * @via and reset, each timed.
 */
static void bench_round(enum via via, struct bench_acc *a)
{
	u64 harvested = total.harvested, was_reset = total.reset, calls, t0, t1, t2, n;
	u64 end = rt_timer_count(RT_TIMER_VIRT) + cfg.interval_us * ICOUNT_FREQ / 1000000;

	/* The timer armed for the end of the writing before RESUME: under
	 * QEMU's round-robin icount, RESUME's kick of the writer's vCPU hands
	 * it the host CPU for a slice that lasts to the next timer deadline,
	 * which is then this one, not QEMU's next 100 ms tick (seen: rounds
	 * of up to 33 ms of writing). */
	rt_timer_arm(RT_TIMER_VIRT, end);
	resume_target();
	gu_sleep_us(rt_ticks_to_us(end - MIN(end, rt_timer_count(RT_TIMER_VIRT))));
	pause_target();
	dround_harvest_begin(&chk);
	calls = cl.calls;
	t0 = rt_timer_count(RT_TIMER_VIRT);
	harvest(via);
	t1 = rt_timer_count(RT_TIMER_VIRT);
	a->harvest_calls += cl.calls - calls;
	calls = cl.calls;
	reset();
	t2 = rt_timer_count(RT_TIMER_VIRT);
	a->reset_calls += cl.calls - calls;
	check_entries();
	n = total.harvested - harvested;
	if (!n)
		mgr_fail("bench: a round of VM %u harvested nothing: has it stopped? (raise "
			 "its writes=)", cfg.target);
	if (total.reset - was_reset != n)
		mgr_fail("bench: %llu entries harvested in a round, %llu reset",
			 (unsigned long long)n, (unsigned long long)(total.reset - was_reset));
	a->rounds++;
	a->entries += n;
	a->harvest_ticks += t1 - t0;
	a->reset_ticks += t2 - t1;
}

/* @x / @rounds with one decimal. */
static void print_per_round(const char *what, u64 x, u64 rounds)
{
	u64 tenths = x * 10 / rounds;

	printf("%s%llu.%llu", what, (unsigned long long)(tenths / 10),
	       (unsigned long long)(tenths % 10));
}

static void bench_report(enum via via, const struct bench_acc *a)
{
	char what[64];
	u64 both = a->harvest_ticks + a->reset_ticks, per_s;

	if (!a->entries)     /* every counted round harvests some */
		mgr_fail("bench: no round counted (rounds=0?)");
	snprintf(what, sizeof(what), "%s, %s, %s writer", via_name[via], mode_name(tgt.mode),
		 tgt.vm.name);
	printf("hvdmgr: bench: %s, harvest: %llu instructions per entry\n", what,
	       (unsigned long long)(a->harvest_ticks / a->entries));
	printf("hvdmgr: bench: %s, reset: %llu instructions per entry\n", what,
	       (unsigned long long)(a->reset_ticks / a->entries));
	/* Entries per second of guest time (1 instruction a ns), in
	 * hundredths of a million. */
	per_s = a->entries * (ICOUNT_FREQ / 10000) / both;
	printf("hvdmgr: bench: %s, harvest + reset: %llu instructions per entry, "
	       "%llu.%02llu million entries/s\n", what,
	       (unsigned long long)(both / a->entries), (unsigned long long)(per_s / 100),
	       (unsigned long long)(per_s % 100));
	printf("hvdmgr: bench: %s, rounds: %llu of ", what, (unsigned long long)a->rounds);
	print_per_round("", a->entries, a->rounds);
	print_per_round(" entries, ", a->harvest_calls, a->rounds);
	print_per_round(" harvest and ", a->reset_calls, a->rounds);
	printf(" RESET requests each\n");
}

/* Logging on in @mode, a round not counted (the first after LOG_START
 * finds every page protected or every group disarmed), `rounds`
 * rounds, logging off. The target stays paused. */
static void bench_mode(enum via via, u32 mode)
{
	struct bench_acc a = { 0 };

	log_start(mode);
	bench_round(via, &a);
	a = (struct bench_acc){ 0 };
	for (u64 round = 0; round < cfg.rounds; round++)
		bench_round(via, &a);
	must(HVD_LOG_STOP, "LOG_STOP", NULL, 0, NULL, 0);
	tgt.logging = false;
	bench_report(via, &a);
}

/* Every harvest= way for the current target (paused): wp unless
 * mode=dbm, dbm unless mode=wp or the CPUs lack it. */
static void bench_target(void)
{
	struct hvd_vm peer;

	check_list(&peer);
	dround_init(&chk, NULL, tgt.npages, false);
	for (unsigned int i = 0; i < cfg.nr_via; i++) {
		enum via via = cfg.via[i];

		attach(via);
		if (cfg.mode != HVD_MODE_DBM)
			bench_mode(via, HVD_MODE_WP);
		if (cfg.mode != HVD_MODE_WP && (tgt.vm.flags & HVD_VM_DBM))
			bench_mode(via, HVD_MODE_DBM);
		else if (cfg.mode != HVD_MODE_WP)
			printf("hvdmgr: bench: %s, dbm, %s writer: not available on this "
			       "CPU\n", via_name[via], tgt.vm.name);
		must(HVD_DETACH, "DETACH", NULL, 0, NULL, 0);
		tgt.attached = false;
	}
}

static void bench_round_trips(void)
{
	struct round_trips stats = time_requests(HVD_STATS, "STATS", cfg.target,
						 BENCH_RTT_SAMPLES);
	struct round_trips list = time_requests(HVD_LIST, "LIST", 0, BENCH_RTT_SAMPLES);

	printf("hvdmgr: bench: round trip, STATS: %llu instructions on average, %llu at "
	       "best (%u requests)\n", (unsigned long long)(stats.sum / stats.n),
	       (unsigned long long)stats.best, stats.n);
	printf("hvdmgr: bench: round trip, LIST: %llu instructions on average, %llu at "
	       "best (%u requests)\n", (unsigned long long)(list.sum / list.n),
	       (unsigned long long)list.best, list.n);
}

/* bench=1: every VM we time against held paused throughout but for its
 * own writing; all resumed at the end, logging off, to run out. */
static void run_bench(void)
{
	if (rt_counter_freq() != ICOUNT_FREQ)
		rt_fail("bench: the counter runs at %llu Hz, not 1 GHz: run under "
			"-icount shift=0 on -cpu max (figures would not be instructions)",
			(unsigned long long)rt_counter_freq());
	start_vsock();
	pause_target();
	if (cfg.has_target2) {
		swap_targets();
		pause_target();
		swap_targets();
	}
	bench_round_trips();
	bench_target();
	if (cfg.has_target2) {
		swap_targets();
		bench_target();
		resume_target();
		swap_targets();
	}
	resume_target();
	if (hvd_close(&cl))
		rt_fail("%s", hvd_why(&cl));
	rt_pass_note("bench: %s%s%s, %s", via_name[cfg.via[0]], cfg.nr_via > 1 ? " and " : "",
		     cfg.nr_via > 1 ? via_name[cfg.via[1]] : "",
		     cfg.has_target2 ? "two writers" : "one writer");
}

/* ------------------------------------------------------------ manager */

static void run_manager(void)
{
	struct hvd_vm peer;
	enum via last;

	start_vsock();
	/* The target was started with us: held still while we set up, so
	 * that its writes are spent in the rounds. */
	pause_target();
	check_list(&peer);
	if (cfg.has_peer)
		echo_test(&peer);
	if (cfg.probes)
		check_refusals();
	dround_init(&chk, NULL, tgt.npages, cfg.demo);
	for (unsigned int i = 0; i < cfg.nr_via; i++) {
		phase_begin(cfg.via[i]);
		phase_rounds(cfg.via[i]);
		if (i + 1 < cfg.nr_via)
			phase_end(cfg.via[i]);
	}
	last = cfg.via[cfg.nr_via - 1];
	if (tgt.paused)
		resume_target();
	if (cfg.checkpoint)
		checkpoint(last);
	if (cfg.until_stopped && !total.final_on_stopped)
		tail(last);
	measure_round_trip();
	print_stats();
	phase_end(last);
	if (tgt.paused)
		resume_target();
	if (hvd_close(&cl))
		rt_fail("%s", hvd_why(&cl));
	rt_pass_note("%s%s%s; checkpoint %s", via_name[cfg.via[0]],
		     cfg.nr_via > 1 ? " and " : "", cfg.nr_via > 1 ? via_name[cfg.via[1]] : "",
		     cfg.checkpoint ? "digests equal" : "skipped");
}

void guest_main(void)
{
	parse_args();
	switch (cfg.role) {
	case ROLE_ECHO:
		run_echo();
		break;
	case ROLE_INTRUDER:
		run_intruder();
		break;
	default:
		if (cfg.bench)
			run_bench();
		else
			run_manager();
	}
}
