/*
 * VMs from the scenario: creation at boot (memory, stage 2, devices,
 * device tree, images), the start of every CPU's vCPU, and the end of a
 * VM (SYSTEM_OFF, a crash, SYSTEM_RESET). When every VM has stopped, the
 * hypervisor ends with a verdict: pass unless a VM was stopped for
 * misbehaving.
 */
#include "arch/arm64/barrier.h"
#include "arch/arm64/cache.h"
#include "arch/arm64/cpu.h"
#include "arch/arm64/irq.h"
#include "boot/boot.h"
#include "drivers/gic.h"
#include "lib/console.h"
#include "lib/errno.h"
#include "lib/panic.h"
#include "lib/string.h"
#include "mm/hyp_pool.h"
#include "virt/exit.h"
#include "virt/guest_dt.h"
#include "virt/guest_mem.h"
#include "virt/hvdirty_svc.h"
#include "virt/manage.h"
#include "virt/vconsole.h"
#include "virt/vcpu.h"
#include "virt/vm_start.h"
#include "virt/vsock.h"
#include "virt/vtimer.h"

#define SZ_2M 0x200000ULL
#define SZ_128M 0x8000000ULL
/* The virtio-mmio slot of a VM's vsock device (its SPI is 48). */
#define VSOCK_SLOT 0u
/* A raw binary is loaded where QEMU loads one for AArch64: 512 KiB in. */
#define RAW_LOAD_OFFSET 0x80000ULL

/* arm64 Image header (Documentation/arch/arm64/booting.rst). */
#define IMAGE_MAGIC 0x644d5241u    /* "ARM\x64" at offset 56 */
#define IMAGE_HEADER_SIZE 64

static struct vm vms[SCENARIO_MAX_VMS];
/* At most one vCPU per physical CPU: the vCPU pinned to CPU i is here. */
static struct vcpu vcpu_slots[CONFIG_MAX_CPUS];

/* VMs not yet fully stopped; the CPU that takes it to 0 ends the run. */
static unsigned int vms_running;
/* Set (relaxed) by vm_stop(); read by the CPU that ends the run, which
 * is ordered after every vm_stop() by the acq_rel decrements of
 * vcpus_running and vms_running in vm_vcpu_left(). */
static bool vm_crashed_any;
/* Set once by CPU 0 when every VM exists; secondaries wait for it. */
static bool vms_started;


