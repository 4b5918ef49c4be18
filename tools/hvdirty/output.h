/*
 * hvdirty's output helpers: the one-line error reports
 * ("hvdirty: <what>: <why>"), the exit code a service status maps to,
 * names of modes and flags, and JSON strings.
 */
#ifndef TOOLS_HVDIRTY_OUTPUT_H
#define TOOLS_HVDIRTY_OUTPUT_H

#include <stdint.h>
#include <stdio.h>

#include "tools/hvdirty/client.h"

#define MIB (1024.0 * 1024.0)

/* Prints "hvdirty: @what: <message>" on @err. */
void report_line(FILE *err, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* report_line(), then @code (an enum hvd_exit). A macro, so that the
 * static analyzer (which does not enter variadic functions) sees the
 * value returned. */
#define report(err, code, what, ...) (report_line((err), (what), __VA_ARGS__), (code))

/* The enum hvd_exit for a refusal with HVD_E_* @status. */
int exit_for_status(uint32_t status);

/*
 * Reports client call result @rc (not 0): the service's reason and
 * status, or what went wrong with the connection; @hint (if not NULL
 * or empty) follows after "; ". Returns the exit code.
 */
int report_client(FILE *err, const char *what, const struct hvdc *c, int rc,
		  const char *hint);

/* "off", "wp", "dbm", "auto" for HVD_MODE_*; "unknown" otherwise. */
const char *mode_name(uint32_t mode);

/* HVD_VM_* @flags as "stopped,dbm,...", or "-" for none, into @buf. */
const char *vm_flags_text(uint32_t flags, char *buf, size_t len);

/* @flags as a JSON array of those names. */
void json_vm_flags(FILE *f, uint32_t flags);

/* @s as a JSON string (quoted; ", \ and control characters escaped). */
void json_string(FILE *f, const char *s);

#endif
