/*
 * The virtio-mmio version 2 transport (virt/virtio_mmio.h; virtio 1.2
 * §4.2.2): the register file of one device, feature negotiation, the
 * status state machine and reset, queue set-up through vq_setup(), the
 * interrupt status and its edge SPI, and giving up on a broken device.
 *
 * The driver's register values are untrusted: a value that breaks a
 * rule the device depends on (a queue register written while the
 * queue runs, a queue that fails vq_setup(), DRIVER_OK without
 * FEATURES_OK, a notify of a queue the device does not have) puts the
 * device in DEVICE_NEEDS_RESET; an access the transport cannot give a
 * meaning (wrong size, unknown or read-only register) is logged and
 * ignored. Neither stops the VM.
 */
#include "virt/virtio_mmio.h"

#include <stdarg.h>

#include "lib/compiler.h"
#include "lib/console.h"
#include "lib/printf.h"
#include "virt/guest_map.h"
#include "virt/guest_mem.h"
#include "virt/vgic.h"
#include "virt/vm.h"
#include "virt/vsock.h"

#define VIRTIO_MMIO_VERSION_2 2u
#define REG_SIZE 4u                      /* every register is 32-bit */
#define WORD_BITS 32                     /* feature bits per Sel value */
#define SHM_NONE 0xffffffffu             /* SHMLen/SHMBase of no region */

/* Status bits the driver sets; DEVICE_NEEDS_RESET is the device's. */
#define DRIVER_STATUS_BITS                                                  \
	(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |                 \
	 VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FEATURES_OK |              \
	 VIRTIO_STATUS_FAILED)

/* Log lines a guest may cause per device; then the device goes quiet. */
#define VIRTIO_LOG_LINES 16
#define VIRTIO_LOG_MAX 160

/* The device types (virtio 1.2 §5) that this transport carries. */
static const char *device_name(u32 device_id)
{
	return device_id == VIRTIO_ID_VSOCK ? "vsock" : "device";
}

static void __printf(2, 3) log_guest(struct virtio_dev *d, const char *fmt, ...)
{
	char msg[VIRTIO_LOG_MAX];
	va_list ap;

	if (!d->log_left)
		return;
	d->log_left--;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("hv: VM '%s' virtio %s: %s%s\n", d->vm->name,
	       device_name(d->device_id), msg,
	       d->log_left ? "" : "; no more messages from this device");
}

static void log_ignored(struct virtio_dev *d, u64 offset, unsigned int size,
			bool write, u64 val)
{
	if (write)
		log_guest(d, "%u-byte write of 0x%llx at 0x%llx ignored", size,
			  (unsigned long long)val, (unsigned long long)offset);
	else
		log_guest(d, "%u-byte read at 0x%llx ignored (reads 0)", size,
			  (unsigned long long)offset);
}

/* ------------------------------------------------- guest memory (vq_mem) */

static void *vm_mem_map(void *ctx, u64 ipa, u64 len)
{
	return guest_write_begin(ctx, ipa, len);
}

static void vm_mem_wrote(void *ctx, u64 ipa, u64 len)
{
	guest_write_done(ctx, ipa, len);
}

/* ------------------------------------------------------- device state */

static u64 offered_features(const struct virtio_dev *d)
{
	return (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_RING_EVENT_IDX) |
	       d->ops->features;
}

/* Registers and queues as after a reset (§4.2.2: InterruptStatus and
 * every QueueReady cleared). ConfigGeneration keeps counting. */
static void regs_reset(struct virtio_dev *d)
{
	d->status = 0;
	d->device_features_sel = 0;
	d->driver_features_sel = 0;
	d->driver_features = 0;
	d->queue_sel = 0;
	d->interrupt_status = 0;
	for (unsigned int q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		d->vq[q] = (struct virtqueue){ .size = VQ_MAX_SIZE };
		d->vq_ready[q] = false;
	}
}

