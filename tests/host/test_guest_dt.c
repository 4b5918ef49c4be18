/*
 * Tests of virt/guest_dt.c: each generated tree is read back with the
 * project's reader (lib/fdt.c) and compared value by value with
 * virt/guest_map.h, for GICv2 and GICv3, one and eight vCPUs, with and
 * without console, command line, initrd and virtio slots; parsed by
 * boot/board.c's board_from_fdt() as a guest would; and run through dtc
 * ($HV_DTC, default "dtc"), which must accept it without a warning.
 */
#include <stdlib.h>
#include <unistd.h>

#include "boot/board.h"
#include "lib/errno.h"
#include "lib/fdt.h"
#include "tests/host/test.h"
#include "virt/guest_dt.h"
#include "virt/guest_map.h"

#define DT_BUF 65536

static u8 dt[DT_BUF];
static int dt_size;

/* 256 MiB of RAM, @gic, @n vCPUs and nothing optional. */
static struct guest_dt_params bare(unsigned int gic, unsigned int n)
{
	return (struct guest_dt_params){
		.ram_base = GUEST_RAM_BASE, .ram_size = 256 << 20,
		.nr_vcpus = n, .gic_version = gic,
	};
}

/* Everything optional on. */
static struct guest_dt_params full(unsigned int gic, unsigned int n)
{
	struct guest_dt_params p = bare(gic, n);

	p.cmdline = "console=ttyAMA0 earlycon root=/dev/vda";
	p.initrd_start = GUEST_RAM_BASE + (64 << 20);
	p.initrd_end = p.initrd_start + 0x123456;
	p.console = true;
	p.virtio_slots = 1u << 0 | 1u << 5 | 1u << 31;
	return p;
}

/* Builds @p into dt and checks the blob; false (and a message) if not. */
static bool build(const struct guest_dt_params *p)
{
	dt_size = guest_dt_build(dt, sizeof(dt), p);
	if (dt_size <= 0 || fdt_check(dt, (size_t)dt_size) != 0) {
		printf("  guest_dt_build: %d\n", dt_size);
		return false;
	}
	return true;
}

static int node(const char *path)
{
	return fdt_path_offset(dt, path);
}

/* True when property @name of @path holds exactly the @n cells @want. */
static bool cells_are(const char *path, const char *name, const u32 *want,
		      unsigned int n)
{
	int len;
	const u8 *p = fdt_getprop(dt, node(path), name, &len);

	if (!p || len != (int)(4 * n))
		return false;
	for (unsigned int i = 0; i < n; i++)
		if (fdt_prop_u32(p, i) != want[i])
			return false;
	return true;
}

/* True when property @name of node @n is the @len bytes at @want. */
static bool node_bytes_are(int n, const char *name, const void *want, int len)
{
	int got;
	const void *p = fdt_getprop(dt, n, name, &got);

	return p && got == len && memcmp(p, want, (size_t)len) == 0;
}

static bool bytes_are(const char *path, const char *name, const void *want,
		      int len)
{
	return node_bytes_are(node(path), name, want, len);
}

/* True when @path has property @name, empty. */
static bool has_empty(const char *path, const char *name)
{
	int len;

	return fdt_getprop(dt, node(path), name, &len) && len == 0;
}

static bool has_prop(const char *path, const char *name)
{
	return fdt_getprop(dt, node(path), name, NULL) != NULL;
}

/* High and low cells of a 64-bit number, for expected values. */
#define HI(x) ((u32)((u64)(x) >> 32))
#define LO(x) ((u32)(x))

/* ------------------------------------------------------------ root */

TEST(root_is_a_dummy_virt_with_two_cell_addresses)
{
	static const u32 two[] = { 2 };
	u32 gic_phandle, parent;
	struct guest_dt_params p = bare(3, 1);

	CHECK(build(&p));
	CHECK(cells_are("/", "#address-cells", two, 1));
	CHECK(cells_are("/", "#size-cells", two, 1));
	CHECK(bytes_are("/", "compatible", "linux,dummy-virt", 17));
	CHECK_STREQ(fdt_getprop_str(dt, 0, "model"), "linux,dummy-virt");
	CHECK_EQ(fdt_getprop_u32(dt, 0, "interrupt-parent", &parent), 0);
	CHECK_EQ(fdt_getprop_u32(dt, node("/intc@8000000"), "phandle",
				 &gic_phandle), 0);
	CHECK_EQ(parent, gic_phandle);
	CHECK_EQ(fdt_node_by_phandle(dt, parent), node("/intc@8000000"));
}

