/* The formatting engine behind vsnprintf()/snprintf(). */
#include "lib/errno.h"
#include "lib/printf.h"

/* Destination of the formatted text. */
struct out {
	char *buf;
	size_t size;   /* bytes available in buf, including the NUL */
	size_t len;    /* bytes produced so far, stored or not */
};

/* One parsed conversion specification. */
struct spec {
	bool left;     /* '-': pad on the right */
	bool zero;     /* '0': pad numbers with zeros */
	bool alt;      /* '#': 0 / 0x prefix */
	bool space;    /* ' ': blank before non-negative signed numbers */
	bool plus;     /* '+': sign before non-negative signed numbers */
	int width;     /* minimum field width, 0 if none */
	int prec;      /* precision, -1 if none */
};

/* Widths and precisions saturate here, so parsing cannot overflow. */
#define FIELD_MAX 0x7fffffff

static void put(struct out *o, char c)
{
	/* Invariant: the last byte of buf is kept for the terminating NUL. */
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_repeat(struct out *o, char c, long n)
{
	for (; n > 0; n--)
		put(o, c);
}

static void put_str(struct out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put(o, s[i]);
}

/* Parse a decimal field width or precision at *fmt, saturating. */
static int parse_num(const char **fmt)
{
	int v = 0;

	while (**fmt >= '0' && **fmt <= '9') {
		int d = **fmt - '0';

		v = v > (FIELD_MAX - d) / 10 ? FIELD_MAX : v * 10 + d;
		(*fmt)++;
	}
	return v;
}

/* Emit @s (@n bytes) padded to the field width with spaces. */
static void put_field(struct out *o, const struct spec *sp, const char *s, size_t n)
{
	long pad = (long)sp->width - (long)n;

	if (!sp->left)
		put_repeat(o, ' ', pad);
	put_str(o, s, n);
	if (sp->left)
		put_repeat(o, ' ', pad);
}

static void put_string(struct out *o, const struct spec *sp, const char *s)
{
	size_t n = 0;

	if (!s)
		s = "(null)";
	/* Never read past the precision: the string need not be terminated. */
	while ((sp->prec < 0 || n < (size_t)sp->prec) && s[n])
		n++;
	put_field(o, sp, s, n);
}

/*
 * Emit an integer: @mag is its magnitude, @neg its sign, @base 8, 10 or 16.
 * Layout: [spaces] [sign or prefix] [zeros] [digits] [spaces].
 */
static void put_int(struct out *o, const struct spec *sp, u64 mag, bool neg,
		    unsigned int base, bool upper, bool force_prefix)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];          /* 64 bits in octal is 22 digits */
	char prefix[3];        /* sign, or "0x" (never both: see callers) */
	size_t nd = 0, np = 0;
	long zeros, pad;

	/* Digits, least significant first; none for 0 with precision 0. */
	for (u64 v = mag; v; v /= base)
		tmp[nd++] = digits[v % base];
	if (mag == 0 && sp->prec != 0)
		tmp[nd++] = '0';

	if (neg)
		prefix[np++] = '-';
	else if (sp->plus)
		prefix[np++] = '+';
	else if (sp->space)
		prefix[np++] = ' ';
	if (base == 16 && (force_prefix || (sp->alt && mag))) {
		prefix[np++] = '0';
		prefix[np++] = upper ? 'X' : 'x';
	}

	zeros = sp->prec > (long)nd ? sp->prec - (long)nd : 0;
	/* '#' with octal: the first digit printed must be a 0. */
	if (base == 8 && sp->alt && zeros == 0 && (nd == 0 || tmp[nd - 1] != '0'))
		zeros = 1;
	pad = (long)sp->width - (long)(np + nd) - zeros;
	/* '0' pads with zeros after the sign, unless '-' or a precision. */
	if (sp->zero && !sp->left && sp->prec < 0 && pad > 0) {
		zeros += pad;
		pad = 0;
	}

	if (!sp->left)
		put_repeat(o, ' ', pad);
	put_str(o, prefix, np);
	put_repeat(o, '0', zeros);
	while (nd)
		put(o, tmp[--nd]);
	if (sp->left)
		put_repeat(o, ' ', pad);
}

/* Length modifiers, in the order of increasing argument width. */
enum len { LEN_HH, LEN_H, LEN_NONE, LEN_L, LEN_LL, LEN_Z, LEN_T, LEN_J };

static enum len parse_len(const char **fmt)
{
	switch (**fmt) {
	case 'h':
		(*fmt)++;
		if (**fmt == 'h') {
			(*fmt)++;
			return LEN_HH;
		}
		return LEN_H;
	case 'l':
		(*fmt)++;
		if (**fmt == 'l') {
			(*fmt)++;
			return LEN_LL;
		}
		return LEN_L;
	case 'z':
		(*fmt)++;
		return LEN_Z;
	case 't':
		(*fmt)++;
		return LEN_T;
	case 'j':
		(*fmt)++;
		return LEN_J;
	default:
		return LEN_NONE;
	}
}

