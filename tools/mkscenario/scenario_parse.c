/*
 * The scenario file parser and its checks (format: docs/scenarios.md).
 * One pass over the lines fills a struct sc_vm per [vm NAME] section and
 * checks each value as it is read; what needs the whole file (required
 * keys, images against memory, manages = names) is checked at the end,
 * VM by VM in file order, so the first error in the file is the one
 * reported.
 */
#define _GNU_SOURCE     /* asprintf */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/compiler.h"
#include "tools/mkscenario/scenario_parse.h"
#include "virt/guest_map.h"

#define SZ_1M (1ULL << 20)
#define SZ_2M (2ULL << 20)
#define MEM_GRANULE SZ_2M        /* stage 2 maps guest RAM in 2 MiB blocks */
#define DTB_ROOM SZ_2M           /* the device tree: the last 2 MiB of RAM */
#define INITRD_MAX_OFFSET (128 * SZ_1M) /* the initrd's default place, at most */
#define PAGE_SIZE 4096ULL
#define RAW_LOAD_OFFSET 0x80000ULL /* a raw binary goes to RAM + 0x80000, as QEMU does */
#define IPA_LIMIT (1ULL << 48)   /* stage 2 takes at most 48-bit IPAs */
#define CMDLINE_MAX 2048         /* Linux arm64 COMMAND_LINE_SIZE, NUL included */
#define CID_MIN 3                /* 0-2 are reserved; 2 is the hypervisor */
#define CID_ANY 0xffffffffULL    /* VMADDR_CID_ANY, never a guest's */
#define EMPTY_NAME "none"        /* name of the scenario with no VMs */
#define SUFFIX ".scenario"

/* arm64 Image header (Linux Documentation/arch/arm64/booting.rst). */
#define IMAGE_HDR_SIZE 64
#define IMAGE_TEXT_OFFSET 8      /* u64 LE: load offset from a 2 MiB boundary */
#define IMAGE_IMAGE_SIZE 16      /* u64 LE: bytes the kernel occupies, BSS included */
#define IMAGE_MAGIC 56           /* "ARM\x64" */

_Static_assert(SCENARIO_MAX_VMS <= 32, "vm_config.manages is a u32 bit mask");

const struct sc_device sc_devices[] = {
	{ "vsock", VM_DEV_VSOCK, "VM_DEV_VSOCK" },
};
const unsigned int sc_nr_devices = ARRAY_SIZE(sc_devices);

struct parser {
	const struct sc_options *opt;
	struct sc_scenario *s;
	char *dir;                       /* the file's directory; "" for the cwd */
	unsigned int line;               /* the line errors name */
	const char *written;             /* the value being set, as written */
	char *err;
	size_t errlen;
	struct sc_vm *vm;                /* the section being read; NULL before one */
	const struct sc_vm *cpu_owner[SC_CPUS_LIMIT];
};

static __noreturn void out_of_memory(void)
{
	fputs("mkscenario: out of memory\n", stderr);
	exit(1);
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		out_of_memory();
	return d;
}

/*
 * Formats "FILE:LINE: vm 'NAME': message" (no line before the first one,
 * no vm without @vm) into p->err. Returns -1, for callers to pass up.
 */
static int __printf(3, 4) fail(struct parser *p, const struct sc_vm *vm,
			       const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->line && vm)
		snprintf(p->err, p->errlen, "%s:%u: vm '%s': %s", p->s->file, p->line, vm->name, msg);
	else if (p->line)
		snprintf(p->err, p->errlen, "%s:%u: %s", p->s->file, p->line, msg);
	else
		snprintf(p->err, p->errlen, "%s: %s", p->s->file, msg);
	return -1;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Cuts leading and trailing white space from @s, in place. */
static char *trim(char *s)
{
	char *end;

	while (is_space(*s))
		s++;
	end = s + strlen(s);
	while (end > s && is_space(end[-1]))
		end--;
	*end = '\0';
	return s;
}

/* Cuts a '#' comment off @line; a '#' inside a "string" is text. */
static void strip_comment(char *line)
{
	bool quoted = false;

	for (char *c = line; *c; c++) {
		if (quoted && *c == '\\' && c[1])
			c++;
		else if (*c == '"')
			quoted = !quoted;
		else if (*c == '#' && !quoted) {
			*c = '\0';
			return;
		}
	}
}

