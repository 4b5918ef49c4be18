/*
 * Flattened device tree reader: header and structure checks, node walks,
 * properties, paths and aliases, phandles, and `reg` translation through
 * `ranges`. Reads bytes only (no unaligned loads) and bounds every offset.
 */
#include "lib/types.h"
#include "lib/compiler.h"
#include "lib/errno.h"
#include "lib/fdt.h"

/* Structure block tokens. */
#define TOK_BEGIN_NODE 1u
#define TOK_END_NODE 2u
#define TOK_PROP 3u
#define TOK_NOP 4u
#define TOK_END 9u

/* Header fields, as u32 indexes into the header. */
enum {
	HDR_MAGIC, HDR_TOTALSIZE, HDR_OFF_STRUCT, HDR_OFF_STRINGS,
	HDR_OFF_RSVMAP, HDR_VERSION, HDR_LAST_COMP, HDR_BOOT_CPUID,
	HDR_SIZE_STRINGS, HDR_SIZE_STRUCT,
};

/* Where the blocks of a blob are, once the header passed its checks. */
struct blob {
	const u8 *base;
	u32 total;
	const u8 *st;     /* structure block */
	u32 st_size;
	const u8 *str;    /* strings block */
	u32 str_size;
	u32 rsv_off;      /* memory reservation block, from base */
};

/* Big-endian u32 at @p, byte by byte. */
static u32 be32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | (u32)p[3];
}

/* Big-endian u64 at @p. */
static u64 be64(const u8 *p)
{
	return (u64)be32(p) << 32 | be32(p + 4);
}

/* Length of the caller's C string @s. */
static size_t str_len(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

/* True when NUL-terminated @a equals the @n bytes at @b exactly. */
static bool str_eq_n(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] == '\0' || a[i] != b[i])
			return false;
	return a[n] == '\0';
}

/* True when block [off, off + size) lies inside [FDT_HEADER_SIZE, total). */
static bool block_ok(u32 off, u64 size, u32 total)
{
	return off >= FDT_HEADER_SIZE && (u64)off + size <= total;
}

/* Read and check the header of @fdt into @b. */
static int blob_open(const void *fdt, struct blob *b)
{
	const u8 *h = fdt;
	u32 st_off, str_off, st_size;

	if (!h || be32(h + 4 * HDR_MAGIC) != FDT_MAGIC)
		return -EINVAL;
	b->base = h;
	b->total = be32(h + 4 * HDR_TOTALSIZE);
	if (b->total < FDT_HEADER_SIZE || b->total > FDT_MAX_SIZE)
		return -EINVAL;
	if (be32(h + 4 * HDR_VERSION) < 16 || be32(h + 4 * HDR_LAST_COMP) > 17)
		return -EINVAL;
	st_off = be32(h + 4 * HDR_OFF_STRUCT);
	str_off = be32(h + 4 * HDR_OFF_STRINGS);
	b->rsv_off = be32(h + 4 * HDR_OFF_RSVMAP);
	b->str_size = be32(h + 4 * HDR_SIZE_STRINGS);
	/* size_dt_struct only exists from version 17 on. */
	if (be32(h + 4 * HDR_VERSION) >= 17)
		st_size = be32(h + 4 * HDR_SIZE_STRUCT);
	else
		st_size = st_off < b->total ? b->total - st_off : 0;
	b->st_size = st_size;
	if (!IS_ALIGNED(st_off, 4) || !IS_ALIGNED(b->rsv_off, 8))
		return -EINVAL;
	if (!block_ok(st_off, st_size, b->total) ||
	    !block_ok(str_off, b->str_size, b->total) ||
	    !block_ok(b->rsv_off, 16, b->total))
		return -EINVAL;
	b->st = h + st_off;
	b->str = h + str_off;
	return 0;
}

/* Token at structure offset @off. */
static int tok_at(const struct blob *b, u32 off, u32 *tok)
{
	if (!IS_ALIGNED(off, 4) || (u64)off + 4 > b->st_size)
		return -EINVAL;
	*tok = be32(b->st + off);
	return 0;
}

/* Offset of the NUL ending the string at structure offset @off. */
static int name_end(const struct blob *b, u32 off, u32 *end)
{
	for (u32 i = off; i < b->st_size; i++) {
		if (b->st[i] == '\0') {
			*end = i;
			return 0;
		}
	}
	return -EINVAL;
}

