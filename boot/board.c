/*
 * board_from_fdt(): fills struct board (memory, reservations, CPUs, console
 * UART, GIC, timer, PSCI, bootargs) from the boot loader's device tree.
 */
#include <stdarg.h>

#include "lib/types.h"
#include "lib/compiler.h"
#include "lib/errno.h"
#include "lib/fdt.h"
#include "boot/board.h"

#define PATH_LEN 128

/* What a parse step needs: the blob, the result and the error buffer. */
struct ctx {
	const void *fdt;
	struct board *b;
	char *err;
	size_t errlen;
	char path[PATH_LEN];
};

/* Append @c to the error buffer at *@pos, if room is left. */
static void err_put(struct ctx *c, size_t *pos, char c1)
{
	if (*pos + 1 < c->errlen)
		c->err[(*pos)++] = c1;
}

/* Append @v as hexadecimal digits (no prefix). */
static void err_hex(struct ctx *c, size_t *pos, u64 v)
{
	int shift = 60;

	while (shift > 0 && !(v >> shift))
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		err_put(c, pos, "0123456789abcdef"[(v >> shift) & 0xf]);
}

/* Append @v in decimal. */
static void err_dec(struct ctx *c, size_t *pos, unsigned int v)
{
	char digits[10];
	int n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n > 0)
		err_put(c, pos, digits[--n]);
}

/*
 * Write a message into the error buffer and return @code. Formats: %s,
 * %u and %llx only.
 */
static __printf(3, 4) int fail(struct ctx *c, int code, const char *fmt, ...)
{
	va_list ap;
	size_t pos = 0;
	const char *s;

	if (!c->err || c->errlen == 0)
		return code;
	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			err_put(c, &pos, *fmt);
		} else if (fmt[1] == 's') {
			s = va_arg(ap, const char *);
			while (s && *s)
				err_put(c, &pos, *s++);
			fmt++;
		} else if (fmt[1] == 'u') {
			err_dec(c, &pos, va_arg(ap, unsigned int));
			fmt++;
		} else if (fmt[1] == 'l' && fmt[2] == 'l' && fmt[3] == 'x') {
			err_hex(c, &pos, va_arg(ap, unsigned long long));
			fmt += 3;
		} else {
			err_put(c, &pos, '%');
		}
	}
	va_end(ap);
	c->err[pos] = '\0';
	return code;
}

/* Full path of @node, for messages (kept in the context). */
static const char *path_of(struct ctx *c, int node)
{
	if (fdt_node_path(c->fdt, node, c->path, sizeof(c->path)) == -EINVAL)
		return "(bad node)";
	return c->path;
}

/* Zero @n bytes at @p (no libc, and no loop the compiler turns into one). */
static void zero(void *p, size_t n)
{
	volatile u8 *q = p;

	while (n--)
		*q++ = 0;
}

/* Copy NUL-terminated @s into @dst (@len bytes), truncating. */
static void copy_str(char *dst, size_t len, const char *s)
{
	size_t i = 0;

	while (s && s[i] && i + 1 < len) {
		dst[i] = s[i];
		i++;
	}
	dst[i] = '\0';
}

/* True when string property @name of @node is exactly @s. */
static bool prop_is(const void *fdt, int node, const char *name, const char *s)
{
	const char *v = fdt_getprop_str(fdt, node, name);
	size_t i = 0;

	if (!v)
		return false;
	while (v[i] && v[i] == s[i])
		i++;
	return v[i] == s[i];
}

/* Add [base, base + size) to a range table of @max entries. */
static bool add_range(struct mem_range *t, unsigned int *n, unsigned int max,
		      u64 base, u64 size)
{
	if (*n == max)
		return false;
	t[*n].base = base;
	t[*n].size = size;
	(*n)++;
	return true;
}

/* Root `model`, else the first root `compatible`. */
static void parse_model(struct ctx *c, int root)
{
	const char *m = fdt_getprop_str(c->fdt, root, "model");

	if (!m)
		m = fdt_getprop_str(c->fdt, root, "compatible");
	copy_str(c->b->model, sizeof(c->b->model), m);
}