TEST(psci_is_1_0_through_hvc)
{
	static const char compat[] = "arm,psci-1.0\0arm,psci-0.2\0arm,psci";
	static const u32 on[] = { 0xc4000003 }, off[] = { 0x84000002 };
	struct guest_dt_params p = bare(3, 1);

	CHECK(build(&p));
	CHECK(bytes_are("/psci", "compatible", compat, sizeof(compat)));
	CHECK_STREQ(fdt_getprop_str(dt, node("/psci"), "method"), "hvc");
	CHECK(cells_are("/psci", "cpu_on", on, 1));
	CHECK(cells_are("/psci", "cpu_off", off, 1));
}

/* ------------------------------------------------------------ CPUs */

/* /cpus holds exactly cpu@0..@n-1, each started through PSCI. */
static void check_cpus(unsigned int n)
{
	static const u32 one[] = { 1 }, zero[] = { 0 };
	unsigned int count = 0;
	int c;

	CHECK(cells_are("/cpus", "#address-cells", one, 1));
	CHECK(cells_are("/cpus", "#size-cells", zero, 1));
	for (c = fdt_first_child(dt, node("/cpus")); c >= 0;
	     c = fdt_next_sibling(dt, c), count++) {
		char name[16];
		u32 reg;

		snprintf(name, sizeof(name), "cpu@%x", count);
		CHECK_STREQ(fdt_node_name(dt, c), name);
		CHECK_EQ(fdt_getprop_u32(dt, c, "reg", &reg), 0);
		CHECK_EQ(reg, count);
		CHECK_STREQ(fdt_getprop_str(dt, c, "device_type"), "cpu");
		CHECK(node_bytes_are(c, "compatible", "arm,armv8", 10));
		CHECK_STREQ(fdt_getprop_str(dt, c, "enable-method"), "psci");
	}
	CHECK_EQ(count, n);
}

TEST(one_vcpu_is_cpu_0)
{
	struct guest_dt_params p = bare(3, 1);

	CHECK(build(&p));
	check_cpus(1);
}

TEST(eight_vcpus_are_cpu_0_to_7)
{
	struct guest_dt_params p = bare(2, 8);

	CHECK(build(&p));
	check_cpus(8);
}

/* ---------------------------------------------------------- memory */

TEST(memory_node_is_named_for_its_base)
{
	const u32 want[] = { 0, 0x40000000, 0, 256 << 20 };
	const u32 high[] = { 1, 0, 0, 0xc0000000 };
	struct guest_dt_params p = bare(3, 1);

	CHECK(build(&p));
	CHECK(cells_are("/memory@40000000", "reg", want, 4));
	CHECK_STREQ(fdt_getprop_str(dt, node("/memory@40000000"), "device_type"),
		    "memory");
	p.ram_base = 0x100000000ULL;
	p.ram_size = 0xc0000000ULL;
	CHECK(build(&p));
	CHECK(cells_are("/memory@100000000", "reg", high, 4));
}

/* ------------------------------------------------------------- GIC */

TEST(gicv3_has_distributor_and_one_redistributor_region)
{
	const u32 reg1[] = {
		0, LO(GUEST_GICD_BASE), 0, LO(GUEST_GICD_SIZE),
		0, LO(GUEST_GICR_BASE), 0, LO(GUEST_GICR_STRIDE),
	};
	const u32 reg8[] = {
		0, LO(GUEST_GICD_BASE), 0, LO(GUEST_GICD_SIZE),
		0, LO(GUEST_GICR_BASE), 0, LO(8 * GUEST_GICR_STRIDE),
	};
	static const u32 maint[] = { 1, GUEST_MAINT_INTID - 16, 4 };
	static const u32 zero[] = { 0 }, one[] = { 1 }, three[] = { 3 };
	struct guest_dt_params p = bare(3, 1);

	CHECK(build(&p));
	CHECK(bytes_are("/intc", "compatible", "arm,gic-v3", 11));
	CHECK(cells_are("/intc@8000000", "reg", reg1, 8));
	CHECK(cells_are("/intc@8000000", "#redistributor-regions", one, 1));
	CHECK(has_empty("/intc@8000000", "interrupt-controller"));
	CHECK(cells_are("/intc@8000000", "#interrupt-cells", three, 1));
	CHECK(cells_are("/intc@8000000", "#address-cells", zero, 1));
	CHECK(cells_are("/intc@8000000", "interrupts", maint, 3));
	p = bare(3, 8);
	CHECK(build(&p));
	CHECK(cells_are("/intc@8000000", "reg", reg8, 8));
	CHECK(cells_are("/intc@8000000", "interrupts", maint, 3));
}