/*
 * Fetch a signed argument of the given length. va_list is passed by
 * pointer so that the caller's copy advances on every target ABI.
 */
static s64 arg_signed(va_list *ap, enum len len)
{
	switch (len) {
	case LEN_HH: return (signed char)va_arg(*ap, int);
	case LEN_H: return (short)va_arg(*ap, int);
	case LEN_L: return va_arg(*ap, long);
	case LEN_LL: return va_arg(*ap, long long);
	case LEN_Z: return va_arg(*ap, ptrdiff_t); /* signed size_t */
	case LEN_T: return va_arg(*ap, ptrdiff_t);
	case LEN_J: return va_arg(*ap, intmax_t);
	default: return va_arg(*ap, int);
	}
}

static u64 arg_unsigned(va_list *ap, enum len len)
{
	switch (len) {
	case LEN_HH: return (unsigned char)va_arg(*ap, unsigned int);
	case LEN_H: return (unsigned short)va_arg(*ap, unsigned int);
	case LEN_L: return va_arg(*ap, unsigned long);
	case LEN_LL: return va_arg(*ap, unsigned long long);
	case LEN_Z: return va_arg(*ap, size_t);
	case LEN_T: return (u64)va_arg(*ap, ptrdiff_t);
	case LEN_J: return va_arg(*ap, uintmax_t);
	default: return va_arg(*ap, unsigned int);
	}
}

/* Parse flags, width and precision of the spec after '%'. */
static void parse_spec(const char **fmt, va_list *ap, struct spec *sp)
{
	*sp = (struct spec){ .prec = -1 };
	for (;; (*fmt)++) {
		switch (**fmt) {
		case '-': sp->left = true; continue;
		case '0': sp->zero = true; continue;
		case '#': sp->alt = true; continue;
		case ' ': sp->space = true; continue;
		case '+': sp->plus = true; continue;
		default: break;
		}
		break;
	}
	if (**fmt == '*') {
		int w = va_arg(*ap, int);

		(*fmt)++;
		/* A negative '*' width means '-' and its magnitude. */
		if (w < 0) {
			sp->left = true;
			w = w == -FIELD_MAX - 1 ? FIELD_MAX : -w;
		}
		sp->width = w;
	} else {
		sp->width = parse_num(fmt);
	}
	if (**fmt == '.') {
		(*fmt)++;
		if (**fmt == '*') {
			int p = va_arg(*ap, int);

			(*fmt)++;
			sp->prec = p < 0 ? -1 : p; /* negative: as if omitted */
		} else {
			sp->prec = parse_num(fmt);
		}
	}
}

/* Format one conversion; *fmt points after '%' and is advanced past it. */
static void convert(struct out *o, const char **fmt, va_list *ap)
{
	const char *start = *fmt - 1;
	struct spec sp;
	enum len len;
	char c;

	parse_spec(fmt, ap, &sp);
	len = parse_len(fmt);
	c = **fmt;
	if (c)
		(*fmt)++;

	switch (c) {
	case '%':
		put(o, '%');
		break;
	case 'c': {
		char ch = (char)va_arg(*ap, int);

		put_field(o, &sp, &ch, 1);
		break;
	}
	case 's':
		put_string(o, &sp, va_arg(*ap, const char *));
		break;
	case 'd':
	case 'i': {
		s64 v = arg_signed(ap, len);
		/* Negate in unsigned arithmetic: INT64_MIN has no s64 negation. */
		u64 mag = v < 0 ? -(u64)v : (u64)v;

		put_int(o, &sp, mag, v < 0, 10, false, false);
		break;
	}
	case 'u':
	case 'x':
	case 'X':
	case 'o': {
		unsigned int base = c == 'u' ? 10 : c == 'o' ? 8 : 16;

		/* '+' and ' ' apply to signed conversions only. */
		sp.plus = sp.space = false;
		put_int(o, &sp, arg_unsigned(ap, len), false, base, c == 'X', false);
		break;
	}
	case 'p':
		sp.plus = sp.space = false;
		put_int(o, &sp, (uintptr_t)va_arg(*ap, void *), false, 16, false, true);
		break;
	default:
		/* Unknown or truncated spec: copy it through unchanged. */
		put_str(o, start, (size_t)(*fmt - start));
		break;
	}
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { .buf = buf, .size = buf ? size : 0, .len = 0 };
	va_list args;

	va_copy(args, ap);
	while (*fmt) {
		if (*fmt != '%') {
			put(&o, *fmt++);
			continue;
		}
		fmt++;
		convert(&o, &fmt, &args);
	}
	va_end(args);

	if (o.size)
		o.buf[o.len < o.size ? o.len : o.size - 1] = '\0';
	return o.len > FIELD_MAX ? -ERANGE : (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