static u64 le64(const u8 *p)
{
	u64 v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* Where the kernel goes, as QEMU's -kernel would put it. */
static void place_kernel(const struct scenario_image *k, struct vm_layout *l)
{
	const u8 *h = k->data;

	if (k->size >= IMAGE_HEADER_SIZE && (u32)le64(h + 56) == IMAGE_MAGIC) {
		u64 text_offset = le64(h + 8), image_size = le64(h + 16);

		l->kernel_ipa = GUEST_RAM_BASE + text_offset;
		l->kernel_span = image_size > k->size ? image_size : k->size;
	} else {
		l->kernel_ipa = GUEST_RAM_BASE + RAW_LOAD_OFFSET;
		l->kernel_span = k->size;
	}
}

static u64 align_up(u64 v, u64 a)
{
	return (v + a - 1) & ~(a - 1);
}

/*
 * Kernel as QEMU places it; initrd at RAM + min(RAM/2, 128 MiB) but
 * above the kernel, as QEMU does; DTB in the last 2 MiB of RAM. Returns
 * 0 or -ENOMEM with a message naming what does not fit.
 */
static int plan_layout(const struct vm_config *c, struct vm_layout *l)
{
	u64 ram_end = GUEST_RAM_BASE + c->mem_size;
	u64 kernel_end, initrd_end;

	place_kernel(&c->kernel, l);
	kernel_end = l->kernel_ipa + l->kernel_span;
	l->dtb_ipa = ram_end - SZ_2M;
	l->initrd_ipa = GUEST_RAM_BASE + (c->mem_size / 2 < SZ_128M ? c->mem_size / 2 : SZ_128M);
	if (l->initrd_ipa < kernel_end)
		l->initrd_ipa = align_up(kernel_end, 0x1000);
	initrd_end = l->initrd_ipa + c->initrd.size;
	if (kernel_end > l->dtb_ipa || initrd_end > l->dtb_ipa) {
		printf("hv: VM '%s': kernel (%llu KiB)%s and the 2 MiB for its device "
		       "tree do not fit in %llu MiB: raise its `memory =`\n", c->name,
		       (unsigned long long)(l->kernel_span >> 10),
		       c->initrd.size ? " with initrd" : "",
		       (unsigned long long)(c->mem_size >> 20));
		return -ENOMEM;
	}
	return 0;
}

static int build_dtb(struct vm *vm, const struct board *b)
{
	const struct vm_config *c = vm->cfg;
	const struct vm_layout *l = &vm->layout;
	struct guest_dt_params p = {
		.ram_base = GUEST_RAM_BASE,
		.ram_size = c->mem_size,
		.nr_vcpus = c->nr_vcpus,
		.gic_version = b->gic.version,
		.cmdline = c->cmdline,
		.initrd_start = c->initrd.size ? l->initrd_ipa : 0,
		.initrd_end = c->initrd.size ? l->initrd_ipa + c->initrd.size : 0,
		.console = c->console,
		.virtio_slots = (c->devices & VM_DEV_VSOCK) ? 1u << VSOCK_SLOT : 0,
	};
	int n = guest_dt_build(vm->dtb, sizeof(vm->dtb), &p);

	if (n < 0) {
		printf("hv: VM '%s': its device tree does not fit in %llu bytes (%d)\n",
		       c->name, (unsigned long long)sizeof(vm->dtb), n);
		return n;
	}
	vm->dtb_size = (unsigned int)n;
	return 0;
}

/* (Re)loads kernel, initrd and device tree: at creation and at reset. */
static int vm_load(struct vm *vm)
{
	const struct vm_config *c = vm->cfg;
	const struct vm_layout *l = &vm->layout;
	int r = guest_write(vm, l->kernel_ipa, c->kernel.data, c->kernel.size);

	if (!r && c->initrd.size)
		r = guest_write(vm, l->initrd_ipa, c->initrd.data, c->initrd.size);
	if (!r)
		r = guest_write(vm, l->dtb_ipa, vm->dtb, vm->dtb_size);
	icache_inval_all();
	return r;
}

/* The smallest PARange size that holds the VM's RAM, if the CPU has it. */
static int vm_ipa_range(const struct vm_config *c, unsigned int *enc)
{
	u64 end = GUEST_RAM_BASE + c->mem_size;

	for (unsigned int e = 0; e <= cpu_pa_range() && e <= PARANGE_48; e++) {
		if (parange_bits(e) >= 64 || end <= (1ULL << parange_bits(e))) {
			*enc = e;
			return 0;
		}
	}
	printf("hv: VM '%s': %llu MiB of RAM from 0x%llx is beyond this CPU's "
	       "%u-bit physical addresses: lower its `memory =`\n", c->name,
	       (unsigned long long)(c->mem_size >> 20),
	       (unsigned long long)GUEST_RAM_BASE, parange_bits(cpu_pa_range()));
	return -ERANGE;
}

static int vm_alloc_ram(struct vm *vm)
{
	const struct vm_config *c = vm->cfg;
	int r = page_alloc(&hyp_pool, c->mem_size >> PAGE_SHIFT, SZ_2M >> PAGE_SHIFT,
			   &vm->ram_pa);

	if (r)
		printf("hv: VM '%s': no %llu MiB of contiguous free RAM for it "
		       "(%llu MiB free in all): lower its `memory =`\n", c->name,
		       (unsigned long long)(c->mem_size >> 20),
		       (unsigned long long)(page_pool_free_pages(&hyp_pool) >> 8));
	vm->ram_size = c->mem_size;
	return r;
}

static int vm_map(struct vm *vm, const struct board *b)
{
	int r = stage2_init(&vm->s2, &hyp_pool, &stage2_default_ops,
			    parange_bits(vm->ipa_range), cpu_pa_range(), vm->id + 1);

	if (!r)
		r = stage2_map(&vm->s2, GUEST_RAM_BASE, vm->ram_pa, vm->ram_size,
			       STAGE2_PROT_RW | STAGE2_PROT_X);
	/* GICv2: the guest's CPU interface is the hardware's GICV. */
	if (!r && b->gic.version == GIC_V2)
		r = stage2_map(&vm->s2, GUEST_GICC_BASE, b->gic.gicv, GUEST_GICC_SIZE,
			       STAGE2_PROT_RW | STAGE2_PROT_DEVICE);
	if (r)
		printf("hv: VM '%s': stage-2 tables could not be built (%d)\n",
		       vm->name, r);
	return r;
}

static int add_ram_slot(struct memslot_array *next, void *arg)
{
	return memslot_array_insert(next, arg);
}

static void wake_vcpu(void *arg, u32 ring_index)
{
	struct vm *vm = arg;

	vcpu_kick(vm->vcpus[ring_index]);
}

/*
 * RAM becomes memslot 0, and the dirty-tracking engine gets one ring per
 * vCPU (ring i is vCPU i's, which wake_vcpu() relies on).
 */
static int vm_init_memory(struct vm *vm)
{
	struct memslot ram = { .ipa = GUEST_RAM_BASE, .size = vm->ram_size,
			       .pa = vm->ram_pa, .id = 0, .flags = 0 };
	int r;

	memslots_init(&vm->slots);
	r = memslots_update(&vm->slots, add_ram_slot, &ram);
	if (!r)
		r = dirty_log_init(&vm->dirty, &vm->s2, &vm->slots, &hyp_pool,
				   cpu_hafdbs() >= HAFDBS_AF_DBM);
	for (unsigned int i = 0; !r && i < vm->nr_vcpus; i++)
		r = dirty_log_add_vcpu_ring(&vm->dirty, &vm->vcpus[i]->ring);
	vm->dirty.wake = wake_vcpu;
	vm->dirty.wake_arg = vm;
	if (r)
		printf("hv: VM '%s': no memory for its dirty rings (%d)\n",
		       vm->name, r);
	return r;
}

static int gicd_access(struct vcpu *v, void *dev, u64 off, unsigned int size,
		       bool write, u64 *val)
{
	return vgic_dist_mmio(v, off, size, write, val);
}

static int gicr_access(struct vcpu *v, void *dev, u64 off, unsigned int size,
		       bool write, u64 *val)
{
	return vgic_redist_mmio(v, off, size, write, val);
}

static int uart_access(struct vcpu *v, void *dev, u64 off, unsigned int size,
		       bool write, u64 *val)
{
	return vpl011_mmio(dev, off, size, write, val);
}

static void add_mmio(struct vm *vm, u64 base, u64 size, void *dev,
		     int (*access)(struct vcpu *, void *, u64, unsigned int, bool, u64 *))
{
	BUG_ON(vm->nr_mmio >= VM_MAX_MMIO);
	vm->mmio[vm->nr_mmio++] = (struct mmio_region){ base, size, dev, access };
}

void vm_add_mmio(struct vm *vm, u64 base, u64 size, void *dev,
		 int (*access)(struct vcpu *, void *, u64, unsigned int, bool, u64 *))
{
	add_mmio(vm, base, size, dev, access);
}

static void vm_add_devices(struct vm *vm, const struct board *b)
{
	add_mmio(vm, GUEST_GICD_BASE, GUEST_GICD_SIZE, NULL, gicd_access);
	if (b->gic.version == GIC_V3)
		add_mmio(vm, GUEST_GICR_BASE, vgic_redist_size(vm), NULL,
			 gicr_access);
	if (vm->cfg->console) {
		vpl011_init(&vm->uart, vm);
		add_mmio(vm, GUEST_UART_BASE, GUEST_UART_SIZE, &vm->uart, uart_access);
	}
}

static void vm_add_vcpus(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		unsigned int p = vm->cfg->pcpus[i];
		struct vcpu *v = &vcpu_slots[p];

		v->vm = vm;
		v->index = i;
		v->pcpu = p;
		v->power = VCPU_OFF;
		memslot_cache_init(&v->mmio_cache);
		vm->vcpus[i] = v;
		cpus[p].vcpu = v;
	}
}

