/*
 * Tests of lib/fdt.c on the real QEMU virt and Raspberry Pi 4 device trees
 * (read from $HV_DTB_DIR, default build/dtbs) and on small hand-built and
 * deliberately broken blobs.
 */
#include <stdlib.h>

#include "lib/errno.h"
#include "lib/fdt.h"
#include "tests/host/dtb_util.h"
#include "tests/host/test.h"

/* ------------------------------------------------------------ helpers */

/* Touches everything reachable through the API, without fdt_check(). */
static volatile unsigned long sink;

static void walk_all(const void *fdt, int reg_limit)
{
	int node, n = 0, len;
	u64 a, s;
	char path[256];

	for (node = fdt_next_node(fdt, -1); node >= 0 && n < 100000;
	     node = fdt_next_node(fdt, node), n++) {
		const char *name = fdt_node_name(fdt, node);
		const unsigned char *p = fdt_getprop(fdt, node, "compatible", &len);

		if (name)
			sink += strlen(name);
		for (int i = 0; p && i < len; i++)
			sink += p[i];
		sink += fdt_is_compatible(fdt, node, "arm,pl011");
		sink += fdt_is_enabled(fdt, node);
		if (n < reg_limit) {
			sink += (unsigned long)fdt_reg(fdt, node, 0, &a, &s);
			sink += (unsigned long)fdt_node_path(fdt, node, path, sizeof(path));
			sink += (unsigned long)fdt_first_child(fdt, node);
			sink += (unsigned long)fdt_next_sibling(fdt, node);
		}
	}
	sink += (unsigned long)fdt_path_offset(fdt, "serial1:115200n8");
	sink += (unsigned long)fdt_path_offset(fdt, "/soc/serial@7e201000");
	sink += (unsigned long)fdt_path_offset(fdt, "/cpus/cpu@1");
	sink += (unsigned long)fdt_node_by_phandle(fdt, 1);
	for (unsigned int i = 0; fdt_memreserve(fdt, i, &a, &s) == 0; i++)
		sink += a;
}

/* ------------------------------------------------- header and checks */

TEST(check_accepts_the_real_dtbs)
{
	static const char *const names[] = {
		"virt-gicv3.dtb", "virt-gicv2.dtb", "bcm2711-rpi-4-b.dtb",
	};

	for (size_t i = 0; i < 3; i++) {
		size_t n;
		u8 *fdt = load_dtb(names[i], &n);

		CHECK(fdt);
		CHECK_EQ(fdt_check(fdt, n), 0);
		CHECK_EQ(fdt_totalsize(fdt), n);
		CHECK_EQ(fdt_root(fdt), 0);
		free(fdt);
	}
}

TEST(check_rejects_bad_magic)
{
	size_t n;
	u8 *fdt = load_dtb("virt-gicv3.dtb", &n);

	CHECK(fdt);
	fdt[3] ^= 1;
	CHECK_EQ(fdt_check(fdt, n), -EINVAL);
	CHECK_EQ(fdt_totalsize(fdt), 0);
	CHECK(fdt_root(fdt) < 0);
	CHECK(fdt_path_offset(fdt, "/cpus") < 0);
	free(fdt);
}

TEST(check_rejects_unsupported_versions)
{
	size_t n;
	u8 *fdt = load_dtb("virt-gicv3.dtb", &n);

	CHECK(fdt);
	put32(fdt + 20, 15);
	CHECK_EQ(fdt_check(fdt, n), -EINVAL);
	put32(fdt + 20, 17);
	put32(fdt + 24, 18);
	CHECK_EQ(fdt_check(fdt, n), -EINVAL);
	put32(fdt + 24, 16);
	CHECK_EQ(fdt_check(fdt, n), 0);
	free(fdt);
}

TEST(check_rejects_totalsize_beyond_buffer)
{
	size_t n;
	u8 *fdt = load_dtb("bcm2711-rpi-4-b.dtb", &n);

	CHECK(fdt);
	CHECK_EQ(fdt_check(fdt, n - 1), -EINVAL);
	CHECK_EQ(fdt_check(fdt, 39), -EINVAL);
	free(fdt);
}

TEST(check_rejects_blocks_outside_totalsize)
{
	size_t n;
	u8 *fdt = load_dtb("bcm2711-rpi-4-b.dtb", &n);

	CHECK(fdt);
	put32(fdt + 8, (u32)n);                 /* off_dt_struct at the end */
	CHECK_EQ(fdt_check(fdt, n), -EINVAL);
	CHECK(fdt_root(fdt) < 0);
	free(fdt);
	fdt = load_dtb("bcm2711-rpi-4-b.dtb", &n);
	CHECK(fdt);
	put32(fdt + 32, get32(fdt + 32) + 1);   /* strings one past the end */
	CHECK_EQ(fdt_check(fdt, n), -EINVAL);
	free(fdt);
}

TEST(check_rejects_unterminated_reservation_map)
{
	struct fdtw *w = w_new();
	size_t n;
	u8 *fdt;

	w_begin(w, "");
	w_end(w);
	fdt = w_finish(w, &n);
	CHECK_EQ(fdt_check(fdt, n), 0);
	/* Overwrite the (0, 0) entry: no terminator before the end. */
	memset(fdt + 40, 0xff, 16);
	CHECK_EQ(fdt_check(fdt, n), -EINVAL);
	free(fdt);
	free(w);
}

TEST(check_rejects_two_roots_and_unbalanced_nodes)
{
	struct fdtw *w = w_new();
	size_t n;
	u8 *fdt;

	w_begin(w, "");
	w_end(w);
	w_begin(w, "");
	w_end(w);
	fdt = w_finish(w, &n);
	CHECK_EQ(fdt_check(fdt, n), -EINVAL);
	free(fdt);
	memset(w, 0, sizeof(*w));
	w_begin(w, "");
	w_begin(w, "child");
	w_end(w);
	fdt = w_finish(w, &n);               /* root never closed */
	CHECK_EQ(fdt_check(fdt, n), -EINVAL);
	CHECK_EQ(fdt_next_sibling(fdt, 0), -EINVAL);
	free(fdt);
	memset(w, 0, sizeof(*w));
	w_begin(w, "");
	w_end(w);
	w_end(w);
	fdt = w_finish(w, &n);
	CHECK_EQ(fdt_check(fdt, n), -EINVAL);
	free(fdt);
	free(w);
}

