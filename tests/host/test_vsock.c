/*
 * Tests of the vsock device (virt/vsock.c) on the test bench of
 * tests/host/vsock_harness.h: real transport and walker, model drivers
 * that behave as Linux 6.1's virtio_vsock (RX buffers of a header and
 * 4 KiB, REQUEST with buf_alloc/fwd_cnt, SHUTDOWN then wait for RST),
 * and a fake echo/sink service on CID 2.
 *
 * Covered: the device as a driver sees it; connect, RESPONSE, RST for
 * closed ports, refused connections and unknown CIDs; credit both ways
 * (never beyond the guest's, RST when the guest exceeds ours, updates
 * and requests); shutdown in Linux's order and the service's close;
 * the connection table; bad headers of every kind; RSTs owed while the
 * RX queue is empty; forwarding between VMs that may talk, refused
 * otherwise, split over RX buffers, with RX-full backpressure and a
 * receiver that resets or stops meanwhile; work left for a VM's own
 * vCPU; resets and stops freeing everything; guest-to-guest streams
 * whose other end's device goes away (stop, restart, driver reset,
 * breakage) reset once each, in RX buffers as they come, after a pause,
 * before a new stream on the same ports, not once closed (RST, full
 * shutdown), and a full table that leaves new streams untracked.
 */
#include <stdlib.h>

#include "lib/errno.h"
#include "lib/ratelimit.h"
#include "tests/host/test.h"
#include "tests/host/vsock_harness.h"
#include "virt/virtio_mmio.h"

#define HDR_LEN ((u32)sizeof(struct virtio_vsock_hdr))
#define GUEST_BUF (256u * 1024)     /* Linux's default buf_alloc */
#define QSIZE 32
#define ALL3 7u                     /* VMs 0, 1, 2 have devices */
#define PORT 1234u
#define BOTH (VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND)

/* VM 0 manages VM 1; VM 2 is unrelated. */
static const u32 manages[HV_MAX_VMS] = { 1u << 1, 0, 0, 0 };

static struct virtio_vsock_hdr pkt(unsigned int from, u32 src_port, u64 dst_cid,
				   u32 dst_port, u16 op, u32 len)
{
	return (struct virtio_vsock_hdr){
		.src_cid = HV_CID(from), .dst_cid = dst_cid, .src_port = src_port,
		.dst_port = dst_port, .len = len, .type = VIRTIO_VSOCK_TYPE_STREAM,
		.op = op, .buf_alloc = GUEST_BUF,
	};
}

static void send_op(unsigned int vm, u32 port, u64 cid, u32 svc, u16 op, u32 flags)
{
	struct virtio_vsock_hdr h = pkt(vm, port, cid, svc, op, 0);

	h.flags = flags;
	hv_send(vm, &h, NULL);
}

static void send_rw(unsigned int vm, u32 port, u64 cid, u32 svc, const void *data,
		    u32 len)
{
	struct virtio_vsock_hdr h = pkt(vm, port, cid, svc, VIRTIO_VSOCK_OP_RW, len);

	hv_send(vm, &h, data);
}

/* The next packet VM @vm received (its used RX buffers reaped and
 * refilled, as Linux's RX work does). */
static bool next(unsigned int vm, struct hv_pkt *p)
{
	hv_reap_rx(vm, true);
	return hv_rx_take(vm, p);
}

/* The next packet is @op from (@cid, @port) to VM @vm's @guest_port. */
static bool next_is(unsigned int vm, u16 op, u64 cid, u32 port, u32 guest_port)
{
	struct hv_pkt p;
	bool ok;

	if (!next(vm, &p))
		return false;
	ok = p.hdr.op == op && p.hdr.src_cid == cid && p.hdr.src_port == port &&
	     p.hdr.dst_cid == HV_CID(vm) && p.hdr.dst_port == guest_port &&
	     p.hdr.type == VIRTIO_VSOCK_TYPE_STREAM && p.used_len == HDR_LEN + p.hdr.len;
	hv_pkt_free(&p);
	return ok;
}

static bool nothing_more(unsigned int vm)
{
	hv_reap_rx(vm, true);
	return hv_rx_count(vm) == 0;
}

/* Linux's connect(): REQUEST, then the RESPONSE. */
static bool connect(unsigned int vm, u32 port, u32 svc)
{
	send_op(vm, port, VSOCK_HOST_CID, svc, VIRTIO_VSOCK_OP_REQUEST, 0);
	return next_is(vm, VIRTIO_VSOCK_OP_RESPONSE, VSOCK_HOST_CID, svc, port);
}

static void fresh(u32 devices)
{
	hv_init(3, devices, manages, QSIZE);
	for (unsigned int i = 0; i < 3; i++)
		if ((devices >> i) & 1)
			hv_post_rx(i, QSIZE / 2, NULL);
}

/* ------------------------------------------------------------ device */

TEST(config_space_is_the_guest_cid)
{
	fresh(ALL3);
	CHECK_EQ(hv_config_cid(1), HV_CID(1));
	CHECK_EQ(hv_reg(1, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_VSOCK);
	CHECK_EQ(hv_reg(1, VIRTIO_MMIO_CONFIG + 8), 0);   /* beyond it: zero */
	CHECK(hv_teardown());
}

TEST(offers_no_seqpacket)
{
	fresh(ALL3);
	hv_reg_write(0, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	CHECK_EQ(hv_reg(0, VIRTIO_MMIO_DEVICE_FEATURES) & ~(1u << VIRTIO_F_RING_EVENT_IDX), 0);
	hv_reg_write(0, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	CHECK_EQ(hv_reg(0, VIRTIO_MMIO_DEVICE_FEATURES), 1u << (VIRTIO_F_VERSION_1 - 32));
	CHECK(hv_log_count("vsock: driver ready, CID 3") == 1);
	CHECK(hv_teardown());
}

TEST(create_refuses_a_reserved_cid)
{
	struct vm_config cfg = { .name = "bad", .vsock_cid = VSOCK_HOST_CID };
	struct vm vm = { .cfg = &cfg, .name = "bad", .id = 3 };

	fresh(ALL3);
	CHECK_EQ(vsock_create(&vm, 0), (u64)-EINVAL);
	cfg.vsock_cid = HV_CID(1);   /* VM 1's */
	CHECK_EQ(vsock_create(&vm, 0), (u64)-EINVAL);
	CHECK(hv_teardown());
}

/* ------------------------------------------------------ CID 2 basics */

TEST(request_to_a_service_is_answered_with_response)
{
	struct hv_pkt p;

	fresh(ALL3);
	send_op(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO, VIRTIO_VSOCK_OP_REQUEST, 0);
	CHECK(next(0, &p));
	CHECK_EQ(p.hdr.op, VIRTIO_VSOCK_OP_RESPONSE);
	CHECK_EQ(p.hdr.src_cid, VSOCK_HOST_CID);
	CHECK_EQ(p.hdr.src_port, HV_PORT_ECHO);
	CHECK_EQ(p.hdr.dst_cid, HV_CID(0));
	CHECK_EQ(p.hdr.dst_port, PORT);
	CHECK_EQ(p.hdr.len, 0);
	CHECK_EQ(p.hdr.buf_alloc, VSOCK_SVC_IN_BUF);
	CHECK_EQ(p.hdr.fwd_cnt, 0);
	CHECK_EQ(hv_svc.accepts, 1);
	CHECK_EQ(hv_reap_tx(0), 1);           /* the TX chain came back */
	CHECK(hv_irqs(0) > 0);
	CHECK(hv_teardown());
}

TEST(request_to_a_closed_port_is_reset)
{
	fresh(ALL3);
	send_op(0, PORT, VSOCK_HOST_CID, 9999, VIRTIO_VSOCK_OP_REQUEST, 0);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RST, VSOCK_HOST_CID, 9999, PORT));
	CHECK_EQ(hv_svc.accepts, 0);
	CHECK(hv_teardown());
}

TEST(refused_connection_is_reset_and_frees_everything)
{
	fresh(ALL3);
	hv_policy.refuse = true;
	send_op(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO, VIRTIO_VSOCK_OP_REQUEST, 0);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RST, VSOCK_HOST_CID, HV_PORT_ECHO, PORT));
	hv_policy.refuse = false;
	CHECK(connect(0, PORT, HV_PORT_ECHO));   /* the port is free again */
	CHECK(hv_teardown());
}

TEST(packet_for_no_connection_is_reset)
{
	fresh(ALL3);
	send_rw(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO, "x", 1);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RST, VSOCK_HOST_CID, HV_PORT_ECHO, PORT));
	send_op(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO, VIRTIO_VSOCK_OP_SHUTDOWN, BOTH);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RST, VSOCK_HOST_CID, HV_PORT_ECHO, PORT));
	CHECK(hv_teardown());
}

TEST(rst_is_never_answered)
{
	fresh(ALL3);
	send_op(0, PORT, VSOCK_HOST_CID, 9999, VIRTIO_VSOCK_OP_RST, 0);
	send_op(0, PORT, 77, 9999, VIRTIO_VSOCK_OP_RST, 0);
	CHECK(nothing_more(0));
	CHECK_EQ(hv_reap_tx(0), 2);
	CHECK(hv_teardown());
}

