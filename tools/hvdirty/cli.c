/*
 * hvdirty's command line (hvdirty_main() of hvdirty.h): the commands and
 * options it knows, their help texts, parsing and checking the words
 * and options, and handing a struct tool to the command.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/hvdirty/checkpoint.h"
#include "tools/hvdirty/cmd.h"
#include "tools/hvdirty/output.h"

enum cmd_id {
	CMD_VMS, CMD_LOG, CMD_WATCH, CMD_HARVEST, CMD_CHECKPOINT, CMD_STATS,
	CMD_PAUSE, CMD_RESUME,
	NR_CMDS
};

#define ON(cmd) (1u << (cmd))
#define ALL_CMDS ((1u << NR_CMDS) - 1)
/* --interval's range: a millisecond to an hour. */
#define INTERVAL_MAX_MS 3600000u
#define DEFAULT_INTERVAL_MS 1000u

static const struct opt_def {
	const char *name;        /* --name */
	char letter;             /* -letter, or 0 */
	bool value;              /* takes a value: --name V, --name=V, -letter V */
	unsigned int cmds;       /* ON() each command that takes it */
} opt_defs[NR_OPTS] = {
	[OPT_CID] = { "cid", 0, true, ALL_CMDS },
	[OPT_PORT] = { "port", 0, true, ALL_CMDS },
	[OPT_VERBOSE] = { "verbose", 'v', false, ALL_CMDS },
	[OPT_HELP] = { "help", 'h', false, ALL_CMDS },
	[OPT_VERSION] = { "version", 0, false, ALL_CMDS },
	[OPT_JSON] = { "json", 0, false,
		       ON(CMD_VMS) | ON(CMD_WATCH) | ON(CMD_HARVEST) | ON(CMD_STATS) },
	[OPT_MODE] = { "mode", 0, true, ON(CMD_LOG) | ON(CMD_CHECKPOINT) },
	[OPT_INTERVAL] = { "interval", 0, true, ON(CMD_WATCH) },
	[OPT_COUNT] = { "count", 0, true, ON(CMD_WATCH) },
	[OPT_BINARY] = { "binary", 0, false, ON(CMD_HARVEST) },
	[OPT_NO_RESET] = { "no-reset", 0, false, ON(CMD_HARVEST) },
	[OPT_OUTPUT] = { "output", 'o', true, ON(CMD_CHECKPOINT) },
	[OPT_MAX_ROUNDS] = { "max-rounds", 0, true, ON(CMD_CHECKPOINT) },
	[OPT_QUIET] = { "quiet", 'q', false, ON(CMD_CHECKPOINT) },
};