TEST(gicv2_has_distributor_and_cpu_interface)
{
	const u32 reg[] = {
		0, LO(GUEST_GICD_BASE), 0, LO(GUEST_GICD_SIZE),
		0, LO(GUEST_GICC_BASE), 0, LO(GUEST_GICC_SIZE),
	};
	/* Level-high, CPU mask in bits [15:8]: one bit per vCPU. */
	static const u32 maint1[] = { 1, GUEST_MAINT_INTID - 16, 0x104 };
	static const u32 maint8[] = { 1, GUEST_MAINT_INTID - 16, 0xff04 };
	static const u32 zero[] = { 0 }, three[] = { 3 };
	struct guest_dt_params p = bare(2, 1);

	CHECK(build(&p));
	CHECK(bytes_are("/intc", "compatible", "arm,cortex-a15-gic", 19));
	CHECK(cells_are("/intc@8000000", "reg", reg, 8));
	CHECK(!has_prop("/intc@8000000", "#redistributor-regions"));
	CHECK(has_empty("/intc@8000000", "interrupt-controller"));
	CHECK(cells_are("/intc@8000000", "#interrupt-cells", three, 1));
	CHECK(cells_are("/intc@8000000", "#address-cells", zero, 1));
	CHECK(cells_are("/intc@8000000", "interrupts", maint1, 3));
	p = bare(2, 8);
	CHECK(build(&p));
	CHECK(cells_are("/intc@8000000", "reg", reg, 8));
	CHECK(cells_are("/intc@8000000", "interrupts", maint8, 3));
}

/* ----------------------------------------------------------- timer */

TEST(timer_ppis_in_binding_order_level_high)
{
	static const u32 want[] = {
		1, GUEST_SEC_TIMER_INTID - 16, 4, 1, GUEST_PTIMER_INTID - 16, 4,
		1, GUEST_VTIMER_INTID - 16, 4, 1, GUEST_HYP_TIMER_INTID - 16, 4,
	};
	struct guest_dt_params p = bare(3, 8);

	CHECK(build(&p));
	CHECK(bytes_are("/timer", "compatible", "arm,armv8-timer", 16));
	CHECK(cells_are("/timer", "interrupts", want, 12));
	CHECK(has_empty("/timer", "always-on"));
}

TEST(gicv2_timer_ppis_carry_the_cpu_mask)
{
	static const u32 two_cpus[] = {
		1, 13, 0x304, 1, 14, 0x304, 1, 11, 0x304, 1, 10, 0x304,
	};
	struct guest_dt_params p = bare(2, 2);

	/* The same cells as QEMU's virt,gic-version=2 with -smp 2. */
	CHECK(build(&p));
	CHECK(cells_are("/timer", "interrupts", two_cpus, 12));
}

/* --------------------------------------------------------- console */

TEST(console_is_a_pl011_with_its_clock_and_stdout_path)
{
	const u32 reg[] = { 0, LO(GUEST_UART_BASE), 0, LO(GUEST_UART_SIZE) };
	static const u32 irq[] = { 0, GUEST_UART_INTID - 32, 4 };
	static const u32 hz[] = { 24000000 }, zero[] = { 0 };
	static const char compat[] = "arm,pl011\0arm,primecell";
	static const char clock_names[] = "uartclk\0apb_pclk";
	struct guest_dt_params p = bare(3, 1);
	u32 clk;
	int len;
	const u8 *clocks;

	p.console = true;
	CHECK(build(&p));
	CHECK(bytes_are("/pl011@9000000", "compatible", compat, sizeof(compat)));
	CHECK(cells_are("/pl011@9000000", "reg", reg, 4));
	CHECK(cells_are("/pl011@9000000", "interrupts", irq, 3));
	CHECK(bytes_are("/pl011@9000000", "clock-names", clock_names,
			sizeof(clock_names)));
	CHECK(bytes_are("/apb-pclk", "compatible", "fixed-clock", 12));
	CHECK(cells_are("/apb-pclk", "#clock-cells", zero, 1));
	CHECK(cells_are("/apb-pclk", "clock-frequency", hz, 1));
	CHECK_STREQ(fdt_getprop_str(dt, node("/apb-pclk"), "clock-output-names"),
		    "clk24mhz");
	CHECK_EQ(fdt_getprop_u32(dt, node("/apb-pclk"), "phandle", &clk), 0);
	clocks = fdt_getprop(dt, node("/pl011@9000000"), "clocks", &len);
	CHECK(clocks && len == 8);
	CHECK_EQ(fdt_prop_u32(clocks, 0), clk);
	CHECK_EQ(fdt_prop_u32(clocks, 1), clk);
	CHECK_STREQ(fdt_getprop_str(dt, node("/chosen"), "stdout-path"),
		    "/pl011@9000000");
	CHECK_EQ(node(fdt_getprop_str(dt, node("/chosen"), "stdout-path")),
		 node("/pl011@9000000"));
}