TEST(data_is_served_and_echoed)
{
	struct hv_pkt p;

	fresh(ALL3);
	CHECK(connect(0, PORT, HV_PORT_ECHO));
	send_rw(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO, "hello", 5);
	CHECK(next(0, &p));
	CHECK_EQ(p.hdr.op, VIRTIO_VSOCK_OP_RW);
	CHECK_EQ(p.hdr.len, 5);
	CHECK(p.data && !memcmp(p.data, "hello", 5));
	/* The reply carries the credit the request freed: no update. */
	CHECK_EQ(p.hdr.fwd_cnt, 5);
	hv_pkt_free(&p);
	CHECK(nothing_more(0));
	CHECK(hv_teardown());
}

/* ------------------------------------------------------------ credit */

TEST(never_sends_beyond_the_guests_credit)
{
	u8 data[100], got[100];
	struct virtio_vsock_hdr h = pkt(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO,
					VIRTIO_VSOCK_OP_REQUEST, 0);
	struct hv_pkt p;
	u32 n = 0;

	for (unsigned int i = 0; i < sizeof(data); i++)
		data[i] = (u8)i;
	fresh(ALL3);
	h.buf_alloc = 10;
	hv_send(0, &h, NULL);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RESPONSE, VSOCK_HOST_CID, HV_PORT_ECHO, PORT));
	h = pkt(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO, VIRTIO_VSOCK_OP_RW, sizeof(data));
	h.buf_alloc = 10;
	hv_send(0, &h, data);
	while (n < sizeof(data)) {
		CHECK(next(0, &p));
		CHECK_EQ(p.hdr.op, VIRTIO_VSOCK_OP_RW);
		CHECK(p.hdr.len <= 10);
		memcpy(got + n, p.data, p.hdr.len);
		n += p.hdr.len;
		hv_pkt_free(&p);
		CHECK(nothing_more(0));            /* nothing beyond the credit */
		/* The guest reads it all and says so. */
		h = pkt(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO,
			VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0);
		h.buf_alloc = 10;
		h.fwd_cnt = n;
		hv_send(0, &h, NULL);
	}
	CHECK(!memcmp(got, data, sizeof(data)));
	CHECK(hv_teardown());
}

TEST(a_fwd_cnt_ahead_of_what_was_sent_gives_no_credit)
{
	struct virtio_vsock_hdr h;

	fresh(ALL3);
	CHECK(connect(0, PORT, HV_PORT_ECHO));
	h = pkt(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO, VIRTIO_VSOCK_OP_RW, 3);
	h.buf_alloc = 100;
	h.fwd_cnt = 1000;
	hv_send(0, &h, "abc");
	/* Read, so its credit is told; the echo itself stays here. */
	CHECK(next_is(0, VIRTIO_VSOCK_OP_CREDIT_UPDATE, VSOCK_HOST_CID, HV_PORT_ECHO, PORT));
	CHECK(nothing_more(0));
	CHECK(hv_teardown());
}

TEST(data_beyond_our_credit_resets_the_connection)
{
	static u8 data[VSOCK_SVC_IN_BUF];

	fresh(ALL3);
	CHECK(connect(0, PORT, HV_PORT_SINK));  /* reads nothing */
	send_rw(0, PORT, VSOCK_HOST_CID, HV_PORT_SINK, data, sizeof(data));
	CHECK(nothing_more(0));
	send_rw(0, PORT, VSOCK_HOST_CID, HV_PORT_SINK, "!", 1);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RST, VSOCK_HOST_CID, HV_PORT_SINK, PORT));
	CHECK_EQ(hv_svc.closes, 1);
	CHECK_EQ(hv_log_count("beyond the credit"), 1);
	CHECK(hv_teardown());
}

TEST(consuming_without_reply_sends_a_credit_update)
{
	static u8 data[VSOCK_SVC_IN_BUF];
	struct hv_pkt p;

	fresh(ALL3);
	hv_policy.no_echo = true;
	CHECK(connect(0, PORT, HV_PORT_ECHO));
	send_rw(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO, data, sizeof(data));
	CHECK(next(0, &p));
	CHECK_EQ(p.hdr.op, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	CHECK_EQ(p.hdr.fwd_cnt, sizeof(data));
	CHECK_EQ(p.hdr.buf_alloc, VSOCK_SVC_IN_BUF);
	hv_pkt_free(&p);
	CHECK(hv_teardown());
}

TEST(credit_request_is_answered_with_an_update)
{
	struct hv_pkt p;

	fresh(ALL3);
	CHECK(connect(0, PORT, HV_PORT_SINK));
	send_rw(0, PORT, VSOCK_HOST_CID, HV_PORT_SINK, "abc", 3);
	send_op(0, PORT, VSOCK_HOST_CID, HV_PORT_SINK, VIRTIO_VSOCK_OP_CREDIT_REQUEST, 0);
	CHECK(next(0, &p));
	CHECK_EQ(p.hdr.op, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	CHECK_EQ(p.hdr.fwd_cnt, 0);                /* the sink read nothing */
	hv_pkt_free(&p);
	CHECK(hv_teardown());
}

TEST(reserve_stays_aligned_when_sends_are_not)
{
	struct virtio_vsock_hdr h = pkt(0, PORT, VSOCK_HOST_CID, HV_PORT_SINK,
					VIRTIO_VSOCK_OP_REQUEST, 0);
	struct hv_pkt p;
	u32 got = 0;

	fresh(ALL3);
	hv_policy.consume_max = 1;
	hv_policy.write_len = 64;
	h.buf_alloc = 13;                          /* odd pieces */
	hv_send(0, &h, NULL);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RESPONSE, VSOCK_HOST_CID, HV_PORT_SINK, PORT));
	for (unsigned int round = 0; round < 20; round++) {
		h = pkt(0, PORT, VSOCK_HOST_CID, HV_PORT_SINK, VIRTIO_VSOCK_OP_RW, 1);
		h.buf_alloc = 13;
		h.fwd_cnt = got;
		hv_send(0, &h, "r");
		while (next(0, &p)) {
			for (u32 k = 0; k < p.hdr.len; k++)
				CHECK_EQ(p.data[k], (u8)(got + k));
			got += p.hdr.len;
			hv_pkt_free(&p);
		}
	}
	CHECK(got > 0);
	CHECK(!hv_svc.misaligned);
	CHECK(hv_teardown());
}

/* ---------------------------------------------------------- shutdown */

TEST(linux_close_shutdown_both_is_answered_with_rst)
{
	fresh(ALL3);
	CHECK(connect(0, PORT, HV_PORT_ECHO));
	send_op(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO, VIRTIO_VSOCK_OP_SHUTDOWN, BOTH);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RST, VSOCK_HOST_CID, HV_PORT_ECHO, PORT));
	CHECK_EQ(hv_svc.closes, 1);
	CHECK(connect(0, PORT, HV_PORT_ECHO));     /* the tuple is free again */
	CHECK(hv_teardown());
}

TEST(shutdown_in_two_steps_resets_after_the_second)
{
	fresh(ALL3);
	CHECK(connect(0, PORT, HV_PORT_ECHO));
	send_op(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO, VIRTIO_VSOCK_OP_SHUTDOWN,
		VIRTIO_VSOCK_SHUTDOWN_SEND);
	CHECK(nothing_more(0));
	CHECK_EQ(hv_svc.closes, 0);
	send_op(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO, VIRTIO_VSOCK_OP_SHUTDOWN,
		VIRTIO_VSOCK_SHUTDOWN_RCV);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RST, VSOCK_HOST_CID, HV_PORT_ECHO, PORT));
	CHECK_EQ(hv_svc.closes, 1);
	CHECK(hv_teardown());
}

TEST(data_after_shutdown_send_resets)
{
	fresh(ALL3);
	CHECK(connect(0, PORT, HV_PORT_ECHO));
	send_op(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO, VIRTIO_VSOCK_OP_SHUTDOWN,
		VIRTIO_VSOCK_SHUTDOWN_SEND);
	send_rw(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO, "late", 4);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RST, VSOCK_HOST_CID, HV_PORT_ECHO, PORT));
	CHECK_EQ(hv_log_count("after its SHUTDOWN(SEND)"), 1);
	CHECK(hv_teardown());
}

TEST(service_close_sends_data_then_shutdown_and_guest_rst_ends_it)
{
	struct hv_pkt p;

	fresh(ALL3);
	hv_policy.close_in_process = true;
	CHECK(connect(0, PORT, HV_PORT_ECHO));
	send_rw(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO, "bye", 3);
	CHECK(next(0, &p));
	CHECK_EQ(p.hdr.op, VIRTIO_VSOCK_OP_RW);
	CHECK(p.data && !memcmp(p.data, "bye", 3));
	hv_pkt_free(&p);
	CHECK(next(0, &p));
	CHECK_EQ(p.hdr.op, VIRTIO_VSOCK_OP_SHUTDOWN);
	CHECK_EQ(p.hdr.flags, BOTH);
	hv_pkt_free(&p);
	CHECK_EQ(hv_svc.closes, 0);                /* until the guest's RST */
	send_rw(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO, "more", 4);   /* dropped */
	CHECK(nothing_more(0));
	CHECK_EQ(hv_svc.bytes_read, 3);
	send_op(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO, VIRTIO_VSOCK_OP_RST, 0);
	CHECK(nothing_more(0));
	CHECK_EQ(hv_svc.closes, 1);
	CHECK(hv_teardown());
}

