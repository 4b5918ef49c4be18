/* Runs every TEST() registered in the binary and prints the tally. */
#include <stdlib.h>
#include <string.h>

#include "tests/host/test.h"

#define MAX_TESTS 512

static struct {
	const char *name;
	void (*fn)(void);
} tests[MAX_TESTS];
static int ntests;
static int current_failed;

void test_register(const char *name, void (*fn)(void))
{
	if (ntests == MAX_TESTS) {
		fprintf(stderr, "test harness: more than %d tests\n", MAX_TESTS);
		exit(2);
	}
	tests[ntests].name = name;
	tests[ntests].fn = fn;
	ntests++;
}

void test_fail(const char *file, int line, const char *what)
{
	printf("  FAIL %s:%d: %s\n", file, line, what);
	current_failed = 1;
}

int main(int argc, char **argv)
{
	const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	const char *only = argc > 1 ? argv[1] : NULL;
	int passed = 0, failed = 0;

	for (int i = 0; i < ntests; i++) {
		if (only && strcmp(only, tests[i].name) != 0)
			continue;
		current_failed = 0;
		tests[i].fn();
		if (current_failed) {
			printf("  FAIL %s\n", tests[i].name);
			failed++;
		} else {
			printf("  ok   %s\n", tests[i].name);
			passed++;
		}
	}
	printf("%s: %d passed, %d failed\n", prog, passed, failed);
	return failed ? 1 : 0;
}