/* A decimal or 0x-hexadecimal number that fills @s. */
static int parse_u64(const char *s, u64 *out)
{
	unsigned int base = 10;
	u64 n = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return -1;
	for (; *s; s++) {
		unsigned int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -1;
		if (n > (UINT64_MAX - d) / base)
			return -1;
		n = n * base + d;
	}
	*out = n;
	return 0;
}

/* The power of two a size suffix stands for; 0 if @c is none. */
static unsigned int suffix_shift(char c)
{
	switch (c) {
	case 'K': case 'k': return 10;
	case 'M': case 'm': return 20;
	case 'G': case 'g': return 30;
	default: return 0;
	}
}

/* A number with an optional K, M or G suffix (powers of 1024). */
static int parse_size(const char *s, u64 *out)
{
	char digits[32];
	size_t len = strlen(s);
	unsigned int shift;
	u64 n;

	if (!len || len >= sizeof(digits))
		return -1;
	memcpy(digits, s, len + 1);
	shift = suffix_shift(digits[len - 1]);
	if (shift)
		digits[len - 1] = '\0';
	if (parse_u64(digits, &n) || n > UINT64_MAX >> shift)
		return -1;
	*out = n << shift;
	return 0;
}

/* Memory sizes in messages: in M, which every checked size is a multiple of. */
static unsigned long long in_mib(u64 bytes)
{
	return bytes / SZ_1M;
}

/* Appends @name to the comma list in @buf. */
static void list_append(char *buf, size_t size, const char *name)
{
	size_t len = strlen(buf);

	snprintf(buf + len, size - len, "%s%s", len ? ", " : "", name);
}

static bool valid_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len >= VM_NAME_LEN)
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") == len;
}

static struct sc_vm *find_vm(struct sc_scenario *s, const char *name)
{
	for (unsigned int i = 0; i < s->nr_vms; i++)
		if (!strcmp(s->vms[i].name, name))
			return &s->vms[i];
	return NULL;
}

/* @text with each ${name} replaced by its -D value; NULL after fail(). */
static char *substitute(struct parser *p, const char *text)
{
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);

	if (!m)
		out_of_memory();
	while (*text) {
		const char *end;
		size_t nlen;
		unsigned int i;

		if (text[0] != '$' || text[1] != '{') {
			fputc(*text++, m);
			continue;
		}
		end = strchr(text, '}');
		if (!end) {
			fclose(m);
			free(out);
			fail(p, p->vm, "'${' without a closing '}'");
			return NULL;
		}
		nlen = (size_t)(end - text - 2);
		for (i = 0; i < p->opt->nr_vars; i++)
			if (strlen(p->opt->vars[i].name) == nlen &&
			    !strncmp(p->opt->vars[i].name, text + 2, nlen))
				break;
		if (i == p->opt->nr_vars) {
			fclose(m);
			free(out);
			fail(p, p->vm, "unknown variable ${%.*s}: define it with mkscenario -D %.*s=VALUE",
			     (int)nlen, text + 2, (int)nlen, text + 2);
			return NULL;
		}
		fputs(p->opt->vars[i].value, m);
		text = end + 1;
	}
	if (fclose(m))
		out_of_memory();
	return out;
}

/*
 * The text of a value, in place: a "string" (escapes \" and \\) or the
 * bare text. NULL after fail().
 */
static char *unquote(struct parser *p, const char *key, char *v)
{
	char *w = v;
	const char *r = v + 1;

	if (*v != '"') {
		if (!*v)
			fail(p, p->vm, "'%s =' has no value", key);
		return *v ? v : NULL;
	}
	for (; *r && *r != '"'; r++) {
		if (*r == '\\' && (r[1] == '"' || r[1] == '\\'))
			r++;
		*w++ = *r;
	}
	if (*r != '"') {
		fail(p, p->vm, "%s: the string has no closing '\"'", key);
		return NULL;
	}
	if (r[1]) {
		fail(p, p->vm, "%s: text after the closing '\"': '%s'", key, r + 1);
		return NULL;
	}
	*w = '\0';
	return v;
}

typedef int item_fn(struct parser *p, struct sc_vm *vm, char *item);