TEST(shutdown_waits_for_the_data_before_it)
{
	static u8 data[300];
	struct virtio_vsock_hdr h = pkt(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO,
					VIRTIO_VSOCK_OP_REQUEST, 0);
	struct hv_pkt p;

	fresh(ALL3);
	hv_policy.close_in_process = true;
	h.buf_alloc = 100;
	hv_send(0, &h, NULL);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RESPONSE, VSOCK_HOST_CID, HV_PORT_ECHO, PORT));
	h = pkt(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO, VIRTIO_VSOCK_OP_RW, sizeof(data));
	h.buf_alloc = 100;
	hv_send(0, &h, data);
	CHECK(next(0, &p));
	CHECK_EQ(p.hdr.op, VIRTIO_VSOCK_OP_RW);
	CHECK_EQ(p.hdr.len, 100);
	hv_pkt_free(&p);
	CHECK(nothing_more(0));                    /* 200 bytes still owed */
	h = pkt(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0);
	h.buf_alloc = 1000;
	h.fwd_cnt = 100;
	hv_send(0, &h, NULL);
	CHECK(next(0, &p));
	CHECK_EQ(p.hdr.op, VIRTIO_VSOCK_OP_RW);
	CHECK_EQ(p.hdr.len, 200);
	hv_pkt_free(&p);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_SHUTDOWN, VSOCK_HOST_CID, HV_PORT_ECHO, PORT));
	CHECK(hv_teardown());
}

/* ------------------------------------------------- connection table */

TEST(a_fifth_connection_is_reset)
{
	fresh(ALL3);
	for (u32 k = 0; k < VSOCK_SVC_MAX_CONNS; k++)
		CHECK(connect(0, PORT + k, HV_PORT_ECHO));
	send_op(0, PORT + 9, VSOCK_HOST_CID, HV_PORT_ECHO, VIRTIO_VSOCK_OP_REQUEST, 0);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RST, VSOCK_HOST_CID, HV_PORT_ECHO, PORT + 9));
	CHECK_EQ(hv_log_count("too many connections"), 1);
	CHECK(connect(1, PORT, HV_PORT_ECHO));     /* per VM: VM 1 has room */
	CHECK(hv_teardown());
}

TEST(a_closing_connection_gives_its_slot_up)
{
	fresh(ALL3);
	hv_policy.close_in_process = true;
	for (u32 k = 0; k < VSOCK_SVC_MAX_CONNS; k++) {
		CHECK(connect(0, PORT + k, HV_PORT_ECHO));
		send_rw(0, PORT + k, VSOCK_HOST_CID, HV_PORT_ECHO, "q", 1);
		CHECK(next_is(0, VIRTIO_VSOCK_OP_RW, VSOCK_HOST_CID, HV_PORT_ECHO, PORT + k));
		CHECK(next_is(0, VIRTIO_VSOCK_OP_SHUTDOWN, VSOCK_HOST_CID, HV_PORT_ECHO,
			      PORT + k));
	}
	/* The guest never sends its RSTs: the new REQUEST gets a slot. */
	send_op(0, PORT + 9, VSOCK_HOST_CID, HV_PORT_ECHO, VIRTIO_VSOCK_OP_REQUEST, 0);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RST, VSOCK_HOST_CID, HV_PORT_ECHO,
		      PORT + VSOCK_SVC_MAX_CONNS - 1));
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RESPONSE, VSOCK_HOST_CID, HV_PORT_ECHO, PORT + 9));
	CHECK_EQ(hv_svc.closes, 1);
	CHECK(hv_teardown());
}

TEST(request_on_an_open_connection_resets_it)
{
	fresh(ALL3);
	CHECK(connect(0, PORT, HV_PORT_ECHO));
	send_op(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO, VIRTIO_VSOCK_OP_REQUEST, 0);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RST, VSOCK_HOST_CID, HV_PORT_ECHO, PORT));
	CHECK_EQ(hv_svc.closes, 1);
	CHECK(hv_teardown());
}

TEST(reset_during_process_closes_once_it_returns)
{
	fresh(ALL3);
	CHECK(connect(0, PORT, HV_PORT_ECHO));
	hv_policy.reset_in_process = true;
	send_rw(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO, "abc", 3);
	CHECK_EQ(hv_svc.closes, 1);
	CHECK(!hv_svc.closed_while_busy);
	CHECK(hv_status(0) == 0);
	hv_policy.reset_in_process = false;
	CHECK_EQ(hv_setup(0, true) & VIRTIO_STATUS_DRIVER_OK, VIRTIO_STATUS_DRIVER_OK);
	hv_post_rx(0, 4, NULL);
	CHECK(connect(0, PORT, HV_PORT_ECHO));
	CHECK(hv_teardown());
}

TEST(device_reset_ends_every_connection)
{
	fresh(ALL3);
	CHECK(connect(0, PORT, HV_PORT_ECHO));
	CHECK(connect(0, PORT + 1, HV_PORT_SINK));
	send_rw(0, PORT + 1, VSOCK_HOST_CID, HV_PORT_SINK, "zz", 2);
	hv_reset(0);
	CHECK_EQ(hv_svc.closes, 2);
	CHECK_EQ(hv_setup(0, true) & VIRTIO_STATUS_DRIVER_OK, VIRTIO_STATUS_DRIVER_OK);
	hv_post_rx(0, 4, NULL);
	CHECK(connect(0, PORT, HV_PORT_ECHO));
	CHECK(hv_teardown());
}

TEST(vm_stop_ends_its_connections_and_resets_packets_to_it)
{
	fresh(ALL3);
	CHECK(connect(1, PORT, HV_PORT_ECHO));
	vsock_vm_stopped(hv_vm(1));
	CHECK_EQ(hv_svc.closes, 1);
	CHECK_EQ(hv_log_count("VM 'vm1' vsock: 1 packets"), 1);
	/* VM 0 manages VM 1, but VM 1 is gone. */
	send_op(0, PORT, HV_CID(1), 80, VIRTIO_VSOCK_OP_REQUEST, 0);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RST, HV_CID(1), 80, PORT));
	CHECK(hv_teardown());
}

TEST(vm_restart_resets_its_device)
{
	fresh(ALL3);
	CHECK(connect(1, PORT, HV_PORT_ECHO));
	vsock_vm_reset(hv_vm(1));
	CHECK_EQ(hv_svc.closes, 1);
	CHECK_EQ(hv_status(1), 0);
	send_op(0, PORT, HV_CID(1), 80, VIRTIO_VSOCK_OP_REQUEST, 0);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RST, HV_CID(1), 80, PORT));
	CHECK(hv_teardown());
}

/* ----------------------------------------------------- RSTs owed */

TEST(rst_waits_for_an_rx_buffer)
{
	hv_init(3, ALL3, manages, QSIZE);      /* no RX buffers */
	send_op(0, PORT, VSOCK_HOST_CID, 9999, VIRTIO_VSOCK_OP_REQUEST, 0);
	CHECK_EQ(hv_reap_tx(0), 1);            /* taken: its RST is owed */
	CHECK_EQ(hv_rx_count(0), 0);
	hv_post_rx(0, 1, NULL);
	hv_notify(0, VSOCK_VQ_RX);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RST, VSOCK_HOST_CID, 9999, PORT));
	CHECK(hv_teardown());
}

TEST(full_rst_queue_holds_the_tx_queue)
{
	const unsigned int n = 24;
	unsigned int got = 0;
	struct hv_pkt p;

	hv_init(3, ALL3, manages, QSIZE);
	for (unsigned int k = 0; k < n; k++) {
		struct virtio_vsock_hdr h = pkt(0, PORT + k, VSOCK_HOST_CID, 9999,
						VIRTIO_VSOCK_OP_REQUEST, 0);

		CHECK(hv_queue_tx(0, &h, HDR_LEN, NULL));
	}
	hv_notify(0, VSOCK_VQ_TX);
	CHECK(hv_reap_tx(0) < n);              /* some wait for RX buffers */
	hv_post_rx(0, QSIZE / 2, NULL);
	hv_notify(0, VSOCK_VQ_RX);
	while (next(0, &p)) {
		CHECK_EQ(p.hdr.op, VIRTIO_VSOCK_OP_RST);
		CHECK_EQ(p.hdr.dst_port, PORT + got);   /* in order */
		got++;
		hv_pkt_free(&p);
	}
	CHECK_EQ(got, n);
	CHECK(hv_teardown());
}

