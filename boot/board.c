/*
 * board_from_fdt(): fills struct board (memory, reservations, CPUs, console
 * UART, GIC, timer, PSCI, bootargs) from the boot loader's device tree.
 *
 * Cost: one fdt_walk() checks the whole blob (as fdt_check() would), reads
 * the memory nodes and notes every other node the parse needs: top-level
 * nodes by name, and the first node for each compatible string of
 * interest, with its `reg` translated while the walk knows its ancestors.
 * The later steps start from those nodes instead of searching the tree
 * again. Errors are still reported in the order of the steps below, so
 * the one reported does not depend on where nodes sit in the blob.
 */
#include <stdarg.h>

#include "lib/types.h"
#include "lib/compiler.h"
#include "lib/errno.h"
#include "lib/fdt.h"
#include "lib/string.h"
#include "boot/board.h"

#define PATH_LEN 128
#define PICK_REGS 4   /* `reg` entries kept for a picked node */
#define ANC_MAX 8     /* ancestors of the first PL011 kept by the walk */
#define FIRST_SPI_INTID 32   /* INTIDs below are SGIs and PPIs */

/* Compatible strings the walk looks for, in each group's order of
 * preference. */
enum pick_id {
	PICK_PL011,
	PICK_GICV3, PICK_GIC400, PICK_GIC_A15, PICK_GIC_A7,
	PICK_TIMER,
	PICK_PSCI_1_0, PICK_PSCI_0_2, PICK_PSCI,
	NR_PICKS,
};

static const char *const pick_compat[NR_PICKS] = {
	[PICK_PL011] = "arm,pl011",
	[PICK_GICV3] = "arm,gic-v3",
	[PICK_GIC400] = "arm,gic-400",
	[PICK_GIC_A15] = "arm,cortex-a15-gic",
	[PICK_GIC_A7] = "arm,cortex-a7-gic",
	[PICK_TIMER] = "arm,armv8-timer",
	[PICK_PSCI_1_0] = "arm,psci-1.0",
	[PICK_PSCI_0_2] = "arm,psci-0.2",
	[PICK_PSCI] = "arm,psci",
};

static const struct pick_spec {
	bool any_status;       /* take it even when disabled */
	unsigned int nregs;    /* `reg` entries to translate on the way */
} pick_specs[NR_PICKS] = {
	[PICK_PL011] = { false, 1 },
	[PICK_GICV3] = { false, 2 },
	[PICK_GIC400] = { false, PICK_REGS },
	[PICK_GIC_A15] = { false, PICK_REGS },
	[PICK_GIC_A7] = { false, PICK_REGS },
	[PICK_TIMER] = { true, 0 },
	[PICK_PSCI_1_0] = { false, 0 },
	[PICK_PSCI_0_2] = { false, 0 },
	[PICK_PSCI] = { false, 0 },
};

/* The first node in document order matching a pick_spec. */
struct pick {
	int node;                  /* -ENOENT: none */
	unsigned int nregs;        /* entries translated below */
	s8 r[PICK_REGS];           /* fdt_reg() result for each entry */
	paddr_t base[PICK_REGS];
	u64 size[PICK_REGS];
};

#define SP_MAX_COMPS 16   /* components of a stdout-path matched early */
#define SP_EARLY 8        /* root children remembered until it is known */

/*
 * /chosen stdout-path, resolved during the walk when /chosen (and
 * /aliases, for an alias) come before the node it names, as they do in
 * most DTBs. Its components are matched level by level as the walk enters
 * nodes, with the rule of fdt_path_offset(): at each level the first child
 * named as the component (or "component@...", for one without '@'). In
 * any other case (state not SP_FOUND at the end) stdout_node() looks the
 * path up after the walk, and also reports what is wrong with it.
 */
