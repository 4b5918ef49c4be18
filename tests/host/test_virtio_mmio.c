/*
 * Tests of the virtio-mmio v2 transport (virt/virtio_mmio.c) driven
 * through its register window as Linux's virtio_mmio driver drives it:
 * identification, the status and feature handshake, queue set-up,
 * notifications both ways, reset, and the driver mistakes that put the
 * device in DEVICE_NEEDS_RESET or are only logged. The real walker
 * (virt/virtqueue.c) runs over a fake guest RAM; the vGIC, the guest
 * memory door and printf are recording fakes; the device type is a
 * fake with three queues and an 8-byte configuration space.
 */
#include <stdarg.h>
#include <stdlib.h>

#include "lib/errno.h"
#include "tests/host/test.h"
#include "virt/guest_map.h"
#include "virt/guest_mem.h"
#include "virt/vgic.h"
#include "virt/virtio_mmio.h"
#include "virt/vm.h"
#include "virt/vsock.h"

#define RAM_SIZE 0x40000ull
#define SLOT 3
#define FAKE_FEATURE 5                  /* a device feature bit it offers */
#define FAKE_NR_QUEUES 3
#define CONFIG_VALUE 0x1122334455667788ull
#define EVENT_IDX (1ull << VIRTIO_F_RING_EVENT_IDX)
#define VERSION_1 (1ull << VIRTIO_F_VERSION_1)
#define ALL_FEATURES (VERSION_1 | EVENT_IDX | (1ull << FAKE_FEATURE))
#define MAX_LINES 32

static struct vm vm;
static struct virtio_dev d;
static struct spinlock lock = SPINLOCK_INIT;
static u8 *ram;

/* ------------------------------------------------------------- fakes */

static struct {
	unsigned int injected;
	bool bad_args;                /* another VM, a vCPU, another INTID */
} irq;

void vgic_inject_edge(struct vm *v, struct vcpu *target, u32 intid)
{
	if (v != &vm || target || intid != GUEST_VIRTIO_INTID(SLOT))
		irq.bad_args = true;
	irq.injected++;
}

static unsigned int nr_written;

void *guest_write_begin(struct vm *v, u64 ipa, u64 len)
{
	u64 off = ipa - GUEST_RAM_BASE;

	if (v != &vm || ipa < GUEST_RAM_BASE || off > RAM_SIZE ||
	    len > RAM_SIZE - off)
		return NULL;
	return ram + off;
}

void guest_write_done(struct vm *v, u64 ipa, u64 len)
{
	nr_written++;
}

static char lines[MAX_LINES][256];
static unsigned int nr_lines;

/* The transport logs through printf (lib/console.h): kept for the
 * tests, and shown as usual. */
int printf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!strncmp(buf, "hv: ", 4) && nr_lines < MAX_LINES)
		snprintf(lines[nr_lines++], sizeof(lines[0]), "%s", buf);
	fputs(buf, stdout);
	return n;
}

static unsigned int count_lines(const char *part)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < nr_lines; i++)
		n += strstr(lines[i], part) != NULL;
	return n;
}

static bool locked(void)
{
	return __atomic_load_n(&lock.next, __ATOMIC_RELAXED) !=
	       __atomic_load_n(&lock.owner, __ATOMIC_RELAXED);
}

static struct {
	unsigned int start, reset, notify, config;
	unsigned int notified_queue;
	bool lock_wrong;              /* a callback saw the lock wrongly */
} dev;

static bool fake_config_read(struct virtio_dev *vd, u64 offset,
			     unsigned int size, u64 *val)
{
	u64 cfg = CONFIG_VALUE;

	dev.config++;
	dev.lock_wrong |= !locked() || vd != &d;
	if (offset + size > sizeof(cfg))
		return false;
	*val = 0;
	memcpy(val, (u8 *)&cfg + offset, size);
	return true;
}

static void fake_start(struct virtio_dev *vd)
{
	dev.start++;
	dev.lock_wrong |= !locked() || vd != &d;
}

static void fake_notify(struct virtio_dev *vd, unsigned int queue)
{
	dev.notify++;
	dev.notified_queue = queue;
	dev.lock_wrong |= locked() || vd != &d;
}

static void fake_reset(struct virtio_dev *vd)
{
	dev.reset++;
	dev.lock_wrong |= !locked() || vd != &d;
}

static const struct virtio_dev_ops ops = {
	.features = 1ull << FAKE_FEATURE,
	.nr_queues = FAKE_NR_QUEUES,
	.config_read = fake_config_read,
	.start = fake_start,
	.notify = fake_notify,
	.reset = fake_reset,
};