static const struct cmd_def {
	const char *name;
	unsigned int words;      /* on the command line, the command included */
	const char *usage;       /* after "hvdirty " */
	const char *summary;
	const char *details;
	int (*run)(struct tool *t);
} cmd_defs[NR_CMDS] = {
	[CMD_VMS] = {
		"vms", 1, "vms [--json]", "the VMs this VM manages",
		"One line per VM: its id, name, vCPUs, RAM (guest physical base and\n"
		"size), vsock CID (- for none), flags (stopped: powered off for good;\n"
		"dbm: its CPUs have FEAT_HAFDBS; attached: its memory is mapped into\n"
		"this VM; paused: paused by this VM) and dirty-log mode (off, wp, dbm).\n"
		"--json: one JSON object per VM and line, with the fields id, name,\n"
		"vcpus, ram_ipa, ram_size, cid, flags (an array of names), log_mode.\n",
		cmd_vms },
	[CMD_LOG] = {
		"log", 3, "log start|stop VM [--mode wp|dbm|auto]", "start or stop dirty logging",
		"log start: every page of the VM's RAM is write-protected (wp) or\n"
		"marked clean (dbm: FEAT_HAFDBS dirty state), and each write is logged\n"
		"from then on. --mode auto (the default) picks dbm where the CPUs\n"
		"have it, else wp; the mode in effect is printed. Logging belongs to\n"
		"the VM, not to this command: it stays on until 'log stop'.\n"
		"log stop: stops logging; entries still in the log stay for a harvest.\n",
		cmd_log },
	[CMD_WATCH] = {
		"watch", 2, "watch VM [--interval MS] [--count N] [--json]",
		"pages dirtied per interval (logging must be on)",
		"Every --interval milliseconds (default 1000) harvests the whole log\n"
		"and resets it, and prints a line: the time since the start (s), the\n"
		"pages dirtied in the interval, pages per second and MiB per second.\n"
		"--count N stops after N lines (default: until interrupted). --json:\n"
		"one JSON object per line, with time_s, interval_s, pages,\n"
		"pages_per_s, mib_per_s.\n",
		cmd_watch },
	[CMD_HARVEST] = {
		"harvest", 2, "harvest VM [--binary] [--no-reset] [--json]",
		"one harvest pass: the pages dirtied since the last reset",
		"Harvests the log until it is empty, printing one line per entry:\n"
		"the memslot (0 is RAM), the page's offset in it and its guest\n"
		"physical address (hex; - outside RAM). Then resets the log (the\n"
		"pages are write-protected again) so the next harvest shows new\n"
		"writes; --no-reset leaves them writable and unlogged until a reset.\n"
		"--binary: the raw 16-byte struct hvd_entry records (flags, slot,\n"
		"offset; little-endian) on stdout, which must not be a terminal.\n"
		"--json: one object per entry and line: slot, page, gpa (null\n"
		"outside RAM).\n",
		cmd_harvest },
	[CMD_CHECKPOINT] = {
		"checkpoint", 2,
		"checkpoint VM -o FILE [--mode wp|dbm|auto] [--max-rounds N] [--quiet]",
		"pre-copy checkpoint of the VM's RAM into FILE",
		"Writes the VM's RAM into FILE (created or truncated, mode 0600): a raw\n"
		"image, its size the RAM's, byte 0 the RAM's first byte. The VM runs\n"
		"while its RAM is copied and then copied again page by page as the\n"
		"dirty log finds pages changed, round after round until a round finds\n"
		"few pages (at most 64), as many as the one before, or --max-rounds\n"
		"(default 30) ran. Then the VM is paused, the last pages copied, the\n"
		"hypervisor's digest of the paused RAM compared with the file's, and\n"
		"the VM resumed (always, also on errors and on SIGINT/SIGTERM).\n"
		"A line per round on stderr (--quiet: none), a summary on stdout.\n"
		"Needs the dirty log to itself: refused (exit 5) if logging is on.\n",
		cmd_checkpoint },
	[CMD_STATS] = {
		"stats", 2, "stats VM [--json]", "the dirty log's and the service's counters",
		"The VM's counters since logging was last started (log_mode,\n"
		"pages_logged, wp_faults, spurious_faults, dbm_arm_faults, dbm_scans,\n"
		"dbm_pages_scanned, dbm_pages_dirty, dbm_groups_disarmed,\n"
		"ring_full_waits, overflow_pages, harvested, reset), then this VM's\n"
		"requests to the service since boot (requests, malformed, refused).\n"
		"--json: one object with those fields, and id and name.\n",
		cmd_stats },
	[CMD_PAUSE] = {
		"pause", 2, "pause VM", "pause the VM's vCPUs",
		"Returns once none of the VM's vCPUs runs. The VM stays paused until\n"
		"'hvdirty resume VM' (or until this VM stops).\n",
		cmd_pause },
	[CMD_RESUME] = {
		"resume", 2, "resume VM", "resume a VM this VM paused",
		"Ends this VM's pause of the VM (after 'hvdirty pause', or a\n"
		"checkpoint that could not resume it).\n",
		cmd_resume },
};

static const char exit_codes_text[] =
	"Exit codes:\n"
	"  0  done\n"
	"  1  failed: the service refused (for another reason than below), a bad\n"
	"     reply, the connection broke, a file could not be written\n"
	"  2  usage error\n"
	"  3  cannot reach the service (no AF_VSOCK, connection refused)\n"
	"  4  no such VM, or this VM does not manage it (E_NOVM, E_PERM)\n"
	"  5  the VM's state forbids it: logging already on or off, already\n"
	"     paused or not paused (E_BUSY, E_STATE)\n"
	"  6  checkpoint: the image's digest is not the hypervisor's\n";