/* Calls @fn on each item of the comma list @list, trimmed. */
static int for_each_item(struct parser *p, struct sc_vm *vm, const char *key,
			 const char *list, item_fn *fn)
{
	char *copy = xstrdup(list);
	char *item = copy;
	int rc = 0;

	for (;;) {
		char *comma = strchr(item, ',');

		if (comma)
			*comma = '\0';
		if (!*trim(item))
			rc = fail(p, vm, "%s = %s: empty item in the list", key, list);
		else
			rc = fn(p, vm, trim(item));
		if (rc || !comma)
			break;
		item = comma + 1;
	}
	free(copy);
	return rc;
}

/* ---------------------------------------------------------- the keys */

static int add_cpu(struct parser *p, struct sc_vm *vm, u64 cpu)
{
	const struct sc_vm *owner;

	if (cpu >= p->opt->max_cpus)
		return fail(p, vm, "CPU %llu does not exist: this build has %u CPUs (CONFIG_MAX_CPUS), 0-%u",
			    (unsigned long long)cpu, p->opt->max_cpus, p->opt->max_cpus - 1);
	owner = p->cpu_owner[cpu];
	if (owner == vm)
		return fail(p, vm, "CPU %llu is listed twice", (unsigned long long)cpu);
	if (owner)
		return fail(p, vm, "CPU %llu is already used by vm '%s'",
			    (unsigned long long)cpu, owner->name);
	if (vm->cfg.nr_vcpus == VM_MAX_VCPUS)
		return fail(p, vm, "more than %d CPUs: a VM has at most %d vCPUs (VM_MAX_VCPUS)",
			    VM_MAX_VCPUS, VM_MAX_VCPUS);
	/* Invariant: cpu_owner[c] == vm exactly when c is in vm's pcpus[]. */
	vm->cfg.pcpus[vm->cfg.nr_vcpus++] = (u8)cpu;
	p->cpu_owner[cpu] = vm;
	return 0;
}

/* "N" or "N-M" */
static int add_cpu_range(struct parser *p, struct sc_vm *vm, char *item)
{
	char *dash = strchr(item, '-');
	u64 first, last;

	if (dash)
		*dash = '\0';
	if (parse_u64(trim(item), &first) || parse_u64(dash ? trim(dash + 1) : item, &last))
		return fail(p, vm, "cpus: '%s%s%s' is not a CPU number or range: write e.g. cpus = 0, cpus = 1,2 or cpus = 2-3",
			    item, dash ? "-" : "", dash ? dash + 1 : "");
	if (last < first)
		return fail(p, vm, "cpus: range %llu-%llu runs backwards: write %llu-%llu",
			    (unsigned long long)first, (unsigned long long)last,
			    (unsigned long long)last, (unsigned long long)first);
	/* Ends at the first CPU beyond max_cpus (<= SC_CPUS_LIMIT), so bounded. */
	for (u64 cpu = first; cpu <= last; cpu++)
		if (add_cpu(p, vm, cpu))
			return -1;
	return 0;
}

static int set_cpus(struct parser *p, struct sc_vm *vm, const char *v)
{
	return for_each_item(p, vm, "cpus", v, add_cpu_range);
}

static int set_vcpus(struct parser *p, struct sc_vm *vm, const char *v)
{
	u64 n;

	if (parse_u64(v, &n) || n == 0 || n > VM_MAX_VCPUS)
		return fail(p, vm, "vcpus = %s: write a number from 1 to %d (VM_MAX_VCPUS)",
			    v, VM_MAX_VCPUS);
	vm->vcpus = (unsigned int)n;
	return 0;
}

static int set_memory(struct parser *p, struct sc_vm *vm, const char *v)
{
	const u64 max = IPA_LIMIT - GUEST_RAM_BASE;
	u64 size;

	if (parse_size(v, &size))
		return fail(p, vm, "memory = %s: write a size in bytes with an optional K, M or G suffix, e.g. 64M", v);
	if (size == 0 || !IS_ALIGNED(size, MEM_GRANULE))
		return fail(p, vm, "memory = %s is not a multiple of 2M: guest RAM is mapped in 2 MiB blocks", v);
	if (size > max)
		return fail(p, vm, "memory = %s is too large: guest RAM starts at 0x%llx and must end below 2^48, so at most %lluM",
			    v, GUEST_RAM_BASE, in_mib(max));
	vm->cfg.mem_size = size;
	return 0;
}

