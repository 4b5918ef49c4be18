/*
 * Host tests for lib/printf.c, mostly against the host libc's snprintf.
 * lib/printf.c defines libc's names, so it is #included here with them
 * rewritten to hv_<name>; the renames are #undef'd right after, so the
 * harness and test.h's macros keep using libc.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

#include "lib/compiler.h"
#include "lib/errno.h"
#include "lib/types.h"
#include "tests/host/test.h"

/*
 * The tests pass deliberately odd formats (a trailing '%', "%" with flags
 * only, ignored flag combinations, NULL for %s, empty formats): keep gcc's
 * format checker from rejecting them.
 */
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-zero-length"
#pragma GCC diagnostic ignored "-Wformat-overflow"
#pragma GCC diagnostic ignored "-Wformat-truncation"

#define snprintf hv_snprintf
#define vsnprintf hv_vsnprintf
#include "lib/printf.c" // NOLINT(bugprone-suspicious-include): renamed copy under test
#undef snprintf
#undef vsnprintf

/*
 * Format with both implementations into buffers of every size from 0 to
 * the full length + 1, checking the return value, the bytes written and
 * that nothing beyond the given size was touched.
 */
static int compare(const char *fmt, ...) __printf(1, 2);
static int compare(const char *fmt, ...)
{
	char want[512], got[512];
	va_list ap, aq;
	int wn, gn;

	va_start(ap, fmt);
	va_copy(aq, ap);
	wn = vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	gn = hv_vsnprintf(got, sizeof(got), fmt, aq);
	va_end(aq);
	if (wn != gn || strcmp(want, got) != 0) {
		printf("    fmt \"%s\": libc %d \"%s\", ours %d \"%s\"\n",
		       fmt, wn, want, gn, got);
		return 0;
	}
	for (size_t size = 0; size <= (size_t)wn + 1; size++) {
		memset(got, 'Z', sizeof(got));
		va_start(ap, fmt);
		gn = hv_vsnprintf(size ? got : NULL, size, fmt, ap);
		va_end(ap);
		if (gn != wn)
			return 0;
		size_t keep = size ? MIN(size - 1, (size_t)wn) : 0;
		if (size && (memcmp(got, want, keep) != 0 || got[keep] != '\0'))
			return 0;
		for (size_t i = size; i < sizeof(got); i++)
			if (got[i] != 'Z') {
				printf("    fmt \"%s\" size %zu: wrote byte %zu\n",
				       fmt, size, i);
				return 0;
			}
	}
	return 1;
}

TEST(plain_text_and_percent)
{
	CHECK(compare("%s", ""));
	CHECK(compare("hello, world"));
	CHECK(compare("100%%"));
	CHECK(compare("%%%%"));
}

TEST(signed_decimal)
{
	static const long long v[] = { 0, 1, -1, 42, -42, INT_MAX, INT_MIN,
				       LLONG_MAX, LLONG_MIN };
	static const char *const fmts[] = {
		"%lld", "%lli", "%5lld", "%-5lld|", "%05lld", "%+lld", "% lld",
		"%+ lld", "%.0lld", "%.3lld", "%8.3lld", "%-8.3lld|", "%08.3lld",
		"%+08lld", "% 08lld", "%-+8lld|", "%25lld", "%025lld", "%.25lld",
		"%0-8lld|", "%-08lld|",
	};

	for (size_t i = 0; i < ARRAY_SIZE(fmts); i++)
		for (size_t j = 0; j < ARRAY_SIZE(v); j++)
			CHECK(compare(fmts[i], v[j]));
	CHECK(compare("%d %i %d", INT_MIN, INT_MAX, 0));
	CHECK(compare("%jd %jd", INTMAX_MIN, INTMAX_MAX));
}