/* vCPU 0 starts at the kernel with x0 = DTB, like a PSCI CPU_ON. */
static void vm_power_on_boot_vcpu(struct vm *vm)
{
	struct vcpu *v0 = vm->vcpus[0];

	v0->entry_pc = vm->layout.kernel_ipa;
	v0->entry_ctx = vm->layout.dtb_ipa;
	/* Release: pairs with the acquire in the run loop's power check. */
	__atomic_store_n(&v0->power, VCPU_ON_PENDING, __ATOMIC_RELEASE);
}

/* Checks what the build could not know: the board's CPUs and GIC. */
static int vm_check_board(const struct vm_config *c, const struct board *b)
{
	for (unsigned int i = 0; i < c->nr_vcpus; i++) {
		if (c->pcpus[i] >= CONFIG_MAX_CPUS || !cpu_is_online(c->pcpus[i])) {
			printf("hv: VM '%s' is pinned to CPU %u, which is not online "
			       "(%u CPUs are): change its `cpus =`\n", c->name,
			       c->pcpus[i], cpus_online());
			return -EINVAL;
		}
	}
	if (b->gic.version == GIC_V2 && !b->gic.gicv) {
		printf("hv: VM '%s': this GICv2 has no virtualisation extensions "
		       "(no GICV in the device tree): VMs cannot run here\n", c->name);
		return -ENOSYS;
	}
	return 0;
}

