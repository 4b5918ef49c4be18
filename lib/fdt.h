/*
 * Read-only access to a flattened device tree (DTB, version 16/17): header
 * check, node walking, properties, paths, aliases, phandles and `reg`
 * translated through `ranges`. Every read is bounds-checked against the
 * header's block sizes, so a malformed blob gives an error, not a fault.
 */
#ifndef LIB_FDT_H
#define LIB_FDT_H

#include "lib/types.h"

#define FDT_MAGIC 0xd00dfeedu
#define FDT_HEADER_SIZE 40u
/* Structure block tokens, shared by the reader and lib/fdt_write.c. */
#define FDT_BEGIN_NODE 1u
#define FDT_END_NODE 2u
#define FDT_PROP 3u
#define FDT_NOP 4u
#define FDT_END 9u
#define FDT_MAX_SIZE 0x10000000u   /* largest totalsize accepted (256 MiB) */
#define FDT_MAX_DEPTH 64           /* deepest node nesting accepted */
#define FDT_SIZE_UNKNOWN ((size_t)-1)

/*
 * Node offsets are ints: >= 0 is a node (its offset in the structure
 * block), < 0 is a negative errno (-ENOENT: no such node; -EINVAL:
 * malformed blob; -ERANGE: beyond what this reader supports).
 */

/*
 * Validate the header and walk the whole structure block once: magic,
 * version >= 16 with last_comp_version <= 17, block offsets and sizes
 * within totalsize (and within @bufsize, the bytes readable at @fdt, or
 * FDT_SIZE_UNKNOWN to trust totalsize), every token, name and property in
 * bounds, nesting balanced, a single root, the reservation map terminated.
 * Returns 0 or -EINVAL. Call once before anything else.
 */
int fdt_check(const void *fdt, size_t bufsize);

/* The header's totalsize (0 when the magic is wrong). */
u32 fdt_totalsize(const void *fdt);

/* The root node (normally 0), or a negative errno. */
int fdt_root(const void *fdt);

/* First child of @node, or -ENOENT when it has none. */
int fdt_first_child(const void *fdt, int node);

/* Next node after @node with the same parent, or -ENOENT. */
int fdt_next_sibling(const void *fdt, int node);

/* Parent of @node (one walk from the root), -ENOENT for the root. */
int fdt_parent(const void *fdt, int node);

/* Next node in depth-first document order after @node (any negative
 * @node: the root), or -ENOENT after the last one. */
int fdt_next_node(const void *fdt, int node);

/* The node's name with unit address ("cpu@1"; "" for the root), or NULL. */
const char *fdt_node_name(const void *fdt, int node);

/*
 * Write the full path of @node ("/cpus/cpu@1") into @buf (@len bytes,
 * always NUL-terminated, truncated if short). Returns 0 or a negative
 * errno (-ENOSPC when truncated).
 */
int fdt_node_path(const void *fdt, int node, char *buf, size_t len);

/*
 * Property @name of @node: a pointer to its value (inside the blob, not
 * aligned) and its length in *@lenp (may be NULL). Returns NULL when absent
 * or malformed, with *@lenp set to -ENOENT or -EINVAL.
 */
const void *fdt_getprop(const void *fdt, int node, const char *name, int *lenp);

/* Property @name as a string, or NULL if absent or not NUL-terminated
 * within its length. */
const char *fdt_getprop_str(const void *fdt, int node, const char *name);

/* Property @name as one u32 cell: 0, -ENOENT, or -EINVAL if not 4 bytes. */
int fdt_getprop_u32(const void *fdt, int node, const char *name, u32 *val);

/* True when string list property @name of @node contains @str. */
bool fdt_prop_has_string(const void *fdt, int node, const char *name,
			 const char *str);

/* True when @node's `compatible` list contains @compat. */
bool fdt_is_compatible(const void *fdt, int node, const char *compat);

/* True when `status` is absent, "okay" or "ok". */
bool fdt_is_enabled(const void *fdt, int node);

/* True when the @len bytes at @val (a property value; NULL: false), a
 * list of NUL-terminated strings, contain @str. */
bool fdt_strlist_has(const void *val, int len, const char *str);

/* A set of up to 32 strings to look for in string lists, with a filter
 * on their first bytes; fill with fdt_strset_init(). */
struct fdt_strset {
	const char *const *strs;
	unsigned int n;
	unsigned int prefix;  /* length of the prefix all strings share */
	u32 first[8];         /* bit c: some string starts with byte c */
};

/* Make @set of @strs[0 .. @n - 1] (the first 32 at most; @strs is kept). */
void fdt_strset_init(struct fdt_strset *set, const char *const *strs,
		     unsigned int n);

/* Which strings of @set the string list @val (@len bytes, NULL: none)
 * contains, as a mask (bit i: strs[i]), in one pass over the list. */
u32 fdt_strset_match(const struct fdt_strset *set, const void *val, int len);