/* ----------------------------------------------------------- helpers */

static void fresh(void)
{
	memset(&irq, 0, sizeof(irq));
	memset(&dev, 0, sizeof(dev));
	nr_lines = 0;
	nr_written = 0;
	free(ram);
	ram = calloc(1, RAM_SIZE);
	vm.name = "guest";
	lock = (struct spinlock)SPINLOCK_INIT;
	virtio_mmio_init(&d, &vm, SLOT, VIRTIO_ID_VSOCK, &ops, NULL, &lock);
}

static u64 mmio(u64 off, unsigned int size, bool write, u64 v)
{
	if (virtio_mmio_access(NULL, &d, off, size, write, &v) != 0)
		abort();                /* the VM is never stopped */
	return v;
}

static u32 rd(u64 off)
{
	return (u32)mmio(off, 4, false, 0xdeadbeefdeadbeefull);
}

static void wr(u64 off, u32 v)
{
	mmio(off, 4, true, v);
}

/* Linux's vm_get_features: high word first. */
static u64 device_features(void)
{
	u64 f;

	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	f = (u64)rd(VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	return f | rd(VIRTIO_MMIO_DEVICE_FEATURES);
}

static void set_driver_features(u64 f)
{
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (u32)(f >> 32));
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (u32)f);
}

/* virtio_add_status(): read, or in, write back. */
static void add_status(u32 bits)
{
	wr(VIRTIO_MMIO_STATUS, rd(VIRTIO_MMIO_STATUS) | bits);
}

/* Reset, ACKNOWLEDGE, DRIVER, @features, FEATURES_OK; true if the
 * device kept FEATURES_OK. */
static bool negotiate(u64 features)
{
	wr(VIRTIO_MMIO_STATUS, 0);
	add_status(VIRTIO_STATUS_ACKNOWLEDGE);
	add_status(VIRTIO_STATUS_DRIVER);
	set_driver_features(features);
	add_status(VIRTIO_STATUS_FEATURES_OK);
	return rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK;
}

static u64 queue_base(unsigned int q)
{
	return GUEST_RAM_BASE + 0x10000ull * (q + 1);
}

/* Linux's vm_setup_vq for queue @q of @num entries at queue_base(q):
 * descriptors, then the avail ring, the used ring page-aligned. */
static void write_queue_regs(unsigned int q, u32 num)
{
	u64 base = queue_base(q);

	wr(VIRTIO_MMIO_QUEUE_SEL, q);
	wr(VIRTIO_MMIO_QUEUE_NUM, num);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (u32)base);
	wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, (u32)(base >> 32));
	wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (u32)(base + 0x1000));
	wr(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (u32)((base + 0x1000) >> 32));
	wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (u32)(base + 0x2000));
	wr(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (u32)((base + 0x2000) >> 32));
}

static bool setup_queue(unsigned int q, u32 num)
{
	wr(VIRTIO_MMIO_QUEUE_SEL, q);
	if (rd(VIRTIO_MMIO_QUEUE_READY) || rd(VIRTIO_MMIO_QUEUE_NUM_MAX) < num)
		return false;
	write_queue_regs(q, num);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	return rd(VIRTIO_MMIO_QUEUE_READY) == 1;
}

/* The whole probe, as Linux does it, with EVENT_IDX. */
static bool bring_up(void)
{
	if (!negotiate(VERSION_1 | EVENT_IDX))
		return false;
	for (unsigned int q = 0; q < FAKE_NR_QUEUES; q++)
		if (!setup_queue(q, 128))
			return false;
	add_status(VIRTIO_STATUS_DRIVER_OK);
	return virtio_dev_live(&d);
}

static bool needs_reset(void)
{
	return rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET;
}

/* ---------------------------------------------------- identification */

TEST(identifies_as_a_version_2_vsock_device)
{
	fresh();
	CHECK_EQ(rd(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	CHECK_EQ(rd(VIRTIO_MMIO_VERSION), 2);
	CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_ID), 19);
	CHECK_EQ(rd(VIRTIO_MMIO_VENDOR_ID), VIRTIO_MMIO_VENDOR);
	CHECK_EQ(rd(VIRTIO_MMIO_STATUS), 0);
	CHECK_EQ(d.intid, GUEST_VIRTIO_INTID(SLOT));
	CHECK_EQ(nr_lines, 0);
}

