/*
 * Tests of board_from_fdt() on the real QEMU virt (GICv3, GICv2) and
 * Raspberry Pi 4 device trees (from $HV_DTB_DIR, default build/dtbs), on
 * patched copies of them and on small synthetic boards.
 */
#include <stdlib.h>

#include "boot/board.h"
#include "lib/errno.h"
#include "lib/fdt.h"
#include "tests/host/dtb_util.h"
#include "tests/host/test.h"

static struct board b;
static char err[256];

/* ------------------------------------------------------------ helpers */

/* Writable pointer to the value of @path's property @name (test only). */
static u8 *prop_at(u8 *fdt, const char *path, const char *name, int *len)
{
	int node = fdt_path_offset(fdt, path);

	return node < 0 ? NULL : (u8 *)fdt_getprop(fdt, node, name, len);
}

/* Renames property @name of @path to the name of property @as of the
 * same node, by pointing its name offset at that string. */
static bool rename_prop(u8 *fdt, const char *path, const char *name, const char *as)
{
	u8 *p = prop_at(fdt, path, name, NULL), *q = prop_at(fdt, path, as, NULL);

	if (!p || !q)
		return false;
	put32(p - 4, get32(q - 4));
	return true;
}

/* Replaces the string value of @path's @name by @s (no longer than it). */
static bool set_str(u8 *fdt, const char *path, const char *name, const char *s)
{
	int len;
	u8 *p = prop_at(fdt, path, name, &len);

	if (!p || (int)strlen(s) >= len)
		return false;
	memset(p, 0, (size_t)len);
	memcpy(p, s, strlen(s) + 1);
	return true;
}

/* The Pi DTB with the firmware's job done: 1 GiB in memory@0. */
static u8 *load_pi_sized(size_t *n)
{
	u8 *fdt = load_dtb("bcm2711-rpi-4-b.dtb", n);
	int len;
	u8 *reg = fdt ? prop_at(fdt, "/memory@0", "reg", &len) : NULL;

	if (!reg || len != 12) {
		free(fdt);
		return NULL;
	}
	put32(reg + 8, 0x40000000);
	return fdt;
}

static u8 *load_pi(void)
{
	size_t n;

	return load_pi_sized(&n);
}

/* A DTB from HV_DTB_DIR, when its size does not matter. */
static u8 *load(const char *name)
{
	size_t n;

	return load_dtb(name, &n);
}

/* Parses @fdt into the file's `b` and `err`, then frees it: the blob (and
 * b.bootargs, which points into it) must not be used afterwards. */
static int parse_and_free(u8 *fdt)
{
	int r = board_from_fdt(fdt, &b, err, sizeof(err));

	free(fdt);
	return r;
}

/* Knobs of the synthetic board. */
enum {
	SYN_NO_STDOUT = 1 << 0,      /* fall back to the first enabled PL011 */
	SYN_BAD_BOOTARGS = 1 << 1,   /* bootargs without its NUL */
	SYN_GICV3 = 1 << 2,          /* GICv3 instead of a bare GICv2 */
	SYN_BAD_ENABLE = 1 << 3,     /* cpu@1 with an unknown enable-method */
	SYN_NO_TIMER = 1 << 4,
	SYN_SPI_TIMER = 1 << 5,      /* timer interrupt 2 is an SPI */
	SYN_NO_PSCI = 1 << 6,
	SYN_STDOUT_ALIAS_NOWHERE = 1 << 7,
	SYN_ALIASES_LATE = 1 << 8,   /* /aliases after /chosen */
	SYN_STDOUT_SOC_UART = 1 << 9,  /* stdout-path "/soc/uart" */
	/* Root children serial@5000 before /chosen, serial@6000 after it,
	 * and stdout-path "/serial". */
	SYN_EARLY_SERIAL = 1 << 10,
	SYN_STDOUT_ALIAS_SUBPATH = 1 << 11,  /* stdout-path "bus/uart@2000" */
	/* uart@2000 interrupts <0 5 4> (SPI 5), uart@1000 <0 6 4>, the GIC
	 * (phandle 1) the root's interrupt-parent. */
	SYN_UART_IRQ = 1 << 12,
	SYN_UART_IRQ_ELSEWHERE = 1 << 13,  /* uart@2000's parent: intc2@3000 */
	SYN_UART_IRQ_PPI = 1 << 14,        /* uart@2000 interrupts <1 5 4> */
};

static void synth_aliases(struct fdtw *w)
{
	w_begin(w, "aliases");
	w_str(w, "serial0", "/soc/uart@2000");
	w_str(w, "lost", "/soc/uart@9999");
	w_str(w, "bus", "/soc");
	w_end(w);
}

/* A PL011 at the root, at @addr. */
static void synth_serial(struct fdtw *w, unsigned int addr)
{
	char name[32];

	snprintf(name, sizeof(name), "serial@%x", addr);
	w_begin(w, name);
	w_str(w, "compatible", "arm,pl011");
	w_cells(w, "reg", 4, 0, addr, 0, 0x100);
	w_end(w);
}

