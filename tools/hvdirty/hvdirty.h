/*
 * What hvdirty's main(), its commands and its host test share: the exit
 * codes scripts rely on (docs/hvdirty.md; keep them stable) and what a
 * run takes from outside (how to connect, where output goes), so that
 * tests run the commands against a fake service.
 */
#ifndef TOOLS_HVDIRTY_HVDIRTY_H
#define TOOLS_HVDIRTY_HVDIRTY_H

#include <stddef.h>
#include <stdio.h>

#define HVDIRTY_VERSION "1.0"

enum hvd_exit {
	HVD_EXIT_OK = 0,
	HVD_EXIT_FAILED = 1,       /* the service refused otherwise, I/O, a bad reply */
	HVD_EXIT_USAGE = 2,        /* bad command line */
	HVD_EXIT_UNREACHABLE = 3,  /* no AF_VSOCK, or the connection failed */
	HVD_EXIT_REFUSED = 4,      /* no such VM, or not managed (E_PERM, E_NOVM) */
	HVD_EXIT_BUSY = 5,         /* the VM's state forbids it (E_BUSY, E_STATE) */
	HVD_EXIT_VERIFY = 6,       /* checkpoint: the image's digest is not the VM's */
};

struct hvd_env {
	/* A connected stream to the service: its fd, or -1 with the reason
	 * in @why. */
	int (*connect)(unsigned int cid, unsigned int port, char *why, size_t why_len);
	FILE *out;                 /* results */
	FILE *err;                 /* errors, progress, -v traces */
};

/* Runs the command line @argv; returns an enum hvd_exit. */
int hvdirty_main(int argc, char **argv, const struct hvd_env *env);

#endif