TEST(check_rejects_missing_end_token)
{
	struct fdtw *w = w_new();
	size_t n;
	u8 *fdt;

	w_begin(w, "");
	w_end(w);
	fdt = w_finish(w, &n);
	put32(fdt + 36, get32(fdt + 36) - 4);  /* cut FDT_END off */
	CHECK_EQ(fdt_check(fdt, n), -EINVAL);
	free(fdt);
	free(w);
}

/* ----------------------------------------------------- walking nodes */

TEST(walks_children_siblings_and_parents)
{
	size_t n;
	u8 *fdt = load_dtb("virt-gicv3.dtb", &n);
	int cpus, c, count = 0;

	CHECK(fdt);
	cpus = fdt_path_offset(fdt, "/cpus");
	CHECK(cpus > 0);
	CHECK_STREQ(fdt_node_name(fdt, cpus), "cpus");
	CHECK_STREQ(fdt_node_name(fdt, fdt_root(fdt)), "");
	for (c = fdt_first_child(fdt, cpus); c >= 0; c = fdt_next_sibling(fdt, c)) {
		CHECK_EQ(fdt_parent(fdt, c), cpus);
		count++;
	}
	CHECK_EQ(c, -ENOENT);
	CHECK_EQ(count, 5);                  /* cpu-map and cpu@0..3 */
	CHECK_EQ(fdt_parent(fdt, cpus), 0);
	CHECK_EQ(fdt_parent(fdt, 0), -ENOENT);
	CHECK_EQ(fdt_next_sibling(fdt, 0), -ENOENT);
	CHECK_EQ(fdt_first_child(fdt, fdt_path_offset(fdt, "/cpus/cpu@3")), -ENOENT);
	CHECK_EQ(fdt_parent(fdt, 4), -EINVAL);  /* not a node offset */
	CHECK_EQ(fdt_first_child(fdt, -ENOENT), -ENOENT);
	free(fdt);
}

TEST(next_node_visits_every_node_once)
{
	size_t n;
	u8 *fdt = load_dtb("bcm2711-rpi-4-b.dtb", &n);
	int node, count = 0, prev = -1;

	CHECK(fdt);
	for (node = fdt_next_node(fdt, -1); node >= 0; node = fdt_next_node(fdt, node)) {
		CHECK(node > prev);
		prev = node;
		count++;
	}
	CHECK_EQ(node, -ENOENT);
	CHECK(count > 100);
	free(fdt);
}

TEST(node_path_names_every_level)
{
	size_t n;
	u8 *fdt = load_dtb("bcm2711-rpi-4-b.dtb", &n);
	char buf[64], small[8];
	int node;

	CHECK(fdt);
	node = fdt_path_offset(fdt, "/soc/serial@7e201000");
	CHECK(node > 0);
	CHECK_EQ(fdt_node_path(fdt, node, buf, sizeof(buf)), 0);
	CHECK_STREQ(buf, "/soc/serial@7e201000");
	CHECK_EQ(fdt_node_path(fdt, 0, buf, sizeof(buf)), 0);
	CHECK_STREQ(buf, "/");
	CHECK_EQ(fdt_node_path(fdt, node, small, sizeof(small)), -ENOSPC);
	CHECK_STREQ(small, "/soc/se");
	free(fdt);
}

/* ------------------------------------------------ paths and aliases */

TEST(path_offset_finds_nodes_with_and_without_unit_address)
{
	size_t n;
	u8 *fdt = load_dtb("virt-gicv3.dtb", &n);
	int cpu1;

	CHECK(fdt);
	cpu1 = fdt_path_offset(fdt, "/cpus/cpu@1");
	CHECK(cpu1 > 0);
	CHECK_STREQ(fdt_node_name(fdt, cpu1), "cpu@1");
	CHECK_EQ(fdt_path_offset(fdt, "/"), 0);
	CHECK_EQ(fdt_path_offset(fdt, "//cpus//cpu@1/"), cpu1);
	CHECK_EQ(fdt_path_offset(fdt, "/cpus/cpu"), fdt_path_offset(fdt, "/cpus/cpu@0"));
	CHECK_EQ(fdt_path_offset(fdt, "/pl011@9000000:115200n8"),
		 fdt_path_offset(fdt, "/pl011"));
	CHECK_EQ(fdt_path_offset(fdt, "/cpus/cpu@9"), -ENOENT);
	CHECK_EQ(fdt_path_offset(fdt, "/cpu"), -ENOENT);   /* not a prefix match */
	free(fdt);
}

TEST(path_offset_follows_aliases_and_ignores_options)
{
	size_t n;
	u8 *fdt = load_dtb("bcm2711-rpi-4-b.dtb", &n);
	int mini;

	CHECK(fdt);
	mini = fdt_path_offset(fdt, "/soc/serial@7e215040");
	CHECK(mini > 0);
	CHECK_EQ(fdt_path_offset(fdt, "serial1:115200n8"), mini);
	CHECK_EQ(fdt_path_offset(fdt, "serial1"), mini);
	CHECK_EQ(fdt_path_offset(fdt, "serial0"),
		 fdt_path_offset(fdt, "/soc/serial@7e201000"));
	CHECK_EQ(fdt_path_offset(fdt, "serial9"), -ENOENT);
	CHECK_EQ(fdt_path_offset(fdt, "serial"), -ENOENT);
	CHECK_EQ(fdt_path_offset(fdt, ":115200"), -EINVAL);
	free(fdt);
}

