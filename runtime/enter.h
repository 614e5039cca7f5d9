/* berth-shim enter: see enter.c. berth exec runs it with the container's
 * init as a pidfd at ENTER_PIDFD and, with a terminal, the socket for its
 * master at ENTER_CONSOLE; stdio are the command's (pipes, or /dev/null
 * and an error pipe with a terminal). */
#ifndef BERTH_ENTER_H
#define BERTH_ENTER_H

#define ENTER_PIDFD 3
#define ENTER_CONSOLE 4

/* argv: berth-shim enter SPEC_PATH OPTIONS_JSON; returns the exit status. */
int enter_main(int argc, char **argv);

#include <sys/types.h>

#include "spec.h"

/* A healthcheck: a child of the caller that runs argv in the container
 * whose init is `init` (its stdout and stderr to out_fd) and exits with
 * its status; killing that child kills the check. -1 if none could start. */
pid_t enter_check(const struct ctr_spec *s, pid_t init, char **argv, int out_fd);
/* The same for a lifecycle hook, with its user, environment, working
 * directory and privileges; killed with its parent when asked. */
pid_t enter_spawn(const struct ctr_spec *s, pid_t init, const struct hook_spec *h, bool die_with_parent, int out_fd);

#endif
