/*
 * Host tests for tools/mkscenario: what the parser makes of good scenario
 * files, the exact message of every error it reports, and the generated
 * files (compiled and assembled with the host compiler). Scenario files
 * and images are written to a fresh temporary directory.
 */
#define _GNU_SOURCE     /* nftw */
#include <ftw.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/compiler.h"
#include "tests/host/test.h"
#include "tools/mkscenario/scenario_parse.h"
#include "tools/mkscenario/scenario_write.h"

#define MiB (1ULL << 20)
#define TEST_MAX_CPUS 4
#define RAW_SIZE 4096            /* raw.bin */
#define INITRD_SIZE (MiB + 1)    /* initrd.bin: takes two 2 MiB blocks */
#define IMAGE_SIZE_FIELD (12 * MiB) /* image.bin's header image_size */

static char dir[64];             /* the temporary directory */

/* @name in the temporary directory; each call has its own buffer, of 8. */
static const char *tmp(const char *name)
{
	static char bufs[8][256];
	static unsigned int next;
	char *b = bufs[next++ % ARRAY_SIZE(bufs)];

	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
	return b;
}

static void write_file(const char *name, const void *data, size_t len)
{
	FILE *f = fopen(tmp(name), "wb");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f)) {
		perror(tmp(name));
		exit(2);
	}
}

static void write_text(const char *name, const char *text)
{
	write_file(name, text, strlen(text));
}

static void write_raw(const char *name, size_t size)
{
	char *b = calloc(1, size ? size : 1);

	write_file(name, b, size);
	free(b);
}

/* A file of @size zero bytes that takes no disk space. */
static void write_sparse(const char *name, off_t size)
{
	write_raw(name, 0);
	if (truncate(tmp(name), size)) {
		perror(tmp(name));
		exit(2);
	}
}

static void put_le64(u8 *p, u64 v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (u8)(v >> (8 * i));
}

/* An arm64 Image: the 64-byte header, then zeroes up to @file_size. */
static void write_arm64_image(const char *name, u64 text_offset, u64 image_size,
			      size_t file_size)
{
	static const u8 magic[4] = { 'A', 'R', 'M', 0x64 };
	u8 *b = calloc(1, file_size);

	put_le64(b + 8, text_offset);
	put_le64(b + 16, image_size);
	memcpy(b + 56, magic, sizeof(magic));
	write_file(name, b, file_size);
	free(b);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void remove_dir(void)
{
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The images every test may name, made once before the tests run. */
__attribute__((constructor)) static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_mkscenario.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(2);
	}
	atexit(remove_dir);
	write_raw("raw.bin", RAW_SIZE);
	write_raw("initrd.bin", INITRD_SIZE);
	write_raw("empty.bin", 0);
	write_arm64_image("image.bin", 0, IMAGE_SIZE_FIELD, 4096);
	mkdir(tmp("sub"), 0755);
	write_raw("sub/raw.bin", RAW_SIZE);
}

static const struct sc_var vars[] = {
	{ "obj", NULL },         /* the temporary directory, set by options() */
	{ "srctree", "/nonexistent/src" },
};

static struct sc_options options(unsigned int max_cpus)
{
	static struct sc_var v[ARRAY_SIZE(vars)];

	memcpy(v, vars, sizeof(v));
	v[0].value = dir;
	return (struct sc_options){ .vars = v, .nr_vars = ARRAY_SIZE(v),
				    .max_cpus = max_cpus, .check_images = true };
}

/* Parses @text as the file t.scenario in the temporary directory. */
static int parse_with(const char *text, const struct sc_options *opt,
		      struct sc_scenario *s, char *err, size_t errlen)
{
	write_text("t.scenario", text);
	return sc_parse_file(tmp("t.scenario"), opt, s, err, errlen);
}

static int parse(const char *text, struct sc_scenario *s)
{
	struct sc_options opt = options(TEST_MAX_CPUS);
	char err[1024] = "";
	int rc = parse_with(text, &opt, s, err, sizeof(err));

	if (rc)
		printf("    unexpected error: %s\n", err);
	return rc;
}

/* True if @text fails with "t.scenario:@line: @msg" (no line if 0). */
static bool fails_with_opt(const char *text, const struct sc_options *opt,
			   unsigned int line, const char *msg)
{
	struct sc_scenario s;
	char err[1024] = "", want[1024];

	if (line)
		snprintf(want, sizeof(want), "%s:%u: %s", tmp("t.scenario"), line, msg);
	else
		snprintf(want, sizeof(want), "%s: %s", tmp("t.scenario"), msg);
	if (!parse_with(text, opt, &s, err, sizeof(err))) {
		printf("    parsed, but should fail with: %s\n", want);
		sc_free(&s);
		return false;
	}
	if (strcmp(err, want) != 0) {
		printf("    got:  %s\n    want: %s\n", err, want);
		return false;
	}
	return true;
}

static bool fails_with(const char *text, unsigned int line, const char *msg)
{
	struct sc_options opt = options(TEST_MAX_CPUS);

	return fails_with_opt(text, &opt, line, msg);
}

/* A VM that is complete: the keys a test adds to it come after these. */
#define VM_A "[vm a]\ncpus = 0\nmemory = 16M\nkernel = raw.bin\n"