TEST(alias_then_subpath)
{
	struct fdtw *w = w_new();
	size_t n;
	u8 *fdt;

	w_begin(w, "");
	w_begin(w, "aliases");
	w_str(w, "bus", "/bus@0");
	w_str(w, "bad", "relative");
	w_prop(w, "unterminated", "/bus@0", 6);
	w_end(w);
	w_begin(w, "bus@0");
	w_begin(w, "dev@1");
	w_end(w);
	w_end(w);
	w_end(w);
	fdt = w_finish(w, &n);
	CHECK_EQ(fdt_check(fdt, n), 0);
	CHECK_EQ(fdt_path_offset(fdt, "bus/dev@1"), fdt_path_offset(fdt, "/bus@0/dev@1"));
	CHECK(fdt_path_offset(fdt, "bus/dev@1") > 0);
	CHECK_EQ(fdt_path_offset(fdt, "bad"), -EINVAL);
	CHECK_EQ(fdt_path_offset(fdt, "unterminated"), -EINVAL);
	free(fdt);
	free(w);
}

/* --------------------------------------------------------- properties */

TEST(getprop_returns_value_and_length)
{
	size_t n;
	u8 *fdt = load_dtb("virt-gicv3.dtb", &n);
	int psci, len;
	const u8 *p;
	u32 v = 0;

	CHECK(fdt);
	psci = fdt_path_offset(fdt, "/psci");
	p = fdt_getprop(fdt, psci, "method", &len);
	CHECK(p);
	CHECK_EQ(len, 4);
	CHECK_STREQ((const char *)p, "smc");
	CHECK_STREQ(fdt_getprop_str(fdt, psci, "method"), "smc");
	CHECK(!fdt_getprop(fdt, psci, "nope", &len));
	CHECK_EQ(len, -ENOENT);
	CHECK(!fdt_getprop(fdt, psci, "metho", &len));   /* no prefix match */
	CHECK_EQ(fdt_getprop_u32(fdt, psci, "cpu_on", &v), 0);
	CHECK_EQ(v, 0xc4000003);
	CHECK_EQ(fdt_getprop_u32(fdt, psci, "compatible", &v), -EINVAL);
	CHECK_EQ(fdt_getprop_u32(fdt, psci, "nope", &v), -ENOENT);
	free(fdt);
}

TEST(is_compatible_checks_every_string_exactly)
{
	size_t n;
	u8 *fdt = load_dtb("virt-gicv3.dtb", &n);
	int psci;

	CHECK(fdt);
	psci = fdt_path_offset(fdt, "/psci");
	CHECK(fdt_is_compatible(fdt, psci, "arm,psci-1.0"));
	CHECK(fdt_is_compatible(fdt, psci, "arm,psci-0.2"));
	CHECK(fdt_is_compatible(fdt, psci, "arm,psci"));
	CHECK(!fdt_is_compatible(fdt, psci, "arm,psci-0"));
	CHECK(!fdt_is_compatible(fdt, psci, "psci"));
	CHECK(!fdt_is_compatible(fdt, psci, ""));
	free(fdt);
}

TEST(find_compatible_iterates_all_matches)
{
	size_t n;
	u8 *fdt = load_dtb("bcm2711-rpi-4-b.dtb", &n);
	int node, count = 0;

	CHECK(fdt);
	for (node = fdt_find_compatible(fdt, -1, "arm,pl011"); node >= 0;
	     node = fdt_find_compatible(fdt, node, "arm,pl011"))
		count++;
	CHECK_EQ(node, -ENOENT);
	CHECK_EQ(count, 5);
	CHECK_EQ(fdt_find_compatible(fdt, -1, "arm,pl011"),
		 fdt_path_offset(fdt, "/soc/serial@7e201000"));
	CHECK_EQ(fdt_find_compatible(fdt, -1, "no,such"), -ENOENT);
	free(fdt);
}

TEST(is_enabled_reads_status)
{
	size_t n;
	u8 *fdt = load_dtb("bcm2711-rpi-4-b.dtb", &n);

	CHECK(fdt);
	CHECK(fdt_is_enabled(fdt, fdt_path_offset(fdt, "/soc/serial@7e201000")));
	CHECK(!fdt_is_enabled(fdt, fdt_path_offset(fdt, "/reserved-memory/nvram@0")));
	CHECK(fdt_is_enabled(fdt, fdt_path_offset(fdt, "/cpus")));  /* no status */
	free(fdt);
}

TEST(node_by_phandle)
{
	size_t n;
	u8 *fdt = load_dtb("bcm2711-rpi-4-b.dtb", &n);

	CHECK(fdt);
	CHECK_EQ(fdt_node_by_phandle(fdt, 1),
		 fdt_path_offset(fdt, "/soc/interrupt-controller@40041000"));
	CHECK_EQ(fdt_node_by_phandle(fdt, 0), -ENOENT);
	CHECK_EQ(fdt_node_by_phandle(fdt, 0xffffffff), -ENOENT);
	CHECK_EQ(fdt_node_by_phandle(fdt, 0x7777), -ENOENT);
	free(fdt);
}

TEST(read_cells_is_big_endian)
{
	static const u8 p[] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0 };

	CHECK_EQ(fdt_prop_u32(p, 1), 0x9abcdef0);
	CHECK_EQ(fdt_read_cells(p, 2), 0x123456789abcdef0ull);
	CHECK_EQ(fdt_read_cells(p + 1, 1), 0x3456789a);  /* unaligned */
	CHECK_EQ(fdt_read_cells(p, 0), 0);
}

TEST(memreserve_entries)
{
	size_t n;
	u8 *fdt = load_dtb("bcm2711-rpi-4-b.dtb", &n);
	u64 a = 1, s = 1;

	CHECK(fdt);
	CHECK_EQ(fdt_memreserve(fdt, 0, &a, &s), 0);
	CHECK_EQ(a, 0);
	CHECK_EQ(s, 0x1000);
	CHECK_EQ(fdt_memreserve(fdt, 1, &a, &s), -ENOENT);
	free(fdt);
	fdt = load_dtb("virt-gicv3.dtb", &n);
	CHECK(fdt);
	CHECK_EQ(fdt_memreserve(fdt, 0, &a, &s), -ENOENT);
	free(fdt);
}

/* ------------------------------------------------ reg and translation */

