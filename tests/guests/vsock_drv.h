/*
 * A small virtio-vsock driver (virtio 1.2 §5.10) over virtio-mmio
 * version 2 (§4.2) for the bare-metal test guests: stream sockets to the
 * hypervisor (CID 2) or another VM, with credit-based flow control both
 * ways. Polled, on one vCPU (the boot vCPU): no interrupts, no locks.
 *
 * Every wait is bounded in virtual-counter ticks (the socket's timeout,
 * or the one given) and ends in an error, never a hang; every value the
 * device hands over (used ring ids and lengths, packet headers) is
 * checked, and a device that breaks a rule is reported as VSOCK_E_DEVICE
 * with the reason in vsock_why(). Errors are sticky per socket.
 */
#ifndef TESTS_GUESTS_VSOCK_DRV_H
#define TESTS_GUESTS_VSOCK_DRV_H

#include "lib/types.h"
#include "virt/virtqueue.h"
#include "virt/vsock.h"

/* Results: 0 or one of these. */
enum vsock_err {
	VSOCK_E_TIMEOUT = -1,    /* no answer within the time allowed */
	VSOCK_E_REFUSED = -2,    /* the peer answered our REQUEST with RST */
	VSOCK_E_RESET = -3,      /* the peer reset the connection */
	VSOCK_E_CLOSED = -4,     /* the peer will send no more (SHUTDOWN) */
	VSOCK_E_DEVICE = -5,     /* the device or peer broke the spec */
	VSOCK_E_NOSOCK = -6,     /* every socket slot is in use */
	VSOCK_E_NODEV = -7,      /* no virtio-vsock device there */
};

/* Queue sizes (descriptors): RX buffers are two descriptors each (header,
 * payload) as Linux 6.1's are; TX packets one (header and payload
 * together); events one. */
#define VSOCK_RX_QSIZE 128
#define VSOCK_TX_QSIZE 64
#define VSOCK_EV_QSIZE 8
#define VSOCK_RX_BUFS (VSOCK_RX_QSIZE / 2)
#define VSOCK_RX_DATA 4096            /* payload bytes per RX buffer */
#define VSOCK_TX_DATA 4096            /* payload bytes per TX packet at most */
/* Per socket: the receive buffer whose size we advertise (buf_alloc). */
#define VSOCK_SOCK_BUF 0x10000u      /* 64 KiB */
#define VSOCK_MAX_SOCKS 4
#define VSOCK_WHY_MAX 160

/* One split virtqueue as the driver keeps it. */
struct vsock_vq {
	u16 index;                   /* queue number: VSOCK_VQ_* */
	u16 size;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	u16 avail_idx;               /* next avail ring slot we fill */
	u16 kicked_idx;              /* avail->idx as last published */
	u16 last_used;               /* next used ring entry we read */
};

struct vsock_dev;

struct vsock_sock {
	struct vsock_dev *dev;
	enum { SOCK_FREE, SOCK_CONNECTING, SOCK_OPEN, SOCK_CLOSING, SOCK_CLOSED } state;
	bool accepted;               /* from a listen: not yet taken by vsock_accept() */
	u64 peer_cid;
	u32 peer_port, local_port;
	/* Receive side: bytes [fwd_cnt, rx_cnt) wait in buf (a ring of
	 * VSOCK_SOCK_BUF bytes); fwd_sent is the fwd_cnt the peer last heard. */
	u8 *buf;
	u32 rx_cnt, fwd_cnt, fwd_sent;
	bool credit_update_due;      /* a CREDIT_UPDATE to send */
	bool response_due;           /* an accepted REQUEST to answer */
	bool rst_due;                /* the peer broke the rules: RST it */
	/* Send side: what the peer last told us of its buffer. */
	u32 tx_cnt, peer_buf_alloc, peer_fwd_cnt;
	u32 peer_shutdown;           /* VIRTIO_VSOCK_SHUTDOWN_* received */
	bool peer_reset;             /* RST received */
	int err;                     /* sticky error, 0 if none */
	u64 timeout_ms;
	bool stalled;                /* the last send ran out of credit */
	/* Counters, for reports: credit_waits counts stalls. */
	u64 credit_updates_sent, credit_requests_sent, credit_waits;
};