TEST(offers_version_1_event_idx_and_the_device_features)
{
	fresh();
	CHECK_EQ(device_features(), ALL_FEATURES);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_FEATURES), 0);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0xffffffff);
	CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_FEATURES), 0);
}

TEST(has_no_shared_memory_and_no_queue_reset)
{
	fresh();
	wr(VIRTIO_MMIO_SHM_SEL, 0);
	CHECK_EQ(rd(VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);
	CHECK_EQ(rd(VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffff);
	CHECK_EQ(rd(VIRTIO_MMIO_SHM_BASE_LOW), 0xffffffff);
	CHECK_EQ(rd(VIRTIO_MMIO_SHM_BASE_HIGH), 0xffffffff);
	CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_RESET), 0);
	CHECK_EQ(nr_lines, 0);
}

/* ------------------------------------------------- the init handshake */

TEST(linux_probe_sequence_brings_the_device_up)
{
	fresh();
	CHECK(bring_up());
	CHECK_EQ(dev.reset, 1);
	CHECK_EQ(dev.start, 1);
	CHECK(!dev.lock_wrong);
	CHECK_EQ(rd(VIRTIO_MMIO_STATUS),
		 VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	CHECK_EQ(d.driver_features, VERSION_1 | EVENT_IDX);
	for (unsigned int q = 0; q < FAKE_NR_QUEUES; q++) {
		CHECK(d.vq_ready[q]);
		CHECK_EQ(d.vq[q].size, 128);
		CHECK(d.vq[q].event_idx);
		CHECK_EQ(d.vq[q].desc_ipa, queue_base(q));
		CHECK_EQ(d.vq[q].avail_ipa, queue_base(q) + 0x1000);
		CHECK_EQ(d.vq[q].used_ipa, queue_base(q) + 0x2000);
		CHECK(d.vq[q].desc == (void *)(ram + (queue_base(q) - GUEST_RAM_BASE)));
	}
	CHECK_EQ(irq.injected, 0);
	CHECK_EQ(nr_lines, 0);
}

TEST(queue_num_max_is_zero_for_a_queue_the_device_lacks)
{
	fresh();
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), VQ_MAX_SIZE);
	wr(VIRTIO_MMIO_QUEUE_SEL, FAKE_NR_QUEUES);
	CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	wr(VIRTIO_MMIO_QUEUE_SEL, 0xffffffff);
	CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
}

TEST(features_without_version_1_are_refused)
{
	fresh();
	CHECK(!negotiate(EVENT_IDX));
	CHECK_EQ(count_lines("driver features 0x20000000 refused"), 1);
	CHECK(!needs_reset());
}

TEST(features_the_device_did_not_offer_are_refused)
{
	fresh();
	CHECK(!negotiate(VERSION_1 | (1ull << 6)));
	CHECK(!negotiate(VERSION_1 | (1ull << 63)));
	/* Any subset with VERSION_1 is fine. */
	CHECK(negotiate(VERSION_1));
	CHECK(negotiate(ALL_FEATURES));
}

TEST(features_are_final_once_features_ok_is_accepted)
{
	fresh();
	CHECK(negotiate(VERSION_1));
	set_driver_features(VERSION_1 | EVENT_IDX);
	CHECK_EQ(d.driver_features, VERSION_1);
	CHECK(count_lines("write of 0x20000000 at 0x20 ignored") >= 1);
	CHECK(!needs_reset());
}

TEST(driver_ok_without_features_ok_needs_reset)
{
	fresh();
	CHECK(!negotiate(EVENT_IDX));
	add_status(VIRTIO_STATUS_DRIVER_OK);
	CHECK(needs_reset());
	CHECK(!(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK));
	CHECK_EQ(dev.start, 0);
	CHECK(!virtio_dev_live(&d));
	CHECK_EQ(count_lines("hv: VM 'guest' virtio vsock: DRIVER_OK without "
			     "FEATURES_OK: device needs reset"), 1);
	CHECK_EQ(irq.injected, 0);      /* no DRIVER_OK: no interrupt */
}

TEST(status_bits_stay_until_reset_and_needs_reset_is_the_devices)
{
	fresh();
	CHECK(bring_up());
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	CHECK_EQ(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK,
		 VIRTIO_STATUS_DRIVER_OK);
	add_status(VIRTIO_STATUS_NEEDS_RESET);
	CHECK(!needs_reset());
	CHECK_EQ(dev.start, 1);         /* DRIVER_OK again starts nothing */
	add_status(VIRTIO_STATUS_FAILED);
	CHECK(!virtio_dev_live(&d));
}