TEST(reg_cells_come_from_the_parent)
{
	size_t n;
	u8 *fdt = load_dtb("bcm2711-rpi-4-b.dtb", &n);
	u32 ac = 0, sc = 0;

	CHECK(fdt);
	CHECK_EQ(fdt_reg_cells(fdt, fdt_path_offset(fdt, "/cpus/cpu@2"), &ac, &sc), 0);
	CHECK_EQ(ac, 1);
	CHECK_EQ(sc, 0);
	CHECK_EQ(fdt_reg_cells(fdt, fdt_path_offset(fdt, "/soc"), &ac, &sc), 0);
	CHECK_EQ(ac, 2);
	CHECK_EQ(sc, 1);
	CHECK_EQ(fdt_reg_cells(fdt, 0, &ac, &sc), -ENOENT);
	free(fdt);
}

TEST(reg_cells_default_to_2_and_1)
{
	struct fdtw *w = w_new();
	size_t n;
	u8 *fdt;
	u32 ac = 0, sc = 0;
	u64 a, s;

	w_begin(w, "");
	w_begin(w, "dev@100000000");
	w_cells(w, "reg", 3, 1, 0, 0x20);
	w_end(w);
	w_end(w);
	fdt = w_finish(w, &n);
	CHECK_EQ(fdt_check(fdt, n), 0);
	CHECK_EQ(fdt_reg_cells(fdt, fdt_path_offset(fdt, "/dev"), &ac, &sc), 0);
	CHECK_EQ(ac, 2);
	CHECK_EQ(sc, 1);
	CHECK_EQ(fdt_reg(fdt, fdt_path_offset(fdt, "/dev"), 0, &a, &s), 0);
	CHECK_EQ(a, 0x100000000ull);
	CHECK_EQ(s, 0x20);
	free(fdt);
	free(w);
}

TEST(reg_translates_pi_bus_addresses)
{
	size_t n;
	u8 *fdt = load_dtb("bcm2711-rpi-4-b.dtb", &n);
	int uart, gic;
	u64 a = 0, s = 0;

	CHECK(fdt);
	uart = fdt_path_offset(fdt, "serial0");
	CHECK_EQ(fdt_reg_raw(fdt, uart, 0, &a, &s), 0);
	CHECK_EQ(a, 0x7e201000);
	CHECK_EQ(fdt_reg(fdt, uart, 0, &a, &s), 0);
	CHECK_EQ(a, 0xfe201000);
	CHECK_EQ(s, 0x200);
	CHECK_EQ(fdt_reg(fdt, uart, 1, &a, &s), -ENOENT);
	gic = fdt_path_offset(fdt, "/soc/interrupt-controller@40041000");
	CHECK_EQ(fdt_reg(fdt, gic, 0, &a, &s), 0);
	CHECK_EQ(a, 0xff841000);
	CHECK_EQ(fdt_reg(fdt, gic, 1, &a, &s), 0);
	CHECK_EQ(a, 0xff842000);
	CHECK_EQ(fdt_reg(fdt, gic, 2, &a, &s), 0);
	CHECK_EQ(a, 0xff844000);
	CHECK_EQ(fdt_reg(fdt, gic, 3, &a, &s), 0);
	CHECK_EQ(a, 0xff846000);
	CHECK_EQ(s, 0x2000);
	CHECK_EQ(fdt_reg(fdt, gic, 4, &a, &s), -ENOENT);
	free(fdt);
}

TEST(reg_on_virt_is_identity)
{
	size_t n;
	u8 *fdt = load_dtb("virt-gicv3.dtb", &n);
	u64 a = 0, s = 0;

	CHECK(fdt);
	CHECK_EQ(fdt_reg(fdt, fdt_path_offset(fdt, "/pl011@9000000"), 0, &a, &s), 0);
	CHECK_EQ(a, 0x09000000);
	CHECK_EQ(s, 0x1000);
	/* The ITS sits below the GIC node, whose `ranges` is empty. */
	CHECK_EQ(fdt_reg(fdt, fdt_path_offset(fdt, "/intc@8000000/its@8080000"), 0, &a, &s), 0);
	CHECK_EQ(a, 0x08080000);
	/* CPUs: /cpus has no `ranges`, so their `reg` is not translatable. */
	CHECK_EQ(fdt_reg(fdt, fdt_path_offset(fdt, "/cpus/cpu@2"), 0, &a, &s), -ENOENT);
	CHECK_EQ(fdt_reg_raw(fdt, fdt_path_offset(fdt, "/cpus/cpu@2"), 0, &a, &s), 0);
	CHECK_EQ(a, 2);
	CHECK_EQ(s, 0);
	free(fdt);
}

/* root { bus@1000 { ranges (2 windows); sub@8000 { ranges?; dev@10 };
 * empty { ranges; leaf } } } */
static u8 *bus_blob(struct fdtw *w, bool sub_ranges, unsigned int dev_addr,
		    unsigned int dev_size, size_t *n)
{
	memset(w, 0, sizeof(*w));
	w_begin(w, "");
	w_cells(w, "#address-cells", 1, 1);
	w_cells(w, "#size-cells", 1, 1);
	w_begin(w, "bus@1000");
	w_cells(w, "#address-cells", 1, 1);
	w_cells(w, "#size-cells", 1, 1);
	w_cells(w, "ranges", 6, 0x0, 0x1000, 0x100, 0x8000, 0x90000, 0x1000);
	w_begin(w, "sub@8000");
	w_cells(w, "#address-cells", 1, 2);
	w_cells(w, "#size-cells", 1, 1);
	if (sub_ranges)
		w_cells(w, "ranges", 4, 0, 0x10, 0x8000, 0x800);
	w_begin(w, "dev@10");
	w_cells(w, "reg", 3, 0, dev_addr, dev_size);
	w_end(w);
	w_end(w);
	w_begin(w, "empty");
	w_cells(w, "#address-cells", 1, 1);
	w_cells(w, "#size-cells", 1, 1);
	w_prop(w, "ranges", NULL, 0);
	w_begin(w, "leaf");
	w_cells(w, "reg", 2, 0x20, 4);
	w_end(w);
	w_end(w);
	w_end(w);
	w_end(w);
	return w_finish(w, n);
}

