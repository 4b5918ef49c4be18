/*
 * The dirty-log service (virt/hvdirty_svc.c) over recording fakes of a
 * vsock connection and of virt/manage.h: who may ask about which VM,
 * how each manage_*() error reaches the client, what each request
 * passes down and answers, the service's counters, and what malformed,
 * partial and unframeable input costs the connection.
 */
#include "lib/errno.h"
#include "lib/ratelimit.h"
#include "tests/host/hvd_msg.h"
#include "tests/host/hvdirty_fake.h"
#include "tests/host/test.h"
#include "virt/hvdirty_codec.h"
#include "virt/hvdirty_svc.h"

#define HDR ((u32)sizeof(struct hvd_hdr))

static u8 out_mem[VSOCK_SVC_OUT_BUF + 8] __attribute__((aligned(16)));

/* ------------------------------------------------------------ helpers */

static struct vsock_conn conn;
static void *state;

/* A fresh connection from @peer (its output buffer empty, @cap bytes),
 * with fresh fakes; the previous one is closed. */
static bool connect_cap(unsigned int peer, u32 cap)
{
	fake_reset();
	if (state)
		fake.svc->closed(state);
	state = NULL;
	memset(&conn, 0, sizeof(conn));
	conn.peer = &fake_vms[peer];
	conn.out = out_mem;
	conn.out_cap = cap;
	if (!fake.svc && hvdirty_svc_init())
		return false;
	state = fake.svc->accept(&fake_vms[peer], &conn);
	return state != NULL;
}

static bool connect_from(unsigned int peer)
{
	return connect_cap(peer, VSOCK_SVC_OUT_BUF);
}

static void receive(const void *bytes, u32 len)
{
	memcpy(conn.in + conn.in_len, bytes, len);
	conn.in_len += len;
}

/* The client sends one request (seq: 100 + type); process() runs. */
static void send_req(u16 type, u32 target, const void *body, u32 body_len)
{
	u8 buf[HVD_REQ_MAX];
	u32 len = hvd_msg(buf, type, 100u + type, target, body, body_len);

	receive(buf, len);
	fake.svc->process(state, &conn);
}

/* The client reads everything sent so far. */
static void drain(void)
{
	conn.out_len = 0;
}

static const u8 *reply(u32 nth, struct hvd_hdr *h)
{
	return fake_reply(&conn, nth, h);
}

/* The status of the only reply in the output if it answers @type with
 * the request's seq; 0xbad otherwise. Drains it. */
static u32 status_of(u16 type)
{
	struct hvd_hdr h, next;
	u32 st = 0xbad;

	if (reply(0, &h) && !reply(1, &next) && h.type == (HVD_REPLY | type) &&
	    h.seq == 100u + type && h.version == HVD_VERSION && h.len % HVD_REPLY_ALIGN == 0)
		st = h.arg;
	drain();
	return st;
}

/* The only reply's body, copied to @body (@len bytes at most); its
 * length, or -1 unless it answered @type with HVD_OK. Drains it. */
static int ok_body(u16 type, void *body, u32 len)
{
	struct hvd_hdr h, next;
	const u8 *b = reply(0, &h);
	int n = -1;

	if (b && !reply(1, &next) && h.type == (HVD_REPLY | type) && h.arg == HVD_OK &&
	    h.len % HVD_REPLY_ALIGN == 0) {
		n = (int)(h.len - HDR);
		memcpy(body, b, (u32)n < len ? (u32)n : len);
	}
	drain();
	return n;
}

/* The only reply's reason (an error reply's body). Drains it. */
static const char *reason(void)
{
	static char why[HVD_REASON_MAX + 1];
	struct hvd_hdr h;
	const u8 *b = reply(0, &h);

	why[0] = 0;
	if (b && h.arg != HVD_OK && h.len - HDR <= HVD_REASON_MAX) {
		memcpy(why, b, h.len - HDR);
		why[h.len - HDR] = 0;
	}
	drain();
	return why;
}

/* The service's counters of the connected VM, through STATS about a
 * VM it manages (this request counted too). */
static struct hvd_stats stats(unsigned int about)
{
	struct hvd_stats st;

	memset(&st, 0xff, sizeof(st));
	send_req(HVD_STATS, about, NULL, 0);
	ok_body(HVD_STATS, &st, sizeof(st));
	return st;
}