TEST(queue_enabled_before_features_ok_needs_reset)
{
	fresh();
	add_status(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	CHECK(!setup_queue(0, 64));
	CHECK(needs_reset());
	CHECK_EQ(count_lines("queue enabled before FEATURES_OK"), 1);
}

TEST(queue_that_fails_setup_needs_reset_with_the_reason)
{
	fresh();
	CHECK(negotiate(VERSION_1));
	wr(VIRTIO_MMIO_QUEUE_SEL, 1);
	write_queue_regs(1, 64);
	wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (u32)(GUEST_RAM_BASE + RAM_SIZE - 8));
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	CHECK(needs_reset());
	CHECK_EQ(count_lines("used ring outside guest memory: device needs reset"), 1);
}

TEST(queue_num_is_not_truncated_to_16_bits)
{
	fresh();
	CHECK(negotiate(VERSION_1));
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	write_queue_regs(0, 0x10000 + 64);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	CHECK_EQ(count_lines("queue size is not a power of two"), 1);
}

TEST(event_idx_follows_the_negotiated_features)
{
	fresh();
	CHECK(negotiate(VERSION_1));
	CHECK(setup_queue(0, 16));
	CHECK(!d.vq[0].event_idx);
}

TEST(queue_register_written_while_ready_needs_reset)
{
	static const u64 regs[] = {
		VIRTIO_MMIO_QUEUE_NUM, VIRTIO_MMIO_QUEUE_DESC_LOW,
		VIRTIO_MMIO_QUEUE_DESC_HIGH, VIRTIO_MMIO_QUEUE_DRIVER_LOW,
		VIRTIO_MMIO_QUEUE_DRIVER_HIGH, VIRTIO_MMIO_QUEUE_DEVICE_LOW,
		VIRTIO_MMIO_QUEUE_DEVICE_HIGH,
	};

	for (unsigned int i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		fresh();
		CHECK(bring_up());
		wr(VIRTIO_MMIO_QUEUE_SEL, 2);
		wr(regs[i], 0x1000);
		CHECK(needs_reset());
		CHECK(!virtio_dev_live(&d));
		/* The running queue kept its set-up. */
		CHECK_EQ(d.vq[2].size, 128);
		CHECK_EQ(d.vq[2].desc_ipa, queue_base(2));
		CHECK_EQ(d.vq[2].avail_ipa, queue_base(2) + 0x1000);
		CHECK_EQ(d.vq[2].used_ipa, queue_base(2) + 0x2000);
		/* With DRIVER_OK: a configuration change interrupt. */
		CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
		CHECK_EQ(irq.injected, 1);
		CHECK(!irq.bad_args);
		CHECK_EQ(d.needs_reset_count, 1);
		CHECK_EQ(count_lines("hv: VM 'guest' virtio vsock: queue register "
				     "written while the queue is ready: device needs reset"), 1);
	}
}

TEST(a_broken_device_says_so_once_and_ignores_notifies_until_reset)
{
	fresh();
	CHECK(bring_up());
	virtio_dev_broken(&d, "first reason");
	virtio_dev_broken(&d, "second reason");
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, 8);
	CHECK_EQ(count_lines("first reason"), 1);
	CHECK_EQ(nr_lines, 1);
	CHECK_EQ(irq.injected, 1);
	CHECK_EQ(d.needs_reset_count, 1);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 99);
	CHECK_EQ(dev.notify, 0);
	CHECK_EQ(nr_lines, 1);
	/* Reset, and it works again. */
	CHECK(bring_up());
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	CHECK_EQ(dev.notify, 1);
	virtio_dev_broken(&d, "third reason");
	CHECK_EQ(count_lines("third reason"), 1);
	CHECK_EQ(d.needs_reset_count, 2);
}

/* ------------------------------------------------------ notifications */

TEST(queue_notify_reaches_the_device_without_the_lock)
{
	fresh();
	CHECK(bring_up());
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	CHECK_EQ(dev.notify, 1);
	CHECK_EQ(dev.notified_queue, 1);
	CHECK(!dev.lock_wrong);
	CHECK(!locked());
}

TEST(queue_notify_is_ignored_before_driver_ok_and_for_stopped_queues)
{
	fresh();
	CHECK(negotiate(VERSION_1));
	CHECK(setup_queue(0, 8));
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	CHECK_EQ(dev.notify, 0);
	add_status(VIRTIO_STATUS_DRIVER_OK);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);               /* never enabled */
	CHECK_EQ(dev.notify, 0);
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_READY, 0);                /* vm_del_vq */
	CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	CHECK_EQ(dev.notify, 0);
	CHECK(!needs_reset());
}

