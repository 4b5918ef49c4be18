/*
 * Tests of lib/fdt_write.c: every blob written is read back with the
 * project's reader (lib/fdt.c) and its values compared exactly; errors
 * stick; every buffer size short of the blob fails cleanly (ASan checks
 * that nothing is written past the buffer); names are shared.
 */
#include <stdlib.h>

#include "lib/errno.h"
#include "lib/fdt.h"
#include "lib/fdt_write.h"
#include "tests/host/dtb_util.h"
#include "tests/host/test.h"

/* Header fields read in these tests (u32 index into the header). */
#define H_TOTALSIZE 1
#define H_OFF_STRUCT 2
#define H_OFF_STRINGS 3
#define H_OFF_RSVMAP 4
#define H_VERSION 5
#define H_LAST_COMP 6
#define H_BOOT_CPUID 7
#define H_SIZE_STRINGS 8
#define H_SIZE_STRUCT 9

static u32 hdr(const u8 *fdt, unsigned int field)
{
	return get32(fdt + (size_t)4 * field);
}

/* A tree with every kind of property, nesting and shared names. */
static int write_sample(void *buf, size_t size)
{
	static const char *const compat[] = { "vendor,dev", "generic" };
	static const u32 cells[] = { 1, 2, 0xfffffffe };
	static const u8 raw[] = { 0xde, 0xad, 0xbe };
	static const u32 zero_reg[] = { 0, 0, 0x10 };
	struct fdt_writer w;

	fdt_create(&w, buf, size);
	fdt_begin_node(&w, "");
	fdt_property_u32(&w, "#address-cells", 2);
	fdt_property_u32(&w, "#size-cells", 1);
	fdt_property_string(&w, "model", "sample");
	fdt_begin_node_at(&w, "dev", 0x1234abcdULL);
	fdt_property_strings(&w, "compatible", compat, 2);
	fdt_property_cells(&w, "reg", cells, 3);
	fdt_property(&w, "raw", raw, sizeof(raw));
	fdt_property(&w, "empty", NULL, 0);
	fdt_property_u64(&w, "big", 0x0123456789abcdefULL);
	fdt_begin_node(&w, "child");
	fdt_property_string(&w, "model", "inner");
	fdt_end_node(&w);
	fdt_end_node(&w);
	fdt_begin_node_at(&w, "zero", 0);
	fdt_property_cells(&w, "reg", zero_reg, 3);
	fdt_end_node(&w);
	fdt_end_node(&w);
	return fdt_finish(&w);
}

/* The buffer of the misuse tests. */
static u8 scratch[4096];

/* ------------------------------------------------------------- layout */

TEST(smallest_tree_is_byte_exact)
{
	/* header 40, reservation 16, structure 32 (root, "a" = <1>, end
	 * node, end), strings "a\0". */
	static const u8 expect[90] = {
		0xd0, 0x0d, 0xfe, 0xed, 0, 0, 0, 90, 0, 0, 0, 56, 0, 0, 0, 88,
		0, 0, 0, 40, 0, 0, 0, 17, 0, 0, 0, 16, 0, 0, 0, 0,
		0, 0, 0, 2, 0, 0, 0, 32,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 1, 0, 0, 0, 0,
		0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 1,
		0, 0, 0, 2, 0, 0, 0, 9,
		'a', 0,
	};
	struct fdt_writer w;
	u8 buf[128];

	memset(buf, 0xa5, sizeof(buf));
	CHECK_EQ(fdt_create(&w, buf, sizeof(buf)), 0);
	CHECK_EQ(fdt_begin_node(&w, ""), 0);
	CHECK_EQ(fdt_property_u32(&w, "a", 1), 0);
	CHECK_EQ(fdt_end_node(&w), 0);
	CHECK_EQ(fdt_finish(&w), 90);
	CHECK(memcmp(buf, expect, sizeof(expect)) == 0);
}

TEST(header_is_version_17_with_an_empty_aligned_reservation_block)
{
	u8 buf[1024];
	u64 a, s;
	int n = write_sample(buf, sizeof(buf));

	CHECK(n > 0);
	CHECK_EQ(fdt_check(buf, (size_t)n), 0);
	CHECK_EQ(hdr(buf, 0), FDT_MAGIC);
	CHECK_EQ(hdr(buf, H_TOTALSIZE), n);
	CHECK_EQ(hdr(buf, H_VERSION), 17);
	CHECK_EQ(hdr(buf, H_LAST_COMP), 16);
	CHECK_EQ(hdr(buf, H_BOOT_CPUID), 0);
	CHECK_EQ(hdr(buf, H_OFF_RSVMAP) % 8, 0);
	CHECK_EQ(fdt_memreserve(buf, 0, &a, &s), -ENOENT);
	/* Blocks in the usual order, back to back, filling totalsize. */
	CHECK(hdr(buf, H_OFF_RSVMAP) < hdr(buf, H_OFF_STRUCT));
	CHECK_EQ(hdr(buf, H_OFF_STRUCT) + hdr(buf, H_SIZE_STRUCT),
		 hdr(buf, H_OFF_STRINGS));
	CHECK_EQ(hdr(buf, H_OFF_STRINGS) + hdr(buf, H_SIZE_STRINGS), n);
}