/*
 * A board with @ncpus CPUs (cpu@0 with no enable-method, odd ones PSCI,
 * even ones spin tables with 1- or 2-cell release addresses), @nmem
 * memory nodes plus an empty placeholder, reservations and a bus whose
 * `ranges` moves everything to 0x9000000.
 */
static u8 *synth(struct fdtw *w, int ncpus, int nmem, unsigned int flags, size_t *n)
{
	char name[32];
	static const char compat[] = "acme,board\0acme,soc";
	static const char badargs[4] = { 'a', 'b', 'c', 'd' };

	memset(w, 0, sizeof(*w));
	w->rsv[0][0] = 0x1000;
	w->rsv[0][1] = 0x2000;
	w->nrsv = 1;
	w_begin(w, "");
	w_prop(w, "compatible", compat, sizeof(compat));
	w_cells(w, "#address-cells", 1, 2);
	w_cells(w, "#size-cells", 1, 2);
	if (flags & SYN_UART_IRQ)
		w_cells(w, "interrupt-parent", 1, 1);
	if (flags & SYN_EARLY_SERIAL)
		synth_serial(w, 0x5000);
	if (!(flags & SYN_ALIASES_LATE))
		synth_aliases(w);
	w_begin(w, "chosen");
	if (flags & SYN_BAD_BOOTARGS)
		w_prop(w, "bootargs", badargs, sizeof(badargs));
	else
		w_str(w, "bootargs", "console=ttyAMA0 quiet");
	if (flags & SYN_STDOUT_ALIAS_NOWHERE)
		w_str(w, "stdout-path", "lost:9600");
	else if (flags & SYN_STDOUT_SOC_UART)
		w_str(w, "stdout-path", "/soc/uart");
	else if (flags & SYN_EARLY_SERIAL)
		w_str(w, "stdout-path", "/serial:9600");
	else if (flags & SYN_STDOUT_ALIAS_SUBPATH)
		w_str(w, "stdout-path", "bus/uart@2000");
	else if (!(flags & SYN_NO_STDOUT))
		w_str(w, "stdout-path", "serial0:115200n8");
	w_end(w);
	if (flags & SYN_ALIASES_LATE)
		synth_aliases(w);
	if (flags & SYN_EARLY_SERIAL)
		synth_serial(w, 0x6000);
	w_begin(w, "memory@0");
	w_str(w, "device_type", "memory");
	w_cells(w, "reg", 4, 0, 0, 0, 0);
	w_end(w);
	for (int i = 0; i < nmem; i++) {
		snprintf(name, sizeof(name), "memory@%x", i + 1);
		w_begin(w, name);
		w_str(w, "device_type", "memory");
		w_cells(w, "reg", 8, 0, 0x10000000u * (i + 1), 0, 0x1000000,
			1, 0x10000000u * (i + 1), 0, 0x2000);
		w_end(w);
	}
	w_begin(w, "reserved-memory");
	w_cells(w, "#address-cells", 1, 1);
	w_cells(w, "#size-cells", 1, 1);
	w_prop(w, "ranges", NULL, 0);
	w_begin(w, "fb@3c000000");
	w_cells(w, "reg", 2, 0x3c000000, 0x100000);
	w_end(w);
	w_begin(w, "cma");
	w_cells(w, "size", 1, 0x4000000);
	w_end(w);
	w_begin(w, "off@0");
	w_cells(w, "reg", 2, 0x100, 0x100);
	w_str(w, "status", "disabled");
	w_end(w);
	w_end(w);
	w_begin(w, "cpus");
	w_cells(w, "#address-cells", 1, 2);
	w_cells(w, "#size-cells", 1, 0);
	w_begin(w, "cpu-map");
	w_end(w);
	for (int i = 0; i < ncpus; i++) {
		snprintf(name, sizeof(name), "cpu@%x", i);
		w_begin(w, name);
		w_str(w, "device_type", "cpu");
		w_cells(w, "reg", 2, i >> 2, (i & 3) << 8);
		if (i == 1 && (flags & SYN_BAD_ENABLE)) {
			w_str(w, "enable-method", "acme,magic");
		} else if (i % 2) {
			w_str(w, "enable-method", "psci");
		} else if (i > 0) {
			w_str(w, "enable-method", "spin-table");
			if (i % 4)
				w_cells(w, "cpu-release-addr", 1, 0xd8 + 8 * i);
			else
				w_cells(w, "cpu-release-addr", 2, 1, 0xd8 + 8 * i);
		}
		w_end(w);
	}
	w_end(w);
	w_begin(w, "soc");
	w_str(w, "compatible", "simple-bus");
	w_cells(w, "#address-cells", 1, 1);
	w_cells(w, "#size-cells", 1, 1);
	w_cells(w, "ranges", 4, 0, 0, 0x9000000, 0x1000000);
	w_begin(w, "uart@1000");
	w_str(w, "compatible", "arm,pl011");
	w_str(w, "status", "disabled");
	w_cells(w, "reg", 2, 0x1000, 0x1000);
	if (flags & SYN_UART_IRQ)
		w_cells(w, "interrupts", 3, 0, 6, 4);
	w_end(w);
	w_begin(w, "uart@2000");
	w_str(w, "compatible", "arm,pl011");
	w_str(w, "status", "okay");
	w_cells(w, "reg", 2, 0x2000, 0x1000);
	if (flags & SYN_UART_IRQ)
		w_cells(w, "interrupts", 3, (flags & SYN_UART_IRQ_PPI) ? 1 : 0, 5, 4);
	if (flags & SYN_UART_IRQ_ELSEWHERE)
		w_cells(w, "interrupt-parent", 1, 2);
	w_end(w);
	if (flags & SYN_UART_IRQ_ELSEWHERE) {
		w_begin(w, "intc2@3000");
		w_cells(w, "reg", 2, 0x3000, 0x100);
		w_prop(w, "interrupt-controller", NULL, 0);
		w_cells(w, "#interrupt-cells", 1, 3);
		w_cells(w, "phandle", 1, 2);
		w_end(w);
	}
	w_begin(w, "gic@100000");
	if (flags & SYN_UART_IRQ) {
		w_cells(w, "phandle", 1, 1);
		w_cells(w, "#interrupt-cells", 1, 3);
	}
	if (flags & SYN_GICV3) {
		w_str(w, "compatible", "arm,gic-v3");
		w_cells(w, "reg", 4, 0x100000, 0x10000, 0x200000, 0x100000);
		w_cells(w, "interrupts", 3, 1, 9, 4);
	} else {
		w_str(w, "compatible", "arm,cortex-a7-gic");
		w_cells(w, "reg", 4, 0x100000, 0x1000, 0x102000, 0x2000);
		w_cells(w, "interrupts", 3, 0, 5, 4);
	}
	w_end(w);
	w_end(w);
	if (!(flags & SYN_NO_TIMER)) {
		w_begin(w, "timer");
		w_str(w, "compatible", "arm,armv8-timer");
		w_cells(w, "interrupts", 12, 1, 13, 8, 1, 14, 8,
			(flags & SYN_SPI_TIMER) ? 0 : 1, 11, 8, 1, 10, 8);
		w_cells(w, "clock-frequency", 1, 54000000);
		w_end(w);
	}
	if (!(flags & SYN_NO_PSCI)) {
		w_begin(w, "psci");
		w_str(w, "compatible", "arm,psci-0.2");
		w_str(w, "method", "hvc");
		w_end(w);
	}
	w_end(w);
	return w_finish(w, n);
}