void virtio_mmio_init(struct virtio_dev *d, struct vm *vm, unsigned int slot,
		      u32 device_id, const struct virtio_dev_ops *ops, void *priv,
		      struct spinlock *lock)
{
	*d = (struct virtio_dev){
		.lock = lock,
		.vm = vm,
		.device_id = device_id,
		.intid = GUEST_VIRTIO_INTID(slot),
		.ops = ops,
		.priv = priv,
		.mem = { .ctx = vm, .map = vm_mem_map, .wrote = vm_mem_wrote },
		.log_left = VIRTIO_LOG_LINES,
	};
	regs_reset(d);
}

bool virtio_dev_live(const struct virtio_dev *d)
{
	return (d->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(d->status & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED));
}

/* Sets @bit in InterruptStatus and sends the edge. Every event sends
 * one, even if the bit was set already: the driver acknowledges only
 * what it read, and an extra interrupt finds InterruptStatus 0. */
static void raise_irq(struct virtio_dev *d, u32 bit)
{
	d->interrupt_status |= bit;
	vgic_inject_edge(d->vm, NULL, d->intid);
}

void virtio_dev_broken(struct virtio_dev *d, const char *why)
{
	if (d->status & VIRTIO_STATUS_NEEDS_RESET)
		return;                 /* given up already, and said why */
	d->needs_reset_count++;
	d->status |= VIRTIO_STATUS_NEEDS_RESET;
	log_guest(d, "%s: device needs reset", why);
	/* §2.1.2: with DRIVER_OK, a configuration change notification
	 * tells the driver; before it, the driver reads the status. */
	if (d->status & VIRTIO_STATUS_DRIVER_OK)
		raise_irq(d, VIRTIO_MMIO_INT_CONFIG);
}

/* Queues the device has, never more than struct virtio_dev holds. */
static unsigned int nr_queues(const struct virtio_dev *d)
{
	return MIN(d->ops->nr_queues, (unsigned int)VIRTIO_MAX_QUEUES);
}

void virtio_dev_notify_used(struct virtio_dev *d, unsigned int queue)
{
	if (!virtio_dev_live(d) || queue >= nr_queues(d) ||
	    !d->vq_ready[queue])
		return;
	if (vq_should_notify(&d->vq[queue]))
		raise_irq(d, VIRTIO_MMIO_INT_VRING);
}

/* ------------------------------------------------------------ registers */

/* The queue QueueSel names, or NULL if the device has no such queue. */
static struct virtqueue *selected_queue(struct virtio_dev *d)
{
	return d->queue_sel < nr_queues(d) ? &d->vq[d->queue_sel] : NULL;
}

static u32 device_features_word(const struct virtio_dev *d)
{
	if (d->device_features_sel >= sizeof(u64) * 8 / WORD_BITS)
		return 0;
	return (u32)(offered_features(d) >> (d->device_features_sel * WORD_BITS));
}

/* Register @reg into *@v; false if it cannot be read. */
static bool reg_read(struct virtio_dev *d, u64 reg, u32 *v)
{
	switch (reg) {
	case VIRTIO_MMIO_MAGIC_VALUE: *v = VIRTIO_MMIO_MAGIC; break;
	case VIRTIO_MMIO_VERSION: *v = VIRTIO_MMIO_VERSION_2; break;
	case VIRTIO_MMIO_DEVICE_ID: *v = d->device_id; break;
	case VIRTIO_MMIO_VENDOR_ID: *v = VIRTIO_MMIO_VENDOR; break;
	case VIRTIO_MMIO_DEVICE_FEATURES: *v = device_features_word(d); break;
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		*v = selected_queue(d) ? VQ_MAX_SIZE : 0;   /* 0: no such queue */
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		*v = selected_queue(d) && d->vq_ready[d->queue_sel];
		break;
	case VIRTIO_MMIO_INTERRUPT_STATUS: *v = d->interrupt_status; break;
	case VIRTIO_MMIO_STATUS: *v = d->status; break;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		*v = SHM_NONE;          /* no shared memory regions: -1 */
		break;
	case VIRTIO_MMIO_QUEUE_RESET:
		*v = 0;                 /* VIRTIO_F_RING_RESET is not offered */
		break;
	case VIRTIO_MMIO_CONFIG_GENERATION: *v = d->config_generation; break;
	default:
		return false;
	}
	return true;
}

