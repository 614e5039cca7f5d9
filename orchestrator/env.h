/* An ordered map of variable names to values (environments, labels). */
#ifndef BERTH_ENV_H
#define BERTH_ENV_H

#include "../lib/util.h"

struct env {
	char **keys;
	char **vals;
	size_t n, cap;
};

const char *env_get(const struct env *e, const char *key);
bool env_has(const struct env *e, const char *key);
void env_set(struct env *e, const char *key, const char *val);
void env_free(struct env *e);
/* Fill from a NULL-terminated "KEY=VALUE" array such as environ. */
void env_from_environ(struct env *e, char *const *environ_);

/* Lookup callback shape used by interpolation. NULL when unset. */
typedef const char *(*env_lookup_fn)(void *ctx, const char *name);
const char *env_lookup(void *env, const char *name);

#endif