/* board_from_fdt() on a synthetic board; returns its result. */
static int synth_board(int ncpus, int nmem, unsigned int flags)
{
	struct fdtw *w = calloc(1, sizeof(*w));
	size_t n;
	u8 *fdt = synth(w, ncpus, nmem, flags, &n);
	int r = fdt_check(fdt, n) ? -1000 : board_from_fdt(fdt, &b, err, sizeof(err));

	free(fdt);
	free(w);
	return r;
}

/* --------------------------------------------------------- QEMU virt */

TEST(virt_gicv3_board)
{
	u8 *fdt = load("virt-gicv3.dtb");
	int r;

	CHECK(fdt);
	r = parse_and_free(fdt);
	CHECK_STREQ(err, "");
	CHECK_EQ(r, 0);
	CHECK_STREQ(b.model, "linux,dummy-virt");
	CHECK_EQ(b.ncpus, 4);
	for (unsigned int i = 0; i < 4; i++) {
		CHECK_EQ(b.cpus[i].mpidr, i);
		CHECK_EQ(b.cpus[i].enable, CPU_ENABLE_PSCI);
	}
	CHECK_EQ(b.psci, PSCI_SMC);
	CHECK_EQ(b.gic.version, GIC_V3);
	CHECK_EQ(b.gic.dist, 0x08000000);
	CHECK_EQ(b.gic.dist_size, 0x10000);
	CHECK_EQ(b.gic.redist_or_cpuif, 0x080a0000);
	CHECK_EQ(b.gic.redist_or_cpuif_size, 0xf60000);
	CHECK_EQ(b.gic.gich, 0);
	CHECK_EQ(b.gic.gicv, 0);
	CHECK_EQ(b.gic.maint_intid, 25);
	CHECK_EQ(b.uart_base, 0x09000000);
	CHECK_EQ(b.uart_size, 0x1000);
	CHECK(b.uart_is_pl011);
	CHECK_EQ(b.nmem, 1);
	CHECK_EQ(b.mem[0].base, 0x40000000);
	CHECK_EQ(b.mem[0].size, 0x40000000);
	CHECK_EQ(b.nreserved, 0);
	CHECK_EQ(b.timer.sec_phys_intid, 29);
	CHECK_EQ(b.timer.phys_intid, 30);
	CHECK_EQ(b.timer.virt_intid, 27);
	CHECK_EQ(b.timer.hyp_phys_intid, 26);
	CHECK_EQ(b.timer.freq_hz, 0);
	CHECK(b.bootargs == NULL);
}