/* NUL-terminated string at @off of the strings block, or NULL. */
static const char *string_at(const struct blob *b, u32 off)
{
	for (u32 i = off; i < b->str_size; i++)
		if (b->str[i] == '\0')
			return (const char *)b->str + off;
	return NULL;
}

/*
 * Decode the token at @off: its kind in *@tok and the offset of the token
 * after it in *@next. Names and property values are bounds-checked.
 */
static int next_tok(const struct blob *b, u32 off, u32 *tok, u32 *next)
{
	u32 end, len;
	int r = tok_at(b, off, tok);

	if (r)
		return r;
	switch (*tok) {
	case TOK_BEGIN_NODE:
		r = name_end(b, off + 4, &end);
		if (r)
			return r;
		*next = ALIGN_UP(end + 1, 4);
		return 0;
	case TOK_PROP:
		if ((u64)off + 12 > b->st_size)
			return -EINVAL;
		len = be32(b->st + off + 4);
		if ((u64)off + 12 + len > b->st_size)
			return -EINVAL;
		*next = ALIGN_UP(off + 12 + len, 4);
		return 0;
	case TOK_END_NODE:
	case TOK_NOP:
	case TOK_END:
		*next = off + 4;
		return 0;
	default:
		return -EINVAL;
	}
}

/* Check that @node is the offset of a BEGIN_NODE token. */
static int node_ok(const struct blob *b, int node)
{
	u32 tok;

	if (node < 0)
		return node;
	if (tok_at(b, (u32)node, &tok) || tok != TOK_BEGIN_NODE)
		return -EINVAL;
	return 0;
}

/* Offset of the first non-NOP token at or after @off, and its kind. */
static int skip_nops(const struct blob *b, u32 off, u32 *tok, u32 *at)
{
	u32 next;

	for (;;) {
		int r = next_tok(b, off, tok, &next);

		if (r)
			return r;
		if (*tok != TOK_NOP) {
			*at = off;
			return 0;
		}
		off = next;
	}
}

/* Root node offset of an opened blob. */
static int root_of(const struct blob *b)
{
	u32 tok, at;
	int r = skip_nops(b, 0, &tok, &at);

	if (r)
		return r;
	return tok == TOK_BEGIN_NODE ? (int)at : -EINVAL;
}

/* Offset just past the END_NODE closing @node. */
static int node_end(const struct blob *b, int node, u32 *end)
{
	u32 off = (u32)node, tok, next;
	int depth = 0;

	for (;;) {
		int r = next_tok(b, off, &tok, &next);

		if (r)
			return r;
		if (tok == TOK_BEGIN_NODE)
			depth++;
		else if (tok == TOK_END_NODE && --depth == 0)
			break;
		else if (tok == TOK_END)
			return -EINVAL;
		off = next;
	}
	*end = next;
	return 0;
}

/* The node starting at or after @off among siblings, or -ENOENT. */
static int sibling_at(const struct blob *b, u32 off)
{
	u32 tok, at;
	int r = skip_nops(b, off, &tok, &at);

	if (r)
		return r;
	if (tok == TOK_BEGIN_NODE)
		return (int)at;
	return tok == TOK_END_NODE || tok == TOK_END ? -ENOENT : -EINVAL;
}

/* First child of a checked @node, or -ENOENT. */
static int first_child(const struct blob *b, int node)
{
	u32 off = (u32)node, tok, next;
	int r = next_tok(b, off, &tok, &next);

	for (;;) {
		if (r)
			return r;
		off = next;
		r = next_tok(b, off, &tok, &next);
		if (r)
			return r;
		if (tok == TOK_BEGIN_NODE)
			return (int)off;
		if (tok == TOK_END_NODE)
			return -ENOENT;
		if (tok != TOK_PROP && tok != TOK_NOP)
			return -EINVAL;
	}
}

/* Next sibling of a checked @node, or -ENOENT. */
static int next_sibling(const struct blob *b, int node)
{
	u32 end;
	int r = node_end(b, node, &end);

	return r ? r : sibling_at(b, end);
}

