/*
 * The virtio-vsock device (virtio 1.2 §5.10, device type 19) of the VMs
 * a scenario gives `devices = vsock`, and the switch between them:
 *
 *  - stream sockets only: REQUEST/RESPONSE/RST/SHUTDOWN/RW/CREDIT_UPDATE/
 *    CREDIT_REQUEST, with credit-based flow control both ways;
 *  - the hypervisor is CID 2 and serves the ports registered with
 *    vsock_register_service(); a REQUEST to any other CID 2 port, to a
 *    CID nobody has, or to a VM that has stopped is answered with RST;
 *  - guest-to-guest packets are forwarded between two VMs when one
 *    manages the other (the scenario's `manages =`), with the source
 *    CID set by the hypervisor, never taken from the guest; others get RST.
 *
 * A guest's packet that breaks the spec (bad header, length, op or
 * type, a source CID that is not its own, data beyond the credit it
 * was given) is logged and answered with RST on that connection; a
 * broken queue resets the device (virt/virtio_mmio.h). Neither stops
 * the VM, and no other VM sees it.
 *
 * Locking: one lock, vsock_lock, covers every vsock device's transport
 * registers, queues and connections (a packet goes from one VM's TX
 * queue straight into another VM's RX queue). Service code runs
 * without it (docs/locking.md).
 */
#ifndef VIRT_VSOCK_H
#define VIRT_VSOCK_H

#include "lib/types.h"

struct vm;
struct vcpu;
struct vsock_conn;

#define VIRTIO_ID_VSOCK 19
#define VSOCK_HOST_CID 2u

/* Packet header (virtio 1.2 §5.10.6), little-endian, 44 bytes. */
struct virtio_vsock_hdr {
	u64 src_cid;
	u64 dst_cid;
	u32 src_port;
	u32 dst_port;
	u32 len;        /* payload bytes after the header */
	u16 type;       /* VIRTIO_VSOCK_TYPE_* */
	u16 op;         /* VIRTIO_VSOCK_OP_* */
	u32 flags;      /* SHUTDOWN: VIRTIO_VSOCK_SHUTDOWN_* */
	u32 buf_alloc;  /* sender's receive buffer, bytes */
	u32 fwd_cnt;    /* bytes the sender has consumed from it */
} __attribute__((packed));

#define VIRTIO_VSOCK_TYPE_STREAM 1
#define VIRTIO_VSOCK_OP_INVALID 0
#define VIRTIO_VSOCK_OP_REQUEST 1
#define VIRTIO_VSOCK_OP_RESPONSE 2
#define VIRTIO_VSOCK_OP_RST 3
#define VIRTIO_VSOCK_OP_SHUTDOWN 4
#define VIRTIO_VSOCK_OP_RW 5
#define VIRTIO_VSOCK_OP_CREDIT_UPDATE 6
#define VIRTIO_VSOCK_OP_CREDIT_REQUEST 7
#define VIRTIO_VSOCK_SHUTDOWN_RCV 1u
#define VIRTIO_VSOCK_SHUTDOWN_SEND 2u

/* Queue indices. */
#define VSOCK_VQ_RX 0
#define VSOCK_VQ_TX 1
#define VSOCK_VQ_EVENT 2

/* Per connection to a service: what the guest may send before the
 * service consumes (the buf_alloc we advertise), and what a service may
 * have written and not yet sent. */
#define VSOCK_SVC_IN_BUF 4096u
#define VSOCK_SVC_OUT_BUF (128u * 1024)
/* Service connections one VM may have open at once. */
#define VSOCK_SVC_MAX_CONNS 4

/*
 * A service the hypervisor offers on CID 2. Its callbacks run on a vCPU
 * of the connected VM, for that VM's connections only.
 */