/* ---------------------------------------------------------- values */

TEST(every_property_kind_reads_back)
{
	static const u8 want_compat[] = "vendor,dev\0generic";
	u8 buf[1024];
	const u8 *p;
	int dev, len;
	u32 v;

	CHECK(write_sample(buf, sizeof(buf)) > 0);
	dev = fdt_path_offset(buf, "/dev@1234abcd");
	CHECK(dev >= 0);
	p = fdt_getprop(buf, dev, "compatible", &len);
	CHECK(p && len == (int)sizeof(want_compat));
	CHECK(memcmp(p, want_compat, sizeof(want_compat)) == 0);
	p = fdt_getprop(buf, dev, "reg", &len);
	CHECK(p && len == 12);
	CHECK_EQ(fdt_prop_u32(p, 0), 1);
	CHECK_EQ(fdt_prop_u32(p, 1), 2);
	CHECK_EQ(fdt_prop_u32(p, 2), 0xfffffffe);
	p = fdt_getprop(buf, dev, "raw", &len);
	CHECK(p && len == 3 && p[0] == 0xde && p[1] == 0xad && p[2] == 0xbe);
	p = fdt_getprop(buf, dev, "empty", &len);
	CHECK(p && len == 0);
	p = fdt_getprop(buf, dev, "big", &len);
	CHECK(p && len == 8);
	CHECK_EQ(fdt_read_cells(p, 2), 0x0123456789abcdefULL);
	CHECK_STREQ(fdt_getprop_str(buf, fdt_root(buf), "model"), "sample");
	CHECK_EQ(fdt_getprop_u32(buf, fdt_root(buf), "#size-cells", &v), 0);
	CHECK_EQ(v, 1);
}

TEST(nodes_nest_in_order_with_hex_unit_addresses)
{
	u8 buf[1024];
	int root, dev, child, zero;
	u64 a, s;

	CHECK(write_sample(buf, sizeof(buf)) > 0);
	root = fdt_root(buf);
	dev = fdt_first_child(buf, root);
	CHECK_STREQ(fdt_node_name(buf, dev), "dev@1234abcd");
	child = fdt_first_child(buf, dev);
	CHECK_STREQ(fdt_node_name(buf, child), "child");
	CHECK_STREQ(fdt_getprop_str(buf, child, "model"), "inner");
	CHECK_EQ(fdt_parent(buf, child), dev);
	zero = fdt_next_sibling(buf, dev);
	CHECK_STREQ(fdt_node_name(buf, zero), "zero@0");
	CHECK_EQ(fdt_next_sibling(buf, zero), -ENOENT);
	CHECK_EQ(fdt_reg_raw(buf, zero, 0, &a, &s), 0);
	CHECK_EQ(a, 0);
	CHECK_EQ(s, 0x10);
}