/* Parent of a checked @node: descend from the root towards it. */
static int parent_of(const struct blob *b, int node)
{
	int p = root_of(b), c, r;
	u32 end;

	if (p < 0 || p == node)
		return p < 0 ? p : -ENOENT;
	for (int depth = 0; depth < FDT_MAX_DEPTH; depth++) {
		for (c = first_child(b, p); c >= 0; c = sibling_at(b, end)) {
			if (c == node)
				return p;
			r = node_end(b, c, &end);
			if (r)
				return r;
			if (node > c && (u32)node < end)
				break;
		}
		if (c < 0)
			return -EINVAL;  /* not inside the tree */
		p = c;
	}
	return -ERANGE;
}

/* Name of a checked @node (terminated inside the structure block). */
static const char *name_of(const struct blob *b, int node)
{
	u32 end;

	if (name_end(b, (u32)node + 4, &end))
		return NULL;
	return (const char *)b->st + node + 4;
}

/* Property @name (@n bytes) of a checked @node. */
static const u8 *getprop_n(const struct blob *b, int node, const char *name,
			   size_t n, int *lenp)
{
	u32 tok, next;
	int r = next_tok(b, (u32)node, &tok, &next);

	while (!r) {
		u32 off = next;
		const char *pname;

		r = next_tok(b, off, &tok, &next);
		if (r || tok == TOK_NOP)
			continue;
		if (tok == TOK_BEGIN_NODE || tok == TOK_END_NODE) {
			r = -ENOENT;   /* properties come before children */
			break;
		}
		if (tok != TOK_PROP) {
			r = -EINVAL;
			break;
		}
		pname = string_at(b, be32(b->st + off + 8));
		if (!pname) {
			r = -EINVAL;
			break;
		}
		if (str_eq_n(pname, name, n)) {
			*lenp = (int)be32(b->st + off + 4);
			return b->st + off + 12;
		}
	}
	*lenp = r;
	return NULL;
}

/* String property: NULL unless a NUL lies within its length. */
static const char *getprop_str(const struct blob *b, int node, const char *name)
{
	int len;
	const u8 *p = getprop_n(b, node, name, str_len(name), &len);

	for (int i = 0; p && i < len; i++)
		if (p[i] == '\0')
			return (const char *)p;
	return NULL;
}

/* One-cell property: 0, -ENOENT or -EINVAL. */
static int getprop_u32(const struct blob *b, int node, const char *name,
		       u32 *val)
{
	int len;
	const u8 *p = getprop_n(b, node, name, str_len(name), &len);

	if (!p)
		return len;
	if (len != 4)
		return -EINVAL;
	*val = be32(p);
	return 0;
}

/* True when the @len bytes at @p, a list of strings, contain @s. */
static bool strlist_has(const u8 *p, int len, const char *s)
{
	size_t n = str_len(s);
	int start = 0;

	for (int i = 0; i < len; i++) {
		if (p[i] != '\0')
			continue;
		if ((size_t)(i - start) == n &&
		    str_eq_n((const char *)p + start, s, n))
			return true;
		start = i + 1;
	}
	return false;
}

/* #address-cells and #size-cells declared by @node for its children. */
static int cells_of(const struct blob *b, int node, u32 *ac, u32 *sc)
{
	int r;

	*ac = 2;
	*sc = 1;
	r = getprop_u32(b, node, "#address-cells", ac);
	if (r && r != -ENOENT)
		return r;
	r = getprop_u32(b, node, "#size-cells", sc);
	if (r && r != -ENOENT)
		return r;
	return *ac > 4 || *sc > 4 ? -EINVAL : 0;
}

/* Child @name (@n bytes) of @node; without '@' it also matches "name@...". */
static int child_named(const struct blob *b, int node, const char *name,
		       size_t n)
{
	bool has_unit = false;
	int c;

	for (size_t i = 0; i < n; i++)
		if (name[i] == '@')
			has_unit = true;
	for (c = first_child(b, node); c >= 0; c = next_sibling(b, c)) {
		const char *cn = name_of(b, c);

		if (!cn)
			return -EINVAL;
		if (str_eq_n(cn, name, n))
			return c;
		if (!has_unit) {
			size_t i = 0;

			while (i < n && cn[i] == name[i] && cn[i] != '\0')
				i++;
			if (i == n && cn[n] == '@')
				return c;
		}
	}
	return c;
}