/* Every `reg` entry of @node with a non-zero size into a range table. */
static int add_regs(struct ctx *c, int node, struct mem_range *t,
		    unsigned int *n, unsigned int max, const char *what)
{
	u64 base, size;

	for (unsigned int i = 0;; i++) {
		int r = fdt_reg(c->fdt, node, i, &base, &size);

		if (r == -ENOENT)
			return 0;   /* past the last entry, or no `reg` */
		if (r)
			return fail(c, r, "%s: bad `reg` entry %u", path_of(c, node), i);
		if (size == 0)
			continue;   /* placeholder for the firmware to fill */
		if (base + size < base)
			return fail(c, -ERANGE, "%s: `reg` entry %u wraps past 2^64",
				    path_of(c, node), i);
		if (!add_range(t, n, max, base, size))
			return fail(c, -ENOSPC, "%s: more than %u %s ranges",
				    path_of(c, node), max, what);
	}
}

/* Every enabled node with device_type "memory". */
static int parse_memory(struct ctx *c)
{
	struct board *b = c->b;
	int node, r;

	for (node = fdt_next_node(c->fdt, -1); node >= 0;
	     node = fdt_next_node(c->fdt, node)) {
		if (!prop_is(c->fdt, node, "device_type", "memory") ||
		    !fdt_is_enabled(c->fdt, node))
			continue;
		r = add_regs(c, node, b->mem, &b->nmem, BOARD_MAX_MEM, "memory");
		if (r)
			return r;
	}
	if (node != -ENOENT)
		return fail(c, -EINVAL, "malformed device tree while looking for memory");
	if (b->nmem == 0)
		return fail(c, -ENOENT, "no memory: no `memory` node with a non-empty `reg`");
	return 0;
}

/* /memreserve/ entries and /reserved-memory children with `reg`. */
static int parse_reserved(struct ctx *c)
{
	struct board *b = c->b;
	u64 base, size;
	int node, r;

	for (unsigned int i = 0;; i++) {
		r = fdt_memreserve(c->fdt, i, &base, &size);
		if (r == -ENOENT)
			break;
		if (r)
			return fail(c, r, "memory reservation block: malformed");
		if (size && base + size < base)
			return fail(c, -ERANGE, "/memreserve/ entry %u wraps past 2^64", i);
		if (size && !add_range(b->reserved, &b->nreserved,
				       BOARD_MAX_RESERVED, base, size))
			return fail(c, -ENOSPC, "more than %u reserved ranges",
				    BOARD_MAX_RESERVED);
	}
	node = fdt_path_offset(c->fdt, "/reserved-memory");
	if (node == -ENOENT)
		return 0;
	if (node < 0)
		return fail(c, node, "/reserved-memory: malformed");
	for (node = fdt_first_child(c->fdt, node); node >= 0;
	     node = fdt_next_sibling(c->fdt, node)) {
		if (!fdt_is_enabled(c->fdt, node) ||
		    !fdt_getprop(c->fdt, node, "reg", NULL))
			continue;
		r = add_regs(c, node, b->reserved, &b->nreserved,
			     BOARD_MAX_RESERVED, "reserved");
		if (r)
			return r;
	}
	return node == -ENOENT ? 0 : fail(c, node, "/reserved-memory: malformed");
}

/* One /cpus child: MPIDR from `reg`, enable method, release address. */
static int parse_cpu(struct ctx *c, int node, struct board_cpu *cpu)
{
	const void *p;
	u64 size;
	int len, r;

	r = fdt_reg_raw(c->fdt, node, 0, &cpu->mpidr, &size);
	if (r == -ENOENT)
		return fail(c, r, "%s: no `reg`", path_of(c, node));
	if (r)
		return fail(c, r, "%s: bad `reg`", path_of(c, node));
	cpu->enable = CPU_ENABLE_NONE;
	cpu->release_addr = 0;
	p = fdt_getprop(c->fdt, node, "enable-method", &len);
	if (!p && len == -ENOENT)
		return 0;
	if (fdt_prop_has_string(c->fdt, node, "enable-method", "psci")) {
		cpu->enable = CPU_ENABLE_PSCI;
		return 0;
	}
	if (!fdt_prop_has_string(c->fdt, node, "enable-method", "spin-table"))
		return fail(c, -ENOSYS, "%s: unsupported `enable-method`",
			    path_of(c, node));
	cpu->enable = CPU_ENABLE_SPIN_TABLE;
	p = fdt_getprop(c->fdt, node, "cpu-release-addr", &len);
	if (!p)
		return fail(c, -ENOENT, "%s: spin-table without `cpu-release-addr`",
			    path_of(c, node));
	if (len != 4 && len != 8)
		return fail(c, -EINVAL, "%s: `cpu-release-addr` is not 1 or 2 cells",
			    path_of(c, node));
	cpu->release_addr = fdt_read_cells(p, (unsigned int)len / 4);
	return 0;
}