static void usage(FILE *f)
{
	fputs("Usage: hvdirty [--cid N] [--port N] [-v] COMMAND [ARGS]\n\n"
	      "Drives the hypervisor's dirty-log service from a management VM over\n"
	      "AF_VSOCK (docs/hvdirty.md).\n\nCommands:\n", f);
	for (unsigned int i = 0; i < NR_CMDS; i++)
		fprintf(f, "  %s\n        %s\n", cmd_defs[i].usage, cmd_defs[i].summary);
	fputs("\nVM is a VM's name as 'hvdirty vms' shows it, or its numeric id.\n"
	      "'hvdirty COMMAND --help' tells more about a command.\n\n"
	      "Options:\n"
	      "  --cid N        the service's vsock CID (default 2)\n"
	      "  --port N       its port (default 7000)\n"
	      "  -v, --verbose  a line on stderr per request and reply\n"
	      "  -h, --help     this text\n"
	      "  --version      the tool's and the protocol's versions\n\n", f);
	fputs(exit_codes_text, f);
}

static void cmd_usage(FILE *f, const struct cmd_def *cmd)
{
	fprintf(f, "Usage: hvdirty [--cid N] [--port N] [-v] %s\n\n%s.\n\n%s\n%s",
		cmd->usage, cmd->summary, cmd->details, exit_codes_text);
}

/* -------------------------------------------------------------- parsing */

static int usage_err(const struct tool *t, const char *what, const char *fmt, const char *arg)
{
	char why[160];

	snprintf(why, sizeof(why), fmt, arg);
	return report(t->env->err, HVD_EXIT_USAGE, what, "%s (see 'hvdirty%s%s --help')",
		      why, t->o.nr_words ? " " : "", t->o.nr_words ? t->o.word[0] : "");
}

/* A decimal number in [@min, @max]. */
static bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && !*end && *v >= min && *v <= max;
}

static int parse_mode(const char *s, uint32_t *mode)
{
	static const struct {
		const char *name;
		uint32_t mode;
	} modes[] = { { "wp", HVD_MODE_WP }, { "dbm", HVD_MODE_DBM },
		      { "auto", HVD_MODE_AUTO } };

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(s, modes[i].name)) {
			*mode = modes[i].mode;
			return 0;
		}
	return -1;
}

/* Stores option @id's value @v. */
static int set_value(struct tool *t, enum opt_id id, const char *v)
{
	struct opts *o = &t->o;
	uint64_t n = 0;
	bool ok = true;
	char what[24];

	switch (id) {
	case OPT_CID:
	case OPT_PORT:
		ok = parse_u64(v, 0, UINT32_MAX, &n);
		*(id == OPT_CID ? &o->cid : &o->port) = (unsigned int)n;
		break;
	case OPT_INTERVAL:
		ok = parse_u64(v, 1, INTERVAL_MAX_MS, &o->interval_ms);
		break;
	case OPT_COUNT:
		ok = parse_u64(v, 0, UINT64_MAX, &o->count);
		break;
	case OPT_MAX_ROUNDS:
		ok = parse_u64(v, 0, UINT32_MAX, &o->max_rounds);
		break;
	case OPT_MODE:
		ok = !parse_mode(v, &o->mode);
		break;
	default:                 /* OPT_OUTPUT, the only other with a value */
		o->output = v;
		break;
	}
	if (ok)
		return 0;
	snprintf(what, sizeof(what), "--%s", opt_defs[id].name);
	return usage_err(t, what, id == OPT_MODE ? "'%s' is not wp, dbm or auto" :
			 "'%s' is not a number in range", v);
}

/* The option @arg names ("--name[=v]" or "-x"): its id, or NR_OPTS. */
static enum opt_id find_opt(const char *arg, const char **inline_value)
{
	*inline_value = NULL;
	for (unsigned int i = 0; i < NR_OPTS; i++) {
		const struct opt_def *d = &opt_defs[i];
		size_t n = strlen(d->name);

		if (arg[1] == '-' && !strncmp(arg + 2, d->name, n) &&
		    (arg[2 + n] == '\0' || (d->value && arg[2 + n] == '='))) {
			if (arg[2 + n] == '=')
				*inline_value = arg + 3 + n;
			return (enum opt_id)i;
		}
		if (arg[1] != '-' && d->letter && arg[1] == d->letter && !arg[2])
			return (enum opt_id)i;
	}
	return NR_OPTS;
}

static int add_word(struct tool *t, const char *w)
{
	if (t->o.nr_words == MAX_WORDS)
		return usage_err(t, w, "%s", "too many arguments");
	t->o.word[t->o.nr_words++] = w;
	return 0;
}