/* ------------------------------------------------------ authorisation */

TEST(the_service_is_offered_on_its_port)
{
	CHECK(connect_from(MGR));
	CHECK_EQ(fake.svc->port, HVD_PORT);
	CHECK_STREQ(fake.svc->name, "hvdirty");
}

TEST(list_names_only_the_vms_the_caller_manages)
{
	u8 body[sizeof(struct hvd_list_reply) + NR_VMS * sizeof(struct hvd_vm)];
	struct hvd_list_reply *r = (struct hvd_list_reply *)body;

	CHECK(connect_from(MGR));
	fake.holds = MANAGE_HOLDS_PAUSE | MANAGE_HOLDS_ATTACH;
	send_req(HVD_LIST, 0xffffffffu, NULL, 0);   /* the target is ignored */
	CHECK_EQ(ok_body(HVD_LIST, body, sizeof(body)),
		 sizeof(*r) + 2 * sizeof(struct hvd_vm));
	CHECK_EQ(r->count, 2);
	CHECK_EQ(r->reserved, 0);
	CHECK_EQ(r->vm[0].id, WORK);
	CHECK_STREQ(r->vm[0].name, "work");
	CHECK_EQ(r->vm[0].nr_vcpus, 2);
	CHECK_EQ(r->vm[0].ram_ipa, GUEST_RAM_BASE);
	CHECK_EQ(r->vm[0].ram_size, 0x4000000);
	CHECK_EQ(r->vm[0].vsock_cid, 4);
	CHECK_EQ(r->vm[0].flags, HVD_VM_DBM | HVD_VM_ATTACHED | HVD_VM_PAUSED);
	CHECK_EQ(r->vm[0].log_mode, HVD_MODE_DBM);
	CHECK_EQ(r->vm[0].reserved, 0);
	CHECK_EQ(r->vm[1].id, IDLE);
	CHECK_STREQ(r->vm[1].name, "idle-vm-15chars");
	CHECK_EQ(r->vm[1].vsock_cid, 0);
	CHECK_EQ(r->vm[1].flags, 0);
	CHECK_EQ(r->vm[1].log_mode, HVD_MODE_OFF);
	CHECK_EQ(fake.op_calls, 0);
}

TEST(list_flags_a_stopped_vm)
{
	u8 body[sizeof(struct hvd_list_reply) + NR_VMS * sizeof(struct hvd_vm)];
	struct hvd_list_reply *r = (struct hvd_list_reply *)body;

	CHECK(connect_from(OTHER));
	fake.target_stopped = true;
	send_req(HVD_LIST, 0, NULL, 0);
	CHECK_EQ(ok_body(HVD_LIST, body, sizeof(body)), sizeof(*r) + sizeof(struct hvd_vm));
	CHECK_EQ(r->vm[0].id, WORK);
	CHECK_EQ(r->vm[0].flags, HVD_VM_STOPPED | HVD_VM_DBM);
}

TEST(a_vm_that_manages_nobody_lists_nothing)
{
	struct hvd_list_reply r;

	CHECK(connect_from(WORK));
	send_req(HVD_LIST, 0, NULL, 0);
	CHECK_EQ(ok_body(HVD_LIST, &r, sizeof(r)), sizeof(r));
	CHECK_EQ(r.count, 0);
}

/* Every targeted request, with a valid body. */
struct sample {
	u16 type;
	u32 body_len;
	union hvd_req_body body;
};
static const struct sample targeted[] = {
	{ HVD_LOG_START, sizeof(struct hvd_log_start), { .log_start = { HVD_MODE_WP, 0 } } },
	{ HVD_LOG_STOP, 0, { .log_start = { 0, 0 } } },
	{ HVD_ATTACH, sizeof(struct hvd_attach), { .attach = { HVD_ATTACH_RINGS, 0 } } },
	{ HVD_DETACH, 0, { .log_start = { 0, 0 } } },
	{ HVD_HARVEST, sizeof(struct hvd_harvest), { .harvest = { 16, 0 } } },
	{ HVD_RESET, 0, { .log_start = { 0, 0 } } },
	{ HVD_PAUSE, 0, { .log_start = { 0, 0 } } },
	{ HVD_RESUME, 0, { .log_start = { 0, 0 } } },
	{ HVD_DIGEST, sizeof(struct hvd_digest), { .digest = { GUEST_RAM_BASE, 0x1000 } } },
	{ HVD_STATS, 0, { .log_start = { 0, 0 } } },
	{ HVD_READ, sizeof(struct hvd_read), { .read = { GUEST_RAM_BASE, 0x1000 } } },
};
#define NR_TARGETED (sizeof(targeted) / sizeof(targeted[0]))

