/*
 * hvdirty: the dirty-log service's command-line client, run inside a
 * Linux management VM (docs/hvdirty.md). main() only wires the real
 * vsock connection and stdio to hvdirty_main() (cli.c).
 */
#include <signal.h>
#include <stdio.h>

#include "tools/hvdirty/client.h"
#include "tools/hvdirty/hvdirty.h"

int main(int argc, char **argv)
{
	const struct hvd_env env = {
		.connect = hvdc_connect_vsock, .out = stdout, .err = stderr,
	};

	/* A reader that goes away is a write error the commands report
	 * (after undoing what they hold), not a signal that kills them. */
	signal(SIGPIPE, SIG_IGN);
	return hvdirty_main(argc, argv, &env);
}
