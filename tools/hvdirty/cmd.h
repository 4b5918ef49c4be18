/*
 * What hvdirty's command line (cli.c) hands its commands (cmd.c): the
 * parsed options, the connection once made, the VM once resolved.
 */
#ifndef TOOLS_HVDIRTY_CMD_H
#define TOOLS_HVDIRTY_CMD_H

#include <stdbool.h>
#include <stdint.h>

#include "tools/hvdirty/client.h"
#include "tools/hvdirty/hvdirty.h"

enum opt_id {
	OPT_CID, OPT_PORT, OPT_VERBOSE, OPT_HELP, OPT_VERSION,
	OPT_JSON, OPT_MODE, OPT_INTERVAL, OPT_COUNT, OPT_BINARY, OPT_NO_RESET,
	OPT_OUTPUT, OPT_MAX_ROUNDS, OPT_QUIET,
	NR_OPTS
};

/* Words of the command line that are not options: the command, "start"
 * or "stop" after log, the VM, and one too many to complain about. */
#define MAX_WORDS 4

struct opts {
	unsigned int given;            /* 1 << OPT_* for each option given */
	unsigned int cid, port;
	uint32_t mode;                 /* HVD_MODE_* */
	uint64_t interval_ms, count, max_rounds;
	const char *output;
	const char *word[MAX_WORDS];
	unsigned int nr_words;
};

struct tool {
	const struct hvd_env *env;
	struct opts o;
	char what[96];                 /* "log start work": error lines start with it */
	const char *vm_arg;            /* the VM as the command line names it */
	bool log_start;                /* log start (else log stop) */
	bool connected;                /* @c is open */
	struct hvdc c;
	struct hvd_vm vm;              /* resolved from @vm_arg */
};

static inline bool opt_given(const struct tool *t, enum opt_id id)
{
	return t->o.given & (1u << id);
}

int cmd_vms(struct tool *t);
int cmd_log(struct tool *t);
int cmd_watch(struct tool *t);
int cmd_harvest(struct tool *t);
int cmd_checkpoint(struct tool *t);
int cmd_stats(struct tool *t);
int cmd_pause(struct tool *t);
int cmd_resume(struct tool *t);

#endif