TEST(reg_translates_through_nested_ranges)
{
	struct fdtw *w = w_new();
	size_t n;
	u8 *fdt = bus_blob(w, true, 0x20, 0x10, &n);
	u64 a = 0, s = 0;

	CHECK_EQ(fdt_check(fdt, n), 0);
	/* 0x20 in sub -> 0x8010 in bus (window 2) -> 0x90010 at the CPU. */
	CHECK_EQ(fdt_reg(fdt, fdt_path_offset(fdt, "/bus/sub/dev"), 0, &a, &s), 0);
	CHECK_EQ(a, 0x90010);
	CHECK_EQ(s, 0x10);
	/* Empty `ranges` is the identity: 0x20 in bus -> 0x1020. */
	CHECK_EQ(fdt_reg(fdt, fdt_path_offset(fdt, "/bus/empty/leaf"), 0, &a, &s), 0);
	CHECK_EQ(a, 0x1020);
	free(fdt);
	free(w);
}

TEST(reg_outside_every_window_is_an_error)
{
	struct fdtw *w = w_new();
	size_t n;
	u8 *fdt = bus_blob(w, true, 0x800, 0x20, &n);   /* crosses the end */
	u64 a, s;

	CHECK_EQ(fdt_reg(fdt, fdt_path_offset(fdt, "/bus/sub/dev"), 0, &a, &s), -ERANGE);
	free(fdt);
	fdt = bus_blob(w, true, 0x1000, 0x4, &n);          /* past the window */
	CHECK_EQ(fdt_reg(fdt, fdt_path_offset(fdt, "/bus/sub/dev"), 0, &a, &s), -ERANGE);
	free(fdt);
	free(w);
}

TEST(reg_below_a_parent_without_ranges_is_not_translatable)
{
	struct fdtw *w = w_new();
	size_t n;
	u8 *fdt = bus_blob(w, false, 0x20, 0x10, &n);
	u64 a, s;

	CHECK_EQ(fdt_check(fdt, n), 0);
	CHECK_EQ(fdt_reg(fdt, fdt_path_offset(fdt, "/bus/sub/dev"), 0, &a, &s), -ENOENT);
	CHECK_EQ(fdt_reg_raw(fdt, fdt_path_offset(fdt, "/bus/sub/dev"), 0, &a, &s), 0);
	CHECK_EQ(a, 0x20);
	free(fdt);
	free(w);
}

TEST(cells_value_of_5_is_rejected)
{
	struct fdtw *w = w_new();
	size_t n;
	u8 *fdt;
	u32 ac, sc;
	u64 a, s;
	int dev;

	w_begin(w, "");
	w_cells(w, "#address-cells", 1, 5);
	w_begin(w, "dev");
	w_cells(w, "reg", 6, 0, 0, 0, 0, 1, 1);
	w_end(w);
	w_end(w);
	fdt = w_finish(w, &n);
	CHECK_EQ(fdt_check(fdt, n), 0);
	dev = fdt_path_offset(fdt, "/dev");
	CHECK_EQ(fdt_reg_cells(fdt, dev, &ac, &sc), -EINVAL);
	CHECK_EQ(fdt_reg(fdt, dev, 0, &a, &s), -EINVAL);
	CHECK_EQ(fdt_reg_raw(fdt, dev, 0, &a, &s), -EINVAL);
	free(fdt);
	free(w);
}

TEST(three_address_cells_are_unsupported_not_misread)
{
	struct fdtw *w = w_new();
	size_t n;
	u8 *fdt;
	u64 a, s;

	w_begin(w, "");
	w_cells(w, "#address-cells", 1, 3);
	w_begin(w, "dev");
	w_cells(w, "reg", 4, 0, 0, 1, 1);
	w_end(w);
	w_end(w);
	fdt = w_finish(w, &n);
	CHECK_EQ(fdt_reg(fdt, fdt_path_offset(fdt, "/dev"), 0, &a, &s), -ERANGE);
	free(fdt);
	free(w);
}

TEST(reg_length_not_a_whole_entry_is_rejected)
{
	struct fdtw *w = w_new();
	size_t n;
	u8 *fdt;
	u64 a, s;

	w_begin(w, "");
	w_begin(w, "dev");
	w_cells(w, "reg", 2, 0, 0x1000);   /* needs 3 cells per entry */
	w_end(w);
	w_end(w);
	fdt = w_finish(w, &n);
	CHECK_EQ(fdt_reg(fdt, fdt_path_offset(fdt, "/dev"), 0, &a, &s), -EINVAL);
	free(fdt);
	free(w);
}

/* @depth buses nested, each mapping its child space 0 to parent 0x10. */
static u8 *deep_blob(struct fdtw *w, int depth, size_t *n)
{
	memset(w, 0, sizeof(*w));
	w_begin(w, "");
	w_cells(w, "#address-cells", 1, 1);
	w_cells(w, "#size-cells", 1, 1);
	for (int i = 0; i < depth; i++) {
		w_begin(w, "b");
		w_cells(w, "#address-cells", 1, 1);
		w_cells(w, "#size-cells", 1, 1);
		w_cells(w, "ranges", 3, 0, 0x10, 0x100000);
	}
	w_begin(w, "dev");
	w_cells(w, "reg", 2, 0x4, 0x4);
	w_end(w);
	for (int i = 0; i < depth; i++)
		w_end(w);
	w_end(w);
	return w_finish(w, n);
}

/* Deepest node of a blob: the last one in document order. */
static int last_node(const void *fdt)
{
	int node = fdt_next_node(fdt, -1), next;

	while ((next = fdt_next_node(fdt, node)) >= 0)
		node = next;
	return node;
}