TEST(virt_gicv2_board)
{
	u8 *fdt = load("virt-gicv2.dtb");
	int r;

	CHECK(fdt);
	r = parse_and_free(fdt);
	CHECK_STREQ(err, "");
	CHECK_EQ(r, 0);
	CHECK_EQ(b.gic.version, GIC_V2);
	CHECK_EQ(b.gic.dist, 0x08000000);
	CHECK_EQ(b.gic.dist_size, 0x10000);
	CHECK_EQ(b.gic.redist_or_cpuif, 0x08010000);
	CHECK_EQ(b.gic.redist_or_cpuif_size, 0x10000);
	CHECK_EQ(b.gic.gich, 0x08030000);
	CHECK_EQ(b.gic.gicv, 0x08040000);
	CHECK_EQ(b.gic.maint_intid, 25);
	CHECK_EQ(b.ncpus, 4);
	CHECK_EQ(b.psci, PSCI_SMC);
	CHECK_EQ(b.uart_base, 0x09000000);
	CHECK_EQ(b.timer.hyp_phys_intid, 26);
	CHECK_EQ(b.timer.virt_intid, 27);
}

/* ----------------------------------------------------- Raspberry Pi 4 */

TEST(pi_kernel_dtb_has_only_a_zero_size_memory_placeholder)
{
	u8 *fdt = load("bcm2711-rpi-4-b.dtb");
	int r;

	CHECK(fdt);
	r = parse_and_free(fdt);
	CHECK_EQ(r, -ENOENT);
	CHECK_EQ(b.nmem, 0);
	CHECK_STREQ(err, "no memory: no `memory` node with a non-empty `reg`");
}

TEST(pi_board_after_firmware_fills_memory)
{
	u8 *fdt = load_pi();
	int r;

	CHECK(fdt);
	r = board_from_fdt(fdt, &b, err, sizeof(err));
	CHECK_STREQ(err, "");
	CHECK_EQ(r, 0);
	/* bootargs would point into the blob: check before freeing it. */
	CHECK(b.bootargs == NULL);
	free(fdt);
	CHECK_STREQ(b.model, "Raspberry Pi 4 Model B");
	CHECK_EQ(b.nmem, 1);
	CHECK_EQ(b.mem[0].base, 0);
	CHECK_EQ(b.mem[0].size, 0x40000000);
	CHECK_EQ(b.nreserved, 1);          /* /memreserve/ 0..0x1000 only */
	CHECK_EQ(b.reserved[0].base, 0);
	CHECK_EQ(b.reserved[0].size, 0x1000);
	CHECK_EQ(b.ncpus, 4);
	for (unsigned int i = 0; i < 4; i++) {
		CHECK_EQ(b.cpus[i].mpidr, i);
		CHECK_EQ(b.cpus[i].enable, CPU_ENABLE_SPIN_TABLE);
		CHECK_EQ(b.cpus[i].release_addr, 0xd8 + 8 * i);
	}
	CHECK_EQ(b.psci, PSCI_NONE);
	CHECK_EQ(b.gic.version, GIC_V2);
	CHECK_EQ(b.gic.dist, 0xff841000);
	CHECK_EQ(b.gic.dist_size, 0x1000);
	CHECK_EQ(b.gic.redist_or_cpuif, 0xff842000);
	CHECK_EQ(b.gic.redist_or_cpuif_size, 0x2000);
	CHECK_EQ(b.gic.gich, 0xff844000);
	CHECK_EQ(b.gic.gicv, 0xff846000);
	CHECK_EQ(b.gic.maint_intid, 25);
	CHECK_EQ(b.timer.sec_phys_intid, 29);
	CHECK_EQ(b.timer.phys_intid, 30);
	CHECK_EQ(b.timer.virt_intid, 27);
	CHECK_EQ(b.timer.hyp_phys_intid, 26);
	/* stdout-path "serial1:115200n8" is the mini UART: the PL011 wins. */
	CHECK_EQ(b.uart_base, 0xfe201000);
	CHECK_EQ(b.uart_size, 0x200);
	CHECK(b.uart_is_pl011);
	CHECK(b.uart_not_stdout);
}

TEST(pi_stdout_on_serial0_is_the_pl011)
{
	u8 *fdt = load_pi();
	int r;

	CHECK(fdt);
	CHECK(set_str(fdt, "/chosen", "stdout-path", "serial0:115200n8"));
	r = parse_and_free(fdt);
	CHECK_EQ(r, 0);
	CHECK_EQ(b.uart_base, 0xfe201000);
	CHECK_EQ(b.uart_size, 0x200);
	CHECK(b.uart_is_pl011);
	CHECK(!b.uart_not_stdout);
}

TEST(stdout_path_to_a_non_pl011_without_any_pl011_is_kept)
{
	u8 *fdt = load_pi();
	int r, pl011;

	CHECK(fdt);
	/* Rename the PL011's compatible so that only the mini UART is left. */
	pl011 = fdt_path_offset(fdt, "/soc/serial@7e201000");
	CHECK(pl011 >= 0);
	char *compat = (char *)fdt_getprop(fdt, pl011, "compatible", NULL);
	CHECK(compat && !strncmp(compat, "arm,pl011", 9));
	compat[0] = 'x';
	r = parse_and_free(fdt);
	CHECK_EQ(r, 0);
	CHECK_EQ(b.uart_base, 0xfe215040);
	CHECK(!b.uart_is_pl011);
	CHECK(!b.uart_not_stdout);
}

