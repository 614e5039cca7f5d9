/* Compose interpolation (compose-spec 12-interpolation.md): $VAR, ${VAR},
 * ${VAR:-d}, ${VAR-d}, ${VAR:?e}, ${VAR?e}, ${VAR:+a}, ${VAR+a}, nesting, $$. */
#ifndef BERTH_INTERP_H
#define BERTH_INTERP_H

#include "env.h"
#include "node.h"

struct interp_ctx {
	env_lookup_fn lookup;
	void *data;
	/* Called once per unset variable used without a default (a warning). */
	void (*unset)(void *data, const char *name);
	/* Not NULL: told of each variable as written (op 0 for none, or '-',
	 * '?', '+'; word its default, message or alternate), and ${VAR?msg}
	 * is no error (config --variables). */
	void (*used)(void *data, const char *name, char op, const char *word, size_t wlen);
};

/* Expand in; on error *msg says why (caller frees) and -EINVAL is returned. */
int interp_string(const char *in, const struct interp_ctx *ctx, char **out, char **msg);
/* Expand every scalar value of the tree (never keys). Errors name file:line and path. */
int interp_tree(struct node *n, const struct interp_ctx *ctx, struct berr **err);

#endif