struct vsock_service {
	u32 port;
	const char *name;        /* for log lines */
	/* A VM connected. Returns the connection's state, or NULL to refuse
	 * (RST). Called with vsock_lock held: must not wait, nor call the
	 * vsock_conn_*() functions but vsock_conn_peer(). */
	void *(*accept)(struct vm *peer, struct vsock_conn *c);
	/* Bytes arrived, or room to write was freed while received bytes
	 * wait: read requests with vsock_conn_peek()/vsock_conn_consume(),
	 * answer with vsock_conn_reserve()/vsock_conn_commit(). Called
	 * WITHOUT vsock_lock (it may pause VMs), on a vCPU of the peer,
	 * never twice at once for one connection; called again if more
	 * arrived meanwhile. The vsock_conn_*() calls below are for this
	 * function only, on its own connection. */
	void (*process)(void *state, struct vsock_conn *c);
	/* The connection is gone (peer RST or full shutdown, device reset,
	 * VM stopped, or the service closed it): free @state. Called with
	 * vsock_lock held and never during process() for the connection. */
	void (*closed)(void *state);
};

/* Creates the vsock device of @vm (its cfg->vsock_cid) in virtio-mmio
 * slot @slot and adds its register window to the VM's MMIO regions.
 * At VM creation, before any vCPU runs. Returns 0, or -EINVAL (with a
 * message) for a CID that is reserved (<= 2) or another VM's. */
int vsock_create(struct vm *vm, unsigned int slot);

/* Offers @s on CID 2 from now on (at boot, before any VM runs). */
int vsock_register_service(const struct vsock_service *s);

/* @vm is being paused (vm_pause(), after pause_depth is raised):
 * returns once no delivery into its memory is in flight; none starts
 * until vsock_vm_resumed(), and its own device work waits too. */
void vsock_vm_paused(struct vm *vm);
/* @vm's last pause ended: what waited for it goes on. */
void vsock_vm_resumed(struct vm *vm);

/* @vm has stopped for good: its connections are reset (peers get RST)
 * and packets for it get RST from now on. */
void vsock_vm_stopped(struct vm *vm);

/* @vm restarts (SYSTEM_RESET, before its images are reloaded): its
 * device is reset as if its driver had written Status 0, so that no
 * packet lands in its memory until the new driver sets it up. */
void vsock_vm_reset(struct vm *vm);

/* The run loop's call for VCPU_REQ_DEVICE (virt/vcpu.c): work another
 * CPU left for @v's VM (its TX queue may go on, its services have
 * input), or the rest of a batch it cut short. */
void vsock_vcpu_work(struct vcpu *v);

/* For a service's process(): bytes received and not consumed. */
u32 vsock_conn_readable(struct vsock_conn *c);
/* Copies up to @len received bytes, without consuming them. */
u32 vsock_conn_peek(struct vsock_conn *c, void *dst, u32 len);
/* Drops @len received bytes (<= readable); the peer's credit grows. */
void vsock_conn_consume(struct vsock_conn *c, u32 len);
/*
 * Room to answer: a pointer where up to *@room bytes (the free space of
 * the output buffer, at most VSOCK_SVC_OUT_BUF) may be written, valid
 * until vsock_conn_commit(). Then vsock_conn_commit() sends the first
 * @len of them, as the peer's credit and RX buffers allow, from when
 * process() returns (room is 0 once the connection closes). The pointer
 * is 8-byte aligned whenever every commit so far was a multiple of 8
 * bytes (the hvdirty service's replies are: HARVEST stores struct
 * dirty_gfn entries straight there).
 */
void *vsock_conn_reserve(struct vsock_conn *c, u32 *room);
void vsock_conn_commit(struct vsock_conn *c, u32 len);
/* The service ends the connection: what was committed is sent first,
 * then a SHUTDOWN of both directions (RST if the peer does not close:
 * when its slot is needed for a new connection). */
void vsock_conn_close(struct vsock_conn *c);
/* The VM on the other end. */
struct vm *vsock_conn_peer(struct vsock_conn *c);

#endif
