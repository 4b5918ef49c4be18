/*
 * Builds the device tree a VM boots with (see virt/guest_dt.h): the node
 * names, bindings and interrupt wiring of QEMU's `virt` machine, limited
 * to what the hypervisor emulates. Every address and INTID comes from
 * virt/guest_map.h.
 */
#include "drivers/psci.h"
#include "lib/compiler.h"
#include "lib/errno.h"
#include "lib/fdt_write.h"
#include "lib/printf.h"
#include "lib/types.h"
#include "virt/guest_dt.h"
#include "virt/guest_map.h"
#include "virt/scenario.h"

/* Cells of the root bus (addresses above 4 GiB possible) and of /cpus
 * (reg = MPIDR Aff0, no size). */
#define ROOT_ADDR_CELLS 2
#define ROOT_SIZE_CELLS 2
#define CPUS_ADDR_CELLS 1
#define CPUS_SIZE_CELLS 0
#define REG_CELLS (ROOT_ADDR_CELLS + ROOT_SIZE_CELLS)   /* one region */

_Static_assert(ROOT_ADDR_CELLS == 2 && ROOT_SIZE_CELLS == 2,
	       "reg_cells() writes each number as two cells");

/* GIC interrupt specifiers (bindings arm,gic and arm,gic-v3): three cells,
 * <type number flags>; type 0 is an SPI numbered from INTID 32, type 1 a
 * PPI numbered from INTID 16. */
#define GIC_IRQ_CELLS 3
#define GIC_SPI 0
#define GIC_PPI 1
#define GIC_FIRST_PPI 16
#define GIC_FIRST_SPI 32
#define IRQ_EDGE_RISING 1
#define IRQ_LEVEL_HIGH 4
/* GICv2 only: bits [15:8] of a PPI's flags, the CPUs it is wired to. */
#define GICV2_PPI_CPU_SHIFT 8
#define GICV2_MAX_CPUS 8

/* The phandles this tree hands out. */
#define PHANDLE_GIC 1
#define PHANDLE_APB_PCLK 2

/* The PL011's reference and bus clock, as on QEMU virt. */
#define APB_PCLK_HZ 24000000

/* "/pl011@" and up to 16 hex digits, NUL-terminated. */
#define UART_PATH_LEN 32

static const char machine[] = "linux,dummy-virt";

/* Parameters in the ranges virt/guest_dt.h states. */
static bool params_ok(const struct guest_dt_params *p)
{
	unsigned int max_cpus = VM_MAX_VCPUS;

	if (p->gic_version == 2)
		max_cpus = MIN(max_cpus, GICV2_MAX_CPUS);
	else if (p->gic_version != 3)
		return false;
	if (p->nr_vcpus == 0 || p->nr_vcpus > max_cpus)
		return false;
	if (p->ram_size == 0 || p->ram_base + p->ram_size - 1 < p->ram_base)
		return false;
	return p->initrd_end >= p->initrd_start;
}

/* @v as two cells, high word first, at @c. */
static void u64_cells(u32 *c, u64 v)
{
	c[0] = (u32)(v >> 32);
	c[1] = (u32)v;
}

/* The REG_CELLS cells of region (@base, @size) under the root, at @c. */
static void reg_cells(u32 *c, u64 base, u64 size)
{
	u64_cells(c, base);
	u64_cells(c + ROOT_ADDR_CELLS, size);
}

/* `reg` of one region under the root. */
static void prop_reg(struct fdt_writer *w, u64 base, u64 size)
{
	u32 c[REG_CELLS];

	reg_cells(c, base, size);
	fdt_property_cells(w, "reg", c, ARRAY_SIZE(c));
}

/* The specifier of @intid (a PPI or an SPI) with @flags, at @c. */
static void irq_cells(u32 c[GIC_IRQ_CELLS], u32 intid, u32 flags)
{
	bool ppi = intid < GIC_FIRST_SPI;

	c[0] = ppi ? GIC_PPI : GIC_SPI;
	c[1] = intid - (ppi ? GIC_FIRST_PPI : GIC_FIRST_SPI);
	c[2] = flags;
}

/* Flags of a level-triggered PPI: on GICv2 they also name the CPUs that
 * have it, every vCPU here (params_ok() keeps the mask within 8 bits). */
static u32 ppi_flags(const struct guest_dt_params *p)
{
	u32 flags = IRQ_LEVEL_HIGH;

	if (p->gic_version == 2)
		flags |= ((1u << p->nr_vcpus) - 1) << GICV2_PPI_CPU_SHIFT;
	return flags;
}