/* Walk the @n bytes of path @s from @node, one '/'-separated step each. */
static int walk_path(const struct blob *b, int node, const char *s, size_t n)
{
	size_t i = 0, start;

	while (i < n && node >= 0) {
		if (s[i] == '/') {
			i++;
			continue;
		}
		start = i;
		while (i < n && s[i] != '/')
			i++;
		node = child_named(b, node, s + start, i - start);
	}
	return node;
}

/* Translate @addr (+@size) from the bus below @bus to the one above it. */
static int translate_up(const struct blob *b, int bus, u64 *addr, u64 size)
{
	u32 cac, csc, pac, psc, entry;
	int len, up = parent_of(b, bus), r;
	const u8 *rg;

	if (up < 0)
		return up;
	r = cells_of(b, bus, &cac, &csc);
	if (!r)
		r = cells_of(b, up, &pac, &psc);
	if (r)
		return r;
	rg = getprop_n(b, bus, "ranges", 6, &len);
	if (!rg)
		return len;
	if (len == 0)
		return 0;   /* identity */
	if (cac == 0 || cac > 2 || pac == 0 || pac > 2 || csc > 2)
		return -ERANGE;
	entry = 4 * (cac + pac + csc);
	if ((u32)len % entry)
		return -EINVAL;
	for (u32 off = 0; off < (u32)len; off += entry) {
		u64 cb = fdt_read_cells(rg + off, cac);
		u64 pb = fdt_read_cells(rg + off + 4 * cac, pac);
		u64 ln = fdt_read_cells(rg + off + 4 * (cac + pac), csc);

		if (*addr >= cb && *addr - cb < ln && size <= ln - (*addr - cb)) {
			*addr = pb + (*addr - cb);
			return 0;
		}
	}
	return -ERANGE;
}

int fdt_check(const void *fdt, size_t bufsize)
{
	struct blob b;
	u32 off, tok, next, nameoff;
	int depth = 0, r;
	bool root_seen = false;

	if (!fdt || bufsize < FDT_HEADER_SIZE)
		return -EINVAL;
	r = blob_open(fdt, &b);
	if (r)
		return r;
	if (b.total > bufsize)
		return -EINVAL;
	for (off = b.rsv_off;; off += 16) {
		if ((u64)off + 16 > b.total)
			return -EINVAL;
		if (be64(b.base + off) == 0 && be64(b.base + off + 8) == 0)
			break;
	}
	for (off = 0;; off = next) {
		r = next_tok(&b, off, &tok, &next);
		if (r)
			return r;
		switch (tok) {
		case TOK_BEGIN_NODE:
			if (depth == 0 && root_seen)
				return -EINVAL;   /* a second root */
			root_seen = true;
			if (++depth > FDT_MAX_DEPTH)
				return -EINVAL;
			break;
		case TOK_END_NODE:
			if (depth-- == 0)
				return -EINVAL;
			break;
		case TOK_PROP:
			nameoff = be32(b.st + off + 8);
			if (depth == 0 || !string_at(&b, nameoff))
				return -EINVAL;
			break;
		case TOK_END:
			return depth == 0 && root_seen ? 0 : -EINVAL;
		default:
			break;
		}
	}
}

u32 fdt_totalsize(const void *fdt)
{
	const u8 *h = fdt;

	return h && be32(h) == FDT_MAGIC ? be32(h + 4 * HDR_TOTALSIZE) : 0;
}

int fdt_root(const void *fdt)
{
	struct blob b;
	int r = blob_open(fdt, &b);

	return r ? r : root_of(&b);
}

int fdt_first_child(const void *fdt, int node)
{
	struct blob b;
	int r = blob_open(fdt, &b);

	if (!r)
		r = node_ok(&b, node);
	return r ? r : first_child(&b, node);
}

int fdt_next_sibling(const void *fdt, int node)
{
	struct blob b;
	int r = blob_open(fdt, &b);

	if (!r)
		r = node_ok(&b, node);
	return r ? r : next_sibling(&b, node);
}

int fdt_parent(const void *fdt, int node)
{
	struct blob b;
	int r = blob_open(fdt, &b);

	if (!r)
		r = node_ok(&b, node);
	return r ? r : parent_of(&b, node);
}

