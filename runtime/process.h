/* Starting the container's first process: new namespaces, the root
 * filesystem, identity and privileges, then exec of the command. */
#ifndef BERTH_PROCESS_H
#define BERTH_PROCESS_H

#include "spec.h"

struct ctr_process {
	pid_t pid;
	int out_fd, err_fd; /* read ends of its stdout and stderr (err_fd -1 with a tty) */
	int in_fd;          /* write end of its stdin with stdin_open, else -1 */
};

/* Start the container; returns once it has exec'd its command, or with the
 * reason it could not (an unknown command, a bad mount, ...), in which case
 * *exit_code is what Docker reports for it (125, 126 or 127). */
int process_start(const struct ctr_spec *s, struct ctr_process *p, int *exit_code, struct berr **err);
/* The spec's ulimits for the calling process (the container's init and
 * every process exec'd into it). */
int process_set_rlimits(const struct ctr_spec *s, struct berr **err);

#endif