/* An `interrupts` property of the one interrupt @intid. */
static void prop_irq(struct fdt_writer *w, u32 intid, u32 flags)
{
	u32 c[GIC_IRQ_CELLS];

	irq_cells(c, intid, flags);
	fdt_property_cells(w, "interrupts", c, ARRAY_SIZE(c));
}

static void root_props(struct fdt_writer *w)
{
	fdt_property_u32(w, "#address-cells", ROOT_ADDR_CELLS);
	fdt_property_u32(w, "#size-cells", ROOT_SIZE_CELLS);
	fdt_property_string(w, "compatible", machine);
	fdt_property_string(w, "model", machine);
	fdt_property_u32(w, "interrupt-parent", PHANDLE_GIC);
}

/*
 * PSCI through HVC, which the hypervisor answers. The function IDs serve
 * a client that knows only the original "arm,psci" binding; they are the
 * standard PSCI 0.2 ones, which newer clients use without being told.
 */
static void psci_node(struct fdt_writer *w)
{
	static const char *const compat[] = {
		"arm,psci-1.0", "arm,psci-0.2", "arm,psci",
	};

	fdt_begin_node(w, "psci");
	fdt_property_strings(w, "compatible", compat, ARRAY_SIZE(compat));
	fdt_property_string(w, "method", "hvc");
	fdt_property_u32(w, "cpu_on", PSCI_CPU_ON_64);
	fdt_property_u32(w, "cpu_off", PSCI_CPU_OFF);
	fdt_end_node(w);
}

static void cpus_node(struct fdt_writer *w, const struct guest_dt_params *p)
{
	fdt_begin_node(w, "cpus");
	fdt_property_u32(w, "#address-cells", CPUS_ADDR_CELLS);
	fdt_property_u32(w, "#size-cells", CPUS_SIZE_CELLS);
	for (unsigned int i = 0; i < p->nr_vcpus; i++) {
		fdt_begin_node_at(w, "cpu", i);
		fdt_property_string(w, "device_type", "cpu");
		fdt_property_string(w, "compatible", "arm,armv8");
		fdt_property_u32(w, "reg", i);
		fdt_property_string(w, "enable-method", "psci");
		fdt_end_node(w);
	}
	fdt_end_node(w);
}

static void memory_node(struct fdt_writer *w, const struct guest_dt_params *p)
{
	fdt_begin_node_at(w, "memory", p->ram_base);
	fdt_property_string(w, "device_type", "memory");
	prop_reg(w, p->ram_base, p->ram_size);
	fdt_end_node(w);
}

/*
 * The distributor and, on GICv3, one redistributor region with a frame
 * per vCPU, or on GICv2 the CPU interface (the hardware GICV behind it).
 * The maintenance interrupt is described as QEMU does with
 * virtualization=on (a guest at EL1 has no use for it), except that on
 * GICv2 its flags carry the CPU mask like every other PPI here, as the
 * binding asks; QEMU leaves it out of this one, and Linux ignores it.
 */
static void gic_node(struct fdt_writer *w, const struct guest_dt_params *p)
{
	bool v3 = p->gic_version == 3;
	u32 reg[2 * REG_CELLS];

	reg_cells(reg, GUEST_GICD_BASE, GUEST_GICD_SIZE);
	if (v3)
		reg_cells(reg + REG_CELLS, GUEST_GICR_BASE,
			  p->nr_vcpus * GUEST_GICR_STRIDE);
	else
		reg_cells(reg + REG_CELLS, GUEST_GICC_BASE, GUEST_GICC_SIZE);

	fdt_begin_node_at(w, "intc", GUEST_GICD_BASE);
	fdt_property_string(w, "compatible",
			    v3 ? "arm,gic-v3" : "arm,cortex-a15-gic");
	fdt_property_cells(w, "reg", reg, ARRAY_SIZE(reg));
	if (v3)
		fdt_property_u32(w, "#redistributor-regions", 1);
	fdt_property(w, "interrupt-controller", NULL, 0);
	fdt_property_u32(w, "#interrupt-cells", GIC_IRQ_CELLS);
	/* Read through an interrupt-map; no child nodes, so no address. */
	fdt_property_u32(w, "#address-cells", 0);
	prop_irq(w, GUEST_MAINT_INTID, ppi_flags(p));
	fdt_property_u32(w, "phandle", PHANDLE_GIC);
	fdt_end_node(w);
}

/* The architected timer, its PPIs in the binding's order. */
static void timer_node(struct fdt_writer *w, const struct guest_dt_params *p)
{
	static const u32 intids[] = {
		GUEST_SEC_TIMER_INTID, GUEST_PTIMER_INTID, GUEST_VTIMER_INTID,
		GUEST_HYP_TIMER_INTID,
	};
	u32 c[ARRAY_SIZE(intids) * GIC_IRQ_CELLS];

	for (unsigned int i = 0; i < ARRAY_SIZE(intids); i++)
		irq_cells(c + (size_t)GIC_IRQ_CELLS * i, intids[i], ppi_flags(p));
	fdt_begin_node(w, "timer");
	fdt_property_string(w, "compatible", "arm,armv8-timer");
	fdt_property_cells(w, "interrupts", c, ARRAY_SIZE(c));
	fdt_property(w, "always-on", NULL, 0);
	fdt_end_node(w);
}