TEST(long_chains_of_ranges_parents_translate_or_stop)
{
	struct fdtw *w = w_new();
	size_t n;
	u8 *fdt = deep_blob(w, 40, &n);
	u64 a = 0, s = 0;
	char path[512];

	CHECK_EQ(fdt_check(fdt, n), 0);
	CHECK_EQ(fdt_reg(fdt, last_node(fdt), 0, &a, &s), 0);
	CHECK_EQ(a, 0x4 + 40 * 0x10);
	free(fdt);
	/* Deeper than FDT_MAX_DEPTH: rejected by the check, and the walkers
	 * stop with an error instead of running on. */
	fdt = deep_blob(w, FDT_MAX_DEPTH + 10, &n);
	CHECK_EQ(fdt_check(fdt, n), -EINVAL);
	CHECK_EQ(fdt_reg(fdt, last_node(fdt), 0, &a, &s), -ERANGE);
	CHECK_EQ(fdt_node_path(fdt, last_node(fdt), path, sizeof(path)), -ERANGE);
	free(fdt);
	free(w);
}

/* ---------------------------------------------------- malformed blobs */

/* root { a = <1>; }: the PROP token sits at structure offset 8. */
static u8 *one_prop_blob(struct fdtw *w, size_t *n)
{
	memset(w, 0, sizeof(*w));
	w_begin(w, "");
	w_cells(w, "a", 1, 1);
	w_end(w);
	return w_finish(w, n);
}

TEST(property_length_past_the_structure_block)
{
	struct fdtw *w = w_new();
	size_t n;
	u8 *fdt = one_prop_blob(w, &n);
	int len;

	CHECK_EQ(fdt_check(fdt, n), 0);
	CHECK(fdt_getprop(fdt, 0, "a", &len));
	put32(fdt + w->st_off + 12, 0x1000);
	CHECK_EQ(fdt_check(fdt, n), -EINVAL);
	CHECK(!fdt_getprop(fdt, 0, "a", &len));
	CHECK_EQ(len, -EINVAL);
	put32(fdt + w->st_off + 12, 0xfffffff8);   /* would wrap a u32 sum */
	CHECK_EQ(fdt_check(fdt, n), -EINVAL);
	CHECK(!fdt_getprop(fdt, 0, "a", &len));
	CHECK_EQ(fdt_first_child(fdt, 0), -EINVAL);
	free(fdt);
	free(w);
}

TEST(string_offset_past_the_strings_block)
{
	struct fdtw *w = w_new();
	size_t n;
	u8 *fdt = one_prop_blob(w, &n);
	int len;

	put32(fdt + w->st_off + 16, (u32)w->str_n + 10);
	CHECK_EQ(fdt_check(fdt, n), -EINVAL);
	CHECK(!fdt_getprop(fdt, 0, "a", &len));
	CHECK_EQ(len, -EINVAL);
	put32(fdt + w->st_off + 16, 0xffffffff);
	CHECK_EQ(fdt_check(fdt, n), -EINVAL);
	CHECK(!fdt_getprop(fdt, 0, "a", &len));
	free(fdt);
	free(w);
}

TEST(property_name_without_terminator)
{
	struct fdtw *w = w_new();
	size_t n;
	u8 *fdt = one_prop_blob(w, &n);
	int len;

	put32(fdt + 32, get32(fdt + 32) - 1);   /* cut the NUL of "a" */
	CHECK_EQ(fdt_check(fdt, n), -EINVAL);
	CHECK(!fdt_getprop(fdt, 0, "a", &len));
	free(fdt);
	free(w);
}

TEST(node_name_without_terminator)
{
	struct fdtw *w = w_new();
	size_t n;
	u8 *fdt;

	w_u32(w, 1);
	memcpy(w->st + w->st_n, "abcdefgh", 8);   /* no NUL anywhere after */
	w->st_n += 8;
	fdt = w_finish(w, &n);
	put32(fdt + 36, 12);                       /* block ends in the name */
	CHECK_EQ(fdt_check(fdt, n), -EINVAL);
	CHECK(!fdt_node_name(fdt, 0));
	CHECK_EQ(fdt_first_child(fdt, 0), -EINVAL);
	CHECK(!fdt_getprop(fdt, 0, "x", NULL));
	CHECK_EQ(fdt_path_offset(fdt, "/x"), -EINVAL);
	free(fdt);
	free(w);
}

TEST(unknown_token_is_rejected)
{
	struct fdtw *w = w_new();
	size_t n;
	u8 *fdt = one_prop_blob(w, &n);

	put32(fdt + w->st_off + 8, 7);
	CHECK_EQ(fdt_check(fdt, n), -EINVAL);
	CHECK(!fdt_getprop(fdt, 0, "a", NULL));
	CHECK_EQ(fdt_next_node(fdt, 0), -EINVAL);
	free(fdt);
	free(w);
}

TEST(every_truncation_of_the_pi_dtb_is_rejected)
{
	size_t n;
	u8 *fdt = load_dtb("bcm2711-rpi-4-b.dtb", &n);

	CHECK(fdt);
	for (size_t len = 0; len < n; len++) {
		u8 *t = malloc(len ? len : 1);

		memcpy(t, fdt, len);
		if (len >= 8)
			put32(t + 4, (u32)len);
		if (fdt_check(t, len) != -EINVAL) {
			free(t);
			CHECK_EQ(len, ~0ull);
		}
		if (len >= FDT_HEADER_SIZE) {
			/* Without the check: every accessor must stay in bounds. */
			sink += (unsigned long)fdt_root(t);
			sink += (unsigned long)fdt_path_offset(t, "serial1");
		}
		free(t);
	}
	free(fdt);
}

TEST(every_truncation_of_a_virt_dtb_is_rejected_or_whole)
{
	size_t n;
	u8 *fdt = load_dtb("virt-gicv3.dtb", &n);
	u32 end;

	CHECK(fdt);
	end = get32(fdt + 12) + get32(fdt + 32);   /* end of the strings */
	for (size_t len = FDT_HEADER_SIZE; len < end + 64; len++) {
		u8 *t = malloc(len);
		int r;

		memcpy(t, fdt, len);
		put32(t + 4, (u32)len);
		r = fdt_check(t, len);
		if (len < end)
			CHECK_EQ(r, -EINVAL);
		else
			CHECK_EQ(r, 0);
		if (r == 0)
			CHECK_EQ(fdt_path_offset(t, "/cpus/cpu@3"),
				 fdt_path_offset(fdt, "/cpus/cpu@3"));
		free(t);
	}
	free(fdt);
}

