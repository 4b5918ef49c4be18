/*
 * The virtio-mmio transport, version 2 (virtio 1.2 §4.2.2), emulated for
 * one device of one VM: the register file, feature negotiation, device
 * status, queue set-up, notifications, the interrupt status and its
 * SPI, the configuration generation and reset. What the device does
 * with its queues lives behind struct virtio_dev_ops (virt/vsock.c).
 *
 * A queue or register use that breaks the spec is logged with the
 * reason and puts the device in DEVICE_NEEDS_RESET (status bit 0x40,
 * with a configuration-change interrupt); the device then ignores its
 * queues until the driver resets it. The VM is not stopped for it.
 *
 * Locking: a device's @lock serialises its register file and its
 * queues (docs/locking.md). The device type chooses the lock: vsock
 * devices all share one, since a packet moves from one VM's queue into
 * another's. Device operations are called with it held, except
 * notify(), which takes it itself when it needs it.
 */
#ifndef VIRT_VIRTIO_MMIO_H
#define VIRT_VIRTIO_MMIO_H

#include "lib/spinlock.h"
#include "lib/types.h"
#include "virt/virtqueue.h"

struct vm;
struct vcpu;

/* Register offsets (virtio 1.2 §4.2.2, table "MMIO Device Register Layout"). */
#define VIRTIO_MMIO_MAGIC_VALUE 0x000         /* "virt" */
#define VIRTIO_MMIO_VERSION 0x004             /* 2 */
#define VIRTIO_MMIO_DEVICE_ID 0x008
#define VIRTIO_MMIO_VENDOR_ID 0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL 0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_MMIO_QUEUE_NUM 0x038
#define VIRTIO_MMIO_QUEUE_READY 0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define VIRTIO_MMIO_STATUS 0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090     /* the avail ring */
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0     /* the used ring */
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_SHM_SEL 0x0ac
#define VIRTIO_MMIO_SHM_LEN_LOW 0x0b0
#define VIRTIO_MMIO_SHM_LEN_HIGH 0x0b4
#define VIRTIO_MMIO_SHM_BASE_LOW 0x0b8
#define VIRTIO_MMIO_SHM_BASE_HIGH 0x0bc
#define VIRTIO_MMIO_QUEUE_RESET 0x0c0
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc
#define VIRTIO_MMIO_CONFIG 0x100

#define VIRTIO_MMIO_MAGIC 0x74726976u          /* "virt", little-endian */
#define VIRTIO_MMIO_VENDOR 0x554d4551u         /* "QEMU", as QEMU's devices say */

/* InterruptStatus bits. */
#define VIRTIO_MMIO_INT_VRING 1u
#define VIRTIO_MMIO_INT_CONFIG 2u

/* Device status bits (virtio 1.2 §2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1u
#define VIRTIO_STATUS_DRIVER 2u
#define VIRTIO_STATUS_DRIVER_OK 4u
#define VIRTIO_STATUS_FEATURES_OK 8u
#define VIRTIO_STATUS_NEEDS_RESET 0x40u
#define VIRTIO_STATUS_FAILED 0x80u

/* Transport feature bits (virtio 1.2 §6). */
#define VIRTIO_F_RING_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

/* Queues one device may have. */
#define VIRTIO_MAX_QUEUES 4

struct virtio_dev;

/* What a device type adds to the transport. */
struct virtio_dev_ops {
	/* Device feature bits it offers, beyond VERSION_1 and EVENT_IDX
	 * (which the transport offers itself). */
	u64 features;
	unsigned int nr_queues;
	/* Reads @size bytes (1, 2, 4 or 8) at @offset of the device
	 * configuration space into *@val; false if out of range (read as
	 * zero and logged by the transport). Writes are refused. */
	bool (*config_read)(struct virtio_dev *d, u64 offset, unsigned int size,
			    u64 *val);
	/* The driver set DRIVER_OK: the queues may be used. Lock held. */
	void (*start)(struct virtio_dev *d);
	/* The driver wrote QueueNotify for @queue, on a vCPU of d->vm.
	 * Called WITHOUT the lock: the device takes it as it needs (and
	 * may run work that must not hold it). The transport only calls
	 * it for a live device and a ready queue, but both may change
	 * before the device takes the lock: it checks virtio_dev_live()
	 * and d->vq_ready[queue] again under it. */
	void (*notify)(struct virtio_dev *d, unsigned int queue);
	/* Device reset (the driver wrote status 0): drop all device
	 * state. Lock held. Not called by virtio_dev_broken(). */
	void (*reset)(struct virtio_dev *d);
};

struct virtio_dev {
	struct spinlock *lock;
	struct vm *vm;
	u32 device_id;                 /* virtio device type (19: vsock) */
	u32 intid;                     /* its SPI */
	const struct virtio_dev_ops *ops;
	void *priv;                    /* the device type's state */
	/* Register file, under @lock. */
	u32 status;
	u32 device_features_sel, driver_features_sel;
	u64 driver_features;
	u32 queue_sel;
	u32 interrupt_status;
	u32 config_generation;
	struct virtqueue vq[VIRTIO_MAX_QUEUES];
	bool vq_ready[VIRTIO_MAX_QUEUES];
	struct vq_mem mem;             /* the VM's RAM (virt/guest_mem.c) */
	u64 needs_reset_count;         /* times the device gave up, for stats */
	u32 log_left;                  /* guest-caused log lines still allowed */
};

/* Sets up @d as a device of @vm in virtio-mmio slot @slot (SPI
 * GUEST_VIRTIO_INTID(slot)), in reset state, serialised by @lock. */
void virtio_mmio_init(struct virtio_dev *d, struct vm *vm, unsigned int slot,
		      u32 device_id, const struct virtio_dev_ops *ops, void *priv,
		      struct spinlock *lock);

/* struct mmio_region's access callback for the register window. */
int virtio_mmio_access(struct vcpu *v, void *dev, u64 offset, unsigned int size,
		       bool write, u64 *val);

/*
 * The device gives up on a broken queue or request: logs "hv: VM '%s'
 * virtio %s: %s" with @why, sets DEVICE_NEEDS_RESET and, if the driver
 * has set DRIVER_OK, raises a configuration-change interrupt (§2.1.2).
 * Only the first call until the next reset does anything. Queues are
 * ignored (virtio_dev_live() is false) until the driver resets the
 * device; ops->reset() is not called here (the caller may be in the
 * middle of device code): a device that must drop state at once (RST
 * its peers) does so itself after the call. Lock held.
 */
void virtio_dev_broken(struct virtio_dev *d, const char *why);

/* True when the driver has set DRIVER_OK and the device is not broken:
 * its queues may be used. Lock held. */
bool virtio_dev_live(const struct virtio_dev *d);

/* Raises the used-buffer interrupt if vq_should_notify() says the
 * driver wants one for @queue. Lock held. */
void virtio_dev_notify_used(struct virtio_dev *d, unsigned int queue);

#endif