TEST(unsigned_hex_octal)
{
	static const unsigned long long v[] = { 0, 1, 7, 8, 255, 0xdeadbeef,
						UINT_MAX, ULLONG_MAX };
	static const char *const fmts[] = {
		"%llu", "%llx", "%llX", "%llo", "%#llx", "%#llX", "%#llo",
		"%10llx", "%-10llx|", "%010llx", "%#010llx", "%#-10llx|",
		"%.0llx", "%#.0llx", "%.0llo", "%#.0llo", "%#.5llo", "%#5llo",
		"%.10llu", "%#.10llx", "%#25.20llx", "%+llu", "% llx",
	};

	for (size_t i = 0; i < ARRAY_SIZE(fmts); i++)
		for (size_t j = 0; j < ARRAY_SIZE(v); j++)
			CHECK(compare(fmts[i], v[j]));
}

TEST(length_modifiers_truncate_arguments)
{
	CHECK(compare("%hhd %hhu %hhx", 0x1ff, 0x1ff, -1));
	CHECK(compare("%hhd %hd", 0x80, 0x8000));
	CHECK(compare("%hd %hu %hx %ho", -1, -1, 0x12345, 0x12345));
	CHECK(compare("%ld %lu %lx", LONG_MIN, ULONG_MAX, 0x1234UL));
	CHECK(compare("%zu %zx %zd", SIZE_MAX, (size_t)0x1000, (ssize_t)-5));
	CHECK(compare("%td %tu %tx", (ptrdiff_t)-7, (ptrdiff_t)7, (ptrdiff_t)-1));
	CHECK(compare("%ju %jx %jo", UINTMAX_MAX, UINTMAX_MAX, (uintmax_t)8));
	CHECK(compare("%u %x %o", UINT_MAX, UINT_MAX, UINT_MAX));
}

TEST(chars_and_strings)
{
	CHECK(compare("%c%c%c", 'a', 'b', 'c'));
	CHECK(compare("[%5c] [%-5c]", 'x', 'y'));
	CHECK(compare("%c", 0x141)); /* converted to unsigned char */
	CHECK(compare("[%s] [%10s] [%-10s] [%.2s] [%10.2s] [%-10.2s]",
		      "abc", "abc", "abc", "abc", "abc", "abc"));
	CHECK(compare("[%.0s] [%.10s] [%*s]", "abc", "abc", 3, ""));
	CHECK(compare("%s and %s", "one", "two"));
}

TEST(star_width_and_precision)
{
	CHECK(compare("[%*d] [%-*d] [%*d]", 6, 42, 6, 42, -6, 42));
	CHECK(compare("[%.*d] [%.*d] [%.*d]", 4, 42, 0, 0, -1, 0));
	CHECK(compare("[%*.*x] [%-*.*s]", 8, 4, 0xab, 7, 2, "hello"));
	CHECK(compare("[%0*d] [%0*.*d]", 6, -42, 6, -1, -42));
	CHECK(compare("[%*s] [%-*s]", -3, "a", -3, "b"));
}

TEST(edge_cases_all_sizes)
{
	CHECK(compare("%lld|%lld", LLONG_MIN, LLONG_MAX));
	CHECK(compare("%.0d|%.0u|%.0x|%5.0d|", 0, 0u, 0u, 0));
	CHECK(compare("%d %s %x %c %%", -12345, "str", 0xabcu, 'q'));
	CHECK(compare("%#o %#x %#X", 0u, 0u, 0u));
}

TEST(unknown_or_truncated_conversion_is_copied)
{
	char buf[32];

	/* libc agrees on neither, so check our documented behaviour. */
	CHECK_EQ(hv_snprintf(buf, sizeof(buf), "a%"), 2);
	CHECK_STREQ(buf, "a%");
	CHECK_EQ(hv_snprintf(buf, sizeof(buf), "a%-5"), 4);
	CHECK_STREQ(buf, "a%-5");
}

