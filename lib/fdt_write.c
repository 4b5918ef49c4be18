/*
 * Flattened device tree writer (see lib/fdt_write.h): the structure block
 * is written front to back after the header and reservation block, the
 * strings block grows down from the end of the buffer, and fdt_finish()
 * joins the two and writes the header.
 */
#include "lib/compiler.h"
#include "lib/errno.h"
#include "lib/fdt.h"
#include "lib/fdt_write.h"
#include "lib/string.h"
#include "lib/types.h"

/* The format written, and the oldest one whose readers can read it:
 * version 17 only added size_dt_struct to version 16's header. */
#define FDT_VERSION 17u
#define FDT_LAST_COMP_VERSION 16u

/* Layout: header, reservation block (its terminating all-zero entry of
 * two u64s only), then the structure block. */
#define RSV_OFF FDT_HEADER_SIZE
#define RSV_ENTRY_SIZE 16u
#define ST_OFF (RSV_OFF + RSV_ENTRY_SIZE)

#define PROP_HEAD_SIZE 12u   /* FDT_PROP token, value length, name offset */
#define HEX_U64_LEN 16       /* hex digits of the largest u64 */

_Static_assert(RSV_OFF % 8 == 0, "the reservation block is 8-byte aligned");
_Static_assert(ST_OFF % 4 == 0, "the structure block is 4-byte aligned");

/* Big-endian u32 store and load, byte by byte (no alignment needed). */
static void put_be32(u8 *p, u32 v)
{
	p[0] = (u8)(v >> 24);
	p[1] = (u8)(v >> 16);
	p[2] = (u8)(v >> 8);
	p[3] = (u8)v;
}

static u32 get_be32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

/* Record @err unless an earlier error is already kept; returns the kept one. */
static int fail(struct fdt_writer *w, int err)
{
	if (!w->err)
		w->err = err;
	return w->err;
}

/* Free bytes between the structure and strings blocks. Invariant while
 * no error is kept: st_end + str_size <= size. */
static u32 room(const struct fdt_writer *w)
{
	return w->size - w->str_size - w->st_end;
}

/* @len bytes at the end of the structure block, padded with zeros to the
 * next 4-byte boundary (so every token stays aligned), or NULL with the
 * error kept. */
static u8 *reserve(struct fdt_writer *w, u64 len)
{
	u64 n = ALIGN_UP(len, 4);
	u8 *p;

	if (w->err)
		return NULL;
	if (n > room(w)) {
		fail(w, -ENOSPC);
		return NULL;
	}
	p = w->buf + w->st_end;
	memset(p, 0, n);
	w->st_end += (u32)n;
	return p;
}

/*
 * Distance in *@dist from the end of the buffer to a copy of @name with
 * its NUL in the strings block, adding one when there is none yet. Any
 * match counts, also the tail of a longer name ("phandle" inside
 * "linux,phandle"): a reader takes the bytes from the offset to the NUL.
 */
static int string_dist(struct fdt_writer *w, const char *name, u32 *dist)
{
	size_t n = strlen(name) + 1;
	const u8 *s = w->buf + w->size - w->str_size;

	for (u32 i = 0; i + n <= w->str_size; i++) {
		if (s[i] == (u8)name[0] && memcmp(s + i, name, n) == 0) {
			*dist = w->str_size - i;
			return 0;
		}
	}
	if (n > room(w))
		return fail(w, -ENOSPC);
	w->str_size += (u32)n;
	memcpy(w->buf + w->size - w->str_size, name, n);
	*dist = w->str_size;
	return 0;
}

/*
 * Space for the value of property @name, @len bytes, after its head; NULL
 * with the error kept. Until fdt_finish(), the head's name offset holds
 * the string's distance from the end of the buffer (see string_dist()),
 * since the strings block has not found its place yet.
 */
