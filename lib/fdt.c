/*
 * Flattened device tree reader: header and structure checks, node walks,
 * properties, paths and aliases, phandles, and `reg` translation through
 * `ranges`. Reads bytes only (no unaligned loads) and bounds every offset.
 *
 * Cost model: every public call validates the header once (blob_open())
 * and then uses internal helpers that trust only what it checked. A DTB
 * has no parent links, so anything that needs a node's ancestors walks
 * forward from the root once, keeping the open nodes on a stack
 * (struct fdt_walk), instead of searching for each parent in turn.
 */
#include "lib/types.h"
#include "lib/compiler.h"
#include "lib/errno.h"
#include "lib/fdt.h"

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
	/* One past the last NUL of the strings block (0: none). A name
	 * offset below it starts a string that ends inside the block. */
	u32 str_term;
	u32 rsv_off;      /* memory reservation block, from base */
};

/* A property value: offset in the structure block (0: absent, as no
 * value can start there) and length, both checked by next_tok(). */
struct val {
	u32 off;
	u32 len;
};

/* The properties a walk reads from each node it enters. */
enum prop_kind {
	PK_OTHER,         /* none of those below */
	PK_ADDR_CELLS, PK_SIZE_CELLS, PK_RANGES, PK_REG,
	PK_COMPATIBLE, PK_DEVICE_TYPE, PK_STATUS,
	NR_PROP_KINDS,
};

/* Their values, by kind (the first of each name counts, as for
 * fdt_getprop()); v[PK_OTHER] is unused. */
struct props {
	struct val v[NR_PROP_KINDS];
};

_Static_assert(NR_PROP_KINDS <= 8, "a kind must fit the 3 bits name_cache keeps");

/*
 * Kinds of the property names last seen at some name offsets: dtc stores
 * each name once, so after the first nodes nearly every property's kind
 * is known without comparing strings. Entry: (nameoff + 1) << 3 | kind,
 * 0 when empty; nameoff < FDT_MAX_SIZE, so it fits.
 */
#define NAME_CACHE_BITS 6
#define NAME_CACHE (1u << NAME_CACHE_BITS)

struct name_cache {
	u32 e[NAME_CACHE];
};

/* What a walk keeps of a node while inside it: how its children's `reg`
 * reads and translates. The cells are decoded only when used. */
struct level {
	int node;
	u32 ac, sc;          /* #address-cells, #size-cells: see cell_ref() */
	struct val ranges;
};

/*
 * A forward walk through the structure block that keeps the nodes begun
 * and not yet ended: stack[0] is the root, stack[open - 1] the node the
 * walk last entered (whose properties are in cur), the ones between its
 * ancestors. Each token is decoded once however deep the node.
 */
struct fdt_walk {
	struct blob b;
	u32 pos;                     /* offset of the next token to read */
	unsigned int open;           /* entries used in stack */
	struct props cur;
	struct name_cache names;
	struct level stack[FDT_MAX_DEPTH];
};

#ifdef HOST_TEST
unsigned long fdt_tokens_read;
#define COUNT_TOKEN() (fdt_tokens_read++)
#else
#define COUNT_TOKEN() ((void)0)
#endif

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

/* Header field @f (one of HDR_*) of the blob at @h. */
static u32 hdr(const u8 *h, unsigned int f)
{
	return be32(h + (size_t)4 * f);
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

/* True when NUL-terminated @a and @b are equal. */
static bool str_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
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
	u32 st_off, str_off, st_size, version, n;

	if (!h || hdr(h, HDR_MAGIC) != FDT_MAGIC)
		return -EINVAL;
	b->base = h;
	b->total = hdr(h, HDR_TOTALSIZE);
	if (b->total < FDT_HEADER_SIZE || b->total > FDT_MAX_SIZE)
		return -EINVAL;
	version = hdr(h, HDR_VERSION);
	if (version < 16 || hdr(h, HDR_LAST_COMP) > 17)
		return -EINVAL;
	st_off = hdr(h, HDR_OFF_STRUCT);
	str_off = hdr(h, HDR_OFF_STRINGS);
	b->rsv_off = hdr(h, HDR_OFF_RSVMAP);
	b->str_size = hdr(h, HDR_SIZE_STRINGS);
	/* size_dt_struct only exists from version 17 on. */
	if (version >= 17)
		st_size = hdr(h, HDR_SIZE_STRUCT);
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
	/* Normally the last byte is a NUL and this takes one step. */
	for (n = b->str_size; n > 0 && b->str[n - 1] != '\0'; n--)
		;
	b->str_term = n;
	return 0;
}

