/* Guest parameters from /chosen/bootargs: space-separated key=value words. */
#include "lib/errno.h"
#include "lib/string.h"
#include "tests/guests/rt/rt.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

int rt_arg(const char *key, const char **val, size_t *len)
{
	size_t klen = strlen(key);
	const char *p = rt_board.bootargs;

	if (!p)
		return -ENOENT;
	while (*p) {
		const char *word = p;
		size_t wlen = 0;

		while (word[wlen] && !is_space(word[wlen]))
			wlen++;
		p = word + wlen;
		while (is_space(*p))
			p++;
		if (wlen > klen && word[klen] == '=' && !strncmp(word, key, klen)) {
			*val = word + klen + 1;
			*len = wlen - klen - 1;
			return 0;
		}
	}
	return -ENOENT;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;    /* above every base */
}

int rt_arg_u64(const char *key, u64 *val)
{
	const char *s;
	size_t len, i = 0;
	unsigned int base = 10;
	u64 v = 0;
	int r = rt_arg(key, &s, &len);

	if (r)
		return r;
	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == len)
		return -EINVAL;
	for (; i < len; i++) {
		unsigned int d = (unsigned int)digit_value(s[i]);

		if (d >= base || v > (~0ULL - d) / base)
			return -EINVAL;    /* not a digit, or overflow */
		v = v * base + d;
	}
	*val = v;
	return 0;
}

u64 rt_arg_u64_or(const char *key, u64 dflt)
{
	u64 v = dflt;

	if (rt_arg_u64(key, &v) == -EINVAL)
		rt_fail("bootargs: %s= is not a number", key);
	return v;
}
