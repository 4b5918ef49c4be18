/*
 * The files tools/mkscenario generates from a checked scenario: the C
 * data (virt/scenario.h), the assembly that bundles the images, and a
 * make dependency file. Each returns 0, or -1 if writing @f failed.
 */
#ifndef TOOLS_MKSCENARIO_SCENARIO_WRITE_H
#define TOOLS_MKSCENARIO_SCENARIO_WRITE_H

#include <stdio.h>

#include "tools/mkscenario/scenario_parse.h"

/*
 * Guest images start on a 64-byte boundary in the hypervisor's rodata:
 * a cache line on every supported core, so the boot-time copy into guest
 * RAM (whose load addresses are page-aligned) runs whole-word and
 * line-by-line. Nothing reads an image in place.
 */
#define SC_IMAGE_ALIGN 64

/* scenario.c: `const struct scenario scenario` and its vm_config array. */
int sc_write_c(FILE *f, const struct sc_scenario *s);

/* images.S: each kernel and initrd .incbin'd (needs check_images). */
int sc_write_images(FILE *f, const struct sc_scenario *s);

/*
 * A make rule making @targets depend on the scenario file and every
 * image, and an empty rule for each of those (so that make builds them
 * first if it has a rule, and does not fail if one disappears).
 */
int sc_write_depfile(FILE *f, const struct sc_scenario *s,
		     const char *const *targets, unsigned int nr_targets);

#endif
