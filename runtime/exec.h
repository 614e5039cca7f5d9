/* Running another command in a running container (berth exec). */
#ifndef BERTH_EXEC_H
#define BERTH_EXEC_H

#include "spec.h"

struct exec_opts {
	char **argv;
	char **env;          /* added to the container's environment */
	const char *user;    /* NULL: the container's user */
	const char *workdir; /* NULL: the container's */
	bool privileged, detach;
	bool tty; /* a pseudo-terminal, relayed to our stdin and stdout */
};

/* Join the container (namespaces, cgroup, root) and run argv; returns its
 * exit status (or 0 with detach). Errors: 126/127 as Docker's. */
int ctr_exec(const char *root, const char *name, const struct exec_opts *o, int *status, struct berr **err);

#endif