TEST(a_request_about_a_vm_it_does_not_manage_gets_perm_and_no_data)
{
	static const unsigned int not_mine[] = { MGR, OTHER };

	CHECK(connect_from(MGR));
	for (size_t i = 0; i < NR_TARGETED; i++) {
		for (size_t j = 0; j < 2; j++) {
			struct hvd_hdr h;

			send_req(targeted[i].type, not_mine[j], &targeted[i].body,
				 targeted[i].body_len);
			CHECK(reply(0, &h));
			CHECK(h.len <= HDR + HVD_REASON_MAX);   /* a reason, nothing else */
			CHECK_EQ(status_of(targeted[i].type), HVD_E_PERM);
		}
	}
	CHECK_EQ(fake.op_calls, 0);
}

TEST(a_request_about_a_vm_that_does_not_exist_gets_novm)
{
	CHECK(connect_from(MGR));
	for (size_t i = 0; i < NR_TARGETED; i++) {
		send_req(targeted[i].type, NR_VMS, &targeted[i].body, targeted[i].body_len);
		CHECK_EQ(status_of(targeted[i].type), HVD_E_NOVM);
		send_req(targeted[i].type, 0xffffffffu, &targeted[i].body, targeted[i].body_len);
		CHECK_EQ(status_of(targeted[i].type), HVD_E_NOVM);
	}
	CHECK_EQ(fake.op_calls, 0);
}

TEST(refusals_say_why)
{
	CHECK(connect_from(MGR));
	send_req(HVD_PAUSE, OTHER, NULL, 0);
	CHECK_STREQ(reason(), "this VM does not manage it");
	send_req(HVD_PAUSE, 99, NULL, 0);
	CHECK_STREQ(reason(), "no such VM");
}

TEST(requests_about_a_managed_vm_reach_manage_as_hvdirty_calls)
{
	CHECK(connect_from(MGR));
	for (size_t i = 0; i < NR_TARGETED; i++) {
		u32 before = fake.op_calls;

		send_req(targeted[i].type, WORK, &targeted[i].body, targeted[i].body_len);
		CHECK_EQ(status_of(targeted[i].type), HVD_OK);
		if (targeted[i].type == HVD_STATS)
			continue;   /* reads the engine's counters, no manage call */
		CHECK(fake.op_calls > before);
		CHECK(fake.last.caller == &fake_vms[MGR]);
		CHECK(fake.last.target == &fake_vms[WORK]);
		CHECK_STREQ(fake.last.via, "hvdirty");
		CHECK_STREQ(fake.last.op, hvd_type_name(targeted[i].type));
	}
	CHECK_EQ(fake.unauthorised, 0);
}

/* ------------------------------------------------------ error mapping */

struct mapping {
	u16 type;
	int err;
	u32 status;
	const char *why;
};
static const struct mapping mappings[] = {
	{ HVD_LOG_START, -EBUSY, HVD_E_BUSY, "logging is already on" },
	{ HVD_LOG_START, -EOPNOTSUPP, HVD_E_NOTSUP, "dbm: the CPUs lack FEAT_HAFDBS dirty state" },
	{ HVD_LOG_START, -ENOMEM, HVD_E_NOMEM, "out of memory" },
	{ HVD_LOG_STOP, -EALREADY, HVD_E_STATE, "logging is off" },
	{ HVD_ATTACH, -EBUSY, HVD_E_BUSY,
	  "already attached, or its rings are mapped elsewhere" },
	{ HVD_ATTACH, -ENOMEM, HVD_E_NOMEM, "no free window or memory for it" },
	{ HVD_ATTACH, -EINVAL, HVD_E_INVAL, "mapping it failed" },
	{ HVD_ATTACH, -ENOSPC, HVD_E_NOMEM, "out of memory" },
	{ HVD_ATTACH, -EPERM, HVD_E_PERM, "this VM does not manage it" },
	{ HVD_DETACH, -EALREADY, HVD_E_STATE, "not attached" },
	{ HVD_HARVEST, -EBUSY, HVD_E_BUSY,
	  "HVD_HARVEST_MAPPED does not match where its rings are" },
	{ HVD_PAUSE, -EBUSY, HVD_E_BUSY, "already paused by this VM" },
	{ HVD_PAUSE, -EPERM, HVD_E_PERM, "it manages VMs itself" },
	{ HVD_RESUME, -EALREADY, HVD_E_STATE, "not paused by this VM" },
	{ HVD_DIGEST, -EINVAL, HVD_E_INVAL, "the range is not inside its RAM" },
	{ HVD_DIGEST, -EIO, HVD_E_INVAL, "refused" },
	{ HVD_READ, -EINVAL, HVD_E_INVAL, "the range is not inside its RAM" },
	{ HVD_READ, -EPERM, HVD_E_PERM, "this VM does not manage it" },
	{ HVD_READ, -EIO, HVD_E_INVAL, "refused" },
};