/* Children of /cpus with device_type "cpu". */
static int parse_cpus(struct ctx *c)
{
	struct board *b = c->b;
	int cpus = fdt_path_offset(c->fdt, "/cpus"), node, r;

	if (cpus < 0)
		return fail(c, cpus, "/cpus: missing");
	for (node = fdt_first_child(c->fdt, cpus); node >= 0;
	     node = fdt_next_sibling(c->fdt, node)) {
		if (!prop_is(c->fdt, node, "device_type", "cpu"))
			continue;
		if (b->ncpus == BOARD_MAX_CPUS)
			return fail(c, -ENOSPC, "/cpus: more than %u CPUs (BOARD_MAX_CPUS)",
				    BOARD_MAX_CPUS);
		r = parse_cpu(c, node, &b->cpus[b->ncpus]);
		if (r)
			return r;
		b->ncpus++;
	}
	if (node != -ENOENT)
		return fail(c, node, "/cpus: malformed");
	if (b->ncpus == 0)
		return fail(c, -ENOENT, "/cpus: no node with device_type \"cpu\"");
	return 0;
}

/* The node /chosen stdout-path names (path or alias, ":options" ignored). */
static int stdout_node(struct ctx *c, const char *sp)
{
	char name[PATH_LEN];
	size_t n = 0, a = 0;
	int node = fdt_path_offset(c->fdt, sp), aliases;

	while (sp[n] && sp[n] != ':' && n < sizeof(name) - 1) {
		name[n] = sp[n];
		n++;
	}
	name[n] = '\0';
	if (node >= 0)
		return node;
	if (sp[0] == '/')
		return fail(c, node, "/chosen stdout-path \"%s\": no such node", name);
	/* Tell a missing alias from an alias naming a missing node. */
	while (name[a] && name[a] != '/')
		a++;
	name[a] = '\0';
	aliases = fdt_path_offset(c->fdt, "/aliases");
	if (aliases < 0 || !fdt_getprop(c->fdt, aliases, name, NULL))
		return fail(c, node, "/chosen stdout-path \"%s\": no such alias", name);
	return fail(c, node, "/chosen stdout-path \"%s\": alias names no node", name);
}

static int first_enabled_pl011(const void *fdt)
{
	int node = fdt_find_compatible(fdt, -1, "arm,pl011");

	while (node >= 0 && !fdt_is_enabled(fdt, node))
		node = fdt_find_compatible(fdt, node, "arm,pl011");
	return node;
}

/*
 * Console UART. The hypervisor drives only the PL011, so: /chosen
 * stdout-path if it names a PL011, else the first enabled PL011 (the Pi
 * 4's stdout-path names the mini UART unless config.txt moves Bluetooth
 * off the PL011), else whatever stdout-path names, for the caller to
 * refuse by name.
 */