/* -------------------------------------------------------- good files */

TEST(two_vms_every_key)
{
	static const char text[] =
		"# Two VMs side by side.\n"
		"[vm hello]\n"
		"cpus = 0            # physical CPUs, one per vCPU\n"
		"memory = 64M\n"
		"kernel = ${obj}/image.bin\n"
		"cmdline = \"loglevel=8 # not a comment \\\"q\\\" \\\\\"\n"
		"devices = vsock\n"
		"cid = 3\n"
		"manages = other   # named before it is defined\n"
		"\n"
		"  [ vm   other ]  \n"
		"\tcpus = 3, 1-2\n"
		"vcpus = 3\n"
		"memory = 0x1000000\n"
		"kernel = \"sub/raw.bin\"\n"
		"initrd = initrd.bin\n"
		"console = none\n";
	struct sc_scenario s;
	const struct vm_config *h, *o;

	CHECK_EQ(parse(text, &s), 0);
	CHECK_STREQ(s.name, "t");
	CHECK_EQ(s.nr_vms, 2);
	h = &s.vms[0].cfg;
	o = &s.vms[1].cfg;

	CHECK_STREQ(h->name, "hello");
	CHECK_EQ(h->nr_vcpus, 1);
	CHECK_EQ(h->pcpus[0], 0);
	CHECK_EQ(h->mem_size, 64 * MiB);
	CHECK_STREQ(h->kernel.path, "${obj}/image.bin");   /* as written */
	CHECK_STREQ(s.vms[0].kernel.path, tmp("image.bin"));
	CHECK_EQ(h->kernel.size, 4096);
	CHECK(h->kernel.data == NULL);
	CHECK(h->initrd.path == NULL);
	CHECK_EQ(h->initrd.size, 0);
	CHECK_STREQ(h->cmdline, "loglevel=8 # not a comment \"q\" \\");
	CHECK(h->console);
	CHECK_EQ(h->devices, VM_DEV_VSOCK);
	CHECK_EQ(h->vsock_cid, 3);
	CHECK_EQ(h->manages, 1u << 1);

	CHECK_STREQ(o->name, "other");
	CHECK_EQ(o->nr_vcpus, 3);
	CHECK_EQ(o->pcpus[0], 3);
	CHECK_EQ(o->pcpus[1], 1);
	CHECK_EQ(o->pcpus[2], 2);
	CHECK_EQ(o->mem_size, 16 * MiB);
	CHECK_STREQ(o->kernel.path, "sub/raw.bin");
	CHECK_STREQ(s.vms[1].kernel.path, tmp("sub/raw.bin")); /* next to the file */
	CHECK_EQ(o->kernel.size, RAW_SIZE);
	CHECK_STREQ(o->initrd.path, "initrd.bin");
	CHECK_EQ(o->initrd.size, INITRD_SIZE);
	CHECK_STREQ(o->cmdline, "");
	CHECK(!o->console);
	CHECK_EQ(o->devices, 0);
	CHECK_EQ(o->vsock_cid, 0);
	CHECK_EQ(o->manages, 0);
	sc_free(&s);
	CHECK_EQ(s.nr_vms, 0);
}

TEST(no_file_is_the_empty_scenario)
{
	static const char *const files[] = { NULL, "", "-" };
	struct sc_options opt = options(TEST_MAX_CPUS);

	for (unsigned int i = 0; i < ARRAY_SIZE(files); i++) {
		struct sc_scenario s;
		char err[64];

		CHECK_EQ(sc_parse_file(files[i], &opt, &s, err, sizeof(err)), 0);
		CHECK_STREQ(s.name, "none");
		CHECK(s.file == NULL);
		CHECK_EQ(s.nr_vms, 0);
		sc_free(&s);
	}
}

TEST(memory_sizes_take_k_m_g_suffixes)
{
	static const struct { const char *text; u64 bytes; } sizes[] = {
		{ "4M", 4 * MiB }, { "4m", 4 * MiB }, { "4096K", 4 * MiB },
		{ "1G", 1024 * MiB }, { "4194304", 4 * MiB }, { "0x400000", 4 * MiB },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct sc_scenario s;
		char text[128];

		snprintf(text, sizeof(text), "[vm a]\ncpus = 0\nkernel = raw.bin\nmemory = %s\n",
			 sizes[i].text);
		CHECK_EQ(parse(text, &s), 0);
		CHECK_EQ(s.vms[0].cfg.mem_size, sizes[i].bytes);
		sc_free(&s);
	}
}

TEST(crlf_lines_and_blank_lines_are_read)
{
	struct sc_scenario s;

	CHECK_EQ(parse("\r\n# c\r\n[vm a]\r\ncpus = 0-1\r\nmemory = 4M\r\nkernel = raw.bin\r\n\r\n", &s), 0);
	CHECK_EQ(s.vms[0].cfg.nr_vcpus, 2);
	CHECK_STREQ(s.vms[0].cfg.kernel.path, "raw.bin");
	sc_free(&s);
}