static const struct sample *sample_of(u16 type)
{
	for (size_t i = 0; i < NR_TARGETED; i++)
		if (targeted[i].type == type)
			return &targeted[i];
	return NULL;
}

TEST(manage_errors_map_to_statuses_and_reasons)
{
	CHECK(connect_from(MGR));
	for (size_t i = 0; i < sizeof(mappings) / sizeof(mappings[0]); i++) {
		const struct mapping *m = &mappings[i];
		const struct sample *s = sample_of(m->type);
		struct hvd_hdr h;

		fake.ret = m->err;
		send_req(m->type, WORK, &s->body, s->body_len);
		CHECK(reply(0, &h));
		CHECK_EQ(h.type, HVD_REPLY | m->type);
		CHECK_EQ(h.arg, m->status);
		CHECK_STREQ(reason(), m->why);
	}
}

TEST(refused_requests_are_counted)
{
	struct hvd_stats a, b;

	CHECK(connect_from(MGR));
	a = stats(WORK);
	send_req(HVD_PAUSE, OTHER, NULL, 0);
	drain();
	fake.ret = -EBUSY;
	send_req(HVD_PAUSE, WORK, NULL, 0);
	drain();
	fake.ret = 0;
	b = stats(WORK);
	CHECK_EQ(b.requests - a.requests, 3);
	CHECK_EQ(b.refused - a.refused, 2);
	CHECK_EQ(b.malformed - a.malformed, 0);
}

/* ------------------------------------------------ what requests carry */

TEST(log_start_passes_the_mode_and_answers_the_one_in_effect)
{
	struct hvd_log_start b = { HVD_MODE_AUTO, 0 }, r;

	CHECK(connect_from(MGR));
	send_req(HVD_LOG_START, WORK, &b, sizeof(b));
	CHECK_EQ(ok_body(HVD_LOG_START, &r, sizeof(r)), sizeof(r));
	CHECK_EQ(fake.mode, DIRTY_MODE_AUTO);
	CHECK_EQ(r.mode, HVD_MODE_WP);
	CHECK_EQ(r.reserved, 0);
}

TEST(attach_lets_the_hypervisor_pick_and_names_the_windows)
{
	struct hvd_attach b = { HVD_ATTACH_RINGS, 0 };
	struct hvd_attach_reply r;

	CHECK(connect_from(MGR));
	send_req(HVD_ATTACH, WORK, &b, sizeof(b));
	CHECK_EQ(ok_body(HVD_ATTACH, &r, sizeof(r)), sizeof(r));
	CHECK_EQ(fake.mem_ipa, 0);
	CHECK_EQ(fake.attach_flags, MANAGE_ATTACH_RINGS);
	CHECK_EQ(r.mem_ipa, 0x100000000ull);
	CHECK_EQ(r.mem_size, 0x4000000);
	CHECK_EQ(r.rings_ipa, 0x140000000ull);
	CHECK_EQ(r.nr_rings, 3);
	CHECK_EQ(r.ring_entries, DIRTY_RING_ENTRIES);
	CHECK_EQ(r.ring_stride, DIRTY_RING_ENTRIES * 16);
	CHECK_EQ(r.start_index[0], 100);
	CHECK_EQ(r.start_index[2], 102);
	CHECK_EQ(r.start_index[3], 0);

	b.flags = 0;
	send_req(HVD_ATTACH, WORK, &b, sizeof(b));
	CHECK_EQ(ok_body(HVD_ATTACH, &r, sizeof(r)), sizeof(r));
	CHECK_EQ(fake.attach_flags, 0);
	CHECK_EQ(r.rings_ipa, 0);
	CHECK_EQ(r.nr_rings, 0);
}