/*
 * Truncate the Pi DTB with the block sizes clamped to fit, so the header
 * passes and the walkers meet a structure block cut at every place.
 */
TEST(accessors_stay_in_bounds_on_cut_structure_blocks)
{
	size_t n;
	u8 *fdt = load_dtb("bcm2711-rpi-4-b.dtb", &n);
	u32 st_off, str_off, st_size, str_size;

	CHECK(fdt);
	st_off = get32(fdt + 8);
	str_off = get32(fdt + 12);
	str_size = get32(fdt + 32);
	st_size = get32(fdt + 36);
	for (size_t len = st_off; len <= n; len += 1 + (len % 7) * 5) {
		u8 *t = malloc(len);
		u32 s = len - st_off < st_size ? (u32)(len - st_off) : st_size;

		memcpy(t, fdt, len);
		put32(t + 4, (u32)len);
		put32(t + 36, s);
		if (len < (size_t)str_off + str_size) {
			/* Strings: whatever is left of them, if anything. */
			u32 so = len > str_off ? str_off : (u32)len;

			put32(t + 12, so);
			put32(t + 32, (u32)len - so);
		}
		walk_all(t, len % 5 == 0 ? 400 : 8);
		free(t);
	}
	free(fdt);
}

TEST(random_byte_corruption_never_reads_out_of_bounds)
{
	size_t n;
	u8 *fdt = load_dtb("bcm2711-rpi-4-b.dtb", &n);
	u8 *t;
	u32 seed = 12345;

	CHECK(fdt);
	t = malloc(n);
	for (int iter = 0; iter < 1500; iter++) {
		memcpy(t, fdt, n);
		for (u32 k = 1 + rnd(&seed) % 4; k > 0; k--) {
			u32 at = rnd(&seed) % (u32)n;

			if (rnd(&seed) & 1)
				t[at] = (u8)rnd(&seed);
			else
				t[at & ~3u] = (u8)(rnd(&seed) % 10);  /* token-ish */
		}
		sink += (unsigned long)fdt_check(t, n);
		walk_all(t, iter % 10 == 0 ? 400 : 16);
	}
	free(t);
	free(fdt);
}

/* ------------------------------------------------- the visiting walk */

/* What walk_checker() compares each visit against. */
struct walk_check {
	const void *fdt;
	int prev;                  /* last node visited, -1 before the root */
	int count;
	int stop_at;               /* return 99 at this many visits, 0: never */
	bool bad;                  /* some visit disagreed with the API */
	struct fdt_visit last;     /* the previous visit, stale by now */
};

/* True when visit value @v (@vlen bytes) is property @name of @node. */
static bool same_prop(const void *fdt, int node, const char *name,
		      const void *v, int vlen)
{
	int len;
	const void *p = fdt_getprop(fdt, node, name, &len);

	return p == v && (!p || len == vlen);
}

/* True when fdt_visit_reg() and fdt_reg() (and the raw ones) agree. */
static bool same_regs(const void *fdt, const struct fdt_visit *v)
{
	for (unsigned int i = 0; i < 3; i++) {
		u64 a1 = 0, s1 = 0, a2 = 0, s2 = 0;
		int r1 = fdt_visit_reg(v, i, &a1, &s1);
		int r2 = fdt_reg(fdt, v->node, i, &a2, &s2);

		if (r1 != r2 || (!r1 && (a1 != a2 || s1 != s2)))
			return false;
		r1 = fdt_visit_reg_raw(v, i, &a1, &s1);
		r2 = fdt_reg_raw(fdt, v->node, i, &a2, &s2);
		if (r1 != r2 || (!r1 && (a1 != a2 || s1 != s2)))
			return false;
	}
	return true;
}

/* Checks one visit against the node-offset API. */
static int walk_checker(const struct fdt_visit *v, void *arg)
{
	struct walk_check *wc = arg;
	const void *fdt = wc->fdt;
	char p1[256], p2[256];
	u64 a, s;
	bool ok;

	ok = v->node == fdt_next_node(fdt, wc->prev) &&
	     fdt_visit_path(v, p1, sizeof(p1)) == 0 &&
	     fdt_node_path(fdt, v->node, p2, sizeof(p2)) == 0 &&
	     strcmp(p1, p2) == 0 &&
	     v->parent == fdt_parent(fdt, v->node) &&
	     (v->depth == 0) == (v->parent < 0) &&
	     v->name == fdt_node_name(fdt, v->node) &&
	     same_prop(fdt, v->node, "compatible", v->compatible,
		       v->compatible_len) &&
	     same_prop(fdt, v->node, "device_type", v->device_type,
		       v->device_type_len) &&
	     same_prop(fdt, v->node, "status", v->status, v->status_len) &&
	     fdt_visit_enabled(v) == fdt_is_enabled(fdt, v->node) &&
	     same_regs(fdt, v);
	/* The previous visit is over: its walk has moved on. */
	if (wc->count > 0 && (fdt_visit_reg(&wc->last, 0, &a, &s) != -EINVAL ||
			      fdt_visit_path(&wc->last, p1, sizeof(p1)) != -EINVAL))
		ok = false;
	wc->bad |= !ok;
	wc->prev = v->node;
	wc->last = *v;
	return ++wc->count == wc->stop_at ? 99 : 0;
}

TEST(walk_visits_every_node_as_the_node_api_sees_it)
{
	static const char *const names[] = {
		"virt-gicv3.dtb", "virt-gicv2.dtb", "bcm2711-rpi-4-b.dtb",
	};

	for (size_t i = 0; i < 3; i++) {
		size_t n;
		u8 *fdt = load_dtb(names[i], &n);
		struct walk_check wc = { .fdt = fdt, .prev = -1 };

		CHECK(fdt);
		CHECK_EQ(fdt_walk(fdt, walk_checker, &wc), 0);
		CHECK(!wc.bad);
		CHECK_EQ(fdt_next_node(fdt, wc.prev), -ENOENT);   /* all seen */
		CHECK(wc.count > 60);
		free(fdt);
	}
}

