/* Starting berth's long-lived helpers (shims, the DNS responder) with
 * posix_spawn rather than fork: the child shares nothing with berth, and
 * berth does not pay a copy-on-write fault for every heap page it touches
 * afterwards (~10 us each on a VM; 75 ms of a 10-container up). */
#ifndef BERTH_SPAWN_H
#define BERTH_SPAWN_H

#include <stdbool.h>

#include "err.h"
#include <sys/types.h>

/* Runs path with argv in a session of its own, fd `pass` as fd 3, and
 * stdio[0..2] as its stdin, stdout and stderr (stdio NULL, or an entry
 * -1: /dev/null). The child is berth's until berth exits. 0 or an errno
 * value. */
int spawn_detached(const char *path, char *const argv[], int pass, const int stdio[3], pid_t *pid);

/* Runs path with argv, fds[i] as its fd i (-1: /dev/null for 0-2, none
 * above), in a new session when asked. 0 or an errno value. */
int spawn_fds(const char *path, char *const argv[], const int *fds, int nfds, bool new_session, pid_t *pid);

/* Runs fn(arg) in a forked child (killed should berth die) and waits for
 * it: for work in another root or mount namespace that berth itself must
 * not enter. The child's error comes back as the call's. */
int fork_call(int (*fn)(void *arg, struct berr **err), void *arg, struct berr **err);

#endif
