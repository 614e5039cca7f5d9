/* Per-file rewriting of every short syntax into the long one, before files
 * are merged (so that merge can match ports, volumes, secrets by key).
 * Defaults are not added here: that happens after merging (normalize.c). */
#ifndef BERTH_CANON_H
#define BERTH_CANON_H

#include "node.h"

struct canon_ctx {
	const char *workdir; /* relative paths are resolved against it */
	const char *home;    /* for "~" in bind mounts; may be NULL */
	bool keep_relative;  /* config --no-path-resolution */
};

int canon_document(struct node *doc, const struct canon_ctx *c, struct berr **err);
int canon_service(struct node *svc, const char *name, const struct canon_ctx *c, struct berr **err);
/* Turn a scalar into a string scalar in place ("3000" stays as written). */
void node_make_str(struct node *n);

#endif