TEST(stdout_path_to_a_missing_alias_is_an_error)
{
	u8 *fdt = load_pi();
	int r;

	CHECK(fdt);
	CHECK(set_str(fdt, "/chosen", "stdout-path", "serial9:115200n8"));
	r = parse_and_free(fdt);
	CHECK_EQ(r, -ENOENT);
	CHECK_STREQ(err, "/chosen stdout-path \"serial9\": no such alias");
}

TEST(stdout_path_to_a_missing_node_is_an_error)
{
	u8 *fdt = load_pi();
	int r;

	CHECK(fdt);
	CHECK(set_str(fdt, "/chosen", "stdout-path", "/soc/nothing:9"));
	r = parse_and_free(fdt);
	CHECK_EQ(r, -ENOENT);
	CHECK_STREQ(err, "/chosen stdout-path \"/soc/nothing\": no such node");
}

TEST(stdout_alias_naming_no_node_is_an_error)
{
	CHECK_EQ(synth_board(2, 1, SYN_STDOUT_ALIAS_NOWHERE), -ENOENT);
	CHECK_STREQ(err, "/chosen stdout-path \"lost\": alias names no node");
}

TEST(spin_table_cpu_without_release_address_is_an_error)
{
	u8 *fdt = load_pi();
	int r;

	CHECK(fdt);
	CHECK(rename_prop(fdt, "/cpus/cpu@2", "cpu-release-addr", "reg"));
	r = parse_and_free(fdt);
	CHECK_EQ(r, -ENOENT);
	CHECK_STREQ(err, "/cpus/cpu@2: spin-table without `cpu-release-addr`");
}

/* ------------------------------------------- errors on patched virt */

TEST(missing_cpus_node_is_an_error)
{
	u8 *fdt = load("virt-gicv3.dtb");
	char *name;
	int r;

	CHECK(fdt);
	name = (char *)fdt_node_name(fdt, fdt_path_offset(fdt, "/cpus"));
	CHECK(name);
	name[3] = 'x';
	r = parse_and_free(fdt);
	CHECK_EQ(r, -ENOENT);
	CHECK_STREQ(err, "/cpus: missing");
}

TEST(cpu_without_reg_is_an_error)
{
	u8 *fdt = load("virt-gicv3.dtb");
	int r;

	CHECK(fdt);
	CHECK(rename_prop(fdt, "/cpus/cpu@1", "reg", "compatible"));
	r = parse_and_free(fdt);
	CHECK_EQ(r, -ENOENT);
	CHECK_STREQ(err, "/cpus/cpu@1: no `reg`");
}

TEST(missing_gic_is_an_error)
{
	u8 *fdt = load("virt-gicv3.dtb");
	int r;

	CHECK(fdt);
	CHECK(set_str(fdt, "/intc@8000000", "compatible", "arm,gic-vX"));
	r = parse_and_free(fdt);
	CHECK_EQ(r, -ENOENT);
	CHECK_STREQ(err, "no interrupt controller compatible with arm,gic-v3 or arm,gic-400");
}

TEST(missing_timer_is_an_error)
{
	CHECK_EQ(synth_board(2, 1, SYN_NO_TIMER), -ENOENT);
	CHECK_STREQ(err, "no timer compatible with arm,armv8-timer");
}

TEST(timer_interrupt_that_is_not_a_ppi_is_an_error)
{
	CHECK_EQ(synth_board(2, 1, SYN_SPI_TIMER), -EINVAL);
	CHECK_STREQ(err, "/timer: interrupt 2 is not a PPI");
}

TEST(psci_cpus_without_psci_node_are_an_error)
{
	u8 *fdt = load("virt-gicv3.dtb");
	int r;

	CHECK(fdt);
	CHECK(set_str(fdt, "/psci", "compatible", "acme,none"));
	r = parse_and_free(fdt);
	CHECK_EQ(r, -ENOENT);
	CHECK_STREQ(err, "CPU with MPIDR 0x0 uses PSCI but there is no psci node");
}

TEST(unknown_psci_method_is_an_error)
{
	u8 *fdt = load("virt-gicv3.dtb");
	int r;

	CHECK(fdt);
	CHECK(set_str(fdt, "/psci", "method", "sm"));
	r = parse_and_free(fdt);
	CHECK_EQ(r, -EINVAL);
	CHECK_STREQ(err, "/psci: `method` must be \"smc\" or \"hvc\"");
}

TEST(malformed_blob_is_an_error)
{
	u8 *fdt = load("virt-gicv3.dtb");
	int r;

	CHECK(fdt);
	fdt[0] = 0;
	r = parse_and_free(fdt);
	CHECK_EQ(r, -EINVAL);
	CHECK_STREQ(err, "device tree header or structure is malformed");
}

/* ---------------------------------------------------- synthetic boards */