/* "/pl011@<base>", the console's path, into @path. */
static void uart_path(char path[UART_PATH_LEN])
{
	snprintf(path, UART_PATH_LEN, "/pl011@%llx",
		 (unsigned long long)GUEST_UART_BASE);
}

/* The PL011 and the fixed clock the AMBA bus and its driver ask for. */
static void uart_nodes(struct fdt_writer *w)
{
	static const char *const compat[] = { "arm,pl011", "arm,primecell" };
	static const char *const clock_names[] = { "uartclk", "apb_pclk" };
	static const u32 clocks[] = { PHANDLE_APB_PCLK, PHANDLE_APB_PCLK };
	char path[UART_PATH_LEN];

	fdt_begin_node(w, "apb-pclk");
	fdt_property_string(w, "compatible", "fixed-clock");
	fdt_property_u32(w, "#clock-cells", 0);
	fdt_property_u32(w, "clock-frequency", APB_PCLK_HZ);
	fdt_property_string(w, "clock-output-names", "clk24mhz");
	fdt_property_u32(w, "phandle", PHANDLE_APB_PCLK);
	fdt_end_node(w);

	uart_path(path);
	fdt_begin_node(w, path + 1);
	fdt_property_strings(w, "compatible", compat, ARRAY_SIZE(compat));
	prop_reg(w, GUEST_UART_BASE, GUEST_UART_SIZE);
	prop_irq(w, GUEST_UART_INTID, IRQ_LEVEL_HIGH);
	fdt_property_cells(w, "clocks", clocks, ARRAY_SIZE(clocks));
	fdt_property_strings(w, "clock-names", clock_names,
			     ARRAY_SIZE(clock_names));
	fdt_end_node(w);
}

_Static_assert(GUEST_VIRTIO_SLOTS <= 32, "virtio_slots is a u32 bitmap");
_Static_assert(GUEST_VIRTIO_INTID(GUEST_VIRTIO_SLOTS - 1) <
	       GIC_FIRST_SPI + GUEST_NR_SPIS, "every slot's SPI exists");

/* One virtio-mmio transport per slot set in virtio_slots, in slot order. */
static void virtio_nodes(struct fdt_writer *w, const struct guest_dt_params *p)
{
	for (unsigned int slot = 0; slot < GUEST_VIRTIO_SLOTS; slot++) {
		u64 base = GUEST_VIRTIO_BASE + slot * GUEST_VIRTIO_STRIDE;

		if (!(p->virtio_slots & (1u << slot)))
			continue;
		fdt_begin_node_at(w, "virtio_mmio", base);
		fdt_property_string(w, "compatible", "virtio,mmio");
		prop_reg(w, base, GUEST_VIRTIO_STRIDE);
		prop_irq(w, GUEST_VIRTIO_INTID(slot), IRQ_EDGE_RISING);
		fdt_property(w, "dma-coherent", NULL, 0);
		fdt_end_node(w);
	}
}

static void chosen_node(struct fdt_writer *w, const struct guest_dt_params *p)
{
	fdt_begin_node(w, "chosen");
	if (p->cmdline && *p->cmdline)
		fdt_property_string(w, "bootargs", p->cmdline);
	if (p->console) {
		char path[UART_PATH_LEN];

		uart_path(path);
		fdt_property_string(w, "stdout-path", path);
	}
	if (p->initrd_start || p->initrd_end) {
		fdt_property_u64(w, "linux,initrd-start", p->initrd_start);
		fdt_property_u64(w, "linux,initrd-end", p->initrd_end);
	}
	fdt_end_node(w);
}

int guest_dt_build(void *buf, size_t size, const struct guest_dt_params *p)
{
	struct fdt_writer w;

	if (!p || !params_ok(p))
		return -EINVAL;
	/* Errors stick in the writer: fdt_finish() reports the first. */
	fdt_create(&w, buf, size);
	fdt_begin_node(&w, "");
	root_props(&w);
	psci_node(&w);
	cpus_node(&w, p);
	memory_node(&w, p);
	gic_node(&w, p);
	timer_node(&w, p);
	if (p->console)
		uart_nodes(&w);
	virtio_nodes(&w, p);
	chosen_node(&w, p);
	fdt_end_node(&w);
	return fdt_finish(&w);
}