TEST(response_goes_out_before_data_when_rx_comes_late)
{
	struct virtio_vsock_hdr h[2] = {
		pkt(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO, VIRTIO_VSOCK_OP_REQUEST, 0),
		pkt(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO, VIRTIO_VSOCK_OP_RW, 2),
	};
	u8 rw[HDR_LEN + 2];

	hv_init(3, ALL3, manages, QSIZE);
	memcpy(rw, &h[1], HDR_LEN);
	rw[HDR_LEN] = 'h';
	rw[HDR_LEN + 1] = 'i';
	CHECK(hv_queue_tx(0, &h[0], HDR_LEN, NULL));
	CHECK(hv_queue_tx(0, rw, sizeof(rw), NULL));
	hv_notify(0, VSOCK_VQ_TX);
	hv_post_rx(0, 4, NULL);
	hv_notify(0, VSOCK_VQ_RX);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RESPONSE, VSOCK_HOST_CID, HV_PORT_ECHO, PORT));
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RW, VSOCK_HOST_CID, HV_PORT_ECHO, PORT));
	CHECK(hv_teardown());
}

/* ------------------------------------------------------ bad packets */

static bool bad_is_reset(struct virtio_vsock_hdr h, const char *log)
{
	u8 buf[HDR_LEN + 8] = { 0 };
	u32 len = HDR_LEN + (h.op == VIRTIO_VSOCK_OP_RW ? 8 : 0);
	unsigned int logged = hv_log_count(log);

	memcpy(buf, &h, HDR_LEN);
	if (!hv_queue_tx(0, buf, len, NULL))
		return false;
	hv_notify(0, VSOCK_VQ_TX);
	return next_is(0, VIRTIO_VSOCK_OP_RST, h.dst_cid, h.dst_port, h.src_port) &&
	       hv_log_count(log) == logged + 1 && nothing_more(0);
}

TEST(bad_type_is_reset)
{
	struct virtio_vsock_hdr h = pkt(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO,
					VIRTIO_VSOCK_OP_REQUEST, 0);

	fresh(ALL3);
	h.type = 2;                                /* SEQPACKET, not offered */
	CHECK(bad_is_reset(h, "not a stream packet"));
	CHECK_EQ(hv_svc.accepts, 0);
	CHECK(hv_teardown());
}

TEST(unknown_ops_are_reset)
{
	struct virtio_vsock_hdr h = pkt(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO, 0, 0);

	fresh(ALL3);
	CHECK(bad_is_reset(h, "unknown op"));
	h.op = 8;
	h.src_port++;
	CHECK(bad_is_reset(h, "unknown op"));
	CHECK(hv_teardown());
}

TEST(len_that_is_not_the_payload_is_reset)
{
	struct virtio_vsock_hdr h = pkt(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO,
					VIRTIO_VSOCK_OP_RW, 9);   /* 8 follow */

	fresh(ALL3);
	CHECK(bad_is_reset(h, "len is not the payload"));
	CHECK(hv_teardown());
}

TEST(payload_on_a_control_packet_is_reset)
{
	struct virtio_vsock_hdr h = pkt(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO,
					VIRTIO_VSOCK_OP_REQUEST, 4);
	u8 buf[HDR_LEN + 4] = { 0 };

	fresh(ALL3);
	memcpy(buf, &h, HDR_LEN);
	CHECK(hv_queue_tx(0, buf, sizeof(buf), NULL));
	hv_notify(0, VSOCK_VQ_TX);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RST, VSOCK_HOST_CID, HV_PORT_ECHO, PORT));
	CHECK_EQ(hv_log_count("payload on a packet"), 1);
	CHECK_EQ(hv_svc.accepts, 0);
	CHECK(hv_teardown());
}

TEST(payload_over_64k_is_reset)
{
	static u8 buf[HDR_LEN + 65537];
	struct virtio_vsock_hdr h = pkt(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO,
					VIRTIO_VSOCK_OP_RW, 65537);
	struct hv_layout l = { .out = { HDR_LEN, 40000, 25537 }, .nr_out = 3 };

	fresh(ALL3);
	memcpy(buf, &h, HDR_LEN);
	CHECK(hv_queue_tx(0, buf, sizeof(buf), &l));
	hv_notify(0, VSOCK_VQ_TX);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RST, VSOCK_HOST_CID, HV_PORT_ECHO, PORT));
	CHECK_EQ(hv_log_count("larger than 64 KiB"), 1);
	CHECK(hv_teardown());
}

TEST(spoofed_source_cid_is_reset_to_the_real_one)
{
	struct virtio_vsock_hdr h = pkt(0, PORT, HV_CID(1), 80, VIRTIO_VSOCK_OP_REQUEST, 0);
	struct hv_pkt p;

	fresh(ALL3);
	h.src_cid = HV_CID(2);                     /* pretends to be VM 2 */
	hv_send(0, &h, NULL);
	CHECK(next(0, &p));
	CHECK_EQ(p.hdr.op, VIRTIO_VSOCK_OP_RST);
	CHECK_EQ(p.hdr.dst_cid, HV_CID(0));
	hv_pkt_free(&p);
	CHECK_EQ(hv_log_count("source CID is not its own"), 1);
	CHECK(nothing_more(1) && nothing_more(2));
	CHECK(hv_teardown());
}

TEST(packet_shorter_than_a_header_is_dropped)
{
	u8 buf[20] = { 0 };

	fresh(ALL3);
	CHECK(hv_queue_tx(0, buf, sizeof(buf), NULL));
	hv_notify(0, VSOCK_VQ_TX);
	CHECK(nothing_more(0));
	CHECK_EQ(hv_reap_tx(0), 1);
	CHECK_EQ(hv_log_count("shorter than its header"), 1);
	CHECK(hv_teardown());
}

TEST(bad_packet_on_an_open_connection_ends_it)
{
	struct virtio_vsock_hdr h = pkt(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO,
					VIRTIO_VSOCK_OP_RW, 5);

	fresh(ALL3);
	CHECK(connect(0, PORT, HV_PORT_ECHO));
	h.type = 3;
	CHECK(bad_is_reset(h, "not a stream packet"));
	CHECK_EQ(hv_svc.closes, 1);
	CHECK(hv_teardown());
}

TEST(header_split_over_descriptors_is_read_whole)
{
	struct virtio_vsock_hdr h = pkt(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO,
					VIRTIO_VSOCK_OP_RW, 4);
	struct hv_layout l = { .out = { 7, 30, 9, 2 }, .nr_out = 4 };
	u8 buf[HDR_LEN + 4];
	struct hv_pkt p;

	fresh(ALL3);
	CHECK(connect(0, PORT, HV_PORT_ECHO));
	memcpy(buf, &h, HDR_LEN);
	memcpy(buf + HDR_LEN, (const u8[]){ 'p', 'i', 'n', 'g' }, 4);
	CHECK(hv_queue_tx(0, buf, sizeof(buf), &l));
	hv_notify(0, VSOCK_VQ_TX);
	CHECK(next(0, &p));
	CHECK_EQ(p.hdr.op, VIRTIO_VSOCK_OP_RW);
	CHECK(p.data && !memcmp(p.data, "ping", 4));
	hv_pkt_free(&p);
	CHECK(hv_teardown());
}

TEST(rx_buffer_without_payload_room_breaks_the_device)
{
	struct hv_layout tiny = { .in = { HDR_LEN }, .nr_in = 1 };

	hv_init(3, ALL3, manages, QSIZE);
	hv_post_rx(0, 1, &tiny);
	send_op(0, PORT, VSOCK_HOST_CID, 9999, VIRTIO_VSOCK_OP_REQUEST, 0);
	CHECK(hv_status(0) & VIRTIO_STATUS_NEEDS_RESET);
	CHECK_EQ(hv_log_count("smaller than a header and one byte"), 1);
	/* The driver resets it and it works again. */
	CHECK_EQ(hv_setup(0, false) & VIRTIO_STATUS_NEEDS_RESET, 0);
	hv_post_rx(0, 2, NULL);
	CHECK(connect(0, PORT, HV_PORT_ECHO));
	CHECK(hv_teardown());
}

TEST(bad_packets_are_logged_within_a_budget)
{
	struct virtio_vsock_hdr h = pkt(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO, 0, 0);
	struct hv_pkt p;

	fresh(ALL3);
	for (unsigned int k = 0; k < 30; k++) {
		hv_send(0, &h, NULL);
		while (next(0, &p))
			hv_pkt_free(&p);
	}
	CHECK(hv_log_count("unknown op") <= 8);
	CHECK_EQ(hv_log_count("no more of these are logged"), 1);
	vsock_vm_stopped(hv_vm(0));
	CHECK_EQ(hv_log_count("30 bad packets"), 1);
	CHECK(hv_teardown());
}

/* ------------------------------------------------------- forwarding */