static int set_image(struct parser *p, struct sc_vm *vm, struct sc_image *img,
		     const char *key, const char *v)
{
	char *path;

	if (!*v)
		return fail(p, vm, "%s = \"\": write the path of a file", key);
	if (v[0] == '/' || !*p->dir) {
		path = xstrdup(v);
	} else {
		const char *sep = p->dir[strlen(p->dir) - 1] == '/' ? "" : "/";

		if (asprintf(&path, "%s%s%s", p->dir, sep, v) < 0)
			out_of_memory();
	}
	img->written = xstrdup(p->written);
	img->path = path;
	return 0;
}

static int set_kernel(struct parser *p, struct sc_vm *vm, const char *v)
{
	return set_image(p, vm, &vm->kernel, "kernel", v);
}

static int set_initrd(struct parser *p, struct sc_vm *vm, const char *v)
{
	return set_image(p, vm, &vm->initrd, "initrd", v);
}

static int set_cmdline(struct parser *p, struct sc_vm *vm, const char *v)
{
	if (strlen(v) >= CMDLINE_MAX)
		return fail(p, vm, "cmdline is %zu bytes: a Linux guest takes at most %d",
			    strlen(v), CMDLINE_MAX - 1);
	vm->cmdline = xstrdup(v);
	return 0;
}

static int set_console(struct parser *p, struct sc_vm *vm, const char *v)
{
	if (!strcmp(v, "pl011"))
		vm->cfg.console = true;
	else if (!strcmp(v, "none"))
		vm->cfg.console = false;
	else
		return fail(p, vm, "console = %s: write pl011 or none", v);
	return 0;
}

static int add_device(struct parser *p, struct sc_vm *vm, char *name)
{
	char list[128] = "";

	for (unsigned int i = 0; i < sc_nr_devices; i++) {
		if (strcmp(sc_devices[i].name, name) != 0)
			continue;
		if (vm->cfg.devices & sc_devices[i].bit)
			return fail(p, vm, "devices: '%s' is listed twice", name);
		vm->cfg.devices |= sc_devices[i].bit;
		return 0;
	}
	for (unsigned int i = 0; i < sc_nr_devices; i++)
		list_append(list, sizeof(list), sc_devices[i].name);
	return fail(p, vm, "devices: unknown device '%s': the devices are %s", name, list);
}

static int set_devices(struct parser *p, struct sc_vm *vm, const char *v)
{
	return for_each_item(p, vm, "devices", v, add_device);
}

static int set_cid(struct parser *p, struct sc_vm *vm, const char *v)
{
	u64 cid;

	if (parse_u64(v, &cid) || cid < CID_MIN || cid >= CID_ANY)
		return fail(p, vm, "cid = %s: write a number from %d to %llu (0-2 are reserved)",
			    v, CID_MIN, CID_ANY - 1);
	for (unsigned int i = 0; i < p->s->nr_vms; i++) {
		const struct sc_vm *other = &p->s->vms[i];

		if (other != vm && other->cfg.vsock_cid == cid)
			return fail(p, vm, "cid %llu is already used by vm '%s'",
				    (unsigned long long)cid, other->name);
	}
	vm->cfg.vsock_cid = (u32)cid;
	return 0;
}

static int check_vm_name(struct parser *p, struct sc_vm *vm, char *name)
{
	if (!valid_name(name))
		return fail(p, vm, "manages: '%s' is not a valid vm name", name);
	return 0;
}

/* The names are looked up at the end: they may come later in the file. */
static int set_manages(struct parser *p, struct sc_vm *vm, const char *v)
{
	if (for_each_item(p, vm, "manages", v, check_vm_name))
		return -1;
	vm->manages = xstrdup(v);
	return 0;
}

/*
 * @v is the value with ${} substituted (p->written: as in the file).
 * A setter sees each key at most once per VM.
 */
typedef int key_fn(struct parser *p, struct sc_vm *vm, const char *v);