TEST(queue_notify_of_a_queue_the_device_lacks_needs_reset)
{
	fresh();
	CHECK(bring_up());
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, FAKE_NR_QUEUES);
	CHECK(needs_reset());
	CHECK_EQ(dev.notify, 0);
	CHECK_EQ(count_lines("notify of a queue the device does not have"), 1);
}

/* One chain made available on queue 0 and used by the device. */
static void use_one_buffer(void)
{
	struct virtqueue *vq = &d.vq[0];
	struct vring_desc *desc = (void *)(ram + (queue_base(0) - GUEST_RAM_BASE));
	struct vring_avail *avail = vq->avail;
	struct vq_chain c;
	const char *why;

	desc[0] = (struct vring_desc){ GUEST_RAM_BASE + 0x100, 16, VRING_DESC_F_WRITE, 0 };
	avail->ring[avail->idx % vq->size] = 0;
	avail->idx++;
	if (vq_pop(vq, &c, &why) != 1)
		abort();
	vq_push(vq, c.head, 0);
}

TEST(used_buffer_interrupt_follows_the_event_index)
{
	fresh();
	CHECK(bring_up());
	use_one_buffer();
	virtio_dev_notify_used(&d, 0);
	CHECK_EQ(irq.injected, 1);
	CHECK(!irq.bad_args);
	CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	/* used_event 0 stays behind the used index: suppressed. */
	use_one_buffer();
	virtio_dev_notify_used(&d, 0);
	CHECK_EQ(irq.injected, 1);
	CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	/* The driver asks for the next one. */
	d.vq[0].avail->ring[d.vq[0].size] = 2;
	use_one_buffer();
	virtio_dev_notify_used(&d, 0);
	CHECK_EQ(irq.injected, 2);
	CHECK(nr_written > 0);          /* the used ring went through the door */
}

TEST(used_buffer_interrupt_needs_a_live_device_and_a_ready_queue)
{
	fresh();
	CHECK(bring_up());
	use_one_buffer();
	virtio_dev_notify_used(&d, FAKE_NR_QUEUES);
	virtio_dev_notify_used(&d, VIRTIO_MAX_QUEUES + 7);
	CHECK_EQ(irq.injected, 0);
	virtio_dev_broken(&d, "gone");
	CHECK_EQ(irq.injected, 1);      /* the configuration change */
	virtio_dev_notify_used(&d, 0);
	CHECK_EQ(irq.injected, 1);
	CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
}

TEST(interrupt_ack_clears_only_the_bits_written)
{
	fresh();
	CHECK(bring_up());
	use_one_buffer();
	virtio_dev_notify_used(&d, 0);
	virtio_dev_broken(&d, "gone");
	CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS),
		 VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_CONFIG);
	CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, 0xffffffff);
	CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
}

/* -------------------------------------------------------------- reset */

TEST(reset_clears_registers_queues_and_interrupts)
{
	fresh();
	CHECK(bring_up());
	use_one_buffer();
	virtio_dev_notify_used(&d, 0);
	wr(VIRTIO_MMIO_QUEUE_SEL, 2);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	d.config_generation = 7;
	virtio_dev_broken(&d, "gone");
	wr(VIRTIO_MMIO_STATUS, 0);
	CHECK_EQ(dev.reset, 2);
	CHECK(!dev.lock_wrong);
	CHECK_EQ(rd(VIRTIO_MMIO_STATUS), 0);
	CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	CHECK_EQ(d.driver_features, 0);
	CHECK_EQ(d.queue_sel, 0);
	CHECK_EQ(d.device_features_sel, 0);
	CHECK_EQ(d.driver_features_sel, 0);
	for (unsigned int q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		wr(VIRTIO_MMIO_QUEUE_SEL, q);
		CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
		CHECK(!d.vq_ready[q]);
		CHECK_EQ(d.vq[q].desc_ipa, 0);
		CHECK_EQ(d.vq[q].size, VQ_MAX_SIZE);
	}
	CHECK_EQ(rd(VIRTIO_MMIO_CONFIG_GENERATION), 7);  /* keeps counting */
	CHECK_EQ(d.needs_reset_count, 1);
	CHECK(!virtio_dev_live(&d));
	/* And the device comes up again from scratch. */
	CHECK(bring_up());
	CHECK_EQ(dev.start, 2);
}