struct vsock_dev {
	paddr_t base;
	u64 guest_cid;
	bool event_idx;              /* VIRTIO_F_RING_EVENT_IDX negotiated */
	bool broken;                 /* the device broke the spec: see why */
	struct vsock_vq rxq, txq, evq;
	/* RX buffer i: descriptors 2i (header) and 2i + 1 (payload). */
	struct virtio_vsock_hdr *rx_hdr;
	u8 (*rx_data)[VSOCK_RX_DATA];
	bool rx_posted[VSOCK_RX_BUFS];
	/* TX slot i: descriptor i over tx_pkt[i]. */
	struct vsock_tx_pkt {
		struct virtio_vsock_hdr hdr;
		u8 data[VSOCK_TX_DATA];
	} __attribute__((packed)) *tx_pkt;
	bool tx_busy[VSOCK_TX_QSIZE];
	u32 *ev_buf;                 /* struct virtio_vsock_event: le32 id */
	u32 listen_port;             /* 0: not listening */
	u32 next_port;
	/* An RST owed to a packet for no socket (one kept; more are dropped
	 * and counted: a peer retries or times out). */
	bool orphan_rst_due;
	struct virtio_vsock_hdr orphan;
	struct vsock_sock socks[VSOCK_MAX_SOCKS];
	char why[VSOCK_WHY_MAX];
	/* Counters, for reports. */
	u64 rx_pkts, tx_pkts, notifies, transport_resets, orphans_dropped;
};

/*
 * Brings up the virtio-vsock device of the virtio-mmio transport at
 * @base (virtio 1.2 §3.1.1, §4.2.3): reset, ACKNOWLEDGE, DRIVER, the
 * features (VERSION_1; EVENT_IDX too if @event_idx and offered),
 * FEATURES_OK read back, the three queues in RAM carved above the
 * image, DRIVER_OK, the guest CID from the configuration space, RX and
 * event buffers. 0, VSOCK_E_NODEV or VSOCK_E_DEVICE (vsock_why()).
 */
int vsock_init(struct vsock_dev *d, paddr_t base, bool event_idx);

/* Why the last call failed, for a FAIL line. */
const char *vsock_why(const struct vsock_dev *d);

/* Connects to @cid:@port (REQUEST, then RESPONSE or RST) within
 * @timeout_ms, which also bounds every later wait on the socket. */
int vsock_connect(struct vsock_dev *d, u64 cid, u32 port, u64 timeout_ms,
		  struct vsock_sock **out);
/* REQUESTs to @port are accepted from now on (one port). */
void vsock_listen(struct vsock_dev *d, u32 port);
/* The next connection accepted on the listening port, within
 * @wait_ms; the socket's own timeout is @timeout_ms. */
int vsock_accept(struct vsock_dev *d, u64 wait_ms, u64 timeout_ms,
		 struct vsock_sock **out);

/* Sends all @len bytes, never beyond the peer's credit. */
int vsock_send(struct vsock_sock *s, const void *buf, u32 len);
/* Sends what the peer's credit allows of @len bytes now, without
 * waiting for more: the count sent (0 with no credit), or an error. */
int vsock_send_some(struct vsock_sock *s, const void *buf, u32 len);
/* Receives exactly @len bytes. */
int vsock_recv(struct vsock_sock *s, void *buf, u32 len);
/* Receives what is there, at least one byte, at most @max: the count,
 * or an error (VSOCK_E_CLOSED once the peer shut down and all is read). */
int vsock_recv_some(struct vsock_sock *s, void *buf, u32 max);
/* Bytes received and not yet read. */
u32 vsock_readable(const struct vsock_sock *s);

/*
 * Closes @s: SHUTDOWN of both directions, then waits for the peer's RST
 * (virtio 1.2 §5.10.6.5); if none comes in time, RST and
 * VSOCK_E_TIMEOUT. A socket the peer already closed is just freed (its
 * error, if any, returned). The socket is free afterwards either way.
 */
int vsock_close(struct vsock_sock *s);

/* Handles whatever the device returned (packets, sent buffers, events)
 * and sends what is owed. Called by every wait; a guest may call it to
 * answer peers while it does something else. */
void vsock_poll(struct vsock_dev *d);

#endif
