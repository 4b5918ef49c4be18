/*
 * Host tests for lib/string.c. Its functions carry libc's names, so this
 * file #includes lib/string.c with every name rewritten to hv_<name>; the
 * renames are #undef'd right after, so the harness (test_main.c, and the
 * snprintf/strcmp used by test.h's macros) keeps using the host libc and
 * the two sets of functions can be compared against each other.
 */
#include <stdlib.h>

#include "lib/compiler.h"
#include "lib/types.h"
#include "tests/host/test.h"

#define memcpy hv_memcpy
#define memmove hv_memmove
#define memset hv_memset
#define memcmp hv_memcmp
#define strlen hv_strlen
#define strnlen hv_strnlen
#define strcmp hv_strcmp
#define strncmp hv_strncmp
#define strchr hv_strchr
#include "lib/string.c" // NOLINT(bugprone-suspicious-include): renamed copy under test
#undef memcpy
#undef memmove
#undef memset
#undef memcmp
#undef strlen
#undef strnlen
#undef strcmp
#undef strncmp
#undef strchr

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

/* Every (dst offset, src offset, length) combination around word size. */
TEST(memcpy_all_alignments)
{
	u8 src[64], dst[64], want[64];

	for (int i = 0; i < 64; i++)
		src[i] = (u8)(i * 7 + 1);
	for (size_t so = 0; so < 9; so++)
		for (size_t d = 0; d < 9; d++)
			for (size_t n = 0; n <= 40; n++) {
				memset(dst, 0xee, sizeof(dst));
				memset(want, 0xee, sizeof(want));
				memcpy(want + d, src + so, n);
				CHECK(hv_memcpy(dst + d, src + so, n) == dst + d);
				CHECK(memcmp(dst, want, sizeof(dst)) == 0);
			}
}

TEST(memmove_overlaps_both_ways)
{
	u8 buf[64], want[64];

	for (size_t s = 0; s < 20; s++)
		for (size_t d = 0; d < 20; d++)
			for (size_t n = 0; n <= 40; n++) {
				for (int i = 0; i < 64; i++)
					buf[i] = want[i] = (u8)i;
				memmove(want + d, want + s, n);
				CHECK(hv_memmove(buf + d, buf + s, n) == buf + d);
				CHECK(memcmp(buf, want, sizeof(buf)) == 0);
			}
}

TEST(memset_all_alignments)
{
	u8 buf[64], want[64];

	for (size_t off = 0; off < 9; off++)
		for (size_t n = 0; n <= 40; n++) {
			memset(buf, 0x11, sizeof(buf));
			memset(want, 0x11, sizeof(want));
			memset(want + off, 0xa5, n);
			/* Only the low byte of c counts. */
			CHECK(hv_memset(buf + off, 0x3a5, n) == buf + off);
			CHECK(memcmp(buf, want, sizeof(buf)) == 0);
		}
}

TEST(memcmp_sign_and_unsigned_bytes)
{
	const u8 a[] = { 1, 2, 3, 0x80 }, b[] = { 1, 2, 3, 0x7f };

	CHECK_EQ(hv_memcmp(a, b, 0), 0);
	CHECK_EQ(hv_memcmp(a, b, 3), 0);
	CHECK(hv_memcmp(a, b, 4) > 0);
	CHECK(hv_memcmp(b, a, 4) < 0);
	for (int i = 0; i < 1000; i++) {
		u8 x[8], y[8];

		for (int j = 0; j < 8; j++) {
			x[j] = (u8)(rand() % 3);
			y[j] = (u8)(rand() % 3);
		}
		CHECK_EQ(sign(hv_memcmp(x, y, 8)), sign(memcmp(x, y, 8)));
	}
}

TEST(strlen_strnlen)
{
	CHECK_EQ(hv_strlen(""), 0);
	CHECK_EQ(hv_strlen("hello"), 5);
	CHECK_EQ(hv_strnlen("hello", 0), 0);
	CHECK_EQ(hv_strnlen("hello", 3), 3);
	CHECK_EQ(hv_strnlen("hello", 5), 5);
	CHECK_EQ(hv_strnlen("hello", 99), 5);
	/* strnlen must not read past max: this buffer has no NUL. */
	char raw[4] = { 'a', 'b', 'c', 'd' };
	CHECK_EQ(hv_strnlen(raw, sizeof(raw)), 4);
}

TEST(strcmp_strncmp)
{
	static const char *const s[] = { "", "a", "ab", "abc", "abd", "b",
					 "\x80", "\x7f", "ab\x80" };

	for (size_t i = 0; i < ARRAY_SIZE(s); i++)
		for (size_t j = 0; j < ARRAY_SIZE(s); j++) {
			CHECK_EQ(sign(hv_strcmp(s[i], s[j])), sign(strcmp(s[i], s[j])));
			for (size_t n = 0; n < 5; n++)
				CHECK_EQ(sign(hv_strncmp(s[i], s[j], n)),
					 sign(strncmp(s[i], s[j], n)));
		}
}

TEST(strchr_finds_first_and_nul)
{
	const char *s = "hello";

	CHECK(hv_strchr(s, 'l') == s + 2);
	CHECK(hv_strchr(s, 'h') == s);
	CHECK(hv_strchr(s, 'z') == NULL);
	CHECK(hv_strchr(s, '\0') == s + 5);
	CHECK(hv_strchr(s, 'o' + 256) == s + 4); /* converted to char */
	CHECK(hv_strchr("", 'a') == NULL);
}
