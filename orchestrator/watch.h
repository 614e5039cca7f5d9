/* berth watch: the services' develop.watch rules, followed with inotify:
 * changed files synced into the running containers (sync, sync+restart,
 * sync+exec), containers restarted (restart), images rebuilt and the
 * service recreated (rebuild), as docker compose watch does. */
#ifndef BERTH_WATCH_H
#define BERTH_WATCH_H

#include <signal.h>

#include "apply.h"
#include "project.h"

struct watch_opts {
	char **services;             /* NULL: every service with develop.watch */
	bool quiet;                  /* no build output */
	bool prune;                  /* dangling images removed after a rebuild */
	volatile sig_atomic_t *stop; /* set (by a signal handler) to end */
};

/* Until *o->stop: the rules of the services, each change applied once the
 * files have been quiet for half a second; under ctx->dry_run the rules
 * are said through progress and nothing is watched. */
int watch_run(const struct apply_ctx *ctx, const struct project *p, const struct watch_opts *o, struct berr **err);

#endif
