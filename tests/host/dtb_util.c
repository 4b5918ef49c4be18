/* Helpers shared by the device tree tests; see dtb_util.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fdt.h"
#include "tests/host/dtb_util.h"

void put32(u8 *p, u32 v)
{
	p[0] = (u8)(v >> 24);
	p[1] = (u8)(v >> 16);
	p[2] = (u8)(v >> 8);
	p[3] = (u8)v;
}

u32 get32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

u8 *load_dtb(const char *name, size_t *size)
{
	const char *dir = getenv("HV_DTB_DIR");
	char path[512];
	FILE *f;
	long n;
	u8 *buf;

	if (!dir || !*dir)
		dir = "build/dtbs";
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f) {
		printf("  MISSING %s: run scripts/dump-dtbs.sh %s first\n", path, dir);
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = n > 0 ? malloc((size_t)n) : NULL;
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		printf("  UNREADABLE %s\n", path);
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*size = (size_t)n;
	return buf;
}

struct fdtw *w_new(void)
{
	return calloc(1, sizeof(struct fdtw));
}

void w_u32(struct fdtw *w, u32 v)
{
	put32(w->st + w->st_n, v);
	w->st_n += 4;
}

void w_bytes(struct fdtw *w, const void *p, size_t n)
{
	if (n)
		memcpy(w->st + w->st_n, p, n);
	w->st_n += n;
	while (w->st_n % 4)
		w->st[w->st_n++] = 0;
}

void w_begin(struct fdtw *w, const char *name)
{
	w_u32(w, 1);
	w_bytes(w, name, strlen(name) + 1);
}

void w_end(struct fdtw *w)
{
	w_u32(w, 2);
}

u32 w_string(struct fdtw *w, const char *s)
{
	u32 off = (u32)w->str_n;

	memcpy(w->str + w->str_n, s, strlen(s) + 1);
	w->str_n += strlen(s) + 1;
	return off;
}

void w_prop(struct fdtw *w, const char *name, const void *v, size_t n)
{
	w_u32(w, 3);
	w_u32(w, (u32)n);
	w_u32(w, w_string(w, name));
	w_bytes(w, v, n);
}

void w_str(struct fdtw *w, const char *name, const char *s)
{
	w_prop(w, name, s, strlen(s) + 1);
}

void w_cells(struct fdtw *w, const char *name, int n, ...)
{
	u8 buf[256];
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++)
		put32(buf + (size_t)4 * i, va_arg(ap, unsigned int));
	va_end(ap);
	w_prop(w, name, buf, 4 * (size_t)n);
}

u8 *w_finish(struct fdtw *w, size_t *size)
{
	u32 rsv = 40, st, str, total;
	u8 *b;

	w_u32(w, 9);
	st = rsv + 16 * (w->nrsv + 1);
	str = st + (u32)w->st_n;
	total = str + (u32)w->str_n;
	b = calloc(1, total);
	put32(b, FDT_MAGIC);
	put32(b + 4, total);
	put32(b + 8, st);
	put32(b + 12, str);
	put32(b + 16, rsv);
	put32(b + 20, 17);
	put32(b + 24, 16);
	put32(b + 32, (u32)w->str_n);
	put32(b + 36, (u32)w->st_n);
	for (int i = 0; i < w->nrsv; i++) {
		put32(b + rsv + (size_t)16 * i, (u32)(w->rsv[i][0] >> 32));
		put32(b + rsv + (size_t)16 * i + 4, (u32)w->rsv[i][0]);
		put32(b + rsv + (size_t)16 * i + 8, (u32)(w->rsv[i][1] >> 32));
		put32(b + rsv + (size_t)16 * i + 12, (u32)w->rsv[i][1]);
	}
	memcpy(b + st, w->st, w->st_n);
	memcpy(b + str, w->str, w->str_n);
	w->st_off = st;
	w->str_off = str;
	*size = total;
	return b;
}

u32 rnd(u32 *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}
