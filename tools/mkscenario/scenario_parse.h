/*
 * Reading and checking a configs/<name>.scenario file on the build host
 * (format: docs/scenarios.md). The result is the virt/scenario.h data
 * (struct vm_config per VM) plus what the generators need to bundle the
 * images: their resolved paths and sizes. Every error is one message
 * "FILE:LINE: what is wrong and how to fix it".
 */
#ifndef TOOLS_MKSCENARIO_SCENARIO_PARSE_H
#define TOOLS_MKSCENARIO_SCENARIO_PARSE_H

#include <stddef.h>

#include "virt/scenario.h"

/* vm_config.pcpus holds CPU numbers in a u8. */
#define SC_CPUS_LIMIT 256

/* A devices = name and its VM_DEV_* bit. */
struct sc_device {
	const char *name;
	u32 bit;
	const char *macro;       /* "VM_DEV_...", for the generated C */
};
extern const struct sc_device sc_devices[];
extern const unsigned int sc_nr_devices;

/* A -D name=value definition, substituted for ${name} in values. */
struct sc_var {
	const char *name;
	const char *value;
};

struct sc_options {
	const struct sc_var *vars;
	unsigned int nr_vars;
	unsigned int max_cpus;   /* CPUs are 0..max_cpus-1; 1..SC_CPUS_LIMIT */
	bool check_images;       /* false: the text only, no image is opened */
};

/* The keys of a [vm NAME] section (docs/scenarios.md). */
enum sc_key {
	SC_KEY_CPUS,
	SC_KEY_VCPUS,
	SC_KEY_MEMORY,
	SC_KEY_KERNEL,
	SC_KEY_INITRD,
	SC_KEY_CMDLINE,
	SC_KEY_CONSOLE,
	SC_KEY_DEVICES,
	SC_KEY_CID,
	SC_KEY_MANAGES,
	SC_NR_KEYS
};

/* A kernel or initrd as the scenario names it. */
struct sc_image {
	char *written;           /* the value as written; NULL: none given */
	char *path;              /* ${} substituted, relative to the file's dir */
	char *real;              /* realpath(path), for .incbin (check_images only) */
	u64 size;                /* file size (check_images only) */
};

struct sc_vm {
	struct vm_config cfg;    /* the generated entry; image data is left NULL */
	char *name, *cmdline;    /* owned; cfg.name and cfg.cmdline point here */
	unsigned int line;       /* of the [vm NAME] header */
	unsigned int key_line[SC_NR_KEYS]; /* where each key is set; 0: not set */
	unsigned int vcpus;      /* the vcpus = N value, if given */
	struct sc_image kernel, initrd;
	char *manages;           /* the manages = list, resolved after the file */
};

struct sc_scenario {
	char *name;              /* file name without .scenario; "none" if empty */
	char *file;              /* the scenario file as given; NULL if empty */
	unsigned int nr_vms;
	struct sc_vm vms[SCENARIO_MAX_VMS];
};

/*
 * Reads and checks @file into @s. Returns 0, or -1 with the message in
 * @err (and @s freed). @file NULL, "" or "-" gives the empty scenario.
 */
int sc_parse_file(const char *file, const struct sc_options *opt,
		  struct sc_scenario *s, char *err, size_t errlen);

/* Frees what sc_parse_file() allocated; @s is then empty. */
void sc_free(struct sc_scenario *s);

#endif