TEST(vms_that_may_talk_connect_and_exchange_data)
{
	struct hv_pkt p;

	fresh(ALL3);
	/* VM 1 (managed by VM 0) connects to VM 0's port 5000. */
	send_op(1, PORT, HV_CID(0), 5000, VIRTIO_VSOCK_OP_REQUEST, 0);
	CHECK(next(0, &p));
	CHECK_EQ(p.hdr.op, VIRTIO_VSOCK_OP_REQUEST);
	CHECK_EQ(p.hdr.src_cid, HV_CID(1));
	CHECK_EQ(p.hdr.src_port, PORT);
	CHECK_EQ(p.hdr.dst_port, 5000);
	CHECK_EQ(p.hdr.buf_alloc, GUEST_BUF);
	hv_pkt_free(&p);
	send_op(0, 5000, HV_CID(1), PORT, VIRTIO_VSOCK_OP_RESPONSE, 0);
	CHECK(next_is(1, VIRTIO_VSOCK_OP_RESPONSE, HV_CID(0), 5000, PORT));
	send_rw(0, 5000, HV_CID(1), PORT, "from0", 5);
	CHECK(next(1, &p));
	CHECK_EQ(p.hdr.op, VIRTIO_VSOCK_OP_RW);
	CHECK(p.data && !memcmp(p.data, "from0", 5));
	hv_pkt_free(&p);
	CHECK(nothing_more(2));
	CHECK(hv_teardown());
}

TEST(vms_that_may_not_talk_get_rst)
{
	fresh(ALL3);
	send_op(2, PORT, HV_CID(0), 5000, VIRTIO_VSOCK_OP_REQUEST, 0);
	CHECK(next_is(2, VIRTIO_VSOCK_OP_RST, HV_CID(0), 5000, PORT));
	send_op(0, PORT, HV_CID(2), 5000, VIRTIO_VSOCK_OP_REQUEST, 0);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RST, HV_CID(2), 5000, PORT));
	CHECK(nothing_more(0) && nothing_more(2));
	CHECK(hv_teardown());
}

TEST(unknown_cids_and_its_own_get_rst)
{
	fresh(ALL3);
	send_op(0, PORT, 42, 5000, VIRTIO_VSOCK_OP_REQUEST, 0);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RST, 42, 5000, PORT));
	send_op(0, PORT, HV_CID(0), 5000, VIRTIO_VSOCK_OP_REQUEST, 0);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RST, HV_CID(0), 5000, PORT));
	CHECK(hv_teardown());
}

TEST(vm_without_a_ready_driver_gets_nothing)
{
	fresh(ALL3);
	hv_reset(1);
	send_op(0, PORT, HV_CID(1), 5000, VIRTIO_VSOCK_OP_REQUEST, 0);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RST, HV_CID(1), 5000, PORT));
	CHECK(hv_teardown());
}

/* Reads what VM @vm received from @from as one stream into @buf. */
static u32 gather(unsigned int vm, u8 *buf, u32 cap)
{
	struct hv_pkt p;
	u32 n = 0;

	while (hv_rx_take(vm, &p)) {
		if (p.hdr.op == VIRTIO_VSOCK_OP_RW && n + p.hdr.len <= cap) {
			memcpy(buf + n, p.data, p.hdr.len);
			n += p.hdr.len;
		}
		hv_pkt_free(&p);
	}
	return n;
}

TEST(large_packet_is_split_over_rx_buffers)
{
	static u8 data[10000], got[10000];
	struct hv_pkt p;
	u32 lens[3], k = 0;

	for (unsigned int i = 0; i < sizeof(data); i++)
		data[i] = (u8)(i * 7);
	fresh(ALL3);
	send_rw(0, 5000, HV_CID(1), PORT, data, sizeof(data));
	hv_reap_rx(1, true);
	while (k < 3 && hv_rx_take(1, &p)) {
		CHECK_EQ(p.hdr.src_cid, HV_CID(0));
		CHECK_EQ(p.hdr.src_port, 5000);
		CHECK_EQ(p.hdr.dst_port, PORT);
		CHECK_EQ(p.hdr.buf_alloc, GUEST_BUF);
		memcpy(got + (k ? lens[0] + (k > 1 ? lens[1] : 0) : 0), p.data, p.hdr.len);
		lens[k++] = p.hdr.len;
		hv_pkt_free(&p);
	}
	CHECK_EQ(k, 3);
	CHECK_EQ(lens[0], HV_RX_PAYLOAD);
	CHECK_EQ(lens[1], HV_RX_PAYLOAD);
	CHECK_EQ(lens[2], sizeof(data) - 2ull * HV_RX_PAYLOAD);
	CHECK(!memcmp(got, data, sizeof(data)));
	CHECK(hv_teardown());
}

TEST(full_receiver_holds_the_sender_until_it_adds_buffers)
{
	static u8 data[3][3000], got[9000];
	u32 n;

	hv_init(3, ALL3, manages, QSIZE);
	hv_post_rx(1, 1, NULL);                    /* room for one */
	for (unsigned int k = 0; k < 3; k++) {
		struct virtio_vsock_hdr h = pkt(0, 5000, HV_CID(1), PORT,
						VIRTIO_VSOCK_OP_RW, sizeof(data[k]));
		u8 buf[HDR_LEN + sizeof(data[k])];

		memset(data[k], 'a' + k, sizeof(data[k]));
		memcpy(buf, &h, HDR_LEN);
		memcpy(buf + HDR_LEN, data[k], sizeof(data[k]));
		CHECK(hv_queue_tx(0, buf, sizeof(buf), NULL));
	}
	hv_notify(0, VSOCK_VQ_TX);
	CHECK(hv_settle());
	CHECK_EQ(hv_reap_tx(0), 1);                /* the others wait */
	CHECK_EQ(hv_reap_rx(1, false), 1);
	/* VM 1 adds a buffer: its notify has VM 0's vCPU go on. */
	hv_post_rx(1, 1, NULL);
	hv_notify(1, VSOCK_VQ_RX);
	CHECK(hv_kick_pending(0));
	CHECK_EQ(hv_reap_tx(0), 0);                /* not on VM 1's vCPU */
	CHECK(hv_settle());
	CHECK_EQ(hv_reap_tx(0), 1);
	CHECK_EQ(hv_reap_rx(1, true), 1);          /* and refilled: the last */
	CHECK_EQ(hv_reap_tx(0), 1);
	hv_reap_rx(1, false);
	n = gather(1, got, sizeof(got));
	CHECK_EQ(n, 9000);
	CHECK(!memcmp(got, data, sizeof(got)));    /* in order */
	CHECK(hv_teardown());
}

/* vm_pause() promises still memory: a paused receiver gets nothing (the
 * sender waits as for a full queue), and its own device work waits. */
TEST(paused_receiver_gets_nothing_until_it_resumes)
{
	static u8 buf[HDR_LEN + 100];
	struct virtio_vsock_hdr h = pkt(0, 5000, HV_CID(1), PORT, VIRTIO_VSOCK_OP_RW,
					100);
	struct vm *b;

	hv_init(3, ALL3, manages, QSIZE);
	b = hv_vm(1);
	hv_post_rx(1, 4, NULL);
	memcpy(buf, &h, HDR_LEN);
	memset(buf + HDR_LEN, 'p', 100);
	__atomic_store_n(&b->pause_depth, 1, __ATOMIC_RELEASE);
	vsock_vm_paused(b);
	CHECK(hv_queue_tx(0, buf, sizeof(buf), NULL));
	hv_notify(0, VSOCK_VQ_TX);
	CHECK(hv_settle());
	CHECK_EQ(hv_reap_tx(0), 0);                /* held */
	CHECK_EQ(hv_reap_rx(1, false), 0);         /* nothing written into it */
	hv_notify(1, VSOCK_VQ_RX);                 /* its own work waits too */
	CHECK(hv_settle());
	CHECK_EQ(hv_reap_rx(1, false), 0);
	__atomic_store_n(&b->pause_depth, 0, __ATOMIC_RELEASE);
	vsock_vm_resumed(b);
	CHECK(hv_settle());
	CHECK_EQ(hv_reap_tx(0), 1);
	CHECK_EQ(hv_reap_rx(1, false), 1);
	CHECK(hv_teardown());
}

TEST(packet_split_with_backpressure_arrives_whole)
{
	static u8 data[10000], got[10000];
	u32 n;

	for (unsigned int i = 0; i < sizeof(data); i++)
		data[i] = (u8)(i * 13);
	hv_init(3, ALL3, manages, QSIZE);
	hv_post_rx(1, 1, NULL);
	send_rw(0, 5000, HV_CID(1), PORT, data, sizeof(data));
	CHECK_EQ(hv_reap_tx(0), 0);                /* part delivered, held */
	for (unsigned int round = 0; round < 2; round++) {
		CHECK_EQ(hv_reap_rx(1, false), 1);
		hv_post_rx(1, 1, NULL);
		hv_notify(1, VSOCK_VQ_RX);
		CHECK(hv_settle());
	}
	CHECK_EQ(hv_reap_tx(0), 1);
	hv_reap_rx(1, false);
	n = gather(1, got, sizeof(got));
	CHECK_EQ(n, sizeof(data));
	CHECK(!memcmp(got, data, sizeof(data)));
	CHECK(hv_teardown());
}