static int vm_create(struct vm *vm, unsigned int id, const struct board *b)
{
	const struct vm_config *c = &scenario.vms[id];
	int r;

	vm->cfg = c;
	vm->name = c->name;
	vm->id = id;
	vm->nr_vcpus = c->nr_vcpus;
	vm->state = VM_RUNNING;
	r = vm_check_board(c, b);
	if (!r)
		r = plan_layout(c, &vm->layout);
	if (!r)
		r = vm_ipa_range(c, &vm->ipa_range);
	if (!r)
		r = vm_alloc_ram(vm);
	if (!r)
		r = vm_map(vm, b);
	if (!r)
		r = build_dtb(vm, b);
	if (r)
		return r;
	vm_add_vcpus(vm);
	r = vm_init_memory(vm);
	if (r)
		return r;
	r = vgic_init(vm);
	if (r) {
		printf("hv: VM '%s': virtual GIC set-up failed (%d)\n", vm->name, r);
		return r;
	}
	vm_add_devices(vm, b);
	if (c->devices & VM_DEV_VSOCK) {
		r = vsock_create(vm, VSOCK_SLOT);
		if (r)
			return r;
	}
	r = vm_load(vm);
	if (r)
		return r;
	vconsole_add_vm(vm);
	vm_power_on_boot_vcpu(vm);
	printf("hv: VM '%s': %u vCPU(s) on CPU(s)", vm->name, vm->nr_vcpus);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		printf("%s%u", i ? "," : " ", c->pcpus[i]);
	printf(", %llu MiB at 0x%llx, %s at IPA 0x%llx\n",
	       (unsigned long long)(vm->ram_size >> 20), (unsigned long long)vm->ram_pa,
	       c->kernel.path, (unsigned long long)vm->layout.kernel_ipa);
	return 0;
}

struct vcpu *vm_vcpu_by_mpidr(struct vm *vm, u64 mpidr)
{
	u64 aff = mpidr & MPIDR_AFF_MASK;

	/* A vCPU's affinity is its index in Aff0; Aff1-3 are zero. */
	if (aff >= vm->nr_vcpus)
		return NULL;
	return vm->vcpus[aff];
}