TEST(unit_address_is_lower_case_hex_without_leading_zeros)
{
	static const struct {
		u64 unit;
		const char *name;
	} cases[] = {
		{ 0, "n@0" }, { 0xa, "n@a" }, { 0x9000000, "n@9000000" },
		{ 0x100000000ULL, "n@100000000" },
		{ 0xffffffffffffffffULL, "n@ffffffffffffffff" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fdt_writer w;
		u8 buf[256];

		fdt_create(&w, buf, sizeof(buf));
		fdt_begin_node(&w, "");
		fdt_begin_node_at(&w, "n", cases[i].unit);
		fdt_end_node(&w);
		fdt_end_node(&w);
		CHECK(fdt_finish(&w) > 0);
		CHECK_STREQ(fdt_node_name(buf, fdt_first_child(buf, 0)),
			    cases[i].name);
	}
}

/* --------------------------------------------------- shared names */

TEST(each_property_name_is_stored_once)
{
	struct fdt_writer w;
	u8 buf[2048];
	int n;

	fdt_create(&w, buf, sizeof(buf));
	fdt_begin_node(&w, "");
	fdt_property_u32(&w, "reg", 0);
	for (unsigned int i = 0; i < 10; i++) {
		fdt_begin_node_at(&w, "n", i);
		fdt_property_u32(&w, "reg", i);
		fdt_property_string(&w, "compatible", "x");
		fdt_end_node(&w);
	}
	fdt_end_node(&w);
	n = fdt_finish(&w);
	CHECK(n > 0);
	CHECK_EQ(fdt_check(buf, (size_t)n), 0);
	CHECK_EQ(hdr(buf, H_SIZE_STRINGS), sizeof("reg") + sizeof("compatible"));
	for (unsigned int i = 0; i < 10; i++) {
		char path[16];
		u32 v;

		snprintf(path, sizeof(path), "/n@%x", i);
		CHECK_EQ(fdt_getprop_u32(buf, fdt_path_offset(buf, path), "reg", &v), 0);
		CHECK_EQ(v, i);
	}
}

TEST(a_name_that_ends_a_stored_one_shares_its_tail)
{
	struct fdt_writer w;
	u8 buf[512];
	u32 a, b;

	fdt_create(&w, buf, sizeof(buf));
	fdt_begin_node(&w, "");
	fdt_property_u32(&w, "linux,phandle", 5);
	fdt_property_u32(&w, "phandle", 6);
	fdt_end_node(&w);
	CHECK(fdt_finish(&w) > 0);
	CHECK_EQ(hdr(buf, H_SIZE_STRINGS), sizeof("linux,phandle"));
	CHECK_EQ(fdt_getprop_u32(buf, 0, "linux,phandle", &a), 0);
	CHECK_EQ(fdt_getprop_u32(buf, 0, "phandle", &b), 0);
	CHECK_EQ(a, 5);
	CHECK_EQ(b, 6);
}

TEST(a_name_that_starts_a_stored_one_is_stored_again)
{
	struct fdt_writer w;
	u8 buf[512];
	u32 v;

	fdt_create(&w, buf, sizeof(buf));
	fdt_begin_node(&w, "");
	fdt_property_u32(&w, "clocks", 1);
	fdt_property_u32(&w, "clock", 2);
	fdt_end_node(&w);
	CHECK(fdt_finish(&w) > 0);
	CHECK_EQ(hdr(buf, H_SIZE_STRINGS), sizeof("clocks") + sizeof("clock"));
	CHECK_EQ(fdt_getprop_u32(buf, 0, "clock", &v), 0);
	CHECK_EQ(v, 2);
}

/* ------------------------------------------------------ space */

TEST(every_buffer_short_of_the_blob_fails_cleanly)
{
	u8 ref[1024];
	int full = write_sample(ref, sizeof(ref));

	CHECK(full > 0);
	for (int size = 0; size <= full; size++) {
		/* Exactly @size bytes on the heap: ASan catches any overrun. */
		u8 *buf = malloc(size ? (size_t)size : 1);
		int r = write_sample(buf, (size_t)size);

		if (size < full && r != -ENOSPC) {
			printf("  size %d: %d\n", size, r);
			free(buf);
			CHECK(false);
		}
		if (size == full)
			CHECK(r == full && memcmp(buf, ref, (size_t)full) == 0);
		free(buf);
	}
}

TEST(a_larger_buffer_gives_the_same_blob)
{
	static u8 big[1 << 16];
	u8 ref[1024];
	int full = write_sample(ref, sizeof(ref));

	CHECK_EQ(write_sample(big, sizeof(big)), full);
	CHECK(memcmp(big, ref, (size_t)full) == 0);
}

TEST(null_buffer_of_size_zero_is_no_space)
{
	struct fdt_writer w;

	CHECK_EQ(fdt_create(&w, NULL, 0), -ENOSPC);
	CHECK_EQ(fdt_begin_node(&w, ""), -ENOSPC);
	CHECK_EQ(fdt_finish(&w), -ENOSPC);
}

TEST(null_buffer_with_a_size_is_invalid)
{
	struct fdt_writer w;

	CHECK_EQ(fdt_create(&w, NULL, 100), -EINVAL);
	CHECK_EQ(fdt_finish(&w), -EINVAL);
}

/* ------------------------------------------------------ misuse */

/* A writer on scratch with the root begun. */
static void open_root(struct fdt_writer *w)
{
	fdt_create(w, scratch, sizeof(scratch));
	fdt_begin_node(w, "");
}

TEST(first_error_sticks_and_nothing_more_is_written)
{
	struct fdt_writer w;
	static u8 before[sizeof(scratch)];

	open_root(&w);
	CHECK_EQ(fdt_begin_node(&w, "a/b"), -EINVAL);
	memcpy(before, scratch, sizeof(scratch));
	CHECK_EQ(fdt_property_u32(&w, "x", 1), -EINVAL);
	CHECK_EQ(fdt_begin_node(&w, "ok"), -EINVAL);
	CHECK_EQ(fdt_end_node(&w), -EINVAL);
	CHECK_EQ(fdt_end_node(&w), -EINVAL);
	CHECK_EQ(fdt_finish(&w), -EINVAL);
	CHECK(memcmp(before, scratch, sizeof(scratch)) == 0);
}

TEST(no_space_sticks_over_a_later_invalid_call)
{
	struct fdt_writer w;
	u8 buf[64];

	fdt_create(&w, buf, sizeof(buf));
	fdt_begin_node(&w, "");
	CHECK_EQ(fdt_property_string(&w, "long", "more than eight bytes"), -ENOSPC);
	CHECK_EQ(fdt_end_node(&w), -ENOSPC);
	CHECK_EQ(fdt_end_node(&w), -ENOSPC);   /* would be -EINVAL */
	CHECK_EQ(fdt_finish(&w), -ENOSPC);
}

TEST(property_outside_any_node_is_invalid)
{
	struct fdt_writer w;

	fdt_create(&w, scratch, sizeof(scratch));
	CHECK_EQ(fdt_property_u32(&w, "x", 1), -EINVAL);
}

TEST(property_after_a_child_is_invalid)
{
	struct fdt_writer w;

	open_root(&w);
	fdt_begin_node(&w, "child");
	fdt_end_node(&w);
	CHECK_EQ(fdt_property_u32(&w, "late", 1), -EINVAL);
}

TEST(root_must_be_unnamed_and_alone)
{
	struct fdt_writer w;

	fdt_create(&w, scratch, sizeof(scratch));
	CHECK_EQ(fdt_begin_node(&w, "root"), -EINVAL);
	fdt_create(&w, scratch, sizeof(scratch));
	CHECK_EQ(fdt_begin_node_at(&w, "", 0), -EINVAL);
	open_root(&w);
	fdt_end_node(&w);
	CHECK_EQ(fdt_begin_node(&w, ""), -EINVAL);
}

TEST(child_names_are_checked)
{
	struct fdt_writer w;

	open_root(&w);
	CHECK_EQ(fdt_begin_node(&w, ""), -EINVAL);
	open_root(&w);
	CHECK_EQ(fdt_begin_node(&w, NULL), -EINVAL);
	open_root(&w);
	CHECK_EQ(fdt_begin_node(&w, "a/b"), -EINVAL);
	open_root(&w);
	CHECK_EQ(fdt_begin_node_at(&w, "a@1", 2), -EINVAL);
	open_root(&w);
	CHECK_EQ(fdt_begin_node(&w, "a@1"), 0);   /* unit written by hand */
}

TEST(property_arguments_are_checked)
{
	struct fdt_writer w;
	static const char *const none[] = { NULL };

	open_root(&w);
	CHECK_EQ(fdt_property_u32(&w, "", 1), -EINVAL);
	open_root(&w);
	CHECK_EQ(fdt_property_u32(&w, NULL, 1), -EINVAL);
	open_root(&w);
	CHECK_EQ(fdt_property(&w, "x", NULL, 4), -EINVAL);
	open_root(&w);
	CHECK_EQ(fdt_property_cells(&w, "x", NULL, 1), -EINVAL);
	open_root(&w);
	CHECK_EQ(fdt_property_strings(&w, "x", NULL, 1), -EINVAL);
	open_root(&w);
	CHECK_EQ(fdt_property_strings(&w, "x", none, 0), -EINVAL);
	open_root(&w);
	CHECK_EQ(fdt_property_strings(&w, "x", none, 1), -EINVAL);
	open_root(&w);
	CHECK_EQ(fdt_property_cells(&w, "x", NULL, 0), 0);   /* empty */
}

TEST(unbalanced_ends_are_invalid)
{
	struct fdt_writer w;

	fdt_create(&w, scratch, sizeof(scratch));
	CHECK_EQ(fdt_end_node(&w), -EINVAL);
	open_root(&w);
	fdt_end_node(&w);
	CHECK_EQ(fdt_end_node(&w), -EINVAL);
}

TEST(finish_needs_a_closed_root_and_comes_once)
{
	struct fdt_writer w;

	fdt_create(&w, scratch, sizeof(scratch));
	CHECK_EQ(fdt_finish(&w), -EINVAL);
	open_root(&w);
	CHECK_EQ(fdt_finish(&w), -EINVAL);
	open_root(&w);
	fdt_end_node(&w);
	CHECK(fdt_finish(&w) > 0);
	CHECK_EQ(fdt_finish(&w), -EINVAL);
}

TEST(nesting_stops_at_the_readers_depth)
{
	struct fdt_writer w;
	int n;

	open_root(&w);
	for (int d = 1; d < FDT_MAX_DEPTH; d++)
		CHECK_EQ(fdt_begin_node(&w, "n"), 0);
	CHECK_EQ(fdt_begin_node(&w, "n"), -EINVAL);

	open_root(&w);
	for (int d = 1; d < FDT_MAX_DEPTH; d++)
		fdt_begin_node(&w, "n");
	for (int d = 0; d < FDT_MAX_DEPTH; d++)
		fdt_end_node(&w);
	n = fdt_finish(&w);
	CHECK(n > 0);
	CHECK_EQ(fdt_check(scratch, (size_t)n), 0);
}