TEST(receiver_reset_drops_the_rest_of_a_packet)
{
	static u8 data[10000];

	hv_init(3, ALL3, manages, QSIZE);
	hv_post_rx(0, 4, NULL);
	hv_post_rx(1, 1, NULL);
	send_rw(0, 5000, HV_CID(1), PORT, data, sizeof(data));
	CHECK_EQ(hv_reap_tx(0), 0);
	hv_reset(1);
	CHECK(hv_settle());
	CHECK_EQ(hv_reap_tx(0), 1);                /* given back, rest dropped */
	CHECK(nothing_more(0));                    /* part was delivered: no RST */
	send_rw(0, 5000, HV_CID(1), PORT, "x", 1);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RST, HV_CID(1), PORT, 5000));
	CHECK(hv_teardown());
}

TEST(receiver_gone_before_any_of_it_is_answered_with_rst)
{
	hv_init(3, ALL3, manages, QSIZE);
	hv_post_rx(0, 4, NULL);
	send_op(0, 5000, HV_CID(1), PORT, VIRTIO_VSOCK_OP_REQUEST, 0);
	CHECK_EQ(hv_reap_tx(0), 0);                /* VM 1 has no RX buffer */
	vsock_vm_stopped(hv_vm(1));
	CHECK(hv_settle());
	CHECK_EQ(hv_reap_tx(0), 1);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RST, HV_CID(1), PORT, 5000));
	CHECK(hv_teardown());
}

TEST(receiver_that_breaks_releases_its_waiting_sender)
{
	struct hv_layout tiny = { .in = { HDR_LEN }, .nr_in = 1 };
	struct virtio_vsock_hdr h = pkt(1, PORT, VSOCK_HOST_CID, 9999,
					VIRTIO_VSOCK_OP_REQUEST, 0);

	hv_init(3, ALL3, manages, QSIZE);
	hv_post_rx(0, 4, NULL);
	send_op(0, 5000, HV_CID(1), PORT, VIRTIO_VSOCK_OP_REQUEST, 0);
	CHECK_EQ(hv_reap_tx(0), 0);                /* waits on VM 1 */
	/* VM 1's own RST reply finds its too small buffer. */
	hv_post_rx(1, 1, &tiny);
	CHECK(hv_queue_tx(1, &h, HDR_LEN, NULL));
	hv_notify(1, VSOCK_VQ_TX);
	CHECK(hv_status(1) & VIRTIO_STATUS_NEEDS_RESET);
	CHECK(hv_kick_pending(0));
	CHECK(hv_settle());
	CHECK_EQ(hv_reap_tx(0), 1);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RST, HV_CID(1), PORT, 5000));
	CHECK(hv_teardown());
}

TEST(chain_changed_while_held_breaks_the_sender)
{
	static u8 data[6000];

	hv_init(3, ALL3, manages, QSIZE);
	hv_post_rx(1, 1, NULL);
	send_rw(0, 5000, HV_CID(1), PORT, data, sizeof(data));
	hv_poke_last_tx_len(0, 10);                /* the guest rewrites it */
	hv_reap_rx(1, true);
	CHECK(hv_status(0) & VIRTIO_STATUS_NEEDS_RESET);
	CHECK_EQ(hv_log_count("changed while the device held it"), 1);
	CHECK_EQ(hv_status(1) & VIRTIO_STATUS_NEEDS_RESET, 0);
	CHECK(hv_teardown());
}

TEST(service_input_left_by_another_vcpu_runs_on_its_own_vm)
{
	struct virtio_vsock_hdr h[2] = {
		pkt(0, 5000, HV_CID(1), PORT, VIRTIO_VSOCK_OP_REQUEST, 0),
		pkt(0, PORT, VSOCK_HOST_CID, HV_PORT_ECHO, VIRTIO_VSOCK_OP_REQUEST, 0),
	};

	hv_init(3, ALL3, manages, QSIZE);
	hv_post_rx(0, 4, NULL);
	CHECK(hv_queue_tx(0, &h[0], HDR_LEN, NULL));   /* waits on VM 1 */
	CHECK(hv_queue_tx(0, &h[1], HDR_LEN, NULL));   /* behind it */
	hv_notify(0, VSOCK_VQ_TX);
	CHECK_EQ(hv_svc.accepts, 0);
	hv_post_rx(1, 1, NULL);
	hv_notify(1, VSOCK_VQ_RX);
	CHECK_EQ(hv_svc.accepts, 0);               /* VM 1's vCPU did not */
	CHECK(hv_settle());
	CHECK_EQ(hv_svc.accepts, 1);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RESPONSE, VSOCK_HOST_CID, HV_PORT_ECHO, PORT));
	CHECK(next_is(1, VIRTIO_VSOCK_OP_REQUEST, HV_CID(0), 5000, PORT));
	CHECK(hv_teardown());
}

TEST(vm_without_a_device_is_not_reachable)
{
	fresh(1u | 2u);                            /* VM 2 has none */
	send_op(0, PORT, HV_CID(2), 5000, VIRTIO_VSOCK_OP_REQUEST, 0);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RST, HV_CID(2), 5000, PORT));
	CHECK(hv_teardown());
}

/* ------------------------------- streams whose other end goes away */

/* VM 0 manages VMs 1 and 2: two pairs that may talk. */
static const u32 manages_both[HV_MAX_VMS] = { (1u << 1) | (1u << 2), 0, 0, 0 };

/* VM @a's port @ap connects to VM @b's port @bp: REQUEST and RESPONSE,
 * each forwarded and seen by the other. */
static bool open_stream(unsigned int a, u32 ap, unsigned int b, u32 bp)
{
	send_op(a, ap, HV_CID(b), bp, VIRTIO_VSOCK_OP_REQUEST, 0);
	if (!next_is(b, VIRTIO_VSOCK_OP_REQUEST, HV_CID(a), ap, bp))
		return false;
	send_op(b, bp, HV_CID(a), ap, VIRTIO_VSOCK_OP_RESPONSE, 0);
	return next_is(a, VIRTIO_VSOCK_OP_RESPONSE, HV_CID(b), bp, ap);
}

/* VM @vm's vCPUs run the work left for them; then its next packet is
 * an RST from VM @from's @from_port to its @port. */
static bool rst_arrives(unsigned int vm, unsigned int from, u32 from_port, u32 port)
{
	return hv_settle() &&
	       next_is(vm, VIRTIO_VSOCK_OP_RST, HV_CID(from), from_port, port);
}

static bool settled_nothing_more(unsigned int vm)
{
	return hv_settle() && nothing_more(vm);
}

static void pause_vm(unsigned int vm, bool paused)
{
	__atomic_store_n(&hv_vm(vm)->pause_depth, paused, __ATOMIC_RELEASE);
	if (paused)
		vsock_vm_paused(hv_vm(vm));
	else
		vsock_vm_resumed(hv_vm(vm));
}

TEST(peer_vm_stopping_resets_the_other_end_once)
{
	fresh(ALL3);
	CHECK(open_stream(0, 5000, 1, PORT));
	vsock_vm_stopped(hv_vm(1));
	CHECK(rst_arrives(0, 1, PORT, 5000));
	CHECK(settled_nothing_more(0));
	CHECK(nothing_more(2));
	CHECK(hv_teardown());
}

TEST(stopping_the_requester_resets_the_listener)
{
	fresh(ALL3);
	CHECK(open_stream(1, PORT, 0, 5000));
	vsock_vm_stopped(hv_vm(1));
	CHECK(rst_arrives(0, 1, PORT, 5000));
	CHECK(settled_nothing_more(0));
	CHECK(hv_teardown());
}

TEST(the_manager_stopping_resets_its_managed_vm)
{
	fresh(ALL3);
	CHECK(open_stream(0, 5000, 1, PORT));
	vsock_vm_stopped(hv_vm(0));
	CHECK(rst_arrives(1, 0, 5000, PORT));
	CHECK(settled_nothing_more(1));
	CHECK(hv_teardown());
}

TEST(peer_vm_restart_resets_the_other_end)
{
	fresh(ALL3);
	CHECK(open_stream(0, 5000, 1, PORT));
	vsock_vm_reset(hv_vm(1));
	CHECK(rst_arrives(0, 1, PORT, 5000));
	CHECK(settled_nothing_more(0));
	CHECK(hv_teardown());
}

TEST(peer_driver_reset_resets_the_other_end)
{
	fresh(ALL3);
	CHECK(open_stream(0, 5000, 1, PORT));
	hv_reset(1);                               /* its driver writes Status 0 */
	CHECK(rst_arrives(0, 1, PORT, 5000));
	CHECK(settled_nothing_more(0));
	/* Set up again: the stream is not reset a second time. */
	hv_setup(1, false);
	hv_post_rx(1, 4, NULL);
	hv_reset(1);
	CHECK(settled_nothing_more(0));
	CHECK(hv_teardown());
}

