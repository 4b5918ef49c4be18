/*
 * A test bench for the vsock device (virt/vsock.c) on the host, shared
 * by tests/host/test_vsock.c and tests/fuzz/fuzz_vsock.c: up to
 * HV_MAX_VMS fake VMs, each with its own RAM, the real virtio-mmio
 * transport and split-virtqueue walker, and a model virtio-vsock driver
 * that sets the device up through its registers as Linux does, posts
 * RX buffers (header + 4 KiB, as Linux 6.1) and sends TX packets (one
 * header descriptor, one payload descriptor, as Linux) or any layout a
 * test asks for. Packets the device puts in a VM's RX queue are parsed
 * into a per-VM list. The vGIC, guest_write_begin/done, vcpu_request,
 * vm_add_mmio, manage_may and printf are fakes; page allocation is the
 * real allocator over a heap arena (so leaks show). A fake service on
 * HV_PORT_ECHO (and HV_PORT_SINK) records its callbacks and does what
 * the test's policy says.
 */
#ifndef TESTS_HOST_VSOCK_HARNESS_H
#define TESTS_HOST_VSOCK_HARNESS_H

#include "lib/types.h"
#include "virt/virtqueue.h"
#include "virt/vm.h"
#include "virt/vsock.h"

#define HV_MAX_VMS 4
#define HV_PORT_ECHO 7000u   /* echoes what it reads (policy permitting) */
#define HV_PORT_SINK 7001u   /* reads nothing unless the policy says so */
#define HV_RX_PAYLOAD 4096u  /* Linux 6.1's RX buffer after the header */
#define HV_MAX_RX_PKTS 1024
#define HV_MAX_SEGS 8
/* VM i's CID, when it has a device. */
#define HV_CID(i) (3u + (i))

/* One packet the device delivered into a VM's RX queue. */
struct hv_pkt {
	struct virtio_vsock_hdr hdr;
	u32 used_len;            /* what the used ring said was written */
	u8 *data;                /* hdr.len bytes (malloc'd, or NULL) */
};

/* The fake service's behaviour, set by the test. */
struct hv_policy {
	bool refuse;             /* accept() returns NULL */
	bool no_echo;            /* echo: read but do not answer */
	u32 consume_max;         /* at most this many bytes per process(); 0: all */
	bool close_in_process;   /* vsock_conn_close() from process() */
	u32 write_len;           /* sink: writes this many bytes per call */
	bool reset_in_process;   /* the driver resets the device meanwhile
				  * (as another vCPU of the VM could) */
};

struct hv_svc_stats {
	unsigned int accepts, closes, process_calls;
	bool reentered;          /* process() ran twice at once for one conn */
	bool closed_while_busy;  /* closed() during that connection's process() */
	bool misaligned;         /* reserve() gave an unaligned pointer while
				  * every commit was a multiple of 8 */
	u64 bytes_read, bytes_written;
};

/* Layout of a chain the model driver builds: segment lengths, readable
 * ones first. */
struct hv_layout {
	u32 out[HV_MAX_SEGS];
	unsigned int nr_out;
	u32 in[HV_MAX_SEGS];
	unsigned int nr_in;
};

extern struct hv_policy hv_policy;
extern struct hv_svc_stats hv_svc;
extern bool hv_echo_log;         /* print the device's "hv:" lines */

/* Fresh bench: @n VMs; VM i has a vsock device (CID HV_CID(i)) if bit
 * i of @devices is set, and the `manages` bitmap manages[i] (NULL: none);
 * queue size @qsize (a power of two <= 64) for every queue. Every
 * device's driver is set up (DRIVER_OK; even VMs with EVENT_IDX). */
void hv_init(unsigned int n, u32 devices, const u32 *manages, u16 qsize);
/* Tears the bench down: every device reset; returns false if a page or
 * a service state leaked, or a service ran wrongly. */
bool hv_teardown(void);

struct vm *hv_vm(unsigned int i);
/* The model driver's set-up of VM @i's device, Linux's order; with
 * VIRTIO_F_RING_EVENT_IDX if @event_idx. Returns the status read back. */
u32 hv_setup(unsigned int i, bool event_idx);
/* Device reset (status 0), as a driver does before it sets up again. */
void hv_reset(unsigned int i);
u32 hv_status(unsigned int i);
/* The guest CID as the driver reads it from the configuration space. */
u64 hv_config_cid(unsigned int i);

/* Posts @n RX buffers of @layout (NULL: header + 4 KiB in two
 * descriptors, as Linux 6.1). Returns how many fit. No notify. */
unsigned int hv_post_rx(unsigned int i, unsigned int n, const struct hv_layout *layout);
/* Puts @len bytes (@pkt: header then payload) on VM @i's TX queue,
 * split as @layout says (NULL: header and payload descriptors). False
 * if the queue or the bench's buffer memory is full. No notify. */
bool hv_queue_tx(unsigned int i, const void *pkt, u32 len, const struct hv_layout *layout);
/* Notifies queue @q of VM @i (a QueueNotify write, on its vCPU). */
void hv_notify(unsigned int i, unsigned int q);
/* Runs pending VCPU_REQ_DEVICE requests, each on its VM's vCPU, until
 * none is left; false if they never end. */
bool hv_settle(void);
/* Whether the device asked VM @i's vCPU to come (not yet run). */
bool hv_kick_pending(unsigned int i);
/* A driver register of VM @i, read or written. */
u32 hv_reg(unsigned int i, u64 off);
void hv_reg_write(unsigned int i, u64 off, u32 v);
/* Changes the length of the last descriptor of VM @i's TX chain made
 * available last (a guest rewriting a chain the device holds). */
void hv_poke_last_tx_len(unsigned int i, u32 len);

/* Header + payload on TX, notify, settle. */
void hv_send(unsigned int i, const struct virtio_vsock_hdr *h, const void *payload);
/* Reaps VM @i's used RX buffers into its packet list; with @refill, posts
 * as many new ones (Linux), notifies RX and settles. Returns how many
 * were reaped. */
unsigned int hv_reap_rx(unsigned int i, bool refill);
/* Reaps used TX chains; returns how many. */
unsigned int hv_reap_tx(unsigned int i);
/* Received packets of VM @i not yet taken; takes the next (false: none). */
unsigned int hv_rx_count(unsigned int i);
bool hv_rx_take(unsigned int i, struct hv_pkt *p);
void hv_pkt_free(struct hv_pkt *p);
/* Interrupts injected into VM @i so far. */
unsigned int hv_irqs(unsigned int i);
/* RX buffers of VM @i that the device has not used yet. */
unsigned int hv_rx_posted(unsigned int i);
/* Device log lines containing @part since hv_init(). */
unsigned int hv_log_count(const char *part);

#endif
