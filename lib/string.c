/* Freestanding implementations of the lib/string.h primitives. */
#include "lib/string.h"

/*
 * gcc may turn a byte loop that looks like memset/memcpy back into a call
 * to memset/memcpy, which here would recurse forever: forbid that
 * transformation for the functions in this file.
 */
#if defined(__GNUC__) && !defined(__clang__)
#define NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define NO_LIBCALL
#endif

/* A machine word that may alias any object (so word copies are legal C). */
typedef u64 __attribute__((may_alias)) word_t;
#define WORD_BYTES sizeof(word_t)

static inline bool word_aligned(const void *p)
{
	return ((uintptr_t)p & (WORD_BYTES - 1)) == 0;
}

NO_LIBCALL void *memcpy(void *dst, const void *src, size_t n)
{
	u8 *d = dst;
	const u8 *s = src;

	/* Whole words only when both sides are aligned (-mstrict-align). */
	if (word_aligned(d) && word_aligned(s)) {
		for (; n >= WORD_BYTES; n -= WORD_BYTES) {
			*(word_t *)d = *(const word_t *)s;
			d += WORD_BYTES;
			s += WORD_BYTES;
		}
	}
	while (n--)
		*d++ = *s++;
	return dst;
}

NO_LIBCALL void *memmove(void *dst, const void *src, size_t n)
{
	u8 *d = dst;
	const u8 *s = src;

	if ((uintptr_t)d <= (uintptr_t)s) {
		/* Forward: each source byte is read before any write reaches it. */
		for (size_t i = 0; i < n; i++)
			d[i] = s[i];
	} else {
		/* Backward: dst is above src, so copy from the top down. */
		while (n--)
			d[n] = s[n];
	}
	return dst;
}

NO_LIBCALL void *memset(void *dst, int c, size_t n)
{
	u8 *d = dst;
	u8 byte = (u8)c;

	/* Byte stores until aligned, then whole words, then the tail. */
	while (n && !word_aligned(d)) {
		*d++ = byte;
		n--;
	}
	if (n >= WORD_BYTES) {
		word_t w = (word_t)byte * 0x0101010101010101ULL;

		for (; n >= WORD_BYTES; n -= WORD_BYTES) {
			*(word_t *)d = w;
			d += WORD_BYTES;
		}
	}
	while (n--)
		*d++ = byte;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const u8 *x = a, *y = b;

	for (size_t i = 0; i < n; i++) {
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	}
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	return strncmp(a, b, SIZE_MAX);
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		u8 x = (u8)a[i], y = (u8)b[i];

		if (x != y)
			return x < y ? -1 : 1;
		if (!x)
			break;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	char ch = (char)c;

	for (;; s++) {
		if (*s == ch)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}