TEST(walk_translates_reg_like_fdt_reg_on_nested_buses)
{
	struct fdtw *w = w_new();
	size_t n;
	u8 *fdt = bus_blob(w, true, 0x20, 0x10, &n);
	struct walk_check wc = { .fdt = fdt, .prev = -1 };

	CHECK_EQ(fdt_walk(fdt, walk_checker, &wc), 0);
	CHECK(!wc.bad);
	CHECK_EQ(wc.count, 6);
	free(fdt);
	fdt = bus_blob(w, false, 0x20, 0x10, &n);   /* not translatable */
	wc = (struct walk_check){ .fdt = fdt, .prev = -1 };
	CHECK_EQ(fdt_walk(fdt, walk_checker, &wc), 0);
	CHECK(!wc.bad);
	free(fdt);
	free(w);
}

TEST(walk_stops_when_the_visitor_says_so)
{
	size_t n;
	u8 *fdt = load_dtb("virt-gicv3.dtb", &n);
	struct walk_check wc = { .fdt = fdt, .prev = -1, .stop_at = 3 };

	CHECK(fdt);
	CHECK_EQ(fdt_walk(fdt, walk_checker, &wc), 99);
	CHECK_EQ(wc.count, 3);
	CHECK(!wc.bad);
	free(fdt);
}

TEST(walk_rejects_too_deep_and_second_roots)
{
	struct fdtw *w = w_new();
	size_t n;
	u8 *fdt = deep_blob(w, FDT_MAX_DEPTH + 10, &n);

	CHECK_EQ(fdt_walk(fdt, NULL, NULL), -ERANGE);
	free(fdt);
	memset(w, 0, sizeof(*w));
	w_begin(w, "");
	w_end(w);
	w_begin(w, "");
	w_end(w);
	fdt = w_finish(w, &n);
	CHECK_EQ(fdt_walk(fdt, NULL, NULL), -EINVAL);
	free(fdt);
	free(w);
}

/* fdt_walk() must check exactly what fdt_check() does. */
TEST(walk_and_check_agree_on_corrupted_blobs)
{
	size_t n;
	u8 *fdt = load_dtb("bcm2711-rpi-4-b.dtb", &n), *t;
	u32 seed = 777;
	int bad = 0;

	CHECK(fdt);
	t = malloc(n);
	for (int iter = 0; iter < 3000; iter++) {
		memcpy(t, fdt, n);
		for (u32 k = 1 + rnd(&seed) % 3; k > 0; k--) {
			u32 at = rnd(&seed) % (u32)n;

			if (rnd(&seed) & 1)
				t[at] = (u8)rnd(&seed);
			else
				t[at & ~3u] = (u8)(rnd(&seed) % 10);
		}
		if (get32(t + 4) > n)
			continue;   /* the walk trusts totalsize */
		bad += (fdt_walk(t, NULL, NULL) == 0) != (fdt_check(t, n) == 0);
	}
	CHECK_EQ(bad, 0);
	free(t);
	free(fdt);
}

TEST(strset_matches_in_one_pass)
{
	static const char *const strs[] = {
		"arm,pl011", "arm,gic-400", "arm,primecell", "arm,pl",
	};
	static const char *const none_shared[] = { "b", "abc", "" };
	static const char list[] = "brcm,x\0arm,primecell\0arm,pl011\0arm,pl0";
	struct fdt_strset set;

	fdt_strset_init(&set, strs, 4);
	CHECK_EQ(set.prefix, 4);                      /* "arm," */
	CHECK_EQ(fdt_strset_match(&set, list, sizeof(list)), 0x5);
	/* The unterminated tail "arm,pl0" is no string. */
	CHECK_EQ(fdt_strset_match(&set, list, sizeof(list) - 1), 0x5);
	CHECK_EQ(fdt_strset_match(&set, "arm,pl\0arm,", 11), 0x8);
	CHECK_EQ(fdt_strset_match(&set, "arm\0", 4), 0);  /* shorter than the prefix */
	CHECK_EQ(fdt_strset_match(&set, NULL, 10), 0);
	CHECK_EQ(fdt_strset_match(&set, list, 0), 0);
	fdt_strset_init(&set, none_shared, 3);
	CHECK_EQ(set.prefix, 0);
	CHECK_EQ(fdt_strset_match(&set, "abc\0\0b\0", 8), 0x7);
	CHECK(fdt_strlist_has("okay\0", 5, "okay"));
	CHECK(!fdt_strlist_has("okay\0", 5, "ok"));
	CHECK(!fdt_strlist_has(NULL, 5, "ok"));
}

/* ------------------------------------------------------------- cost */

/* Tokens one checking walk reads: the unit of the cost bounds. */
static unsigned long walk_tokens(const void *fdt)
{
	unsigned long t0 = fdt_tokens_read;

	fdt_walk(fdt, NULL, NULL);
	return fdt_tokens_read - t0;
}

/* Lookups that need a node's ancestors walk from the root once, not once
 * per ancestor and per call: fdt_reg() and fdt_node_path() on the last
 * node cost about one walk. */
TEST(ancestor_lookups_cost_one_walk)
{
	size_t n;
	u8 *fdt = load_dtb("bcm2711-rpi-4-b.dtb", &n);
	unsigned long one, t0;
	char path[128];
	u64 a, s;
	int last;

	CHECK(fdt);
	one = walk_tokens(fdt);
	last = last_node(fdt);
	t0 = fdt_tokens_read;
	fdt_reg(fdt, last, 0, &a, &s);
	CHECK(fdt_tokens_read - t0 <= one + 64);
	t0 = fdt_tokens_read;
	CHECK_EQ(fdt_node_path(fdt, last, path, sizeof(path)), 0);
	CHECK(fdt_tokens_read - t0 <= one + 64);
	free(fdt);
}