TEST(peer_device_breaking_resets_the_other_end)
{
	struct hv_layout tiny = { .in = { HDR_LEN }, .nr_in = 1 };
	struct virtio_vsock_hdr h = pkt(1, PORT + 1, VSOCK_HOST_CID, 9999,
					VIRTIO_VSOCK_OP_REQUEST, 0);

	fresh(ALL3);
	CHECK(open_stream(0, 5000, 1, PORT));
	/* VM 1's RSTs for refused REQUESTs use its buffers up, then one
	 * finds a too small buffer. */
	for (unsigned int k = 0; k < QSIZE / 2; k++) {
		h.src_port = PORT + 1 + k;
		CHECK(hv_queue_tx(1, &h, HDR_LEN, NULL));
	}
	hv_notify(1, VSOCK_VQ_TX);
	CHECK_EQ(hv_reap_rx(1, false), QSIZE / 2);
	CHECK_EQ(hv_status(1) & VIRTIO_STATUS_NEEDS_RESET, 0);
	hv_post_rx(1, 1, &tiny);
	h.src_port = PORT;
	hv_send(1, &h, NULL);
	CHECK(hv_status(1) & VIRTIO_STATUS_NEEDS_RESET);
	CHECK(rst_arrives(0, 1, PORT, 5000));
	CHECK(settled_nothing_more(0));
	hv_reset(1);                               /* then its driver resets it */
	CHECK(settled_nothing_more(0));
	CHECK(hv_teardown());
}

/* Every RST VM @vm received: as (its port, the sender's port) pairs
 * in @got, at most @cap; returns how many, or cap + 1 if anything else
 * came. */
static unsigned int take_rsts(unsigned int vm, unsigned int from, u32 (*got)[2],
			      unsigned int cap)
{
	unsigned int n = 0;
	struct hv_pkt p;

	if (!hv_settle())
		return cap + 1;
	while (next(vm, &p)) {
		if (p.hdr.op != VIRTIO_VSOCK_OP_RST || p.hdr.src_cid != HV_CID(from) ||
		    p.hdr.dst_cid != HV_CID(vm) || n == cap)
			n = cap + 1;
		else {
			got[n][0] = p.hdr.dst_port;
			got[n][1] = p.hdr.src_port;
			n++;
		}
		hv_pkt_free(&p);
	}
	return n;
}

static bool has_pair(u32 (*got)[2], unsigned int n, u32 port, u32 from_port)
{
	for (unsigned int k = 0; k < n; k++)
		if (got[k][0] == port && got[k][1] == from_port)
			return true;
	return false;
}

TEST(every_stream_with_the_gone_vm_gets_one_rst)
{
	u32 got[8][2];

	fresh(ALL3);
	CHECK(open_stream(0, 5000, 1, PORT));
	CHECK(open_stream(0, 5001, 1, PORT));      /* same port over there */
	CHECK(open_stream(1, PORT + 1, 0, 80));     /* the other way */
	CHECK_EQ(take_rsts(0, 1, got, 8), 0);
	vsock_vm_stopped(hv_vm(1));
	CHECK_EQ(take_rsts(0, 1, got, 8), 3);
	CHECK(has_pair(got, 3, 5000, PORT));
	CHECK(has_pair(got, 3, 5001, PORT));
	CHECK(has_pair(got, 3, 80, PORT + 1));
	CHECK(hv_teardown());
}

TEST(more_rsts_than_rx_buffers_go_as_buffers_come)
{
	u32 got[8][2];

	fresh(ALL3);
	for (u32 k = 0; k < 6; k++)
		CHECK(open_stream(0, 5000 + k, 1, PORT));
	/* VM 0's RX queue: what is left of its 16 buffers after six
	 * RESPONSEs is refilled by next(); use all but two up. */
	while (hv_rx_posted(0) > 2) {
		send_op(0, PORT, 77, 1, VIRTIO_VSOCK_OP_REQUEST, 0);   /* RST back */
		hv_reap_rx(0, false);
	}
	while (hv_rx_count(0)) {
		struct hv_pkt p;

		hv_rx_take(0, &p);
		hv_pkt_free(&p);
	}
	vsock_vm_stopped(hv_vm(1));
	CHECK(hv_settle());
	CHECK_EQ(hv_reap_rx(0, false), 2);         /* two went, four wait */
	CHECK(hv_settle());
	CHECK_EQ(hv_reap_rx(0, false), 0);
	hv_post_rx(0, QSIZE / 2, NULL);
	hv_notify(0, VSOCK_VQ_RX);
	CHECK_EQ(take_rsts(0, 1, got, 8), 6);
	for (u32 k = 0; k < 6; k++)
		CHECK(has_pair(got, 6, 5000 + k, PORT));
	CHECK(hv_teardown());
}

TEST(forwarded_rst_ends_tracking)
{
	fresh(ALL3);
	CHECK(open_stream(0, 5000, 1, PORT));
	CHECK(open_stream(1, PORT + 1, 0, 80));
	send_op(0, 5000, HV_CID(1), PORT, VIRTIO_VSOCK_OP_RST, 0);
	CHECK(next_is(1, VIRTIO_VSOCK_OP_RST, HV_CID(0), 5000, PORT));
	send_op(1, PORT + 1, HV_CID(0), 80, VIRTIO_VSOCK_OP_RST, 0);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RST, HV_CID(1), PORT + 1, 80));
	vsock_vm_stopped(hv_vm(1));
	CHECK(settled_nothing_more(0));
	CHECK(hv_teardown());
}

TEST(full_shutdown_from_one_side_ends_tracking)
{
	fresh(ALL3);
	CHECK(open_stream(0, 5000, 1, PORT));
	CHECK(open_stream(0, 5001, 1, PORT));
	/* Linux's close(): both directions at once. */
	send_op(1, PORT, HV_CID(0), 5000, VIRTIO_VSOCK_OP_SHUTDOWN, BOTH);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_SHUTDOWN, HV_CID(1), PORT, 5000));
	/* shutdown(SHUT_WR), then (SHUT_RD): the same, in two steps. */
	send_op(0, 5001, HV_CID(1), PORT, VIRTIO_VSOCK_OP_SHUTDOWN,
		VIRTIO_VSOCK_SHUTDOWN_SEND);
	CHECK(next_is(1, VIRTIO_VSOCK_OP_SHUTDOWN, HV_CID(0), 5001, PORT));
	send_op(0, 5001, HV_CID(1), PORT, VIRTIO_VSOCK_OP_SHUTDOWN,
		VIRTIO_VSOCK_SHUTDOWN_RCV);
	CHECK(next_is(1, VIRTIO_VSOCK_OP_SHUTDOWN, HV_CID(0), 5001, PORT));
	vsock_vm_stopped(hv_vm(1));
	CHECK(settled_nothing_more(0));
	CHECK(hv_teardown());
}

TEST(half_shutdown_keeps_the_stream_tracked)
{
	fresh(ALL3);
	CHECK(open_stream(0, 5000, 1, PORT));
	/* VM 0 sends no more, but may still be reading: VM 1 going away
	 * must wake it. VM 1's SHUTDOWN(RCV) is one direction too. */
	send_op(0, 5000, HV_CID(1), PORT, VIRTIO_VSOCK_OP_SHUTDOWN,
		VIRTIO_VSOCK_SHUTDOWN_SEND);
	CHECK(next_is(1, VIRTIO_VSOCK_OP_SHUTDOWN, HV_CID(0), 5000, PORT));
	send_op(1, PORT, HV_CID(0), 5000, VIRTIO_VSOCK_OP_SHUTDOWN,
		VIRTIO_VSOCK_SHUTDOWN_RCV);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_SHUTDOWN, HV_CID(1), PORT, 5000));
	vsock_vm_stopped(hv_vm(1));
	CHECK(rst_arrives(0, 1, PORT, 5000));
	CHECK(hv_teardown());
}

TEST(refused_request_is_not_tracked)
{
	fresh(ALL3);
	send_op(0, 5000, HV_CID(1), 80, VIRTIO_VSOCK_OP_REQUEST, 0);
	CHECK(next_is(1, VIRTIO_VSOCK_OP_REQUEST, HV_CID(0), 5000, 80));
	send_op(1, 80, HV_CID(0), 5000, VIRTIO_VSOCK_OP_RST, 0);   /* nobody listens */
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RST, HV_CID(1), 80, 5000));
	vsock_vm_stopped(hv_vm(1));
	CHECK(settled_nothing_more(0));
	CHECK(hv_teardown());
}

TEST(unanswered_request_is_reset_when_the_peer_goes)
{
	fresh(ALL3);
	send_op(0, 5000, HV_CID(1), 80, VIRTIO_VSOCK_OP_REQUEST, 0);
	CHECK(next_is(1, VIRTIO_VSOCK_OP_REQUEST, HV_CID(0), 5000, 80));
	vsock_vm_stopped(hv_vm(1));                /* before its RESPONSE */
	CHECK(rst_arrives(0, 1, 80, 5000));        /* connect() fails at once */
	CHECK(settled_nothing_more(0));
	CHECK(hv_teardown());
}

TEST(response_without_request_is_not_tracked)
{
	fresh(ALL3);
	send_op(1, PORT, HV_CID(0), 5000, VIRTIO_VSOCK_OP_RESPONSE, 0);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RESPONSE, HV_CID(1), PORT, 5000));
	vsock_vm_stopped(hv_vm(1));
	CHECK(settled_nothing_more(0));
	CHECK(hv_teardown());
}