/* Check that the memory reservation block ends with its (0, 0) entry. */
static int rsvmap_ok(const struct blob *b)
{
	for (u32 off = b->rsv_off;; off += 16) {
		if ((u64)off + 16 > b->total)
			return -EINVAL;
		if (be64(b->base + off) == 0 && be64(b->base + off + 8) == 0)
			return 0;
	}
}

/* Token at structure offset @off. */
static int tok_at(const struct blob *b, u32 off, u32 *tok)
{
	if (!IS_ALIGNED(off, 4) || (u64)off + 4 > b->st_size)
		return -EINVAL;
	*tok = be32(b->st + off);
	return 0;
}

/* True when one of the four bytes at @p is 0: the classic bit trick, on
 * a word put together from single bytes (no unaligned load). */
static bool has_nul4(const u8 *p)
{
	u32 v = (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;

	return ((v - 0x01010101u) & ~v & 0x80808080u) != 0;
}

/* Offset of the NUL ending the string at structure offset @off. */
static int name_end(const struct blob *b, u32 off, u32 *end)
{
	const u8 *s = b->st;
	u32 i = off;

	/* Four bytes a step while a whole group is inside the block; the
	 * byte loop below then finds the exact NUL. (off < 2^28: no wrap.) */
	while ((u64)i + 4 <= b->st_size && !has_nul4(s + i))
		i += 4;
	for (; i < b->st_size; i++) {
		if (s[i] == '\0') {
			*end = i;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * Offset of the token after the name at 4-aligned structure offset @off:
 * that token starts at the first 4-byte boundary after the name's NUL,
 * which is the end of the first 4-byte group holding a NUL. Same checks
 * as name_end(), without looking for the NUL inside the group.
 */
static inline int name_skip(const struct blob *b, u32 off, u32 *next)
{
	u32 i = off;

	while ((u64)i + 4 <= b->st_size) {
		if (has_nul4(b->st + i)) {
			*next = i + 4;
			return 0;
		}
		i += 4;
	}
	if (name_end(b, i, &i))   /* a NUL in a last, partial group? */
		return -EINVAL;
	*next = ALIGN_UP(i + 1, 4);
	return 0;
}

/* Name of the property whose PROP token is at @off (its 12-byte head
 * already checked by next_tok()), or NULL when not inside the strings. */
static const char *prop_name(const struct blob *b, u32 off)
{
	u32 nameoff = be32(b->st + off + 8);

	return nameoff < b->str_term ? (const char *)b->str + nameoff : NULL;
}

/* Offset of the token after the PROP at @off, once its head and value
 * are found inside the structure block. */
static inline int prop_next(const struct blob *b, u32 off, u32 *next)
{
	u32 len;

	if ((u64)off + 12 > b->st_size)
		return -EINVAL;
	len = be32(b->st + off + 4);
	if ((u64)off + 12 + len > b->st_size)
		return -EINVAL;
	*next = ALIGN_UP(off + 12 + len, 4);
	return 0;
}

/*
 * Decode the token at @off: its kind in *@tok and the offset of the token
 * after it in *@next. Names and property values are bounds-checked.
 * Inlined everywhere: it is the inner loop of every walk and search.
 */
static inline __attribute__((always_inline))
int next_tok(const struct blob *b, u32 off, u32 *tok, u32 *next)
{
	int r = tok_at(b, off, tok);

	if (r)
		return r;
	COUNT_TOKEN();
	if (*tok == FDT_PROP)     /* the commonest token: tested first */
		return prop_next(b, off, next);
	if (*tok == FDT_BEGIN_NODE)
		return name_skip(b, off + 4, next);
	if (*tok == FDT_END_NODE || *tok == FDT_NOP || *tok == FDT_END) {
		*next = off + 4;
		return 0;
	}
	return -EINVAL;
}

/* Check that @node is the offset of a BEGIN_NODE token. */
static int node_ok(const struct blob *b, int node)
{
	u32 tok;

	if (node < 0)
		return node;
	if (tok_at(b, (u32)node, &tok) || tok != FDT_BEGIN_NODE)
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
		if (*tok != FDT_NOP) {
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
	return tok == FDT_BEGIN_NODE ? (int)at : -EINVAL;
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
		if (tok == FDT_BEGIN_NODE)
			depth++;
		else if (tok == FDT_END_NODE && --depth == 0)
			break;
		else if (tok == FDT_END)
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
	if (tok == FDT_BEGIN_NODE)
		return (int)at;
	return tok == FDT_END_NODE || tok == FDT_END ? -ENOENT : -EINVAL;
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
		if (tok == FDT_BEGIN_NODE)
			return (int)off;
		if (tok == FDT_END_NODE)
			return -ENOENT;
		if (tok != FDT_PROP && tok != FDT_NOP)
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

/* Next BEGIN_NODE in document order after a checked @node, or -ENOENT. */
static int next_node(const struct blob *b, int node)
{
	u32 tok, next;
	int r = next_tok(b, (u32)node, &tok, &next);

	while (!r) {
		u32 off = next;

		r = next_tok(b, off, &tok, &next);
		if (r)
			return r;
		if (tok == FDT_BEGIN_NODE)
			return (int)off;
		if (tok == FDT_END)
			return -ENOENT;
	}
	return r;
}

/* Name of a checked @node (terminated inside the structure block). */
static const char *name_of(const struct blob *b, int node)
{
	u32 end;

	if (name_end(b, (u32)node + 4, &end))
		return NULL;
	return (const char *)b->st + node + 4;
}

/* -------------------------------------------------------- properties */

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
		if (r || tok == FDT_NOP)
			continue;
		if (tok == FDT_BEGIN_NODE || tok == FDT_END_NODE) {
			r = -ENOENT;   /* properties come before children */
			break;
		}
		if (tok != FDT_PROP) {
			r = -EINVAL;
			break;
		}
		pname = prop_name(b, off);
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

/* Index of the first NUL in [@at, @len) of @p, or @len. */
static int string_end(const u8 *p, int len, int at)
{
	while (at + 4 <= len && !has_nul4(p + at))
		at += 4;
	while (at < len && p[at] != '\0')
		at++;
	return at;
}

/* True when the @len bytes at @p, a list of strings, contain @s. */
static bool strlist_has(const u8 *p, int len, const char *s)
{
	int end;

	for (int at = 0; at < len; at = end + 1) {
		end = string_end(p, len, at);
		if (end == len)
			return false;   /* unterminated tail: not a string */
		if (p[at] == (u8)s[0] && str_eq((const char *)p + at, s))
			return true;
	}
	return false;
}

/* `status` value @p (@len bytes, NULL: absent) says the node is usable. */
static bool status_ok(const u8 *p, int len)
{
	return !p || strlist_has(p, len, "okay") || strlist_has(p, len, "ok");
}

/* ------------------------------------------------- reading a node */

/* Pointer to value @v, or NULL when absent. */
static const u8 *val_ptr(const struct blob *b, struct val v)
{
	return v.off ? b->st + v.off : NULL;
}

/* Kind of property name @name, by comparing strings. */
static enum prop_kind classify(const char *name)
{
	/* Dispatch on the first byte: most names are rejected by it. */
	switch (name[0]) {
	case '#':
		if (str_eq(name, "#address-cells"))
			return PK_ADDR_CELLS;
		return str_eq(name, "#size-cells") ? PK_SIZE_CELLS : PK_OTHER;
	case 'c':
		return str_eq(name, "compatible") ? PK_COMPATIBLE : PK_OTHER;
	case 'd':
		return str_eq(name, "device_type") ? PK_DEVICE_TYPE : PK_OTHER;
	case 'r':
		if (str_eq(name, "reg"))
			return PK_REG;
		return str_eq(name, "ranges") ? PK_RANGES : PK_OTHER;
	case 's':
		return str_eq(name, "status") ? PK_STATUS : PK_OTHER;
	default:
		return PK_OTHER;
	}
}

/* Kind of the property named at @nameoff (below b->str_term), looked up
 * in @nc first. */
static inline enum prop_kind kind_at(const struct blob *b, u32 nameoff,
				     struct name_cache *nc)
{
	u32 key = (nameoff + 1) << 3, *slot;
	enum prop_kind kind;

	/* Fibonacci hashing: the top bits of the product index the cache. */
	slot = &nc->e[(nameoff * 0x9e3779b1u) >> (32 - NAME_CACHE_BITS)];
	if ((*slot & ~7u) == key)
		return (enum prop_kind)(*slot & 7);
	kind = classify((const char *)b->str + nameoff);
	*slot = key | kind;
	return kind;
}

/*
 * Read the properties starting at *@pos (just past a node's name) into
 * @p, leaving *@pos at the first other token: the node's first child, its
 * END_NODE, or one that is malformed (for the caller to report). @nc: the
 * walk's name cache.
 */
static int read_props(const struct blob *b, u32 *pos, struct props *p,
		      struct name_cache *nc)
{
	u32 off = *pos, tok, next, nameoff;
	enum prop_kind kind;
	int r;

	*p = (struct props){ 0 };
	for (;; off = next) {
		/* Only PROPs and NOPs are decoded here: whatever else comes
		 * (a child, the END_NODE, an error) is the caller's. */
		r = tok_at(b, off, &tok);
		if (r || (tok != FDT_PROP && tok != FDT_NOP)) {
			r = 0;
			break;
		}
		COUNT_TOKEN();
		next = off + 4;
		if (tok == FDT_NOP)
			continue;
		r = prop_next(b, off, &next);
		if (r)
			break;
		nameoff = be32(b->st + off + 8);
		if (nameoff >= b->str_term) {
			r = -EINVAL;      /* name not inside the strings */
			break;
		}
		kind = kind_at(b, nameoff, nc);
		if (kind != PK_OTHER && !p->v[kind].off) {
			/* the first of each name counts */
			p->v[kind].off = off + 12;
			p->v[kind].len = be32(b->st + off + 4);
		}
	}
	*pos = off;
	return r;
}

/* A cells property for a level: the offset of its value, 0 when absent,
 * CELL_BAD when not one cell long (no value starts at offset 1). */
#define CELL_BAD 1u

static u32 cell_ref(struct val v)
{
	return !v.off || v.len == 4 ? v.off : CELL_BAD;
}

/* The cell @ref refers to, or @dflt; false unless a valid count (<= 4). */
static bool cell_get(const struct blob *b, u32 ref, u32 dflt, u32 *cell)
{
	if (ref == CELL_BAD)
		return false;
	*cell = ref ? be32(b->st + ref) : dflt;
	return *cell <= 4;
}

/* #address-cells and #size-cells @lv declares for its children (default
 * 2 and 1): 0, or -EINVAL when malformed or above 4. */
static int level_cells(const struct blob *b, const struct level *lv,
		       u32 *ac, u32 *sc)
{
	return cell_get(b, lv->ac, 2, ac) && cell_get(b, lv->sc, 1, sc) ?
	       0 : -EINVAL;
}

/* @lv for @node, whose properties are @p. */
static void fill_level(struct level *lv, int node, const struct props *p)
{
	lv->node = node;
	lv->ac = cell_ref(p->v[PK_ADDR_CELLS]);
	lv->sc = cell_ref(p->v[PK_SIZE_CELLS]);
	lv->ranges = p->v[PK_RANGES];
}

/* ------------------------------------------------------------- walks */

/* Start a walk at the beginning of the structure block of @b. */
static void walk_start(struct fdt_walk *w, const struct blob *b)
{
	w->b = *b;
	w->pos = 0;
	w->open = 0;
	w->names = (struct name_cache){ { 0 } };
}

/* Push the node whose BEGIN_NODE is at @off, @next being past its name,
 * and read its properties. Returns the node or a negative errno. */
static int enter_node(struct fdt_walk *w, u32 off, u32 next)
{
	struct level *lv;
	int r;

	if (w->open == FDT_MAX_DEPTH)
		return -ERANGE;
	lv = &w->stack[w->open++];
	w->pos = next;
	r = read_props(&w->b, &w->pos, &w->cur, &w->names);
	if (r)
		return r;
	fill_level(lv, (int)off, &w->cur);
	return (int)off;
}

/*
 * Enter the next node in document order and return it, or -ENOENT once
 * the root has ended (the walk then stands just past its END_NODE). The
 * stack follows every BEGIN_NODE and END_NODE passed; the tokens are
 * checked as fdt_check() does.
 */
static int walk_next(struct fdt_walk *w)
{
	u32 tok, next;

	for (;; w->pos = next) {
		u32 off = w->pos;
		int r = next_tok(&w->b, off, &tok, &next);

		if (r)
			return r;
		switch (tok) {
		case FDT_BEGIN_NODE:
			return enter_node(w, off, next);
		case FDT_END_NODE:
			if (w->open == 0)
				return -EINVAL;   /* no root begun */
			if (--w->open == 0) {
				w->pos = next;
				return -ENOENT;   /* the root ended */
			}
			break;
		case FDT_PROP:
			/* After a child: allowed, not read, but checked. */
			if (w->open == 0 || !prop_name(&w->b, off))
				return -EINVAL;
			break;
		case FDT_NOP:
			break;
		default:
			return -EINVAL;   /* FDT_END inside the root or before it */
		}
	}
}

/* After the root ended: only NOPs, then the END token. */
static int walk_end(const struct fdt_walk *w)
{
	u32 tok, at;
	int r = skip_nops(&w->b, w->pos, &tok, &at);

	return r ? r : tok == FDT_END ? 0 : -EINVAL;
}

/* Walk from the root to a checked @node: on success the walk stands on
 * it, its ancestors under it. -EINVAL when @node is not inside the root. */
static int walk_to(struct fdt_walk *w, const struct blob *b, int node)
{
	int r;

	walk_start(w, b);
	do {
		r = walk_next(w);
		if (r == node)
			return 0;
	} while (r >= 0 && r < node);
	return r == -ERANGE ? r : -EINVAL;
}

/* Parent of the node the walk stands on, or -ENOENT for the root. */
static int walk_parent(const struct fdt_walk *w)
{
	return w->open >= 2 ? w->stack[w->open - 2].node : -ENOENT;
}

/* Parent of a checked @node: one walk from the root. */
static int parent_of(const struct blob *b, int node)
{
	struct fdt_walk w;
	int r = walk_to(&w, b, node);

	return r ? r : walk_parent(&w);
}

/* --------------------------------------------------------------- reg */

/* Entry @index of a `reg` value @reg, read with the cells @parent
 * declares for its children. */
static int reg_entry(const struct blob *b, const struct level *parent,
		     struct val reg, unsigned int index, u64 *addr, u64 *size)
{
	u32 ac, sc, entry;
	const u8 *p;

	if (level_cells(b, parent, &ac, &sc))
		return -EINVAL;
	if (ac == 0)
		return -EINVAL;
	if (ac > 2 || sc > 2)
		return -ERANGE;
	if (!reg.off)
		return -ENOENT;
	entry = 4 * (ac + sc);
	if (reg.len % entry)
		return -EINVAL;
	if (index >= reg.len / entry)
		return -ENOENT;
	p = b->st + reg.off + (size_t)index * entry;
	*addr = fdt_read_cells(p, ac);
	*size = fdt_read_cells(p + (size_t)4 * ac, sc);
	return 0;
}

/* Translate @addr (+@size) from the bus below @bus to the one above it,
 * @up being @bus's parent. */
static int translate_up(const struct blob *b, const struct level *bus,
			const struct level *up, u64 *addr, u64 size)
{
	u32 cac, csc, pac, psc, entry, len;
	const u8 *rg = val_ptr(b, bus->ranges);

	if (level_cells(b, bus, &cac, &csc) || level_cells(b, up, &pac, &psc))
		return -EINVAL;
	if (!rg)
		return -ENOENT;   /* no `ranges`: not translatable */
	len = bus->ranges.len;
	if (len == 0)
		return 0;         /* identity */
	if (cac == 0 || cac > 2 || pac == 0 || pac > 2 || csc > 2)
		return -ERANGE;
	entry = 4 * (cac + pac + csc);
	if (len % entry)
		return -EINVAL;
	for (u32 off = 0; off < len; off += entry) {
		u64 cb = fdt_read_cells(rg + off, cac);
		u64 pb = fdt_read_cells(rg + off + (size_t)4 * cac, pac);
		u64 ln = fdt_read_cells(rg + off + (size_t)4 * (cac + pac), csc);

		if (*addr >= cb && *addr - cb < ln && size <= ln - (*addr - cb)) {
			*addr = pb + (*addr - cb);
			return 0;
		}
	}
	return -ERANGE;
}

/* Entry @index of the `reg` of the node the walk stands on, raw. */
static int walk_reg_raw(const struct fdt_walk *w, unsigned int index,
			u64 *addr, u64 *size)
{
	if (w->open < 2)
		return -ENOENT;   /* the root: nothing declares its cells */
	return reg_entry(&w->b, &w->stack[w->open - 2], w->cur.v[PK_REG], index,
			 addr, size);
}

/* Same, translated to the CPU's address space through the `ranges` of
 * every ancestor below the root (the stack has them all). */
static int walk_reg(const struct fdt_walk *w, unsigned int index, u64 *addr,
		    u64 *size)
{
	int r = walk_reg_raw(w, index, addr, size);

	if (r)
		return r;
	/* Here open >= 2. stack[d] is the bus below which stack[d + 1]
	 * sits; the root's bus is the CPU's own address space. */
	for (unsigned int d = w->open - 2; !r && d > 0; d--)
		r = translate_up(&w->b, &w->stack[d], &w->stack[d - 1], addr,
				 *size);
	return r;
}

/* ------------------------------------------------------------- paths */

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

/* -------------------------------------------------------- public API */

int fdt_check(const void *fdt, size_t bufsize)
{
	struct blob b;
	int r;

	if (!fdt || bufsize < FDT_HEADER_SIZE)
		return -EINVAL;
	r = blob_open(fdt, &b);
	if (r)
		return r;
	if (b.total > bufsize)
		return -EINVAL;
	/* The walk checks the rest; -ERANGE (too deep) is malformed here. */
	return fdt_walk(fdt, NULL, NULL) ? -EINVAL : 0;
}

u32 fdt_totalsize(const void *fdt)
{
	const u8 *h = fdt;

	return h && be32(h) == FDT_MAGIC ? hdr(h, HDR_TOTALSIZE) : 0;
}

/* Opens the blob behind a public call and checks that @node starts a
 * node in it: the common preamble of every per-node call below. */
static int open_node(const void *fdt, int node, struct blob *b)
{
	int r = blob_open(fdt, b);

	return r ? r : node_ok(b, node);
}

/* open_node(), then a walk from the root that stops at @node, for the
 * calls that need its ancestors (path, cells, ranges). */
static int open_walk_to(const void *fdt, int node, struct blob *b,
			struct fdt_walk *w)
{
	int r = open_node(fdt, node, b);

	return r ? r : walk_to(w, b, node);
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
	int r = open_node(fdt, node, &b);

	return r ? r : first_child(&b, node);
}

int fdt_next_sibling(const void *fdt, int node)
{
	struct blob b;
	int r = open_node(fdt, node, &b);

	return r ? r : next_sibling(&b, node);
}

int fdt_parent(const void *fdt, int node)
{
	struct blob b;
	int r = open_node(fdt, node, &b);

	return r ? r : parent_of(&b, node);
}

int fdt_next_node(const void *fdt, int node)
{
	struct blob b;
	int r = blob_open(fdt, &b);

	if (r)
		return r;
	if (node < 0)
		return root_of(&b);
	r = node_ok(&b, node);
	return r ? r : next_node(&b, node);
}

const char *fdt_node_name(const void *fdt, int node)
{
	struct blob b;

	if (open_node(fdt, node, &b))
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

/* Path of the node the walk stands on, into @buf (@len > 0 bytes). */
static int walk_path_str(const struct fdt_walk *w, char *buf, size_t len)
{
	size_t pos = 0;
	bool fits = true;

	if (w->open == 1)
		fits = put_char(buf, len, &pos, '/');
	/* stack[0] is the root, whose name is empty. */
	for (unsigned int d = 1; fits && d < w->open; d++) {
		const char *name = name_of(&w->b, w->stack[d].node);

		if (!name)
			return -EINVAL;
		fits = put_char(buf, len, &pos, '/');
		while (fits && *name)
			fits = put_char(buf, len, &pos, *name++);
	}
	buf[pos] = '\0';
	return fits ? 0 : -ENOSPC;
}

int fdt_node_path(const void *fdt, int node, char *buf, size_t len)
{
	struct blob b;
	struct fdt_walk w;
	int r;

	if (!buf || len == 0)
		return -EINVAL;
	buf[0] = '\0';
	r = open_walk_to(fdt, node, &b, &w);
	return r ? r : walk_path_str(&w, buf, len);
}

const void *fdt_getprop(const void *fdt, int node, const char *name, int *lenp)
{
	struct blob b;
	int len, r = open_node(fdt, node, &b);
	const void *p = NULL;

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

	if (!name || open_node(fdt, node, &b))
		return NULL;
	return getprop_str(&b, node, name);
}

int fdt_getprop_u32(const void *fdt, int node, const char *name, u32 *val)
{
	struct blob b;
	int r = open_node(fdt, node, &b);

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

	return p ? status_ok(p, len) : len == -ENOENT;
}

bool fdt_strlist_has(const void *val, int len, const char *str)
{
	return val && str && strlist_has(val, len, str);
}

void fdt_strset_init(struct fdt_strset *set, const char *const *strs,
		     unsigned int n)
{
	unsigned int k = 0;

	*set = (struct fdt_strset){ .strs = strs, .n = MIN(n, 32u) };
	for (unsigned int i = 0; i < set->n; i++)
		set->first[(u8)strs[i][0] / 32] |= 1u << ((u8)strs[i][0] % 32);
	/* The prefix they all share ("arm," say) is compared only once. */
	for (; set->n && strs[0][k]; k++) {
		unsigned int i = 1;

		while (i < set->n && strs[i][k] == strs[0][k])
			i++;
		if (i < set->n)
			break;
	}
	set->prefix = k;
}

u32 fdt_strset_match(const struct fdt_strset *set, const void *val, int len)
{
	const u8 *p = val;
	u32 found = 0;
	unsigned int k;
	int end;

	for (int at = 0; p && at < len; at = end + 1) {
		end = string_end(p, len, at);
		if (end == len)
			break;   /* unterminated tail: not a string */
		if (!(set->first[p[at] / 32] >> (p[at] % 32) & 1))
			continue;   /* starts like none of them */
		/* Stops at the string's NUL: the prefix holds none. */
		for (k = 0; k < set->prefix && p[at + k] == (u8)set->strs[0][k]; k++)
			;
		if (k < set->prefix)
			continue;
		for (unsigned int i = 0; i < set->n; i++)
			if (str_eq((const char *)p + at + k, set->strs[i] + k))
				found |= 1u << i;
	}
	return found;
}

int fdt_find_compatible(const void *fdt, int start_after, const char *compat)
{
	struct blob b;
	int node, len, r = blob_open(fdt, &b);

	if (r)
		return r;
	if (start_after < 0) {
		node = root_of(&b);
	} else {
		r = node_ok(&b, start_after);
		node = r ? r : next_node(&b, start_after);
	}
	for (; node >= 0; node = next_node(&b, node)) {
		const u8 *p = getprop_n(&b, node, "compatible", 10, &len);

		if (p && strlist_has(p, len, compat))
			break;
	}
	return node;
}

u32 fdt_prop_u32(const void *prop, unsigned int index)
{
	return be32((const u8 *)prop + (size_t)4 * index);
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
	struct blob b;
	u32 v = 0;
	int node, r = blob_open(fdt, &b);

	if (r)
		return r;
	if (phandle == 0 || phandle == 0xffffffffu)
		return -ENOENT;
	for (node = root_of(&b); node >= 0; node = next_node(&b, node)) {
		if (getprop_u32(&b, node, "phandle", &v) == 0 && v == phandle)
			return node;
		if (getprop_u32(&b, node, "linux,phandle", &v) == 0 &&
		    v == phandle)
			return node;
	}
	return node;
}

int fdt_reg_cells(const void *fdt, int node, u32 *addr_cells, u32 *size_cells)
{
	struct blob b;
	struct fdt_walk w;
	const struct level *parent;
	int r = open_walk_to(fdt, node, &b, &w);

	if (r)
		return r;
	if (w.open < 2)
		return -ENOENT;   /* the root has no parent */
	parent = &w.stack[w.open - 2];
	return level_cells(&b, parent, addr_cells, size_cells);
}

int fdt_reg_raw(const void *fdt, int node, unsigned int index, u64 *addr,
		u64 *size)
{
	struct blob b;
	struct fdt_walk w;
	int r = open_walk_to(fdt, node, &b, &w);

	return r ? r : walk_reg_raw(&w, index, addr, size);
}

int fdt_reg(const void *fdt, int node, unsigned int index, u64 *addr,
	    u64 *size)
{
	struct blob b;
	struct fdt_walk w;
	int r = open_walk_to(fdt, node, &b, &w);

	return r ? r : walk_reg(&w, index, addr, size);
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

/* ------------------------------------------------------ visiting walk */

/* The visit of the node the walk just entered. */
static void visit_of(const struct fdt_walk *w, struct fdt_visit *v)
{
	const struct blob *b = &w->b;
	const struct props *p = &w->cur;
	int node = w->stack[w->open - 1].node;

	*v = (struct fdt_visit){
		.node = node,
		.parent = walk_parent(w),
		.depth = w->open - 1,
		/* next_tok() found the name's NUL. */
		.name = (const char *)b->st + node + 4,
		.compatible = val_ptr(b, p->v[PK_COMPATIBLE]),
		.compatible_len = (int)p->v[PK_COMPATIBLE].len,
		.device_type = val_ptr(b, p->v[PK_DEVICE_TYPE]),
		.device_type_len = (int)p->v[PK_DEVICE_TYPE].len,
		.status = val_ptr(b, p->v[PK_STATUS]),
		.status_len = (int)p->v[PK_STATUS].len,
		.walk = w,
	};
}

int fdt_walk(const void *fdt, fdt_visit_fn visit, void *arg)
{
	struct fdt_walk w;
	struct fdt_visit v;
	struct blob b;
	int r = blob_open(fdt, &b);

	if (!r)
		r = rsvmap_ok(&b);
	if (r)
		return r;
	walk_start(&w, &b);
	while ((r = walk_next(&w)) >= 0) {
		if (!visit)
			continue;
		visit_of(&w, &v);
		r = visit(&v, arg);
		if (r)
			return r;
	}
	return r == -ENOENT ? walk_end(&w) : r;
}

bool fdt_visit_enabled(const struct fdt_visit *v)
{
	return status_ok(v->status, v->status_len);
}

/* The walk of visit @v, if it still stands on @v's node (NULL if not). */
static const struct fdt_walk *visit_walk(const struct fdt_visit *v)
{
	const struct fdt_walk *w = v->walk;

	if (!w || w->open == 0 || w->stack[w->open - 1].node != v->node)
		return NULL;
	return w;
}

int fdt_visit_reg(const struct fdt_visit *v, unsigned int index, u64 *addr,
		  u64 *size)
{
	const struct fdt_walk *w = visit_walk(v);

	return w ? walk_reg(w, index, addr, size) : -EINVAL;
}

int fdt_visit_reg_raw(const struct fdt_visit *v, unsigned int index,
		      u64 *addr, u64 *size)
{
	const struct fdt_walk *w = visit_walk(v);

	return w ? walk_reg_raw(w, index, addr, size) : -EINVAL;
}

int fdt_visit_path(const struct fdt_visit *v, char *buf, size_t len)
{
	const struct fdt_walk *w = visit_walk(v);

	if (!buf || len == 0)
		return -EINVAL;
	buf[0] = '\0';
	return w ? walk_path_str(w, buf, len) : -EINVAL;
}