TEST(name_of_fifteen_characters_is_accepted)
{
	struct sc_scenario s;

	CHECK_EQ(parse("[vm abcdefghij_0-9]\ncpus = 0\nmemory = 4M\nkernel = raw.bin\n", &s), 0);
	CHECK_STREQ(s.vms[0].cfg.name, "abcdefghij_0-9");
	sc_free(&s);
}

TEST(eight_vcpus_and_eight_vms_are_accepted)
{
	struct sc_options opt = options(SC_CPUS_LIMIT);
	struct sc_scenario s;
	char text[1024] = "[vm big]\ncpus = 0-7\nmemory = 4M\nkernel = raw.bin\n";
	char err[1024] = "";

	for (unsigned int i = 1; i < SCENARIO_MAX_VMS; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "[vm v%u]\ncpus = %u\nmemory = 4M\nkernel = raw.bin\n", i, 255 - i);
	CHECK_EQ(parse_with(text, &opt, &s, err, sizeof(err)), 0);
	CHECK_EQ(s.nr_vms, SCENARIO_MAX_VMS);
	CHECK_EQ(s.vms[0].cfg.nr_vcpus, VM_MAX_VCPUS);
	CHECK_EQ(s.vms[1].cfg.pcpus[0], 254);
	sc_free(&s);
}

/* A raw binary loads at +0x80000: 4 KiB of it, and the DTB, need 4M. */
TEST(raw_binary_fits_in_exactly_what_it_needs)
{
	struct sc_scenario s;

	CHECK_EQ(parse("[vm a]\ncpus = 0\nmemory = 4M\nkernel = raw.bin\n", &s), 0);
	sc_free(&s);
}

/* image_size (12M) from text_offset 0, the initrd's 2M, the DTB's 2M. */
TEST(arm64_image_fits_by_its_header_image_size)
{
	struct sc_scenario s;

	CHECK_EQ(parse("[vm a]\ncpus = 0\nmemory = 16M\nkernel = image.bin\ninitrd = initrd.bin\n", &s), 0);
	sc_free(&s);
}

TEST(arm64_image_with_text_offset_loads_above_it)
{
	struct sc_scenario s;

	write_arm64_image("offset.bin", 0x80000, 2 * MiB - 0x80000, 4096);
	CHECK_EQ(parse("[vm a]\ncpus = 0\nmemory = 4M\nkernel = offset.bin\n", &s), 0);
	sc_free(&s);
	write_arm64_image("offset.bin", 0x80000, 2 * MiB - 0x80000 + 1, 4096);
	CHECK(fails_with("[vm a]\ncpus = 0\nmemory = 4M\nkernel = offset.bin\n", 3,
			 "vm 'a': memory = 4M is too small for the kernel (arm64 Image at +0x80000, 1572865 bytes) and the device tree (the last 2M): use memory = 6M or more"));
}

/* An old Image (image_size 0) takes at least its file size. */
TEST(arm64_image_without_image_size_takes_its_file_size)
{
	write_arm64_image("old.bin", 0x80000, 0, 2 * MiB);
	CHECK(fails_with("[vm a]\ncpus = 0\nmemory = 4M\nkernel = old.bin\n", 3,
			 "vm 'a': memory = 4M is too small for the kernel (arm64 Image at +0x80000, 2097152 bytes) and the device tree (the last 2M): use memory = 6M or more"));
}

/* memory = @mib holds @kernel and @initrd; 2M less fails and names @mib. */
static bool least_memory_is(const char *kernel, const char *initrd, unsigned int mib)
{
	static const char fmt[] = "[vm a]\ncpus = 0\nkernel = %s\ninitrd = %s\nmemory = %uM\n";
	struct sc_options opt = options(TEST_MAX_CPUS);
	struct sc_scenario s;
	char text[256], err[1024] = "", want[64];

	snprintf(text, sizeof(text), fmt, kernel, initrd, mib);
	if (parse(text, &s))
		return false;
	sc_free(&s);
	snprintf(text, sizeof(text), fmt, kernel, initrd, mib - 2);
	snprintf(want, sizeof(want), "use memory = %uM or more", mib);
	if (!parse_with(text, &opt, &s, err, sizeof(err))) {
		printf("    %uM is enough, but should not be\n", mib - 2);
		sc_free(&s);
		return false;
	}
	if (!strstr(err, want)) {
		printf("    got:  %s\n    want: ...%s\n", err, want);
		return false;
	}
	return true;
}

/* The initrd goes to half the memory (QEMU's place, virt/vm.c's too),
 * so a 7M initrd needs 18M although 12M would hold everything. */
TEST(initrd_goes_to_half_of_memory)
{
	write_sparse("7m.bin", 7 * MiB);
	CHECK(least_memory_is("raw.bin", "7m.bin", 18));
}

/* ... but never above 128M: a 200M initrd needs 128M + 200M + 2M. */
TEST(initrd_goes_no_higher_than_128m)
{
	write_sparse("200m.bin", 200 * MiB);
	CHECK(least_memory_is("raw.bin", "200m.bin", 330));
}

/* ... and after a kernel that reaches past that place. */
TEST(initrd_follows_a_kernel_past_half_of_memory)
{
	write_arm64_image("20m.bin", 0, 20 * MiB, 4096);
	CHECK(least_memory_is("20m.bin", "initrd.bin", 24));
}