TEST(synthetic_board_reads_every_field)
{
	CHECK_EQ(synth_board(5, 2, 0), 0);
	CHECK_STREQ(b.model, "acme,board");
	CHECK_EQ(b.ncpus, 5);
	CHECK_EQ(b.cpus[0].enable, CPU_ENABLE_NONE);
	CHECK_EQ(b.cpus[1].enable, CPU_ENABLE_PSCI);
	CHECK_EQ(b.cpus[1].mpidr, 0x100);
	CHECK_EQ(b.cpus[2].enable, CPU_ENABLE_SPIN_TABLE);
	CHECK_EQ(b.cpus[2].release_addr, 0xd8 + 16);          /* 1 cell */
	CHECK_EQ(b.cpus[4].mpidr, 0x100000000ull);           /* 2 cells */
	CHECK_EQ(b.cpus[4].release_addr, 0x1000000f8ull);     /* 2 cells */
	CHECK_EQ(b.psci, PSCI_HVC);
	/* The empty memory@0 is skipped; each node has two ranges. */
	CHECK_EQ(b.nmem, 4);
	CHECK_EQ(b.mem[0].base, 0x10000000);
	CHECK_EQ(b.mem[0].size, 0x1000000);
	CHECK_EQ(b.mem[1].base, 0x110000000ull);
	CHECK_EQ(b.mem[1].size, 0x2000);
	CHECK_EQ(b.mem[2].base, 0x20000000);
	/* /memreserve/, then fb@3c000000; cma (no reg) and off@0 skipped. */
	CHECK_EQ(b.nreserved, 2);
	CHECK_EQ(b.reserved[0].base, 0x1000);
	CHECK_EQ(b.reserved[0].size, 0x2000);
	CHECK_EQ(b.reserved[1].base, 0x3c000000);
	CHECK_EQ(b.reserved[1].size, 0x100000);
	CHECK_EQ(b.uart_base, 0x9002000);
	CHECK(b.uart_is_pl011);
	CHECK_EQ(b.gic.version, GIC_V2);
	CHECK_EQ(b.gic.dist, 0x9100000);
	CHECK_EQ(b.gic.redist_or_cpuif, 0x9102000);
	CHECK_EQ(b.gic.gich, 0);                              /* absent */
	CHECK_EQ(b.gic.gicv, 0);
	CHECK_EQ(b.gic.maint_intid, 37);                      /* SPI 5 */
	CHECK_EQ(b.timer.freq_hz, 54000000);
}

TEST(bootargs_point_into_the_blob)
{
	struct fdtw *w = calloc(1, sizeof(*w));
	size_t n;
	u8 *fdt = synth(w, 2, 1, 0, &n);
	int r = board_from_fdt(fdt, &b, err, sizeof(err));

	CHECK_EQ(r, 0);
	CHECK_STREQ(b.bootargs, "console=ttyAMA0 quiet");
	CHECK((const u8 *)b.bootargs > fdt && (const u8 *)b.bootargs < fdt + n);
	free(fdt);
	free(w);
}

TEST(unterminated_bootargs_are_an_error)
{
	CHECK_EQ(synth_board(2, 1, SYN_BAD_BOOTARGS), -EINVAL);
	CHECK_STREQ(err, "/chosen: `bootargs` is not NUL-terminated");
}

TEST(no_stdout_path_falls_back_to_first_enabled_pl011)
{
	CHECK_EQ(synth_board(2, 1, SYN_NO_STDOUT), 0);
	CHECK_EQ(b.uart_base, 0x9002000);
	CHECK_EQ(b.uart_size, 0x1000);
	CHECK(b.uart_is_pl011);
}

TEST(gicv3_redistributor_is_reg_1)
{
	CHECK_EQ(synth_board(2, 1, SYN_GICV3), 0);
	CHECK_EQ(b.gic.version, GIC_V3);
	CHECK_EQ(b.gic.dist, 0x9100000);
	CHECK_EQ(b.gic.redist_or_cpuif, 0x9200000);
	CHECK_EQ(b.gic.redist_or_cpuif_size, 0x100000);
	CHECK_EQ(b.gic.maint_intid, 25);
}

TEST(missing_psci_is_fine_without_psci_cpus)
{
	CHECK_EQ(synth_board(1, 1, SYN_NO_PSCI), 0);
	CHECK_EQ(b.psci, PSCI_NONE);
	CHECK_EQ(synth_board(2, 1, SYN_NO_PSCI), -ENOENT);
	CHECK_STREQ(err, "CPU with MPIDR 0x100 uses PSCI but there is no psci node");
}

TEST(unknown_enable_method_is_an_error)
{
	CHECK_EQ(synth_board(2, 1, SYN_BAD_ENABLE), -ENOSYS);
	CHECK_STREQ(err, "/cpus/cpu@1: unsupported `enable-method`");
}

TEST(sixty_four_cpus_fit_sixty_five_do_not)
{
	CHECK_EQ(synth_board(BOARD_MAX_CPUS, 1, 0), 0);
	CHECK_EQ(b.ncpus, BOARD_MAX_CPUS);
	CHECK_EQ(synth_board(BOARD_MAX_CPUS + 1, 1, 0), -ENOSPC);
	CHECK_STREQ(err, "/cpus: more than 64 CPUs (BOARD_MAX_CPUS)");
}