/* First node after @start_after (negative: from the root) compatible
 * with @compat, or -ENOENT. */
int fdt_find_compatible(const void *fdt, int start_after, const char *compat);

/* Cell @index (big-endian u32) of a property value; the caller checks the
 * length. */
u32 fdt_prop_u32(const void *prop, unsigned int index);

/* A number of @ncells (0, 1 or 2) big-endian cells at @p. */
u64 fdt_read_cells(const void *p, unsigned int ncells);

/*
 * Node at @path: absolute ("/soc/serial@7e201000"; a component without
 * unit address matches the first "name@..." child) or starting with an
 * alias from /aliases ("serial1", "serial1/child"). The path ends at its
 * NUL or at the first ':' (stdout-path options such as ":115200n8").
 * Returns the node or a negative errno (-ENOENT: no such node or alias).
 */
int fdt_path_offset(const void *fdt, const char *path);

/* Node whose `phandle` (or `linux,phandle`) is @phandle, or -ENOENT. */
int fdt_node_by_phandle(const void *fdt, u32 phandle);

/*
 * #address-cells and #size-cells that govern @node's `reg`: those of its
 * parent, defaulting to 2 and 1. -EINVAL for a value above 4.
 */
int fdt_reg_cells(const void *fdt, int node, u32 *addr_cells, u32 *size_cells);

/*
 * Entry @index of @node's `reg` as written (in the parent bus's address
 * space). 0, -ENOENT (no `reg` or no such entry), -EINVAL (malformed) or
 * -ERANGE (more than 2 address or size cells).
 */
int fdt_reg_raw(const void *fdt, int node, unsigned int index, u64 *addr,
		u64 *size);

/*
 * Entry @index of @node's `reg` translated to the CPU's physical address
 * through every ancestor's `ranges` (empty `ranges`: identity; no `ranges`
 * below the root: -ENOENT, not translatable; no window covering the
 * region: -ERANGE).
 */
int fdt_reg(const void *fdt, int node, unsigned int index, u64 *addr,
	    u64 *size);

/* Entry @index of the memory reservation block: 0, or -ENOENT past the
 * last entry, or -EINVAL. */
int fdt_memreserve(const void *fdt, unsigned int index, u64 *addr, u64 *size);

/*
 * One depth-first pass over every node below the root, for callers that
 * look at many nodes: fdt_walk() validates the header once, reads each
 * token once and keeps the ancestors of the node it visits, so that
 * fdt_visit_reg() translates `reg` with no search for parents. Functions
 * that take a node offset each walk from the root (or rescan the tree)
 * instead; calling them for every node costs quadratic time.
 */
struct fdt_walk;                 /* the walk's state, private to fdt.c */

/* A node being visited, with the properties read on the way past it. */
struct fdt_visit {
	int node;
	int parent;                  /* -ENOENT for the root */
	unsigned int depth;          /* 0 for the root */
	const char *name;            /* as fdt_node_name() */
	const void *compatible;      /* `compatible` value, NULL if absent */
	int compatible_len;
	const void *device_type;     /* `device_type` value, NULL if absent */
	int device_type_len;
	const void *status;          /* `status` value, NULL if absent */
	int status_len;
	const struct fdt_walk *walk; /* for fdt_visit_reg() */
};

/* fdt_is_enabled() of the visited node. */
bool fdt_visit_enabled(const struct fdt_visit *v);

/* Called for each node; a non-zero return stops the walk. */
typedef int (*fdt_visit_fn)(const struct fdt_visit *v, void *arg);

/*
 * Call @visit (NULL: none) for every node in document order, each after
 * its parent, checking the blob as fdt_check(@fdt, FDT_SIZE_UNKNOWN) does
 * on the way. Returns 0 when all were visited and the blob is sound, the
 * first non-zero value @visit returned, or a negative errno: -EINVAL for
 * a malformed blob, -ERANGE for nodes nested deeper than FDT_MAX_DEPTH;
 * either may come after some nodes were visited.
 */
int fdt_walk(const void *fdt, fdt_visit_fn visit, void *arg);

/*
 * fdt_reg() and fdt_reg_raw() of the visited node, at no search cost. Only
 * during its visit: later in the same walk they return -EINVAL, and once
 * fdt_walk() has returned @v must not be used with them at all.
 */
int fdt_visit_reg(const struct fdt_visit *v, unsigned int index, u64 *addr,
		  u64 *size);
int fdt_visit_reg_raw(const struct fdt_visit *v, unsigned int index,
		      u64 *addr, u64 *size);

/* fdt_node_path() of the visited node, on the same terms. */
int fdt_visit_path(const struct fdt_visit *v, char *buf, size_t len);

#ifdef HOST_TEST
/* Structure block tokens decoded so far, to bound the cost in tests. */
extern unsigned long fdt_tokens_read;
#endif

#endif