TEST(full_table_leaves_new_streams_working_untracked)
{
	u32 got[70][2];
	u32 n = 0;

	hv_init(3, ALL3, manages_both, QSIZE);
	for (unsigned int i = 0; i < 3; i++)
		hv_post_rx(i, QSIZE / 2, NULL);
	while (hv_log_count("is not tracked") == 0) {
		CHECK(open_stream(0, 5000 + n, 1, PORT));
		n++;
		if (n > 1000)
			break;
	}
	CHECK(n > 16);                             /* a table of some size */
	/* More untracked streams: still connected, logged within the limit. */
	for (u32 k = 0; k < LOG_BURST + 8; k++)
		CHECK(open_stream(1, PORT + 1 + k, 0, 80));
	CHECK_EQ(hv_log_count("is not tracked"), LOG_BURST);
	/* The other pair has its own table. */
	CHECK(open_stream(0, 6000, 2, PORT));
	vsock_vm_stopped(hv_vm(2));
	CHECK(rst_arrives(0, 2, PORT, 6000));
	CHECK(settled_nothing_more(0));
	/* The full pair: an RST for each tracked stream, none for the others. */
	vsock_vm_stopped(hv_vm(1));
	CHECK_EQ(take_rsts(0, 1, got, 70), n - 1);
	for (u32 k = 0; k + 1 < n; k++)
		CHECK(has_pair(got, n - 1, 5000 + k, PORT));
	CHECK(hv_teardown());
}

TEST(closed_stream_makes_room_in_a_full_table)
{
	u32 n = 0;

	fresh(ALL3);
	while (hv_log_count("is not tracked") == 0 && n <= 1000)
		CHECK(open_stream(0, 5000 + n++, 1, PORT));
	send_op(0, 5000, HV_CID(1), PORT, VIRTIO_VSOCK_OP_RST, 0);
	CHECK(next_is(1, VIRTIO_VSOCK_OP_RST, HV_CID(0), 5000, PORT));
	CHECK(open_stream(1, PORT + 1, 0, 80));    /* tracked again */
	CHECK_EQ(hv_log_count("is not tracked"), 1);
	CHECK(hv_teardown());
}

TEST(paused_survivor_gets_its_rst_when_it_resumes)
{
	fresh(ALL3);
	CHECK(open_stream(0, 5000, 1, PORT));
	pause_vm(0, true);
	vsock_vm_stopped(hv_vm(1));
	CHECK(hv_settle());
	CHECK_EQ(hv_reap_rx(0, false), 0);         /* its memory stays still */
	pause_vm(0, false);
	CHECK(rst_arrives(0, 1, PORT, 5000));
	CHECK(settled_nothing_more(0));
	CHECK(hv_teardown());
}

/* The restarted peer opens a stream on the same ports while the
 * survivor is paused: the old stream's RST reaches it first. */
TEST(rst_for_the_old_stream_goes_before_a_new_one)
{
	fresh(ALL3);
	CHECK(open_stream(1, PORT, 0, 5000));
	pause_vm(0, true);
	hv_reset(1);
	hv_setup(1, false);
	hv_post_rx(1, QSIZE / 2, NULL);
	send_op(1, PORT, HV_CID(0), 5000, VIRTIO_VSOCK_OP_REQUEST, 0);   /* waits */
	CHECK_EQ(hv_reap_rx(0, false), 0);
	/* The pause ends; VM 1's vCPU happens to come first. */
	__atomic_store_n(&hv_vm(0)->pause_depth, 0, __ATOMIC_RELEASE);
	hv_notify(1, VSOCK_VQ_TX);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RST, HV_CID(1), PORT, 5000));
	CHECK(next_is(0, VIRTIO_VSOCK_OP_REQUEST, HV_CID(1), PORT, 5000));
	vsock_vm_resumed(hv_vm(0));
	CHECK(settled_nothing_more(0));
	/* The new stream is tracked in its turn. */
	send_op(0, 5000, HV_CID(1), PORT, VIRTIO_VSOCK_OP_RESPONSE, 0);
	CHECK(next_is(1, VIRTIO_VSOCK_OP_RESPONSE, HV_CID(0), 5000, PORT));
	vsock_vm_stopped(hv_vm(1));
	CHECK(rst_arrives(0, 1, PORT, 5000));
	CHECK(settled_nothing_more(0));
	CHECK(hv_teardown());
}

/* VM 0 with a stream to VM 1 and no RX buffer left: VM 1 stops. */
static void stream_then_survivor_full(void)
{
	struct hv_pkt p;

	hv_init(3, ALL3, manages, QSIZE);
	hv_post_rx(1, 4, NULL);
	hv_post_rx(0, 1, NULL);
	send_op(0, 5000, HV_CID(1), PORT, VIRTIO_VSOCK_OP_REQUEST, 0);
	hv_reap_rx(1, true);
	send_op(1, PORT, HV_CID(0), 5000, VIRTIO_VSOCK_OP_RESPONSE, 0);
	hv_reap_rx(0, false);                      /* the RESPONSE, not refilled */
	while (hv_rx_take(0, &p))
		hv_pkt_free(&p);
	while (hv_rx_take(1, &p))
		hv_pkt_free(&p);
	vsock_vm_stopped(hv_vm(1));
	hv_settle();
}

TEST(survivor_writing_on_a_reset_stream_gets_one_rst)
{
	stream_then_survivor_full();
	CHECK_EQ(hv_rx_posted(0), 0);
	send_rw(0, 5000, HV_CID(1), PORT, "late", 4);   /* before it heard */
	hv_post_rx(0, 4, NULL);
	hv_notify(0, VSOCK_VQ_RX);
	CHECK(rst_arrives(0, 1, PORT, 5000));
	CHECK(settled_nothing_more(0));
	CHECK(hv_teardown());
}

TEST(survivor_own_rst_drops_the_one_owed_to_it)
{
	stream_then_survivor_full();
	send_op(0, 5000, HV_CID(1), PORT, VIRTIO_VSOCK_OP_RST, 0);
	hv_post_rx(0, 4, NULL);
	hv_notify(0, VSOCK_VQ_RX);
	CHECK(settled_nothing_more(0));
	CHECK(hv_teardown());
}

TEST(survivor_going_away_too_is_owed_nothing)
{
	stream_then_survivor_full();
	hv_reset(0);
	hv_setup(0, true);
	hv_post_rx(0, 4, NULL);
	hv_notify(0, VSOCK_VQ_RX);
	CHECK(settled_nothing_more(0));
	CHECK(hv_teardown());
}

TEST(survivor_without_a_driver_is_owed_nothing)
{
	fresh(ALL3);
	CHECK(open_stream(0, 5000, 1, PORT));
	hv_reset(0);                               /* no driver for now */
	CHECK(rst_arrives(1, 0, 5000, PORT));      /* VM 1 hears of it */
	vsock_vm_stopped(hv_vm(1));
	hv_setup(0, true);
	hv_post_rx(0, 4, NULL);
	hv_notify(0, VSOCK_VQ_RX);
	CHECK(settled_nothing_more(0));
	CHECK(hv_teardown());
}

TEST(survivor_with_its_rx_queue_stopped_is_owed_nothing)
{
	fresh(ALL3);
	CHECK(open_stream(0, 5000, 1, PORT));
	hv_reg_write(0, VIRTIO_MMIO_QUEUE_SEL, VSOCK_VQ_RX);
	hv_reg_write(0, VIRTIO_MMIO_QUEUE_READY, 0);
	vsock_vm_stopped(hv_vm(1));
	CHECK(settled_nothing_more(0));
	CHECK(hv_teardown());
}

TEST(sender_held_by_the_gone_vm_gets_one_rst)
{
	struct hv_pkt p;

	hv_init(3, ALL3, manages, QSIZE);
	hv_post_rx(0, 4, NULL);
	hv_post_rx(1, 1, NULL);
	send_op(0, 5000, HV_CID(1), PORT, VIRTIO_VSOCK_OP_REQUEST, 0);
	CHECK_EQ(hv_reap_rx(1, false), 1);         /* VM 1's one buffer */
	CHECK(hv_rx_take(1, &p));
	hv_pkt_free(&p);
	send_op(1, PORT, HV_CID(0), 5000, VIRTIO_VSOCK_OP_RESPONSE, 0);
	CHECK(next_is(0, VIRTIO_VSOCK_OP_RESPONSE, HV_CID(1), PORT, 5000));
	hv_reap_tx(0);
	send_rw(0, 5000, HV_CID(1), PORT, "held", 4);   /* waits on VM 1 */
	CHECK_EQ(hv_reap_tx(0), 0);
	vsock_vm_stopped(hv_vm(1));
	CHECK(rst_arrives(0, 1, PORT, 5000));
	CHECK_EQ(hv_reap_tx(0), 1);
	CHECK(settled_nothing_more(0));
	CHECK(hv_teardown());
}
