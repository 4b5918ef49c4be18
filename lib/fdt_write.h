/*
 * Sequential writer of flattened device trees (DTB version 17) into a
 * caller-supplied buffer: nodes and properties in document order, property
 * names shared through a de-duplicated strings block, an empty memory
 * reservation block. The reader side is lib/fdt.h (whose fdt_prop_*()
 * read values: the writer's calls are named fdt_property_*()).
 *
 * Errors stick: every call checks the space left and its arguments, and
 * the first failure (-ENOSPC: the buffer is full; -EINVAL: a call out of
 * order or a bad argument) is kept and returned by every later call,
 * which then writes nothing. A caller may issue a whole tree and check
 * only fdt_finish()'s result.
 */
#ifndef LIB_FDT_WRITE_H
#define LIB_FDT_WRITE_H

#include "lib/types.h"

/*
 * A DTB being written. Layout inside buf while writing:
 *   [0, FDT_HEADER_SIZE)  header, filled in by fdt_finish()
 *   then the reservation block (one empty entry), the structure block
 *   growing up to st_end, free space, and the strings block growing
 *   down from the end of the buffer.
 * fdt_finish() moves the strings block down to follow the structure block.
 * The fields are private to lib/fdt_write.c.
 */
struct fdt_writer {
	u8 *buf;
	u32 size;          /* usable bytes of buf (capped to FDT_MAX_SIZE) */
	u32 st_end;        /* end of the structure block so far */
	u32 str_size;      /* bytes of strings at buf[size - str_size, size) */
	unsigned int depth;   /* nodes begun and not yet ended */
	bool props_ok;     /* no child yet in the current node: props may come */
	bool root_done;    /* the root node was begun */
	bool finished;     /* fdt_finish() succeeded: nothing more to add */
	int err;           /* first error, 0 while none */
};

/*
 * Start a DTB in @buf (@size bytes; give it 8-byte alignment, which
 * consumers such as Linux require of a blob in memory). Returns 0, or
 * -EINVAL for a NULL @buf with a non-zero @size, -ENOSPC for a buffer too
 * small for the header; both stick.
 */
int fdt_create(struct fdt_writer *w, void *buf, size_t size);

/*
 * Begin node @name: the first call begins the root, whose name is ""; any
 * other name is non-empty and holds no '/'. Only one root.
 */
int fdt_begin_node(struct fdt_writer *w, const char *name);

/* Begin node "<@name>@<@unit>", the unit address in lower-case hex with no
 * leading zeros, as the unit-address convention writes it. */
int fdt_begin_node_at(struct fdt_writer *w, const char *name, u64 unit);

/* End the node begun last. */
int fdt_end_node(struct fdt_writer *w);

/*
 * Property @name (non-empty) with the @len bytes at @data (NULL when @len
 * is 0: an empty property such as `interrupt-controller`). Properties of
 * a node come before its first child: after a child, -EINVAL.
 */
int fdt_property(struct fdt_writer *w, const char *name, const void *data,
		 u32 len);

/* One big-endian cell. */
int fdt_property_u32(struct fdt_writer *w, const char *name, u32 val);

/* Two big-endian cells, high word first. */
int fdt_property_u64(struct fdt_writer *w, const char *name, u64 val);

/* @n big-endian cells from @cells. */
int fdt_property_cells(struct fdt_writer *w, const char *name,
		       const u32 *cells, unsigned int n);

/* A NUL-terminated string. */
int fdt_property_string(struct fdt_writer *w, const char *name, const char *s);

/* A string list: @strs[0 .. @n - 1], each with its NUL, @n >= 1. */
int fdt_property_strings(struct fdt_writer *w, const char *name,
			 const char *const *strs, unsigned int n);

/*
 * Close the tree (every node ended) and lay out the header and strings
 * block. Returns the blob's total size, or the first error.
 */
int fdt_finish(struct fdt_writer *w);

#endif