static void set_low(u64 *reg, u32 v)
{
	*reg = (*reg & ~(u64)UINT32_MAX) | v;
}

static void set_high(u64 *reg, u32 v)
{
	*reg = (*reg & UINT32_MAX) | (u64)v << WORD_BITS;
}

/* QueueNum and the area addresses: only while the queue is not ready
 * (§4.2.2.2); vq_setup() checks them when the driver enables it. */
static void queue_config_write(struct virtio_dev *d, u64 reg, u32 v)
{
	struct virtqueue *vq = selected_queue(d);

	if (!vq) {
		log_ignored(d, reg, REG_SIZE, true, v);
		return;
	}
	if (d->vq_ready[d->queue_sel]) {
		virtio_dev_broken(d, "queue register written while the queue is ready");
		return;
	}
	switch (reg) {
	case VIRTIO_MMIO_QUEUE_NUM:
		/* Not truncated to 16 bits: a larger value fails vq_setup(). */
		vq->size = v <= VQ_MAX_SIZE ? (u16)v : 0;
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW: set_low(&vq->desc_ipa, v); break;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH: set_high(&vq->desc_ipa, v); break;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW: set_low(&vq->avail_ipa, v); break;
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH: set_high(&vq->avail_ipa, v); break;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW: set_low(&vq->used_ipa, v); break;
	default: set_high(&vq->used_ipa, v); break;   /* QUEUE_DEVICE_HIGH */
	}
}

static void queue_ready_write(struct virtio_dev *d, u32 v)
{
	struct virtqueue *vq = selected_queue(d);
	const char *why;

	if (!vq || v > 1) {
		log_ignored(d, VIRTIO_MMIO_QUEUE_READY, REG_SIZE, true, v);
		return;
	}
	if (!v || d->vq_ready[d->queue_sel]) {
		d->vq_ready[d->queue_sel] = v;   /* stop, or already running */
		return;
	}
	/* The ring layout depends on EVENT_IDX: features must be final. */
	if (!(d->status & VIRTIO_STATUS_FEATURES_OK)) {
		virtio_dev_broken(d, "queue enabled before FEATURES_OK");
		return;
	}
	vq->event_idx = d->driver_features & (1ull << VIRTIO_F_RING_EVENT_IDX);
	if (vq_setup(vq, &d->mem, &why)) {
		virtio_dev_broken(d, why);
		return;
	}
	d->vq_ready[d->queue_sel] = true;
}

static void driver_features_write(struct virtio_dev *d, u32 v)
{
	/* §3.1.1: features are final once FEATURES_OK is accepted. */
	if ((d->status & VIRTIO_STATUS_FEATURES_OK) ||
	    d->driver_features_sel >= sizeof(u64) * 8 / WORD_BITS) {
		log_ignored(d, VIRTIO_MMIO_DRIVER_FEATURES, REG_SIZE, true, v);
		return;
	}
	if (d->driver_features_sel)
		set_high(&d->driver_features, v);
	else
		set_low(&d->driver_features, v);
}

/* §2.2.2: the device accepts a subset of what it offered, and a version
 * 2 transport needs VIRTIO_F_VERSION_1. */
static bool features_acceptable(const struct virtio_dev *d)
{
	return !(d->driver_features & ~offered_features(d)) &&
	       (d->driver_features & (1ull << VIRTIO_F_VERSION_1));
}

/*
 * A write of Status: 0 resets the device; anything else sets the
 * driver's bits in it (a bit once set stays until reset; the device's
 * NEEDS_RESET, which Linux writes back, is not the driver's to set).
 * FEATURES_OK is only taken if the features are acceptable: the driver
 * reads it back to learn the answer (§3.1.1).
 */