/* ----------------------------------------------- configuration space */

TEST(config_space_reads_of_1_2_4_and_8_bytes)
{
	fresh();
	CHECK_EQ(mmio(VIRTIO_MMIO_CONFIG, 8, false, 0), CONFIG_VALUE);
	CHECK_EQ(mmio(VIRTIO_MMIO_CONFIG, 4, false, 0), 0x55667788);
	CHECK_EQ(mmio(VIRTIO_MMIO_CONFIG + 4, 4, false, 0), 0x11223344);
	CHECK_EQ(mmio(VIRTIO_MMIO_CONFIG + 2, 2, false, 0), 0x5566);
	CHECK_EQ(mmio(VIRTIO_MMIO_CONFIG + 7, 1, false, 0), 0x11);
	CHECK(!dev.lock_wrong);
	CHECK_EQ(nr_lines, 0);
	CHECK_EQ(rd(VIRTIO_MMIO_CONFIG_GENERATION), 0);
}

TEST(config_space_misuse_is_logged_and_reads_zero)
{
	fresh();
	CHECK_EQ(mmio(VIRTIO_MMIO_CONFIG + 8, 4, false, ~0ull), 0);  /* past it */
	CHECK_EQ(mmio(VIRTIO_MMIO_CONFIG + 2, 4, false, ~0ull), 0);  /* misaligned */
	CHECK_EQ(mmio(VIRTIO_MMIO_CONFIG, 3, false, ~0ull), 0);      /* odd size */
	mmio(VIRTIO_MMIO_CONFIG, 4, true, 0x1234);                   /* a write */
	CHECK_EQ(mmio(VIRTIO_MMIO_CONFIG, 8, false, 0), CONFIG_VALUE);
	CHECK_EQ(nr_lines, 4);
	CHECK_EQ(count_lines("4-byte write of 0x1234 at 0x100 ignored"), 1);
	CHECK(!needs_reset());
}

/* ------------------------------------------------ accesses ignored */

TEST(register_accesses_not_32_bit_are_logged_and_ignored)
{
	fresh();
	CHECK_EQ(mmio(VIRTIO_MMIO_MAGIC_VALUE, 2, false, ~0ull), 0);
	CHECK_EQ(mmio(VIRTIO_MMIO_MAGIC_VALUE, 8, false, ~0ull), 0);
	CHECK_EQ(mmio(VIRTIO_MMIO_MAGIC_VALUE + 1, 1, false, ~0ull), 0);
	mmio(VIRTIO_MMIO_STATUS, 1, true, VIRTIO_STATUS_ACKNOWLEDGE);
	mmio(VIRTIO_MMIO_STATUS + 2, 4, true, VIRTIO_STATUS_ACKNOWLEDGE);
	CHECK_EQ(rd(VIRTIO_MMIO_STATUS), 0);
	CHECK_EQ(nr_lines, 5);
	CHECK_EQ(count_lines("2-byte read at 0x0 ignored (reads 0)"), 1);
	CHECK(!needs_reset());
}

TEST(unknown_and_write_only_registers_read_zero_and_read_only_ignore_writes)
{
	fresh();
	CHECK_EQ(rd(0x028), 0);                           /* legacy GuestPageSize */
	CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_DESC_LOW), 0);      /* write-only */
	CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_NOTIFY), 0);
	wr(VIRTIO_MMIO_MAGIC_VALUE, 0);                   /* read-only */
	wr(VIRTIO_MMIO_INTERRUPT_STATUS, 0);
	wr(VIRTIO_MMIO_QUEUE_RESET, 1);                   /* not offered */
	CHECK_EQ(rd(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	CHECK_EQ(nr_lines, 6);
	CHECK(!needs_reset());
}

TEST(queue_registers_of_a_missing_queue_are_ignored)
{
	fresh();
	CHECK(negotiate(VERSION_1));
	wr(VIRTIO_MMIO_QUEUE_SEL, FAKE_NR_QUEUES);
	wr(VIRTIO_MMIO_QUEUE_NUM, 8);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	CHECK_EQ(nr_lines, 2);
	CHECK(!needs_reset());
}

TEST(log_lines_are_limited_per_device)
{
	fresh();
	for (int i = 0; i < 100; i++)
		rd(0x028);
	CHECK_EQ(nr_lines, 16);
	CHECK_EQ(count_lines("no more messages from this device"), 1);
	virtio_dev_broken(&d, "after the budget");
	CHECK_EQ(nr_lines, 16);
	CHECK(needs_reset());
}