static u8 *prop_space(struct fdt_writer *w, const char *name, u64 len)
{
	u32 dist;
	u8 *p;

	if (w->err)
		return NULL;
	if (!name || !*name || w->depth == 0 || !w->props_ok) {
		fail(w, -EINVAL);
		return NULL;
	}
	if (len > FDT_MAX_SIZE) {
		fail(w, -ENOSPC);
		return NULL;
	}
	if (string_dist(w, name, &dist))
		return NULL;
	p = reserve(w, PROP_HEAD_SIZE + len);
	if (!p)
		return NULL;
	put_be32(p, FDT_PROP);
	put_be32(p + 4, (u32)len);
	put_be32(p + 8, dist);
	return p + PROP_HEAD_SIZE;
}

/* A name below the root: non-empty, no '/', and no '@' when a unit
 * address is to be appended. */
static bool child_name_ok(const char *name, bool has_unit)
{
	if (!*name)
		return false;
	for (; *name; name++)
		if (*name == '/' || (has_unit && *name == '@'))
			return false;
	return true;
}

/* Begin node @name, or "<@name>@<@unit>" when @unit (hex digits) is given. */
static int node_begin(struct fdt_writer *w, const char *name, const char *unit)
{
	size_t n, u;
	u8 *p;

	if (w->err)
		return w->err;
	if (!name)
		return fail(w, -EINVAL);
	/* One root, named "" with no unit address; then only children. */
	if (w->depth == 0 ? w->root_done || *name || unit :
	    !child_name_ok(name, unit != NULL))
		return fail(w, -EINVAL);
	if (w->depth == FDT_MAX_DEPTH)
		return fail(w, -EINVAL);   /* deeper than lib/fdt.c reads */
	n = strlen(name);
	u = unit ? 1 + strlen(unit) : 0;   /* '@' and the digits */
	p = reserve(w, 4 + (u64)n + u + 1);
	if (!p)
		return w->err;
	put_be32(p, FDT_BEGIN_NODE);
	memcpy(p + 4, name, n);
	if (unit) {
		p[4 + n] = '@';
		memcpy(p + 4 + n + 1, unit, u - 1);
	}
	/* reserve() zeroed the terminating NUL and the padding. */
	w->depth++;
	w->root_done = true;
	w->props_ok = true;
	return 0;
}

/* @v in lower-case hex without leading zeros, NUL-terminated, into @out. */
static void hex_u64(char out[HEX_U64_LEN + 1], u64 v)
{
	static const char digits[] = "0123456789abcdef";
	char rev[HEX_U64_LEN];
	unsigned int n = 0;

	do {
		rev[n++] = digits[v & 0xf];
		v >>= 4;
	} while (v);
	for (unsigned int i = 0; i < n; i++)
		out[i] = rev[n - 1 - i];
	out[n] = '\0';
}

/*
 * Turn every property head's name offset from a distance to the end of
 * the buffer into an offset in the strings block, which will start right
 * after the structure block. The walk reads only tokens this file wrote.
 */
static void fix_name_offsets(struct fdt_writer *w)
{
	u32 off = ST_OFF;

	while (off < w->st_end) {
		u8 *p = w->buf + off;
		u32 tok = get_be32(p);

		if (tok == FDT_BEGIN_NODE) {
			off += 4 + ALIGN_UP((u32)strlen((const char *)p + 4) + 1, 4);
		} else if (tok == FDT_PROP) {
			put_be32(p + 8, w->str_size - get_be32(p + 8));
			off += PROP_HEAD_SIZE + ALIGN_UP(get_be32(p + 4), 4);
		} else {
			off += 4;
		}
	}
}

/* The header, in field order, and the empty reservation block. */
static void write_header(struct fdt_writer *w)
{
	const u32 hdr[] = {
		FDT_MAGIC,
		w->st_end + w->str_size,   /* totalsize */
		ST_OFF,                    /* off_dt_struct */
		w->st_end,                 /* off_dt_strings */
		RSV_OFF,                   /* off_mem_rsvmap */
		FDT_VERSION,
		FDT_LAST_COMP_VERSION,
		0,                         /* boot_cpuid_phys */
		w->str_size,               /* size_dt_strings */
		w->st_end - ST_OFF,        /* size_dt_struct */
	};

	_Static_assert(sizeof(hdr) == FDT_HEADER_SIZE, "every header field");
	for (unsigned int i = 0; i < ARRAY_SIZE(hdr); i++)
		put_be32(w->buf + (size_t)4 * i, hdr[i]);
	memset(w->buf + RSV_OFF, 0, RSV_ENTRY_SIZE);
}