int fdt_next_node(const void *fdt, int node)
{
	struct blob b;
	u32 tok, next;
	int r = blob_open(fdt, &b);

	if (r)
		return r;
	if (node < 0)
		return root_of(&b);
	r = node_ok(&b, node);
	if (r)
		return r;
	r = next_tok(&b, (u32)node, &tok, &next);
	if (r)
		return r;
	for (;;) {
		u32 off = next;

		r = next_tok(&b, off, &tok, &next);
		if (r)
			return r;
		if (tok == TOK_BEGIN_NODE)
			return (int)off;
		if (tok == TOK_END)
			return -ENOENT;
	}
}

const char *fdt_node_name(const void *fdt, int node)
{
	struct blob b;

	if (blob_open(fdt, &b) || node_ok(&b, node))
		return NULL;
	return name_of(&b, node);
}

/* Append @c to @buf (@len bytes) at *@pos, keeping room for the NUL. */
static bool put_char(char *buf, size_t len, size_t *pos, char c)
{
	if (*pos + 1 >= len)
		return false;
	buf[(*pos)++] = c;
	return true;
}

int fdt_node_path(const void *fdt, int node, char *buf, size_t len)
{
	struct blob b;
	int chain[FDT_MAX_DEPTH], depth = 0, p, r;
	size_t pos = 0;
	bool fits = true;

	if (!buf || len == 0)
		return -EINVAL;
	buf[0] = '\0';
	r = blob_open(fdt, &b);
	if (!r)
		r = node_ok(&b, node);
	if (r)
		return r;
	for (p = parent_of(&b, node); p >= 0; p = parent_of(&b, node)) {
		if (depth == FDT_MAX_DEPTH)
			return -ERANGE;
		chain[depth++] = node;
		node = p;
	}
	if (p != -ENOENT)
		return p;
	if (depth == 0)
		fits = put_char(buf, len, &pos, '/');
	while (fits && depth > 0) {
		const char *name = name_of(&b, chain[--depth]);

		if (!name)
			return -EINVAL;
		fits = put_char(buf, len, &pos, '/');
		while (fits && *name)
			fits = put_char(buf, len, &pos, *name++);
	}
	buf[pos] = '\0';
	return fits ? 0 : -ENOSPC;
}

const void *fdt_getprop(const void *fdt, int node, const char *name, int *lenp)
{
	struct blob b;
	int len, r = blob_open(fdt, &b);
	const void *p = NULL;

	if (!r)
		r = node_ok(&b, node);
	if (!r && name)
		p = getprop_n(&b, node, name, str_len(name), &len);
	else
		len = r ? r : -EINVAL;
	if (lenp)
		*lenp = len;
	return p;
}

const char *fdt_getprop_str(const void *fdt, int node, const char *name)
{
	struct blob b;

	if (!name || blob_open(fdt, &b) || node_ok(&b, node))
		return NULL;
	return getprop_str(&b, node, name);
}

int fdt_getprop_u32(const void *fdt, int node, const char *name, u32 *val)
{
	struct blob b;
	int r = blob_open(fdt, &b);

	if (!r)
		r = node_ok(&b, node);
	return r ? r : getprop_u32(&b, node, name, val);
}

bool fdt_prop_has_string(const void *fdt, int node, const char *name,
			 const char *str)
{
	int len;
	const u8 *p = fdt_getprop(fdt, node, name, &len);

	return p && strlist_has(p, len, str);
}

bool fdt_is_compatible(const void *fdt, int node, const char *compat)
{
	return fdt_prop_has_string(fdt, node, "compatible", compat);
}

bool fdt_is_enabled(const void *fdt, int node)
{
	int len;
	const void *p = fdt_getprop(fdt, node, "status", &len);

	if (!p)
		return len == -ENOENT;
	return strlist_has(p, len, "okay") || strlist_has(p, len, "ok");
}

int fdt_find_compatible(const void *fdt, int start_after, const char *compat)
{
	int node = start_after < 0 ? fdt_root(fdt) : fdt_next_node(fdt, start_after);

	while (node >= 0 && !fdt_is_compatible(fdt, node, compat))
		node = fdt_next_node(fdt, node);
	return node;
}

u32 fdt_prop_u32(const void *prop, unsigned int index)
{
	return be32((const u8 *)prop + 4 * index);
}

u64 fdt_read_cells(const void *p, unsigned int ncells)
{
	u64 v = 0;

	for (unsigned int i = 0; i < ncells; i++)
		v = v << 32 | fdt_prop_u32(p, i);
	return v;
}