TEST(text_only_check_opens_no_image)
{
	struct sc_options opt = options(TEST_MAX_CPUS);
	struct sc_scenario s;
	char err[1024] = "";

	opt.check_images = false;
	CHECK_EQ(parse_with("[vm a]\ncpus = 0\nmemory = 2M\nkernel = ${obj}/missing.bin\ninitrd = gone\n",
			    &opt, &s, err, sizeof(err)), 0);
	CHECK_STREQ(s.vms[0].kernel.path, tmp("missing.bin"));
	CHECK_STREQ(s.vms[0].initrd.path, tmp("gone"));
	CHECK_EQ(s.vms[0].cfg.kernel.size, 0);
	sc_free(&s);
}

/* ----------------------------------------------------------- errors */

struct error_case {
	const char *what;
	const char *text;
	unsigned int line;
	const char *msg;
};

static const struct error_case syntax_errors[] = {
	{ "key outside a section", "cpus = 0\n", 1,
	  "'cpus = ...' before any [vm NAME] section" },
	{ "unknown key", VM_A "colour = red\n", 5,
	  "vm 'a': unknown key 'colour': the keys are cpus, vcpus, memory, kernel, initrd, cmdline, console, devices, cid, manages" },
	{ "unknown section", "[host x]\n", 1,
	  "unknown section [host x]: sections are [vm NAME]" },
	{ "section without a name", "[vm]\n", 1, "[vm] without a name: write [vm NAME]" },
	{ "section without ]", "[vm a\n", 1,
	  "no ']' at the end of the section header: write [vm NAME]" },
	{ "text after ]", "[vm a] x\n", 1, "text after ']': ' x'" },
	{ "upper case name", "[vm Alpha]\n", 1,
	  "'Alpha' is not a valid vm name: use 1 to 15 characters from a-z, 0-9, '_' and '-'" },
	{ "name of 16 characters", "[vm abcdefghijklmnop]\n", 1,
	  "'abcdefghijklmnop' is not a valid vm name: use 1 to 15 characters from a-z, 0-9, '_' and '-'" },
	{ "duplicate vm", VM_A "[vm b]\n[vm a]\n", 6, "vm 'a' is already defined at line 1" },
	{ "line without =", VM_A "cpus 0\n", 5,
	  "vm 'a': expected 'key = value' or '[vm NAME]', not 'cpus 0'" },
	{ "key set twice", VM_A "memory = 8M\n", 5, "vm 'a': 'memory' is already set at line 3" },
	{ "no value", "[vm a]\nmemory =   # none\n", 2, "vm 'a': 'memory =' has no value" },
	{ "unterminated string", "[vm a]\ncmdline = \"abc # x\n", 2,
	  "vm 'a': cmdline: the string has no closing '\"'" },
	{ "text after a string", "[vm a]\ncmdline = \"abc\" def\n", 2,
	  "vm 'a': cmdline: text after the closing '\"': ' def'" },
	{ "unknown variable", "[vm a]\nkernel = ${objdir}/x.bin\n", 2,
	  "vm 'a': unknown variable ${objdir}: define it with mkscenario -D objdir=VALUE" },
	{ "unclosed variable", "[vm a]\nkernel = ${obj/x.bin\n", 2, "vm 'a': '${' without a closing '}'" },
	{ "no vm at all", "# nothing\n\n", 0,
	  "no [vm NAME] section: a scenario runs at least one VM (build without SCENARIO= for none)" },
	{ "empty list item", VM_A "devices = vsock,\n", 5, "vm 'a': devices = vsock,: empty item in the list" },
};

