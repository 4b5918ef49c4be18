/*
 * mkscenario: checks a configs/<name>.scenario file (docs/scenarios.md)
 * and generates what links it into the hypervisor image: OUTDIR/scenario.c
 * (the virt/scenario.h data), OUTDIR/images.S (the guest images) and,
 * with -M, a make dependency file. Run by the Makefile; usage() says how.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/compiler.h"
#include "tools/mkscenario/scenario_parse.h"
#include "tools/mkscenario/scenario_write.h"

#define MAX_VARS 16

static void usage(FILE *f)
{
	fputs("usage: mkscenario [-n] [-D name=value]... [-M depfile] SCENARIO OUTDIR [MAX_CPUS]\n"
	      "  SCENARIO        a .scenario file; - or \"\" for none (no VMs)\n"
	      "  OUTDIR          where scenario.c and images.S are written\n"
	      "  MAX_CPUS        CONFIG_MAX_CPUS: the CPUs are 0..MAX_CPUS-1 (default 256)\n"
	      "  -D name=value   ${name} in the file stands for value\n"
	      "  -M depfile      also write a make rule: OUTDIR's files depend on the\n"
	      "                  scenario file and every image\n"
	      "  -n              check the text only, open no image, write only the depfile\n",
	      f);
}

static __noreturn void out_of_memory(void)
{
	fputs("mkscenario: out of memory\n", stderr);
	exit(1);
}

/* @a followed by @b, in a new string. */
static char *concat(const char *a, const char *b)
{
	size_t len = strlen(a) + strlen(b) + 1;
	char *s = malloc(len);

	if (!s)
		out_of_memory();
	snprintf(s, len, "%s%s", a, b);
	return s;
}

/* -D name=value; the name is copied into @names[*nr]. */
static int parse_var(const char *arg, struct sc_var *vars, char **names, unsigned int *nr)
{
	const char *eq = strchr(arg, '=');
	char *name;

	if (!eq || eq == arg) {
		fprintf(stderr, "mkscenario: -D %s: write -D name=value\n", arg);
		return -1;
	}
	if (*nr == MAX_VARS) {
		fprintf(stderr, "mkscenario: more than %d -D options\n", MAX_VARS);
		return -1;
	}
	name = strndup(arg, (size_t)(eq - arg));
	if (!name)
		out_of_memory();
	for (unsigned int i = 0; i < *nr; i++) {
		if (!strcmp(vars[i].name, name)) {
			fprintf(stderr, "mkscenario: -D %s is given twice\n", name);
			free(name);
			return -1;
		}
	}
	names[*nr] = name;
	vars[*nr].name = name;
	vars[*nr].value = eq + 1;
	(*nr)++;
	return 0;
}

static int parse_max_cpus(const char *arg, unsigned int *out)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || n == 0 || n > SC_CPUS_LIMIT) {
		fprintf(stderr, "mkscenario: MAX_CPUS '%s': write a number from 1 to %d\n",
			arg, SC_CPUS_LIMIT);
		return -1;
	}
	*out = (unsigned int)n;
	return 0;
}

/* A file written under a temporary name and renamed into place when
 * complete, so that a failed run never leaves half a file behind. */
struct output {
	FILE *f;
	char *tmp;
	const char *path;
};

static int out_open(struct output *o, const char *path)
{
	o->path = path;
	o->tmp = concat(path, ".tmp");
	o->f = fopen(o->tmp, "w");
	if (!o->f) {
		fprintf(stderr, "mkscenario: %s: %s\n", o->tmp, strerror(errno));
		free(o->tmp);
		return -1;
	}
	return 0;
}

/* Closes @o; renames it into place if @rc (the generator's result) is 0. */
static int out_close(struct output *o, int rc)
{
	if (fclose(o->f) || rc) {
		fprintf(stderr, "mkscenario: %s: write error\n", o->tmp);
		rc = -1;
	} else if (rename(o->tmp, o->path)) {
		fprintf(stderr, "mkscenario: %s: %s\n", o->path, strerror(errno));
		rc = -1;
	}
	if (rc)
		unlink(o->tmp);
	free(o->tmp);
	return rc;
}

static int write_outputs(const struct sc_scenario *s, const char *const targets[2],
			 bool sources, const char *depfile)
{
	struct output o;

	if (sources) {
		if (out_open(&o, targets[0]) || out_close(&o, sc_write_c(o.f, s)))
			return -1;
		if (out_open(&o, targets[1]) || out_close(&o, sc_write_images(o.f, s)))
			return -1;
	}
	if (depfile && (out_open(&o, depfile) ||
			out_close(&o, sc_write_depfile(o.f, s, targets, 2))))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct sc_var vars[MAX_VARS];
	char *var_names[MAX_VARS];
	struct sc_options opt = {
		.vars = vars, .max_cpus = SC_CPUS_LIMIT, .check_images = true,
	};
	const char *depfile = NULL;
	char *targets[2] = { NULL, NULL };
	struct sc_scenario s;
	char err[1024];
	int c, rc = 1;

	while ((c = getopt(argc, argv, "nD:M:h")) != -1) {
		switch (c) {
		case 'n':
			opt.check_images = false;
			break;
		case 'D':
			if (parse_var(optarg, vars, var_names, &opt.nr_vars))
				goto out;
			break;
		case 'M':
			depfile = optarg;
			break;
		case 'h':
			usage(stdout);
			rc = 0;
			goto out;
		default:
			usage(stderr);
			goto out;
		}
	}
	if (argc - optind < 2 || argc - optind > 3) {
		usage(stderr);
		goto out;
	}
	if (argc - optind == 3 && parse_max_cpus(argv[optind + 2], &opt.max_cpus))
		goto out;
	if (!opt.check_images && !depfile) {
		fputs("mkscenario: -n writes only the depfile: give -M depfile\n", stderr);
		goto out;
	}
	targets[0] = concat(argv[optind + 1], "/scenario.c");
	targets[1] = concat(argv[optind + 1], "/images.S");
	if (sc_parse_file(argv[optind], &opt, &s, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	rc = write_outputs(&s, (const char *const *)targets, opt.check_images, depfile) ? 1 : 0;
	sc_free(&s);
out:
	free(targets[0]);
	free(targets[1]);
	for (unsigned int i = 0; i < opt.nr_vars; i++)
		free(var_names[i]);
	return rc;
}