void vm_stop(struct vm *vm, enum vm_state why)
{
	spin_lock(&vm->lock);
	if (vm->state != VM_RUNNING) {
		spin_unlock(&vm->lock);
		return;   /* already stopping */
	}
	vm->state = why;
	spin_unlock(&vm->lock);
	if (why == VM_CRASHED)
		__atomic_store_n(&vm_crashed_any, true, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_request(vm->vcpus[i], VCPU_REQ_STOP);
}

/* The last vCPU of a VM to leave reports it; the last VM ends the run. */
void vm_vcpu_left(struct vcpu *v)
{
	struct vm *vm = v->vm;
	bool last_vcpu;

	/* acq_rel: the last one sees what every other vCPU did before it
	 * left (console output in particular). */
	last_vcpu = __atomic_sub_fetch(&vm->vcpus_running, 1, __ATOMIC_ACQ_REL) == 0;
	if (!last_vcpu)
		return;
	vconsole_flush(vm);
	printf("hv: VM '%s' %s\n", vm->name,
	       vm->state == VM_OFF ? "powered off" : "was stopped");
	manage_vm_stopped(vm);
	vsock_vm_stopped(vm);
	if (__atomic_sub_fetch(&vms_running, 1, __ATOMIC_ACQ_REL) == 0) {
		bool crashed = __atomic_load_n(&vm_crashed_any, __ATOMIC_RELAXED);

		printf("hv: all VMs have stopped%s\n",
		       crashed ? "; at least one was stopped by the hypervisor" : "");
		boot_finish(!crashed);
	}
}

struct vm *vm_by_id(unsigned int id)
{
	/* Published before any vCPU runs (vms_started, release). */
	return id < scenario.nr_vms ? &vms[id] : NULL;
}

/* Has @v parked having seen pause @seq (or a later one), or left? */
static bool vcpu_parked(struct vcpu *v, u32 seq)
{
	/* Acquire: pairs with the vCPU's releases in vcpu_pause_wait() and
	 * vcpu_put(): what it did before parking (its last fault, its last
	 * ring entry) is visible to the caller's harvest. */
	return (s32)(__atomic_load_n(&v->paused_seq, __ATOMIC_ACQUIRE) - seq) >= 0 ||
	       __atomic_load_n(&v->left, __ATOMIC_ACQUIRE);
}

void vm_pause(struct vm *vm)
{
	u32 seq;

	spin_lock(&vm->lock);
	seq = vm->pause_seq + 1;
	/* Release: pair with the vCPUs' acquires in vcpu_pause_wait(). A
	 * vCPU parks only after seeing this @seq, so an older parking
	 * (from an earlier pause) never satisfies the wait below. */
	__atomic_store_n(&vm->pause_seq, seq, __ATOMIC_RELEASE);
	__atomic_store_n(&vm->pause_depth, vm->pause_depth + 1, __ATOMIC_RELEASE);
	spin_unlock(&vm->lock);
	vsock_vm_paused(vm);   /* its devices write no more into its memory */
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_request(vm->vcpus[i], VCPU_REQ_PAUSE);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		while (!vcpu_parked(vm->vcpus[i], seq))
			cpu_relax();
}

void vm_resume(struct vm *vm)
{
	u32 depth;

	spin_lock(&vm->lock);
	depth = vm->pause_depth ? vm->pause_depth - 1 : 0;
	/* Release: pairs with the acquire in vcpu_pause_wait(). */
	__atomic_store_n(&vm->pause_depth, depth, __ATOMIC_RELEASE);
	spin_unlock(&vm->lock);
	if (depth)
		return;
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(vm->vcpus[i]);
	vsock_vm_resumed(vm);
}

void vm_request_reset(struct vm *vm)
{
	spin_lock(&vm->lock);
	if (vm->state != VM_RUNNING || vm->resetting) {
		spin_unlock(&vm->lock);
		return;
	}
	vm->resetting = true;
	spin_unlock(&vm->lock);
	printf("hv: VM '%s' asked for a reset: restarting it\n", vm->name);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_request(vm->vcpus[i], VCPU_REQ_RESET);
}

static bool reset_done(struct vcpu *v)
{
	/* Acquire: pairs with the release that ends the reset below. */
	return __atomic_load_n(&v->vm->reset_generation, __ATOMIC_ACQUIRE) !=
	       v->reset_seen;
}

/*
 * Every vCPU of a resetting VM comes here from its run loop. vCPU 0
 * waits until all have arrived (so none is in the guest or an exit
 * handler), reloads the images and powers itself on; the others wait,
 * powered off, for it to finish. No lock is held while waiting.
 */
void vm_vcpu_reset_barrier(struct vcpu *v)
{
	struct vm *vm = v->vm;

	spin_lock(&vm->lock);
	__atomic_store_n(&v->power, VCPU_OFF, __ATOMIC_RELEASE);
	spin_unlock(&vm->lock);
	v->reset_seen = __atomic_load_n(&vm->reset_generation, __ATOMIC_ACQUIRE);
	/* Release: vCPU 0's acquire below sees this vCPU is out of the guest. */
	__atomic_add_fetch(&vm->reset_arrived, 1, __ATOMIC_RELEASE);
	if (v->index != 0) {
		vcpu_wait_until(v, reset_done);
		return;
	}
	while (__atomic_load_n(&vm->reset_arrived, __ATOMIC_ACQUIRE) != vm->nr_vcpus)
		cpu_relax();
	/* Relaxed: every vCPU has arrived and waits for the generation
	 * release below, which publishes this too. */
	__atomic_store_n(&vm->reset_arrived, 0, __ATOMIC_RELAXED);
	vsock_vm_reset(vm);   /* nothing more lands in the memory reloaded below */
	if (vm_load(vm))
		panic("VM '%s': reloading its images failed", vm->name);
	vgic_reset(vm);
	if (vm->cfg->console)
		vpl011_reset(&vm->uart);
	spin_lock(&vm->lock);
	vm->resetting = false;
	spin_unlock(&vm->lock);
	vm_power_on_boot_vcpu(vm);
	/* Release: the reloaded VM is complete before anyone sees the end. */
	__atomic_add_fetch(&vm->reset_generation, 1, __ATOMIC_RELEASE);
	for (unsigned int i = 1; i < vm->nr_vcpus; i++)
		vcpu_kick(vm->vcpus[i]);
}

static enum irq_result kick_handler(u32 intid)
{
	/* Nothing to do: the exit itself makes the run loop look again. */
	return IRQ_DONE;
}

/* Creates every VM of the scenario. Returns 0, or a negative errno after
 * a message saying what to change. */
int vm_start_scenario(const struct board *b)
{
	int r;

	if (!scenario.nr_vms)
		return 0;
	printf("hv: scenario '%s': %u VM(s)\n", scenario.name, scenario.nr_vms);
	r = gic_request_private(HV_SGI_KICK, kick_handler);
	if (!r)
		r = vtimer_init(b);
	if (!r)
		r = hvdirty_svc_init();   /* CID 2 services exist before any VM runs */
	for (unsigned int i = 0; !r && i < scenario.nr_vms; i++)
		r = vm_create(&vms[i], i, b);
	if (r)
		return r;
	for (unsigned int i = 0; i < scenario.nr_vms; i++)
		vms[i].vcpus_running = vms[i].nr_vcpus;
	vms_running = scenario.nr_vms;
	vconsole_init();
	/* Release: every CPU's acquire in vm_cpu_main() sees the VMs whole. */
	__atomic_store_n(&vms_started, true, __ATOMIC_RELEASE);
	sev();
	return 0;
}

__noreturn void vm_cpu_main(void)
{
	struct vcpu *v;

	while (!__atomic_load_n(&vms_started, __ATOMIC_ACQUIRE))
		wfe();
	irq_disable();
	v = this_cpu()->vcpu;
	if (v) {
		gic_enable_private_here(HV_SGI_KICK);
		vgic_cpu_init_hw();
		vtimer_init_cpu();
		vcpu_run(v);
	}
	irq_enable();
	for (;;)
		wfi();
}