TEST(no_console_no_uart_no_clock_no_stdout_path)
{
	struct guest_dt_params p = bare(3, 1);

	CHECK(build(&p));
	CHECK_EQ(fdt_find_compatible(dt, -1, "arm,pl011"), -ENOENT);
	CHECK_EQ(fdt_find_compatible(dt, -1, "fixed-clock"), -ENOENT);
	CHECK(node("/chosen") >= 0);
	CHECK(!has_prop("/chosen", "stdout-path"));
}

/* ---------------------------------------------------------- chosen */

TEST(command_line_is_bootargs)
{
	struct guest_dt_params p = bare(3, 1);

	p.cmdline = "console=ttyAMA0 quiet";
	CHECK(build(&p));
	CHECK(bytes_are("/chosen", "bootargs", "console=ttyAMA0 quiet", 22));
}

TEST(null_or_empty_command_line_gives_no_bootargs)
{
	struct guest_dt_params p = bare(3, 1);

	CHECK(build(&p));
	CHECK(!has_prop("/chosen", "bootargs"));
	p.cmdline = "";
	CHECK(build(&p));
	CHECK(!has_prop("/chosen", "bootargs"));
}

TEST(initrd_bounds_are_two_cell_numbers)
{
	struct guest_dt_params p = bare(3, 1);
	const u32 start[] = { 0, 0x48000000 }, end[] = { 1, 0x00001000 };

	p.initrd_start = 0x48000000;
	p.initrd_end = 0x100001000ULL;
	CHECK(build(&p));
	CHECK(cells_are("/chosen", "linux,initrd-start", start, 2));
	CHECK(cells_are("/chosen", "linux,initrd-end", end, 2));
}

TEST(no_initrd_no_initrd_properties)
{
	struct guest_dt_params p = bare(3, 1);

	CHECK(build(&p));
	CHECK(!has_prop("/chosen", "linux,initrd-start"));
	CHECK(!has_prop("/chosen", "linux,initrd-end"));
}

/* ---------------------------------------------------------- virtio */

TEST(each_virtio_slot_set_has_its_transport)
{
	static const unsigned int slots[] = { 0, 5, 31 };
	struct guest_dt_params p = bare(3, 1);
	unsigned int count = 0;
	int n;

	p.virtio_slots = 1u << 0 | 1u << 5 | 1u << 31;
	CHECK(build(&p));
	for (size_t i = 0; i < 3; i++) {
		u64 base = GUEST_VIRTIO_BASE + slots[i] * GUEST_VIRTIO_STRIDE;
		const u32 reg[] = { HI(base), LO(base), 0, LO(GUEST_VIRTIO_STRIDE) };
		const u32 irq[] = { 0, GUEST_VIRTIO_INTID(slots[i]) - 32, 1 };
		char path[32];

		snprintf(path, sizeof(path), "/virtio_mmio@%llx",
			 (unsigned long long)base);
		CHECK(bytes_are(path, "compatible", "virtio,mmio", 12));
		CHECK(cells_are(path, "reg", reg, 4));
		CHECK(cells_are(path, "interrupts", irq, 3));
		CHECK(has_empty(path, "dma-coherent"));
	}
	for (n = fdt_find_compatible(dt, -1, "virtio,mmio"); n >= 0;
	     n = fdt_find_compatible(dt, n, "virtio,mmio"))
		count++;
	CHECK_EQ(count, 3);
}

TEST(no_virtio_slots_no_transports)
{
	struct guest_dt_params p = bare(3, 1);

	CHECK(build(&p));
	CHECK_EQ(fdt_find_compatible(dt, -1, "virtio,mmio"), -ENOENT);
}

/* ------------------------------------------------- whole-tree rules */