static const struct error_case value_errors[] = {
	{ "cpus not a number", "[vm a]\ncpus = one\n", 2,
	  "vm 'a': cpus: 'one' is not a CPU number or range: write e.g. cpus = 0, cpus = 1,2 or cpus = 2-3" },
	{ "cpus negative", "[vm a]\ncpus = -1\n", 2,
	  "vm 'a': cpus: '-1' is not a CPU number or range: write e.g. cpus = 0, cpus = 1,2 or cpus = 2-3" },
	{ "cpus backwards", "[vm a]\ncpus = 3-1\n", 2,
	  "vm 'a': cpus: range 3-1 runs backwards: write 1-3" },
	{ "cpu beyond MAX_CPUS", "[vm a]\ncpus = 2-4\n", 2,
	  "vm 'a': CPU 4 does not exist: this build has 4 CPUs (CONFIG_MAX_CPUS), 0-3" },
	{ "cpu twice in a vm", "[vm a]\ncpus = 1,0-1\n", 2, "vm 'a': CPU 1 is listed twice" },
	{ "cpu of another vm", VM_A "[vm b]\ncpus = 1-3,0\n", 6,
	  "vm 'b': CPU 0 is already used by vm 'a'" },
	{ "vcpus does not match", VM_A "vcpus = 2\n", 5,
	  "vm 'a': vcpus = 2, but cpus = ... lists 1 CPUs: one vCPU runs on each" },
	{ "vcpus zero", "[vm a]\nvcpus = 0\n", 2,
	  "vm 'a': vcpus = 0: write a number from 1 to 8 (VM_MAX_VCPUS)" },
	{ "vcpus too many", "[vm a]\nvcpus = 9\n", 2,
	  "vm 'a': vcpus = 9: write a number from 1 to 8 (VM_MAX_VCPUS)" },
	{ "memory not a size", "[vm a]\nmemory = lots\n", 2,
	  "vm 'a': memory = lots: write a size in bytes with an optional K, M or G suffix, e.g. 64M" },
	{ "memory overflows", "[vm a]\nmemory = 99999999999999999999\n", 2,
	  "vm 'a': memory = 99999999999999999999: write a size in bytes with an optional K, M or G suffix, e.g. 64M" },
	{ "memory suffix overflows", "[vm a]\nmemory = 0x100000000000000G\n", 2,
	  "vm 'a': memory = 0x100000000000000G: write a size in bytes with an optional K, M or G suffix, e.g. 64M" },
	{ "memory not 2M-aligned", "[vm a]\nmemory = 3M\n", 2,
	  "vm 'a': memory = 3M is not a multiple of 2M: guest RAM is mapped in 2 MiB blocks" },
	{ "memory zero", "[vm a]\nmemory = 0\n", 2,
	  "vm 'a': memory = 0 is not a multiple of 2M: guest RAM is mapped in 2 MiB blocks" },
	{ "memory beyond the IPA space", "[vm a]\nmemory = 262144G\n", 2,
	  "vm 'a': memory = 262144G is too large: guest RAM starts at 0x40000000 and must end below 2^48, so at most 268434432M" },
	{ "cmdline too long", NULL, 2, "vm 'a': cmdline is 2048 bytes: a Linux guest takes at most 2047" },
	{ "console unknown", "[vm a]\nconsole = uart\n", 2, "vm 'a': console = uart: write pl011 or none" },
	{ "device unknown", "[vm a]\ndevices = blk\n", 2,
	  "vm 'a': devices: unknown device 'blk': the devices are vsock" },
	{ "device twice", "[vm a]\ndevices = vsock, vsock\n", 2, "vm 'a': devices: 'vsock' is listed twice" },
	{ "cid reserved", "[vm a]\ncid = 2\n", 2,
	  "vm 'a': cid = 2: write a number from 3 to 4294967294 (0-2 are reserved)" },
	{ "cid VMADDR_CID_ANY", "[vm a]\ncid = 0xffffffff\n", 2,
	  "vm 'a': cid = 0xffffffff: write a number from 3 to 4294967294 (0-2 are reserved)" },
	{ "cid twice", VM_A "devices = vsock\ncid = 7\n[vm b]\ncid = 7\n", 8,
	  "vm 'b': cid 7 is already used by vm 'a'" },
	{ "manages a bad name", "[vm a]\nmanages = B\n", 2, "vm 'a': manages: 'B' is not a valid vm name" },
	{ "kernel empty path", "[vm a]\nkernel = \"\"\n", 2, "vm 'a': kernel = \"\": write the path of a file" },
};

static const struct error_case check_errors[] = {
	{ "no cpus", "[vm a]\nmemory = 4M\nkernel = raw.bin\n", 1,
	  "vm 'a': no 'cpus = ...': every VM needs cpus, memory and kernel" },
	{ "no memory", "[vm a]\ncpus = 0\nkernel = raw.bin\n", 1,
	  "vm 'a': no 'memory = ...': every VM needs cpus, memory and kernel" },
	{ "no kernel", "[vm a]\ncpus = 0\nmemory = 4M\n", 1,
	  "vm 'a': no 'kernel = ...': every VM needs cpus, memory and kernel" },
	{ "vsock without cid", VM_A "devices = vsock\n", 5,
	  "vm 'a': devices = vsock needs 'cid = N', the guest's CID (3 or more, unique)" },
	{ "cid without vsock", VM_A "cid = 3\n", 5,
	  "vm 'a': cid = 3 without a vsock: add 'devices = vsock' or remove the cid" },
	{ "manages an unknown vm", VM_A "manages = b, c\n[vm b]\ncpus = 1\nmemory = 4M\nkernel = raw.bin\n", 5,
	  "vm 'a': manages 'c', which is not a vm of this scenario" },
	{ "manages itself", VM_A "manages = a\n", 5,
	  "vm 'a': manages itself: list the other VMs it may manage" },
	{ "manages twice", VM_A "manages = b,b\n[vm b]\ncpus = 1\nmemory = 4M\nkernel = raw.bin\n", 5,
	  "vm 'a': manages 'b' twice" },
	{ "errors come in file order", VM_A "manages = x\n[vm b]\n", 5,
	  "vm 'a': manages 'x', which is not a vm of this scenario" },
};