struct sp_track {
	enum { SP_WAIT, SP_ARMED, SP_FOUND, SP_OFF } state;
	char path[PATH_LEN];             /* absolute, alias expanded */
	unsigned int ncomps, matched;
	u8 start[SP_MAX_COMPS], len[SP_MAX_COMPS];
	int node[SP_MAX_COMPS + 1];      /* [0]: the root, [k]: component k */
	unsigned int nearly;             /* > SP_EARLY: too many to tell */
	int early[SP_EARLY];             /* root children seen while waiting */
};

/* What a parse step needs: the blob, the result and the error buffer. */
struct ctx {
	const void *fdt;
	struct board *b;
	char *err;
	size_t errlen;
	char path[PATH_LEN];
	/* Found by the walk (-ENOENT when absent): */
	int cpus;                  /* /cpus */
	int chosen;                /* /chosen */
	int aliases;               /* /aliases */
	int reserved;              /* /reserved-memory */
	struct sp_track sp;
	struct pick picks[NR_PICKS];
	struct fdt_strset pick_set;  /* pick_compat */
	int mem_err;               /* first memory error, already in err */
	/* /cpus children with device_type "cpu", in order, with the result
	 * of reading their `reg` into b->cpus[i].mpidr. */
	unsigned int ncpu_nodes;
	bool cpu_overflow;         /* more than BOARD_MAX_CPUS of them */
	int cpu_node[BOARD_MAX_CPUS];
	s8 cpu_reg[BOARD_MAX_CPUS];   /* a negative errno fits */
	/* Nodes on the walk's current path, by depth (the first ANC_MAX),
	 * and the ancestors of the first enabled PL011 (root first) copied
	 * from them as the walk passes it, so that its interrupt parent is
	 * found with no search. pl011_nanc 0: not kept (none, too deep). */
	int open[ANC_MAX];
	unsigned int pl011_nanc;
	int pl011_anc[ANC_MAX];
	int uart;                  /* console UART, if a PL011 (parse_uart) */
	int gic;                   /* the GIC node (parse_gic) */
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

/* Same, for the node @v visits (no second walk inside the first). */
static const char *visit_path_of(struct ctx *c, const struct fdt_visit *v)
{
	if (fdt_visit_path(v, c->path, sizeof(c->path)) == -EINVAL)
		return "(bad node)";
	return c->path;
}

/* Path of @node for messages: from its visit @v when there is one. */
static const char *node_path_of(struct ctx *c, int node,
				const struct fdt_visit *v)
{
	return v ? visit_path_of(c, v) : path_of(c, node);
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

/* True when property value @v (@len bytes, NULL: absent) is a string,
 * NUL-terminated within its length, equal to @s. */
static bool value_is(const char *v, int len, const char *s)
{
	int i = 0;

	if (!v)
		return false;
	while (i < len && v[i] && v[i] == s[i])
		i++;
	return i < len && v[i] == '\0' && s[i] == '\0';
}

/* True when string property @name of @node is exactly @s. */
static bool prop_is(const void *fdt, int node, const char *name, const char *s)
{
	int len;
	const char *v = fdt_getprop(fdt, node, name, &len);

	return value_is(v, len, s);
}

/* True when node name @name is path component @s: equal, or "s@...". */
static bool name_is(const char *name, const char *s)
{
	while (*s && *name == *s) {
		name++;
		s++;
	}
	return *s == '\0' && (*name == '\0' || *name == '@');
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

/*
 * Every `reg` entry of @node with a non-zero size into a range table.
 * @v: @node's visit during the walk (its ancestors are known), or NULL.
 */
static int add_regs(struct ctx *c, int node, const struct fdt_visit *v,
		    struct mem_range *t, unsigned int *n, unsigned int max,
		    const char *what)
{
	u64 base, size;

	for (unsigned int i = 0;; i++) {
		int r = v ? fdt_visit_reg(v, i, &base, &size) :
			    fdt_reg(c->fdt, node, i, &base, &size);

		if (r == -ENOENT)
			return 0;   /* past the last entry, or no `reg` */
		if (r)
			return fail(c, r, "%s: bad `reg` entry %u",
				    node_path_of(c, node, v), i);
		if (size == 0)
			continue;   /* placeholder for the firmware to fill */
		if (base + size < base)
			return fail(c, -ERANGE, "%s: `reg` entry %u wraps past 2^64",
				    node_path_of(c, node, v), i);
		if (!add_range(t, n, max, base, size))
			return fail(c, -ENOSPC, "%s: more than %u %s ranges",
				    node_path_of(c, node, v), max, what);
	}
}

/* Top-level nodes the parse steps start from, by name (first wins). */
static void note_top_level(struct ctx *c, const struct fdt_visit *v)
{
	if (c->cpus == -ENOENT && name_is(v->name, "cpus"))
		c->cpus = v->node;
	else if (c->chosen == -ENOENT && name_is(v->name, "chosen"))
		c->chosen = v->node;
	else if (c->aliases == -ENOENT && name_is(v->name, "aliases"))
		c->aliases = v->node;
	else if (c->reserved == -ENOENT && name_is(v->name, "reserved-memory"))
		c->reserved = v->node;
}

/* /chosen stdout-path, or linux,stdout-path, or NULL. */
static const char *stdout_path(const struct ctx *c)
{
	const char *sp;

	if (c->chosen < 0)
		return NULL;
	sp = fdt_getprop_str(c->fdt, c->chosen, "stdout-path");
	return sp ? sp : fdt_getprop_str(c->fdt, c->chosen, "linux,stdout-path");
}

/* True when node name @name is path component @s (@n bytes), as
 * fdt_path_offset() matches it. */
static bool comp_is(const char *name, const char *s, unsigned int n)
{
	bool has_unit = false;
	unsigned int i;

	for (i = 0; i < n; i++)
		has_unit |= s[i] == '@';
	for (i = 0; i < n && name[i] == s[i]; i++)
		;
	return i == n && (name[n] == '\0' || (!has_unit && name[n] == '@'));
}

/* Append the @n bytes at @s to the path; false if it would not fit. */
static bool sp_append(struct sp_track *t, size_t *pos, const char *s, size_t n)
{
	if (*pos + n >= sizeof(t->path))
		return false;
	for (size_t i = 0; i < n; i++)
		t->path[(*pos)++] = s[i];
	t->path[*pos] = '\0';
	return true;
}

/* The absolute path @sp names, alias expanded, into t->path. False when
 * it cannot be matched early (yet): malformed, unknown, too long. */
static bool sp_expand(struct ctx *c, const char *sp)
{
	struct sp_track *t = &c->sp;
	char alias[PATH_LEN];
	size_t n = 0, a = 0, pos = 0;
	const char *v;
	int len, tn = 0;

	while (sp[n] && sp[n] != ':')
		n++;
	if (sp[0] == '/')
		return sp_append(t, &pos, sp, n);
	while (a < n && sp[a] != '/')
		a++;
	if (a == 0 || a >= sizeof(alias) || c->aliases < 0)
		return false;
	for (size_t i = 0; i < a; i++)
		alias[i] = sp[i];
	alias[a] = '\0';
	v = fdt_getprop(c->fdt, c->aliases, alias, &len);
	while (v && tn < len && v[tn])
		tn++;
	if (!v || tn == len || tn == 0 || v[0] != '/')
		return false;
	return sp_append(t, &pos, v, (size_t)tn) &&
	       sp_append(t, &pos, sp + a, n - a);
}

/* Split t->path into components; false if there are too many. */
static bool sp_split(struct sp_track *t)
{
	unsigned int i = 0, start;

	t->ncomps = 0;
	while (t->path[i]) {
		if (t->path[i] == '/') {
			i++;
			continue;
		}
		start = i;
		while (t->path[i] && t->path[i] != '/')
			i++;
		if (t->ncomps == SP_MAX_COMPS || i - start > 255)
			return false;
		t->start[t->ncomps] = (u8)start;
		t->len[t->ncomps++] = (u8)(i - start);
	}
	return true;
}

/* Once /chosen (and /aliases for an alias) are known: start matching, or
 * give up when a root child already passed may be the first match. */
static void sp_arm(struct ctx *c)
{
	struct sp_track *t = &c->sp;
	const char *sp = stdout_path(c);

	if (!sp || !sp_expand(c, sp))
		return;   /* wait for /aliases, or look it up afterwards */
	t->state = SP_OFF;
	if (!sp_split(t) || t->nearly > SP_EARLY)
		return;
	for (unsigned int i = 0; t->ncomps && i < t->nearly; i++) {
		const char *name = fdt_node_name(c->fdt, t->early[i]);

		if (!name || comp_is(name, t->path + t->start[0], t->len[0]))
			return;
	}
	t->matched = 0;
	t->state = t->ncomps ? SP_ARMED : SP_FOUND;
}

/* Follow the stdout-path as the walk enters @v. */
static void sp_visit(struct ctx *c, const struct fdt_visit *v)
{
	struct sp_track *t = &c->sp;
	unsigned int k = t->matched;

	if (v->depth == 0)
		t->node[0] = v->node;
	if (t->state == SP_WAIT && v->depth == 1) {
		if (t->nearly < SP_EARLY)
			t->early[t->nearly] = v->node;
		if (t->nearly <= SP_EARLY)
			t->nearly++;
		if (v->node == c->chosen || (v->node == c->aliases && c->chosen >= 0))
			sp_arm(c);
		return;
	}
	if (t->state != SP_ARMED || v->depth != k + 1 ||
	    v->parent != t->node[k] ||
	    !comp_is(v->name, t->path + t->start[k], t->len[k]))
		return;
	t->node[++t->matched] = v->node;
	if (t->matched == t->ncomps)
		t->state = SP_FOUND;
}

/* Make @v pick @p, translating the `reg` entries it will be asked for. */
static void take_pick(struct pick *p, const struct pick_spec *spec,
		      const struct fdt_visit *v)
{
	p->node = v->node;
	p->nregs = spec->nregs;
	for (unsigned int i = 0; i < p->nregs; i++)
		p->r[i] = (s8)fdt_visit_reg(v, i, &p->base[i], &p->size[i]);
}

/* Keep the ancestors of @v, the first enabled PL011 (see ctx). */
static void note_pl011_ancestors(struct ctx *c, const struct fdt_visit *v)
{
	if (v->depth > ANC_MAX)
		return;
	for (unsigned int d = 0; d < v->depth; d++)
		c->pl011_anc[d] = c->open[d];
	c->pl011_nanc = v->depth;
}

/* Let @v take every pick still open that it matches (one pass over its
 * `compatible` for all of them). */
static void note_picks(struct ctx *c, const struct fdt_visit *v)
{
	u32 m = fdt_strset_match(&c->pick_set, v->compatible, v->compatible_len);

	for (unsigned int i = 0; m; i++, m >>= 1) {
		const struct pick_spec *spec = &pick_specs[i];

		if ((m & 1) && c->picks[i].node == -ENOENT &&
		    (spec->any_status || fdt_visit_enabled(v))) {
			take_pick(&c->picks[i], spec, v);
			if (i == PICK_PL011)
				note_pl011_ancestors(c, v);
		}
	}
}

/* Record the CPU node @v (a child of /cpus); parse_cpu() does the rest. */
static void note_cpu(struct ctx *c, const struct fdt_visit *v)
{
	unsigned int i = c->ncpu_nodes;
	u64 size;

	if (i == BOARD_MAX_CPUS) {
		c->cpu_overflow = true;
		return;
	}
	c->cpu_node[i] = v->node;
	c->cpu_reg[i] = (s8)fdt_visit_reg_raw(v, 0, &c->b->cpus[i].mpidr, &size);
	c->ncpu_nodes++;
}

/*
 * Called by fdt_walk() for every node: adds each enabled memory node's
 * ranges, up to the first memory error, and notes what later steps need.
 * It never stops the walk, so that the walk checks the whole blob: a
 * malformed blob is reported as such whatever memory errors it holds.
 */
static int visit_node(const struct fdt_visit *v, void *arg)
{
	struct ctx *c = arg;
	struct board *b = c->b;

	if (v->depth < ANC_MAX)
		c->open[v->depth] = v->node;
	if (v->depth == 1)
		note_top_level(c, v);
	sp_visit(c, v);
	if (v->compatible)
		note_picks(c, v);
	if (v->parent == c->cpus && v->parent >= 0 &&
	    value_is(v->device_type, v->device_type_len, "cpu"))
		note_cpu(c, v);
	if (!c->mem_err &&
	    value_is(v->device_type, v->device_type_len, "memory") &&
	    fdt_visit_enabled(v))
		c->mem_err = add_regs(c, v->node, v, b->mem, &b->nmem,
				      BOARD_MAX_MEM, "memory");
	return 0;
}

/* The walk: checks the blob and does everything visit_node() does. */
static int walk_tree(struct ctx *c)
{
	int r;

	c->cpus = c->chosen = c->aliases = c->reserved = -ENOENT;
	c->sp.state = SP_WAIT;
	c->sp.nearly = 0;
	for (unsigned int i = 0; i < NR_PICKS; i++)
		c->picks[i].node = -ENOENT;
	fdt_strset_init(&c->pick_set, pick_compat, NR_PICKS);
	c->mem_err = 0;
	c->ncpu_nodes = 0;
	c->cpu_overflow = false;
	c->pl011_nanc = 0;
	c->uart = c->gic = -ENOENT;
	r = fdt_walk(c->fdt, visit_node, c);
	if (r) {
		memset(c->b, 0, sizeof(*c->b));   /* as if never started */
		return fail(c, -EINVAL, "device tree header or structure is malformed");
	}
	return 0;
}

/* Every enabled node with device_type "memory", as the walk found them. */
static int parse_memory(struct ctx *c)
{
	if (c->mem_err)
		return c->mem_err;
	if (c->b->nmem == 0)
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
	if (c->reserved == -ENOENT)
		return 0;
	for (node = fdt_first_child(c->fdt, c->reserved); node >= 0;
	     node = fdt_next_sibling(c->fdt, node)) {
		if (!fdt_is_enabled(c->fdt, node) ||
		    !fdt_getprop(c->fdt, node, "reg", NULL))
			continue;
		r = add_regs(c, node, NULL, b->reserved, &b->nreserved,
			     BOARD_MAX_RESERVED, "reserved");
		if (r)
			return r;
	}
	return node == -ENOENT ? 0 : fail(c, node, "/reserved-memory: malformed");
}

/* CPU node @i as the walk found it: MPIDR from `reg` (read by then),
 * enable method, release address. */
static int parse_cpu(struct ctx *c, unsigned int i, struct board_cpu *cpu)
{
	const void *p;
	int node = c->cpu_node[i], len, r = (int)c->cpu_reg[i];

	if (r == -ENOENT)
		return fail(c, r, "%s: no `reg`", path_of(c, node));
	if (r)
		return fail(c, r, "%s: bad `reg`", path_of(c, node));
	cpu->enable = CPU_ENABLE_NONE;
	cpu->release_addr = 0;
	p = fdt_getprop(c->fdt, node, "enable-method", &len);
	if (!p && len == -ENOENT)
		return 0;
	if (fdt_strlist_has(p, len, "psci")) {
		cpu->enable = CPU_ENABLE_PSCI;
		return 0;
	}
	if (!fdt_strlist_has(p, len, "spin-table"))
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

	if (c->cpus < 0)
		return fail(c, c->cpus, "/cpus: missing");
	for (unsigned int i = 0; i < c->ncpu_nodes; i++) {
		int r = parse_cpu(c, i, &b->cpus[i]);

		if (r)
			return r;
		b->ncpus++;
	}
	if (c->cpu_overflow)
		return fail(c, -ENOSPC, "/cpus: more than %u CPUs (BOARD_MAX_CPUS)",
			    BOARD_MAX_CPUS);
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

/* The first picked of @n picks in order of preference, or NULL. */
static const struct pick *first_pick(const struct ctx *c,
				     const enum pick_id *ids, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (c->picks[ids[i]].node >= 0)
			return &c->picks[ids[i]];
	return NULL;
}

/* `reg` entry @i of @node: from @p when it picked @node, else looked up. */
static int pick_reg(const struct ctx *c, const struct pick *p, int node,
		    unsigned int i, paddr_t *base, u64 *size)
{
	if (!p || p->node != node || i >= p->nregs)
		return fdt_reg(c->fdt, node, i, base, size);
	if (!p->r[i]) {
		*base = p->base[i];
		*size = p->size[i];
	}
	return p->r[i];
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
	const struct pick *pl011 = &c->picks[PICK_PL011];
	const struct sp_track *t = &c->sp;
	const char *sp = stdout_path(c);
	int node = -ENOENT, r;
	u64 size;

	if (t->state == SP_FOUND) {
		node = t->node[t->ncomps];   /* matched during the walk */
	} else if (sp) {
		node = stdout_node(c, sp);
		if (node < 0)
			return node;
	}
	if ((node < 0 || !fdt_is_compatible(c->fdt, node, "arm,pl011")) &&
	    pl011->node >= 0) {
		c->b->uart_not_stdout = node >= 0;
		node = pl011->node;
	}
	if (node < 0)
		return 0;   /* no console known: the caller decides */
	r = pick_reg(c, pl011, node, 0, &c->b->uart_base, &size);
	if (r)
		return fail(c, r, "%s: console UART without a usable `reg`",
			    path_of(c, node));
	c->b->uart_size = size;
	c->b->uart_is_pl011 = fdt_is_compatible(c->fdt, node, "arm,pl011");
	if (c->b->uart_is_pl011)
		c->uart = node;
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

/* Register region @i of the GIC picked by @p, translated; @need: error
 * if absent. */
static int gic_reg(struct ctx *c, const struct pick *p, unsigned int i,
		   bool need, paddr_t *base, u64 *size)
{
	u64 sz;
	int node = p->node, r = pick_reg(c, p, node, i, base, size ? size : &sz);

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
	static const enum pick_id v3[] = { PICK_GICV3 };
	static const enum pick_id v2[] = {
		PICK_GIC400, PICK_GIC_A15, PICK_GIC_A7,
	};
	struct board_gic *g = &c->b->gic;
	const struct pick *p = first_pick(c, v3, ARRAY_SIZE(v3));
	const void *irq;
	int node, len, r;

	g->version = GIC_V3;
	if (!p) {
		p = first_pick(c, v2, ARRAY_SIZE(v2));
		g->version = GIC_V2;
	}
	if (!p) {
		g->version = GIC_NONE;
		return fail(c, -ENOENT, "no interrupt controller compatible with "
			    "arm,gic-v3 or arm,gic-400");
	}
	node = p->node;
	c->gic = node;
	r = gic_reg(c, p, 0, true, &g->dist, &g->dist_size);
	if (!r)
		r = gic_reg(c, p, 1, true, &g->redist_or_cpuif,
			    &g->redist_or_cpuif_size);
	if (!r && g->version == GIC_V2)
		r = gic_reg(c, p, 2, false, &g->gich, NULL);
	if (!r && g->version == GIC_V2)
		r = gic_reg(c, p, 3, false, &g->gicv, NULL);
	if (r)
		return r;
	irq = fdt_getprop(c->fdt, node, "interrupts", &len);
	if (!irq)
		return 0;   /* no maintenance interrupt described */
	if (len < 12 || gic_intid(irq, &g->maint_intid))
		return fail(c, -EINVAL, "%s: bad `interrupts`", path_of(c, node));
	return 0;
}

/* The phandle in `interrupt-parent` of @node or of its nearest ancestor
 * that has one: 0, -ENOENT (none has one) or -EINVAL (not one cell). */
static int interrupt_parent(struct ctx *c, int node, u32 *phandle)
{
	bool kept = node == c->picks[PICK_PL011].node && c->pl011_nanc;
	unsigned int up = 0;   /* ancestors looked at, when kept */

	while (node >= 0) {
		int r = fdt_getprop_u32(c->fdt, node, "interrupt-parent", phandle);

		if (r != -ENOENT)
			return r;
		if (!kept)
			node = fdt_parent(c->fdt, node);
		else if (up < c->pl011_nanc)
			node = c->pl011_anc[c->pl011_nanc - 1 - up++];
		else
			node = -ENOENT;
	}
	return -ENOENT;
}

/* True when @phandle names the GIC parse_gic() found. */
static bool is_gic_phandle(struct ctx *c, u32 phandle)
{
	u32 own;

	if (fdt_getprop_u32(c->fdt, c->gic, "phandle", &own) &&
	    fdt_getprop_u32(c->fdt, c->gic, "linux,phandle", &own))
		return false;   /* nothing can name it */
	return own == phandle;
}

/*
 * The console UART's interrupt, when it is an SPI of the GIC: its first
 * `interrupts` entry, with the GIC as interrupt parent. A UART without
 * `interrupts` or wired to another controller gets 0 (the console takes
 * no input); one that names the GIC wrongly is an error.
 */
static int parse_uart_irq(struct ctx *c)
{
	const void *irq;
	u32 parent, cells = 0;
	int len, r;

	if (c->uart < 0)
		return 0;
	irq = fdt_getprop(c->fdt, c->uart, "interrupts", &len);
	if (!irq)
		return 0;
	r = interrupt_parent(c, c->uart, &parent);
	if (r == -ENOENT || (!r && !is_gic_phandle(c, parent)))
		return 0;   /* wired to no controller, or to another one */
	if (!r)
		r = fdt_getprop_u32(c->fdt, c->gic, "#interrupt-cells", &cells);
	if (r)
		return fail(c, -EINVAL, "%s: bad `interrupt-parent`, or the GIC "
			    "has no `#interrupt-cells`", path_of(c, c->uart));
	/* 3 cells, or 4 with GICv3 PPI partitions; the first 3 are read. */
	if (cells < 3 || cells > 4 || len < (int)cells * 4 ||
	    gic_intid(irq, &c->b->uart_intid) ||
	    c->b->uart_intid < FIRST_SPI_INTID) {
		c->b->uart_intid = 0;
		return fail(c, -EINVAL, "%s: bad `interrupts` (an SPI of the GIC "
			    "expected)", path_of(c, c->uart));
	}
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
	int node = c->picks[PICK_TIMER].node, len, r;

	if (node < 0)
		return fail(c, node, "no timer compatible with arm,armv8-timer");
	irq = fdt_getprop(c->fdt, node, "interrupts", &len);
	if (!irq || len < 48 || len % 12)
		return fail(c, -EINVAL, "%s: `interrupts` must hold at least 4 "
			    "3-cell entries", path_of(c, node));
	for (unsigned int i = 0; i < ARRAY_SIZE(intid); i++) {
		if (fdt_prop_u32(irq + (size_t)12 * i, 0) != 1 ||
		    gic_intid(irq + (size_t)12 * i, intid[i]))
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
	static const enum pick_id psci[] = {
		PICK_PSCI_1_0, PICK_PSCI_0_2, PICK_PSCI,
	};
	const struct pick *p = first_pick(c, psci, ARRAY_SIZE(psci));
	int node;

	c->b->psci = PSCI_NONE;
	if (!p)
		return 0;
	node = p->node;
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
	int chosen = c->chosen, len;

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
	memset(b, 0, sizeof(*b));
	r = walk_tree(&c);
	if (r)
		return r;
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
		r = parse_uart_irq(&c);
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