static u8 harvest_body[HVD_REPLY_MAX];

/* Harvests up to @max entries (flags @flags) of WORK; the reply's
 * count, or -1 if it was not OK. */
static int harvest(u32 max, u32 flags)
{
	struct hvd_harvest b = { max, flags };
	int n;

	send_req(HVD_HARVEST, WORK, &b, sizeof(b));
	n = ok_body(HVD_HARVEST, harvest_body, sizeof(harvest_body));
	if (n < (int)sizeof(struct hvd_harvest_reply))
		return -1;
	return (int)((struct hvd_harvest_reply *)harvest_body)->count;
}

static const struct hvd_harvest_reply *harvested(void)
{
	return (const struct hvd_harvest_reply *)harvest_body;
}

TEST(harvest_fills_the_reply_across_chunks_and_says_when_more_are_left)
{
	CHECK(connect_from(MGR));
	fake.harvest_left = 5000;
	fake.harvest_chunk = 1000;
	CHECK_EQ(harvest(HVD_HARVEST_MAX, 0), HVD_HARVEST_MAX);
	CHECK_EQ(harvested()->more, 1);
	CHECK_EQ(fake.harvest_calls, 5);
	CHECK_EQ(fake.mapped, false);
	for (u32 i = 1; i < HVD_HARVEST_MAX; i++) {
		CHECK_EQ(harvested()->entry[i].flags, HVD_ENTRY_DIRTY);
		CHECK_EQ(harvested()->entry[i].offset, harvested()->entry[0].offset + i);
	}
	CHECK_EQ(harvest(HVD_HARVEST_MAX, HVD_HARVEST_MAPPED), 5000 - HVD_HARVEST_MAX);
	CHECK_EQ(harvested()->more, 0);
	CHECK_EQ(fake.mapped, true);
	CHECK_EQ(harvest(1, 0), 0);
	CHECK_EQ(harvested()->more, 0);
}

TEST(harvest_answers_an_error_only_when_it_took_nothing)
{
	struct hvd_harvest b = { 64, HVD_HARVEST_MAPPED };

	CHECK(connect_from(MGR));
	fake.ret = -EBUSY;
	send_req(HVD_HARVEST, WORK, &b, sizeof(b));
	CHECK_EQ(status_of(HVD_HARVEST), HVD_E_BUSY);

	/* Entries taken are the client's: a later failure still hands
	 * them over, with more set. */
	CHECK(connect_from(MGR));
	fake.ret = -EBUSY;
	fake.harvest_err_at = 2;
	fake.harvest_left = 100;
	fake.harvest_chunk = 10;
	CHECK_EQ(harvest(64, 0), 10);
	CHECK_EQ(harvested()->more, 1);
}

TEST(reset_answers_the_count)
{
	struct hvd_count r;

	CHECK(connect_from(MGR));
	send_req(HVD_RESET, WORK, NULL, 0);
	CHECK_EQ(ok_body(HVD_RESET, &r, sizeof(r)), sizeof(r));
	CHECK_EQ(r.count, 77);
	CHECK_EQ(r.reserved, 0);
}

TEST(digest_passes_the_range_and_answers_the_digest)
{
	struct hvd_digest b = { GUEST_RAM_BASE + 0x3000, 0x5000 };
	struct hvd_digest_reply r;

	CHECK(connect_from(MGR));
	send_req(HVD_DIGEST, WORK, &b, sizeof(b));
	CHECK_EQ(ok_body(HVD_DIGEST, &r, sizeof(r)), sizeof(r));
	CHECK_EQ(fake.ipa, GUEST_RAM_BASE + 0x3000);
	CHECK_EQ(fake.len, 0x5000);
	CHECK_EQ(r.digest, 0x0123456789abcdefull);
}

static u8 read_body[HVD_READ_MAX + HVD_REPLY_ALIGN];

