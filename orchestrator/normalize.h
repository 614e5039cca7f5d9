/* After merging: defaults, env_file folded into environment, units and
 * durations in canonical form, and resource names resolved. */
#ifndef BERTH_NORMALIZE_H
#define BERTH_NORMALIZE_H

#include "env.h"
#include "node.h"

struct normalize_ctx {
	const char *project;   /* normalized project name */
	const struct env *env; /* the project's environment (process + .env) */
	const char *workdir;
	/* not NULL: a missing env_file is no error yet; its message is kept
	 * here by service, for the commands that need that service */
	struct env *deferred;
	bool no_env_resolution; /* env_file kept as it is, not read into environment */
};

int normalize_document(struct node *doc, const struct normalize_ctx *c, struct berr **err);
/* One service (or a fragment of one, e.g. berth run's -p and -v), already
 * in long syntax (canon_service). */
int normalize_service(struct node *svc, const char *name, const struct normalize_ctx *c, struct berr **err);

#endif