static int parse_uart(struct ctx *c)
{
	const char *sp = NULL;
	int chosen = fdt_path_offset(c->fdt, "/chosen"), node = -ENOENT, r;
	u64 size;

	if (chosen >= 0) {
		sp = fdt_getprop_str(c->fdt, chosen, "stdout-path");
		if (!sp)
			sp = fdt_getprop_str(c->fdt, chosen, "linux,stdout-path");
	}
	if (sp) {
		node = stdout_node(c, sp);
		if (node < 0)
			return node;
	}
	if (node < 0 || !fdt_is_compatible(c->fdt, node, "arm,pl011")) {
		int pl011 = first_enabled_pl011(c->fdt);

		if (pl011 >= 0) {
			c->b->uart_not_stdout = node >= 0;
			node = pl011;
		}
	}
	if (node < 0)
		return 0;   /* no console known: the caller decides */
	r = fdt_reg(c->fdt, node, 0, &c->b->uart_base, &size);
	if (r)
		return fail(c, r, "%s: console UART without a usable `reg`",
			    path_of(c, node));
	c->b->uart_size = size;
	c->b->uart_is_pl011 = fdt_is_compatible(c->fdt, node, "arm,pl011");
	return 0;
}

/* INTID of one 3-cell GIC interrupt specifier (type 0 SPI, 1 PPI). */
static int gic_intid(const void *spec, u32 *intid)
{
	u32 type = fdt_prop_u32(spec, 0), n = fdt_prop_u32(spec, 1);

	if (type == 1 && n < 16)
		*intid = 16 + n;
	else if (type == 0 && n < 988)
		*intid = 32 + n;
	else
		return -EINVAL;
	return 0;
}

/* First enabled node compatible with any of @compat (NULL-terminated). */
static int find_any(const void *fdt, const char *const *compat)
{
	for (; *compat; compat++) {
		int node = fdt_find_compatible(fdt, -1, *compat);

		while (node >= 0 && !fdt_is_enabled(fdt, node))
			node = fdt_find_compatible(fdt, node, *compat);
		if (node != -ENOENT)
			return node;
	}
	return -ENOENT;
}

/* Register region @i of the GIC node, translated; @need: error if absent. */
static int gic_reg(struct ctx *c, int node, unsigned int i, bool need,
		   paddr_t *base, u64 *size)
{
	u64 sz;
	int r = fdt_reg(c->fdt, node, i, base, size ? size : &sz);

	if (r == -ENOENT && !need) {
		*base = 0;
		return 0;
	}
	if (r)
		return fail(c, r, "%s: `reg` entry %u missing or not translatable",
			    path_of(c, node), i);
	return 0;
}

/* GICv3 or GICv2 (with virtualisation extension regions if present). */
static int parse_gic(struct ctx *c)
{
	static const char *const v3[] = { "arm,gic-v3", NULL };
	static const char *const v2[] = {
		"arm,gic-400", "arm,cortex-a15-gic", "arm,cortex-a7-gic", NULL,
	};
	struct board_gic *g = &c->b->gic;
	const void *irq;
	int node = find_any(c->fdt, v3), len, r;

	g->version = GIC_V3;
	if (node == -ENOENT) {
		node = find_any(c->fdt, v2);
		g->version = GIC_V2;
	}
	if (node < 0) {
		g->version = GIC_NONE;
		return fail(c, node, "no interrupt controller compatible with "
			    "arm,gic-v3 or arm,gic-400");
	}
	r = gic_reg(c, node, 0, true, &g->dist, &g->dist_size);
	if (!r)
		r = gic_reg(c, node, 1, true, &g->redist_or_cpuif,
			    &g->redist_or_cpuif_size);
	if (!r && g->version == GIC_V2)
		r = gic_reg(c, node, 2, false, &g->gich, NULL);
	if (!r && g->version == GIC_V2)
		r = gic_reg(c, node, 3, false, &g->gicv, NULL);
	if (r)
		return r;
	irq = fdt_getprop(c->fdt, node, "interrupts", &len);
	if (!irq)
		return 0;   /* no maintenance interrupt described */
	if (len < 12 || gic_intid(irq, &g->maint_intid))
		return fail(c, -EINVAL, "%s: bad `interrupts`", path_of(c, node));
	return 0;
}