/* Whether read_body's first @len bytes are the fake's RAM at @ipa. */
static bool read_body_is_ram(u64 ipa, u32 len)
{
	for (u32 off = 0; off < len; off += sizeof(u64)) {
		u64 w;

		memcpy(&w, read_body + off, sizeof(w));
		if (w != fake_ram_word(ipa + off))
			return false;
	}
	return true;
}

TEST(read_passes_the_range_and_answers_its_bytes)
{
	struct hvd_read b = { GUEST_RAM_BASE + 0x7000, 0x3000 };
	struct hvd_hdr h;

	CHECK(connect_from(MGR));
	send_req(HVD_READ, WORK, &b, sizeof(b));
	CHECK(reply(0, &h));
	CHECK_EQ(h.len, HDR + 0x3000);
	CHECK_EQ(ok_body(HVD_READ, read_body, sizeof(read_body)), 0x3000);
	CHECK_EQ(fake.ipa, GUEST_RAM_BASE + 0x7000);
	CHECK_EQ(fake.len, 0x3000);
	CHECK(read_body_is_ram(GUEST_RAM_BASE + 0x7000, 0x3000));
	CHECK_EQ(fake.commit_overrun, 0);
}

TEST(read_of_64_KiB_is_one_reply_within_the_largest)
{
	struct hvd_read b = { GUEST_RAM_BASE + 0x100000, HVD_READ_MAX };
	struct hvd_hdr h;

	CHECK(connect_from(MGR));
	send_req(HVD_READ, WORK, &b, sizeof(b));
	CHECK(reply(0, &h));
	CHECK_EQ(h.len, HDR + HVD_READ_MAX);
	CHECK(h.len <= HVD_REPLY_MAX);
	CHECK_EQ(conn.out_len, h.len);
	CHECK_EQ(ok_body(HVD_READ, read_body, sizeof(read_body)), HVD_READ_MAX);
	CHECK(read_body_is_ram(GUEST_RAM_BASE + 0x100000, HVD_READ_MAX));
}

TEST(a_refused_read_answers_a_reason_and_no_bytes)
{
	struct hvd_read b = { GUEST_RAM_BASE, HVD_READ_MAX };
	struct hvd_hdr h;

	CHECK(connect_from(MGR));
	fake.ret = -EINVAL;
	send_req(HVD_READ, WORK, &b, sizeof(b));
	CHECK(reply(0, &h));
	CHECK(h.len <= HDR + HVD_REASON_MAX);
	CHECK_EQ(conn.out_len, h.len);
	CHECK_EQ(status_of(HVD_READ), HVD_E_INVAL);
	CHECK_EQ(fake.op_calls, 1);
}

TEST(a_malformed_read_reaches_no_manage_call)
{
	static const struct hvd_read bad[] = {
		{ GUEST_RAM_BASE, HVD_READ_MAX + 0x1000 },
		{ GUEST_RAM_BASE + 8, 0x1000 },
		{ GUEST_RAM_BASE, 0 },
		{ 0xfffffffffffff000ull, 0x1000 },
	};

	CHECK(connect_from(MGR));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		send_req(HVD_READ, WORK, &bad[i], sizeof(bad[i]));
		CHECK_EQ(status_of(HVD_READ), HVD_E_MALFORMED);
	}
	CHECK_EQ(fake.op_calls, 0);
	CHECK(!conn.closed);
}

/* 128 KiB of output holds one 64 KiB READ reply and then has less room
 * than the largest reply: the next waits for the client to read. */
TEST(a_second_64_KiB_read_waits_until_the_first_is_read)
{
	struct hvd_read b = { GUEST_RAM_BASE, HVD_READ_MAX };
	u8 buf[2 * HVD_REQ_MAX];
	u32 len = hvd_msg(buf, HVD_READ, 100 + HVD_READ, WORK, &b, sizeof(b));
	struct hvd_hdr h;

	CHECK(connect_from(MGR));
	b.ipa += HVD_READ_MAX;
	hvd_msg(buf + len, HVD_READ, 100 + HVD_READ, WORK, &b, sizeof(b));
	receive(buf, 2 * len);
	fake.svc->process(state, &conn);
	CHECK_EQ(conn.in_pos, len);
	CHECK(reply(0, &h) && !reply(1, &h));
	CHECK_EQ(ok_body(HVD_READ, read_body, sizeof(read_body)), HVD_READ_MAX);
	CHECK(read_body_is_ram(GUEST_RAM_BASE, HVD_READ_MAX));
	fake.svc->process(state, &conn);
	CHECK_EQ(conn.in_pos, 2 * len);
	CHECK_EQ(ok_body(HVD_READ, read_body, sizeof(read_body)), HVD_READ_MAX);
	CHECK(read_body_is_ram(GUEST_RAM_BASE + HVD_READ_MAX, HVD_READ_MAX));
	CHECK_EQ(fake.commit_overrun, 0);
}

