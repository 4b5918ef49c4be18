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

/* Parent of @node (searched from the root), -ENOENT for the root. */
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

#endif