static const struct error_case image_errors[] = {
	{ "kernel missing", "[vm a]\ncpus = 0\nmemory = 4M\nkernel = ${obj}/nope.bin\n", 4,
	  "vm 'a': kernel '%s/nope.bin' not found" },
	{ "kernel empty", "[vm a]\ncpus = 0\nmemory = 4M\nkernel = empty.bin\n", 4,
	  "vm 'a': kernel '%s/empty.bin' is empty" },
	{ "kernel a directory", "[vm a]\ncpus = 0\nmemory = 4M\nkernel = sub\n", 4,
	  "vm 'a': kernel '%s/sub' is not a regular file" },
	{ "initrd missing", "[vm a]\ncpus = 0\nmemory = 4M\nkernel = raw.bin\ninitrd = nope\n", 5,
	  "vm 'a': initrd '%s/nope' not found" },
	{ "raw kernel too big", "[vm a]\ncpus = 0\nmemory = 2M\nkernel = raw.bin\n", 3,
	  "vm 'a': memory = 2M is too small for the kernel (raw binary at +0x80000, 4096 bytes) and the device tree (the last 2M): use memory = 4M or more" },
	{ "image and initrd too big", "[vm a]\ncpus = 0\nmemory = 14M\nkernel = image.bin\ninitrd = initrd.bin\n", 3,
	  "vm 'a': memory = 14M is too small for the kernel (arm64 Image at +0x0, 12582912 bytes), the initrd (1048577 bytes, at +min(memory/2, 128M) or after the kernel) and the device tree (the last 2M): use memory = 16M or more" },
};

/* Every case of @cases fails with its message, "%s" being the directory. */
static bool all_fail(const struct error_case *cases, size_t n)
{
	bool ok = true;

	for (size_t i = 0; i < n; i++) {
		char msg[1024];

		snprintf(msg, sizeof(msg), cases[i].msg, dir);
		if (!fails_with(cases[i].text, cases[i].line, msg)) {
			printf("    in case '%s'\n", cases[i].what);
			ok = false;
		}
	}
	return ok;
}

TEST(syntax_errors_name_line_and_fix)
{
	CHECK(all_fail(syntax_errors, ARRAY_SIZE(syntax_errors)));
}

TEST(value_errors_name_line_and_fix)
{
	static char long_cmdline[2200];
	struct error_case cases[ARRAY_SIZE(value_errors)];
	size_t head;

	/* The cmdline case's text: 2048 characters, one too many. */
	head = (size_t)snprintf(long_cmdline, sizeof(long_cmdline), "[vm a]\ncmdline = ");

	memset(long_cmdline + head, 'x', 2048);
	strcpy(long_cmdline + head + 2048, "\n");
	memcpy(cases, value_errors, sizeof(cases));
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		if (!cases[i].text)
			cases[i].text = long_cmdline;
	CHECK(all_fail(cases, ARRAY_SIZE(cases)));
}

TEST(whole_file_errors_name_line_and_fix)
{
	CHECK(all_fail(check_errors, ARRAY_SIZE(check_errors)));
}

TEST(image_errors_name_the_file)
{
	CHECK(all_fail(image_errors, ARRAY_SIZE(image_errors)));
}

TEST(more_than_vm_max_vcpus_is_an_error)
{
	struct sc_options opt = options(16);

	CHECK(fails_with_opt("[vm a]\ncpus = 0-8\n", &opt, 2,
			     "vm 'a': more than 8 CPUs: a VM has at most 8 vCPUs (VM_MAX_VCPUS)"));
}

TEST(more_than_scenario_max_vms_is_an_error)
{
	char text[512] = "";

	for (unsigned int i = 0; i <= SCENARIO_MAX_VMS; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "[vm v%u]\n", i);
	CHECK(fails_with(text, 9, "vm 'v8': more than 8 VMs (SCENARIO_MAX_VMS)"));
}

TEST(implausible_image_header_is_an_error)
{
	char msg[512];

	write_arm64_image("huge.bin", 1ULL << 60, 0, 64);
	snprintf(msg, sizeof(msg),
		 "vm 'a': kernel '%s': its Image header (text_offset 0x1000000000000000, image_size 0x40) fits no guest RAM",
		 tmp("huge.bin"));
	CHECK(fails_with("[vm a]\ncpus = 0\nmemory = 4M\nkernel = huge.bin\n", 4, msg));
}

TEST(missing_file_is_an_error)
{
	struct sc_options opt = options(TEST_MAX_CPUS);
	struct sc_scenario s;
	char err[200], want[200];

	snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", tmp("none.scenario"));
	CHECK_EQ(sc_parse_file(tmp("none.scenario"), &opt, &s, err, sizeof(err)), -1);
	CHECK_STREQ(err, want);
}

TEST(nul_byte_is_an_error)
{
	struct sc_options opt = options(TEST_MAX_CPUS);
	struct sc_scenario s;
	char err[200], want[200];

	write_file("t.scenario", "[vm a]\n\0\n", 9);
	snprintf(want, sizeof(want), "%s: contains a NUL byte: is it a text file?", tmp("t.scenario"));
	CHECK_EQ(sc_parse_file(tmp("t.scenario"), &opt, &s, err, sizeof(err)), -1);
	CHECK_STREQ(err, want);
}

/* ---------------------------------------------------- generated files */

typedef int gen_fn(FILE *f, const struct sc_scenario *s);

/* Writes @gen's output for @s to @name in the temporary directory. */
static bool generate(const char *name, gen_fn *gen, const struct sc_scenario *s)
{
	FILE *f = fopen(tmp(name), "w");
	int rc;

	if (!f)
		return false;
	rc = gen(f, s);
	return fclose(f) == 0 && rc == 0;
}