static const struct {
	const char *name;
	key_fn *set;
} keys[SC_NR_KEYS] = {
	[SC_KEY_CPUS] = { "cpus", set_cpus },
	[SC_KEY_VCPUS] = { "vcpus", set_vcpus },
	[SC_KEY_MEMORY] = { "memory", set_memory },
	[SC_KEY_KERNEL] = { "kernel", set_kernel },
	[SC_KEY_INITRD] = { "initrd", set_initrd },
	[SC_KEY_CMDLINE] = { "cmdline", set_cmdline },
	[SC_KEY_CONSOLE] = { "console", set_console },
	[SC_KEY_DEVICES] = { "devices", set_devices },
	[SC_KEY_CID] = { "cid", set_cid },
	[SC_KEY_MANAGES] = { "manages", set_manages },
};

static int unknown_key(struct parser *p, const char *name)
{
	char list[128] = "";

	for (unsigned int k = 0; k < SC_NR_KEYS; k++)
		list_append(list, sizeof(list), keys[k].name);
	return fail(p, p->vm, "unknown key '%s': the keys are %s", name, list);
}

/* ------------------------------------------------------------ the lines */

static int parse_key(struct parser *p, const char *name, char *value)
{
	struct sc_vm *vm = p->vm;
	char *written, *v;
	unsigned int k;
	int rc;

	for (k = 0; k < SC_NR_KEYS && strcmp(keys[k].name, name) != 0; k++)
		;
	if (!vm)
		return fail(p, NULL, "'%s = ...' before any [vm NAME] section", name);
	if (k == SC_NR_KEYS)
		return unknown_key(p, name);
	if (vm->key_line[k])
		return fail(p, vm, "'%s' is already set at line %u", name, vm->key_line[k]);
	written = unquote(p, name, value);
	v = written ? substitute(p, written) : NULL;
	if (!v)
		return -1;
	vm->key_line[k] = p->line;
	p->written = written;
	rc = keys[k].set(p, vm, v);
	free(v);
	return rc;
}

static int parse_section(struct parser *p, char *line)
{
	struct sc_scenario *s = p->s;
	char *end = strchr(line, ']');
	char *kind, *name;
	const struct sc_vm *other;
	struct sc_vm *vm;

	if (!end)
		return fail(p, NULL, "no ']' at the end of the section header: write [vm NAME]");
	if (end[1])
		return fail(p, NULL, "text after ']': '%s'", end + 1);
	*end = '\0';
	kind = trim(line + 1);
	name = kind + strcspn(kind, " \t");
	if (*name)
		*name++ = '\0';
	name = trim(name);
	if (strcmp(kind, "vm") != 0)
		return fail(p, NULL, "unknown section [%s%s%s]: sections are [vm NAME]",
			    kind, *name ? " " : "", name);
	if (!*name)
		return fail(p, NULL, "[vm] without a name: write [vm NAME]");
	if (!valid_name(name))
		return fail(p, NULL, "'%s' is not a valid vm name: use 1 to %d characters from a-z, 0-9, '_' and '-'",
			    name, VM_NAME_LEN - 1);
	other = find_vm(s, name);
	if (other)
		return fail(p, NULL, "vm '%s' is already defined at line %u", name, other->line);
	if (s->nr_vms == SCENARIO_MAX_VMS)
		return fail(p, NULL, "vm '%s': more than %d VMs (SCENARIO_MAX_VMS)",
			    name, SCENARIO_MAX_VMS);
	vm = &s->vms[s->nr_vms++];
	vm->name = xstrdup(name);
	vm->line = p->line;
	vm->cfg.console = true;         /* the default: console = pl011 */
	p->vm = vm;
	return 0;
}

static int parse_line(struct parser *p, char *line)
{
	char *eq;

	strip_comment(line);
	line = trim(line);
	if (!*line)
		return 0;
	if (*line == '[')
		return parse_section(p, line);
	eq = strchr(line, '=');
	if (!eq)
		return fail(p, p->vm, "expected 'key = value' or '[vm NAME]', not '%s'", line);
	*eq = '\0';
	return parse_key(p, trim(line), trim(eq + 1));
}

/* ----------------------------------------------- checks at the end of the file */