/* Visitor: a node with a unit address has `reg` whose first address is
 * that unit address (cpus: one cell; elsewhere two). */
static int unit_matches_reg(const struct fdt_visit *v, void *arg)
{
	const char *at = strchr(v->name, '@');
	unsigned int *checked = arg;
	u64 addr, size;

	if (!at)
		return 0;
	if (fdt_visit_reg_raw(v, 0, &addr, &size) != 0 ||
	    strtoull(at + 1, NULL, 16) != addr) {
		printf("  %s: unit address and reg disagree\n", v->name);
		return 1;
	}
	(*checked)++;
	return 0;
}

TEST(every_unit_address_matches_reg)
{
	const unsigned int gics[] = { 2, 3 };

	for (size_t i = 0; i < 2; i++) {
		struct guest_dt_params p = full(gics[i], 8);
		unsigned int checked = 0;

		CHECK(build(&p));
		CHECK_EQ(fdt_walk(dt, unit_matches_reg, &checked), 0);
		/* cpus, memory, intc, pl011, three virtio_mmio */
		CHECK_EQ(checked, 8 + 1 + 1 + 1 + 3);
	}
}

TEST(bad_parameters_are_refused)
{
	struct guest_dt_params p;

	CHECK_EQ(guest_dt_build(dt, sizeof(dt), NULL), -EINVAL);
	p = bare(4, 1);
	CHECK_EQ(guest_dt_build(dt, sizeof(dt), &p), -EINVAL);
	p = bare(3, 0);
	CHECK_EQ(guest_dt_build(dt, sizeof(dt), &p), -EINVAL);
	p = bare(3, 9);
	CHECK_EQ(guest_dt_build(dt, sizeof(dt), &p), -EINVAL);
	p = bare(2, 9);
	CHECK_EQ(guest_dt_build(dt, sizeof(dt), &p), -EINVAL);
	p = bare(3, 1);
	p.ram_size = 0;
	CHECK_EQ(guest_dt_build(dt, sizeof(dt), &p), -EINVAL);
	p = bare(3, 1);
	p.ram_base = 0xfffffffff0000000ULL;
	p.ram_size = 0x20000000ULL;
	CHECK_EQ(guest_dt_build(dt, sizeof(dt), &p), -EINVAL);
	p = bare(3, 1);
	p.initrd_start = 0x48000000;
	p.initrd_end = 0x47000000;
	CHECK_EQ(guest_dt_build(dt, sizeof(dt), &p), -EINVAL);
}

TEST(ram_may_end_at_the_top_of_the_address_space)
{
	struct guest_dt_params p = bare(3, 1);

	p.ram_base = 0xfffffffff0000000ULL;
	p.ram_size = 0x10000000ULL;
	CHECK(build(&p));
	CHECK(node("/memory@fffffffff0000000") >= 0);
}

/* Every size short of @p's blob is -ENOSPC; the exact size gives it. */
static void check_short_buffers(const struct guest_dt_params *p)
{
	static u8 ref[DT_BUF];
	int full_size = guest_dt_build(ref, sizeof(ref), p);

	CHECK(full_size > 0);
	for (int size = 0; size <= full_size; size++) {
		u8 *buf = malloc(size ? (size_t)size : 1);   /* ASan-sized */
		int r = guest_dt_build(buf, (size_t)size, p);
		bool ok = size < full_size ? r == -ENOSPC :
			  r == full_size && memcmp(buf, ref, (size_t)r) == 0;

		free(buf);
		if (!ok)
			printf("  size %d of %d: %d\n", size, full_size, r);
		CHECK(ok);
	}
}

TEST(every_buffer_short_of_the_tree_fails_cleanly)
{
	struct guest_dt_params v3 = full(3, 8), v2 = full(2, 1), min = bare(3, 1);

	check_short_buffers(&v3);
	check_short_buffers(&v2);
	check_short_buffers(&min);
}

/* --------------------------------------- what a guest's parser sees */

