/* Freestanding bounded string formatting (snprintf family, no floats). */
#ifndef LIB_PRINTF_H
#define LIB_PRINTF_H

#include <stdarg.h>

#include "lib/compiler.h"
#include "lib/types.h"

/*
 * Format @fmt with @ap into @buf, writing at most @size bytes including a
 * terminating NUL, which is always written when @size > 0 (@buf may be NULL
 * when @size is 0). Returns the length the full output would have had (C99),
 * so the output was truncated iff the result >= @size; -ERANGE if that length
 * does not fit in an int.
 *
 * Conversions: %% %c %s %d %i %u %x %X %o %p; length modifiers hh h l ll z
 * t j; flags - 0 # space +; width and precision, either may be '*'.
 * %s of NULL prints "(null)"; %p prints 0x-prefixed lower-case hex. An
 * unknown conversion is copied to the output as written.
 */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/* vsnprintf() with the arguments given inline. */
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

#endif
