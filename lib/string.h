/* Freestanding memory and C-string primitives (the names gcc may call). */
#ifndef LIB_STRING_H
#define LIB_STRING_H

#include "lib/types.h"

/* Copy @n bytes from @src to @dst; the buffers must not overlap. Returns @dst. */
void *memcpy(void *dst, const void *src, size_t n);

/* Copy @n bytes from @src to @dst; the buffers may overlap. Returns @dst. */
void *memmove(void *dst, const void *src, size_t n);

/* Fill @n bytes at @dst with the byte value (u8)@c. Returns @dst. */
void *memset(void *dst, int c, size_t n);

/* Compare @n bytes as unsigned chars: <0, 0 or >0 like the first difference. */
int memcmp(const void *a, const void *b, size_t n);

/* Number of bytes before the terminating NUL of @s. */
size_t strlen(const char *s);

/* Like strlen() but reads at most @max bytes and returns at most @max. */
size_t strnlen(const char *s, size_t max);

/* Compare two NUL-terminated strings as unsigned chars. */
int strcmp(const char *a, const char *b);

/* Like strcmp() but compares at most @n characters. */
int strncmp(const char *a, const char *b, size_t n);

/* First occurrence of (char)@c in @s (the NUL counts), or NULL. */
char *strchr(const char *s, int c);

#endif
