/*
 * Helpers shared by the device tree tests: reading the real DTBs from
 * $HV_DTB_DIR (default build/dtbs, written by scripts/dump-dtbs.sh) and a
 * tiny DTB writer for hand-built and deliberately broken blobs.
 */
#ifndef TESTS_HOST_DTB_UTIL_H
#define TESTS_HOST_DTB_UTIL_H

#include <stddef.h>

#include "lib/types.h"

/* Big-endian u32 store and load. */
void put32(u8 *p, u32 v);
u32 get32(const u8 *p);

/* Reads DTB @name from $HV_DTB_DIR into a malloc'd buffer (its size in
 * *@size); a missing file is a loud failure and returns NULL. */
u8 *load_dtb(const char *name, size_t *size);

/* A DTB being written: structure and strings blocks, /memreserve/s. */
struct fdtw {
	u8 st[1 << 16];
	size_t st_n;
	char str[8192];
	size_t str_n;
	u64 rsv[8][2];
	int nrsv;
	u32 st_off, str_off;   /* where w_finish() placed the blocks */
};

/* A zeroed writer (malloc'd; free() it). */
struct fdtw *w_new(void);

void w_u32(struct fdtw *w, u32 v);
/* @n bytes, then zeros up to 4-byte alignment. */
void w_bytes(struct fdtw *w, const void *p, size_t n);
void w_begin(struct fdtw *w, const char *name);
void w_end(struct fdtw *w);
/* Appends @s to the strings block (no sharing) and returns its offset. */
u32 w_string(struct fdtw *w, const char *s);
void w_prop(struct fdtw *w, const char *name, const void *v, size_t n);
void w_str(struct fdtw *w, const char *name, const char *s);
/* Property of @n cells given as unsigned ints. */
void w_cells(struct fdtw *w, const char *name, int n, ...);

/* Adds FDT_END and lays out header (version 17), reservation map,
 * structure and strings in a malloc'd blob of *@size bytes. */
u8 *w_finish(struct fdtw *w, size_t *size);

/* Deterministic xorshift for the mutation tests. */
u32 rnd(u32 *state);

#endif