TEST(null_string_and_pointer)
{
	char buf[64];
	const char *nul = NULL;

	CHECK_EQ(hv_snprintf(buf, sizeof(buf), "[%s]", nul), 8);
	CHECK_STREQ(buf, "[(null)]");
	CHECK_EQ(hv_snprintf(buf, sizeof(buf), "[%8s]", nul), 10);
	CHECK_STREQ(buf, "[  (null)]");
	CHECK_EQ(hv_snprintf(buf, sizeof(buf), "%p", (void *)0x40001000), 10);
	CHECK_STREQ(buf, "0x40001000");
	CHECK_EQ(hv_snprintf(buf, sizeof(buf), "%p", (void *)NULL), 3);
	CHECK_STREQ(buf, "0x0");
	CHECK_EQ(hv_snprintf(buf, sizeof(buf), "[%18p]", (void *)UINTPTR_MAX), 20);
	CHECK_STREQ(buf, "[0xffffffffffffffff]");
	CHECK_EQ(hv_snprintf(buf, sizeof(buf), "[%-12p]", (void *)0xabc), 14);
	CHECK_STREQ(buf, "[0xabc       ]");
	/* Non-NULL %p matches glibc. */
	void *p = &buf;
	CHECK(compare("%p %20p %-20p|", p, p, p));
}

TEST(null_buffer_size_zero_counts)
{
	CHECK_EQ(hv_snprintf(NULL, 0, "%d-%s", 12345, "abc"), 9);
	CHECK_EQ(hv_snprintf(NULL, 0, ""), 0);

	char one = 'x';
	CHECK_EQ(hv_snprintf(&one, 1, "hello"), 5);
	CHECK_EQ(one, '\0');
}

TEST(huge_width_reports_length)
{
	char buf[8];

	CHECK_EQ(hv_snprintf(buf, sizeof(buf), "%100000d", 1), 100000);
	CHECK_STREQ(buf, "       ");
	CHECK_EQ(hv_snprintf(buf, sizeof(buf), "%.100000d", 1), 100000);
	CHECK_STREQ(buf, "0000000");
}

/* Random formats assembled from the supported pieces, against libc. */
TEST(random_formats_match_libc)
{
	static const char flags[] = "-0# +";
	static const char *const lens[] = { "", "hh", "h", "l", "ll", "z", "j" };
	static const char convs[] = "diuxXo";

	srand(1234);
	for (int iter = 0; iter < 20000; iter++) {
		char fmt[64];
		size_t n = 0;

		fmt[n++] = '%';
		for (int f = rand() % 4; f > 0; f--) {
			char fl = flags[rand() % 5];

			fmt[n++] = fl;
		}
		if (rand() % 2)
			n += (size_t)sprintf(fmt + n, "%d", rand() % 30);
		if (rand() % 2)
			n += (size_t)sprintf(fmt + n, ".%d", rand() % 25);
		const char *len = lens[rand() % ARRAY_SIZE(lens)];
		sprintf(fmt + n, "%s%c|", len, convs[rand() % 6]);

		long long v = (long long)(((unsigned long long)rand() << 40) ^
					  ((unsigned long long)rand() << 20) ^
					  (unsigned long long)rand());
		if (rand() % 2)
			v = -v;
		if (rand() % 8 == 0)
			v = rand() % 3 - 1;

		char want[256], got[256];
		int wn, gn;
		/* Pass an argument of the width the length modifier reads. */
		if (len[0] == 'l' || len[0] == 'z' || len[0] == 'j') {
			wn = snprintf(want, sizeof(want), fmt, v);
			gn = hv_snprintf(got, sizeof(got), fmt, v);
		} else {
			wn = snprintf(want, sizeof(want), fmt, (int)v);
			gn = hv_snprintf(got, sizeof(got), fmt, (int)v);
		}
		if (wn != gn || strcmp(want, got) != 0)
			printf("    fmt \"%s\" v %lld: libc \"%s\" ours \"%s\"\n",
			       fmt, v, want, got);
		CHECK_EQ(gn, wn);
		CHECK_STREQ(got, want);
	}
}