int fdt_path_offset(const void *fdt, const char *path)
{
	struct blob b;
	size_t n = 0, a = 0, tn = 0;
	int node, aliases, len, r = blob_open(fdt, &b);
	const u8 *v;

	if (r)
		return r;
	if (!path)
		return -EINVAL;
	while (path[n] && path[n] != ':')
		n++;
	node = root_of(&b);
	if (node < 0 || path[0] == '/')
		return node < 0 ? node : walk_path(&b, node, path, n);
	/* An alias name, then perhaps more path below the aliased node. */
	while (a < n && path[a] != '/')
		a++;
	if (a == 0)
		return -EINVAL;
	aliases = child_named(&b, node, "aliases", 7);
	if (aliases < 0)
		return aliases;
	v = getprop_n(&b, aliases, path, a, &len);
	if (!v)
		return len;
	while ((int)tn < len && v[tn] != '\0')
		tn++;
	if ((int)tn == len || tn == 0 || v[0] != '/')
		return -EINVAL;  /* not a terminated absolute path */
	node = walk_path(&b, node, (const char *)v, tn);
	return node < 0 ? node : walk_path(&b, node, path + a, n - a);
}

int fdt_node_by_phandle(const void *fdt, u32 phandle)
{
	u32 v;
	int node;

	if (phandle == 0 || phandle == 0xffffffffu)
		return -ENOENT;
	for (node = fdt_root(fdt); node >= 0; node = fdt_next_node(fdt, node)) {
		if (fdt_getprop_u32(fdt, node, "phandle", &v) == 0 && v == phandle)
			return node;
		if (fdt_getprop_u32(fdt, node, "linux,phandle", &v) == 0 &&
		    v == phandle)
			return node;
	}
	return node;
}

int fdt_reg_cells(const void *fdt, int node, u32 *addr_cells, u32 *size_cells)
{
	struct blob b;
	int p, r = blob_open(fdt, &b);

	if (!r)
		r = node_ok(&b, node);
	if (r)
		return r;
	p = parent_of(&b, node);
	return p < 0 ? p : cells_of(&b, p, addr_cells, size_cells);
}

int fdt_reg_raw(const void *fdt, int node, unsigned int index, u64 *addr,
		u64 *size)
{
	u32 ac, sc, entry;
	int len, r = fdt_reg_cells(fdt, node, &ac, &sc);
	const u8 *p;

	if (r)
		return r;
	if (ac == 0)
		return -EINVAL;
	if (ac > 2 || sc > 2)
		return -ERANGE;
	p = fdt_getprop(fdt, node, "reg", &len);
	if (!p)
		return len;
	entry = 4 * (ac + sc);
	if ((u32)len % entry)
		return -EINVAL;
	if (index >= (u32)len / entry)
		return -ENOENT;
	p += index * entry;
	*addr = fdt_read_cells(p, ac);
	*size = fdt_read_cells(p + 4 * ac, sc);
	return 0;
}

int fdt_reg(const void *fdt, int node, unsigned int index, u64 *addr,
	    u64 *size)
{
	struct blob b;
	int bus, root, r = fdt_reg_raw(fdt, node, index, addr, size);

	if (r)
		return r;
	r = blob_open(fdt, &b);
	if (r)
		return r;
	root = root_of(&b);
	bus = parent_of(&b, node);
	for (int depth = 0; bus >= 0 && bus != root; depth++) {
		if (depth == FDT_MAX_DEPTH)
			return -ERANGE;
		r = translate_up(&b, bus, addr, *size);
		if (r)
			return r;
		bus = parent_of(&b, bus);
	}
	return bus < 0 ? bus : 0;
}

int fdt_memreserve(const void *fdt, unsigned int index, u64 *addr, u64 *size)
{
	struct blob b;
	int r = blob_open(fdt, &b);

	if (r)
		return r;
	for (unsigned int i = 0;; i++) {
		u64 off = (u64)b.rsv_off + 16ull * i;

		if (off + 16 > b.total)
			return -EINVAL;
		*addr = be64(b.base + off);
		*size = be64(b.base + off + 8);
		if (*addr == 0 && *size == 0)
			return -ENOENT;
		if (i == index)
			return 0;
	}
}