TEST(stats_are_the_engines_then_the_callers_counters)
{
	struct hvd_stats st;

	CHECK(connect_from(MGR));
	st = stats(WORK);
	CHECK_EQ(st.log_mode, 1000);
	CHECK_EQ(st.reset, 1012);
	CHECK(st.requests >= 1);
}

/* --------------------------------------------------- the connection */

TEST(a_malformed_request_is_answered_counted_and_the_connection_goes_on)
{
	struct hvd_log_start bad = { 7, 0 };
	struct hvd_stats a, b;

	CHECK(connect_from(MGR));
	a = stats(WORK);
	send_req(HVD_LOG_START, WORK, &bad, sizeof(bad));
	CHECK_EQ(status_of(HVD_LOG_START), HVD_E_MALFORMED);
	send_req(0x66, WORK, NULL, 0);
	CHECK_EQ(status_of(0x66), HVD_E_TYPE);
	CHECK_EQ(fake.op_calls, 0);
	CHECK(!conn.closed);
	b = stats(WORK);
	CHECK_EQ(b.requests - a.requests, 3);
	CHECK_EQ(b.malformed - a.malformed, 2);
	CHECK_EQ(b.refused - a.refused, 0);
	CHECK_EQ(fake.refuse_calls, 2);
	CHECK_STREQ(fake.refused, "hvdirty: VM 'mgr' unknown: malformed request "
		    "(unknown request type), 2 on this connection");
}

TEST(another_version_is_answered_in_the_services)
{
	u8 buf[HDR];
	struct hvd_hdr h;
	u32 len = hvd_msg_hdr(buf, HDR, HVD_VERSION + 1, HVD_LIST, 9, 0);

	CHECK(connect_from(MGR));
	receive(buf, len);
	fake.svc->process(state, &conn);
	CHECK(reply(0, &h));
	CHECK_EQ(h.arg, HVD_E_VERSION);
	CHECK_EQ(h.version, HVD_VERSION);
	CHECK_EQ(h.type, HVD_REPLY | HVD_LIST);
	CHECK_EQ(h.seq, 9);
	CHECK(!conn.closed);
}

/* Each is handed to manage_refuse(), which keeps the log's rate limit
 * per caller (lib/ratelimit.h, tests/host/test_ratelimit.c). */
TEST(every_malformed_request_is_counted_and_refused)
{
	u8 buf[HVD_REQ_MAX];
	u32 len = hvd_msg(buf, 0x99, 1, 0, NULL, 0);

	CHECK(connect_from(MGR));
	for (u32 i = 0; i < 2 * LOG_EVERY; i++) {
		receive(buf, len);
		fake.svc->process(state, &conn);
		conn.in_len = conn.in_pos = 0;
		drain();
	}
	CHECK_EQ(fake.refuse_calls, 2 * LOG_EVERY);
}

TEST(an_unframeable_request_is_answered_then_the_connection_closed)
{
	u8 buf[HVD_REQ_MAX];
	struct hvd_hdr h;
	const u8 *why;

	CHECK(connect_from(MGR));
	hvd_msg_hdr(buf, HVD_REQ_MAX + 1, HVD_VERSION, HVD_LIST, 5, 0);
	receive(buf, sizeof(buf));
	fake.svc->process(state, &conn);
	why = reply(0, &h);
	CHECK(why);
	CHECK(!reply(1, &h));
	reply(0, &h);
	CHECK_EQ(h.type, HVD_REPLY);
	CHECK_EQ(h.seq, 0);
	CHECK_EQ(h.arg, HVD_E_MALFORMED);
	CHECK_STREQ((const char *)why, "length is above HVD_REQ_MAX (64)");
	CHECK(conn.closed);

	/* Nothing more is read or answered on it. */
	drain();
	send_req(HVD_LIST, 0, NULL, 0);
	CHECK_EQ(conn.out_len, 0);
}