static void status_write(struct virtio_dev *d, u32 v)
{
	u32 add = v & DRIVER_STATUS_BITS & ~d->status;

	if (!v) {
		d->ops->reset(d);
		regs_reset(d);
		return;
	}
	if ((add & VIRTIO_STATUS_FEATURES_OK) && !features_acceptable(d)) {
		log_guest(d, "driver features 0x%llx refused (offered 0x%llx)",
			  (unsigned long long)d->driver_features,
			  (unsigned long long)offered_features(d));
		add &= ~VIRTIO_STATUS_FEATURES_OK;
	}
	if ((add & VIRTIO_STATUS_DRIVER_OK) &&
	    !((d->status | add) & VIRTIO_STATUS_FEATURES_OK)) {
		virtio_dev_broken(d, "DRIVER_OK without FEATURES_OK");
		add &= ~VIRTIO_STATUS_DRIVER_OK;
	}
	d->status |= add;
	if ((add & VIRTIO_STATUS_DRIVER_OK) && virtio_dev_live(d))
		d->ops->start(d);
}

/* A QueueNotify of @v: true with *@queue set if the device is to be
 * told (after the lock is dropped). */
static bool queue_notify_write(struct virtio_dev *d, u32 v, unsigned int *queue)
{
	if (!virtio_dev_live(d))
		return false;
	if (v >= nr_queues(d)) {
		virtio_dev_broken(d, "notify of a queue the device does not have");
		return false;
	}
	if (!d->vq_ready[v])
		return false;           /* §4.2.2.1: not ready, not touched */
	*queue = v;
	return true;
}

/* @v into register @reg; false if it cannot be written. Sets *@notify
 * and *@queue for a QueueNotify the device must hear of. */
static bool reg_write(struct virtio_dev *d, u64 reg, u32 v, bool *notify,
		      unsigned int *queue)
{
	switch (reg) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL: d->device_features_sel = v; break;
	case VIRTIO_MMIO_DRIVER_FEATURES: driver_features_write(d, v); break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL: d->driver_features_sel = v; break;
	case VIRTIO_MMIO_QUEUE_SEL: d->queue_sel = v; break;
	case VIRTIO_MMIO_QUEUE_NUM:
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		queue_config_write(d, reg, v);
		break;
	case VIRTIO_MMIO_QUEUE_READY: queue_ready_write(d, v); break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		*notify = queue_notify_write(d, v, queue);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK: d->interrupt_status &= ~v; break;
	case VIRTIO_MMIO_STATUS: status_write(d, v); break;
	case VIRTIO_MMIO_SHM_SEL:
		break;                  /* every region reads as absent */
	default:
		return false;
	}
	return true;
}

/* The device configuration space: reads of 1, 2, 4 or 8 bytes, naturally
 * aligned, through the device type; writes are refused. */
static void config_access(struct virtio_dev *d, u64 offset, unsigned int size,
			  bool write, u64 *val)
{
	u64 at = offset - VIRTIO_MMIO_CONFIG;

	if (!write && (size == 1 || size == 2 || size == 4 || size == 8) &&
	    IS_ALIGNED(at, size) && d->ops->config_read(d, at, size, val))
		return;
	log_ignored(d, offset, size, write, write ? *val : 0);
	if (!write)
		*val = 0;
}

int virtio_mmio_access(struct vcpu *v, void *dev, u64 offset, unsigned int size,
		       bool write, u64 *val)
{
	struct virtio_dev *d = dev;
	bool notify = false;
	unsigned int queue = 0;
	u32 r = 0;

	spin_lock(d->lock);
	if (offset >= VIRTIO_MMIO_CONFIG) {
		config_access(d, offset, size, write, val);
	} else {
		/* §4.2.2.2: registers take 32-bit aligned accesses only. */
		bool ok = size == REG_SIZE && IS_ALIGNED(offset, REG_SIZE);

		if (write)
			ok = ok && reg_write(d, offset, (u32)*val, &notify, &queue);
		else
			ok = ok && reg_read(d, offset, &r);
		if (!ok)
			log_ignored(d, offset, size, write, write ? *val : 0);
		if (!write)
			*val = r;
	}
	spin_unlock(d->lock);
	/* Without the lock: the device takes it as it needs (its notify
	 * may run work that must not hold it). */
	if (notify)
		d->ops->notify(d, queue);
	return 0;
}
