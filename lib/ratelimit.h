/*
 * Log-line rate limiting for what a guest can make the hypervisor say
 * (refused requests, malformed messages): per source, the first
 * LOG_BURST lines are printed, then every LOG_EVERY-th, so that a guest
 * cannot flood the console while a run still shows that it goes on.
 */
#ifndef LIB_RATELIMIT_H
#define LIB_RATELIMIT_H

#include "lib/types.h"

#define LOG_BURST 32u
#define LOG_EVERY 1000u

/* Whether the @nth line (counting from 1) of one source is printed. */
static inline bool log_nth_due(u32 nth)
{
	return nth <= LOG_BURST || nth % LOG_EVERY == 0;
}

#endif