TEST(too_many_memory_ranges_is_an_error)
{
	CHECK_EQ(synth_board(2, BOARD_MAX_MEM / 2, 0), 0);
	CHECK_EQ(b.nmem, BOARD_MAX_MEM);
	CHECK_EQ(synth_board(2, BOARD_MAX_MEM / 2 + 1, 0), -ENOSPC);
	CHECK_STREQ(err, "/memory@9: more than 16 memory ranges");
}

TEST(no_memory_at_all_is_an_error)
{
	CHECK_EQ(synth_board(2, 0, 0), -ENOENT);
	CHECK_STREQ(err, "no memory: no `memory` node with a non-empty `reg`");
}

TEST(error_buffer_is_bounded)
{
	u8 *fdt = load("bcm2711-rpi-4-b.dtb");
	char small[8];

	CHECK(fdt);
	memset(small, 'x', sizeof(small));
	CHECK_EQ(board_from_fdt(fdt, &b, small, sizeof(small)), -ENOENT);
	CHECK_STREQ(small, "no memo");
	CHECK_EQ(board_from_fdt(fdt, &b, NULL, 0), -ENOENT);
	CHECK_EQ(board_from_fdt(fdt, &b, small, 0), -ENOENT);
	free(fdt);
}

/* -------------------------------------------------------- robustness */

TEST(every_truncation_of_the_pi_dtb_gives_an_error)
{
	size_t n;
	u8 *fdt = load_pi_sized(&n);

	CHECK(fdt);
	for (size_t len = FDT_HEADER_SIZE; len < n; len++) {
		u8 *t = malloc(len);
		int r;

		memcpy(t, fdt, len);
		put32(t + 4, (u32)len);
		r = board_from_fdt(t, &b, err, sizeof(err));
		free(t);
		CHECK(r < 0);
	}
	CHECK_EQ(board_from_fdt(fdt, &b, err, sizeof(err)), 0);
	free(fdt);
}

/* Mutated blobs must parse or fail cleanly; never read out of bounds. */
TEST(random_byte_corruption_is_survived)
{
	size_t n;
	u8 *fdt = load_pi_sized(&n), *t;
	u32 seed = 0x2545f491;
	bool ok = true;

	CHECK(fdt);
	t = malloc(n);
	for (int iter = 0; ok && iter < 2000; iter++) {
		memcpy(t, fdt, n);
		for (u32 k = 1 + rnd(&seed) % 3; k > 0; k--)
			t[rnd(&seed) % (u32)n] = (u8)rnd(&seed);
		if (board_from_fdt(t, &b, err, sizeof(err)) == 0)
			ok = b.ncpus > 0 && b.ncpus <= BOARD_MAX_CPUS &&
			     b.nmem > 0 && b.nmem <= BOARD_MAX_MEM;
		else
			ok = err[0] != '\0';
	}
	free(t);
	free(fdt);
	CHECK(ok);
}

/* ------------------------------------------- stdout-path and its cost */

/* The node stdout-path names, and its `reg`, looked up the slow way. */
static u64 stdout_reg_slowly(const u8 *fdt)
{
	int chosen = fdt_path_offset(fdt, "/chosen");
	const char *sp = fdt_getprop_str(fdt, chosen, "stdout-path");
	u64 a = 0, s;

	fdt_reg(fdt, fdt_path_offset(fdt, sp), 0, &a, &s);
	return a;
}

/* board_from_fdt() on a synthetic board; its console must be the node
 * fdt_path_offset() finds for stdout-path. */
static int synth_stdout(unsigned int flags, u64 *slow)
{
	struct fdtw *w = calloc(1, sizeof(*w));
	size_t n;
	u8 *fdt = synth(w, 2, 1, flags, &n);
	int r = board_from_fdt(fdt, &b, err, sizeof(err));

	*slow = stdout_reg_slowly(fdt);
	free(fdt);
	free(w);
	return r;
}

TEST(stdout_path_is_resolved_with_the_first_match_at_each_level)
{
	u64 slow;

	/* "/soc/uart": uart@1000 is the first match, disabled or not. */
	CHECK_EQ(synth_stdout(SYN_STDOUT_SOC_UART, &slow), 0);
	CHECK_EQ(b.uart_base, 0x9001000);
	CHECK_EQ(slow, 0x9001000);
	CHECK(b.uart_is_pl011);
	CHECK(!b.uart_not_stdout);
	/* "/serial": the first match, serial@5000, comes before /chosen. */
	CHECK_EQ(synth_stdout(SYN_EARLY_SERIAL, &slow), 0);
	CHECK_EQ(b.uart_base, 0x5000);
	CHECK_EQ(slow, 0x5000);
}