/* Architected timer PPIs (secure phys, phys, virt, hyp phys) and freq. */
static int parse_timer(struct ctx *c)
{
	struct board_timer *t = &c->b->timer;
	u32 *intid[] = {
		&t->sec_phys_intid, &t->phys_intid, &t->virt_intid,
		&t->hyp_phys_intid,
	};
	const u8 *irq;
	int node = fdt_find_compatible(c->fdt, -1, "arm,armv8-timer"), len, r;

	if (node < 0)
		return fail(c, node, "no timer compatible with arm,armv8-timer");
	irq = fdt_getprop(c->fdt, node, "interrupts", &len);
	if (!irq || len < 48 || len % 12)
		return fail(c, -EINVAL, "%s: `interrupts` must hold at least 4 "
			    "3-cell entries", path_of(c, node));
	for (unsigned int i = 0; i < ARRAY_SIZE(intid); i++) {
		if (fdt_prop_u32(irq + 12 * i, 0) != 1 ||
		    gic_intid(irq + 12 * i, intid[i]))
			return fail(c, -EINVAL, "%s: interrupt %u is not a PPI",
				    path_of(c, node), i);
	}
	r = fdt_getprop_u32(c->fdt, node, "clock-frequency", &t->freq_hz);
	if (r && r != -ENOENT)
		return fail(c, r, "%s: bad `clock-frequency`", path_of(c, node));
	return 0;
}

/* PSCI conduit; no PSCI node is fine (spin tables), a bad one is not. */
static int parse_psci(struct ctx *c)
{
	static const char *const psci[] = {
		"arm,psci-1.0", "arm,psci-0.2", "arm,psci", NULL,
	};
	int node = find_any(c->fdt, psci);

	c->b->psci = PSCI_NONE;
	if (node == -ENOENT)
		return 0;
	if (node < 0)
		return fail(c, node, "malformed device tree while looking for psci");
	if (prop_is(c->fdt, node, "method", "smc"))
		c->b->psci = PSCI_SMC;
	else if (prop_is(c->fdt, node, "method", "hvc"))
		c->b->psci = PSCI_HVC;
	else
		return fail(c, -EINVAL, "%s: `method` must be \"smc\" or \"hvc\"",
			    path_of(c, node));
	return 0;
}

/* Every CPU started through PSCI needs a PSCI node. */
static int check_psci_cpus(struct ctx *c)
{
	for (unsigned int i = 0; i < c->b->ncpus; i++)
		if (c->b->cpus[i].enable == CPU_ENABLE_PSCI &&
		    c->b->psci == PSCI_NONE)
			return fail(c, -ENOENT, "CPU with MPIDR 0x%llx uses PSCI "
				    "but there is no psci node",
				    (unsigned long long)c->b->cpus[i].mpidr);
	return 0;
}

/* /chosen bootargs, if any (must be NUL-terminated within the property). */
static int parse_bootargs(struct ctx *c)
{
	int chosen = fdt_path_offset(c->fdt, "/chosen"), len;

	c->b->bootargs = NULL;
	if (chosen < 0 || !fdt_getprop(c->fdt, chosen, "bootargs", &len))
		return 0;
	c->b->bootargs = fdt_getprop_str(c->fdt, chosen, "bootargs");
	if (!c->b->bootargs)
		return fail(c, -EINVAL, "/chosen: `bootargs` is not NUL-terminated");
	return 0;
}

int board_from_fdt(const void *fdt, struct board *b, char *err, size_t errlen)
{
	struct ctx c = { .fdt = fdt, .b = b, .err = err, .errlen = errlen };
	int root, r;

	if (err && errlen)
		err[0] = '\0';
	if (!b)
		return fail(&c, -EINVAL, "no board to fill");
	zero(b, sizeof(*b));
	r = fdt_check(fdt, FDT_SIZE_UNKNOWN);
	if (r)
		return fail(&c, r, "device tree header or structure is malformed");
	root = fdt_root(fdt);
	if (root < 0)
		return fail(&c, root, "device tree has no root node");
	parse_model(&c, root);
	r = parse_memory(&c);
	if (!r)
		r = parse_reserved(&c);
	if (!r)
		r = parse_cpus(&c);
	if (!r)
		r = parse_uart(&c);
	if (!r)
		r = parse_gic(&c);
	if (!r)
		r = parse_timer(&c);
	if (!r)
		r = parse_psci(&c);
	if (!r)
		r = check_psci_cpus(&c);
	if (!r)
		r = parse_bootargs(&c);
	return r;
}
