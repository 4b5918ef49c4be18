/* Fatal errors: print a message naming the CPU, then stop the machine. */
#ifndef LIB_PANIC_H
#define LIB_PANIC_H

#include "lib/compiler.h"

__noreturn void panic(const char *fmt, ...) __printf(1, 2);

/* Checks an invariant that no input can break; a failure is a bug. */
#define BUG_ON(cond)                                                      \
	do {                                                              \
		if (cond)                                                 \
			panic("BUG: %s at %s:%d", #cond, __FILE__, __LINE__); \
	} while (0)

#endif