static char *read_all(const char *name)
{
	FILE *f = fopen(tmp(name), "r");
	char *text = calloc(1, 1 << 16);

	if (f) {
		size_t n = fread(text, 1, (1 << 16) - 1, f);

		text[n] = '\0';
		fclose(f);
	}
	return text;
}

/* Runs a shell command line; true if it exits with 0. @quiet: say
 * nothing if it fails. */
static bool __printf(2, 3) run_shell(bool quiet, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc && !quiet)
		printf("    '%s' failed (%d)\n", cmd, rc);
	return rc == 0;
}

#define run(...) run_shell(false, __VA_ARGS__)

static const char *host_cc(void)
{
	const char *cc = getenv("HOSTCC");

	return cc && *cc ? cc : "cc";
}

/* The source tree: this file's path (the build gives it absolute) minus
 * tests/host/test_mkscenario.c. */
static const char *srctree(void)
{
	static char tree[512];
	const char *tail = strstr(__FILE__, "tests/host/test_mkscenario.c");

	snprintf(tree, sizeof(tree), "%.*s", tail ? (int)(tail - __FILE__) : 0, __FILE__);
	return *tree ? tree : ".";
}

/*
 * Prints what the linked-in data says, one line per VM: name, vCPUs and
 * their CPUs, memory, each image's size, alignment and byte sum, cmdline,
 * console, devices, cid, manages.
 */
static const char checker[] =
	"#include <stdio.h>\n"
	"#include <stdint.h>\n"
	"#include \"virt/scenario.h\"\n"
	"#include \"tools/mkscenario/scenario_write.h\"\n"
	"static void image(const struct scenario_image *i)\n"
	"{\n"
	"	unsigned long sum = 0;\n"
	"	for (u64 b = 0; b < i->size; b++)\n"
	"		sum += i->data[b];\n"
	"	printf(\" %llu/%d/%lu\", (unsigned long long)i->size,\n"
	"	       (int)((uintptr_t)i->data % SC_IMAGE_ALIGN), sum);\n"
	"}\n"
	"int main(void)\n"
	"{\n"
	"	printf(\"%s %u\\n\", scenario.name, scenario.nr_vms);\n"
	"	for (unsigned int v = 0; v < scenario.nr_vms; v++) {\n"
	"		const struct vm_config *c = &scenario.vms[v];\n"
	"		printf(\"%s\", c->name);\n"
	"		for (unsigned int i = 0; i < c->nr_vcpus; i++)\n"
	"			printf(\"%s%u\", i ? \",\" : \" \", c->pcpus[i]);\n"
	"		printf(\" %llx\", (unsigned long long)c->mem_size);\n"
	"		image(&c->kernel);\n"
	"		image(&c->initrd);\n"
	"		printf(\" [%s] %d %u %u %x\\n\", c->cmdline, c->console, c->devices,\n"
	"		       c->vsock_cid, c->manages);\n"
	"	}\n"
	"	return 0;\n"
	"}\n";

/* Generates scenario.c and images.S for @s, builds them with the checker
 * and runs it into checker.out. */
static bool build_and_run(const struct sc_scenario *s)
{
	write_text("checker.c", checker);
	return generate("scenario.c", sc_write_c, s) &&
	       generate("images.S", sc_write_images, s) &&
	       run("%s -std=gnu11 -Wall -Wextra -Werror -Wmissing-prototypes -Wstrict-prototypes -I%s "
		   "-o %s %s %s %s", host_cc(), srctree(), tmp("checker"), tmp("checker.c"),
		   tmp("scenario.c"), tmp("images.S")) &&
	       run("%s >%s", tmp("checker"), tmp("checker.out"));
}

/* @got equals @want; prints both if not. */
static bool same_text(const char *got, const char *want)
{
	if (!strcmp(got, want))
		return true;
	printf("    got:\n%s    want:\n%s", got, want);
	return false;
}

/* The text of @name in the temporary directory equals @want. */
static bool file_is(const char *name, const char *want)
{
	char *got = read_all(name);
	bool same = same_text(got, want);

	free(got);
	return same;
}

static unsigned long byte_sum(const u8 *b, size_t n)
{
	unsigned long sum = 0;

	while (n--)
		sum += *b++;
	return sum;
}

TEST(generated_files_link_the_data_and_images)
{
	static const char text[] =
		"[vm first]\ncpus = 2,0\nmemory = 4M\nkernel = pattern.bin\n"
		"cmdline = \"a \\\"b\\\" \\\\ c\"\ndevices = vsock\ncid = 9\nmanages = second\n"
		"[vm second]\ncpus = 1\nmemory = 8M\nkernel = raw.bin\ninitrd = pattern.bin\n"
		"console = none\n";
	u8 pattern[1000];
	struct sc_scenario s;
	char want[512];
	unsigned long sum;

	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (u8)(i * 7 + 1);
	write_file("pattern.bin", pattern, sizeof(pattern));
	sum = byte_sum(pattern, sizeof(pattern));
	CHECK_EQ(parse(text, &s), 0);
	CHECK(build_and_run(&s));
	sc_free(&s);
	/* Images at SC_IMAGE_ALIGN (the "/0/"), with the file's bytes. */
	snprintf(want, sizeof(want),
		 "t 2\n"
		 "first 2,0 400000 1000/0/%lu 0/0/0 [a \"b\" \\ c] 1 1 9 2\n"
		 "second 1 800000 4096/0/0 1000/0/%lu [] 0 0 0 0\n", sum, sum);
	CHECK(file_is("checker.out", want));
}