static int parse_args(struct tool *t, int argc, char **argv)
{
	bool options = true;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *v;
		enum opt_id id;
		int rc;

		if (options && !strcmp(arg, "--")) {
			options = false;
			continue;
		}
		if (!options || arg[0] != '-' || !arg[1]) {
			rc = add_word(t, arg);
			if (rc)
				return rc;
			continue;
		}
		id = find_opt(arg, &v);
		if (id == NR_OPTS)
			return usage_err(t, arg, "%s", "unknown option");
		if (opt_defs[id].value && !v) {
			if (i + 1 == argc)
				return usage_err(t, arg, "%s", "needs a value");
			v = argv[++i];
		}
		t->o.given |= 1u << id;
		if (opt_defs[id].value) {
			rc = set_value(t, id, v);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static const struct cmd_def *find_cmd(const char *name)
{
	for (unsigned int i = 0; i < NR_CMDS; i++)
		if (!strcmp(name, cmd_defs[i].name))
			return &cmd_defs[i];
	return NULL;
}

/* The words and options fit command @cmd; fills @t->what, @t->vm_arg. */
static int check_args(struct tool *t, const struct cmd_def *cmd)
{
	unsigned int id = (unsigned int)(cmd - cmd_defs);
	const struct opts *o = &t->o;

	for (unsigned int i = 0; i < NR_OPTS; i++)
		if (opt_given(t, (enum opt_id)i) && !(opt_defs[i].cmds & ON(id)))
			return usage_err(t, cmd->name, "--%s does not apply to this command",
					 opt_defs[i].name);
	if (id == CMD_LOG && o->nr_words > 1) {
		t->log_start = strcmp(o->word[1], "start") == 0;
		if (!t->log_start && strcmp(o->word[1], "stop") != 0)
			return usage_err(t, "log", "'%s': say start or stop", o->word[1]);
		if (!t->log_start && opt_given(t, OPT_MODE))
			return usage_err(t, "log stop", "%s", "--mode is for log start");
	}
	if (o->nr_words < cmd->words)
		return usage_err(t, cmd->name, "%s", id == CMD_LOG && o->nr_words == 1 ?
				 "say start or stop, and which VM" : "which VM?");
	if (o->nr_words > cmd->words)
		return usage_err(t, cmd->name, "'%s': one argument too many",
				 o->word[cmd->words]);
	if (id == CMD_CHECKPOINT && !opt_given(t, OPT_OUTPUT))
		return usage_err(t, cmd->name, "%s", "-o FILE is required");
	if (opt_given(t, OPT_BINARY) && opt_given(t, OPT_JSON))
		return usage_err(t, cmd->name, "%s", "--binary or --json, not both");
	if (cmd->words > 1)
		t->vm_arg = o->word[cmd->words - 1];
	for (unsigned int i = 0, used = 0; i < o->nr_words && used < sizeof(t->what); i++)
		used += (size_t)snprintf(t->what + used, sizeof(t->what) - used, "%s%s",
					 i ? " " : "", o->word[i]);
	return 0;
}

int hvdirty_main(int argc, char **argv, const struct hvd_env *env)
{
	struct tool t = {
		.env = env,
		.o = { .cid = HVD_CID, .port = HVD_PORT, .mode = HVD_MODE_AUTO,
		       .interval_ms = DEFAULT_INTERVAL_MS, .max_rounds = CKPT_MAX_ROUNDS },
	};
	const struct cmd_def *cmd;
	int rc = parse_args(&t, argc, argv);

	if (rc)
		return rc;
	if (opt_given(&t, OPT_VERSION)) {
		fprintf(env->out, "hvdirty %s (hvdirty protocol version %u)\n",
			HVDIRTY_VERSION, HVD_VERSION);
		return HVD_EXIT_OK;
	}
	if (!t.o.nr_words) {
		if (opt_given(&t, OPT_HELP)) {
			usage(env->out);
			return HVD_EXIT_OK;
		}
		return usage_err(&t, "hvdirty", "%s", "no command");
	}
	cmd = find_cmd(t.o.word[0]);
	if (!cmd)
		return report(env->err, HVD_EXIT_USAGE, t.o.word[0], "unknown command "
			      "(see 'hvdirty --help')");
	if (opt_given(&t, OPT_HELP)) {
		cmd_usage(env->out, cmd);
		return HVD_EXIT_OK;
	}
	rc = check_args(&t, cmd);
	if (!rc)
		rc = cmd->run(&t);
	if (t.connected)
		close(t.c.fd);
	if ((fflush(env->out) == EOF || ferror(env->out)) && !rc)
		rc = report(env->err, HVD_EXIT_FAILED, t.what, "writing the output failed");
	return rc;
}