static int add_managed(struct parser *p, struct sc_vm *vm, char *name)
{
	const struct sc_vm *target = find_vm(p->s, name);
	u32 bit;

	if (!target)
		return fail(p, vm, "manages '%s', which is not a vm of this scenario", name);
	if (target == vm)
		return fail(p, vm, "manages itself: list the other VMs it may manage");
	bit = 1u << (target - p->s->vms);
	if (vm->cfg.manages & bit)
		return fail(p, vm, "manages '%s' twice", name);
	vm->cfg.manages |= bit;
	return 0;
}

/*
 * Opens @img, checks that it is a non-empty regular file, records its
 * size and reads its first bytes (up to @len) into @head.
 */
static int read_image(struct parser *p, struct sc_vm *vm, const char *key,
		      struct sc_image *img, u8 *head, size_t len)
{
	FILE *f = fopen(img->path, "rb");
	struct stat st;
	int rc = 0;

	if (!f && errno == ENOENT)
		return fail(p, vm, "%s '%s' not found", key, img->path);
	if (!f)
		return fail(p, vm, "%s '%s': %s", key, img->path, strerror(errno));
	if (fstat(fileno(f), &st))
		rc = fail(p, vm, "%s '%s': %s", key, img->path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		rc = fail(p, vm, "%s '%s' is not a regular file", key, img->path);
	else if (st.st_size == 0)
		rc = fail(p, vm, "%s '%s' is empty", key, img->path);
	else if ((u64)st.st_size > IPA_LIMIT)
		rc = fail(p, vm, "%s '%s' is larger than any guest RAM", key, img->path);
	else if (len && fread(head, 1, MIN(len, (size_t)st.st_size), f) != MIN(len, (size_t)st.st_size))
		rc = fail(p, vm, "%s '%s': read error", key, img->path);
	img->size = (u64)st.st_size;
	fclose(f);
	if (!rc) {
		img->real = realpath(img->path, NULL);
		if (!img->real)
			rc = fail(p, vm, "%s '%s': %s", key, img->path, strerror(errno));
	}
	return rc;
}

static u64 get_le64(const u8 *b)
{
	u64 v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

/* Where the kernel goes in guest RAM and how many bytes it takes there. */
struct kernel_place {
	bool arm64_image;
	u64 offset;
	u64 size;
};

static int place_kernel(struct parser *p, struct sc_vm *vm, struct kernel_place *k)
{
	static const u8 magic[4] = { 'A', 'R', 'M', 0x64 };
	u8 hdr[IMAGE_HDR_SIZE] = { 0 };   /* a shorter file reads as zeroes */

	if (read_image(p, vm, "kernel", &vm->kernel, hdr, sizeof(hdr)))
		return -1;
	k->arm64_image = vm->kernel.size >= IMAGE_HDR_SIZE &&
			 !memcmp(hdr + IMAGE_MAGIC, magic, sizeof(magic));
	if (!k->arm64_image) {
		k->offset = RAW_LOAD_OFFSET;
		k->size = vm->kernel.size;
		return 0;
	}
	/* An Image occupies image_size bytes from RAM + text_offset (image_size
	 * 0: an old kernel, whose file size is what we know). */
	k->offset = get_le64(hdr + IMAGE_TEXT_OFFSET);
	k->size = MAX(get_le64(hdr + IMAGE_IMAGE_SIZE), vm->kernel.size);
	if (k->offset > IPA_LIMIT || k->size > IPA_LIMIT)
		return fail(p, vm, "kernel '%s': its Image header (text_offset 0x%llx, image_size 0x%llx) fits no guest RAM",
			    vm->kernel.path, (unsigned long long)k->offset,
			    (unsigned long long)k->size);
	return 0;
}

/*
 * Where virt/vm.c puts the initrd at boot (plan_layout(), docs/vms.md),
 * as QEMU's -kernel does: at min(RAM/2, 128 MiB), or on the first page
 * after the kernel if that reaches further. Offsets are from RAM's start.
 */
static u64 initrd_offset(u64 mem, u64 kernel_end)
{
	return MAX(MIN(mem / 2, INITRD_MAX_OFFSET), ALIGN_UP(kernel_end, PAGE_SIZE));
}

/* True if kernel and initrd end at or below the device tree (the last 2 MiB). */
static bool fits(u64 mem, u64 kernel_end, u64 initrd_size)
{
	u64 dtb = mem - DTB_ROOM;

	return kernel_end <= dtb && initrd_offset(mem, kernel_end) + initrd_size <= dtb;
}

/*
 * The least memory, in 2 MiB blocks, for which fits() holds: the largest
 * of the least memory for each of its conditions. (The conditions only
 * get easier as memory grows: the initrd moves up by half what the
 * device tree does, or not at all.)
 */
static u64 least_memory(u64 kernel_end, u64 initrd_size)
{
	u64 kernel = kernel_end + DTB_ROOM;
	u64 initrd_after_kernel = ALIGN_UP(kernel_end, PAGE_SIZE) + initrd_size + DTB_ROOM;
	/* mem/2 + initrd <= mem - DTB while mem/2 <= 128 MiB; then 128 MiB + initrd. */
	u64 initrd_at_half = 2 * (initrd_size + DTB_ROOM);
	u64 initrd = initrd_at_half <= 2 * INITRD_MAX_OFFSET ? initrd_at_half :
		     INITRD_MAX_OFFSET + initrd_size + DTB_ROOM;

	return ALIGN_UP(MAX(kernel, MAX(initrd_after_kernel, initrd)), MEM_GRANULE);
}

/* Guest RAM must hold the kernel, initrd and device tree where virt/vm.c puts them. */
static int check_memory(struct parser *p, struct sc_vm *vm)
{
	struct kernel_place k;
	char initrd[96] = "";
	u64 kernel_end;

	p->line = vm->key_line[SC_KEY_KERNEL];
	if (place_kernel(p, vm, &k))
		return -1;
	p->line = vm->key_line[SC_KEY_INITRD];
	if (vm->initrd.path && read_image(p, vm, "initrd", &vm->initrd, NULL, 0))
		return -1;
	/* Offsets and sizes are at most 2^48 (checked above): no sum wraps. */
	kernel_end = k.offset + k.size;
	p->line = vm->key_line[SC_KEY_MEMORY];
	if (fits(vm->cfg.mem_size, kernel_end, vm->initrd.size))
		return 0;
	if (vm->initrd.size)
		snprintf(initrd, sizeof(initrd), ", the initrd (%llu bytes, at +min(memory/2, 128M) or after the kernel)",
			 (unsigned long long)vm->initrd.size);
	return fail(p, vm, "memory = %lluM is too small for the kernel (%s at +0x%llx, %llu bytes)%s and the device tree (the last 2M): use memory = %lluM or more",
		    in_mib(vm->cfg.mem_size), k.arm64_image ? "arm64 Image" : "raw binary",
		    (unsigned long long)k.offset, (unsigned long long)k.size, initrd,
		    in_mib(least_memory(kernel_end, vm->initrd.size)));
}

static int check_vm(struct parser *p, struct sc_vm *vm)
{
	static const enum sc_key required[] = { SC_KEY_CPUS, SC_KEY_MEMORY, SC_KEY_KERNEL };
	bool vsock = vm->cfg.devices & VM_DEV_VSOCK;

	p->line = vm->line;
	for (unsigned int i = 0; i < ARRAY_SIZE(required); i++)
		if (!vm->key_line[required[i]])
			return fail(p, vm, "no '%s = ...': every VM needs cpus, memory and kernel",
				    keys[required[i]].name);
	p->line = vm->key_line[SC_KEY_VCPUS];
	if (p->line && vm->vcpus != vm->cfg.nr_vcpus)
		return fail(p, vm, "vcpus = %u, but cpus = ... lists %u CPUs: one vCPU runs on each",
			    vm->vcpus, vm->cfg.nr_vcpus);
	p->line = vm->key_line[SC_KEY_DEVICES];
	if (vsock && !vm->key_line[SC_KEY_CID])
		return fail(p, vm, "devices = vsock needs 'cid = N', the guest's CID (3 or more, unique)");
	p->line = vm->key_line[SC_KEY_CID];
	if (!vsock && p->line)
		return fail(p, vm, "cid = %u without a vsock: add 'devices = vsock' or remove the cid",
			    vm->cfg.vsock_cid);
	p->line = vm->key_line[SC_KEY_MANAGES];
	if (vm->manages && for_each_item(p, vm, "manages", vm->manages, add_managed))
		return -1;
	return p->opt->check_images ? check_memory(p, vm) : 0;
}

/* Points the vm_config's strings at what the parser owns. */
static void finish_vm(struct sc_vm *vm)
{
	vm->cfg.name = vm->name;
	vm->cfg.cmdline = vm->cmdline ? vm->cmdline : "";
	vm->cfg.kernel.path = vm->kernel.written;
	vm->cfg.kernel.size = vm->kernel.size;
	vm->cfg.initrd.path = vm->initrd.written;
	vm->cfg.initrd.size = vm->initrd.size;
}

static int check_scenario(struct parser *p)
{
	p->line = 0;
	if (!p->s->nr_vms)
		return fail(p, NULL, "no [vm NAME] section: a scenario runs at least one VM (build without SCENARIO= for none)");
	for (unsigned int i = 0; i < p->s->nr_vms; i++) {
		if (check_vm(p, &p->s->vms[i]))
			return -1;
		finish_vm(&p->s->vms[i]);
	}
	return 0;
}

/* ------------------------------------------------------------ the file */

/* The whole of @file, NUL-terminated; NULL after fail(). */
static char *read_text(struct parser *p)
{
	FILE *f = fopen(p->s->file, "r");
	char *text = NULL;
	size_t len = 0;
	FILE *m;
	int c;

	if (!f) {
		fail(p, NULL, "cannot open: %s", strerror(errno));
		return NULL;
	}
	m = open_memstream(&text, &len);
	if (!m)
		out_of_memory();
	while ((c = getc(f)) != EOF && c)
		putc(c, m);
	if (fclose(m))
		out_of_memory();
	if (c == 0 || ferror(f)) {
		fail(p, NULL, c == 0 ? "contains a NUL byte: is it a text file?" : "read error");
		free(text);
		text = NULL;
	}
	fclose(f);
	return text;
}

static void set_names(struct sc_scenario *s, char **dir)
{
	const char *slash = strrchr(s->file, '/');
	const char *base = slash ? slash + 1 : s->file;
	size_t len = strlen(base);
	size_t suffix = strlen(SUFFIX);

	if (len > suffix && !strcmp(base + len - suffix, SUFFIX))
		len -= suffix;
	s->name = strndup(base, len);
	/* "a/b.scenario" -> "a"; "/b.scenario" -> "/"; "b.scenario" -> "" */
	*dir = strndup(s->file, slash ? (size_t)(slash - s->file) + (slash == s->file) : 0);
	if (!s->name || !*dir)
		out_of_memory();
}

static int parse_text(struct parser *p, char *text)
{
	char *next;

	for (char *line = text; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		p->line++;
		if (parse_line(p, line))
			return -1;
	}
	return check_scenario(p);
}

int sc_parse_file(const char *file, const struct sc_options *opt,
		  struct sc_scenario *s, char *err, size_t errlen)
{
	struct parser p = { .opt = opt, .s = s, .err = err, .errlen = errlen };
	char *text;
	int rc;

	memset(s, 0, sizeof(*s));
	if (opt->max_cpus == 0 || opt->max_cpus > SC_CPUS_LIMIT) {
		snprintf(err, errlen, "mkscenario: MAX_CPUS %u is not 1..%d",
			 opt->max_cpus, SC_CPUS_LIMIT);
		return -1;
	}
	if (!file || !*file || !strcmp(file, "-")) {
		s->name = xstrdup(EMPTY_NAME);
		return 0;
	}
	s->file = xstrdup(file);
	set_names(s, &p.dir);
	text = read_text(&p);
	rc = text ? parse_text(&p, text) : -1;
	free(text);
	free(p.dir);
	if (rc)
		sc_free(s);
	return rc;
}

static void free_image(struct sc_image *img)
{
	free(img->written);
	free(img->path);
	free(img->real);
}

void sc_free(struct sc_scenario *s)
{
	for (unsigned int i = 0; i < s->nr_vms; i++) {
		struct sc_vm *vm = &s->vms[i];

		free(vm->name);
		free(vm->cmdline);
		free(vm->manages);
		free_image(&vm->kernel);
		free_image(&vm->initrd);
	}
	free(s->name);
	free(s->file);
	memset(s, 0, sizeof(*s));
}