TEST(a_partial_request_waits_for_its_last_byte)
{
	u8 buf[HVD_REQ_MAX];
	struct hvd_digest b = { GUEST_RAM_BASE, 0x1000 };
	u32 len = hvd_msg(buf, HVD_DIGEST, 100 + HVD_DIGEST, WORK, &b, sizeof(b));

	CHECK(connect_from(MGR));
	for (u32 i = 0; i < len - 1; i++) {
		receive(buf + i, 1);
		fake.svc->process(state, &conn);
		CHECK_EQ(conn.in_pos, 0);
		CHECK_EQ(conn.out_len, 0);
	}
	receive(buf + len - 1, 1);
	fake.svc->process(state, &conn);
	CHECK_EQ(conn.in_pos, len);
	CHECK_EQ(status_of(HVD_DIGEST), HVD_OK);
}

TEST(back_to_back_requests_are_answered_in_order_in_one_process)
{
	u8 buf[HVD_REQ_MAX];
	struct hvd_hdr h;

	CHECK(connect_from(MGR));
	for (unsigned int t = HVD_LOG_STOP; t <= HVD_READ; t++) {
		const struct sample *s = sample_of((u16)t);
		u32 len = hvd_msg(buf, (u16)t, t, WORK, &s->body, s->body_len);

		receive(buf, len);
	}
	fake.svc->process(state, &conn);
	CHECK_EQ(conn.in_pos, conn.in_len);
	for (unsigned int t = HVD_LOG_STOP; t <= HVD_READ; t++) {
		CHECK(reply(t - HVD_LOG_STOP, &h));
		CHECK_EQ(h.type, HVD_REPLY | t);
		CHECK_EQ(h.seq, t);
		CHECK_EQ(h.arg, HVD_OK);
	}
}

TEST(a_request_waits_until_the_largest_reply_fits)
{
	u8 buf[HVD_REQ_MAX];
	u32 len = hvd_msg(buf, HVD_STATS, 100 + HVD_STATS, WORK, NULL, 0);

	CHECK(connect_cap(MGR, HVD_REPLY_MAX + 8));
	conn.out_len = 16;   /* a reply not yet sent: the room is 8 short */
	receive(buf, len);
	fake.svc->process(state, &conn);
	CHECK_EQ(conn.in_pos, 0);
	CHECK_EQ(conn.out_len, 16);
	conn.out_len = 8;    /* 8 bytes went out: now it fits */
	fake.svc->process(state, &conn);
	CHECK_EQ(conn.in_pos, len);
	CHECK_EQ(conn.out_len, 8 + HDR + sizeof(struct hvd_stats));
	CHECK_EQ(fake.commit_overrun, 0);
	CHECK_EQ(fake.consume_overrun, 0);
}

TEST(a_misaligned_output_buffer_closes_the_connection_unread)
{
	CHECK(connect_from(MGR));
	conn.out = out_mem + 4;
	send_req(HVD_LIST, 0, NULL, 0);
	CHECK(conn.closed);
	CHECK_EQ(conn.in_pos, 0);
	CHECK_EQ(conn.out_len, 0);
	conn.out = out_mem;
}

TEST(connections_are_refused_when_every_slot_is_taken_and_freed_on_close)
{
	static struct vsock_conn extra[SCENARIO_MAX_VMS * VSOCK_SVC_MAX_CONNS];
	void *st[SCENARIO_MAX_VMS * VSOCK_SVC_MAX_CONNS];
	u32 n = 0;

	CHECK(connect_from(MGR));   /* holds one slot */
	while (n < sizeof(st) / sizeof(st[0]) &&
	       (st[n] = fake.svc->accept(&fake_vms[OTHER], &extra[n])))
		n++;
	CHECK_EQ(n, sizeof(st) / sizeof(st[0]) - 1);
	CHECK(fake.svc->accept(&fake_vms[OTHER], &extra[n]) == NULL);
	fake.svc->closed(st[0]);
	st[0] = fake.svc->accept(&fake_vms[OTHER], &extra[0]);
	CHECK(st[0] != NULL);
	for (u32 i = 0; i < n; i++)
		fake.svc->closed(st[i]);
}