/* board_from_fdt() on @p's tree: what applies to a guest must match. */
static void check_board(const struct guest_dt_params *p)
{
	static struct board b;
	char err[256];
	bool v3 = p->gic_version == 3;

	CHECK(build(p));
	if (board_from_fdt(dt, &b, err, sizeof(err)) != 0) {
		printf("  board_from_fdt: %s\n", err);
		CHECK(false);
	}
	CHECK_STREQ(b.model, "linux,dummy-virt");
	CHECK_EQ(b.nmem, 1);
	CHECK_EQ(b.mem[0].base, p->ram_base);
	CHECK_EQ(b.mem[0].size, p->ram_size);
	CHECK_EQ(b.nreserved, 0);
	CHECK_EQ(b.ncpus, p->nr_vcpus);
	for (unsigned int i = 0; i < p->nr_vcpus; i++) {
		CHECK_EQ(b.cpus[i].mpidr, i);
		CHECK_EQ(b.cpus[i].enable, CPU_ENABLE_PSCI);
	}
	CHECK_EQ(b.psci, PSCI_HVC);
	CHECK_EQ(b.gic.version, v3 ? GIC_V3 : GIC_V2);
	CHECK_EQ(b.gic.dist, GUEST_GICD_BASE);
	CHECK_EQ(b.gic.dist_size, GUEST_GICD_SIZE);
	CHECK_EQ(b.gic.redist_or_cpuif, v3 ? GUEST_GICR_BASE : GUEST_GICC_BASE);
	CHECK_EQ(b.gic.redist_or_cpuif_size,
		 v3 ? p->nr_vcpus * GUEST_GICR_STRIDE : GUEST_GICC_SIZE);
	CHECK_EQ(b.gic.gich, 0);
	CHECK_EQ(b.gic.gicv, 0);
	CHECK_EQ(b.gic.maint_intid, GUEST_MAINT_INTID);
	CHECK_EQ(b.timer.sec_phys_intid, GUEST_SEC_TIMER_INTID);
	CHECK_EQ(b.timer.phys_intid, GUEST_PTIMER_INTID);
	CHECK_EQ(b.timer.virt_intid, GUEST_VTIMER_INTID);
	CHECK_EQ(b.timer.hyp_phys_intid, GUEST_HYP_TIMER_INTID);
	CHECK_EQ(b.timer.freq_hz, 0);   /* the guest reads CNTFRQ_EL0 */
	CHECK_EQ(b.uart_is_pl011, p->console);
	CHECK_EQ(b.uart_base, p->console ? GUEST_UART_BASE : 0);
	CHECK_EQ(b.uart_size, p->console ? GUEST_UART_SIZE : 0);
	CHECK_EQ(b.uart_intid, p->console ? GUEST_UART_INTID : 0);
	CHECK(!b.uart_not_stdout);
	if (p->cmdline && *p->cmdline)
		CHECK_STREQ(b.bootargs, p->cmdline);
	else
		CHECK(b.bootargs == NULL);
}

TEST(board_parser_reads_the_gicv3_tree)
{
	struct guest_dt_params full8 = full(3, 8), bare1 = bare(3, 1);

	check_board(&full8);
	check_board(&bare1);
}

TEST(board_parser_reads_the_gicv2_tree)
{
	struct guest_dt_params full1 = full(2, 1), bare8 = bare(2, 8);

	check_board(&full1);
	check_board(&bare8);
}

/* ------------------------------------------------------------- dtc */

/* Runs dtc on the tree in dt; true when it accepts it with no output on
 * stderr (dtc prints its warnings there). */
static bool dtc_accepts(void)
{
	const char *dtc = getenv("HV_DTC");
	char file[] = "/tmp/guest_dt_XXXXXX", cmd[512], out[1024];
	size_t n = 0;
	FILE *f;
	int fd, status;

	if (!dtc || !*dtc)
		dtc = "dtc";
	fd = mkstemp(file);
	if (fd < 0 || write(fd, dt, (size_t)dt_size) != dt_size) {
		printf("  cannot write %s\n", file);
		return false;
	}
	close(fd);
	snprintf(cmd, sizeof(cmd), "%s -I dtb -O dts -o /dev/null %s 2>&1",
		 dtc, file);
	f = popen(cmd, "r");
	if (f) {
		n = fread(out, 1, sizeof(out) - 1, f);
		status = pclose(f);
	} else {
		status = -1;
	}
	unlink(file);
	out[n] = '\0';
	if (status != 0 || n != 0) {
		printf("  %s (status %d; run make setup if dtc is missing):\n%s",
		       cmd, status, out);
		return false;
	}
	return true;
}

TEST(dtc_accepts_every_variant_without_warnings)
{
	const struct guest_dt_params cases[] = {
		full(3, 8), full(2, 8), full(3, 1), full(2, 1), bare(3, 1),
		bare(2, 2),
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(build(&cases[i]));
		CHECK(dtc_accepts());
	}
}