/* Occurrences of @needle in @text. */
static unsigned int count_of(const char *text, const char *needle)
{
	unsigned int n = 0;

	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

TEST(a_file_several_vms_boot_is_bundled_once)
{
	static const char text[] =
		"[vm a]\ncpus = 0\nmemory = 6M\nkernel = pattern.bin\ninitrd = raw.bin\n"
		"[vm b]\ncpus = 1\nmemory = 6M\nkernel = pattern.bin\ninitrd = ./raw.bin\n"
		"[vm c]\ncpus = 2\nmemory = 4M\nkernel = raw.bin\n";
	u8 pattern[1000];
	struct sc_scenario s;
	char want[512], *images;
	unsigned long sum;

	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (u8)(i * 3 + 5);
	write_file("pattern.bin", pattern, sizeof(pattern));
	write_raw("raw.bin", 4096);
	sum = byte_sum(pattern, sizeof(pattern));
	CHECK_EQ(parse(text, &s), 0);
	CHECK(build_and_run(&s));
	sc_free(&s);
	/* Two files, two .incbin; the other three images are aliases. */
	images = read_all("images.S");
	CHECK_EQ(count_of(images, ".incbin"), 2);
	CHECK_EQ(count_of(images, ".set scenario_vm1_kernel, scenario_vm0_kernel"), 1);
	CHECK_EQ(count_of(images, ".set scenario_vm1_initrd, scenario_vm0_initrd"), 1);
	CHECK_EQ(count_of(images, ".set scenario_vm2_kernel, scenario_vm0_initrd"), 1);
	free(images);
	snprintf(want, sizeof(want),
		 "t 3\n"
		 "a 0 600000 1000/0/%lu 4096/0/0 [] 1 0 0 0\n"
		 "b 1 600000 1000/0/%lu 4096/0/0 [] 1 0 0 0\n"
		 "c 2 400000 4096/0/0 0/0/0 [] 1 0 0 0\n", sum, sum);
	CHECK(file_is("checker.out", want));
}

TEST(generated_files_of_the_empty_scenario_build)
{
	struct sc_options opt = options(TEST_MAX_CPUS);
	struct sc_scenario s;
	char err[64];

	CHECK_EQ(sc_parse_file("-", &opt, &s, err, sizeof(err)), 0);
	CHECK(build_and_run(&s));
	sc_free(&s);
	CHECK(file_is("checker.out", "none 0\n"));
}

TEST(bundle_refuses_an_image_changed_since_generation)
{
	struct sc_scenario s;

	write_raw("changing.bin", 100);
	CHECK_EQ(parse(VM_A "initrd = changing.bin\n", &s), 0);
	CHECK(generate("images.S", sc_write_images, &s));
	sc_free(&s);
	CHECK(run("%s -c -o %s %s", host_cc(), tmp("images.o"), tmp("images.S")));
	write_raw("changing.bin", 101);
	CHECK(!run_shell(true, "%s -c -o %s %s 2>/dev/null", host_cc(), tmp("images.o"),
			 tmp("images.S")));
}

TEST(depfile_names_scenario_and_images_with_empty_rules)
{
	static const char text[] =
		"[vm a]\ncpus = 0\nmemory = 4M\nkernel = ${obj}/guests/a$b.bin\n"
		"[vm b]\ncpus = 1\nmemory = 4M\nkernel = \"k#1.bin\"\ninitrd = /abs/i n.img\n";
	static const char *const targets[] = { "out dir/scenario.c", "out dir/images.S" };
	struct sc_options opt = options(TEST_MAX_CPUS);
	struct sc_scenario s;
	char err[256] = "", want[2048];
	FILE *f;
	int rc;

	opt.check_images = false;
	CHECK_EQ(parse_with(text, &opt, &s, err, sizeof(err)), 0);
	f = fopen(tmp("dep"), "w");
	CHECK(f);
	rc = sc_write_depfile(f, &s, targets, 2);
	fclose(f);
	sc_free(&s);
	CHECK_EQ(rc, 0);
	/* Spaces and '#' escaped, '$' doubled, as make reads them. */
	snprintf(want, sizeof(want),
		 "out\\ dir/scenario.c out\\ dir/images.S: \\\n"
		 "  %s/t.scenario \\\n"
		 "  %s/guests/a$$b.bin \\\n"
		 "  %s/k\\#1.bin \\\n"
		 "  /abs/i\\ n.img\n"
		 "\n%s/t.scenario:\n"
		 "\n%s/guests/a$$b.bin:\n"
		 "\n%s/k\\#1.bin:\n"
		 "\n/abs/i\\ n.img:\n",
		 dir, dir, dir, dir, dir, dir);
	CHECK(file_is("dep", want));
}
