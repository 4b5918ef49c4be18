/* The hypervisor's console: formatted output to the UART driver's sink. */
#ifndef LIB_CONSOLE_H
#define LIB_CONSOLE_H

#include <stdarg.h>

#include "lib/compiler.h"
#include "lib/types.h"

/* Installs the function that puts one byte on the console device. */
void console_set_sink(void (*putc)(char c));
/* Writes @s as is ("\n" becomes "\r\n"). Whole lines from different CPUs
 * never interleave. */
void console_puts(const char *s);
int printf(const char *fmt, ...) __printf(1, 2);
int vprintf(const char *fmt, va_list ap);
/* From here on output ignores the console lock: a CPU that panics while
 * another holds it must still be heard. */
void console_enter_panic(void);

#endif