/* ---------------------------------------------------------- public API */

int fdt_create(struct fdt_writer *w, void *buf, size_t size)
{
	*w = (struct fdt_writer){
		.buf = buf,
		.size = (u32)MIN(size, (size_t)FDT_MAX_SIZE),
		.st_end = ST_OFF,
	};
	if (!buf && size)
		return fail(w, -EINVAL);
	/* The header and reservation block are written last, but their
	 * space is taken now. */
	if (w->size < ST_OFF)
		return fail(w, -ENOSPC);
	return 0;
}

int fdt_begin_node(struct fdt_writer *w, const char *name)
{
	return node_begin(w, name, NULL);
}

int fdt_begin_node_at(struct fdt_writer *w, const char *name, u64 unit)
{
	char hex[HEX_U64_LEN + 1];

	hex_u64(hex, unit);
	return node_begin(w, name, hex);
}

int fdt_end_node(struct fdt_writer *w)
{
	u8 *p;

	if (w->err)
		return w->err;
	if (w->depth == 0)
		return fail(w, -EINVAL);
	p = reserve(w, 4);
	if (!p)
		return w->err;
	put_be32(p, FDT_END_NODE);
	w->depth--;
	w->props_ok = false;   /* the parent now has a child */
	return 0;
}

int fdt_property(struct fdt_writer *w, const char *name, const void *data,
		 u32 len)
{
	u8 *p;

	if (!data && len)
		return fail(w, -EINVAL);
	p = prop_space(w, name, len);
	if (p && len)
		memcpy(p, data, len);
	return w->err;
}

int fdt_property_cells(struct fdt_writer *w, const char *name,
		       const u32 *cells, unsigned int n)
{
	u8 *p;

	if (!cells && n)
		return fail(w, -EINVAL);
	p = prop_space(w, name, (u64)4 * n);
	for (unsigned int i = 0; p && i < n; i++)
		put_be32(p + (size_t)4 * i, cells[i]);
	return w->err;
}

int fdt_property_u32(struct fdt_writer *w, const char *name, u32 val)
{
	return fdt_property_cells(w, name, &val, 1);
}

int fdt_property_u64(struct fdt_writer *w, const char *name, u64 val)
{
	const u32 cells[] = { (u32)(val >> 32), (u32)val };

	return fdt_property_cells(w, name, cells, ARRAY_SIZE(cells));
}

int fdt_property_strings(struct fdt_writer *w, const char *name,
			 const char *const *strs, unsigned int n)
{
	u64 len = 0;
	u8 *p;

	if (w->err)
		return w->err;
	if (!strs || n == 0)
		return fail(w, -EINVAL);
	for (unsigned int i = 0; i < n; i++) {
		if (!strs[i])
			return fail(w, -EINVAL);
		len += strlen(strs[i]) + 1;
	}
	p = prop_space(w, name, len);
	for (unsigned int i = 0; p && i < n; i++) {
		size_t k = strlen(strs[i]) + 1;

		memcpy(p, strs[i], k);
		p += k;
	}
	return w->err;
}

int fdt_property_string(struct fdt_writer *w, const char *name, const char *s)
{
	return fdt_property_strings(w, name, &s, 1);
}

int fdt_finish(struct fdt_writer *w)
{
	u8 *p;

	if (w->err)
		return w->err;
	if (!w->root_done || w->depth || w->finished)
		return fail(w, -EINVAL);
	p = reserve(w, 4);
	if (!p)
		return w->err;
	put_be32(p, FDT_END);
	fix_name_offsets(w);
	/* The strings move down next to the structure block: the regions
	 * may overlap, never the structure block itself. */
	memmove(w->buf + w->st_end, w->buf + w->size - w->str_size, w->str_size);
	write_header(w);
	w->finished = true;
	return (int)(w->st_end + w->str_size);
}