TEST(stdout_alias_is_resolved_wherever_aliases_sit)
{
	u64 slow;

	CHECK_EQ(synth_stdout(SYN_ALIASES_LATE, &slow), 0);
	CHECK_EQ(b.uart_base, 0x9002000);
	CHECK_EQ(slow, 0x9002000);
	CHECK(!b.uart_not_stdout);
	CHECK_EQ(synth_stdout(SYN_STDOUT_ALIAS_SUBPATH, &slow), 0);
	CHECK_EQ(b.uart_base, 0x9002000);
	CHECK_EQ(slow, 0x9002000);
	CHECK_EQ(synth_stdout(SYN_ALIASES_LATE | SYN_STDOUT_ALIAS_NOWHERE, &slow),
		 -ENOENT);
	CHECK_STREQ(err, "/chosen stdout-path \"lost\": alias names no node");
}

/* Tokens board_from_fdt() decodes, in units of one checking walk. */
static bool board_cost_ok(const u8 *fdt, double max_walks)
{
	unsigned long t0 = fdt_tokens_read, one;

	fdt_walk(fdt, NULL, NULL);
	one = fdt_tokens_read - t0;
	t0 = fdt_tokens_read;
	if (board_from_fdt(fdt, &b, err, sizeof(err)))
		return false;
	return fdt_tokens_read - t0 <= (unsigned long)(max_walks * (double)one);
}

/*
 * The parse is one walk over the tree plus, at most, a lookup of the
 * stdout-path node when /chosen comes after it (as on QEMU virt) and a
 * few property reads per CPU: a search per node or per parent would cost
 * dozens of walks.
 */
TEST(board_costs_at_most_two_walks_and_a_bit)
{
	static const char *const names[] = { "virt-gicv3.dtb", "virt-gicv2.dtb" };
	size_t n;
	u8 *fdt;
	bool ok;

	for (size_t i = 0; i < 2; i++) {
		fdt = load_dtb(names[i], &n);
		CHECK(fdt);
		ok = board_cost_ok(fdt, 2.25);
		free(fdt);
		CHECK(ok);
	}
	fdt = load_pi();
	CHECK(fdt);
	ok = board_cost_ok(fdt, 1.25);   /* /chosen comes first: one walk */
	free(fdt);
	CHECK(ok);
}

TEST(board_cost_is_linear_in_cpus_and_memory_nodes)
{
	struct fdtw *w = calloc(1, sizeof(*w));
	size_t n;
	u8 *fdt = synth(w, BOARD_MAX_CPUS, BOARD_MAX_MEM / 2, 0, &n);
	/* Each CPU's enable method is read again after the walk. */
	bool ok = board_cost_ok(fdt, 3);

	free(fdt);
	free(w);
	CHECK(ok);
}

/* ------------------------------------------- console UART interrupt */

TEST(console_uart_interrupt_from_the_real_dtbs)
{
	static const char *const names[] = { "virt-gicv3.dtb", "virt-gicv2.dtb" };

	for (size_t i = 0; i < 2; i++) {
		u8 *fdt = load(names[i]);

		CHECK(fdt);
		CHECK_EQ(parse_and_free(fdt), 0);
		CHECK_EQ(b.uart_intid, 33);      /* SPI 1 */
	}
	CHECK_EQ(parse_and_free(load_pi()), 0);
	CHECK_EQ(b.uart_base, 0xfe201000);
	CHECK_EQ(b.uart_intid, 32 + 121);    /* SPI 121, parent from the root */
}

TEST(console_uart_interrupt_is_an_spi_of_the_gic)
{
	CHECK_EQ(synth_board(2, 1, SYN_UART_IRQ | SYN_GICV3), 0);
	CHECK_STREQ(err, "");
	CHECK_EQ(b.uart_base, 0x9002000);
	CHECK_EQ(b.uart_intid, 37);
	CHECK_EQ(synth_board(2, 1, SYN_UART_IRQ), 0);   /* GICv2 alike */
	CHECK_EQ(b.uart_intid, 37);
}

TEST(console_uart_without_interrupts_has_none)
{
	CHECK_EQ(synth_board(2, 1, 0), 0);
	CHECK_EQ(b.uart_intid, 0);
}

TEST(console_uart_wired_to_another_controller_has_none)
{
	CHECK_EQ(synth_board(2, 1, SYN_UART_IRQ | SYN_UART_IRQ_ELSEWHERE), 0);
	CHECK_EQ(b.uart_intid, 0);
}

TEST(console_uart_interrupt_that_is_no_spi_is_refused)
{
	CHECK_EQ(synth_board(2, 1, SYN_UART_IRQ | SYN_UART_IRQ_PPI), -EINVAL);
	CHECK_STREQ(err, "/soc/uart@2000: bad `interrupts` (an SPI of the GIC expected)");
	CHECK_EQ(b.uart_intid, 0);
}

/* The interrupt parent of a console that is not the first enabled PL011
 * (serial@5000 here) is found by walking up from it: the walk kept no
 * ancestors for it. */
TEST(console_uart_interrupt_when_stdout_is_not_the_first_pl011)
{
	CHECK_EQ(synth_board(2, 1, SYN_UART_IRQ | SYN_EARLY_SERIAL |
				   SYN_STDOUT_SOC_UART), 0);
	CHECK_EQ(b.uart_base, 0x9001000);
	CHECK_EQ(b.uart_intid, 38);
}
